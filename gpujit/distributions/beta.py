"""`torch.distributions.beta`, the module users import from: Beta (defined in
`gpujit.distributions.continuous`)."""
from .continuous import Beta

__all__ = ["Beta"]
