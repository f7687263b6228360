"""torch.rrelu / rrelu_, F.rrelu / rrelu_ and nn.RReLU (randomized leaky ReLU), against
NumPy: without training exactly leaky_relu with slope (lower + upper) / 2; when training a
slope per element at or below 0 drawn uniformly in [lower, upper] from gpujit's generator
(reproducible with manual_seed), the gradient being that slope (1 for x > 0)."""
import numpy as np
import pytest

import gpujit as torch
import gpujit.nn as nn
import gpujit.nn.functional as F

L, U = 1.0 / 8, 1.0 / 3


def _x(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).uniform(-3, 3, shape).astype(dtype)


def _eval_ref(x, lower=L, upper=U):
    return np.where(x > 0, x, x * np.asarray((lower + upper) / 2, x.dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eval_values_exact(dtype):
    x = _x(6, 7, dtype=dtype)
    for fn in (lambda t: F.rrelu(t), lambda t: torch.rrelu(t), lambda t: F.rrelu(t, L, U, False)):
        out = fn(torch.from_numpy(x))
        assert out.dtype == torch.from_numpy(x).dtype
        np.testing.assert_array_equal(out.numpy(), _eval_ref(x))
    out = F.rrelu(torch.from_numpy(x), 0.1, 0.5)
    np.testing.assert_array_equal(out.numpy(), _eval_ref(x, 0.1, 0.5))


def test_eval_module_and_grad():
    x = _x(5, 4, dtype=np.float64)
    m = nn.RReLU(0.2, 0.4).eval()
    t = torch.from_numpy(x).requires_grad_()
    out = m(t)
    np.testing.assert_array_equal(out.detach().numpy(), _eval_ref(x, 0.2, 0.4))
    out.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.where(x > 0, 1.0, 0.3), rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_train_slopes_in_bounds_and_grad_is_slope(dtype):
    x = _x(50, 40, dtype=dtype)
    t = torch.from_numpy(x).requires_grad_()
    out = F.rrelu(t, 0.1, 0.6, training=True)
    out.sum().backward()
    o, g = out.detach().numpy().astype(np.float64), t.grad.numpy().astype(np.float64)
    pos, neg = x > 0, x < 0
    np.testing.assert_array_equal(o[pos], x[pos])
    np.testing.assert_array_equal(g[pos], 1.0)
    slope = o[neg] / x[neg].astype(np.float64)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    assert (slope >= 0.1 - tol).all() and (slope <= 0.6 + tol).all()
    np.testing.assert_allclose(g[neg], slope, rtol=tol * 10)      # the slope each one got
    assert len(np.unique(g[neg])) > neg.sum() // 2                 # one draw per element
    assert slope.min() < 0.15 and slope.max() > 0.55               # spread over the range
    assert abs(slope.mean() - 0.35) < 0.02


def test_train_zero_gets_a_drawn_slope():
    # PyTorch's noise is drawn for input <= 0: the gradient at 0 is a slope, not 1
    t = torch.zeros(200, dtype=torch.float64, requires_grad=True)
    out = F.rrelu(t, training=True)
    assert (out.detach().numpy() == 0).all()
    out.sum().backward()
    g = t.grad.numpy()
    assert ((g >= L) & (g <= U)).all() and len(np.unique(g)) > 100


def test_train_reproducible_with_manual_seed():
    x = torch.from_numpy(_x(30))
    torch.manual_seed(123)
    a = F.rrelu(x, training=True).numpy()
    b = F.rrelu(x, training=True).numpy()
    torch.manual_seed(123)
    np.testing.assert_array_equal(F.rrelu(x, training=True).numpy(), a)
    assert not np.array_equal(a, b)
    g = torch.Generator().manual_seed(7)
    c = torch.rrelu(x, L, U, True, g).numpy()
    g.manual_seed(7)
    np.testing.assert_array_equal(torch.rrelu(x, L, U, True, g).numpy(), c)


def test_equal_bounds_is_leaky_relu():
    x = _x(20)
    out = F.rrelu(torch.from_numpy(x), 0.25, 0.25, training=True)
    np.testing.assert_array_equal(out.numpy(), np.where(x > 0, x, x * np.float32(0.25)))


@pytest.mark.parametrize("training", [False, True])
def test_inplace(training):
    x = _x(8, 9)
    base = torch.from_numpy(x.copy()).requires_grad_()
    t = base * 1
    out = F.rrelu(t, 0.2, 0.3, training, inplace=True)
    assert out is t and t._version == 1
    o = t.detach().numpy()
    neg = x < 0
    np.testing.assert_array_equal(o[~neg], x[~neg])
    slope = o[neg].astype(np.float64) / x[neg]
    assert ((slope >= 0.2 - 1e-6) & (slope <= 0.3 + 1e-6)).all()
    out.sum().backward()
    np.testing.assert_allclose(base.grad.numpy()[neg], slope, rtol=1e-5)
    assert (base.grad.numpy()[~neg] == 1).all()
    u = torch.from_numpy(x.copy())
    assert F.rrelu_(u, 0.2, 0.3, training) is u and torch.rrelu_(u) is u
    v = torch.from_numpy(x.copy())
    assert nn.RReLU(0.2, 0.3, inplace=True).train(training)(v) is v


def test_float16():
    x = _x(10, dtype=np.float16)
    np.testing.assert_allclose(F.rrelu(torch.from_numpy(x)).numpy().astype(np.float64),
                               _eval_ref(x.astype(np.float64)), rtol=1e-3)
    out = F.rrelu(torch.from_numpy(x), training=True)
    assert out.dtype == torch.float16


def test_shapes_empty_and_0dim():
    assert F.rrelu(torch.zeros(0, 3), training=True).shape == (0, 3)
    s = F.rrelu(torch.tensor(-2.0), training=True)
    assert s.shape == () and -2 / 3 - 1e-6 <= s.item() <= -0.25 + 1e-6


def test_errors():
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal to the "
                                           "upper bound"):
        F.rrelu(torch.ones(3), 0.5, 0.2, training=True)
    with pytest.raises(RuntimeError, match="Lower bound"):
        F.rrelu(torch.ones(3), 0.5, 0.2)
    # (torch 2.13: "\"leaky_relu_cpu\" not implemented for 'Long'" when not training)
    with pytest.raises(NotImplementedError, match="leaky_relu_cpu.*Long"):
        F.rrelu(torch.tensor([1, -2]))


def test_module_repr_and_defaults():
    assert repr(nn.RReLU()) == "RReLU(lower=0.125, upper=0.3333333333333333)"
    assert repr(nn.RReLU(0.1, 0.3, True)) == "RReLU(lower=0.1, upper=0.3, inplace=True)"
    m = nn.RReLU()
    assert m.lower == 0.125 and m.upper == 1 / 3 and m.inplace is False and m.training


def test_scripted_module_train_and_eval():
    x = _x(40, 30)
    m = torch.jit.script(nn.RReLU(0.1, 0.2))
    m.eval()
    np.testing.assert_array_equal(m(torch.from_numpy(x)).numpy(), _eval_ref(x, 0.1, 0.2))
    m.train()
    o = m(torch.from_numpy(x)).numpy().astype(np.float64)
    neg = x < 0
    slope = o[neg] / x[neg]
    assert ((slope >= 0.1 - 1e-6) & (slope <= 0.2 + 1e-6)).all()
    assert len(np.unique(np.round(slope, 6))) > 10
    # (torch 2.13's graph calls F.rrelu; its body calls the op)
    assert "aten::rrelu" in str(m.inlined_graph)


def _fn(x, training: bool):
    return F.rrelu(x * 2 - 0.5, 0.1, 0.3, training) * 3 + 1     # fusible ops on both sides


def test_scripted_function_not_fused():
    f = torch.jit.script(_fn)
    x = _x(16, 16)
    for _ in range(3):
        out = f(torch.from_numpy(x), False)
    y = x * 2 - np.float32(0.5)
    np.testing.assert_allclose(out.numpy(), _eval_ref(y, 0.1, 0.3) * 3 + 1, rtol=1e-5,
                               atol=1e-6)
    for _ in range(3):
        o = (f(torch.from_numpy(x), True).numpy().astype(np.float64) - 1) / 3
    neg = y < -0.01
    slope = o[neg] / y[neg]
    assert ((slope >= 0.1 - 1e-5) & (slope <= 0.3 + 1e-5)).all()
    top, *groups = str(f.graph_for(torch.from_numpy(x), True)).split("\nwith ")
    assert "aten::rrelu" in top             # rrelu is random: never inside a fusion group
    assert not any("aten::rrelu" in grp for grp in groups)
    assert top.count("prim::TensorExprGroup") == 2      # its neighbours fuse on each side


@pytest.mark.parametrize("training", [False, True])
def test_traced_module(training):
    x = _x(12, 5)
    m = nn.RReLU(0.3, 0.4).train(training)
    tr = torch.jit.trace(m, torch.from_numpy(x), check_trace=not training)  # random: as PyTorch
    assert "aten::rrelu" in str(tr.graph)
    o = tr(torch.from_numpy(x)).numpy().astype(np.float64)
    if not training:
        np.testing.assert_array_equal(o, _eval_ref(x, 0.3, 0.4))
    neg = x < 0
    slope = o[neg] / x[neg]
    assert ((slope >= 0.3 - 1e-6) & (slope <= 0.4 + 1e-6)).all()
    if training:                            # a new draw each call
        assert not np.array_equal(tr(torch.from_numpy(x)).numpy(), o.astype(np.float32))
