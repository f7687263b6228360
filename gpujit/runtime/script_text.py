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
import math

import numpy as np

from .. import dtypes as _dt

__all__ = ["script_str", "script_print", "enum_text", "float_text", "tensor_text"]

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


def _shortest(d: float) -> str:
    """fmt's `{}` of a double: the shortest text that reads back (Python's repr) without a
    trailing `.0`; `-nan` for a nan whose sign bit is set."""
    if math.isnan(d):
        return "-nan" if math.copysign(1.0, d) < 0 else "nan"
    r = repr(d)
    return r[:-2] if r.endswith(".0") else r


def _print_format(vals):
    """at::__printFormat of the doubles vals (not empty): (scale, width, spec letter)."""
    finite = vals[np.isfinite(vals)]
    int_mode = bool(np.all(finite == np.ceil(finite)))
    exp_min = exp_max = 1.0
    if finite.size:
        a = np.abs(finite)
        lo, hi = float(a.min()), float(a.max())
        exp_min = math.floor(math.log10(lo)) + 1 if lo != 0 else 1
        exp_max = math.floor(math.log10(hi)) + 1 if hi != 0 else 1
    if int_mode:
        return (1.0, 11, "e") if exp_max > 9 else (1.0, int(exp_max) + 1, "g")
    if exp_max - exp_min > 4:
        return 1.0, 12 if abs(exp_max) > 99 or abs(exp_min) > 99 else 11, "e"
    if exp_max > 5 or exp_max < 0:
        return 10.0 ** (exp_max - 1), 7, "f"
    return 1.0, 7 if exp_max == 0 else int(exp_max) + 6, "f"


def _value(d: float, fmt) -> str:
    """One element as fmt's `{:>{w}g}` / `{:>{w}.4e}` / `{:>{w}.4f}` writes it."""
    scale, width, kind = fmt
    d = d / scale
    if math.isnan(d):
        text = "-nan" if math.copysign(1.0, d) < 0 else "nan"
    else:
        text = format(d, "g" if kind == "g" else f".4{kind}")
    return text.rjust(width)


def _matrix(out, m, linesize, indent):
    """at::__printMatrix of the 2-d doubles m (not empty)."""
    fmt = _print_format(m.reshape(-1))
    rows, cols = m.shape
    per_line = (linesize - indent) // (fmt[1] + 1)
    first = 0
    while first < cols:
        last = first + per_line - 1 if first + per_line <= cols else cols - 1
        if per_line < cols:
            if first != 0:
                out.append("\n")
            out.append(f"Columns {first + 1} to {last + 1}" + " " * indent)
        if fmt[0] != 1:
            out.append(f"{_shortest(fmt[0])} *\n" + " " * indent)
        for r in range(rows):
            for c in range(first, last + 1):
                out.append(_value(float(m[r, c]), fmt))
                if c == last:
                    out.append("\n")
                    if r != rows - 1:
                        out.append(" " * indent + (" " if fmt[0] != 1 else ""))
                else:
                    out.append(" ")
        first = last + 1


def tensor_text(data, dtype, on_cpu=True, linesize=80) -> str:
    """str() of a Tensor in scripted code: ATen's C++ printer (at::print) of its array
    `data` (NumPy or CuPy) of gpujit dtype `dtype`; see the module's doc."""
    if not isinstance(data, (np.ndarray, np.generic)):
        data = data.get()                       # (a CuPy array: its values on the host)
    vals = np.asarray(data).astype(np.float64)
    name = f"{'CPU' if on_cpu else 'CUDA'}{dtype.short_name}Type"
    shape = vals.shape
    out = []
    if vals.ndim == 0:
        return f"{_shortest(float(vals))}\n[ {name}{{}} ]"
    if vals.size:
        if vals.ndim == 1:
            fmt = _print_format(vals)
            if fmt[0] != 1:
                out.append(f"{_shortest(fmt[0])} *\n")
            out.extend(_value(float(d), fmt) + "\n" for d in vals)
        elif vals.ndim == 2:
            _matrix(out, vals, linesize, 0)
        else:
            for k, idx in enumerate(np.ndindex(*shape[:-2])):
                if k:
                    out.append("\n")
                out.append("(" + "".join(f"{i + 1}," for i in idx) + ".,.) = \n")
                _matrix(out, vals[idx], linesize, 1)
    out.append(f"[ {name}{{{','.join(str(n) for n in shape)}}} ]")
    return "".join(out)


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
