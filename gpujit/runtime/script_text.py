"""The text of a value in scripted code (aten::str, print(), `%s`, `{}` fields of
f-strings and str.format), as TorchScript writes it (c10's IValue printing), where it
differs from Python's:

- a float as C++ writes it with 17 significant digits (`0.10000000000000001`, `1e+20`,
  `0.33333333333333331`), an integral one that fits an int64 as that int and a dot (`1.`,
  `-5.`, `0.` also for -0.0, `10000000000000000.`), `inf`, `-inf`, `nan`, and `-nan`
  for a nan whose sign bit is set (what x86 computes for 0. / 0., inf - inf, sqrt(-1.));
- a str inside a list, tuple or dict without quotes (`[a, b]`, `{k: 1.}`);
- a NamedTuple as a tuple (`(1., s)`);
- an Enum member as `Enum<Color.RED>`;
- a dtype (a ScalarType) as TorchScript's int code of it (`6` for float32).

A Tensor keeps eager gpujit's text (TorchScript writes C++'s `[ CPUFloatType{2} ]` form)."""
from __future__ import annotations

import enum
import math

from .. import dtypes as _dt

__all__ = ["script_str", "enum_text", "float_text"]

_INT64 = 2.0 ** 63


def enum_text(member) -> str:
    """TorchScript's text of an Enum member: Enum<Color.RED>."""
    return f"Enum<{type(member).__name__}.{member.name}>"


def float_text(d: float) -> str:
    """str(d) in TorchScript: `1.`, `0.10000000000000001`, `1e+20` (see the module's doc)."""
    if d.is_integer() and -_INT64 <= d < _INT64:
        return f"{int(d)}."
    if math.isnan(d):       # (C's printf writes a nan's sign: x86's 0. / 0. is -nan)
        return "-nan" if math.copysign(1.0, d) < 0 else "nan"
    return format(d, ".17g")


def _item(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return float_text(v)
    if isinstance(v, (bool, int)) or v is None:
        return str(v)
    if isinstance(v, enum.Enum):
        return enum_text(v)
    if isinstance(v, _dt.dtype):      # a ScalarType is TorchScript's int code: 6 for float32
        return str(_dt.scalar_type_code(v))
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_item(k)}: {_item(x)}" for k, x in v.items()) + "}"
    if isinstance(v, tuple):
        items = [_item(x) for x in v]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(_item(x) for x in v) + "]"
    if isinstance(v, (set, frozenset)):
        return "{" + ", ".join(_item(x) for x in v) + "}" if v else "set()"
    return str(v)


def script_str(v) -> str:
    """str(v) as scripted code writes it (see the module's doc)."""
    if type(v) is str:
        return v
    return _item(v)
