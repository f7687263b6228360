"""OpInfos of torch.special's ndtri, log_ndtr, erfcx, Bessel functions, airy_ai, zeta and
orthogonal polynomials (gpujit/ops/special_more.py), with NumPy references computed by
other means than the implementation (Newton on erfc, continued fractions, series and
quadrature, the polynomials' explicit sums). tests/test_special_more_s25.py reuses the
references."""
from __future__ import annotations

import math
import decimal
from fractions import Fraction

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand

F16, F32, F64, I64 = np.float16, np.float32, np.float64, np.int64

_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _ints(*shape, low=0, high=4):
    return rand(*shape, dtype=I64, low=low, high=high)


# ---------------------------------------------------------------- ndtri, log_ndtr, erfcx

def ndtri_ref(p):
    """Newton's method on Phi(x) - p (Phi by math.erfc), from x = 0; -inf at 0, inf at 1."""
    p = np.asarray(p, np.float64)
    inner = (p > 0) & (p < 1)
    q = np.where(inner, p, 0.5)
    x = np.zeros_like(q)
    for _ in range(60):
        phi = 0.5 * _erfc(-x / math.sqrt(2))
        x = x - (phi - q) / (np.exp(-x * x / 2) / math.sqrt(2 * math.pi))
    return np.where(inner, x, np.where(p == 0, -np.inf, np.where(p == 1, np.inf, np.nan)))


def log_ndtr_ref(x):
    x = np.asarray(x, np.float64)
    with np.errstate(divide="ignore"):
        return np.where(x < 0, np.log(0.5 * _erfc(-x / math.sqrt(2))),
                        np.log1p(-0.5 * _erfc(x / math.sqrt(2))))


def erfcx_ref(x):
    """exp(x^2) erfc(x) in float64 (|x| <= 5 in the samples: a few ulps of exp's
    argument)."""
    x = np.asarray(x, np.float64)
    return np.exp(x * x) * _erfc(x)


def _unary(low, high, ref_dtype_ok=True):
    return [Sample(rand(3, 4, dtype=F64, low=low, high=high)),
            Sample(rand(5, dtype=F32, low=low, high=high)).expect_dtype(G.float32),
            Sample(rand(dtype=F64, low=low, high=high)),
            Sample(rand(0, 2, dtype=F64)),
            Sample(_ints(4, low=max(int(low), 0), high=int(high))).expect_dtype(G.float32)]


def _f16_error():
    return [ErrorSample(rand(3, dtype=F16), exc=NotImplementedError)]


def _f32_ulps(samples, rtol=5e-7):
    """Samples computing in float32 (float32 and integer inputs) within a few float32 ulps:
    gpujit computes them as ATen's float kernels do (float steps, FMAs, libm's float
    functions: torch 2.13's bits), not the float64 reference rounded."""
    return [s if s.dtype is None else s.tol(rtol=rtol, atol=1e-12) for s in samples]


OPINFOS = [
    OpInfo("aten::special_ndtri", ref=ndtri_ref, samples=_f32_ulps([
        Sample(rand(3, 4, dtype=F64, low=0.02, high=0.98)),
        Sample(rand(5, dtype=F32, low=0.02, high=0.98)).expect_dtype(G.float32),
        Sample(np.array([0.2, 0.5, 1e-3, 1 - 1e-3])),
        Sample(_ints(4, low=0, high=1)).expect_dtype(G.float32)]),
        errors=_f16_error(), rtol=1e-10, atol=1e-12),
    OpInfo("aten::special_log_ndtr", ref=log_ndtr_ref, samples=_f32_ulps(_unary(-10, 5)),
           errors=_f16_error(), rtol=1e-10, atol=1e-12),
    OpInfo("aten::special_erfcx", ref=erfcx_ref, samples=_f32_ulps(_unary(-4, 5)),
           errors=_f16_error(), rtol=1e-10, atol=1e-12),
]


# ---------------------------------------------------------------- Bessel functions
# Bessel's integrals, by the trapezoidal rule on a whole period (exponentially accurate for
# a smooth periodic integrand) or on the real line (a smooth even integrand decaying
# doubly exponentially), and Gauss-Legendre on a finite interval

_TAU = (np.arange(2048) + 0.5) * (np.pi / 2048)          # midpoints of [0, pi]


def bessel_j_ref(n, x):
    """J_n(x) = 1/pi int_0^pi cos(n t - x sin t) dt."""
    x = np.asarray(x, np.float64)[..., None]
    return np.cos(n * _TAU - x * np.sin(_TAU)).mean(-1)


def bessel_y_ref(n, x):
    """Y_n(x) = 1/pi int_0^pi sin(x sin t - n t) dt
    - 1/pi int_0^inf (e^(n t) + (-1)^n e^(-n t)) e^(-x sinh t) dt (x > 0)."""
    x = np.asarray(x, np.float64)
    # (not periodic: Gauss-Legendre, 400 nodes on each of 4 pieces of [0, pi])
    nodes, weights = np.polynomial.legendre.leggauss(400)
    first = 0.0
    for j in range(4):
        t = (nodes + 1 + 2 * j) * (np.pi / 8)
        first = first + (np.sin(x[..., None] * np.sin(t) - n * t) * weights).sum(-1) / 8
    top = np.arcsinh(60.0 / x)[..., None]                # e^(-x sinh t) < e^-60 beyond
    t = (nodes + 1) / 2 * top
    f = (np.exp(n * t) + (-1) ** n * np.exp(-n * t)) * np.exp(-x[..., None] * np.sinh(t))
    return first - (f * weights).sum(-1) * top[..., 0] / 2 / np.pi


def bessel_i_ref(n, x):
    """I_n(x) = 1/pi int_0^pi e^(x cos t) cos(n t) dt; below |x| = 2 (where the integral
    cancels) the power series sum_k (x/2)^(2k+n) / (k! (k+n)!)."""
    x = np.asarray(x, np.float64)
    big = (np.exp(x[..., None] * np.cos(_TAU)) * np.cos(n * _TAU)).mean(-1)
    h = x / 2
    term = h ** n / math.factorial(n)
    series = term
    for k in range(1, 40):
        term = term * h * h / (k * (k + n))
        series = series + term
    return np.where(np.abs(x) < 2, series, big)


def bessel_k_ref(n, x, scaled=False):
    """K_n(x) = int_0^inf e^(-x cosh t) cosh(n t) dt (x > 0), by the trapezoidal rule
    (step 1/64) of the even integrand; exp(x) K_n(x) when scaled."""
    x = np.asarray(x, np.float64)[..., None]
    t = np.arange(0, 2400) / 64.0
    w = np.full(t.shape, 1 / 64.0)
    w[0] /= 2
    with np.errstate(over="ignore"):
        f = np.exp(-x * (np.cosh(t) - 1)) * np.cosh(n * t)
    r = (f * w).sum(-1)
    return r if scaled else r * np.exp(-x[..., 0])


def _pos(*shape, dtype=F64, low=0.05, high=12.0):
    return rand(*shape, dtype=dtype, low=low, high=high)


def _bessel_info(name, ref, samples, atol=1e-12):
    return OpInfo(name, ref=ref, samples=samples, errors=_f16_error(), rtol=1e-9,
                  atol=atol)


# PyTorch's j0 / j1 / y0 / y1 above x = 5 evaluate Cephes' QQ table with polevl where
# Cephes has p1evl (an implicit leading 1): up to ~8e-7 off there, and gpujit computes as
# PyTorch (the spec); the true values are the references, within that
_JY_ATOL = 2e-6


OPINFOS += [
    _bessel_info("aten::special_bessel_j0", lambda x: bessel_j_ref(0, x), _unary(-20, 20),
                 atol=_JY_ATOL),
    _bessel_info("aten::special_bessel_j1", lambda x: bessel_j_ref(1, x), _unary(-20, 20),
                 atol=_JY_ATOL),
    _bessel_info("aten::special_bessel_y0", lambda x: bessel_y_ref(0, x), [
        Sample(_pos(3, 4)), Sample(_pos(5, dtype=F32)).expect_dtype(G.float32),
        Sample(_ints(4, low=1, high=9)).expect_dtype(G.float32)], atol=_JY_ATOL),
    _bessel_info("aten::special_bessel_y1", lambda x: bessel_y_ref(1, x), [
        Sample(_pos(3, 4)), Sample(_pos(5, dtype=F32)).expect_dtype(G.float32),
        Sample(_ints(4, low=1, high=9)).expect_dtype(G.float32)], atol=_JY_ATOL),
    # (float32 and the integers compute in float steps with sinf, as ATen: an ulp)
    _bessel_info("aten::special_spherical_bessel_j0", lambda x: np.sinc(x / np.pi),
                 [s if s.dtype is None else s.tol(rtol=2.5e-7, atol=1e-12)
                  for s in _unary(-20, 20)]),
    _bessel_info("aten::special_modified_bessel_i0", lambda x: bessel_i_ref(0, x),
                 _f32_ulps(_unary(-20, 20))),
    # (i1's float steps reach ~4.5 float32 ulps near 20 at the bottom of a binade)
    _bessel_info("aten::special_modified_bessel_i1", lambda x: bessel_i_ref(1, x),
                 _f32_ulps(_unary(-20, 20), rtol=1e-6)),
] + [
    _bessel_info(f"aten::special_{pre}modified_bessel_k{n}",
                 (lambda n, s: lambda x: bessel_k_ref(n, x, s))(n, pre == "scaled_"), _f32_ulps([
                     Sample(_pos(3, 4, low=0.01, high=30)),
                     Sample(_pos(5, dtype=F32)).expect_dtype(G.float32),
                     Sample(_ints(4, low=1, high=9)).expect_dtype(G.float32)]))
    for n in (0, 1) for pre in ("", "scaled_")]


# ---------------------------------------------------------------- orthogonal polynomials
# NumPy's own polynomial classes (Clenshaw sums) for T, H, He, L and P; U by its explicit
# sum U_n(x) = sum_k (-1)^k C(n - k, k) (2x)^(n - 2k), V_n = U_n - U_(n-1),
# W_n = U_n + U_(n-1) (the shifted kinds at 2x - 1). n is truncated; negative n gives 0.

def _unit(n):
    c = np.zeros(n + 1)
    c[n] = 1.0
    return c


def _cheb_u(x, n):
    """The explicit sum in exact rational arithmetic (it cancels heavily in floats)."""
    if n < 0:
        return 0.0
    if not math.isfinite(x):
        return float(sum((-1) ** k * math.comb(n - k, k) * (2 * x) ** (n - 2 * k)
                         for k in range(n // 2 + 1)))
    t = 2 * Fraction(float(x))
    return float(sum((-1) ** k * math.comb(n - k, k) * t ** (n - 2 * k)
                     for k in range(n // 2 + 1)))


def _poly_value(kind, x, n):
    x = np.float64(x)
    if n < 0:
        return 0.0
    P = np.polynomial
    if kind == "t":
        return P.chebyshev.chebval(x, _unit(n))
    if kind == "u":
        return _cheb_u(x, n)
    if kind == "v":
        return _cheb_u(x, n) - _cheb_u(x, n - 1)
    if kind == "w":
        return _cheb_u(x, n) + _cheb_u(x, n - 1)
    return {"h": P.hermite.hermval, "he": P.hermite_e.hermeval, "l": P.laguerre.lagval,
            "p": P.legendre.legval}[kind](x, _unit(n))


def poly_ref(kind, shifted=False):
    def ref(x, n):
        x, n = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(n, np.float64))
        if shifted:
            x = 2 * x - 1
        out = [_poly_value(kind, a, int(b)) for a, b in zip(x.ravel(), n.ravel())]
        return np.array(out, np.float64).reshape(x.shape)
    return ref


POLYNOMIALS = {f"{'shifted_' if s else ''}chebyshev_polynomial_{k}": (k, s)
               for s in (False, True) for k in "tuvw"}
POLYNOMIALS.update({"hermite_polynomial_h": ("h", False), "hermite_polynomial_he": ("he", False),
                    "laguerre_polynomial_l": ("l", False),
                    "legendre_polynomial_p": ("p", False)})


def _poly_samples(shifted):
    lo, hi = (0.0, 1.0) if shifted else (-1.0, 1.0)
    return [Sample(rand(3, 4, dtype=F64, low=lo, high=hi), _ints(3, 4, low=-1, high=12)),
            Sample(rand(3, 1, dtype=F64, low=lo, high=hi), _ints(5, low=0, high=9)),
            Sample(rand(4, dtype=F32, low=lo, high=hi), 5).expect_dtype(G.float32)
            .tol(1e-5, 1e-5),
            Sample(rand(4, dtype=F64, low=lo, high=hi), 3.7),
            Sample(_ints(4, low=0, high=2), _ints(4, low=0, high=5)).expect_dtype(G.float32)
            .tol(1e-5, 1e-5),
            Sample(rand(0, dtype=F64), _ints(0))]


OPINFOS += [
    OpInfo(f"aten::special_{name}", ref=poly_ref(kind, shifted),
           samples=_poly_samples(shifted), rtol=1e-9, atol=1e-9,
           errors=[ErrorSample(rand(3, dtype=F16), _ints(3), exc=NotImplementedError)])
    for name, (kind, shifted) in POLYNOMIALS.items()]


# ---------------------------------------------------------------- zeta, airy_ai

def zeta_ref(x, q):
    """sum_(k < 4000) (q + k)^-x plus the Euler-Maclaurin tail at N = q + 4000:
    N^(1-x) / (x-1) + N^-x / 2 + x N^(-x-1) / 12 - x (x+1) (x+2) N^(-x-3) / 720
    (x > 1, q > 0)."""
    x, q = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(q, np.float64))
    k = np.arange(4000.0)
    s = ((q[..., None] + k) ** -x[..., None]).sum(-1)
    n = q + 4000.0
    return (s + n ** (1 - x) / (x - 1) + n ** -x / 2 + x * n ** (-x - 1) / 12
            - x * (x + 1) * (x + 2) * n ** (-x - 3) / 720)


_AI0 = "0.355028053887817239260063186004"     # Ai(0)
_AIP0 = "0.258819403792806798405183560189"    # -Ai'(0)


def _airy_one(x):
    """Ai(x) = Ai(0) f(x) + Ai'(0) g(x) by the Maclaurin series of f and g in 60-digit
    decimal arithmetic (the cancellation of |x| <= 10 costs ~10 of them)."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        xd = decimal.Decimal(float(x))     # (exact: a binary float is a finite decimal)
        cube = xd ** 3
        t, u = decimal.Decimal(1), xd
        f, g = t, u
        for k in range(120):
            t = t * cube / ((3 * k + 2) * (3 * k + 3))
            u = u * cube / ((3 * k + 3) * (3 * k + 4))
            f += t
            g += u
        return float(decimal.Decimal(_AI0) * f - decimal.Decimal(_AIP0) * g)


def airy_ref(x):
    x = np.asarray(x, np.float64)
    return np.array([_airy_one(v) for v in x.ravel()], np.float64).reshape(x.shape)


OPINFOS += [
    OpInfo("aten::special_zeta", ref=zeta_ref, rtol=1e-12, atol=0, grad=False, samples=[
        Sample(rand(3, 4, dtype=F64, low=1.5, high=6), rand(3, 4, dtype=F64, low=0.2,
                                                          high=5)),
        Sample(rand(3, 1, dtype=F64, low=1.5, high=6), rand(4, dtype=F64, low=0.2, high=5)),
        Sample(2.0, rand(4, dtype=F64, low=0.2, high=5)),
        Sample(rand(4, dtype=F64, low=1.5, high=6), 3),
        Sample(rand(4, dtype=F32, low=1.5, high=6), rand(4, dtype=F32, low=0.2, high=5))
        .expect_dtype(G.float32).tol(1e-6, 0),
        Sample(_ints(4, low=2, high=5), _ints(4, low=1, high=5)).expect_dtype(G.float32)
        .tol(1e-6, 0)],
        # (zeta has no derivative in self; tests/test_special_more_s25.py checks the one in
        # other)
        errors=[ErrorSample(rand(3, dtype=F16), rand(3, dtype=F16),
                            exc=NotImplementedError)]),
    # PyTorch's asymptotic form below x = -2.09 evaluates Cephes' AFD / AGD tables without
    # their implicit leading 1 (polevl for p1evl): up to ~3e-6 off near -2.09, as gpujit
    # (which computes as PyTorch, the spec); the true values are the references
    OpInfo("aten::special_airy_ai", ref=airy_ref, samples=_unary(-9, 9),
           errors=_f16_error(), rtol=1e-9, atol=5e-6),
]
