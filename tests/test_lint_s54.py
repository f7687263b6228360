"""graph.lint() after its s54 rewrite (one scope set for the whole walk, use records looked
up in a set per value): what it caught before it still catches."""
from __future__ import annotations

import pytest

from gpujit.ir import LintError, parse_ir


_IF = """\
graph(%c : bool, %x : Tensor):
  %y : Tensor = prim::If(%c)
    block0():
      %a : Tensor = aten::neg(%x)
      -> (%a)
    block1():
      %b : Tensor = aten::relu(%x)
      -> (%b)
"""


def test_a_value_of_a_block_is_out_of_scope_after_it():
    g = parse_ir(_IF + "  %z : Tensor = aten::mul(%y, %y)\n  return (%z)\n")
    g.lint()
    neg = g.nodes[0].blocks[0].nodes[0]
    mul = g.nodes[1]
    mul.replace_input(0, neg.outputs[0])         # %a read after its block ended
    with pytest.raises(LintError, match=r"%a is used before it is defined \(or outside its scope\)"):
        g.lint()
    # (and in the other block: %a is not visible in block1 either)
    g = parse_ir(_IF + "  return (%y)\n")
    relu = g.nodes[0].blocks[1].nodes[0]
    relu.replace_input(0, g.nodes[0].blocks[0].nodes[0].outputs[0])
    with pytest.raises(LintError, match="outside its scope"):
        g.lint()


def test_a_missing_use_record_among_many():
    body = "\n".join(f"  %{i} : Tensor = aten::add(%x, %x, %a)" for i in range(1, 41))
    g = parse_ir(f"graph(%x : Tensor, %a : int):\n{body}\n  return (%40)\n")
    g.lint()
    x = g.inputs[0]
    assert len(x.uses) == 80
    victim = g.nodes[17]
    x.uses.remove(next(u for u in x.uses if u.user is victim and u.offset == 1))
    with pytest.raises(LintError, match=r"input 1 \(%x\) lacks a use record"):
        g.lint()
