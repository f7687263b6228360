"""`gpujit.fft`: PyTorch's `torch.fft` namespace: the transforms (registry ops,
gpujit/ops/fft_ops.py) fft / ifft / rfft / irfft / hfft / ihfft and their 2-D and n-D
forms with PyTorch's n / s, dim and norm rules, `fftfreq`, `rfftfreq` (the sample
frequencies, `arange` scaled), `fftshift`, `ifftshift` (a `roll` of each dim by half its
size; compiled from source in scripted code).
"""
from __future__ import annotations

from typing import List, Optional

import gpujit as _g
from gpujit.nn.functional import _from_source
from gpujit.ops import registry as _reg
from gpujit.ops.out_variants import with_out as _with_out

__all__ = ["fftfreq", "rfftfreq", "fftshift", "ifftshift", "fft", "ifft", "rfft", "irfft",
           "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2", "fftn",
           "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"]



def _t(name):
    # (torch.fft.fft(x, out=o): the .out overload, ops/out_variants.py)
    op = _reg.OPS[f"aten::fft_{name}"]
    fn = _with_out(f"fft_{name}", op.public, [op])
    fn.__doc__ = op.public.__doc__
    return fn


fft, ifft, rfft, irfft, hfft, ihfft = (_t(n) for n in ("fft", "ifft", "rfft", "irfft",
                                                       "hfft", "ihfft"))
fft2, ifft2, rfft2, irfft2, hfft2, ihfft2 = (_t(n) for n in ("fft2", "ifft2", "rfft2",
                                                             "irfft2", "hfft2", "ihfft2"))
fftn, ifftn, rfftn, irfftn, hfftn, ihfftn = (_t(n) for n in ("fftn", "ifftn", "rfftn",
                                                             "irfftn", "hfftn", "ihfftn"))


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
