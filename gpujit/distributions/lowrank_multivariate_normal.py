"""`torch.distributions.lowrank_multivariate_normal`, the module users import from:
LowRankMultivariateNormal (defined in `gpujit.distributions.mixture`)."""
from . import mixture as _impl
from .mixture import LowRankMultivariateNormal

# (the private helpers libraries import from torch's module)
_batch_capacitance_tril = _impl._batch_capacitance_tril
_batch_lowrank_logdet = _impl._batch_lowrank_logdet
_batch_lowrank_mahalanobis = _impl._batch_lowrank_mahalanobis

__all__ = ["LowRankMultivariateNormal"]
