"""Automatic mixed precision: autocast regions (PyTorch's per-device op lists), their casts
in gradients, traces and compiled code, and GradScaler, against literal expectations taken
from PyTorch 2.13 (CPU autocast with float16) and, where installed, PyTorch itself."""
import pickle
import warnings

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F
from gpujit.ops import registry as _reg

f16, f32, f64 = gpujit.float16, gpujit.float32, gpujit.float64


def _x(*shape, seed=0, dtype=None, device="cpu"):
    r = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    t = gpujit.tensor(r, device=device)
    return t if dtype is None else t.to(dtype)


# What PyTorch 2.13 gives under torch.autocast("cpu", dtype=torch.float16)
_CPU_CASES = [
    ("mm", lambda x, h: gpujit.mm(x, x), f16),
    ("linear", lambda x, h: F.linear(x, x), f16),
    ("matmul", lambda x, h: x @ x, f16),
    ("bmm", lambda x, h: gpujit.bmm(x[None], x[None]), f16),
    ("addmm", lambda x, h: gpujit.addmm(x, x, x), f16),
    ("conv1d", lambda x, h: F.conv1d(x[None], x[:, :, None]), f16),
    ("mm_float64", lambda x, h: gpujit.mm(x.double(), x.double()), f64),
    ("softmax", lambda x, h: gpujit.softmax(h, 0), f16),
    ("log_softmax", lambda x, h: F.log_softmax(h, 0), f16),
    ("layer_norm", lambda x, h: F.layer_norm(h, (4,)), f16),
    ("group_norm", lambda x, h: F.group_norm(h, 2), f16),
    ("exp", lambda x, h: h.exp(), f16),
    ("log", lambda x, h: h.log(), f16),
    ("pow", lambda x, h: h.pow(2), f16),
    ("sum", lambda x, h: h.sum(), f16),
    ("cumsum", lambda x, h: h.cumsum(0), f16),
    ("norm", lambda x, h: h.norm(), f16),
    ("prod", lambda x, h: h.prod(), f32),
    ("mse_loss", lambda x, h: F.mse_loss(h, h), f32),
    ("l1_loss", lambda x, h: F.l1_loss(h, h), f32),
    ("cross_entropy", lambda x, h: F.cross_entropy(h, gpujit.zeros(4, dtype=gpujit.long)), f32),
    ("nll_loss", lambda x, h: F.nll_loss(h, gpujit.zeros(4, dtype=gpujit.long)), f32),
    ("bce", lambda x, h: F.binary_cross_entropy(h.sigmoid(), h.sigmoid()), f32),
    ("bce_logits", lambda x, h: F.binary_cross_entropy_with_logits(h, h), f32),
    ("cat", lambda x, h: gpujit.cat([h, x]), f32),
    ("cat_half", lambda x, h: gpujit.cat([h, h]), f16),
    ("stack", lambda x, h: gpujit.stack([h, x]), f32),
    ("addcmul", lambda x, h: gpujit.addcmul(h, x, h), f32),
    ("relu", lambda x, h: gpujit.relu(x), f32),
    ("add", lambda x, h: h + x, f32),
]


@pytest.mark.parametrize("name,fn,expected", _CPU_CASES, ids=[c[0] for c in _CPU_CASES])
def test_cpu_autocast_result_dtypes_as_pytorch(name, fn, expected):
    x = _x(4, 4)
    h = x.half()
    with gpujit.autocast("cpu", dtype=f16):
        assert fn(x, h).dtype is expected
    # outside the region nothing is cast
    assert gpujit.mm(x, x).dtype is f32


def test_lower_precision_op_computes_on_cast_inputs():
    a, b = _x(5, 3, seed=1), _x(3, 4, seed=2)
    with gpujit.autocast("cpu", dtype=f16):
        r = gpujit.mm(a, b)
        lin = F.linear(a, b.t(), _x(4, seed=3))
    np.testing.assert_array_equal(r.numpy(), gpujit.mm(a.half(), b.half()).numpy())
    np.testing.assert_array_equal(
        lin.numpy(), F.linear(a.half(), b.t().half(), _x(4, seed=3).half()).numpy())
    ref = (a.numpy().astype(np.float16).astype(np.float32)
           @ b.numpy().astype(np.float16).astype(np.float32))
    np.testing.assert_allclose(r.numpy().astype(np.float32), ref, rtol=2e-3, atol=2e-3)


def test_the_hook_is_installed_only_inside_an_enabled_region():
    assert _reg.dispatch_state.autocast is None
    with gpujit.autocast("cpu", dtype=f16):
        assert _reg.dispatch_state.autocast is not None
        with gpujit.autocast("cpu", enabled=False, dtype=f16):
            assert _reg.dispatch_state.autocast is None
            assert not gpujit.is_autocast_enabled("cpu")
            assert gpujit.mm(_x(2, 2), _x(2, 2)).dtype is f32
        assert gpujit.is_autocast_enabled("cpu")
        assert gpujit.mm(_x(2, 2), _x(2, 2)).dtype is f16
    assert _reg.dispatch_state.autocast is None
    assert not gpujit.is_autocast_enabled("cpu")


def test_state_is_restored_after_an_exception_and_the_decorator_form():
    with pytest.raises(ValueError):
        with gpujit.autocast("cpu", dtype=f16):
            raise ValueError
    assert not gpujit.is_autocast_enabled("cpu")
    assert _reg.dispatch_state.autocast is None

    @gpujit.autocast("cpu", dtype=f16)
    def f(a):
        assert gpujit.is_autocast_enabled("cpu")
        return a @ a
    assert f(_x(3, 3)).dtype is f16
    assert not gpujit.is_autocast_enabled("cpu")
    with pytest.raises(TypeError, match="requires a callable"):
        gpujit.autocast("cpu", dtype=f16)(3)


def test_amp_and_cpu_amp_spellings():
    with gpujit.amp.autocast("cpu", dtype=f16):
        assert gpujit.is_autocast_enabled("cpu") and gpujit.get_autocast_dtype("cpu") is f16
        assert gpujit.is_autocast_cpu_enabled()
    with pytest.warns(FutureWarning, match="torch.cpu.amp.autocast"):
        ctx = gpujit.cpu.amp.autocast(dtype=f16)
    with ctx:
        assert gpujit.mm(_x(2, 2), _x(2, 2)).dtype is f16
    from gpujit.cuda.amp import GradScaler, autocast
    assert issubclass(GradScaler, gpujit.amp.GradScaler)
    assert issubclass(autocast, gpujit.autocast)


def test_cpu_without_dtype_names_bfloat16_and_other_dtypes_disable():
    # (session 45: CPU autocast's default is bfloat16, as PyTorch's)
    assert gpujit.get_autocast_dtype("cpu") is gpujit.bfloat16
    with gpujit.autocast("cpu"):
        assert gpujit.mm(_x(2, 2), _x(2, 2)).dtype is gpujit.bfloat16
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not "
                                         "supported. Disabling autocast."):
        ctx = gpujit.autocast("cpu", dtype=f32)
    with ctx:
        assert not gpujit.is_autocast_enabled("cpu")


def test_device_type_errors():
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'xpu'"):
        gpujit.autocast("xpu")
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        gpujit.autocast("foo")
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        gpujit.autocast(gpujit.device("cpu"))


def test_cuda_autocast_without_cuda_warns_and_is_disabled():
    if gpujit.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.warns(UserWarning, match="CUDA is not available or torch_xla is imported. "
                                         "Disabling autocast."):
        ctx = gpujit.autocast("cuda")
    with ctx:
        assert not gpujit.is_autocast_enabled("cuda")
        assert not gpujit.is_autocast_enabled()
    with pytest.warns(FutureWarning, match="torch.cuda.amp.autocast"):
        with pytest.warns(UserWarning, match="Disabling autocast"):
            gpujit.cuda.amp.autocast()


def test_gradients_flow_back_in_the_parameters_dtype():
    lin = gpujit.nn.Linear(4, 3)
    x = _x(2, 4)
    with gpujit.autocast("cpu", dtype=f16):
        y = lin(x)
        loss = F.mse_loss(y, gpujit.zeros(2, 3))
    assert y.dtype is f16 and loss.dtype is f32
    loss.backward()
    assert lin.weight.grad.dtype is f32 and lin.bias.grad.dtype is f32
    # the same computation written with explicit casts
    w = lin.weight.detach().clone().requires_grad_()
    b = lin.bias.detach().clone().requires_grad_()
    y2 = F.linear(x.half(), w.half(), b.half())
    F.mse_loss(y2.float(), gpujit.zeros(2, 3)).backward()
    np.testing.assert_array_equal(lin.weight.grad.numpy(), w.grad.numpy())
    np.testing.assert_array_equal(lin.bias.grad.numpy(), b.grad.numpy())


def test_weight_cast_cache_within_a_region():
    from gpujit.amp import autocast_mode as am
    w = gpujit.nn.Parameter(_x(3, 3))
    x = _x(3, 3, seed=4)
    with gpujit.autocast("cpu", dtype=f16):
        gpujit.mm(x, w)
        assert len(am._state.cache) == 1
        cast = am._state.cache[id(w)][1]
        gpujit.mm(x, w)
        assert am._state.cache[id(w)][1] is cast
        with gpujit.autocast("cpu", dtype=f16):
            pass
        assert len(am._state.cache) == 1               # only the outermost exit clears it
    assert len(am._state.cache) == 0
    with gpujit.autocast("cpu", dtype=f16, cache_enabled=False):
        gpujit.mm(x, w)
        assert len(am._state.cache) == 0


def test_a_trace_records_the_casts_and_replays_them():
    def f(x, w):
        with gpujit.autocast("cpu", dtype=f16):
            return gpujit.softmax(gpujit.mm(x, w), 1).sum()
    x, w = _x(2, 4), _x(4, 4, seed=1)
    tr = gpujit.jit.trace(f, (x, w))
    kinds = [n.kind for n in tr.graph.nodes]
    assert kinds.count("aten::to") == 2 and "aten::mm" in kinds
    x2, w2 = _x(2, 4, seed=5), _x(4, 4, seed=6)
    r = tr(x2, w2)                            # outside any region: the trace casts
    assert r.dtype is f16
    np.testing.assert_array_equal(r.numpy(), f(x2, w2).numpy())


def test_compiled_code_follows_an_eager_region():
    @gpujit.jit.script
    def f(x, w):
        return gpujit.softmax(gpujit.mm(x, w), 1) + 1

    x, w = _x(3, 4), _x(4, 2, seed=1).requires_grad_()
    assert f(x, w).dtype is f32 and f(x, w).dtype is f32
    with gpujit.autocast("cpu", dtype=f16):
        y = f(x, w)
        ye = gpujit.softmax(gpujit.mm(x, w), 1) + 1
    assert y.dtype is f16
    np.testing.assert_array_equal(y.detach().numpy(), ye.detach().numpy())
    y.float().sum().backward()
    assert w.grad.dtype is f32
    assert f(x, w).dtype is f32


def test_scripted_autocast_region_casts_like_eager():
    # (tests/test_jit_autocast_port.py has the rest)
    def h(x):
        with gpujit.autocast("cpu", dtype=gpujit.float16):
            return gpujit.mm(x, x)
    x = gpujit.ones(2, 2)
    assert gpujit.jit.script(h)(x).dtype is gpujit.float16


# ------------------------------------------------------------------------ GradScaler

def _model_and_data(seed=0, device="cpu"):
    gpujit.manual_seed(seed)
    m = gpujit.nn.Linear(3, 2).to(device)
    x = _x(4, 3, seed=seed + 1, device=device)
    t = _x(4, 2, seed=seed + 2, device=device)
    return m, x, t


def test_gradscaler_step_update_and_growth():
    m, x, t = _model_and_data()
    opt = gpujit.optim.SGD(m.parameters(), lr=0.1)
    s = gpujit.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2)
    assert s.is_enabled() and s.get_scale() == 4.0
    w0 = m.weight.detach().clone()
    loss = F.mse_loss(m(x), t)
    scaled = s.scale(loss)
    np.testing.assert_allclose(scaled.item(), 4.0 * loss.item(), rtol=1e-6)
    scaled.backward()
    s.unscale_(opt)
    g = m.weight.grad.clone()
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        s.step(opt)
    s.update()
    np.testing.assert_allclose(m.weight.detach().numpy(), (w0 - 0.1 * g).numpy(), rtol=1e-6)
    assert s.get_scale() == 4.0 and s.state_dict()["_growth_tracker"] == 1
    opt.zero_grad()
    s.scale(F.mse_loss(m(x), t)).backward()
    s.step(opt)
    s.update()
    assert s.get_scale() == 8.0 and s.state_dict()["_growth_tracker"] == 0


def test_gradscaler_skips_the_step_on_inf_and_backs_off():
    m, x, t = _model_and_data()
    opt = gpujit.optim.SGD(m.parameters(), lr=0.1)
    s = gpujit.amp.GradScaler("cpu", init_scale=8.0)
    w0 = m.weight.detach().clone()
    s.scale(F.mse_loss(m(x), t)).backward()
    with gpujit.no_grad():
        m.weight.grad[0, 0] = float("inf")
    assert s.step(opt) is None
    s.update()
    np.testing.assert_array_equal(m.weight.detach().numpy(), w0.numpy())
    assert s.get_scale() == 4.0
    s.update(2.0)
    assert s.get_scale() == 2.0


def test_gradscaler_state_dict_pickle_and_disabled():
    s = gpujit.amp.GradScaler("cpu", init_scale=16.0, growth_factor=3.0)
    sd = s.state_dict()
    assert sd == {"scale": 16.0, "growth_factor": 3.0, "backoff_factor": 0.5,
                  "growth_interval": 2000, "_growth_tracker": 0}
    s2 = gpujit.amp.GradScaler("cpu")
    s2.load_state_dict(sd)
    assert s2.get_scale() == 16.0 and s2.get_growth_factor() == 3.0
    s3 = pickle.loads(pickle.dumps(s2))
    assert s3.state_dict() == sd
    off = gpujit.amp.GradScaler("cpu", enabled=False)
    assert off.state_dict() == {} and off.get_scale() == 1.0
    with pytest.raises(RuntimeError, match="The source state dict is empty"):
        s2.load_state_dict({})
    loss = gpujit.ones(())
    assert off.scale(loss) is loss
    with pytest.raises(AssertionError, match="growth factor must be > 1.0"):
        gpujit.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(AssertionError, match="_scale is None"):
        gpujit.amp.GradScaler("cpu").update()


def test_gradscaler_cuda_without_cuda_warns_and_passes_through():
    if gpujit.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.warns(UserWarning, match="torch.cuda.amp.GradScaler is enabled, but CUDA "
                                         "is not available.  Disabling."):
        s = gpujit.amp.GradScaler()
    assert not s.is_enabled()
    with pytest.warns(FutureWarning, match="torch.cuda.amp.GradScaler"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            gpujit.cuda.amp.GradScaler()
    m, x, t = _model_and_data()
    opt = gpujit.optim.SGD(m.parameters(), lr=0.1)
    s.scale(F.mse_loss(m(x), t)).backward()
    w0 = m.weight.detach().clone()
    s.step(opt)
    s.update()
    assert not np.array_equal(m.weight.detach().numpy(), w0.numpy())


def test_training_loop_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 5)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    xs = [rng.standard_normal((8, 5)).astype(np.float32) for _ in range(4)]
    ts = [rng.integers(0, 3, 8) for _ in range(4)]

    def run(lib, fn, aut):
        m = lib.nn.Linear(5, 3)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(w))
            m.bias.copy_(lib.tensor(b))
        opt = lib.optim.SGD(m.parameters(), lr=0.5)
        s = lib.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
        losses = []
        for x, t in zip(xs, ts):
            opt.zero_grad()
            with aut("cpu", dtype=lib.float16):
                out = m(lib.tensor(x))
                loss = fn.cross_entropy(out, lib.tensor(t))
            losses.append((out.dtype, loss.dtype, loss.item()))
            s.scale(loss).backward()
            s.step(opt)
            s.update()
        return losses, m.weight.detach().numpy(), s.get_scale()

    g = run(gpujit, F, gpujit.autocast)
    r = run(torch, torch.nn.functional, torch.autocast)
    assert [str(a[0]).split(".")[1] for a in g[0]] == [str(a[0]).split(".")[1] for a in r[0]]
    assert [str(a[1]).split(".")[1] for a in g[0]] == [str(a[1]).split(".")[1] for a in r[0]]
    np.testing.assert_allclose([a[2] for a in g[0]], [a[2] for a in r[0]], rtol=5e-3)
    np.testing.assert_allclose(g[1], r[1], rtol=5e-3, atol=5e-3)
    assert g[2] == r[2]


def test_cpu_autocast_values_against_pytorch():
    torch = pytest.importorskip("torch")
    a, b = _x(6, 5, seed=1), _x(5, 4, seed=2)
    with gpujit.autocast("cpu", dtype=f16):
        g = F.log_softmax(gpujit.mm(a, b), 1)
    with torch.autocast("cpu", dtype=torch.float16):
        r = torch.log_softmax(torch.mm(torch.tensor(a.numpy()), torch.tensor(b.numpy())), 1)
    assert str(r.dtype) == "torch.float16" and g.dtype is f16
    np.testing.assert_allclose(g.numpy().astype(np.float32), r.float().numpy(), rtol=2e-3,
                               atol=2e-3)


# ------------------------------------------------------------------------ CUDA lists

@pytest.mark.cuda
def test_cuda_autocast_lists():
    x = _x(4, 4, device="cuda")
    h = x.half()
    xc = _x(4, 4)
    with gpujit.autocast("cuda"):
        assert gpujit.is_autocast_enabled("cuda") and gpujit.is_autocast_enabled()
        assert gpujit.mm(x, x).dtype is f16
        assert (x @ x).device.type == "cuda"
        assert gpujit.softmax(h, 0).dtype is f32          # CUDA's fp32 list (not CPU's)
        assert gpujit.softmax(h, 0, dtype=f16).dtype is f16
        assert h.sum().dtype is f32 and h.exp().dtype is f32
        assert F.layer_norm(h, (4,)).dtype is f32
        assert gpujit.addcmul(h, x, h).dtype is f32
        assert gpujit.mm(xc, xc).dtype is f32               # cpu tensors: not this region
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            F.binary_cross_entropy(h.sigmoid(), h.sigmoid())
        with gpujit.autocast("cuda", enabled=False):
            assert gpujit.mm(x, x).dtype is f32
    assert gpujit.mm(x, x).dtype is f32


@pytest.mark.cuda
def test_cuda_training_with_gradscaler():
    m, x, t = _model_and_data(device="cuda")
    opt = gpujit.optim.SGD(m.parameters(), lr=0.1)
    s = gpujit.amp.GradScaler()
    assert s.is_enabled()
    for _ in range(3):
        opt.zero_grad()
        with gpujit.autocast(device_type="cuda", dtype=gpujit.float16):
            out = m(x)
            loss = F.mse_loss(out, t)
        assert out.dtype is f16 and loss.dtype is f32
        s.scale(loss).backward()
        assert m.weight.grad.dtype is f32 and m.weight.grad.device.type == "cuda"
        s.step(opt)
        s.update()
    assert s.get_scale() == 2.0 ** 16


def test_custom_fwd_casts_inputs_and_custom_bwd_follows_forward():
    seen = {}

    class MyMM(gpujit.autograd.Function):
        @staticmethod
        @gpujit.amp.custom_fwd(device_type="cpu", cast_inputs=gpujit.float32)
        def forward(ctx, a, b):
            seen["fwd"] = (a.dtype, b.dtype, gpujit.is_autocast_enabled("cpu"))
            ctx.save_for_backward(a, b)
            return a.mm(b)

        @staticmethod
        @gpujit.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            seen["bwd"] = gpujit.is_autocast_enabled("cpu")
            a, b = ctx.saved_tensors
            return g.mm(b.t()), a.t().mm(g)

    a = _x(2, 3).half().requires_grad_()
    b = _x(3, 2, seed=1).requires_grad_()
    with gpujit.autocast("cpu", dtype=f16):
        out = MyMM.apply(a, b)
    assert seen["fwd"] == (f32, f32, False) and out.dtype is f32
    out.sum().backward()
    assert seen["bwd"] is False
    assert a.grad.dtype is f16 and b.grad.dtype is f32
    with gpujit.autocast("cpu", enabled=False):      # no dtype needed when disabled
        assert not gpujit.is_autocast_enabled("cpu")


def test_tracing_a_module_needs_cache_enabled_false_as_in_pytorch():
    m = gpujit.nn.Linear(4, 2)
    x = _x(3, 4)
    # as PyTorch: the cached weight cast of the checking run is no value of that trace
    with pytest.raises(RuntimeError, match="Cannot insert a Tensor that requires grad"):
        with gpujit.autocast("cpu", dtype=f16):
            gpujit.jit.trace(m, (x,))
    with gpujit.autocast("cpu", dtype=f16, cache_enabled=False):
        tr = gpujit.jit.trace(m, (x,))
    assert [n.kind for n in tr.graph.nodes].count("aten::to") == 3
    r = tr(x)
    assert r.dtype is f16
    np.testing.assert_array_equal(
        r.detach().numpy(), F.linear(x.half(), m.weight.half(), m.bias.half()).detach().numpy())


def test_scripted_module_under_eager_autocast():
    m = gpujit.nn.Sequential(gpujit.nn.Linear(4, 8), gpujit.nn.ReLU(), gpujit.nn.Linear(8, 2))
    sm = gpujit.jit.script(m)
    x = _x(3, 4)
    assert sm(x).dtype is f32
    with gpujit.autocast("cpu", dtype=f16):
        a, b = sm(x), m(x)
    assert a.dtype is f16
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    a.float().sum().backward()
    assert m[0].weight.grad.dtype is f32


def test_gradient_accumulation_inside_one_region_reuses_the_cached_cast():
    w = gpujit.nn.Parameter(_x(4, 4))
    with gpujit.autocast("cpu", dtype=f16):
        for seed in (1, 2):
            gpujit.mm(_x(3, 4, seed=seed), w).sum().backward()
    assert w.grad.dtype is f32
    expected = (_x(3, 4, seed=1).half().float().sum(0) + _x(3, 4, seed=2).half().float().sum(0))
    np.testing.assert_allclose(w.grad.numpy(), np.repeat(expected.numpy()[:, None], 4, 1),
                               rtol=1e-3, atol=1e-3)
    # a cast saves no tensor: its node runs again (PyTorch's ToCopyBackward0); exp's does not
    x = _x(3).requires_grad_()
    z = x.half()
    z.sum().backward()
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 2.0, np.float32))
    y = x.exp()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
