"""torch._tensor: Tensor under PyTorch's module path (`from torch._tensor import Tensor`)."""
from .tensor import Tensor  # noqa: F401

__all__ = ["Tensor"]
