"""gpujit.nn.init: gains, fans, and the statistics of every initializer on large tensors."""
import math

import numpy as np
import pytest

import gpujit as torch
from gpujit import nn
from gpujit.nn import init


def npy(t):
    return t.detach().numpy().astype(np.float64)


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "x")


def test_fan_in_and_fan_out():
    assert init._calculate_fan_in_and_fan_out(torch.empty(3, 5)) == (5, 3)
    assert init._calculate_fan_in_and_fan_out(torch.empty(8, 4, 3, 2)) == (24, 48)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(torch.empty(4))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(torch.empty(3, 3), mode="fan_avg")


def test_uniform_and_normal_statistics():
    t = torch.empty(400, 500)
    assert init.uniform_(t, -2.0, 3.0) is t
    a = npy(t)
    assert a.min() >= -2.0 and a.max() < 3.0 and a.max() > 2.99 and a.min() < -1.99
    assert abs(a.mean() - 0.5) < 0.02
    assert abs(a.std() - 5 / math.sqrt(12)) < 0.02
    init.normal_(t, 1.5, 0.5)
    a = npy(t)
    assert abs(a.mean() - 1.5) < 0.005 and abs(a.std() - 0.5) < 0.005


@pytest.mark.parametrize("shape", [(256, 512), (64, 32, 3, 3)])
def test_kaiming_uniform_bounds(shape):
    t = torch.empty(*shape)
    fan_in = shape[1] * int(np.prod(shape[2:]))
    init.kaiming_uniform_(t, a=math.sqrt(5))
    bound = math.sqrt(6 / ((1 + 5) * fan_in))   # = 1/sqrt(fan_in)
    a = npy(t)
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound
    init.kaiming_uniform_(t, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan_in)
    a = npy(t)
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound
    assert abs(a.std() - bound / math.sqrt(3)) < 0.03 * bound


def test_kaiming_normal_std():
    t = torch.empty(300, 700)
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(npy(t).std() / math.sqrt(2 / 300) - 1) < 0.02
    assert abs(npy(t).mean()) < 0.01 * math.sqrt(2 / 300) * 10
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_normal_(torch.empty(0, 3))


def test_xavier_statistics():
    t = torch.empty(300, 500)
    init.xavier_uniform_(t, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 800)
    a = npy(t)
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound
    init.xavier_normal_(t)
    assert abs(npy(t).std() / math.sqrt(2 / 800) - 1) < 0.02


def test_trunc_normal():
    t = torch.empty(200000)
    init.trunc_normal_(t, mean=0.0, std=1.0, a=-2.0, b=2.0)
    a = npy(t)
    assert a.min() >= -2.0 and a.max() <= 2.0
    phi = math.exp(-2) / math.sqrt(2 * math.pi)
    z = math.erf(2 / math.sqrt(2))
    assert abs(a.std() - math.sqrt(1 - 4 * phi / z)) < 0.01
    init.trunc_normal_(t, mean=1.0, std=0.1, a=0.9, b=1.5)
    a = npy(t)
    assert a.min() >= 0.9 - 1e-6 and a.max() <= 1.5 + 1e-6 and a.mean() > 1.0


def test_constant_ones_zeros_eye_dirac():
    t = torch.empty(3, 4)
    assert (npy(init.constant_(t, 0.25)) == 0.25).all()
    assert (npy(init.ones_(t)) == 1).all()
    assert (npy(init.zeros_(t)) == 0).all()
    np.testing.assert_array_equal(npy(init.eye_(t)), np.eye(3, 4))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(torch.empty(2, 2, 2))
    w = torch.empty(4, 2, 3, 3)
    init.dirac_(w, groups=2)
    ref = np.zeros((4, 2, 3, 3))
    for g in range(2):
        for d in range(2):
            ref[g * 2 + d, d, 1, 1] = 1
    np.testing.assert_array_equal(npy(w), ref)


def test_orthogonal():
    if not hasattr(torch, "linalg") or not hasattr(torch.linalg, "qr"):
        pytest.skip("gpujit.linalg.qr is not available")
    t = torch.empty(3, 5)
    init.orthogonal_(t)
    a = npy(t)
    np.testing.assert_allclose(a @ a.T, np.eye(3), atol=1e-5)
    t = torch.empty(6, 2, 2)
    init.orthogonal_(t, gain=2.0)
    a = npy(t).reshape(6, 4)
    np.testing.assert_allclose(a.T @ a, 4 * np.eye(4), atol=1e-4)


def test_sparse():
    t = torch.empty(10, 200)
    init.sparse_(t, 0.3, std=0.5)
    a = npy(t)
    assert ((a == 0).sum(axis=0) == 3).all()
    assert abs(a[a != 0].std() - 0.5) < 0.05


def test_init_keeps_parameter_a_leaf():
    p = nn.Parameter(torch.empty(50, 40))
    assert init.kaiming_uniform_(p) is p
    assert p.requires_grad and p.is_leaf and p.grad_fn is None


def test_default_layer_initialization():
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = npy(m.weight), npy(m.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    c = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    assert np.abs(npy(c.weight)).max() <= bound and np.abs(npy(c.bias)).max() <= bound
    assert np.abs(npy(c.weight)).max() > 0.98 * bound
    e = nn.Embedding(1000, 64)
    assert abs(npy(e.weight).std() - 1) < 0.02
    bl = nn.Bilinear(50, 20, 30)
    bound = 1 / math.sqrt(50)
    assert np.abs(npy(bl.weight)).max() <= bound and np.abs(npy(bl.bias)).max() <= bound
    # two layers draw different values
    assert not np.array_equal(npy(nn.Linear(4, 4).weight), npy(nn.Linear(4, 4).weight))
