"""TorchScript's `"..." % args` (aten::percentFormat), formatted when the line runs: the
specifiers %d %i (a number, a float truncated), %e %E %f %F (a number, six digits), %c (an int
or a one-character str), %s (any value, as scripted code writes it) and %%; any other
character after a `%` (%g, %x, a flag, width or precision: `%5d`, `%.2f`) raises
TorchScript's "The specifier %g is not supported in TorchScript format strings", as do
too few or too many values (torch 2.13's words)."""
from __future__ import annotations

import numpy as np

__all__ = ["percent_format"]

_NUMBER_SPECS = "dieEfF"


def _is_tensor(v) -> bool:
    """A Tensor, or the raw array a Tensor is in generated code (NumPy, CuPy)."""
    from ..tensor import Tensor
    return isinstance(v, (Tensor, np.ndarray, np.generic)) or \
        hasattr(v, "__cuda_array_interface__")


def _kind(v) -> str:
    """TorchScript's name of the kind of value v (IValue::tagKind)."""
    if _is_tensor(v):
        return "Tensor"
    return {str: "String", bool: "Bool", int: "Int", float: "Double", list: "GenericList",
            tuple: "Tuple", dict: "GenericDict", type(None): "None"}.get(type(v),
                                                                          type(v).__name__)


def _str(v) -> str:
    from ..tensor import Tensor
    if _is_tensor(v) and not isinstance(v, Tensor):
        from ..ops.scalar_str import _tensor_str
        return _tensor_str(v)
    from .script_text import script_str
    return script_str(v)


def percent_format(fmt: str, *args) -> str:
    """fmt % args, with args the values of the right operand (a tuple's elements)."""
    out, used, begin = [], 0, 0
    while True:
        k = fmt.find("%", begin)
        if k < 0:
            out.append(fmt[begin:])
            break
        if k + 1 >= len(fmt):
            raise RuntimeError("Incomplete format specifier")
        out.append(fmt[begin:k])
        key = fmt[k + 1]
        begin = k + 2
        if key == "%":
            out.append("%")
            continue
        if used >= len(args):
            raise RuntimeError("Too few arguments for format string")
        arg = args[used]
        used += 1
        if key in _NUMBER_SPECS:
            if _is_tensor(arg) or not isinstance(arg, (int, float)):
                raise RuntimeError(f"%{key} requires a number for formatting, but got "
                                   f"{_kind(arg)}")
            if key in "di" and isinstance(arg, float):
                # truncated as aten::Int.float (int64_t: nan, +-inf and beyond int64 are
                # INT64_MIN; TorchScript's own %d casts to a 32-bit int, a defect)
                from ..ops.scalar_ops import int_float
                arg = int_float(None, arg)
            out.append(("%" + key) % (arg,))
        elif key == "c":
            if not (isinstance(arg, int) and not isinstance(arg, bool)) and not (
                    isinstance(arg, str) and len(arg) == 1):
                raise RuntimeError(f"%c requires an int or char for formatting, but got "
                                   f"{_kind(arg)}")
            out.append("%c" % (arg,))
        elif key == "s":
            out.append(_str(arg))
        else:
            raise RuntimeError(f"The specifier %{key} is not supported in TorchScript "
                               f"format strings")
    if used != len(args):
        raise RuntimeError("Too many arguments for format string")
    return "".join(out)
