"""`torch.distributions.laplace`, the module users import from: Laplace (defined in
`gpujit.distributions.continuous`)."""
from .continuous import Laplace

__all__ = ["Laplace"]
