"""torch.multiprocessing: Python's multiprocessing, with tensors that share memory across
processes (CPU tensors after share_memory_ / Module.share_memory: see reductions.py and
gpujit/_shared_memory.py), the sharing-strategy settings, and spawn / start_processes.

One difference from PyTorch: a tensor that is not in shared memory is sent as a copy (PyTorch
moves it into shared memory as it sends it); call share_memory_() first to share it.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal as _signal
import sys

from .reductions import init_reductions

globals().update({_n: getattr(multiprocessing, _n) for _n in multiprocessing.__all__})

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies",
           "spawn", "start_processes", "ProcessContext", "ProcessRaisedException",
           "ProcessExitedException", "SpawnContext"]
__all__ += multiprocessing.__all__

_strategies = {"file_descriptor", "file_system"}
_strategy = ["file_descriptor"]


def set_sharing_strategy(new_strategy):
    """PyTorch's choice of how shared CPU memory is handed over (gpujit's blocks are named
    POSIX shared memory either way)."""
    if new_strategy not in _strategies:
        raise AssertionError(f"{new_strategy!r} is not a sharing strategy: one of "
                             f"{sorted(_strategies)}")
    _strategy[0] = new_strategy


def get_sharing_strategy():
    return _strategy[0]


def get_all_sharing_strategies():
    return set(_strategies)


class ProcessException(Exception):
    __slots__ = ["error_index", "error_pid"]

    def __init__(self, msg: str, error_index: int, pid: int):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A process of spawn() raised: the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A process of spawn() ended by a signal or a non-zero exit code."""
    __slots__ = ["exit_code", "signal_name"]

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self):
        return (type(self), (self.msg, self.error_index, self.pid, self.exit_code,
                             self.signal_name))


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        import traceback
        error_queue.put(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The processes spawn() started; join() waits for them (see torch's)."""

    def __init__(self, processes, error_queues):
        self.error_queues = error_queues
        self.processes = processes
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self):
        return [int(p.pid) for p in self.processes]

    def join(self, timeout=None):
        """True when every process has ended well; raises when one failed (after ending
        the others), False while some still run (when timeout elapsed)."""
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(self.sentinels.keys(), timeout=timeout)
        error_index = None
        for s in ready:
            i = self.sentinels.pop(s)
            p = self.processes[i]
            p.join()
            if p.exitcode != 0:
                error_index = i
                break
        if error_index is None:
            return not self.sentinels
        for p in self.processes:
            if p.is_alive():
                p.terminate()
            p.join()
        failed = self.processes[error_index]
        if self.error_queues[error_index].empty():
            code = failed.exitcode
            if code < 0:
                name = _signal.Signals(-code).name
                raise ProcessExitedException(
                    f"process {error_index} terminated with signal {name}",
                    error_index, failed.pid, code, name)
            raise ProcessExitedException(
                f"process {error_index} terminated with exit code {code}",
                error_index, failed.pid, code)
        tb = self.error_queues[error_index].get()
        msg = f"\n\n-- Process {error_index} terminated with the following error:\n" + tb
        raise ProcessRaisedException(msg, error_index, failed.pid)


SpawnContext = ProcessContext


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Run fn(i, *args) in nprocs processes (i = 0 .. nprocs-1); with join, wait for them
    and raise a ProcessRaisedException / ProcessExitedException if one fails."""
    ctx = multiprocessing.get_context(start_method)
    error_queues, processes = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_wrap, args=(fn, i, args, q), daemon=daemon)
        p.start()
        error_queues.append(q)
        processes.append(p)
    context = ProcessContext(processes, error_queues)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """torch.multiprocessing.spawn: start_processes with the 'spawn' start method."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)


init_reductions()
