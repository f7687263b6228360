"""ATen's trigamma (Math.h `static inline float trigamma(float x)` and its double
twin: polygamma's n = 1 on the CPU; float16 and bfloat16 take the float one) as numba
ufuncs: steps in the type, libm's sinf / sin for the reflection, the closing polynomial
contracted into FMAs as GCC compiled it (checked bit for bit against torch 2.13: 150k
float32 and float64 values, every float16 and bfloat16 value; without the FMAs 11 / 25 of
the 150k differed).

Imported only when first wanted (numba is imported then)."""
import math

import numpy as np

from ._fma_intrinsics import fma_f32 as _fma, fma_f64 as _fma64
from .numba_helpers import vectorize

_F = np.float32
_PI = _F(math.pi)


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
