"""torch.cuda.nvtx: NVTX ranges and marks for profilers (Nsight Systems), through CuPy's
NVTX bindings. Where those are missing (no GPU, or CuPy without NVTX) they do nothing but
keep the range depth, as a CUDA build of PyTorch on a machine without a GPU does. (A
CPU-only build of PyTorch raises RuntimeError("NVTX functions not installed") instead.)"""
from __future__ import annotations

import contextlib
import itertools
import threading

from ..device import cupy_or_none

__all__ = ["range_push", "range_pop", "range_start", "range_end", "mark", "range"]

_nvtx = []          # [cupy.cuda.nvtx or None], looked up once


def _lib():
    if not _nvtx:
        lib = None
        cp = cupy_or_none()
        if cp is not None:
            try:
                import importlib
                lib = importlib.import_module("cupy.cuda.nvtx")
                if not getattr(lib, "available", True):
                    lib = None
            except ImportError:
                lib = None
        _nvtx.append(lib)
    return _nvtx[0]


class _Depth(threading.local):
    n = 0


_depth = _Depth()
_ids = itertools.count(1)
_open: dict = {}        # range_start id -> its message (ranges that may cross threads)


def range_push(msg: str) -> int:
    """Push a range named msg; returns its zero-based depth."""
    lib = _lib()
    if lib is not None:
        lib.RangePush(str(msg))
    _depth.n += 1
    return _depth.n - 1


def range_pop() -> int:
    """Pop the innermost range; returns the depth of the range that ended (-1: none)."""
    if _depth.n == 0:
        return -1
    lib = _lib()
    if lib is not None:
        lib.RangePop()
    _depth.n -= 1
    return _depth.n


def range_start(msg) -> int:
    """Start a range that may end on another thread; returns its id for range_end.
    (CuPy binds only NVTX's per-thread push/pop ranges: these keep the ids, and no range
    shows in a profile.)"""
    rid = next(_ids)
    _open[rid] = str(msg)
    return rid


def range_end(range_id) -> None:
    _open.pop(range_id, None)


def mark(msg) -> None:
    """An instantaneous event named msg."""
    lib = _lib()
    if lib is not None:
        lib.Mark(str(msg))


@contextlib.contextmanager
def range(msg, *args, **kwargs):
    """`with nvtx.range("step {}", i):` a range around the block (msg.format(*args,
    **kwargs))."""
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
