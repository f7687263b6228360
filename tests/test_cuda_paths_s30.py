"""Session 30's changes on the CUDA path: the raw-array derivatives and in-place .grad
accumulation (Derivative.raw, engine._add_into), saved outputs without grad_fn, the
scripted modules' recording plan moved to cuda, optimizers' state devices, factories with
size= / out=, RNN hidden checks, dropout / randn_like / multinomial layouts.
`@pytest.mark.cuda` tests run on a GPU and, through test_fake_gpu.py's session,
against tests/fakecupy (a NumPy-backed CuPy) on machines without one; the rest run
everywhere. Expected values: the same program on the CPU (gpujit's CPU path is checked
against torch 2.13 elsewhere) or torch 2.13's CPU results where written out."""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import gpujit
import gpujit.nn as nn
import gpujit.nn.functional as F

cuda = pytest.mark.cuda
two_gpus = pytest.mark.two_gpus      # (cuda:1: skipped where one GPU is visible)


# (its cuda-marked tests run against the NumPy-backed CuPy in test_fake_gpu.py's session)


def _err(f):
    try:
        f()
    except Exception as e:      # noqa: BLE001 (the class and words are compared)
        return type(e), str(e)
    return None


def _mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def _data(dev):
    x = gpujit.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4), device=dev)
    y = gpujit.tensor(np.linspace(0, 1, 15, dtype=np.float32).reshape(5, 3), device=dev)
    return x, y


def _train(dev, opt_cls, steps=3, **kw):
    gpujit.manual_seed(0)
    m = _mlp().to(dev)
    opt = opt_cls(m.parameters(), lr=0.05, **kw)
    x, y = _data(dev)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(m(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return m, opt, losses


# ------------------------------------------------------------------ eager training

@cuda
@pytest.mark.parametrize("dev", ["cuda", pytest.param("cuda:1", marks=two_gpus)])
@pytest.mark.parametrize("opt", ["SGD", "SGD_momentum", "Adam", "AdamW"])
def test_an_eager_mlp_trains_on_cuda_as_on_the_cpu(dev, opt):
    cls, kw = {"SGD": (gpujit.optim.SGD, {}),
               "SGD_momentum": (gpujit.optim.SGD, {"momentum": 0.9}),
               "Adam": (gpujit.optim.Adam, {}),
               "AdamW": (gpujit.optim.AdamW, {"weight_decay": 0.1})}[opt]
    mc, _, lc = _train("cpu", cls, **kw)
    mg, optg, lg = _train(dev, cls, **kw)
    np.testing.assert_allclose(lg, lc, rtol=1e-5)
    want = gpujit.device(dev if ":" in dev else "cuda:0")
    for pc, pg in zip(mc.parameters(), mg.parameters()):
        assert pg.device == want and pg.grad.device == want
        np.testing.assert_allclose(pg.detach().cpu().numpy(), pc.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(pg.grad.cpu().numpy(), pc.grad.numpy(), rtol=1e-5,
                                   atol=1e-6)
    for st in optg.state.values():
        for k, v in st.items():
            # (Adam's step stays on the CPU unless fused / capturable, as torch's)
            assert v.device == (gpujit.device("cpu") if k == "step" else want), k


@cuda
def test_raw_backward_forms_on_cuda_equal_the_tensor_formulas():
    # Derivative.raw (no create_graph) against the Tensor formulas (create_graph=True) on
    # the same CuPy arrays: linear / mm / addmm / relu / mse_loss / sum, a bias summed
    # over leading dims
    gpujit.manual_seed(0)
    w = gpujit.randn(3, 4, device="cuda", requires_grad=True)
    b = gpujit.randn(3, device="cuda", requires_grad=True)
    m2 = gpujit.randn(3, 2, device="cuda", requires_grad=True)
    x = gpujit.randn(2, 5, 4, device="cuda", requires_grad=True)
    t = gpujit.randn(2, 5, 2, device="cuda")

    def loss():
        h = F.relu(F.linear(x, w, b))
        z = gpujit.addmm(gpujit.zeros(10, 2, device="cuda"), h.reshape(10, 3), m2)
        z = z + h.reshape(10, 3).mm(m2)
        return F.mse_loss(z.reshape(2, 5, 2), t) + z.sum() * 0.01

    leaves = (w, b, m2, x)
    raw = gpujit.autograd.grad(loss(), leaves)
    ref = gpujit.autograd.grad(loss(), leaves, create_graph=True)
    for a, r in zip(raw, ref):
        assert a.device == gpujit.device("cuda:0") and a.shape == r.shape
        np.testing.assert_array_equal(a.cpu().numpy(), r.detach().cpu().numpy())
    # and the CPU's values
    cpu = [v.detach().cpu().requires_grad_() for v in leaves]
    w, b, m2, x = cpu
    t = t.cpu()

    def loss_cpu():
        h = F.relu(F.linear(x, w, b))
        z = gpujit.addmm(gpujit.zeros(10, 2), h.reshape(10, 3), m2)
        z = z + h.reshape(10, 3).mm(m2)
        return F.mse_loss(z.reshape(2, 5, 2), t) + z.sum() * 0.01

    for a, c in zip(raw, gpujit.autograd.grad(loss_cpu(), cpu)):
        np.testing.assert_allclose(a.cpu().numpy(), c.numpy(), rtol=1e-5, atol=1e-6)


@cuda
def test_grad_accumulates_in_place_on_cuda():
    w = gpujit.ones(3, 2, device="cuda", requires_grad=True)
    x = gpujit.ones(4, 3, device="cuda")
    (x @ w).sum().backward()
    g, v = w.grad, w.grad._version
    (x @ w).sum().backward()
    assert w.grad is g and g._version > v and g.device == gpujit.device("cuda:0")
    np.testing.assert_array_equal(g.cpu().numpy(), np.full((3, 2), 8.0, np.float32))
    # zero_grad(set_to_none=False) keeps the object, the next backward adds into it
    m = nn.Linear(3, 2).cuda()
    m(x).sum().backward()
    g = m.weight.grad
    m.zero_grad(set_to_none=False)
    m(x).sum().backward()
    assert m.weight.grad is g
    np.testing.assert_array_equal(g.cpu().numpy(), np.full((2, 3), 4.0, np.float32))
    np.testing.assert_array_equal(m.bias.grad.cpu().numpy(), np.full(2, 4.0, np.float32))
    # a transposed .grad (add_'s path) keeps its object and strides; an expanded leaf's
    w = gpujit.ones(3, 2, device="cuda", requires_grad=True)
    w.grad = gpujit.zeros(2, 3, device="cuda").t()
    g = w.grad
    (w * 2).sum().backward()
    assert w.grad is g and g.stride() == (1, 3)
    np.testing.assert_array_equal(g.cpu().numpy(), np.full((3, 2), 2.0, np.float32))
    b = gpujit.ones(3, device="cuda", requires_grad=True)
    for _ in range(2):
        (b.expand(4, 3) * 1.0).sum().backward()
    np.testing.assert_array_equal(b.grad.cpu().numpy(), np.full(3, 8.0, np.float32))


@cuda
def test_float64_and_float16_backward_on_cuda_match_the_cpu():
    for dt in (gpujit.float64, gpujit.float16):
        res = {}
        for dev in ("cpu", "cuda"):
            gpujit.manual_seed(1)
            m = nn.Linear(4, 3).to(dev, dt)
            x = gpujit.linspace(-1, 1, 8, device=dev).reshape(2, 4).to(dt)
            F.relu(m(x)).sum().backward()
            res[dev] = [p.grad.cpu().numpy() for p in m.parameters()]
        for a, c in zip(res["cuda"], res["cpu"]):
            assert a.dtype == c.dtype
            np.testing.assert_allclose(a, c, rtol=1e-3)


# ------------------------------------------------------------------ .grad assignment

def test_assigning_a_grad_checks_it_as_torch():
    # torch 2.13's THPVariable_set_grad, in its order
    p = nn.Parameter(gpujit.ones(3))
    assert _err(lambda: setattr(p, "grad", 3)) == (
        TypeError, "assigned grad expected to be a Tensor or None but got grad of type int")
    assert _err(lambda: setattr(p, "grad", p)) == (
        RuntimeError, "can't assign Variable as its own grad")
    e = _err(lambda: setattr(p, "grad", gpujit.ones(3, dtype=gpujit.float64)))
    assert e[0] is RuntimeError and e[1].startswith(
        "attempting to assign a gradient with dtype 'double' to a tensor with grad_dtype "
        "'Float'. The gradient must match the tensor's grad_dtype (defaults to the "
        "tensor's dtype).")
    assert "'long int'" in _err(lambda: setattr(p, "grad", gpujit.ones(3).long()))[1]
    q = gpujit.ones(3, dtype=gpujit.float16, requires_grad=True)
    assert "dtype 'float' to a tensor with grad_dtype 'Half'" in \
        _err(lambda: setattr(q, "grad", gpujit.ones(3)))[1]
    assert _err(lambda: setattr(p, "grad", gpujit.ones(1, 3))) == (
        RuntimeError, "attempting to assign a gradient of size '[1, 3]' to a tensor of "
        "size '[3]'. Please ensure that the gradient and the tensor are the same size")
    x = gpujit.ones(2, 3)
    assert "of size '[3, 2]' to a tensor of size '[2, 3]'" in \
        _err(lambda: setattr(x, "grad", x.t()))[1]
    assert p.grad is None
    p.grad = gpujit.zeros(6)[::2]       # (any strides, a tensor not requiring grad too)
    assert p.grad.stride() == (2,)
    x.grad = gpujit.ones(2, 3)
    p.grad = None
    assert p.grad is None


@two_gpus
@cuda
def test_assigning_a_grad_on_another_device_is_refused():
    p = nn.Parameter(gpujit.ones(3, device="cuda"))
    assert _err(lambda: setattr(p, "grad", gpujit.ones(3))) == (
        RuntimeError, "attempting to assign a gradient with device type 'cpu' to a tensor "
        "with device type 'cuda'. Please ensure that the gradient and the tensor are on "
        "the same device")
    q = nn.Parameter(gpujit.ones(3))
    assert "device type 'cuda' to a tensor with device type 'cpu'" in \
        _err(lambda: setattr(q, "grad", gpujit.ones(3, device="cuda")))[1]
    r = nn.Parameter(gpujit.ones(3, device="cuda:1"))
    assert _err(lambda: setattr(r, "grad", gpujit.ones(3, device="cuda:0"))) == (
        RuntimeError, "attempting to assign a gradient located on device with index '0' "
        "to a tensor located on device with index '1'. Please ensure that the gradient "
        "and the tensor are on the same device")
    r.grad = gpujit.ones(3, device="cuda:1")
    p.grad = gpujit.ones(3, device="cuda")
    # a module moved with its gradients keeps them beside the parameters
    m = nn.Linear(3, 2)
    m(gpujit.ones(1, 3)).sum().backward()
    g = m.weight.grad
    m.cuda()
    assert m.weight.grad is g and g.device == gpujit.device("cuda:0")
    m.to("cuda:1", gpujit.float64)
    assert m.weight.grad.device == gpujit.device("cuda:1")
    assert m.weight.grad.dtype is gpujit.float64


# ------------------------------------------------------------------ saved outputs, leaks

@cuda
def test_cuda_graphs_are_freed_with_their_last_reference():
    x = gpujit.randn(3, 3, device="cuda", requires_grad=True)
    y = gpujit.relu(x).sigmoid().tanh()
    r = weakref.ref(y.grad_fn)
    del y
    assert r() is None
    m = nn.Linear(3, 2).cuda()
    out = F.mse_loss(gpujit.relu(m(x)), gpujit.zeros(3, 2, device="cuda"))
    r = weakref.ref(out.grad_fn)
    del out
    assert r() is None
    cell = gpujit.jit.script(_MyCell()).cuda()
    h = gpujit.rand(3, 4, device="cuda")
    for _ in range(3):          # (profiling runs, then the optimized graph)
        out, _h = cell(gpujit.rand(3, 4, device="cuda"), h)
        r = weakref.ref(out.grad_fn)
        del out, _h
        assert r() is None


@cuda
def test_saved_outputs_on_cuda():
    x = gpujit.randn(3, device="cuda", requires_grad=True)
    # the output dropped before backward: the kept array serves
    for f in (gpujit.sigmoid, gpujit.tanh, gpujit.exp):
        y = f(x)
        s = y.sum()
        del y
        gc.collect()
        x.grad = None
        s.backward()
        want = f(x.detach().cpu())
        want = {gpujit.sigmoid: want * (1 - want), gpujit.tanh: 1 - want * want,
                gpujit.exp: want}[f]
        np.testing.assert_allclose(x.grad.cpu().numpy(), want.numpy(), rtol=1e-6)
    y = x.exp()
    s = y.sum()
    y.mul_(2)
    e = _err(s.backward)
    assert e[0] is RuntimeError and "output 0 of Exp, is at version 1; expected " \
        "version 0 instead" in e[1]


# ------------------------------------------------------------------ scripted modules

class _MyCell(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = gpujit.tanh(self.linear(x) + h)
        return new_h, new_h


def _run_cell(dev, move):
    gpujit.manual_seed(0)
    cell = _MyCell()
    x0, h0 = gpujit.rand(3, 4), gpujit.rand(3, 4)
    if move is None:
        s = gpujit.jit.script(cell.to(dev))
    else:
        s = gpujit.jit.script(cell)
        for _ in range(3):      # the plan built (and optimized) on the CPU first
            s(x0, h0)[0].sum().backward()
        s.zero_grad()
        s = s.to(dev) if move == "to" else s.cuda()
    x, h = x0.to(dev), h0.to(dev)
    outs = []
    for _ in range(3):
        out, h2 = s(x, h)
        (out * h2).sum().backward()
        outs.append(out.detach().cpu().numpy())
    return outs, [p.grad for p in s.parameters()], out


@cuda
@pytest.mark.parametrize("move", [None, "to", "cuda"])
def test_scripted_cell_on_cuda_with_grad_as_on_the_cpu(move):
    ref, ref_grads, _ = _run_cell("cpu", None)
    got, grads, out = _run_cell("cuda", move)
    assert out.device == gpujit.device("cuda:0") and out.grad_fn is not None
    for a, c in zip(got, ref):
        np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-6)
    for g, c in zip(grads, ref_grads):
        assert g.device == gpujit.device("cuda:0")
        np.testing.assert_allclose(g.cpu().numpy(), c.numpy(), rtol=1e-5, atol=1e-6)


@cuda
def test_scripted_cell_inputs_get_cuda_gradients_and_mixed_devices_fail():
    s = gpujit.jit.script(_MyCell()).cuda()
    x = gpujit.rand(3, 4, device="cuda", requires_grad=True)
    h = gpujit.rand(3, 4, device="cuda", requires_grad=True)
    out, _ = s(x, h)
    out.sum().backward()
    assert x.grad.device == h.grad.device == gpujit.device("cuda:0")
    cpu_cell = gpujit.jit.script(_MyCell())
    e = _err(lambda: cpu_cell(gpujit.rand(3, 4, device="cuda"),
                              gpujit.rand(3, 4, device="cuda")))
    assert issubclass(e[0], RuntimeError) and e[1].strip().splitlines()[-1].startswith(
        "RuntimeError: Expected all tensors to be on the same device"), e[1]


@cuda
def test_scripted_mlp_moved_after_its_plan_trains_as_on_the_cpu():
    res = {}
    for dev in ("cpu", "cuda"):
        gpujit.manual_seed(0)
        m = gpujit.jit.script(_mlp())
        m(gpujit.rand(2, 4))            # (its plan built on the CPU)
        m.to(dev)
        opt = gpujit.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        x, y = _data(dev)
        for _ in range(4):
            opt.zero_grad()
            F.mse_loss(m(x), y).backward()
            opt.step()
        res[dev] = [p.detach().cpu().numpy() for p in m.parameters()]
        assert all(p.grad.device.type == dev for p in m.parameters())
    for a, c in zip(res["cuda"], res["cpu"]):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)


@two_gpus
@cuda
def test_scripted_conv_batchnorm_moved_to_cuda1_trains_as_on_the_cpu():
    res = {}
    for dev in ("cpu", "cuda:1"):
        gpujit.manual_seed(0)
        m = gpujit.jit.script(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                            nn.Flatten(), nn.Linear(64, 2)))
        x = gpujit.randn(2, 3, 6, 6)
        m(x).sum().backward()           # (the plan built on the CPU)
        m.zero_grad()
        m.to(dev)
        for _ in range(3):
            m(x.to(dev)).sum().backward()
        bn = m[1]
        assert bn.running_mean.device == bn.num_batches_tracked.device == gpujit.device(dev)
        res[dev] = (bn.running_mean.cpu().numpy(), bn.running_var.cpu().numpy(),
                    bn.num_batches_tracked.item(), m[0].weight.grad.cpu().numpy())
    assert res["cuda:1"][2] == res["cpu"][2] == 4
    for i in (0, 1, 3):
        np.testing.assert_allclose(res["cuda:1"][i], res["cpu"][i], rtol=1e-4, atol=1e-5)


@two_gpus
@cuda
def test_a_scripted_module_follows_its_device_moves():
    m = gpujit.jit.script(nn.Sequential(nn.Linear(3, 3), nn.Tanh()))
    for dev in ("cuda", "cpu", "cuda:1", "cuda:0"):
        m.to(dev)
        x = gpujit.ones(2, 3, device=dev, requires_grad=True)
        for _ in range(2):
            y = m(x)
            y.sum().backward()
        want = gpujit.device("cuda:0" if dev == "cuda" else dev)
        assert y.device == x.grad.device == m[0].weight.grad.device == want
        m.zero_grad()
    # a parameter replaced on cuda, requires_grad toggled, no_grad
    s = gpujit.jit.script(nn.Linear(3, 2)).cuda()
    x = gpujit.ones(4, 3, device="cuda")
    s(x).sum().backward()
    s.weight = nn.Parameter(gpujit.zeros(2, 3, device="cuda"))
    y = s(x)
    y.sum().backward()
    assert s.weight.grad.device == gpujit.device("cuda:0")
    np.testing.assert_array_equal(y.detach().cpu().numpy(),
                                  np.broadcast_to(s.bias.detach().cpu().numpy(), (4, 2)))
    s.weight.requires_grad_(False)
    assert s(x).requires_grad
    s.bias.requires_grad_(False)
    assert not s(x).requires_grad
    with gpujit.no_grad():
        assert not s(x).requires_grad


# ------------------------------------------------------------------ optimizers' state

@two_gpus
@cuda
@pytest.mark.parametrize("cls,kw,on_device", [
    ("Adam", {}, ()),
    ("Adam", {"fused": True}, ("step",)),
    ("Adam", {"capturable": True}, ("step",)),
    ("AdamW", {"fused": True}, ("step",)),
    ("Adagrad", {"fused": True}, ("step",)),
    ("NAdam", {"capturable": True}, ("step", "mu_product")),
    ("RMSprop", {"capturable": True}, ("step",)),
    ("ASGD", {}, ("step", "eta", "mu")),
    ("SGD", {"momentum": 0.9}, ()),
])
def test_optimizer_state_lives_on_the_parameters_device(cls, kw, on_device):
    res = {}
    for dev in ("cpu", "cuda:1"):
        gpujit.manual_seed(0)
        p = nn.Parameter(gpujit.randn(3).to(dev))
        # (capturable=True refuses CPU parameters, as torch's: the CPU runs without it)
        opt = getattr(gpujit.optim, cls)(
            [p], lr=0.1, **({} if dev == "cpu" and "capturable" in kw else kw))
        for i in range(3):
            p.grad = gpujit.full((3,), 0.5 + i, device=dev)
            opt.step()
        res[dev] = p.detach().cpu().numpy()
        if dev != "cpu":
            for k, v in opt.state[p].items():
                scalar = k in ("step", "eta", "mu", "mu_product")
                want = dev if (not scalar or k in on_device) else "cpu"
                assert v.device == gpujit.device(want), (k, v.device)
    np.testing.assert_allclose(res["cuda:1"], res["cpu"], rtol=1e-6, atol=1e-7)


@cuda
def test_optimizer_state_dicts_load_onto_the_parameters_device():
    m = nn.Linear(3, 2)
    opt = gpujit.optim.Adam(m.parameters())
    m(gpujit.ones(1, 3)).sum().backward()
    opt.step()
    mc = nn.Linear(3, 2).cuda()
    optc = gpujit.optim.Adam(mc.parameters(), capturable=True)
    optc.load_state_dict(opt.state_dict())
    # the loaded groups' flags decide: this one was not capturable, its step stays put
    assert optc.param_groups[0]["capturable"] is False
    st = optc.state[mc.weight]
    assert {k: v.device.type for k, v in st.items()} == {
        "exp_avg": "cuda", "exp_avg_sq": "cuda", "step": "cpu"}
    mc(gpujit.ones(1, 3, device="cuda")).sum().backward()
    optc.step()
    assert optc.state[mc.weight]["step"].item() == 2
    # a capturable state dict's step goes to the parameter's device (float32), both ways
    cap = gpujit.optim.Adam(mc.parameters(), capturable=True)
    mc(gpujit.ones(1, 3, device="cuda")).sum().backward()
    cap.step()
    m2 = nn.Linear(3, 2)
    for kw in ({}, {"capturable": True}):
        o = gpujit.optim.Adam(m2.parameters(), **kw)
        o.load_state_dict(cap.state_dict())
        assert {k: v.device.type for k, v in o.state[m2.weight].items()} == {
            "exp_avg": "cpu", "exp_avg_sq": "cpu", "step": "cpu"}
        assert o.state[m2.weight]["step"].dtype is gpujit.float32
    sgd = gpujit.optim.SGD(mc.parameters(), lr=0.1, momentum=0.9)
    mc(gpujit.ones(1, 3, device="cuda")).sum().backward()
    sgd.step()
    o = gpujit.optim.SGD(m2.parameters(), lr=0.1, momentum=0.9)
    o.load_state_dict(sgd.state_dict())
    assert o.state[m2.weight]["momentum_buffer"].device.type == "cpu"


def test_optimizer_state_dict_step_of_a_capturable_group_is_float32():
    # (torch 2.13: _process_value_according_to_param_policy casts a fused / capturable
    # group's step to float32 on the parameter's device)
    p = nn.Parameter(gpujit.ones(2))
    opt = gpujit.optim.Adam([p])
    p.grad = gpujit.ones(2)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = gpujit.tensor(1.0, dtype=gpujit.float64)
    o = gpujit.optim.Adam([p])
    o.load_state_dict(sd)
    assert o.state[p]["step"].dtype is gpujit.float64
    sd["param_groups"][0]["capturable"] = True
    o.load_state_dict(sd)
    assert o.state[p]["step"].dtype is gpujit.float32


# ------------------------------------------------------------------ factories

@two_gpus
@cuda
def test_factories_with_size_and_out_on_cuda():
    assert gpujit.zeros(size=(2, 3), device="cuda").device == gpujit.device("cuda:0")
    a = gpujit.ones(size=(2,), device="cuda:1")
    assert a.device == gpujit.device("cuda:1") and a.shape == (2,)
    for f in (gpujit.empty, gpujit.rand, gpujit.randn):
        assert f(size=(2, 1), device="cuda").shape == (2, 1)
    x = gpujit.randn(2, 3, device="cuda:1")
    for f in (x.new_zeros, x.new_ones, x.new_empty):
        r = f(size=(4,))
        assert r.device == gpujit.device("cuda:1") and r.shape == (4,)
    # out= keeps out's device and (same numel) its strides, filled in memory order
    for f in (gpujit.randn, gpujit.rand):
        o = gpujit.empty(3, 2, device="cuda").t()
        r = f(2, 3, out=o)
        assert r is o and o.stride() == (1, 2) and o.device == gpujit.device("cuda:0")
    o = gpujit.empty(6, device="cuda")
    gpujit.zeros(2, 3, out=o)
    assert o.shape == (2, 3) and o.device == gpujit.device("cuda:0")
    np.testing.assert_array_equal(o.cpu().numpy(), np.zeros((2, 3), np.float32))
    o = gpujit.empty(5, device="cuda")
    gpujit.arange(5.0, out=o)
    np.testing.assert_array_equal(o.cpu().numpy(), np.arange(5.0, dtype=np.float32))
    e = _err(lambda: gpujit.add(x, x, out=gpujit.empty(2, 3)))
    assert e[0] is RuntimeError and "device" in e[1]


# ------------------------------------------------------------------ RNN hidden checks

@cuda
def test_rnn_hidden_checks_on_cuda_are_the_cpus():
    def errors(dev):
        gpujit.manual_seed(0)
        lstm = nn.LSTM(3, 4).to(dev)
        x = gpujit.randn(5, 2, 3, device=dev)
        h0 = gpujit.zeros(1, 2, 4, device=dev)
        lc, gc_, rc = nn.LSTMCell(3, 4).to(dev), nn.GRUCell(3, 4).to(dev), \
            nn.RNNCell(3, 4).to(dev)
        return [_err(f) for f in (
            lambda: lstm(x, (h0,)), lambda: lstm(x, (h0, h0, h0)), lambda: lstm(x, h0),
            lambda: lc(gpujit.randn(2, 5, device=dev)),
            lambda: lc(gpujit.randn(2, 3, device=dev),
                       (gpujit.zeros(3, 4, device=dev), gpujit.zeros(2, 4, device=dev))),
            lambda: gc_(gpujit.randn(2, 3, device=dev), gpujit.zeros(2, 5, device=dev)),
            lambda: rc(gpujit.randn(2, 3, 1, device=dev)))]
    cpu, gpu = errors("cpu"), errors("cuda")
    assert all(e is not None for e in cpu) and gpu == cpu
    assert cpu[1] == (RuntimeError, "lstm expects two hidden states")
    # working calls: devices and shapes
    lstm = nn.LSTM(3, 4, batch_first=True).cuda()
    out, (h, c) = lstm(gpujit.randn(2, 5, 3, device="cuda"))
    assert out.shape == (2, 5, 4) and h.device == c.device == gpujit.device("cuda:0")
    assert nn.RNNCell(3, 4).cuda()(gpujit.randn(3, device="cuda")).shape == (4,)
    s = gpujit.jit.script(nn.LSTMCell(3, 4)).cuda()
    h, c = s(gpujit.randn(2, 3, device="cuda"))
    assert h.device == gpujit.device("cuda:0") and c.shape == (2, 4)


# ------------------------------------------------------------------ random ops' layouts

def _layouts(dev):
    gpujit.manual_seed(0)
    xs = [gpujit.randn(4, 6, device=dev).t(),
          gpujit.randn(2, 3, 4, 6, device=dev).to(memory_format=gpujit.channels_last),
          gpujit.randn(2, 3, 6, 4, device=dev).permute(0, 1, 3, 2),
          gpujit.randn(3, 6, 4, device=dev).permute(0, 2, 1)]
    out = []
    for x in xs:
        w = gpujit.tensor([0.2], device=dev)
        r = [F.dropout(x, 0.5, training=True), gpujit.randn_like(x), gpujit.rand_like(x),
             F.prelu(x, w), F.alpha_dropout(x, 0.5, True)]
        if x.dim() == 4:
            r += [F.avg_pool2d(x, 2), F.max_pool2d(x, 2), F.dropout2d(x, 0.5)]
        elif x.dim() == 3:
            r += [F.avg_pool2d(x, 2)]
        out.append([(t.shape, t.stride()) for t in r])
    return out


@cuda
def test_random_and_pooling_results_keep_the_layouts_of_the_cpu():
    # the CPU's strides are torch 2.13's (dropout: input * mask's TensorIterator; CUDA:
    # empty_like(input)); CuPy's ufuncs and sums lay results out C-contiguous
    assert _layouts("cuda") == _layouts("cpu")
    x = gpujit.randn(4, 6).t()
    assert F.dropout(x, 0.5).stride() == (1, 6)
    y = gpujit.randn(2, 3, 4, 6).to(memory_format=gpujit.channels_last)
    assert F.avg_pool2d(y, 2).stride() == (18, 1, 9, 3)
    assert F.prelu(y, gpujit.tensor([0.2])).stride() == (72, 1, 18, 3)


@cuda
def test_dropout_on_cuda_masks_and_scales_in_the_inputs_layout():
    x = gpujit.rand(40, 60, device="cuda").add(0.5).t()
    x.requires_grad_()
    y = F.dropout(x, 0.25, training=True)
    assert y.stride() == x.stride()
    ya, xa = y.detach().cpu().numpy(), x.detach().cpu().numpy()
    kept = ya != 0
    assert 0.6 < kept.mean() < 0.9
    np.testing.assert_allclose(ya[kept], xa[kept] / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), kept / 0.75, rtol=1e-6)
    # in place: the same mask rule, self keeps its strides
    z = gpujit.rand(4, 6, device="cuda").add(0.5).t()
    before = z.cpu().numpy()
    F.dropout(z, 0.5, training=True, inplace=True)
    assert z.stride() == (1, 6)
    za = z.cpu().numpy()
    np.testing.assert_allclose(za[za != 0], before[za != 0] * 2, rtol=1e-6)


@cuda
def test_multinomial_and_randn_like_on_cuda():
    p = gpujit.rand(5, 3, device="cuda").t()     # (3, 5), transposed
    for rep in (False, True):
        s = gpujit.multinomial(p, 4, replacement=rep)
        assert s.shape == (3, 4) and s.dtype is gpujit.int64
        assert s.device == gpujit.device("cuda:0")
        a = s.cpu().numpy()
        assert ((a >= 0) & (a < 5)).all()
        if not rep:
            assert all(len(set(row)) == 4 for row in a)
    z = gpujit.zeros(3, 5, device="cuda")
    z[:, 1] = 1.0
    assert (gpujit.multinomial(z, 3, replacement=True).cpu().numpy() == 1).all()
    x = gpujit.randn(3, 4, 5, device="cuda").permute(2, 0, 1)
    r = gpujit.randn_like(x)
    assert r.shape == x.shape and r.stride() == x.stride() and r.device == x.device
    r = gpujit.randn_like(x[::2])   # not dense: a dense result in x's order
    assert r.shape == (3, 3, 4) and r.is_contiguous() is False


def _loss_layouts(dev):
    F_ = F
    out = []
    for x in (gpujit.randn(4, 6, device=dev).t(),
              gpujit.randn(2, 4, 4, 6, device=dev).to(memory_format=gpujit.channels_last),
              gpujit.randn(3, 6, 4, device=dev).permute(0, 2, 1)):
        c = x.contiguous()
        row = [f(a, b, reduction="none").stride()
               for f in (F_.mse_loss, F_.l1_loss, F_.smooth_l1_loss, F_.huber_loss, F_.kl_div)
               for a, b in ((x, c), (c, x), (x, x))]
        row.append(F_.binary_cross_entropy(x.sigmoid(), c.sigmoid(), reduction="none").stride())
        row.append(F_.binary_cross_entropy_with_logits(c, x.sigmoid(),
                                                       reduction="none").stride())
        out.append(row)
    return out


# torch 2.13's CPU strides (kl_div and binary_cross_entropy_with_logits are composites
# whose first operand is the target)
_LOSS_LAYOUTS = [
    [(1, 6), (4, 1), (1, 6)] * 4 + [(4, 1), (1, 6), (1, 6), (1, 6), (1, 6)],
    [(96, 1, 24, 4), (96, 24, 6, 1), (96, 1, 24, 4)] * 4
    + [(96, 24, 6, 1), (96, 1, 24, 4), (96, 1, 24, 4), (96, 1, 24, 4), (96, 1, 24, 4)],
    [(24, 1, 4), (24, 6, 1), (24, 1, 4)] * 4
    + [(24, 6, 1), (24, 1, 4), (24, 1, 4), (24, 1, 4), (24, 1, 4)]]


def test_unreduced_losses_are_laid_out_as_torch():
    assert _loss_layouts("cpu") == _LOSS_LAYOUTS


@cuda
def test_unreduced_losses_on_cuda_are_laid_out_as_torch():
    with np.errstate(all="ignore"):
        assert _loss_layouts("cuda") == _LOSS_LAYOUTS
