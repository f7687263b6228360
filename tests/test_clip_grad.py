"""gpujit.nn.utils.clip_grad_norm_ / clip_grad_value_ against NumPy."""
import math

import numpy as np
import pytest

import gpujit
from gpujit.nn import Parameter
from gpujit.nn.utils import clip_grad_norm_, clip_grad_value_, get_total_norm

SHAPES = [(3, 4), (5,), (), (2, 3)]


def params_with_grads(np_dtype=np.float64, scale=1.0, device="cpu", seed=0):
    rng = np.random.default_rng(seed)
    params, grads = [], []
    for s in SHAPES:
        p = Parameter(gpujit.tensor(rng.standard_normal(s).astype(np_dtype), device=device))
        g = (scale * rng.standard_normal(s)).astype(np_dtype)
        p.grad = gpujit.tensor(g, device=device)
        params.append(p)
        grads.append(g)
    return params, grads


def np_total_norm(grads, norm_type):
    flat = np.concatenate([np.ravel(g) for g in grads]).astype(np.float64)
    if norm_type == math.inf:
        return np.abs(flat).max()
    return (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)


def grads_of(params):
    return [p.grad.cpu().numpy() for p in params]


@pytest.mark.parametrize("foreach", [None, False])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
def test_clip_grad_norm_scales_when_above(norm_type, foreach):
    params, grads = params_with_grads(scale=5.0)
    nt = float(norm_type)
    expected_norm = np_total_norm(grads, nt)
    total = clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type, foreach=foreach)
    assert isinstance(total, gpujit.Tensor) and total.shape == () and total.dtype is gpujit.float64
    np.testing.assert_allclose(total.item(), expected_norm, rtol=1e-12)
    coef = 1.5 / (expected_norm + 1e-6)
    for got, g in zip(grads_of(params), grads):
        np.testing.assert_allclose(got, g * coef, rtol=1e-12)
    np.testing.assert_allclose(np_total_norm(grads_of(params), nt), 1.5, rtol=1e-5)


def test_clip_grad_norm_leaves_small_grads():
    params, grads = params_with_grads(scale=0.01)
    total = clip_grad_norm_(params, max_norm=10.0)
    np.testing.assert_allclose(float(total), np_total_norm(grads, 2.0), rtol=1e-12)
    for got, g in zip(grads_of(params), grads):
        np.testing.assert_array_equal(got, g)


def test_clip_grad_norm_float32():
    params, grads = params_with_grads(np.float32, scale=3.0)
    total = clip_grad_norm_(params, 1.0)
    assert total.dtype is gpujit.float32
    np.testing.assert_allclose(float(total), np_total_norm(grads, 2.0), rtol=1e-6)
    for p in params:
        assert p.grad.dtype is gpujit.float32
    np.testing.assert_allclose(np_total_norm(grads_of(params), 2.0), 1.0, rtol=1e-5)


def test_mixed_dtypes_give_the_wider_norm():
    a = Parameter(gpujit.zeros(2, dtype=gpujit.float32))
    b = Parameter(gpujit.zeros(2, dtype=gpujit.float64))
    a.grad = gpujit.tensor(np.array([3.0, 0.0], np.float32))
    b.grad = gpujit.tensor(np.array([0.0, 4.0]))
    total = clip_grad_norm_([a, b], 1.0)
    assert total.dtype is gpujit.float64 and float(total) == pytest.approx(5.0)
    assert a.grad.dtype is gpujit.float32
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 4.0 / (5.0 + 1e-6)])


def test_params_without_grad_are_skipped_and_a_tensor_is_accepted():
    p, q = Parameter(gpujit.zeros(2, dtype=gpujit.float64)), Parameter(gpujit.zeros(3))
    p.grad = gpujit.tensor(np.array([6.0, 8.0]))
    total = clip_grad_norm_(iter([p, q]), 5.0)
    assert float(total) == pytest.approx(10.0) and q.grad is None
    np.testing.assert_allclose(p.grad.numpy(), [6.0 * 5 / (10 + 1e-6), 8.0 * 5 / (10 + 1e-6)])
    total = clip_grad_norm_(p, 100.0)
    assert float(total) == pytest.approx(5.0, rel=1e-6)


def test_no_grads_gives_a_zero_norm():
    p = Parameter(gpujit.zeros(2))
    total = clip_grad_norm_([p], 1.0)
    assert total.dtype is gpujit.float32 and total.shape == () and float(total) == 0.0
    assert float(get_total_norm([])) == 0.0


def test_nonfinite_norm():
    p = Parameter(gpujit.zeros(2, dtype=gpujit.float64))
    p.grad = gpujit.tensor(np.array([1.0, np.nan]))
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite, so it cannot be "
                                           "clipped"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert np.isnan(float(clip_grad_norm_([p], 1.0)))
    assert np.isnan(p.grad.numpy()).all()
    p.grad = gpujit.tensor(np.array([1.0, np.inf]))
    with pytest.raises(RuntimeError, match="order inf .* non-finite"):
        clip_grad_norm_([p], 1.0, norm_type=math.inf, error_if_nonfinite=True)


def test_foreach_and_loop_agree():
    a, _ = params_with_grads(np.float32, scale=4.0, seed=3)
    b, _ = params_with_grads(np.float32, scale=4.0, seed=3)
    ta, tb = clip_grad_norm_(a, 2.0), clip_grad_norm_(b, 2.0, foreach=False)
    np.testing.assert_allclose(float(ta), float(tb), rtol=1e-6)
    for x, y in zip(grads_of(a), grads_of(b)):
        np.testing.assert_allclose(x, y, rtol=1e-6)


def test_clipping_bumps_grad_versions():
    params, _ = params_with_grads(scale=5.0)
    before = [p.grad._version for p in params]
    clip_grad_norm_(params, 1.0)
    assert [p.grad._version for p in params] == [v + 1 for v in before]
    clip_grad_value_(params, 0.1)
    assert [p.grad._version for p in params] == [v + 2 for v in before]


def test_clip_grad_value():
    params, grads = params_with_grads(scale=2.0)
    params.append(Parameter(gpujit.zeros(2)))
    assert clip_grad_value_(params, 0.5) is None
    for got, g in zip(grads_of(params[:-1]), grads):
        np.testing.assert_array_equal(got, np.clip(g, -0.5, 0.5))
    assert params[-1].grad is None
    p = Parameter(gpujit.zeros(3, dtype=gpujit.float64))
    p.grad = gpujit.tensor(np.array([-3.0, 0.2, 3.0]))
    clip_grad_value_(p, 1)
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, 0.2, 1.0])


@pytest.mark.cuda
def test_cuda_clip_matches_numpy():
    params, grads = params_with_grads(np.float32, scale=5.0, device="cuda")
    total = clip_grad_norm_(params, 1.0)
    assert total.device == params[0].device
    np.testing.assert_allclose(float(total), np_total_norm(grads, 2.0), rtol=1e-5)
    coef = 1.0 / (np_total_norm(grads, 2.0) + 1e-6)
    for got, g in zip(grads_of(params), grads):
        np.testing.assert_allclose(got, g * coef, rtol=1e-5, atol=1e-7)
    clip_grad_value_(params, 0.01)
    for got in grads_of(params):
        assert np.abs(got).max() <= 0.01 + 1e-7
