"""Constant pooling and common subexpression elimination: IR text in, IR text out."""
import textwrap

import pytest

from gpujit.ir import parse_ir
from gpujit.passes.cse import eliminate_common_subexpressions, pool_constants


def ir(text):
    return textwrap.dedent(text).lstrip("\n")


def run(text, pass_=eliminate_common_subexpressions):
    g = parse_ir(text)
    g.lint()
    pass_(g)
    g.lint()
    return str(g)


POOLING = {
    # same type and value -> one constant; 1, 1. and True differ; all move to the top,
    # in order of first appearance, out of blocks too
    "pool_and_hoist": (ir("""
        graph(%x : Tensor,
              %c : bool):
          %a : Tensor = aten::relu(%x)
          %1 : int = prim::Constant[value=1]()
          %f : float = prim::Constant[value=1.]()
          %b : bool = prim::Constant[value=1]()
          %y : Tensor = aten::add(%a, %x, %1)
          %z : Tensor = prim::If(%c)
            block0():
              %2 : int = prim::Constant[value=1]()
              %s : str = prim::Constant[value="floor"]()
              %p : Tensor = aten::mul(%y, %2)
              -> (%p)
            block1():
              %n : NoneType = prim::Constant()
              %s.1 : str = prim::Constant[value="floor"]()
              -> (%y)
          %n.1 : NoneType = prim::Constant()
          return (%z, %f, %b, %n.1)
        """), ir("""
        graph(%x : Tensor,
              %c : bool):
          %1 : int = prim::Constant[value=1]()
          %f : float = prim::Constant[value=1.]()
          %b : bool = prim::Constant[value=1]()
          %s : str = prim::Constant[value="floor"]()
          %n : NoneType = prim::Constant()
          %a : Tensor = aten::relu(%x)
          %y : Tensor = aten::add(%a, %x, %1)
          %z : Tensor = prim::If(%c)
            block0():
              %p : Tensor = aten::mul(%y, %1)
              -> (%p)
            block1():
              -> (%y)
          return (%z, %f, %b, %n)
        """)),
    # 0. and -0. are different constants; lists pool by value; tensor constants stay put
    "values": (ir("""
        graph(%x : Tensor):
          %z : float = prim::Constant[value=0.]()
          %m : float = prim::Constant[value=-0.]()
          %z.1 : float = prim::Constant[value=0.]()
          %t : Tensor = prim::Constant[value={1}]()
          %l : int[] = prim::Constant[value=[2, 3]]()
          %l.1 : int[] = prim::Constant[value=[2, 3]]()
          %t.1 : Tensor = prim::Constant[value={1}]()
          return (%z, %m, %z.1, %t, %l, %l.1, %t.1)
        """), ir("""
        graph(%x : Tensor):
          %z : float = prim::Constant[value=0.]()
          %m : float = prim::Constant[value=-0.]()
          %t : Tensor = prim::Constant[value={1}]()
          %l : int[] = prim::Constant[value=[2, 3]]()
          %t.1 : Tensor = prim::Constant[value={1}]()
          return (%z, %m, %z, %t, %l, %l, %t.1)
        """)),
    # (c59) tensor constants are hoisted, and equal ones pooled (torch's EqualNode
    # compares values) unless something writes one or both leave the graph (%t, %t.1
    # above; torch's safeToChangeAliasingRelationship)
    "tensors": (ir("""
        graph(%x : Tensor):
          %1 : int = prim::Constant[value=1]()
          %a : Tensor = prim::Constant[value={2}]()
          %y : Tensor = aten::mul(%x, %a)
          %b : Tensor = prim::Constant[value={2}]()
          %z : Tensor = aten::add(%y, %b, %1)
          %w : Tensor = aten::add(%z, %a, %1)
          %d : Tensor = prim::Constant[value={2}]()
          %v : Tensor = aten::add_(%d, %w, %1)
          return (%v)
        """), ir("""
        graph(%x : Tensor):
          %1 : int = prim::Constant[value=1]()
          %a : Tensor = prim::Constant[value={2}]()
          %y : Tensor = aten::mul(%x, %a)
          %z : Tensor = aten::add(%y, %a, %1)
          %w : Tensor = aten::add(%z, %a, %1)
          %d : Tensor = prim::Constant[value={2}]()
          %v : Tensor = aten::add_(%d, %w, %1)
          return (%v)
        """)),
}

CSE = {
    # the sample graph: the second add is the first
    "sample": (ir("""
        graph(%x.1 : Tensor,
              %y.1 : Tensor):
          %2 : int = prim::Constant[value=1]()
          %3 : Tensor = aten::add(%x.1, %y.1, %2)
          %4 : Tensor = aten::add(%x.1, %y.1, %2)
          %5 : Tensor = aten::mul(%3, %4)
          return (%5)
        """), ir("""
        graph(%x.1 : Tensor,
              %y.1 : Tensor):
          %2 : int = prim::Constant[value=1]()
          %3 : Tensor = aten::add(%x.1, %y.1, %2)
          %5 : Tensor = aten::mul(%3, %3)
          return (%5)
        """)),
    # different inputs, attributes, or input order are different expressions; a chain
    # of duplicates folds all the way
    # (two nodes that both leave the graph stay two, as TorchScript's: the caller may
    # write one result and must not see the other change)
    "chains": (ir("""
        graph(%x : Tensor,
              %y : Tensor,
              %m : __torch__.CseModule):
          %a : Tensor = aten::sub(%x, %y)
          %b : Tensor = aten::sub(%y, %x)
          %c : Tensor = aten::sub(%x, %y)
          %d : Tensor = aten::relu(%a)
          %e : Tensor = aten::relu(%c)
          %w : Tensor = prim::GetAttr[name="weight"](%m)
          %v : Tensor = prim::GetAttr[name="bias"](%m)
          %w.1 : Tensor = prim::GetAttr[name="weight"](%m)
          return (%b, %d, %e, %w, %v, %w.1)
        """), ir("""
        graph(%x : Tensor,
              %y : Tensor,
              %m : __torch__.CseModule):
          %a : Tensor = aten::sub(%x, %y)
          %b : Tensor = aten::sub(%y, %x)
          %d : Tensor = aten::relu(%a)
          %e : Tensor = aten::relu(%a)
          %w : Tensor = prim::GetAttr[name="weight"](%m)
          %v : Tensor = prim::GetAttr[name="bias"](%m)
          %w.1 : Tensor = prim::GetAttr[name="weight"](%m)
          return (%b, %d, %e, %w, %v, %w.1)
        """)),
    # an in-place write to (an alias of) the inputs between two reads: not the same
    # value; a write after both reads does not matter
    "write_between": (ir("""
        graph(%x : Tensor,
              %y : Tensor):
          %1 : int = prim::Constant[value=1]()
          %a : Tensor = aten::mul(%x, %y)
          %w : Tensor = aten::add_(%x, %y, %1)
          %b : Tensor = aten::mul(%x, %y)
          %c : Tensor = aten::mul(%x, %y)
          %w.1 : Tensor = aten::add_(%y, %y, %1)
          %r : Tensor = aten::add(%a, %b, %1)
          %s : Tensor = aten::add(%r, %c, %1)
          return (%s)
        """), ir("""
        graph(%x : Tensor,
              %y : Tensor):
          %1 : int = prim::Constant[value=1]()
          %a : Tensor = aten::mul(%x, %y)
          %w : Tensor = aten::add_(%x, %y, %1)
          %b : Tensor = aten::mul(%x, %y)
          %w.1 : Tensor = aten::add_(%y, %y, %1)
          %r : Tensor = aten::add(%a, %b, %1)
          %s : Tensor = aten::add(%r, %b, %1)
          return (%s)
        """)),
    # a write through a view of %t separates two reads of %t; a write to an unrelated
    # fresh tensor does not
    "write_through_view": (ir("""
        graph(%x : Tensor):
          %2 : int = prim::Constant[value=2]()
          %s : int[] = prim::Constant[value=[-1]]()
          %t : Tensor = aten::mul(%x, %2)
          %u : Tensor = aten::mul(%x, %x)
          %a : Tensor = aten::sum(%t)
          %v : Tensor = aten::view(%t, %s)
          %w : Tensor = aten::relu_(%v)
          %b : Tensor = aten::sum(%t)
          %p : Tensor = aten::sum(%u)
          %k : Tensor = aten::relu_(%t)
          %q : Tensor = aten::sum(%u)
          %r : Tensor = aten::mul(%p, %q)
          return (%a, %b, %r)
        """), ir("""
        graph(%x : Tensor):
          %2 : int = prim::Constant[value=2]()
          %s : int[] = prim::Constant[value=[-1]]()
          %t : Tensor = aten::mul(%x, %2)
          %u : Tensor = aten::mul(%x, %x)
          %a : Tensor = aten::sum(%t)
          %v : Tensor = aten::view(%t, %s)
          %w : Tensor = aten::relu_(%v)
          %b : Tensor = aten::sum(%t)
          %p : Tensor = aten::sum(%u)
          %k : Tensor = aten::relu_(%t)
          %r : Tensor = aten::mul(%p, %p)
          return (%a, %b, %r)
        """)),
    # a result that something writes is not shared (%b.add_ would change %a);
    # random ops and side effects are never merged
    "written_results_and_random": (ir("""
        graph(%x : Tensor):
          %1 : int = prim::Constant[value=1]()
          %a : Tensor = aten::mul(%x, %1)
          %b : Tensor = aten::mul(%x, %1)
          %c : Tensor = aten::add_(%b, %x, %1)
          %r : Tensor = aten::rand_like(%x)
          %s : Tensor = aten::rand_like(%x)
          %l : int[] = prim::ListConstruct(%1)
          %l.1 : int[] = prim::ListConstruct(%1)
          return (%a, %c, %r, %s, %l, %l.1)
        """), None),
    # scopes: a block sees what its enclosing blocks computed before it, not its
    # sibling's or what comes after
    "blocks": (ir("""
        graph(%x : Tensor,
              %c : bool):
          %a : Tensor = aten::neg(%x)
          %y : Tensor = prim::If(%c)
            block0():
              %b : Tensor = aten::neg(%x)
              %e : Tensor = aten::exp(%x)
              %s : Tensor = aten::mul(%b, %e)
              -> (%s)
            block1():
              %e.1 : Tensor = aten::exp(%x)
              -> (%e.1)
          %e.2 : Tensor = aten::exp(%x)
          return (%y, %e.2, %a)
        """), ir("""
        graph(%x : Tensor,
              %c : bool):
          %a : Tensor = aten::neg(%x)
          %y : Tensor = prim::If(%c)
            block0():
              %e : Tensor = aten::exp(%x)
              %s : Tensor = aten::mul(%a, %e)
              -> (%s)
            block1():
              %e.1 : Tensor = aten::exp(%x)
              -> (%e.1)
          %e.2 : Tensor = aten::exp(%x)
          return (%y, %e.2, %a)
        """)),
    # in a loop, a write anywhere in the body separates a read in the body from one
    # before the loop (it runs between them on the next trip); without it they merge
    "loops": (ir("""
        graph(%x : Tensor,
              %n : int):
          %t : bool = prim::Constant[value=1]()
          %1 : int = prim::Constant[value=1]()
          %a : Tensor = aten::sigmoid(%x)
          %k : Tensor = aten::tanh(%x)
          %h : Tensor = prim::Loop(%n, %t, %k)
            block0(%j : int, %h.1 : Tensor):
              %k.1 : Tensor = aten::tanh(%x)
              %h.2 : Tensor = aten::add(%h.1, %k.1, %1)
              -> (%t, %h.2)
           = prim::Loop(%n, %t)
            block0(%i : int):
              %b : Tensor = aten::sigmoid(%x)
               = prim::Print(%b)
              %w : Tensor = aten::add_(%x, %x, %1)
              -> (%t)
          return (%a, %h)
        """), ir("""
        graph(%x : Tensor,
              %n : int):
          %t : bool = prim::Constant[value=1]()
          %1 : int = prim::Constant[value=1]()
          %a : Tensor = aten::sigmoid(%x)
          %k : Tensor = aten::tanh(%x)
          %h : Tensor = prim::Loop(%n, %t, %k)
            block0(%j : int, %h.1 : Tensor):
              %h.2 : Tensor = aten::add(%h.1, %k, %1)
              -> (%t, %h.2)
           = prim::Loop(%n, %t)
            block0(%i : int):
              %b : Tensor = aten::sigmoid(%x)
               = prim::Print(%b)
              %w : Tensor = aten::add_(%x, %x, %1)
              -> (%t)
          return (%a, %h)
        """)),
    # an opaque call may write any graph input: reads of inputs around it differ
    "opaque_call": (ir("""
        graph(%x : Tensor):
          %a : Tensor = aten::exp(%x)
          %r : Tensor = prim::CallFunction[name="update"](%a)
          %b : Tensor = aten::exp(%x)
          return (%a, %b, %r)
        """), None),
}

GRAPHS = [text for table in (POOLING, CSE) for pair in table.values() for text in pair
          if text is not None]


@pytest.mark.parametrize("name", list(POOLING))
def test_pool_constants(name):
    before, after = POOLING[name]
    assert run(before, pool_constants) == after


@pytest.mark.parametrize("name", list(CSE))
def test_eliminate_common_subexpressions(name):
    before, after = CSE[name]
    assert run(before) == (before if after is None else after)
