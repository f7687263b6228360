"""PyTorch's Python-level functions and Tensor methods that run on the host: torch.range
(a registry op, aten::range.step, behind the Python function that warns as PyTorch's),
frombuffer, asarray, unravel_index, and the Tensor methods new (the legacy constructor),
resize (deprecated, shape-only), apply_ / map_ / map2_ (a Python callable per element, CPU
tensors only as in PyTorch), share_memory_ / is_shared / pin_memory / is_pinned.
"""
from __future__ import annotations

import math
import weakref

import numpy as np

from .. import dtypes as _dt
from .._frames import warn_at_user_frame
from ..device import cpu as _cpu
from .meta import TensorMeta
from .registry import op, OPS, tensor_method
from .registry import nondifferentiable as _nondiff
from .registry import derivative
from .creation import _FACTORY_TAIL, _default

PUBLIC = {}


# ------------------------------------------------------------------ range

def _range_size(start, end, step):
    if not (step > 0 or step < 0):      # (a NaN step too, as ATen's range check)
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        from .creation import _range_words
        raise RuntimeError(f"unsupported range: {_range_words(start)} -> {_range_words(end)}")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    return int(math.floor((end - start) / step)) + 1


@op(f"aten::range.step(Scalar start, Scalar end, Scalar step=1, *, {_FACTORY_TAIL}",
    tags={"factory"}, method=False,
    meta=lambda start, end, step=1, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_default(dtype), (_range_size(start, end, step),), device or _cpu))
def range_step(xp, start, end, step=1, dtype=None, layout=None, device=None,
               pin_memory=None):
    """start, start + step, ... up to end inclusive (the default float dtype unless dtype
    is given)."""
    n = _range_size(start, end, step)
    npdt = _default(dtype).np
    if npdt.kind in "iub" and isinstance(start, int) and isinstance(step, int):
        # (an integer dtype computes in int64, as PyTorch's kernel: exact past 2**53)
        return (start + xp.arange(n, dtype=np.int64) * step).astype(npdt)
    return (start + xp.arange(n, dtype=np.float64) * step).astype(npdt)


_nondiff(range_step, reason="a factory: its values depend on no tensor")


_NO_END = object()


def range_(start=0, end=_NO_END, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """torch.range (deprecated): torch.arange with end included, with PyTorch's warning.
    Its end has no default (torch.range(3) is PyTorch's TypeError; an end of None the
    parser's, from range.step's entry point)."""
    if end is _NO_END:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    warn_at_user_frame("torch.range is deprecated and will be removed in a future release "
                       "because its behavior is inconsistent with Python's range builtin. "
                       "Instead, use torch.arange, which produces values in [start, end).")
    vals = [v.item() if hasattr(v, "item") else v for v in (start, end, step)]
    if out is not None:
        from .creation import _out_dtype_device
        if dtype is None:
            dtype = out.dtype
        _out_dtype_device(out, None, None, "range")     # (autograd's checks of out)
    t = OPS["aten::range.step"].public(*vals, dtype=dtype, device=device)
    if out is not None:
        from .creation import _finish
        return _finish(t, requires_grad, out, "range")
    return t._factory_requires_grad() if requires_grad else t


PUBLIC["range"] = range_


# ------------------------------------------------------------------ frombuffer, asarray

def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor sharing memory with a Python buffer (bytes, bytearray, memoryview,
    array.array...)."""
    from .registry import wrap, host_made
    dt = _dt.to_dtype(dtype)
    mv = memoryview(buffer)
    nbytes = mv.nbytes
    if nbytes <= 0 or count == 0:
        raise ValueError(f"both buffer length ({nbytes}) and count ({count}) must not be 0")
    if offset < 0 or offset >= nbytes:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({nbytes} bytes) minus 1")
    item = dt.itemsize
    if count <= 0 and (nbytes - offset) % item:
        raise ValueError(f"buffer length ({nbytes - offset} bytes) after offset ({offset} "
                         f"bytes) must be a multiple of element size ({item})")
    if count > 0 and offset + count * item > nbytes:
        raise ValueError(f"requested buffer length ({count} * {item} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({nbytes} bytes)")
    if mv.readonly:
        warn_at_user_frame("The given buffer is not writable, and PyTorch does not support "
                           "non-writable tensors. This means you can write to the underlying "
                           "(supposedly non-writable) buffer using the tensor. You may want "
                           "to copy the buffer to protect its data or make it writable "
                           "before converting it to a tensor. This type of warning will be "
                           "suppressed for the rest of this program.")
    if dt is _dt.bfloat16:
        # (the bits, read into a bfloat16 tensor's float32 carrier: a copy of the buffer,
        # which PyTorch's tensor shares; ops/bfloat16_support.py)
        from .bfloat16_support import from_bits
        a = from_bits(np, np.frombuffer(buffer, dtype=np.uint16, count=count, offset=offset))
    else:
        a = np.frombuffer(buffer, dtype=dt.np, count=count, offset=offset)
    if dt in _dt.FLOAT8_TYPES:      # (the bits, shared: ops/float8.py)
        from .float8 import make
        t = host_made(make(a, dt, _cpu))
    else:
        t = host_made(wrap(a, dt, _cpu))
    return t._factory_requires_grad() if requires_grad else t


PUBLIC["frombuffer"] = frombuffer


def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None,
              pin_memory=False, requires_grad=False):
    """A 1-D CPU tensor of `size` elements of dtype read from the file's start (torch's
    from_file): shared=True maps the file (writes reach it; a missing file is created,
    zero-filled to the size), else the data is read into the tensor's own memory."""
    from .registry import wrap, host_made
    import os
    dt = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    if device is not None:
        import gpujit
        if gpujit.device(device).type != "cpu":
            raise RuntimeError("from_file: gpujit reads files into CPU tensors; move the "
                               "result with .to(device)")
    size = int(size)
    need = size * dt.itemsize
    mode = "read-write" if shared else "read-only"
    if shared:
        if not os.path.exists(filename):
            with open(filename, "wb") as f:
                f.truncate(need)
    try:
        have = os.path.getsize(filename)
    except OSError as e:
        raise RuntimeError(f"unable to open file <{filename}> in {mode} mode: "
                           f"{e.strerror} ({e.errno})") from None
    if have < need:
        raise RuntimeError(f"file <{filename}> size <{have}> is smaller than the required "
                           f"mapping size <{need}>")
    if size == 0:
        a = np.zeros(0, dt.np)
    elif shared:
        # (a plain ndarray over the mapping: it keeps the map alive as its base)
        a = np.memmap(filename, dtype=dt.np, mode="r+", shape=(size,)).view(np.ndarray)
    else:
        a = np.fromfile(filename, dtype=dt.np, count=size)
    t = host_made(wrap(a, dt, _cpu))
    return t._factory_requires_grad() if requires_grad else t


PUBLIC["from_file"] = from_file


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """A tensor of obj, sharing its memory where dtype and device allow (a Tensor itself
    when nothing changes); copy=True always copies, copy=False refuses to."""
    import gpujit
    dtype = None if dtype is None else _dt.to_dtype(dtype)
    if isinstance(obj, gpujit.Tensor):
        same = (dtype is None or dtype is obj.dtype) and (
            device is None or gpujit.device(device) == obj.device)
        if copy is False and not same:
            if dtype is not None and dtype is not obj.dtype:
                raise ValueError(f"can't alias tensor with dtype '{obj.dtype.short_name}' "
                                 f"into dtype '{dtype.short_name}'.")
            raise ValueError(f"can't alias tensor from device '{obj.device}' to "
                             f"'{gpujit.device(device)}'.")
        t = obj if same else obj.to(device=device or obj.device, dtype=dtype or obj.dtype)
        if copy and t is obj:
            t = obj.clone()
    elif copy:
        t = gpujit.tensor(obj, dtype=dtype, device=device)
    else:
        t = gpujit.as_tensor(obj, dtype=dtype, device=device)
        if copy is False and isinstance(obj, np.ndarray) and not np.shares_memory(
                np.asarray(t._data) if t.device.type == "cpu" else obj, obj):
            raise ValueError("can't alias the array: a copy is needed (its dtype or device "
                             "differs)")
    return t._factory_requires_grad() if requires_grad else t


PUBLIC["asarray"] = asarray


# ------------------------------------------------------------------ unravel_index

def unravel_index(indices, shape):
    """The coordinates in `shape` of flat indices (a tuple of tensors, one per dimension),
    in registry ops: traced and differentiable nowhere (integers)."""
    import gpujit
    if not isinstance(indices, gpujit.Tensor):
        indices = gpujit.tensor(indices)
    if indices.dtype.category != _dt.INTEGRAL:
        raise TypeError(f"expected 'indices' to be integer dtype, but got "
                        f"{indices.dtype}")
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    coords = []
    rest = indices.long()
    for s in reversed(shape):
        coords.append(rest.remainder(s) if s else rest * 0)
        rest = rest.div(s, rounding_mode="floor") if s else rest
    return tuple(reversed(coords))


PUBLIC["unravel_index"] = unravel_index


# ------------------------------------------------------------------ Tensor.new, resize

@tensor_method("new")
def _new(self, *args, device=None, dtype=None):
    """The legacy constructor: x.new() (empty), x.new(2, 3) / x.new(Size) (uninitialized,
    zeros here), x.new(data) (a copy of a sequence; a Tensor is aliased) with x's dtype and
    device."""
    import gpujit
    if dtype is not None:
        raise TypeError("new() received an invalid combination of arguments - got "
                        "(dtype=...); use new_empty / new_tensor for another dtype")
    dev = device if device is not None else self.device
    if not args:
        return self.new_empty((0,), device=dev)
    if len(args) == 1 and isinstance(args[0], gpujit.Tensor):
        if args[0].dtype is not self.dtype:
            raise TypeError(f"expected {self.dtype} (got {args[0].dtype})")
        return args[0].detach()
    if len(args) == 1 and isinstance(args[0], gpujit.Size):
        return self.new_zeros(tuple(args[0]), device=dev)
    if len(args) == 1 and not isinstance(args[0], int):
        return gpujit.tensor(args[0], dtype=self.dtype, device=dev)
    return self.new_zeros(tuple(int(a) for a in args), device=dev)


@tensor_method("resize")
def _resize(self, *sizes):
    """Deprecated non-in-place resize: a reshape keeping the number of elements (PyTorch's
    autograd Resize)."""
    warn_at_user_frame("non-inplace resize is deprecated")
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = tuple(sizes[0])
    return _autograd_resize(self, sizes)


@tensor_method("resize_as")
def _resize_as(self, tensor):
    """Deprecated non-in-place resize_as: resize to tensor's shape (same element count)."""
    warn_at_user_frame("non-inplace resize_as is deprecated")
    return _autograd_resize(self, tuple(tensor.shape))


def _autograd_resize(self, sizes):
    n = math.prod(sizes)
    if n != self.numel():
        shown = "x".join(str(s) for s in sizes)
        have = "x".join(str(s) for s in self.shape)
        raise RuntimeError(f"requested resize to {shown} ({n} elements in total), but the "
                           f"given tensor has a size of {have} ({self.numel()} elements). "
                           f"autograd's resize can only change the shape of a given tensor, "
                           f"while preserving the number of elements. ")
    return self.contiguous().view(tuple(sizes))


# ------------------------------------------------------------------ apply_, map_, map2_

def _cpu_only(self, name):
    if self.device.type != "cpu":
        raise TypeError(f"{name} is only implemented on CPU tensors")
    if self.requires_grad and self.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def _elementwise(self, fn, others):
    """Write fn(self element, other elements...) into self, element by element."""
    a = self._data
    srcs = [np.broadcast_to(o._data, a.shape) for o in others]
    for idx in np.ndindex(a.shape):
        a[idx] = fn(a[idx].item(), *(s[idx].item() for s in srcs))
    self._vc[0] += 1
    return self


@tensor_method("apply_")
def _apply_(self, callable):
    """self[i] = callable(self[i]) for every element (CPU only; slow: a Python call each)."""
    _cpu_only(self, "apply_")
    return _elementwise(self, callable, [])


@tensor_method("map_")
def _map_(self, tensor, callable):
    """self[i] = callable(self[i], tensor[i]), tensor broadcast to self (CPU only)."""
    _cpu_only(self, "map_")
    return _elementwise(self, callable, [tensor])


@tensor_method("map2_")
def _map2_(self, x, y, callable):
    """self[i] = callable(self[i], x[i], y[i]), x and y broadcast to self (CPU only)."""
    _cpu_only(self, "map2_")
    return _elementwise(self, callable, [x, y])


# ------------------------------------------------------------------ memory placement

@tensor_method("share_memory_")
def _share_memory_(self):
    """Moves a CPU tensor's array into shared memory (gpujit/_shared_memory.py): processes
    it reaches (fork, or a multiprocessing Queue / Process argument) write the same memory.
    CUDA tensors: a no-op, as PyTorch's."""
    from .. import _shared_memory as shm
    a = self._data
    if self._device is _cpu and shm.block_of(a) is None:
        self._data = shm.share(a)
    return self


@tensor_method("is_shared")
def _is_shared(self):
    """Whether a CPU tensor's array lies in shared memory (share_memory_); False for CUDA
    tensors, as PyTorch's."""
    from .. import _shared_memory as shm
    return self._device is _cpu and shm.block_of(self._data) is not None


@tensor_method("pin_memory")
def _pin_memory(self, device=None):
    """A copy of a CPU tensor (page-locked memory is CuPy's to allocate: the copy is what
    a later .cuda(non_blocking=True) reads); PyTorch's error without an accelerator."""
    if self.device.type != "cpu":
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be "
                           f"pinned")
    _check_accelerator()
    if _pinned_root(self._data) is not None:
        return self                             # (already pinned: as PyTorch, itself)
    t = self.clone()
    _mark_pinned(t._data)
    return t


def _check_accelerator():
    import gpujit
    if not gpujit.cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def _mark_pinned(a):
    r = _root(a)
    k = id(r)
    _PINNED[k] = weakref.ref(r, lambda _, k=k: _PINNED.pop(k, None))


@op("aten::pin_memory(Tensor(a) self, Device? device=None) -> Tensor(a)", method=False,
    function=False, meta=lambda self, device=None: TensorMeta(self.dtype, self.shape,
                                                              self.device))
def pin_memory(xp, self, device=None):
    """`x.pin_memory()` in scripted code (torch 2.13 scripts it): eager Tensor.pin_memory's
    copy, marked pinned (x itself when it already is); without an accelerator torch's
    RuntimeError "Cannot access accelerator device when none is available.", and a CUDA
    tensor's "cannot pin ..." words."""
    if not isinstance(self, np.ndarray):
        name = _dt.from_numpy_dtype(self.dtype).short_name
        raise RuntimeError(f"cannot pin 'torch.cuda.{name}Tensor' only dense CPU tensors "
                           f"can be pinned")
    _check_accelerator()
    if _pinned_root(self) is not None:
        return self
    out = self.copy(order="K")
    _mark_pinned(out)
    return out


@derivative(pin_memory, wrt=("self",))
def _pin_memory_grad(grad):
    return grad                 # (a copy: PyTorch's gradient passes through)


# the NumPy buffers pin_memory() made (by id, while they live): pinned is a property of
# the memory, which views and detach()es of a pinned tensor share (a copy is not pinned)
_PINNED: dict = {}


def _root(a):
    while isinstance(getattr(a, "base", None), np.ndarray):
        a = a.base
    return a


def _pinned_root(a):
    if not _PINNED or not isinstance(a, np.ndarray):
        return None
    r = _root(a)
    ref = _PINNED.get(id(r))
    return r if ref is not None and ref() is r else None


@tensor_method("is_pinned")
def _is_pinned(self, device=None):
    """True for the memory pin_memory() returned (and its views), as PyTorch on a machine
    with an accelerator."""
    return _pinned_root(self._data) is not None
