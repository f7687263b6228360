"""PyTorch's test_jit_fuser.py (the legacy fuser's TestFuser) as behaviour of gpujit's
fuser, for the programs tests/test_fuser_te_port_a.py / _b.py (the TE fuser's file) do not
already cover: backward graphs that run fused (clamp, sigmoid(x + y), IoU, the LSTM cell),
remainder, dropout's gradients, the kernel cache shared by identical groups, one scripted
function run on the CPU and two GPUs, random ops next to fused ones, normalization modules
feeding a fused residual, and _grad_sum_to_size (gradients of broadcast inputs).

What only the legacy fuser did is checked for values only: rand_like inside a group
(test_rand_cuda, test_rand_broadcast_cuda: the pointwise ops around it do fuse) and
batch_norm / layer_norm decomposition into the group (test_fuse_decompose_normalization):
gpujit follows NNC, where random ops and the normalizations' reductions stay outside
fusion groups. The LSTM cell's backward is two groups, not one: its gate gradients' cat
([3, 80]) and d(cx) ([3, 20]) are results of different sizes, and a gpujit kernel walks
one iteration space (upstream's test returns before its fusion asserts now). Left out: test_cuda_bfloat16
(gpujit has no bfloat16), test_abs_cpu_unicode_temp_dir (Windows' compiler temp dir) and
the ga/gb storage sharing of test_fuser_deduplication (skipped upstream: it aliased the
backward graph's outputs)."""
from itertools import product

import numpy as np
import pytest

import gpujit as torch
from fusion_asserts import fast_path_kinds
import gpujit.nn as nn
import gpujit.nn.functional as F
from gpujit.runtime.interpreter import GROUP_RUNNER

GROUP = "prim::TensorExprGroup"
_ALLOWED = {"prim::Constant", GROUP, "prim::TypeCheck", "prim::RequiresGradCheck",
            "prim::TensorExprDynamicGuard"}


@pytest.fixture(autouse=True)
def _static_strategy():
    old = torch._C._jit_set_fusion_strategy([("STATIC", 20)])
    yield
    torch._C._jit_set_fusion_strategy(old)


def assert_all_fused(graph, except_for=()):
    kinds = fast_path_kinds(graph)
    stray = [k for k in kinds if k not in _ALLOWED and k not in set(except_for)]
    assert not stray, f"unfused nodes {stray} in\n{graph}"
    assert kinds.count(GROUP) == 1, f"not one fusion group in\n{graph}"


def groups(graph):
    return [n.g("Subgraph") for n in graph.findAllNodes(GROUP)]


def _rng(seed):
    return np.random.default_rng(seed)


def randn(*shape, seed=0, requires_grad=False, device="cpu"):
    t = torch.from_numpy(_rng(seed).standard_normal(shape).astype(np.float32)).to(device)
    return t.requires_grad_() if requires_grad else t


def close(got, want, rtol=1.3e-6, atol=1e-5):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            close(g, w, rtol, atol)
        return
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape), (got.shape, want.shape)
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().cpu().numpy(),
                               rtol=rtol, atol=atol, equal_nan=True)


def check_script(fn, args, calls=3, **tol):
    s = torch.jit.script(fn)
    want = fn(*args)
    for _ in range(calls):
        got = s(*args)
    close(got, want, **tol)
    return s


def backward_graphs(f, *args):
    """The traced backward graphs (optimized, as run) of the fusion groups that ran
    recording gradients in f's specialization for args (PyTorch's backward_graph(s))."""
    exe = f._get_executable()
    spec = exe._active[exe.key(list(args))]
    runners = [g.node.meta[GROUP_RUNNER] for g in spec.groups if GROUP_RUNNER in g.node.meta]
    # (a group inside a DifferentiableGraph region is differentiated by the region's backward)
    from fusion_asserts import region_group_runners
    runners += region_group_runners(spec)
    out = []
    for r in runners:
        for bw in r.backwards.values():
            if bw:
                out.extend(s.graph for s in bw.fn.specializations)
    return out


def grads_of(fn, args, wrt):
    """Eager gradients of fn(*args).sum() (a tuple output: the sum of its sums)."""
    out = fn(*args)
    outs = out if isinstance(out, tuple) else (out,)
    return torch.autograd.grad(sum(o.sum() for o in outs), wrt)


# ---------------------------------------------------------------- remainder

def _rem(x, y):
    return 1 + torch.remainder(x, y) - 1


def test_remainder():
    a = torch.from_numpy(_rng(1).uniform(0, 1, 512).astype(np.float32))
    b = torch.from_numpy(_rng(2).uniform(0, 1, 512).astype(np.float32))
    s = check_script(_rem, (a, b))
    assert_all_fused(s.graph_for(a, b))
    # Python's (and torch's) sign rule: the result takes the divisor's sign
    x = torch.tensor([-3.0, 3.0, -3.5, 7.25])
    y = torch.tensor([2.0, -2.0, 2.0, -2.0])
    np.testing.assert_allclose(s(x, y).numpy(), [1.0, -1.0, 0.5, -0.75], rtol=1e-6)


@pytest.mark.cuda
def test_remainder_cuda():
    a = torch.from_numpy(_rng(1).uniform(0, 1, 512).astype(np.float32)).cuda()
    b = torch.from_numpy(_rng(2).uniform(0, 1, 512).astype(np.float32)).cuda()
    s = check_script(_rem, (a, b))
    assert s(a, b).device.type == "cuda"
    assert_all_fused(s.graph_for(a, b))


# ---------------------------------------------------------------- clamp's backward

def _clamp2(a, b):
    return torch.clamp(a + b, min=0, max=2)


def _clamp_inf(a, b):
    return torch.clamp(a + b, min=0, max=float("inf"))


def _clamp_opt_min(a, b):
    return torch.clamp(a + b, max=2)


def _clamp_opt_max(a, b):
    return torch.clamp(a + b, min=0)


@pytest.mark.parametrize("fn, with_nan", list(product(
    [_clamp2, _clamp_inf, _clamp_opt_min, _clamp_opt_max], [False, True])))
def test_clamp_backward_is_fused(fn, with_nan):
    a = randn(4, 4, seed=3, requires_grad=True)
    b = torch.tensor(float("nan")) if with_nan else randn(4, 4, seed=4) * 2
    s = check_script(fn, (a, b))
    assert_all_fused(s.graph_for(a, b))
    for _ in range(2):
        (ga,) = torch.autograd.grad(s(a, b).sum(), [a])
    (want,) = grads_of(fn, (a, b), [a])
    close(ga, want)
    bws = backward_graphs(s, a, b)
    assert bws, "clamp's backward did not run as a traced graph"
    for g in bws:
        assert_all_fused(g, except_for={"prim::TupleConstruct"})


# ---------------------------------------------------------------- dropout

def _dropout_relu(x):
    x = torch.nn.functional.dropout(x)
    return torch.nn.functional.relu(x)


def test_dropout_gradients():
    """(test_dropout) dropout keeps each element with p = 0.5 and scales it by 2: the
    gradient of relu(dropout(a)).sum() is 2 where the output is positive, else 0."""
    a = randn(64, 64, seed=5, requires_grad=True)
    s = torch.jit.script(_dropout_relu)
    for _ in range(3):
        c = s(a)
        (ga,) = torch.autograd.grad(c.sum(), [a])
        cn, gn, an = c.detach().numpy(), ga.numpy(), a.detach().numpy()
        kept = cn != 0
        np.testing.assert_allclose(cn[kept], 2 * an[kept], rtol=1e-6)
        np.testing.assert_array_equal(gn, np.where(kept, 2.0, 0.0).astype(np.float32))
        assert 0.3 < (an > 0)[kept].size / an.size or kept.mean() > 0.1
    # eval-like call (training=False) is the identity before relu
    def no_drop(x):
        return torch.nn.functional.relu(torch.nn.functional.dropout(x, training=False))
    close(check_script(no_drop, (a.detach(),))(a.detach()), F.relu(a.detach()))


# ---------------------------------------------------------------- deduplication, IoU

def _sigmoid_sum(x, y):
    return torch.sigmoid(x + y)


def test_fuser_deduplication():
    """sigmoid(x + y): forward and backward fused; both inputs get the same gradient."""
    b = randn(5, 5, seed=6, requires_grad=True)
    a = randn(5, 5, seed=7, requires_grad=True)
    s = check_script(_sigmoid_sum, (a, b))
    assert_all_fused(s.graph_for(a, b))
    for _ in range(2):
        ga, gb = torch.autograd.grad(s(a, b).sum(), [a, b])
    close(ga, gb, rtol=0, atol=0)
    sg = 1 / (1 + np.exp(-(a.detach().numpy() + b.detach().numpy())))
    np.testing.assert_allclose(ga.numpy(), sg * (1 - sg), rtol=1e-5, atol=1e-7)
    for g in backward_graphs(s, a, b):
        assert_all_fused(g, except_for={"prim::TupleConstruct"})


def _iou(b1x1, b1y1, b1x2, b1y2, b2x1, b2y1, b2x2, b2y2):
    ltx = torch.max(b1x1, b2x1)  # [N,M]
    lty = torch.max(b1y1, b2y1)
    rbx = torch.min(b1x2, b2x2)
    rby = torch.min(b1y2, b2y2)
    w = (rbx - ltx).clamp(min=0, max=float("inf"))
    h = (rby - lty).clamp(min=0, max=float("inf"))
    inter = w * h
    area1 = (b1x2 - b1x1) * (b1y2 - b1y2)  # [N,1]
    area2 = (b2x2 - b2x1) * (b2y2 - b2y2)  # [1,M]
    return inter / (area1 + area2 - inter)


def _boxes():
    box1 = randn(5, 4, seed=8, requires_grad=True)
    box2 = randn(5, 4, seed=9, requires_grad=True)
    return ([box1[:, i].unsqueeze(1) for i in range(4)]
            + [box2[:, i].unsqueeze(0) for i in range(4)])


def test_fuser_iou():
    """Intersection over union of [N,1] and [1,M] boxes: one group forward; its backward
    (whose gradients sum the [N,M] broadcast back to [N,1] / [1,M]) runs fused."""
    args = _boxes()
    s = check_script(_iou, args)
    assert_all_fused(s.graph_for(*args))
    for _ in range(2):
        got = torch.autograd.grad(s(*args).sum(), args)
    want = grads_of(_iou, args, args)
    for g, w, a in zip(got, want, args):
        assert tuple(g.shape) == tuple(a.shape)
        close(g, w, rtol=1e-4, atol=1e-5)
    bws = backward_graphs(s, *args)
    assert bws
    for g in bws:
        assert groups(g), f"IoU's backward ran unfused:\n{g}"


# ---------------------------------------------------------------- LSTM backward

def _lstm_cell(x, hx, cx, w_ih, w_hh, b_ih, b_hh):
    gates = x.mm(w_ih.t()) + hx.mm(w_hh.t()) + b_ih + b_hh
    ingate, forgetgate, cellgate, outgate = gates.chunk(4, 1)
    ingate = torch.sigmoid(ingate)
    forgetgate = torch.sigmoid(forgetgate)
    cellgate = torch.tanh(cellgate)
    outgate = torch.sigmoid(outgate)
    cy = (forgetgate * cx) + (ingate * cellgate)
    hy = outgate * torch.tanh(cy)
    return hy, cy


def test_lstm_backward_is_fused():
    """(test_lstm_cuda) the cell's backward: the gate group's derivative runs as one
    fused graph (mm and t stay outside, as upstream's except_for)."""
    r = _rng(10)
    ts = [torch.from_numpy(r.standard_normal(s).astype(np.float32)).requires_grad_()
          for s in [(3, 10), (3, 20), (3, 20), (80, 10), (80, 20), (80,), (80,)]]
    s = check_script(_lstm_cell, ts, rtol=1e-5)
    for _ in range(2):
        hy, cy = s(*ts)
        got = torch.autograd.grad((hy + cy).sum(), ts)
    want = grads_of(_lstm_cell, ts, ts)
    close(list(got), list(want), rtol=1e-4, atol=1e-5)
    bws = backward_graphs(s, *ts)
    assert bws
    for g in bws:
        # no pointwise op (and no factory) outside a group: what stays out is the bias
        # gradients' sum over the batch (PyTorch's _grad_sum_to_size; gpujit does not
        # fuse reductions) and the gate gradients' cat ([3, 80]): one kernel walks one
        # iteration space, d(cx) ([3, 20]) is also a result, and each gate's gradient,
        # <act>_backward(grad, y), reads a y that other gradients read too, so no part of
        # it walks the cat's space; the cat then reads the group's results (a lone cat
        # makes no group, as NNC's minimum group size)
        # (since a48 the cell is one DifferentiableGraph region, linears and group: its
        # backward holds the mm and t of the matmuls' derivatives, upstream's except_for)
        kinds = fast_path_kinds(g)
        stray = [k for k in kinds if k not in _ALLOWED | {
            "prim::TupleConstruct", "aten::sum", "aten::reshape", "aten::sum_to_size",
            "prim::ListConstruct", "aten::cat", "aten::t", "aten::mm"}]
        assert not stray and 1 <= kinds.count(GROUP) <= 2, g
        for n in g.nodes:
            if n.kind == "aten::cat":
                pieces = n.inputs[0].node.inputs
                assert all(p.node.kind == GROUP for p in pieces), g


# ---------------------------------------------------------------- _grad_sum_to_size

def _broadcasted_cell(a, b, c):
    return (a + b) + c


@pytest.mark.parametrize("i", [0, 1, 2])
def test_grad_sum_to_size_elimination(i):
    """(a + b) + c with [5,5] and [5,1] inputs: each gradient has its input's shape (the
    [5,1] ones summed over the broadcast dim), and the forward is one group."""
    s1 = randn(5, 1, seed=11, requires_grad=True)
    s2 = randn(5, 5, seed=12, requires_grad=True)
    s = check_script(_broadcasted_cell, (s1, s1, s1))
    assert_all_fused(s.graph_for(s1, s1, s1))
    args = [s2 if i < 1 else s1, s2 if i < 2 else s1, s2]
    s = check_script(_broadcasted_cell, args)
    for _ in range(2):
        got = torch.autograd.grad(s(*args).sum(), args)
    for a, g in zip(args, got):
        # an input given twice gets its whole gradient at both places (as in PyTorch)
        uses = sum(b is a for b in args)
        assert tuple(g.shape) == tuple(a.shape)
        np.testing.assert_allclose(g.numpy(), np.full(a.shape, uses * (5.0 if a is s1 else 1.0)))


def test_autograd_grad_of_an_input_given_twice():
    """(found porting test_grad_sum_to_size_elimination) autograd.grad with one tensor at
    two places of `inputs`, before another one, raised IndexError; each place now gets
    its gradient, eagerly and through a fused function."""
    s1 = randn(5, 1, seed=11, requires_grad=True)
    s2 = randn(5, 5, seed=12, requires_grad=True)
    f = torch.jit.script(_broadcasted_cell)
    for fn in (_broadcasted_cell, f, f):
        for args in ([s1, s1, s2], [s2, s1, s1], [s1, s2, s1]):
            got = torch.autograd.grad(fn(*args).sum(), args)
            assert [tuple(g.shape) for g in got] == [tuple(a.shape) for a in args]
            for a, g in zip(args, got):
                np.testing.assert_allclose(g.numpy(), 10.0 if a is s1 else 1.0)
    x = randn(3, seed=1, requires_grad=True)
    gs = torch.autograd.grad((x * x).sum(), [x, x, x])
    for g in gs:
        np.testing.assert_allclose(g.numpy(), 2 * x.detach().numpy(), rtol=1e-6)


# ---------------------------------------------------------------- random ops

def test_rand_like_next_to_a_group():
    """(test_rand_cuda: values only; rand_like stays outside the group, as in NNC)"""
    class M(torch.jit.ScriptModule):
        @torch.jit.script_method
        def create(self, x):
            return x * x + x + torch.rand_like(x)

    x = torch.zeros([3, 4, 5])
    m = M()
    out1, out2 = m.create(x), m.create(x)
    assert not np.array_equal(out1.numpy(), out2.numpy())
    for o in (out1, out2):
        assert o.shape == (3, 4, 5) and o.dtype == torch.float32
        assert bool(torch.all(o >= 0)) and bool(torch.all(o < 1))


def _rand_between(x):
    return x * x + x + torch.rand_like(x)


def _rand_dep_and_other(x):
    y = x * 2
    a = torch.rand_like(y)      # reads y: would go after the group...
    b = torch.randn_like(x)     # ...past this draw: refused, the draws keep their order
    return (y + 1) * a - b


def _dropout_between(x):
    y = F.dropout(x * 2, 0.5, True)
    return y.relu() + x.exp()


@pytest.mark.parametrize("fn", [_rand_between, _rand_dep_and_other, _dropout_between])
def test_random_ops_keep_their_draws(fn):
    """A random op between a fused producer and its consumer no longer stops fusion (the
    producer is pure: it moves across the draw, as in NNC), and the numbers drawn are
    eager's for the same seed: random ops never pass one another."""
    s = torch.jit.script(fn)
    x = randn(4, 5, seed=25)
    for seed in range(4):
        torch.manual_seed(seed)
        want = fn(x)
        torch.manual_seed(seed)
        close(s(x), want)


def test_rand_like_between_fuses():
    """(test_rand_cuda's x * x + x + rand_like(x)) the three pointwise ops are one group;
    rand_like feeds it (the legacy fuser fused rand_like too; NNC, and gpujit, do not)."""
    s = torch.jit.script(_rand_between)
    x = randn(3, 4, 5, seed=26)
    for _ in range(3):
        s(x)
    g = s.graph_for(x)
    assert_all_fused(g, except_for={"aten::rand_like"})
    assert [n.kind() for n in groups(g)[0].nodes()].count("aten::add") == 2


def _rand_broadcast(x, y):
    r = torch.rand_like(y)
    return r * x + x


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def test_rand_broadcast(device):
    """(test_rand_broadcast_cuda: values only) the [4] random row broadcast over [4,4]:
    every row the same."""
    s = torch.jit.script(_rand_broadcast)
    x, y = randn(4, 4, seed=13, device=device), randn(4, 4, seed=14, device=device)
    for _ in range(3):
        out = s(x, y)
    assert out.shape == (4, 4)
    xr = x.clone().requires_grad_()
    out = s(xr, y)
    (g,) = torch.autograd.grad(out.sum(), [xr])
    assert g.shape == (4, 4)
    x, y = torch.ones(4, 4, device=device), torch.ones(4, device=device)
    for _ in range(3):
        out = s(x, y).cpu().numpy()
        np.testing.assert_array_equal(out[0], out[1])
        np.testing.assert_array_equal(out, np.broadcast_to(out[0], (4, 4)))
        assert ((out >= 1) & (out < 2)).all()


# ---------------------------------------------------------------- normalization

class _ResLike(torch.jit.ScriptModule):
    def __init__(self, norm_module):
        super().__init__()
        self.nm = norm_module

    @torch.jit.script_method
    def forward(self, x, y):
        return y + torch.relu(self.nm(x))


@pytest.mark.parametrize("make", [lambda: nn.BatchNorm2d(16), lambda: nn.LayerNorm(8)],
                         ids=["batch_norm", "layer_norm"])
@pytest.mark.parametrize("training", [True, False])
def test_normalization_then_fused_residual(make, training):
    """(test_fuse_decompose_normalization: values only; gpujit, as NNC, keeps the norm's
    reductions out of the group) y + relu(norm(x)) matches the eager module, and relu/add
    after the norm fuse."""
    nm = make()
    nm.train(training)
    model = _ResLike(nm)
    model.train(training)
    x, y = randn(2, 16, 8, 8, seed=15), randn(2, 16, 8, 8, seed=16)
    ref = make()
    ref.load_state_dict(nm.state_dict())
    ref.train(training)
    with torch.no_grad():
        for _ in range(3):
            out = model(x, y)
            want = y + torch.relu(ref(x))
            close(out, want, rtol=1e-5, atol=3e-5)
        g = model.graph_for(x, y)
    assert len(groups(g)) == 1, g
    # the same module without optimization: no group, the same values
    noopt = _ResLike(make())
    noopt.load_state_dict(model.state_dict())
    noopt.train(False)
    model.train(False)
    with torch.no_grad(), torch.jit.optimized_execution(False):
        close(noopt(x, y), model(x, y), rtol=1e-5, atol=3e-5)
        assert not groups(noopt.graph_for(x, y))
    text = str(groups(g)[0])
    assert "aten::relu" in text and "aten::add" in text
    if training and isinstance(nm, nn.BatchNorm2d):
        # the running stats were updated by each call, as eagerly
        np.testing.assert_allclose(nm.running_mean.numpy(), ref.running_mean.numpy(),
                                   rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- kernels and devices

def _not_fusible(x):
    return x


def _three_groups(x, y, z):
    x_out = x * x * x * x * x
    y_out = y * y * y * y * y
    z_out = z * z * z * z * z
    return _not_fusible(x_out), _not_fusible(y_out), _not_fusible(z_out)


def test_kernel_cache_shared_by_identical_groups():
    """(test_kernel_cache_multi_gpu on one device) fusion groups of the same graph on
    inputs of one spec share one kernel: a second function with the same body compiles
    nothing. (gpujit merges the three independent groups of one function on one device
    into one group; on three devices they stay three: test_kernel_cache_multi_gpu.)"""
    from gpujit.kernels import cache
    args = [randn(4, 4, seed=s) for s in (17, 18, 19)]
    first = torch.jit.script(_three_groups)
    for _ in range(2):
        close(list(first(*args)), [a ** 5 for a in args], rtol=1e-5)
    assert len(groups(first.graph_for(*args))) >= 1
    before = cache.cache_info()
    second = torch.jit.CompilationUnit(
        "def g(x, y, z):\n"
        "    x_out = x * x * x * x * x\n"
        "    y_out = y * y * y * y * y\n"
        "    z_out = z * z * z * z * z\n"
        "    return x_out, y_out, z_out\n").g
    for _ in range(2):
        close(list(second(*args)), [a ** 5 for a in args], rtol=1e-5)
    after = cache.cache_info()
    assert after.compiles == before.compiles and after.disk_hits == before.disk_hits
    assert after.hits > before.hits


def _fn4(x, y):
    return x * y * x * y


@pytest.mark.cuda
def test_fusion_reuse_across_devices():
    """(test_fusion_reuse_multi_gpu) one scripted function on CPU, cuda:0 and cuda:1
    inputs: each runs (a kernel for each), on its device, with the CPU's values."""
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two GPUs")
    cpu = [randn(4, 4, seed=20), randn(4, 4, seed=21)]
    s = check_script(_fn4, cpu)
    assert_all_fused(s.graph_for(*cpu))
    want = _fn4(*cpu)
    for dev in ("cuda:0", "cuda:1"):
        args = [a.to(dev) for a in cpu]
        for _ in range(3):
            out = s(*args)
        assert str(out.device) == dev
        close(out, want, rtol=1e-6)
        assert_all_fused(s.graph_for(*args))


@pytest.mark.cuda
def test_kernel_cache_multi_gpu():
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two GPUs")
    args = [randn(4, 4, seed=22), randn(4, 4, seed=23, device="cuda:0"),
            randn(4, 4, seed=24, device="cuda:1")]
    s = torch.jit.script(_three_groups)
    for _ in range(3):
        outs = s(*args)
    for o, a in zip(outs, args):
        assert o.device == a.device
        close(o.cpu(), (a ** 5).cpu(), rtol=1e-5)
    assert len(groups(s.graph_for(*args))) == 3


def _doit(x, y):
    return torch.sigmoid(torch.tanh(x * (x + y) + x))


@pytest.mark.cuda
def test_nonzero_device():
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two GPUs")
    x = torch.tensor([0.4], device="cuda:1")
    y = torch.tensor([0.7], device="cuda:1")
    t = torch.jit.trace(_doit, (x, y))
    for _ in range(3):
        out = t(x, y)
    assert str(out.device) == "cuda:1"
    want = 1 / (1 + np.exp(-np.tanh(0.4 * 1.1 + 0.4)))
    np.testing.assert_allclose(out.cpu().numpy(), [want], rtol=1e-6)
    assert_all_fused(t.graph_for(x, y))


@pytest.mark.cuda
def test_clamp_backward_cuda():
    a = randn(4, 4, seed=3, requires_grad=True, device="cuda")
    b = torch.tensor(float("nan"), device="cuda")
    for fn in (_clamp2, _clamp_opt_max):
        s = check_script(fn, (a, b))
        for _ in range(2):
            (ga,) = torch.autograd.grad(s(a, b).sum(), [a])
        assert ga.device.type == "cuda"
        (want,) = grads_of(fn, (a, b), [a])
        close(ga, want)
        for b2 in (randn(4, 4, seed=4, device="cuda"),):
            (ga,) = torch.autograd.grad(s(a, b2).sum(), [a])
            (want,) = grads_of(fn, (a, b2), [a])
            close(ga, want)
