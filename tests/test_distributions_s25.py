"""gpujit.distributions against torch.distributions 2.13 (session 25): torch's submodules
(`from gpujit.distributions.normal import Normal`, `...utils`), ExponentialFamily and its
Bregman entropy / KL fallback, and the families torch has that gpujit lacked
(ContinuousBernoulli, FisherSnedecor, GeneralizedPareto, InverseGamma, Kumaraswamy,
LKJCholesky, VonMises, Wishart, OneHotCategoricalStraightThrough, CorrCholeskyTransform).

NumPy / SciPy-free formulas are the references; the tests marked `torch` compare with
torch.distributions behind pytest.importorskip."""
import importlib
import math
import sys

import numpy as np
import pytest

import gpujit
import gpujit.distributions as D

# torch 2.13's pkgutil.iter_modules(torch.distributions.__path__) and each module's __all__
TORCH_MODULES = {
    "bernoulli": ["Bernoulli"], "beta": ["Beta"], "binomial": ["Binomial"],
    "categorical": ["Categorical"], "cauchy": ["Cauchy"], "chi2": ["Chi2"],
    "constraint_registry": ["ConstraintRegistry", "biject_to", "transform_to"],
    "constraints": ["Constraint", "boolean", "cat", "corr_cholesky", "dependent",
                    "dependent_property", "greater_than", "greater_than_eq", "independent",
                    "integer_interval", "interval", "half_open_interval", "is_dependent",
                    "less_than", "lower_cholesky", "lower_triangular",
                    "MixtureSameFamilyConstraint", "multinomial", "nonnegative",
                    "nonnegative_integer", "one_hot", "positive", "positive_semidefinite",
                    "positive_definite", "positive_integer", "real", "real_vector",
                    "simplex", "square", "stack", "symmetric", "unit_interval"],
    "dirichlet": ["Dirichlet"], "distribution": ["Distribution"],
    "exponential": ["Exponential"], "gamma": ["Gamma"], "geometric": ["Geometric"],
    "gumbel": ["Gumbel"], "half_cauchy": ["HalfCauchy"], "half_normal": ["HalfNormal"],
    "independent": ["Independent"], "kl": ["register_kl", "kl_divergence"],
    "laplace": ["Laplace"], "log_normal": ["LogNormal"],
    "logistic_normal": ["LogisticNormal"],
    "lowrank_multivariate_normal": ["LowRankMultivariateNormal"],
    "mixture_same_family": ["MixtureSameFamily"], "multinomial": ["Multinomial"],
    "multivariate_normal": ["MultivariateNormal"],
    "negative_binomial": ["NegativeBinomial"], "normal": ["Normal"],
    "one_hot_categorical": ["OneHotCategorical"], "pareto": ["Pareto"],
    "poisson": ["Poisson"], "relaxed_bernoulli": ["LogitRelaxedBernoulli", "RelaxedBernoulli"],
    "relaxed_categorical": ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"],
    "studentT": ["StudentT"], "transformed_distribution": ["TransformedDistribution"],
    "transforms": ["AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform",
                   "CumulativeDistributionTransform", "ExpTransform", "IndependentTransform",
                   "LowerCholeskyTransform", "PositiveDefiniteTransform", "PowerTransform",
                   "ReshapeTransform", "SigmoidTransform", "SoftplusTransform",
                   "TanhTransform", "SoftmaxTransform", "StackTransform",
                   "StickBreakingTransform", "Transform", "identity_transform"],
    "uniform": ["Uniform"],
    "utils": ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits",
              "lazy_property", "tril_matrix_to_vec", "vec_to_tril_matrix"],
    "weibull": ["Weibull"],
    "continuous_bernoulli": ["ContinuousBernoulli"], "exp_family": ["ExponentialFamily"],
    "fishersnedecor": ["FisherSnedecor"], "generalized_pareto": ["GeneralizedPareto"],
    "inverse_gamma": ["InverseGamma"], "kumaraswamy": ["Kumaraswamy"],
    "lkj_cholesky": ["LKJCholesky"], "von_mises": ["VonMises"], "wishart": ["Wishart"],
}
TORCH_MODULES["one_hot_categorical"].append("OneHotCategoricalStraightThrough")
TORCH_MODULES["transforms"].append("CorrCholeskyTransform")


def G(a, grad=False):
    return gpujit.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# ---------------------------------------------------------------------------- submodules

@pytest.mark.parametrize("mod", sorted(TORCH_MODULES))
def test_submodules_import_and_expose_torchs_names(mod):
    m = importlib.import_module("gpujit.distributions." + mod)
    assert sys.modules["gpujit.distributions." + mod] is m
    assert getattr(D, mod) is m                      # attribute access without an import
    for name in TORCH_MODULES[mod]:
        assert hasattr(m, name), (mod, name)
        assert name in m.__all__, (mod, name)
        if name[0].isupper() and hasattr(D, name):   # the same class as the package's
            assert getattr(m, name) is getattr(D, name)


def test_from_submodule_import_forms():
    from gpujit.distributions.normal import Normal
    from gpujit.distributions.categorical import Categorical
    from gpujit.distributions.multivariate_normal import MultivariateNormal
    from gpujit.distributions.relaxed_bernoulli import RelaxedBernoulli
    from gpujit.distributions.studentT import StudentT
    from gpujit.distributions.utils import broadcast_all, probs_to_logits
    assert broadcast_all is D.utils.broadcast_all and callable(probs_to_logits)
    import gpujit.distributions.transformed_distribution as tdm
    assert Normal is D.Normal and Categorical is D.Categorical
    assert MultivariateNormal is D.MultivariateNormal and StudentT is D.StudentT
    assert RelaxedBernoulli is D.RelaxedBernoulli
    assert tdm.TransformedDistribution is D.TransformedDistribution
    assert gpujit.distributions.normal.Normal is Normal
    from gpujit.distributions.utils import euler_constant
    from gpujit.distributions.multivariate_normal import _batch_mahalanobis
    assert euler_constant == 0.57721566490153286060
    L = G([[2.0, 0.0], [1.0, 3.0]])
    np.testing.assert_allclose(_batch_mahalanobis(L, G([1.0, 2.0])).numpy(), 0.25 + 0.25)
    from gpujit.distributions.constraints import MixtureSameFamilyConstraint
    mix = D.MixtureSameFamily(D.Categorical(probs=G([0.3, 0.7])),
                              D.Normal(G([0., 1.]), G([1., 2.])))
    assert isinstance(mix.support, MixtureSameFamilyConstraint)
    with pytest.raises(AssertionError):
        MixtureSameFamilyConstraint(3)


def test_submodule_list_matches_torch():
    torch = pytest.importorskip("torch")
    import pkgutil
    tmods = {m.name for m in pkgutil.iter_modules(torch.distributions.__path__)}
    gmods = {m.name for m in pkgutil.iter_modules(D.__path__)}
    assert tmods <= gmods, sorted(tmods - gmods)
    for mod in tmods:
        tm = importlib.import_module("torch.distributions." + mod)
        gm = importlib.import_module("gpujit.distributions." + mod)
        assert set(getattr(tm, "__all__", [])) <= set(gm.__all__), mod
    assert set(torch.distributions.__all__) <= set(D.__all__)


# ---------------------------------------------------------------------------- utils

def _np_tril_vec(m, diag):
    n = m.shape[-1]
    rows, cols = np.nonzero(np.arange(n)[None, :] < np.arange(n)[:, None] + diag + 1)
    return m[..., rows, cols]


@pytest.mark.parametrize("diag", [-2, -1, 0, 1, 2])
def test_tril_matrix_to_vec_and_back(diag):
    from gpujit.distributions.utils import tril_matrix_to_vec, vec_to_tril_matrix
    m = np.random.RandomState(1).randn(2, 3, 3)
    v = tril_matrix_to_vec(G(m), diag)
    np.testing.assert_allclose(v.numpy(), _np_tril_vec(m, diag))
    back = vec_to_tril_matrix(v, diag).numpy()
    mask = np.arange(3)[None, :] < np.arange(3)[:, None] + diag + 1
    np.testing.assert_allclose(back, np.where(mask, m, 0.0))
    vg = G(np.random.RandomState(2).randn(2, v.shape[-1]), grad=True)
    assert gpujit.autograd.gradcheck(lambda x: vec_to_tril_matrix(x, diag), (vg,))
    mg = G(m, grad=True)
    assert gpujit.autograd.gradcheck(lambda x: tril_matrix_to_vec(x, diag), (mg,))


def test_tril_vec_errors():
    from gpujit.distributions.utils import tril_matrix_to_vec, vec_to_tril_matrix
    with pytest.raises(ValueError, match=r"diag \(3\) provided is outside \[-3, 2\]"):
        tril_matrix_to_vec(G(np.zeros((3, 3))), 3)
    with pytest.raises(ValueError, match="size of last dimension is 5"):
        vec_to_tril_matrix(G(np.zeros(5)))


# ---------------------------------------------------------------------------- ExponentialFamily

def _np_normal_entropy(scale):
    return 0.5 + 0.5 * np.log(2 * np.pi) + np.log(scale)


EXPFAM = ["Normal", "Exponential", "Gamma", "Beta", "Bernoulli", "Poisson", "Dirichlet"]


def _expfam(name, k=1.0):
    a = np.array([0.4, 1.7])
    return {"Normal": lambda: D.Normal(G(a - 1), G(a * k)),
            "Exponential": lambda: D.Exponential(G(a * k)),
            "Gamma": lambda: D.Gamma(G(a), G(a[::-1] * k)),
            "Beta": lambda: D.Beta(G(a * k), G(a[::-1])),
            "Bernoulli": lambda: D.Bernoulli(G(a / 2.1 / k)),
            "Poisson": lambda: D.Poisson(G(a * k)),
            "Dirichlet": lambda: D.Dirichlet(G([[0.5, 2.0, 1.2]]) * k)}[name]()


@pytest.mark.parametrize("name", EXPFAM)
def test_exponential_family_members_and_bregman_kl(name):
    p, q = _expfam(name), _expfam(name, 1.2)
    assert isinstance(p, D.ExponentialFamily)
    assert issubclass(getattr(D, name), D.ExponentialFamily)
    # the Bregman fallback equals the closed form registered for the pair
    from gpujit.distributions.kl import _kl_expfamily_expfamily
    np.testing.assert_allclose(_kl_expfamily_expfamily(p, q).detach().numpy(),
                               D.kl_divergence(p, q).detach().numpy(), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("name", ["Normal", "Exponential", "Gamma", "Bernoulli"])
def test_exponential_family_bregman_entropy(name):
    p = _expfam(name)
    np.testing.assert_allclose(D.ExponentialFamily.entropy(p).detach().numpy(),
                               p.entropy().detach().numpy(), rtol=1e-10)
    if name == "Normal":
        np.testing.assert_allclose(D.ExponentialFamily.entropy(p).detach().numpy(),
                                   _np_normal_entropy(np.array([0.4, 1.7])), rtol=1e-12)


def test_exponential_family_abstract_members_and_cross_kl():
    class NoCarrier(D.ExponentialFamily):
        arg_constraints = {}

    d = NoCarrier(validate_args=False)
    with pytest.raises(NotImplementedError):
        d._natural_params
    with pytest.raises(NotImplementedError):
        d._log_normalizer(G(1.0))
    with pytest.raises(NotImplementedError):
        d.entropy()
    with pytest.raises(NotImplementedError):        # Beta: no carrier measure (as torch)
        D.ExponentialFamily.entropy(_expfam("Beta"))
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl_divergence(_expfam("Bernoulli"), _expfam("Normal"))


def test_exponential_family_user_subclass_gets_entropy_and_kl():
    # a user's family (scaled Exponential as natural param -rate) with no KL registered
    class MyExp(D.ExponentialFamily):
        arg_constraints = {}
        _mean_carrier_measure = 0

        def __init__(self, rate):
            self.rate = rate
            super().__init__(rate.shape, validate_args=False)

        @property
        def _natural_params(self):
            return (-self.rate,)

        def _log_normalizer(self, x):
            return -gpujit.log(-x)

    r1, r2 = np.array([0.5, 2.0]), np.array([1.5, 0.7])
    p, q = MyExp(G(r1)), MyExp(G(r2, grad=True))
    np.testing.assert_allclose(p.entropy().detach().numpy(), 1 - np.log(r1), rtol=1e-12)
    kl = D.kl_divergence(p, q)
    np.testing.assert_allclose(kl.detach().numpy(), np.log(r1 / r2) + r2 / r1 - 1,
                               rtol=1e-12)
    kl.sum().backward()            # differentiable into q's parameters
    np.testing.assert_allclose(q.rate.grad.numpy(), -1 / r2 + 1 / r1, rtol=1e-12)


def test_exponential_family_against_torch():
    torch = pytest.importorskip("torch")
    for name in EXPFAM:
        g, t = _expfam(name), None
        targs = {k: torch.tensor(v.detach().numpy()) for k, v in g.__dict__.items()
                 if k in g.arg_constraints and isinstance(v, gpujit.Tensor)}
        t = getattr(torch.distributions, name)(**targs)
        assert isinstance(t, torch.distributions.ExponentialFamily)
        for a, b in zip(g._natural_params, t._natural_params):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(g._log_normalizer(*g._natural_params).detach().numpy(),
                                   t._log_normalizer(*t._natural_params).detach().numpy(),
                                   rtol=1e-12)


# ---------------------------------------------------------------------------- helpers

_GL_X, _GL_W = np.polynomial.legendre.leggauss(400)


def _quad(f, a, b):
    """Integral of the vectorized f over [a, b] (400-point Gauss-Legendre, per batch
    element: f maps an (n, 1) array of points to (n, batch))."""
    x = (b - a) / 2 * _GL_X[:, None] + (a + b) / 2
    return (b - a) / 2 * (_GL_W[:, None] * f(x)).sum(0)


def _check_sample_moments(d, n=40000, k=5.0):
    gpujit.manual_seed(0)
    s = d.sample((n,))
    assert tuple(s.shape) == (n,) + tuple(d.batch_shape) + tuple(d.event_shape)
    s = s.double().numpy()
    mean, var = d.mean.detach().numpy(), d.variance.detach().numpy()
    np.testing.assert_array_less(np.abs(s.mean(0) - mean), k * np.sqrt(var / n) + 1e-12)
    # the sample variance's standard error from the fourth central moment
    m4 = ((s - s.mean(0)) ** 4).mean(0)
    np.testing.assert_array_less(np.abs(s.var(0) - var), k * np.sqrt((m4 - var ** 2) / n)
                                 + 1e-12)


def _check_expand(d, batch):
    e = d.expand(batch)
    assert type(e) is type(d) and tuple(e.batch_shape) == batch
    assert tuple(e.event_shape) == tuple(d.event_shape)
    gpujit.manual_seed(1)
    assert tuple(e.sample((2,)).shape) == (2,) + batch + tuple(d.event_shape)
    np.testing.assert_allclose(e.mean.detach().numpy(),
                               np.broadcast_to(d.mean.detach().numpy(),
                                               batch + tuple(d.event_shape)))


# ---------------------------------------------------------------------------- ContinuousBernoulli

CB_P = np.array([0.1, 0.4995, 0.5, 0.7, 0.95])


def _np_cb_logC(p):
    safe = np.where(np.abs(p - 0.5) < 1e-3, 0.3, p)
    exact = np.log(2 * np.arctanh(1 - 2 * safe) / (1 - 2 * safe))
    x = (p - 0.5) ** 2
    return np.where(np.abs(p - 0.5) < 1e-3, np.log(2) + (4 / 3 + 104 / 45 * x) * x, exact)


def _np_cb_pdf(x, p):
    return np.exp(_np_cb_logC(p) + x * np.log(p) + (1 - x) * np.log1p(-p))


def test_continuous_bernoulli_against_numpy():
    p = CB_P
    for d in (D.ContinuousBernoulli(probs=G(p)),
              D.ContinuousBernoulli(logits=G(np.log(p / (1 - p))))):
        assert isinstance(d, D.ExponentialFamily) and d.has_rsample
        x = np.array([0.3, 0.0, 1.0, 0.6, 0.9])
        np.testing.assert_allclose(d.log_prob(G(x)).numpy(),
                                   np.log(_np_cb_pdf(x, p)), rtol=1e-6)
        pdf = lambda t: _np_cb_pdf(t, p)  # noqa: E731
        mean = _quad(lambda t: t * pdf(t), 0.0, 1.0)
        np.testing.assert_allclose(_quad(pdf, 0.0, 1.0), 1.0, rtol=1e-6)
        np.testing.assert_allclose(d.mean.numpy(), mean, rtol=1e-6)
        np.testing.assert_allclose(d.variance.numpy(),
                                   _quad(lambda t: (t - mean) ** 2 * pdf(t), 0.0, 1.0),
                                   rtol=1e-5)
        np.testing.assert_allclose(d.entropy().numpy(),
                                   _quad(lambda t: -pdf(t) * np.log(pdf(t)), 0.0, 1.0),
                                   rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(D.ExponentialFamily.entropy(d).detach().numpy(),
                                   d.entropy().numpy(), rtol=1e-6, atol=1e-9)
        cdf = np.array([_quad(pdf, 0.0, xi)[i] for i, xi in enumerate(x)])
        np.testing.assert_allclose(d.cdf(G(x)).numpy(), cdf, rtol=1e-6, atol=1e-12)
        u = np.array([0.2, 0.5, 0.9, 0.01, 0.7])
        np.testing.assert_allclose(d.cdf(d.icdf(G(u))).numpy(), u, rtol=1e-6)
        assert repr(d.support) == "Interval(lower_bound=0.0, upper_bound=1.0)"
        assert set(d.arg_constraints) == {"probs", "logits"}
        _check_sample_moments(d)
        _check_expand(D.ContinuousBernoulli(probs=G(p[:1])), (3, 2))


def test_continuous_bernoulli_gradients_and_validation():
    for p in (np.array([0.2, 0.8]), np.array([0.4996, 0.5003])):
        pg = G(p, grad=True)
        x = G([0.3, 0.7])
        assert gpujit.autograd.gradcheck(
            lambda q: D.ContinuousBernoulli(probs=q).log_prob(x), (pg,))
        lg = G(np.log(p / (1 - p)), grad=True)
        u = G([0.25, 0.6])
        assert gpujit.autograd.gradcheck(
            lambda l_: D.ContinuousBernoulli(logits=l_).icdf(u), (lg,))
        assert gpujit.autograd.gradcheck(
            lambda l_: D.ContinuousBernoulli(logits=l_).entropy(), (lg,))
    gpujit.manual_seed(3)
    lg = G([0.5, -1.0], grad=True)
    D.ContinuousBernoulli(logits=lg).rsample((5,)).sum().backward()
    assert lg.grad is not None and np.isfinite(lg.grad.numpy()).all()
    with pytest.raises(ValueError, match="The parameter probs has invalid values"):
        D.ContinuousBernoulli(probs=G([1.5]), validate_args=True)
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.ContinuousBernoulli()
    with pytest.raises(ValueError, match="to be within the support"):
        D.ContinuousBernoulli(probs=G([0.3]), validate_args=True).log_prob(G([1.2]))


def test_continuous_bernoulli_kl():
    p = D.ContinuousBernoulli(probs=G(CB_P))
    q = D.ContinuousBernoulli(probs=G([0.3, 0.2, 0.6, 0.5, 0.1]))
    pdf_p = lambda t: _np_cb_pdf(t, CB_P)                              # noqa: E731
    pdf_q = lambda t: _np_cb_pdf(t, np.array([0.3, 0.2, 0.6, 0.5, 0.1]))  # noqa: E731
    np.testing.assert_allclose(D.kl_divergence(p, q).numpy(),
                               _quad(lambda t: pdf_p(t) * np.log(pdf_p(t) / pdf_q(t)), 0, 1),
                               rtol=1e-6, atol=1e-9)
    loc, scale = 0.3, 2.0
    def npdf(t):
        return np.exp(-0.5 * ((t - loc) / scale) ** 2) / (scale * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(D.kl_divergence(p, D.Normal(G(loc), G(scale))).numpy(),
                               _quad(lambda t: pdf_p(t) * np.log(pdf_p(t) / npdf(t)), 0, 1),
                               rtol=1e-6)
    np.testing.assert_allclose(D.kl_divergence(p, D.Exponential(G(2.0))).numpy(),
                               _quad(lambda t: pdf_p(t) * (np.log(pdf_p(t)) - np.log(2.0)
                                                           + 2.0 * t), 0, 1), rtol=1e-6)
    assert np.isinf(D.kl_divergence(D.Normal(G(0.), G(1.)), p).numpy()).all()
    assert np.isinf(D.kl_divergence(p, D.Uniform(G(0.1), G(0.9))).numpy()).all()
    assert np.isinf(D.kl_divergence(D.Uniform(G(-0.1), G(0.9)), p).numpy()).all()
    kl_u = D.kl_divergence(D.Uniform(G(0.2), G(0.7)), q).numpy()
    np.testing.assert_allclose(kl_u, _quad(lambda t: 2.0 * np.log(2.0 / pdf_q(t)), 0.2, 0.7),
                               rtol=1e-6)
    with pytest.raises(NotImplementedError):
        D.kl_divergence(p, D.Gamma(G(2.0), G(1.0)))


def test_one_hot_categorical_straight_through():
    from gpujit.distributions.one_hot_categorical import OneHotCategoricalStraightThrough
    assert OneHotCategoricalStraightThrough is D.OneHotCategoricalStraightThrough
    logits = np.array([[0.1, 0.5, -0.3], [1.0, 2.0, 3.0]])
    lg = G(logits, grad=True)
    d = D.OneHotCategoricalStraightThrough(logits=lg)
    assert d.has_rsample and isinstance(d, D.OneHotCategorical)
    gpujit.manual_seed(0)
    s = d.rsample((4,))
    assert tuple(s.shape) == (4, 2, 3) and s.requires_grad
    np.testing.assert_array_equal(s.detach().numpy().sum(-1), 1.0)
    w = np.array([1.0, 2.0, 3.0])
    (s * G(w)).sum().backward()
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    # d/dlogits of 4 * sum(probs * w): the softmax Jacobian
    expect = 4 * probs * (w - (probs * w).sum(-1, keepdims=True))
    np.testing.assert_allclose(lg.grad.numpy(), expect, rtol=1e-12)
    e = d.expand((5, 2))
    assert type(e) is D.OneHotCategoricalStraightThrough and tuple(e.rsample().shape) == (5, 2, 3)
    np.testing.assert_allclose(d.log_prob(G([[0, 1, 0], [0, 0, 1]])).detach().numpy(),
                               np.log(probs[[0, 1], [1, 2]]), rtol=1e-12)


# ---------------------------------------------------------------------------- five families

_lgamma = np.vectorize(math.lgamma)


def _np_invgamma_logpdf(x, a, b):
    return a * np.log(b) - _lgamma(a) - (a + 1) * np.log(x) - b / x


def _np_kumaraswamy_logpdf(x, a, b):
    return np.log(a * b) + (a - 1) * np.log(x) + (b - 1) * np.log1p(-x ** a)


def _np_fisher_logpdf(x, d1, d2):
    return (_lgamma((d1 + d2) / 2) - _lgamma(d1 / 2) - _lgamma(d2 / 2)
            + d1 / 2 * np.log(d1 / d2) + (d1 / 2 - 1) * np.log(x)
            - (d1 + d2) / 2 * np.log1p(d1 / d2 * x))


def _np_gpd_logpdf(x, loc, scale, xi):
    z = (x - loc) / scale
    safe = np.where(xi == 0, 1.0, xi)
    return -np.log(scale) - np.where(xi == 0, z, (1 / safe + 1) * np.log1p(safe * z))


def _np_vonmises_logpdf(x, loc, k):
    return k * np.cos(x - loc) - np.log(2 * np.pi * np.i0(k))


def _check_quadrature(d, logpdf, lo, hi, mean=True, var=True, entropy=True, rtol=1e-6):
    pdf = lambda t: np.exp(logpdf(t))  # noqa: E731
    np.testing.assert_allclose(_quad(pdf, lo, hi), 1.0, rtol=rtol)
    m = _quad(lambda t: t * pdf(t), lo, hi)
    if mean:
        np.testing.assert_allclose(d.mean.detach().numpy(), m, rtol=rtol)
    if var:
        np.testing.assert_allclose(d.variance.detach().numpy(),
                                   _quad(lambda t: (t - m) ** 2 * pdf(t), lo, hi), rtol=rtol)
    if entropy:
        np.testing.assert_allclose(d.entropy().detach().numpy(),
                                   _quad(lambda t: -pdf(t) * logpdf(t), lo, hi), rtol=rtol)


def test_inverse_gamma_against_numpy():
    a, b = np.array([3.5, 6.0]), np.array([1.0, 2.5])
    d = D.InverseGamma(G(a), G(b))
    assert isinstance(d, D.TransformedDistribution) and repr(d.support) == repr(
        D.constraints.positive)
    x = np.array([0.3, 1.7])
    np.testing.assert_allclose(d.log_prob(G(x)).numpy(), _np_invgamma_logpdf(x, a, b),
                               rtol=1e-12)
    np.testing.assert_allclose(d.mean.numpy(), b / (a - 1), rtol=1e-12)
    np.testing.assert_allclose(d.mode.numpy(), b / (a + 1), rtol=1e-12)
    np.testing.assert_allclose(d.variance.numpy(), b ** 2 / ((a - 1) ** 2 * (a - 2)),
                               rtol=1e-12)
    # (the density is smooth on (0, 40]: a 400-point rule on [1e-3, 40] holds the mass)
    _check_quadrature(d, lambda t: _np_invgamma_logpdf(t, a, b), 1e-3, 40.0, mean=False,
                      var=False, rtol=1e-4)
    cdf = np.array([_quad(lambda t: np.exp(_np_invgamma_logpdf(t, a, b)), 1e-4, xi)[i]
                    for i, xi in enumerate(x)])
    np.testing.assert_allclose(d.cdf(G(x)).numpy(), cdf, rtol=1e-6)
    low = D.InverseGamma(G([0.5, 1.5]), G([1.0, 1.0]))
    assert np.isinf(low.mean.numpy()[0]) and np.isinf(low.variance.numpy()).all()
    _check_sample_moments(D.InverseGamma(G([9.0, 12.0]), G([2.0, 5.0])))
    _check_expand(D.InverseGamma(G([3.0]), G([2.0])), (2, 3))
    ag, bg = G(a, grad=True), G(b, grad=True)
    assert gpujit.autograd.gradcheck(lambda p, q: D.InverseGamma(p, q).log_prob(G(x)),
                                     (ag, bg))
    assert gpujit.autograd.gradcheck(lambda p, q: D.InverseGamma(p, q).entropy(), (ag, bg))
    with pytest.raises(ValueError, match="concentration"):
        D.InverseGamma(G([-1.0]), G([1.0]), validate_args=True)
    with pytest.raises(ValueError, match="support"):
        D.InverseGamma(G([1.0]), G([1.0]), validate_args=True).log_prob(G([-1.0]))


def test_kumaraswamy_against_numpy():
    a, b = np.array([0.7, 2.5, 4.0]), np.array([1.5, 0.9, 3.0])
    d = D.Kumaraswamy(G(a), G(b))
    x = np.array([0.3, 0.8, 0.55])
    np.testing.assert_allclose(d.log_prob(G(x)).numpy(), _np_kumaraswamy_logpdf(x, a, b),
                               rtol=1e-12)
    np.testing.assert_allclose(d.cdf(G(x)).numpy(), 1 - (1 - x ** a) ** b, rtol=1e-12)
    u = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(d.icdf(G(u)).numpy(), (1 - (1 - u) ** (1 / b)) ** (1 / a),
                               rtol=1e-12)
    # E[X^n] = b B(1 + n/a, b)
    m1 = b * np.exp(_lgamma(1 + 1 / a) + _lgamma(b) - _lgamma(1 + 1 / a + b))
    m2 = b * np.exp(_lgamma(1 + 2 / a) + _lgamma(b) - _lgamma(1 + 2 / a + b))
    np.testing.assert_allclose(d.mean.numpy(), m1, rtol=1e-12)
    np.testing.assert_allclose(d.variance.numpy(), m2 - m1 ** 2, rtol=1e-12)
    smooth = D.Kumaraswamy(G([2.5, 4.0]), G([1.5, 3.0]))
    _check_quadrature(smooth, lambda t: _np_kumaraswamy_logpdf(t, np.array([2.5, 4.0]),
                                                               np.array([1.5, 3.0])), 0, 1)
    mode = d.mode.numpy()
    assert np.isnan(mode[:2]).all()          # a < 1 or b < 1: no interior mode
    np.testing.assert_allclose(mode[2], ((a[2] - 1) / (a[2] * b[2] - 1)) ** (1 / a[2]),
                               rtol=1e-12)
    # (the density's maximum, on a grid; torch 2.13's mode is nan here: its bug)
    grid = np.linspace(1e-4, 1 - 1e-4, 200001)
    for ai, bi in [(4.0, 3.0), (2.0, 1.5), (1.5, 7.0)]:
        m = D.Kumaraswamy(G(ai), G(bi)).mode.numpy()
        np.testing.assert_allclose(m, grid[np.argmax(_np_kumaraswamy_logpdf(grid, ai, bi))],
                                   atol=1e-5)
    assert d.has_rsample
    _check_sample_moments(d)
    _check_expand(D.Kumaraswamy(G([2.0]), G([3.0])), (4,))
    ag, bg = G(a, grad=True), G(b, grad=True)
    assert gpujit.autograd.gradcheck(lambda p, q: D.Kumaraswamy(p, q).log_prob(G(x)),
                                     (ag, bg))
    assert gpujit.autograd.gradcheck(lambda p, q: D.Kumaraswamy(p, q).entropy(), (ag, bg))

    def rs(p, q):
        gpujit.manual_seed(5)
        return D.Kumaraswamy(p, q).rsample((3,))
    assert gpujit.autograd.gradcheck(rs, (ag, bg))
    with pytest.raises(ValueError, match="concentration0"):
        D.Kumaraswamy(G([1.0]), G([0.0]), validate_args=True)


def test_fisher_snedecor_against_numpy():
    d1, d2 = np.array([3.0, 7.5]), np.array([12.0, 20.0])
    d = D.FisherSnedecor(G(d1), G(d2))
    x = np.array([0.4, 2.2])
    np.testing.assert_allclose(d.log_prob(G(x)).numpy(), _np_fisher_logpdf(x, d1, d2),
                               rtol=1e-12)
    np.testing.assert_allclose(d.mean.numpy(), d2 / (d2 - 2), rtol=1e-12)
    np.testing.assert_allclose(d.mode.numpy(), (d1 - 2) / d1 * d2 / (d2 + 2), rtol=1e-12)
    np.testing.assert_allclose(
        d.variance.numpy(), 2 * d2 ** 2 * (d1 + d2 - 2) / (d1 * (d2 - 2) ** 2 * (d2 - 4)),
        rtol=1e-12)
    small = D.FisherSnedecor(G([1.0, 3.0]), G([2.0, 3.0]))
    assert np.isnan(small.mean.numpy()[0]) and np.isnan(small.variance.numpy()).all()
    assert np.isnan(small.mode.numpy()[0])
    _check_sample_moments(d, n=60000)
    _check_expand(D.FisherSnedecor(G([3.0]), G([12.0])), (2, 2))
    dg1, dg2 = G(d1, grad=True), G(d2, grad=True)
    assert gpujit.autograd.gradcheck(lambda p, q: D.FisherSnedecor(p, q).log_prob(G(x)),
                                     (dg1, dg2))
    gpujit.manual_seed(0)
    D.FisherSnedecor(dg1, dg2).rsample((4,)).sum().backward()
    assert np.isfinite(dg1.grad.numpy()).all() and np.isfinite(dg2.grad.numpy()).all()
    # (as torch: the inner Gamma(df / 2, df) validates first, with its own message)
    with pytest.raises(ValueError, match="concentration"):
        D.FisherSnedecor(G([1.0]), G([-2.0]), validate_args=True)
    with pytest.raises(ValueError, match="support"):
        D.FisherSnedecor(G([1.0]), G([2.0]), validate_args=True).log_prob(G([-2.0]))


def test_generalized_pareto_against_numpy():
    loc, scale = np.array([0.0, 1.0, -1.0, 0.5]), np.array([1.0, 2.0, 0.5, 3.0])
    xi = np.array([0.0, 0.3, -0.2, -0.45])
    d = D.GeneralizedPareto(G(loc), G(scale), G(xi))
    x = np.array([0.3, 1.5, -0.5, 1.0])
    np.testing.assert_allclose(d.log_prob(G(x)).numpy(), _np_gpd_logpdf(x, loc, scale, xi),
                               rtol=1e-12)
    z = (x - loc) / scale
    safe = np.where(xi == 0, 1.0, xi)
    sf = np.where(xi == 0, np.exp(-z), (1 + safe * z) ** (-1 / safe))
    np.testing.assert_allclose(d.cdf(G(x)).numpy(), 1 - sf, rtol=1e-12)
    np.testing.assert_allclose(d.log_survival_function(G(x)).numpy(), np.log(sf), rtol=1e-12)
    u = np.array([0.1, 0.5, 0.9, 0.3])
    np.testing.assert_allclose(d.cdf(d.icdf(G(u))).numpy(), u, rtol=1e-12)
    np.testing.assert_allclose(d.mean.numpy(), loc + scale / (1 - xi), rtol=1e-12)
    np.testing.assert_allclose(d.variance.numpy(),
                               scale ** 2 / ((1 - xi) ** 2 * (1 - 2 * xi)), rtol=1e-12)
    np.testing.assert_allclose(d.entropy().numpy(), np.log(scale) + xi + 1, rtol=1e-12)
    upper = np.where(xi < 0, loc - scale / np.where(xi < 0, xi, 1.0), np.inf)
    np.testing.assert_array_equal(d.support.upper_bound.numpy(), upper)
    np.testing.assert_array_equal(d.support.lower_bound.numpy(), loc)
    heavy = D.GeneralizedPareto(G([0.0, 0.0]), G([1.0, 1.0]), G([1.5, 0.7]))
    assert np.isnan(heavy.mean.numpy()[0]) and np.isnan(heavy.variance.numpy()).all()
    light = D.GeneralizedPareto(G([0.0, 1.0]), G([1.0, 2.0]), G([-0.3, 0.1]))
    _check_sample_moments(light)
    _check_expand(D.GeneralizedPareto(G([0.0]), G([1.0]), G([0.1])), (3,))
    params = [G(loc, grad=True), G(scale, grad=True), G(xi[1:].tolist() + [0.2], grad=True)]
    x2 = G([0.3, 1.5, -0.5, 1.0])
    assert gpujit.autograd.gradcheck(
        lambda a, b, c: D.GeneralizedPareto(a, b, c).log_prob(x2), params)

    def rs(a, b, c):
        gpujit.manual_seed(2)
        return D.GeneralizedPareto(a, b, c).rsample((3,))
    assert gpujit.autograd.gradcheck(rs, params)
    with pytest.raises(ValueError, match="scale"):
        D.GeneralizedPareto(G([0.0]), G([-1.0]), G([0.1]), validate_args=True)
    with pytest.raises(ValueError, match="support"):
        D.GeneralizedPareto(G([0.0]), G([1.0]), G([-0.5]), validate_args=True).log_prob(
            G([3.0]))


def test_von_mises_against_numpy():
    loc, k = np.array([0.0, 1.0, -2.0, 3.0]), np.array([0.5, 2.0, 5.0, 20.0])
    d = D.VonMises(G(loc), G(k))
    x = np.array([0.3, 1.5, -0.5, 4.0])
    # (torch's polynomial Bessel approximations hold to about 1e-7)
    np.testing.assert_allclose(d.log_prob(G(x)).numpy(), _np_vonmises_logpdf(x, loc, k),
                               rtol=1e-6)
    i1 = _quad(lambda t: np.exp(k * np.cos(t)) * np.cos(t), 0.0, np.pi) / np.pi
    np.testing.assert_allclose(d.variance.numpy(), 1 - i1 / np.i0(k), rtol=1e-5)
    np.testing.assert_array_equal(d.mean.numpy(), loc)
    np.testing.assert_array_equal(d.mode.numpy(), loc)
    assert not d.has_rsample and repr(d.support) == "Real()"
    gpujit.manual_seed(0)
    s = d.sample((20000,))
    assert s.dtype == gpujit.float64 and tuple(s.shape) == (20000, 4)
    s = s.numpy()
    assert (np.abs(s) <= np.pi).all()
    r = np.exp(1j * s).mean(0)                          # mean resultant vector
    np.testing.assert_allclose(np.angle(r * np.exp(-1j * loc)), 0.0, atol=0.05)
    np.testing.assert_allclose(1 - np.abs(r), d.variance.numpy(), atol=0.02)
    f32 = D.VonMises(gpujit.tensor([0.5], dtype=gpujit.float32),
                     gpujit.tensor([1e-6], dtype=gpujit.float32))
    assert f32.sample((10,)).dtype == gpujit.float32       # (tiny kappa: no hang)
    e = d.expand((2, 4))
    assert type(e) is D.VonMises and tuple(e.batch_shape) == (2, 4)
    lg, kg = G(loc, grad=True), G(k, grad=True)
    assert gpujit.autograd.gradcheck(lambda a, b: D.VonMises(a, b).log_prob(G(x)), (lg, kg))
    with pytest.raises(ValueError, match="concentration"):
        D.VonMises(G([0.0]), G([-1.0]), validate_args=True)


SWEEP = [
    ("InverseGamma", ([0.5, 1.5, 2.5, 4.0], [1.0, 2.0, 0.5, 3.0]), [0.3, 1.0, 2.0, 5.0]),
    ("Kumaraswamy", ([0.5, 1.5, 2.5, 4.0], [1.0, 2.0, 0.5, 3.0]), [0.3, 0.1, 0.5, 0.9]),
    ("FisherSnedecor", ([0.5, 3.0, 2.5, 6.0], [1.0, 2.5, 5.0, 9.0]), [0.3, 1.0, 2.0, 5.0]),
    ("VonMises", ([0.0, 1.0, -2.0, 3.0], [0.5, 2.0, 5.0, 1e-3]), [0.3, 1.5, -0.5, 4.0]),
    ("ContinuousBernoulli", ([0.1, 0.4995, 0.7, 0.95],), [0.3, 0.0, 1.0, 0.6]),
    # (float32: torch 2.13's GeneralizedPareto.log_prob fails on float64 parameters)
    ("GeneralizedPareto", ([0.0, 1.0, -1.0, 0.5], [1.0, 2.0, 0.5, 3.0],
                           [0.0, 0.3, -0.2, -0.45]), [0.3, 1.5, -0.5, 1.0]),
]


@pytest.mark.parametrize("name,args,x", SWEEP, ids=[c[0] for c in SWEEP])
def test_new_families_against_torch(name, args, x):
    torch = pytest.importorskip("torch")
    dt = np.float32 if name == "GeneralizedPareto" else np.float64
    gd = getattr(D, name)(*[gpujit.tensor(np.asarray(a, dt)) for a in args])
    td = getattr(torch.distributions, name)(*[torch.tensor(np.asarray(a, dt)) for a in args])
    tol = dict(rtol=1e-5 if dt == np.float32 else 1e-10, equal_nan=True)

    def same(what, f):
        out = []
        for d, mk in ((gd, gpujit.tensor), (td, torch.tensor)):
            try:
                out.append(np.asarray(f(d, mk)))
            except NotImplementedError:
                out.append("NotImplementedError")
        a, b = out
        if isinstance(a, str) or isinstance(b, str):
            assert str(a) == str(b), (what, a, b)
        else:
            np.testing.assert_allclose(a, b, **tol, err_msg=what)

    for prop in ["mean", "variance", "stddev"] + (["mode"] if name != "Kumaraswamy" else []):
        same(prop, lambda d, mk: getattr(d, prop).numpy())
    u = [0.1, 0.4, 0.7, 0.95]
    for meth, arg in [("log_prob", x), ("cdf", x), ("icdf", u), ("entropy", None)]:
        same(meth, lambda d, mk: (getattr(d, meth)(mk(np.asarray(arg, dt))) if arg
                                  else getattr(d, meth)()).numpy())
    assert repr(gd.support).split("(")[0] == repr(td.support).split("(")[0]
    assert set(gd.arg_constraints) == set(td.arg_constraints)
    assert tuple(gd.batch_shape) == tuple(td.batch_shape)
    assert (isinstance(gd, D.ExponentialFamily)
            == isinstance(td, torch.distributions.ExponentialFamily))
    assert (isinstance(gd, D.TransformedDistribution)
            == isinstance(td, torch.distributions.TransformedDistribution))
    assert gd.has_rsample == td.has_rsample


# ---------------------------------------------------------------------------- matrices

def _np_digamma(x):
    # (a central difference of lgamma: about 1e-10 accurate, enough for a reference)
    h = 1e-5
    return (_lgamma(x + h) - _lgamma(x - h)) / (2 * h)


def _np_mvlgamma(a, p):
    return p * (p - 1) / 4 * np.log(np.pi) + sum(_lgamma(a - j / 2) for j in range(p))


def _np_mvdigamma(a, p):
    return sum(_np_digamma(a - j / 2) for j in range(p))


def test_corr_cholesky_transform():
    from gpujit.distributions.transforms import CorrCholeskyTransform, identity_transform
    assert D.CorrCholeskyTransform is CorrCholeskyTransform
    assert isinstance(identity_transform, D.ComposeTransform)
    t = CorrCholeskyTransform()
    x = np.random.RandomState(0).randn(2, 6) * 1.5
    y = t(G(x))
    assert tuple(y.shape) == (2, 4, 4)
    yn = y.numpy()
    np.testing.assert_allclose(np.triu(yn, 1), 0.0)
    np.testing.assert_allclose((yn ** 2).sum(-1), 1.0, rtol=1e-12)
    assert (np.diagonal(yn, axis1=-2, axis2=-1) > 0).all()
    assert bool(D.constraints.corr_cholesky.check(y).all())
    # the first column below the diagonal is tanh(x) of the row's first entry
    np.testing.assert_allclose(yn[:, 1:, 0], np.tanh(x[:, [0, 1, 3]]), rtol=1e-12)
    np.testing.assert_allclose(t.inv(y).numpy(), x, rtol=1e-9, atol=1e-9)
    # log |det J| of x to the strict lower triangle of y, by finite differences
    rows, cols = np.tril_indices(4, -1)

    def flat(v):
        return t(G(v)).numpy()[rows, cols]
    for xi in x:
        J = np.stack([(flat(xi + e) - flat(xi - e)) / 2e-6 for e in np.eye(6) * 1e-6], -1)
        np.testing.assert_allclose(
            t.log_abs_det_jacobian(G(xi), t(G(xi))).numpy(),
            np.linalg.slogdet(J)[1], rtol=1e-6)
    assert tuple(t.forward_shape((5, 6))) == (5, 4, 4)
    assert tuple(t.inverse_shape((5, 4, 4))) == (5, 6)
    with pytest.raises(ValueError, match="not a flattened lower-diagonal"):
        t.forward_shape((5,))
    with pytest.raises(ValueError, match="not square"):
        t.inverse_shape((3, 4))
    assert isinstance(D.biject_to(D.constraints.corr_cholesky), CorrCholeskyTransform)
    assert isinstance(D.transform_to(D.constraints.corr_cholesky), CorrCholeskyTransform)
    xg = G(x, grad=True)
    assert gpujit.autograd.gradcheck(lambda v: t(v), (xg,))
    assert gpujit.autograd.gradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)), (xg,))


def test_lkj_cholesky():
    eta = np.array([0.5, 2.0, 4.0])
    d = D.LKJCholesky(2, G(eta))
    assert tuple(d.batch_shape) == (3,) and tuple(d.event_shape) == (2, 2)
    assert repr(d.support) == "CorrCholesky()" and not d.has_rsample
    # dim 2: L = [[1, 0], [r, sqrt(1 - r^2)]] with r's density
    # (1 - r^2)^(eta - 1) / (2^(2 eta - 1) B(eta, eta))
    r = np.array([0.3, -0.7, 0.1])
    L = np.zeros((3, 2, 2))
    L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = 1.0, r, np.sqrt(1 - r ** 2)
    lbeta = 2 * _lgamma(eta) - _lgamma(2 * eta)
    np.testing.assert_allclose(d.log_prob(G(L)).numpy(),
                               (eta - 1) * np.log(1 - r ** 2) - (2 * eta - 1) * np.log(2)
                               - lbeta, rtol=1e-12)
    # samples: valid factors; each correlation's variance is 1 / (2 eta + D - 1)
    for dim in (2, 4):
        dd = D.LKJCholesky(dim, G(eta))
        gpujit.manual_seed(0)
        s = dd.sample((20000,))
        assert tuple(s.shape) == (20000, 3, dim, dim)
        assert bool(D.constraints.corr_cholesky.check(s).all())
        C = (s @ s.transpose(-2, -1)).numpy()
        off = C[..., 1, 0]
        np.testing.assert_allclose(off.mean(0), 0.0, atol=0.02)
        np.testing.assert_allclose(off.var(0), 1 / (2 * eta + dim - 1), rtol=0.05)
    e = D.LKJCholesky(3, 1.5).expand((4,))
    assert tuple(e.batch_shape) == (4,) and tuple(e.sample((2,)).shape) == (2, 4, 3, 3)
    eg = G(eta, grad=True)
    assert gpujit.autograd.gradcheck(lambda c: D.LKJCholesky(2, c).log_prob(G(L)), (eg,))
    with pytest.raises(ValueError, match="greater than or equal to 2"):
        D.LKJCholesky(1, 1.0)
    with pytest.raises(ValueError, match="concentration"):
        D.LKJCholesky(3, G([-1.0]), validate_args=True)
    with pytest.raises(ValueError, match="support"):
        D.LKJCholesky(2, G(1.0), validate_args=True).log_prob(G([[1.0, 0.0], [0.9, 0.9]]))


def _np_wishart_logpdf(X, nu, V):
    p = V.shape[-1]
    return ((nu - p - 1) / 2 * np.linalg.slogdet(X)[1]
            - np.trace(np.linalg.solve(V, X), axis1=-2, axis2=-1) / 2
            - nu * p / 2 * np.log(2) - nu / 2 * np.linalg.slogdet(V)[1]
            - _np_mvlgamma(nu / 2, p))


def test_wishart_against_numpy():
    rs = np.random.RandomState(0)
    A = rs.randn(2, 3, 3)
    V = A @ A.transpose(0, 2, 1) + 3 * np.eye(3)
    nu = np.array([4.5, 7.0])
    B = rs.randn(2, 3, 3)
    X = B @ B.transpose(0, 2, 1) + np.eye(3)
    for kw, m in [("covariance_matrix", V), ("precision_matrix", np.linalg.inv(V)),
                  ("scale_tril", np.linalg.cholesky(V))]:
        d = D.Wishart(G(nu), **{kw: G(m)})
        assert isinstance(d, D.ExponentialFamily) and d.has_rsample
        assert tuple(d.batch_shape) == (2,) and tuple(d.event_shape) == (3, 3)
        np.testing.assert_allclose(d.covariance_matrix.numpy(), V, rtol=1e-10)
        np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(V), rtol=1e-8)
        np.testing.assert_allclose(d.scale_tril.numpy(), np.linalg.cholesky(V), rtol=1e-10)
        np.testing.assert_allclose(d.log_prob(G(X)).numpy(), _np_wishart_logpdf(X, nu, V),
                                   rtol=1e-10)
        np.testing.assert_allclose(d.mean.numpy(), nu[:, None, None] * V, rtol=1e-10)
        np.testing.assert_allclose(d.mode.numpy(), (nu - 4)[:, None, None] * V, rtol=1e-10)
        dV = np.diagonal(V, axis1=-2, axis2=-1)
        np.testing.assert_allclose(d.variance.numpy(), nu[:, None, None] * (
            V ** 2 + dV[:, :, None] * dV[:, None, :]), rtol=1e-10)
        p = 3
        ent = ((p + 1) / 2 * np.linalg.slogdet(V)[1] + p * (p + 1) / 2 * np.log(2)
               + _np_mvlgamma(nu / 2, p) - (nu - p - 1) / 2 * _np_mvdigamma(nu / 2, p)
               + nu * p / 2)
        np.testing.assert_allclose(d.entropy().numpy(), ent, rtol=1e-8)
        np.testing.assert_allclose(D.ExponentialFamily.entropy(d).detach().numpy(), ent,
                                   rtol=1e-8)
    assert np.isnan(D.Wishart(G(3.5), covariance_matrix=G(V[0])).mode.numpy()).all()
    # KL (the Bregman fallback, per batch element)
    q = D.Wishart(G(nu + 1), covariance_matrix=G(V * 1.3))
    n0, n1, V1 = nu, nu + 1, V * 1.3
    kl = (n1 / 2 * (np.linalg.slogdet(V1)[1] - np.linalg.slogdet(V)[1])
          + n0 / 2 * (np.trace(np.linalg.solve(V1, V), axis1=-2, axis2=-1) - 3)
          + _np_mvlgamma(n1 / 2, 3) - _np_mvlgamma(n0 / 2, 3)
          + (n0 - n1) / 2 * _np_mvdigamma(n0 / 2, 3))
    np.testing.assert_allclose(D.kl_divergence(d, q).detach().numpy(), kl, rtol=1e-8)
    # samples
    import warnings
    gpujit.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # (no "Singular sample" warning here)
        s = d.sample((40000,))
    assert tuple(s.shape) == (40000, 2, 3, 3)
    assert bool(D.constraints.positive_definite.check(s).all())
    sn = s.numpy()
    np.testing.assert_array_less(np.abs(sn.mean(0) - d.mean.numpy()),
                                 5 * np.sqrt(d.variance.numpy() / 40000))
    np.testing.assert_allclose(sn.var(0), d.variance.numpy(), rtol=0.1)
    e = d.expand((4, 2))
    assert tuple(e.batch_shape) == (4, 2) and tuple(e.sample((3,)).shape) == (3, 4, 2, 3, 3)
    np.testing.assert_allclose(e.log_prob(G(X)).numpy(),
                               np.broadcast_to(_np_wishart_logpdf(X, nu, V), (4, 2)),
                               rtol=1e-10)
    # gradients: log_prob into df and the scale, rsample into the scale
    Lg, ng = G(np.linalg.cholesky(V), grad=True), G(nu, grad=True)
    assert gpujit.autograd.gradcheck(
        lambda n, L: D.Wishart(n, scale_tril=L.tril()).log_prob(G(X)), (ng, Lg))

    def rs_(L):
        gpujit.manual_seed(4)
        return D.Wishart(G(nu), scale_tril=L.tril()).rsample((2,))
    assert gpujit.autograd.gradcheck(rs_, (Lg,))
    D.Wishart(ng, scale_tril=Lg).rsample().sum().backward()
    assert np.isfinite(ng.grad.numpy()).all() and (ng.grad.numpy() != 0).all()
    with pytest.raises(ValueError, match=r"expected to be greater than ndim - 1 = 2"):
        D.Wishart(G(1.5), covariance_matrix=G(V[0]))
    with pytest.raises(AssertionError, match="Exactly one of"):
        D.Wishart(G(5.0))
    with pytest.raises(ValueError, match="covariance_matrix"):
        D.Wishart(G(5.0), covariance_matrix=G(-np.eye(3)), validate_args=True)
    with pytest.warns(UserWarning, match="Low df values"):
        D.Wishart(G(2.5), covariance_matrix=G(V[0]))


def test_wishart_against_torch():
    torch = pytest.importorskip("torch")
    rs = np.random.RandomState(1)
    A = rs.randn(2, 3, 3)
    V = A @ A.transpose(0, 2, 1) + 3 * np.eye(3)
    B = rs.randn(2, 3, 3)
    X = B @ B.transpose(0, 2, 1) + np.eye(3)
    g = D.Wishart(G([4.5, 7.0]), precision_matrix=G(V))
    t = torch.distributions.Wishart(torch.tensor([4.5, 7.0], dtype=torch.float64),
                                    precision_matrix=torch.tensor(V))
    for prop in ["mean", "mode", "variance", "covariance_matrix", "scale_tril"]:
        np.testing.assert_allclose(getattr(g, prop).numpy(), getattr(t, prop).numpy(),
                                   rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g.log_prob(G(X)).numpy(), t.log_prob(torch.tensor(X)).numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(g.entropy().numpy(), t.entropy().numpy(), rtol=1e-10)
    for a, b in zip(g._natural_params, t._natural_params):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    # (unbatched, where torch's Bregman KL is right)
    g1 = D.Wishart(G(4.5), covariance_matrix=G(V[0]))
    g2 = D.Wishart(G(6.0), covariance_matrix=G(V[1]))
    f64 = torch.float64
    t1 = torch.distributions.Wishart(torch.tensor(4.5, dtype=f64),
                                     covariance_matrix=torch.tensor(V[0]))
    t2 = torch.distributions.Wishart(torch.tensor(6.0, dtype=f64),
                                     covariance_matrix=torch.tensor(V[1]))
    np.testing.assert_allclose(D.kl_divergence(g1, g2).detach().numpy(),
                               torch.distributions.kl_divergence(t1, t2).detach().numpy(),
                               rtol=1e-10)
    for dim, c in [(3, [1.0, 3.5]), (5, [0.7, 1.0])]:
        gd, td = D.LKJCholesky(dim, G(c)), torch.distributions.LKJCholesky(
            dim, torch.tensor(c, dtype=torch.float64))
        gpujit.manual_seed(0)
        s = gd.sample((4,))
        np.testing.assert_allclose(gd.log_prob(s).numpy(),
                                   td.log_prob(torch.tensor(s.numpy())).numpy(), rtol=1e-10)
    x = np.random.RandomState(0).randn(3, 10)
    gt, tt = D.CorrCholeskyTransform(), torch.distributions.CorrCholeskyTransform()
    y, ty = gt(G(x)), tt(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gt.log_abs_det_jacobian(G(x), y).numpy(),
                               tt.log_abs_det_jacobian(torch.tensor(x), ty).numpy(),
                               rtol=1e-12)


# ---------------------------------------------------------------------------- gamma rsample

def _np_reg_lower_gamma(a, x, terms=400):
    # P(a, x) = sum_n x^(a+n) e^-x / Gamma(a+n+1), in log space
    n = np.arange(terms)[:, None]
    t = (a + n) * np.log(x) - x - _lgamma(a + n + 1)
    m = t.max(0)
    return np.exp(m) * np.exp(t - m).sum(0)


def test_standard_gamma_grad_is_the_implicit_derivative():
    _standard_gamma_grad = gpujit._standard_gamma_grad     # (the registry op since e40)
    # every branch: x < 0.8 (series), alpha > 8 near / far from the mode, the rational one
    a = np.array([0.1, 0.5, 1.0, 2.0, 3.0, 7.0, 9.0, 20.0, 50.0, 0.3, 4.0, 12.0, 0.1,
                  0.5, 1.0, 2.0, 3.0, 7.0, 9.0, 20.0, 50.0, 0.3, 4.0, 12.0])
    x = np.array([0.0025, 0.378, 0.551, 0.798, 5.31, 5.44, 10.2, 22.3, 48.4, 0.0008, 7.08,
                  11.8, 0.05, 0.5, 0.9, 1.5, 2.5, 7.0, 9.5, 17.0, 60.0, 0.001, 8.0, 9.0])
    h = 1e-6 * a
    dP = (_np_reg_lower_gamma(a + h, x) - _np_reg_lower_gamma(a - h, x)) / (2 * h)
    pdf = np.exp((a - 1) * np.log(x) - x - _lgamma(a))
    np.testing.assert_allclose(_standard_gamma_grad(G(a), G(x)).numpy(), -dP / pdf,
                               rtol=5e-4)


def _mc_grad(make, params, h=lambda s: s, n=40000, seed=0):
    ps = [G(p, grad=True) for p in params]
    gpujit.manual_seed(seed)
    h(make(*ps).rsample((n,))).sum().div(n).backward()
    return [p.grad.numpy() for p in ps]


def test_gamma_family_rsample_gradients():
    a, b = np.array([0.7, 3.0, 12.0]), np.array([2.0, 0.5, 1.5])
    assert D.Gamma(G(a), G(b)).has_rsample and D.Chi2(G(a)).has_rsample
    ga, gb = _mc_grad(D.Gamma, [a, b])                       # E[X] = a / b
    np.testing.assert_allclose(ga, 1 / b, rtol=0.03)
    np.testing.assert_allclose(gb, -a / b ** 2, rtol=0.03)
    (gdf,) = _mc_grad(D.Chi2, [a])                           # E[X] = df
    np.testing.assert_allclose(gdf, np.ones(3), rtol=0.03)
    a2, b2 = np.array([4.0, 6.0]), np.array([2.0, 3.0])      # E[1/X]: b / (a - 1)
    ga, gb = _mc_grad(D.InverseGamma, [a2, b2])
    np.testing.assert_allclose(ga, -b2 / (a2 - 1) ** 2, rtol=0.05)
    np.testing.assert_allclose(gb, 1 / (a2 - 1), rtol=0.03)
    c1, c0 = np.array([0.8, 2.0]), np.array([1.5, 5.0])      # E[X] = c1 / (c1 + c0)
    g1, g0 = _mc_grad(D.Beta, [c1, c0])
    np.testing.assert_allclose(g1, c0 / (c1 + c0) ** 2, rtol=0.05)
    np.testing.assert_allclose(g0, -c1 / (c1 + c0) ** 2, rtol=0.05)
    conc = np.array([0.5, 2.0, 3.5])                         # E[X . w] = conc . w / sum
    w = G([1.0, -2.0, 0.5])
    (gc,) = _mc_grad(D.Dirichlet, [conc], h=lambda s: (s * w).sum(-1))
    s0, wn = conc.sum(), w.numpy()
    np.testing.assert_allclose(gc, wn / s0 - (conc * wn).sum() / s0 ** 2, rtol=0.05)
    d1, d2 = np.array([3.0]), np.array([12.0])               # E[X] = d2 / (d2 - 2)
    g1, g2 = _mc_grad(D.FisherSnedecor, [d1, d2], n=100000)
    np.testing.assert_allclose(g2, -2 / (d2 - 2) ** 2, rtol=0.06)
    assert abs(g1[0]) < 0.01
    V = np.array([[2.0, 0.3], [0.3, 1.0]])                   # E[W] = nu V
    (gnu,) = _mc_grad(lambda nu: D.Wishart(nu, covariance_matrix=G(V)), [np.array(5.0)],
                      n=20000)
    np.testing.assert_allclose(gnu, V.sum(), rtol=0.03)
    (gdf,) = _mc_grad(lambda df: D.StudentT(df), [np.array(12.0)], h=lambda s: s * s,
                      n=100000)                              # E[X^2] = df / (df - 2)
    np.testing.assert_allclose(gdf, -2 / 10 ** 2, rtol=0.08)


_RS = np.random.RandomState(7)
_P, _Q, _PR = _RS.rand(2, 3) + 0.5, _RS.rand(2, 3) + 0.5, _RS.rand(2, 3) * 0.8 + 0.1
_KL_FACTORIES = {
    "ContinuousBernoulli": lambda m, t: m.ContinuousBernoulli(probs=t(_PR)),
    "Normal": lambda m, t: m.Normal(t(_P - 1), t(_Q)),
    "Laplace": lambda m, t: m.Laplace(t(_P), t(_Q)),
    "Gumbel": lambda m, t: m.Gumbel(t(_P), t(_Q)),
    "Exponential": lambda m, t: m.Exponential(t(_P)),
    "Gamma": lambda m, t: m.Gamma(t(_P + 1), t(_Q)),
    "Beta": lambda m, t: m.Beta(t(_P), t(_Q)),
    "Pareto": lambda m, t: m.Pareto(t(_Q * 0.5), t(_P + 2)),
    "Uniform": lambda m, t: m.Uniform(t(_PR * 0.5), t(_PR + 0.4)),
}


@pytest.mark.parametrize("other", sorted(set(_KL_FACTORIES) - {"ContinuousBernoulli"})
                         + ["ContinuousBernoulli"])
def test_continuous_bernoulli_kl_pairs_against_torch(other):
    torch = pytest.importorskip("torch")
    TD = torch.distributions

    def tt(a):
        return torch.tensor(np.asarray(a, dtype=np.float64))
    for a, b in (("ContinuousBernoulli", other), (other, "ContinuousBernoulli")):
        p, q = _KL_FACTORIES[a](D, G), _KL_FACTORIES[b](D, G)
        tp, tq = _KL_FACTORIES[a](TD, tt), _KL_FACTORIES[b](TD, tt)
        try:
            expect = TD.kl_divergence(tp, tq).numpy()
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                D.kl_divergence(p, q)
            continue
        np.testing.assert_allclose(D.kl_divergence(p, q).numpy(), expect, rtol=1e-9)
