"""Scripted programs' run-time values (helper a36, session 36), checked against
torch.jit.script 2.13 (x86-64); the expected values and words are torch's, written out.

1. int(s) / float(s) of a str are TorchScript's aten::Int.str / aten::Float.str: C++'s
   std::stoll / std::stod on the whole str. Leading C whitespace is skipped, trailing is
   not (`int(" 7 ")` raises "invalid literal for int() with base 10: ' 7 '", gpujit
   answered 7 with Python's parse); stod takes hex floats (`float("0x10")` is 16.0,
   `float("0x1.8p1")` 3.0) and `nan(...)`; no number at the start raises "stoll"/"stod";
   out of range too (stod: `1e400`, and an inexact result under the smallest normal
   double, `1e-310`; an exact one, `0x1p-1074`, is 5e-324); Python's `1_000` is refused.
   All are RuntimeError (and ValueError, as eager Python's).
2. `a << b` / `a >> b` on ints take the count modulo 64 (the machine's shift): torch gives
   `1 << 64` == 1, `1 << -1` == -2**63, `-5 >> 65` == -3; gpujit gave 0 and raised
   "negative shift count".
3. An int compared with a float is converted to a double first (C++'s aten::eq.int_float):
   `2**53 + 1 == 9007199254740992.0` is True in TorchScript, False in Python (and in
   gpujit before); also for x.item() / Union values (aten::eq.Scalar_Scalar).
4. What a scripted function or method returns to Python is converted as TorchScript's
   toPyObject converts it: a new list / dict / script-class object per reference. `return
   self.xs` of a scripted module gave the module's own list (the caller's append changed
   the module), `return p, p` one object where torch gives two. And torch.jit.script(m)
   converts m's list / dict / object attributes into the scripted module's own: gpujit's
   scripted module shared the original's list (appending to `m.xs` after scripting
   changed what the scripted forward saw).
5. An op failing inside scripted code reaches the Python caller as a RuntimeError in
   torch (the interpreter's "The following operation failed in the TorchScript
   interpreter."): `x[10]` of a 3-element tensor (eager: IndexError), `xs[5] = 1` of a
   short list, `x.sum(5)`, an `@ignore`d function's ValueError. gpujit raised the bare
   IndexError / ValueError (`except RuntimeError` missed them); now a subclass of both.
   What the program raises itself stays torch.jit.Error (not a RuntimeError, as torch's).
6. A scripted factory of a negative size raised NumPy's ValueError "negative dimensions
   are not allowed"; torch: RuntimeError "Trying to create tensor with negative
   dimension -1: [-1, 2]" (torch.zeros: "zeros: Dimension size must be non-negative.").
7. divmod(a, b) of floats was Python's; TorchScript's aten::divmod.float is r = fmod(a, b)
   (moved by b when nonzero and of the other sign), q = (a - r) / b: divmod(0.0, -2.5)
   is (-0.0, 0.0) (gpujit gave r -0.0: GPUJIT_PROGRAM_FUZZ_SEED=36031,
   test_program_fuzz_s24b k=126), divmod(2.5, 0.1) (24.000000000000004, ...), divmod(2.5,
   -inf) (nan, -inf). An int with a float is aten::divmod.int_float / float_int: q =
   floor(a / b) through an int64 (divmod(-5, 2.5) is (-2.0, 0.0), not -0.0; a nan
   quotient raises "Cannot convert float nan to integer"), r = a - q * b. (Its C++ also
   narrows the int to 32 bits and the float to float32: gpujit keeps both whole.)
9. Code after an unconditional raise never runs; TorchScript drops it and what only it
   used (its exit transform leaves the block nothing to return: prim::Uninitialized), so
   `if float(s) > 0.0: tr.append("x")` before `if v or True: raise RuntimeError("oops")`
   raises "oops" for s = "ab c" (GPUJIT_PROGRAM_FUZZ_SEED=36051, test_program_fuzz_s24b
   k=91); gpujit kept the code after the raise alive and raised float()'s error.
8. (found by the suite's save/load round trip) a saved function with a Generator
   parameter did not load: its code reads `def f(g: Generator) -> int`, and `Generator`
   was no name an annotation may use unimported (torch's CompilationUnit takes it).
"""
import io
from typing import Dict, List, Tuple, Union

import pytest

import gpujit as torch


# ---------------------------------------------------------------- 1. stoll / stod

def _int(s: str) -> int:
    return int(s)


def _float(s: str) -> float:
    return float(s)


@pytest.mark.parametrize("s,want", [
    (" 7", 7), ("\t\n\v\f\r7", 7), ("+7", 7), ("-0", 0), ("0007", 7),
    ("-9223372036854775808", -2 ** 63), ("9223372036854775807", 2 ** 63 - 1)])
def test_int_of_a_str_is_stoll(s, want):
    assert torch.jit.script(_int)(s) == want


@pytest.mark.parametrize("s,words", [
    (" 7 ", "invalid literal for int() with base 10: ' 7 '"),
    ("7\n", "invalid literal for int() with base 10"),
    ("0x10", "invalid literal for int() with base 10: '0x10'"),
    ("1_000", "invalid literal for int() with base 10: '1_000'"),
    ("7.5", "invalid literal"), ("1e3", "invalid literal"),
    ("", "stoll"), ("+ 7", "stoll"), ("abc7", "stoll"), ("\u06637", "stoll"),
    ("9223372036854775808", "stoll"), ("99999999999999999999abc", "stoll")])
def test_int_of_a_str_raises_as_stoll(s, words):
    f = torch.jit.script(_int)
    with pytest.raises(RuntimeError, match="stoll" if words == "stoll" else None) as e:
        f(s)
    assert words in str(e.value)
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("s,want", [
    (" 1.5", 1.5), ("\v1.5", 1.5), ("0x10", 16.0), ("0X1P+3", 8.0), ("0x.8", 0.5),
    ("0x1.8p1", 3.0), ("+.5e+2", 50.0), ("1.e1", 10.0), ("1e0001", 10.0),
    ("-Infinity", float("-inf")), ("inf", float("inf")), ("-0", -0.0), ("0e-500", 0.0),
    ("1.7976931348623157e308", 1.7976931348623157e308), ("0x1p-1074", 5e-324),
    ("2.2250738585072014e-308", 2.2250738585072014e-308)])
def test_float_of_a_str_is_stod(s, want):
    got = torch.jit.script(_float)(s)
    assert got == want and str(got) == str(want)


@pytest.mark.parametrize("s", ["nan", " nan", "-nan", "NaN", "nan()", "nan(abc_1)"])
def test_float_of_a_nan_str(s):
    got = torch.jit.script(_float)(s)
    assert got != got


@pytest.mark.parametrize("s,words", [
    (" 1.5 ", "could not convert string to float: ' 1.5 '"),
    ("1.5\n", "could not convert string to float"),
    ("1_0.5", "could not convert string to float: '1_0.5'"),
    ("1e", "could not convert"), ("1e+", "could not convert"), ("0x", "could not convert"),
    ("0x1p", "could not convert"), ("infx", "could not convert"),
    ("infin", "could not convert"), ("nan(", "could not convert"),
    ("nan(1 )", "could not convert"),
    ("", "stod"), (".", "stod"), ("-.e1", "stod"), ("e3", "stod"), ("+-7", "stod"),
    ("1e400", "stod"), ("-1e400", "stod"), ("1.7976931348623159e308", "stod"),
    ("0x1p2000", "stod"), ("1e-310", "stod"), ("1e-400", "stod"), ("0x1p-1080", "stod"),
    ("2.2250738585072011e-308", "stod")])
def test_float_of_a_str_raises_as_stod(s, words):
    f = torch.jit.script(_float)
    with pytest.raises(RuntimeError) as e:
        f(s)
    assert words in str(e.value)
    assert isinstance(e.value, ValueError)


def test_int_of_a_constant_str_raises_when_it_runs():
    def f(x: int):
        if x > 0:
            return int(" 7 ")
        return x + int("+7")

    s = torch.jit.script(f)
    assert s(0) == 7
    with pytest.raises(RuntimeError, match="invalid literal for int"):
        s(1)


# ---------------------------------------------------------------- 2. shifts

def _shifts(a: int, b: int) -> List[int]:
    return [a << b, a >> b]


@pytest.mark.parametrize("a,b,want", [
    (1, 64, [1, 1]), (1, 65, [2, 0]), (1, 100, [68719476736, 0]),
    (1, 127, [-2 ** 63, 0]), (1, 128, [1, 1]), (1, -1, [-2 ** 63, 0]),
    (1, -2, [2 ** 62, 0]), (1, -63, [2, 0]), (1, -64, [1, 1]),
    (-5, 65, [-10, -3]), (-5, 100, [-343597383680, -1]), (-5, -1, [-2 ** 63, -1]),
    (2 ** 62, 65, [-2 ** 63, 2 ** 61]), (2 ** 62, 1000, [0, 4194304]),
    (-2 ** 63, 65, [0, -2 ** 62]), (-2 ** 63, -2, [0, -2]),
    (2 ** 63 - 1, 100, [-68719476736, 134217727]), (2 ** 63 - 1, -2, [-2 ** 62, 1]),
    (3, 62, [-2 ** 62, 0]), (7, 63, [-2 ** 63, 0])])
def test_int_shifts_take_the_count_modulo_64(a, b, want):
    s = torch.jit.script(_shifts)
    for _ in range(3):          # profiled, then the generated code
        assert s(a, b) == want


def test_constant_shifts_fold_as_they_run():
    def f():
        return [1 << 64, 1 << 63, 3 << 65, -1 >> 64]

    assert torch.jit.script(f)() == [1, -2 ** 63, 6, -1]


# ---------------------------------------------------------------- 3. int vs float

def _compare(a: int, b: float) -> List[bool]:
    return [a == b, a != b, a < b, a <= b, a > b, a >= b,
            b == a, b < a, b > a, b <= a, b >= a, b != a]


_EQUAL = [True, False, False, True, False, True, True, False, False, True, True, False]


@pytest.mark.parametrize("a,b", [
    (2 ** 53 + 1, 2.0 ** 53), (2 ** 63 - 1, 2.0 ** 63), (-2 ** 63 + 1, -2.0 ** 63),
    (2 ** 62 + 1, 2.0 ** 62), (3, 3.0)])
def test_an_int_compared_with_a_float_is_a_double(a, b):
    s = torch.jit.script(_compare)
    for _ in range(3):
        assert s(a, b) == _EQUAL


def test_mixed_comparisons_in_conditions_loops_and_scalars():
    def f(a: int, b: float):
        c = [a == b]
        if a == b:
            c.append(True)
        while a < b:
            a += 1
        return c, a

    def g(t: torch.Tensor, a: int):
        return [t.item() == a, t.item() < a, a > t.item(), t.item() != a]

    def h(x: Union[int, float], a: int):
        return [x == a, x < a, x >= a]

    def k(a: int):
        return a == 9007199254740992.0

    big = 2 ** 53 + 1
    assert torch.jit.script(f)(big, 2.0 ** 53) == ([True, True], big)
    assert torch.jit.script(f)(2 ** 53 - 3, 2.0 ** 53) == ([False], 2 ** 53)
    t = torch.tensor(2.0 ** 53, dtype=torch.float64)
    assert torch.jit.script(g)(t, big) == [True, False, False, False]
    assert torch.jit.script(h)(2.0 ** 53, big) == [True, False, True]
    assert torch.jit.script(h)(big, big) == [True, False, True]
    assert torch.jit.script(k)(big) is True


# ---------------------------------------------------------------- 4. results copied out

@torch.jit.script
class _P:
    def __init__(self, x: int):
        self.x = x
        self.xs: List[int] = [x]


def test_a_module_attribute_returned_is_a_copy():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.xs: List[int] = [1, 2]
            self.d: Dict[str, int] = {"a": 1}

        def forward(self, x: int) -> Tuple[List[int], Dict[str, int]]:
            self.xs.append(x)
            return self.xs, self.d

    m = torch.jit.script(M())
    xs, d = m(3)
    assert (xs, d) == ([1, 2, 3], {"a": 1})
    xs.append(99)
    d["z"] = 5
    assert m(4) == ([1, 2, 3, 4], {"a": 1})     # torch 2.13's


def test_scripting_a_module_converts_its_list_attributes():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.xs: List[int] = [1]
            self.p = _P(2)
            self.n = 3

        def forward(self) -> int:
            self.xs.append(0)
            return len(self.xs) + self.n + self.p.x

    o = M()
    s = torch.jit.script(o)
    assert s() == 7 and o.xs == [1] and s.xs == [1, 0]
    o.xs.append(5)
    o.n = 10
    o.p.x = 100
    assert s() == 8 and o.xs == [1, 5] and s.xs == [1, 0, 0]     # torch 2.13's


def _pair(p: _P):
    return (p, p)


def _objects(p: _P):
    q = _P(4)
    return [q, q, p]


def _shared(x: int):
    a = [x]
    return a, a


def _with_attr(x: int):
    p = _P(x)
    return p, p.xs


def test_each_reference_returned_is_a_new_value():
    a, b = torch.jit.script(_pair)(_P(1))
    assert a is not b and type(a) is _P
    a.x = 7
    assert b.x == 1
    r = torch.jit.script(_objects)(_P(1))
    assert r[0] is not r[1] and [o.x for o in r] == [4, 4, 1]
    a, b = torch.jit.script(_shared)(1)
    assert a == b == [1] and a is not b
    p, xs = torch.jit.script(_with_attr)(1)
    assert p.xs == xs == [1] and p.xs is not xs


def test_tensors_returned_stay_shared():
    def f(x: torch.Tensor):
        return [x, x], {"a": x}

    x = torch.ones(2)
    s = torch.jit.script(f)
    for _ in range(3):
        xs, d = s(x)
        assert xs[0] is x and xs[1] is x and d["a"] is x


# ---------------------------------------------------------------- 5. op errors' classes

@torch.jit.ignore
def _ignored(x: int) -> int:
    raise ValueError("from python")


def _calls_ignored(x: int) -> int:
    return _ignored(x)


def _select(x: torch.Tensor):
    return x[10]


def _zero_dim_index(x: torch.Tensor):
    return x[0, 0]


def _store(x: torch.Tensor):
    x[5] = 1.0
    return x


def _sum_dim(x: torch.Tensor):
    return x.sum(5)


def _index_select(x: torch.Tensor):
    return x.index_select(0, torch.tensor([7]))


def _list_store(xs: List[int]):
    xs[5] = 1
    return xs


@pytest.mark.parametrize("fn,args,cls,words", [
    (_select, (torch.ones(3),), IndexError,
     "select(): index 10 out of range for tensor of size [3] at dimension 0"),
    (_zero_dim_index, (torch.ones(3),), IndexError, "select() cannot be applied to a 0-dim"),
    (_store, (torch.ones(3),), IndexError, "select(): index 5 out of range"),
    (_sum_dim, (torch.ones(3),), IndexError,
     "Dimension out of range (expected to be in range of [-1, 0], but got 5)"),
    (_index_select, (torch.ones(3),), IndexError, "index out of range in self"),
    (_list_store, ([1],), IndexError, "list assignment index out of range"),
    (_calls_ignored, (1,), ValueError, "from python")])
def test_an_op_failing_in_scripted_code_is_a_runtime_error(fn, args, cls, words):
    s = torch.jit.script(fn)
    for _ in range(2):
        with pytest.raises(RuntimeError) as e:
            s(*args)
        assert isinstance(e.value, cls) and words in str(e.value)
        assert not isinstance(e.value, torch.jit.Error)
    with pytest.raises(cls) as e:      # (eager keeps its own class)
        fn(*args)
    assert fn is _calls_ignored or not isinstance(e.value, RuntimeError)


def test_what_the_program_raises_stays_a_jit_error():
    def f(x: int):
        if x > 0:
            raise ValueError("bad x " + str(x))
        assert x > -5, "too small"
        return x

    s = torch.jit.script(f)
    with pytest.raises(torch.jit.Error) as e:
        s(1)
    assert isinstance(e.value, ValueError) and not isinstance(e.value, RuntimeError)
    with pytest.raises(torch.jit.Error) as e:
        s(-7)
    assert isinstance(e.value, AssertionError) and not isinstance(e.value, RuntimeError)
    assert "too small" in str(e.value)


def test_a_scripted_method_error_is_a_runtime_error():
    class M(torch.nn.Module):
        def forward(self, x, i: int):
            return x.select(0, i)

    m = torch.jit.script(M())
    with pytest.raises(RuntimeError, match="out of range") as e:
        m(torch.ones(3), 4)
    assert isinstance(e.value, IndexError)


# ---------------------------------------------------------------- 6. negative sizes

def _factories(s: List[int], x: torch.Tensor, k: int):
    if k == 0:
        return torch.zeros(s)
    if k == 1:
        return torch.ones(s)
    if k == 2:
        return torch.empty(s)
    if k == 3:
        return torch.full(s, 1.0)
    if k == 4:
        return x.new_zeros(s)
    if k == 5:
        return x.new_ones(s)
    if k == 6:
        return x.new_empty(s)
    if k == 7:
        return x.new_full(s, 2.0)
    if k == 8:
        return torch.rand(s)
    if k == 9:
        return torch.randn(s)
    if k == 10:
        return torch.randint(0, 5, s)
    return torch.normal(0.0, 1.0, s)


@pytest.mark.parametrize("k", range(12))
def test_a_scripted_factory_of_a_negative_size_raises_torchs_error(k):
    s = torch.jit.script(_factories)
    for size in ([-1, 2], [2, -3]):
        want = ("zeros: Dimension size must be non-negative." if k == 0 else
                f"Trying to create tensor with negative dimension {min(size)}: {size}")
        for f in (s, _factories):
            with pytest.raises(RuntimeError) as e:
                f(size, torch.ones(1), k)
            assert want in str(e.value)
    assert tuple(s([2, 0], torch.ones(1), k).shape) == (2, 0)


# ---------------------------------------------------------------- 7. divmod

def _divmod_ff(a: float, b: float) -> Tuple[float, float]:
    return divmod(a, b)


def _divmod_if(a: int, b: float) -> Tuple[float, float]:
    return divmod(a, b)


def _divmod_fi(a: float, b: int) -> Tuple[float, float]:
    return divmod(a, b)


def _divmod_const(x: float):
    return divmod(x, -2.5)[1], divmod(x, -2.5)[0]


def _r(t):
    return tuple("nan" if v != v else repr(v) for v in t)


@pytest.mark.parametrize("fn,a,b,want", [
    (_divmod_ff, 0.0, -2.5, ("-0.0", "0.0")), (_divmod_ff, -0.0, 2.5, ("0.0", "-0.0")),
    (_divmod_ff, 2.5, 0.1, ("24.000000000000004", "0.09999999999999987")),
    (_divmod_ff, -2.5, -0.1, ("24.000000000000004", "-0.09999999999999987")),
    (_divmod_ff, 2.5, float("-inf"), ("nan", "-inf")),
    (_divmod_ff, -5.0, float("inf"), ("nan", "inf")),
    (_divmod_ff, 7.0, -2.5, ("-3.0", "-0.5")), (_divmod_ff, float("inf"), 2.5, ("nan", "nan")),
    (_divmod_ff, 5.0, 0.1, ("49.0", "0.09999999999999973")),
    (_divmod_if, -5, 2.5, ("-2.0", "0.0")), (_divmod_if, 0, -3.0, ("0.0", "0.0")),
    (_divmod_if, 7, 2.5, ("2.0", "2.0")), (_divmod_if, -7, 2.5, ("-3.0", "0.5")),
    (_divmod_if, 3, float("inf"), ("0.0", "nan")),
    (_divmod_fi, -0.0, 3, ("0.0", "-0.0")), (_divmod_fi, 0.0, -3, ("0.0", "0.0")),
    (_divmod_fi, 2.5, -2, ("-2.0", "-1.5")), (_divmod_fi, -2.5, -5, ("0.0", "-2.5"))])
def test_divmod_is_torchscripts(fn, a, b, want):
    s = torch.jit.script(fn)
    for _ in range(3):
        assert _r(s(a, b)) == want


def test_divmod_by_a_constant_and_its_errors():
    s = torch.jit.script(_divmod_const)
    for _ in range(3):
        assert _r(s(0.0)) == ("0.0", "-0.0")
    with pytest.raises(RuntimeError, match="ZeroDivisionError: float divmod()"):
        torch.jit.script(_divmod_ff)(1.0, 0.0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError: float divmod()"):
        torch.jit.script(_divmod_if)(1, 0.0)
    with pytest.raises(RuntimeError, match="Cannot convert float nan to integer"):
        torch.jit.script(_divmod_if)(3, float("nan"))
    with pytest.raises(RuntimeError, match="Cannot convert float inf to integer"):
        torch.jit.script(_divmod_fi)(float("inf"), 2)


# ---------------------------------------------------------------- 8. Generator annotations

def _seed(g: torch.Generator) -> int:
    return g.initial_seed()


def test_a_function_with_a_generator_parameter_saves_and_loads():
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(_seed), buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    assert loaded(torch.Generator().manual_seed(3)) == 3
    cu = torch.jit.CompilationUnit("def f(g: Generator) -> int:\n    return g.initial_seed()\n")
    assert cu.f(torch.Generator().manual_seed(5)) == 5


# ---------------------------------------------------------------- 9. after a raise

def _after_raise(s: str, v: int) -> List[str]:
    tr: List[str] = []
    if float(s) > 0.0:
        tr.append("x")
    if (bool(v) or True):
        raise RuntimeError("oops")
    tr.append("y")
    return tr


def _raise_in_a_branch(s: str, v: int) -> List[str]:
    tr: List[str] = []
    if float(s) > 0.0:
        tr.append("x")
    if v > 0:
        raise RuntimeError("oops")
    tr.append("y")
    return tr


def test_code_after_an_unconditional_raise_is_dropped():
    f = torch.jit.script(_after_raise)
    for s in ("ab c", "1.5"):
        with pytest.raises(torch.jit.Error, match="oops"):
            f(s, 1)
    assert "aten::Float" not in str(f.graph)
    assert "prim::Uninitialized" in str(f.graph)
    g = torch.jit.script(_raise_in_a_branch)      # (a raise that may not run: kept)
    assert g("1.5", 0) == ["x", "y"]
    with pytest.raises(torch.jit.Error, match="oops"):
        g("1.5", 1)
    with pytest.raises(RuntimeError, match="stod"):
        g("ab c", 1)
