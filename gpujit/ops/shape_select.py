"""Shape ops that select elements: take, take_along_dim, masked_select, masked_scatter(_),
nonzero / argwhere / nonzero_numpy / where(condition) (nonzero's as_tuple= entry point and
Tensor.nonzero in `PUBLIC`), and their derivatives. Part of the shape family: shape.py
imports this module right after shape_index.py (whose bounds and index-dtype checks it
uses), so the registry lists the ops in the same order as before the split."""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, wrap_dim, broadcast_shapes
from .registry import op, OPS, tensor_method, derivative as _derivative
from .shape_index import (_SHAPE, _INPLACE, TAKE_MSG, _dt_of, _nd1, _numel, check_bounds,
                          _check_index_dtype, _zeros)

PUBLIC = {}


# ------------------------------------------------------------------ take / take_along_dim

def _take_index_dtype(dt):
    if dt is not _dt.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{dt.short_name}")


@op("aten::take(Tensor self, Tensor index) -> Tensor", tags=_SHAPE,
    meta=lambda self, index: (_take_index_dtype(index.dtype),
                              TensorMeta(self.dtype, tuple(index.shape), self.device))[1])
def take(xp, self, index):
    _take_index_dtype(_dt_of(index))
    n = self.size
    if index.size and n == 0:
        raise IndexError("take(): tried to take from an empty tensor")
    check_bounds(xp, index, n, 0, IndexError, TAKE_MSG, negative=True)
    return xp.take(self.reshape(-1), xp.where(index < 0, index + n, index))


def _tad_rule(self_shape, idx_shape, idx_dt, dim):
    if idx_dt is not _dt.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{idx_dt.short_name}")
    if dim is None:
        return None, (_numel(idx_shape),)
    if len(self_shape) != len(idx_shape):
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {len(self_shape)} dimensions for "
                           f"input, and {len(idx_shape)} dimensions for indices")
    d = wrap_dim(dim, len(self_shape))
    if not self_shape:
        # PyTorch reads indices.size(dim) of the 0-dim indices (_take_along_dim_helper)
        raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
    s, i = list(self_shape), list(idx_shape)
    s[d] = idx_shape[d]
    idx_b = broadcast_shapes(tuple(s), tuple(idx_shape))
    i[d] = self_shape[d]
    self_b = broadcast_shapes(tuple(i), tuple(self_shape))
    return d, (idx_b, self_b)


def _tad_meta(self, indices, dim=None):
    d, shapes = _tad_rule(self.shape, indices.shape, indices.dtype, dim)
    shape = shapes if d is None else shapes[0]
    return TensorMeta(self.dtype, shape, self.device)


@op("aten::take_along_dim(Tensor self, Tensor indices, int? dim=None) -> Tensor",
    tags=_SHAPE, meta=_tad_meta)
def take_along_dim(xp, self, indices, dim=None):
    """gather along dim after broadcasting self and indices in every other dim (dim=None:
    over the flattened input, a 1-D result)."""
    d, shapes = _tad_rule(self.shape, indices.shape, _dt_of(indices), dim)
    if d is None:
        flat = self.reshape(-1)
        idx = indices.reshape(-1)
        check_bounds(xp, idx, flat.shape[0], 0)
        return xp.take(flat, idx) if idx.size else xp.empty((0,), self.dtype)
    idx_shape, self_shape = shapes
    idx = xp.broadcast_to(indices, idx_shape)
    if idx.size == 0:
        return xp.empty(idx_shape, self.dtype)
    check_bounds(xp, idx, self.shape[d], d)
    return xp.take_along_axis(xp.broadcast_to(self, self_shape), idx, axis=d)


# ------------------------------------------------------------------ masks and nonzero

def _masked_select_rule(self_shape, mask_dt, mask_shape):
    if mask_dt is not _dt.bool:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask (got "
                           f"{mask_dt.name})")
    return broadcast_shapes(tuple(self_shape), tuple(mask_shape))


@op("aten::masked_select(Tensor self, Tensor mask) -> Tensor", tags=_SHAPE,
    meta=lambda self, mask: (_masked_select_rule(self.shape, mask.dtype, mask.shape),
                             TensorMeta(self.dtype, (None,), self.device))[1])
def masked_select(xp, self, mask):
    shape = _masked_select_rule(self.shape, _dt_of(mask), mask.shape)
    return xp.broadcast_to(self, shape)[xp.broadcast_to(mask, shape)]


def _masked_scatter_rule(self_shape, self_dt, mask_shape, mask_dt, src_dt, inplace):
    """The result's shape: self's (the mask expanded to it) in place, else the broadcast."""
    if mask_dt is not _dt.bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {mask_dt.short_name}")
    if src_dt is not self_dt:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got{self_dt.short_name} and {src_dt.short_name}")
    if inplace:
        from .views import expand_shape
        return expand_shape(tuple(mask_shape), tuple(self_shape))
    return broadcast_shapes(tuple(mask_shape), tuple(self_shape))    # PyTorch's order


def _declare_masked_scatter(inplace):
    name = "masked_scatter_" if inplace else "masked_scatter"
    self_t, ret = ("Tensor(a!) self", "Tensor(a!)") if inplace else ("Tensor self", "Tensor")

    @op(f"aten::{name}({self_t}, Tensor mask, Tensor source) -> {ret}",
        tags=_INPLACE if inplace else _SHAPE, function=not inplace,
        meta=lambda self, mask, source: TensorMeta(self.dtype, _masked_scatter_rule(
            self.shape, self.dtype, mask.shape, mask.dtype, source.dtype, inplace),
            self.device))
    def impl(xp, self, mask, source):
        """Fill self where mask is True with source's leading elements, in order."""
        shape = _masked_scatter_rule(self.shape, _dt_of(self), mask.shape, _dt_of(mask),
                                     _dt_of(source), inplace)
        out = self if inplace else xp.broadcast_to(self, shape).copy()
        m = xp.broadcast_to(mask, shape)
        k = int(m.sum())
        if k > source.size:
            raise RuntimeError("Number of elements of source < number of ones in mask")
        if k:
            out[m] = source.reshape(-1)[:k]
        return out
    impl.__name__ = name
    return impl


masked_scatter = _declare_masked_scatter(False)
masked_scatter_ = _declare_masked_scatter(True)


def _argwhere(xp, self):
    return xp.argwhere(self).astype(np.int64, copy=False)


@op("aten::nonzero(Tensor self) -> Tensor", tags=_SHAPE, method=False, function=False,
    meta=lambda self: TensorMeta(_dt.int64, (None, len(self.shape)), self.device))
def nonzero_(xp, self):
    return _argwhere(xp, self)


@op("aten::nonzero_static(Tensor self, *, SymInt size, int fill_value=-1) -> Tensor",
    tags=_SHAPE, meta=lambda self, size, fill_value=-1: TensorMeta(
        _dt.int64, (size, len(self.shape)), self.device))
def nonzero_static(xp, self, size, fill_value=-1):
    """nonzero with a fixed number of rows: the first `size` indices, padded with rows of
    fill_value (a shape known before the data is, for compiled code)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"nonzero_static(): argument 'size' must be int, not "
                        f"{type(size).__name__}")
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    idx = _argwhere(xp, self)[:size]
    out = xp.full((size, self.ndim), fill_value, dtype=np.int64)
    out[:idx.shape[0]] = idx
    return out


@op("aten::argwhere(Tensor self) -> Tensor", tags=_SHAPE,
    meta=lambda self: TensorMeta(_dt.int64, (None, len(self.shape)), self.device))
def argwhere(xp, self):
    return _argwhere(xp, self)


@op("aten::nonzero_numpy(Tensor self) -> Tensor[]", tags=_SHAPE, method=False,
    function=False,
    meta=lambda self: [TensorMeta(_dt.int64, (None,), self.device)] * max(len(self.shape), 1))
def nonzero_numpy(xp, self):
    # (PyTorch: nonzero(self).unbind(1), and nonzero's (n, ndim) result is laid out
    # column by column (strides (1, n)): each index tensor is contiguous, the k-th at
    # offset k * n of one buffer)
    a = self.reshape(_nd1(self.shape))
    cols = xp.ascontiguousarray(_argwhere(xp, a).T)
    return [cols[k] for k in range(cols.shape[0])]


def nonzero(input, *, out=None, as_tuple=False):
    """torch.nonzero: an (n, ndim) int64 tensor, or with as_tuple=True one 1-D index tensor
    per dimension (a 0-dim input counts as 1-D)."""
    if as_tuple:
        return tuple(OPS["aten::nonzero_numpy"].public(input))
    if out is not None:
        from .out_variants import out_variant
        return out_variant(OPS["aten::nonzero"]).public(input, out)
    return OPS["aten::nonzero"].public(input)


PUBLIC["nonzero"] = nonzero


@op("aten::where(Tensor condition) -> Tensor[]", tags=_SHAPE, method=False,
    meta=lambda condition: [TensorMeta(_dt.int64, (None,), condition.device)]
    * max(len(condition.shape), 1))
def where_nonzero(xp, condition):
    """torch.where(condition): the same as nonzero(condition, as_tuple=True)."""
    return nonzero_numpy(xp, condition)


@tensor_method("nonzero")
def _nonzero_method(self, *, as_tuple=False):
    return nonzero(self, as_tuple=as_tuple)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops

@_derivative(take, wrt=("self",))
def _take_grad(grad, self, index):
    import gpujit
    n = self.numel()
    idx = index.reshape(-1)
    idx = gpujit.where(idx < 0, idx + n, idx)
    return _zeros((n,), grad).index_add(0, idx, grad.reshape(-1)).reshape(self.shape)


@_derivative(take_along_dim, wrt=("self",))
def _take_along_dim_grad(grad, self, indices, dim):
    """A gather from self broadcast against indices: scatter_add back into the broadcast
    shape; autograd sums the broadcast dims back to self's shape."""
    if dim is None:
        flat = _zeros((self.numel(),), grad)
        return flat.index_add(0, indices.reshape(-1), grad.reshape(-1)).reshape(self.shape)
    if self.dim() == 0:
        return grad
    d, (idx_shape, self_shape) = _tad_rule(tuple(self.shape), tuple(indices.shape),
                                           indices.dtype, dim)
    return _zeros(self_shape, grad).scatter_add(d, indices.expand(idx_shape), grad)


@_derivative(masked_scatter, masked_scatter_, wrt=("self", "source"))
def _masked_scatter_grad(grad, mask, source_shape):
    """self keeps the gradient where the mask is False; source's leading elements get the
    gradient of the positions they filled, the rest zero (PyTorch's
    masked_scatter_backward)."""
    import gpujit
    picked = grad.masked_select(mask)
    rest = math.prod(source_shape) - picked.numel()
    if rest > 0:
        picked = gpujit.cat([picked, _zeros((rest,), grad)])
    return grad.masked_fill(mask, 0), picked.reshape(source_shape)


@_derivative(masked_select, wrt=("self",))
def _masked_select_grad(grad, self, mask):
    # (ATen's masked_select_backward: zeros of the broadcast shape, masked_scatter_ of the
    # gradient; a float8 gradient is refused there, "masked_scatter" not implemented)
    shape = broadcast_shapes(tuple(self.shape), tuple(mask.shape))
    return _zeros(shape, grad).masked_scatter_(mask, grad)


def _take_along_dim_composite(self, indices, dim=None):
    """take_along_dim recording gradients: PyTorch's composite, the gather of both operands
    broadcast_to each other (ExpandBackward0 edges, even where nothing grows) or, with no
    dim, self.view(-1).gather(0, indices.view(-1)) (a ViewBackward0 edge; a self that
    cannot be viewed flat is view's error, as in PyTorch)."""
    d, shapes = _tad_rule(tuple(self.shape), tuple(indices.shape), indices.dtype, dim)
    if d is None:
        return self.view(-1).gather(0, indices.view(-1))
    idx_b, self_b = shapes
    return self.broadcast_to(self_b).gather(d, indices.broadcast_to(idx_b))


take_along_dim.op.composite = _take_along_dim_composite
