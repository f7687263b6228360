"""The CPU generator's streams above the basic ops match PyTorch 2.13 after manual_seed:
randn's AVX2 fill (bit for bit), poisson / binomial / _standard_gamma (ATen's rejection
samplers), the distributions built on them, rrelu, nn.init.sparse_, Exponential.
Hard-coded values were checked against torch 2.13; torch comparisons only where it is
installed."""
import numpy as np
import pytest

import gpujit


def test_randn_fill_bit_exact():
    gpujit.manual_seed(0)
    v = gpujit.randn(16).numpy()[[1, 5, 9, 13]]
    np.testing.assert_array_equal(v, np.array(
        [-1.152360200881958, 0.6920091509819031, -1.2633347511291504, 1.237657904624939],
        np.float32))


def test_poisson_binomial_gamma_values():
    gpujit.manual_seed(1)
    assert gpujit.poisson(gpujit.tensor([0.5, 3., 12., 50.])).tolist() == [0., 2., 13., 49.]
    gpujit.manual_seed(1)
    assert gpujit.binomial(gpujit.tensor([5., 20., 100.]),
                           gpujit.tensor([0.3, 0.5, 0.9])).tolist() == [0., 8., 93.]
    gpujit.manual_seed(1)
    assert gpujit._standard_gamma(gpujit.tensor([0.5, 1., 3.], dtype=gpujit.float64)).tolist() \
        == [1.1433418566398499, 1.4460558732153423, 4.329763271071087]


def test_rrelu_exponential_sparse_values():
    gpujit.manual_seed(2)
    out = gpujit.nn.functional.rrelu(gpujit.tensor([-1., 2., -3., -0.5]), training=True)
    np.testing.assert_array_equal(out.numpy(), np.array(
        [-0.3161584734916687, 2.0, -0.4355720281600952, -0.13632825016975403], np.float32))
    gpujit.manual_seed(2)
    e = gpujit.distributions.Exponential(gpujit.tensor([2.0])).sample((3,))
    np.testing.assert_array_equal(e.flatten().numpy(), np.array(
        [1.247846245765686, 0.05096941813826561, 0.6167886853218079], np.float32))
    gpujit.manual_seed(2)
    w = gpujit.nn.init.sparse_(gpujit.empty(4, 3), 0.5)
    assert (w.numpy() == 0).tolist() == [[False, False, True], [True, True, False],
                                         [False, True, False], [True, False, True]]
    np.testing.assert_array_equal(w.numpy()[0, :2], np.array(
        [0.0039229681715369225, -0.0022356400731951], np.float32))


def test_sampler_state_follows_draws():
    # a rejection sampler leaves the stream just past the words it used
    gpujit.manual_seed(4)
    gpujit.poisson(gpujit.tensor([20., 0.3]))
    a = gpujit.rand(3)
    gpujit.manual_seed(4)
    gpujit.poisson(gpujit.tensor([20., 0.3]))
    assert gpujit.rand(3).tolist() == a.tolist()


_CASES = {
    "randn": lambda t: t.randn(1000),
    "normal_mean_std": lambda t: t.empty(300).normal_(0.3, 2.5),
    "normal_float_tensor": lambda t: t.normal(1.0, t.tensor(np.linspace(0.1, 3, 40, dtype=np.float32))),
    "poisson": lambda t: t.poisson(t.tensor([0.1, 0.5, 3., 9.9, 10., 20., 200., 1e5] * 10)),
    "binomial": lambda t: t.binomial(t.tensor([0., 1., 5., 20., 100., 1000.] * 10),
                                     t.tensor([0.0, 0.3, 0.5, 0.7, 0.95, 1.] * 10)),
    "binomial64": lambda t: t.binomial(t.tensor([5., 20., 100., 1000.] * 10, dtype=t.float64),
                                       t.tensor([0.01, 0.3, 0.7, 0.95] * 10, dtype=t.float64)),
    "gamma": lambda t: t._standard_gamma(t.tensor([0.1, 0.5, 1., 3., 20., 200.] * 10)),
    "dirichlet": lambda t: t._sample_dirichlet(t.tensor([[0.5, 2., 7.], [1., 1., 30.]] * 3)),
    "Gamma": lambda t: t.distributions.Gamma(t.tensor([2.0, 0.4]), t.tensor([1.0, 3.])).sample((4,)),
    "Beta": lambda t: t.distributions.Beta(t.tensor([0.3, 2.]), t.tensor([1., 0.7])).sample((5,)),
    "Dirichlet": lambda t: t.distributions.Dirichlet(t.tensor([1.0, 2., 3.])).sample((3,)),
    "Chi2": lambda t: t.distributions.Chi2(t.tensor([1., 2.])).sample((3,)),
    "StudentT": lambda t: t.distributions.StudentT(t.tensor([1., 2.])).sample((3,)),
    "Poisson": lambda t: t.distributions.Poisson(t.tensor([0.3, 6.])).sample((10,)),
    "Binomial": lambda t: t.distributions.Binomial(10, t.tensor([0.3, 0.6])).sample((10,)),
    "Exponential": lambda t: t.distributions.Exponential(t.tensor([1.0, 2.0])).sample((10,)),
    "Cauchy": lambda t: t.distributions.Cauchy(t.tensor([0., 1.]), t.tensor([1., 2.])).sample((10,)),
    "rrelu": lambda t: t.nn.functional.rrelu(t.tensor(np.linspace(-2, 2, 40, dtype=np.float32)),
                                             training=True),
    "sparse_": lambda t: t.nn.init.sparse_(t.empty(6, 5), 0.5),
}


@pytest.mark.parametrize("name", sorted(_CASES))
def test_against_torch(name):
    torch = pytest.importorskip("torch")
    fn = _CASES[name]
    torch.manual_seed(3)
    a = fn(torch).numpy()
    gpujit.manual_seed(3)
    b = fn(gpujit).numpy()
    np.testing.assert_array_equal(a, b)
    assert torch.rand(2).tolist() == gpujit.rand(2).tolist()   # streams still in step


def test_large_float32_randn_numba_fill_is_the_numpy_fill_bit_for_bit(monkeypatch):
    """randn of 64k floats or more (or any size once loaded) fills its blocks of 16 in one
    numba loop; smaller draws in NumPy, op by op: both give the same bits (PyTorch's AVX2
    fill). (R.NORMAL_FILL.force pins a path.)"""
    from gpujit.ops import random as R
    gpujit.manual_seed(11)
    a = gpujit.randn(70001).numpy()
    b = (gpujit.randn(300, 300) * 1.0).numpy()
    monkeypatch.setattr(R.NORMAL_FILL, "force", "numpy")
    gpujit.manual_seed(11)
    assert (gpujit.randn(70001).numpy().view(np.int32) == a.view(np.int32)).all()
    assert (gpujit.randn(300, 300).numpy().view(np.int32) == b.view(np.int32)).all()
    monkeypatch.setattr(R.NORMAL_FILL, "force", "numba")
    gpujit.manual_seed(4)
    c = gpujit.empty(5000).normal_(1.5, 0.25).numpy()
    monkeypatch.setattr(R.NORMAL_FILL, "force", "numpy")
    gpujit.manual_seed(4)
    assert (gpujit.empty(5000).normal_(1.5, 0.25).numpy().view(np.int32) == c.view(np.int32)).all()


def test_large_randn_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(7)
    gpujit.manual_seed(7)
    a = torch.randn(100003).numpy()
    b = gpujit.randn(100003).numpy()
    assert (a.view(np.int32) == b.view(np.int32)).mean() > 0.999999
