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
_DIGAMMA_UFUNCS: dict = {}


def digamma_ufunc(dtype):
    """digamma's ufunc of float32 or float64 arrays, built at its first use."""
    f32 = np.dtype(dtype) == np.float32
    u = _DIGAMMA_UFUNCS.get(f32)
    if u is None:
        u = _DIGAMMA_UFUNCS[f32] = vectorize(
            ["float32(float32)"] if f32 else ["float64(float64)"],
            _digamma_f32 if f32 else _digamma_f64)
    return u


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
