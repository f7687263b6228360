"""Activation functions (relu, gelu, silu, ...): pointwise ops, declared like those in
pointwise.py (ops.FAMILIES imports this module right after the pointwise families). Most
are `python_module: nn` in PyTorch's native_functions.yaml, so they are bound only as
`gpujit.nn.functional.<name>` (and their in-place `Tensor.<name>_`); relu, selu, celu and
threshold are also `gpujit.<name>`; hardshrink and prelu are also `gpujit.<name>` and
`Tensor.<name>`. PyTorch has no in-place hardshrink, softshrink, log_sigmoid or prelu, so
neither does gpujit; log_sigmoid is bound as F.logsigmoid.
"""
from __future__ import annotations

import math as _math

import numpy as _np

from .. import dtypes as _dt
from . import special as _special
from . import memory_format as _mf
from . import registry as _reg
from .meta import TensorMeta as _TensorMeta
from .pointwise import FLOATS, NO_BOOL, _PW, _f32
from .registry import op
from .scalar import tie_first as _tie_first

_ACT = dict(tags=_PW, functional=True, method=False, function=False)


@op("aten::relu(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=NO_BOOL,
    functional=True, scalar="maximum({self}, 0)")
def relu(xp, self):
    # PyTorch's relu keeps NaN and -0. and gives +0. for negatives. maximum(x, 0) may give
    # +0. for -0. (by SIMD lane), so the zeros of x are copied back: they are rare in x
    # (tie_first looked for zeros in the result, which relu always has, and its slow path
    # made relu 5.6 us a call on 1K floats; where(x < 0, 0, x) is 12x slower than maximum
    # on 2^20 random floats)
    z = _zero_of(self.dtype)
    r = xp.maximum(self, z)
    if self.dtype.kind != "f":
        return r
    zero = self == z
    if xp is not _np:
        return xp.where(zero, self, r)
    if zero.any():
        if not isinstance(r, _np.ndarray):      # (a 0-dim self: NumPy's maximum answered
            return self.copy()                  # a scalar)
        _np.copyto(r, self, where=zero)
    return r


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
    return _tie_first(xp, "minimum", _tie_first(xp, "maximum", self, 0), 6)


@op("aten::leaky_relu(Tensor self, Scalar negative_slope=0.01) -> Tensor", **_ACT,
    inplace=True, dtypes=FLOATS,
    scalar="where({self} > 0, {self}, {self} * {negative_slope})")
def leaky_relu(xp, self, negative_slope=0.01):
    # the slope multiplies in float32 for float16 (as PyTorch's, and the fused kernels)
    wide = self.astype("float32") if self.dtype == "float16" else self
    return xp.where(self > 0, self, wide * negative_slope)


def _elu(xp, x, alpha, scale, input_scale):
    x = _f32(x)
    # minimum(): the negative branch never overflows where the positive one is chosen
    neg = xp.expm1(_tie_first(xp, "minimum", x, 0) * input_scale) * (alpha * scale)
    # (x = +-0 takes x * scale, as PyTorch's kernel: elu(0.0, alpha=inf) is 0.0, not NaN)
    return xp.where(x >= 0, x * scale, neg)


@op("aten::elu(Tensor self, Scalar alpha=1, Scalar scale=1, Scalar input_scale=1) -> Tensor",
    **_ACT, inplace=True, dtypes=FLOATS,
    scalar="where({self} >= 0, {self} * {scale}, "
           "expm1({self} * {input_scale}) * ({alpha} * {scale}))")
def elu(xp, self, alpha=1, scale=1, input_scale=1):
    return _elu(xp, self, alpha, scale, input_scale)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@op("aten::selu(Tensor self) -> Tensor", tags=_PW, functional=True, method=False,
    inplace=True, dtypes=FLOATS,
    scalar=f"where({{self}} >= 0, {{self}} * {_SELU_SCALE!r}, "
           f"expm1({{self}}) * {_SELU_ALPHA * _SELU_SCALE!r})")
def selu(xp, self):
    return _elu(xp, self, _SELU_ALPHA, _SELU_SCALE, 1)


@op("aten::celu(Tensor self, Scalar alpha=1.0) -> Tensor", tags=_PW, functional=True,
    method=False, inplace=True, dtypes=FLOATS,
    scalar="where({self} >= 0, {self}, expm1({self} * (1 / {alpha})) * {alpha})")
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
    if approximate == "none" and xp is _np and x.dtype == _np.float32 and x.ndim:
        # (the steps below in one compiled pass, erf libm's erff: ops/_erf_kernel.py)
        from . import _erf_kernel as _k
        if _k.agrees_with_libm():
            return _k.gelu_f32(x)
    if approximate == "none":     # 0.5 * x * (1 + erf(x * M_SQRT1_2)), two temporaries
        t = _special.erf(xp, x * 0.7071067811865476)
        if getattr(t, "ndim", 0) == 0:
            return 0.5 * x * (1 + t)
        xp.add(t, 1, out=t)
        return xp.multiply(xp.multiply(0.5, x), t, out=t)
    if approximate == "tanh":
        if getattr(x, "ndim", 0) and x.dtype.kind == "f":
            # (the expression's steps in their order, in place: two arrays, not nine)
            t = xp.multiply(x, 0.044715)
            xp.multiply(t, x, out=t)
            xp.multiply(t, x, out=t)
            xp.add(t, x, out=t)
            xp.multiply(t, 0.7978845608028654, out=t)
            xp.tanh(t, out=t)
            xp.add(t, 1, out=t)
            return xp.multiply(xp.multiply(x, 0.5), t, out=t)
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
    """x tanh(log1p(exp(x))) as written (PyTorch's formula, and the fused kernels': the
    same exp, log1p and tanh, so fused == eager; exp(x) = inf above 88 gives x)."""
    x = _f32(self)
    return x * xp.tanh(xp.log1p(xp.exp(x)))


@op("aten::softplus(Tensor self, Scalar beta=1, Scalar threshold=20) -> Tensor", **_ACT,
    dtypes=FLOATS,
    scalar="where({self} * {beta} > {threshold}, {self}, (log1p(exp(-abs({self} * {beta}))) "
           "+ maximum({self} * {beta}, 0)) / {beta})")   # log1p(exp(.)) without overflow
def softplus(xp, self, beta=1, threshold=20):
    """log1p(exp(x beta)) / beta without overflow: the fused kernels' expression,
    (log1p(exp(-|xb|)) + max(xb, 0)) / beta, which is NumPy's logaddexp(xb, 0) operation
    for operation, with np.exp / np.log1p, the functions the kernels share
    (kernels/cpu_math.py; NumPy's logaddexp calls libm's per element instead). float16
    computes in float32."""
    x = _f32(self)
    xb = x * beta
    if xp is _np:
        soft = (xp.log1p(xp.exp(-xp.abs(xb))) + xp.maximum(xb, 0)) / beta
    else:
        soft = xp.logaddexp(xb, 0) / beta
    return xp.where(xb > threshold, x, soft)


def _int_bounds(a, lo, hi, name):
    # integer tensors clamp at the bounds converted to integers (no type promotion)
    if a.dtype.kind in "iu":
        lo, hi = int(lo), int(hi)
        if a.dtype.kind == "u" and (lo < 0 or hi < 0):
            raise RuntimeError(f"cannot do {name} on an unsigned type with negative limits")
        lo, hi = _reg.checked_arg(lo, a.dtype), _reg.checked_arg(hi, a.dtype)
    return lo, hi


@op("aten::hardtanh(Tensor self, Scalar min_val=-1, Scalar max_val=1) -> Tensor", **_ACT,
    inplace=True, dtypes=NO_BOOL, scalar="minimum(maximum({self}, {min_val}), {max_val})")
def hardtanh(xp, self, min_val=-1, max_val=1):
    lo, hi = _int_bounds(self, min_val, max_val, "hardtanh")
    return _tie_first(xp, "minimum", _tie_first(xp, "maximum", self, lo), hi)


for _d in (hardtanh.op, hardtanh.op.inplace_variant):
    _d.checked_scalars = frozenset(("min_val", "max_val"))
    # (float bounds of a float tensor: c10's check, hardtanh(h, -1e5, 1e5) raises; an
    # integer tensor's go through _int_bounds)
    _d.checked_floats = dict.fromkeys(("min_val", "max_val"), {
        _np.dtype(t): None for t in (_np.uint8, _np.int8, _np.int16, _np.int32, _np.int64)})


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
    for name, v in (("threshold", threshold), ("value", value)):
        _reg.checked_number(_threshold_op, name, v, self.dtype)    # (c10's range check)
    if self.dtype.kind in "iu":     # converted to the tensor's type (checked, as PyTorch)
        threshold = _reg.checked_arg(int(threshold), self.dtype)
        value = _reg.checked_arg(int(value), self.dtype)
    elif self.dtype == _np.float16:
        # compared in float, as PyTorch's kernel (opmath) and the fused kernels: half(0.3)
        # = 0.30005 is above a threshold of 0.3 and kept
        threshold = _np.float32(threshold)
    return xp.where(self <= threshold, value, self)


for _d in (threshold.op, threshold.op.inplace_variant):
    _d.checked_scalars = frozenset(("threshold", "value"))
    # (a float for an integer tensor is range-checked as a float: threshold(u8, -0.5, 1.0)
    # raises, where int(-0.5) would pass; a float16 tensor's threshold is a float's)
    _d.checked_floats = {"threshold": {_np.dtype(_np.float16): _np.dtype(_np.float32)},
                         "value": {}}
_threshold_op = threshold.op


@op("aten::hardshrink(Tensor self, Scalar lambd=0.5) -> Tensor", tags=_PW, functional=True,
    dtypes=FLOATS, scalar="where(({self} >= -{lambd}) & ({self} <= {lambd}), 0, {self})")
def hardshrink(xp, self, lambd=0.5):
    """x where x < -lambd or x > lambd (NaN kept), else +0. lambd is taken in the
    tensor's dtype, as PyTorch's kernel (lambd.to<scalar_t>()): hardshrink of a float16
    0.7002 (half(0.7)) by 0.7 is 0 (the fused kernels round it too)."""
    lam = self.dtype.type(lambd) if self.dtype.kind == "f" else lambd
    return xp.where((self >= -lam) & (self <= lam), _zero_of(self.dtype), self)


hardshrink.op.checked_floats = {"lambd": {}}      # (hardshrink(h, 1e6) raises)


def _hardshrink_expression(form):
    """lambd in the tensor's dtype, as eager and PyTorch (lambd.to<scalar_t>())."""
    if form.ct in (_dt.float16, _dt.float32):
        return form.scalar.replace("{lambd}", f"cast_{form.ct.name}({{lambd}})")
    return None


hardshrink.op.scalar_for = _hardshrink_expression


def _softshrink_check(np_dtype, lambd):
    """PyTorch's range check of lambd, in the input dtype (NaN fails it too)."""
    hi = float(_np.finfo(np_dtype).max)
    if not 0 <= lambd <= hi:
        shown = lambd if isinstance(lambd, int) else f"{float(lambd):g}"
        raise RuntimeError(f"lambda must be in range [0, {hi:g}] for input dtype "
                           f"{_dt.from_numpy_dtype(np_dtype).short_name}, but found {shown}")


@op("aten::softshrink(Tensor self, Scalar lambd=0.5) -> Tensor", **_ACT, dtypes=FLOATS,
    scalar="where({self} > {lambd}, {self} - {lambd}, "
           "where({self} < -{lambd}, {self} + {lambd}, {self} * 0))")
def softshrink(xp, self, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, else x * 0 (a signed zero; NaN
    kept), as PyTorch's kernel; float16 in float32 with lambd a float32."""
    _softshrink_check(self.dtype, lambd)
    x = _f32(self)
    return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, x * 0))


@op("aten::log_sigmoid(Tensor self) -> Tensor", **dict(_ACT, functional="logsigmoid"),
    dtypes=FLOATS, scalar="minimum({self}, 0) - log1p(exp(-abs({self})))")
def log_sigmoid(xp, self):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): no overflow for any x."""
    x = _f32(self)
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _log_sigmoid_check(self):
    from .nn import dtype_of
    from .kernel_names import kernel_name
    d = dtype_of(self)
    if d not in FLOATS:
        e = _reg.UnsupportedDtypeError(f"\"{kernel_name('log_sigmoid_cpu', self)}\" not "
                                       f"implemented for '{d.short_name}'")
        e.dtype = d
        raise e


def _log_sigmoid_forward_meta(self):
    _log_sigmoid_check(self)
    m = _TensorMeta(self.dtype, tuple(self.shape), self.device)
    return m, m


@op("aten::log_sigmoid_forward(Tensor self) -> (Tensor output, Tensor buffer)", tags={"nn"},
    method=False, function=False, dtypes=FLOATS, meta=_log_sigmoid_forward_meta,
    nondiff_outputs=("buffer",))
def log_sigmoid_forward(xp, self):
    """log_sigmoid's ATen kernel (F.logsigmoid calls it): the output and the buffer
    exp(-|x|) its backward reads (float16: computed in float, each rounded to half)."""
    _log_sigmoid_check(self)
    x = _f32(self)
    z = xp.exp(-xp.abs(x))
    out = xp.minimum(x, 0) - xp.log1p(z)
    return (_mf.iterator_layout(xp, out.astype(self.dtype, copy=False), (self,)),
            _mf.iterator_layout(xp, z.astype(self.dtype, copy=False), (self,)))


def _prelu_weight_shape(self, weight):
    """PyTorch's checks of prelu (at::prelu), in its order; the shape the weight is viewed
    as to broadcast against self along dim 1 (self and weight: arrays or TensorMetas)."""
    sd, wd = _dtype_of(self), _dtype_of(weight)
    if sd is not wd:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {sd.short_name} and "
                           f"{wd.short_name}")
    nd, w_shape = len(self.shape), tuple(weight.shape)
    wn = None if None in w_shape else _math.prod(w_shape)
    if wn != 1:
        if nd == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        c = self.shape[1] if nd > 1 else 1
        if c is not None and wn is not None and c != wn:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {wn} and channel size = {c}.")
    if len(w_shape) > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {len(w_shape)}")
    if nd == len(w_shape):
        return w_shape
    shape = [1] * nd
    if nd > 1:
        shape[1] = wn
    return tuple(shape)


def _dtype_of(a):
    d = a.dtype
    return d if isinstance(d, _dt.dtype) else _dt.from_numpy_dtype(d)


def _prelu_meta(self, weight):
    _prelu_weight_shape(self, weight)
    if _dtype_of(self).category != _dt.FLOATING:
        raise _prelu_dtype_error(self, getattr(self.device, "type", "cpu"))
    return _TensorMeta(self.dtype, tuple(self.shape), self.device)


def _prelu_dtype_error(self, device_type):
    return NotImplementedError(f'"prelu_{device_type}" not implemented for '
                        f"'{_dtype_of(self).short_name}'")


@op("aten::prelu(Tensor self, Tensor weight) -> Tensor", tags={"nn"}, functional=True,
    dtypes=FLOATS, meta=_prelu_meta)
def prelu(xp, self, weight):
    """x where x > 0, else weight * x; weight has 1 element or one per channel (dim 1).
    Not fusible: the weight broadcasts along dim 1, not by NumPy's trailing-dim rule."""
    w = weight.reshape(_prelu_weight_shape(self, weight))
    if self.dtype.kind != "f":
        raise _prelu_dtype_error(self, "cpu" if xp is _np else "cuda")
    x, w = _f32(self), _f32(w)
    # (TensorIterator's layout: self's order, also where CuPy's where is C-contiguous)
    return _mf.iterator_layout(xp, xp.where(x > 0, x, w * x).astype(self.dtype, copy=False),
                               (self,))


def _prelu_kernel_meta(self, weight):
    if _dtype_of(self).category != _dt.FLOATING:
        raise _prelu_dtype_error(self, getattr(self.device, "type", "cpu"))
    from .meta import broadcast_shapes
    return _TensorMeta(self.dtype, broadcast_shapes(tuple(self.shape), tuple(weight.shape)),
                       self.device)


@op("aten::_prelu_kernel(Tensor self, Tensor weight) -> Tensor", tags={"nn"}, method=False,
    dtypes=FLOATS, meta=_prelu_kernel_meta)
def _prelu_kernel(xp, self, weight):
    """ATen's prelu kernel: x where x > 0, else weight * x, the weight broadcast as a
    tensor operand (prelu views it along dim 1 first): PreluKernelBackward0's op; torch's
    binding is torch._prelu_kernel."""
    if self.dtype.kind != "f":
        raise _prelu_dtype_error(self, "cpu" if xp is _np else "cuda")
    x, w = _f32(self), _f32(weight)
    return _mf.iterator_layout(xp, xp.where(x > 0, x, w * x).astype(self.dtype, copy=False),
                               (self, weight))


def _prelu_composite(self, weight):
    """prelu recording gradients: PyTorch's, the weight viewed along dim 1 to self's rank
    (reshape: ViewBackward0) then _prelu_kernel (PreluKernelBackward0 -> (x,
    ViewBackward0))."""
    shape = _prelu_weight_shape(self, weight)
    _prelu_meta(self, weight)
    w = weight if self.dim() == weight.dim() else weight.reshape(shape)
    return _prelu_kernel.op.public(self, w)


prelu.op.composite = _prelu_composite


# ---------------------------------------------------------------------- rrelu
# Randomized leaky ReLU: torch.rrelu / rrelu_ (F.rrelu and nn.RReLU call them). Training:
# each element at or below 0 gets its own slope drawn uniformly in [lower, upper] from the
# device's generator (or `generator`); otherwise the fixed slope (lower + upper) / 2, as
# leaky_relu. Not pointwise-tagged: a random op is never fused nor deduplicated.

_RRELU_SCHEMA = ("(Tensor{a} self, Scalar lower=0.125, Scalar upper=0.3333333333333333, "
                 "bool training=False, Generator? generator=None) -> Tensor{a}")

def _rrelu_check(self, lower, upper, training):
    from . import registry as _reg
    from .nn import dtype_of
    from .kernel_names import kernel_name
    d = dtype_of(self)
    if d not in FLOATS:
        # PyTorch's rrelu is leaky_relu when not training, else rrelu_with_noise: the
        # kernel its error names
        k = kernel_name("rrelu_with_noise_out_cpu" if training else "leaky_relu_cpu", self)
        e = _reg.UnsupportedDtypeError(f"\"{k}\" not implemented for '{d.short_name}'")
        e.dtype = d
        raise e
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")


def _rrelu_meta(self, lower=0.125, upper=1 / 3, training=False, generator=None):
    _rrelu_check(self, lower, upper, training)
    return _TensorMeta(self.dtype, tuple(self.shape), self.device)


def _rrelu(xp, self, lower, upper, training, generator):
    """(output, slopes): slopes in the input's float type (float32 for float16)."""
    _rrelu_check(self, lower, upper, training)
    dt = _np.dtype(_np.float64 if self.dtype == _np.float64 else _np.float32)
    neg = self <= 0
    if training:
        from ..device import device_of_array
        from .random import generator_for
        g = generator_for(device_of_array(self), generator)
        if xp is _np and hasattr(g, "u53"):
            # ATen's CPU kernel: in memory order, one double uniform in [lower, upper)
            # (bounds in the input's opmath type; x * (to - from) + from, not fused) per
            # element at or below 0 only, then rounded to that type
            lo, hi = float(dt.type(lower)), float(dt.type(upper))
            m = _np.ascontiguousarray(neg).reshape(-1)
            r = g.u53(int(m.sum())) * (hi - lo) + lo
            slope = _np.ones(m.shape, dt)
            slope[m] = r.astype(dt)
            slope = slope.reshape(self.shape)
        else:
            u = g.uniform(self.shape, dt)
            slope = (u * dt.type(upper - lower) + dt.type(lower)).astype(dt, copy=False)
    else:
        slope = dt.type((lower + upper) / 2)
    noise = xp.where(neg, slope, dt.type(1)).astype(dt, copy=False)
    out = xp.asarray((self.astype(dt, copy=False) * noise).astype(self.dtype, copy=False))
    return out, noise


def _remember_noise(out, noise):
    """The per-element slopes (1 where the input is > 0) left for the derivative (its
    `stash`: the output may be written in place or freed before backward)."""
    from . import registry as _reg
    return _reg.stash_for_backward(out, noise)


@op("aten::rrelu" + _RRELU_SCHEMA.format(a=""), tags={"random"}, method=False,
    meta=_rrelu_meta)
def rrelu(xp, self, lower=0.125, upper=1 / 3, training=False, generator=None):
    return _remember_noise(*_rrelu(xp, self, lower, upper, training, generator))


@op("aten::rrelu_" + _RRELU_SCHEMA.format(a="(a!)"), tags={"random", "inplace"},
    method=False, meta=_rrelu_meta)
def rrelu_(xp, self, lower=0.125, upper=1 / 3, training=False, generator=None):
    out, noise = _rrelu(xp, self, lower, upper, training, generator)
    self[...] = out
    return _remember_noise(self, noise)


# ---------------------------------------------------------------------- glu

def _glu_meta(self, dim=-1):
    from .meta import wrap_dim
    from .kernel_names import not_implemented
    shape = tuple(self.shape)
    if not shape:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, len(shape))
    if shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{shape[d]}")
    dt = self.dtype if isinstance(self.dtype, _dt.dtype) else _dt.from_numpy_dtype(self.dtype)
    if dt.category != _dt.FLOATING:
        raise not_implemented("glu_cpu", self, dt.short_name)
    return d, _TensorMeta(dt, shape[:d] + (shape[d] // 2,) + shape[d + 1:],
                          getattr(self, "device", None))


@op("aten::glu(Tensor self, int dim=-1) -> Tensor", tags={"nn"}, functional=True,
    method=False, function=False, meta=lambda self, dim=-1: _glu_meta(self, dim)[1])
def glu(xp, self, dim=-1):
    """The gated linear unit a * sigmoid(b), a and b the halves of self along dim, as
    ATen's CPU kernel computes it: a * (1 / (1 + exp(-b))) in the opmath type."""
    d = _glu_meta(self, dim)[0]
    h = self.shape[d] // 2
    a = self[(slice(None),) * d + (slice(0, h),)]
    b = self[(slice(None),) * d + (slice(h, None),)]
    ct = _np.dtype(_np.float32 if self.dtype == _np.float16 else self.dtype)
    a, b = a.astype(ct, copy=False), b.astype(ct, copy=False)
    one = ct.type(1)
    with _np.errstate(over="ignore"):
        r = a * (one / (one + xp.exp(-b)))
    return xp.ascontiguousarray(r).astype(self.dtype, copy=False)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops; PyTorch's formulas and its
# choices at the kinks (tools/autograd/derivatives.yaml, FunctionsManual.cpp)
from .registry import derivative as _derivative  # noqa: E402


def _where(cond, a, b):
    import gpujit    # the package sits above the registry: imported when a backward runs
    return gpujit.where(cond, a, b)


from . import activation_backward as _act_bw  # noqa: E402


from . import activation_backward_relu as _relu_bw  # noqa: E402


def _bw(name):
    return _reg.OPS[f"aten::{name}"].public


# derivatives.yaml: relu: threshold_backward(grad, result, 0); hardtanh (relu6 is
# hardtanh(0, 6)): hardtanh_backward; leaky_relu: leaky_relu_backward(..., false); elu, selu
# (elu's) and celu: elu_backward(..., is_result=false, self) -- ops of their own
# (activation_backward_relu.py), which SELECT: an inf or nan gradient where the mask is
# 0 gives 0, a NaN input takes the gradient's branch
@_derivative(relu, raw=_relu_bw.relu_grad_raw)
def _relu_grad(grad, result):
    return _bw("threshold_backward")(grad, result, 0)


@_derivative(hardtanh)
def _hardtanh_grad(grad, self, min_val, max_val):
    return _bw("hardtanh_backward")(grad, self, min_val, max_val)


@_derivative(relu6)
def _relu6_grad(grad, self):
    return _bw("hardtanh_backward")(grad, self, 0, 6)


@_derivative(leaky_relu)
def _leaky_relu_grad(grad, self, negative_slope):
    return _bw("leaky_relu_backward")(grad, self, negative_slope, False)


def _rrelu_noise(stash, like):
    """The slopes rrelu's forward drew (its stash; 1 above 0) as a tensor without gradient
    (rrelu_with_noise's noise: derivatives.yaml's non_differentiable)."""
    from . import registry as _reg
    return _reg.wrap_array(stash, like.device)


@_derivative(rrelu)
def _rrelu_grad(grad, self, stash, lower, upper, training):
    """rrelu_with_noise_backward(grad, self, noise, lower, upper, training, false): the
    slopes the forward drew (its stash, not its result: nn.RReLU then an in-place op is no
    error), or without training leaky_relu's (lower + upper) / 2."""
    if stash is None:       # not stored: an empty output
        return grad
    return _relu_bw.rrelu_grad(grad, self, _rrelu_noise(stash, grad), lower, upper,
                               training, False).to(grad.dtype)


@_derivative(elu)
def _elu_op_grad(grad, self, alpha, scale, input_scale):
    return _relu_bw.elu_grad(grad, alpha, scale, input_scale, False, self)


@_derivative(selu)
def _selu_grad(grad, self):
    return _relu_bw.elu_grad(grad, _SELU_ALPHA, _SELU_SCALE, 1, False, self)


# derivatives.yaml's celu / celu_: elu_backward(grad, alpha, 1, 1.0 / alpha.toFloat(), ...):
# the input scale of the alpha rounded to float (the forward's is 1 / alpha in double)
def _celu_input_scale(alpha):
    return 1.0 / float(_np.float32(alpha))


@_derivative(celu)
def _celu_grad(grad, self, alpha):
    return _relu_bw.elu_grad(grad, alpha, 1, _celu_input_scale(alpha), False, self)


# The in-place leaky_relu_, elu_, selu_ and celu_ keep their result, not their input
# (derivatives.yaml's leaky_relu_ / elu_ entries: *_backward(..., is_result=true, result)):
# an in-place op on that result before backward is the version-counter error, and a
# negative slope (which the result cannot be inverted through) raises at backward (the
# backward op's check).
@_derivative(leaky_relu.op.inplace_variant)
def _leaky_relu_inplace_grad(grad, result, negative_slope):
    return _bw("leaky_relu_backward")(grad, result, negative_slope, True)


@_derivative(rrelu_)
def _rrelu_inplace_grad(grad, result, stash, lower, upper, training):
    """rrelu_with_noise_backward(grad, result, noise, ..., self_is_result=true): rrelu_
    keeps its result (a later write into it is the version error, as leaky_relu_'s);
    training multiplies by the slopes drawn, otherwise it is leaky_relu_'s derivative of the
    result with slope (lower + upper) / 2 (a negative one raises)."""
    if stash is None:
        return grad
    return _relu_bw.rrelu_grad(grad, result, _rrelu_noise(stash, grad), lower, upper,
                               training, True).to(grad.dtype)


@_derivative(elu.op.inplace_variant)
def _elu_inplace_grad(grad, result, alpha, scale, input_scale):
    return _relu_bw.elu_grad(grad, alpha, scale, input_scale, True, result)


@_derivative(selu.op.inplace_variant)
def _selu_inplace_grad(grad, result):
    return _relu_bw.elu_grad(grad, _SELU_ALPHA, _SELU_SCALE, 1, True, result)


@_derivative(celu.op.inplace_variant)
def _celu_inplace_grad(grad, result, alpha):
    return _relu_bw.elu_grad(grad, alpha, 1, _celu_input_scale(alpha), True, result)


_derivative(gelu)(_act_bw.gelu_grad)
_derivative(silu)(_act_bw.silu_grad)
_derivative(mish)(_act_bw.mish_grad)


# derivatives.yaml: softplus_backward(grad, self, beta, threshold), hardsigmoid_backward /
# hardswish_backward(grad, self), threshold_backward(grad, self, threshold) (threshold_
# too: of its input before the write), hardshrink_backward / softshrink_backward(grad,
# self, lambd), log_sigmoid_backward(grad, self, buffer): ops of their own
@_derivative(softplus)
def _softplus_grad(grad, self, beta, threshold):
    return _bw("softplus_backward")(grad, self, beta, threshold)


@_derivative(hardsigmoid)
def _hardsigmoid_grad(grad, self):
    return _bw("hardsigmoid_backward")(grad, self)


@_derivative(hardswish)
def _hardswish_grad(grad, self):
    return _bw("hardswish_backward")(grad, self)


@_derivative(threshold)
def _threshold_grad(grad, self, threshold):
    return _bw("threshold_backward")(grad, self, threshold)


@_derivative(hardshrink)
def _hardshrink_grad(grad, self, lambd):
    return _bw("hardshrink_backward")(grad, self, lambd)


@_derivative(softshrink)
def _softshrink_grad(grad, self, lambd):
    return _bw("softshrink_backward")(grad, self, lambd)


@_derivative(log_sigmoid)
def _log_sigmoid_grad(grad, self):
    return _bw("log_sigmoid_backward")(grad, self, _relu_bw.log_sigmoid_buffer(self))


@_derivative(log_sigmoid_forward, wrt=("self",))
def _log_sigmoid_forward_grad(grad, self, result):
    return _bw("log_sigmoid_backward")(grad[0], self, result[1])


@_derivative(_prelu_kernel)
def _prelu_kernel_grad(grad, self, weight, needs_grad):
    pos = self > 0
    g_self = _where(pos, grad, weight * grad) if needs_grad[0] else None
    g_weight = None
    if needs_grad[1]:
        g_weight = _where(pos, 0.0, self * grad).sum_to_size(tuple(weight.shape))
    return g_self, g_weight


@_derivative(prelu)
def _prelu_grad(grad, self, weight, needs_grad):
    # _prelu_kernel_backward on the weight viewed along dim 1; the weight's gradient is
    # summed over the other dims (and viewed back as the weight's own shape)
    shape = _prelu_weight_shape(self, weight)
    w = weight.reshape(shape)
    pos = self > 0
    g_self = _where(pos, grad, w * grad) if needs_grad[0] else None
    g_weight = None
    if needs_grad[1]:
        g = _where(pos, 0.0, self * grad)
        dims = [d for d, s in enumerate(shape) if s == 1 and g.shape[d] != 1]
        if dims:
            g = g.sum(dims, keepdim=True)
        g_weight = g.reshape(tuple(weight.shape))
    return g_self, g_weight


# PyTorch's CPU kernels, which its errors name for a dtype they refuse ('"elu_cpu" not
# implemented for 'Long'': registry.dtype_refused; kernel_names gives the CUDA ones), the
# in-place variants' the same
for _f, _kernel in ((elu, "elu_cpu"), (selu, "elu_cpu"), (celu, "elu_cpu"),
                    (gelu, "GeluKernelImpl"), (silu, "silu_cpu"), (mish, "mish_cpu"),
                    (hardswish, "hardswish_cpu"), (hardsigmoid, "hardsigmoid_cpu"),
                    (leaky_relu, "leaky_relu_cpu"), (softplus, "softplus_cpu"),
                    (softshrink, "softshrink_check"), (hardshrink, "hardshrink_cpu"),
                    (log_sigmoid, "log_sigmoid_cpu"), (log_sigmoid_forward, "log_sigmoid_cpu"),
                    (threshold, "threshold_cpu")):
    _f.op.kernel = _kernel
    if _f.op.inplace_variant is not None:
        _f.op.inplace_variant.kernel = _kernel


def _bool_refused(words):
    """check_kinds: PyTorch's own RuntimeError for a bool tensor (relu's, hardtanh's)."""
    def check(kinds):
        if kinds and kinds[0][0] is _dt.bool:
            raise RuntimeError(words)
    return check


for _f, _words in ((relu, "Boolean inputs not supported for relu"),
                   (hardtanh, "Bool inputs not supported for hardtanh"),
                   (relu6, "Bool inputs not supported for hardtanh")):
    _f.op.check_kinds = _bool_refused(_words)
    if _f.op.inplace_variant is not None:
        _f.op.inplace_variant.check_kinds = _f.op.check_kinds


@_derivative(glu)
def _glu_grad(grad, self, dim):
    # (PyTorch's glu_backward: sigmoid(b) * grad for a, (1 - sig) * sig * a * grad for b)
    import gpujit
    a, b = self.chunk(2, dim)
    sig = b.sigmoid()
    # (glu_backward_kernel: (1 - s) * s * a * grad, in that order)
    return gpujit.cat([sig * grad, (1 - sig) * sig * a * grad], dim)
