"""torch.nn.modules.instancenorm: PyTorch's module path for the instance norm layers (user code
imports `from torch.nn.modules.instancenorm import InstanceNorm2d`, `_InstanceNorm`); the classes
live in normalization.py and lazy.py."""
from .normalization import _InstanceNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d  # noqa: F401
from .lazy import LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d  # noqa: F401

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]
