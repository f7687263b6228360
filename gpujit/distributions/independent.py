"""`torch.distributions.independent`, the module users import from: Independent (defined in
`gpujit.distributions.multivariate`)."""
from .multivariate import Independent

__all__ = ["Independent"]
