"""`torch.distributions.one_hot_categorical`, the module users import from:
OneHotCategorical (defined in `gpujit.distributions.discrete`)."""
from .discrete import OneHotCategorical

__all__ = ["OneHotCategorical"]
