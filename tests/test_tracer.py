"""gpujit.trace / trace_module: graphs, code, module hierarchy, warnings and checks (the
tutorial's MyCell and the torch.jit page's examples)."""
import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit.ir import parse_ir
from gpujit.runtime.interpreter import interpret


def roundtrip(g):
    g.lint()
    text = str(g)
    assert str(parse_ir(text)) == text
    return text


def _flat(x):
    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, dict):
        x = list(x.values())
    return [t for e in x for t in _flat(e)]


def _clone(x):
    if isinstance(x, torch.Tensor):
        return x.clone()
    if isinstance(x, (tuple, list)):
        return type(x)(_clone(e) for e in x)
    if isinstance(x, dict):
        return {k: _clone(v) for k, v in x.items()}
    return x


def check_against_interpreter(traced, *args):
    """Call the traced object (the executor) and the node-by-node reference interpreter
    on the same graph and inputs; they must agree. Returns the executor's result."""
    if isinstance(traced, torch.jit.ScriptModule):
        traced = traced.forward
    lead = (traced.owner,) if hasattr(traced, "owner") else ()
    ref = interpret(traced.graph, *lead, *_clone(args))
    got = traced(*args)
    for a, b in zip(_flat(got), _flat(ref), strict=True):
        np.testing.assert_allclose(a.detach().cpu().detach().numpy(), b.detach().cpu().detach().numpy(),
                                   rtol=1e-6, atol=1e-6)
        assert a.dtype is b.dtype and a.shape == b.shape
    return got


run = check_against_interpreter


class MyCell(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


class MyDecisionGate(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x


class GatedCell(torch.nn.Module):
    def __init__(self, dg):
        super().__init__()
        self.dg = dg
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


def test_mycell_trace_graph_code_repr_and_results():
    torch.manual_seed(0)
    cell = MyCell()
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    traced = torch.jit.trace(cell, (x, h))
    assert repr(traced) == ("MyCell(\n  original_name=MyCell\n"
                            "  (linear): Linear(original_name=Linear)\n)")
    text = roundtrip(traced.graph)
    # (torch 2.13: the submodule's call is a method call; .inlined_graph has its ops)
    assert "aten::tanh" in text and "aten::linear" not in text
    # (torch 2.13's: the Linear's call took the name `self`, MyCell's is `self.1`)
    assert 'prim::GetAttr[name="linear"](%self.1)' in text
    assert 'Tensor = prim::CallMethod[name="forward"](%linear, %x)' in text
    assert "Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu)" in text
    inl = roundtrip(traced.inlined_graph)
    assert 'prim::GetAttr[name="weight"]' in inl and "aten::linear" in inl
    assert "scope: __module.linear #" in inl      # (torch 2.13; the root's ops have none)
    assert "aten::tanh(%" in inl and "scope: __module.linear" not in inl.split("aten::tanh")[1]
    assert "def forward(self,\n    x: Tensor,\n    h: Tensor) -> Tuple[Tensor, Tensor]:" in traced.code
    # the submodule has its own graph and code
    sub = traced.linear
    assert "aten::linear" in roundtrip(sub.graph)
    assert "def forward(self" in sub.code
    # same answers as eager, on the example inputs and on new ones
    for args in ((x, h), (torch.rand(3, 4), torch.rand(3, 4)), (torch.rand(5, 4), torch.rand(5, 4))):
        a, b = run(traced, *args)
        e, _ = cell(*args)
        np.testing.assert_allclose(a.detach().numpy(), e.detach().numpy(), rtol=1e-6)
        assert a.shape == e.shape
        check_against_interpreter(traced.forward, *args)
    # a deep copy is independent and works
    import copy
    twin = copy.deepcopy(traced)
    np.testing.assert_allclose(twin(x, h)[0].detach().numpy(), traced(x, h)[0].detach().numpy())
    assert twin.linear.weight is not traced.linear.weight
    # parameters are the module's own: a change shows in the traced module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cell.linear.weight.data = torch.zeros(4, 4)
    a, _ = traced(x, h)
    np.testing.assert_allclose(a.detach().numpy(), np.tanh(cell.linear.bias.detach().numpy() + h.detach().numpy()),
                               rtol=1e-6)


def test_nested_module_with_control_flow_warns_and_freezes_branch():
    torch.manual_seed(1)
    cell = GatedCell(MyDecisionGate())
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    with pytest.warns(torch.TracerWarning, match="Python boolean") as rec:
        traced = torch.jit.trace(cell, (x, h))
    assert any(w.filename == __file__ for w in rec)
    assert "(dg): MyDecisionGate(original_name=MyDecisionGate)" in repr(traced)
    text = roundtrip(traced.graph)
    assert "prim::If" not in text          # the branch taken was recorded, not the if
    assert "if " not in traced.code
    assert "aten::neg" not in text or "aten::neg" in text  # depends on the sign of the data
    a, _ = run(traced, x, h)
    e, _ = cell(x, h)
    np.testing.assert_allclose(a.detach().numpy(), e.detach().numpy(), rtol=1e-6)
    # the sum only decided the Python branch: torch 2.13's traced submodule graph drops it
    # (dead code), as the top graph does
    assert "aten::sum" not in roundtrip(traced.dg.graph)


def test_tuple_list_dict_inputs_and_outputs():
    def f(pair, items, d):
        a, b = pair
        return (a + items[0], [b * items[1]]), d["k"] - a

    pair = (torch.rand(2, 2), torch.rand(2, 2))
    items = [torch.rand(2, 2), torch.rand(2, 2)]
    d = {"k": torch.rand(2, 2)}
    with pytest.warns(torch.TracerWarning, match="list at the output"):   # (as torch: a warning)
        torch.jit.trace(f, (pair, items, d))
    traced = torch.jit.trace(f, (pair, items, d), strict=False)
    text = roundtrip(traced.graph)
    assert "prim::TupleUnpack" in text and "prim::ListUnpack" in text
    (s, [p]), m = run(traced, pair, items, d)
    np.testing.assert_allclose(s.detach().numpy(), pair[0].detach().numpy() + items[0].detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(p.detach().numpy(), pair[1].detach().numpy() * items[1].detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(m.detach().numpy(), d["k"].detach().numpy() - pair[0].detach().numpy(), rtol=1e-6)


def test_dict_output_needs_strict_false():
    def f(x):
        return {"y": x + 1}
    with pytest.raises(RuntimeError, match="dict at the output"):
        torch.jit.trace(f, torch.rand(2))
    traced = torch.jit.trace(f, torch.rand(2), strict=False)
    x = torch.rand(2)
    np.testing.assert_allclose(run(traced, x)["y"].detach().numpy(), x.detach().numpy() + 1, rtol=1e-6)


def loop_in_traced_fn(x):
    result = x[0]
    for i in range(x.size(0)):
        result = result * x[i]
    return result


def test_check_inputs_reports_graph_diff():
    inputs = (torch.rand(3, 4, 5),)
    check_inputs = [(torch.rand(4, 5, 6),), (torch.rand(2, 3, 4),)]
    with pytest.raises(torch.jit.TracingCheckError) as ei:
        torch.jit.trace(loop_in_traced_fn, inputs, check_inputs=check_inputs)
    msg = str(ei.value)
    assert "Graphs differed across invocations!" in msg
    assert "Graph diff:" in msg
    assert any(line.lstrip("\t").startswith("+ ") for line in msg.splitlines())
    assert "aten::select" in msg and "aten::mul" in msg


def test_check_inputs_pass_for_shape_independent_code():
    def f(x):
        return torch.relu(x * 2)
    traced = torch.jit.trace(f, (torch.rand(3, 4),),
                             check_inputs=[(torch.rand(5, 6),), (torch.rand(2),)])
    x = torch.randn(7)
    np.testing.assert_allclose(run(traced, x).detach().numpy(), np.maximum(x.detach().numpy() * 2, 0), rtol=1e-6)


def test_trace_check_runs_as_pytorch():
    # PyTorch's trace check runs, per input set, the trace again, the traced module, the
    # Python module and (outputs agreeing) the repeated trace; the check inputs replace
    # the example inputs. A training BatchNorm's statistics count each run: tracing one
    # left num_batches_tracked at 4 (PyTorch: 5), with two check inputs at 13 (PyTorch: 9)
    rng = np.random.default_rng(0)
    xs = [torch.tensor(rng.standard_normal((4, 3)).astype(np.float32)) for _ in range(3)]
    m = torch.nn.BatchNorm1d(3)
    torch.jit.trace(m, xs[0])
    assert m.num_batches_tracked.item() == 5
    m = torch.nn.BatchNorm1d(3)
    torch.jit.trace(m, xs[0], check_trace=False)
    assert m.num_batches_tracked.item() == 1
    m = torch.nn.BatchNorm1d(3)
    torch.jit.trace(m, xs[0], check_inputs=[(xs[1],), (xs[2],)])
    assert m.num_batches_tracked.item() == 9
    # running_mean after PyTorch's sequence of updates: x0, then per check input 4 times
    want = np.zeros(3)
    for x in [xs[0]] + [xs[1]] * 4 + [xs[2]] * 4:
        want = 0.9 * want + 0.1 * x.numpy().mean(0)
    np.testing.assert_allclose(m.running_mean.numpy(), want, rtol=1e-5, atol=1e-6)
    m = torch.nn.BatchNorm1d(3)
    torch.jit.trace_module(m, {"forward": xs[0]})
    assert m.num_batches_tracked.item() == 5


def test_inplace_on_view_warns_like_the_seed():
    def fill_row_zero(x):
        x[0] = torch.rand(*x.shape[1:2])
        return x

    with pytest.warns(torch.TracerWarning) as rec:
        torch.jit.trace(fill_row_zero, (torch.rand(3, 4),))
    msgs = [str(w.message) for w in rec]
    # torch 2.13 warns "live references to the data region" only with _force_outplace
    # (ensureUniqueIfOutOfPlaced); a plain trace gives the check's warnings alone (d40)
    assert not any("live references to the data region being modified" in m for m in msgs)
    assert any("does not match the corresponding output" in m for m in msgs)
    assert any(w.filename == __file__ for w in rec)


def test_item_and_tolist_warn():
    def f(x):
        s = x.sum().item()
        return x * s

    with pytest.warns(torch.TracerWarning, match="Python number"):
        torch.jit.trace(f, torch.rand(3), check_trace=False)

    def g(x):
        return x + len(x.tolist())

    with pytest.warns(torch.TracerWarning, match="a Python list"):
        torch.jit.trace(g, torch.rand(3), check_trace=False)

    def h(x):
        return x * int(x[0] > 2)

    with pytest.warns(torch.TracerWarning, match="Python integer"):
        torch.jit.trace(h, torch.rand(3), check_trace=False)


def test_untracked_tensor_becomes_constant_with_warning():
    c = torch.from_numpy(np.arange(3, dtype=np.float32))

    def f(x):
        return x + c

    with pytest.warns(torch.TracerWarning, match="recorded as a constant"):
        traced = torch.jit.trace(f, torch.rand(3))
    # (a tensor of at most 10 elements prints its values, as TorchScript's printAttribute)
    assert "prim::Constant[value= 0  1  2 [ CPUFloatType{3} ]]" in str(traced.graph)
    x = torch.rand(3)
    np.testing.assert_allclose(run(traced, x).detach().numpy(), x.detach().numpy() + np.arange(3), rtol=1e-6)


def test_tracing_a_method_captures_parameters_as_constants_error():
    lin = torch.nn.Linear(2, 2)

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lin

        def helper(self, x):
            return self.lin(x)

    m = M()
    # (as torch 2.13: a method other than forward is refused; trace_module traces it)
    with pytest.raises(AttributeError, match="trace doesn't support compiling individual"):
        torch.jit.trace(m.helper, torch.rand(1, 2))
    tm = torch.jit.trace_module(m, {"helper": torch.rand(1, 2)})
    x = torch.rand(1, 2)
    np.testing.assert_allclose(tm.helper(x).detach().numpy(), lin(x).detach().numpy(), rtol=1e-6)


def test_trace_module_several_methods():
    class Two(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", torch.tensor(3.0))

        def forward(self, x):
            return x * self.scale

        def shifted(self, x):
            return x + self.scale

    m = Two()
    tm = torch.jit.trace_module(m, {"forward": torch.rand(2), "shifted": torch.rand(2)})
    x = torch.rand(2)
    np.testing.assert_allclose(run(tm, x).detach().numpy(), x.detach().numpy() * 3, rtol=1e-6)
    np.testing.assert_allclose(run(tm.shifted, x).detach().numpy(), x.detach().numpy() + 3, rtol=1e-6)
    assert 'prim::GetAttr[name="scale"]' in roundtrip(tm.shifted.graph)
    assert "def shifted(self" in tm.shifted.code
    assert tm.schema.startswith("forward(")


def test_traced_function_called_inside_another_trace_is_a_call():
    def inner(x):
        return torch.sigmoid(x) * 2

    t_inner = torch.jit.trace(inner, torch.rand(3))

    def outer(x):
        return t_inner(x) + 1

    t_outer = torch.jit.trace(outer, torch.rand(3))
    # (torch 2.13 records prim::CallFunction of the traced function; inlined, its ops)
    assert "prim::CallFunction" in roundtrip(t_outer.graph)
    text = roundtrip(t_outer.inlined_graph)
    assert "aten::sigmoid" in text and "aten::add" in text
    x = torch.rand(3)
    ref = 1 / (1 + np.exp(-x.detach().numpy())) * 2 + 1
    np.testing.assert_allclose(run(t_outer, x).detach().numpy(), ref, rtol=1e-6)


def test_traced_function_objects_and_api_names():
    # torch.trace(matrix) is PyTorch's diagonal sum; gpujit.trace(fn, inputs) still traces
    assert torch.trace_module is torch.jit.trace_module
    assert torch.trace(torch.eye(3)).item() == 3.0
    assert issubclass(torch.TracerWarning, Warning)

    def f(x, y):
        return torch.matmul(x, y).relu()

    x, y = torch.randn(2, 3), torch.randn(3, 4)
    t = torch.jit.trace(f, (x, y))
    assert isinstance(t, torch.jit.ScriptFunction)
    assert t.schema == "f(Tensor x, Tensor y) -> Tensor"
    assert "def f(x: Tensor,\n    y: Tensor) -> Tensor:" in t.code
    assert str(t.inlined_graph) == str(t.graph)
    g = t.graph_for(x, y)
    g.lint()
    assert "aten::matmul" in str(g)
    np.testing.assert_allclose(t(x, y).detach().numpy(), np.maximum(x.detach().numpy() @ y.detach().numpy(), 0),
                               rtol=1e-5)
    np.testing.assert_allclose(t(x, y=y).detach().numpy(), np.maximum(x.detach().numpy() @ y.detach().numpy(), 0),
                               rtol=1e-5)
    check_against_interpreter(t, x, y)


def test_inplace_ops_on_inputs_are_replayed():
    def f(x):
        x.add_(1)
        return x * 2

    t = torch.jit.trace(f, torch.zeros(3), check_trace=False)
    x = torch.ones(3)
    out = t(x)
    np.testing.assert_allclose(x.detach().numpy(), [2, 2, 2])
    np.testing.assert_allclose(out.detach().numpy(), [4, 4, 4])


def test_dtype_and_rank_of_new_inputs_follow_eager():
    def f(x, y):
        return x * y + 1

    t = torch.jit.trace(f, (torch.rand(3), torch.rand(3)))
    xi, yd = torch.arange(3), torch.tensor(2.5, dtype=torch.float64)
    out = run(t, xi, yd)
    ref = f(xi, yd)
    assert out.dtype is ref.dtype
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy())


@pytest.mark.cuda
def test_traced_module_on_cuda_matches_eager_and_cpu():
    torch.manual_seed(0)
    cell = MyCell().cuda()
    x, h = torch.rand(3, 4, device="cuda"), torch.rand(3, 4, device="cuda")
    traced = torch.jit.trace(cell, (x, h))
    assert "device=cuda:0" in str(traced.graph)
    a, _ = traced(x, h)
    e, _ = cell(x, h)
    assert a.device == x.device
    np.testing.assert_allclose(a.cpu().detach().numpy(), e.cpu().detach().numpy(), rtol=1e-5, atol=1e-6)
    check_against_interpreter(traced.forward, x, h)
    torch.testing.assert_consistent(traced, x.cpu(), h.cpu())


@pytest.mark.cuda
def test_traced_function_on_cuda():
    def f(x, y):
        return torch.sigmoid(x * y) + torch.relu(x - y).sum(0)

    x, y = torch.randn(4, 5, device="cuda"), torch.randn(4, 5, device="cuda")
    t = torch.jit.trace(f, (x, y))
    np.testing.assert_allclose(t(x, y).cpu().detach().numpy(), f(x, y).cpu().detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    check_against_interpreter(t, x, y)


def test_sizes_read_while_tracing_stay_dynamic():
    """x.view(x.size(0), -1), torch.zeros(x.shape[0], ...) and int arithmetic on sizes are
    recorded (aten::size, aten::mul ...), so a model traced at one batch size serves
    another, as in TorchScript."""
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(12, 3)

        def forward(self, x):
            x = x.view(x.size(0), -1)
            z = torch.zeros(x.shape[0], 3)
            n = x.size(0) * 2 - 1
            return self.fc(x) + z, x.reshape(n + 1, -1)

    torch.manual_seed(0)
    m = Net()
    traced = torch.jit.trace(m, torch.rand(2, 3, 4))
    text = roundtrip(traced.graph)
    assert "aten::size" in text and "int[] = prim::ListConstruct" in text
    for batch in (5, 1, 7):
        x = torch.rand(batch, 3, 4)
        a, b = run(traced, x)
        ea, eb = m(x)
        assert a.shape == (batch, 3) and b.shape == eb.shape == (2 * batch, 6)
        np.testing.assert_allclose(a.detach().numpy(), ea.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b.detach().numpy(), eb.detach().numpy())
    # a size only compared or used by Python stays a constant of the trace
    def g(x):
        return x * 2 if x.size(0) > 2 else x
    t = torch.jit.trace(g, torch.rand(3), check_trace=False)
    assert "aten::mul" in str(t.graph)


def test_jit_disabled_by_environment(monkeypatch):
    def f(x):
        return x * 2

    m = MyCell()
    for var in ("GPUJIT_JIT", "PYTORCH_JIT"):
        monkeypatch.setenv(var, "0")
        assert torch.jit.trace(f, torch.rand(2)) is f
        assert torch.jit.trace(m, (torch.rand(3, 4), torch.rand(3, 4))) is m
        assert torch.jit.trace_module(m, {"forward": (torch.rand(3, 4),
                                                      torch.rand(3, 4))}) is m
        monkeypatch.delenv(var)
    assert isinstance(torch.jit.trace(f, torch.rand(2)), torch.jit.ScriptFunction)


def test_one_tensor_passed_for_two_parameters_traces_both():
    """trace(f, (x, x)): each parameter is its own graph input (torch's tracer makes the
    repeat a view), so the traced function serves two different tensors afterwards."""
    gpujit = torch
    x = gpujit.from_numpy(np.linspace(-2, 2, 12, dtype=np.float32))
    y = x * 3 + 1

    def f(a, b):
        return a * 2 - b

    t = gpujit.jit.trace(f, (x, x))
    uses = [n for n in t.graph.nodes if n.kind == "aten::mul"][0]
    assert uses.inputs[0] is t.graph.inputs[0]
    np.testing.assert_allclose(t(x, y).numpy(), (x * 2 - y).numpy())
    tt = gpujit.jit.trace(lambda p: p[0] - p[1], ((x, x),))
    np.testing.assert_allclose(tt((x, y)).numpy(), (x - y).numpy())


def test_submodule_called_with_numbers_and_keyword_arguments():
    """A submodule called with a Python number / None / keyword arguments traces (the
    values become constants of its graph, as in torch), where it raised TypeError."""
    class Sub(torch.nn.Module):
        def forward(self, x, k: int, mask=None):
            return x * k if mask is None else x * mask

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.s = Sub()

        def forward(self, x):
            return self.s(x, 2) + self.s(x, 3, mask=x)

    m, x = M(), torch.rand(3)
    t = torch.jit.trace(m, x)
    x2 = torch.rand(3)
    np.testing.assert_allclose(t(x2).numpy(), (x2 * 2 + x2 * x2).numpy(), rtol=1e-6)
    assert [v.debugName() for v in t.s.graph.inputs()][1:] == ["x"]
