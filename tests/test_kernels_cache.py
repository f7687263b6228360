"""The kernel cache: memory hits, disk hits in a fresh process, corrupt entries recompiled,
one compile for 8 threads asking at once, cache_info counters."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import cache_seed

import gpujit
from gpujit import kernels as K
from gpujit.kernels import cache as kcache

from test_kernels import kernel_cache_dir, reference, assert_same, traced  # noqa: F401

X = np.linspace(-3, 3, 24, dtype=np.float32).reshape(4, 6)


def _graph(c):
    """A small group, made distinct per test by the constant c (the structure key)."""
    return traced(lambda x: (x * c).tanh() + x.abs() * 0.5, X)


def _delta(before):
    now = K.cache_info()
    return K.CacheInfo(*(a - b for a, b in zip(now, before)))


def test_the_second_build_compiles_nothing():
    g = _graph(1.25)
    spec = K.spec_for(g, (X,), static=True)
    before = K.cache_info()
    k = K.build(spec, "cpu")
    assert _delta(before) == K.CacheInfo(hits=0, misses=1, compiles=1, disk_hits=0)
    before = K.cache_info()
    assert K.build(K.spec_for(_graph(1.25), (X,), static=True), "cpu") is k
    assert _delta(before) == K.CacheInfo(hits=1, misses=0, compiles=0, disk_hits=0)
    assert_same(k(X)[0], reference(g, (X,))[0])


_FRESH = """
import os, sys, time
sys.path.insert(0, {tests!r})
t0 = time.perf_counter()
import numpy as np
from gpujit import kernels as K
from test_kernels_cache import _graph, X
g = _graph(1.5)
for static in (True, False):
    before = K.cache_info()
    t1 = time.perf_counter()
    k = K.build(K.spec_for(g, (X,), static=static), "cpu")
    out = k(X)[0]
    t2 = time.perf_counter()
    print(static, tuple(a - b for a, b in zip(K.cache_info(), before)), round(t2 - t1, 3),
          float(out.sum()))
"""


@pytest.fixture(scope="module")
def fresh_process_loads(kernel_cache_dir):
    """Both kernels (STATIC, DYNAMIC) built here, then loaded in one fresh process (the
    STATIC one first): {static: (its cache_info change, seconds, its sum) there}; the
    process's stderr when it failed."""
    g = _graph(1.5)
    for static in (True, False):
        K.build(K.spec_for(g, (X,), static=static), "cpu")
    code = _FRESH.format(tests=os.path.dirname(__file__))
    env = dict(os.environ, GPUJIT_CACHE_DIR=kernel_cache_dir)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        return r.stderr
    lines = [ln.split(" ", 1) for ln in r.stdout.strip().splitlines()]
    return {static == "True": rest.rsplit(" ", 2) for static, rest in lines}


@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_a_fresh_process_loads_kernels_from_disk(static, fresh_process_loads):
    assert isinstance(fresh_process_loads, dict), fresh_process_loads
    k = K.build(K.spec_for(_graph(1.5), (X,), static=static), "cpu")
    info, seconds, total = fresh_process_loads[static]
    assert eval(info) == (0, 1, 0, 1)           # a miss in memory, a hit on disk, no compile
    assert abs(float(total) - float(k(X)[0].sum())) < 1e-4
    print(f"first build+call in a fresh process, warm disk cache: {float(seconds) * 1e3:.0f} ms")


def test_a_corrupt_object_entry_is_detected_and_recompiled():
    g = _graph(1.75)
    spec = K.spec_for(g, (X,), static=True)
    k = K.build(spec, "cpu")
    path = k.extra["cache_file"]
    raw = json.loads(path.read_text())
    body = json.loads(raw["body"])
    obj = bytearray(base64.b64decode(body["object"]))
    obj[len(obj) // 2] ^= 0xFF                   # one flipped byte in the machine code
    body["object"] = base64.b64encode(bytes(obj)).decode()
    raw["body"] = json.dumps(body, sort_keys=True)
    path.write_text(json.dumps(raw))
    K.clear_cache()
    k2 = K.build(spec, "cpu")
    assert K.cache_info() == K.CacheInfo(hits=0, misses=1, compiles=1, disk_hits=0)
    assert_same(k2(X)[0], reference(g, (X,))[0])
    K.clear_cache()                              # the recompiled entry is good again
    K.build(spec, "cpu")
    assert K.cache_info() == K.CacheInfo(hits=0, misses=1, compiles=0, disk_hits=1)


def test_a_truncated_entry_is_recompiled():
    g = _graph(2.25)
    spec = K.spec_for(g, (X,), static=True)
    k = K.build(spec, "cpu")
    path = k.extra["cache_file"]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    K.clear_cache()
    k2 = K.build(spec, "cpu")
    assert K.cache_info().compiles == 1
    assert kcache.read_verified_json(path) is not None       # written again, whole
    assert_same(k2(X)[0], reference(g, (X,))[0])


def test_an_entry_needing_a_missing_symbol_is_recompiled():
    """An object whose external symbols do not all resolve in this process is never
    handed to LLVM's linker (that would abort the process): it is compiled afresh."""
    from gpujit.kernels import native
    g = _graph(2.75)
    spec = K.spec_for(g, (X,), static=True)
    k = K.build(spec, "cpu")
    path = k.extra["cache_file"]
    entry = kcache.read_verified_json(path)
    assert all(not s.startswith(("numba_", "NRT_", "Py")) for s in entry["undefined"])
    with pytest.raises(native.NativeLoadError, match="gpujit_no_such_symbol"):
        native.load(dict(entry, undefined=entry["undefined"] + ["gpujit_no_such_symbol"]))
    kcache.write_verified_json(path, dict(entry, undefined=["gpujit_no_such_symbol"]))
    K.clear_cache()
    k2 = K.build(spec, "cpu")
    assert K.cache_info().compiles == 1
    assert_same(k2(X)[0], reference(g, (X,))[0])


_WARM = """
import sys, time
import gpujit
gpujit.manual_seed(0)   # (the cold run is in a test process: its generator has moved)
x = gpujit.rand(1000); y = gpujit.rand(1000)
def chain(x, y):        # sin, expm1: libm's; nan_to_num: numba's helper (nextafterf)
    z = gpujit.tanh(x * 0.5 + y) * gpujit.sigmoid(x - y) + gpujit.relu(x)
    return z + gpujit.sin(y) * gpujit.expm1(x) + gpujit.nan_to_num(x / (y - 0.5))
t = gpujit.trace(chain, (x, y), check_trace=False)
t0 = time.perf_counter()
t(x, y); out = t(x, y)
t1 = time.perf_counter()
print(tuple(gpujit.kernels.cache_info()), "numba" in sys.modules, round(t1 - t0, 3),
      float(out.sum()))
"""


def test_a_warm_process_runs_fused_code_without_importing_numba(tmp_path, monkeypatch):
    """With the kernel on disk, a new process loads its object code with llvmlite: numba
    (~0.27 s to import and initialise) is never imported. (The kernel is compiled into the
    fresh cache folder here, in this process: one new process, the warm one.)"""
    import contextlib
    import io
    monkeypatch.setenv("GPUJIT_CACHE_DIR", cache_seed.warm(tmp_path))
    K.clear_cache()             # (compiled here, not found in this process's memory)
    before, out = K.cache_info(), io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(_WARM, {})
    assert _delta(before).compiles == 1, _delta(before)
    t_cold = float(out.getvalue().split()[-1])
    r = subprocess.run([sys.executable, "-c", _WARM], capture_output=True, text=True,
                       env=dict(os.environ), timeout=300)
    assert r.returncode == 0, r.stderr
    info, numba_imported, seconds, total = r.stdout.strip().rsplit(" ", 3)
    warm, warm_numba, s, t_warm = eval(info), numba_imported == "True", float(seconds), \
        float(total)
    entry, = [kcache.read_verified_json(p) for p in tmp_path.glob("**/cpu/*.json")]
    undefined = set(entry["undefined"])
    assert "numba_nextafterf" in undefined
    # (sinf, expm1f: libm's, or where NumPy runs its own vector loops (sin: Highway's,
    # expm1: SVML's on an AVX512 host) the NumPy loop itself, called on chunks of elements
    # to give eager's bits: kernels/cpu_math.py, kernels/emit.py's staged loops)
    assert "sinf" in undefined or "gpujit_np_sin_f32" in undefined
    assert "expm1f" in undefined or "gpujit_np_expm1_f32" in undefined or \
        any(u.startswith("__svml_expm1f") for u in undefined)
    assert warm[2:] == (0, 1) and not warm_numba        # loaded: numba never imported
    assert abs(t_cold - t_warm) < 1e-3
    print(f"first two calls in a warm process: {s * 1e3:.0f} ms")


def test_verified_entries_reject_flipped_bytes(tmp_path):
    p = tmp_path / "entry.json"
    kcache.write_verified_json(p, {"ptx": ".version 9.0\n...", "entry": "_Z6kernel"})
    assert kcache.read_verified_json(p) == {"ptx": ".version 9.0\n...", "entry": "_Z6kernel"}
    raw = json.loads(p.read_text())
    raw["body"] = raw["body"].replace("9.0", "9.1")
    p.write_text(json.dumps(raw))
    assert kcache.read_verified_json(p) is None and not p.exists()   # removed: recompile
    p.write_text('{"sha256": "0", "bo')                              # truncated
    assert kcache.read_verified_json(p) is None


def test_eight_threads_building_one_new_kernel_compile_it_once():
    g = _graph(2.5)
    before = K.cache_info()
    barrier = threading.Barrier(8)
    kernels, results, errors = [], [], []

    def work():
        try:
            barrier.wait()
            k = K.build(K.spec_for(g, (X,), static=False), "cpu")
            kernels.append(k)
            results.append(k(X)[0])
        except BaseException as e:      # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len({id(k) for k in kernels}) == 1
    assert _delta(before) == K.CacheInfo(hits=7, misses=1, compiles=1, disk_hits=0)
    want = reference(g, (X,))[0]
    for r in results:
        assert_same(r, want)


def test_clear_cache_can_remove_the_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    K.clear_cache()
    K.build(K.spec_for(_graph(3.0), (X,), static=True), "cpu")
    assert list((tmp_path / "kernels" / "cpu").glob("*.json"))
    K.clear_cache(memory=True, disk=True)
    assert not (tmp_path / "kernels").exists()
    assert K.cache_info() == K.CacheInfo(0, 0, 0, 0)


def test_a_cache_directory_that_cannot_be_written_only_skips_the_disk(tmp_path, monkeypatch):
    """Writing the disk cache is best effort: a read-only or full file system, or a file
    where the cpu/ folder should be, leaves the kernel compiled and fused (it was a
    failed build, the function running unfused with a FusionWarning)."""
    import warnings
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    (tmp_path / "kernels").mkdir()
    (tmp_path / "kernels" / "cpu").write_text("not a folder")
    K.clear_cache()
    g = _graph(3.5)
    k = K.build(K.spec_for(g, (X,), static=True), "cpu")
    assert K.cache_info() == K.CacheInfo(hits=0, misses=1, compiles=1, disk_hits=0)
    assert k.extra["cache_file"] is None
    assert_same(k(X)[0], reference(g, (X,))[0])

    def f(x, y):
        return gpujit.tanh(x * 0.75 + y) * gpujit.sigmoid(x - y)
    x, y = gpujit.randn(64), gpujit.randn(64)
    t = gpujit.trace(f, (x, y))
    with warnings.catch_warnings():
        warnings.simplefilter("error", gpujit.FusionWarning)
        for _ in range(3):
            out = t(x, y)
    assert "TensorExprGroup" in str(gpujit.jit.last_executed_optimized_graph())
    gpujit.testing.assert_close(out, f(x, y))


def test_the_kernel_source_is_importable_python():
    """A kernel's module is plain Python a reader can open (the launcher too)."""
    k = K.build(K.spec_for(_graph(1.25), (X,), static=True), "cpu")
    compile(k.source, "kernel", "exec")
    compile(k.launcher_source, "launcher", "exec")
    assert gpujit.__version__


def test_without_elf_objects_the_kernel_runs_numbas_own_function(monkeypatch):
    """Where object files are not ELF (macOS, Windows) nothing is cached on disk and the
    kernel calls numba's compiled cfunc directly: the same launcher, the same answers."""
    from gpujit.kernels import native
    monkeypatch.setattr(native, "elf_undefined_symbols", lambda obj: None)
    g = traced(lambda x, s, f: (x * s).tanh() + (x > 0) * f, X, 0.5, True)
    for static in (True, False):
        k = K.build(K.spec_for(g, (X, 0.5, True), static=static), "cpu")
        assert k.extra["cache_file"] is None and not k.disk_hit
        for s, f in ((0.5, True), (-2.0, False)):
            assert_same(k(X, s, f)[0], reference(g, (X, s, f))[0])


def test_kernel_calls_check_their_arguments():
    """A kernel reads memory as its spec says: Kernel.__call__ refuses what does not fit."""
    g = _graph(3.25)
    k = K.build(K.spec_for(g, (X,), static=True), "cpu")
    with pytest.raises(TypeError, match="dtype float64; the kernel was built for float32"):
        k(X.astype(np.float64))
    with pytest.raises(TypeError, match="dtype >f4"):
        k(X.astype(">f4"))
    with pytest.raises(ValueError, match=r"strides \(1, 4\); the STATIC kernel was built"):
        k(np.ascontiguousarray(X.T).T)
    with pytest.raises(ValueError, match="shape"):
        k(X[:2])
    with pytest.raises(TypeError, match="must be a numpy.ndarray, not list"):
        k(X.tolist())
    with pytest.raises(TypeError, match="takes 1 arguments, got 2"):
        k(X, X)
    d = K.build(K.spec_for(g, (X,), static=False), "cpu")
    with pytest.raises(ValueError, match="not C-contiguous"):
        d(X[:, ::2])
    assert_same(d(X[:, ::2].copy())[0], reference(g, (X[:, ::2].copy(),))[0])


def test_the_ptx_cache_key_reads_library_versions_without_importlib_metadata():
    import importlib.metadata
    from gpujit.kernels import targets
    for dist in ("numba", "numba-cuda", "llvmlite", "numpy"):
        try:
            want = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            want = "none"
        assert targets._dist_version(dist) == want, dist
    assert targets._dist_version("gpujit-no-such-dist") == "none"


# ------------------------------------------------------------------ the collector paused

def test_compiling_pauses_the_cyclic_collector(monkeypatch):
    """numba's compile trips full collections of the whole process (gpujit/_gc.py): a kernel
    compiles with the collector off, which is back on afterwards."""
    import gc
    from gpujit.kernels import targets
    seen = []
    real = targets.compile_cpu

    def spy(text):
        seen.append(gc.isenabled())
        return real(text)

    monkeypatch.setattr(targets, "compile_cpu", spy)
    assert gc.isenabled()
    K.build(K.spec_for(_graph(2.75), (X,), static=True), "cpu")
    assert seen == [False] and gc.isenabled()


def test_the_collector_pause_nests_and_keeps_a_programs_choice():
    import gc
    from gpujit._gc import gc_paused
    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()          # the outer compile is still running
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        with gc_paused():
            1 / 0
    assert gc.isenabled()                  # back on after an error
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()          # the program had turned it off: it stays off
    finally:
        gc.enable()


def test_the_collector_comes_back_after_concurrent_compiles():
    """Threads pausing at once: on again only when the last one is done."""
    import gc
    from gpujit._gc import gc_paused
    inside, go = threading.Barrier(4), threading.Event()
    states = []

    def worker():
        with gc_paused():
            inside.wait()
            go.wait()
            states.append(gc.isenabled())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    inside.wait()
    assert not gc.isenabled()
    go.set()
    for t in threads:
        t.join()
    assert states == [False, False, False]     # each still inside its own pause
    assert gc.isenabled()


def test_the_temporary_fallback_directory_must_be_private(tmp_path, monkeypatch):
    """With the cache directory unwritable, kernels (machine code the process runs) go to
    <tmp>/gpujit-<uid> only when this user owns it and nobody else may write to it: one
    another user made in a shared /tmp was used as it was."""
    import tempfile
    from gpujit import cachedir
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(blocked))
    shared = tmp_path / f"gpujit-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setattr(cachedir, "_fallback", [])
    monkeypatch.setattr(cachedir, "_warned", set())
    with pytest.warns(UserWarning, match="GPUJIT_CACHE_DIR"):       # (it named a file)
        got = kcache.cache_dir()
    assert shared not in got.parents and got.parent.stat().st_mode & 0o077 == 0
    shared.chmod(0o700)
    monkeypatch.setattr(cachedir, "_fallback", [])
    assert kcache.cache_dir() == shared / "kernels"
    kcache.clear_cache(memory=False, disk=True)
    assert not (shared / "kernels").exists()


def test_cache_info_lists_each_functions_specializations():
    """UX.md: cache_info() shows {function: ['STATIC(...)', 'DYNAMIC(*)']}; still a tuple
    of the four counters (compared and unpacked as before)."""
    def spec_chain(x, y):
        return torch_tanh(x * 0.5 + y) * gpujit.sigmoid(x - y)

    def spec_two(x, w):
        return (x.sin() * 2).mm(w).relu() + 1

    torch_tanh = gpujit.tanh
    old = gpujit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 2)])
    try:
        f = gpujit.trace(spec_chain, (gpujit.rand(1024), gpujit.rand(1024)),
                         check_trace=False)
        for n in (1024, 1024, 4096, 77, 5):
            f(gpujit.rand(n), gpujit.rand(n))
        x = gpujit.rand(4, 8)
        for _ in range(2):
            f(x, gpujit.rand(8))
        g = gpujit.trace(spec_two, (gpujit.rand(3, 3), gpujit.rand(3, 3)), check_trace=False)
        for _ in range(2):
            g(gpujit.rand(3, 3), gpujit.rand(3, 3))
        info = K.cache_info()
    finally:
        gpujit.set_fusion_strategy(old)
    # 1024 and 4096 baked in; 77 and 5 share one DYNAMIC kernel; [4, 8] with [8] a second
    assert info.specializations["spec_chain"] == [
        "STATIC(1024)", "STATIC(4096)", "DYNAMIC(*)", "DYNAMIC(*x*)"]
    # two groups around the matmul: an entry each
    assert info.specializations["spec_two group 0"] == ["STATIC(3x3)"]
    assert info.specializations["spec_two group 1"] == ["STATIC(3x3)"]
    assert "specializations={" in repr(info) and "'spec_chain': ['STATIC(1024)'" in repr(info)
    hits, misses, compiles, disk_hits = info
    assert info == K.CacheInfo(hits, misses, compiles, disk_hits)
    del f, g
    import gc
    gc.collect()
    assert "spec_chain" not in K.cache_info().specializations    # gone with the function


def test_cache_info_reads_as_a_dict_too():
    """cache_info()["compiles"], .get and dict(...) as well as the tuple's fields."""
    info = K.CacheInfo(3, 1, 2, 0, {"f": ["STATIC(4)"]})
    assert info["hits"] == 3 and info["compiles"] == 2 and info["disk_hits"] == 0
    assert info["specializations"] == {"f": ["STATIC(4)"]}
    assert info[0] == 3 and info[1:3] == (1, 2)
    assert dict(info) == {"hits": 3, "misses": 1, "compiles": 2, "disk_hits": 0,
                          "specializations": {"f": ["STATIC(4)"]}}
    assert info.get("nope", 7) == 7
    with pytest.raises(KeyError):
        info["nope"]


def test_each_call_a_built_kernel_serves_is_a_hit():
    """cache_info().hits counts the calls a kernel already built serves (its group's
    dispatcher found the specialization), as well as builds found in memory; the call
    that builds it is the miss, and clear_cache() starts the count again."""
    import gpujit as torch

    @torch.jit.script
    def hit_chain(x, y):
        return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)

    x, y = torch.rand(33), torch.rand(33)
    hit_chain(x, y)                              # profiling: no kernel yet
    before = K.cache_info()
    hit_chain(x, y)                              # builds the kernel: a miss
    d = _delta(before)
    assert (d.hits, d.misses) == (0, 1) and d.compiles + d.disk_hits == 1
    before = K.cache_info()
    for _ in range(5):
        hit_chain(x, y)
    assert _delta(before) == K.CacheInfo(hits=5, misses=0, compiles=0, disk_hits=0)
    before = K.cache_info()
    hit_chain(torch.rand(2, 3), torch.rand(2, 3))   # another signature: profiled, no hit
    assert _delta(before).hits == 0
    K.clear_cache()
    hit_chain(x, y)
    assert K.cache_info().hits == 1
