"""aten::bilinear: y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o] (F.bilinear,
nn.Bilinear), one op as PyTorch's, so a trace or a script records `aten::bilinear` and
its gradient flows as PyTorch's composite's (the last node AddBackward0 with a bias, else
ViewBackward0).
"""
from __future__ import annotations

from .. import dtypes as _dt
from .meta import TensorMeta
from .nn import dtype_of, not_implemented
from .registry import op, derivative as _derivative


def _check(input1, input2, weight, bias):
    """PyTorch 2.13's checks, in its order."""
    d1, d2, dw = dtype_of(input1), dtype_of(input2), dtype_of(weight)
    db = None if bias is None else dtype_of(bias)
    if d1 is not d2 or d1 is not dw or (db is not None and d1 is not db):
        names = [("input1", d1), ("input2", d2), ("weight", dw)] + (
            [("bias", db)] if db is not None else [])
        raise RuntimeError("All tensors must have the same dtype, got " + ", ".join(
            f"{k}: {_dt.CPP_NAMES[d.name]}" for k, d in names))
    if d1 is _dt.bool:     # (its _trilinear's bmm)
        raise not_implemented("bmm", d1)
    s1, s2, sw = tuple(input1.shape), tuple(input2.shape), tuple(weight.shape)
    if len(s1) != len(s2):
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {len(s1)} and "
                           f"{len(s2)}")
    for i in range(len(s1) - 1):
        if s1[i] != s2[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: "
                               f"got {s1[i]} and {s2[i]}")
    if s1[-1] != sw[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{s1[-1]} but expected {sw[1]}")
    if s2[-1] != sw[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{s2[-1]} but expected {sw[2]}")
    if bias is not None and (len(bias.shape) != 1 or bias.shape[0] != sw[0]):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[-1] if len(bias.shape) else 1} but expected {sw[0]}")
    return s1[:-1] + (sw[0],)


def _meta(input1, input2, weight, bias=None):
    return TensorMeta(input1.dtype, _check(input1, input2, weight, bias), input1.device)


@op("aten::bilinear(Tensor input1, Tensor input2, Tensor weight, Tensor? bias=None) -> "
    "Tensor", tags={"nn"}, meta=_meta, method=False, functional=True)
def bilinear(xp, input1, input2, weight, bias=None):
    """The bilinear form of input1 and input2 by each weight[o], plus bias[o]."""
    shape = _check(input1, input2, weight, bias)
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    y = xp.einsum("bi,oij,bj->bo", x1, weight, x2)
    if bias is not None:
        y = y + bias
    return xp.ascontiguousarray(y.astype(input1.dtype, copy=False).reshape(shape))


def _composite(input1, input2, weight, bias=None):
    # (PyTorch's: _trilinear of the inputs, viewed to the result's shape, plus the bias)
    import gpujit
    _check(input1, input2, weight, bias)
    shape = list(input1.shape[:-1]) + [weight.shape[0]]
    y = gpujit.einsum("bi,oij,bj->bo", input1.reshape(-1, input1.shape[-1]), weight,
                      input2.reshape(-1, input2.shape[-1])).reshape(shape)
    return y if bias is None else y + bias


bilinear.op.composite = _composite


@_derivative(bilinear)
def _bilinear_grad(grad, input1, input2, weight, bias_shape, needs_grad):
    import gpujit
    g = grad.reshape(-1, weight.shape[0])
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    g1 = gpujit.einsum("bo,oij,bj->bi", g, weight, x2).reshape(input1.shape) \
        if needs_grad[0] else None
    g2 = gpujit.einsum("bo,oij,bi->bj", g, weight, x1).reshape(input2.shape) \
        if needs_grad[1] else None
    gw = gpujit.einsum("bo,bi,bj->oij", g, x1, x2) if needs_grad[2] else None
    gb = g.sum(0) if bias_shape is not None and needs_grad[3] else None
    return g1, g2, gw, gb
