"""torch.nn.modules.batchnorm: PyTorch's module path for the batch norm layers, which user code
imports (`from torch.nn.modules.batchnorm import _BatchNorm`, torchvision's RAFT imports
BatchNorm2d from here); the classes live in normalization.py, lazy.py and
normalization_extra.py."""
from .normalization import _NormBase, _BatchNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d  # noqa: F401
from .normalization_extra import SyncBatchNorm  # noqa: F401
from .lazy import (  # noqa: F401
    _LazyNormBase, LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d)

__all__ = ["BatchNorm1d", "LazyBatchNorm1d", "BatchNorm2d", "LazyBatchNorm2d", "BatchNorm3d",
           "LazyBatchNorm3d", "SyncBatchNorm"]
