"""Helpers of torch.distributions.utils over gpujit ops."""
from __future__ import annotations

import numbers
from functools import update_wrapper

import gpujit as _g

__all__ = ["broadcast_all", "lazy_property", "logits_to_probs", "probs_to_logits",
           "clamp_probs"]


def broadcast_all(*values):
    """Broadcasts tensors and numbers to one shape; numbers become tensors of the first
    tensor's dtype and device (the default dtype when there is none)."""
    if not all(isinstance(v, (_g.Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, _g.Tensor) for v in values):
        like = next((v for v in values if isinstance(v, _g.Tensor)), None)
        dtype = like.dtype if like is not None else _g.get_default_dtype()
        device = like.device if like is not None else None
        values = [v if isinstance(v, _g.Tensor) else _g.tensor(v, dtype=dtype, device=device)
                  for v in values]
    # (each output requires grad only where its value does: broadcast_tensors' rule)
    return _g.broadcast_tensors(*values)


def _standard_normal(shape, dtype, device):
    return _g.randn(shape, dtype=dtype, device=device)


def _sum_rightmost(value, dim):
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1)


def clamp_probs(probs):
    eps = _g.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    if is_binary:
        return _g.sigmoid(logits)
    return _g.softmax(logits, dim=-1)


def probs_to_logits(probs, is_binary=False):
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return _g.log(ps_clamped) - _g.log1p(-ps_clamped)
    return _g.log(ps_clamped)


class lazy_property:
    """Computed once on first access, then stored on the instance (as torch's)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
