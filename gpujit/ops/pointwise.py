"""Pointwise ops. Each body is written once against `xp` (NumPy or CuPy); operands arrive
as arrays already cast to the computation dtype (or as Python scalars), and the result is
cast to the output dtype by the registry. `scalar` is the per-element expression the fuser
emits (see ops/scalar.py); tests check it against the eager body.
"""
from __future__ import annotations

from .. import dtypes as _dt
from .registry import op

NO_BOOL = tuple(d for d in _dt.ALL if d is not _dt.bool)
INTS = (_dt.bool,) + _dt.INTEGRAL_TYPES
FLOATS = _dt.FLOATING_TYPES

_PW = {"pointwise"}


# ------------------------------------------------------------------ arithmetic

@op("aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", tags=_PW,
    inplace=True, scalar="{self} + {alpha} * {other}")
def add(xp, self, other, alpha=1):
    if alpha == 1:
        return xp.add(self, other)
    return xp.add(self, xp.multiply(other, alpha))


@op("aten::sub.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", tags=_PW,
    inplace=True, dtypes=NO_BOOL, scalar="{self} - {alpha} * {other}")
def sub(xp, self, other, alpha=1):
    if alpha == 1:
        return xp.subtract(self, other)
    return xp.subtract(self, xp.multiply(other, alpha))


@op("aten::rsub.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", tags=_PW,
    dtypes=NO_BOOL, method=False, scalar="{other} - {alpha} * {self}")
def rsub(xp, self, other, alpha=1):
    if alpha == 1:
        return xp.subtract(other, self)
    return xp.subtract(other, xp.multiply(self, alpha))


@op("aten::mul.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    scalar="{self} * {other}")
def mul(xp, self, other):
    return xp.multiply(self, other)


def _div_types(ct, rounding_mode):
    if rounding_mode is None and ct.category != _dt.FLOATING:
        ct = _dt.get_default_dtype()
    if rounding_mode not in (None, "trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found {rounding_mode!r}")
    return ct, ct


@op("aten::div.Tensor_mode(Tensor self, Tensor other, *, str? rounding_mode=None) -> Tensor",
    tags=_PW, inplace=True, promote=_div_types, dtypes=NO_BOOL,
    scalar="{self} / {other}")
def div(xp, self, other, rounding_mode=None):
    if rounding_mode is None:
        return xp.true_divide(self, other)
    if rounding_mode == "floor":
        return xp.floor_divide(self, other)
    arr = self if hasattr(self, "dtype") else other
    if arr.dtype.kind in "iub":
        # trunc division of integers: exact, C semantics
        q = xp.floor_divide(self, other)
        return xp.where((xp.remainder(self, other) != 0) & (q < 0), q + 1, q)
    return xp.trunc(xp.true_divide(self, other))


@op("aten::neg(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=NO_BOOL,
    scalar="-{self}")
def neg(xp, self):
    return xp.negative(self)


@op("aten::abs(Tensor self) -> Tensor", tags=_PW, inplace=True, scalar="abs({self})")
def abs(xp, self):
    return xp.abs(self)


# ------------------------------------------------------------------ float math

@op("aten::exp(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="exp({self})")
def exp(xp, self):
    return xp.exp(self)


@op("aten::tanh(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="tanh({self})")
def tanh(xp, self):
    return xp.tanh(self)


@op("aten::sigmoid(Tensor self) -> Tensor", tags=_PW, inplace=True, promote="float",
    scalar="1 / (1 + exp(-{self}))")
def sigmoid(xp, self):
    return 1 / (1 + xp.exp(-self))


@op("aten::relu(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=NO_BOOL,
    functional=True, scalar="where({self} > 0, {self}, 0 * {self})")
def relu(xp, self):
    # maximum propagates NaN as torch.relu does
    return xp.maximum(self, self.dtype.type(0))


# ------------------------------------------------------------------ comparisons

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


# ------------------------------------------------------------------ selection

@op("aten::where.self(Tensor condition, Tensor self, Tensor other) -> Tensor", tags=_PW,
    operands=("self", "other"), method=False, scalar="where({condition}, {self}, {other})")
def where(xp, condition, self, other):
    return xp.where(condition, self, other)
