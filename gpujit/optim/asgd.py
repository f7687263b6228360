"""ASGD and Rprop (torch.optim.ASGD / torch.optim.Rprop)."""
from __future__ import annotations

from ._flags import CAPTURABLE_DEVICES_NO_XLA, check_lr
from .optimizer import (_ElementwiseOptimizer, _muladd_, add_alpha_, effective_grad,
                        lr_value, multi_tensor)

__all__ = ["ASGD", "Rprop"]


class _FlagDefaults(_ElementwiseOptimizer):
    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in dict(foreach=None, maximize=False, differentiable=False,
                             capturable=False).items():
                group.setdefault(k, v)


class ASGD(_FlagDefaults):
    """Averaged SGD, with PyTorch's update; eta and mu are float32 scalars of the state,
    as torch keeps them (eta starts at lr, mu at 1):

        g = -grad if maximize else grad;  g += weight_decay * p
        p *= 1 - lambd * eta;  p -= eta * g
        ax += (p - ax) * mu   (ax = p while mu == 1)
        eta = lr / (1 + lambd * lr * t)**alpha;  mu = 1 / max(1, t - t0)

    torch's multi-tensor implementation (foreach=True, or CUDA parameters) orders it
    otherwise: p = fma(-(g + lambd * p), eta, p) (addcmul_ of the eta tensor) and
    ax = fma(p - ax, mu, ax) (also while mu == 1).
    """
    _capturable_devices_foreach = CAPTURABLE_DEVICES_NO_XLA
    _scalar_keys = ("eta", "mu")

    def _device_scalar_keys(self, group):
        # (torch's ASGD keeps step, eta and mu on the parameter's device always)
        return ("step",) + self._scalar_keys
    _capturable_what = "params, mus, etas, and state_steps"

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _state_keys(self, group):
        return ("ax",)

    def _fills(self, group):
        return {"eta": float(group["lr"]), "mu": 1.0}

    def _hyper(self, group):
        return (lr_value(group["lr"]), float(group["lambd"]), float(group["alpha"]),
                float(group["t0"]), float(group["weight_decay"]), bool(group["maximize"]),
                multi_tensor(group))

    def _update(self, xp, p, g, own_g, s, tmp, h, step, fresh):
        lr, lambd, alpha, t0, weight_decay, maximize, multi = h
        grad = g
        g = effective_grad(xp, p, g, own_g, tmp, maximize, weight_decay)
        eta, mu = s["eta"], s["mu"]
        eta_value = float(eta[0])
        ax = s["ax"]
        mu_value = float(mu[0])
        if multi:
            if g is grad and not own_g:
                g = g.copy()
            add_alpha_(xp, g, p, lambd, tmp)            # (_foreach_add(.., alpha=lambd))
            xp.negative(g, out=g)
            _addcmul_scalar_(xp, p, g, eta_value)       # p.addcmul_(g, eta, value=-1)
            xp.subtract(p, ax, out=tmp)
            _addcmul_scalar_(xp, ax, tmp, mu_value)     # ax.addcmul_(p - ax, mu)
            # torch's new eta: lr / ((1 + lambd * lr * step) ** alpha) of the step tensor,
            # so in its dtype: (lambd * lr) * step, 1 + that, ** alpha, then the scalar
            # over it as Tensor.__rtruediv__ computes it, step.reciprocal() * lr
            d = eta.dtype.type
            base = d(1) + d(lambd * lr) * d(step)
            eta[...] = d(d(1) / base ** d(alpha)) * d(lr)
        else:
            self._single_tensor(xp, p, g, ax, tmp, lambd, eta_value, mu_value)
            eta[...] = lr / ((1 + lambd * lr * step) ** alpha)
        mu[...] = 1 / max(1, step - t0)

    @staticmethod
    def _single_tensor(xp, p, g, ax, tmp, lambd, eta_value, mu_value):
        p *= 1 - lambd * eta_value
        add_alpha_(xp, p, g, -eta_value, tmp)
        if mu_value != 1:
            xp.subtract(p, ax, out=tmp)
            tmp *= mu_value
            ax += tmp
        else:
            xp.copyto(ax, p)


def _addcmul_scalar_(xp, a, t, scalar):
    """a.addcmul_(t, tensor(scalar)) as ATen computes it: t * scalar + a rounded once
    (float32 / float64), else in two steps."""
    if not _muladd_(xp, t, a.dtype.type(scalar), a, a):
        a += t * a.dtype.type(scalar)


class Rprop(_FlagDefaults):
    """Rprop (resilient backpropagation), with PyTorch's update; step sizes start at lr:

        s = sign(g * prev) -> etaplus (> 0), etaminus (< 0), 1 (== 0)
        step_size = clamp(step_size * s, step_size_min, step_size_max)
        g[s == etaminus] = 0;  p -= sign(g) * step_size;  prev = g
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _state_keys(self, group):
        return ("prev", "step_size")

    def _fills(self, group):
        return {"step_size": float(group["lr"])}

    def _hyper(self, group):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        return (float(etaminus), float(etaplus), float(step_size_min), float(step_size_max),
                bool(group["maximize"]))

    def _update(self, xp, p, g, own_g, s, tmp, h, step, fresh):
        etaminus, etaplus, step_size_min, step_size_max, maximize = h
        g = effective_grad(xp, p, g, own_g, tmp, maximize, 0)
        prev, step_size = s["prev"], s["step_size"]
        xp.multiply(g, prev, out=tmp)
        xp.sign(tmp, out=tmp)
        dt = tmp.dtype
        sign = xp.where(tmp > 0, dt.type(etaplus), tmp)
        sign = xp.where(sign < 0, dt.type(etaminus), sign)
        sign = xp.where(sign == 0, dt.type(1), sign)
        step_size *= sign
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)
        xp.copyto(prev, xp.where(sign == dt.type(etaminus), dt.type(0), g))
        xp.sign(prev, out=tmp)
        tmp *= step_size
        p -= tmp

    def _update_reduced(self, p, g, s, h, step, fresh):
        """torch's _single_tensor_rprop on bfloat16 / float16 Tensors (every op rounds:
        etaplus 1.2 multiplies as the bfloat16 1.203125, as in torch)."""
        etaminus, etaplus, step_size_min, step_size_max, maximize = h
        if maximize:
            g = -g
        prev, step_size = s["prev"], s["step_size"]
        sign = g.mul(prev).sign()
        sign[sign.gt(0)] = etaplus
        sign[sign.lt(0)] = etaminus
        sign[sign.eq(0)] = 1
        step_size.mul_(sign).clamp_(step_size_min, step_size_max)
        g = g.clone()
        g[sign.eq(etaminus)] = 0
        p.addcmul_(g.sign(), step_size, value=-1)
        prev.copy_(g)
