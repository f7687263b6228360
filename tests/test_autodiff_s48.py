"""Scripted calls that record gradients are cut into DifferentiableGraph regions as
TorchScript's CreateAutodiffSubgraphs cuts them (helper a48, session 48;
gpujit/jit/autodiff_subgraphs.py): regions of >= 2 differentiable ops (views, sum, ... op
by op between them), each ONE DifferentiableGraphBackward whose next_functions are its
inputs that require grad in the order TorchScript's merges make them. Structures are
checked against torch 2.13 when it is installed and against what torch 2.13 printed
(written down here) otherwise; values against eager gpujit and op-by-op recording
(bit for bit) and NumPy.
"""
import math

import numpy as np
import pytest

import gpujit
from gpujit.runtime import executor

DGB = "torch::jit::(anonymous namespace)::DifferentiableGraphBackward"
ACC = "torch::autograd::AccumulateGrad"


def _chain(fn, depth=0):
    """grad_fn's structure as text: name(next functions...)."""
    if fn is None:
        return "None"
    nm = fn.name().replace("torch::jit::(anonymous namespace)::", "").replace(
        "torch::autograd::", "")
    subs = [_chain(f, depth + 1) for f, _ in fn.next_functions] if depth < 12 else []
    return nm + ("(" + ", ".join(subs) + ")" if subs else "")


def _edges(fn, names):
    """The next functions of fn: a leaf's name (names: id -> name), else the node's."""
    out = []
    for f, _ in fn.next_functions:
        v = getattr(f, "variable", None)
        out.append(names.get(id(v), f.name()) if v is not None else
                   f.name().replace("torch::autograd::", ""))
    return out


def _mlp_reshape(torch):
    def f(x, w1, b1, w2):
        h = torch.tanh(torch.nn.functional.linear(x, w1, b1))
        h = h.reshape(-1, 8)
        return torch.relu(h @ w2).sum()
    return f


def _attn(torch):
    def f(q, k, v):
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = torch.nn.functional.softmax(att, dim=-1)
        return att @ v
    return f


def _chain_sum(torch):
    def f(x, w):
        y = torch.tanh(x @ w)
        z = y * 2 + 1
        return z.sum()
    return f


def _loop(torch):
    def f(x, h, w, n: int):
        for i in range(n):
            h = torch.tanh(x @ w + h)
            h = h * torch.sigmoid(h) * 2.0
        return h
    return f


_MLP_RESHAPE = "SumBackward0(DifferentiableGraphBackward(AccumulateGrad, ViewBackward0(" \
    "DifferentiableGraphBackward(AccumulateGrad, AccumulateGrad, AccumulateGrad))))"
_ATTN = "DifferentiableGraphBackward(AccumulateGrad, TransposeBackward0(AccumulateGrad), " \
    "AccumulateGrad)"


def _arrays(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _run(torch, make, arrays, calls=3):
    s = torch.jit.script(make(torch))
    for _ in range(calls):
        args = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = s(*args)
    return out, args


def _grads(torch, make, arrays, scripted=True):
    f = torch.jit.script(make(torch)) if scripted else make(torch)
    for _ in range(3 if scripted else 1):
        args = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = f(*args)
    (out * out).sum().backward()
    return out.detach().numpy(), [a.grad.numpy() for a in args]


CASES = [
    ("mlp_reshape", _mlp_reshape, [(4, 8), (8, 8), (8,), (8, 8)], _MLP_RESHAPE,
     [["w2", "ViewBackward0"], ["b1", "w1", "x"]], "x w1 b1 w2"),
    ("attn", _attn, [(2, 4, 8)] * 3, _ATTN, [["v", "TransposeBackward0", "q"]], "q k v"),
    # (gpujit fuses tanh * 2 + 1 into a group: the group joins the matmul's region, as
    # torch's DifferentiableGraph holds the ops it fuses)
    ("chain_sum", _chain_sum, [(4, 8), (8, 8)],
     "SumBackward0(DifferentiableGraphBackward(AccumulateGrad, AccumulateGrad))",
     [["w", "x"]], "x w"),
]


@pytest.mark.parametrize("name,make,shapes,want,edges,argnames", CASES,
                         ids=[c[0] for c in CASES])
def test_regions_structure_as_torch(name, make, shapes, want, edges, argnames):
    arrays = _arrays(shapes)
    out, args = _run(gpujit, make, arrays)
    assert _chain(out.grad_fn) == want
    names = {id(a): n for a, n in zip(args, argnames.split())}
    fn = out.grad_fn
    got = []
    while fn is not None:
        if fn.name() == DGB:
            got.append(_edges(fn, names))
        nxt = [f for f, _ in fn.next_functions if f is not None and f.name() != ACC]
        fn = nxt[0] if nxt else None
        while fn is not None and fn.name() != DGB and fn.next_functions and \
                fn.name() != "SumBackward0":
            nxt = [f for f, _ in fn.next_functions if f is not None and f.name() != ACC]
            fn = nxt[0] if nxt else None
    assert got == edges


@pytest.mark.parametrize("name,make,shapes,want,edges,argnames", CASES,
                         ids=[c[0] for c in CASES])
def test_regions_structure_equals_installed_torch(name, make, shapes, want, edges, argnames):
    torch = pytest.importorskip("torch")
    arrays = _arrays(shapes)
    out, _ = _run(torch, make, arrays)
    assert _chain(out.grad_fn) == want
    got, _ = _run(gpujit, make, arrays)
    assert _chain(got.grad_fn) == _chain(out.grad_fn)


@pytest.mark.parametrize("name,make,shapes", [c[:3] for c in CASES], ids=[c[0] for c in CASES])
def test_regions_values_equal_op_by_op_and_eager(name, make, shapes, monkeypatch):
    arrays = _arrays(shapes, 3)
    out, grads = _grads(gpujit, make, arrays)
    eout, egrads = _grads(gpujit, make, arrays, scripted=False)
    monkeypatch.setattr(executor, "_whole_graph", [False])
    oout, ograds = _grads(gpujit, make, arrays)
    np.testing.assert_array_equal(out, oout)
    np.testing.assert_array_equal(out, eout)
    for a, b, c in zip(grads, ograds, egrads):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_mlp_module_edges_in_torch_merge_order():
    # torch 2.13: the scripted MLP's one node lists l2.bias, l2.weight, l1.bias,
    # l1.weight, x (each merged node's inputs appended, producers merged latest first)
    class MLP(gpujit.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = gpujit.nn.Linear(4, 8)
            self.l2 = gpujit.nn.Linear(8, 3)

        def forward(self, x):
            return self.l2(gpujit.tanh(self.l1(x)))

    gpujit.manual_seed(0)
    m = gpujit.jit.script(MLP())
    names = {id(p): n for n, p in m.named_parameters()}
    for _ in range(3):
        x = gpujit.randn(5, 4, requires_grad=True)
        out = m(x)
    names[id(x)] = "x"
    assert out.grad_fn.name() == DGB
    assert _edges(out.grad_fn, names) == ["l2.bias", "l2.weight", "l1.bias", "l1.weight", "x"]
    out.sum().backward()
    w1 = m.l1.weight.detach().numpy()
    b1 = m.l1.bias.detach().numpy()
    w2 = m.l2.weight.detach().numpy()
    h = np.tanh(x.detach().numpy() @ w1.T + b1)
    np.testing.assert_allclose(m.l2.bias.grad.numpy(), np.full(3, 5.0), rtol=1e-6)
    np.testing.assert_allclose(m.l2.weight.grad.numpy(), np.ones((5, 3)).T @ h, rtol=1e-5)
    gh = (np.ones((5, 3)) @ w2) * (1 - h * h)
    np.testing.assert_allclose(m.l1.weight.grad.numpy(), gh.T @ x.detach().numpy(),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), gh @ w1, rtol=1e-4, atol=1e-6)


def test_region_mlp_reshape_numpy_gradients():
    arrays = _arrays([(4, 8), (8, 8), (8,), (8, 8)], 5)
    out, grads = _grads(gpujit, _mlp_reshape, arrays)
    x, w1, b1, w2 = [a.astype(np.float64) for a in arrays]
    h = np.tanh(x @ w1.T + b1)
    z = h @ w2
    r = np.maximum(z, 0)
    s = r.sum()
    np.testing.assert_allclose(out, s, rtol=1e-5)
    gz = 2 * s * (z > 0)
    np.testing.assert_allclose(grads[3], h.T @ gz, rtol=1e-4, atol=1e-4)
    gpre = (gz @ w2.T) * (1 - h * h)
    np.testing.assert_allclose(grads[0], gpre @ w1, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grads[2], gpre.sum(0), rtol=1e-4, atol=1e-4)


def test_region_output_write_raises_torch_error():
    # a region's output that its backward reads (tanh's result) written in place: the
    # error at backward, as eager and torch 2.13 (the node is tanh's region's)
    @gpujit.jit.script
    def f(x, w):
        y = gpujit.tanh(x @ w)
        z = y.reshape(-1)
        return z, y * 2

    for _ in range(3):
        x = gpujit.randn(3, 4, requires_grad=True)
        w = gpujit.randn(4, 4, requires_grad=True)
        z, y2 = f(x, w)
    z.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y2.sum().backward()


def test_region_create_graph_double_backward_equals_eager():
    arrays = _arrays([(2, 4, 8)] * 3, 7)

    def second(f):
        args = [gpujit.tensor(a, requires_grad=True) for a in arrays]
        out = f(*args)
        g = gpujit.autograd.grad(out.sum(), args[0], create_graph=True)[0]
        (g * g).sum().backward()
        return [a.grad.numpy() for a in args]

    s = gpujit.jit.script(_attn(gpujit))
    for _ in range(2):
        second(s)
    got = second(s)
    want = second(_attn(gpujit))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_region_no_grad_call_records_nothing():
    arrays = _arrays([(4, 8), (8, 8), (8,), (8, 8)])
    s = gpujit.jit.script(_mlp_reshape(gpujit))
    for _ in range(3):
        args = [gpujit.tensor(a, requires_grad=True) for a in arrays]
        s(*args)
    with gpujit.no_grad():
        out = s(*args)
    assert out.grad_fn is None and not out.requires_grad


def test_region_output_hook_and_retain_grad():
    @gpujit.jit.script
    def f(x, w):
        y = gpujit.tanh(x @ w) * 2
        return y.t(), y

    seen = []
    for _ in range(3):
        x = gpujit.ones(3, 4, requires_grad=True)
        w = gpujit.full((4, 4), 0.1, requires_grad=True)
        a, y = f(x, w)
    assert y.grad_fn.name() == DGB
    y.retain_grad()
    y.register_hook(lambda g: seen.append(g.clone()))
    a.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.ones((3, 4), np.float32))
    assert len(seen) == 1


def test_loop_body_regions_with_fusion_groups_values_as_op_by_op(monkeypatch):
    # a loop over a runtime count: the body's matmul and its fused pointwise ops are one
    # region per iteration (gpujit fuses `+ h, tanh, sigmoid, mul`; the groups join)
    arrays = _arrays([(4, 8), (4, 8), (8, 8)], 11)

    def run():
        s = gpujit.jit.script(_loop(gpujit))
        for _ in range(3):
            args = [gpujit.tensor(a, requires_grad=True) for a in arrays]
            out = s(*args, 3)
        (out * out).sum().backward()
        return out, [a.grad.numpy() for a in args]

    out, grads = run()
    fn, k = out.grad_fn, 0
    while fn is not None and fn.name() == DGB:
        k += 1
        assert [f.name() for f, _ in fn.next_functions][1:] == [ACC, ACC]
        fn = fn.next_functions[0][0]
    assert k == 3 and fn.name() == ACC
    monkeypatch.setattr(executor, "_whole_graph", [False])
    oout, ograds = run()
    np.testing.assert_array_equal(out.detach().numpy(), oout.detach().numpy())
    for a, b in zip(grads, ograds):
        np.testing.assert_array_equal(a, b)
    # and NumPy's
    x, h, w = [a.astype(np.float64) for a in arrays]
    hs = [h]
    for _ in range(3):
        t = np.tanh(x @ w + hs[-1])
        hs.append(t * (1 / (1 + np.exp(-t))) * 2.0)
    np.testing.assert_allclose(out.detach().numpy(), hs[-1], rtol=1e-5, atol=1e-6)


def test_set_grad_enabled_is_a_boundary():
    # aten::set_grad_enabled changes state: no region moves across it
    @gpujit.jit.script
    def f(x):
        gpujit.set_grad_enabled(False)
        y = (x * 2.0).sigmoid() * 3.0
        gpujit.set_grad_enabled(True)
        return y, (x * 3.0).tanh() * 2.0

    try:
        for _ in range(3):
            x = gpujit.ones(3, requires_grad=True)
            with gpujit.no_grad():
                a, b = f(x)
            assert not a.requires_grad and b.requires_grad
    finally:
        gpujit.set_grad_enabled(True)


def test_region_with_group_create_graph_and_saved_output_write():
    # a region holding a fusion group: double backward equals eager's; a write into an
    # output its backward reads (tanh's result inside the group) raises at backward
    arrays = _arrays([(4, 8), (8, 8)], 13)

    def f(x, w):
        y = gpujit.tanh(x @ w)
        return y * 2 + 1, y

    def second(fn):
        x, w = [gpujit.tensor(a, requires_grad=True) for a in arrays]
        out, _ = fn(x, w)
        g = gpujit.autograd.grad((out * out).sum(), w, create_graph=True)[0]
        (g * g).sum().backward()
        return x.grad.numpy(), w.grad.numpy()

    s = gpujit.jit.script(f)
    for _ in range(2):
        second(s)
    for a, b in zip(second(s), second(f)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    x, w = [gpujit.tensor(a, requires_grad=True) for a in arrays]
    out, y = s(x, w)
    assert out.grad_fn.name() == DGB and y.grad_fn is out.grad_fn
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_group_node_lists_only_inputs_that_require_grad(monkeypatch):
    # a fusion group's own node (FusedGroupBackward, outside regions) lists the edges of
    # its inputs that require grad only, as torch 2.13's DifferentiableGraphBackward: no
    # (None, 0) for a tensor that needs none (was [AccumulateGrad, None])
    monkeypatch.setattr(executor, "_whole_graph", [False])

    @gpujit.jit.script
    def g(x, m):
        return gpujit.tanh(x * m + 1.0) * 2.0

    for _ in range(3):
        x = gpujit.full((4, 4), 0.5, requires_grad=True)
        m = gpujit.full((4, 4), 2.0)
        out = g(x, m)
    assert out.grad_fn.name() == DGB
    assert [f.name() for f, _ in out.grad_fn.next_functions] == [ACC]
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((4, 4), 2.0 * 2.0 * (1 - np.tanh(2.0) ** 2)),
                               rtol=1e-6)
    assert m.grad is None


def _block(torch):
    nn = torch.nn

    class Blk(nn.Module):
        """A transformer block's shape: split / transpose between regions, residuals,
        layer_norm + linear + gelu + linear in one region."""

        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(8, 16)
            self.c_proj = nn.Linear(8, 8)
            self.ln = nn.LayerNorm(8)
            self.fc = nn.Linear(8, 16)
            self.proj = nn.Linear(16, 8)

        def forward(self, x):
            q, k = self.c_attn(x).split(8, dim=2)
            y = torch.softmax(q @ k.transpose(1, 2), -1) @ x
            x = x + self.c_proj(y)
            return x + self.proj(torch.nn.functional.gelu(self.fc(self.ln(x))))
    return Blk


# torch 2.13: the block's last region (c_proj, the residuals, layer_norm, fc, gelu, proj,
# and the attention's softmax and matmuls) and its edges in merge order
_BLOCK_TOP = ["proj.bias", "proj.weight", "fc.bias", "fc.weight", "ln.bias", "ln.weight", "x",
              "c_proj.bias", "c_proj.weight", "TransposeBackward0", "SplitBackward0"]


def _block_top(torch):
    torch.manual_seed(0)
    m = _block(torch)()
    s = torch.jit.script(m)
    names = {id(p): n for n, p in m.named_parameters()}
    for _ in range(3):
        x = torch.randn(2, 4, 8, requires_grad=True)
        out = s(x)
    names[id(x)] = "x"
    return m, x, out, _edges(out.grad_fn, names)


def test_block_region_edges_as_torch():
    m, x, out, edges = _block_top(gpujit)
    assert out.grad_fn.name() == DGB
    assert edges == _BLOCK_TOP
    # gradients as eager's
    (out * out).sum().backward()
    got = [x.grad.numpy()] + [p.grad.numpy() for p in m.parameters()]
    x2 = x.detach().clone().requires_grad_()
    for p in m.parameters():
        p.grad = None
    e = m(x2)
    np.testing.assert_allclose(out.detach().numpy(), e.detach().numpy(), rtol=1e-5, atol=1e-6)
    (e * e).sum().backward()
    want = [x2.grad.numpy()] + [p.grad.numpy() for p in m.parameters()]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_block_region_edges_equal_installed_torch():
    torch = pytest.importorskip("torch")
    assert _block_top(torch)[3] == _BLOCK_TOP


def _more(torch):
    def f_cos(x, w):
        return (x @ w).cos() @ w

    def f_max(x, w):
        return torch.max(x @ w, x) @ w

    def f_lse(x, w):
        return (x @ w).logsumexp(1, keepdim=True) * x

    def f_std(x, w):
        return (x @ w).std() * x

    def f_bmm(x, w):
        return torch.bmm((x @ w).unsqueeze(0), x.unsqueeze(0)).squeeze(0)

    def f_rem(x, w):
        return (x @ w).remainder(0.7) @ w

    def f_perm(x, w):
        return (torch.tanh(x @ w).permute(1, 0) @ w).unsqueeze(0).squeeze(0) * 2

    return [f_cos, f_max, f_lse, f_std, f_bmm, f_rem, f_perm]


@pytest.mark.parametrize("k", range(7))
def test_more_differentiable_ops_and_views_join_regions(k, monkeypatch):
    # torch 2.13 makes each of these ONE DifferentiableGraphBackward over (x, w): cos,
    # max(a, b), logsumexp, std, remainder, bmm and the views t / permute / unsqueeze /
    # squeeze join regions (symbolic_script's formulas; not in torch's isViewOp list)
    arrays = _arrays([(4, 4), (4, 4)], 17 + k)

    def run():
        s = gpujit.jit.script(_more(gpujit)[k])
        for _ in range(3):
            x, w = [gpujit.tensor(a, requires_grad=True) for a in arrays]
            out = s(x, w)
        (out * out).sum().backward()
        return out, [out.detach().numpy(), x.grad.numpy(), w.grad.numpy()]

    out, got = run()
    assert _chain(out.grad_fn) == "DifferentiableGraphBackward(AccumulateGrad, AccumulateGrad)"
    monkeypatch.setattr(executor, "_whole_graph", [False])
    _, want = run()
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_more_differentiable_ops_as_installed_torch():
    torch = pytest.importorskip("torch")
    for f in _more(torch):
        s = torch.jit.script(f)
        for _ in range(3):
            out = s(torch.randn(4, 4, requires_grad=True), torch.randn(4, 4, requires_grad=True))
        assert _chain(out.grad_fn) == \
            "DifferentiableGraphBackward(AccumulateGrad, AccumulateGrad)", f.__name__


def test_view_outputs_aliasing_are_unmerged():
    # torch's unfuseAliasedOutputs: y.t() of an internal y is a fine output; w.t() as an
    # output aliases the input w: it and what uses it leave the region
    @gpujit.jit.script
    def f(x, w):
        y = gpujit.tanh(x @ w)
        return y.t(), y * 2

    @gpujit.jit.script
    def g(x, w):
        return gpujit.tanh(x @ w.t()) * 2, w.t()

    for _ in range(3):
        x = gpujit.full((3, 3), 0.25, requires_grad=True)
        w = gpujit.eye(3).requires_grad_()
        a, b = f(x, w)
        c, d = g(x, w)
    assert a.grad_fn.name() == DGB and a.grad_fn is b.grad_fn
    assert d.grad_fn.name() == "TBackward0" and d._base is w
    (a.sum() + b.sum() + c.sum() + d.sum()).backward()
    t = np.tanh(0.25)
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 3), 3 * (1 - t * t) + 2 * (1 - t * t)),
                               rtol=1e-6)


def test_region_input_seen_through_a_view_is_version_checked():
    # mm reads w.t() (a view of w, sharing its version counter): a write into w after the
    # call fails the backward, as eager's saved view does
    @gpujit.jit.script
    def f(x, w):
        return gpujit.tanh(x @ w.t()) * 2

    for _ in range(3):
        x = gpujit.ones(3, 3, requires_grad=True)
        w = gpujit.ones(3, 3, requires_grad=True)
        out = f(x, w)
    assert out.grad_fn.name() == DGB
    with gpujit.no_grad():
        w.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    x = gpujit.ones(3, 3, requires_grad=True)
    w = gpujit.ones(3, 3, requires_grad=True)
    e = gpujit.tanh(x @ w.t()) * 2
    with gpujit.no_grad():
        w.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()


def test_complex_inputs_requiring_grad_keep_their_gradients():
    # a region (or the whole graph) whose complex input requires grad: the walk's edges
    # and requirement sets are the floating ones', so the call records op by op (the
    # output required no grad at all before: gradients silently lost). torch 2.13 forms
    # a DifferentiableGraphBackward here; gpujit records MulBackward1 ... (same values)
    @gpujit.jit.script
    def f(x, w):
        return gpujit.tanh(x @ w) * 2

    @gpujit.jit.script
    def g(x, w):
        return (gpujit.tanh(x @ w) * 2).reshape(-1) * 3

    rng = np.random.default_rng(23)
    X = (rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))).astype(np.complex64) * 0.3
    W = (rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))).astype(np.complex64) * 0.3
    for fn in (f, g):
        for _ in range(3):
            x, w = gpujit.tensor(X, requires_grad=True), gpujit.tensor(W, requires_grad=True)
            out = fn(x, w)
        assert out.requires_grad
        out.abs().sum().backward()
        x2, w2 = gpujit.tensor(X, requires_grad=True), gpujit.tensor(W, requires_grad=True)
        e = gpujit.tanh(x2 @ w2) * 2
        if fn is g:
            e = e.reshape(-1) * 3
        e.abs().sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_write_into_a_region_output_that_views_an_inner_value():
    # torch 2.13: y.t() of an inner y stays in the region; writing into it records, and
    # the backward fails only where it reads y (tanh's result), not where it does not
    # (mm's) -- gpujit raised at the write ('did not record the view')
    @gpujit.jit.script
    def f(x, w):
        y = gpujit.tanh(x @ w)
        return y.t(), y * 2

    @gpujit.jit.script
    def g(x, w):
        return (x @ w).t(), x * w

    for _ in range(3):
        x = gpujit.full((3, 3), 0.5, requires_grad=True)
        w = gpujit.eye(3).requires_grad_()
        a, b = f(x, w)
        c, d = g(x, w)
    assert a.grad_fn.name() == DGB and c.grad_fn.name() == DGB
    a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        (a.sum() + b.sum()).backward()
    c.mul_(3)
    (c.sum() + d.sum()).backward()
    # d(3 * (x @ w)^T).sum() + (x * w).sum(): x.grad = 3 * ones @ w^T + w
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.ones((3, 3)) + np.eye(3), rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), 3 * np.full((3, 3), 1.5) + 0.5, rtol=1e-6)


def test_write_into_a_whole_graph_output_that_views_an_inner_value():
    # the whole graph one region (no op outside it): the same as a region's output
    @gpujit.jit.script
    def g(x, w):
        return (x @ w).t()

    for _ in range(3):
        x = gpujit.full((3, 3), 0.5, requires_grad=True)
        w = gpujit.eye(3).requires_grad_()
        c = g(x, w)
    assert c.grad_fn.name() == DGB
    c.mul_(3)
    c.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.ones((3, 3)), rtol=1e-6)
