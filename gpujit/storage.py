"""torch.storage: the memory tensors view. `tensor.untyped_storage()` is an UntypedStorage
(bytes), `tensor.storage()` (deprecated in PyTorch) a TypedStorage (elements of the
tensor's dtype); both are views of the tensor's allocation, so writing `s[i] = v` or
`s.fill_(v)` changes every tensor on it, as in PyTorch. They are also made directly:
`UntypedStorage(n)`, `TypedStorage(n, dtype=)`, `TypedStorage([1, 2, 3])`, and the legacy
classes `FloatStorage(n)` / `LongStorage([1, 2])` ... (`gpujit.FloatStorage` &c., which
make TypedStorages of their dtype; `isinstance(s, FloatStorage)` checks the dtype), and a
tensor is put on one with `Tensor.set_(storage, offset, size, stride)`.

A bfloat16 tensor's storage is 2 bytes an element, the bits: the high halves of its
float32 carrier (ops/bfloat16_support.py), read and written in place where an array can
view them (bfloat16 elements, 2-byte ones), through a copy written back where none can
(its bytes).

A storage's memory is one NumPy / CuPy allocation (the root array the tensor views): its
size is fixed. `resize_` works on a storage that no tensor views yet (made by a
constructor); on a tensor's storage it refuses (PyTorch reallocates it under every tensor
viewing it, which NumPy arrays cannot follow).
"""
from __future__ import annotations

import numpy as np

from . import dtypes as _dt

__all__ = ["UntypedStorage", "TypedStorage"]


def _root(a):
    """(start address, nbytes) of the allocation array a views."""
    if a.__class__.__name__ == "MetaArray":     # (no memory: address 0, as torch's)
        return 0, a.extent()
    if isinstance(a, np.ndarray):
        r = a
        while isinstance(r, np.ndarray) and r.base is not None:
            b = r.base
            if not isinstance(b, np.ndarray):
                b = getattr(b, "base", None)
                if not isinstance(b, np.ndarray):
                    break
            r = b
        return r.__array_interface__["data"][0], int(r.nbytes)
    mem = a.data.mem
    r = a
    while getattr(r, "base", None) is not None:
        r = r.base
    # CuPy's pool rounds an allocation up (to 512-byte bins): the storage holds the bytes
    # its root array asked for, counted from the allocation's start (torch: a 4-float
    # CUDA tensor's storage has 16 bytes)
    return int(mem.ptr), min(int(mem.size), int(r.data.ptr) - int(mem.ptr) + int(r.nbytes))


def _device_of(device):
    from .device import device as _device
    return _device("cpu" if device is None else device)


def _new_tensor(values, dtype, device):
    import gpujit
    if isinstance(values, int):
        return gpujit.zeros(values, dtype=dtype, device=device)
    return gpujit.tensor(list(values), dtype=dtype, device=device)


def _python(v):
    return v.item() if hasattr(v, "item") else v


def _torch_name(dtype):
    return "torch." + dtype.name


_NO_VALUES = object()


class _StorageCommon:
    """What both storage classes answer the same way (they are unrelated classes, as
    PyTorch's)."""
    is_sparse = False

    def _values(self):
        """Its elements for str(); a meta storage has none ('...', as torch prints it)."""
        return _NO_VALUES if self.device.type == "meta" else self.tolist()

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def is_shared(self):
        return False

    def is_pinned(self, device="cuda"):
        return False

    def __iter__(self):
        return iter(self.tolist())

    def __deepcopy__(self, memo):
        return memo.setdefault(id(self), self.clone())

    def cpu(self):
        return self.to(device="cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to(device="cuda" if device is None else device)


class UntypedStorage(_StorageCommon):
    """Bytes of memory: `UntypedStorage(n, device=None)` (n zero bytes),
    `UntypedStorage([b0, b1, ...])`, or a tensor's (`x.untyped_storage()`)."""
    is_sparse_csr = False

    def __init__(self, *args, device=None):
        if len(args) > 1:
            raise TypeError(f"UntypedStorage(): expected at most 1 argument, got {len(args)}")
        arg = args[0] if args else 0
        if not isinstance(arg, (int, list, tuple)) or isinstance(arg, bool):
            raise TypeError(f"UntypedStorage(): expected a size (int) or a sequence of "
                            f"bytes, got {type(arg).__name__}")
        self._attach(_new_tensor(arg, _dt.uint8, _device_of(device)), owned=True)

    @classmethod
    def _of(cls, tensor):
        s = object.__new__(cls)
        s._attach(tensor, owned=False)
        return s

    def _attach(self, tensor, owned, span=None):
        self._tensor = tensor
        root = getattr(tensor, "_base", None) if tensor._device.type == "meta" else None
        self._ptr, self._nbytes = _root(tensor._data if root is None else root._data)
        # a bfloat16 tensor's: 2 bytes an element, the high halves of its float32 carrier
        self._half = tensor._dtype is _dt.bfloat16
        if self._half:
            self._nbytes //= 2
        self._offset = 0             # where this storage starts in the allocation (bytes)
        if span is not None:         # (a slice of a storage: start, nbytes)
            self._offset, self._nbytes = span
            self._ptr += self._offset
        self.device = tensor.device
        self._owned = owned          # made by a constructor: no tensor views it yet

    def _elements(self, dtype):
        """An array of dtype over the whole allocation (its last partial element dropped);
        a copy where no array can view it as dtype (_over_storage: bytes of a bfloat16
        storage, bfloat16 elements of another), which _mutate writes back."""
        from .ops.tensor_set import _over_storage
        n = self._nbytes // dtype.itemsize
        a = _over_storage(self, dtype, 0, (n,), (1,))
        if a is not None:
            return a
        from .ops.bfloat16_support import from_bits
        raw = self._bytes()[:n * dtype.itemsize]
        if dtype is _dt.bfloat16:
            return from_bits(_xp_of(raw), raw.view(np.uint16))
        return raw.view(dtype.np)

    def _bytes(self):
        """This storage's bytes: a view (an ordinary storage), or a copy of the bfloat16
        bits of a bfloat16 tensor's float32 carrier."""
        from .ops.tensor_set import _over_storage
        if not self._half:
            return _over_storage(self, _dt.uint8, 0, (self._nbytes,), (1,))
        return self._bit_pairs().reshape(-1)[self._offset:self._offset + self._nbytes]

    def _bit_pairs(self):
        """(elements, 2) uint8 view of the bits of the whole allocation of a bfloat16
        storage (its float32 carrier's high halves)."""
        from .ops.tensor_set import _over_storage, _HIGH
        whole = UntypedStorage._of(self._tensor)
        carrier = _over_storage(whole, _dt.bfloat16, 0, (whole._nbytes // 2,), (1,))
        return carrier.view(np.uint8).reshape(-1, 4)[:, _HIGH:_HIGH + 2]

    def _mutate(self, dtype, change):
        """change(a) on the array of dtype over this storage; a copy's changes are written
        back (bytes of a bfloat16 storage, bfloat16 values of another; bfloat16 values
        rounded)."""
        from .ops.bfloat16_support import bits_of, round_in_place
        from .ops.tensor_set import _over_storage
        a = self._elements(dtype)
        change(a)
        if dtype is _dt.bfloat16:
            round_in_place(a)
        if _over_storage(self, dtype, 0, (self._nbytes // dtype.itemsize,), (1,)) is not None:
            return                                      # (a view: written in place)
        raw = (bits_of(_xp_of(a), a) if dtype is _dt.bfloat16 else a).view(np.uint8)
        if not self._half:
            self._bytes()[:raw.size] = raw
            return
        pairs = self._bit_pairs()
        flat = pairs.reshape(-1)
        flat[self._offset:self._offset + raw.size] = raw
        pairs[...] = flat.reshape(pairs.shape)

    # ---- sizes and addresses
    def nbytes(self):
        return self._nbytes

    def size(self):
        return self._nbytes

    def __len__(self):
        return self._nbytes

    def data_ptr(self):
        return self._ptr

    def element_size(self):
        return 1

    @property
    def dtype(self):
        return _dt.uint8

    def type(self, dtype=None, non_blocking=False):
        return "torch.storage.UntypedStorage"

    def untyped(self):
        return self

    # ---- elements
    def _index(self, idx, n):
        if not isinstance(idx, int) or isinstance(idx, bool):
            raise RuntimeError(f"can't index a {type(self).__name__} with "
                               f"{type(idx).__name__}")
        if not -n <= idx < n:
            raise IndexError(f"index {idx} out of range for storage of size {n}")
        return idx % n

    def __getitem__(self, idx):
        a = self._elements(_dt.uint8)
        if isinstance(idx, slice):
            start, stop, step = idx.indices(self._nbytes)
            if step != 1:
                raise RuntimeError("Trying to slice with a step of "
                                   f"{step}, but only a step of 1 is supported")
            part = object.__new__(UntypedStorage)
            part._attach(self._tensor, False, (self._offset + start, max(stop - start, 0)))
            return part
        return int(a[self._index(idx, self._nbytes)])

    def __setitem__(self, idx, value):
        at = idx if isinstance(idx, slice) else self._index(idx, self._nbytes)

        def put(a):
            a[at] = value
        self._mutate(_dt.uint8, put)

    def tolist(self):
        return [int(v) for v in _host(self._elements(_dt.uint8))]

    def fill_(self, value):
        def fill(a):
            a[...] = value
        self._mutate(_dt.uint8, fill)
        return self

    def copy_(self, source, non_blocking=None):
        if source.nbytes() != self._nbytes:
            raise RuntimeError(f"size mismatch, this storage has {self._nbytes} bytes and "
                               f"the source {source.nbytes()}")
        src = source.untyped()._elements(_dt.uint8)

        def copy(dst):
            dst[...] = src if type(src) is type(dst) else _to_xp(src, dst)
        self._mutate(_dt.uint8, copy)
        return self

    def clone(self):
        s = UntypedStorage(self._nbytes, device=self.device)
        return s.copy_(self)

    def to(self, *, device=None, non_blocking=False):
        dev = _device_of(device)
        if dev == self.device:
            return self
        s = UntypedStorage(self._nbytes, device=dev)
        return s.copy_(self)

    def resize_(self, size):
        size = int(size)
        if not self._owned:
            raise RuntimeError(
                "gpujit: resize_ of a tensor's storage is not supported (PyTorch reallocates "
                "it under every tensor viewing it; gpujit's tensors are NumPy/CuPy arrays "
                "that cannot follow). Resize the tensor (x.resize_) or make a new one")
        old = self._elements(_dt.uint8)
        t = _new_tensor(size, _dt.uint8, self.device)
        n = min(size, self._nbytes)
        t._data[:n] = old[:n]
        self._attach(t, owned=True)
        return self

    def __eq__(self, other):
        return isinstance(other, UntypedStorage) and other._ptr == self._ptr

    def __hash__(self):
        return hash(self._ptr)

    def __str__(self):
        return _pretty(self._values(), f"[torch.storage.UntypedStorage(device={self.device}) "
                                      f"of size {self._nbytes}]")

    __repr__ = __str__


class TypedStorage(_StorageCommon):
    """Elements of one dtype: `TypedStorage(n, dtype=None, device=None)` (n zeros of the
    default dtype), `TypedStorage([1.0, 2.0], dtype=)`, `TypedStorage(wrap_storage=u,
    dtype=)` over an UntypedStorage, or a tensor's (`x.storage()`)."""

    def __init__(self, *args, device=None, dtype=None, wrap_storage=None):
        self.dtype = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
        if wrap_storage is not None:
            if args:
                raise RuntimeError("TypedStorage(): No positional arguments should be given "
                                   "when using 'wrap_storage'")
            if not isinstance(wrap_storage, UntypedStorage):
                raise TypeError("TypedStorage(): Argument 'wrap_storage' must be "
                                f"UntypedStorage, but got {type(wrap_storage)}")
            self._untyped_storage = wrap_storage
            self.device = wrap_storage.device
            return
        if len(args) > 1:
            raise TypeError(f"TypedStorage(): expected at most 1 argument, got {len(args)}")
        arg = args[0] if args else 0
        if not isinstance(arg, (int, list, tuple)) or isinstance(arg, bool):
            raise TypeError(f"TypedStorage(): expected a size (int) or a sequence, got "
                            f"{type(arg).__name__}")
        t = _new_tensor(arg, self.dtype, _device_of(device))
        self._untyped_storage = UntypedStorage._of(t)
        self._untyped_storage._owned = True
        self.device = t.device

    @classmethod
    def _of(cls, tensor):
        s = object.__new__(TypedStorage)
        s.dtype = tensor.dtype
        s._untyped_storage = UntypedStorage._of(tensor)
        s.device = tensor.device
        return s

    def _elements(self):
        return self._untyped_storage._elements(self.dtype)

    @property
    def _tensor(self):
        return self._untyped_storage._tensor

    # ---- sizes and addresses
    def size(self):
        return self._untyped_storage.nbytes() // self.dtype.itemsize

    def __len__(self):
        return self.size()

    def nbytes(self):
        return self._untyped_storage.nbytes()

    def element_size(self):
        return self.dtype.itemsize

    def data_ptr(self):
        return self._untyped_storage.data_ptr()

    def untyped(self):
        return self._untyped_storage

    def type(self, dtype=None, non_blocking=False):
        cls = _LEGACY_BY_DTYPE.get(self.dtype)
        name = cls.__name__ if cls is not None else "TypedStorage"
        return f"torch.{'cuda.' if self.is_cuda else ''}{name}"

    def pickle_storage_type(self):
        return _LEGACY_BY_DTYPE[self.dtype].__name__

    # ---- elements
    def __getitem__(self, idx):
        if isinstance(idx, slice):
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        n = self.size()
        return _python(_host(self._elements()[self._untyped_storage._index(idx, n)]))

    def __setitem__(self, idx, value):
        at = idx if isinstance(idx, slice) else self._untyped_storage._index(idx, self.size())

        def put(a):
            a[at] = value
        self._untyped_storage._mutate(self.dtype, put)

    def tolist(self):
        return _host(self._elements()).tolist()

    def fill_(self, value):
        def fill(a):
            a[...] = value
        self._untyped_storage._mutate(self.dtype, fill)
        return self

    def copy_(self, source, non_blocking=None):
        if isinstance(source, TypedStorage) and source.size() != self.size():
            raise RuntimeError(f"size mismatch, this storage has {self.size()} elements "
                               f"and the source {source.size()}")
        if isinstance(source, TypedStorage):
            src = source._elements()

            def copy(dst):
                dst[...] = (src if type(src) is type(dst) else _to_xp(src, dst)).astype(
                    self.dtype.np, copy=False)
            self._untyped_storage._mutate(self.dtype, copy)
        else:
            self._untyped_storage.copy_(source)
        return self

    def clone(self):
        return TypedStorage(self.size(), dtype=self.dtype, device=self.device).copy_(self)

    def to(self, *, device=None, non_blocking=False):
        return self._to_device(device)

    def _to_device(self, device):
        dev = _device_of(device)
        if dev == self.device:
            return self
        return TypedStorage(wrap_storage=self._untyped_storage.to(device=dev),
                            dtype=self.dtype)

    def _cast(self, dtype):
        if dtype is self.dtype:
            return self
        out = TypedStorage(self.size(), dtype=dtype, device=self.device)
        return out.copy_(self)

    def double(self):
        return self._cast(_dt.float64)

    def float(self):
        return self._cast(_dt.float32)

    def half(self):
        return self._cast(_dt.float16)

    def bfloat16(self):
        return self._cast(_dt.bfloat16)

    def long(self):
        return self._cast(_dt.int64)

    def int(self):
        return self._cast(_dt.int32)

    def short(self):
        return self._cast(_dt.int16)

    def char(self):
        return self._cast(_dt.int8)

    def byte(self):
        return self._cast(_dt.uint8)

    def bool(self):
        return self._cast(_dt.bool)

    def resize_(self, size):
        self._untyped_storage.resize_(int(size) * self.dtype.itemsize)
        return self

    def __eq__(self, other):
        return (isinstance(other, TypedStorage) and other.dtype is self.dtype
                and other._untyped_storage == self._untyped_storage)

    def __hash__(self):
        return hash((self._untyped_storage, self.dtype.name))

    def __str__(self):
        return _pretty(self._values(), f"[torch.storage.TypedStorage(dtype="
                                      f"{_torch_name(self.dtype)}, device={self.device}) of "
                                      f"size {self.size()}]")

    __repr__ = __str__


def _pretty(values, tail):
    """PyTorch's str of a storage: one element a line, then what it is."""
    if values is _NO_VALUES:
        return " ...\n" + tail
    return " " + "\n ".join(str(v) for v in values) + "\n" + tail


def _xp_of(a):
    if isinstance(a, np.ndarray):
        return np
    import cupy
    return cupy


def _host(a):
    return a if isinstance(a, (np.ndarray, np.generic)) else a.get()


def _to_xp(src, dst):
    """src moved to dst's array module (NumPy <-> CuPy)."""
    if isinstance(dst, np.ndarray):
        return _host(src)
    import cupy
    return cupy.asarray(src)


class _LegacyStorageMeta(type):
    """torch.FloatStorage & co.: calling one makes a TypedStorage of its dtype;
    isinstance(s, FloatStorage) is true for a float32 TypedStorage."""

    def __instancecheck__(cls, instance):
        if cls is _LegacyStorage:
            return isinstance(instance, TypedStorage)
        return isinstance(instance, TypedStorage) and instance.dtype is cls.dtype

    def __call__(cls, *args, device=None, wrap_storage=None):
        if wrap_storage is not None:
            return TypedStorage(wrap_storage=wrap_storage, dtype=cls.dtype)
        return TypedStorage(*args, device=device, dtype=cls.dtype)


class _LegacyStorage(metaclass=_LegacyStorageMeta):
    dtype = None


def _legacy(name, dtype):
    cls = _LegacyStorageMeta(name, (_LegacyStorage,), {
        "dtype": dtype, "__module__": "gpujit",
        "__doc__": f"A TypedStorage of {dtype.name} (PyTorch's legacy torch.{name})."})
    return cls


LEGACY = {name: _legacy(name, dt) for name, dt in (
    ("DoubleStorage", _dt.float64), ("FloatStorage", _dt.float32),
    ("HalfStorage", _dt.float16), ("LongStorage", _dt.int64), ("IntStorage", _dt.int32),
    ("ShortStorage", _dt.int16), ("CharStorage", _dt.int8), ("ByteStorage", _dt.uint8),
    ("BoolStorage", _dt.bool), ("ComplexFloatStorage", _dt.complex64),
    ("ComplexDoubleStorage", _dt.complex128))}
LEGACY["BFloat16Storage"] = _legacy("BFloat16Storage", _dt.bfloat16)
_LEGACY_BY_DTYPE = {cls.dtype: cls for cls in LEGACY.values()}


def storage_type_of(dtype):
    """The legacy storage class of a dtype (Tensor.storage_type()); None for one that has
    none (uint16 / uint32 / uint64, as PyTorch's)."""
    return _LEGACY_BY_DTYPE.get(dtype)
