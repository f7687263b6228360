"""Minimised programs the nn.Module fuzzer (tests/test_program_fuzz_s24.py, generator
tests/program_fuzz_gen_d.py) found, with NumPy references (no PyTorch needed)."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
import gpujit.nn as nn
import gpujit.nn.functional as F


# ---------------------------------------------------------------- dropout's saved mask
# dropout's backward read its result (to find its keep mask), so the result was saved and
# version-checked: an in-place op on it before backward (nn.ReLU(inplace=True) after
# nn.Dropout, as users write) raised "modified by an inplace operation", in eager mode for
# p > 0 and in scripted code even for p == 0 (where aten::dropout hands back its input).
# PyTorch saves the mask only (native_dropout), and answers. (fuzz seed 2403)

def _dropout_relu_(w, p: float, train: bool):
    h = F.dropout(w * 2.0, p, train)
    h = h.relu_()
    return h.sum()


@pytest.mark.parametrize("p", [0.0, 0.5])
@pytest.mark.parametrize("scripted", [False, True])
def test_writing_into_dropout_s_result_keeps_its_backward(p, scripted):
    fn = gpujit.jit.script(_dropout_relu_) if scripted else _dropout_relu_
    for _ in range(3):       # (the scripted function's profiling and optimized runs)
        w = gpujit.ones(3, 4, requires_grad=True)
        out = fn(w, p, True)
        out.backward()
        # w * 2 > 0: each kept element is 2 / (1 - p), relu keeps it; the gradient of w
        # is 2 / (1 - p) where kept, 0 where dropped; kept elements sum to the output
        g = w.grad.numpy()
        kept = g != 0
        np.testing.assert_allclose(g[kept], 2 / (1 - p), rtol=1e-6)
        np.testing.assert_allclose(out.item(), kept.sum() * 2 / (1 - p), rtol=1e-6)
        if p == 0.0:
            assert kept.all()


def test_module_dropout_then_inplace_relu_trains_in_scripted_code():
    torch_ = gpujit

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(11, 4)
            self.seq = nn.Sequential(nn.Dropout(0.0), nn.ReLU(inplace=True))
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(self.seq(self.emb(x)).mean(1))

    m = M()
    s = torch_.jit.script(M())
    s.load_state_dict(m.state_dict())
    x = torch_.tensor([[1, 2, 3], [4, 0, 10]])
    for mod in (m, s):
        mod.train()
        mod(x).square().mean().backward()
    for (k, a), (_, b) in zip(m.named_parameters(), s.named_parameters()):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-6, err_msg=k)
    # NumPy: relu(emb[x]).mean(1) @ W.T + b, loss mean(out ** 2)
    W, E = m.fc.weight.detach().numpy(), m.emb.weight.detach().numpy()
    feat = np.maximum(E[x.numpy()], 0).mean(1)
    out = feat @ W.T + m.fc.bias.detach().numpy()
    gout = 2 * out / out.size
    np.testing.assert_allclose(m.fc.weight.grad.numpy(), gout.T @ feat, rtol=1e-5)


def test_a_dropout_mask_survives_its_result_being_freed_before_backward():
    w = gpujit.ones(50, requires_grad=True)
    loss = F.dropout(w * 1.0, 0.5, True).sum()      # (the dropout's result is freed)
    loss.backward()
    g = w.grad.numpy()
    assert set(np.unique(g)) <= {0.0, 2.0}
    np.testing.assert_allclose(loss.item(), g.sum(), rtol=1e-6)


def test_a_second_backward_through_dropout_raises_as_pytorch():
    w = gpujit.ones(3, requires_grad=True)
    y = F.dropout(w.exp(), 0.5, True)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


# ---------------------------------------------------------------- a cat branch's pieces
# A fused kernel reads a piece of a group input once per scope: inside a cat's branch the
# piece is loaded in that branch only. `h = x * w; a, b = h.chunk(2, 1); ...;
# torch.cat([.., ..], 1) * w` reads w's second half shifted into cat branch 1 (the same
# elements as w whole) and w whole after the cat: the two were merged into one piece,
# loaded in branch 1 only, so elements of branch 0 multiplied by an unset value (0).
# The backward of `x * w` chunked into a GLU (`a * sigmoid(b)`, an nn.Module's
# `h * self.buf` then `h.chunk(2, 1)`) is such a group: gradients came out wrong from
# the third training step. (fuzz seed 2591)

def _glu_backward_like(x, w, go):
    h = x * w
    a, b = h.chunk(2, 1)
    s = b.sigmoid()
    return torch.cat([go * s, go * a * s * (1 - s)], 1) * w


def _glu(x, w):
    h = x * w
    a, b = h.chunk(2, 1)
    return a * torch.sigmoid(b)


torch = gpujit


def _sig(v):
    return 1 / (1 + np.exp(-v))


@pytest.mark.parametrize("shape", [(2, 2, 1), (3, 4, 5)])
def test_a_piece_read_in_a_cat_branch_and_after_the_cat_is_loaded_in_both(shape):
    fs = gpujit.jit.script(_glu_backward_like)
    rng = np.random.default_rng(0)
    c = shape[1]
    w = np.linspace(0.5, 2.0, c).astype(np.float32).reshape(c, 1)
    for _ in range(5):          # (profiling, then the fused kernel)
        x = rng.standard_normal(shape).astype(np.float32)
        go = rng.standard_normal((shape[0], c // 2, shape[2])).astype(np.float32)
        got = fs(gpujit.from_numpy(x), gpujit.from_numpy(w), gpujit.from_numpy(go)).numpy()
        h = x.astype(np.float64) * w
        a, b = h[:, :c // 2], h[:, c // 2:]
        s = _sig(b)
        want = np.concatenate([go * s, go * a * s * (1 - s)], 1) * w
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_the_gradient_of_a_scripted_glu_over_a_broadcast_product_stays_right():
    fs = gpujit.jit.script(_glu)
    rng = np.random.default_rng(1)
    w = np.linspace(0.5, 1.5, 8).astype(np.float32).reshape(8, 1)
    for _ in range(6):
        x = rng.standard_normal((4, 8, 5)).astype(np.float32)
        xt = gpujit.from_numpy(x.copy()).requires_grad_(True)
        fs(xt, gpujit.from_numpy(w)).sum().backward()
        h = x.astype(np.float64) * w
        a, b = h[:, :4], h[:, 4:]
        s = _sig(b)
        want = np.concatenate([s * w[:4], a * s * (1 - s) * w[4:]], 1)
        np.testing.assert_allclose(xt.grad.numpy(), want, rtol=1e-5, atol=1e-6)
