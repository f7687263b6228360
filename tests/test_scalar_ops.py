"""The Python-scalar op family (gpujit/ops/scalar_ops.py): overload resolution on IR
types picks it for numbers and never for tensors, it binds no public names, and the
executor writes its ops as Python expressions."""
from __future__ import annotations

import pytest

import gpujit
from gpujit.ir import parse_ir
from gpujit.ops import registry
from gpujit.ops.scalar_ops import PYTHON_VALUED
from gpujit.runtime import Executable, interpret

RESOLVE = """graph(%x : Tensor, %i : int, %j : int, %f : float, %b : bool, %l : int[]):
  %one : int = prim::Constant[value=1]()
  %t0 : Tensor = aten::add(%x, %x, %one)
  %t1 : Tensor = aten::add(%x, %i, %one)
  %t2 : Tensor = aten::add(%x, %f)
  %s0 : int = aten::add(%i, %j)
  %s1 : float = aten::add(%i, %f)
  %s2 : float = aten::add(%f, %i)
  %d0 : float = aten::div(%i, %j)
  %d1 : Tensor = aten::div(%x, %i)
  %n0 : int = aten::neg(%i)
  %n1 : Tensor = aten::neg(%x)
  %c0 : bool = aten::lt(%i, %f)
  %c1 : Tensor = aten::lt(%x, %f)
  %c2 : bool = aten::eq(%b, %b)
  %k0 : int = aten::Int(%x)
  %k1 : int = aten::size(%x, %i)
  %k2 : int[] = aten::size(%x)
  %k3 : int = aten::len(%l)
  %m : Tensor = aten::mul(%i, %x)
  return (%t0)
"""

# (an int < a float: TorchScript's aten::lt.int_float, as torch 2.13 resolves it)
WANT = ["aten::add.Tensor", "aten::add.Tensor", "aten::add.Tensor", "aten::add.int",
        "aten::add.float", "aten::add.float", "aten::div.int", "aten::div.Tensor",
        "aten::neg.int", "aten::neg", "aten::lt.int_float", "aten::lt.Tensor", "aten::eq.bool",
        "aten::Int.Tensor", "aten::size.int", "aten::size", "aten::len.t",
        "aten::mul.Tensor"]


def test_resolution_picks_scalar_overloads_for_numbers_only():
    g = parse_ir(RESOLVE)
    got = [n.op.name for n in g.nodes if n.kind.startswith("aten::")]
    assert got == WANT


def test_scalar_overloads_come_first_and_bind_nothing():
    for name, ovs in registry.OVERLOADS.items():
        scalar = [o.name in PYTHON_VALUED for o in ovs]
        assert scalar == sorted(scalar, reverse=True), name    # all scalar ones first
    assert not hasattr(gpujit, "Int") and not hasattr(gpujit, "floordiv")
    assert gpujit.add(gpujit.tensor([1]), 2).tolist() == [3]
    x = gpujit.zeros(2, 3)
    assert x.dim() == 2 and x.size(1) == 3 and x.numel() == 6 and len(x) == 2


@pytest.mark.parametrize("a,b", [(7, 2), (-7, 2), (7, -2), (-7.5, 2.0)])
def test_arithmetic_follows_python(a, b):
    ops = registry.OPS
    t = "float" if isinstance(a, float) else "int"
    assert ops[f"aten::floordiv.{t}"].eager(a, b) == a // b
    assert ops[f"aten::remainder.{t}"].eager(a, b) == a % b
    assert ops[f"aten::div.{t}"].eager(a, b) == a / b
    assert type(ops["aten::div.int"].eager(4, 2)) is float
    if t == "int":
        with pytest.raises(ZeroDivisionError):
            ops[f"aten::floordiv.{t}"].eager(a, 0)
    else:       # TorchScript: IEEE on a float zero divisor (floor(a / 0.0) is -inf)
        assert ops[f"aten::floordiv.{t}"].eager(a, 0) == float("-inf")


SCALAR_LOOP = """graph(%x : Tensor, %n : int):
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %two : int = prim::Constant[value=2]()
  %true : bool = prim::Constant[value=1]()
  %d : int = aten::size(%x, %zero)
  %h : int = aten::floordiv(%d, %two)
  %acc : int, %y : Tensor = prim::Loop(%n, %true, %zero, %x)
    block0(%i : int, %a.1 : int, %y.1 : Tensor):
      %r : int = aten::remainder(%i, %two)
      %even : bool = aten::eq(%r, %zero)
      %a.2 : int = prim::If(%even)
        block0():
          %p : int = aten::add(%a.1, %h)
          -> (%p)
        block1():
          %q : int = aten::sub(%a.1, %one)
          -> (%q)
      %f : float = aten::div(%a.2, %two)
      %y.2 : Tensor = aten::add(%y.1, %f, %one)
      -> (%true, %a.2, %y.2)
  %big : bool = aten::gt(%acc, %d)
  %nb : bool = aten::__not__(%big)
  return (%acc, %y, %nb)
"""


def _scalar_loop_python(x, n):
    d = x.shape[0]
    h, acc, y = d // 2, 0, x
    for i in range(n):
        acc = acc + h if i % 2 == 0 else acc - 1
        y = y + acc / 2
    return acc, y, not acc > d


def test_scalar_graph_runs_as_python_expressions():
    g = parse_ir(SCALAR_LOOP)
    exe = Executable(g, "scalars")
    x = gpujit.tensor([1.0, 2.0, 3.0, 4.0])
    for n in (5, 5, 2, 0):
        acc, y, nb = exe(x, n)
        want = _scalar_loop_python(x.numpy(), n)
        assert (acc, nb) == (want[0], want[2]) and y.tolist() == want[1].tolist()
        assert (acc, y.tolist(), nb) == (lambda r: (r[0], r[1].tolist(), r[2]))(
            interpret(g, x, n))
    src = exe.source
    for expr in ("r = i % 2", "even = r == 0", "p = acc + h", "q = acc - 1", "f = a_2 / 2",
                 "h = d // 2", "nb = not big"):
        assert expr in src, expr
