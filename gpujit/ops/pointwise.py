"""Pointwise ops. Each body is written once against `xp` (NumPy or CuPy); operands arrive
as arrays already cast to the computation dtype (or as Python scalars), and the result is
cast to the output dtype by the registry. `scalar` is the per-element expression the fuser
emits (see ops/scalar.py); tests check it against the eager body.

float16 bodies that chain several operations compute in float32 (`_f32`) and round once at
the end, as PyTorch's kernels do (their "opmath" type), instead of rounding every step.
"""
from __future__ import annotations

import numpy as _np

from .. import dtypes as _dt
from . import registry as _reg
from . import special as _special
from . import scalar_ops as _scalar_ops
from .meta import TensorMeta, broadcast_shapes
from .registry import op
from .scalar import tie_first as _tie_first

NO_BOOL = tuple(d for d in _dt.ALL if d is not _dt.bool)
INTS = (_dt.bool,) + _dt.INTEGRAL_TYPES
FLOATS = _dt.FLOATING_TYPES

_PW = {"pointwise"}


# PyTorch (CPU) raises RuntimeError('ZeroDivisionError') for integer division by zero:
# this is both ZeroDivisionError and RuntimeError (declared with the scalar ops, which
# raise it for `a // 0` on ints)
IntegerDivisionByZero = _scalar_ops.IntegerDivisionByZero


def _kind(a, b):
    """The NumPy kind of the computation dtype (that of whichever operand is an array)."""
    d = getattr(a, "dtype", None)
    return (b.dtype if d is None else d).kind


def _is_int(a, b):
    return _kind(a, b) in "iu"


def _check_divisor(xp, other):
    # CPU PyTorch checks integer divisors; CUDA does not (and checking would synchronize)
    if xp is _np:
        bad = (not other.all()) if isinstance(other, _np.ndarray) else other == 0
        if bad:
            raise IntegerDivisionByZero("ZeroDivisionError")


def _f32(a):
    return a.astype(_np.float32) if getattr(a, "dtype", None) == _np.float16 else a


def _short(np_dtype):
    return _dt.from_numpy_dtype(np_dtype).short_name


def _check_alpha(a, b, alpha):
    if type(alpha) is float and _kind(a, b) in "biu":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if _kind(a, b) == "b":
        return bool(alpha)      # PyTorch casts alpha to bool: x.add(y, alpha=-1) is x | y
    return _wrap_scalar(alpha, a, b)


def _wrap_scalar(v, *arrays):
    """An int argument (alpha, value) wrapped into the tensors' narrow integer dtype, as
    PyTorch and the fused kernels convert it (NumPy would raise OverflowError)."""
    if type(v) is int:
        for a in arrays:
            dt = getattr(a, "dtype", None)
            if dt is not None and dt in _reg._NARROW:
                return _reg._wrap_int(v, dt)
    return v


# ------------------------------------------------------------------ arithmetic

@op("aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", tags=_PW,
    inplace=True, scalar="{self} + {alpha} * {other}")
def add(xp, self, other, alpha=1):
    if alpha == 1:
        return xp.add(self, other)
    alpha = _check_alpha(self, other, alpha)
    return xp.add(self, xp.multiply(other, alpha))


@op("aten::sub.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", tags=_PW,
    inplace=True, dtypes=NO_BOOL, scalar="{self} - {alpha} * {other}")
def sub(xp, self, other, alpha=1):
    if alpha == 1:
        return xp.subtract(self, other)
    alpha = _check_alpha(self, other, alpha)
    return xp.subtract(self, xp.multiply(other, alpha))


@op("aten::rsub.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", tags=_PW,
    dtypes=NO_BOOL, method=False, scalar="{other} - {alpha} * {self}")
def rsub(xp, self, other, alpha=1):
    if alpha == 1:
        return xp.subtract(other, self)
    alpha = _check_alpha(self, other, alpha)
    return xp.subtract(other, xp.multiply(self, alpha))


# (opmath_scalars: float16 times or by a Python number, or by a 0-dim tensor of another
# dtype, computes in float32, as PyTorch)
def _no_bool_subtraction(kinds):
    """PyTorch refuses `-` with a bool operand (a Python bool is one), whatever the result
    type would be."""
    bools = sum(1 for k in kinds[:2] if k[0] is _dt.bool)
    if bools == 2:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if bools:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


for _d in (sub.op, sub.op.inplace_variant, rsub.op):
    _d.check_kinds = _no_bool_subtraction


@op("aten::mul.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    scalar="{self} * {other}", opmath_scalars=True)
def mul(xp, self, other):
    return xp.multiply(self, other)


def _div_types(ct, rounding_mode):
    if rounding_mode is None and ct.category != _dt.FLOATING:
        ct = _dt.get_default_dtype()
    if rounding_mode not in (None, "trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found {rounding_mode!r}")
    return ct, ct


# C division (toward zero) from Python's floor division, exact for integers
_TRUNC_DIV = ("({self} // {other} + where((({self} % {other}) != 0) & "
              "(({self} < 0) ^ ({other} < 0)), 1, 0))")


@op("aten::div.Tensor_mode(Tensor self, Tensor other, *, str? rounding_mode=None) -> Tensor",
    tags=_PW, inplace=True, promote=_div_types, dtypes=NO_BOOL, opmath_scalars=True,
    scalar=f"where({{rounding_mode}} == 'trunc', {_TRUNC_DIV}, where({{rounding_mode}} == "
           f"'floor', {{self}} // {{other}}, {{self}} / {{other}}))")
def div(xp, self, other, rounding_mode=None):
    if rounding_mode is None:
        return xp.true_divide(self, other)
    is_int = _is_int(self, other)
    if is_int:
        _check_divisor(xp, other)
    if rounding_mode == "floor":
        return xp.floor_divide(self, other)
    if is_int:
        # trunc division of integers: exact, C semantics
        q = xp.floor_divide(self, other)
        return xp.where((xp.remainder(self, other) != 0) & (q < 0), q + 1, q)
    return xp.trunc(xp.true_divide(self, other))


@op("aten::floor_divide(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    dtypes=NO_BOOL, scalar="{self} // {other}", opmath_scalars=True)
def floor_divide(xp, self, other):
    if _is_int(self, other):
        _check_divisor(xp, other)
    return xp.floor_divide(self, other)


@op("aten::remainder.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    dtypes=NO_BOOL, scalar="{self} % {other}")
def remainder(xp, self, other):
    """Python's modulo: the result has the sign of the divisor (a zero result, as in
    PyTorch, the dividend's: NumPy gives it the divisor's)."""
    if _is_int(self, other):
        _check_divisor(xp, other)
        return xp.remainder(self, other)
    r = xp.remainder(self, other)
    if getattr(r, "dtype", None) is not None and r.dtype.kind == "f":
        r = xp.where(r == 0, xp.copysign(r, self), r)
    return r


@op("aten::fmod.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    dtypes=NO_BOOL, scalar="fmod({self}, {other})")
def fmod(xp, self, other):
    """C's fmod: the result has the sign of the dividend."""
    if _is_int(self, other):
        _check_divisor(xp, other)
    return xp.fmod(self, other)


@op("aten::pow.Tensor_Tensor(Tensor self, Tensor exponent) -> Tensor", tags=_PW,
    inplace=True, scalar="{self} ** {exponent}", number_args={"exponent": "weak"})
def power(xp, self, exponent):
    if _kind(self, exponent) == "b":
        # (_bool_power: a bool tensor to a Python bool) x ** True is x, x ** False is 1
        return self.copy() if exponent else xp.ones_like(self)
    if _is_int(self, exponent):
        if not hasattr(exponent, "dtype"):
            if exponent < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
        elif exponent.dtype.kind == "i" and (exponent < 0).any():
            # PyTorch: 1 ** -n = 1, (-1) ** -n = +-1, any other base truncates to 0
            neg = exponent < 0
            r = xp.power(self, xp.where(neg, 0, exponent))
            odd = (exponent % 2) != 0
            inv = xp.where(self == 1, 1, xp.where(self == -1, xp.where(odd, -1, 1), 0))
            return xp.where(neg, inv, r)
    floating = getattr(getattr(self, "dtype", None), "kind", "") == "f"
    # PyTorch's CPU kernel for float16 is plain pow (pow(-0, 0.5) = +0); its CUDA kernel
    # takes the special cases for every float dtype
    if floating and not hasattr(exponent, "dtype") and not (xp is _np and
                                                           self.dtype == _np.float16):
        special = _scalar_power(xp, self, float(exponent))
        if special is not None:
            return special
    r = xp.power(self, exponent)
    if xp is _np and floating and getattr(exponent, "dtype", None) is not None:
        # NumPy takes sqrt for a 0-dim (or stride-0) exponent of 0.5: pow(-0, .5) is +0 and
        # pow(-inf, .5) +inf, as PyTorch's pow of two tensors gives
        fix = (exponent == 0.5) & ((self == 0) | (self == -_np.inf))
        if fix.any():
            r = xp.where(fix, xp.abs(self), r)
    return r


def _bool_power(kinds):
    """PyTorch's pow computes in bool only for a bool tensor to a Python bool (its
    exponent-0 and exponent-1 shortcuts); bool tensors otherwise have no pow kernel."""
    if all(k[0] is _dt.bool for k in kinds) and not (
            len(kinds) == 2 and kinds[0][1] != _dt.SCALAR and kinds[1][1] == _dt.SCALAR):
        raise NotImplementedError('"pow" not implemented for \'Bool\'')


power.op.check_kinds = power.op.inplace_variant.check_kinds = _bool_power


def _scalar_power(xp, x, e):
    """x ** e for a Python-number exponent where PyTorch computes it another way than pow
    (sqrt, rsqrt, square, cube, reciprocal): their answers differ at -0, -inf and in the
    last bit. None for any other exponent."""
    if e == 0.5:
        return xp.sqrt(x)
    if e == -0.5:
        return 1 / xp.sqrt(x)
    if e == 2:
        return x * x
    if e == 3:
        return x * x * x
    if e == -1:
        return 1 / x
    if e == -2:
        return 1 / (x * x)
    return None


@op("aten::neg(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=NO_BOOL,
    scalar="-{self}")
def neg(xp, self):
    return xp.negative(self)


@op("aten::abs(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=NO_BOOL,
    scalar="abs({self})")
def abs(xp, self):
    return xp.abs(self)


def _no_bool_negation(kinds):
    if kinds[0][0] is _dt.bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


neg.op.check_kinds = neg.op.inplace_variant.check_kinds = _no_bool_negation


@op("aten::sign(Tensor self) -> Tensor", tags=_PW, inplace=True,
    scalar="where({self} > 0, 1, 0) - where({self} < 0, 1, 0)")
def sign(xp, self):
    """-1, 0 or 1; NaN gives 0 and bool stays bool, as in PyTorch."""
    return _sign(xp, self)


def _sign(xp, self):
    if self.dtype.kind == "b":
        return self.copy()
    return (self > 0).astype(self.dtype) - (self < 0).astype(self.dtype)


@op("aten::sgn(Tensor self) -> Tensor", tags=_PW, inplace=True,
    scalar="where({self} > 0, 1, 0) - where({self} < 0, 1, 0)")
def sgn(xp, self):
    """sign(x) for real dtypes (x / |x| is for complex numbers, which gpujit has not)."""
    return _sign(xp, self)


@op("aten::positive(Tensor(a) self) -> Tensor(a)", tags=_PW, dtypes=NO_BOOL,
    scalar="{self}")
def positive(xp, self):
    return self


def _square_types(ct):
    # square is pow(self, 2): a bool tensor with the int scalar 2 computes in int64
    if ct is _dt.bool:
        ct = _dt.int64
    return ct, ct


@op("aten::square(Tensor self) -> Tensor", tags=_PW, inplace=True, promote=_square_types,
    scalar="{self} * {self}")
def square(xp, self):
    return xp.multiply(self, self)


# ------------------------------------------------------------------ float math

@op("aten::exp(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="exp({self})")
def exp(xp, self):
    return xp.exp(self)


@op("aten::tanh(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    functional=True, scalar="tanh({self})")
def tanh(xp, self):
    return xp.tanh(self)


@op("aten::sigmoid(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    functional=True, scalar="1 / (1 + exp(-{self}))")
def sigmoid(xp, self):
    x = _f32(self)
    if x.ndim == 0:
        return 1 / (1 + xp.exp(-x))
    # one temporary, updated in place: a third fewer allocations than 1 / (1 + exp(-x))
    t = xp.negative(x)
    xp.exp(t, out=t)
    t += _one_of(t.dtype)
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
        return getattr(xp, ufunc)(self)
    impl.__name__ = name
    return impl


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
    return 1 / xp.sqrt(_f32(self))


@op("aten::reciprocal(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="1 / {self}")
def reciprocal(xp, self):
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
    return _special.polygamma(xp, n, self).astype(_polygamma_out(self.dtype), copy=False)


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


# eps=None is PyTorch's eps=-1: no clamping. Clamping to [e, 1-e] with any e < 0 changes
# only inputs outside [0, 1], whose logit is NaN either way, so one expression covers both.
# PyTorch clamps as x < lo ? lo : (x > hi ? hi : x) (eps > 0.5: lo > hi), with lo = eps and
# hi = 1 - lo in the computation dtype: float16 rounds 1 - 1e-6 to 1, so logit(1.) is inf.
# CAST rounds to that dtype; the kernels (scalar_codegen._expression) name it, float64 needs
# none.
_LOGIT_LO = "CAST(ifnone({eps}, -1))"
_LOGIT_HI = f"CAST(1 - {_LOGIT_LO})"
_LOGIT_Z = (f"where({{self}} < {_LOGIT_LO}, {_LOGIT_LO}, "
            f"where({{self}} > {_LOGIT_HI}, {_LOGIT_HI}, {{self}}))")
_LOGIT = f"log({_LOGIT_Z} / (1 - {_LOGIT_Z}))"


def logit_expression(ct):
    """logit's scalar expression computing in dtype ct (its bounds rounded to ct)."""
    cast = f"cast_{ct.name}" if ct in (_dt.float16, _dt.float32) else ""
    return _LOGIT.replace("CAST", cast)


@op("aten::logit(Tensor self, float? eps=None) -> Tensor", tags=_PW, inplace=True,
    promote="float", scalar=_LOGIT.replace("CAST", ""))
def logit(xp, self, eps=None):
    x = _f32(self)
    if eps is not None and eps >= 0:
        t = self.dtype.type
        lo = t(eps)
        with _np.errstate(all="ignore"):
            hi = t(1) - lo              # rounded in self's dtype, as PyTorch's
        x = xp.where(x < lo, lo, xp.where(x > hi, hi, x))
    return xp.log(x / (1 - x))


# ------------------------------------------------------------------ rounding

def _rounding(name, ufunc):
    # (bool tensors are refused, as PyTorch: '"floor_vml_cpu" not implemented for 'Bool'')
    @op(f"aten::{name}(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=NO_BOOL,
        scalar=f"{name}({{self}})")
    def impl(xp, self):
        if self.dtype.kind in "biu":
            return self.copy()      # integers are already integral; PyTorch returns a copy
        return getattr(xp, ufunc)(self)
    impl.__name__ = name
    return impl


floor = _rounding("floor", "floor")
ceil = _rounding("ceil", "ceil")
trunc = _rounding("trunc", "trunc")
round_ = _rounding("round", "rint")      # half to even, as torch.round


@op("aten::round.decimals(Tensor self, *, int decimals) -> Tensor", tags=_PW, inplace=True,
    dtypes=FLOATS,
    scalar="where({decimals} >= 0, round({self} * 10.0 ** {decimals}) / 10.0 ** {decimals}, "
           "round({self} / 10.0 ** -{decimals}) * 10.0 ** -{decimals})")
def round_decimals(xp, self, decimals):
    if decimals == 0:
        return xp.rint(self)
    x = _f32(self)
    if decimals > 0:
        p = 10.0 ** decimals
        return xp.rint(x * p) / p
    p = 10.0 ** -decimals
    return xp.rint(x / p) * p


@op("aten::frac(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=FLOATS,
    scalar="{self} - trunc({self})")
def frac(xp, self):
    return self - xp.trunc(self)


# ------------------------------------------------------------------ clamping, min/max

def _clamp(xp, self, min=None, max=None, name="clamp"):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if self.dtype == bool and min is not None and max is not None:
        # (bool clamps with one tensor bound, which PyTorch runs as clamp_min/clamp_max)
        raise _reg.UnsupportedDtypeError(f"{name} does not support dtype bool with both "
                                         f"bounds (one bound only)")
    if min is not None:
        # maximum/minimum propagate NaN, as clamp does; self on ties (signed zeros)
        self = _tie_first(xp, "maximum", self, min)
    if max is not None:
        self = _tie_first(xp, "minimum", self, max)
    return self


# min(max(x, lo), hi), a missing bound leaving x (or max(x, lo)) as it is
_CLAMP_LO = "maximum({self}, ifnone({min}, {self}))"
_CLAMP = f"minimum({_CLAMP_LO}, ifnone({{max}}, {_CLAMP_LO}))"


def _declare_clamp(name):
    ops = []
    for schema, operands in (
            (f"aten::{name}(Tensor self, Scalar? min=None, Scalar? max=None) -> Tensor",
             ("self", "min", "max")),
            (f"aten::{name}.Tensor(Tensor self, Tensor? min=None, Tensor? max=None) -> Tensor",
             None)):
        def impl(xp, self, min=None, max=None):
            return _clamp(xp, self, min, max, name)
        impl.__name__ = name
        # bool: with tensor bounds only (PyTorch's clamp_min/clamp_max.Tensor take bool;
        # a Python number bound, clamp's Scalar overload, does not)
        ops.append(op(schema, tags=_PW, inplace=True, operands=operands, scalar=_CLAMP,
                      dtypes=NO_BOOL if operands else _dt.ALL)(impl))
    return ops


clamp, clamp_tensor = _declare_clamp("clamp")
clip, clip_tensor = _declare_clamp("clip")


def _declare_clamp_bound(name, ufunc, arg):
    ops = []
    for schema, operands in ((f"aten::{name}(Tensor self, Scalar {arg}) -> Tensor",
                              ("self", arg)),
                             (f"aten::{name}.Tensor(Tensor self, Tensor {arg}) -> Tensor",
                              None)):
        def impl(xp, self, bound):
            return _tie_first(xp, ufunc, self, bound)
        impl.__name__ = name
        ops.append(op(schema, tags=_PW, inplace=True, operands=operands,
                      dtypes=NO_BOOL if operands else _dt.ALL,     # bool: tensor bound only
                      scalar=f"{ufunc}({{self}}, {{{arg}}})")(impl))
    return ops


clamp_min, clamp_min_tensor = _declare_clamp_bound("clamp_min", "maximum", "min")
clamp_max, clamp_max_tensor = _declare_clamp_bound("clamp_max", "minimum", "max")


@op("aten::maximum(Tensor self, Tensor other) -> Tensor", tags=_PW,
    scalar="maximum({self}, {other})")
def maximum(xp, self, other):
    return _tie_first(xp, "maximum", self, other)      # NaN-propagating, as torch.maximum


@op("aten::minimum(Tensor self, Tensor other) -> Tensor", tags=_PW,
    scalar="minimum({self}, {other})")
def minimum(xp, self, other):
    return _tie_first(xp, "minimum", self, other)


# ------------------------------------------------------------------ comparisons, tests

def _cmp(name, ufunc, sym):
    @op(f"aten::{name}.Tensor(Tensor self, Tensor other) -> Tensor",
        tags=_PW | {"comparison"}, promote="compare", inplace=True,
        scalar=f"{{self}} {sym} {{other}}")
    def impl(xp, self, other):
        return getattr(xp, ufunc)(self, other)
    impl.__name__ = name
    return impl


eq = _cmp("eq", "equal", "==")
ne = _cmp("ne", "not_equal", "!=")
lt = _cmp("lt", "less", "<")
le = _cmp("le", "less_equal", "<=")
gt = _cmp("gt", "greater", ">")
ge = _cmp("ge", "greater_equal", ">=")


def _float_test(name, if_integral):
    @op(f"aten::{name}(Tensor self) -> Tensor", tags=_PW, promote="compare",
        scalar=f"{name}({{self}})")
    def impl(xp, self):
        if self.dtype.kind in "biu":
            return (xp.ones if if_integral else xp.zeros)(self.shape, dtype=bool)
        return getattr(xp, name)(self)
    impl.__name__ = name
    return impl


isnan = _float_test("isnan", False)
isinf = _float_test("isinf", False)
isfinite = _float_test("isfinite", True)


def _signed_inf_test(name, sign):
    @op(f"aten::{name}(Tensor self) -> Tensor", tags=_PW, promote="compare",
        scalar=f"isinf({{self}}) & ({{self}} {'>' if sign > 0 else '<'} 0)")
    def impl(xp, self):
        if self.dtype.kind in "biu":
            return xp.zeros(self.shape, dtype=bool)
        return xp.isinf(self) & ((self > 0) if sign > 0 else (self < 0))
    impl.__name__ = name
    return impl


isposinf = _signed_inf_test("isposinf", 1)
isneginf = _signed_inf_test("isneginf", -1)


@op("aten::signbit(Tensor self) -> Tensor", tags=_PW, promote="compare",
    scalar="copysign(1.0, {self}) < 0")
def signbit(xp, self):
    if self.dtype == bool:
        return xp.zeros(self.shape, dtype=bool)
    return xp.signbit(self)


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


@op("aten::logaddexp(Tensor self, Tensor other) -> Tensor", tags=_PW, promote="float",
    dtypes=NO_BOOL, scalar="where({self} == {other}, {self} + 0.6931471805599453, "
    "maximum({self}, {other}) + log1p(exp(-abs({self} - {other}))))")
def logaddexp(xp, self, other):
    return xp.logaddexp(self, other)


@op("aten::logaddexp2(Tensor self, Tensor other) -> Tensor", tags=_PW, promote="float",
    dtypes=NO_BOOL, scalar="where({self} == {other}, {self} + 1, maximum({self}, {other}) "
    "+ log1p(exp2(-abs({self} - {other}))) * 1.4426950408889634)")
def logaddexp2(xp, self, other):
    return xp.logaddexp2(self, other)


@op("aten::xlogy.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, promote="float",
    scalar="where(isnan({other}), {other}, where({self} == 0, 0, {self} * log({other})))")
def xlogy(xp, self, other):
    self, other, rt = _common_scalars(xp, self, other)
    with _np.errstate(divide="ignore", invalid="ignore"):
        # (a Python number for self or other: CuPy's where takes only an array condition)
        return xp.where(xp.asarray(xp.isnan(other)), other,
                        xp.where(xp.asarray(self == 0), 0, self * xp.log(other))).astype(rt)


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
        return xp.where(xp.asarray(xp.isnan(other)), other,
                        xp.where(xp.asarray(self == 0), 0, self * xp.log1p(other))).astype(rt)


# -x log(x) for x > 0, 0 at 0, -inf below 0 (log of False, 0: an infinity the scalar
# language can write), NaN for NaN
@op("aten::special_entr(Tensor self) -> Tensor", **_SPECIAL,
    scalar="where({self} > 0, -{self} * log({self}), where({self} == 0, 0, "
           "where({self} < 0, log({self} != {self}), {self})))")
def special_entr(xp, self):
    x = _f32(self)
    with _np.errstate(divide="ignore", invalid="ignore"):
        out = xp.where(x > 0, -x * xp.log(xp.where(x > 0, x, 1)), x * 0)
        return xp.where(x < 0, -_np.inf, out).astype(x.dtype)


# the standard normal CDF, (1 + erf(x / sqrt 2)) / 2 = erfc(-x / sqrt 2) / 2
@op("aten::special_ndtr(Tensor self) -> Tensor", **_SPECIAL,
    scalar="erfc({self} * -0.7071067811865476) * 0.5")
def special_ndtr(xp, self):
    return _special.erfc(xp, _f32(self) * -0.7071067811865476) * 0.5


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
    return xp.nextafter(self, other)


@op("aten::ldexp.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    promote="float", scalar="{self} * exp2(trunc({other} * 0.5)) * exp2(where("
                            "isinf({other}), {other}, {other} - trunc({other} * 0.5)))")
def ldexp(xp, self, other):
    """self * 2 ** other, scaled in two halves so that 2 ** other does not overflow where
    the product does not (exact for integer exponents, as PyTorch's ldexp with an integer
    tensor: 1e-30 * 2 ** 130 is finite); float16 computes in float32. An infinite exponent
    scales by inf (or 0) in both halves (inf - inf would be NaN)."""
    s, o = _f32(self), _f32(other)
    h = xp.trunc(o * 0.5)
    with _np.errstate(invalid="ignore"):
        rest = xp.where(xp.isinf(o), o, o - h)
    return s * xp.exp2(h) * xp.exp2(rest)


def _float_power_types(ct):
    return _dt.float64, _dt.float64


@op("aten::float_power.Tensor_Tensor(Tensor self, Tensor exponent) -> Tensor", tags=_PW,
    inplace=True, promote=_float_power_types, scalar="{self} ** {exponent}",
    number_args={"exponent": "weak"})
def float_power(xp, self, exponent):
    """pow computed in float64 (both operands converted first), for every input dtype;
    the in-place form needs a float64 self, as PyTorch."""
    return power(xp, self, exponent)


float_power.op.inplace_variant.inplace_exact_dtype = True


@op("aten::sinc(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="where({self} == 0, 1, sin({self} * 3.141592653589793) / "
           "({self} * 3.141592653589793))")
def sinc(xp, self):
    with _np.errstate(divide="ignore", invalid="ignore"):
        t = _f32(self) * 3.141592653589793          # (float16 in float32, rounded once)
        return xp.where(self == 0, 1, xp.sin(t) / t).astype(self.dtype)


@op("aten::heaviside(Tensor self, Tensor values) -> Tensor", tags=_PW,
    scalar="where({self} == 0, {values}, where({self} > 0, 1, 0))")
def heaviside(xp, self, values):
    return xp.where(xp.asarray(self == 0), values, xp.where(xp.asarray(self > 0), 1, 0)).astype(
        xp.result_type(self, values))


@op("aten::nan_to_num(Tensor self, float? nan=None, float? posinf=None, float? neginf=None) "
    "-> Tensor", tags=_PW, inplace=True,
    scalar="where(isnan({self}), ifnone({nan}, 0), where(isinf({self}), where({self} > 0, "
           "ifnone({posinf}, nextafter({self}, 0)), ifnone({neginf}, nextafter({self}, 0))), "
           "{self}))")
def nan_to_num(xp, self, nan=None, posinf=None, neginf=None):
    """NaN -> nan (0), +-inf -> posinf/neginf (the dtype's largest finite values)."""
    if self.dtype.kind in "biu":
        return self.copy()
    return xp.nan_to_num(self, nan=0.0 if nan is None else nan, posinf=posinf,
                         neginf=neginf)


# ------------------------------------------------------------------ logical, bitwise

def _logical(name, ufunc, scalar, unary=False):
    sig = "Tensor self" if unary else "Tensor self, Tensor other"

    @op(f"aten::{name}({sig}) -> Tensor", tags=_PW, promote="compare", inplace=True,
        scalar=scalar)
    def impl(xp, self, *other):
        return getattr(xp, ufunc)(self, *other)
    impl.__name__ = name
    return impl


logical_and = _logical("logical_and", "logical_and", "({self} != 0) & ({other} != 0)")
logical_or = _logical("logical_or", "logical_or", "({self} != 0) | ({other} != 0)")
logical_xor = _logical("logical_xor", "logical_xor", "({self} != 0) ^ ({other} != 0)")
logical_not = _logical("logical_not", "logical_not", "{self} == 0", unary=True)


def _bitwise(name, ufunc, scalar, dtypes=INTS, unary=False):
    sig = "Tensor self" if unary else "Tensor self, Tensor other"
    overload = "" if unary else ".Tensor"

    @op(f"aten::{name}{overload}({sig}) -> Tensor", tags=_PW, inplace=True, dtypes=dtypes,
        scalar=scalar)
    def impl(xp, self, *other):
        # NumPy's (and CUDA's) shifts by >= the bit width or by a negative amount give 0
        # (or the sign fill for >>), which is what PyTorch defines
        return getattr(xp, ufunc)(self, *other)
    impl.__name__ = name
    return impl


bitwise_and = _bitwise("bitwise_and", "bitwise_and", "{self} & {other}")
bitwise_or = _bitwise("bitwise_or", "bitwise_or", "{self} | {other}")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor", "{self} ^ {other}")
bitwise_not = _bitwise("bitwise_not", "invert", "~{self}", unary=True)
bitwise_left_shift = _bitwise("bitwise_left_shift", "left_shift", "{self} << {other}",
                              dtypes=_dt.INTEGRAL_TYPES)
bitwise_right_shift = _bitwise("bitwise_right_shift", "right_shift", "{self} >> {other}",
                               dtypes=_dt.INTEGRAL_TYPES)


# ------------------------------------------------------------------ selection

def _operand_kind(v):
    if isinstance(v, TensorMeta):
        return (v.dtype, _dt.ZERO_DIM if len(v.shape) == 0 else _dt.DIM)
    return _reg.scalar_kind(v)


def _meta_device(*metas):
    ts = [m for m in metas if isinstance(m, TensorMeta)]
    return next((m.device for m in ts if len(m.shape)), ts[0].device)


def _where_meta(condition, self, other):
    dt = _dt.result_type_from_kinds((_operand_kind(self), _operand_kind(other)))
    metas = [m for m in (condition, self, other) if isinstance(m, TensorMeta)]
    return TensorMeta(dt, broadcast_shapes(*(m.shape for m in metas)), _meta_device(*metas))


@op("aten::where.self(Tensor condition, Tensor self, Tensor other) -> Tensor", tags=_PW,
    operands=("self", "other"), method=False, meta=_where_meta,
    scalar="where({condition}, {self}, {other})")
def where(xp, condition, self, other):
    if condition.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                           f"tensor with dtype {_short(condition.dtype)}")
    return xp.where(condition, self, other)     # (a broadcast failure: registry's words)


@_reg.tensor_method("where")
def _tensor_where(self, condition, y):
    """x.where(condition, y) is where(condition, x, y)."""
    return _reg.OPS["aten::where.self"].public(condition, self, y)


def _masked_fill_meta(self, mask, value):
    return TensorMeta(self.dtype, broadcast_shapes(self.shape, mask.shape), self.device)


def _masked_fill(xp, self, mask, value):
    if mask.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with "
                           f"dtype {_short(mask.dtype)}")
    return xp.where(mask, value, self)   # the registry casts to self's dtype


@op("aten::masked_fill.Tensor(Tensor self, Tensor mask, Tensor value) -> Tensor", tags=_PW,
    inplace=True, operands=("self",), meta=_masked_fill_meta, contiguous=True,
    scalar="where({mask}, {value}, {self})")
def masked_fill_tensor(xp, self, mask, value):
    if value.ndim != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    return _masked_fill(xp, self, mask, value)


@op("aten::masked_fill.Scalar(Tensor self, Tensor mask, Scalar value) -> Tensor", tags=_PW,
    inplace=True, operands=("self",), meta=_masked_fill_meta, contiguous=True,
    scalar="where({mask}, {value}, {self})")
def masked_fill(xp, self, mask, value):
    return _masked_fill(xp, self, mask, value)


# masked_fill broadcasts mask with self (expand_outplace(mask, self)): a mismatch names the
# mask tensor a; masked_fill_ (a TensorIterator over self, mask) names self a
for _name in ("aten::masked_fill.Scalar", "aten::masked_fill.Tensor"):
    _reg.OPS[_name].broadcast_order = (1, 0, 2)


_LERP = ("where(abs({weight}) < 0.5, {self} + {weight} * ({end} - {self}), "
         "{end} - ({end} - {self}) * (1 - {weight}))")


def _lerp(xp, self, end, weight):
    # PyTorch's two-sided formula: exact at weight 0 and at weight 1
    s, e, w = _f32(self), _f32(end), _f32(weight)
    diff = e - s
    if not hasattr(w, "shape"):
        return s + w * diff if -0.5 < w < 0.5 else e - diff * (1 - w)
    return xp.where(xp.abs(w) < 0.5, s + w * diff, e - diff * (1 - w))


@op("aten::lerp.Tensor(Tensor self, Tensor end, Tensor weight) -> Tensor", tags=_PW,
    inplace=True, dtypes=FLOATS, scalar=_LERP, number_args={"weight": "opmath"})
def lerp_tensor(xp, self, end, weight):
    return _lerp(xp, self, end, weight)


@op("aten::lerp.Scalar(Tensor self, Tensor end, Scalar weight) -> Tensor", tags=_PW,
    inplace=True, dtypes=FLOATS, scalar=_LERP, number_args={"weight": "opmath"})
def lerp(xp, self, end, weight):
    return _lerp(xp, self, end, weight)


@op("aten::addcmul(Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1) -> Tensor",
    tags=_PW, inplace=True, dtypes=NO_BOOL, scalar="{self} + {value} * {tensor1} * {tensor2}",
    number_args={"value": "int_in_int"})
def addcmul(xp, self, tensor1, tensor2, value=1):
    s, t1 = _f32(self), _f32(tensor1)
    if type(value) is float and _kind(s, t1) in "iu":
        value = int(value)          # PyTorch converts it to the integer dtype (0.5 -> 0)
    value = _wrap_scalar(value, s, t1)
    return s + value * t1 * tensor2 if value != 1 else s + t1 * tensor2


def _addcdiv_types(ct, value):
    if ct.category != _dt.FLOATING:
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic "
            "addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / "
            "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
            "tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    return ct, ct


@op("aten::addcdiv(Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1) -> Tensor",
    tags=_PW, inplace=True, promote=_addcdiv_types,
    scalar="{self} + {value} * {tensor1} / {tensor2}")
def addcdiv(xp, self, tensor1, tensor2, value=1):
    s, t1 = _f32(self), _f32(tensor1)
    return s + value * t1 / tensor2 if value != 1 else s + t1 / tensor2


# the activations (relu, gelu, ...) are pointwise ops too; declared in their own module
from . import activation as _activation  # noqa: E402,F401


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd): written with registry ops, so they can be differentiated
# again (create_graph=True) and later traced and fused. The formulas, and the choices at
# kinks and ties, are PyTorch's (tools/autograd/derivatives.yaml, FunctionsManual.cpp).
import math as _math  # noqa: E402

from .registry import derivative as _derivative  # noqa: E402
from .registry import nondifferentiable as _nondifferentiable  # noqa: E402


def _gpujit():
    import gpujit    # the package sits above the registry: imported when a backward runs
    return gpujit


def _is_tensor(v):
    return isinstance(v, _gpujit().Tensor)


def _zero_grad(grad):
    """Piecewise-constant ops (floor, sign, x // y...): zero gradient, as PyTorch."""
    return _gpujit().zeros_like(grad)


def _keep(cond, grad):
    """grad where cond holds, 0 elsewhere (the shape of both, broadcast)."""
    return _gpujit().where(cond, grad, 0.0)


def _scaled(grad, k):
    return grad if k == 1 else grad * k


@_derivative(add)
def _add_grad(grad, alpha):
    return grad, (grad if alpha == 1 else grad * alpha)


@_derivative(sub)
def _sub_grad(grad, alpha):
    return grad, (-grad if alpha == 1 else grad * -alpha)


@_derivative(mul, reads={"self": ("other",), "other": ("self",)})
def _mul_grad(grad, self, other, needs_grad):
    return (grad * other if needs_grad[0] else None,
            grad * self if needs_grad[1] else None)


@_derivative(neg)
def _neg_grad(grad):
    return -grad


@_derivative(exp)
def _exp_grad(grad, result):
    return grad * result


@_derivative(tanh)
def _tanh_grad(grad, result):
    return grad * (1 - result * result)


@_derivative(sigmoid)
def _sigmoid_grad(grad, result):
    return grad * result * (1 - result)


@_derivative(rsub)
def _rsub_grad(grad, alpha):
    return (-grad if alpha == 1 else grad * -alpha), grad


@_derivative(div, reads={"self": ("other",), "other": ("self", "other")})
def _div_grad(grad, self, other, rounding_mode, needs_grad):
    if rounding_mode is not None:           # trunc / floor: piecewise constant
        return _zero_grad(grad), _zero_grad(grad)
    return (grad / other if needs_grad[0] else None,
            -grad * self / (other * other) if needs_grad[1] else None)


@_derivative(floor_divide)
def _floor_divide_grad(grad):
    return _zero_grad(grad), _zero_grad(grad)


@_derivative(remainder)
def _remainder_grad(grad, self, other):
    # self - other * floor(self / other)
    return grad, -grad * _gpujit().div(self, other, rounding_mode="floor")


@_derivative(fmod)
def _fmod_grad(grad, self, other):
    # self - other * trunc(self / other)
    return grad, -grad * _gpujit().div(self, other, rounding_mode="trunc")


@_derivative(power)
def _pow_grad(grad, self, exponent, result):
    """PyTorch's pow_backward_self / pow_backward_exponent: no gradient to the base where
    the exponent is 0, none to the exponent where 0 ** (e >= 0) is constant."""
    g = _gpujit()
    g_self = None
    if _is_tensor(self) and self.is_floating_point():    # an integer base takes none
        if not _is_tensor(exponent):
            g_self = (_zero_grad(grad) if exponent == 0
                      else grad * exponent * self ** (exponent - 1))
        else:
            g_self = g.where(exponent == 0, 0.0, grad * exponent * self ** (exponent - 1))
    if not _is_tensor(exponent):
        return g_self, None
    base = self.to(result.dtype) if _is_tensor(self) else g.full_like(result, self)
    g_exp = grad * g.where((base == 0) & (exponent >= 0), 0.0, result * base.log())
    return g_self, g_exp


@_derivative(atan2)
def _atan2_grad(grad, self, other):
    recip = (self * self + other * other).reciprocal()
    return grad * other * recip, grad * -self * recip


_LN2, _LN10 = _math.log(2.0), _math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / _math.sqrt(_math.pi)
_HALF_SQRT_PI = 0.5 * _math.sqrt(_math.pi)

# one-line derivatives of the unary ops: name -> fn(grad, self | result)
_UNARY_GRADS = {
    "abs": lambda grad, self: grad * self.sign(),           # 0 at 0
    "positive": lambda grad: grad,
    "frac": lambda grad: grad,
    "square": lambda grad, self: grad * 2 * self,
    "exp2": lambda grad, result: grad * result * _LN2,
    "expm1": lambda grad, result: grad * (result + 1),
    "log": lambda grad, self: grad / self,
    "log2": lambda grad, self: grad / (self * _LN2),
    "log10": lambda grad, self: grad / (self * _LN10),
    "log1p": lambda grad, self: grad / (self + 1),
    "sqrt": lambda grad, result: grad / (2 * result),
    "rsqrt": lambda grad, result: grad * -0.5 * result * result * result,
    "reciprocal": lambda grad, result: -grad * result * result,
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
    "erf": lambda grad, self: grad * _TWO_OVER_SQRT_PI * (-self * self).exp(),
    "erfc": lambda grad, self: grad * -_TWO_OVER_SQRT_PI * (-self * self).exp(),
    "erfinv": lambda grad, result: grad * _HALF_SQRT_PI * (result * result).exp(),
    "nan_to_num": lambda grad, self: grad * self.isfinite(),
    "lgamma": lambda grad, self: grad * self.digamma(),
    "digamma": lambda grad, self: grad * _gpujit().polygamma(1, self),
}
for _name, _fn in _UNARY_GRADS.items():
    _derivative(f"aten::{_name}")(_fn)
_derivative(floor, ceil, trunc, round_, round_decimals, sign, sgn)(_zero_grad)


@_derivative(polygamma, polygamma_)
def _polygamma_grad(grad, n, self):
    return grad * _gpujit().polygamma(n + 1, self)


@_derivative(logit)
def _logit_grad(grad, self, eps):
    g = grad / (self * (1 - self))
    if eps is None or eps < 0:              # no clamping: NaN outside [0, 1], as PyTorch
        return g.masked_fill((self < 0) | (self > 1), float("nan"))
    return g.masked_fill((self < eps) | (self > 1 - eps), 0)   # clamped: constant there


def _clamp_grad(grad, self, min=None, max=None):
    """PyTorch's clamp_backward_min_max: self gets the gradient where no bound applied
    (at a bound too: subgradient 1), a bound where it did; with min > max the result is
    max everywhere, so only max gets it."""
    if min is None:
        g_self = _keep(self <= max, grad)
    elif max is None:
        g_self = _keep(self >= min, grad)
    else:
        g_self = _keep((self >= min) & (self <= max), grad)
    g_min = g_max = None
    if _is_tensor(min):
        g_min = _keep(self < min if max is None else (self < min) & (min < max), grad)
    if _is_tensor(max):
        g_max = _keep(self > max if min is None else (self > max) | (max < min), grad)
    return g_self, g_min, g_max


@_derivative(clamp, clip)
def _clamp_scalar_grad(grad, self, min, max):
    return _clamp_grad(grad, self, min, max)[0]


@_derivative(clamp_tensor, clip_tensor)
def _clamp_tensor_grad(grad, self, min, max):
    return _clamp_grad(grad, self, min, max)


@_derivative(clamp_min)
def _clamp_min_scalar_grad(grad, self, min):
    return _keep(self >= min, grad)


@_derivative(clamp_max)
def _clamp_max_scalar_grad(grad, self, max):
    return _keep(self <= max, grad)


@_derivative(clamp_min_tensor)
def _clamp_min_grad(grad, self, min):
    g_self, g_min, _ = _clamp_grad(grad, self, min=min)
    return g_self, g_min


@_derivative(clamp_max_tensor)
def _clamp_max_grad(grad, self, max):
    g_self, _, g_max = _clamp_grad(grad, self, max=max)
    return g_self, g_max


@_derivative(maximum)
def _maximum_grad(grad, self, other):
    g = _gpujit().where(self == other, grad / 2, grad)     # ties: split evenly
    return g.masked_fill(self < other, 0), g.masked_fill(self > other, 0)


@_derivative(minimum)
def _minimum_grad(grad, self, other):
    g = _gpujit().where(self == other, grad / 2, grad)
    return g.masked_fill(self > other, 0), g.masked_fill(self < other, 0)


@_derivative(where, wrt=("self", "other"))
def _where_grad(grad, condition):
    return _keep(condition, grad), _keep(condition.logical_not(), grad)


@_derivative(masked_fill, wrt=("self",))
def _masked_fill_grad(grad, mask):
    return grad.masked_fill(mask, 0)


@_derivative(masked_fill_tensor, wrt=("self", "value"))
def _masked_fill_tensor_grad(grad, mask):
    return grad.masked_fill(mask, 0), _keep(mask, grad).sum()


@_derivative(lerp)
def _lerp_scalar_grad(grad, weight):
    return grad * (1 - weight), grad * weight


@_derivative(lerp_tensor)
def _lerp_grad(grad, self, end, weight):
    return grad * (1 - weight), grad * weight, grad * (end - self)


@_derivative(addcmul)
def _addcmul_grad(grad, tensor1, tensor2, value):
    return grad, _scaled(grad * tensor2, value), _scaled(grad * tensor1, value)


@_derivative(addcdiv)
def _addcdiv_grad(grad, tensor1, tensor2, value):
    g = _scaled(grad, value)
    return grad, g / tensor2, -g * tensor1 / (tensor2 * tensor2)


# ------------------------------------------------------------------ more float math: grads
# (PyTorch's derivatives.yaml formulas)

_derivative(deg2rad)(lambda grad, self: grad * (_math.pi / 180))
_derivative(rad2deg)(lambda grad, self: grad * (180 / _math.pi))


@_derivative(sinc)
def _sinc_grad(grad, self):
    px = self * _math.pi
    d = (px * px.cos() - px.sin()) / (px * self)
    return grad * d.masked_fill(self == 0, 0)


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


@_derivative(xlogy)
def _xlogy_grad(grad, self, other):
    return grad * other.log().masked_fill(self == 0, 0), grad * self / other


@_derivative(special_xlog1py)
def _xlog1py_grad(grad, self, other):
    return grad * other.log1p().masked_fill(self == 0, 0), grad * self / (other + 1)


@_derivative(special_entr)
def _entr_grad(grad, self):
    """-(1 + log x); -inf at 0 as PyTorch (NaN below 0)."""
    return grad * -(self.log() + 1)


@_derivative(special_ndtr)
def _ndtr_grad(grad, self):
    return grad * (self * self * -0.5).exp() * 0.3989422804014327


@_derivative(hypot)
def _hypot_grad(grad, self, other, result):
    return grad * self / result, grad * other / result


@_derivative(copysign)
def _copysign_grad(grad, self, result):
    """PyTorch's copysign_tensor_self_backward: +-grad by the sign change, 0 where self
    is 0; other gets none (a sign bit)."""
    ratio = (result / self).masked_fill(self == 0, 0)
    return grad * ratio, _zero_grad(grad)


@_derivative(ldexp)
def _ldexp_grad(grad, other, result):
    return grad * _gpujit().exp2(other), grad * result * _LN2


@_derivative(float_power)
def _float_power_grad(grad, self, exponent, result):
    """pow's derivative on the float64 operands float_power computes with."""
    g = _gpujit()
    if _is_tensor(self) and self.is_floating_point():
        self = self.to(g.float64)
    if _is_tensor(exponent) and exponent.is_floating_point():
        exponent = exponent.to(g.float64)
    return _pow_grad(grad, self, exponent, result)


_nondifferentiable(nextafter, reason="a step to the next representable number (PyTorch does "
                                     "not implement its derivative)")
_nondifferentiable(heaviside, reason="a step function (PyTorch does not differentiate "
                                     "heaviside either)")
