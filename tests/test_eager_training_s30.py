"""Session 30 (b30): the eager training step's fast paths keep every value and every
behaviour of the Tensor formulas.

- Derivative.raw (linear, mm, addmm, relu, mse_loss): a backward that records nothing runs
  the formulas' registry calls on the arrays; the gradients are bit for bit those of the
  Tensor formulas (which create_graph=True, a profiler or unpack hooks still run) and of
  a NumPy replay of the same calls.
- .grad accumulation by one add ufunc into .grad's array (same object, version bumped).
- linear's and mse_loss's eager bodies without the checks and casts of their general path.
"""
import numpy as np
import pytest

import gpujit as torch
from gpujit.autograd import graph as _graph
from gpujit.ops.reduction_cascade import cascade_sum as _cascade_sum


def cascade_sum(a, axes, keepdim):
    """gpujit's float sum: PyTorch's CPU order on x86 (reduction_cascade), NumPy's where
    that order is unknown (cascade_sum gives None there)."""
    r = _cascade_sum(a, axes, keepdim)
    return np.add.reduce(a, axis=axes, keepdims=keepdim) if r is None else r


nn = torch.nn
F = torch.nn.functional


def _bits(t):
    a = t.detach().numpy()
    return a.dtype, a.shape, np.ascontiguousarray(a).tobytes()


def _mlp(dt=torch.float32, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 8), nn.ReLU(),
                         nn.Linear(8, 4)).to(dt)


def _grads_backward(model, x, y, reduction="mean"):
    for p in model.parameters():
        p.grad = None
    loss = F.mse_loss(model(x), y, reduction=reduction)
    loss.backward()
    return [p.grad for p in model.parameters()]


def _grads_formulas(model, x, y, reduction="mean"):
    """The Tensor formulas' gradients: create_graph=True records the backward, so the
    raw forms do not run."""
    loss = F.mse_loss(model(x), y, reduction=reduction)
    return list(torch.autograd.grad(loss, list(model.parameters()), create_graph=True))


@pytest.mark.parametrize("dt", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mlp_gradients_match_the_tensor_formulas_bit_for_bit(dt, reduction):
    model = _mlp(dt)
    x = torch.randn(10, 16, dtype=dt)
    y = torch.randn(10, 4, dtype=dt)
    fast = _grads_backward(model, x, y, reduction)
    slow = _grads_formulas(model, x, y, reduction)
    for a, b in zip(fast, slow):
        assert _bits(a) == _bits(b)
        assert a.is_contiguous()


def test_mlp_gradients_match_a_numpy_replay():
    model = _mlp()
    x = torch.randn(10, 16)
    y = torch.randn(10, 4)
    got = _grads_backward(model, x, y)
    W = [m.weight.detach().numpy() for m in model if isinstance(m, nn.Linear)]
    B = [m.bias.detach().numpy() for m in model if isinstance(m, nn.Linear)]
    xa, ya = x.numpy(), y.numpy()
    h0 = np.matmul(xa, W[0].T) + B[0]
    r0 = np.maximum(h0, np.float32(0))
    h1 = np.matmul(r0, W[1].T) + B[1]
    r1 = np.maximum(h1, np.float32(0))
    out = np.matmul(r1, W[2].T) + B[2]
    # mse_loss's backward: (2 * d) * (1 / n), then linear / relu backward (the bias
    # gradient: a sum over the batch, in PyTorch's CPU order: reduction_cascade)
    g = np.multiply(np.multiply(np.subtract(out, ya), 2),
                    np.true_divide(np.ones((), np.float32), out.size))
    want = []
    for i, inp in ((2, r1), (1, r0), (0, xa)):
        want[:0] = [np.matmul(g.T, inp), cascade_sum(g, (0,), False)]
        if i:
            g = np.matmul(g, W[i])
            g = np.where(np.greater((r1, r0)[2 - i], 0), g, 0.0).astype(np.float32)
    for a, w in zip(got, want):
        assert a.numpy().dtype == w.dtype
        assert a.numpy().tobytes() == np.ascontiguousarray(w).tobytes()


def test_mlp_gradients_close_to_torch():
    tt = pytest.importorskip("torch")
    model = _mlp()
    x = torch.randn(10, 16)
    y = torch.randn(10, 4)
    got = _grads_backward(model, x, y)
    ref = tt.nn.Sequential(tt.nn.Linear(16, 12), tt.nn.ReLU(), tt.nn.Linear(12, 8),
                           tt.nn.ReLU(), tt.nn.Linear(8, 4))
    with tt.no_grad():
        for p, q in zip(ref.parameters(), model.parameters()):
            p.copy_(tt.from_numpy(q.detach().numpy().copy()))
    tt.nn.functional.mse_loss(ref(tt.from_numpy(x.numpy().copy())),
                              tt.from_numpy(y.numpy().copy())).backward()
    for a, p in zip(got, ref.parameters()):
        np.testing.assert_allclose(a.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-6)


_INPUTS = {
    "3d": lambda: torch.randn(3, 5, 16),
    "1d": lambda: torch.randn(16),
    "transposed": lambda: torch.randn(16, 6).t(),
    "strided": lambda: torch.randn(6, 32)[:, ::2],
}


@pytest.mark.parametrize("case", ["3d", "1d", "transposed", "strided"])
def test_linear_layouts_and_ranks_match_the_formulas(case):
    lin = nn.Linear(16, 8)
    torch.manual_seed(2)
    inp = _INPUTS[case]().detach().requires_grad_(True)
    t = torch.randn(*lin(inp).shape)

    def run(create_graph):
        out = F.mse_loss(torch.relu(lin(inp)), t)
        return torch.autograd.grad(out, [inp, lin.weight, lin.bias],
                                   create_graph=create_graph)

    for a, b in zip(run(False), run(True)):
        assert _bits(a) == _bits(b)


def test_mixed_dtypes_and_broadcast_fall_back_to_the_formulas():
    torch.manual_seed(3)
    w = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    x = torch.randn(3, 4, dtype=torch.float64)
    y = torch.randn(3, 5)                               # float32 target: promotes
    a = torch.autograd.grad(F.mse_loss(F.linear(x, w), y), w)[0]
    b = torch.autograd.grad(F.mse_loss(F.linear(x, w), y), w, create_graph=True)[0]
    assert _bits(a) == _bits(b)
    s = torch.randn(3, 1, requires_grad=True)           # broadcast in mse_loss
    with pytest.warns(UserWarning):
        g1 = torch.autograd.grad(F.mse_loss(s, torch.randn(3, 5)), s)[0]
    assert g1.shape == (3, 1)


def test_mm_and_addmm_match_the_formulas():
    torch.manual_seed(4)
    a = torch.randn(7, 5, requires_grad=True)
    b = torch.randn(5, 3, requires_grad=True)
    c = torch.randn(3, requires_grad=True)
    m = torch.randn(7, 3)
    for f in (lambda: (torch.mm(a, b) * m).sum(),
              lambda: (torch.addmm(c, a, b).relu() * m).sum(),
              lambda: (torch.addmm(c, a, b, beta=0.5, alpha=2.0) * m).sum(),
              lambda: (torch.mm(a, b.detach()) * m).sum()):
        ins = [a, b, c]
        g1 = torch.autograd.grad(f(), ins, allow_unused=True)
        g2 = torch.autograd.grad(f(), ins, allow_unused=True, create_graph=True)
        for x1, x2 in zip(g1, g2):
            assert (x1 is None) == (x2 is None)
            if x1 is not None:
                assert _bits(x1) == _bits(x2)


def test_raw_path_runs_for_the_mlp_and_not_under_create_graph(monkeypatch):
    calls = []
    orig = _graph.OpBackward._apply_raw

    def spy(self, grad):
        out = orig(self, grad)
        calls.append((type(self).__name__, out is not None))
        return out

    monkeypatch.setattr(_graph.OpBackward, "_apply_raw", spy)
    # a Tensor subclass class an earlier test defined keeps the __torch_function__ layer
    # on (and the raw path off) until the cyclic GC collects it: collect it now
    import gc
    gc.collect()
    model = _mlp()
    x, y = torch.randn(4, 16), torch.randn(4, 4)
    F.mse_loss(model(x), y).backward()
    # (F.linear of a matrix: torch's addmm(b, x, w.t()), TBackward0 for the weight, c49)
    assert sorted(set(calls)) == [("AddmmBackward0", True), ("MseLossBackward0", True),
                                  ("ReluBackward0", True), ("TBackward0", True)]
    calls.clear()
    torch.autograd.grad(F.mse_loss(model(x), y), list(model.parameters()),
                        create_graph=True)
    assert calls == []


def test_unpack_hooks_run_once_and_through_the_formulas():
    model = _mlp()
    x, y = torch.randn(4, 16), torch.randn(4, 4)
    unpacked = []

    def pack(t):
        return t

    def unpack(t):
        unpacked.append(t.shape)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        loss = F.mse_loss(model(x), y)
    loss.backward()
    # once each: mse (self, target), linear x3 (input where the weight needs it, weight
    # where the input does: the first layer's input needs none), relu x2 (result)
    assert len(unpacked) == 2 + 2 + 1 + 2 + 1 + 1
    ref = _grads_formulas(model, x, y)
    for p, r in zip(model.parameters(), ref):
        assert _bits(p.grad) == _bits(r)


def test_hooks_still_see_the_gradients():
    model = _mlp()
    x, y = torch.randn(4, 16), torch.randn(4, 4)
    seen = {}
    h = model[0](x)
    def tensor_hook(g):
        seen["tensor"] = g.clone()

    h.register_hook(tensor_hook)
    def module_hook(m, gi, go):
        seen["module"] = (gi[0].shape, go[0].shape)

    model[2].register_full_backward_hook(module_hook)
    def post(p):
        seen["post"] = p.grad.clone()

    model[4].weight.register_post_accumulate_grad_hook(post)
    doubled = model[4].bias.register_hook(lambda g: g * 2)
    out = model[4](model[3](model[2](model[1](h))))
    F.mse_loss(out, y).backward()
    assert seen["module"] == ((4, 12), (4, 8))
    assert seen["tensor"].shape == (4, 12)
    assert _bits(seen["post"]) == _bits(model[4].weight.grad)
    doubled.remove()
    b1 = model[4].bias.grad.clone()
    model.zero_grad()
    F.mse_loss(model(x), y).backward()
    assert _bits(b1) == _bits(model[4].bias.grad * 2)


def test_retain_graph_and_in_place_errors_unchanged():
    model = _mlp()
    x, y = torch.randn(4, 16), torch.randn(4, 4)
    loss = F.mse_loss(model(x), y)
    loss.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second "
                                           "time"):
        loss.backward()
    loss = F.mse_loss(model(x), y)
    with torch.no_grad():
        model[2].weight.mul_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    h = torch.relu(torch.randn(3, 4, requires_grad=True))
    s = h.sum()
    h.add_(1)
    with pytest.raises(RuntimeError, match=r"is at version 1; expected version 0"):
        s.backward()


def test_accumulation_keeps_the_grad_object_and_bumps_its_version():
    model = _mlp()
    x, y = torch.randn(4, 16), torch.randn(4, 4)
    F.mse_loss(model(x), y).backward()
    grads = [p.grad for p in model.parameters()]
    first = [g.clone() for g in grads]
    versions = [g._version for g in grads]
    F.mse_loss(model(x), y).backward()
    for p, g, f, v in zip(model.parameters(), grads, first, versions):
        assert p.grad is g
        assert g._version == v + 1
        assert _bits(g) == _bits(f + f)
    # zero_grad(set_to_none=False): the same tensors, zeroed, then filled again
    model.zero_grad(set_to_none=False)
    F.mse_loss(model(x), y).backward()
    for p, g, f in zip(model.parameters(), grads, first):
        assert p.grad is g and _bits(g) == _bits(f)


def test_accumulation_into_a_strided_or_read_only_grad():
    w = torch.randn(3, 4, requires_grad=True)
    g0 = torch.randn(4, 3).t()                  # a transposed view as .grad
    w.grad = g0
    keep = g0.clone()
    (w * 2).sum().backward()
    assert w.grad is g0
    np.testing.assert_array_equal(w.grad.numpy(), keep.numpy() + 2)
    v = torch.randn(3, requires_grad=True)
    v.grad = torch.zeros(1).expand(3)           # expanded: PyTorch's overlap error
    with pytest.raises(RuntimeError, match="single memory location"):
        (v * 1).sum().backward()


def test_double_backward_through_linear_and_mse():
    torch.manual_seed(5)
    w = torch.randn(3, 4, requires_grad=True)
    x = torch.randn(2, 4)
    y = torch.randn(2, 3)
    (gw,) = torch.autograd.grad(F.mse_loss(F.linear(x, w), y), w, create_graph=True)
    (gg,) = torch.autograd.grad(gw.pow(2).sum(), w)
    # d/dw |dL/dw|^2 with dL/dw = 2/n (w x^T - y^T) x: 2 * (2/n) * (dL/dw) x^T x
    n = 6
    ref = 2 * (2 / n) * gw.detach().numpy() @ (x.numpy().T @ x.numpy())
    np.testing.assert_allclose(gg.numpy(), ref, rtol=1e-5, atol=1e-6)


def test_anomaly_mode_and_profiler_see_the_formulas():
    model = _mlp()
    x, y = torch.randn(4, 16), torch.randn(4, 4)
    with torch.autograd.profiler.profile() as prof:
        F.mse_loss(model(x), y).backward()
    names = {e.name for e in prof.function_events}
    # (relu's derivative is aten::threshold_backward since session 43, as torch's)
    # (addmm's formula: aten::mm, as torch's AddmmBackward0, since c49's F.linear)
    assert {"aten::mm", "aten::threshold_backward", "aten::sub"} <= names
    w = torch.randn(3, 4, requires_grad=True)
    with torch.autograd.detect_anomaly():
        out = F.linear(torch.tensor([[float("nan"), 1.0, 1.0, 1.0]]), w)
        with pytest.warns(UserWarning, match="Error detected in"):
            with pytest.raises(RuntimeError, match="returned nan values"):
                F.mse_loss(out, torch.zeros(1, 3)).backward()


def test_linear_and_mse_forward_values_unchanged():
    torch.manual_seed(6)
    for dt in (np.float32, np.float64):
        x = np.random.RandomState(0).randn(5, 7).astype(dt)
        w = np.random.RandomState(1).randn(3, 7).astype(dt)
        b = np.random.RandomState(2).randn(3).astype(dt)
        got = F.linear(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b))
        assert got.numpy().tobytes() == (np.matmul(x, w.T) + b).tobytes()
        t = np.random.RandomState(3).randn(5, 3).astype(dt)
        for red in ("mean", "sum", "none"):
            m = F.mse_loss(got, torch.from_numpy(t), reduction=red).numpy()
            sq = (np.matmul(x, w.T) + b - t) ** 2
            total = cascade_sum(sq, None, False)
            ref = {"none": sq, "sum": total, "mean": np.true_divide(total, sq.size)}
            assert m.dtype == dt and m.tobytes() == np.asarray(ref[red], dt).tobytes()
    # refusals of the general path still reached
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype|"
                                           "same dtype"):
        F.linear(torch.randn(2, 3), torch.randn(4, 3, dtype=torch.float64))
    with pytest.raises(RuntimeError):
        F.linear(torch.randn(2, 3), torch.randn(4, 5))


def test_training_step_matches_numpy_sgd():
    model = _mlp()
    x, y = torch.randn(6, 16), torch.randn(6, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    opt.zero_grad()
    F.mse_loss(model(x), y).backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    opt.step()
    # (torch 2.13's CPU SGD is p.add_(g, alpha=-lr): one fused multiply-add, rounded once;
    # b - f32(0.1) * g rounds twice and differs in the last bit for a few elements)
    from gpujit.ops.fma import fma32
    for p, b, g in zip(model.parameters(), before, grads):
        np.testing.assert_array_equal(p.detach().numpy(), fma32(g, np.float32(-0.1), b))
