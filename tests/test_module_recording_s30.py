"""Session 30 (a30): scripted modules with parameters record through the executor's
straight-line recording plan (runtime/executor.py _recording_plan: the module's GetAttr
chains read from its dicts and type-checked before any op, registry ops, groups, tuples).
Each test runs the same program eagerly (or checks NumPy / torch 2.13 values) and checks
that the plan, not the interpreter, served the calls where it should."""
import numpy as np
import pytest

import gpujit
import gpujit.nn as nn
import gpujit.nn.functional as F
from gpujit.runtime import executor as _executor


class MyCell(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = gpujit.tanh(self.linear(x) + h)
        return new_h, new_h


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(6, 8)
        self.l2 = nn.Linear(8, 8)
        self.l3 = nn.Linear(8, 3)

    def forward(self, x):
        return self.l3(gpujit.relu(self.l2(gpujit.relu(self.l1(x)))))


def _plan_calls(monkeypatch):
    """Count the calls the recording plan serves."""
    calls = [0]
    real = _executor._run_recording_plan

    def counted(plan, args):
        out = real(plan, args)
        if out is not _executor._UNFIT:
            calls[0] += 1
        return out
    monkeypatch.setattr(_executor, "_run_recording_plan", counted)
    return calls


def _pair(cls, seed=0):
    gpujit.manual_seed(seed)
    eager = cls()
    twin = cls()
    twin.load_state_dict(eager.state_dict())
    return eager, twin, gpujit.jit.script(twin)


def _grads(m):
    return [p.grad.numpy().copy() for p in m.parameters()]


def _zero(*ms):
    for m in ms:
        for p in m.parameters():
            p.grad = None


def test_cell_runs_the_plan_and_matches_eager(monkeypatch):
    calls = _plan_calls(monkeypatch)
    eager, twin, s = _pair(MyCell)
    x, h = gpujit.randn(3, 4), gpujit.randn(3, 4)
    for _ in range(4):
        _zero(eager, twin)
        a, b = s(x, h)
        assert a is b and a.requires_grad and a.grad_fn is not None
        a.sum().backward()
        e, _ = eager(x, h)
        e.sum().backward()
        np.testing.assert_allclose(a.detach().numpy(), e.detach().numpy(), rtol=1e-6)
        for g, w in zip(_grads(twin), _grads(eager)):
            np.testing.assert_allclose(g, w, rtol=1e-5)
    assert calls[0] >= 2


def test_mlp_sgd_steps_match_eager(monkeypatch):
    calls = _plan_calls(monkeypatch)
    eager, twin, s = _pair(MLP, 3)
    oe = gpujit.optim.SGD(eager.parameters(), lr=0.1)
    os_ = gpujit.optim.SGD(twin.parameters(), lr=0.1)
    x = gpujit.randn(5, 6)
    for _ in range(4):
        for m, o in ((eager, oe), (s, os_)):
            o.zero_grad()
            (m(x) ** 2).mean().backward()
            o.step()
    for p, q in zip(twin.parameters(), eager.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    assert calls[0] >= 2


def test_replaced_parameter_is_read_at_each_call(monkeypatch):
    calls = _plan_calls(monkeypatch)
    _, _, s = _pair(MyCell)
    x, h = gpujit.randn(3, 4), gpujit.randn(3, 4)
    for _ in range(3):
        s(x, h)
    new_w = nn.Parameter(gpujit.ones(4, 4))
    s.linear.weight = new_w
    before = calls[0]
    a, _ = s(x, h)
    assert calls[0] == before + 1
    want = np.tanh(x.numpy() @ np.ones((4, 4)) + s.linear.bias.detach().numpy() + h.numpy())
    np.testing.assert_allclose(a.detach().numpy(), want, rtol=1e-5)
    a.sum().backward()
    assert new_w.grad is not None
    np.testing.assert_allclose(new_w.grad.numpy(), ((1 - want ** 2).T @ x.numpy()), rtol=1e-5)


def test_parameter_of_another_dtype_leaves_the_plan():
    _, _, s = _pair(MyCell)
    x, h = gpujit.randn(3, 4), gpujit.randn(3, 4)
    for _ in range(3):
        s(x, h)
    s.linear.weight = nn.Parameter(gpujit.ones(4, 4, dtype=gpujit.float64))
    # eager F.linear of float32 x and a float64 weight refuses: the same error
    with pytest.raises(RuntimeError) as scripted:
        s(x, h)
    with pytest.raises(RuntimeError) as eager:
        F.linear(x, s.linear.weight, s.linear.bias)
    # (scripted: TorchScript's traceback text ending in the op's error, as torch 2.13)
    assert str(scripted.value).splitlines()[-1] == "RuntimeError: " + str(eager.value)
    s.double()
    a, _ = s(x.double(), h.double())
    assert a.dtype is gpujit.float64 and a.requires_grad


def test_requires_grad_toggled_and_no_grad():
    _, twin, s = _pair(MyCell)
    x, h = gpujit.randn(3, 4), gpujit.randn(3, 4)
    for _ in range(3):
        assert s(x, h)[0].requires_grad
    for p in twin.parameters():
        p.requires_grad_(False)
    a, _ = s(x, h)
    assert not a.requires_grad and a.grad_fn is None
    twin.linear.bias.requires_grad_(True)
    a, _ = s(x, h)
    assert a.requires_grad
    a.sum().backward()
    assert twin.linear.weight.grad is None and twin.linear.bias.grad is not None
    with gpujit.no_grad():
        assert not s(x, h)[0].requires_grad
    with gpujit.inference_mode():
        assert not s(x, h)[0].requires_grad


def test_new_shapes_and_ranks_stay_right():
    eager, _, s = _pair(MyCell)
    for shape in [(3, 4), (3, 4), (3, 4), (7, 4), (2, 5, 4), (2, 5, 4), (4,)]:
        x, h = gpujit.randn(*shape), gpujit.randn(*shape)
        a, _ = s(x, h)
        np.testing.assert_allclose(a.detach().numpy(), eager(x, h)[0].detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
        assert a.requires_grad


def test_sequential_layer_norm_conv_and_module_list(monkeypatch):
    calls = _plan_calls(monkeypatch)
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 3, padding=1)
            self.seq = nn.Sequential(nn.Linear(5, 5), nn.Tanh(), nn.LayerNorm(5))
            self.layers = nn.ModuleList([nn.Linear(5, 5) for _ in range(3)])

        def forward(self, x):
            y = self.seq(self.conv(x))
            for layer in self.layers:
                y = gpujit.sigmoid(layer(y)) * 2.0 + y
            return y

    eager, twin, s = _pair(Net, 5)
    x = gpujit.randn(2, 2, 4, 5)
    for _ in range(4):
        _zero(eager, twin)
        out = s(x)
        out.pow(2).sum().backward()
        e = eager(x)
        e.pow(2).sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), e.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        for g, w in zip(_grads(twin), _grads(eager)):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    assert calls[0] >= 2


def test_train_eval_switch():
    class Drop(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 4)
            self.drop = nn.Dropout(0.5)

        def forward(self, x):
            return self.drop(self.linear(x))

    eager, twin, s = _pair(Drop)
    x = gpujit.randn(64, 4)
    s.eval()
    eager.eval()
    for _ in range(3):
        np.testing.assert_allclose(s(x).detach().numpy(), eager(x).detach().numpy(),
                                   rtol=1e-6)
    s.train()
    out = s(x)
    zeros = (out.detach().numpy() == 0).mean()
    assert 0.2 < zeros < 0.8 and out.requires_grad
    s.eval()
    np.testing.assert_allclose(s(x).detach().numpy(), eager(x).detach().numpy(), rtol=1e-6)


def test_forward_hooks_and_tensor_hooks():
    _, twin, s = _pair(MyCell)
    # a scripted module takes no Python hooks (torch 2.13: "register_forward_hook is not
    # supported on ScriptModules"; hooks registered before scripting are compiled in)
    with pytest.raises(RuntimeError, match="register_forward_pre_hook is not supported on "
                                           "ScriptModules"):
        s.register_forward_pre_hook(lambda m, inp: None)
    with pytest.raises(RuntimeError, match="register_forward_hook is not supported on "
                                           "ScriptModules"):
        s.register_forward_hook(lambda m, inp, out: None)
    x, h = gpujit.randn(3, 4), gpujit.randn(3, 4)
    for _ in range(3):
        a, _ = s(x, h)
    got = []
    a.register_hook(lambda g: got.append(g.numpy().copy()))
    (a * 3).sum().backward()
    np.testing.assert_allclose(got[0], np.full((3, 4), 3.0))


def test_retain_graph_create_graph_and_in_place_on_saved():
    _, twin, s = _pair(MyCell)
    x, h = gpujit.randn(3, 4), gpujit.randn(3, 4, requires_grad=True)
    for _ in range(3):
        a, _ = s(x, h)
    a.sum().backward(retain_graph=True)
    g1 = twin.linear.bias.grad.numpy().copy()
    a.sum().backward()
    np.testing.assert_allclose(twin.linear.bias.grad.numpy(), 2 * g1, rtol=1e-6)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
        a.sum().backward()
    # create_graph: d/dh of sum(tanh(z)) is 1 - tanh^2; its gradient again
    a, _ = s(x, h)
    (gh,) = gpujit.autograd.grad(a.sum(), h, create_graph=True)
    t = a.detach().numpy()
    np.testing.assert_allclose(gh.detach().numpy(), 1 - t ** 2, rtol=1e-5)
    (ggh,) = gpujit.autograd.grad(gh.sum(), h)
    np.testing.assert_allclose(ggh.numpy(), -2 * t * (1 - t ** 2), rtol=1e-4, atol=1e-6)
    # tanh saves its result: writing it in place fails backward as in eager
    a, _ = s(x, h)
    a.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        a.sum().backward()


def test_saved_tensor_hooks_see_the_plan_saves():
    _, twin, s = _pair(MyCell)
    x, h = gpujit.randn(3, 4), gpujit.randn(3, 4)
    for _ in range(3):
        s(x, h)
    packed = []

    def pack(t):
        packed.append(t)
        return t
    with gpujit.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        a, _ = s(x, h)
    assert packed
    a.sum().backward()
    assert twin.linear.weight.grad is not None


def test_number_operand_node_names_as_scripted_code(monkeypatch):
    # aten::sum / aten::mul are also container ops' kinds (sum of a list): the registry
    # op runs, a number operand recorded as the Scalar overload (torch 2.13: MulBackward1)
    calls = _plan_calls(monkeypatch)
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(gpujit.ones(3, 3))

        def forward(self, x):
            return gpujit.mm(x, self.w).sum(1) * 2

    s = gpujit.jit.script(Scale())
    x = gpujit.randn(2, 3)
    names = {type(s(x).grad_fn).__name__ for _ in range(4)}
    assert names == {"MulBackward1"} and calls[0] >= 2
    # the interpreter (what ran such calls before the plan) names the node alike
    interpreted = gpujit.runtime.interpret(s.forward._get_executable().graph, s, x)
    assert type(interpreted.grad_fn).__name__ in names


def test_attribute_set_in_forward_is_not_planned():
    class Count(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 2)
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            return self.linear(x)

    s = gpujit.jit.script(Count())
    x = gpujit.randn(3, 2)
    for _ in range(4):
        assert s(x).requires_grad
    assert s.calls == 4


def test_strict_fusion_and_autocast_still_checked():
    _, _, s = _pair(MLP)
    x = gpujit.randn(5, 6)
    for _ in range(3):
        s(x)
    with gpujit.autocast("cpu", dtype=gpujit.float16):
        out = s(x)
    assert out.dtype is gpujit.float16 and out.requires_grad
    # (aten::linear does not fuse)
    with pytest.raises(gpujit.jit.StrictFusionError):
        with gpujit.jit.strict_fusion():
            s(x)


def test_matches_torch_mycell():
    torch = pytest.importorskip("torch")
    gpujit.manual_seed(0)
    m = MyCell()
    s = gpujit.jit.script(m)
    tm = torch.nn.Linear(4, 4)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(m.linear.weight.detach().numpy()))
        tm.bias.copy_(torch.tensor(m.linear.bias.detach().numpy()))
    rng = np.random.default_rng(30)     # (seeded, and an atol: a gradient near 0 has no
    x, h = rng.random((3, 4), np.float32), rng.random((3, 4), np.float32)  # relative bits)
    for _ in range(3):
        m.linear.weight.grad = None
        a, _ = s(gpujit.tensor(x), gpujit.tensor(h))
        a.sum().backward()
    tm.weight.grad = None
    ta = torch.tanh(tm(torch.tensor(x)) + torch.tensor(h))
    ta.sum().backward()
    np.testing.assert_allclose(a.detach().numpy(), ta.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.linear.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-6)
    assert type(a.grad_fn).__name__ == type(ta.grad_fn).__name__ or \
        "DifferentiableGraphBackward" in str(a.grad_fn.name())
