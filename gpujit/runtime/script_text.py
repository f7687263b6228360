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
- a dtype (a ScalarType) as TorchScript's int code of it (`6` for float32);
- an object of a script class as `<__torch__.P object at 0x...>` (no __str__ call);
- a Tensor as ATen's C++ printer writes it (at::print, Formatting.cpp; tensor_text), not
  as Python's repr: its values converted to double, one per line for one dimension, in
  rows for two (`Columns 1 to 10` blocks beyond 80 characters), `(1,.,.) = ` matrices for
  more, a common scale line (`0.001 *`) where needed, then `[ CPUFloatType{2,3} ]`;
  a 0-dim one as its double written shortest (`2.5`, `3`) and `[ CPULongType{} ]`."""
from __future__ import annotations

import enum

import numpy as np

from .. import dtypes as _dt
from .._cpp_text import enum_text, float_text, tensor_text

__all__ = ["script_str", "script_print", "enum_text", "float_text", "tensor_text"]


def _tensor_item(v):
    """The C++ text of a Tensor, or None when v is none."""
    from ..tensor import Tensor
    if isinstance(v, Tensor):
        return tensor_text(v._data, v._dtype, v._device.type == "cpu")
    if isinstance(v, np.ndarray):
        return tensor_text(v, _dt.from_numpy_dtype(v.dtype))
    if type(v).__module__.startswith("cupy") and hasattr(v, "device"):
        return tensor_text(v, _dt.from_numpy_dtype(v.dtype), False)
    return None


def _item(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return float_text(v)
    if isinstance(v, complex):      # (c10's printComplex: `1.+2.j`, `0.-1.j`)
        return f"{float_text(v.real)}{'+' if v.imag >= 0 else '-'}{float_text(abs(v.imag))}j"
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
    t = _tensor_item(v)
    if t is not None:
        return t
    name = script_object_name(v)
    if name is not None:
        # an object of a script class: TorchScript's IValue text, `<__torch__.P object at
        # 0x...>` (print and format call no __str__; scripted str(obj) does, frontend)
        return f"<{name} object at {id(v):#x}>"
    return str(v)


def script_object_name(v):
    """The qualified name (`__torch__.P`) of v's class when v is an object of a script
    class (not a module, NamedTuple or Enum), else None."""
    if not hasattr(v, "__dict__"):
        return None
    from .arguments import _object_type
    from ..ir import types as T
    ct = T.class_type_of_object(v)
    return ct.name if ct is not None and _object_type(ct) else None


def script_str(v) -> str:
    """str(v) as scripted code writes it (see the module's doc)."""
    if type(v) is str:
        return v
    return _item(v)


def script_print(*texts):
    """print(a, b) in scripted code: the texts joined by spaces, one line, which reaches
    Python as TorchScript's does, by decoding its UTF-8 bytes: a line holding a piece of a
    char ("é"[0], ops/scalar_str.utf8_view) raises the RuntimeError torch raises,
    "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xc3 in position 0: ..."."""
    line = " ".join(texts)
    if not line.isascii():
        try:
            (line + "\n").encode("utf-8", "surrogateescape").decode("utf-8")
        except UnicodeDecodeError as e:
            raise RuntimeError(f"UnicodeDecodeError: {e}") from None
    print(line)
