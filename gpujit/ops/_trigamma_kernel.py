"""ATen's calc_digamma and trigamma (Math.h, the float and double versions: digamma and
polygamma's n = 1 on the CPU; float16 and bfloat16 take the float ones) as numba ufuncs.

digamma: the recurrence to x >= 10 and the asymptotic series, steps in the type, C's log /
logf, the reflection's tan in double, polevl's `r = r * z + c` one FMA a step as GCC
compiled it (without the FMAs 1 in 10^6 float32 and float64 values differed from torch
2.13; with them none of ~1M each). trigamma: steps in the type, libm's sinf / sin for the reflection, the closing polynomial
contracted into FMAs as GCC compiled it (checked bit for bit against torch 2.13: 150k
float32 and float64 values, every float16 and bfloat16 value; without the FMAs 11 / 25 of
the 150k differed).

Imported only when first wanted (numba is imported then)."""
import math

import numpy as np

from ._fma_intrinsics import fma_f32 as _fma, fma_f64 as _fma64
from .numba_helpers import njit, vectorize
from .special import _PSI_10, _PSI_A

_F = np.float32
_PI = _F(math.pi)
_PSI_A64 = np.array(_PSI_A)
_PSI_A32 = np.array(_PSI_A, np.float32)
_PSI_10_32 = _F(_PSI_10)


def _digamma_f32(x):
    if x == 0:
        return math.copysign(math.inf, -x)
    refl = _F(0.0)
    if x < 0:
        if x == np.trunc(x):        # (math.trunc gives an int64: wrong past 2^63)
            return math.nan
        xd = np.float64(x)
        refl = _F(math.pi / math.tan(math.pi * (xd - np.trunc(xd))))
        x = _F(_F(1.0) - x)
    result = _F(0.0)
    while x < _F(10.0):
        result = _F(result - _F(_F(1.0) / x))
        x = _F(x + _F(1.0))
    if x == _F(10.0):
        return _F(_F(result + _PSI_10_32) - refl)
    y = _F(0.0)
    if x < _F(1.0e17):
        z = _F(_F(1.0) / _F(x * x))
        p = _PSI_A32[0]
        for i in range(1, 7):
            p = _fma(p, z, _PSI_A32[i])
        y = _F(z * p)
    r = _F(_F(result + _F(math.log(x))) - _F(_F(0.5) / x))
    return _F(_F(r - y) - refl)


def _digamma_f64(x):
    if x == 0:
        return math.copysign(math.inf, -x)
    refl = 0.0
    if x < 0:
        if x == np.trunc(x):
            return math.nan
        refl = math.pi / math.tan(math.pi * (x - np.trunc(x)))
        x = 1.0 - x
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    if x == 10.0:
        return result + _PSI_10 - refl
    y = 0.0
    if x < 1.0e17:
        z = 1.0 / (x * x)
        p = _PSI_A64[0]
        for i in range(1, 7):
            p = _fma64(p, z, _PSI_A64[i])
        y = z * p
    return result + math.log(x) - 0.5 / x - y - refl


# numba functions for the fused CPU kernels (kernels/prims_special.py): eager's bits
jit_digamma_f32 = njit(_digamma_f32)
jit_digamma_f64 = njit(_digamma_f64)
_UFUNCS: dict = {}


def _ufunc(name, dtype, fn32, fn64, args=""):
    """The ufunc `name` of float32 or float64 arrays (and `args`, numba's names of the
    other arguments' types), built from fn32 / fn64 at its first use."""
    f32 = np.dtype(dtype) == np.float32
    u = _UFUNCS.get((name, f32))
    if u is None:
        t = "float32" if f32 else "float64"
        u = _UFUNCS[(name, f32)] = vectorize([f"{t}({t}{args})"], fn32 if f32 else fn64)
    return u


def digamma_ufunc(dtype):
    """digamma's ufunc of float32 or float64 arrays, built at its first use."""
    return _ufunc("digamma", dtype, _digamma_f32, _digamma_f64)


def _trigamma_f32(x):
    sign = _F(1.0)
    result = _F(0.0)
    if x < _F(0.5):
        sign = _F(-1.0)
        s = _F(math.sin(_F(_PI * x)))
        result = _F(result - _F(_F(_PI * _PI) / _F(s * s)))
        x = _F(_F(1.0) - x)
    for _ in range(6):
        result = _F(result + _F(_F(1.0) / _F(x * x)))
        x = _F(x + _F(1.0))
    ixx = _F(_F(1.0) / _F(x * x))
    p = _fma(-ixx, _F(_F(1.0) / _F(42.0)), _F(_F(1.0) / _F(30.0)))
    p = _fma(-ixx, p, _F(_F(1.0) / _F(6.0)))
    a = _F(_F(1.0) + _F(_F(1.0) / _F(_F(2.0) * x)))
    result = _F(result + _F(_fma(ixx, p, a) / x))
    return _F(sign * result)


def _trigamma_f64(x):
    sign = 1.0
    result = 0.0
    if x < 0.5:
        sign = -1.0
        s = math.sin(math.pi * x)
        result -= (math.pi * math.pi) / (s * s)
        x = 1.0 - x
    for _ in range(6):
        result += 1.0 / (x * x)
        x += 1.0
    ixx = 1.0 / (x * x)
    p = _fma64(-ixx, 1.0 / 42.0, 1.0 / 30.0)
    p = _fma64(-ixx, p, 1.0 / 6.0)
    return sign * (result + _fma64(ixx, p, 1.0 + 1.0 / (2.0 * x)) / x)


trigamma_f32 = vectorize(["float32(float32)"], _trigamma_f32)
trigamma_f64 = vectorize(["float64(float64)"], _trigamma_f64)


# ------------------------------------------------------------------ polygamma, n >= 2
# ATen's calc_polygamma: ((n % 2) ? 1 : -1) * exp(lgamma(n + 1)) * zeta(n + 1, x), in the
# dtype (C's lgammaf / expf for float), zeta (Cephes') in acc_type: double on the CPU for
# float and double alike, C's pow. The float64 formula with n! rounded once differed from
# torch 2.13 on 6-54% of float32 values (n = 2..5), up to 98% of float64 ones (n = 5).
_ZETA_A = np.array([12.0, -720.0, 30240.0, -1209600.0, 47900160.0,
                    -1.8924375803183791606e9, 7.47242496e10, -2.950130727918164224e12,
                    1.1646782814350067249e14, -4.5979787224074726105e15,
                    1.8152105401943546773e17, -7.1661652561756670113e18])
_MACHEP = 1.11022302462515654042E-16


def _zeta_py(x, q):
    if x == 1.0:
        return math.inf
    if x < 1.0:
        return math.nan
    if q <= 0.0:
        if q == math.floor(q):
            return math.inf
        if x != math.floor(x):
            return math.nan
    s = math.pow(q, -x)
    a = q
    i = 0
    b = 0.0
    while i < 9 or a <= 9.0:
        i += 1
        a += 1.0
        b = math.pow(a, -x)
        s += b
        if -_MACHEP * s < b and b < _MACHEP * s:
            return s
    w = a
    s += b * w / (x - 1.0)
    s -= 0.5 * b
    a = 1.0
    k = 0.0
    for j in range(12):
        a *= x + k
        b /= w
        t = a * b / _ZETA_A[j]
        s = s + t
        t = abs(t / s)
        if t < _MACHEP:
            return s
        k += 1.0
        a *= x + k
        b /= w
        k += 1.0
    return s


_zeta = njit(_zeta_py, error_model="numpy")


def _polygamma_f32(x, n):
    one = _F(1.0)
    fact = _F(math.exp(_F(math.lgamma(_F(n) + one))))
    sign = one if n % 2 else -one
    return _F(_F(sign * fact) * _F(_zeta(float(n + 1), np.float64(x))))


def _polygamma_f64(x, n):
    sign = 1.0 if n % 2 else -1.0
    return sign * math.exp(math.lgamma(float(n) + 1.0)) * _zeta(float(n + 1), x)


def polygamma_ufunc(dtype):
    """calc_polygamma's ufunc of (float32 or float64 x, int64 n), built at its first use."""
    return _ufunc("polygamma", dtype, _polygamma_f32, _polygamma_f64, ", int64")
