"""Session 30 (helper p30): result layouts on the CPU and on cuda, from a sweep of every
registry op's OpInfo samples made transposed / channels_last / sliced. PyTorch lays a
result out by TensorIterator's rules or a composite's own allocation, the same on both
devices; NumPy's order="K" follows the input's order where CuPy's ufuncs give C-contiguous
results, so an op without an explicit layout step differed between the devices (or from
torch). Expected strides: torch 2.13's (CPU torch; its TensorIterator strides are those of
CUDA torch). `@pytest.mark.cuda` tests run on a GPU and, through
test_fake_gpu.py's session, against tests/fakecupy; the rest run everywhere. Also:
the out= dtype rules (gpujit/ops/out_dtypes.py) on cuda as on the CPU."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F

cuda = pytest.mark.cuda


# (its cuda-marked tests run against the NumPy-backed CuPy in test_fake_gpu.py's session)


def _arr(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _T(a, dev):
    """A tensor of a's values with every dim's order reversed in memory (x.mT.contiguous()
    .mT for a matrix)."""
    t = gpujit.from_numpy(np.ascontiguousarray(a)).to(dev)
    r = list(reversed(range(t.ndim)))
    return t.permute(*r).contiguous().permute(*r)


def _sliced(a, dev):
    """a's values, every other element of a wider tensor along its last dim of size > 1."""
    ax = max(i for i, n in enumerate(a.shape) if n > 1)
    w = gpujit.from_numpy(np.repeat(a, 2, axis=ax)).to(dev)
    return w[(slice(None),) * ax + (slice(None, None, 2),)]


def _cl(a, dev):
    return gpujit.from_numpy(a).to(dev).contiguous(memory_format=gpujit.channels_last)


def _strides(r):
    return [tuple(x.stride()) for x in r] if isinstance(r, (tuple, list)) else tuple(r.stride())


def _targets(shape, n, seed=1):
    return np.random.default_rng(seed).integers(0, n, shape).astype(np.int64)


# (name, program on a device, torch 2.13's strides of its result(s))
CASES = [
    ("cross_entropy_none", lambda d: F.cross_entropy(
        _T(_arr(2, 3, 4), d), _T(_targets((2, 4), 3), d), reduction="none",
        label_smoothing=0.3), (4, 1)),
    ("nll_loss_none", lambda d: F.nll_loss(
        _T(_arr(2, 3, 6), d), _T(_targets((2, 6), 3), d),
        gpujit.from_numpy(_arr(3, seed=2)).to(d), reduction="none"), (6, 1)),
    ("cumulative_trapezoid", lambda d: gpujit.cumulative_trapezoid(_T(_arr(3, 5), d)),
     (4, 1)),
    ("cumulative_trapezoid_x", lambda d: gpujit.cumulative_trapezoid(
        _T(_arr(3, 5), d), _T(_arr(3, 5, seed=3), d)), (4, 1)),
    ("cumulative_trapezoid_sliced", lambda d: gpujit.cumulative_trapezoid(
        _sliced(_arr(4, 3), d), dx=3, dim=0), (3, 1)),
    ("diff", lambda d: gpujit.diff(_T(_arr(3, 5), d)), (1, 3)),
    ("diff_n2", lambda d: gpujit.diff(_T(_arr(3, 5), d), n=2), (1, 3)),
    ("diff_prepend", lambda d: gpujit.diff(_T(_arr(3, 5), d), prepend=_T(_arr(3, 2), d)),
     (6, 1)),
    ("diff_channels_last", lambda d: gpujit.diff(_cl(_arr(2, 3, 4, 5), d), dim=1),
     (40, 1, 10, 2)),
    ("frexp", lambda d: gpujit.frexp(_T(_arr(3, 4), d)), [(1, 3), (1, 3)]),
    ("frexp_channels_last", lambda d: gpujit.frexp(_cl(_arr(2, 3, 4, 5), d)),
     [(60, 1, 15, 3), (60, 1, 15, 3)]),
    ("polygamma", lambda d: gpujit.polygamma(1, _T(_arr(3, 4), d)), (1, 3)),
    ("polygamma_channels_last", lambda d: gpujit.polygamma(1, _cl(_arr(2, 3, 4, 5), d)),
     (60, 1, 15, 3)),
    ("kthvalue", lambda d: gpujit.kthvalue(_T(_arr(3, 4), d), 2), [(1,), (1,)]),
    ("kthvalue_sliced", lambda d: gpujit.kthvalue(_sliced(_arr(3, 4), d), 2),
     [(1,), (1,)]),
    ("kthvalue_keepdim", lambda d: gpujit.kthvalue(_T(_arr(3, 4), d), 2, keepdim=True),
     [(1, 1), (1, 1)]),
    ("mode", lambda d: gpujit.mode(_T(_arr(3, 4), d)), [(1,), (1,)]),
    ("mode_keepdim", lambda d: gpujit.mode(_T(_arr(3, 4), d), keepdim=True),
     [(1, 1), (1, 1)]),
    ("linalg_vecdot", lambda d: gpujit.linalg.vecdot(
        _T(_arr(2, 5, 3, dtype=np.float32), d), _T(_arr(5, 3, dtype=np.float32), d)),
     (5, 1)),
    ("matmul_batched", lambda d: gpujit.matmul(
        _T(_arr(2, 2, 3, 4, dtype=np.float32), d), _T(_arr(2, 1, 4, 2, dtype=np.float32), d)),
     (12, 6, 2, 1)),
    ("norm_except_dim", lambda d: gpujit.norm_except_dim(
        _T(_arr(2, 3, 4, dtype=np.float32), d), 1, 2), (4, 4, 1)),
    ("renorm", lambda d: gpujit.renorm(_T(_arr(3, 4, dtype=np.float32), d), 2, 0, 1.0),
     (4, 1)),
    ("renorm_3d", lambda d: gpujit.renorm(_T(_arr(2, 3, 4), d), 2, 0, 1.0), (12, 4, 1)),
    ("gradient", lambda d: gpujit.gradient(_T(_arr(3, 4, 5), d), dim=[0, 2]),
     [(20, 5, 1), (20, 5, 1)]),
    ("gradient_2d", lambda d: gpujit.gradient(_T(_arr(4, 5), d)), [(5, 1), (5, 1)]),
    ("linalg_lu", lambda d: gpujit.linalg.lu(_T(_arr(2, 4, 3), d)),
     [(16, 4, 1), (12, 3, 1), (9, 3, 1)]),
    ("lu_unpack", lambda d: gpujit.lu_unpack(*gpujit.linalg.lu_factor(_T(_arr(2, 4, 3), d))),
     [(16, 4, 1), (12, 3, 1), (9, 3, 1)]),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_result_layouts_on_the_cpu_are_torchs(case):
    _, f, want = case
    assert _strides(f("cpu")) == want


def test_lstsq_residuals_are_contiguous():
    # torch 2.13: linalg.lstsq(A.mT-laid, B.mT-laid, driver='gelsd').residuals (6, 2, 1)
    a = _T(_arr(2, 1, 5, 3, dtype=np.float32), "cpu")
    b = _T(_arr(2, 3, 5, 2, dtype=np.float32, seed=4), "cpu")
    assert gpujit.linalg.lstsq(a, b, driver="gelsd").residuals.stride() == (6, 2, 1)


def test_a_strided_1d_result_of_a_contiguous_op_is_contiguous():
    # memory_format.c_layout: a 1-D view with a step is not contiguous (it passed as one)
    from gpujit.ops.memory_format import c_layout
    a = np.arange(8.0)[::2]
    r = c_layout(np, a)
    assert r.flags.c_contiguous and np.array_equal(r, a)
    c = np.arange(4.0)
    assert c_layout(np, c) is c


@cuda
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_result_layouts_on_cuda_are_the_cpus(case):
    _, f, want = case
    r, c = f("cuda"), f("cpu")
    assert _strides(r) == want
    rs = r if isinstance(r, (tuple, list)) else [r]
    cs = c if isinstance(c, (tuple, list)) else [c]
    for x, y in zip(rs, cs):
        assert x.device == gpujit.device("cuda:0") and x.dtype == y.dtype
        np.testing.assert_allclose(x.cpu().numpy(), y.numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ out= dtype rules on cuda

_A = [1., float("nan"), 3., -2., 0., 5.]


def _out_cases(d):
    def t(v, **k):
        return gpujit.tensor(v, device=d, **k)

    def z(*s, **k):
        return gpujit.zeros(*s, device=d, **k)

    a, m, b = t(_A), gpujit.ones(2, 2, device=d), t([0., 1., 2.])
    p = t([0.1, 0.2, 0.3, 0.1, 0.2, 0.1])
    L = gpujit.long
    return [
        lambda: gpujit.signbit(a, out=z(6)),
        lambda: gpujit.isin(a, a, out=z(6)),
        lambda: gpujit.any(a.reshape(2, 3), 0, out=z(3)),
        lambda: gpujit.nonzero(a, out=z(6, dtype=gpujit.int32)),
        lambda: gpujit.nonzero(a, out=z(0, dtype=L)).tolist(),
        lambda: gpujit.multinomial(p, 6, out=z(6)),
        lambda: gpujit.argmax(a, out=z((), dtype=gpujit.int32)),
        lambda: gpujit.histc(a, 4, out=z(4, dtype=L)),
        lambda: gpujit.bucketize(a, b, out_int32=True, out=z(6, dtype=L)),
        lambda: gpujit.bucketize(a, b, out_int32=True, out=z(6, dtype=gpujit.int32)).tolist(),
        lambda: gpujit.mm(m, m, out=z(2, 2, dtype=gpujit.double)),
        lambda: gpujit.gather(a, 0, t([0, 1]), out=z(2, dtype=gpujit.double)),
        lambda: gpujit.index_select(a, 0, t([0]), out=z(1, dtype=gpujit.double)),
        lambda: gpujit.take(a, t([0]), out=z(1, dtype=gpujit.double)),
        lambda: gpujit.amax(a, 0, out=z((), dtype=gpujit.double)),
        lambda: gpujit.cat([a, a], out=z(12, dtype=L)),
        lambda: str(gpujit.cat([a, a], out=z(12, dtype=gpujit.double)).dtype),
        lambda: gpujit.where(a > 0, a, a, out=z(6, dtype=L)),
        lambda: gpujit.kthvalue(a, 2, out=(z(()), z(()))),
        lambda: gpujit.frexp(a, out=(z(6), z(6))),
        lambda: gpujit.eq(a, a, out=z(6)).tolist(),
        lambda: gpujit.quantile(t(_A, dtype=gpujit.double), 0.5, out=z(())),
        lambda: gpujit.mv(m, gpujit.ones(2, device=d), out=z(2, dtype=gpujit.double)),
        lambda: gpujit.matmul(m, m, out=z(2, 2, dtype=gpujit.double)),
        lambda: gpujit.masked_select(a, a > 0, out=z(0, dtype=gpujit.double)),
        lambda: gpujit.logcumsumexp(a, 0, out=z(6, dtype=gpujit.double)),
        lambda: gpujit.median(a.reshape(2, 3), 0, out=(z(3), z(3))),
        lambda: gpujit.cummax(a, 0, out=(z(6), z(6))),
        lambda: gpujit.mode(a, 0, out=(z(()), z(()))),
        lambda: gpujit.float_power(a, 2, out=z(6)),
        lambda: gpujit.add(b, 1, out=z(3, dtype=gpujit.double)).tolist(),
    ]


def _outcome(f):
    try:
        r = f()
    except Exception as e:      # noqa: BLE001 (the class and words are compared)
        return type(e), str(e).splitlines()[0]
    return "ok", r


@cuda
def test_out_dtype_rules_on_cuda_are_the_cpus():
    cpu, dev = _out_cases("cpu"), _out_cases("cuda")
    assert len(cpu) == len(dev)
    errors = 0
    for i, (c, g) in enumerate(zip(cpu, dev)):
        oc, og = _outcome(c), _outcome(g)
        assert oc == og, (i, oc, og)
        errors += oc[0] != "ok"
    assert errors == len(cpu) - 5       # (five calls the rules allow)
