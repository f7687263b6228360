"""`torch.distributions.log_normal`, the module users import from: LogNormal (defined in
`gpujit.distributions.transformed`)."""
from .transformed import LogNormal

__all__ = ["LogNormal"]
