"""Devices and the array namespace (`xp`) that serves each one.

`device("cpu")` is served by NumPy, `device("cuda", N)` by CuPy. Device objects are interned,
so the eager path compares them with `is`. CuPy is imported lazily: gpujit imports and runs
on a machine without it.
"""
from __future__ import annotations

import os
import re
import threading

import numpy as np

__all__ = ["device", "cpu", "xp_for", "device_of_array", "cupy_or_none", "CUDA_INSTALL_HINT"]

CUDA_INSTALL_HINT = ('install the CUDA extra that matches your driver: '
                     'pip install "gpujit[cuda12]" (or "gpujit[cuda13]")')

_INTERNED: dict = {}


_DEVICE_STRING = re.compile(r"([A-Za-z0-9_]+)(?::(0|[1-9][0-9]*))?")


def _parse_device_string(spec):
    """(type, index or None) of 'cuda:1', with c10::Device's errors: a string not of the
    form name[:index] is 'Invalid device string' (' cpu', 'cuda:01', 'cpu:-1'), a name
    not a device type 'Expected one of ...'."""
    if not spec:
        raise RuntimeError("Device string must not be empty")
    m = _DEVICE_STRING.fullmatch(spec)
    if m is None:
        raise RuntimeError(f"Invalid device string: '{spec}'")
    kind, idx = m.groups()
    if idx is not None and int(idx) >= 2 ** 31:
        raise RuntimeError(f"Could not parse device index '{idx}' in device string '{spec}'")
    if kind not in ("cpu", "cuda", "meta"):
        raise RuntimeError(f"Expected one of cpu, cuda device type at start of device "
                           f"string: {spec}")
    return kind, None if idx is None else int(idx)


class device:
    """gpujit.device('cpu'), device('cuda'), device('cuda:1'), device('cuda', 1)."""
    __slots__ = ("type", "index")

    def __new__(cls, spec="cpu", index=None):
        if isinstance(spec, device):
            if index is None:
                return spec
            spec = spec.type
        if isinstance(spec, int) and not isinstance(spec, bool):   # device(0) is cuda:0
            spec, index = "cuda", spec
        if not isinstance(spec, str):
            if type(spec).__module__ != "torch":
                # (device(3.5), device(None): PyTorch's parser TypeError, not a device
                # string's error)
                t = type(spec)
                name = t.__name__ if t.__module__ == "builtins" else \
                    f"{t.__module__}.{t.__qualname__}"
                raise TypeError(f"device() received an invalid combination of arguments - got "
                                f"({name}), but expected one of:\n * (torch.device device)\n"
                                f" * (str type, int index = -1)\n")
            spec = str(spec)   # e.g. a torch.device
        key = (spec, index)
        d = _INTERNED.get(key)
        if d is not None:
            return d
        kind, idx = _parse_device_string(spec)
        if idx is not None:
            if index is not None:
                raise RuntimeError("type (string) must not include an index because index "
                                   f"was passed explicitly: {spec}")
            index = idx
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index!r}")
        canon = _INTERNED.get((kind, index))
        if canon is None:
            canon = object.__new__(cls)
            object.__setattr__(canon, "type", kind)
            object.__setattr__(canon, "index", index)
            _INTERNED[(kind, index)] = canon
        _INTERNED[key] = canon
        return canon

    def __setattr__(self, name, value):
        raise AttributeError("gpujit.device is immutable")

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    # (no __eq__ / __hash__: a device is interned, so equal devices are one object and
    # object's identity comparison and hash are torch's equality -- device('cpu') == 'cpu'
    # is False, as x.device == 'cpu' -- at C speed: devices are hashed in every executor
    # cache key)

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self):
        """`with torch.device('cuda'):` makes this device the default of the factory
        functions (and of the layers they build) in the block, as torch's DeviceContext;
        the one before comes back on exit."""
        stack = _default_here.__dict__.setdefault("entered", [])
        stack.append(_default_here.device)
        set_default_device(self)
        return self

    def __exit__(self, *exc):
        set_default_device(_default_here.entered.pop())
        return False


cpu = device("cpu")
# the 'meta' device: tensors with sizes, strides and a dtype but no data (gpujit/_meta.py)
meta = device("meta")

_cupy = None
_cupy_tried = False


_cupy_lock = threading.Lock()

# Called with cupy once, when cupy_or_none first finds a GPU (gpujit.cuda registers its
# memory-statistics allocator here; layers above the device module hook in, not below).
ON_CUDA_INIT: list = []


class CudaUnavailableError(AssertionError, RuntimeError):
    """A CUDA call without a GPU: an AssertionError starting "Torch not compiled with CUDA
    enabled", as torch's CPU-only build raises, and a RuntimeError (gpujit's error)."""


def cupy_or_none():
    """The cupy module if it imports and sees a GPU, else None (checked once; threads
    that first ask at the same time wait for that one check: one that found `tried` set
    before the answer was in used to see None, "no CUDA GPU is available")."""
    global _cupy, _cupy_tried
    if not _cupy_tried:
        with _cupy_lock:
            if not _cupy_tried:
                try:
                    import cupy
                    if cupy.cuda.runtime.getDeviceCount() > 0:
                        _cupy = cupy
                except Exception:   # no cupy, no driver, or no device: CPU only
                    _cupy = None
                if _cupy is not None:
                    for hook in ON_CUDA_INIT:
                        hook(_cupy)
                _cupy_tried = True
    return _cupy


# CUDA does not survive fork(): a child forked after the parent used the GPU (e.g. a
# DataLoader worker under the 'fork' start method) must not touch it, as in PyTorch.
_forked_after_cuda = False


def _after_fork_in_child():
    global _forked_after_cuda
    if _cupy is not None:
        _forked_after_cuda = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def require_cupy(what="CUDA tensors"):
    if _forked_after_cuda:
        raise RuntimeError("Cannot re-initialize CUDA in forked subprocess. To use CUDA with "
                           "multiprocessing, you must use the 'spawn' start method")
    cp = cupy_or_none()
    if cp is None:
        raise CudaUnavailableError(f"Torch not compiled with CUDA enabled ({what}: no CUDA GPU "
                                   f"is available; gpujit runs CUDA work through CuPy on an "
                                   f"NVIDIA GPU, and found none); " + CUDA_INSTALL_HINT)
    return cp


# The device 'cuda' means. An op on cuda:N makes N CuPy's current device and leaves it
# current (xp_for, the fused launchers: ~0.1 µs a call saved); PyTorch's ops restore the
# device they switched from, so 'cuda', `.cuda()` and torch.cuda.current_device() keep
# meaning that one. Per thread, as CUDA's current device: `to` is the device an op last
# made current, `was` the one current before the first such switch. While CuPy's current
# device is still `to`, the current device is `was`; once something else made another
# device current (CuPy's Device.use(), gpujit.cuda.set_device), that one. (CuPy's
# Device(to).use() itself goes unseen: gpujit.cuda.set_device is the way to say it.)
_switched = threading.local()


def make_current(index, cp=None):
    """Make cuda:index CuPy's current device for an op (see _switched)."""
    cp = cp or require_cupy()
    cur = cp.cuda.runtime.getDevice()
    if cur != index:
        if getattr(_switched, "to", None) != cur:
            _switched.was = cur
        try:
            cp.cuda.runtime.setDevice(index)
        except cp.cuda.runtime.CUDARuntimeError:
            n = cp.cuda.runtime.getDeviceCount()
            if 0 <= index < n:
                raise
            raise no_such_device(index, n) from None
        _switched.to = index


def current_index(cp=None) -> int:
    """The current CUDA device's index as PyTorch's torch.cuda.current_device() (see
    _switched): not the one an op on another device left current."""
    cp = cp or require_cupy()
    cur = cp.cuda.runtime.getDevice()
    return _switched.was if getattr(_switched, "to", None) == cur else cur


def set_current(index, cp=None):
    """Make cuda:index the current device (torch.cuda.set_device)."""
    cp = cp or require_cupy()
    cp.cuda.Device(index).use()
    _switched.to = None


def cuda_device(index=None) -> device:
    """The concrete cuda:N for 'cuda' (index None -> the current device)."""
    cp = require_cupy()
    if index is None:
        index = current_index(cp)
    n = cp.cuda.runtime.getDeviceCount()
    if index >= n:
        raise no_such_device(index, n)
    return device("cuda", index)


def no_such_device(index, n) -> RuntimeError:
    """PyTorch's error for a CUDA device index past the visible ones ('CUDA error: invalid
    device ordinal'), then which device was asked for and how many there are."""
    return RuntimeError(f"CUDA error: invalid device ordinal: cuda:{index} was asked for and "
                        f"{n} CUDA device{'' if n == 1 else 's'} {'is' if n == 1 else 'are'} "
                        f"visible (CUDA device cuda:{index} does not exist)")


def resolve(d) -> device:
    """A concrete device: 'cuda' becomes cuda:<current>, strings are parsed."""
    d = device(d)
    if d.type == "cpu":
        return cpu          # cpu:0 names the CPU (a tensor's device is 'cpu', as torch's)
    if d.type == "cuda" and d.index is None:
        return cuda_device(None)
    if d.type == "cuda":
        require_cupy()
    elif d.type == "meta":
        return meta         # (meta:0 is the meta device, as torch's tensors say 'meta')
    return d


def xp_for(d: device):
    """The array namespace of device d; for cuda:N it also makes N CuPy's current device
    (CuPy allocates and launches on the current device: an op on cuda:1 tensors must not
    run on cuda:0). N stays CuPy's current device afterwards; 'cuda' keeps meaning the
    device current before (current_index), as in PyTorch."""
    if d.type == "cpu":
        return np
    if d.type == "meta":
        from ._meta import no_meta_kernel
        raise no_meta_kernel(None)
    cp = require_cupy()
    if d.index is not None and d.index != cp.cuda.runtime.getDevice():
        make_current(d.index, cp)
    return cp


def device_of_array(a) -> device:
    if isinstance(a, np.ndarray) or isinstance(a, np.generic):
        return cpu
    if a.__class__.__name__ == "MetaArray":
        return meta
    return device("cuda", a.device.id)


# torch.set_default_device: where factory functions (empty, zeros, rand, arange, tensor...)
# put tensors when no device is given; per thread, as PyTorch's. None: not set (CPU, and
# as_tensor/tensor of a tensor keep its device). DEFAULT_FACTORY_DEVICE[0] is the gate that
# generated op code reads first: None while no thread has set a default device (one list
# read), True once one has (then default_device() reads this thread's).
DEFAULT_FACTORY_DEVICE: list = [None]


class _DefaultDevice(threading.local):
    device = None
    counted = False         # counted in _default_threads


_default_here = _DefaultDevice()
_default_threads = [0]      # threads that have set a default device
_default_lock = threading.Lock()


def set_default_device(d) -> None:
    """gpujit.set_default_device('cuda') / (None): the device factory functions of this
    thread use when they are given none (as torch.set_default_device; 'cuda' means the
    current GPU at the time of the call)."""
    here = _default_here
    here.device = None if d is None else resolve(d)
    on = here.device is not None
    if on != here.counted:
        with _default_lock:
            here.counted = on
            _default_threads[0] += 1 if on else -1
            DEFAULT_FACTORY_DEVICE[0] = True if _default_threads[0] else None


def default_device():
    """This thread's default factory device, or None."""
    return _default_here.device if DEFAULT_FACTORY_DEVICE[0] else None


def get_default_device() -> device:
    return default_device() or cpu
