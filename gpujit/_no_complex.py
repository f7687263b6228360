"""The functions of PyTorch that make or read complex tensors which gpujit does not
offer yet (its complex64 / complex128 tensors take the ops of ops/complex_support.py
only, README): each exists and raises a RuntimeError saying so, instead of an
AttributeError that reads like a typo. `refusing` is also ops/sparse_refusals.py's."""
from __future__ import annotations

__all__ = ["FUNCTIONS", "refusing"]

_WHY = "gpujit does not make complex tensors here yet (complex support is partial: README)"


def refusing(name, why, what, qual="torch"):
    """A stand-in for `qual.name`, which gpujit lacks (why): it raises a RuntimeError
    saying so (also ops/sparse_refusals.py's)."""
    def f(*args, **kwargs):
        raise RuntimeError(f"{qual}.{name}: {why}; {what}")
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"{qual}.{name}: {what}; not available in gpujit ({why})."
    return f


def _function(name, what):
    return refusing(name, _WHY, what)


FUNCTIONS = {
    "view_as_complex_copy": _function("view_as_complex_copy", "its result would be a "
                                      "complex tensor (complex64/complex128)"),
    "view_as_real_copy": _function("view_as_real_copy", "it reads a complex tensor "
                                   "(complex64/complex128)"),
}
