"""Session 62's lead fixes.

- The Chebyshev polynomials (all four kinds, shifted or not) outside their closed form's
  range (|y| >= 1) ran one NumPy step per degree over the whole array eagerly: x just past
  1 and a degree of 10^6 took many seconds (x = 1 + 2^-52 in float64 overflows only after
  ~10^8 steps). Past ops/special_more.LONG_RECURRENCE steps they run element by element
  (ops/_poly_kernels.py, a62's Laguerre / Legendre kernels), bit for bit the array steps.
"""
import time

import numpy as np
import pytest

import gpujit

KINDS = [(k, s) for k in "tuvw" for s in (False, True)]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_chebyshev_long_recurrence_same_bits_as_the_array_steps(dt, monkeypatch):
    from gpujit.ops import special_more as sm
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-1.3, 1.3, 200), 1 + rng.uniform(0, 1e-3, 40),
                        -1 - rng.uniform(0, 1e-3, 40), rng.standard_normal(40) * 5,
                        [0, 0.5, 1, -1, np.nan, np.inf, -np.inf, 1.0000001]]).astype(dt)
    n = rng.integers(-2, 60, x.size).astype(dt)
    n[:5] = 59.5
    n[5] = np.nan
    for kind, shifted in KINDS:
        monkeypatch.setattr(sm, "LONG_RECURRENCE", 10 ** 9)
        a = np.asarray(sm.chebyshev(np, x, n, kind, shifted)).astype(dt)
        monkeypatch.setattr(sm, "LONG_RECURRENCE", 2)
        b = np.asarray(sm.chebyshev(np, x, n, kind, shifted)).astype(dt)
        np.testing.assert_array_equal(a, b, err_msg=f"{kind} shifted={shifted}")
        assert (np.signbit(a) == np.signbit(b)).all()


def test_chebyshev_large_degree_just_past_one_is_fast():
    t0 = time.time()
    x = gpujit.tensor([1.00000000001, -1.00000000001, 1.5], dtype=gpujit.float64)
    r = gpujit.special.chebyshev_polynomial_t(x, gpujit.tensor(1e7, dtype=gpujit.float64))
    # torch 2.13's values (T_n(cosh t) = cosh(n t) = 1.3219361637650446e+19 in closed form);
    # 1.5 overflows to inf - inf: torch's nan too
    assert r.tolist()[:2] == [1.321936165991991e+19] * 2
    assert np.isnan(r[2].item())
    assert time.time() - t0 < 60               # (before: 10^7 NumPy steps, minutes)
