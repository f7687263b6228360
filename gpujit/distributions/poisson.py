"""`torch.distributions.poisson`, the module users import from: Poisson (defined in
`gpujit.distributions.discrete_more`)."""
from .discrete_more import Poisson

__all__ = ["Poisson"]
