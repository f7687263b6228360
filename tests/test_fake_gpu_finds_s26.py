"""Session 26's finds of the GPU tier run against the NumPy-backed CuPy (tests/fakecupy):
`@pytest.mark.cuda` tests, compared with the CPU (and NumPy), that run on a GPU and, through
tests/test_fake_gpu_s26.py, against the fake CuPy on machines without one."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def test_multinomial_without_replacement_checks_the_probabilities_on_every_device(device):
    # PyTorch checks the distribution before sampling without replacement (or one sample)
    # on every device (.item(): a host sync), and samples zero-probability categories
    # once the others run out instead of refusing
    t = lambda v: gpujit.tensor(v, device=device)    # noqa: E731
    for bad in ([-0.5, 1.5], [np.nan, 1.0], [np.inf, 1.0]):
        with pytest.raises(RuntimeError, match="contains either `inf`, `nan` or element < 0"):
            gpujit.multinomial(t(bad), 1)
        with pytest.raises(RuntimeError, match="contains either `inf`, `nan` or element < 0"):
            gpujit.multinomial(t([bad, [1.0, 1.0]]), 2)
    with pytest.raises(RuntimeError, match=r"sum of probabilities <= 0"):
        gpujit.multinomial(t([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), 1)
    r = gpujit.multinomial(t([0.0, 0.0, 1.0]), 3)
    assert r.device.type == device and r[0].item() == 2
    assert sorted(r.tolist()) == [0, 1, 2]
    assert gpujit.multinomial(t(np.zeros((0, 3))), 1).shape == (0, 1)


def test_multinomial_with_replacement_checks_each_entry_on_the_cpu():
    for bad, msg in (([-0.5, 1.5], "entry < 0"), ([np.nan, 1.0], "entry < 0"),
                     ([np.inf, 1.0], "entry = infinity or NaN"), ([0.0, 0.0], "<= 0")):
        with pytest.raises(RuntimeError, match=msg):
            gpujit.multinomial(gpujit.tensor(bad), 2, replacement=True)


def _gru_and_input():
    gpujit.manual_seed(0)
    return gpujit.jit.script(gpujit.nn.GRU(4, 5, batch_first=True)), gpujit.randn(2, 3, 4)


def test_a_deep_copied_script_module_keeps_its_methods_defaults():
    import copy
    m, x = _gru_and_input()
    c = copy.deepcopy(m)
    assert str(c.forward.schema) == str(m.forward.schema)
    assert "hx=None" in str(c.forward.schema)
    out, h = c(x)                  # hx defaults to None, as on the original
    np.testing.assert_allclose(out.detach().numpy(), m(x)[0].detach().numpy())
    s = copy.copy(m)               # (a shallow copy too)
    np.testing.assert_allclose(s(x)[0].detach().numpy(), out.detach().numpy())


@pytest.mark.cuda
def test_assert_consistent_on_scripted_modules_with_defaulted_arguments():
    # assert_consistent deep-copies a module before moving it: the copy's forward kept no
    # defaults, so `hx` / `src_mask` / `output_size` were "missing"
    from gpujit.testing import assert_consistent
    m, x = _gru_and_input()
    assert_consistent(m, x, rtol=1e-5, atol=1e-6)
    gpujit.manual_seed(0)
    enc = gpujit.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    assert_consistent(gpujit.jit.script(enc), gpujit.randn(3, 2, 8), rtol=1e-4, atol=1e-5)
    up = gpujit.nn.ConvTranspose2d(3, 2, 3, stride=2)
    assert_consistent(gpujit.jit.script(up), gpujit.randn(1, 3, 4, 4), rtol=1e-5, atol=1e-6)


@pytest.mark.cuda
def test_householder_product_orgqr_and_ormqr_on_cuda_match_the_cpu_with_gradients():
    # the derivative (and ormqr's padding of fewer reflectors than rows) made its
    # helper tensors on the CPU: `where: expected all tensors to be on the same device`
    rng = np.random.default_rng(0)
    a, tau = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 2))
    other = rng.standard_normal((2, 5, 4))
    results = {}
    for dev in ("cpu", "cuda"):
        A = gpujit.tensor(a, device=dev, requires_grad=True)
        T = gpujit.tensor(tau, device=dev, requires_grad=True)
        B = gpujit.tensor(other, device=dev)
        q = gpujit.linalg.householder_product(A, T)
        q2 = gpujit.orgqr(A, T)
        r = gpujit.ormqr(A, T, B)                      # 2 reflectors for 5 rows: padded
        for t in (q, q2, r):
            assert t.device.type == dev
        (q.sum() + (q2 * q2).sum() + r.sum()).backward()
        assert A.grad.device.type == dev and T.grad.device.type == dev
        results[dev] = [t.detach().cpu().numpy() for t in (q, q2, r, A.grad, T.grad)]
    for g, c in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(g, c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def test_to_the_same_device_with_copy_keeps_the_layout(device):
    # x.to(x.device, copy=True) (and x.to(other, copy=True)) is a preserve_format copy, as
    # every other .to: it came back C-contiguous on the tensor's own device
    x = gpujit.tensor(np.arange(12.0).reshape(3, 4), device=device).t()
    for y in (x.to(device, copy=True), x.to(x, copy=True), x.to(device, gpujit.float32),
              x.to(device, gpujit.float32, copy=True)):
        assert y.stride() == (1, 4) and y.device == x.device
        np.testing.assert_array_equal(y.cpu().numpy(), np.arange(12.0).reshape(3, 4).T)
    assert x.to(device, copy=True).data_ptr() != x.data_ptr()
    b = gpujit.tensor([[1.0], [2.0]], device=device).expand(2, 3)     # (a broadcast: dense)
    assert b.to(device, copy=True).stride() == (3, 1)
