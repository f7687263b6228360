"""Programs found by the non-tensor generator (tests/program_fuzz_gen_e.py, run by
tests/test_program_fuzz_s24b.py against torch.jit.script), minimised; the expected values
are TorchScript's (PyTorch 2.13 on x86-64), written out."""
from __future__ import annotations

import math
from typing import List

import pytest

import gpujit

INT64_MIN = -2 ** 63


def test_list_augmented_assignment_changes_the_list_in_place():
    # (seed 24001) `xs += ys` rebound xs to a new list: another name of the list (an
    # argument's caller, an alias) kept the old contents; TorchScript's aten::add_.t
    # extends it in place (and `xs *= n` is mul_.left_t), as Python's list.__iadd__
    cu = gpujit.jit.CompilationUnit('''
def add(xs: List[int]) -> List[int]:
    ys = xs
    xs += [7]
    return ys

def mul(xs: List[int]) -> List[int]:
    ys = xs
    xs *= 2
    return ys

def twice(xs: List[int]) -> List[int]:
    xs += xs
    return xs

def nested(xs: List[int]) -> List[List[int]]:
    zs = [xs, [5]]
    zs[0] += [9]
    return zs

def loop(n: int) -> List[int]:
    xs: List[int] = [1]
    ys = xs
    for i in range(n):
        xs += [i]
    return ys
''')
    for _ in range(3):
        assert cu.add([1]) == [1, 7]
        assert cu.mul([1, 2]) == [1, 2, 1, 2]
        assert cu.twice([1, 2]) == [1, 2, 1, 2]
        a = [1]
        assert cu.nested(a) == [[1, 9], [5]]
        assert cu.loop(3) == [1, 0, 1, 2]
    with pytest.raises(Exception, match="add"):
        gpujit.jit.CompilationUnit('''
def bad(xs: List[int]) -> List[int]:
    xs += ["a"]
    return xs
''')


def _int_of_float(x: float) -> int:
    return int(x)


def _int_of_round(x: float) -> int:
    return int(round(x))


def _range_from(x: float) -> List[int]:
    return list(range(int(x), int(x) + 2))


def test_int_of_a_float_outside_int64_is_int64_min():
    # (seeds 24005, 24017) int(x) of a float outside int64 gave a Python int outside int64
    # (int(-1e19) was -10**19; range(int(x), ...) then counted from 8446744073709551616)
    # and int(inf) / int(nan) raised Python's OverflowError / ValueError; TorchScript's
    # int() is C++'s unchecked cast: INT64_MIN on x86-64
    f, g, h = (gpujit.jit.script(fn) for fn in (_int_of_float, _int_of_round, _range_from))
    for _ in range(3):
        for x in (math.inf, -math.inf, math.nan, 1e300, -1e19, 2.0 ** 63):
            assert f(x) == INT64_MIN and g(x) == INT64_MIN
            assert h(x) == [INT64_MIN, INT64_MIN + 1]
        assert f(-2.0 ** 63) == INT64_MIN and f(9.2e18) == 9200000000000000000
        assert f(-2.5) == -2 and g(2.5) == 2 and h(-1.5) == [-1, 0]


def _int_of_tensor(x: float) -> int:
    return int(gpujit.tensor(x, dtype=gpujit.float64))


def _int_of_item(x: float) -> int:
    return int(gpujit.tensor(x, dtype=gpujit.float64).item())


@pytest.mark.parametrize("fn, what", [(_int_of_tensor, "int64_t"), (_int_of_item, "int")])
def test_int_of_a_tensor_outside_int64_raises(fn, what):
    # (seed 24005, tensors as carriers) int(t) / int(t.item()) of a float outside int64:
    # a Python int outside int64 (or Python's OverflowError); TorchScript's checked
    # conversion raises "value cannot be converted to type int64_t without overflow"
    f = gpujit.jit.script(fn)
    for _ in range(3):
        for x in (math.inf, math.nan, -1e19, 9.3e18):
            with pytest.raises(RuntimeError, match=f"value cannot be converted to type "
                                                   f"{what} without overflow"):
                f(x)
        assert f(-2.5) == -2 and f(9.2e18) == 9200000000000000000


def _factorial(n: int) -> int:
    return math.factorial(n)


def _gcd(a: int, b: int) -> int:
    return math.gcd(a, b)


def _sum(xs: List[int]) -> int:
    return sum(xs)


def test_int_results_of_math_and_sum_wrap_around_int64():
    # (seeds 24005, 24012) math.factorial(21), math.gcd(-2**63, 0) and sum() of ints were
    # Python ints outside int64; TorchScript's are int64 products / sums, wrapping around
    f, g, s = (gpujit.jit.script(fn) for fn in (_factorial, _gcd, _sum))
    for _ in range(3):
        assert f(20) == 2432902008176640000 and f(21) == -4249290049419214848
        assert f(25) == 7034535277573963776 and f(0) == 1 and f(66) == 0
        with pytest.raises(RuntimeError, match="factorial.. not defined for negative"):
            f(-1)
        assert g(INT64_MIN, 0) == INT64_MIN and g(-4, 6) == 2
        assert s([2 ** 62] * 3) == -2 ** 62 and s([1, 2, 3]) == 6
        assert s([2 ** 63 - 1, 2]) == INT64_MIN + 1
