"""gpujit.optim.lr_scheduler: the lrs the (chainable) schedulers set, epoch by epoch,
against the closed forms written out here."""
import math
import warnings

import numpy as np
import pytest

import gpujit
from gpujit import optim
from gpujit.nn import Parameter
from gpujit.optim import lr_scheduler as sched

EPOCHS = 25


def make_opt(lrs=(0.1,)):
    groups = [{"params": [Parameter(gpujit.zeros(2, dtype=gpujit.float64))], "lr": lr}
              for lr in lrs]
    return optim.SGD(groups, lr=lrs[0])


def lrs_over_epochs(scheduler, opt, epochs=EPOCHS):
    """[lrs of every group] at epochs 0..epochs-1, stepping optimizer then scheduler."""
    seen = []
    for _ in range(epochs):
        seen.append([g["lr"] for g in opt.param_groups])
        assert scheduler.get_last_lr() == seen[-1]
        opt.step()
        scheduler.step()
    return seen


def assert_lrs(seen, closed_form, base_lrs):
    for epoch, lrs in enumerate(seen):
        expected = [closed_form(base, epoch) for base in base_lrs]
        assert lrs == pytest.approx(expected, rel=1e-12, abs=1e-15), f"epoch {epoch}"


def test_step_lr():
    opt = make_opt((0.1, 0.5))
    s = sched.StepLR(opt, step_size=3, gamma=0.5)
    seen = lrs_over_epochs(s, opt)
    assert_lrs(seen, lambda base, e: base * 0.5 ** (e // 3), (0.1, 0.5))
    assert seen[:7] == [[0.1, 0.5]] * 3 + [[0.05, 0.25]] * 3 + [[0.025, 0.125]]


def test_multi_step_lr_with_a_repeated_milestone():
    opt = make_opt()
    s = sched.MultiStepLR(opt, milestones=[2, 5, 5, 9], gamma=0.1)
    seen = lrs_over_epochs(s, opt, 12)

    def closed(base, e):
        return base * 0.1 ** sum(m <= e for m in (2, 5, 5, 9))
    assert_lrs(seen, closed, (0.1,))
    assert seen[5][0] == pytest.approx(1e-4)


def test_cosine_annealing_lr_follows_the_cosine_through_and_past_T_max():
    opt = make_opt((0.1, 0.02))
    s = sched.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    seen = lrs_over_epochs(s, opt, 35)

    def closed(base, e):
        return 0.001 + (base - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2
    assert_lrs(seen, closed, (0.1, 0.02))
    assert seen[10] == pytest.approx([0.001, 0.001])
    assert seen[20] == pytest.approx([0.1, 0.02])


def test_cosine_annealing_with_eta_min_zero():
    opt = make_opt()
    s = sched.CosineAnnealingLR(opt, T_max=4)
    seen = lrs_over_epochs(s, opt, 9)
    assert_lrs(seen, lambda base, e: base * (1 + math.cos(math.pi * e / 4)) / 2, (0.1,))


def test_lambda_lr_one_function_and_one_per_group():
    opt = make_opt((0.1, 0.2))
    s = sched.LambdaLR(opt, lambda e: 0.95 ** e)
    assert_lrs(lrs_over_epochs(s, opt, 10), lambda base, e: base * 0.95 ** e, (0.1, 0.2))

    opt = make_opt((0.1, 0.2))
    s = sched.LambdaLR(opt, [lambda e: 1.0 / (e + 1), lambda e: e])
    seen = lrs_over_epochs(s, opt, 6)
    assert [lr for lr, _ in seen] == pytest.approx([0.1 / (e + 1) for e in range(6)])
    assert [lr for _, lr in seen] == pytest.approx([0.2 * e for e in range(6)])


def test_linear_lr_defaults():
    opt = make_opt()
    s = sched.LinearLR(opt)
    seen = lrs_over_epochs(s, opt, 9)
    assert_lrs(seen, lambda base, e: base * (1 / 3 + (2 / 3) * min(e, 5) / 5), (0.1,))
    assert seen[0][0] == pytest.approx(0.1 / 3) and seen[8][0] == pytest.approx(0.1)


def test_linear_lr_decaying():
    opt = make_opt()
    s = sched.LinearLR(opt, start_factor=1.0, end_factor=0.5, total_iters=4)
    assert_lrs(lrs_over_epochs(s, opt, 7),
               lambda base, e: base * (1.0 - 0.5 * min(e, 4) / 4), (0.1,))


def test_initial_lr_base_lrs_and_last_epoch():
    opt = make_opt((0.1, 0.3))
    s = sched.StepLR(opt, step_size=1, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3]
    assert s.base_lrs == [0.1, 0.3] and s.last_epoch == 0
    opt.step()
    s.step()
    assert s.last_epoch == 1 and s.get_last_lr() == [0.05, 0.15]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3]


def test_scheduler_lr_is_what_the_optimizer_uses():
    p = Parameter(gpujit.zeros(1, dtype=gpujit.float64))
    opt = optim.SGD([p], lr=1.0)
    s = sched.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = gpujit.ones(1, dtype=gpujit.float64)
        opt.step()
        s.step()
    np.testing.assert_allclose(p.detach().numpy(), -(1 + 0.5 + 0.25))


def test_state_dict_round_trip():
    opt = make_opt()
    s = sched.CosineAnnealingLR(opt, T_max=7, eta_min=0.01)
    for _ in range(4):
        opt.step()
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4 and sd["T_max"] == 7

    opt2 = make_opt()
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    s2 = sched.CosineAnnealingLR(opt2, T_max=99)
    s2.load_state_dict(sd)
    assert s2.T_max == 7 and s2.last_epoch == 4
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    for _ in range(5):
        opt.step()
        s.step()
        opt2.step()
        s2.step()
        assert s2.get_last_lr() == s.get_last_lr()


def test_lambda_lr_state_dict_saves_callable_objects_not_functions():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = make_opt((0.1, 0.2))
    s = sched.LambdaLR(opt, [lambda e: 1.0, Decay(0.5)])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [None, {"rate": 0.5}]
    other = sched.LambdaLR(make_opt((0.1, 0.2)), [lambda e: 1.0, Decay(0.9)])
    other.load_state_dict(sd)
    assert other.lr_lambdas[1].rate == 0.5
    assert "lr_lambdas" in sd


def test_resuming_with_last_epoch_needs_initial_lr():
    opt = make_opt()
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in "
                                       r"param_groups\[0\] when resuming scheduler with "
                                       r"last_epoch >= 0"):
        sched.StepLR(opt, step_size=2, last_epoch=3)
    opt.param_groups[0]["initial_lr"] = 0.1
    s = sched.StepLR(opt, step_size=2, last_epoch=3)
    assert s.last_epoch == 4 and s.base_lrs == [0.1]


def test_step_with_epoch_uses_the_closed_form():
    opt = make_opt()
    s = sched.StepLR(opt, step_size=2, gamma=0.1)
    opt.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)`"):
        s.step(5)
    assert s.last_epoch == 5 and s.get_last_lr() == pytest.approx([0.1 * 0.1 ** 2])


def test_warns_when_stepped_before_the_optimizer():
    opt = make_opt()
    s = sched.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before "
                                         "`optimizer.step\\(\\)`"):
        s.step()
    opt = make_opt()
    s = sched.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.step()


def test_get_lr_outside_step_warns():
    opt = make_opt()
    s = sched.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        s.get_lr()


def test_errors():
    opt = make_opt((0.1, 0.2))
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        sched.StepLR([], step_size=1)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        sched.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="Starting multiplicative factor expected to be greater "
                                         "than 0 and less or equal to 1."):
        sched.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Ending multiplicative factor expected to be between 0 "
                                         "and 1."):
        sched.LinearLR(opt, end_factor=1.5)
