"""torch.optim.adadelta: Adadelta under PyTorch's module path (defined in optim/adagrad.py)."""
from .adagrad import Adadelta  # noqa: F401

__all__ = ["Adadelta"]
