"""`gpujit.save` / `gpujit.load`: objects holding tensors (state_dicts, optimizer states,
checkpoint dicts, lists, tensors) in PyTorch's `torch.save` format, so files move both ways
between gpujit and PyTorch.

The format (torch/serialization.py, "new zipfile serialization"): an uncompressed zip whose
entries sit under one top-level folder,

    <name>/data.pkl            the object, pickled (protocol 2); each tensor is a call of
                               torch._utils._rebuild_tensor_v2(storage, offset, size,
                               stride, requires_grad, hooks), each storage a persistent id
                               ("storage", torch.<Type>Storage, key, location, numel);
                               a sparse COO tensor torch._utils._rebuild_sparse_tensor(
                               layout, (indices, values, size, is_coalesced))
    <name>/data/<key>          a storage's raw bytes (little-endian)
    <name>/byteorder, .format_version, .storage_alignment, version

gpujit writes the pickle with its own picklers (the global names are PyTorch's, written
without importing torch) and reads it with an unpickler that maps PyTorch's names to
gpujit's. Views of one tensor share a storage in the file and share memory again after
loading, as in PyTorch. As PyTorch 2.6+, `load` defaults to weights_only=True: only tensors,
containers, numbers, strings, dtypes and devices are unpickled; anything else raises
UnpicklingError naming the global (weights_only=False unpickles arbitrary objects: only for
files you trust).
"""
from __future__ import annotations

import collections
import contextlib
import enum
import io
import os
import pickle
import sys
import threading
import warnings
import zipfile

from ..storage import TypedStorage, UntypedStorage

__all__ = ["save", "load"]

_STORAGE_DTYPES = {"Bool": "bool", "Byte": "uint8", "Char": "int8", "Short": "int16",
                   "Int": "int32", "Long": "int64", "Half": "float16", "Float": "float32",
                   "Double": "float64", "ComplexFloat": "complex64",
                   "ComplexDouble": "complex128", "BFloat16": "bfloat16"}
# the dtypes without a legacy storage class (torch.UInt16Storage does not exist): PyTorch's
# save writes their storages as UntypedStorage (bytes) and their tensors as
# torch._utils._rebuild_tensor_v3(..., dtype)
_UNTYPED_SAVED = frozenset({"UInt16", "UInt32", "UInt64"})
# (float8 too: its bits, read back into an ops.float8.Float8Tensor)
_FLOAT8_STORAGES = {"Float8_e4m3fn": "float8_e4m3fn", "Float8_e5m2": "float8_e5m2",
                    "Float8_e4m3fnuz": "float8_e4m3fnuz", "Float8_e5m2fnuz": "float8_e5m2fnuz",
                    "Float8_e8m0fnu": "float8_e8m0fnu"}
_UNTYPED_SAVED |= set(_FLOAT8_STORAGES)
# (TorchScript archives name them as typed storages, torch.Float8_e4m3fnStorage and
# torch.UInt16Storage, read back here: their elements' NumPy type)
_TYPED_IN_ARCHIVES = dict(_FLOAT8_STORAGES, UInt16="uint16", UInt32="uint32", UInt64="uint64")
_UNSUPPORTED_STORAGES = ("ComplexHalf",)
# quantized tensors' storages (gpujit/quantized.py): their integer representation, read by
# torch._utils._rebuild_qtensor with the quantizer
_QUANTIZED_STORAGES = {"QInt8": ("int8", "qint8"), "QUInt8": ("uint8", "quint8"),
                       "QInt32": ("int32", "qint32")}


class _Global:
    """A global of PyTorch's (module, name) written into the pickle as a GLOBAL opcode
    without importing it."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):      # pickle asks that a reduce function be callable
        raise TypeError(f"{self.module}.{self.name} is a marker for pickling")


class _TorchSize:
    """A torch.Size in the pickle (a sparse tensor's size, as PyTorch's save writes it)."""

    def __init__(self, seq):
        self.seq = seq


class _SavedStorage:
    def __init__(self, key, type_name, location, flat):
        self.key, self.type_name, self.location, self.flat = key, type_name, location, flat


# the types that reducer_override leaves to the pickler (exactly these: not subclasses)
_PLAIN = frozenset({type(None), bool, int, float, complex, str, bytes, tuple, list, dict})


def _dt_uint8():
    from .. import dtypes as _dt
    return _dt.uint8


class _Pickler(pickle._Pickler):
    """The pure-Python pickler (its save_global can be overridden) writing gpujit tensors,
    parameters, dtypes and devices as PyTorch's save does."""

    def __init__(self, file, protocol, fix_imports=True):
        super().__init__(file, protocol, fix_imports=fix_imports)
        self.storages = {}            # (address, dtype name) -> _SavedStorage
        self._hooks = collections.OrderedDict()

    def persistent_id(self, obj):
        from ..storage import UntypedStorage, TypedStorage
        if isinstance(obj, (UntypedStorage, TypedStorage)):
            obj = self._bare_storage(obj)     # (a storage pickled itself: its record)
        if isinstance(obj, _SavedStorage) and (obj.type_name in _UNTYPED_SAVED
                                               or getattr(obj, "untyped", False)):
            # (no legacy storage class: PyTorch writes an UntypedStorage of bytes)
            return ("storage", _Global("torch.storage", "UntypedStorage"), obj.key,
                    obj.location, int(obj.flat.nbytes))
        if isinstance(obj, _SavedStorage):
            return ("storage", _Global("torch", obj.type_name + "Storage"), obj.key,
                    obj.location, int(obj.flat.size))
        return None

    def reducer_override(self, obj):
        if type(obj) in _PLAIN:
            return NotImplemented     # (the Python pickler asks for every object it saves)
        from ..tensor import Tensor
        from ..nn.parameter import Parameter
        from ..dtypes import dtype, MissingDtype, qscheme
        from ..device import device
        from ..dtypes import layout
        from .._sparse_coo import SparseCooTensor
        from .._sparse_csr import SparseCsrTensor
        if isinstance(obj, _Global):
            return obj.name                   # -> save_global
        if isinstance(obj, (dtype, MissingDtype, qscheme)):
            return obj.name                   # torch.float32 pickles as the global
        if isinstance(obj, device):
            return (_Global("torch", "device"), (str(obj),))
        if isinstance(obj, SparseCooTensor):
            return (_Global("torch._utils", "_rebuild_sparse_tensor"),
                    (obj.layout, (obj._indices(), obj._values().detach(),
                                  _TorchSize(obj.shape), obj.is_coalesced())))
        if isinstance(obj, SparseCsrTensor):
            return (_Global("torch._utils", "_rebuild_sparse_tensor"),
                    (obj.layout, (obj._csr_crow, obj._csr_col, obj.values(),
                                  _TorchSize(obj.shape))))
        if getattr(type(obj), "_nested_layout_name", None) == "jagged":
            # (torch's NestedTensor.__reduce_ex__: its class rebuilt from its values,
            # offsets, lengths and ragged dim; an empty metadata cache)
            values, offsets, lengths, ragged_idx = obj.__reduce__()[1]
            return (_Global("torch._tensor", "_rebuild_from_type_v2"), (
                _Global(_NJT, "_rebuild_njt"), _Global(_NJT, "NestedTensor"),
                ({"values": values, "offsets": offsets, "lengths": lengths,
                  "_ragged_idx": ragged_idx, "_metadata_cache": {},
                  "requires_grad": obj.requires_grad},), {}))
        if getattr(type(obj), "_nested_layout", False):      # (gpujit/nested)
            return (_Global("torch._utils", "_rebuild_nested_tensor"), obj.__reduce__()[1])
        if isinstance(obj, _TorchSize):
            return (_Global("torch", "Size"), (tuple(obj.seq),))
        from ..tensor import Size
        if isinstance(obj, Size):           # (torch.Size's reduce: torch.Size(tuple))
            return (_Global("torch", "Size"), (tuple(obj),))
        if isinstance(obj, layout):         # (torch.sparse_coo: as PyTorch's save writes it)
            return (_Global("torch.serialization", "_get_layout"), (repr(obj),))
        if getattr(obj, "is_quantized", False) is True:
            return self._qtensor(obj)
        if isinstance(obj, Parameter):
            args = (Tensor.detach(obj), obj.requires_grad, self._hooks)
            if obj.__dict__:                # (its Python attributes, as torch's save)
                return (_Global("torch._utils", "_rebuild_parameter_with_state"),
                        args + (dict(obj.__dict__),))
            return (_Global("torch._utils", "_rebuild_parameter"), args)
        if isinstance(obj, Tensor) and obj.is_meta:
            # (torch's: no storage, its sizes and strides; storage sharing is not kept)
            return (_Global("torch._utils", "_rebuild_meta_tensor_no_storage"),
                    (obj.dtype, tuple(obj.shape), tuple(obj.stride()), obj.requires_grad))
        if isinstance(obj, Tensor):
            storage, offset = self._storage(obj)
            args = (storage, offset, tuple(obj.shape), tuple(obj.stride()),
                    obj.requires_grad, self._hooks)
            if obj.__dict__ and type(obj) is Tensor:
                # (a tensor with Python attributes: torch's _rebuild_from_type_v2 form)
                return (_Global("torch._tensor", "_rebuild_from_type_v2"),
                        (_Global("torch._utils", "_rebuild_tensor_v2"),
                         _Global("torch", "Tensor"), args, dict(obj.__dict__)))
            if obj.dtype.short_name in _UNTYPED_SAVED:     # (its dtype is an argument)
                return (_Global("torch._utils", "_rebuild_tensor_v3"), args + (obj.dtype,))
            return (_Global("torch._utils", "_rebuild_tensor_v2"), args)
        return NotImplemented

    def save_global(self, obj, name=None):
        from ..dtypes import dtype, MissingDtype, qscheme
        if isinstance(obj, _Global):
            module, name = obj.module, obj.name
        elif isinstance(obj, (dtype, MissingDtype, qscheme)):     # (torch.qint8 too)
            module, name = "torch", obj.name
        else:
            return super().save_global(obj, name)
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("utf-8"))
        self.memoize(obj)

    def _qtensor(self, t):
        """torch's Tensor._reduce_ex_internal of a quantized tensor: _rebuild_qtensor of
        its typed storage (torch.QUInt8Storage ...), offset, size, stride and quantizer
        parameters (a per-channel one, float qparams too, named per_channel_affine)."""
        from .. import dtypes as _dt
        storage, offset = self._storage(t)
        if t.qscheme() is _dt.per_tensor_affine:
            params = (_Global("torch", "per_tensor_affine"), t.q_scale(), t.q_zero_point())
        else:
            params = (_Global("torch", "per_channel_affine"), t.q_per_channel_scales(),
                      t.q_per_channel_zero_points(), t.q_per_channel_axis())
        return (_Global("torch._utils", "_rebuild_qtensor"),
                (storage, offset, tuple(t.shape), tuple(t.stride()), params,
                 t.requires_grad, self._hooks))

    def _bare_storage(self, s):
        """The record of a storage saved as itself (torch.save(x.untyped_storage())): its
        tensor's record where it is that tensor's whole storage in its dtype (shared with
        the tensors saved beside it, as PyTorch's), else a record of its own elements (an
        UntypedStorage's bytes: torch.storage.UntypedStorage, loaded as uint8)."""
        from ..storage import UntypedStorage
        untyped = isinstance(s, UntypedStorage)
        u = s if untyped else s.untyped()
        t = u._tensor
        dt = _dt_uint8() if untyped else s.dtype
        if t.dtype is dt and u._offset == 0 and t._device.type != "meta":
            return self._storage(t)[0]
        flat = u._bytes() if untyped else s._elements()
        if t._device.type == "meta":
            raise RuntimeError("gpujit.save: a bare meta storage cannot be saved")
        addr = (flat.__array_interface__["data"][0] if hasattr(flat, "__array_interface__")
                else flat.data.ptr)
        k = (addr, flat.size, "untyped" if untyped else dt.name)
        rec = self.storages.get(k)
        if rec is None:
            rec = _SavedStorage(str(len(self.storages)), "Byte" if untyped else dt.short_name,
                                str(s.device), flat)
            # (uint16 / float8 have no typed storage class in torch: their bytes, untyped)
            rec.untyped = untyped or dt.short_name in _UNTYPED_SAVED
            self.storages[k] = rec
        return rec

    def _storage(self, t):
        from ..ops.views_strided import storage_of
        a = t._data
        if t._device.type == "meta":
            return self._meta_storage(t)
        flat, offset = storage_of(a)
        addr = (flat.__array_interface__["data"][0] if hasattr(flat, "__array_interface__")
                else flat.data.ptr)
        k = (addr, flat.size, t.dtype.name)
        s = self.storages.get(k)
        if s is None:
            s = _SavedStorage(str(len(self.storages)), t.dtype.short_name, str(t.device), flat)
            self.storages[k] = s
        return s, offset


def _meta_storage(self, t):
    """A meta tensor's storage in a TorchScript archive, as PyTorch writes it: location
    'meta', its elements counted, no bytes."""
    from .._meta import MetaArray
    a = t._data
    root = a if a.base is None else a.base
    base = getattr(t, "_base", None)
    if base is not None and base._device.type == "meta":
        root = base._data
    k = ("meta", id(root), t.dtype.name)
    s = self.storages.get(k)
    if s is None:
        n = max(root.extent(), a.extent()) // a.dtype.itemsize
        s = _SavedStorage(str(len(self.storages)), t.dtype.short_name, "meta",
                          MetaArray((n,), a.dtype))
        s.root = root           # (kept alive: its id is the key)
        self.storages[k] = s
    return s, a.offset


_Pickler._meta_storage = _meta_storage


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save obj (tensors, nn.Module state_dicts, optimizer states, dicts/lists/tuples of
    them, numbers, strings) to f (a path or a writable binary file) in torch.save's format."""
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError("gpujit.save: only the standard pickle module is supported")
    if pickle_protocol < 2:
        raise ValueError(f"gpujit.save: pickle_protocol must be 2 or more, got {pickle_protocol}")
    if not _use_new_zipfile_serialization:
        if _serialization_tls.skip_data:
            raise RuntimeError(
                "Cannot use skip_data=True with _use_new_zipfile_serialization=False")
        return _legacy_save(obj, f, pickle_protocol)
    buf = io.BytesIO()
    pickler = _Pickler(buf, pickle_protocol)
    pickler.dump(obj)
    if isinstance(f, (str, os.PathLike)):
        stem = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        name = "".join(c if c.isalnum() or c in "_-" else "_" for c in stem) or "archive"
    else:
        name = "archive"
    records = [("data.pkl", buf.getvalue()), (".format_version", b"1"),
               (".storage_alignment", b"64")]
    if not _disable_byteorder_record:
        records.append(("byteorder", sys.byteorder.encode()))
    records += storage_records(pickler, "data")
    records.append(("version", b"3\n"))
    write_records(f, name, records, check_parent=True)   # (torch.save's words)


def storage_records(pickler, folder):
    """[(folder/<key>, little-endian bytes)] of the storages a _Pickler wrote."""
    if _serialization_tls.skip_data:        # (skip_data(): the space, not the bytes)
        return [(f"{folder}/{s.key}", bytes(int(s.flat.size) * _SAVED_ITEMSIZE.get(
            s.type_name, s.flat.dtype.itemsize))) for s in pickler.storages.values()]
    return [(f"{folder}/{s.key}", _storage_bytes(s)) for s in pickler.storages.values()]


_SAVED_ITEMSIZE = {"BFloat16": 2}      # (a bfloat16 storage's float32 carrier: 2 bytes each)


# ---------------------------------------------------------------- torch.serialization's
# switches: skip_data(), the fallback byte order of files without a byteorder record

class _SerializationTLS(threading.local):
    skip_data = False
    materialize_fake_tensors = False


_serialization_tls = _SerializationTLS()


class skip_data:
    """Within the block torch.save writes storages' space without their bytes (zeros)
    and torch.load does not read them (the tensors hold zeros). `materialize_fake_tensors`
    is accepted as PyTorch's (gpujit has no fake tensors)."""

    def __init__(self, materialize_fake_tensors: bool = False):
        self.materialize_fake_tensors = materialize_fake_tensors

    def __enter__(self):
        self._old = (_serialization_tls.skip_data, _serialization_tls.materialize_fake_tensors)
        _serialization_tls.skip_data = True
        _serialization_tls.materialize_fake_tensors = self.materialize_fake_tensors

    def __exit__(self, type, value, tb):
        _serialization_tls.skip_data, _serialization_tls.materialize_fake_tensors = self._old


class LoadEndianness(enum.Enum):
    NATIVE = 1
    LITTLE = 2
    BIG = 3


_load_endianness = [None]


def get_default_load_endianness():
    """The byte order a load assumes for a file without a byteorder record (None, the
    default, and LITTLE: little-endian; NATIVE: this machine's)."""
    return _load_endianness[0]


def set_default_load_endianness(endianness):
    if not isinstance(endianness, LoadEndianness) and endianness is not None:
        raise TypeError("Invalid argument type in function set_default_load_endianness")
    _load_endianness[0] = endianness


def _storage_bytes(s):
    flat = s.flat
    if s.location == "meta":        # (a meta storage: no bytes, as PyTorch writes it)
        return b""
    host = flat if s.location == "cpu" else flat.get()
    if s.type_name == "BFloat16":       # (2-byte storages: the bits of the float32
        import numpy as np                              # carrier, ops/bfloat16_support)
        from ..ops.bfloat16_support import bits_of
        host = bits_of(np, host)
    return host.astype(host.dtype.newbyteorder("<"), copy=False).tobytes()


class _LegacyPickler(_Pickler):
    """torch.save(..., _use_new_zipfile_serialization=False)'s persistent ids: a typed
    storage's ("storage", torch.FloatStorage, key, location, numel, None)."""

    def persistent_id(self, obj):
        pid = super().persistent_id(obj)
        return None if pid is None else pid + (None,)


def _legacy_save(obj, f, protocol):
    """obj in torch's legacy (non-zip) format: torch.serialization._legacy_save's pickles
    (the magic number, protocol 1001, the system info, the object, the sorted storage
    keys), then each storage's element count (int64, little-endian) and bytes."""
    import struct
    buf = io.BytesIO()
    for head in (_LEGACY_MAGIC, _LEGACY_PROTOCOL,
                 {"protocol_version": _LEGACY_PROTOCOL, "little_endian": True,
                  "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(head, buf, protocol=protocol)
    pickler = _LegacyPickler(buf, protocol)
    pickler.dump(obj)
    stores = sorted(pickler.storages.values(), key=lambda st: st.key)
    pickle.dump([st.key for st in stores], buf, protocol=protocol)
    for st in stores:
        data = _storage_bytes(st)
        numel = len(data) if st.type_name in _UNTYPED_SAVED or getattr(st, "untyped", False) \
            else int(st.flat.size)
        buf.write(struct.pack("<q", numel))
        buf.write(data)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(buf.getvalue())
    else:
        f.write(buf.getvalue())


def write_records(f, name, records, check_parent=False):
    """A zip of (entry, bytes) records under name/ to f (a path or a binary file), each
    entry's data 64-byte aligned as PyTorch's writer does."""
    opened = isinstance(f, (str, os.PathLike))
    if opened and check_parent:
        parent = os.path.dirname(os.fspath(f))
        if parent and not os.path.isdir(parent):
            raise RuntimeError(f"Parent directory {parent} does not exist.")
    fh = open(f, "wb") if opened else f
    try:
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as z:
            for rec, data in records:
                _write_aligned(z, f"{name}/{rec}", data)
    finally:
        if opened:
            fh.close()


def _write_aligned(z, arcname, data, alignment=64):
    """A stored zip entry whose data starts at a multiple of `alignment` in the file (as
    PyTorch's writer pads with an extra field), so readers may map storages in place."""
    info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    header = 30 + len(arcname.encode("utf-8"))
    start = z.fp.tell() + header
    pad = (-(start + 4)) % alignment
    info.extra = b"FB" + pad.to_bytes(2, "little") + b"Z" * pad
    z.writestr(info, data)


# ====================================================================== load

class _StorageType:
    def __init__(self, name):
        kind = name[:-len("Storage")]
        if kind in _UNSUPPORTED_STORAGES:
            raise pickle.UnpicklingError(
                f"gpujit.load: the file holds a {kind} tensor (torch.{name}); gpujit has no "
                f"{kind} dtype")
        self.dtype_name = _STORAGE_DTYPES.get(kind, "uint8")   # UntypedStorage: bytes
        self.quantized = None
        if kind in _QUANTIZED_STORAGES:     # (the integer representation: gpujit/quantized)
            self.dtype_name, self.quantized = _QUANTIZED_STORAGES[kind]
        self.float8 = _FLOAT8_STORAGES.get(kind)        # (its bits: ops/float8.py)
        if kind in _TYPED_IN_ARCHIVES and self.float8 is None:
            self.dtype_name = _TYPED_IN_ARCHIVES[kind]
        self.bf16 = self.dtype_name == "bfloat16"
        if self.bf16:
            self.dtype_name = "int16"       # (the bits; the tensor's values: float32 carrier)


class _LoadedStorage(TypedStorage):
    """A storage read from the file: a flat array on its device. `map_location` callables
    get one of these, as PyTorch's get a storage, and may return it or `.cpu()`/`.cuda()`.
    A storage saved bare (torch.save(x.storage())) loads as one: a TypedStorage, as
    PyTorch's (an UntypedStorage's: of uint8), over the memory its tensors view."""

    def __init__(self, flat, device, dtype=None):
        from .. import dtypes as _dt
        self.flat, self.device = flat, device
        self.dtype = dtype or _dt.from_numpy_dtype(flat.dtype)   # (bfloat16: a float32 flat)
        self._typed = None

    @property
    def _untyped_storage(self):
        # (made when first asked: most loaded storages only rebuild tensors)
        if self._typed is None:
            from ..ops.registry import wrap
            from .. import dtypes as _dt
            if self.dtype in _dt.FLOAT8_TYPES:
                from ..ops.float8 import make
                t = make(self.flat, self.dtype, self.device)
            else:
                t = wrap(self.flat, self.dtype, self.device)
            self._typed = UntypedStorage._of(t)
        return self._typed

    def _moved(self, device):
        from ..device import resolve
        dev = resolve(device)      # 'cuda' is the current GPU, cuda:N (as a tensor's device)
        if dev is self.device:
            return self
        from ..ops.registry import wrap
        t = wrap(self.flat, self.dtype, self.device).to(dev)
        return _LoadedStorage(t._data, dev, self.dtype)

    def cpu(self):
        return self._moved("cpu")

    def cuda(self, device=None):
        return self._moved("cuda" if device is None else f"cuda:{int(device)}"
                           if isinstance(device, int) else device)

    def size(self):
        return int(self.flat.size)

    def __len__(self):
        return int(self.flat.size)


def _rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad):
    """torch._utils._rebuild_meta_tensor_no_storage: a meta tensor of these sizes and
    strides (torch.save of a meta tensor)."""
    import gpujit
    return gpujit.empty_strided(size, stride, dtype=dtype, device="meta",
                                requires_grad=requires_grad)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    from ..ops.registry import wrap, host_made
    from .. import dtypes as _dt
    flat = storage.flat
    isz = flat.dtype.itemsize
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if storage.device.type == "meta":       # (a meta tensor: its sizes and strides)
        from .._meta import MetaArray
        t = host_made(wrap(MetaArray(size, flat.dtype, stride, int(storage_offset)),
                           storage.dtype, storage.device))
        return t.requires_grad_(True) if requires_grad else t
    if all(size):
        need = int(storage_offset) + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if need > flat.size:
            raise RuntimeError(f"gpujit.load: a tensor of size {list(size)}, stride "
                               f"{list(stride)} and offset {storage_offset} does not fit its "
                               f"storage of {flat.size} elements (a corrupt file?)")
    start = flat[min(int(storage_offset), flat.size):]
    xp = sys.modules["cupy"] if storage.device.type == "cuda" else __import__("numpy")
    a = xp.lib.stride_tricks.as_strided(start, shape=size,
                                        strides=tuple(s * isz for s in stride))
    dt = getattr(storage, "dtype", None) or _dt.from_numpy_dtype(flat.dtype)
    if dt in _dt.FLOAT8_TYPES:      # (a float8 tensor over the bits: ops/float8.py)
        from ..ops.float8 import make
        t = host_made(make(a, dt, storage.device))
    else:
        t = host_made(wrap(a, dt, storage.device))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    """torch._utils._rebuild_tensor_v3: an untyped (bytes) storage read as dtype."""
    flat = storage.flat
    from .. import dtypes as _dt
    if dtype in _dt.FLOAT8_TYPES:       # (the bytes are the bits: ops/float8.py)
        from ..ops.float8 import make
        t = _rebuild_tensor_v2(_LoadedStorage(flat.view("uint8"), storage.device),
                               storage_offset, size, stride, False, backward_hooks, metadata)
        t = make(t._data, dtype, t._device)
        return t.requires_grad_(True) if requires_grad else t
    if flat.dtype != dtype.np:
        storage = _LoadedStorage(flat.view(dtype.np), storage.device)
    return _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
                              backward_hooks, metadata)


def _rebuild_qtensor(storage, storage_offset, size, stride, quantizer_params, requires_grad,
                     backward_hooks):
    """torch._utils._rebuild_qtensor: a quantized tensor (gpujit/quantized.py) over a
    QInt8 / QUInt8 / QInt32 storage; a per-channel quantizer with floating zero points is
    per_channel_affine_float_qparams, as torch's _empty_per_channel_affine_quantized makes."""
    import numpy as np
    from .. import dtypes as _dt
    from ..quantized import rebuild
    qdtype = getattr(storage, "quantized", None)
    if qdtype is None:
        raise pickle.UnpicklingError("gpujit.load: a quantized tensor over a storage that is "
                                     "not a quantized one")
    bits = _rebuild_tensor_v2(storage, storage_offset, size, stride, False, None)._data
    scheme = quantizer_params[0]
    if scheme is _dt.per_tensor_affine:
        _, scale, zp = quantizer_params
        return rebuild(bits, qdtype, str(storage.device), scheme.name, float(scale), int(zp))
    if scheme not in (_dt.per_channel_affine, _dt.per_channel_affine_float_qparams):
        raise RuntimeError(f"Can't deserialize quantized tensor with qscheme {scheme}")
    _, scales, zps, axis = quantizer_params
    if not 0 <= axis < len(size):
        raise ValueError(f"_rebuild_qtensor: per_channel axis {axis} out of range for size "
                         f"{tuple(size)}")

    def host(v):
        return np.asarray(v.tolist() if not isinstance(v, list) else v)
    sc, zp = host(scales), host(zps)
    if sc.size != int(size[axis]) or zp.size != int(size[axis]):
        raise ValueError("_rebuild_qtensor: per_channel scales/zero_points length must equal "
                         f"size[axis]={int(size[axis])}, got scales={sc.size}, "
                         f"zero_points={zp.size}")
    if zp.dtype.kind == "f":
        return rebuild(bits, qdtype, str(storage.device), "per_channel_affine_float_qparams",
                       sc.astype(np.float32), zp.astype(np.float32), int(axis))
    return rebuild(bits, qdtype, str(storage.device), "per_channel_affine",
                   sc.astype(np.float64), zp.astype(np.int64), int(axis))


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _rebuild_tensor_v2(storage, storage_offset, size, stride, False, None)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    from ..nn.parameter import Parameter
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad, backward_hooks)
    for k, v in (state or {}).items():
        setattr(p, k, v)
    return p


def _rebuild_from_type_v2(func, new_type, args, state):
    """torch._tensor._rebuild_from_type_v2: func(*args) as new_type, its Python attributes
    set from state (a dict, or torch's (dict, slots) pair)."""
    ret = func(*args)
    if getattr(type(ret), "_nested_layout", False):
        return ret          # (torch's jagged NestedTensor: its state is its own internals)
    if new_type is not None and type(ret) is not new_type:
        ret = ret.as_subclass(new_type)
    if isinstance(state, tuple) and len(state) == 2:
        state = {**(state[0] or {}), **(state[1] or {})}
    for k, v in (state or {}).items():
        setattr(ret, k, v)
    return ret


_NJT = "torch.nested._internal.nested_tensor"       # (torch's jagged NestedTensor's module)


def _rebuild_njt(kwargs):
    """torch.nested._internal.nested_tensor._rebuild_njt: the jagged nested tensor of the
    saved values, offsets, lengths and ragged dim; of its metadata cache, the min / max
    seqlen (what to_padded_tensor pads to)."""
    from ..nested._jagged import make_jagged
    nt = make_jagged(kwargs["values"], kwargs["offsets"], kwargs.get("lengths"),
                     kwargs.get("_ragged_idx", 1))
    cache = kwargs.get("_metadata_cache") or {}
    seqlens = [cache.get(k) for k in ("min_seqlen", "max_seqlen")]
    if any(v is not None for v in seqlens):
        nt._jg_j.seqlens = tuple(None if v is None else int(v.shape[0]) if v.dim() else
                                 int(v) for v in seqlens)
    return nt.requires_grad_(bool(kwargs.get("requires_grad", False)))


class _DimRange:
    """torch._dynamo.decorators._DimRange, which torch's saved jagged tensors carry in
    their metadata cache (dropped on load): its state is kept, unused."""

    def __setstate__(self, state):
        self.state = state


# the globals of torch's saved jagged tensors, which torch.load(weights_only=True) refuses
# in these words
_NJT_GLOBALS = {(_NJT, "_rebuild_njt"), (_NJT, "NestedTensor"),
                ("torch._dynamo.decorators", "_DimRange")}


def _torch_globals():
    import gpujit
    from .._sparse_coo import rebuild_sparse_tensor
    from ..nested._tensor import rebuild_nested_tensor
    from ..nested._jagged import JaggedTensor
    from .. import dtypes as _dt
    g = {("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
         ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
         ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
         ("torch._utils", "_rebuild_qtensor"): _rebuild_qtensor,
         ("torch.storage", "UntypedStorage"): "UntypedStorage",
         ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
         ("torch._utils", "_rebuild_meta_tensor_no_storage"): _rebuild_meta_tensor_no_storage,
         ("torch._utils", "_rebuild_sparse_tensor"): rebuild_sparse_tensor,
         ("torch._utils", "_rebuild_nested_tensor"): rebuild_nested_tensor,
         ("torch.serialization", "_get_layout"): _get_layout,
         ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
         ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
         (_NJT, "_rebuild_njt"): _rebuild_njt, (_NJT, "NestedTensor"): JaggedTensor,
         ("torch._dynamo.decorators", "_DimRange"): _DimRange,
         ("torch", "Tensor"): gpujit.Tensor,
         ("torch", "device"): gpujit.device,
         ("torch", "Size"): gpujit.Size,
         ("collections", "OrderedDict"): collections.OrderedDict,
         ("collections", "Counter"): collections.Counter,
         ("builtins", "set"): set, ("builtins", "frozenset"): frozenset,
         ("builtins", "complex"): complex, ("builtins", "slice"): slice,
         ("builtins", "bytearray"): bytearray, ("_codecs", "encode"): _codecs_encode}
    for kind in list(_STORAGE_DTYPES) + list(_UNSUPPORTED_STORAGES) + ["Untyped"] + list(
            _TYPED_IN_ARCHIVES) + list(_QUANTIZED_STORAGES):
        g[("torch", kind + "Storage")] = kind + "Storage"     # made lazily: see find_class
    for d in _dt.EVERY + (_dt.bfloat16,) + _dt.FLOAT8_TYPES:
        g[("torch", d.name)] = d
    for q in _dt.QUANTIZED_TYPES + (_dt.per_tensor_affine, _dt.per_channel_affine,
                                    _dt.per_tensor_symmetric, _dt.per_channel_symmetric,
                                    _dt.per_channel_affine_float_qparams):
        g[("torch", q.name)] = q        # (quantized tensors' dtypes and qschemes)
    for alias in ("half", "float", "double", "short", "int", "long", "cfloat", "cdouble"):
        g[("torch", alias)] = getattr(_dt, alias)
    return g


def _get_layout(name):
    """torch.serialization._get_layout: the layout named "torch.sparse_coo" ..."""
    from .. import dtypes as _dt
    for lay in (_dt.strided,) + _dt.SPARSE_LAYOUTS:
        if repr(lay) == name:
            return lay
    raise pickle.UnpicklingError(f"gpujit.load: unknown layout {name!r}")


def _codecs_encode(s, encoding="latin1"):
    import codecs
    return codecs.encode(s, encoding)


class UnpicklerMixin:
    """torch.save's tensors, storages and globals for an Unpickler class: pickle's C
    Unpickler (_Unpickler below) or its Python one (TorchScript archives, whose pickles
    need a REDUCE of their own: serialization/torch_archive.py)."""

    def __init__(self, file, archive, restore, weights_only):
        super().__init__(file, encoding="utf-8")
        self._archive, self._restore, self._weights_only = archive, restore, weights_only
        self._globals = _torch_globals()
        self._loaded = {}

    def find_class(self, module, name):
        if module == "__builtin__":          # protocol 2's name (Python 2) for builtins
            module = "builtins"
        v = self._globals.get((module, name))
        if self._weights_only and (module, name) in _NJT_GLOBALS:
            raise pickle.UnpicklingError(
                "Weights only load failed. ``torch.nested`` and ``torch._dynamo`` must be "
                "imported to load nested jagged tensors (NJTs)")
        if isinstance(v, str):
            return _StorageType(v)
        if self._weights_only and module in _BLOCKED_MODULES:
            # (torch 2.13: never, even allowlisted)
            raise pickle.UnpicklingError(_blocked_words(f"{module}.{name}", module))
        if v is not None and not (self._weights_only and (module, name) in _NOT_WEIGHTS):
            return v
        if self._weights_only:
            allowed = _user_allowed_globals().get(f"{module}.{name}")
            if allowed is not None:
                return allowed
            raise pickle.UnpicklingError(_weights_only_words(f"{module}.{name}"))
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"gpujit.load: unknown persistent id {pid!r}")
        _, stype, key, location, numel = pid
        if key not in self._loaded:
            if not isinstance(stype, _StorageType):
                raise pickle.UnpicklingError(f"gpujit.load: {stype!r} is not a storage type")
            if str(location).startswith("meta"):
                self._loaded[key] = _meta_loaded(stype, numel)
                return self._loaded[key]
            flat = self._archive.flat(key, stype, int(numel))
            self._loaded[key] = _restored(self._restore, flat, stype, location)
        return self._loaded[key]


def _flat_of(data, stype, numel, byteorder, what):
    """The flat array of a storage's bytes (`numel` elements of stype's dtype)."""
    import numpy as np
    dt = np.dtype(stype.dtype_name)
    if len(data) < numel * dt.itemsize:
        raise RuntimeError(f"gpujit.load: storage {what} holds {len(data)} bytes, "
                           f"{numel * dt.itemsize} expected (a truncated file?)")
    return np.frombuffer(data, dtype=dt.newbyteorder(byteorder), count=numel).astype(dt)


def _meta_loaded(stype, numel):
    """A storage saved from the meta device (no bytes in the file): a meta one."""
    import numpy as np
    from .._meta import MetaArray, META
    from .. import dtypes as _dt
    dt = _dt.bfloat16 if stype.bf16 else _dt.from_numpy_dtype(np.dtype(stype.dtype_name))
    return _LoadedStorage(MetaArray((int(numel),), np.dtype(stype.dtype_name)), META, dt)


def _restored(restore, flat, stype, location):
    """The storage of flat (read as stype's elements) where map_location puts it."""
    dtype = None
    if stype.float8 is not None:
        from .. import dtypes as _dt
        dtype = _dt.to_dtype(stype.float8)
    if stype.bf16:
        import numpy as np
        from ..ops.bfloat16_support import from_bits
        from .. import dtypes as _dt
        flat, dtype = from_bits(np, flat), _dt.bfloat16
    out = restore(_LoadedStorage(flat, _cpu(), dtype), str(location))
    if stype.quantized is not None:
        out.quantized = stype.quantized
    return out


class _Unpickler(UnpicklerMixin, pickle.Unpickler):
    pass


# ---------------------------------------------------------------- the legacy format
# torch.save(..., _use_new_zipfile_serialization=False): pickles one after another (the
# magic number, protocol version 1001, the system info, the object with storages as
# persistent ids ("storage", torch.FloatStorage, key, location, numel, view), the sorted
# storage keys), then each storage: its element count (int64) and its bytes.

_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_LEGACY_PROTOCOL = 1001


class _LegacyUnpickler(UnpicklerMixin, pickle.Unpickler):
    """The object's pickle of a legacy file: `storages` (key -> its flat array, read
    after the object's pickle) None while the pickle is first read for its storages'
    types and sizes (`seen`, in order)."""

    def __init__(self, file, restore, weights_only, storages):
        super().__init__(file, None, restore, weights_only)
        self.storages, self.seen = storages, {}

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and len(pid) == 4 and pid[0] == "module":
            return pid[1]                   # (a module class saved by reference)
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"gpujit.load: unknown persistent id {pid!r}")
        _, stype, key, location, numel, view = pid
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError(f"gpujit.load: {stype!r} is not a storage type")
        if view is not None:
            raise pickle.UnpicklingError("gpujit.load: storage views of the legacy format "
                                         "(PyTorch before 1.0) are not supported")
        self.seen.setdefault(key, (stype, int(numel)))
        if key not in self._loaded:
            import numpy as np
            flat = self.storages[key] if self.storages is not None else \
                np.zeros(int(numel), np.dtype(stype.dtype_name))
            self._loaded[key] = _restored(self._restore, flat, stype, location)
        return self._loaded[key]


def _legacy_load(fh, restore, weights_only, label):
    def first(what):
        at = fh.tell()
        try:
            return pickle.load(fh)
        except EOFError:
            raise EOFError() from None          # (an empty file: torch's error)
        except Exception as e:
            if what != "magic number":
                raise RuntimeError(f"Invalid {what}; corrupt file?") from None
            if not weights_only:
                raise pickle.UnpicklingError(str(e)) from None
            fh.seek(at)
            op = fh.read(1)
            raise pickle.UnpicklingError(
                f"Weights only load failed. {_UNSAFE}\nPlease file an issue with the "
                f"following so that we can make `weights_only=True` compatible with your "
                f"use case: WeightsUnpickler error: \n\nUnsupported operand "
                f"{op[0] if op else 0}{_WEIGHTS_TAIL}") from None
    if first("magic number") != _LEGACY_MAGIC:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = first("protocol version")
    if version != _LEGACY_PROTOCOL:
        raise RuntimeError(f"Invalid protocol version: {version}")
    info = first("system info")
    little = not isinstance(info, dict) or info.get("little_endian", True)
    start = fh.tell()
    probe = _LegacyUnpickler(fh, lambda st, loc: st, weights_only, None)
    probe.load()                        # (the storages' types and sizes)
    keys = pickle.load(fh)
    storages = {}
    for key in keys:
        if key not in probe.seen:
            raise RuntimeError(f"gpujit.load: {label}: storage {key!r} is not used by the "
                               f"saved object (a corrupt file?)")
        stype, numel = probe.seen[key]
        head = fh.read(8)
        if len(head) != 8:
            raise RuntimeError(f"gpujit.load: {label} is truncated (storage {key!r})")
        n = int.from_bytes(head, "little" if little else "big", signed=True)
        import numpy as np
        size = np.dtype(stype.dtype_name).itemsize
        storages[key] = _flat_of(fh.read(n * size), stype, n, "<" if little else ">",
                                 repr(key))
        if n < numel:
            raise RuntimeError(f"gpujit.load: {label}: storage {key!r} holds {n} elements, "
                               f"{numel} expected (a corrupt file?)")
    end = fh.tell()
    fh.seek(start)
    out = _LegacyUnpickler(fh, restore, weights_only, storages).load()
    fh.seek(end)
    return out


def _cpu():
    import gpujit
    return gpujit.device("cpu")


class _Archive:
    """A torch.save zip archive's records; mapped: the file's path, whose storages are
    then memory-mapped copy-on-write (torch.load(..., mmap=True): MAP_PRIVATE, torch's
    default mmap option) rather than read."""

    def __init__(self, z, mapped=None):
        self.mapped = mapped
        names = z.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if not pkl:
            raise RuntimeError("gpujit.load: the zip archive has no <name>/data.pkl: not a "
                               "file written by torch.save / gpujit.save")
        self.z, self.prefix = z, pkl[0][:-len("data.pkl")]
        bo = self.prefix + "byteorder"
        if bo in names:
            mark = z.read(bo)
            if mark not in (b"little", b"big"):
                raise ValueError("Unknown endianness type: " + mark.decode())
            self.byteorder = "<" if mark == b"little" else ">"
        else:       # (no mark: set_default_load_endianness's fallback; None is little)
            fallback = get_default_load_endianness()
            self.byteorder = (">" if fallback is LoadEndianness.BIG or (
                fallback is LoadEndianness.NATIVE and sys.byteorder == "big") else "<")

    def read(self, rec):
        try:
            return self.z.read(self.prefix + rec)
        except KeyError:
            raise RuntimeError(f"gpujit.load: the archive has no record {rec!r} "
                               f"(a truncated or corrupt file?)") from None
        except zipfile.BadZipFile as e:
            # a stored record whose bytes changed since it was written (a file mapped
            # with MAP_SHARED and written through): torch's reader checks no CRC-32
            info = self.z.getinfo(self.prefix + rec)
            if "CRC" not in str(e) or info.compress_type != zipfile.ZIP_STORED:
                raise
            fp = self.z.fp
            fp.seek(info.header_offset)
            head = fp.read(30)
            fp.seek(info.header_offset + 30 + int.from_bytes(head[26:28], "little") +
                    int.from_bytes(head[28:30], "little"))
            return fp.read(info.file_size)

    def flat(self, key, stype, numel):
        if _serialization_tls.skip_data:       # (skip_data(): the storages are not read)
            import numpy as np
            return np.zeros(numel, np.dtype(stype.dtype_name))
        if self.mapped is not None and numel > 0:
            out = self._mapped(f"data/{key}", stype, numel)
            if out is not None:
                return out
        return _flat_of(self.read(f"data/{key}"), stype, numel, self.byteorder,
                        f"data/{key}")

    def _mapped(self, rec, stype, numel):
        """The storage's elements mapped from the file (None where they cannot be: a
        compressed entry, another byte order)."""
        import numpy as np
        try:
            info = self.z.getinfo(self.prefix + rec)
        except KeyError:
            return None
        dt = np.dtype(stype.dtype_name)
        if info.compress_type != zipfile.ZIP_STORED or self.byteorder != "=" and \
                np.dtype(dt.newbyteorder(self.byteorder)) != dt or \
                info.file_size < numel * dt.itemsize:
            return None
        with open(self.mapped, "rb") as fh:       # (the local header gives the data's start)
            fh.seek(info.header_offset)
            head = fh.read(30)
            if len(head) != 30 or head[:4] != b"PK\x03\x04":
                return None
            start = info.header_offset + 30 + int.from_bytes(head[26:28], "little") + \
                int.from_bytes(head[28:30], "little")
        # (MAP_SHARED: writes reach the file, as torch's mapping shared then)
        mode = "r+" if _MMAP_FLAGS[0] == _mmap.MAP_SHARED else "c"
        return np.memmap(self.mapped, dtype=dt, mode=mode, offset=start,
                         shape=(numel,)).view(np.ndarray)


import mmap as _mmap                           # noqa: E402

_MMAP_FLAGS = [_mmap.MAP_PRIVATE]


def get_default_mmap_options():
    """torch.serialization.get_default_mmap_options: the flags torch.load(..., mmap=True)
    maps a file with (mmap.MAP_PRIVATE unless set_default_mmap_options changed them)."""
    return _MMAP_FLAGS[0]


class set_default_mmap_options:
    """torch.serialization.set_default_mmap_options(flags), a function or a context
    manager: mmap.MAP_PRIVATE (copy-on-write, the default) or mmap.MAP_SHARED (writes
    to the loaded tensors reach the file)."""

    def __init__(self, flags):
        if flags != _mmap.MAP_PRIVATE and flags != _mmap.MAP_SHARED:
            raise ValueError("Invalid argument in function set_default_mmap_options, "
                             f"expected mmap.MAP_PRIVATE or mmap.MAP_SHARED, but got {flags}")
        self.prev = _MMAP_FLAGS[0]
        _MMAP_FLAGS[0] = flags

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _MMAP_FLAGS[0] = self.prev


# ---------------------------------------------------------------- storage locations
# torch.serialization's package registry: (priority, tagger, deserializer), lowest priority
# first; a tagger names a storage's location ('cpu', 'cuda:0'), a deserializer puts a loaded
# storage where a location tag says (None: not its location). register_package adds one
# (a device of the user's own); load's default map_location goes through them.

def _cpu_tag(obj):
    if obj.device.type == "cpu":
        return "cpu"
    return None


def _cuda_tag(obj):
    if obj.device.type == "cuda":
        return "cuda:" + str(obj.device.index or 0)
    return None


def validate_cuda_device(location):
    """The index of the CUDA device a location tag ('cuda', 'cuda:1', a device) names,
    RuntimeError (torch's words) where there is no such device."""
    import gpujit
    dev = gpujit.device(location)
    if not gpujit.cuda.is_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but "
            "torch.cuda.is_available() is False. If you are running on a CPU-only "
            "machine, please use torch.load with map_location=torch.device('cpu') to "
            "map your storages to the CPU.")
    index = dev.index if dev.index is not None else gpujit.cuda.current_device()
    count = gpujit.cuda.device_count()
    if index >= count:
        raise RuntimeError(
            f"Attempting to deserialize object on CUDA device {index} but "
            f"torch.cuda.device_count() is {count}. Please use torch.load with "
            f"map_location to map your storages to an existing device.")
    return index


def _cpu_deserialize(obj, location):
    if location == "cpu":
        return obj
    return None


def _cuda_deserialize(obj, location):
    if location.startswith("cuda"):
        index = validate_cuda_device(location)
        return obj._moved(f"cuda:{index}") if isinstance(obj, _LoadedStorage) \
            else obj.cuda(index)
    return None


def _meta_tag(obj):
    if obj.device.type == "meta":
        return "meta"
    return None


def _meta_deserialize(obj, location):
    """map_location='meta': the storage's size on the meta device, no bytes (torch's)."""
    if location == "meta":
        from .._meta import MetaArray, META
        if obj.device.type == "meta":
            return obj
        return _LoadedStorage(MetaArray(obj.flat.shape, obj.flat.dtype), META, obj.dtype)
    return None


_package_registry = [(10, _cpu_tag, _cpu_deserialize), (20, _cuda_tag, _cuda_deserialize),
                     (22, _meta_tag, _meta_deserialize)]


def register_package(priority, tagger, deserializer):
    """Add a (tagger, deserializer) pair for storages' locations, tried in the order of
    priority (lower first) before or after the CPU's (10) and CUDA's (20)."""
    _package_registry.append((priority, tagger, deserializer))
    _package_registry.sort(key=lambda e: e[0])


def _typename(obj):
    t = type(obj)
    if t is _LoadedStorage:
        return "torch.storage.UntypedStorage"
    return f"{t.__module__.replace('gpujit', 'torch')}.{t.__qualname__}"


def location_tag(storage):
    """The location tag ('cpu', 'cuda:0') that torch.save writes for a storage."""
    for _, tagger, _ in _package_registry:
        location = tagger(storage)
        if location:
            return location
    raise RuntimeError("don't know how to determine data location of " + _typename(storage))


def default_restore_location(storage, location):
    """`storage` where its location tag says, by the first registered deserializer that
    takes it (load's default map_location)."""
    for _, _, fn in _package_registry:
        result = fn(storage, location)
        if result is not None:
            return result
    raise RuntimeError("don't know how to restore data location of " + _typename(storage)
                       + " (tagged with " + location + ")")


def normalize_storage_type(storage_type):
    """The torch.<Name>Storage class of a storage type (by its name)."""
    import gpujit
    return getattr(gpujit, storage_type.__name__)


def _restore_location(map_location):
    """(storage, location tag) -> storage on the device PyTorch's load would pick."""
    import gpujit
    default = default_restore_location

    if map_location is None:
        return default
    if isinstance(map_location, dict):
        return lambda s, loc: default(s, str(map_location.get(loc, loc)))
    if isinstance(map_location, (str, gpujit.device)):
        return lambda s, loc: default(s, str(map_location))
    if callable(map_location):
        def call(s, loc):
            r = map_location(s, loc)
            if r is None:
                return default(s, loc)
            if not isinstance(r, _LoadedStorage):
                raise TypeError(f"map_location returned a {type(r).__name__}; it must "
                                f"return the storage it was given (or .cpu()/.cuda() of it)")
            return r
        return call
    # (torch.load's words: it calls what is neither a dict, str nor device)
    raise TypeError(f"'{type(map_location).__name__}' object is not callable")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved by gpujit.save or torch.save (the zipfile format) from f (a path
    or a readable binary file): tensors come back on the device they were saved from, or
    where map_location says ('cpu', a device, a dict of location -> location, or a
    callable(storage, location) as PyTorch's)."""
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError("gpujit.load: only the standard pickle module is supported")
    if weights_only is None:
        weights_only = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0") in ("0", "")
    opened = isinstance(f, (str, os.PathLike))
    fh = open(f, "rb") if opened else f
    try:
        start = fh.tell()
        if not zipfile.is_zipfile(fh):
            fh.seek(start)
            if mmap:
                f_name = f"{f}, " if isinstance(f, str) else ""
                raise RuntimeError(
                    f"mmap can only be used with files saved with `torch.save({f_name}"
                    f"_use_new_zipfile_serialization=True), please torch.save your "
                    f"checkpoint with this option in order to use mmap.")
            return _legacy_load(fh, _restore_location(map_location), weights_only,
                                getattr(fh, "name", "the file"))
        fh.seek(0)
        with zipfile.ZipFile(fh) as z:
            from .torch_archive import is_torch_archive
            names = z.namelist()
            top = {n.split("/", 1)[0] for n in names if "/" in n}
            if (any(n.endswith("/manifest.json") and n.count("/") == 1 for n in names)
                    and not any(n.endswith("/data.pkl") for n in names)) or \
                    (len(top) == 1 and is_torch_archive(names, next(iter(top)))):
                warnings.warn("'gpujit.load' received a zip file that looks like a "
                              "TorchScript archive dispatching to 'gpujit.jit.load' (call "
                              "'gpujit.jit.load' directly to silence this warning)",
                              UserWarning, stacklevel=2)
                if weights_only:
                    raise RuntimeError(      # (torch 2.13's words)
                        "Cannot use ``weights_only=True`` with TorchScript archives passed "
                        "to ``torch.load``. " + _UNSAFE)
                fh.seek(0)
                from .reader import load as jit_load
                return jit_load(fh, map_location=map_location)
            if mmap and not opened:
                raise ValueError("f must be a file path in order to use the mmap argument")
            archive = _Archive(z, os.fspath(f) if mmap else None)
            data = archive.read("data.pkl")
            up = _Unpickler(io.BytesIO(data), archive, _restore_location(map_location),
                            weights_only)
            return up.load()
    finally:
        if opened:
            fh.close()


# ---------------------------------------------------------------- weights_only allowlist
# torch.serialization.add_safe_globals / safe_globals / get_safe_globals /
# clear_safe_globals: globals (classes, functions; or (obj, "module.name") pairs) that a
# weights_only load may unpickle besides tensors, containers and numbers.

_SAFE_GLOBALS: list = []


def _global_path(g):
    if isinstance(g, tuple):
        return g[1]
    return f"{g.__module__}.{g.__qualname__}"


def _user_allowed_globals():
    return {_global_path(g): g[0] if isinstance(g, tuple) else g for g in _SAFE_GLOBALS}


def add_safe_globals(safe_globals):
    """Allow these globals in weights_only loads (torch.serialization.add_safe_globals)."""
    _SAFE_GLOBALS.extend(safe_globals)


def get_safe_globals():
    return list(_SAFE_GLOBALS)


def clear_safe_globals():
    _SAFE_GLOBALS.clear()


class safe_globals:
    """Context manager: the globals allowed inside the `with` only."""

    def __init__(self, safe_globals):
        self.safe_globals = list(safe_globals)

    def __enter__(self):
        self._saved = list(_SAFE_GLOBALS)
        _SAFE_GLOBALS.extend(self.safe_globals)

    def __exit__(self, *exc):
        _SAFE_GLOBALS[:] = self._saved


# modules no weights_only load takes a global from (torch's _blocklisted_modules), and
# globals a plain load resolves here that torch's weights_only allowlist lacks
_BLOCKED_MODULES = ("sys", "os", "posix", "nt")
_NOT_WEIGHTS = {("builtins", "slice"), ("builtins", "frozenset")}
_UNSAFE = (
    "In PyTorch 2.6, we changed the default value of the "
    "`weights_only` argument in `torch.load` from `False` to `True`. Re-running "
    "`torch.load` with `weights_only` set to `False` will likely succeed, but it can "
    "result in arbitrary code execution. Do it only if you got the file from a trusted "
    "source.")
_WEIGHTS_HEAD = "Weights only load failed. " + _UNSAFE
_WEIGHTS_TAIL = (
    "\n\nCheck the documentation of torch.load to learn more about types accepted by "
    "default with weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")


def _blocked_words(path, module):
    return (f"{_WEIGHTS_HEAD}\n\n\nTrying to load unsupported GLOBAL {path} whose module "
            f"{module} is blocked.{_WEIGHTS_TAIL}")


def _weights_only_words(path):
    """torch 2.13's UnpicklingError text for a global a weights_only load refuses (a
    builtin named without `builtins.`, as torch names it)."""
    if path.startswith("builtins."):
        path = path[len("builtins."):]
    return (
        "Weights only load failed. This file can still be loaded, to do so you have two "
        "options, \x1b[1mdo those steps only if you trust the source of the checkpoint"
        "\x1b[0m. \n\t(1) In PyTorch 2.6, we changed the default value of the `weights_only` "
        "argument in `torch.load` from `False` to `True`. Re-running `torch.load` with "
        "`weights_only` set to `False` will likely succeed, but it can result in arbitrary "
        "code execution. Do it only if you got the file from a trusted source.\n\t(2) "
        "Alternatively, to load with `weights_only=True` please check the recommended "
        "steps in the following error message.\n\tWeightsUnpickler error: Unsupported "
        f"global: GLOBAL {path} was not an allowed global by default. Please use "
        f"`torch.serialization.add_safe_globals([{path}])` or the "
        f"`torch.serialization.safe_globals([{path}])` context manager to allowlist this "
        "global if you trust this class/function.\n\nCheck the documentation of "
        "torch.load to learn more about types accepted by default with weights_only "
        "https://pytorch.org/docs/stable/generated/torch.load.html.")


# ---------------------------------------------------------------- torch.serialization's
# small names

DEFAULT_PROTOCOL = 2


class SourceChangeWarning(Warning):
    pass


class StorageType:
    """A pickled storage class's name ("FloatStorage") and its dtype."""

    def __init__(self, name):
        import gpujit
        t = _StorageType(name)
        self._dtype = gpujit.bfloat16 if t.bf16 else gpujit.dtypes.to_dtype(
            t.float8 or t.dtype_name)

    @property
    def dtype(self):
        return self._dtype

    def __str__(self):
        return f"StorageType(dtype={self.dtype})"


def check_module_version_greater_or_equal(module, req_version_tuple, error_if_malformed=True):
    """Whether module.__version__ ("x.y.z") is at least req_version_tuple (its fields
    read as the tuple's types); a malformed version raises (or warns and passes)."""
    try:
        parts = module.__version__.split(".")
        version = tuple(type(req)(parts[i]) for i, req in enumerate(req_version_tuple))
        return version >= req_version_tuple
    except Exception as e:
        message = (f"'{module.__name__}' module version string is malformed "
                   f"'{module.__version__}' and cannot be compared with tuple "
                   f"{str(req_version_tuple)}")
        if error_if_malformed:
            raise RuntimeError(message) from e
        warnings.warn(message + ", but continuing assuming that requirement is met",
                      stacklevel=2)
        return True


@contextlib.contextmanager
def mkdtemp():
    """A temporary directory's path, removed with its contents at the block's end."""
    import shutil
    import tempfile
    path = tempfile.mkdtemp()
    try:
        yield path
    finally:
        shutil.rmtree(path)
