"""Tracing against torch.jit.trace 2.13 (session 40, c40).

Finds, minimised, with torch 2.13's behaviour:

1. (torchaudio's wav2vec2) A traced module with an @torch.jit.export method that calls a
   submodule with other arguments than the trace saw:
   `FE.forward(self, x, length: Optional[Tensor] = None)`, `M.forward(x)` calls
   `self.fe(x, None)`, `@export M.extract(x, lengths)` calls `self.fe(x, lengths)`.
   gpujit failed to compile the export: "FE.forward() takes 1 argument but 2 were given"
   (the traced one-argument forward stood for FE.forward). torch's make_module scripts a
   module with exports first (create_script_module: every module a
   RecursiveScriptModule), compiling FE's Python forward as `forward` for the export;
   the trace then names its call of fe after the first free name: `tm.code` is
   `torch.add((fe).forward1(x, ), ...)`, `tm.extract.code` `(fe).forward(x, lengths, )`,
   tm.fe has `forward` (scripted, default `length=None`) and `forward1` (traced).
   trace_module of such an exported method: torch 2.13 "method
   '__torch__.m.M.extract' already defined." (gpujit traced it).
2. The method a traced submodule call becomes returns what its caller reads of it, not
   its Python result: TorchScript's tracer turns the call's block into a method whose
   outputs are the values computed in it and used after it, in the order first used.
   gpujit returned the Python result's structure and left the call inline (its ops in
   the caller) when the result held None, a number or a dict, and failed the whole trace
   ("Only tensors, lists, tuples of tensors, or dictionary of tensors can be output from
   traced functions (got int)") when a submodule returned a number: with torch,
   `FE.forward` returning `(x * 2, length, 3)` called `self.fe(x, None)` is
   `(fe).forward(x, )` returning `torch.mul(x, ...)` alone; returning `(a, b)` to a
   caller that returns `(b, a)` gives `return (torch.sub(x, ...), _0)`; a caller reading
   only `b` gets a method returning the `sub` alone (the `mul` gone); a caller reading
   nothing keeps `_0 = (fe).forward(x, )` of a method returning None; an identity
   submodule's call (it records nothing) is `_0 = (i).forward()` (gpujit lost it when
   another call followed); a call with keyword arguments (`self.mha(x, x, x,
   need_weights=False)`) is a method call too (gpujit left it inline).
7. torchvision's BasicBlock traced in eval: torch 2.13 keeps `(bn1).forward(...)` and
   `(bn2).forward(...)` calls; gpujit left both BatchNorm calls inline because the
   in-place ReLU / `+=` after them had rebound their result tensors.
8. torch.jit.trace of a scripted function: torch 2.13 traces it (a ScriptFunction whose
   graph calls it, inputs unnamed: `def f(argument_0: Tensor)`); gpujit warned "The input
   to trace is already a ScriptModule, tracing it is a no-op" and returned it.
3. A traced lambda: torch 2.13 names it `_lambda` (`def _lambda(a: Tensor,`); gpujit
   printed `def lambda_fn(`.
4. A scripted (or traced) function called in a trace: torch 2.13 records
   `prim::CallFunction` (`.code` `torch.sub(__torch__.m.sf(x, 2, ), __torch__.m.sg(x, ))`,
   a tuple result unpacked `a, b, = __torch__.m.tup(x, )`), a scripted submodule's call a
   `prim::CallMethod[name="forward"]` (`_0 = torch.add((s).forward(x, ), ...)`, typed
   `__torch__.m.Sub`); gpujit inlined both (and would have typed the submodule
   `___torch_mangle_0.Sub`).
5. A dict output (strict=False) whose values differ in type: torch 2.13 says "Tracer
   cannot infer type of {'a': tensor([1., 1.]), 'b': 3}\n:Dictionary inputs to traced
   functions must have consistent type. Found Tensor and int" (gpujit: its own words, or
   "cannot be understood"); int keys ({1: x}) cannot be output in torch (gpujit traced
   them).
6. The TorchScript tutorial's WrapRNN (a scripted loop returning its traced cell's one
   tensor as `y, h`, called in a trace): torch 2.13 prints `loop = self.loop` /
   `_0, y, = (loop).forward(xs, )` / `return torch.relu(y)` (a tensor unpacked twice
   stands for its last Value); gpujit inlined the loop.
"""
import io
from typing import Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
from gpujit import nn
from gpujit import Tensor


# ------------------------------------------------- 1. @export calling a traced submodule
class FE(nn.Module):
    def forward(self, x, length: Optional[Tensor] = None) -> Tuple[Tensor, Optional[Tensor]]:
        y = x * 2
        if length is not None:
            length = length + 1
        return y, length


class WithExport(nn.Module):
    def __init__(self):
        super().__init__()
        self.fe = FE()

    def forward(self, x):
        y, _ = self.fe(x, None)
        return y + 1

    @torch.jit.export
    def extract(self, x, lengths: Optional[Tensor]):
        y, l = self.fe(x, lengths)
        return y, l


def _check_export_module(tm):
    x = torch.ones(3, 3)
    np.testing.assert_array_equal(tm(x).numpy(), np.full((3, 3), 3.0, np.float32))
    y, l = tm.extract(torch.ones(1, 2), torch.tensor([3]))
    np.testing.assert_array_equal(y.numpy(), [[2.0, 2.0]])
    assert l.tolist() == [4]
    y, l = tm.extract(torch.ones(1, 2), None)
    assert l is None and y.tolist() == [[2.0, 2.0]]
    # fe.forward is FE's scripted Python forward (its default too), forward1 the trace
    y, l = tm.fe(torch.ones(1, 1), torch.tensor([3]))
    assert y.tolist() == [[2.0]] and l.tolist() == [4]
    y, l = tm.fe(torch.ones(1, 1))
    assert y.tolist() == [[2.0]] and l is None
    assert tm.fe.forward1(torch.ones(1, 1)).tolist() == [[2.0]]


def test_export_calling_traced_submodule_scripts_its_forward_first():
    tm = torch.jit.trace(WithExport(), (torch.ones(2, 3),))
    # torch: make_module -> create_script_module, every module a RecursiveScriptModule
    assert type(tm).__name__ == "RecursiveScriptModule"
    assert type(tm.fe).__name__ == "RecursiveScriptModule"
    assert repr(tm) == ("RecursiveScriptModule(\n  original_name=WithExport\n"
                        "  (fe): RecursiveScriptModule(original_name=FE)\n)")
    code = tm.code
    assert "fe = self.fe" in code and "(fe).forward1(x, )" in code, code
    assert "(fe).forward(x, lengths, )" in tm.extract.code
    assert 'prim::CallMethod[name="forward1"](%fe, %x)' in str(tm.graph)
    assert sorted(tm.fe._script_methods) == ["forward", "forward1"]
    assert sorted(tm._script_methods) == ["extract", "forward"]
    # the scripted forward: FE's source (its If), the traced one: the mul alone
    assert "prim::If" in str(tm.fe.forward.graph)
    assert [n.kind for n in tm.fe.forward1.graph.nodes if n.kind != "prim::Constant"] \
        == ["aten::mul"]
    assert tm.fe.forward1.code.startswith("def forward1(self,\n    x: Tensor) -> Tensor:")
    _check_export_module(tm)


def test_export_module_save_load_round_trip():
    tm = torch.jit.trace(WithExport(), (torch.ones(2, 3),))
    buf = io.BytesIO()
    torch.jit.save(tm, buf)
    buf.seek(0)
    lm = torch.jit.load(buf)
    assert "(fe).forward1(x, )" in lm.code
    _check_export_module(lm)


def test_module_without_exports_still_a_traced_module():
    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.fe = FE()

        def forward(self, x):
            return self.fe(x, None)[0] + 1
    tm = torch.jit.trace(Plain(), (torch.ones(2, 3),))
    assert type(tm).__name__ == "TopLevelTracedModule"
    assert "(fe).forward(x, )" in tm.code
    assert sorted(tm.fe._script_methods) == ["forward"]


# ------------------------------------------ 2. a call's method returns what is read of it
class Pair(nn.Module):
    def forward(self, x):
        a = x * 2
        b = x - 1
        return a, b


def _traced(forward, sub=Pair):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.fe = sub()
    M.forward = forward
    return torch.jit.trace(M(), (torch.ones(2, 3),))


def _ops(graph):
    return [n.kind for n in graph.nodes if n.kind != "prim::Constant"]


def test_method_returns_results_in_the_order_the_caller_reads_them():
    def forward(self, x):
        a, b = self.fe(x)
        return b, a
    tm = _traced(forward)
    assert "_0, _1, = (fe).forward(x, )\n  return (_0, _1)" in tm.code
    # torch: `_0 = torch.mul(x, CONSTANTS.c0)\n  return (torch.sub(x, CONSTANTS.c1), _0)`
    assert _ops(tm.fe.graph) == ["aten::mul", "aten::sub", "prim::TupleConstruct"]
    tup = tm.fe.graph.outputs[0].node
    assert [v.node.kind for v in tup.inputs] == ["aten::sub", "aten::mul"]
    b, a = tm(torch.full((1, 2), 3.0))
    assert b.tolist() == [[2.0, 2.0]] and a.tolist() == [[6.0, 6.0]]


def test_method_returns_only_what_is_read():
    def forward(self, x):
        a, b = self.fe(x)
        return b
    tm = _traced(forward)
    assert "return (fe).forward(x, )" in tm.code
    assert _ops(tm.fe.graph) == ["aten::sub"]          # (the unread mul is gone)
    assert tm(torch.full((2,), 3.0)).tolist() == [2.0, 2.0]


def test_call_whose_result_nothing_reads_returns_none():
    def forward(self, x):
        a, b = self.fe(x)
        return x + 1
    tm = _traced(forward)
    assert "_0 = (fe).forward(x, )" in tm.code
    assert tm.fe.code == "def forward(self,\n    x: Tensor) -> NoneType:\n  return None\n"
    assert tm(torch.zeros(2)).tolist() == [1.0, 1.0]


class WithNumber(nn.Module):
    def forward(self, x, length: Optional[Tensor] = None):
        y = x * 2
        return y, length, 3


def test_result_holding_none_and_a_number_is_a_method_call():
    # gpujit: "Only tensors, lists, tuples of tensors, or dictionary of tensors can be
    # output from traced functions (got int)"
    def forward(self, x):
        y, a, b = self.fe(x, None)
        return y + b
    tm = _traced(forward, WithNumber)
    assert "(fe).forward(x, )" in tm.code
    assert _ops(tm.fe.graph) == ["aten::mul"]
    assert tm.fe.code.startswith("def forward(self,\n    x: Tensor) -> Tensor:")
    assert tm(torch.ones(1, 2)).tolist() == [[5.0, 5.0]]

    # an argument passed through is the caller's own value; the method does not take it
    def forward2(self, x, l):
        y, a, b = self.fe(x, l)
        return y + b, a

    class M2(nn.Module):
        def __init__(self):
            super().__init__()
            self.fe = WithNumber()
    M2.forward = forward2
    tm = torch.jit.trace(M2(), (torch.ones(2, 3), torch.ones(2)))
    # torch: `_0 = torch.add((fe).forward(x, ), CONSTANTS.c0)\n  return (_0, l)`
    assert "(fe).forward(x, )" in tm.code and tm.code.endswith(", l)\n"), tm.code
    a, b = tm(torch.ones(1, 1), torch.ones(3))
    assert a.tolist() == [[5.0]] and b.tolist() == [1.0, 1.0, 1.0]


class WithDict(nn.Module):
    def forward(self, x, length: Optional[Tensor] = None):
        a = x * 2
        b = x - 1
        c = x.relu()
        return {"a": a, "b": b, "n": None, "c": c}, 3


def test_result_dict_is_a_method_call_of_the_values_read():
    def forward(self, x):
        d, k = self.fe(x, None)
        return d["b"] * d["a"] + k
    tm = _traced(forward, WithDict)
    assert "_0, _1, = (fe).forward(x, )" in tm.code
    assert "torch.mul(_0, _1)" in tm.code
    # torch: returns (sub, mul), the unread relu gone
    assert _ops(tm.fe.graph) == ["aten::mul", "aten::sub", "prim::TupleConstruct"]
    assert tm(torch.full((1, 2), 2.0)).tolist() == [[7.0, 7.0]]


# --------------------------------------------------------------- 3. a traced lambda's name
def test_traced_lambda_is_named_like_torch():
    # torch 2.13: `def _lambda(a: Tensor,` (t.name "_lambda"); gpujit said lambda_fn
    t = torch.jit.trace(lambda a, b: a * b, (torch.rand(2), torch.rand(2)))
    assert t.name == "_lambda" and t.qualified_name.endswith("._lambda")
    assert t.code.startswith("def _lambda(a: Tensor,\n    b: Tensor) -> Tensor:")


# ------------------------------------- 4. compiled functions and submodules called in a trace
@torch.jit.script
def _sf(x, k: int):
    return x * k + 1


@torch.jit.script
def _sg(x):
    return _sf(x, 3).relu()


@torch.jit.script
def _tup(x):
    return x + 1, x * 2


class _Sub(nn.Module):
    def forward(self, x):
        return x.sin() * 2


class _CallsCompiled(nn.Module):
    def __init__(self):
        super().__init__()
        self.s = torch.jit.script(_Sub())

    def forward(self, x):
        return self.s(x) + _sg(x) + _sf(x, 2)


Q = f"__torch__.{__name__}."


def test_traced_call_of_scripted_function_is_a_call_function():
    # torch 2.13: `_0 = torch.sub(__torch__.m._sf(x, 2, ), __torch__.m._sg(x, ))`, graph
    # `prim::CallFunction(%2, %x, %1)` typed `Float(3, strides=[1], ...)`; gpujit inlined
    def uses(x):
        return _sf(x, 2) - _sg(x)
    t = torch.jit.trace(uses, torch.ones(3))
    assert f"torch.sub({Q}_sf(x, 2, ), {Q}_sg(x, ))" in t.code, t.code
    calls = [n for n in t.graph.nodes if n.kind == "prim::CallFunction"]
    assert len(calls) == 2 and "aten::mul" not in str(t.graph)
    assert str(calls[0].output.type) == "Float(3, strides=[1], requires_grad=0, device=cpu)"
    np.testing.assert_allclose(t(torch.full((2,), 2.0)).numpy(), [5.0 - 7.0] * 2)
    assert "aten::relu" in str(t.inlined_graph)
    buf = io.BytesIO()
    torch.jit.save(t, buf)
    buf.seek(0)
    np.testing.assert_allclose(torch.jit.load(buf)(torch.full((2,), 2.0)).numpy(), [-2.0] * 2)


def test_traced_call_of_scripted_function_returning_a_tuple():
    # torch 2.13: `a, b, = __torch__.m._tup(x, )\n  return torch.sub(b, a)`
    def use_tup(x):
        a, b = _tup(x)
        return b - a
    t = torch.jit.trace(use_tup, torch.ones(2))
    assert f"a, b, = {Q}_tup(x, )\n  return torch.sub(b, a)" in t.code, t.code
    assert t(torch.full((2,), 3.0)).tolist() == [2.0, 2.0]


def test_traced_call_of_scripted_submodule_is_a_call_method():
    # torch 2.13: `s = self.s\n  _0 = torch.add((s).forward(x, ), __torch__.m._sg(x, ))`,
    # `%s : __torch__.m._Sub = prim::GetAttr[name="s"](%self)` (its own type, unmangled)
    tm = torch.jit.trace(_CallsCompiled(), torch.ones(3))
    code = tm.code
    assert "s = self.s" in code and f"torch.add((s).forward(x, ), {Q}_sg(x, ))" in code, code
    assert f"torch.add(_0, {Q}_sf(x, 2, ))" in code
    assert f'%s : {Q}_Sub = prim::GetAttr[name="s"](%self)' in str(tm.graph)
    x = torch.full((2,), 0.5)
    want = np.sin(0.5) * 2 + max(0.5 * 3 + 1, 0) + 0.5 * 2 + 1
    np.testing.assert_allclose(tm(x).numpy(), [want] * 2, rtol=1e-6)
    buf = io.BytesIO()
    torch.jit.save(tm, buf)
    buf.seek(0)
    lm = torch.jit.load(buf)
    assert "(s).forward(x, )" in lm.code
    np.testing.assert_allclose(lm(x).numpy(), [want] * 2, rtol=1e-6)


# ------------------------------------------------------ 5. dict outputs with strict=False
@pytest.mark.parametrize("out, found", [
    (lambda x: {"a": x, "b": (x, x)}, "Found Tensor and Tuple[Tensor, Tensor]"),
    (lambda x: {"a": x, "b": 3}, "Found Tensor and int"),
    (lambda x: {"a": (x, x), "b": (x,)}, "Found Tuple[Tensor, Tensor] and Tuple[Tensor]"),
])
def test_dict_output_of_mixed_types_says_what_torch_says(out, found):
    # torch 2.13: "Tracer cannot infer type of {'a': tensor([1., 1.]), 'b': 3}\n:Dictionary
    # inputs to traced functions must have consistent type. Found Tensor and int"
    with pytest.raises(RuntimeError) as e:
        torch.jit.trace(out, torch.ones(2), strict=False)
    msg = str(e.value)
    assert msg.startswith("Tracer cannot infer type of {'a': ") and "tensor([1., 1.])" in msg
    assert msg.endswith(":Dictionary inputs to traced functions must have consistent type. "
                        + found)


def test_dict_output_with_int_keys_cannot_be_output():
    # torch 2.13: "output 1 ({1: ..., 2: ...}) of traced region cannot be understood by the
    # tracer, only outputs matching dict[Union[str, Tensor], Union[Tensor, Tuple[Tensor,
    # ...]]] can be a dictionary output of a traced function"; gpujit traced it
    with pytest.raises(RuntimeError, match=r"of traced region cannot be understood by the "
                       r"tracer, only outputs matching dict\[Union\[str, Tensor\]"):
        torch.jit.trace(lambda x: {1: x, 2: x}, torch.ones(2), strict=False)
    t = torch.jit.trace(lambda x: {"a": (x, x), "b": (x, x + 1)}, torch.ones(2), strict=False)
    assert t(torch.zeros(2))["b"][1].tolist() == [1.0, 1.0]


# ------------------------- 6. the tutorial's WrapRNN: a scripted loop called in a trace
class _Gate(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x


class _Cell(nn.Module):
    def __init__(self, dg):
        super().__init__()
        self.dg = dg
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


class _Loop(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = torch.jit.trace(_Cell(_Gate()), (torch.rand(3, 4), torch.rand(3, 4)))

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


class _WrapRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.loop = torch.jit.script(_Loop())

    def forward(self, xs):
        y, h = self.loop(xs)
        return torch.relu(y)


def test_tutorial_wrap_rnn_code():
    # torch 2.13 (the TorchScript tutorial's output): the loop returns its cell's one
    # tensor twice; the trace reads it as the last element
    m = torch.jit.trace(_WrapRNN(), (torch.rand(10, 3, 4),))
    assert m.code == ("def forward(self,\n    xs: Tensor) -> Tensor:\n  loop = self.loop\n"
                      "  _0, y, = (loop).forward(xs, )\n  return torch.relu(y)\n")
    xs = torch.rand(5, 3, 4)
    want = m.loop(xs)[0].relu()
    np.testing.assert_allclose(m(xs).detach().numpy(), want.detach().numpy(), rtol=1e-6)


class _Ident(nn.Module):
    def forward(self, x):
        return x


class _W(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(3))

    def forward(self, x):
        return x * self.w, self.w


class _IdentThenW(nn.Module):
    def __init__(self):
        super().__init__()
        self.i = _Ident()
        self.b = _W()

    def forward(self, x):
        y = self.i(x)
        _, w = self.b(x)
        return y + w


def test_call_recording_nothing_is_still_a_call():
    # torch 2.13: `i = self.i\n  _0 = (i).forward()\n  _1 = (b0).forward(x, )\n  return
    # torch.add(x, w)`, i.forward `def forward(self) -> NoneType:\n  return None`; gpujit
    # lost the identity's call (the next call's region took its CallMethod in)
    tm = torch.jit.trace(_IdentThenW(), torch.ones(3))
    code = tm.code
    assert "  i = self.i\n  _0 = (i).forward()\n  _1 = (b0).forward(x, )\n" in code, code
    assert code.endswith("  return torch.add(x, w)\n")
    assert tm.i.code == "def forward(self) -> NoneType:\n  return None\n"
    assert tm(torch.full((3,), 2.0)).tolist() == [3.0, 3.0, 3.0]


def test_trace_module_of_an_exported_method_is_already_defined():
    # torch 2.13: "method '__torch__.m.___torch_mangle_1.M.extract' already defined." (the
    # export is scripted first)
    with pytest.raises(RuntimeError, match=r"method '__torch__\..*WithExport\.extract' "
                                           r"already defined\."):
        torch.jit.trace_module(WithExport(), {"forward": torch.ones(2, 3),
                                              "extract": (torch.ones(2, 3), torch.ones(1))})


class _KW(nn.Module):
    def forward(self, x, scale: float = 1.0, bias=None):
        y = x * scale
        if bias is not None:
            y = y + bias
        return y, None


class _CallsWithKeywords(nn.Module):
    def __init__(self):
        super().__init__()
        self.k = _KW()

    def forward(self, x, b):
        y, _ = self.k(x, scale=2.0)
        z, _ = self.k(x, bias=b)
        return y + z


def test_call_with_keyword_arguments_is_a_method_call():
    # torch 2.13 (as `self.mha(x, x, x, need_weights=False)`): `_0 = (k).forward(x, )` /
    # `(k).forward1(x, b, )` (the tensors its ops read, in that order); gpujit left
    # keyword calls inline, so the next call was named `forward`
    tm = torch.jit.trace(_CallsWithKeywords(), (torch.ones(3), torch.ones(3)))
    code = tm.code
    assert "(k).forward(x, )" in code and "(k).forward1(x, b, )" in code, code
    assert sorted(tm.k._script_methods) == ["forward", "forward1"]
    assert tm(torch.full((3,), 2.0), torch.ones(3)).tolist() == [7.0, 7.0, 7.0]


# ------------------------------------------- 7. a call whose result the caller writes in place
class _BasicBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


def test_call_whose_result_is_written_in_place_is_a_method_call():
    # torch 2.13 (torchvision's BasicBlock): `_0 = (relu).forward((bn1).forward((conv1).
    # forward(x, ), ), )` / `_1 = (bn2).forward((conv2).forward(_0, ), )`; gpujit left
    # both BatchNorm calls inline (`torch.batch_norm(...)`): the in-place ReLU / += had
    # rebound their result tensors, so the call's result looked computed elsewhere
    m = _BasicBlock().eval()
    tm = torch.jit.trace(m, torch.randn(1, 4, 6, 6))
    code = tm.code
    assert "  _0 = (relu).forward((bn1).forward((conv1).forward(x, ), ), )\n" \
           "  _1 = (bn2).forward((conv2).forward(_0, ), )\n" in code, code
    assert "torch.add_(_1, x)" in code and "(relu).forward1(" in code
    assert "batch_norm" not in code
    x = torch.randn(2, 4, 5, 5)
    np.testing.assert_allclose(tm(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


# ------------------------------------------------------------ 8. tracing a compiled function
@torch.jit.script
def _sd(x, k: int = 2):
    return x * k


def test_tracing_a_scripted_function_records_a_call_of_it():
    # torch 2.13: no warning (only a ScriptModule is returned as is), a new ScriptFunction
    # `def _sd(argument_0: Tensor) -> Tensor:\n  _0 = __torch__._sd(argument_0, 2, )`
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = torch.jit.trace(_sd, torch.ones(3))
    assert t is not _sd and t.name == "_sd"
    assert t.code == (f"def _sd(argument_0: Tensor) -> Tensor:\n"
                      f"  _0 = {Q}_sd(argument_0, 2, )\n  return _0\n"), t.code
    assert t(torch.ones(2)).tolist() == [2.0, 2.0]
