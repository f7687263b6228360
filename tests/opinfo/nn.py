"""OpInfos of the nn family (gpujit/ops/nn*.py): convolution, pooling,
normalization, dropout, embedding, one_hot, pad. References are direct loops over output
positions (tiny sizes) or plain NumPy formulas, written from PyTorch's documented
semantics, independent of the vectorized implementations. Losses: opinfo/nn_loss.py."""
from __future__ import annotations

import itertools

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, positive

F16, F32, F64 = np.float16, np.float32, np.float64
HALF_TOL = dict(rtol=1e-2, atol=1e-2)


def pair(v):
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v))
    v = tuple(v)
    return v * 2 if len(v) == 1 else v


# ---------------------------------------------------------------------- convolution

def ref_conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    b = bias
    batched = x.ndim == 4
    x = x if batched else x[None]
    sh, sw = pair(stride)
    dh, dw = pair(dilation)
    o_ch, cg, kh, kw = w.shape
    if padding == "valid":
        pads = ((0, 0), (0, 0))
    elif padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = ((th // 2, th - th // 2), (tw // 2, tw - tw // 2))
    else:
        ph, pw = pair(padding)
        pads = ((ph, ph), (pw, pw))
    xp = np.pad(x, ((0, 0), (0, 0)) + pads)
    n, _, hh, ww = xp.shape
    oh = (hh - dh * (kh - 1) - 1) // sh + 1
    ow = (ww - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o_ch, oh, ow))
    per_group = o_ch // groups
    for bi in range(n):
        for o in range(o_ch):
            g = o // per_group
            for i in range(oh):
                for j in range(ow):
                    patch = xp[bi, g * cg:(g + 1) * cg,
                               i * sh:i * sh + dh * (kh - 1) + 1:dh,
                               j * sw:j * sw + dw * (kw - 1) + 1:dw]
                    out[bi, o, i, j] = (patch * w[o]).sum() + (0 if b is None else b[o])
    return out if batched else out[0]


def ref_conv1d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    def two(v, lead):
        return v if isinstance(v, str) else (lead, v if isinstance(v, int) else v[0])
    r = ref_conv2d(x[..., None, :], w[:, :, None, :], bias, two(stride, 1), two(padding, 0),
                   two(dilation, 1), groups)
    return r[..., 0, :]


def _conv2d_samples():
    # small ones first (gradcheck takes the first few): stride with rows the output does
    # not reach, padding wider than the kernel, dilation, groups, unbatched
    out = [Sample(rand(1, 2, 5, 4, dtype=F64), rand(2, 2, 2, 3, dtype=F64), rand(2, dtype=F64),
                  (2, 1), (1, 2), (1, 2)),
           Sample(rand(1, 4, 3, 5, dtype=F64), rand(2, 2, 2, 2, dtype=F64), None, (2, 3),
                  (1, 0), (1, 2), 2),
           Sample(rand(2, 4, 4, dtype=F64), rand(3, 2, 3, 3, dtype=F64), rand(3, dtype=F64),
                  1, 1)]
    for d in (F32, F64):
        x, w, b = rand(2, 3, 6, 7, dtype=d), rand(4, 3, 3, 2, dtype=d), rand(4, dtype=d)
        out += [Sample(x, w), Sample(x, w, b), Sample(x, w, b, 2, 1),
                Sample(x, w, b, (2, 1), (1, 0), (2, 1)),
                Sample(x, w, bias=b, stride=[1, 2], padding=[2, 1], dilation=2)]
    x = rand(2, 4, 5, 5, dtype=F32)
    out += [Sample(x, rand(6, 2, 3, 3, dtype=F32), rand(6, dtype=F32), 1, 1, 1, 2),
            Sample(x, rand(4, 1, 3, 3, dtype=F32), None, 1, 1, 1, 4),      # depthwise
            Sample(x, rand(8, 1, 2, 2, dtype=F32), None, 2, 0, 1, 4),      # multiplier 2
            Sample(rand(4, 5, 5, dtype=F32), rand(3, 4, 3, 3, dtype=F32)),  # unbatched
            Sample(rand(0, 3, 4, 4, dtype=F32), rand(2, 3, 3, 3, dtype=F32)),  # empty batch
            Sample(rand(1, 3, 4, 4, dtype=F32), rand(2, 3, 4, 4, dtype=F32)),  # 1x1 output
            Sample(rand(1, 2, 4, 4, dtype=F32), rand(3, 2, 1, 1, dtype=F32), groups=1),
            Sample(rand(2, 3, 5, 5, dtype=F16), rand(2, 3, 3, 3, dtype=F16),
                   rand(2, dtype=F16), padding=1).tol(**HALF_TOL)]
    return out


def _conv2d_errors():
    x, w = rand(1, 4, 5, 5, dtype=F32), rand(8, 3, 3, 3, dtype=F32)
    return [
        ErrorSample(x, w, match=r"Given groups=1, weight of size \[8, 3, 3, 3\], expected "
                    r"input\[1, 4, 5, 5\] to have 3 channels, but got 4 channels instead"),
        ErrorSample(rand(4, 5, 5, dtype=F32), w, match=r"expected input\[1, 4, 5, 5\] to "
                    r"have 3 channels"),
        ErrorSample(rand(5, 5, dtype=F32), w, match=r"Expected 3D \(unbatched\) or 4D "
                    r"\(batched\) input to conv2d, but got input of size: \[5, 5\]"),
        ErrorSample(rand(1, 3, 2, 2, dtype=F32), w, match=r"Calculated padded input size per "
                    r"channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel size can't be greater"),
        ErrorSample(rand(1, 3, 5, 5, dtype=F32), w, rand(7, dtype=F32), match=r"expected bias "
                    r"to be 1-dimensional with 8 elements, but got bias of size \[7\]"),
        ErrorSample(rand(1, 6, 5, 5, dtype=F32), rand(3, 3, 3, 3, dtype=F32), groups=2,
                    match=r"Given groups=2, expected weight to be divisible by 2 at dimension"),
        ErrorSample(rand(1, 3, 5, 5, dtype=F32), w, stride=0,
                    match="non-positive stride is not supported"),
        ErrorSample(rand(1, 3, 5, 5, dtype=F32), w, padding=-1,
                    match="negative padding is not supported"),
        ErrorSample(rand(1, 3, 5, 5, dtype=F32), w, stride=(1, 1, 1), match=r"expected stride "
                    r"to be a single integer value or a list of 2 values"),
        # (torch 2.13's slow CPU kernel, then its mkldnn check for a float32 batch > 1; with
        # a bias of another dtype conv2d's own check, in TypeMeta names)
        ErrorSample(rand(1, 3, 5, 5, dtype=F64), w, match=r"^expected scalar type Double but "
                    r"found Float$"),
        ErrorSample(rand(2, 3, 5, 5, dtype=F32), w.astype(F64), match=r"^Input type \(torch."
                    r"FloatTensor\) and weight type \(torch.DoubleTensor\) should be the same "
                    r"or input should be a MKLDNN tensor and weight is a dense tensor$"),
        ErrorSample(rand(1, 3, 5, 5, dtype=F64), w.astype(F64), rand(8, dtype=F32),
                    match=r"^Input type \(double\) and bias type \(float\) should be the same$"),
        # (PyTorch 2.13's CPU convolutions take integers, not bool; dilated ones int64
        # only: corrected in s27)
        ErrorSample(rand(1, 3, 5, 5) > 0, rand(8, 3, 3, 3) > 0,
                    match=r"\"slow_conv2d_cpu\" not implemented for 'Bool'"),
        ErrorSample(rand(1, 3, 5, 5, dtype=np.int32), rand(8, 3, 3, 3, dtype=np.int32),
                    dilation=2, match=r"\"slow_conv_dilated<>\" not implemented for 'Int'"),
    ]


def _conv2d_padding_samples():
    out = [Sample(rand(1, 2, 4, 5, dtype=F64), rand(2, 2, 2, 4, dtype=F64), None, 1, "same",
                  (2, 1)),                                                # asymmetric, small
           Sample(rand(1, 2, 5, 5, dtype=F64), rand(1, 2, 3, 3, dtype=F64), rand(1, dtype=F64),
                  2, "valid"),
           Sample(rand(2, 4, 4, dtype=F64), rand(2, 1, 3, 3, dtype=F64), padding="same",
                  groups=2)]
    for d in (F32, F64):
        x = rand(2, 3, 6, 5, dtype=d)
        out += [Sample(x, rand(4, 3, 3, 3, dtype=d), rand(4, dtype=d), 1, "same"),
                Sample(x, rand(4, 3, 2, 4, dtype=d), None, 1, "same", (2, 1)),   # asymmetric
                Sample(x, rand(4, 3, 3, 3, dtype=d), padding="valid", stride=2),
                Sample(rand(3, 6, 5, dtype=d), rand(6, 1, 3, 3, dtype=d), padding="same",
                       groups=3)]
    return out


def _conv1d_samples():
    out = []
    for d in (F32, F64):
        x, w, b = rand(2, 3, 9, dtype=d), rand(4, 3, 3, dtype=d), rand(4, dtype=d)
        out += [Sample(x, w), Sample(x, w, b, 2, 1), Sample(x, w, b, [1], [2], [3]),
                Sample(rand(2, 4, 7, dtype=d), rand(6, 2, 2, dtype=d), None, 1, 0, 2, 2)]
    out += [Sample(rand(3, 8, dtype=F32), rand(2, 3, 3, dtype=F32)),
            Sample(rand(2, 3, 8, dtype=F16), rand(2, 3, 3, dtype=F16)).tol(**HALF_TOL)]
    return out


def _conv1d_padding_samples():
    x = rand(2, 3, 9, dtype=F32)
    return [Sample(x, rand(4, 3, 4, dtype=F32), None, 1, "same"),
            Sample(x, rand(4, 3, 3, dtype=F32), rand(4, dtype=F32), 1, "same", 3),
            Sample(rand(2, 3, 9, dtype=F64), rand(4, 3, 3, dtype=F64), padding="valid",
                   stride=2)]


def _conv1d_errors():
    return [ErrorSample(rand(1, 4, 5, dtype=F32), rand(2, 3, 3, dtype=F32),
                        match=r"Given groups=1, weight of size \[2, 3, 3\], expected "
                              r"input\[1, 4, 5\] to have 3 channels, but got 4"),
            ErrorSample(rand(2, 1, 4, 5, dtype=F32), rand(2, 1, 3, dtype=F32),
                        match=r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d")]


# ---------------------------------------------------------------------- pooling

def _pool_size(n, k, p, s, d, ceil_mode):
    eff = n + 2 * p - d * (k - 1) - 1
    out = (-(-eff // s) if ceil_mode else eff // s) + 1
    # with ceil_mode, a window may not start inside the right padding
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_params(kernel_size, stride, padding, dilation):
    k = pair(kernel_size)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else pair(stride)
    return k, s, pair(padding), pair(dilation)


def ref_max_pool2d(x, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False,
                   with_indices=False):
    k, s, p, d = _pool_params(kernel_size, stride, padding, dilation)
    batched = x.ndim == 4
    x = x if batched else x[None]
    n, c, h, w = x.shape
    oh = _pool_size(h, k[0], p[0], s[0], d[0], ceil_mode)
    ow = _pool_size(w, k[1], p[1], s[1], d[1], ceil_mode)
    vals = np.zeros((n, c, oh, ow), x.dtype)
    idx = np.zeros((n, c, oh, ow), np.int64)
    for b in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    # the first maximum in scan order, a NaN beats anything (the last
                    # NaN wins); all -inf: the first in-bounds position
                    best, at = -np.inf, None
                    for a in range(k[0]):
                        for e in range(k[1]):
                            hh, ww = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + e * d[1]
                            if not (0 <= hh < h and 0 <= ww < w):
                                continue
                            if at is None:
                                at = hh * w + ww
                            v = x[b, ch, hh, ww]
                            if v > best or np.isnan(v):
                                best, at = v, hh * w + ww
                    vals[b, ch, i, j], idx[b, ch, i, j] = best, at
    if not batched:
        vals, idx = vals[0], idx[0]
    return (vals, idx) if with_indices else vals


def _max_pool_samples():
    # small tie-free ones first for gradcheck (the ties / all -inf samples below have no
    # derivative: finite differences there see a kink)
    out = [Sample(rand(1, 2, 5, 6, dtype=F64), 2),
           Sample(rand(1, 1, 7, 7, dtype=F64), 3, 2, 1, 2, True),
           Sample(rand(2, 4, 5, dtype=F64), (2, 3), 1, (1, 1))]         # overlapping windows
    for d in (F32, F64, F16, np.int64, np.int32, np.uint8):
        out.append(Sample(rand(2, 3, 6, 6, dtype=d, low=-50, high=50), 2))
    x = rand(2, 2, 7, 8, dtype=F32)
    nan = x.copy()
    nan[0, 0, 1, 1] = nan[0, 0, 0, 0] = nan[1, 1, 4, 5] = np.nan
    ties = np.zeros((1, 2, 5, 5), F32)
    ties[0, 1, 2:4, 1:4] = 1
    ninf = np.full((1, 1, 4, 4), -np.inf, F32)
    out += [Sample(x, 3), Sample(x, (3, 2), (2, 1)), Sample(x, 3, 2, 1),
            Sample(x, [3, 3], [1, 2], [1, 0], [2, 1]),
            Sample(x, 3, 2, 1, ceil_mode=True), Sample(x, 2, 3, 0, 1, True),
            Sample(x, 3, stride=2, padding=1, dilation=2, ceil_mode=True),
            Sample(x, kernel_size=2, stride=[]), Sample(nan, 2), Sample(nan, 3, 1, 1),
            Sample(ties, 2, 1), Sample(ties, 3, 2, 1, ceil_mode=True),
            Sample(ninf, 3, 2, 1), Sample(ninf, 2, 1, 1, 2),
            Sample(rand(3, 5, 5, dtype=F32), 2),                      # unbatched
            Sample(rand(0, 2, 4, 4, dtype=F32), 2)]                   # empty batch
    return out


def _pool_errors(name):
    x = rand(1, 2, 4, 4, dtype=F32)
    out = [ErrorSample(x, 3, 1, 2, match=r"pad should be at most half of effective kernel "
                       r"size, but got pad=2, kernel_size=3 and dilation=1"),
           ErrorSample(rand(1, 2, 2, 2, dtype=F32), 3, match=r"Given input size: \(2x2x2\). "
                       r"Calculated output size: \(2x0x0\). Output size is too small"),
           # (torch 2.13: pooling_output_shape's stride check first; a kernel of 0 is
           # also the default stride)
           ErrorSample(x, 0, match="^stride should not be zero$"),
           ErrorSample(x, 0, 1, match="kernel size should be greater than zero"),
           ErrorSample(x, 2, 0, match="^stride should not be zero$"),
           ErrorSample(x, 2, -1, match="stride should be greater than zero"),
           ErrorSample(rand(4, 4, dtype=F32), 2, match=r"Expected 3D or 4D \(batch mode\) "
                       r"tensor with optional 0 dim batch size for input"),
           ErrorSample(x, (2, 2, 2), match=f"{name}: kernel_size must either be a single "
                       f"int, or a tuple of two ints")]
    if name == "max_pool2d":
        out.append(ErrorSample(x > 0, 2, match=r"\"max_pool2d\" not implemented for 'Bool'"))
    return out


def ref_avg_pool2d(x, kernel_size, stride=(), padding=0, ceil_mode=False,
                   count_include_pad=True, divisor_override=None):
    k, s, p, _ = _pool_params(kernel_size, stride, padding, 1)
    batched = x.ndim == 4
    x = x if batched else x[None]
    n, c, h, w = x.shape
    oh = _pool_size(h, k[0], p[0], s[0], 1, ceil_mode)
    ow = _pool_size(w, k[1], p[1], s[1], 1, ceil_mode)
    out = np.zeros((n, c, oh, ow), np.float64 if x.dtype.kind == "f" else np.int64)
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
            h1, w1 = min(h0 + k[0], h + p[0]), min(w0 + k[1], w + p[1])
            window = (h1 - h0) * (w1 - w0)          # counts padding, not past it
            hs, ws, he, we = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
            total = x[:, :, hs:he, ws:we].sum(axis=(2, 3))
            div = divisor_override or (window if count_include_pad
                                       else (he - hs) * (we - ws))
            if x.dtype.kind == "f":
                out[:, :, i, j] = total / div
            else:
                out[:, :, i, j] = np.trunc(total / div)
    return out if batched else out[0]


def _avg_pool_samples():
    out = [Sample(rand(1, 2, 5, 6, dtype=F64), 3, 2, 1, True, False),     # small first
           Sample(rand(1, 1, 7, 5, dtype=F64), (3, 2), (2, 3), (1, 1), True, True),
           Sample(rand(2, 5, 4, dtype=F64), 2, 1, 1, False, True, 3)]
    for d in (F32, F64, F16):
        out.append(Sample(rand(2, 3, 6, 6, dtype=d), 2))
    x = rand(2, 2, 7, 8, dtype=F32)
    out += [Sample(x, 3), Sample(x, (3, 2), (2, 1)), Sample(x, 3, 2, 1),
            Sample(x, 3, 2, 1, count_include_pad=False),
            Sample(x, 3, 2, 1, True), Sample(x, 3, 2, 1, True, False),
            Sample(x, (2, 3), (3, 2), (1, 1), True, True),
            Sample(x, 2, None, 1, divisor_override=3),
            Sample(x, 3, stride=2, padding=1, ceil_mode=True, divisor_override=2),
            Sample(rand(3, 5, 5, dtype=F32), 2),
            Sample(rand(0, 2, 4, 4, dtype=F32), 2),
            Sample(rand(1, 2, 5, 5, dtype=np.int64, low=-20, high=20), 2, 2, 1)]
    return out


def ref_adaptive_avg_pool2d(x, output_size):
    osz = pair(output_size)
    h, w = x.shape[-2:]
    oh, ow = (h if osz[0] is None else osz[0]), (w if osz[1] is None else osz[1])
    out = np.zeros(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        hs, he = (i * h) // oh, -(-((i + 1) * h) // oh)
        for j in range(ow):
            ws, we = (j * w) // ow, -(-((j + 1) * w) // ow)
            out[..., i, j] = x[..., hs:he, ws:we].mean(axis=(-2, -1))
    return out


def _adaptive_samples():
    out = [Sample(rand(1, 2, 7, 5, dtype=F64), (3, 4)),                   # small first
           Sample(rand(2, 5, 3, dtype=F64), (None, 2)), Sample(rand(1, 1, 3, 4), (5, 7))]
    out += [Sample(rand(2, 3, 8, 8, dtype=d), (2, 2)) for d in (F32, F64, F16)]
    x = rand(2, 3, 7, 10, dtype=F32)
    out += [Sample(x, 1), Sample(x, (3, 4)), Sample(x, [5, 3]), Sample(x, (7, 10)),
            Sample(x, (14, 13)), Sample(x, (None, 3)), Sample(x, (4, None)),
            Sample(rand(3, 5, 6, dtype=F32), 3), Sample(rand(0, 2, 4, 4, dtype=F32), 2)]
    return out


def _adaptive_errors():
    return [ErrorSample(rand(2, 3, dtype=F32), 2, match=r"adaptive_avg_pool2d\(\): Expected "
                        r"3D or 4D tensor, but got \[2, 3\]"),
            # (torch 2.13 checks the spatial dims only: rand(1, 0, 3, 3) pools to [1, 0, 2, 2])
            ErrorSample(rand(1, 2, 0, 3, dtype=F32), 2, match=r"non-zero size for non-batch "
                        r"dimensions, but input has sizes \[1, 2, 0, 3\] with dimension 2"),
            ErrorSample(rand(1, 2, 3, 3, dtype=F32), (1, 2, 3),
                        match="output_size must be 2"),
            ErrorSample(rand(1, 2, 3, 3, dtype=np.int64), 2,
                        match=r"\"adaptive_avg_pool2d\" not implemented for 'Long'")]


def _ref_bilinear(x1, x2, w, b=None):
    y = np.einsum("...i,oij,...j->...o", x1, w, x2)
    return y if b is None else y + b


BILINEAR = OpInfo("aten::bilinear", ref=_ref_bilinear, samples=lambda: [
    Sample(rand(2, 3), rand(2, 4), rand(5, 3, 4), rand(5)),
    Sample(rand(3), rand(4), rand(2, 3, 4)),
    Sample(rand(2, 3, 3, dtype=np.float64), rand(2, 3, 2, dtype=np.float64),
           rand(4, 3, 2, dtype=np.float64), rand(4, dtype=np.float64))], errors=[
    ErrorSample(rand(2, 3), rand(2, 3), rand(5, 3, 4),
                match="input2 size does not match weight size: got 3 but expected 4"),
    ErrorSample(rand(2, 3), rand(3, 4), rand(5, 3, 4),
                match="input batch dimensions do not match at dim 0: got 2 and 3"),
    ErrorSample(rand(2, 3), rand(2, 4), rand(5, 3, 4, dtype=np.float64),
                match="All tensors must have the same dtype, got input1: float, input2: "
                      "float, weight: double"),
    ErrorSample(rand(2, 3), rand(2, 4), rand(5, 3, 4), rand(4),
                match="bias size does not match weight size: got 4 but expected 5")])


OPINFOS = [BILINEAR, 
    OpInfo("aten::conv2d", samples=_conv2d_samples, ref=ref_conv2d, errors=_conv2d_errors(),
           atol=1e-4, rtol=1e-5),
    OpInfo("aten::conv2d.padding", samples=_conv2d_padding_samples, ref=ref_conv2d,
           atol=1e-4, rtol=1e-5,
           errors=[ErrorSample(rand(1, 3, 5, 5, dtype=F32), rand(2, 3, 3, 3, dtype=F32),
                               None, 2, "same", match="padding='same' is not supported for "
                               "strided convolutions"),
                   ErrorSample(rand(1, 3, 5, 5, dtype=F32), rand(2, 3, 3, 3, dtype=F32),
                               padding="full", match="Invalid padding string: 'full'")]),
    OpInfo("aten::conv1d", samples=_conv1d_samples, ref=ref_conv1d, errors=_conv1d_errors(),
           atol=1e-4, rtol=1e-5),
    OpInfo("aten::conv1d.padding", samples=_conv1d_padding_samples, ref=ref_conv1d,
           atol=1e-4, rtol=1e-5),
    OpInfo("aten::max_pool2d", samples=_max_pool_samples, ref=ref_max_pool2d,
           errors=_pool_errors("max_pool2d")),
    OpInfo("aten::max_pool2d_with_indices", samples=_max_pool_samples,
           ref=lambda *a, **k: ref_max_pool2d(*a, with_indices=True, **k)),
    OpInfo("aten::avg_pool2d", samples=_avg_pool_samples, ref=ref_avg_pool2d,
           errors=_pool_errors("avg_pool2d") + [
               ErrorSample(rand(1, 2, 4, 4, dtype=F32), 2, divisor_override=0,
                           match="divisor must be not zero"),
               ErrorSample(rand(1, 2, 4, 4, dtype=np.int32), 2,
                           match=r"\"avg_pool2d\" not implemented for 'Int'")]),
    OpInfo("aten::adaptive_avg_pool2d", samples=_adaptive_samples,
           ref=ref_adaptive_avg_pool2d, errors=_adaptive_errors()),
]


# ---------------------------------------------------------------------- upsampling
# References loop over output positions and sum the taps of every spatial dim together
# (ATen's index arithmetic: nearest in float32, the source coordinate of linear/cubic from
# align_corners or the scale).

def _up_scale(n_in, n_out, align_corners, scale):
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n_in / n_out


def _up_taps_1d(mode, n_in, n_out, j, align_corners, scale):
    """[(index, weight)] of output position j along one dim."""
    if mode in ("nearest", "nearest-exact"):
        s = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
        off = np.float32(0.5) if mode == "nearest-exact" else np.float32(0)
        if mode == "nearest" and n_out == n_in:
            return [(j, 1.0)]
        if mode == "nearest" and n_out == 2 * n_in:
            return [(j // 2, 1.0)]
        return [(min(int(np.floor((np.float32(j) + off) * s)), n_in - 1), 1.0)]
    s = _up_scale(n_in, n_out, align_corners, scale)
    src = s * j if align_corners else s * (j + 0.5) - 0.5
    if mode == "linear":
        if n_out == n_in and not align_corners:
            return [(j, 1.0)]
        src = max(src, 0.0)
        i0 = min(int(np.floor(src)), n_in - 1)
        lam = min(max(src - i0, 0.0), 1.0)
        return [(i0, 1 - lam), (min(i0 + 1, n_in - 1), lam)]
    a = -0.75
    f = int(np.floor(src))
    t = src - f

    def k(x):       # Keys' cubic convolution kernel
        x = abs(x)
        return ((a + 2) * x - (a + 3)) * x * x + 1 if x <= 1 else \
            ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [(min(max(f - 1 + m, 0), n_in - 1), k(t + 1 - m)) for m in range(4)]


def ref_upsample(mode):
    def ref(x, output_size, *rest):
        align_corners = rest[0] if len(rest) == 2 else False
        scales = rest[-1]
        nd = x.ndim - 2
        if output_size is None:
            out = [int(np.floor(n * s)) for n, s in zip(x.shape[2:], scales)]
        else:
            out = list(output_size)
            scales = [None] * nd
        y = np.zeros(x.shape[:2] + tuple(out))
        for pos in itertools.product(*(range(o) for o in out)):
            taps = [_up_taps_1d(mode, x.shape[2 + d], out[d], pos[d], align_corners, scales[d])
                    for d in range(nd)]
            acc = 0.0
            for combo in itertools.product(*taps):
                w = np.prod([c[1] for c in combo])
                acc = acc + w * x[(Ellipsis,) + tuple(c[0] for c in combo)].astype(np.float64)
            y[(Ellipsis,) + pos] = acc
        if x.dtype == np.uint8:
            return y.astype(np.uint8)
        return y.astype(x.dtype)
    return ref


def _up_samples(nd, ac):
    def samples():
        a = (False,) if ac else ()
        t = (True,) if ac else ()
        out = [Sample(rand(1, 2, *(3,) * nd, dtype=F64), [5] * nd, *a, None),   # small first
               Sample(rand(2, 3, *(4,) * nd, dtype=F32), [7] * nd, *a, None),
               Sample(rand(1, 2, *(5,) * nd, dtype=F32), [3] * nd, *a, None),
               Sample(rand(1, 2, *(4,) * nd, dtype=F64), None, *a, [2.0] * nd),
               Sample(rand(1, 2, *(4,) * nd, dtype=F64), None, *a, [1.7] * nd),
               Sample(rand(1, 2, *(6,) * nd, dtype=F64), None, *a, [0.6] * nd),
               Sample(rand(1, 1, *(3,) * nd, dtype=F64), [3] * nd, *a, None),
               Sample(rand(1, 2, *(4,) * nd, dtype=F16), [6] * nd, *a, None).tol(**HALF_TOL),
               Sample(rand(0, 2, *(3,) * nd, dtype=F32), [4] * nd, *a, None)]
        if ac:
            out += [Sample(rand(1, 2, *(3,) * nd, dtype=F64), [5] * nd, *t, None),
                    Sample(rand(1, 2, *(5,) * nd, dtype=F64), [2] * nd, *t, None),
                    Sample(rand(1, 2, *(4,) * nd, dtype=F64), [1] * nd, *t, None),
                    Sample(rand(1, 2, *(4,) * nd, dtype=F64), None, *t, [1.5] * nd)]
        else:
            out += [Sample(rand(1, 2, *(4,) * nd, dtype=np.uint8), [7] * nd, None)]
        return out
    return samples


# the CPU kernel torch 2.13's error names for a refused dtype
_UP_KERNEL = {"upsample_nearest1d": "compute_indices_weights_nearest",
              "upsample_nearest2d": "upsample_nearest2d_channels_last",
              "upsample_nearest3d": "compute_indices_weights_nearest",
              "_upsample_nearest_exact1d": "compute_indices_weights_nearest",
              "_upsample_nearest_exact2d": "upsample_nearest2d_channels_last",
              "_upsample_nearest_exact3d": "compute_indices_weights_nearest",
              "upsample_linear1d": "compute_indices_weights_linear",
              "upsample_bilinear2d": "upsample_bilinear2d_channels_last",
              "upsample_trilinear3d": "compute_indices_weights_linear",
              "upsample_bicubic2d": "compute_indices_weights_cubic"}


def _up_errors(name, nd, ac):
    a = (False,) if ac else ()
    x = rand(1, 2, *(3,) * nd, dtype=F32)
    return [ErrorSample(x, [4] * nd, *a, [2.0] * nd,
                        match="Must specify exactly one of output_size and scale_factors"),
            ErrorSample(x, None, *a, None,
                        match="Must specify exactly one of output_size and scale_factors"),
            ErrorSample(x, [4] * (nd + 1), *a, None, match="output_size->size"),
            ErrorSample(x, [0] * nd, *a, None,
                        match="Input and output sizes should be greater than 0"),
            ErrorSample(rand(1, 2, *(3,) * nd, dtype=np.int64), [4] * nd, *a, None,
                        exc=RuntimeError, match=f"\"{_UP_KERNEL.get(name, name)}\" not "
                        "implemented for 'Long'")]


def _up_opinfos():
    out = []
    for (mode, nd), name in (
            (("nearest", 1), "upsample_nearest1d"), (("nearest", 2), "upsample_nearest2d"),
            (("nearest", 3), "upsample_nearest3d"),
            (("nearest-exact", 1), "_upsample_nearest_exact1d"),
            (("nearest-exact", 2), "_upsample_nearest_exact2d"),
            (("nearest-exact", 3), "_upsample_nearest_exact3d"),
            (("linear", 1), "upsample_linear1d"), (("linear", 2), "upsample_bilinear2d"),
            (("linear", 3), "upsample_trilinear3d"), (("cubic", 2), "upsample_bicubic2d")):
        ac = "nearest" not in mode
        out.append(OpInfo(f"aten::{name}.vec", samples=_up_samples(nd, ac),
                          ref=ref_upsample(mode), errors=_up_errors(name, nd, ac),
                          atol=1e-5, rtol=1e-5))
        scale_kw = {f"scales_{d}": 0.5 for d in "dhw"[3 - nd:]}

        def plain_samples(nd=nd, ac=ac, scale_kw=scale_kw):
            a = (True,) if ac else ()
            return [Sample(rand(1, 2, *(3,) * nd, dtype=F64), [5] * nd, *a),
                    Sample(rand(1, 2, *(4,) * nd, dtype=F32), [2] * nd, *a, **scale_kw)]

        def plain_ref(x, output_size, *a, mode=mode, nd=nd, **scales):
            sc = [scales.get(f"scales_{d}") for d in "dhw"[3 - nd:]]
            if any(s is not None for s in sc):    # the scales set the source coordinates
                out = ref_upsample(mode)(x, None, *a, sc)
                assert list(out.shape[2:]) == list(output_size)
                return out
            return ref_upsample(mode)(x, output_size, *a, None)
        out.append(OpInfo(f"aten::{name}", samples=plain_samples, ref=plain_ref,
                          atol=1e-5, rtol=1e-5))
    return out


def ref_adaptive_avg_pool(nd):
    def ref(x, output_size):
        osz = (output_size,) * nd if isinstance(output_size, int) else tuple(output_size)
        osz = osz * nd if len(osz) == 1 else osz
        ins = x.shape[-nd:]
        out = [n if o is None else o for n, o in zip(ins, osz)]
        y = np.zeros(x.shape[:-nd] + tuple(out))
        for pos in itertools.product(*(range(o) for o in out)):
            win = tuple(slice((p * n) // o, -(-((p + 1) * n) // o))
                        for p, n, o in zip(pos, ins, out))
            y[(Ellipsis,) + pos] = x[(Ellipsis,) + win].mean(axis=tuple(range(-nd, 0)))
        return y.astype(x.dtype)
    return ref


OPINFOS += _up_opinfos() + [
    OpInfo("aten::adaptive_avg_pool1d", ref=ref_adaptive_avg_pool(1), samples=lambda: [
        Sample(rand(1, 2, 7, dtype=F64), 3), Sample(rand(2, 5, dtype=F32), [4]),
        Sample(rand(2, 3, 6, dtype=F32), 9), Sample(rand(2, 0, 6, dtype=F32), 2),
        Sample(rand(2, 3, 8, dtype=F16), 4).tol(**HALF_TOL)],
        errors=[ErrorSample(rand(2, 3, 4, 5, dtype=F32), 2, match="Expected 2 to 3 dimensions"),
                ErrorSample(rand(2, 3, dtype=np.int64), 2,
                            match=r"\"adaptive_avg_pool2d\" not implemented for 'Long'")]),
    OpInfo("aten::adaptive_avg_pool3d", ref=ref_adaptive_avg_pool(3), samples=lambda: [
        Sample(rand(1, 2, 3, 4, 5, dtype=F64), (2, 3, 2)),
        Sample(rand(2, 3, 4, 5, dtype=F32), (2, None, 3)),
        Sample(rand(1, 2, 4, 4, 4, dtype=F32), 2), Sample(rand(1, 1, 2, 3, 2, dtype=F32), 4)],
        errors=[ErrorSample(rand(2, 5, dtype=F32), 2,
                            match=r"adaptive_avg_pool3d\(\): Expected 4D or 5D tensor, but "
                                  r"got \[2, 5\]"),
                ErrorSample(rand(1, 2, 3, 3, 3, dtype=F32), (2, 3),
                            match="output_size must be 3")]),
]


# ---------------------------------------------------------------------- pixel (un)shuffle

def ref_pixel_shuffle(x, r):
    *lead, c, h, w = x.shape
    out = np.zeros(tuple(lead) + (c // (r * r), h * r, w * r), x.dtype)
    for oc in range(c // (r * r)):
        for i in range(h * r):
            for j in range(w * r):
                out[..., oc, i, j] = x[..., oc * r * r + (i % r) * r + j % r, i // r, j // r]
    return out


def ref_pixel_unshuffle(x, r):
    *lead, c, h, w = x.shape
    out = np.zeros(tuple(lead) + (c * r * r, h // r, w // r), x.dtype)
    for oc in range(c * r * r):
        for i in range(h // r):
            for j in range(w // r):
                out[..., oc, i, j] = x[..., oc // (r * r), i * r + (oc % (r * r)) // r,
                                       j * r + oc % r]
    return out


OPINFOS += [
    OpInfo("aten::pixel_shuffle", ref=ref_pixel_shuffle, samples=lambda: [
        Sample(rand(1, 4, 2, 3, dtype=F64), 2), Sample(rand(3, 2, 8, 2, 2, dtype=F32), 2),
        Sample(rand(9, 2, 2, dtype=np.int64), 3), Sample(rand(1, 4, 2, 2, dtype=np.bool_), 1),
        Sample(rand(0, 4, 1, 1, dtype=F32), 2)],
        errors=[ErrorSample(rand(2, 3, dtype=F32), 2, match="at least 3 dimensions, but got "
                            r"input with 2 dimension\(s\)"),
                ErrorSample(rand(1, 3, 2, 2, dtype=F32), 2, match=r"input.size\(-3\)=3 is "
                            "not divisible by 4"),
                ErrorSample(rand(1, 4, 2, 2, dtype=F32), 0,
                            match="expects a positive upscale_factor, but got 0")]),
    OpInfo("aten::pixel_unshuffle", ref=ref_pixel_unshuffle, samples=lambda: [
        Sample(rand(1, 2, 4, 6, dtype=F64), 2), Sample(rand(2, 1, 3, 6, 3, dtype=F32), 3),
        Sample(rand(3, 4, 2, dtype=np.int32), 2)],
        errors=[ErrorSample(rand(1, 3, 3, 2, dtype=F32), 2, match=r"expects height to be "
                            r"divisible by downscale_factor, but input.size\(-2\)=3"),
                ErrorSample(rand(1, 3, 2, 3, dtype=F32), 2, match=r"expects width to be "
                            r"divisible by downscale_factor, but input.size\(-1\)=3"),
                ErrorSample(rand(1, 3, 2, 2, dtype=F32), -1,
                            match="expects a positive downscale_factor, but got -1")]),
]


# ------------------------------------------------ anti-aliased upsampling (_upsample_*2d_aa)
# ATen's separable aa interpolation (UpSampleKernel.cpp, _compute_indices_min_size_weights_aa):
# per output index i the center scale * (i + 0.5), support interp_size / 2 (times scale when
# downsampling), weights filter((j - center + 0.5) / scale) normalized to sum 1.
def _aa_filter(mode):
    def bilinear(x):
        x = abs(x)
        return 1.0 - x if x < 1.0 else 0.0

    def bicubic(x, a=-0.5):
        x = abs(x)
        if x < 1.0:
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
        if x < 2.0:
            return (((x - 5) * x + 8) * x - 4) * a
        return 0.0

    def lanczos(x, a=3.0):
        if x == 0.0:
            return 1.0
        if -a <= x < a:
            return float(np.sinc(x) * np.sinc(x / a))
        return 0.0
    return {"bilinear": (bilinear, 2), "bicubic": (bicubic, 4), "lanczos": (lanczos, 6)}[mode]


def _aa_matrix(n_in, n_out, align_corners, scale, mode):
    f, interp = _aa_filter(mode)
    if align_corners:
        s = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        s = 1.0 / scale if scale is not None and scale > 0 else n_in / n_out
    support = interp * 0.5 * s if s >= 1.0 else interp * 0.5
    inv = 1.0 / s if s >= 1.0 else 1.0
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        c = s * (i + 0.5)
        lo, hi = max(int(c - support + 0.5), 0), min(int(c + support + 0.5), n_in)
        w = np.array([f((j - c + 0.5) * inv) for j in range(lo, hi)])
        if w.sum() != 0:
            w = w / w.sum()
        m[i, lo:hi] = w
    return m


def _aa_ref(mode):
    def ref(x, output_size, align_corners, scales_h=None, scales_w=None):
        h, w = output_size
        mh = _aa_matrix(x.shape[-2], h, align_corners, scales_h, mode)
        mw = _aa_matrix(x.shape[-1], w, align_corners, scales_w, mode)
        return np.einsum("hi,...ij,wj->...hw", mh, x.astype(np.float64), mw)
    return ref


def _aa_vec_ref(mode):
    def ref(x, output_size, align_corners, scale_factors):
        if output_size is None:
            output_size = [int(np.floor(n * s)) for n, s in zip(x.shape[-2:], scale_factors)]
            sh, sw = scale_factors
        else:
            sh = sw = None
        return _aa_ref(mode)(x, output_size, align_corners, sh, sw)
    return ref


for _mode in ("bilinear", "bicubic", "lanczos"):
    _name = f"aten::_upsample_{_mode}2d_aa"
    OPINFOS += [
        OpInfo(_name, ref=_aa_ref(_mode), atol=1e-5, rtol=1e-4, samples=[
            Sample(rand(1, 2, 8, 9), [3, 4], False),          # downsampling: antialiased
            Sample(rand(2, 1, 4, 5, dtype=np.float64), [7, 8], False),
            Sample(rand(1, 1, 6, 6), [3, 9], True),
            Sample(rand(1, 2, 5, 4), [2, 2], False, 0.5, 0.5),
            Sample(rand(1, 1, 4, 4), [4, 4], False)]),
        OpInfo(_name + ".vec", ref=_aa_vec_ref(_mode), atol=1e-5, rtol=1e-4, samples=[
            Sample(rand(1, 2, 8, 9), [3, 4], False, None),
            Sample(rand(1, 1, 6, 4, dtype=np.float64), None, False, [0.5, 1.5]),
            Sample(rand(2, 1, 5, 5), [8, 3], True, None)]),
    ]


# ---------------------------------------------------------------- flat-weights RNN layers
def _ref_rnn(mode):
    """NumPy's multi-layer (bidirectional) RNN / GRU / LSTM, PyTorch's equations."""
    def sig(v):
        return 1 / (1 + np.exp(-v))

    def ref(x, hx, params, has_biases, num_layers, dropout, train, bidirectional,
            batch_first):
        states = list(hx) if mode == "lstm" else [hx]
        x = x.swapaxes(0, 1) if batch_first else x
        dirs = 2 if bidirectional else 1
        per = 4 if has_biases else 2
        finals = [[] for _ in states]
        for layer in range(num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                w = params[k * per:(k + 1) * per]
                b_ih, b_hh = (w[2], w[3]) if has_biases else (0, 0)
                st = [s[k] for s in states]
                ys = [None] * x.shape[0]
                for t in (range(x.shape[0] - 1, -1, -1) if d else range(x.shape[0])):
                    gi = x[t] @ w[0].T + b_ih
                    gh = st[0] @ w[1].T + b_hh
                    if mode == "lstm":
                        i, f, g, o = np.split(gi + gh, 4, -1)
                        c = sig(f) * st[1] + sig(i) * np.tanh(g)
                        st = [sig(o) * np.tanh(c), c]
                    elif mode == "gru":
                        ir, iz, in_ = np.split(gi, 3, -1)
                        hr, hz, hn = np.split(gh, 3, -1)
                        r, z = sig(ir + hr), sig(iz + hz)
                        n = np.tanh(in_ + r * hn)
                        st = [(1 - z) * n + z * st[0]]
                    else:
                        a = gi + gh
                        st = [np.tanh(a) if mode == "rnn_tanh" else np.maximum(a, 0)]
                    ys[t] = st[0]
                outs.append(np.stack(ys))
                for f_, s_ in zip(finals, st):
                    f_.append(s_)
            x = np.concatenate(outs, -1)
        out = x.swapaxes(0, 1) if batch_first else x
        return (out, *[np.stack(f_) for f_ in finals])
    return ref


def _rnn_samples(mode):
    gates = {"lstm": 4, "gru": 3}.get(mode, 1)

    def weights(layers, dirs, n_in, h, bias, dtype):
        ws = []
        for layer in range(layers):
            for _ in range(dirs):
                ws += [rand(gates * h, n_in if layer == 0 else h * dirs, dtype=dtype),
                       rand(gates * h, h, dtype=dtype)]
                if bias:
                    ws += [rand(gates * h, dtype=dtype), rand(gates * h, dtype=dtype)]
        return ws

    def hx(n, b, h, dtype):
        s = rand(n, b, h, dtype=dtype)
        return [s, rand(n, b, h, dtype=dtype)] if mode == "lstm" else s

    def samples():
        f64 = np.float64
        return [
            Sample(rand(4, 2, 3, dtype=F32), hx(1, 2, 5, F32),
                   weights(1, 1, 3, 5, True, F32), True, 1, 0.0, False, False, False),
            Sample(rand(2, 3, 3, dtype=f64), hx(4, 2, 2, f64),
                   weights(2, 2, 3, 2, False, f64), False, 2, 0.0, False, True, True)]
    return samples


OPINFOS += [OpInfo(f"aten::{m}.input", ref=_ref_rnn(m), samples=_rnn_samples(m),
                   atol=1e-5, rtol=1e-5, noncontiguous=False)
            for m in ("lstm", "gru", "rnn_tanh", "rnn_relu")]
