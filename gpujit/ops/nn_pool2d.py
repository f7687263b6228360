"""nn ops, 2-D pooling: max_pool2d (and with indices), avg_pool2d, adaptive_avg_pool1d/2d/3d,
their shared geometry helpers (`_pool_out`, the windowed view, the averaging divisor and
matrices) and their derivatives. Split from `nn.py`, which imports it right after the
convolutions; N-d pooling (max/avg 1-d/3-d, adaptive max, lp, unpool) is in `nn_pool.py`.

Pooling reduces a zero-copy windowed view of the padded input (`as_strided`); every shape
check runs in the geometry helpers, which the meta rules call too.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta
from .nn import (_F, _NN, FLOATS, NO_BOOL, as_strided, check_float, compute_dtype,
                 conv2d_input_grad, dtype_of, kernel_of, not_implemented, sizes)
from .registry import op, derivative as _derivative

# ---------------------------------------------------------------------- pooling

def _pool_out(n, k, p, s, d, ceil_mode):
    """ATen's pooling_output_shape."""
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_geometry(name, in_shape, kernel_size, stride, padding, dilation, ceil_mode):
    """Validate a 2-D pooling call; return (batched, k, s, p, d, output shape)."""
    def pair(v, what):
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            return (int(v),) * 2
        v = tuple(int(x) for x in v)
        if len(v) not in (1, 2):
            raise RuntimeError(f"{name}: {what} must either be a single int, or a tuple of "
                               f"two ints")
        return v * 2 if len(v) == 1 else v
    k = pair(kernel_size, "kernel_size")
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else pair(stride, "stride")
    p = pair(padding, "padding")
    d = pair(dilation, "dilation")
    if len(in_shape) not in (3, 4) or any(x == 0 for x in in_shape[-3:]):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{sizes(in_shape)}")
    for kk, ss, pp, dd in zip(k, s, p, d):
        # (torch 2.13's pooling_output_shape, height then width, before pool2d_shape_check)
        if ss == 0:
            raise RuntimeError("stride should not be zero")
        if pp < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {pp}")
        if pp > int(((kk - 1) * dd + 1) / 2):       # (C++'s division, toward zero)
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pp}, kernel_size={kk} and dilation={dd}")
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} "
                           f"kW: {k[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {s[0]} "
                           f"dW: {s[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} "
                           f"dilationW: {d[1]}")
    if k[1] // 2 < p[1] or k[0] // 2 < p[0]:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but "
                           f"got padW = {p[1]}, padH = {p[0]}, kW = {k[1]}, kH = {k[0]}")
    h, w = in_shape[-2:]
    oh = None if h is None else _pool_out(h, k[0], p[0], s[0], d[0], ceil_mode)
    ow = None if w is None else _pool_out(w, k[1], p[1], s[1], d[1], ceil_mode)
    if (oh is not None and oh < 1) or (ow is not None and ow < 1):
        c = in_shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{oh}x{ow}). Output size is too small")
    return len(in_shape) == 4, k, s, p, d, tuple(in_shape[:-2]) + (oh, ow)


def _windows(xp, x, k, s, p, d, out_hw, fill):
    """(N, C, oH, oW, kH, kW) strided view of x padded with `fill` (enough on the far side
    for ceil_mode's partial last window)."""
    h, w = x.shape[-2:]
    oh, ow = out_hw
    far_h = max((oh - 1) * s[0] + d[0] * (k[0] - 1) + 1 - h - p[0], 0)
    far_w = max((ow - 1) * s[1] + d[1] * (k[1] - 1) + 1 - w - p[1], 0)
    if p[0] or p[1] or far_h or far_w:
        x = xp.pad(x, ((0, 0), (0, 0), (p[0], far_h), (p[1], far_w)), constant_values=fill)
    sn, sc, sh, sw = x.strides
    return as_strided(xp, x, x.shape[:2] + (oh, ow) + tuple(k),
                      (sn, sc, sh * s[0], sw * s[1], sh * d[0], sw * d[1]))


def _pool_dtype_check(name, dt):
    if dt is _dt.bool:
        raise not_implemented(name, dt)


def _max_pool_meta(with_indices):
    def meta(self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        _pool_dtype_check("max_pool2d", self.dtype)
        shape = _pool_geometry("max_pool2d", self.shape, kernel_size, stride, padding,
                               dilation, ceil_mode)[-1]
        out = TensorMeta(self.dtype, shape, self.device)
        return (out, TensorMeta(_dt.int64, shape, self.device)) if with_indices else out
    return meta


def _max_pool(xp, x, kernel_size, stride, padding, dilation, ceil_mode, with_indices):
    _pool_dtype_check("max_pool2d", dtype_of(x))
    batched, k, s, p, d, out_shape = _pool_geometry("max_pool2d", x.shape, kernel_size,
                                                    stride, padding, dilation, ceil_mode)
    if not batched:
        x = x[None]
    h, w = x.shape[-2:]
    oh, ow = out_shape[-2:]
    isfloat = x.dtype.kind == "f"
    fill = -np.inf if isfloat else np.iinfo(x.dtype).min
    win = _windows(xp, x, k, s, p, d, (oh, ow), fill)
    values = win.max(axis=(-2, -1))
    if batched:     # PyTorch's output in input.suggest_memory_format()
        values = _mf.suggest_layout(xp, values, x)
    if not with_indices:
        return values if batched else values[0]
    flat = win.reshape(win.shape[:4] + (k[0] * k[1],))
    # the first maximum in scan order (the last NaN, as ATen's `val > max || isnan(val)`);
    # a window whose values are all the lowest value points at its first in-bounds tap
    a = flat.argmax(axis=-1)
    if isfloat:
        nan = xp.isnan(flat)
        last_nan = flat.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
        a = xp.where(nan.any(axis=-1), last_nan, a)
    hstart = (xp.arange(oh) * s[0] - p[0])[:, None]
    wstart = (xp.arange(ow) * s[1] - p[1])[None, :]
    hh = hstart + (a // k[1]) * d[0]
    ww = wstart + (a % k[1]) * d[1]
    inside = (hh >= 0) & (hh < h) & (ww >= 0) & (ww < w)
    h0 = hstart + xp.maximum((-hstart + d[0] - 1) // d[0], 0) * d[0]
    w0 = wstart + xp.maximum((-wstart + d[1] - 1) // d[1], 0) * d[1]
    idx = xp.where(inside, hh * w + ww, h0 * w + w0).astype(np.int64)
    if batched:
        idx = _mf.suggest_layout(xp, idx, x)
    return (values, idx) if batched else (values[0], idx[0])


@op("aten::max_pool2d(Tensor self, int[2] kernel_size, int[2] stride=[], int[2] padding=0, "
    "int[2] dilation=1, bool ceil_mode=False) -> Tensor", tags=_NN, method=False,
    meta=_max_pool_meta(False), dtypes=NO_BOOL)
def max_pool2d(xp, self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W); padding counts as -inf."""
    return _max_pool(xp, self, kernel_size, stride, padding, dilation, ceil_mode, False)


@op("aten::max_pool2d_with_indices(Tensor self, int[2] kernel_size, int[2] stride=[], "
    "int[2] padding=0, int[2] dilation=1, bool ceil_mode=False) -> (Tensor, Tensor)",
    tags=_NN, method=False, function=False, meta=_max_pool_meta(True), dtypes=NO_BOOL)
def max_pool2d_with_indices(xp, self, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    """max_pool2d and the flat (h * W + w) input index of each maximum."""
    return _max_pool(xp, self, kernel_size, stride, padding, dilation, ceil_mode, True)


def _avg_pool_meta(self, kernel_size, stride=(), padding=0, ceil_mode=False,
                   count_include_pad=True, divisor_override=None):
    _avg_dtype_check(self.dtype)
    shape = _pool_geometry("avg_pool2d", self.shape, kernel_size, stride, padding, 1,
                           ceil_mode)[-1]
    return TensorMeta(self.dtype, shape, self.device)


def _avg_dtype_check(dt):
    if dt.category != _dt.FLOATING and dt is not _dt.int64:
        raise not_implemented("avg_pool2d", dt)


def _avg_divisor(xp, hw, k, s, p, out_hw, count_include_pad, divisor_override):
    """The divisor of each output position, (oH, oW) (or divisor_override)."""
    if divisor_override is not None:
        return divisor_override

    def extent(n_out, size, kk, ss, pp):
        start = xp.arange(n_out) * ss - pp
        end = xp.minimum(start + kk, size + pp)
        return end - start if count_include_pad else (xp.minimum(end, size)
                                                      - xp.maximum(start, 0))
    return (extent(out_hw[0], hw[0], k[0], s[0], p[0])[:, None]
            * extent(out_hw[1], hw[1], k[1], s[1], p[1])[None, :])


@op("aten::avg_pool2d(Tensor self, int[2] kernel_size, int[2] stride=[], int[2] padding=0, "
    "bool ceil_mode=False, bool count_include_pad=True, int? divisor_override=None) "
    "-> Tensor", tags=_NN, method=False, function=False, functional=True,
    meta=_avg_pool_meta, dtypes=FLOATS + (_dt.int64,))
def avg_pool2d(xp, self, kernel_size, stride=(), padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling; the divisor follows ATen (padding counted up to the padded
    edge when count_include_pad, never past it)."""
    _avg_dtype_check(dtype_of(self))
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    batched, k, s, p, d, out_shape = _pool_geometry("avg_pool2d", self.shape, kernel_size,
                                                    stride, padding, 1, ceil_mode)
    x = self if batched else self[None]
    h, w = x.shape[-2:]
    oh, ow = out_shape[-2:]
    odt = x.dtype
    if x.dtype.kind == "f":
        x = x.astype(compute_dtype(xp, x), copy=False)
    total = _windows(xp, x, k, s, p, d, (oh, ow), 0).sum(axis=(-2, -1))
    div = _avg_divisor(xp, (h, w), k, s, p, (oh, ow), count_include_pad, divisor_override)
    if odt.kind == "f":
        out = (total / div).astype(odt, copy=False)
    else:   # C++ integer division truncates toward zero
        q = xp.abs(total) // div
        out = xp.where(total < 0, -q, q).astype(odt, copy=False)
    # PyTorch's output in input.suggest_memory_format() (a 3-D input's: contiguous), not
    # the sum's layout (NumPy's follows x's order, CuPy's is C-contiguous)
    return _mf.suggest_layout(xp, out, x) if batched else _mf.c_layout(xp, out[0])


def _adaptive_sizes(in_shape, output_size, nd=2):
    name = f"adaptive_avg_pool{nd}d"
    if nd == 1:
        if len(in_shape) not in (2, 3):
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {len(in_shape)}-"
                               f"dimensional tensor for argument #1 'self' (while checking "
                               f"arguments for adaptive_avg_pool1d)")
    elif len(in_shape) not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{sizes(in_shape)}")
    # (2-D: the spatial dims only, a batch of no channels pools to none, as ATen's
    # adaptive_avg_pool2d; 1-D runs as that 2-D pool)
    first = len(in_shape) - 2 if nd == 2 else 1
    for i in range(first, len(in_shape)):
        if in_shape[i] == 0 and nd != 1:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size "
                               f"for non-batch dimensions, but input has sizes "
                               f"{sizes(in_shape)} with dimension {i} being empty")
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) == 1:
        output_size = output_size * nd
    if len(output_size) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd}")
    out = tuple(in_shape[-nd + i] if o is None else int(o) for i, o in enumerate(output_size))
    if any(o is not None and o < 0 for o in out):
        if nd == 1:         # (PyTorch's adaptive_avg_pool1d is the 2-D pool of height 1)
            raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater "
                               f"than or equal to 0 but received {{1, {out[0]}}}")
        raise RuntimeError(f"{name}: elements of output_size must be greater "
                           f"than or equal to 0 but received {list(out)}")
    return tuple(in_shape[:-nd]) + out


def _adaptive_matrix(xp, n_in, n_out, dt):
    """(n_out, n_in) averaging matrix: row i averages [floor(i*in/out), ceil((i+1)*in/out))."""
    i = xp.arange(n_out)
    start = (i * n_in) // n_out if n_out else i
    end = ((i + 1) * n_in + n_out - 1) // n_out if n_out else i
    j = xp.arange(n_in)
    m = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])
    return m.astype(dt) / (end - start).astype(dt)[:, None]


@op("aten::adaptive_avg_pool2d(Tensor self, SymInt[2] output_size) -> Tensor", tags=_NN,
    method=False, function=False, functional=True, dtypes=FLOATS,
    meta=lambda self, output_size: (check_float("adaptive_avg_pool2d", self), TensorMeta(
        self.dtype, _adaptive_sizes(self.shape, output_size), self.device))[1])
def adaptive_avg_pool2d(xp, self, output_size):
    """Adaptive average pooling to any output size (None keeps that input size)."""
    check_float("adaptive_avg_pool2d", self)
    out_shape = _adaptive_sizes(self.shape, output_size)
    ct = compute_dtype(xp, self)
    h, w = self.shape[-2:]
    ah = _adaptive_matrix(xp, h, out_shape[-2], ct)
    aw = _adaptive_matrix(xp, w, out_shape[-1], ct)
    out = xp.matmul(xp.matmul(ah, self.astype(ct, copy=False)), aw.T)
    # PyTorch's output in input.suggest_memory_format() (channels-last stays so)
    return _mf.suggest_layout(xp, out.astype(self.dtype, copy=False), self)


def _adaptive_nd(xp, self, output_size, nd):
    """Adaptive average pooling over the last nd dims: one averaging matrix per dim."""
    name = f"adaptive_avg_pool{nd}d"
    check_float(kernel_of(name, xp), self)
    out_shape = _adaptive_sizes(self.shape, output_size, nd)
    ct = compute_dtype(xp, self)
    y = self.astype(ct, copy=False)
    for i in range(nd):
        axis = self.ndim - nd + i
        a = _adaptive_matrix(xp, self.shape[axis], out_shape[axis], ct)
        y = xp.moveaxis(xp.matmul(xp.moveaxis(y, axis, -1), a.T), -1, axis)
    return xp.ascontiguousarray(y.astype(self.dtype, copy=False))


def _adaptive_nd_meta(nd):
    def meta(self, output_size):
        check_float(kernel_of(f"adaptive_avg_pool{nd}d", self), self)
        return TensorMeta(self.dtype, _adaptive_sizes(self.shape, output_size, nd),
                          self.device)
    return meta


@op("aten::adaptive_avg_pool1d(Tensor self, int[1] output_size) -> Tensor", tags=_NN,
    method=False, function=True, functional=True, dtypes=FLOATS, meta=_adaptive_nd_meta(1))
def adaptive_avg_pool1d(xp, self, output_size):
    """Adaptive average pooling of the last dim."""
    return _adaptive_nd(xp, self, output_size, 1)


@op("aten::adaptive_avg_pool3d(Tensor self, SymInt[3] output_size) -> Tensor", tags=_NN,
    method=False, function=False, functional=True, dtypes=FLOATS, meta=_adaptive_nd_meta(3))
def adaptive_avg_pool3d(xp, self, output_size):
    """Adaptive average pooling of the last three dims (None keeps that input size)."""
    return _adaptive_nd(xp, self, output_size, 3)




# ---------------------------------------------------------------------- derivatives

def _max_pool_scatter(grad, indices, shape):
    """Each output's gradient added at its argmax (overlapping windows accumulate)."""
    gpujit, _ = _F()
    z = gpujit.zeros(tuple(shape[:-2]) + (shape[-2] * shape[-1],), dtype=grad.dtype,
                     device=grad.device)
    return z.scatter_add(-1, indices.flatten(-2), grad.flatten(-2)).reshape(shape)


@_derivative(max_pool2d)
def _max_pool2d_grad(grad, self, kernel_size, stride, padding, dilation, ceil_mode):
    gpujit, _ = _F()
    with gpujit.no_grad():   # only the (integer) argmax positions are needed
        idx = max_pool2d_with_indices.op(self, kernel_size, stride, padding, dilation,
                                         ceil_mode)[1]
    return _max_pool_scatter(grad, idx, self.shape)


@_derivative(max_pool2d_with_indices, wrt=("self",))
def _max_pool2d_with_indices_grad(grad, self, result):
    return _max_pool_scatter(grad[0], result[1], self.shape)


@_derivative(avg_pool2d)
def _avg_pool2d_grad(grad, self, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override):
    gpujit, _ = _F()
    batched, k, s, p, _, out_shape = _pool_geometry("avg_pool2d", self.shape, kernel_size,
                                                    stride, padding, 1, ceil_mode)
    h, w = self.shape[-2:]
    oh, ow = out_shape[-2:]
    div = _avg_divisor(np, (h, w), k, s, p, (oh, ow), count_include_pad, divisor_override)
    if not isinstance(div, int):      # a constant of the geometry, not of the data
        div = gpujit.tensor(div, dtype=grad.dtype, device=grad.device)
    g = (grad / div).reshape(-1, 1, oh, ow)
    # every window sums its (zero-padded) input: the gradient of a ones-kernel conv2d, with
    # ceil_mode's partial last window reaching into extra padding on the far side
    far = [max((o - 1) * ss + kk - n - pp, 0) for o, ss, kk, n, pp in
           zip((oh, ow), s, k, (h, w), p)]
    ones = gpujit.ones((1, 1) + tuple(k), dtype=grad.dtype, device=grad.device)
    gi = conv2d_input_grad(g, ones, (h, w), ((p[0], far[0]), (p[1], far[1])), s, (1, 1), 1)
    return gi.reshape(self.shape)


@_derivative(adaptive_avg_pool2d)
def _adaptive_avg_pool2d_grad(grad, self):
    gpujit, _ = _F()
    # the forward's averaging matrices (constants of the geometry): out = Ah @ x @ Aw^T
    ah, aw = (gpujit.tensor(_adaptive_matrix(np, n, o, np.float64), dtype=grad.dtype,
                            device=grad.device)
              for n, o in zip(self.shape[-2:], grad.shape[-2:]))
    return ah.t().matmul(grad).matmul(aw)


def _adaptive_nd_grad(grad, self_shape, nd):
    gpujit, _ = _F()
    g = grad
    for i in range(nd):
        axis = len(self_shape) - nd + i
        a = gpujit.tensor(_adaptive_matrix(np, self_shape[axis], grad.shape[axis], np.float64),
                          dtype=grad.dtype, device=grad.device)
        g = g.movedim(axis, -1).matmul(a).movedim(-1, axis)
    return g


@_derivative(adaptive_avg_pool1d)
def _adaptive_avg_pool1d_grad(grad, self_shape):
    return _adaptive_nd_grad(grad, self_shape, 1)


@_derivative(adaptive_avg_pool3d)
def _adaptive_avg_pool3d_grad(grad, self_shape):
    return _adaptive_nd_grad(grad, self_shape, 3)
