"""Pointwise ops that run eagerly and are not fused: gcd, lcm, frexp, i0, special_i1,
special_i0e / special_i1e and isreal. gcd / lcm / i0 / special_i1 declare no `scalar=` expression and carry the
`no_fuse` tag (gcd/lcm need a loop, i0/i1 a series the scalar language has no form for),
so the fuser leaves them out of fusion groups; their derivatives are here too.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta
from .registry import op, OPS
from .registry import derivative as _derivative, nondifferentiable as _nondiff
from .reduction_extra import INTS, _SHAPE, _dt_of

# pointwise ops without a scalar expression: the fuser leaves them out of fusion groups
# (gcd/lcm need a loop, i0/i1 a series the scalar language has no form for)
_PW = {"pointwise", "no_fuse"}


# ---------------------------------------------------------- pointwise: gcd lcm frexp i0 isreal

@op("aten::gcd(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True, dtypes=INTS)
def gcd(xp, self, other):
    return xp.gcd(self, other)


@op("aten::lcm(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True, dtypes=INTS)
def lcm(xp, self, other):
    return xp.lcm(self, other)


def _frexp_check(d):
    if d.category != _dt.FLOATING:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")


@op("aten::frexp.Tensor(Tensor self) -> (Tensor mantissa, Tensor exponent)", tags=_SHAPE,
    meta=lambda self: (_frexp_check(self.dtype),
                       (TensorMeta(self.dtype, tuple(self.shape), self.device),
                        TensorMeta(_dt.int32, tuple(self.shape), self.device)))[1])
def frexp(xp, self):
    _frexp_check(_dt_of(self))
    m, e = xp.frexp(self)
    # (a TensorIterator op: both results in self's order, also where CuPy's are C-ordered)
    return (_mf.iterator_layout(xp, m.astype(self.dtype, copy=False), (self,)),
            _mf.iterator_layout(xp, e.astype(np.int32), (self,)))


def _i0(xp, x):
    """I0 by its power series (all terms positive: no cancellation); NumPy's i0 takes no
    float16 and CuPy's only floats."""
    return _bessel_series(xp, x, 0)


def _bessel_series(xp, x, order):
    """I0 or I1 of float64 x: sum_k (x/2)^(2k+order) / (k! (k+order)!). (NaN stays NaN;
    the number of terms follows the largest finite |x|.)"""
    x = x.astype(np.float64)
    h = x / 2
    h2 = h * h
    term = xp.ones(x.shape) if order == 0 else h.copy()
    total = term.copy()
    a = abs(x)
    a = a[a <= 800] if x.size else a
    big = float(a.max()) if a.size else 0.0
    for k in range(1, int(big) + 40):
        term = term * h2 / (k * (k + order))
        total = total + term
    # PyTorch's Chebyshev forms give NaN at +-inf (exp(inf) times a series read at -2
    # over sqrt(inf)), finite arguments overflow to +-inf
    return xp.where(xp.isinf(x), xp.nan, total)


_ASYMPTOTIC_FROM = 30.0


def _bessel_scaled(xp, x, order):
    """exp(-|x|) I0(x) or exp(-|x|) I1(x) of float64 x (PyTorch's special.i0e / i1e): the
    power series times exp(-|x|) up to |x| = 30 (I0(30) ~ 8e11: no overflow), the
    asymptotic series 1/sqrt(2 pi |x|) sum_k (-1)^k a_k / |x|^k above (its terms shrink
    to the float64 rounding there within 40 terms)."""
    x = x.astype(np.float64)
    a = abs(x)
    small = a <= _ASYMPTOTIC_FROM
    xs = xp.where(small, x, 0.0)
    out = _bessel_series(xp, xs, order) * xp.exp(-abs(xs))
    xl = xp.where(small, _ASYMPTOTIC_FROM + 1, a)
    mu = 4.0 * order * order
    term = xp.ones(x.shape)
    total = term.copy()
    for k in range(1, 40):
        term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * xl)
        total = total + term
    asym = total / xp.sqrt(2 * np.pi * xl)
    if order == 1:
        asym = xp.where(x < 0, -asym, asym)
    return xp.where(small, out, asym)


def _chbevl(xp, coeffs, t, dt):
    """Cephes' chbevl in dtype dt as PyTorch's CPU build computes it: b0 = t * b1 - b2 + c
    with the product and the subtraction contracted into one fused multiply-add (GCC's
    default -ffp-contract=fast on the AVX2 / AVX512 kernels); 0.5 (b0 - b2)."""
    from . import fma as _fma
    b0 = xp.full(t.shape, dt.type(coeffs[0]), dt)
    b1 = xp.zeros(t.shape, dt)
    b2 = b1
    for c in coeffs[1:]:
        b2, b1 = b1, b0
        b0 = _fma.fma(t, b1, -b2, dt, xp) + dt.type(c)
    return dt.type(0.5) * (b0 - b2)


def _cephes_bessel(xp, a, fn):
    """PyTorch 2.13's CPU calc_i0 / calc_i0e / calc_i1 / calc_i1e of a float32 or float64
    array a, computed in its dtype: Chebyshev series in |x|/2 - 2 up to 8 and 32/|x| - 2
    above, times exp(|x|) (i0, i1: the exp correctly rounded; glibc's expf, PyTorch's,
    misrounds ~1 argument in 2000 by an ulp), over sqrt(|x|) above 8, I1's by |x|. float32
    reads the float coefficient tables PyTorch declares (i1 / i1e: Cephes' single-precision
    17 and 7 terms, the last of the double tables). torch.special.i0(tensor(0.)) is
    0.99999994, i1e(7.0302) 0.14202192 (the float64 series rounded: 1.0, 0.14202188)."""
    from . import special_coeffs as C
    dt = a.dtype
    f32 = dt == np.float32
    order = 1 if fn in ("i1", "i1e") else 0
    A, B = (C._MB_I0_A, C._MB_I0_B) if order == 0 else (
        (C._MB_I1_A[-17:], C._MB_I1_B[-7:]) if f32 else (C._MB_I1_A, C._MB_I1_B))
    x = xp.abs(a)
    with np.errstate(all="ignore"):
        small = x <= 8
        xs = xp.where(small, x, dt.type(0))
        xl = xp.where(small, dt.type(9), x)
        near = _chbevl(xp, A, xs / dt.type(2) - dt.type(2), dt)
        far = _chbevl(xp, B, dt.type(32) / xl - dt.type(2), dt)
        if fn in ("i0", "i1"):
            e = (xp.exp(x.astype(np.float64)).astype(dt) if f32 else xp.exp(x))
            near = e * x * near if order else e * near
            far = e * far
        elif order:
            near = near * x
        r = xp.where(small, near, far / xp.sqrt(x))
        if order:
            r = xp.where(a < 0, -r, r)
    return xp.asarray(r, dt)


def _cephes_compiled(xp, a, fn):
    """_cephes_bessel of a float32 / float64 array: on NumPy the same steps per element in
    one compiled loop (ops/_special_kernels.CEPHES_I; ~20 NumPy passes before), on CuPy
    the array code."""
    if xp is not np:
        return _cephes_bessel(xp, a, fn)
    from ._special_kernels import apply
    with np.errstate(all="ignore"):
        return apply(fn, a)


def _bessel(xp, self, fn):
    a = xp.asarray(self)
    if a.dtype in (np.float32, np.float64):
        return _cephes_compiled(xp, a, fn)
    if a.dtype == np.float16:
        # ATen's float kernel (calc_i0 ... of float), rounded to half: the float64 series
        # rounded straight to half differed from torch 2.13 on i1 179, i1e 5, i0 2 halves
        return _cephes_compiled(xp, a.astype(np.float32), fn).astype(np.float16)
    if fn in ("i0", "i1"):          # (integers, promoted): the float64 series
        return _bessel_series(xp, self, int(fn == "i1")).astype(self.dtype)
    return _bessel_scaled(xp, self, int(fn == "i1e")).astype(self.dtype)


@op("aten::i0(Tensor self) -> Tensor", tags=_PW, promote="float", inplace=True)
def i0(xp, self):
    return _bessel(xp, self, "i0")


@op("aten::special_i1(Tensor self) -> Tensor", tags=_PW, promote="float", method=False,
    function=False)
def special_i1(xp, self):
    """The modified Bessel function of the first kind of order 1 (i0's derivative)."""
    return _bessel(xp, self, "i1")


@op("aten::special_i0e(Tensor self) -> Tensor", tags=_PW, promote="float", method=False,
    function=False)
def special_i0e(xp, self):
    """The exponentially scaled modified Bessel function of order 0, exp(-|x|) I0(x)."""
    return _bessel(xp, self, "i0e")


@op("aten::special_i1e(Tensor self) -> Tensor", tags=_PW, promote="float", method=False,
    function=False)
def special_i1e(xp, self):
    """exp(-|x|) I1(x)."""
    return _bessel(xp, self, "i1e")


@op("aten::isreal(Tensor self) -> Tensor", tags=_SHAPE,
    meta=lambda self: TensorMeta(_dt.bool, tuple(self.shape), self.device))
def isreal(xp, self):
    """All True for a real dtype: PyTorch's ones_like(self, kBool), laid out as self (a
    transposed input gives a transposed result); of a complex one, imag == 0."""
    if self.dtype.kind == "c":
        return self.imag == 0
    from .creation import _like_filled
    return _like_filled(xp, self, bool, None, True)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops


@_derivative(frexp)
def _frexp_grad(grad, result):
    return grad[0] / result[1].to(grad[0].dtype).exp2()


@_derivative(i0)
def _i0_grad(grad, self):
    return grad * OPS["aten::special_i1"].public(self)


@_derivative(special_i1)
def _i1_grad(grad, self, result):
    # I1'(x) = I0(x) - I1(x) / x (the limit 1/2 at x = 0)
    import gpujit
    safe = self.masked_fill(self == 0, 1)
    d = gpujit.i0(self) - result / safe
    return grad * d.masked_fill(self == 0, 0.5)


@_derivative(special_i0e)
def _i0e_grad(grad, self, result):
    # d/dx e^-|x| I0(x) = i1e(x) - sgn(x) i0e(x)
    return grad * (OPS["aten::special_i1e"].public(self) - self.sgn() * result)


@_derivative(special_i1e)
def _i1e_grad(grad, self, result):
    # d/dx e^-|x| I1(x) = i0e(x) - i1e(x) (sgn(x) + 1/x) (the limit 1/2 at x = 0)
    safe = self.masked_fill(self == 0, 1)
    d = OPS["aten::special_i0e"].public(self) - result * (self.sgn() + 1 / safe)
    return grad * d.masked_fill(self == 0, 0.5)


_nondiff(isreal, reason="integer or boolean results: counts, positions and membership tests")


_nondiff(gcd, lcm, reason="integer-only ops (PyTorch does not differentiate gcd/lcm)")
