"""torch.distributed, as code checks it: gpujit runs one process on one device, so the
package is not available and no process group is ever initialized."""
from __future__ import annotations

__all__ = ["is_available", "is_initialized", "get_rank", "get_world_size"]


def is_available() -> bool:
    return False


def is_initialized() -> bool:
    return False


def _no_group(name):
    raise ValueError("Default process group has not been initialized, please make sure to "
                     "call init_process_group.")


def get_rank(group=None) -> int:
    _no_group("get_rank")


def get_world_size(group=None) -> int:
    _no_group("get_world_size")
