"""Script: Union values and their refinement by isinstance (issue 6). A Union value is
tested at run time by prim::isinstance (its `types` attribute lists the members the test
accepts); in the branch where a test holds the variable has those members, in the other
the rest. Every function is run through the ScriptFunction (generated executor) and the
reference interpreter against the Python function, its graph linted and round-tripped
through parse_ir, and its `.code` saved, loaded and run again."""
import io
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import pytest

import gpujit
from gpujit.frontend.script import FrontendError
from gpujit.ir import parse_ir
from gpujit.runtime.interpreter import interpret

Tensor = gpujit.Tensor


def _same(got, want):
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for a, b in zip(got, want):
            _same(a, b)
    elif isinstance(want, Tensor):
        assert isinstance(got, Tensor)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    else:
        assert got == want and type(got) is type(want), (got, want)


def _check(fn, *arg_sets):
    """Script fn; for each tuple of arguments the executor (twice: profiled, then the
    generated code), the interpreter and the saved-and-loaded function agree with
    Python."""
    sf = gpujit.script(fn)
    g = sf.graph
    g.lint()
    assert str(parse_ir(str(g))) == str(g)
    buf = io.BytesIO()
    gpujit.jit.save(sf, buf)
    buf.seek(0)
    loaded = gpujit.jit.load(buf)
    for args in arg_sets:
        want = fn(*args)
        for got in (sf(*args), sf(*args), interpret(g, *args), loaded(*args)):
            _same(got, want)
    return sf


def _kinds(sf):
    return [n.kind for n in sf.graph.walk()]


# ------------------------------------------------------------------ if / elif / else

def classify(x: Union[int, Tensor, List[int]]) -> int:
    if isinstance(x, int):
        return x + 1                      # x: int
    elif isinstance(x, Tensor):
        return int(x.sum())               # x: Tensor
    else:
        return len(x) * 10                # x: List[int]


def test_if_elif_else_refines_each_branch():
    sf = _check(classify, (3,), (gpujit.tensor([1.0, 2.0]),), ([1, 2, 3],))
    # torch 2.13 infers the type of a Union's value: [] has none ("Tracer cannot infer
    # type of []")
    with pytest.raises(RuntimeError, match="List trace inputs must have elements"):
        sf([])
    g = sf.graph
    isinst = [n for n in g.walk() if n.kind == "prim::isinstance"]
    assert [n.attrs["types"] for n in isinst] == [["int"], ["Tensor"]]
    casts = {str(n.output.type) for n in g.walk() if n.kind == "prim::unchecked_cast"}
    assert casts == {"int", "Union(Tensor, int[])", "Tensor", "int[]"}
    assert "isinstance(x, int)" in sf.code


def classes(x: Union[int, float, str, List[int]]) -> str:
    if isinstance(x, (int, float)):         # x: Union[int, float]
        if isinstance(x, float):            # refined again: x: float
            return "float " + str(x * 2.0)
        return "int " + str(x * 2)
    if isinstance(x, list):
        return "list of " + str(len(x))     # x: List[int]
    return x.upper()                        # x: str


def test_tuple_of_classes_and_list_class():
    # (2.5: a float Python and TorchScript write alike; str(3.0) is `3.` in TorchScript)
    sf = _check(classes, (2,), (1.25,), ("ab",), ([1, 2],))
    assert "isinstance(x, (float, int))" in sf.code    # sorted, as TorchScript


def generic_list(x: Union[List[int], List[str], int]) -> int:
    if isinstance(x, List[int]):
        return sum(x)
    if isinstance(x, int):
        return -x
    return len(x)


def test_typing_generic_tells_lists_apart_by_elements():
    sf = gpujit.script(generic_list)
    for a, want in (([1, 2, 3], 6), (["a", "b"], 2), (4, -4)):
        assert sf(a) == want and sf(a) == want and interpret(sf.graph, a) == want


def same_class_twice(x: Union[List[int], List[str]]) -> int:
    if isinstance(x, list):          # both members: statically True, no run-time test
        return 1
    return -1


def test_isinstance_every_member_accepts_is_a_constant():
    sf = _check(same_class_twice, ([1],), (["a", "b"],))
    assert "prim::isinstance" not in _kinds(sf)


def not_member(x: Union[int, str]) -> bool:
    return isinstance(x, float)      # no member is a float: False, as in Python


def test_isinstance_with_a_non_member_is_statically_false():
    sf = _check(not_member, (1,), ("a",))
    assert "prim::isinstance" not in _kinds(sf)


def bool_as_int(x: Union[int, str]) -> int:
    if isinstance(x, int):
        return x + 1
    return len(x)


def test_bool_argument_is_refused_for_an_int_member_as_torchscript():
    # torch 2.13 takes a value for a Union only as what it is: True is a bool, and no
    # member of Union[int, str] is bool (was: counted as the int 1, as Python would)
    _check(bool_as_int, (7,), ("abc",))
    sf = gpujit.script(bool_as_int)
    with pytest.raises(RuntimeError, match=r"bool_as_int\(\) Expected a value of type "
                       r"'Union\[int, str\]' for argument 'x' but instead found type 'bool'"):
        sf(True)


# ------------------------------------------------------------------ not, else, Union minus

def negated(x: Union[int, str]) -> str:
    if not isinstance(x, int):
        return x + "!"                     # x: str (Union[int, str] minus int)
    else:
        return str(x + 1)                  # x: int


def test_not_isinstance_refines_both_branches():
    sf = _check(negated, (1,), ("a",))
    casts = [str(n.output.type) for n in sf.graph.walk() if n.kind == "prim::unchecked_cast"]
    assert casts == ["str", "int"]
    assert "if not isinstance(x, int):" in sf.code or "isinstance(x, int)" in sf.code


def ternary(x: Union[int, str]) -> int:
    return x * 2 if isinstance(x, int) else len(x)


def test_ternary():
    _check(ternary, (4,), ("abc",))


def and_chain(x: Union[int, str], y: int) -> bool:
    return isinstance(x, int) and x > y


def or_chain(x: Union[int, str]) -> bool:
    return isinstance(x, str) or x > 3      # right of `or`: x is an int


def test_and_or_chains():
    _check(and_chain, (5, 2), (1, 2), ("a", 0))
    _check(or_chain, ("a",), (5,), (1,))


def two_negations(x: Union[int, str, List[int]]) -> int:
    if not isinstance(x, int) and not isinstance(x, str):
        return len(x)                      # both: x is a List[int]
    return 0


def test_chained_negations_intersect():
    sf = _check(two_negations, ([1, 2],), (1,), ("a",))
    assert "int[] = prim::unchecked_cast" in str(sf.graph)


def early_return(x: Union[int, str]) -> int:
    if isinstance(x, str):
        return len(x)
    return x * 3                           # after the early return: x is an int


def asserted(x: Union[int, str]) -> int:
    assert isinstance(x, int), "an int please"
    return x + 1


def raised(x: Union[int, str]) -> str:
    if isinstance(x, int):
        raise ValueError("no ints")
    return x + "?"


def test_early_return_assert_and_raise_refine_what_follows():
    _check(early_return, (2,), ("abcd",))
    _check(asserted, (2,))
    _check(raised, ("a",))
    sf = gpujit.script(asserted)
    with pytest.raises(AssertionError, match="an int please"):
        sf("a")
    with pytest.raises(ValueError, match="no ints"):
        gpujit.script(raised)(3)


# ------------------------------------------------------------------ None in a Union

def opt_union(x: Optional[Union[int, str]]) -> str:
    if x is None:
        return "none"
    if isinstance(x, int):
        return "int " + str(x)
    return "str " + x


def opt_union_isinstance_first(x: Optional[Union[int, str]]) -> int:
    if isinstance(x, str):
        return len(x)
    if x is not None:
        return x                           # Optional[int] refined by `is not None`
    return -1


def union_with_none(x: Union[int, None]) -> int:   # that is Optional[int]
    if isinstance(x, int):
        return x
    return 0


def test_unions_with_none():
    sf = _check(opt_union, (None,), (3,), ("a",))
    assert "aten::__is__" in _kinds(sf)
    _check(opt_union_isinstance_first, (None,), (3,), ("ab",))
    sf = _check(union_with_none, (None,), (5,))
    # an Optional: torch 2.13's prim::isinstance[types=[int]] too (not a None check)
    assert "prim::isinstance" in _kinds(sf)


# ------------------------------------------------------------------ passing and returning

def as_number(x: Union[int, str]) -> Union[int, float]:
    r: Union[int, float] = 0
    if isinstance(x, int):
        r = x
    else:
        r = float(len(x))
    return r


def pass_union(x: Union[int, str]) -> int:
    return bool_as_int(x)                  # a Union argument passed on as it is


def union_local(c: bool) -> Union[int, str]:
    x: Union[int, str] = 1
    if c:
        x = "a"
    return x


def union_local_used(c: bool) -> int:
    x: Union[int, str] = 5
    if c:
        x = "abc"
    if isinstance(x, int):
        return x
    return len(x)


def test_return_pass_and_assign_unions():
    _check(as_number, (3,), ("abcd",))
    _check(pass_union, (3,), ("ab",))
    _check(union_local, (True,), (False,))
    _check(union_local_used, (True,), (False,))


def list_of_unions(xs: List[Union[int, str]]) -> int:
    n = 0
    for x in xs:
        if isinstance(x, int):          # not a graph input: tested in the generated code
            n += x
        else:
            n += len(x)
    return n


def test_union_elements_of_a_list():
    sf = _check(list_of_unions, ([1, "ab", 3],), ([],), (["xyz"],))
    source = sf._get_executable().code_for([1, "ab", 3])
    assert "isinstance_test(" in source, source


def test_a_graph_input_is_tested_once_per_specialization():
    sf = gpujit.script(bool_as_int)
    for _ in range(2):
        assert sf(4) == 5 and sf("ab") == 2
    source = sf._get_executable().code_for(4)
    assert "isinstance_test" not in source and "if True:" in source, source


def tensor_or_list(x: Union[Tensor, List[Tensor]]) -> Tensor:
    if isinstance(x, Tensor):
        return x * 2.0
    out = x[0]
    for t in x[1:]:
        out = out + t
    return out


def containers(x: Union[Tuple[int, int], Dict[str, int], int]) -> int:
    if isinstance(x, tuple):
        return x[0] - x[1]
    if isinstance(x, int):      # (isinstance(x, dict) is torch 2.13's "Unknown type name
        return x                # 'dict'", tests/test_script_lang_s38.py)
    return len(x)


def test_tensor_list_tuple_and_dict_members():
    a, b = gpujit.tensor([1.0, 2.0]), gpujit.tensor([3.0, 5.0])
    _check(tensor_or_list, (a,), ([a, b],), ([a, b, a],))
    _check(containers, ((5, 2),), ({"a": 1, "b": 2},), (7,))


# ------------------------------------------------------------------ IR text

def test_prim_isinstance_prints_parses_and_runs():
    text = """graph(%x : Union(int[], int, str)):
  %1 : bool = prim::isinstance[types=[int, int[]]](%x)
  return (%1)
"""
    g = parse_ir(text)
    g.lint()
    assert str(g) == text
    assert [interpret(g, a) for a in (1, "a", [1], True)] == [True, False, True, True]
    from gpujit.runtime import Executable
    exe = Executable(g)
    for a in (1, "a", [1], [1], "b", 2):
        assert exe(a) == isinstance(a, (int, list))


def test_graph_of_a_refinement():
    def f(x: Union[int, str]) -> int:
        if isinstance(x, int):
            return x
        return len(x)
    g = gpujit.script(f).graph
    g.lint()
    body = "\n".join(line.split(" #")[0] for line in str(g).splitlines())
    # (the casts are named after the variable, as TorchScript's %x.5 / %x.7)
    assert body == """graph(%x : Union(int, str)):
  %2 : bool = prim::isinstance[types=[int]](%x)
  %6 : int = prim::If(%2)
    block0():
      %x.1 : int = prim::unchecked_cast(%x)
      -> (%x.1)
    block1():
      %x.2 : str = prim::unchecked_cast(%x)
      %5 : int = aten::len(%x.2)
      -> (%5)
  return (%6)"""


# ------------------------------------------------------------------ errors

def unrefined_op(x: Union[int, str]) -> int:
    return x + 1


def unrefined_call(x: Union[int, str]) -> int:
    return int_only(x)


def int_only(a: int) -> int:
    return a


# (len(x) of an unrefined Union[int, List[int]] compiles in torch 2.13: aten::len.any of
# the packed list [x], 1 for either member; tests/test_script_lang_s37.py)


@pytest.mark.parametrize("fn", [unrefined_op, unrefined_call])
def test_union_used_as_a_member_is_an_error_with_a_hint(fn):
    with pytest.raises(FrontendError) as e:
        gpujit.script(fn)
    msg = str(e.value)
    assert "Union[" in msg and "int" in msg and "isinstance(" in msg, msg


# ---- members returned and assigned stay the Union ---------------------------------------

def return_members(x: Union[int, str]) -> Union[int, float]:
    if isinstance(x, int):
        return x                           # each path returns a member of the Union
    return float(len(x))


def reassign_param(x: Union[int, str], c: bool) -> int:
    if c:
        x = 3                              # a parameter keeps its declared Union
    if isinstance(x, int):
        return x
    return len(x)


def test_members_returned_and_assigned_stay_the_union():
    _check(return_members, (3,), ("abcd",))
    _check(reassign_param, ("ab", True), ("ab", False), (5, False))
