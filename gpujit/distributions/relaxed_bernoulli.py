"""`torch.distributions.relaxed_bernoulli`, the module users import from:
LogitRelaxedBernoulli, RelaxedBernoulli (defined in `gpujit.distributions.relaxed`)."""
from .relaxed import LogitRelaxedBernoulli, RelaxedBernoulli

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]
