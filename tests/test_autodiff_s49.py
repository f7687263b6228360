"""DifferentiableGraph regions, part 3 (helper a49, session 49): dropout (training or a
non-constant `train`), contiguous, type_as and batch_norm join regions as torch 2.13's
isDifferentiable / symbolic_script take them (jit/graph_autodiff.py); batch_norm's running
statistics are updated once per call, dropout's mask drawn once (a create_graph backward
applies it again, no new draw). Structures are checked against torch 2.13 when it is
installed and against what torch 2.13 printed (written down here) otherwise; values and
gradients against eager gpujit (bit for bit, the same seed) and NumPy.
"""
import importlib.util

import numpy as np
import pytest

import gpujit


def _short(fn, depth=0):
    """grad_fn's structure as text (DGB: DifferentiableGraphBackward, A: AccumulateGrad)."""
    if fn is None:
        return "None"
    nm = fn.name().replace("torch::jit::(anonymous namespace)::", "").replace(
        "torch::autograd::", "").replace("DifferentiableGraphBackward", "DGB").replace(
        "AccumulateGrad", "A")
    subs = [_short(f, depth + 1) for f, _ in fn.next_functions] if depth < 30 else []
    return nm + ("(" + ", ".join(subs) + ")" if subs else "")


_HEAD = ("import {m} as torch\nimport math\nF = torch.nn.functional\nnn = torch.nn\n\n\n")

# (name, source defining f(*inputs) or make() -> module, input shapes, torch 2.13's grad_fn
# on the 2nd..4th calls)
CASES = {
    "dropout": ("def f(x, w):\n    return F.dropout(torch.tanh(x @ w), 0.5, True) * 2\n",
                [(4, 4), (4, 4)], "DGB(A, A)"),
    "dropout_mid": ("def f(x, w):\n    return torch.sigmoid(F.dropout(torch.tanh(x @ w), 0.3,"
                    " True) * 2)\n", [(4, 4), (4, 4)], "DGB(A, A)"),
    "dropout_off": ("def f(x, w):\n    return F.dropout(torch.tanh(x @ w), 0.5, False) * 2\n",
                    [(4, 4), (4, 4)], "MulBackward1(DGB(A, A))"),
    "contiguous_t": ("def f(x, w):\n    return torch.tanh((x @ w).t().contiguous()) * 2\n",
                     [(4, 4), (4, 4)], "DGB(A, A)"),
    "contiguous": ("def f(x, w):\n    return torch.tanh((x @ w).contiguous()) * 2\n",
                   [(4, 4), (4, 4)], "DGB(A, A)"),
    "type_as": ("def f(x, w):\n    return torch.tanh((x @ w).type_as(x)) * 2\n",
                [(4, 4), (4, 4)], "DGB(A, A)"),
    "type_as_first": ("def f(x, w):\n    return torch.tanh(x).type_as(w) * 2\n",
                      [(4, 4), (4, 4)], "DGB(A)"),
    "layer_norm": ("def f(x, w, b):\n    return torch.tanh(F.layer_norm(x * 2, [3], w, b)) * 2\n",
                   [(4, 3), (3,), (3,)], "DGB(A, A, A)"),
    "bn_train": ("def f(x, w, b, rm, rv):\n    return torch.tanh(F.batch_norm(x * 2, rm, rv, w, b,"
                 " True)) * 2\n", [(4, 3), (3,), (3,)], "DGB(A, A, A)"),
    "bn_eval": ("def f(x, w, b, rm, rv):\n    return torch.tanh(F.batch_norm(x * 2, rm, rv, w, b,"
                " False)) * 2\n", [(4, 3), (3,), (3,)], "DGB(A, A, A)"),
    "bn_module": ("class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                  "        self.l = nn.Linear(3, 3)\n        self.bn = nn.BatchNorm1d(3)\n\n"
                  "    def forward(self, x):\n        return torch.relu(self.bn(self.l(x))) * 2\n"
                  "\n\ndef make():\n    return M()\n", [(4, 3)], None),
    "dropout_module": ("class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                       "        self.l = nn.Linear(3, 3)\n        self.d = nn.Dropout(0.1)\n\n"
                       "    def forward(self, x):\n"
                       "        return self.l(self.d(torch.relu(self.l(x))))\n"
                       "\n\ndef make():\n    return M()\n", [(4, 3)], "DGB(A, A, A)"),
    "dropout_module_eval": ("class M(nn.Module):\n    def __init__(self):\n"
                            "        super().__init__()\n        self.l = nn.Linear(3, 3)\n"
                            "        self.d = nn.Dropout(0.1)\n\n    def forward(self, x):\n"
                            "        return self.l(self.d(torch.relu(self.l(x))))\n"
                            "\n\ndef make():\n    return M().eval()\n", [(4, 3)], "DGB(A, A, A)"),
}
# (the batch_norm module's region: batch_norm, relu, mul -- the linear records op by op,
# its weight through TBackward0 in torch 2.13, directly in gpujit: the region's node only)
BN_MODULE_REGION = "DGB(A, A, AddmmBackward0("


def _load(m, name, tmp_path):
    path = tmp_path / f"s49_{name}_{m}.py"
    path.write_text(_HEAD.format(m=m) + CASES[name][0])
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _extra(torch, name):
    return [torch.zeros(3), torch.ones(3)] if name.startswith("bn_") and \
        name != "bn_module" else []


def _calls(torch, name, tmp_path, n=4, seed=0, fn=None):
    mod = _load(torch.__name__, name, tmp_path)
    torch.manual_seed(0)
    f = fn if fn is not None else (mod.make() if hasattr(mod, "make") else mod.f)
    s = torch.jit.script(f) if fn is None else fn
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(sh).astype(np.float32) for sh in CASES[name][1]]
    res = []
    for _ in range(n):
        torch.manual_seed(1)
        args = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = s(*args, *_extra(torch, name))
        res.append((out, args))
    return res, f, arrays


@pytest.mark.parametrize("name", sorted(CASES))
def test_regions_take_ops_as_torch(name, tmp_path):
    res, _, _ = _calls(gpujit, name, tmp_path)
    want = CASES[name][2]
    for out, _ in res[1:]:
        got = _short(out.grad_fn)
        if want is None:
            assert got.startswith(BN_MODULE_REGION), got
        else:
            assert got == want


@pytest.mark.parametrize("name", sorted(CASES))
def test_regions_take_ops_as_installed_torch(name, tmp_path):
    torch = pytest.importorskip("torch")
    want, _, _ = _calls(torch, name, tmp_path)
    got, _, _ = _calls(gpujit, name, tmp_path)
    for (w, _), (g, _) in zip(want[1:], got[1:]):
        if CASES[name][2] is None:
            assert _short(w.grad_fn).startswith(BN_MODULE_REGION)
            assert _short(g.grad_fn).startswith(BN_MODULE_REGION)
        else:
            assert _short(w.grad_fn) == CASES[name][2]
            assert _short(g.grad_fn) == _short(w.grad_fn)


@pytest.mark.parametrize("name", sorted(CASES))
def test_region_values_and_gradients_equal_eager(name, tmp_path):
    # the same seed before each call: dropout's mask is eager's (one draw per call)
    res, f, arrays = _calls(gpujit, name, tmp_path, n=3, seed=3)
    out, args = res[-1]
    (out * out).sum().backward()
    got = [out.detach().numpy()] + [_g(a) for a in args]
    if hasattr(f, "parameters"):
        got += [p.grad.numpy().copy() for p in f.parameters()]
        eager = f
        for p in f.parameters():
            p.grad = None
    else:
        eager = _load("gpujit", name, tmp_path).f
    if name == "bn_module":
        return      # (its running statistics moved: the module test below compares it)
    gpujit.manual_seed(1)
    eargs = [gpujit.tensor(a, requires_grad=True) for a in arrays]
    e = eager(*eargs, *_extra(gpujit, name))
    (e * e).sum().backward()
    want = [e.detach().numpy()] + [_g(a) for a in eargs]
    if hasattr(f, "parameters"):
        want += [p.grad.numpy() for p in f.parameters()]
    for a, b in zip(got, want):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)


def _g(t):
    return None if t.grad is None else t.grad.numpy()


def _bn_net(torch):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(3, 4)
            self.bn = nn.BatchNorm1d(4)
            self.d = nn.Dropout(0.25)

        def forward(self, x):
            return self.d(torch.relu(self.bn(self.l(x)))) * 2
    return Net


def test_batch_norm_running_stats_updated_once_per_call_and_dropout_drawn_once():
    # three scripted training calls against three eager ones from the same weights and
    # seeds: the running statistics, batch counter, outputs and gradients the same
    gpujit.manual_seed(0)
    net = _bn_net(gpujit)()
    ref = _bn_net(gpujit)()
    ref.load_state_dict(net.state_dict())
    s = gpujit.jit.script(net)
    rng = np.random.default_rng(5)
    for k in range(3):
        xa = rng.standard_normal((6, 3)).astype(np.float32)
        outs = []
        for m in (s, ref):
            gpujit.manual_seed(10 + k)
            x = gpujit.tensor(xa, requires_grad=True)
            out = m(x)
            (out * out).sum().backward()
            outs.append((out.detach().numpy(), x.grad.numpy()))
        np.testing.assert_array_equal(outs[0][0], outs[1][0])
        np.testing.assert_array_equal(outs[0][1], outs[1][1])
    for a, b in zip(net.state_dict().values(), ref.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(net.bn.num_batches_tracked) == 3
    for p, q in zip(net.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_bn_dropout_region_grad_fn_after_profiling():
    gpujit.manual_seed(0)
    s = gpujit.jit.script(_bn_net(gpujit)())
    for _ in range(3):
        out = s(gpujit.randn(5, 3, requires_grad=True))
    # {batch_norm, relu, dropout, mul} one region; the linear op by op
    assert _short(out.grad_fn).startswith(BN_MODULE_REGION)


def test_bn_dropout_region_grad_fn_as_installed_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    s = torch.jit.script(_bn_net(torch)())
    for _ in range(3):
        out = s(torch.randn(5, 3, requires_grad=True))
    assert _short(out.grad_fn).startswith(BN_MODULE_REGION)


def _drop_fn(x, w):
    return gpujit.tanh(gpujit.nn.functional.dropout(gpujit.sigmoid(x @ w), 0.4, True)) * 3


def _bn_fn(x, w, b, rm, rv):
    F = gpujit.nn.functional
    return gpujit.tanh(F.batch_norm(x * x, rm, rv, w, b, True, 0.1, 1e-5)) * 2


@pytest.mark.parametrize("which", ["dropout", "batch_norm"])
def test_region_create_graph_double_backward_equals_eager(which):
    # create_graph: the region's values computed again with history -- dropout's mask
    # applied again (not drawn anew), batch_norm's running statistics not updated twice
    rng = np.random.default_rng(9)
    if which == "dropout":
        fn, shapes = _drop_fn, [(4, 4), (4, 4)]
    else:
        fn, shapes = _bn_fn, [(5, 3), (3,), (3,)]
    arrays = [rng.standard_normal(sh).astype(np.float32) for sh in shapes]

    def second(f):
        gpujit.manual_seed(4)
        args = [gpujit.tensor(a, requires_grad=True) for a in arrays]
        stats = [gpujit.zeros(3), gpujit.ones(3)] if which == "batch_norm" else []
        out = f(*args, *stats)
        g = gpujit.autograd.grad((out * out).sum(), args[0], create_graph=True)[0]
        (g * g).sum().backward()
        return [a.grad.numpy() for a in args] + [t.numpy() for t in stats], out

    s = gpujit.jit.script(fn)
    for _ in range(2):
        second(s)
    got, out = second(s)
    assert out.grad_fn.name().endswith("DifferentiableGraphBackward")
    want, _ = second(fn)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_dropout_region_gradient_numpy():
    # the region's gradient is the mask the forward drew times 1 / (1 - p)
    @gpujit.jit.script
    def f(x, w):
        return gpujit.nn.functional.dropout(x * w, 0.5, True) * 2

    for _ in range(3):
        x = gpujit.ones(50, requires_grad=True)
        w = gpujit.full((50,), 3.0, requires_grad=True)
        out = f(x, w)
    assert _short(out.grad_fn) == "DGB(A, A)"
    out.sum().backward()
    kept = out.detach().numpy() != 0
    assert 0 < kept.sum() < 50
    np.testing.assert_array_equal(out.detach().numpy(), np.where(kept, 12.0, 0.0))
    np.testing.assert_array_equal(x.grad.numpy(), np.where(kept, 12.0, 0.0))
    np.testing.assert_array_equal(w.grad.numpy(), np.where(kept, 4.0, 0.0))


def test_eval_dropout_region_output_is_not_the_input():
    # dropout with a non-constant `train` (False at run time) returns its input: as a
    # region's output it is an alias, the input leaf keeps no grad_fn
    @gpujit.jit.script
    def f(x, w, train: bool):
        y = gpujit.nn.functional.dropout(x, 0.5, train)
        return y, gpujit.tanh(y * w) * 2

    for _ in range(3):
        x = gpujit.ones(3, requires_grad=True)
        w = gpujit.ones(3, requires_grad=True)
        y, z = f(x, w, False)
    assert x.grad_fn is None and x.is_leaf
    (y.sum() + z.sum()).backward()
    t = np.tanh(1.0)
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 1 + 2 * (1 - t * t)), rtol=1e-6)


def test_dropout_region_backward_reads_each_calls_mask():
    # the region's traced backward (made at the first backward, reused after) takes the
    # mask as an input: each call's gradient is its own mask's
    @gpujit.jit.script
    def f(x, w):
        return gpujit.nn.functional.dropout(gpujit.tanh(x * w), 0.5, True) * 2

    seen = set()
    for k in range(6):
        gpujit.manual_seed(100 + k)
        x = gpujit.full((64,), 0.5, requires_grad=True)
        w = gpujit.ones(64, requires_grad=True)
        out = f(x, w)
        out.sum().backward()
        kept = out.detach().numpy() != 0
        seen.add(kept.tobytes())
        if k >= 2:
            assert _short(out.grad_fn) == "DGB(A, A)"
        t = np.tanh(0.5)
        np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 4 * (1 - t * t), 0.0),
                                   rtol=1e-6)
    assert len(seen) == 6


# ---------------------------------------------------------------- loops unrolled
# torch 2.13's profiling executor unrolls a for-loop with a constant trip count below 64
# and a body of at most 32 executed nodes (UnrollLoops) before it cuts regions: the
# iterations' ops join ONE region. (name, source, shapes, torch 2.13's grad_fn, calls 2..4)
LOOPS = {
    "range3": ("def f(x, w):\n    h = x\n    for i in range(3):\n        h = torch.tanh(h @ w)\n"
               "    return h\n", [(4, 4), (4, 4)], "DGB(A, A)"),
    "range20": ("def f(x, w):\n    h = x\n    for i in range(20):\n        h = torch.tanh(h @ w)\n"
                "    return h\n", [(4, 4), (4, 4)], "DGB(A, A)"),
    "index_used": ("def f(x, w):\n    h = x\n    for i in range(3):\n"
                   "        h = torch.tanh(h @ w) * i\n    return h\n", [(4, 4), (4, 4)],
                   "DGB(A, A)"),
    "if_on_index": ("def f(x, w):\n    h = x\n    for i in range(3):\n        if i == 1:\n"
                    "            h = torch.sigmoid(h @ w)\n        else:\n"
                    "            h = torch.tanh(h @ w)\n    return h\n", [(4, 4), (4, 4)],
                    "DGB(A, A)"),
    "nested": ("def f(x, w):\n    h = x\n    for i in range(2):\n        for j in range(2):\n"
               "            h = torch.tanh(h @ w)\n    return h\n", [(4, 4), (4, 4)], "DGB(A, A)"),
    "sum_after": ("def f(x, w):\n    h = x\n    for i in range(2):\n"
                  "        h = torch.tanh(h @ w) * 2\n    return h.sum()\n", [(4, 4), (4, 4)],
                  "SumBackward0(DGB(A, A))"),
    "rnn_cell": ("def f(x, h, wi, wh):\n    for t in range(4):\n"
                 "        h = torch.tanh(x[t] @ wi + h @ wh)\n    return h\n",
                 [(5, 2, 4), (2, 4), (4, 4), (4, 4)],
                 "DGB(A, A, SelectBackward0(A), SelectBackward0(A), SelectBackward0(A), A, "
                 "SelectBackward0(A))"),
    # (unrolled too: the list's appends and reads keep each iteration's ops apart)
    "list_append": ("def f(x, w):\n    hs = [x]\n    for i in range(3):\n"
                    "        hs.append(torch.tanh(hs[-1] @ w))\n    return hs[-1] * 2\n",
                    [(4, 4), (4, 4)], "MulBackward1(DGB(A, DGB(A, DGB(A, A))))"),
}


def _loop_calls(torch, name, tmp_path, seed=0):
    src, shapes, _ = LOOPS[name]
    path = tmp_path / f"s49_loop_{name}_{torch.__name__}.py"
    path.write_text(_HEAD.format(m=torch.__name__) + src)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    s = torch.jit.script(mod.f)
    rng = np.random.default_rng(seed)
    arrays = [(rng.standard_normal(sh) * 0.5).astype(np.float32) for sh in shapes]
    res = []
    for _ in range(4):
        args = [torch.tensor(a, requires_grad=True) for a in arrays]
        res.append((s(*args), args))
    return res, mod.f, s, arrays


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_constant_loops_unrolled_into_one_region(name, tmp_path):
    res, _, _, _ = _loop_calls(gpujit, name, tmp_path)
    for out, _ in res[1:]:
        assert _short(out.grad_fn) == LOOPS[name][2]


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_constant_loops_as_installed_torch(name, tmp_path):
    torch = pytest.importorskip("torch")
    want, _, _, _ = _loop_calls(torch, name, tmp_path)
    got, _, _, _ = _loop_calls(gpujit, name, tmp_path)
    for (w, _), (g, _) in zip(want[1:], got[1:]):
        assert _short(w.grad_fn) == LOOPS[name][2]
        assert _short(g.grad_fn) == _short(w.grad_fn)


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_unrolled_loops_values_and_gradients_equal_eager(name, tmp_path):
    res, f, s, arrays = _loop_calls(gpujit, name, tmp_path, seed=7)
    out, args = res[-1]
    (out * out).sum().backward()
    eargs = [gpujit.tensor(a, requires_grad=True) for a in arrays]
    e = f(*eargs)
    (e * e).sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), e.detach().numpy())
    for a, b in zip(args, eargs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_unrolled_loop_graph_for_has_no_loop_and_no_grad_values():
    # the optimized graph (graph_for, no gradient recorded too) holds the copies, as
    # torch's; the scripted graph keeps its prim::Loop
    @gpujit.jit.script
    def f(x, w):
        h = x
        for i in range(3):
            h = gpujit.tanh(h @ w + 1.0)
        return h

    x = gpujit.full((3, 3), 0.1)
    w = gpujit.eye(3)
    for _ in range(3):
        out = f(x, w)
    g = str(f.graph_for(x, w))
    assert "prim::Loop" not in g and g.count("aten::matmul") == 3
    assert "prim::Loop" in str(f.graph)
    want = np.full((3, 3), 0.1)
    for _ in range(3):
        want = np.tanh(want + 1.0)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)


def test_long_or_big_loops_are_not_unrolled():
    # 64 trips, or a body of more than 32 executed nodes: kept a loop (torch unrolls
    # those by 8 with an epilogue loop, gpujit not: its regions are per iteration)
    @gpujit.jit.script
    def f(x):
        for i in range(64):
            x = x * 0.5 + 1.0
        return x

    @gpujit.jit.script
    def g(x):
        for i in range(2):
            x = x + 1; x = x + 1; x = x + 1; x = x + 1; x = x + 1; x = x + 1  # noqa: E702
            x = x + 1; x = x + 1; x = x + 1; x = x + 1; x = x + 1; x = x + 1  # noqa: E702
            x = x + 1; x = x + 1; x = x + 1; x = x + 1; x = x + 1; x = x + 1  # noqa: E702
            x = x + 1; x = x + 1; x = x + 1; x = x + 1; x = x + 1; x = x + 1  # noqa: E702
            x = x + 1; x = x + 1; x = x + 1; x = x + 1; x = x + 1; x = x + 1  # noqa: E702
            x = x + 1; x = x + 1; x = x + 1                                    # noqa: E702
        return x

    x = gpujit.ones(3)
    for fn, want in ((f, None), (g, 67.0)):
        for _ in range(3):
            out = fn(x)
        assert "prim::Loop" in str(fn.graph_for(x))
        if want is not None:
            np.testing.assert_array_equal(out.numpy(), np.full(3, want, np.float32))


# ---------------------------------------------------------------- graph_for's regions
@pytest.fixture(autouse=True)
def _show_regions():
    from gpujit.jit import region_display
    prev = region_display.show_regions(True)
    yield
    region_display.show_regions(prev)


def _dg_nodes(block):
    """The prim::DifferentiableGraph nodes of a graph or block (in blocks too)."""
    out = []
    for n in block.nodes():
        if n.kind() == "prim::DifferentiableGraph":
            out.append(n)
        for b in n.blocks():
            out += _dg_nodes(b)
    return out


def _ops(graph):
    """The aten ops of a (sub)graph, fusion groups' subgraphs included, in order."""
    out = []
    for n in graph.nodes():
        if n.kind().startswith("aten::"):
            out.append(n.kind())
        if n.kind() == "prim::TensorExprGroup":
            out += _ops(n.g("Subgraph"))
        for b in n.blocks():
            out += _ops(b)
    return out


GRAPHS = {
    # (source, shapes, the aten ops of each DifferentiableGraph as torch 2.13 shows them)
    "mlp_reshape": ("def f(x, w1, b1, w2):\n    h = torch.tanh(F.linear(x, w1, b1))\n"
                    "    h = h.reshape(-1, 8)\n    return torch.relu(h @ w2).sum()\n",
                    [(4, 8), (8, 8), (8,), (8, 8)],
                    [["aten::linear", "aten::tanh"], ["aten::matmul", "aten::relu"]]),
    "loop": (LOOPS["range3"][0], LOOPS["range3"][1], [["aten::matmul", "aten::tanh"] * 3]),
    "one_op": ("def f(x, w):\n    return (x @ w).sum()\n", [(4, 4), (4, 4)], []),
}


def _graph_for(torch, name, tmp_path):
    src, shapes, _ = GRAPHS[name]
    path = tmp_path / f"s49_g_{name}_{torch.__name__}.py"
    path.write_text(_HEAD.format(m=torch.__name__) + src)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    s = torch.jit.script(mod.f)
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(sh).astype(np.float32) for sh in shapes]
    for _ in range(3):
        out = s(*[torch.tensor(a, requires_grad=True) for a in arrays])
    return torch.jit.last_executed_optimized_graph(), out


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_shows_differentiable_graphs(name, tmp_path):
    g, out = _graph_for(gpujit, name, tmp_path)
    dgs = _dg_nodes(g)
    assert [_ops(n.g("Subgraph")) for n in dgs] == GRAPHS[name][2]
    for n in dgs:
        # behind torch's guard: RequiresGradCheck -> If(block0: the node, block1: fallback)
        owner = n.owningBlock().owningNode()
        assert owner.kind() == "prim::If"
        assert owner.inputsAt(0).node().kind() == "prim::RequiresGradCheck"
        assert [m.kind() for m in list(owner.blocks())[1].nodes()] == [
            "prim::Constant", "prim::CallFunction", "prim::TupleUnpack"]
    text = str(g)
    assert text.count("with prim::DifferentiableGraph_") == len(dgs)


def test_graph_regions_inputs_in_merge_order():
    # the node's inputs are its DifferentiableGraphBackward's edges, in the same order
    class MLP(gpujit.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = gpujit.nn.Linear(4, 8)
            self.l2 = gpujit.nn.Linear(8, 3)

        def forward(self, x):
            return self.l2(gpujit.tanh(self.l1(x)))

    m = gpujit.jit.script(MLP())
    x = gpujit.randn(5, 4, requires_grad=True)
    for _ in range(3):
        m(x)
    g = m.graph_for(x)
    (dg,) = _dg_nodes(g)
    sub = dg.g("Subgraph")
    assert _ops(sub) == ["aten::linear", "aten::tanh", "aten::linear"]
    assert len(list(dg.inputs())) == 5
    assert "prim::DifferentiableGraph" not in str(m.graph)
    # no gradient recorded: no region shown
    f = gpujit.jit.script(_load_plain())
    y = gpujit.randn(3, 3)
    for _ in range(3):
        f(y, y)
    assert "DifferentiableGraph" not in str(f.graph_for(y, y))


def _load_plain():
    def plain(x, w):
        return gpujit.tanh(x @ w) * 2
    return plain


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_differentiable_graphs_as_installed_torch(name, tmp_path):
    torch = pytest.importorskip("torch")
    want, _ = _graph_for(torch, name, tmp_path)
    got, _ = _graph_for(gpujit, name, tmp_path)
    w = [[k for k in _ops(n.g("Subgraph")) if k not in ("aten::size",)]
         for n in _dg_nodes(want)]
    assert w == GRAPHS[name][2]
    assert [_ops(n.g("Subgraph")) for n in _dg_nodes(got)] == w


# ---------------------------------------------------------------- torch's peephole
# torch 2.13 drops `x * 1`, `x + 0`, `x - 0` (int constants) from the optimized graph
# (not `x / 1`, not `x * 1.0`): (source, torch's grad_fn on calls 2..4)
PEEPHOLE = {
    "mul1": ("def f(x, w):\n    return torch.tanh(x * 1) * w\n", "DGB(A, A)"),
    "mul1_alone": ("def f(x, w):\n    return torch.tanh(x * 1)\n", "TanhBackward0(A)"),
    "add0": ("def f(x, w):\n    return (x + 0) * w\n", "MulBackward0(A, A)"),
    "sub0": ("def f(x, w):\n    return torch.sigmoid(x - 0)\n", "SigmoidBackward0(A)"),
    "div1": ("def f(x, w):\n    return torch.sigmoid(x / 1)\n", "DGB(A)"),
    "mul1_float": ("def f(x, w):\n    return torch.sigmoid(x * 1.0)\n", "DGB(A)"),
}


def _peephole_calls(torch, name, tmp_path):
    path = tmp_path / f"s49_p_{name}_{torch.__name__}.py"
    path.write_text(_HEAD.format(m=torch.__name__) + PEEPHOLE[name][0])
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    s = torch.jit.script(mod.f)
    xa = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    outs = []
    for _ in range(4):
        x, w = torch.tensor(xa, requires_grad=True), torch.tensor(xa * 2, requires_grad=True)
        outs.append((s(x, w), x, w))
    return outs, mod.f, xa


@pytest.mark.parametrize("name", sorted(PEEPHOLE))
def test_identity_arithmetic_dropped_as_torch(name, tmp_path):
    outs, f, xa = _peephole_calls(gpujit, name, tmp_path)
    for out, _, _ in outs[1:]:
        assert _short(out.grad_fn) == PEEPHOLE[name][1]
    out, x, w = outs[-1]
    out.sum().backward()
    ex, ew = gpujit.tensor(xa, requires_grad=True), gpujit.tensor(xa * 2, requires_grad=True)
    e = f(ex, ew)
    e.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), e.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), ex.grad.numpy())


@pytest.mark.parametrize("name", sorted(PEEPHOLE))
def test_identity_arithmetic_as_installed_torch(name, tmp_path):
    torch = pytest.importorskip("torch")
    want, _, _ = _peephole_calls(torch, name, tmp_path)
    got, _, _ = _peephole_calls(gpujit, name, tmp_path)
    for (w, _, _), (g, _, _) in zip(want[1:], got[1:]):
        assert _short(w.grad_fn) == PEEPHOLE[name][1]
        assert _short(g.grad_fn) == _short(w.grad_fn)


def test_identity_arithmetic_kept_where_it_changes_dtype_or_aliasing():
    # bool * 1 is int64 (torch 2.13 drops it and returns the bool: not here); a returned
    # x * 1 of an input is a new tensor (both would reach the caller); a result written in
    # place stays a copy
    @gpujit.jit.script
    def f(b):
        return (b * 1).sum()

    @gpujit.jit.script
    def g(x):
        return x * 1

    @gpujit.jit.script
    def h(x):
        y = x + 0
        y.add_(1)
        return y * 2

    b = gpujit.tensor([True, False, True])
    x = gpujit.ones(3)
    for _ in range(3):
        r = f(b)
        gy = g(x)
        hy = h(x)
    assert r.dtype is gpujit.int64 and int(r) == 2
    assert gy is not x and gy.data_ptr() != x.data_ptr()
    np.testing.assert_array_equal(x.numpy(), np.ones(3, np.float32))
    np.testing.assert_array_equal(hy.numpy(), np.full(3, 4.0, np.float32))
    gr = str(g.graph_for(x))
    assert "aten::mul" in gr
    assert "aten::add(" in str(h.graph_for(x))


# x * w through one more op, as torch 2.13 records it on calls 2+ (one region each)
MORE_OPS = {
    "max_pool2d": ("F.max_pool2d(x * w, 2) * 2", (1, 2, 4, 4)),
    "avg_pool2d": ("F.avg_pool2d(x * w, 2) * 2", (1, 2, 4, 4)),
    "adaptive_avg_pool2d": ("F.adaptive_avg_pool2d(x * w, 1) * 2", (1, 2, 4, 4)),
    "embedding": ("F.embedding(torch.tensor([1, 2, 4, 1]), x * w) * 2", (5, 3)),
    "dot": ("torch.dot(x * w, x) * 2", (5,)),
    "mv": ("torch.mv(x * w, x[0]) * 2", (4, 4)),
}


# (mv's second operand x[0] records its SelectBackward0 outside the region)
MORE_WANT = {"mv": "DGB(SelectBackward0(A), A, A)"}


def _more_calls(torch, name, tmp_path, calls=4):
    path = tmp_path / f"s49_m_{name}_{torch.__name__}.py"
    path.write_text(_HEAD.format(m=torch.__name__) +
                    f"def f(x, w):\n    return {MORE_OPS[name][0]}\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    s = torch.jit.script(mod.f)
    rng = np.random.default_rng(11)
    xa, wa = (rng.standard_normal(MORE_OPS[name][1]).astype(np.float32) for _ in range(2))
    res = []
    for fn in [s] * calls + [mod.f]:
        x, w = torch.tensor(xa, requires_grad=True), torch.tensor(wa, requires_grad=True)
        out = fn(x, w)
        res.append((out, x, w))
    return res


@pytest.mark.parametrize("name", sorted(MORE_OPS))
def test_pools_embedding_dot_join_regions(name, tmp_path):
    res = _more_calls(gpujit, name, tmp_path)
    for out, _, _ in res[1:4]:
        assert _short(out.grad_fn) == MORE_WANT.get(name, "DGB(A, A)")
    got, want = res[3], res[4]
    for out, x, w in (got, want):
        (out * out).sum().backward()
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    np.testing.assert_array_equal(got[1].grad.numpy(), want[1].grad.numpy())
    np.testing.assert_array_equal(got[2].grad.numpy(), want[2].grad.numpy())


@pytest.mark.parametrize("name", sorted(MORE_OPS))
def test_pools_embedding_dot_as_installed_torch(name, tmp_path):
    torch = pytest.importorskip("torch")
    want = _more_calls(torch, name, tmp_path)
    got = _more_calls(gpujit, name, tmp_path)
    for (w, _, _), (g, _, _) in zip(want[1:4], got[1:4]):
        assert _short(g.grad_fn) == _short(w.grad_fn) == MORE_WANT.get(name, "DGB(A, A)")
