"""The boundary to gpujit.kernels: the ArgSpec / KernelSpec dataclasses and `build`
(`default_builder`, looked up at each build so tests can replace it)."""
from __future__ import annotations

from gpujit.kernels import ArgSpec, KernelSpec, LauncherBusy

__all__ = ["ArgSpec", "KernelSpec", "LauncherBusy", "default_builder"]


def default_builder(spec, target):
    """gpujit.kernels.build(spec, target)."""
    from gpujit import kernels
    return kernels.build(spec, target)
