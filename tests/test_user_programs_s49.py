"""User programs of session 49 (f49): realistic scripts (char-RNN, VAE, GAN step, seq2seq
with attention, ResNet block, U-Net, Transformer decoder, custom autograd Functions,
hooks, bfloat16 autocast with GradScaler, lr schedulers ...) run with gpujit and, where
torch is importable, compared with torch 2.13. Expected values are also pinned in the
tests (computed with torch 2.13 on the CPU) so that they run without torch (CI has none)."""
import numpy as np
import pytest

import gpujit
import gpujit.nn as nn
import gpujit.nn.functional as F


def _torch():
    return pytest.importorskip("torch")


# ------------------------------------- custom autograd.Function: its node's repr

def _my_exp(lib):
    class MyExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            y = lib.exp(x * k)
            ctx.save_for_backward(y)
            ctx.k = k
            return y

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y * ctx.k, None
    return MyExp


def test_custom_function_node_repr_is_its_python_class():
    # a custom Function's node is a Python class in PyTorch
    # (torch.autograd.function.MyExpBackward): its repr is object's, module-qualified,
    # where the C++ nodes print their bare name (<MulBackward0 object at 0x...>)
    x = gpujit.tensor([0.5, -1.0], requires_grad=True)
    y = _my_exp(gpujit).apply(x, 2.0)
    r = repr(y.grad_fn)
    assert r.startswith("<gpujit.autograd.function.MyExpBackward object at 0x"), r
    assert type(y.grad_fn).__name__ == "MyExpBackward" == y.grad_fn.name()
    assert repr((x * 2).grad_fn).startswith("<MulBackward0 object at 0x")
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * np.array([0.5, -1.0])),
                               rtol=1e-6)


def test_custom_function_node_repr_matches_torch():
    torch = _torch()
    reprs = []
    for lib in (torch, gpujit):
        y = _my_exp(lib).apply(lib.ones(2, requires_grad=True), 2.0)
        reprs.append(repr(y.grad_fn).split(" object at ")[0].replace("gpujit.", "torch."))
    assert reprs[0] == reprs[1]


# --------------- bfloat16 LayerNorm backward (autocast training): ATen's kernel's steps

def _ln_inputs():
    x = np.sin(np.arange(40, dtype=np.float32) * 0.7).reshape(5, 8) * 2
    g = np.cos(np.arange(40, dtype=np.float32) * 1.3).reshape(5, 8)
    w = (np.arange(8, dtype=np.float32) - 3.5) / 3
    b = np.linspace(-1, 1, 8, dtype=np.float32)
    return x, g, w, b


def _ln_grads(lib, threads, wdt):
    x, g, w, b = _ln_inputs()
    was = lib.get_num_threads()
    lib.set_num_threads(threads)
    try:
        X = lib.tensor(x).bfloat16().requires_grad_()
        W = lib.tensor(w).to(wdt).requires_grad_()
        B = lib.tensor(b).to(wdt).requires_grad_()
        y = lib.nn.functional.layer_norm(X, (8,), W, B)
        y.backward(lib.tensor(g).bfloat16())
    finally:
        lib.set_num_threads(was)
    assert y.dtype == lib.bfloat16 and X.grad.dtype == lib.bfloat16
    assert W.grad.dtype == wdt and B.grad.dtype == wdt
    return W.grad.tolist(), B.grad.tolist(), X.grad[1].tolist()


# torch 2.13 (CPU): a bfloat16 input with float32 (mixed type) or bfloat16 parameters;
# dgamma / dbeta go through one bfloat16 buffer per thread (ATen's two-pass reduction),
# so they depend on torch.get_num_threads()
_LN_EXPECTED = {
    (1, "float32"): ([0.2490234375, -0.0123291015625, -0.92578125, -0.306640625,
                      0.003753662109375, -0.58203125, 0.2470703125, 0.93359375],
                     [0.3203125, 0.859375, 0.140625, -0.78515625, -0.5625, 0.48828125,
                      0.8203125, -0.046875]),
    (2, "float32"): ([0.24609375, -0.015625, -0.923828125, -0.306884765625, 0.00341796875,
                      -0.5859375, 0.25, 0.93359375],
                     [0.31640625, 0.859375, 0.1396484375, -0.78515625, -0.55859375,
                      0.48828125, 0.81640625, -0.046875]),
    (4, "float32"): ([0.248046875, -0.01171875, -0.921875, -0.305419921875, 0.0078125,
                      -0.58203125, 0.24786376953125, 0.9365234375],
                     [0.31640625, 0.859375, 0.140625, -0.786865234375, -0.5625, 0.48828125,
                      0.8203125, -0.046875]),
    (1, "bfloat16"): ([0.2490234375, -0.010986328125, -0.921875, -0.3046875, 0.0078125,
                       -0.58203125, 0.2451171875, 0.93359375],
                      [0.3203125, 0.859375, 0.140625, -0.78515625, -0.5625, 0.48828125,
                       0.8203125, -0.046875]),
    (2, "bfloat16"): ([0.24609375, -0.0078125, -0.921875, -0.3046875, 0.00830078125,
                       -0.5859375, 0.25, 0.9296875],
                      [0.31640625, 0.859375, 0.1396484375, -0.78515625, -0.55859375,
                       0.48828125, 0.81640625, -0.046875]),
}
_LN_DX = {"float32": [0.06591796875, -0.546875, -0.1884765625, 0.330078125, 0.12255859375,
                      -0.138671875, 0.1943359375, 0.1611328125],
          "bfloat16": [0.06689453125, -0.546875, -0.1884765625, 0.328125, 0.12060546875,
                       -0.138671875, 0.1943359375, 0.162109375]}


@pytest.mark.parametrize("threads,wname", sorted(_LN_EXPECTED))
def test_bfloat16_layer_norm_backward_is_atens_bit_for_bit(threads, wname):
    gw, gb, gx = _ln_grads(gpujit, threads, getattr(gpujit, wname))
    assert (gw, gb) == _LN_EXPECTED[(threads, wname)]
    assert gx == _LN_DX[wname]


@pytest.mark.parametrize("threads", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("wname", ["float32", "bfloat16"])
def test_bfloat16_layer_norm_backward_matches_torch(threads, wname):
    torch = _torch()
    assert _ln_grads(gpujit, threads, getattr(gpujit, wname)) == \
        _ln_grads(torch, threads, getattr(torch, wname))


def test_layer_norm_backward_under_autocast_with_grad_scaler_matches_torch():
    # a bfloat16 autocast training step: Linear -> GELU -> LayerNorm (float32 parameters,
    # bfloat16 activations: the mixed-type kernel) -> Linear, scaled loss, unscale_, clip
    torch = _torch()
    got = []
    for lib in (torch, gpujit):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.GELU(), lib.nn.LayerNorm(8),
                              lib.nn.Linear(8, 3))
        opt = lib.optim.SGD(m.parameters(), lr=0.05)
        scaler = lib.amp.GradScaler("cpu", init_scale=2. ** 8, growth_interval=2)
        X, Y = lib.randn(8, 6), lib.randint(0, 3, (8,))
        out = []
        for step in range(2):
            with lib.autocast("cpu", dtype=lib.bfloat16):
                loss = lib.nn.functional.cross_entropy(m(X), Y)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            out.append(m[2].weight.grad.tolist() + m[2].bias.grad.tolist())
            out.append(lib.nn.utils.clip_grad_norm_(m.parameters(), 0.5).item())
            scaler.step(opt)
            scaler.update()
            opt.zero_grad()
        out.append(scaler.get_scale())
        got.append(out)
    assert got[0] == got[1]
