"""Autograd: backward/grad against NumPy derivatives, broadcasting, hooks, retain_grad,
grad modes, custom Function, double backward, the in-place and retain_graph errors, memory
across steps, and compiled (traced) functions recording gradients as eager does."""
import gc
import tracemalloc

import numpy as np
import pytest

import gpujit as torch
from gpujit import autograd


def f64(*shape, seed=0, requires_grad=True):
    a = np.random.default_rng(seed).uniform(-1, 1, size=shape)
    return torch.from_numpy(a).requires_grad_(requires_grad)


def test_chain_rule_against_numpy():
    x, w = f64(3, 4), f64(4, 2, seed=1)
    y = torch.sigmoid(x @ w).sum()
    assert y.grad_fn.name() == "SumBackward0"
    assert repr(y.grad_fn).startswith("<SumBackward0 object at 0x")
    assert y.grad_fn.next_functions[0][0].name() == "SigmoidBackward0"
    y.backward()
    xs, ws = x.detach().numpy(), w.detach().numpy()
    s = 1 / (1 + np.exp(-(xs @ ws)))
    np.testing.assert_allclose(x.grad.numpy(), (s * (1 - s)) @ ws.T, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), xs.T @ (s * (1 - s)), rtol=1e-12)
    assert x.is_leaf and not y.is_leaf and y.requires_grad


def test_leaf_grads_accumulate_and_broadcast_is_summed():
    a, b = f64(3, 1), f64(4, seed=2)
    (a * b).sum().backward()
    (a * b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * np.full((3, 1), b.detach().numpy().sum()))
    np.testing.assert_allclose(b.grad.numpy(), 2 * np.full(4, a.detach().numpy().sum()))
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)


def test_grads_accumulate_in_place_into_the_existing_grad_tensor():
    # as PyTorch's AccumulateGrad (no create_graph): a reference to p.grad sees later
    # backwards, and zero_grad(set_to_none=False) zeroes the tensor it holds; a new .grad
    # tensor was made on every backward, so held references went stale
    w = f64(3)
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    (w * x).sum().backward()
    g = w.grad
    (w * x * 2).sum().backward()
    assert w.grad is g
    np.testing.assert_allclose(g.numpy(), [3.0, 6.0, 9.0])
    opt = torch.optim.SGD([w], lr=0.1)
    opt.zero_grad(set_to_none=False)
    (w * x).sum().backward()
    assert w.grad is g
    np.testing.assert_allclose(g.numpy(), [1.0, 2.0, 3.0])
    # with create_graph the sum is a new tensor (it is recorded)
    (w * w).sum().backward(create_graph=True)
    assert w.grad is not g and w.grad.requires_grad


def test_non_scalar_backward_needs_gradient():
    x = f64(3)
    y = x * 2
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()
    y.backward(torch.ones(3, dtype=torch.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(torch.ones(2, dtype=torch.float64))


def test_autograd_grad_leaves_dot_grad_alone_and_allow_unused():
    x, y = f64(3), f64(3, seed=3)
    z = (x * x).sum()
    (gx,) = autograd.grad(z, x, retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), 2 * x.detach().numpy())
    assert x.grad is None
    with pytest.raises(RuntimeError, match="not have been used in the graph"):
        autograd.grad(z, [x, y], retain_graph=True)
    gx2, gy = autograd.grad(z, [x, y], allow_unused=True)
    assert gy is None and np.allclose(gx2.numpy(), gx.numpy())


def test_backward_twice_needs_retain_graph():
    x = f64(3)
    y = torch.tanh(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (1 - np.tanh(x.detach().numpy()) ** 2))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_hooks_and_retain_grad():
    x = f64(3)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x * 3
    h.retain_grad()
    h.register_hook(lambda g: g * 10)          # replaces the gradient flowing on
    h.sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [10, 10, 10])
    np.testing.assert_allclose(x.grad.numpy(), [30, 30, 30])
    np.testing.assert_allclose(seen[0], [30, 30, 30])
    handle = x.register_hook(lambda g: g * 0)
    handle.remove()
    with pytest.raises(RuntimeError, match="doesn't require"):
        torch.ones(2).register_hook(lambda g: g)


def test_grad_modes():
    x = f64(2)
    with torch.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    with torch.no_grad():
        with torch.enable_grad():
            assert (x * 2).requires_grad
    torch.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        torch.set_grad_enabled(True)
    with torch.set_grad_enabled(False):
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()
    with torch.inference_mode():
        assert not (x * 2).requires_grad

    @torch.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    assert (x * 2).requires_grad


def test_detach_and_requires_grad_rules():
    x = f64(2)
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.detach().numpy())
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad_(False)
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="floating point"):
        torch.arange(3).requires_grad_()


def test_inplace_errors():
    x = f64(3)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    y = x * 1
    z = torch.sigmoid(y)          # saves its result
    z.mul_(2)                     # changes the saved result
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as ei:
        z.sum().backward()
    assert "which is output 0 of Sigmoid, is at version 1" in str(ei.value)   # (torch 2.13)
    # an in-place op whose input is not needed later is fine and differentiable
    a = x * 1
    a.mul_(3)
    a.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3, 3])


def test_custom_function():
    class Cube(autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k if hasattr(x, "__pow__") else None

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            return g * 3 * x * x * ctx.k, None

    x = f64(4)
    with torch.no_grad():
        pass
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy() ** 2)


def test_double_backward_gradient_penalty():
    x, w = f64(5, 3), f64(3, 1, seed=4)
    out = torch.tanh(x @ w).sum()
    (gx,) = autograd.grad(out, x, create_graph=True)
    penalty = (gx * gx).sum()
    penalty.backward()
    # d/dw sum_ij (w_j (1 - tanh(x_i.w)^2))^2, by finite differences
    xs, ws = x.detach().numpy(), w.detach().numpy()

    def pen(wv):
        t = np.tanh(xs @ wv)
        return (((1 - t ** 2) @ wv.T) ** 2).sum()
    eps = 1e-6
    num = np.zeros_like(ws)
    for i in range(ws.size):
        d = np.zeros_like(ws)
        d.flat[i] = eps
        num.flat[i] = (pen(ws + d) - pen(ws - d)) / (2 * eps)
    np.testing.assert_allclose(w.grad.numpy(), num, rtol=1e-5, atol=1e-8)
    assert autograd.gradgradcheck(lambda a, b: torch.sigmoid(a @ b).sum(), (x, w))


def test_gradcheck_catches_a_wrong_derivative():
    class Wrong(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3
    with pytest.raises(autograd.GradcheckError, match="Jacobian mismatch"):
        autograd.gradcheck(Wrong.apply, (f64(3),))


def test_saved_tensors_are_freed_across_steps():
    w = f64(64, 64)
    x = torch.from_numpy(np.random.default_rng(0).random((32, 64)))

    def step():
        loss = torch.tanh(x @ w).sum()
        loss.backward()
        w.grad = None

    # (warm-up past the one-time loads: tanh's backward loads ops/fma's numba ufunc after
    # 4 x 16384 elements of smaller float64 FMAs (32 steps of 2048), the sum's cascade
    # kernel (ops/reduction_cascade, a LazyKernel) after 4 x 65536 elements summed (128
    # steps), which also imports numpy.ma: run alone, 40 steps left both inside the
    # measured 1000)
    for _ in range(300):
        step()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(1000):
        step()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 200_000, f"memory grew by {grown} bytes over 1000 steps"


def test_traced_module_records_gradients_like_eager():
    class Cell(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(4, 4)

        def forward(self, x, h):
            return torch.tanh(self.linear(x) + h)

    torch.manual_seed(0)
    m = Cell()
    x, h = torch.rand(3, 4), torch.rand(3, 4, requires_grad=True)
    t = torch.jit.trace(m, (x, h))
    t(x, h).sum().backward()
    gw, gh = m.linear.weight.grad.numpy().copy(), h.grad.numpy().copy()
    m.zero_grad()
    h.grad = None
    m(x, h).sum().backward()
    np.testing.assert_allclose(gw, m.linear.weight.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gh, h.grad.numpy(), rtol=1e-6)
    with torch.no_grad():
        assert not t(x, h).requires_grad       # the generated fast path


@pytest.mark.cuda
def test_gradients_on_cuda_match_cpu():
    def loss_grads(dev):
        torch.manual_seed(0)
        lin = torch.nn.Linear(8, 3).to(dev)
        x = torch.rand(5, 8).to(dev)      # (the CUDA generator draws other numbers)
        torch.sigmoid(lin(x)).pow(2).mean().backward()
        return lin.weight.grad, lin.bias.grad

    cpu, gpu = loss_grads("cpu"), loss_grads("cuda")
    for a, b in zip(cpu, gpu):
        assert b.device.type == "cuda"
        np.testing.assert_allclose(a.numpy(), b.cpu().numpy(), rtol=1e-5, atol=1e-6)


def test_shape_only_derivatives_do_not_pin_their_input():
    """sum's backward needs only the input's shape: an in-place change of the input after
    the sum does not break backward (PyTorch keeps only the sizes too)."""
    x = f64(3)
    y = x * 1
    s = y.sum()
    y.add_(1)
    s.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 1, 1])


def test_gradients_given_to_two_leaves_are_not_shared():
    """add passes one gradient array to both inputs: each .grad must be its own, so an
    in-place change of one (an optimizer step, clipping) leaves the other alone."""
    a, b = f64(3), f64(3, seed=5)
    (a + b).sum().backward()
    a.grad.mul_(10)
    np.testing.assert_allclose(b.grad.numpy(), [1, 1, 1])
    g = torch.ones(3, dtype=torch.float64)
    c = f64(3, seed=6)
    (c * 1).backward(g)                   # a caller's gradient is never adopted
    c.grad.mul_(5)
    np.testing.assert_allclose(g.numpy(), [1, 1, 1])
    h = c * 1
    h.retain_grad()
    c.grad = None
    (h + 0).sum().backward()
    c.grad.mul_(7)
    np.testing.assert_allclose(h.grad.numpy(), [1, 1, 1])


def test_only_what_the_needed_gradients_read_is_saved():
    """mul / div / matmul / mm / bmm / addmm / linear keep only the operand the needed
    gradient reads (PyTorch saves per needed input too): changing the other one in place
    before backward is no error; changing a kept one still is."""
    a = torch.randn(3, requires_grad=True)
    w = torch.randn(3)
    x = a * 1
    r = x * w                       # only x needs grad: w is kept, x is not
    x.add_(1)
    r.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), w.numpy())
    for make in (lambda m, v: m @ v, lambda m, v: m.mm(v), lambda m, v: m / v.sum()):
        m = torch.randn(3, 3, requires_grad=True)
        v = torch.randn(3, 3) + 3.0
        y = m * 1
        out = make(y, v)
        y.add_(1)                   # y's own gradient reads v only
        out.sum().backward()
        assert m.grad is not None
    lin = torch.nn.Linear(3, 2)
    inp = torch.randn(4, 3)
    out = lin(inp)
    with torch.no_grad():
        lin.weight.add_(1.0)        # the input needs no gradient: the weight is not kept
    out.sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(),
                               np.tile(inp.numpy().sum(0), (2, 1)), rtol=1e-5)
    inp.requires_grad_(True)
    out = lin(inp)
    with torch.no_grad():
        lin.weight.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_detect_anomaly_raises_on_nan_and_keeps_the_forward_traceback():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        ctx = autograd.detect_anomaly()
    with ctx:
        assert torch.is_anomaly_enabled() and torch.is_anomaly_check_nan_enabled()
        y = x.sqrt()            # the line the warning must name
        assert "y = x.sqrt()" in y.grad_fn.metadata["traceback_"][-1]
        z = (y * 0).sum()
        with pytest.warns(UserWarning, match=r"(?s)Error detected in SqrtBackward0\. Traceback "
                                             r"of forward call that caused the error:\n.*"
                                             r"y = x\.sqrt\(\)"):
            with pytest.raises(RuntimeError, match=r"^Function 'SqrtBackward0' returned "
                                                   r"nan values in its 0th output\.$"):
                z.backward()
    assert not torch.is_anomaly_enabled()
    with autograd.set_detect_anomaly(True, check_nan=False):
        (x.sqrt() * 0).sum().backward()     # no NaN check: a NaN gradient, as PyTorch
    assert np.isnan(x.grad.numpy()[0])
    autograd.set_detect_anomaly(True)       # as a call it stays on
    assert torch.is_anomaly_enabled()
    autograd.set_detect_anomaly(False)
    assert "traceback_" not in x.exp().grad_fn.metadata


def test_saved_tensors_hooks_pack_and_unpack_what_autograd_saves():
    packed, unpacked = [], []

    def pack(t):
        packed.append((torch.is_grad_enabled(), t.grad_fn is not None))
        return t * 1

    def unpack(p):
        unpacked.append(torch.is_grad_enabled())
        return p

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with autograd.graph.saved_tensors_hooks(pack, unpack):
        y = x.exp()                 # saves its result (seen with its grad_fn)
        z = (y * y).sum()           # saves self and other
    assert packed == [(False, True)] * 3
    g, = autograd.grad(z, x, create_graph=True)
    assert unpacked == [True] * 3
    np.testing.assert_allclose(g.detach().numpy(), 2 * np.exp([2.0, 4.0]), rtol=1e-6)
    g.sum().backward()              # double backward through the unpacked values
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([2.0, 4.0]), rtol=1e-6)

    class Twice(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return g * a

    packed.clear()
    with autograd.graph.saved_tensors_hooks(pack, unpack):
        out = Twice.apply(x)
    assert len(packed) == 1
    x.grad = None
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0])

    with autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: 3):
        y = x.exp()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got "
                                        "result of type int"):
        y.sum().backward()
    with autograd.graph.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="^no hooks here$"):
            with autograd.graph.saved_tensors_hooks(pack, unpack):
                pass
        x.exp()


def test_save_on_cpu_keeps_the_version_check():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with autograd.graph.save_on_cpu(pin_memory=True):
        y = x * 3
        z = y * y
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])
    with autograd.graph.save_on_cpu():
        y = x * 3
        z = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_grad_layout_contract():
    # PyTorch's AccumulateGrad gives a dense leaf a .grad with the leaf's strides and any
    # other leaf a contiguous one, whatever layout the backward produced: y * x with x
    # channels_last made y.grad channels_last (y.grad.view(-1) then failed)
    base = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    x = torch.tensor(base).contiguous(memory_format=torch.channels_last).requires_grad_()
    y = torch.tensor(base).requires_grad_()
    (x * y + 1).relu().sum().backward()
    assert x.grad.stride() == (60, 1, 15, 3) and y.grad.stride() == (60, 20, 5, 1)
    y.grad.view(-1)
    f = torch.jit.script(lambda_mul_relu)
    for _ in range(3):
        x.grad = y.grad = None
        f(x, y).sum().backward()
        assert x.grad.stride() == (60, 1, 15, 3) and y.grad.stride() == (60, 20, 5, 1)
    a = torch.tensor(base[0, 0]).t().requires_grad_()            # strides (1, 5)
    b = torch.tensor(base[0, 0]).t().contiguous().requires_grad_()
    (a * b).sum().backward()
    assert a.grad.stride() == (1, 5) and b.grad.stride() == (4, 1)
    np.testing.assert_array_equal(a.grad.numpy(), b.detach().numpy())
    s = torch.randn(4, 6)[:, ::2].detach().requires_grad_()       # not dense: contiguous
    (s.t() * 2).sum().backward()
    assert s.grad.stride() == (3, 1)
    # create_graph: the copy is recorded
    c = torch.tensor(base).contiguous(memory_format=torch.channels_last).requires_grad_()
    w = torch.tensor(base).requires_grad_()
    (c * w).sum().backward(create_graph=True)
    assert w.grad.stride() == (60, 20, 5, 1) and w.grad.requires_grad
    c.grad = None
    w.grad.sum().backward()
    assert c.grad.stride() == (60, 1, 15, 3)
    np.testing.assert_array_equal(c.grad.numpy(), np.ones_like(base))


def lambda_mul_relu(x, y):
    return (x * y + 1).relu()


def test_leaf_grad_layout_contract():
    """A leaf's .grad is laid out as PyTorch's AccumulateGrad lays it out: with the leaf's
    strides when it is dense (a C-contiguous parameter reached by a gradient in a permuted
    operand's layout got that layout: p.grad.view(-1) raised), else C-contiguous; a
    retained non-leaf gradient is C-contiguous (it kept an expanded ones array)."""
    x = f64(4, 3, seed=1).detach().t()            # (3, 4) laid out transposed
    p = f64(3, 4, seed=2)                         # C-contiguous leaf
    (x * p).sum().backward()                      # x * p takes x's layout
    assert p.grad.stride() == (4, 1) and p.grad.view(-1).shape == (12,)
    np.testing.assert_allclose(p.grad.numpy(), x.numpy())
    w = f64(4, 3, seed=3).detach().t().requires_grad_()
    (w * f64(3, 4, seed=4, requires_grad=False)).sum().backward()
    assert w.grad.stride() == (1, 3)
    c = torch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
    c.requires_grad_()
    (c * 2).sum().backward()
    assert c.grad.stride() == (60, 1, 15, 3)
    s = f64(6, 4, seed=5).detach()[::2].requires_grad_()     # not dense: C-contiguous
    (s.t() * 3).sum().backward()
    assert s.grad.stride() == (4, 1)
    np.testing.assert_allclose(s.grad.numpy(), np.full((3, 4), 3.0))
    # create_graph: copied differentiably into the leaf's layout
    v = f64(4, 3, seed=6).detach().t().requires_grad_()
    (v * v * v).t().sum().backward(create_graph=True)
    assert v.grad.stride() == (1, 3) and v.grad.grad_fn is not None
    # retain_grad of a non-leaf: a C-contiguous copy
    z = f64(3, 4, seed=7).t().exp()
    z.retain_grad()
    z.sum().backward()
    assert z.grad.stride() == (3, 1)
    z.grad.add_(1)
    np.testing.assert_allclose(z.grad.numpy(), np.full((4, 3), 2.0))
