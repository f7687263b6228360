"""Fake cupyx.scipy.special: erf, erfc, erfinv, gammaln elementwise (via math / bisection)."""
import math

import numpy as _np

import cupy as _cp


# CuPy's loops (cupyx/scipy/special/_erf.py, _gammaln.py): the first whose input type the
# argument casts to safely gives the result type (float16 erf/erfc/gammaln: float64)
_LOOPS = {"erf": ("e->d", "f->f", "d->d"), "erfc": ("e->d", "f->f", "d->d"),
          "erfinv": ("f->f", "d->d"), "gammaln": ("l->d", "e->d", "f->f", "d->d")}


def _elementwise(fn, name):
    vf = _np.vectorize(fn, otypes=[_np.float64])

    def f(x, out=None):
        if not isinstance(x, _cp.ndarray):
            if isinstance(x, _np.ndarray):
                raise TypeError(f"Unsupported type {type(x)} (fake cupyx.{name})")
            x = _cp.asarray(x)
        a = x._a
        for loop in _LOOPS[name]:
            i, o = (_np.dtype(c) for c in loop.split("->"))
            if _np.can_cast(a.dtype, i, "safe"):
                break
        else:
            raise TypeError(f"Wrong type ({a.dtype}) of arguments for "
                            f"cupyx_scipy_special_{name}")
        r = vf(a.astype(i)).astype(o)
        return _cp.ndarray._from_np(_np.asarray(r), x._dev)
    f.__name__ = name
    return f


def _erfinv(y):
    if y <= -1:
        return -math.inf if y == -1 else math.nan
    if y >= 1:
        return math.inf if y == 1 else math.nan
    if y != y:
        return math.nan
    if y == 0:
        return y            # (CUDA's erfinv: exact, signed zeros kept; bisection is not)
    lo, hi = -10.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if math.erf(mid) < y:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _gammaln(x):
    # CUDA's lgamma: +inf at the poles and at +-inf (Python's math.lgamma raises there)
    if x != x:
        return x
    if math.isinf(x) or (x <= 0 and x == math.floor(x)):
        return math.inf
    try:
        return math.lgamma(x)
    except OverflowError:
        return math.inf


erf = _elementwise(math.erf, "erf")
erfc = _elementwise(math.erfc, "erfc")
erfinv = _elementwise(_erfinv, "erfinv")
gammaln = _elementwise(_gammaln, "gammaln")
