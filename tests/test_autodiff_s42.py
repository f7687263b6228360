"""Session 42: tanh's and sigmoid's derivatives are PyTorch's aten::tanh_backward /
aten::sigmoid_backward (registry ops with their own derivatives): create_graph gradients
name TanhBackwardBackward0 / SigmoidBackwardBackward0 as torch's, the values keep ATen's
roundings (tanh's FMA-contracted a * fma(-b, b, 1), float16 sigmoid's per-step half
rounding), and the backward graphs jit traces hold one fusible node per gradient, no
0-dim factory left outside the fusion group."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit.fusers.fusibility import GROUP_KIND

try:
    import torch as _torch
except ImportError:                 # (CI has no torch)
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="needs PyTorch")

_rng = np.random.default_rng(42)


def _name(node):
    return None if node is None else type(node).__name__


def _double_backward_names(lib, fn, x):
    X = lib.from_numpy(x.copy()).requires_grad_()
    g, = lib.autograd.grad(getattr(X, fn)().sum(), X, create_graph=True)
    gg, = lib.autograd.grad(g.sum(), X, create_graph=True)
    return [(_name(t.grad_fn), [_name(n) for n, _ in t.grad_fn.next_functions])
            for t in (g, gg)]


@pytest.mark.parametrize("fn", ["tanh", "sigmoid"])
def test_create_graph_grad_fn_is_the_backward_op(fn):
    x = _rng.standard_normal(5)
    cls = {"tanh": "TanhBackwardBackward0", "sigmoid": "SigmoidBackwardBackward0"}[fn]
    fwd = {"tanh": "TanhBackward0", "sigmoid": "SigmoidBackward0"}[fn]
    got = _double_backward_names(gpujit, fn, x)
    assert got == [(cls, [None, fwd]), (cls, ["MulBackward0", fwd])]
    if _torch is not None:
        assert got == _double_backward_names(_torch, fn, x)


@pytest.mark.parametrize("fn", ["tanh", "sigmoid"])
def test_second_and_third_derivatives(fn):
    x = _rng.standard_normal(7)
    X = gpujit.from_numpy(x.copy()).requires_grad_()
    g, = gpujit.autograd.grad(getattr(X, fn)().sum(), X, create_graph=True)
    gg, = gpujit.autograd.grad(g.sum(), X, create_graph=True)
    ggg, = gpujit.autograd.grad(gg.sum(), X)
    if fn == "tanh":
        t = np.tanh(x)
        want = [1 - t * t, -2 * t * (1 - t * t), (1 - t * t) * (6 * t * t - 2)]
    else:
        s = 1 / (1 + np.exp(-x))
        d = s * (1 - s)
        want = [d, d * (1 - 2 * s), d * (1 - 6 * s + 6 * s * s)]
    for a, w in zip((g, gg, ggg), want):
        np.testing.assert_allclose(a.detach().numpy(), w, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["tanh_backward", "sigmoid_backward"])
def test_backward_op_gradients(name):
    go, y = _rng.standard_normal(4), _rng.uniform(-1, 1, 4)
    GO = gpujit.from_numpy(go.copy()).requires_grad_()
    Y = gpujit.from_numpy(y.copy()).requires_grad_()
    r = getattr(gpujit.ops.aten, name)(GO, Y)
    assert _name(r.grad_fn) == name.title().replace("_", "") + "Backward0"
    w = _rng.standard_normal(4)
    a, b = gpujit.autograd.grad(r, (GO, Y), gpujit.from_numpy(w.copy()))
    if name == "tanh_backward":
        want = (w * (1 - y * y), w * (-2 * y * go))
    else:
        want = (w * (1 - y) * y, w * go * (1 - 2 * y))
    np.testing.assert_allclose(a.numpy(), want[0], rtol=1e-14)
    np.testing.assert_allclose(b.numpy(), want[1], rtol=1e-14)
    if _torch is not None:
        tr = getattr(_torch.ops.aten, name)(
            *(_torch.from_numpy(v.copy()).requires_grad_() for v in (go, y)))
        assert _name(tr.grad_fn) == _name(r.grad_fn)


def _fma_one_minus_square32(y):
    # 1 - y * y rounded once in float32 (the float64 product of two float32s is exact)
    y64 = y.astype(np.float64)
    return (1.0 - y64 * y64).astype(np.float32)


def test_tanh_backward_rounds_as_aten():
    g = _rng.standard_normal(4000).astype(np.float32)
    y = np.tanh(_rng.standard_normal(4000) * 2).astype(np.float32)
    got = gpujit.ops.aten.tanh_backward(gpujit.from_numpy(g), gpujit.from_numpy(y)).numpy()
    want = g * _fma_one_minus_square32(y)
    assert got.dtype == np.float32 and np.array_equal(got, want)
    twice = g * (np.float32(1) - y * y)        # the two-rounding form differs somewhere
    assert not np.array_equal(twice, want)
    if _torch is not None:
        t = _torch.ops.aten.tanh_backward(_torch.from_numpy(g), _torch.from_numpy(y))
        assert np.array_equal(got, t.numpy())


def test_float16_roundings():
    g = _rng.standard_normal(3000).astype(np.float16)
    y = (1 / (1 + np.exp(-_rng.standard_normal(3000) * 3))).astype(np.float16)
    G, Y = gpujit.from_numpy(g), gpujit.from_numpy(y)
    s = gpujit.ops.aten.sigmoid_backward(G, Y).numpy()
    # sigmoid_backward: each step rounded to half (NumPy's float16 arithmetic)
    assert np.array_equal(s, g * (np.float16(1) - y) * y)
    assert not np.array_equal(
        s, (g.astype(np.float32) * (1 - y.astype(np.float32)) * y).astype(np.float16))
    t = gpujit.ops.aten.tanh_backward(G, Y).numpy()
    # tanh_backward: in float, rounded once
    assert np.array_equal(t, (g.astype(np.float32) * _fma_one_minus_square32(
        y.astype(np.float32))).astype(np.float16))
    if _torch is not None:
        for name, ours in (("sigmoid_backward", s), ("tanh_backward", t)):
            theirs = getattr(_torch.ops.aten, name)(_torch.from_numpy(g), _torch.from_numpy(y))
            assert np.array_equal(ours, theirs.numpy()), name


def test_promotion_broadcast_and_errors():
    a = gpujit.ones(2, 1)
    b = gpujit.full((3,), 0.5, dtype=gpujit.float64)
    r = gpujit.ops.aten.tanh_backward(a, b)
    assert r.dtype == gpujit.float64 and tuple(r.shape) == (2, 3)
    assert np.all(r.numpy() == 0.75)
    with pytest.raises(NotImplementedError,
                       match="^\"sigmoid_backward_cpu\" not implemented for 'Long'$"):
        gpujit.ops.aten.sigmoid_backward(gpujit.ones(2, dtype=gpujit.int64),
                                         gpujit.ones(2, dtype=gpujit.int64))
    assert not hasattr(gpujit, "tanh_backward") and not hasattr(gpujit.Tensor, "tanh_backward")


# ------------------------------------------------------------ traced backward graphs

def _backward_graphs(f, *args):
    from gpujit.runtime.interpreter import GROUP_RUNNER
    exe = f._get_executable()
    spec = exe._active[exe.key(list(args))]
    out = []
    runners = [g.node.meta.get(GROUP_RUNNER) for g in spec.groups]
    # (a group inside a DifferentiableGraph region is differentiated by the region's backward)
    from fusion_asserts import region_group_runners
    runners += region_group_runners(spec)
    for r in runners:
        for bw in (r.backwards.values() if r is not None else ()):
            if bw:
                out.extend(s.graph for s in bw.fn.specializations)
    return out


def _chain(x, y):
    return gpujit.tanh(x * y) * gpujit.sigmoid(x + y) + gpujit.tanh(x)


def _my_cell(x, h, w, b):
    # the tutorial's MyCell: tanh(linear(x) + h)
    new_h = gpujit.tanh(gpujit.nn.functional.linear(x, w, b) + h)
    return new_h, new_h


@pytest.fixture
def _static_strategy():
    old = gpujit._C._jit_set_fusion_strategy([("STATIC", 20)])
    yield
    gpujit._C._jit_set_fusion_strategy(old)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_backward_graph_fuses_the_backward_ops_bit_for_bit(dtype, _static_strategy):
    ts = [gpujit.from_numpy((_rng.standard_normal((6, 7)) * 2).astype(dtype)).requires_grad_()
          for _ in range(2)]
    s = gpujit.jit.script(_chain)
    w = gpujit.from_numpy(_rng.standard_normal((6, 7)).astype(dtype))
    for _ in range(3):
        got = gpujit.autograd.grad(s(*ts), ts, w)
    want = gpujit.autograd.grad(_chain(*ts), ts, w)
    for a, b in zip(got, want):
        assert np.array_equal(a.numpy(), b.numpy())
    graphs = _backward_graphs(s, *ts)
    assert graphs
    for g in graphs:
        outside = [n.kind for n in g.nodes if n.kind not in (
            GROUP_KIND, "prim::Constant", "prim::TupleConstruct")]
        assert not outside, g
        inside = {n.kind for grp in g.nodes if grp.kind == GROUP_KIND
                  for n in grp.attrs["Subgraph"].nodes}
        assert {"aten::tanh_backward", "aten::sigmoid_backward"} <= inside, g


def test_mycell_backward_has_no_factory(_static_strategy):
    s = gpujit.jit.script(_my_cell)
    args = [gpujit.rand(3, 4), gpujit.rand(3, 4), gpujit.rand(4, 4).requires_grad_(),
            gpujit.rand(4).requires_grad_()]
    for _ in range(3):
        new_h, _ = s(*args)
        got = gpujit.autograd.grad(new_h.sum(), args[2:])
    want = gpujit.autograd.grad(_my_cell(*args)[0].sum(), args[2:])
    for a, b in zip(got, want):
        assert np.array_equal(a.numpy(), b.numpy())
    graphs = _backward_graphs(s, *args)
    assert graphs
    for g in graphs:
        kinds = [n.kind for n in g.walk()] + [
            n.kind for grp in g.walk() if grp.kind == GROUP_KIND
            for n in grp.attrs["Subgraph"].nodes]
        assert not {"aten::ones", "aten::full", "aten::full_like", "aten::ones_like"} & set(
            kinds), g
        assert "aten::tanh_backward" in kinds, g


# ------------------------------------------------ gelu / silu / mish: their backward ops

F = gpujit.nn.functional


def _top_name(lib, fn, x, **kw):
    X = lib.from_numpy(x.copy()).requires_grad_()
    g, = lib.autograd.grad(getattr(lib.nn.functional, fn)(X, **kw).sum(), X,
                           create_graph=True)
    return _name(g.grad_fn)


@pytest.mark.parametrize("fn, kw, want", [
    ("gelu", {}, "GeluBackwardBackward0"), ("gelu", {"approximate": "tanh"},
                                             "GeluBackwardBackward0"),
    # torch differentiates silu and mish twice through FunctionsManual's composites
    ("silu", {}, "MulBackward0"), ("mish", {}, "MulBackward0")])
def test_create_graph_names_of_gelu_silu_mish(fn, kw, want):
    x = _rng.standard_normal(4)
    assert _top_name(gpujit, fn, x, **kw) == want
    if _torch is not None:
        assert _top_name(_torch, fn, x, **kw) == want


def test_silu_create_graph_is_the_composite_and_plain_backward_the_kernel():
    x = (_rng.standard_normal(3000) * 3).astype(np.float32)
    g = _rng.standard_normal(3000).astype(np.float32)
    s = (1 / (np.exp(-x) + 1)).astype(np.float32)
    # silu_backward_kernel: dy * s * fma(x, 1 - s, 1); under create_graph torch's
    # infinitely_differentiable_silu_backward: dy * s * (1 + x * (1 - s)), each op rounded
    kernel = g * s * (x.astype(np.float64) * (1 - s) + 1).astype(np.float32)
    composite = g * s * (x * (1 - s) + np.float32(1))
    assert not np.array_equal(kernel, composite)
    got = {}
    for cg in (False, True):
        X = gpujit.from_numpy(x.copy()).requires_grad_()
        a, = gpujit.autograd.grad(F.silu(X), X, gpujit.from_numpy(g.copy()), create_graph=cg)
        got[cg] = a.detach().numpy()
    assert np.array_equal(got[False], kernel)
    assert np.array_equal(got[True], composite)
    if _torch is not None:      # (torch's exp is SLEEF's: the last bit may differ)
        for cg in (False, True):
            X = _torch.from_numpy(x.copy()).requires_grad_()
            a, = _torch.autograd.grad(_torch.nn.functional.silu(X), X, _torch.from_numpy(g),
                                      create_graph=cg)
            np.testing.assert_allclose(got[cg], a.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["silu_backward", "mish_backward"])
def test_silu_mish_backward_have_no_derivative(name):
    go = gpujit.randn(3, requires_grad=True)
    x = gpujit.randn(3, requires_grad=True)
    r = getattr(gpujit.ops.aten, name)(go, x)
    with pytest.raises(RuntimeError, match=f"^derivative for aten::{name} is not implemented$"):
        r.sum().backward()


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_second_derivative(approximate):
    x = np.linspace(-4, 4, 41)
    X = gpujit.from_numpy(x.copy()).requires_grad_()
    g, = gpujit.autograd.grad(F.gelu(X, approximate=approximate).sum(), X, create_graph=True)
    gg, = gpujit.autograd.grad(g.sum(), X)
    if approximate == "none":
        pdf = np.exp(-x * x / 2) / np.sqrt(2 * np.pi)
        want = 2 * pdf - x * x * pdf
    else:
        k, c = np.sqrt(2 / np.pi), 0.044715
        u = k * (x + c * x ** 3)
        du = k * (1 + 3 * c * x * x)
        t = np.tanh(u)
        want = (1 - t * t) * du + 0.5 * x * (-2 * t * (1 - t * t) * du * du +
                                             (1 - t * t) * k * 6 * c * x)
    np.testing.assert_allclose(gg.numpy(), want, rtol=1e-10, atol=1e-12)
    if _torch is not None:
        T = _torch.from_numpy(x.copy()).requires_grad_()
        tg, = _torch.autograd.grad(_torch.nn.functional.gelu(T, approximate=approximate).sum(),
                                   T, create_graph=True)
        tgg, = _torch.autograd.grad(tg.sum(), T)
        np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-12, atol=1e-14)


def _acts(x, y):
    return (F.gelu(x * y) + F.gelu(x + y, approximate="tanh") + F.silu(x) + F.mish(y))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_activation_backward_graph_is_one_group(dtype, _static_strategy):
    ts = [gpujit.from_numpy((_rng.standard_normal((6, 7)) * 3).astype(dtype)).requires_grad_()
          for _ in range(2)]
    s = gpujit.jit.script(_acts)
    w = gpujit.from_numpy(_rng.standard_normal((6, 7)).astype(dtype))
    for _ in range(3):
        got = gpujit.autograd.grad(s(*ts), ts, w)
    want = gpujit.autograd.grad(_acts(*ts), ts, w)
    for a, b in zip(got, want):
        assert np.array_equal(a.numpy(), b.numpy())
    graphs = _backward_graphs(s, *ts)
    assert graphs
    for g in graphs:
        outside = [n.kind for n in g.nodes if n.kind not in (
            GROUP_KIND, "prim::Constant", "prim::TupleConstruct")]
        assert not outside, g       # (before: two 0-dim aten::full of the fma forms)
        inside = {n.kind for grp in g.nodes if grp.kind == GROUP_KIND
                  for n in grp.attrs["Subgraph"].nodes}
        assert {"aten::gelu_backward", "aten::silu_backward", "aten::mish_backward"} <= inside
