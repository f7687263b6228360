"""Session 48: TorchScript language leftovers checked against torch 2.13 (graph, .code,
results, errors)."""
from __future__ import annotations

from typing import Dict, List

import pytest

import gpujit

try:
    import torch as _torch
except ImportError:                 # (CI has no torch)
    _torch = None


def _graph_lines(f, kind):
    return [ln.strip() for ln in str(f.graph).splitlines() if kind in ln]


# ---------------------------------------------------------------- 1. containers mutated in blocks
def _appends_in_blocks(x: int, n: int) -> List[int]:
    out: List[int] = []
    if n > 2:
        out.append(1)
    for i in range(n):
        out.append(i)
    return out


def _sets_items_in_blocks(n: int) -> Dict[str, int]:
    d: Dict[str, int] = {}
    for i in range(n):
        if i > 1:
            d[str(i)] = i
    return d


_APPENDS_CODE = """def _appends_in_blocks(x: int,
    n: int) -> List[int]:
  out = annotate(List[int], [])
  if torch.gt(n, 2):
    _0 = torch.append(out, 1)
  else:
    pass
  for i in range(n):
    _1 = torch.append(out, i)
  return out
"""

_SETS_ITEMS_CODE = """def _sets_items_in_blocks(n: int) -> Dict[str, int]:
  d = annotate(Dict[str, int], {})
  for i in range(n):
    if torch.gt(i, 1):
      torch._set_item(d, str(i), i)
    else:
      pass
  return d
"""


@pytest.mark.parametrize("fn, code, args, want", [
    (_appends_in_blocks, _APPENDS_CODE, (0, 3), [1, 0, 1, 2]),
    (_sets_items_in_blocks, _SETS_ITEMS_CODE, (4,), {"2": 2, "3": 3})])
def test_containers_mutated_in_blocks_are_not_carried(fn, code, args, want):
    # torch mutates the list / dict in place: the if and the loop carry no value (gpujit
    # carried it out as an output, `.code` read `out0 = out` and rebound the name)
    f = gpujit.jit.script(fn)
    assert f.code == code
    for kind in ("prim::If(", "prim::Loop("):
        assert all(ln.startswith("= ") for ln in _graph_lines(f, kind)), str(f.graph)
    assert f(*args) == want
    if _torch is not None:
        t = _torch.jit.script(fn)
        assert t.code == code
        assert t(*args) == want


def _mutators(xs: List[int], d: Dict[int, int], e: Dict[int, int]):
    xs.extend([1])
    xs.insert(0, 3)
    xs.remove(3)
    xs.reverse()
    xs.sort()
    d.update(e)
    d[3] = 4
    d.clear()
    d[5] = 6
    xs[0] = 7
    return xs, d


def test_mutators_typed_void_have_no_output():
    # aten::extend / insert / remove / reverse / sort / update / clear and a dict's
    # _set_item are `-> ()` in torch's schemas: ` = aten::extend(%xs, %5)` in the graph;
    # a list's _set_item returns its list (`%7 : int[] = aten::_set_item(...)`)
    f = gpujit.jit.script(_mutators)
    for kind in ("extend", "insert", "remove", "reverse", "sort", "update", "clear"):
        lines = _graph_lines(f, f"aten::{kind}(")
        assert lines and all(ln.startswith("= ") for ln in lines), (kind, str(f.graph))
    sets = _graph_lines(f, "aten::_set_item(")
    assert [ln.startswith("= ") for ln in sets] == [True, True, False]
    assert sets[2].startswith("%") and ": int[] = aten::_set_item(" in sets[2]
    assert f([5, 2], {}, {2: 3}) == ([7, 2, 5], {5: 6})
    if _torch is not None:
        assert _torch.jit.script(_mutators).code == f.code
        assert _torch.jit.script(_mutators)([5, 2], {}, {2: 3}) == ([7, 2, 5], {5: 6})


def _aliases_see_mutations(n: int) -> List[List[int]]:
    outer: List[List[int]] = [[0]]
    inner = outer[0]
    alias = outer
    for i in range(n):
        if i % 2 == 0:
            inner.append(i)
        else:
            alias.append([i])
    d: Dict[int, List[int]] = {}
    for i in range(n):
        d[i] = inner
    inner.append(100)
    outer.append(d[0])
    return outer


def test_mutations_in_blocks_reach_every_alias():
    f = gpujit.jit.script(_aliases_see_mutations)
    want = [[0, 0, 2, 100], [1], [3], [0, 0, 2, 100]]
    assert f(4) == want
    assert f(1) == [[0, 0, 100], [0, 0, 100]]
    if _torch is not None:
        t = _torch.jit.script(_aliases_see_mutations)
        assert t(4) == want and t.code == f.code


def _comprehension_dict(xs: List[int]) -> Dict[str, int]:
    return {str(x): x for x in xs}


def test_dict_comprehension_sets_items_without_output():
    f = gpujit.jit.script(_comprehension_dict)
    assert all(ln.startswith("= ") for ln in _graph_lines(f, "aten::_set_item("))
    assert f([5, 6]) == {"5": 5, "6": 6}
    if _torch is not None:
        assert _torch.jit.script(_comprehension_dict).code == f.code
