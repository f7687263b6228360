"""Seeding and generators (gpujit/ops/random.py): the same seed gives the same numbers on
the same device, generators are independent, states replay exactly."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit.ops import registry


def _draws(**kw):
    return [gpujit.rand(5, **kw), gpujit.randn(2, 3, **kw), gpujit.randint(0, 100, (4,), **kw),
            gpujit.randperm(6, **kw), gpujit.zeros(4, **kw).normal_(),
            gpujit.bernoulli(gpujit.full((8,), 0.5, **kw)),
            gpujit.multinomial(gpujit.ones(5, **kw), 3)]


def _same(a, b):
    return all(np.array_equal(x.cpu().numpy(), y.cpu().numpy()) for x, y in zip(a, b))


def test_manual_seed_reproduces_every_op():
    gpujit.manual_seed(123)
    a = _draws()
    gpujit.manual_seed(123)
    b = _draws()
    assert _same(a, b)
    gpujit.manual_seed(124)
    c = _draws()
    assert not np.array_equal(a[0].numpy(), c[0].numpy())


def test_manual_seed_returns_the_default_generator_and_sets_initial_seed():
    g = gpujit.manual_seed(7)
    assert g is gpujit.default_generator and isinstance(g, gpujit.Generator)
    assert gpujit.initial_seed() == 7
    gpujit.manual_seed(-1)            # negative seeds wrap to 64 bits, as in PyTorch
    assert gpujit.initial_seed() == 2 ** 64 - 1
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        gpujit.manual_seed(2 ** 64)


def test_seed_is_nondeterministic_and_returned():
    s = gpujit.seed()
    assert isinstance(s, int) and gpujit.initial_seed() == s
    x = gpujit.rand(3)
    gpujit.manual_seed(s)
    assert np.array_equal(gpujit.rand(3).numpy(), x.numpy())


def test_rng_state_replays():
    gpujit.manual_seed(0)
    gpujit.rand(10)
    st = gpujit.get_rng_state()
    assert st.dtype is gpujit.uint8 and st.dim() == 1
    a = gpujit.randn(4)
    gpujit.rand(100)
    gpujit.set_rng_state(st)
    assert np.array_equal(gpujit.randn(4).numpy(), a.numpy())
    with pytest.raises(RuntimeError, match="size 5056"):
        gpujit.set_rng_state(gpujit.zeros(3, dtype=gpujit.uint8))


def test_generator_objects_are_independent_of_the_default():
    g1 = gpujit.Generator().manual_seed(5)
    g2 = gpujit.Generator()
    assert g2.manual_seed(5) is g2 and g2.initial_seed() == 5 and g1.device == gpujit.device("cpu")
    gpujit.manual_seed(99)
    ref = gpujit.rand(3)
    gpujit.manual_seed(99)
    a = gpujit.rand(4, generator=g1)
    b = gpujit.rand(4, generator=g2)
    assert np.array_equal(a.numpy(), b.numpy())
    assert np.array_equal(gpujit.rand(3).numpy(), ref.numpy())   # default untouched
    st = g1.get_state()
    x = gpujit.randn(5, generator=g1)
    g1.set_state(st)
    assert np.array_equal(gpujit.randn(5, generator=g1).numpy(), x.numpy())
    assert isinstance(g1.seed(), int)


def test_generator_keyword_on_every_kind_of_op():
    def run(g):
        x = gpujit.zeros(6)
        return [gpujit.randn(3, generator=g), gpujit.randint(5, (3,), generator=g),
                gpujit.randperm(5, generator=g), x.uniform_(generator=g).clone(),
                x.bernoulli_(0.5, generator=g).clone(), gpujit.normal(0.0, 1.0, (3,), generator=g),
                gpujit.multinomial(gpujit.ones(4), 2, generator=g),
                gpujit.rand_like(x, generator=g)]
    assert _same(run(gpujit.Generator().manual_seed(1)), run(gpujit.Generator().manual_seed(1)))


def test_generator_type_is_checked():
    # (torch 2.13's parser error: no signature takes it)
    with pytest.raises(TypeError, match=r"rand\(\) received an invalid combination of "
                       r"arguments - got \(int, generator=numpy.random._generator.Generator\)"):
        gpujit.rand(2, generator=np.random.default_rng(0))


def test_varargs_sizes_and_keywords():
    for shape in [(2, 3), ((2, 3),), ([2, 3],), (gpujit.Size([2, 3]),)]:
        assert gpujit.rand(*shape).shape == (2, 3)
        assert gpujit.randn(*shape).shape == (2, 3)
    assert gpujit.rand(()).shape == () and gpujit.rand(0).shape == (0,)
    x = gpujit.randn(2, 2, dtype=gpujit.float64, device="cpu", requires_grad=True)
    assert x.dtype is gpujit.float64 and x.requires_grad
    with pytest.raises(RuntimeError, match="negative dimension"):
        gpujit.rand(2, -1)
    assert gpujit.randint(10, (3,)).dtype is gpujit.int64
    assert gpujit.randint(3, 10, size=(2, 2)).shape == (2, 2)
    assert gpujit.randint(low=3, high=4, size=(5,)).tolist() == [3] * 5
    assert gpujit.randint(2, (3,), dtype=gpujit.float32).dtype is gpujit.float32
    with pytest.raises(TypeError, match="size"):
        gpujit.randint(10)
    with pytest.raises(RuntimeError, match="floating point"):
        gpujit.randint(10, (2,), requires_grad=True)
    assert gpujit.randperm(4, dtype=gpujit.int32).dtype is gpujit.int32
    y = gpujit.randint_like(gpujit.zeros(3), 10)
    assert y.dtype is gpujit.float32 and ((y.numpy() >= 0) & (y.numpy() < 10)).all()
    assert gpujit.randint_like(gpujit.zeros(3, dtype=gpujit.int32), 2, 4).dtype is gpujit.int32
    assert gpujit.randn_like(gpujit.zeros(2), requires_grad=True).requires_grad


def test_default_dtype_is_respected():
    old = gpujit.get_default_dtype()
    try:
        gpujit.set_default_dtype(gpujit.float64)
        assert gpujit.rand(2).dtype is gpujit.float64
        assert gpujit.randn(2).dtype is gpujit.float64
        assert gpujit.normal(0.0, 1.0, (2,)).dtype is gpujit.float64
    finally:
        gpujit.set_default_dtype(old)
    assert gpujit.rand(2).dtype is gpujit.float32


def test_float32_is_drawn_directly_and_half_stays_below_one():
    gpujit.manual_seed(3)
    a = gpujit.rand(100000, dtype=gpujit.float16).numpy()
    assert a.dtype == np.float16 and a.max() < 1 and a.min() >= 0
    b = gpujit.rand(10, dtype=gpujit.float32).numpy()
    # a float64 detour would give values with more than 24 significant bits before rounding;
    # drawn in float32 they are multiples of 2**-24
    assert np.all(b * 2 ** 24 == np.floor(b * 2 ** 24))


def test_in_place_random_ops_return_self_and_bump_the_version():
    x = gpujit.zeros(3, 4)
    v = x[1]
    for call in (lambda t: t.normal_(), lambda t: t.uniform_(-1, 1), lambda t: t.random_(5),
                 lambda t: t.bernoulli_(0.5), lambda t: t.exponential_()):
        before = v._version
        assert call(v) is v
        assert v._version == before + 1
        assert x.numpy()[0].tolist() == [0.0] * 4          # other rows untouched
        assert np.array_equal(x.numpy()[1], v.numpy())     # written through the view


def test_random_ops_are_tagged():
    for name in ("aten::rand", "aten::randn", "aten::randint.low", "aten::randperm",
                 "aten::multinomial", "aten::bernoulli"):
        assert "random" in registry.OPS[name].tags
    assert {"random", "inplace"} <= registry.OPS["aten::normal_"].tags


def test_fake_device_generator_mismatch():
    g = gpujit.Generator()
    x = registry.wrap(np.zeros(3, np.float32), gpujit.float32, gpujit.device("cuda", 0))
    from gpujit.ops.random import generator_for
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but "
                                           "found 'cpu'"):
        generator_for(x.device, g)


@pytest.mark.cuda
def test_cuda_seed_reproduces_and_state_replays():
    if not gpujit.cuda.is_available():
        pytest.skip("no CUDA GPU")
    from gpujit.ops import random as R
    gpujit.manual_seed(11)
    a = _draws(device="cuda")
    gpujit.manual_seed(11)
    b = _draws(device="cuda")
    assert _same(a, b)
    R.cuda_manual_seed(5)
    st = R.cuda_get_rng_state()
    x = gpujit.randn(1000, device="cuda")
    gpujit.rand(77, device="cuda")
    R.cuda_set_rng_state(st)
    assert np.array_equal(gpujit.randn(1000, device="cuda").cpu().numpy(), x.cpu().numpy())
    g = gpujit.Generator("cuda").manual_seed(3)
    y = gpujit.rand(5, device="cuda", generator=g)
    g.manual_seed(3)
    assert np.array_equal(gpujit.rand(5, device="cuda", generator=g).cpu().numpy(),
                          y.cpu().numpy())
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type"):
        gpujit.rand(2, device="cuda", generator=gpujit.Generator())
    u = gpujit.rand(200000, device="cuda", dtype=gpujit.float16).cpu().numpy()
    assert u.max() < 1 and abs(float(u.astype(np.float64).mean()) - 0.5) < 0.01
