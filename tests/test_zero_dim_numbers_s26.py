"""0-dim (or one-element, where PyTorch takes them) Tensors given where a schema takes a
number (int / float / Scalar / int[] elements): read as their Python number, as PyTorch's
argument parser does; the Tensors it refuses get its TypeError."""
import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional


def _x():
    return torch.arange(4.)


def test_scalar_and_float_params():
    x = _x()
    np.testing.assert_array_equal(torch.full((2,), torch.tensor(2.)).numpy(), [2., 2.])
    assert torch.full((2,), torch.tensor(2)).dtype == torch.int64
    np.testing.assert_array_equal(F.threshold(x, torch.tensor(2.), 0.).numpy(), [0, 0, 0, 3])
    np.testing.assert_array_equal(F.leaky_relu(x - 2, torch.tensor(2.)).numpy(), [-4, -2, 0, 1])
    np.testing.assert_array_equal(F.elu(x, torch.tensor(2.)).numpy(), [0, 1, 2, 3])


def test_scalar_refuses_grad_and_1d():
    x = _x()
    with pytest.raises(TypeError, match="must be Number, not Tensor"):
        F.threshold(x, torch.tensor(2., requires_grad=True), 0.)
    with pytest.raises(TypeError, match="must be Number, not Tensor"):
        F.leaky_relu(x, torch.tensor([2.]))


def test_int_params():
    x = _x()
    np.testing.assert_array_equal(torch.ones(3, 3).tril(torch.tensor(0)).numpy(),
                                  np.tril(np.ones((3, 3))))
    assert [c.tolist() for c in x.chunk(torch.tensor(2))] == [[0., 1.], [2., 3.]]
    np.testing.assert_array_equal(x.cumsum(torch.tensor(0)).numpy(), [0, 1, 3, 6])
    np.testing.assert_allclose(torch.tensor([1.234]).round(decimals=torch.tensor(2)).numpy(),
                               [1.23], rtol=1e-6)
    np.testing.assert_array_equal(x.narrow(0, torch.tensor(1), 2).numpy(), [1, 2])
    np.testing.assert_array_equal(x.roll(torch.tensor(1)).numpy(), [3, 0, 1, 2])


def test_int_params_refuse_float_bool_and_1d():
    x = _x()
    with pytest.raises(TypeError, match="'diagonal'.*must be int, not Tensor"):
        torch.ones(3, 3).tril(torch.tensor(0.))
    with pytest.raises(TypeError, match="'chunks'.*must be int, not Tensor"):
        x.chunk(torch.tensor(True))
    with pytest.raises(TypeError, match="'chunks'.*must be int, not Tensor"):
        x.chunk(torch.tensor([2]))


def test_split_takes_a_one_element_tensor():
    x = _x()
    assert [c.tolist() for c in x.split(torch.tensor(2))] == [[0., 1.], [2., 3.]]
    assert [c.tolist() for c in x.split(torch.tensor([3]))] == [[0., 1., 2.], [3.]]
    assert [c.tolist() for c in torch.split(x, torch.tensor(2.))] == [[0., 1.], [2., 3.]]


def test_sizes():
    assert torch.zeros(torch.tensor(2)).shape == (2,)
    assert torch.zeros([torch.tensor(2), 2]).shape == (2, 2)
    assert torch.ones(torch.tensor(2), 3).shape == (2, 3)
    assert torch.zeros([torch.tensor([2]), 3]).shape == (2, 3)
    assert torch.empty(torch.tensor(2)).shape == (2,)
    assert torch.randn(torch.tensor(2), 2).shape == (2, 2)
    assert _x().new_zeros(torch.tensor(2)).shape == (2,)
    assert _x().view(torch.tensor(2), 2).shape == (2, 2)
    assert _x().reshape([torch.tensor([2]), 2]).shape == (2, 2)
    assert torch.ones(1).expand(torch.tensor(3)).shape == (3,)


def test_sizes_refuse_float_tensors():
    with pytest.raises(TypeError, match=r"must be tuple of ints, not Tensor"):
        torch.zeros(torch.tensor(2.))
    with pytest.raises(TypeError, match=r"must be tuple of ints, not Tensor"):
        torch.zeros(torch.tensor([2, 3]))
    with pytest.raises(TypeError, match=r"found element of type Tensor at pos 0"):
        torch.zeros([torch.tensor(2.), 2])


def test_dim_lists():
    x = _x().view(2, 2)
    np.testing.assert_array_equal(x.sum(torch.tensor(1)).numpy(), [1, 5])
    np.testing.assert_array_equal(x.sum(torch.tensor([1])).numpy(), [1, 5])
    assert x.sum([torch.tensor(1), 0]).item() == 6
    with pytest.raises(TypeError):
        x.sum(torch.tensor(1.))


def test_reflected_shifts():
    np.testing.assert_array_equal((1 << torch.tensor([1, 2])).numpy(), [2, 4])
    np.testing.assert_array_equal((8 >> torch.tensor([1, 2])).numpy(), [4, 2])
    assert (1 << torch.tensor([1, 2])).dtype == torch.int64


def test_against_torch():
    T = pytest.importorskip("torch")
    cases = [
        lambda m: m.full((2,), m.tensor(2.)),
        lambda m: m.zeros([m.tensor(2), 2]),
        lambda m: m.nn.functional.threshold(m.arange(4.), m.tensor(2.), 0.),
        lambda m: m.ones(3, 3).tril(m.tensor(1)),
        lambda m: m.arange(4.).view(2, 2).sum(m.tensor(1)),
        lambda m: 1 << m.tensor([1, 2]),
        lambda m: m.stack(m.arange(6.).chunk(m.tensor(3))),
    ]
    for c in cases:
        np.testing.assert_array_equal(c(torch).numpy(), c(T).numpy())
