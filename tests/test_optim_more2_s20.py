"""More of gpujit.optim against torch.optim (helpers from test_optim_more_s20): named
parameters, hooks, Adam's lr/betas checks, signatures, the float64 default dtype's scalar
state, and Adafactor trained against torch's.

Deliberate differences are listed in test_optim_more_s20's docstring.
"""
import importlib

import numpy as np
import pytest

import gpujit
from gpujit import nn, optim

torch = pytest.importorskip("torch")

from test_optim_more_s20 import (ALL, GModel, _init_weights, _state_as_numpy,  # noqa: E402
                                 _torch_model, assert_same, run_pair)


@pytest.mark.parametrize("name", ["SGD", "Adam", "NAdam", "Adagrad"])
def test_named_parameters(name):
    """torch 2.13 takes model.named_parameters(): the names go to the group's param_names
    (kept in state_dict, and through load_state_dict)."""
    ws = _init_weights("float32")
    gm, tm = GModel(ws), _torch_model(ws)
    go = getattr(optim, name)(gm.named_parameters(), lr=0.01)
    to = getattr(torch.optim, name)(tm.named_parameters(), lr=0.01)
    assert go.param_groups[0]["param_names"] == ["l1.weight", "l1.bias", "l2.weight",
                                                 "l2.bias"]
    assert sorted(go.param_groups[0]) == sorted(to.param_groups[0])
    sd = go.state_dict()
    assert sd["param_groups"][0]["param_names"] == go.param_groups[0]["param_names"]
    go2 = getattr(optim, name)(gm.parameters(), lr=0.01)
    go2.load_state_dict(sd)
    assert go2.param_groups[0]["param_names"] == go.param_groups[0]["param_names"]
    for lib, m in ((torch, tm), (gpujit, gm)):
        o = getattr(lib.optim, name)(list(m.named_parameters())[:2], lr=0.01)
        with pytest.raises(ValueError, match="all optimizer param groups should be with/without "
                                             "names. cannot add param group without names"):
            o.add_param_group({"params": list(m.parameters())[2:]})
        with pytest.raises(ValueError, match="Some param names are missing"):
            getattr(lib.optim, name)([("a", list(m.parameters())[0]),
                                      list(m.parameters())[1]])


def test_non_leaf_that_retains_grad_can_be_optimized():
    for lib in (torch, gpujit):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
            lib.optim.SGD([y], lr=0.1)
        y.retain_grad()
        lib.optim.SGD([y], lr=0.1)


def test_optimizer_hooks_as_torch():
    calls = {}
    for lib in (torch, gpujit):
        log = calls[lib.__name__] = []
        p = lib.nn.Parameter(lib.ones(2))
        o = lib.optim.NAdam([p], lr=0.1)

        def pre(opt, args, kwargs, log=log):
            log.append(("pre", type(opt).__name__, len(args), sorted(kwargs)))

        def post(opt, args, kwargs, log=log):
            log.append(("post", float(p.detach().sum())))
        h1 = o.register_step_pre_hook(pre)
        h2 = o.register_step_post_hook(post)
        mod = importlib.import_module(lib.__name__ + ".optim.optimizer")
        g1 = mod.register_optimizer_step_pre_hook(
            lambda opt, args, kwargs, log=log: log.append("global pre"))
        g2 = mod.register_optimizer_step_post_hook(
            lambda opt, args, kwargs, log=log: log.append("global post"))
        o.register_state_dict_pre_hook(lambda opt, log=log: log.append("sd pre"))
        o.register_state_dict_post_hook(
            lambda opt, sd, log=log: {**sd, "extra": 1}, prepend=True)
        o.register_load_state_dict_pre_hook(
            lambda opt, sd, log=log: log.append(("load pre", sorted(sd))))
        o.register_load_state_dict_post_hook(lambda opt, log=log: log.append("load post"))
        p.grad = lib.ones(2)
        o.step()
        h1.remove()
        g1.remove()
        o.step()
        h2.remove()
        g2.remove()
        o.step()
        sd = o.state_dict()
        log.append(sorted(sd))
        o.load_state_dict(sd)
    log_t, log_g = calls["torch"], calls["gpujit"]
    assert len(log_g) == len(log_t)
    for a, b in zip(log_g, log_t):
        if isinstance(a, tuple) and a[0] == "post":
            assert a[1] == pytest.approx(b[1], rel=1e-6)
        else:
            assert a == b


def test_step_pre_hook_must_return_args_and_kwargs():
    p = nn.Parameter(gpujit.ones(2))
    p.grad = gpujit.ones(2)
    o = optim.Adamax([p])
    o.register_step_pre_hook(lambda opt, args, kwargs: 1)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, "
                                           r"new_kwargs\), but got 1."):
        o.step()


@pytest.mark.parametrize("kwargs", [
    dict(betas=(0, 0.999)), dict(betas=(0.9, ("tensor", 0.99))),
    dict(lr=("tensor", 0.01), foreach=True),
    dict(betas=(("tensor", 0.9), ("tensor", 0.99)), foreach=True),
])
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_lr_and_betas_checks_as_torch(name, kwargs):
    def make(lib):
        def conv(v):
            if isinstance(v, tuple) and v and v[0] == "tensor":
                return lib.tensor(v[1])
            if isinstance(v, tuple):
                return tuple(conv(x) for x in v)
            return v
        return getattr(lib.optim, name)([lib.nn.Parameter(lib.ones(2))],
                                        **{k: conv(v) for k, v in kwargs.items()})
    with pytest.raises(ValueError) as te:
        make(torch)
    with pytest.raises(ValueError) as ge:
        make(gpujit)
    assert str(ge.value) == str(te.value)


def test_adam_betas_list_and_tensor_betas_train_as_torch():
    for lib in (torch, gpujit):
        o = lib.optim.Adam([lib.nn.Parameter(lib.ones(2))], betas=[0.8, 0.9])
        assert o.param_groups[0]["betas"] == (0.8, 0.9)
    ht, hg, _, _ = run_pair("Adam", dict(lr=0.01, betas=(("tensor", 0.8), ("tensor", 0.9))),
                            "float32", steps=8)
    assert_same(ht, hg, "float32")


@pytest.mark.parametrize("name", ALL + ["LBFGS", "Adafactor", "SGD", "Adam", "AdamW", "RMSprop"])
def test_signature_is_torchs(name):
    """Argument names, order, kinds (positional or keyword-only) and defaults as torch's."""
    import inspect

    def sig(cls):
        return [(p.name, p.kind, p.default) for p in
                inspect.signature(cls.__init__).parameters.values()]
    assert sig(getattr(optim, name)) == sig(getattr(torch.optim, name))



@pytest.mark.parametrize("name", ["NAdam", "ASGD", "Adam", "Adagrad"])
def test_float64_default_dtype_makes_float64_scalars(name):
    """Under set_default_dtype(float64) torch keeps 'step' (and mu_product, eta, mu) in
    float64; so does gpujit, and float64 training matches torch to float64 precision."""
    old_t, old_g = torch.get_default_dtype(), gpujit.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    gpujit.set_default_dtype(gpujit.float64)
    try:
        ht, hg, topt, gopt = run_pair(name, dict(lr=0.05), "float64", steps=15)
        assert_same(ht, hg, "float64")
        ts, gs = topt.state_dict()["state"][0], gopt.state_dict()["state"][0]
        for k, v in ts.items():
            assert str(gs[k].dtype).split(".")[1] == str(v.dtype).split(".")[1], k
            np.testing.assert_allclose(gs[k].numpy(), v.numpy(), rtol=1e-10, atol=1e-15)
    finally:
        torch.set_default_dtype(old_t)
        gpujit.set_default_dtype(old_g)


ADAFACTOR = [dict(), dict(lr=0.05, weight_decay=0.1, maximize=True),
             dict(eps=(1e-20, 1e-2), d=2.0, beta2_decay=-0.5), dict(lr=("tensor", 0.02))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", ADAFACTOR)
def test_adafactor_matches_torch(kwargs, dtype):
    if dtype == "float32" and "eps" in kwargs:
        pytest.skip("eps1 = 1e-20 lets float32 rounding grow in rsqrt of tiny variances")
    ht, hg, topt, gopt = run_pair("Adafactor", kwargs, dtype)
    assert_same(ht, hg, dtype)
    ts, gs = _state_as_numpy(topt.state_dict()), _state_as_numpy(gopt.state_dict())
    for k in ts:
        assert sorted(gs[k]) == sorted(ts[k])
        for n in ts[k]:
            np.testing.assert_allclose(gs[k][n], ts[k][n], rtol=1e-4, atol=1e-7)
            assert np.shape(gs[k][n]) == np.shape(ts[k][n])


def test_adafactor_batched_matrices_and_errors():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((2, 3, 4))
    tp, gp = torch.nn.Parameter(torch.tensor(w)), nn.Parameter(gpujit.tensor(w))
    to, go = torch.optim.Adafactor([tp]), optim.Adafactor([gp])
    for _ in range(5):
        g = rng.standard_normal(w.shape)
        tp.grad, gp.grad = torch.tensor(g), gpujit.tensor(g)
        to.step()
        go.step()
    np.testing.assert_allclose(gp.detach().numpy(), tp.detach().numpy(), rtol=1e-10)
    for kwargs in [dict(lr=-1.0), dict(beta2_decay=0.5), dict(eps=(-1.0, 1e-3)),
                   dict(eps=(None, -1.0)), dict(d=0.5), dict(weight_decay=-0.1)]:
        with pytest.raises(ValueError) as te:
            torch.optim.Adafactor([tp], **kwargs)
        with pytest.raises(ValueError, match=str(te.value).replace("(", r"\(")):
            optim.Adafactor([gp], **kwargs)


def test_scripted_model_trains_with_adafactor():
    ht, hg, _, _ = run_pair("Adafactor", {}, "float32", steps=10,
                            model=lambda ws: gpujit.jit.script(GModel(ws)))
    assert_same(ht, hg, "float32")


FLAG_COMBOS = [dict(foreach=True, differentiable=True), dict(foreach=True),
               dict(capturable=True, foreach=True), dict(fused=True, capturable=True),
               dict(fused=False, foreach=True), dict(fused=True, lr=("tensor", 0.1)),
               dict(differentiable=True), dict(capturable=True, foreach=False)]


@pytest.mark.parametrize("kwargs", FLAG_COMBOS)
@pytest.mark.parametrize("name", ALL + ["SGD", "Adam", "AdamW", "RMSprop"])
def test_flag_combinations_as_torch(name, kwargs):
    """Each combination of the implementation flags either steps as torch's does or fails
    with torch's exception type and message (TypeError: a flag the optimizer lacks)."""
    def run(lib):
        p = lib.nn.Parameter(lib.ones(3), requires_grad=False)
        p.grad = lib.ones(3)
        kw = {k: lib.tensor(v[1]) if isinstance(v, tuple) else v for k, v in kwargs.items()}
        try:
            getattr(lib.optim, name)([p], **kw).step()
        except Exception as e:       # noqa: BLE001 (compared with torch's below)
            return type(e).__name__, str(e).replace(lib.__name__, "torch")
        return "ok", p.detach().numpy().tolist()
    t, g = run(torch), run(gpujit)
    assert g[0] == t[0]
    if t[0] == "ok":
        np.testing.assert_allclose(g[1], t[1], rtol=1e-6)
    elif t[0] != "TypeError":
        assert g[1] == t[1]
