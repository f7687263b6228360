"""Session 27 edges (e): the numba-compiled eager helpers (kthvalue's CPU quickselect, the
erf / erfc / lgamma ufuncs) cache their machine code under gpujit's cache directory
($GPUJIT_CACHE_DIR/kernels/numba), never in the package's __pycache__; a second fresh
process loads them from there."""
from __future__ import annotations

import os
import subprocess
import sys

from cache_seed import warm
import gpujit

_PKG_DIRS = [os.path.dirname(gpujit.__file__), os.path.dirname(gpujit.kernels.__file__),
             os.path.dirname(gpujit.fusers.__file__)]

_CODE = r"""
import sys
import gpujit as torch
assert "numba" not in sys.modules, "import gpujit imported numba"
x = torch.tensor([[3., 1., 2., 5.], [0., -1., 4., 4.]])
v, i = torch.kthvalue(x, 2, 1)
print(v.tolist(), i.tolist())
print([round(t, 6) for t in torch.erf(x).flatten().tolist()])
print([round(t, 6) for t in torch.special.erfc(x).flatten().tolist()])
print([round(t, 5) for t in torch.lgamma(x + 0.5).flatten().tolist()])
from gpujit.ops import reduction_extra as r
st = r._QSELECT[0].stats
print("HITS", sum(st.cache_hits.values()), "MISSES", sum(st.cache_misses.values()), st.cache_path)
"""


def _numba_files(dirs):
    out = {}
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in files:
                if f.endswith((".nbi", ".nbc")):
                    p = os.path.join(root, f)
                    out[p] = os.stat(p).st_mtime_ns
    return out


def _run(cache):
    env = dict(os.environ, GPUJIT_CACHE_DIR=warm(cache, numba_helpers=False))
    env.pop("NUMBA_CACHE_DIR", None)
    r = subprocess.run([sys.executable, "-c", _CODE], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()


def test_numba_helpers_cache_under_the_gpujit_cache_dir_not_the_package(tmp_path):
    before = _numba_files(_PKG_DIRS)
    first = _run(tmp_path)
    assert first[0] == "[2.0, 0.0] [2, 0]"                  # torch 2.13: values, indices
    assert first[1].startswith("[0.999978, 0.842701, 0.995322, 1.0, 0.0, -0.842701")
    hits, misses, path = first[-1].split()[1], first[-1].split()[3], first[-1].split()[4]
    assert (hits, misses) == ("0", "1")
    numba_dir = tmp_path / "kernels" / "numba"
    assert os.path.commonpath([path, str(numba_dir)]) == str(numba_dir)
    names = sorted(p.name for p in numba_dir.rglob("*.nbi"))
    assert any(n.startswith("reduction_extra._qselect_rows-") for n in names), names
    for f in ("special._erf_scalar", "special._erfc_scalar", "_sleef_lgamma._lgamma_f32_py"):
        assert any(n.startswith(f"{f}-") for n in names), names
    assert list(numba_dir.rglob("*.nbc"))
    # nothing written into the package (a file there from an older version is left alone)
    assert _numba_files(_PKG_DIRS) == before

    second = _run(tmp_path)                                   # a fresh process: loaded
    assert second[:-1] == first[:-1]
    assert second[-1].split()[1:4] == ["1", "MISSES", "0"]


def test_the_helpers_clear_with_the_disk_cache(tmp_path, monkeypatch):
    from gpujit.kernels import cache as kcache
    from gpujit.ops import numba_helpers as numba_cache
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    d = numba_cache.numba_cache_dir()
    assert d == kcache.cache_dir() / "numba"
    d.mkdir(parents=True, exist_ok=True)
    (d / "x.nbi").write_bytes(b"")
    kcache.clear_cache(memory=False, disk=True)
    assert not d.exists()
