"""Session 43: the ReLU family's derivatives are PyTorch's backward ops (registry ops under
torch.ops.aten, gpujit/ops/activation_backward_relu.py): relu -> threshold_backward(grad,
result, 0), threshold -> threshold_backward, hardtanh / relu6 -> hardtanh_backward,
leaky_relu -> leaky_relu_backward, elu / selu / celu -> elu_backward, hardshrink_backward,
softshrink_backward, softplus_backward, log_sigmoid_backward, hardswish_backward,
hardsigmoid_backward. A create_graph gradient's grad_fn and next_functions are torch
2.13's, second derivatives follow derivatives.yaml's formulas (zeros_like(grad) for a mask's
input, elu_double_backward's (x < 0), softplus_double_backward's (x * beta < threshold)),
the masks select (an inf / nan gradient where the mask is 0 gives 0, a NaN input passes its
gradient), and traced backward graphs fuse the new ops bit for bit with eager."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit.fusers.fusibility import GROUP_KIND

try:
    import torch as _torch
except ImportError:                 # (CI has no torch)
    _torch = None

F = gpujit.nn.functional
_rng = np.random.default_rng(43)

X = np.array([-4., -1., -0.3, 0., 0.1, 0.3, 0.5, 0.7, 1.0, 2.0, 4.0])
GY = np.linspace(0.5, 1.5, 11)

# name: (function of (library, x), the forward's grad_fn, the create_graph gradient's grad_fn
# and its next_functions' names), as torch 2.13 prints them
CASES = {
    "relu": (lambda m, x: m.relu(x), "ReluBackward0",
             "ThresholdBackwardBackward0", ["AccumulateGrad", "ReluBackward0"]),
    "relu6": (lambda m, x: m.nn.functional.relu6(x), "HardtanhBackward0",
              "HardtanhBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "hardtanh": (lambda m, x: m.nn.functional.hardtanh(x, -0.5, 0.7), "HardtanhBackward0",
                 "HardtanhBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "leaky_relu": (lambda m, x: m.nn.functional.leaky_relu(x, 0.2), "LeakyReluBackward0",
                   "LeakyReluBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "elu": (lambda m, x: m.nn.functional.elu(x, 1.3), "EluBackward0",
            "EluBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "celu": (lambda m, x: m.nn.functional.celu(x, 0.7), "CeluBackward0",
             "EluBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "selu": (lambda m, x: m.nn.functional.selu(x), "EluBackward0",
             "EluBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "threshold": (lambda m, x: m.nn.functional.threshold(x, 0.1, 2.0), "ThresholdBackward0",
                  "ThresholdBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "hardshrink": (lambda m, x: m.nn.functional.hardshrink(x, 0.3), "HardshrinkBackward0",
                   "HardshrinkBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "softshrink": (lambda m, x: m.nn.functional.softshrink(x, 0.3), "SoftshrinkBackward0",
                   "SoftshrinkBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "softplus": (lambda m, x: m.nn.functional.softplus(x, 2.0, 1.0), "SoftplusBackward0",
                 "SoftplusBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "logsigmoid": (lambda m, x: m.nn.functional.logsigmoid(x), "LogSigmoidBackward0",
                   "LogSigmoidBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "hardswish": (lambda m, x: m.nn.functional.hardswish(x), "HardswishBackward0",
                  "HardswishBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
    "rrelu": (lambda m, x: m.nn.functional.rrelu(x, training=False), "RreluWithNoiseBackward0",
              "RreluWithNoiseBackwardBackward0", ["AccumulateGrad", "AccumulateGrad"]),
}


def _name(node):
    return None if node is None else type(node).__name__


def _twice(lib, fn, x=X, gy=GY):
    """(forward grad_fn, gradient's grad_fn, its next_functions, gradient, the second
    derivatives of g.sum() + (g * g).sum() with respect to x and to the output gradient)."""
    t = lib.from_numpy(x.copy()).requires_grad_()
    w = lib.from_numpy(gy.copy()).requires_grad_()
    y = fn(lib, t)
    g, = lib.autograd.grad(y, t, w, create_graph=True)
    nxt = [_name(n) for n, _ in g.grad_fn.next_functions]
    gx, gw = lib.autograd.grad(g.sum() + (g * g).sum(), [t, w], allow_unused=True)
    return (_name(y.grad_fn), _name(g.grad_fn), nxt, g.detach().numpy(),
            None if gx is None else gx.numpy(), gw.numpy())


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# the first derivative d(x) of each, in float64 (PyTorch's choices at the kinks)
def _first(name, x):
    one, zero = np.ones_like(x), np.zeros_like(x)
    if name in ("relu", "relu6"):
        hi = 6 if name == "relu6" else np.inf
        return np.where((x > 0) & (x < hi), one, zero)
    if name == "hardtanh":
        return np.where((x > -0.5) & (x < 0.7), one, zero)
    if name == "leaky_relu":
        return np.where(x > 0, one, 0.2)
    if name == "rrelu":
        return np.where(x > 0, one, (0.125 + 1 / 3) / 2)
    if name in ("elu", "celu", "selu"):
        alpha, scale, ins = {"elu": (1.3, 1, 1), "celu": (0.7, 1, 1 / float(np.float32(0.7))),
                             "selu": (1.6732632423543772, 1.0507009873554805, 1)}[name]
        return np.where(x <= 0, ins * alpha * scale * np.exp(x * ins), scale)
    if name == "threshold":
        return np.where(x <= 0.1, zero, one)
    if name in ("hardshrink", "softshrink"):
        return np.where((x >= -0.3) & (x <= 0.3), zero, one)
    if name == "softplus":
        return np.where(x * 2 > 1, one, _sigmoid(2 * x))
    if name == "logsigmoid":
        return _sigmoid(-x)
    if name == "hardswish":
        return np.where(x <= -3, zero, np.where(x < 3, x / 3 + 0.5, one))
    raise AssertionError(name)


# ... and the derivative of that, as derivatives.yaml's double backward formulas give it
def _second(name, x):
    zero = np.zeros_like(x)
    if name in ("elu", "celu", "selu"):
        return np.where(x < 0, _first(name, x) * {"elu": 1, "celu": 1 / float(
            np.float32(0.7)), "selu": 1}[name], zero)
    if name == "softplus":
        s = _sigmoid(2 * x)
        return np.where(x * 2 < 1, 2 * s * (1 - s), zero)
    if name == "logsigmoid":
        s = _sigmoid(x)
        return (s - 1) * s
    if name == "hardswish":
        return np.where((x > -3) & (x < 3), 1 / 3, zero)
    return zero


@pytest.mark.parametrize("name", sorted(CASES))
def test_create_graph_nodes_and_second_derivatives(name):
    fn, fwd, node, nxt = CASES[name]
    got = _twice(gpujit, fn)
    assert got[:3] == (fwd, node, nxt)
    d1 = _first(name, X)
    g = GY * d1
    np.testing.assert_allclose(got[3], g, rtol=1e-6, atol=1e-15)
    # d/dx (g + g^2) = (1 + 2 g) * gy * d2; d/dgy = (1 + 2 g) * d1
    assert got[4] is not None           # (zeros_like(grad) where the formula says so)
    np.testing.assert_allclose(got[4], (1 + 2 * g) * GY * _second(name, X), rtol=1e-6,
                               atol=1e-15)
    np.testing.assert_allclose(got[5], (1 + 2 * g) * d1, rtol=1e-6, atol=1e-15)
    if _torch is not None:
        want = _twice(_torch, fn)
        assert got[:3] == want[:3]
        for a, b in zip(got[3:], want[3:]):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-300)


def test_relu_second_derivative_is_zeros_through_relus_node():
    # (before: WhereBackward0 of a mask, whose x gradient was None)
    got = _twice(gpujit, CASES["relu"][0])
    assert np.array_equal(got[4], np.zeros(11))


def test_hardsigmoid_has_no_double_backward():
    t = gpujit.from_numpy(X.copy()).requires_grad_()
    g, = gpujit.autograd.grad(F.hardsigmoid(t).sum(), t, create_graph=True)
    assert _name(g.grad_fn) == "NotImplemented"
    with pytest.raises(RuntimeError,
                       match="^derivative for aten::hardsigmoid_backward is not implemented$"):
        gpujit.autograd.grad(g.sum(), t)


def _inplace_names(lib, fn):
    t = lib.from_numpy(np.array([-2., -0.5, 0.0, 0.5, 2.0])).requires_grad_()
    y = fn(lib, t * 1)
    g, = lib.autograd.grad(y.sum(), t, create_graph=True)
    return _name(y.grad_fn), _name(g.grad_fn), [_name(n) for n, _ in g.grad_fn.next_functions]


@pytest.mark.parametrize("fn, want", [
    (lambda m, t: m.threshold_(t, 0.1, 5.0), "ThresholdBackward1"),
    (lambda m, t: m.nn.functional.threshold(t, 0.1, 5.0, inplace=True), "ThresholdBackward1"),
    (lambda m, t: m.relu_(t), "ReluBackward0"),
    (lambda m, t: m.nn.functional.hardtanh_(t, -0.4, 0.6), "HardtanhBackward0"),
    (lambda m, t: m.nn.functional.leaky_relu_(t, 0.1), "LeakyReluBackward1"),
    (lambda m, t: m.nn.functional.elu_(t, 0.4), "EluBackward1"),
    (lambda m, t: m.nn.functional.celu_(t, 0.5), "CeluBackward1"),
    (lambda m, t: m.rrelu_(t, 0.1, 0.3, False), "RreluWithNoiseBackward1"),
    (lambda m, t: m.rrelu_(t, 0.1, 0.3, True), "RreluWithNoiseBackward1"),
])
def test_inplace_forms(fn, want):
    got = _inplace_names(gpujit, fn)
    assert got[0] == want and got[1] == "MulBackward0" and got[2][1] is None
    assert got[2][0].endswith("BackwardBackward0")
    if _torch is not None:
        assert got == _inplace_names(_torch, fn)


@pytest.mark.parametrize("inplace", [False, True])
def test_rrelu_training_multiplies_by_the_slopes_drawn(inplace):
    x = np.array([-2., -0.5, 0.5, 2.0])
    t = gpujit.from_numpy(x.copy()).requires_grad_()
    w = gpujit.from_numpy(np.array([1., 2., 3., 4.])).requires_grad_()
    y = gpujit.rrelu_(t * 1, 0.1, 0.3, True) if inplace else F.rrelu(t, 0.1, 0.3, True)
    slopes = y.detach().numpy() / x
    assert ((slopes[:2] >= 0.1) & (slopes[:2] <= 0.3)).all() and (slopes[2:] == 1).all()
    g, = gpujit.autograd.grad(y, t, w, create_graph=True)
    assert _name(g.grad_fn) == ("MulBackward0" if inplace else
                                "RreluWithNoiseBackwardBackward0")
    np.testing.assert_allclose(g.detach().numpy(), slopes * [1, 2, 3, 4], rtol=1e-15)
    gx, gw = gpujit.autograd.grad(g.sum(), [t, w])
    assert np.array_equal(gx.numpy(), np.zeros(4))
    np.testing.assert_allclose(gw.numpy(), slopes, rtol=1e-15)


def test_masks_select_and_nan_inputs_pass_the_gradient():
    A = gpujit.ops.aten
    g = np.array([1., np.inf, np.nan, -2., 3.])
    s = np.array([np.nan, 0., -1., 0.5, 0.])
    G, S = gpujit.from_numpy(g), gpujit.from_numpy(s)
    cases = [(A.threshold_backward(G, S, 0), [1., 0., 0., -2., 0.]),
             (A.hardtanh_backward(G, S, -0.5, 0.5), [1., np.inf, 0., 0., 3.]),
             (A.hardshrink_backward(G, S, 0.5), [1., 0., np.nan, 0., 0.]),
             (A.softshrink_backward(G, S, 0.5), [1., 0., np.nan, 0., 0.]),
             (A.leaky_relu_backward(G, S, 0.1, False), [0.1, np.inf, np.nan, -2., 3 * 0.1]),
             (A.elu_backward(G, 1.0, 1.0, 1.0, False, S), [1., np.inf, np.nan, -2., 3.]),
             (A.hardswish_backward(G, S), [1., np.inf, np.nan, -2. * (0.5 / 3 + 0.5), 1.5])]
    for got, want in cases:
        np.testing.assert_array_equal(got.numpy(), np.array(want))
    if _torch is not None:
        TA = _torch.ops.aten
        TG, TS = _torch.from_numpy(g), _torch.from_numpy(s)
        tw = [TA.threshold_backward(TG, TS, 0), TA.hardtanh_backward(TG, TS, -0.5, 0.5),
              TA.hardshrink_backward(TG, TS, 0.5), TA.softshrink_backward(TG, TS, 0.5),
              TA.leaky_relu_backward(TG, TS, 0.1, False),
              TA.elu_backward(TG, 1.0, 1.0, 1.0, False, TS), TA.hardswish_backward(TG, TS)]
        for (got, _), t in zip(cases, tw):
            np.testing.assert_array_equal(got.numpy(), t.numpy())


def test_relu_gradient_at_nan_is_the_gradient():
    # threshold_backward(grad, result, 0): NaN <= 0 is false (before: where(result > 0): 0)
    t = gpujit.tensor([float("nan"), -1., 0., 1.], requires_grad=True)
    gpujit.relu(t).backward(gpujit.ones(4))
    assert t.grad.tolist() == [1., 0., 0., 1.]


def test_float16_scalars_as_the_kernels_take_them():
    # threshold_backward and hardtanh_backward compare a half in float (half(0.3) =
    # 0.30005 is above 0.3; half(0.1) = 0.099976 below 0.1); the shrinks' lambd is a half
    A = gpujit.ops.aten
    x = np.array([0.3, 0.2998, 0.3003, -0.3, -0.2998, -0.3003], np.float16)
    x1 = np.array([0.1, -0.1], np.float16)
    g, X, X1 = np.ones(6, np.float16), gpujit.from_numpy(x), gpujit.from_numpy(x1)
    G, G1 = gpujit.from_numpy(g), gpujit.from_numpy(g[:2])
    got = [A.threshold_backward(G, X, 0.3).tolist(), A.hardtanh_backward(G1, X1, -0.1, 0.1).tolist(),
           A.hardshrink_backward(G, X, 0.3).tolist(), A.softshrink_backward(G, X, 0.3).tolist()]
    assert got == [[1, 0, 1, 0, 0, 0], [1, 1], [0, 0, 1, 0, 0, 1], [0, 0, 1, 0, 0, 1]]
    if _torch is not None:
        TA, T, T1 = _torch.ops.aten, _torch.from_numpy(x), _torch.from_numpy(x1)
        TG, TG1 = _torch.from_numpy(g), _torch.from_numpy(g[:2])
        assert got == [TA.threshold_backward(TG, T, 0.3).tolist(),
                       TA.hardtanh_backward(TG1, T1, -0.1, 0.1).tolist(),
                       TA.hardshrink_backward(TG, T, 0.3).tolist(),
                       TA.softshrink_backward(TG, T, 0.3).tolist()]


def test_reduced_float_arithmetic_in_float_rounded_once():
    x = (_rng.standard_normal(3000) * 3).astype(np.float16)
    g = _rng.standard_normal(3000).astype(np.float16)
    G, Xh = gpujit.from_numpy(g), gpujit.from_numpy(x)
    A = gpujit.ops.aten
    g32, x32 = g.astype(np.float32), x.astype(np.float32)
    want = {
        "leaky": np.where(x32 > 0, g32, g32 * np.float32(0.01)).astype(np.float16),
        "elu": np.where(x32 <= 0, g32 * np.float32(1) * (np.float32(1.3) * np.float32(0.7)) *
                        np.exp(np.minimum(x32, 0)), g32 * np.float32(0.7)).astype(np.float16),
        "hardswish": np.where(x32 <= -3, 0, np.where(x32 < 3, g32 * (x32 / np.float32(3) +
                                                                     np.float32(0.5)), g32)
                              ).astype(np.float16),
    }
    got = {"leaky": A.leaky_relu_backward(G, Xh, 0.01, False),
           "elu": A.elu_backward(G, 1.3, 0.7, 1.0, False, Xh),
           "hardswish": A.hardswish_backward(G, Xh)}
    for k in want:
        assert got[k].dtype == gpujit.float16
        assert np.array_equal(got[k].numpy(), want[k]), k
    # the half slope's product differs: the float computation matters
    assert not np.array_equal(want["leaky"], np.where(x > 0, g, g * np.float16(0.01)))
    if _torch is not None:
        TA, TG, TX = _torch.ops.aten, _torch.from_numpy(g), _torch.from_numpy(x)
        tw = {"leaky": TA.leaky_relu_backward(TG, TX, 0.01, False),
              "elu": TA.elu_backward(TG, 1.3, 0.7, 1.0, False, TX),
              "hardswish": TA.hardswish_backward(TG, TX)}
        for k in ("leaky", "hardswish"):
            assert np.array_equal(got[k].numpy(), tw[k].numpy()), k
        # (elu's exp is SLEEF's in ATen's vector loop: allow its last bit)
        np.testing.assert_allclose(got["elu"].numpy().astype(np.float32),
                                   tw["elu"].numpy().astype(np.float32), rtol=1e-3)


@pytest.mark.parametrize("fn, words", [
    (lambda t: F.leaky_relu_(t, -0.1), "^In-place leakyReLu backward calculation is "
                                       "triggered with a negative slope"),
    (lambda t: F.elu_(t, -0.5), "^In-place elu backward calculation is triggered with a "
                                "negative slope which is not supported"),
    (lambda t: F.celu_(t, -0.5), "^In-place elu backward calculation is triggered"),
    (lambda t: gpujit.rrelu_(t, -0.3, -0.1, False), "^In-place leakyReLu backward")])
def test_inplace_negative_slope_raises_at_backward(fn, words):
    # (the backward op's check: leaky_relu_backward / elu_backward of a result)
    t = gpujit.tensor([-1.0, 2.0], requires_grad=True)
    y = fn(t * 1)
    with pytest.raises(RuntimeError, match=words):
        y.sum().backward()


def test_backward_ops_are_torch_ops_aten_only():
    for name in ("threshold_backward", "hardtanh_backward", "elu_backward",
                 "rrelu_with_noise_backward",
                 "leaky_relu_backward", "softplus_backward", "log_sigmoid_backward",
                 "hardswish_backward", "hardsigmoid_backward", "hardshrink_backward",
                 "softshrink_backward"):
        assert hasattr(gpujit.ops.aten, name)
        assert not hasattr(gpujit, name) and not hasattr(gpujit.Tensor, name), name
        assert not hasattr(F, name), name


def _acts(x, y):
    return (F.relu(x * y) + F.hardtanh(x + y, -0.5, 0.5) + F.leaky_relu(x, 0.1) +
            F.elu(y, 1.2) + F.softplus(x, 2.0, 3.0) + F.hardswish(y) + F.logsigmoid(x - y) +
            F.threshold(y, 0.2, 0.5) + F.hardshrink(x) + F.softshrink(y) + F.relu6(x * 3) +
            F.hardsigmoid(x))


@pytest.fixture
def _static_strategy():
    old = gpujit._C._jit_set_fusion_strategy([("STATIC", 20)])
    yield
    gpujit._C._jit_set_fusion_strategy(old)


def _backward_graphs(f, *args):
    from gpujit.runtime.interpreter import GROUP_RUNNER
    exe = f._get_executable()
    spec = exe._active[exe.key(list(args))]
    out = []
    for g in spec.groups:
        r = g.node.meta.get(GROUP_RUNNER)
        for bw in (r.backwards.values() if r is not None else ()):
            if bw:
                out.extend(s.graph for s in bw.fn.specializations)
    return out


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_backward_graph_fuses_the_backward_ops_bit_for_bit(dtype, _static_strategy):
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
    inside = {n.kind for g in graphs for grp in g.nodes if grp.kind == GROUP_KIND
              for n in grp.attrs["Subgraph"].nodes}
    assert {"aten::threshold_backward", "aten::hardtanh_backward", "aten::elu_backward",
            "aten::leaky_relu_backward", "aten::softplus_backward",
            "aten::hardswish_backward", "aten::hardsigmoid_backward",
            "aten::log_sigmoid_backward", "aten::hardshrink_backward",
            "aten::softshrink_backward"} <= inside
    for g in graphs:
        outside = [n.kind for n in g.nodes if n.kind not in (
            GROUP_KIND, "prim::Constant", "prim::TupleConstruct")]
        assert not outside, g


def _threshold_half(t):
    return gpujit.threshold(t * 1, 0.3, 5.0) + 0


def test_float16_threshold_forward_compares_in_float(_static_strategy):
    # threshold's kernel compares a half in float: half(0.3) = 0.30005 is kept (eager
    # compared in half and replaced it, while the fused kernel, computing in float, kept it)
    x = np.array([0.3, 0.2998, 0.3003, 0.1, -0.1], np.float16)
    want = [0.300048828125, 5.0, 0.30029296875, 5.0, 5.0]
    t = gpujit.from_numpy(x.copy())
    assert gpujit.threshold(t, 0.3, 5.0).tolist() == want
    assert gpujit.threshold_(t.clone(), 0.3, 5.0).tolist() == want
    s = gpujit.jit.script(_threshold_half)
    for _ in range(3):
        got = s(t)
    assert got.tolist() == want and got.dtype == gpujit.float16
    if _torch is not None:
        assert _torch.threshold(_torch.from_numpy(x), 0.3, 5.0).tolist() == want


_BACKWARD_OPS = ("tanh_backward", "sigmoid_backward", "gelu_backward", "silu_backward",
                 "mish_backward", "threshold_backward", "hardtanh_backward",
                 "leaky_relu_backward", "elu_backward", "hardshrink_backward",
                 "softshrink_backward", "softplus_backward", "log_sigmoid_backward",
                 "hardswish_backward", "hardsigmoid_backward", "rrelu_with_noise_backward")


def _overloads(lib, name):
    p = getattr(lib.ops.aten, name)
    return sorted((o, str(getattr(p, o)._schema)) for o in p.overloads())


def test_backward_ops_out_forms_are_grad_input():
    # native_functions.yaml: the structured backward kernels' out form is
    # .grad_input(..., *, Tensor(a!) grad_input); hardswish_backward and
    # rrelu_with_noise_backward have a generated .out; mish_backward has none
    got = {n: _overloads(gpujit, n) for n in _BACKWARD_OPS}
    assert got["threshold_backward"][1] == (
        "grad_input", "aten::threshold_backward.grad_input(Tensor grad_output, Tensor self, "
        "Scalar threshold, *, Tensor(a!) grad_input) -> Tensor(a!)")
    assert [o for o, _ in got["mish_backward"]] == ["default"]
    assert [o for o, _ in got["hardswish_backward"]] == ["default", "out"]
    g, x, o = gpujit.ones(3), gpujit.tensor([-1.0, 0.0, 1.0]), gpujit.empty(3)
    r = gpujit.ops.aten.threshold_backward.grad_input(g, x, 0, grad_input=o)
    assert r is o and o.tolist() == [0.0, 0.0, 1.0]
    if _torch is not None:
        for n in _BACKWARD_OPS:
            assert got[n] == _overloads(_torch, n), n


def test_log_sigmoid_forward_is_the_kernel_logsigmoid_differentiates():
    x = np.array([-30.0, -1.0, 0.0, 0.5, 30.0])
    t = gpujit.from_numpy(x.copy()).requires_grad_()
    out, buf = gpujit.ops.aten.log_sigmoid_forward(t)
    np.testing.assert_allclose(out.detach().numpy(), np.minimum(x, 0) - np.log1p(np.exp(-abs(x))),
                               rtol=1e-15)
    np.testing.assert_array_equal(buf.numpy(), np.exp(-abs(x)))
    assert _name(out.grad_fn) == "LogSigmoidBackward0" and buf.grad_fn is None
    assert not buf.requires_grad
    g, = gpujit.autograd.grad(out.sum(), t, create_graph=True)
    assert _name(g.grad_fn) == "LogSigmoidBackwardBackward0"
    np.testing.assert_allclose(g.detach().numpy(), 1 / (1 + np.exp(x)), rtol=1e-15)
    assert _overloads(gpujit, "log_sigmoid_forward")[1][0] == "output"
    assert [o for o, _ in _overloads(gpujit, "relu6")] == ["default"]     # (no relu6.out)
    if _torch is not None:
        T = _torch.from_numpy(x.copy()).requires_grad_()
        o, b = _torch.ops.aten.log_sigmoid_forward(T)
        np.testing.assert_array_equal(b.numpy(), buf.numpy())
        assert [o for o, _ in _overloads(_torch, "log_sigmoid_forward")] == ["default", "output"]
        assert [o for o, _ in _overloads(_torch, "relu6")] == ["default"]


def test_hardtanh_bounds_checks_and_deprecated_keywords():
    x = gpujit.tensor([-1.0, 0.5, 2.0])
    with pytest.raises(ValueError, match="^min_val cannot be greater than max_val$"):
        F.hardtanh(x, 1.0, -1.0)
    assert F.hardtanh_(x.clone(), 1.0, -1.0).tolist() == [-1.0, -1.0, -1.0]   # (no check)
    with pytest.raises(AssertionError, match=r"^max_val \(-1.0\) must be greater than "
                                             r"min_val \(1.0\)$"):
        gpujit.nn.Hardtanh(1.0, -1.0)
    gpujit.nn.Hardtanh(float("nan"), 1.0)        # (max_val <= min_val is False)
    with pytest.warns(FutureWarning, match="keyword argument `min_value` is deprecated") as w:
        h = gpujit.nn.Hardtanh(min_value=-0.3, max_value=0.4)
    assert (h.min_val, h.max_val) == (-0.3, 0.4) and len(w) == 2
    assert w[0].filename == __file__
