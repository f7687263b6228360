"""gpujit.mps (torch.mps): Apple's Metal device namespace. gpujit has no Metal backend,
so this is torch's namespace on a machine without MPS: `is_available()` is False,
`device_count()` 0, `manual_seed` does nothing, and the calls that need the device raise
torch's RuntimeError "Cannot execute <C++ call>() without MPS backend."; device-selection
code (`"mps" if torch.mps.is_available() else "cpu"`) runs unchanged."""
from __future__ import annotations

__all__ = ["is_available", "device_count", "manual_seed", "seed", "get_rng_state",
           "set_rng_state", "synchronize", "empty_cache", "set_per_process_memory_fraction",
           "current_allocated_memory", "driver_allocated_memory", "recommended_max_memory",
           "compile_shader", "Event"]


def _no_mps(call):
    raise RuntimeError(f"Cannot execute {call}() without MPS backend.")


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """torch.mps.manual_seed without MPS: nothing to seed (torch returns None)."""
    int(seed)


def seed() -> None:
    _no_mps("getDefaultGenerator")


def get_rng_state(device="mps"):
    _no_mps("getDefaultGenerator")


def set_rng_state(new_state, device="mps") -> None:
    _no_mps("getDefaultGenerator")


def synchronize() -> None:
    _no_mps("deviceSynchronize")


def empty_cache() -> None:
    _no_mps("emptyCache")


def set_per_process_memory_fraction(fraction) -> None:
    _no_mps("setMemoryFraction")


def current_allocated_memory() -> int:
    _no_mps("getCurrentAllocatedMemory")


def driver_allocated_memory() -> int:
    _no_mps("getDriverAllocatedMemory")


def recommended_max_memory() -> int:
    _no_mps("getRecommendedMaxMemory")


def compile_shader(source: str):
    raise RuntimeError("MPS is not available")


class Event:
    """torch.mps.Event: needs the device."""

    def __init__(self, enable_timing=False):
        _no_mps("acquireEvent")
