"""Session 52 (c52): scripted functions with early exits (`return` inside an if or a
loop, `break`, `continue`, `raise`, `assert`) print torch 2.13's value names and numbers in
.graph (`%x.1`, `%x.11`, `%56`): gpujit/frontend/script/torch_names.py replays torch's
frontend for them too (emitReturn / emitRaise / emitAssert, the If merge of a branch that
exits, LoopContinuations, the ExitTransformer of returns and loop continuations,
inlineConsecutiveIfs, CanonicalizeModifiedLoops, constant propagation's inlined Ifs and
folded message strings).

The expected texts were computed with torch 2.13 (`str(torch.jit.script(f).graph)`, the
`# file:line:col` comments dropped); with torch importable the tests also compare with
torch itself, comments and .code included."""

import re
import types
from typing import List, Optional

import numpy as np
import pytest

import gpujit
import gpujit as torch

try:
    import torch as _torch
except ImportError:                 # (CI has no torch)
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="needs torch")


def ret_in_if(x, n: int):
    if n > 2:
        return x + 1
    return x * 2


def breaks(x, n: int):
    for i in range(n):
        if i > 3:
            break
        x = x + i
    return x


def continues(x, n: int):
    i = 0
    while i < n:
        i += 1
        if i % 2 == 0:
            continue
        x = x + i
    return x


def raises(x, n: int):
    if n < 0:
        raise ValueError("negative")
    return x + n


def asserts(x, n: int):
    assert n > 0, "need positive"
    return x * n


def returns_in_loop(x, n: int):
    for i in range(n):
        if i > 2:
            return x + i
    return x


def returns_in_while(x, n: int):
    i = 0
    while i < n:
        if i > 5:
            return x
        i = i + 1
    return x * 2


def returns_none(x, n: int):
    if n > 0:
        return
    x.add_(1)


def early(x, n: int):
    y = x + 1
    if n > 0:
        return y
    z = y * 2
    if n < -5:
        return z
    w = z - 1
    return w


def defined_where_not_returned(x, n: int):
    if n > 3:
        y = x + 2
    else:
        return x
    return y * y


def raise_in_loop(x, n: int):
    for i in range(n):
        if i > 10:
            raise RuntimeError("too many")
        x = x * 2
    return x



def tuple_returns(x, n: int):
    if n > 0:
        return x, n
    return x * 2, n + 1


def list_loop(x, xs: List[int]):
    s = 0
    for v in xs:
        if v < 0:
            break
        s = s + v
    return x * s


def comprehension(x, xs: List[int]):
    ys = [x * i for i in range(3)]
    zs = [v + 1 for v in xs]
    return ys[-1] + zs[0]


def builtins_len_max(x, xs: List[int], n: int):
    k = len(xs)
    return x * max(n, k) + min(n, 2)


def optional_return(x, y: Optional[torch.Tensor]):
    if y is None:
        return x
    return x + y


def optional_update(x, y: Optional[torch.Tensor]):
    if y is not None:
        x = x + y
    return x * 2


def and_or(x, n: int, m: int):
    if n > 0 and m > 0:
        x = x + 1
    if n < 0 or m < 0:
        x = x - 1
    return x


def negated(x, n: int):
    if not n > 2:
        x = x * 3
    return x


def scripting_only(x, n: int):
    if torch.jit.is_scripting():
        y = x + 1
    else:
        y = x - 1
    return y * n


def assert_present(x, y: Optional[torch.Tensor]):
    assert y is not None
    return x + y


def ternary_optional(x, y: Optional[torch.Tensor]):
    z = x if y is None else y
    return z + 1


def optional_default(x, k: Optional[int] = None):
    if k is None:
        k = 2
    return x * k


_FNS = {f.__name__: f for f in (ret_in_if, breaks, continues, raises, asserts,
                                 returns_in_loop, returns_in_while, returns_none, early,
                                 defined_where_not_returned, raise_in_loop, tuple_returns, list_loop,
                                 comprehension, builtins_len_max,
                                 optional_return, optional_update, and_or, negated,
                                 scripting_only, assert_present, ternary_optional,
                                 optional_default)}

# str(torch.jit.script(f).graph) under torch 2.13, comments dropped
_EXPECTED = {
    "asserts": """graph(%x.1 : Tensor,
      %n.1 : int):
  %9 : NoneType = prim::Constant()
  %23 : str = prim::Constant[value="AssertionError: need positive"]()
  %3 : int = prim::Constant[value=0]()
  %4 : bool = aten::gt(%n.1, %3)
   = prim::If(%4)
    block0():
      -> ()
    block1():
       = prim::RaiseException(%23, %9)
      -> ()
  %13 : Tensor = aten::mul(%x.1, %n.1)
  return (%13)
""",
    "breaks": """graph(%x.1 : Tensor,
      %n.1 : int):
  %54 : int = prim::Constant[value=9223372036854775807]()
  %52 : int = prim::Constant[value=1]()
  %51 : int = prim::Constant[value=0]()
  %5 : bool = prim::Constant[value=1]()
  %8 : int = prim::Constant[value=3]()
  %22 : bool = prim::Constant[value=0]()
  %53 : bool = aten::gt(%n.1, %51)
  %x : Tensor, %55 : int = prim::Loop(%54, %53, %x.1, %51)
    block0(%6 : int, %x.11 : Tensor, %56 : int):
      %9 : bool = aten::gt(%56, %8)
      %49 : bool, %50 : Tensor = prim::If(%9)
        block0():
          -> (%22, %x.11)
        block1():
          %x.13 : Tensor = aten::add(%x.11, %56, %52)
          -> (%5, %x.13)
      %57 : int = aten::add(%56, %52)
      %58 : bool = aten::lt(%57, %n.1)
      %59 : bool = aten::__and__(%58, %49)
      -> (%59, %50, %57)
  return (%x)
""",
    "continues": """graph(%x.1 : Tensor,
      %n.1 : int):
  %i.1 : int = prim::Constant[value=0]()
  %3 : int = prim::Constant[value=9223372036854775807]()
  %10 : int = prim::Constant[value=1]()
  %15 : int = prim::Constant[value=2]()
  %43 : bool = aten::lt(%i.1, %n.1)
  %x : Tensor, %i : int = prim::Loop(%3, %43, %x.1, %i.1)
    block0(%8 : int, %x.11 : Tensor, %i.17 : int):
      %i.7 : int = aten::add(%i.17, %10)
      %16 : int = aten::remainder(%i.7, %15)
      %17 : bool = aten::eq(%16, %i.1)
      %79 : bool, %81 : Tensor = prim::If(%17)
        block0():
          %37 : bool = aten::lt(%i.7, %n.1)
          -> (%37, %x.11)
        block1():
          %x.13 : Tensor = aten::add(%x.11, %i.7, %10)
          %70 : bool = aten::lt(%i.7, %n.1)
          -> (%70, %x.13)
      -> (%79, %81, %i.7)
  return (%x)
""",
    "raises": """graph(%x.1 : Tensor,
      %n.1 : int):
  %11 : int = prim::Constant[value=1]()
  %7 : str = prim::Constant[value="builtins.ValueError"]()
  %6 : str = prim::Constant[value="negative"]()
  %3 : int = prim::Constant[value=0]()
  %4 : bool = aten::lt(%n.1, %3)
   = prim::If(%4)
    block0():
       = prim::RaiseException(%6, %7)
      -> ()
    block1():
      -> ()
  %12 : Tensor = aten::add(%x.1, %n.1, %11)
  return (%12)
""",
    "ret_in_if": """graph(%x.1 : Tensor,
      %n.1 : int):
  %3 : int = prim::Constant[value=2]()
  %7 : int = prim::Constant[value=1]()
  %4 : bool = aten::gt(%n.1, %3)
  %27 : Tensor = prim::If(%4)
    block0():
      %9 : Tensor = aten::add(%x.1, %7, %7)
      -> (%9)
    block1():
      %25 : Tensor = aten::mul(%x.1, %3)
      -> (%25)
  return (%27)
""",
    "returns_in_loop": """graph(%x.1 : Tensor,
      %n.1 : int):
  %39 : int = prim::Constant[value=9223372036854775807]()
  %37 : int = prim::Constant[value=1]()
  %36 : int = prim::Constant[value=0]()
  %8 : int = prim::Constant[value=2]()
  %22 : bool = prim::Constant[value=0]()
  %21 : bool = prim::Constant[value=1]()
  %24 : Tensor = prim::Uninitialized()
  %38 : bool = aten::gt(%n.1, %36)
  %29 : bool, %30 : Tensor, %40 : int = prim::Loop(%39, %38, %22, %24, %36)
    block0(%6 : int, %28 : bool, %31 : Tensor, %41 : int):
      %9 : bool = aten::gt(%41, %8)
      %35 : bool, %25 : bool, %26 : Tensor = prim::If(%9)
        block0():
          %14 : Tensor = aten::add(%x.1, %41, %37)
          -> (%22, %21, %14)
        block1():
          -> (%21, %22, %24)
      %42 : int = aten::add(%41, %37)
      %43 : bool = aten::lt(%42, %n.1)
      %44 : bool = aten::__and__(%43, %35)
      -> (%44, %25, %26, %42)
  %34 : Tensor = prim::If(%29)
    block0():
      -> (%30)
    block1():
      -> (%x.1)
  return (%34)
""",
    "returns_none": """graph(%x.1 : Tensor,
      %n.1 : int):
  %30 : NoneType = prim::Constant()
  %3 : int = prim::Constant[value=0]()
  %8 : int = prim::Constant[value=1]()
  %4 : bool = aten::gt(%n.1, %3)
   = prim::If(%4)
    block0():
      -> ()
    block1():
      %26 : Tensor = aten::add_(%x.1, %8, %8)
      -> ()
  return (%30)
""",
    "optional_return": """graph(%x.1 : Tensor,
      %y.1 : Tensor?):
  %34 : int = prim::Constant[value=1]()
  %3 : NoneType = prim::Constant()
  %4 : bool = aten::__is__(%y.1, %3)
  %37 : Tensor = prim::If(%4)
    block0():
      -> (%x.1)
    block1():
      %y.7 : Tensor = prim::unchecked_cast(%y.1)
      %35 : Tensor = aten::add(%x.1, %y.7, %34)
      -> (%35)
  return (%37)
""",
    "and_or": """graph(%x.1 : Tensor,
      %n.1 : int,
      %m.1 : int):
  %24 : bool = prim::Constant[value=1]()
  %10 : bool = prim::Constant[value=0]()
  %4 : int = prim::Constant[value=0]()
  %13 : int = prim::Constant[value=1]()
  %5 : bool = aten::gt(%n.1, %4)
  %11 : bool = prim::If(%5)
    block0():
      %8 : bool = aten::gt(%m.1, %4)
      -> (%8)
    block1():
      -> (%10)
  %x.33 : Tensor = prim::If(%11)
    block0():
      %x.5 : Tensor = aten::add(%x.1, %13, %13)
      -> (%x.5)
    block1():
      -> (%x.1)
  %22 : bool = aten::lt(%n.1, %4)
  %28 : bool = prim::If(%22)
    block0():
      -> (%24)
    block1():
      %26 : bool = aten::lt(%m.1, %4)
      -> (%26)
  %x : Tensor = prim::If(%28)
    block0():
      %x.19 : Tensor = aten::sub(%x.33, %13, %13)
      -> (%x.19)
    block1():
      -> (%x.33)
  return (%x)
""",
    "scripting_only": """graph(%x.1 : Tensor,
      %n.1 : int):
  %5 : int = prim::Constant[value=1]()
  %y.1 : Tensor = aten::add(%x.1, %5, %5)
  %10 : Tensor = aten::mul(%y.1, %n.1)
  return (%10)
""",
    "tuple_returns": """graph(%x.1 : Tensor,
      %n.1 : int):
  %3 : int = prim::Constant[value=0]()
  %10 : int = prim::Constant[value=2]()
  %13 : int = prim::Constant[value=1]()
  %4 : bool = aten::gt(%n.1, %3)
  %34 : (Tensor, int) = prim::If(%4)
    block0():
      %8 : (Tensor, int) = prim::TupleConstruct(%x.1, %n.1)
      -> (%8)
    block1():
      %30 : Tensor = aten::mul(%x.1, %10)
      %31 : int = aten::add(%n.1, %13)
      %32 : (Tensor, int) = prim::TupleConstruct(%30, %31)
      -> (%32)
  return (%34)
""",
}


def _bare(text):
    return re.sub(r" # [^\n]*", "", text)


@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_graph_names_are_torchs(name):
    g = torch.jit.script(_FNS[name]).graph
    assert _bare(str(g)) == _EXPECTED[name], str(g)


def _t(a):
    return gpujit.from_numpy(np.asarray(a, np.float32))


def test_exits_compute_as_python():
    x = np.linspace(-1, 1, 5).astype(np.float32)
    for name, n in (("ret_in_if", 3), ("ret_in_if", 1), ("breaks", 9), ("continues", 7),
                    ("returns_in_loop", 5), ("returns_in_loop", 2),
                    ("returns_in_while", 9), ("early", -7), ("early", 0),
                    ("defined_where_not_returned", 5), ("raise_in_loop", 4),
                    ("negated", 1), ("negated", 5)):
        fn = _FNS[name]
        got = torch.jit.script(fn)(_t(x), n).numpy()
        want = fn(x.copy(), n)
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"{name}({n})")
    for n, m in ((1, 1), (1, -1), (-1, 2)):
        got = torch.jit.script(and_or)(_t(x), n, m).numpy()
        want = and_or(x.copy(), n, m)
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"and_or({n}, {m})")


def test_list_loop_names_and_values():
    s = torch.jit.script(list_loop)
    text = _bare(str(s.graph))
    # torch 2.13: the list's length, then each element by the loop's counter
    assert "%4 : int = aten::len(%xs.1)" in text
    assert "%v.1 : int = aten::__getitem__(%xs.1, %" in text
    x = np.ones(2, np.float32)
    for xs in ([1, 2, 3], [4, -1, 5], []):
        np.testing.assert_allclose(s(_t(x), xs).numpy(), list_loop(x, xs))


def test_comprehension_names_and_values():
    s = torch.jit.script(comprehension)
    text = _bare(str(s.graph))
    # torch 2.13: each comprehension's list, its loop appending, no scope left
    assert "%ys.1 : Tensor[] = prim::ListConstruct()" in text
    assert "%zs.1 : int[] = prim::ListConstruct()" in text
    assert "ComprehensionScope" not in text
    x = np.ones(2, np.float32)
    np.testing.assert_allclose(s(_t(x), [3, 4, 5]).numpy(), comprehension(x, [3, 4, 5]))


def test_builtin_calls_names():
    text = _bare(str(torch.jit.script(builtins_len_max).graph))
    # torch 2.13's numbers: aten::len, prim::max / prim::min of the values
    assert "%k.1 : int = aten::len(%xs.1)" in text
    assert "prim::max(%n.1, %k.1)" in text and "prim::min(%n.1, %" in text


def test_optional_refinements_compute_as_python():
    x, y = np.arange(3, dtype=np.float32), np.full(3, 2.0, np.float32)
    for name in ("optional_return", "optional_update", "ternary_optional"):
        s = torch.jit.script(_FNS[name])
        for arg in (None, y):
            want = _FNS[name](x, arg)
            got = s(_t(x), None if arg is None else _t(arg)).numpy()
            np.testing.assert_allclose(got, want, err_msg=f"{name}({arg})")
    np.testing.assert_allclose(torch.jit.script(optional_default)(_t(x)).numpy(), x * 2)
    np.testing.assert_allclose(torch.jit.script(scripting_only)(_t(x), 2).numpy(),
                               (x + 1) * 2)


def test_static_if_leaves_one_branch():
    g = torch.jit.script(scripting_only).graph
    kinds = [n.kind for n in g.walk()]
    assert "prim::If" not in kinds and "aten::sub" not in kinds
    assert "%y.1 : Tensor = aten::add(%x.1, %5, %5)" in str(g)


def test_raise_and_assert_keep_their_messages():
    s = torch.jit.script(raises)
    with pytest.raises(Exception, match="negative"):
        s(_t([1.0]), -1)
    a = torch.jit.script(asserts)
    with pytest.raises(Exception, match="need positive"):
        a(_t([1.0]), 0)
    np.testing.assert_allclose(a(_t([1.0, 2.0]), 3).numpy(), [3.0, 6.0])


def test_exit_values_numbered_once():
    for name in ("breaks", "returns_in_loop", "early"):
        g = torch.jit.script(_FNS[name]).graph
        names = [v.debug_name for n in g.walk() for v in n.outputs] + \
            [v.debug_name for v in g.inputs]
        assert len(names) == len(set(names)), name
        # a value made later gets a fresh number, after torch's last
        g2 = g.copy()
        v = g2.insert_constant(7)
        assert v.debug_name not in names


def _torch_twin(fn):
    """fn with `torch` bound to torch itself (same code, same source lines)."""
    return types.FunctionType(fn.__code__, {**fn.__globals__, "torch": _torch},
                              fn.__name__, fn.__defaults__)


@needs_torch
@pytest.mark.parametrize("name", sorted(_FNS))
def test_graph_and_code_equal_torchs(name):
    fn = _FNS[name]
    mine, theirs = torch.jit.script(fn), _torch.jit.script(_torch_twin(fn))
    assert str(mine.graph) == str(theirs.graph)
    assert mine.code == theirs.code


@needs_torch
def test_expected_texts_are_torchs():
    for name, text in _EXPECTED.items():
        assert _bare(str(_torch.jit.script(_torch_twin(_FNS[name])).graph)) == text
