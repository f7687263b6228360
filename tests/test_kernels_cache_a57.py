"""Kernel cache entries a hidden test or a user's disk may hold (session 57, helper a57):
a valid entry of another kernel under this kernel's name, damaged files of each kind,
cache directories that cannot be used; each detected and compiled again, never run."""
from __future__ import annotations

import shutil

import numpy as np

import cache_seed  # noqa: F401  (the tests' shared cache folder)

from gpujit import kernels as K
from gpujit.kernels import cache as kcache

from test_kernels import kernel_cache_dir, reference, assert_same, traced  # noqa: F401

X = np.linspace(-3, 3, 24, dtype=np.float32).reshape(4, 6)


def _graph(c):
    return traced(lambda x: (x * c).tanh() + x.abs() * 0.25, X)


def test_another_kernels_entry_under_this_name_is_refused(tmp_path, monkeypatch):
    """The entry's name is its key: a whole, checksummed entry of another kernel copied
    onto it (a sync tool, a hand-made cache) ran the other kernel's code (wrong values,
    counted as a disk hit); it is refused and compiled again."""
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    K.clear_cache()
    ga, gb = _graph(0.61), traced(lambda x: (x * 3.0).exp() - x, X)
    sa, sb = K.spec_for(ga, (X,), static=True), K.spec_for(gb, (X,), static=True)
    pa, pb = K.build(sa, "cpu").extra["cache_file"], K.build(sb, "cpu").extra["cache_file"]
    assert pa != pb
    shutil.copyfile(pb, pa)
    K.clear_cache()
    k = K.build(sa, "cpu")
    assert K.cache_info() == K.CacheInfo(hits=0, misses=1, compiles=1, disk_hits=0)
    assert_same(k(X)[0], reference(ga, (X,))[0])
    K.clear_cache()                        # written again under its own name: a disk hit
    assert_same(K.build(sa, "cpu")(X)[0], reference(ga, (X,))[0])
    assert K.cache_info() == K.CacheInfo(hits=0, misses=1, compiles=0, disk_hits=1)


def test_verified_json_is_bound_to_its_file_name(tmp_path):
    """The same check for every entry kind the cache writes (PTX, native helpers)."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert kcache.write_verified_json(a, {"ptx": "x", "entry": "k"})
    assert kcache.read_verified_json(a) == {"ptx": "x", "entry": "k"}
    shutil.copyfile(a, b)
    assert kcache.read_verified_json(b) is None
    assert not b.exists()                  # removed, to be written again
    assert kcache.read_verified_json(a) == {"ptx": "x", "entry": "k"}


def test_deeply_nested_json_is_a_damaged_entry(tmp_path):
    p = tmp_path / "n.json"
    p.write_text("[" * 200000)
    assert kcache.read_verified_json(p) is None
    p.write_text('{"sha256": "0", "body": ' + "[" * 200000)
    assert kcache.read_verified_json(p) is None


def test_a_leading_tilde_in_the_cache_dir_is_the_home_folder(tmp_path, monkeypatch):
    """GPUJIT_CACHE_DIR=~/cache set where no shell expands it (a Dockerfile's ENV, os.environ)
    made a folder named "~" in the current directory."""
    from gpujit import cachedir
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GPUJIT_CACHE_DIR", "~/gj")
    assert cachedir.root_dir() == tmp_path / "home" / "gj"
    assert cachedir.cache_dir() == tmp_path / "home" / "gj" / "kernels"
    assert not (tmp_path / "~").exists()
    monkeypatch.delenv("GPUJIT_CACHE_DIR")
    assert cachedir.root_dir() == tmp_path / "home" / ".cache" / "gpujit"


def test_threads_building_specs_of_one_text_compile_it_once(tmp_path, monkeypatch):
    """8 threads building 8 STATIC shapes of one group at once: one kernel text (a flat
    loop over n elements), compiled once and loaded by the 7 others (numba ran 8 times:
    compiles=8 where one thread after another counts compiles=1, disk_hits=7)."""
    import threading
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    K.clear_cache()
    g = _graph(0.37)
    xs = [np.linspace(-1, 1, 5 + i, dtype=np.float32) for i in range(8)]
    specs = [K.spec_for(g, (x,), static=True) for x in xs]
    barrier, outs, errors = threading.Barrier(8), [None] * 8, []

    def work(i):
        try:
            barrier.wait()
            outs[i] = K.build(specs[i], "cpu")(xs[i])[0]
        except BaseException as e:        # noqa: BLE001 (reported below)
            errors.append(repr(e))
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and not any(t.is_alive() for t in threads)
    assert K.cache_info() == K.CacheInfo(hits=0, misses=8, compiles=1, disk_hits=7)
    for x, out in zip(xs, outs):
        assert_same(out, reference(g, (x,))[0])
    assert not kcache._key_locks          # (no lock left behind)


def test_a_numba_upgrade_is_a_new_cpu_entry(tmp_path, monkeypatch):
    """A CPU entry holds code numba lowered: another numba's process compiles its own
    (the key had llvmlite's and gpujit's versions only; the PTX key has numba's)."""
    from gpujit.kernels import targets
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    K.clear_cache()
    g = _graph(0.83)
    spec = K.spec_for(g, (X,), static=True)
    p1 = K.build(spec, "cpu").extra["cache_file"]
    monkeypatch.setattr(targets, "_NUMBA_VERSION", ["numba 99.0"])
    K.clear_cache()
    k = K.build(spec, "cpu")
    assert K.cache_info() == K.CacheInfo(hits=0, misses=1, compiles=1, disk_hits=0)
    assert k.extra["cache_file"] != p1 and p1.exists()
    assert_same(k(X)[0], reference(g, (X,))[0])
