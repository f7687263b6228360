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

__all__ = ["cache_dir", "root_dir"]


def root_dir() -> Path:
    """$GPUJIT_CACHE_DIR, or ~/.cache/gpujit: the folder of every gpujit disk cache. A
    leading ~ is the home folder (as TORCH_HOME's), not a folder named "~" in the current
    one: `ENV GPUJIT_CACHE_DIR=~/cache` in a Dockerfile, or set from Python, is not expanded
    by a shell."""
    return Path(os.path.expanduser(os.environ.get("GPUJIT_CACHE_DIR") or os.path.join(
        "~", ".cache", "gpujit")))


def cache_dir() -> Path:
    """$GPUJIT_CACHE_DIR/kernels, or ~/.cache/gpujit/kernels; when that cannot be written
    (a read-only home), a private directory of this user under the system's temporary
    directory (see _private_fallback)."""
    path = root_dir() / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    return _private_fallback()


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
