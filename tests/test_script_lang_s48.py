"""Session 48: TorchScript language leftovers checked against torch 2.13 (graph, .code,
results, errors)."""

import re
from typing import Dict, List, Optional, Union

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


# ---------------------------------------------------------------- 2. what follows a raise
def _dropped(x: int) -> int:
    return x + 1


_dropped = gpujit.jit.unused(_dropped if _torch is None else _torch.jit.unused(_dropped))


def _unused_then_return(x: int) -> int:
    if x > 3:
        y = _dropped(x)
        z = y + 2
        return z
    return x


def _unused_then_add(x: int) -> int:
    y = _dropped(x)
    return y + 1


def _unused_in_loop(x: int) -> int:
    for i in range(x):
        y = _dropped(x)
        x = y + 1
    return x


def _assigned_before_unused(x: int) -> int:
    if x > 3:
        y = x * 2
        _dropped(x)
    else:
        y = 2
    return y


def _raise_then_return(x: int) -> int:
    if x > 3:
        raise ValueError("big")
        z = x + 2
        return z
    return x


def _raises_in_for(x: int) -> int:
    for i in range(x):
        raise ValueError("a")
    return x


def _raises_in_while(x: int) -> int:
    while x < 10:
        x = x + 1
        raise ValueError("a")
    return x


_WORDS = "This Python function is annotated to be ignored and cannot be run"

_RAISE_CODES = {
    _unused_then_return: f"""def _unused_then_return(x: int) -> int:
  _0 = "{_WORDS}"
  if torch.gt(x, 3):
    ops.prim.RaiseException(_0)
  else:
    pass
  return x
""",
    _unused_then_add: f"""def _unused_then_add(x: int) -> int:
  _0 = "{_WORDS}"
  _1 = uninitialized(int)
  ops.prim.RaiseException(_0)
  return _1
""",
    _raise_then_return: """def _raise_then_return(x: int) -> int:
  if torch.gt(x, 3):
    ops.prim.RaiseException("big", "builtins.ValueError")
  else:
    pass
  return x
""",
    _raises_in_for: """def _raises_in_for(x: int) -> int:
  for i in range(x):
    ops.prim.RaiseException("a", "builtins.ValueError")
  return x
""",
}


@pytest.mark.parametrize("fn", list(_RAISE_CODES), ids=lambda f: f.__name__)
def test_statements_after_a_raise_are_dropped(fn):
    # torch 2.13's exit transform: what follows a prim::RaiseException in its block is
    # deleted (an @unused call's raise too: its statements were compiled, then dropped);
    # gpujit compiled them (`y = uninitialized(int)`, `_1 = torch.add(y, 2)`) and made
    # the if carry the return value
    f = gpujit.jit.script(fn)
    assert f.code == _RAISE_CODES[fn]
    if _torch is not None:
        assert _torch.jit.script(fn).code == f.code


def _block_outputs(f, kind):
    lines = str(f.graph).splitlines()
    k = next(i for i, ln in enumerate(lines) if kind in ln)
    return [ln.strip() for ln in lines[k:] if ln.strip().startswith("-> (")]


def test_block_values_made_before_a_raise_stay():
    # torch: a value assigned before the @unused call stays the branch's output (y = x * 2),
    # one assigned after it is the hoisted prim::Uninitialized, as are a raising if
    # branch's values and a while loop's never computed condition
    f = gpujit.jit.script(_assigned_before_unused)
    g = str(f.graph)
    assert "aten::mul(" in g and "prim::Uninitialized" not in g
    assert f(2) == 2
    with pytest.raises(RuntimeError, match=_WORDS):
        f(5)
    f = gpujit.jit.script(_unused_in_loop)
    g = str(f.graph).splitlines()
    units = [ln for ln in g if "prim::Uninitialized()" in ln]
    assert len(units) == 1 and not units[0].strip().endswith(")  #") and ".py" not in units[0]
    unit = units[0].split(":")[0].strip()
    assert _block_outputs(f, "prim::Loop")[0].endswith(f", {unit})")
    assert "aten::add" not in str(f.graph)
    assert f(0) == 0
    f = gpujit.jit.script(_raises_in_while)
    g = str(f.graph)
    unit = next(ln for ln in g.splitlines() if "bool = prim::Uninitialized()" in ln)
    out = _block_outputs(f, "prim::Loop")[0]
    assert out.startswith(f"-> ({unit.split(':')[0].strip()}, ") and "aten::add(" in g
    assert f(10) == 10
    with pytest.raises(ValueError, match="a"):
        f(3)
    if _torch is not None:
        for fn in (_assigned_before_unused, _unused_in_loop, _raises_in_while):
            assert _torch.jit.script(fn).code == gpujit.jit.script(fn).code


def test_an_error_after_an_unused_call_is_still_reported():
    def bad(x: int) -> int:
        y = _dropped(x)
        z = y + "a"
        return z
    with pytest.raises(RuntimeError, match="Arguments for call are not valid"):
        gpujit.jit.script(bad)
    if _torch is not None:
        with pytest.raises(RuntimeError, match="Arguments for call are not valid"):
            _torch.jit.script(bad)

# ---------------------------------------------------------------- 3. programs torch refuses
def _param_containers(lib):
    class PL(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)) for _ in range(3)])

        def forward(self, x):
            return x * len(self.ps)

    class PD(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = lib.nn.ParameterDict({"a": lib.nn.Parameter(lib.ones(2))})

        def forward(self, x):
            return x * len(self.ps)

    class Leaf(lib.nn.Module):
        def forward(self, x):
            return x

    class Plain(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = Leaf()

        def forward(self, x):
            return x * len(self.ps)
    return {"ParameterList": PL, "ParameterDict": PD, "Leaf": Plain}


@pytest.mark.parametrize("kind", ["ParameterList", "ParameterDict", "Leaf"])
def test_len_of_a_module_without_len_is_refused(kind):
    # torch 2.13: "'__torch__.torch.nn.modules.container.ParameterList (of Python
    # compilation unit at: 0x...)' object has no attribute or method '__len__'. Did you
    # forget to initialize an attribute in __init__()?"; gpujit counted the parameters
    qual = "Leaf" if kind == "Leaf" else f"__torch__.torch.nn.modules.container.{kind}"
    words = "object has no attribute or method '__len__'. Did you forget to initialize"
    with pytest.raises(RuntimeError) as e:
        gpujit.jit.script(_param_containers(gpujit)[kind]())
    # (a class compiled before in the process with other attribute types is mangled:
    # container.___torch_mangle_7.ParameterList, as torch's)
    mangled = re.sub(r"___torch_mangle_\d+\.", "", str(e.value))
    assert f"{qual}' {words}" in mangled
    assert "len(self.ps)" in str(e.value)
    if _torch is not None:
        with pytest.raises(RuntimeError) as e:
            _torch.jit.script(_param_containers(_torch)[kind]())
        assert f"{qual} (of Python compilation unit at: 0x" in str(e.value)
        assert words in str(e.value)


# ---------------------------------------------------------------- 4. aten::eye(n)
def _eyes(n: int):
    a = gpujit.eye(n)
    b = gpujit.eye(n, 3)
    c = gpujit.eye(3, dtype=gpujit.int64)
    return a, b, c


_EYES_CODE = """def _eyes(n: int) -> Tuple[Tensor, Tensor, Tensor]:
  a = torch.eye(n)
  b = torch.eye(n, 3)
  c = torch.eye(3, dtype=4)
  return (a, b, c)
"""


def test_eye_of_one_size_is_atens_eye():
    # torch 2.13 has aten::eye(n, *, dtype, layout, device, pin_memory) beside eye.m(n, m):
    # `torch.eye(n)` in .code, 5 inputs in the graph; gpujit wrote eye.m(n, n)
    import numpy as np
    f = gpujit.jit.script(_eyes)
    assert f.code == _EYES_CODE
    eyes = [ln.split(" # ")[0] for ln in str(f.graph).splitlines() if "aten::eye(" in ln]
    assert [ln.count("%") - 1 for ln in eyes] == [5, 6, 5]
    a, b, c = f(2)
    np.testing.assert_array_equal(a.numpy(), np.eye(2, dtype=np.float32))
    np.testing.assert_array_equal(b.numpy(), np.eye(2, 3, dtype=np.float32))
    assert c.dtype == gpujit.int64 and c.shape == (3, 3)
    t = gpujit.jit.trace(lambda x: x + gpujit.eye(2), gpujit.zeros(2, 2))
    assert "aten::eye(" in str(t.graph) and t(gpujit.ones(2, 2)).tolist() == [[2, 1], [1, 2]]
    if _torch is not None:
        tg = [ln.split(" # ")[0] for ln in str(_torch.jit.trace(
            lambda x: x + _torch.eye(2), _torch.zeros(2, 2)).graph).splitlines()
            if "aten::eye(" in ln]
        assert len(tg) == 1 and tg[0].count("%") - 1 == 5


# ---------------------------------------------------------------- 5. the language reference
def _asserts(x: int) -> int:
    assert x > 0, "positive"
    assert x < 10
    return x


_ASSERTS_CODE = """def _asserts(x: int) -> int:
  if torch.gt(x, 0):
    pass
  else:
    ops.prim.RaiseException("AssertionError: positive")
  if torch.lt(x, 10):
    pass
  else:
    ops.prim.RaiseException("AssertionError: ")
  return x
"""


def test_an_asserts_raise_names_no_class():
    # torch 2.13: prim::RaiseException(msg, None), `ops.prim.RaiseException("AssertionError:
    # positive")`; gpujit added "builtins.AssertionError". Its error stays an AssertionError
    # (and a jit Error) with the message's words
    f = gpujit.jit.script(_asserts)
    assert f.code == _ASSERTS_CODE
    assert f(3) == 3
    with pytest.raises(AssertionError, match="\nRuntimeError: AssertionError: positive\n$"):
        f(-1)
    with pytest.raises(gpujit.jit.Error, match="\nRuntimeError: AssertionError: \n$"):
        f(11)
    import io
    buf = io.BytesIO()
    gpujit.jit.save(f, buf)
    buf.seek(0)
    ld = gpujit.jit.load(buf)       # (its raise has the message only: the interpreter took
    with pytest.raises(AssertionError, match="RuntimeError: AssertionError: positive\n$"):
        ld(-1)                      # the scripted line for the class name, and said so first)
    if _torch is not None:
        assert _torch.jit.script(_asserts).code == _ASSERTS_CODE


def _list_of_range(n: int) -> List[int]:
    return list(range(0, n, 2)) + list(range(n))


_LIST_RANGE_CODE = """def _list_of_range(n: int) -> List[int]:
  _0 = annotate(List[int], [])
  for _1 in range(torch.__range_length(0, n, 2)):
    _2 = torch.append(_0, torch.__derive_index(_1, 0, 2))
  _3 = annotate(List[int], [])
  for _4 in range(n):
    _5 = torch.append(_3, _4)
  return torch.add(_0, _3)
"""


def test_list_of_a_range_is_the_list_it_builds():
    # torch: the loop appends to the list list() returns (gpujit copied it with aten::list
    # and named its counter `__range_i`)
    f = gpujit.jit.script(_list_of_range)
    assert f.code == _LIST_RANGE_CODE
    assert f(5) == [0, 2, 4, 0, 1, 2, 3, 4]
    if _torch is not None:
        t = _torch.jit.script(_list_of_range)
        assert t.code == _LIST_RANGE_CODE and t(5) == f(5)


def _returns_from_a_loop(xs: List[int]) -> int:
    for x in xs:
        if x > 2:
            return x
    return -1


_LOOP_RETURN_CODE = """def _returns_from_a_loop(xs: List[int]) -> int:
  _0 = uninitialized(int)
  _1 = torch.len(xs)
  _2 = False
  _3 = _0
  _4 = 0
  _5 = torch.gt(_1, 0)
  while _5:
    x = xs[_4]
    if torch.gt(x, 2):
      _6, _7, _8 = False, True, x
    else:
      _6, _7, _8 = True, False, _0
    _9 = torch.add(_4, 1)
    _5, _2, _3, _4 = torch.__and__(torch.lt(_9, _1), _6), _7, _8, _9
  if _2:
    _10 = _3
  else:
    _10 = -1
  return _10
"""


def test_a_return_in_a_loop_carries_unnamed_values():
    # torch's exit transform: the returned flag and value are unnamed (gpujit: `returned`,
    # `result`), their prim::Uninitialized one hoisted unit value without source range, the
    # flag constants and the if after the loop without one either
    f = gpujit.jit.script(_returns_from_a_loop)
    assert f.code == _LOOP_RETURN_CODE
    g = str(f.graph).splitlines()
    units = [ln for ln in g if "prim::Uninitialized()" in ln]
    assert len(units) == 1 and " # " not in units[0]
    assert not any("bool = prim::Constant" in ln and " # " in ln for ln in g)
    assert [" # " in ln for ln in g if "prim::If(" in ln] == [True, False]
    assert [f([1, 5, 3]), f([1]), f([])] == [5, -1, -1]
    if _torch is not None:
        assert _torch.jit.script(_returns_from_a_loop).code == _LOOP_RETURN_CODE


def _assigned_in_branch(x: int) -> Optional[int]:
    y: Optional[int] = None
    if x > 0:
        y = x
    return y


def _annotated_in_branch(x: int) -> Optional[int]:
    if x > 0:
        y: Optional[int] = x
    else:
        y = None
    return y


def _union_returns(x: int) -> Union[int, str]:
    if x > 0:
        return "a"
    return x


_OPTIONAL_CODES = {
    _assigned_in_branch: """def _assigned_in_branch(x: int) -> Optional[int]:
  if torch.gt(x, 0):
    y : Optional[int] = x
  else:
    y = None
  return y
""",
    _annotated_in_branch: """def _annotated_in_branch(x: int) -> Optional[int]:
  if torch.gt(x, 0):
    y : Optional[int] = x
  else:
    y = None
  return y
""",
    _union_returns: """def _union_returns(x: int) -> Union[int, str]:
  if torch.gt(x, 0):
    _0 : Union[int, str] = "a"
  else:
    _0 = x
  return _0
""",
}


@pytest.mark.parametrize("fn", list(_OPTIONAL_CODES), ids=lambda f: f.__name__)
def test_an_optional_if_output_is_annotated_where_first_assigned(fn):
    # torch's printer: `y : Optional[int] = x` in the first branch, the values as they are
    # (gpujit: `y = x` / `y = annotate(Optional[int], None)`, and an unchecked_cast to the
    # declared type: `y = unchecked_cast(Optional[int], x)`)
    f = gpujit.jit.script(fn)
    assert f.code == _OPTIONAL_CODES[fn]
    assert [f(3), f(-2)] == [fn(3), fn(-2)]
    import io
    buf = io.BytesIO()
    gpujit.jit.save(f, buf)
    buf.seek(0)
    ld = gpujit.jit.load(buf)
    assert [ld(3), ld(-2)] == [fn(3), fn(-2)]
    if _torch is not None:
        assert _torch.jit.script(fn).code == _OPTIONAL_CODES[fn]


def _conditions(x: gpujit.Tensor, n: int) -> int:
    a = 0
    if x.sum() > 1:
        a = 1
    if n:
        a += 2
    return a


def test_a_conditions_bool_has_the_tested_expressions_range():
    # torch 2.13: `%8 : bool = aten::Bool(%7) # f.py:5:7` (the test), gpujit gave the if
    # statement's column
    f = gpujit.jit.script(_conditions)
    line = _conditions.__code__.co_firstlineno
    cols = [ln.rsplit(":", 2)[-2:] for ln in str(f.graph).splitlines() if "aten::Bool(" in ln]
    assert cols == [[str(line + 2), "7"], [str(line + 4), "7"]]
    assert [f(gpujit.ones(2), 0), f(gpujit.zeros(2), 3)] == [1, 2]


def _dtypes(x: gpujit.Tensor):
    a = gpujit.zeros(3, dtype=gpujit.int64)
    b = x.to(gpujit.float64)
    return a, b


def test_a_dtype_constant_has_the_dtype_expressions_range():
    # torch 2.13: `prim::Constant[value=4]() # f.py:3:29` (torch.int64's column), gpujit
    # gave the call's
    f = gpujit.jit.script(_dtypes)
    line = _dtypes.__code__.co_firstlineno
    g = str(f.graph).splitlines()
    want = {"4": f"{line + 1}:30", "7": f"{line + 2}:13"}     # (gpujit.int64: column 30)
    for v, where in want.items():
        ln = next(ln for ln in g if f"int = prim::Constant[value={v}]()" in ln)
        assert ln.endswith(where), (ln, where)
    a, b = f(gpujit.ones(2))
    assert a.dtype == gpujit.int64 and b.dtype == gpujit.float64
