"""gpujit.script(module): recursive module scripting, the tutorial's programs (MyCell,
MyDecisionGate, MyRNNLoop holding a traced cell, WrapRNN traced around a scripted loop),
attributes, constants, containers, method calls, and the errors."""
from typing import Final, Optional

import numpy as np
import pytest

import gpujit as torch
from gpujit.frontend.script import FrontendError
from gpujit.ir import types as T

nn = torch.nn


def _np(t):
    return t.detach().numpy()


def _close(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
        return
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-6)


class MyDecisionGate(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x


class MyCell(nn.Module):
    def __init__(self, dg):
        super().__init__()
        self.dg = dg
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


def _inputs():
    torch.manual_seed(0)
    return torch.rand(3, 4) - 0.5, torch.rand(3, 4) - 0.5


# ---------------------------------------------------------------------- the tutorial

def test_scripted_gate_keeps_its_if_and_runs_both_branches():
    gate = MyDecisionGate()
    sg = torch.jit.script(gate)
    assert isinstance(sg, torch.jit.ScriptModule)
    assert repr(sg) == "RecursiveScriptModule(original_name=MyDecisionGate)"
    code = sg.code
    assert code.startswith("def forward(self,\n    x: Tensor)")
    assert "if " in code and "torch.neg(x)" in code
    g = sg.graph
    g.lint()
    assert isinstance(g.inputs[0].type, T.ClassType)
    assert g.inputs[0].debug_name == "self"
    assert str(g.inputs[0].type).endswith("MyDecisionGate")
    pos, neg = torch.ones(2, 2), -torch.ones(2, 2)
    _close(sg(pos), pos)
    _close(sg(neg), pos)
    _close(sg.forward(neg), gate(neg))


def test_scripted_cell_with_scripted_gate_matches_eager():
    sg = torch.jit.script(MyDecisionGate())
    cell = MyCell(sg)
    sc = torch.jit.script(cell)
    assert repr(sc) == ("RecursiveScriptModule(\n  original_name=MyCell\n"
                        "  (dg): RecursiveScriptModule(original_name=MyDecisionGate)\n"
                        "  (linear): RecursiveScriptModule(original_name=Linear)\n)")
    assert sc.dg is sg                       # an already scripted submodule is kept
    assert sc.linear.weight is cell.linear.weight
    text = str(sc.graph)
    assert 'prim::GetAttr[name="linear"](%self)' in text
    assert 'prim::CallMethod[name="forward"]' in text
    calls = [n for n in sc.graph.walk() if n.kind == "prim::CallMethod"]
    assert len(calls) == 2 and all("callee" in n.meta for n in calls)
    assert calls[0].meta["callee"] is sc.linear.forward.graph
    assert sc.linear._type.methods["forward"] is sc.linear.forward.graph
    assert "prim::CallMethod" not in str(sc.inlined_graph)
    x, h = _inputs()
    for _ in range(3):                       # profiling runs, then the optimized code
        _close(sc(x, h), cell(x, h))
        _close(sc(-x, h), cell(-x, h))


class MyRNNLoop(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


class WrapRNN(nn.Module):
    def __init__(self, loop):
        super().__init__()
        self.loop = loop

    def forward(self, xs):
        y, h = self.loop(xs)
        return torch.relu(y)


def _traced_cell():
    x, h = _inputs()
    cell = MyCell(torch.jit.script(MyDecisionGate()))
    with torch.no_grad():        # see the report: traced under grad, the gate's if is lost
        return cell, torch.jit.trace(cell, (x, h))


def test_script_loop_around_traced_cell():
    cell, traced = _traced_cell()
    eager = MyRNNLoop(cell)
    loop = torch.jit.script(MyRNNLoop(traced))
    assert loop.cell is traced
    code = loop.code
    assert code.startswith("def forward(self,\n    xs: Tensor)")
    assert "for i in range(torch.size(xs, 0)):" in code
    assert "(cell).forward(" in code
    inl = str(loop.inlined_graph)
    assert "prim::Loop" in inl and "prim::If" in inl and "prim::CallMethod" not in inl
    torch.manual_seed(1)
    xs = torch.rand(6, 3, 4) - 0.5
    for _ in range(3):
        _close(loop(xs), eager(xs))


def test_trace_wrapper_around_scripted_loop():
    cell, traced = _traced_cell()
    eager = WrapRNN(MyRNNLoop(cell))
    wrap = WrapRNN(torch.jit.script(MyRNNLoop(traced)))
    torch.manual_seed(2)
    xs = torch.rand(5, 3, 4) - 0.5
    with torch.no_grad():
        # check_trace=False: the tracer binds y and h (one tensor) nondeterministically
        tw = torch.jit.trace(wrap, (xs,), check_trace=False)
    assert "prim::Loop" in str(tw.inlined_graph)
    for _ in range(3):
        _close(tw(xs), eager(xs))


# ---------------------------------------------------------------------- module features

class Block(nn.Module):
    __constants__ = ["scale"]
    use_offset: Final[bool] = True

    def __init__(self, n):
        super().__init__()
        self.scale = 2.0
        self.n = n
        self.sizes = [1, 3, 5]
        self.pair = (1.5, 2)
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        self.seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4, bias=False))
        self.register_buffer("offset", torch.ones(4))

    def helper(self, x, k: int):
        if self.use_offset:
            x = x + self.offset
        return x * k

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        x = self.layers[-1](x)
        x = self.seq(x)
        if self.training:
            x = x * self.scale
        x = x + self.n * self.pair[0]
        return self.helper(x, self.sizes[1])


def test_block_containers_attributes_constants_and_methods():
    torch.manual_seed(3)
    m = Block(3)
    s = torch.jit.script(m)
    g = s.graph
    g.lint()
    text = str(g)
    assert 'prim::GetAttr[name="n"](%self)' in text
    assert 'prim::GetAttr[name="training"](%self)' in text
    assert 'prim::GetAttr[name="scale"]' not in text            # a constant
    assert 'prim::Constant[value=2.]' in text
    assert 'prim::CallMethod[name="helper"](%self' in text
    assert s._type.attributes["n"] == T.INT
    assert s._type.attributes["sizes"] == T.ListType(T.INT)
    assert "helper" in s._type.methods
    code = s.code
    assert code.count("layer") >= 3 and "for " not in code     # the ModuleList unrolled
    assert "if training:" in code
    assert len(s.layers) == 3 and s.layers[0].weight is m.layers[0].weight
    assert list(s.state_dict()) == list(m.state_dict())
    x = torch.rand(2, 4)
    for _ in range(3):
        _close(s(x), m(x))
    s.eval()
    m.eval()
    assert not s.layers[0].training
    for _ in range(3):
        _close(s(x), m(x))
    s.train()
    m.train()
    _close(s(x), m(x))


def test_attribute_changes_are_read_at_call_time():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.k = 2

        def forward(self, x):
            return x * self.k
    s = torch.jit.script(Scale())
    x = torch.ones(3)
    _close(s(x), 2 * x)
    s.k = 5
    _close(s(x), 5 * x)


def test_parameters_are_shared_and_trained_together():
    m = nn.Linear(3, 2)
    s = torch.jit.script(m)
    assert list(s.parameters())[0] is m.weight
    with torch.no_grad():
        m.weight.fill_(1.0)
        m.bias.fill_(0.0)
    _close(s(torch.ones(1, 3)), torch.full((1, 2), 3.0))


def test_linear_without_bias_and_sequential_root():
    torch.manual_seed(4)
    m = nn.Sequential(nn.Linear(4, 3, bias=False), nn.Tanh(), nn.Linear(3, 2))
    s = torch.jit.script(m)
    assert len(s) == 3
    x = torch.rand(5, 4)
    _close(s(x), m(x))


# ---------------------------------------------------------------------- errors

def test_untyped_attribute_error_names_it():
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.table = {1: object()}

        def forward(self, x):
            return x + len(self.table)
    with pytest.raises(FrontendError) as e:
        torch.jit.script(Holder())
    msg = str(e.value)
    assert "the attribute 'table' of Holder is a Python dict" in msg
    assert "<--- HERE" in msg


def test_module_list_indexed_by_a_variable_is_called_directly():
    # beyond TorchScript (the blog's pain point): see test_script_module_containers.py
    class Pick(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])

        def forward(self, x, i: int):
            return self.layers[i](x)
    s = torch.jit.script(Pick())
    x = torch.rand(3) - 0.5
    _close(s(x, 0), torch.relu(x))
    _close(s(x, 1), torch.tanh(x))

    class Keep(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])

        def forward(self, x, i: int):
            layer = self.layers[i]
            return layer(x)
    with pytest.raises(FrontendError, match="can only be called directly"):
        torch.jit.script(Keep())


def test_missing_attribute_and_recursion_errors():
    class Missing(nn.Module):
        def forward(self, x):
            return x * self.nothing
    with pytest.raises(FrontendError, match="module 'Missing' has no attribute 'nothing'"):
        torch.jit.script(Missing())

    class Rec(nn.Module):
        def forward(self, x):
            return self.forward(x)
    with pytest.raises(FrontendError, match="recursive call of Rec.forward"):
        torch.jit.script(Rec())


# ---------------------------------------------------------------------- gpujit.nn layers

def test_standard_layers_script_and_match_eager_in_train_and_eval():
    import copy
    torch.manual_seed(5)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.1),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.0), nn.Linear(64, 5),
                      nn.LayerNorm(5), nn.GELU())
    ref = copy.deepcopy(m)
    s = torch.jit.script(m)
    assert s[1].running_mean is m[1].running_mean
    x = torch.rand(2, 3, 8, 8)
    for _ in range(3):
        _close(s(x), ref(x))
    # the running statistics were updated in place, as eager did
    _close(m[1].running_mean, ref[1].running_mean)
    assert int(m[1].num_batches_tracked) == 3
    s.eval()
    ref.eval()
    for _ in range(2):
        _close(s(x), ref(x))


def test_embedding_and_inplace_relu():
    torch.manual_seed(6)
    emb = nn.Embedding(10, 4, padding_idx=0)
    s = torch.jit.script(emb)
    idx = torch.tensor([[1, 2, 0], [9, 3, 3]])
    _close(s(idx), emb(idx))
    r = torch.jit.script(nn.ReLU(inplace=True))
    # (torch 2.13's code calls F.relu with inplace True; its body torch.relu_)
    assert "__torch__.torch.nn.functional.relu(input, True, )" in r.code
    x = torch.rand(3) - 0.5
    _close(r(x.clone()), nn.ReLU()(x))


def test_fstring_exception_message_is_formatted_when_raised():
    class Check(nn.Module):
        def forward(self, x):
            if x.dim() != 2:
                raise ValueError(f"expected 2D input (got {x.dim()}D input)")
            return x
    s = torch.jit.script(Check())
    _close(s(torch.ones(2, 2)), torch.ones(2, 2))
    # (torch 2.13's message: TorchScript's traceback, then the class and the message)
    with pytest.raises(ValueError,
                       match=r"\nbuiltins.ValueError: expected 2D input \(got 1D input\)\n$"):
        s(torch.ones(3))


def test_exported_method_and_final_constant():
    class M(nn.Module):
        limit: Final[int] = 4

        def __init__(self):
            super().__init__()
            self.width = 3

        @torch.jit.export
        def entry(self, x):
            return x + self.limit

        def forward(self, x):
            return self.entry(x) * self.width
    s = torch.jit.script(M())
    assert s.limit == 4
    assert set(s._script_methods) == {"forward", "entry"}
    _close(s.entry(torch.ones(2)), torch.full((2,), 5.0))
    _close(s(torch.ones(2)), torch.full((2,), 15.0))


def test_attribute_assignment_is_set_attr_and_len_of_module_list():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.count = 0
            self.layers = nn.ModuleList([nn.Tanh(), nn.ReLU()])

        def forward(self, x):
            self.count += 1
            for i in range(len(self.layers)):
                x = x + i
            return x * self.count
    s = torch.jit.script(Counter())
    assert 'prim::SetAttr[name="count"](%self' in str(s.graph)
    assert "self.count = torch.add(count, 1)" in s.code
    assert "for i in range(2):" in s.code
    for k in range(1, 4):
        _close(s(torch.ones(2)), torch.full((2,), 2.0 * k))
    assert s.count == 3


def test_assigning_a_parameter_or_retyping_an_attribute_is_an_error():
    class SetsWeight(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.flag = True

        def forward(self, x):
            self.flag = 3
            return self.lin(x)
    with pytest.raises(FrontendError, match="'flag' of SetsWeight is a bool; it cannot be "
                                            "assigned an int"):
        torch.jit.script(SetsWeight())


def test_error_in_a_submodule_names_its_path():
    class Bad(nn.Module):
        def forward(self, x):
            return x * self.missing

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.ReLU(), Bad())

        def forward(self, x):
            return self.inner(x)
    with pytest.raises(FrontendError) as e:
        torch.jit.script(Outer())
    msg = str(e.value)
    assert "module 'Bad' has no attribute 'missing'" in msg
    assert msg.endswith("(while scripting Outer.inner.1: Bad.forward)")


def test_unused_method_call_becomes_a_raise():
    class M(nn.Module):
        @torch.jit.unused
        def debug(self, x) -> int:
            import pdb                       # noqa: F401 - never compiled
            return 0

        def forward(self, x, use_debug: bool):
            if use_debug:
                return x * self.debug(x)
            return x + 1
    s = torch.jit.script(M())
    assert "prim::RaiseException" in str(s.graph)
    _close(s(torch.ones(2), False), torch.full((2,), 2.0))
    with pytest.raises(RuntimeError, match="This Python function is annotated to be "
                                           "ignored and cannot be run"):      # (torch's)
        s(torch.ones(2), True)


# ---------------------------------------------------------------------- seed 002 verbatim

SEED_002 = '''
import gpujit as torch

class MyDecisionGate(torch.nn.Module):
  def forward(self, x):
    if x.sum() > 0:
      return x
    else:
      return -x

class MyCell(torch.nn.Module):
    def __init__(self, dg):
        super(MyCell, self).__init__()
        self.dg = dg
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h

x, h = torch.rand(3, 4), torch.rand(3, 4)
scripted_gate = torch.jit.script(MyDecisionGate())
my_cell = MyCell(scripted_gate)
traced_cell = torch.jit.script(my_cell)
traced_cell(x, h)

class MyRNNLoop(torch.nn.Module):
    def __init__(self):
        super(MyRNNLoop, self).__init__()
        self.cell = torch.jit.trace(MyCell(scripted_gate), (x, h))

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h

rnn_loop = torch.jit.script(MyRNNLoop())

class WrapRNN(torch.nn.Module):
  def __init__(self):
    super(WrapRNN, self).__init__()
    self.loop = torch.jit.script(MyRNNLoop())

  def forward(self, xs):
    y, h = self.loop(xs)
    return torch.relu(y)

traced = torch.jit.trace(WrapRNN(), (torch.rand(10, 3, 4)))
'''


def test_seed_002_tutorial_verbatim(tmp_path, monkeypatch):
    import importlib
    (tmp_path / "seed002.py").write_text(SEED_002)
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("seed002")
    assert "(dg).forward((linear).forward(x, ), )" in mod.traced_cell.code
    assert "prim::If" in str(mod.traced_cell.inlined_graph)
    assert "for i in range" in mod.rnn_loop.code
    # the traced cell keeps the scripted gate's control flow
    assert "prim::If" in str(mod.rnn_loop.inlined_graph)
    assert "prim::Loop" in str(mod.traced.inlined_graph)
    xs = torch.rand(4, 3, 4) - 0.5

    def eager(cell):
        h = torch.zeros(3, 4)
        for i in range(4):
            lin = torch.nn.functional.linear(xs[i], cell.linear.weight, cell.linear.bias)
            h = torch.tanh((lin if float(lin.sum()) > 0 else -lin) + h)
        return h
    y = eager(mod.rnn_loop.cell)
    _close(mod.rnn_loop(xs), (y, y))
    _close(mod.traced(xs), torch.relu(eager(mod.traced.loop.cell)))


class _OldStyle(torch.jit.ScriptModule):
    """TorchScript's deprecated API: subclass ScriptModule, mark methods script_method."""

    def __init__(self, n, m):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.rand(n, m))
        self.lin = torch.nn.Linear(n, 2)
        self.scale = 2.0

    @torch.jit.script_method
    def forward(self, x):
        return self.lin(self.helper(self.weight.mv(x)))

    def helper(self, y):
        return y * self.scale

    @torch.jit.script_method
    def norm_of(self, x):
        return self.weight.mv(x).abs().sum()


class _OldStyleChild(_OldStyle):
    def __init__(self):
        super().__init__(3, 4)          # compiled once, after this outermost __init__
        self.extra = 1.0


def test_deprecated_script_module_subclass_with_script_methods():
    m = _OldStyle(3, 4)
    x = torch.rand(4)
    want = m.lin(m.weight.mv(x) * 2.0)
    assert type(m.forward).__name__ == "ScriptMethod"
    assert "prim::CallMethod" in str(m.graph) and "def forward" in m.code
    np.testing.assert_allclose(m(x).detach().numpy(), want.detach().numpy(), rtol=1e-6)
    m.scale = 3.0                       # the graphs read the instance's attributes
    np.testing.assert_allclose(m(x).detach().numpy(),
                               m.lin(m.weight.mv(x) * 3.0).detach().numpy(), rtol=1e-6)
    assert float(m.norm_of(x)) == pytest.approx(float(m.weight.mv(x).abs().sum()), rel=1e-6)
    c = _OldStyleChild()
    assert c.extra == 1.0 and type(c.forward).__name__ == "ScriptMethod"


class _Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("count", torch.zeros(1))
        self.register_buffer("ema", torch.zeros(3))

    def forward(self, x):
        self.count += 1                  # a buffer updated by augmented assignment
        self.ema *= 0.5
        self.ema += x.mean(0) * 0.5
        return torch.tanh(x) + self.count - self.ema


def test_augmented_assignment_to_a_tensor_attribute_updates_it_in_place():
    # `self.count += 1` (Python: in place on the tensor) was refused as an assignment to
    # the buffer
    s, e = torch.jit.script(_Counter()), _Counter()
    x = torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    count = s.count
    with torch.no_grad():
        for _ in range(4):
            _close(s(x), e(x))
    assert s.count is count and _np(s.count).tolist() == [4.0]
    _close(s.ema, e.ema)


class _WithActivation(torch.nn.Module):
    """A function attribute (TransformerEncoderLayer.activation = F.relu), compiled
    where self.activation(...) calls it, as TorchScript does."""

    def __init__(self, activation):
        super().__init__()
        self.lin = torch.nn.Linear(3, 3)
        self.activation = activation

    def forward(self, x):
        return self.activation(self.lin(x))


def _shifted_tanh(x):
    return torch.tanh(x) + 1


def test_function_attributes_are_called():
    x = torch.randn(2, 3)
    for fn in (torch.nn.functional.relu, torch.nn.functional.gelu, torch.sigmoid,
               _shifted_tanh):
        m = _WithActivation(fn)
        s = torch.jit.script(m)
        np.testing.assert_allclose(s(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)
        assert s.activation is fn


def _identity_of(a, b):
    return a is b, a is not b


def test_scripted_tensor_identity():
    """TorchScript's `a is b` on tensors (aten::__is__; MultiheadAttention's self-attention
    test): it raised '`is` / `is not` is supported for comparing with None only'."""
    f = torch.jit.script(_identity_of)
    x = torch.ones(2)
    assert f(x, x) == (True, False)
    assert f(x, x.clone()) == (False, True)


def _identity_of_optional(a: Optional[torch.Tensor], b: torch.Tensor):
    return a is b, a is not b


def test_scripted_identity_of_an_optional_tensor_and_a_tensor():
    """`a is b` with a an Optional[Tensor] (TorchScript accepts it; it raised 'supported for
    comparing with None only')."""
    f = torch.jit.script(_identity_of_optional)
    x = torch.ones(2)
    assert f(x, x) == (True, False)
    assert f(x.clone(), x) == (False, True)
    assert f(None, x) == (False, True)
