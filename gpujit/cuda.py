"""gpujit.cuda: the CUDA device namespace, as torch.cuda (is_available, device_count,
set_device, synchronize, Event, manual_seed, memory counters ...), served by CuPy.

Without CuPy or without a GPU, `is_available()` is False and `device_count()` is 0; calls
that need a device raise RuntimeError saying how to install the CUDA extra. As in PyTorch,
calls that only touch lazy state (`manual_seed`, `empty_cache`, `memory_allocated`) work
without a GPU.
"""
from __future__ import annotations

import collections

from .device import cupy_or_none, require_cupy, device as _device, current_index, set_current

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize",
           "Event", "device", "manual_seed", "manual_seed_all", "get_device_name",
           "get_device_capability", "get_device_properties", "empty_cache",
           "memory_allocated", "memory_reserved"]


def is_available() -> bool:
    return cupy_or_none() is not None


def device_count() -> int:
    cp = cupy_or_none()
    return 0 if cp is None else cp.cuda.runtime.getDeviceCount()


def _index(dev) -> int:
    """The device ordinal of an int, 'cuda:1', a gpujit/torch device, or None (current)."""
    cp = require_cupy("gpujit.cuda")
    if dev is None:
        return current_index(cp)
    if isinstance(dev, int) and not isinstance(dev, bool):
        idx = dev
    else:
        d = _device(dev)
        if d.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {d}")
        idx = current_index(cp) if d.index is None else d.index
    n = cp.cuda.runtime.getDeviceCount()
    if not 0 <= idx < n:
        raise RuntimeError(f"CUDA device cuda:{idx} does not exist; this machine has {n} "
                           f"CUDA device(s)")
    return idx


def current_device() -> int:
    return _index(None)


def set_device(dev) -> None:
    set_current(_index(dev), require_cupy("gpujit.cuda"))


class device:
    """Context manager that makes `dev` the current CUDA device (as torch.cuda.device)."""

    def __init__(self, dev):
        self.idx = -1 if dev is None or (isinstance(dev, int) and dev < 0) else _index(dev)
        self.prev = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev = current_device()
            set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.prev >= 0:
            set_device(self.prev)
        return False


def synchronize(device=None) -> None:
    """Wait for all kernels on the device (default: the current one) to finish."""
    cp = require_cupy("gpujit.cuda.synchronize")
    with cp.cuda.Device(_index(device)):
        cp.cuda.runtime.deviceSynchronize()


class Event:
    """A CUDA event: `record()` on the current stream, `synchronize()`, `query()`, and
    `start.elapsed_time(end)` in milliseconds (both created with enable_timing=True)."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        cp = require_cupy("gpujit.cuda.Event")
        self.enable_timing = enable_timing
        self._event = cp.cuda.Event(block=blocking, disable_timing=not enable_timing,
                                    interprocess=interprocess)
        self._recorded = False

    def record(self, stream=None):
        self._event.record(stream)
        self._recorded = True

    def synchronize(self):
        self._event.synchronize()

    def query(self) -> bool:
        return self._event.done

    def wait(self, stream=None):
        cp = require_cupy("gpujit.cuda.Event")
        (stream or cp.cuda.get_current_stream()).wait_event(self._event)

    def elapsed_time(self, end_event) -> float:
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'")
        if not (self._recorded and end_event._recorded):
            raise RuntimeError("Both events must be recorded before calculating elapsed time")
        cp = require_cupy("gpujit.cuda.Event")
        end_event._event.synchronize()
        return float(cp.cuda.get_elapsed_time(self._event, end_event._event))

    def __repr__(self):
        return f"<gpujit.cuda.Event {self._event.ptr:#x}>"


def manual_seed(seed) -> None:
    """Seed the generator of the current CUDA device (takes effect lazily without a GPU)."""
    from .ops import random as _random
    _random.cuda_manual_seed(int(seed))


def manual_seed_all(seed) -> None:
    """Seed the generators of all CUDA devices."""
    from .ops import random as _random
    _random.cuda_manual_seed_all(int(seed))


_DeviceProperties = collections.namedtuple(
    "_CudaDeviceProperties", "name major minor total_memory multi_processor_count")


def get_device_properties(dev=None):
    """name, major, minor, total_memory (bytes), multi_processor_count of a CUDA device."""
    cp = require_cupy("gpujit.cuda.get_device_properties")
    p = cp.cuda.runtime.getDeviceProperties(_index(dev))
    name = p["name"].decode() if isinstance(p["name"], bytes) else str(p["name"])
    return _DeviceProperties(name, int(p["major"]), int(p["minor"]), int(p["totalGlobalMem"]),
                             int(p["multiProcessorCount"]))


def get_device_name(dev=None) -> str:
    return get_device_properties(dev).name


def get_device_capability(dev=None) -> tuple:
    p = get_device_properties(dev)
    return (p.major, p.minor)


def empty_cache() -> None:
    """Return the unused blocks of CuPy's memory pools to the driver."""
    cp = cupy_or_none()
    if cp is not None:
        cp.get_default_memory_pool().free_all_blocks()
        cp.get_default_pinned_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    """Bytes held by live arrays in CuPy's memory pool (0 without a GPU)."""
    cp = cupy_or_none()
    if cp is None:
        return 0
    with cp.cuda.Device(_index(device)):
        return int(cp.get_default_memory_pool().used_bytes())


def memory_reserved(device=None) -> int:
    """Bytes CuPy's memory pool holds from the driver, used or cached (0 without a GPU)."""
    cp = cupy_or_none()
    if cp is None:
        return 0
    with cp.cuda.Device(_index(device)):
        return int(cp.get_default_memory_pool().total_bytes())

