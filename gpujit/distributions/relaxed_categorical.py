"""`torch.distributions.relaxed_categorical`, the module users import from:
ExpRelaxedCategorical, RelaxedOneHotCategorical (defined in
`gpujit.distributions.relaxed`)."""
from .relaxed import ExpRelaxedCategorical, RelaxedOneHotCategorical

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]
