"""The cache folder a user names (session 58, helper b58): GPUJIT_CACHE_DIR that cannot be
used warns (it silently cached under /tmp); one that can be read but not written (a shared,
pre-warmed cache mounted read-only) is still read, kernels compiled meanwhile are not written;
relative paths and paths with spaces."""
from __future__ import annotations

import builtins
import errno
import io
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

import cache_seed  # noqa: F401  (the tests' shared cache folder)

from gpujit import cachedir
from gpujit import kernels as K
from gpujit.ops import numba_helpers

from test_kernels import kernel_cache_dir, reference, assert_same, traced  # noqa: F401

X = np.linspace(-3, 3, 24, dtype=np.float32).reshape(4, 6)


def _graph(c):
    return traced(lambda x: (x * c).tanh() - x.abs() * 0.125, X)


@pytest.fixture
def fresh_fallback(tmp_path, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(cachedir, "_fallback", [])
    monkeypatch.setattr(cachedir, "_warned", set(), raising=False)
    return tmp_path / "tmp"


@pytest.mark.parametrize("under", ["", "sub/dir"])
def test_a_cache_dir_that_is_a_file_warns_once_and_works(tmp_path, monkeypatch, fresh_fallback,
                                                         under):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    named = blocked / under if under else blocked
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(named))
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        first = cachedir.cache_dir()
        assert cachedir.cache_dir() == first          # the same fallback, warned once
        K.clear_cache()
        g = _graph(0.83)
        k = K.build(K.spec_for(g, (X,), static=True), "cpu")
    assert_same(k(X)[0], reference(g, (X,))[0])
    assert fresh_fallback in first.parents
    msgs = [str(w.message) for w in got if issubclass(w.category, UserWarning)
            and "GPUJIT_CACHE_DIR" in str(w.message)]
    assert len(msgs) == 1, msgs
    assert str(named) in msgs[0] and str(first.parent) in msgs[0]


def test_an_unusable_cache_dir_warns_at_import_and_still_caches_entry_points(tmp_path):
    """An eager-only program compiles no kernel: the warning came from nowhere, and every
    import compiled the ~1000 entry points again (their cache under the same folder)."""
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    tmp = tmp_path / "tmp"
    private = tmp / f"gpujit-{os.getuid()}"
    cache_seed.warm(private, numba_helpers=False)       # (this user's private fallback)
    private.chmod(0o700)
    env = dict(os.environ, GPUJIT_CACHE_DIR=str(blocked), TMPDIR=str(tmp))
    code = ("import warnings; warnings.simplefilter('always');"
            "import gpujit; from gpujit.ops import codecache;"
            "print(codecache._state['compiled'], float(gpujit.ones(3).sum()))")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "3.0"], r.stdout          # (read from the fallback)
    assert r.stderr.count("UserWarning") == 1 and str(blocked) in r.stderr, r.stderr


def test_the_default_folder_falls_back_without_a_warning(tmp_path, monkeypatch, fresh_fallback):
    """Nobody asked for ~/.cache/gpujit: a read-only home only caches elsewhere."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".cache").write_text("")
    monkeypatch.delenv("GPUJIT_CACHE_DIR")
    monkeypatch.setenv("HOME", str(home))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fresh_fallback in cachedir.cache_dir().parents


class _ReadOnly:
    """Every write under `root` fails as on a read-only mount (EROFS); reads work. (Tests
    run as root in CI's containers, where chmod stops nothing.)"""

    def __init__(self, root, monkeypatch):
        self.root = os.path.realpath(root)
        self.denied = 0
        real_open, real_os_open = builtins.open, os.open

        def under(p):
            try:
                return os.path.realpath(os.fspath(p)).startswith(self.root + os.sep)
            except TypeError:
                return False                    # (a file descriptor)

        def deny(p):
            self.denied += 1
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(p))

        def open_(file, mode="r", *a, **kw):
            if any(c in mode for c in "wax+") and under(file):
                deny(file)
            return real_open(file, mode, *a, **kw)

        def os_open(path, flags, *a, **kw):
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and under(path):
                deny(path)
            return real_os_open(path, flags, *a, **kw)

        def guard(real):
            def f(p, *a, **kw):
                if under(p):
                    deny(p)
                return real(p, *a, **kw)
            return f

        def mkdir(p, *a, **kw):
            if under(p) and not os.path.isdir(p):
                deny(p)
            if under(p):
                raise FileExistsError(errno.EEXIST, "exists", os.fspath(p))
            return real_mkdir(p, *a, **kw)
        real_mkdir, real_access = os.mkdir, os.access

        def access(p, mode, *a, **kw):
            if mode & os.W_OK and under(os.path.join(p, "x")):
                return False
            return real_access(p, mode, *a, **kw)
        monkeypatch.setattr(os, "access", access)
        monkeypatch.setattr(builtins, "open", open_)
        monkeypatch.setattr(io, "open", open_)
        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(os, "mkdir", mkdir)
        for name in ("unlink", "remove", "replace", "rename", "rmdir"):
            monkeypatch.setattr(os, name, guard(getattr(os, name)))
        real_rmtree = shutil.rmtree

        def rmtree(p, ignore_errors=False, *a, **kw):
            if under(os.path.join(p, "x")):
                if ignore_errors:
                    return
                deny(p)
            return real_rmtree(p, ignore_errors, *a, **kw)
        monkeypatch.setattr(shutil, "rmtree", rmtree)


def test_a_read_only_cache_dir_is_read_and_not_written(tmp_path, monkeypatch, fresh_fallback):
    root = tmp_path / "shared cache"           # (a space in the path too)
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(root))
    K.clear_cache()
    g, g2 = _graph(0.91), _graph(1.93)
    K.build(K.spec_for(g, (X,), static=True), "cpu")          # the pre-warmed entry
    entries = sorted(os.listdir(root / "kernels" / "cpu"))
    ro = _ReadOnly(root, monkeypatch)
    K.clear_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cachedir.cache_dir() == root / "kernels"        # not a /tmp fallback
        k = K.build(K.spec_for(g, (X,), static=True), "cpu")
        assert K.cache_info() == K.CacheInfo(hits=0, misses=1, compiles=0, disk_hits=1)
        k2 = K.build(K.spec_for(g2, (X,), static=True), "cpu")  # compiled, not written
    assert K.cache_info()[:] == (0, 2, 1, 1)
    assert ro.denied and sorted(os.listdir(root / "kernels" / "cpu")) == entries
    assert_same(k(X)[0], reference(g, (X,))[0])
    assert_same(k2(X)[0], reference(g2, (X,))[0])
    # the new kernel went to this user's private folder, read after the shared one
    shadowed = list(fresh_fallback.rglob("*.json"))
    assert [p.name for p in shadowed] == [k2.extra["cache_file"].name]
    K.clear_cache()
    K.build(K.spec_for(g2, (X,), static=True), "cpu")
    K.build(K.spec_for(g, (X,), static=True), "cpu")
    assert K.cache_info()[:] == (0, 2, 0, 2)
    K.clear_cache(disk=True)                # (the shared folder stays: it is read-only)
    assert not list(fresh_fallback.rglob("*.json"))
    assert sorted(os.listdir(root / "kernels" / "cpu")) == entries


_HELPER = '''
from gpujit.ops.numba_helpers import njit


def total(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * 5.0 - 2.0
    return s


total_j = njit(total)
'''


def test_numba_helpers_load_from_a_read_only_cache(tmp_path, monkeypatch):
    """numba gave a helper no cache at all where its folder was not writable (it tries a
    temporary file there first): a pre-warmed read-only cache was compiled again."""
    from helper_module_loader import helper_module_loader
    load = helper_module_loader(tmp_path, monkeypatch, "b58_helpers", _HELPER)
    a = np.linspace(-1.0, 2.0, 7)
    want = float(np.sum(a * 5.0 - 2.0))
    assert load().total_j(a) == pytest.approx(want)
    folder = numba_helpers.numba_cache_dir()
    files = sorted(p.name for p in folder.rglob("*") if p.is_file())
    assert any(n.endswith(".nbc") for n in files)
    _ReadOnly(tmp_path / "cache", monkeypatch)
    fn = load().total_j
    assert fn(a) == pytest.approx(want)
    assert fn.stats.cache_hits and not fn.stats.cache_misses, fn.stats
    # a signature not in the cache: compiled in memory, saving it fails quietly
    assert fn(a.astype(np.float32)) == pytest.approx(want, rel=1e-6)
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == files


def test_a_relative_cache_dir_stays_where_it_was_named(tmp_path, monkeypatch):
    """A relative GPUJIT_CACHE_DIR is the folder under the current one when read: the
    kernels' and numba's entries then do not depend on a later os.chdir."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GPUJIT_CACHE_DIR", "rel cache")
    got = cachedir.cache_dir()
    assert got == tmp_path / "rel cache" / "kernels" and got.is_absolute()


@pytest.mark.skipif(shutil.which("unshare") is None or sys.platform != "linux",
                    reason="needs unshare(1) for a real read-only mount")
def test_a_real_read_only_mount(tmp_path, monkeypatch):
    """The same as above on a real read-only bind mount, in a fresh process (where this
    machine lets a test make one: root, or user namespaces)."""
    probe = subprocess.run(["unshare", "-m", "-r", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no mount namespace here")
    root = tmp_path / "ro"
    cache_seed.warm(root)
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(root))
    K.clear_cache()
    g = _graph(0.77)
    want = float(K.build(K.spec_for(g, (X,), static=True), "cpu")(X)[0].sum())
    listing = sorted(os.listdir(root / "kernels" / "cpu"))
    code = ("import sys, numpy as np, warnings; warnings.simplefilter('error', UserWarning);"
            f"sys.path.insert(0, {os.path.dirname(__file__)!r});"
            "from gpujit import kernels as K; from test_cache_dir_b58 import _graph, X\n"
            "for c in (0.77, 0.78):\n"
            "    before = K.cache_info()\n"
            "    k = K.build(K.spec_for(_graph(c), (X,), static=True), 'cpu')\n"
            "    print(tuple(a - b for a, b in zip(K.cache_info(), before)), float(k(X)[0].sum()))")
    sh = f'mount --bind "$D" "$D" && mount -o remount,bind,ro "$D" && {sys.executable} -c "$CODE"'
    tmp = tmp_path / "tmp"                 # (the process's private fallback folder)
    tmp.mkdir()
    r = subprocess.run(["unshare", "-m", "-r", "sh", "-c", sh], capture_output=True, text=True,
                       env=dict(os.environ, D=str(root), CODE=code, TMPDIR=str(tmp)))
    if r.returncode != 0 and "mount" in r.stderr and "Traceback" not in r.stderr:
        pytest.skip(f"cannot mount read-only here: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr
    hit, miss = r.stdout.strip().splitlines()
    assert hit.startswith("(0, 1, 0, 1)") and float(hit.split(")")[1]) == want
    assert miss.startswith("(0, 1, 1, 0)")
    assert sorted(os.listdir(root / "kernels" / "cpu")) == listing
    assert len(list(tmp.rglob("kernels/cpu/*.json"))) == 1     # (written beside it)


def test_a_full_disk_leaves_no_partial_entry(tmp_path, monkeypatch):
    """ENOSPC in the middle of writing an entry: the kernel still builds and runs, and no
    temporary file is left in the cache folder (a killed or failed write's leftovers were
    never cleaned)."""
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    real_fdopen = os.fdopen

    class Full(io.RawIOBase):
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[:10])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def close(self):
            self.f.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **kw: Full(real_fdopen(fd, *a, **kw)))
    K.clear_cache()
    g = _graph(1.37)
    k = K.build(K.spec_for(g, (X,), static=True), "cpu")
    assert_same(k(X)[0], reference(g, (X,))[0])
    assert k.extra["cache_file"] is None                    # (it was not stored)
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and "kernels" in p.parts]
