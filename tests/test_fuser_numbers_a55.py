"""Pointwise numbers a user of torch 2.13 sees, eager and fused (helper a55, session 55).
Expected values are torch 2.13's (CPU), written out; NumPy computes the references.

1. logaddexp of equal float64 operands (the x == y branch) added a float32 log(2):
   torch.logaddexp(t, t) of a float64 0.0 gave 0.6931471824645996 (torch:
   0.6931471805599453), also for a bool / int operand promoted with a float64 one.
"""
import math

import numpy as np
import pytest

import gpujit as torch


def test_logaddexp_equal_operands_keep_float64():
    x = torch.tensor([0.0, 1.0, -3.5, 1e300], dtype=torch.float64)
    r = torch.logaddexp(x, x)
    assert r.dtype == torch.float64
    want = np.array([0.0, 1.0, -3.5, 1e300]) + math.log(2)
    np.testing.assert_array_equal(np.array(r.tolist()), want)
    # a bool operand promoted with a float64 one takes the same branch (False == 0.0)
    b = torch.tensor([False, True])
    y = torch.tensor([0.0, 1.0], dtype=torch.float64)
    assert torch.logaddexp(b, y).tolist() == [math.log(2), 1 + math.log(2)]
    # float32 keeps float32's log(2)
    f = torch.logaddexp(torch.zeros(2), torch.zeros(2))
    assert f.dtype == torch.float32
    assert f.tolist() == [float(np.float32(math.log(2)))] * 2


def test_logaddexp_float64_fused_matches_eager():
    cu = torch.jit.CompilationUnit(
        "def f(x, y):\n    return torch.logaddexp(x * 1.0, y), (x + y) * 2\n")
    x = torch.tensor([0.0, 2.0, -1.0], dtype=torch.float64)
    for _ in range(3):
        r, _s = cu.f(x, x)
    assert r.tolist() == [v + math.log(2) for v in (0.0, 2.0, -1.0)]


# 2. c10's checked conversion of a Python float (and of an int to float16) where PyTorch
#    converts a Scalar with Scalar::to<scalar_t>(): gpujit truncated or wrapped it
#    (threshold(u8, 0.5, -2.5) gave 254 where torch raises; clamp of a float16 tensor at
#    1e6 gave inf; add(h, h, alpha=1e5), h ** 70000.0, hardtanh(h, -1e5, 1e5),
#    hardshrink(h, 1e5), addcmul(u8, ..., value=-0.5) all ran). Eager, the compiled
#    unfused code (a runtime argument) and a fusion group (a constant) raise alike.
_OVERFLOWS = [
    ("threshold(x, 0.5, -2.5)", "uint8", "uint8_t"),
    ("threshold(x, -0.5, 1.0)", "uint8", "uint8_t"),
    ("threshold(x, 1.0, 255.9)", "uint8", "uint8_t"),
    ("threshold(x, 1.0, float('nan'))", "int32", "int"),
    ("threshold(x, 1.0, 1e19)", "int64", "int64_t"),
    ("threshold(x, 1.0, 1e6)", "float16", "c10::Half"),
    ("threshold(x, 1e39, 1.0)", "float32", "float"),
    ("clamp(x, min=1e6)", "float16", "c10::Half"),
    ("clamp(x, max=100000)", "float16", "c10::Half"),
    ("clamp(x, min=1e39)", "float32", "float"),
    ("add(x, x, alpha=1e6)", "float16", "c10::Half"),
    ("sub(x, x, alpha=1e39)", "float32", "float"),
    ("pow(x, 70000.0)", "float16", "c10::Half"),
    ("hardtanh(x, -1e5, 1e5)", "float16", "c10::Half"),
    ("hardshrink(x, 1e5)", "float16", "c10::Half"),
    ("addcmul(x, x, x, value=-0.5)", "uint8", "uint8_t"),
]
# torch 2.13's values where the same numbers stay in range
_IN_RANGE = [
    ("threshold(x, 1e6, 1.0)", "float16", [1.0, 1.0, 1.0]),       # (compared in float)
    ("threshold(x, 2.5, 7.0)", "int64", [7, 7, 7]),          # (2.5 taken as 2)
    ("clamp(x, min=-0.5)", "uint8", [0.0, 1.0, 2.0]),              # (promotes to float32)
    ("pow(x, 1e39)", "float32", [0.0, 1.0, float("inf")]),        # (a double exponent)
    ("addcmul(x, x, x, value=1e6)", "float16", [0.0, float("inf"), float("inf")]),
    ("addcmul(x, x, x, value=2.5)", "uint8", [0, 3, 10]),
    ("where(x > 0, x, 1e6)", "float16", [float("inf"), 1.0, 2.0]),
]
_NS = {"threshold": lambda *a: torch.nn.functional.threshold(*a),
       "hardtanh": lambda *a: torch.nn.functional.hardtanh(*a),
       "hardshrink": lambda *a: torch.nn.functional.hardshrink(*a)}


def _call(expr, dt):
    x = torch.tensor([0, 1, 2]).to(getattr(torch, dt))
    ns = {n: getattr(torch, n) for n in ("clamp", "add", "sub", "pow", "addcmul", "where")}
    ns.update(_NS, x=x)
    return eval(expr, ns)


@pytest.mark.parametrize("expr,dt,cname", _OVERFLOWS)
def test_checked_scalar_overflow_eager(expr, dt, cname):
    with pytest.raises(RuntimeError, match=f"value cannot be converted to type "
                                           f"{cname} without overflow"):
        _call(expr, dt)


@pytest.mark.parametrize("expr,dt,want", _IN_RANGE)
def test_checked_scalar_in_range_eager(expr, dt, want):
    assert _call(expr, dt).tolist() == want


def test_checked_scalar_overflow_scripted():
    cu = torch.jit.CompilationUnit(
        "def thr(x, v: float):\n"
        "    return torch.nn.functional.threshold(x * 2, v, 1.0) + 1\n"
        "def clampc(x):\n"
        "    return torch.clamp(x * 2, min=100000.0) + 1\n"
        "def alpha(x, v: float):\n"
        "    return torch.add(x * 2, x, alpha=v) + 1\n")
    u = torch.tensor([0, 1, 5], dtype=torch.uint8)
    h = torch.tensor([0.5, 1.0, -2.0], dtype=torch.float16)
    for _ in range(3):      # (profiled: the optimized code runs next)
        assert cu.thr(u, 0.5).tolist() == [2, 3, 11]
        assert cu.alpha(h, 2.0).tolist() == [3.0, 5.0, -7.0]
    with pytest.raises(RuntimeError, match="uint8_t without overflow"):
        cu.thr(u, -0.5)
    with pytest.raises(RuntimeError, match="c10::Half without overflow"):
        cu.alpha(h, 1e6)
    for _ in range(3):      # a constant out of range: never a group's wrapped value
        with pytest.raises(RuntimeError, match="c10::Half without overflow"):
            cu.clampc(h)
