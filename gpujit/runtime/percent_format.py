"""TorchScript's `"..." % args` when it is formatted at run time (aten::percentFormat): a
template that is a variable, or a constant one the compiler could not turn into a
str.format (a bad specifier, a wrong number of values, `%d` of a str): the specifiers
%s %d %i %e %E %f %F %g %G %x %o %c and %% (with Python's flags, width and precision),
each formatted as Python formats it, and
TorchScript's errors for the rest, raised when the line runs (as TorchScript does)."""
from __future__ import annotations

import re

import numpy as np

__all__ = ["percent_format"]

_NUMBER_SPECS = "diuxXoeEfFgG"
# %, then Python's flags, width and precision (gpujit takes them, as Python does), then the
# specifier character
_SPEC = re.compile(r"%([-+ 0#]*\d*(?:\.\d+)?)(.)", re.S)


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
        m = _SPEC.match(fmt, k)
        if m is None:
            raise RuntimeError("Incomplete format specifier")
        out.append(fmt[begin:k])
        flags, key = m.group(1), m.group(2)
        begin = m.end()
        if key == "%" and not flags:
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
            out.append(("%" + flags + key) % (arg,))
        elif key == "c":
            if not (isinstance(arg, int) and not isinstance(arg, bool)) and not (
                    isinstance(arg, str) and len(arg) == 1):
                raise RuntimeError(f"%c requires an int or char for formatting, but got "
                                   f"{_kind(arg)}")
            out.append(("%" + flags + "c") % (arg,))
        elif key == "s":
            out.append(("%" + flags + "s") % (_str(arg),))
        else:
            raise RuntimeError(f"The specifier %{key} is not supported in TorchScript "
                               f"format strings")
    if used != len(args):
        raise RuntimeError("Too many arguments for format string")
    return "".join(out)
