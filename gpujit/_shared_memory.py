"""CPU tensors in shared memory, as torch.multiprocessing shares them.

`Tensor.share_memory_()` moves a CPU tensor's array into a named POSIX shared-memory block
(multiprocessing.shared_memory); a child process made by fork maps the same pages, and one
made by spawn (or any process the tensor reaches through a multiprocessing Queue / Pipe /
Process argument: ForkingPickler, registered in gpujit.multiprocessing.reductions) attaches
to the block by name, so that an in-place write in one process (an optimizer's step:
Hogwild training) is seen by the others, as with PyTorch's shared storages. The process
that made a block unlinks it when it exits; blocks stay mapped for as long as the process
lives (no reference counting across processes).
"""
from __future__ import annotations

import atexit
import os
import threading

import numpy as np

__all__ = ["share", "block_of", "attach"]

_lock = threading.Lock()
_blocks: dict = {}          # name -> (SharedMemory, first address, size)
_owned: list = []           # (name, pid) of the blocks made here: unlinked at exit


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def share(a: np.ndarray) -> np.ndarray:
    """A copy of array `a` (same shape, dtype and C or Fortran order) in a new shared block."""
    from multiprocessing import shared_memory
    shm = shared_memory.SharedMemory(create=True, size=max(a.nbytes, 1))
    order = "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"
    b = np.ndarray(a.shape, a.dtype, buffer=shm.buf, order=order)
    b[...] = a
    with _lock:
        _blocks[shm.name] = (shm, _address(b), shm.size)
        _owned.append((shm.name, os.getpid()))
    return b


def block_of(a: np.ndarray):
    """(name, byte offset of a's first element) when a lies in a shared block, else None."""
    if type(a) is not np.ndarray or not _blocks:
        return None
    start = _address(a)
    with _lock:
        for name, (_, first, size) in _blocks.items():
            if first <= start < first + size:
                return name, start - first
    return None


def attach(name: str, offset: int, shape, strides, dtype) -> np.ndarray:
    """The array at `offset` in block `name` (made by another process)."""
    from multiprocessing import shared_memory
    with _lock:
        known = _blocks.get(name)
    if known is None:
        # (Python < 3.13 registers the attached block with the resource tracker too: a
        # child's tracker is its parent's, whose set of names already holds it)
        shm = shared_memory.SharedMemory(name=name)
        with _lock:
            known = _blocks.setdefault(name, (shm, _address(np.frombuffer(shm.buf, np.uint8)),
                                              shm.size))
    shm = known[0]
    return np.ndarray(shape, dtype, buffer=shm.buf, offset=offset, strides=strides)


@atexit.register
def _unlink_owned():
    # (a block a forked child made, which leaves by os._exit, is unlinked by the
    # multiprocessing resource tracker when the main process ends)
    pid = os.getpid()
    for name, owner in _owned:
        if owner == pid:
            try:
                _blocks[name][0].unlink()
            except Exception:
                pass
