"""Set and search ops: unique / unique_consecutive (torch.unique's optional outputs as
Python entry points in `PUBLIC`, Tensor.unique), searchsorted / bucketize, bincount, histc
and isin. None is differentiable (integer or boolean results, selected values).

Bodies use only what NumPy and CuPy both have (sort, argsort, searchsorted, bincount, isin).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from .kernel_names import _on_cuda, not_implemented
from .. import dtypes as _dt
from .meta import TensorMeta, wrap_dim
from .registry import op, OPS, tensor_method
from .registry import nondifferentiable as _nondiff
from .derivatives import not_implemented as _not_implemented
from .reduction_extra import INTS, _LONG, _RED, _SHAPE, _dt_of, _is_float, _sort_last

PUBLIC = {}


# ------------------------------------------------------------------ unique

def _unique_flat(xp, a, return_inverse, return_counts):
    flat = a.reshape(-1)
    if flat.size == 0:
        e = xp.zeros(0, _LONG)
        return flat.copy(), xp.zeros(a.shape, _LONG), e
    if xp is np and _is_float(flat) and bool((xp.isnan(flat) | (flat == 0)).any()):
        # PyTorch's CPU unique sorts with std::sort (stable=False): its order among equal
        # values (which NaN is which unique, the sign of a zero's; elsewhere the order
        # among equal values changes nothing)
        from .shape_order import stl_argsort_along
        order = stl_argsort_along(flat, 0, False)
        s = flat[order]
    else:
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
    if a.size == 0 and a.shape[d] != 0:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique "
                           "cannot be applied")
    m = xp.moveaxis(a, d, 0)
    n = m.shape[0]
    rows = m.reshape(n, math.prod(m.shape[1:]))      # no -1: 0-size slices
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


# (torch's are Python methods of Tensor: its TypeErrors name them so, "Tensor.unique() got
# an unexpected keyword argument 'axis'")
_unique_method.__qualname__ = "Tensor.unique"
_uc_method.__qualname__ = "Tensor.unique_consecutive"


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
    if ct == np.bool_:      # (PyTorch's kernel has no bool version)
        raise not_implemented("searchsorted_out_cpu", xp, "Bool")
    seq = seq.astype(ct, copy=False)
    values = xp.asarray(values).astype(ct, copy=False)
    if seq.ndim == 1:
        r = _bound(xp, seq, values, side == "right", lambda mid: seq[mid])
    else:
        lead = seq.shape[:-1]
        # (rows counted, not -1: a 0-size leading dim or a 0-length sequence)
        rows = int(np.prod(lead, dtype=np.int64))
        s2 = seq.reshape(rows, seq.shape[-1])
        v2 = values.reshape(rows, values.shape[-1])
        r = _bound(xp, s2, v2, side == "right",
                   lambda mid: xp.take_along_axis(s2, mid, axis=-1))
        r = r.reshape(lead + values.shape[-1:])
    return xp.asarray(r).astype(np.int32 if out_int32 else _LONG)


def _bound(xp, seq, values, right, at):
    """PyTorch's binary search (cus_lower_bound / cus_upper_bound) for every value at
    once: `start` moves past mid while !(seq[mid] >= v) (right: !(seq[mid] > v)), so a nan
    in the sequence counts as below every value (NumPy's searchsorted sorts nan last:
    searchsorted([0.47, 0.48, nan], 0.96) is 3 in PyTorch, 2 in NumPy), and an unsorted
    sequence gives PyTorch's answers. at(mid): the sequence's elements at mid."""
    n = seq.shape[-1]
    start = xp.zeros(values.shape, _LONG)
    if n == 0:
        return start
    end = xp.full(values.shape, n, _LONG)
    for _ in range(int(n).bit_length()):        # (a search of n takes at most this)
        active = start < end
        mid = start + ((end - start) >> 1)
        m = at(xp.minimum(mid, n - 1))
        up = ~(m > values) if right else ~(m >= values)
        start = xp.where(active & up, mid + 1, start)
        end = xp.where(active & ~up, mid, end)
    return start


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

def _bincount_dtype(self_dt, w_dt, where=None):
    if self_dt not in INTS:
        raise not_implemented("bincount_cpu", where, self_dt.short_name)
    if w_dt is None:
        return _dt.int64
    return _dt.float32 if w_dt is _dt.float32 else _dt.float64


@op("aten::bincount(Tensor self, Tensor? weights=None, SymInt minlength=0) -> Tensor",
    tags=_RED,
    meta=lambda self, weights=None, minlength=0: TensorMeta(
        _bincount_dtype(self.dtype, None if weights is None or tuple(self.shape) == (0,)
                        else weights.dtype, self), (None,), self.device))
def bincount(xp, self, weights=None, minlength=0):
    out = _bincount_dtype(_dt_of(self), None if weights is None else _dt_of(weights), xp).np
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if self.ndim == 1 and self.size == 0:
        # PyTorch's first case: int64 zeros, whatever the weights (their size unchecked)
        return xp.zeros(minlength, _LONG)
    if self.ndim != 1 or (self.size and int(self.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and weights.shape != self.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    w = None if weights is None else weights.astype(np.float64)
    if self.size == 0:
        return xp.zeros(minlength, out)
    return xp.bincount(self.astype(_LONG), w, minlength=minlength).astype(out)


def _histc_check(d, bins, where=None):
    """On the CPU PyTorch's histc takes floating dtypes (bool fails first in the edges'
    linspace); its CUDA kernel (SummaryOps.cu, AT_DISPATCH_ALL_TYPES) also the integers,
    but refuses float16 in its own words."""
    if _on_cuda(where):
        if d is _dt.float16:
            raise RuntimeError("HalfTensor is not supported")
        if d is _dt.bool:
            raise NotImplementedError(f"\"histc\" not implemented for '{d.short_name}'")
    elif d.category != _dt.FLOATING:
        raise NotImplementedError(f"\"{'linspace_cpu' if d is _dt.bool else 'histogram_cpu'}"
                                  f"\" not implemented for '{d.short_name}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           f"dimension 0")


@op("aten::histc(Tensor self, int bins=100, Scalar min=0, Scalar max=0) -> Tensor",
    tags=_RED,
    meta=lambda self, bins=100, min=0, max=0: (_histc_check(self.dtype, bins, self), TensorMeta(
        self.dtype, (bins,), self.device))[1])
def histc(xp, self, bins=100, min=0, max=0):
    d = _dt_of(self)
    _histc_check(d, bins, xp)
    if d.category != _dt.FLOATING:
        return _histc_int(xp, self, bins, min, max)
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


def _histc_int(xp, self, bins, min, max):
    """The CUDA kernel on integers: bounds as int64 (the Scalars truncated), the bin
    (x - min) * bins / (max - min) in integer arithmetic, the counts in the input's dtype."""
    lo, hi = int(min), int(max)
    x = self.reshape(-1).astype(_LONG)
    if lo == hi and x.size:
        lo, hi = int(x.min()), int(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo >= hi:
        raise RuntimeError("max must be larger than min")
    x = x[(x >= lo) & (x <= hi)]
    idx = xp.minimum((x - lo) * bins // (hi - lo), bins - 1)
    return xp.bincount(idx, minlength=bins)[:bins].astype(self.dtype)


def _isin(xp, elements, test, assume_unique, invert):
    if elements.dtype == np.bool_ or test.dtype == np.bool_:
        raise RuntimeError("Unsupported input type encountered for isin(): Bool")
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


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops


# (PyTorch records unique's values and bincount's weighted counts and refuses the backward)
for _f, _n in ((_unique2, "_unique2"), (unique_dim, "unique_dim"),
               (unique_consecutive_, "unique_consecutive")):
    _not_implemented(_f, message=f"the derivative for '{_n}' is not implemented.")
_not_implemented(bincount, message="derivative for aten::bincount is not implemented")


_nondiff(searchsorted, searchsorted_scalar, bucketize, bucketize_scalar, histc,
         isin, isin_scalar, isin_scalar_tensor,
         reason="integer or boolean results: counts, positions and membership tests")
