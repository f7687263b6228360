"""`torch.distributions.exponential`, the module users import from: Exponential (defined in
`gpujit.distributions.continuous`)."""
from .continuous import Exponential

__all__ = ["Exponential"]
