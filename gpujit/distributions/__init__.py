"""`gpujit.distributions`: PyTorch's `torch.distributions` over gpujit ops.

log_prob, entropy, mean/variance, KL and reparameterized samples (`rsample`) are gpujit
op compositions, so they are differentiable into the parameters. Samples use gpujit's
generators (`gpujit.manual_seed` makes them reproducible; the numbers differ from
PyTorch's). Gamma, Beta, Chi2 and Dirichlet sample through NumPy's gamma sampler seeded
from gpujit's generator and are not reparameterized (has_rsample is False)."""
from . import constraints, transforms  # noqa: F401
from .constraint_registry import biject_to, transform_to
from .continuous import Beta, Exponential, Gamma, Laplace, Normal, Uniform
from .continuous_more import Cauchy, Chi2, Dirichlet, StudentT
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .discrete_more import Binomial, Geometric, Multinomial, NegativeBinomial, Poisson
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from . import kl_cross as _kl_cross, kl_more as _kl_more  # register more KL pairs
from .mixture import LowRankMultivariateNormal, MixtureSameFamily
from .multivariate import Independent, MultivariateNormal
from .relaxed import (ExpRelaxedCategorical, LogitRelaxedBernoulli, RelaxedBernoulli,
                      RelaxedOneHotCategorical)
from .transformed import (Gumbel, HalfCauchy, HalfNormal, LogisticNormal, LogNormal, Pareto,
                          TransformedDistribution, Weibull)
from .transforms import (AbsTransform, AffineTransform, CatTransform, ComposeTransform,
                         CumulativeDistributionTransform, ExpTransform, IndependentTransform,
                         LowerCholeskyTransform, PositiveDefiniteTransform, PowerTransform,
                         ReshapeTransform, SigmoidTransform, SoftmaxTransform,
                         SoftplusTransform, StackTransform, StickBreakingTransform,
                         TanhTransform, Transform)

del _kl_cross, _kl_more

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "CatTransform",
           "Categorical", "Cauchy", "Chi2", "ComposeTransform",
           "CumulativeDistributionTransform", "Dirichlet", "Distribution", "ExpTransform",
           "ExpRelaxedCategorical", "Exponential", "Gamma", "Geometric", "Gumbel",
           "HalfCauchy", "HalfNormal", "Independent", "IndependentTransform", "Laplace",
           "LogNormal", "LogisticNormal", "LogitRelaxedBernoulli", "LowRankMultivariateNormal",
           "LowerCholeskyTransform", "MixtureSameFamily", "Multinomial", "MultivariateNormal",
           "NegativeBinomial", "Normal", "OneHotCategorical", "Pareto", "Poisson",
           "PositiveDefiniteTransform", "PowerTransform", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "ReshapeTransform", "SigmoidTransform",
           "SoftmaxTransform", "SoftplusTransform", "StackTransform", "StickBreakingTransform",
           "StudentT", "TanhTransform", "Transform", "TransformedDistribution", "Uniform",
           "Weibull", "biject_to", "constraints", "kl_divergence", "register_kl",
           "transform_to", "transforms"]
