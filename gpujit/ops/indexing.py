"""Tensor indexing, PyTorch's way: `x[i, a:b:s, None, ..., idx]` is decomposed into
registry ops (select, slice, unsqueeze, then one `index` for tensor indices), so the
tracer records what ran and the semantics are PyTorch's (an int is a `select` applied
first, not a NumPy advanced index). Assignment goes through `copy_`/`fill_` on the view or
`index_put_`.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu, xp_for
from .meta import TensorMeta
from .registry import op, OPS
from . import registry as _reg
from . import memory_format as _mf
from .overlap import no_overlap
from .shape_index import cast_scalar
from . import bounds as _bounds


_MASK_SENTINEL = 1_000_003   # stands for a data-dependent size in shape inference


def _zero_strided(shape, npdt):
    return np.lib.stride_tricks.as_strided(np.zeros((), npdt), shape=tuple(shape),
                                           strides=(0,) * len(shape))


def _index_meta(self, indices):
    """Shape of advanced indexing, from zero-strided dummies (no data touched). A bool
    mask selects a data-dependent number of elements: that size is None."""
    # (a size-0 dim indexed by an array: size 1 in the dummy, which the index replaces in
    # the result; NumPy would raise out of bounds on the dummy's zeros)
    shape, d = list(self.shape), 0
    for i in indices:
        k = 1 if i is None or i.dtype is not _dt.bool else len(i.shape)
        if i is not None:
            shape[d:d + k] = [max(n, 1) for n in shape[d:d + k]]
        d += k
    dummy = _zero_strided(shape, np.int8)
    # a mask's nonzero() columns broadcast with the integer index arrays: where those fix
    # the last size (not 1), the mask must select as many (else PyTorch's shape mismatch)
    ints = [tuple(i.shape) for i in indices if i is not None and i.dtype is not _dt.bool]
    try:
        last = np.broadcast_shapes(*ints, (1,))[-1]
    except ValueError:
        last = 1                              # (the int arrays' own mismatch: NumPy's)
    count = _MASK_SENTINEL if last == 1 else last
    idx = []
    for i in indices:
        if i is None:
            idx.append(slice(None))
        elif i.dtype is _dt.bool:
            idx.extend([_zero_strided((count,), np.int64)] * max(len(i.shape), 1))
        else:
            idx.append(_zero_strided(i.shape, np.int64))
    shape = dummy[tuple(idx)].shape
    return TensorMeta(self.dtype, tuple(None if s == _MASK_SENTINEL else s for s in shape),
                      self.device)


# the dtypes of index tensors: "long, int, byte or bool tensors"
_INDEX_DTYPES = frozenset({_dt.int64, _dt.int32, _dt.uint8, _dt.bool})
_INDEX_NP = frozenset(d.np for d in _INDEX_DTYPES)


def _check_index_arrays(self, indices):
    out = []
    for k, i in enumerate(indices):
        if i is None:
            out.append(slice(None))
            continue
        if i.dtype not in _INDEX_NP:
            # (PyTorch's index check: int8 / int16 and uint16 / uint32 / uint64 refused)
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if i.dtype == np.uint8:
            i = _byte_mask(i)
        out.append(i)
    return tuple(out)


def _byte_mask(i):
    """A uint8 index array as the bool mask it stands for, with ATen's deprecation warning
    (IndexingUtils.h's TORCH_WARN, at the user's line)."""
    from .._frames import warn_at_user_frame
    warn_at_user_frame("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                       "torch.bool instead.")
    return i.astype(bool)


_EMPTY_DIM_MSG = "index is out of bounds for dimension with size 0"


def _check_index_values(xp, shape, idx, bounds=True):
    """PyTorch's checks of an advanced index's arrays against the indexed shape, before
    any element is read or written: bool masks' shapes, the index arrays' broadcast, then
    every integer index in [-size, size) of the dim it indexes (bounds.check_many: CuPy
    would wrap an out-of-bounds index around; one device sync for all the arrays). The
    error names the dim as PyTorch's index kernel does: the position of the index array
    among the (mask-expanded) index arrays."""
    checks, shapes, axis, j = [], [], 0, 0
    for i in idx:
        if isinstance(i, slice):
            axis += 1
            continue
        if i.dtype == np.bool_:
            for k, m in enumerate(i.shape):
                if axis + k < len(shape) and m != shape[axis + k]:
                    raise IndexError(f"The shape of the mask {list(i.shape)} at index {k} "
                                     f"does not match the shape of the indexed tensor "
                                     f"{list(shape)} at index {axis + k}")
            shapes.append((None,))
            axis += i.ndim
            j += i.ndim
            continue
        shapes.append(tuple(i.shape))
        if bounds and axis < len(shape):
            checks.append(_bounds.Check(i, shape[axis], j, IndexError, _EMPTY_DIM_MSG if
                                        shape[axis] == 0 else _bounds.DEFAULT_MSG, True))
        axis += 1
        j += 1
    try:
        _broadcast_known(shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                         "with shapes " + ", ".join(_sizes(s) for s in shapes)) from None
    _bounds.check_many(xp, checks)


@op("aten::index.Tensor(Tensor self, Tensor?[] indices) -> Tensor", method=False,
    function=False, meta=_index_meta, cross_device="indices")
def index(xp, self, indices):
    idx = _check_index_arrays(self, indices)
    # (NumPy refuses an out-of-bounds index itself before reading anything: the bounds
    # are checked there only when it does, for PyTorch's words; CuPy would wrap around)
    _check_index_values(xp, self.shape, idx, bounds=xp is not np)
    try:
        r = self[idx]
    except IndexError as e:
        if xp is np:
            _check_index_values(xp, self.shape, idx)
        raise IndexError(f"index out of range: {e}") from None
    if r.ndim < 2 or r.size < 2:
        return r
    if len(idx) == 1 and idx[0].dtype != np.bool_ and idx[0].ndim and \
            self.flags.c_contiguous and idx[0].flags.c_contiguous and \
            r.flags.c_contiguous:
        # (x[i] of a C-contiguous x by one C-contiguous integer index: the indexed dims
        # lead, laid out as the index is, the rest as x is: C order, NumPy's result)
        return _mf.c_layout(xp, r)
    return _index_layout(xp, r, self, idx)


def _index_layout(xp, r, self, idx):
    """Result r of self[idx] laid out as PyTorch's aten::index lays it out
    (memory_format.index_strides): NumPy puts the indexed dims outermost in memory
    (x[:, [0, 2]] of a C-contiguous x was not contiguous: .view(-1) raised)."""
    info = []
    for i in idx:
        if isinstance(i, slice):
            info.append(None)
        elif i.dtype == np.bool_:
            if i.ndim == 0:
                return r
            n = int(xp.count_nonzero(i))
            info.extend([((n,), (i.ndim,))] * i.ndim)    # nonzero()'s columns
        else:
            info.append((i.shape, tuple(s // i.itemsize for s in i.strides)))
    st = _mf.index_strides(self.shape, tuple(s // self.itemsize for s in self.strides), info)
    item = r.itemsize
    if st is None:
        return _mf.c_layout(xp, r)
    if r.strides == tuple(s * item for s in st):
        return r
    out = _mf.empty_strided(xp, r.shape, r.dtype, st)
    out[...] = r
    return out


def _sizes(shape):
    return "[" + ", ".join("?" if s is None else str(s) for s in shape) + "]"


def _index_put_error(self, indices, values):
    """PyTorch's error for index_put(self, indices, values) (metas or arrays), or None:
    the dtypes, the index count, the indices' broadcast, the values' broadcast to the
    indexing result."""
    e = _too_many_indices(self, indices)
    if e is not None:
        return e
    sd, vd = _gdt(self.dtype), _gdt(values.dtype)
    if sd is not vd:
        return RuntimeError(f"Index put requires the source and destination dtypes match, "
                            f"got {sd.short_name} for the destination and {vd.short_name} "
                            f"for the source.")
    if not isinstance(self, TensorMeta):
        # (arrays: a bool / uint8 mask stands for the indices of its True elements, as
        # PyTorch expands it, so the indexing result's size is known: [3], not [?])
        indices = _masks_expanded(indices)
    nd, used, shapes = len(self.shape), 0, []
    for i in indices:
        if i is None:
            used += 1
            continue
        d = _gdt(i.dtype)
        if d not in _INDEX_DTYPES:
            return IndexError("tensors used as indices must be long, int, byte or bool "
                              "tensors")
        if d is _dt.bool or d is _dt.uint8:
            used += max(len(i.shape), 1)
            shapes.append((None,))
        else:
            used += 1
            shapes.append(tuple(i.shape))
    if used > nd:
        return IndexError(f"too many indices for tensor of dimension {nd} (got {used})")
    try:
        _broadcast_known(shapes)
    except ValueError:
        return IndexError("shape mismatch: indexing tensors could not be broadcast together "
                          "with shapes " + ", ".join(_sizes(s) for s in shapes))
    res = tuple(_index_meta(TensorMeta(sd, tuple(self.shape), None),
                            [_meta_of(i) for i in indices]).shape)
    vs = tuple(values.shape)
    if len(vs) > len(res) and any(s != 1 for s in vs[:len(vs) - len(res)]) or any(
            a is not None and b is not None and a != b and a != 1
            for a, b in zip(reversed(vs), reversed(res))):
        return RuntimeError(f"shape mismatch: value tensor of shape {_sizes(vs)} cannot be "
                            f"broadcast to indexing result of shape {_sizes(res)}")
    return None


def _masks_expanded(indices):
    out = []
    for i in indices:
        if i is not None and not isinstance(i, TensorMeta) and i.ndim and \
                _gdt(i.dtype) in (_dt.bool, _dt.uint8):
            out.extend(x.astype(np.int64, copy=False) for x in i.nonzero())
        else:
            out.append(i)
    return out


def _meta_of(i):
    if i is None or isinstance(i, TensorMeta):
        return i
    return TensorMeta(_gdt(i.dtype), tuple(i.shape), None)


def _gdt(d):
    return d if isinstance(d, _dt.dtype) else _dt.from_numpy_dtype(d)


def _broadcast_known(shapes):
    """Broadcast shapes whose None sizes (bool masks) match anything."""
    out = []
    for s in shapes:
        for k, n in enumerate(reversed(s)):
            if k == len(out):
                out.append(n)
            elif n is not None and out[k] is not None and n != out[k] and 1 not in (n, out[k]):
                raise ValueError
            elif out[k] in (1, None) and n is not None:
                out[k] = n
    return tuple(reversed(out))


def _too_many_indices(self, indices):
    """_index_put_impl_'s first check: more indices (Nones too) than self has dims (a
    0-dim self indexed by a 0-dim mask)."""
    if len(indices) > len(self.shape):
        return IndexError(f"too many indices for tensor of dimension {len(self.shape)} "
                          f"(got {len(indices)})")
    return None


def _on_cpu(x):
    return x.device is _cpu if isinstance(x, TensorMeta) else isinstance(x, np.ndarray)


def _masked_fill_dispatch(self, indices, values, accumulate):
    """PyTorch's canDispatchToMaskedFill (_index_put_impl_): a write (not accumulate) of
    one value (numel 1, on the CPU) through exactly one bool or uint8 index on self's
    device, None indices around it, is self.masked_fill_(mask, values.item()): the value's
    dtype need not match self's (x.index_put_((x > 0,), torch.tensor(-1.0)) of a float64
    or int64 x answers). Gives (mask position, mask) or None; metas or arrays. A mask whose
    sizes differ from the dims it indexes raises PyTorch's IndexError."""
    if accumulate or int(np.prod(values.shape, dtype=np.int64)) != 1 or not _on_cpu(values) \
            or _too_many_indices(self, indices) is not None:
        return None
    pos, mask, at = 0, None, 0
    for i in indices:
        if i is None:
            pos += 1
            continue
        if mask is not None or _gdt(i.dtype) not in (_dt.bool, _dt.uint8) or \
                _on_cpu(i) != _on_cpu(self):
            return None
        mask, at = i, pos
        shape = tuple(i.shape)
        if pos + len(shape) > len(self.shape):
            return None         # (the general path's "too many indices")
        for j, n in enumerate(shape):
            if n != self.shape[pos + j]:
                raise IndexError(f"The shape of the mask {list(shape)} at index {j} does not "
                                 f"match the shape of the indexed tensor "
                                 f"{list(self.shape)} at index {pos + j}")
        pos += len(shape)
    return None if mask is None else (at, mask)


def _index_put_meta(self, indices, values, accumulate=False):
    if _masked_fill_dispatch(self, indices, values, accumulate) is None:
        e = _index_put_error(self, indices, values)
        if e is not None:
            raise e
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


def _index_put(xp, out, indices, values, accumulate):
    e = _too_many_indices(out, indices)
    if e is not None:
        raise e
    fill = _masked_fill_dispatch(out, indices, values, accumulate)
    if fill is not None:
        from .pointwise_ternary import _masked_fill
        at, mask = fill
        mask = mask.reshape(mask.shape + (1,) * (out.ndim - at - mask.ndim))
        filled = _masked_fill(xp, out, mask, values.reshape(()).item())
        # (only the selected elements: an expanded self's shared memory keeps the write)
        sel = xp.broadcast_to(mask, out.shape)
        out[sel] = filled[sel]
        return out
    if values.dtype != out.dtype:
        raise _index_put_error(out, indices, values)
    try:
        idx = _check_index_arrays(out, indices)
        _check_index_values(xp, out.shape, idx)
        if accumulate:
            from .shape_index import add_at   # CuPy's add.at lacks int64/int8/bool: handled
            add_at(xp, out, idx, values)
        else:
            _bounds.assign(xp, out, idx, values)
    except (IndexError, ValueError, TypeError) as e:
        err = _index_put_error(out, indices, values)
        if err is not None:
            raise err from None
        raise IndexError(str(e).replace("for axis", "for dimension")) from None
    return out


@op("aten::index_put_(Tensor(a!) self, Tensor?[] indices, Tensor values, "
    "bool accumulate=False) -> Tensor(a!)", tags={"inplace"}, meta=_index_put_meta,
    cross_device="indices")
def index_put_(xp, self, indices, values, accumulate=False):
    return _index_put(xp, self, indices, no_overlap(xp, self, values), accumulate)


@op("aten::index_put(Tensor self, Tensor?[] indices, Tensor values, bool accumulate=False) "
    "-> Tensor", meta=_index_put_meta, cross_device="indices")
def index_put(xp, self, indices, values, accumulate=False):
    return _index_put(xp, self.copy(), indices, values, accumulate)


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _is_bool_scalar(x):
    return isinstance(x, (bool, np.bool_)) or (
        isinstance(x, _reg._Tensor) and x._data.ndim == 0 and x._dtype is _dt.bool)


_FULL = slice(None)
_INT64_MAX = 9223372036854775807


def _clamp64(v):
    return v if type(v) is not int or -_INT64_MAX <= v <= _INT64_MAX else (
        _INT64_MAX if v > 0 else -_INT64_MAX)


def _slice(res, d, item, alone=False):
    """res[item] along dim d (item a slice). A slice that takes the whole dim (start 0 or
    none, step 1, stop none or >= the size: `x[0, :]`, `x[0:5, 1]` of 3 rows) is res itself,
    as PyTorch's applySlice skips it, except for a slice that is the whole index
    (`alone`: x[:] is aten::slice, SliceBackward0, as PyTorch's getitem disables that
    optimization there). While tracing, as PyTorch's indexing: the slice is recorded
    even when it takes everything (the trace may be fed other shapes), a missing start as
    0 and a missing stop as INT64_MAX."""
    start, stop, step = item.start, item.stop, 1 if item.step is None else item.step
    if type(step) is int and step <= 0:
        # (PyTorch's Python indexing: Python's words for 0, its own for a negative step)
        raise ValueError("slice step cannot be zero" if step == 0 else
                         "step must be greater than zero")
    # (Python's PySlice_Unpack clamps a bound past int64 as PyTorch reads it: x[2**70:])
    start, stop, step = (_clamp64(v) for v in (start, stop, step))
    if _reg.dispatch_state.tracing is not None:
        start = 0 if start is None else start
        stop = _INT64_MAX if stop is None else stop
    elif not alone and step == 1 and (start is None or (type(start) is int and start == 0)) \
            and (stop is None or (type(stop) is int and stop >= res._data.shape[d])):
        return res
    return OPS["aten::slice.Tensor"].public(res, d, start, stop, step)


def _decompose(t, index):
    """Apply the basic part of an index as view ops; return (view, advanced index list)."""
    ops = OPS
    if not isinstance(index, tuple):
        index = (index,)
    n_ell = sum(1 for i in index if i is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = 0
    for i in index:
        if i is None or i is Ellipsis or _is_bool_scalar(i):
            continue
        if isinstance(i, _reg._Tensor) and i._dtype is _dt.bool:
            consumed += i._data.ndim
        else:
            consumed += 1
    nd = t._data.ndim
    if consumed > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    if n_ell:
        k = next(j for j, i in enumerate(index) if i is Ellipsis)   # no ==: tensors
        index = index[:k] + (_FULL,) * (nd - consumed) + index[k + 1:]   # (not recorded)
    res, d, adv = t, 0, []
    for item in index:
        if item is None:
            res = ops["aten::unsqueeze"].public(res, d)
            d += 1
        elif _is_int(item):
            # an int subclass stays itself: a size read while tracing (a TracedInt) keeps
            # the select following the input's shape
            res = _select(res, d, item if isinstance(item, int) else int(item))
        elif _is_bool_scalar(item):
            # PyTorch: a new dim here, indexed by [0] (True) or by nothing (False)
            from .creation import tensor
            res = ops["aten::unsqueeze"].public(res, d)
            adv.append((d, tensor([0] if bool(item) else [], dtype=_dt.int64,
                                  device=t._device)))
            d += 1
        elif isinstance(item, _reg._Tensor) and item._data.ndim == 0 and \
                item._dtype.category == _dt.INTEGRAL:
            # a 0-dim integer tensor indexes like an int: a select (a view)
            # (through aten::Int, which a trace records: the select follows the tensor)
            res = ops["aten::select.int"].public(res, d, ops["aten::Int.Tensor"].public(item))
        elif isinstance(item, slice):
            if item is not _FULL:       # (the dims an ellipsis stands for)
                res = _slice(res, d, item)
            d += 1
        else:
            if isinstance(item, (list, tuple, range, bool, np.ndarray)):
                from .creation import tensor
                # an empty list indexes nothing (a long index, as PyTorch reads it)
                seq = isinstance(item, (list, tuple, range))
                empty = seq and len(item) == 0
                item = tensor(item, device=t._device, dtype=_dt.int64 if empty else None)
                if seq and item._dtype not in (_dt.bool, _dt.uint8, _dt.int64):
                    # a list of numbers indexes as longs (PyTorch's
                    # indexing_tensor_from_data: x[[0.1, 1.2]] is x[[0, 1]])
                    item = _reg.wrap(item._data.astype(np.int64), _dt.int64, item._device)
                escape = _reg.dispatch_state.escape
                if escape is not None:
                    # (a trace records it as PyTorch's indexing_tensor_from_data: the
                    # data a constant, then aten::to(c, device, dtype, False, False, None))
                    escape(item, "index data")
            if not isinstance(item, _reg._Tensor):
                raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and "
                                 f"long or byte Variables are valid indices (got "
                                 f"{type(item).__name__})")
            adv.append((d, item))
            d += max(item._data.ndim, 1) if item._dtype is _dt.bool else 1
    indices = None
    if adv:
        indices = [None] * (adv[-1][0] + 1)
        for pos, ten in adv:
            indices[pos] = ten
        # a k-dim bool mask covers k dims: drop the placeholders it spans
        out = []
        i = 0
        while i < len(indices):
            out.append(indices[i])
            ten = indices[i]
            step = max(ten._data.ndim, 1) if (ten is not None and ten._dtype is _dt.bool) else 1
            i += step
        indices = out
    return res, indices


def getitem(t, index):
    # the two commonest forms, x[a:b] and x[i], go straight to their view op
    ti = type(index)
    if ti is slice and t._data.ndim:
        return _slice(t, 0, index, alone=True)
    if ti is int and t._data.ndim:
        return _select(t, 0, index)
    if ti is tuple and len(index) <= t._data.ndim:
        # x[:, 1], x[1:3, 0]: ints and slices only (exact types: no bool, no Tensor, no
        # None or Ellipsis), no more than the dims: _decompose's selects and slices,
        # without its scans for ellipses, bool scalars and masks
        for item in index:
            if type(item) is not int and type(item) is not slice:
                break
        else:
            res, d = t, 0
            for item in index:
                if type(item) is int:
                    res = _select(res, d, item)
                else:
                    res = _slice(res, d, item)      # (a full slice: res itself)
                    d += 1
            return OPS["aten::alias"].public(t) if res is t else res
    if ti is _reg._Tensor and index._dtype is _dt.int64 and index._data.ndim and \
            t._data.ndim:
        # x[i] by one long tensor (an embedding's rows, a batch's picks): _decompose's
        # answer, [i], without its scans
        return OPS["aten::index.Tensor"].public(t, [index])
    res, indices = _decompose(t, index)
    if indices is not None:
        res = OPS["aten::index.Tensor"].public(res, indices)
    elif res is t:
        res = OPS["aten::alias"].public(t)
    return res


def _select(t, d, i):
    """x[i] along dim d: the select op, after indexing's bounds check (its message is
    not select()'s, as in PyTorch's applySelect)."""
    a = t._data
    if d < a.ndim and not -a.shape[d] <= i < a.shape[d]:
        if type(i) is int and not -_INT64_MAX - 1 <= i <= _INT64_MAX:
            raise ValueError("Overflow when unpacking long long")   # (PyTorch's, x[2**70])
        raise IndexError(f"index {i} is out of bounds for dimension {d} with size "
                         f"{a.shape[d]}")
    return OPS["aten::select.int"].public(t, d, i)


def setitem(t, index, value):
    view, indices = _decompose(t, index)
    number = not isinstance(value, _reg._Tensor) and isinstance(value, (bool, int, float,
                                                                         complex))
    if number:
        value = _number_value(t, value)
    elif not isinstance(value, _reg._Tensor):
        if value is None or isinstance(value, (str, bytes, dict, set)):
            # (PyTorch's valueToTensor; gpujit said "Could not infer dtype of NoneType")
            raise TypeError(f"can't assign a {type(value).__name__} to a {t.type()}")
        from .creation import tensor
        value = tensor(value, dtype=t._dtype, device=t._device)
    if indices is None:
        # PyTorch's copy_to: copy_ where the sizes agree (x[0] = 5 is copy_ of a 0-dim
        # value), fill_(Tensor) from a 0-dim CPU (or number) value (x[1:] = 2.5; no
        # overlap check against the value, `v[...] = v[0]`), else the value without its
        # leading 1-dims (slicePrefix1sSize: x[0] = v of shape [1] into a 0-dim x[0])
        # expanded to the view's sizes (expand_inplace), then copy_: the expanded value is
        # not dense, so copy_'s overlap check lets a piece of the written memory through
        # (x[1:] = x[1:2]). Sizes are read as numbers, as PyTorch's tracer bakes them in.
        shape, want = tuple(value._data.shape), tuple(view._data.shape)
        if shape != want and not shape and (number or value._device is _cpu):
            OPS["aten::fill_.Tensor"].public(view, value)
        else:
            if shape != want:
                while shape[:1] == (1,):
                    shape = shape[1:]
                if shape != tuple(value._data.shape):
                    value = value.view(shape)
                if shape != want:
                    value = value.expand(want)
            OPS["aten::copy_"].public(view, value)
    else:
        OPS["aten::index_put_"].public(view, indices, value)
    if view is not t and view._vc is not t._vc:
        t._vc[0] += 1      # the write went through a view: the base changed too


def _number_value(t, value):
    """x[i] = 2: the number as a 0-dim tensor of x's dtype, made outside the ops (PyTorch's
    valueToTensor / scalarToTensor, which a trace records as a tensor constant,
    `prim::Constant[value={2}]`, unwarned), with c10's overflow check (uint8 300 is its
    error; float16 1e10 is inf, unchecked there)."""
    if type(value) is int and not -(1 << 63) <= value < 1 << 63:
        # (PyTorch reads the number as an int64, whatever x's dtype)
        raise ValueError("Overflow when unpacking long long")
    if t._dtype in _dt.FLOAT8_TYPES:        # (the number's float8 bits: ops/float8.py)
        from .float8 import scalar
        return scalar(value, t._dtype, t._device)
    if t._dtype is _dt.float16:
        with np.errstate(over="ignore"):
            a = np.asarray(value, dtype=np.float16)
    else:
        a = np.asarray(cast_scalar(value, t._dtype.np), dtype=t._dtype.np)
    if t._device.type == "meta":    # (x[0] = 2 into a meta tensor: a meta value)
        from .._meta import MetaArray
        v = _reg.wrap(MetaArray((), a.dtype), t._dtype, t._device)
    else:
        v = _reg.wrap(xp_for(t._device).asarray(a), t._dtype, t._device)
    escape = _reg.dispatch_state.escape
    if escape is not None:
        escape(v, "constant")
    return v


@op("aten::alias(Tensor(a) self) -> Tensor(a)", tags={"view"}, method=False, function=False,
    meta=lambda self: self)
def alias(xp, self):
    return self.view()


@op("aten::_fw_primal(Tensor(a) self, int level) -> Tensor(a)", tags={"view"}, method=False,
    function=False, meta=lambda self, level: self)
def _fw_primal(xp, self, level):
    """forward_ad.unpack_dual's primal: a view whose node is PyTorch's Identity."""
    return self.view()


@op("aten::lift_fresh(Tensor(a) self) -> Tensor(a)", tags={"view"}, method=False,
    function=False, meta=lambda self: self)
def lift_fresh(xp, self):
    """The tensor itself: what PyTorch's tracer records for a tensor made from NumPy data
    (torch.from_numpy, torch.as_tensor / torch.tensor of an ndarray) after its constant."""
    return self.view()


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops
from .registry import derivative as _derivative  # noqa: E402


@_derivative(alias, lift_fresh, _fw_primal)
def _alias_grad(grad):
    return grad


@_derivative(index, wrt=("self",))
def _index_grad(grad, self_shape, indices):
    """x[idx] picks (possibly repeated) entries: their gradients add up in a zeros tensor
    of x's shape (index_put_ with accumulate on a fresh tensor); x itself is not kept."""
    import gpujit
    out = gpujit.zeros(tuple(self_shape), dtype=grad.dtype, device=grad.device)
    # (the registry's entry point: its Tensor?[] takes None, which the Python binding
    # x.index_put_ refuses as torch's does)
    return OPS["aten::index_put_"].public(out, list(indices), grad, True)


@_derivative(index_put_, index_put, wrt=("self", "values"))
def _index_put_grad(grad, indices, accumulate):
    """self keeps the gradient where it was not overwritten (all of it with accumulate);
    values get the gradient of the entries they were written to (summed back over
    broadcasting by autograd)."""
    import gpujit
    indices = list(indices)
    g_values = OPS["aten::index.Tensor"].public(grad, indices)
    if accumulate:
        return grad, g_values
    g_self = OPS["aten::index_put_"].public(
        grad.clone(), indices, gpujit.zeros((), dtype=grad.dtype, device=grad.device))
    return g_self, g_values
