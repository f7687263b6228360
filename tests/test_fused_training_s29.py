"""Session 29: the per-step cost of a fused training step (a scripted function's fusion
group recording one backward node, the engine's walk, the gradients' layout) was cut;
these check that the faster paths give the gradients and behaviour of the general ones."""
import numpy as np
import pytest

import gpujit
from gpujit.autograd import engine


def _chain(x, y):
    return gpujit.tanh(x * 0.5 + y) * gpujit.sigmoid(x - y) + gpujit.relu(x)


def _gelu(x, y):
    return gpujit.nn.functional.gelu(x, approximate="tanh") + y


def _leaves(n=64, seed=0):
    rng = np.random.default_rng(seed)
    hx = rng.standard_normal(n, dtype=np.float32)
    hy = rng.standard_normal(n, dtype=np.float32)
    return (gpujit.tensor(hx, requires_grad=True), gpujit.tensor(hy, requires_grad=True),
            gpujit.tensor(rng.standard_normal(n, dtype=np.float32)))


@pytest.mark.parametrize("fn", [_chain, _gelu])
def test_fused_steps_match_eager_and_accumulate(fn):
    x, y, g = _leaves()
    fn(x, y).backward(g)
    want = (x.grad.numpy().copy(), y.grad.numpy().copy())
    sc = gpujit.jit.script(fn)
    for i in range(4):          # profiling, compile, then the recorded plan's calls
        x.grad = y.grad = None
        out = sc(x, y)
        if i >= 2:
            assert type(out.grad_fn).__name__ == "CppFunction"
        out.backward(g)
        np.testing.assert_allclose(x.grad.numpy(), want[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(y.grad.numpy(), want[1], rtol=1e-5, atol=1e-6)
    # without clearing: summed into .grad in place, and .grad is no one else's array
    gx = x.grad
    sc(x, y).backward(g)
    assert x.grad is gx
    np.testing.assert_allclose(x.grad.numpy(), 2 * want[0], rtol=1e-5, atol=1e-6)
    assert not np.shares_memory(y.grad.numpy(), g.numpy())


def test_fused_step_only_one_input_requires_grad():
    x, y, g = _leaves()
    yc = y.detach()
    sc = gpujit.jit.script(_chain)
    for _ in range(3):
        x.grad = None
        sc(x, yc).backward(g)
    x2 = x.detach().requires_grad_()
    _chain(x2, yc).backward(g)
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert yc.grad is None


def test_fused_step_number_argument_and_bad_argument():
    def f(x, s: float):
        return gpujit.tanh(x * s) + x
    x, _, g = _leaves()
    sc = gpujit.jit.script(f)
    for s in (0.5, 0.5, 0.5, 2.0):
        x.grad = None
        sc(x, s).backward(g)
        x2 = x.detach().requires_grad_()
        f(x2, s).backward(g)
        np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-5, atol=1e-6)
    sc2 = gpujit.jit.script(_gelu)
    for _ in range(3):
        sc2(x, x)
    with pytest.raises(RuntimeError, match="Expected a value of type 'Tensor \\(inferred\\)' "
                                           "for argument 'y' but instead found type 'list'"):
        sc2(x, [1.0])


def test_fused_retain_graph_and_freed_graph():
    x, y, g = _leaves()
    sc = gpujit.jit.script(_gelu)
    for _ in range(3):
        sc(x, y)
    x.grad = y.grad = None
    out = sc(x, y)
    out.backward(g, retain_graph=True)
    first = x.grad.numpy().copy()
    out.backward(g)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
        out.backward(g)


def test_fused_node_hooks_and_tensor_hooks():
    x, y, g = _leaves()
    sc = gpujit.jit.script(_gelu)
    for _ in range(3):
        sc(x, y)
    x.grad = y.grad = None
    out = sc(x, y)
    seen = []
    out.grad_fn.register_prehook(lambda gs: seen.append("pre") or (gs[0] * 2,))
    out.grad_fn.register_hook(lambda gi, go: seen.append("post"))
    out.register_hook(lambda t: seen.append("tensor"))
    out.backward(g)
    assert seen == ["tensor", "pre", "post"]
    np.testing.assert_allclose(y.grad.numpy(), 2 * g.numpy())
    # another node of the same function has none of those hooks
    x.grad = y.grad = None
    sc(x, y).backward(g)
    np.testing.assert_allclose(y.grad.numpy(), g.numpy())
    assert seen == ["tensor", "pre", "post"]


def test_node_hook_dicts_and_metadata_are_per_node():
    x = gpujit.ones(3, requires_grad=True)
    a, b = x * 2, x * 3
    assert len(a.grad_fn._hooks) == 0 and len(a.grad_fn._pre_hooks) == 0
    h = a.grad_fn.register_hook(lambda gi, go: None)
    assert len(a.grad_fn._hooks) == 1 and len(b.grad_fn._hooks) == 0
    h.remove()
    assert len(a.grad_fn._hooks) == 0
    a.grad_fn.metadata["k"] = 1
    assert a.grad_fn.metadata == {"k": 1} and b.grad_fn.metadata == {}
    with gpujit.autograd.detect_anomaly():
        c = x * 4
    assert "traceback_" in c.grad_fn.metadata


def test_grad_mode_restored_when_a_hook_raises():
    x = gpujit.ones(3, requires_grad=True)
    y = x * 2

    def bad(g):
        raise ValueError("boom")
    y.register_hook(bad)
    with pytest.raises(ValueError, match="boom"):
        y.sum().backward()
    assert gpujit.is_grad_enabled()
    with gpujit.no_grad():
        z = (x * 2)
    assert not z.requires_grad


def test_create_graph_through_fused_group():
    x, y, g = _leaves(8)
    sc = gpujit.jit.script(_gelu)
    for _ in range(3):
        sc(x, y)
    (gx,) = gpujit.autograd.grad(sc(x, y), (x,), g, create_graph=True)
    assert gx.requires_grad
    x2 = x.detach().requires_grad_()
    (gx2,) = gpujit.autograd.grad(_gelu(x2, y), (x2,), g, create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), gx2.detach().numpy(), rtol=1e-5)
    (ggx,) = gpujit.autograd.grad(gx.sum(), (x,))
    (ggx2,) = gpujit.autograd.grad(gx2.sum(), (x2,))
    np.testing.assert_allclose(ggx.numpy(), ggx2.numpy(), rtol=1e-4, atol=1e-6)
    assert gpujit.is_grad_enabled()


def test_gradient_layout_fast_paths():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    g = gpujit.tensor(a)
    # C-contiguous leaf: a C-contiguous copy
    out = engine._layout_copy(g, np.zeros((3, 4), np.float32))
    assert out.flags.c_contiguous and not np.shares_memory(out, a)
    np.testing.assert_array_equal(out, a)
    # a transposed (dense) leaf: the leaf's strides
    leaf_t = np.zeros((4, 3), np.float32).T
    out = engine._layout_copy(g, leaf_t)
    assert out.strides == leaf_t.strides
    np.testing.assert_array_equal(out, a)
    # a size-1 dim with an odd stride in a C-contiguous leaf: laid out by the leaf's
    odd = np.lib.stride_tricks.as_strided(np.zeros(4, np.float32), (1, 4), (64, 4))
    g1 = gpujit.tensor(np.arange(4, dtype=np.float32).reshape(1, 4))
    out = engine._layout_copy(g1, odd)
    np.testing.assert_array_equal(out, g1.numpy())
    assert out.strides[1] == 4
    # obeys: equal strides of a C-contiguous leaf; not a transposed gradient
    assert engine._obeys_layout(a, np.zeros((3, 4), np.float32))
    assert not engine._obeys_layout(np.zeros((4, 3), np.float32).T, np.zeros((3, 4),
                                                                           np.float32))


def test_transposed_leaf_grad_layout():
    x = gpujit.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)).t().detach()
    x.requires_grad_()
    (x * 2).sum().backward()
    assert x.grad.stride() == x.stride()
    y = gpujit.ones(2, 3, requires_grad=True)
    (y * 2).sum().backward()
    assert y.grad.stride() == (3, 1)
