"""Eager numerics that program fuzzing (seeds 2130, 2131) found apart from PyTorch's:
float32 tanh saturates to exactly +-1 where the correctly rounded tanh does (NumPy's
gave 0.99999994 up to |x| ~ 9.7, so `tanh(x).to(int)` was 0 where PyTorch's is 1), and
relu's backward selects (threshold_backward) instead of multiplying by the mask, so an
inf gradient where relu is 0 gives 0, not nan."""
import numpy as np
import pytest

import gpujit as torch


def test_float32_tanh_saturates_as_correctly_rounded():
    x = np.linspace(-12, 12, 40001).astype(np.float32)
    got = torch.tanh(torch.from_numpy(x)).numpy()
    want = np.tanh(x.astype(np.float64)).astype(np.float32)
    assert np.array_equal(got == 1, want == 1) and np.array_equal(got == -1, want == -1)
    np.testing.assert_allclose(got, want, rtol=2e-7, atol=0)
    assert torch.tanh(torch.tensor([9.5, -9.5, 9.0])).tolist()[:2] == [1.0, -1.0]
    assert (torch.tanh(torch.full((4099, 3), 9.5)).to(torch.int32) == 1).all()


def test_relu_backward_selects():
    x = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    torch.relu(x).reciprocal().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, -0.25]
    x = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    g, = torch.autograd.grad(torch.relu(x).pow(2).sum(), x, create_graph=True)
    g.sum().backward()
    assert g.tolist() == [0.0, 0.0, 4.0] and x.grad.tolist() == [0.0, 0.0, 2.0]


def _relu_recip(x):
    return torch.relu(x).reciprocal() * 0.25


def test_relu_backward_selects_in_a_fused_group():
    f = torch.jit.script(_relu_recip)
    for _ in range(3):
        x = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
        f(x).sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, -0.0625]


def test_matches_torch():
    real = pytest.importorskip("torch")
    x = np.linspace(8.5, 10, 3001).astype(np.float32)
    got = torch.tanh(torch.from_numpy(x)).numpy()
    want = real.tanh(real.from_numpy(x)).numpy()
    assert np.array_equal(got == 1, want == 1)


def test_float32_std_accumulates_in_double_on_the_cpu():
    """(P22: squares past float32's range gave inf; PyTorch's CPU kernel accumulates
    float32 in double.)"""
    a = torch.tensor([1e30, -1e30, 3e30])
    assert np.isfinite(a.std().item()) and abs(a.std().item() / 2e30 - 1) < 1e-6
    v, m = torch.var_mean(a)
    assert np.isinf(v.item()) and v.dtype == torch.float32 and abs(m.item() / 1e30 - 1) < 1e-6
    x = np.random.default_rng(0).standard_normal((50, 7)).astype(np.float32)
    np.testing.assert_allclose(torch.from_numpy(x).std(0).numpy(),
                               x.astype(np.float64).std(0, ddof=1), rtol=1e-6)


def test_float32_addcmul_rounds_once_as_an_fma():
    """PyTorch's CPU addcmul is fma(value * t1, t2, self): one rounding. Two roundings
    were an ulp off, which cancellation after it made visible (fuzz seeds 2129, 2133)."""
    rng = np.random.default_rng(0)
    s, t, u = ((rng.standard_normal(4096) * k).astype(np.float32) for k in (300, 30, 3))
    for value in (0.5, 1, -1.3):
        got = torch.addcmul(torch.from_numpy(s), torch.from_numpy(t), torch.from_numpy(u),
                            value=value).numpy()
        p = np.float32(value) * t
        want = (s.astype(np.float64) + p.astype(np.float64) * u).astype(np.float32)
        assert np.array_equal(got, want)
    a = torch.from_numpy(s.copy())
    a.addcmul_(torch.from_numpy(t), torch.from_numpy(u), value=0.5)
    assert a.dtype == torch.float32
    np.testing.assert_array_equal(a.numpy(), torch.addcmul(torch.from_numpy(s), torch.from_numpy(t),
                                                           torch.from_numpy(u), value=0.5).numpy())
