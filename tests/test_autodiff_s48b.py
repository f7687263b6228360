"""DifferentiableGraph regions, part 2 (helper h48, session 48): TorchScript cuts regions
(CreateAutodiffSubgraphs) BEFORE it fuses, and ops its autodiff leaves out of regions
(masked_fill, logical_not, elu, clamp_min, square, sign, logsigmoid, minimum, ...) run
unfused, each recording its own node; comparisons (gt, lt, eq, ...) join regions. gpujit fuses first: a fusion group holding such an
op now runs as its ops in a call that records gradients (jit/graph_autodiff.py's
_expand_groups), so the slicer sees them as torch's does. Structures are checked against
torch 2.13 when it is installed and against what torch 2.13 printed (written down here)
otherwise; values and gradients against eager gpujit and op-by-op recording (bit for
bit) and NumPy.
"""
import math

import numpy as np
import pytest

import gpujit
from gpujit.runtime import executor


def _chain(fn, depth=0):
    """grad_fn's structure as text: name(next functions...)."""
    if fn is None:
        return "None"
    nm = fn.name().replace("torch::jit::(anonymous namespace)::", "").replace(
        "torch::autograd::", "")
    subs = [_chain(f, depth + 1) for f, _ in fn.next_functions] if depth < 14 else []
    return nm + ("(" + ", ".join(subs) + ")" if subs else "")


def _attn_mask(torch):
    # nanoGPT's masked attention
    def f(q, k, v, mask):
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(mask == 0, float("-inf"))
        att = torch.nn.functional.softmax(att, dim=-1)
        return att @ v
    return f


def _elu3(torch):
    def f(x, y):
        return torch.nn.functional.elu(x * y) * 3
    return f


def _many(torch):
    def f(x, y):
        a = x * y
        b = torch.clamp_min(a, 0.1)
        c = torch.square(b)
        d = torch.sign(a) * c
        e = torch.nn.functional.logsigmoid(d)
        return torch.minimum(e, a) * 2
    return f


def _loop(torch):
    def f(x, h, w, n: int):
        for i in range(n):
            h = torch.nn.functional.elu(torch.tanh(x @ w + h) * 2.0) * 0.5
        return h
    return f


def _cond(torch):
    def f(x, w, flag: bool):
        y = x @ w
        if flag:
            z = torch.logical_not(y > 0)
            y = y.masked_fill(z, 0.0) * 3.0
        else:
            y = torch.sigmoid(y) * 2.0
        return y
    return f


def _cmp(torch):
    def f(x, y):
        a = x * y
        b = torch.logical_not(a > 0)
        return torch.where(b, a, x * 2) + 1
    return f


def _cmp_mask(torch):
    def f(x, y):
        a = torch.tanh(x * y)
        return a * (a > 0.5)
    return f


def _tril(torch, n):
    return torch.tensor(np.tril(np.ones((n, n), np.float32)))


# (name, maker, shapes of the inputs requiring grad, extra arguments, torch 2.13's grad_fn)
CASES = [
    ("attn_mask", _attn_mask, [(2, 4, 8)] * 3, lambda t: [_tril(t, 4)],
     "DifferentiableGraphBackward(AccumulateGrad, MaskedFillBackward0("
     "DifferentiableGraphBackward(TransposeBackward0(AccumulateGrad), AccumulateGrad)))"),
    ("elu3", _elu3, [(3, 4)] * 2, lambda t: [],
     "MulBackward1(EluBackward0(MulBackward0(AccumulateGrad, AccumulateGrad)))"),
    ("many", _many, [(3, 4)] * 2, lambda t: [],
     "MulBackward1(MinimumBackward0(LogSigmoidBackward0(MulBackward0(SignBackward0("
     "MulBackward0(AccumulateGrad, AccumulateGrad)), PowBackward0(ClampMinBackward0("
     "MulBackward0(AccumulateGrad, AccumulateGrad))))), MulBackward0(AccumulateGrad, "
     "AccumulateGrad)))"),
    ("loop", _loop, [(4, 8), (4, 8), (8, 8)], lambda t: [2],
     "MulBackward1(EluBackward0(DifferentiableGraphBackward(MulBackward1(EluBackward0("
     "DifferentiableGraphBackward(AccumulateGrad, AccumulateGrad, AccumulateGrad))), "
     "AccumulateGrad, AccumulateGrad)))"),
    ("cond", _cond, [(4, 8), (8, 8)], lambda t: [True],
     "MulBackward1(MaskedFillBackward0(MmBackward0(AccumulateGrad, AccumulateGrad)))"),
    # comparisons join regions (their bool results carry no gradient): {x * y, gt}, then
    # {x * 2, where, + 1} past the logical_not torch leaves out
    ("cmp", _cmp, [(3, 4)] * 2, lambda t: [],
     "DifferentiableGraphBackward(DifferentiableGraphBackward(AccumulateGrad, "
     "AccumulateGrad), AccumulateGrad)"),
    ("cmp_mask", _cmp_mask, [(3, 4)] * 2, lambda t: [],
     "DifferentiableGraphBackward(AccumulateGrad, AccumulateGrad)"),
]
IDS = [c[0] for c in CASES]


def _arrays(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _run(torch, make, arrays, extra, scripted=True):
    f = torch.jit.script(make(torch)) if scripted else make(torch)
    for _ in range(3 if scripted else 1):
        args = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = f(*args, *extra(torch))
    return out, args


def _grads(torch, make, arrays, extra, scripted=True):
    out, args = _run(torch, make, arrays, extra, scripted)
    (out * out).sum().backward()
    return out.detach().numpy(), [a.grad.numpy() for a in args]


@pytest.mark.parametrize("name,make,shapes,extra,want", CASES, ids=IDS)
def test_ops_torch_leaves_out_record_op_by_op(name, make, shapes, extra, want):
    out, _ = _run(gpujit, make, _arrays(shapes), extra)
    assert _chain(out.grad_fn) == want


@pytest.mark.parametrize("name,make,shapes,extra,want", CASES, ids=IDS)
def test_ops_torch_leaves_out_as_installed_torch(name, make, shapes, extra, want):
    torch = pytest.importorskip("torch")
    arrays = _arrays(shapes)
    out, _ = _run(torch, make, arrays, extra)
    assert _chain(out.grad_fn) == want
    got, _ = _run(gpujit, make, arrays, extra)
    assert _chain(got.grad_fn) == _chain(out.grad_fn)


@pytest.mark.parametrize("name,make,shapes,extra,want", CASES, ids=IDS)
def test_values_and_gradients_equal_eager_and_op_by_op(name, make, shapes, extra, want,
                                                       monkeypatch):
    arrays = _arrays(shapes, 5)
    out, grads = _grads(gpujit, make, arrays, extra)
    eout, egrads = _grads(gpujit, make, arrays, extra, scripted=False)
    monkeypatch.setattr(executor, "_whole_graph", [False])
    oout, ograds = _grads(gpujit, make, arrays, extra)
    np.testing.assert_array_equal(out, eout)
    np.testing.assert_array_equal(out, oout)
    for a, b, c in zip(grads, egrads, ograds):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_elu3_gradients_numpy():
    x, y = _arrays([(3, 4)] * 2, 7)
    out, (gx, gy) = _grads(gpujit, _elu3, [x, y], lambda t: [])
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    p = x64 * y64
    e = np.where(p > 0, p, np.expm1(p))
    want = e * 3
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
    g = 2 * want * 3 * np.where(p > 0, 1.0, np.exp(p))
    np.testing.assert_allclose(gx, g * y64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gy, g * x64, rtol=1e-4, atol=1e-5)


def test_masked_attention_gradients_numpy():
    q, k, v = _arrays([(2, 4, 8)] * 3, 9)
    out, grads = _grads(gpujit, _attn_mask, [q, k, v], lambda t: [_tril(t, 4)])
    q64, k64, v64 = (a.astype(np.float64) for a in (q, k, v))
    s = q64 @ k64.transpose(0, 2, 1) / math.sqrt(8)
    s = np.where(np.tril(np.ones((4, 4))) == 0, -np.inf, s)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    o = p @ v64
    np.testing.assert_allclose(out, o, rtol=1e-5, atol=1e-6)
    go = 2 * o
    gv = p.transpose(0, 2, 1) @ go
    gp = go @ v64.transpose(0, 2, 1)
    gs = p * (gp - (gp * p).sum(-1, keepdims=True)) / math.sqrt(8)
    np.testing.assert_allclose(grads[2], gv, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grads[0], gs @ k64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grads[1], gs.transpose(0, 2, 1) @ q64, rtol=1e-4, atol=1e-5)


def test_group_still_fused_without_grad():
    # the group stays one kernel where no gradient is recorded: the expansion is the
    # recording plan's only
    f = gpujit.jit.script(_elu3(gpujit))
    x, y = (gpujit.tensor(a) for a in _arrays([(3, 4)] * 2, 2))
    for _ in range(3):
        out = f(x, y)
    assert "prim::TensorExprGroup" in str(f.graph_for(x, y))
    want = gpujit.nn.functional.elu(x * y) * 3
    np.testing.assert_array_equal(out.numpy(), want.numpy())


def test_comparison_outputs_of_a_region_carry_no_gradient():
    def f(x, y):
        a = torch_mod.tanh(x)
        m = a > 0.1
        return torch_mod.where(m, a, y), m
    torch_mod = gpujit
    s = gpujit.jit.script(f)
    xa, ya = _arrays([(4, 4)] * 2, 4)
    for _ in range(3):
        x, y = gpujit.tensor(xa, requires_grad=True), gpujit.tensor(ya, requires_grad=True)
        out, m = s(x, y)
    assert _chain(out.grad_fn) == "DifferentiableGraphBackward(AccumulateGrad, AccumulateGrad)"
    assert m.dtype is gpujit.bool and not m.requires_grad and m.grad_fn is None
    out.sum().backward()
    t = np.tanh(xa.astype(np.float64))
    np.testing.assert_array_equal(m.numpy(), t > 0.1)
    np.testing.assert_allclose(x.grad.numpy(), np.where(t > 0.1, 1 - t * t, 0), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_array_equal(y.grad.numpy(), np.where(t > 0.1, 0.0, 1.0))


def _branchy(torch):
    def f(x, w, flag: bool):
        y = x @ w
        if flag:
            y = torch.tanh(y) * 2.0
        else:
            y = torch.sigmoid(y) * 3.0
        return y
    return f


_TAKEN = "DifferentiableGraphBackward(MmBackward0(AccumulateGrad, AccumulateGrad))"
_TANH = "MulBackward1(TanhBackward0(MmBackward0(AccumulateGrad, AccumulateGrad)))"
_SIGMOID = "MulBackward1(SigmoidBackward0(MmBackward0(AccumulateGrad, AccumulateGrad)))"


def _branch_chains(torch, first):
    s = torch.jit.script(_branchy(torch))
    xa, wa = _arrays([(4, 4)] * 2, 6)
    got = []
    for flag in (first, first, first, not first, not first, not first):
        x, w = torch.tensor(xa, requires_grad=True), torch.tensor(wa, requires_grad=True)
        out = s(x, w, flag)
        got.append(_chain(out.grad_fn))
    return got[2:]


@pytest.mark.parametrize("first", [True, False])
def test_branch_not_taken_while_profiling_records_op_by_op(first):
    # torch's profiled graph has no requires_grad for the values of the branch that did
    # not run: its slicer leaves that branch op by op, on every later call too
    other = _SIGMOID if first else _TANH
    assert _branch_chains(gpujit, first) == [_TAKEN] + [other] * 3


@pytest.mark.parametrize("first", [True, False])
def test_branch_not_taken_while_profiling_as_installed_torch(first):
    torch = pytest.importorskip("torch")
    want = _branch_chains(torch, first)
    assert want == [_TAKEN] + [_SIGMOID if first else _TANH] * 3
    assert _branch_chains(gpujit, first) == want


def test_branch_not_taken_values_and_gradients_as_eager():
    s = gpujit.jit.script(_branchy(gpujit))
    xa, wa = _arrays([(4, 4)] * 2, 8)
    for flag in (True, True, True, False):
        x, w = gpujit.tensor(xa, requires_grad=True), gpujit.tensor(wa, requires_grad=True)
        out = s(x, w, flag)
    (out * out).sum().backward()
    ex, ew = gpujit.tensor(xa, requires_grad=True), gpujit.tensor(wa, requires_grad=True)
    eout = _branchy(gpujit)(ex, ew, False)
    (eout * eout).sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), eout.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), ex.grad.numpy())
    np.testing.assert_array_equal(w.grad.numpy(), ew.grad.numpy())
    y = xa.astype(np.float64) @ wa.astype(np.float64)
    np.testing.assert_allclose(out.detach().numpy(), 3 / (1 + np.exp(-y)), rtol=1e-5)


def _gpt_block(torch):
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self, C=8, H=2, T=4):
            super().__init__()
            self.ln1 = nn.LayerNorm(C)
            self.ln2 = nn.LayerNorm(C)
            self.attn = nn.Linear(C, 3 * C)
            self.proj = nn.Linear(C, C)
            self.fc = nn.Linear(C, 4 * C)
            self.fc2 = nn.Linear(4 * C, C)
            self.register_buffer("bias", torch.tril(torch.ones(T, T)).view(1, 1, T, T))
            self.H = H

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.attn(self.ln1(x)).split(C, dim=2)
            k = k.view(B, T, self.H, C // self.H).transpose(1, 2)
            q = q.view(B, T, self.H, C // self.H).transpose(1, 2)
            v = v.view(B, T, self.H, C // self.H).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            x = x + self.proj(y)
            x = x + self.fc2(F.gelu(self.fc(self.ln2(x))))
            return x
    return Block()


def _short(fn, depth=0):
    if fn is None:
        return "None"
    nm = fn.name().replace("torch::jit::(anonymous namespace)::", "").replace(
        "torch::autograd::", "").replace("DifferentiableGraphBackward", "DGB").replace(
        "AccumulateGrad", "A")
    subs = [_short(f, depth + 1) for f, _ in fn.next_functions] if depth < 30 else []
    return nm + ("(" + ", ".join(subs) + ")" if subs else "")


_QKV = "ViewBackward0(SplitBackward0(DGB(A, A, A, A, A)))"
_GPT_BLOCK = ("DGB(A, A, A, A, A, A, A, A, A, ViewBackward0(CloneBackward0(TransposeBackward0("
              "DGB(TransposeBackward0(" + _QKV + "), MaskedFillBackward0(DGB(TransposeBackward0("
              "TransposeBackward0(" + _QKV + ")), TransposeBackward0(" + _QKV + "))))))))")


def _gpt_run(torch, module, xa):
    for _ in range(3):
        x = torch.tensor(xa, requires_grad=True)
        out = module(x)
    return out, x


def test_gpt_block_regions_as_torch():
    # nanoGPT's block: the masked attention's matmul and scale one region, masked_fill
    # op by op, softmax and the matmul with v another (gpujit fused mul and masked_fill)
    gpujit.manual_seed(0)
    m = gpujit.jit.script(_gpt_block(gpujit))
    out, _ = _gpt_run(gpujit, m, _arrays([(2, 4, 8)], 12)[0])
    assert _short(out.grad_fn) == _GPT_BLOCK


def test_gpt_block_regions_as_installed_torch():
    torch = pytest.importorskip("torch")
    xa = _arrays([(2, 4, 8)], 12)[0]
    out, _ = _gpt_run(torch, torch.jit.script(_gpt_block(torch)), xa)
    assert _short(out.grad_fn) == _GPT_BLOCK
    got, _ = _gpt_run(gpujit, gpujit.jit.script(_gpt_block(gpujit)), xa)
    assert _short(got.grad_fn) == _short(out.grad_fn)


def test_gpt_block_values_and_gradients_as_eager():
    xa = _arrays([(2, 4, 8)], 13)[0]
    gpujit.manual_seed(1)
    eager = _gpt_block(gpujit)
    scripted = gpujit.jit.script(eager)
    out, x = _gpt_run(gpujit, scripted, xa)
    (out * out).sum().backward()
    grads = [p.grad.numpy().copy() for p in eager.parameters()] + [x.grad.numpy()]
    eager.zero_grad()
    ex = gpujit.tensor(xa, requires_grad=True)
    eout = eager(ex)
    (eout * eout).sum().backward()
    egrads = [p.grad.numpy() for p in eager.parameters()] + [ex.grad.numpy()]
    np.testing.assert_array_equal(out.detach().numpy(), eout.detach().numpy())
    for a, b in zip(grads, egrads):
        np.testing.assert_array_equal(a, b)


# x * y through one more op, as torch 2.13 records it (its text, DGB: a
# DifferentiableGraphBackward, A: an AccumulateGrad); gpujit fuses each into one group.
# (name: the function's return expression, torch's grad_fn)
PAIRS = {
    "relu6": ("F.relu6(x * y) * 2", "DGB(A, A)"),
    "clamp_min0": ("torch.clamp(x * y, min=0.0) * 2", "DGB(A, A)"),
    "max_other": ("torch.max(x * y, y) * 2", "DGB(A, A)"),
    "sum_dim": ("(x * y).sum(1) * 2", "MulBackward1(SumBackward1(MulBackward0(A, A)))"),
    "mish": ("F.mish(x * y) * 2", "MulBackward1(MishBackward0(MulBackward0(A, A)))"),
    "where_gt": ("torch.where(x > y, x, y) * 2", "DGB(A, A)"),
    "clamp": ("(x * y).clamp(-1, 1) * 2", "DGB(A, A)"),
    "hardswish": ("F.hardswish(x * y) * F.hardsigmoid(y)", "DGB(A, A)"),
    "threshold": ("F.threshold(x * y, 0.1, 0.0) * 2", "DGB(A, A)"),
    "hardshrink": ("F.hardshrink(x * y) * 2", "DGB(A, A)"),
    "softshrink": ("F.softshrink(x * y) * 2",
                   "MulBackward1(SoftshrinkBackward0(MulBackward0(A, A)))"),
}


def _pair_chain(torch, name, tmp_path):
    # (scripting needs source: the function written to a module)
    import importlib.util
    path = tmp_path / f"pair_{name}_{torch.__name__}.py"
    path.write_text(f"import {torch.__name__} as torch\nF = torch.nn.functional\n\n\n"
                    f"def f(x, y):\n    return {PAIRS[name][0]}\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    s = torch.jit.script(mod.f)
    xa, ya = _arrays([(4, 4)] * 2, 10)
    for _ in range(3):
        out = s(torch.tensor(xa, requires_grad=True), torch.tensor(ya, requires_grad=True))
    return _short(out.grad_fn)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_pair_through_one_op_as_torch(name, tmp_path):
    assert _pair_chain(gpujit, name, tmp_path) == PAIRS[name][1]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_pair_through_one_op_as_installed_torch(name, tmp_path):
    torch = pytest.importorskip("torch")
    want = _pair_chain(torch, name, tmp_path)
    assert want == PAIRS[name][1]
    assert _pair_chain(gpujit, name, tmp_path) == want


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_pair_values_and_gradients_as_eager(name, tmp_path):
    import importlib.util
    path = tmp_path / f"pairv_{name}.py"
    path.write_text("import gpujit as torch\nF = torch.nn.functional\n\n\n"
                    f"def f(x, y):\n    return {PAIRS[name][0]}\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    s = gpujit.jit.script(mod.f)
    xa, ya = _arrays([(4, 4)] * 2, 14)
    res = []
    for fn in (s, s, s, mod.f):
        x, y = gpujit.tensor(xa, requires_grad=True), gpujit.tensor(ya, requires_grad=True)
        out = fn(x, y)
        (out * out).sum().backward()
        res.append((out.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for a, b in zip(res[2], res[3]):
        np.testing.assert_array_equal(a, b)


def _acts(x, y):
    F = gpujit.nn.functional
    return (F.relu(x * y) + F.hardtanh(x + y, -0.5, 0.5) + F.leaky_relu(x, 0.1) +
            F.elu(y, 1.2) + F.softplus(x, 2.0, 3.0) + F.logsigmoid(x - y) + F.hardshrink(x))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_group_kept_where_regions_would_reorder_gradient_sums(dtype):
    # x and y are read by 7 ops, some in a region, some op by op: the region's node adds
    # its uses' gradients before the engine adds the others (another rounding than
    # eager's). f52: a graph that records gradients fuses only the ops a region takes
    # (torch 2.13 fuses only inside its DifferentiableGraphs), so no group holds elu or
    # logsigmoid to keep: the region sums as torch's does, eager's values to rounding
    rng = np.random.default_rng(21)
    xa, ya = ((rng.standard_normal((6, 7)) * 3).astype(dtype) for _ in range(2))
    w = gpujit.from_numpy(rng.standard_normal((6, 7)).astype(dtype))
    s = gpujit.jit.script(_acts)
    for _ in range(3):
        ts = [gpujit.from_numpy(a.copy()).requires_grad_() for a in (xa, ya)]
        got = gpujit.autograd.grad(s(*ts), ts, w)
    ts = [gpujit.from_numpy(a.copy()).requires_grad_() for a in (xa, ya)]
    want = gpujit.autograd.grad(_acts(*ts), ts, w)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(),
                                   rtol=2e-6 if dtype == "float32" else 1e-14, atol=0)


def _elu_sigmoid_ln(h, w, b):
    F = gpujit.nn.functional
    h = F.elu(h)
    h = gpujit.sigmoid(h)
    return gpujit.tanh(h) + F.layer_norm(h, [4], w, b)


def test_region_with_an_expanded_op_before_a_group_gradients_as_eager():
    # the group {elu, sigmoid} runs as its ops; sigmoid joins a region with layer_norm
    # and the group {tanh, add}, which reads sigmoid's value through the group node's
    # input: one Value per slot inside the region, or the gradient through tanh is lost
    rng = np.random.default_rng(23)
    ha = rng.standard_normal((2, 3, 4)).astype(np.float32)
    s = gpujit.jit.script(_elu_sigmoid_ln)
    res = []
    for fn in (s, s, s, _elu_sigmoid_ln):
        h = gpujit.tensor(ha, requires_grad=True)
        w, b = gpujit.ones(4, requires_grad=True), gpujit.zeros(4, requires_grad=True)
        out = fn(h, w, b)
        (out * out).sum().backward()
        res.append([out.detach().numpy(), h.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
    for a, e in zip(res[2], res[3]):
        np.testing.assert_array_equal(a, e)
