"""Muon (torch.optim.Muon): momentum SGD whose update is orthogonalized by a quintic
Newton-Schulz iteration run in bfloat16, for the 2-d weights of hidden layers (biases,
embeddings and other parameters go to another optimizer, as PyTorch's docs say).

PyTorch's single-tensor algorithm step by step, with gpujit ops on the parameters under
no_grad (bfloat16 tensors: gpujit/ops/bfloat16_support.py), so the same program gives the
same parameters:

    B.lerp_(g, 1 - momentum);  U = g.lerp(B, momentum) if nesterov else B
    X = U.bfloat16() (transposed when it has more rows than columns)
    X /= max(||X||, eps);  k times:  A = X @ X.T;  X = a X + (b A + c A @ A) @ X
    p *= 1 - lr * weight_decay;  p -= adjusted_lr * X
"""
from __future__ import annotations

import math

import gpujit as _g

from ..autograd.grad_mode import enable_grad, no_grad
from ._flags import check_lr
from .optimizer import Optimizer

__all__ = ["Muon"]

# Keller Jordan's constants (torch.optim._muon)
EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """The Newton-Schulz orthogonalization of the 2-d grad, in bfloat16 (U S' V^T with
    S'_ii roughly in (0.5, 1.5) rather than U V^T: the quintic's slope at zero is kept high
    to need few steps)."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    ortho = grad.bfloat16()
    tall = grad.size(0) > grad.size(1)
    if tall:
        ortho = ortho.T
    ortho.div_(ortho.norm().clamp(min=eps))           # (spectral norm at most 1)
    for _ in range(ns_steps):
        gram = ortho @ ortho.T
        update = _g.addmm(gram, gram, gram, beta=b, alpha=c)
        ortho = _g.addmm(ortho, update, ortho, beta=a)
    if tall:
        ortho = ortho.T
    return ortho


def _adjust_lr(lr, adjust_lr_fn, param_shape):
    """The learning rate scaled for the matrix's shape A x B: Keller's sqrt(max(1, A/B))
    ("original", the default) or Moonshot's 0.2 sqrt(max(A, B)) ("match_rms_adamw")."""
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """Muon (see the module docstring): only 2-d parameters; momentum buffers in the
    gradient's dtype; the orthogonalized update in bfloat16."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
                    "nesterov": nesterov, "ns_coefficients": ns_coefficients, "eps": eps,
                    "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def _init_group(self, group):
        params, grads, bufs = [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            if _g.is_complex(p):
                raise RuntimeError("Muon does not support complex parameters")
            if p.grad.is_sparse:
                raise RuntimeError("Muon does not support sparse gradients")
            params.append(p)
            grads.append(p.grad)
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = _g.zeros_like(p.grad,
                                                         memory_format=_g.preserve_format)
            bufs.append(state["momentum_buffer"])
        return params, grads, bufs

    def step(self, closure=None):
        """One optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                params, grads, bufs = self._init_group(group)
                muon(params, grads, bufs, lr=group["lr"],
                     weight_decay=group["weight_decay"], momentum=group["momentum"],
                     nesterov=group["nesterov"], ns_coefficients=group["ns_coefficients"],
                     eps=group["eps"], ns_steps=group["ns_steps"],
                     adjust_lr_fn=group["adjust_lr_fn"], has_complex=False)
        return loss


def muon(params, grads, muon_momentum_bufs, *, foreach=None, lr, weight_decay, momentum,
         nesterov, ns_coefficients, ns_steps, eps, adjust_lr_fn, has_complex):
    """The functional form of Muon's step (torch.optim._muon.muon)."""
    if foreach:
        raise RuntimeError("Foreach is not supported for Muon yet")
    if isinstance(lr, _g.Tensor):
        lr = lr.item()
    if has_complex:
        raise ValueError("Complex parameters are not supported")
    for param, grad, buf in zip(params, grads, muon_momentum_bufs):
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        buf.lerp_(grad, 1 - momentum)
        update = grad.lerp(buf, momentum) if nesterov else buf
        update = _zeropower_via_newtonschulz(update, ns_coefficients, ns_steps, eps)
        adjusted_lr = _adjust_lr(lr, adjust_lr_fn, param.shape)
        param.mul_(1 - lr * weight_decay)
        param.add_(update, alpha=-adjusted_lr)
