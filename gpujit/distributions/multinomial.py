"""`torch.distributions.multinomial`, the module users import from: Multinomial (defined in
`gpujit.distributions.discrete_more`)."""
from .discrete_more import Multinomial

__all__ = ["Multinomial"]
