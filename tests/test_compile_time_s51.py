"""What makes a CPU kernel's cold compile cheaper must not change what it computes
(session 51): the kernel modules of one process share their prelude (primitives, njit
helpers, intrinsics: kernels/targets._shared_namespace), are compiled only as far as
optimized LLVM IR (targets._IRCFunc) and optimized once. Each check compares the fused
kernel with the unfused reference (eager ops, NumPy) or with NumPy itself."""
from __future__ import annotations

import numpy as np
import pytest

from gpujit import kernels as K
from gpujit.kernels import emit, targets

from test_kernels import kernel_cache_dir, reference, traced

_FIXTURES = (kernel_cache_dir,)     # (its own kernel cache directory, module-scoped autouse)

A = np.arange(-7, 17, dtype=np.int32).reshape(4, 6)
B = np.array([3, -2, 5, 1, -4, 7], np.int32)
X = np.linspace(-2.5, 2.5, 24, dtype=np.float32).reshape(4, 6)


def _delta(before):
    return K.CacheInfo(*(a - b for a, b in zip(K.cache_info(), before)))


def _build(graph, args):
    return K.build(K.spec_for(graph, args, static=True), "cpu")


def test_two_kernels_share_one_compiled_helper():
    # two int32 groups with a floor division: its njit helper (_ifloordiv) is defined
    # once in the process's shared namespace and compiled once for int32
    g1 = traced(lambda a, b: (a * 3 + b) // b, A, B)
    g2 = traced(lambda a, b: (a - b) // b + a, A, B)
    k1, k2 = _build(g1, (A, B)), _build(g2, (A, B))
    assert "_ifloordiv" in k1.source and "_ifloordiv" in k2.source
    helper = targets._shared["_ifloordiv"]
    assert len([s for s in helper.overloads if "int32" in str(s)]) == 1
    np.testing.assert_array_equal(k1(A, B)[0], (A * 3 + B) // B)
    np.testing.assert_array_equal(k2(A, B)[0], (A - B) // B + A)


def test_module_text_says_where_its_prelude_ends():
    g = traced(lambda x: (x * 0.75).tanh() - x, X)
    ks = emit.generate(K.spec_for(g, (X,), static=True), "cpu")
    assert isinstance(ks.text, emit.ModuleText)
    keys = [k for k, _ in ks.text.prelude]
    assert keys[0] == "header" and "types" in keys
    pre = ks.text[:ks.text.body_at]
    head = ks.text[:ks.text.index("\n") + 1]           # (the "# gpujit fused kernel" line)
    assert pre == head + "\n".join(t for _, t in ks.text.prelude) + "\n"
    assert "def kernel(" in ks.text[ks.text.body_at:] and "def kernel(" not in pre


def test_a_piece_defined_by_another_text_compiles_the_module_alone(monkeypatch):
    assert targets._shared_namespace([("types", "_f32 = None\n")]) is None
    # a kernel whose prelude piece differs from the process's (a test's patched
    # primitive) is run as a module of its own, and computes the same
    g = traced(lambda x: x.abs() * 1.75 - x, X)
    ks = emit.generate(K.spec_for(g, (X,), static=True), "cpu")
    text = emit.ModuleText(ks.text)
    text.prelude = tuple((k, t + "\n# another text\n") if k == "types" else (k, t)
                         for k, t in ks.text.prelude)
    text.body_at = ks.text.body_at
    calls = []
    real = targets._exec_module
    monkeypatch.setattr(targets, "_exec_module", lambda *a: calls.append(1) or real(*a))
    fn, disk_hit, _ = targets.compile_cpu(text)
    assert calls == [1] and not disk_hit
    out = np.empty_like(X)
    assert fn(0, X.size, X, out) == 0
    np.testing.assert_array_equal(out, np.abs(X) * np.float32(1.75) - X)


def test_staged_and_plain_kernels_match_the_reference():
    # a staged NumPy-loop call (tanh) and a chain of plain ops: the kernel's bits are
    # the unfused ops' (NumPy's loop computes the tanh)
    g = traced(lambda x: ((x * 1.25 + 0.5).tanh() - x) * 0.5, X)
    k = _build(g, (X,))
    np.testing.assert_array_equal(k(X)[0], reference(g, (X,))[0])


def test_a_plain_str_module_compiles_whole():
    g = traced(lambda x: x * 2.5 + x.abs(), X)
    ks = emit.generate(K.spec_for(g, (X,), static=True), "cpu")
    fn, _, _ = targets.compile_cpu(str(ks.text) + "# whole\n")
    out = np.empty_like(X)
    fn(0, X.size, X, out)
    np.testing.assert_array_equal(out, X * np.float32(2.5) + np.abs(X))


def test_without_numbas_internals_the_cfunc_is_numbas(monkeypatch):
    # where numba's internals differ, the kernel is numba's own cfunc (compiled to
    # machine code by numba's JIT too), the same object code path after it
    monkeypatch.setattr(targets, "_IR_CFUNC_OK", [False])
    g = traced(lambda x: x * 3.25 - 1.5, X)
    k = _build(g, (X,))
    np.testing.assert_array_equal(k(X)[0], X * np.float32(3.25) - np.float32(1.5))


def test_a_disk_hit_compiles_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    g = traced(lambda x: (x - 0.625) * x, X)
    spec = K.spec_for(g, (X,), static=True)
    before = K.cache_info()
    _build(g, (X,))
    assert _delta(before).compiles == 1
    K.clear_cache(memory=True)          # (the disk entry stays)
    k = K.build(spec, "cpu")
    info = K.cache_info()
    assert (info.compiles, info.disk_hits) == (0, 1) and k.disk_hit
    np.testing.assert_array_equal(k(X)[0], (X - np.float32(0.625)) * X)


def test_the_benchmark_cases_are_well_formed():
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "compile_time.py")
    spec = importlib.util.spec_from_file_location("compile_time_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name, (src, args, strategy) in mod.CASES.items():
        compile(src, name, "exec")
        compile(args, name, "eval")
        assert strategy in ("STATIC", "DYNAMIC", None), name
    assert set(mod.NNC_CASES) <= set(mod.CASES)
    with pytest.raises(SystemExit):
        mod.main(["--cases", "no_such_case"])


def test_lazy_ufuncs_are_made_at_first_use_only(monkeypatch):
    from gpujit.ops import numba_helpers
    made = []
    monkeypatch.setattr(numba_helpers, "vectorize",
                        lambda sigs, fn: made.append((tuple(sigs), fn)) or np.negative)

    def one(x):
        return -x
    ns = {"__name__": "fake_kernels"}
    getattr_ = numba_helpers.lazy_vectorize(ns, {"neg": (["float64(float64)"], one)})
    assert made == []                       # (nothing made by defining the table)
    assert getattr_("neg") is np.negative and ns["neg"] is np.negative
    assert getattr_("neg") is np.negative and made == [(("float64(float64)",), one)]
    with pytest.raises(AttributeError, match="module 'fake_kernels' has no attribute 'pos'"):
        getattr_("pos")
    # the real modules: importing the Sleef exp (softmax's) makes no erf ufunc
    from gpujit.ops import _aten_erf_kernel, _fma_kernels
    assert callable(_aten_erf_kernel.__getattr__) and callable(_fma_kernels.__getattr__)
    with pytest.raises(AttributeError):
        _fma_kernels.no_such_ufunc


def test_a_special_function_makes_the_ufunc_of_its_dtype_only(monkeypatch):
    from gpujit.ops import _special_kernels as S
    monkeypatch.setattr(S, "_UFUNCS", {})
    a = np.array([0.0, 0.5, -1.25, 3.0, 12.5], np.float32)
    got = S.apply("i0", a)
    # (no float64 loop made; i0's key is its family's: ops/_special_kernels._FORMS)
    assert len(S._UFUNCS) == 1 and all(f32 for _, f32 in S._UFUNCS)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.i0(a.astype(np.float64)), rtol=2e-6)
    assert S.ufunc("i0", np.float32) is next(iter(S._UFUNCS.values()))
