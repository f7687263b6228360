"""torch.nn.utils' weight normalization, spectral normalization, orthogonal
parametrization, BatchNorm folding, skip_init and stateless.functional_call, and the
Module state_dict hooks they rest on, against PyTorch 2.13 from the same weights (the
random power-iteration vectors and trivialization bases are copied from torch's module).

Where gpujit differs on purpose: orthogonal's right_inverse takes the orthogonal factor of
a QR decomposition with a non-negative R diagonal where PyTorch goes through geqrf and
householder_product: the same matrix, to rounding."""
import warnings

import numpy as np
import pytest

import gpujit as torch

ref = pytest.importorskip("torch")


def G(t):
    return torch.tensor(t.detach().numpy())


def N(x):
    return x.detach().numpy()


def _same_weights(ours, theirs):
    with torch.no_grad():
        for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n1 == n2
            p1.copy_(G(p2))
        for (n1, b1), (n2, b2) in zip(ours.named_buffers(), theirs.named_buffers()):
            assert n1 == n2
            if b1 is not None:
                b1.copy_(G(b2))


# ------------------------------------------------------------------ fusion

@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval(transpose):
    ref.manual_seed(0)
    mk = "ConvTranspose2d" if transpose else "Conv2d"
    tc, tb = getattr(ref.nn, mk)(3, 4, 3), ref.nn.BatchNorm2d(4)
    gc, gb = getattr(torch.nn, mk)(3, 4, 3), torch.nn.BatchNorm2d(4)
    with ref.no_grad():
        tb.running_mean.uniform_(-1, 1)
        tb.running_var.uniform_(0.5, 2)
        tb.weight.uniform_(0.5, 2)
        tb.bias.uniform_(-1, 1)
    _same_weights(gc, tc)
    _same_weights(gb, tb)
    for m in (tc, tb, gc, gb):
        m.eval()
    tf = ref.nn.utils.fuse_conv_bn_eval(tc, tb, transpose=transpose)
    gf = torch.nn.utils.fuse_conv_bn_eval(gc, gb, transpose=transpose)
    assert isinstance(gf, getattr(torch.nn, mk)) and gf is not gc
    np.testing.assert_allclose(N(gf.weight), N(tf.weight), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(N(gf.bias), N(tf.bias), rtol=1e-5, atol=1e-6)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(N(gf(torch.tensor(x))), N(gb(gc(torch.tensor(x)))),
                               rtol=1e-4, atol=1e-5)
    gc.train()
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        torch.nn.utils.fuse_conv_bn_eval(gc, gb)


def test_fuse_linear_bn_eval_and_weights():
    ref.manual_seed(1)
    tl, tb = ref.nn.Linear(5, 4), ref.nn.BatchNorm1d(4)
    gl, gb = torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4)
    with ref.no_grad():
        tb.running_mean.uniform_(-1, 1)
        tb.running_var.uniform_(0.5, 2)
    _same_weights(gl, tl)
    _same_weights(gb, tb)
    for m in (tl, tb, gl, gb):
        m.eval()
    tf, gf = ref.nn.utils.fuse_linear_bn_eval(tl, tb), torch.nn.utils.fuse_linear_bn_eval(gl, gb)
    np.testing.assert_allclose(N(gf.weight), N(tf.weight), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(N(gf.bias), N(tf.bias), rtol=1e-5, atol=1e-6)
    w, b = torch.nn.utils.fuse_linear_bn_weights(gl.weight, None, gb.running_mean,
                                                 gb.running_var, gb.eps, gb.weight, gb.bias)
    assert isinstance(w, torch.nn.Parameter) and w.requires_grad
    with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
        torch.nn.utils.fuse_linear_bn_eval(gl, torch.nn.BatchNorm1d(3).eval())


# ------------------------------------------------------------------ weight_norm (hooks)

@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_hook_form(dim):
    ref.manual_seed(2)
    tl, gl = ref.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    _same_weights(gl, tl)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ref.nn.utils.weight_norm(tl, dim=dim)
    with pytest.warns(FutureWarning, match="deprecated"):
        torch.nn.utils.weight_norm(gl, dim=dim)
    assert [n for n, _ in gl.named_parameters()] == [n for n, _ in tl.named_parameters()]
    np.testing.assert_allclose(N(gl.weight_g), N(tl.weight_g), rtol=1e-6)
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    for step in range(3):
        yt, yg = tl(ref.tensor(x)), gl(torch.tensor(x))
        np.testing.assert_allclose(N(yg), N(yt), rtol=1e-5, atol=1e-6)
        yt.square().sum().backward()
        yg.square().sum().backward()
        for name in ("weight_g", "weight_v", "bias"):
            np.testing.assert_allclose(N(getattr(gl, name).grad), N(getattr(tl, name).grad),
                                       rtol=1e-4, atol=1e-6)
        with torch.no_grad(), ref.no_grad():
            for (_, p), (_, q) in zip(gl.named_parameters(), tl.named_parameters()):
                p -= 0.1 * p.grad
                q -= 0.1 * q.grad
                p.grad = None
                q.grad = None
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        torch.nn.utils.weight_norm(gl, dim=dim)
    torch.nn.utils.remove_weight_norm(gl)
    ref.nn.utils.remove_weight_norm(tl)
    assert isinstance(gl.weight, torch.nn.Parameter)
    assert sorted(n for n, _ in gl.named_parameters()) == ["bias", "weight"]
    with ref.no_grad():
        np.testing.assert_allclose(N(gl.weight), N(tl.weight), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        torch.nn.utils.remove_weight_norm(gl)


# ------------------------------------------------------------------ spectral_norm (hooks)

def _spectral_pair(make_t, make_g, **kw):
    ref.manual_seed(3)
    tm, gm = make_t(), make_g()
    _same_weights(gm, tm)
    ref.nn.utils.spectral_norm(tm, **kw)
    torch.nn.utils.spectral_norm(gm, **kw)
    with torch.no_grad():
        gm.weight_u.copy_(G(tm.weight_u))
        gm.weight_v.copy_(G(tm.weight_v))
    return tm, gm


@pytest.mark.parametrize("kind", ["linear", "conv", "convT"])
def test_spectral_norm_hook_form_training_and_eval(kind):
    make = {"linear": (lambda lib: lib.nn.Linear(6, 4), (3, 6)),
            "conv": (lambda lib: lib.nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
            "convT": (lambda lib: lib.nn.ConvTranspose2d(2, 3, 3), (2, 2, 4, 4))}[kind]
    tm, gm = _spectral_pair(lambda: make[0](ref), lambda: make[0](torch),
                            n_power_iterations=2)
    assert sorted(dict(gm.named_buffers())) == ["weight_u", "weight_v"]
    x = np.random.default_rng(2).standard_normal(make[1]).astype(np.float32)
    for _ in range(3):
        yt, yg = tm(ref.tensor(x)), gm(torch.tensor(x))
        np.testing.assert_allclose(N(yg), N(yt), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(N(gm.weight_u), N(tm.weight_u), rtol=1e-4, atol=1e-6)
        yt.sum().backward()
        yg.sum().backward()
        np.testing.assert_allclose(N(gm.weight_orig.grad), N(tm.weight_orig.grad),
                                   rtol=1e-3, atol=1e-5)
    tm.eval()
    gm.eval()
    u_before = N(gm.weight_u).copy()
    np.testing.assert_allclose(N(gm(torch.tensor(x))), N(tm(ref.tensor(x))),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(N(gm.weight_u), u_before)     # no iteration in eval
    sd = gm.state_dict()
    assert sorted(sd) == sorted(tm.state_dict())
    assert sd._metadata[""]["spectral_norm"] == {"weight.version": 1}
    torch.nn.utils.remove_spectral_norm(gm)
    assert isinstance(gm.weight, torch.nn.Parameter)
    assert not gm._state_dict_hooks and not gm._load_state_dict_pre_hooks
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        torch.nn.utils.remove_spectral_norm(gm)


def test_spectral_norm_state_dict_round_trip_and_version0():
    tm, gm = _spectral_pair(lambda: ref.nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3))
    x = torch.randn(2, 5)
    gm(x)
    other = torch.nn.utils.spectral_norm(torch.nn.Linear(5, 3))
    other.load_state_dict(gm.state_dict())
    gm.eval()
    other.eval()
    np.testing.assert_allclose(N(other(x)), N(gm(x)), rtol=1e-6)
    # a version-0 state_dict (weight, weight_orig, weight_u; no weight_v, no metadata)
    old = {k: v for k, v in gm.state_dict().items() if k != "weight_v"}
    old["weight"] = gm.weight.detach().clone()
    fresh = torch.nn.utils.spectral_norm(torch.nn.Linear(5, 3))
    fresh.load_state_dict(old)
    fresh.eval()
    np.testing.assert_allclose(N(fresh(x)), N(gm(x)), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        torch.nn.utils.spectral_norm(torch.nn.Linear(2, 2), n_power_iterations=0)


# ------------------------------------------------------------------ parametrizations

def test_parametrizations_weight_norm_and_old_state_dict():
    ref.manual_seed(4)
    tl, gl = ref.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    _same_weights(gl, tl)
    P = torch.nn.utils.parametrizations
    ref.nn.utils.parametrizations.weight_norm(tl)
    P.weight_norm(gl)
    assert sorted(gl.state_dict()) == sorted(tl.state_dict())
    np.testing.assert_allclose(N(gl.parametrizations.weight.original0),
                               N(tl.parametrizations.weight.original0), rtol=1e-6)
    x = np.random.default_rng(3).standard_normal((2, 4)).astype(np.float32)
    yt, yg = tl(ref.tensor(x)), gl(torch.tensor(x))
    np.testing.assert_allclose(N(yg), N(yt), rtol=1e-5, atol=1e-6)
    yt.sum().backward()
    yg.sum().backward()
    np.testing.assert_allclose(N(gl.parametrizations.weight.original1.grad),
                               N(tl.parametrizations.weight.original1.grad), rtol=1e-4,
                               atol=1e-6)
    # a state_dict of the hook form loads into the parametrized module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3))
    gl.load_state_dict(old.state_dict())
    np.testing.assert_allclose(N(gl.weight), N(old.weight), rtol=1e-6)


def test_parametrizations_spectral_norm():
    ref.manual_seed(5)
    tl, gl = ref.nn.Linear(6, 4), torch.nn.Linear(6, 4)
    _same_weights(gl, tl)
    ref.nn.utils.parametrizations.spectral_norm(tl)
    torch.nn.utils.parametrizations.spectral_norm(gl)
    pt, pg = tl.parametrizations.weight[0], gl.parametrizations.weight[0]
    with torch.no_grad():
        pg._u.copy_(G(pt._u))
        pg._v.copy_(G(pt._v))
    x = np.random.default_rng(4).standard_normal((3, 6)).astype(np.float32)
    for _ in range(3):
        np.testing.assert_allclose(N(gl(torch.tensor(x))), N(tl(ref.tensor(x))),
                                   rtol=1e-4, atol=1e-5)
    s = np.linalg.svd(N(gl.weight), compute_uv=False)
    assert abs(s[0] - 1.0) < 1e-2
    with pytest.raises(IndexError, match="Dimension out of range"):
        torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(2, 2), dim=3)


@pytest.mark.parametrize("shape,omap", [((4, 4), None), ((4, 4), "cayley"),
                                        ((6, 3), None), ((3, 6), None), ((5, 5), "householder")])
def test_orthogonal(shape, omap):
    torch.manual_seed(0)
    lin = torch.nn.Linear(shape[1], shape[0], bias=False).double()
    torch.nn.utils.parametrizations.orthogonal(lin, orthogonal_map=omap)
    q = N(lin.weight)
    k = min(shape)
    gram = q.T @ q if shape[0] >= shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(k), atol=1e-10)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    x = torch.randn(8, shape[1], dtype=torch.float64)
    for _ in range(3):
        opt.zero_grad()
        (lin(x) - 1.0).square().sum().backward()
        opt.step()
    q2 = N(lin.weight)
    assert not np.allclose(q2, q)
    gram = q2.T @ q2 if shape[0] >= shape[1] else q2 @ q2.T
    np.testing.assert_allclose(gram, np.eye(k), atol=1e-10)
    # assigning an orthogonal matrix gives it back
    target = np.linalg.qr(np.random.default_rng(5).standard_normal(
        (max(shape), min(shape))))[0]
    target = target if shape[0] >= shape[1] else target.T
    with torch.no_grad():
        lin.weight = torch.tensor(target)
    np.testing.assert_allclose(N(lin.weight), target, atol=1e-10)


def test_orthogonal_householder_matches_torch_without_trivialization():
    ref.manual_seed(6)
    tl, gl = ref.nn.Linear(3, 5, bias=False).double(), torch.nn.Linear(3, 5, bias=False).double()
    _same_weights(gl, tl)
    ref.nn.utils.parametrizations.orthogonal(tl, use_trivialization=False)
    torch.nn.utils.parametrizations.orthogonal(gl, use_trivialization=False)
    np.testing.assert_allclose(N(gl.parametrizations.weight.original),
                               N(tl.parametrizations.weight.original), atol=1e-12)
    np.testing.assert_allclose(N(gl.weight), N(tl.weight), atol=1e-12)
    x = np.random.default_rng(6).standard_normal((4, 3))
    gl(torch.tensor(x)).sum().backward()
    tl(ref.tensor(x)).sum().backward()
    np.testing.assert_allclose(N(gl.parametrizations.weight.original.grad),
                               N(tl.parametrizations.weight.original.grad), atol=1e-10)
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(2, 2), orthogonal_map="x")
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(2, 2), name="bias")


# ------------------------------------------------------------------ the rest

def test_skip_init_and_stateless_functional_call():
    m = torch.nn.utils.skip_init(torch.nn.Linear, 4, 3)
    assert isinstance(m, torch.nn.Linear) and m.weight.shape == (3, 4)
    assert m.weight.device.type == "cpu"

    class NoDevice(torch.nn.Module):
        def __init__(self, n):
            super().__init__()

    with pytest.raises(RuntimeError, match="must support a 'device' arg"):
        torch.nn.utils.skip_init(NoDevice, 2)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        torch.nn.utils.skip_init(int)
    lin = torch.nn.Linear(2, 1)
    w = {"weight": torch.ones(1, 2), "bias": torch.zeros(1)}
    with pytest.warns(FutureWarning):
        out = torch.nn.utils.stateless.functional_call(lin, w, (torch.tensor([[1.0, 2.0]]),))
    assert out.tolist() == [[3.0]]


def test_state_dict_and_load_pre_hooks():
    m = torch.nn.Sequential(torch.nn.Linear(2, 2))
    calls = []
    m[0].register_state_dict_pre_hook(lambda mod, prefix, keep_vars: calls.append(prefix))
    sd = {k: v.clone() for k, v in m.state_dict().items()}
    assert calls == ["0."]

    def rename(mod, state_dict, prefix, *rest):
        if prefix + "w" in state_dict:
            state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")

    h = m[0].register_load_state_dict_pre_hook(rename)
    renamed = {("0.w" if k == "0.weight" else k): v * 2 for k, v in sd.items()}
    m.load_state_dict(renamed)
    np.testing.assert_allclose(N(m[0].weight), N(sd["0.weight"]) * 2)
    h.remove()
    with pytest.raises(RuntimeError, match="Missing key"):
        m.load_state_dict(renamed)
