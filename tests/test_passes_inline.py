"""Inlining of prim::CallFunction / prim::CallMethod: IR text in, expected IR text out."""
import textwrap

import pytest

from gpujit.ir import ClassType, parse_ir, register_class_type
from gpujit.passes.inline import InlineError, inline_calls, inlined_graph


def ir(text):
    return textwrap.dedent(text).lstrip("\n")


# a module type whose forward the tests call: the class must be known before graph
# text that names it is parsed, and its method graphs name it for self
CELL = register_class_type(ClassType("__torch__.test_passes_inline.Cell"))

CELL_FORWARD = ir("""
    graph(%self : __torch__.test_passes_inline.Cell,
          %x.1 : Tensor):
      %1 : int = prim::Constant[value=1]()
      %w : Tensor = prim::GetAttr[name="weight"](%self)
      %y : Tensor = aten::mul(%x.1, %w)
      %z : Tensor = prim::CallFunction[name="gelu_ish"](%y)
      %out : Tensor = aten::add(%z, %x.1, %1)
      return (%out)
    """)

GELU_ISH = ir("""
    graph(%x.1 : Tensor):
      %s : Tensor = aten::sigmoid(%x.1)
      %r : Tensor = aten::mul(%x.1, %s)
      return (%r)
    """)

PAIR = ir("""
    graph(%a : Tensor,
          %b : Tensor):
      %s : Tensor = aten::add(%a, %b)
      %d : Tensor = aten::sub(%a, %b)
      return (%s, %a, %d)
    """)

CELL.methods["forward"] = parse_ir(CELL_FORWARD)
FUNCTIONS = {"gelu_ish": parse_ir(GELU_ISH), "pair": parse_ir(PAIR)}


def run(text, functions=FUNCTIONS, callees=None):
    g = parse_ir(text)
    for n in g.walk():
        if callees and n.attrs.get("name") in callees:
            n.meta["callee"] = callees[n.attrs["name"]]
    g.lint()
    inline_calls(g, functions)
    g.lint()
    return str(g)


CASES = {
    # a method call: self is bound to the module value; the body's own call is inlined
    # too; the callee's names are made unique in the caller (its %r becomes %r.1, its
    # numbered %1 a fresh number)
    "method_and_nested_function": (ir("""
        graph(%self.1 : __torch__.test_passes_inline.Cell,
              %x.1 : Tensor):
          %h : Tensor = prim::CallMethod[name="forward"](%self.1, %x.1)
          %r : Tensor = aten::relu(%h)
          return (%r)
        """), ir("""
        graph(%self.1 : __torch__.test_passes_inline.Cell,
              %x.1 : Tensor):
          %5 : int = prim::Constant[value=1]()
          %w : Tensor = prim::GetAttr[name="weight"](%self.1)
          %y : Tensor = aten::mul(%x.1, %w)
          %s : Tensor = aten::sigmoid(%y)
          %r.1 : Tensor = aten::mul(%y, %s)
          %out : Tensor = aten::add(%r.1, %x.1, %5)
          %r : Tensor = aten::relu(%out)
          return (%r)
        """)),
    # several outputs, one of them an input passed through; calls inside blocks
    "outputs_and_blocks": (ir("""
        graph(%x : Tensor,
              %y : Tensor,
              %c : bool):
          %o : Tensor = prim::If(%c)
            block0():
              %s : Tensor, %a : Tensor, %d : Tensor = prim::CallFunction[name="pair"](%x, %y)
              %t : Tensor = aten::mul(%s, %d)
              %u : Tensor = aten::mul(%t, %a)
              -> (%u)
            block1():
              -> (%x)
          return (%o)
        """), ir("""
        graph(%x : Tensor,
              %y : Tensor,
              %c : bool):
          %o : Tensor = prim::If(%c)
            block0():
              %s.1 : Tensor = aten::add(%x, %y)
              %d.1 : Tensor = aten::sub(%x, %y)
              %t : Tensor = aten::mul(%s.1, %d.1)
              %u : Tensor = aten::mul(%t, %x)
              -> (%u)
            block1():
              -> (%x)
          return (%o)
        """)),
    # TorchScript's form passes the function value first; a call nobody can resolve
    # stays for the executor
    "function_value_and_unknown": (ir("""
        graph(%x : Tensor):
          %f : Function = prim::Constant[name="gelu_ish"]()
          %y : Tensor = prim::CallFunction(%f, %x)
          %z : Tensor = prim::CallFunction[name="elsewhere"](%y)
          return (%z)
        """), ir("""
        graph(%x : Tensor):
          %f : Function = prim::Constant[name="gelu_ish"]()
          %s : Tensor = aten::sigmoid(%x)
          %r : Tensor = aten::mul(%x, %s)
          %z : Tensor = prim::CallFunction[name="elsewhere"](%r)
          return (%z)
        """)),
}

GRAPHS = [CELL_FORWARD, GELU_ISH, PAIR] + [text for pair in CASES.values() for text in pair]


@pytest.mark.parametrize("name", list(CASES))
def test_inline_calls(name):
    before, after = CASES[name]
    assert run(before) == after


class ScriptedFunction:
    """Anything with a .graph is a callee (as a scripted function is)."""

    def __init__(self, graph):
        self.graph = graph


def test_callee_from_node_meta_wins():
    before = ir("""
        graph(%x : Tensor):
          %y : Tensor = prim::CallFunction[name="gelu_ish"](%x)
          return (%y)
        """)
    neg = parse_ir(ir("""
        graph(%a : Tensor):
          %b : Tensor = aten::neg(%a)
          return (%b)
        """))
    assert run(before, callees={"gelu_ish": ScriptedFunction(neg)}) == ir("""
        graph(%x : Tensor):
          %b : Tensor = aten::neg(%x)
          return (%b)
        """)


def test_inlined_graph_leaves_the_original():
    text = CASES["method_and_nested_function"][0]
    g = parse_ir(text)
    copy = inlined_graph(g, FUNCTIONS)
    copy.lint()
    assert str(g) == text
    assert str(copy) == CASES["method_and_nested_function"][1]


def test_recursion_is_an_error():
    ping = parse_ir(ir("""
        graph(%x : Tensor):
          %y : Tensor = prim::CallFunction[name="pong"](%x)
          return (%y)
        """))
    pong = parse_ir(ir("""
        graph(%x : Tensor):
          %y : Tensor = prim::CallFunction[name="ping"](%x)
          return (%y)
        """))
    g = parse_ir(ir("""
        graph(%x : Tensor):
          %y : Tensor = prim::CallFunction[name="ping"](%x)
          return (%y)
        """))
    with pytest.raises(InlineError, match=r"recursive call \(prim::CallFunction\[name='ping'\]"
                                          r" -> .*'pong'.* -> .*'ping'"):
        inline_calls(g, {"ping": ping, "pong": pong})


def test_arity_mismatch_is_an_error():
    g = parse_ir(ir("""
        graph(%x : Tensor):
          %y : Tensor = prim::CallFunction[name="pair"](%x)
          return (%y)
        """))
    with pytest.raises(InlineError, match="passes 1 arguments but its callee takes 2"):
        inline_calls(g, FUNCTIONS)
