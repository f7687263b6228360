"""Fusion in calls that record gradients (gpujit/jit/autodiff.py): a compiled function
called with inputs (or parameters) that require grad runs its fusion groups' kernels, each
recording one backward node whose backward is a traced, fused graph of its own. The
gradients must be eager autograd's (NumPy-checked where it is simple), everywhere."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
import gpujit as torch
from gpujit.jit import autodiff
from gpujit.runtime.interpreter import GROUP_RUNNER, interpret

from test_kernels import add_node, fusible_ops, op_calls

_R = np.random.default_rng(7)


def _t(*shape, grad=True, dtype=np.float32, lo=-2.0, hi=2.0):
    a = _R.uniform(lo, hi, shape).astype(dtype)
    t = torch.from_numpy(a)
    return t.requires_grad_(True) if grad else t


def _runners(f, *args):
    """The DifferentiableGroups of the specialization that serves args."""
    exe = f._get_executable()
    spec = exe._active[exe.key(list(args))]
    return [g.node.meta[GROUP_RUNNER] for g in spec.groups if GROUP_RUNNER in g.node.meta]


def _backward_owners(f, *args):
    """What traces a backward in the specialization that serves args: its fusion groups
    outside DifferentiableGraph regions and the regions (kind-10 steps of the recording
    plan: a group inside one is differentiated by the region's backward, a48; a group
    holding ops TorchScript leaves out of regions runs as its ops, h48: not a step)."""
    exe = f._get_executable()
    spec = exe._active[exe.key(list(args))]
    from fusion_asserts import plan_steps
    regions, steps = [], set()
    for st in plan_steps(spec):
        if st[0] == 0:
            steps.add(st[5])
        elif st[0] == 10:
            regions.append(st[1])
    inside = {st[5] for r in regions for st in r.steps if st[0] == 0}
    return [g.node.meta[GROUP_RUNNER] for g in spec.groups
            if GROUP_RUNNER in g.node.meta and g.node not in inside and
            g.node in steps] + regions


def _grads(fn, inputs):
    inputs = list(inputs)
    tensors = [t for t in inputs if isinstance(t, torch.Tensor)]
    for t in tensors:
        t.grad = None
    out = fn(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    loss = sum(((o * (k + 1.0)).sum() for k, o in enumerate(outs)
                if o.dtype.is_floating_point), torch.zeros(()))
    loss.backward()
    res = [o.detach().numpy().copy() for o in outs] + [
        t.grad.numpy().copy() if t.grad is not None else None for t in tensors]
    for t in tensors:
        t.grad = None
    return res


def _check(fn, inputs, rtol=2e-5, atol=1e-6, calls=4):
    """Fused forward and backward (from the 2nd call) give eager's values and grads."""
    f = torch.jit.script(fn)
    want = _grads(fn, inputs)
    for _ in range(calls):
        got = _grads(f, inputs)
        for w, g in zip(want, got):
            if w is None:
                assert g is None
            else:
                np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    return f


def chain(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)


def gelu_plus(x, y):
    return torch.nn.functional.gelu(x, approximate="tanh") + y


def broadcasting(x, b):
    return (x * b).sigmoid() * 3.0 - b


def scalar_arg(x, y, alpha: float):
    return torch.exp(x * alpha) / (1.0 + y * y)


def two_outputs(x, y):
    a = (x + y).tanh()
    return a * 2.0, (a - x).square()


def with_matmul(x, w, b):
    h = torch.relu(x @ w + b)
    return (h * h).mean() + (h.sigmoid() * 2.0).sum()


def with_where(x, y):
    return torch.where(x > y, x * y, (x - y).abs()) + 1.0


def cast_inside(x, y):
    return (x.double() * y.double()).exp().float() * x


def same_input_twice(x):
    return (x * x).sin() + x


def lstm_cell(x, hx, cx, w_ih, w_hh, b_ih, b_hh):
    gates = x @ w_ih.t() + hx @ w_hh.t() + b_ih + b_hh
    i, f, g, o = gates.chunk(4, 1)
    i = torch.sigmoid(i)
    f = torch.sigmoid(f)
    g = torch.tanh(g)
    o = torch.sigmoid(o)
    cy = f * cx + i * g
    hy = o * torch.tanh(cy)
    return hy, cy


def concat(x, y):
    return torch.cat([x * 2.0, y.sigmoid()], 1).tanh() * 3.0


@pytest.mark.parametrize("fn, shapes", [
    (chain, [(6, 5), (6, 5)]),
    (gelu_plus, [(7,), (7,)]),
    (broadcasting, [(3, 4), (4,)]),
    (two_outputs, [(5, 3), (5, 3)]),
    (with_matmul, [(4, 3), (3, 5), (5,)]),
    (with_where, [(8,), (8,)]),
    (cast_inside, [(6,), (6,)]),
    (same_input_twice, [(9,)]),
    (concat, [(2, 3), (2, 4)]),
])
def test_gradients_of_fused_functions_are_eager_autograds(fn, shapes):
    inputs = [_t(*s) for s in shapes]
    f = _check(fn, inputs)
    assert _runners(f, *inputs), f"{fn.__name__}: no fusion group ran recording gradients"
    # the backward of each group (or of the region holding it) was traced once and runs
    # fused (a group of its own)
    for r in _backward_owners(f, *inputs):
        assert r.traced == 1
        bw = next(iter(r.backwards.values()))
        if getattr(r, "steps", None) is not None and not any(st[0] == 0 for st in r.steps):
            continue        # (a region without a group: with_matmul's mean + add)
        assert any(s.groups for s in bw.fn.specializations), r.name


def test_python_number_arguments_and_inputs_that_need_no_grad():
    x, y = _t(4, 4), _t(4, 4, grad=False)
    f = _check(scalar_arg, [x, y, 0.75], rtol=1e-4)
    # a new number is a new backward trace (numbers are constants of the traced graph)
    got = _grads(f, [x, y, -0.25])
    want = _grads(scalar_arg, [x, y, -0.25])
    for w, g in zip(want, got):
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-4)
    assert got[-1] is None         # y needs no gradient


def test_lstm_cell_chunk_group_backward():
    n, h = 3, 5
    inputs = [_t(n, 4), _t(n, h), _t(n, h), _t(4 * h, 4), _t(4 * h, h), _t(4 * h), _t(4 * h)]
    f = _check(lstm_cell, inputs, rtol=1e-4, atol=1e-5)
    assert _runners(f, *inputs)


def test_numpy_reference_for_the_chain():
    x, y = _t(50), _t(50)
    f = torch.jit.script(chain)
    xs, ys = x.detach().numpy().astype(np.float64), y.detach().numpy().astype(np.float64)
    t = np.tanh(xs * 0.5 + ys)
    s = 1 / (1 + np.exp(-(xs - ys)))
    gx = (1 - t * t) * 0.5 * s + t * s * (1 - s) + (xs > 0)
    gy = (1 - t * t) * s - t * s * (1 - s)
    for _ in range(3):
        x.grad = y.grad = None
        f(x, y).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(y.grad.numpy(), gy, rtol=1e-5, atol=1e-6)


def test_new_shapes_and_dtypes_get_their_own_backward():
    f = torch.jit.script(broadcasting)
    for shape, bshape, dtype in [((3, 4), (4,), np.float32), ((5, 2), (2,), np.float32),
                                 ((3, 4), (3, 1), np.float32), ((2, 6), (6,), np.float64),
                                 ((3, 4), (4,), np.float32)]:
        x, b = _t(*shape, dtype=dtype), _t(*bshape, dtype=dtype)
        want = _grads(broadcasting, [x, b])
        for _ in range(3):
            got = _grads(f, [x, b])
            for w, g in zip(want, got):
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_past_the_backward_cache_gradients_run_op_by_op(monkeypatch):
    monkeypatch.setattr(autodiff, "BACKWARD_CACHE", 1)
    f = torch.jit.script(chain)
    for n in (4, 5, 6):
        x, y = _t(n), _t(n)
        want = _grads(chain, [x, y])
        for _ in range(2):
            got = _grads(f, [x, y])
            for w, g in zip(want, got):
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    (r,) = _runners(f, x, y)
    assert r.traced == 1 and len(r.backwards) == 1


def test_double_backward_through_a_fused_group():
    def fn(x):
        return (x * x * x).sin() + x
    f = torch.jit.script(fn)
    x0 = _R.uniform(-1, 1, 6).astype(np.float64)
    for _ in range(3):
        x = torch.from_numpy(x0.copy()).requires_grad_(True)
        y = f(x)
        (g,) = torch.autograd.grad(y.sum(), [x], create_graph=True)
        (gg,) = torch.autograd.grad(g.sum(), [x])
        # d/dx sin(x^3) + x = 3x^2 cos(x^3) + 1;  d2 = 6x cos(x^3) - 9x^4 sin(x^3)
        np.testing.assert_allclose(g.detach().numpy(), 3 * x0 ** 2 * np.cos(x0 ** 3) + 1,
                                   rtol=1e-10)
        np.testing.assert_allclose(gg.numpy(), 6 * x0 * np.cos(x0 ** 3)
                                   - 9 * x0 ** 4 * np.sin(x0 ** 3), rtol=1e-10)


def test_backward_twice_and_inplace_changes_raise_as_pytorch():
    f = torch.jit.script(chain)
    x, y = _t(5), _t(5)
    for _ in range(2):
        f(x, y)
    out = f(x, y)
    assert out.grad_fn is not None
    s = out.sum()
    s.backward(retain_graph=True)
    s.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        s.backward()
    xl = x.detach().clone().requires_grad_(True)
    a = xl * 1.0
    out = f(a, y)
    with torch.no_grad():
        a.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_module_training_steps_match_eager():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(6, 8)
            self.fc2 = torch.nn.Linear(8, 3)

        def forward(self, x):
            h = self.fc1(x)
            h = torch.tanh(h * 0.5) * torch.sigmoid(h) + h.relu()
            return self.fc2(h).sigmoid() * 2.0 - 1.0

    torch.manual_seed(0)
    eager = Net()
    scripted = torch.jit.script(Net())
    scripted.load_state_dict(eager.state_dict())
    opt_e = torch.optim.SGD(eager.parameters(), lr=0.1)
    opt_s = torch.optim.SGD(scripted.parameters(), lr=0.1)
    xs = [torch.from_numpy(_R.standard_normal((4, 6)).astype(np.float32)) for _ in range(6)]
    for x in xs:
        for model, opt in ((eager, opt_e), (scripted, opt_s)):
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
    for (name, p), q in zip(eager.named_parameters(), scripted.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-4,
                                   atol=1e-6, err_msg=name)
    assert "TensorExprGroup" in str(scripted.forward.graph_for(xs[0]))


def test_traced_functions_and_no_grad_regions():
    x, y = _t(4, 3), _t(4, 3)
    tf = torch.jit.trace(chain, (x.detach(), y.detach()))
    for _ in range(3):
        got = _grads(tf, [x, y])
    want = _grads(chain, [x, y])
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)

    def part(x, y):
        with torch.no_grad():
            z = (x * 2.0).tanh() + 1.0
        return (z * y).sigmoid() * 2.0
    f = torch.jit.script(part)
    for _ in range(3):
        x.grad = y.grad = None
        out = f(x, y)
        out.sum().backward()
        assert x.grad is None
        z = (x.detach() * 2.0).tanh() + 1.0
        s = (z * y.detach()).sigmoid()
        np.testing.assert_allclose(y.grad.numpy(), (2 * s * (1 - s) * z).numpy(), rtol=1e-5,
                                   atol=1e-6)


def _sweep_values(lo, hi, shape=(3, 4)):
    x = _R.uniform(lo, hi, shape)
    y = _R.uniform(0.5, 1.5, shape) * _R.choice([-1.0, 1.0], shape)
    z = _R.uniform(0.5, 1.5, shape)
    m = _R.random(shape) < 0.5
    return x, y, z, m, np.asarray(x.reshape(-1)[5])


_NAMES = ["x", "y", "z", "m", "c0"]


def _differentiable_calls(vals):
    """(op, args) of every fusible op with a derivative whose result and eager gradients
    are finite on vals (float64 x, y, z that require grad)."""
    from gpujit.ops import registry
    out = []
    for op in fusible_ops():
        d = op.derivative
        if d is None or isinstance(d, registry.NonDifferentiable) or \
                getattr(d, "not_implemented", None):    # (heaviside: backward raises)
            continue
        for args in op_calls(op):
            tens = {n: torch.from_numpy(v.copy()) for n, v in zip(_NAMES, vals)}
            for n in "xyz":
                tens[n].requires_grad_(True)
            try:
                with np.errstate(all="ignore"):
                    # (all arguments positionally, through autograd's recording call)
                    r = registry.dispatch_state.compute(
                        op, [tens[a] if isinstance(a, str) else a[1] for a in args])
            except Exception:
                continue
            if not (r.dtype.is_floating_point and r.requires_grad):
                continue
            gs = torch.autograd.grad(r.sum(), [tens[n] for n in "xyz"], allow_unused=True)
            if np.isfinite(r.detach().numpy()).all() and all(
                    g is None or np.isfinite(g.numpy()).all() for g in gs):
                out.append((op, args))
    return out


def _sweep_graph(vals, calls):
    """A graph whose one output is the sum of every call's result times its own weight
    (so that the calls make one fusion group)."""
    from gpujit.ir import Graph, TensorType
    g = Graph()
    ins = {n: g.add_input(n, TensorType.of(torch.from_numpy(v))) for n, v in zip(_NAMES, vals)}
    tens = {n: torch.from_numpy(v) for n, v in zip(_NAMES, vals)}
    add = registry_op("aten::add.Tensor")
    mul = registry_op("aten::mul.Tensor")
    total, total_v = None, None
    for k, (op, args) in enumerate(calls):
        r = op.eager(*[tens[a] if isinstance(a, str) else a[1] for a in args])
        v = add_node(g, op, [ins[a] if isinstance(a, str) else g.insert_constant(a[1])
                             for a in args], r)
        r = mul.eager(r, 1.0 + k / 8)
        v = add_node(g, mul, [v, g.insert_constant(1.0 + k / 8)], r)
        if total is None:
            total, total_v = r, v
        else:
            total = add.eager(total, r, 1)
            total_v = add_node(g, add, [total_v, v, g.insert_constant(1)], total)
    g.register_output(total_v)
    return g


def registry_op(name):
    from gpujit.ops import registry
    return registry.OPS[name]


def _input_grads(call, vals):
    xs = [torch.from_numpy(v.copy()) for v in vals]
    for t in xs[:3]:
        t.requires_grad_(True)
    out = call(*xs)
    return [None if g is None else g.numpy()
            for g in torch.autograd.grad(out.sum(), xs[:3], allow_unused=True)]


def _same(want, got):
    return all((a is None and b is None) or (a is not None and b is not None and
               np.allclose(a, b, rtol=1e-9, atol=1e-12)) for a, b in zip(want, got))


@pytest.mark.parametrize("lo, hi", [(-0.9, 0.9), (1.1, 2.5)])
def test_every_differentiable_fusible_op_of_the_registry(lo, hi, monkeypatch):
    """Every fusible op of the registry with a derivative, applied to float64 inputs (two
    value ranges, so that log, acosh, asin... each meet their domain) and summed into one
    fused group: the fused backward gives eager autograd's gradients. A failure names the
    ops whose gradients differ. (DifferentiableGraph regions off: a group holding ops
    TorchScript leaves out of regions runs as its ops where they are on, h48; the group's
    own backward is what runs without them.)"""
    from gpujit.runtime import executor
    monkeypatch.setattr(executor, "_whole_graph", [False])
    from gpujit.jit.objects import ScriptFunction
    vals = _sweep_values(lo, hi)
    calls = _differentiable_calls(vals)
    assert len(calls) > 40
    g = _sweep_graph(vals, calls)
    want = _input_grads(lambda *a: interpret(g, *a), vals)
    f = ScriptFunction(g, "sweep")
    for _ in range(3):
        got = _input_grads(f, vals)
    xs = [torch.from_numpy(v) for v in vals]
    runners = _runners(f, *xs)
    assert len(runners) == 1 and runners[0].traced == 1
    if not _same(want, got):        # name the ops whose gradient differs
        bad = []
        for call in calls:
            one = _sweep_graph(vals, [call])
            fo = ScriptFunction(one, "one")
            w = _input_grads(lambda *a: interpret(one, *a), vals)
            for _ in range(3):
                h = _input_grads(fo, vals)
            if not _same(w, h):
                bad.append(f"{call[0].name}{call[1]}")
        raise AssertionError(f"fused gradients differ from eager's for {bad}")


@pytest.mark.cuda
def test_fused_training_on_cuda_matches_cpu():
    from gpujit.testing import assert_consistent
    x, y = _t(64, 33), _t(33)
    fc = torch.jit.script(broadcasting)
    xc = x.detach().to("cuda").requires_grad_(True)
    bc = y.detach().to("cuda").requires_grad_(True)
    want = _grads(broadcasting, [x, y])
    for _ in range(3):
        for t in (xc, bc):
            t.grad = None
        out = fc(xc, bc)
        out.sum().backward()
    got_out = fc(xc, bc).detach()
    np.testing.assert_allclose(got_out.cpu().numpy(), want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xc.grad.cpu().numpy(), want[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bc.grad.cpu().numpy(), want[2], rtol=1e-5, atol=1e-5)
    assert _runners(fc, xc, bc)
    assert_consistent(lambda a, b: fc(a, b), x.detach(), y.detach())


def _data_dependent_sigmoid_derivative(grad, result):
    # reads its data as a Python value: a trace would bake the branch taken
    if float(result.sum()) > 0:
        return grad * result * (1 - result)
    return grad * (result - result * result)


def _outside_registry_sigmoid_derivative(grad, result):
    from gpujit.ops.registry import wrap
    r = result._data
    return grad * wrap(r * (1 - r), result._dtype, result._device)


@pytest.mark.parametrize("deriv", [_data_dependent_sigmoid_derivative,
                                   _outside_registry_sigmoid_derivative])
def test_derivatives_whose_trace_would_not_generalize_run_op_by_op(monkeypatch, deriv):
    """A backward whose trace reads data as Python values (TracerWarning) or computes
    outside the registry ops (a tensor constant) is not reused: the walk runs op by op."""
    from gpujit.ops import registry
    op = registry.OPS["aten::sigmoid"]
    monkeypatch.setattr(op, "derivative",
                        registry.Derivative(deriv, ("self",), ("result",)))

    def fn(x):
        return (x * 2.0).sigmoid() + x
    f = torch.jit.script(fn)
    for k in range(4):
        x = _t(6, lo=-1.0 + k, hi=1.0 + k)
        f(x).sum().backward()
        s = 1 / (1 + np.exp(-2.0 * x.detach().numpy().astype(np.float64)))
        np.testing.assert_allclose(x.grad.numpy(), 2 * s * (1 - s) + 1, rtol=1e-5)
    (r,) = _runners(f, x)
    assert r.traced == 0 and list(r.backwards.values()) == [False]


def _hooked(x, y):
    return torch.tanh(x) * y, torch.sigmoid(x) + y


def test_hooks_and_retain_grad_on_fused_group_outputs():
    # the group's backward node must list its outputs (out_refs), or the engine skips
    # their register_hook / retain_grad from the 2nd (fused) call on.  (An output that
    # the group also uses gets, as in TorchScript, only the gradient from outside.)
    f = torch.jit.script(_hooked)
    x0, y0 = _t(3, 4), _t(4)
    for k in range(4):
        got = []
        for fn in (f, _hooked):
            x, y = x0.detach().requires_grad_(), y0.detach().requires_grad_()
            a, b = fn(x, y)
            a.retain_grad()
            b.register_hook(lambda g: g * 3)
            (a.sum() + b.sum()).backward()
            got.append((a.grad, x.grad, y.grad))
            assert fn is _hooked or k == 0 or _runners(f, x, y)
        for g, w in zip(*got):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5)


def _reads_only_some(x, y, z):
    return torch.sigmoid(x) + y - z


def test_inplace_change_of_an_input_no_derivative_reads_is_no_error():
    # sigmoid's derivative reads its result (recomputed from x); add/sub read nothing, so
    # changing y or z in place after the call is no error (as in PyTorch)
    f = torch.jit.script(_reads_only_some)
    a0, b0, c0 = _t(5), _t(5), _t(5)
    for k in range(4):
        a, b, c = (t.detach().requires_grad_() for t in (a0, b0, c0))
        x, y, z = a * 1, b * 1, c * 1
        r = f(x, y, z)
        assert k == 0 or _runners(f, x, y, z)
        y.add_(1)
        z.mul_(2)
        r.sum().backward()
        s = 1 / (1 + np.exp(-a0.detach().numpy()))
        np.testing.assert_allclose(a.grad.numpy(), s * (1 - s), rtol=1e-5)
        np.testing.assert_allclose(b.grad.numpy(), np.ones(5))
        np.testing.assert_allclose(c.grad.numpy(), -np.ones(5))


def _in_thread(fn):
    import threading
    out = {}

    def run():
        try:
            out["r"] = fn()
        except Exception as e:      # noqa: BLE001 - handed to the test thread
            out["e"] = e
    th = threading.Thread(target=run)
    th.start()
    th.join()
    if "e" in out:
        raise out["e"]
    return out["r"]


def test_grad_mode_and_tracing_are_per_thread():
    # a backward (grad mode off while it runs) or a trace (a fused group's backward is
    # traced at its first fused backward) in one thread must not change what another
    # thread's ops record, as in PyTorch, where both states are thread-local
    f = torch.jit.script(chain)
    w = _t(4)
    seen = []
    x = _t(3, 4)
    y = f(x, w)
    y.register_hook(lambda g: seen.append(_in_thread(lambda: f(_t(3, 4), w).requires_grad)))
    y.sum().backward()
    assert seen == [True]
    with torch.no_grad():
        assert _in_thread(torch.is_grad_enabled)

    def traced(a):
        r = _in_thread(lambda: (w * 2).sum())
        assert r.requires_grad
        return a * 2
    tf = torch.jit.trace(traced, (_t(3, grad=False),))
    assert [n.kind for n in tf.graph.nodes if n.kind == "aten::mul"] == ["aten::mul"]


def test_version_error_names_what_the_changed_tensor_is():
    # the changed tensor is an input of the fused group's node, not its output: the
    # message names the tensor's own grad_fn without its Backward0 (as torch 2.13)
    f = torch.jit.script(chain)
    a, w = _t(3, 4), _t(4)
    f(a * 1, w)     # the profiling run (op by op: eager's relu saves its result, not x)
    for k in range(3):
        x = a * 1
        r = f(x, w)
        x.add_(1)
        with pytest.raises(RuntimeError) as info:
            r.sum().backward()
        msg = str(info.value)
        assert "which is output 0 of Add, is at version 1" in msg, msg
        assert "Hint: enable anomaly detection" in msg, msg


def _one_output_without_grad(x, w, y):
    return torch.tanh(x) * w, torch.sigmoid(y) * 2 + y


def test_group_outputs_computed_only_from_inputs_without_grad_do_not_require_it():
    f = torch.jit.script(_one_output_without_grad)
    x, w, y = _t(3, grad=False), _t(3), _t(3, grad=False)
    for k in range(4):
        a, b = f(x, w, y)
        assert k == 0 or _runners(f, x, w, y)
        assert a.requires_grad and not b.requires_grad and b.grad_fn is None
        np.testing.assert_allclose(b.numpy(), _one_output_without_grad(x, w, y)[1].numpy(),
                                   rtol=1e-6)
        (a * b).sum().backward()
        np.testing.assert_allclose(w.grad.numpy(), (torch.tanh(x) * b).numpy(), rtol=1e-6)
        w.grad = None


def test_backward_trace_leaves_the_process_warnings_state_alone(monkeypatch):
    # the trace of a fused backward collects its TracerWarnings per thread: swapping the
    # process-wide warnings filters (warnings.catch_warnings) while another thread swaps
    # them too left that thread's recorder installed for good (warnings then vanished)
    import threading
    import warnings
    from gpujit.frontend import tracer
    from gpujit.ops import registry
    op = registry.OPS["aten::sigmoid"]
    plain = op.derivative.fn
    entered, release, threads = threading.Event(), threading.Event(), []

    def other():
        with warnings.catch_warnings():
            entered.set()
            release.wait(5)

    def deriv(grad, result):
        if tracer.current_session() is not None and not threads:
            threads.append(threading.Thread(target=other))
            threads[0].start()
            entered.wait(5)
        return plain(grad, result)
    monkeypatch.setattr(op, "derivative", registry.Derivative(deriv, ("self",), ("result",)))
    f = torch.jit.script(chain)
    before = (warnings.showwarning, list(warnings.filters))
    for _ in range(3):
        f(_t(3, 4), _t(4)).sum().backward()
    release.set()
    threads[0].join()
    assert (warnings.showwarning, list(warnings.filters)) == before


def _through_an_integer_cast(x, y):
    return (x * 10).long().float() * y + 1, torch.tanh(x) * y


def test_group_outputs_reached_only_through_integer_casts_do_not_require_grad():
    f = torch.jit.script(_through_an_integer_cast)
    x, y = _t(3), _t(3, grad=False)
    for k in range(4):
        a, b = f(x, y)
        assert k == 0 or _runners(f, x, y)
        assert not a.requires_grad and b.requires_grad
        b.sum().backward()
        t = np.tanh(x.detach().numpy())
        np.testing.assert_allclose(x.grad.numpy(), (1 - t * t) * y.numpy(), rtol=1e-5)
        x.grad = None
