"""`torch.distributions.gumbel`, the module users import from: Gumbel (defined in
`gpujit.distributions.transformed`)."""
from .transformed import Gumbel

__all__ = ["Gumbel"]
