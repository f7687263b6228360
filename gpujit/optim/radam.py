"""torch.optim.radam: RAdam under PyTorch's module path (defined in optim/adamax.py)."""
from .adamax import RAdam  # noqa: F401

__all__ = ["RAdam"]
