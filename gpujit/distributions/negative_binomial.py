"""`torch.distributions.negative_binomial`, the module users import from: NegativeBinomial
(defined in `gpujit.distributions.discrete_more`)."""
from .discrete_more import NegativeBinomial

__all__ = ["NegativeBinomial"]
