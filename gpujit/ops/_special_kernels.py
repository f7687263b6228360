"""torch.special's Cephes functions as numba ufuncs for eager NumPy: ndtri, erfcx, log_ndtr,
the Bessel functions j0 / j1 / y0 / y1, the modified Bessel functions i0 / i1 / k0 / k1
(and k0 / k1 scaled by exp(x)), spherical_bessel_j0 and airy_ai (ops/special_more.py's ops,
computed in float64 and rounded once, as the fused kernels' kernels/prims_special.py), and
ATen's calc_i0 / calc_i1 / calc_i0e / calc_i1e in the array's own dtype (ops/pointwise_extra:
torch.i0, special.i1, special.i0e, special.i1e).

One compiled loop per element instead of a NumPy pass per coefficient and branch (ndtri's
array code made ~40 passes over float64 temporaries). exp / log / sin / cos / sqrt are C's
(libm, what ATen's Math.h calls: std::exp ...); erfc is libm's, as ops/special.erfc.
The same algorithms, steps and branch points as the array code in special_more.py, which
CuPy still runs.

Imported only when first wanted (numba is imported then); the ufuncs compile on first use
of each (or load from gpujit's cache directory, ops/numba_helpers.py).
"""
import math

import numpy as np

from . import special_coeffs as C
from ._fma_intrinsics import fma_f32 as _fma32, fma_f64 as _fma64
from .numba_helpers import njit, vectorize

__all__ = ["ufunc", "NAMES", "CEPHES_I"]

_F = np.float32


def _polevl_py(coeffs, z):
    p = coeffs[0]
    for i in range(1, len(coeffs)):
        p = p * z + coeffs[i]
    return p


def _chbevl_py(coeffs, t):
    b0 = coeffs[0]
    b1 = 0.0
    b2 = 0.0
    for i in range(1, len(coeffs)):
        b2 = b1
        b1 = b0
        b0 = t * b1 - b2 + coeffs[i]
    return 0.5 * (b0 - b2)


_polevl = njit(_polevl_py)


def _arr(coeffs):
    return np.array(coeffs, np.float64)
_chbevl = njit(_chbevl_py)

# (float64 arrays: numba freezes a global array as a constant; a tuple indexed by a loop
# variable compiled to a switch, 2x slower)
_NDTRI_P0, _NDTRI_Q0 = _arr(C._NDTRI_P0), _arr(C._NDTRI_Q0)
_NDTRI_P1, _NDTRI_Q1 = _arr(C._NDTRI_P1), _arr(C._NDTRI_Q1)
_NDTRI_P2, _NDTRI_Q2 = _arr(C._NDTRI_P2), _arr(C._NDTRI_Q2)
_J0_RP, _J0_RQ = _arr(C._BESSEL_J0_RP), _arr(C._BESSEL_J0_RQ)
_J0_PP, _J0_PQ = _arr(C._BESSEL_J0_PP), _arr(C._BESSEL_J0_PQ)
_J0_QP, _J0_QQ = _arr(C._BESSEL_J0_QP), _arr(C._BESSEL_J0_QQ)
_J1_RP, _J1_RQ = _arr(C._BESSEL_J1_RP), _arr(C._BESSEL_J1_RQ)
_J1_PP, _J1_PQ = _arr(C._BESSEL_J1_PP), _arr(C._BESSEL_J1_PQ)
_J1_QP, _J1_QQ = _arr(C._BESSEL_J1_QP), _arr(C._BESSEL_J1_QQ)
_Y0_YP, _Y0_YQ = _arr(C._BESSEL_Y0_YP), _arr(C._BESSEL_Y0_YQ)
_Y1_YP, _Y1_YQ = _arr(C._BESSEL_Y1_YP), _arr(C._BESSEL_Y1_YQ)
_I0_A, _I0_B = _arr(C._MB_I0_A), _arr(C._MB_I0_B)
_I1_A, _I1_B = _arr(C._MB_I1_A), _arr(C._MB_I1_B)
_K0_A, _K0_B = _arr(C._MB_K0_A), _arr(C._MB_K0_B)
_K1_A, _K1_B = _arr(C._MB_K1_A), _arr(C._MB_K1_B)
_AI_AFN, _AI_AFD = _arr(C._AIRY_AI_AFN), _arr(C._AIRY_AI_AFD)
_AI_AGN, _AI_AGD = _arr(C._AIRY_AI_AGN), _arr(C._AIRY_AI_AGD)
_AI_AN, _AI_AD = _arr(C._AIRY_AI_AN), _arr(C._AIRY_AI_AD)
_SQRT_2PI = 2.5066282746310002
_INV_SQRT_PI = 0.5641895835477563
_SQ2OPI = 0.7978845608028654
_TWO_OVER_PI = 0.6366197723675814
_PIO4, _3PIO4 = 0.7853981633974483, 2.356194490192345


# ------------------------------------------------------------------ ndtri, erfcx, log_ndtr

def _ndtri(x):
    xd = np.float64(x)
    if xd != xd:
        return xd
    if xd == 0.0:
        return -math.inf
    if xd == 1.0:
        return math.inf
    if xd < 0.0 or xd > 1.0:
        return math.nan
    code = True
    y = xd
    if y > 1.0 - 0.13533528323661269189:
        y = 1.0 - y
        code = False
    if y > 0.13533528323661269189:
        y = y - 0.5
        y2 = y * y
        return (y + y * (y2 * _polevl(_NDTRI_P0, y2) / _polevl(_NDTRI_Q0, y2))) * _SQRT_2PI
    r = math.sqrt(-2.0 * math.log(y))
    x0 = r - math.log(r) / r
    z = 1.0 / r
    if r < 8.0:
        x1 = z * _polevl(_NDTRI_P1, z) / _polevl(_NDTRI_Q1, z)
    else:
        x1 = z * _polevl(_NDTRI_P2, z) / _polevl(_NDTRI_Q2, z)
    r = x0 - x1
    if code:
        r = -r
    return r


def _expsq_py(x):
    """exp(x * x) with x * x a double-double (Dekker's split)."""
    c = 134217729.0 * x
    hi = c - (c - x)
    lo = x - hi
    sq = x * x
    err = ((hi * hi - sq) + 2.0 * hi * lo) + lo * lo
    return math.exp(sq) * (1.0 + err)


_expsq = njit(_expsq_py)


def _erfcx_pos_py(x):
    if x < 10.0:
        return _expsq(x) * math.erfc(x)
    if x > 50.0:
        if x > 5e7:
            return _INV_SQRT_PI / x
        x2 = x * x
        return _INV_SQRT_PI * (x2 * (x2 + 4.5) + 2.0) / (x * (x2 * (x2 + 5.0) + 3.75))
    inv = 1.0 / (2.0 * x * x)
    term = 1.0
    total = 1.0
    for k in range(1, 21):
        term = term * -(2.0 * k - 1.0) * inv
        total = total + term
    return total * _INV_SQRT_PI / x


_erfcx_pos = njit(_erfcx_pos_py)


def _erfcx_f64_py(xd):
    if xd != xd:
        return xd
    if xd >= 0.0:
        return _erfcx_pos(xd)
    if xd < -26.7:
        return math.inf
    if xd < -6.1:
        return 2.0 * _expsq(xd)
    return 2.0 * _expsq(xd) - _erfcx_pos(-xd)


_erfcx_f64 = njit(_erfcx_f64_py)


def _erfcx(x):
    return _erfcx_f64(np.float64(x))


def _log_ndtr(x):
    xd = np.float64(x)
    t = xd * 0.7071067811865476
    if xd < -1.0:
        return math.log(_erfcx_f64(-t) / 2.0) - t * t
    return math.log1p(-math.erfc(t) / 2.0)


# ------------------------------------------------------------------ Bessel functions

def _hankel_py(xd, shift, pp, pq, qp, qq, y_form):
    z = 25.0 / (xd * xd)
    p = _polevl(pp, z) / _polevl(pq, z)
    q = 5.0 / xd * (_polevl(qp, z) / _polevl(qq, z))
    s = math.sin(xd - shift)
    c = math.cos(xd - shift)
    r = p * s + q * c if y_form else p * c - q * s
    return r * _SQ2OPI / math.sqrt(xd)


_hankel = njit(_hankel_py)


def _j0_f64_py(xd):
    if xd < 0.0:
        xd = -xd
    if xd <= 5.0:
        z = xd * xd
        if xd < 1e-5:
            return 1.0 - z / 4.0
        return (z - 5.78318596294678452118e+00) * (z - 3.04712623436620863991e+01) \
            * _polevl(_J0_RP, z) / _polevl(_J0_RQ, z)
    return _hankel(xd, _PIO4, _J0_PP, _J0_PQ, _J0_QP, _J0_QQ, False)


def _j1_f64_py(xd):
    if xd <= 5.0 and xd >= -5.0:
        z = xd * xd
        return _polevl(_J1_RP, z) / _polevl(_J1_RQ, z) * xd \
            * (z - 1.46819706421238932572e+01) * (z - 4.92184563216946036703e+01)
    neg = xd < 0.0
    if neg:
        xd = -xd
    r = _hankel(xd, _3PIO4, _J1_PP, _J1_PQ, _J1_QP, _J1_QQ, False)
    if neg:
        return -r
    return r


_j0_f64 = njit(_j0_f64_py)
_j1_f64 = njit(_j1_f64_py)


def _bessel_j0(x):
    return _j0_f64(np.float64(x))


def _bessel_j1(x):
    return _j1_f64(np.float64(x))


def _bessel_y0(x):
    xd = np.float64(x)
    if xd <= 5.0:
        if xd == 0.0:
            return -math.inf
        if xd < 0.0:
            return math.nan
        z = xd * xd
        return _polevl(_Y0_YP, z) / _polevl(_Y0_YQ, z) \
            + _TWO_OVER_PI * math.log(xd) * _j0_f64(xd)
    return _hankel(xd, _PIO4, _J0_PP, _J0_PQ, _J0_QP, _J0_QQ, True)


def _bessel_y1(x):
    xd = np.float64(x)
    if xd <= 5.0:
        if xd == 0.0:
            return -math.inf
        if xd < 0.0:
            return math.nan
        z = xd * xd
        return xd * (_polevl(_Y1_YP, z) / _polevl(_Y1_YQ, z)) \
            + _TWO_OVER_PI * (_j1_f64(xd) * math.log(xd) - 1.0 / xd)
    return _hankel(xd, _3PIO4, _J1_PP, _J1_PQ, _J1_QP, _J1_QQ, True)


# ATen's spherical_bessel_j0_forward in the dtype itself (float32: sinf), its Taylor
# polynomial 1 + x^2 (-1/6 + x^2 (1/120 + ...)) contracted into FMAs as GCC compiled it
# (torch 2.13's bits: every float32 in (-0.5, 0.5) checked; the float64 value rounded
# differed at 1%, uncontracted float steps at 388 of 40001)
_SJ0_32 = np.array([-1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0,
                    -1.0 / 39916800.0, 1.0 / 6227020800.0], np.float32)
_SJ0_64 = np.array([-1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0,
                    -1.0 / 39916800.0, 1.0 / 6227020800.0])


def _spherical_bessel_j0_32(x):
    if x == math.inf or x == -math.inf:
        return _F(0.0)
    if abs(x) < _F(0.5):
        z = _F(x * x)
        r = _SJ0_32[5]
        for k in range(4, -1, -1):
            r = _fma32(z, r, _SJ0_32[k])
        return _fma32(z, r, _F(1.0))
    return _F(_F(math.sin(x)) / x)


def _spherical_bessel_j0_64(x):
    if x == math.inf or x == -math.inf:
        return 0.0
    if abs(x) < 0.5:
        z = x * x
        r = _SJ0_64[5]
        for k in range(4, -1, -1):
            r = _fma64(z, r, _SJ0_64[k])
        return _fma64(z, r, 1.0)
    return math.sin(x) / x


# ------------------------------------------------------------------ modified Bessel functions

def _mb_i0_f64_py(xd):
    a = abs(xd)
    e = math.exp(a)
    if a <= 8.0:
        return e * _chbevl(_I0_A, a / 2.0 - 2.0)
    return e * _chbevl(_I0_B, 32.0 / a - 2.0) / math.sqrt(a)


def _mb_i1_f64_py(xd):
    a = abs(xd)
    e = math.exp(a)
    if a <= 8.0:
        r = _chbevl(_I1_A, a / 2.0 - 2.0) * a * e
    else:
        r = e * _chbevl(_I1_B, 32.0 / a - 2.0) / math.sqrt(a)
    if xd < 0.0:
        return -r
    return r


_mb_i0_f64 = njit(_mb_i0_f64_py)
_mb_i1_f64 = njit(_mb_i1_f64_py)


def _modified_bessel_i0(x):
    return _mb_i0_f64(np.float64(x))


def _modified_bessel_i1(x):
    return _mb_i1_f64(np.float64(x))


def _bessel_k_py(xd, order, scaled):
    if xd == 0.0:
        return math.inf
    if xd < 0.0:
        return math.nan
    if xd <= 2.0:
        t = xd * xd - 2.0
        if order == 0:
            r = _chbevl(_K0_A, t) - math.log(0.5 * xd) * _mb_i0_f64(xd)
        else:
            r = math.log(0.5 * xd) * _mb_i1_f64(xd) + _chbevl(_K1_A, t) / xd
        if scaled:
            return r * math.exp(xd)
        return r
    t = 8.0 / xd - 2.0
    r = _chbevl(_K0_B, t) if order == 0 else _chbevl(_K1_B, t)
    if scaled:
        return r / math.sqrt(xd)
    return math.exp(-xd) * r / math.sqrt(xd)


_bessel_k = njit(_bessel_k_py)


def _modified_bessel_k0(x):
    return _bessel_k(np.float64(x), 0, False)


def _modified_bessel_k1(x):
    return _bessel_k(np.float64(x), 1, False)


def _scaled_modified_bessel_k0(x):
    return _bessel_k(np.float64(x), 0, True)


def _scaled_modified_bessel_k1(x):
    return _bessel_k(np.float64(x), 1, True)


# ------------------------------------------------------------------ airy_ai

def _airy_ai(x):
    xd = np.float64(x)
    if xd == math.inf or xd == -math.inf:
        return math.nan
    if xd > 103.892:
        return 0.0
    if xd < -2.09:
        zeta = -2.0 * xd * math.sqrt(-xd) / 3.0
        z = 1.0 / zeta
        z2 = z * z
        afn = _polevl(_AI_AFN, z2) / _polevl(_AI_AFD, z2)
        agn = _polevl(_AI_AGN, z2) / _polevl(_AI_AGD, z2)
        t = zeta + 0.25 * math.pi
        return _INV_SQRT_PI / math.sqrt(math.sqrt(-xd)) * (
            math.sin(t) * (1.0 + z2 * afn) - math.cos(t) * (z * agn))
    if xd >= 2.09:
        zeta = 2.0 * xd * math.sqrt(xd) / 3.0
        w = 1.0 / zeta
        return _INV_SQRT_PI * (_polevl(_AI_AN, w) / _polevl(_AI_AD, w)) \
            / (2.0 * math.sqrt(math.sqrt(xd)) * math.exp(zeta))
    cube = xd * xd * xd
    f = 1.0
    g = xd
    m = 1.0
    n = xd
    k = 1.0
    for _ in range(60):
        m = m * cube / (k + 1.0)
        n = n * cube / (k + 2.0)
        m = m / (k + 2.0)
        f = f + m
        n = n / (k + 3.0)
        g = g + n
        k = k + 3.0
        if abs(m / f) <= 2.220446049250313e-16:
            break
    return 0.35502805388781723926 * f - 0.258819403792806798405 * g


# ------------------------------------------------------------------ ATen's calc_i0 ... in dtype
# Chebyshev series with b0 = fma(t, b1, -b2) + c (GCC's contraction in PyTorch's CPU
# build), in float32 for float32 (the float tables: i1 / i1e the last 17 and 7 terms),
# exp(|x|) of float32 the float64 exp rounded (correctly rounded; glibc's expf is not)

_I1_A32 = np.array(C._MB_I1_A[-17:], np.float32)
_I1_B32 = np.array(C._MB_I1_B[-7:], np.float32)
_I0_A32 = np.array(C._MB_I0_A, np.float32)
_I0_B32 = np.array(C._MB_I0_B, np.float32)


def _chb32_py(coeffs, t):
    b0 = _F(coeffs[0])
    b1 = _F(0.0)
    b2 = _F(0.0)
    for i in range(1, len(coeffs)):
        b2 = b1
        b1 = b0
        b0 = _F(_fma32(t, b1, -b2) + _F(coeffs[i]))
    return _F(_F(0.5) * _F(b0 - b2))


def _chb64_py(coeffs, t):
    b0 = coeffs[0]
    b1 = 0.0
    b2 = 0.0
    for i in range(1, len(coeffs)):
        b2 = b1
        b1 = b0
        b0 = _fma64(t, b1, -b2) + coeffs[i]
    return 0.5 * (b0 - b2)


_chb32 = njit(_chb32_py)
_chb64 = njit(_chb64_py)


def _cephes_i32_py(a, order, scaled):
    x = abs(a)
    if x <= _F(8.0):
        t = _F(_F(x / _F(2.0)) - _F(2.0))
        r = _chb32(_I0_A32, t) if order == 0 else _chb32(_I1_A32, t)
        if not scaled:
            e = _F(math.exp(np.float64(x)))
            r = _F(_F(e * x) * r) if order else _F(e * r)
        elif order:
            r = _F(r * x)
    else:
        t = _F(_F(_F(32.0) / x) - _F(2.0))
        r = _chb32(_I0_B32, t) if order == 0 else _chb32(_I1_B32, t)
        if not scaled:
            r = _F(_F(math.exp(np.float64(x))) * r)
        r = _F(r / _F(math.sqrt(x)))
    if order and a < _F(0.0):
        return -r
    return r


def _cephes_i64_py(a, order, scaled):
    x = abs(a)
    if x <= 8.0:
        t = x / 2.0 - 2.0
        r = _chb64(_I0_A, t) if order == 0 else _chb64(_I1_A, t)
        if not scaled:
            e = math.exp(x)
            r = e * x * r if order else e * r
        elif order:
            r = r * x
    else:
        t = 32.0 / x - 2.0
        r = _chb64(_I0_B, t) if order == 0 else _chb64(_I1_B, t)
        if not scaled:
            r = math.exp(x) * r
        r = r / math.sqrt(x)
    if order and a < 0.0:
        return -r
    return r


_cephes_i32 = njit(_cephes_i32_py)
_cephes_i64 = njit(_cephes_i64_py)


def _i0_32(x):
    return _cephes_i32(x, 0, False)


def _i1_32(x):
    return _cephes_i32(x, 1, False)


def _i0e_32(x):
    return _cephes_i32(x, 0, True)


def _i1e_32(x):
    return _cephes_i32(x, 1, True)


def _i0_64(x):
    return _cephes_i64(x, 0, False)


def _i1_64(x):
    return _cephes_i64(x, 1, False)


def _i0e_64(x):
    return _cephes_i64(x, 0, True)


def _i1e_64(x):
    return _cephes_i64(x, 1, True)


# name -> the per-element function (float64 inside; float32 rounds its result once)
_FLOAT64_FUNCTIONS = {
    "ndtri": _ndtri, "erfcx": _erfcx, "log_ndtr": _log_ndtr, "bessel_j0": _bessel_j0,
    "bessel_j1": _bessel_j1, "bessel_y0": _bessel_y0, "bessel_y1": _bessel_y1,
    "modified_bessel_i0": _modified_bessel_i0, "modified_bessel_i1": _modified_bessel_i1,
    "modified_bessel_k0": _modified_bessel_k0, "modified_bessel_k1": _modified_bessel_k1,
    "scaled_modified_bessel_k0": _scaled_modified_bessel_k0,
    "scaled_modified_bessel_k1": _scaled_modified_bessel_k1, "airy_ai": _airy_ai}
# ATen's calc_i0 ... : (float32 function, float64 function), each in its dtype
CEPHES_I = {"i0": (_i0_32, _i0_64), "i1": (_i1_32, _i1_64), "i0e": (_i0e_32, _i0e_64),
            "i1e": (_i1e_32, _i1e_64)}
# name -> (float32 function, float64 function), each computing in its dtype
_PER_DTYPE = {**CEPHES_I,
              "spherical_bessel_j0": (_spherical_bessel_j0_32, _spherical_bessel_j0_64)}
NAMES = tuple(_FLOAT64_FUNCTIONS) + tuple(_PER_DTYPE)
_UFUNCS: dict = {}


def ufunc(name, dtype=np.float64):
    """The NumPy ufunc of `name` for float32 (dtype float32) or float64 operands (any other
    dtype: float64), compiled on first use or loaded from the disk cache. One ufunc per
    dtype: numba builds a ufunc's loop wrappers in every process, and a float32 call needs
    neither the float64 loop nor its compile (the float32 i0's first call: half the cost)."""
    f32 = np.dtype(dtype) == np.float32
    key = (name, f32)
    u = _UFUNCS.get(key)
    if u is None:
        if name in _PER_DTYPE:      # (a ufunc's loops come from one Python function)
            fn = _PER_DTYPE[name][0 if f32 else 1]
        else:
            fn = _FLOAT64_FUNCTIONS[name]
        u = _UFUNCS[key] = vectorize(["float32(float32)" if f32 else "float64(float64)"], fn)
    return u


def apply(name, a):
    """name's values of float32 or float64 array a (a float64 result for float64, float32
    for float32), NumPy errors silenced as the array code's."""
    return np.asarray(ufunc(name, a.dtype)(a))
