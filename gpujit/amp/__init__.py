"""gpujit.amp (torch.amp): autocast regions and GradScaler; also torch.cuda.amp and
torch.cpu.amp, whose class forms are deprecated in PyTorch and warn as it does."""
from __future__ import annotations

import sys
import types
import warnings

from .. import dtypes as _dt
from .autocast_mode import (autocast, is_autocast_available, custom_fwd,  # noqa: F401
                            custom_bwd)
from .grad_scaler import GradScaler  # noqa: F401

__all__ = ["autocast", "GradScaler", "is_autocast_available", "custom_fwd", "custom_bwd"]


def _cuda_amp():
    m = types.ModuleType("gpujit.cuda.amp", "torch.cuda.amp (deprecated forms)")

    class autocast_cuda(autocast):
        def __init__(self, enabled=True, dtype=_dt.float16, cache_enabled=True):
            warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                          "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
                          stacklevel=2)
            super().__init__("cuda", enabled=enabled, dtype=dtype,
                             cache_enabled=cache_enabled)

    class GradScaler_cuda(GradScaler):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                     growth_interval=2000, enabled=True):
            warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                          "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                          stacklevel=2)
            super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval,
                             enabled=enabled)

    autocast_cuda.__name__ = autocast_cuda.__qualname__ = "autocast"
    GradScaler_cuda.__name__ = GradScaler_cuda.__qualname__ = "GradScaler"
    m.autocast, m.GradScaler = autocast_cuda, GradScaler_cuda
    m.custom_fwd, m.custom_bwd = custom_fwd, custom_bwd
    return m


def _cpu_amp():
    m = types.ModuleType("gpujit.cpu.amp", "torch.cpu.amp (deprecated forms)")

    class autocast_cpu(autocast):
        def __init__(self, enabled=True, dtype=None, cache_enabled=True):
            warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
                          "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning,
                          stacklevel=2)
            super().__init__("cpu", enabled=enabled, dtype=dtype,
                             cache_enabled=cache_enabled)

    autocast_cpu.__name__ = autocast_cpu.__qualname__ = "autocast"
    m.autocast = autocast_cpu
    return m


cuda_amp = sys.modules["gpujit.cuda.amp"] = _cuda_amp()
cpu_amp = sys.modules["gpujit.cpu.amp"] = _cpu_amp()
