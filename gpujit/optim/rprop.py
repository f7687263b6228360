"""torch.optim.rprop: Rprop under PyTorch's module path (defined in optim/asgd.py)."""
from .asgd import Rprop  # noqa: F401

__all__ = ["Rprop"]
