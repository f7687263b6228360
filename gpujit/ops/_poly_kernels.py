"""The Laguerre, Legendre and Chebyshev recurrences of ops/special_more.py element by element, as numba
ufuncs: special_more runs the recurrence as one NumPy step per degree over the whole
array, ~20 us a degree, so a degree of 10^6 took minutes where ATen's per-element loop
takes milliseconds (a hang). special_more calls these for large degrees only; each step is
the same float32 / float64 arithmetic as its array step (the degree's constants rounded
to the dtype, a * b + c one FMA, then / k), so the bits are the same.

Imported only when first wanted (numba is imported then)."""
import math

import numpy as np

from ._fma_intrinsics import fma_f32 as _fma, fma_f64 as _fma64
from .numba_helpers import vectorize

_F = np.float32


def _laguerre_f32(x, n):
    # (x != 0, n >= 2: special_more.laguerre handles the rest)
    p = _F(1.0)
    q = _F(_F(1.0) - x)
    k = 2
    while k <= n:
        if math.isnan(q):
            break
        a = _F(_F(2.0 * (k - 1)) + _F(_F(1.0) - x))
        r = _F(_fma(a, q, -_F(_F(k - 1.0) * p)) / _F(k))
        p = q
        q = r
        k += 1
    return q


def _laguerre_f64(x, n):
    p = 1.0
    q = 1.0 - x
    k = 2
    while k <= n:
        if math.isnan(q):
            break
        r = _fma64(2.0 * (k - 1) + (1.0 - x), q, -((k - 1.0) * p)) / k
        p = q
        q = r
        k += 1
    return q


def _legendre_f32(x, n):
    # (|x| != 1, n >= 2)
    p = _F(1.0)
    q = x
    k = 2
    while k <= n:
        if math.isnan(q):
            break
        r = _F(_fma(_F(_F(2.0 * k - 1.0) * x), q, -_F(_F(k - 1.0) * p)) / _F(k))
        p = q
        q = r
        k += 1
    return q


def _legendre_f64(x, n):
    p = 1.0
    q = x
    k = 2
    while k <= n:
        if math.isnan(q):
            break
        r = _fma64((2.0 * k - 1.0) * x, q, -((k - 1.0) * p)) / k
        p = q
        q = r
        k += 1
    return q


def _chebyshev_f32(y, q1, n):
    # (all four kinds outside the closed form's range: q_k = 2y q - p from q_1 = q1)
    p = _F(1.0)
    q = q1
    two_y = _F(y + y)
    k = 2
    while k <= n:
        if math.isnan(q):
            break
        r = _fma(two_y, q, -p)
        p = q
        q = r
        k += 1
    return q


def _chebyshev_f64(y, q1, n):
    p = 1.0
    q = q1
    two_y = y + y
    k = 2
    while k <= n:
        if math.isnan(q):
            break
        r = _fma64(two_y, q, -p)
        p = q
        q = r
        k += 1
    return q


laguerre_f32 = vectorize(["float32(float32, float32)"], _laguerre_f32)
laguerre_f64 = vectorize(["float64(float64, float64)"], _laguerre_f64)
legendre_f32 = vectorize(["float32(float32, float32)"], _legendre_f32)
legendre_f64 = vectorize(["float64(float64, float64)"], _legendre_f64)
chebyshev_f32 = vectorize(["float32(float32, float32, float32)"], _chebyshev_f32)
chebyshev_f64 = vectorize(["float64(float64, float64, float64)"], _chebyshev_f64)
