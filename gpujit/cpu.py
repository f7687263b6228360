"""gpujit.cpu (torch.cpu): the CPU device namespace; `amp.autocast` is torch.cpu.amp's
(deprecated) form of autocast('cpu', ...)."""
from __future__ import annotations

from .amp import cpu_amp as amp

__all__ = ["is_available", "device_count", "current_device", "synchronize", "amp"]


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """NumPy computes eagerly: nothing to wait for."""

