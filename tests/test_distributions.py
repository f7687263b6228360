"""gpujit.distributions against NumPy formulas (and torch.distributions when installed):
log_prob, entropy, mean, variance, KL values; shapes; torch's validation messages;
reparameterized gradients; sample statistics (loosely) and reproducibility."""
import math

import numpy as np
import pytest

import gpujit
import gpujit.distributions as D
from gpujit.distributions import constraints

RS = np.random.RandomState(0)
LOC = RS.randn(3)
SC = RS.rand(3) + 0.5
_lgamma = np.vectorize(math.lgamma)


def _digamma(x):   # asymptotic series after shifting x past 6
    x = np.asarray(x, dtype=np.float64).copy()
    r = np.zeros_like(x)
    while (x < 6).any():
        m = x < 6
        r[m] -= 1 / x[m]
        x[m] += 1
    f = 1 / (x * x)
    return r + np.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f / 240)))


def G(a):
    return gpujit.tensor(np.asarray(a, dtype=np.float64))


def close(a, b, tol=1e-9):
    np.testing.assert_allclose(np.asarray(a.numpy() if hasattr(a, "numpy") else a), b,
                               rtol=tol, atol=tol)


def test_normal_values():
    d = D.Normal(G(LOC), G(SC))
    v = RS.randn(3)
    close(d.log_prob(G(v)), -(v - LOC) ** 2 / (2 * SC ** 2) - np.log(SC)
          - 0.5 * np.log(2 * np.pi))
    close(d.entropy(), 0.5 + 0.5 * np.log(2 * np.pi) + np.log(SC))
    close(d.mean, LOC)
    close(d.variance, SC ** 2)
    close(d.stddev, SC)
    close(d.cdf(G(v)), 0.5 * (1 + np.vectorize(math.erf)((v - LOC) / (SC * np.sqrt(2)))))
    close(d.icdf(d.cdf(G(v))), v, 1e-6)


def test_uniform_laplace_exponential_values():
    lo, hi = LOC - 1, LOC + 2
    d = D.Uniform(G(lo), G(hi))
    close(d.log_prob(G(LOC)), -np.log(hi - lo))
    assert np.isneginf(D.Uniform(G(lo), G(hi), validate_args=False)
                       .log_prob(G(hi + 1)).numpy()).all()
    close(d.entropy(), np.log(hi - lo))
    close(d.mean, (lo + hi) / 2)
    close(d.variance, (hi - lo) ** 2 / 12)
    v = RS.randn(3)
    d = D.Laplace(G(LOC), G(SC))
    close(d.log_prob(G(v)), -np.log(2 * SC) - np.abs(v - LOC) / SC)
    close(d.entropy(), 1 + np.log(2 * SC))
    close(d.variance, 2 * SC ** 2)
    d = D.Exponential(G(SC))
    close(d.log_prob(G(SC)), np.log(SC) - SC * SC)
    close(d.entropy(), 1 - np.log(SC))
    close(d.mean, 1 / SC)
    close(d.variance, SC ** -2)


def test_gamma_beta_values():
    a, r, x = SC + 1, SC, SC / 2
    d = D.Gamma(G(a), G(r))
    close(d.log_prob(G(x)), a * np.log(r) + (a - 1) * np.log(x) - r * x - _lgamma(a))
    close(d.entropy(), a - np.log(r) + _lgamma(a) + (1 - a) * _digamma(a), 1e-7)
    close(d.mean, a / r)
    close(d.variance, a / r ** 2)
    b = SC + 0.3
    d = D.Beta(G(SC), G(b))
    lbeta = _lgamma(SC) + _lgamma(b) - _lgamma(SC + b)
    close(d.log_prob(G(x)), (SC - 1) * np.log(x) + (b - 1) * np.log1p(-x) - lbeta)
    close(d.entropy(), lbeta - (SC - 1) * _digamma(SC) - (b - 1) * _digamma(b)
          + (SC + b - 2) * _digamma(SC + b), 1e-7)
    close(d.mean, SC / (SC + b))
    close(d.variance, SC * b / ((SC + b) ** 2 * (SC + b + 1)))


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_bernoulli_categorical_onehot(param):
    p = RS.rand(2, 4)
    arg = p if param == "probs" else np.log(p)
    b = D.Bernoulli(**{param: G(p if param == "probs" else np.log(p / (1 - p)))})
    x = (RS.rand(2, 4) < 0.5).astype(np.float64)
    close(b.log_prob(G(x)), x * np.log(p) + (1 - x) * np.log1p(-p))
    close(b.entropy(), -(p * np.log(p) + (1 - p) * np.log1p(-p)))
    close(b.mean, p)
    close(b.variance, p * (1 - p))
    assert b.batch_shape == (2, 4) and b.sample((5,)).shape == (5, 2, 4)
    c = D.Categorical(**{param: G(arg)})
    pn = p / p.sum(-1, keepdims=True)
    assert c.batch_shape == (2,) and c.event_shape == ()
    close(c.probs, pn)
    idx = np.array([[0, 3], [2, 1], [1, 1]])
    close(c.log_prob(gpujit.tensor(idx)), np.log(pn[[0, 1], idx]))
    close(c.entropy(), -(pn * np.log(pn)).sum(-1))
    s = c.sample((4, 5))
    assert s.shape == (4, 5, 2) and s.dtype == gpujit.int64
    assert np.isnan(c.mean.numpy()).all() and c.mean.shape == (2,)
    oh = D.OneHotCategorical(**{param: G(arg)})
    assert oh.batch_shape == (2,) and oh.event_shape == (4,)
    v = np.eye(4)[idx]
    close(oh.log_prob(G(v)), np.log(pn[[0, 1], idx]))
    close(oh.entropy(), -(pn * np.log(pn)).sum(-1))
    s = oh.sample((3,))
    assert s.shape == (3, 2, 4) and (s.sum(-1).numpy() == 1).all()
    assert c.enumerate_support().shape == (4, 2)
    assert oh.enumerate_support().shape == (4, 2, 4)


@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal(kind):
    A = RS.randn(2, 3, 3)
    cov = A @ A.transpose(0, 2, 1) + np.eye(3)
    m = RS.randn(3)
    M = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov),
         "scale_tril": np.linalg.cholesky(cov)}[kind]
    d = D.MultivariateNormal(G(m), **{kind: G(M)})
    assert d.batch_shape == (2,) and d.event_shape == (3,)
    x = RS.randn(4, 2, 3)
    diff = x - m
    maha = np.einsum("...i,...ij,...j->...", diff, np.linalg.inv(cov), diff)
    logdet = np.linalg.slogdet(cov)[1]
    close(d.log_prob(G(x)), -0.5 * (3 * np.log(2 * np.pi) + maha + logdet), 1e-8)
    close(d.entropy(), 0.5 * (3 * (1 + np.log(2 * np.pi)) + logdet), 1e-8)
    close(d.covariance_matrix, cov, 1e-8)
    close(d.precision_matrix, np.linalg.inv(cov), 1e-8)
    close(d.variance, np.diagonal(cov, axis1=-2, axis2=-1), 1e-8)
    assert d.rsample((5,)).shape == (5, 2, 3)


def test_independent():
    base = D.Normal(G(RS.randn(2, 3)), G(RS.rand(2, 3) + 0.5))
    ind = D.Independent(base, 1)
    assert ind.batch_shape == (2,) and ind.event_shape == (3,)
    v = G(RS.randn(2, 3))
    close(ind.log_prob(v), base.log_prob(v).numpy().sum(-1))
    close(ind.entropy(), base.entropy().numpy().sum(-1))
    assert ind.has_rsample and ind.sample((4,)).shape == (4, 2, 3)
    with pytest.raises(ValueError, match=r"reinterpreted_batch_ndims <= len\(base_"):
        D.Independent(base, 3)


def test_kl_divergences():
    p, q = D.Normal(G(LOC), G(SC)), D.Normal(G(LOC[::-1].copy()), G(SC + 1))
    close(D.kl_divergence(p, q), np.log((SC + 1) / SC)
          + (SC ** 2 + (LOC - LOC[::-1]) ** 2) / (2 * (SC + 1) ** 2) - 0.5)
    pp, qq = RS.rand(2, 4), RS.rand(2, 4)
    pp /= pp.sum(-1, keepdims=True)
    qq /= qq.sum(-1, keepdims=True)
    close(D.kl_divergence(D.Categorical(G(pp)), D.Categorical(G(qq))),
          (pp * np.log(pp / qq)).sum(-1))
    a, b = RS.rand(3), RS.rand(3)
    close(D.kl_divergence(D.Bernoulli(G(a)), D.Bernoulli(G(b))),
          a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b)))
    kl = D.kl_divergence(D.Uniform(G([0.0, 0.0]), G([1.0, 1.0])),
                         D.Uniform(G([-1.0, 0.5]), G([2.0, 2.0])))
    close(kl[0], np.log(3.0))
    assert np.isinf(kl[1].numpy())
    A = RS.randn(3, 3)
    c1, c2 = A @ A.T + np.eye(3), np.eye(3) * 2
    m1, m2 = RS.randn(3), RS.randn(3)
    expect = 0.5 * (np.trace(np.linalg.inv(c2) @ c1) + (m2 - m1) @ np.linalg.inv(c2) @ (m2 - m1)
                    - 3 + np.log(np.linalg.det(c2) / np.linalg.det(c1)))
    close(D.kl_divergence(D.MultivariateNormal(G(m1), G(c1)),
                          D.MultivariateNormal(G(m2), G(c2))), expect, 1e-8)
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Laplace(0.0, 1.0), D.Bernoulli(0.5))
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.5))    # torch's Bregman fallback
    assert np.isinf(D.kl_divergence(D.Normal(0.0, 1.0), D.Exponential(1.0)).numpy())  # as torch


def test_validation_messages():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) "
                                         r"of distribution Normal\(loc: .*\) to satisfy the "
                                         r"constraint GreaterThan\(lower_bound=0.0\)"):
        D.Normal(G([0.0, 0.0]), G([1.0, -1.0]))
    D.Normal(G([0.0]), G([-1.0]), validate_args=False)
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified"):
        D.Bernoulli()
    with pytest.raises(ValueError, match=r"to be within the support \(GreaterThanEq"):
        D.Exponential(G([1.0])).log_prob(G([-1.0]))
    with pytest.raises(ValueError, match="The right-most size of value must match"):
        D.MultivariateNormal(G([0.0, 0.0]), G(np.eye(2))).log_prob(G([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="Value is not broadcastable"):
        D.Normal(G([0.0, 0.0]), G([1.0, 1.0])).log_prob(G([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix"):
        D.MultivariateNormal(G([0.0]))
    with pytest.raises(ValueError, match="loc must be at least one-dimensional"):
        D.MultivariateNormal(G(0.0), G(np.eye(1)))
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(1.0)


def test_expand_and_shapes():
    d = D.Normal(G([0.0, 1.0]), G([1.0, 2.0])).expand((3, 2))
    assert d.batch_shape == (3, 2) and d.sample((4,)).shape == (4, 3, 2)
    assert D.Normal(0.0, 1.0).batch_shape == () and D.Normal(0.0, 1.0).sample().shape == ()
    c = D.Categorical(G(np.ones(4))).expand((5,))
    assert c.batch_shape == (5,) and c.sample().shape == (5,)
    m = D.MultivariateNormal(G(np.zeros(2)), G(np.eye(2))).expand((3,))
    assert m.batch_shape == (3,) and m.log_prob(G(np.zeros((3, 2)))).shape == (3,)
    for cls, args in [(D.Uniform, (0.0, 1.0)), (D.Bernoulli, (0.3,)), (D.Gamma, (2.0, 1.0)),
                      (D.Beta, (2.0, 3.0)), (D.Laplace, (0.0, 1.0)), (D.Exponential, (1.0,))]:
        e = cls(*args).expand((2, 3))
        assert e.batch_shape == (2, 3) and e.sample().shape == (2, 3)


def test_rsample_gradients():
    loc = gpujit.tensor([0.5, -1.0], requires_grad=True)
    scale = gpujit.tensor([1.0, 2.0], requires_grad=True)
    gpujit.manual_seed(0)
    x = D.Normal(loc, scale).rsample((3,))
    x.sum().backward()
    gpujit.manual_seed(0)
    eps = gpujit.randn(3, 2)
    close(loc.grad, [3.0, 3.0])
    close(scale.grad, eps.sum(0).numpy(), 1e-6)
    loc.grad = None
    D.Normal(loc, scale).log_prob(gpujit.tensor([0.0, 0.0])).sum().backward()
    close(loc.grad, -np.array([0.5, -1.0]) / np.array([1.0, 4.0]), 1e-6)
    L = gpujit.tensor(np.linalg.cholesky(np.eye(2) * 2), requires_grad=True)
    D.MultivariateNormal(gpujit.zeros(2, dtype=gpujit.float64), scale_tril=L).log_prob(
        G([1.0, 1.0])).backward()
    assert L.grad is not None and np.isfinite(L.grad.numpy()).all()
    assert D.Gamma(2.0, 1.0).has_rsample and D.Normal(0.0, 1.0).has_rsample    # as torch


def test_sample_statistics_and_reproducibility():
    n = 20000
    gpujit.manual_seed(3)
    cases = [(D.Normal(G(1.0), G(2.0)), 1.0, 4.0), (D.Uniform(G(-1.0), G(3.0)), 1.0, 16 / 12),
             (D.Exponential(G(2.0)), 0.5, 0.25), (D.Laplace(G(0.5), G(1.0)), 0.5, 2.0),
             (D.Gamma(G(3.0), G(2.0)), 1.5, 0.75), (D.Beta(G(2.0), G(3.0)), 0.4, 0.04),
             (D.Bernoulli(G(0.3)), 0.3, 0.21)]
    for d, mean, var in cases:
        s = d.sample((n,)).numpy()
        assert abs(s.mean() - mean) < 5 * math.sqrt(var / n) + 1e-3, type(d).__name__
        assert abs(s.var() - var) < 0.1 * var, type(d).__name__
    c = D.Categorical(G([0.1, 0.2, 0.7])).sample((n,)).numpy()
    np.testing.assert_allclose(np.bincount(c, minlength=3) / n, [0.1, 0.2, 0.7], atol=0.02)
    for d in (D.Normal(G(0.0), G(1.0)), D.Gamma(G(2.0), G(1.0)), D.Categorical(G([0.5, 0.5]))):
        gpujit.manual_seed(7)
        a = d.sample((5,)).numpy()
        gpujit.manual_seed(7)
        np.testing.assert_array_equal(a, d.sample((5,)).numpy())


def test_constraints():
    assert constraints.positive.check(G([1.0, -1.0])).numpy().tolist() == [True, False]
    assert constraints.simplex.check(G([[0.5, 0.5], [0.5, 0.6]])).numpy().tolist() == [True,
                                                                                       False]
    assert repr(constraints.interval(0.0, 1.0)) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert constraints.positive_definite.check(G(np.eye(2))).item()
    assert constraints.is_dependent(constraints.dependent)
    with pytest.raises(ValueError, match=r"Expected parameter low .* LessThan"):
        D.Uniform(G([1.0]), G([0.0]))
    assert repr(D.Categorical(G([0.5, 0.5])).support) == (
        "IntegerInterval(lower_bound=0, upper_bound=1)")


def test_against_torch():
    torch = pytest.importorskip("torch")
    TD = torch.distributions
    p, q = RS.rand(2, 3) + 0.2, RS.rand(2, 3) + 0.2
    v = RS.rand(2, 3) * 0.8 + 0.1
    for name, args in [("Normal", (p, q)), ("Laplace", (p, q)), ("Gamma", (p, q)),
                       ("Beta", (p, q)), ("Exponential", (p,)), ("Uniform", (-p, q + 1))]:
        gd = getattr(D, name)(*map(G, args))
        td = getattr(TD, name)(*map(torch.tensor, args))
        for attr in ("mean", "variance", "stddev"):
            close(getattr(gd, attr), getattr(td, attr).numpy())
        close(gd.log_prob(G(v)), td.log_prob(torch.tensor(v)).numpy())
        close(gd.entropy(), td.entropy().numpy())
        if name != "Uniform":
            gq = getattr(D, name)(*map(G, args[::-1]))
            tq = getattr(TD, name)(*map(torch.tensor, args[::-1]))
            close(D.kl_divergence(gd, gq), TD.kl_divergence(td, tq).numpy())
    try:
        TD.Normal(torch.tensor([0.0]), torch.tensor([-1.0]))
    except ValueError as e:
        tmsg = str(e)
    with pytest.raises(ValueError) as ei:
        D.Normal(gpujit.tensor([0.0]), gpujit.tensor([-1.0]))
    assert str(ei.value).split(" of distribution")[0] == tmsg.split(" of distribution")[0]
