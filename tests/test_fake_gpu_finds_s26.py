"""Session 26's finds of the GPU tier run against the NumPy-backed CuPy (tests/fakecupy):
`@pytest.mark.cuda` tests, compared with the CPU (and NumPy), that run on a GPU and, through
tests/test_fake_gpu_s26.py, against the fake CuPy on machines without one."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit

two_gpus = pytest.mark.two_gpus      # (cuda:1: skipped where one GPU is visible)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def test_multinomial_without_replacement_checks_the_probabilities_on_every_device(device):
    # PyTorch checks the distribution before sampling without replacement (or one sample)
    # on every device (.item(): a host sync), and samples zero-probability categories
    # once the others run out instead of refusing
    t = lambda v: gpujit.tensor(v, device=device)    # noqa: E731
    for bad in ([-0.5, 1.5], [np.nan, 1.0], [np.inf, 1.0]):
        with pytest.raises(RuntimeError, match="contains either `inf`, `nan` or element < 0"):
            gpujit.multinomial(t(bad), 1)
        with pytest.raises(RuntimeError, match="contains either `inf`, `nan` or element < 0"):
            gpujit.multinomial(t([bad, [1.0, 1.0]]), 2)
    with pytest.raises(RuntimeError, match=r"sum of probabilities <= 0"):
        gpujit.multinomial(t([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), 1)
    r = gpujit.multinomial(t([0.0, 0.0, 1.0]), 3)
    assert r.device.type == device and r[0].item() == 2
    assert sorted(r.tolist()) == [0, 1, 2]
    assert gpujit.multinomial(t(np.zeros((0, 3))), 1).shape == (0, 1)


def test_multinomial_with_replacement_checks_each_entry_on_the_cpu():
    for bad, msg in (([-0.5, 1.5], "entry < 0"), ([np.nan, 1.0], "entry < 0"),
                     ([np.inf, 1.0], "entry = infinity or NaN"), ([0.0, 0.0], "<= 0")):
        with pytest.raises(RuntimeError, match=msg):
            gpujit.multinomial(gpujit.tensor(bad), 2, replacement=True)


def _gru_and_input():
    gpujit.manual_seed(0)
    return gpujit.jit.script(gpujit.nn.GRU(4, 5, batch_first=True)), gpujit.randn(2, 3, 4)


def test_a_deep_copied_script_module_keeps_its_methods_defaults():
    import copy
    m, x = _gru_and_input()
    c = copy.deepcopy(m)
    assert str(c.forward.schema) == str(m.forward.schema)
    assert "hx=None" in str(c.forward.schema)
    out, h = c(x)                  # hx defaults to None, as on the original
    np.testing.assert_allclose(out.detach().numpy(), m(x)[0].detach().numpy())
    s = copy.copy(m)               # (a shallow copy too)
    np.testing.assert_allclose(s(x)[0].detach().numpy(), out.detach().numpy())


@pytest.mark.cuda
def test_assert_consistent_on_scripted_modules_with_defaulted_arguments():
    # assert_consistent deep-copies a module before moving it: the copy's forward kept no
    # defaults, so `hx` / `src_mask` / `output_size` were "missing"
    from gpujit.testing import assert_consistent
    m, x = _gru_and_input()
    assert_consistent(m, x, rtol=1e-5, atol=1e-6)
    gpujit.manual_seed(0)
    enc = gpujit.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    assert_consistent(gpujit.jit.script(enc), gpujit.randn(3, 2, 8), rtol=1e-4, atol=1e-5)
    up = gpujit.nn.ConvTranspose2d(3, 2, 3, stride=2)
    assert_consistent(gpujit.jit.script(up), gpujit.randn(1, 3, 4, 4), rtol=1e-5, atol=1e-6)


@pytest.mark.cuda
def test_householder_product_orgqr_and_ormqr_on_cuda_match_the_cpu_with_gradients():
    # the derivative (and ormqr's padding of fewer reflectors than rows) made its
    # helper tensors on the CPU: `where: expected all tensors to be on the same device`
    rng = np.random.default_rng(0)
    a, tau = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 2))
    other = rng.standard_normal((2, 5, 4))
    results = {}
    for dev in ("cpu", "cuda"):
        A = gpujit.tensor(a, device=dev, requires_grad=True)
        T = gpujit.tensor(tau, device=dev, requires_grad=True)
        B = gpujit.tensor(other, device=dev)
        q = gpujit.linalg.householder_product(A, T)
        q2 = gpujit.orgqr(A, T)
        r = gpujit.ormqr(A, T, B)                      # 2 reflectors for 5 rows: padded
        for t in (q, q2, r):
            assert t.device.type == dev
        (q.sum() + (q2 * q2).sum() + r.sum()).backward()
        assert A.grad.device.type == dev and T.grad.device.type == dev
        results[dev] = [t.detach().cpu().numpy() for t in (q, q2, r, A.grad, T.grad)]
    for g, c in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(g, c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def test_to_the_same_device_with_copy_keeps_the_layout(device):
    # x.to(x.device, copy=True) (and x.to(other, copy=True)) is a preserve_format copy, as
    # every other .to: it came back C-contiguous on the tensor's own device
    x = gpujit.tensor(np.arange(12.0).reshape(3, 4), device=device).t()
    for y in (x.to(device, copy=True), x.to(x, copy=True), x.to(device, gpujit.float32),
              x.to(device, gpujit.float32, copy=True)):
        assert y.stride() == (1, 4) and y.device == x.device
        np.testing.assert_array_equal(y.cpu().numpy(), np.arange(12.0).reshape(3, 4).T)
    assert x.to(device, copy=True).data_ptr() != x.data_ptr()
    b = gpujit.tensor([[1.0], [2.0]], device=device).expand(2, 3)     # (a broadcast: dense)
    assert b.to(device, copy=True).stride() == (3, 1)


# ------------------------------------------------------------------ distributions on cuda

def _families():
    D = gpujit.distributions

    def f(*v):
        return [np.asarray(x, dtype=np.float64) for x in v]
    cov = [[2.0, 0.3], [0.3, 1.0]]
    p3 = [0.2, 0.3, 0.5]
    return {   # name: (parameters, constructor from parameter tensors)
        "Normal": (f([0.3, -1.0], [1.5, 0.7]), D.Normal),
        "Bernoulli": (f([0.3, 0.8]), lambda p: D.Bernoulli(probs=p)),
        "Beta": (f([2.0, 0.5], [1.5, 3.0]), D.Beta),
        "Binomial": (f([5.0, 10.0], [0.3, 0.6]), lambda n, p: D.Binomial(n, probs=p)),
        "Categorical": (f([p3, [0.1, 0.1, 0.8]]), lambda p: D.Categorical(probs=p)),
        "Cauchy": (f([0.0, 1.0], [1.0, 2.0]), D.Cauchy),
        "Chi2": (f([2.0, 5.0]), D.Chi2),
        "ContinuousBernoulli": (f([0.3, 0.8]), lambda p: D.ContinuousBernoulli(probs=p)),
        "Dirichlet": (f([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]), D.Dirichlet),
        "Exponential": (f([1.0, 2.5]), D.Exponential),
        "FisherSnedecor": (f([3.0, 5.0], [4.0, 7.0]), D.FisherSnedecor),
        "Gamma": (f([2.0, 0.5], [1.0, 3.0]), D.Gamma),
        "GeneralizedPareto": (f([0.0, 1.0], [1.0, 2.0], [0.2, -0.1]), D.GeneralizedPareto),
        "Geometric": (f([0.3, 0.7]), lambda p: D.Geometric(probs=p)),
        "Gumbel": (f([0.0, 1.0], [1.0, 2.0]), D.Gumbel),
        "HalfCauchy": (f([1.0, 2.0]), D.HalfCauchy),
        "HalfNormal": (f([1.0, 2.0]), D.HalfNormal),
        "Independent": (f([[0.3, -1.0]], [[1.5, 0.7]]),
                        lambda m, s: D.Independent(D.Normal(m, s), 1)),
        "InverseGamma": (f([2.0, 3.0], [1.0, 3.0]), D.InverseGamma),
        "Kumaraswamy": (f([2.0, 0.5], [1.5, 3.0]), D.Kumaraswamy),
        "LKJCholesky": (f(2.0), lambda c: D.LKJCholesky(3, c)),
        "Laplace": (f([0.0, 1.0], [1.0, 2.0]), D.Laplace),
        "LogNormal": (f([0.0, 1.0], [1.0, 0.5]), D.LogNormal),
        "LogisticNormal": (f([0.0, 1.0], [1.0, 0.5]), D.LogisticNormal),
        "LowRankMultivariateNormal": (f([0.0, 1.0, 2.0], [[1.0], [0.5], [0.2]], [1.0, 2.0, 0.5]),
                                      D.LowRankMultivariateNormal),
        "MixtureSameFamily": (f([0.3, 0.7], [0.0, 2.0], [1.0, 0.5]), lambda w, m, s:
                              D.MixtureSameFamily(D.Categorical(probs=w), D.Normal(m, s))),
        "Multinomial": (f(p3), lambda p: D.Multinomial(5, probs=p)),
        "MultivariateNormal": (f([0.0, 1.0], cov),
                               lambda m, c: D.MultivariateNormal(m, covariance_matrix=c)),
        "MultivariateNormal_precision": (f([0.0, 1.0], cov),
                                         lambda m, c: D.MultivariateNormal(m, precision_matrix=c)),
        "NegativeBinomial": (f([3.0, 5.0], [0.3, 0.6]),
                             lambda n, p: D.NegativeBinomial(n, probs=p)),
        "OneHotCategorical": (f(p3), lambda p: D.OneHotCategorical(probs=p)),
        "Pareto": (f([1.0, 2.0], [2.0, 3.0]), D.Pareto),
        "Poisson": (f([1.0, 4.0]), D.Poisson),
        "RelaxedBernoulli": (f(0.5, [0.3, 0.8]), lambda t, p: D.RelaxedBernoulli(t, probs=p)),
        "RelaxedOneHotCategorical": (f(0.5, p3), lambda t, p: D.RelaxedOneHotCategorical(
            t, probs=p)),
        "StudentT": (f([3.0, 5.0], [0.0, 1.0], [1.0, 2.0]), D.StudentT),
        "Uniform": (f([0.0, 1.0], [1.0, 3.0]), D.Uniform),
        "VonMises": (f([0.0, 1.0], [1.0, 2.0]), D.VonMises),
        "Weibull": (f([1.0, 2.0], [1.5, 0.5]), D.Weibull),
        "Wishart": (f(4.0, cov), lambda df, c: D.Wishart(df, covariance_matrix=c)),
        "TransformedDistribution": (f([0.0], [1.0]), lambda m, s: D.TransformedDistribution(
            D.Normal(m, s), [D.transforms.ExpTransform(),
                             D.transforms.AffineTransform(1.0, 2.0)])),
    }


_FAMILIES = _families()


def _build(name, device):
    params, make = _FAMILIES[name]
    ts = [gpujit.tensor(p, device=device, requires_grad=True) for p in params]
    return make(*ts), ts


def _maybe(fn):
    try:
        return fn()
    except NotImplementedError:
        return None


@pytest.mark.cuda
@pytest.mark.parametrize("name", sorted(_FAMILIES))
def test_distribution_on_cuda_matches_the_cpu(name):
    cpu, cpu_params = _build(name, "cpu")
    gpu, gpu_params = _build(name, "cuda")
    gpujit.manual_seed(0)
    value = cpu.sample((3,))
    s = gpu.sample((3,))
    assert s.device.type == "cuda" and s.shape == value.shape and s.dtype == value.dtype
    assert gpu.support.check(s).all().item()
    lp_c, lp_g = cpu.log_prob(value), gpu.log_prob(value.cuda())
    assert lp_g.device.type == "cuda"
    np.testing.assert_allclose(lp_g.detach().cpu().numpy(), lp_c.detach().numpy(),
                               rtol=1e-9, atol=1e-12)
    # the gradient of log_prob into the parameters, computed on the device
    lp_c.sum().backward()
    lp_g.sum().backward()
    for pc, pg in zip(cpu_params, gpu_params):
        assert (pc.grad is None) == (pg.grad is None)
        if pg.grad is not None:
            assert pg.grad.device.type == "cuda"
            np.testing.assert_allclose(pg.grad.cpu().numpy(), pc.grad.numpy(), rtol=1e-9,
                                       atol=1e-12)
    for what in ("mean", "variance", "stddev", "mode", "entropy"):
        a = _maybe(lambda: getattr(cpu, what)() if what == "entropy" else getattr(cpu, what))
        if a is None:
            continue
        b = getattr(gpu, what)() if what == "entropy" else getattr(gpu, what)
        assert b.device.type == "cuda", what
        np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=what)
    c = _maybe(lambda: cpu.cdf(value))
    if c is not None:
        np.testing.assert_allclose(gpu.cdf(value.cuda()).detach().cpu().numpy(),
                                   c.detach().numpy(), rtol=1e-9, atol=1e-12)
    kl = _maybe(lambda: gpujit.distributions.kl_divergence(cpu, _build(name, "cpu")[0]))
    if kl is not None:
        k = gpujit.distributions.kl_divergence(gpu, _build(name, "cuda")[0])
        assert k.device.type == "cuda"
        np.testing.assert_allclose(k.detach().cpu().numpy(), kl.detach().numpy(), atol=1e-9)
    if gpu.has_rsample:
        gpu, gpu_params = _build(name, "cuda")      # (a new graph: the first is spent)
        r = gpu.rsample((2,))
        assert r.device.type == "cuda"
        r.sum().backward()
        assert any(p.grad is not None for p in gpu_params)
        assert all(p.grad.device.type == "cuda" for p in gpu_params if p.grad is not None)
    e = _maybe(lambda: cpu.enumerate_support()) if cpu.has_enumerate_support else None
    if e is not None:
        g = gpu.enumerate_support()
        assert g.device.type == "cuda"
        np.testing.assert_array_equal(g.cpu().numpy(), e.numpy())


# ------------------------------------------------------------------ torch.special on cuda

_X = np.array([-np.inf, -30.0, -5.5, -2.0, -1.0, -0.5, -1e-6, -0.0, 0.0, 1e-8, 0.25, 0.5,
               0.75, 1.0, 1.5, 2.0, 4.5, 7.9, 8.1, 12.0, 30.0, 200.0, 710.0, np.inf, np.nan])
_UNARY = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "digamma", "entr",
          "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0", "i0e",
          "i1", "i1e", "log1p", "log_ndtr", "logit", "modified_bessel_i0",
          "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "ndtr", "ndtri",
          "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "sinc",
          "spherical_bessel_j0"]
_POLY = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w"]


def _same_on_cuda(fn, *args, rtol=1e-12, atol=0.0):
    """fn on CPU tensors and on their CUDA copies: the CUDA result is a CUDA tensor of the
    same dtype and values (NaN where the CPU has NaN)."""
    want = fn(*args)
    got = fn(*[a.cuda() if isinstance(a, gpujit.Tensor) else a for a in args])
    assert got.device.type == "cuda" and got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=rtol, atol=atol,
                               equal_nan=True)


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_special_functions_eagerly_on_cuda_match_the_cpu(dtype):
    sp = gpujit.special
    x = _X if dtype != "int64" else np.arange(-6, 40)
    t = gpujit.tensor(x.astype(dtype))
    tol = dict(rtol=1e-12) if dtype == "float64" else dict(rtol=2e-6, atol=1e-30)
    with np.errstate(all="ignore"):
        for name in _UNARY:
            _same_on_cuda(getattr(sp, name), t, **tol)
        for name in _POLY:
            for n in (0, 1, 3, 6):
                _same_on_cuda(getattr(sp, name), t.clamp(-3, 3), n, **tol)
            _same_on_cuda(getattr(sp, name), t.clamp(-3, 3),
                          gpujit.tensor([4.0] * len(x)).to(t.dtype), **tol)
        for name in ("xlogy", "xlog1py", "zeta") + (
                ("gammainc", "gammaincc") if dtype != "int64" else ()):   # (PyTorch: floats)
            _same_on_cuda(getattr(sp, name), t, t.flip(0), **tol)
        for name in ("polygamma",):
            for n in (0, 1, 3):
                _same_on_cuda(lambda a: sp.polygamma(n, a), t, **tol)
        pos = t.abs() + 2 if dtype != "int64" else t.abs().double() + 2
        _same_on_cuda(lambda a: sp.multigammaln(a, 3), pos.clamp(max=1e3).nan_to_num(3.0),
                      **tol)
        m = t.reshape(-1, 1).expand(-1, 3).double() if dtype == "int64" else \
            t.reshape(-1, 1).expand(-1, 3).nan_to_num(0.0, 1e3, -1e3)
        for name in ("softmax", "log_softmax"):
            _same_on_cuda(lambda a: getattr(sp, name)(a, 1), m, **tol)
        _same_on_cuda(lambda a: sp.logsumexp(a, 1), m, **tol)


# ------------------------------------------------------------------ nn on cuda

_INITS = {"uniform_": (), "normal_": (), "constant_": (0.3,), "ones_": (), "zeros_": (),
          "eye_": (), "dirac_": (), "xavier_uniform_": (), "xavier_normal_": (),
          "kaiming_uniform_": (), "kaiming_normal_": (), "trunc_normal_": (),
          "orthogonal_": (), "sparse_": (0.5,)}


@two_gpus
@pytest.mark.cuda
def test_nn_init_fills_cuda_parameters_in_place_on_their_device():
    for name, args in _INITS.items():
        shape = (4, 3, 3) if name == "dirac_" else (4, 6)
        w = gpujit.nn.Parameter(gpujit.empty(shape, device="cuda:1"))
        with gpujit.no_grad():
            w.fill_(float("nan"))
        ptr = w.data_ptr()
        assert getattr(gpujit.nn.init, name)(w, *args) is w, name
        assert w.device == gpujit.device("cuda:1") and w.data_ptr() == ptr, name
        v = w.detach().cpu().numpy()
        assert np.isfinite(v).all(), name
    w = gpujit.nn.init.orthogonal_(gpujit.empty(4, 6, device="cuda"))
    np.testing.assert_allclose((w @ w.mT).cpu().numpy(), np.eye(4), atol=1e-5)
    w = gpujit.nn.init.eye_(gpujit.empty(3, 4, device="cuda"))
    np.testing.assert_array_equal(w.cpu().numpy(), np.eye(3, 4))


def _net():
    nn = gpujit.nn
    gpujit.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


@two_gpus
@pytest.mark.cuda
def test_module_to_cuda_and_back_scripted_saved_and_loaded():
    import io
    m = _net().eval()
    x = gpujit.randn(5, 4)
    ref = m(x).detach().numpy()
    m.to("cuda")
    assert all(p.device.type == "cuda" for p in m.parameters())
    assert all(b.device.type == "cuda" for b in m.buffers())
    np.testing.assert_allclose(m(x.cuda()).detach().cpu().numpy(), ref, rtol=1e-5, atol=1e-6)
    m.to("cuda:1")
    out = m(x.to("cuda:1"))
    assert out.device == gpujit.device("cuda:1")
    m.cpu()
    np.testing.assert_allclose(m(x).detach().numpy(), ref, rtol=1e-6)
    m.cuda()
    s = gpujit.jit.script(m)
    for _ in range(3):      # the profiling runs, then the optimized code
        np.testing.assert_allclose(s(x.cuda()).detach().cpu().numpy(), ref, rtol=1e-5,
                                   atol=1e-6)
    buf = io.BytesIO()
    gpujit.jit.save(s, buf)
    # without a map_location, each tensor loads onto the device it was saved from (it
    # loaded onto the CPU); a dict maps the saved device
    for where, dev in (("cuda", "cuda:0"), ("cpu", "cpu"), (None, "cuda:0"),
                       ("cuda:1", "cuda:1"), ({"cuda:0": "cuda:1"}, "cuda:1")):
        buf.seek(0)
        loaded = gpujit.jit.load(buf, map_location=where)
        assert all(str(t.device) == dev for t in [*loaded.parameters(), *loaded.buffers()])
        np.testing.assert_allclose(loaded(x.to(dev)).detach().cpu().numpy(), ref, rtol=1e-5,
                                   atol=1e-6)
    mixed = _net().eval()
    mixed[3].to("cuda:1")
    buf = io.BytesIO()
    gpujit.jit.save(gpujit.jit.script(mixed), buf)
    buf.seek(0)
    loaded = gpujit.jit.load(buf)
    assert loaded[0].weight.device.type == "cpu"
    assert loaded[3].weight.device == gpujit.device("cuda:1")
    sd = m.state_dict()
    buf = io.BytesIO()
    gpujit.save(sd, buf)
    buf.seek(0)
    assert gpujit.load(buf)["0.weight"].device.type == "cuda"
    buf.seek(0)
    sd_cpu = gpujit.load(buf, map_location="cpu")
    m2 = _net().eval()
    m2.load_state_dict(sd_cpu)
    np.testing.assert_allclose(m2(x).detach().numpy(), ref, rtol=1e-6)
    m3 = _net().cuda().eval()
    m3.load_state_dict(sd_cpu)        # (CPU tensors copied into cuda parameters)
    assert m3[0].weight.device.type == "cuda"
    np.testing.assert_allclose(m3(x.cuda()).detach().cpu().numpy(), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.cuda
def test_assert_consistent_on_models_eager_and_scripted():
    from gpujit.testing import assert_consistent
    nn = gpujit.nn
    gpujit.manual_seed(0)
    models = [
        (nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.GELU(),
                       nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval(),
         (gpujit.randn(2, 3, 6, 6),)),
        (nn.LSTM(4, 5, batch_first=True), (gpujit.randn(2, 3, 4),)),
        (nn.LayerNorm(8), (gpujit.randn(2, 8),)),
        (nn.Embedding(10, 4), (gpujit.tensor([[1, 2], [3, 9]]),)),
        (nn.GroupNorm(2, 4), (gpujit.randn(2, 4, 3),)),
    ]
    for m, args in models:
        assert_consistent(m, *args, rtol=1e-4, atol=1e-5)
        assert_consistent(gpujit.jit.script(m), *args, rtol=1e-4, atol=1e-5)
    x = gpujit.randn(3, 2, 8)
    assert_consistent(nn.MultiheadAttention(8, 2), x, x, x, rtol=1e-4, atol=1e-5)
