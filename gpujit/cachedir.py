"""Where gpujit caches compiled code on disk: $GPUJIT_CACHE_DIR/kernels (and /entrypoints),
or ~/.cache/gpujit/..., or (unusable) a private directory of this user under the system's
temporary directory. A leaf of the package (the standard library only): the kernel cache
(kernels/cache.py), the op registry's numba-compiled eager helpers (ops/numba_helpers.py)
and its entry points' code cache (ops/codecache.py) read it, so no layer imports another
for it."""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "folder", "root_dir", "shadow"]


def root_dir() -> Path:
    """$GPUJIT_CACHE_DIR, or ~/.cache/gpujit: the folder of every gpujit disk cache. A
    leading ~ is the home folder (as TORCH_HOME's), not a folder named "~" in the current
    one: `ENV GPUJIT_CACHE_DIR=~/cache` in a Dockerfile, or set from Python, is not expanded
    by a shell. A relative path is made absolute against the current folder when read (a
    later os.chdir then neither moves the cache nor splits numba's entries from ours)."""
    return Path(os.path.abspath(os.path.expanduser(os.environ.get("GPUJIT_CACHE_DIR") or
                                                   os.path.join("~", ".cache", "gpujit"))))


def cache_dir() -> Path:
    """$GPUJIT_CACHE_DIR/kernels, or ~/.cache/gpujit/kernels (see folder()). One that exists
    but cannot be written (a shared, pre-warmed cache mounted read-only) is still the cache:
    its entries are read; kernel entries compiled meanwhile go to its shadow (shadow(), read
    after it), numba helpers' are not written."""
    path, writable = _folder("kernels")
    _read_only[:] = [] if writable else [path]
    return path


def folder(name: str) -> Path:
    """root_dir()/name (made when missing): one of gpujit's disk caches; when it cannot be
    made or read (a file in its place, a read-only parent), `name` under a private
    directory of this user in the system's temporary directory (see _private_fallback),
    with a warning where GPUJIT_CACHE_DIR named the folder."""
    return _folder(name)[0]


def _folder(name):
    """(the folder, whether it can be written)"""
    path = root_dir() / name
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        error = e
    else:
        if os.access(path, os.R_OK | os.X_OK):
            return path, os.access(path, os.W_OK)
        error = None
    fallback = _private_fallback(name)
    _warn_fallback(path, fallback, error)
    return fallback, True


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
    """A UserWarning, once per value, that the cache GPUJIT_CACHE_DIR asked for is not used
    (silently caching elsewhere left a user's pre-warmed or shared cache unused unseen);
    none for the default folder (nobody asked for it)."""
    named = os.environ.get("GPUJIT_CACHE_DIR")
    if not named or named in _warned:
        return
    _warned.add(named)          # (once for all its folders: kernels, entrypoints...)
    import warnings
    why = f" ({error.strerror or error})" if isinstance(error, OSError) else " (not readable)"
    warnings.warn(f"GPUJIT_CACHE_DIR={named!r}: cannot use {path} as gpujit's cache{why}; "
                  f"caching compiled code in {fallback.parent} instead", UserWarning,
                  stacklevel=3)


_fallback: list = []


def _private_fallback(name: str = "kernels") -> Path:
    """<tmp>/gpujit-<uid>/<name> when this user owns <tmp>/gpujit-<uid> and nobody else
    may write to it, else a new private directory for this process. The cache holds
    machine code this process loads and runs: a folder another user created (or can write
    to) in a shared /tmp must not be trusted."""
    if not _fallback:
        uid = os.getuid() if hasattr(os, "getuid") else None
        base = Path(tempfile.gettempdir()) / f"gpujit-{uid if uid is not None else 'user'}"
        try:
            base.mkdir(mode=0o700, exist_ok=True)
            st = os.lstat(base)
            if not (stat.S_ISDIR(st.st_mode) and (uid is None or st.st_uid == uid) and
                    not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
                base = None
        except OSError:
            base = None
        _fallback.append(base if base is not None else Path(tempfile.mkdtemp(prefix="gpujit-")))
    path = _fallback[0] / name
    try:
        path.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        pass                    # (writing there fails and is skipped, as any cache write)
    return path
