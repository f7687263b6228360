"""The cold compile of gpujit's numba eager helpers (gpujit/ops/numba_helpers.py, session
59): an inner() helper (a callee of the entry points only) compiles once per argument
types (no second specialization for a constant argument), without numba's CPython / C
wrappers and without being JIT-compiled itself (only its callers' modules, which link its
IR, are); every helper compile types calls from the shared memo; the sum kernel compiles
no np.zeros implementation (its scratch comes from NumPy)."""
import numpy as np
import pytest

pytest.importorskip("numba")

from gpujit.ops import numba_helpers  # noqa: E402


def _callee(a, i, k):
    return a[i] * k + 1.0


def _callee2(a, i):
    return _CALLEE(a, i, 4) - _CALLEE(a, i, i)      # (a constant and a variable k)


def _caller(a):
    s = 0.0
    for i in range(a.size):
        s += _CALLEE2(a, i) + _CALLEE(a, i, 3)
    return s


_CALLEE = _CALLEE2 = None


def _build():
    global _CALLEE, _CALLEE2
    _CALLEE = numba_helpers.inner(_callee)
    _CALLEE2 = numba_helpers.inner(_callee2)
    import numba
    return numba.njit(_caller)       # (in memory: no disk cache of this test's code)


def test_inner_compiles_once_unliteral_and_is_never_jitted(monkeypatch):
    from numba.core import codegen
    added = []
    numbas = codegen.JITCPUCodegen._add_module
    monkeypatch.setattr(codegen.JITCPUCodegen, "_add_module",
                        lambda self, m: (added.append(m.name), numbas(self, m))[1])
    caller = _build()
    a = np.arange(5, dtype=np.float64)
    got = caller(a)
    want = sum((x * 4 + 1) - (x * i + 1) + (x * 3 + 1) for i, x in enumerate(a))
    assert got == want
    # one int64 specialization each: the constants 4 and 3 made no Literal[int] ones
    assert len(_CALLEE.overloads) == 1 and len(_CALLEE2.overloads) == 1
    (sig,) = _CALLEE.overloads
    assert "Literal" not in str(sig)
    # only the caller's module went to numba's JIT (numba's njit callees: theirs too)
    assert "_caller" in added and not [n for n in added if "_callee" in n], added
    cres = _CALLEE.overloads[sig]
    assert type(cres.library).__name__ == "InnerCodeLibrary"


def test_inner_called_from_python_raises_typeerror():
    f = numba_helpers.inner(_callee)
    with pytest.raises(TypeError, match="njit callers only"):
        f(np.zeros(3), 0, 1.0)


def test_helper_compiles_memoize_call_typing_and_restore_numbas_method():
    from numba.core.types import functions
    numbas = functions.BaseFunction.__dict__["get_call_type"]

    def twice(a):
        return a * 2 - 1

    from numba.core.caching import NullCache
    numba_helpers._CALL_TYPES.clear()
    f = numba_helpers.njit(twice)
    f._cache = NullCache()           # (compiled here, not loaded from a warm cache)
    assert f(3) == 5
    assert functions.BaseFunction.__dict__["get_call_type"] is numbas
    assert numba_helpers._CALL_TYPES, "the helper's calls were not memoized"
    with numba_helpers.memoized_call_types():
        with numba_helpers.memoized_call_types():       # (re-entrant)
            inner = functions.BaseFunction.__dict__["get_call_type"]
            assert inner is not numbas
        assert functions.BaseFunction.__dict__["get_call_type"] is inner
    assert functions.BaseFunction.__dict__["get_call_type"] is numbas


def test_sum_kernel_compiles_each_helper_once_and_no_numpy_allocation():
    """A fresh copy of ops/_cascade_kernels compiled (in memory) for float32: _mrs, called
    with the constant 4 by _row_sum and with 4 * lanes by _loop2d, has one
    specialization; no function of it calls np.zeros / np.empty (whose numba
    implementations were ~1 s of a cold first sum): its scratch is the caller's."""
    import importlib.util
    import numba
    from gpujit.ops import _cascade_kernels
    spec = importlib.util.spec_from_file_location("gpujit.ops._cascade_kernels_a59",
                                                  _cascade_kernels.__file__)
    C = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(C)
    f = numba.njit(C.serial_sum)
    x = np.linspace(-1, 1, 1000, dtype=np.float32)
    out = np.zeros(1, np.float32)
    i64 = np.int64
    for lanes in (8, 16):
        out[:] = 0
        f(x, 0, np.array([1000, 1], i64), np.array([1, 0], i64), np.array([0, 0], i64),
          0, 1000, lanes, out, 0, np.zeros((4, 4 * lanes), np.float32), np.zeros(2, i64))
        assert abs(float(out[0])) < 1e-4
    assert len(C._mrs.overloads) == 1 and len(C._row_sum.overloads) == 1
    typed = [str(t) for d in (f, C._loop2d, C._mrs, C._row_sum, C._level_power)
             for cres in d.overloads.values() for t in cres.type_annotation.typemap.values()]
    assert not [t for t in typed if "zeros" in t or "empty" in t], typed


def test_sort_helpers_are_inner():
    from gpujit.ops import _stl_sort
    _stl_sort.compiled()
    for name in _stl_sort._NAMES:
        opts = getattr(_stl_sort, name).targetoptions
        assert opts.get("no_cpython_wrapper") is (name not in _stl_sort._ENTRIES or None)


def _twice_plus(a):
    return a * 2.0 + 1.0


def _three_sites(a):
    return _TWICE(a) + _TWICE(a + 1.0) * _TWICE(a - 1.0)


_TWICE = None


def test_an_inline_callee_is_translated_once_for_its_call_sites(monkeypatch):
    """numba's IR inlining (inline="always") builds the callee's untyped IR once, not at
    each of its three call sites (numba_helpers._memo_inline_untyped_ir)."""
    global _TWICE
    from numba.core import inline_closurecall as icc
    from numba.core.caching import NullCache
    numba_helpers.fast_intrinsic_typing()
    built = []
    numbas = icc.InlineWorker.run_untyped_passes
    monkeypatch.setattr(icc.InlineWorker, "run_untyped_passes",
                        lambda self, func, *a, **k: (built.append(func.__name__),
                                                     numbas(self, func, *a, **k))[1])
    _TWICE = numba_helpers.njit(_twice_plus, inline="always")
    f = numba_helpers.njit(_three_sites)
    f._cache = NullCache()
    assert f(2.0) == 5.0 + 7.0 * 3.0
    assert built.count("_twice_plus") == 1, built


def test_threads_compiling_the_sort_helpers_at_once(monkeypatch):
    """_stl_sort.compiled() from 8 threads at once (a fresh process's first topk / sort
    in threads): its globals are swapped for dispatchers once; before the lock, a thread
    could wrap another's dispatcher again (numba's TypeError 'A jit decorator was called
    on an already jitted function')."""
    import threading
    from gpujit.ops import _stl_sort as S
    for name in S._NAMES:              # (as before its first use; restored afterwards)
        monkeypatch.setattr(S, name, getattr(getattr(S, name), "py_func", getattr(S, name)))
    monkeypatch.setattr(S, "_COMPILED", [])
    barrier = threading.Barrier(8)
    got, errors = [], []

    def run():
        barrier.wait()
        try:
            got.append(S.compiled())
        except Exception as e:          # (collected: the assertion below names it)
            errors.append(e)
    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(got) == 8 and all(g is got[0] for g in got)
    v = np.array([[3.0, 1.0, 2.0, 1.0]])
    ix = np.arange(4, dtype=np.int64)[None]
    got[0][0](v, ix, False)
    assert v.tolist() == [[1.0, 1.0, 2.0, 3.0]]
