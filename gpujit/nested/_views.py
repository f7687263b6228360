"""Nested kernels of the view, selection and copy ops (registered in _ops._KERNELS): transpose
/ mT / unsqueeze / squeeze / view / reshape / select / narrow / chunk / split_with_sizes
views of the buffer (sizes, strides and offsets recomputed, PyTorch's rules and errors);
cat, where, sum and all over the last dim, masked_fill, copy_, clone / contiguous / to.
"""
from __future__ import annotations

import numpy as np

from ._tensor import (NestedTensor, make_nested, from_components, components, _like,
                      component, unbind)
from ._ops import _kernel, _call, _map, _wrap, _packed, buffer_of

# ---------------------------------------------------------------- views and copies
@_kernel("aten::transpose.int")
def _transpose(op, self, dim0, dim1):
    n = self.dim()
    a, b = _wrap(dim0, n), _wrap(dim1, n)
    if a == 0 or b == 0:
        raise RuntimeError("Nested tensor dimension 0 cannot be transposed")
    sizes, strides = self._nt_sizes.copy(), self._nt_strides.copy()
    sizes[:, [a - 1, b - 1]] = sizes[:, [b - 1, a - 1]]
    strides[:, [a - 1, b - 1]] = strides[:, [b - 1, a - 1]]
    return make_nested(_alias(self._nt_buf), sizes, strides, self._nt_offsets)


@_kernel("aten::mT")
def _mT(op, self):
    if self.dim() < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self.dim()}-D tensor.")
    return _transpose(op, self, -2, -1)


def _alias(buf):
    return buf.view(-1)


@_kernel("aten::unsqueeze")
def _unsqueeze(op, self, dim):
    d = _wrap(dim, self.dim() + 1)
    if d == 0:
        raise RuntimeError("unsqueeze(): For nested tensors, unsqueezing dimension 0 is not "
                           "supported at the moment if you need this feature, please open an "
                           "issue on github describing your use case.")
    sizes, strides = self._nt_sizes, self._nt_strides
    j = d - 1
    st = strides[:, j] * sizes[:, j] if j < sizes.shape[1] else np.ones(sizes.shape[0],
                                                                        np.int64)
    return make_nested(_alias(self._nt_buf), np.insert(sizes, j, 1, axis=1),
                       np.insert(strides, j, st, axis=1), self._nt_offsets)


def _new_sizes(op_word, nt, shape):
    """Each component's sizes for nt.reshape(shape) / view(shape), PyTorch's rules: the
    batch dimension stays, a -1 keeps the component's size at that dimension."""
    shape = [int(x) for x in shape]
    n = nt._nt_sizes.shape[0]
    if not shape or shape[0] != n:
        raise RuntimeError(f"{op_word}: For now nested {op_word} cannot change or infer the "
                           f"implicit batch dimension")
    out = []
    for old in nt._nt_sizes:
        new = []
        for j, s in enumerate(shape[1:]):
            if s == -1:
                if j >= len(old):
                    raise RuntimeError("nested tensor does not infer shape")
                s = int(old[j])
            new.append(s)
        numel = int(np.prod(old))
        if int(np.prod(new)) != numel:
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        out.append(new)
    return out


def _views(nt, parts):
    """A nested tensor over nt's buffer whose components are parts (views of it)."""
    base = nt._nt_buf.storage_offset()
    sizes = np.array([tuple(p.shape) for p in parts], np.int64).reshape(len(parts), -1) \
        if parts else np.zeros((0, 0), np.int64)
    strides = np.array([p.stride() for p in parts], np.int64).reshape(sizes.shape)
    offsets = np.array([p.storage_offset() - base for p in parts], np.int64)
    return make_nested(_alias(nt._nt_buf), sizes, strides, offsets)


@_kernel("aten::view")
def _view(op, self, size):
    new = _new_sizes("view", self, size)
    return _views(self, [c.view(s) for c, s in zip(components(self), new)])


@_kernel("aten::reshape")
def _reshape(op, self, shape):
    new = _new_sizes("reshape", self, shape)
    cs = components(self)
    try:
        return _views(self, [c.view(s) for c, s in zip(cs, new)])
    except RuntimeError:        # (a component that no view gives: copies, as PyTorch's)
        return from_components([c.reshape(s) for c, s in zip(cs, new)])


@_kernel("aten::sum.dim_IntList")
def _sum(op, self, dim, keepdim=False, dtype=None):
    dims = [dim] if isinstance(dim, int) else list(dim or ())
    if len(dims) != 1:
        raise RuntimeError("NestedTensor only allows reduction of a single dimension for now.")
    d = _wrap(dims[0], self.dim())
    if d != self.dim() - 1:
        raise RuntimeError(f"NestedTensor can only be reduced across the last dimension for "
                           f"now got dimension {d} instead.")
    if not keepdim:
        raise RuntimeError("NestedTensor always requires keepdim=True for now.")
    if dtype is not None:
        raise RuntimeError("NestedTensor does not support dtype argument for now.")
    return _map(self, lambda c: c.sum(d - 1, keepdim=True))


@_kernel("aten::masked_fill.Scalar")
def _masked_fill(op, self, mask, value):
    if not isinstance(mask, NestedTensor):
        raise RuntimeError("Expected both self and other to be nested, but got a nested self "
                           "and non-nested other")
    if not np.array_equal(self._nt_sizes, mask._nt_sizes):
        raise RuntimeError("masked_fill does not support broadcasting when given a "
                           "NestedTensor")
    return from_components([c.masked_fill(m, value) for c, m in
                            zip(components(self), components(mask))])


@_kernel("aten::select.int")
def _select(op, self, dim, index):
    d = _wrap(dim, self.dim())
    if d == 0:
        return component(self, index)
    return _views(self, [c.select(d - 1, index) for c in components(self)])


@_kernel("aten::narrow")
def _narrow(op, self, dim, start, length):
    if dim != 0:
        raise RuntimeError(f"narrow(): only dim=0 supported for nested tensors, but got: "
                           f"{dim}")
    n = self._nt_sizes.shape[0]
    start = start + n if start < 0 else start
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}).")
    k = slice(start, start + length)
    return make_nested(_alias(self._nt_buf), self._nt_sizes[k], self._nt_strides[k],
                       self._nt_offsets[k])


def _last_dim_only(self, dim, words):
    d = _wrap(dim, self.dim())
    if d != self.dim() - 1:
        raise RuntimeError(f"{words} for nested tensors is currently only supported for the "
                           f"last dimension.")
    return d


@_kernel("aten::chunk")
def _chunk(op, self, chunks, dim=0):
    d = _last_dim_only(self, dim, "Chunk")
    size = self.size(d)
    if size % chunks:
        raise RuntimeError(f"Chunk for nested tensors is only supported for nested tensors "
                           f"with trailing dimension divisible by chunks, got: {size} % "
                           f"{chunks} != 0")
    parts = [c.chunk(chunks, d - 1) for c in components(self)]
    return tuple(_views(self, list(p)) for p in zip(*parts))


@_kernel("aten::split_with_sizes")
def _split_with_sizes(op, self, split_sizes, dim=0):
    d = _last_dim_only(self, dim, "split_with_sizes")
    parts = [c.split_with_sizes(list(split_sizes), d - 1) for c in components(self)]
    return tuple(_views(self, list(p)) for p in zip(*parts))


_SQUEEZE_0 = ("squeeze(): For nested tensors, squeezing dimension 0 is not supported at the "
              "moment if you need this feature, please open an issue on github describing "
              "your use case.")


@_kernel("aten::squeeze")
def _squeeze_all(op, self):
    raise RuntimeError("squeeze(): For nested tensors, squeeze without the dim argument is not "
                       "supported at the moment, however you can use squeeze(Tensor self, int "
                       "dim) instead if you need this feature, please open an issue on github "
                       "describing your use case.")


@_kernel("aten::squeeze.dim", "aten::squeeze.dims")
def _squeeze(op, self, dim):
    n = self.dim()
    dims = sorted({_wrap(d, n) for d in ([dim] if isinstance(dim, int) else dim)},
                  reverse=True)
    if 0 in dims:
        raise RuntimeError(_SQUEEZE_0)
    sizes, strides = self._nt_sizes, self._nt_strides
    for d in dims:
        if (sizes[:, d - 1] == 1).all():
            sizes, strides = np.delete(sizes, d - 1, 1), np.delete(strides, d - 1, 1)
    return make_nested(_alias(self._nt_buf), sizes, strides, self._nt_offsets)


@_kernel("aten::cat")
def _cat(op, tensors, dim=0):
    ts = list(tensors)
    if not all(isinstance(t, NestedTensor) for t in ts):
        raise RuntimeError("Expected each tensor in given list to be nested.")
    d = _wrap(dim, ts[0].dim())
    if d == 0:          # (the components of each, one after the other)
        return from_components([c for t in ts for c in components(t)])
    if len({t._nt_sizes.shape[0] for t in ts}) != 1:
        raise RuntimeError("Expected all nested tensors to have the same number of components")
    return from_components([op.public(list(cs), d - 1) for cs in
                            zip(*[components(t) for t in ts])])


@_kernel("aten::where.self")
def _where(op, condition, self, other):
    """PyTorch's nested where: a nested condition and other, a dense self (broadcast to each
    component: where(mask, 0.0 as a tensor, nt)); a nested self is refused."""
    if not isinstance(condition, NestedTensor):
        raise RuntimeError("condition must be nested")
    if not isinstance(other, NestedTensor):
        raise RuntimeError("other must be nested")
    if isinstance(self, NestedTensor):
        raise RuntimeError("self must not be nested")
    return from_components([op.public(c, self, b) for c, b in zip(
        components(condition), components(other))])


@_kernel("aten::all.dim")
def _all(op, self, dim, keepdim=False):
    if self.dtype.name != "bool":
        raise RuntimeError(f"all only supports bool tensor for result, got: "
                           f"{self.dtype.short_name}")
    d = _wrap(dim, self.dim())
    if d != self.dim() - 1:
        raise RuntimeError(f"NestedTensor can only be reduced across the last dimension for "
                           f"now got dimension {d} instead.")
    return _map(self, lambda c: c.all(d - 1, keepdim))


@_kernel("aten::copy_")
def _copy(op, self, src, non_blocking=False):
    if not (isinstance(self, NestedTensor) and isinstance(src, NestedTensor)):
        raise RuntimeError("get_nested_tensor_impl requires a NestedTensor.")
    if not np.array_equal(self._nt_sizes, src._nt_sizes):
        raise RuntimeError("copy_ only supports tensors that are the same size for Nested "
                           "implementations")
    buffer_of(self)
    buffer_of(src)
    if _packed(self) and _packed(src):
        self._nt_buf.copy_(src._nt_buf)
        return self
    for a, b in zip(components(self), components(src)):
        a.copy_(b)
    return self


@_kernel("aten::unbind.int")
def _unbind(op, self, dim=0):
    return unbind(self, dim)


@_kernel("aten::clone")
def _clone(op, self, memory_format=None):
    """A copy; its layout kept (preserve_format, as PyTorch's), or packed."""
    from ..ops import memory_format as _mf
    if memory_format is None or _mf.canonical(memory_format, _mf.PRESERVE) == _mf.PRESERVE:
        return _like(self, self._nt_buf.clone())
    return _map(self, lambda c: c.clone())


@_kernel("aten::contiguous")
def _contiguous(op, self, memory_format=None):
    return _map(self, lambda c: c.clone())


@_kernel("aten::to.dtype", "aten::to.device", "aten::to.dtype_layout")
def _to(op, self, *rest):
    b = _call(op, self._nt_buf, *rest)
    if b is self._nt_buf:
        return self
    buffer_of(self)         # (a conversion: of contiguous nested tensors only, as torch's)
    return _like(self, b)


@_kernel("aten::detach")
def _detach(op, self):
    return self.detach()
