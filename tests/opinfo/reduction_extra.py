"""OpInfos of gpujit/ops/reduction_extra.py (unique, median, kthvalue, mode, quantile,
nansum/nanmean, count_nonzero, cummax/cummin, logcumsumexp, diff, searchsorted,
bucketize, bincount, histc, isin, tensor_split & co., unflatten, logspace, empty_strided,
index_copy, put, scatter_reduce, gcd, lcm, frexp, i0, special_i1, special_i0e, special_i1e,
isreal). References are
NumPy (np.unique, np.quantile, np.searchsorted, np.array_split, ufunc.at, ...) or plain
loops, written from PyTorch's documented semantics. Samples that check indices have no
ties (PyTorch does not promise which of equal elements an index points at)."""
from __future__ import annotations

import collections

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, FLOAT_DTYPES, INT_DTYPES

F16, F32, F64, I64, I32 = np.float16, np.float32, np.float64, np.int64, np.int32
_rng = np.random.default_rng(4321)
_grng = np.random.default_rng(99)


def distinct(*shape, dtype=F64):
    """Values without ties (a permutation scaled), for index-returning ops."""
    n = int(np.prod(shape)) if shape else 1
    return (_grng.permutation(n).reshape(shape) * 0.37 - 3).astype(dtype)


def ints(high, *shape, dtype=I64, low=0):
    return _rng.integers(low, high, size=shape).astype(dtype)


def _empty():
    return np.zeros(0, I64)


# ------------------------------------------------------------------ unique

def _unique2_ref(x, sorted=True, return_inverse=False, return_counts=False):
    v, inv, cnt = np.unique(x.reshape(-1), return_inverse=True, return_counts=True)
    return (v, inv.reshape(x.shape) if return_inverse else _empty(),
            cnt if return_counts else _empty())


def _unique_dim_ref(x, dim, sorted=True, return_inverse=False, return_counts=False):
    v, inv, cnt = np.unique(x, axis=dim, return_inverse=True, return_counts=True)
    return (v, inv.reshape(-1) if return_inverse else _empty(),
            cnt if return_counts else _empty())


def _uc_ref(x, return_inverse=False, return_counts=False, dim=None):
    if dim is None:
        rows = list(x.reshape(-1))
    else:
        rows = list(np.moveaxis(x, dim, 0))
    vals, inv, cnt = [], [], []
    for r in rows:
        if vals and np.array_equal(vals[-1], r):
            cnt[-1] += 1
        else:
            vals.append(r)
            cnt.append(1)
        inv.append(len(vals) - 1)
    if dim is None:
        v = np.array(vals, dtype=x.dtype)
        i = np.array(inv, dtype=I64).reshape(x.shape)
    else:
        v = np.moveaxis(np.stack(vals), 0, dim) if vals else x.copy()
        i = np.array(inv, dtype=I64)
    return (v, i if return_inverse else _empty(),
            np.array(cnt, dtype=I64) if return_counts else _empty())


# ------------------------------------------------------------------ median & co.

def _lower_median(a):
    a = np.sort(a.reshape(-1))
    if a.size == 0 or np.isnan(a).any():
        return np.array(np.nan)
    return a[(a.size - 1) // 2]


def _nanmedian_ref(a):
    a = np.sort(a.reshape(-1))
    a = a[~np.isnan(a)]
    return np.array(np.nan) if a.size == 0 else a[(a.size - 1) // 2]


def _dim_select(x, dim, keepdim, k_of):
    """(values, indices) picking position k_of(n) of the stable sort along dim."""
    if x.ndim == 0:
        return x.copy(), np.array(0)
    m = np.moveaxis(x, dim, -1)
    order = np.argsort(m, axis=-1, kind="stable")
    k = k_of(m.shape[-1])
    v = np.take_along_axis(np.sort(m, axis=-1, kind="stable"), np.full(m.shape[:-1] + (1,), k),
                           -1)
    i = np.take_along_axis(order, np.full(m.shape[:-1] + (1,), k), -1)
    if keepdim:
        return np.moveaxis(v, -1, dim), np.moveaxis(i, -1, dim)
    return v[..., 0], i[..., 0]


def _median_dim_ref(x, dim, keepdim=False):
    v, i = _dim_select(x, dim, keepdim, lambda n: (n - 1) // 2)
    if x.dtype.kind != "f" or x.ndim == 0:
        return v, i
    nan = np.isnan(x)       # a slice with a NaN: NaN, at the index of its first NaN
    has = nan.any(dim, keepdims=keepdim)
    return np.where(has, np.nan, v), np.where(has, nan.argmax(dim, keepdims=keepdim), i)


def _kth_ref(x, k, dim=-1, keepdim=False):
    return _dim_select(x, dim, keepdim, lambda n: k - 1)


def _mode_ref(x, dim=-1, keepdim=False):
    if x.ndim == 0:
        return x.copy(), np.array(0)
    m = np.moveaxis(x, dim, -1)
    vals = np.empty(m.shape[:-1], x.dtype)
    idx = np.empty(m.shape[:-1], I64)
    for pos in np.ndindex(m.shape[:-1]):
        row = list(m[pos])
        c = collections.Counter(row)
        best = max(c.values())
        v = min(k for k, n in c.items() if n == best)
        vals[pos] = v
        idx[pos] = max(i for i, e in enumerate(row) if e == v)
    if keepdim:
        return np.expand_dims(vals, dim), np.expand_dims(idx, dim)
    return vals, idx


def _quantile_ref(fn):
    def ref(x, q, dim=None, keepdim=False, interpolation="linear"):
        qq = q if isinstance(q, float) else np.asarray(q, dtype=np.float64)
        return fn(x, qq, axis=dim, keepdims=keepdim, method=interpolation)
    return ref


def _nansum_ref(x, dim=None, keepdim=False, dtype=None):
    axis = None if dim is None or dim == [] else (tuple(dim) if isinstance(dim, (list, tuple))
                                                  else dim)
    r = np.nansum(x.astype(np.float64 if x.dtype.kind == "f" else I64), axis=axis,
                  keepdims=keepdim)
    return r


def _nanmean_ref(x, dim=None, keepdim=False, dtype=None):
    axis = None if dim is None or dim == [] else (tuple(dim) if isinstance(dim, (list, tuple))
                                                  else dim)
    return np.nanmean(x, axis=axis, keepdims=keepdim)


def _count_ref(x, dim=None):
    axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
    if axis == ():
        axis = None
    return np.asarray(np.count_nonzero(x, axis=axis), dtype=I64)


def _cum_ext_ref(better):
    def ref(x, dim):
        if x.ndim == 0:
            return x.copy(), np.array(0)
        m = np.moveaxis(x, dim, -1)
        v = np.empty_like(m)
        i = np.empty(m.shape, I64)
        for pos in np.ndindex(m.shape[:-1]):
            cur, ci = None, 0
            for k, e in enumerate(m[pos]):
                if cur is None or np.isnan(e) or (not np.isnan(cur) and better(e, cur)):
                    cur, ci = e, k
                v[pos + (k,)] = cur
                i[pos + (k,)] = ci
        return np.moveaxis(v, -1, dim), np.moveaxis(i, -1, dim)
    return ref


def _lcse_ref(x, dim):
    if x.ndim == 0:
        return x.copy()
    return np.logaddexp.accumulate(x, axis=dim)


def _diff_ref(x, n=1, dim=-1, prepend=None, append=None):
    kw = {}
    if prepend is not None:
        kw["prepend"] = prepend
    if append is not None:
        kw["append"] = append
    if x.dtype == np.bool_:
        a = np.concatenate([p for p in (prepend, x, append) if p is not None], axis=dim)
        for _ in range(n):
            a = np.diff(a.astype(np.int8), axis=dim) != 0
        return a
    return np.diff(x, n=n, axis=dim, **kw)


def _ss_ref(seq, values, out_int32=False, right=False, side=None, sorter=None):
    s = side or ("right" if right else "left")
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter, -1)
    if seq.ndim == 1:
        return np.searchsorted(seq, values, side=s)
    out = np.empty(values.shape, I64)
    for pos in np.ndindex(seq.shape[:-1]):
        out[pos] = np.searchsorted(seq[pos], values[pos], side=s)
    return out


def _bucketize_ref(x, boundaries, out_int32=False, right=False):
    return np.searchsorted(boundaries, x, side="right" if right else "left")


def _bincount_ref(x, weights=None, minlength=0):
    return np.bincount(x, weights, minlength=minlength)


def _histc_ref(x, bins=100, min=0, max=0):
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    return np.histogram(x, bins=bins, range=(lo, hi))[0]


def _isin_ref(a, b, assume_unique=False, invert=False):
    return np.isin(a, b, invert=invert)


def _splits_ref(fn):
    def ref(x, arg, dim=None):
        if dim is None:
            return list(fn(x, arg))
        return list(np.array_split(x, arg, axis=dim))
    return ref


def _unflatten_ref(x, dim, sizes):
    d = dim % x.ndim
    sizes = list(sizes)
    if -1 in sizes:
        k = sizes.index(-1)
        sizes[k] = x.shape[d] // int(np.prod([s for s in sizes if s != -1]))
    return x.reshape(x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


def _index_copy_ref(x, dim, index, source):
    out = x.copy()
    idx = [slice(None)] * x.ndim
    idx[dim] = index
    out[tuple(idx)] = source
    return out


def _put_ref(x, index, source, accumulate=False):
    out = x.copy().reshape(-1)
    idx = np.where(index < 0, index + out.size, index).reshape(-1)
    if accumulate:
        np.add.at(out, idx, source.reshape(-1))
    else:
        out[idx] = source.reshape(-1)
    return out.reshape(x.shape)


def _sr_ref(x, dim, index, src, reduce, include_self=True):
    out = x.astype(np.float64 if x.dtype.kind == "f" else I64)
    vals = {}
    for pos in np.ndindex(index.shape):
        tgt = list(pos)
        tgt[dim] = index[pos]
        vals.setdefault(tuple(tgt), []).append(src[pos])
    for tgt, vs in vals.items():
        items = ([out[tgt]] if include_self else []) + vs
        if reduce == "sum":
            out[tgt] = np.sum(items)
        elif reduce == "prod":
            out[tgt] = np.prod(items)
        elif reduce == "amax":
            out[tgt] = np.max(items)
        elif reduce == "amin":
            out[tgt] = np.min(items)
        else:
            m = np.sum(items) / len(items)
            out[tgt] = m if x.dtype.kind == "f" else np.floor(m)
    return out


def _i1_ref(x):
    h = 1e-5
    return (np.i0(x + h) - np.i0(x - h)) / (2 * h)


def _i0e_ref(x):
    return np.i0(x) * np.exp(-np.abs(x))


def _i1e_ref(x):
    return _i1_ref(x) * np.exp(-np.abs(x))


def _frexp_ref(x):
    m, e = np.frexp(x.astype(F64))
    return m, e.astype(I32)


def _strided_check(sample, out):
    size, stride = sample.args[0], sample.args[1]
    assert tuple(out.shape) == tuple(size)
    assert tuple(out.stride()) == tuple(stride), (out.stride(), stride)


# ------------------------------------------------------------------ samples

_X34 = distinct(3, 4)
_NAN = np.array([[3., 1, np.nan, 4], [2, 5, 0, 1], [np.nan, np.nan, 1, 7]])

OPINFOS = [
    OpInfo("aten::_unique2", ref=_unique2_ref, samples=[
        Sample(ints(5, 12)), Sample(ints(4, 3, 4), True, True, True),
        Sample(ints(4, 3, 4, dtype=I32), False, return_counts=True),
        Sample(rand(10, dtype=F32), return_inverse=True),
        Sample(np.zeros(0, F32), True, True, True), Sample(np.array(3), True, True, True),
        Sample(rand(6, dtype=np.bool_), True, True, True)]),
    OpInfo("aten::unique_dim", ref=_unique_dim_ref, samples=[
        Sample(ints(2, 6, 2), 0, True, True, True), Sample(ints(2, 3, 5), 1, True, True, True),
        Sample(ints(3, 4, 2, 2), -1), Sample(ints(2, 5, dtype=I32), 0, return_counts=True)],
        errors=[ErrorSample(np.array(3), 0, exc=IndexError)]),
    OpInfo("aten::unique_consecutive", ref=_uc_ref, samples=[
        Sample(ints(3, 12), True, True), Sample(ints(2, 3, 4), True, True),
        Sample(np.array([[1, 1], [1, 1], [0, 2], [1, 1]]), True, True, 0),
        Sample(ints(2, 2, 5), True, True, dim=1), Sample(rand(8, dtype=F32))]),
    OpInfo("aten::median", ref=lambda x: _lower_median(x), samples=[
        Sample(distinct(7)), Sample(distinct(3, 4)), Sample(distinct(2, 5, dtype=F32)),
        Sample(ints(10, 9)), Sample(_NAN), Sample(np.zeros(0, F32)),
        Sample(rand(9, dtype=F16))]),
    OpInfo("aten::median.dim", ref=_median_dim_ref, samples=[
        Sample(distinct(3, 4), 1), Sample(distinct(3, 4), 0, True), Sample(distinct(2, 3, 4), -1),
        Sample(distinct(4, 5, dtype=F32), 1), Sample(np.array(2.5), 0), Sample(_NAN, 1),
        Sample(distinct(3, 4).astype(I64), 0)],
        errors=[ErrorSample(np.zeros((0, 3)), 0, exc=IndexError, match="non-zero size")]),
    OpInfo("aten::nanmedian", ref=_nanmedian_ref, samples=[
        Sample(distinct(7)), Sample(distinct(3, 4)), Sample(distinct(5, dtype=F32)), Sample(_NAN),
        Sample(np.array([np.nan, np.nan])), Sample(np.zeros(0)), Sample(ints(10, 9))]),
    OpInfo("aten::nanmedian.dim", ref=lambda x, dim, keepdim=False: _nanmedian_dim_ref(
        x, dim, keepdim),
        samples=[Sample(distinct(3, 4), 1), Sample(distinct(3, 4), 0, True),
                 Sample(np.array([[3., 1, np.nan, 4], [2, 5, 0, 1], [np.nan, 9, 1, 7]]), 1)]),
    OpInfo("aten::kthvalue", ref=_kth_ref, samples=[
        Sample(distinct(3, 4), 2), Sample(distinct(3, 4), 3, 0, True), Sample(distinct(5), 5),
        Sample(distinct(2, 3, 4, dtype=F32), 1, 1), Sample(np.array(3.), 1),
        Sample(distinct(3, 4).astype(I64), 4)],
        errors=[ErrorSample(distinct(4), 5, match="k out of range"),
                ErrorSample(distinct(4), 0, match="k out of range")]),
    OpInfo("aten::mode", ref=_mode_ref, samples=[
        Sample(distinct(3, 4)), Sample(distinct(3, 4), 0, True), Sample(np.array(3.)),
        Sample(ints(3, 4, 6)), Sample(ints(3, 4, 6), 0, True),
        Sample(np.array([1, 2, 2, 3, 3, 1])), Sample(ints(4, 2, 5).astype(F32), 1)]),
    OpInfo("aten::nansum", ref=_nansum_ref, samples=[
        Sample(rand(3, 4, dtype=F64)), Sample(_NAN), Sample(_NAN, 1), Sample(_NAN, [0, 1], True),
        Sample(ints(5, 3, 4, dtype=np.int8)).expect_dtype(G.int64),
        Sample(rand(3, 4, dtype=F16), 0).tol(1e-2, 1e-2)]),
    OpInfo("aten::nanmean", ref=_nanmean_ref, samples=[
        Sample(rand(3, 4, dtype=F64)), Sample(_NAN), Sample(_NAN, 1), Sample(_NAN, [0], True),
        Sample(rand(3, 4, dtype=F32), 0)],
        errors=[ErrorSample(ints(3, 4), match="floating point")]),
    OpInfo("aten::count_nonzero", ref=_count_ref, samples=[
        Sample(ints(3, 3, 4)), Sample(ints(3, 3, 4), 1), Sample(rand(3, 4, dtype=np.bool_), -1),
        Sample(np.array(0.))]),
    OpInfo("aten::count_nonzero.dim_IntList", ref=_count_ref, samples=[
        Sample(ints(3, 3, 4), [0, 1]), Sample(ints(3, 2, 3, 4), [0, 2]),
        Sample(rand(3, 4, dtype=F32), [])]),
    OpInfo("aten::cummax", ref=_cum_ext_ref(lambda a, b: a >= b), samples=[
        Sample(distinct(3, 4), 1), Sample(distinct(3, 4), 0), Sample(distinct(9), 0),
        Sample(np.array([1, 3, 3, 2, np.nan, 5, np.nan]), 0), Sample(ints(4, 3, 7), -1),
        Sample(np.array(2.), 0), Sample(np.zeros((0, 3)), 0),
        Sample(rand(2, 5, dtype=np.bool_), 1)]),
    OpInfo("aten::cummin", ref=_cum_ext_ref(lambda a, b: a <= b), samples=[
        Sample(distinct(3, 4), 1), Sample(distinct(3, 4), 0), Sample(distinct(6), 0),
        Sample(ints(4, 3, 7), -1), Sample(np.array([1, 3, 0, 2, np.nan, -5]), 0)]),
    OpInfo("aten::logcumsumexp", ref=_lcse_ref, samples=[
        Sample(rand(3, 4, dtype=F64), 1), Sample(rand(3, 4, dtype=F64), 0),
        Sample(np.array([1., 2, -300, 700]), 0), Sample(rand(5, dtype=F32), 0),
        Sample(np.array([-np.inf, -np.inf, 1.]), 0), Sample(np.array(1.5), 0)],
        errors=[ErrorSample(ints(3, 4), 0, exc=NotImplementedError)]),
    OpInfo("aten::diff", ref=_diff_ref, samples=[
        Sample(rand(3, 5, dtype=F64)), Sample(rand(3, 5, dtype=F64), 2, 0),
        Sample(rand(3, 4, dtype=F64), 1, 0, rand(1, 4, dtype=F64), rand(2, 4, dtype=F64)),
        Sample(ints(9, 7)), Sample(ints(9, 7), 3), Sample(rand(6, dtype=np.bool_)),
        Sample(rand(4, dtype=F32), 6)],
        errors=[ErrorSample(np.array(1.), match="at least one-dimensional"),
                ErrorSample(rand(3, dtype=F32), -1, match="non-negative")]),
    OpInfo("aten::searchsorted.Tensor", ref=_ss_ref, samples=[
        Sample(np.array([1, 3, 5, 7]), np.array([3, 6, 9, 0])),
        Sample(np.array([1, 3, 5, 7]), np.array([[3, 6], [9, 0]]), right=True),
        Sample(np.array([1., 2, 3]), np.array([2.5, 2]), side="right", out_int32=True)
        .expect_dtype(G.int32),
        Sample(np.sort(rand(2, 5, dtype=F32), -1), rand(2, 3, dtype=F32)),
        Sample(np.array([5, 1, 3]), np.array([2, 4]), sorter=np.array([1, 2, 0]))],
        errors=[ErrorSample(np.array([1, 2]), np.array([1]), side="left", right=True,
                            match="opposites"),
                ErrorSample(np.array([[1, 2]]), np.array([1]), match="first N-1"),
                ErrorSample(np.array([1, 2]), np.array([1]), side="up", match="side")]),
    OpInfo("aten::searchsorted.Scalar", ref=lambda s, v, **kw: np.asarray(
        _ss_ref(s, np.asarray(v), **kw)), samples=[
        Sample(np.array([1, 3, 5]), 3), Sample(np.array([1, 3, 5]), 3, right=True),
        Sample(np.array([1., 3, 5]), 4.5)]),
    OpInfo("aten::bucketize.Tensor", ref=_bucketize_ref, samples=[
        Sample(np.array([1, 5, 3, 9]), np.array([1, 2, 4])),
        Sample(rand(3, 4, dtype=F32), np.array([-1., 0, 1]), right=True),
        Sample(np.array([1, 5]), np.array([1, 5, 7]), out_int32=True).expect_dtype(G.int32)],
        errors=[ErrorSample(np.array([1]), np.array([[1, 2]]), match="1 dimension")]),
    OpInfo("aten::bucketize.Scalar", ref=lambda v, b, **kw: np.asarray(
        _bucketize_ref(np.asarray(v), b, **kw)), samples=[
        Sample(3, np.array([1, 2, 5])), Sample(2, np.array([1, 2, 5]), right=True)]),
    OpInfo("aten::bincount", ref=_bincount_ref, samples=[
        Sample(ints(6, 20)), Sample(ints(6, 20), minlength=9), Sample(ints(4, 5),
                                                                     rand(5, dtype=F64)),
        Sample(ints(4, 5, dtype=np.uint8), rand(5, dtype=F32)).expect_dtype(G.float32),
        Sample(ints(4, 5), ints(4, 5)).expect_dtype(G.float64), Sample(np.zeros(0, I64), None, 3)],
        errors=[ErrorSample(np.array([-1, 2]), match="non-negative"),
                ErrorSample(np.array([1., 2]), exc=NotImplementedError)]),
    OpInfo("aten::histc", ref=_histc_ref, samples=[
        Sample(np.array([1.2, 2.6, 1.1, 3.9, 0.3]), 4, 0, 4),
        Sample(np.array([1.2, 2.6, 1.1, 3.9, 0.3], dtype=F32), 5),
        Sample(np.array([1.5, 2.5, -7, 9.5], dtype=F32), 3, 0, 3)],
        errors=[ErrorSample(np.array([1., 2]), 4, 3, 1, match="max must be larger"),
                ErrorSample(np.array([1, 2]), exc=NotImplementedError)]),
    OpInfo("aten::isin.Tensor_Tensor", ref=_isin_ref, samples=[
        Sample(ints(6, 3, 4), np.array([2, 5])), Sample(ints(6, 3, 4), ints(6, 2, 2), invert=True),
        Sample(rand(5, dtype=F32), rand(3, dtype=F32))]),
    OpInfo("aten::isin.Tensor_Scalar", ref=lambda a, b, **kw: _isin_ref(a, [b], **kw), samples=[
        Sample(ints(4, 3, 4), 2), Sample(ints(4, 3, 4), 2, invert=True)]),
    OpInfo("aten::isin.Scalar_Tensor", ref=lambda a, b, **kw: np.asarray(
        _isin_ref(np.asarray(a), b, **kw)), samples=[
        Sample(2, np.array([1, 2])), Sample(3, np.array([1, 2]))]),
    OpInfo("aten::tensor_split.sections", ref=lambda x, n, dim=0: list(
        np.array_split(x, n, axis=dim)), samples=[
        Sample(rand(7, dtype=F64), 3), Sample(rand(3, 4, dtype=F64), 2, 1),
        Sample(rand(2, 5, dtype=F32), 7, -1), Sample(ints(5, 0, 3), 2)],
        errors=[ErrorSample(rand(7, dtype=F32), 0, match="larger than 0")]),
    OpInfo("aten::tensor_split.indices", ref=lambda x, idx, dim=0: list(
        np.array_split(x, idx, axis=dim)), samples=[
        Sample(rand(7, dtype=F64), [1, 5]), Sample(rand(3, 4, dtype=F64), [1], 1),
        Sample(rand(7, dtype=F32), [1, 5, 3, 9]), Sample(rand(7, dtype=F32), [-2, 5]),
        Sample(rand(3, 4, dtype=F32), [])]),
    OpInfo("aten::tensor_split.tensor_indices_or_sections", ref=lambda x, t, dim=0: list(
        np.array_split(x, int(t) if t.ndim == 0 else [int(i) for i in t], axis=dim)), samples=[
        Sample(rand(7, dtype=F64), np.array([1, 5])), Sample(rand(3, 4, dtype=F64), np.array(2), 1),
        Sample(rand(7, dtype=F32), np.array([1, 5, 3, 9])), Sample(rand(3, 4, dtype=F32),
                                                                 np.array([], dtype=np.int64))],
        errors=[ErrorSample(rand(7, dtype=F32), np.array([1.0]), match="dtype of long, but got Double"),
                ErrorSample(rand(7, dtype=F32), np.array([[1]]), match="but got a tensor with 2 dims"),
                ErrorSample(rand(7, dtype=F32), np.array(0), match="larger than 0")],
        # (no meta rule: the pieces are the index tensor's values; gpu=False: the harness
        # would move the index tensor to the GPU, which torch refuses as gpujit does)
        meta=False, gpu=False),
    OpInfo("aten::hsplit.int", ref=lambda x, n: list(np.hsplit(x, n)), samples=[
        Sample(rand(2, 4, dtype=F64), 2), Sample(rand(6, dtype=F64), 3),
        Sample(rand(2, 4, 3, dtype=F32), 4)],
        errors=[ErrorSample(rand(2, 4, dtype=F32), 3, match="not divisible")]),
    OpInfo("aten::hsplit.array", ref=lambda x, i: list(np.hsplit(x, i)), samples=[
        Sample(rand(2, 4, dtype=F64), [1, 3]), Sample(rand(6, dtype=F32), [2])]),
    OpInfo("aten::vsplit.int", ref=lambda x, n: list(np.vsplit(x, n)), samples=[
        Sample(rand(4, 2, dtype=F64), 2), Sample(rand(3, 2, 2, dtype=F32), 3)],
        errors=[ErrorSample(rand(4, dtype=F32), 2, match="at least 2")]),
    OpInfo("aten::vsplit.array", ref=lambda x, i: list(np.vsplit(x, i)), samples=[
        Sample(rand(4, 2, dtype=F64), [1]), Sample(rand(5, 2, dtype=F32), [1, 3])]),
    OpInfo("aten::dsplit.int", ref=lambda x, n: list(np.dsplit(x, n)), samples=[
        Sample(rand(2, 2, 4, dtype=F64), 2), Sample(rand(1, 2, 3, dtype=F32), 3)],
        errors=[ErrorSample(rand(2, 4, dtype=F32), 2, match="at least 3")]),
    OpInfo("aten::dsplit.array", ref=lambda x, i: list(np.dsplit(x, i)), samples=[
        Sample(rand(2, 2, 4, dtype=F64), [1, 2])]),
    OpInfo("aten::unflatten.int", ref=_unflatten_ref, samples=[
        Sample(rand(6, dtype=F64), 0, [2, 3]), Sample(rand(2, 6, dtype=F64), 1, [3, -1]),
        Sample(rand(2, 6, 2, dtype=F32), -2, [1, 6, 1]), Sample(ints(5, 4, 3), 0, (2, 2))],
        errors=[ErrorSample(rand(6, dtype=F32), 0, [4, -1], match="multiply up")]),
    OpInfo("aten::logspace", ref=lambda s, e, n, base=10.0, dtype=None, **kw: np.logspace(
        s, e, n, base=base), samples=[
        Sample(0, 2, 3), Sample(-1, 1, 5, 2.0), Sample(0, 3, 4, dtype=G.float64)
        .expect_dtype(G.float64), Sample(0, 2, 3, dtype=G.int64).expect_dtype(G.int64),
        Sample(1, 1, 0)]),
    OpInfo("aten::empty_strided", check=_strided_check, samples=[
        Sample([2, 3], [1, 2]), Sample([2, 3], [3, 1], dtype=G.int32), Sample([0, 4], [4, 1])],
        gpu=False),
    OpInfo("aten::index_copy", ref=_index_copy_ref, samples=[
        Sample(rand(5, 3, dtype=F64), 0, np.array([4, 0, 2]), rand(3, 3, dtype=F64)),
        Sample(rand(2, 4, dtype=F64), 1, np.array([3, 1]), rand(2, 2, dtype=F64)),
        Sample(ints(5, 4, 3), -1, np.array([0, 2]), ints(5, 4, 2))],
        errors=[ErrorSample(rand(3, dtype=F32), 0, np.array([0]), np.array([1]),
                            match="same dtype")]),
    OpInfo("aten::put", ref=_put_ref, samples=[
        Sample(rand(3, 4, dtype=F64), np.array([0, 5, -1]), rand(3, dtype=F64)),
        Sample(rand(3, 4, dtype=F64), np.array([[0, 0], [5, 11]]), rand(2, 2, dtype=F64), True),
        Sample(ints(5, 6), np.array([1, 1, 2]), ints(5, 3), True)],
        errors=[ErrorSample(rand(3, dtype=F32), np.array([5]), rand(1, dtype=F32),
                            exc=IndexError, match="out of range")]),
    OpInfo("aten::scatter_reduce.two", ref=_sr_ref, samples=[
        Sample(rand(3, 4, dtype=F64), 0, np.array([[0, 1, 2, 0], [0, 1, 0, 2]]),
               rand(2, 4, dtype=F64), "sum"),
        Sample(rand(3, 4, dtype=F64), 1, np.array([[0, 0], [3, 1], [2, 2]]),
               rand(3, 2, dtype=F64), "mean", include_self=False),
        Sample(distinct(3, 4), 0, np.array([[0, 1, 2, 0], [1, 1, 0, 2]]),
               distinct(2, 4) + 0.05, "amax"),
        Sample(distinct(3, 4), 0, np.array([[0, 1, 2, 0], [1, 1, 0, 2]]),
               distinct(2, 4) + 0.05, "amin", include_self=False),
        Sample(rand(3, 4, dtype=F64, low=0.5), 0, np.array([[0, 1, 2, 0], [1, 1, 0, 2]]),
               rand(2, 4, dtype=F64, low=0.5), "prod"),
        Sample(ints(5, 3, 4), 1, np.array([[0, 0, 1]] * 3), ints(5, 3, 3), "mean"),
        Sample(ints(5, 3, 4), 1, np.array([[0, 0, 1]] * 3), ints(5, 3, 3), "prod",
               include_self=False),
        Sample(rand(4, dtype=F32), 0, np.array([1, 1, 3]), rand(5, dtype=F32), "amax")],
        errors=[ErrorSample(rand(3, dtype=F32), 0, np.array([0]), rand(1, dtype=F32), "foo",
                            match="sum, prod, mean, amax or amin")]),
    OpInfo("aten::gcd", ref=np.gcd, samples=[
        Sample(ints(30, 3, 4, low=-30), ints(30, 3, 4, low=-30)), Sample(ints(30, 4, dtype=I32), 6),
        Sample(ints(100, 5, dtype=np.uint8), ints(100, 5, dtype=np.uint8))],
        errors=[ErrorSample(rand(3, dtype=F32), rand(3, dtype=F32))]),
    OpInfo("aten::lcm", ref=np.lcm, samples=[
        Sample(ints(30, 3, 4, low=-30), ints(30, 3, 4, low=-30)),
        Sample(ints(20, 4, dtype=np.int16), ints(20, 4, dtype=np.int16))]),
    OpInfo("aten::frexp.Tensor", ref=_frexp_ref, samples=[
        Sample(rand(3, 4, dtype=F64, low=-100, high=100)), Sample(rand(5, dtype=F16)),
        Sample(rand(5, dtype=F32)), Sample(np.array([0., 1, -0.5, 1e-30]))],
        errors=[ErrorSample(ints(3, 4), match="floating-point")]),
    OpInfo("aten::i0", ref=np.i0, samples=[
        Sample(rand(3, 4, dtype=F64, low=-5, high=5)), Sample(np.array([0., 1, -3, 20, 100])),
        Sample(rand(5, dtype=F32)), Sample(ints(5, 4)).expect_dtype(G.float32),
        Sample(rand(4, dtype=F16)).tol(2e-3, 2e-3)]),
    OpInfo("aten::special_i1", ref=_i1_ref, samples=[
        Sample(rand(3, 4, dtype=F64, low=-5, high=5)), Sample(np.array([0., 1, -3, 20])),
        Sample(rand(5, dtype=F32))], rtol=1e-5, atol=1e-6),
    OpInfo("aten::special_i0e", ref=_i0e_ref, samples=[
        Sample(rand(3, 4, dtype=F64, low=-5, high=5)),
        Sample(np.array([0., 1, -3, 20, 29.9, 30.1, -45, 100, 600])),
        Sample(rand(5, dtype=F32)), Sample(ints(5, 4)).expect_dtype(G.float32),
        Sample(rand(4, dtype=F16)).tol(2e-3, 2e-3)], rtol=1e-6, atol=1e-8),
    OpInfo("aten::special_i1e", ref=_i1e_ref, samples=[
        Sample(rand(3, 4, dtype=F64, low=-5, high=5)),
        Sample(np.array([0., 1, -3, 20, 29.9, 30.1, -45, 100])),
        Sample(rand(5, dtype=F32))], rtol=1e-5, atol=1e-6),
    OpInfo("aten::isreal", ref=lambda x: np.ones(x.shape, bool), samples=[
        Sample(rand(3, 4, dtype=d)) for d in FLOAT_DTYPES + INT_DTYPES]),
]


def _nanmedian_dim_ref(x, dim, keepdim=False):
    if x.ndim == 0:
        return x.copy(), np.array(0)
    m = np.moveaxis(x, dim, -1)
    order = np.argsort(m, axis=-1, kind="stable")
    s = np.sort(m, axis=-1, kind="stable")
    cnt = (~np.isnan(m)).sum(-1, keepdims=True)
    k = np.where(cnt > 0, (cnt - 1) // 2, 0)
    v, i = np.take_along_axis(s, k, -1), np.take_along_axis(order, k, -1)
    if keepdim:
        return np.moveaxis(v, -1, dim), np.moveaxis(i, -1, dim)
    return v[..., 0], i[..., 0]


def _quantile_samples(scalar):
    x = distinct(3, 4)
    q = (lambda *v: v[0]) if scalar else (lambda *v: np.array(v, dtype=F64))
    out = [Sample(x, q(0.3, 0.7) if not scalar else 0.3),
           Sample(x, q(0.25) if not scalar else 0.5, 1, True),
           Sample(distinct(2, 5), q(0.1, 0.5, 0.9) if not scalar else 0.9, 0)]
    for m in ("lower", "higher", "midpoint", "nearest"):
        out.append(Sample(x, q(0.4, 0.375) if not scalar else 0.375, 1, interpolation=m))
    out += [Sample(rand(4, 5, dtype=F32), np.array([0.2, 0.8], dtype=F32) if not scalar else 0.2,
                   -1), Sample(x, q(0.5) if not scalar else 0.5, None, True)]
    if not scalar:
        out.append(Sample(x, np.array(0.5), 0))
    return out


def _nanq_samples(scalar):
    x = np.array([[3., 1, np.nan, 4], [2, 5, 0, 1], [np.nan, np.nan, np.nan, np.nan]])
    return _quantile_samples(scalar) + [
        Sample(x, 0.5 if scalar else np.array([0.5, 0.1]), 1),
        Sample(x, 0.5 if scalar else np.array([0.5]), None)]


_QERR = [ErrorSample(ints(3, 4), 0.5, match="float or double"),
         ErrorSample(rand(4, dtype=F32), 1.5, match=r"in the range \[0, 1\]"),
         ErrorSample(rand(4, dtype=F32), 0.5, interpolation="foo", match="interpolation"),
         ErrorSample(np.zeros(0, F32), 0.5, match="non-empty")]

OPINFOS += [
    OpInfo("aten::quantile", ref=_quantile_ref(np.quantile),
           samples=lambda: _quantile_samples(False) + [Sample(_NAN, np.array([0.5]), 1)],
           errors=[ErrorSample(rand(4, dtype=F32), np.array([[0.5]], dtype=F32),
                               match="scalar or 1D")]),
    OpInfo("aten::quantile.scalar", ref=_quantile_ref(np.quantile),
           samples=lambda: _quantile_samples(True) + [Sample(_NAN, 0.5, 1)], errors=_QERR),
    OpInfo("aten::nanquantile", ref=_quantile_ref(np.nanquantile),
           samples=lambda: _nanq_samples(False)),
    OpInfo("aten::nanquantile.scalar", ref=_quantile_ref(np.nanquantile),
           samples=lambda: _nanq_samples(True)),
]


def _inplace_of(name):
    """The OpInfo of an in-place op declared on its own (index_copy_): the out-of-place
    samples and reference (the harness copies each sample before the call)."""
    base = next(i for i in OPINFOS if i.name == f"aten::{name}")
    return OpInfo(f"aten::{name}_" if "." not in name else
                  "aten::" + name.replace(".", "_.", 1), ref=base.ref,
                  samples=base.samples, errors=base.errors)


OPINFOS += [_inplace_of("index_copy"), _inplace_of("put"), _inplace_of("scatter_reduce.two")]


# ------------------------------------------------------------------ segment_reduce

def _segment_ref(data, reduce, lengths=None, indices=None, offsets=None, axis=0,
                 unsafe=False, initial=None):
    """A loop over segments, from torch.segment_reduce's docs (2-D lengths / offsets: one
    set of segments per row of data)."""
    ref = np.asarray(lengths if lengths is not None else offsets)
    if ref.ndim == 2:
        return np.stack([_segment_ref(np.asarray(data)[i], reduce,
                                      None if lengths is None else ref[i], None,
                                      None if offsets is None else ref[i], axis - 1, unsafe,
                                      initial) for i in range(ref.shape[0])])
    if lengths is not None:
        lens = np.asarray(lengths)
        starts = np.cumsum(lens) - lens
    else:
        offs = np.asarray(offsets)
        lens, starts = np.diff(offs), offs[:-1]
    d = np.moveaxis(np.asarray(data, np.float64), axis, 0)
    ident = {"sum": 0.0, "prod": 1.0, "max": -np.inf, "min": np.inf, "mean": np.nan}[reduce]
    rows = []
    for a, n in zip(starts, lens):
        seg = d[a:a + n]
        if n == 0:
            r = np.full(d.shape[1:], ident if initial is None else initial)
        else:
            r = {"sum": seg.sum, "prod": seg.prod, "max": seg.max, "min": seg.min,
                 "mean": seg.sum}[reduce](0)
            if initial is not None:
                r = {"sum": r + initial, "prod": r * initial, "max": np.maximum(r, initial),
                     "min": np.minimum(r, initial), "mean": r + initial}[reduce]
            if reduce == "mean":
                r = r / n
        rows.append(r)
    return np.moveaxis(np.stack(rows), 0, axis).astype(np.asarray(data).dtype)


def _segment_samples():
    out = []
    for dt in (F32, F64):
        for red in ("sum", "mean", "max", "min", "prod"):
            smp = Sample(distinct(6, dtype=dt), red, lengths=np.array([2, 0, 3, 1]))
            # (mean of the empty segment is nan: no finite differences there)
            out.append(smp.no_grad() if red == "mean" else smp)
            out.append(Sample(distinct(6, 2, dtype=dt), red, lengths=np.array([4, 2]),
                              initial=0.5))
        out.append(Sample(distinct(3, 5, dtype=dt), "sum",
                          offsets=np.array([[1, 3, 5], [0, 2, 5], [0, 0, 4]]), axis=1))
    return out


OPINFOS += [
    OpInfo("aten::segment_reduce", ref=_segment_ref, samples=_segment_samples, errors=[
        ErrorSample(rand(4, dtype=F32), "sum", lengths=np.array([2, 1]),
                    match="sum to data.size"),
        ErrorSample(rand(4, dtype=F32), "foo", lengths=np.array([4]), match="reduce argument"),
        ErrorSample(rand(4, dtype=F32), "sum", match="Either lengths or offsets"),
        ErrorSample(rand(4, dtype=F32), "sum", lengths=np.array([5, -1]),
                    match="negative value")]),
    OpInfo("aten::_segment_reduce_backward", samples=[
        Sample(rand(2, dtype=F64), np.array([2.0, 4.0]), distinct(4), "max",
               lengths=np.array([3, 1]))],
        ref=lambda g, out, d, red, lengths=None, offsets=None, axis=0, initial=None:
            np.array([0.0, 0.0, 0.0, 0.0]) * 0 + np.where(
                np.asarray(d) == np.repeat(np.asarray(out), np.asarray(lengths)),
                np.repeat(np.asarray(g), np.asarray(lengths)), 0.0), grad=False),
]
