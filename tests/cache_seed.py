"""Fresh gpujit cache folders for the tests' subprocesses, seeded with what this test
session already compiled that the test does not check.

A test that runs gpujit in a fresh process against an empty cache folder
(GPUJIT_CACHE_DIR=<tmp>) used to pay, in every such process, the whole cold start:
compiling the registry's ~3000 generated entry points (~2.5 s of CI time; ops/codecache.py)
and gpujit's numba-compiled eager helpers on first use (the special functions' ufuncs,
~0.7 s each; ops/numba_helpers.py). `warm(folder)` copies those two caches from the
session's own cache folder (tests/conftest.py records it in GPUJIT_TESTS_SEED_CACHE when
it is first imported) into the fresh one; the kernel cache the tests check (kernels/cpu,
kernels/cuda, ...) stays empty. Tests of the entry-point cache or of the numba helpers'
cache itself do not seed them.
"""
from __future__ import annotations

import os
import shutil

SEED_ENV = "GPUJIT_TESTS_SEED_CACHE"
# a subprocess's own fresh cache folder, for test_kernels.session_cache_dir to use instead
# of a new one (test_fake_gpu's session: it gives that folder's numba helpers on)
KERNEL_CACHE_ENV = "GPUJIT_TESTS_KERNEL_CACHE"


def _numba_subdirs():
    """The folders (under kernels/numba) of gpujit's numba helpers of this checkout, and
    `generated` (the CPU kernels' njit primitives: kernels/targets._cache_helper; their
    entries are stamped with their text and gpujit's version)."""
    import gpujit.ops
    try:
        from numba.core.caching import _CacheLocator
    except ImportError:
        return []
    return [_CacheLocator.get_suitable_cache_subpath(gpujit.ops.__file__), "generated"]


def warm(folder, entry_points=True, numba_helpers=True):
    """Seed gpujit cache folder `folder` (made when missing) from the session's cache folder;
    returns str(folder). Copies are best effort (a file being replaced by another process
    is skipped: each cache treats a missing or partial entry as a miss)."""
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    src = os.environ.get(SEED_ENV)
    if not src or not os.path.isdir(src) or os.path.realpath(src) == os.path.realpath(folder):
        return folder
    if entry_points:
        have = os.path.join(src, "entrypoints")
        names = os.listdir(have) if os.path.isdir(have) else []
        for name in names:
            if name.endswith(".marshal"):
                os.makedirs(os.path.join(folder, "entrypoints"), exist_ok=True)
                try:
                    shutil.copyfile(os.path.join(have, name),
                                    os.path.join(folder, "entrypoints", name))
                except OSError:
                    pass
    if numba_helpers:
        for sub in _numba_subdirs():
            have = os.path.join(src, "kernels", "numba", sub)
            if os.path.isdir(have):
                try:
                    shutil.copytree(have, os.path.join(folder, "kernels", "numba", sub),
                                    ignore=shutil.ignore_patterns("*.tmp*"),
                                    dirs_exist_ok=True)
                except (OSError, shutil.Error):
                    pass
    return folder
