"""The numba-compiled eager helpers' disk cache (gpujit/ops/numba_helpers.py) under what a
user's cache folder may hold (session 57, helper a57): another function's valid index or
data file under this function's name, a directory where an entry is written."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from gpujit.ops import numba_helpers

_SRC = '''
from gpujit.ops.numba_helpers import njit


def total(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * 3.0 + 1.0
    return s


def other(a):
    s = 0.0
    for i in range(a.shape[0]):
        s -= a[i] * a[i]
    return s


total_j = njit(total)
other_j = njit(other)
'''

A = np.linspace(-1.0, 2.0, 11)
TOTAL, OTHER = float(np.sum(A * 3.0 + 1.0)), float(-np.sum(A * A))


@pytest.fixture
def helpers(tmp_path, monkeypatch):
    from helper_module_loader import helper_module_loader
    return helper_module_loader(tmp_path, monkeypatch, "a57_helpers", _SRC)


def _entry(func, suffix):
    (p,) = [p for p in numba_helpers.numba_cache_dir().rglob(f"*{suffix}")
            if f".{func}-" in p.name]
    return p


def test_another_functions_entry_under_this_name_is_a_miss(helpers):
    """A whole, sealed data file of `other` copied onto `total`'s: numba ran `other`'s
    code for `total` (a wrong value) before the seal covered the file name. (An index
    file of another function holds keys of that function's bytecode: numba's miss.)"""
    suffix = ".nbc"
    m = helpers()
    assert m.total_j(A) == pytest.approx(TOTAL) and m.other_j(A) == pytest.approx(OTHER)
    shutil.copyfile(_entry("other", suffix), _entry("total", suffix))
    fn = helpers().total_j
    assert fn(A) == pytest.approx(TOTAL)
    assert sum(fn.stats.cache_misses.values()) == 1
    fn = helpers().total_j                 # written again: loaded
    assert fn(A) == pytest.approx(TOTAL)
    assert sum(fn.stats.cache_hits.values()) == 1


@pytest.mark.parametrize("suffix", [".nbc", ".nbi"])
def test_a_directory_in_an_entrys_place_only_skips_the_disk(helpers, suffix):
    """numba's save raised IsADirectoryError out of the op that compiled the helper."""
    helpers().total_j(A)
    p = _entry("total", suffix)
    p.unlink()
    p.mkdir()
    for _ in range(2):
        fn = helpers().total_j
        assert fn(A) == pytest.approx(TOTAL)
    assert p.is_dir() and not [q for q in p.parent.iterdir() if ".tmp" in q.name]


def test_a_cache_folder_that_turned_into_a_file_only_skips_the_disk(helpers, tmp_path):
    """The helpers' folder removed (clear_cache(disk=True) in another process) and a file
    in its place: numba's ensure_cache_path raised NotADirectoryError out of the op that
    compiled a new signature of a helper."""
    m = helpers()
    m.total_j(A)
    folder = _entry("total", ".nbi").parent
    shutil.rmtree(folder)
    folder.write_text("not a folder")
    assert m.total_j(A.astype(np.float32)) == pytest.approx(TOTAL, rel=1e-6)
    assert m.other_j(A) == pytest.approx(OTHER)


_THREADS = r"""
import threading
import gpujit as torch
x = torch.linspace(0.1, 0.9, 50, dtype=torch.float64)
fs = [torch.erf, torch.lgamma, torch.digamma, torch.special.i0, lambda t: torch.softmax(t, 0),
      torch.erfc, torch.special.erfcx, torch.special.ndtri]
barrier, errors = threading.Barrier(8), []
def work(f):
    try:
        barrier.wait()
        f(x)
    except BaseException as e:
        errors.append(repr(e)[:200])
threads = [threading.Thread(target=work, args=(f,)) for f in fs]
for t in threads:
    t.start()
for t in threads:
    t.join()
import sys
print("ERRORS", errors)
sys.exit(1 if errors else 0)
"""


def test_threads_first_touching_numba_at_once(tmp_path):
    """8 threads of a fresh process calling eager ops whose helpers numba compiles (erf,
    lgamma, digamma, i0, softmax...) at once: each started numba's circular imports from a
    submodule, and 7 raised ImportError / _DeadlockError (numba is now imported whole
    first, the package import waiting for the thread initializing it)."""
    import os
    import subprocess
    import sys
    from cache_seed import warm
    env = dict(os.environ, GPUJIT_CACHE_DIR=warm(tmp_path / "c"))
    r = subprocess.run([sys.executable, "-W", "ignore", "-c", _THREADS], env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
