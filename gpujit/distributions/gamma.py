"""`torch.distributions.gamma`, the module users import from: Gamma (defined in
`gpujit.distributions.continuous`)."""
from .continuous import Gamma

__all__ = ["Gamma"]
