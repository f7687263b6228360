"""`torch.distributions.bernoulli`, the module users import from: Bernoulli (defined in
`gpujit.distributions.discrete`)."""
from .discrete import Bernoulli

__all__ = ["Bernoulli"]
