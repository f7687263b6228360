"""`torch.distributions.multivariate_normal`, the module users import from:
MultivariateNormal (defined in `gpujit.distributions.multivariate`)."""
from . import multivariate as _impl
from .multivariate import MultivariateNormal

# (the private helpers libraries import from torch's module)
_batch_mv = _impl._batch_mv
_batch_mahalanobis = _impl._batch_mahalanobis
_precision_to_scale_tril = _impl._precision_to_scale_tril

__all__ = ["MultivariateNormal"]
