"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize (torch.optim.SGD)."""
from __future__ import annotations

from ._flags import check_fused, check_lr
from .optimizer import _ElementwiseOptimizer, add_alpha_, effective_grad, reduced_grad

__all__ = ["SGD"]


class SGD(_ElementwiseOptimizer):
    """Stochastic gradient descent, with PyTorch's update:

        g = -grad if maximize else grad;  g += weight_decay * p
        buf = g (first step) | momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf        (when momentum != 0)
        p -= lr * g
    """
    _init_key = "momentum_buffer"
    _with_step = False
    _foreach_differentiable = True

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def _state_keys(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _hyper(self, group):
        return (float(group["lr"]), float(group["momentum"]), float(group["dampening"]),
                float(group["weight_decay"]), bool(group["nesterov"]), bool(group["maximize"]))

    def _update(self, xp, p, g, own_g, s, tmp, h, step, fresh):
        lr, momentum, dampening, weight_decay, nesterov, maximize = h
        g = effective_grad(xp, p, g, own_g, tmp, maximize, weight_decay)
        # (each `x.add_(y, alpha=a)` of PyTorch's update one fused multiply-add, as its
        # kernels compute it: add_alpha_)
        if momentum != 0:
            buf = s["momentum_buffer"]
            if fresh:
                xp.copyto(buf, g)
            else:
                buf *= momentum
                add_alpha_(xp, buf, g, 1 - dampening, tmp)
            if nesterov:
                xp.copyto(tmp, g)           # (g, the gradient, is never written)
                g = add_alpha_(xp, tmp, buf, momentum, tmp)
            else:
                g = buf
        add_alpha_(xp, p, g, -lr, tmp)

    def _update_reduced(self, p, g, s, h, step, fresh):
        """torch's _single_tensor_sgd on bfloat16 / float16 Tensors (every op rounds)."""
        lr, momentum, dampening, weight_decay, nesterov, maximize = h
        g = reduced_grad(p, g, maximize, weight_decay)
        if momentum != 0:
            buf = s["momentum_buffer"]
            if fresh:
                buf.copy_(g)
            else:
                buf.mul_(momentum).add_(g, alpha=1 - dampening)
            g = g.add(buf, alpha=momentum) if nesterov else buf
        p.add_(g, alpha=-lr)

    _fused_sparse_refusal = "`_fused_sgd` does not support sparse gradients"

    def _step_sparse(self, b, i, g, h):
        """A sparse gradient (embedding(sparse=True)) as PyTorch's single-tensor SGD steps
        it, through the sparse ops: p += -lr * g (dense += sparse: only the rows g names
        change); weight_decay is its error (sparse + dense). The first one's momentum
        buffer is its sparse clone, as PyTorch's (the parameter is stepped outside the
        flat buckets from then on: _step_outside); a dense buffer (of earlier dense
        gradients) takes it in place."""
        from ..autograd import no_grad
        p = b.params[i]
        if h[1] != 0 and not b.init[i]:
            self.state[p]["momentum_buffer"] = None
            return self._step_outside(p, h, g)
        lr, momentum, dampening, weight_decay, nesterov, maximize = h
        with no_grad():
            if maximize:
                g = -g
            if weight_decay != 0:
                g = g.add(p, alpha=weight_decay)        # (PyTorch's error)
            if momentum != 0:
                buf = b.views["momentum_buffer"][i]
                buf.mul_(momentum).add_(g, alpha=1 - dampening)
                g = g.add(buf, alpha=momentum) if nesterov else buf
            p.add_(g, alpha=-lr)

    def _step_outside(self, p, h, g=None):
        """PyTorch's single-tensor SGD step of a parameter whose momentum buffer is sparse
        (a dense gradient meets it in PyTorch's error for sparse + dense)."""
        from ..autograd import no_grad
        lr, momentum, dampening, weight_decay, nesterov, maximize = h
        g = p.grad if g is None else g
        state = self.state[p]
        with no_grad():
            if maximize:
                g = -g
            if weight_decay != 0:
                g = g.add(p, alpha=weight_decay)
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.detach().clone()
            else:
                buf.mul_(momentum).add_(g, alpha=1 - dampening)
            g = g.add(buf, alpha=momentum) if nesterov else buf
            p.add_(g, alpha=-lr)
