"""nn ops: upsampling (F.interpolate's aten::upsample_* ops, the `.vec` overloads PyTorch's
F.interpolate calls, and the explicit-size ones traced graphs hold).

Every mode is separable: the output is the input resampled along each spatial dim in turn
(the last first, as ATen's kernels nest their sums). Along one dim an output position reads
one (nearest), two (linear) or four (cubic) input positions with weights; the positions and
weights follow ATen's index arithmetic (computed in float32 for float32/float16 inputs, as
ATen's opmath, so nearest indices agree bit for bit). The gradient is the transposed map: a
matmul with each dim's (out, in) weight matrix, a constant of the geometry.
"""
from __future__ import annotations

import inspect
import math

import numpy as np

from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta
from .nn import _NN, compute_dtype, dtype_of, not_implemented, sizes
from .registry import op, derivative as _derivative

_FLOATS_U8 = _dt.FLOATING_TYPES + (_dt.uint8,)
_DIMS = ("D", "H", "W")


# ---------------------------------------------------------------------- geometry

def _output_size(name, nd, in_shape, output_size, scale_factors, vec=True):
    """(out sizes, scales) with ATen's checks in its order: for a `.vec` overload
    upsample::compute_output_size (the sizes from the scales) and get_scale_value, then the
    explicit op's meta (upsample_Nd_common_check and the non-empty check)."""
    spatial = len(in_shape) - 2
    if vec:
        if output_size is not None:
            if scale_factors is not None:
                raise RuntimeError("Must specify exactly one of output_size and scale_factors")
            if len(output_size) != spatial:
                raise RuntimeError("Expected static_cast<int64_t>(output_size->size()) == "
                                   "spatial_dimensions to be true, but got false.")
            out = tuple(int(s) for s in output_size)
            scales = (None,) * nd
        elif scale_factors is not None:
            if len(scale_factors) != spatial:
                raise RuntimeError("Expected static_cast<int64_t>(scale_factors->size()) == "
                                   "spatial_dimensions to be true, but got false.")
            sf = tuple(float(s) for s in scale_factors)
            out = tuple(int(math.floor(n * s)) for n, s in zip(in_shape[2:], sf))
            if len(sf) < nd:
                raise RuntimeError(f"ArrayRef: invalid index Index = {len(sf)}; Length = "
                                   f"{len(sf)}")
            scales = sf[:nd]
        else:
            raise RuntimeError("Must specify exactly one of output_size and scale_factors")
    else:
        out = tuple(int(s) for s in output_size)
        scales = tuple(scale_factors) if scale_factors is not None else (None,) * nd
    if len(out) != nd:
        raise RuntimeError(f"It is expected output_size equals to {nd}, but got size "
                           f"{len(out)}")
    if len(in_shape) != nd + 2:
        raise RuntimeError(f"It is expected input_size equals to {nd + 2}, but got size "
                           f"{len(in_shape)}")
    spatial = tuple(in_shape[2:])
    dims = _DIMS[3 - nd:]
    if any(n is not None and n <= 0 for n in spatial) or any(o <= 0 for o in out):
        ins = ", ".join(f"{d}: {n}" for d, n in zip(dims, spatial))
        outs = ", ".join(f"{d}: {o}" for d, o in zip(dims, out))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({ins}) output ({outs})")
    if in_shape[1] == 0:        # (an empty batch is allowed, no other empty dim)
        raise RuntimeError(f"Non-empty {nd + 2}D data tensor expected but got a tensor with "
                           f"sizes {sizes(in_shape)}")
    return out, scales


def _scale(n_in, n_out, align_corners, scale):
    """ATen's area_pixel_compute_scale (align_corners) / compute_scales_value."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n_in / n_out


def _taps(mode, n_in, n_out, align_corners, scale, ct):
    """(indices, weights) along one dim: lists of k integer arrays (n_out,) and k weight
    arrays (n_out,) (weights None for nearest)."""
    j = np.arange(n_out)
    if mode in ("nearest", "nearest-exact"):
        if mode == "nearest" and n_out == n_in:
            return [j], None
        if mode == "nearest" and n_out == 2 * n_in:
            return [j >> 1], None
        s = np.float32(1.0 / scale if scale is not None and scale > 0 else
                       np.float32(n_in) / np.float32(n_out))
        src = j.astype(np.float32) + np.float32(0.5) if mode == "nearest-exact" else \
            j.astype(np.float32)
        return [np.minimum(np.floor(src * s).astype(np.int64), n_in - 1)], None
    ct = np.dtype(ct)
    s = ct.type(_scale(n_in, n_out, align_corners, scale))
    jj = j.astype(ct)
    if mode == "linear":
        if n_out == n_in and not align_corners:
            return [j, j], [np.ones(n_out, ct), np.zeros(n_out, ct)]
        src = s * jj if align_corners else np.maximum(s * (jj + ct.type(0.5)) - ct.type(0.5),
                                                      ct.type(0))
        i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        lam1 = np.clip(src - i0.astype(ct), 0, 1).astype(ct)
        i1 = np.where(i0 < n_in - 1, i0 + 1, i0)
        return [i0, i1], [(ct.type(1) - lam1).astype(ct), lam1]
    # cubic (A = -0.75), indices clamped to the edge
    src = s * jj if align_corners else s * (jj + ct.type(0.5)) - ct.type(0.5)
    fl = np.floor(src)
    t = (src - fl).astype(ct)
    a = ct.type(-0.75)

    def conv1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def conv2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    one = ct.type(1)
    w = [conv2(t + one), conv1(t), conv1(one - t), conv2((one - t) + one)]
    base = fl.astype(np.int64)
    idx = [np.clip(base - 1 + k, 0, n_in - 1) for k in range(4)]
    return idx, [x.astype(ct) for x in w]


def _matrix(mode, n_in, n_out, align_corners, scale):
    """The (n_out, n_in) float64 matrix of one dim's resampling (the gradient's map)."""
    idx, w = _taps(mode, n_in, n_out, align_corners, scale, np.float64)
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    for k, i in enumerate(idx):
        np.add.at(m, (rows, i), 1.0 if w is None else w[k])
    return m


# ---------------------------------------------------------------------- uint8 (fixed point)
# PyTorch's CPU bilinear2d / bicubic2d on uint8 are a separable fixed-point kernel of their
# own (UpSampleKernel.cpp's separable_upsample_generic_Nd / its AVX2 twin, which agree): each
# dim whose size changes (the last first) is one pass of int16 weights scaled by 2**p (p the
# largest precision keeping the dim's biggest weight below 2**15), summed in int32 from
# 2**(p-1), shifted right by p and saturated to uint8 after every pass. Bilinear weights
# are the triangle filter over a window clipped to the input and renormalised (half-pixel
# centre, also with align_corners); bicubic ones are the float kernel's (A = -0.75, edge
# indices clamped: an out-of-range tap's weight adds to the edge pixel's).

def _quantize(ws):
    """(int64 weights, precision) of a dim's float64 weight rows."""
    wmax = float(ws.max())
    p = 0
    while p < 22 and int(0.5 + wmax * (1 << (p + 1))) < (1 << 15):
        p += 1
    v = ws * float(1 << p)
    return np.trunc(np.where(v < 0, v - 0.5, v + 0.5)).astype(np.int64), p


def _taps_u8(mode, n_in, n_out, align_corners, scale):
    """(xmin (n_out,), int weights (n_out, k), precision) of one dim's uint8 pass."""
    s = _scale(n_in, n_out, align_corners, scale)
    i = np.arange(n_out, dtype=np.float64)
    if mode == "cubic":
        a = -0.75
        src = s * i if align_corners else s * (i + 0.5) - 0.5
        fl = np.floor(src)
        t = src - fl

        def conv1(x):
            return ((a + 2) * x - (a + 3)) * x * x + 1

        def conv2(x):
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        w = np.stack([conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)], axis=1)
        idx = np.clip(fl.astype(np.int64)[:, None] - 1 + np.arange(4), 0, n_in - 1)
        xmin = idx[:, 0]
        ws = np.zeros((n_out, 4))
        rows = np.repeat(np.arange(n_out), 4)
        np.add.at(ws, (rows, (idx - xmin[:, None]).ravel()), w.ravel())
        return (xmin,) + _quantize(ws)
    delta = 0.5 if align_corners else 0.0
    center = s * (i + 0.5 - delta)
    xmin = np.maximum(np.trunc(center - 1.0 + 0.5 + delta), 0).astype(np.int64)
    xmax = np.minimum(np.trunc(center + 1.0 + 0.5 + delta).astype(np.int64), n_in)
    xsize = np.clip(xmax - xmin, 0, 2)
    j = np.arange(2)
    w = np.maximum(0.0, 1.0 - np.abs(j + xmin[:, None] - center[:, None] + 0.5 - delta))
    w = np.where(j < xsize[:, None], w, 0.0)
    tot = w.sum(axis=1, keepdims=True)
    w = np.where(tot != 0.0, w / np.where(tot != 0.0, tot, 1.0), w)
    return (xmin,) + _quantize(w)


def _resample_u8(xp, x, mode, out, align_corners, scales):
    y = x
    for d in reversed(range(len(out))):
        axis = 2 + d
        n_in = y.shape[axis]
        if n_in == out[d]:
            continue
        xmin, wi, p = _taps_u8(mode, n_in, out[d], align_corners, scales[d])
        yt = xp.moveaxis(y, axis, -1).astype(np.int64)
        acc = xp.full(yt.shape[:-1] + (out[d],), 1 << (p - 1), dtype=np.int64)
        for k in range(wi.shape[1]):
            idx = xp.asarray(np.minimum(xmin + k, n_in - 1))
            acc += xp.take(yt, idx, axis=-1) * xp.asarray(wi[:, k])
        y = xp.moveaxis(xp.clip(acc >> p, 0, 255).astype(np.uint8), -1, axis)
    return _mf.suggest_layout(xp, xp.ascontiguousarray(y), x)


def _resample(xp, x, mode, out, align_corners, scales):
    nd = len(out)
    if x.dtype == np.uint8 and mode in ("linear", "cubic"):
        return _resample_u8(xp, x, mode, out, align_corners, scales)
    ct = compute_dtype(xp, x) if x.dtype.kind == "f" else np.dtype(np.float32)
    odt = x.dtype
    y = x
    for d in reversed(range(nd)):
        axis = 2 + d
        idx, w = _taps(mode, x.shape[axis], out[d], align_corners, scales[d], ct)
        if w is None:
            y = xp.take(y, xp.asarray(idx[0]), axis=axis)
            continue
        if y.dtype != ct:
            y = y.astype(ct)
        shape = [1] * y.ndim
        shape[axis] = out[d]
        acc = None
        for i, wk in zip(idx, w):
            term = xp.take(y, xp.asarray(i), axis=axis) * xp.asarray(wk).reshape(shape)
            acc = term if acc is None else acc + term
        y = acc
    if y.dtype != odt:
        if odt.kind == "u":     # uint8: rounded, saturated
            y = xp.clip(xp.rint(y), 0, 255)
        y = y.astype(odt)
    # PyTorch's output in input.suggest_memory_format() (channels-last stays so)
    return _mf.suggest_layout(xp, xp.ascontiguousarray(y), x)


# ---------------------------------------------------------------------- ops

_ATEN = {("nearest", 1): "upsample_nearest1d", ("nearest", 2): "upsample_nearest2d",
         ("nearest", 3): "upsample_nearest3d",
         ("nearest-exact", 1): "_upsample_nearest_exact1d",
         ("nearest-exact", 2): "_upsample_nearest_exact2d",
         ("nearest-exact", 3): "_upsample_nearest_exact3d",
         ("linear", 1): "upsample_linear1d", ("linear", 2): "upsample_bilinear2d",
         ("linear", 3): "upsample_trilinear3d", ("cubic", 2): "upsample_bicubic2d"}


_U8_OK = ("nearest", "bilinear2d", "bicubic2d")
# the CPU kernel a refused dtype is named by (PyTorch's words)
_KERNEL = {"upsample_linear1d": "compute_indices_weights_linear",
           "upsample_trilinear3d": "compute_indices_weights_linear",
           "upsample_bicubic2d": "compute_indices_weights_cubic",
           "upsample_bilinear2d": "upsample_bilinear2d_channels_last",
           "upsample_nearest2d": "upsample_nearest2d_channels_last",
           "_upsample_nearest_exact2d": "upsample_nearest2d_channels_last",
           "upsample_nearest1d": "compute_indices_weights_nearest",
           "upsample_nearest3d": "compute_indices_weights_nearest",
           "_upsample_nearest_exact1d": "compute_indices_weights_nearest",
           "_upsample_nearest_exact3d": "compute_indices_weights_nearest"}


def _check_dtype(name, dt):
    """Floating types; uint8 for the nearest modes, bilinear2d and bicubic2d (PyTorch's
    CPU kernels)."""
    if dt.category != _dt.FLOATING and not (dt is _dt.uint8 and
                                            any(k in name for k in _U8_OK)):
        raise not_implemented(_KERNEL.get(name, name), dt)


def _make(mode, nd):
    name = _ATEN[(mode, nd)]
    ac = mode not in ("nearest", "nearest-exact")
    ac_arg = "bool align_corners, " if ac else ""

    def meta_vec(input, output_size, *rest):
        scale_factors = rest[-1]
        _check_dtype(name, dtype_of(input))
        out, _ = _output_size(name, nd, input.shape, output_size, scale_factors)
        return TensorMeta(input.dtype, tuple(input.shape[:2]) + out, input.device)

    def impl_vec(xp, input, output_size, *rest):
        align_corners = rest[0] if ac else False
        scale_factors = rest[-1]
        _check_dtype(name, dtype_of(input))
        out, scales = _output_size(name, nd, input.shape, output_size, scale_factors)
        return _resample(xp, input, mode, out, align_corners, scales)
    impl_vec.__name__ = impl_vec.__qualname__ = name + "_vec"
    vec = op(f"aten::{name}.vec(Tensor input, SymInt[]? output_size, {ac_arg}"
             f"float[]? scale_factors) -> Tensor", tags=_NN, method=False, function=False,
             meta=meta_vec,
             dtypes=_FLOATS_U8 if not ac or nd == 2 else _dt.FLOATING_TYPES)(impl_vec)

    scale_args = ", ".join(f"float? scales_{d.lower()}=None" for d in _DIMS[3 - nd:])

    def explicit(xp_or_meta, input, output_size, rest):
        align_corners = rest[0] if ac else False
        sc = tuple(rest[1:] if ac else rest)
        sc = sc + (None,) * (nd - len(sc))
        out, _ = _output_size(name, nd, input.shape, output_size, None, vec=False)
        return out, align_corners, sc

    def meta(input, output_size, *rest):
        _check_dtype(name, dtype_of(input))
        out = explicit(None, input, output_size, rest)[0]
        return TensorMeta(input.dtype, tuple(input.shape[:2]) + out, input.device)

    def impl(xp, input, output_size, *rest):
        _check_dtype(name, dtype_of(input))
        out, align_corners, sc = explicit(xp, input, output_size, rest)
        return _resample(xp, input, mode, out, align_corners, sc)
    impl.__name__ = impl.__qualname__ = name
    plain = op(f"aten::{name}(Tensor self, SymInt[{nd}] output_size, {ac_arg}{scale_args}) "
               f"-> Tensor", tags=_NN, method=False, function=False, meta=meta,
               dtypes=_FLOATS_U8 if not ac or nd == 2 else _dt.FLOATING_TYPES)(impl)

    def vec_grad(grad, **kw):
        out, scales = _output_size(name, nd, kw["input_shape"], kw["output_size"],
                                   kw["scale_factors"])
        return _backward(grad, kw["input_shape"], mode, out, kw.get("align_corners", False),
                         scales)

    def plain_grad(grad, **kw):
        shape = kw["self_shape"]
        out = _output_size(name, nd, shape, kw["output_size"], None, vec=False)[0]
        sc = tuple(kw[f"scales_{d.lower()}"] for d in _DIMS[3 - nd:])
        return _backward(grad, shape, mode, out, kw.get("align_corners", False), sc)
    for fn, first, d in ((vec_grad, "input", vec), (plain_grad, "self", plain)):
        names = ["grad"] + [first + "_shape" if a.name == first else a.name
                            for a in d.op.schema.arguments]
        fn.__signature__ = inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
        _derivative(d, wrt=(first,))(fn)
    return vec, plain


def _backward(grad, in_shape, mode, out, align_corners, scales):
    import gpujit
    g = grad
    nd = len(out)
    for d in range(nd):
        axis = 2 + d
        m = _matrix(mode, in_shape[axis], out[d], align_corners, scales[d])
        mt = gpujit.tensor(m, dtype=grad.dtype, device=grad.device)
        g = g.movedim(axis, -1).matmul(mt).movedim(-1, axis)
    return g


UPSAMPLE = {key: _make(*key) for key in _ATEN}


# ---------------------------------------------------------------------- antialias
# F.interpolate(..., antialias=True): aten::_upsample_{bilinear,bicubic,lanczos}2d_aa, ATen's
# separable PIL-style resampling (UpSampleKernel.cpp's _compute_indices_min_size_weights_aa).
# Along one dim output i is centred at center = scale * (i + 0.5) (align_corners only
# changes the scale, to (in - 1) / (out - 1)); when downscaling (scale >= 1) the filter is
# stretched by scale: support = interp_size / 2 * scale, taps [xmin, xmin + xsize) with
# xmin = trunc(center - support + 0.5) clipped at 0 and the window end at the input's, weights
# filter((j + xmin - center + 0.5) / scale) normalised to sum 1 per output. Filters: the
# triangle (bilinear), Keys' cubic with a = -0.5 (bicubic, PIL's), Lanczos-3 (lanczos).
# Float inputs compute the geometry in their own dtype with C++'s promotions (float32 math,
# double where C++ mixes in a double literal) and sum the taps in order; uint8 uses the same
# weights in double quantized as the non-antialiased uint8 kernel. Like ATen's separable
# kernel, the forward passes (the last dim first) skip a dim whose size is unchanged; the
# backward (ATen's cpu_upsample_genNd_backward_aa) is the transposed weight map of every dim.

_AA_SIZE = {"bilinear": 2, "bicubic": 4, "lanczos": 6}


def _fma(a, b, c):
    """a * b + c rounded once for float32 (exact in double, then rounded); float64's two
    roundings are at most an ulp off."""
    if np.result_type(a, b, c) == np.float32:
        return (np.asarray(a, np.float64) * np.asarray(b, np.float64)
                + np.asarray(c, np.float64)).astype(np.float32)
    return a * b + c


def _aa_filter(mode, x):
    """ATen's aa_filter of |x| (x an array in the weights' dtype)."""
    t = x.dtype.type
    x = np.abs(x)
    if mode == "bilinear":
        return np.where(x < t(1), t(1) - x, t(0)).astype(x.dtype)
    if mode == "bicubic":
        # (x86 builds contract these polynomials' multiply-adds into FMAs: emulated)
        a = t(-0.5)
        c1 = _fma(_fma(a + t(2), x, -(a + t(3))) * x, x, t(1))
        c2 = _fma(_fma(_fma(a, x, -(t(5) * a)), x, t(8) * a), x, -(t(4) * a))
        return np.where(x < t(1), c1, np.where(x < t(2), c2, t(0))).astype(x.dtype)
    # lanczos-3: sinc(x) * sinc(x / 3) on [0, 3) (computed in double, as PIL's)
    xd = x.astype(np.float64)

    def sinc(v):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(v == 0.0, 1.0, np.sin(v * np.pi) / (v * np.pi))
    return np.where(xd < 3.0, sinc(xd) * sinc(xd / 3.0), 0.0).astype(x.dtype)


def _aa_scale(n_in, n_out, align_corners, scale, ct):
    """area_pixel_compute_scale<ct>: a ct scalar computed as C++ does."""
    t = ct.type
    if align_corners:
        return t(t(n_in - 1) / t(n_out - 1)) if n_out > 1 else t(0)
    if scale is not None and scale > 0:
        return t(1.0 / scale)
    return t(t(n_in) / t(n_out))


def _aa_taps(mode, n_in, n_out, align_corners, scale, ct):
    """(xmin (n_out,), xsize (n_out,), weights (n_out, K) of dtype ct, zero past xsize)."""
    ct = np.dtype(ct)
    t = ct.type
    interp = _AA_SIZE[mode]
    sc = _aa_scale(n_in, n_out, align_corners, scale, ct)
    down = float(sc) >= 1.0
    support = t(interp * 0.5 * float(sc)) if down else t(interp * 0.5)
    k = int(math.ceil(float(support))) * 2 + 1
    invscale = t(1.0 / float(sc)) if down else t(1.0)
    i = np.arange(n_out, dtype=np.float64)
    center = (float(sc) * (i + 0.5)).astype(ct)
    lo = (center - support).astype(np.float64) + 0.5
    hi = (center + support).astype(np.float64) + 0.5
    xmin = np.maximum(np.trunc(lo), 0).astype(np.int64)
    xsize = np.clip(np.minimum(np.trunc(hi).astype(np.int64), n_in) - xmin, 0, k)
    w = np.zeros((n_out, k), ct)
    tot = np.zeros(n_out, ct)
    for j in range(k):
        arg = ((j + xmin).astype(ct) - center).astype(np.float64) + 0.5
        wj = _aa_filter(mode, (arg * float(invscale)).astype(ct))
        wj = np.where(j < xsize, wj, t(0)).astype(ct)
        w[:, j] = wj
        tot = (tot + wj).astype(ct)
    nz = tot != 0
    w = np.where(nz[:, None], w / np.where(nz, tot, t(1))[:, None], w).astype(ct)
    return xmin, xsize, w


def _aa_matrix(mode, n_in, n_out, align_corners, scale, ct):
    """The (n_out, n_in) float64 matrix of one dim's antialiased resampling."""
    xmin, xsize, w = _aa_taps(mode, n_in, n_out, align_corners, scale, ct)
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    for j in range(w.shape[1]):
        keep = j < xsize
        np.add.at(m, (rows[keep], (xmin + j)[keep]), w[keep, j].astype(np.float64))
    return m


def _resample_aa(xp, x, mode, out, align_corners, scales):
    if tuple(x.shape[2:]) == tuple(out):
        return _mf.suggest_layout(xp, xp.ascontiguousarray(x).copy(), x)
    u8 = x.dtype == np.uint8
    y = x
    for d in reversed(range(len(out))):
        axis = 2 + d
        n_in = y.shape[axis]
        if n_in == out[d]:
            continue
        if u8:
            xmin, xsize, w = _aa_taps(mode, n_in, out[d], align_corners, scales[d],
                                      np.float64)
            wi, p = _quantize(w)
            yt = xp.moveaxis(y, axis, -1).astype(np.int64)
            acc = xp.full(yt.shape[:-1] + (out[d],), 1 << (p - 1), dtype=np.int64)
            for j in range(wi.shape[1]):
                if not (j < xsize).any():
                    break
                idx = xp.asarray(np.minimum(xmin + j, n_in - 1))
                acc += xp.take(yt, idx, axis=-1) * xp.asarray(wi[:, j])
            y = xp.moveaxis(xp.clip(acc >> p, 0, 255).astype(np.uint8), -1, axis)
            continue
        ct = y.dtype
        xmin, xsize, w = _aa_taps(mode, n_in, out[d], align_corners, scales[d], ct)
        yt = xp.moveaxis(y, axis, -1)
        acc = None
        for j in range(w.shape[1]):
            keep = j < xsize
            if acc is not None and not keep.any():
                break
            idx = xp.asarray(np.minimum(xmin + j, n_in - 1))
            term = xp.take(yt, idx, axis=-1) * xp.asarray(w[:, j])
            acc = term if acc is None else acc + xp.where(xp.asarray(keep), term, ct.type(0))
        y = xp.moveaxis(acc.astype(ct), -1, axis)
    return _mf.suggest_layout(xp, xp.ascontiguousarray(y), x)


def _check_aa(dt):
    """The CPU kernels' dtypes (float32, float64, uint8)."""
    if not (dt in (_dt.float32, _dt.float64) or dt is _dt.uint8):
        raise not_implemented("compute_index_ranges_weights", dt)


def _make_aa(mode):
    name = f"_upsample_{mode}2d_aa"

    def meta_vec(input, output_size, align_corners, scale_factors):
        out, _ = _output_size(name, 2, input.shape, output_size, scale_factors)
        _check_aa(dtype_of(input))
        return TensorMeta(input.dtype, tuple(input.shape[:2]) + out, input.device)

    def impl_vec(xp, input, output_size, align_corners, scale_factors):
        out, scales = _output_size(name, 2, input.shape, output_size, scale_factors)
        _check_aa(dtype_of(input))
        return _resample_aa(xp, input, mode, out, align_corners, scales)
    impl_vec.__name__ = impl_vec.__qualname__ = name + "_vec"
    vec = op(f"aten::{name}.vec(Tensor input, SymInt[]? output_size, bool align_corners, "
             f"float[]? scale_factors) -> Tensor", tags=_NN, method=False, function=False,
             meta=meta_vec, dtypes=_FLOATS_U8)(impl_vec)

    def explicit(input, output_size):
        return _output_size(name, 2, input.shape, output_size, None, vec=False)[0]

    def meta(input, output_size, align_corners, scales_h=None, scales_w=None):
        out = explicit(input, output_size)
        _check_aa(dtype_of(input))
        return TensorMeta(input.dtype, tuple(input.shape[:2]) + out, input.device)

    def impl(xp, input, output_size, align_corners, scales_h=None, scales_w=None):
        out = explicit(input, output_size)
        _check_aa(dtype_of(input))
        return _resample_aa(xp, input, mode, out, align_corners, (scales_h, scales_w))
    impl.__name__ = impl.__qualname__ = name
    plain = op(f"aten::{name}(Tensor self, SymInt[2] output_size, bool align_corners, "
               f"float? scales_h=None, float? scales_w=None) -> Tensor", tags=_NN,
               method=False, function=False, meta=meta, dtypes=_FLOATS_U8)(impl)

    @_derivative(vec, wrt=("input",))
    def vec_grad(grad, input_shape, output_size, align_corners, scale_factors):
        out, scales = _output_size(name, 2, input_shape, output_size, scale_factors)
        return _backward_aa(grad, input_shape, mode, out, align_corners, scales)

    @_derivative(plain, wrt=("self",))
    def plain_grad(grad, self_shape, output_size, align_corners, scales_h=None,
                   scales_w=None):
        out = _output_size(name, 2, self_shape, output_size, None, vec=False)[0]
        return _backward_aa(grad, self_shape, mode, out, align_corners, (scales_h, scales_w))
    return vec, plain


def _backward_aa(grad, in_shape, mode, out, align_corners, scales):
    import gpujit
    g = grad
    ct = np.float64 if grad.dtype == gpujit.float64 else np.float32
    for d in range(len(out)):
        axis = 2 + d
        m = _aa_matrix(mode, in_shape[axis], out[d], align_corners, scales[d], ct)
        mt = gpujit.tensor(m, dtype=grad.dtype, device=grad.device)
        g = g.movedim(axis, -1).matmul(mt).movedim(-1, axis)
    return g


UPSAMPLE_AA = {mode: _make_aa(mode) for mode in _AA_SIZE}


# ---------------------------------------------------------------------- pixel (un)shuffle
# (N..., C*r*r, H, W) <-> (N..., C, H*r, W*r): a reshape, a permutation and a reshape.

def _shuffle_shape(name, shape, r, up):
    what = "upscale_factor" if up else "downscale_factor"
    if len(shape) < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got "
                           f"input with {len(shape)} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {r}")
    c, h, w = shape[-3:]
    if up:
        if c % (r * r):
            raise RuntimeError(f"{name} expects its input's 'channel' dimension to be "
                               f"divisible by the square of upscale_factor, but "
                               f"input.size(-3)={c} is not divisible by {r * r}")
        return tuple(shape[:-3]) + (c // (r * r), h * r, w * r)
    if h % r:
        raise RuntimeError(f"{name} expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"{name} expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    if 0 in shape:      # PyTorch returns a 0-size input's clone, its shape unchanged
        return tuple(shape)
    return tuple(shape[:-3]) + (c * r * r, h // r, w // r)


def _shuffle(xp, x, r, up):
    lead = x.shape[:-3]
    c, h, w = x.shape[-3:]
    k = len(lead)
    if up:
        oc = c // (r * r)
        y = x.reshape(lead + (oc, r, r, h, w))
        y = y.transpose(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
        # (a copy always: ascontiguousarray hands back x's memory when the shuffle moves
        # nothing, r = 1, and PyTorch's result is a new tensor)
        return y.copy(order="C").reshape(lead + (oc, h * r, w * r))
    y = x.reshape(lead + (c, h // r, r, w // r, r))
    y = y.transpose(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return y.copy(order="C").reshape(lead + (c * r * r, h // r, w // r))


@op("aten::pixel_shuffle(Tensor self, int upscale_factor) -> Tensor", tags=_NN,
    method=False, functional=True,
    meta=lambda self, upscale_factor: TensorMeta(
        self.dtype, _shuffle_shape("pixel_shuffle", self.shape, upscale_factor, True),
        self.device))
def pixel_shuffle(xp, self, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    _shuffle_shape("pixel_shuffle", self.shape, upscale_factor, True)
    return _shuffle(xp, self, upscale_factor, True)


@op("aten::pixel_unshuffle(Tensor self, int downscale_factor) -> Tensor", tags=_NN,
    method=False, functional=True,
    meta=lambda self, downscale_factor: TensorMeta(
        self.dtype, _shuffle_shape("pixel_unshuffle", self.shape, downscale_factor, False),
        self.device))
def pixel_unshuffle(xp, self, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    if _shuffle_shape("pixel_unshuffle", self.shape, downscale_factor, False) == self.shape:
        return self.copy()          # 0-size (or r == 1): PyTorch's clone
    return _shuffle(xp, self, downscale_factor, False)


@_derivative(pixel_shuffle)
def _pixel_shuffle_grad(grad, upscale_factor):
    return pixel_unshuffle.op.public(grad, upscale_factor)


@_derivative(pixel_unshuffle)
def _pixel_unshuffle_grad(grad, downscale_factor):
    if grad.numel() == 0:           # the forward kept a 0-size input's shape
        return grad
    return pixel_shuffle.op.public(grad, downscale_factor)
