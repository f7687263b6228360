"""`torch.distributions.lowrank_multivariate_normal`, the module users import from:
LowRankMultivariateNormal (defined in `gpujit.distributions.mixture`)."""
from .mixture import LowRankMultivariateNormal

__all__ = ["LowRankMultivariateNormal"]
