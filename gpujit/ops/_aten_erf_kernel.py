"""ATen's vectorized float erf (Vectorized<float>::erf, vec256 / vec512_float.h) as a
numba ufunc: Abramowitz and Stegun's formula 7.1.26 by FMAs, exp(-x^2) from Sleef's
expf_u10 (its Cody-Waite reduction, polynomial and two-step scaling). PyTorch's CPU
float16 and bfloat16 erf compute it on the value in float32 and round the result
(ops/special.aten_vec_erf). `fma` is LLVM's llvm.fma.f32, one rounding.

Imported only when first wanted (numba is imported then)."""
import math

import numpy as np

from ._fma_intrinsics import fma_f32 as _fma
from .numba_helpers import lazy_vectorize, njit

_F = np.float32


def _sleef_expf_core_py(d, qf):
    """Sleef's expf_u10 of float32 d before its scaling by 2^q (qf: q = rint(d / log 2),
    as a float32): the Cody-Waite reduction s = d - q log 2 (two FMAs) and the polynomial,
    1 + s + s^2 u(s). Shared by _sleef_expf (scalar, branches) and the softmax kernel's
    branch-free exp (ops/_softmax_kernel._expf_py, vectorized by LLVM)."""
    s = _fma(qf, _F(-0.693145751953125), d)
    s = _fma(qf, _F(-1.428606765330187045e-06), s)
    u = _F(0.000198527617612853646278381)
    u = _fma(u, s, _F(0.00139304355252534151077271))
    u = _fma(u, s, _F(0.00833336077630519866943359))
    u = _fma(u, s, _F(0.0416664853692054748535156))
    u = _fma(u, s, _F(0.166666671633720397949219))
    u = _fma(u, s, _F(0.5))
    return _F(_F(1.0) + _fma(_F(s * s), u, s))


sleef_expf_core = njit(_sleef_expf_core_py, inline="always")


def _sleef_expf_py(d):
    """Sleef's xexpf (u10) of float32 d, bit for bit Sleef_expf16_u10."""
    if d != d:
        return d
    if d < _F(-104.0):
        return _F(0.0)
    if d > _F(100.0):
        return _F(math.inf)
    q = np.int32(np.rint(_F(d * _F(1.442695040888963407359924681001892137426645954152985934))))
    u = sleef_expf_core(d, _F(q))
    q1 = q >> 1
    # (Sleef's vldexp2: two exact scalings by 2^(q >> 1) and 2^(q - (q >> 1)), from a
    # table: numba's math.ldexp took ~27 ns a call)
    u = _F(u * _POW2[q1 + 126])
    return _F(u * _POW2[q - q1 + 126])


_POW2 = np.array([math.ldexp(1.0, k) for k in range(-126, 128)], np.float32)


_sleef_expf = njit(_sleef_expf_py)


def _aten_erf(x):
    ax = abs(x)
    t = _F(_F(1.0) / _fma(_F(0.3275911), ax, _F(1.0)))
    r = _fma(_F(1.061405429), t, _F(-1.453152027))
    r = _fma(r, t, _F(1.421413741))
    r = _fma(r, t, _F(-0.284496736))
    r = _fma(r, t, _F(0.254829592))
    e = _sleef_expf(-_F(x * x))
    v = _fma(_F(-e * t), r, _F(1.0))
    return _F(math.copysign(v, x))


# (made at its first use: the softmax kernels import this module for its Sleef exp only)
__getattr__ = lazy_vectorize(globals(), {"aten_erf": (["float32(float32)"], _aten_erf)})
