"""DLPack in and out: torch.from_dlpack (any producer with __dlpack__, or a DLPack capsule
as torch.utils.dlpack.to_dlpack makes them) and to_dlpack. Tensors share memory with the
producer; a capsule can be consumed once, as PyTorch says."""
from __future__ import annotations

import ctypes
import enum

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu, require_cupy
from . import registry as _reg

PUBLIC = {}


class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (torch.utils.dlpack.DLDeviceType)."""
    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


_CAPSULE_TYPE = type(np.empty(0).__dlpack__())


class _Capsule:
    """A legacy 'dltensor' capsule seen as a DLPack producer (np/cp.from_dlpack take
    objects with __dlpack__): its device read from the DLTensor it points to."""

    def __init__(self, capsule):
        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        try:
            ptr = get(capsule, b"dltensor")
        except ValueError:
            raise RuntimeError("from_dlpack received an invalid capsule. Note that DLTensor "
                               "capsules can be consumed only once, so you might have "
                               "already constructed a tensor from it once.") from None
        # DLTensor: void* data, then DLDevice {int32 device_type, int32 device_id}
        dev = (ctypes.c_int32 * 2).from_address(ptr + ctypes.sizeof(ctypes.c_void_p))
        self._device = (int(dev[0]), int(dev[1]))
        self._capsule = capsule

    def __dlpack__(self, *args, **kwargs):
        return self._capsule

    def __dlpack_device__(self):
        return self._device


# DLPack's float8 type codes (DLDataTypeCode, dlpack.h 1.1; as torch 2.13 writes them)
_FLOAT8_CODES = {"float8_e4m3fn": 10, "float8_e4m3fnuz": 11, "float8_e5m2": 12,
                 "float8_e5m2fnuz": 13, "float8_e8m0fnu": 14}
_K_DL_UINT = 1


def _capsule_name(capsule):
    name_of = ctypes.pythonapi.PyCapsule_GetName
    name_of.restype, name_of.argtypes = ctypes.c_char_p, [ctypes.py_object]
    return name_of(capsule)


def _writable(a):
    """A writable array over the memory of `a`, a NumPy import of a legacy ('dltensor')
    capsule: NumPy marks those read-only (they carry no read-only flag), PyTorch's
    from_dlpack writes through them (only a versioned capsule's flag makes a tensor
    read-only). The view keeps `a`, and so the capsule's owner, alive."""
    if a.size == 0:
        return np.empty(a.shape, a.dtype)
    lo = sum(min(0, (n - 1) * s) for n, s in zip(a.shape, a.strides))
    hi = sum(max(0, (n - 1) * s) for n, s in zip(a.shape, a.strides)) + a.itemsize
    buf = (ctypes.c_char * (hi - lo)).from_address(a.ctypes.data + lo)
    buf._owner = a
    return np.ndarray(a.shape, a.dtype, buffer=buf, offset=-lo, strides=a.strides)


def _dtype_code_address(capsule):
    """The address of the DLDataType code byte of the DLTensor a (legacy or versioned)
    DLPack capsule holds: DLTensor {void* data; DLDevice device; int32 ndim; DLDataType
    dtype ...}, inside DLManagedTensorVersioned after its version, manager_ctx, deleter and
    flags."""
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    name = _capsule_name(capsule)
    ptr = get(capsule, name)
    vp = ctypes.sizeof(ctypes.c_void_p)
    tensor = ptr if name == b"dltensor" else ptr + 8 + 2 * vp + 8
    return tensor + vp + 8 + 4


def float8_capsule(t, *args, **kwargs):
    """The DLPack capsule of float8 tensor t: its bits' (uint8) capsule typed with DLPack's
    float8 code, as PyTorch exports float8 (NumPy refuses it: 'Unsupported dtype in
    DLTensor.'; PyTorch reads it as float8)."""
    capsule = t._f8bits.__dlpack__(*args, **kwargs)
    ctypes.c_uint8.from_address(_dtype_code_address(capsule)).value = \
        _FLOAT8_CODES[t._dtype.name]
    return capsule


class _Float8Reader:
    """A DLPack producer seen through: a float8 capsule it hands out is retyped uint8 (its
    bits, which NumPy / CuPy read) and its float8 dtype kept in `float8`."""
    _NAMES = {v: k for k, v in _FLOAT8_CODES.items()}

    def __init__(self, ext):
        self._ext, self.float8, self.legacy = ext, None, False

    def __dlpack__(self, *args, **kwargs):
        capsule = self._ext.__dlpack__(*args, **kwargs)
        self.legacy = _capsule_name(capsule) == b"dltensor"
        code = ctypes.c_uint8.from_address(_dtype_code_address(capsule))
        name = self._NAMES.get(int(code.value))
        if name is not None:
            self.float8 = getattr(_dt, name)
            code.value = _K_DL_UINT
        return capsule

    def __dlpack_device__(self):
        return self._ext.__dlpack_device__()


def _wrap_read(a, reader, dev):
    if reader.float8 is not None:       # (a float8 tensor over the bits: ops/float8.py)
        from .float8 import make
        return make(a, reader.float8, dev)
    return _reg.wrap(a, _dt.from_numpy_dtype(a.dtype), dev)


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A Tensor sharing memory with a DLPack producer (NumPy, CuPy, PyTorch ... or a
    capsule); `device=` moves it, `copy=True` copies it."""
    if isinstance(ext_tensor, _reg._Tensor):
        t = ext_tensor
    elif type(ext_tensor).__module__ == "torch" and str(getattr(ext_tensor, "dtype", "")) \
            == "torch.bfloat16":
        # (NumPy / CuPy take no bfloat16 DLPack: its bits as int16, read into a new
        # bfloat16 tensor's float32 carrier -- a copy, not shared memory)
        from .bfloat16_support import from_bits
        b = from_dlpack(ext_tensor.view(_torch_int16(ext_tensor)))
        xp = np if b._device is _cpu else require_cupy("DLPack CUDA tensors")
        t = _reg.wrap(from_bits(xp, b._data), _dt.bfloat16, b._device)
    else:
        ext = _Capsule(ext_tensor) if isinstance(ext_tensor, _CAPSULE_TYPE) else ext_tensor
        if not hasattr(ext, "__dlpack_device__"):
            # (no DLPack producer nor capsule: PyTorch reads it as a capsule, its error)
            raise RuntimeError("from_dlpack received an invalid capsule. Note that DLTensor "
                               "capsules can be consumed only once, so you might have "
                               "already constructed a tensor from it once.")
        dev_type, dev_id = ext.__dlpack_device__()
        ext = _Float8Reader(ext)
        if int(dev_type) == DLDeviceType.kDLCPU:
            a = np.from_dlpack(ext)
            if ext.legacy and not a.flags.writeable:
                a = _writable(a)
            t = _wrap_read(a, ext, _cpu)
        elif int(dev_type) in (DLDeviceType.kDLCUDA, DLDeviceType.kDLCUDAManaged):
            from ..device import device as _device
            cp = require_cupy("DLPack CUDA tensors")
            t = _wrap_read(cp.from_dlpack(ext), ext, _device("cuda", int(dev_id)))
        else:
            raise RuntimeError(f"from_dlpack: unsupported DLPack device type {dev_type}")
        _reg.host_made(t)
    moved = t.to(device) if device is not None else t
    return moved.clone() if copy and moved is t else moved     # (a move copied already)


def _torch_int16(t):
    import sys
    return sys.modules["torch"].int16


def bfloat16_export_error():
    return BufferError("a gpujit bfloat16 tensor's array is float32 holding bfloat16 values "
                       "(NumPy has no bfloat16): DLPack cannot export it as bfloat16; use "
                       "x.view(torch.int16) (its bits) or x.float()")


def to_dlpack(tensor):
    """A DLPack capsule of the tensor's memory (consumed once by a from_dlpack)."""
    if not isinstance(tensor, _reg._Tensor):
        raise TypeError(f"to_dlpack(): argument 'data' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    if tensor._dtype is _dt.bfloat16:
        raise bfloat16_export_error()
    if tensor._dtype in _dt.FLOAT8_TYPES:
        return float8_capsule(tensor)
    return tensor._data.__dlpack__()


PUBLIC.update(from_dlpack=from_dlpack, to_dlpack=to_dlpack)
