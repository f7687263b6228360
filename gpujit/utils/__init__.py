"""gpujit.utils: torch.utils' data loading (utils.data), activation checkpointing
(utils.checkpoint), hook handles (utils.hooks), pytrees (utils._pytree) and swap_tensors."""
from . import data  # noqa: F401
from . import checkpoint  # noqa: F401
from . import hooks  # noqa: F401
from . import _pytree  # noqa: F401
from . import benchmark  # noqa: F401
from . import dlpack  # noqa: F401
from . import model_zoo  # noqa: F401
from . import weak, _contextlib, deterministic  # noqa: F401
from ..ops.tensor_set import swap_tensors  # noqa: F401

__all__ = ["data", "checkpoint", "hooks", "_pytree", "benchmark", "dlpack",
           "model_zoo", "swap_tensors", "weak", "_contextlib", "deterministic"]
