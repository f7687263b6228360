"""The kernel cache: memory hits, disk hits in a fresh process, corrupt entries recompiled,
one compile for 8 threads asking at once, cache_info counters."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

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
t1 = time.perf_counter()
k = K.build(K.spec_for(g, (X,), static={static}), "cpu")
out = k(X)[0]
t2 = time.perf_counter()
print(tuple(K.cache_info()), round(t2 - t1, 3), float(out.sum()))
"""


@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_a_fresh_process_loads_kernels_from_disk(static, kernel_cache_dir):
    g = _graph(1.5)
    k = K.build(K.spec_for(g, (X,), static=static), "cpu")
    code = _FRESH.format(tests=os.path.dirname(__file__), static=static)
    env = dict(os.environ, GPUJIT_CACHE_DIR=kernel_cache_dir)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    info, seconds, total = r.stdout.strip().rsplit(" ", 2)
    assert eval(info) == (0, 1, 0, 1)           # a miss in memory, a hit on disk, no compile
    assert abs(float(total) - float(k(X)[0].sum())) < 1e-4
    print(f"first build+call in a fresh process, warm disk cache: {float(seconds) * 1e3:.0f} ms")


def _cpu_files(k):
    sums = [p for p in (kcache.cache_dir() / "cpu").glob("gen_*.sums")
            if p.read_text() and p.with_suffix(".py").read_text() == k.source]
    assert len(sums) == 1
    manifest = kcache.read_verified_json(sums[0])
    return sums[0].with_suffix(".py"), manifest["files"]


def test_a_corrupt_numba_cache_file_is_detected_and_recompiled():
    g = _graph(1.75)
    spec = K.spec_for(g, (X,), static=True)
    k = K.build(spec, "cpu")
    _, files = _cpu_files(k)
    data = [f for f in files if f.endswith(".nbc")][0]
    with open(data, "r+b") as f:                 # truncated in the middle
        f.truncate(os.path.getsize(data) // 2)
    K.clear_cache()
    k2 = K.build(spec, "cpu")
    assert K.cache_info() == K.CacheInfo(hits=0, misses=1, compiles=1, disk_hits=0)
    assert_same(k2(X)[0], reference(g, (X,))[0])
    K.clear_cache()                              # the recompiled entry is good again
    K.build(spec, "cpu")
    assert K.cache_info() == K.CacheInfo(hits=0, misses=1, compiles=0, disk_hits=1)


def test_a_truncated_generated_module_is_rewritten():
    g = _graph(2.25)
    spec = K.spec_for(g, (X,), static=True)
    k = K.build(spec, "cpu")
    path, _ = _cpu_files(k)
    path.write_text(k.source[: len(k.source) // 3])
    K.clear_cache()
    k2 = K.build(spec, "cpu")
    assert path.read_text() == k.source
    assert K.cache_info().compiles == 1
    assert_same(k2(X)[0], reference(g, (X,))[0])


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
    assert list((tmp_path / "kernels" / "cpu").glob("gen_*.py"))
    K.clear_cache(memory=True, disk=True)
    assert not (tmp_path / "kernels").exists()
    assert K.cache_info() == K.CacheInfo(0, 0, 0, 0)


def test_the_kernel_source_is_importable_python():
    """A cached module is plain Python a reader can open (the launcher too)."""
    k = K.build(K.spec_for(_graph(1.25), (X,), static=True), "cpu")
    compile(k.source, "kernel", "exec")
    compile(k.launcher_source, "launcher", "exec")
    assert gpujit.__version__
