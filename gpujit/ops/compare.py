"""Closeness and equality of whole tensors: isclose (pointwise), allclose, equal."""
from __future__ import annotations

from .. import dtypes as _dt
from .meta import broadcast_shapes
from .registry import op


@op("aten::isclose(Tensor self, Tensor other, float rtol=1e-05, float atol=1e-08, "
    "bool equal_nan=False) -> Tensor", tags={"pointwise", "comparison"}, promote="compare",
    scalar="({self} == {other}) | (isnan({self}) & isnan({other}) & {equal_nan}) | "
           "(isfinite(abs({self} - {other})) & "
           "(abs({self} - {other}) <= {atol} + {rtol} * abs({other})))")
def isclose(xp, self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose: rtol ({rtol}) and atol ({atol}) must be non-negative")
    if self.dtype.kind in "biu":
        # PyTorch compares integers exactly, then their errors in the default float dtype
        # (NumPy's float64 would call int32 2**24 + 1 and 2**24 apart at atol 0.5)
        eq = self == other
        if rtol == 0 and atol == 0:
            return eq
        f = _dt.get_default_dtype().np
        return eq | xp.isclose(self.astype(f), other.astype(f), rtol=rtol, atol=atol)
    return xp.isclose(self, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _isclose_expression(form):
    """Integers and bools: equal, or close in the default float dtype (never their own
    wrapping difference: int8 -128 - 0 is -128, whose abs is no error at all)."""
    if form.ct is None or form.ct.category >= _dt.FLOATING:
        return None
    f = f"cast_{_dt.get_default_dtype().name}"
    err = f"abs({f}({{self}}) - {f}({{other}}))"
    return (f"({{self}} == {{other}}) | ((({{rtol}} != 0) | ({{atol}} != 0)) & "
            f"isfinite({err}) & ({err} <= {{atol}} + {{rtol}} * abs({f}({{other}}))))")


isclose.op.scalar_for = _isclose_expression


def _check_same_dtype(name, a, b):
    """PyTorch's isclose (and allclose, through it) takes two tensors of one dtype:
    TORCH_CHECK(self.scalar_type() == other.scalar_type(), ...) 'Int did not match Float'."""
    if a.dtype != b.dtype:
        raise RuntimeError(f"{_dt.from_numpy_dtype(a.dtype).short_name} did not match "
                           f"{_dt.from_numpy_dtype(b.dtype).short_name}")


def _isclose_same_dtype(kinds):
    """isclose's dtype check, before promotion (it never promotes: a bool and a uint8
    tensor, an int32 and a float32 one are PyTorch's RuntimeError)."""
    if len(kinds) == 2 and kinds[0][0] is not kinds[1][0]:
        raise RuntimeError(f"{kinds[0][0].short_name} did not match {kinds[1][0].short_name}")


isclose.op.check_kinds = _isclose_same_dtype


def _allclose_meta(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    broadcast_shapes(self.shape, other.shape)
    return bool


@op("aten::allclose(Tensor self, Tensor other, float rtol=1e-05, float atol=1e-08, "
    "bool equal_nan=False) -> bool", tags={"reduction"}, meta=_allclose_meta)
def allclose(xp, self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    _check_same_dtype("allclose", self, other)
    try:
        return bool(xp.all(isclose.op.impl(xp, self, other, rtol, atol, equal_nan)))
    except ValueError:
        raise RuntimeError(f"allclose: the size of tensor a {list(self.shape)} must match the "
                           f"size of tensor b {list(other.shape)} (not broadcastable)") from None


@op("aten::equal(Tensor self, Tensor other) -> bool", tags={"reduction"},
    meta=lambda self, other: bool)
def equal(xp, self, other):
    return self.shape == other.shape and bool(xp.all(self == other))
