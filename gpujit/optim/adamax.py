"""Adamax, NAdam and RAdam (torch.optim.Adamax / NAdam / RAdam): Adam's variants."""
from __future__ import annotations

import math

import numpy as np

from ._flags import CAPTURABLE_DEVICES_NO_XLA, check_lr
from .optimizer import (_ElementwiseOptimizer, _muladd_, addcdiv_, addcmul_, effective_grad,
                        lerp_, lr_value, multi_tensor, reduced_grad)

__all__ = ["Adamax", "NAdam", "RAdam"]


def _check_adam_args(lr, betas, eps, weight_decay):
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


class _AdamFamily(_ElementwiseOptimizer):
    _capturable_devices_foreach = CAPTURABLE_DEVICES_NO_XLA
    _flag_defaults = dict(foreach=None, maximize=False, differentiable=False,
                          capturable=False)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in self._flag_defaults.items():
                group.setdefault(k, v)

    def _second_moment(self, xp, g, s, tmp, beta1, beta2):
        """exp_avg.lerp_(g, 1 - beta1);  exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) g g"""
        exp_avg, exp_avg_sq = s["exp_avg"], s["exp_avg_sq"]
        lerp_(xp, exp_avg, g, 1 - beta1, tmp)
        exp_avg_sq *= beta2
        addcmul_(xp, exp_avg_sq, g, g, 1 - beta2)
        return exp_avg, exp_avg_sq

    @staticmethod
    def _decay(xp, p, g, own_g, tmp, lr, weight_decay, decoupled, maximize):
        """The gradient after maximize and weight decay: L2 (added to the gradient) or
        decoupled (p *= 1 - lr * weight_decay)."""
        if decoupled:
            g = effective_grad(xp, p, g, own_g, tmp, maximize, 0)
            if weight_decay != 0:
                p *= 1 - lr * weight_decay
            return g
        return effective_grad(xp, p, g, own_g, tmp, maximize, weight_decay)


class Adamax(_AdamFamily):
    """Adamax (Adam with the infinity norm), with PyTorch's update:

        g = -grad if maximize else grad;  g += weight_decay * p
        m.lerp_(g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p -= lr / (1 - beta1**t) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _state_keys(self, group):
        return ("exp_avg", "exp_inf")

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return (lr_value(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                float(group["weight_decay"]), bool(group["maximize"]))

    def _update(self, xp, p, g, own_g, s, tmp, h, step, fresh):
        lr, beta1, beta2, eps, weight_decay, maximize = h
        g = effective_grad(xp, p, g, own_g, tmp, maximize, weight_decay)
        exp_avg, exp_inf = s["exp_avg"], s["exp_inf"]
        lerp_(xp, exp_avg, g, 1 - beta1, tmp)
        exp_inf *= beta2
        xp.abs(g, out=tmp)
        tmp += eps
        xp.maximum(exp_inf, tmp, out=exp_inf)
        clr = lr / (1 - beta1 ** step)
        addcdiv_(xp, p, exp_avg, exp_inf, -clr, tmp)

    def _update_reduced(self, p, g, s, h, step, fresh):
        """torch's _single_tensor_adamax on bfloat16 / float16 Tensors (every op rounds)."""
        lr, beta1, beta2, eps, weight_decay, maximize = h
        g = reduced_grad(p, g, maximize, weight_decay)
        exp_avg, exp_inf = s["exp_avg"], s["exp_inf"]
        exp_avg.lerp_(g, 1 - beta1)
        exp_inf.copy_(exp_inf.mul_(beta2).maximum(g.abs().add_(eps)))
        p.addcdiv_(exp_avg, exp_inf, value=-(lr / (1 - beta1 ** step)))


class NAdam(_AdamFamily):
    """NAdam (Adam with Nesterov momentum), with PyTorch's update; mu_product is a float32
    scalar of the state, as torch keeps it:

        mu_t = beta1 * (1 - 0.5 * 0.96**(t * momentum_decay));  mu_product *= mu_t
        m.lerp_(g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2**t)) + eps
        p -= lr * (1 - mu_t) / (1 - mu_product) * g / denom
        p -= lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom

    torch's multi-tensor implementation (foreach=True, or CUDA parameters) takes
    denom = sqrt(v) / sqrt(1 - beta2**t) + eps.
    """
    _scalar_keys = ("mu_product",)
    _capturable_what = "params, mu_products and state_steps"
    _capturable_what_foreach = "params, mu_products, and state_steps"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("decoupled_weight_decay", False)

    def _state_keys(self, group):
        return ("exp_avg", "exp_avg_sq")

    def _fills(self, group):
        return {"mu_product": 1.0}

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return (lr_value(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                float(group["weight_decay"]), float(group["momentum_decay"]),
                bool(group["decoupled_weight_decay"]), bool(group["maximize"]),
                multi_tensor(group))

    def _update(self, xp, p, g, own_g, s, tmp, h, step, fresh):
        (lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled, maximize,
         multi) = h
        bias_correction2 = 1 - beta2 ** step
        g = self._decay(xp, p, g, own_g, tmp, lr, weight_decay, decoupled, maximize)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = s["mu_product"]
        mu_product *= mu                     # float32, as torch's state tensor
        mu_product = float(mu_product[0])
        mu_product_next = mu_product * mu_next
        exp_avg, exp_avg_sq = self._second_moment(xp, g, s, tmp, beta1, beta2)
        denom = xp.empty_like(tmp)
        if multi:
            xp.sqrt(exp_avg_sq, out=denom)
            denom /= bias_correction2 ** 0.5
        else:
            xp.divide(exp_avg_sq, bias_correction2, out=denom)
            xp.sqrt(denom, out=denom)
        denom += eps
        addcdiv_(xp, p, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product), tmp)
        addcdiv_(xp, p, exp_avg, denom, (-lr * mu_next) / (1.0 - mu_product_next), tmp)

    def _update_reduced(self, p, g, s, h, step, fresh):
        """torch's _single_tensor_nadam (its _multi_tensor_nadam's sqrt-then-divide
        denominator under foreach) on bfloat16 / float16 Tensors (every op rounds)."""
        (lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled, maximize,
         multi) = h
        bias_correction2 = 1 - beta2 ** step
        g = reduced_grad(p, g, maximize, weight_decay, lr, decoupled)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = s["mu_product"]
        mu_product *= mu                     # float32, as torch's state tensor
        mu_product = float(mu_product[0])
        exp_avg, exp_avg_sq = s["exp_avg"], s["exp_avg_sq"]
        exp_avg.lerp_(g, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        if multi:
            denom = exp_avg_sq.sqrt().div_(bias_correction2 ** 0.5)
        else:
            denom = exp_avg_sq.div(bias_correction2).sqrt()
        denom.add_(eps)
        p.addcdiv_(g, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
        p.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product * mu_next))


class RAdam(_AdamFamily):
    """RAdam (rectified Adam), with PyTorch's update:

        m.lerp_(g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        p -= m / (1 - beta1**t) * lr * sqrt(1 - beta2**t) / (sqrt(v) + eps) * r_t
                                                                   (rho_t > 5)
        p -= m / (1 - beta1**t) * lr                                  (otherwise)
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))

    torch's multi-tensor implementation (foreach=True, or CUDA parameters) computes
    p = fma(m, 1 / ((sqrt(v) + eps) / c2) + c1, p), with c2 = -sqrt(1 - beta2**t) * lr *
    r_t / (1 - beta1**t) (r_t = 0 where rho_t <= 5) and c1 = -lr / (1 - beta1**t) where
    rho_t <= 5, else -0.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("decoupled_weight_decay", False)

    def _state_keys(self, group):
        return ("exp_avg", "exp_avg_sq")

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return (lr_value(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                float(group["weight_decay"]), bool(group["decoupled_weight_decay"]),
                bool(group["maximize"]), multi_tensor(group))

    def _update(self, xp, p, g, own_g, s, tmp, h, step, fresh):
        lr, beta1, beta2, eps, weight_decay, decoupled, maximize, multi = h
        g = self._decay(xp, p, g, own_g, tmp, lr, weight_decay, decoupled, maximize)
        exp_avg, exp_avg_sq = self._second_moment(xp, g, s, tmp, beta1, beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if multi:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5 if rho_t > 5 else 0
            unrect_step = (lr * (0 if rect > 0 else 1.0) / bias_correction1) * -1
            adaptive_step = (bias_correction2 ** 0.5) * (lr * rect / bias_correction1) * -1
            xp.sqrt(exp_avg_sq, out=tmp)
            tmp += eps
            with np.errstate(divide="ignore"):
                tmp /= adaptive_step            # (-0 where unrectified: -inf, then -0)
                xp.reciprocal(tmp, out=tmp)
            tmp += unrect_step
            if not _muladd_(xp, exp_avg, tmp, p, p):    # p.addcmul_(exp_avg, buffer)
                p += exp_avg * tmp
            return
        xp.divide(exp_avg, bias_correction1, out=tmp)
        tmp *= lr
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = xp.empty_like(tmp)
            xp.sqrt(exp_avg_sq, out=adaptive)
            adaptive += eps
            # (torch's float / Tensor is Tensor.__rdiv__: reciprocal, times the float)
            xp.reciprocal(adaptive, out=adaptive)
            adaptive *= bias_correction2 ** 0.5
            tmp *= adaptive
            tmp *= rect
        p -= tmp

    def _update_reduced(self, p, g, s, h, step, fresh):
        """torch's _single_tensor_radam (foreach: _multi_tensor_radam's buffer) on bfloat16 /
        float16 Tensors (every op rounds)."""
        lr, beta1, beta2, eps, weight_decay, decoupled, maximize, multi = h
        g = reduced_grad(p, g, maximize, weight_decay, lr, decoupled)
        exp_avg, exp_avg_sq = s["exp_avg"], s["exp_avg_sq"]
        exp_avg.lerp_(g, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5 if rho_t > 5 else 0
        if multi:
            unrect_step = (lr * (0 if rect > 0 else 1.0) / bias_correction1) * -1
            adaptive_step = (bias_correction2 ** 0.5) * (lr * rect / bias_correction1) * -1
            buf = exp_avg_sq.sqrt().add_(eps).div_(adaptive_step).reciprocal_()
            p.addcmul_(exp_avg, buf.add_(unrect_step))
        elif rho_t > 5.0:
            adaptive = (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add_(eps)
            p.add_(exp_avg / bias_correction1 * lr * adaptive * rect, alpha=-1.0)
        else:
            p.add_(exp_avg / bias_correction1 * lr, alpha=-1.0)

