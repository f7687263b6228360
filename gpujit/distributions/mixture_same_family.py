"""`torch.distributions.mixture_same_family`, the module users import from:
MixtureSameFamily (defined in `gpujit.distributions.mixture`)."""
from .mixture import MixtureSameFamily

__all__ = ["MixtureSameFamily"]
