"""The kernel cache: in memory (two levels: the group's structure, then the input specs)
and on disk (under $GPUJIT_CACHE_DIR or ~/.cache/gpujit).

Thread safety: one global lock guards the dictionaries and counters and is never held
while compiling. Building a missing kernel takes a lock of its own key, so 8 threads that
ask for the same new kernel compile it once (the other 7 wait for that key and then hit),
while kernels of other keys compile concurrently (numba serializes its compiler with its
own lock; no thread holds one of ours while waiting for it on another key's behalf).

On disk, every entry carries a checksum: CPU entries (object code, kernels/native.py) and
PTX entries are JSON that stores the SHA-256 of its content, named by a hash of the kernel
source and what the code depends on. A corrupt or truncated
entry is removed and compiled again. Files are written to a temporary name and renamed,
so a reader never sees half a file; a write that fails (read-only or full disk) is skipped.
A read-only cache folder (a shared, pre-warmed one) is read; entries compiled beside it go
to a private folder of this user, read after it (gpujit.cachedir.shadow).
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shutil
import tempfile
import threading
import weakref
from collections import namedtuple
from pathlib import Path

from gpujit.cachedir import cache_dir, shadow

__all__ = ["CacheInfo", "cache_info", "clear_cache", "register_maker", "cache_dir", "lookup_or_build", "count",
           "atomic_write", "sha256", "key_lock", "read_verified_json", "write_verified_json"]

class CacheInfo(namedtuple("CacheInfo", "hits misses compiles disk_hits")):
    """The four counters (a tuple of them: compared and unpacked as such), and
    `specializations`: each live compiled function's kernels, as
    {function name: ['STATIC(1024)', 'DYNAMIC(*x*)', ...]} (a function with several
    fusion groups has an entry per group, named as the group; a second live function of
    the same name is listed as 'name#2', a third as 'name#3'...)."""

    def __new__(cls, hits=0, misses=0, compiles=0, disk_hits=0, specializations=None):
        self = super().__new__(cls, hits, misses, compiles, disk_hits)
        self.specializations = dict(specializations or {})
        return self

    def __getitem__(self, key):     # also read as a dict: info["compiles"]
        if isinstance(key, str):
            if key == "specializations" or key in self._fields:
                return getattr(self, key)
            raise KeyError(key)
        return super().__getitem__(key)

    def keys(self):                    # dict(info) has the four counters and the kernels
        return (*self._fields, "specializations")

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __repr__(self):
        return (f"CacheInfo(hits={self.hits}, misses={self.misses}, compiles={self.compiles}, "
                f"disk_hits={self.disk_hits}, specializations={self.specializations})")


_lock = threading.Lock()
_memory: dict = {}          # structure key -> {spec key -> Kernel}
_counts = {"hits": 0, "misses": 0, "compiles": 0, "disk_hits": 0}
# Calls a kernel already built serves count as hits too: a fusion group's dispatcher calls
# call_hit() when a specialization's guard passes (itertools.count: atomic, ~25 ns).
_CALLS = itertools.count()
call_hit = _CALLS.__next__
_calls_base = 0


def _calls_now() -> int:
    return int(repr(_CALLS)[len("count("):-1])


# CPU objects this process has loaded, by their disk cache entry's path (its name is the
# sha of the kernel's text): kernels of different specs often have one text (a STATIC
# (2,) and (4, 4) contiguous input: both flat loops over n elements), and the second
# reads, checks and links the entry again otherwise (~2 ms). Cleared with the memory
# cache and with the disk cache.
loaded_objects: dict = {}
# what made kernels: objects with `specialization_summary() -> (owner, name, part, [str, ...])`
# (owner: a hashable object standing for the compiled function, kept alive by the maker)
# (the fusion groups register themselves: kernels does not import the layer above it)
_makers = weakref.WeakSet()


def register_maker(obj):
    """Let cache_info() list obj's specializations while obj lives."""
    with _lock:
        _makers.add(obj)


def count(name, k=1):
    with _lock:
        _counts[name] += k


def cache_info() -> CacheInfo:
    """Hits (calls a kernel already built served, and `kernels.build`s found in memory),
    misses (builds not found in memory), kernels compiled (numba or NVVM ran) and kernels
    loaded from the disk cache, since the process started or `clear_cache()`."""
    with _lock:
        counts = dict(_counts)
        counts["hits"] += _calls_now() - _calls_base
        makers = list(_makers)
    # owner (one compiled function) -> (name, {part -> [str, ...]}), in the order made.
    # Two functions of one name (two `def f` in different modules or closures) are kept
    # apart: the first keeps its name, the others are listed as "f#2", "f#3", ...
    owners: dict = {}
    for m in sorted(makers, key=lambda m: m.serial):
        owner, name, part, kinds = m.specialization_summary()
        if kinds:
            entry = owners.setdefault(owner, (name, {}))
            entry[1].setdefault(part, []).extend(kinds)
    specs = {}
    seen: dict = {}         # name -> how many functions of that name so far
    for name, by_part in owners.values():
        k = seen[name] = seen.get(name, 0) + 1
        label = name if k == 1 else f"{name}#{k}"
        for part, kinds in by_part.items():
            specs[label if set(by_part) <= {0, None} else f"{label} group {part}"] = kinds
    return CacheInfo(**counts, specializations=specs)


def clear_cache(memory=True, disk=False):
    """Forget compiled kernels (and reset the counters) and/or delete the disk cache (the
    directory kernels are cached in now: cache_dir())."""
    with _lock:
        loaded_objects.clear()
    global _calls_base
    if memory:
        with _lock:
            _memory.clear()
            for k in _counts:
                _counts[k] = 0
            _calls_base = _calls_now()
    if disk:
        folder = cache_dir()
        other = shadow(folder)          # (what a read-only cache folder's shadow holds)
        shutil.rmtree(folder, ignore_errors=True)
        if other is not None:
            shutil.rmtree(other, ignore_errors=True)


def lookup_or_build(key1, key2, build):
    """The kernel under (key1, key2), built by `build()` once if missing (threads asking
    for it meanwhile wait on the key's lock, then find it in memory)."""
    with _lock:
        k = _memory.get(key1, {}).get(key2)
        if k is not None:
            _counts["hits"] += 1
            return k
    with key_lock((key1, key2)):
        with _lock:
            k = _memory.get(key1, {}).get(key2)
            if k is not None:
                _counts["hits"] += 1
                return k
            _counts["misses"] += 1
        k = build()
        with _lock:
            _memory.setdefault(key1, {})[key2] = k
        return k


_key_locks: dict = {}       # key -> [Lock, threads holding or waiting for it]


@contextlib.contextmanager
def key_lock(key):
    """Held by one thread at a time per key (a kernel text being compiled); the lock is
    forgotten once no thread holds or waits for it."""
    with _lock:
        entry = _key_locks.setdefault(key, [threading.Lock(), 0])
        entry[1] += 1
    try:
        with entry[0]:
            yield
    finally:
        with _lock:
            entry[1] -= 1
            if not entry[1]:
                _key_locks.pop(key, None)


# --------------------------------------------------------------------------------------
# disk helpers

def sha256(data) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_verified_json(path: Path, payload: dict) -> bool:
    """Store payload under path with its checksum; whether it was written. Best effort:
    a cache that cannot be written (a read-only or full file system, a directory in the
    way) only means compiling again in the next process, never a failed kernel."""
    body = json.dumps(payload, sort_keys=True)
    data = json.dumps({"sha256": _seal(path, body), "body": body})
    try:
        atomic_write(path, data)
    except OSError:
        # (a read-only cache folder: into its shadow, which read_verified_json reads too)
        other = shadow(path)
        try:
            if other is None:
                return False
            atomic_write(other, data)
        except OSError:
            return False
    return True


def _seal(path: Path, body: str) -> str:
    return sha256(path.name + "\n" + body)


def read_verified_json(path: Path):
    """The payload of a file written by write_verified_json, or None when it is missing,
    unreadable or does not match its checksum (then it is removed). The checksum covers
    the file's name, which is the entry's key: a valid entry of another kernel copied or
    renamed onto this name is refused too (loading it would run the wrong code). Under a
    read-only cache folder, an entry it lacks (or holds damaged) is read from its shadow,
    where write_verified_json put it (cachedir.shadow)."""
    got = _read_verified_json(path)
    if got is None:
        other = shadow(path)
        if other is not None:
            return _read_verified_json(other)
    return got


def _read_verified_json(path: Path):
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        outer = json.loads(raw)
        body = outer["body"]
        if not isinstance(body, str) or _seal(path, body) != outer["sha256"]:
            raise ValueError("checksum mismatch")
        return json.loads(body)
    except (ValueError, KeyError, TypeError, RecursionError):   # (RecursionError: "[[[[...")
        try:
            path.unlink()
        except OSError:
            pass
        return None
