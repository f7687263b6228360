"""`torch.distributions.multivariate_normal`, the module users import from:
MultivariateNormal (defined in `gpujit.distributions.multivariate`)."""
from .multivariate import MultivariateNormal

__all__ = ["MultivariateNormal"]
