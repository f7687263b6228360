"""Peephole rewrites: IR text in, expected IR text out."""
import textwrap

import pytest

from gpujit.ir import parse_ir
from gpujit.passes.peephole import peephole_optimize


def ir(text):
    return textwrap.dedent(text).lstrip("\n")


def run(text):
    g = parse_ir(text)
    g.lint()
    peephole_optimize(g)
    g.lint()
    return str(g)


CASES = {
    # float x: * 1, 1 *, + 0 (alpha 1), 0 +, - 0, / 1 and * 1. are all x
    "float_identities": (ir("""
        graph(%x : Float(3)):
          %0 : int = prim::Constant[value=0]()
          %1 : int = prim::Constant[value=1]()
          %f : float = prim::Constant[value=1.]()
          %a : Tensor = aten::mul(%x, %1)
          %b : Tensor = aten::mul(%1, %a)
          %c : Tensor = aten::add(%b, %0, %1)
          %d : Tensor = aten::add(%0, %c)
          %e : Tensor = aten::sub(%d, %0, %1)
          %g : Tensor = aten::div(%e, %1)
          %h : Tensor = aten::mul(%g, %f)
          %r : Tensor = aten::relu(%h)
          return (%r)
        """), ir("""
        graph(%x : Float(3)):
          %0 : int = prim::Constant[value=0]()
          %1 : int = prim::Constant[value=1]()
          %f : float = prim::Constant[value=1.]()
          %r : Tensor = aten::relu(%x)
          return (%r)
        """)),
    # what would change the dtype, or is not an identity, stays: int * 1. is float,
    # int / 1 is float (true division), bool + 0 is int64, an unknown dtype could be
    # any of these, alpha 2 and rounding modes are other ops, 2 is not 1
    "types_and_non_identities_stay": (ir("""
        graph(%i : Long(3),
              %b : Bool(3),
              %t : Tensor,
              %x : Float(3)):
          %0 : int = prim::Constant[value=0]()
          %1 : int = prim::Constant[value=1]()
          %2 : int = prim::Constant[value=2]()
          %f : float = prim::Constant[value=1.]()
          %s : str = prim::Constant[value="floor"]()
          %a : Tensor = aten::mul(%i, %f)
          %c : Tensor = aten::div(%i, %1)
          %d : Tensor = aten::add(%b, %0)
          %e : Tensor = aten::mul(%t, %1)
          %g : Tensor = aten::sub(%x, %0, %2)
          %h : Tensor = aten::div(%x, %1, %s)
          %k : Tensor = aten::mul(%x, %2)
          %l : Tensor = aten::mul(%x, %x)
          return (%a, %c, %d, %e, %g, %h, %k, %l)
        """), None),
    # integer identities that keep the dtype do apply: int * 1, int + 0
    "int_identities": (ir("""
        graph(%i : Int(3)):
          %0 : int = prim::Constant[value=0]()
          %1 : int = prim::Constant[value=1]()
          %a : Tensor = aten::mul(%i, %1)
          %b : Tensor = aten::add(%a, %0)
          return (%b)
        """), ir("""
        graph(%i : Int(3)):
          %0 : int = prim::Constant[value=0]()
          %1 : int = prim::Constant[value=1]()
          return (%i)
        """)),
    # aten::to the dtype x has is x; another dtype, copy=True, or an unknown dtype stay
    # (dtype constants print as TorchScript's ints: float32 is 6)
    "to_same_dtype": (ir("""
        graph(%x : Float(3),
              %t : Tensor):
          %f32 : int = prim::Constant[value=6]()
          %f64 : int = prim::Constant[value=7]()
          %no : bool = prim::Constant[value=0]()
          %yes : bool = prim::Constant[value=1]()
          %a : Tensor = aten::to(%x, %f32)
          %b : Tensor = aten::to(%x, %f32, %no, %no)
          %c : Tensor = aten::to(%x, %f32, %no, %yes)
          %d : Tensor = aten::to(%x, %f64)
          %e : Tensor = aten::to(%t, %f32)
          return (%a, %b, %c, %d, %e)
        """), ir("""
        graph(%x : Float(3),
              %t : Tensor):
          %f32 : int = prim::Constant[value=6]()
          %f64 : int = prim::Constant[value=7]()
          %no : bool = prim::Constant[value=0]()
          %yes : bool = prim::Constant[value=1]()
          %c : Tensor = aten::to(%x, %f32, %no, %yes)
          %d : Tensor = aten::to(%x, %f64)
          %e : Tensor = aten::to(%t, %f32)
          return (%x, %x, %c, %d, %e)
        """)),
    # t(t(x)) is x for a 2-d x (the inner t is left for DCE), inside blocks too
    "double_transpose": (ir("""
        graph(%x : Float(2, 3),
              %c : bool):
          %a : Tensor = aten::t(%x)
          %b : Tensor = aten::t(%a)
          %r : Tensor = prim::If(%c)
            block0():
              %p : Tensor = aten::t(%a)
              -> (%p)
            block1():
              -> (%x)
          return (%b, %r)
        """), ir("""
        graph(%x : Float(2, 3),
              %c : bool):
          %a : Tensor = aten::t(%x)
          %r : Tensor = prim::If(%c)
            block0():
              -> (%x)
            block1():
              -> (%x)
          return (%x, %r)
        """)),
    # t of a 3-d tensor raises at run time, which must stay; so does an unknown rank
    "transpose_3d_stays": (ir("""
        graph(%y : Float(2, 3, 4),
              %z : Tensor):
          %d : Tensor = aten::t(%y)
          %e : Tensor = aten::t(%d)
          %f : Tensor = aten::t(%z)
          %g : Tensor = aten::t(%f)
          return (%e, %g)
        """), None),
    # a tuple built and taken apart at once leaves its elements (what `x, y = a, b` and
    # `t[1]` compile to); the construct stays for its other use, DCE's to remove
    "tuple_unpack_and_index": (ir("""
        graph(%a : Tensor,
              %b : Tensor):
          %1 : int = prim::Constant[value=1]()
          %t : (Tensor, Tensor) = prim::TupleConstruct(%a, %b)
          %x : Tensor, %y : Tensor = prim::TupleUnpack(%t)
          %z : Tensor = prim::TupleIndex(%t, %1)
          %r : Tensor = aten::add(%x, %y, %1)
          %s : Tensor = aten::mul(%r, %z)
          return (%s, %t)
        """), ir("""
        graph(%a : Tensor,
              %b : Tensor):
          %1 : int = prim::Constant[value=1]()
          %t : (Tensor, Tensor) = prim::TupleConstruct(%a, %b)
          %r : Tensor = aten::add(%a, %b, %1)
          %s : Tensor = aten::mul(%r, %b)
          return (%s, %t)
        """)),
    # a tuple from elsewhere (an input) is left alone
    "tuple_input_stays": (ir("""
        graph(%t : (Tensor, Tensor)):
          %x : Tensor, %y : Tensor = prim::TupleUnpack(%t)
          return (%x, %y)
        """), None),
}

GRAPHS = [text for pair in CASES.values() for text in pair if text is not None]


@pytest.mark.parametrize("name", list(CASES))
def test_peephole_optimize(name):
    before, after = CASES[name]
    assert run(before) == (before if after is None else after)
