"""Session 53 (d53): eager per-op cost and derivative formulas with fewer passes — the
values stay those of PyTorch 2.13's CPU kernels (the references below are NumPy
transcriptions of them; the torch comparisons run where torch is installed)."""
import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional


def _cascade_ref(vals, dt):
    """PyTorch's CPU cascade sum of nll_loss (LossNLL.cpp), element by element: level 0
    adds each value; after index i, for each level j < 7 where i is a multiple of
    step ** (j + 1), level j is added to level j + 1 and zeroed; the levels added in
    order from 0."""
    n = len(vals)
    step = 1 << max(4, (n - 1).bit_length() // 8 if n > 1 else 0)
    z = dt.type(0)
    levels = [z] * 8
    for i, v in enumerate(vals):
        levels[0] = dt.type(levels[0] + v)
        m = step
        for j in range(7):
            if i % m:
                break
            levels[j + 1] = dt.type(levels[j + 1] + levels[j])
            levels[j] = z
            m *= step
    total = z
    for x in levels:
        total = dt.type(total + x)
    return total


@pytest.mark.parametrize("n", [1, 16, 17, 33, 256, 300])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_sum_order(n, dtype):
    rng = np.random.default_rng(n)
    a = (rng.standard_normal((n, 5)) * 4).astype(dtype)
    t = rng.integers(0, 5, n)
    dt = np.dtype(dtype)
    with torch.no_grad():
        lp = F.log_softmax(torch.tensor(a), 1).numpy()
    vals = [-lp[i, t[i]] for i in range(n)]
    ref = _cascade_ref(vals, dt)
    got = F.nll_loss(torch.tensor(lp), torch.tensor(t), reduction="sum").numpy()
    assert got.dtype == dt and got.tobytes() == np.asarray(ref, dt).tobytes()
    got = F.nll_loss(torch.tensor(lp), torch.tensor(t)).numpy()
    assert got.tobytes() == np.asarray(dt.type(ref / dt.type(n)), dt).tobytes()


def test_nll_loss_targets_checked_once():
    lp = torch.randn(4, 3).log_softmax(1)
    for bad in ([0, 1, 3, 2], [0, -1, 1, 2]):
        with pytest.raises(IndexError, match=f"Target {bad[2] if bad[2] == 3 else -1} is out"):
            F.nll_loss(lp, torch.tensor(bad))
    # an ignored target (the general path) and every class (the fast one) agree
    t = torch.tensor([0, 1, 2, 1])
    a = F.nll_loss(lp, t, ignore_index=-100)
    b = F.nll_loss(lp, t, ignore_index=7)
    assert a.item() == b.item()
    c = F.nll_loss(lp, torch.tensor([0, 1, 2, -100]))
    lpn = lp.numpy()
    assert np.isclose(c.item(), -(lpn[0, 0] + lpn[1, 1] + lpn[2, 2]) / 3, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_grad_values(reduction):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((20, 6)).astype(np.float32)
    t = rng.integers(0, 6, 20)
    x = torch.tensor(a, requires_grad=True)
    F.cross_entropy(x, torch.tensor(t), reduction=reduction).backward()
    e = np.exp(a - a.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    p[np.arange(20), t] -= 1
    ref = p / 20 if reduction == "mean" else p
    assert x.grad.dtype == torch.float32
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-5, atol=1e-7)
    # an ignored row gets a zero gradient, the others the mean over the rest
    x.grad = None
    tt = t.copy()
    tt[4] = 2
    F.cross_entropy(x, torch.tensor(tt), ignore_index=2, reduction=reduction).backward()
    assert (x.grad.numpy()[tt == 2] == 0).all()


def _tanh_backward_ref(g, y):
    # ATen's a * (1 - b * b) with FMA contraction: 1 - b * b rounded once (float32 through
    # the exact float64 product)
    return g * (1.0 - y.astype(np.float64) ** 2).astype(np.float32)


@pytest.mark.parametrize("shape", [(5, 7), (9,), ()])
def test_tanh_sigmoid_backward_bits(shape):
    rng = np.random.default_rng(len(shape))
    a = (rng.standard_normal(shape) * 2).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    x = torch.tensor(a, requires_grad=True)
    y = torch.tanh(x)
    y.backward(torch.tensor(g))
    assert x.grad.numpy().tobytes() == np.asarray(_tanh_backward_ref(g, y.detach().numpy()),
                                                  np.float32).tobytes()
    x.grad = None
    y = torch.sigmoid(x)
    y.backward(torch.tensor(g))
    yn = y.detach().numpy()
    ref = np.asarray(g * (np.float32(1) - yn) * yn, np.float32)
    assert x.grad.numpy().tobytes() == ref.tobytes()
    # the ops themselves, broadcasting a smaller output
    if shape:
        gb = np.ones((3,) + shape, np.float32)
        r = torch.ops.aten.sigmoid_backward(torch.tensor(gb), y.detach())
        assert r.shape == (3,) + shape and r.numpy().tobytes() == np.broadcast_to(
            np.asarray(gb * (np.float32(1) - yn) * yn, np.float32), (3,) + shape).tobytes()
        r = torch.ops.aten.tanh_backward(torch.tensor(gb), torch.tanh(x).detach())
        assert r.shape == (3,) + shape


def test_mse_loss_backward_values():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 6)).astype(np.float32)
    b = rng.standard_normal((4, 6)).astype(np.float32)
    for red, scale in (("mean", np.float32(24)), ("sum", None)):
        x = torch.tensor(a, requires_grad=True)
        t = torch.tensor(b, requires_grad=True)
        F.mse_loss(x, t, reduction=red).backward()
        ref = (a - b) * np.float32(2)
        if scale is not None:
            ref = ref * (np.float32(1) / scale)
        np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-6)
        np.testing.assert_allclose(t.grad.numpy(), -ref, rtol=1e-6)
        assert x.grad.numpy().tobytes() == (-t.grad).numpy().tobytes()


def test_against_torch_bits():
    ref = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    for n in (32, 100, 300):
        a = (rng.standard_normal((n, 10)) * 3).astype(np.float32)
        t = rng.integers(0, 10, n)
        xr = ref.tensor(a, requires_grad=True)
        lr = ref.nn.functional.cross_entropy(xr, ref.tensor(t))
        lr.backward()
        x = torch.tensor(a, requires_grad=True)
        lo = F.cross_entropy(x, torch.tensor(t))
        lo.backward()
        assert lo.item() == lr.item()
        assert lo.grad_fn.name() == lr.grad_fn.name()
        assert x.grad.numpy().tobytes() == xr.grad.numpy().tobytes()
    # the backward kernels of torch's own outputs (gpujit's float32 tanh forward is
    # NumPy's, which differs from ATen's in the last bit for some inputs)
    a = (rng.standard_normal((8, 16)) * 2).astype(np.float32)
    g = rng.standard_normal((8, 16)).astype(np.float32)
    for f in ("tanh", "sigmoid"):
        y = getattr(ref, f)(ref.tensor(a))
        want = getattr(ref.ops.aten, f + "_backward")(ref.tensor(g), y).numpy()
        got = getattr(torch.ops.aten, f + "_backward")(torch.tensor(g), torch.tensor(y.numpy()))
        assert got.numpy().tobytes() == want.tobytes(), f


def test_index_by_long_tensor():
    x = torch.arange(12.).reshape(4, 3)
    r = x[torch.tensor([2, -1, 0])]
    assert r.tolist() == [[6., 7., 8.], [9., 10., 11.], [0., 1., 2.]]
    assert r.stride() == (3, 1) and r.is_contiguous()
    r = x[torch.tensor([[1, 2], [3, -1]])]
    assert tuple(r.shape) == (2, 2, 3) and r.stride() == (6, 3, 1)
    assert x.t()[torch.tensor([1, 0])].stride() == (4, 1)
    assert x[torch.tensor([[1], [2]])].stride() == (3, 3, 1)
    # out of bounds: PyTorch's words (NumPy's own refusal replaced), nothing written
    for i, msg in (([0, 5], "index 5 is out of bounds for dimension 0 with size 4"),
                   ([-5, 1], "index -5 is out of bounds for dimension 0 with size 4")):
        with pytest.raises(IndexError, match=msg):
            x[torch.tensor(i)]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with "
                                         "size 3"):
        x[:, torch.tensor([3])]
    # (torch 2.13's words: the dim is the index array's position)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 1 with "
                                         "size 3"):
        x[torch.tensor([1, 1]), torch.tensor([0, 5])]
    with pytest.raises(IndexError, match="index 9 is out of bounds for dimension 0 with "
                                         "size 4"):
        x[torch.tensor([1, 9]), torch.tensor([0, 5])]
    with pytest.raises(IndexError, match="shape mismatch"):
        x[torch.tensor([1, 1]), torch.tensor([0, 1, 5])]
    w = torch.randn(5, 3, requires_grad=True)
    i = torch.tensor([1, 1, 4])
    y = w[i]
    assert y.grad_fn.name() == "IndexBackward0"
    y.sum().backward()
    assert w.grad.tolist() == [[0.] * 3, [2.] * 3, [0.] * 3, [0.] * 3, [1.] * 3]


def _muladd32(a, b, c):
    # the float64 sum of the exact product, rounded to float32 (the kernels' contraction)
    return (a.astype(np.float64) * b + c).astype(np.float32)


def test_silu_gelu_tanh_backward_bits():
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((6, 9)) * 3).astype(np.float32)
    g = rng.standard_normal((6, 9)).astype(np.float32)
    f32 = np.float32
    s = f32(1) / (np.exp(-x) + f32(1))
    ref = g * s * _muladd32(x, f32(1) - s, f32(1))
    got = torch.ops.aten.silu_backward(torch.tensor(g), torch.tensor(x)).numpy()
    assert got.tobytes() == ref.tobytes()
    # a broadcast gradient: the products cannot go into the temporaries
    gb = np.stack([g, -g])
    got = torch.ops.aten.silu_backward(torch.tensor(gb), torch.tensor(x)).numpy()
    assert got.tobytes() == np.stack([ref, (-g) * s * _muladd32(x, f32(1) - s, f32(1))]).tobytes()
    # gelu (tanh): the same steps as ATen's GeluBackwardKernelImpl, NumPy's float32 tanh
    xt = torch.tensor(x, requires_grad=True)
    F.gelu(xt, approximate="tanh").backward(torch.tensor(g))
    beta, kappa = 0.7978845608028654, 0.044715
    with np.errstate(all="ignore"):
        t = torch.tanh(torch.tensor((x * x * x * kappa + x) * beta)).numpy()
    left = (t + 1) * 0.5
    inner = _muladd32(x * x, f32(3) * f32(kappa), f32(1)) * beta
    right = x * 0.5 * _muladd32(-t, t, f32(1)) * inner
    assert xt.grad.numpy().tobytes() == (g * (left + right)).tobytes()
    # 0-dim inputs keep their own path
    x0 = torch.tensor(0.5, requires_grad=True)
    F.silu(x0).backward()
    F.gelu(x0, approximate="tanh").backward()
    # (torch 2.13: 0.7399612069129944 + 0.8673698902130127)
    assert abs(x0.grad.item() - (0.7399612069129944 + 0.8673698902130127)) < 1e-6
