"""`torch.distributions.logistic_normal`, the module users import from: LogisticNormal
(defined in `gpujit.distributions.transformed`)."""
from .transformed import LogisticNormal

__all__ = ["LogisticNormal"]
