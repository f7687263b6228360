"""Python's `math` module on Python numbers, as scripted code calls it (`math.sqrt(n)`,
`math.floor(x)`): TorchScript's aten::sqrt.float(float a) -> float, floor.float -> int,
isnan.float -> bool, pow.float ... An int argument fits a float parameter.

TorchScript computes them with C's <cmath>, not Python's math: outside a function's domain
the result is IEEE's (math.log(0.0) is -inf, math.sqrt(-1.0) nan, math.exp(1000.0) inf)
where Python raises ValueError / OverflowError; a float that becomes an int (math.floor of
inf or nan) is TorchScript's RuntimeError('Cannot convert float inf to integer').
Declared after scalar_ops' numbers (scalar_ops imports this module at its end).
"""
from __future__ import annotations

import math as _math

import numpy as np

from .scalar_ops import _scalar_op, c_fmod, float_div, int64

MATH_OPS: set = set()      # the overloads math.<name> in scripted code resolves among
# those whose float parameter takes no int (TorchScript has no .int overload of them:
# math.isnan(n) of an int n is "Arguments for call are not valid", as is math.modf(n))
FLOAT_ONLY: set = set()

_INT64_MIN, _INT64_END = -2 ** 63, 2 ** 63


def _math_op(schema, fn):
    @_scalar_op(schema)
    def impl(xp, *args):
        return fn(*args)
    name = schema.split("(", 1)[0]
    MATH_OPS.add(name)
    impl.__name__ = name.split("::")[1].replace(".", "_")
    impl.__doc__ = f"C's {fn.__name__} on Python numbers (Python's math.{fn.__name__} " \
                   f"where it has a result)."
    return impl


def _load_libm():
    """C's math library, which TorchScript's <cmath> calls (glibc's libm on Linux), or
    None where ctypes cannot load one: its results are C's to the last bit and the sign of
    a nan (log(-1.0) is glibc's +nan, sqrt(-1.0) the hardware's -nan, both written by
    str()), where Python's math raises or computes its own (gamma, lgamma, atan2 of nan)."""
    try:
        import ctypes
        import ctypes.util
    except ImportError:                                    # pragma: no cover
        return None
    for name in ("libm.so.6", "m"):
        try:
            return ctypes.CDLL(name if name != "m" else ctypes.util.find_library("m"))
        except (OSError, TypeError):
            continue
    return None                                            # pragma: no cover


_LIBM = _load_libm()


def _libm_function(name, nargs):
    """libm's `double name(double, ...)` as a Python function, or None."""
    import ctypes
    fn = getattr(_LIBM, name, None) if _LIBM is not None else None
    if fn is None:
        return None
    fn.restype, fn.argtypes = ctypes.c_double, [ctypes.c_double] * nargs
    return fn


def _c_function(py, np_fn, c_name=None, nargs=1):
    """math.<name> as C computes it: libm's function; without one, Python's with C's
    result where Python raises (nan / +-inf, from NumPy's float64 function)."""
    c_fn = _libm_function(c_name or py.__name__, nargs)
    if c_fn is not None:
        def fn(*args):
            return c_fn(*args)
    else:
        def fn(*args):
            try:
                return py(*args)
            except (ValueError, OverflowError):
                with np.errstate(all="ignore"):
                    return float(np_fn(*(np.float64(a) for a in args)))
    fn.__name__ = py.__name__
    return fn


def _cannot_convert(a):
    raise RuntimeError(f"Cannot convert float {float(a):f} to integer")


def _rounding(py):
    """math.floor / ceil / trunc: an int64, TorchScript's RuntimeError for inf, nan and
    values past int64."""
    def fn(a):
        if a != a or a in (float("inf"), float("-inf")):
            _cannot_convert(a)
        r = py(a)
        if _INT64_MIN <= r < _INT64_END:
            return r
        if r == _INT64_END:
            # exactly 2**63: c10's range check compares with (double)INT64_MAX, which is
            # 2**63, and lets it through; x86's conversion then gives INT64_MIN, and ceil
            # (floor's int, plus 1 where it differs from a) INT64_MIN + 1 (torch 2.13:
            # math.floor(2.0**63) -9223372036854775808, math.ceil -9223372036854775807)
            return _INT64_MIN + (1 if py is _math.ceil else 0)
        return _cannot_convert(a)
    fn.__name__ = py.__name__
    return fn


_NUMPY_NAMES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2",
                "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh"}

# (TorchScript's builtin table has no math.log2, math.trunc nor math.hypot: scripted code
# refuses them, as it refuses cbrt, exp2, isqrt...; see builtin_calls.math_call)
for _name in ("sqrt", "exp", "log10", "fabs", "sin", "cos", "tan", "tanh",
              "asin", "acos", "atan", "sinh", "cosh", "expm1", "log1p", "asinh", "acosh",
              "atanh"):
    globals()[f"{_name}_float"] = _math_op(
        f"aten::{_name}.float(float a) -> float",
        _c_function(getattr(_math, _name), getattr(np, _NUMPY_NAMES.get(_name, _name))))


def _log_compat(c_log):
    """C's log as TorchScript's build links it (glibc's log@GLIBC_2.2.5 wrapper, through
    its SVID error handler): +nan for a negative argument (log(-1.0), log(-inf)), where
    the current symbol a fresh process finds answers the hardware's -nan."""
    def log(a):
        return _NAN if a < 0 else c_log(a)
    return log


_NAN = float("nan")
_c_log = _log_compat(_c_function(_math.log, np.log))
log_float = _math_op("aten::log.float(float a) -> float", _c_log)
for _name in ("floor", "ceil"):
    globals()[f"{_name}_float"] = _math_op(f"aten::{_name}.float(float a) -> int",
                                           _rounding(getattr(_math, _name)))
for _name in ("isnan", "isinf", "isfinite"):
    globals()[f"{_name}_float"] = _math_op(f"aten::{_name}.float(float a) -> bool",
                                           getattr(_math, _name))
    FLOAT_ONLY.add(f"aten::{_name}.float")


def _py_gamma(a):
    try:
        return _math.gamma(a)
    except OverflowError:
        return float("inf")
    except ValueError:            # C's tgamma: +-inf at +-0, nan at negative ints, -inf
        return _math.copysign(float("inf"), a) if a == 0 else float("nan")


def _py_lgamma(a):
    try:
        return _math.lgamma(a)
    except (ValueError, OverflowError):      # poles (0, negative ints): inf
        return float("inf")


# C's tgamma / lgamma (Python's own gamma and lgamma differ from glibc's in the last bits:
# math.gamma(0.5) is 1.7724538509055159, C's 1.7724538509055161)
_gamma = _c_function(_py_gamma, None, "tgamma")
_gamma.__name__ = "gamma"
_lgamma = _c_function(_py_lgamma, None, "lgamma")
_lgamma.__name__ = "lgamma"


for _name, _fn in (("gamma", _gamma), ("lgamma", _lgamma), ("erf", _math.erf),
                   ("erfc", _math.erfc), ("degrees", _math.degrees),
                   ("radians", _math.radians)):
    globals()[f"{_name}_float"] = _math_op(f"aten::{_name}.float(float a) -> float", _fn)


def _factorial(a):
    """TorchScript's factorial: an int64 product, wrapping around past 20! (21! is
    -4249290049419214848). From 66! on the product has 64 factors of 2: 0 modulo 2**64
    (TorchScript's C++ loop, whose overflow is undefined behaviour, answers other values
    there)."""
    if a < 0:
        raise RuntimeError("factorial() not defined for negative values")
    return int64(_math.factorial(a)) if a < 66 else 0


def _gcd(a, b):
    """gcd of int64s: gcd(-2**63, 0) wraps to -2**63, as C++'s std::abs of it."""
    return int64(_math.gcd(a, b))


factorial_int = _math_op("aten::factorial.int(int a) -> int", _factorial)
gcd_int = _math_op("aten::gcd.int(int a, int b) -> int", _gcd)


_c_pow = _c_function(_math.pow, np.power, "pow", 2)


def _pow(a, b):
    """TorchScript's pow on Python numbers (C's pow): nan for a negative base to a
    fractional power, +-inf past the float range, where math.pow raises; 0.0 to a negative
    power is TorchScript's RuntimeError."""
    a, b = float(a), float(b)
    if a == 0.0 and b < 0.0:
        raise RuntimeError("0.0 cannot be raised to a negative power")
    return _c_pow(a, b)


# int ** int: a float in TorchScript (2 ** 3 is 8.0, 2 ** -1 is 0.5), before pow.float
pow_int = _math_op("aten::pow.int(int a, int b) -> float", _pow)
for _name in ("pow", "atan2", "fmod", "copysign"):
    _fn = {"pow": _pow, "fmod": c_fmod}.get(_name) or _c_function(
        getattr(_math, _name), getattr(np, _NUMPY_NAMES.get(_name, _name)), nargs=2)
    globals()[f"{_name}_float"] = _math_op(f"aten::{_name}.float(float a, float b) -> float",
                                           _fn)


def _py_remainder(a, b):
    """math.remainder (C's IEEE remainder: the nearest multiple, ties to even); nan where
    Python raises (a zero divisor, an infinite dividend)."""
    try:
        return _math.remainder(a, b)
    except ValueError:
        return float("nan")


_remainder = _c_function(_py_remainder, None, "remainder", 2)
mathremainder_float = _math_op("aten::mathremainder.float(float a, float b) -> float",
                               _remainder)    # (TorchScript's name: `%` is aten::remainder)


@_scalar_op("aten::modf(float a) -> (float, float)", meta=lambda a: (float, float))
def modf_float(xp, a):
    """math.modf(x): its fractional and integral parts, each with x's sign."""
    return _math.modf(a)


MATH_OPS.add("aten::modf")
FLOAT_ONLY.add("aten::modf")


@_scalar_op("aten::frexp(float a) -> (float, int)", meta=lambda a: (float, int))
def frexp_float(xp, a):
    """math.frexp(x): mantissa and exponent (C's frexp: inf and nan keep their value,
    exponent 0)."""
    if a != a or a in (float("inf"), float("-inf")):
        return float(a), 0
    return _math.frexp(a)


MATH_OPS.add("aten::frexp")
FLOAT_ONLY.add("aten::frexp")


def _ldexp(a, i):
    """math.ldexp(x, i): x * 2**i, C's (+-inf past the float range, where Python raises)."""
    try:
        return _math.ldexp(a, i)
    except OverflowError:
        return _math.copysign(float("inf"), a)


ldexp_float = _math_op("aten::ldexp(float x, int i) -> float", _ldexp)
FLOAT_ONLY.add("aten::ldexp")
# x.item() ** y.item(): numbers whose type is known only at run time
pow_scalar_scalar = _math_op("aten::pow.Scalar_Scalar(Scalar a, Scalar b) -> float", _pow)


def _log_base(a, base):
    """math.log(a, base): log(a) / log(base), each C's (log(8, 1) is inf)."""
    return float_div(_c_log(a), _c_log(base))


log_base = _math_op("aten::log.float_base(float a, float base) -> float", _log_base)


def _round(a):
    """round(x): TorchScript's aten::round.float, a float rounded half to even (C's
    nearbyint: round(2.5) is 2.0, round(-0.5) -0.0, round(inf) inf)."""
    a = float(a)
    if a != a or a in (float("inf"), float("-inf")):
        return a
    r = float(round(a))
    return _math.copysign(r, a) if r == 0.0 else r


round_float = _math_op("aten::round.float(float a) -> float", _round)
# round(n) of a number whose type is known at run time (TorchScript's round.Scalar: a float)
round_number = _math_op("aten::round.Scalar(Scalar a) -> float", _round)
# (no round(x, ndigits): TorchScript has no such schema, and torch 2.13 refuses
# `round(x, 1)` of a float, "Arguments for call are not valid")
