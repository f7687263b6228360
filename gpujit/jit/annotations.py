"""torch.jit.annotations: the BroadcastingListN annotations TorchScript code imports from
here (`from torch.jit.annotations import BroadcastingList2`)."""
from .._jit_internal import (BroadcastingList1, BroadcastingList2, BroadcastingList3,
                             BroadcastingList4, BroadcastingList5, BroadcastingList6)

__all__ = ["BroadcastingList1", "BroadcastingList2", "BroadcastingList3",
           "BroadcastingList4", "BroadcastingList5", "BroadcastingList6"]
