"""`torch.distributions.binomial`, the module users import from: Binomial (defined in
`gpujit.distributions.discrete_more`)."""
from .discrete_more import Binomial

__all__ = ["Binomial"]
