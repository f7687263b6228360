"""torch.nn.modules.pixelshuffle: PyTorch's module path for PixelShuffle / PixelUnshuffle (defined
in upsampling.py)."""
from .upsampling import PixelShuffle, PixelUnshuffle  # noqa: F401

__all__ = ["PixelShuffle", "PixelUnshuffle"]
