"""torch.testing._creation: make_tensor (gpujit/_make_tensor.py)."""
from .._make_tensor import make_tensor

__all__ = ["make_tensor"]
