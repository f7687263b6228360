"""linspace / logspace as ATen computes them (values to the last bit, checked conversions
of start / end, errors), and ops/fma's correctly rounded multiply-add."""
from fractions import Fraction

import numpy as np
import pytest

import gpujit
from gpujit.ops import fma as _fma


def test_linspace_halves_with_one_rounding():
    # torch 2.13: the second half counts down from `end`, each value an FMA
    got = gpujit.linspace(1.257302210933933, -1.3210486329130189, 62).tolist()[20:26]
    assert got == [0.411941260099411, 0.3696732223033905, 0.3274051547050476,
                   0.2851371169090271, 0.2428690791130066, 0.20060104131698608]
    assert gpujit.linspace(-1.1, 2.3, 7, dtype=gpujit.float64).tolist() == [
        -1.1, -0.5333333333333334, 0.033333333333333215, 0.5999999999999999,
        1.1666666666666665, 1.7333333333333332, 2.3]


def test_linspace_integer_and_half_dtypes():
    assert gpujit.linspace(-1, 10, 5, dtype=gpujit.uint8).tolist() == [255, 193, 132, 71, 10]
    assert gpujit.linspace(-3.5, 2.5, 5, dtype=gpujit.int64).tolist() == [-3, -1, 0, 0, 2]
    assert gpujit.linspace(0.7, 10.2, 5, dtype=gpujit.uint8).tolist() == [0, 2, 5, 7, 10]
    assert gpujit.linspace(0, 1, 5, dtype=gpujit.float16).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert gpujit.linspace(True, False, 3).tolist() == [1.0, 0.5, 0.0]


def test_linspace_errors_and_edges():
    with pytest.raises(RuntimeError, match="^number of steps must be non-negative$"):
        gpujit.linspace(0, 1, -1)
    with pytest.raises(NotImplementedError, match="\"linspace_cpu\" not implemented for 'Bool'"):
        gpujit.linspace(0, 1, 5, dtype=gpujit.bool)
    for args, name in (((0, 1e39, 5, gpujit.float32), "float"), ((0, 300, 5, gpujit.uint8), "uint8_t"),
                       ((0, 1e10, 5, gpujit.int32), "int"), ((0, float("inf"), 3, gpujit.int64), "int64_t"),
                       ((0, 70000.0, 3, gpujit.float16), "c10::Half")):
        with pytest.raises(RuntimeError, match=f"^value cannot be converted to type {name} without overflow$"):
            gpujit.linspace(*args[:3], dtype=args[3])
    assert gpujit.linspace(5, 1e39, 1).tolist() == [5.0]          # `end` unused: no check
    assert gpujit.linspace(0, 1, 0).shape == (0,)
    got = gpujit.linspace(0, float("inf"), 5).tolist()
    assert np.isnan(got[0]) and got[1] == float("inf") and all(np.isnan(got[2:]))


def test_logspace_as_aten():
    assert gpujit.logspace(0.0028121066979764926, -0.005538228364240524, 33, 2.0,
                           dtype=gpujit.float64).tolist()[21] == 0.9981525301530134
    assert gpujit.logspace(0, 2, 5, 10., dtype=gpujit.int64).tolist() == [1, 3, 10, 31, 100]
    assert gpujit.logspace(-1, 2.5, 4, 2., dtype=gpujit.int32).tolist() == [0, 1, 2, 4]
    # out-of-range results convert as x86 does (torch 2.13's values)
    assert gpujit.logspace(12.7, -1.69, 30, 10., dtype=gpujit.int16).tolist()[5:12] == [
        0, 12773, -12968, -31573, 26861, 4373, -9922]
    assert gpujit.logspace(0, 1, 1, 1e10, dtype=gpujit.int32).tolist() == [1]
    with pytest.raises(NotImplementedError, match="logspace_cpu"):
        gpujit.logspace(0, 1, 3, dtype=gpujit.bool)


def _exact(a, b, c, dt):
    """a * b + c rounded once to dt (ties to even), from the exact rational."""
    ex = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    v = dt.type(float(ex))
    cands = [v, np.nextafter(v, dt.type(-np.inf)), np.nextafter(v, dt.type(np.inf))]
    return min(cands, key=lambda w: (abs(Fraction(float(w)) - ex),
                                     int(np.array(w).view(f"i{dt.itemsize}")) & 1))


@pytest.mark.parametrize("dt", [np.dtype(np.float32), np.dtype(np.float64)])
def test_fma_rounds_once(dt):
    rng = np.random.default_rng(3)
    a, b, c = (rng.normal(size=400) * 10.0 ** rng.integers(-3, 3, 400)).astype(dt), \
        rng.normal(size=400).astype(dt), rng.normal(size=400).astype(dt)
    # near-cancelling cases, where a * b + c rounded twice differs most often
    c[::2] = (-(a[::2].astype(np.float64) * b[::2])).astype(dt)
    got = _fma.fma(a, b, c, dt)
    assert got.dtype == dt
    want = np.array([_exact(x, y, z, dt) for x, y, z in zip(a, b, c)], dt)
    np.testing.assert_array_equal(got, want)
    specials = _fma.fma(np.array([np.inf, 0.0, np.nan], dt), np.array([0.0, 2.0, 1.0], dt),
                        np.array([1.0, np.inf, 1.0], dt), dt)
    assert np.isnan(specials[0]) and specials[1] == np.inf and np.isnan(specials[2])


def test_fma32_double_rounding_case():
    # a * b = 2^-24 (1 + e) with 0 < e < 2^-29, c = 1: the exact sum lies just above the
    # float32 midpoint 1 + 2^-24. Rounded to double first it IS the midpoint (e is below
    # double's half ulp) and then rounds to even, 1.0; rounded once it is 1 + 2^-23.
    a, b = np.float32(float.fromhex("0x1.000fcp-24")), np.float32(float.fromhex("0x1.ffe082p-1"))
    assert np.float32(float(a) * float(b) + 1.0) == 1.0              # the double rounding
    assert float(_fma.fma32(a, b, np.float32(1))) == 1 + 2 ** -23
    assert float(_fma.fma32(-a, b, np.float32(-1))) == -(1 + 2 ** -23)


@pytest.mark.parametrize("fn", ["linspace", "logspace"])
def test_against_torch(fn):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    dts = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8"]
    for trial in range(60):
        a, b = rng.normal(size=2) * 10.0 ** rng.integers(-2, 3)
        if fn == "logspace":
            a, b = a / 10, b / 10
        n = int(rng.choice([int(rng.integers(0, 60)), int(rng.integers(60, 3000))]))
        extra = (float(rng.choice([10., 2., 0.5])),) if fn == "logspace" else ()
        for d in dts:
            def run(mod):
                try:
                    return getattr(mod, fn)(a, b, n, *extra, dtype=getattr(mod, d)).numpy()
                except Exception as e:
                    return f"{type(e).__name__}: {e}"
            t, g = run(torch), run(gpujit)
            if isinstance(t, str) or isinstance(g, str):
                assert t == g, (a, b, n, d)
            else:
                np.testing.assert_array_equal(g, t, err_msg=f"{fn}({a}, {b}, {n}, {extra}, {d})")
