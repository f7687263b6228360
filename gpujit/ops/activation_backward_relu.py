"""The backward kernels of the ReLU family that derivatives.yaml calls by name, as registry
ops under torch.ops.aten only (torch binds them nowhere else): threshold_backward (relu's
and threshold's), hardtanh_backward (hardtanh's, relu6's), leaky_relu_backward,
elu_backward (elu's, selu's, celu's and their in-place forms'), hardshrink_backward,
softshrink_backward, softplus_backward, log_sigmoid_backward, hardswish_backward,
hardsigmoid_backward and rrelu_with_noise_backward (rrelu's), each with derivatives.yaml's
own derivative: a create_graph gradient's
grad_fn is ThresholdBackwardBackward0, EluBackwardBackward0 ... as torch 2.13's, and the
backward graphs jit traces hold one fusible pointwise node per gradient.

Their arithmetic is ATen's CPU kernels' (cpu/Activation.cpp, cpu/TensorCompare.cpp), in their
order: the masks SELECT (an inf or nan gradient where the mask is 0 gives 0; a NaN input
takes the gradient's branch of the comparison, as the kernels' `x <= threshold ? 0 : g`);
the Scalars are taken in the kernel's scalar_t, except threshold's and hardtanh's, which
float16 compares in float (threshold_kernel's and hardtanh_backward's opmath: a half
0.30005 is above a threshold of 0.3, not equal to it), while the shrinks' lambd is a half;
float16 arithmetic is computed in float and rounded once.
"""
from __future__ import annotations

import numpy as _np

from .. import dtypes as _dt
from . import registry as _reg
from .registry import op, OPS
from .registry import derivative as _derivative
from .derivatives import not_implemented as _not_implemented
from .derivatives import raw_operands as _raw_operands
from .pointwise import FLOATS, NO_BOOL, _PW, _f32

_BACKWARD = dict(tags=_PW, dtypes=FLOATS, method=False, function=False)

# (PyTorch's words, raised by leaky_relu_backward / elu_backward of a result: the in-place
# forward's derivative)
INPLACE_LEAKY = ("In-place leakyReLu backward calculation is triggered with a negative "
                 "slope which is not supported. This is caused by calling in-place forward "
                 "function with a negative slope, please call out-of-place version instead. "
                 "File an issue at https://github.com/pytorch/pytorch if you do require "
                 "supporting in-place leakRelu backward calculation with negative slope")
INPLACE_ELU = ("In-place elu backward calculation is triggered with a negative slope which "
               "is not supported. This is caused by calling in-place forward function with "
               "a negative slope, please call out-of-place version instead.")


def _as_scalar_t(a, v):
    """The Scalar v as the kernel's scalar_t (v.to<scalar_t>()): the array's float type, or
    its integer type truncated and range-checked."""
    if a.dtype.kind == "f":
        return a.dtype.type(v)
    return _reg.checked_arg(int(v), a.dtype)


def _as_opmath(a, v):
    """The Scalar v as the kernel compares it: float for float16 (opmath), else as
    _as_scalar_t."""
    if a.dtype == _np.float16:
        return _np.float32(v)
    return _as_scalar_t(a, v)


def _zero(a):
    return a.dtype.type(0)


def _in_type(form, *names):
    """The expression with each named Scalar taken in the computation dtype (float16's a
    half: its operands compute in float); None for another dtype (the plain `scalar`)."""
    if form.ct not in (_dt.float16, _dt.float32):
        return None
    text = form.scalar
    for n in names:
        text = text.replace("{%s}" % n, f"cast_{form.ct.name}({{{n}}})")
    return text


def _public(name):
    return OPS[f"aten::{name}"].public


def _zeros_like(t):
    import gpujit
    return gpujit.zeros_like(t)


# ---------------------------------------------------------------- the selecting masks
@op("aten::threshold_backward(Tensor grad_output, Tensor self, Scalar threshold) -> Tensor",
    **dict(_BACKWARD, dtypes=NO_BOOL),
    scalar="where({self} <= {threshold}, 0, {grad_output})")
def threshold_backward(xp, grad_output, self, threshold):
    # threshold_kernel(grad_input, self, grad, threshold, 0): x <= threshold ? 0 : g
    return xp.where(self <= _as_opmath(self, threshold), _zero(grad_output), grad_output)


def _threshold_backward_expression(form):
    if form.ct is not None and form.ct.category == _dt.INTEGRAL and \
            "threshold" in form.constants:
        t = int(form.constants["threshold"])        # (to<int64>: truncated)
        return form.scalar.replace("{threshold}", repr(t))
    return None             # (float16 compares in float, as its operands compute)


threshold_backward.op.scalar_for = _threshold_backward_expression


@op("aten::hardtanh_backward(Tensor grad_output, Tensor self, Scalar min_val, Scalar max_val) "
    "-> Tensor", **_BACKWARD,
    scalar="where(({self} <= {min_val}) | ({self} >= {max_val}), 0, {grad_output})")
def hardtanh_backward(xp, grad_output, self, min_val, max_val):
    lo, hi = _as_opmath(self, min_val), _as_opmath(self, max_val)
    return xp.where((self <= lo) | (self >= hi), _zero(grad_output), grad_output)


def _shrink_backward(xp, grad_output, self, lambd):
    lam = _as_scalar_t(self, lambd)
    return xp.where((self >= -lam) & (self <= lam), _zero(grad_output), grad_output)


@op("aten::hardshrink_backward(Tensor grad_out, Tensor self, Scalar lambd) -> Tensor",
    **_BACKWARD,
    scalar="where(({self} >= -{lambd}) & ({self} <= {lambd}), 0, {grad_out})")
def hardshrink_backward(xp, grad_out, self, lambd):
    return _shrink_backward(xp, grad_out, self, lambd)


@op("aten::softshrink_backward(Tensor grad_output, Tensor self, Scalar lambd) -> Tensor",
    **_BACKWARD,
    scalar="where(({self} >= -{lambd}) & ({self} <= {lambd}), 0, {grad_output})")
def softshrink_backward(xp, grad_output, self, lambd):
    return _shrink_backward(xp, grad_output, self, lambd)


for _f in (hardshrink_backward, softshrink_backward):
    _f.op.scalar_for = lambda form: _in_type(form, "lambd")


@op("aten::leaky_relu_backward(Tensor grad_output, Tensor self, Scalar negative_slope, "
    "bool self_is_result) -> Tensor", **_BACKWARD,
    scalar="where({self} > 0, {grad_output}, {grad_output} * {negative_slope})")
def leaky_relu_backward(xp, grad_output, self, negative_slope, self_is_result):
    if self_is_result and negative_slope < 0:
        raise RuntimeError(INPLACE_LEAKY)
    # x > 0 ? g : g * negval, negval in scalar_t (float16: in float, rounded once)
    g = _f32(grad_output)
    r = xp.where(self > 0, g, g * g.dtype.type(negative_slope))
    return r.astype(grad_output.dtype) if r.dtype != grad_output.dtype else r


# derivatives.yaml: grad_output: the op again of grad; self: zeros_like(grad) (each is
# constant in self almost everywhere)
@_derivative(threshold_backward)
def _threshold_backward_grad(grad, self, threshold, needs_grad):
    return (_public("threshold_backward")(grad, self, threshold) if needs_grad[0] else None,
            _zeros_like(grad) if needs_grad[1] else None)


@_derivative(hardtanh_backward)
def _hardtanh_backward_grad(grad, self, min_val, max_val, needs_grad):
    return (_public("hardtanh_backward")(grad, self, min_val, max_val)
            if needs_grad[0] else None,
            _zeros_like(grad) if needs_grad[1] else None)


@_derivative(hardshrink_backward)
def _hardshrink_backward_grad(grad, self, lambd, needs_grad):
    return (_public("hardshrink_backward")(grad, self, lambd) if needs_grad[0] else None,
            _zeros_like(grad) if needs_grad[1] else None)


@_derivative(softshrink_backward)
def _softshrink_backward_grad(grad, self, lambd, needs_grad):
    return (_public("softshrink_backward")(grad, self, lambd) if needs_grad[0] else None,
            _zeros_like(grad) if needs_grad[1] else None)


@_derivative(leaky_relu_backward)
def _leaky_relu_backward_grad(grad, self, negative_slope, needs_grad):
    # (self_is_result false: the double backward is an out-of-place call)
    return (_public("leaky_relu_backward")(grad, self, negative_slope, False)
            if needs_grad[0] else None,
            _zeros_like(grad) if needs_grad[1] else None)


@op("aten::rrelu_with_noise_backward(Tensor grad_output, Tensor self, Tensor noise, "
    "Scalar lower, Scalar upper, bool training, bool self_is_result) -> Tensor", **_BACKWARD,
    scalar="where({training}, {noise} * {grad_output}, where({self} > 0, {grad_output}, "
           "{grad_output} * (({lower} + {upper}) / 2)))")
def rrelu_with_noise_backward(xp, grad_output, self, noise, lower, upper, training,
                              self_is_result):
    # training: noise * grad_output (the slopes drawn, 1 above 0); otherwise
    # leaky_relu_backward with the slope (lower + upper) / 2 (of a result: >= 0 only)
    if training:
        return noise * grad_output
    return leaky_relu_backward(xp, grad_output, self, (lower + upper) / 2, self_is_result)


@_derivative(rrelu_with_noise_backward, wrt=("grad_output", "self"))
def _rrelu_with_noise_backward_grad(grad, self, noise, lower, upper, training, needs_grad):
    # derivatives.yaml: grad_output: rrelu_with_noise_backward(grad, self, noise, lower,
    # upper, training, false); self: zeros_like(grad) (the noise is not differentiable)
    return (rrelu_grad(grad, self, noise, lower, upper, training, False)
            if needs_grad[0] else None,
            _zeros_like(grad) if needs_grad[1] else None)


def rrelu_grad(grad, self_or_result, noise, lower, upper, training, is_result):
    return _public("rrelu_with_noise_backward")(grad, self_or_result, noise, lower, upper,
                                                training, is_result)


def relu_grad_raw(xp, grad, result):
    """relu's derivative on the arrays (Derivative.raw): threshold_backward's body."""
    if not _raw_operands(grad, result, expanded_grad=True):
        return NotImplemented
    return threshold_backward(xp, grad, result, 0)


# ---------------------------------------------------------------------------- elu
@op("aten::elu_backward(Tensor grad_output, Scalar alpha, Scalar scale, Scalar input_scale, "
    "bool is_result, Tensor self_or_result) -> Tensor", **_BACKWARD,
    scalar="where({self_or_result} <= 0, where({is_result}, {grad_output} * {input_scale} * "
           "({self_or_result} + {alpha} * {scale}), {grad_output} * {input_scale} * "
           "({alpha} * {scale}) * exp({self_or_result} * {input_scale})), "
           "{grad_output} * {scale})")
def elu_backward(xp, grad_output, alpha, scale, input_scale, is_result, self_or_result):
    if is_result and alpha < 0:
        raise RuntimeError(INPLACE_ELU)
    # elu_backward_kernel: b <= 0 ? (is_result ? a * negiptcoef * (b + negcoef)
    # : a * negiptcoef * negcoef * exp(b * negiptcoef)) : a * poscoef, the coefficients in
    # scalar_t (float for float16), negcoef = alpha * scale computed there
    a, b = _f32(grad_output), _f32(self_or_result)
    T = b.dtype.type
    negcoef, poscoef, negiptcoef = T(alpha) * T(scale), T(scale), T(input_scale)
    if is_result:
        neg = a * negiptcoef * (b + negcoef)
    else:       # (exp of the clamped input: the positive branch, not taken, makes no inf)
        neg = a * negiptcoef * negcoef * xp.exp(xp.minimum(b, _zero(b)) * negiptcoef)
    r = xp.where(b <= 0, neg, a * poscoef)
    return r.astype(grad_output.dtype) if r.dtype != grad_output.dtype else r


def _elu_backward_expression(form):
    c = form.constants
    if not all(k in c for k in ("alpha", "scale", "input_scale", "is_result")):
        return None
    ct = form.ct
    if ct not in (_dt.float16, _dt.float32, _dt.float64):
        return None
    T = _np.float64 if ct is _dt.float64 else _np.float32
    negcoef, poscoef, negipt = (repr(float(v)) for v in (
        T(c["alpha"]) * T(c["scale"]), T(c["scale"]), T(c["input_scale"])))
    g, b = "{grad_output}", "{self_or_result}"
    if c["is_result"]:
        neg = f"{g} * {negipt} * ({b} + {negcoef})"
    else:
        neg = f"{g} * {negipt} * {negcoef} * exp(minimum({b}, 0) * {negipt})"
    return f"where({b} <= 0, {neg}, {g} * {poscoef})"


elu_backward.op.scalar_for = _elu_backward_expression


def elu_grad(grad, alpha, scale, input_scale, is_result, self_or_result):
    return _public("elu_backward")(grad, alpha, scale, input_scale, is_result, self_or_result)


@_derivative(elu_backward)
def _elu_backward_grad(grad, grad_output, alpha, scale, input_scale, is_result,
                       self_or_result, needs_grad):
    # derivatives.yaml: grad_output: elu_backward(grad, ...); self_or_result:
    # elu_double_backward (FunctionsManual): of a result grad * grad_output * input_scale
    # * (result < 0), of the input elu_backward(grad * grad_output * input_scale, ...)
    # * (self < 0)
    g_out = elu_grad(grad, alpha, scale, input_scale, is_result, self_or_result) \
        if needs_grad[0] else None
    if not needs_grad[1]:
        return g_out, None
    neg = (self_or_result < 0).type_as(grad)
    if is_result:
        return g_out, grad * grad_output * input_scale * neg
    return g_out, elu_grad(grad * grad_output * input_scale, alpha, scale, input_scale,
                           is_result, self_or_result) * neg


# ---------------------------------------------------------------- softplus / log_sigmoid
@op("aten::softplus_backward(Tensor grad_output, Tensor self, Scalar beta, Scalar threshold) "
    "-> Tensor", **_BACKWARD,
    scalar="where({self} * {beta} > {threshold}, {grad_output}, "
           "{grad_output} * exp({self} * {beta}) / (exp({self} * {beta}) + 1))")
def softplus_backward(xp, grad_output, self, beta, threshold):
    # softplus_backward_kernel: z = exp(x * beta); x * beta > threshold ? g : g * z / (z + 1)
    # (beta, threshold in scalar_t; float16 in float, rounded once)
    a, x = _f32(grad_output), _f32(self)
    T = x.dtype.type
    xb = x * T(beta)
    with _np.errstate(over="ignore", invalid="ignore"):
        z = xp.exp(xb)
        r = xp.where(xb > T(threshold), a, a * z / (z + 1))
    return r.astype(grad_output.dtype) if r.dtype != grad_output.dtype else r


@op("aten::log_sigmoid_backward(Tensor grad_output, Tensor self, Tensor buffer) -> Tensor",
    **_BACKWARD,
    scalar="where({self} < 0, 1 - {buffer} / (1 + {buffer}), {buffer} / (1 + {buffer})) * "
           "{grad_output}")
def log_sigmoid_backward(xp, grad_output, self, buffer):
    # log_sigmoid_backward_cpu_kernel, buffer = exp(-|x|) (log_sigmoid_forward's):
    # (max_deriv - sign * (b / (1 + b))) * g: (1 - q) * g below 0, q * g at and above
    a, x, b = _f32(grad_output), _f32(self), _f32(buffer)
    q = b / (b + 1)
    r = xp.where(x < 0, 1 - q, q) * a
    return r.astype(grad_output.dtype) if r.dtype != grad_output.dtype else r


def log_sigmoid_buffer(self):
    """log_sigmoid_forward's buffer, exp(-|x|): not differentiable (derivatives.yaml's
    output_differentiability [True, False])."""
    import gpujit
    with gpujit.no_grad():      # (no detach: a traced backward fuses abs, neg and exp)
        return self.abs().neg().exp()


@_derivative(softplus_backward)
def _softplus_backward_grad(grad, grad_output, self, beta, threshold, needs_grad):
    # derivatives.yaml: grad_output: softplus_backward(grad, ...); self:
    # softplus_double_backward(grad * grad_output, self, beta, threshold)
    # = sigmoid_backward(g, (self * beta).sigmoid()) * (self * beta < threshold) * beta
    g_out = _public("softplus_backward")(grad, self, beta, threshold) \
        if needs_grad[0] else None
    if not needs_grad[1]:
        return g_out, None
    g = grad * grad_output
    x = self * beta
    return g_out, _public("sigmoid_backward")(g, x.sigmoid()) * (
        x < threshold).type_as(g) * beta


@_derivative(log_sigmoid_backward, wrt=("grad_output", "self"))
def _log_sigmoid_backward_grad(grad, grad_output, self, buffer, needs_grad):
    # derivatives.yaml: grad_output: log_sigmoid_backward(grad, self, buffer); self:
    # log_sigmoid_double_backward(grad * grad_output, self) = g * (z - 1) * z, z = sigmoid
    g_out = _public("log_sigmoid_backward")(grad, self, buffer) if needs_grad[0] else None
    if not needs_grad[1]:
        return g_out, None
    z = self.sigmoid()
    return g_out, grad * grad_output * (z - 1) * z


# -------------------------------------------------------------- hardswish / hardsigmoid
@op("aten::hardswish_backward(Tensor grad_output, Tensor self) -> Tensor", **_BACKWARD,
    scalar="where({self} <= -3, 0, where({self} < 3, {grad_output} * ({self} / 3 + 0.5), "
           "{grad_output}))")
def hardswish_backward(xp, grad_output, self):
    # x <= -3 ? 0 : x < 3 ? g * (x / 3 + 0.5) : g (float16 in float, rounded once)
    a, x = _f32(grad_output), _f32(self)
    r = xp.where(x <= -3, _zero(a), xp.where(x < 3, a * (x / x.dtype.type(3) + 0.5), a))
    return r.astype(grad_output.dtype) if r.dtype != grad_output.dtype else r


# PyTorch's hardsigmoid_backward kernels (CPU and CUDA) multiply by one_sixth(1.0f / 6.0f): the
# float32 constant, in float64 too (0.1666666716337204, not 1 / 6)
_ONE_SIXTH = float(_np.float32(1.0) / _np.float32(6.0))


@op("aten::hardsigmoid_backward(Tensor grad_output, Tensor self) -> Tensor", **_BACKWARD,
    scalar=f"where(({{self}} > -3) & ({{self}} < 3), {{grad_output}} * {_ONE_SIXTH!r}, 0)")
def hardsigmoid_backward(xp, grad_output, self):
    a, x = _f32(grad_output), _f32(self)
    r = xp.where((x > -3) & (x < 3), a * a.dtype.type(_ONE_SIXTH), _zero(a))
    return r.astype(grad_output.dtype) if r.dtype != grad_output.dtype else r


@_derivative(hardswish_backward)
def _hardswish_backward_grad(grad, grad_output, self, needs_grad):
    # derivatives.yaml: grad_output: hardswish_backward(grad, self); self:
    # where(-3 < self < 3, grad * grad_output / 3.0, zeros({}))
    import gpujit
    g_out = _public("hardswish_backward")(grad, self) if needs_grad[0] else None
    if not needs_grad[1]:
        return g_out, None
    return g_out, gpujit.where((self > -3.0).logical_and(self < 3.0),
                               grad * grad_output / 3.0,
                               gpujit.zeros((), dtype=self.dtype, device=self.device))


_not_implemented(hardsigmoid_backward,
                 message="derivative for aten::hardsigmoid_backward is not implemented")


# PyTorch's CPU kernels, which its errors name for a dtype they refuse (hardtanh_backward's
# is "hardshrink_backward_cpu", as ATen's dispatch names it)
for _f, _kernel in ((threshold_backward, "threshold_cpu"),
                    (hardtanh_backward, "hardshrink_backward_cpu"),
                    (leaky_relu_backward, "leaky_relu_backward_cpu"),
                    (elu_backward, "elu_backward_cpu"),
                    (hardshrink_backward, "shrink_backward_cpu"),
                    (softshrink_backward, "shrink_backward_cpu"),
                    (softplus_backward, "softplus_backward_cpu"),
                    (log_sigmoid_backward, "log_sigmoid_backward_cpu"),
                    (hardswish_backward, "hardswish_backward_cpu"),
                    (hardsigmoid_backward, "hardsigmoid_backward"),
                    (rrelu_with_noise_backward, "leaky_relu_backward_cpu")):
    _f.op.kernel = _kernel

# the array operations each eager body runs (float32): a lone node still gets a kernel
for _f, _n in ((elu_backward, 7), (softplus_backward, 6), (log_sigmoid_backward, 5),
               (hardswish_backward, 6), (hardsigmoid_backward, 4)):
    _f.op.eager_ops = _n
