"""Scripted training steps: a straight-line scripted graph TorchScript's autodiff
differentiates records one DifferentiableGraphBackward (jit/graph_autodiff.py), with the
gradients, errors, hooks and retain_graph / create_graph behaviour of eager autograd;
cross_entropy's raw backward is its formula bit for bit. Behaviour only (no timings).
Expectations checked against torch 2.13."""
import numpy as np
import pytest

import gpujit
import gpujit.nn as nn
import gpujit.nn.functional as F


class MLP(nn.Module):
    def __init__(self, act=nn.Tanh):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 16), act(), nn.Linear(16, 16), act())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.body(x))


def _pair(cls=MLP, seed=0, **kw):
    gpujit.manual_seed(seed)
    eager = cls(**kw)
    twin = cls(**kw)
    twin.load_state_dict(eager.state_dict())
    return eager, gpujit.jit.script(twin)


def _warm(s, *args):
    for _ in range(3):          # profiling runs, then the optimized plan
        s(*args)


def _data(seed=0, n=8):
    rng = np.random.default_rng(seed)
    return (gpujit.from_numpy(rng.standard_normal((n, 2)).astype(np.float32)),
            gpujit.from_numpy(rng.integers(0, 3, n)))


@pytest.mark.parametrize("act", [nn.Tanh, nn.ReLU, nn.Sigmoid])
def test_mlp_one_node_and_eager_gradients(act):
    eager, s = _pair(act=act)
    x, y = _data()
    _warm(s, x)
    out = s(x)
    # torch 2.13: the scripted MLP's output after profiling is a DifferentiableGraph's
    assert type(out.grad_fn).__name__ == "CppFunction"
    assert out.grad_fn.name() == \
        "torch::jit::(anonymous namespace)::DifferentiableGraphBackward"
    # its edges: the parameters (the input requires no grad: no edge, as torch's)
    nf = out.grad_fn.next_functions
    assert len(nf) == 6 and all(type(n).__name__ == "AccumulateGrad" for n, _ in nf)
    F.cross_entropy(out, y).backward()
    F.cross_entropy(eager(x), y).backward()
    for p, q in zip(s.parameters(), eager.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out.detach().numpy(), eager(x).detach().numpy(), rtol=1e-6)


def test_adam_training_matches_eager():
    eager, s = _pair(seed=1)
    oe = gpujit.optim.Adam(eager.parameters(), lr=1e-2)
    os_ = gpujit.optim.Adam(s.parameters(), lr=1e-2)
    for i in range(8):
        x, y = _data(i, n=8 if i % 3 else 5)        # (a second shape: a new signature)
        for m, o in ((eager, oe), (s, os_)):
            o.zero_grad()
            F.cross_entropy(m(x), y).backward()
            o.step()
    for p, q in zip(s.parameters(), eager.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_input_gradient_and_reach():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x, z):
            return (self.lin(x).tanh() * z, z.exp() * 2.0)

    gpujit.manual_seed(0)
    m = Two()
    s = gpujit.jit.script(m)
    x = gpujit.randn(4, 3, requires_grad=True)
    z = gpujit.randn(4, 3, requires_grad=True)
    _warm(s, x, z)
    a, b = s(x, z)
    assert a.grad_fn is b.grad_fn and type(a.grad_fn).__name__ == "CppFunction"
    a.sum().backward()          # only a's gradient: z gets a's share alone
    ea, eb = m(x.detach().requires_grad_(), z.detach().requires_grad_())
    xe, ze = x.detach().requires_grad_(), z.detach().requires_grad_()
    ea, eb = m(xe, ze)
    ea.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(z.grad.numpy(), ze.grad.numpy(), rtol=1e-5, atol=1e-7)
    # b alone: x reaches only a, which got no gradient: x.grad stays as it was
    x.grad = None
    a, b = s(x, z)
    b.sum().backward()
    assert x.grad is None


def test_single_op_and_sum_graphs_stay_op_by_op():
    # torch 2.13: one linear is AddmmBackward0; mm then sum then * 2 is MulBackward1
    # (sum is not in TorchScript's autodiff)
    class Lin(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(3, 4)

        def forward(self, x):
            return self.l(x)

    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(gpujit.randn(3, 4))

        def forward(self, x):
            return gpujit.mm(x, self.w).sum(1) * 2

    x = gpujit.randn(2, 3)
    for cls, name in ((Lin, "AddmmBackward0"), (Scale, "MulBackward1")):
        s = gpujit.jit.script(cls())
        assert {type(s(x).grad_fn).__name__ for _ in range(4)} == {name}


def test_retain_graph_and_freed_graph_error():
    _, s = _pair()
    x, y = _data()
    _warm(s, x)
    loss = F.cross_entropy(s(x), y)
    loss.backward(retain_graph=True)
    g1 = [p.grad.numpy().copy() for p in s.parameters()]
    loss.backward()
    for p, g in zip(s.parameters(), g1):
        np.testing.assert_allclose(p.grad.numpy(), 2 * g, rtol=1e-5, atol=1e-7)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a "
                                           "second time"):
        loss.backward()


def test_create_graph_double_backward_matches_eager():
    from gpujit.jit.graph_autodiff import GraphBackward

    class Sq(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(3, 3)
            self.k = nn.Linear(3, 2)

        def forward(self, x):
            return self.k(self.l(x).tanh())

    gpujit.manual_seed(0)
    s = gpujit.jit.script(Sq())
    m = Sq()
    m.load_state_dict(s.state_dict())
    x = gpujit.randn(4, 3, requires_grad=True)
    _warm(s, x)
    out = s(x)
    assert isinstance(out.grad_fn, GraphBackward)
    (g,) = gpujit.autograd.grad(out.sum(), x, create_graph=True)
    g.pow(2).sum().backward()
    xe = x.detach().requires_grad_()
    (ge,) = gpujit.autograd.grad(m(xe).sum(), xe, create_graph=True)
    ge.pow(2).sum().backward()
    np.testing.assert_allclose(g.detach().numpy(), ge.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=1e-5, atol=1e-7)
    for p, q in zip(s.parameters(), m.parameters()):
        if q.grad is None:          # (k.bias: no second-order term reaches it)
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5,
                                       atol=1e-7)


def test_in_place_on_a_saved_parameter_or_output_raises():
    _, s = _pair()
    x, y = _data()
    _warm(s, x)
    out = s(x)
    loss = F.cross_entropy(out, y)
    with gpujit.no_grad():
        s.head.weight.mul_(2)       # linear's input gradient reads the weight
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    # the output tanh saved (a graph ending in tanh)

    class T(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(2, 2)

        def forward(self, x):
            return self.l(x).tanh()

    s2 = gpujit.jit.script(T())
    _warm(s2, x)
    o = s2(x)
    assert type(o.grad_fn).__name__ == "CppFunction"
    o.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        o.sum().backward()
    # an in-place change of the input, whose value no derivative reads (the weight's
    # gradient of the first linear reads x: it is read) raises too
    x2 = x.clone()
    o = s2(x2)
    x2.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        o.sum().backward()


def test_hooks_on_outputs_and_parameters():
    _, s = _pair()
    x, y = _data()
    _warm(s, x)
    seen = []
    out = s(x)
    out.retain_grad()
    out.register_hook(lambda g: seen.append(tuple(g.shape)))
    s.head.bias.register_hook(lambda g: g * 0)
    F.cross_entropy(out, y).backward()
    assert seen == [(8, 3)] and out.grad is not None
    assert np.all(s.head.bias.grad.numpy() == 0)


def test_no_grad_and_requires_grad_off():
    _, s = _pair()
    x, _ = _data()
    _warm(s, x)
    with gpujit.no_grad():
        assert s(x).grad_fn is None
    for p in s.parameters():
        p.requires_grad_(False)
    assert s(x).grad_fn is None and not s(x).requires_grad


def test_saved_tensor_hooks_and_anomaly_mode_run_op_by_op():
    _, s = _pair()
    x, _ = _data()
    _warm(s, x)
    packed = []
    with gpujit.autograd.graph.saved_tensors_hooks(lambda t: packed.append(1) or t,
                                                   lambda t: t):
        out = s(x)
    assert type(out.grad_fn).__name__ == "AddmmBackward0" and packed


def test_cross_entropy_raw_backward_is_the_formula():
    from gpujit.ops import registry as _reg
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        for red in ("mean", "sum"):
            x = rng.standard_normal((9, 4)).astype(dt)
            t = rng.integers(0, 4, 9)
            t[[1, 5]] = -100                       # ignored rows
            got, want = [], []
            for raw in (True, False):
                X = gpujit.from_numpy(x.copy()).requires_grad_()
                loss = F.cross_entropy(X, gpujit.from_numpy(t), reduction=red)
                d = loss.grad_fn.deriv
                keep = d.raw
                if not raw:
                    d.raw = None
                try:
                    loss.backward()
                finally:
                    d.raw = keep
                (got if raw else want).append(X.grad.numpy())
            assert got[0].dtype == dt
            np.testing.assert_array_equal(got[0], want[0])
    assert _reg is not None


def test_cross_entropy_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    t = rng.integers(0, 5, 6)
    t[2] = 3
    X = gpujit.from_numpy(x.copy()).requires_grad_()
    F.cross_entropy(X, gpujit.from_numpy(t), ignore_index=3).backward()
    Xt = torch.from_numpy(x.copy()).requires_grad_()
    torch.nn.functional.cross_entropy(Xt, torch.from_numpy(t), ignore_index=3).backward()
    np.testing.assert_allclose(X.grad.numpy(), Xt.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_graph_autodiff_off_switch(monkeypatch):
    from gpujit.runtime import executor
    monkeypatch.setattr(executor, "_whole_graph", [False])
    _, s = _pair()
    x, _ = _data()
    _warm(s, x)
    assert type(s(x).grad_fn).__name__ == "AddmmBackward0"


def test_graph_never_run_backward_is_freed_without_the_gc():
    import gc
    import weakref
    _, s = _pair()
    x, _ = _data()
    _warm(s, x)
    gc.disable()
    try:
        out = s(x)
        assert type(out.grad_fn).__name__ == "CppFunction"
        node = weakref.ref(out.grad_fn)
        ref = weakref.ref(out)
        del out
        assert ref() is None and node() is None
    finally:
        gc.enable()


class Gate(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x


class Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.dg = Gate()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = gpujit.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


def test_if_graph_runs_the_recording_plan_both_branches():
    gpujit.manual_seed(0)
    eager = Cell()
    s = gpujit.jit.script(Cell())
    s.load_state_dict(eager.state_dict())
    x, h = gpujit.randn(3, 4), gpujit.randn(3, 4)
    for _ in range(3):
        s(x, h)
    spec = s.forward._executable.specializations[0]
    assert spec.recording is not None and any(st[0] == 4 for st in spec.recording[4])
    taken = set()
    for sign in (100.0, -100.0, 100.0):     # (large: the bias does not decide the sign)
        xs = x * sign
        with gpujit.no_grad():
            taken.add(bool((eager.linear(xs)).sum() > 0))
        for m in (eager, s):
            for p in m.parameters():
                p.grad = None
        a, b = s(xs, h)
        assert a is b and type(a.grad_fn).__name__ == "CppFunction"
        a.sum().backward()
        e, _ = eager(xs, h)
        e.sum().backward()
        np.testing.assert_allclose(a.detach().numpy(), e.detach().numpy(), rtol=1e-6)
        for p, q in zip(s.parameters(), eager.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert taken == {True, False}


def test_comparison_of_a_tensor_requiring_grad():
    # torch 2.13: a comparison's result requires no grad, has no grad_fn; in place on a
    # leaf requiring grad: the leaf error
    x = gpujit.randn(3, requires_grad=True)
    y = x * 2
    for r in (x > 0, y.lt(0.5), gpujit.eq(y, y)):
        assert not r.requires_grad and r.grad_fn is None and r.dtype == gpujit.bool
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                                           "used in an in-place operation"):
        x.gt_(0)


class Loop(nn.Module):
    def __init__(self):
        super().__init__()
        self.ih = nn.Linear(3, 8)
        self.hh = nn.Linear(2, 8)

    def forward(self, xs, h, c):
        for t in range(xs.size(0)):
            g = self.ih(xs[t]) + self.hh(h)
            i, f, gg, o = g.chunk(4, 1)
            c = gpujit.sigmoid(f) * c + gpujit.sigmoid(i) * gpujit.tanh(gg)
            h = gpujit.sigmoid(o) * gpujit.tanh(c)
            if bool(h.sum() > 100.0):
                break
        return h, c


def test_loop_graph_runs_the_recording_plan_and_matches_eager():
    gpujit.manual_seed(0)
    eager = Loop()
    s = gpujit.jit.script(Loop())
    s.load_state_dict(eager.state_dict())
    h0, c0 = gpujit.zeros(4, 2), gpujit.zeros(4, 2)
    for n in (5, 5, 5, 3, 0, 5):        # (profiling, then the plan; other trip counts)
        xs = gpujit.randn(n, 4, 3)
        for m in (eager, s):
            for p in m.parameters():
                p.grad = None
        h, c = s(xs, h0, c0)
        he, ce = eager(xs, h0, c0)
        np.testing.assert_allclose(h.detach().numpy(), he.detach().numpy(), rtol=1e-5,
                                   atol=1e-7)
        if n == 0:
            assert h is h0 and not h.requires_grad
            continue
        (h.sum() + c.pow(2).sum()).backward()
        (he.sum() + ce.pow(2).sum()).backward()
        for p, q in zip(s.parameters(), eager.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4,
                                       atol=1e-6)
    spec = s.forward._executable.specializations[0]
    assert spec.recording is not None and any(st[0] == 5 for st in spec.recording[4])
