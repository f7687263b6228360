"""torch.optim.nadam: NAdam under PyTorch's module path (defined in optim/adamax.py)."""
from .adamax import NAdam  # noqa: F401

__all__ = ["NAdam"]
