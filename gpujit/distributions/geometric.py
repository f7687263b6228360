"""`torch.distributions.geometric`, the module users import from: Geometric (defined in
`gpujit.distributions.discrete_more`)."""
from .discrete_more import Geometric

__all__ = ["Geometric"]
