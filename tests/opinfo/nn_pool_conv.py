"""OpInfos of gpujit/ops/nn_pool.py and nn_conv.py: max_pool1d/3d (+ indices),
avg_pool1d/3d, adaptive_max_pool1d/2d/3d, max_unpool2d/3d, conv3d, conv_transpose1d/2d/3d,
im2col / col2im. References loop over output positions (tiny sizes)."""
from __future__ import annotations

import itertools

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand


def _n(v, nd):
    if isinstance(v, (int, np.integer)):
        return (int(v),) * nd
    v = tuple(v)
    return v * nd if len(v) == 1 else v


def _batched(fn, nd):
    def ref(x, *a, **k):
        if x.ndim == nd + 1:
            r = fn(x[None], *a, **k)
            return tuple(t[0] for t in r) if isinstance(r, tuple) else r[0]
        return fn(x, *a, **k)
    return ref


def _ref_max_pool(nd, with_indices):
    def ref(x, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        k, p, d = _n(kernel_size, nd), _n(padding, nd), _n(dilation, nd)
        s = k if stride in ((), []) else _n(stride, nd)
        sp = x.shape[2:]
        out = [(n + 2 * q - dd * (kk - 1) - 1) // ss + 1 for n, q, dd, kk, ss in
               zip(sp, p, d, k, s)]
        v = np.full(x.shape[:2] + tuple(out), -np.inf)
        idx = np.zeros(x.shape[:2] + tuple(out), np.int64)
        for o in itertools.product(*(range(m) for m in out)):
            for t in itertools.product(*(range(kk) for kk in k)):
                pos = [oo * ss - q + tt * dd for oo, ss, q, tt, dd in zip(o, s, p, t, d)]
                if any(q < 0 or q >= n for q, n in zip(pos, sp)):
                    continue
                val = x[(slice(None), slice(None)) + tuple(pos)]
                flat = int(np.ravel_multi_index(pos, sp))
                better = val > v[(Ellipsis,) + o]
                v[(Ellipsis,) + o] = np.where(better, val, v[(Ellipsis,) + o])
                idx[(Ellipsis,) + o] = np.where(better, flat, idx[(Ellipsis,) + o])
        return (v, idx) if with_indices else v
    return _batched(ref, nd)


def _max_samples(nd):
    sp = (5, 6, 4)[:nd]
    return [Sample(rand(2, 3, *sp), 2),
            Sample(rand(3, *sp), 3, 2, 1),
            Sample(rand(2, 2, *sp), (2,) * nd, (1,) * nd, 0, 2)]


def _ref_avg_pool(nd):
    def ref(x, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True,
            divisor_override=None):
        k, p = _n(kernel_size, nd), _n(padding, nd)
        s = k if stride in ((), []) else _n(stride, nd)
        xp = np.pad(x, ((0, 0), (0, 0)) + tuple((q, q) for q in p))
        out = [(n + 2 * q - kk) // ss + 1 for n, q, kk, ss in zip(x.shape[2:], p, k, s)]
        r = np.zeros(x.shape[:2] + tuple(out))
        for o in itertools.product(*(range(m) for m in out)):
            sl = tuple(slice(oo * ss, oo * ss + kk) for oo, ss, kk in zip(o, s, k))
            r[(Ellipsis,) + o] = xp[(slice(None), slice(None)) + sl].sum(
                axis=tuple(range(2, 2 + nd)))
        return r / (divisor_override or int(np.prod(k)))
    return _batched(ref, nd)


def _avg_samples(nd):
    sp = (5, 6, 4)[:nd]
    out = [Sample(rand(2, 3, *sp), 2), Sample(rand(3, *sp), 3, 2, 1)]
    if nd == 3:
        out.append(Sample(rand(1, 2, *sp), 2, divisor_override=3))
    return out


def _ref_adaptive_max(nd):
    def ref(x, output_size):
        o = _n(output_size, nd)
        sp = x.shape[2:]
        v = np.zeros(x.shape[:2] + o)
        idx = np.zeros(x.shape[:2] + o, np.int64)
        for pos in itertools.product(*(range(m) for m in o)):
            sl = [(i * n // m, -(-(i + 1) * n // m)) for i, n, m in zip(pos, sp, o)]
            win = x[(slice(None), slice(None)) + tuple(slice(a, b) for a, b in sl)]
            flat = win.reshape(win.shape[:2] + (-1,))
            a = flat.argmax(-1)
            v[(Ellipsis,) + pos] = flat.max(-1)
            local = np.unravel_index(a, win.shape[2:])
            idx[(Ellipsis,) + pos] = np.ravel_multi_index(
                tuple(loc + s0 for loc, (s0, _) in zip(local, sl)), sp)
        return v, idx
    return _batched(ref, nd)


def _ref_unpool(x, indices, output_size, *rest):
    nd = len(output_size)
    lead = x.shape[:-nd]
    r = np.zeros(lead + (int(np.prod(output_size)),))
    np.put_along_axis(r, indices.reshape(lead + (-1,)), x.reshape(lead + (-1,)), -1)
    return r.reshape(lead + tuple(output_size))


def _unpool_samples(nd):
    idx = np.array([0, 3, 9, 14]).reshape((1, 1) + ((2, 2) if nd == 2 else (1, 2, 2)))
    idx = np.concatenate([idx, idx + 1], 1)
    size = [4, 4] if nd == 2 else [1, 4, 4]
    rest = () if nd == 2 else ([1, 2, 2], [0, 0, 0])
    return [Sample(rand(*idx.shape), idx, size, *rest),
            ErrorSample(rand(*idx.shape), idx + 20, size, *rest,
                        match="Found an invalid max index")]


def _ref_conv(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    nd = w.ndim - 2
    if x.ndim == nd + 1:
        return _ref_conv(x[None], w, bias, stride, padding, dilation, groups)[0]
    s, d, k = _n(stride, nd), _n(dilation, nd), w.shape[2:]
    if padding == "valid":
        pads = [(0, 0)] * nd
    elif padding == "same":
        pads = [(dd * (kk - 1) // 2, dd * (kk - 1) - dd * (kk - 1) // 2) for dd, kk in zip(d, k)]
    else:
        pads = [(q, q) for q in _n(padding, nd)]
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    out = [(n - dd * (kk - 1) - 1) // ss + 1 for n, dd, kk, ss in zip(xp.shape[2:], d, k, s)]
    cg, og = w.shape[1], w.shape[0] // groups
    r = np.zeros((x.shape[0], w.shape[0]) + tuple(out))
    for o in itertools.product(*(range(m) for m in out)):
        sl = tuple(slice(oo * ss, oo * ss + dd * (kk - 1) + 1, dd)
                   for oo, ss, dd, kk in zip(o, s, d, k))
        win = xp[(slice(None), slice(None)) + sl]
        for g in range(groups):
            r[(slice(None), slice(g * og, (g + 1) * og)) + o] = np.tensordot(
                win[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og],
                axes=(list(range(1, 2 + nd)), list(range(1, 2 + nd))))
    if bias is not None:
        r += bias.reshape((1, -1) + (1,) * nd)
    return r


def _ref_conv_transpose(x, w, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                        dilation=1):
    nd = w.ndim - 2
    if x.ndim == nd + 1:
        return _ref_conv_transpose(x[None], w, bias, stride, padding, output_padding, groups,
                                   dilation)[0]
    s, p, op, d = (_n(v, nd) for v in (stride, padding, output_padding, dilation))
    k, cg, og = w.shape[2:], w.shape[0] // groups, w.shape[1]
    full = [(n - 1) * ss + dd * (kk - 1) + 1 + o for n, ss, dd, kk, o in
            zip(x.shape[2:], s, d, k, op)]
    r = np.zeros((x.shape[0], og * groups) + tuple(full))
    for i in itertools.product(*(range(n) for n in x.shape[2:])):
        sl = tuple(slice(ii * ss, ii * ss + dd * (kk - 1) + 1, dd)
                   for ii, ss, dd, kk in zip(i, s, d, k))
        for g in range(groups):
            r[(slice(None), slice(g * og, (g + 1) * og)) + sl] += np.tensordot(
                x[(slice(None), slice(g * cg, (g + 1) * cg)) + i], w[g * cg:(g + 1) * cg],
                (1, 0))
    r = r[(slice(None), slice(None)) + tuple(slice(q, f - q) for q, f in zip(p, full))]
    if bias is not None:
        r = r + bias.reshape((1, -1) + (1,) * nd)
    return r


def _ref_native_conv(x, w, bias, stride, padding, dilation, transposed, output_padding,
                     groups, *flags):
    if transposed:
        return _ref_conv_transpose(x, w, bias, stride, padding, output_padding, groups,
                                   dilation)
    return _ref_conv(x, w, bias, stride, padding, dilation, groups)


def _ct_samples(nd):
    sp = (4, 3, 3)[:nd]
    return [Sample(rand(2, 4, *sp), rand(4, 3, *(2,) * nd), rand(3)),
            Sample(rand(4, *sp), rand(4, 1, *(3,) * nd), None, 2, 1, 1, 2, 1),
            Sample(rand(1, 2, *sp), rand(2, 2, *(2,) * nd), None, 3, 0, 1, 1, 2),
            ErrorSample(rand(1, 2, *sp), rand(2, 2, *(2,) * nd), None, 1, 0, 1,
                        match="output padding must be smaller than either stride")]


def _ref_im2col(x, kernel_size, dilation, padding, stride):
    if x.ndim == 3:
        return _ref_im2col(x[None], kernel_size, dilation, padding, stride)[0]
    k, d, p, s = (_n(v, 2) for v in (kernel_size, dilation, padding, stride))
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    bh = (xp.shape[2] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    bw = (xp.shape[3] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    cols = [xp[:, :, i * s[0]:i * s[0] + d[0] * (k[0] - 1) + 1:d[0],
               j * s[1]:j * s[1] + d[1] * (k[1] - 1) + 1:d[1]].reshape(x.shape[0], -1)
            for i in range(bh) for j in range(bw)]
    return np.stack(cols, -1)


def _ref_col2im(x, output_size, kernel_size, dilation, padding, stride):
    if x.ndim == 2:
        return _ref_col2im(x[None], output_size, kernel_size, dilation, padding, stride)[0]
    k, d, p, s = (_n(v, 2) for v in (kernel_size, dilation, padding, stride))
    h, w = output_size
    r = np.zeros((x.shape[0], x.shape[1] // (k[0] * k[1]), h + 2 * p[0], w + 2 * p[1]))
    bh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    bw = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    cols = x.reshape(x.shape[0], -1, k[0], k[1], bh, bw)
    for i in range(bh):
        for j in range(bw):
            r[:, :, i * s[0]:i * s[0] + d[0] * (k[0] - 1) + 1:d[0],
              j * s[1]:j * s[1] + d[1] * (k[1] - 1) + 1:d[1]] += cols[..., i, j]
    return r[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


OPINFOS = [
    OpInfo("aten::max_pool1d", samples=lambda: _max_samples(1), ref=_ref_max_pool(1, False)),
    OpInfo("aten::max_pool1d_with_indices", samples=lambda: _max_samples(1),
           ref=_ref_max_pool(1, True)),
    OpInfo("aten::max_pool3d", samples=lambda: _max_samples(3), ref=_ref_max_pool(3, False)),
    OpInfo("aten::max_pool3d_with_indices", samples=lambda: _max_samples(3),
           ref=_ref_max_pool(3, True)),
    OpInfo("aten::avg_pool1d", samples=lambda: _avg_samples(1), ref=_ref_avg_pool(1)),
    OpInfo("aten::avg_pool3d", samples=lambda: _avg_samples(3), ref=_ref_avg_pool(3)),
    OpInfo("aten::adaptive_max_pool1d", ref=_ref_adaptive_max(1), samples=lambda: [
        Sample(rand(2, 3, 10), [4]), Sample(rand(3, 5), [7])]),
    OpInfo("aten::adaptive_max_pool2d", ref=_ref_adaptive_max(2), samples=lambda: [
        Sample(rand(2, 3, 7, 5), [3, 2]), Sample(rand(3, 4, 4), [4, 4])]),
    OpInfo("aten::adaptive_max_pool3d", ref=_ref_adaptive_max(3), samples=lambda: [
        Sample(rand(1, 2, 5, 4, 3), [2, 3, 2])]),
    OpInfo("aten::max_unpool2d", samples=lambda: _unpool_samples(2), ref=_ref_unpool),
    OpInfo("aten::max_unpool3d", samples=lambda: _unpool_samples(3), ref=_ref_unpool),
    OpInfo("aten::conv3d", ref=_ref_conv, samples=lambda: [
        Sample(rand(2, 4, 4, 3, 5), rand(6, 2, 2, 2, 3), rand(6), 1, 1, 1, 2),
        Sample(rand(2, 3, 4, 5), rand(2, 2, 1, 2, 2), None, (1, 2, 1), 0, (2, 1, 1))]),
    OpInfo("aten::conv3d.padding", ref=_ref_conv, samples=lambda: [
        Sample(rand(1, 2, 4, 3, 5), rand(3, 2, 3, 2, 3), rand(3), 1, "same"),
        Sample(rand(1, 2, 4, 3, 5), rand(3, 2, 3, 2, 3), None, 1, "valid")]),
    OpInfo("aten::conv_transpose1d", samples=lambda: _ct_samples(1), ref=_ref_conv_transpose),
    OpInfo("aten::conv_transpose2d.input", samples=lambda: _ct_samples(2),
           ref=_ref_conv_transpose),
    OpInfo("aten::conv_transpose3d.input", samples=lambda: _ct_samples(3),
           ref=_ref_conv_transpose),
    OpInfo("aten::_convolution", ref=_ref_native_conv, samples=lambda: [
        Sample(rand(2, 4, 5, 4), rand(6, 2, 2, 3), rand(6), [1, 2], [1, 0], [1, 1], False,
               [0, 0], 2, False, False, True, True),
        Sample(rand(1, 2, 7), rand(3, 2, 3), None, [2], [1], [2], False, [0], 1, True, True,
               False, False),
        Sample(rand(1, 2, 3, 3), rand(2, 2, 2, 2), rand(2), [2, 2], [1, 1], [1, 1], True,
               [1, 1], 1, False, False, True, True)], errors=[
        ErrorSample(rand(4, 5, 4), rand(6, 4, 2, 3), None, [1, 1], [0, 0], [1, 1], False,
                    [0, 0], 1, False, False, True, True,
                    match="Expected 4-dimensional input for 4-dimensional weight"),
        ErrorSample(rand(4, 5), rand(6, 4), None, [1], [0], [1], False, [0], 1, False, False,
                    True, True, match="weight should have at least three dimensions")]),
    OpInfo("aten::_convolution.deprecated", ref=_ref_native_conv, samples=lambda: [
        Sample(rand(1, 2, 3, 4, 3), rand(2, 2, 2, 2, 2), rand(2), [1, 1, 1], [1, 0, 1],
               [1, 1, 1], False, [0, 0, 0], 1, False, False, True)]),
    OpInfo("aten::_convolution_mode", ref=_ref_conv, samples=lambda: [
        Sample(rand(2, 2, 5, 4), rand(4, 1, 2, 3), rand(4), [1, 1], "same", [2, 1], 2),
        Sample(rand(2, 3, 6), rand(2, 3, 3), None, [2], "valid", [1], 1),
        Sample(rand(3, 6), rand(2, 3, 4), None, [1], "same", [1], 1)]),
    OpInfo("aten::im2col", ref=_ref_im2col, samples=lambda: [
        Sample(rand(2, 3, 5, 6), [2, 3], [1, 1], [1, 0], [2, 1]),
        Sample(rand(2, 4, 5), [2, 2], [2, 1], [0, 0], [1, 1])]),
    OpInfo("aten::col2im", ref=_ref_col2im, samples=lambda: [
        Sample(rand(2, 18, 12), [5, 6], [2, 3], [1, 1], [1, 0], [2, 1]),
        Sample(rand(8, 6), [4, 3], [2, 2], [1, 1], [0, 0], [1, 1])]),
]
