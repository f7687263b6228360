"""torch.nn.parallel: DataParallel (one device; see nn/modules/compat.py)."""
from ..modules.compat import DataParallel  # noqa: F401

__all__ = ["DataParallel"]
