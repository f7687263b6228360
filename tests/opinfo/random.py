"""OpInfos of the random ops (gpujit/ops/random_ops.py). Outputs are not functions of the
inputs, so each OpInfo has `check=`: shape, dtype, range, and rough statistics on samples
large enough that a correct sampler fails with negligible probability (the bounds are
several standard errors wide). Seeding and reproducibility are in tests/test_random.py."""
from __future__ import annotations

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand

F16, F32, F64, I64, I32, U8, B = (np.float16, np.float32, np.float64, np.int64, np.int32,
                                  np.uint8, np.bool_)
N = 20000


def _arr(t):
    return np.asarray(t.cpu().numpy(), dtype=np.float64)


def _expect(out, shape, dtype):
    assert tuple(out.shape) == tuple(shape), (tuple(out.shape), tuple(shape))
    assert out.dtype is dtype, (out.dtype, dtype)


def _stats(a, mean, std, tol=0.05):
    if a.size < 1000:
        return
    assert abs(a.mean() - mean) < tol * max(std, 1.0), (a.mean(), mean)
    assert abs(a.std() - std) < tol * max(std, 1.0), (a.std(), std)


def _size(sample):
    return tuple(sample.args[0])


def _dtype(sample, default=None):
    d = sample.kwargs.get("dtype")
    return d if d is not None else (default or G.get_default_dtype())


# ------------------------------------------------------------------ factories

def _check_rand(sample, out):
    _expect(out, _size(sample), _dtype(sample))
    a = _arr(out)
    assert ((a >= 0) & (a < 1)).all()
    _stats(a, 0.5, (1 / 12) ** 0.5)


def _check_randn(sample, out):
    _expect(out, _size(sample), _dtype(sample))
    a = _arr(out)
    assert np.isfinite(a).all()
    _stats(a, 0.0, 1.0)


def _factory_samples():
    return [Sample([N]), Sample([2, 3]), Sample([]), Sample([0, 5]),
            Sample([N], dtype=G.float64), Sample([N], dtype=G.float16)]


def _with_generator(name, samples):
    """The OpInfo of a factory's `.generator` overload: its samples given a generator
    (None too: PyTorch's `Generator? generator` has no default there)."""
    def gen_samples():
        out = []
        for i, x in enumerate(samples() if callable(samples) else samples):
            g = None if i % 2 else G.Generator().manual_seed(i)
            out.append(Sample(*x.args, **dict(x.kwargs, generator=g)))
        return out
    return gen_samples


RAND = OpInfo("aten::rand", check=_check_rand, samples=_factory_samples, gpu=False,
              errors=[ErrorSample([3], dtype=G.int64, match="not implemented for 'Long'")])
RANDN = OpInfo("aten::randn", check=_check_randn, samples=_factory_samples, gpu=False,
               errors=[ErrorSample([3], dtype=G.bool, match="not implemented for 'Bool'")])


def _check_randint(sample, out):
    low, high, size = sample.args
    _expect(out, size, _dtype(sample, G.int64))
    a = _arr(out)
    assert ((a >= low) & (a < high)).all()
    if a.size >= 1000 and high - low <= 50:
        assert set(np.unique(a).astype(int)) == set(range(low, high))   # every value drawn
        _stats(a, (low + high - 1) / 2, (((high - low) ** 2 - 1) / 12) ** 0.5)


RANDINT = OpInfo(
    "aten::randint.low", check=_check_randint, gpu=False,
    samples=[Sample(0, 10, [N]), Sample(-5, 5, [3, 4]), Sample(3, 4, [50]),
             Sample(0, 2, [N], dtype=G.bool), Sample(0, 2 ** 40, [100]),
             Sample(-3, 3, [N], dtype=G.float32), Sample(0, 7, [0]),
             Sample(0, 100, [4], dtype=G.uint8)],
    errors=[ErrorSample(5, 5, [3], match="expects 'from' to be less than 'to', but got "
                                         "from=5 >= to=5")])


RANDINT_HIGH = OpInfo(
    "aten::randint", check=lambda sample, out: _check_randint(
        Sample(0, *sample.args, **sample.kwargs), out), gpu=False,
    samples=[Sample(10, [N]), Sample(3, [2, 4], dtype=G.int32), Sample(1, [0])],
    errors=[ErrorSample(0, [3], match="expects 'from' to be less than 'to', but got "
                                      "from=0 >= to=0")])


def _check_randperm(sample, out):
    n = sample.args[0]
    _expect(out, (n,), _dtype(sample, G.int64))
    assert sorted(_arr(out).astype(int).tolist()) == list(range(n))


RANDPERM = OpInfo(
    "aten::randperm", check=_check_randperm, gpu=False,
    samples=[Sample(10), Sample(1), Sample(0), Sample(1000), Sample(20, dtype=G.int32),
             Sample(8, dtype=G.float32)],
    errors=[ErrorSample(-1, match=r"^Trying to create tensor with negative dimension -1: "
                                  r"\[-1\]$")])


def _like_check(kind):
    def check(sample, out):
        x = sample.args[0]
        want = sample.kwargs.get("dtype") or {np.dtype(F32): G.float32, np.dtype(F64): G.float64,
                                              np.dtype(F16): G.float16}[x.dtype]
        _expect(out, x.shape, want)
        (_check_rand if kind == "rand" else _check_randn)(Sample(list(x.shape), dtype=want), out)
    return check


def _like_samples():
    return [Sample(rand(N)), Sample(rand(3, 4, dtype=F64)), Sample(rand(2, 2, dtype=F16)),
            Sample(rand()), Sample(rand(4, 3).T), Sample(rand(N, dtype=I32), dtype=G.float32)]


RAND_LIKE = OpInfo("aten::rand_like", check=_like_check("rand"), samples=_like_samples,
                   gpu=False, errors=[ErrorSample(rand(3, dtype=I64), match="'Long'")])
RANDN_LIKE = OpInfo("aten::randn_like", check=_like_check("randn"), samples=_like_samples,
                    gpu=False, errors=[ErrorSample(rand(3, dtype=I32), match="'Int'")])


def _check_randint_like(sample, out):
    x = sample.args[0]
    low, high = (0, sample.args[1]) if len(sample.args) == 2 else sample.args[1:3]
    want = sample.kwargs.get("dtype") or {np.dtype(d): getattr(G, np.dtype(d).name)
                                          for d in (F32, F64, I32, I64, U8)}[x.dtype]
    _check_randint(Sample(low, high, list(x.shape), dtype=want), out)


RANDINT_LIKE = OpInfo(
    "aten::randint_like", check=_check_randint_like, gpu=False,
    samples=[Sample(rand(N), 5), Sample(rand(3, 4, dtype=I64), 100), Sample(rand(2, dtype=U8), 3),
             Sample(rand(5), 2, dtype=G.int32)],
    errors=[ErrorSample(rand(3), 0, match="expects 'from' to be less than 'to'")])
RANDINT_LIKE_LOW = OpInfo(
    "aten::randint_like.low_dtype", check=_check_randint_like, gpu=False,
    samples=[Sample(rand(N), -3, 3), Sample(rand(3, 4, dtype=I32), 10, 12),
             Sample(rand(4, 3).T, 0, 9, dtype=G.float64)],
    errors=[ErrorSample(rand(3), 4, 2, match="expects 'from' to be less than 'to'")])


# ------------------------------------------------------------------ normal(mean, std)

def _check_normal(sample, out):
    mean, std = sample.args[0], sample.args[1]
    shape = np.broadcast_shapes(np.shape(mean), np.shape(std)) if len(sample.args) == 2 \
        else tuple(sample.args[2])
    _expect(out, shape, out.dtype)
    assert out.dtype.is_floating_point
    a = _arr(out)
    z = (a - np.asarray(mean, dtype=np.float64)) / np.asarray(std, dtype=np.float64)
    _stats(z.reshape(-1), 0.0, 1.0)


NORMAL_TT = OpInfo(
    "aten::normal.Tensor_Tensor", check=_check_normal, gpu=False,
    samples=[Sample(rand(N), np.full(N, 2.0, F32)), Sample(rand(3, 1), rand(4, low=0.5)),
             Sample(np.zeros(N, F64), np.ones(1, F64)), Sample(rand(), rand(low=0.1))],
    errors=[ErrorSample(rand(3), np.array([-1.0, 1.0, 1.0], F32), match="std >= 0.0"),
            ErrorSample(np.zeros(3, I64), np.ones(3, I64), match="not implemented for 'Long'")])
NORMAL_TF = OpInfo(
    "aten::normal.Tensor_float", check=lambda s, o: _check_normal(
        Sample(s.args[0], s.args[1] if len(s.args) > 1 else s.kwargs.get("std", 1.0)), o),
    gpu=False,
    samples=[Sample(rand(N), 3.0), Sample(rand(N, dtype=F64)), Sample(rand(2, 3), std=0.5),
             Sample(rand(N, dtype=F16), 0.1)],
    errors=[ErrorSample(rand(3), -1.0, match="normal expects std >= 0.0, but found std -1")])
NORMAL_FT = OpInfo(
    "aten::normal.float_Tensor", check=_check_normal, gpu=False,
    samples=[Sample(2.0, np.full(N, 0.5, F32)), Sample(-1.0, rand(3, 2, low=0.1))],
    errors=[ErrorSample(0.0, np.array([-1.0], F32), match="std >= 0.0")])
NORMAL_FF = OpInfo(
    "aten::normal.float_float", check=lambda s, o: (
        _expect(o, s.args[2], _dtype(s)), _check_normal(s, o)), gpu=False,
    samples=[Sample(1.0, 2.0, [N]), Sample(0.0, 1.0, [2, 3], dtype=G.float64),
             Sample(-3, 0.5, [N], generator=G.Generator().manual_seed(9))],
    errors=[ErrorSample(0.0, -2.0, [2], match="std >= 0.0"),
            ErrorSample(0.0, 1.0, [2], dtype=G.int64, match="'Long'")])


# ------------------------------------------------------------------ in-place fills

def _check_inplace(dist):
    def check(sample, out):
        x = sample.args[0]
        _expect(out, x.shape, {np.dtype(d): getattr(G, np.dtype(d).name)
                               for d in (F16, F32, F64, I32, I64, U8, B)}[x.dtype])
        dist(sample, _arr(out))
    return check


def _normal_dist(sample, a):
    mean = sample.args[1] if len(sample.args) > 1 else sample.kwargs.get("mean", 0.0)
    std = sample.args[2] if len(sample.args) > 2 else sample.kwargs.get("std", 1.0)
    assert np.isfinite(a).all()
    _stats(a.reshape(-1), mean, std)


def _uniform_dist(sample, a):
    lo = sample.args[1] if len(sample.args) > 1 else sample.kwargs.get("from_", 0.0)
    hi = sample.args[2] if len(sample.args) > 2 else sample.kwargs.get("to", 1.0)
    assert ((a >= lo) & (a <= hi)).all()
    _stats(a.reshape(-1), (lo + hi) / 2, (hi - lo) / 12 ** 0.5)


def _fill_samples(*args, **kw):
    return [Sample(rand(N), *args, **kw), Sample(rand(100, 200, dtype=F64), *args, **kw),
            Sample(rand(N, dtype=F16), *args, **kw), Sample(rand(), *args, **kw),
            Sample(rand(0, 3), *args, **kw), Sample(rand(300, 40).T, *args, **kw)]


NORMAL_ = OpInfo(
    "aten::normal_", check=_check_inplace(_normal_dist), gpu=False,
    samples=lambda: _fill_samples() + _fill_samples(2.0, 3.0) + _fill_samples(mean=-1.0, std=0.5)
    + [Sample(rand(N), generator=G.Generator().manual_seed(4))],
    errors=[ErrorSample(rand(3), 0.0, -1.0, match="std >= 0.0"),
            ErrorSample(rand(3, dtype=I64), match="not implemented for 'Long'")])
UNIFORM_ = OpInfo(
    "aten::uniform_", check=_check_inplace(_uniform_dist), gpu=False,
    samples=lambda: _fill_samples() + _fill_samples(-2.0, 6.0) + _fill_samples(to=0.25)
    + [Sample(rand(5), 1.0, 1.0)],
    errors=[ErrorSample(rand(3), 1.0, 0.0, match=r"\[from, to\) range, but found from=1.0 > "
                                                 r"to=0.0"),
            ErrorSample(rand(3, dtype=I32), match="'Int'")])


def _exp_dist(sample, a):
    lam = sample.args[1] if len(sample.args) > 1 else 1.0
    assert (a >= 0).all() and np.isfinite(a).all()
    _stats(a.reshape(-1), 1 / lam, 1 / lam, tol=0.06)


EXPONENTIAL_ = OpInfo(
    "aten::exponential_", check=_check_inplace(_exp_dist), gpu=False,
    samples=lambda: _fill_samples() + _fill_samples(4.0),
    errors=[ErrorSample(rand(3), 0.0, match="lambda > 0.0"),
            ErrorSample(rand(3, dtype=I64), match="continuous probability distribution.* "
                                                  "you specified Long")])


def _bern_dist(p):
    def dist(sample, a):
        assert np.isin(a, (0, 1)).all()
        pp = p(sample)
        if a.size >= 1000:
            assert abs(a.mean() - np.mean(pp)) < 0.03
    return dist


def _p_arg(sample):
    if len(sample.args) > 1:
        return sample.args[1]
    return sample.kwargs.get("p", 0.5)


BERNOULLI_FLOAT_ = OpInfo(
    "aten::bernoulli_.float", check=_check_inplace(_bern_dist(_p_arg)), gpu=False,
    samples=lambda: _fill_samples() + _fill_samples(0.2) + [
        Sample(rand(N, dtype=I64), 0.9), Sample(rand(N, dtype=B), p=0.1),
        Sample(rand(N, dtype=U8), 0.0), Sample(rand(N), 1.0)],
    errors=[ErrorSample(rand(3), 1.5, match=r"p to be in \[0, 1\], but got p=1.5")])


def _p_tensor(sample):
    return np.broadcast_to(sample.args[1], sample.args[0].shape)


BERNOULLI_TENSOR_ = OpInfo(
    "aten::bernoulli_.Tensor", check=_check_inplace(_bern_dist(_p_tensor)), gpu=False,
    samples=[Sample(rand(N), np.full(N, 0.3, F32)),
             Sample(rand(100, 200), rand(200, low=0, high=1)),
             Sample(rand(N, dtype=I32), np.array(0.7, F64)), Sample(rand(3), np.ones(3, F32))],
    errors=[ErrorSample(rand(3), np.array([2.0], F32), match="p_in >= 0 && p_in <= 1"),
            ErrorSample(rand(3), rand(4, low=0, high=1), match="must match")])

BERNOULLI = OpInfo(
    "aten::bernoulli", check=_check_inplace(_bern_dist(lambda s: s.args[0])), gpu=False,
    samples=[Sample(np.full(N, 0.25, F32)), Sample(rand(100, 200, low=0, high=1, dtype=F64)),
             Sample(np.array([0.0, 1.0], F16)), Sample(np.array(0.5, F32))],
    errors=[ErrorSample(np.array([1.5], F32), match="p_in >= 0 && p_in <= 1"),
            ErrorSample(np.array([1], I64), match="'Long'")])
BERNOULLI_P = OpInfo(
    "aten::bernoulli.p", check=_check_inplace(_bern_dist(_p_arg)), gpu=False,
    samples=[Sample(rand(N), 0.6), Sample(rand(N, dtype=I64), 0.1), Sample(rand(3, 3), p=1.0)],
    errors=[ErrorSample(rand(3), -0.5, match=r"p to be in \[0, 1\]")])


def _int_range(lo, hi):
    def dist(sample, a):
        lo_, hi_ = lo(sample), hi(sample)
        assert ((a >= lo_) & (a < hi_)).all() and (a == np.floor(a)).all()
        if a.size >= 1000 and hi_ - lo_ <= 100:
            assert len(np.unique(a)) == hi_ - lo_
    return dist


def _dtype_hi(sample):
    dt = sample.args[0].dtype
    if dt.kind == "f":
        return 2 ** (np.finfo(dt).nmant + 1) + 1
    return 2 if dt.kind == "b" else int(np.iinfo(dt).max) + 1


RANDOM_ = OpInfo(
    "aten::random_", check=_check_inplace(_int_range(lambda s: 0, _dtype_hi)), gpu=False,
    samples=[Sample(rand(N, dtype=d)) for d in (F32, F64, F16, I32, I64, U8, B)])
RANDOM_FROM = OpInfo(
    "aten::random_.from", check=_check_inplace(_int_range(
        lambda s: s.args[1], lambda s: _dtype_hi(s) if s.args[2] is None else s.args[2])),
    gpu=False,
    samples=[Sample(rand(N), -5, 5), Sample(rand(N, dtype=I64), 10, 20),
             Sample(rand(N, dtype=U8), 3, None),
             Sample(rand(300, 40).T, 0, 2)],
    errors=[ErrorSample(rand(3), 3, 3, match="from=3 >= to=3")])
RANDOM_TO = OpInfo(
    "aten::random_.to", check=_check_inplace(_int_range(lambda s: 0, lambda s: s.args[1])),
    gpu=False, samples=[Sample(rand(N), 7), Sample(rand(N, dtype=I32), 100), Sample(rand(5), 1)],
    errors=[ErrorSample(rand(3), 0, match="from=0 >= to=0")])


# ------------------------------------------------------------------ multinomial

def _check_multinomial(sample, out):
    p = np.asarray(sample.args[0], dtype=np.float64)
    k = sample.args[1]
    replacement = sample.args[2] if len(sample.args) > 2 else sample.kwargs.get(
        "replacement", False)
    _expect(out, p.shape[:-1] + (k,), G.int64)
    a = out.cpu().numpy().reshape(-1, k)
    rows = p.reshape(-1, p.shape[-1])
    for r, pr in zip(a, rows):
        assert (pr[r] > 0).all(), "sampled a zero-probability category"
        if not replacement:
            assert len(set(r.tolist())) == k, "repeated category without replacement"
    if replacement and k >= 5000:
        freq = np.bincount(a[0], minlength=p.shape[-1]) / k
        assert np.abs(freq - rows[0] / rows[0].sum()).max() < 0.03


MULTINOMIAL = OpInfo(
    "aten::multinomial", check=_check_multinomial, gpu=False, noncontiguous=True,
    samples=[Sample(np.array([0.1, 0.0, 0.6, 0.3], F32), N, True),
             Sample(np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 5.0]], F64), 1),
             Sample(np.array([[1.0, 2.0, 0.5], [3.0, 0.1, 5.0]], F32), 3),
             Sample(np.array([0.2, 0.0, 0.8], F32), 2, replacement=False),
             Sample(rand(5, 10, low=0, high=1), 4, True),
             Sample(np.array([1.0, 1.0], F16), 2)],
    errors=[ErrorSample(np.array([0.5, 0.5], F32), 3, match="cannot sample n_sample > "
                                                           "prob_dist.size"),
            ErrorSample(np.array([-0.5, 1.5], F32), 1, match="or element < 0"),
            ErrorSample(np.array([np.nan, 1.5], F32), 2, match="or element < 0"),
            ErrorSample(np.array([-0.5, 1.5], F32), 2, True, match="probability entry < 0"),
            ErrorSample(np.array([np.inf, 1.5], F32), 2, True,
                        match="probability entry = infinity or NaN"),
            ErrorSample(np.zeros(3, F32), 1, True, match="sum of probabilities <= 0"),
            ErrorSample(np.ones((2, 2, 2), F32), 1, match="1 or 2 dim"),
            ErrorSample(np.ones(3, I64), 1, match="floating-point"),
            ErrorSample(np.ones(3, F32), 0, match="n_sample <= 0")])

# ------------------------------------------------------------------ gradients

def _zero_grad(info, inplace=False):
    """After the info's check: the gradient reaching the op's floating tensor arguments is
    zero (PyTorch's: a draw is not reparameterized; an in-place fill gives the tensor it
    overwrote none of the later gradient). gradcheck cannot test it: finite differences
    of two fresh draws are noise, and the fills would write into its leaf inputs."""
    op, check = G.ops.registry.OPS[info.name], info.check

    def run(sample, out):
        check(sample, out)
        if not out.dtype.is_floating_point or out.numel() == 0:
            return
        leaves = [G.from_numpy(a.astype(F64)).requires_grad_() if isinstance(a, np.ndarray)
                  and a.dtype.kind == "f" else None for a in sample.args]
        if not any(x is not None for x in leaves) or (inplace and leaves[0] is None):
            return
        args = [a if x is None else x for a, x in zip(sample.args, leaves)]
        args = [G.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
        if inplace:
            args[0] = args[0].clone()          # a non-leaf: the fill is recorded
        r = op.public(*args, **sample.kwargs)
        r.sum().backward()
        for x in leaves:
            if x is not None:
                assert x.grad is not None and not x.grad.numpy().any(), x.grad
    info.check, info.grad = run, False


for _info in (NORMAL_TT, NORMAL_TF, NORMAL_FT, BERNOULLI, BERNOULLI_P):
    _zero_grad(_info)
for _info in (NORMAL_, UNIFORM_, EXPONENTIAL_, BERNOULLI_FLOAT_, BERNOULLI_TENSOR_, RANDOM_,
              RANDOM_FROM, RANDOM_TO):
    _zero_grad(_info, inplace=True)

_GENERATOR_OVERLOADS = [
    OpInfo(name, check=base.check, gpu=False, samples=_with_generator(name, base.samples))
    for base, name in ((RAND, "aten::rand.generator"), (RANDN, "aten::randn.generator"),
                       (RANDINT, "aten::randint.low_generator"),
                       (RANDINT_HIGH, "aten::randint.generator"),
                       (RANDPERM, "aten::randperm.generator"),
                       (RAND_LIKE, "aten::rand_like.generator"),
                       (RANDN_LIKE, "aten::randn_like.generator"),
                       (RANDINT_LIKE, "aten::randint_like.generator"),
                       (RANDINT_LIKE_LOW, "aten::randint_like.low_generator_dtype"))]

OPINFOS = _GENERATOR_OVERLOADS + [
           RAND, RANDN, RANDINT, RANDINT_HIGH, RANDPERM, RAND_LIKE, RANDN_LIKE, RANDINT_LIKE, RANDINT_LIKE_LOW,
           NORMAL_TT, NORMAL_TF, NORMAL_FT, NORMAL_FF, NORMAL_, UNIFORM_, EXPONENTIAL_,
           BERNOULLI_FLOAT_, BERNOULLI_TENSOR_, BERNOULLI, BERNOULLI_P, RANDOM_, RANDOM_FROM,
           RANDOM_TO, MULTINOMIAL]
