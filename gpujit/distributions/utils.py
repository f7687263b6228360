"""Helpers of torch.distributions.utils over gpujit ops."""
from __future__ import annotations

import numbers
from functools import update_wrapper

import gpujit as _g

__all__ = ["broadcast_all", "lazy_property", "logits_to_probs", "probs_to_logits",
           "clamp_probs", "tril_matrix_to_vec", "vec_to_tril_matrix"]


euler_constant = 0.57721566490153286060  # Euler Mascheroni Constant


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
    """Computed once on first access, then stored on the instance (as torch's), with
    gradients recorded whatever the caller's grad mode: Categorical.sample reads
    self.probs under no_grad, and the probs it caches still have their grad_fn."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with _g.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """A lazy_property read from its class: a property too (for documentation tools),
    a lazy_property for Distribution's argument validation (as torch's)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n, diag, device):
    arange = _g.arange(n, device=device)
    return arange < arange.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular elements (below diagonal `diag`) of a (batch of) D x D
    matrices, in row order, as a (batch of) vectors."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of tril_matrix_to_vec: a (batch of) D x D lower-triangular matrices
    holding the vector's elements in row order (zeros elsewhere)."""
    # +ve root of D**2 + (1+2*diag)*D - |diag| * (diag+1) - 2*vec.shape[-1] = 0
    n = (-(1 + 2 * diag)
         + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = _g.finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mask = _tril_mask(n, diag, vec.device).expand(tuple(mat.shape))
    # (the vector's elements into the mask's positions, row order: differentiable)
    return mat.masked_scatter(mask, vec)
