"""gpujit.optim's Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop, LBFGS and Adafactor
against torch.optim: the same training loop (a small MLP, fixed data, the same initial
weights) runs with torch and with gpujit, and the parameters are compared after every step.

Deliberate differences from torch, kept:
- the implementation flags (foreach, fused, capturable) choose no other arithmetic: gpujit
  has one implementation of each update. Their argument errors are torch's (fused with
  foreach or differentiable, fused on non-floating-point params, capturable on CPU params).
- differentiable=True does not record the step in autograd (optimizers update the raw
  arrays); as in torch, a step over leaf parameters that require grad is refused.
- the per-parameter scalars of the state ('step', NAdam's 'mu_product', ASGD's 'eta' and
  'mu') are CPU tensors of torch's scalar dtype (float32, float64 under a float64 default
  dtype), also after loading a state_dict (torch casts a loaded mu_product/eta/mu to the
  param's dtype).
- float16 parameters end a few float16 ulps from torch's: the update rounds to float16
  after each array operation, where torch's CPU kernels fuse some (addcmul_, addcdiv_)
  in float32.
- SparseAdam (with nn.Embedding(sparse=True)'s sparse gradients) is tested in
  tests/test_sparse_s44.py.
"""
import copy
import pickle

import numpy as np
import pytest

import gpujit
from gpujit import nn, optim

torch = pytest.importorskip("torch")

STEPS = 25
TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def _data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 4)).astype(dtype)
    y = rng.standard_normal((16, 2)).astype(dtype)
    return x, y


def _init_weights(dtype, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) * 0.5 for s in [(8, 4), (8,), (2, 8), (2,)]]


class GModel(nn.Module):
    def __init__(self, ws):
        super().__init__()
        self.l1 = nn.Linear(4, 8)
        self.l2 = nn.Linear(8, 2)
        for p, w in zip(self.parameters(), ws):
            p.data = gpujit.tensor(w.copy())

    def forward(self, x):
        return self.l2(gpujit.tanh(self.l1(x)))


def _torch_model(ws):
    m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    for p, w in zip(m.parameters(), ws):
        p.data = torch.tensor(w.copy())
    return m


def _targs(kwargs, lib, dtype):
    """Tensors in kwargs (given as ('tensor', value)) made for lib, of the params' dtype
    (torch computes with a float32 lr Tensor in float32)."""
    def conv(v):
        if isinstance(v, tuple) and v and v[0] == "tensor":
            return lib.tensor(v[1], dtype=getattr(lib, dtype))
        if isinstance(v, tuple):
            return tuple(conv(x) for x in v)
        return v
    return {k: conv(v) for k, v in kwargs.items()}


def run_pair(name, kwargs, dtype="float32", steps=STEPS, model=None, closure=False,
             scheduler=None, sched_step=None):
    """Train the same model with torch.optim.<name> and gpujit.optim.<name>; returns the
    per-step parameters of both and the optimizers."""
    x, y = _data(dtype)
    ws = _init_weights(dtype)
    tm = _torch_model(ws)
    gm = GModel(ws) if model is None else model(ws)
    topt = getattr(torch.optim, name)(tm.parameters(), **_targs(kwargs, torch, dtype))
    gopt = getattr(optim, name)(gm.parameters(), **_targs(kwargs, gpujit, dtype))
    tx, ty = torch.tensor(x), torch.tensor(y)
    gx, gy = gpujit.tensor(x), gpujit.tensor(y)
    hist_t, hist_g = [], []
    for _ in range(steps):
        def tclos():
            topt.zero_grad()
            loss = ((tm(tx) - ty) ** 2).mean()
            loss.backward()
            return loss

        def gclos():
            gopt.zero_grad()
            loss = ((gm(gx) - gy) ** 2).mean()
            loss.backward()
            return loss
        if closure:
            lt, lg = topt.step(tclos), gopt.step(gclos)
            np.testing.assert_allclose(lg.item(), lt.item(), **TOL[dtype])
        else:
            tclos()
            gclos()
            topt.step()
            gopt.step()
        hist_t.append([p.detach().numpy().copy() for p in tm.parameters()])
        hist_g.append([p.detach().numpy().copy() for p in gm.parameters()])
    return hist_t, hist_g, topt, gopt


def assert_same(hist_t, hist_g, dtype):
    for step, (pt, pg) in enumerate(zip(hist_t, hist_g)):
        for a, b in zip(pt, pg):
            np.testing.assert_allclose(b, a, err_msg=f"step {step}", **TOL[dtype])


CASES = [
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.05, maximize=True, eps=1e-5)),
    ("Adagrad", dict(lr=0.05, fused=True)),
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.05, maximize=True)),
    ("Adamax", {}),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    ("NAdam", {}),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", {}),
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.7), weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("ASGD", {}),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=3, maximize=True)),
    ("Rprop", {}),
    ("Rprop", dict(lr=0.001, etas=(0.3, 1.7), step_sizes=(1e-4, 0.05), maximize=True)),
    ("Adamax", dict(lr=("tensor", 0.01))),
    ("NAdam", dict(lr=("tensor", 0.01))),
    ("Adagrad", dict(lr=("tensor", 0.01))),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("foreach", [None, False])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_training_matches_torch(name, kwargs, foreach, dtype):
    kwargs = dict(kwargs)
    if foreach is False and not kwargs.get("fused"):
        kwargs["foreach"] = False
    ht, hg, topt, gopt = run_pair(name, kwargs, dtype)
    assert_same(ht, hg, dtype)


ALL = ["Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]


def _state_as_numpy(sd):
    return {k: {n: (v.detach().cpu().numpy() if hasattr(v, "detach") else v)
                for n, v in st.items()} for k, st in sd["state"].items()}


@pytest.mark.parametrize("name", ALL)
def test_state_dict_matches_torch_and_round_trips(name):
    ht, hg, topt, gopt = run_pair(name, dict(lr=0.01), "float64", steps=6)
    tsd, gsd = topt.state_dict(), gopt.state_dict()
    assert [sorted(g) for g in gsd["param_groups"]] == [sorted(g) for g in tsd["param_groups"]]
    for tg, gg in zip(tsd["param_groups"], gsd["param_groups"]):
        assert {k: v for k, v in gg.items()} == {k: v for k, v in tg.items()}
    ts, gs = _state_as_numpy(tsd), _state_as_numpy(gsd)
    assert sorted(ts) == sorted(gs)
    for k in ts:
        assert sorted(ts[k]) == sorted(gs[k])
        for n in ts[k]:
            np.testing.assert_allclose(gs[k][n], ts[k][n], rtol=1e-6, atol=1e-12)
            assert np.shape(gs[k][n]) == np.shape(ts[k][n])
    # a new optimizer loading the saved state continues exactly as the first one does
    params = [nn.Parameter(gpujit.tensor(a)) for a in hg[-1]]
    params2 = gopt.param_groups[0]["params"]
    o1 = getattr(optim, name)(params, lr=0.01)
    o1.load_state_dict(pickle.loads(pickle.dumps(copy.deepcopy(gopt.state_dict()))))
    o2 = gopt
    rng = np.random.default_rng(3)
    for _ in range(4):
        for p, q in zip(params, params2):
            g = rng.standard_normal(p.shape)
            p.grad, q.grad = gpujit.tensor(g), gpujit.tensor(g)
        o1.step()
        o2.step()
    for p, q in zip(params, params2):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    sd1 = o1.state_dict()
    assert float(sd1["state"][0]["step"]) == 10.0


@pytest.mark.parametrize("name", ALL)
def test_add_param_group_and_load(name):
    ws = _init_weights("float32")
    pg = [nn.Parameter(gpujit.tensor(w)) for w in ws]
    pt = [torch.nn.Parameter(torch.tensor(w)) for w in ws]
    go = getattr(optim, name)(pg[:2], lr=0.01)
    to = getattr(torch.optim, name)(pt[:2], lr=0.01)
    go.add_param_group({"params": pg[2:], "lr": 0.02})
    to.add_param_group({"params": pt[2:], "lr": 0.02})
    rng = np.random.default_rng(0)
    for _ in range(5):
        for a, b in zip(pg, pt):
            g = rng.standard_normal(a.shape).astype(np.float32)
            a.grad, b.grad = gpujit.tensor(g), torch.tensor(g)
        go.step()
        to.step()
    for a, b in zip(pg, pt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert [sorted(g) for g in go.state_dict()["param_groups"]] == \
        [sorted(g) for g in to.state_dict()["param_groups"]]
    go2 = getattr(optim, name)(pg[:2], lr=0.01)
    go2.add_param_group({"params": pg[2:], "lr": 0.02})
    go2.load_state_dict(go.state_dict())
    assert go2.param_groups[1]["lr"] == 0.02
    go.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in pg)
    go.zero_grad()
    assert all(p.grad is None for p in pg)


def test_adagrad_state_exists_before_the_first_step():
    p = nn.Parameter(gpujit.ones(3))
    o = optim.Adagrad([p], initial_accumulator_value=0.25)
    t = torch.optim.Adagrad([torch.nn.Parameter(torch.ones(3))], initial_accumulator_value=0.25)
    sd, tsd = o.state_dict(), t.state_dict()
    assert sorted(sd["state"][0]) == sorted(tsd["state"][0]) == ["step", "sum"]
    np.testing.assert_array_equal(sd["state"][0]["sum"].numpy(), [0.25] * 3)
    assert float(sd["state"][0]["step"]) == 0


BAD = [
    ("Adagrad", dict(lr=-1.0)), ("Adagrad", dict(lr_decay=-1.0)),
    ("Adagrad", dict(weight_decay=-1.0)), ("Adagrad", dict(initial_accumulator_value=-1.0)),
    ("Adagrad", dict(eps=-1.0)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1)),
    ("Adamax", dict(betas=(1.0, 0.9))), ("Adamax", dict(betas=(0.9, -0.1))),
    ("NAdam", dict(momentum_decay=-1.0)), ("RAdam", dict(weight_decay=-1.0)),
    ("ASGD", dict(lr=-0.1)), ("Rprop", dict(etas=(1.2, 0.5))),
    ("Adamax", dict(lr=("tensor", [0.1, 0.2]))),
    ("Adagrad", dict(fused=True, foreach=True)),
    ("Adagrad", dict(fused=True, differentiable=True)),
    ("NAdam", dict(fused=True)), ("RAdam", dict(amsgrad=True)),
]


@pytest.mark.parametrize("name,kwargs", BAD, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD)])
def test_argument_errors_match_torch(name, kwargs):
    def make(lib):
        p = lib.nn.Parameter(lib.ones(2))
        kw = {k: (lib.tensor(v[1]) if isinstance(v, tuple) and v[0] == "tensor" else v)
              for k, v in kwargs.items()}
        return getattr(lib.optim, name)([p], **kw)
    with pytest.raises(Exception) as te:
        make(torch)
    with pytest.raises(type(te.value)) as ge:
        make(gpujit)
    assert str(ge.value).replace("gpujit", "torch") == str(te.value) or \
        type(te.value) is TypeError


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "Adadelta"])
def test_capturable_on_cpu_is_refused_as_torch(name):
    def step(lib):
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.ones(2)
        getattr(lib.optim, name)([p], capturable=True).step()
    with pytest.raises(AssertionError) as te:
        step(torch)
    with pytest.raises(AssertionError) as ge:
        step(gpujit)
    assert str(ge.value) == str(te.value)


def test_fused_and_differentiable_at_step():
    p = nn.Parameter(gpujit.ones(2, dtype=gpujit.int64), requires_grad=False)
    p.grad = gpujit.ones(2, dtype=gpujit.int64)
    with pytest.raises(RuntimeError, match="`fused=True` requires all the params to be "
                       "floating point"):
        optim.Adagrad([p], fused=True).step()
    q = nn.Parameter(gpujit.ones(2))
    q.grad = gpujit.ones(2)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        optim.Adamax([q], differentiable=True).step()
    r = nn.Parameter(gpujit.ones(2), requires_grad=False)
    r.grad = gpujit.ones(2)
    optim.Adamax([r], differentiable=True, lr=0.5).step()
    tr = torch.nn.Parameter(torch.ones(2), requires_grad=False)
    tr.grad = torch.ones(2)
    torch.optim.Adamax([tr], differentiable=True, lr=0.5).step()
    np.testing.assert_allclose(r.detach().numpy(), tr.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9, fused=True)),
    ("Adam", dict(lr=0.01, fused=True)),
    ("AdamW", dict(lr=0.01, fused=True, amsgrad=True)),
    ("Adam", dict(lr=("tensor", 0.01))),
    ("RMSprop", dict(lr=0.01, momentum=0.5, differentiable=False, capturable=False)),
])
def test_existing_optimizers_take_torchs_flags(name, kwargs):
    ht, hg, topt, gopt = run_pair(name, kwargs, "float32", steps=10)
    assert_same(ht, hg, "float32")
    assert sorted(gopt.state_dict()["param_groups"][0]) == \
        sorted(topt.state_dict()["param_groups"][0])


def test_rmsprop_takes_capturable_and_foreach_positionally():
    p = nn.Parameter(gpujit.ones(2))
    o = optim.RMSprop([p], 0.01, 0.99, 1e-8, 0, 0, False, False, False)
    assert o.param_groups[0]["capturable"] is False
    assert o.param_groups[0]["foreach"] is False


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_existing_optimizers_param_group_keys_are_torchs(name):
    g = getattr(optim, name)([nn.Parameter(gpujit.ones(2))])
    t = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))])
    assert sorted(g.param_groups[0]) == sorted(t.param_groups[0])
    assert {k: v for k, v in g.defaults.items()} == {k: v for k, v in t.defaults.items()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [
    dict(lr=0.5, max_iter=5),
    dict(lr=1, max_iter=4, history_size=3, line_search_fn="strong_wolfe"),
    dict(lr=0.8, max_iter=20, max_eval=7, tolerance_change=1e-5),
    dict(lr=("tensor", 0.5), max_iter=3, line_search_fn="strong_wolfe"),
])
def test_lbfgs_matches_torch(kwargs, dtype):
    ht, hg, topt, gopt = run_pair("LBFGS", kwargs, dtype, steps=6, closure=True)
    # float32 rounding differences grow over the line search's iterations
    tol = TOL[dtype] if dtype == "float64" else dict(rtol=1e-3, atol=1e-4)
    for step, (pt, pg) in enumerate(zip(ht, hg)):
        for a, b in zip(pt, pg):
            np.testing.assert_allclose(b, a, err_msg=f"step {step}", **tol)
    ts, gs = topt.state_dict()["state"][0], gopt.state_dict()["state"][0]
    assert (gs["func_evals"], gs["n_iter"]) == (ts["func_evals"], ts["n_iter"])
    assert sorted(gs) == sorted(ts)


def test_lbfgs_errors():
    p, q = nn.Parameter(gpujit.ones(2)), nn.Parameter(gpujit.ones(2))
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [q]}])
    o = optim.LBFGS([p], line_search_fn="backtracking")

    def closure():
        o.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        o.step(closure)


@pytest.mark.parametrize("name,kwargs", [
    ("Adagrad", dict(lr=0.05)), ("Adadelta", {}), ("Adamax", {}), ("NAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01)), ("ASGD", dict(lr=0.05, t0=3)), ("Rprop", {}),
])
def test_scripted_model_trains_as_torch(name, kwargs):
    ht, hg, _, _ = run_pair(name, kwargs, "float32", steps=10,
                            model=lambda ws: gpujit.jit.script(GModel(ws)))
    assert_same(ht, hg, "float32")


def test_scripted_model_trains_with_lbfgs():
    ht, hg, _, _ = run_pair("LBFGS", dict(lr=1, max_iter=4, line_search_fn="strong_wolfe"),
                            "float64", steps=3, closure=True,
                            model=lambda ws: gpujit.jit.script(GModel(ws)))
    assert_same(ht, hg, "float64")


@pytest.mark.parametrize("name", ALL)
def test_parameters_without_grads_on_some_steps(name):
    """Parameters whose grads are missing on some steps keep their own step counts (and
    NAdam's mu_product, ASGD's eta and mu), as torch's per-parameter state."""
    rng = np.random.default_rng(4)
    shapes = [(3, 2), (4,), (), (2, 2, 2)]
    init = [rng.standard_normal(s) for s in shapes]
    gp = [nn.Parameter(gpujit.tensor(a)) for a in init]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in init]
    go = getattr(optim, name)(gp, lr=0.01)
    to = getattr(torch.optim, name)(tp, lr=0.01)
    for step in range(12):
        for i, (a, b) in enumerate(zip(gp, tp)):
            if (step + i) % 3 == 0 and step:
                a.grad = b.grad = None
                continue
            g = rng.standard_normal(shapes[i])
            a.grad, b.grad = gpujit.tensor(g), torch.tensor(g)
        go.step()
        to.step()
        for a, b in zip(gp, tp):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10,
                                       atol=1e-12, err_msg=f"step {step}")
    for i in range(len(shapes)):
        gs, ts = go.state_dict()["state"][i], to.state_dict()["state"][i]
        for k in ts:
            np.testing.assert_allclose(np.asarray(gs[k].numpy()), ts[k].numpy(), rtol=1e-6)

