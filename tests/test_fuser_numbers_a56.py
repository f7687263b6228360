"""Fuser numbers a user of torch 2.13 sees (helper a56, session 56). Expected values are
torch 2.13's (CPU), written out; NumPy computes the references.

1. A Python number known only at run time that a fused op converts range-checked (c10's
   checked_convert: clamp's bounds, pow's exponent for float16)
   went into the kernel unchecked: clamp(h * 2, min=1e6) of a float16 tensor gave inf
   where torch raises "value cannot be converted to type c10::Half without overflow".
   The group's guard now sends such a call to the unfused run, which raises it; numbers
   in range (and inf / NaN, which c10 lets through) still run the kernel.
2. A bool tensor with a Python int in [2**63, 2**64) (PyTorch's uint64 Scalar): torch
   raises "Promotion for uint16, uint32, uint64 types is not supported, attempted to
   promote Bool and UInt64"; gpujit computed in int64 (b + 2**63 gave -2**63 + 1).
3. elu / celu / selu of x = +-0 take the x * scale branch, as PyTorch's kernel: with an
   alpha (or input_scale) of inf or NaN, torch gives x, gpujit gave NaN (expm1(0) * inf),
   eager and fused.
"""
import math

import numpy as np
import pytest

import gpujit as torch


def _groups(fn):
    exe = fn._get_executable()
    return [g for spec in exe._active.values() for g in spec.groups]


_HALF = "value cannot be converted to type c10::Half without overflow"
_FLOAT = "value cannot be converted to type float without overflow"


@pytest.mark.parametrize("src, dtype, big, msg", [
    ("torch.clamp(x * 2, min=v) + 1", "float16", 1e6, _HALF),
    ("torch.clamp(x * 2, max=v) + 1", "float16", -70000.0, _HALF),
    ("torch.clamp(x * 2, min=v) + 1", "float32", 1e39, _FLOAT),
    ("torch.pow(x * 2, v) + 1", "float16", 1e6, _HALF),
    ("(x * 2).clamp_max(v) + torch.clamp_min(x, v)", "float16", 1e5, _HALF),
])
def test_runtime_scalar_out_of_range_raises(src, dtype, big, msg):
    cu = torch.jit.CompilationUnit(f"def f(x, v: float):\n    return {src}\n")
    x = torch.tensor([0.5, 1.0, 2.0], dtype=getattr(torch, dtype))
    for _ in range(3):
        cu.f(x, 0.5)
    groups = _groups(cu.f)
    assert any(g.specializations for g in groups)       # (it fuses)
    with pytest.raises(RuntimeError, match=msg):
        cu.f(x, big)
    with pytest.raises(RuntimeError, match=msg):         # (no kernel was made for it)
        cu.f(x, big)
    # in range again: the kernel, as before
    calls = sum(g.fallback_calls for g in groups)
    r = cu.f(x, 0.25)
    assert sum(g.fallback_calls for g in groups) == calls
    assert r.dtype == getattr(torch, dtype)


def test_out_of_range_first_call_makes_no_kernel():
    cu = torch.jit.CompilationUnit(
        "def f(x, v: float):\n    return torch.clamp(x * 2, min=v) + 1\n")
    x = torch.tensor([0.5, -1.0], dtype=torch.float16)
    cu.f(x, 0.5)                    # (the profiling run)
    for _ in range(2):
        with pytest.raises(RuntimeError, match=_HALF):
            cu.f(x, 65520.0)        # (past float16's max 65504: c10 compares in double)
    assert not any(g.specializations for g in _groups(cu.f))
    assert cu.f(x, 65504.0).tolist() == [65504.0, 65504.0]
    assert any(g.specializations for g in _groups(cu.f))
    assert cu.f(x, 0.5).tolist() == [2.0, 1.5]


def test_inf_nan_and_ints_pass_as_torch():
    # c10 lets inf and NaN through (no overflow); an int converts checked to float16
    cu = torch.jit.CompilationUnit(
        "def f(x, v: float):\n    return torch.clamp(x * 2, min=v) + 1\n"
        "def g(x, v: int):\n    return torch.clamp(x * 2, max=v) + 1\n")
    x = torch.tensor([0.5, -1.0, 3.0], dtype=torch.float16)
    for _ in range(3):
        cu.f(x, -0.5)
        cu.g(x, 2)
    assert cu.f(x, math.inf).tolist() == [math.inf] * 3
    assert all(math.isnan(v) for v in cu.f(x, math.nan).tolist())
    assert cu.f(x, -math.inf).tolist() == [2.0, -1.0, 7.0]
    assert cu.g(x, 1).tolist() == [2.0, -1.0, 2.0]
    with pytest.raises(RuntimeError, match=_HALF):
        cu.g(x, 100000)
    assert cu.g(x, 65504).tolist() == [2.0, -1.0, 7.0]


def test_float32_pow_exponent_is_not_checked():
    # torch takes a float32 / float64 self's exponent as a double: pow(x, 1e39) runs
    cu = torch.jit.CompilationUnit("def f(x, v: float):\n    return torch.pow(x * 2, v) + 1\n")
    x = torch.tensor([0.5, 0.25])
    for _ in range(3):
        cu.f(x, 2.0)
    assert cu.f(x, 1e39).tolist() == [2.0, 1.0]


def test_strict_fusion_raises_torchs_error():
    # (torch's overflow error, not a strict-fusion one: the inputs are at fault)
    cu = torch.jit.CompilationUnit(
        "def f(x, v: float):\n    with torch.jit.strict_fusion():\n"
        "        y = torch.clamp(x * 2, min=v) + 1\n    return y\n")
    x = torch.tensor([0.5, -1.0], dtype=torch.float16)
    for _ in range(3):
        assert cu.f(x, 0.5).tolist() == [2.0, 1.5]
    with pytest.raises(RuntimeError, match=_HALF):
        cu.f(x, 1e6)


# 2. A Python int in [2**63, 2**64) is PyTorch's uint64 Scalar: a bool tensor does not
#    promote with it (gpujit computed in int64, wrapping: b + 2**63 gave -2**63 + 1);
#    an integer tensor's dtype wins (wrapped, as before); a float one takes its value.
_PROMO = ("Promotion for uint16, uint32, uint64 types is not supported, attempted to "
          "promote Bool and UInt64")
_BIG = 2**63


@pytest.mark.parametrize("expr", [
    "b + n", "n + b", "b * n", "b // n", "n // b", "b % n", "n % b", "b << n", "b >> n",
    "n << b", "b == n", "b < n", "n > b", "b != n", "b / n", "b & n", "b | n", "b ^ n",
    "torch.add(b, n)", "torch.eq(b, n)", "torch.clamp(b, max=n)", "torch.ge(b, n)",
    "torch.fmod(b, n)", "torch.remainder(b, n)", "torch.result_type(b, n)",
    "torch.tensor(True) + n", "b.clone().add_(n)", "torch.mul(b, 2**64 - 1)",
])
def test_bool_tensor_with_uint64_number_raises(expr):
    b = torch.tensor([True, False])
    n = _BIG
    with pytest.raises(RuntimeError, match=_PROMO):
        eval(expr)


def test_uint64_number_other_cases_as_torch():
    b = torch.tensor([True, False])
    # pow converts an int exponent of a bool / integer self to int64_t, checked, first
    for x in (b, torch.tensor([1, 2], dtype=torch.uint8), torch.tensor([1, 2], dtype=torch.int32)):
        with pytest.raises(RuntimeError,
                           match="value cannot be converted to type int64_t without overflow"):
            torch.pow(x, _BIG)
    # float_power converts both to float64 before: no promotion
    r = torch.float_power(b, _BIG)
    assert r.dtype == torch.float64 and r.tolist() == [1.0, 0.0]
    assert torch.float_power(_BIG, b).tolist() == [9.223372036854776e+18, 1.0]
    # where's two numbers: uint64 with int64
    with pytest.raises(RuntimeError, match="attempted to promote UInt64 and Long"):
        torch.where(b, _BIG, 0)
    # an integer tensor keeps its dtype (the number wraps), a float one takes the value
    assert (torch.tensor([1, 2]) + _BIG).tolist() == [-_BIG + 1, -_BIG + 2]
    r = torch.tensor([1, 2], dtype=torch.uint8) + _BIG
    assert r.dtype == torch.uint8 and r.tolist() == [1, 2]
    assert (b + 1e30).tolist() == [float(np.float32(1e30))] * 2
    r = torch.tensor([1.0, 2.0]) * _BIG
    assert r.dtype == torch.float32 and r.tolist() == [float(np.float32(2.0**63)),
                                                       float(np.float32(2.0**64))]
    assert torch.result_type(torch.tensor([1]), _BIG) == torch.int64
    # past uint64 / below int64: the parser's OverflowError, as before
    with pytest.raises(OverflowError, match="int too big to convert"):
        b + 2**64
    with pytest.raises(OverflowError, match="can't convert negative int to unsigned"):
        b + (-2**63 - 1)
    # not promoted at all: masked_fill's value, add's alpha
    assert b.masked_fill(b, _BIG).tolist() == [True, False]
    assert torch.add(b, b, alpha=_BIG).tolist() == [True, False]


def test_bool_uint64_traced_raises():
    b = torch.tensor([True, False])
    with pytest.raises(RuntimeError, match=_PROMO):
        torch.jit.trace(lambda x: (x + _BIG) * 2, (b,))


# 3. elu's negative branch only for x < 0 (torch 2.13's values, written out)
_XS = [0.0, -0.0, -1e-30, -0.5, 2.0, math.nan]
_ELU_CASES = [       # (alpha, scale, input_scale): float32 results
    ((math.inf, 1.0, 1.0), [0.0, -0.0, -math.inf, -math.inf, 2.0, math.nan]),
    ((-math.inf, 1.0, 1.0), [0.0, -0.0, math.inf, math.inf, 2.0, math.nan]),
    ((math.nan, 1.0, 1.0), [0.0, -0.0, math.nan, math.nan, 2.0, math.nan]),
    ((1.0, -1.0, 1.0), [-0.0, 0.0, 1.0000000031710769e-30, 0.39346933364868164, -2.0,
                        math.nan]),
    ((1.0, math.inf, 1.0), [math.nan, math.nan, -math.inf, -math.inf, math.inf, math.nan]),
    ((1.0, 1.0, math.inf), [0.0, -0.0, -1.0, -1.0, 2.0, math.nan]),
    ((1.0, 1.0, math.nan), [0.0, -0.0, math.nan, math.nan, 2.0, math.nan]),
    ((2.0, 0.0, 1.0), [0.0, -0.0, -0.0, -0.0, 0.0, math.nan]),
]


def _same(got, want):
    """Equal, NaN for NaN, and the sign of each zero."""
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if math.isnan(w):
            assert math.isnan(g), (got, want)
        else:
            assert g == w and math.copysign(1, g) == math.copysign(1, w), (got, want)


def _lit(v):
    return f"float('{v}')" if not math.isfinite(v) else repr(v)


@pytest.mark.parametrize("args, want", _ELU_CASES)
def test_elu_zero_takes_the_positive_branch(args, want):
    x = torch.tensor(_XS)
    _same(torch.ops.aten.elu(x, *args).tolist(), want)
    # fused (x * 1.0 keeps -0.0): the kernel's scalar expression
    cu = torch.jit.CompilationUnit(
        f"def f(x):\n    return torch.ops.aten.elu(x * 1.0, "
        f"{', '.join(_lit(a) for a in args)}) * 1.0\n")
    for _ in range(3):
        _same(cu.f(x).tolist(), want)
    assert any(g.specializations for g in _groups(cu.f))


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_elu_celu_inf_nan_alpha_at_zero(dtype):
    x = torch.tensor(_XS, dtype=getattr(torch, dtype))
    tiny = -0.0 if dtype == "float16" else -math.inf     # (-1e-30 is -0.0 in float16)
    F = torch.nn.functional
    _same(F.elu(x, math.inf).tolist(), [0.0, -0.0, tiny, -math.inf, 2.0, math.nan])
    for a in (math.inf, -math.inf, math.nan):
        # celu: expm1(x / inf) * inf is NaN below 0, x at +-0
        want = [0.0, -0.0, -0.0 if dtype == "float16" else math.nan, math.nan, 2.0, math.nan]
        _same(F.celu(x, a).tolist(), want)
        cu = torch.jit.CompilationUnit(
            f"def f(x):\n    return torch.nn.functional.celu(x * 1.0, {_lit(a)}) * 1.0\n")
        for _ in range(3):
            _same(cu.f(x).tolist(), want)
    y = F.elu(x.clone(), math.nan, inplace=True)
    _same(y.tolist(), [0.0, -0.0, -0.0 if dtype == "float16" else math.nan, math.nan, 2.0,
                       math.nan])


def test_elu_inf_alpha_gradient():
    # (the backward's negative branch is x <= 0, as torch's elu_backward: inf at +-0)
    x = torch.tensor(_XS, requires_grad=True)
    y = torch.nn.functional.elu(x, math.inf)
    y.backward(torch.ones_like(y))
    _same(x.grad.tolist(), [math.inf] * 4 + [1.0, 1.0])
    x = torch.tensor(_XS, requires_grad=True)
    y = torch.nn.functional.elu(x, -1.0)
    y.backward(torch.ones_like(y))
    _same(x.grad.tolist(), [-1.0, -1.0, -1.0, -0.6065306663513184, 1.0, 1.0])
