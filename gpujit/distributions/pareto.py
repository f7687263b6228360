"""`torch.distributions.pareto`, the module users import from: Pareto (defined in
`gpujit.distributions.transformed`)."""
from .transformed import Pareto

__all__ = ["Pareto"]
