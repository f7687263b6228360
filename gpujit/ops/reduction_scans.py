"""Ops along one dim that keep the input's shape: the scans cumsum and cumprod (bool and
integer inputs accumulate to int64) and softmax / log_softmax (float16 computed in
float32), with their derivatives. An op family of its own in ops.FAMILIES, after
reduction.py, whose helpers it uses. More scans (cummax, cummin, logcumsumexp) are
reduction_extra.py's."""
from __future__ import annotations

import numpy as np

from .kernel_names import not_implemented
from .. import dtypes as _dt
from .meta import wrap_dim
from . import registry as _reg
from .registry import op, derivative as _derivative
from .reduction import _RED, _F16, _F32, _acc, _acc_dtype, _as_dtype, _dtype_or, _like


# ------------------------------------------------------------------ scans

def _scan_bool_check(dt, method, where=None):
    """PyTorch's cumsum / cumprod kernels have no bool version (a bool result dtype:
    dtype=torch.bool, or cumsum_ of a bool tensor)."""
    if dt is _dt.bool:
        raise not_implemented(f"{method}_out_cpu", where, "Bool")


def _scan(xp, a, dim, dtype, method):
    d = wrap_dim(dim, a.ndim)
    acc, out = _acc(a, dtype)
    a = _as_dtype(a, dtype) if out != np.bool_ else a
    _scan_bool_check(_dt._FROM_NP[np.dtype(out)], method, xp)
    if a.ndim == 0:
        return a.astype(out)
    if out == _F32 and xp is np:
        # PyTorch's CPU scan accumulates in at::acc_type<scalar_t, /*is_cuda=*/false>:
        # double for float32 (float for float16), rounding each partial result once
        acc = np.dtype(np.float64)
    if np.dtype(out).kind == "c":
        if out == np.complex64 and xp is np:
            acc = np.dtype(np.complex128)       # (complex<double>, as float32's double)
        if method == "cumprod" and a.shape[d]:
            # (ATen's scan starts from 1 + 0j: the first product is (1 + 0j) * x0, where
            # an infinite part meets the zero: inf + 0j gives inf + nan j, as torch's)
            a = a.astype(acc, copy=True)
            first = (slice(None),) * d + (slice(0, 1),)
            a[first] = xp.multiply(complex(1), a[first])
    r = getattr(a, method)(axis=d, dtype=acc)
    return r if acc == out else r.astype(out)


def _scan_meta(self, dim, dtype=None, method="cumsum"):
    wrap_dim(dim, len(self.shape))
    dt = _acc_dtype(self, dtype)
    _scan_bool_check(dt, method, self)
    return _like(self, dt)


@op("aten::cumsum(Tensor self, int dim, *, ScalarType? dtype=None) -> Tensor", tags=_RED,
    meta=_scan_meta)
def cumsum(xp, self, dim, dtype=None):
    return _scan(xp, self, dim, dtype, "cumsum")


@op("aten::cumprod(Tensor self, int dim, *, ScalarType? dtype=None) -> Tensor", tags=_RED,
    meta=lambda self, dim, dtype=None: _scan_meta(self, dim, dtype, "cumprod"))
def cumprod(xp, self, dim, dtype=None):
    return _scan(xp, self, dim, dtype, "cumprod")


# ------------------------------------------------------------------ softmax

def _softmax_dtype(self_dtype, dtype, name, shape, dim):
    """The result dtype; PyTorch's kernel's error for a non-floating one (its last-dim
    kernel for the last dim or a 0-dim input, else the general one), except for an empty
    input, which PyTorch returns (of that dtype) without running a kernel."""
    d = _dtype_or(dtype, self_dtype)
    if d.category != _dt.FLOATING and 0 not in shape:
        last = len(shape) == 0 or dim == len(shape) - 1
        raise NotImplementedError(f"\"{name}_{'lastdim_' if last else ''}kernel_impl\" not "
                                  f"implemented for '{d.short_name}'")
    return d


_SOFTMAX_KERNELS: list = []     # [ops._softmax_kernel] once loaded (it imports numba)


def _softmax_kernels():
    # (imported at the first softmax, not with gpujit; then read from the list: an import
    # statement cost ~1 us a call)
    from . import _softmax_kernel
    _SOFTMAX_KERNELS[:] = [_softmax_kernel]
    return _softmax_kernel


def _softmax(xp, a, dim, dtype, log):
    d = wrap_dim(dim, a.ndim)
    out = _softmax_dtype(_dt._FROM_NP[a.dtype], dtype, "log_softmax" if log else "softmax",
                         a.shape, d).np
    # an explicit dtype converts the input first, as PyTorch (int16 30000 and 30001 are
    # both 30000 in float16), a float16 one computed in float32
    x = a.astype(out, copy=False)
    if out == _F16:
        x = x.astype(_F32)
    if x.ndim == 0:
        x = x.reshape(1)
    if x.size == 0:
        return x.reshape(a.shape).astype(out)
    if xp is np and out == _F32 and d == x.ndim - 1:
        # ATen's float32 last-dim kernels, bit for bit (ops/_softmax_kernel.py)
        _K = _SOFTMAX_KERNELS[0] if _SOFTMAX_KERNELS else _softmax_kernels()
        x2 = _K.lastdim_2d(x)
        y = np.empty(x2.shape, np.float32)
        _K.softmax_lastdim(x2, y, _K.LANES, log)
        return y.reshape(a.shape)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        z = x - x.max(d, keepdims=True)
        e = xp.exp(z, out=z) if not log else xp.exp(z)     # (softmax needs no z after)
        s = e.sum(d, keepdims=True)
        if log and out == _F16 and xp is np and d == x.ndim - 1:
            # PyTorch's CPU kernel along the last dim of a float16 tensor keeps the sum
            # and its log in float16 arrays (each rounded once), then subtracts in float32
            # (x - max - log_sum, rounded once); its CUDA kernel keeps them in float32
            s = s.astype(_F16).astype(_F32)
            r = z - xp.log(s).astype(_F16).astype(_F32)
        elif not log and out == _F16 and xp is np and d != x.ndim - 1 and \
                a.flags.c_contiguous:
            # PyTorch's CPU kernel along another dim of a contiguous float16 tensor stores
            # exp(x - max) in the float16 output (rounded) and divides it by the float32
            # sum of the unrounded ones (554 of 2048 elements of softmax(x, 0) were 1 ulp
            # off; a transposed input's answer is the float32 one)
            r = e.astype(_F16).astype(_F32) / s
        else:
            r = z - xp.log(s) if log else (xp.divide(e, s, out=e) if e.ndim else e / s)
    return r.reshape(a.shape).astype(out, copy=False)


def _softmax_meta(name):
    def meta(self, dim, dtype=None):
        d = wrap_dim(dim, len(self.shape))
        return _like(self, _softmax_dtype(self.dtype, dtype, name, tuple(self.shape), d))
    return meta


@op("aten::softmax.int(Tensor self, int dim, ScalarType? dtype=None) -> Tensor",
    tags={"reduction", "nn"}, functional=True, meta=_softmax_meta("softmax"))
def softmax(xp, self, dim, dtype=None):
    return _softmax(xp, self, dim, dtype, False)


@op("aten::log_softmax.int(Tensor self, int dim, ScalarType? dtype=None) -> Tensor",
    tags={"reduction", "nn"}, functional=True, meta=_softmax_meta("log_softmax"))
def log_softmax(xp, self, dim, dtype=None):
    return _softmax(xp, self, dim, dtype, True)


# derivatives (gpujit.autograd), written with registry ops

@_derivative(cumsum)
def _cumsum_grad(grad, dim):
    if grad.dim() == 0:
        return grad
    return grad.flip(dim).cumsum(dim).flip(dim)


@_derivative(cumprod)
def _cumprod_grad(grad, self, result, dim):
    """Before the first zero of a slice, dy_k/dx_i = y_k / x_i; at the first zero z it is
    the product of the other factors (cumprod with x_z taken as 1); after z it is 0."""
    if self.dim() == 0:
        return grad
    zero = self == 0
    seen = zero.cumsum(dim)                     # zeros at or before each position
    before = seen == 0
    first = zero.logical_and(seen == 1)
    safe = self.masked_fill(before.logical_not(), 1)
    at_before = (grad * result).flip(dim).cumsum(dim).flip(dim) / safe
    others = self.masked_fill(first, 1).cumprod(dim)
    at_first = (grad * others).flip(dim).cumsum(dim).flip(dim)
    return at_before.where(before, at_first.masked_fill(first.logical_not(), 0))


def _in_opmath(grad, result):
    """float16 / bfloat16 (grad, result) as float32, and the dtype to round back to:
    PyTorch's _softmax_backward_data / _log_softmax_backward_data compute a Half or
    BFloat16 gradient in float and round it once (gpujit's ops on half tensors rounded
    every step: 99 of 100 float16 log_softmax gradients differed, and every float16
    cross_entropy's; 89 / 256 bfloat16 softmax gradients over the last dim)."""
    dt = grad.dtype
    if dt == _dt.float16 or dt == _dt.bfloat16:
        return grad.float(), result.float(), dt
    return grad, result, None


def _lastdim_kernel_array(g, r, dim, log):
    """The float32 softmax / log_softmax gradient over the last dim of NumPy arrays by
    ATen's kernel (_vec_host_softmax_backward_lastdim, ops/_softmax_kernel.py), or None
    (another dtype, dim or array type)."""
    if type(g) is not np.ndarray or type(r) is not np.ndarray or g.dtype != np.float32 \
            or r.dtype != np.float32 or not g.ndim or not g.size or g.shape != r.shape \
            or wrap_dim(dim, g.ndim) != g.ndim - 1:
        return None
    _K = _SOFTMAX_KERNELS[0] if _SOFTMAX_KERNELS else _softmax_kernels()
    g2 = _K.lastdim_2d(g)
    out = np.empty(g2.shape, np.float32)
    _K.softmax_backward_lastdim(g2, _K.lastdim_2d(r), out, _K.LANES, log)
    return out.reshape(g.shape)


def _lastdim_kernel_grad(grad, result, dim, log):
    """_lastdim_kernel_array on float32 tensors, or None (another dtype, dim or device, or
    a backward recording a graph: the formula)."""
    import gpujit
    if grad._dtype is not _dt.float32 or result._dtype is not _dt.float32 or \
            gpujit.is_grad_enabled():
        return None
    out = _lastdim_kernel_array(grad._data, result._data, dim, log)
    return None if out is None else _reg.wrap(out, _dt.float32, grad.device)


@_derivative(softmax)
def _softmax_grad(grad, result, dim):
    got = _lastdim_kernel_grad(grad, result, dim, False)
    if got is not None:
        return got
    g, r, back = _in_opmath(grad, result)
    out = r * (g - (g * r).sum(dim, keepdim=True))
    return out if back is None else out.to(back)


def _log_softmax_grad_raw(xp, grad, result, dim):
    """_log_softmax_grad on the arrays where its registry ops run their ufuncs on them as
    they are (one float32 / float64 dtype and shape, C-contiguous, not 0-d): grad -
    exp(result) * grad's sum along dim (the sum's own impl: its cascade's bits)."""
    if grad.dtype != result.dtype or grad.dtype not in _RAW_SOFTMAX or grad.ndim == 0 or \
            grad.shape != result.shape or not grad.flags.c_contiguous or \
            not result.flags.c_contiguous:
        return NotImplemented
    if xp is np:        # (float32 over the last dim: ATen's kernel, its bits)
        out = _lastdim_kernel_array(grad, result, dim, True)
        if out is not None:
            return out
    d = dim + grad.ndim if dim < 0 else dim
    s = _SUM_IMPL[0]
    if s is None:
        from .registry import OPS
        s = _SUM_IMPL[0] = OPS["aten::sum.dim_IntList"].impl
    total = xp.asarray(s(xp, grad, [d], True, None))
    return xp.subtract(grad, xp.multiply(xp.exp(result), total))


_RAW_SOFTMAX = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
_SUM_IMPL = [None]


@_derivative(log_softmax, raw=_log_softmax_grad_raw)
def _log_softmax_grad(grad, result, dim):
    got = _lastdim_kernel_grad(grad, result, dim, True)
    if got is not None:
        return got
    g, r, back = _in_opmath(grad, result)
    out = g - r.exp() * g.sum(dim, keepdim=True)
    return out if back is None else out.to(back)
