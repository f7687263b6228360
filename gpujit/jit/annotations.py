"""torch.jit.annotations: the BroadcastingListN annotations TorchScript code imports from
here (`from torch.jit.annotations import BroadcastingList2`), and the typing names torch's module re-exports
(`from torch.jit.annotations import List, Tuple` is common in older model code: timm's densenet, torchvision)."""
from typing import Any, Dict, List, Optional, Tuple, Union

from .._jit_internal import (BroadcastingList1, BroadcastingList2, BroadcastingList3,
                             BroadcastingList4, BroadcastingList5, BroadcastingList6)
from .futures import Future

__all__ = ["BroadcastingList1", "BroadcastingList2", "BroadcastingList3",
           "BroadcastingList4", "BroadcastingList5", "BroadcastingList6",
           "Any", "Dict", "List", "Optional", "Tuple", "Union", "Future"]
