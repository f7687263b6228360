"""Autograd through fused code as PyTorch users use it (session 18 hunt): scripted and
traced, 4 calls each so the optimized plan (fusion groups with DifferentiableGraphBackward)
runs; gradients against NumPy / literal derivatives (torch only for double backward).

Hunted and passing: inputs requiring grad swapped between calls, a Python scalar argument,
an input used twice, outputs not in the loss, two outputs in the loss, `return x, x * 2`,
view outputs, create_graph double backward of gelu/tanh/sigmoid/softplus/silu/mish/pow/div/
where/clamp/elu/erf/atan2/lerp/addcmul chains, float16/float64/mixed and int inputs,
broadcast gradients ((3,1)+(1,4), (4,)+(2,3,4), 0-dim), reductions after a group, detach,
requires_grad_ inside, a leaf changed in place. Traced `with torch.no_grad()` is dropped
by the trace, as PyTorch's tracer does.

Found and fixed: an in-place change of a fused group's output that eager autograd saves
(sigmoid's / exp's result, an operand of mul) gave a gradient instead of PyTorch's "modified
by an inplace operation" error once the optimized plan ran (the profiling run raised): the
functionalization pass folded the write into the group, and DifferentiableGraphBackward,
which recomputes from the group's inputs, checked no output's version; the same through a
plan profiled without gradients (a trace, a no-grad warm-up) then called with them.
Scripted `x.detach_()` did not compile; `Tensor.sum_to_size` was missing.
"""
from __future__ import annotations

import numpy as np
import pytest

import gpujit as torch

_R = np.random.default_rng(1818)
A = _R.standard_normal((3, 4))
B = _R.standard_normal((3, 4))


def _t(a, grad=False, dtype=np.float32):
    return torch.from_numpy(np.array(a, dtype=dtype)).requires_grad_(grad)


def _sig(v):
    return 1 / (1 + np.exp(-v))


def sig_tanh(x, y):
    return (x * y).sigmoid() + y.tanh()


def _sig_tanh_grads(x, y):
    s = _sig(x * y)
    return s * (1 - s) * y, s * (1 - s) * x + 1 - np.tanh(y) ** 2


def _compiled(fn, *example):
    return [torch.jit.script(fn), torch.jit.trace(fn, example)]


@pytest.mark.parametrize("how", [0, 1])
def test_which_inputs_require_grad_changes_between_calls(how):
    f = _compiled(sig_tanh, _t(A), _t(B))[how]
    gx, gy = _sig_tanh_grads(A, B)
    for rx, ry in [(True, False), (False, True), (False, False), (True, True)] * 2:
        x, y = _t(A, rx), _t(B, ry)
        out = f(x, y)
        assert out.requires_grad == (rx or ry)
        if rx or ry:
            out.sum().backward()
        for t, want, r in ((x, gx, rx), (y, gy, ry)):
            if r:
                np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-5, atol=1e-6)
            else:
                assert t.grad is None


def two_outputs(x, y):
    a = (x * y).sigmoid()
    return a, (x + y).tanh(), x


@pytest.mark.parametrize("how", [0, 1])
def test_outputs_in_and_out_of_the_loss_and_returned_inputs(how):
    f = _compiled(two_outputs, _t(A), _t(B))[how]
    s = _sig(A * B)
    for k in range(4):
        x, y = _t(A, True), _t(B, True)
        a, b, xr = f(x, y)
        assert xr is x or np.array_equal(xr.detach().numpy(), x.detach().numpy())
        loss = a.sum() if k % 2 == 0 else a.sum() + (b * 2).sum()
        loss.backward()
        want_x = s * (1 - s) * B + (0 if k % 2 == 0 else 2 * (1 - np.tanh(A + B) ** 2))
        np.testing.assert_allclose(x.grad.numpy(), want_x, rtol=1e-5, atol=1e-6)


def broadcast(x, y):
    return (x * y).tanh() + x


@pytest.mark.parametrize("sx,sy", [((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((), (3, 4))])
def test_broadcast_gradients_sum_to_the_input_shapes(sx, sy):
    xa, ya = _R.standard_normal(sx), _R.standard_normal(sy)
    f = torch.jit.script(broadcast)
    d = 1 - np.tanh(xa * ya) ** 2
    for _ in range(4):
        x, y = _t(xa, True, np.float64), _t(ya, True, np.float64)
        f(x, y).sum().backward()
        assert x.grad.shape == sx and y.grad.shape == sy
        np.testing.assert_allclose(x.grad.numpy(), _sum_to(d * ya + 1, sx), rtol=1e-10)
        np.testing.assert_allclose(y.grad.numpy(), _sum_to(d * xa, sy), rtol=1e-10)


def _sum_to(g, shape):
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


def mixed(x, y):
    return (x * y).sigmoid() + y


def test_float32_times_float64_and_int_inputs():
    f = torch.jit.script(mixed)
    for _ in range(4):
        x, y = _t(A, True), _t(B, True, np.float64)
        out = f(x, y)
        assert out.dtype == torch.float64
        out.sum().backward()
        assert x.grad.dtype == torch.float32 and y.grad.dtype == torch.float64
        s = _sig(A.astype(np.float32).astype(np.float64) * B)
        np.testing.assert_allclose(x.grad.numpy(), s * (1 - s) * B, rtol=1e-5)
        n = _t(np.round(B * 3), dtype=np.int64)
        x = _t(A, True)
        f(x, n).sum().backward()
        s = _sig(A * np.round(B * 3))
        np.testing.assert_allclose(x.grad.numpy(), s * (1 - s) * np.round(B * 3), rtol=1e-5,
                                   atol=1e-6)


def saved_result_changed(x, y):
    z = (x * y).sigmoid()
    z.mul_(2)
    z.add_(y)
    return z.tanh()


def saved_operand_changed(x, y):
    z = x.exp()
    w = z * y
    z.add_(1)
    return w


def unsaved_changed(x, y):
    z = x * y
    z.add_(1)
    return z.sigmoid()


def test_a_dead_inplace_write_of_a_saved_operand_is_dropped_as_torchscript_does():
    # z.add_(1) writes a local nothing reads later: TorchScript's dead code elimination
    # drops it when scripting (torch 2.13's graph: exp, mul, return), so backward runs
    # with z as it was (session 34; this test expected torch's eager error before)
    f = torch.jit.script(saved_operand_changed)
    assert "add_" not in str(f.graph)
    for k in range(3):
        x, y = _t(A, True), _t(B, True)
        f(x, y).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), np.exp(A) * B, rtol=1e-5)
        np.testing.assert_allclose(y.grad.numpy(), np.exp(A), rtol=1e-5)


@pytest.mark.parametrize("fn", [saved_result_changed])
def test_inplace_change_of_a_saved_group_output_raises_every_call(fn):
    f = torch.jit.script(fn)
    for k in range(4):
        x, y = _t(A, True), _t(B, True)
        out = f(x, y)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()
    # without gradients the write is folded into the group as before
    out = f(_t(A), _t(B))
    assert not out.requires_grad


def test_inplace_change_no_derivative_reads_is_no_error():
    f = torch.jit.script(unsaved_changed)
    for _ in range(4):
        x, y = _t(A, True), _t(B, True)
        f(x, y).sum().backward()
        s = _sig(A * B + 1)
        np.testing.assert_allclose(x.grad.numpy(), s * (1 - s) * B, rtol=1e-5, atol=1e-6)


def test_saved_group_output_not_changed_gives_its_gradient():
    # the output sigmoid saved is kept, unchanged: no error, eager's gradient
    f = torch.jit.script(sig_tanh)
    gx, _ = _sig_tanh_grads(A, B)
    for _ in range(4):
        x = _t(A, True)
        out = f(x, _t(B))
        out.sum().backward(retain_graph=True)
        out.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * gx, rtol=1e-5, atol=1e-6)


def hooks(x, y):
    return (x * y).sigmoid() * 2


def test_hooks_retain_grad_and_accumulation():
    f = torch.jit.script(hooks)
    s = _sig(A * B)
    x = _t(A, True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    for k in range(4):
        out = f(x, _t(B))
        out.retain_grad()
        out.register_hook(lambda g: g * 3)
        out.sum().backward()
        # as PyTorch 2: retain_grad sees the gradient after the tensor's other hooks
        np.testing.assert_allclose(out.grad.numpy(), np.full((3, 4), 3.0))
        np.testing.assert_allclose(seen[-1], 6 * s * (1 - s) * B, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), (k + 1) * 6 * s * (1 - s) * B,
                                   rtol=1e-5, atol=1e-6)


CHAINS = ["torch.nn.functional.gelu(x)", "x.tanh()", "x.sigmoid()",
          "torch.nn.functional.softplus(x)", "torch.nn.functional.silu(x)",
          "torch.nn.functional.mish(x)", "x.abs().pow(2.5)", "x / (y * y + 1)",
          "torch.where(x > 0, x * y, y.exp())", "x.clamp(-0.5, 0.5) * y"]


def _chain(body):
    return {
        "torch.nn.functional.gelu(x)": lambda x, y: torch.nn.functional.gelu(x) * y + x,
        "x.tanh()": lambda x, y: x.tanh() * y + x,
        "x.sigmoid()": lambda x, y: x.sigmoid() * y + x,
        "torch.nn.functional.softplus(x)": lambda x, y: torch.nn.functional.softplus(x) * y,
        "torch.nn.functional.silu(x)": lambda x, y: torch.nn.functional.silu(x) * y + x,
        "torch.nn.functional.mish(x)": lambda x, y: torch.nn.functional.mish(x) * y + x,
        "x.abs().pow(2.5)": lambda x, y: x.abs().pow(2.5) * y + x,
        "x / (y * y + 1)": lambda x, y: x / (y * y + 1) * y + x,
        "torch.where(x > 0, x * y, y.exp())": lambda x, y: torch.where(x > 0, x * y,
                                                                        y.exp()) * y,
        "x.clamp(-0.5, 0.5) * y": lambda x, y: x.clamp(-0.5, 0.5) * y * y + x,
    }[body]


@pytest.mark.parametrize("body", CHAINS)
def test_double_backward_of_fused_chains_matches_eager(body):
    fn = _chain(body)
    f = torch.jit.trace(fn, (_t(A, dtype=np.float64), _t(B, dtype=np.float64)))

    def grads(g):
        x, y = _t(A, True, np.float64), _t(B, True, np.float64)
        gx, gy = torch.autograd.grad(g(x, y).sin().sum(), [x, y], create_graph=True)
        return [gx.detach().numpy(), gy.detach().numpy()] + [
            t.numpy() for t in torch.autograd.grad((gx * gx).sum() + (gy * gy).sum(),
                                                   [x, y])]
    want = grads(fn)
    for _ in range(4):
        for g, w in zip(grads(f), want):
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


def detach_inside(x, y):
    z = (x * y).sigmoid() + 1
    z.detach_()
    return z * x + y


def test_detach_in_place_in_scripted_code():
    # TorchScript compiles x.detach_() (aten::detach_); gpujit's frontend did not know it
    f = torch.jit.script(detach_inside)
    assert "z.detach_()" in f.code
    s = _sig(A * B) + 1
    for _ in range(4):
        x = _t(A, True)
        out = f(x, _t(B))
        out.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), s, rtol=1e-5)
        np.testing.assert_allclose(out.detach().numpy(), s * A + B, rtol=1e-5)
    assert not f(_t(A), _t(B)).requires_grad


def exp_then_scaled(x, y):
    z = x.exp()
    z.mul_(y)
    return z.sum(0)


@pytest.mark.parametrize("how", [0, 1])
def test_plan_profiled_without_grad_then_called_with_grad(how):
    # specializations are shared by calls with and without gradients: a plan made from
    # calls (or a trace) without grad folded exp's write into the group, and later calls
    # that record gradients gave one where eager raises
    f = _compiled(exp_then_scaled, _t(A), _t(B))[how]
    for _ in range(3):
        np.testing.assert_allclose(f(_t(A), _t(B)).numpy(), (np.exp(A) * B).sum(0),
                                   rtol=1e-5)
    assert f.graph_for(_t(A), _t(B)).findAllNodes("prim::TensorExprGroup")
    for rx, ry in [(True, True), (False, True), (True, False)] * 2:
        x, y = _t(A, rx), _t(B, ry)
        out = f(x, y)
        if rx:      # exp saved its result, which mul_ changed
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                out.sum().backward()
        else:
            out.sum().backward()
            np.testing.assert_allclose(y.grad.numpy(), np.exp(A.astype(np.float32)),
                                       rtol=1e-5)


def summed_to(x, y):
    return ((x + y).tanh() * 2).sum_to_size(3, 1) + x


def test_sum_to_size_after_a_fused_group():
    # Tensor.sum_to_size was missing (eager, scripted, traced)
    xa, ya = _R.standard_normal((3, 1)), _R.standard_normal((1, 4))
    d = 1 - np.tanh(xa + ya) ** 2
    for f in _compiled(summed_to, _t(xa, dtype=np.float64), _t(ya, dtype=np.float64)):
        for _ in range(4):
            x, y = _t(xa, True, np.float64), _t(ya, True, np.float64)
            out = f(x, y)
            np.testing.assert_allclose(out.detach().numpy(),
                                       (2 * np.tanh(xa + ya)).sum(1, keepdims=True) + xa)
            out.sum().backward()
            np.testing.assert_allclose(x.grad.numpy(), 2 * d.sum(1, keepdims=True) + 1)
            np.testing.assert_allclose(y.grad.numpy(), 2 * d.sum(0, keepdims=True))
    x = _t(np.ones((3, 4)))
    assert x.sum_to_size([4]).shape == (4,) and x.sum_to_size((1, 4)).shape == (1, 4)
    assert x.sum_to_size(size=(3, 1)).shape == (3, 1)
    assert _t(np.ones((3, 4)), dtype=np.int32).sum_to_size(1, 4).dtype == torch.int64
    for bad in [(2,), (1, 3, 4)]:
        with pytest.raises(RuntimeError, match=r"is not expandable to size \{\[3, 4\]\}"):
            x.sum_to_size(*bad)


def no_grad_inside(x, y):
    with torch.no_grad():
        z = (x * y).sigmoid()
    return z * x + y.tanh()


def test_no_grad_block_inside_a_scripted_function():
    f = torch.jit.script(no_grad_inside)
    s = _sig(A * B)
    for _ in range(4):
        x, y = _t(A, True), _t(B, True)
        f(x, y).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), s, rtol=1e-5)      # z is a constant
        np.testing.assert_allclose(y.grad.numpy(), 1 - np.tanh(B) ** 2, rtol=1e-5, atol=1e-6)


def test_autocast_around_a_scripted_fused_function_with_backward():
    def mm_chain(x, w):
        h = torch.mm(x, w)
        return (h.sigmoid() * h + x).tanh()
    f = torch.jit.script(mm_chain)
    xa, wa = _R.standard_normal((4, 4)), _R.standard_normal((4, 4))
    for _ in range(4):
        x, w = _t(xa, True), _t(wa, True)
        with torch.autocast("cpu", dtype=torch.float16):
            out = f(x, w)
        assert out.dtype == torch.float32       # float16 h + float32 x promotes
        out.sum().backward()
        assert x.grad.dtype == torch.float32 and w.grad.dtype == torch.float32
        h = xa.astype(np.float16).astype(np.float64) @ wa.astype(np.float16)
        u = _sig(h) * h + xa
        gu = 1 - np.tanh(u) ** 2
        gh = gu * (_sig(h) * (1 - _sig(h)) * h + _sig(h))
        np.testing.assert_allclose(w.grad.numpy(), xa.T @ gh, rtol=2e-2, atol=2e-2)
