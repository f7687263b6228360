"""erf, erfc, erfinv, lgamma, digamma and polygamma over an array namespace (NumPy has
none of them, and gpujit does not depend on SciPy).

On NumPy erf and erfc are `numba.vectorize` ufuncs of `math.erf` / `math.erfc` (libm's),
lgamma Sleef's lgammaf_u1 / lgamma_u1 as PyTorch's CPU kernel (ops/_sleef_lgamma.py),
compiled on first use (numba is imported then,
not when gpujit is imported) and cached under gpujit's cache directory; float16 goes through float32, integers through float64.
`erfinv` is a rational first guess refined by Newton steps on `erf` (ops/_special_kernels).
On CuPy, `cupyx.scipy.special` has erf, erfc, erfinv and gammaln.

digamma and polygamma are PyTorch's algorithms (ATen's Math.h, from Cephes) written once
as array code over `xp`, in float64, so NumPy and CuPy compute them alike (and the fused
kernels' `_digamma_*` primitive, kernels/prims.py, is the same formula per element);
float32 and float16 digamma on NumPy are ATen's float version, in float32 arithmetic
(a numba ufunc; the kernels' `_digamma_f32`).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["erf", "aten_vec_erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma"]

_UFUNCS: dict = {}


def _erf_scalar(x):
    return math.erf(x)


def _erfc_scalar(x):
    return math.erfc(x)


_SCALAR = {"erf": _erf_scalar, "erfc": _erfc_scalar}
_SIGNATURES: dict = {}


def _ufunc(name):
    u = _UFUNCS.get(name)
    if u is None:
        # lazy: the first erf call pays numba's import and the compile (or the load from
        # gpujit's cache directory, ops/numba_helpers.py)
        from .numba_helpers import vectorize
        u = vectorize(_SIGNATURES.get(name, ["float32(float32)", "float64(float64)"]),
                      _SCALAR[name])
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
    dt = getattr(a, "dtype", None)
    if dt == np.float16:
        return aten_vec_erf(xp, a).astype(np.float16)
    if dt == np.float32:
        # (libm's erff bit for bit, compiled: ops/_erf_kernel.py)
        from . import _erf_kernel as _k
        if _k.agrees_with_libm():
            return _k.erf_f32(np.asarray(a))
    return _numpy_apply("erf", a)


def aten_vec_erf(xp, a):
    """erf as PyTorch's CPU kernels compute it for float16 and bfloat16: ATen's vectorized
    float erf (Abramowitz and Stegun 7.1.26 with Sleef's expf, ops/_aten_erf_kernel.py) of
    the value in float32, a float32 result for the caller to round (libm's erff rounded
    differed from torch on 6584 of the 65536 halves, 28690 bfloat16 values). float32
    itself is MKL's vsErf in torch (not this). CuPy: its erf."""
    if xp is not np:
        return erf(xp, a)
    from ._aten_erf_kernel import aten_erf
    with np.errstate(all="ignore"):
        return np.asarray(aten_erf(np.asarray(a).astype(np.float32, copy=False)))


def erfc(xp, a):
    if xp is not np:
        from cupyx.scipy.special import erfc as f
        return f(a)
    return _numpy_apply("erfc", a)


def lgamma(xp, a):
    """log|gamma(x)|: +inf at 0, -0, the negative integers and +-inf (NumPy: Sleef's
    algorithm, ops/_sleef_lgamma.py; CuPy: cupyx's gammaln)."""
    if xp is not np:
        from cupyx.scipy.special import gammaln as f
        # CuPy's gammaln gives -inf at -inf (SciPy's old answer); libm and PyTorch +inf
        r = f(a)
        return xp.where(xp.isneginf(a), xp.asarray(math.inf, r.dtype), r)
    # (Sleef's lgammaf_u1 / lgamma_u1, what ATen's vectorized CPU kernel computes: torch
    # 2.13's bits; libm's lgamma differed on 29% of float32 and 24% of float64 values)
    from ._sleef_lgamma import apply
    return apply(np.asarray(a))


def _horner(coeffs, w):
    p = coeffs[0]
    for c in coeffs[1:]:
        p = p * w + c
    return p


def erfinv(xp, a):
    """The inverse error function: ops/_special_kernels' numba ufuncs (Giles' guess, Newton
    steps, float64's last one in double-double: the correctly rounded value but for a
    few in 10^5; torch's CPU erfinv is MKL's vsErfInv, within an ulp of it). +-inf at
    +-1, NaN outside [-1, 1]. float16 and bfloat16 round the float32 value, integers give
    float64 (the op's promotion makes them float32 first)."""
    if xp is not np:
        from cupyx.scipy.special import erfinv as f
        return f(a)
    from ._special_kernels import apply
    a = np.asarray(a)
    dt = a.dtype
    with np.errstate(all="ignore"):
        if dt == np.float32 or dt == np.float64:
            return apply("erfinv", a)
        if dt.kind == "f" and dt.itemsize < 4:
            return apply("erfinv", a.astype(np.float32)).astype(dt)
        return apply("erfinv", a.astype(np.float64))


# ------------------------------------------------------------------ digamma, polygamma
# PyTorch's calc_digamma (double): reflection for x < 0, the recurrence up to x >= 10, then
# the asymptotic series; psi(+-0) = -+inf, NaN at the negative integers and -inf
_PSI_10 = 2.25175258906672110764
_PSI_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
          -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
          8.33333333333333333333E-2)


def _float_out(a):
    return a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)


def digamma(xp, a):
    a = xp.asarray(a)
    out_dt = _float_out(a)
    if xp is np and out_dt in (np.float32, np.float16):
        # (float32 arithmetic as ATen's float kernel; float16 rounds its float32 value)
        from ._trigamma_kernel import digamma_ufunc
        with np.errstate(all="ignore"):
            r = digamma_ufunc(np.float32)(a.astype(np.float32, copy=False))
        return np.asarray(r).astype(out_dt, copy=False)
    if xp is np:
        # (float64 and the integers: ATen's double version with C's log and tan)
        from ._trigamma_kernel import digamma_ufunc
        with np.errstate(all="ignore"):
            r = digamma_ufunc(np.float64)(a.astype(np.float64))
        return np.asarray(r).astype(out_dt, copy=False)
    x = a.astype(np.float64)
    with np.errstate(all="ignore"):
        trunc = xp.trunc(x)
        neg = x < 0
        # psi(x) = psi(1 - x) - pi / tan(pi * r), r the fractional part of x (more exact
        # than pi * x for |x| > 1)
        refl = xp.where(neg, math.pi / xp.tan(math.pi * (x - trunc)), 0.0)
        y = xp.where(neg, 1.0 - x, x)
        res = xp.zeros_like(y)
        for _ in range(10):                     # y in (0, 10): at most 10 steps to 10
            m = y < 10.0
            res = xp.where(m, res - 1.0 / y, res)
            y = xp.where(m, y + 1.0, y)
        z = 1.0 / (y * y)
        series = xp.where(y < 1.0e17, z * _horner(_PSI_A, z), 0.0)
        r = xp.where(y == 10.0, res + _PSI_10, res + xp.log(y) - 0.5 / y - series) - refl
        r = xp.where(x == 0, xp.copysign(xp.asarray(math.inf), -x), r)
        r = xp.where(neg & (x == trunc), math.nan, r)
    return r.astype(out_dt, copy=False)


# Cephes' zeta(x, q) (PyTorch's zeta): the direct sum until the terms are negligible (at
# least 9 terms and q + k > 9), then Euler-Maclaurin with the Bernoulli numbers below
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)
_MACHEP = 1.11022302462515654042E-16


def _zeta(xp, x, q):
    """The Hurwitz zeta function zeta(x, q) = sum over k >= 0 of (q + k) ** -x, for a
    Python float x > 1 and a float64 array q: +inf at q = 0, -1, -2 ... and -inf. Each
    element runs Cephes' loop (masked); a negative q takes about |q| passes, as PyTorch's
    loop takes |q| steps."""
    with np.errstate(all="ignore"):
        pole = (q <= 0) & (q == xp.floor(q))
        s = xp.power(q, -x)
        a = q
        b = xp.zeros_like(q)
        done = pole
        i = 0
        while True:
            go = ~done if i < 9 else ~done & (a <= 9.0)
            if i >= 9 and not bool(go.any()):
                break
            i += 1
            a = xp.where(go, a + 1.0, a)
            t = xp.power(a, -x)
            b = xp.where(go, t, b)
            s = xp.where(go, s + t, s)
            done = done | (go & (-_MACHEP * s < b) & (b < _MACHEP * s))
        em = ~done                      # the rest: Euler-Maclaurin
        w = a
        s = xp.where(em, s + b * w / (x - 1.0) - 0.5 * b, s)
        fac, k = 1.0, 0.0
        for c in _ZETA_A:
            fac *= x + k
            b = b / w
            t = fac * b / c
            s = xp.where(em, s + t, s)
            em = em & ~(xp.abs(t / s) < _MACHEP)
            k += 1.0
            fac *= x + k
            b = b / w
            k += 1.0
        return xp.where(pole, math.inf, s)


def _trigamma_xp(xp, a, out_dt):
    """ATen's trigamma series (CUDA's calc_trigamma: the CPU kernel's steps, in float for
    float32 / float16 / bfloat16, double for float64) on xp's arrays: the reflection's
    large finite values at the negative poles as the CPU's, 0 at +inf, NaN at -inf."""
    ct = np.float64 if out_dt == np.float64 else np.float32
    x = a.astype(ct)
    with np.errstate(all="ignore"):
        neg = x < 0.5
        s = xp.sin(ct(math.pi) * x)
        result = xp.where(neg, -(ct(math.pi) * ct(math.pi)) / (s * s), ct(0.0))
        x = xp.where(neg, 1.0 - x, x)
        for _ in range(6):
            result = result + 1.0 / (x * x)
            x = x + 1.0
        ixx = 1.0 / (x * x)
        result = result + (1.0 + 1.0 / (2.0 * x) + ixx * (ct(1.0 / 6.0) - ixx * (
            ct(1.0 / 30.0) - ixx * ct(1.0 / 42.0)))) / x
        r = xp.where(neg, -result, result)
    return r.astype(out_dt, copy=False)


def polygamma(xp, n, a):
    """The n-th derivative of digamma: digamma for n = 0, ATen's trigamma series for n = 1
    on NumPy (its large finite values at the negative poles, 0 at +inf, NaN at -inf), else
    (-1) ** (n + 1) n! zeta(n + 1, x) (PyTorch's formula)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(xp, a)
    a = xp.asarray(a)
    out_dt = _float_out(a)
    if n == 1 and xp is np:
        # ATen's trigamma (float32 steps for float32, float16 and bfloat16, which round
        # it; float64's in double): the zeta form differed from torch 2.13 on 59% of
        # float32 and 95% of float64 values
        from ._trigamma_kernel import trigamma_f32, trigamma_f64
        f = trigamma_f32 if out_dt in (np.float32, np.float16) else trigamma_f64
        with np.errstate(all="ignore"):
            r = f(a.astype(np.float32 if f is trigamma_f32 else np.float64, copy=False))
        return np.asarray(r).astype(out_dt, copy=False)
    if n == 1:
        return _trigamma_xp(xp, a, out_dt)
    if xp is np and out_dt in (np.float32, np.float64):
        # (ATen's calc_polygamma: exp(lgamma(n + 1)) in the dtype times zeta in double)
        from ._trigamma_kernel import polygamma_ufunc
        with np.errstate(all="ignore"):
            return np.asarray(polygamma_ufunc(out_dt)(a.astype(out_dt, copy=False),
                                                      np.int64(n)))
    x = a.astype(np.float64)
    fact = float(math.factorial(n)) if n <= 170 else math.inf
    with np.errstate(all="ignore"):
        r = ((1.0 if n % 2 else -1.0) * fact) * _zeta(xp, float(n + 1), x)
        if n == 1:                      # PyTorch's trigamma: 0 at +inf, NaN at -inf
            r = xp.where(x == math.inf, 0.0, xp.where(x == -math.inf, math.nan, r))
    return r.astype(out_dt, copy=False)
