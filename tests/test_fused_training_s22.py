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
NaN arguments never matched, so each call traced a new backward. `autograd.grad(...,
is_grads_batched=True)` ignored the flag (a batch of grad_outputs failed the shape check);
it now runs one backward per vector and stacks them (PyTorch vmaps the backward: its result's
grad_fn under create_graph is the op's, gpujit's StackBackward0). The unused-input and
no-grad-input errors of autograd.grad now say what PyTorch 2.13 says.
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


def _three(x, y):
    a = gpujit.sigmoid(x * y) + y
    b = gpujit.tanh(x) * 3
    return a, b


def test_grad_is_grads_batched_through_a_scripted_function():
    """One backward per vector of the batch (PyTorch vmaps it): rows of a Jacobian."""
    f = gpujit.jit.script(_three)
    rng = np.random.default_rng(22)
    x0, y0 = rng.standard_normal((2, 3)).astype(np.float32)
    for _ in range(3):                      # profiling, then the fused plan
        x = gpujit.tensor(x0, requires_grad=True)
        y = gpujit.tensor(y0, requires_grad=True)
        a, b = f(x, y)
        eye = gpujit.eye(3)
        jx, jy = gpujit.autograd.grad(a, (x, y), eye, retain_graph=True,
                                      is_grads_batched=True)
        s = 1 / (1 + np.exp(-x0 * y0))
        np.testing.assert_allclose(jx.numpy(), np.diag(s * (1 - s) * y0), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(jy.numpy(), np.diag(s * (1 - s) * x0 + 1), rtol=1e-5,
                                   atol=1e-7)
        # two outputs, a batch of 2: stacked; an input no output reads
        ga, gb = gpujit.ones(2, 3), gpujit.ones(2, 3) * gpujit.tensor([[1.0], [2.0]])
        gx, gy = gpujit.autograd.grad((a, b), (x, y), (ga, gb), retain_graph=True,
                                      is_grads_batched=True)
        assert tuple(gx.shape) == (2, 3) and tuple(gy.shape) == (2, 3)
        dtanh = 3 * (1 - np.tanh(x0) ** 2)
        np.testing.assert_allclose(gx.numpy(), [s * (1 - s) * y0 + dtanh,
                                                s * (1 - s) * y0 + 2 * dtanh], rtol=1e-5)
        with pytest.raises(RuntimeError, match="at index 1 appears to not have been used"):
            gpujit.autograd.grad(b, (x, y), eye, retain_graph=True, is_grads_batched=True)
        gx, gy = gpujit.autograd.grad(b, (x, y), eye, retain_graph=True, allow_unused=True,
                                      is_grads_batched=True)
        assert gy is None and tuple(gx.shape) == (3, 3)
        with pytest.raises(RuntimeError, match="If `is_grads_batched=True`, we interpret"):
            gpujit.autograd.grad(b, x, gpujit.ones(3), retain_graph=True,
                                 is_grads_batched=True)
        with pytest.raises(ValueError, match="same size in the mapped dimension"):
            gpujit.autograd.grad((a, b), x, (eye, ga), is_grads_batched=True)


def test_grad_is_grads_batched_with_create_graph():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (torch, gpujit):
        z = lib.tensor([0.3, -1.2, 2.0], requires_grad=True)
        h = (z * z).sin()
        g, = lib.autograd.grad(h, z, lib.eye(3), is_grads_batched=True, create_graph=True)
        gg, = lib.autograd.grad(g.sum(), z)
        results.append((g.detach().numpy(), gg.numpy()))
    for want, got in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_grad_errors_in_pytorch_words():
    x = gpujit.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^One of the differentiated Tensors does not "
                                           r"require grad$"):
        gpujit.autograd.grad((x * 2).sum(), (x, gpujit.ones(3)))
    with pytest.raises(ValueError, match="Expected allow_unused to be True"):
        gpujit.autograd.grad((x * 2).sum(), x, allow_unused=False, materialize_grads=True)


def _block(lib):
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = nn.Linear(6, 8)
            self.ln = nn.LayerNorm(8)
            self.bn = nn.BatchNorm1d(8)
            self.l2 = nn.Linear(8, 3)
            self.s = nn.Parameter(lib.ones(8) * 0.7)

        def forward(self, x):
            h = self.l1(x)
            h = F.gelu(self.ln(h)) * self.s + lib.tanh(h + self.s) * self.s
            h = lib.sigmoid(self.bn(h)) * h + h
            return self.l2(h)

    return Block()


@pytest.mark.parametrize("how", ["script", "trace"])
def test_training_steps_match_pytorch(how):
    """SGD with momentum on a compiled block (fused groups forward and backward), the
    batch size changing, train/eval and requires_grad toggled between steps: losses,
    every .grad, the parameters and BatchNorm's buffers as PyTorch's eager module's."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm, gm = _block(torch), _block(gpujit)
    gm.load_state_dict({k: gpujit.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((5, 6)).astype(np.float32)
    if how == "script":
        cm = gpujit.jit.script(gm)
    else:       # (the tracing run updates BatchNorm's running stats: torch's run too)
        cm = gpujit.jit.trace(gm, (gpujit.tensor(x0),), check_trace=False)
        with torch.no_grad():
            tm(torch.from_numpy(x0))
    opt_t = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    opt_g = gpujit.optim.SGD(cm.parameters(), lr=0.1, momentum=0.9)
    for step in range(6):
        n = (5, 4, 5, 2, 5, 3)[step]
        xa = rng.standard_normal((n, 6)).astype(np.float32)
        ya = rng.standard_normal((n, 3)).astype(np.float32)
        for m in (tm, cm):
            m.s.requires_grad_(step != 2)
            if how == "script":
                m.train(step != 4)
        opt_t.zero_grad()
        opt_g.zero_grad(set_to_none=step % 2 == 0)
        lt = torch.nn.functional.smooth_l1_loss(tm(torch.from_numpy(xa)), torch.from_numpy(ya))
        lg = gpujit.nn.functional.smooth_l1_loss(cm(gpujit.tensor(xa)), gpujit.tensor(ya))
        lt.backward()
        lg.backward()
        np.testing.assert_allclose(lg.item(), lt.item(), rtol=1e-5)
        for (k, pt), (_, pg) in zip(tm.named_parameters(), cm.named_parameters()):
            if pt.grad is None:
                assert pg.grad is None or not pg.grad.numpy().any(), k
            else:
                np.testing.assert_allclose(pg.grad.numpy(), pt.grad.numpy(), rtol=1e-4,
                                           atol=1e-6, err_msg=f"step {step} {k}")
        opt_t.step()
        opt_g.step()
        for (k, bt), (_, bg) in zip(list(tm.named_parameters()) + list(tm.named_buffers()),
                                    list(cm.named_parameters()) + list(cm.named_buffers())):
            np.testing.assert_allclose(bg.detach().numpy(), bt.detach().numpy(), rtol=1e-4,
                                       atol=1e-6, err_msg=f"step {step} {k}")
