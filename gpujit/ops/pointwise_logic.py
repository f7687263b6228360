"""Pointwise comparisons and tests (eq, ne, lt, le, gt, ge, isnan, isinf, isfinite,
isposinf, isneginf, signbit), logical ops (logical_and / or / xor / not) and bitwise ops
(bitwise_and / or / xor / not, left / right shifts). Their results are booleans or
integers: none carries a gradient. Conventions as in pointwise.py.
"""
from __future__ import annotations

from .. import dtypes as _dt
from . import registry as _reg
from .registry import op
from .pointwise import INTS, _PW


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
# PyTorch gives them no derivative (gen_variable_type's DONT_REQUIRE_DERIVATIVE): the
# in-place forms write a float self that requires grad without a leaf or view check,
# leaving its grad_fn as it was (torch 2.13: leaf.logical_not_() is allowed, stays a leaf)
_reg.nondifferentiable(logical_and, logical_or, logical_xor, logical_not,
                       reason="boolean results: logical ops carry no gradient",
                       untracked_inplace=True)


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

# PyTorch's CPU kernels, which its errors name for a dtype they refuse ('"lshift_cpu" not
# implemented for 'Float'': registry.dtype_refused), the in-place variants' the same
for _f, _kernel in ((bitwise_and, "bitwise_and_cpu"), (bitwise_or, "bitwise_or_cpu"),
                    (bitwise_xor, "bitwise_xor_cpu"), (bitwise_not, "bitwise_not_cpu"),
                    (bitwise_left_shift, "lshift_cpu"), (bitwise_right_shift, "rshift_cpu")):
    _f.op.kernel = _kernel
    _reg.OPS[_f.op.name.replace(".", "_.", 1) if "." in _f.op.name
             else _f.op.name + "_"].kernel = _kernel


# the Python operators' own ops: torch 2.13 records x & y, x | y, x ^ y, x << y, x >> y
# (Tensor.__and__ ...) as aten::__and__ / __or__ / __xor__ / __lshift__ / __rshift__ and
# x &= y ... as aten::__iand__ ..., not as bitwise_and (which torch.bitwise_and and the
# reflected 3 & x record): the same kernels under their own names, a Python number taken
# for `other` only (their .Scalar overloads)
def _operator(dunder, of):
    d = of.op

    @op(f"aten::{dunder}.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW,
        dtypes=d.dtypes, scalar=d.scalar, function=False,
        inplace=dunder.replace("__", "__i", 1))
    def impl(xp, self, other):
        return d.impl(xp, self, other)
    impl.__name__ = dunder
    impl.op.kernel = impl.op.inplace_variant.kernel = d.kernel
    return impl


and_ = _operator("__and__", bitwise_and)
or_ = _operator("__or__", bitwise_or)
xor_ = _operator("__xor__", bitwise_xor)
lshift = _operator("__lshift__", bitwise_left_shift)
rshift = _operator("__rshift__", bitwise_right_shift)
