"""gpujit.cuda: the CUDA device namespace, as torch.cuda (is_available, device_count,
set_device, synchronize, streams and events, RNG state, memory statistics, nvtx ...),
served by CuPy.

Without CuPy or without a GPU, `is_available()` is False and `device_count()` is 0; calls
that need a device raise what torch's CPU-only build raises: an AssertionError "Torch not
compiled with CUDA enabled" (here also a RuntimeError, naming the CUDA extra to install).
As in PyTorch, calls that only touch lazy state (`manual_seed`, `seed`, `set_rng_state`,
`empty_cache`, `memory_allocated`, `memory_stats`, `stream(None)`) work without a GPU.
Deliberate differences: `reset_peak_memory_stats` is a no-op without a GPU (torch's
CPU-only build fails with AttributeError), `memory_summary` prints zeros (torch: KeyError),
`nvtx` calls do nothing without NVTX (torch's CPU-only build: RuntimeError), and
`is_initialized()` is True once a GPU was found (gpujit has no separate lazy init).
"""
from __future__ import annotations

import collections

from ..device import (cupy_or_none, require_cupy, device as _device, current_index,
                      no_such_device, set_current)
from . import memory, random, streams, nvtx
from .memory import (OutOfMemoryError, memory_allocated, memory_reserved,
                     max_memory_allocated, max_memory_reserved, reset_peak_memory_stats,
                     reset_max_memory_allocated, reset_max_memory_cached,
                     reset_accumulated_memory_stats, memory_stats, memory_summary,
                     mem_get_info, empty_cache, memory_cached, max_memory_cached,
                     set_per_process_memory_fraction, get_per_process_memory_fraction)
from .random import (get_rng_state, get_rng_state_all, set_rng_state, set_rng_state_all,
                     manual_seed, manual_seed_all, seed, seed_all, initial_seed)
from .streams import (Stream, ExternalStream, Event, current_stream, default_stream,
                      set_stream, stream, StreamContext)

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize",
           "device", "device_of", "get_device_name", "get_device_capability",
           "get_device_properties", "is_initialized", "init", "get_arch_list",
           "get_gencode_flags", "is_bf16_supported", "is_tf32_supported", "ipc_collect",
           "nvtx", "memory", "random", "streams", "OutOfMemoryError", "memory_allocated",
           "memory_reserved", "max_memory_allocated", "max_memory_reserved",
           "reset_peak_memory_stats", "reset_max_memory_allocated",
           "reset_max_memory_cached", "reset_accumulated_memory_stats", "memory_stats",
           "memory_summary", "mem_get_info", "empty_cache", "memory_cached",
           "max_memory_cached", "set_per_process_memory_fraction",
           "get_per_process_memory_fraction", "get_rng_state", "get_rng_state_all",
           "set_rng_state", "set_rng_state_all", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "initial_seed", "Stream", "ExternalStream", "Event",
           "current_stream", "default_stream", "set_stream", "stream", "StreamContext",
           "can_device_access_peer", "is_current_stream_capturing", "set_sync_debug_mode",
           "get_sync_debug_mode"]


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
        raise no_such_device(idx, n)
    return idx


def current_device() -> int:
    return _index(None)


def set_device(dev) -> None:
    """Make dev the current CUDA device (a no-op for a negative index, as torch's)."""
    if isinstance(dev, int) and not isinstance(dev, bool) and dev < 0:
        return
    set_current(_index(dev), require_cupy("gpujit.cuda.set_device"))


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


class device_of(device):
    """Makes the device of tensor `obj` current in its block (a no-op for a CPU tensor)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


def is_initialized() -> bool:
    """True once gpujit found a GPU (see the module's docstring)."""
    import sys
    d = sys.modules["gpujit.device"]        # (the module; gpujit.device is the class)
    return d._cupy_tried and d._cupy is not None


def init() -> None:
    """Initialise CUDA (find the GPU) now; raises as torch's without one."""
    require_cupy("gpujit.cuda.init")


def get_arch_list() -> list:
    """The CUDA architectures gpujit compiles for: the GPUs present (kernels are compiled
    to PTX for the device at run time); [] without a GPU."""
    if cupy_or_none() is None:
        return []
    return sorted({f"sm_{p.major}{p.minor}" for p in
                   (get_device_properties(i) for i in range(device_count()))})


def get_gencode_flags() -> str:
    return " ".join(f"-gencode compute=compute_{a[3:]},code=sm_{a[3:]}"
                    for a in get_arch_list())


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """As torch.cuda.is_bf16_supported: False without CUDA; True on an Ampere or newer
    GPU, and on an older one with including_emulation (gpujit's bfloat16 tensors compute
    in float32 anywhere: ops/bfloat16_support.py)."""
    if not is_available():
        return False
    return including_emulation or get_device_properties().major >= 8


def is_tf32_supported() -> bool:
    """True on an Ampere or newer GPU (compute capability 8+); False without a GPU."""
    return cupy_or_none() is not None and get_device_properties().major >= 8


def ipc_collect() -> None:
    """gpujit shares no CUDA memory between processes: nothing to collect (needs a GPU,
    as torch's)."""
    require_cupy("gpujit.cuda.ipc_collect")


def can_device_access_peer(device, peer_device) -> bool:
    """Whether `device` can read and write `peer_device`'s memory (CUDA peer access; a
    device and itself: False, as torch's)."""
    cp = require_cupy("gpujit.cuda.can_device_access_peer")
    for dev, what in ((device, "device"), (peer_device, "peer device")):
        try:
            _index(dev)
        except RuntimeError:                  # (past the visible devices)
            raise AssertionError(f"Invalid {what} id") from None
    d, p = _index(device), _index(peer_device)
    return d != p and bool(cp.cuda.runtime.deviceCanAccessPeer(d, p))


def is_current_stream_capturing() -> bool:
    """False: gpujit captures no CUDA graphs (torch.cuda.graphs' question, which library
    code asks before synchronizing)."""
    return False


_SYNC_DEBUG = {"default": 0, "warn": 1, "error": 2}
_sync_debug_mode = [0]


def set_sync_debug_mode(debug_mode) -> None:
    """torch.cuda.set_sync_debug_mode: the value is kept (get_sync_debug_mode); gpujit
    neither warns nor raises on synchronizing operations."""
    require_cupy("gpujit.cuda.set_sync_debug_mode")
    if isinstance(debug_mode, str):
        if debug_mode not in _SYNC_DEBUG:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, "
                               "`warn`, `error`")
        debug_mode = _SYNC_DEBUG[debug_mode]
    _sync_debug_mode[0] = int(debug_mode)


def get_sync_debug_mode() -> int:
    require_cupy("gpujit.cuda.get_sync_debug_mode")
    return _sync_debug_mode[0]


def __getattr__(name):
    # torch.cuda.default_generators: each device's default generator, () without a GPU
    if name == "default_generators":
        from ..ops.random import cuda_generator
        from ..device import device as _dev
        return tuple(cuda_generator(_dev("cuda", i)) for i in range(device_count()))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
