"""Python-complex ops of scripted code, as TorchScript's (register_prim_ops.cpp): the
arithmetic of `complex` values (`x: complex`, `List[complex]`, `1j`), `complex(a, b)`
(aten::Complex), abs (a float), comparisons for equality, and the conversion of a number
(`t.item()`) where a complex is declared. Like ops/scalar_ops.py they take and return
Python values and are bound neither as gpujit functions nor as Tensor methods.

This family is imported before scalar_ops (ops.FAMILIES), so `abs(c)` resolves to
prim::abs.complex before prim::abs.Scalar; a `complex` parameter takes complex values only
(ir.schema_match), as TorchScript's, so `i + 1` on ints still resolves to add.int. As in
TorchScript, `/` of two complex values is complex and of a complex and a float is its
Scalar overload (a float: `-> complex` is then TorchScript's type error), and a complex
has no `.real` / `.imag` / `conjugate()` in scripted code.
"""
from __future__ import annotations

import math as _math
import operator as _operator

from .registry import OVERLOADS, op
from .scalar_ops import PYTHON_FORMS, PYTHON_VALUED

_DECLARED = set()
_META = {"complex": lambda *a: complex, "bool": lambda *a: bool, "float": lambda *a: float}


def _complex_op(schema, form=None):
    name = schema.split("(", 1)[0]
    _DECLARED.add(name.split(".", 1)[0])
    PYTHON_VALUED.add(name)
    if form is not None:
        PYTHON_FORMS[name] = form
    ret = schema.rsplit("->", 1)[1].strip()
    return op(schema, meta=_META[ret], function=False, method=False)


def c10_div(a, b):
    """c10::complex's division (NumPy's algorithm): no ZeroDivisionError, a zero divisor
    gives inf / nan parts."""
    a, b = complex(a), complex(b)
    c, d = b.real, b.imag
    abs_c, abs_d = abs(c), abs(d)
    if abs_c >= abs_d:
        if abs_c == 0 and abs_d == 0:
            return complex(_fdiv(a.real, abs_c), _fdiv(a.imag, abs_d))
        rat = d / c
        scl = 1.0 / (c + d * rat)
        return complex((a.real + a.imag * rat) * scl, (a.imag - a.real * rat) * scl)
    rat = c / d
    scl = 1.0 / (d + c * rat)
    return complex((a.real * rat + a.imag) * scl, (a.imag * rat - a.real) * scl)


def _fdiv(x, y):
    """IEEE x / y (y a zero: inf with x's sign, nan for 0 / 0)."""
    if y:
        return x / y
    if x == 0 or _math.isnan(x):
        return _math.nan
    return _math.copysign(_math.inf, x)


# a + b, a - b, a * b of a complex with a complex, an int or a float (DEFINE_BINARY_OP_WITH
# _COMPLEX); the int / float forms before the complex one, as TorchScript lists them
_OPERATORS = {"+": _operator.add, "-": _operator.sub, "*": _operator.mul,
              "==": _operator.eq, "!=": _operator.ne}

for _name, _sym in (("add", "+"), ("sub", "-"), ("mul", "*")):
    for _sig in ("complex_int(complex a, int b)", "int_complex(int a, complex b)",
                 "complex_float(complex a, float b)", "float_complex(float a, complex b)",
                 "complex(complex a, complex b)"):
        def _impl(xp, a, b, _f=_OPERATORS[_sym]):
            return _f(a, b)
        _impl.__name__ = f"{_name}_{_sig.split('(')[0]}"
        _complex_op(f"aten::{_name}.{_sig} -> complex", form="{a} %s {b}" % _sym)(_impl)


@_complex_op("aten::div.complex(complex a, complex b) -> complex")
def div_complex(xp, a, b):
    return c10_div(a, b)


def c10_pow(a, b):
    """c10's complex pow, exp(b log a) (no integer-exponent shortcut, as Python's has;
    log(0) is -inf, as C's clog)."""
    import numpy as np
    with np.errstate(all="ignore"):
        return complex(np.exp(np.complex128(b) * np.log(np.complex128(a))))


# (TorchScript's pow of complex values: complex ** complex / float and float ** complex;
# complex ** int is its Scalar overload, a float)
for _sig in ("complex(complex a, complex b)", "complex_float(complex a, float b)",
             "float_complex(float a, complex b)"):
    def _pow(xp, a, b):
        return c10_pow(a, b)
    _pow.__name__ = f"pow_{_sig.split('(')[0]}"
    _complex_op(f"aten::pow.{_sig} -> complex")(_pow)


for _name, _sym in (("eq", "=="), ("ne", "!=")):
    for _sig in ("complex(complex a, complex b)", "complex_float(complex a, float b)",
                 "float_complex(float a, complex b)"):
        def _cmp(xp, a, b, _f=_OPERATORS[_sym]):
            return _f(a, b)
        _cmp.__name__ = f"{_name}_{_sig.split('(')[0]}"
        _complex_op(f"aten::{_name}.{_sig} -> bool", form="{a} %s {b}" % _sym)(_cmp)


@_complex_op("aten::neg.complex(complex a) -> complex", form="-{a}")
def neg_complex(xp, a):
    return -a


@_complex_op("prim::abs.complex(complex a) -> float", form="abs({a})")
def abs_complex(xp, a):
    return abs(a)


# ---- complex(a, b) / complex(x): aten::Complex, each part converted as a float
def _part(x):
    if hasattr(x, "item"):          # (a Tensor: its one element)
        x = x.item()
    return float(x) if not isinstance(x, complex) else x


@_complex_op("aten::Complex.Scalar(Scalar a) -> complex", form="complex({a})")
def complex_scalar(xp, a):
    return complex(a)


_KINDS = ("int", "float", "bool", "Tensor")
for _x in _KINDS:
    for _y in _KINDS:
        def _pair(xp, x, y):
            return complex(_part(x), _part(y))
        _pair.__name__ = f"complex_{_x}_{_y}"
        _complex_op(f"aten::Complex.{_x}_{_y}({_x} x, {_y} y) -> complex")(_pair)

del _name, _sym, _sig, _x, _y


def _before_scalar_overloads():
    """Each complex overload ahead of its name's Scalar / Tensor overloads (a Scalar takes
    a complex too, and resolution takes the first that fits: abs(c) is prim::abs.complex,
    a float, not prim::abs.Scalar)."""
    for name in _DECLARED:
        ovs = OVERLOADS[name]
        mine = [d for d in ovs if d.schema.qualified_name in PYTHON_VALUED and any(
            a.type.base == "complex" for a in d.schema.arguments) or
            d.schema.qualified_name.startswith("aten::Complex.")]
        rest = [d for d in ovs if d not in mine]
        at = next((i for i, d in enumerate(rest) if any(
            a.type.base in ("Scalar", "Tensor") for a in d.schema.arguments)), len(rest))
        ovs[:] = rest[:at] + mine + rest[at:]


_before_scalar_overloads()
