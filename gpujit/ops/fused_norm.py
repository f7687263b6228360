"""What a fused kernel computes for aten::batch_norm in inference.

With `training` False and running statistics given, batch_norm is pointwise per channel:

    out = (x - running_mean[c]) * (1 / sqrt(running_var[c] + eps)) * weight[c] + bias[c]

c the index along dim 1 of x (eager gpujit's order of operations, ops/nn_norm.py). A kernel
reads its inputs broadcast against one iteration space (right-aligned), so before a kernel is
built the fuser (fusers/batch_norm.py) rewrites each aten::batch_norm of a group into
BATCH_NORM_LINED_UP, whose parameters are views of the 1-D ones of sizes [C, 1, ..., 1]: as
broadcast they line up with dim 1 of x. This op is no user op (it is not registered): it
lives only in kernel graphs, where it is typed (its meta) and translated (its scalar
expression, `expression`).

Numerics as eager: the input and the result have x's dtype; float16 computes in float32
(the parameters may be float16 or float32, as PyTorch's CPU rule allows) and is rounded
once, eps is never rounded to float16.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, broadcast_shapes
from .nn import FLOATS, check_float
from .nn_norm import _mixed_dtype_check
from .registry import OpDef
from .schema import parse_schema

__all__ = ["BATCH_NORM_LINED_UP", "expression"]


def expression(has_weight: bool, has_bias: bool) -> str:
    """The scalar expression (a missing weight or bias is no operation at all: x + 0 would
    turn -0.0 into 0.0)."""
    e = "({input} - {running_mean}) * (1 / sqrt({running_var} + {eps}))"
    if has_weight:
        e += " * {weight}"
    if has_bias:
        e += " + {bias}"
    return e


def _meta(input, weight, bias, running_mean, running_var, eps):
    check_float("batch_norm", input)
    _mixed_dtype_check(input, weight, bias, running_mean, running_var)
    rank = len(input.shape)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        # a parameter's first dim lines up with the channels: its other dims are the
        # size-1 ones it was unsqueezed with (a [1] would broadcast where eager raises)
        if t is None:
            continue
        n = int(np.prod(t.shape, dtype=np.int64))
        c = input.shape[rank - len(t.shape)] if 0 < len(t.shape) < rank else None
        if c is None or n != c or any(s != 1 for s in t.shape[1:]):
            raise RuntimeError(f"{name} should contain {c} elements not {n}")
    shapes = [tuple(t.shape) for t in (input, weight, bias, running_mean, running_var)
              if t is not None]
    return TensorMeta(input.dtype, broadcast_shapes(*shapes), input.device)


def _lined_up(xp, input, weight, bias, running_mean, running_var, eps):
    """The same computation on arrays already lined up (broadcasting against input)."""
    ct = _dt.float32.np if input.dtype == _dt.float16.np else input.dtype
    out = (input.astype(ct) - running_mean.astype(ct)) * (
        1 / xp.sqrt(running_var.astype(ct) + eps))
    if weight is not None:
        out = out * weight.astype(ct)
    if bias is not None:
        out = out + bias.astype(ct)
    return out.astype(input.dtype)


# operands=("input",): the op computes in x's dtype (float32 for float16, as opmath), the
# parameters are read as they are and promote with it; eps: float32 for float16 ("opmath")
BATCH_NORM_LINED_UP = OpDef(
    parse_schema("aten::_batch_norm_lined_up(Tensor input, Tensor? weight, Tensor? bias, "
                 "Tensor running_mean, Tensor running_var, float eps) -> Tensor"),
    _lined_up, tags=("pointwise",), meta=_meta, scalar=expression(True, True),
    dtypes=FLOATS, operands=("input",), number_args={"eps": "opmath"}, method=False,
    function=False)


def _lined_up_expression(form):
    """The expression without the multiply / add of a weight / bias given as None."""
    return expression(not form.is_none("weight"), not form.is_none("bias"))


BATCH_NORM_LINED_UP.scalar_for = _lined_up_expression
