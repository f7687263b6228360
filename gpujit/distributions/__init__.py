"""`gpujit.distributions`: PyTorch's `torch.distributions` over gpujit ops.

log_prob, entropy, mean/variance, KL and reparameterized samples (`rsample`) are gpujit
op compositions, so they are differentiable into the parameters. Samples use gpujit's
generators (`gpujit.manual_seed` makes them reproducible; the numbers differ from
PyTorch's). Gamma and Beta sample through NumPy's gamma sampler seeded from gpujit's
generator and are not reparameterized (has_rsample is False)."""
from . import constraints  # noqa: F401
from .continuous import Beta, Exponential, Gamma, Laplace, Normal, Uniform
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .multivariate import Independent, MultivariateNormal

__all__ = ["Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Gamma",
           "Independent", "Laplace", "MultivariateNormal", "Normal", "OneHotCategorical",
           "Uniform", "constraints", "kl_divergence", "register_kl"]
