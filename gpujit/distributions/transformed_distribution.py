"""`torch.distributions.transformed_distribution`, the module users import from:
TransformedDistribution (defined in `gpujit.distributions.transformed`)."""
from .transformed import TransformedDistribution

__all__ = ["TransformedDistribution"]
