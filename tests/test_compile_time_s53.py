"""What makes a CPU kernel's cold compile cheaper must not change what it computes
(session 53): numba types an @intrinsic call it typed before from the intrinsic's cache
(ops/numba_helpers.fast_intrinsic_typing), resolves a kernel's repeated operator /
number-class calls from a memo (kernels/targets._CALL_TYPES), lowers no cfunc C wrapper
on ELF hosts, and a process that already loaded a kernel's object reuses it for another
spec of the same text (kernels/cache.loaded_objects). Each check compares the kernel with
NumPy, or counts what the compile did."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from gpujit import kernels as K
from gpujit.kernels import cache as kcache, native, targets
from gpujit.ops import numba_helpers

from test_kernels import kernel_cache_dir, traced

_FIXTURES = (kernel_cache_dir,)     # (its own kernel cache directory, module-scoped autouse)

X = np.linspace(-2.5, 2.5, 24, dtype=np.float32).reshape(4, 6)
I = np.arange(-11, 13, dtype=np.int32).reshape(4, 6)


def _build(graph, args):
    return K.build(K.spec_for(graph, args, static=True), "cpu")


def test_one_text_of_two_specs_loads_its_object_once(tmp_path, monkeypatch):
    # a (4, 6) and a (24,) contiguous input are both one flat loop over n elements: the
    # second kernel reuses the object the first loaded, without its disk entry (deleted
    # here), and counts as a disk hit (nothing compiled)
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    g = traced(lambda x: (x + 0.375) * x - 1.25, X)
    flat = X.reshape(-1).copy()
    g2 = traced(lambda x: (x + 0.375) * x - 1.25, flat)
    before = K.cache_info()
    k1 = _build(g, (X,))
    entries = list((tmp_path / "kernels" / "cpu").glob("*.json"))
    assert len(entries) == 1 and K.cache_info().compiles == before.compiles + 1
    entries[0].unlink()
    k2 = _build(g2, (flat,))
    assert k2.source == k1.source and k2.disk_hit and not k1.disk_hit
    assert K.cache_info().compiles == before.compiles + 1
    want = (X + np.float32(0.375)) * X - np.float32(1.25)
    np.testing.assert_array_equal(k1(X)[0], want)
    np.testing.assert_array_equal(k2(flat)[0], want.reshape(-1))
    # clear_cache forgets the loaded objects too: the text compiles again
    K.clear_cache()
    assert kcache.loaded_objects == {}
    k3 = _build(g2, (flat,))
    assert K.cache_info().compiles == 1 and not k3.disk_hit
    np.testing.assert_array_equal(k3(flat)[0], want.reshape(-1))


def test_another_cache_directory_does_not_reuse_the_loaded_object(tmp_path, monkeypatch):
    # (the loaded objects are keyed by their entry's path, in the cache directory)
    g = traced(lambda x: (x - 0.8125) * 3.0 + x, X)
    flat = X.reshape(-1).copy()
    g2 = traced(lambda x: (x - 0.8125) * 3.0 + x, flat)
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path / "a"))
    before = K.cache_info().compiles
    k1 = _build(g, (X,))
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path / "b"))
    k2 = _build(g2, (flat,))
    assert k2.source == k1.source and not k2.disk_hit
    assert K.cache_info().compiles == before + 2
    assert list((tmp_path / "b" / "kernels" / "cpu").glob("*.json"))
    np.testing.assert_array_equal(k2(flat)[0], k1(X)[0].reshape(-1))


def test_an_int_kernel_with_index_arithmetic_matches_numpy():
    # int32 comparisons, selects and casts: calls numba's memoized resolutions type
    # (operator.sub / gt / mul, int32(...)) many times per kernel
    import gpujit
    a, b = I, I[::-1].copy()
    g = traced(lambda a, b: (gpujit.where(a > b, a - b, a * 2), (a * 3 - b) > 4), a, b)
    got = _build(g, (a, b))(a, b)
    np.testing.assert_array_equal(got[0], np.where(a > b, a - b, a * 2))
    np.testing.assert_array_equal(got[1], (a * 3 - b) > 4)
    assert got[0].dtype == np.int32 and got[1].dtype == np.bool_


def test_the_call_memo_is_numbas_method_outside_a_kernel_compile():
    from numba.core.types import functions
    numbas = functions.BaseFunction.__dict__["get_call_type"]
    _build(traced(lambda x: (x * 1.5 - 0.25) * (x > 0.5), X), (X,))
    assert functions.BaseFunction.__dict__["get_call_type"] is numbas
    assert targets._CALL_TYPES, "the kernel's calls were not memoized"
    # every memoized signature is one numba's function type still maps to its impl key
    for (fn, _ctx, _args, _kws), sig in list(targets._CALL_TYPES.items())[:50]:
        assert sig.args in fn._impl_keys


def test_a_failing_compile_restores_numbas_method():
    from numba.core.types import functions
    numbas = functions.BaseFunction.__dict__["get_call_type"]
    with pytest.raises(RuntimeError, match="boom"):
        with targets._memoized_call_types():
            assert functions.BaseFunction.__dict__["get_call_type"] is not numbas
            raise RuntimeError("boom")
    assert functions.BaseFunction.__dict__["get_call_type"] is numbas


def _refreshes_of_a_compile(monkeypatch):
    """How often numba refreshes its CPU target's registries while compiling a function
    calling a new intrinsic at three sites (with the same argument types)."""
    from numba.core import types
    from numba.core.base import BaseContext
    from numba.extending import intrinsic

    @intrinsic
    def _twice(typingctx, x):
        def codegen(context, builder, sig, args):
            return builder.add(args[0], args[0])
        return types.int64(types.int64), codegen

    def f(x):
        return _twice(x) + _twice(x + 1) + _twice(x + 2)

    calls = []
    numbas = BaseContext.refresh
    monkeypatch.setattr(BaseContext, "refresh", lambda self: (calls.append(1), numbas(self))[1])
    import numba
    fn = numba.njit(f)
    assert fn(5) == 10 + 12 + 14
    monkeypatch.setattr(BaseContext, "refresh", numbas)
    return len(calls)


def test_an_intrinsic_typed_again_refreshes_no_registry(monkeypatch):
    from numba.core.typing.templates import _IntrinsicTemplate
    assert numba_helpers.fast_intrinsic_typing()
    fast = _refreshes_of_a_compile(monkeypatch)
    # numba's own typing refreshed before each call site's cache lookup
    monkeypatch.setattr(_IntrinsicTemplate, "generic", _IntrinsicTemplate.generic.__wrapped__)
    numbas = _refreshes_of_a_compile(monkeypatch)
    assert fast <= numbas - 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF objects (Linux)")
def test_an_elf_kernel_is_lowered_without_numbas_c_wrapper():
    import ctypes
    from numba.core import types as t

    def k(a, b):
        return a * 3 - b

    cf = targets._ir_cfunc(t.int64(t.int64, t.int64), error_model="numpy")(k)
    assert "cfunc." not in cf.inspect_llvm()
    entry = native.build_entry(cf)
    assert native.load(entry)(7, 2) == 19
    # where numba's JIT address is wanted (non-ELF hosts), numba's own cfunc gives it
    f = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)(cf.address)
    assert f(7, 2) == 19


def test_the_softmax_exp_intrinsic_gives_the_njit_functions_bits():
    # the branch-free Sleef expf of the softmax kernels, as LLVM IR, against its Python
    # steps compiled by numba (_expf_py): the same float32 bits, specials included
    import numba
    from gpujit.ops import _softmax_kernel as S
    old = numba.njit(S._expf_py, error_model="numpy")
    new = S._expf

    def loop(f):
        @numba.njit(error_model="numpy")
        def run(x, out):
            for i in range(x.shape[0]):
                out[i] = f(x[i])
        return run

    rng = np.random.default_rng(53)
    x = np.concatenate([
        rng.uniform(-110, 110, 3000).astype(np.float32),
        rng.integers(0, 1 << 32, 2000, dtype=np.uint64).astype(np.uint32).view(np.float32),
        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -104.0, 100.0, 88.72, -103.97,
                  np.nextafter(np.float32(-104), np.float32(0)), 1e-40, -1e-40], np.float32)])
    got, want = np.empty_like(x), np.empty_like(x)
    loop(new)(x, got)
    loop(old)(x, want)            # (compiled: a Python float would quiet NaN payloads)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
