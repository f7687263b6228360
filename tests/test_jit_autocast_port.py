"""Autocast regions in scripted code, ported as behaviour from PyTorch's
test/test_jit_autocast.py (its tests are CUDA ones: here they run on CPU float16
autocast, with the CPU op lists; a few run CUDA's lists on the GPU tier, @pytest.mark.cuda).
Values are compared with the same function run eagerly under eager autocast (dtypes
exactly, values within float16 tolerance) or with NumPy.

gpujit has no bfloat16 (NumPy has none): CPU autocast regions name dtype=float16 where
PyTorch's default would be bfloat16.

Skipped from test_jit_autocast.py (skipped in PyTorch too): test_control_flow ("broken"),
test_reused_autocast_expr ("unsupported autocast syntax"), test_script_and_tracing
("broken"), test_script_and_tracing_with_autocast, test_tracing_with_autocast_and_script,
test_autocast_decorator (decorators are refused in script mode, tested below),
test_autocast_decorator_outside_jit. test/jit/test_models.py has no autocast tests.
"""
import io
import warnings
from typing import Optional

import numpy as np
import pytest

import gpujit as torch

f16, f32, f64 = torch.float16, torch.float32, torch.float64


def _rand(*shape, dtype=f32, seed=0):
    g = np.random.default_rng(seed + sum(shape))
    return torch.tensor(g.random(shape).astype(np.float32)).to(dtype)


@pytest.fixture
def t():
    class In:
        pass
    i = In()
    i.a, i.b, i.c, i.d = (_rand(2, 2, seed=k) for k in range(4))
    return i


def _close16(x, ref):
    np.testing.assert_allclose(x.float().numpy(), np.asarray(ref, dtype=np.float32),
                               rtol=2e-3, atol=2e-3)


def cpu_autocast(enabled=True):
    return torch.autocast("cpu", dtype=torch.float16, enabled=enabled)


def test_minimal(t):
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16):
            return torch.mm(a, b)
    for _ in range(3):                  # profiling runs, then the optimized code
        r = fn(t.a, t.b)
        assert r.dtype is f16
        _close16(r, t.a.numpy() @ t.b.numpy())


def test_cuda_region_leaves_cpu_tensors(t):
    # PyTorch's test_minimal_cpu: a 'cuda' region (torch.cuda.amp.autocast) casts CUDA
    # tensors only; CPU tensors stay float32 (torch 2.13's TorchScript agrees)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @torch.jit.script
        def fn(a, b):
            with torch.cuda.amp.autocast():
                return torch.mm(a, b)
    for _ in range(3):
        assert fn(t.a, t.b).dtype is f32


def test_minimal_off(t):
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16, enabled=False):
            return torch.mm(a, b)
    assert fn(t.a, t.b).dtype is f32


def test_runtime_autocast_state_is_refused(t):
    with pytest.raises(RuntimeError, match="enabled argument must be a constant"):
        @torch.jit.script
        def fn(a, b, use_amp: bool):
            with torch.autocast("cpu", dtype=torch.float16, enabled=use_amp):
                return torch.mm(a, b)


def test_runtime_autocast_state_expr_is_refused(t):
    with pytest.raises(RuntimeError, match="must be a constant"):
        @torch.jit.script
        def fn(a, b):
            with torch.autocast("cpu", dtype=torch.float16,
                                enabled=True if a[0][0] > 0.5 else False):
                return torch.mm(a, b)


def test_explicit_casts(t):
    @torch.jit.script
    def fn(a, b, c, d):
        with torch.autocast("cpu", dtype=torch.float16):
            e = torch.mm(a.double(), b.double()).float()
            f = torch.mm(c, d).double()
        g = torch.mm(c.double(), f)
        return e, f, g
    e, f, g = fn(t.a, t.b, t.c, t.d)
    assert (e.dtype, f.dtype, g.dtype) == (f32, f64, f64)
    np.testing.assert_allclose(e.numpy(), t.a.numpy() @ t.b.numpy(), rtol=1e-6)


def test_duplicate_inputs(t):
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16):
            e = torch.mm(a, a)
            f = torch.mm(e, e)
        return e, f
    e, f = fn(t.a, t.b)
    assert (e.dtype, f.dtype) == (f16, f16)
    # one cast per distinct input of each op
    assert str(fn.graph_for(t.a, t.b)).count("_autocast_to_reduced_precision") == 2


def test_fp32_policy_cpu(t):
    # CPU autocast runs prod / cdist / mse_loss in float32 (CUDA's log, test_fp32_policy,
    # is below on the GPU tier)
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16):
            return torch.prod(a), torch.cdist(a, b), torch.nn.functional.mse_loss(a, b)
    h = t.a.half(), t.b.half()
    for r in fn(*h):
        assert r.dtype is f32
    with cpu_autocast():
        ref = (torch.prod(h[0]), torch.cdist(*h), torch.nn.functional.mse_loss(*h))
    for r, e in zip(fn(*h), ref):
        assert r.dtype is e.dtype
        np.testing.assert_allclose(r.numpy(), e.numpy(), rtol=1e-6)


def test_fp32_policy_with_fp64(t):
    @torch.jit.script
    def fn(a):
        with torch.autocast("cpu", dtype=torch.float16):
            return torch.prod(a)
    assert fn(t.a.double()).dtype is f64            # float64 is not narrowed


def test_promote_policy(t):
    @torch.jit.script
    def fn(a, b, c, d, idx):
        with torch.autocast("cpu", dtype=torch.float16):
            e = torch.mm(a, b)
            f = torch.index_copy(e, 0, idx, c)
            g = torch.stack([e, c])
        return e, f, g
    idx = torch.tensor([1, 0])
    e, f, g = fn(t.a, t.b, t.c, t.d, idx)
    assert (e.dtype, f.dtype, g.dtype) == (f16, f32, f32)
    with cpu_autocast():
        ee = torch.mm(t.a, t.b)
        ref = (ee, torch.index_copy(ee, 0, idx, t.c), torch.stack([ee, t.c]))
    for r, x in zip((e, f, g), ref):
        assert r.dtype is x.dtype
        _close16(r, x.float().numpy())


def test_promote_policy_fp64(t):
    @torch.jit.script
    def fn(a, b, idx):
        with torch.autocast("cpu", dtype=torch.float16):
            return torch.index_copy(a, 0, idx, b)
    assert fn(t.a.double(), t.b.double(), torch.tensor([0, 1])).dtype is f64


def test_divergent_types(t):
    @torch.jit.script
    def fn(a, b, c, d):
        with torch.autocast("cpu", dtype=torch.float16):
            if bool(a[0][0] > 0.5):
                e = torch.mm(a, b)
                f = torch.mm(a, b).float()
            else:
                e = torch.mm(c, d).float()
                f = torch.mm(a, b)
        return torch.mm(e.float(), f.float())
    for a in (t.a, 1 - t.a):
        assert fn(a, t.b, t.c, t.d).dtype is f32


def test_divergent_autocast(t):
    @torch.jit.script
    def fn(a, b, c, d):
        autocast_on = torch.autocast("cpu", dtype=torch.float16, enabled=True)
        autocast_off = torch.autocast("cpu", dtype=torch.float16, enabled=False)
        if bool(a[0][0] > 0.5):
            with autocast_on:
                e = torch.mm(a, b)
        else:
            with autocast_off:
                e = torch.mm(c, d)
        return torch.mm(e, e)
    assert fn(t.a + 1, t.b, t.c, t.d).dtype is f16      # the branch in the region
    assert fn(t.a - 1, t.b, t.c, t.d).dtype is f32


def test_conditional_autocast_is_refused(t):
    with pytest.raises(RuntimeError, match="at run time"):
        @torch.jit.script
        def fn(a, b):
            autocast_on = torch.autocast("cpu", dtype=torch.float16, enabled=True)
            autocast_off = torch.autocast("cpu", dtype=torch.float16, enabled=False)
            with autocast_on if bool(a[0][0] > 0.5) else autocast_off:
                return torch.mm(a, b)


def test_nested_autocast(t):
    @torch.jit.script
    def fn(a, b, c, d):
        with torch.autocast("cpu", dtype=torch.float16, enabled=False):
            e = torch.mm(a, b)
            with torch.autocast("cpu", dtype=torch.float16, enabled=True):
                f = torch.mm(e, c)
                with torch.autocast("cpu", dtype=torch.float16, enabled=False):
                    g = torch.mm(e, d)
        return e, f, g
    for _ in range(3):
        e, f, g = fn(t.a, t.b, t.c, t.d)
        assert (e.dtype, f.dtype, g.dtype) == (f32, f16, f32)


def test_implicitly_nested_autocast(t):
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16, enabled=False), \
                torch.autocast("cpu", dtype=torch.float16, enabled=True):
            return torch.mm(a, b)
    assert fn(t.a, t.b).dtype is f16


def test_reused_autocast(t):
    @torch.jit.script
    def fn(a, b, c, d):
        autocast_instance = torch.autocast("cpu", dtype=torch.float16, enabled=True)
        with autocast_instance:
            e = torch.mm(a, b)
            with autocast_instance:
                e = torch.mm(c, d)
                f = torch.mm(d, e)
        g = torch.mm(e, f)
        return e, f, g
    e, f, g = fn(t.a, t.b, t.c, t.d)
    assert (e.dtype, f.dtype, g.dtype) == (f16, f16, f16)


def _helper(a, b):
    return torch.mm(a, b)


def _helper_on(a, b):
    with torch.autocast("cpu", dtype=torch.float16, enabled=True):
        return torch.mm(a, b)


def _helper_off(a, b):
    with torch.autocast("cpu", dtype=torch.float16, enabled=False):
        return torch.mm(a, b)


def test_callees(t):
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16, enabled=True):
            tmp = _helper(a, b)
            tmp = _helper(tmp, tmp)
            return _helper(tmp, b)
    r = fn(t.a, t.b)
    assert r.dtype is f16
    x = t.a.numpy() @ t.b.numpy()
    np.testing.assert_allclose(r.float().numpy(), (x @ x) @ t.b.numpy(), rtol=1e-2)


def test_callees_with_autocast_on(t):
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16, enabled=False):
            return _helper_on(a, b)
    assert fn(t.a, t.b).dtype is f16


def test_callees_with_autocast_off(t):
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16, enabled=True):
            return _helper_off(a, b)
    assert fn(t.a, t.b).dtype is f32


def test_eager_and_script(t):
    @torch.jit.script
    def fn(a, b):
        return torch.mm(a, b)
    for i in range(8):
        use = i % 2 == 0
        with cpu_autocast(enabled=use):
            assert fn(t.a, t.b).dtype is (f16 if use else f32)


def test_script_region_off_inside_eager_region(t):
    # an enabled=False region of a scripted function called inside an eager region turns
    # autocast off for its ops, as the same code run eagerly does (torch 2.13's
    # TorchScript keeps casting there: the eager dispatcher still sees the ops)
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16, enabled=False):
            e = torch.mm(a, b)
        return e, torch.mm(a, b)
    with cpu_autocast():
        e, f = fn(t.a, t.b)
        assert torch.is_autocast_enabled("cpu")
    assert (e.dtype, f.dtype) == (f32, f16)
    assert not torch.is_autocast_enabled("cpu")


def test_tracing_and_script(t):
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16):
            return torch.mm(a, b)

    def traced(a, b):
        return fn(a, b)
    tr = torch.jit.trace(traced, (t.a, t.b))
    assert tr(t.a, t.b).dtype is f16


def test_script_module(t):
    class TestModule(torch.nn.Module):
        def __init__(self, N, M):
            super().__init__()
            self.weight = torch.nn.Parameter(_rand(N, M))
            self.linear = torch.nn.Linear(N, M).float()

        def forward(self, input):
            with torch.autocast("cpu", dtype=torch.float16, enabled=True):
                output = self.weight.mv(input)
                output = self.linear(output)
                return output
    torch.manual_seed(0)
    m = TestModule(2, 3)
    sm = torch.jit.script(m)
    x = _rand(3)
    # mv is not on CPU's lists: float32; linear is: float16
    r = sm(x)
    assert r.dtype is f16
    with cpu_autocast():
        ref = m.linear(m.weight.mv(x))
    assert ref.dtype is f16
    _close16(r.detach(), ref.detach().float().numpy())


def test_autocast_decorator_is_refused(t):
    with pytest.raises(RuntimeError, match="decorator is not supported in script mode"):
        @torch.jit.script
        @torch.autocast("cpu", dtype=torch.float16)
        def fn(a, b):
            return torch.mm(a, b)


def test_inplace(t):
    @torch.jit.script
    def fn(a, b, c):
        with torch.autocast("cpu", dtype=torch.float16, enabled=True):
            x = torch.addmm(a, b, c)
            y = torch.addmm(a, b, c, out=a)
            return x, y
    # (PyTorch's test also calls a.addmm_(b, c): gpujit has no addmm_)
    x, y = fn(t.a.clone(), t.b, t.c)
    assert (x.dtype, y.dtype) == (f16, f32)


# ------------------------------------------------------------- beyond PyTorch's file

def test_casts_are_graph_nodes_and_save_load(t):
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16):
            e = torch.mm(a, b)
        return e * 2 + 1
    for _ in range(3):
        r = fn(t.a, t.b)
    _close16(r, (t.a.numpy() @ t.b.numpy()) * 2 + 1)
    g = str(fn.graph_for(t.a, t.b))
    assert g.count("aten::_autocast_to_reduced_precision") == 2
    assert "prim::TensorExprGroup_" in g          # the float16 pointwise tail fuses
    # (torch 2.13's code: the autocast object, __init__ with the arguments as written)
    assert '_1 = (_0).__init__("cpu", 5, True, None, )\n  with _0:' in fn.code, fn.code
    buf = io.BytesIO()
    torch.jit.save(fn, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    r = loaded(t.a, t.b)
    assert r.dtype is f16
    _close16(r, (t.a.numpy() @ t.b.numpy()) * 2 + 1)
    assert str(loaded.graph_for(t.a, t.b)).count("_autocast_to_reduced_precision") == 2


def test_cast_ops_eager(t):
    a = t.a
    assert torch._autocast_to_reduced_precision(a, False, True, f16, f16).dtype is f16
    assert torch._autocast_to_reduced_precision(a, True, False, f16, f16).dtype is f32
    assert a.double()._autocast_to_reduced_precision(False, True, f16, f16).dtype is f64
    assert torch._autocast_to_full_precision(a.half(), False, True).dtype is f32
    assert torch._autocast_to_full_precision(a.half(), True, False).dtype is f16


def test_gradients_through_region(t):
    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cpu", dtype=torch.float16):
            return torch.mm(a, b).sum()
    a = t.a.clone().requires_grad_()
    fn(a, t.b).backward()
    assert a.grad.dtype is f32
    np.testing.assert_allclose(a.grad.numpy(), np.ones((2, 2)) @ t.b.numpy().T, rtol=2e-3)


def test_linear_with_optional_bias_like_eager():
    torch.manual_seed(0)
    lin = torch.nn.Linear(4, 3)
    x = _rand(2, 4)

    @torch.jit.script
    def fn(x, w, bias: Optional[torch.Tensor]):
        with torch.autocast("cpu", dtype=torch.float16):
            y = torch.nn.functional.linear(x, w, bias)
            return torch.relu(y) + 1
    r = fn(x, lin.weight, lin.bias)
    with cpu_autocast():
        ref = torch.relu(torch.nn.functional.linear(x, lin.weight, lin.bias)) + 1
    assert r.dtype is ref.dtype is f16
    _close16(r.detach(), ref.detach().float().numpy())
    assert fn(x, lin.weight, None).dtype is f16


def test_bad_region_arguments():
    # (session 45: a CPU region's default dtype is bfloat16, as TorchScript's)
    @torch.jit.script
    def fn(a):
        with torch.autocast("cpu"):
            return torch.mm(a, a)
    for _ in range(3):
        assert fn(_rand(2, 2)).dtype is torch.bfloat16
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'xpu'"):
        @torch.jit.script
        def fn2(a):
            with torch.autocast("xpu"):
                return torch.mm(a, a)


# ------------------------------------------------------------- CUDA's lists (GPU tier)

@pytest.mark.cuda
def test_cuda_minimal_and_fp32_policy():
    a, b = _rand(2, 2).cuda(), _rand(2, 2, seed=1).cuda()

    @torch.jit.script
    def fn(a, b):
        with torch.autocast("cuda"):
            return torch.mm(a, b), torch.log(a.half()), torch.log(a.double())
    for _ in range(3):
        x, y, z = fn(a, b)
        assert (x.dtype, y.dtype, z.dtype) == (f16, f32, f64)


@pytest.mark.cuda
def test_cuda_fp32_set_opt_dtype_policy():
    a, b, c, d = (_rand(2, 2, seed=k).cuda().half() for k in range(4))

    @torch.jit.script
    def fn(a, b, c, d, dtype: Optional[int]):
        with torch.cuda.amp.autocast(enabled=True):
            x = torch.softmax(a, 0)
            y = torch.softmax(b, 0, None)
            z = torch.softmax(c, 0, torch.float64)
            w = torch.softmax(d, 0, dtype)
        return x, y, z, w
    x, y, z, w = fn(a, b, c, d, None)
    # TorchScript casts only where dtype is None as a constant (w stays float16)
    assert (x.dtype, y.dtype, z.dtype, w.dtype) == (f32, f32, f64, f16)


@pytest.mark.cuda
def test_cuda_promote_policy():
    a, b, c, d = (_rand(2, 2, seed=k).cuda() for k in range(4))

    @torch.jit.script
    def fn(a, b, c, d):
        with torch.autocast("cuda"):
            e = torch.mm(a, b)
            f = torch.addcmul(e, c, d, value=0.1)
        return e, f
    e, f = fn(a, b, c, d)
    assert (e.dtype, f.dtype) == (f16, f32)
