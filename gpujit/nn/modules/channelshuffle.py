"""torch.nn.modules.channelshuffle: PyTorch's module path for ChannelShuffle (defined in
upsampling.py)."""
from .upsampling import ChannelShuffle  # noqa: F401

__all__ = ["ChannelShuffle"]
