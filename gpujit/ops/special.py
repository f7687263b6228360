"""erf, erfc and erfinv over an array namespace (NumPy has none of them, and gpujit does not
depend on SciPy).

On NumPy they are `numba.vectorize` ufuncs of `math.erf` / `math.erfc`, compiled on first
use (numba is imported then, not when gpujit is imported); float16 goes through float32,
integers through float64. `erfinv` is a rational first guess refined by Newton steps on
`erf`. On CuPy, `cupyx.scipy.special` has all three.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["erf", "erfc", "erfinv"]

_UFUNCS: dict = {}


def _erf_scalar(x):
    return math.erf(x)


def _erfc_scalar(x):
    return math.erfc(x)


_SCALAR = {"erf": _erf_scalar, "erfc": _erfc_scalar}


def _ufunc(name):
    u = _UFUNCS.get(name)
    if u is None:
        import numba   # lazy: the first erf call pays the import and the compile
        u = numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)(_SCALAR[name])
        _UFUNCS[name] = u
    return u


def _numpy_apply(name, a):
    a = np.asarray(a)
    dt = a.dtype
    if dt == np.float32 or dt == np.float64:
        r = _ufunc(name)(a)
    elif dt == np.float16:
        r = _ufunc(name)(a.astype(np.float32)).astype(np.float16)
    else:
        r = _ufunc(name)(a.astype(np.float64))
    return np.asarray(r)


def erf(xp, a):
    if xp is not np:
        from cupyx.scipy.special import erf as f
        return f(a)
    return _numpy_apply("erf", a)


def erfc(xp, a):
    if xp is not np:
        from cupyx.scipy.special import erfc as f
        return f(a)
    return _numpy_apply("erfc", a)


# Giles, "Approximating the erfinv function" (GPU Computing Gems, 2010): single-precision
# polynomials in w = -log(1 - x^2); two Newton steps on erf then reach float64 accuracy.
_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
         -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _horner(coeffs, w):
    p = coeffs[0]
    for c in coeffs[1:]:
        p = p * w + c
    return p


def erfinv(xp, a):
    if xp is not np:
        from cupyx.scipy.special import erfinv as f
        return f(a)
    a = np.asarray(a)
    out_dt = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    x = a.astype(np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1.0 - x) * (1.0 + x))
        central = w < 5.0
        y = np.where(central, _horner(_CENTRAL, w - 2.5), _horner(_TAIL, np.sqrt(w) - 3.0)) * x
        finite = np.isfinite(y)
        for _ in range(2):
            step = (_ufunc("erf")(y) - x) / (_TWO_OVER_SQRT_PI * np.exp(-y * y))
            y = np.where(finite, y - step, y)
        # |x| == 1 gives +-inf, |x| > 1 and NaN give NaN (the log above already does)
        y = np.where(np.abs(x) == 1.0, np.copysign(np.inf, x), y)
    return y.astype(out_dt, copy=False)
