"""Scripted code computes on Python numbers as TorchScript's interpreter does, where that
differs from Python: float division by zero gives inf / nan, float `//` is floor(a / b),
float `%` is fmod(b + fmod(a, b), b), `int ** int` is a float, math functions give C's
results outside their domain, round() is a float, divmod is Python's. Expected values are
what torch 2.13's torch.jit.script gives (literals: the tests run without torch). Eager
code on Python numbers stays plain Python."""
import io
import math
from typing import List, Tuple

import pytest

import gpujit as torch

INF, NAN = math.inf, math.nan


def same(got, want):
    assert type(got) is type(want), (got, want)
    if isinstance(want, tuple):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w)
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got), got
    elif isinstance(want, float):
        assert got == want and math.copysign(1, got) == math.copysign(1, want), (got, want)
    else:
        assert got == want, (got, want)


def runs(fn, *args):
    """The scripted function's results: first run, profiled/optimized runs, and after a
    save/load round trip (all must agree)."""
    s = torch.jit.script(fn)
    out = [s(*args) for _ in range(3)]
    buf = io.BytesIO()
    torch.jit.save(s, buf)
    buf.seek(0)
    out.append(torch.jit.load(buf)(*args))
    return out


def check(fn, args, want):
    for got in runs(fn, *args):
        same(got, want)


# ------------------------------------------------------------------ division

def fdiv(a: float, b: float):
    return a / b


def idiv(a: int, b: int):
    return a / b


def mdiv(a: float, b: int):
    return a / b


def div_literal(a: int):
    return a / 0


@pytest.mark.parametrize("fn,a,b,want", [
    (fdiv, 1.0, 0.0, INF), (fdiv, -1.0, 0.0, -INF), (fdiv, 0.0, 0.0, NAN),
    (fdiv, 1.0, -0.0, -INF), (fdiv, NAN, 0.0, NAN), (fdiv, 3.0, 2.0, 1.5),
    (idiv, 1, 0, INF), (idiv, -1, 0, -INF), (idiv, 0, 0, NAN), (idiv, 7, 2, 3.5),
    (mdiv, 1.0, 0, INF), (mdiv, -2.5, 0, -INF),
])
def test_true_division_by_zero_is_ieee(fn, a, b, want):
    check(fn, (a, b), want)


def test_division_by_a_literal_zero():
    check(div_literal, (2,), INF)
    check(div_literal, (-2,), -INF)


def ffloordiv(a: float, b: float):
    return a // b


def mfloordiv(a: int, b: float):
    return a // b


def fmod_op(a: float, b: float):
    return a % b


def mmod(a: float, b: int):
    return a % b


@pytest.mark.parametrize("a,b,want", [
    (5.0, 0.1, 50.0), (-5.0, 0.1, -50.0), (5.0, 0.3, 16.0), (7.0, -2.0, -4.0),
    (-7.5, 2.0, -4.0), (1.0, 0.0, INF), (-1.0, 0.0, -INF), (0.0, 0.0, NAN),
    (INF, 2.0, INF), (1.0, INF, 0.0), (-1.0, INF, -0.0),
])
def test_float_floor_division_is_floor_of_the_quotient(a, b, want):
    check(ffloordiv, (a, b), want)


def test_mixed_floor_division():
    check(mfloordiv, (5, 0.1), 50.0)
    check(mfloordiv, (5, 0.0), INF)
    check(mfloordiv, (-7, 2.0), -4.0)


@pytest.mark.parametrize("a,b,want", [
    (5.0, 0.1, 0.09999999999999973), (5.0, 0.3, 0.20000000000000023), (-5.0, 3.0, 1.0),
    (5.0, -3.0, -1.0), (-1e-20, 1.0, 0.0), (1.0, 0.0, NAN), (-1.0, 0.0, NAN),
    (0.0, 0.0, NAN), (INF, 2.0, NAN), (1.0, INF, NAN), (-1.0, INF, NAN),
])
def test_float_remainder_is_fmod_based(a, b, want):
    check(fmod_op, (a, b), want)


def test_mixed_remainder():
    check(mmod, (5.0, 0), NAN)
    check(mmod, (-5.0, 3), 1.0)


def ifloordiv(a: int, b: int):
    return a // b


def imod(a: int, b: int):
    return a % b


def test_int_division_by_zero_still_raises():
    for fn in (ifloordiv, imod):
        s = torch.jit.script(fn)
        assert s(7, -2) == fn(7, -2)
        with pytest.raises(RuntimeError, match="by 0"):
            s(1, 0)


def test_eager_numbers_stay_python():
    with pytest.raises(ZeroDivisionError):
        fdiv(1.0, 0.0)
    assert ffloordiv(5.0, 0.1) == 49.0 and type(2 ** 3) is int


# ------------------------------------------------------------------ powers

def ipow(a: int, b: int):
    return a ** b


def ipow3(a: int):
    return a ** 3


def torch_pow(a: int):
    return torch.pow(a, 2)


def fpow(a: float, b: float):
    return a ** b


def mpow(a: float, b: int):
    return a ** b


@pytest.mark.parametrize("a,b,want", [
    (2, 3, 8.0), (2, -1, 0.5), (0, 0, 1.0), (-2, 3, -8.0), (-2, -2, 0.25), (3, 0, 1.0),
    (3, 40, 1.2157665459056929e+19), (10, 19, 1e19),
])
def test_int_power_is_a_float(a, b, want):
    check(ipow, (a, b), want)


def test_int_power_of_a_constant_exponent_is_a_float_too():
    check(ipow3, (2,), 8.0)
    check(torch_pow, (3,), 9.0)
    s = torch.jit.script(ipow3)
    assert "float = aten::pow" in str(s.graph), str(s.graph)
    assert "pow.int_to_int" not in str(s.graph)


def int_annotated():
    x: int = 2 ** 3
    return x


def test_int_power_annotated_int_is_a_compile_error():
    with pytest.raises(Exception, match="int"):
        torch.jit.script(int_annotated)


@pytest.mark.parametrize("fn,a,b,want", [
    (fpow, 2.0, 3.0, 8.0), (fpow, -8.0, 1 / 3, NAN), (fpow, 0.0, 0.0, 1.0),
    (fpow, 10.0, 400.0, INF), (fpow, -2.0, 0.5, NAN), (mpow, 2.0, 3, 8.0),
    (mpow, 2.0, -1, 0.5),
])
def test_float_powers(fn, a, b, want):
    check(fn, (a, b), want)


@pytest.mark.parametrize("fn,a,b", [(ipow, 0, -1), (fpow, 0.0, -1.0), (mpow, 0.0, -1)])
def test_zero_to_a_negative_power_raises(fn, a, b):
    with pytest.raises(RuntimeError, match="0.0 cannot be raised to a negative power"):
        torch.jit.script(fn)(a, b)


# ------------------------------------------------------------------ math functions

def mfloor(a: float):
    return math.floor(a)


def mceil(a: float):
    return math.ceil(a)


@pytest.mark.parametrize("fn,a", [(mfloor, INF), (mfloor, NAN), (mceil, INF),
                                  (mfloor, 1e300)])
def test_floor_ceil_of_non_int64_values_raise(fn, a):
    with pytest.raises(RuntimeError, match="Cannot convert float .* to integer"):
        torch.jit.script(fn)(a)


def test_floor_ceil_are_ints():
    check(mfloor, (-2.5,), -3)
    check(mceil, (2.1,), 3)


def c_math(a: float, b: float) -> Tuple[float, float, float, float, float, float, float]:
    return (math.log(a), math.sqrt(a), math.log10(a), math.asin(a - 3.0), math.exp(b),
            math.fmod(b, a), math.log(b, a + 1.0))


@pytest.mark.parametrize("a,b,want", [
    (0.0, 1000.0, (-INF, 0.0, -INF, NAN, INF, NAN, INF)),
    (-1.0, 0.0, (NAN, NAN, NAN, NAN, 1.0, 0.0, NAN)),
    (1.0, 8.0, (0.0, 1.0, 0.0, NAN, math.exp(8.0), 0.0, 3.0)),
])
def test_math_outside_the_domain_gives_c_results(a, b, want):
    check(c_math, (a, b), want)


def more_math(a: float, n: int) -> Tuple[float, float, float, float, float, float, int, int]:
    return (math.gamma(a), math.lgamma(a), math.erf(a), math.erfc(a), math.degrees(a),
            math.radians(a), math.factorial(n), math.gcd(n, -18))


def test_more_math_functions():
    for got in runs(more_math, 0.5, 5):
        # C's tgamma / lgamma, as torch 2.13 (Python's own gamma and lgamma differ in
        # the last bit: math.gamma(0.5) is 1.7724538509055159)
        same(got, (1.772453850905516, 0.5723649429247001, math.erf(0.5), math.erfc(0.5),
                   math.degrees(0.5), math.radians(0.5), 120, 1))
    got = torch.jit.script(more_math)(0.0, 4)
    same(got[:2], (INF, INF))
    got = torch.jit.script(more_math)(-1.0, 4)
    assert math.isnan(got[0]) and got[1] == INF
    with pytest.raises(RuntimeError, match="factorial.. not defined for negative values"):
        torch.jit.script(more_math)(1.0, -1)


# ------------------------------------------------------------------ round, abs, divmod

def rnd(a: float):
    return round(a)


def rnd_int(a: int):
    return round(a)


@pytest.mark.parametrize("a,want", [
    (0.5, 0.0), (1.5, 2.0), (2.5, 2.0), (-0.5, -0.0), (-1.5, -2.0), (2.675, 3.0),
    (INF, INF), (NAN, NAN), (1e300, 1e300),
])
def test_round_is_a_float_half_to_even(a, want):
    check(rnd, (a,), want)


def test_round_of_an_int_is_a_float():
    check(rnd_int, (3,), 3.0)


def absolute(a: int, b: float):
    return abs(a), abs(b)


def test_abs():
    check(absolute, (-5, -0.0), (5, 0.0))
    check(absolute, (3, -2.5), (3, 2.5))


def dm(a: int, b: int):
    return divmod(a, b)


def dmf(a: float, b: float):
    return divmod(a, b)


def dm_mixed(a: int, b: float):
    return divmod(a, b)


def test_divmod_is_pythons():
    check(dm, (7, -2), (-4, -1))
    check(dmf, (5.0, 0.1), (49.0, 0.09999999999999973))     # not 5.0 // 0.1 == 50.0
    check(dmf, (7.5, -2.0), (-4.0, -0.5))
    check(dm_mixed, (7, 2.0), (3.0, 1.0))
    with pytest.raises(RuntimeError, match="ZeroDivisionError: integer division or modulo"):
        torch.jit.script(dm)(7, 0)
    with pytest.raises(RuntimeError, match=r"ZeroDivisionError: float divmod\(\)"):
        torch.jit.script(dmf)(1.0, 0.0)


def test_divmod_graph():
    g = str(torch.jit.script(dm).graph)
    assert "int, %" in g and "aten::divmod" in g, g


def bool_arith(a: bool, b: bool):
    return a + b, a * b, a - b, a / b


def mixed_min_max(a: int, b: float):
    return min(a, b), max(a, b)


def test_bools_and_mixed_min_max():
    check(bool_arith, (True, True), (2, 1, 0, 1.0))
    check(mixed_min_max, (2, 1.5), (1.5, 2.0))
    check(mixed_min_max, (1, 1.0), (1.0, 1.0))


# ------------------------------------------------------------------ torch.tensor casts

def to_uint8(x: float):
    return torch.tensor(x, dtype=torch.uint8)


def int_to_uint8(x: int):
    return torch.tensor(x, dtype=torch.uint8)


def list_to_int8(x: List[float]):
    return torch.tensor(x, dtype=torch.int8)


@pytest.mark.parametrize("fn,x,want", [
    (to_uint8, -0.5, 0), (to_uint8, 300.7, 44), (to_uint8, -3.7, 253), (to_uint8, NAN, 0),
    (int_to_uint8, 300, 44), (int_to_uint8, -1, 255),
    (list_to_int8, [200.5, -129.9], [-56, 127]),
])
def test_scripted_tensor_of_a_number_casts_like_c(fn, x, want):
    t = torch.jit.script(fn)(x)
    assert t.tolist() == want and t.dtype == (torch.int8 if fn is list_to_int8
                                              else torch.uint8)


# ------------------------------------------------------------------ manual_seed

def seeded(n: int):
    torch.manual_seed(n)
    return torch.rand(3)


def test_manual_seed_in_scripted_code():
    s = torch.jit.script(seeded)
    a, b = s(3), s(3)
    torch.manual_seed(3)
    want = torch.rand(3)
    assert a.tolist() == b.tolist() == want.tolist()
    assert s(4).tolist() != want.tolist()
    assert "aten::manual_seed" in str(s.graph) and "torch.manual_seed(n)" in s.code
    buf = io.BytesIO()
    torch.jit.save(s, buf)
    buf.seek(0)
    assert torch.jit.load(buf)(3).tolist() == want.tolist()


def float_min_max(a: float, b: float):
    return min(a, b), max(a, b)


@pytest.mark.parametrize("a,b,want", [
    (NAN, 1.0, (1.0, 1.0)), (1.0, NAN, (NAN, NAN)), (0.0, -0.0, (-0.0, -0.0)),
    (-0.0, 0.0, (0.0, 0.0)),
])
def test_min_max_of_floats_are_the_comparisons(a, b, want):
    # TorchScript's min(a, b) is `a if a < b else b` (Python's min(nan, 1.0) is nan)
    check(float_min_max, (a, b), want)


def nan_compare(a: float, b: float):
    return a == b, a != b, a < b, a <= b


def test_nan_comparisons():
    check(nan_compare, (NAN, NAN), (False, True, False, False))
    check(nan_compare, (NAN, 1.0), (False, True, False, False))
