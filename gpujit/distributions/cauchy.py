"""`torch.distributions.cauchy`, the module users import from: Cauchy (defined in
`gpujit.distributions.continuous_more`)."""
from .continuous_more import Cauchy

__all__ = ["Cauchy"]
