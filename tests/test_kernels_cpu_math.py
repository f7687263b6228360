"""The CPU target's float32 exp / log and float32 / float64 tanh (kernels/cpu_math.py:
NumPy's own algorithms) over the whole float32 range: every 4096th bit pattern (both
signs, denormals, inf, NaN), plus the edges of overflow and underflow: NumPy's bits where
this host's NumPy runs those algorithms, and their accuracy against float64. Also the
float16 conversions."""
from __future__ import annotations

import numpy as np
import pytest

from gpujit.kernels import cpu_math

from test_kernels import kernel_cache_dir  # noqa: F401


@pytest.fixture(scope="module")
def fns():
    from numba import njit
    ns = cpu_math.namespace()
    vexp, vtanh, vlog, rh, f2h, h2f = (ns[n] for n in ("_vexp_f32", "_vtanh_f32",
                                                       "_vlog_f32", "_rh", "_f2h", "_h2f"))

    @njit
    def apply(x, e, t, r, h, back, lg):
        for i in range(x.size):
            e[i] = vexp(x[i])
            t[i] = vtanh(x[i])
            r[i] = rh(x[i])
            h[i] = f2h(x[i])
            back[i] = h2f(h[i])
            lg[i] = vlog(x[i])

    def run(x):
        e, t, r, back, lg = (np.empty_like(x) for _ in range(5))
        h = np.empty(x.size, np.uint16)
        apply(x, e, t, r, h, back, lg)
        return e, t, r, h, back, lg
    return run


def _same_bits(got, want):
    ut = np.uint32 if got.dtype == np.float32 else np.uint64
    bad = got.view(ut) != want.view(ut)
    return int(np.count_nonzero(bad)), got[bad][:3], want[bad][:3]


@pytest.mark.skipif(not cpu_math.NUMPY_SIMD_EXP_LOG_F32,
                    reason="this host's NumPy computes float32 exp / log with libm")
def test_exp_and_log_are_numpys_bit_for_bit(fns):
    x = _inputs()
    e, lg = fns(x)[0], fns(x)[5]
    with np.errstate(all="ignore"):
        assert _same_bits(e, np.exp(x))[0] == 0, _same_bits(e, np.exp(x))
        assert _same_bits(lg, np.log(x))[0] == 0, _same_bits(lg, np.log(x))


@pytest.mark.skipif(not cpu_math.NUMPY_SIMD_TANH,
                    reason="this host's NumPy computes sin / cos with libm")
def test_sin_and_cos_are_numpys_bit_for_bit():
    """Cody-Waite up to 117435.992 / 71476.0625, libm's sinf / cosf above (and inf)."""
    from numba import njit
    ns = cpu_math.namespace()
    vsin, vcos = ns["_vsin_f32"], ns["_vcos_f32"]

    @njit
    def apply(a):
        s, c = np.empty_like(a), np.empty_like(a)
        for i in range(a.size):
            s[i] = vsin(a[i])
            c[i] = vcos(a[i])
        return s, c
    x = _inputs()
    x = np.concatenate([x, np.float32([117435.992, 117436.0, 71476.0625, 71476.07, 520.719,
                                       1438.0641, -2730.8296, 1e10, -3e38])])
    s, c = apply(x)
    with np.errstate(all="ignore"):
        assert _same_bits(s, np.sin(x))[0] == 0, _same_bits(s, np.sin(x))
        assert _same_bits(c, np.cos(x))[0] == 0, _same_bits(c, np.cos(x))


@pytest.mark.skipif(not cpu_math.NUMPY_SIMD_TANH,
                    reason="this host's NumPy computes tanh with libm")
def test_tanh_is_numpys_bit_for_bit_float32_and_float64(fns):
    x = _inputs()
    with np.errstate(all="ignore"):
        assert _same_bits(fns(x)[1], np.tanh(x))[0] == 0
    from numba import njit
    vtanh64 = cpu_math.namespace()["_vtanh_f64"]

    @njit
    def vtanh(a):
        out = np.empty_like(a)
        for i in range(a.size):
            out[i] = vtanh64(a[i])
        return out
    rng = np.random.default_rng(0)
    x64 = np.concatenate([rng.integers(0, 2 ** 64 - 1, 20000, dtype=np.uint64,
                                       endpoint=True).view(np.float64),
                          rng.uniform(-25, 25, 20000), rng.uniform(-1e-3, 1e-3, 2000),
                          [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 19.06]])
    got = vtanh(x64)
    assert _same_bits(got, np.tanh(x64))[0] == 0, _same_bits(got, np.tanh(x64))


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


def test_exp_and_log_are_within_numpys_bounds_everywhere(fns):
    """NumPy's: exp within 2.52 ulps, log within 3.83 (its comments' measured maxima)."""
    x = _inputs()
    e, lg = fns(x)[0], fns(x)[5]
    with np.errstate(all="ignore"):
        want, want_log = np.exp(x.astype(np.float64)), np.log(x.astype(np.float64))
    d = _ulps(e, want)
    assert d.max() <= 3, (x[d.argmax()], e[d.argmax()], want[d.argmax()])
    d = _ulps(lg, want_log)
    assert d.max() <= 4, (x[d.argmax()], lg[d.argmax()], want_log[d.argmax()])
    assert (lg[x == 0] == -np.inf).all() and lg[x == np.inf][0] == np.inf
    assert np.isnan(lg[x < 0]).all() and np.signbit(lg[x < 0]).all()    # NumPy's -NaN
    # overflow to inf, underflow through the denormals to 0, NaN stays NaN
    assert np.isinf(e[x > 88.7229]).all() and (e[x < -104] == 0).all()
    tiny = (x > -103.9) & (x < -87.4)
    assert (e[tiny] > 0).all() and (e[tiny] < np.finfo(np.float32).tiny).all()
    assert np.isnan(e[np.isnan(x)]).all()


def test_tanh_is_within_two_ulps_everywhere(fns):
    x = _inputs()
    t = fns(x)[1]
    with np.errstate(invalid="ignore"):          # signaling NaN patterns
        d = _ulps(t, np.tanh(x.astype(np.float64)))
    assert d.max() <= 2, (x[d.argmax()], t[d.argmax()])
    assert t[x == np.inf][0] == 1 and t[x == -np.inf][0] == -1
    sub = np.abs(x) < np.finfo(np.float32).tiny           # denormals: tanh(x) = x
    assert np.array_equal(t[sub], x[sub])
    assert np.signbit(t[(x == 0) & np.signbit(x)]).all()


def test_float16_conversions_round_to_nearest_even(fns):
    x = _inputs()
    _, _, r, h, back, _ = fns(x)
    with np.errstate(over="ignore"):
        want = x.astype(np.float16)
    ok = ~np.isnan(x)
    np.testing.assert_array_equal(r[ok], want[ok].astype(np.float32))
    np.testing.assert_array_equal(h[ok], want[ok].view(np.uint16))
    np.testing.assert_array_equal(back[ok], want[ok].astype(np.float32))
    assert np.isnan(r[~ok]).all() and np.isnan(back[~ok]).all()


@pytest.mark.skipif(not cpu_math.SVML, reason="this host's NumPy does not call SVML")
def test_svml_functions_are_numpys_bit_for_bit():
    """On AVX512 hosts NumPy's float32 / float64 expm1, log1p, tan, atan2, pow ... are
    Intel SVML's; the kernels call the same functions (cpu_math.SVML), one element per
    call: np.<ufunc>'s bits, NaN payloads aside."""
    from numba import njit
    ns = cpu_math.namespace()
    np_names = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh",
                "acosh": "arccosh", "atanh": "arctanh", "atan2": "arctan2", "pow": "power"}
    rng = np.random.default_rng(0)
    checked = 0
    for (name, s), (_sym, arity) in sorted(cpu_math.SVML.items()):
        dt = np.float32 if s == "f32" else np.float64
        ut = np.uint32 if s == "f32" else np.uint64
        x = np.concatenate([rng.integers(0, np.iinfo(ut).max, 4000, dtype=ut).view(dt),
                            rng.uniform(-3, 3, 4000).astype(dt),
                            np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan], dt)])
        y = rng.uniform(-3, 3, x.size).astype(dt)
        fn = ns[f"_svml_{name}_{s}"]
        if arity == 1:
            apply = njit(lambda a, b, f=fn: np.array([f(v) for v in a]))
            got = apply(x, y)
            with np.errstate(all="ignore"):
                want = getattr(np, np_names.get(name, name))(x)
        else:
            apply = njit(lambda a, b, f=fn: np.array([f(a[i], b[i]) for i in range(a.size)]))
            got = apply(x, y)
            with np.errstate(all="ignore"):
                want = getattr(np, np_names.get(name, name))(x, y)
        bad = (got.view(ut) != want.view(ut)) & ~(np.isnan(got) & np.isnan(want))
        assert not bad.any(), (name, s, x[bad][:3], got[bad][:3], want[bad][:3])
        checked += 1
    assert checked == len(cpu_math.SVML) >= 30
