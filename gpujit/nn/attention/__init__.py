"""torch.nn.attention: SDPBackend and the sdpa_kernel context manager.

gpujit's scaled_dot_product_attention has one implementation (the math one, fused where
the fuser can); sdpa_kernel checks its argument as PyTorch does and records the chosen
backends (read with `_current_backends()`), and every backend list runs that kernel."""
from __future__ import annotations

import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The backends of scaled_dot_product_attention (PyTorch's names and values)."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __str__(self):          # (torch's enum prints its qualified name, not the int)
        return f"SDPBackend.{self.name}"

    def __format__(self, spec):
        return format(str(self), spec)


_ALL = [SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION,
        SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH, SDPBackend.OVERRIDEABLE]
_enabled = [list(_ALL)]


def _current_backends():
    return list(_enabled[-1])


def _no_viable_backend(query) -> bool:
    """Whether the backends enabled now leave scaled_dot_product_attention none for query's
    device: on the CPU torch 2.13 has the math and the flash kernels only; on CUDA any
    enabled backend runs gpujit's kernel."""
    cur = _enabled[-1]
    if len(cur) == len(_ALL):
        return False
    if query.device.type == "cpu":
        return SDPBackend.MATH not in cur and SDPBackend.FLASH_ATTENTION not in cur
    return not cur


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Within the block, scaled_dot_product_attention may use only `backends` (one
    SDPBackend or a list)."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(f"Backend must be an instance of SDPBackend or a list of "
                             f"SDPBackend instances, got {type(backends).__name__}")
    chosen = [backends] if isinstance(backends, SDPBackend) else list(backends)
    for b in chosen:
        if not isinstance(b, SDPBackend):
            raise AssertionError(f"Backend must be an instance of SDPBackend or a list of "
                                 f"SDPBackend instances, got {type(b).__name__}")
    _enabled.append(list(dict.fromkeys(chosen)))
    try:
        yield {}
    finally:
        _enabled.pop()
