"""Scripted graphs that call Python functions print as torch 2.13's: the callee a
`Function = prim::Constant[name=...]()` (no source range, pooled per callee) that is the
prim::CallFunction's first input, default arguments filled in as unranged constants, and
torch's value names and numbers (the naming replay models FunctionValue::call). The
expected texts are torch 2.13's prints of the same programs, source ranges stripped."""
import re
from typing import Optional

import numpy as np

import gpujit as torch
import gpujit.nn.functional as F
from gpujit._jit_internal import BroadcastingList2


def helper(x, k: int = 2):
    return x * k


def h2(x, a: int, b: float = 1.5, c: Optional[int] = None):
    return x + a * b


def h3(x):
    return x.relu()


def f_brief(x):
    return helper(x) + torch.nn.functional.softmax(x, 0)


def f_keywords(x):
    y = h2(x, 1, c=4)
    z = h2(x, a=2)
    return y + z


def f_nested(x):
    return helper(helper(x, 4)) + helper(x)


def f_control(x, n: int):
    y = x
    for i in range(n):
        y = helper(y, i)
    if n > 2:
        y = F.softmax(y, 0)
    else:
        y = h3(y)
    return y


def f_statement(x):
    helper(x)
    return h3(x).sum()


@torch.jit._overload
def add_pair(a: int, b: int) -> int: ...


@torch.jit._overload
def add_pair(a: float, b: float) -> float: ...


def add_pair(a, b):
    return a + b


def f_overloads(a: int, b: float):
    return add_pair(a, a), add_pair(b, b), add_pair(a, 2)


class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 3)

    def forward(self, x):
        return F.softmax(self.lin(x), 1) + helper(x)


def bl(x, k: BroadcastingList2[int]):
    return x.sum() + k[0] + k[1]


def opt(x, d: Optional[int] = None):
    if d is None:
        return x
    return x * d


def f_broadcast(x):
    return bl(x, 2) + bl(x, [3, 4])


def f_optional(x):
    return opt(x) + opt(x, 3) + opt(x, d=None)


# torch 2.13's `print(torch.jit.script(fn).graph)`, its ` # file:line:col` tails removed
EXPECTED = {
    "f_broadcast": """\
graph(%x.1 : Tensor):
  %12 : int = prim::Constant[value=1]()
  %4 : Function = prim::Constant[name="bl"]()
  %2 : int = prim::Constant[value=2]()
  %7 : int = prim::Constant[value=3]()
  %8 : int = prim::Constant[value=4]()
  %3 : int[] = prim::ListConstruct(%2, %2)
  %5 : Tensor = prim::CallFunction(%4, %x.1, %3)
  %9 : int[] = prim::ListConstruct(%7, %8)
  %11 : Tensor = prim::CallFunction(%4, %x.1, %9)
  %13 : Tensor = aten::add(%5, %11, %12)
  return (%13)
""",
    "f_optional": """\
graph(%x.1 : Tensor):
  %9 : int = prim::Constant[value=1]()
  %3 : Function = prim::Constant[name="opt"]()
  %2 : NoneType = prim::Constant()
  %6 : int = prim::Constant[value=3]()
  %4 : Tensor = prim::CallFunction(%3, %x.1, %2)
  %8 : Tensor = prim::CallFunction(%3, %x.1, %6)
  %10 : Tensor = aten::add(%4, %8, %9)
  %14 : Tensor = prim::CallFunction(%3, %x.1, %2)
  %16 : Tensor = aten::add(%10, %14, %9)
  return (%16)
""",
    "f_brief": """\
graph(%x.1 : Tensor):
  %11 : int = prim::Constant[value=1]()
  %9 : Function = prim::Constant[name="softmax"]()
  %8 : NoneType = prim::Constant()
  %7 : int = prim::Constant[value=3]()
  %3 : Function = prim::Constant[name="helper"]()
  %2 : int = prim::Constant[value=2]()
  %6 : int = prim::Constant[value=0]()
  %4 : Tensor = prim::CallFunction(%3, %x.1, %2)
  %10 : Tensor = prim::CallFunction(%9, %x.1, %6, %7, %8)
  %12 : Tensor = aten::add(%4, %10, %11)
  return (%12)
""",
    "f_keywords": """\
graph(%x.1 : Tensor):
  %10 : NoneType = prim::Constant()
  %5 : Function = prim::Constant[name="h2"]()
  %4 : float = prim::Constant[value=1.5]()
  %2 : int = prim::Constant[value=1]()
  %3 : int = prim::Constant[value=4]()
  %8 : int = prim::Constant[value=2]()
  %y.1 : Tensor = prim::CallFunction(%5, %x.1, %2, %4, %3)
  %z.1 : Tensor = prim::CallFunction(%5, %x.1, %8, %4, %10)
  %16 : Tensor = aten::add(%y.1, %z.1, %2)
  return (%16)
""",
    "f_nested": """\
graph(%x.1 : Tensor):
  %12 : int = prim::Constant[value=1]()
  %5 : int = prim::Constant[value=2]()
  %3 : Function = prim::Constant[name="helper"]()
  %2 : int = prim::Constant[value=4]()
  %4 : Tensor = prim::CallFunction(%3, %x.1, %2)
  %7 : Tensor = prim::CallFunction(%3, %4, %5)
  %11 : Tensor = prim::CallFunction(%3, %x.1, %5)
  %13 : Tensor = aten::add(%7, %11, %12)
  return (%13)
""",
    "f_control": """\
graph(%x.1 : Tensor,
      %n.1 : int):
  %25 : Function = prim::Constant[name="h3"]()
  %21 : Function = prim::Constant[name="softmax"]()
  %20 : NoneType = prim::Constant()
  %19 : int = prim::Constant[value=3]()
  %10 : Function = prim::Constant[name="helper"]()
  %6 : bool = prim::Constant[value=1]()
  %14 : int = prim::Constant[value=2]()
  %18 : int = prim::Constant[value=0]()
  %y.33 : Tensor = prim::Loop(%n.1, %6, %x.1)
    block0(%i.1 : int, %y.31 : Tensor):
      %y.3 : Tensor = prim::CallFunction(%10, %y.31, %i.1)
      -> (%6, %y.3)
  %15 : bool = aten::gt(%n.1, %14)
  %y : Tensor = prim::If(%15)
    block0():
      %y.9 : Tensor = prim::CallFunction(%21, %y.33, %18, %19, %20)
      -> (%y.9)
    block1():
      %y.15 : Tensor = prim::CallFunction(%25, %y.33)
      -> (%y.15)
  return (%y)
""",
    "f_statement": """\
graph(%x.1 : Tensor):
  %8 : NoneType = prim::Constant()
  %6 : Function = prim::Constant[name="h3"]()
  %3 : Function = prim::Constant[name="helper"]()
  %2 : int = prim::Constant[value=2]()
  %4 : Tensor = prim::CallFunction(%3, %x.1, %2)
  %7 : Tensor = prim::CallFunction(%6, %x.1)
  %9 : Tensor = aten::sum(%7, %8)
  return (%9)
""",
    "f_overloads": """\
graph(%a.1 : int,
      %b.1 : float):
  %8 : Function = prim::Constant[name="add_pair"]()
  %4 : Function = prim::Constant[name="add_pair"]()
  %11 : int = prim::Constant[value=2]()
  %5 : int = prim::CallFunction(%4, %a.1, %a.1)
  %9 : float = prim::CallFunction(%8, %b.1, %b.1)
  %13 : int = prim::CallFunction(%4, %a.1, %11)
  %14 : (int, float, int) = prim::TupleConstruct(%5, %9, %13)
  return (%14)
""",
    "M": """\
graph(%self : __torch__.M,
      %x.1 : Tensor):
  %12 : Function = prim::Constant[name="helper"]()
  %11 : int = prim::Constant[value=2]()
  %8 : Function = prim::Constant[name="softmax"]()
  %7 : NoneType = prim::Constant()
  %6 : int = prim::Constant[value=3]()
  %5 : int = prim::Constant[value=1]()
  %lin : __torch__.torch.nn.modules.linear.Linear = prim::GetAttr[name="lin"](%self)
  %4 : Tensor = prim::CallMethod[name="forward"](%lin, %x.1)
  %9 : Tensor = prim::CallFunction(%8, %4, %5, %6, %7)
  %13 : Tensor = prim::CallFunction(%12, %x.1, %11)
  %15 : Tensor = aten::add(%9, %13, %5)
  return (%15)
""",
}


def _text(graph):
    text = re.sub(r" # .*", "", str(graph))
    # (a class scripted before in this process with other types is ___torch_mangle_N.)
    text = re.sub(r"\.___torch_mangle_\d+\.", ".", text)
    return re.sub(r"__torch__\.[\w.]*\.M\b", "__torch__.M", text)


def _check(name, fn):
    assert _text(torch.jit.script(fn).graph) == EXPECTED[name]


def test_brief_helper_and_softmax():
    _check("f_brief", f_brief)


def test_keywords_and_defaults():
    _check("f_keywords", f_keywords)


def test_nested_calls_share_one_function_constant():
    _check("f_nested", f_nested)


def test_calls_in_loop_and_branches():
    _check("f_control", f_control)


def test_call_as_a_statement_is_kept():
    _check("f_statement", f_statement)


def test_overloads_pool_per_callee():
    _check("f_overloads", f_overloads)


def test_module_forward_calls_softmax_and_helper():
    assert _text(torch.jit.script(M()).graph) == EXPECTED["M"]


def test_number_for_a_broadcasting_list_parameter():
    _check("f_broadcast", f_broadcast)
    x = np.array([1.0, 2.0], np.float32)
    assert float(torch.jit.script(f_broadcast)(torch.tensor(x))) == 3 + 4 + 3 + 7


def test_none_defaults_pool_with_none_arguments():
    _check("f_optional", f_optional)


def test_function_constant_has_no_source_range():
    g = str(torch.jit.script(f_brief).graph)
    line = next(s for s in g.splitlines() if 'name="helper"' in s)
    assert line.endswith('prim::Constant[name="helper"]()')


def test_code_and_results_unchanged():
    s = torch.jit.script(f_keywords)
    assert "y = __torch__." in s.code and "h2(x, 1, 1.5, 4, )" in s.code and \
        "h2(x, 2, 1.5, None, )" in s.code
    x = np.array([[0.5, -1.0, 2.0]], np.float32)
    np.testing.assert_allclose(s(torch.tensor(x)).numpy(), (x + 1.5) + (x + 3.0))
    c = torch.jit.script(f_control)
    xs = np.array([1.0, -2.0, 3.0], np.float32)
    np.testing.assert_allclose(c(torch.tensor(xs), 2).numpy(), np.maximum(xs * 0, 0))
    e = np.exp(xs * 0 * 1 * 2 * 3)
    np.testing.assert_allclose(c(torch.tensor(xs), 4).numpy(), e / e.sum(), rtol=1e-6)
    assert torch.jit.script(f_overloads)(3, 1.25) == (6, 2.5, 5)


def test_parsed_back_graph_runs_through_the_interpreter():
    from gpujit.ir.parser import parse_ir
    from gpujit.passes.inline import inline_calls
    g = torch.jit.script(f_nested).graph
    back = parse_ir(str(g))
    assert str(back) == str(g)
    assert "prim::CallFunction(%3, %x.1, %2)" in _text(back)
    # the parsed call names its callee by the Function constant alone
    inline_calls(back, {"helper": torch.jit.script(helper).graph})
    assert "CallFunction" not in str(back) and "aten::mul" in str(back)


def test_save_load_keeps_the_calls(tmp_path):
    m = torch.jit.script(M())
    x = torch.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    want = m(x).detach().numpy()
    for fmt in ("gpujit", "pytorch"):
        p = tmp_path / f"m_{fmt}.pt"
        torch.jit.save(m, str(p), format=fmt)
        loaded = torch.jit.load(str(p))
        np.testing.assert_allclose(loaded(x).detach().numpy(), want, rtol=1e-6)


@torch.jit.script
def _scripted(x, k: int = 3):
    return x * k


def _traced(x):
    return _scripted(x) + 1


def test_trace_records_a_scripted_call_as_torch():
    t = torch.jit.trace(_traced, torch.ones(2))
    # torch 2.13: the argument constant, then the Function constant, then the call
    assert _text(t.graph).splitlines()[1:4] == [
        "  %1 : int = prim::Constant[value=3]()",
        '  %2 : Function = prim::Constant[name="_scripted"]()',
        "  %3 : Float(2, strides=[1], requires_grad=0, device=cpu) = "
        "prim::CallFunction(%2, %x, %1)"]
    assert "__torch__.test_call_graphs_d59._scripted" in t.code and "(x, 3, )" in t.code
    np.testing.assert_array_equal(t(torch.tensor(np.array([1.0, 2.0], np.float32))).numpy(),
                                  [4.0, 7.0])
