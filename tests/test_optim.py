"""gpujit.optim against update formulas written here in NumPy, step by step.

Each optimizer runs 5 steps over parameters of several shapes (a 0-dim one, small ones that
take the flat "foreach" path, and one large enough to be updated on its own), with grads set
by hand, and the parameters are compared with the NumPy reference after every step.
"""
import copy
import pickle
import warnings

import numpy as np
import pytest

import gpujit
from gpujit import optim
from gpujit.nn import Parameter
from gpujit.optim.optimizer import FLAT_MAX_NUMEL

SHAPES = [(3, 4), (5,), (), (2, 1, 3), (FLAT_MAX_NUMEL + 7,)]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-6, atol=1e-12)}
STEPS = 5


def make_params(np_dtype, shapes=SHAPES, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np_dtype) for s in shapes]


def make_grads(np_dtype, shapes=SHAPES, steps=STEPS, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(np_dtype) for s in shapes] for _ in range(steps)]


def to_params(arrays, device="cpu"):
    return [Parameter(gpujit.tensor(a.copy(), device=device)) for a in arrays]


def values(params):
    return [p.detach().cpu().numpy().copy() for p in params]


# ---------------------------------------------------------------------------------------
# NumPy references: one parameter, a list of grads; yields the parameter after each step


def sgd_ref(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):
    buf = None
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        yield p


def adam_ref(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas
    m = v = v_max = np.zeros_like(p)
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        v_max = np.maximum(v_max, v)
        v_hat = (v_max if amsgrad else v) / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        yield p


def rmsprop_ref(p, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    sq = g_avg = buf = np.zeros_like(p)
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            avg = np.sqrt(sq - g_avg * g_avg) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
        yield p


def check_against_reference(make_opt, ref, np_dtype, foreach):
    init, grads = make_params(np_dtype), make_grads(np_dtype)
    params = to_params(init)
    opt = make_opt(params, foreach)
    # the reference runs in float64 from the same inputs
    refs = [ref(p.astype(np.float64), [gs[i].astype(np.float64) for gs in grads])
            for i, p in enumerate(init)]
    for step in range(STEPS):
        for p, g in zip(params, grads[step]):
            p.grad = gpujit.tensor(g)
        opt.step()
        for i, (p, r) in enumerate(zip(params, refs)):
            expected = next(r)
            got = p.detach().numpy()
            assert got.dtype == np_dtype
            np.testing.assert_allclose(got, expected, **TOL[np_dtype],
                                       err_msg=f"param {i} after step {step + 1}")


DTYPES = [np.float32, np.float64]
FOREACH = [None, False]

SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.1, momentum=0.9),
    "dampening": dict(lr=0.05, momentum=0.8, dampening=0.3),
    "nesterov": dict(lr=0.1, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.1, momentum=0.5, weight_decay=0.1),
    "maximize": dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True),
}


@pytest.mark.parametrize("foreach", FOREACH)
@pytest.mark.parametrize("np_dtype", DTYPES)
@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd_matches_reference(case, np_dtype, foreach):
    kw = SGD_CASES[case]
    check_against_reference(lambda ps, fe: optim.SGD(ps, foreach=fe, **kw),
                            lambda p, gs: sgd_ref(p, gs, **kw), np_dtype, foreach)


ADAM_CASES = {
    "plain": dict(lr=0.01),
    "betas_eps": dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
    "weight_decay": dict(lr=0.01, weight_decay=0.1),
    "amsgrad": dict(lr=0.01, amsgrad=True),
    "amsgrad_wd_maximize": dict(lr=0.02, amsgrad=True, weight_decay=0.05, maximize=True),
}


@pytest.mark.parametrize("foreach", FOREACH)
@pytest.mark.parametrize("np_dtype", DTYPES)
@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_matches_reference(case, np_dtype, foreach):
    kw = ADAM_CASES[case]
    check_against_reference(lambda ps, fe: optim.Adam(ps, foreach=fe, **kw),
                            lambda p, gs: adam_ref(p, gs, **kw), np_dtype, foreach)


ADAMW_CASES = {
    "default_decay": dict(lr=0.01),
    "strong_decay": dict(lr=0.05, weight_decay=0.5),
    "amsgrad_maximize": dict(lr=0.01, amsgrad=True, maximize=True),
}


@pytest.mark.parametrize("foreach", FOREACH)
@pytest.mark.parametrize("np_dtype", DTYPES)
@pytest.mark.parametrize("case", list(ADAMW_CASES))
def test_adamw_matches_reference(case, np_dtype, foreach):
    kw = dict(ADAMW_CASES[case])
    ref_kw = dict(kw, weight_decay=kw.get("weight_decay", 1e-2), decoupled=True)
    check_against_reference(lambda ps, fe: optim.AdamW(ps, foreach=fe, **kw),
                            lambda p, gs: adam_ref(p, gs, **ref_kw), np_dtype, foreach)


RMSPROP_CASES = {
    "plain": dict(lr=0.01),
    "alpha_eps": dict(lr=0.01, alpha=0.9, eps=1e-4),
    "momentum": dict(lr=0.01, momentum=0.9),
    "centered": dict(lr=0.01, centered=True),
    "centered_momentum_wd": dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1),
    "maximize": dict(lr=0.01, maximize=True, momentum=0.3),
}


@pytest.mark.parametrize("foreach", FOREACH)
@pytest.mark.parametrize("np_dtype", DTYPES)
@pytest.mark.parametrize("case", list(RMSPROP_CASES))
def test_rmsprop_matches_reference(case, np_dtype, foreach):
    kw = RMSPROP_CASES[case]
    check_against_reference(lambda ps, fe: optim.RMSprop(ps, foreach=fe, **kw),
                            lambda p, gs: rmsprop_ref(p, gs, **kw), np_dtype, foreach)


def test_defaults_are_torchs():
    p = [Parameter(gpujit.zeros(2))]
    assert optim.SGD(p).defaults == dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                                         nesterov=False, maximize=False, foreach=None,
                                         differentiable=False, fused=None)
    adam = optim.Adam(p).defaults
    assert (adam["lr"], adam["betas"], adam["eps"], adam["weight_decay"], adam["amsgrad"]) \
        == (1e-3, (0.9, 0.999), 1e-8, 0, False)
    adamw = optim.AdamW(p).defaults
    assert (adamw["weight_decay"], adamw["decoupled_weight_decay"]) == (1e-2, True)
    rms = optim.RMSprop(p).defaults
    assert (rms["lr"], rms["alpha"], rms["eps"], rms["momentum"], rms["centered"]) \
        == (1e-2, 0.99, 1e-8, 0, False)


# ---------------------------------------------------------------------------------------
# foreach and the per-parameter loop


OPTIMIZERS = {
    "sgd": lambda ps, fe: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1,
                                    foreach=fe),
    "adam": lambda ps, fe: optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.1, foreach=fe),
    "adamw": lambda ps, fe: optim.AdamW(ps, lr=0.01, maximize=True, foreach=fe),
    "rmsprop": lambda ps, fe: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5,
                                            foreach=fe),
}


def run_steps(make_opt, foreach, np_dtype=np.float32, shapes=SHAPES, device="cpu",
              missing=()):
    """Parameters after STEPS steps; `missing` holds (step, param index) without grad."""
    params = to_params(make_params(np_dtype, shapes), device)
    grads = make_grads(np_dtype, shapes)
    opt = make_opt(params, foreach)
    for step in range(STEPS):
        for i, (p, g) in enumerate(zip(params, grads[step])):
            p.grad = None if (step, i) in missing else gpujit.tensor(g, device=device)
        opt.step()
    return values(params), opt


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_foreach_and_loop_give_identical_results(name):
    flat, opt = run_steps(OPTIMIZERS[name], None)
    loop, _ = run_steps(OPTIMIZERS[name], False)
    for a, b in zip(flat, loop):
        assert np.array_equal(a, b)
    # the small parameters really were updated together: one flat prefix of 4 parameters
    (bucket,) = opt._stores[0][2]
    assert bucket.n_flat == 4


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_missing_grads_and_uneven_steps(name):
    """A parameter without grad is skipped (its step count falls behind): the flat path
    must then fall back, with the same results as the loop."""
    missing = {(0, 1), (2, 0), (2, 3), (3, 1)}
    flat, opt = run_steps(OPTIMIZERS[name], None, missing=missing)
    loop, _ = run_steps(OPTIMIZERS[name], False, missing=missing)
    for a, b in zip(flat, loop):
        assert np.array_equal(a, b)


def test_uneven_steps_match_reference_per_parameter():
    """Adam's bias correction uses each parameter's own step count."""
    init, grads = make_params(np.float64), make_grads(np.float64)
    missing = {(0, 1), (2, 0), (3, 1)}
    params = to_params(init)
    opt = optim.Adam(params, lr=0.01)
    for step in range(STEPS):
        for i, (p, g) in enumerate(zip(params, grads[step])):
            p.grad = None if (step, i) in missing else gpujit.tensor(g)
        opt.step()
    for i, p in enumerate(params):
        gs = [grads[s][i] for s in range(STEPS) if (s, i) not in missing]
        *_, expected = adam_ref(init[i], gs, lr=0.01)
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-6)
        assert float(opt.state[p]["step"]) == len(gs)


def test_parameter_without_grad_gets_no_state_and_no_update():
    a, b = Parameter(gpujit.ones(3)), Parameter(gpujit.ones(3))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = gpujit.ones(3)
    opt.step()
    assert list(opt.state) == [a]
    assert np.array_equal(b.detach().numpy(), np.ones(3, np.float32))
    assert a._version == 1 and b._version == 0


def test_sgd_without_momentum_keeps_no_state():
    p = Parameter(gpujit.ones(2))
    opt = optim.SGD([p], lr=0.5)
    p.grad = gpujit.ones(2)
    opt.step()
    assert len(opt.state) == 0
    assert np.array_equal(p.detach().numpy(), np.full(2, 0.5, np.float32))


def test_each_step_bumps_the_version_once():
    params = to_params(make_params(np.float32))
    opt = optim.Adam(params)
    for step in range(1, 4):
        for p in params:
            p.grad = gpujit.ones_like(p)
        opt.step()
        assert [p._version for p in params] == [step] * len(params)


def test_state_holds_torchs_entries():
    params = to_params(make_params(np.float64))
    grads = make_grads(np.float64)
    opt = optim.Adam(params, lr=0.01, amsgrad=True)
    for step in range(STEPS):
        for p, g in zip(params, grads[step]):
            p.grad = gpujit.tensor(g)
        opt.step()
    st = opt.state[params[0]]
    assert sorted(st) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert st["step"].dtype is gpujit.float32 and st["step"].shape == () and float(st["step"]) == 5
    m = np.zeros(SHAPES[0])
    for gs in grads:
        m = 0.9 * m + 0.1 * gs[0]
    np.testing.assert_allclose(st["exp_avg"].numpy(), m, rtol=1e-12)


def test_replaced_state_tensor_is_used():
    """A state tensor the user replaces is the one the next step reads."""
    p = Parameter(gpujit.ones(3, dtype=gpujit.float64))
    q = Parameter(gpujit.ones(3, dtype=gpujit.float64))
    opt = optim.SGD([p, q], lr=0.1, momentum=0.5)
    for t in (p, q):
        t.grad = gpujit.ones(3, dtype=gpujit.float64)
    opt.step()                                   # buf = 1, p = 0.9
    opt.state[p]["momentum_buffer"] = gpujit.full((3,), 10.0, dtype=gpujit.float64)
    opt.step()                                   # buf = 5 + 1 = 6, p = 0.9 - 0.6
    np.testing.assert_allclose(p.detach().numpy(), 0.3)
    np.testing.assert_allclose(q.detach().numpy(), 0.9 - 0.15)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), 6.0)


def test_mixed_dtypes_in_one_group():
    p32 = Parameter(gpujit.ones(4, dtype=gpujit.float32))
    p64 = Parameter(gpujit.ones(4, dtype=gpujit.float64))
    q32 = Parameter(gpujit.ones(2, dtype=gpujit.float32))
    opt = optim.SGD([p32, p64, q32], lr=0.25, momentum=0.9)
    for p in (p32, p64, q32):
        p.grad = gpujit.ones_like(p)
    opt.step()
    assert [p.dtype for p in (p32, p64, q32)] == [gpujit.float32, gpujit.float64, gpujit.float32]
    for p in (p32, p64, q32):
        np.testing.assert_allclose(p.detach().numpy(), 0.75)
        assert opt.state[p]["momentum_buffer"].dtype is p.dtype


# ---------------------------------------------------------------------------------------
# parameter groups, hyper-parameters, closure


def test_parameter_groups_with_their_own_lr():
    shapes = [(3,), (4,), (2,)]
    init, grads = make_params(np.float64, shapes), make_grads(np.float64, shapes)
    a, b, c = to_params(init)
    opt = optim.SGD([{"params": [a, b]}, {"params": c, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0, 0.9]
    for step in range(STEPS):
        for p, g in zip((a, b, c), grads[step]):
            p.grad = gpujit.tensor(g)
        opt.step()
    for p, i, kw in ((a, 0, dict(lr=0.1)), (b, 1, dict(lr=0.1)),
                     (c, 2, dict(lr=0.5, momentum=0.9))):
        *_, expected = sgd_ref(init[i], [gs[i] for gs in grads], **kw)
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-12)


def test_changing_lr_between_steps_takes_effect():
    p = Parameter(gpujit.zeros(2, dtype=gpujit.float64))
    opt = optim.SGD([p], lr=1.0)
    p.grad = gpujit.ones(2, dtype=gpujit.float64)
    opt.step()
    opt.param_groups[0]["lr"] = 0.25
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), -1.25)


def test_add_param_group():
    a, b = Parameter(gpujit.ones(2)), Parameter(gpujit.ones(2))
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.2})
    assert opt.param_groups[1]["lr"] == 0.2 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    a.grad, b.grad = gpujit.ones(2), gpujit.ones(2)
    opt.step()      # Adam's first step moves every element by lr
    np.testing.assert_allclose(a.detach().numpy(), 0.9, rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), 0.8, rtol=1e-6)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter "
                                         "group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([a])


def test_step_calls_the_closure_and_returns_its_loss():
    p = Parameter(gpujit.ones(2))
    opt = optim.SGD([p], lr=0.1)
    calls = []

    def closure():
        calls.append(1)
        p.grad = gpujit.ones(2)
        return 3.5

    assert opt.step(closure) == 3.5
    assert calls == [1]
    np.testing.assert_allclose(p.detach().numpy(), 0.9, rtol=1e-6)
    assert opt.step() is None


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    p, q = Parameter(gpujit.ones(3)), Parameter(gpujit.ones(2))
    opt = optim.SGD([p, q])
    p.grad = gpujit.ones(3)
    g = p.grad
    opt.zero_grad(set_to_none=set_to_none)
    assert q.grad is None
    if set_to_none:
        assert p.grad is None
    else:
        assert p.grad is g and np.array_equal(g.numpy(), np.zeros(3, np.float32))


def test_zero_grad_defaults_to_none():
    p = Parameter(gpujit.ones(3))
    opt = optim.SGD([p])
    p.grad = gpujit.ones(3)
    opt.zero_grad()
    assert p.grad is None


# ---------------------------------------------------------------------------------------
# errors and repr


def test_errors():
    p = Parameter(gpujit.ones(2))
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="params argument given to the optimizer should be an "
                                        "iterable of Tensors or dicts, but got "
                                        "torch.FloatTensor"):
        optim.SGD(p)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the "
                                        "params is int"):
        optim.SGD([p, 3])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter "
                                         "group"):
        optim.SGD([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        optim.SGD([p], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid momentum value: -1"):
        optim.SGD([p], momentum=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero "
                                         "dampening"):
        optim.SGD([p], momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 1.0"):
        optim.Adam([p], betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: -0.1"):
        optim.AdamW([p], betas=(0.9, -0.1))
    with pytest.raises(ValueError, match="Invalid epsilon value: -1e-08"):
        optim.Adam([p], eps=-1e-8)
    with pytest.raises(ValueError, match="Invalid weight_decay value: -0.01"):
        optim.AdamW([p], weight_decay=-0.01)
    with pytest.raises(ValueError, match="Invalid alpha value: -0.5"):
        optim.RMSprop([p], alpha=-0.5)
    with pytest.raises(TypeError, match="optimizer parameters need to be organized in ordered "
                                        "collections"):
        optim.SGD([{"params": {p}}])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p])
    with pytest.raises(ValueError, match="parameter group didn't specify a value of required "
                                         "optimization parameter lr"):
        optim.Optimizer([p], {"lr": optim.required})


def test_grad_of_wrong_shape_is_an_error():
    p = Parameter(gpujit.ones(3))
    opt = optim.SGD([p])
    # (torch 2.13 refuses the assignment itself: THPVariable_set_grad's size check)
    with pytest.raises(RuntimeError, match=r"^attempting to assign a gradient of size '\[2\]' "
                                           r"to a tensor of size '\[3\]'. Please ensure"):
        p.grad = gpujit.ones(2)
    assert p.grad is None
    opt.step()


def test_repr():
    p = Parameter(gpujit.ones(2))
    opt = optim.SGD([{"params": [p]}], lr=0.1, momentum=0.9)
    assert repr(opt) == ("SGD (\n"
                         "Parameter Group 0\n"
                         "    dampening: 0\n"
                         "    differentiable: False\n"
                         "    foreach: None\n"
                         "    fused: None\n"
                         "    lr: 0.1\n"
                         "    maximize: False\n"
                         "    momentum: 0.9\n"
                         "    nesterov: False\n"
                         "    weight_decay: 0\n"
                         ")")


# ---------------------------------------------------------------------------------------
# state_dict


def train(opt, params, grads):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = gpujit.tensor(g)
        opt.step()


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_dict_round_trip_continues_training_identically(name):
    init, grads = make_params(np.float32), make_grads(np.float32)
    make = OPTIMIZERS[name]
    ref_params = to_params(init)
    train(make(ref_params, None), ref_params, grads)

    params = to_params(init)
    opt = make(params, None)
    train(opt, params, grads[:3])
    sd = opt.state_dict()
    resumed = [Parameter(gpujit.tensor(v)) for v in values(params)]
    opt2 = make(resumed, None)
    opt2.load_state_dict(sd)
    train(opt2, resumed, grads[3:])
    for a, b in zip(values(ref_params), values(resumed)):
        assert np.array_equal(a, b)


def test_state_dict_format_and_live_state():
    a, b = Parameter(gpujit.ones(2)), Parameter(gpujit.ones(3))
    c = Parameter(gpujit.ones(1))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    a.grad, c.grad = gpujit.ones(2), gpujit.ones(1)
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sorted(sd["state"]) == [0, 2]
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and "params" not in opt.state_dict()["state"]
    saved = sd["state"][0]["exp_avg"].numpy().copy()
    snapshot = copy.deepcopy(sd)
    a.grad = gpujit.ones(2)
    opt.step()
    # as torch 2.13's: the state dict holds the live state (its per-parameter dicts are
    # the optimizer's own), so the next step shows in it; a deepcopy is a snapshot
    assert sd["state"][0] is opt.state[a]
    assert sd["state"][0]["exp_avg"] is opt.state[a]["exp_avg"]
    np.testing.assert_allclose(sd["state"][0]["exp_avg"].numpy(), [0.19, 0.19], rtol=1e-6)
    assert float(sd["state"][0]["step"]) == 2.0
    assert np.array_equal(snapshot["state"][0]["exp_avg"].numpy(), saved)
    assert float(snapshot["state"][0]["step"]) == 1.0
    # and it pickles (the live values)
    again = pickle.loads(pickle.dumps(sd))
    assert np.array_equal(again["state"][0]["exp_avg"].numpy(), opt.state[a]["exp_avg"].numpy())


def test_load_state_dict_casts_to_the_parameters_dtype():
    p = Parameter(gpujit.ones(2, dtype=gpujit.float64))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    sd = {"state": {0: {"momentum_buffer": gpujit.ones(2, dtype=gpujit.float32)}},
          "param_groups": [dict(copy.deepcopy(opt.state_dict()["param_groups"][0]))]}
    opt.load_state_dict(sd)
    assert opt.state[p]["momentum_buffer"].dtype is gpujit.float64
    p.grad = gpujit.ones(2, dtype=gpujit.float64)
    opt.step()                                   # buf = 0.9 + 1
    np.testing.assert_allclose(p.detach().numpy(), 1 - 0.19)


def test_load_state_dict_errors():
    a, b = Parameter(gpujit.ones(2)), Parameter(gpujit.ones(2))
    sd = optim.SGD([{"params": [a]}, {"params": [b]}]).state_dict()
    with pytest.raises(ValueError, match="loaded state dict has a different number of "
                                         "parameter groups"):
        optim.SGD([a, b]).load_state_dict(sd)
    sd = optim.SGD([a]).state_dict()
    with pytest.raises(ValueError, match="loaded state dict contains a parameter group that "
                                         "doesn't match the size of optimizer's group"):
        optim.SGD([a, b]).load_state_dict(sd)


def test_deepcopy_of_an_optimizer_steps_independently():
    params = to_params(make_params(np.float64, [(3,), (2,)]))
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    for p in params:
        p.grad = gpujit.ones_like(p)
    opt.step()
    twin = copy.deepcopy(opt)
    twin_params = [p for g in twin.param_groups for p in g["params"]]
    for p in twin_params:
        p.grad = gpujit.ones_like(p)
    twin.step()
    opt.step()
    for a, b in zip(values(params), values(twin_params)):
        assert np.array_equal(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        repr(twin)


# ---------------------------------------------------------------------------------------
# CUDA


@pytest.mark.cuda
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_cuda_matches_cpu(name):
    cpu, _ = run_steps(OPTIMIZERS[name], None)
    for foreach in (None, False):
        gpu, opt = run_steps(OPTIMIZERS[name], foreach, device="cuda")
        for a, b in zip(cpu, gpu):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    p = opt.param_groups[0]["params"][0]
    for key, t in opt.state[p].items():
        assert t.device == (gpujit.device("cpu") if key == "step" else p.device)
