"""gpujit.utils: torch.utils' data loading (utils.data), activation checkpointing
(utils.checkpoint) and hook handles (utils.hooks)."""
from . import data  # noqa: F401
from . import checkpoint  # noqa: F401
from . import hooks  # noqa: F401

__all__ = ["data", "checkpoint", "hooks"]
