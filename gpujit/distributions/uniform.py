"""`torch.distributions.uniform`, the module users import from: Uniform (defined in
`gpujit.distributions.continuous`)."""
from .continuous import Uniform

__all__ = ["Uniform"]
