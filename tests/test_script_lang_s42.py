"""Session 42: TorchScript language leftovers checked against torch 2.13."""
from __future__ import annotations

from typing import Dict, List, Tuple

import pytest

import gpujit

try:
    import torch as _torch
except ImportError:                 # (CI has no torch)
    _torch = None


_NOT_ALL_PATHS = ("^Function was not annotated as having type None, but does not return "
                  "along all paths")


def _while_true_returns(x: int) -> int:
    while True:
        x += 1
        if x > 10:
            return x


def _while_cond_returns(x: int) -> int:
    while x < 100:
        x += 1
        if x > 10:
            return x


def _while_true_then_return(x: int) -> int:
    while True:
        x += 1
        if x > 10:
            return x
    return -1


def _while_true_breaks(x: int) -> int:
    while True:
        x += 1
        if x > 10:
            break
    return x


@pytest.mark.parametrize("fn", [_while_true_returns, _while_cond_returns])
def test_a_loop_that_only_returns_does_not_end_the_function(fn):
    # torch 2.13 does not special-case `while True:` (gpujit accepted the first)
    with pytest.raises(RuntimeError, match=_NOT_ALL_PATHS):
        gpujit.jit.script(fn)
    if _torch is not None:
        with pytest.raises(RuntimeError, match="\n" + _NOT_ALL_PATHS[1:]):
            _torch.jit.script(fn)


@pytest.mark.parametrize("fn, want", [(_while_true_then_return, 11), (_while_true_breaks, 11)])
def test_while_true_loops_that_run(fn, want):
    assert gpujit.jit.script(fn)(3) == want == fn(3)
    if _torch is not None:
        assert _torch.jit.script(fn)(3) == want


# ------------------------------------------ container mutators as TorchScript's nodes

def _list_mutators(xs: List[float]) -> Tuple[List[float], int]:
    xs.sort(reverse=True)
    xs.reverse()
    del xs[0]
    i = xs.index(2.0)
    xs.sort()
    return xs, i


def _dict_mutators(d: Dict[str, int]) -> Tuple[int, int, Dict[str, int]]:
    a = d.pop("z", 3)
    b = d.pop("a", 4)
    del d["b"]
    return a, b, d


_LIST_CODE = """def _list_mutators(xs: List[float]) -> Tuple[List[float], int]:
  torch.sort(xs, True)
  torch.reverse(xs)
  torch.Delete(xs, 0)
  i = torch.index(xs, 2.)
  torch.sort(xs)
  return (xs, i)
"""

_DICT_CODE = """def _dict_mutators(d: Dict[str, int]) -> Tuple[int, int, Dict[str, int]]:
  a = torch.pop(d, "z", 3)
  b = torch.pop(d, "a", 4)
  torch.Delete(d, "b")
  return (a, b, d)
"""


def _kinds(g):
    return [n.kind for n in g.nodes if n.kind != "prim::Constant"]


@pytest.mark.parametrize("fn, args, code, kinds", [
    (_list_mutators, ([1.0, 3.0, 2.0, 0.5],), _LIST_CODE,
     ["aten::sort", "aten::reverse", "aten::Delete", "aten::index", "aten::sort",
      "prim::TupleConstruct"]),
    (_dict_mutators, ({"a": 1, "b": 2, "c": 5},), _DICT_CODE,
     ["aten::pop", "aten::pop", "aten::Delete", "prim::TupleConstruct"])])
def test_container_mutators_are_torchscripts_nodes(fn, args, code, kinds):
    import copy
    s = gpujit.jit.script(fn)
    assert s(*copy.deepcopy(args)) == fn(*copy.deepcopy(args))
    assert s.code == code
    assert _kinds(s.graph) == kinds
    if _torch is not None:
        t = _torch.jit.script(fn)
        assert t.code.replace("%", "") == code
        assert [n.kind() for n in t.graph.nodes() if n.kind() != "prim::Constant"] == [
            k for k in kinds if k != "prim::ListConstruct"]
        assert t(*copy.deepcopy(args)) == s(*copy.deepcopy(args))


def _index_missing(xs: List[int]) -> int:
    return xs.index(9)


def _del_out_of_range(xs: List[int]) -> List[int]:
    del xs[5]
    return xs


@pytest.mark.parametrize("fn, exc, words", [
    (_index_missing, ValueError, "'9' is not in list"),
    (_del_out_of_range, IndexError, "list index out of range")])
def test_container_mutator_errors(fn, exc, words):
    s = gpujit.jit.script(fn)
    with pytest.raises(exc, match=words) as info:
        s([1, 2])
    assert isinstance(info.value, RuntimeError)       # (TorchScript's class)
    if _torch is not None:
        with pytest.raises(RuntimeError, match=words):
            _torch.jit.script(fn)([1, 2])


def _append_and_set(xs: List[int], d: Dict[str, int], x: int) -> List[int]:
    xs.append(x)
    xs[0] = x
    d["k"] = x
    return xs


_APPEND_CODE = """def _append_and_set(xs: List[int],
    d: Dict[str, int],
    x: int) -> List[int]:
  _0 = torch.append(xs, x)
  _1 = torch._set_item(xs, 0, x)
  torch._set_item(d, "k", x)
  return xs
"""


def test_append_and_item_assignment_print_as_torchscript():
    s = gpujit.jit.script(_append_and_set)
    assert s.code == _APPEND_CODE
    d = {}
    assert s([1, 2], d, 7) == [7, 2, 7] and d == {}     # (the call's dict is a copy)
    if _torch is not None:
        t = _torch.jit.script(_append_and_set)
        assert t.code == _APPEND_CODE
        assert t([1, 2], d, 7) == [7, 2, 7] and d == {}


# ------------------------------------------------ for loops that exit early print as while

def _sum_until(xs: List[int]) -> int:
    s = 0
    for x in xs:
        if x > 3:
            break
        s += x
    return s


def _range_until(n: int) -> int:
    s = 0
    for i in range(n):
        if i > 3:
            break
        s += i
    return s


_SUM_UNTIL_CODE = """def _sum_until(xs: List[int]) -> int:
  _0 = torch.len(xs)
  s = 0
  _1 = 0
  _2 = torch.gt(_0, 0)
  while _2:
    x = xs[_1]
    if torch.gt(x, 3):
      _3, _4 = False, s
    else:
      _3, _4 = True, torch.add(s, x)
    _5 = torch.add(_1, 1)
    _2, s, _1 = torch.__and__(torch.lt(_5, _0), _3), _4, _5
  return s
"""

_RANGE_UNTIL_CODE = """def _range_until(n: int) -> int:
  s = 0
  _0 = 0
  _1 = torch.gt(n, 0)
  while _1:
    if torch.gt(_0, 3):
      _2, _3 = False, s
    else:
      _2, _3 = True, torch.add(s, _0)
    _4 = torch.add(_0, 1)
    _1, s, _0 = torch.__and__(torch.lt(_4, n), _2), _3, _4
  return s
"""


@pytest.mark.parametrize("fn, code, args", [
    (_sum_until, _SUM_UNTIL_CODE, ([1, 2, 5, 1],)), (_sum_until, _SUM_UNTIL_CODE, ([],)),
    (_range_until, _RANGE_UNTIL_CODE, (10,)), (_range_until, _RANGE_UNTIL_CODE, (2,))])
def test_loops_that_exit_early_are_while_loops(fn, code, args):
    # TorchScript's CanonicalizeModifiedLoops: the loop counts its own iterations
    s = gpujit.jit.script(fn)
    assert s.code == code
    assert s(*args) == fn(*args)
    (loop,) = [n for n in s.graph.nodes if n.kind == "prim::Loop"]
    assert loop.inputs[0].node.attrs["value"] == 9223372036854775807
    assert not loop.blocks[0].inputs[0].uses
    if _torch is not None:
        # (torch prints `s = 0` before `_0 = torch.len(xs)`: the same lines otherwise)
        t = _torch.jit.script(fn)
        assert sorted(t.code.splitlines()) == sorted(code.splitlines())
        assert t(*args) == s(*args)


def _asserts(x: int) -> int:
    assert x > 0, "x must be positive"
    return x


def test_jit_error_is_torch_c_jitexception():
    assert gpujit._C.JITException is gpujit.jit.Error
    with pytest.raises(gpujit._C.JITException, match="AssertionError: x must be positive"):
        gpujit.jit.script(_asserts)(-1)
    if _torch is not None:
        assert _torch._C.JITException is _torch.jit.Error
        with pytest.raises(_torch._C.JITException, match="AssertionError: x must be positive"):
            _torch.jit.script(_asserts)(-1)
