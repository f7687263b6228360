"""Pointwise float math: exp, tanh, sigmoid, the unary ufuncs (exp2, expm1, log*, sqrt,
trigonometric and hyperbolic functions), rsqrt, reciprocal, atan2, erf / erfc / erfinv,
lgamma, digamma, polygamma, logit, deg2rad / rad2deg, fmax / fmin, logaddexp(2), xlogy,
torch.special's xlog1py / entr / ndtr, hypot, copysign, nextafter, ldexp, float_power,
sinc, heaviside and nan_to_num, with their derivatives. Conventions as in pointwise.py.
"""
from __future__ import annotations

import math as _math

import numpy as _np

from .. import dtypes as _dt
from . import registry as _reg
from . import memory_format as _mf
from . import special as _special
from . import half_libm as _half_libm
from . import activation_backward as _act_bw
from .meta import TensorMeta
from .registry import op
from .scalar import tie_first as _tie_first
from .registry import derivative as _derivative
from .derivatives import not_implemented as _not_implemented
from .pointwise import (FLOATS, NO_BOOL, _LOGIT, _PW, _f32, _gpujit, _is_tensor, _keep,
                        _pow_grad, _short, _zero_grad, logit_expression, power)


# ------------------------------------------------------------------ float math

@op("aten::exp(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="exp({self})")
def exp(xp, self):
    if self.dtype == _np.float16:        # (libm's expf, rounded: ops/half_libm.py)
        return _half_libm.call(xp, "exp", self)
    return xp.exp(self)


@op("aten::tanh(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="tanh({self})")
def tanh(xp, self):
    if self.dtype == _np.float16:
        return _half_libm.call(xp, "tanh", self)
    r = xp.tanh(self)
    if xp is _np and r.dtype == _np.float32 and r.size:
        r = _np.asarray(r)      # (a 0-dim input gives a NumPy scalar, which copyto refuses)
        # NumPy's float32 tanh gives 0.99999994 up to |x| ~ 9.7 where the correctly
        # rounded tanh (PyTorch's) is 1.0 from |x| > 9.0109 (1 - tanh(x) < 2^-25):
        # visible through == 1 and int casts
        big = _np.abs(self) > _np.float32(9.0109)
        if _np.count_nonzero(big):      # (~0.2 µs, where big.any() takes ~1 µs on 4x4)
            _np.copyto(r, _np.copysign(_np.float32(1), self), where=big)
    return r


def saturated_tanh(arg):
    """The scalar expression of tanh(arg) as eager's float32 tanh computes it: 1.0 with
    arg's sign above 9.0109 (the fused kernels' CPU tanh is NumPy's: kernels/cpu_math.py).
    For the tanh op and the composites whose eager body calls it in float32 (float16
    computing in float: mish_backward, gelu_backward's tanh form)."""
    return (f"where(abs({arg}) > cast_float32(9.0109), copysign(cast_float32(1), {arg}), "
            f"tanh({arg}))")


def _tanh_expression(form):
    """float32: eager's 1.0 (with x's sign) above 9.0109 in the fused kernels too."""
    return saturated_tanh("{self}") if form.ct is _dt.float32 else None


tanh.op.scalar_for = _tanh_expression


@op("aten::sigmoid(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="1 / (1 + exp(-{self}))")
def sigmoid(xp, self):
    x = _f32(self)
    if x.ndim == 0:
        return 1 / (1 + xp.exp(-x))
    # one temporary, updated in place: a third fewer allocations than 1 / (1 + exp(-x))
    t = xp.negative(x)
    xp.exp(t, out=t)
    t += _one_of(t.dtype)
    if t.dtype.kind == "c":     # (1 / t, as reciprocal's: c10's complex division)
        from .pointwise import _complex_div
        return _complex_div(xp, t.dtype.type(1), t)
    return xp.reciprocal(t, out=t)


_ONES: dict = {}


def _one_of(np_dtype):
    one = _ONES.get(np_dtype)
    if one is None:
        one = _ONES[np_dtype] = np_dtype.type(1)
    return one


def _unary_float(name, ufunc, scalar):
    @op(f"aten::{name}(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
        scalar=scalar)
    def impl(xp, self):
        if self.dtype.kind == "c" and name in _COMPLEX_FORMS:
            return _COMPLEX_FORMS[name](xp, self)
        if self.dtype == _np.float16 and name in _half_libm.FUNCTIONS:
            return _half_libm.call(xp, name, self)
        return getattr(xp, ufunc)(self)
    impl.__name__ = name
    return impl


def _complex_log1p(xp, z):
    """log1p of complex z as c10's: real part 0.5 * log1p(x (2 + x) + y^2) for |z| < 0.5
    (x where that underflows to 0), else log(hypot(1 + x, y)); imaginary part
    atan2(y, 1 + x). NumPy's complex log1p is log(1 + z), which loses the small values
    (log1p(1e-8 + 0j) was 0)."""
    x, y = z.real, z.imag
    with _np.errstate(all="ignore"):
        r = x * (2 + x) + y * y
        small = xp.where(r == 0, x, 0.5 * xp.log1p(r))
        big = xp.log(xp.hypot(x + 1, y))
        out = xp.empty_like(z)
        out.real[...] = xp.where(xp.abs(z) < 0.5, small, big)
        out.imag[...] = xp.arctan2(y, x + 1)
    return out


def _complex_log_base(base):
    def log_base(xp, z):
        """log(z) / log(base) part by part, ATen's Vectorized<complex>::log2 / log10
        (NumPy's complex log2 / log10 differed from torch's in 25-70% of elements)."""
        lz = xp.log(z)
        c = lz.real.dtype.type(_math.log(base))
        out = xp.empty_like(lz)
        out.real[...] = lz.real / c
        out.imag[...] = lz.imag / c
        return out
    return log_base


# the complex forms of these ops that are c10's / ATen's own, not NumPy's
_COMPLEX_FORMS = {"log1p": _complex_log1p, "log2": _complex_log_base(2),
                  "log10": _complex_log_base(10)}


for _name, _ufunc, _fn in (
        ("exp2", "exp2", "exp2"), ("expm1", "expm1", "expm1"), ("log", "log", "log"),
        ("log2", "log2", "log2"), ("log10", "log10", "log10"), ("log1p", "log1p", "log1p"),
        ("sqrt", "sqrt", "sqrt"), ("sin", "sin", "sin"), ("cos", "cos", "cos"),
        ("tan", "tan", "tan"), ("asin", "arcsin", "asin"), ("acos", "arccos", "acos"),
        ("atan", "arctan", "atan"), ("sinh", "sinh", "sinh"), ("cosh", "cosh", "cosh"),
        ("asinh", "arcsinh", "asinh"), ("acosh", "arccosh", "acosh"),
        ("atanh", "arctanh", "atanh")):
    globals()[_name] = _unary_float(_name, _ufunc, f"{_fn}({{self}})")


@op("aten::rsqrt(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="1 / sqrt({self})")
def rsqrt(xp, self):
    """1 / sqrt(x) in float, rounded once. (PyTorch's CPU loop computes float16's last
    run % 32 elements, and every element of a strided run, as 1 / std::sqrt(c10::Half),
    the root rounded to half first: one ulp apart on some; gpujit keeps one rounding
    everywhere, which its fused kernels give too.)"""
    if self.dtype.kind == "c":      # (1 / sqrt(z): c10's complex division)
        from .pointwise import _complex_div
        return _complex_div(xp, self.dtype.type(1), xp.sqrt(self))
    return 1 / xp.sqrt(_f32(self))


@op("aten::reciprocal(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="1 / {self}")
def reciprocal(xp, self):
    if self.dtype.kind == "c":
        # (ATen's 1 / z, c10's complex division with its FMAs: NumPy's reciprocal,
        # conj(z) / |z|^2, gives 1 / (4 + 0j) a -0 imaginary part)
        from .pointwise import _complex_div
        return _complex_div(xp, self.dtype.type(1), self)
    return xp.reciprocal(self)


@op("aten::atan2(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    promote="float", scalar="atan2({self}, {other})")
def atan2(xp, self, other):
    return xp.arctan2(self, other)


@op("aten::erf(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="erf({self})")
def erf(xp, self):
    return _special.erf(xp, self)


@op("aten::erfc(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="erfc({self})")
def erfc(xp, self):
    return _special.erfc(xp, self)


@op("aten::erfinv(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="erfinv({self})")
def erfinv(xp, self):
    return _special.erfinv(xp, self)


@op("aten::lgamma(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="lgamma({self})")
def lgamma(xp, self):
    """log|gamma(x)|; +inf at the poles (0, -0, the negative integers) and at +-inf."""
    return _special.lgamma(xp, self)


@op("aten::digamma(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="digamma({self})")
def digamma(xp, self):
    """psi(x) = lgamma'(x): -inf at +0, +inf at -0, NaN at the negative integers and -inf
    (PyTorch's algorithm, computed in float64: gpujit/ops/special.py)."""
    return _special.digamma(xp, self)


def _polygamma_out(np_dtype):
    return np_dtype if np_dtype.kind == "f" else _dt.get_default_dtype().np


def _polygamma_meta(n, self):
    dt = self.dtype if self.dtype.category == _dt.FLOATING else _dt.get_default_dtype()
    return TensorMeta(dt, tuple(self.shape), self.device)


# polygamma is not fused (no scalar expression: a loop per element whose length depends on
# x); it is a plain op computed in float64 and rounded to the float result dtype once
@op("aten::polygamma(int n, Tensor self) -> Tensor", method=False, meta=_polygamma_meta)
def polygamma(xp, n, self):
    """The n-th derivative of digamma (n = 0: digamma; n >= 1: (-1) ** (n + 1) n!
    zeta(n + 1, x)). Integer and bool tensors give the default float dtype."""
    r = _special.polygamma(xp, n, self).astype(_polygamma_out(self.dtype), copy=False)
    return _mf.iterator_layout(xp, r, (self,))     # (TensorIterator's: self's order)


def _polygamma_inplace_meta(self, n):
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


@op("aten::polygamma_(Tensor(a!) self, int n) -> Tensor(a!)", tags={"inplace"},
    function=False, meta=_polygamma_inplace_meta)
def polygamma_(xp, self, n):
    if self.dtype.kind != "f":
        raise RuntimeError(f"result type {_dt.get_default_dtype().short_name} can't be cast "
                           f"to the desired output type {_short(self.dtype)}")
    self[...] = _special.polygamma(xp, n, self)
    return self


@_reg.tensor_method("polygamma")
def _tensor_polygamma(self, n):
    """x.polygamma(n) is polygamma(n, x) (PyTorch binds the receiver to `self`)."""
    return _reg.OPS["aten::polygamma"].public(n, self)


@op("aten::logit(Tensor self, float? eps=None) -> Tensor", tags=_PW, inplace=True,
    promote="float", scalar=_LOGIT.replace("CAST", ""))
def logit(xp, self, eps=None):
    # float16: every step rounded to half (1 - x, x / (1 - x), the log), as PyTorch 2.13's
    # CPU kernel computes it in Vectorized<Half>: logit(tensor(0.4333, dtype=float16)) is
    # -0.2678 (the float32 quotient's log: -0.2683); NumPy's float16 arithmetic does that
    x = self
    if eps is not None and eps >= 0:
        t = self.dtype.type
        lo = t(eps)
        with _np.errstate(all="ignore"):
            hi = t(1) - lo              # rounded in self's dtype, as PyTorch's
        x = xp.where(x < lo, lo, xp.where(x > hi, hi, x))
    return _half_libm.call(xp, "log", x / (1 - x))    # (float16: libm's logf, rounded)


def _logit_expression(form):
    """eps and 1 - eps rounded to the computation dtype, float16's steps rounded to half,
    as eager (pointwise.logit_expression)."""
    return None if form.ct is None else logit_expression(form.ct)


logit.op.scalar_for = _logit_expression


# ------------------------------------------------------------------ more float math

@op("aten::deg2rad(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    dtypes=NO_BOOL, scalar="{self} * 0.017453292519943295")
def deg2rad(xp, self):
    return _half_in_f32(self, 0.017453292519943295)


def _half_in_f32(self, c):
    """self * c; float16 multiplies in float32 by the float32 constant and rounds once
    (PyTorch's opmath: NumPy's half * float would round c to half first)."""
    if self.dtype == _np.float16:
        return (self.astype(_np.float32) * _np.float32(c)).astype(_np.float16)
    return self * c


@op("aten::rad2deg(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    dtypes=NO_BOOL, scalar="{self} * 57.29577951308232")
def rad2deg(xp, self):
    return _half_in_f32(self, 57.29577951308232)


def _angle_expression(form):
    """float16: the constant stays float32 (PyTorch multiplies in opmath by the unrounded
    constant; NumPy's half * float would round it to half first), as eager
    (_half_in_f32)."""
    if form.ct is _dt.float16:
        return form.scalar.replace("{self}", "cast_float32({self})", 1).replace(
            " * ", " * cast_float32(", 1) + ")"
    return None


deg2rad.op.scalar_for = rad2deg.op.scalar_for = _angle_expression


def _nan_ignoring(name, ufunc, extreme):
    @op(f"aten::{name}(Tensor self, Tensor other) -> Tensor", tags=_PW,
        scalar=f"where(isnan({{self}}), {{other}}, where(isnan({{other}}), {{self}}, "
               f"{extreme}({{self}}, {{other}})))")
    def impl(xp, self, other):
        return _tie_first(xp, ufunc, self, other)
    impl.__name__ = name
    return impl


fmax = _nan_ignoring("fmax", "fmax", "maximum")
fmin = _nan_ignoring("fmin", "fmin", "minimum")


# (FLOATS, default promotion: integer operands are refused, as PyTorch's kernels)
@op("aten::logaddexp(Tensor self, Tensor other) -> Tensor", tags=_PW,
    dtypes=FLOATS, scalar="where({self} == {other}, {self} + 0.6931471805599453, "
    "maximum({self}, {other}) + log1p(exp(-abs({self} - {other}))))")
def logaddexp(xp, self, other):
    """In the operands' promoted dtype: floating point only (PyTorch's CPU kernel has no
    integer or bool version: "logaddexp_cpu" not implemented for 'Long'). The fused
    kernels' expression is NumPy's logaddexp operation for operation; eager calls np.exp /
    np.log1p, the functions the kernels share (kernels/cpu_math.py), where NumPy's logaddexp
    calls libm's per element. float16 computes in float32, rounded once."""
    a, b = _f32(self), _f32(other)
    if xp is not _np:
        return xp.logaddexp(self, other)
    r = xp.maximum(a, b) + xp.log1p(xp.exp(-xp.abs(a - b)))
    # log(2) in the computing dtype: a float32 log(2) gave float64's x == y 1e-9 off
    return xp.where(a == b, a + _np.asarray(_math.log(2), dtype=r.dtype), r)


@op("aten::logaddexp2(Tensor self, Tensor other) -> Tensor", tags=_PW,
    dtypes=FLOATS, scalar="where({self} == {other}, {self} + 1, maximum({self}, {other}) "
    "+ log1p(exp2(-abs({self} - {other}))) * 1.4426950408889634)")
def logaddexp2(xp, self, other):
    return xp.logaddexp2(self, other)


@op("aten::xlogy.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, promote="float",
    inplace=True,
    scalar="where(isnan({other}), {other}, where({self} == 0, 0, {self} * log({other})))")
def xlogy(xp, self, other):
    self, other, rt = _common_scalars(xp, self, other)
    with _np.errstate(divide="ignore", invalid="ignore"):
        # (a Python number for self or other: CuPy's where takes only an array condition)
        # (C's log in every dtype, as ATen's scalar xlogy kernel: ops/half_libm.py)
        lg = _half_libm.call_float(xp, "log", other)
        return xp.where(xp.asarray(xp.isnan(other)), other,
                        xp.where(xp.asarray(self == 0), 0, self * lg)).astype(rt)


def _log_rounded_in_half(f):
    """scalar_for of xlogy / xlog1py: float16 rounds the log to half before the product,
    as eager (and PyTorch)."""
    def expression(form):
        if form.ct is _dt.float16:
            return form.scalar.replace(f"{f}({{other}})", f"cast_float16({f}({{other}}))")
        return None
    return expression


xlogy.op.scalar_for = _log_rounded_in_half("log")


def _common_scalars(xp, self, other):
    """(self, other, their result dtype) with a Python number among them made a 0-dim
    array of that dtype, as PyTorch wraps it: xlogy(half_x, 0.7) takes the log of
    half(0.7) (a float64 log of 0.7 gave another half result for 3570 / 4000 values)."""
    rt = xp.result_type(self, other)
    if not hasattr(self, "dtype"):
        self = xp.asarray(self, dtype=rt)
    if not hasattr(other, "dtype"):
        other = xp.asarray(other, dtype=rt)
    return self, other, rt


# torch.special's own pointwise ops (bound only as gpujit.special.<name>, not gpujit.<name>
# or Tensor methods, as in PyTorch)
_SPECIAL = dict(tags=_PW, promote="float", function=False, method=False)


@op("aten::special_xlog1py(Tensor self, Tensor other) -> Tensor", **_SPECIAL,
    scalar="where(isnan({other}), {other}, where({self} == 0, 0, {self} * log1p({other})))")
def special_xlog1py(xp, self, other):
    """self * log1p(other), 0 where self is 0 (NaN where other is NaN)."""
    if not hasattr(other, "dtype"):
        other = float(other)        # (log1p of a Python bool would be a float16)
    self, other, rt = _common_scalars(xp, self, other)
    with _np.errstate(divide="ignore", invalid="ignore"):
        lg = _half_libm.call_float(xp, "log1p", other)     # (C's log1p: xlogy's note)
        return xp.where(xp.asarray(xp.isnan(other)), other,
                        xp.where(xp.asarray(self == 0), 0, self * lg)).astype(rt)


special_xlog1py.op.scalar_for = _log_rounded_in_half("log1p")


# -x log(x) for x > 0, 0 at 0, -inf below 0 (log of False, 0: an infinity the scalar
# language can write), NaN for NaN
@op("aten::special_entr(Tensor self) -> Tensor", **_SPECIAL,
    scalar="where({self} > 0, -{self} * log({self}), where({self} == 0, 0, "
           "where({self} < 0, log({self} != {self}), {self})))")
def special_entr(xp, self):
    # float16: the log rounded to half before the product, as PyTorch's Half kernel
    # (entr(half(0.3)) is 0.36133, the float32 computation's 0.36108)
    x = _f32(self)
    with _np.errstate(divide="ignore", invalid="ignore"):
        # (float32 and float16: C's logf, as ATen's scalar entr kernel; half_libm)
        lg = _half_libm.call_float(xp, "log", xp.where(x > 0, x, x.dtype.type(1)))
        if self.dtype == _np.float16:
            lg = lg.astype(_np.float16).astype(_np.float32)
        # (x * 0 + 0: +0 at -0 as PyTorch's and the fused where()'s 0; NaN stays NaN)
        out = xp.where(x > 0, -x * lg, x * 0 + 0)
        return xp.where(x < 0, -_np.inf, out).astype(x.dtype)


def _entr_expression(form):
    """float16: the log rounded to half before the product, as eager and PyTorch."""
    if form.ct is _dt.float16:
        return form.scalar.replace("-{self} * log({self})",
                                   "-{self} * cast_float16(log({self}))")
    return None


special_entr.op.scalar_for = _entr_expression


# the standard normal CDF as PyTorch computes it, (1 + erf(x / sqrt 2)) * 0.5 in the
# tensor's dtype (not erfc(-x / sqrt 2) / 2: torch's cancels for x << 0, ndtr(-4.) of
# float16 is 0); float16 rounds every step to half (PyTorch's Half kernel: ndtr(2.5) is
# 0.99414, the float32 computation's 0.99365), its erf the float16 erf op's (ATen's
# vectorized erf: libm's erff gave 3 halves of 65536 otherwise)
@op("aten::special_ndtr(Tensor self) -> Tensor", **_SPECIAL,
    scalar="(1 + erf({self} * 0.7071067811865476)) * 0.5")
def special_ndtr(xp, self):
    dt = self.dtype
    if dt == _np.float16:
        f32 = _np.float32
        z = (self.astype(f32) * f32(0.7071067811865476)).astype(dt)
        e = _special.erf(xp, z)     # (float16 erf: ATen's vectorized erf, rounded)
        return (1 + e) * dt.type(0.5)
    return (1 + _special.erf(xp, self * dt.type(0.7071067811865476))) * dt.type(0.5)


def _ndtr_expression(form):
    """float16: every step rounded to half, the constant float32, as eager and PyTorch's
    Half kernel."""
    if form.ct is _dt.float16:
        return ("cast_float16(1 + cast_float16(erf(cast_float16(cast_float32({self}) * "
                "cast_float32(0.7071067811865476))))) * 0.5")
    return None


special_ndtr.op.scalar_for = _ndtr_expression


@op("aten::hypot(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    dtypes=FLOATS, scalar="hypot({self}, {other})")
def hypot(xp, self, other):
    """sqrt(self ** 2 + other ** 2) without overflow; inf if either is +-inf (even with a
    NaN), as C's hypot. Floating-point tensors only, as PyTorch."""
    return xp.hypot(self, other)


@op("aten::copysign.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    promote="float", scalar="copysign({self}, {other})")
def copysign(xp, self, other):
    """|self| with the sign (bit) of other: -0.0 and NaNs with the sign bit count as
    negative. Integers and bools give the default float dtype."""
    return xp.copysign(self, other)


@op("aten::nextafter(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    dtypes=FLOATS, scalar="nextafter({self}, {other})")
def nextafter(xp, self, other):
    """The next representable value after self towards other, in the result dtype
    (float16 steps by float16 ulps). Floating-point tensors only, as PyTorch."""
    r = xp.nextafter(self, other)
    if r.dtype == xp.float16:
        # C's nextafter gives other where they are equal (nextafter(-0., 0.) is 0.);
        # NumPy's float16 loop gives self
        r = xp.where(self == other, other, r).astype(r.dtype, copy=False)
    return r


def _ldexp_is_exact(self_dt, other_dt):
    """PyTorch 2.13's ldexp scales a floating-point self by an integer-tensor exponent with
    its own kernel (ldexp_cpu_exp: C's ldexp, exact, rounded once, the exponent read as a
    C int: an int64 wraps to int32); every other pair computes self * 2.0 ** other."""
    return (self_dt.category == _dt.FLOATING and other_dt.category == _dt.INTEGRAL)


def ldexp_expression(form):
    """The fused expression of ldexp for its operands' own dtypes (OpDef.scalar_for):
    C's ldexp, or self * 2.0 ** other with the power in other's dtype (the default float
    for an integer other, which is then ct) and the product in ct (in float32 for a
    float16 self and a wider 0-dim other, as PyTorch's mul reads a 0-dim operand)."""
    s, o, ct = form.dtypes["self"], form.dtypes["other"], form.ct
    s = s if isinstance(s, _dt.dtype) else (_dt.float64 if s == "float" else _dt.int64)
    o = o if isinstance(o, _dt.dtype) else (_dt.float64 if o == "float" else _dt.int64)
    if _ldexp_is_exact(s, o):
        return "ldexp({self}, {other})"
    pd = o if o.category == _dt.FLOATING else ct
    w = _dt.float64 if pd is _dt.float32 else pd          # (as eager: 2 ** 127 exactly)
    p = f"cast_{pd.name}(exp2(cast_{w.name}({{other}})))"
    m = _dt.float32 if ct is _dt.float16 and pd is not _dt.float16 else ct
    return f"cast_{m.name}({{self}}) * cast_{m.name}({p})"


def _array_kind(a):
    return (_dt.from_numpy_dtype(a.dtype), _dt.ZERO_DIM if a.ndim == 0 else _dt.DIM)


@op("aten::ldexp.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    promote="float", own_dtype=("self", "other"), scalar="{self} * exp2({other})")
def ldexp(xp, self, other):
    """self * 2 ** other, as PyTorch 2.13: a floating self with an integer exponent
    exactly (C's ldexp, rounded once: 1e-30 * 2 ** 130 is finite, ldexp(0, 2000) is 0,
    ldexp(inf, -2000) inf; an int64 exponent taken modulo 2 ** 32 as a C int), any other
    pair as self * (2.0 ** other), the power in other's dtype (float16 rounds it: 2 ** 16
    is inf, so 0 * 2 ** 16. is NaN) or the default float for an integer other, the
    product in the result dtype. Both operands arrive in their own dtypes (own_dtype)."""
    sd, od = _array_kind(self), _array_kind(other)
    ct = ldexp.op.compute_types((sd, od))[0]
    if _ldexp_is_exact(sd[0], od[0]):
        e = other.astype(_np.int32) if other.dtype != _np.int32 else other
        if ct is _dt.float16:
            return xp.ldexp(self.astype(_np.float32), e).astype(_np.float16)
        return xp.ldexp(self, e)
    pd = od[0] if od[0].category == _dt.FLOATING else ct
    o = other.astype(pd.np) if other.dtype != pd.np else other
    # (float32 in float64: NumPy's float32 exp2(127) is not 2 ** 127; float16 in float32)
    p = xp.exp2(o.astype(_np.float64) if pd is _dt.float32 else _f32(o))
    if p.dtype != pd.np:
        p = p.astype(pd.np)                       # (float16: rounded to half)
    m = _dt.float32 if ct is _dt.float16 and pd is not _dt.float16 else ct
    return self.astype(m.np) * p.astype(m.np)


ldexp.op.scalar_for = ldexp_expression


def _ldexp_bool_exponent(kinds):
    """PyTorch 2.13 scales a floating-point self by an integer-tensor exponent with its own
    kernel (exact, no 2 ** other in between), which has no bool case: a bool other with a
    floating self raises (an integer or bool self takes the self * 2.0 ** other path)."""
    if (len(kinds) == 2 and kinds[1][0] is _dt.bool
            and kinds[0][0].category == _dt.FLOATING):
        from .kernel_names import not_implemented
        raise not_implemented("ldexp_cpu_exp", None, "Bool")


ldexp.op.check_kinds = ldexp.op.inplace_variant.check_kinds = _ldexp_bool_exponent

def _float_power_types(ct):
    return _dt.float64, _dt.float64


@op("aten::float_power.Tensor_Tensor(Tensor self, Tensor exponent) -> Tensor", tags=_PW,
    inplace=True, promote=_float_power_types, scalar="{self} ** {exponent}",
    number_args={"exponent": "weak"}, contiguous_numbers=("self",),
    parameter_numbers=("exponent",))
def float_power(xp, self, exponent):
    """pow computed in float64 (both operands converted first), for every input dtype;
    the in-place form needs a float64 self, as PyTorch."""
    return power(xp, self, exponent)


float_power.op.inplace_variant.inplace_exact_dtype = True
# (float_power(bool_tensor, 2**63) is float64: torch converts before promoting)
float_power.op.promotes_operands = float_power.op.inplace_variant.promotes_operands = False


def _float_power_composite(self, exponent):
    """torch's float_power (a CompositeImplicitAutograd kernel) for a call that records
    gradients: pow of the operands converted to float64 (a number to a float), so the
    node is pow's (PowBackward0 / 1 / 2) with an edge through the conversion's
    ToCopyBackward0, as in torch."""
    g = _gpujit()
    self = self.to(g.float64) if _is_tensor(self) else float(self)
    exponent = exponent.to(g.float64) if _is_tensor(exponent) else float(exponent)
    return g.pow(self, exponent)


float_power.op.composite = _float_power_composite


@op("aten::sinc(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="where({self} == 0, 1, sin({self} * 3.141592653589793) / "
           "({self} * 3.141592653589793))")
def sinc(xp, self):
    with _np.errstate(divide="ignore", invalid="ignore"):
        t = _f32(self) * 3.141592653589793          # (float16 in float32, rounded once)
        # (float32 and float16: C's sinf, as ATen's scalar sinc kernel; half_libm)
        return xp.where(self == 0, 1, _half_libm.call_float(xp, "sin", t) / t).astype(
            self.dtype)


@op("aten::heaviside(Tensor self, Tensor values) -> Tensor", tags=_PW, inplace=True,
    scalar="where({self} == 0, {values}, where({self} > 0, 1, 0))")
def heaviside(xp, self, values):
    return xp.where(xp.asarray(self == 0), values, xp.where(xp.asarray(self > 0), 1, 0)).astype(
        xp.result_type(self, values))


def _heaviside_dtypes(kinds):
    """PyTorch's heaviside meta: self and values of one dtype (no promotion, 0-dim values
    too)."""
    if len(kinds) == 2 and kinds[0][0] is not kinds[1][0]:
        raise RuntimeError("heaviside is not yet implemented for tensors with different "
                           "dtypes.")


heaviside.op.check_kinds = heaviside.op.inplace_variant.check_kinds = _heaviside_dtypes


@op("aten::nan_to_num(Tensor self, float? nan=None, float? posinf=None, float? neginf=None) "
    "-> Tensor", tags=_PW, inplace=True, like_self=True,
    scalar="where(isnan({self}), ifnone({nan}, 0), where(isinf({self}), where({self} > 0, "
           "ifnone({posinf}, nextafter({self}, 0)), ifnone({neginf}, nextafter({self}, 0))), "
           "{self}))")
def nan_to_num(xp, self, nan=None, posinf=None, neginf=None):
    """NaN -> nan (0), +-inf -> posinf/neginf (the dtype's largest finite values)."""
    if self.dtype.kind in "biu":
        return self.copy()
    return xp.nan_to_num(self, nan=0.0 if nan is None else nan, posinf=posinf,
                         neginf=neginf)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd): written with registry ops, so they can be differentiated
# again (create_graph=True) and later traced and fused. The formulas, and the choices at
# kinks and ties, are PyTorch's (tools/autograd/derivatives.yaml, FunctionsManual.cpp).


@_derivative(exp)
def _exp_grad(grad, result):
    return grad * result


# (tanh_backward / sigmoid_backward: activation_backward.py, PyTorch's kernels and names)
_derivative(tanh, raw=_act_bw.tanh_grad_raw)(_act_bw.tanh_grad)
_derivative(sigmoid, raw=_act_bw.sigmoid_grad_raw)(_act_bw.sigmoid_grad)


@_derivative(atan2)
def _atan2_grad(grad, self, other):
    # 0 at (0, 0), as PyTorch (its recip is 0 where self^2 + other^2 is 0), not NaN
    denom = self * self + other * other
    recip = denom.reciprocal().masked_fill(denom == 0, 0)
    return grad * other * recip, grad * -self * recip


# (log10's derivative divides by derivatives.yaml's literal 2.3025850929940456, a double
# one ulp below math.log(10): 937 of 1000 float64 gradients differed)
_LN2, _LN10 = _math.log(2.0), 2.3025850929940456
_TWO_OVER_SQRT_PI = 2.0 / _math.sqrt(_math.pi)
_HALF_SQRT_PI = 0.5 * _math.sqrt(_math.pi)


# one-line derivatives of the unary ops: name -> fn(grad, self | result)
_UNARY_GRADS = {
    "exp2": lambda grad, result: grad * result * _LN2,
    "expm1": lambda grad, result: grad * (result + 1),
    "log": lambda grad, self: grad / self,
    "log2": lambda grad, self: grad / (self * _LN2),
    "log10": lambda grad, self: grad / (self * _LN10),
    "log1p": lambda grad, self: grad / (self + 1),
    "sqrt": lambda grad, result: grad / (2 * result),
    # (derivatives.yaml's order of operations: -0.5 * grad * result.pow(3), its pow of 3
    # result * result * result; -grad * (result * result))
    "rsqrt": lambda grad, result: grad * -0.5 * (result * result * result),
    "reciprocal": lambda grad, result: -grad * (result * result),
    "sin": lambda grad, self: grad * self.cos(),
    "cos": lambda grad, self: -grad * self.sin(),
    "tan": lambda grad, result: grad * (1 + result * result),
    "asin": lambda grad, self: grad * (1 - self * self).rsqrt(),
    "acos": lambda grad, self: -grad * (1 - self * self).rsqrt(),
    "atan": lambda grad, self: grad / (1 + self * self),
    "sinh": lambda grad, self: grad * self.cosh(),
    "cosh": lambda grad, self: grad * self.sinh(),
    "asinh": lambda grad, self: grad * (self * self + 1).rsqrt(),
    "acosh": lambda grad, self: grad * (self * self - 1).rsqrt(),
    "atanh": lambda grad, self: grad / (1 - self * self),
    # (2 / sqrt(pi) * exp(-self.pow(2)) * grad: the constant times the exponential first)
    "erf": lambda grad, self: (-(self * self)).exp() * _TWO_OVER_SQRT_PI * grad,
    "erfc": lambda grad, self: (-(self * self)).exp() * -_TWO_OVER_SQRT_PI * grad,
    "erfinv": lambda grad, result: (result * result).exp() * _HALF_SQRT_PI * grad,
    "nan_to_num": lambda grad, self: grad * self.isfinite(),
    "lgamma": lambda grad, self: grad * self.digamma(),
    "digamma": lambda grad, self: grad * _gpujit().polygamma(1, self),
}
for _name, _fn in _UNARY_GRADS.items():
    _derivative(f"aten::{_name}")(_fn)


@_derivative(polygamma, polygamma_)
def _polygamma_grad(grad, n, self):
    return grad * _gpujit().polygamma(n + 1, self)


@_derivative(logit)
def _logit_grad(grad, self, eps):
    g = grad / (self * (1 - self))
    if eps is None or eps < 0:              # no clamping: NaN outside [0, 1], as PyTorch
        return g.masked_fill((self < 0) | (self > 1), float("nan"))
    return g.masked_fill((self < eps) | (self > 1 - eps), 0)   # clamped: constant there


# ------------------------------------------------------------------ more float math: grads
# (PyTorch's derivatives.yaml formulas)

_derivative(deg2rad)(lambda grad: grad * (_math.pi / 180))
_derivative(rad2deg)(lambda grad: grad * (180 / _math.pi))


@_derivative(sinc)
def _sinc_grad(grad, self):
    # sinc_backward: grad * ((px * cos(px) - sin(px)) / (x * x * pi)), 0 where x * x * pi
    # is 0 (an x whose square underflows too)
    px = self * _math.pi
    sq = self * self * _math.pi
    out = grad * ((px * px.cos() - px.sin()) / sq)
    return out.masked_fill(sq == 0, 0)


@_derivative(fmax)
def _fmax_grad(grad, self, other):
    first = (self >= other).logical_or(other.isnan())
    return _keep(first, grad), _keep(first.logical_not(), grad)


@_derivative(fmin)
def _fmin_grad(grad, self, other):
    first = (self <= other).logical_or(other.isnan())
    return _keep(first, grad), _keep(first.logical_not(), grad)


@_derivative(logaddexp)
def _logaddexp_grad(grad, self, other):
    return grad / (1 + (other - self).exp()), grad / (1 + (self - other).exp())


@_derivative(logaddexp2)
def _logaddexp2_grad(grad, self, other):
    return grad / (1 + (other - self).exp2()), grad / (1 + (self - other).exp2())


def _xlog_self_grad(fn, grad, self, other, edge):
    """PyTorch's self gradient of xlogy / xlog1py: fn(grad, other), 0 where self is 0
    and other is at or below the edge of fn's domain (a number other: only when it is
    there; xlogy(0, 2)'s gradient is log(2), not 0)."""
    d = fn(grad, other)
    if isinstance(self, (bool, int, float)):
        return d                    # (a number self has no gradient)
    if isinstance(other, (bool, int, float)):
        return d if other > edge else d.masked_fill(self == 0, 0)
    return d.masked_fill((self == 0) & (other <= edge), 0)


@_derivative(xlogy)
def _xlogy_grad(grad, self, other):
    return (_xlog_self_grad(_gpujit().xlogy, grad, self, other, 0.0),
            grad * self / other)


@_derivative(special_xlog1py)
def _xlog1py_grad(grad, self, other):
    return (_xlog_self_grad(_gpujit().special.xlog1py, grad, self, other, -1.0),
            grad * self / (other + 1))


@_derivative(special_entr)
def _entr_grad(grad, self):
    """-(1 + log x); -inf at 0 as PyTorch (NaN below 0)."""
    return grad * -(self.log() + 1)


# PyTorch's ndtr is (1 + erf(x / sqrt 2)) / 2: erf saves x / sqrt 2, not x
@_derivative(special_ndtr, computes={"z": lambda self: self * 0.7071067811865476})
def _ndtr_grad(grad, z):
    return grad * (z * z).neg().exp() * 0.3989422804014327


@_derivative(hypot)
def _hypot_grad(grad, self, other, result):
    return grad * self / result, grad * other / result


@_derivative(copysign)
def _copysign_grad(grad, self, result):
    """PyTorch's copysign_tensor_self_backward: +-grad by the sign change, 0 where self
    is 0; other gets none (a sign bit)."""
    ratio = (result / self).masked_fill(self == 0, 0)
    return grad * ratio, _zero_grad(grad)


# (PyTorch's LdexpBackward0 keeps other for self's gradient, result for other's)
@_derivative(ldexp, reads={"self": ("other",), "other": ("result",)})
def _ldexp_grad(grad, other, result, needs_grad):
    return (grad * _gpujit().exp2(other) if needs_grad[0] else None,
            grad * result * _LN2 if needs_grad[1] else None)


@_derivative(float_power)
def _float_power_grad(grad, self, exponent, result):
    """pow's derivative on the float64 operands float_power computes with."""
    g = _gpujit()
    if _is_tensor(self) and self.is_floating_point():
        self = self.to(g.float64)
    if _is_tensor(exponent) and exponent.is_floating_point():
        exponent = exponent.to(g.float64)
    return _pow_grad(grad, self, exponent, result, None)


@_derivative(nextafter)
def _nextafter_grad(grad, self, other, needs_grad):
    """PyTorch's: the gradient passes to self where self != other (0 where they are equal,
    the result being other itself: an inf or nan gradient too); other gets zeros."""
    return (grad.masked_fill(self == other, 0) if needs_grad[0] else None,
            _gpujit().zeros_like(grad) if needs_grad[1] else None)


# (PyTorch records heaviside, its output requiring grad, and refuses the backward)
_not_implemented(heaviside, message="derivative for aten::heaviside is not implemented")
_not_implemented(heaviside.op.inplace_variant,
                 message="derivative for aten::heaviside_ is not implemented")
