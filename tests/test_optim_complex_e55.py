"""Optimizers on complex parameters: PyTorch steps a complex parameter as the pairs of
real numbers of view_as_real, so a state that does not start at zero starts at
complex(v, v) (Rprop's step_size = lr, Adagrad's sum = initial_accumulator_value); the
imaginary parts used to start at 0 (Rprop then clamped their step to step_size_min).
Expected values from torch 2.13."""
import numpy as np
import pytest

import gpujit

P0 = np.array([1 + 2j, -1 - 0.5j, 3j], np.complex64)
TARGET = np.array([0.5j, 2, 1 + 1j], np.complex64)


def _run(name, kw, steps=3, start=P0, target=TARGET):
    p = gpujit.nn.Parameter(gpujit.tensor(start.copy()))
    opt = getattr(gpujit.optim, name)([p], **kw)
    for _ in range(steps):
        opt.zero_grad()
        ((p - gpujit.tensor(target)).abs() ** 2).sum().backward()
        opt.step()
    return p.detach().numpy(), opt


@pytest.mark.parametrize("foreach", [None, True, False])
def test_rprop_complex_matches_torch(foreach):
    p, opt = _run("Rprop", dict(lr=0.01, foreach=foreach))
    np.testing.assert_allclose(p, [0.9636 + 1.9636j, -0.9636 - 0.4636j, 0.0364 + 2.9636j],
                               rtol=1e-6, atol=1e-6)
    # both parts of the step size grew (etaplus) from lr
    np.testing.assert_allclose(opt.state[opt.param_groups[0]["params"][0]]["step_size"].numpy(),
                               np.full(3, 0.0144 + 0.0144j, np.complex64), rtol=1e-6)


@pytest.mark.parametrize("foreach", [None, True, False])
def test_adagrad_complex_initial_accumulator_matches_torch(foreach):
    p0 = gpujit.nn.Parameter(gpujit.tensor(P0.copy()))
    opt = gpujit.optim.Adagrad([p0], lr=0.1, initial_accumulator_value=0.3)
    np.testing.assert_array_equal(opt.state[p0]["sum"].numpy(),
                                  np.full(3, 0.3 + 0.3j, np.complex64))
    p, _ = _run("Adagrad", dict(lr=0.1, initial_accumulator_value=0.3, foreach=foreach))
    np.testing.assert_allclose(p, [0.7858247 + 1.7798035j, -0.7749952 - 0.30877656j,
                                   0.2141753 + 2.7772362j], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,kw", [
    ("Rprop", dict(lr=0.01)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.3, lr_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.3)),
    ("Adadelta", dict(lr=1.0)),
    ("Adamax", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01)),
    ("ASGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
])
def test_complex_parameter_steps_as_its_real_pairs(name, kw):
    # a complex parameter and the float parameter of its (re, im) pairs, with the same
    # loss, take the same steps (PyTorch's view_as_real semantics)
    pc, _ = _run(name, kw)
    pr, _ = _run(name, kw, start=P0.view(np.float32).reshape(3, 2),
                 target=TARGET.view(np.float32).reshape(3, 2))
    np.testing.assert_allclose(pc.view(np.float32).reshape(3, 2), pr, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"line_search_fn": "strong_wolfe"}])
def test_lbfgs_complex_parameters_match_torch(kw):
    # LBFGS's flat vectors hold a complex parameter's real pairs (torch's view_as_real):
    # it raised '"gt_cpu" not implemented for 'ComplexFloat'' on its first iteration
    p = gpujit.nn.Parameter(gpujit.tensor(P0.copy()))
    q = gpujit.nn.Parameter(gpujit.tensor(np.array([1.0, 2.0], np.float32)))
    r = gpujit.nn.Parameter(gpujit.tensor(np.array([0.5 + 0.5j], np.complex64)))   # no grad
    opt = gpujit.optim.LBFGS([p, q, r], max_iter=3, **kw)

    def closure():
        opt.zero_grad()
        loss = ((p - gpujit.tensor(TARGET)).abs() ** 2).sum() + (q ** 4).sum()
        loss.backward()
        return loss

    for _ in range(2):
        opt.step(closure)
    np.testing.assert_allclose(p.detach().numpy(), [0.21195862 + 0.81793785j,
                                                    1.3641245 - 0.10597931j,
                                                    0.78804135 + 1.4239172j], rtol=1e-5)
    np.testing.assert_allclose(q.detach().numpy(), [0.4020939, 0.00208092], rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_array_equal(r.detach().numpy(), [0.5 + 0.5j])
    assert opt.state[p]["func_evals"] == 6 and opt.state[p]["n_iter"] == 4


def test_adafactor_refuses_complex_parameters_in_torch_words():
    # (it failed inside its update: "expected dtype c10::complex<float> for `end`")
    p = gpujit.nn.Parameter(gpujit.tensor(P0.copy()))
    opt = gpujit.optim.Adafactor([p])
    (p.abs() ** 2).sum().backward()
    with pytest.raises(RuntimeError, match="Adafactor does not support complex parameters"):
        opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), P0)


@pytest.mark.parametrize("ema", [False, True])
def test_averaged_model_of_a_complex_module(ema):
    # the EMA's lerp_ of complex tensors raised '"lerp_kernel_scalar" not implemented for
    # 'ComplexFloat''; torch's values (its complex lerp with a real weight)
    from gpujit.optim import swa_utils as su
    m = gpujit.nn.Linear(2, 2, dtype=gpujit.cfloat)
    w = np.array([[1 + 2j, -1 - 0.5j], [3j, 0.5]], np.complex64)
    with gpujit.no_grad():
        m.weight.copy_(gpujit.tensor(w))
        m.bias.zero_()
    am = su.AveragedModel(m, multi_avg_fn=su.get_ema_multi_avg_fn(0.9) if ema else None)
    am.update_parameters(m)
    with gpujit.no_grad():
        m.weight.mul_(2)
    am.update_parameters(m)
    np.testing.assert_allclose(am.module.weight.detach().numpy(), w * (1.1 if ema else 1.5),
                               rtol=1e-6)
