"""Activation functions (relu, gelu, silu, ...): pointwise ops, declared like those in
pointwise.py (imported from there). Most are `python_module: nn` in PyTorch's
native_functions.yaml, so they are bound only as `gpujit.nn.functional.<name>` (and their
in-place `Tensor.<name>_`); relu, selu, celu and threshold are also `gpujit.<name>`.
"""
from __future__ import annotations

from . import special as _special
from .pointwise import FLOATS, NO_BOOL, _PW, _f32
from .registry import op

_ACT = dict(tags=_PW, functional=True, method=False, function=False)


@op("aten::relu(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=NO_BOOL,
    functional=True, scalar="maximum({self}, 0)")
def relu(xp, self):
    # maximum propagates NaN as torch.relu does
    return xp.maximum(self, _zero_of(self.dtype))


_ZEROS: dict = {}


def _zero_of(np_dtype):
    """A NumPy scalar 0 of the array's dtype, made once per dtype (maximum(x, 0) would
    convert the Python 0 on every call)."""
    z = _ZEROS.get(np_dtype)
    if z is None:
        z = _ZEROS[np_dtype] = np_dtype.type(0)
    return z


@op("aten::relu6(Tensor self) -> Tensor", **_ACT, inplace=True, dtypes=NO_BOOL,
    scalar="minimum(maximum({self}, 0), 6)")
def relu6(xp, self):
    return xp.minimum(xp.maximum(self, 0), 6)


@op("aten::leaky_relu(Tensor self, Scalar negative_slope=0.01) -> Tensor", **_ACT,
    inplace=True, dtypes=FLOATS,
    scalar="where({self} > 0, {self}, {self} * {negative_slope})")
def leaky_relu(xp, self, negative_slope=0.01):
    return xp.where(self > 0, self, self * negative_slope)


def _elu(xp, x, alpha, scale, input_scale):
    x = _f32(x)
    # minimum(): the negative branch never overflows where the positive one is chosen
    neg = xp.expm1(xp.minimum(x, 0) * input_scale) * (alpha * scale)
    return xp.where(x > 0, x * scale, neg)


@op("aten::elu(Tensor self, Scalar alpha=1, Scalar scale=1, Scalar input_scale=1) -> Tensor",
    **_ACT, inplace=True, dtypes=FLOATS,
    scalar="where({self} > 0, {self} * {scale}, "
           "expm1({self} * {input_scale}) * ({alpha} * {scale}))")
def elu(xp, self, alpha=1, scale=1, input_scale=1):
    return _elu(xp, self, alpha, scale, input_scale)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@op("aten::selu(Tensor self) -> Tensor", tags=_PW, functional=True, method=False,
    inplace=True, dtypes=FLOATS,
    scalar=f"where({{self}} > 0, {{self}} * {_SELU_SCALE!r}, "
           f"expm1({{self}}) * {_SELU_ALPHA * _SELU_SCALE!r})")
def selu(xp, self):
    return _elu(xp, self, _SELU_ALPHA, _SELU_SCALE, 1)


@op("aten::celu(Tensor self, Scalar alpha=1.0) -> Tensor", tags=_PW, functional=True,
    method=False, inplace=True, dtypes=FLOATS,
    scalar="where({self} > 0, {self}, expm1({self} * (1 / {alpha})) * {alpha})")
def celu(xp, self, alpha=1.0):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _elu(xp, self, alpha, 1, 1 / alpha)


_GELU_TANH = ("0.5 * {self} * (1 + tanh(0.7978845608028654 * "
              "({self} + 0.044715 * {self} * {self} * {self})))")
_GELU_ERF = "0.5 * {self} * (1 + erf({self} * 0.7071067811865476))"


@op("aten::gelu(Tensor self, *, str approximate='none') -> Tensor", **_ACT, inplace=True,
    dtypes=FLOATS, scalar=f"where({{approximate}} == 'tanh', {_GELU_TANH}, {_GELU_ERF})")
def gelu(xp, self, approximate="none"):
    x = _f32(self)
    if approximate == "none":
        return 0.5 * x * (1 + _special.erf(xp, x * 0.7071067811865476))
    if approximate == "tanh":
        return 0.5 * x * (1 + xp.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
    raise RuntimeError("approximate argument must be either none or tanh.")


@op("aten::silu(Tensor self) -> Tensor", **_ACT, inplace=True, dtypes=FLOATS,
    scalar="{self} / (1 + exp(-{self}))")
def silu(xp, self):
    x = _f32(self)
    return x / (1 + xp.exp(-x))


@op("aten::mish(Tensor self) -> Tensor", **_ACT, inplace=True, dtypes=FLOATS,
    scalar="{self} * tanh(log1p(exp({self})))")
def mish(xp, self):
    x = _f32(self)
    return x * xp.tanh(xp.logaddexp(x, 0))      # log1p(exp(x)) without overflow


@op("aten::softplus(Tensor self, Scalar beta=1, Scalar threshold=20) -> Tensor", **_ACT,
    dtypes=FLOATS,
    scalar="where({self} * {beta} > {threshold}, {self}, (log1p(exp(-abs({self} * {beta}))) "
           "+ maximum({self} * {beta}, 0)) / {beta})")   # log1p(exp(.)) without overflow
def softplus(xp, self, beta=1, threshold=20):
    x = _f32(self)
    xb = x * beta
    return xp.where(xb > threshold, x, xp.logaddexp(xb, 0) / beta)


def _int_bounds(a, lo, hi, name):
    # integer tensors clamp at the bounds converted to integers (no type promotion)
    if a.dtype.kind in "iu":
        lo, hi = int(lo), int(hi)
        if a.dtype.kind == "u" and (lo < 0 or hi < 0):
            raise RuntimeError(f"cannot do {name} on an unsigned type with negative limits")
    return lo, hi


@op("aten::hardtanh(Tensor self, Scalar min_val=-1, Scalar max_val=1) -> Tensor", **_ACT,
    inplace=True, dtypes=NO_BOOL, scalar="minimum(maximum({self}, {min_val}), {max_val})")
def hardtanh(xp, self, min_val=-1, max_val=1):
    lo, hi = _int_bounds(self, min_val, max_val, "hardtanh")
    return xp.minimum(xp.maximum(self, lo), hi)


@op("aten::hardsigmoid(Tensor self) -> Tensor", **_ACT, inplace=True, dtypes=FLOATS,
    scalar="minimum(maximum({self} + 3, 0), 6) / 6")
def hardsigmoid(xp, self):
    x = _f32(self)
    return xp.minimum(xp.maximum(x + 3, 0), 6) / 6


@op("aten::hardswish(Tensor self) -> Tensor", **_ACT, inplace=True, dtypes=FLOATS,
    scalar="{self} * minimum(maximum({self} + 3, 0), 6) / 6")
def hardswish(xp, self):
    x = _f32(self)
    return x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6


@op("aten::threshold(Tensor self, Scalar threshold, Scalar value) -> Tensor", tags=_PW,
    functional=True, method=False, inplace=True, dtypes=NO_BOOL,
    scalar="where({self} <= {threshold}, {value}, {self})")
def threshold(xp, self, threshold, value):
    if self.dtype.kind in "iu":
        threshold, value = int(threshold), int(value)   # converted to the tensor's type
    return xp.where(self <= threshold, value, self)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops
from .registry import derivative as _derivative  # noqa: E402


@_derivative(relu)
def _relu_grad(grad, result):
    return grad * (result > 0)
