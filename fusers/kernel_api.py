"""The boundary to gpujit.kernels: the ArgSpec / KernelSpec dataclasses, `build`
(`default_builder`, looked up at each build so tests can replace it) and `cut_dims`
(the dims a DYNAMIC kernel with chunks is specialized on)."""
from __future__ import annotations

from gpujit.kernels import (ArgSpec, EmptySpace, KernelSpec, LauncherBusy, ShapeMismatch,
                            cut_dims)
from gpujit.kernels.cache import call_hit, register_maker

__all__ = ["ArgSpec", "EmptySpace", "KernelSpec", "LauncherBusy", "ShapeMismatch", "cut_dims",
           "default_builder", "register_maker", "call_hit"]


def default_builder(spec, target):
    """gpujit.kernels.build(spec, target)."""
    from gpujit import kernels
    return kernels.build(spec, target)
