"""View ops: results share memory with their input, as in PyTorch (NumPy/CuPy views)."""
from __future__ import annotations

from math import prod as _numel

import numpy as np

from .meta import TensorMeta, wrap_dim
from .overlap import own_layout
from .registry import op

_VIEW = {"view"}


def infer_size(shape, numel):
    shape = list(map(int, shape))       # (one loop, no comprehension frames)
    neg, known = -1, 1
    for i, s in enumerate(shape):       # (ATen's infer_size: the first bad dim raises)
        if s == -1:
            if neg >= 0:
                raise RuntimeError("only one dimension can be inferred")
            neg = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {shape}")
        else:
            known *= s
    if neg >= 0:
        if known == 0 and numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {shape} "
                               f"because the unspecified dimension size -1 can be any value "
                               f"and is ambiguous")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def _view_meta(self, size):
    return TensorMeta(self.dtype, infer_size(size, _numel(self.shape)), self.device)


@op("aten::view(Tensor(a) self, SymInt[] size) -> Tensor(a)", tags=_VIEW, function=False,
    meta=_view_meta)
def view(xp, self, size):
    shape = infer_size(size, self.size)
    v = self.view()
    try:
        v.shape = shape
    except AttributeError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least "
            "one dimension spans across two contiguous subspaces). Use .reshape(...) "
            "instead.") from None
    return v


def _view_dtype_shape(shape, strides, old, dtype, offset=0):
    """The shape of a tensor of dtype `old` (strides in elements, None when not known)
    viewed as `dtype`, by PyTorch's rules; a RuntimeError naming both dtypes."""
    new = dtype.itemsize
    shape = list(shape)
    if old.itemsize == new:
        return tuple(shape)

    def fail(what, got=None):
        tail = "" if got is None else f", but got {got}"
        return RuntimeError(f"{what} to view {old.short_name} as {dtype.short_name} "
                            f"(different element sizes){tail}")
    if not shape:
        raise fail("self.dim() cannot be 0")
    if strides is not None and strides[-1] != 1 and shape[-1] != 1:
        raise fail("self.stride(-1) must be 1", strides[-1])
    if new < old.itemsize:
        shape[-1] *= old.itemsize // new
        return tuple(shape)
    ratio = new // old.itemsize
    if shape[-1] % ratio:
        raise fail(f"self.size(-1) must be divisible by {ratio}", shape[-1])
    if offset % ratio:
        raise fail(f"self.storage_offset() must be divisible by {ratio}", offset)
    for d, st in enumerate((strides or ())[:-1]):
        if st % ratio and shape[d] != 1:
            raise fail(f"self.stride({d}) must be divisible by {ratio}", st)
    shape[-1] //= ratio
    return tuple(shape)


def _view_dtype_meta(self, dtype):
    return TensorMeta(dtype, _view_dtype_shape(self.shape, None, self.dtype, dtype),
                      self.device)


def _byte_offset(xp, a):
    """Where a starts in its allocation, in bytes (its storage offset times its itemsize)."""
    if xp.__name__ != "numpy":     # (as Tensor.storage_offset: CuPy's allocation start)
        return a.data.ptr - a.data.mem.ptr
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    return a.__array_interface__["data"][0] - root.__array_interface__["data"][0]


@op("aten::view.dtype(Tensor(a) self, ScalarType dtype) -> Tensor(a)", tags=_VIEW,
    function=False, meta=_view_dtype_meta)
def view_dtype(xp, self, dtype):
    """The same bytes read as another dtype: a different element size scales the last
    dim, which must have stride 1 (PyTorch's rules)."""
    from .. import dtypes as _dt
    item = self.itemsize
    # (an empty array has torch's strides too: registry.empty_layout)
    strides = tuple(s // item for s in self.strides)
    shape = _view_dtype_shape(self.shape, strides,
                              _dt.from_numpy_dtype(self.dtype), dtype,
                              _byte_offset(xp, self) // item)
    if item == dtype.itemsize:
        return self.view(dtype.np)
    if self.size == 0:          # no bytes to share (and NumPy's strides may be anything)
        return xp.empty(shape, dtype.np)
    # the last dim has stride 1 (or size 1, whose stride does not matter): its bytes are
    # read as elements of the new size; the other dims keep their byte strides
    if xp.__name__ == "numpy":
        src = self
        if self.strides[-1] != item:
            src = np.lib.stride_tricks.as_strided(self, self.shape,
                                                  self.strides[:-1] + (item,))
        return src.view(dtype.np)
    return xp.ndarray(shape, dtype.np, self.data, self.strides[:-1] + (dtype.itemsize,))


@op("aten::reshape(Tensor(a) self, SymInt[] shape) -> Tensor(a)", tags=_VIEW,
    meta=_view_meta)
def reshape(xp, self, shape):
    return _reshaped(self, infer_size(shape, self.size))


def _reshaped(a, shape):
    """a.reshape(shape); a copy NumPy made (no view fits the strides) is marked as its
    value's own memory: NumPy hands back a view of its private buffer, which autograd
    would otherwise take for another tensor's memory (ops/overlap.py: own_layout)."""
    r = a.reshape(shape)
    b = r.base if type(r) is np.ndarray else None
    if b is not None and b is not a and b is not a.base and r.size and \
            not np.may_share_memory(r, a):
        own_layout(r)
    return r


@op("aten::_unsafe_view(Tensor self, SymInt[] size) -> Tensor", tags={"shape"},
    function=False, method=False, meta=_view_meta)
def _unsafe_view(xp, self, size):
    """ATen's _unsafe_view: a view of self in `size` which autograd does not track as a
    view (view's strides rule and error: an input whose strides allow none is refused):
    the last step of reshape's copy (UnsafeViewBackward0 -> CloneBackward0), kron's."""
    return view(xp, self, size)


def _reshape_composite(self, shape):
    """reshape recording gradients: PyTorch's composite (TensorShape.cpp) where no view
    fits self's strides: clone(memory_format=contiguous_format), then _unsafe_view
    (UnsafeViewBackward0 -> CloneBackward0); else the op's one node (ViewBackward0 of a
    contiguous self, ReshapeAliasBackward0 of another: node_names._view_or_copy)."""
    a = self._data
    if a.flags.c_contiguous or not a.size:
        return NotImplemented
    shape = infer_size(shape, a.size)
    r = a.reshape(shape)
    if r.base is a or (r.base is not None and r.base is a.base):
        return NotImplemented           # (a view)
    from .registry import OPS
    return OPS["aten::_unsafe_view"].public(self.clone(memory_format="contiguous_format"),
                                            shape)


reshape.op.composite = _reshape_composite


@op("aten::view_as(Tensor(a) self, Tensor other) -> Tensor(a)", tags=_VIEW, function=False,
    meta=lambda self, other: _view_meta(self, other.shape))
def view_as(xp, self, other):
    return view(xp, self, other.shape)


@op("aten::reshape_as(Tensor(a) self, Tensor other) -> Tensor(a)", tags=_VIEW, function=False,
    meta=lambda self, other: _view_meta(self, other.shape))
def reshape_as(xp, self, other):
    return reshape(xp, self, other.shape)


reshape_as.op.composite = lambda self, other: _reshape_composite(self, tuple(other.shape))


def _flatten_meta(self, start_dim=0, end_dim=-1):
    nd = len(self.shape)
    if nd == 0:
        wrap_dim(start_dim, 0), wrap_dim(end_dim, 0)    # -1 or 0 only (IndexError)
        return TensorMeta(self.dtype, (1,), self.device)
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    mid = _numel(self.shape[s:e + 1])
    return TensorMeta(self.dtype, tuple(self.shape[:s]) + (mid,) + tuple(self.shape[e + 1:]),
                      self.device)


@op("aten::flatten.using_ints(Tensor(a) self, int start_dim=0, int end_dim=-1) -> Tensor(a)",
    tags=_VIEW | {"returns_input"}, meta=_flatten_meta)
def flatten(xp, self, start_dim=0, end_dim=-1):
    shape = _flatten_meta(TensorMeta(None, self.shape, None), start_dim, end_dim).shape
    if self.ndim and wrap_dim(start_dim, self.ndim) == wrap_dim(end_dim, self.ndim):
        return self         # PyTorch hands back the input itself (a 1-d x.flatten() is x)
    return _reshaped(self, shape)


def _flatten_composite(self, start_dim=0, end_dim=-1):
    """flatten recording gradients: PyTorch's flatten is reshape (the copy case its
    composite, _reshape_composite)."""
    a = self._data
    if a.flags.c_contiguous or not a.size:
        return NotImplemented       # (a view: the op's one node)
    nd = a.ndim
    if nd and wrap_dim(start_dim, nd) == wrap_dim(end_dim, nd):
        return NotImplemented
    shape = _flatten_meta(TensorMeta(None, self.shape, None), start_dim, end_dim).shape
    return _reshape_composite(self, shape)


flatten.op.composite = _flatten_composite


def _permute_dims(dims, nd):
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input "
                           f"does not match the length of the desired ordering of dimensions "
                           f"i.e. input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    n = nd or 1
    out = []
    for d in dims:          # (wrap_dim inline for an int in range: no call, no generator)
        out.append(d % n if d.__class__ is int and -n <= d < n else wrap_dim(d, nd))
    dims = tuple(out)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return dims


@op("aten::permute(Tensor(a) self, int[] dims) -> Tensor(a)", tags=_VIEW,
    meta=lambda self, dims: TensorMeta(self.dtype, tuple(
        self.shape[d] for d in _permute_dims(dims, len(self.shape))), self.device))
def permute(xp, self, dims):
    return self.transpose(_permute_dims(dims, self.ndim))


def _transpose_meta(self, dim0, dim1):
    nd = len(self.shape)
    s = list(self.shape)
    if nd:
        a, b = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
        s[a], s[b] = s[b], s[a]
    return TensorMeta(self.dtype, tuple(s), self.device)


@op("aten::transpose.int(Tensor(a) self, int dim0, int dim1) -> Tensor(a)", tags=_VIEW,
    meta=_transpose_meta)
def transpose(xp, self, dim0, dim1):
    if self.ndim == 0:
        wrap_dim(dim0, 0), wrap_dim(dim1, 0)
        return self.view()
    return self.swapaxes(wrap_dim(dim0, self.ndim), wrap_dim(dim1, self.ndim))


def _t_check(nd):
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")


@op("aten::t(Tensor(a) self) -> Tensor(a)", tags=_VIEW,
    meta=lambda self: (_t_check(len(self.shape)), TensorMeta(
        self.dtype, tuple(reversed(self.shape)), self.device))[1])
def t(xp, self):
    _t_check(self.ndim)
    return self.T


class _SizesCountError(RuntimeError):
    """expand_shape: fewer sizes than dims, no dtype given to name the tensor by."""


def expand_shape(shape, size, dtype=None, cuda=False):
    """The shape of `shape` expanded to `size`, as PyTorch's inferExpandGeometry (from the
    last dim backwards, so the last bad dim is the one named). dtype (a gpujit or NumPy
    dtype) and cuda given (x.expand / expand_as / broadcast_to: expand_checked), the
    sizes-count error names the tensor as PyTorch's ("expand(torch.FloatTensor{[2, 3]},
    size=[2]): the number of sizes provided (1) must be ...")."""
    size = tuple(size)
    if len(size) < len(shape):
        msg = (f"the number of sizes provided ({len(size)}) must be greater or equal to the "
               f"number of dimensions in the tensor ({len(shape)})")
        if dtype is None:
            raise _SizesCountError("expand: " + msg)
        from .. import dtypes as _dt
        if not isinstance(dtype, _dt.dtype):
            dtype = _dt.from_numpy_dtype(dtype)
        what = f"torch.{'cuda.' if cuda else ''}{dtype.short_name}Tensor"
        raise RuntimeError(f"expand({what}{{{list(shape)}}}, size={list(size)}): {msg}")
    out = list(size)
    lead = len(size) - len(shape)
    neg = False
    for i in range(len(size) - 1, -1, -1):
        s = size[i]
        if i < lead:
            if s == -1:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            if s < 0:
                neg = True
            continue
        cur = shape[i - lead]
        if s == -1:
            out[i] = cur
        elif cur != s:
            if cur != 1:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the "
                                   f"existing size ({cur}) at non-singleton dimension {i}.  "
                                   f"Target sizes: {list(size)}.  Tensor sizes: {list(shape)}")
            if s < 0:
                neg = True
    if neg:     # (a size below -1 taken: PyTorch's numel check refuses it)
        raise RuntimeError("numel: integer multiplication overflow")
    # plain ints: a size read while tracing (a TracedInt) compared inside NumPy would warn
    # (map: no generator frame per call)
    return tuple(map(int.__int__, out))


def expand_checked(shape, size, dtype, cuda):
    """expand_shape naming the tensor in its sizes-count error (expand_as, broadcast_to)."""
    return expand_shape(shape, size, dtype, cuda)


@op("aten::expand(Tensor(a) self, SymInt[] size, *, bool implicit=False) -> Tensor(a)",
    tags=_VIEW, function=False,
    meta=lambda self, size, implicit=False: TensorMeta(self.dtype, expand_checked(
        self.shape, size, self.dtype, self.device.type == "cuda"), self.device))
def expand(xp, self, size, implicit=False):
    shape = expand_shape(self.shape, size, self.dtype, xp is not np)
    r = xp.broadcast_to(self, shape)
    if 1 in shape:
        # NumPy gives every dim of size 1 stride 0; PyTorch keeps an unexpanded dim's
        # stride and gives a new leading dim of size 1 that of the dims inside it (the
        # strides order the result's dims when an elementwise op lays out its result)
        st = list(r.strides)
        lead = len(shape) - self.ndim
        for i in range(len(shape) - 1, -1, -1):
            if shape[i] == 1:
                st[i] = (self.strides[i - lead] if i >= lead else
                         shape[i + 1] * st[i + 1] if i + 1 < len(shape) else 0)
        if tuple(st) != r.strides:
            r = xp.lib.stride_tricks.as_strided(r, shape=shape, strides=tuple(st))
    return r


def _squeeze_shape(shape, dim):
    nd = len(shape)
    if dim is None:
        return tuple(s for s in shape if s != 1)
    dims = set()
    for d in ((dim,) if isinstance(dim, int) else dim):
        w = wrap_dim(d, nd)
        if w in dims:       # (PyTorch's dim list check: x.squeeze((0, -2)) of a 2-d x)
            raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
        dims.add(w)
    return tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))


def _squeeze_meta(self, dim=None):
    return TensorMeta(self.dtype, _squeeze_shape(self.shape, dim), self.device)


# PyTorch's three overloads (x.squeeze(), x.squeeze(1), x.squeeze((1, 2))), each what a
# trace or script records (`aten::squeeze(%x, %1)` with an int for squeeze(1)) and each its
# own backward node (SqueezeBackward0 / 1 / 2)
@op("aten::squeeze(Tensor(a) self) -> Tensor(a)", tags=_VIEW, meta=_squeeze_meta)
def squeeze(xp, self, dim=None):
    return self.reshape(_squeeze_shape(self.shape, dim))


@op("aten::squeeze.dim(Tensor(a) self, int dim) -> Tensor(a)", tags=_VIEW, meta=_squeeze_meta)
def squeeze_dim(xp, self, dim):
    return self.reshape(_squeeze_shape(self.shape, dim))


@op("aten::squeeze.dims(Tensor(a) self, int[] dim) -> Tensor(a)", tags=_VIEW,
    meta=_squeeze_meta)
def squeeze_dims(xp, self, dim):
    return self.reshape(_squeeze_shape(self.shape, dim))


def _unsqueeze_shape(shape, dim):
    d = wrap_dim(dim, len(shape) + 1)
    return tuple(shape[:d]) + (1,) + tuple(shape[d:])


@op("aten::unsqueeze(Tensor(a) self, int dim) -> Tensor(a)", tags=_VIEW,
    meta=lambda self, dim: TensorMeta(self.dtype, _unsqueeze_shape(self.shape, dim),
                                      self.device))
def unsqueeze(xp, self, dim):
    return _unsqueezed(xp, self, dim)


def _unsqueezed(xp, a, dim):
    """Array a with a new size-1 dim at `dim`, with PyTorch's stride there: the size times
    the stride of the dim it lands before (1 at the end), where NumPy's reshape gives the
    stride of the dim inside it (x.t().unsqueeze(2): (1, 3, 1); an empty x[None]: 0)."""
    d = wrap_dim(dim, a.ndim + 1)       # (_unsqueeze_shape inline: one frame less)
    shape = a.shape[:d] + (1,) + a.shape[d:]
    r = a.reshape(shape)
    st = list(a.strides)
    st.insert(d, a.shape[d] * st[d] if d < a.ndim else a.itemsize)
    if r.strides == tuple(st):
        return r
    return xp.lib.stride_tricks.as_strided(r, shape=shape, strides=tuple(st))


def _narrow_check(shape, dim, start, length):
    """PyTorch's checks and error types: a bad start is an IndexError, a bad length a
    RuntimeError."""
    if len(shape) == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    d = wrap_dim(dim, len(shape))
    size = shape[d]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return d, start


@op("aten::narrow(Tensor(a) self, int dim, SymInt start, SymInt length) -> Tensor(a)",
    tags=_VIEW,
    meta=lambda self, dim, start, length: TensorMeta(self.dtype, tuple(
        length if i == _narrow_check(self.shape, dim, start, length)[0] else s
        for i, s in enumerate(self.shape)), self.device))
def narrow(xp, self, dim, start, length):
    d, start = _narrow_check(self.shape, dim, start, length)
    idx = [slice(None)] * self.ndim
    idx[d] = slice(start, start + length)
    r = self[tuple(idx)]
    return r if r.size or not self.size else _empty_slice(xp, self, r, d, start, 1)


def _empty_slice(xp, a, r, d, start, step):
    """r = a sliced along dim d from `start` by `step`, which has no elements while a has
    some, with PyTorch's strides (a's, dim d's times the step) and its storage offset
    (start's, one past the end included): NumPy resets both for an empty slice
    (x[:, 3:3:2] of a (4, 6) x: PyTorch's strides (6, 2), storage offset 3)."""
    st = list(a.strides)
    st[d] *= step
    if start < a.shape[d]:
        idx = [slice(None)] * a.ndim
        idx[d] = slice(start, start + 1)
        a = a[tuple(idx)]
        return xp.lib.stride_tricks.as_strided(a, shape=r.shape, strides=tuple(st))
    # one past dim d's last element (x[5:] of a length-3 x, x[:, 10:] of a (3, 4) x):
    # PyTorch's offset is start's all the same (3; 4), an address no element of a holds
    return _array_at(xp, a, start * a.strides[d], r.shape, tuple(st))


class _AtAddress:
    """What NumPy makes an array of at a given address (its __array_interface__), keeping
    the array it points into as `base` (as NumPy's as_strided does: Tensor.storage_offset
    follows it to the allocation)."""

    def __init__(self, interface, base):
        self.__array_interface__ = interface
        self.base = base


def _array_at(xp, a, nbytes, shape, strides):
    """An array of shape/strides (elements none: nothing is read) starting nbytes past a's
    first element, in a's memory."""
    if type(a) is np.ndarray:
        ptr = a.__array_interface__["data"][0] + nbytes
        return np.asarray(_AtAddress({"data": (ptr, not a.flags.writeable), "shape": shape,
                                      "strides": strides, "typestr": a.dtype.str,
                                      "version": 3}, a))
    return xp.ndarray(shape, a.dtype, memptr=a.data + nbytes, strides=strides)


def _narrow_tensor_meta(self, dim, start, length):
    d = wrap_dim(dim, len(self.shape))
    return TensorMeta(self.dtype, tuple(length if i == d else s
                                        for i, s in enumerate(self.shape)), self.device)


@op("aten::narrow.Tensor(Tensor(a) self, int dim, Tensor start, SymInt length) -> Tensor(a)",
    tags=_VIEW, meta=_narrow_tensor_meta)
def narrow_tensor(xp, self, dim, start, length):
    """narrow with a Tensor start (the overload PyTorch's parser picks for any Tensor):
    it must be 0-dim of an integral dtype, bool excluded (its .item(), a host sync)."""
    if start.ndim != 0 or start.dtype.kind not in "iu":
        raise RuntimeError("start must be an 0-dim integral Tensor.")
    return narrow(xp, self, dim, int(start.item()), length)


def _select_index(shape, dim, index):
    if len(shape) == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shape))
    size = shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(shape)} at dimension {d}")
    return d, index % size if size else index


@op("aten::select.int(Tensor(a) self, int dim, SymInt index) -> Tensor(a)", tags=_VIEW,
    meta=lambda self, dim, index: TensorMeta(self.dtype, tuple(
        s for i, s in enumerate(self.shape) if i != _select_index(self.shape, dim, index)[0]),
        self.device))
def select(xp, self, dim, index):
    d, i = _select_index(self.shape, dim, index)
    idx = [slice(None)] * self.ndim
    idx[d] = i
    return self[tuple(idx) + (Ellipsis,)]   # the Ellipsis keeps a 0-d result a view


def _slice_len(size, start, end, step):
    return len(range(*slice(start, end, step).indices(size)))


def _check_step(step):
    # (aten::slice's own words; x[::-1] is the indexing's ValueError, indexing._slice)
    if step <= 0:
        raise RuntimeError("slice step must be positive")


def _slice_meta(self, dim=0, start=None, end=None, step=1):
    _check_step(step)
    d = wrap_dim(dim, len(self.shape))
    s = list(self.shape)
    s[d] = _slice_len(s[d], start, end, step)
    return TensorMeta(self.dtype, tuple(s), self.device)


@op("aten::slice.Tensor(Tensor(a) self, int dim=0, SymInt? start=None, SymInt? end=None, "
    "SymInt step=1) -> Tensor(a)", tags=_VIEW, method=False, function=False,
    meta=_slice_meta)
def slice_(xp, self, dim=0, start=None, end=None, step=1):
    if step <= 0:
        _check_step(step)
    if dim == 0 and self.ndim:
        r = self[start:end:step]
        d = 0
    else:
        idx = [slice(None)] * self.ndim
        d = wrap_dim(dim, self.ndim)
        idx[d] = slice(start, end, step)
        r = self[tuple(idx)]
    if r.size or not self.size:
        return r
    return _empty_slice(xp, self, r, d, slice(start, end, step).indices(self.shape[d])[0], step)


def _unfold_meta(self, dimension, size, step):
    nd = len(self.shape)
    d = wrap_dim(dimension, nd)
    max_size = self.shape[d] if nd else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > max_size:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {max_size} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    s = list(self.shape)
    if nd:
        s[d] = (s[d] - size) // step + 1
    return TensorMeta(self.dtype, tuple(s) + (size,), self.device)


@op("aten::unfold(Tensor(a) self, int dimension, int size, int step) -> Tensor(a)",
    tags=_VIEW, function=False, meta=_unfold_meta)
def unfold(xp, self, dimension, size, step):
    shape = _unfold_meta(TensorMeta(None, self.shape, None), dimension, size, step).shape
    d = wrap_dim(dimension, self.ndim)
    strides = list(self.strides) + [self.strides[d] if self.ndim else self.itemsize]
    if self.ndim and (shape[d] > 1 or abs(strides[d] * step) < 2 ** 63):
        # (one window or none, unfold(0, 1, 2**62): its stride is never used, and NumPy's
        # byte strides, C longs, cannot hold stride * step; the input's is kept)
        strides[d] = strides[d] * step
    return xp.lib.stride_tricks.as_strided(self, shape=shape, strides=tuple(strides))


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops
from .registry import derivative as _derivative  # noqa: E402


@_derivative(view, reshape, view_as, reshape_as, _unsafe_view, wrt=("self",))
def _reshape_grad(grad, self_shape):
    return grad.reshape(self_shape)


def _t_grad_raw(xp, grad):
    if type(grad) is not xp.ndarray or grad.dtype.kind not in "fc":
        return NotImplemented   # (bfloat16's and float8's integer carriers: the formula)
    return grad.T       # (t()'s view: the same strides as the registry op's, no copy)


@_derivative(t, raw=_t_grad_raw)
def _t_grad(grad):
    return grad.t()


@_derivative("aten::expand")
def _expand_grad(grad):
    return grad                 # autograd sums a broadcast gradient back to the input shape


@_derivative(transpose)
def _transpose_grad(grad, dim0, dim1):
    return grad.transpose(dim0, dim1)


def _unsqueeze_to(grad, self_shape, dims):
    """ATen's unsqueeze_to (squeeze's formula): grad unsqueezed at each of dims (sorted,
    wrapped) where self had size 1 (an unsqueeze each: UnsqueezeBackward0 when recorded)."""
    for d in dims:
        if self_shape[d] == 1:
            grad = grad.unsqueeze(d)
    return grad


@_derivative("aten::squeeze")
def _squeeze_grad(grad, self_shape):
    return _unsqueeze_to(grad, self_shape, range(len(self_shape)))


@_derivative("aten::squeeze.dim")
def _squeeze_dim_grad(grad, self_shape, dim):
    if not self_shape:
        return grad
    return _unsqueeze_to(grad, self_shape, (wrap_dim(dim, len(self_shape)),))


@_derivative("aten::squeeze.dims")
def _squeeze_dims_grad(grad, self_shape, dim):
    if not self_shape:
        return grad
    return _unsqueeze_to(grad, self_shape, sorted({wrap_dim(d, len(self_shape)) for d in dim}))


@_derivative("aten::unsqueeze")
def _unsqueeze_grad(grad, self_shape, dim):
    return grad.squeeze(wrap_dim(dim, len(self_shape) + 1))     # (SqueezeBackward1)


@_derivative(flatten)
def _flatten_grad(grad, self_shape):
    return grad.reshape(self_shape)


@_derivative(permute)
def _permute_grad(grad, dims):
    dims = _permute_dims(dims, grad.dim())
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return grad.permute(inverse)


def put_along(grad, shape, dim, idx):
    """A zeros tensor of `shape` with grad added at positions `idx` (an int64 tensor) along
    dim: the backward of the ops that pick entries along one dimension (narrow, select,
    slice, unfold), written as registry ops so that it records (double backward)."""
    import gpujit
    zeros = gpujit.zeros(tuple(shape), dtype=grad.dtype, device=grad.device)
    from .. import dtypes as _dt
    if grad.dtype in _dt.FLOAT8_TYPES:
        # (float8 has no index_add kernel; ATen's slice_backward / select_backward copy the
        # gradient into a view of zeros, which float8 takes: grad written at idx)
        zeros[(slice(None),) * dim + (idx,)] = grad
        return zeros
    return zeros.index_add(dim, idx, grad)


def _into_zeros(scatter, grad, shape, *args):
    """ATen's select_backward / slice_backward: a zeros tensor of `shape` with grad written
    into its view (select_scatter / slice_scatter: registry ops, so that it records for
    double backward). The positions are distinct, so written, not added: a -0. gradient
    stays -0. as ATen's copy_ keeps it, and no np.add.at (index_add's, ~25 ns an element)."""
    import gpujit
    from .registry import OPS
    from .. import dtypes as _dt
    if grad.dtype not in _dt.FLOAT8_TYPES:
        # (ATen's own ops: SelectBackwardBackward0 / SliceBackwardBackward0 when a double
        # backward records them; float8 keeps the scatter, which converts its bits)
        return OPS["aten::select_backward" if scatter == "aten::select_scatter"
                   else "aten::slice_backward"].public(grad, tuple(shape), *args)
    zeros = gpujit.zeros(tuple(shape), dtype=grad.dtype, device=grad.device)
    return OPS[scatter].public(zeros, grad, *args)


def _positions(grad, start, stop, step=1):
    import gpujit
    from .. import dtypes as _dt
    return gpujit.arange(start, stop, step, dtype=_dt.int64, device=grad.device)


# (these read self's shape only, as ATen's SliceBackward0...: an in-place write through
# the view, x[::2].copy_(x[::2] * 2), changes self's values and leaves its backward valid)
@_derivative(narrow)
def _narrow_grad(grad, self_shape, dim, start, length):
    d, start = _narrow_check(self_shape, dim, start, length)
    return _into_zeros("aten::slice_scatter", grad, self_shape, d, start, start + length, 1)


@_derivative(narrow_tensor, wrt=("self",))
def _narrow_tensor_grad(grad, self_shape, dim, start, length):
    return _narrow_grad(grad, self_shape, dim, int(start.item()), length)


@_derivative(select)
def _select_grad(grad, self_shape, dim, index):
    d, i = _select_index(self_shape, dim, index)
    return _into_zeros("aten::select_scatter", grad, self_shape, d, i)


@_derivative(slice_)
def _slice_grad(grad, self_shape, dim, start, end, step):
    d = wrap_dim(dim, len(self_shape))
    start, stop, step = slice(start, end, step).indices(self_shape[d])
    return _into_zeros("aten::slice_scatter", grad, self_shape, d, start, max(stop, start),
                       step)


@_derivative(unfold, wrt=("self",))
def _unfold_grad(grad, self_shape, dimension, size, step):
    """out[..., i, ..., j] = self[..., i*step + j, ...]: the window dim (last) goes next to
    `dimension`, the two merge, and each (i, j) adds into position i*step + j. (Only
    self's shape is kept, as PyTorch's UnfoldBackward0: writing self later is no error,
    and a freed graph's node runs again.)"""
    if len(self_shape) == 0:
        return grad.sum().reshape(())          # size is 0 or 1: at most one window
    d = wrap_dim(dimension, len(self_shape))
    n = grad.shape[d]
    g = grad.movedim(-1, d + 1)
    g = g.reshape(tuple(g.shape[:d]) + (n * size,) + tuple(g.shape[d + 2:]))
    idx = (_positions(grad, 0, n).unsqueeze(1) * step + _positions(grad, 0, size)).reshape(-1)
    return put_along(g, tuple(self_shape), d, idx)


from .registry import nondifferentiable as _nondifferentiable  # noqa: E402

_nondifferentiable(view_dtype, reason="the same bytes read as another dtype (PyTorch: "
                   "output_differentiability False)")
