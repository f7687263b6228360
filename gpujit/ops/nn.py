"""nn ops: convolution and pooling here; normalization, dropout, embedding, one_hot and pad
in `nn_norm.py`; losses in `nn_loss.py` (imported at the bottom, so importing this module
registers the whole family).

Convolution is im2col by stride tricks (a zero-copy windowed view of the padded input,
`as_strided`) followed by one batched matmul over the groups; pooling reduces the same
windowed view. Every shape check runs in the shared geometry helpers, which the meta rules
call too, so tracing reports the same errors as eager execution.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta
from .registry import op

_NN = {"nn"}
FLOATS = _dt.FLOATING_TYPES
NO_BOOL = tuple(d for d in _dt.ALL if d is not _dt.bool)


# ---------------------------------------------------------------------- shared helpers

def dtype_of(a):
    """gpujit dtype of an array (eager) or a TensorMeta (meta)."""
    d = a.dtype
    return d if isinstance(d, _dt.dtype) else _dt.from_numpy_dtype(d)


def not_implemented(name, dt):
    """PyTorch's wording for a kernel without this dtype."""
    return RuntimeError(f'"{name}" not implemented for \'{dt.short_name}\'')


def check_float(name, *arrays):
    for a in arrays:
        if a is not None:
            d = dtype_of(a)
            if d.category != _dt.FLOATING:
                raise not_implemented(name, d)


def compute_dtype(xp, a):
    """float16 is computed in float32 on every device: PyTorch accumulates half-precision
    norms, convolutions and losses in float32 (and NumPy has no fast half kernels), so the
    CPU and the GPU agree."""
    if a.dtype == np.float16:
        return np.dtype(np.float32)
    return a.dtype


def sizes(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def as_strided(xp, a, shape, strides):
    return xp.lib.stride_tricks.as_strided(a, shape=tuple(shape), strides=tuple(strides))


def expand_param(v, n, name, what="the convolution dimensions"):
    """An int or a sequence of ints -> a tuple of n ints (a 1-sequence is repeated)."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),) * n
    v = tuple(int(x) for x in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                           f"values to match {what}, but got {name}={list(v)}")
    return v


# ---------------------------------------------------------------------- convolution

def _conv_geometry(nd, in_shape, w_shape, b_shape, stride, padding, dilation, groups):
    """Validate a conv{nd}d call as PyTorch does; return (batched, padding as (left, right)
    per spatial dim, output shape). Shapes may hold None (unknown) in meta use."""
    name = f"conv{nd}d"
    if len(in_shape) not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {sizes(in_shape)}")
    batched = len(in_shape) == nd + 2
    shape = tuple(in_shape) if batched else (1,) + tuple(in_shape)
    stride = expand_param(stride, nd, "stride")
    dilation = expand_param(dilation, nd, "dilation")
    if len(w_shape) < 3:
        raise RuntimeError(f"weight should have at least three dimensions, got weight of "
                           f"size {sizes(w_shape)}")
    k = w_shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for d, kk in zip(dilation, k):
                total = d * (kk - 1) if kk is not None else 0
                pads.append((total // 2, total - total // 2))
            pads = tuple(pads)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        p = expand_param(padding, nd, "padding")
        pads = tuple((x, x) for x in p)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(p < 0 for pr in pads for p in pr):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if len(w_shape) != len(shape):
        raise RuntimeError(f"Expected {len(w_shape)}-dimensional input for {len(w_shape)}-"
                           f"dimensional weight {sizes(w_shape)}, but got {len(shape)}-"
                           f"dimensional input of size {sizes(shape)} instead")
    out_ch = w_shape[0]
    if out_ch < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} "
                           f"at dimension 0, but got weight of size {sizes(w_shape)} instead")
    if out_ch % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{sizes(w_shape)} instead")
    if shape[1] is not None and shape[1] != w_shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {sizes(w_shape)}, expected "
                           f"input{sizes(shape)} to have {w_shape[1] * groups} channels, but "
                           f"got {shape[1]} channels instead")
    if b_shape is not None and (len(b_shape) != 1 or b_shape[0] != out_ch):
        raise RuntimeError(f"Given weight of size {sizes(w_shape)}, expected bias to be "
                           f"1-dimensional with {out_ch} elements, but got bias of size "
                           f"{sizes(b_shape)} instead")
    out = []
    padded, dilated = [], []
    for i in range(nd):
        n = shape[2 + i]
        ext = dilation[i] * (k[i] - 1) + 1
        if n is None:
            out.append(None)
            continue
        padded.append(n + pads[i][0] + pads[i][1])
        dilated.append(ext)
        out.append((padded[-1] - ext) // stride[i] + 1)
    if len(padded) == nd and any(p < e for p, e in zip(padded, dilated)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, dilated))}). Kernel size can't be greater "
            f"than actual input size")
    out_shape = (shape[0], out_ch) + tuple(out)
    return batched, pads, stride, dilation, out_shape if batched else out_shape[1:]


def _type_str(a):
    """ATen's tensor type name, e.g. CPUFloatType (a is an array or a TensorMeta)."""
    dev = getattr(a, "device", None)
    on_cpu = isinstance(a, np.ndarray) or (isinstance(a, TensorMeta) and dev.type == "cpu")
    return f"{'CPU' if on_cpu else 'CUDA'}{dtype_of(a).short_name}Type"


def _check_same_type(inp, weight, bias):
    if dtype_of(inp) is not dtype_of(weight):
        raise RuntimeError(f"Input type ({_type_str(inp)}) and weight type "
                           f"({_type_str(weight)}) should be the same")
    if bias is not None and dtype_of(bias) is not dtype_of(inp):
        raise RuntimeError(f"Input type ({_type_str(inp)}) and bias type "
                           f"({_type_str(bias)}) should be the same")


def _conv_meta(nd):
    def meta(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        _check_same_type(input, weight, bias)
        check_float(f"conv{nd}d", input)
        out_shape = _conv_geometry(nd, input.shape, weight.shape,
                                   None if bias is None else bias.shape, stride, padding,
                                   dilation, groups)[-1]
        return TensorMeta(input.dtype, tuple(out_shape), input.device)
    return meta


def conv2d_core(xp, x, w, b, pads, stride, dilation, groups, out_hw):
    """x (N, C, H, W), w (O, C/groups, kH, kW) -> (N, O, oH, oW). im2col through a strided
    view of the padded input and one batched matmul over the groups."""
    ct = compute_dtype(xp, x)
    odt = x.dtype
    if ct != x.dtype:
        x, w = x.astype(ct), w.astype(ct)
        b = None if b is None else b.astype(ct)
    if any(p for pr in pads for p in pr):
        x = xp.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    g = groups
    og = o // g
    oh, ow = out_hw
    k = cg * kh * kw
    wm = w.reshape(g, og, k).transpose(0, 2, 1)     # (G, K, O/G)
    # the im2col matrix holds K values per output pixel: bound it by converting a chunk
    # of the batch at a time (one chunk for all but large inputs)
    chunk = max(1, _IM2COL_ELEMENTS // max(g * oh * ow * k, 1))
    if chunk >= n:
        out = _conv_chunk(xp, x, wm, g, cg, og, oh, ow, kh, kw, stride, dilation)
    else:
        out = xp.empty((n, o, oh, ow), x.dtype)
        for i in range(0, n, chunk):
            out[i:i + chunk] = _conv_chunk(xp, x[i:i + chunk], wm, g, cg, og, oh, ow, kh, kw,
                                           stride, dilation)
    if b is not None:
        out += b.reshape(1, o, 1, 1)
    return xp.ascontiguousarray(out.astype(odt, copy=False))


_IM2COL_ELEMENTS = 1 << 25     # 32M values (128 MiB of float32) per im2col matrix


def _conv_chunk(xp, x, wm, g, cg, og, oh, ow, kh, kw, stride, dilation):
    n = x.shape[0]
    sn, sc, sh, sw = x.strides
    win = as_strided(xp, x, (n, g, cg, oh, ow, kh, kw),
                     (sn, cg * sc, sc, sh * stride[0], sw * stride[1], sh * dilation[0],
                      sw * dilation[1]))
    cols = win.transpose(1, 0, 3, 4, 2, 5, 6).reshape(g, n * oh * ow, cg * kh * kw)
    out = xp.matmul(cols, wm)                       # (G, N*oH*oW, O/G)
    return out.reshape(g, n, oh, ow, og).transpose(1, 0, 4, 2, 3).reshape(n, g * og, oh, ow)


def _conv(xp, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_same_type(input, weight, bias)
    check_float(f"conv{nd}d", input)
    batched, pads, stride, dilation, out_shape = _conv_geometry(
        nd, input.shape, weight.shape, None if bias is None else bias.shape, stride, padding,
        dilation, groups)
    x = input if batched else input[None]
    if nd == 1:
        out = conv2d_core(xp, x[:, :, None, :], weight[:, :, None, :], bias,
                          ((0, 0),) + pads, (1,) + stride, (1,) + dilation, groups,
                          (1, out_shape[-1]))[:, :, 0, :]
    else:
        out = conv2d_core(xp, x, weight, bias, pads, stride, dilation, groups, out_shape[-2:])
        if _mf.suggest(weight.shape, weight.strides) == _mf.CHANNELS_LAST or (
                batched and _mf.suggest(input.shape, input.strides) == _mf.CHANNELS_LAST):
            # PyTorch: channels-last input or weight -> channels-last result
            if batched:
                return _mf.copy_in(xp, out, _mf.format_order(_mf.CHANNELS_LAST, 4))
            return _mf.copy_in(xp, out[0], (1, 2, 0))       # H, W, C as the batched one
    return xp.ascontiguousarray(out if batched else out[0])


_CONV_DOC = "conv{n}d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)"


@op("aten::conv1d(Tensor input, Tensor weight, Tensor? bias=None, SymInt[1] stride=1, "
    "SymInt[1] padding=0, SymInt[1] dilation=1, SymInt groups=1) -> Tensor", tags=_NN,
    meta=_conv_meta(1), method=False, functional=True, dtypes=FLOATS)
def conv1d(xp, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L) or (C, L) input (cross-correlation, as PyTorch)."""
    return _conv(xp, 1, input, weight, bias, stride, padding, dilation, groups)


@op("aten::conv1d.padding(Tensor input, Tensor weight, Tensor? bias=None, "
    "SymInt[1] stride=1, str padding=\"valid\", SymInt[1] dilation=1, SymInt groups=1) "
    "-> Tensor", tags=_NN, meta=_conv_meta(1), method=False, functional=True, dtypes=FLOATS)
def conv1d_padding(xp, input, weight, bias=None, stride=1, padding="valid", dilation=1,
                   groups=1):
    """conv1d with padding='same' or 'valid'."""
    return _conv(xp, 1, input, weight, bias, stride, padding, dilation, groups)


@op("aten::conv2d(Tensor input, Tensor weight, Tensor? bias=None, SymInt[2] stride=1, "
    "SymInt[2] padding=0, SymInt[2] dilation=1, SymInt groups=1) -> Tensor", tags=_NN,
    meta=_conv_meta(2), method=False, functional=True, dtypes=FLOATS)
def conv2d(xp, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C, H, W) or (C, H, W) input (cross-correlation)."""
    return _conv(xp, 2, input, weight, bias, stride, padding, dilation, groups)


@op("aten::conv2d.padding(Tensor input, Tensor weight, Tensor? bias=None, "
    "SymInt[2] stride=1, str padding=\"valid\", SymInt[2] dilation=1, SymInt groups=1) "
    "-> Tensor", tags=_NN, meta=_conv_meta(2), method=False, functional=True, dtypes=FLOATS)
def conv2d_padding(xp, input, weight, bias=None, stride=1, padding="valid", dilation=1,
                   groups=1):
    """conv2d with padding='same' or 'valid'."""
    return _conv(xp, 2, input, weight, bias, stride, padding, dilation, groups)


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
    return out if batched else out[0]


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
    for i in range(1, len(in_shape)):
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
    check_float(name, self)
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
        check_float(f"adaptive_avg_pool{nd}d", self)
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


from . import nn_norm, nn_loss, nn_upsample  # noqa: E402,F401  (register the rest of the family)
from . import nn_pool, nn_conv  # noqa: E402,F401  (N-d pooling, conv3d, transposed convs)


# ---------------------------------------------------------------------- derivatives
# (gpujit.autograd) written with registry ops, so a backward is itself recorded (double
# backward). Convolution gradients are convolutions too: the input's is the transposed
# convolution (a stride-1 conv2d of the zero-stuffed, re-padded gradient with each
# group's weights transposed and flipped), the weight's a conv2d that correlates the
# input with the gradient (batch and channels swapped). conv1d runs them with a unit H.
from .registry import derivative as _derivative  # noqa: E402


def _F():
    import gpujit
    return gpujit, gpujit.nn.functional


def conv2d_input_grad(grad, weight, in_hw, pads, stride, dilation, groups):
    """d/d input of conv2d: grad (N, O, oH, oW), weight (O, C/groups, kH, kW), pads
    ((top, bottom), (left, right)) -> (N, C, H, W). Also avg_pool2d's (a ones kernel)."""
    gpujit, F = _F()
    n, o, oh, ow = grad.shape
    g = grad
    if stride[0] > 1:      # stride - 1 zeros after each row (the trailing ones cropped below)
        g = F.pad(g.unsqueeze(3), [0, 0, 0, stride[0] - 1]).reshape(n, o, oh * stride[0],
                                                                      ow)
    if stride[1] > 1:
        g = F.pad(g.unsqueeze(4), [0, stride[1] - 1]).reshape(n, o, g.shape[2],
                                                              ow * stride[1])
    widths = []
    for i in (1, 0):       # F.pad lists the last dim first
        ext = dilation[i] * (weight.shape[2 + i] - 1)
        out = (oh, ow)[i]
        unused = in_hw[i] + sum(pads[i]) - ((out - 1) * stride[i] + ext + 1)
        widths += [ext - pads[i][0], ext - pads[i][1] + unused - (stride[i] - 1)]
    g = F.pad(g, widths)
    cg = weight.shape[1]
    wt = weight.reshape((groups, o // groups, cg) + tuple(weight.shape[2:])).transpose(1, 2)
    wt = wt.reshape((groups * cg, o // groups) + tuple(weight.shape[2:])).flip([2, 3])
    return gpujit.conv2d(g, wt, None, 1, 0, dilation, groups)


def _conv2d_weight_grad(grad, input, w_shape, pads, stride, dilation, groups):
    """d/d weight of conv2d: sum over the batch and output positions of grad times the
    input window, as conv2d(input as (C/groups, groups*N, ...), grad as (O, N, ...))."""
    gpujit, F = _F()
    x = F.pad(input, [pads[1][0], pads[1][1], pads[0][0], pads[0][1]])
    n, c, hp, wp = x.shape
    o, oh, ow = grad.shape[1], grad.shape[2], grad.shape[3]
    cg = c // groups
    xi = x.reshape(n, groups, cg, hp, wp).permute(2, 1, 0, 3, 4).reshape(
        cg, groups * n, hp, wp)
    gw = grad.reshape(n, groups, o // groups, oh, ow).permute(1, 2, 0, 3, 4).reshape(
        o, n, oh, ow)
    r = gpujit.conv2d(xi, gw, None, dilation, 0, stride, groups)   # (C/groups, O, >=kH, >=kW)
    return r.narrow(2, 0, w_shape[2]).narrow(3, 0, w_shape[3]).transpose(0, 1)


def _conv_grad(nd, grad, input, weight, bias, stride, padding, dilation, groups):
    batched, pads, stride, dilation, _ = _conv_geometry(
        nd, input.shape, weight.shape, None, stride, padding, dilation, groups)
    x, g, w = input, grad, weight
    if not batched:
        x, g = x.unsqueeze(0), g.unsqueeze(0)
    if nd == 1:            # as conv2d over (N, C, 1, L)
        x, g, w = x.unsqueeze(2), g.unsqueeze(2), w.unsqueeze(2)
        pads, stride, dilation = ((0, 0),) + pads, (1,) + stride, (1,) + dilation
    gi = conv2d_input_grad(g, w, tuple(x.shape[2:]), pads, stride, dilation, groups)
    gw = _conv2d_weight_grad(g, x, tuple(w.shape), pads, stride, dilation, groups)
    gb = g.sum([0, 2, 3]) if bias is not None else None
    if nd == 1:
        gi, gw = gi.squeeze([2]), gw.squeeze([2])
    return (gi if batched else gi.squeeze([0])), gw, gb


@_derivative(conv1d, conv1d_padding)
def _conv1d_grad(grad, input, weight, bias, stride, padding, dilation, groups):
    return _conv_grad(1, grad, input, weight, bias, stride, padding, dilation, groups)


@_derivative(conv2d, conv2d_padding)
def _conv2d_grad(grad, input, weight, bias, stride, padding, dilation, groups):
    return _conv_grad(2, grad, input, weight, bias, stride, padding, dilation, groups)


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
