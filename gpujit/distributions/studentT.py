"""`torch.distributions.studentT`, the module users import from: StudentT (defined in
`gpujit.distributions.continuous_more`)."""
from .continuous_more import StudentT

__all__ = ["StudentT"]
