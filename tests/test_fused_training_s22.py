"""Training with fused forward and backward (session 22 hunt): scripted and traced models
trained for a few steps against PyTorch's eager modules (same state_dict), losses, every
parameter's .grad and the parameters after SGD/Adam/AdamW steps; gradients of scripted
functions against eager ones.

Hunted and passing (compared with torch 2.13): MLPs with gelu/silu/tanh/sigmoid and dropout
(p=0 in train, p>0 in eval), LayerNorm/BatchNorm with train/eval toggled between steps,
buffers updated in place in forward, residual attention with masked_fill(-inf), the
tutorial's MyCell/MyDecisionGate loop, LSTM/GRU cells written with chunk, weight tying and a
parameter used several times in one group, 0-dim and [1, C] parameters, mse/smooth_l1/huber/
bce_with_logits (pos_weight)/cross_entropy (label_smoothing, ignore_index)/nll losses and
their reductions, requires_grad_(False) on parameters between steps, hooks on parameters,
grad accumulation over micro-batches with retain_graph, zero_grad(set_to_none=False), an
input that requires grad, gradient penalty (create_graph through the fused groups), fusion
strategies STATIC/DYNAMIC/none with the batch size changing every step, float64, float16
models, autocast, non-contiguous batches.

Deliberate differences: a scripted `with torch.no_grad():` block keeps its values out of
the gradient as eager code does (TorchScript 2.13 drops the gradient of the ops after the
block); a trace drops the block, as PyTorch's tracer does.

Found and fixed: a fused group's backward graph is traced with the group's Python number
arguments baked in, and the cache of traced backwards compared them with ==, so a call with
s=-0.0 reused the trace made for s=0.0 (`x / s`: +inf gradients where PyTorch gives -inf);
NaN arguments never matched, so each call traced a new backward.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import gpujit
from gpujit.runtime.interpreter import GROUP_RUNNER


def _div(x, s: float):
    return (x / s) * 2 + x


def _div_nan(x, s: float):
    return (x / s) * 2 + x


def _runners(f, *args):
    """The DifferentiableGroups of the specialization that serves args."""
    exe = f._get_executable()
    spec = exe._active[exe.key(list(args))]
    return [g.node.meta[GROUP_RUNNER] for g in spec.groups if GROUP_RUNNER in g.node.meta]


def test_backward_of_a_group_tells_minus_zero_from_zero():
    f = gpujit.jit.script(_div)
    for s in (0.0, 0.0, -0.0, -0.0, 0.0):
        x = gpujit.tensor([0.5, -1.0], requires_grad=True)
        f(x, s).backward(gpujit.ones(2))
        want = math.copysign(math.inf, s)
        np.testing.assert_array_equal(x.grad.numpy(), [want, want])


def test_a_nan_argument_reuses_its_traced_backward():
    f = gpujit.jit.script(_div_nan)
    for _ in range(5):
        x = gpujit.tensor([0.5, -1.0], requires_grad=True)
        f(x, float("nan")).backward(gpujit.ones(2))    # a new object each call
        assert np.isnan(x.grad.numpy()).all()
    runners = _runners(f, x, math.nan)
    assert [r.traced for r in runners] == [1]
