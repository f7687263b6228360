"""Compile time of gpujit's numba-compiled eager helpers (session 52): a vectorize
ufunc's loops are cached on disk as object code beside numba's entries (numba rebuilt
them in every process), the helpers' cache files carry a digest (a damaged one is a miss,
compiled again), and softmax / log_softmax forward and backward are separate kernels,
each compiled at its first use."""
from __future__ import annotations

import os

import numpy as np
import pytest

from gpujit.ops import numba_helpers

_SRC = '''
import numpy as np
from gpujit.ops.numba_helpers import njit


def _poly_py(x):
    return (x * 0.75 - 1.25) * x + 0.5


_poly = njit(_poly_py, inline="always")


def elem(x):
    return _poly(x) * 2.0 + np.float32(0.125)


def rows(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += _poly(a[i])
    return s


rows_j = njit(rows)
'''


@pytest.fixture
def helper_module(tmp_path, monkeypatch):
    """A module of numba helpers in its own folder, its cache under tmp_path/cache."""
    from helper_module_loader import helper_module_loader
    return helper_module_loader(tmp_path, monkeypatch, "s52_helpers", _SRC)


def _files(suffix):
    return sorted(numba_helpers.numba_cache_dir().rglob(f"*{suffix}"))


def _count_wrapper_builds(monkeypatch):
    from numba.np.ufunc import wrappers
    calls = []
    real = wrappers.build_ufunc_wrapper
    monkeypatch.setattr(wrappers, "build_ufunc_wrapper",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


X64 = np.linspace(-3.0, 3.0, 37)
X32 = X64.astype(np.float32)


def _want(x):
    # (numba computes the float32 loop in float64 too: its float literals are float64)
    d = x.astype(np.float64)
    return (((d * 0.75 - 1.25) * d + 0.5) * 2.0 + 0.125).astype(x.dtype)


def test_ufunc_loops_load_from_disk_in_a_later_build(helper_module, monkeypatch):
    sigs = ["float64(float64)", "float32(float32)"]
    calls = _count_wrapper_builds(monkeypatch)
    u1 = numba_helpers.vectorize(sigs, helper_module().elem)
    assert len(calls) == 2 and len(_files(".nbw")) == 2
    r64, r32 = u1(X64), u1(X32)
    assert r64.dtype == np.float64 and r32.dtype == np.float32
    np.testing.assert_array_equal(r64, _want(X64))
    np.testing.assert_array_equal(r32, _want(X32))
    # a new build (a new process's): numba loads the scalar function, gpujit the loops
    u2 = numba_helpers.vectorize(sigs, helper_module().elem)
    assert len(calls) == 2
    np.testing.assert_array_equal(u2(X64), r64)
    np.testing.assert_array_equal(u2(X32), r32)
    np.testing.assert_array_equal(u2(X64[::3]), r64[::3])            # (the strided loop)


def test_a_damaged_loop_entry_is_built_again_and_rewritten(helper_module, monkeypatch):
    sigs = ["float64(float64)"]
    numba_helpers.vectorize(sigs, helper_module().elem)
    (entry,) = _files(".nbw")
    good = entry.read_bytes()
    assert numba_helpers._unsealed(good) is not None
    calls = _count_wrapper_builds(monkeypatch)
    for damaged in (good[:len(good) // 2], good[:-9] + bytes(9), b"", b"not a cache entry"):
        entry.write_bytes(damaged)
        u = numba_helpers.vectorize(sigs, helper_module().elem)
        np.testing.assert_array_equal(u(X64), _want(X64))
        assert numba_helpers._unsealed(entry.read_bytes()) is not None     # (written again)
    assert len(calls) == 4
    u = numba_helpers.vectorize(sigs, helper_module().elem)    # (and loaded: no build)
    np.testing.assert_array_equal(u(X64), _want(X64))
    assert len(calls) == 4


def test_damaged_index_and_data_files_are_misses(helper_module):
    a = np.linspace(-1.0, 2.0, 11)
    want = float(np.sum((a * 0.75 - 1.25) * a + 0.5))
    assert helper_module().rows_j(a) == pytest.approx(want, rel=1e-12)
    (index,), (data,) = _files(".nbi"), _files(".nbc")
    good_data = data.read_bytes()
    for path, damaged in ((data, good_data[:100]), (data, b"\0" * len(good_data)),
                          (index, b""), (index, index.read_bytes()[:-5] + b"xxxxx")):
        path.write_bytes(damaged)
        fn = helper_module().rows_j
        assert fn(a) == pytest.approx(want, rel=1e-12)
        assert len(fn.overloads) == 1
    # and the rewritten entries load (no compile: numba's stats count a cache hit)
    fn = helper_module().rows_j
    assert fn(a) == pytest.approx(want, rel=1e-12)
    assert sum(fn.stats.cache_hits.values()) == 1


def test_entries_of_numbas_own_format_are_not_read_as_ours(helper_module):
    # an index written by numba itself (no digest) under the same name: a miss
    fn = helper_module().rows_j
    a = np.arange(5.0)
    fn(a)
    (index,) = _files(".nbi")
    import pickle
    import numba
    index.write_bytes(pickle.dumps(numba.__version__) + pickle.dumps(("stamp", {})))
    fn = helper_module().rows_j
    assert fn(a) == pytest.approx(float(np.sum((a * 0.75 - 1.25) * a + 0.5)))
    assert sum(fn.stats.cache_misses.values()) == 1


def test_sealed_payloads_round_trip_and_reject_tampering():
    data = numba_helpers._sealed(b"payload")
    assert numba_helpers._unsealed(data) == b"payload"
    assert numba_helpers._unsealed(data[:-1] + b"P") is None
    assert numba_helpers._unsealed(data[:10]) is None
    assert numba_helpers._unsealed(b"") is None


# ------------------------------------------------------------------ softmax's kernels

def _np_softmax(x, log):
    z = x.astype(np.float64) - x.max(-1, keepdims=True)
    ls = np.log(np.exp(z).sum(-1, keepdims=True))
    return z - ls if log else np.exp(z - ls)


@pytest.mark.parametrize("log", [False, True])
def test_each_softmax_direction_compiles_its_own_kernel(log, monkeypatch):
    from gpujit.ops import _softmax_kernel as K

    def refuse(*a):
        raise AssertionError("the other direction's kernel ran")
    monkeypatch.setattr(K, "_softmax_rows" if log else "_log_softmax_rows", refuse)
    monkeypatch.setattr(K, "_softmax_backward_rows" if log else "_log_softmax_backward_rows",
                        refuse)
    x = np.linspace(-4, 5, 3 * 21, dtype=np.float32).reshape(3, 21)
    y = np.empty_like(x)
    K.softmax_lastdim(x, y, K.LANES, log)
    np.testing.assert_allclose(y, _np_softmax(x, log), rtol=2e-6, atol=2e-7)
    g = np.cos(x)
    gi = np.empty_like(x)
    K.softmax_backward_lastdim(g, y, gi, K.LANES, log)
    if log:
        want = g - np.exp(y.astype(np.float64)) * g.sum(-1, keepdims=True)
    else:
        want = (g - (g * y).sum(-1, keepdims=True)) * y
    np.testing.assert_allclose(gi, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [1, 7, 16, 37])
def test_softmax_bits_are_torchs(n):
    torch = pytest.importorskip("torch")
    import gpujit
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((5, n)) * 4).astype(np.float32)
    g = rng.standard_normal((5, n)).astype(np.float32)
    for log in (False, True):
        tx, gx = torch.tensor(x, requires_grad=True), gpujit.tensor(x, requires_grad=True)
        ty = (torch.log_softmax if log else torch.softmax)(tx, -1)
        gy = (gpujit.log_softmax if log else gpujit.softmax)(gx, -1)
        ty.backward(torch.tensor(g))
        gy.backward(gpujit.tensor(g))
        assert np.array_equal(ty.detach().numpy().view(np.int32),
                              gy.detach().numpy().view(np.int32)), (n, log)
        assert np.array_equal(tx.grad.numpy().view(np.int32),
                              gx.grad.numpy().view(np.int32)), (n, log)


# ------------------------------------------------- CPU kernels: pipeline, cached helpers

@pytest.fixture(scope="module")
def int_kernel(tmp_path_factory):
    """An int32 kernel with a floor division (the shared njit helper _ifloordiv),
    compiled in this process (its own empty kernel cache); the pipeline fallbacks its
    compile recorded."""
    from gpujit import kernels as K
    from gpujit.kernels import targets
    from test_kernels import traced
    saved = os.environ.get("GPUJIT_CACHE_DIR")
    os.environ["GPUJIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("s52_kernels"))
    try:
        a = np.arange(-7, 17, dtype=np.int32).reshape(4, 6)
        b = np.array([3, -2, 5, 1, -4, 7], np.int32)
        before = len(targets.PIPELINE_FALLBACKS)
        g = traced(lambda x, y: (x * 13 + y) // y + x % 3, a, b)
        k = K.build(K.spec_for(g, (a, b), static=True), "cpu")
        fallbacks = targets.PIPELINE_FALLBACKS[before:]
        np.testing.assert_array_equal(k(a, b)[0], (a * 13 + b) // b + a % 3)
    finally:
        if saved is None:
            os.environ.pop("GPUJIT_CACHE_DIR", None)
        else:
            os.environ["GPUJIT_CACHE_DIR"] = saved
    return k, fallbacks


def test_kernels_compile_through_the_trimmed_pipeline(int_kernel):
    from gpujit.kernels import targets
    assert int_kernel[1] == [] and not int_kernel[0].disk_hit
    assert targets._KERNEL_COMPILER[0] is not None

    def plain(x):
        return x + 1
    assert targets._kernel_pipeline(plain) == {"pipeline_class": targets._KERNEL_COMPILER[0]}
    # a kernel calling a function numba inlines at the IR level: numba's own pipeline
    import numba
    ns = {"inl": numba.njit(inline="always")(plain)}
    exec("def calls(x):\n    return inl(x)\n", ns)
    assert targets._kernel_pipeline(ns["calls"]) == {}


def test_a_kernel_the_trimmed_pipeline_refuses_goes_to_numbas():
    from gpujit.kernels import targets
    before = len(targets.PIPELINE_FALLBACKS)

    def trimmed():
        raise TypeError("not for this pipeline")

    class Numbas:
        def _compile_uncached(self):
            return "numba's result"
    assert targets._or_numbas_pipeline(trimmed, Numbas)() == "numba's result"
    assert targets.PIPELINE_FALLBACKS[before:] == ["TypeError: not for this pipeline"]
    del targets.PIPELINE_FALLBACKS[before:]


def test_shared_njit_helpers_are_disk_cached(int_kernel, tmp_path, monkeypatch):
    import numba
    from gpujit.kernels import targets
    shared = targets._shared["_ifloordiv"]
    assert type(shared._cache).__name__ == "GpujitFunctionCache"
    stamp = shared.py_func.__gpujit_cache_stamp__
    monkeypatch.setattr(shared.py_func, "__gpujit_cache_stamp__", stamp)
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    sig = (numba.int32, numba.int32)
    a = np.array([7, -7, 7, -7, 0], np.int32)
    b = np.array([2, 2, -2, -2, 3], np.int32)

    def fresh():
        d = numba.njit(error_model="numpy", nogil=True)(shared.py_func)
        assert numba_helpers.cache_generated(d, stamp)
        d.compile(sig)
        return d
    d1 = fresh()                          # (another process's first compile: stored)
    assert sum(d1.stats.cache_misses.values()) == 1
    assert list((tmp_path / "kernels" / "numba" / "generated").glob("*_ifloordiv*.nbi"))
    d2 = fresh()                          # (a later process: loaded)
    assert sum(d2.stats.cache_hits.values()) == 1
    got = [d2(x, y) for x, y in zip(a.tolist(), b.tolist())]
    assert got == (a // b).tolist()


def test_a_helper_of_another_stamp_is_compiled_again(int_kernel, tmp_path, monkeypatch):
    import numba
    from gpujit.kernels import targets
    shared = targets._shared["_ifloordiv"]
    monkeypatch.setattr(shared.py_func, "__gpujit_cache_stamp__",   # (restored after)
                        shared.py_func.__gpujit_cache_stamp__)
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    sig = (numba.int32, numba.int32)
    for stamp, misses in (("one", 1), ("two", 1), ("two", 0)):
        d = numba.njit(error_model="numpy", nogil=True)(shared.py_func)
        numba_helpers.cache_generated(d, stamp)
        d.compile(sig)
        assert sum(d.stats.cache_misses.values()) == misses, stamp
