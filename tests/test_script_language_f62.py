"""TorchScript language corners from session 62's fuzz, against torch.jit.script 2.13
(expected values written from torch 2.13's runs; torch is not imported here)."""
import io
from typing import Dict, List, Tuple

import pytest

import gpujit as torch
from gpujit.frontend.script.errors import FrontendError


# ---------------------------------------------------------------- bare `tuple` annotations

def ret_tuple() -> tuple:
    return (1, 2.0)


def calls_ret_tuple():
    y = ret_tuple()
    return y


def tuple_param(t: tuple) -> int:
    return 1


def passes_tuple(x: int) -> int:
    return tuple_param((x, 2.0))


def list_of_any_tuple(x: int):
    l: List[tuple] = [(x, 1), (2.0,)]
    return l


def is_a_tuple(t: tuple) -> bool:
    return isinstance(t, tuple)


def asks_is_a_tuple(x: int):
    return is_a_tuple((x, 1))


def annotated_local():
    x: tuple = (1, 2.0)
    x = (3, 4)
    return x


def indexes_any_tuple():
    x: tuple = (1, 2.0)
    return x[0]


def unpacks_any_tuple(x: int):
    t: tuple = (x, "a")
    a, b = t
    return b


def test_bare_tuple_is_any_tuple():
    # torch 2.13: `tuple` is AnyTupleType (printed `tuple`), any tuple is one
    s = torch.jit.script(calls_ret_tuple)
    assert s() == (1, 2.0)
    assert "tuple = prim::CallFunction" in str(s.graph)
    assert torch.jit.script(passes_tuple)(3) == 1
    s = torch.jit.script(list_of_any_tuple)
    assert s(1) == [(1, 1), (2.0,)]
    assert "tuple[] = prim::ListConstruct" in str(s.graph)
    assert torch.jit.script(annotated_local)() == (3, 4)
    assert torch.jit.script(asks_is_a_tuple)(1) is True
    assert "def ret_tuple() -> tuple:" in torch.jit.script(ret_tuple).code


def test_bare_tuple_save_load():
    b = io.BytesIO()
    torch.jit.save(torch.jit.script(calls_ret_tuple), b)
    b.seek(0)
    assert torch.jit.load(b)() == (1, 2.0)


@pytest.mark.parametrize("fn", [indexes_any_tuple, unpacks_any_tuple])
def test_any_tuple_elements_unreadable(fn):
    # torch: "'tuple' object is not subscriptable" / "Provided tuple is not fully defined"
    with pytest.raises(FrontendError):
        torch.jit.script(fn)


# ---------------------------------------------------------------- `[]` typed by its use

def count_int(x: int):
    return [].count(x)


def index_float(x: float):
    return [].index(x)


def remove_str(x: str):
    [].remove(x)
    return 1


def count_tensor(x: torch.Tensor):
    return [].count(x)


def variable_count(x: int):
    xs = []
    return xs.count(x)


def test_empty_literal_method_takes_argument_type():
    s = torch.jit.script(count_int)
    assert s(3) == 0
    assert "int[] = prim::ListConstruct()" in str(s.graph)
    assert torch.jit.script(count_tensor)(torch.ones(2)) == 0
    s = torch.jit.script(index_float)
    assert "float[] = prim::ListConstruct()" in str(s.graph)
    # (torch 2.13's message writes the float as C++'s ostream: %g)
    with pytest.raises(RuntimeError, match="'1' is not in list"):
        s(1.0)
    with pytest.raises(RuntimeError, match="'-0' is not in list"):
        s(-0.0)
    with pytest.raises(RuntimeError, match="'0.333333' is not in list"):
        s(1 / 3)
    # (torch 2.13 compiles it; its dead-code pass drops the removal from a fresh list)
    assert torch.jit.script(remove_str)("a") == 1


def test_empty_list_variable_stays_tensor_list():
    # torch 2.13 refuses: `xs = []` is a List[Tensor], not a literal at the call
    with pytest.raises(FrontendError):
        torch.jit.script(variable_count)


# ---------------------------------------------------------------- sorted([])

def sorted_empty_in_dict(keys: List[str]):
    d: Dict[str, int] = dict(zip(keys, sorted([])))
    return d


def sorted_empty_annotated():
    y: List[int] = sorted([])
    return y


def seed_2176(p0: float, p1: Dict[str, int], p2: bool) -> Tuple[str, str, str, str]:
    v1: Dict[str, int] = dict(zip([str(x) for x in sorted([])], sorted([])))
    p1 = v1
    p1 = dict(zip(("1.5" + "é").split(' '), sorted([7])))
    return (str(p0), str(p1), str(p2), str(v1),)


def list_empty_annotated():
    y: List[int] = list([])
    return y


def test_sorted_of_empty_literal_is_int_list():
    # torch 2.13: `[]` matches aten::sorted.int, the first overload: an int[]
    assert torch.jit.script(sorted_empty_in_dict)(["a"]) == {}
    s = torch.jit.script(sorted_empty_annotated)
    assert s() == []
    assert "int[] = aten::sorted" in str(s.graph)
    assert torch.jit.script(seed_2176)(0.1, {"abc": 7}, False) == (
        "0.10000000000000001", "{1.5é: 7}", "False", "{}")
    # (no context typing in general: torch refuses list([]) for a List[int])
    with pytest.raises(FrontendError):
        torch.jit.script(list_empty_annotated)


# ---------------------------------------------------------------- a 0-dim Tensor for a number

def floordiv_true(x: torch.Tensor):
    return x // True


def floordiv_flag(x: torch.Tensor, b: bool):
    return x // b


def floordiv_two(x: torch.Tensor):
    return x // 2


def test_tensor_floordiv_bool_is_int_floordiv():
    # torch 2.13: a bool is no number: floordiv.int(IntImplicit(x), Int(b)), an int
    s = torch.jit.script(floordiv_true)
    assert "aten::IntImplicit" in str(s.graph)
    assert s(torch.tensor(5)) == 5 and isinstance(s(torch.tensor(5)), int)
    with pytest.raises(RuntimeError, match="Cannot input a tensor of type Float"):
        s(torch.tensor(2.5))
    with pytest.raises(RuntimeError, match="dimension other than 0"):
        s(torch.tensor([5]))
    assert torch.jit.script(floordiv_flag)(torch.tensor(7), True) == 7
    # (a number divisor stays the Tensor floor_divide)
    assert torch.jit.script(floordiv_two)(torch.tensor([5])).tolist() == [2]


def atan2_float(x: torch.Tensor):
    return torch.atan2(x, 1.0)


def fmod_of_float(x: torch.Tensor):
    return torch.fmod(2.0, x)


def log_base(x: torch.Tensor):
    return torch.log(2.0, x)


def gcd_int(x: torch.Tensor):
    return torch.gcd(x, 2)


def max_number_tensor(x: torch.Tensor):
    return torch.max(1.0, x)


def test_zero_dim_tensor_to_python_number_overload():
    # torch 2.13: no overload takes (Tensor, float) as it is, so the conversion pass
    # picks atan2.float(FloatImplicit(x), 1.0): a float (a tensor with dims raises)
    s = torch.jit.script(atan2_float)
    assert "aten::FloatImplicit" in str(s.graph)
    v = s(torch.tensor(2.5))
    assert isinstance(v, float) and v == pytest.approx(1.1902899496825317, abs=1e-15)
    with pytest.raises(RuntimeError, match="dimension other than 0"):
        s(torch.tensor([2.5]))
    assert torch.jit.script(fmod_of_float)(torch.tensor(2.5)) == 2.0
    assert torch.jit.script(log_base)(torch.tensor(3)) == pytest.approx(0.6309297535714574,
                                                                       abs=1e-15)
    s = torch.jit.script(gcd_int)
    assert s(torch.tensor(3)) == 1
    with pytest.raises(RuntimeError, match="Cannot input a tensor of type Float"):
        s(torch.tensor(2.5))
    with pytest.raises(FrontendError):      # (torch 2.13 refuses max(number, Tensor))
        torch.jit.script(max_number_tensor)


def number_tensor_compares(x: torch.Tensor, n: int):
    return torch.ge(n, x), torch.lt(1.5, x), torch.eq(2, x), torch.ne(n, x)


def test_torch_compare_of_number_and_tensor_mirrors():
    # torch 2.13: ge(n, x) is le(x, n), lt(1.5, x) gt(x, 1.5): bool tensors
    s = torch.jit.script(number_tensor_compares)
    g = str(s.graph)
    assert "aten::le" in g and "aten::gt" in g and "IntImplicit" not in g
    r = s(torch.tensor([1.0, 2.0, 3.0]), 2)
    assert [t.tolist() for t in r] == [[True, True, False], [False, True, True],
                                       [False, True, False], [True, False, True]]


def test_bare_tuple_parameter_takes_no_python_value():
    # torch 2.13 compiles it, but its toIValue converts no Python value to a bare tuple
    s = torch.jit.script(tuple_param)
    with pytest.raises(RuntimeError, match="Cast error details: toIValue\\(\\) cannot handle "
                                           "converting to type: tuple"):
        s((1, 2.0))
