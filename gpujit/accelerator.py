"""torch.accelerator: the device-agnostic API (PyTorch 2.6+) that new PyTorch code and the
pytorch/examples use (`device = torch.accelerator.current_accelerator() if
torch.accelerator.is_available() else torch.device("cpu")`). gpujit's one accelerator is CUDA
(through CuPy): each function is its gpujit.cuda counterpart, and without a GPU they answer
as PyTorch's do on a machine without one (no accelerator: None, 0, or its RuntimeError)."""
from __future__ import annotations

from . import cuda as _cuda

__all__ = [
    "current_accelerator", "current_device_idx", "current_device_index", "current_stream",
    "device_count", "device_index", "empty_cache", "get_memory_info", "is_available",
    "max_memory_allocated", "max_memory_reserved", "memory_allocated", "memory_reserved",
    "memory_stats", "reset_accumulated_memory_stats", "reset_peak_memory_stats",
    "set_device_idx", "set_device_index", "set_stream", "synchronize",
]


def _check():
    if not _cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def is_available() -> bool:
    return _cuda.is_available()


def device_count() -> int:
    return _cuda.device_count() if _cuda.is_available() else 0


def current_accelerator(check_available: bool = False):
    """The accelerator's device type as a device (`device(type='cuda')`), or None where
    there is none (or, with check_available, where it is not available)."""
    from .device import device
    if not _cuda.is_available():
        return None
    return device("cuda")


def current_device_index() -> int:
    _check()
    return _cuda.current_device()


current_device_idx = current_device_index


def set_device_index(device, /) -> None:
    _check()
    _cuda.set_device(device)


set_device_idx = set_device_index


class device_index:
    """Makes `device` (an index; None: no change) the current accelerator device in its
    block."""

    def __init__(self, device, /):
        self.idx = device
        self.prev = None

    def __enter__(self):
        if self.idx is not None:
            _check()
            self.prev = _cuda.current_device()
            _cuda.set_device(self.idx)

    def __exit__(self, *exc):
        if self.prev is not None:
            _cuda.set_device(self.prev)
        return False


def _forward(name):
    f = getattr(_cuda, name)

    def call(*args):
        _check()
        return f(*args)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"torch.accelerator.{name}: gpujit.cuda.{name} (a RuntimeError without " \
                   f"a GPU, as PyTorch's)."
    return call


synchronize = _forward("synchronize")
current_stream = _forward("current_stream")
set_stream = _forward("set_stream")
get_memory_info = _forward("mem_get_info")
get_memory_info.__name__ = get_memory_info.__qualname__ = "get_memory_info"
memory_allocated = _forward("memory_allocated")
max_memory_allocated = _forward("max_memory_allocated")
memory_reserved = _forward("memory_reserved")
max_memory_reserved = _forward("max_memory_reserved")
memory_stats = _forward("memory_stats")
reset_peak_memory_stats = _forward("reset_peak_memory_stats")
reset_accumulated_memory_stats = _forward("reset_accumulated_memory_stats")
empty_cache = _forward("empty_cache")
