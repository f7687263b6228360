"""Numbers in scripted functions: the `math` module (functions and constants), round,
sum, abs, min / max of a list, `and` / `or` giving a bool as TorchScript does, and
getattr / hasattr with a constant name. Each function is compared with the same Python
run eagerly, through the reference interpreter and the generated executor."""
import math
from typing import List, Optional, Tuple

import pytest

import gpujit
from gpujit import nn, Tensor
from gpujit.frontend.script import FrontendError, compile_function
from gpujit.ir import parse_ir
from gpujit.jit.objects import ScriptFunction
from gpujit.runtime import interpret


def compiled(fn):
    g = compile_function(fn)
    g.lint()
    text = str(g)
    assert str(parse_ir(text)) == text
    return g


def same(got, want):
    assert type(got) is type(want), (got, want)
    if isinstance(want, tuple):
        for a, b in zip(got, want):
            same(a, b)
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == want, (got, want)


def check(fn, *args):
    g = compiled(fn)
    same(interpret(g, *args), fn(*args))
    sf = ScriptFunction(g, fn.__name__, fn)
    for _ in range(3):                     # profiled, then optimized runs
        same(sf(*args), fn(*args))
    return g


def math_functions(a: float, n: int) -> Tuple[float, float, float, float, float, int, int,
                                              int, float, float, float, float, float]:
    return (math.sqrt(a), math.exp(n), math.log(a), math.log1p(a), math.log10(a),
            math.floor(a), math.ceil(a), math.floor(-a), math.fabs(-a), math.pow(a, n),
            math.sin(a) + math.cos(a) + math.tan(a), math.tanh(a), math.atan2(a, n))


def math_predicates(a: float) -> Tuple[bool, bool, bool, float, float, float]:
    return (math.isnan(a), math.isinf(a), math.isfinite(a), math.pi * 2, math.e,
            math.inf if a > 0 else -math.inf)


def test_math_functions_and_constants():
    g = check(math_functions, 2.5, 3)
    check(math_functions, 0.125, -2)
    assert "int = aten::floor(%a.1)" in str(g) and "float = aten::sqrt(%a.1)" in str(g)
    check(math_predicates, 1.5)
    check(math_predicates, math.nan)
    check(math_predicates, -math.inf)


def numbers(xs: List[float], ns: List[int], a: float) -> Tuple[float, float, float, int,
                                                               float, int, float, int]:
    # (round(a) alone is a float in TorchScript, an int in Python: compared as floats;
    # round(a, 1) is refused by torch 2.13, tests/test_script_lang_s35.py)
    return (float(round(a)), float(round(a * 10)) / 10, sum(xs), sum(ns), abs(a), abs(ns[0]), min(xs),
            max(ns))


def test_round_sum_abs_min_max():
    check(numbers, [1.5, 2.25], [-3, 4], 2.5)
    check(numbers, [0.1, 0.2, 0.3], [7], -3.75)


def or_and(n: int, a: float, m: int, x: Tensor) -> Tuple[int, float, int, bool]:
    return n or 7, a and 2.5, n and m or -1, x or x * 2


def or_and_tensor(n: int, a: float, m: int, x: Tensor) -> Tuple[int, float, int, Tensor]:
    return n or 7, a and 2.5, n and m or -1, x or x * 2


def optional_or(v: Optional[int]) -> int:
    if v is not None and v > 2:
        return v
    return -1


def test_and_or_give_a_bool_as_torchscript():
    # TorchScript's and / or are the bool of their operands (never Python's operand),
    # converted to the declared int / float where returned (torch 2.13: (0, 0.0, 4,
    # tensor([0.])) -> (1, 0.0, 1, False); (5, 1.5, 0, tensor([3.])) -> (1, 1.0, 1, True))
    f = gpujit.jit.script(or_and)
    same(f(0, 0.0, 4, gpujit.tensor([0.0])), (1, 0.0, 1, False))
    same(f(5, 1.5, 0, gpujit.tensor([3.0])), (1, 1.0, 1, True))
    assert interpret(compiled(or_and), 0, 0.0, 4, gpujit.tensor([0.0])) == (1, 0.0, 1, False)
    # a bool is no Tensor: "Return value was annotated as having type Tuple[int, float,
    # int, Tensor] but is actually of type Tuple[int, float, int, bool]"
    with pytest.raises(FrontendError, match=r"Return value was annotated as having type "
                       r"Tuple\[int, float, int, Tensor\] but is actually of type "
                       r"Tuple\[int, float, int, bool\]"):
        compile_function(or_and_tensor)
    check(optional_or, 3)
    check(optional_or, None)


def or_mixed(n: int):
    return n or 1.5


def and_bool_then_int(b: bool, n: int):
    return b and n


def bad_math(a: float):
    return math.log2(a)       # (not in TorchScript's builtin table)


def bad_math_str(s: str):
    return math.floor(s)


def bad_sum(x: Tensor):
    return sum([x, x])


def test_and_or_of_two_types_give_torchscripts_bool():
    # operands of two types have no one Python value: TorchScript's bool of them (torch
    # 2.13: `n or 1.5` is True for 0, `flag and n` is bool(n) when flag)
    f, g = gpujit.jit.script(or_mixed), gpujit.jit.script(and_bool_then_int)
    assert f(0) is True and f(2) is True
    assert g(True, 0) is False and g(True, 3) is True and g(False, 3) is False


@pytest.mark.parametrize("fn,words", [
    (bad_math, "Python builtin <built-in function log2> is currently not supported in "
               "Torchscript"),
    (bad_math_str, "no variant of 'floor' accepts (str)"),
    (bad_sum, "sum() adds a list of ints, floats or bools, got a List[Tensor]"),
])
def test_number_errors(fn, words):
    with pytest.raises(FrontendError) as e:
        compile_function(fn)
    assert words in str(e.value) and "<--- HERE" in str(e.value), str(e.value)


def test_math_outside_the_domain_gives_cs_result():
    # TorchScript computes with C's <cmath>: nan / -inf where Python raises ValueError
    g = compiled(math_functions)
    for got in (interpret(g, -1.0, 2), ScriptFunction(g, "f", math_functions)(-1.0, 2)):
        assert all(math.isnan(got[k]) for k in (0, 2, 4)) and got[3] == -math.inf, got
        assert got[1] == math.exp(2) and got[5:8] == (-1, -1, 1)


# ------------------------------------------------------------------ getattr / hasattr

class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = 2.0
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        y = getattr(self, "lin")(x) * getattr(self, "scale")
        if hasattr(self, "missing"):
            y = y + 1
        if hasattr(self, "scale") and hasattr(self, "lin"):
            y = y * 2
        return y, getattr(x, "shape")


def tuple_attrs(t: Tuple[int, int]) -> bool:
    return hasattr(t, "count") and not hasattr(t, "nope")


def tensor_attrs(x: Tensor) -> bool:
    return hasattr(x, "shape")


def test_getattr_hasattr_with_constant_names():
    m = Scaled()
    sm = gpujit.jit.script(m)
    x = gpujit.randn(2, 3)
    got, want = sm(x), m(x)
    assert got[1] == list(want[1]) == [2, 3]
    assert (got[0] - want[0]).abs().max().item() < 1e-6
    # TorchScript's hasattr answers objects and NamedTuples only (torch 2.13)
    with pytest.raises(FrontendError, match="hasattr's first argument must be a object or "
                       "NamedTuple, but got a normal Tuple Tuple\\[int, int\\] instead"):
        compile_function(tuple_attrs)
    with pytest.raises(FrontendError, match="hasattr's first argument must be an object or "
                       "NamedTuple, got Tensor instead"):
        compile_function(tensor_attrs)


def bad_getattr(x: Tensor, name: str):
    return getattr(x, name)


def test_getattr_needs_a_constant_name():
    with pytest.raises(FrontendError, match="getattr\\(\\) takes an object and a constant"):
        compile_function(bad_getattr)


def shifts_and_bits(x: Tensor, n: int):
    a = x << 2
    b = x >> n
    c = (n << 3) | (n & 1) ^ (n >> 1)
    return a + b + c, c


def test_shift_and_bitwise_operators_on_ints_and_tensors():
    import numpy as np
    f = gpujit.jit.script(shifts_and_bits)
    x = gpujit.tensor([1, 8, -16], dtype=gpujit.int32)
    for n in (2, 5, 0):
        for _ in range(2):
            got, c = f(x, n)
            want, c_want = shifts_and_bits(x, n)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
            assert c == c_want
    assert "torch.__lshift__(x, 2)" in f.code      # (torch 2.13: the operator's own op)
