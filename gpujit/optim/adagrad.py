"""Adagrad and Adadelta (torch.optim.Adagrad / torch.optim.Adadelta)."""
from __future__ import annotations

import numpy as np

from ..device import cpu as _cpu, xp_for
from ..ops.registry import wrap as _wrap
from ._flags import check_fused, check_lr
from .optimizer import (_ElementwiseOptimizer, _on_device, add_alpha_, addcdiv_, addcmul_,
                        effective_grad, lr_value, reduced_grad, scalar_dtype)

__all__ = ["Adagrad", "Adadelta"]


class Adagrad(_ElementwiseOptimizer):
    """Adagrad, with PyTorch's update (step t counts this parameter's steps, from 1):

        g = -grad if maximize else grad;  g += weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        sum += g * g;  p -= clr * g / (sqrt(sum) + eps)

    As torch, the state ('step' 0 and 'sum' filled with initial_accumulator_value) is
    created by the constructor.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                xp = xp_for(p._device)
                state = self.state[p]
                sdt = scalar_dtype()
                with _on_device(p._device):
                    # (torch: on the parameter's device where fused)
                    state["step"] = (_wrap(xp.zeros((), dtype=sdt.np), sdt, p._device)
                                     if group["fused"] else
                                     _wrap(np.zeros((), dtype=sdt.np), sdt, _cpu))
                    v = group["initial_accumulator_value"]
                    # (a complex parameter: both parts, as torch's complex(v, v))
                    total = xp.full(p._data.shape, complex(v, v) if p._dtype.cplx else v,
                                    dtype=p._dtype.np)
                state["sum"] = _wrap(total, p._dtype, p._device)

    def _device_scalar_keys(self, group):
        return ("step",) if group.get("fused") else ()

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)

    def _state_keys(self, group):
        return ("sum",)

    def _fills(self, group):
        return {"sum": float(group["initial_accumulator_value"])}

    def _hyper(self, group):
        return (lr_value(group["lr"]), float(group["lr_decay"]), float(group["eps"]),
                float(group["weight_decay"]), bool(group["maximize"]))

    def _update(self, xp, p, g, own_g, s, tmp, h, step, fresh):
        lr, lr_decay, eps, weight_decay, maximize = h
        g = effective_grad(xp, p, g, own_g, tmp, maximize, weight_decay)
        clr = lr / (1 + (step - 1) * lr_decay)
        state_sum = s["sum"]
        addcmul_(xp, state_sum, g, g, 1)
        xp.sqrt(state_sum, out=tmp)
        tmp += eps
        addcdiv_(xp, p, g, tmp, -clr, tmp)

    def _update_reduced(self, p, g, s, h, step, fresh):
        """torch's _single_tensor_adagrad on bfloat16 / float16 Tensors (every op rounds)."""
        lr, lr_decay, eps, weight_decay, maximize = h
        g = reduced_grad(p, g, maximize, weight_decay)
        clr = lr / (1 + (step - 1) * lr_decay)
        state_sum = s["sum"]
        state_sum.addcmul_(g, g, value=1)
        p.addcdiv_(g, state_sum.sqrt().add_(eps), value=-clr)


    _fused_sparse_refusal = "`fused` does not support sparse grad or complex param"

    def _step_sparse(self, b, i, g, h):
        """A sparse gradient (embedding(sparse=True)) as PyTorch's single-tensor Adagrad
        steps it: g coalesced (the update is not linear), sum += g*g at its rows, and
        p -= clr * g / (sqrt(sum) + eps) there; weight_decay is PyTorch's error."""
        from ..autograd import no_grad
        from .. import sparse_coo_tensor
        lr, lr_decay, eps, weight_decay, maximize = h
        if not b.init[i]:
            b.initialize(self, i)
        b.steps[i] += 1
        step = float(b.steps[i])
        p, state_sum = b.params[i], b.views["sum"][i]
        with no_grad():
            if maximize:
                g = -g
            if weight_decay != 0:
                raise RuntimeError("weight_decay option is not compatible with sparse "
                                   "gradients")
            clr = lr / (1 + (step - 1) * lr_decay)
            g = g.coalesce()
            gi, gv = g._indices(), g._values()
            state_sum.add_(sparse_coo_tensor(gi, gv.pow(2), g.shape))
            std_values = state_sum.sparse_mask(g)._values().sqrt_().add_(eps)
            p.add_(sparse_coo_tensor(gi, gv / std_values, g.shape), alpha=-clr)


class Adadelta(_ElementwiseOptimizer):
    """Adadelta, with PyTorch's update:

        g = -grad if maximize else grad;  g += weight_decay * p
        sq = rho * sq + (1 - rho) * g * g
        delta = sqrt(acc + eps) / sqrt(sq + eps) * g
        acc = rho * acc + (1 - rho) * delta * delta;  p -= lr * delta
    """
    _capturable_devices = ["cuda", "xpu", "hpu", "privateuseone"]

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def _state_keys(self, group):
        return ("square_avg", "acc_delta")

    def _hyper(self, group):
        return (float(group["lr"]), float(group["rho"]), float(group["eps"]),
                float(group["weight_decay"]), bool(group["maximize"]))

    def _update(self, xp, p, g, own_g, s, tmp, h, step, fresh):
        lr, rho, eps, weight_decay, maximize = h
        g = effective_grad(xp, p, g, own_g, tmp, maximize, weight_decay)
        square_avg, acc_delta = s["square_avg"], s["acc_delta"]
        square_avg *= rho
        addcmul_(xp, square_avg, g, g, 1 - rho)
        std = xp.empty_like(tmp)
        xp.add(square_avg, eps, out=std)
        xp.sqrt(std, out=std)
        xp.add(acc_delta, eps, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp /= std
        tmp *= g                                   # tmp = delta
        acc_delta *= rho
        addcmul_(xp, acc_delta, tmp, tmp, 1 - rho)
        add_alpha_(xp, p, tmp, -lr, std)

    def _update_reduced(self, p, g, s, h, step, fresh):
        """torch's _single_tensor_adadelta on bfloat16 / float16 Tensors (every op rounds)."""
        lr, rho, eps, weight_decay, maximize = h
        g = reduced_grad(p, g, maximize, weight_decay)
        square_avg, acc_delta = s["square_avg"], s["acc_delta"]
        square_avg.mul_(rho).addcmul_(g, g, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        delta.div_(std).mul_(g)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-lr)
