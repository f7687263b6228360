"""The CPU target's vectorizable float32 exp and tanh (kernels/cpu_math.py) against NumPy in
float64, over the whole float32 range: every 4096th bit pattern (both signs, denormals,
inf, NaN), plus the edges of overflow and underflow. Also the float16 conversions."""
from __future__ import annotations

import numpy as np
import pytest

from gpujit.kernels import cpu_math

from test_kernels import kernel_cache_dir  # noqa: F401


@pytest.fixture(scope="module")
def fns():
    from numba import njit
    ns = cpu_math.namespace()
    vexp, vtanh, rh, f2h, h2f = (ns[n] for n in ("_vexp_f32", "_vtanh_f32", "_rh", "_f2h",
                                                 "_h2f"))

    @njit
    def apply(x, e, t, r, h, back):
        for i in range(x.size):
            e[i] = vexp(x[i])
            t[i] = vtanh(x[i])
            r[i] = rh(x[i])
            h[i] = f2h(x[i])
            back[i] = h2f(h[i])

    def run(x):
        e, t, r, back = (np.empty_like(x) for _ in range(4))
        h = np.empty(x.size, np.uint16)
        apply(x, e, t, r, h, back)
        return e, t, r, h, back
    return run


def _inputs():
    bits = np.arange(0, 1 << 32, 1 << 12, dtype=np.uint64).astype(np.uint32)
    edges = np.array([88.72283, 88.722839, 88.72284, 89.0, -87.33654, -87.34, -100.0,
                      -103.27893, -103.972084, -104.0, 0.625, -0.625, 0.6249999, 1e-30,
                      -1e-45, 9.0, 9.1, 20.0, np.inf, -np.inf, np.nan, 0.0, -0.0],
                     np.float32)
    return np.concatenate([bits.view(np.float32), edges])


def _ulps(got, want64):
    with np.errstate(all="ignore"):
        want = want64.astype(np.float32)

    def ordered(a):
        i = a.view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)
    d = np.abs(ordered(got) - ordered(want))
    d[np.isnan(got) & np.isnan(want)] = 0
    return d


def test_exp_is_within_one_ulp_everywhere(fns):
    x = _inputs()
    e = fns(x)[0]
    with np.errstate(all="ignore"):
        want = np.exp(x.astype(np.float64))
    d = _ulps(e, want)
    assert d.max() <= 1, (x[d.argmax()], e[d.argmax()], want[d.argmax()])
    # overflow to inf, underflow through the denormals to 0, NaN stays NaN
    assert np.isinf(e[x > 88.7229]).all() and (e[x < -104] == 0).all()
    tiny = (x > -103.9) & (x < -87.4)
    assert (e[tiny] > 0).all() and (e[tiny] < np.finfo(np.float32).tiny).all()
    assert np.isnan(e[np.isnan(x)]).all()


def test_tanh_is_within_one_ulp_everywhere(fns):
    x = _inputs()
    t = fns(x)[1]
    with np.errstate(invalid="ignore"):          # signaling NaN patterns
        d = _ulps(t, np.tanh(x.astype(np.float64)))
    assert d.max() <= 1, (x[d.argmax()], t[d.argmax()])
    assert t[x == np.inf][0] == 1 and t[x == -np.inf][0] == -1
    sub = np.abs(x) < np.finfo(np.float32).tiny           # denormals: tanh(x) = x
    assert np.array_equal(t[sub], x[sub])
    assert np.signbit(t[(x == 0) & np.signbit(x)]).all()


def test_float16_conversions_round_to_nearest_even(fns):
    x = _inputs()
    _, _, r, h, back = fns(x)
    with np.errstate(over="ignore"):
        want = x.astype(np.float16)
    ok = ~np.isnan(x)
    np.testing.assert_array_equal(r[ok], want[ok].astype(np.float32))
    np.testing.assert_array_equal(h[ok], want[ok].view(np.uint16))
    np.testing.assert_array_equal(back[ok], want[ok].astype(np.float32))
    assert np.isnan(r[~ok]).all() and np.isnan(back[~ok]).all()
