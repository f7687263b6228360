"""More reductions and scans PyTorch users call: median / nanmedian, kthvalue, mode,
quantile / nanquantile (in reduction_quantile.py, imported below), nansum / nanmean,
count_nonzero, cummax / cummin, logcumsumexp and diff, with their derivatives, and the
helpers the other families split from this module share (sorting along the last axis, dim
metas, the doubling scan). Those families:
unique_search.py (unique, searchsorted / bucketize, bincount, histc, isin), split_scatter.py
(tensor_split / hsplit / vsplit / dsplit, unflatten, index_copy, put, scatter_reduce),
factory_extra.py (logspace, empty_strided) and pointwise_extra.py (gcd, lcm, frexp, i0,
special_i1, isreal).

Bodies use only what NumPy and CuPy both have (sort, argsort, take_along_axis, ...); scans
that CuPy has no ufunc.accumulate for (cummax, cummin, logcumsumexp) run as log2(n)
doubling steps.
"""
from __future__ import annotations

import math

import numpy as np

from .kernel_names import kernel_name, not_implemented
from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta, reduce_shape, wrap_dim
from .reduction_cascade import cascade_sum
from .registry import op
from .registry import derivative as _derivative, nondifferentiable as _nondiff
from .derivatives import forward_derivative

PUBLIC = {}

_RED = {"reduction"}
_SHAPE = {"shape"}
_LONG = np.dtype(np.int64)
_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_CASCADE = (_F32, np.dtype(np.float64))    # (PyTorch's cascade_sum order: reduction_cascade)
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
    wrap_dim(dim, len(self.shape))
    m = _meta_dim(self, self.dtype, dim, keepdim) if len(self.shape) else \
        TensorMeta(self.dtype, (), self.device)
    return m, TensorMeta(_dt.int64, tuple(m.shape), self.device)


def _check_dim_nonempty(name, a, d):
    if a.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _doubling_scan(xp, a, fn):
    """Inclusive scan of the binary op fn along the last axis in log2(n) steps: a new
    array (for n <= 1 too, where no step runs: cummax / cummin / logcumsumexp along a dim
    of size 1 returned their input's memory, so a write into the result changed it)."""
    n = a.shape[-1]
    if n <= 1:
        return a.copy()
    k = 1
    while k < n:
        a = xp.concatenate([a[..., :k], fn(a[..., k:], a[..., :-k])], axis=-1)
        k *= 2
    return a


# ------------------------------------------------------------------ median / kthvalue / mode

def _no_bool(a, kernel):
    """PyTorch's sort-based selection kernels have no bool variant."""
    if a.dtype == np.bool_:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _median_all(xp, a, ignore_nan):
    flat = a.reshape(-1)
    if flat.size == 0:      # (before the dtype check: a bool one gives True)
        if _is_float(a):
            return xp.asarray(xp.nan, dtype=a.dtype)
        # PyTorch's NaN converted to the integer dtype: INT_MIN for int32/int64 (the x86
        # conversion), 0 for the narrower ones, True for bool
        v = True if a.dtype == np.bool_ else \
            np.iinfo(a.dtype).min if a.dtype in (np.int32, np.int64) else 0
        return xp.full((), v, a.dtype)
    _no_bool(a, kernel_name("median_cpu", xp))
    if xp is np and _is_float(a) and bool((flat == 0).any()):
        # PyTorch's: std::nth_element on a clone (memory order), NaN last: its element
        # among equal ones (the sign of a zero median)
        from ._stl_sort import compiled
        flat = a.ravel(order="K")
        nans = _isnan(xp, flat)
        cnt = int(flat.size - int(nans.sum()))
        if not ignore_nan and cnt != flat.size:
            return xp.asarray(xp.nan, dtype=a.dtype)
        v = flat.astype(np.float64)
        ix = np.arange(flat.size, dtype=_LONG)
        k = (cnt - 1) // 2 if cnt else 0
        compiled()[2](v.reshape(1, -1), ix.reshape(1, -1), k)
        return flat[ix[k]].copy()
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
    if a.ndim:      # (an empty reduced dim's IndexError first, a bool one's too)
        _check_dim_nonempty(name, a, wrap_dim(dim, a.ndim))
    _no_bool(a, "median_out")
    if a.ndim == 0:
        wrap_dim(dim, 0)            # -1 or 0 only (IndexError), as PyTorch
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


_QSELECT = []


def _qselect_rows(vals, idx, k):
    """PyTorch's quick_select_template (SortingUtils.h) on each row of vals, idx moved
    along with it: median-of-three pivot, NaN above everything."""
    rows, n = vals.shape
    for r in range(rows):
        arr = vals[r]
        ind = idx[r]
        lo = 0
        hi = n - 1
        while True:
            if hi <= lo:
                break
            if hi == lo + 1:
                x, y = arr[lo], arr[hi]
                if (x != x and y == y) or x > y:
                    arr[lo], arr[hi] = y, x
                    ind[lo], ind[hi] = ind[hi], ind[lo]
                break
            p = lo + (hi - lo) // 2
            arr[p], arr[lo + 1] = arr[lo + 1], arr[p]
            ind[p], ind[lo + 1] = ind[lo + 1], ind[p]
            for (s, t) in ((lo + 1, hi), (lo, hi), (lo + 1, lo)):
                x, y = arr[s], arr[t]
                if (x != x and y == y) or x > y:
                    arr[s], arr[t] = y, x
                    ind[s], ind[t] = ind[t], ind[s]
            i = lo + 1
            j = hi
            piv = arr[lo]
            while True:
                i += 1
                while (piv != piv and arr[i] == arr[i]) or piv > arr[i]:
                    i += 1
                j -= 1
                while (arr[j] != arr[j] and piv == piv) or arr[j] > piv:
                    j -= 1
                if j < i:
                    break
                arr[i], arr[j] = arr[j], arr[i]
                ind[i], ind[j] = ind[j], ind[i]
            arr[lo], arr[j] = arr[j], arr[lo]
            ind[lo], ind[j] = ind[j], ind[lo]
            if j <= k:
                lo = i
            if j >= k:
                hi = j - 1
    return idx


def _quick_select_index(m, k):
    """The index PyTorch's CPU kthvalue picks along m's last axis (k 0-based): its
    quickselect run on a copy of each slice (numba-compiled on first use)."""
    if not _QSELECT:
        from .numba_helpers import njit   # lazy: numba is imported now
        _QSELECT.append(njit(_qselect_rows))    # cached under gpujit's cache directory
    n = m.shape[-1]
    vals = np.ascontiguousarray(m.reshape(-1, n))
    if vals.dtype == _F16:
        vals = vals.astype(_F32)       # (order-preserving: the index is all we keep)
    elif vals.dtype.kind not in "fiu":
        vals = vals.astype(np.int64)
    else:
        vals = vals.copy()
    idx = np.broadcast_to(np.arange(n, dtype=_LONG), vals.shape).copy()
    if vals.size:
        _QSELECT[0](vals, idx, k)
    return idx[:, k].reshape(m.shape[:-1])


@op("aten::kthvalue(Tensor self, SymInt k, int dim=-1, bool keepdim=False) -> "
    "(Tensor values, Tensor indices)", tags=_RED,
    meta=lambda self, k, dim=-1, keepdim=False: _pair_meta(self, dim, keepdim))
def kthvalue(xp, self, k, dim=-1, keepdim=False):
    d = wrap_dim(dim, self.ndim)
    n = self.shape[d] if self.ndim else 1
    if n == 0 and self.size == 0 and self.ndim:
        # (ATen's zero_numel_check_dims: an empty reduced dim, whatever k)
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if self.ndim == 0:       # (no kernel runs: a 0-dim bool too, as PyTorch)
        return self.copy(), xp.zeros((), _LONG)
    _no_bool(self, kernel_name("kthvalue_cpu", xp))
    m = _last(xp, self, d)
    if xp is np:    # the CPU kernel's quickselect: its own order among equal values
        i = _quick_select_index(m, k - 1)[..., None]
        v = np.take_along_axis(m, i, axis=-1)
    else:
        s, idx = _sort_last(xp, m)
        v, i = s[..., k - 1:k], idx[..., k - 1:k]
    if keepdim:
        return xp.moveaxis(v, -1, d), xp.moveaxis(i, -1, d)
    return v[..., 0], i[..., 0]


_STDSORT = []
_adjust_heap_jit = None     # numba's _adjust_heap, set with _STDSORT


def _std_sort_mode_rows(vals, idx):
    """PyTorch's CPU mode kernel on each row: libstdc++'s std::sort (introsort: median-of-
    three pivot, unguarded partition, heap sort past 2*log2(n) levels, insertion sort of
    runs of up to 16) of (value, index) pairs compared by value with `<` (NaN equal to
    nothing and less than nothing), then the first longest run of equal neighbours; idx
    gets each row's chosen index in column 0. The unguarded loops are bounded by the row
    (a NaN can make libstdc++ read past it)."""
    rows, n = vals.shape
    stack = np.empty((2 * 64 + 8, 3), dtype=np.int64)
    for r in range(rows):
        a = vals[r]
        ind = idx[r]
        # ---- introsort loop
        depth = 0
        m = n
        while m > 1:
            depth += 1
            m >>= 1
        sp = 0
        stack[0, 0] = 0
        stack[0, 1] = n
        stack[0, 2] = 2 * depth
        sp = 1
        while sp > 0:
            sp -= 1
            first = stack[sp, 0]
            last = stack[sp, 1]
            dl = stack[sp, 2]
            while last - first > 16:
                if dl == 0:      # heap sort of [first, last)
                    ln = last - first
                    parent = (ln - 2) // 2
                    while True:
                        _adjust_heap_jit(a, ind, first, parent, ln, a[first + parent],
                                     ind[first + parent])
                        if parent == 0:
                            break
                        parent -= 1
                    e = last
                    while e - first > 1:
                        e -= 1
                        v = a[e]
                        vi = ind[e]
                        a[e] = a[first]
                        ind[e] = ind[first]
                        _adjust_heap_jit(a, ind, first, 0, e - first, v, vi)
                    break
                dl -= 1
                # median of (first+1, mid, last-1) moved to first
                mid = first + (last - first) // 2
                x = first + 1
                y = mid
                z = last - 1
                if a[x] < a[y]:
                    if a[y] < a[z]:
                        s = y
                    elif a[x] < a[z]:
                        s = z
                    else:
                        s = x
                elif a[x] < a[z]:
                    s = x
                elif a[y] < a[z]:
                    s = z
                else:
                    s = y
                a[first], a[s] = a[s], a[first]
                ind[first], ind[s] = ind[s], ind[first]
                # unguarded partition of [first+1, last) around a[first]
                piv = a[first]
                lo = first + 1
                hi = last
                while True:
                    while lo < last and a[lo] < piv:
                        lo += 1
                    hi -= 1
                    while hi > first and piv < a[hi]:
                        hi -= 1
                    if not lo < hi:
                        break
                    a[lo], a[hi] = a[hi], a[lo]
                    ind[lo], ind[hi] = ind[hi], ind[lo]
                    lo += 1
                stack[sp, 0] = lo
                stack[sp, 1] = last
                stack[sp, 2] = dl
                sp += 1
                last = lo
        # ---- final insertion sort
        for i in range(1, n):
            v = a[i]
            vi = ind[i]
            if i < 16 and v < a[0]:
                for j in range(i, 0, -1):
                    a[j] = a[j - 1]
                    ind[j] = ind[j - 1]
                a[0] = v
                ind[0] = vi
            else:
                j = i
                while j > 0 and v < a[j - 1]:
                    a[j] = a[j - 1]
                    ind[j] = ind[j - 1]
                    j -= 1
                a[j] = v
                ind[j] = vi
        # ---- the first longest run of equal neighbours; its last element's index
        best = 0
        cnt = 0
        pick = 0
        for i in range(n):
            cnt += 1
            if i == n - 1 or a[i] != a[i + 1]:
                if cnt > best:
                    best = cnt
                    pick = ind[i]
                cnt = 0
        ind[0] = pick


def _adjust_heap(a, ind, first, hole, ln, v, vi):
    top = hole
    child = hole
    while child < (ln - 1) // 2:
        child = 2 * (child + 1)
        if a[first + child] < a[first + child - 1]:
            child -= 1
        a[first + hole] = a[first + child]
        ind[first + hole] = ind[first + child]
        hole = child
    if (ln & 1) == 0 and child == (ln - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        ind[first + hole] = ind[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and a[first + parent] < v:
        a[first + hole] = a[first + parent]
        ind[first + hole] = ind[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = v
    ind[first + hole] = vi


def _std_sort_mode_index(m):
    """The index PyTorch's CPU mode kernel picks in each row of the 2-d array m."""
    global _adjust_heap_jit
    if not _STDSORT:
        from .numba_helpers import inner, njit   # lazy: numba is imported now
        _adjust_heap_jit = inner(_adjust_heap)    # (a callee of the rows' loop only)
        _STDSORT.append(njit(_std_sort_mode_rows))    # cached under gpujit's cache directory
    vals = np.ascontiguousarray(m)
    if vals.dtype.kind == "b":
        vals = vals.astype(np.uint8)
    elif vals.dtype.kind not in "fiu" or vals.dtype.itemsize < 4 and vals.dtype.kind == "f":
        vals = vals.astype(_F32)       # half / bfloat16: order and equality kept
    else:
        vals = vals.copy()
    idx = np.broadcast_to(np.arange(m.shape[-1], dtype=_LONG), vals.shape).copy()
    if vals.size:
        _STDSORT[0](vals, idx)
    return idx[:, :1]


@op("aten::mode(Tensor self, int dim=-1, bool keepdim=False) -> "
    "(Tensor values, Tensor indices)", tags=_RED,
    meta=lambda self, dim=-1, keepdim=False: _pair_meta(self, dim, keepdim))
def mode(xp, self, dim=-1, keepdim=False):
    """The most frequent value of each slice (the smallest among equally frequent ones)
    and the index of its last occurrence, as PyTorch's CPU kernel."""
    d = wrap_dim(dim, self.ndim)   # a 0-dim tensor: -1 or 0 only (IndexError)
    if self.ndim == 0:
        return self.copy(), xp.zeros((), _LONG)
    _check_dim_nonempty("mode", self, d)
    m = _last(xp, self, d)
    lead = m.shape[:-1]
    n = m.shape[-1]
    if xp is np:    # the CPU kernel's std::sort: its own order among equal values and NaNs
        i = _std_sort_mode_index(m.reshape(-1, n)).reshape(lead + (1,))
        v = np.take_along_axis(m, i, axis=-1)
        if keepdim:
            return np.moveaxis(v, -1, d), np.moveaxis(i, -1, d)
        return v[..., 0], i[..., 0]
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
# quantile / nanquantile are in reduction_quantile.py, imported here so that they register
# between mode and nansum
from . import reduction_quantile  # noqa: E402

_FAMILY = (reduction_quantile,)


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
    if type(self) is np.ndarray and out in _CASCADE and self.dtype in _CASCADE:
        # PyTorch's CPU order (NaNs loaded as 0, after sum(dtype=)'s conversion)
        r = cascade_sum(self if self.dtype == out else self.astype(out),
                        _axes(dim, self.ndim), keepdim, ignore_nan=True)
        if r is not None:
            return r
    # NaNs are zeroed, then the values converted, as sum(dtype=) converts (PyTorch:
    # nansum([1.5, 1.5, nan, 2.7], dtype=int32) is 4)
    a = xp.where(xp.isnan(self), self.dtype.type(0), self) if _is_float(self) else self
    if dtype is not None and a.dtype != out:
        with np.errstate(invalid="ignore"):
            a = a.astype(out)
    acc = _F32 if out == _F16 else out
    with np.errstate(invalid="ignore", over="ignore"):     # (inf - inf: silent, as PyTorch)
        r = a.sum(_axes(dim, self.ndim), acc, keepdims=keepdim)
    return r.astype(out, copy=False)


def _nanmean_dtype(self_dt, dtype):
    # PyTorch checks the input's dtype (an int tensor with dtype=float16 is refused), then
    # mean's check of the explicit dtype
    if self_dt.category != _dt.FLOATING:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex "
                           f"dtype but got {self_dt.short_name}")
    d = self_dt if dtype is None else _dt.to_dtype(dtype)
    if d.category != _dt.FLOATING:
        raise RuntimeError(f"nanmean(): could not infer output dtype. Optional dtype must be "
                           f"either a floating point or complex dtype. Got: {d.short_name}")
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
    s = None
    if type(self) is np.ndarray and out in _CASCADE and self.dtype in _CASCADE:
        # PyTorch's composite: nansum (its CPU order) divided by the count
        s = cascade_sum(self if self.dtype == out else self.astype(out), axes, keepdim,
                        ignore_nan=True)
    if s is None:
        s = xp.where(nan, 0, self).sum(axes, acc, keepdims=keepdim)
    n = (~nan).sum(axes, keepdims=keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (s / n).astype(out, copy=False)


def _nanmean_composite(self, dim=None, keepdim=False, dtype=None):
    """nanmean recording gradients: PyTorch's composite, nansum(...) divided by the count
    of non-NaN elements (DivBackward0 -> (NansumBackward0, None))."""
    _nanmean_dtype(self.dtype, dtype)
    factor = self.isnan().logical_not_().sum(dim, keepdim)
    return self.nansum(dim, keepdim, dtype=dtype).div(factor)


nanmean.op.composite = _nanmean_composite


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
    # the value at that position, as PyTorch's (cummax of [-0., 0.] is [-0., 0.])
    v = xp.take_along_axis(m, i, axis=-1)
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


def _lcse_check(d, where=None):
    if d.category != _dt.FLOATING:
        raise not_implemented("logcumsumexp_out_cpu", where, d.short_name)
    return d


@op("aten::logcumsumexp(Tensor self, int dim) -> Tensor", tags=_RED,
    meta=lambda self, dim: TensorMeta(_lcse_check(self.dtype, self), tuple(self.shape),
                                      self.device))
def logcumsumexp(xp, self, dim):
    _lcse_check(_dt_of(self), xp)
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
    for other in (pre, app):    # (checked before other[d] is read: a 0-dim prepend)
        if other is not None and len(other) != len(shape):
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               "input")
        bad = [i for i, (a, b) in enumerate(zip(other or (), shape))
               if i != d and a is not None and b is not None and a != b]
        if bad:
            i = bad[0]
            raise RuntimeError("diff expects the shape of tensor to prepend or append to "
                               "match that of input except along the differencing dimension;"
                               f" input.size({i}) = {shape[i]}, but got tensor.size({i}) = "
                               f"{other[i]}")
    size = shape[d] + (pre[d] if pre is not None else 0) + (app[d] if app is not None else 0)
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
    if len(parts) > 1:      # (torch.cat's layout: NumPy's concatenate follows its inputs)
        a = _mf.format_layout(xp, a, _mf.output_format(parts, a.ndim))
    for _ in range(n):
        if a.shape[d] == 0:
            break
        hi = a[(slice(None),) * d + (slice(1, None),)]
        lo = a[(slice(None),) * d + (slice(None, -1),)]
        a = (hi != lo) if a.dtype == bool else hi - lo
        # (PyTorch's sub of the narrowed input: TensorIterator's layout, the input's
        # order; CuPy's ufuncs give C-contiguous results)
        a = _mf.iterator_layout(xp, a, (hi, lo))
    return a.astype(self.dtype, copy=False)


def _diff_composite(self, n=1, dim=-1, prepend=None, append=None):
    """diff recording gradients: PyTorch's composite, cat of prepend / self / append, then
    n times narrow(d, 1, len) - narrow(d, 0, len) (SubBackward0 -> SliceBackward0 edges;
    an empty dim: the input itself; n == 0 a copy)."""
    d, _ = _diff_rule(tuple(self.shape), n, dim,
                      None if prepend is None else tuple(prepend.shape),
                      None if append is None else tuple(append.shape))
    parts = [p for p in (prepend, self, append) if p is not None]
    from .registry import OPS
    r = OPS["aten::cat"].public(parts, d) if len(parts) > 1 else self
    size = r.shape[d]
    if self.dtype is _dt.bool:
        return NotImplemented
    if n == 0:      # (zeros_like(combined).copy_(combined): CopyBackwards)
        return OPS["aten::zeros_like"].public(r).copy_(r)
    out_len = size - 1
    for _ in range(min(n, size)):
        r = r.narrow(d, 1, out_len) - r.narrow(d, 0, out_len)
        out_len -= 1
    return r


diff.op.composite = _diff_composite


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops


def _reduced_back(grad, dim, keepdim, ndim):
    if keepdim or ndim == 0:
        return grad
    return grad.unsqueeze(dim % ndim)


def _index_back(grad, self_shape, dim, keepdim, indices):
    """A value-selecting reduction's gradient goes to the index it returned; it keeps only
    the input's shape (as PyTorch's value_selecting_reduction_backward), so a write into
    the input after the reduction is no error at backward."""
    nd = len(self_shape)
    if nd == 0:
        return grad
    d = dim % nd
    g = _reduced_back(grad, d, keepdim, nd)
    i = _reduced_back(indices, d, keepdim, nd)
    return g.new_zeros(self_shape).scatter(d, i, g)


@_derivative(median_dim, nanmedian_dim)
def _median_dim_grad(grad, self_shape, dim, keepdim, result):
    return _index_back(grad[0], self_shape, dim, keepdim, result[1])


@_derivative(kthvalue, mode)
def _kth_grad(grad, self_shape, dim, keepdim, result):
    return _index_back(grad[0], self_shape, dim, keepdim, result[1])


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


@forward_derivative(logcumsumexp)
def _logcumsumexp_jvp(self_t, self, dim):
    # (PyTorch's logcumsumexp_jvp: the backward's log-space form is singular at a zero
    # cotangent, where the double-vjp trick differentiates it)
    if self.dim() == 0 or self.numel() == 0:
        return self_t.clone()
    import gpujit
    m = self.amax(dim, keepdim=True)
    e = (self - m.masked_fill(~m.isfinite(), 0.0)).exp()
    cum = e.cumsum(dim)
    # (where nothing has been summed yet, -inf or lowest() leading entries: zero, as
    # PyTorch's, not 0/0; such entries appear in logcumsumexp's own backward)
    small = cum < 1e-13
    return gpujit.where(small, gpujit.zeros_like(cum),
                        (e * self_t).cumsum(dim) / cum.masked_fill(small, 1.0))


@_derivative(nansum)
def _nansum_grad(grad, self, dim, keepdim):
    from .reduction import _keep
    # (PyTorch's nansum_backward multiplies by the not-NaN mask: an inf or NaN gradient
    # stays NaN at a NaN input, as nanmean's 1 / 0 of an all-NaN row gives)
    return _keep(grad, self.dim(), dim, keepdim).expand(self.shape) * \
        self.isnan().logical_not()


@_derivative(nanmean)
def _nanmean_grad(grad, self, dim, keepdim):
    from .reduction import _keep, _reduced
    ok = self.isnan().logical_not()
    n = ok.sum(_reduced(self.dim(), dim), keepdim=True)
    return (_keep(grad, self.dim(), dim, keepdim) / n).expand(self.shape).masked_fill(
        self.isnan(), 0)


@_derivative(diff, wrt=("self", "prepend", "append"))
def _diff_grad(grad, self_shape, n, dim, prepend_shape, append_shape):
    # (only shapes are kept: diff is slicing and subtraction, as PyTorch's composite)
    import gpujit
    d = dim % len(self_shape)
    g = grad
    for _ in range(n):
        zeros = g.new_zeros([1 if i == d else s for i, s in enumerate(g.shape)])
        g = gpujit.cat([zeros, g], d) - gpujit.cat([g, zeros], d)
    start = prepend_shape[d] if prepend_shape is not None else 0
    size = self_shape[d]
    out = [g.narrow(d, start, size)]
    out.append(g.narrow(d, 0, start) if prepend_shape is not None else None)
    out.append(g.narrow(d, start + size, append_shape[d]) if append_shape is not None
               else None)
    return tuple(out)


_nondiff(count_nonzero, count_nonzero_dims,
         reason="integer or boolean results: counts, positions and membership tests")
from . import segment_reduce as _segment_reduce  # noqa: E402,F401  (torch.segment_reduce)
