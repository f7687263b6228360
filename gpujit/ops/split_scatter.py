"""Splitting and index-writing ops: tensor_split (PyTorch's three overloads: sections, indices
and a tensor of either, chosen by the dispatcher as PyTorch's parser does, keywords
included: `torch.tensor_split(x, indices=(1,), dim=2)`), hsplit / vsplit / dsplit, unflatten, index_copy, put and
scatter_reduce (in- and out-of-place), with their derivatives.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, int_list, wrap_dim
from .meta import numel as _numel
from .registry import op
from .overlap import no_overlap
from .registry import derivative as _derivative
from .reduction_extra import _LONG, _SHAPE, _dt_of

PUBLIC = {}

_VIEW = {"view"}


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
    "Tensor(a)[]", tags=_VIEW,
    meta=lambda self, sections, dim=0: _ts_meta(
        self, _ts_dim(self.shape, dim),
        _ts_bounds(self.shape[_ts_dim(self.shape, dim)], sections)))
def tensor_split_sections(xp, self, sections, dim=0):
    d = _ts_dim(self.shape, dim)
    return _ts_pieces(xp, self, d, _ts_bounds(self.shape[d], sections))


@op("aten::tensor_split.indices(Tensor(a) self, SymInt[] indices, int dim=0) -> "
    "Tensor(a)[]", tags=_VIEW,
    meta=lambda self, indices, dim=0: _ts_meta(
        self, _ts_dim(self.shape, dim),
        _ts_bounds(self.shape[_ts_dim(self.shape, dim)], indices=int_list(indices))))
def tensor_split_indices(xp, self, indices, dim=0):
    d = _ts_dim(self.shape, dim)
    return _ts_pieces(xp, self, d, _ts_bounds(self.shape[d], indices=int_list(indices)))


def _ts_tensor_bounds(xp, length, t):
    """tensor_indices_or_sections read on the host: a 0-dim int64 CPU tensor is a number
    of sections, a 1-dim one the indices (PyTorch's checks and words)."""
    if xp is not np:
        raise RuntimeError("tensor_split expected tensor_indices_or_sections to be on cpu, "
                           "but it's on cuda:0")
    if t.dtype != np.int64:
        raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype "
                           f"of long, but got {_dt.from_numpy_dtype(t.dtype).short_name}")
    if t.ndim > 1:
        raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a "
                           f"zero-dimensional or one-dimensional tensor, but got a "
                           f"tensor with {t.ndim} dims")
    if t.ndim == 0:
        return _ts_bounds(length, int(t))
    return _ts_bounds(length, indices=[int(v) for v in t.tolist()])


def _ts_tensor_meta(self, tensor_indices_or_sections, dim=0):
    # the pieces' count and sizes are the index tensor's values, which metas do not hold
    raise RuntimeError("tensor_split by a tensor of indices or sections: its pieces are "
                       "known only from the tensor's values")


@op("aten::tensor_split.tensor_indices_or_sections(Tensor(a) self, "
    "Tensor tensor_indices_or_sections, int dim=0) -> Tensor(a)[]", tags=_VIEW,
    meta=_ts_tensor_meta)
def tensor_split_tensor(xp, self, tensor_indices_or_sections, dim=0):
    d = _ts_dim(self.shape, dim)
    return _ts_pieces(xp, self, d, _ts_tensor_bounds(xp, self.shape[d],
                                                     tensor_indices_or_sections))


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

    # (torch.hsplit / Tensor.hsplit: the dispatcher picks the overload, keywords included:
    # `x.hsplit(sections=2)`, `torch.vsplit(x, indices=[1])`)
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


# ---------------------------------------------------------- index_copy / put / scatter_reduce

def _index_copy_rule(name, self_shape, self_dt, dim, idx_shape, idx_dt, src_shape, src_dt):
    """index_copy's checks, in the order and words of PyTorch's index_copy meta function."""
    d = wrap_dim(dim, len(self_shape))
    if len(idx_shape) > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got "
                         f"{len(idx_shape)})")
    n = 1
    for k in idx_shape:
        n *= k
    if not src_shape and n != 1:
        raise IndexError(f"index_copy_(): When source is scalar, index should have one "
                         f"element (got {n})")
    if src_shape and self_shape and len(src_shape) != len(self_shape):
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({len(src_shape)}),"
                         f" destination dimensionality ({len(self_shape)})")
    if idx_dt is not _dt.int64:
        raise RuntimeError("index_copy_(): Expected a long tensor for index, but got "
                           f"{idx_dt.short_name}")
    if src_dt is not self_dt:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {self_dt.short_name} and (source) "
                           f"{src_dt.short_name}")
    s, src = list(self_shape), list(src_shape)
    if s:
        del s[d]
    if src:
        del src[d]
    if s != src:
        # (ATen prints the sliced sizes space-separated)
        raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice "
                           f"shapes. Destination slice shape: {' '.join(map(str, s))} at "
                           f"dimension {d} and source slice shape: {' '.join(map(str, src))} "
                           f"at dimension 0.")
    if src_shape and n != src_shape[d]:
        raise IndexError(f"index_copy_(): Number of indices ({n}) should be equal to "
                         f"source.size(dim) ({src_shape[d]})")
    return d


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
        if reduce == "mean" and self.dtype == np.bool_:     # (no bool kernel in PyTorch)
            raise NotImplementedError(
                "\"div_floor_cpu\" not implemented for 'Bool'" if index.size == 0 else
                "\"scatter_gather_tensor_cpu_reduce_mean\" not implemented for 'Bool'")
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
            # integers: PyTorch sums in self's dtype (wrapping: int8 -100 + -100 is 56),
            # then floor-divides by the count
            acc = flat.astype(np.float64) if a.dtype.kind == "f" else flat.copy()
            _scatter_at(xp, acc, pos, vals.astype(acc.dtype), "sum")
            count = xp.maximum(count, 1)
            r = acc / count if a.dtype.kind == "f" else \
                xp.floor_divide(acc.astype(_LONG), count)
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


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops


def _split_back(grad, self_shape, dim):
    import gpujit
    d = dim % len(self_shape) if self_shape else 0
    return gpujit.cat(list(grad), d)


@_derivative(tensor_split_sections)
def _tensor_split_grad(grad, self_shape, dim):
    return _split_back(grad, self_shape, dim)


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


@_derivative(tensor_split_tensor)
def _tensor_split_tensor_grad(grad, self_shape, tensor_indices_or_sections, dim):
    # (the index tensor is integral: no gradient)
    t = tensor_indices_or_sections
    if t.dim() == 0:
        return _split_back(grad, self_shape, dim), None
    return _tensor_split_indices_grad(grad, self_shape, t.tolist(), dim), None


def _hvd_grad(dim_of):
    def fn(grad, self_shape):
        import gpujit
        return gpujit.cat(list(grad), dim_of(len(self_shape)))
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
    """PyTorch's scatter_reduce_backward (FunctionsManual.cpp). sum/mean: the gradient
    flows back as scattered (mean divided by the count); amax/amin: shared evenly among
    the self and src entries equal to the result -- self's entry counts in the share even
    with include_self=False, whose self gradient is then 0 where src was scattered (of
    [1., 1.] scattered by amin into a self of 1.: 1/3 each); prod: the product of the
    others, computed with self's zeros and a position's single zero src masked by 1 (no
    0 / 0: the exclusive product)."""
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
        count = self_hit.to(grad.dtype).scatter_add(dim, index, src_hit.to(grad.dtype))
        g = grad / count
        g_self = g * self_hit
        if not include_self:
            g_self = g_self.scatter(dim, index, 0)
        return g_self, _pad_to(g.gather(dim, index) * src_hit, src_shape)
    # prod
    masked_self = self.masked_fill(self == 0, 1)
    g_self = grad * masked_self.scatter_reduce(dim, index, src, "prod",
                                               include_self=include_self) / masked_self
    if not include_self:
        g_self = g_self.scatter(dim, index, 0)
    src_zero = src == 0
    zeros = grad.new_zeros(self.shape).scatter_add(dim, index, src_zero.to(grad.dtype))
    single = src_zero.logical_and(zeros.gather(dim, index) == 1)
    others = self.scatter_reduce(dim, index, src.masked_fill(single, 1), "prod",
                                 include_self=include_self)
    import gpujit
    g_src = gpujit.where(single, (grad * others).gather(dim, index),
                         (grad * result).gather(dim, index) / src.masked_fill(src_zero, 1))
    return g_self, _pad_to(g_src, src_shape)


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
