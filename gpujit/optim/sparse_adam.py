"""SparseAdam (torch.optim.SparseAdam): Adam's moments and update at the rows a sparse
gradient names (nn.Embedding(sparse=True)'s), through the sparse ops, as PyTorch's
_functional.sparse_adam computes them."""
from __future__ import annotations

import math

from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Adam masked to a sparse gradient's entries (step t counts this parameter's steps,
    from 1; g the coalesced gradient, m and v dense):

        m[rows] += (1 - beta1) * (g - m[rows]);  v[rows] += (1 - beta2) * (g*g - v[rows])
        p[rows] -= lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m[rows] / (sqrt(v[rows]) + eps)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse_params, complex_params = [], []
        for index, group in enumerate(self.param_groups):
            for d_index, p in enumerate(group["params"]):
                if p.is_sparse:
                    sparse_params.append([index, d_index])
                if p.is_complex():
                    complex_params.append([index, d_index])
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires "
                             f"dense parameter tensors")
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does "
                             f"not support complex parameters")

    def step(self, closure=None):
        """One step of every parameter with a (sparse) gradient; returns closure()'s loss."""
        from ..autograd import enable_grad, no_grad
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group):
        from .. import zeros_like
        todo = []
        for p in group["params"]:
            if p.grad is None:
                continue
            if not p.grad.is_sparse:
                raise RuntimeError("SparseAdam does not support dense gradients, please "
                                   "consider Adam instead")
            state = self.state[p]
            if len(state) == 0:
                state["step"] = 0
                state["exp_avg"] = zeros_like(p)
                state["exp_avg_sq"] = zeros_like(p)
            state["step"] += 1
            todo.append((p, state))
        beta1, beta2 = group["betas"]
        lr, eps = float(group["lr"]), group["eps"]
        for p, state in todo:
            _sparse_adam(p, p.grad, state["exp_avg"], state["exp_avg_sq"], state["step"],
                         eps, beta1, beta2, lr, group.get("maximize", False))


def _sparse_adam(param, grad, exp_avg, exp_avg_sq, step, eps, beta1, beta2, lr, maximize):
    from .._sparse_coo import _make
    grad = (-grad if maximize else grad).coalesce()   # (the update is not linear)
    gi, gv = grad._indices(), grad._values()
    if gv.numel() == 0:
        return
    size = grad.size()

    def make_sparse(values):
        return _make(gi, values, size, False)

    # old <- b * old + (1 - b) * new, as old += (1 - b) * (new - old)
    old_exp_avg_values = exp_avg.sparse_mask(grad)._values()
    exp_avg_update_values = gv.sub(old_exp_avg_values).mul_(1 - beta1)
    exp_avg.add_(make_sparse(exp_avg_update_values))
    old_exp_avg_sq_values = exp_avg_sq.sparse_mask(grad)._values()
    exp_avg_sq_update_values = gv.pow(2).sub_(old_exp_avg_sq_values).mul_(1 - beta2)
    exp_avg_sq.add_(make_sparse(exp_avg_sq_update_values))
    numer = exp_avg_update_values.add_(old_exp_avg_values)
    exp_avg_sq_update_values.add_(old_exp_avg_sq_values)
    denom = exp_avg_sq_update_values.sqrt_().add_(eps)
    step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
    param.add_(make_sparse(-step_size * numer.div_(denom)))
