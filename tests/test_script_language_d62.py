"""Session 62 (d62): TorchScript language behaviour against torch.jit.script 2.13, found by
a program fuzz comparing the two (expected values written from torch 2.13's answers).

- a 0-dim Tensor where a container op or a math function takes a number is converted, as
  TorchScript's schema matching converts it (aten::IntImplicit / FloatImplicit):
  `xs[t]`, `s[t:]`, `xs[t] = v`, `del xs[t]`, `xs.pop(t)`, `xs.insert(t, v)`,
  `xs.count(t)` / `index` / `remove`, `t in xs`, `d[t]`, `d.get(t)`, `d.pop(t)`,
  `d.setdefault(t, v)`, `t in d` of int / float lists and keys (gpujit refused them:
  "list indices must be ints, got a Tensor"); math.<f>(t) is the Tensor op where one
  takes the Tensor as it is (math.sqrt(t) is aten::sqrt: a Tensor), else the number
  overload in torch's order (math.fabs(t) / math.gcd(t, 4) / divmod(t, 2) an int,
  math.atan2(t, 1.0) / math.log(t, 2.0) a float); round(t) is aten::round.
"""
import math
from typing import Dict, List, Tuple, Union

import numpy as np
import pytest

import gpujit as torch


def _index_all(x: torch.Tensor, n: List[int], d: Dict[int, int], s: str) -> List[int]:
    r: List[int] = []
    r.append(n[x])
    r.append(d[x])
    r.append(len(s[x]) + len(s[x:]) + len(n[x:]))
    r.append(n.count(x) + n.index(x))
    r.append(int(x in n) + int(x in d))
    r.append(d.get(x, -1))
    r.append(d.setdefault(x, 3))
    m = n.copy()
    m[x] = 9
    m.insert(x, 8)
    r.append(m.pop(x))
    del m[int(x)]      # (torch 2.13 fails an internal assert on `del m[x]`; gpujit takes it)
    r.extend(m)
    e = d.copy()
    e[x] = 4
    r.append(e.pop(x))
    return r


def test_zero_dim_tensor_indexes_and_keys_lists_dicts_strs():
    f = torch.jit.script(_index_all)
    # (torch 2.13)
    assert f(torch.tensor(1), [5, 1, 7], {1: 5}, "abc") == [1, 5, 5, 2, 2, 5, 5, 8, 5, 7, 4]


def _float_elems(x: torch.Tensor, n: List[float], d: Dict[float, str]) -> List[str]:
    return [str(x in n), str(n.count(x)), d[x], str(x in d)]


def test_zero_dim_tensor_for_a_float_element_or_key():
    f = torch.jit.script(_float_elems)
    assert f(torch.tensor(2.5), [2.5], {2.5: "b"}) == ["True", "1", "b", "True"]
    assert f(torch.tensor(1), [5.0, 1.0], {1.0: "a"}) == ["True", "1", "a", "True"]


def _str_key(x: torch.Tensor, d: Dict[str, int]) -> int:
    return d[x]


def _append(x: torch.Tensor, n: List[int]) -> List[int]:
    n.append(x)         # aten::append.t: a type variable, no conversion (torch refuses)
    return n


def test_no_conversion_to_str_keys_nor_for_type_variables():
    for fn in (_str_key, _append):
        with pytest.raises(RuntimeError):
            torch.jit.script(fn)


def _pick(x: torch.Tensor, n: List[int]) -> int:
    return n[x]


def test_tensor_index_checked_when_it_runs():
    f = torch.jit.script(_pick)
    assert f(torch.tensor(1), [7, 8]) == 8
    assert f(torch.tensor([5, 1, 9]).argmax(), [7, 8, 9]) == 9
    # torch 2.13's words
    with pytest.raises(RuntimeError, match="Cannot input a tensor of dimension other than 0"):
        f(torch.tensor([1, 0]), [7, 8])
    with pytest.raises(RuntimeError, match="Cannot input a tensor of type Double as an integral"):
        f(torch.tensor(1.5, dtype=torch.float64), [7, 8])


def _math_tensor(x: torch.Tensor):
    return (math.sqrt(x), math.floor(x), math.isnan(x), math.pow(x, 2), math.fmod(x, 3.0),
            math.copysign(x, -1.0), round(x))


def test_math_of_a_tensor_is_the_tensor_op():
    f = torch.jit.script(_math_tensor)
    out = f(torch.tensor(2.0, dtype=torch.float64))
    assert all(isinstance(o, torch.Tensor) for o in out)
    want = [math.sqrt(2.0), 2.0, False, 4.0, 2.0, -2.0, 2.0]
    np.testing.assert_allclose([float(o) for o in out], want)
    assert out[0].dtype == torch.float64 and out[2].dtype == torch.bool
    assert f(torch.tensor(3)).__getitem__(1).dtype == torch.int64     # floor of an int tensor


def _math_numbers(x: torch.Tensor, y: torch.Tensor):
    return (math.fabs(x), math.gcd(x, 4), math.atan2(x, 1.0), math.log(x, 2.0),
            divmod(x, 2), math.factorial(x), math.log(x, y), math.remainder(x, 3.0))


def test_math_without_a_tensor_overload_converts_the_tensor():
    f = torch.jit.script(_math_numbers)
    out = f(torch.tensor(4), torch.tensor(2))
    # torch 2.13: fabs.int -> float, gcd.int, atan2.float, log.float_float, divmod.int,
    # factorial.int, log.int_int, mathremainder.float
    assert out == (4.0, 4, math.atan2(4, 1.0), 2.0, (2, 0), 24, 2.0, 1.0)
    assert [type(o) for o in out[:4]] == [float, int, float, float]
    with pytest.raises(RuntimeError, match="Cannot input a tensor of type Double as an integral"):
        f(torch.tensor(4.5, dtype=torch.float64), torch.tensor(2))     # fabs.int first


def _bool_elems(a: bool, b: List[int], c: List[float], d: Dict[int, int],
                e: Dict[float, int]) -> List[int]:
    r = [int(a in b), b.count(a), b.index(a), int(a in c), c.count(a), int(a in d), d[a],
         d.get(a, 0), int(a in e), e[a], int(a in [1, 2])]
    b.remove(a)
    r.append(len(b))
    r.append(d.pop(a))
    r.append(d.setdefault(a, 5))
    return r


def test_bool_for_an_int_or_float_element_or_key_is_its_number():
    # torch 2.13 converts the bool (aten::Int / aten::Float); gpujit refused: "cannot look
    # for a bool in a List[int]", "Expected key type 'int' ... found type 'bool'"
    f = torch.jit.script(_bool_elems)
    assert f(True, [0, 1], [0.0, 1.0], {1: 7}, {1.0: 8}) == [1, 1, 1, 1, 1, 1, 7, 7, 1, 8, 1,
                                                              1, 7, 5]
    assert f(False, [0, 1], [0.0, 1.0], {0: 3}, {0.0: 4})[:10] == [1, 1, 0, 1, 1, 1, 3, 3, 1, 4]


def _dead_while(s: List[int], i: int) -> int:
    w = 0
    while w < 4 and s[i] > 0:       # w unused after the loop
        w += 1
    return 0


def _dead_statement(s: List[int], i: int) -> int:
    x = s[i]                        # unused: DCE'd, as torch's optimized graph
    return 0


def test_dead_while_loop_still_evaluates_its_condition():
    # torch 2.13 keeps the prim::Loop (DCE trims its carried values only), so an index out
    # of range in the condition raises on every call; gpujit dropped the whole loop
    f = torch.jit.script(_dead_while)
    for _ in range(3):
        assert f([1], 0) == 0
    for _ in range(3):
        with pytest.raises(RuntimeError, match="list index out of range"):
            f([1], 7)
    g = torch.jit.script(_dead_statement)
    assert [g([1], 0), g([1], 0), g([1], 7), g([1], 7)] == [0, 0, 0, 0]


def _partitions(s: str) -> Tuple[Tuple[str, str, str], Tuple[str, str, str]]:
    return s.partition(""), s.rpartition("")


def _index_b(s: str) -> int:
    return s.index("b", 0, 1)


def test_str_partition_of_an_empty_separator_and_index_words():
    # torch 2.13: an empty separator is found at the start / the end (Python raises)
    assert torch.jit.script(_partitions)("abc") == (("", "", "abc"), ("abc", "", ""))
    with pytest.raises(RuntimeError, match="RuntimeError: ValueError: substring not found"):
        torch.jit.script(_index_b)("abc")


def _noisy(x: torch.Tensor) -> torch.Tensor:
    print("once")
    return x


def _sqrt_of_call(x: torch.Tensor):
    return math.sqrt(_noisy(x))


def test_math_of_a_tensor_evaluates_its_argument_once(capfd):
    f = torch.jit.script(_sqrt_of_call)
    assert float(f(torch.tensor(4.0))) == 2.0
    assert capfd.readouterr().out.count("once") == 1


def _math_of_item(x: torch.Tensor, n: int, u: Union[int, float]):
    return (math.sqrt(x.item()), math.exp(x.item()), math.floor(x.item()), math.sqrt(n),
            math.sqrt(u), math.atan2(x.item(), 1.3), math.exp(u))


def test_unary_math_of_a_number_is_float32_precise():
    # torch 2.13's unary math.<name>.Scalar (a Scalar: x.item(), a Union[int, float]) pushes
    # a C++ float; the int / float overloads and the binary ones stay double
    f = torch.jit.script(_math_of_item)
    out = f(torch.tensor(2.0, dtype=torch.float64), 2, 2.0)
    assert out == (float(np.float32(math.sqrt(2.0))), float(np.float32(math.exp(2.0))), 2,
                   math.sqrt(2.0), float(np.float32(math.sqrt(2.0))), math.atan2(2.0, 1.3),
                   float(np.float32(math.exp(2.0))))
    assert f(torch.tensor(2.0, dtype=torch.float64), 2, 2)[6] == float(np.float32(math.exp(2)))
