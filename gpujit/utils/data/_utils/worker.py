"""torch.utils.data._utils.worker: WorkerInfo and get_worker_info under PyTorch's module path."""
from .._worker import WorkerInfo, get_worker_info  # noqa: F401

__all__ = ["WorkerInfo", "get_worker_info"]
