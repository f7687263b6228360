"""torch.autograd.variable: Variable under PyTorch's module path."""
from . import Variable  # noqa: F401

__all__ = ["Variable"]
