"""Scripted training steps on the CPU (session 47): the calls that record gradients run
the executor's recording plan (runtime/executor._recording_plan) and not the node-by-node
interpreter, for the graphs of attention (F.scaled_dot_product_attention's checks,
nn.MultiheadAttention, nn.TransformerEncoderLayer); results are the interpreter's bit
for bit. Speed is measured in benchmarks/script_training.py, not here."""
from __future__ import annotations

import math
import warnings
from typing import List

import numpy as np
import pytest

import gpujit
import gpujit.runtime.executor as _ex

nn, F = gpujit.nn, gpujit.nn.functional


def _spec(fn):
    exe = fn.forward._executable if hasattr(fn, "forward") else fn._executable
    return exe.specializations[-1]


def _kinds(plan):
    """The step kinds of a recording plan, branches and loop bodies included."""
    out = set()

    def walk(steps):
        for st in steps:
            out.add(st[0])
            if st[0] == 4:
                for bsteps, _ in st[4]:
                    walk(bsteps)
            elif st[0] == 5:
                walk(st[4][0])
    walk(plan[4])
    return out


def _grads(m):
    return [p.grad.numpy().copy() for p in m.parameters()]


def _steps(make, x_np, t_np, n=4, no_plan=False, monkeypatch=None):
    """n training calls (forward, mse_loss, backward) of a fresh scripted module: its
    losses, last gradients and the module."""
    if no_plan:
        monkeypatch.setattr(_ex, "_recording_plan", lambda *a, **k: None)
    gpujit.manual_seed(0)
    s = gpujit.jit.script(make())
    x, t = gpujit.from_numpy(x_np), gpujit.from_numpy(t_np)
    losses = []
    for _ in range(n):
        for p in s.parameters():
            p.grad = None
        loss = F.mse_loss(s(x), t)
        loss.backward()
        losses.append(loss.item())
    if no_plan:
        monkeypatch.undo()
    return losses, _grads(s), s


class _SDPA(nn.Module):
    def __init__(self, C=16, H=2):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.n_head, self.n_embd = H, C

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0,
                                           is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


def _encoder():
    return nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)


def _mha():
    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = nn.MultiheadAttention(16, 2, batch_first=True)

        def forward(self, x):
            return self.mha(x, x, x, need_weights=False)[0]
    return SelfAttention()


_X = np.random.default_rng(0).standard_normal((2, 5, 16)).astype(np.float32)
_T = np.random.default_rng(1).standard_normal((2, 5, 16)).astype(np.float32)


@pytest.mark.parametrize("make", [_SDPA, _encoder, _mha], ids=["sdpa", "encoder", "mha"])
def test_attention_training_call_runs_the_recording_plan(make, monkeypatch):
    # (its graph unpacks lists, reads x.dtype / x.device, tests `key is value` and holds
    # `raise` in untaken branches: the plan left all of it to the interpreter)
    losses, grads, s = _steps(make, _X, _T)
    plan = _spec(s).recording
    # (x.size(0), int arithmetic: their eager bodies without the autograd layer, step 8)
    assert plan is not None and {6, 7} & _kinds(plan) and 8 in _kinds(plan)
    ref_losses, ref_grads, _ = _steps(make, _X, _T, no_plan=True, monkeypatch=monkeypatch)
    assert losses == ref_losses
    for a, b in zip(grads, ref_grads):
        np.testing.assert_array_equal(a, b)


def _checked(x, y):
    xs: List[int] = x.shape
    n, d = xs
    if y.size(0) != n:
        raise ValueError("expected {} rows, got {}".format(n, y.size(0)))
    if x is y:
        return x * 2.0
    z = (x @ y.t()).to(y.dtype)
    if z.dtype != x.dtype or z.device != y.device:
        raise RuntimeError("no")
    return z.tanh() * float(d)


def _run_checked(fn, a, b):
    x = gpujit.from_numpy(a).requires_grad_()
    y = gpujit.from_numpy(b)
    try:
        out = fn(x, y)
    except Exception as e:
        return type(e).__name__, str(e).splitlines()[-1]   # (TorchScript's: its last line)
    out.sum().backward()
    return out.detach().numpy(), x.grad.numpy()


def test_value_prims_container_ops_and_raise_in_the_plan(monkeypatch):
    a = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    b = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    bad = np.ones((2, 4), np.float32)
    s = gpujit.jit.script(_checked)
    got = [_run_checked(s, a, b) for _ in range(3)] + [_run_checked(s, a, bad)]
    plan = _spec(s).recording
    assert plan is not None and {6, 7, 8} <= _kinds(plan)
    monkeypatch.setattr(_ex, "_recording_plan", lambda *a, **k: None)
    ref_fn = gpujit.jit.script(_checked)
    ref = [_run_checked(ref_fn, a, b) for _ in range(3)] + [_run_checked(ref_fn, a, bad)]
    monkeypatch.undo()
    for (o, g), (ro, rg) in zip(got[:3], ref[:3]):
        np.testing.assert_array_equal(o, ro)
        np.testing.assert_array_equal(g, rg)
    # the raise of a branch the profiling runs did not take, as the interpreter's and
    # Python's
    assert got[3] == ref[3] == ("ValueError", "builtins.ValueError: expected 3 rows, got 2")
    # the values: the hand-written forward and gradient
    t = np.tanh(a @ b.T)
    np.testing.assert_allclose(got[0][0], 4 * t, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[0][1], 4 * (1 - t * t) @ b, rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_encoder_layer_training_matches_torch():
    torch = pytest.importorskip("torch")
    losses, grads, s = _steps(_encoder, _X, _T)
    torch.manual_seed(0)
    m = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
    m.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                       for k, v in s.state_dict().items()})
    ts = torch.jit.script(m)
    x, t = torch.from_numpy(_X), torch.from_numpy(_T)
    for _ in range(4):
        ts.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(ts(x), t)
        loss.backward()
    assert math.isclose(loss.item(), losses[-1], rel_tol=1e-5)
    for (name, p), g in zip(ts.named_parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-4, atol=1e-6, err_msg=name)


# ------------------------------------------------ calls recording op by op (no profile)

class _Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        B, _ = x.size()                 # (the trace's size arithmetic: NumToTensor)
        new_h = gpujit.tanh(self.linear(x) + h).view(B, -1)
        return new_h, new_h


def _cell_calls(tr, xs, h):
    out = []
    for x in xs:
        for p in tr.parameters():
            p.grad = None
        a, _ = tr(x, h)
        out.append(type(a.grad_fn).__name__)
        a.sum().backward()
        out.append(a.detach().numpy().copy())
        out.extend(p.grad.numpy().copy() for p in tr.parameters())
    return out


def test_traced_module_profiled_without_grad_records_op_by_op_through_a_plan(monkeypatch):
    # (trace's check_trace runs the trace under no_grad, as PyTorch's: that run is the
    # profiling run, and later calls recording gradients run op by op, as TorchScript's
    # fallback graph; they ran through the node-by-node interpreter)
    rng = np.random.default_rng(4)
    xs = [gpujit.from_numpy(rng.standard_normal((3, 4)).astype(np.float32))
          for _ in range(3)]
    h = gpujit.from_numpy(rng.standard_normal((3, 4)).astype(np.float32))

    def traced():
        gpujit.manual_seed(0)
        return gpujit.jit.trace(_Cell(), (xs[0], h))
    tr = traced()
    got = _cell_calls(tr, xs, h)
    exe = tr.forward._executable
    assert exe.stats["profiling_runs"] == 1 and exe.specializations[-1].profiled_without_grad
    plan = exe._op_by_op_plan
    assert plan and 6 in _kinds(plan) and 4 not in _kinds(plan)
    monkeypatch.setattr(_ex.Executable, "_op_by_op", lambda self, args:
                        _ex.interpret(self.graph, *args))
    ref = _cell_calls(traced(), xs, h)
    monkeypatch.undo()
    assert got[0] == ref[0] == "ViewBackward0"        # (op by op, as torch 2.13's)
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)
    # against the hand-written step
    gpujit.manual_seed(0)
    w, b = (p.detach().numpy() for p in _Cell().parameters())
    t = np.tanh(xs[-1].numpy() @ w.T + b + h.numpy())
    np.testing.assert_allclose(got[-3], t, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[-2], (1 - t * t).T @ xs[-1].numpy(), rtol=1e-4, atol=1e-5)



# ------------------------------------------------ ranks the key fixes, through views

def _batched(x):
    q = x.transpose(0, 1)
    if q.dim() != 3:
        raise ValueError("expected a batch, got {} dims".format(q.dim()))
    v = q.unsqueeze(0).view(2, 3, -1, 1)
    u = x.squeeze(0)                    # (its rank depends on a size: stays read)
    return v.relu() * float(v.dim()) + float(u.dim())


def test_rank_of_a_view_of_an_input_is_a_constant_of_its_specialization():
    s = gpujit.jit.script(_batched)
    a = np.random.default_rng(5).standard_normal((3, 2, 4)).astype(np.float32)
    x = gpujit.from_numpy(a)
    for _ in range(3):
        out = s(x)
    kinds = [n.kind for n in _spec(s)._exe_graph.walk()]
    assert kinds.count("aten::dim") == 1 and "prim::RaiseException" not in kinds
    want = np.maximum(a.transpose(1, 0, 2)[None].reshape(2, 3, -1, 1), 0) * 4 + 3
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)
    # (another rank is another specialization: the check raises there)
    with pytest.raises(ValueError, match="expected a batch, got 2 dims"):
        s(gpujit.from_numpy(a[0]))


def test_batch_first_encoder_layer_graph_reads_no_rank():
    # (MultiheadAttention's is_batched and shape checks of query.transpose(1, 0), and the
    # `query is key` branches they guard: gone from the specialization)
    gpujit.manual_seed(0)
    s = gpujit.jit.script(_encoder())
    x = gpujit.from_numpy(_X)
    with gpujit.no_grad():
        for _ in range(3):
            y = s(x)
    kinds = [n.kind for n in _spec(s)._exe_graph.walk()]
    assert "aten::dim" not in kinds and "aten::__is__" not in kinds
    gpujit.manual_seed(0)
    with gpujit.no_grad():
        np.testing.assert_allclose(y.numpy(), _encoder()(x).numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------ list(k.shape) != list(v.shape)

def _same_shapes(k, v):
    if list(k.shape) != list(v.shape):
        raise AssertionError(f"key shape {list(k.shape)} does not match value shape "
                             f"{list(v.shape)}")
    return k * 2.0 + v


def test_int_list_compare_of_fresh_lists_is_python_in_the_generated_code():
    # (MultiheadAttention's check: a boxed aten::ne.int_list call per call before)
    s = gpujit.jit.script(_same_shapes)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = gpujit.from_numpy(a)
    with gpujit.no_grad():
        for _ in range(3):
            out = s(x, x)
        src = _spec(s).source
        assert "_op_ne(" not in src and " != " in src
        np.testing.assert_array_equal(out.numpy(), a * 3)
        with pytest.raises(AssertionError, match=r"key shape \[2, 3\] does not match "
                                                 r"value shape \[3, 2\]"):
            s(x, gpujit.from_numpy(a.T.copy()))


def test_scripted_module_first_called_without_grad_trains_op_by_op_through_a_plan(
        monkeypatch):
    # (its specialization was profiled with grad mode off: later calls recording
    # gradients run op by op, as TorchScript's fallback; now through the plan)
    def run(no_plan=False):
        if no_plan:
            monkeypatch.setattr(_ex.Executable, "_op_by_op", lambda self, args:
                                _ex.interpret(self.graph, *args))
        gpujit.manual_seed(0)
        s = gpujit.jit.script(_encoder())
        x, t = gpujit.from_numpy(_X), gpujit.from_numpy(_T)
        with gpujit.no_grad():
            s(x)
        out = []
        for _ in range(2):
            for p in s.parameters():
                p.grad = None
            loss = F.mse_loss(s(x), t)
            loss.backward()
            out.append(loss.item())
            out.extend(_grads(s))
        monkeypatch.undo()
        return s, out
    s, got = run()
    plan = s.forward._executable._op_by_op_plan
    assert plan and 4 in _kinds(plan)
    _, ref = run(no_plan=True)
    assert got[0] == ref[0]
    for a, b in zip(got[1:], ref[1:]):
        np.testing.assert_array_equal(a, b)


def _warns_in_a_loop(x, n: int):
    for i in range(n):
        if i >= 1:
            warnings.warn("late trip")
        x = x * 2.0
    return x


def test_warning_in_a_recording_plan_shows_once_per_call(monkeypatch):
    # (as the interpreter's and TorchScript's: a node warns once per call)
    s = gpujit.jit.script(_warns_in_a_loop)
    a = np.float32([1.0, -2.0])

    def calls(fn):
        out = []
        for n in (1, 1, 3, 3):
            x = gpujit.from_numpy(a).requires_grad_()
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                y = fn(x, n)
            y.sum().backward()
            out.append(([str(m.message) for m in w], y.detach().numpy(), x.grad.numpy()))
        return out
    got = calls(s)
    assert 9 in _kinds(_spec(s).recording)
    monkeypatch.setattr(_ex, "_recording_plan", lambda *a, **k: None)
    ref = calls(gpujit.jit.script(_warns_in_a_loop))
    monkeypatch.undo()
    assert [g[0] for g in got] == [r[0] for r in ref] == [[], [], ["late trip"], ["late trip"]]
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g[1], r[1])
        np.testing.assert_array_equal(g[2], r[2])
    np.testing.assert_array_equal(got[-1][1], a * 8)


def _recurrent(cls):
    return lambda: cls(8, 16, batch_first=True)


def _conv():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 3 * 3, 4))


def _decoder():
    return nn.TransformerDecoderLayer(16, 2, 32, dropout=0.0, batch_first=True)


_R = np.random.default_rng(6)
_MODULES = {
    "lstm": (_recurrent(nn.LSTM), (_R.standard_normal((2, 5, 8)),)),
    "gru": (_recurrent(nn.GRU), (_R.standard_normal((2, 5, 8)),)),
    "conv": (_conv, (_R.standard_normal((2, 3, 8, 8)),)),
    "decoder": (_decoder, (_R.standard_normal((2, 5, 16)), _R.standard_normal((2, 6, 16)))),
}


def _module_calls(make, inputs, n=3):
    gpujit.manual_seed(0)
    s = gpujit.jit.script(make())
    args = [gpujit.from_numpy(a.astype(np.float32)) for a in inputs]
    out = []
    for _ in range(n):
        for p in s.parameters():
            p.grad = None
        y = s(*args)
        y = y[0] if isinstance(y, tuple) else y
        (y * y).sum().backward()
        out.append(y.detach().numpy().copy())
        out.extend(_grads(s))
    return s, out


@pytest.mark.parametrize("name", sorted(_MODULES))
def test_library_modules_train_through_the_recording_plan(name, monkeypatch):
    # (their graphs hold list unpacking, dtype reads, raises or warnings in untaken
    # branches: every call recording gradients ran through the interpreter)
    make, inputs = _MODULES[name]
    s, got = _module_calls(make, inputs)
    assert _spec(s).recording is not None
    monkeypatch.setattr(_ex, "_recording_plan", lambda *a, **k: None)
    _, ref = _module_calls(make, inputs)
    monkeypatch.undo()
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)
