"""Learning-rate schedulers (torch.optim.lr_scheduler).

Each scheduler computes the next lr of every parameter group from the current one (PyTorch's
"chainable" form, so that schedulers compose); `step(epoch)` uses the closed form instead.
"""
from ..optimizer import Optimizer  # noqa: F401
from ._base import EPOCH_DEPRECATION_WARNING, LRScheduler, _LRScheduler  # noqa: F401
from ._base import LambdaLR, StepLR, MultiStepLR, LinearLR, CosineAnnealingLR  # noqa: F401
from ._plateau import ReduceLROnPlateau  # noqa: F401
from ._more import MultiplicativeLR, ConstantLR, ExponentialLR, PolynomialLR  # noqa: F401
from ._more import SequentialLR, ChainedScheduler  # noqa: F401
from ._cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR  # noqa: F401

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "SequentialLR", "CosineAnnealingLR", "ChainedScheduler",
           "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
           "PolynomialLR"]

# torch's schedulers are classes of torch.optim.lr_scheduler itself (their repr, pickles and
# type names say so); gpujit's are split over modules of this package
for _name in __all__ + ["_LRScheduler"]:
    globals()[_name].__module__ = __name__
del _name
