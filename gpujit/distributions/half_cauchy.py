"""`torch.distributions.half_cauchy`, the module users import from: HalfCauchy (defined in
`gpujit.distributions.transformed`)."""
from .transformed import HalfCauchy

__all__ = ["HalfCauchy"]
