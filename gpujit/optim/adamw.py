"""torch.optim.adamw: AdamW under PyTorch's module path (defined in optim/adam.py)."""
from .adam import AdamW  # noqa: F401

__all__ = ["AdamW"]
