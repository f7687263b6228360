"""torch.utils.dlpack: from_dlpack / to_dlpack and DLPack's device codes."""
from ..ops.dlpack import DLDeviceType, from_dlpack, to_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]
