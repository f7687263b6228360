"""Constant propagation: IR text in, expected IR text out."""
import textwrap

import pytest

from gpujit.ir import parse_ir
from gpujit.ops.schema import parse_schema
from gpujit.passes.constant_propagation import propagate_constants


def ir(text):
    return textwrap.dedent(text).lstrip("\n")


class FakeOp:
    """Enough of an OpDef for the pass (schema, tags, eager), for what the registry has
    no op of: a random number on ints, an op with two results."""

    def __init__(self, schema, eager, tags=()):
        self.schema = parse_schema(schema)
        self.name = self.schema.qualified_name
        self.eager = eager
        self.tags = frozenset(tags)


FAKE_OPS = {
    "test::randint": FakeOp("test::randint(int low, int high) -> int", lambda a, b: a,
                            tags={"random"}),
    "test::divmod": FakeOp("test::divmod(int x, int y) -> (int, int)", divmod),
}


def run(text):
    g = parse_ir(text)
    for n in g.walk():
        if n.kind in FAKE_OPS:
            n.op = FAKE_OPS[n.kind]
    g.lint()
    propagate_constants(g)
    g.lint()
    return str(g)


CASES = {
    # registry ops on constant numbers (aten::floordiv.int, aten::lt.int ...) are
    # computed; an error (division by zero) stays for run time; a random op never folds
    "scalar_ops": (ir("""
        graph(%x : Tensor):
          %a : int = prim::Constant[value=7]()
          %b : int = prim::Constant[value=2]()
          %z : int = prim::Constant[value=0]()
          %q : int = aten::floordiv(%a, %b)
          %bad : int = aten::floordiv(%a, %z)
          %r : int = test::randint(%a, %b)
          %lt : bool = aten::lt(%q, %a)
          %m : int, %n : int = test::divmod(%a, %b)
          return (%q, %bad, %r, %lt, %m, %n)
        """), ir("""
        graph(%x : Tensor):
          %a : int = prim::Constant[value=7]()
          %b : int = prim::Constant[value=2]()
          %z : int = prim::Constant[value=0]()
          %q : int = prim::Constant[value=3]()
          %bad : int = aten::floordiv(%a, %z)
          %r : int = test::randint(%a, %b)
          %lt : bool = prim::Constant[value=1]()
          %m : int = prim::Constant[value=3]()
          %n : int = prim::Constant[value=1]()
          return (%q, %bad, %r, %lt, %m, %n)
        """)),
    # `is` / `is not` of constants: an inlined function's `if size is not None:` given
    # None loses its branch; a test on a value that is not a constant stays
    "identity_of_constants": (ir("""
        graph(%x : Tensor,
              %o : int?):
          %none : NoneType = prim::Constant()
          %n : int[]? = prim::Constant()
          %two : int = prim::Constant[value=2]()
          %a : bool = aten::__isnot__(%n, %none)
          %b : bool = aten::__is__(%two, %none)
          %c : bool = aten::__is__(%o, %none)
          %y : Tensor = prim::If(%a)
            block0():
              %z : Tensor = aten::mul(%x, %two)
              -> (%z)
            block1():
              -> (%x)
          return (%y, %b, %c)
        """), ir("""
        graph(%x : Tensor,
              %o : int?):
          %none : NoneType = prim::Constant()
          %n : int[]? = prim::Constant()
          %two : int = prim::Constant[value=2]()
          %a : bool = prim::Constant[value=0]()
          %b : bool = prim::Constant[value=0]()
          %c : bool = aten::__is__(%o, %none)
          return (%x, %b, %c)
        """)),
    # a tensor result the graph returns is not folded (the executor's pipeline: the
    # caller gets a new tensor each call); a number computed from a tensor constant is
    # (torch 2.13's pass folds aten::item(%t) to 2 too)
    "tensors_stay": (ir("""
        graph(%x : Tensor):
          %one : int = prim::Constant[value=1]()
          %t : Tensor = prim::Constant[value={2}]()
          %y : Tensor = aten::mul(%t, %one)
          %s : Scalar = aten::item(%t)
          %z : Tensor = aten::add(%x, %x, %one)
          return (%y, %s, %z)
        """), ir("""
        graph(%x : Tensor):
          %one : int = prim::Constant[value=1]()
          %t : Tensor = prim::Constant[value={2}]()
          %y : Tensor = aten::mul(%t, %one)
          %s : Scalar = prim::Constant[value=2]()
          %z : Tensor = aten::add(%x, %x, %one)
          return (%y, %s, %z)
        """)),
    # a list of constants becomes a constant list; unpacking a constant tuple gives
    # its elements
    "containers": (ir("""
        graph(%x : Tensor):
          %2 : int = prim::Constant[value=2]()
          %3 : int = prim::Constant[value=3]()
          %s : int[] = prim::ListConstruct(%2, %3)
          %v : Tensor = aten::view(%x, %s)
          %t : (int, int) = prim::TupleConstruct(%3, %2)
          %a : int, %b : int = prim::TupleUnpack(%t)
          %l : int[] = prim::ListConstruct(%a, %b)
          %c : int, %d : int = prim::ListUnpack(%l)
          %e : Tensor = aten::view(%v, %l)
          return (%e, %c, %d)
        """), ir("""
        graph(%x : Tensor):
          %2 : int = prim::Constant[value=2]()
          %3 : int = prim::Constant[value=3]()
          %s : int[] = prim::Constant[value=[2, 3]]()
          %v : Tensor = aten::view(%x, %s)
          %t : (int, int) = prim::Constant[value=(3, 2)]()
          %a : int = prim::Constant[value=3]()
          %b : int = prim::Constant[value=2]()
          %l : int[] = prim::Constant[value=[3, 2]]()
          %c : int = prim::Constant[value=3]()
          %d : int = prim::Constant[value=2]()
          %e : Tensor = aten::view(%v, %l)
          return (%e, %c, %d)
        """)),
    # a list that is written to, or that the caller receives, is not one shared constant
    "mutable_lists_stay": (ir("""
        graph(%x : Tensor):
          %2 : int = prim::Constant[value=2]()
          %l : int[] = prim::ListConstruct(%2, %2)
          %u : int[] = aten::append(%l, %2)
          %v : Tensor = aten::view(%x, %l)
          %r : int[] = prim::ListConstruct(%2)
          return (%v, %r)
        """), None),
    # reading a constant list folds (aten::len.t); reading a list that is appended to
    # does not: its length is known only at run time
    "list_reads": (ir("""
        graph(%x : Tensor):
          %1 : int = prim::Constant[value=1]()
          %k : int[] = prim::Constant[value=[1, 2]]()
          %a : int = aten::len(%k)
          %l : int[] = prim::ListConstruct(%1)
          %u : int[] = aten::append(%l, %a)
          %b : int = aten::len(%l)
          return (%a, %b)
        """), ir("""
        graph(%x : Tensor):
          %1 : int = prim::Constant[value=1]()
          %k : int[] = prim::Constant[value=[1, 2]]()
          %a : int = prim::Constant[value=2]()
          %l : int[] = prim::ListConstruct(%1)
          %u : int[] = aten::append(%l, %a)
          %b : int = aten::len(%l)
          return (%a, %b)
        """)),
    # a constant condition: the taken block replaces the prim::If, then its nodes are
    # folded in turn (the inner prim::If too)
    "if": (ir("""
        graph(%x : Tensor):
          %t : bool = prim::Constant[value=1]()
          %f : bool = prim::Constant[value=0]()
          %1 : int = prim::Constant[value=1]()
          %y : Tensor = prim::If(%t)
            block0():
              %a : Tensor = aten::neg(%x)
               = prim::Print(%a)
              %b : Tensor = prim::If(%f)
                block0():
                  -> (%x)
                block1():
                  %c : Tensor = aten::add(%a, %x, %1)
                  -> (%c)
              -> (%b)
            block1():
              %d : Tensor = aten::relu(%x)
              -> (%d)
          return (%y)
        """), ir("""
        graph(%x : Tensor):
          %t : bool = prim::Constant[value=1]()
          %f : bool = prim::Constant[value=0]()
          %1 : int = prim::Constant[value=1]()
          %a : Tensor = aten::neg(%x)
           = prim::Print(%a)
          %c : Tensor = aten::add(%a, %x, %1)
          return (%c)
        """)),
    # a condition that folding makes constant
    "if_on_folded_condition": (ir("""
        graph(%x : Tensor):
          %a : int = prim::Constant[value=7]()
          %b : int = prim::Constant[value=2]()
          %c : bool = aten::lt(%a, %b)
          %y : Tensor = prim::If(%c)
            block0():
              %p : Tensor = aten::neg(%x)
              -> (%p)
            block1():
              -> (%x)
          return (%y)
        """), ir("""
        graph(%x : Tensor):
          %a : int = prim::Constant[value=7]()
          %b : int = prim::Constant[value=2]()
          %c : bool = prim::Constant[value=0]()
          return (%x)
        """)),
    # loops that run zero times give their initial values; others stay
    "loops": (ir("""
        graph(%x : Tensor,
              %n : int):
          %t : bool = prim::Constant[value=1]()
          %f : bool = prim::Constant[value=0]()
          %0 : int = prim::Constant[value=0]()
          %a : Tensor = prim::Loop(%0, %t, %x)
            block0(%i : int, %a.1 : Tensor):
              %a.2 : Tensor = aten::neg(%a.1)
               = prim::Print(%a.2)
              -> (%t, %a.2)
          %b : Tensor = prim::Loop(%n, %f, %a)
            block0(%j : int, %b.1 : Tensor):
              %b.2 : Tensor = aten::neg(%b.1)
              -> (%t, %b.2)
          %c : Tensor = prim::Loop(%n, %t, %b)
            block0(%k : int, %c.1 : Tensor):
              %c.2 : Tensor = aten::neg(%c.1)
              -> (%t, %c.2)
          return (%c)
        """), ir("""
        graph(%x : Tensor,
              %n : int):
          %t : bool = prim::Constant[value=1]()
          %f : bool = prim::Constant[value=0]()
          %0 : int = prim::Constant[value=0]()
          %c : Tensor = prim::Loop(%n, %t, %x)
            block0(%k : int, %c.1 : Tensor):
              %c.2 : Tensor = aten::neg(%c.1)
              -> (%t, %c.2)
          return (%c)
        """)),
    # constants inside blocks that are not taken away are folded where they are
    "inside_blocks": (ir("""
        graph(%x : Tensor,
              %c : bool):
          %2 : int = prim::Constant[value=2]()
          %3 : int = prim::Constant[value=3]()
          %y : Tensor = prim::If(%c)
            block0():
              %s : int[] = prim::ListConstruct(%3, %2)
              %v : Tensor = aten::view(%x, %s)
              -> (%v)
            block1():
              -> (%x)
          return (%y)
        """), ir("""
        graph(%x : Tensor,
              %c : bool):
          %2 : int = prim::Constant[value=2]()
          %3 : int = prim::Constant[value=3]()
          %y : Tensor = prim::If(%c)
            block0():
              %s : int[] = prim::Constant[value=[3, 2]]()
              %v : Tensor = aten::view(%x, %s)
              -> (%v)
            block1():
              -> (%x)
          return (%y)
        """)),
}

GRAPHS = [text for pair in CASES.values() for text in pair if text is not None]


@pytest.mark.parametrize("name", list(CASES))
def test_propagate_constants(name):
    before, after = CASES[name]
    assert run(before) == (before if after is None else after)


def test_folding_calls_the_registry_op():
    g = parse_ir(CASES["scalar_ops"][0])
    q = next(n for n in g.nodes if n.outputs and n.outputs[0].debug_name == "q")
    assert q.op.name == "aten::floordiv.int"
    lt = next(n for n in g.nodes if n.kind == "aten::lt")
    assert lt.op.name == "aten::lt.int"
