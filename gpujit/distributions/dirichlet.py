"""`torch.distributions.dirichlet`, the module users import from: Dirichlet (defined in
`gpujit.distributions.continuous_more`)."""
from .continuous_more import Dirichlet

__all__ = ["Dirichlet"]
