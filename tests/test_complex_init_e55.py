"""Complex modules and initializers: uniform_ / normal_ on complex tensors fill the real
pairs (ATen's view_as_real), normal_ with std / sqrt(2) per part, so
nn.Linear(..., dtype=torch.cfloat), Conv, LSTM and Embedding build and train (they raised
'"uniform_" not implemented for 'ComplexFloat''). Expected values from torch 2.13."""
import math

import numpy as np
import pytest

import gpujit


def test_uniform_complex_matches_torch():
    gpujit.manual_seed(0)
    a = gpujit.empty(3, dtype=gpujit.cfloat).uniform_(-1, 1)
    np.testing.assert_allclose(a.numpy(), [-0.00748682 + 0.5364436j, -0.82304513 - 0.735939j,
                                           -0.38515437 + 0.26815736j], rtol=1e-6)
    # a transposed (non-contiguous) complex128 tensor: ATen's order over its memory
    gpujit.manual_seed(0)
    b = gpujit.empty(2, 3, dtype=gpujit.cdouble).t().uniform_(2, 3)
    np.testing.assert_allclose(b.numpy(), [[2.970053 + 2.70781986j, 2.17860618 + 2.35110762j],
                                           [2.45938294 + 2.92074768j, 2.58134092 + 2.28823589j],
                                           [2.64502412 + 2.79114789j, 2.45286885 + 2.17679953j]],
                               rtol=1e-7)


def test_normal_complex_matches_torch():
    gpujit.manual_seed(0)
    a = gpujit.empty(3, dtype=gpujit.cfloat).normal_(1, 2)
    np.testing.assert_allclose(a.numpy(), [3.1792977 + 0.5850289j, -2.0812736 + 1.8038832j,
                                           -0.5337462 - 0.9779126j], rtol=1e-6)
    gpujit.manual_seed(0)            # 40 real numbers: the vectorized fill of 16 at a time
    b = gpujit.empty(20, dtype=gpujit.cfloat).normal_(1, 2)
    np.testing.assert_allclose(b.numpy()[[0, 7, 19]], [-0.5921779 - 0.6296834j,
                                                      2.5793614 + 0.6502959j,
                                                      -1.235863 + 3.413558j], rtol=1e-6)


@pytest.mark.parametrize("n", [3, 20])
def test_complex_fill_is_the_real_pairs_fill(n):
    gpujit.manual_seed(5)
    c = gpujit.empty(n, dtype=gpujit.cfloat).normal_(0.5, 3.0)
    gpujit.manual_seed(5)
    r = gpujit.empty(2 * n).normal_(0.5, 3.0 / math.sqrt(2))
    np.testing.assert_array_equal(c.numpy().view(np.float32), r.numpy())
    gpujit.manual_seed(5)
    c = gpujit.empty(n, dtype=gpujit.cfloat).uniform_(-2, 1)
    gpujit.manual_seed(5)
    r = gpujit.empty(2 * n).uniform_(-2, 1)
    np.testing.assert_array_equal(c.numpy().view(np.float32), r.numpy())


def test_complex_refusals_keep_torch_words():
    x = gpujit.empty(2, dtype=gpujit.cfloat)
    with pytest.raises(RuntimeError, match=r"uniform_ expects to return a \[from, to\) range"):
        x.uniform_(2, 1)
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        x.normal_(0, -1)
    with pytest.raises(RuntimeError, match="dtype must be a floating point but you specified "
                                           "ComplexFloat"):
        x.exponential_()


def test_complex_modules_build_and_train():
    gpujit.manual_seed(0)
    m = gpujit.nn.Linear(2, 2, dtype=gpujit.cfloat)
    np.testing.assert_allclose(m.weight.detach().numpy(),
                               [[-0.00529398 + 0.3793229j, -0.58198076 - 0.5203875j],
                                [-0.27234524 + 0.18961589j, -0.01401003 + 0.5606575j]], rtol=1e-6)
    np.testing.assert_allclose(m.bias.detach().numpy(),
                               [-0.06275152 + 0.18710934j, -0.21369691 - 0.13899271j], rtol=1e-6)
    for mod in (gpujit.nn.Conv1d(1, 2, 2, dtype=gpujit.cfloat),
                gpujit.nn.Embedding(4, 2, dtype=gpujit.cfloat),
                gpujit.nn.LSTMCell(2, 2, dtype=gpujit.cfloat)):
        for p in mod.parameters():
            assert p.dtype == gpujit.cfloat and bool((p.detach().imag != 0).any())
    # a scripted complex model trains as the eager one (the loss's gradient is conj-Wirtinger)
    x = gpujit.tensor(np.array([[1 + 2j, -0.5 + 1j], [0.3 - 1j, 2 + 0.1j]], np.complex64))
    sm = gpujit.jit.script(m)
    w0 = m.weight.detach().clone()
    for _ in range(3):
        m.zero_grad()
        (sm(x).abs() ** 2).mean().backward()
        xs, w = x.numpy(), m.weight.detach().numpy()
        o = xs @ w.T + m.bias.detach().numpy()
        # torch's gradient of mean |o|^2 is 2 o / n at o, and o's at W is g^T conj(x)
        expected = (2 * o / o.size).T @ xs.conj()
        np.testing.assert_allclose(m.weight.grad.numpy(), expected, rtol=1e-5, atol=1e-6)
        with gpujit.no_grad():
            m.weight.sub_(m.weight.grad * 0.1)
    assert not np.allclose(m.weight.detach().numpy(), w0.numpy())
