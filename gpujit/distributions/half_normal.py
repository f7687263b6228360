"""`torch.distributions.half_normal`, the module users import from: HalfNormal (defined in
`gpujit.distributions.transformed`)."""
from .transformed import HalfNormal

__all__ = ["HalfNormal"]
