"""torch.fft's complex-to-real transforms for the inputs gpujit can hold: real ones.

gpujit has no complex dtype, so of torch.fft only the transforms with a real result can
exist here: `irfft`/`irfft2`/`irfftn` and `hfft`/`hfft2`/`hfftn`, which PyTorch also
accepts real inputs for (a real input is a complex one with zero imaginary part). Their
eager bodies are NumPy's / CuPy's `xp.fft.irfftn` (hfft* is irfftn with the normalization
swapped: the conjugate of a real input is itself). The result is real-linear in the input,
so the derivative is the adjoint map (`aten::_gpujit_irfftn_backward`: an rfft along the
last transformed dim, the Hermitian weights, an unnormalized FFT along the others, the real
part, the normalization, and the crop / zero-pad back to the input's sizes), whose own
derivative is irfftn again.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta, int_list, wrap_dim
from .registry import derivative as _derivative, op

_TAGS = ("no_fuse",)
_KW = dict(tags=_TAGS, method=False, function=False)
_SWAP = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def _check_norm(norm):
    if norm not in (None, "backward", "forward", "ortho"):
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm or "backward"


def _out_dtype(dt):
    if dt is _dt.float16:
        raise RuntimeError("Unsupported dtype Half")
    return dt if dt.is_floating_point else _dt.get_default_dtype()


def _resolve(shape, s, dim, last_default):
    """(s, dims): the output sizes along the transformed dims and those dims (wrapped), as
    torch's fftn argument rules; last_default: the last dim's size when s is not given."""
    nd = len(shape)
    if s is not None:
        s = int_list(s)
    if dim is not None:
        dims = [wrap_dim(d, nd) for d in int_list(dim)]
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        if len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{nd} dimensions.")
        dims = list(range(nd - len(s), nd))
    else:
        dims = list(range(nd))
    if not dims:
        raise RuntimeError("irfftn must transform at least one axis")
    if s is None:
        s = [shape[d] for d in dims[:-1]] + [last_default(shape[dims[-1]])]
    else:
        s = [shape[d] if v == -1 else v for d, v in zip(dims[:-1], s[:-1])] + [
            last_default(shape[dims[-1]]) if s[-1] == -1 else s[-1]]
    for v in s:
        if v < 1:
            raise RuntimeError(f"Invalid number of data points ({v}) specified")
    return s, dims


def _last(L):
    return 2 * (L - 1)


def _out_shape(shape, s, dims):
    out = list(shape)
    for d, v in zip(dims, s):
        out[d] = v
    return tuple(out)


def _irfftn_body(xp, self, s, dims, norm):
    """The transform, laid out as PyTorch's c2r result: the untransformed dims outermost,
    then the other transformed ones, each group in dim order, the last transformed dim
    (the halved one) innermost (irfft(x, dim=0) of a 4x6 x has strides (1, 6))."""
    dt = _out_dtype(_dt.from_numpy_dtype(self.dtype))
    x = self.astype(dt.np, copy=False)
    r = xp.fft.irfftn(x, s=s, axes=dims, norm=norm).astype(dt.np, copy=False)
    order = [d for d in range(r.ndim) if d not in dims] + sorted(dims[:-1]) + [dims[-1]]
    return _mf.copy_in(xp, r, order)


def _meta(self, s, dims):
    return TensorMeta(_out_dtype(self.dtype), _out_shape(tuple(self.shape), s, dims),
                      self.device)


# ------------------------------------------------------------------ irfft*

def _one(n, dim):
    return None if n is None else [n], [dim]


@op("aten::fft_irfft(Tensor self, SymInt? n=None, int dim=-1, str? norm=None) -> Tensor",
    meta=lambda self, n=None, dim=-1, norm=None: _meta(
        self, *_resolve(tuple(self.shape), *_one(n, dim), _last)), **_KW)
def fft_irfft(xp, self, n=None, dim=-1, norm=None):
    """The inverse of rfft: n real points (2 (L - 1) by default) from L frequencies."""
    s, dims = _resolve(self.shape, *_one(n, dim), _last)
    return _irfftn_body(xp, self, s, dims, _check_norm(norm))


@op("aten::fft_irfft2(Tensor self, SymInt[1]? s=None, int[1] dim=[-2, -1], str? norm=None)"
    " -> Tensor", meta=lambda self, s=None, dim=(-2, -1), norm=None: _meta(
        self, *_resolve(tuple(self.shape), s, dim, _last)), **_KW)
def fft_irfft2(xp, self, s=None, dim=(-2, -1), norm=None):
    s, dims = _resolve(self.shape, s, dim, _last)
    return _irfftn_body(xp, self, s, dims, _check_norm(norm))


@op("aten::fft_irfftn(Tensor self, SymInt[1]? s=None, int[1]? dim=None, str? norm=None)"
    " -> Tensor", meta=lambda self, s=None, dim=None, norm=None: _meta(
        self, *_resolve(tuple(self.shape), s, dim, _last)), **_KW)
def fft_irfftn(xp, self, s=None, dim=None, norm=None):
    s, dims = _resolve(self.shape, s, dim, _last)
    return _irfftn_body(xp, self, s, dims, _check_norm(norm))


# ------------------------------------------------------------------ hfft*: irfft*, norm swapped

@op("aten::fft_hfft(Tensor self, SymInt? n=None, int dim=-1, str? norm=None) -> Tensor",
    meta=lambda self, n=None, dim=-1, norm=None: _meta(
        self, *_resolve(tuple(self.shape), *_one(n, dim), _last)), **_KW)
def fft_hfft(xp, self, n=None, dim=-1, norm=None):
    """The FFT of a Hermitian-symmetric signal given by its first half (real here)."""
    s, dims = _resolve(self.shape, *_one(n, dim), _last)
    return _irfftn_body(xp, self, s, dims, _SWAP[_check_norm(norm)])


@op("aten::fft_hfft2(Tensor self, SymInt[1]? s=None, int[1] dim=[-2, -1], str? norm=None)"
    " -> Tensor", meta=lambda self, s=None, dim=(-2, -1), norm=None: _meta(
        self, *_resolve(tuple(self.shape), s, dim, _last)), **_KW)
def fft_hfft2(xp, self, s=None, dim=(-2, -1), norm=None):
    s, dims = _resolve(self.shape, s, dim, _last)
    return _irfftn_body(xp, self, s, dims, _SWAP[_check_norm(norm)])


@op("aten::fft_hfftn(Tensor self, SymInt[1]? s=None, int[1]? dim=None, str? norm=None)"
    " -> Tensor", meta=lambda self, s=None, dim=None, norm=None: _meta(
        self, *_resolve(tuple(self.shape), s, dim, _last)), **_KW)
def fft_hfftn(xp, self, s=None, dim=None, norm=None):
    s, dims = _resolve(self.shape, s, dim, _last)
    return _irfftn_body(xp, self, s, dims, _SWAP[_check_norm(norm)])


# ------------------------------------------------------------------ the adjoint

def _adjoint_meta(gy, self_sizes, s, dim, norm):
    return TensorMeta(gy.dtype, tuple(int_list(self_sizes)), gy.device)


@op("aten::_gpujit_irfftn_backward(Tensor gy, int[] self_sizes, int[] s, int[] dim, "
    "str norm) -> Tensor", meta=_adjoint_meta, **_KW)
def _gpujit_irfftn_backward(xp, gy, self_sizes, s, dim, norm):
    """The adjoint (transpose) of x -> irfftn(x, s, dim, norm) for real x of self_sizes."""
    self_sizes, s, dims = list(int_list(self_sizes)), int_list(s), int_list(dim)
    last, n = dims[-1], s[-1]
    z = xp.fft.rfft(gy, axis=last)            # unnormalized; n // 2 + 1 along last
    m = z.shape[last]
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * z.ndim
    shape[last] = m
    z = z * xp.asarray(w.reshape(shape))
    if len(dims) > 1:
        z = xp.fft.fftn(z, axes=dims[:-1])
    r = z.real
    total = math.prod(s)
    if norm == "backward":
        r = r / total
    elif norm == "ortho":
        r = r / math.sqrt(total)
    idx, pad = [], []
    for d in range(r.ndim):
        have, want = r.shape[d], self_sizes[d]
        idx.append(slice(0, min(have, want)))
        pad.append((0, max(0, want - have)))
    r = r[tuple(idx)]
    if any(p[1] for p in pad):
        r = xp.pad(r, pad)
    return xp.ascontiguousarray(r.astype(gy.dtype))


def _irfftn_grad(grad, self_shape, s, dims, norm):
    from .registry import OPS
    return OPS["aten::_gpujit_irfftn_backward"].public(
        grad, list(self_shape), list(s), list(dims), norm)


@_derivative(fft_irfft, wrt=("self",))
def _irfft_grad(grad, self_shape, n, dim, norm):
    s, dims = _resolve(tuple(self_shape), *_one(n, dim), _last)
    return _irfftn_grad(grad, self_shape, s, dims, _check_norm(norm))


@_derivative(fft_hfft, wrt=("self",))
def _hfft_grad(grad, self_shape, n, dim, norm):
    s, dims = _resolve(tuple(self_shape), *_one(n, dim), _last)
    return _irfftn_grad(grad, self_shape, s, dims, _SWAP[_check_norm(norm)])


@_derivative(fft_irfft2, fft_irfftn, wrt=("self",))
def _irfftn_grad_n(grad, self_shape, s, dim, norm):
    s, dims = _resolve(tuple(self_shape), s, dim, _last)
    return _irfftn_grad(grad, self_shape, s, dims, _check_norm(norm))


@_derivative(fft_hfft2, fft_hfftn, wrt=("self",))
def _hfftn_grad_n(grad, self_shape, s, dim, norm):
    s, dims = _resolve(tuple(self_shape), s, dim, _last)
    return _irfftn_grad(grad, self_shape, s, dims, _SWAP[_check_norm(norm)])


@_derivative(_gpujit_irfftn_backward, wrt=("gy",))
def _adjoint_grad(grad, s, dim, norm):
    from .registry import OPS
    return OPS["aten::fft_irfftn"].public(grad, list(s), list(dim), norm)
