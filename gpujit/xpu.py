"""gpujit.xpu (torch.xpu): Intel's GPU namespace. gpujit has no XPU backend, so this is
torch's CPU-only build of it: queries answer "none" (`is_available()` False,
`device_count()` 0, empty memory statistics), seeding is lazy and does nothing, and the
calls that need a device raise torch's AssertionError "Torch not compiled with XPU
enabled"."""
from __future__ import annotations

from collections import OrderedDict

__all__ = ["is_available", "device_count", "is_initialized", "init", "current_device",
           "set_device", "get_device_name", "get_device_properties",
           "get_device_capability", "get_arch_list", "is_bf16_supported",
           "is_tf32_supported", "synchronize", "empty_cache", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state",
           "get_rng_state_all", "set_rng_state", "current_stream", "mem_get_info",
           "memory_allocated", "max_memory_allocated", "memory_reserved",
           "max_memory_reserved", "memory_stats"]


def _not_compiled(*args, **kwargs):
    raise AssertionError("Torch not compiled with XPU enabled")


init = current_device = set_device = get_device_name = get_device_properties = _not_compiled
get_device_capability = synchronize = initial_seed = get_rng_state = _not_compiled
set_rng_state = current_stream = mem_get_info = _not_compiled


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def get_arch_list() -> list:
    return []


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def is_tf32_supported() -> bool:
    return False


def empty_cache() -> None:
    """Nothing is cached without a device (torch returns None)."""


def manual_seed(seed: int) -> None:
    """Lazily seeds XPU generators in torch; there are none here."""
    int(seed)


manual_seed_all = manual_seed


def seed() -> None:
    """Lazily seeds XPU generators in torch; there are none here."""


seed_all = seed


def get_rng_state_all() -> list:
    return []


def memory_allocated(device=None) -> int:
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


def memory_stats(device=None) -> OrderedDict:
    return OrderedDict()
