"""`torch.distributions.chi2`, the module users import from: Chi2 (defined in
`gpujit.distributions.continuous_more`)."""
from .continuous_more import Chi2

__all__ = ["Chi2"]
