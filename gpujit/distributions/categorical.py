"""`torch.distributions.categorical`, the module users import from: Categorical (defined in
`gpujit.distributions.discrete`)."""
from .discrete import Categorical

__all__ = ["Categorical"]
