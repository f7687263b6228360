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
from ._fma_intrinsics import fma as _fma_either, fma_f32 as _fma32, fma_f64 as _fma64
from .numba_helpers import njit, vectorize

__all__ = ["ufunc", "NAMES", "CEPHES_I", "FLOAT32_STEPS", "JIT64", "jit32", "jit64",
           "fma_ufunc"]

_F = np.float32


def _polevl_py(coeffs, z):
    p = coeffs[0]
    for i in range(1, len(coeffs)):
        p = p * z + coeffs[i]
    return p


_polevl = njit(_polevl_py)


def _arr(coeffs):
    return np.array(coeffs, np.float64)

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
_SQRT_2PI = 2.50662827463100050242     # (sqrt(2 pi): Cephes and ATen's s2pi)
_INV_SQRT_PI = 0.5641895835477563
_SQ2OPI = 0.7978845608028654
_TWO_OVER_PI = 0.6366197723675814
_PIO4, _3PIO4 = 0.7853981633974483, 2.356194490192345


# ------------------------------------------------------------------ ndtri, erfcx, log_ndtr

def _horner64_py(coeffs, z):
    """ATen's polevl `r = r * z + c` in double as GCC compiles torch 2.13: one FMA a step
    (float64 ndtri: 0 of 262k values differ from torch; 44% without the FMAs)."""
    r = coeffs[0]
    for i in range(1, len(coeffs)):
        r = _fma64(r, z, coeffs[i])
    return r


_horner64 = njit(_horner64_py)


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
        return _fma64(y, y2 * _horner64(_NDTRI_P0, y2) / _horner64(_NDTRI_Q0, y2), y) \
            * _SQRT_2PI
    r = math.sqrt(-2.0 * math.log(y))
    x0 = r - math.log(r) / r
    z = 1.0 / r
    if r < 8.0:
        x1 = z * _horner64(_NDTRI_P1, z) / _horner64(_NDTRI_Q1, z)
    else:
        x1 = z * _horner64(_NDTRI_P2, z) / _horner64(_NDTRI_Q2, z)
    r = x0 - x1
    if code:
        r = -r
    return r


# ATen's calc_erfcx (Math.h, from the Faddeeva package): erfcx_y100's 100 Chebyshev
# polynomials of y100 = 400 / (4 + x) for 0 <= x <= 50, the continued fraction's 5 terms
# above, 2 exp(x^2) - erfcx(-x) below 0. T's steps: for float, y100 and t are float, the
# polynomial (double coefficients) is double and rounded to float; exp(x * x) is C's double
# exp of the float square (the unqualified exp of Math.h), 2 exp(..) - erfcx_y100(..) is
# double, rounded once. torch 2.13 contracts only the continued fraction's double steps
# into FMAs (no FMA in the polynomial: 0 of 1M float64 values differ).
_ERFCX_Y100 = _arr(C._ERFCX_Y100)


def _erfcx_y100_64_py(y100):
    k = int(y100)
    if k >= 100:            # (y100 == 100: |x| < 4 eps, erfcx within 1e-15 of 1)
        return 1.0
    t = 2.0 * y100 - (2 * k + 1)
    c = _ERFCX_Y100[k]
    return c[0] + (c[1] + (c[2] + (c[3] + (c[4] + (c[5] + c[6] * t) * t) * t) * t) * t) * t


def _erfcx_y100_32_py(y100):
    k = int(y100)
    if k >= 100:
        return _F(1.0)
    t = np.float64(_F(_F(2.0) * y100) - _F(2 * k + 1))
    c = _ERFCX_Y100[k]
    return _F(c[0] + (c[1] + (c[2] + (c[3] + (c[4] + (c[5] + c[6] * t) * t) * t) * t) * t)
              * t)


_erfcx_y100_64 = njit(_erfcx_y100_64_py)
_erfcx_y100_32 = njit(_erfcx_y100_32_py)


def _erfcx_64_py(x):
    if x != x:
        return x
    if x >= 0.0:
        if x > 50.0:
            if x > 5e7:                 # (1 term: no overflow)
                return _INV_SQRT_PI / x
            xx = x * x
            return (_INV_SQRT_PI * _fma64(xx, xx + 4.5, 2.0)
                    / (x * _fma64(xx, xx + 5.0, 3.75)))
        return _erfcx_y100_64(400.0 / (4.0 + x))
    if x < -26.7:
        return math.inf
    if x < -6.1:
        return 2.0 * math.exp(x * x)
    return 2.0 * math.exp(x * x) - _erfcx_y100_64(400.0 / (4.0 - x))


_INV_SQRT_PI_32 = _F(_INV_SQRT_PI)


def _erfcx_32_py(x):
    if x != x:
        return x
    if x >= _F(0.0):
        if x > _F(50.0):
            if x > _F(5e7):
                return _INV_SQRT_PI_32 / x
            # (float32's x > 50: 1.8% of these differ from torch by an ulp: its steps here
            # are not the double ones of the float formula, nor float ones)
            xx = np.float64(x * x)
            return _F(np.float64(_INV_SQRT_PI_32) * _fma64(xx, xx + 4.5, 2.0)
                      / (np.float64(x) * _fma64(xx, xx + 5.0, 3.75)))
        return _erfcx_y100_32(_F(400.0) / (_F(4.0) + x))
    if x < _F(-26.7):
        return _F(math.inf)
    if x < _F(-6.1):
        return _F(2.0 * math.exp(np.float64(x * x)))
    return _F(2.0 * math.exp(np.float64(x * x))
              - np.float64(_erfcx_y100_32(_F(400.0) / (_F(4.0) - x))))


_erfcx_64 = njit(_erfcx_64_py)
_erfcx_32 = njit(_erfcx_32_py)
_SQRT1_2_32 = _F(0.7071067811865476)


def _log_ndtr_64_py(x):
    """ATen's calc_log_ndtr (SciPy's): log(erfcx(-t) / 2) - t^2 below -1, t = x / sqrt 2,
    log1p(-erfc(t) / 2) above (C's log / log1p / erfc; logf ... for float)."""
    t = x * 0.7071067811865476
    if x < -1.0:
        return math.log(_erfcx_64(-t) / 2.0) - t * t
    return math.log1p(-math.erfc(t) / 2.0)


def _log_ndtr_32_py(x):
    t = x * _SQRT1_2_32
    if x < _F(-1.0):
        return math.log(_erfcx_32(-t) / _F(2.0)) - t * t
    return math.log1p(-math.erfc(t) / _F(2.0))


# ------------------------------------------------------------------ erfinv
# torch 2.13's CPU erfinv of float and double is MKL's vsErfInv / vdErfInv (VML_HA, ATen's
# vml.h), not Math.h's calc_erfinv: its bits are MKL's, within an ulp of the correctly
# rounded value. gpujit computes that value: Giles' float polynomial ("Approximating the
# erfinv function", GPU Computing Gems 2010) for a first guess, Newton steps on erf (on erfc
# for |x| >= 0.5: 1 - |x| is exact there), and for float64 a last step whose residual
# erf(y) - |x| is carried in double-double (erf's Taylor series, |x| < 0.97): 3393 of 1M
# float64 values differ from torch's (MKL's rounding), 4 of 3000 from the correctly
# rounded value. Float32 rounds the float64 value of one plain step.
_ERFINV_CENTRAL = _arr((2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                        0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                        1.50140941))
_ERFINV_TAIL = _arr((-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                     0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682))


def _dd(decimal):
    """A decimal constant as a double-double (hi, lo)."""
    from fractions import Fraction
    f = Fraction(decimal)
    hi = float(f)
    return hi, float(f - Fraction(hi))


_K_HI, _K_LO = _dd("1.12837916709551257389615890312154517168810125866")     # 2 / sqrt(pi)
_C_HI, _C_LO = _dd("0.886226925452758013649083741670572591398774728061")    # sqrt(pi) / 2
_PI_12 = 0.26179938779914943654


def _erf_series():
    """erf(y) = 2 / sqrt(pi) y S(y^2), S(u) = sum_n (-1)^n u^n / (n! (2n + 1)): the
    coefficients of u^0 .. u^40 as double-doubles (hi array, lo array)."""
    from fractions import Fraction
    hi, lo = [], []
    for n in range(41):
        c = Fraction((-1) ** n, math.factorial(n) * (2 * n + 1))
        hi.append(float(c))
        lo.append(float(c - Fraction(hi[-1])))
    return _arr(hi), _arr(lo)


_ERF_S_HI, _ERF_S_LO = _erf_series()


def _erfinv_guess_py(ax):
    w = -math.log((1.0 - ax) * (1.0 + ax))
    if w < 5.0:
        return _polevl(_ERFINV_CENTRAL, w - 2.5) * ax
    return _polevl(_ERFINV_TAIL, math.sqrt(w) - 3.0) * ax


def _erfinv_step_py(y, ax):
    """One Newton step on erf(y) = ax (0 < ax < 1)."""
    if ax >= 0.5:
        r = (1.0 - ax) - math.erfc(y)
    else:
        r = math.erf(y) - ax
    return y - r / (_K_HI * math.exp(-y * y))


def _erf_residual_dd_py(y, ax):
    """erf(y) - ax with erf(y) a double-double: S's Horner steps in double, the last 2 / 4
    / 8 (by y) in double-double (0 < y < 1.6; each such step costs ~15 ns)."""
    u_hi = y * y
    u_lo = _fma64(y, y, -u_hi)
    # (the last term < 1e-19 of S; the double-double steps: within 1e-19 of S)
    if u_hi < 0.25:
        top, ndd = 15, 2
    elif u_hi < 1.2:
        top, ndd = 24, 4
    else:
        top, ndd = 40, 8
    p = _ERF_S_HI[top]
    for n in range(top - 1, ndd - 1, -1):
        p = p * u_hi + _ERF_S_HI[n]
    p_hi = p
    p_lo = 0.0
    for n in range(ndd - 1, -1, -1):
        m_hi = p_hi * u_hi          # (p_hi + p_lo) (u_hi + u_lo) + S_n
        m_lo = _fma64(p_hi, u_hi, -m_hi) + (p_hi * u_lo + p_lo * u_hi)
        s = m_hi + _ERF_S_HI[n]
        bb = s - m_hi
        e = (m_hi - (s - bb)) + (_ERF_S_HI[n] - bb)
        p_lo = e + m_lo + _ERF_S_LO[n]
        p_hi = s + p_lo
        p_lo = p_lo - (p_hi - s)
    q_hi = y * p_hi
    q_lo = _fma64(y, p_hi, -q_hi) + y * p_lo
    e_hi = _K_HI * q_hi
    e_lo = _fma64(_K_HI, q_hi, -e_hi) + (_K_HI * q_lo + _K_LO * q_hi)
    return (e_hi - ax) + e_lo


_erfinv_guess = njit(_erfinv_guess_py)
_erfinv_step = njit(_erfinv_step_py)
_erf_residual_dd = njit(_erf_residual_dd_py)


def _erfinv_64_py(x):
    if x != x or x < -1.0 or x > 1.0:
        return math.nan
    ax = abs(x)
    if ax == 1.0:
        return math.copysign(math.inf, x)
    if ax < 1e-7:           # sqrt(pi) / 2 (x + pi / 12 x^3), the constant a double-double
        if ax < 1e-290:     # (scaled: ax * _C_LO would lose its digits to underflow)
            a2 = ax * 1.2676506002282294e30            # 2^100
            return math.copysign(_fma64(a2, _C_HI, a2 * _C_LO) * 7.888609052210118e-31, x)
        return math.copysign(_fma64(ax, _C_HI, ax * (_C_LO + _C_HI * _PI_12 * ax * ax)), x)
    y = _erfinv_guess(ax)
    d = _K_HI * math.exp(-y * y)        # (erf'(y), kept for the last step: y moves < 1e-6)
    if ax >= 0.5:
        y = y - ((1.0 - ax) - math.erfc(y)) / d
    else:
        y = y - (math.erf(y) - ax) / d
    if ax < 0.97:
        r = _erf_residual_dd(y, ax)
    else:
        r = (1.0 - ax) - math.erfc(y)
    return math.copysign(y - r / d, x)


def _erfinv_32_py(x):
    xd = np.float64(x)
    if xd != xd or xd < -1.0 or xd > 1.0:
        return _F(math.nan)
    ax = abs(xd)
    if ax == 1.0:
        return _F(math.copysign(math.inf, xd))
    if ax < 1e-7:
        return _F(math.copysign(_fma64(ax, _C_HI, ax * _C_LO), xd))
    y = _erfinv_step(_erfinv_guess(ax), ax)  # (one step: within ~1e-14 of erfinv(x))
    return _F(math.copysign(y, xd))


# ------------------------------------------------------------------ Bessel functions

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


# ------------------------------------------------------------------ airy_ai

# ------------------------------------------------------------------ ATen's calc_i0 ... in dtype
# Chebyshev series with b0 = fma(t, b1, -b2) + c (GCC's contraction in PyTorch's CPU
# build), in float32 for float32 (the float tables: i1 / i1e the last 17 and 7 terms),
# exp(|x|) of float32 libm's expf (torch 2.13's bits: every float32 |x| <= 8 of a dense
# sweep; the float64 exp rounded missed 26 of 50001)

_I1_A32 = np.array(C._MB_I1_A[-17:], np.float32)
_I1_B32 = np.array(C._MB_I1_B[-7:], np.float32)
_I0_A32 = np.array(C._MB_I0_A, np.float32)
_I0_B32 = np.array(C._MB_I0_B, np.float32)


def _chb32_py(coeffs, t):
    # (the first step's `t * c0 - 0 + c1`: GCC folds the `- 0`, one FMA)
    b2 = _F(0.0)
    b1 = _F(coeffs[0])
    b0 = _fma32(t, b1, _F(coeffs[1]))
    for i in range(2, len(coeffs)):
        b2 = b1
        b1 = b0
        b0 = _F(_fma32(t, b1, -b2) + _F(coeffs[i]))
    return _F(_F(0.5) * _F(b0 - b2))


def _chb64_py(coeffs, t):
    b2 = 0.0
    b1 = coeffs[0]
    b0 = _fma64(t, b1, coeffs[1])
    for i in range(2, len(coeffs)):
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
            e = math.exp(x)
            r = _F(_F(e * x) * r) if order else _F(e * r)
        elif order:
            r = _F(r * x)
    else:
        t = _F(_F(_F(32.0) / x) - _F(2.0))
        r = _chb32(_I0_B32, t) if order == 0 else _chb32(_I1_B32, t)
        if not scaled:
            r = _F(math.exp(x) * r)
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


# ------------------------------------------------------------------ float32 in float32
# ATen's Math.h templates instantiated for float: the float coefficient tables, float steps,
# libm's float functions (sinf, cosf, expf, logf: math.* of a float32 in numba) and the
# FMAs GCC contracts in PyTorch's CPU build (a * b + c where the product's only use is the
# sum: Horner's steps, Clenshaw's t * b1 - b2, the left product of p * c - q * s); torch
# 2.13's float32 bits over dense sweeps of each function's branches

def _f32s(coeffs):
    return np.array(coeffs, np.float32)


_J0_RP32, _J0_RQ32 = _f32s(C._BESSEL_J0_RP), _f32s(C._BESSEL_J0_RQ)
_J0_PP32, _J0_PQ32 = _f32s(C._BESSEL_J0_PP), _f32s(C._BESSEL_J0_PQ)
_J0_QP32, _J0_QQ32 = _f32s(C._BESSEL_J0_QP), _f32s(C._BESSEL_J0_QQ)
_J1_RP32, _J1_RQ32 = _f32s(C._BESSEL_J1_RP), _f32s(C._BESSEL_J1_RQ)
_J1_PP32, _J1_PQ32 = _f32s(C._BESSEL_J1_PP), _f32s(C._BESSEL_J1_PQ)
_J1_QP32, _J1_QQ32 = _f32s(C._BESSEL_J1_QP), _f32s(C._BESSEL_J1_QQ)
_Y0_YP32, _Y0_YQ32 = _f32s(C._BESSEL_Y0_YP), _f32s(C._BESSEL_Y0_YQ)
_Y1_YP32, _Y1_YQ32 = _f32s(C._BESSEL_Y1_YP), _f32s(C._BESSEL_Y1_YQ)
_MI1_A32, _MI1_B32 = _f32s(C._MB_I1_A), _f32s(C._MB_I1_B)
_K0_A32, _K0_B32 = _f32s(C._MB_K0_A), _f32s(C._MB_K0_B)
_K1_A32, _K1_B32 = _f32s(C._MB_K1_A), _f32s(C._MB_K1_B)
_NDTRI_P0_32, _NDTRI_Q0_32 = _f32s(C._NDTRI_P0), _f32s(C._NDTRI_Q0)
_NDTRI_P1_32, _NDTRI_Q1_32 = _f32s(C._NDTRI_P1), _f32s(C._NDTRI_Q1)
_NDTRI_P2_32, _NDTRI_Q2_32 = _f32s(C._NDTRI_P2), _f32s(C._NDTRI_Q2)
_AI_AN32, _AI_AD32 = _f32s(C._AIRY_AI_AN), _f32s(C._AIRY_AI_AD)
_AI_AFN32, _AI_AFD32 = _f32s(C._AIRY_AI_AFN), _f32s(C._AIRY_AI_AFD)
_AI_AGN32, _AI_AGD32 = _f32s(C._AIRY_AI_AGN), _f32s(C._AIRY_AI_AGD)
_PIO4_32, _3PIO4_32 = _F(0.7853981633974483), _F(2.356194490192345)
_SQ2OPI_32, _TWO_OVER_PI_32 = _F(0.7978845608028654), _F(0.6366197723675814)


def _horner32_py(coeffs, z):
    """ATen's `r = r * z + c` from r = 0 as GCC compiled it: one FMA a step."""
    r = coeffs[0]
    for i in range(1, len(coeffs)):
        r = _fma32(r, z, coeffs[i])
    return r


_horner32 = njit(_horner32_py)


def _hankel32_py(x, w, pp, pq, qp, qq, shift, y_form):
    """The large-x form of j0 / j1 / y0 / y1: w is 25 / x^2 (j0, y0) or (5 / x)^2."""
    p = _horner32(pp, w) / _horner32(pq, w)
    q = _F(5.0) / x * (_horner32(qp, w) / _horner32(qq, w))
    s = math.sin(x - shift)
    c = math.cos(x - shift)
    if y_form:
        r = _fma32(p, s, q * c)
    else:
        r = _fma32(p, c, -(q * s))
    return r * _SQ2OPI_32 / math.sqrt(x)


_hankel32 = njit(_hankel32_py)


def _bessel_j0_32_py(x):
    if x < _F(0.0):
        x = -x
    if x <= _F(5.0):
        if x < _F(1e-5):
            return _F(1.0) - x * x / _F(4.0)
        z = x * x
        return (z - _F(5.78318596294678452118)) * (z - _F(30.4712623436620863991)) \
            * _horner32(_J0_RP32, z) / _horner32(_J0_RQ32, z)
    return _hankel32(x, _F(25.0) / (x * x), _J0_PP32, _J0_PQ32, _J0_QP32, _J0_QQ32,
                     _PIO4_32, False)


def _bessel_j1_32_py(x):
    neg = x < _F(0.0)
    if neg:
        x = -x
    if x <= _F(5.0):
        z = x * x
        r = _horner32(_J1_RP32, z) / _horner32(_J1_RQ32, z) * x \
            * (z - _F(14.6819706421238932572)) * (z - _F(49.2184563216946036703))
    else:
        w = _F(5.0) / x
        r = _hankel32(x, w * w, _J1_PP32, _J1_PQ32, _J1_QP32, _J1_QQ32, _3PIO4_32, False)
    if neg:
        return -r
    return r


_bessel_j0_32 = njit(_bessel_j0_32_py)
_bessel_j1_32 = njit(_bessel_j1_32_py)


def _bessel_y0_32(x):
    if x <= _F(5.0):
        if x == _F(0.0):
            return _F(-math.inf)
        if x < _F(0.0):
            return _F(math.nan)
        z = x * x
        return _fma32(_TWO_OVER_PI_32 * math.log(x), _bessel_j0_32(x),
                      _horner32(_Y0_YP32, z) / _horner32(_Y0_YQ32, z))
    return _hankel32(x, _F(25.0) / (x * x), _J0_PP32, _J0_PQ32, _J0_QP32, _J0_QQ32,
                     _PIO4_32, True)


def _bessel_y1_32(x):
    if x <= _F(5.0):
        if x == _F(0.0):
            return _F(-math.inf)
        if x < _F(0.0):
            return _F(math.nan)
        z = x * x
        return _fma32(x, _horner32(_Y1_YP32, z) / _horner32(_Y1_YQ32, z), _TWO_OVER_PI_32
                      * _fma32(_bessel_j1_32(x), math.log(x), -(_F(1.0) / x)))
    w = _F(5.0) / x
    return _hankel32(x, w * w, _J1_PP32, _J1_PQ32, _J1_QP32, _J1_QQ32, _3PIO4_32, True)


# the same steps in double (ATen's templates of T = double, the FMAs GCC contracts them to)
def _hankel64_py(x, w, pp, pq, qp, qq, shift, y_form):
    p = _horner64(pp, w) / _horner64(pq, w)
    q = 5.0 / x * (_horner64(qp, w) / _horner64(qq, w))
    s = math.sin(x - shift)
    c = math.cos(x - shift)
    if y_form:
        r = _fma64(p, s, q * c)
    else:
        r = _fma64(p, c, -(q * s))
    return r * _SQ2OPI / math.sqrt(x)


_hankel64 = njit(_hankel64_py)


def _bessel_j0_64_py(x):
    if x < 0.0:
        x = -x
    if x <= 5.0:
        if x < 1e-5:
            return 1.0 - x * x / 4.0
        z = x * x
        return (z - 5.78318596294678452118) * (z - 30.4712623436620863991) \
            * _horner64(_J0_RP, z) / _horner64(_J0_RQ, z)
    return _hankel64(x, 25.0 / (x * x), _J0_PP, _J0_PQ, _J0_QP, _J0_QQ, _PIO4, False)


def _bessel_j1_64_py(x):
    neg = x < 0.0
    if neg:
        x = -x
    if x <= 5.0:
        z = x * x
        r = _horner64(_J1_RP, z) / _horner64(_J1_RQ, z) * x \
            * (z - 14.6819706421238932572) * (z - 49.2184563216946036703)
    else:
        w = 5.0 / x
        r = _hankel64(x, w * w, _J1_PP, _J1_PQ, _J1_QP, _J1_QQ, _3PIO4, False)
    if neg:
        return -r
    return r


_bessel_j0_64 = njit(_bessel_j0_64_py)
_bessel_j1_64 = njit(_bessel_j1_64_py)


def _bessel_y0_64(x):
    if x <= 5.0:
        if x == 0.0:
            return -math.inf
        if x < 0.0:
            return math.nan
        z = x * x
        return _fma64(_TWO_OVER_PI * math.log(x), _bessel_j0_64(x),
                      _horner64(_Y0_YP, z) / _horner64(_Y0_YQ, z))
    return _hankel64(x, 25.0 / (x * x), _J0_PP, _J0_PQ, _J0_QP, _J0_QQ, _PIO4, True)


def _bessel_y1_64(x):
    if x <= 5.0:
        if x == 0.0:
            return -math.inf
        if x < 0.0:
            return math.nan
        z = x * x
        return _fma64(x, _horner64(_Y1_YP, z) / _horner64(_Y1_YQ, z), _TWO_OVER_PI
                      * _fma64(_bessel_j1_64(x), math.log(x), -(1.0 / x)))
    w = 5.0 / x
    return _hankel64(x, w * w, _J1_PP, _J1_PQ, _J1_QP, _J1_QQ, _3PIO4, True)


def _modified_bessel_i0_32_py(x):
    a = abs(x)
    if a <= _F(8.0):
        return math.exp(a) * _chb32(_I0_A32, a / _F(2.0) - _F(2.0))
    return math.exp(a) * _chb32(_I0_B32, _F(32.0) / a - _F(2.0)) / math.sqrt(a)


def _modified_bessel_i1_32_py(x):
    a = abs(x)
    if a <= _F(8.0):
        r = _chb32(_MI1_A32, a / _F(2.0) - _F(2.0)) * a * math.exp(a)
    else:
        r = math.exp(a) * _chb32(_MI1_B32, _F(32.0) / a - _F(2.0)) / math.sqrt(a)
    if x < _F(0.0):
        return -r
    return r


_modified_bessel_i0_32 = njit(_modified_bessel_i0_32_py)
_modified_bessel_i1_32 = njit(_modified_bessel_i1_32_py)


def _bessel_k32_py(x, order, scaled):
    if x == _F(0.0):
        return _F(math.inf)
    if x < _F(0.0):
        return _F(math.nan)
    if x <= _F(2.0):
        t = _fma32(x, x, _F(-2.0))
        if order == 0:
            a = _chb32(_K0_A32, t)
            if scaled:
                r = _fma32(-math.log(_F(0.5) * x), _modified_bessel_i0_32(x), a)
                return r * math.exp(x)
            # (the unscaled form's log(0.5 * x) is a double's: ATen writes 0.5, not T(0.5))
            return _F(_fma64(-math.log(0.5 * np.float64(x)),
                             np.float64(_modified_bessel_i0_32(x)), np.float64(a)))
        r = _fma32(math.log(_F(0.5) * x), _modified_bessel_i1_32(x),
                   _chb32(_K1_A32, t) / x)
        if scaled:
            return r * math.exp(x)
        return r
    r = _chb32(_K0_B32 if order == 0 else _K1_B32, _F(8.0) / x - _F(2.0))
    if scaled:
        return r / math.sqrt(x)
    return math.exp(-x) * r / math.sqrt(x)


_bessel_k32 = njit(_bessel_k32_py)


# the same steps in double (ATen's templates of T = double, with GCC's FMAs)
def _modified_bessel_i0_64_py(x):
    a = abs(x)
    if a <= 8.0:
        return math.exp(a) * _chb64(_I0_A, a / 2.0 - 2.0)
    return math.exp(a) * _chb64(_I0_B, 32.0 / a - 2.0) / math.sqrt(a)


def _modified_bessel_i1_64_py(x):
    a = abs(x)
    if a <= 8.0:
        r = _chb64(_I1_A, a / 2.0 - 2.0) * a * math.exp(a)
    else:
        r = math.exp(a) * _chb64(_I1_B, 32.0 / a - 2.0) / math.sqrt(a)
    if x < 0.0:
        return -r
    return r


_modified_bessel_i0_64 = njit(_modified_bessel_i0_64_py)
_modified_bessel_i1_64 = njit(_modified_bessel_i1_64_py)


def _bessel_k64_py(x, order, scaled):
    if x == 0.0:
        return math.inf
    if x < 0.0:
        return math.nan
    if x <= 2.0:
        t = _fma64(x, x, -2.0)
        if order == 0:
            r = _fma64(-math.log(0.5 * x), _modified_bessel_i0_64(x), _chb64(_K0_A, t))
        else:
            r = _fma64(math.log(0.5 * x), _modified_bessel_i1_64(x), _chb64(_K1_A, t) / x)
        if scaled:
            return r * math.exp(x)
        return r
    r = _chb64(_K0_B if order == 0 else _K1_B, 8.0 / x - 2.0)
    if scaled:
        return r / math.sqrt(x)
    return math.exp(-x) * r / math.sqrt(x)


def _ndtri_32(y0):
    if y0 == _F(0.0):
        return _F(-math.inf)
    if y0 == _F(1.0):
        return _F(math.inf)
    if y0 < _F(0.0) or y0 > _F(1.0):
        return _F(math.nan)
    code = True
    y = y0
    if y > _F(1.0) - _F(0.13533528323661269189):
        y = _F(1.0) - y
        code = False
    if y > _F(0.13533528323661269189):
        y = y - _F(0.5)
        y2 = y * y
        r = _fma32(y, y2 * _horner32(_NDTRI_P0_32, y2) / _horner32(_NDTRI_Q0_32, y2), y)
        return r * _F(2.50662827463100050242)
    # (C's log: double steps, rounded to float where ATen assigns a T)
    x = _F(math.sqrt(-2.0 * math.log(np.float64(y))))
    xd = np.float64(x)
    x0 = _F(xd - math.log(xd) / xd)
    z = _F(1.0) / x
    if x < _F(8.0):
        x1 = z * _horner32(_NDTRI_P1_32, z) / _horner32(_NDTRI_Q1_32, z)
    else:
        x1 = z * _horner32(_NDTRI_P2_32, z) / _horner32(_NDTRI_Q2_32, z)
    x = x0 - x1
    if code:
        return -x
    return x


def _airy_ai_32(x):
    if x == math.inf or x == -math.inf:
        return _F(math.nan)
    if x > _F(103.892):
        return _F(0.0)
    if x < _F(-2.09):
        zeta = _F(-2.0) * x * math.sqrt(-x) / _F(3.0)
        z = _F(1.0) / zeta
        z2 = z * z
        afn = _horner32(_AI_AFN32, z2)
        afd = _horner32(_AI_AFD32, z2)
        agn = _horner32(_AI_AGN32, z2)
        agd = _horner32(_AI_AGD32, z2)
        t = zeta + _F(0.25) * _F(math.pi)
        return _F(0.564189583547756286948) / math.sqrt(math.sqrt(-x)) * _fma32(
            math.sin(t), _F(1.0) + z2 * afn / afd, -(math.cos(t) * (z * agn / agd)))
    if x >= _F(2.09):
        zeta = _F(2.0) * x * math.sqrt(x) / _F(3.0)
        w = _F(1.0) / zeta
        return _F(0.564189583547756286948) * (_horner32(_AI_AN32, w) / _horner32(_AI_AD32, w)) \
            / (_F(2.0) * math.sqrt(math.sqrt(x)) * math.exp(zeta))
    f = _F(1.0)
    g = x
    k = _F(1.0)
    m = _F(1.0)
    n = x
    t = _F(1.0)
    z = x * x * x
    while t > _F(1.1920928955078125e-07):
        m = m * z
        k = k + _F(1.0)
        m = m / k
        n = n * z
        k = k + _F(1.0)
        n = n / k
        m = m / k
        f = f + m
        k = k + _F(1.0)
        n = n / k
        g = g + n
        t = abs(m / f)
    return _fma32(_F(0.355028053887817239260), f, -(_F(0.258819403792806798405) * g))


def _airy_ai_64(x):
    """airy_ai_forward's steps in double (with GCC's FMAs), as _airy_ai_32's in float."""
    if x == math.inf or x == -math.inf:
        return math.nan
    if x > 103.892:
        return 0.0
    if x < -2.09:
        zeta = -2.0 * x * math.sqrt(-x) / 3.0
        z = 1.0 / zeta
        z2 = z * z
        afn = _horner64(_AI_AFN, z2)
        afd = _horner64(_AI_AFD, z2)
        agn = _horner64(_AI_AGN, z2)
        agd = _horner64(_AI_AGD, z2)
        t = zeta + 0.25 * math.pi
        return 0.564189583547756286948 / math.sqrt(math.sqrt(-x)) * _fma64(
            math.sin(t), 1.0 + z2 * afn / afd, -(math.cos(t) * (z * agn / agd)))
    if x >= 2.09:
        zeta = 2.0 * x * math.sqrt(x) / 3.0
        w = 1.0 / zeta
        return 0.564189583547756286948 * (_horner64(_AI_AN, w) / _horner64(_AI_AD, w)) \
            / (2.0 * math.sqrt(math.sqrt(x)) * math.exp(zeta))
    f = 1.0
    g = x
    k = 1.0
    m = 1.0
    n = x
    t = 1.0
    z = x * x * x
    while t > 2.220446049250313e-16:
        m = m * z
        k = k + 1.0
        m = m / k
        n = n * z
        k = k + 1.0
        n = n / k
        m = m / k
        f = f + m
        k = k + 1.0
        n = n / k
        g = g + n
        t = abs(m / f)
    return _fma64(0.355028053887817239260, f, -(0.258819403792806798405 * g))


# name -> (float32 function, float64 function), each computing in its dtype (ATen's steps in
# T with the FMAs GCC contracts them to: torch 2.13's bits)
_PER_DTYPE = {"erfcx": (_erfcx_32_py, _erfcx_64_py), "erfinv": (_erfinv_32_py, _erfinv_64_py),
              "log_ndtr": (_log_ndtr_32_py, _log_ndtr_64_py),
              "spherical_bessel_j0": (_spherical_bessel_j0_32, _spherical_bessel_j0_64),
              "bessel_j0": (_bessel_j0_32_py, _bessel_j0_64_py),
              "bessel_j1": (_bessel_j1_32_py, _bessel_j1_64_py),
              "bessel_y0": (_bessel_y0_32, _bessel_y0_64),
              "bessel_y1": (_bessel_y1_32, _bessel_y1_64),
              "modified_bessel_i0": (_modified_bessel_i0_32_py, _modified_bessel_i0_64_py),
              "modified_bessel_i1": (_modified_bessel_i1_32_py, _modified_bessel_i1_64_py),
              "ndtri": (_ndtri_32, _ndtri), "airy_ai": (_airy_ai_32, _airy_ai_64)}
# families of functions of (x, order, scaled), one ufunc of three inputs a family:
# name -> (family, order, scaled); family -> (float32 function, float64 function)
_FAMILIES = {"cephes_i": (_cephes_i32_py, _cephes_i64_py),       # ATen's calc_i0 ...
             "bessel_k": (_bessel_k32_py, _bessel_k64_py)}
_FORMS = {"i0": ("cephes_i", 0, False), "i1": ("cephes_i", 1, False),
          "i0e": ("cephes_i", 0, True), "i1e": ("cephes_i", 1, True),
          "modified_bessel_k0": ("bessel_k", 0, False),
          "modified_bessel_k1": ("bessel_k", 1, False),
          "scaled_modified_bessel_k0": ("bessel_k", 0, True),
          "scaled_modified_bessel_k1": ("bessel_k", 1, True)}
CEPHES_I = ("i0", "i1", "i0e", "i1e")
NAMES = tuple(_PER_DTYPE) + tuple(_FORMS)
# the ops whose float32 ufunc computes ATen's float steps (not the float64 value rounded)
FLOAT32_STEPS = tuple(n for n in NAMES if n not in CEPHES_I)
_UFUNCS: dict = {}
_JIT32: dict = {}
# the ops whose fused float64 CPU code calls this file's float64 function (jit64), not
# kernels/prims_special.py's text
JIT64 = ("erfcx", "log_ndtr", "erfinv", "ndtri", "bessel_j0", "bessel_j1", "bessel_y0",
         "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
         "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
         "airy_ai")


def jit32(name):
    """(numba function, its arguments after x): name's float32 function (ATen's float
    steps), what the fused CPU kernels call (kernels/prims_special.py), so that fused and
    eager give one value."""
    family, *args = _FORMS.get(name, (name,))
    f = _JIT32.get(family)
    if f is None:
        f = _JIT32[family] = njit(_FAMILIES[family][0] if family in _FAMILIES
                                  else _PER_DTYPE[family][0])
    return f, tuple(args)


def jit64(name):
    """(numba function, its arguments after x): name's float64 function (one of JIT64), for
    the fused CPU kernels (kernels/prims_special.py): fused and eager give one value."""
    family, *args = _FORMS.get(name, (name,))
    f = _JIT32.get((family, 64))
    if f is None:
        f = _JIT32[(family, 64)] = (_erfcx_64 if family == "erfcx" else njit(
            _FAMILIES[family][1] if family in _FAMILIES else _PER_DTYPE[family][1]))
    return f, tuple(args)


def ufunc(name, dtype=np.float64):
    """The NumPy ufunc of `name` for float32 or float64 arrays (`dtype`; of x, order and
    scaled for a family's name), compiled on the first use of that dtype or loaded from
    the disk cache: a float32 call does not compile the float64 loop (each costs ~0.3-0.7 s
    cold)."""
    key = _FORMS[name][0] if name in _FORMS else name
    f32 = np.dtype(dtype) == np.float32
    u = _UFUNCS.get((key, f32))
    if u is None:
        t = "float32" if f32 else "float64"
        # (a float32 and a float64 form: a ufunc's loops come from one Python function, so
        # the two forms of a family or a per-dtype function are separate ufuncs)
        if key in _FAMILIES:
            u = vectorize([f"{t}({t}, int64, boolean)"], _FAMILIES[key][0 if f32 else 1])
        else:
            u = vectorize([f"{t}({t})"], _PER_DTYPE[key][0 if f32 else 1])
        _UFUNCS[(key, f32)] = u
    return u


def _fma_py(a, b, c):
    return _fma_either(a, b, c)


def fma_ufunc():
    """a * b + c rounded once, of float32 (or float64) arrays: the FMAs GCC contracts
    ATen's steps to, for the array code (ops/special_more.py's polynomials)."""
    u = _UFUNCS.get("fma")
    if u is None:
        u = _UFUNCS["fma"] = vectorize(["float32(float32, float32, float32)",
                                        "float64(float64, float64, float64)"], _fma_py)
    return u


def apply(name, a):
    """name's values of float32 or float64 array a (a float64 result for float64, float32
    for float32), NumPy errors silenced as the array code's."""
    u = ufunc(name, a.dtype)
    if name in _FORMS:
        _, order, scaled = _FORMS[name]
        return np.asarray(u(a, np.int64(order), np.bool_(scaled)))
    return np.asarray(u(a))
