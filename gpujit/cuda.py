"""gpujit.cuda: the CUDA device namespace (is_available, device_count, ...)."""
from __future__ import annotations

from .device import cupy_or_none


def is_available() -> bool:
    return cupy_or_none() is not None
