"""The CPU generator reproduces PyTorch's CPU streams (ATen's mt19937 and its kernels'
draw order). Hard-coded values were checked against torch 2.13; the torch comparisons
run only where torch is installed."""
import numpy as np
import pytest

import gpujit


def test_rand_randn_randint_randperm_values():
    gpujit.manual_seed(0)
    np.testing.assert_array_equal(gpujit.rand(4).numpy(), np.array(
        [0.49625658988952637, 0.7682217955589294, 0.08847743272781372,
         0.13203048706054688], np.float32))
    # randn of < 16: ATen's scalar Box-Muller (2 doubles each pair), bit for bit
    np.testing.assert_array_equal(gpujit.randn(3).numpy(), np.array(
        [-2.1787893772125244, 0.5684312582015991, -1.0845223665237427], np.float32))
    assert gpujit.randint(0, 100, (5,)).tolist() == [56, 99, 78, 76, 56]
    assert gpujit.randperm(8).tolist() == [4, 5, 1, 0, 7, 3, 6, 2]


def test_randn_fill_path_and_linear_init():
    gpujit.manual_seed(0)
    a, b = gpujit.randn(20), gpujit.randn(20)      # normal_fill, ragged tail recomputed
    np.testing.assert_allclose(a[:3].numpy(), [-1.1258398294448853, -1.152360200881958,
                                               -0.2505785822868347], rtol=1e-6)
    np.testing.assert_allclose(b[-2:].numpy(), [0.44551217555999756, 1.3252748250961304],
                               rtol=1e-6)
    gpujit.manual_seed(42)
    m = gpujit.nn.Linear(3, 2)
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.array(
        [[0.4414065182209015, 0.47920528054237366, -0.1352572739124298],
         [0.5303604602813721, -0.1264995038509369, 0.11650390923023224]], np.float32))
    np.testing.assert_array_equal(m.bias.detach().numpy(), np.array(
        [-0.28108587861061096, 0.3390677869319916], np.float32))


def test_bernoulli_scalar_p():
    gpujit.manual_seed(7)
    assert gpujit.empty(12).bernoulli_(0.5).tolist() == [1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1]


def test_state_roundtrip_and_cached_normal():
    gpujit.manual_seed(3)
    gpujit.randn(1)                      # leaves the cached second Box-Muller sample
    st = gpujit.get_rng_state()
    assert st.numel() == 5056
    a = gpujit.randn(3)
    gpujit.set_rng_state(st)
    np.testing.assert_array_equal(gpujit.randn(3).numpy(), a.numpy())
    g = gpujit.Generator().manual_seed(5)
    s = g.get_state()
    x = gpujit.rand(3, generator=g)
    g.set_state(s)
    np.testing.assert_array_equal(gpujit.rand(3, generator=g).numpy(), x.numpy())
    with pytest.raises(RuntimeError, match="size 5056"):
        gpujit.set_rng_state(gpujit.zeros(3, dtype=gpujit.uint8))
    with pytest.raises(TypeError, match="ByteTensor"):
        gpujit.set_rng_state(gpujit.zeros(5056))


def _both(torch, f, seed=1):
    torch.manual_seed(seed)
    a = f(torch)
    gpujit.manual_seed(seed)
    b = f(gpujit)
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    return [(x.detach().double().numpy(), y.detach().double().numpy()) for x, y in zip(a, b)]


CASES = {
    "rand": lambda t: (t.rand(5), t.rand(3, dtype=t.float64), t.rand(7, dtype=t.float16),
                       t.rand(100)),
    "randn": lambda t: (t.randn(5), t.randn(20), t.randn(3), t.randn(33, dtype=t.float64),
                        t.randn(40, dtype=t.float16), t.randn(1000)),
    "randint": lambda t: (t.randint(0, 10, (5,)), t.randint(-3, 2 ** 40, (4,)),
                          t.randint(5, (3, 3))),
    "randperm": lambda t: (t.randperm(10), t.randperm(1), t.randperm(1000)),
    "uniform_": lambda t: (t.empty(50).uniform_(-1 / 3, 1 / 3),
                           t.empty(20, dtype=t.float64).uniform_(-0.1, 0.7)),
    "normal_": lambda t: (t.empty(50).normal_(0.5, 2.0), t.empty(5).normal_(0.5, 2.0),
                          t.empty(5, 6).t().normal_()),
    "normal": lambda t: (t.normal(t.zeros(20), t.ones(20) * 2), t.normal(t.zeros(5), 3.0),
                         t.normal(2.0, 0.5, (7,))),
    "bernoulli": lambda t: (t.empty(30).bernoulli_(0.3), t.bernoulli(t.full((40,), 0.4)),
                            t.bernoulli(t.full((40,), 0.4, dtype=t.float64))),
    "exponential": lambda t: (t.empty(30).exponential_(2.0),),
    "multinomial": lambda t: (t.multinomial(t.tensor([0.1, 0.2, 0.3, 0.4]), 3),
                              t.multinomial(t.tensor([[0.1, 0.2, 0.3, 0.4], [1., 1, 1, 1]]),
                                            6, True),
                              t.multinomial(t.tensor([0.1, 0.2, 0.3, 0.4]), 1)),
    "log_normal_cauchy_geometric": lambda t: (t.empty(30).log_normal_(), t.empty(30).cauchy_(),
                                              t.empty(30).geometric_(0.3)),
    "like": lambda t: (t.rand_like(t.zeros(4, 5)), t.randn_like(t.zeros(20)),
                       t.randint_like(t.zeros(4), 10)),
    "dropout": lambda t: (t.nn.functional.dropout(t.ones(100), 0.3),),
    "modules": lambda t: tuple(t.nn.Conv2d(3, 8, 3).parameters()) + tuple(
        t.nn.LSTM(4, 6).parameters()) + (t.nn.Embedding(10, 4).weight,),
    "init": lambda t: (t.nn.init.xavier_uniform_(t.empty(10, 20)),
                       t.nn.init.xavier_normal_(t.empty(10, 20)),
                       t.nn.init.kaiming_normal_(t.empty(10, 20)),
                       t.nn.init.trunc_normal_(t.empty(10, 20)),
                       t.nn.init.trunc_normal_(t.empty(10, 20), 0, 1, -0.5, 0.5)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    for x, y in _both(torch, CASES[name]):
        # bit for bit where ATen is scalar code; a few ulp where it uses vector math
        np.testing.assert_allclose(y, x, rtol=2e-6, atol=1e-6)


def test_torch_state_loads_here():
    torch = pytest.importorskip("torch")
    torch.manual_seed(11)
    torch.randn(3)
    st = torch.get_rng_state()
    gpujit.set_rng_state(gpujit.tensor(st.numpy()))
    np.testing.assert_array_equal(gpujit.get_rng_state().numpy(), st.numpy())
    np.testing.assert_array_equal(gpujit.randn(5).numpy(), torch.randn(5).numpy())
    gpujit.manual_seed(11)
    torch.manual_seed(11)
    np.testing.assert_array_equal(gpujit.get_rng_state().numpy(),
                                  torch.get_rng_state().numpy())


@pytest.mark.parametrize("p", [0.0, 1e-17, 0.3, 0.5, 0.9999999999, 1.0])
def test_bernoulli_integer_threshold_equals_the_double_uniform_test(p):
    """bernoulli(p) / dropout compare the 53 random bits with ceil(p * 2^53) (no doubles
    made): the same mask as ATen's `uniform double < p`."""
    from gpujit.ops.random import generator_for
    from gpujit.device import cpu
    gpujit.manual_seed(5)
    a = generator_for(cpu).below((1000,), p)
    gpujit.manual_seed(5)
    b = generator_for(cpu).uniform((1000,), np.dtype(np.float64)) < p
    assert a.dtype == np.bool_ and (a == b).all()
