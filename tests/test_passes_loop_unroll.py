"""Loop unrolling: IR text in, expected IR text out."""
import textwrap

import pytest

from gpujit.ir import parse_ir
from gpujit.passes.loop_unroll import unroll_loops


def ir(text):
    return textwrap.dedent(text).lstrip("\n")


def run(text, **kw):
    g = parse_ir(text)
    g.lint()
    unroll_loops(g, **kw)
    g.lint()
    return str(g)


FOR_3 = ir("""
    graph(%x : Tensor):
      %n : int = prim::Constant[value=3]()
      %t : bool = prim::Constant[value=1]()
      %y : Tensor = prim::Loop(%n, %t, %x)
        block0(%i : int, %acc : Tensor):
          %acc.1 : Tensor = aten::add(%acc, %x, %i)
          -> (%t, %acc.1)
      return (%y)
    """)

CASES = {
    # for i in range(3): acc = acc + x * i -> three copies, i bound to 0, 1, 2
    "for_range": (FOR_3, ir("""
        graph(%x : Tensor):
          %n : int = prim::Constant[value=3]()
          %t : bool = prim::Constant[value=1]()
          %i.1 : int = prim::Constant[value=0]()
          %acc.2 : Tensor = aten::add(%x, %x, %i.1)
          %i.2 : int = prim::Constant[value=1]()
          %acc.3 : Tensor = aten::add(%acc.2, %x, %i.2)
          %i.3 : int = prim::Constant[value=2]()
          %acc.4 : Tensor = aten::add(%acc.3, %x, %i.3)
          return (%acc.4)
        """)),
    # inner loops first, then the outer one copies the unrolled body; a body that does
    # not read the index gets no index constants; side effects are copied in order
    "nested": (ir("""
        graph(%x : Tensor):
          %2 : int = prim::Constant[value=2]()
          %t : bool = prim::Constant[value=1]()
          %y : Tensor = prim::Loop(%2, %t, %x)
            block0(%i : int, %a : Tensor):
              %b : Tensor = prim::Loop(%2, %t, %a)
                block0(%j : int, %c : Tensor):
                  %d : Tensor = aten::mul(%c, %j)
                  -> (%t, %d)
               = prim::Print(%b)
              -> (%t, %b)
          return (%y)
        """), ir("""
        graph(%x : Tensor):
          %2 : int = prim::Constant[value=2]()
          %t : bool = prim::Constant[value=1]()
          %j.3 : int = prim::Constant[value=0]()
          %d.3 : Tensor = aten::mul(%x, %j.3)
          %j.4 : int = prim::Constant[value=1]()
          %d.4 : Tensor = aten::mul(%d.3, %j.4)
           = prim::Print(%d.4)
          %j.5 : int = prim::Constant[value=0]()
          %d.5 : Tensor = aten::mul(%d.4, %j.5)
          %j.6 : int = prim::Constant[value=1]()
          %d.6 : Tensor = aten::mul(%d.5, %j.6)
           = prim::Print(%d.6)
          return (%d.6)
        """)),
    # zero trips: the loop gives its initial values
    "zero_trips": (ir("""
        graph(%x : Tensor):
          %0 : int = prim::Constant[value=0]()
          %t : bool = prim::Constant[value=1]()
          %y : Tensor = prim::Loop(%0, %t, %x)
            block0(%i : int, %a : Tensor):
              %b : Tensor = aten::neg(%a)
              -> (%t, %b)
          return (%y)
        """), ir("""
        graph(%x : Tensor):
          %0 : int = prim::Constant[value=0]()
          %t : bool = prim::Constant[value=1]()
          return (%x)
        """)),
    # not unrolled: more trips than the limit, an unknown trip count, a while loop
    # (the body computes its condition)
    "left_alone": (ir("""
        graph(%x : Tensor,
              %n : int):
          %9 : int = prim::Constant[value=9]()
          %t : bool = prim::Constant[value=1]()
          %a : Tensor = prim::Loop(%9, %t, %x)
            block0(%i : int, %a.1 : Tensor):
              %a.2 : Tensor = aten::neg(%a.1)
              -> (%t, %a.2)
          %b : Tensor = prim::Loop(%n, %t, %a)
            block0(%j : int, %b.1 : Tensor):
              %b.2 : Tensor = aten::neg(%b.1)
              -> (%t, %b.2)
          %c : Tensor = prim::Loop(%9, %t, %b)
            block0(%k : int, %c.1 : Tensor):
              %c.2 : Tensor = aten::neg(%c.1)
              %go : bool = aten::lt(%k, %n)
              -> (%go, %c.2)
          return (%c)
        """), None),
}

GRAPHS = [text for pair in CASES.values() for text in pair if text is not None]


@pytest.mark.parametrize("name", list(CASES))
def test_unroll_loops(name):
    before, after = CASES[name]
    assert run(before) == (before if after is None else after)


def test_the_limit_is_an_option():
    assert run(FOR_3, max_trip_count=2) == FOR_3
    assert run(FOR_3, max_trip_count=3) == CASES["for_range"][1]
