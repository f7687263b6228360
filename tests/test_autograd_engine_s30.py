"""s30 (j30): a node's saved output kept without its grad_fn (no reference cycle output ->
grad_fn -> saved output: a graph never run backward is freed when its last reference
goes, without the garbage collector), as PyTorch's SavedVariable keeps an output; the
engine's walk of chains and trees; recording's per-call costs. Expectations checked
against torch 2.13."""
import gc
import threading
import weakref

import numpy as np
import pytest

import gpujit as torch


@pytest.fixture
def no_gc():
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        r = a.exp()
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        r, = ctx.saved_tensors
        return g * r


class _Cell(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


_X = torch.randn(3, 4, requires_grad=True)
_MAKERS = {
    "relu": lambda: torch.relu(_X * 2),
    "sigmoid": lambda: (_X * 2).sigmoid(),
    "tanh": lambda: (_X * 2).tanh(),
    "exp_inplace": lambda: (_X * 2).exp_(),
    "sort": lambda: (_X * 2).sort(1),
    "softmax": lambda: (_X * 2).softmax(1),
    "function": lambda: _Exp.apply(_X * 1),
}


@pytest.mark.parametrize("name", sorted(_MAKERS))
def test_graph_saving_its_output_freed_without_gc(no_gc, name):
    y = _MAKERS[name]()
    first = y[0] if isinstance(y, tuple) else y
    r = weakref.ref(first.grad_fn)
    del y, first
    assert r() is None


def test_scripted_graphs_freed_without_gc(no_gc):
    cell = torch.jit.script(_Cell())

    @torch.jit.script
    def fn(a, b):
        return torch.sigmoid(a * b + 1).exp()

    h = torch.rand(3, 4)
    for _ in range(4):          # (profiling runs, then the optimized/fused graph)
        a, _ = cell(torch.rand(3, 4), h)
        r = weakref.ref(a.grad_fn)
        del a, _
        assert r() is None
        y = fn(_X, _X)
        r = weakref.ref(y.grad_fn)
        del y
        assert r() is None


def test_repro_of_the_brief(no_gc):
    y = torch.relu(torch.randn(4, requires_grad=True) * 2)
    r = weakref.ref(y.grad_fn)
    del y
    assert r() is None


def test_saved_output_gone_still_differentiates_twice():
    # torch 2.13: grad = exp(x), its grad again exp(x); the exp output itself is gone
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    g, = torch.autograd.grad(x.exp().sum(), x, create_graph=True)
    assert g.grad_fn.name() == "MulBackward0"
    np.testing.assert_allclose(g.detach().numpy(), np.exp([0.5, -1.0, 2.0]), rtol=1e-6)
    g2, = torch.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), np.exp([0.5, -1.0, 2.0]), rtol=1e-6)
    # sigmoid: d2/dx2 = s(1-s)(1-2s), through the saved output re-attached to its node
    x.grad = None
    s = x.sigmoid()
    g, = torch.autograd.grad(s.sum(), x, create_graph=True)
    del s
    g.sum().backward()
    sv = 1 / (1 + np.exp(-np.array([0.5, -1.0, 2.0])))
    np.testing.assert_allclose(x.grad.numpy(), sv * (1 - sv) * (1 - 2 * sv), rtol=1e-5)


def test_saved_output_modified_in_place_raises_alive_or_gone():
    x = torch.randn(4, requires_grad=True)
    y = (x * 2).relu()
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: "
                       r".*\[4\]\], which is output 0 of Relu, is at version 1; "
                       r"expected version 0"):
        y.sum().backward()
    # the output gone, written through a detach() sharing its version counter: torch 2.13
    # names the node that saved it ("which is output 0 of" it)
    y = (x * 2).exp()
    z = y.detach()
    loss = y.sum()
    del y
    z.add_(1)
    with pytest.raises(RuntimeError, match=r"which is output 0 of Exp, is at "
                       r"version 1; expected version 0"):
        loss.backward()


def test_saved_output_retain_graph_and_freed():
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    loss = x.sigmoid().sum()
    loss.backward(retain_graph=True)
    loss.backward()
    sv = 1 / (1 + np.exp(-np.array([0.5, -1.0, 2.0])))
    np.testing.assert_allclose(x.grad.numpy(), 2 * sv * (1 - sv), rtol=1e-6)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a "
                       "second time"):
        loss.backward()


def test_saved_output_hooks_see_it_once_with_its_grad_fn():
    x = torch.randn(4, requires_grad=True)
    calls = []

    def pack(t):
        calls.append(("pack", t.grad_fn.name() if t.grad_fn is not None else None))
        return t

    def unpack(t):
        calls.append("unpack")
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = (x * 2).exp()
    y.sum().backward()
    assert calls == [("pack", "ExpBackward0"), "unpack"]      # (torch 2.13)


def test_function_saved_output_unpacks_with_its_node():
    seen = []

    class F(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            r = a.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            r, = ctx.saved_tensors
            seen.append((r.requires_grad, type(r.grad_fn).__name__))
            return g * r
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    y = F.apply(x * 1)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]), rtol=1e-6)
    assert seen == [(True, "FBackward")]        # (torch 2.13)
    # the output gone before backward: same gradient, from the kept memory
    x.grad = None
    loss = F.apply(x * 1).sum()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]), rtol=1e-6)


def test_walk_order_and_leaves_as_torch():
    # the order the nodes run in (pre-hooks) and each leaf accumulated once, torch 2.13's
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    w = torch.tensor([1.5, 2.0, -0.5], requires_grad=True)
    order = []
    y = x * w
    a = y.exp()
    b = y.sin()
    c = (a * w).sum() + b.sum() + (x * 3).sum()

    def walk(n, seen):
        if n is None or n in seen:
            return
        seen.add(n)
        n.register_prehook(lambda g, n=n: order.append(n.name()))
        for m, _ in n.next_functions:
            walk(m, seen)
    walk(c.grad_fn, set())
    cnt = []
    x.register_post_accumulate_grad_hook(lambda p: cnt.append("x"))
    w.register_post_accumulate_grad_hook(lambda p: cnt.append("w"))
    c.backward()
    assert order == ["AddBackward0", "SumBackward0", "MulBackward0", "AddBackward0",
                     "SumBackward0", "SumBackward0", "MulBackward0", "SinBackward0",
                     "ExpBackward0", "MulBackward0", "torch::autograd::AccumulateGrad",
                     "torch::autograd::AccumulateGrad"]
    assert cnt == ["x", "w"]
    xv, wv = np.array([0.5, -1.0, 2.0]), np.array([1.5, 2.0, -0.5])
    yv = xv * wv
    np.testing.assert_allclose(x.grad.numpy(), (np.exp(yv) * wv + np.cos(yv)) * wv + 3,
                               rtol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), np.exp(yv) * wv * xv + np.exp(yv)
                               + np.cos(yv) * xv, rtol=1e-5)


def test_chain_walk_hooks_retain_grad_and_grad():
    torch.manual_seed(0)
    lin = torch.nn.Linear(4, 3)
    x = torch.randn(2, 4)
    h = lin(x)
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(tuple(g.shape)))
    r = torch.relu(h)
    loss = (r * r).sum()
    gw, = torch.autograd.grad(loss, lin.weight, retain_graph=True)
    loss.backward()
    assert seen == [(2, 3), (2, 3)]
    hv = x.numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    gh = 2 * np.maximum(hv, 0)
    # (torch 2.13: autograd.grad fills a retained .grad too: twice the gradient)
    np.testing.assert_allclose(h.grad.numpy(), 2 * gh, rtol=1e-6)
    np.testing.assert_allclose(lin.weight.grad.numpy(), gh.T @ x.numpy(), rtol=1e-5)
    np.testing.assert_allclose(gw.numpy(), gh.T @ x.numpy(), rtol=1e-5)
    np.testing.assert_allclose(lin.bias.grad.numpy(), gh.sum(0), rtol=1e-5)


def test_sum_backward_raw_same_as_formula():
    # SumBackward0 without create_graph runs expand's impl on the array: the same values
    # and strides as the recorded formula's expand
    x = torch.randn(3, 1, 4, requires_grad=True)
    (x * 1).sum().backward()
    g1 = x.grad
    x.grad = None
    g2, = torch.autograd.grad((x * 1).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g1.numpy(), g2.detach().numpy())
    assert g1.shape == (3, 1, 4) and g1.stride() == (4, 4, 1)


def test_backward_from_threads():
    torch.manual_seed(0)
    lin = torch.nn.Linear(8, 8)
    xs = [torch.randn(4, 8) for _ in range(4)]
    errors = []

    def run(x):
        try:
            for _ in range(10):
                torch.tanh(lin(x)).sum().backward()
        except Exception as e:      # noqa: BLE001
            errors.append(e)
    ts = [threading.Thread(target=run, args=(x,)) for x in xs]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    want = sum(10 * ((1 - np.tanh(x.numpy() @ w.T + b) ** 2).T @ x.numpy()) for x in xs)
    np.testing.assert_allclose(lin.weight.grad.numpy(), want, rtol=1e-4, atol=1e-5)
