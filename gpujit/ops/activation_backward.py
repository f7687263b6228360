"""The backward kernels of the activations that derivatives.yaml calls by name:
aten::tanh_backward(grad_output, output) and aten::sigmoid_backward(grad_output, output),
with their own derivatives (double backward), as PyTorch's. tanh's and sigmoid's
derivatives call them, so a create_graph gradient's grad_fn is TanhBackwardBackward0 /
SigmoidBackwardBackward0 as torch's, and the backward graphs jit traces (and fuses) hold
one pointwise node per gradient, without a constant to make first.

Their arithmetic is ATen's CPU kernels' (BinaryOpsKernel.cpp), in their order:
tanh_backward a * (1 - b * b), compiled with FMA contraction: a * fma(-b, b, 1);
sigmoid_backward a * (1 - b) * b; float16 tanh_backward computed in float and rounded once,
sigmoid_backward rounded to half after each step.
Not bound as gpujit.<name> or Tensor methods (torch has neither): torch.ops.aten only.
"""
from __future__ import annotations

import numpy as _np

from .. import dtypes as _dt
from . import fma as _fma
from .registry import op, OPS
from .registry import derivative as _derivative
from .derivatives import raw_operands as _raw_operands
from .pointwise import FLOATS, _PW

_BACKWARD = dict(tags=_PW, dtypes=FLOATS, method=False, function=False)


def _one_minus_square(xp, y):
    """1 - y * y rounded once (ATen's FMA-contracted form), in y's dtype: float32 (and
    float16's float) through the exact float64 product, float64 a true FMA."""
    if y.dtype == _np.float64:
        return _fma.fma64(-y, y, _np.float64(1.0), xp)
    r = y.astype(_np.float64)
    return (1.0 - r * r).astype(_np.float32)


@op("aten::tanh_backward(Tensor grad_output, Tensor output) -> Tensor", **_BACKWARD,
    scalar="{grad_output} * (1 - {output} * {output})")
def tanh_backward(xp, grad_output, output):
    if output.dtype == _np.float16:         # in float, rounded once
        t = _one_minus_square(xp, output.astype(_np.float32))
        return (grad_output.astype(_np.float32) * t).astype(_np.float16)
    return grad_output * _one_minus_square(xp, output)


def _tanh_backward_expression(form):
    """eager's one rounding of 1 - y * y: float32 (float16 computes in it) the float64
    sum of the exact product, rounded to float32; float64 a true FMA."""
    if form.ct in (_dt.float16, _dt.float32):
        return ("{grad_output} * cast_float32(1 - cast_float64({output}) * "
                "cast_float64({output}))")
    if form.ct is _dt.float64:
        return "{grad_output} * fma(-{output}, {output}, cast_float64(1))"
    return None


tanh_backward.op.scalar_for = _tanh_backward_expression


@op("aten::sigmoid_backward(Tensor grad_output, Tensor output) -> Tensor", **_BACKWARD,
    scalar="{grad_output} * (1 - {output}) * {output}")
def sigmoid_backward(xp, grad_output, output):
    # (float16 too: each step rounded to half, as torch 2.13's CPU kernel)
    return grad_output * (1 - output) * output


def _sigmoid_backward_expression(form):
    """float16: eager's (and ATen's) rounding to half after each step."""
    if form.ct is _dt.float16:
        return ("cast_float16(cast_float16({grad_output} * cast_float16(1 - {output})) * "
                "{output})")
    return None


sigmoid_backward.op.scalar_for = _sigmoid_backward_expression


def _raw(body):
    """Derivative.raw of tanh / sigmoid: the op's body on the arrays, where the registry
    call would pass them as they are (one floating dtype and shape, C order)."""
    def raw(xp, grad, result):
        if type(result) is not type(grad) or \
                not _raw_operands(grad, result, expanded_grad=True):
            return NotImplemented
        return body(xp, grad, result)
    return raw


def tanh_grad(grad, result):
    return OPS["aten::tanh_backward"].public(grad, result)


def sigmoid_grad(grad, result):
    return OPS["aten::sigmoid_backward"].public(grad, result)


tanh_grad_raw = _raw(tanh_backward)
sigmoid_grad_raw = _raw(sigmoid_backward)


# derivatives.yaml: grad_output: <op>_backward(grad, output); output: tanh's
# grad * (-2 * output * grad_output), sigmoid's grad * grad_output * (-2 * output + 1)
@_derivative(tanh_backward, reads={"grad_output": ("output",),
                                   "output": ("output", "grad_output")})
def _tanh_backward_grad(grad, grad_output, output, needs_grad):
    return (tanh_grad(grad, output) if needs_grad[0] else None,
            grad * (output * -2 * grad_output) if needs_grad[1] else None)


@_derivative(sigmoid_backward, reads={"grad_output": ("output",),
                                      "output": ("output", "grad_output")})
def _sigmoid_backward_grad(grad, grad_output, output, needs_grad):
    return (sigmoid_grad(grad, output) if needs_grad[0] else None,
            grad * grad_output * (output * -2 + 1) if needs_grad[1] else None)
