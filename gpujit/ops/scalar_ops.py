"""Python-scalar ops: the int / float / bool arithmetic, comparisons and conversions that
scripted graphs compute on (`i + 1`, `x.size(0) // 2`, `if n > 0:`, `int(t)`) and that
constant propagation folds. They take and return Python values, as TorchScript's
`aten::add.int(int a, int b) -> int` does, and are bound neither as gpujit functions nor as
Tensor methods (Python's own operators serve eager code).

This family is imported first (ops.FAMILIES), so each scalar overload comes before the
Tensor overloads of the same name in OVERLOADS. Resolution on IR types
(ir.schema_match.resolve_op) takes the first overload that fits, and the Tensor overloads
of pointwise ops accept numbers for their operands; a scalar overload never accepts a
Tensor, so `aten::add(%i, %j)` on ints resolves to add.int while a call with a Tensor still
resolves to add.Tensor. Within a name the int overload precedes the float one, because a
`float` argument also accepts an int (mixed int/float calls take the float overload).
"""
from __future__ import annotations

import operator
import struct as _struct
import re

from .registry import op

# qualified name -> the Python expression the op is, over its argument names: the
# executor's generated code writes `i + 1` for aten::add.int instead of calling the impl
PYTHON_FORMS: dict = {}

# every op declared here: its impl returns a Python value (no `.item()` needed)
PYTHON_VALUED: set = set()

# ints in scripted code are int64, as TorchScript's: the int ops whose result can leave
# int64's range (+, -, *, <<, //, unary -, abs) wrap it around (2**62 * 4 is 0, -2**63 // -1
# is -2**63); the generated code writes the op's Python form and then, where the result
# leaves a chain of + - * << (runtime/codegen_aten.py), `if r.bit_length() > 63: r =
# _wrap64(r)`
INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1
INT64_WRAPPED: set = set()


def wrap_int64(r: int) -> int:
    """r modulo 2**64, in int64's range (two's complement wrap-around)."""
    return ((r - INT64_MIN) & 0xFFFFFFFFFFFFFFFF) + INT64_MIN


def int64(r: int) -> int:
    return r if INT64_MIN <= r <= INT64_MAX else wrap_int64(r)


def _returns(t):
    """Meta rule of an op whose result is a Python value: its type."""
    def rule(*args):
        return t
    return rule


_META = {"int": _returns(int), "float": _returns(float), "bool": _returns(bool),
         "str": _returns(str)}


def _scalar_op(schema, meta=None, form=None):
    """@op for this family: unbound, meta from the return type, recorded above."""
    name = schema.split("(", 1)[0]
    ret = schema.rsplit("->", 1)[1].strip()
    PYTHON_VALUED.add(name)
    if form is not None:
        PYTHON_FORMS[name] = form
    return op(schema, meta=meta or _META[ret], function=False, method=False)


def _binary(name, fn, arg_type, ret_type, form, convert=None):
    if convert is int64:
        INT64_WRAPPED.add(f"aten::{name}.{arg_type}")

    @_scalar_op(f"aten::{name}.{arg_type}({arg_type} a, {arg_type} b) -> {ret_type}",
                form="{a} %s {b}" % form)
    def impl(xp, a, b):
        r = fn(a, b)
        return r if convert is None else convert(r)
    impl.__name__ = f"{name}_{arg_type}"
    impl.__doc__ = f"TorchScript's {form} on {arg_type}s."
    return impl


# ------------------------------------------------------------------ arithmetic
# TorchScript's semantics, which are C++'s where they differ from Python's: // and % on
# ints round toward -inf and a zero divisor raises RuntimeError('division by 0'); on floats
# (or an int with a float) `/` is IEEE division (1.0 / 0.0 is inf, 0.0 / 0.0 nan, never
# ZeroDivisionError), `//` is floor(a / b) (5.0 // 0.1 is 50.0, not Python's 49.0) and
# `%` is fmod(b + fmod(a, b), b) (nan for a zero divisor).

import math as _math  # noqa: E402

_INF, _NAN = float("inf"), float("nan")
# the nan an invalid float operation (0. / 0., inf - inf) gives on this machine: -nan on
# x86 (scripted str() writes its sign, as C's printf)
_DEFAULT_NAN = _INF - _INF


class IntegerDivisionByZero(ZeroDivisionError, RuntimeError):
    """PyTorch raises RuntimeError for integer division by zero (TorchScript's `a // 0`:
    'division by 0'; a CPU int tensor's: 'ZeroDivisionError'); this is both, so `except
    ZeroDivisionError` and `except RuntimeError` catch it."""


def int_division_by_zero(what="division"):
    """Raise `a // 0` / `a % 0` on ints (the generated code's forms call it as _int_div0)."""
    raise IntegerDivisionByZero(f"{what} by 0")


def _int_floordiv(a, b):
    return a // b if b else int_division_by_zero()


def _c_rem(a, b):
    """C's a % b: truncated, the sign of a."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _int_mod(a, b):
    """TorchScript's `a % b` on ints (aten::remainder.int): ((a % b) + b) % b in C's
    int64 arithmetic, which is Python's a % b until the sum wraps around: a divisor
    beyond 2**62 (-2 % -2**63 is 2**63 - 2 in TorchScript, 5 % (2**63 - 1) is
    -2**63 + 4)."""
    if not b:
        int_division_by_zero("modulo")
    if -_2_62 <= b <= _2_62:
        return a % b
    return _c_rem(int64(_c_rem(a, b) + b), b)


_2_62 = 1 << 62


def float_div_by_zero(a, b):
    """a / 0 as IEEE division gives it: +-inf (the sign of a times the sign of b), nan
    for 0 / 0 and nan / 0 (the generated code's `_fdiv0`)."""
    a = float(a)
    if a != a:
        return a                  # (a nan keeps its sign, as the hardware's division)
    if a == 0.0:
        return _DEFAULT_NAN       # 0 / 0: the hardware's default nan (x86's is -nan)
    return _math.copysign(_INF, a) * _math.copysign(1.0, b)


def float_div(a, b):
    """TorchScript's `a / b` on numbers: a float, IEEE on a zero divisor."""
    return a / b if b else float_div_by_zero(a, b)


def float_floordiv(a, b):
    """TorchScript's `a // b` with a float operand: floor(a / b), a float."""
    q = float_div(a, b)
    if q != q or q in (_INF, -_INF) or q == 0.0:
        return float(q)                       # nan, +-inf, +-0.0 (its sign kept)
    return float(_math.floor(q))


def c_fmod(a, b):
    """C's fmod: nan where math.fmod raises (a zero divisor, an infinite dividend)."""
    try:
        return _math.fmod(a, b)
    except ValueError:
        return _DEFAULT_NAN       # (C's fmod: x86's default nan, -nan)


def float_remainder(a, b):
    """TorchScript's `a % b` with a float operand: fmod(b + fmod(a, b), b), the sign of
    b's (as Python's), nan for a zero divisor or an infinite operand."""
    return c_fmod(b + c_fmod(float(a), float(b)), float(b))


_ARITH = (("add", operator.add, "+"), ("sub", operator.sub, "-"),
          ("mul", operator.mul, "*"), ("floordiv", operator.floordiv, "//"),
          ("remainder", operator.mod, "%"))
_INT_DIVISION = {"floordiv": (_int_floordiv, "({a} // {b} if {b} else _int_div0())"),
                 "remainder": (_int_mod, "_imod({a}, {b})")}
_FLOAT_DIVISION = {"floordiv": (float_floordiv, "_ffloordiv({a}, {b})"),
                   "remainder": (float_remainder, "_fremainder({a}, {b})")}
# qualified name -> its form for a divisor not known to be non-zero (PYTHON_FORMS holds
# the plain one, for a constant divisor)
GUARDED_FORMS: dict = {}
_DIV_GUARDED = "({a} / {b} if {b} else _fdiv0({a}, {b}))"

for _name, _fn, _form in _ARITH:
    if _name in _INT_DIVISION:
        _fn, GUARDED_FORMS[f"aten::{_name}.int"] = _INT_DIVISION[_name]
    # (% of int64s stays in range: _int_mod wraps its own sum)
    _wrap = int64 if _name != "remainder" else None
    globals()[f"{_name}_int"] = _binary(_name, _fn, "int", "int", _form, _wrap)
# constant divisors that still take the guarded form: an int % beyond 2**62 (_int_mod)
GUARDED_CONSTANTS = {"aten::remainder.int": lambda b: not -_2_62 <= b <= _2_62}
for _name, _fn, _form in _ARITH:
    _call = None
    if _name in _FLOAT_DIVISION:
        _fn, _call = _FLOAT_DIVISION[_name]
    globals()[f"{_name}_float"] = _binary(_name, _fn, "float", "float", _form, float)
    if _call is not None:
        PYTHON_FORMS[f"aten::{_name}.float"] = _call      # a helper, not Python's operator

div_int = _binary("div", float_div, "int", "float", "/")
div_float = _binary("div", float_div, "float", "float", "/", float)
GUARDED_FORMS["aten::div.int"] = GUARDED_FORMS["aten::div.float"] = _DIV_GUARDED

INT64_WRAPPED.update(("aten::neg.int", "prim::abs.int"))

# the names the forms above call, in the generated code's namespace
FORM_HELPERS = {"_int_div0": int_division_by_zero, "_fdiv0": float_div_by_zero,
                "_ffloordiv": float_floordiv, "_fremainder": float_remainder,
                "_wrap64": wrap_int64, "_imod": _int_mod}


@_scalar_op("aten::neg.int(int a) -> int", form="-{a}")
def neg_int(xp, a):
    return int64(-a)


@_scalar_op("aten::neg.float(float a) -> float", form="-{a}")
def neg_float(xp, a):
    return -float(a)


def _divmod(a, b, what):
    try:
        return divmod(a, b)
    except ZeroDivisionError:
        raise RuntimeError(f"ZeroDivisionError: {what}") from None


@_scalar_op("aten::divmod.int(int x, int y) -> (int, int)", meta=lambda x, y: (int, int))
def divmod_int(xp, x, y):
    """divmod(a, b) on ints (TorchScript's is Python's; a zero divisor is RuntimeError)."""
    return _divmod(x, y, "integer division or modulo by zero")


def _divmod_mixed(xp, x, y):
    """divmod of an int and a float (either order), as TorchScript's aten::divmod.int_float
    / float_int compute it: q = floor(x / y) through an int64 (so -0.0 is 0.0, and a nan or
    infinite quotient raises "Cannot convert float nan to integer"), r = x - q * y:
    divmod(-5, 2.5) is (-2.0, 0.0), divmod(7, 0.1) (70.0, -8.9e-16) (Python's (69.0,
    0.0999...)). (TorchScript's C++ also narrows the int to 32 bits and the float to
    float32 there, a defect gpujit leaves out, as README says of its others.)"""
    if y == 0:
        raise RuntimeError("ZeroDivisionError: float divmod()")
    t = x / y
    if t != t or t in (_INF, -_INF) or not INT64_MIN <= _math.floor(t) <= INT64_MAX:
        raise RuntimeError(f"Cannot convert float {t:f} to integer")
    q = float(_math.floor(t))
    return q, x - q * y


for _ta, _tb in (("int", "float"), ("float", "int")):
    _dm = _scalar_op(f"aten::divmod.{_ta}_{_tb}({_ta} x, {_tb} y) -> (float, float)",
                     meta=lambda x, y: (float, float))(_divmod_mixed)
    globals()[f"divmod_{_ta}_{_tb}"] = _dm


@_scalar_op("aten::divmod.float(float x, float y) -> (float, float)",
            meta=lambda x, y: (float, float))
def divmod_float(xp, x, y):
    """divmod(a, b) with a float, as TorchScript's aten::divmod.float computes it: r =
    fmod(a, b), moved by b when nonzero and of the other sign than b, and q = (a - r) / b
    (divmod(2.5, 0.1) is (24.000000000000004, 0.0999...), divmod(0.0, -2.5) is (-0.0,
    0.0), divmod(2.5, -inf) (nan, -inf); Python's floors q and signs a zero r as b); a
    zero divisor is RuntimeError."""
    a, b = float(x), float(y)
    if b == 0:
        raise RuntimeError("ZeroDivisionError: float divmod()")
    r = _c_fmod(a, b)
    if r and (a < 0) != (b < 0):
        r += b
    return (a - r) / b, r


def _c_fmod(a, b):
    """C's fmod (nan where Python's math.fmod raises: an infinite a)."""
    if _math.isinf(a) or _math.isnan(a) or _math.isnan(b):
        return _DEFAULT_NAN
    return _math.fmod(a, b)


@_scalar_op("prim::abs.int(int a) -> int", form="abs({a})")
def abs_int(xp, a):
    return int64(abs(a))


@_scalar_op("prim::abs.float(float a) -> float", form="abs({a})")
def abs_float(xp, a):
    """abs(x) on a float: abs(-0.0) is 0.0."""
    return abs(float(a))


# ------------------------------------------------------------------ comparisons

_COMPARE = (("lt", operator.lt, "<"), ("gt", operator.gt, ">"), ("le", operator.le, "<="),
            ("ge", operator.ge, ">="), ("eq", operator.eq, "=="), ("ne", operator.ne, "!="))

for _name, _fn, _form in _COMPARE:
    globals()[f"{_name}_int"] = _binary(_name, _fn, "int", "bool", _form)


# an int compared with a float is converted to a double first, as C++'s `a < b` on an
# int64_t and a double (TorchScript's aten::lt.int_float / lt.float_int): 2**53 + 1 ==
# 9007199254740992.0 is True there (Python compares exactly). These come before .float,
# which also accepts ints (IR resolution takes the first overload that fits).
def _mixed_compare(name, fn, form, ta, tb):
    fa, fb = ("float({a})", "{b}") if ta == "int" else ("{a}", "float({b})")

    @_scalar_op(f"aten::{name}.{ta}_{tb}({ta} a, {tb} b) -> bool",
                form=f"{fa} {form} {fb}")
    def impl(xp, a, b):
        return fn(float(a), float(b))
    impl.__name__ = f"{name}_{ta}_{tb}"
    impl.__doc__ = f"TorchScript's {form} on an {ta} and a {tb}: both as doubles."
    return impl


for _name, _fn, _form in _COMPARE:
    globals()[f"{_name}_int_float"] = _mixed_compare(_name, _fn, _form, "int", "float")
    globals()[f"{_name}_float_int"] = _mixed_compare(_name, _fn, _form, "float", "int")
for _name, _fn, _form in _COMPARE:
    globals()[f"{_name}_float"] = _binary(_name, _fn, "float", "bool", _form)
for _name, _fn, _form in _COMPARE[4:]:
    globals()[f"{_name}_bool"] = _binary(_name, _fn, "bool", "bool", _form)
    globals()[f"{_name}_str"] = _binary(_name, _fn, "str", "bool", _form)


# on Scalars (what x.item() is in a graph: an int, float or bool known only at run time),
# after the typed overloads, so typed arguments keep their own
def _number_op(name, fn, ret, form):
    meta = _META["bool"] if ret == "bool" else (lambda a, b: type(fn(a, b)))

    @_scalar_op(f"aten::{name}.Scalar_Scalar(Scalar a, Scalar b) -> {ret}", meta=meta)
    def impl(xp, a, b):
        if ret == "bool" and (type(a) is float) != (type(b) is float):
            return fn(float(a), float(b))       # (an int with a float: as doubles, as .int_float)
        r = fn(a, b)
        return int64(r) if type(r) is int else r        # (ints are int64s)
    impl.__name__ = f"{name}_scalar_scalar"
    impl.__doc__ = f"Python's {form} on numbers whose type is known at run time."
    return impl


for _name, _fn, _form in _COMPARE:
    globals()[f"{_name}_number"] = _number_op(_name, _fn, "bool", _form)
for _name, _fn, _form in _ARITH[:3]:
    globals()[f"{_name}_number"] = _number_op(_name, _fn, "Scalar", _form)


@_scalar_op("aten::div.Scalar_Scalar(Scalar a, Scalar b) -> float", form="{a} / {b}")
def div_number(xp, a, b):
    """`/` on numbers whose type is known at run time: a float (IEEE on a zero divisor)."""
    return float_div(a, b)


GUARDED_FORMS["aten::div.Scalar_Scalar"] = _DIV_GUARDED


def _by_kind(int_fn, float_fn):
    """A number op as the typed overload for the kinds its arguments have when it runs:
    ints (bools count) take int_fn, anything with a float float_fn."""
    def fn(*args):
        if all(type(a) is int or type(a) is bool for a in args):
            return int_fn(None, *(int(a) for a in args))
        return float_fn(None, *(float(a) for a in args))
    return fn


for _name in ("floordiv", "remainder"):
    globals()[f"{_name}_number"] = _number_op(
        _name, _by_kind(globals()[f"{_name}_int"], globals()[f"{_name}_float"]), "Scalar",
        "")


def _min_max(pick_first):
    def fn(a, b):
        r = a if pick_first(a, b) else b
        return float(r) if type(a) is float or type(b) is float else r
    return fn


# min(a, b) / max(a, b) of numbers whose kinds are known at run time: a float when either
# is one (min(2, 2.2) is 2.0), as TorchScript's prim::min(Scalar, Scalar)
min_number = _number_op("min", _min_max(operator.lt), "Scalar", "")
max_number = _number_op("max", _min_max(operator.gt), "Scalar", "")


def _list_pick(name, pick_first):
    """prim::min.int_list / max.int_list (and float, bool): the lesser / greater list in
    Python's (lexicographic) order as TorchScript's: at the first index where the lists
    differ (a nan always does) `l` if l[i] < r[i] (> for max) else `r`; when one is a
    prefix of the other the shorter (longer for max). A new list, as TorchScript's."""
    def pick(xp, l, r):
        for x, y in zip(l, r):
            if x == y:
                continue
            return list(l if pick_first(x, y) else r)
        shorter = r if len(r) < len(l) else l
        return list(shorter if name == "min" else (l if shorter is r else r))
    return pick


def _list_extreme(name, pick_first):
    """prim::min.self_int / max.self_int (and float, bool): min(xs) / max(xs), the first
    element kept unless a later one is less (greater): a nan first stays, a later one is
    passed over (min([1.0, nan]) is 1.0); RuntimeError for an empty list."""
    def extreme(xp, self):
        if not self:
            from ..runtime.container_ops import EmptySequenceError
            raise EmptySequenceError(f"{name}() arg is an empty sequence")
        r = self[0]
        for x in self:
            if pick_first(x, r):
                r = x
        return r
    return extreme


def _prim_min_max(name, pick_first, cmp):
    """TorchScript's prim::min / prim::max (`min(a, b)`, `min(xs)`, `min(xs, ys)` in scripted
    code) with its overloads: on two numbers `a < b ? a : b` / `a > b ? a : b` (a nan second
    is kept: max(1.0, nan) is nan, max(nan, 1.0) 1.0), a float when either is.

    The int/float mixes come before .float: IR resolution (ir.schema_match.resolve_op)
    takes the first overload that fits and a float argument accepts an int, so (int,
    float) must find .int_float (whose form converts) before .float."""
    for sfx, ta, tb, ret in (("int", "int", "int", "int"),
                             ("int_float", "int", "float", "float"),
                             ("float_int", "float", "int", "float"),
                             ("float", "float", "float", "float")):
        form = "({a} if {a} %s {b} else {b})" % cmp
        if ret == "float" and sfx != "float":
            form = "float%s" % form

        @_scalar_op(f"prim::{name}.{sfx}({ta} a, {tb} b) -> {ret}", form=form)
        def impl(xp, a, b, _float=ret == "float"):
            r = a if pick_first(a, b) else b
            return float(r) if _float else r
        impl.__name__ = f"prim_{name}_{sfx}"
        globals()[impl.__name__] = impl
    fn = _min_max(pick_first)

    @_scalar_op(f"prim::{name}(Scalar a, Scalar b) -> Scalar",
                meta=lambda a, b: int if type(fn(a, b)) is bool else type(fn(a, b)))
    def number(xp, a, b):
        r = fn(a, b)
        return int(r) if type(r) is bool else r
    number.__name__ = f"prim_{name}_number"
    globals()[number.__name__] = number
    for elem in ("int", "float", "bool"):
        lst = _scalar_op(f"prim::{name}.{elem}_list({elem}[] l, {elem}[] r) -> {elem}[]",
                         meta=_returns(list))(_list_pick(name, pick_first))
        lst.__name__ = f"prim_{name}_{elem}_list"
        one = _scalar_op(f"prim::{name}.self_{elem}({elem}[] self) -> {elem}")(
            _list_extreme(name, pick_first))
        one.__name__ = f"prim_{name}_self_{elem}"
        globals()[lst.__name__], globals()[one.__name__] = lst, one


_prim_min_max("min", operator.lt, "<")
_prim_min_max("max", operator.gt, ">")


def _kind_meta(a):
    return int if type(a) is bool else type(a)


@_scalar_op("aten::neg.Scalar(Scalar a) -> Scalar", meta=_kind_meta)
def neg_number(xp, a):
    """-a on a number whose type is known at run time (a Union[int, float])."""
    return _by_kind(neg_int, neg_float)(a)


@_scalar_op("prim::abs.Scalar(Scalar a) -> Scalar", meta=_kind_meta)
def abs_number(xp, a):
    """abs(a) on a number whose type is known at run time."""
    return _by_kind(abs_int, abs_float)(a)


# ------------------------------------------------------------------ bool logic

@_scalar_op("aten::__not__(bool self) -> bool", form="not {self}")
def not_(xp, self):
    return not self


and_bool = _binary("__and__", operator.and_, "bool", "bool", "&")
or_bool = _binary("__or__", operator.or_, "bool", "bool", "|")
xor_bool = _binary("__xor__", operator.xor, "bool", "bool", "^")
and_int = _binary("__and__", operator.and_, "int", "int", "&")
or_int = _binary("__or__", operator.or_, "int", "int", "|")
xor_int = _binary("__xor__", operator.xor, "int", "int", "^")


# TorchScript's `a << b` / `a >> b` on ints are the machine's 64-bit shifts, which take the
# count modulo 64 (x86-64's and AArch64's shift instructions): 1 << 64 is 1, 1 << -1 is
# -2**63, -5 >> 65 is -3 (torch 2.13's values); << then wraps to int64 as the other ops
@_scalar_op("aten::__lshift__.int(int a, int b) -> int", form="{a} << ({b} & 63)")
def lshift_int(xp, a, b):
    """TorchScript's << on ints: the count modulo 64, the result wrapped to int64."""
    return int64(a << (b & 63))


@_scalar_op("aten::__rshift__.int(int a, int b) -> int", form="{a} >> ({b} & 63)")
def rshift_int(xp, a, b):
    """TorchScript's >> on ints: an arithmetic shift by the count modulo 64."""
    return a >> (b & 63)


INT64_WRAPPED.add("aten::__lshift__.int")


# ------------------------------------------------------------------ conversions

def _one_element(a, what):
    """The one element of a (scripted int(t) / float(t) / bool(t)), or TorchScript's error
    in torch 2.13's words (item()'s for int and float, Tensor.__bool__'s for bool)."""
    if a.size != 1:
        if what == "bool":
            raise RuntimeError("Boolean value of Tensor with "
                               + ("no values" if a.size == 0 else "more than one value")
                               + " is ambiguous")
        raise RuntimeError(f"a Tensor with {a.size} elements cannot be converted to Scalar")
    return a.reshape(()).item()


def _fits_int64(v):
    return v == v and -2.0 ** 63 <= v < 2.0 ** 63


def checked_int(v, what="int64_t"):
    """int(v) as c10's checked conversion (Tensor.item<int64_t>(), a Scalar's toInt()):
    a float outside int64 (nan and +-inf too) raises PyTorch's RuntimeError."""
    if isinstance(v, float) and not _fits_int64(v):
        raise RuntimeError(f"value cannot be converted to type {what} without overflow")
    return int(v)


@_scalar_op("aten::Int.Tensor(Tensor a) -> int")
def int_tensor(xp, a):
    return checked_int(_one_element(a, "int"))


@_scalar_op("aten::Int.float(float a) -> int")
def int_float(xp, a):
    """TorchScript's int(x) of a float: C++'s static_cast<int64_t>, unchecked; where x is
    nan, +-inf or outside int64 x86-64 gives INT64_MIN (the 'integer indefinite' value),
    which TorchScript answers. (Never a Python int outside int64: ints are int64.)"""
    return int(a) if _fits_int64(a) else INT64_MIN


@_scalar_op("aten::Int.bool(bool a) -> int")
def int_bool(xp, a):
    return int(a)


class ConversionError(ValueError, RuntimeError):
    """int("abc") / float("0.5 hello") in scripted code: TorchScript raises RuntimeError
    (with Python's words); this is also the ValueError eager Python raises."""


# int(s) / float(s) of a str in scripted code are C++'s std::stoll / std::stod on the whole
# str, as TorchScript's aten::Int.str / aten::Float.str: leading C whitespace is skipped, a
# sign and the number are parsed (stod also takes hex floats, inf/infinity and nan(...) of
# either case), and anything left after the number (trailing whitespace included) raises
# Python's words; no number at the start, or one out of range (stod: overflow, or an inexact
# result below the smallest normal double), raises C++'s "stoll" / "stod".
_C_SPACE = " \t\n\v\f\r"
_STOLL = re.compile(r"[+-]?[0-9]+")
_STOD = re.compile(r"""[+-]?(?:
      (?P<inf>(?i:infinity|inf))
    | (?P<nan>(?i:nan)(?:\([A-Za-z0-9_]*\))?)
    | (?P<hex>0[xX](?:[0-9A-Fa-f]+(?:\.[0-9A-Fa-f]*)?|\.[0-9A-Fa-f]+)(?:[pP][+-]?[0-9]+)?)
    | (?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)""", re.VERBOSE)
_MIN_NORMAL = 2.2250738585072014e-308


def _stoll(a: str) -> int:
    start = len(a) - len(a.lstrip(_C_SPACE))
    m = _STOLL.match(a, start)
    if m is None:
        raise ConversionError(f"invalid literal for int() with base 10: {a!r} "
                              f"(stoll: no number at its start)")
    r = int(m.group())
    if not INT64_MIN <= r <= INT64_MAX:
        raise ConversionError(f"int() of {a!r}: the number does not fit an int64 (stoll)")
    if m.end() != len(a):
        raise ConversionError(f"invalid literal for int() with base 10: {a!r}")
    return r


def _stod(a: str) -> float:
    start = len(a) - len(a.lstrip(_C_SPACE))
    m = _STOD.match(a, start)
    if m is None:
        raise ConversionError(f"could not convert string to float: {a!r} "
                              f"(stod: no number at its start)")
    text = m.group()
    if m.group("nan") is not None:
        r = _math.copysign(_math.nan, -1.0 if text[0] == "-" else 1.0)
    elif m.group("inf") is not None:
        r = float(text)
    else:
        try:
            r = float.fromhex(text) if m.group("hex") is not None else float(text)
        except OverflowError:
            r = _math.inf
        if _math.isinf(r) or (abs(r) < _MIN_NORMAL and (
                r == 0 and any(c in "123456789abcdefABCDEF" for c in _mantissa(text))
                or r != 0 and _exact(text, m.group("hex") is not None) != r)):
            raise ConversionError(f"float() of {a!r}: the number is out of a double's range "
                                  f"(stod)")
    if m.end() != len(a):
        raise ConversionError(f"could not convert string to float: {a!r}")
    return r


def _mantissa(text):
    """The digits of a decimal or hex number's mantissa (no sign, prefix or exponent)."""
    t = text.lstrip("+-").lower()
    return t[2:].partition("p")[0] if t.startswith("0x") else t.partition("e")[0]


def _exact(text, is_hex):
    """The exact value a decimal or hex literal writes, as a Fraction."""
    from fractions import Fraction
    if not is_hex:
        return Fraction(text)
    whole, _, frac = _mantissa(text).partition(".")
    exp = text.lower().partition("p")[2]
    value = Fraction(int(whole + frac or "0", 16), 16 ** len(frac)) * Fraction(2) ** int(exp or 0)
    return -value if text[0] == "-" else value


@_scalar_op("aten::Int.ScalarType(ScalarType a) -> int")
def int_scalar_type(xp, a):
    """A dtype as TorchScript's int (its ScalarType code: float32 is 6): what an op's
    ScalarType result (torch.result_type, torch.promote_types) is in scripted code, where
    every dtype value is an int. (An int passes as it is.)"""
    from ..dtypes import scalar_type_code
    return a if type(a) is int else scalar_type_code(a)


# torch.promote_types / torch.result_type / torch.can_cast in scripted code, with
# TorchScript's schemas: a dtype argument arrives as a dtype constant or as its int code
# (x.dtype), a Tensor as its array; the ScalarType result is an int there (op_calls)

def _dtype_meta(*args):
    from ..dtypes import dtype
    return dtype


def _operand_kind(a):
    from .. import dtypes as _dt
    if isinstance(a, (bool, int, float)):
        return (_dt._scalar_dtype(a), _dt.SCALAR)
    return (_dt.from_numpy_dtype(a.dtype), _dt.ZERO_DIM if a.ndim == 0 else _dt.DIM)


def _result_type(*operands):
    from ..dtypes import result_type_from_kinds
    return result_type_from_kinds(tuple(_operand_kind(a) for a in operands))


@_scalar_op("aten::promote_types(ScalarType type1, ScalarType type2) -> ScalarType",
            meta=_dtype_meta)
def promote_types(xp, type1, type2):
    from .. import dtypes as _dt
    return _dt.promote_types(_dt.scalar_type_arg(type1), _dt.scalar_type_arg(type2))


@_scalar_op("aten::can_cast(ScalarType from_, ScalarType to) -> bool")
def can_cast(xp, from_, to):
    from .. import dtypes as _dt
    return _dt.can_cast(_dt.scalar_type_arg(from_), _dt.scalar_type_arg(to))


@_scalar_op("aten::result_type.Tensor(Tensor tensor, Tensor other) -> ScalarType",
            meta=_dtype_meta)
def result_type_tensor(xp, tensor, other):
    return _result_type(tensor, other)


@_scalar_op("aten::result_type.Scalar(Tensor tensor, Scalar other) -> ScalarType",
            meta=_dtype_meta)
def result_type_scalar(xp, tensor, other):
    return _result_type(tensor, other)


@_scalar_op("aten::result_type.Scalar_Tensor(Scalar scalar, Tensor tensor) -> ScalarType",
            meta=_dtype_meta)
def result_type_scalar_tensor(xp, scalar, tensor):
    return _result_type(scalar, tensor)


@_scalar_op("aten::result_type.Scalar_Scalar(Scalar scalar1, Scalar scalar2) -> ScalarType",
            meta=_dtype_meta)
def result_type_scalar_scalar(xp, scalar1, scalar2):
    return _result_type(scalar1, scalar2)


def _device_meta(*args):
    from ..device import device
    return device


@_scalar_op("aten::device(str a) -> Device", meta=_device_meta)
def device_str(xp, a):
    """torch.device(s) of a str known only at run time (scripted code; a constant folds)."""
    from ..device import device
    return device(a)


@_scalar_op("aten::device.with_index(str type, int index) -> Device", meta=_device_meta)
def device_with_index(xp, type, index):
    from ..device import device
    return device(type, index)


def result_type(*args, **kwargs):
    """torch.result_type: PyTorch's four overloads bound by its parser (keywords tensor=,
    other=, scalar=, scalar1=, scalar2=; its error for any other call)."""
    from .overloads import match_overload
    from .registry import OPS
    ovs = [OPS[f"aten::result_type.{n}"] for n in ("Tensor", "Scalar", "Scalar_Tensor",
                                                    "Scalar_Scalar")]
    d = match_overload(ovs, args, kwargs)
    if d is None:
        from .parser_errors import parser_error
        raise parser_error("result_type", ovs, args, kwargs, False, False)
    from .. import dtypes as _dt
    names = [p.name for p in d.schema.arguments]
    return _dt.result_type(*(list(args) + [kwargs[n] for n in names[len(args):]]))


PUBLIC = {"result_type": result_type}       # (gpujit.result_type)


@_scalar_op("aten::Int.str(str a) -> int")
def int_str(xp, a):
    return _stoll(a)


@_scalar_op("aten::Float.Tensor(Tensor a) -> float")
def float_tensor(xp, a):
    return float(_one_element(a, "float"))


# TorchScript's implicit conversions of a Tensor passed for a number argument
# (`x.unsqueeze(t)`, `x.addcmul(a, b, value=t)`): a 0-dim tensor's value. The frontend
# checks requires_grad before them (the arrays here carry no autograd state).

def _implicit(a, integral):
    from ..dtypes import from_numpy_dtype, INTEGRAL
    if a.ndim != 0:
        raise RuntimeError("Cannot input a tensor of dimension other than 0 as a scalar "
                           "argument")
    dt = from_numpy_dtype(a.dtype)
    if integral and dt.category != INTEGRAL:
        raise RuntimeError(f"Cannot input a tensor of type {dt.short_name} as an integral "
                           f"argument")
    return a.item()


@_scalar_op("aten::IntImplicit(Tensor a) -> int")
def int_implicit(xp, a):
    return int(_implicit(a, True))


@_scalar_op("aten::FloatImplicit(Tensor a) -> float")
def float_implicit(xp, a):
    return float(_implicit(a, False))


@op("aten::ScalarImplicit(Tensor a) -> Scalar", method=False, function=False,
    meta=lambda a: {0: bool, 1: int, 2: float}[a.dtype.category])
def scalar_implicit(xp, a):
    return _implicit(a, False)


PYTHON_VALUED.add("aten::ScalarImplicit")


@_scalar_op("aten::Float.int(int a) -> float")
def float_int(xp, a):
    return float(a)


@_scalar_op("aten::Float.bool(bool a) -> float")
def float_bool(xp, a):
    return float(a)


@_scalar_op("aten::Float.str(str a) -> float")
def float_str(xp, a):
    return _stod(a)


# a Scalar (what x.item() gives in a graph) to a Python number: after the typed overloads
@_scalar_op("aten::Int.Scalar(Scalar a) -> int")
def int_scalar(xp, a):
    """int(x.item()): int64's checked conversion (TorchScript's Scalar.toInt() checks
    C's 32-bit int where the Scalar holds a float, so its int(t.item()) of 3e9 raises;
    gpujit answers as int(t) and eager code do)."""
    return checked_int(a, "int")


@_scalar_op("aten::Float.Scalar(Scalar a) -> float")
def float_scalar(xp, a):
    return float(a)


@_scalar_op("aten::Bool.Tensor(Tensor a) -> bool")
def bool_tensor(xp, a):
    return bool(_one_element(a, "bool"))


@_scalar_op("aten::Bool.int(int a) -> bool")
def bool_int(xp, a):
    return bool(a)


@_scalar_op("aten::Bool.float(float a) -> bool")
def bool_float(xp, a):
    return bool(a)


from . import scalar_facts  # noqa: E402,F401  (x.size(0), x.dim(), len(x)...: here, in this order)


# ------------------------------------------------------------------ dtypes, devices, lists
# `x.dtype == torch.float32`, `x.device != y.device`, `list(x.shape) == [2, 3]`: Python's
# == on the values (dtype and device objects, lists); Python Enum members (TorchScript's
# aten::eq.enum: AnyEnumType matches Enum values only, ir/schema_match.py; members of
# different Enums are never equal, as in Python)

for _arg, _suffix in (("ScalarType", "ScalarType"), ("Device", "device"),
                      ("int[]", "int_list"),
                      ("str[]", "str_list"), ("bool[]", "bool_list"),
                      ("AnyEnumType", "enum")):
    for _name, _fn, _form in (("eq", operator.eq, "=="), ("ne", operator.ne, "!=")):
        def _cmp(xp, a, b, _fn=_fn):
            return _fn(a, b)
        _cmp.__name__ = f"{_name}_{_suffix}"
        _cmp.__doc__ = f"Python's {_form} on {_arg} values."
        globals()[_cmp.__name__] = _scalar_op(
            f"aten::{_name}.{_suffix}({_arg} a, {_arg} b) -> bool",
            form="{a} %s {b}" % _form)(_cmp)


def _float_lists_equal(a, b):
    """TorchScript's == of float lists (c10::List's operator==): the same list is equal
    to itself, else the same length and x == y for each pair, so a nan makes two lists
    unequal even when both hold that very float (Python's list == checks identity per
    element first: [nan] == [nan].copy() is True there, False in TorchScript)."""
    return a is b or (len(a) == len(b) and all(x == y for x, y in zip(a, b)))


@_scalar_op("aten::eq.float_list(float[] a, float[] b) -> bool")
def eq_float_list(xp, a, b):
    """`xs == ys` of two float lists."""
    return _float_lists_equal(a, b)


@_scalar_op("aten::ne.float_list(float[] a, float[] b) -> bool")
def ne_float_list(xp, a, b):
    """`xs != ys` of two float lists."""
    return not _float_lists_equal(a, b)


def _tensor_lists_equal(a, b):
    """TorchScript's list == of Tensor lists: same length and bool(x == y) for each pair
    (a Tensor of more than one element has no truth value)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        r = x == y
        if getattr(r, "size", 1) != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is "
                               "ambiguous")
        if not bool(r):
            return False
    return True


@_scalar_op("aten::eq.Tensor_list(Tensor[] a, Tensor[] b) -> bool")
def eq_Tensor_list(xp, a, b):
    """`xs == ys` of two Tensor lists."""
    return _tensor_lists_equal(a, b)


@_scalar_op("aten::ne.Tensor_list(Tensor[] a, Tensor[] b) -> bool")
def ne_Tensor_list(xp, a, b):
    """`xs != ys` of two Tensor lists."""
    return not _tensor_lists_equal(a, b)


# libstdc++'s std::_Hash_bytes (64-bit MurmurHash2 variant), which std::hash<std::string>
# and std::hash<double> are: TorchScript's hash() of a str / float
_U64 = (1 << 64) - 1
_MURMUR_MUL = (0xc6a4a793 << 32) + 0x5bd1e995
# c10::DeviceType codes (std::hash<c10::Device> hashes type << 16 | uint8(index))
_DEVICE_TYPE_CODES = {"cpu": 0, "cuda": 1, "mkldnn": 2, "opengl": 3, "opencl": 4,
                      "ideep": 5, "hip": 6, "fpga": 7, "maia": 8, "xla": 9, "vulkan": 10,
                      "metal": 11, "xpu": 12, "mps": 13, "meta": 14, "hpu": 15, "ve": 16,
                      "lazy": 17, "ipu": 18, "mtia": 19}


def _signed64(h):
    return h - (1 << 64) if h >> 63 else h


def _hash_bytes(data, seed=0xc70f6907):
    """std::_Hash_bytes(data, len, seed) of libstdc++ on a 64-bit size_t, as unsigned."""
    def shift_mix(v):
        return v ^ (v >> 47)
    n = len(data)
    aligned = n & ~7
    h = (seed ^ (n * _MURMUR_MUL)) & _U64
    for p in range(0, aligned, 8):
        h ^= (shift_mix((int.from_bytes(data[p:p + 8], "little") * _MURMUR_MUL) & _U64)
              * _MURMUR_MUL) & _U64
        h = (h * _MURMUR_MUL) & _U64
    if n & 7:
        h ^= int.from_bytes(data[aligned:], "little")
        h = (h * _MURMUR_MUL) & _U64
    return shift_mix((shift_mix(h) * _MURMUR_MUL) & _U64)


def _unhashable_name(v):
    """The type name TorchScript's "unhashable type" error gives a runtime value whose
    static type said nothing (an Any): builtin_hash names the static type when it can."""
    from enum import Enum
    if isinstance(v, Enum):
        return f"Enum<__torch__.{type(v).__name__}>"
    if isinstance(v, (list, dict, set, complex)):
        return type(v).__name__
    if hasattr(v, "__dict__"):
        from ..runtime.script_text import script_object_name
        name = script_object_name(v)
        if name is not None:
            return name
    return None


def script_hash(v):
    """TorchScript's hash() (c10's IValue::hash, deterministic across processes): an int
    is itself, a bool 1 / 0, None 0, a float libstdc++'s std::hash<double> (0 for
    +-0.0; every other float, nan included, the MurmurHash2 of its 8 bytes), a str the
    MurmurHash2 of its UTF-8 bytes, a tuple c10::hash_combine of its elements' hashes from
    seed 0 (() is 0), a device std::hash of type << 16 | uint8(index) (cpu 255, cuda:0
    65536), a Tensor its identity (its array's). A list, dict, set, complex, Enum member
    or script class object is unhashable (RuntimeError), also inside a tuple."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v                     # (a dtype / layout / memory_format is its int too)
    if v is None:
        return 0
    if isinstance(v, float):
        return 0 if v == 0.0 else _signed64(_hash_bytes(_struct.pack("<d", v)))
    if isinstance(v, str):
        return _signed64(_hash_bytes(v.encode("utf-8", "surrogateescape")))
    if isinstance(v, tuple):
        seed = 0
        for x in v:
            h = script_hash(x) & _U64
            seed = (seed ^ ((h + 0x9e3779b9 + (seed << 6) + (seed >> 2)) & _U64)) & _U64
        return _signed64(seed)
    from ..device import device as _device
    if isinstance(v, _device):
        idx = 255 if v.index is None else v.index & 0xff
        return (_DEVICE_TYPE_CODES.get(v.type, 20) << 16) | idx
    if hasattr(v, "__array_interface__") or hasattr(v, "__cuda_array_interface__"):
        return id(v)                 # a Tensor's array (ndarray, NumPy scalar or CuPy)
    name = _unhashable_name(v)
    if name is not None:
        raise RuntimeError(f"unhashable type: '{name}'")
    try:
        return hash(v)
    except TypeError as e:
        raise RuntimeError(str(e)) from None


@op("aten::hash.generic(t value) -> int", meta=_META["int"], function=False, method=False,
    tags={"nondeterministic"})      # (never folded: a Tensor's hash is its identity)
def hash_generic(xp, value):
    """hash(x) in scripted code (dict keys, memo tables): script_hash."""
    return script_hash(value)


PYTHON_VALUED.add("aten::hash.generic")


@_scalar_op("aten::__range_length(int lo, int hi, int step) -> int")
def range_length(xp, lo, hi, step):
    """len(range(lo, hi, step)): the trip count of a loop over a range whose step is not a
    constant (TorchScript's op; a zero step raises its RuntimeError). As TorchScript's, on
    int64s: the distance wraps around where it leaves int64's range."""
    if step == 0:
        raise RuntimeError("range() arg 3 must not be zero")
    if step > 0 and lo < hi:
        d, k = int64(hi - 1 - lo), step
    elif step < 0 and lo > hi:
        d, k = int64(lo - 1 - hi), int64(-step)
    else:
        return 0
    q = abs(d) // abs(k)            # (C++'s division: truncated toward zero)
    return int64(1 + (q if (d < 0) == (k < 0) else -q))


@_scalar_op("aten::__derive_index(int index, int start, int step) -> int")
def derive_index(xp, index, start, step):
    """The index-th element of range(start, ..., step): start + index * step."""
    return int64(start + index * step)


# overloads a call resolves to only when named (torch.ops.aten.pow.int_to_int), never by
# matching argument types: `n ** k` on ints is aten::pow.int, a float, as in TorchScript
EXPLICIT_ONLY = {"aten::pow.int_to_int"}


@_scalar_op("aten::pow.int_to_int(int a, int b) -> int", form="{a} ** {b}")
def pow_int_to_int(xp, a, b):
    """TorchScript's int-valued power (`n ** k` itself is aten::pow.int, a float)."""
    if b < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return a ** b


@op("aten::is_grad_enabled() -> bool", meta=_META["bool"], function=False, method=False,
    tags={"nondeterministic"})      # (never folded, merged or dropped: the mode changes)
def is_grad_enabled(xp):
    """Scripted `torch.is_grad_enabled()`: this thread's grad mode when the call runs."""
    from ..autograd.grad_mode import is_grad_enabled as enabled
    return enabled()


PYTHON_VALUED.add("aten::is_grad_enabled")


@op("aten::is_autocast_enabled() -> bool", meta=_META["bool"], function=False, method=False,
    tags={"nondeterministic"})      # (never folded: the region changes)
def is_autocast_enabled(xp):
    """Scripted `torch.is_autocast_enabled()` (no device: CUDA's, as PyTorch's): whether
    an autocast region is active when the call runs (nn.MultiheadAttention's fast-path
    check in archives torch.jit.save wrote)."""
    from ..amp.autocast_mode import is_autocast_enabled as enabled
    return enabled("cuda")


PYTHON_VALUED.add("aten::is_autocast_enabled")


@op("aten::set_grad_enabled(bool val) -> ()", meta=lambda val: None, function=False,
    method=False, tags={"nondeterministic"})     # (never folded, merged or dropped)
def set_grad_enabled(xp, val):
    """Scripted `torch.set_grad_enabled(b)`: switches this thread's grad mode from here on,
    past the end of the call, as TorchScript's aten::set_grad_enabled does (a compiled call
    with it records gradients as eager code would: jit/objects.py)."""
    from ..autograd.grad_mode import state
    state.enabled = bool(val)

from . import scalar_math  # noqa: E402,F401  (math.<name> on numbers)
from . import scalar_str  # noqa: E402,F401  (str ops: after the numbers, before Tensor ops)
