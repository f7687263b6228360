"""RMSprop (torch.optim.RMSprop), with momentum, centering, weight decay and maximize."""
from __future__ import annotations

from ._flags import check_lr
from .optimizer import (_ElementwiseOptimizer, add_alpha_, addcdiv_, addcmul_, effective_grad,
                        lerp_, reduced_grad)

__all__ = ["RMSprop"]


class RMSprop(_ElementwiseOptimizer):
    """RMSprop, with PyTorch's update:

        g = -grad if maximize else grad;  g += weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        avg = sqrt(sq - ga * ga) + eps, after ga.lerp_(g, 1 - alpha)   (centered)
        avg = sqrt(sq) + eps                                             (otherwise)
        buf = momentum * buf + g / avg;  p -= lr * buf                  (momentum > 0)
        p -= lr * g / avg                                                (otherwise)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def _state_keys(self, group):
        keys = ("square_avg",)
        if group["momentum"] > 0:
            keys += ("momentum_buffer",)
        if group["centered"]:
            keys += ("grad_avg",)
        return keys

    def _hyper(self, group):
        return (float(group["lr"]), float(group["alpha"]), float(group["eps"]),
                float(group["weight_decay"]), float(group["momentum"]), bool(group["centered"]),
                bool(group["maximize"]))

    def _update(self, xp, p, g, own_g, s, tmp, h, step, fresh):
        lr, alpha, eps, weight_decay, momentum, centered, maximize = h
        g = effective_grad(xp, p, g, own_g, tmp, maximize, weight_decay)
        square_avg = s["square_avg"]
        square_avg *= alpha
        addcmul_(xp, square_avg, g, g, 1 - alpha)
        if centered:
            grad_avg = s["grad_avg"]
            lerp_(xp, grad_avg, g, 1 - alpha, tmp)
            tmp[...] = square_avg
            addcmul_(xp, tmp, grad_avg, grad_avg, -1)
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(square_avg, out=tmp)
        tmp += eps                                          # tmp = avg
        if momentum > 0:
            buf = s["momentum_buffer"]
            buf *= momentum
            addcdiv_(xp, buf, g, tmp, 1, tmp)
            add_alpha_(xp, p, buf, -lr, tmp)
        else:
            addcdiv_(xp, p, g, tmp, -lr, tmp)

    def _update_reduced(self, p, g, s, h, step, fresh):
        """torch's _single_tensor_rmsprop on bfloat16 / float16 Tensors (every op rounds)."""
        lr, alpha, eps, weight_decay, momentum, centered, maximize = h
        g = reduced_grad(p, g, maximize, weight_decay)
        square_avg = s["square_avg"]
        square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        if centered:
            grad_avg = s["grad_avg"]
            grad_avg.lerp_(g, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)
        if momentum > 0:
            buf = s["momentum_buffer"]
            buf.mul_(momentum).addcdiv_(g, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(g, avg, value=-lr)
