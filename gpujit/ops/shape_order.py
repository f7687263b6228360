"""Reordering shape ops: flip, roll, sort, argsort, topk (the shape family, continued
from shape.py). NaN sorts as the largest value. On the CPU, sort(stable=False) and topk
order equal elements as PyTorch's CPU kernels do (libstdc++'s std::sort / partial_sort /
nth_element, emulated in _stl_sort.py); a stable sort (and any sort on the GPU) keeps them
in their original order, a descending one too, as torch.sort(stable=True).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta, int_list, wrap_dim
from .registry import op

_SHAPE = {"shape"}


def _flip_dims(ndim, dims):
    dims = [wrap_dim(d, ndim) for d in int_list(dims)]
    seen = set()
    for d in dims:
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return tuple(dims)


@op("aten::flip(Tensor self, int[] dims) -> Tensor", tags=_SHAPE,
    meta=lambda self, dims: (_flip_dims(len(self.shape), dims),
                             TensorMeta(self.dtype, tuple(self.shape), self.device))[1])
def flip(xp, self, dims):
    dims = _flip_dims(self.ndim, dims)
    if self.ndim == 0 or not dims:
        return self.copy()
    # laid out as self (PyTorch's empty_like: a transposed input gives a transposed result)
    return _mf.keep_strides(xp, _mf.copy_in(xp, xp.flip(self, axis=dims),
                                             _mf.order_for(self, _mf.PRESERVE)), self)


def _roll_rule(ndim, shifts, dims):
    shifts, dims = int_list(shifts), int_list(dims)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if (not dims and len(shifts) != 1) or (dims and len(shifts) != len(dims)):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    if dims and ndim == 0:      # (wrap_dim takes a 0-dim tensor's dim as 1-dim's, flip's)
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    return shifts, [wrap_dim(d, ndim) for d in dims]


@op("aten::roll(Tensor self, SymInt[1] shifts, int[1] dims=[]) -> Tensor", tags=_SHAPE,
    meta=lambda self, shifts, dims=(): (_roll_rule(len(self.shape), shifts, dims),
                                        TensorMeta(self.dtype, tuple(self.shape),
                                                   self.device))[1])
def roll(xp, self, shifts, dims=()):
    shifts, dims = _roll_rule(self.ndim, shifts, dims)
    if not dims:
        return xp.roll(self.reshape(-1), shifts[0]).reshape(self.shape)
    # C-contiguous, or channels-last for a channels-last self (PyTorch's empty_like in
    # the suggested format; NumPy's kept a permuted self's order)
    return _mf.suggest_layout(xp, xp.roll(self, tuple(shifts), axis=tuple(dims)), self)


_STABLE = {"kind": "stable"}


def argsort_along(xp, a, axis, descending):
    """Stable argsort (NaN sorts as the largest value, as in PyTorch). Descending keeps
    equal elements in their original order, like torch.sort(stable=True)."""
    kw = _STABLE if xp is np else {}
    if a.dtype == np.bool_:
        a = a.view(np.uint8)           # same order; every backend sorts uint8
    elif a.dtype == np.float16:
        a = a.astype(np.float32)       # exact, same order (NaN stays NaN)
    if not descending:
        return xp.argsort(a, axis=axis, **kw)
    idx = xp.argsort(xp.flip(a, axis), axis=axis, **kw)
    return (a.shape[axis] - 1) - xp.flip(idx, axis)


def _stl_rows(a, axis):
    """(keys, indices) of a's slices along axis as rows, for _stl_sort: copies, keys in a
    dtype numba compares as PyTorch does (float16 widened, bools as uint8)."""
    m = np.moveaxis(a, axis, -1)
    n = m.shape[-1]
    # (float64 or int64 keys, exact and in the same order: numba compiles two versions)
    v = m.reshape(-1, n).astype(np.float64 if m.dtype.kind == "f" else np.int64)
    return m.shape, v, np.broadcast_to(np.arange(n, dtype=np.int64), v.shape).copy()


def _has_ties(a, axis, s=None):
    """Whether a slice of a along axis holds two equal values (or two NaNs), where the
    sort's algorithm decides their order (s: a sorted along axis, if at hand)."""
    s = np.moveaxis(np.sort(a, axis=axis) if s is None else s, axis, -1)
    eq = s[..., 1:] == s[..., :-1]
    if a.dtype.kind == "f":
        eq |= np.isnan(s[..., 1:])
    return bool(eq.any())


def stl_argsort_along(a, axis, descending):
    """The indices PyTorch's CPU sort(stable=False) orders a's slices by: libstdc++'s
    std::sort over (key, index) pairs (its own order among equal keys past 16 elements;
    below, insertion sort: stable)."""
    n = a.shape[axis]
    idx = argsort_along(np, a, axis, descending).astype(np.int64, copy=False)
    if n <= 16 or not _has_ties(a, axis, np.take_along_axis(a, idx, axis=axis)):
        return idx                         # (every order of distinct values is one)
    from ._stl_sort import compiled
    shape, v, ix = _stl_rows(a, axis)
    if v.size:
        compiled()[0](v, ix, bool(descending))
    return np.moveaxis(ix.reshape(shape), -1, axis)


def _sort_meta(self, dim=-1, descending=False, stable=None):
    wrap_dim(dim, len(self.shape))
    return (TensorMeta(self.dtype, tuple(self.shape), self.device),
            TensorMeta(_dt.int64, tuple(self.shape), self.device))


def _sort(xp, self, dim, descending, stable=False):
    d = wrap_dim(dim, self.ndim)
    if self.ndim == 0:
        return self.copy(), xp.zeros((), np.int64)
    if xp is np and not stable:
        idx = stl_argsort_along(self, d, descending)
    else:
        idx = argsort_along(xp, self, d, descending).astype(np.int64, copy=False)
    values = xp.take_along_axis(self, idx, axis=d)
    order = _mf.order_for(self, _mf.PRESERVE)      # as self's strides (PyTorch's sort)
    if any(i != o for i, o in enumerate(order)):
        values, idx = _mf.copy_in(xp, values, order), _mf.copy_in(xp, idx, order)
    return values, idx


@op("aten::sort(Tensor self, int dim=-1, bool descending=False) -> (Tensor values, "
    "Tensor indices)", tags=_SHAPE, meta=_sort_meta)
def sort(xp, self, dim=-1, descending=False):
    return _sort(xp, self, dim, descending)


@op("aten::sort.stable(Tensor self, *, bool? stable, int dim=-1, bool descending=False) -> "
    "(Tensor values, Tensor indices)", tags=_SHAPE, name="sort",
    meta=lambda self, stable, dim=-1, descending=False: _sort_meta(self, dim, descending))
def sort_stable(xp, self, stable, dim=-1, descending=False):
    return _sort(xp, self, dim, descending, bool(stable))


@op("aten::argsort(Tensor self, int dim=-1, bool descending=False) -> Tensor", tags=_SHAPE,
    meta=lambda self, dim=-1, descending=False: _sort_meta(self, dim)[1])
def argsort(xp, self, dim=-1, descending=False):
    return _sort(xp, self, dim, descending)[1]


@op("aten::argsort.stable(Tensor self, *, bool stable, int dim=-1, bool descending=False) "
    "-> Tensor", tags=_SHAPE, name="argsort",
    meta=lambda self, stable, dim=-1, descending=False: _sort_meta(self, dim)[1])
def argsort_stable(xp, self, stable, dim=-1, descending=False):
    return _sort(xp, self, dim, descending, bool(stable))[1]


def _topk_rule(shape, k, dim):
    d = wrap_dim(dim, len(shape))
    size = shape[d] if shape else 1
    if k < 0 or (size is not None and k > size):
        raise RuntimeError("selected index k out of range")
    return d, tuple(k if i == d else s for i, s in enumerate(shape))


@op("aten::topk(Tensor self, SymInt k, int dim=-1, bool largest=True, bool sorted=True) -> "
    "(Tensor values, Tensor indices)", tags=_SHAPE, contiguous=True,
    meta=lambda self, k, dim=-1, largest=True, sorted=True: (
        TensorMeta(self.dtype, _topk_rule(self.shape, k, dim)[1], self.device),
        TensorMeta(_dt.int64, _topk_rule(self.shape, k, dim)[1], self.device)))
def topk(xp, self, k, dim=-1, largest=True, sorted=True):
    d, shape = _topk_rule(self.shape, k, dim)
    if self.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if self.ndim == 0:
        return self.reshape(shape).copy(), xp.zeros(shape, np.int64)
    if xp is np and self.shape[d] > 3 and k and (not sorted or _has_ties(self, d)):
        # PyTorch's topk_impl_loop: std::partial_sort or std::nth_element (+ std::sort of
        # the first k - 1) over (value, index) pairs: their order among equal values
        from ._stl_sort import compiled
        shape, v, ix = _stl_rows(self, d)
        if v.size:
            compiled()[1](v, ix, k, bool(largest), bool(sorted))
        idx = np.moveaxis(ix[:, :k].reshape(shape[:-1] + (k,)), -1, d)
    else:
        idx = argsort_along(xp, self, d, largest)
        idx = idx[(slice(None),) * d + (slice(0, k),)].astype(np.int64, copy=False)
    return xp.take_along_axis(self, idx, axis=d), idx


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops
from .registry import derivative as _derivative  # noqa: E402


@_derivative(flip)
def _flip_grad(grad, dims):
    return grad.flip(dims)


@_derivative(roll)
def _roll_grad(grad, shifts, dims):
    return grad.roll([-s for s in int_list(shifts)], dims)


@_derivative(sort, sort_stable)
def _sort_grad(grad, result, dim):
    """Each value came from self at `indices` along dim (a permutation): its gradient is
    scattered back there. grad is (values' gradient, None for the integer indices)."""
    indices = result[1]         # (only: PyTorch keeps the indices, not the values)
    if indices.dim() == 0:
        return grad[0]
    import gpujit
    return gpujit.zeros_like(grad[0]).scatter(dim, indices, grad[0])


@_derivative(topk)
def _topk_grad(grad, self_shape, result, dim):
    indices = result[1]
    if len(self_shape) == 0:
        return grad[0]
    import gpujit
    out = gpujit.zeros(tuple(self_shape), dtype=grad[0].dtype, device=grad[0].device)
    return out.scatter(dim, indices, grad[0])
