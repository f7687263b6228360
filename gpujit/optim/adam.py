"""Adam and AdamW (torch.optim.Adam / torch.optim.AdamW), with amsgrad and maximize."""
from __future__ import annotations

import math

from ..tensor import Tensor
from ._flags import CAPTURABLE_DEVICES_NO_XLA, check_fused, check_lr
from .optimizer import (_ElementwiseOptimizer, addcdiv_, addcmul_, effective_grad, lerp_,
                        lr_value, reduced_grad)

__all__ = ["Adam", "AdamW"]


class Adam(_ElementwiseOptimizer):
    """Adam, with PyTorch's update (step t counts this parameter's steps, from 1):

        g = -grad if maximize else grad
        p *= 1 - lr * weight_decay          (decoupled_weight_decay, i.e. AdamW)
        g += weight_decay * p               (otherwise: L2 penalty)
        m.lerp_(g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_max, v) if amsgrad else v        (v_max keeps the running maximum)
        p -= lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)
    """
    _capturable_devices_foreach = CAPTURABLE_DEVICES_NO_XLA

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")
        check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (all(isinstance(b, float) for b in betas[:2])
                or all(isinstance(b, Tensor) for b in betas[:2])):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas[:2]):
            if isinstance(beta, Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                     "capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
            group.setdefault("decoupled_weight_decay", False)

    def _device_scalar_keys(self, group):
        # (torch: 'step' on the parameter's device where fused or capturable)
        return ("step",) if group.get("fused") or group.get("capturable") else ()

    def _state_keys(self, group):
        if group["amsgrad"]:
            return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        return ("exp_avg", "exp_avg_sq")

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return (lr_value(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                float(group["weight_decay"]), bool(group["amsgrad"]), bool(group["maximize"]),
                bool(group["decoupled_weight_decay"]))

    def _sparse_refusal(self):
        return RuntimeError("Adam does not support sparse gradients, please consider "
                            "SparseAdam instead")

    def _update(self, xp, p, g, own_g, s, tmp, h, step, fresh):
        lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled = h
        if decoupled:
            g = effective_grad(xp, p, g, own_g, tmp, maximize, 0)
            if weight_decay != 0:
                p *= 1 - lr * weight_decay
        else:
            g = effective_grad(xp, p, g, own_g, tmp, maximize, weight_decay)
        exp_avg, exp_avg_sq = s["exp_avg"], s["exp_avg_sq"]
        lerp_(xp, exp_avg, g, 1 - beta1, tmp)
        exp_avg_sq *= beta2
        addcmul_(xp, exp_avg_sq, g, g, 1 - beta2)

        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = math.sqrt(bias_correction2)
        if amsgrad:
            max_sq = s["max_exp_avg_sq"]
            xp.maximum(max_sq, exp_avg_sq, out=max_sq)
            xp.sqrt(max_sq, out=tmp)
        else:
            xp.sqrt(exp_avg_sq, out=tmp)
        tmp /= bias_correction2_sqrt
        tmp += eps
        addcdiv_(xp, p, exp_avg, tmp, -step_size, tmp)

    def _update_reduced(self, p, g, s, h, step, fresh):
        """torch's _single_tensor_adam on bfloat16 / float16 Tensors (every op rounds: a decoupled
        decay p * (1 - lr * wd) that rounds back to p is lost, as in torch)."""
        lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled = h
        g = reduced_grad(p, g, maximize, weight_decay, lr, decoupled)
        exp_avg, exp_avg_sq = s["exp_avg"], s["exp_avg_sq"]
        exp_avg.lerp_(g, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        if amsgrad:
            max_sq = s["max_exp_avg_sq"]
            max_sq.copy_(max_sq.maximum(exp_avg_sq))
            denom = (max_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        else:
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-step_size)


class AdamW(Adam):
    """Adam with decoupled weight decay (p *= 1 - lr * weight_decay before the update),
    default weight_decay 1e-2, as torch.optim.AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
