"""gpujit.distributions' newer families and transforms against torch.distributions 2.13.

Transforms (forward, inverse, log|det J|, domains, shapes), TransformedDistribution and the
families built on it, Cauchy/StudentT/Chi2/Dirichlet, Poisson/Geometric/Binomial/
Multinomial/NegativeBinomial, Relaxed*, MixtureSameFamily, LowRankMultivariateNormal:
mean/mode/variance/log_prob/entropy/cdf/icdf values and their gradients, support repr,
batch/event shapes, expand, sample shapes/dtypes, 20k-sample moments, KL pairs,
biject_to/transform_to, validation errors.

Deliberate differences from torch (documented in gpujit.distributions):
- Gamma, Chi2, Beta and Dirichlet sample through NumPy's gamma sampler; their rsample
  is reparameterized implicitly (torch's gamma gradient), Beta and Dirichlet as
  normalized gamma draws (torch's Dirichlet gradient is its own approximation).
- Samples are gpujit's (reproducible under gpujit.manual_seed), not torch's numbers.
"""
import math

import numpy as np
import pytest

import gpujit
import gpujit.distributions as D
from gpujit.distributions import constraints, transforms as T

torch = pytest.importorskip("torch")
TD = torch.distributions
TT = torch.distributions.transforms

RS = np.random.RandomState(0)
P = RS.rand(2, 3) + 0.5
Q = RS.rand(2, 3) + 0.5
PR = RS.rand(2, 3) * 0.8 + 0.1
SIMPLEX = PR / PR.sum(-1, keepdims=True)


def G(a, grad=False):
    return gpujit.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def Tt(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def npv(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def close(a, b, tol=1e-7):
    np.testing.assert_allclose(npv(a), npv(b), rtol=tol, atol=1e-9, equal_nan=True)


# name: (constructor args, a value in the support)
CASES = {
    "LogNormal": ((P, Q), P), "Gumbel": ((P, Q), P), "HalfNormal": ((Q,), P),
    "HalfCauchy": ((Q,), P), "Weibull": ((P, Q + 1), P), "Pareto": ((P * 0.5, Q + 2), P + 0.5),
    "Cauchy": ((P, Q), PR), "StudentT": ((Q + 2, P, Q), PR), "Chi2": ((Q + 1,), P),
    "Poisson": ((P * 3,), np.round(P * 4)), "Geometric": ((PR,), np.round(P * 3)),
    "Binomial": ((np.full((2, 3), 5.0), PR), np.round(P * 3)),
    "NegativeBinomial": ((Q * 3, PR), np.round(P * 3)), "Dirichlet": ((P,), SIMPLEX),
    "LogisticNormal": ((P[:, :2], Q[:, :2]), SIMPLEX),
    "RelaxedBernoulli": ((0.7, PR), PR), "RelaxedOneHotCategorical": ((0.7, PR), SIMPLEX),
    "Multinomial": ((6, PR), np.array([[1.0, 2, 3], [0, 0, 6]])),
}
TEMPERED = ("RelaxedBernoulli", "RelaxedOneHotCategorical")


def _make(name, grad=False):
    args, _ = CASES[name]
    ga, ta = [], []
    for i, a in enumerate(args):
        if isinstance(a, int):
            ga.append(a)
            ta.append(a)
        elif name in TEMPERED and i == 0:
            ga.append(G(a))
            ta.append(Tt(a))
        else:
            ga.append(G(a, grad))
            ta.append(Tt(a, grad))
    return getattr(D, name)(*ga), getattr(TD, name)(*ta), ga, ta


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_shapes_support_against_torch(name):
    gd, td, _, _ = _make(name)
    v = CASES[name][1]
    assert tuple(gd.batch_shape) == tuple(td.batch_shape)
    assert tuple(gd.event_shape) == tuple(td.event_shape)
    assert repr(gd.support).replace("gpujit.", "") == repr(td.support).replace("torch.", "")
    for attr in ("mean", "mode", "variance", "stddev", "entropy", "log_prob", "cdf", "icdf"):
        try:
            t = getattr(td, attr)
            if attr == "entropy":
                t = t()
            elif callable(t):
                t = t(Tt(PR if attr == "icdf" else v))
        except NotImplementedError:
            continue
        g = getattr(gd, attr)
        if attr == "entropy":
            g = g()
        elif callable(g):
            g = g(G(PR if attr == "icdf" else v))
        close(g, t)
    assert gd.has_rsample == td.has_rsample
    e, te = gd.expand((4,) + tuple(gd.batch_shape)), td.expand((4,) + tuple(td.batch_shape))
    assert tuple(e.batch_shape) == tuple(te.batch_shape)
    close(e.log_prob(G(v)), te.log_prob(Tt(v)))
    s, ts = gd.sample((5,)), td.sample((5,))
    assert tuple(s.shape) == tuple(ts.shape)
    assert str(s.dtype).split(".")[-1] == str(ts.dtype).split(".")[-1]
    assert not s.requires_grad


GRAD_CASES = ["LogNormal", "Gumbel", "HalfNormal", "HalfCauchy", "Weibull", "Pareto", "Cauchy",
              "StudentT", "Chi2", "Poisson", "Geometric", "Binomial", "NegativeBinomial",
              "Dirichlet", "LogisticNormal", "RelaxedBernoulli", "RelaxedOneHotCategorical"]


@pytest.mark.parametrize("name", GRAD_CASES)
def test_log_prob_and_entropy_gradients(name):
    gd, td, ga, ta = _make(name, grad=True)
    v = CASES[name][1]
    loss_g = gd.log_prob(G(v)).sum()
    loss_t = td.log_prob(Tt(v)).sum()
    try:
        loss_t = loss_t + td.entropy().sum()
        loss_g = loss_g + gd.entropy().sum()
    except NotImplementedError:
        pass
    loss_g.backward()
    loss_t.backward()
    for a, b in zip(ga, ta):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            close(a.grad, b.grad, 1e-6)


def _moments(x):
    return x.mean(0), x.var(0)


@pytest.mark.parametrize("name,dist", [
    ("LogNormal", lambda m: m.LogNormal(0.2, 0.5)), ("Gumbel", lambda m: m.Gumbel(1.0, 2.0)),
    ("HalfNormal", lambda m: m.HalfNormal(1.5)), ("Weibull", lambda m: m.Weibull(2.0, 3.0)),
    ("Pareto", lambda m: m.Pareto(1.0, 5.0)), ("StudentT", lambda m: m.StudentT(6.0, 1.0, 2.0)),
    ("Chi2", lambda m: m.Chi2(3.0)), ("Poisson", lambda m: m.Poisson(3.5)),
    ("Geometric", lambda m: m.Geometric(0.3)), ("Binomial", lambda m: m.Binomial(7, 0.4)),
    ("NegativeBinomial", lambda m: m.NegativeBinomial(4.0, 0.4)),
    ("RelaxedBernoulli", lambda m: m.RelaxedBernoulli(gpujit.tensor(0.5), 0.3)),
])
def test_sample_moments(name, dist):
    n = 20000
    gpujit.manual_seed(11)
    gd = dist(D)
    td = dist(TD) if name != "RelaxedBernoulli" else None
    s = gd.sample((n,)).numpy().astype(np.float64)
    if td is not None:
        mean, var = float(td.mean), float(td.variance)
    else:   # moments from a large torch sample
        torch.manual_seed(0)
        ref = TD.RelaxedBernoulli(torch.tensor(0.5), 0.3).sample((200000,)).numpy()
        mean, var = ref.mean(), ref.var()
    tol = 5 * math.sqrt(var / n)
    assert abs(s.mean() - mean) < tol, (s.mean(), mean)
    assert abs(s.var() - var) < 0.15 * var, (s.var(), var)


def test_dirichlet_multinomial_mixture_lowrank_samples():
    n = 20000
    gpujit.manual_seed(5)
    c = np.array([2.0, 3.0, 5.0])
    s = D.Dirichlet(G(c)).sample((n,)).numpy()
    close(s.sum(-1), np.ones(n), 1e-12)
    np.testing.assert_allclose(s.mean(0), c / c.sum(), atol=0.01)
    m = D.Multinomial(10, G([0.2, 0.3, 0.5])).sample((n,)).numpy()
    assert (m.sum(-1) == 10).all() and m.dtype == np.float64
    np.testing.assert_allclose(m.mean(0), [2.0, 3.0, 5.0], atol=0.06)
    r = D.RelaxedOneHotCategorical(G(0.5), G([0.2, 0.3, 0.5])).sample((n,)).numpy()
    close(r.sum(-1), np.ones(n), 1e-9)
    mix = D.MixtureSameFamily(D.Categorical(G([0.3, 0.7])), D.Normal(G([-2.0, 3.0]),
                                                                    G([0.5, 1.0])))
    x = mix.sample((n,)).numpy()
    assert x.shape == (n,)
    assert abs(x.mean() - float(mix.mean)) < 5 * math.sqrt(float(mix.variance) / n)
    W, d = RS.randn(3, 2), RS.rand(3) + 0.5
    lr = D.LowRankMultivariateNormal(G(np.zeros(3)), G(W), G(d))
    y = lr.rsample((n,)).numpy()
    np.testing.assert_allclose(np.cov(y.T), W @ W.T + np.diag(d), atol=0.15)


def test_rsample_gradients():
    loc, scale = G([0.3, -0.2], True), G([0.5, 1.5], True)
    gpujit.manual_seed(0)
    x = D.LogNormal(loc, scale).rsample((4,))
    x.sum().backward()
    gpujit.manual_seed(0)
    eps = gpujit.randn(4, 2, dtype=gpujit.float64).numpy()
    e = np.exp(npv(loc) + eps * npv(scale))
    close(loc.grad, e.sum(0), 1e-6)
    close(scale.grad, (e * eps).sum(0), 1e-6)
    for make in (lambda a, b: D.Gumbel(a, b), lambda a, b: D.Cauchy(a, b),
                 lambda a, b: D.StudentT(5.0, a, b), lambda a, b: D.HalfNormal(b),
                 lambda a, b: D.LogisticNormal(a, b), lambda a, b: D.Weibull(b, b + 1),
                 lambda a, b: D.RelaxedBernoulli(gpujit.tensor(0.5), logits=a),
                 lambda a, b: D.RelaxedOneHotCategorical(gpujit.tensor(0.5), logits=a),
                 lambda a, b: D.LowRankMultivariateNormal(a, b.unsqueeze(-1), b)):
        a, b = G([0.3, -0.2], True), G([0.5, 1.5], True)
        d = make(a, b)
        assert d.has_rsample
        d.rsample((3,)).sum().backward()
        grads = [t.grad for t in (a, b) if t.grad is not None]
        assert grads and all(np.isfinite(g.numpy()).all() for g in grads)
    df = G(3.0, True)                       # (reparameterized through Chi2 since s25)
    D.StudentT(df).rsample((3,)).sum().backward()
    assert df.grad is not None and np.isfinite(df.grad.numpy())
    conc = G([1.0, 2.0], True)
    (D.Dirichlet(conc).rsample((4,)) * G([1.0, 3.0])).sum().backward()
    assert conc.grad is not None and np.isfinite(conc.grad.numpy()).all()


def _transforms():
    return [("ExpTransform", (), P), ("SigmoidTransform", (), P - 1),
            ("TanhTransform", (), P - 1), ("SoftplusTransform", (), P - 1),
            ("AbsTransform", (), P - 1), ("PowerTransform", (2.5,), P),
            ("AffineTransform", (0.5, -2.0), P), ("AffineTransform", ("Q", "P", 1), P),
            ("SoftmaxTransform", (), P), ("StickBreakingTransform", (), P),
            ("LowerCholeskyTransform", (), RS.randn(2, 3, 3)),
            ("PositiveDefiniteTransform", (), RS.randn(3, 3)),
            ("ReshapeTransform", ((2, 3), (6,)), P)]


@pytest.mark.parametrize("name,args,x", _transforms())
def test_transforms_against_torch(name, args, x):
    gargs = [G(Q) if a == "Q" else G(P) if a == "P" else a for a in args]
    targs = [Tt(Q) if a == "Q" else Tt(P) if a == "P" else a for a in args]
    gt, tt = getattr(T, name)(*gargs), getattr(TT, name)(*targs)
    y, ty = gt(G(x)), tt(Tt(x))
    close(y, ty, 1e-9)
    close(gt.inv(y), tt.inv(ty), 1e-7)
    for t1, t2 in ((gt.domain, tt.domain), (gt.codomain, tt.codomain)):
        assert t1.event_dim == t2.event_dim and type(t1).__name__ == type(t2).__name__
    assert gt.bijective == tt.bijective
    try:
        ref = tt.log_abs_det_jacobian(Tt(x), ty)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            gt.log_abs_det_jacobian(G(x), y)
    else:
        close(gt.log_abs_det_jacobian(G(x), y), ref, 1e-9)
        close(gt.inv.log_abs_det_jacobian(y, G(x)), tt.inv.log_abs_det_jacobian(ty, Tt(x)),
              1e-9)
    shape = tuple(np.shape(x))
    assert tuple(gt.forward_shape(shape)) == tuple(tt.forward_shape(torch.Size(shape)))
    assert tuple(gt.inverse_shape(tuple(y.shape))) == tuple(tt.inverse_shape(ty.shape))


def test_compose_cat_stack_cache_and_equality():
    parts_g = [T.AffineTransform(0.5, 2.0), T.TanhTransform(), T.AffineTransform(1.0, 3.0)]
    parts_t = [TT.AffineTransform(0.5, 2.0), TT.TanhTransform(), TT.AffineTransform(1.0, 3.0)]
    cg, ct = T.ComposeTransform(parts_g), TT.ComposeTransform(parts_t)
    x = RS.randn(4, 3)
    close(cg(G(x)), ct(Tt(x)), 1e-12)
    close(cg.log_abs_det_jacobian(G(x), cg(G(x))), ct.log_abs_det_jacobian(Tt(x), ct(Tt(x))))
    close(cg.inv(cg(G(x))), x, 1e-9)
    assert cg.inv.inv is cg and cg.sign == 1
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform().inv == T.ExpTransform().inv
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    c = T.ExpTransform(cache_size=1)
    xg = G(x)
    assert c.inv(c(xg)) is xg
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)
    catg = T.CatTransform([T.ExpTransform(), T.identity_transform], dim=1, lengths=[1, 2])
    catt = TT.CatTransform([TT.ExpTransform(), TT.identity_transform], dim=1, lengths=[1, 2])
    close(catg(G(x)), catt(Tt(x)))
    close(catg.log_abs_det_jacobian(G(x), catg(G(x))),
          catt.log_abs_det_jacobian(Tt(x), catt(Tt(x))))
    close(catg.inv(catg(G(x))), x, 1e-9)
    stg = T.StackTransform([T.ExpTransform(), T.SigmoidTransform(), T.TanhTransform()], dim=1)
    stt = TT.StackTransform([TT.ExpTransform(), TT.SigmoidTransform(), TT.TanhTransform()],
                            dim=1)
    close(stg(G(x)), stt(Tt(x)))
    close(stg.log_abs_det_jacobian(G(x), stg(G(x))),
          stt.log_abs_det_jacobian(Tt(x), stt(Tt(x))))
    ind = T.IndependentTransform(T.ExpTransform(), 1)
    assert ind.domain.event_dim == 1
    close(ind.log_abs_det_jacobian(G(x), ind(G(x))), x.sum(-1))


def test_squashed_gaussian_sac():
    """SAC's tanh-squashed Gaussian policy: log_prob of rsample, gradients into loc/scale."""
    mu, log_std = RS.randn(4, 2), RS.randn(4, 2) * 0.3
    gl, gs = G(mu, True), G(log_std, True)
    tl, ts = Tt(mu, True), Tt(log_std, True)
    gd = D.TransformedDistribution(D.Normal(gl, gs.exp()), [T.TanhTransform(cache_size=1)])
    td = TD.TransformedDistribution(TD.Normal(tl, ts.exp()), [TT.TanhTransform(cache_size=1)])
    assert gd.has_rsample and tuple(gd.batch_shape) == (4, 2)
    u = RS.randn(4, 2) * 0.5
    a = np.tanh(mu + np.exp(log_std) * u)
    lg, lt = gd.log_prob(G(a)), td.log_prob(Tt(a))
    close(lg, lt, 1e-7)
    lg.sum().backward()
    lt.sum().backward()
    close(gl.grad, tl.grad, 1e-6)
    close(gs.grad, ts.grad, 1e-6)
    close(gd.cdf(G(a)), td.cdf(Tt(a)), 1e-9)
    gpujit.manual_seed(1)
    act = gd.rsample()
    assert act.requires_grad and (np.abs(act.detach().numpy()) < 1).all()
    assert repr(gd.support) == "Interval(lower_bound=-1.0, upper_bound=1.0)"
    ind = D.Independent(gd, 1)
    close(ind.log_prob(G(a)), lt.detach().numpy().sum(-1), 1e-7)


def test_biject_to_transform_to():
    x = RS.randn(2, 3)
    cs = [("positive", None), ("real", None), ("unit_interval", None), ("simplex", None),
          ("nonnegative", None), ("greater_than", (1.5,)), ("less_than", (2.0,)),
          ("interval", (-1.0, 3.0)), ("half_open_interval", (0.0, 2.0)),
          ("lower_cholesky", None), ("positive_definite", None), ("real_vector", None)]
    for cname, cargs in cs:
        gc = getattr(constraints, cname)
        tc = getattr(TD.constraints, cname)
        if cargs is not None:
            gc, tc = gc(*cargs), tc(*cargs)
        xin = RS.randn(2, 3, 3) if cname in ("lower_cholesky", "positive_definite") else x
        for gr, tr in ((D.transform_to, TD.transform_to), (D.biject_to, TD.biject_to)):
            try:
                tt = tr(tc)
            except NotImplementedError:
                with pytest.raises(NotImplementedError, match="Cannot transform"):
                    gr(gc)
                continue
            gt = gr(gc)
            y = gt(G(xin))
            close(y, tt(Tt(xin)), 1e-9)
            assert bool(gc.check(y).all())
            if gt.bijective:
                close(gt.log_abs_det_jacobian(G(xin), y),
                      tt.log_abs_det_jacobian(Tt(xin), tt(Tt(xin))), 1e-9)
    # the classic use: an unconstrained parameter optimized through transform_to
    u = G([0.0, 1.0], True)
    scale = D.transform_to(D.Normal.arg_constraints["scale"])(u)
    (-D.Normal(G(0.0), scale).log_prob(G([1.0, 2.0])).sum()).backward()
    tu = Tt([0.0, 1.0], True)
    (-TD.Normal(Tt(0.0), TD.transform_to(TD.Normal.arg_constraints["scale"])(tu))
     .log_prob(Tt([1.0, 2.0])).sum()).backward()
    close(u.grad, tu.grad, 1e-9)
    with pytest.raises(TypeError, match="Expected constraint"):
        D.biject_to.register(int, lambda c: None)


def test_kl_pairs_against_torch():
    pairs = [("Poisson", (P,), (Q,)), ("Geometric", (PR,), (PR[::-1].copy(),)),
             ("Binomial", (5.0, PR), (5.0, PR[::-1].copy())),
             ("Dirichlet", (P,), (Q,)), ("Gumbel", (P, Q), (Q, P)), ("HalfNormal", (P,), (Q,)),
             ("Pareto", (P, Q + 1), (P * 0.5, Q + 2)), ("Cauchy", (P, Q), (Q, P)),
             ("LogNormal", (P, Q), (Q, P))]
    for name, a, b in pairs:
        g = D.kl_divergence(getattr(D, name)(*[G(x) for x in a]),
                            getattr(D, name)(*[G(x) for x in b]))
        t = TD.kl_divergence(getattr(TD, name)(*[Tt(x) for x in a]),
                             getattr(TD, name)(*[Tt(x) for x in b]))
        close(g, t, 1e-7)
    g = D.kl_divergence(D.Pareto(G(P), G(Q)), D.Pareto(G(P * 2), G(Q)))
    assert np.isinf(g.numpy()).all()
    W1, W2, d1, d2 = RS.randn(3, 2), RS.randn(3, 1), RS.rand(3) + 0.5, RS.rand(3) + 0.5
    m1, m2 = RS.randn(3), RS.randn(3)
    A = RS.randn(3, 3)
    cov = A @ A.T + np.eye(3)
    gl1, gl2 = (D.LowRankMultivariateNormal(G(m1), G(W1), G(d1)),
                D.LowRankMultivariateNormal(G(m2), G(W2), G(d2)))
    tl1, tl2 = (TD.LowRankMultivariateNormal(Tt(m1), Tt(W1), Tt(d1)),
                TD.LowRankMultivariateNormal(Tt(m2), Tt(W2), Tt(d2)))
    gm, tm = D.MultivariateNormal(G(m2), G(cov)), TD.MultivariateNormal(Tt(m2), Tt(cov))
    close(D.kl_divergence(gl1, gl2), TD.kl_divergence(tl1, tl2))
    close(D.kl_divergence(gl1, gm), TD.kl_divergence(tl1, tm))
    close(D.kl_divergence(gm, gl1), TD.kl_divergence(tm, tl1))
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        D.kl_divergence(D.Binomial(3, G(0.5)), D.Binomial(5, G(0.5)))


def test_mixture_and_lowrank_against_torch():
    logits, loc, scale = RS.randn(2, 3), RS.randn(2, 3), RS.rand(2, 3) + 0.5
    gl, gloc = G(logits, True), G(loc, True)
    gmix = D.MixtureSameFamily(D.Categorical(logits=gl), D.Normal(gloc, G(scale)))
    tl = Tt(logits, True)
    tloc = Tt(loc, True)
    tmix = TD.MixtureSameFamily(TD.Categorical(logits=tl), TD.Normal(tloc, Tt(scale)))
    x = RS.randn(5, 2)
    lg, lt = gmix.log_prob(G(x)), tmix.log_prob(Tt(x))
    close(lg, lt)
    for attr in ("mean", "variance"):
        close(getattr(gmix, attr), getattr(tmix, attr))
    close(gmix.cdf(G(x)), tmix.cdf(Tt(x)))
    lg.sum().backward()
    lt.sum().backward()
    close(gl.grad, tl.grad, 1e-6)
    close(gloc.grad, tloc.grad, 1e-6)
    assert tuple(gmix.batch_shape) == (2,) and tuple(gmix.expand((4, 2)).batch_shape) == (4, 2)
    assert tuple(gmix.sample((7,)).shape) == (7, 2)
    assert repr(gmix.support) == "MixtureSameFamilyConstraint(Real())"
    mvn = D.MixtureSameFamily(D.Categorical(G([0.5, 0.5])),
                              D.Independent(D.Normal(G(RS.randn(2, 3)), G(np.ones((2, 3)))), 1))
    assert tuple(mvn.event_shape) == (3,) and tuple(mvn.sample((4,)).shape) == (4, 3)
    with pytest.raises(ValueError, match="does not equal"):
        D.MixtureSameFamily(D.Categorical(G([0.5, 0.5])), D.Normal(G(loc), G(scale)))
    with pytest.raises(ValueError, match="needs to be an  instance of"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(G(loc), G(scale)))
    W, d, m = RS.randn(2, 3, 2), RS.rand(3) + 0.5, RS.randn(3)
    gW, gd_, gm = G(W, True), G(d, True), G(m, True)
    tW, td_, tm = Tt(W, True), Tt(d, True), Tt(m, True)
    g, t = D.LowRankMultivariateNormal(gm, gW, gd_), TD.LowRankMultivariateNormal(tm, tW, td_)
    assert tuple(g.batch_shape) == (2,) and tuple(g.event_shape) == (3,)
    v = RS.randn(4, 2, 3)
    for attr in ("covariance_matrix", "precision_matrix", "scale_tril", "variance", "mean"):
        close(getattr(g, attr), getattr(t, attr))
    lg = g.log_prob(G(v)).sum() + g.entropy().sum()
    lt = t.log_prob(Tt(v)).sum() + t.entropy().sum()
    close(lg, lt)
    lg.backward()
    lt.backward()
    for a, b in ((gW, tW), (gd_, td_), (gm, tm)):
        close(a.grad, b.grad, 1e-6)
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices"):
        D.LowRankMultivariateNormal(G(m), G(np.ones((2, 2))), G(d))


def test_validation_errors_match_torch():
    def msg(fn):
        try:
            fn()
        except (ValueError, NotImplementedError) as e:
            return type(e), str(e).split(" of distribution")[0]
        raise AssertionError("no error")
    checks = [
        (lambda m: m.Poisson(Tt([-1.0]) if m is TD else G([-1.0]))),
        (lambda m: m.Dirichlet(Tt(1.0) if m is TD else G(1.0))),
        (lambda m: m.Geometric()),
        (lambda m: m.Geometric(Tt([0.0]) if m is TD else G([0.0]))),
        (lambda m: m.StudentT(Tt([-1.0]) if m is TD else G([-1.0]))),
        (lambda m: m.Binomial(Tt([2.5]) if m is TD else G([2.5]), Tt([0.5]) if m is TD
                              else G([0.5]))),
        (lambda m: m.Multinomial(Tt([2]) if m is TD else G([2]), Tt([0.5, 0.5]) if m is TD
                                 else G([0.5, 0.5]))),
        (lambda m: m.LowRankMultivariateNormal(Tt(0.0) if m is TD else G(0.0),
                                               Tt(np.ones((1, 1))) if m is TD
                                               else G(np.ones((1, 1))),
                                               Tt([1.0]) if m is TD else G([1.0]))),
        (lambda m: m.LogNormal(0.0, 1.0).log_prob(Tt([-1.0]) if m is TD else G([-1.0]))),
        (lambda m: m.Pareto(Tt([1.0]) if m is TD else G([1.0]), 2.0).log_prob(
            Tt([0.5]) if m is TD else G([0.5]))),
        (lambda m: m.TransformedDistribution(m.Normal(0.0, 1.0), "exp")),
    ]
    for fn in checks:
        tmsg, gmsg = msg(lambda: fn(TD)), msg(lambda: fn(D))
        assert tmsg[0] is gmsg[0], (tmsg, gmsg)
        assert gmsg[1].replace("gpujit.", "") == tmsg[1].replace("torch.", ""), (tmsg, gmsg)
    gpujit.distributions.Distribution.set_default_validate_args(True)


def test_traced_and_scripted_log_prob():
    """A function computing a squashed-Gaussian log_prob traces (torch.jit.trace does too)."""
    def f(mu, log_std, a):
        d = D.TransformedDistribution(D.Normal(mu, log_std.exp(), validate_args=False),
                                      [T.TanhTransform()], validate_args=False)
        return d.log_prob(a).sum(-1)
    mu, ls, a = G(RS.randn(3, 2)), G(RS.randn(3, 2) * 0.2), G(np.tanh(RS.randn(3, 2)))
    traced = gpujit.trace(f, (mu, ls, a))
    close(traced(mu, ls, a), f(mu, ls, a), 1e-12)
    mu2, ls2, a2 = G(RS.randn(3, 2)), G(RS.randn(3, 2) * 0.2), G(np.tanh(RS.randn(3, 2)))
    close(traced(mu2, ls2, a2), f(mu2, ls2, a2), 1e-12)


def test_broadcast_parameters_keep_their_own_requires_grad():
    """broadcast_all expanded through the list op broadcast_tensors, which marked a constant
    loc as requiring grad once scale did (torch: only the tensors that require grad)."""
    scale = G([1.0, 2.0], True)
    for d, td in ((D.Normal(0.0, scale), TD.Normal(0.0, Tt([1.0, 2.0], True))),
                  (D.StudentT(G(3.0), G(0.0), scale),
                   TD.StudentT(Tt(3.0), Tt(0.0), Tt([1.0, 2.0], True)))):
        assert d.loc.requires_grad == td.loc.requires_grad is False
        assert d.scale.requires_grad and tuple(d.loc.shape) == (2,)
    gpujit.manual_seed(0)
    x = D.StudentT(G(3.0), G(0.0), scale).rsample((3,))     # df constant: allowed
    x.sum().backward()
    assert scale.grad is not None


_KL_FACTORIES = {
    "Normal": lambda m, t: m.Normal(t(P - 1), t(Q)), "Laplace": lambda m, t: m.Laplace(t(P), t(Q)),
    "Gumbel": lambda m, t: m.Gumbel(t(P), t(Q)), "Exponential": lambda m, t: m.Exponential(t(P)),
    "Gamma": lambda m, t: m.Gamma(t(P + 1), t(Q)), "Beta": lambda m, t: m.Beta(t(P), t(Q)),
    "Pareto": lambda m, t: m.Pareto(t(Q * 0.5), t(P + 2)),
    "Uniform": lambda m, t: m.Uniform(t(PR * 0.5), t(PR + 0.4)),
    "Bernoulli": lambda m, t: m.Bernoulli(t(PR)), "Poisson": lambda m, t: m.Poisson(t(P)),
    "Binomial": lambda m, t: m.Binomial(t(np.full((2, 3), 4.0)), t(PR)),
}


@pytest.mark.parametrize("pair", sorted(
    (a.__name__, b.__name__) for a, b in TD.kl._KL_REGISTRY
    if a.__name__ in _KL_FACTORIES and b.__name__ in _KL_FACTORIES))
def test_cross_family_kl_against_torch(pair):
    a, b = pair
    p, q = _KL_FACTORIES[a](D, G), _KL_FACTORIES[b](D, G)
    tp, tq = _KL_FACTORIES[a](TD, Tt), _KL_FACTORIES[b](TD, Tt)
    close(D.kl_divergence(p, q), TD.kl_divergence(tp, tq), 1e-7)
