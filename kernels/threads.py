"""Parallel CPU launches: a kernel's index range cut into chunks run on several threads.

CPU kernels are called through ctypes, which releases the GIL for the call, so chunks run
in parallel on ordinary Python threads. Waking a sleeping thread takes tens of µs (~30 µs
on a 2-core VM), so an idle worker first spins for ~0.25 ms in native code, without the
GIL, watching a counter of posted launches, and a launch is cut into more chunks than
threads: the caller starts on them at once, workers take chunks as they come, and a
launch that ends before a worker wakes costs the caller nothing more. Launches below
kernels/emit.py PARALLEL_MIN elements run on the caller alone.

`set_num_threads` / `get_num_threads` (also `gpujit.set_num_threads`, as
`torch.set_num_threads`; or GPUJIT_NUM_THREADS) choose how many threads; the default is
the number of CPUs this process may run on.
"""
from __future__ import annotations

import ctypes
import itertools
import os
import queue
import threading

__all__ = ["get_num_threads", "set_num_threads", "run_chunks"]

_ALIGN = 64           # chunk boundaries at multiples of this many elements (cache lines)
_MIN_CHUNK = 1 << 13  # elements: smaller chunks cost more to hand out than they save


def _default_threads():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _env_threads():
    value = os.environ.get("GPUJIT_NUM_THREADS", "")
    try:
        return max(0, int(value)) if value else 0
    except ValueError:
        import warnings
        warnings.warn(f"GPUJIT_NUM_THREADS={value!r} is not an int; using the CPU count")
        return 0


_threads = _env_threads() or _default_threads()
_jobs = None                  # queue.SimpleQueue the workers wait on
_posted = ctypes.c_int64(0)   # counts posted launches: idle workers spin on it for a while
_SPIN = 1_000_000             # reads (~0.25 ms) a worker spins before it sleeps
_workers = 0
_pool_lock = threading.Lock()


def get_num_threads() -> int:
    """The number of threads a CPU kernel launch may use."""
    return _threads


def set_num_threads(n: int) -> None:
    """Use at most n threads per CPU kernel launch (n >= 1)."""
    global _threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive int, got {n!r}")
    _threads = n


def _forget_workers():         # a forked child has none of the parent's threads
    global _jobs, _workers
    _jobs, _workers = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def _worker(jobs):
    from . import native
    spin, posted = native.spin_function(), ctypes.addressof(_posted)
    while True:
        seen = _posted.value
        try:
            job = jobs.get_nowait()
        except queue.Empty:
            spin(posted, seen, _SPIN)     # the next job, seen within a µs (GIL released)
            try:
                job = jobs.get_nowait()
            except queue.Empty:
                job = jobs.get()          # asleep until a job comes
        job.work()


def _queue(workers):
    """The job queue, with at least `workers` threads waiting on it, and the spin wait."""
    global _jobs, _workers
    from . import native
    spin = native.spin_function()
    with _pool_lock:
        if _jobs is None:
            _jobs = queue.SimpleQueue()
        while _workers < workers:
            threading.Thread(target=_worker, args=(_jobs,), name=f"gpujit-cpu-{_workers}",
                             daemon=True).start()
            _workers += 1
        return _jobs, spin


class _Job:
    """One launch's chunks. Threads take chunks until none is left (next() on a count is
    atomic), so the caller starts at once and a worker that wakes late only takes what
    remains; the thread that ends the last chunk sets `finished` (which the caller spins
    on for a while) and releases `lock` (on which it then sleeps)."""

    def __init__(self, fn, bounds, args):
        self.fn, self.bounds, self.args = fn, bounds, args
        self.take, self.ended = itertools.count(), itertools.count()
        self.results = [0] * len(bounds)
        self.error = None
        self.finished = ctypes.c_int64(0)
        self.lock = threading.Lock()
        self.lock.acquire()

    def work(self):
        fn, bounds, args, results = self.fn, self.bounds, self.args, self.results
        last = len(bounds) - 1
        for k in self.take:
            if k > last:
                return
            try:
                results[k] = fn(*bounds[k], *args)
            except BaseException as e:          # the caller re-raises it
                self.error = e
            if next(self.ended) == last:
                self.finished.value = 1
                self.lock.release()

    def wait(self, spin):
        if not self.finished.value:
            spin(ctypes.addressof(self.finished), 0, _SPIN)
            if not self.finished.value:
                self.lock.acquire()


def run_chunks(fn, n, *args):
    """fn(start, stop, *args) over [0, n) in chunks on up to get_num_threads() threads;
    the sum of what the calls return."""
    t = min(_threads, max(1, n // _MIN_CHUNK))
    if t <= 1:
        return fn(0, n, *args)
    pieces = min(8 * t, n // _MIN_CHUNK)
    step = -(-n // pieces)
    step = -(-step // _ALIGN) * _ALIGN
    job = _Job(fn, [(lo, min(lo + step, n)) for lo in range(0, n, step)], args)
    jobs, spin = _queue(t - 1)
    for _ in range(t - 1):
        jobs.put(job)
    _posted.value += 1                # wakes spinning workers (a lost update only delays)
    job.work()
    job.wait(spin)
    if job.error is not None:
        raise job.error
    return sum(job.results)
