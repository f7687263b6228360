"""`gpujit.fft`: PyTorch's `torch.fft` namespace, the parts gpujit's dtypes can express.

gpujit has no complex dtype, so the transforms whose results are complex tensors (fft,
ifft, rfft, ihfft and their 2-D / n-D forms) are not offered: calling one raises a
RuntimeError that says so. What is real-valued is here: `irfft`/`irfft2`/`irfftn` and
`hfft`/`hfft2`/`hfftn` of real inputs (registry ops, gpujit/ops/fft_ops.py, with their
derivatives), `fftfreq`, `rfftfreq` (the sample frequencies, `arange` scaled),
`fftshift`, `ifftshift` (a `roll` of each dim by half its size; compiled from source in
scripted code).
"""
from __future__ import annotations

from typing import List, Optional

import gpujit as _g
from gpujit.nn.functional import _from_source
from gpujit.ops import registry as _reg

__all__ = ["fftfreq", "rfftfreq", "fftshift", "ifftshift", "irfft", "irfft2", "irfftn",
           "hfft", "hfft2", "hfftn"]

_COMPLEX = ("fft", "ifft", "rfft", "ihfft", "fft2", "ifft2", "rfft2", "ihfft2", "fftn",
            "ifftn", "rfftn", "ihfftn")

# the complex-to-real transforms, for real inputs (registry ops: gpujit/ops/fft_ops.py)
irfft = _reg.OPS["aten::fft_irfft"].public
irfft2 = _reg.OPS["aten::fft_irfft2"].public
irfftn = _reg.OPS["aten::fft_irfftn"].public
hfft = _reg.OPS["aten::fft_hfft"].public
hfft2 = _reg.OPS["aten::fft_hfft2"].public
hfftn = _reg.OPS["aten::fft_hfftn"].public


def _freq(name, n, d, dtype, layout, device, requires_grad, count):
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"{name}(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"{name}: n must be non-negative, got {n}")
    dtype = _g.get_default_dtype() if dtype is None else dtype
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} requires a floating point or complex dtype")
    k = _g.arange(count, dtype=_g.int64, device=device)
    if name == "fftfreq":
        k = _g.where(k < (n + 1) // 2, k, k - n)
    out = (k.to(dtype) / (n * d)).to(dtype)
    if requires_grad:
        out._factory_requires_grad()
    return out


def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of an n-point FFT with spacing d:
    [0, 1, ..., ceil(n/2)-1, -floor(n/2), ..., -1] / (d n)."""
    return _freq("fftfreq", n, d, dtype, layout, device, requires_grad, n)


def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of rfft over n points: [0, 1, ..., n//2] / (d n)."""
    return _freq("rfftfreq", n, d, dtype, layout, device, requires_grad,
                 n // 2 + 1)


@_from_source
def _shift(input, dims: List[int], sign: int):
    nd = max(input.dim(), 1)
    if len(dims) == 0:
        return input.clone()
    shifts: List[int] = []
    wrapped: List[int] = []
    for d in dims:
        if d < -nd or d >= nd:
            raise IndexError("Dimension out of range (expected to be in range of [" + str(-nd)
                             + ", " + str(nd - 1) + "], but got " + str(d) + ")")
        d = d % nd
        wrapped.append(d)
        shifts.append(sign * (input.size(d) // 2))
    return _g.roll(input, shifts, wrapped)


@_from_source
def _all_dims(input) -> List[int]:
    return list(range(input.dim()))


def _int_dims(dim):
    return [dim]


@_from_source
def fftshift(input, dim: Optional[List[int]] = None):
    """Moves the zero-frequency term to the centre: a roll of each dim in `dim` (all by
    default; an int or a list of ints) by size // 2."""
    if dim is None:
        return _shift(input, _all_dims(input), 1)
    if not _g.jit.is_scripting() and isinstance(dim, int):
        return _shift(input, _int_dims(dim), 1)
    return _shift(input, list(dim), 1)


@_from_source
def ifftshift(input, dim: Optional[List[int]] = None):
    """The inverse of fftshift: a roll of each dim by -(size // 2)."""
    if dim is None:
        return _shift(input, _all_dims(input), -1)
    if not _g.jit.is_scripting() and isinstance(dim, int):
        return _shift(input, _int_dims(dim), -1)
    return _shift(input, list(dim), -1)


def _no_complex(name):
    def f(*args, **kwargs):
        raise RuntimeError(
            f"gpujit.fft.{name}: gpujit has no complex dtypes, so the complex-valued FFTs "
            "(fft, ifft, rfft, ihfft and their 2-D / n-D forms) are not available; "
            "gpujit.fft offers irfft*, hfft* of real inputs, fftfreq, rfftfreq, fftshift "
            "and ifftshift")
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"torch.fft.{name}: needs complex tensors, which gpujit does not have."
    return f


for _n in _COMPLEX:
    globals()[_n] = _no_complex(_n)
del _n
