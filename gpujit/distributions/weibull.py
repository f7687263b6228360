"""`torch.distributions.weibull`, the module users import from: Weibull (defined in
`gpujit.distributions.transformed`)."""
from .transformed import Weibull

__all__ = ["Weibull"]
