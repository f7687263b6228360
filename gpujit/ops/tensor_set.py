"""Tensor.set_ (a tensor made to view another tensor's memory, a storage, or nothing) and
torch.utils.swap_tensors (two Tensor objects exchange everything they are), as PyTorch's.

set_ changes what a tensor views, not what it holds: it is not recorded by autograd (as
in PyTorch, a leaf that requires grad refuses it in grad mode; gpujit also refuses it on a
tensor with a recorded graph, where PyTorch leaves a grad_fn that fails in backward).
"""
from __future__ import annotations

import copyreg
import sys
import weakref

import numpy as np

from .. import dtypes as _dt
from ..autograd import grad_mode
from ..tensor import Tensor
from .derivatives import not_implemented as _not_implemented
from .meta import TensorMeta
from .registry import OPS, dispatch_state, op, tensor_method
from .tensor_flags import UntypedStorage, TypedStorage

PUBLIC = {}


def _cpp(d):
    return _dt.CPP_NAMES.get(d.name, d.name)


def _check_target(self):
    ag = self._ag
    if ag is not None and ag.requires_grad and grad_mode.is_grad_enabled():
        if ag.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        raise RuntimeError("set_: gpujit does not record set_ on a tensor with a recorded "
                           "gradient graph (its gradient would be undefined); call it on "
                           "a detached tensor or under torch.no_grad()")


def _root_array(a):
    """The array that owns the allocation a views (NumPy), and a's byte offset in it."""
    r = a
    while isinstance(r.base, np.ndarray):
        r = r.base
    start = r.__array_interface__["data"][0]
    return r, a.__array_interface__["data"][0] - start if a.size else 0


def _elem_offset(a):
    """Where array a starts in its allocation, in elements."""
    if isinstance(a, np.ndarray):
        return _root_array(a)[1] // a.itemsize
    return (a.data.ptr - a.data.mem.ptr) // a.itemsize


_HIGH = 2 if sys.byteorder == "little" else 0    # (where a float32's high 2 bytes are)


def _over_storage(storage, dtype, offset, size, stride):
    """An array of `dtype` over storage's allocation: `size` elements `stride` apart
    (in elements), starting `offset` elements in (PyTorch's setStorage checks); None
    where no array can view that memory as dtype (bfloat16 elements over 2-byte memory
    that is no bfloat16 tensor's carrier, another dtype's over a bfloat16 storage)."""
    src = storage._tensor._data
    item = dtype.itemsize
    nbytes = storage.nbytes()
    if size is None:
        size, stride = (nbytes // item - offset,), (1,)
    size = tuple(int(s) for s in size)
    if stride is None:
        st, k = [], 1
        for n in reversed(size):
            st.append(k)
            k *= max(n, 1)
        stride = tuple(reversed(st))
    stride = tuple(int(s) for s in stride)
    if len(stride) != len(size):
        raise RuntimeError("mismatch in length of strides and shape")
    if offset < 0 or any(s < 0 for s in size):
        raise RuntimeError(f"set_: storage offset {offset} and sizes {list(size)} must not "
                           f"be negative")
    need = 0 if 0 in size else (offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))) * item
    if need > nbytes:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, "
                           f"storage offset {offset}, and itemsize {item} requiring a "
                           f"storage size of {need} are out of bounds for storage of size "
                           f"{nbytes}")
    byte_strides = tuple(s * item for s in stride)
    start = offset * item + storage._offset      # (a storage slice starts inside)
    if storage._half:
        # (a bfloat16 tensor's storage: 2 bytes an element over a float32 carrier, whose
        # high half of each 4 bytes holds the bits (ops/bfloat16_support.py); bfloat16
        # elements are the carrier's, a 2-byte dtype's its high halves; both share it)
        if item != 2 or start % 2:
            return None
        byte_strides = tuple(s * 4 for s in stride)
        start = start * 2 + (0 if dtype is _dt.bfloat16 else _HIGH)
    elif dtype is _dt.bfloat16:
        return None
    if isinstance(src, np.ndarray):
        root, _ = _root_array(src)
        if not (root.flags.c_contiguous or root.flags.f_contiguous):
            # (a channels_last allocation: a buffer must be contiguous; its 1-D memory)
            from .views_strided import _memory_of
            root = _memory_of(root)
        return np.ndarray(size, dtype.np, buffer=root, offset=start, strides=byte_strides)
    import cupy
    mem = src.data.mem
    return cupy.ndarray(size, dtype.np, memptr=cupy.cuda.MemoryPointer(mem, start),
                        strides=byte_strides)


def _check_viewable(a, dtype, storage_dtype):
    if a is None:
        what = "a bfloat16 storage" if storage_dtype is _dt.bfloat16 else "this storage"
        raise RuntimeError(
            f"set_: gpujit cannot view {what} as {dtype.name} elements: a bfloat16 tensor's "
            f"memory is a float32 array of bfloat16-exact values (README, bfloat16), which "
            f"only bfloat16 and 2-byte dtypes view, and only it is viewed as bfloat16")


def _check_source(self, dtype, device):
    if dtype is not None and dtype is not self._dtype:
        raise RuntimeError(f"Could not set tensor of type {_cpp(dtype)} to a tensor of type "
                           f"{_cpp(self._dtype)}")
    if device != self._device:
        raise RuntimeError(f"Attempted to set the storage of a tensor on device "
                           f"\"{self._device}\" to a storage on different device "
                           f"\"{device}\".  This is no longer allowed; the devices must "
                           f"match.")


@tensor_method("set_")
def _set_(self, source=None, storage_offset=0, size=None, stride=None):
    """Make self view source's memory with source's sizes and strides (a Tensor), part of
    a storage (untyped_storage(), storage(): `size` elements `stride` apart from
    `storage_offset`), or nothing (no argument: a tensor of size [0])."""
    _check_target(self)
    if dispatch_state.tracing is not None and isinstance(source, Tensor) and size is None \
            and not storage_offset and source._dtype is not _dt.bfloat16:
        _check_source(self, source._dtype, source._device)     # (recorded: the registry's)
        return OPS["aten::set_.source_Tensor"].public(self, source)
    if source is None:
        from ..device import xp_for
        xp = np if self._device.type == "cpu" else xp_for(self._device)
        a = xp.empty((0,), self._dtype.np)
    elif isinstance(source, Tensor):
        _check_source(self, source._dtype, source._device)
        a = source._data
        if size is not None or storage_offset:     # (the offset counts from source's
            a = _over_storage(UntypedStorage._of(source), self._dtype,  # first element, as
                              int(storage_offset) + _elem_offset(a), size, stride)  # torch)
            _check_viewable(a, self._dtype, source._dtype)
    elif isinstance(source, (UntypedStorage, TypedStorage)):
        _check_source(self, source.dtype if isinstance(source, TypedStorage) else None,
                      source.device)
        a = _over_storage(source.untyped(), self._dtype, int(storage_offset), size, stride)
        _check_viewable(a, self._dtype, _dt.bfloat16 if source.untyped()._half else None)
    else:
        raise TypeError(f"set_() received an invalid combination of arguments - got "
                        f"({type(source).__name__}), but expected one of: (), "
                        f"(Tensor source), (Storage source), (Storage source, int "
                        f"storage_offset, tuple of ints size, tuple of ints stride)")
    self._data = a
    self._vc[0] += 1
    return self


# The registry's set_ (Tensor.set_(source) goes through it, so the tracer records it, and
# scripted code finds it): self becomes the source's array, as the in-place view ops'
# self becomes their impl's view. (The alias analysis makes self and source one value.)
def _set_meta(self, source):
    if source.dtype is not self.dtype:
        raise RuntimeError(f"Could not set tensor of type {_cpp(source.dtype)} to a tensor "
                           f"of type {_cpp(self.dtype)}")
    return TensorMeta(self.dtype, tuple(source.shape), self.device)


@op("aten::set_.source_Tensor(Tensor(a!) self, Tensor source) -> Tensor(a!)",
    tags={"inplace", "inplace_view"}, method=False, function=False, meta=_set_meta)
def _set_source(xp, self, source):
    if source.dtype != self.dtype:
        raise RuntimeError(f"Could not set tensor of type {_cpp(_dt.from_numpy_dtype(source.dtype))} "
                           f"to a tensor of type {_cpp(_dt.from_numpy_dtype(self.dtype))}")
    return source.view()        # (a new array object: `r is self` means unchanged)


# (torch 2.13 records set_ with autograd's NotImplemented node: a backward through it is
# "derivative for set_ is not implemented")
_not_implemented(_set_source, message="derivative for set_ is not implemented")


def swap_tensors(t1, t2):
    """Exchange everything two Tensor objects are (class, attributes, data, dtype, device,
    version counter, autograd state), as torch.utils.swap_tensors: references to t1 then
    see what t2 was. (PyTorch refuses tensors that weak references point to; gpujit's
    autograd keeps weak references to tensors itself, so it swaps them anyway and points
    their backward nodes at their new objects.)"""
    if not isinstance(t1, Tensor) or not isinstance(t2, Tensor):
        raise TypeError("swap_tensors: both arguments must be Tensors")
    s1, s2 = set(copyreg._slotnames(type(t1))), set(copyreg._slotnames(type(t2)))
    if s1 != s2:
        raise RuntimeError("Cannot swap t1 and t2 if they have different slots")
    c1, c2 = type(t1), type(t2)
    t1.__class__, t2.__class__ = c2, c1
    d1, d2 = getattr(t1, "__dict__", None), getattr(t2, "__dict__", None)
    if d1 is not None and d2 is not None:
        t1.__dict__, t2.__dict__ = d2, d1
    for name in ("_data", "_dtype", "_device", "_vc", "_ag", *sorted(s1 - _CORE)):
        v1, v2 = getattr(t1, name, _MISSING), getattr(t2, name, _MISSING)
        _put(t1, name, v2)
        _put(t2, name, v1)
    for t in (t1, t2):          # a backward node finds its output (hooks) again
        ag = t._ag
        node = ag.grad_fn if ag is not None else None
        if node is not None and getattr(node, "out_refs", None):
            node.out_refs[ag.output_nr] = weakref.ref(t)


_CORE = frozenset(("_data", "_dtype", "_device", "_vc", "_ag", "__weakref__", "__dict__"))
_MISSING = object()


def _put(t, name, v):
    if v is _MISSING:
        try:
            delattr(t, name)
        except AttributeError:
            pass
    else:
        setattr(t, name, v)
