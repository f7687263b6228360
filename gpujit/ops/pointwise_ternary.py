"""Pointwise selection and three-operand ops: where (and Tensor.where), masked_fill,
lerp, addcmul and addcdiv, with their derivatives. Conventions as in pointwise.py.
"""
from __future__ import annotations

import numpy as _np

from .. import dtypes as _dt
from . import registry as _reg
from . import fma as _fma
from .meta import TensorMeta, broadcast_shapes
from .registry import op
from .registry import derivative as _derivative
from .pointwise import (FLOATS, NO_BOOL, _PW, _f32, _gpujit, _keep, _kind, _scaled,
                        _short, _wrap_scalar)


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
    if condition.dtype == _np.uint8:
        # PyTorch still takes a uint8 condition (nonzero is true), with a deprecation
        # warning given once (TORCH_WARN_ONCE); other integer types are refused
        warn_uint8_condition()
        condition = condition != 0
    elif condition.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                           f"tensor with dtype {_short(condition.dtype)}")
    return xp.where(condition, self, other)     # (a broadcast failure: registry's words)


_UINT8_WARNED = []


def warn_uint8_condition():
    """torch's words for a uint8 condition of where(): once per process (TORCH_WARN_ONCE),
    every time under torch.set_warn_always(True)."""
    from ..runtime_flags import is_warn_always_enabled
    from .._frames import warn_at_user_frame
    if not _UINT8_WARNED or is_warn_always_enabled():
        _UINT8_WARNED.append(True)
        warn_at_user_frame("where received a uint8 condition tensor. This behavior is "
                           "deprecated and will be removed in a future version of PyTorch. "
                           "Use a boolean condition instead.")


@_reg.tensor_method("where")
def _tensor_where(self, condition, other):
    """x.where(condition, other) is where(condition, x, other) (torch's keyword: other)."""
    return _reg.OPS["aten::where.self"].public(condition, self, other)


def _masked_fill_meta(self, mask, value):
    return TensorMeta(self.dtype, broadcast_shapes(self.shape, mask.shape), self.device)


def _masked_fill(xp, self, mask, value):
    if mask.dtype.kind != "b":
        # (c10's TypeMeta name: "unsigned char", "long int", "float")
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with "
                           f"dtype {_dt.CPP_NAMES[_dt.from_numpy_dtype(mask.dtype).name]}")
    if self.dtype.kind == "c" or isinstance(value, complex) or \
            getattr(value, "dtype", _np.dtype("f4")).kind == "c":
        # (a complex self or value: c10's checked conversion of the value to self's type,
        # a complex value with an imaginary part refused by a real self)
        from .shape_index import cast_scalar
        v = cast_scalar(value.item() if getattr(value, "ndim", None) == 0 else value,
                        self.dtype)
        return xp.where(mask, xp.asarray(v, self.dtype), self)
    # the registry casts to self's dtype (a Python int converted as PyTorch's, checked);
    # an integral self takes the value in its own dtype first: where() with a float value
    # would compute in float64 and round self's unmasked int64 values beyond 2**53
    if type(value) is int and not -(1 << 63) <= value < (1 << 63):
        # (past int64: PyTorch's parser makes [2**63, 2**64) a uint64 Scalar, which an
        # int64 self refuses as c10's checked conversion; any other its OverflowError)
        value = _reg.big_int_operand(masked_fill.op, "value", value, self.dtype)
    value = _reg.checked_arg(value, self.dtype)
    if self.dtype.kind != "b":
        # value.to<scalar_t>() is c10's checked conversion for a float too (uint8 with
        # -2.0 or 255.5, int8 with nan, float16 with -7e4, float32 with 1e40: PyTorch's
        # RuntimeError); a 0-dim tensor value goes through .item() the same way
        if isinstance(value, (float, int)):     # (a Python int too: float16 with 2**30)
            _reg.scalar_to(value, self.dtype)
        elif getattr(value, "ndim", None) == 0:
            _reg.scalar_to(value.item(), self.dtype)
    if self.dtype.kind in "iub":
        value = xp.asarray(value).astype(self.dtype)
    elif (type(value) is float or (type(value) is int and -(1 << 24) <= value <= 1 << 24)) \
            and xp is _np and mask.ndim <= self.ndim and \
            self.shape[self.ndim - mask.ndim:] == mask.shape and self.size:
        # (a float self as large as the result, a Python number: where()'s values, where()
        # reading self, value and mask per element; a copy written through the mask is
        # one pass at 1/5 of the time, which SDPA's causal mask and its backward pay)
        r = self.copy()
        _np.copyto(r, value, where=mask)
        return r
    return xp.where(mask, value, self)


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


def _masked_fill_expression(form):
    """An integral / bool self takes the value in its own dtype first, as eager (where()
    of an int64 self and a float32 value would round the unmasked int64 elements through
    float32: 1000006000067 became 1000006025216)."""
    ct = form.ct
    if ct is not None and ct.category != _dt.FLOATING:
        return form.scalar.replace("{value}", f"cast_{ct.name}({{value}})")
    return None


masked_fill.op.scalar_for = masked_fill_tensor.op.scalar_for = _masked_fill_expression


for _d in (masked_fill.op, masked_fill.op.inplace_variant):
    _d.checked_scalars = frozenset(("value",))
where.op.checked_scalars = frozenset(("self", "other"))   # where(c, x, 300): c10's check


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
    if getattr(s, "dtype", None) == _np.float32:
        # float32 (and float16, computed in float32): PyTorch's CPU kernels (lerp_vec, and
        # the scalar loop as compiled) take fmadd(w or w - 1, end - self, self or end), one
        # rounding: the float64 product of two float32s is exact, so the float64 sum
        # rounded to float32 is the fused multiply-add's (NumPy's two roundings differed
        # by an ulp in ~25% of the elements of lerp(a, b, 0.3))
        if not hasattr(w, "shape"):
            w = _np.float32(w)
            small = -0.5 < w < 0.5
            coeff, base = (w, s) if small else (w - _np.float32(1), e)
        else:
            small = xp.abs(w) < 0.5
            coeff = xp.where(small, w, w - _np.float32(1))
            base = xp.where(small, s, e)
        return (xp.multiply(coeff, diff, dtype=_np.float64)
                + xp.asarray(base, dtype=_np.float64)).astype(_np.float32)
    if getattr(s, "dtype", None) == _np.float64:
        # float64: the same fmadd of lerp_vec, one rounding (a true FMA; torch 2.13 gives
        # it for every element, whatever the layout; s + w * (e - s) rounded twice
        # differed by an ulp in ~20% of random elements)
        if not hasattr(w, "shape"):
            small = -0.5 < w < 0.5
            coeff, base = (_np.float64(w), s) if small else (_np.float64(w) - 1.0, e)
        else:
            small = xp.abs(w) < 0.5
            coeff = xp.where(small, w, w - 1.0)
            base = xp.where(small, s, e)
        shape = _np.broadcast_shapes(*(getattr(v, "shape", ()) for v in (coeff, diff, base)))
        return _fma.fma64(*(xp.broadcast_to(xp.asarray(v, _np.float64), shape)
                            for v in (coeff, diff, base)), xp=xp)
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


def _lerp_expression(form):
    """lerp's fmadd, as eager (_lerp). float32 (float16 computes in it): one rounding of
    w * (end - self) + self (or of (w - 1) * (end - self) + end): the float64 product of
    two float32s is exact (the weight as float32 first: a constant 0.7 - 1 would fold in
    float64); float64: a true FMA (prims._fma_f64)."""
    if form.ct in (_dt.float16, _dt.float32):
        w = "cast_float32({weight})"
        return (f"cast_float32(cast_float64(where(abs({w}) < 0.5, {w}, {w} - 1))"
                " * cast_float64({end} - {self})"
                f" + cast_float64(where(abs({w}) < 0.5, {{self}}, {{end}})))")
    if form.ct is _dt.float64:
        return ("fma(where(abs({weight}) < 0.5, {weight}, {weight} - 1), {end} - {self}, "
                "where(abs({weight}) < 0.5, {self}, {end}))")
    return None


lerp.op.scalar_for = lerp_tensor.op.scalar_for = _lerp_expression


def _lerp_dtypes(kinds):
    """PyTorch's lerp meta: `end` (and a `weight` tensor of 1+ dims) must have self's
    dtype; no promotion between them (a 0-dim weight and a number weight take part)."""
    if len(kinds) < 2 or kinds[0][1] == _dt.SCALAR:
        return
    want = kinds[0][0]
    for name, k in zip(("end", "weight"), kinds[1:]):
        if k[0] is not want and (k[1] == _dt.DIM or (name == "end" and k[1] != _dt.SCALAR)):
            raise RuntimeError(f"expected dtype {_dt.CPP_NAMES[want.name]} for `{name}` but "
                               f"got dtype {_dt.CPP_NAMES[k[0].name]}")


for _d in (lerp.op, lerp.op.inplace_variant, lerp_tensor.op, lerp_tensor.op.inplace_variant):
    _d.check_kinds = _lerp_dtypes


@op("aten::addcmul(Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1) -> Tensor",
    tags=_PW, inplace=True, dtypes=NO_BOOL, scalar="{self} + {value} * {tensor1} * {tensor2}",
    number_args={"value": "int_in_int"})
def addcmul(xp, self, tensor1, tensor2, value=1):
    s, t1 = _f32(self), _f32(tensor1)
    if type(value) is float and _kind(s, t1) in "iu":
        value = int(value)          # PyTorch converts it to the integer dtype (0.5 -> 0)
    value = _wrap_scalar(value, s, t1)
    p = value * t1 if value != 1 else t1
    dt = p.dtype
    if dt.kind == "f" and dt.itemsize >= 4 and getattr(tensor2, "dtype", None) == dt \
            and s.dtype == dt:
        # PyTorch's kernels (CPU and CUDA) are one FMA, fma(value * t1, t2, self), rounded
        # once; two roundings differed by an ulp, which cancellation after it made visible
        # (program fuzz seeds 2129, 2133). float32: the product is exact in float64, the
        # float64 sum rounded to float32 (as the fused kernels compute it: _addcmul_expression;
        # a true FMA but at ties of the float64 rounding)
        if dt == _np.float32:
            return _fma.muladd32_via64(p, tensor2, s, xp)
        return _fma.fma64(p, tensor2, s, xp)
    return s + p * tensor2


for _d in (addcmul.op, addcmul.op.inplace_variant):
    _d.checked_scalars = frozenset(("value",))
    # (a float value: checked in the op's math type, float for float16: addcmul(u8, ...,
    # value=-0.5) raises, addcmul(h, ..., value=1e6) gives inf)
    _d.checked_floats = {"value": {_np.dtype(_np.float16): _np.dtype(_np.float32)}}


def _addcmul_expression(form):
    """addcmul's fused form in float32 / float64: eager's one rounding of
    fma(value * t1, t2, self) (float64 a true FMA, prims._fma_f64; float32 the float64 sum
    of the exact product, rounded to float32). The plain expression rounded twice: 504 of
    4096 float32 elements of a fused addcmul differed from eager."""
    value = form.constants.get("value", None)
    one = "value" in form.constants and value == 1 and not isinstance(value, bool)
    if form.ct is _dt.float64:
        p = "{tensor1}" if one else "(cast_float64({value}) * {tensor1})"
        return f"fma({p}, {{tensor2}}, {{self}})"
    if form.ct is _dt.float32:
        p = "{tensor1}" if one else "cast_float32(cast_float32({value}) * {tensor1})"
        return (f"cast_float32(cast_float64({{self}}) + cast_float64({p}) * "
                f"cast_float64({{tensor2}}))")
    return None


addcmul.op.scalar_for = _addcmul_expression


_ADDCDIV_INT = (
    "Integer division with addcdiv is no longer supported, and in a future  release "
    "addcdiv will perform a true division of tensor1 and tensor2. The historic "
    "addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / "
    "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
    "tensor2) for float inputs. The future addcdiv behavior is just the latter "
    "implementation: (input + value * tensor1 / tensor2), for all dtypes.")


def _addcdiv_types(ct, value):
    if ct.category != _dt.FLOATING:
        raise RuntimeError(_ADDCDIV_INT)
    return ct, ct


def _addcdiv_kinds(kinds):
    """PyTorch refuses tensor1 and tensor2 both integer or bool, whatever self is (a
    float self does not make it a true division)."""
    if len(kinds) >= 3 and all(k[0].category != _dt.FLOATING for k in kinds[1:3]):
        raise RuntimeError(_ADDCDIV_INT)


@op("aten::addcdiv(Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1) -> Tensor",
    tags=_PW, inplace=True, promote=_addcdiv_types,
    scalar="{self} + {value} * {tensor1} / {tensor2}")
def addcdiv(xp, self, tensor1, tensor2, value=1):
    s, t1 = _f32(self), _f32(tensor1)
    return s + value * t1 / tensor2 if value != 1 else s + t1 / tensor2


addcdiv.op.check_kinds = addcdiv.op.inplace_variant.check_kinds = _addcdiv_kinds


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd): written with registry ops, so they can be differentiated
# again (create_graph=True) and later traced and fused. The formulas, and the choices at
# kinks and ties, are PyTorch's (tools/autograd/derivatives.yaml, FunctionsManual.cpp).


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


# (reads: a tensor is saved only for the gradients that read it, as PyTorch saves: an
# operand written in place later is no error when nothing that needs a gradient read it)
@_derivative(lerp_tensor, reads={"self": ("weight",), "end": ("weight",),
                                 "weight": ("self", "end")})
def _lerp_grad(grad, self, end, weight, needs_grad):
    return (grad * (1 - weight) if needs_grad[0] else None,
            grad * weight if needs_grad[1] else None,
            grad * (end - self) if needs_grad[2] else None)


@_derivative(addcmul, reads={"tensor1": ("tensor2",), "tensor2": ("tensor1",)})
def _addcmul_grad(grad, tensor1, tensor2, value, needs_grad):
    # (derivatives.yaml: grad * (tensor2 * value), grad * (tensor1 * value))
    return (grad, grad * _scaled(tensor2, value) if needs_grad[1] else None,
            grad * _scaled(tensor1, value) if needs_grad[2] else None)


@_derivative(addcdiv, reads={"tensor1": ("tensor2",), "tensor2": ("tensor1", "tensor2")})
def _addcdiv_grad(grad, tensor1, tensor2, value, needs_grad):
    # (derivatives.yaml: grad * (value / tensor2), -grad * (value * tensor1 /
    # (tensor2 * tensor2)); ATen's C++ value / tensor2 is full_like(tensor2, value) /
    # tensor2, one division -- Python's value / tensor2 is tensor2.reciprocal() * value)
    return (grad, grad * (_gpujit().full_like(tensor2, value) / tensor2)
            if needs_grad[1] else None,
            -grad * (_scaled(tensor1, value) / (tensor2 * tensor2))
            if needs_grad[2] else None)
