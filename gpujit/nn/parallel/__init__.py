"""torch.nn.parallel: DataParallel (one device; see nn/modules/compat.py) and
DistributedDataParallel (over gpujit's one-rank process group; see distributed.py)."""
from ..modules.compat import DataParallel  # noqa: F401
from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DataParallel", "DistributedDataParallel"]
