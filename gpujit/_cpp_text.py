"""The text C++ writes for a double and a Tensor, as TorchScript shows them: a float with 17
significant digits (`0.10000000000000001`, `1.`, `-nan`), an Enum member (`Enum<Color.RED>`),
and a Tensor as ATen's C++ printer (at::print, Formatting.cpp) writes it. Pure formatting of
numbers and arrays, below the IR and the op registry: the IR printer's tensor constants,
scripted str() / print() (runtime/script_text.py) and aten::str (ops/scalar_str.py) read it."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["enum_text", "float_text", "tensor_text"]

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
    vals = np.asarray(data)
    # (a complex tensor prints its real parts: at::print reads the values as doubles)
    vals = (vals.real if vals.dtype.kind == "c" else vals).astype(np.float64)
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
