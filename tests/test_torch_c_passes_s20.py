"""torch._C.parse_ir and the torch._C._jit_pass_* functions TorchScript's tests call on
graphs (with FileCheck): they run gpujit's parser and passes, changing the graph in place."""
import pytest

import gpujit as torch
from gpujit.testing import FileCheck

IR = """
graph(%x : Tensor):
  %1 : int = prim::Constant[value=1]()
  %2 : int = prim::Constant[value=2]()
  %3 : int = aten::add(%1, %2)
  %4 : Tensor = aten::mul(%x, %3)
  %5 : Tensor = aten::mul(%x, %3)
  %6 : Tensor = aten::relu(%x)
  %7 : Tensor = aten::add(%4, %5, %1)
  return (%7)
"""


def test_parse_ir_and_passes_in_place():
    g = torch._C.parse_ir(IR)
    assert isinstance(g, torch._C.Graph)
    assert torch._C._jit_pass_constant_propagation(g) is None
    FileCheck().check("prim::Constant[value=3]").run(g)
    assert torch._C._jit_pass_cse(g) is True
    assert torch._C._jit_pass_cse(g) is False          # nothing left to merge
    torch._C._jit_pass_dce(g)
    torch._C._jit_pass_lint(g)
    FileCheck().check_not("aten::relu").check_count("aten::mul", 1, exactly=True) \
        .check("aten::add").run(g)
    x = torch.tensor([1.0, -2.0])
    from gpujit.runtime.interpreter import interpret
    assert interpret(g, x).tolist() == [6.0, -12.0]


def test_peephole_and_loop_unrolling_passes():
    @torch.jit.script
    def f(x):
        for _ in range(3):
            x = x + 1
        return x

    g = f.graph.copy()
    torch._C._jit_pass_loop_unrolling(g)
    FileCheck().check_not("prim::Loop").check_count("aten::add", 3, exactly=True).run(g)
    torch._C._jit_pass_peephole(g)
    torch._C._jit_pass_lint(g)


def test_inline_pass():
    @torch.jit.script
    def h(x):
        return x * 2

    @torch.jit.script
    def f(x):
        return h(x) + 1

    g = f.graph.copy()
    FileCheck().check("prim::CallFunction").run(g)
    torch._C._jit_pass_inline(g)
    FileCheck().check_not("prim::CallFunction").check("aten::mul").check("aten::add").run(g)
    FileCheck().check("prim::CallFunction").run(f.graph)      # (a copy was inlined)


def test_lint_reports_a_broken_graph():
    from gpujit.ir.lint import LintError
    g = torch._C.parse_ir(IR)
    torch._C._jit_pass_lint(g)
    nodes = list(g.nodes())
    mul = next(n for n in nodes if n.kind == "aten::mul")
    last_add = [n for n in nodes if n.kind == "aten::add"][-1]
    last_add.move_before(mul)            # a use of %4 before %4 is made
    with pytest.raises(LintError, match="graph lint failed"):
        torch._C._jit_pass_lint(g)


def test_tracing_state_and_recorded_switches():
    seen = []

    def f(x):
        seen.append(bool(torch._C._get_tracing_state()))
        return x * 2
    assert torch._C._get_tracing_state() is None
    torch.jit.trace(f, torch.ones(2), check_trace=False)
    f(torch.ones(2))
    assert seen == [True, False]
    assert torch._C._jit_set_autocast_mode(False) is True
    assert torch._C._jit_set_autocast_mode(True) is False
    old = torch._C._jit_get_inline_everything_mode()
    torch._C._jit_set_inline_everything_mode(True)
    assert torch._C._jit_get_inline_everything_mode() is True
    torch._C._jit_set_inline_everything_mode(old)
    torch._C._jit_set_llga_enabled(False)
    assert torch._C._jit_llga_enabled() is False
