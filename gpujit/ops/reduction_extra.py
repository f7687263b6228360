"""More reductions, scans, searches and index ops PyTorch users call: unique /
unique_consecutive, median / nanmedian, kthvalue, mode, quantile / nanquantile, nansum /
nanmean, count_nonzero, cummax / cummin, logcumsumexp, diff, searchsorted / bucketize,
bincount, histc, isin, tensor_split / hsplit / vsplit / dsplit, unflatten, logspace,
empty_strided, index_copy, put, scatter_reduce, and the pointwise gcd, lcm, frexp, i0,
isreal.

Bodies use only what NumPy and CuPy both have (sort, argsort, take_along_axis, bincount,
searchsorted, isin, ...); scans that CuPy has no ufunc.accumulate for (cummax, cummin,
logcumsumexp) run as log2(n) doubling steps. The pointwise ops here (gcd, lcm, i0,
special_i1) declare no `scalar=` expression and carry the `no_fuse` tag: they run eagerly
and are not fused. Python entry points with PyTorch's
calling conventions (torch.unique's optional outputs, tensor_split's int-or-list) are in
`PUBLIC`.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu
from .meta import TensorMeta, int_list, reduce_shape, wrap_dim
from .registry import op, OPS, tensor_method
from .overlap import no_overlap

PUBLIC = {}

_RED = {"reduction"}
_SHAPE = {"shape"}
_VIEW = {"view"}
# pointwise ops without a scalar expression: the fuser leaves them out of fusion groups
# (gcd/lcm need a loop, i0/i1 a series the scalar language has no form for)
_PW = {"pointwise", "no_fuse"}
_LONG = np.dtype(np.int64)
_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
FLOATS = (_dt.float16, _dt.float32, _dt.float64)
INTS = (_dt.uint8, _dt.int8, _dt.int16, _dt.int32, _dt.int64)


def _dt_of(a):
    return _dt.from_numpy_dtype(a.dtype)


def _is_float(a):
    return a.dtype.kind == "f"


def _sort_last(xp, a):
    """(sorted values, int64 indices) along the last axis, stable, NaN last."""
    if xp is np:
        idx = np.argsort(a, axis=-1, kind="stable")
    else:
        idx = xp.argsort(a, axis=-1)
    return xp.take_along_axis(a, idx, axis=-1), idx.astype(_LONG, copy=False)


def _isnan(xp, a):
    return xp.isnan(a) if _is_float(a) else xp.zeros(a.shape, dtype=bool)


def _last(xp, a, d):
    return xp.moveaxis(a, d, -1)


def _meta_dim(self, dtype, dim, keepdim):
    return TensorMeta(dtype, reduce_shape(tuple(self.shape), dim, keepdim), self.device)


def _pair_meta(self, dim, keepdim=False):
    if len(self.shape):
        wrap_dim(dim, len(self.shape))
    m = _meta_dim(self, self.dtype, dim, keepdim) if len(self.shape) else \
        TensorMeta(self.dtype, (), self.device)
    return m, TensorMeta(_dt.int64, tuple(m.shape), self.device)


def _check_dim_nonempty(name, a, d):
    if a.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _doubling_scan(xp, a, fn):
    """Inclusive scan of the binary op fn along the last axis in log2(n) steps."""
    n = a.shape[-1]
    k = 1
    while k < n:
        a = xp.concatenate([a[..., :k], fn(a[..., k:], a[..., :-k])], axis=-1)
        k *= 2
    return a


# ------------------------------------------------------------------ unique

def _unique_flat(xp, a, return_inverse, return_counts):
    flat = a.reshape(-1)
    if flat.size == 0:
        e = xp.zeros(0, _LONG)
        return flat.copy(), xp.zeros(a.shape, _LONG), e
    s, order = _sort_last(xp, flat)
    if _is_float(s):     # NaNs are all distinct, as in PyTorch
        new = xp.concatenate([xp.ones(1, dtype=bool), (s[1:] != s[:-1]) | xp.isnan(s[1:])])
    else:
        new = xp.concatenate([xp.ones(1, dtype=bool), s[1:] != s[:-1]])
    vals = s[new]
    group = xp.cumsum(new) - 1
    inverse = xp.empty(flat.shape, _LONG)
    inverse[order] = group
    starts = xp.nonzero(new)[0]
    counts = xp.diff(xp.concatenate([starts, xp.asarray([flat.size])])).astype(_LONG)
    return vals, inverse.reshape(a.shape), counts


def _three(self_meta, n_shape=(None,)):
    return (TensorMeta(self_meta.dtype, n_shape, self_meta.device),
            TensorMeta(_dt.int64, (None,), self_meta.device),
            TensorMeta(_dt.int64, (None,), self_meta.device))


@op("aten::_unique2(Tensor self, bool sorted=True, bool return_inverse=False, "
    "bool return_counts=False) -> (Tensor, Tensor, Tensor)", tags=_SHAPE, method=False,
    function=False,
    meta=lambda self, sorted=True, return_inverse=False, return_counts=False: (
        TensorMeta(self.dtype, (None,), self.device),
        TensorMeta(_dt.int64, tuple(self.shape) if return_inverse else (0,), self.device),
        TensorMeta(_dt.int64, (None,) if return_counts else (0,), self.device)))
def _unique2(xp, self, sorted=True, return_inverse=False, return_counts=False):
    vals, inv, counts = _unique_flat(xp, self, return_inverse, return_counts)
    return (vals, inv if return_inverse else xp.zeros(0, _LONG),
            counts if return_counts else xp.zeros(0, _LONG))


def _rows_unique(xp, a, d, consecutive):
    """unique along dim d: (values, inverse, counts) of the slices a[..., i, ...]."""
    if a.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    m = xp.moveaxis(a, d, 0)
    n = m.shape[0]
    rows = m.reshape(n, -1)
    if n == 0:
        return a.copy(), xp.zeros(0, _LONG), xp.zeros(0, _LONG)
    if consecutive:
        order = xp.arange(n)
    else:
        # lexicographic order of the rows: stable sorts from the last column to the first
        order = xp.arange(n)
        for c in range(rows.shape[1] - 1, -1, -1):
            col = rows[order, c]
            o = np.argsort(col, kind="stable") if xp is np else xp.argsort(col)
            order = order[o]
    s = rows[order]
    if rows.shape[1]:
        diff = (s[1:] != s[:-1]).any(axis=1)
    else:
        diff = xp.zeros(n - 1, dtype=bool)
    new = xp.concatenate([xp.ones(1, dtype=bool), diff])
    group = xp.cumsum(new) - 1
    inverse = xp.empty(n, _LONG)
    inverse[order] = group
    starts = xp.nonzero(new)[0]
    counts = xp.diff(xp.concatenate([starts, xp.asarray([n])])).astype(_LONG)
    vals = m[order[starts]]
    return xp.moveaxis(vals, 0, d), inverse, counts


def _unique_dim_meta(self, dim, sorted=True, return_inverse=False, return_counts=False):
    d = wrap_dim(dim, len(self.shape))
    shape = tuple(None if i == d else s for i, s in enumerate(self.shape))
    return (TensorMeta(self.dtype, shape, self.device),
            TensorMeta(_dt.int64, (self.shape[d],) if return_inverse else (0,), self.device),
            TensorMeta(_dt.int64, (None,) if return_counts else (0,), self.device))


@op("aten::unique_dim(Tensor self, int dim, bool sorted=True, bool return_inverse=False, "
    "bool return_counts=False) -> (Tensor, Tensor, Tensor)", tags=_SHAPE, method=False,
    function=False, meta=_unique_dim_meta)
def unique_dim(xp, self, dim, sorted=True, return_inverse=False, return_counts=False):
    d = wrap_dim(dim, self.ndim)
    vals, inv, counts = _rows_unique(xp, self, d, False)
    return (vals, inv if return_inverse else xp.zeros(0, _LONG),
            counts if return_counts else xp.zeros(0, _LONG))


def _uc_meta(self, return_inverse=False, return_counts=False, dim=None):
    if dim is None:
        inv = tuple(self.shape)
        vshape = (None,)
    else:
        d = wrap_dim(dim, len(self.shape))
        inv = (self.shape[d],)
        vshape = tuple(None if i == d else s for i, s in enumerate(self.shape))
    return (TensorMeta(self.dtype, vshape, self.device),
            TensorMeta(_dt.int64, inv if return_inverse else (0,), self.device),
            TensorMeta(_dt.int64, (None,) if return_counts else (0,), self.device))


@op("aten::unique_consecutive(Tensor self, bool return_inverse=False, "
    "bool return_counts=False, int? dim=None) -> (Tensor, Tensor, Tensor)", tags=_SHAPE,
    method=False, function=False, meta=_uc_meta)
def unique_consecutive_(xp, self, return_inverse=False, return_counts=False, dim=None):
    if dim is None:
        flat = self.reshape(-1)
        if flat.size == 0:
            vals, inv, counts = flat.copy(), xp.zeros(self.shape, _LONG), xp.zeros(0, _LONG)
        else:
            new = xp.concatenate([xp.ones(1, dtype=bool), flat[1:] != flat[:-1]])
            vals = flat[new]
            inv = (xp.cumsum(new) - 1).astype(_LONG).reshape(self.shape)
            starts = xp.nonzero(new)[0]
            counts = xp.diff(xp.concatenate([starts, xp.asarray([flat.size])])).astype(_LONG)
    else:
        vals, inv, counts = _rows_unique(xp, self, wrap_dim(dim, self.ndim), True)
    return (vals, inv if return_inverse else xp.zeros(0, _LONG),
            counts if return_counts else xp.zeros(0, _LONG))


def _unique3(input, sorted: bool, return_inverse: bool, return_counts: bool,
             dim: Optional[int]):
    if dim is None:
        return _unique2_op(input, sorted, return_inverse, return_counts)
    return _unique_dim_op(input, dim, sorted, return_inverse, return_counts)


def unique(input, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: Optional[int] = None):
    """torch.unique: the sorted unique values, and optionally the inverse indices and the
    counts (a tuple then, as PyTorch). Scripted code compiles the variant its literal
    flags select (TorchScript's boolean dispatch)."""
    vals, inv, counts = _unique3(input, sorted, return_inverse, return_counts, dim)
    if return_inverse and return_counts:
        return vals, inv, counts
    if return_inverse:
        return vals, inv
    if return_counts:
        return vals, counts
    return vals


def _unique_00(input, sorted: bool = True, return_inverse: bool = False,
               return_counts: bool = False, dim: Optional[int] = None):
    return _unique3(input, sorted, False, False, dim)[0]


def _unique_10(input, sorted: bool = True, return_inverse: bool = False,
               return_counts: bool = False, dim: Optional[int] = None):
    vals, inv, counts = _unique3(input, sorted, True, False, dim)
    return vals, inv


def _unique_01(input, sorted: bool = True, return_inverse: bool = False,
               return_counts: bool = False, dim: Optional[int] = None):
    vals, inv, counts = _unique3(input, sorted, False, True, dim)
    return vals, counts


def _unique_11(input, sorted: bool = True, return_inverse: bool = False,
               return_counts: bool = False, dim: Optional[int] = None):
    return _unique3(input, sorted, True, True, dim)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,
                       dim: Optional[int] = None):
    """torch.unique_consecutive: collapses runs of equal consecutive values (slices)."""
    vals, inv, counts = _uc_op(input, return_inverse, return_counts, dim)
    if return_inverse and return_counts:
        return vals, inv, counts
    if return_inverse:
        return vals, inv
    if return_counts:
        return vals, counts
    return vals


def _uc_00(input, return_inverse: bool = False, return_counts: bool = False,
           dim: Optional[int] = None):
    return _uc_op(input, False, False, dim)[0]


def _uc_10(input, return_inverse: bool = False, return_counts: bool = False,
           dim: Optional[int] = None):
    vals, inv, counts = _uc_op(input, True, False, dim)
    return vals, inv


def _uc_01(input, return_inverse: bool = False, return_counts: bool = False,
           dim: Optional[int] = None):
    vals, inv, counts = _uc_op(input, False, True, dim)
    return vals, counts


def _uc_11(input, return_inverse: bool = False, return_counts: bool = False,
           dim: Optional[int] = None):
    return _uc_op(input, True, True, dim)


def _dispatch_flags(fn, variants, inv_pos, cnt_pos):
    """fn dispatches on return_counts, then on return_inverse, to its fixed variants."""
    for v in variants.values():
        v.__gpujit_script_source__ = True
    by_inv = {}
    for cnt in (False, True):
        def pick(*a, **k):
            raise AssertionError("a dispatch node: only scripted code uses it")
        pick.__gpujit_boolean_dispatch__ = ("return_inverse", inv_pos, False,
                                            variants[True, cnt], variants[False, cnt])
        by_inv[cnt] = pick
    fn.__gpujit_boolean_dispatch__ = ("return_counts", cnt_pos, False, by_inv[True],
                                      by_inv[False])


_unique2_op = OPS["aten::_unique2"].public
_unique3.__gpujit_script_source__ = True
_unique_dim_op = OPS["aten::unique_dim"].public
_uc_op = OPS["aten::unique_consecutive"].public
_dispatch_flags(unique, {(False, False): _unique_00, (True, False): _unique_10,
                         (False, True): _unique_01, (True, True): _unique_11}, 2, 3)
_dispatch_flags(unique_consecutive, {(False, False): _uc_00, (True, False): _uc_10,
                                     (False, True): _uc_01, (True, True): _uc_11}, 1, 2)
PUBLIC["unique"] = unique
PUBLIC["unique_consecutive"] = unique_consecutive


@tensor_method("unique")
def _unique_method(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
    return unique(self, sorted, return_inverse, return_counts, dim)


@tensor_method("unique_consecutive")
def _uc_method(self, return_inverse=False, return_counts=False, dim=None):
    return unique_consecutive(self, return_inverse, return_counts, dim)


# ------------------------------------------------------------------ median / kthvalue / mode

def _median_all(xp, a, ignore_nan):
    flat = a.reshape(-1)
    if flat.size == 0:
        return xp.asarray(xp.nan, dtype=a.dtype) if _is_float(a) else \
            xp.zeros((), a.dtype)
    s, _ = _sort_last(xp, flat)
    nans = _isnan(xp, s)
    if ignore_nan:
        cnt = int(flat.size - int(nans.sum()))
        if cnt == 0:
            return s[0].copy()
        return s[(cnt - 1) // 2].copy()
    if bool(nans.any()):
        return xp.asarray(xp.nan, dtype=a.dtype)
    return s[(flat.size - 1) // 2].copy()


def _median_dim(xp, a, dim, keepdim, ignore_nan, name):
    if a.ndim == 0:
        return a.copy(), xp.zeros((), _LONG)
    d = wrap_dim(dim, a.ndim)
    _check_dim_nonempty(name, a, d)
    m = _last(xp, a, d)
    s, idx = _sort_last(xp, m)
    n = m.shape[-1]
    nans = _isnan(xp, s)
    nan_count = nans.sum(axis=-1, keepdims=True)
    if ignore_nan:
        cnt = n - nan_count
        k = xp.where(cnt > 0, (cnt - 1) // 2, 0)
    else:   # a slice with a NaN gives NaN and the index of its first NaN
        k = xp.where(nan_count > 0, n - nan_count, (n - 1) // 2)
    k = k.astype(_LONG)
    v = xp.take_along_axis(s, k, axis=-1)
    i = xp.take_along_axis(idx, k, axis=-1)
    if keepdim:
        return xp.moveaxis(v, -1, d), xp.moveaxis(i, -1, d)
    return v[..., 0], i[..., 0]


@op("aten::median(Tensor self) -> Tensor", tags=_RED,
    meta=lambda self: TensorMeta(self.dtype, (), self.device))
def median(xp, self):
    """The lower of the two middle values (PyTorch does not average); NaN if any."""
    return _median_all(xp, self, False)


@op("aten::median.dim(Tensor self, int dim, bool keepdim=False) -> "
    "(Tensor values, Tensor indices)", tags=_RED, meta=_pair_meta)
def median_dim(xp, self, dim, keepdim=False):
    return _median_dim(xp, self, dim, keepdim, False, "median")


@op("aten::nanmedian(Tensor self) -> Tensor", tags=_RED,
    meta=lambda self: TensorMeta(self.dtype, (), self.device))
def nanmedian(xp, self):
    return _median_all(xp, self, True)


@op("aten::nanmedian.dim(Tensor self, int dim, bool keepdim=False) -> "
    "(Tensor values, Tensor indices)", tags=_RED, meta=_pair_meta)
def nanmedian_dim(xp, self, dim, keepdim=False):
    return _median_dim(xp, self, dim, keepdim, True, "nanmedian")


@op("aten::kthvalue(Tensor self, int k, int dim=-1, bool keepdim=False) -> "
    "(Tensor values, Tensor indices)", tags=_RED,
    meta=lambda self, k, dim=-1, keepdim=False: _pair_meta(self, dim, keepdim))
def kthvalue(xp, self, k, dim=-1, keepdim=False):
    d = wrap_dim(dim, self.ndim)
    n = self.shape[d] if self.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if self.ndim == 0:
        return self.copy(), xp.zeros((), _LONG)
    s, idx = _sort_last(xp, _last(xp, self, d))
    v, i = s[..., k - 1:k], idx[..., k - 1:k]
    if keepdim:
        return xp.moveaxis(v, -1, d), xp.moveaxis(i, -1, d)
    return v[..., 0], i[..., 0]


@op("aten::mode(Tensor self, int dim=-1, bool keepdim=False) -> "
    "(Tensor values, Tensor indices)", tags=_RED,
    meta=lambda self, dim=-1, keepdim=False: _pair_meta(self, dim, keepdim))
def mode(xp, self, dim=-1, keepdim=False):
    """The most frequent value of each slice (the smallest among equally frequent ones)
    and the index of its last occurrence, as PyTorch's CPU kernel."""
    if self.ndim == 0:
        return self.copy(), xp.zeros((), _LONG)
    d = wrap_dim(dim, self.ndim)
    _check_dim_nonempty("mode", self, d)
    m = _last(xp, self, d)
    lead = m.shape[:-1]
    n = m.shape[-1]
    s, idx = _sort_last(xp, m.reshape(-1, n))
    rows = s.shape[0]
    new = xp.concatenate([xp.ones((rows, 1), dtype=bool), s[:, 1:] != s[:, :-1]], axis=1)
    run = xp.cumsum(new, axis=1) - 1                    # run id within the row
    key = (xp.arange(rows)[:, None] * n + run).reshape(-1)
    counts = xp.bincount(key, minlength=rows * n)[key].reshape(rows, n)
    first = xp.argmax(counts, axis=1)[:, None]          # start of the first longest run
    end = first + xp.take_along_axis(counts, first, axis=1) - 1
    v = xp.take_along_axis(s, end, axis=1).reshape(lead + (1,))
    i = xp.take_along_axis(idx, end, axis=1).reshape(lead + (1,))
    if keepdim:
        return xp.moveaxis(v, -1, d), xp.moveaxis(i, -1, d)
    return v[..., 0], i[..., 0]


# ------------------------------------------------------------------ quantile

_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_checks(self_dt, q_shape, interpolation, name):
    if self_dt not in (_dt.float32, _dt.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if q_shape is not None and len(q_shape) > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if interpolation not in _INTERP:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")


def _quantile_meta(name, scalar_q):
    def meta(self, q, dim=None, keepdim=False, interpolation="linear"):
        q_shape = () if scalar_q else tuple(q.shape)
        _quantile_checks(self.dtype, q_shape, interpolation, name)
        if dim is None:
            shape = (1,) * len(self.shape) if keepdim else ()
        else:
            shape = reduce_shape(tuple(self.shape), dim, keepdim) if self.shape else ()
        return TensorMeta(self.dtype, tuple(q_shape) + tuple(shape), self.device)
    return meta


def _quantile(xp, a, q, dim, keepdim, interpolation, ignore_nan, name):
    _quantile_checks(_dt_of(a), None if isinstance(q, float) else q.shape, interpolation,
                     name)
    if a.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    scalar_q = isinstance(q, (float, int))
    qa = xp.asarray([float(q)] if scalar_q else q, dtype=a.dtype).reshape(-1)
    if scalar_q:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
    else:
        if q.dtype != a.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if xp is np and qa.size and (qa.min() < 0 or qa.max() > 1):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if dim is None:
        m = a.reshape(1, -1)
        out_shape = (1,) * a.ndim if keepdim else ()
    elif a.ndim == 0:
        wrap_dim(dim, 0)
        m = a.reshape(1, 1)
        out_shape = ()
    else:
        d = wrap_dim(dim, a.ndim)
        m = _last(xp, a, d)
        out_shape = reduce_shape(a.shape, d, keepdim)
        m = m.reshape(-1, m.shape[-1])
    s, _ = _sort_last(xp, m)                   # (rows, n), NaN last
    n = s.shape[-1]
    nan_count = xp.isnan(s).sum(axis=-1, keepdims=True)    # (rows, 1)
    cnt = (n - nan_count) if ignore_nan else xp.full(nan_count.shape, n)
    rank = qa[None, :] * (cnt - 1).astype(a.dtype)         # (rows, nq)
    if not ignore_nan:
        rank = xp.where(nan_count > 0, float(n - 1), rank)
    lo = xp.floor(rank)
    hi = xp.ceil(rank)
    if interpolation == "lower":
        rank = lo
    elif interpolation == "higher":
        rank = hi
    elif interpolation == "nearest":
        rank = xp.round(rank)
    lo_i = xp.clip(lo, 0, n - 1).astype(_LONG)
    hi_i = xp.clip(hi, 0, n - 1).astype(_LONG)
    if interpolation in ("lower", "higher", "nearest"):
        r = xp.take_along_axis(s, xp.clip(rank, 0, n - 1).astype(_LONG), axis=-1)
    else:
        vlo = xp.take_along_axis(s, lo_i, axis=-1)
        vhi = xp.take_along_axis(s, hi_i, axis=-1)
        w = xp.asarray(0.5, dtype=a.dtype) if interpolation == "midpoint" else rank - lo
        r = xp.where(w < 0.5, vlo + w * (vhi - vlo), vhi - (vhi - vlo) * (1 - w))
    if ignore_nan:
        r = xp.where(cnt == 0, xp.nan, r)
    if not ignore_nan:
        r = xp.where(nan_count > 0, xp.nan, r)
    r = xp.moveaxis(r, -1, 0).astype(a.dtype, copy=False)          # (nq, rows)
    r = r.reshape((qa.size,) + tuple(out_shape))
    return r[0] if scalar_q or q.ndim == 0 else r


def _declare_quantile(name, ignore_nan):
    @op(f"aten::{name}(Tensor self, Tensor q, int? dim=None, bool keepdim=False, *, "
        "str interpolation='linear') -> Tensor", tags=_RED, meta=_quantile_meta(name, False))
    def tensor_q(xp, self, q, dim=None, keepdim=False, interpolation="linear"):
        return _quantile(xp, self, q, dim, keepdim, interpolation, ignore_nan, name)

    @op(f"aten::{name}.scalar(Tensor self, float q, int? dim=None, bool keepdim=False, *, "
        "str interpolation='linear') -> Tensor", tags=_RED, meta=_quantile_meta(name, True))
    def float_q(xp, self, q, dim=None, keepdim=False, interpolation="linear"):
        return _quantile(xp, self, float(q), dim, keepdim, interpolation, ignore_nan, name)

    tensor_q.__name__, float_q.__name__ = name, f"{name}_scalar"
    return tensor_q, float_q


quantile, quantile_scalar = _declare_quantile("quantile", False)
nanquantile, nanquantile_scalar = _declare_quantile("nanquantile", True)


# ------------------------------------------------------------------ nansum / nanmean

def _axes(dim, ndim):
    from .reduction import _axes as axes
    return axes(dim, ndim)


def _nansum_dtype(self_dt, dtype):
    if dtype is not None:
        return _dt.to_dtype(dtype)
    return self_dt if self_dt.category == _dt.FLOATING else _dt.int64


@op("aten::nansum(Tensor self, int[1]? dim=None, bool keepdim=False, *, "
    "ScalarType? dtype=None) -> Tensor", tags=_RED,
    meta=lambda self, dim=None, keepdim=False, dtype=None:
    _meta_dim(self, _nansum_dtype(self.dtype, dtype), dim, keepdim))
def nansum(xp, self, dim=None, keepdim=False, dtype=None):
    out = _nansum_dtype(_dt_of(self), dtype).np
    a = xp.where(xp.isnan(self), 0, self) if _is_float(self) else self
    acc = _F32 if out == _F16 else out
    return a.sum(_axes(dim, self.ndim), acc, keepdims=keepdim).astype(out, copy=False)


def _nanmean_dtype(self_dt, dtype):
    d = self_dt if dtype is None else _dt.to_dtype(dtype)
    if d.category != _dt.FLOATING:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex "
                           f"dtype but got {d.short_name}")
    return d


@op("aten::nanmean(Tensor self, int[1]? dim=None, bool keepdim=False, *, "
    "ScalarType? dtype=None) -> Tensor", tags=_RED,
    meta=lambda self, dim=None, keepdim=False, dtype=None:
    _meta_dim(self, _nanmean_dtype(self.dtype, dtype), dim, keepdim))
def nanmean(xp, self, dim=None, keepdim=False, dtype=None):
    out = _nanmean_dtype(_dt_of(self), dtype).np
    axes = _axes(dim, self.ndim)
    nan = xp.isnan(self)
    acc = _F32 if out == _F16 else out
    s = xp.where(nan, 0, self).sum(axes, acc, keepdims=keepdim)
    n = (~nan).sum(axes, keepdims=keepdim)
    return (s / n).astype(out, copy=False)


# ------------------------------------------------------------------ count_nonzero

@op("aten::count_nonzero(Tensor self, int? dim=None) -> Tensor", tags=_RED,
    meta=lambda self, dim=None: _meta_dim(self, _dt.int64, dim, False))
def count_nonzero(xp, self, dim=None):
    return xp.asarray((self != 0).sum(_axes(dim, self.ndim))).astype(_LONG)


@op("aten::count_nonzero.dim_IntList(Tensor self, int[] dim) -> Tensor", tags=_RED,
    meta=lambda self, dim: _meta_dim(self, _dt.int64, list(dim) or None, False))
def count_nonzero_dims(xp, self, dim):
    return xp.asarray((self != 0).sum(_axes(list(dim), self.ndim))).astype(_LONG)


# ------------------------------------------------------------------ cummax / cummin / logcumsumexp

def _cum_extreme(xp, a, dim, name):
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return a.copy(), xp.zeros((), _LONG)
    m = _last(xp, a, d)
    if m.shape[-1] == 0:
        return a.copy(), xp.zeros(a.shape, _LONG)
    fn = xp.maximum if name == "cummax" else xp.minimum
    v = _doubling_scan(xp, m, fn)
    same = m == v
    if _is_float(m):
        same = same | (xp.isnan(m) & xp.isnan(v))
    pos = xp.broadcast_to(xp.arange(m.shape[-1], dtype=_LONG), m.shape)
    cand = xp.where(same, pos, -1)
    i = _doubling_scan(xp, cand, xp.maximum)    # the last position the extreme was reached
    return xp.moveaxis(v, -1, d).astype(a.dtype, copy=False), xp.moveaxis(i, -1, d)


def _cum_meta(self, dim):
    if len(self.shape):
        wrap_dim(dim, len(self.shape))
    return (TensorMeta(self.dtype, tuple(self.shape), self.device),
            TensorMeta(_dt.int64, tuple(self.shape), self.device))


@op("aten::cummax(Tensor self, int dim) -> (Tensor values, Tensor indices)", tags=_RED,
    meta=_cum_meta)
def cummax(xp, self, dim):
    return _cum_extreme(xp, self, dim, "cummax")


@op("aten::cummin(Tensor self, int dim) -> (Tensor values, Tensor indices)", tags=_RED,
    meta=_cum_meta)
def cummin(xp, self, dim):
    return _cum_extreme(xp, self, dim, "cummin")


def _lcse_check(d):
    if d.category != _dt.FLOATING:
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for "
                                  f"'{d.short_name}'")
    return d


@op("aten::logcumsumexp(Tensor self, int dim) -> Tensor", tags=_RED,
    meta=lambda self, dim: TensorMeta(_lcse_check(self.dtype), tuple(self.shape),
                                      self.device))
def logcumsumexp(xp, self, dim):
    _lcse_check(_dt_of(self))
    d = wrap_dim(dim, self.ndim)
    if self.ndim == 0 or self.size == 0:
        return self.copy()
    m = _last(xp, self, d)
    x = m.astype(_F32) if m.dtype == _F16 else m
    r = _doubling_scan(xp, x, xp.logaddexp)
    return xp.moveaxis(r, -1, d).astype(self.dtype, copy=False)


# ------------------------------------------------------------------ diff

def _diff_rule(shape, n, dim, pre, app):
    if len(shape) == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, len(shape))
    size = shape[d] + (pre[d] if pre is not None else 0) + (app[d] if app is not None else 0)
    for other in (pre, app):
        if other is not None and len(other) != len(shape):
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               "input")
    return d, tuple(max(size - n, 0) if i == d else s for i, s in enumerate(shape))


def _diff_meta(self, n=1, dim=-1, prepend=None, append=None):
    pre = tuple(prepend.shape) if prepend is not None else None
    app = tuple(append.shape) if append is not None else None
    _, shape = _diff_rule(tuple(self.shape), n, dim, pre, app)
    return TensorMeta(self.dtype, shape, self.device)


@op("aten::diff(Tensor self, int n=1, int dim=-1, Tensor? prepend=None, "
    "Tensor? append=None) -> Tensor", tags=_SHAPE, meta=_diff_meta)
def diff(xp, self, n=1, dim=-1, prepend=None, append=None):
    d, _ = _diff_rule(self.shape, n, dim, None if prepend is None else prepend.shape,
                      None if append is None else append.shape)
    parts = [p for p in (prepend, self, append) if p is not None]
    a = xp.concatenate([p.astype(self.dtype, copy=False) for p in parts], axis=d) \
        if len(parts) > 1 else self
    for _ in range(n):
        if a.shape[d] == 0:
            break
        hi = a[(slice(None),) * d + (slice(1, None),)]
        lo = a[(slice(None),) * d + (slice(None, -1),)]
        a = (hi != lo) if a.dtype == bool else hi - lo
    return a.astype(self.dtype, copy=False)


# ------------------------------------------------------------------ searchsorted / bucketize

def _side(right, side):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' "
                               f"but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to "
                               "opposites, got side of left while right was True")
        return side
    return "right" if right else "left"


def _ss_rule(seq_shape, val_shape, sorter_shape=None):
    if sorter_shape is not None and tuple(sorter_shape) != tuple(seq_shape):
        raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same "
                           f"size, but got boundary tensor {list(seq_shape)}and got sorter "
                           f"tensor {list(sorter_shape)}")
    if len(seq_shape) == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if len(seq_shape) > 1 and (len(val_shape) != len(seq_shape)
                               or tuple(val_shape[:-1]) != tuple(seq_shape[:-1])):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension "
                           f"or the first N-1 dimensions of boundaries tensor and input "
                           f"value tensor must match, but we got boundaries tensor "
                           f"{list(seq_shape)} and input value tensor {list(val_shape)}")


def _searchsorted(xp, seq, values, out_int32, side, sorter):
    if sorter is not None:
        from .bounds import check
        check(xp, sorter, seq.shape[-1] if seq.ndim else 1, exc=RuntimeError,
              msg="torch.searchsorted(): sorter index out of range")
        seq = xp.take_along_axis(seq, sorter.astype(_LONG), axis=-1)
    ct = np.result_type(seq.dtype, values.dtype)
    seq = seq.astype(ct, copy=False)
    values = xp.asarray(values).astype(ct, copy=False)
    if seq.ndim == 1:
        r = xp.searchsorted(seq, values, side=side)
    else:
        lead = seq.shape[:-1]
        s2 = seq.reshape(-1, seq.shape[-1])
        v2 = values.reshape(s2.shape[0], -1)
        r = xp.stack([xp.searchsorted(s2[i], v2[i], side=side) for i in range(s2.shape[0])]) \
            if s2.shape[0] else xp.zeros(v2.shape, _LONG)
        r = r.reshape(lead + values.shape[-1:])
    return xp.asarray(r).astype(np.int32 if out_int32 else _LONG)


def _ss_meta(sorted_sequence, self, out_int32=False, right=False, side=None, sorter=None):
    _side(right, side)
    shape = tuple(self.shape) if isinstance(self, TensorMeta) else ()
    _ss_rule(tuple(sorted_sequence.shape), shape,
             None if sorter is None else tuple(sorter.shape))
    return TensorMeta(_dt.int32 if out_int32 else _dt.int64, shape, sorted_sequence.device)


@op("aten::searchsorted.Tensor(Tensor sorted_sequence, Tensor self, *, "
    "bool out_int32=False, bool right=False, str? side=None, Tensor? sorter=None) -> Tensor",
    tags=_SHAPE, method=False, meta=_ss_meta)
def searchsorted(xp, sorted_sequence, self, out_int32=False, right=False, side=None,
                 sorter=None):
    s = _side(right, side)
    _ss_rule(sorted_sequence.shape, self.shape, None if sorter is None else sorter.shape)
    return _searchsorted(xp, sorted_sequence, self, out_int32, s, sorter)


@op("aten::searchsorted.Scalar(Tensor sorted_sequence, Scalar self, *, "
    "bool out_int32=False, bool right=False, str? side=None, Tensor? sorter=None) -> Tensor",
    tags=_SHAPE, method=False, meta=_ss_meta)
def searchsorted_scalar(xp, sorted_sequence, self, out_int32=False, right=False, side=None,
                        sorter=None):
    s = _side(right, side)
    if sorted_sequence.ndim != 1:
        raise RuntimeError(f"torch.searchsorted(): input value can be a scalar only when "
                           f"boundaries tensor dimension is 1, but we got boundaries tensor "
                           f"dim({sorted_sequence.ndim}) and input value's dim(0) numel(1)")
    _ss_rule(sorted_sequence.shape, (), None if sorter is None else sorter.shape)
    v = xp.asarray(self)
    return _searchsorted(xp, sorted_sequence, v, out_int32, s, sorter).reshape(())


def _bucket_check(nd):
    if nd != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({nd})")


@op("aten::bucketize.Tensor(Tensor self, Tensor boundaries, *, bool out_int32=False, "
    "bool right=False) -> Tensor", tags=_SHAPE, method=False,
    meta=lambda self, boundaries, out_int32=False, right=False: (
        _bucket_check(len(boundaries.shape)),
        TensorMeta(_dt.int32 if out_int32 else _dt.int64, tuple(self.shape), self.device))[1])
def bucketize(xp, self, boundaries, out_int32=False, right=False):
    _bucket_check(boundaries.ndim)
    return _searchsorted(xp, boundaries, self, out_int32, "right" if right else "left", None)


@op("aten::bucketize.Scalar(Scalar self, Tensor boundaries, *, bool out_int32=False, "
    "bool right=False) -> Tensor", tags=_SHAPE, method=False,
    meta=lambda self, boundaries, out_int32=False, right=False: (
        _bucket_check(len(boundaries.shape)),
        TensorMeta(_dt.int32 if out_int32 else _dt.int64, (), boundaries.device))[1])
def bucketize_scalar(xp, self, boundaries, out_int32=False, right=False):
    _bucket_check(boundaries.ndim)
    return _searchsorted(xp, boundaries, xp.asarray(self), out_int32,
                         "right" if right else "left", None).reshape(())


# ------------------------------------------------------------------ bincount / histc / isin

def _bincount_dtype(self_dt, w_dt):
    if self_dt not in INTS:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for "
                                  f"'{self_dt.short_name}'")
    if w_dt is None:
        return _dt.int64
    return _dt.float32 if w_dt is _dt.float32 else _dt.float64


@op("aten::bincount(Tensor self, Tensor? weights=None, SymInt minlength=0) -> Tensor",
    tags=_RED,
    meta=lambda self, weights=None, minlength=0: TensorMeta(
        _bincount_dtype(self.dtype, None if weights is None else weights.dtype), (None,),
        self.device))
def bincount(xp, self, weights=None, minlength=0):
    out = _bincount_dtype(_dt_of(self), None if weights is None else _dt_of(weights)).np
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if self.ndim != 1 or (self.size and int(self.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and weights.shape != self.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    w = None if weights is None else weights.astype(np.float64)
    if self.size == 0:
        return xp.zeros(minlength, out)
    return xp.bincount(self.astype(_LONG), w, minlength=minlength).astype(out)


def _histc_check(d, bins):
    if d.category != _dt.FLOATING:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{d.short_name}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           f"dimension 0")


@op("aten::histc(Tensor self, int bins=100, Scalar min=0, Scalar max=0) -> Tensor",
    tags=_RED,
    meta=lambda self, bins=100, min=0, max=0: (_histc_check(self.dtype, bins), TensorMeta(
        self.dtype, (bins,), self.device))[1])
def histc(xp, self, bins=100, min=0, max=0):
    _histc_check(_dt_of(self), bins)
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    x = self.reshape(-1).astype(np.float64)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    inside = (x >= lo) & (x <= hi)
    x = x[inside]
    idx = xp.floor((x - lo) * bins / (hi - lo)).astype(_LONG)
    idx = xp.clip(idx, 0, bins - 1)
    return xp.bincount(idx, minlength=bins)[:bins].astype(self.dtype)


def _isin(xp, elements, test, assume_unique, invert):
    r = xp.isin(elements, test, assume_unique=assume_unique, invert=invert)
    return xp.asarray(r, dtype=bool)


@op("aten::isin.Tensor_Tensor(Tensor elements, Tensor test_elements, *, "
    "bool assume_unique=False, bool invert=False) -> Tensor", tags=_SHAPE, method=False,
    meta=lambda elements, test_elements, assume_unique=False, invert=False: TensorMeta(
        _dt.bool, tuple(elements.shape), elements.device))
def isin(xp, elements, test_elements, assume_unique=False, invert=False):
    return _isin(xp, elements, test_elements.reshape(-1), assume_unique, invert)


@op("aten::isin.Tensor_Scalar(Tensor elements, Scalar test_element, *, "
    "bool assume_unique=False, bool invert=False) -> Tensor", tags=_SHAPE, method=False,
    meta=lambda elements, test_element, assume_unique=False, invert=False: TensorMeta(
        _dt.bool, tuple(elements.shape), elements.device))
def isin_scalar(xp, elements, test_element, assume_unique=False, invert=False):
    return _isin(xp, elements, xp.asarray([test_element]), assume_unique, invert)


@op("aten::isin.Scalar_Tensor(Scalar element, Tensor test_elements, *, "
    "bool assume_unique=False, bool invert=False) -> Tensor", tags=_SHAPE, method=False,
    meta=lambda element, test_elements, assume_unique=False, invert=False: TensorMeta(
        _dt.bool, (), test_elements.device))
def isin_scalar_tensor(xp, element, test_elements, assume_unique=False, invert=False):
    return _isin(xp, xp.asarray(element), test_elements.reshape(-1), assume_unique, invert)


# ------------------------------------------------------------------ tensor_split & co.

def _ts_bounds(size, sections=None, indices=None):
    """[(start, stop), ...] of tensor_split along a dim of `size`."""
    if indices is None:
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        q, r = divmod(size, sections)
        out, start = [], 0
        for i in range(sections):
            n = q + (1 if i < r else 0)
            out.append((start, start + n))
            start += n
        return out
    out, start = [], 0
    for i in list(indices) + [size]:
        i = max(min(i, size), 0) if i >= 0 else max(size + i, 0)
        out.append((start, max(start, i)))
        start = max(start, i) if i >= start else i
    return out


def _ts_dim(shape, dim):
    if len(shape) == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got "
                           "a tensor with 0 dims")
    return wrap_dim(dim, len(shape))


def _ts_pieces(xp, a, d, bounds):
    lead = (slice(None),) * d
    return [a[lead + (slice(s, e),)] for s, e in bounds]


def _ts_meta(self, d, bounds):
    return [TensorMeta(self.dtype, tuple(self.shape[:d]) + (e - s,) + tuple(self.shape[d + 1:]),
                       self.device) for s, e in bounds]


@op("aten::tensor_split.sections(Tensor(a) self, SymInt sections, int dim=0) -> "
    "Tensor(a)[]", tags=_VIEW, function=False, method=False,
    meta=lambda self, sections, dim=0: _ts_meta(
        self, _ts_dim(self.shape, dim),
        _ts_bounds(self.shape[_ts_dim(self.shape, dim)], sections)))
def tensor_split_sections(xp, self, sections, dim=0):
    d = _ts_dim(self.shape, dim)
    return _ts_pieces(xp, self, d, _ts_bounds(self.shape[d], sections))


@op("aten::tensor_split.indices(Tensor(a) self, SymInt[] indices, int dim=0) -> "
    "Tensor(a)[]", tags=_VIEW, function=False, method=False,
    meta=lambda self, indices, dim=0: _ts_meta(
        self, _ts_dim(self.shape, dim),
        _ts_bounds(self.shape[_ts_dim(self.shape, dim)], indices=int_list(indices))))
def tensor_split_indices(xp, self, indices, dim=0):
    d = _ts_dim(self.shape, dim)
    return _ts_pieces(xp, self, d, _ts_bounds(self.shape[d], indices=int_list(indices)))


def tensor_split(input, indices_or_sections, dim=0):
    """torch.tensor_split: an int number of sections, a list of indices, or a tensor of
    either (0-dim: sections, 1-dim: indices)."""
    from .registry import _Tensor
    if isinstance(indices_or_sections, _Tensor):
        t = indices_or_sections
        if t.dtype is not _dt.int64 or t.device.type != "cpu":
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be on "
                               f"cpu and of type long, but it's on {t.device} and of type "
                               f"{t.dtype.short_name}")
        if t.dim() > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a "
                               f"tensor with {t.dim()} dims")
        indices_or_sections = t.item() if t.dim() == 0 else t.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        return tuple(OPS["aten::tensor_split.indices"].public(input, list(indices_or_sections),
                                                             dim))
    return tuple(OPS["aten::tensor_split.sections"].public(input, indices_or_sections, dim))


PUBLIC["tensor_split"] = tensor_split


@tensor_method("tensor_split")
def _ts_method(self, indices_or_sections, dim=0):
    return tensor_split(self, indices_or_sections, dim)


def _declare_hvd(name, min_dims, dim_of):
    def check(shape, sections=None):
        if len(shape) < min_dims:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} "
                               f"dimension, but got a tensor with {len(shape)} dimensions!")
        d = dim_of(len(shape))
        if sections is not None:
            if sections == 0 or shape[d] % sections:
                raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, "
                                   f"but the size of the dimension {shape[d]} is not divisible "
                                   f"by the split_size {sections}!")
        return d

    @op(f"aten::{name}.int(Tensor(a) self, int sections) -> Tensor(a)[]", tags=_VIEW,
        meta=lambda self, sections: _ts_meta(self, check(self.shape, sections), _ts_bounds(
            self.shape[check(self.shape, sections)], sections)))
    def by_int(xp, self, sections):
        d = check(self.shape, sections)
        return _ts_pieces(xp, self, d, _ts_bounds(self.shape[d], sections))

    @op(f"aten::{name}.array(Tensor(a) self, int[] indices) -> Tensor(a)[]", tags=_VIEW,
        meta=lambda self, indices: _ts_meta(self, check(self.shape), _ts_bounds(
            self.shape[check(self.shape)], indices=int_list(indices))))
    def by_array(xp, self, indices):
        d = check(self.shape)
        return _ts_pieces(xp, self, d, _ts_bounds(self.shape[d], indices=int_list(indices)))

    def public(input, indices_or_sections):
        if isinstance(indices_or_sections, (list, tuple)):
            return tuple(by_array.op.public(input, list(indices_or_sections)))
        return tuple(by_int.op.public(input, indices_or_sections))
    public.__name__ = name
    PUBLIC[name] = public
    tensor_method(name)(public)
    by_int.__name__, by_array.__name__ = f"{name}_int", f"{name}_array"
    return by_int, by_array


hsplit_int, hsplit_array = _declare_hvd("hsplit", 1, lambda nd: 1 if nd > 1 else 0)
vsplit_int, vsplit_array = _declare_hvd("vsplit", 2, lambda nd: 0)
dsplit_int, dsplit_array = _declare_hvd("dsplit", 3, lambda nd: 2)


def _unflatten_shape(shape, dim, sizes):
    if len(shape) == 0:
        raise RuntimeError("unflatten: Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, len(shape))
    sizes = int_list(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    neg = [i for i, s in enumerate(sizes) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("unflatten: only one dimension can be inferred")
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    n = shape[d]
    if n is not None:
        if neg:
            if known == 0 or n % known:
                raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to "
                                   f"the size of dim {dim} ({n}) in the input tensor")
            sizes[neg[0]] = n // known
        elif known != n:
            raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the "
                               f"size of dim {dim} ({n}) in the input tensor")
    elif neg:
        sizes[neg[0]] = None
    return tuple(shape[:d]) + tuple(sizes) + tuple(shape[d + 1:])


@op("aten::unflatten.int(Tensor(a) self, int dim, SymInt[] sizes) -> Tensor(a)", tags=_VIEW,
    meta=lambda self, dim, sizes: TensorMeta(
        self.dtype, _unflatten_shape(tuple(self.shape), dim, sizes), self.device))
def unflatten(xp, self, dim, sizes):
    return self.reshape(_unflatten_shape(self.shape, dim, sizes))


# ------------------------------------------------------------------ logspace / empty_strided

_FACTORY_TAIL = "ScalarType? dtype=None, Layout? layout=None, Device? device=None, " \
                "bool? pin_memory=None) -> Tensor"


def _default(dtype):
    return _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)


@op(f"aten::logspace(Scalar start, Scalar end, int steps, float base=10.0, *, "
    f"{_FACTORY_TAIL}", tags={"factory"}, function=False, method=False,
    meta=lambda start, end, steps, base=10.0, dtype=None, layout=None, device=None,
    pin_memory=None: TensorMeta(_default(dtype), (steps,), device or _cpu))
def _logspace(xp, start, end, steps, base=10.0, dtype=None, layout=None, device=None,
              pin_memory=None):
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    e = xp.linspace(float(start), float(end), steps, dtype=np.float64)
    r = xp.power(float(base), e)
    out = _default(dtype).np
    if out.kind in "iub":
        r = xp.floor(r + 0.5) if out.kind != "b" else r
    return r.astype(out)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False,
             layout=None, out=None):
    """torch.logspace: base ** linspace(start, end, steps)."""
    from .registry import _Tensor
    vals = [v.item() if isinstance(v, _Tensor) else v for v in (start, end)]
    t = OPS["aten::logspace"].public(vals[0], vals[1], steps, base, dtype=dtype, device=device)
    return t.requires_grad_(True) if requires_grad else t


PUBLIC["logspace"] = logspace


@op(f"aten::empty_strided(SymInt[] size, SymInt[] stride, *, {_FACTORY_TAIL}",
    tags={"factory"}, function=False, method=False,
    meta=lambda size, stride, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_default(dtype), tuple(int_list(size)), device or _cpu))
def _empty_strided(xp, size, stride, dtype=None, layout=None, device=None, pin_memory=None):
    size, stride = int_list(size), int_list(stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(size)}: {size}")
    npdt = _default(dtype).np
    n = 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    buf = xp.zeros(max(n, 1), npdt)
    st = tuple(s * npdt.itemsize for s in stride)
    return xp.lib.stride_tricks.as_strided(buf, tuple(size), st)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """torch.empty_strided: an uninitialized tensor (zeros here) with the given strides."""
    t = OPS["aten::empty_strided"].public(list(size), list(stride), dtype=dtype, device=device)
    return t.requires_grad_(True) if requires_grad else t


PUBLIC["empty_strided"] = empty_strided


# ---------------------------------------------------------- index_copy / put / scatter_reduce

def _index_copy_rule(name, self_shape, self_dt, dim, idx_shape, idx_dt, src_shape, src_dt):
    from .shape_index import index_add_rule
    if src_dt is not self_dt:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {self_dt.short_name} and (source) "
                           f"{src_dt.short_name}")
    if idx_dt is not _dt.int64:
        raise RuntimeError("index_copy_(): Expected a long tensor for index, but got "
                           f"{idx_dt.short_name}")
    return index_add_rule(name, self_shape, self_dt, dim, idx_shape, idx_dt, src_shape, src_dt)


def _declare_index_copy(inplace):
    name = "index_copy_" if inplace else "index_copy"
    self_t, ret = ("Tensor(a!) self", "Tensor(a!)") if inplace else ("Tensor self", "Tensor")

    @op(f"aten::{name}({self_t}, int dim, Tensor index, Tensor source) -> {ret}",
        tags={"inplace"} if inplace else _SHAPE, function=not inplace,
        meta=lambda self, dim, index, source: (
            _index_copy_rule(name, self.shape, self.dtype, dim, index.shape, index.dtype,
                             source.shape, source.dtype),
            TensorMeta(self.dtype, tuple(self.shape), self.device))[1])
    def impl(xp, self, dim, index, source):
        from .shape_index import check_bounds
        from .bounds import DEFAULT_MSG, assign
        d = _index_copy_rule(name, self.shape, _dt_of(self), dim, index.shape, _dt_of(index),
                             source.shape, _dt_of(source))
        out = self if inplace else self.copy()
        if inplace:
            source = no_overlap(xp, self, source)
        a = out.reshape(1) if out.ndim == 0 else out
        idx = index.reshape(-1)
        check_bounds(xp, idx, a.shape[d], d, IndexError,
                     "index_copy_(): " + DEFAULT_MSG)
        src = source.reshape(1) if source.ndim == 0 else source
        assign(xp, a, (slice(None),) * d + (idx,), src)
        return out
    impl.__name__ = name
    return impl


index_copy = _declare_index_copy(False)
index_copy_ = _declare_index_copy(True)


def _put_rule(name, self_dt, idx_dt, src_dt, n_idx, n_src):
    if idx_dt is not _dt.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got "
                           f"{idx_dt.short_name}")
    if src_dt is not self_dt:
        raise RuntimeError(f"{name}(): self and source expected to have the same dtype, but "
                           f"got self.dtype = {self_dt.short_name} and source.dtype = "
                           f"{src_dt.short_name}")
    if n_idx is not None and n_src is not None and n_idx != n_src:
        raise RuntimeError(f"{name}(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {n_src}, index.numel() = "
                           f"{n_idx}")


def _numel(shape):
    n = 1
    for s in shape:
        if s is None:
            return None
        n *= s
    return n


def _declare_put(inplace):
    name = "put_" if inplace else "put"
    self_t, ret = ("Tensor(a!) self", "Tensor(a!)") if inplace else ("Tensor self", "Tensor")

    @op(f"aten::{name}({self_t}, Tensor index, Tensor source, bool accumulate=False) -> {ret}",
        tags={"inplace"} if inplace else _SHAPE, function=not inplace,
        meta=lambda self, index, source, accumulate=False: (
            _put_rule("put_", self.dtype, index.dtype, source.dtype, _numel(index.shape),
                      _numel(source.shape)),
            TensorMeta(self.dtype, tuple(self.shape), self.device))[1])
    def impl(xp, self, index, source, accumulate=False):
        from .shape_index import add_at, check_bounds, TAKE_MSG
        from .bounds import assign
        _put_rule("put_", _dt_of(self), _dt_of(index), _dt_of(source), index.size,
                  source.size)
        out = self if inplace else self.copy()
        if inplace:
            source = no_overlap(xp, self, source)
        n = out.size
        idx = index.reshape(-1)
        check_bounds(xp, idx, n, 0, IndexError, TAKE_MSG, negative=True)
        idx = xp.where(idx < 0, idx + n, idx)
        work = out if out.flags.c_contiguous else xp.ascontiguousarray(out)
        flat = work.reshape(-1)
        if accumulate:
            add_at(xp, flat, idx, source.reshape(-1))
        else:
            assign(xp, flat, idx, source.reshape(-1))
        if work is not out:
            out[...] = work
        return out
    impl.__name__ = name
    return impl


put = _declare_put(False)
put_ = _declare_put(True)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _sr_check(reduce):
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")


def _identity(reduce, npdt):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if npdt.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if npdt == np.bool_:
        return reduce == "amin"
    info = np.iinfo(npdt)
    return info.min if reduce == "amax" else info.max


def _scatter_at(xp, out, pos, vals, reduce):
    """out.flat[pos] (reduce)= vals, repeated positions combining. NumPy: ufunc.at; CuPy:
    add.at / maximum.at / minimum.at where it has them, otherwise one round per repeat
    (no position twice within a round)."""
    fn = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum",
          "amin": "minimum"}[reduce]
    if xp is np:
        getattr(np, fn).at(out, pos, vals)
        return
    if fn != "multiply" and out.dtype.kind == "f":
        getattr(xp, fn).at(out, pos, vals)
        return
    order = xp.argsort(pos)
    ps, vs = pos[order], vals[order]
    new = xp.concatenate([xp.ones(1, dtype=bool), ps[1:] != ps[:-1]]) if ps.size else \
        xp.zeros(0, dtype=bool)
    starts = xp.nonzero(new)[0]
    run_start = starts[xp.cumsum(new) - 1] if ps.size else ps
    rank = xp.arange(ps.size) - run_start
    ufn = getattr(xp, fn)
    for r in range(int(rank.max()) + 1 if ps.size else 0):
        sel = rank == r
        p = ps[sel]
        out[p] = ufn(out[p], vs[sel])


def _declare_scatter_reduce(inplace):
    name = "scatter_reduce_" if inplace else "scatter_reduce"
    self_t, ret = ("Tensor(a!) self", "Tensor(a!)") if inplace else ("Tensor self", "Tensor")

    def meta(self, dim, index, src, reduce, include_self=True):
        from .shape_index import scatter_rule
        _sr_check(reduce)
        scatter_rule(name, self.shape, self.dtype, dim, index.shape, index.dtype, src.shape,
                     src.dtype)
        return TensorMeta(self.dtype, tuple(self.shape), self.device)

    @op(f"aten::{name}.two({self_t}, int dim, Tensor index, Tensor src, str reduce, *, "
        f"bool include_self=True) -> {ret}", tags={"inplace"} if inplace else _SHAPE,
        function=not inplace, meta=meta)
    def impl(xp, self, dim, index, src, reduce, include_self=True):
        from .shape_index import scatter_rule, check_bounds
        _sr_check(reduce)
        d = scatter_rule(name, self.shape, _dt_of(self), dim, index.shape, _dt_of(index),
                         src.shape, _dt_of(src))
        if inplace:
            no_overlap(xp, self, src)      # (PyTorch's error: out is a copy here)
        out = xp.array(self, copy=True, order="C")
        if index.size == 0:
            return self if inplace else out
        a = out.reshape(1) if out.ndim == 0 else out
        idx = index.reshape(1) if index.ndim == 0 else index
        s = src.reshape(1) if src.ndim == 0 else src
        check_bounds(xp, idx, a.shape[d], d)
        # the flat position in `a` of each index entry
        grids = xp.indices(idx.shape, dtype=_LONG) if idx.ndim else []
        coords = [grids[k] if k != d else idx.astype(_LONG) for k in range(idx.ndim)]
        pos = xp.ravel_multi_index(tuple(coords), a.shape).reshape(-1) if idx.ndim else \
            idx.reshape(-1)
        vals = s[tuple(slice(0, n) for n in idx.shape)].reshape(-1)
        flat = a.reshape(-1)
        if not include_self:
            flat[pos] = _identity(reduce, a.dtype)
        if reduce == "mean":
            count = xp.ones(flat.shape, _LONG)
            if not include_self:
                count[pos] = 0
            _scatter_at(xp, count, pos, xp.ones(pos.shape, _LONG), "sum")
            acc = flat.astype(np.float64) if a.dtype.kind == "f" else flat.astype(_LONG)
            _scatter_at(xp, acc, pos, vals.astype(acc.dtype), "sum")
            count = xp.maximum(count, 1)
            r = acc / count if a.dtype.kind == "f" else xp.floor_divide(acc, count)
            flat[...] = r.astype(a.dtype)
        else:
            _scatter_at(xp, flat, pos, vals, reduce)
        if inplace:
            self[...] = out
            return self
        return out
    impl.__name__ = name
    return impl


scatter_reduce = _declare_scatter_reduce(False)
scatter_reduce_ = _declare_scatter_reduce(True)


# ---------------------------------------------------------- pointwise: gcd lcm frexp i0 isreal

@op("aten::gcd(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True, dtypes=INTS)
def gcd(xp, self, other):
    return xp.gcd(self, other)


@op("aten::lcm(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True, dtypes=INTS)
def lcm(xp, self, other):
    return xp.lcm(self, other)


def _frexp_check(d):
    if d.category != _dt.FLOATING:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")


@op("aten::frexp.Tensor(Tensor self) -> (Tensor mantissa, Tensor exponent)", tags=_SHAPE,
    meta=lambda self: (_frexp_check(self.dtype),
                       (TensorMeta(self.dtype, tuple(self.shape), self.device),
                        TensorMeta(_dt.int32, tuple(self.shape), self.device)))[1])
def frexp(xp, self):
    _frexp_check(_dt_of(self))
    m, e = xp.frexp(self)
    return m.astype(self.dtype, copy=False), e.astype(np.int32)


def _i0(xp, x):
    """I0 by its power series (all terms positive: no cancellation); NumPy's i0 takes no
    float16 and CuPy's only floats."""
    return _bessel_series(xp, x, 0)


def _bessel_series(xp, x, order):
    """I0 or I1 of float64 x: sum_k (x/2)^(2k+order) / (k! (k+order)!)."""
    x = x.astype(np.float64)
    h = x / 2
    h2 = h * h
    term = xp.ones(x.shape) if order == 0 else h.copy()
    total = term.copy()
    big = float(abs(x).max()) if x.size else 0.0
    for k in range(1, int(min(big, 800)) + 40):
        term = term * h2 / (k * (k + order))
        total = total + term
    return total


@op("aten::i0(Tensor self) -> Tensor", tags=_PW, promote="float", inplace=True)
def i0(xp, self):
    return _i0(xp, self).astype(self.dtype)


@op("aten::special_i1(Tensor self) -> Tensor", tags=_PW, promote="float", method=False,
    function=False)
def special_i1(xp, self):
    """The modified Bessel function of the first kind of order 1 (i0's derivative)."""
    return _bessel_series(xp, self, 1).astype(self.dtype)


@op("aten::isreal(Tensor self) -> Tensor", tags=_SHAPE,
    meta=lambda self: TensorMeta(_dt.bool, tuple(self.shape), self.device))
def isreal(xp, self):
    return xp.ones(self.shape, dtype=bool)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops
from .registry import derivative as _derivative, nondifferentiable as _nondiff  # noqa: E402


def _reduced_back(grad, dim, keepdim, self):
    if keepdim or self.dim() == 0:
        return grad
    return grad.unsqueeze(dim % self.dim())


def _index_back(grad, self, dim, keepdim, indices):
    """A value-selecting reduction's gradient goes to the index it returned."""
    if self.dim() == 0:
        return grad
    d = dim % self.dim()
    g = _reduced_back(grad, d, keepdim, self)
    i = _reduced_back(indices, d, keepdim, self)
    return g.new_zeros(self.shape).scatter(d, i, g)


@_derivative(median_dim, nanmedian_dim)
def _median_dim_grad(grad, self, dim, keepdim, result):
    return _index_back(grad[0], self, dim, keepdim, result[1])


@_derivative(kthvalue, mode)
def _kth_grad(grad, self, dim, keepdim, result):
    return _index_back(grad[0], self, dim, keepdim, result[1])


@_derivative(median, nanmedian)
def _median_grad(grad, self, result):
    # PyTorch's evenly_distribute_backward: the gradient is shared among the elements equal
    # to the median (NaN matching NaN)
    mask = (self == result).logical_or(self.isnan().logical_and(result.isnan()))
    return mask * (grad / mask.sum())


@_derivative(cummax, cummin)
def _cum_extreme_grad(grad, self, dim, result):
    if self.dim() == 0:
        return grad[0]
    return grad[0].new_zeros(self.shape).scatter_add(dim, result[1], grad[0])


@_derivative(logcumsumexp)
def _logcumsumexp_grad(grad, self, result, dim):
    if self.dim() == 0 or self.numel() == 0:
        return grad
    # d out_k / d x_i = exp(x_i - out_k) for i <= k: a reversed cumulative sum of
    # grad * exp(-out), scaled back by exp(x); done in log space for range
    import gpujit
    w = (grad.abs().log() - result).masked_fill(grad == 0, -math.inf)
    pos = gpujit.where(grad > 0, w, gpujit.full_like(w, -math.inf))
    neg = gpujit.where(grad < 0, w, gpujit.full_like(w, -math.inf))
    rp = pos.flip(dim).logcumsumexp(dim).flip(dim)
    rn = neg.flip(dim).logcumsumexp(dim).flip(dim)
    return (rp + self).exp() - (rn + self).exp()


def _quantile_backward(grad, self, q, dim, interpolation, ignore_nan):
    """The gradient goes to the one or two order statistics each quantile interpolates
    between, weighted as the interpolation weighs them (recomputed from a sort)."""
    import gpujit
    nd = self.dim()
    if dim is None or nd == 0:
        x, d = self.reshape(1, -1), None
    else:
        d = dim % nd
        x = self.movedim(d, -1)
        moved_shape = tuple(x.shape)
        x = x.reshape(-1, x.shape[-1])
    rows, n = x.shape
    order = x.detach().sort(-1)[1]
    qv = (gpujit.tensor([float(q)], dtype=self.dtype) if not isinstance(q, gpujit.Tensor)
          else q.detach().reshape(-1).to(self.dtype))
    nan_count = x.detach().isnan().sum(-1, keepdim=True)
    cnt = (n - nan_count) if ignore_nan else nan_count * 0 + n
    rank = qv.unsqueeze(0) * (cnt - 1).to(self.dtype)
    if not ignore_nan:
        rank = rank.masked_fill(nan_count > 0, n - 1)
    lo = rank.floor()
    hi = rank.ceil()
    if interpolation in ("lower", "higher", "nearest"):
        pick = {"lower": lo, "higher": hi, "nearest": rank.round()}[interpolation]
        lo, hi, w = pick, pick, rank * 0
    else:
        w = rank * 0 + 0.5 if interpolation == "midpoint" else rank - lo
    lo_i = lo.clamp(0, n - 1).long()
    hi_i = hi.clamp(0, n - 1).long()
    g = grad.reshape(qv.numel(), rows).t()
    gs = grad.new_zeros((rows, n)).scatter_add(1, lo_i, g * (1 - w)).scatter_add(
        1, hi_i, g * w)
    gx = grad.new_zeros((rows, n)).scatter(1, order, gs)
    gx = gx.reshape(self.shape) if d is None else gx.reshape(moved_shape).movedim(-1, d)
    # linear interpolation moves with q: d/dq = (hi - lo) * (count - 1), summed over rows
    gq = None
    if isinstance(q, gpujit.Tensor) and interpolation == "linear":
        xs = x.detach().sort(-1)[0]
        span = (xs.gather(1, hi_i) - xs.gather(1, lo_i)) * (cnt - 1).to(self.dtype)
        gq = (g * span).sum(0).reshape(q.shape)
    return gx, gq


@_derivative(quantile_scalar, wrt=("self",))
def _quantile_grad(grad, self, q, dim, interpolation):
    return _quantile_backward(grad, self, q, dim, interpolation, False)[0]


@_derivative(nanquantile_scalar, wrt=("self",))
def _nanquantile_grad(grad, self, q, dim, interpolation):
    return _quantile_backward(grad, self, q, dim, interpolation, True)[0]


@_derivative(quantile, wrt=("self", "q"))
def _quantile_t_grad(grad, self, q, dim, interpolation):
    return _quantile_backward(grad, self, q, dim, interpolation, False)


@_derivative(nanquantile, wrt=("self", "q"))
def _nanquantile_t_grad(grad, self, q, dim, interpolation):
    return _quantile_backward(grad, self, q, dim, interpolation, True)


@_derivative(nansum)
def _nansum_grad(grad, self, dim, keepdim):
    from .reduction import _keep
    return _keep(grad, self.dim(), dim, keepdim).expand(self.shape).masked_fill(
        self.isnan(), 0)


@_derivative(nanmean)
def _nanmean_grad(grad, self, dim, keepdim):
    from .reduction import _keep, _reduced
    ok = self.isnan().logical_not()
    n = ok.sum(_reduced(self.dim(), dim), keepdim=True)
    return (_keep(grad, self.dim(), dim, keepdim) / n).expand(self.shape).masked_fill(
        self.isnan(), 0)


@_derivative(diff, wrt=("self", "prepend", "append"))
def _diff_grad(grad, self, n, dim, prepend, append):
    import gpujit
    d = dim % self.dim()
    g = grad
    for _ in range(n):
        zeros = g.new_zeros([1 if i == d else s for i, s in enumerate(g.shape)])
        g = gpujit.cat([zeros, g], d) - gpujit.cat([g, zeros], d)
    start = prepend.shape[d] if prepend is not None else 0
    size = self.shape[d]
    out = [g.narrow(d, start, size)]
    out.append(g.narrow(d, 0, start) if prepend is not None else None)
    out.append(g.narrow(d, start + size, append.shape[d]) if append is not None else None)
    return tuple(out)


def _split_back(grad, self, dim):
    import gpujit
    d = dim % self.dim() if self.dim() else 0
    return gpujit.cat(list(grad), d)


@_derivative(tensor_split_sections)
def _tensor_split_grad(grad, self, dim):
    return _split_back(grad, self, dim)


@_derivative(tensor_split_indices)
def _tensor_split_indices_grad(grad, self_shape, indices, dim):
    # the pieces may overlap or leave gaps ([1, 5, 3, 9]): each adds into its slice
    import gpujit
    d = dim % len(self_shape)
    out = grad[0].new_zeros(self_shape)
    for g, (s, e) in zip(grad, _ts_bounds(self_shape[d], indices=int_list(indices))):
        if e > s:
            out = out.index_add(d, gpujit.arange(s, e, device=g.device), g)
    return out


def _hvd_grad(dim_of):
    def fn(grad, self):
        import gpujit
        return gpujit.cat(list(grad), dim_of(self.dim()))
    return fn


for _ops, _dim_of in (((hsplit_int, hsplit_array), lambda nd: 1 if nd > 1 else 0),
                      ((vsplit_int, vsplit_array), lambda nd: 0),
                      ((dsplit_int, dsplit_array), lambda nd: 2)):
    _derivative(*_ops)(_hvd_grad(_dim_of))


@_derivative(unflatten)
def _unflatten_grad(grad, self_shape):
    return grad.reshape(self_shape)


@_derivative(index_copy, index_copy_, wrt=("self", "source"))
def _index_copy_grad(grad, dim, index):
    if grad.dim() == 0:
        return grad.new_zeros(()), grad
    return grad.index_fill(dim, index, 0), grad.index_select(dim, index)


@_derivative(put, put_, wrt=("self", "source"))
def _put_grad(grad, index, source_shape, accumulate):
    g_src = grad.take(index).reshape(source_shape)
    g_self = grad if accumulate else grad.put(index, grad.new_zeros(source_shape))
    return g_self, g_src


@_derivative(scatter_reduce, scatter_reduce_, wrt=("self", "src"))
def _scatter_reduce_grad(grad, self, dim, index, src, src_shape, reduce, include_self,
                        result):
    """sum/mean: the gradient flows back as scattered (mean divided by the count);
    amax/amin: shared evenly among self and src entries equal to the result; prod: the
    product of the others (result / x, for x != 0)."""
    if reduce == "sum":
        g_self = grad if include_self else grad.scatter(dim, index, 0)
        return g_self, _pad_to(grad.gather(dim, index), src_shape)
    if reduce == "mean":
        ones = grad.new_ones(index.shape)
        count = grad.new_zeros(self.shape).scatter_add(dim, index, ones)
        if include_self:
            count = count + 1
        count = count.masked_fill(count == 0, 1)
        g = grad / count
        g_self = g if include_self else g.scatter(dim, index, 0)
        return g_self, _pad_to(g.gather(dim, index), src_shape)
    src = _narrow_to(src, index.shape)
    if reduce in ("amax", "amin"):
        val = result.gather(dim, index)
        src_hit = src == val
        self_hit = self == result
        if not include_self:
            self_hit = self_hit.logical_and(grad.new_zeros(self.shape).scatter(
                dim, index, 1) == 0)
        count = self_hit.to(grad.dtype).scatter_add(dim, index, src_hit.to(grad.dtype))
        g = grad / count
        return g * self_hit, _pad_to(g.gather(dim, index) * src_hit, src_shape)
    # prod
    g_self = grad * result / self if include_self else grad.scatter(dim, index, 0)
    return g_self, _pad_to((grad * result).gather(dim, index) / src, src_shape)


def _narrow_to(t, shape):
    for k, n in enumerate(shape):
        if t.shape[k] != n:
            t = t.narrow(k, 0, n)
    return t


def _pad_to(t, shape):
    """t (the leading block of a tensor of `shape`) padded with zeros to `shape`."""
    import gpujit
    for k, n in enumerate(shape):
        if t.shape[k] != n:
            z = t.new_zeros([n - t.shape[k] if i == k else s for i, s in enumerate(t.shape)])
            t = gpujit.cat([t, z], k)
    return t


@_derivative(frexp)
def _frexp_grad(grad, result):
    return grad[0] / result[1].to(grad[0].dtype).exp2()


@_derivative(i0)
def _i0_grad(grad, self):
    return grad * OPS["aten::special_i1"].public(self)


@_derivative(special_i1)
def _i1_grad(grad, self, result):
    # I1'(x) = I0(x) - I1(x) / x (the limit 1/2 at x = 0)
    import gpujit
    safe = self.masked_fill(self == 0, 1)
    d = gpujit.i0(self) - result / safe
    return grad * d.masked_fill(self == 0, 0.5)


_nondiff(_unique2, unique_dim, unique_consecutive_, reason=(
    "unique values are selected, not computed (PyTorch does not differentiate unique)"))
_nondiff(searchsorted, searchsorted_scalar, bucketize, bucketize_scalar, bincount, histc,
         isin, isin_scalar, isin_scalar_tensor, count_nonzero, count_nonzero_dims, isreal,
         reason="integer or boolean results: counts, positions and membership tests")
_nondiff(gcd, lcm, reason="integer-only ops (PyTorch does not differentiate gcd/lcm)")
