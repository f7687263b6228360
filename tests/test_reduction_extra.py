"""The ops of gpujit/ops/reduction_extra.py as users call them (`import gpujit as torch`):
torch.unique's optional outputs, named-tuple returns, Tensor methods, scripted calls, and
the CUDA path. Values are checked against NumPy; per-op samples are in
tests/opinfo/reduction_extra.py."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit as torch
from gpujit.testing import assert_close


def T(a):
    return torch.from_numpy(np.asarray(a))


# ------------------------------------------------------------------ unique

def test_unique_outputs_follow_the_flags():
    x = T(np.array([3, 1, 3, 2]))
    assert torch.unique(x).tolist() == [1, 2, 3]
    v, inv = torch.unique(x, return_inverse=True)
    assert inv.tolist() == [2, 0, 2, 1]
    v, c = torch.unique(x, return_counts=True)
    assert c.tolist() == [1, 1, 2]
    v, inv, c = x.unique(sorted=False, return_inverse=True, return_counts=True)
    assert (v.tolist(), inv.tolist(), c.tolist()) == ([1, 2, 3], [2, 0, 2, 1], [1, 1, 2])


def test_unique_dim_and_consecutive():
    x = T(np.array([[3, 1], [3, 1], [0, 2]]))
    v, inv, c = torch.unique(x, dim=0, return_inverse=True, return_counts=True)
    ev, einv, ec = np.unique(x.numpy(), axis=0, return_inverse=True, return_counts=True)
    assert_close(v, ev)
    assert inv.tolist() == einv.reshape(-1).tolist() and c.tolist() == ec.tolist()
    v, c = torch.unique_consecutive(T(np.array([3, 3, 1, 3, 2])), return_counts=True)
    assert (v.tolist(), c.tolist()) == ([3, 1, 3, 2], [2, 1, 1, 1])


def test_unique_keeps_nans_apart():
    v = torch.unique(T(np.array([1.0, np.nan, np.nan])))
    assert v.shape == (3,) and np.isnan(v.numpy()[1:]).all()


# ------------------------------------------------------------------ named tuples

def test_named_tuples():
    x = T(np.array([[3.0, 1.0, 2.0, 4.0], [1.0, 5.0, 6.0, 0.0]]))
    r = torch.median(x, 1)
    assert type(r).__name__ == "median" and r._fields == ("values", "indices")
    assert r.values.tolist() == [2.0, 1.0] and r.indices.tolist() == [2, 0]
    r = x.kthvalue(2, dim=1, keepdim=True)
    assert r._fields == ("values", "indices") and r.values.shape == (2, 1)
    assert r.values.tolist() == [[2.0], [1.0]]
    r = torch.mode(T(np.array([1, 2, 2, 3, 3, 1])))
    assert (r.values.item(), r.indices.item()) == (1, 5)     # smallest value, last index
    r = torch.cummax(T(np.array([1.0, 3.0, 3.0, 2.0])), 0)
    assert r.values.tolist() == [1, 3, 3, 3] and r.indices.tolist() == [0, 1, 2, 2]
    r = torch.cummin(T(np.array([2, 3, 1, 1])), dim=0)
    assert r.indices.tolist() == [0, 0, 2, 3]
    r = torch.frexp(T(np.array([4.0, 0.5])))
    assert r._fields == ("mantissa", "exponent") and r.exponent.dtype is torch.int32
    assert r.mantissa.tolist() == [0.5, 0.5] and r.exponent.tolist() == [3, 0]


def test_median_is_the_lower_median_and_propagates_nan():
    assert torch.median(T(np.array([1.0, 2.0, 3.0, 4.0]))).item() == 2.0
    assert np.isnan(torch.median(T(np.array([1.0, np.nan, 3.0]))).item())
    assert torch.nanmedian(T(np.array([1.0, np.nan, 3.0]))).item() == 1.0


# ------------------------------------------------------------------ values vs NumPy

def test_quantile_against_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 7))
    q = np.array([0.1, 0.5, 0.95])
    for m in ("linear", "lower", "higher", "midpoint", "nearest"):
        assert_close(torch.quantile(T(a), T(q), dim=1, keepdim=True, interpolation=m),
                     np.quantile(a, q, axis=1, keepdims=True, method=m))
    a[0, 2] = np.nan
    assert_close(torch.nanquantile(T(a), 0.3, dim=1), np.nanquantile(a, 0.3, axis=1))
    with pytest.raises(RuntimeError, match="float or double"):
        torch.quantile(T(np.array([1, 2])), 0.5)


def test_nan_reductions_and_counts():
    a = np.array([[1.0, np.nan], [2.0, 3.0]])
    assert_close(torch.nansum(T(a), 1), np.nansum(a, 1))
    assert_close(T(a).nanmean(0), np.nanmean(a, 0))
    assert torch.count_nonzero(T(np.array([[1, 0], [2, 3]])), dim=0).tolist() == [2, 1]
    assert torch.count_nonzero(T(np.array([[1, 0], [2, 3]]))).item() == 3


def test_scans_diff_and_logcumsumexp():
    a = np.array([[1.0, 2.0, -3.0, 100.0], [0.5, -1.0, 2.0, 3.0]])
    assert_close(torch.logcumsumexp(T(a), 1), np.logaddexp.accumulate(a, 1))
    assert_close(torch.diff(T(a), n=2, dim=1), np.diff(a, 2, 1))
    assert_close(torch.diff(T(a), dim=0, prepend=T(a[:1]), append=T(a[1:])),
                 np.diff(a, axis=0, prepend=a[:1], append=a[1:]))


def test_search_and_histograms():
    seq = T(np.array([1, 3, 5, 7]))
    v = T(np.array([3, 6, 9]))
    assert torch.searchsorted(seq, v).tolist() == [1, 3, 4]
    assert torch.searchsorted(seq, v, side="right").tolist() == [2, 3, 4]
    assert torch.searchsorted(seq, v, out_int32=True).dtype is torch.int32
    assert torch.bucketize(v, seq, right=True).tolist() == [2, 3, 4]
    with pytest.raises(RuntimeError, match="opposites"):
        torch.searchsorted(seq, v, side="left", right=True)
    x = T(np.array([1, 2, 2, 5]))
    assert torch.bincount(x).tolist() == [0, 1, 2, 0, 0, 1]
    assert x.bincount(minlength=8).shape == (8,)
    assert torch.histc(T(np.array([1.0, 2.0, 1.0, 4.0])), bins=4, min=0, max=3).tolist() == \
        [0.0, 2.0, 1.0, 0.0]
    assert torch.isin(x, T(np.array([2, 9]))).tolist() == [False, True, True, False]


def test_splits_and_unflatten():
    x = torch.arange(7)
    assert [p.tolist() for p in torch.tensor_split(x, 3)] == [[0, 1, 2], [3, 4], [5, 6]]
    assert [p.tolist() for p in x.tensor_split([1, 5])] == [[0], [1, 2, 3, 4], [5, 6]]
    assert [p.tolist() for p in torch.tensor_split(x, T(np.array(2)))] == \
        [[0, 1, 2, 3], [4, 5, 6]]
    y = torch.arange(8).view(2, 4)
    assert isinstance(torch.hsplit(y, 2), tuple)
    assert [p.shape for p in torch.hsplit(y, 2)] == [(2, 2), (2, 2)]
    with pytest.raises(RuntimeError, match="not divisible"):
        torch.hsplit(y, 3)
    assert torch.vsplit(y, [1])[1].tolist() == [[4, 5, 6, 7]]
    assert torch.arange(6).unflatten(0, (2, -1)).shape == (2, 3)
    assert torch.nn.Unflatten(1, (2, 3))(torch.zeros(4, 6)).shape == (4, 2, 3)


def test_index_ops():
    out = torch.zeros(3).index_copy(0, T(np.array([0, 2])),
                                    T(np.array([1.0, 2.0], dtype=np.float32)))
    assert out.tolist() == [1.0, 0.0, 2.0]
    out = torch.zeros(3).put_(T(np.array([0, 0])), T(np.array([1.0, 2.0], dtype=np.float32)),
                              accumulate=True)
    assert out.tolist() == [3.0, 0.0, 0.0]
    src = T(np.array([1.0, 2.0, 4.0], dtype=np.float32))
    idx = T(np.array([0, 0, 1]))
    for reduce, include, expected in (("sum", True, [4.0, 5.0, 1.0]),
                                      ("mean", False, [1.5, 4.0, 1.0]),
                                      ("amax", False, [2.0, 4.0, 1.0]),
                                      ("prod", True, [2.0, 4.0, 1.0])):
        assert torch.ones(3).scatter_reduce(0, idx, src, reduce,
                                            include_self=include).tolist() == expected
    with pytest.raises(RuntimeError, match="sum, prod, mean, amax or amin"):
        torch.ones(3).scatter_reduce(0, idx, src, "max")


def test_pointwise_integer_and_bessel():
    a, b = T(np.array([4, 6, -9])), T(np.array([6, 4, 3]))
    assert torch.gcd(a, b).tolist() == [2, 2, 3] and torch.lcm(a, b).tolist() == [12, 12, 9]
    x = np.array([0.0, 1.0, -3.0, 10.0])
    assert_close(torch.i0(T(x)), np.i0(x))
    assert torch.isreal(T(x)).tolist() == [True] * 4
    assert_close(torch.logspace(0, 2, 3), np.array([1.0, 10.0, 100.0], dtype=np.float32))
    assert torch.empty_strided((2, 3), (1, 2)).stride() == (1, 2)


def test_gradients_flow():
    x = T(np.array([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]])).requires_grad_()
    torch.median(x, 1).values.sum().backward()
    assert x.grad.tolist() == [[0, 0, 1], [1, 0, 0]]
    x.grad = None
    torch.quantile(x, 0.5, dim=1).sum().backward()
    assert x.grad.tolist() == [[0, 0, 1], [1, 0, 0]]


# ------------------------------------------------------------------ scripted

def test_scripted_unique_median_searchsorted():
    @torch.jit.script
    def f(x, s):
        u = torch.unique(x)
        v, inv, cnt = torch.unique(x, return_inverse=True, return_counts=True)
        m = torch.median(x.float())
        md = torch.median(x.float(), 0)
        i = torch.searchsorted(s, x, right=True)
        return u, inv, cnt, m, md.indices, i

    x = T(np.array([3, 1, 3, 2]))
    u, inv, cnt, m, mi, i = f(x, T(np.array([1, 2, 3])))
    assert u.tolist() == [1, 2, 3] and inv.tolist() == [2, 0, 2, 1]
    assert cnt.tolist() == [1, 1, 2] and m.item() == 2.0 and mi.item() == 3
    assert i.tolist() == [3, 1, 3, 2]


def test_scripted_unique_needs_literal_flags():
    def f(x, flag: bool):
        return torch.unique(x, return_counts=flag)
    with pytest.raises(Exception, match="literals"):
        torch.jit.script(f)


# ------------------------------------------------------------------ CUDA

@pytest.mark.cuda
def test_cuda_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    rng = np.random.default_rng(3)
    a = T(rng.standard_normal((4, 6)).astype(np.float32))
    i = T(rng.integers(0, 5, 12))
    c, ic = a.to("cuda"), i.to("cuda")
    pairs = [
        (torch.unique(i, return_inverse=True, return_counts=True),
         torch.unique(ic, return_inverse=True, return_counts=True)),
        (torch.median(a, 1), torch.median(c, 1)),
        (torch.mode(i), torch.mode(ic)),
        (torch.quantile(a, 0.3, dim=0), torch.quantile(c, 0.3, dim=0)),
        (torch.cummax(a, 1), torch.cummax(c, 1)),
        (torch.logcumsumexp(a, 0), torch.logcumsumexp(c, 0)),
        (torch.searchsorted(torch.sort(a, 1)[0], a), torch.searchsorted(torch.sort(c, 1)[0], c)),
        (torch.bincount(i), torch.bincount(ic)),
        (torch.histc(a, 5), torch.histc(c, 5)),
        (torch.ones(5).scatter_reduce(0, i, a.reshape(-1)[:12], "prod"),
         torch.ones(5, device="cuda").scatter_reduce(0, ic, c.reshape(-1)[:12], "prod")),
        (torch.ones(5).scatter_reduce(0, i, a.reshape(-1)[:12], "amax", include_self=False),
         torch.ones(5, device="cuda").scatter_reduce(0, ic, c.reshape(-1)[:12], "amax",
                                                     include_self=False)),
    ]
    for cpu, gpu in pairs:
        cpu = cpu if isinstance(cpu, tuple) else (cpu,)
        gpu = gpu if isinstance(gpu, tuple) else (gpu,)
        for x, y in zip(cpu, gpu):
            assert y.device.type == "cuda"
            assert_close(y.cpu(), x, rtol=1e-5, atol=1e-6)


def _unique_methods(x):
    a = x.unique()
    b, c = (x * 2).unique(return_counts=True)
    d, e = x.unique(sorted=True, return_inverse=True)
    return a, b, c, d, e, x.unique_consecutive()


def test_scripted_unique_method_form():
    """x.unique(...) in scripted code is torch.unique(x, ...) (its literal flags choose the
    return type); it raised 'gpujit has no Tensor method unique'."""
    s = torch.jit.script(_unique_methods)
    x = torch.tensor([3, 1, 3, 2, 2])
    want = _unique_methods(x)
    for _ in range(3):
        got = s(x)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.tolist() == w.tolist()


def _consecutive(x):
    return x.unique_consecutive(), torch.unique_consecutive(x, return_counts=True)


def test_scripted_unique_consecutive_saves_and_loads(tmp_path):
    """Archive code calls torch.unique_consecutive, the op (three results); read back, it
    went through the Python function's flag dispatch ('cannot unpack a Tensor')."""
    s = torch.jit.script(_consecutive)
    s.save(str(tmp_path / "m.pt"))
    loaded = torch.jit.load(str(tmp_path / "m.pt"))
    x = torch.tensor([1, 1, 2, 2, 2, 1])
    a, (b, c) = loaded(x)
    assert a.tolist() == [1, 2, 1] and b.tolist() == [1, 2, 1] and c.tolist() == [2, 3, 1]
