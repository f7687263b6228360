"""Adafactor (torch.optim.Adafactor), with PyTorch's update: the second moment of a matrix
(or a batch of them, dims > 1) kept factored as row and column means, of a vector in full;
the step is relative to the parameter's RMS and clipped by d.

Computed with gpujit ops on the parameters (CPU or CUDA) under no_grad, as torch's
single-tensor path.
"""
from __future__ import annotations

import numpy as np

import gpujit as _g

from ..autograd.grad_mode import enable_grad, no_grad
from ..device import cpu as _cpu
from ..ops.registry import wrap as _wrap
from ._flags import check_lr
from .optimizer import Optimizer, scalar_dtype

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Adafactor (step t from 1, beta2_t = 1 - t**beta2_decay):

        rho_t = min(lr, 1 / sqrt(t));  alpha = max(eps2, RMS(p)) * rho_t
        p *= 1 - lr * weight_decay
        matrices: r.lerp_(mean(g**2, -1), 1 - beta2_t);  c.lerp_(mean(g**2, -2), ...)
                  v = r @ c / max(mean(r, -2), eps1)
        vectors:  v.lerp_(g * g, 1 - beta2_t)
        u = g / sqrt(max(v, eps1**2));  p -= alpha / max(1, RMS(u) / d) * u
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)

    def step(self, closure=None):
        """One optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    # (torch's _init_group checks, in its order, before any update)
                    if p.is_complex():
                        raise RuntimeError("Adafactor does not support complex parameters")
                    if p.grad.is_sparse:
                        raise RuntimeError("Adafactor does not support sparse gradients")
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, p.grad, group)
        return loss

    def _state(self, p, grad):
        state = self.state[p]
        if len(state) == 0:
            sdt = scalar_dtype()
            state["step"] = _wrap(np.zeros((), dtype=sdt.np), sdt, _cpu)
            if grad.dim() > 1:
                row_shape = list(grad.shape)
                row_shape[-1] = 1
                state["row_var"] = grad.new_zeros(row_shape)
                col_shape = list(grad.shape)
                col_shape[-2] = 1
                state["col_var"] = grad.new_zeros(col_shape)
            else:
                state["variance"] = _g.zeros_like(grad)
        return state

    def _update(self, param, grad, group):
        lr = group["lr"]
        if isinstance(lr, _g.Tensor) and lr.dim() != 0:
            lr = lr.squeeze()
        eps1, eps2 = group["eps"]
        d, beta2_decay = group["d"], group["beta2_decay"]
        weight_decay = group["weight_decay"]
        state = self._state(param, grad)
        if group["maximize"]:
            grad = -grad
        if eps1 is None:
            eps1 = _g.finfo(param.dtype).eps
        step_t = state["step"]
        step_t += 1
        step_float = step_t.item()
        one_minus_beta2_t = step_float ** beta2_decay
        rho_t = min(lr, 1 / step_float ** 0.5)
        alpha = max(eps2, param.norm(2).item() / param.numel() ** 0.5) * rho_t
        if weight_decay != 0:
            param.mul_(1 - lr * weight_decay)
        if grad.dim() > 1:
            row_var, col_var = state["row_var"], state["col_var"]
            row_mean = _g.norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1))
            row_var.lerp_(row_mean, one_minus_beta2_t)
            col_mean = _g.norm(grad, dim=-2, keepdim=True).square_().div_(grad.size(-2))
            col_var.lerp_(col_mean, one_minus_beta2_t)
            var_estimate = row_var @ col_var
            var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            variance = state["variance"]
            variance.lerp_(grad * grad, one_minus_beta2_t)
            var_estimate = variance.clone()
        update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
        update.mul_(grad)
        denom = max(1.0, update.norm(2).item() / (update.numel() ** 0.5 * d))
        param.add_(update, alpha=float(-alpha / denom))
