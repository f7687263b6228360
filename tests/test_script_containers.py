"""Lists and dicts in scripted functions: typed empty and non-empty literals, list methods
(append, extend, index), indexing with a variable, item assignment, loops over lists and
dicts, dict methods, and list comprehensions. Every graph lints and survives
str -> parse_ir; every function runs as a ScriptFunction (passes, executor) and through
the reference interpreter, and gives what the plain Python function gives."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest

import gpujit
from gpujit import Tensor
from gpujit.frontend.script import FrontendError, compile_function
from gpujit.frontend.script.compiler import FunctionCompiler
from gpujit.ir import parse_ir
from gpujit.jit.objects import ScriptFunction
from gpujit.runtime import interpret


class _AllContainers(FunctionCompiler):
    """Dict literals and list comprehensions on explicitly (they are on by default too)."""
    dict_literals = True
    list_comprehensions = True


def compiled(fn, literals=False):
    make = (lambda f, src: _AllContainers(f, src)) if literals else None
    g = compile_function(fn, make_compiler=make)
    g.lint()
    text = str(g)
    back = parse_ir(text)
    back.lint()
    assert str(back) == text
    return g


def _same(got, want):
    if isinstance(want, Tensor):
        assert isinstance(got, Tensor), got
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), (got, want)
        for a, b in zip(got, want):
            _same(a, b)
    elif isinstance(want, dict):
        assert type(got) is dict and list(got) == list(want), (got, want)
        for k in want:
            _same(got[k], want[k])
    else:
        assert type(got) is type(want) and got == want, (got, want)


def check(fn, *args, literals=False):
    g = compiled(fn, literals)
    _same(interpret(g, *args), fn(*args))
    sf = ScriptFunction(g, fn.__name__, fn)
    for _ in range(3):                     # profiled, then optimized runs
        _same(sf(*args), fn(*args))
    return g


def kinds(g):
    return [n.kind for n in g.walk()]


X = gpujit.tensor([1.0, -2.0, 3.0])


# ------------------------------------------------------------------ 1. lists

def empty_then_append(n: int) -> List[int]:
    xs: List[int] = []
    for i in range(n):
        xs.append(i * 2)
    return xs


def test_empty_annotated_list_and_append():
    g = check(empty_then_append, 4)
    check(empty_then_append, 0)
    assert "aten::append" in kinds(g)
    assert "int[] = prim::ListConstruct()" in str(g)


def annotate_tensors(x: Tensor) -> Tensor:
    ys = gpujit.jit.annotate(List[Tensor], [])
    ys.append(x)
    ys.append(x * 2)
    return ys[0] + ys[1]


def test_annotate_empty_tensor_list():
    g = check(annotate_tensors, X)
    assert "Tensor[] = prim::ListConstruct()" in str(g)


def methods(n: int) -> Tuple[List[int], int, int]:
    xs = [5, 6]
    ys: List[int] = []
    ys.append(n)
    xs.extend(ys)
    xs.extend([7, 8])
    return xs, len(xs), xs.index(n)


def test_append_extend_len_index():
    g = check(methods, 3)
    check(methods, 7)                   # index finds the first 7
    assert kinds(g).count("aten::append") == 3      # ys.append, one per extend loop


def index_missing(n: int) -> int:
    xs = [1, 2]
    return xs.index(n)


def test_index_missing_raises_value_error():
    g = compiled(index_missing)
    assert interpret(g, 2) == 1
    with pytest.raises(Exception, match="not in list"):
        interpret(g, 5)


def loop_over_built_list(x: Tensor, n: int) -> Tensor:
    xs: List[Tensor] = []
    for i in range(n):
        xs.append(x * i)
    acc = x
    for t in xs:
        acc = acc + t
    return acc + xs[n - 1]


def test_for_over_list_built_in_function_and_variable_index():
    check(loop_over_built_list, X, 3)


def set_items(n: int) -> List[float]:
    xs = [1.0, 2.0, 3.0]
    xs[n] = 10.0
    xs[0] += 0.5
    return xs


def test_list_item_assignment():
    g = check(set_items, 2)
    assert "aten::_set_item" in kinds(g)


def appended_in_dead_value(n: int) -> int:
    xs: List[int] = []
    xs.append(n)          # the list is used only after; DCE must keep the append
    r = 0
    for v in xs:
        r += v
    return r


def test_append_survives_optimization():
    check(appended_in_dead_value, 9)


def append_in_branch(n: int) -> List[int]:
    xs = [1]
    if n > 2:
        xs.append(n)
    else:
        xs[0] = 5
    return xs


def nested_lists(n: int) -> List[List[int]]:
    out: List[List[int]] = []
    for i in range(n):
        row: List[int] = []
        for j in range(i):
            row.append(j)
        out.append(row)
    return out


def mutate_parameter(xs: List[int]) -> List[int]:
    xs.append(3)
    xs.extend(xs)
    return xs


def test_mutation_in_branches_nested_loops_and_parameters():
    check(append_in_branch, 3)
    check(append_in_branch, 1)
    check(nested_lists, 4)
    g = compiled(mutate_parameter)
    for _ in range(3):
        _same(ScriptFunction(g, "m", mutate_parameter)([1]), [1, 3, 1, 3])


def append_through_alias(n: int) -> List[int]:
    xs = [1]
    ys = xs
    ys.append(n)
    return xs


def test_append_through_an_alias():
    check(append_through_alias, 2)


def bad_append(n: int):
    xs: List[int] = []
    xs.append("a")
    return xs


def bad_pop(n: int):
    xs = [n]
    return xs.pop()


def bad_empty(n: int):
    xs = []
    return xs


@pytest.mark.parametrize("fn,words", [
    (bad_append, "'append' got a str but the list holds"),
    (bad_pop, "list.pop() is not supported"),
    (bad_empty, "the type of an empty list is unknown"),
])
def test_list_errors(fn, words):
    with pytest.raises(FrontendError) as e:
        compile_function(fn)
    assert words in str(e.value) and "<--- HERE" in str(e.value), str(e.value)


# ------------------------------------------------------------------ 2. dicts

def dict_ops(x: Tensor, k: str) -> Tuple[Tensor, int, bool, bool]:
    d = {"a": x, "b": x * 2}
    d[k] = x + 1
    total = x * 0
    for key in d:
        total = total + d[key]
    names: List[str] = []
    for name in d.keys():
        names.append(name)
    for v in d.values():
        total = total + v
    return total, len(names), k in d, "zz" in d


def test_dict_literal_getitem_setitem_keys_values_in():
    g = check(dict_ops, X, "c", literals=True)
    check(dict_ops, X, "a", literals=True)
    assert "prim::DictConstruct" in kinds(g) and "aten::_set_item" in kinds(g)
    assert "Dict(str, Tensor) = prim::DictConstruct" in str(g)


def dict_items_get(k: str) -> Tuple[int, int, Optional[int]]:
    counts: Dict[str, int] = {}
    counts["x"] = 1
    counts["y"] = 5
    counts["x"] += 2
    s = 0
    for name, c in counts.items():
        s += c * len(name)
    return s, counts.get(k, -1), counts.get(k)


def test_dict_items_get_and_empty_annotated_dict():
    check(dict_items_get, "x", literals=True)
    check(dict_items_get, "q", literals=True)


def dict_param(d: Dict[str, float], k: str) -> float:
    d[k] = 1.5
    return d[k] + d.get("w", 0.0)


def test_dict_parameter_without_literals():
    g = compiled(dict_param)
    assert interpret(g, {"w": 2.0}, "z") == dict_param({"w": 2.0}, "z")


def dict_bad_key(x: Tensor):
    d = {"a": 1}
    return d[3]


def test_dict_errors():
    with pytest.raises(FrontendError, match="the keys of this dict are a str"):
        compiled(dict_bad_key, literals=True)


# ------------------------------------------------------------------ 3. comprehensions

def comp_basic(n: int) -> List[int]:
    return [i * i for i in range(n) if i % 2 == 0]


def comp_nested(xs: List[int], n: int) -> List[int]:
    return [a + b for a in xs for b in range(1, n) if a > b]


def comp_tensors(x: Tensor, n: int) -> Tensor:
    ts = [x * float(i) for i in range(n)]
    acc = x
    for t in ts:
        acc = acc + t
    return acc


def comp_over_dict(k: int) -> List[str]:
    d = {"a": 1, "bb": 2, "ccc": 3}
    return [key for key in d if d[key] >= k]


def comp_items(d: Dict[str, int]) -> List[int]:
    return [v * len(k) for k, v in d.items()]


def test_list_comprehensions():
    check(comp_items, {"a": 1, "bcd": 2}, literals=True)
    g = check(comp_basic, 6, literals=True)
    assert "int[] = prim::ListConstruct()" in str(g)
    check(comp_nested, [1, 5, 3], 4, literals=True)
    check(comp_tensors, X, 3, literals=True)
    check(comp_over_dict, 2, literals=True)


