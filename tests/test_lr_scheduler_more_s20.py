"""gpujit.optim.lr_scheduler's ExponentialLR, MultiplicativeLR, ConstantLR, PolynomialLR,
CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR, ReduceLROnPlateau, SequentialLR and
ChainedScheduler against torch's: the same training loop (fixed grads, the same initial
weights) runs with both, and the lrs (get_last_lr() and the groups' lr, momentum, betas) and
parameters are compared after every step; state_dict round trips and the warnings too.
"""
import pickle
import warnings

import numpy as np
import pytest

import gpujit
from gpujit import optim

torch = pytest.importorskip("torch")

STEPS = 30


def _params(lib, n_groups=2):
    rng = np.random.default_rng(0)
    ps = [lib.nn.Parameter(lib.tensor(rng.standard_normal(s))) for s in [(3, 2), (4,)]]
    if n_groups == 1:
        return ps
    return [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.05}]


def _group_view(opt):
    """Each group's lr, momentum and beta1, flat."""
    out = []
    for g in opt.param_groups:
        out.append(float(g["lr"]))
        if "momentum" in g:
            out.append(float(g["momentum"]))
        if "betas" in g:
            out.append(float(g["betas"][0]))
    return out


def run_pair(make_sched, make_opt=lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9),
             steps=STEPS, metrics=None, epochs=None, n_groups=2):
    """Step both schedulers `steps` times after an optimizer step each; returns the
    (torch, gpujit) schedulers and optimizers."""
    rng = np.random.default_rng(1)
    tps, gps = _params(torch, n_groups), _params(gpujit, n_groups)
    topt, gopt = make_opt(torch, tps), make_opt(gpujit, gps)
    ts, gs = make_sched(torch, topt), make_sched(gpujit, gopt)
    assert gs.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    assert _group_view(gopt) == pytest.approx(_group_view(topt), rel=1e-12)
    tparams = [p for g in topt.param_groups for p in g["params"]]
    gparams = [p for g in gopt.param_groups for p in g["params"]]
    for i in range(steps):
        for tp, gp in zip(tparams, gparams):
            g = rng.standard_normal(tuple(tp.shape))
            tp.grad, gp.grad = torch.tensor(g), gpujit.tensor(g)
        topt.step()
        gopt.step()
        args = () if metrics is None else (metrics[i],)
        if epochs is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ts.step(*args, epochs[i])
                gs.step(*args, epochs[i])
        else:
            ts.step(*args)
            gs.step(*args)
        assert [float(x) for x in gs.get_last_lr()] == \
            pytest.approx([float(x) for x in ts.get_last_lr()], rel=1e-12, abs=1e-15), i
        assert _group_view(gopt) == pytest.approx(_group_view(topt), rel=1e-12, abs=1e-15), i
        for tp, gp in zip(tparams, gparams):
            np.testing.assert_allclose(gp.detach().numpy(), tp.detach().numpy(), rtol=1e-10,
                                       atol=1e-12)
    return ts, gs, topt, gopt


SCHEDULERS = {
    "exponential": lambda lib, o: lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
    "multiplicative": lambda lib, o: lib.optim.lr_scheduler.MultiplicativeLR(
        o, lr_lambda=lambda e: 0.95 if e % 2 else 1.01),
    "multiplicative-per-group": lambda lib, o: lib.optim.lr_scheduler.MultiplicativeLR(
        o, lr_lambda=[lambda e: 0.9, lambda e: 1.0 - 0.01 * e]),
    "constant": lambda lib, o: lib.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4),
    "polynomial": lambda lib, o: lib.optim.lr_scheduler.PolynomialLR(o, total_iters=12,
                                                                      power=2.0),
    "warm-restarts": lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=5, eta_min=0.001),
    "warm-restarts-mult": lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.01),
    "cyclic-triangular": lambda lib, o: lib.optim.lr_scheduler.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=6),
    "cyclic-triangular2": lambda lib, o: lib.optim.lr_scheduler.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, mode="triangular2"),
    "cyclic-exp-range": lambda lib, o: lib.optim.lr_scheduler.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.95,
        base_momentum=0.7, max_momentum=0.95),
    "cyclic-scale-fn": lambda lib, o: lib.optim.lr_scheduler.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda x: 0.9 ** x,
        scale_mode="iterations", cycle_momentum=False),
    "onecycle-cos": lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=0.2,
                                                                     total_steps=31),
    "onecycle-linear-3phase": lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(
        o, max_lr=[0.2, 0.1], epochs=3, steps_per_epoch=11, anneal_strategy="linear",
        three_phase=True, pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
    "onecycle-no-momentum": lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.2, total_steps=40, cycle_momentum=False),
    "sequential": lambda lib, o: lib.optim.lr_scheduler.SequentialLR(
        o, [lib.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5),
            lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
            lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8)], milestones=[6, 15]),
    "sequential-constant-step": lambda lib, o: lib.optim.lr_scheduler.SequentialLR(
        o, [lib.optim.lr_scheduler.ConstantLR(o, factor=0.2, total_iters=3),
            lib.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5)], milestones=[5]),
    "chained": lambda lib, o: lib.optim.lr_scheduler.ChainedScheduler(
        [lib.optim.lr_scheduler.ConstantLR(o, factor=0.1, total_iters=4),
         lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
         lib.optim.lr_scheduler.PolynomialLR(o, total_iters=20)]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_schedule_matches_torch(name):
    run_pair(SCHEDULERS[name])


@pytest.mark.parametrize("name", ["cyclic-triangular", "cyclic-exp-range", "onecycle-cos",
                                  "onecycle-linear-3phase"])
def test_cycle_momentum_with_adam_betas(name):
    run_pair(SCHEDULERS[name], make_opt=lambda lib, ps: lib.optim.Adam(ps, lr=0.1))


def test_cycle_momentum_needs_momentum():
    for lib in (torch, gpujit):
        o = lib.optim.Adagrad(_params(lib), lr=0.1)
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            lib.optim.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1)


@pytest.mark.parametrize("epochs", [
    [0.5 * i for i in range(1, STEPS + 1)],
    [0.3 * i + (i % 3) for i in range(STEPS)],
    [7, 3, 0, 12.5, 1.25] * 6,
])
@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_with_fractional_epochs(epochs, T_mult):
    run_pair(lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=4, T_mult=T_mult, eta_min=0.001), epochs=epochs)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.1, cooldown=2),
    dict(threshold_mode="abs", threshold=0.05, patience=1, min_lr=[0.02, 0.01]),
    dict(patience=0, factor=0.5, min_lr=0.011, eps=1e-3),
    dict(mode="max", threshold_mode="abs", patience=1, cooldown=1, min_lr=0.001),
])
def test_reduce_lr_on_plateau(kwargs):
    rng = np.random.default_rng(5)
    metrics = list(1.0 + 0.1 * rng.standard_normal(STEPS))
    metrics[3:9] = [0.5] * 6
    ts, gs, _, _ = run_pair(lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(o, **kwargs),
                            metrics=metrics)
    for k in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch", "min_lrs"):
        assert getattr(gs, k) == getattr(ts, k)


def test_reduce_lr_on_plateau_takes_tensor_metrics_and_errors():
    o = optim.SGD(_params(gpujit), lr=0.1)
    s = optim.lr_scheduler.ReduceLROnPlateau(o, patience=0)
    s.step(gpujit.tensor(1.0))
    s.step(gpujit.tensor(2.0))
    assert s.get_last_lr() == pytest.approx([0.01, 0.005])
    for lib in (torch, gpujit):
        o = lib.optim.SGD(_params(lib), lr=0.1)
        with pytest.raises(ValueError, match="Factor should be < 1.0."):
            lib.optim.lr_scheduler.ReduceLROnPlateau(o, factor=1.0)
        with pytest.raises(ValueError, match="mode foo is unknown!"):
            lib.optim.lr_scheduler.ReduceLROnPlateau(o, mode="foo")
        with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
            lib.optim.lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1])


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_state_dict_round_trip(name):
    """A scheduler saved mid-way and loaded into a new one (with the optimizer's state)
    continues as the first one does; its state_dict has torch's keys."""
    ts, gs, topt, gopt = run_pair(SCHEDULERS[name], steps=9)
    tsd, gsd = ts.state_dict(), gs.state_dict()
    assert sorted(gsd) == sorted(tsd)
    gsd = pickle.loads(pickle.dumps(gsd)) if "lambda" not in repr(gsd) else gsd
    opt_sd = gopt.state_dict()
    ps = _params(gpujit)
    o2 = gpujit.optim.SGD(ps, lr=0.1, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s2 = SCHEDULERS[name](gpujit, o2)
    o2.load_state_dict(opt_sd)
    s2.load_state_dict(gsd)
    for _ in range(6):
        gopt.step()
        o2.step()
        gs.step()
        s2.step()
        assert s2.get_last_lr() == pytest.approx(gs.get_last_lr(), rel=1e-12)
        assert _group_view(o2) == pytest.approx(_group_view(gopt), rel=1e-12)


def test_plateau_state_dict_round_trip():
    o = optim.SGD(_params(gpujit), lr=0.1)
    s = optim.lr_scheduler.ReduceLROnPlateau(o, mode="max", patience=1)
    for m in [1.0, 0.5, 0.4]:
        s.step(m)
    t = torch.optim.lr_scheduler.ReduceLROnPlateau(torch.optim.SGD(_params(torch), lr=0.1),
                                                   mode="max", patience=1)
    assert sorted(s.state_dict()) == sorted(t.state_dict())
    s2 = optim.lr_scheduler.ReduceLROnPlateau(optim.SGD(_params(gpujit), lr=0.1))
    s2.load_state_dict(pickle.loads(pickle.dumps(s.state_dict())))
    assert (s2.mode, s2.best, s2.mode_worse) == ("max", 1.0, -float("inf"))


def test_scheduler_step_before_optimizer_step_warns():
    for make in (SCHEDULERS["exponential"], SCHEDULERS["warm-restarts"],
                 SCHEDULERS["cyclic-triangular"], SCHEDULERS["onecycle-cos"],
                 SCHEDULERS["polynomial"]):
        caught = {}
        for lib in (torch, gpujit):
            o = lib.optim.SGD(_params(lib), lr=0.1, momentum=0.9)
            s = make(lib, o)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                s.step()
            caught[lib.__name__] = [str(x.message) for x in w]
        assert caught["gpujit"] == caught["torch"]


@pytest.mark.parametrize("make", [
    lambda lib, o: lib.optim.lr_scheduler.SequentialLR(
        o, [lib.optim.lr_scheduler.ExponentialLR(o, 0.9)], milestones=[3]),
    lambda lib, o: lib.optim.lr_scheduler.SequentialLR(o, [], milestones=[]),
    lambda lib, o: lib.optim.lr_scheduler.SequentialLR(
        o, [lib.optim.lr_scheduler.ReduceLROnPlateau(o)], milestones=[]),
    lambda lib, o: lib.optim.lr_scheduler.ChainedScheduler([]),
    lambda lib, o: lib.optim.lr_scheduler.ChainedScheduler(
        [lib.optim.lr_scheduler.ExponentialLR(o, 0.9),
         lib.optim.lr_scheduler.ExponentialLR(lib.optim.SGD(_params(lib), lr=1.0), 0.9)]),
    lambda lib, o: lib.optim.lr_scheduler.ConstantLR(o, factor=1.5),
    lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5),
    lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, mode="nope"),
    lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, [0.01], 0.1),
    lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, 0.1),
    lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=0),
    lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-1),
    lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, 0.1, 10, pct_start=1),
    lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"),
    lambda lib, o: lib.optim.lr_scheduler.MultiplicativeLR(o, lr_lambda=[0.9, 0.9]),
])
def test_argument_errors_match_torch(make):
    def build(lib):
        make(lib, lib.optim.SGD(_params(lib), lr=0.1, momentum=0.9))
    with pytest.raises(Exception) as te:
        build(torch)
    with pytest.raises(type(te.value)) as ge:
        build(gpujit)
    msg = str(te.value)
    if "has <" not in msg and "SGD (" not in msg:
        assert str(ge.value) == msg


def test_onecycle_stepping_past_total_steps():
    for lib in (torch, gpujit):
        o = lib.optim.SGD(_params(lib), lr=0.1, momentum=0.9)
        s = lib.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(3):
                s.step()
            with pytest.raises(ValueError, match="Tried to step 4 times. The specified number "
                                                 "of total steps is 3"):
                s.step()


def test_tensor_lr_is_updated_in_place():
    """A 0-dim Tensor lr stays the group's Tensor; get_last_lr() gives copies, as torch."""
    for lib in (torch, gpujit):
        lr = lib.tensor(0.1)
        o = lib.optim.Adam(_params(lib, 1), lr=lr)
        s = lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.5)
        o.step()
        s.step()
        assert o.param_groups[0]["lr"] is lr
        assert float(lr) == pytest.approx(0.05)
        last = s.get_last_lr()[0]
        assert isinstance(last, lib.Tensor) and last is not lr


# ---------------------------------------------------------------------------------------
# swa_utils


def _bn_models():
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.BatchNorm1d(8), lib.nn.ReLU(),
                                 lib.nn.Linear(8, 2))
    tm, gm = build(torch), build(gpujit)
    gm.load_state_dict({k: gpujit.tensor(v.detach().numpy().copy())
                        for k, v in tm.state_dict().items()})
    return tm, gm


def _state(m):
    return {k: v.detach().cpu().numpy() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("avg", ["default", "ema-multi", "ema-avg", "swa-multi", "ema-buffers",
                                 "default-buffers", "ema-avg-buffers"])
def test_averaged_model_and_swalr_train_as_torch(avg):
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((8, 4)) .astype(np.float32) for _ in range(20)]
    ys = [rng.standard_normal((8, 2)).astype(np.float32) for _ in range(20)]
    tm, gm = _bn_models()
    results = {}
    for lib, m in ((torch, tm), (gpujit, gm)):
        su = lib.optim.swa_utils
        kw = {"default": {}, "ema-multi": dict(multi_avg_fn=su.get_ema_multi_avg_fn(0.9)),
              "ema-avg": dict(avg_fn=su.get_ema_avg_fn(0.8)),
              "swa-multi": dict(multi_avg_fn=su.get_swa_multi_avg_fn()),
              "ema-buffers": dict(multi_avg_fn=su.get_ema_multi_avg_fn(0.9),
                                  use_buffers=True),
              "default-buffers": dict(use_buffers=True),
              "ema-avg-buffers": dict(avg_fn=su.get_ema_avg_fn(0.7), use_buffers=True)}[avg]
        swa_model = su.AveragedModel(m, **kw)
        opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
        swa_sched = su.SWALR(opt, swa_lr=0.05, anneal_epochs=4, anneal_strategy="cos")
        lrs = []
        for i, (x, y) in enumerate(zip(xs, ys)):
            opt.zero_grad()
            loss = ((m(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
            loss.backward()
            opt.step()
            if i >= 8:
                swa_model.update_parameters(m)
                swa_sched.step()
            else:
                sched.step()
            lrs.append(swa_sched.get_last_lr() if i >= 8 else sched.get_last_lr())
        su.update_bn([(lib.tensor(x), lib.tensor(y)) for x, y in zip(xs[:5], ys[:5])],
                     swa_model)
        out = swa_model(lib.tensor(xs[0])).detach().numpy()
        results[lib.__name__] = (lrs, _state(swa_model), int(swa_model.n_averaged), out,
                                 sorted(swa_sched.state_dict()))
    (tl, ts, tn, to, tk), (gl, gs, gn, go, gk) = results["torch"], results["gpujit"]
    assert np.allclose(gl, tl, rtol=1e-12)
    assert tn == gn == 12 and tk == gk
    assert sorted(ts) == sorted(gs)
    for k in ts:
        np.testing.assert_allclose(gs[k], ts[k], rtol=2e-5, atol=2e-6, err_msg=k)
    np.testing.assert_allclose(go, to, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("kwargs", [dict(anneal_epochs=0), dict(anneal_epochs=3,
                                                                  anneal_strategy="linear"),
                                    dict(swa_lr=[0.3, 0.01], anneal_epochs=5)])
def test_swalr_schedule(kwargs):
    kwargs = dict(kwargs)
    swa_lr = kwargs.pop("swa_lr", 0.02)
    run_pair(lambda lib, o: lib.optim.swa_utils.SWALR(o, swa_lr, **kwargs), steps=10)


def test_swa_errors_match_torch():
    for lib in (torch, gpujit):
        su = lib.optim.swa_utils
        o = lib.optim.SGD(_params(lib), lr=0.1)
        with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or "
                                             "'linear', instead got exp"):
            su.SWALR(o, 0.1, anneal_strategy="exp")
        with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, "
                                             "got -1"):
            su.SWALR(o, 0.1, anneal_epochs=-1)
        with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide "
                                             r"a value in \[0,1\] range."):
            su.get_ema_multi_avg_fn(1.5)
        with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
            su.AveragedModel(lib.nn.Linear(2, 2), avg_fn=su.get_swa_avg_fn(),
                             multi_avg_fn=su.get_swa_multi_avg_fn())
        su.update_bn([lib.ones(2, 2)], lib.nn.Linear(2, 2))      # no BatchNorm: nothing to do


@pytest.mark.parametrize("name", ["exponential", "constant", "polynomial", "multiplicative",
                                  "cyclic-triangular"])
def test_step_with_epoch_uses_the_closed_form(name):
    run_pair(SCHEDULERS[name], epochs=[1, 2, 5, 3, 4, 9, 12, 0, 7, 20], steps=10)


@pytest.mark.parametrize("name", ["ExponentialLR", "MultiplicativeLR", "ConstantLR",
                                  "PolynomialLR", "CosineAnnealingWarmRestarts", "CyclicLR",
                                  "OneCycleLR", "ReduceLROnPlateau", "SequentialLR",
                                  "ChainedScheduler", "LambdaLR", "StepLR", "MultiStepLR",
                                  "LinearLR", "CosineAnnealingLR"])
def test_scheduler_signature_is_torchs(name):
    import inspect

    def sig(cls):
        return [(p.name, p.kind, p.default) for p in
                inspect.signature(cls.__init__).parameters.values()]
    assert sig(getattr(gpujit.optim.lr_scheduler, name)) == \
        sig(getattr(torch.optim.lr_scheduler, name))
