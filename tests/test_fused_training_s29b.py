"""Session 29 (part 2): a fused training step's fast paths -- a scripted function's recording
call without _run, a one-group plan calling its runner on the arguments, the engine's walk
of a one-root graph whose node feeds only leaves (no dependency counts, no ready queue), a
leaf's first gradient stored inline, SavedTensor without a weak reference -- give what the
general paths give: gradients, hooks and their order, retain_graph, create_graph, version
checks, saved-tensor hooks, anomaly mode, no_grad, threads."""
import threading
import warnings

import numpy as np
import pytest

import gpujit
from gpujit.autograd import engine
from gpujit.autograd.graph import AccumulateGrad


def _gelu(x, y):
    return gpujit.nn.functional.gelu(x, approximate="tanh") + y


def _chain(x, y):
    return gpujit.tanh(x * 0.5 + y) * gpujit.sigmoid(x - y) + gpujit.relu(x)


def _leaves(n=32, seed=0, shape=None):
    rng = np.random.default_rng(seed)
    shape = shape or (n,)
    mk = lambda: rng.standard_normal(shape).astype(np.float32)       # noqa: E731
    return (gpujit.tensor(mk(), requires_grad=True), gpujit.tensor(mk(), requires_grad=True),
            gpujit.tensor(mk()))


def _warm(fn, *args):
    """A scripted fn called until its fused group records (profiling, compile, plan)."""
    sc = gpujit.jit.script(fn)
    for _ in range(3):
        sc(*args).sum().backward()
    for a in args:
        if isinstance(a, gpujit.Tensor) and a.requires_grad:
            a.grad = None
    out = sc(*args)
    assert type(out.grad_fn).__name__ == "CppFunction"
    return sc


def _eager_grads(fn, x, y, g):
    x2, y2 = x.detach().requires_grad_(), y.detach().requires_grad_()
    fn(x2, y2).backward(g)
    return x2.grad.numpy().copy(), y2.grad.numpy().copy()


def _gelu_grad_ref(x):
    """d/dx of tanh-GELU in float64 (the reference for the fused backward)."""
    c = np.sqrt(2 / np.pi)
    x = x.astype(np.float64)
    u = c * (x + 0.044715 * x ** 3)
    t = np.tanh(u)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)


@pytest.mark.parametrize("fn", [_gelu, _chain])
def test_shallow_walk_gradients_match_eager(fn):
    x, y, g = _leaves()
    sc = _warm(fn, x, y)
    want = _eager_grads(fn, x, y, g)
    for _ in range(3):
        x.grad = y.grad = None
        sc(x, y).backward(g)
        np.testing.assert_allclose(x.grad.numpy(), want[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(y.grad.numpy(), want[1], rtol=1e-5, atol=1e-6)


def test_gelu_fused_gradient_against_formula():
    x, y, g = _leaves(seed=3)
    sc = _warm(_gelu, x, y)
    x.grad = y.grad = None
    sc(x, y).backward(g)
    ref = _gelu_grad_ref(x.detach().numpy()) * g.numpy()
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(y.grad.numpy(), g.numpy())
    # the root gradient reached y unchanged: y.grad is a copy, not the caller's array
    assert not np.shares_memory(y.grad.numpy(), g.numpy())
    y.grad.add_(1)
    np.testing.assert_array_equal(y.grad.numpy(), g.numpy() + 1)


def test_same_leaf_twice_summed():
    def f(a, b):
        return a * b + a

    x, _, g = _leaves(seed=1)
    sc = _warm(f, x, x)
    x.grad = None
    sc(x, x).backward(g)
    xn = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), (2 * xn + 1) * g.numpy(), rtol=1e-5, atol=1e-6)
    # the walk's order of leaves: each at its last edge (a leaf given twice after another)
    node = sc(x, x).grad_fn
    assert [type(n) for n, _ in node.next_functions] == [AccumulateGrad, AccumulateGrad]


def test_shallow_walk_taken_and_order_of_leaves():
    # addcmul(a, b, c): edges a, b, a -> b's leaf is ready first, then a's (its last edge)
    a = gpujit.randn(4, requires_grad=True)
    b = gpujit.randn(4, requires_grad=True)
    order = []
    a.register_post_accumulate_grad_hook(lambda t: order.append("a"))
    b.register_post_accumulate_grad_hook(lambda t: order.append("b"))
    out = gpujit.addcmul(a, b, a)
    called = []
    orig = engine._run_shallow

    def spy(*args):
        called.append(1)
        return orig(*args)

    engine._run_shallow = spy
    try:
        out.sum().backward()       # (sum's node feeds addcmul's: the general walk)
        assert called == []
        a.grad = b.grad = None
        order.clear()
        gpujit.addcmul(a, b, a).backward(gpujit.ones(4))
        assert called == [1]
    finally:
        engine._run_shallow = orig
    assert order == ["b", "a"]
    an, bn = a.detach().numpy(), b.detach().numpy()
    np.testing.assert_allclose(a.grad.numpy(), 1 + bn, rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), an, rtol=1e-6)


def test_existing_grad_added_in_place():
    x, y, g = _leaves()
    sc = _warm(_gelu, x, y)
    want = _eager_grads(_gelu, x, y, g)
    x.grad = gpujit.ones(x.shape)
    y.grad = None
    kept = x.grad
    sc(x, y).backward(g)
    assert x.grad is kept
    np.testing.assert_allclose(kept.numpy(), want[0] + 1, rtol=1e-5, atol=1e-6)


def test_retain_graph_and_freed_error():
    x, y, g = _leaves()
    sc = _warm(_gelu, x, y)
    x.grad = y.grad = None
    out = sc(x, y)
    out.backward(g, retain_graph=True)
    first = x.grad.numpy().copy()
    out.backward(g)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
        out.backward(g)


def test_hooks_on_output_node_and_leaves():
    x, y, g = _leaves()
    sc = _warm(_gelu, x, y)
    want = _eager_grads(_gelu, x, y, g)
    x.grad = y.grad = None
    seen = []
    out = sc(x, y)
    out.retain_grad()
    out.register_hook(lambda gr: seen.append("tensor") or gr * 2)
    out.grad_fn.register_prehook(lambda go: seen.append("pre") or None)
    out.grad_fn.register_hook(lambda gi, go: seen.append("post") or None)
    hx = x.register_hook(lambda gr: seen.append("leaf") or gr + 1)
    y.register_post_accumulate_grad_hook(lambda t: seen.append("acc"))
    out.backward(g)
    hx.remove()
    # (torch 2.13's order: the node's edges in its slicer's merge order, y's first)
    assert seen == ["tensor", "pre", "post", "acc", "leaf"]
    np.testing.assert_allclose(out.grad.numpy(), 2 * g.numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 2 * want[0] + 1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y.grad.numpy(), 2 * want[1], rtol=1e-5, atol=1e-6)


def test_leaf_pre_hook_on_accumulate_grad():
    x, y, g = _leaves()
    sc = _warm(_gelu, x, y)
    x.grad = y.grad = None
    out = sc(x, y)
    acc = out.grad_fn.next_functions[0][0]      # (y's: torch 2.13's merge order)
    assert isinstance(acc, AccumulateGrad) and acc.variable is y
    h = acc.register_prehook(lambda go: (go[0] * 0,))
    out.backward(g)
    h.remove()
    np.testing.assert_array_equal(y.grad.numpy(), np.zeros_like(g.numpy()))


def test_in_place_write_of_saved_input_raises():
    x, y, g = _leaves()
    sc = _warm(_gelu, x.detach().requires_grad_(), y)
    xa = x.detach().clone().requires_grad_()
    xb = xa * 1                 # a non-leaf input, written in place after the call
    out = sc(xb, y)
    xb.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward(g)


def test_create_graph_double_backward():
    x, y, g = _leaves(seed=5)
    sc = _warm(_gelu, x, y)
    x.grad = y.grad = None
    (gx,) = gpujit.autograd.grad(sc(x, y).sum(), [x], create_graph=True)
    gx.sum().backward()
    x2 = x.detach().requires_grad_()
    (gx2,) = gpujit.autograd.grad(_gelu(x2, y.detach()).sum(), [x2], create_graph=True)
    gx2.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-4, atol=1e-5)
    # create_graph on backward itself: .grad has a grad_fn
    x.grad = y.grad = None
    sc(x, y).backward(g, create_graph=True)
    assert x.grad.grad_fn is not None


def test_no_grad_inference_and_non_tensor_arguments():
    x, y, _ = _leaves()
    sc = _warm(_gelu, x, y)
    with gpujit.no_grad():
        assert sc(x, y).grad_fn is None
    with gpujit.inference_mode():
        assert sc(x, y).grad_fn is None

    def scaled(a, s: float):
        return gpujit.sigmoid(a * s)

    ss = gpujit.jit.script(scaled)
    for _ in range(3):
        out = ss(x, 2.0)
    assert out.requires_grad
    x.grad = None
    out.sum().backward()
    xn = x.detach().numpy().astype(np.float64)
    s = 1 / (1 + np.exp(-2 * xn))
    np.testing.assert_allclose(x.grad.numpy(), 2 * s * (1 - s), rtol=1e-4, atol=1e-6)
    # no argument requires grad: the plain call, no grad_fn
    assert sc(x.detach(), y.detach()).grad_fn is None


def test_saved_tensor_hooks_and_anomaly_mode():
    x, y, g = _leaves()
    sc = _warm(_gelu, x, y)
    want = _eager_grads(_gelu, x, y, g)
    packed, unpacked = [], []

    def pack(t):
        packed.append(t)
        return t

    def unpack(t):
        unpacked.append(t)
        return t

    x.grad = y.grad = None
    with gpujit.autograd.graph.saved_tensors_hooks(pack, unpack):
        out = sc(x, y)
    assert packed
    out.backward(g)
    assert len(unpacked) == len(packed)
    np.testing.assert_allclose(x.grad.numpy(), want[0], rtol=1e-5, atol=1e-6)
    x.grad = y.grad = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with gpujit.autograd.detect_anomaly():
            sc(x, y).backward(g)
    np.testing.assert_allclose(x.grad.numpy(), want[0], rtol=1e-5, atol=1e-6)


def test_saved_tensor_ref_without_hooks():
    from gpujit.autograd.graph import SavedTensor
    t = gpujit.randn(3)
    s = SavedTensor(t, "MulBackward0", 0)
    assert s.ref() is t
    with gpujit.autograd.graph.saved_tensors_hooks(lambda a: ("p", a), lambda p: p[1]):
        s2 = SavedTensor(t, "MulBackward0", 0)
    assert s2.ref() is t and s2.tensor == ("p", t)


def test_custom_function_mark_dirty_still_versions():
    class Double(gpujit.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            a.mul_(2)
            ctx.mark_dirty(a)
            ctx.save_for_backward(a)
            return a

        @staticmethod
        def backward(ctx, go):
            (a,) = ctx.saved_tensors
            return go * 2

    x = gpujit.randn(3, requires_grad=True)
    z = x.clone()
    out = Double.apply(z)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])


def test_autograd_grad_and_two_roots_take_the_general_walk():
    x, y, g = _leaves()
    sc = _warm(_gelu, x, y)
    want = _eager_grads(_gelu, x, y, g)
    gx, gy = gpujit.autograd.grad(sc(x, y), [x, y], g)
    np.testing.assert_allclose(gx.numpy(), want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gy.numpy(), want[1], rtol=1e-5, atol=1e-6)
    assert x.grad is None
    x.grad = y.grad = None
    gpujit.autograd.backward([sc(x, y), sc(x, y)], [g, g])
    np.testing.assert_allclose(x.grad.numpy(), 2 * want[0], rtol=1e-5, atol=1e-6)


def test_broadcast_input_and_one_leaf_not_requiring_grad():
    rng = np.random.default_rng(7)
    x = gpujit.tensor(rng.standard_normal((3, 1)).astype(np.float32), requires_grad=True)
    y = gpujit.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    g = gpujit.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    sc = gpujit.jit.script(_chain)
    for _ in range(4):
        x.grad = None
        sc(x, y).backward(g)
    x2 = x.detach().requires_grad_()
    _chain(x2, y).backward(g)
    assert x.grad.shape == (3, 1)
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert y.grad is None


def test_threads_accumulate_into_one_leaf():
    x, y, g = _leaves()
    sc = _warm(_gelu, x, y)
    want = _eager_grads(_gelu, x, y, g)
    x.grad = y.grad = None
    errors = []

    def work():
        try:
            for _ in range(20):
                sc(x, y).backward(g)
        except Exception as e:          # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    np.testing.assert_allclose(x.grad.numpy(), 80 * want[0], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(y.grad.numpy(), 80 * want[1], rtol=1e-4, atol=1e-4)


def test_tensor_backward_binds_engine_once():
    import sys
    tensor_mod = sys.modules["gpujit.tensor"]
    x = gpujit.randn(3, requires_grad=True)
    (x * 2).sum().backward()
    assert tensor_mod._autograd_backward[0] is gpujit.autograd.backward
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])


def test_strict_fusion_and_autocast_still_take_run():
    x, y, g = _leaves()
    sc = _warm(_gelu, x, y)
    with gpujit.jit.strict_fusion():
        out = sc(x, y)
    assert type(out.grad_fn).__name__ == "CppFunction"
    with gpujit.autocast("cpu", dtype=gpujit.float16):
        out = sc(x, y)
        x2, y2 = x.detach().requires_grad_(), y.detach().requires_grad_()
        ref = _gelu(x2, y2)
    # op by op through the autocasting compute, as eager code in the region
    assert out.requires_grad and type(out.grad_fn).__name__ != "CppFunction"
    assert out.dtype == ref.dtype
    x.grad = y.grad = None
    out.backward(g.to(out.dtype))
    ref.backward(g.to(ref.dtype))
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-5, atol=1e-6)
