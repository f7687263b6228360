"""Programs found by the fuzzers run with new seeds in session 30 (helper h30), minimised;
expected values are PyTorch 2.13's (eager, x86-64), written out.

- tests/test_program_fuzz_s25.py, GPUJIT_PROGRAM_FUZZ_SEED=30001 (seed 3002690064, call 9:
  int64 special values): trapezoid of integer samples cast them to float32 first, where
  PyTorch adds neighbouring samples (and the two ends) in the samples' dtype, wrapping, and
  sums in int64 before the float result: trapezoid([-14, -2**63]) was -4.6e18 (PyTorch
  +4.6e18), which turned the program's `if` the other way; also int8 [100, 100, 100] (328
  in PyTorch, 100 + 100 wraps) and int64 samples above 2**24 (float32 rounding)."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit

I8, I32, I64, U8 = gpujit.int8, gpujit.int32, gpujit.int64, gpujit.uint8

# (function, samples, samples' dtype, spacing or None, spacing's dtype, kwargs, PyTorch's result)
_TRAP = [
    ("trapezoid", [-14, -2 ** 63], I64, None, None, {}, 4.611686018427388e+18),
    ("trapezoid", [2 ** 24 + 1, 1, 1, 3], I64, None, None, {}, 8388612.0),
    ("trapezoid", [2 ** 30, 5, 2 ** 30], I32, None, None, {}, 3221225472.0),
    ("trapezoid", [100, 100, 100], I8, None, None, {}, 328.0),
    ("trapezoid", [200, 100, 200], U8, None, None, {"dx": 2}, 856.0),
    ("trapezoid", [2 ** 24 + 1, 1, 1, 3], I64, None, None, {"dx": 0.5}, 4194306.0),
    ("trapezoid", [2 ** 62, 2 ** 62, 1], I64, [0, 1, 3], I64, {}, 1.0),
    ("trapezoid", [2 ** 30, 2 ** 30, 1], I32, [0, 1, 3], I32, {}, -2147483648.0),
    ("trapezoid", [2 ** 24 + 1, 2 ** 24 + 1, 1], I64, [0.0, 1.0, 3.0], gpujit.float32, {},
     33554432.0),
    ("cumulative_trapezoid", [2 ** 62, 2 ** 62, 1], I64, None, None, {},
     [-4.611686018427388e+18, -2.305843009213694e+18]),
    ("cumulative_trapezoid", [100, 100, 1], I8, None, None, {}, [-28.0, 22.5]),
    ("cumulative_trapezoid", [2 ** 62, 2 ** 62, 1], I64, [0, 1, 3], I64, {},
     [-4.611686018427388e+18, 1.0]),
    ("cumulative_trapezoid", [100, 100, 1], I8, [0, 1, 3], I8, {}, [-28.0, -55.0]),
    ("trapz", [-14, -2 ** 63], I64, None, None, {}, 4.611686018427388e+18),
    ("trapz", [100, 100, 1], I8, [0, 1, 3], I8, {}, -55.0),
]


@pytest.mark.parametrize("name, y, ydt, x, xdt, kw, want", _TRAP)
def test_trapezoid_of_integer_samples_sums_them_as_pytorch(name, y, ydt, x, xdt, kw, want):
    fn = getattr(gpujit, name)
    args = [gpujit.tensor(y, dtype=ydt)] + ([] if x is None else [gpujit.tensor(x, dtype=xdt)])
    got = fn(*args, **kw)
    assert got.dtype is gpujit.float32
    np.testing.assert_array_equal(got.numpy(), np.asarray(want, dtype=np.float32))


def test_trapezoid_of_integer_samples_along_a_dim():
    y = gpujit.tensor([[2 ** 24 + 1, 1], [1, 3], [5, 2 ** 62]])
    got = gpujit.trapezoid(y, dim=0)
    np.testing.assert_array_equal(got.numpy(), np.array([8388613.0, 2.305843009213694e+18],
                                                        dtype=np.float32))


def _branch(x0, x2):
    x2.add_(x2)
    v2 = gpujit.trapezoid(x2)
    if bool(v2.sum() > -1.3):
        return x0 * 1
    return x0 - 3


def test_the_fuzzer_s_program_takes_pytorch_s_branch():
    """(seed 3002690064, minimised) x2 = [-7, 2**62] doubled in place wraps to
    [-14, -2**63]; PyTorch's trapezoid is positive, so it returns x0."""
    f = gpujit.jit.script(_branch)
    for fn in (_branch, f, f, f):
        x0 = gpujit.tensor([[-4, 2 ** 40], [-3, 1]])
        x2 = gpujit.tensor([-7, 2 ** 62])
        np.testing.assert_array_equal(fn(x0, x2).numpy(), [[-4, 2 ** 40], [-3, 1]])
