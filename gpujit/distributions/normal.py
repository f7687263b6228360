"""`torch.distributions.normal`, the module users import from: Normal (defined in
`gpujit.distributions.continuous`)."""
from .continuous import Normal

__all__ = ["Normal"]
