"""PyTorch's complex dtypes and the functions that make or read complex tensors, which
gpujit lacks (its tensors are real: NumPy/CuPy arrays of real dtypes, README).

`torch.complex64` & co. are not defined: `gpujit.complex64` is an AttributeError (so
`hasattr(torch, "complex64")` and `getattr(torch, name, default)` keep working) whose
message names the missing dtype. The functions whose results or inputs are complex
(`torch.polar`, `torch.complex`, `torch.view_as_complex`, `torch.view_as_real`) exist and
raise a RuntimeError naming the complex dtype they would need, instead of an
AttributeError that reads like a typo."""
from __future__ import annotations

__all__ = ["COMPLEX_DTYPES", "FUNCTIONS", "missing_dtype", "refusing"]

# torch's complex dtypes and their aliases -> the dtype's name
COMPLEX_DTYPES = {"complex32": "complex32", "chalf": "complex32",
                  "complex64": "complex64", "cfloat": "complex64",
                  "complex128": "complex128", "cdouble": "complex128"}

_WHY = "gpujit has no complex dtypes (complex32, complex64, complex128)"


def missing_dtype(module: str, name: str) -> AttributeError:
    full = COMPLEX_DTYPES[name]
    alias = "" if full == name else f" (torch.{full})"
    return AttributeError(f"module '{module}' has no attribute '{name}': {_WHY}, so "
                          f"torch.{name}{alias} is not available")


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
    "polar": _function("polar", "its result would be a complex64/complex128 tensor"),
    "complex": _function("complex", "its result would be a complex64/complex128 tensor"),
    "view_as_complex": _function("view_as_complex", "its result would be a complex "
                                                    "tensor (complex64/complex128)"),
    "view_as_complex_copy": _function("view_as_complex_copy", "its result would be a "
                                      "complex tensor (complex64/complex128)"),
    "view_as_real": _function("view_as_real", "it reads a complex tensor "
                                              "(complex64/complex128)"),
    "view_as_real_copy": _function("view_as_real_copy", "it reads a complex tensor "
                                   "(complex64/complex128)"),
}
