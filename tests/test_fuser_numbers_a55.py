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
