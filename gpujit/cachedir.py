"""Where gpujit caches compiled code on disk: $GPUJIT_CACHE_DIR/kernels, or
~/.cache/gpujit/kernels, or (unwritable) a private directory of this user under the
system's temporary directory. A leaf of the package (the standard library only): the
kernel cache (kernels/cache.py) and the op registry's numba-compiled eager helpers
(ops/numba_helpers.py) both read it, so neither layer imports the other for it."""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "root_dir", "shadow"]


def root_dir() -> Path:
    """$GPUJIT_CACHE_DIR, or ~/.cache/gpujit: the folder of every gpujit disk cache. A
    leading ~ is the home folder (as TORCH_HOME's), not a folder named "~" in the current
    one: `ENV GPUJIT_CACHE_DIR=~/cache` in a Dockerfile, or set from Python, is not expanded
    by a shell. A relative path is made absolute against the current folder when read (a
    later os.chdir then neither moves the cache nor splits numba's entries from ours)."""
    return Path(os.path.abspath(os.path.expanduser(os.environ.get("GPUJIT_CACHE_DIR") or
                                                   os.path.join("~", ".cache", "gpujit"))))


def cache_dir() -> Path:
    """$GPUJIT_CACHE_DIR/kernels, or ~/.cache/gpujit/kernels. One that exists but cannot be
    written (a shared, pre-warmed cache mounted read-only) is still the cache: its entries
    are read; kernel entries compiled meanwhile go to its shadow (shadow(), read after it),
    numba helpers' are not written. One that cannot be made (a file in its place, a read-only parent) is
    replaced by a private directory of this user under the system's temporary directory
    (see _private_fallback), with a warning where GPUJIT_CACHE_DIR named it."""
    path = root_dir() / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        error = e
    else:
        if os.access(path, os.R_OK | os.X_OK):
            _read_only[:] = [] if os.access(path, os.W_OK) else [path]
            return path
        error = None
    _read_only[:] = []
    fallback = _private_fallback()
    _warn_fallback(path, fallback, error)
    return fallback


_warned: set = set()
_read_only: list = []       # [cache_dir()] while it is read-only, else []


def shadow(path: Path):
    """Where an entry `path` under a read-only cache_dir() is written instead (and looked
    for when that folder lacks it): its place under the private fallback directory, so
    kernels compiled beside a read-only, pre-warmed cache still persist. None when the
    cache folder is writable or path is not in it."""
    ro = _read_only[:1]
    if not ro:
        return None
    try:
        rel = Path(path).relative_to(ro[0])
    except ValueError:
        return None
    return _private_fallback() / rel


def _warn_fallback(path: Path, fallback: Path, error) -> None:
    """A UserWarning, once per path, that the cache GPUJIT_CACHE_DIR asked for is not used
    (silently caching elsewhere left a user's pre-warmed or shared cache unused unseen);
    none for the default folder (nobody asked for it)."""
    if not os.environ.get("GPUJIT_CACHE_DIR") or str(path) in _warned:
        return
    _warned.add(str(path))
    import warnings
    why = f" ({error.strerror or error})" if isinstance(error, OSError) else " (not readable)"
    warnings.warn(f"GPUJIT_CACHE_DIR={os.environ['GPUJIT_CACHE_DIR']!r}: cannot use {path} as "
                  f"gpujit's kernel cache{why}; caching compiled kernels in {fallback} instead",
                  UserWarning, stacklevel=2)


_fallback: list = []


def _private_fallback() -> Path:
    """<tmp>/gpujit-<uid>/kernels when this user owns <tmp>/gpujit-<uid> and nobody else
    may write to it, else a new private directory for this process. The cache holds
    machine code this process loads and runs: a folder another user created (or can write
    to) in a shared /tmp must not be trusted."""
    if _fallback:
        return _fallback[0]
    uid = os.getuid() if hasattr(os, "getuid") else None
    base = Path(tempfile.gettempdir()) / f"gpujit-{uid if uid is not None else 'user'}"
    path = None
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(base)
        if stat.S_ISDIR(st.st_mode) and (uid is None or st.st_uid == uid) and \
                not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            path = base / "kernels"
            path.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        path = None
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="gpujit-")) / "kernels"
    _fallback.append(path)
    return path
