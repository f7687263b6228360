"""Dead code elimination: IR text in, expected IR text out."""
import textwrap

import pytest

from gpujit.ir import parse_ir
from gpujit.passes.dce import eliminate_dead_code


def ir(text):
    return textwrap.dedent(text).lstrip("\n")


def run(text):
    g = parse_ir(text)
    g.lint()
    eliminate_dead_code(g)
    g.lint()
    return str(g)


CASES = {
    # unused pure nodes go, and unused random draws (TorchScript's DCE: a draw is no side
    # effect; torch 2.13's _jit_pass_dce drops this dropout); printing and in-place
    # writes into an input stay
    "side_effects_stay": (ir("""
        graph(%x : Tensor):
          %1 : int = prim::Constant[value=1]()
          %p : float = prim::Constant[value=0.5]()
          %t : bool = prim::Constant[value=1]()
          %a : Tensor = aten::mul(%x, %1)
          %b : Tensor = aten::add_(%x, %x, %1)
          %d : Tensor = aten::dropout(%x, %p, %t)
          %c : Tensor = aten::relu(%x)
           = prim::Print(%c)
          %unused : Tensor = aten::neg(%a)
          return (%x)
        """), ir("""
        graph(%x : Tensor):
          %1 : int = prim::Constant[value=1]()
          %b : Tensor = aten::add_(%x, %x, %1)
          %c : Tensor = aten::relu(%x)
           = prim::Print(%c)
          return (%x)
        """)),
    # an unused prim::If output goes from both blocks, with what only it needed
    "if_outputs": (ir("""
        graph(%x : Tensor,
              %c : bool):
          %1 : int = prim::Constant[value=1]()
          %a : Tensor, %b : Tensor = prim::If(%c)
            block0():
              %p : Tensor = aten::add(%x, %x, %1)
              %q : Tensor = aten::mul(%x, %x)
              -> (%p, %q)
            block1():
              %r : Tensor = aten::neg(%x)
              -> (%x, %r)
          return (%a)
        """), ir("""
        graph(%x : Tensor,
              %c : bool):
          %1 : int = prim::Constant[value=1]()
          %a : Tensor = prim::If(%c)
            block0():
              %p : Tensor = aten::add(%x, %x, %1)
              -> (%p)
            block1():
              -> (%x)
          return (%a)
        """)),
    # a prim::If with no used output and no side effect goes whole; one that prints stays
    "if_whole": (ir("""
        graph(%x : Tensor,
              %c : bool):
          %a : Tensor = prim::If(%c)
            block0():
              %p : Tensor = aten::relu(%x)
              -> (%p)
            block1():
              -> (%x)
          %b : Tensor = prim::If(%c)
            block0():
              %q : Tensor = aten::neg(%x)
               = prim::Print(%q)
              -> (%q)
            block1():
              -> (%x)
          return (%x)
        """), ir("""
        graph(%x : Tensor,
              %c : bool):
           = prim::If(%c)
            block0():
              %q : Tensor = aten::neg(%x)
               = prim::Print(%q)
              -> ()
            block1():
              -> ()
          return (%x)
        """)),
    # a carried value nobody reads after the loop, and that the body reads only to
    # compute itself, goes (output, input, block input, block output)
    "loop_carried": (ir("""
        graph(%x : Tensor,
              %n : int):
          %t : bool = prim::Constant[value=1]()
          %1 : int = prim::Constant[value=1]()
          %a : Tensor, %b : Tensor = prim::Loop(%n, %t, %x, %x)
            block0(%i : int, %a.1 : Tensor, %b.1 : Tensor):
              %a.2 : Tensor = aten::add(%a.1, %x, %1)
              %b.2 : Tensor = aten::mul(%b.1, %b.1)
              -> (%t, %a.2, %b.2)
          return (%a)
        """), ir("""
        graph(%x : Tensor,
              %n : int):
          %t : bool = prim::Constant[value=1]()
          %1 : int = prim::Constant[value=1]()
          %a : Tensor = prim::Loop(%n, %t, %x)
            block0(%i : int, %a.1 : Tensor):
              %a.2 : Tensor = aten::add(%a.1, %x, %1)
              -> (%t, %a.2)
          return (%a)
        """)),
    # %b is unused after the loop but feeds %a on the next trip, and %c feeds %b: both
    # stay (the body is marked until the live carried set stops growing); %d goes
    "loop_carried_chain": (ir("""
        graph(%x : Tensor,
              %n : int):
          %t : bool = prim::Constant[value=1]()
          %1 : int = prim::Constant[value=1]()
          %a : Tensor, %b : Tensor, %c : Tensor, %d : Tensor = prim::Loop(%n, %t, %x, %x, %x, %x)
            block0(%i : int, %a.1 : Tensor, %b.1 : Tensor, %c.1 : Tensor, %d.1 : Tensor):
              %a.2 : Tensor = aten::add(%a.1, %b.1, %1)
              %b.2 : Tensor = aten::neg(%c.1)
              %c.2 : Tensor = aten::relu(%c.1)
              %d.2 : Tensor = aten::add(%d.1, %c.1, %1)
              -> (%t, %a.2, %b.2, %c.2, %d.2)
          return (%a)
        """), ir("""
        graph(%x : Tensor,
              %n : int):
          %t : bool = prim::Constant[value=1]()
          %1 : int = prim::Constant[value=1]()
          %a : Tensor, %b : Tensor, %c : Tensor = prim::Loop(%n, %t, %x, %x, %x)
            block0(%i : int, %a.1 : Tensor, %b.1 : Tensor, %c.1 : Tensor):
              %a.2 : Tensor = aten::add(%a.1, %b.1, %1)
              %b.2 : Tensor = aten::neg(%c.1)
              %c.2 : Tensor = aten::relu(%c.1)
              -> (%t, %a.2, %b.2, %c.2)
          return (%a)
        """)),
    # a loop whose results are unused goes whole unless its body has a side effect
    "loop_whole": (ir("""
        graph(%x : Tensor,
              %n : int):
          %t : bool = prim::Constant[value=1]()
          %a : Tensor = prim::Loop(%n, %t, %x)
            block0(%i : int, %a.1 : Tensor):
              %a.2 : Tensor = aten::relu(%a.1)
              -> (%t, %a.2)
          %b : Tensor = prim::Loop(%n, %t, %x)
            block0(%j : int, %b.1 : Tensor):
              %b.2 : Tensor = aten::relu(%b.1)
               = prim::Print(%j)
              -> (%t, %b.2)
          return (%x)
        """), ir("""
        graph(%x : Tensor,
              %n : int):
          %t : bool = prim::Constant[value=1]()
           = prim::Loop(%n, %t)
            block0(%j : int):
               = prim::Print(%j)
              -> (%t)
          return (%x)
        """)),
    # dead code inside a kept block goes; what only it used outside goes too
    "nested": (ir("""
        graph(%x : Tensor,
              %c : bool):
          %1 : int = prim::Constant[value=1]()
          %o : Tensor = aten::sigmoid(%x)
          %a : Tensor = prim::If(%c)
            block0():
              %dead : Tensor = aten::mul(%o, %1)
              %p : Tensor = aten::neg(%x)
              -> (%p)
            block1():
              -> (%x)
          return (%a)
        """), ir("""
        graph(%x : Tensor,
              %c : bool):
          %a : Tensor = prim::If(%c)
            block0():
              %p : Tensor = aten::neg(%x)
              -> (%p)
            block1():
              -> (%x)
          return (%a)
        """)),
    # graph inputs are never removed, even when unused
    "inputs_stay": (ir("""
        graph(%x : Tensor,
              %unused : Tensor):
          %y : Tensor = aten::relu(%unused)
          return (%x)
        """), ir("""
        graph(%x : Tensor,
              %unused : Tensor):
          return (%x)
        """)),
}

GRAPHS = [text for pair in CASES.values() for text in pair]


@pytest.mark.parametrize("name", list(CASES))
def test_eliminate_dead_code(name):
    before, after = CASES[name]
    assert run(before) == after


def test_dead_code_is_idempotent():
    for before, after in CASES.values():
        assert run(after) == after
