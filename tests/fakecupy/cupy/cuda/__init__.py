"""Fake cupy.cuda: one (FAKECUPY_NDEV) device, compute capability 9.0."""
from __future__ import annotations

import contextlib as _contextlib
import itertools as _it
import threading as _threading
import time as _time

from .. import _State, _ndev, MemoryPointer  # noqa: F401
from . import runtime, function, curand, driver  # noqa: F401
from .function import Module, Function  # noqa: F401


class CUDARuntimeError(RuntimeError):
    pass


class Device:
    def __init__(self, device=None):
        if device is None:
            device = _State.current
        self.id = int(device)
        self._prev = []

    def _check(self):
        if not 0 <= self.id < _ndev():
            raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")

    def __int__(self):
        return self.id

    def __enter__(self):
        self._check()
        self._prev.append(_State.current)
        _State.current = self.id
        return self

    def __exit__(self, *exc):
        _State.current = self._prev.pop()
        return False

    def use(self):
        self._check()
        _State.current = self.id

    def synchronize(self):
        self._check()

    @property
    def compute_capability(self):
        self._check()
        from .._emulate import install_hooks
        install_hooks()
        return "90"

    @property
    def attributes(self):
        self._check()
        import os
        return {"MultiProcessorCount": int(os.environ.get("FAKECUPY_SM", "2")),
                "ComputeCapabilityMajor": 9, "ComputeCapabilityMinor": 0,
                "MaxThreadsPerBlock": 1024, "WarpSize": 32}

    @property
    def mem_info(self):
        return (140 << 30, 141 << 30)

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


_ptrs = _it.count(0x7f0000)


class Stream:
    null = None

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
        self.ptr = 0 if null else next(_ptrs)
        self._prev = []

    def synchronize(self):
        pass

    def wait_event(self, event):
        pass

    def record(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    @property
    def done(self):
        return True

    def use(self):
        _CUR.stream = self
        return self

    def __enter__(self):
        self._prev.append(_CUR.stream)
        _CUR.stream = self
        return self

    def __exit__(self, *exc):
        _CUR.stream = self._prev.pop()


Stream.null = Stream(null=True)
class _CurrentStream(_threading.local):
    """CuPy's current stream, per thread."""
    stream = Stream.null


_CUR = _CurrentStream()


def get_current_stream(device_id=None):
    return _CUR.stream


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.ptr = next(_ptrs)
        self.disable_timing = disable_timing
        self._t = None

    def record(self, stream=None):
        self._t = _time.perf_counter()

    def synchronize(self):
        pass

    @property
    def done(self):
        return True


def get_elapsed_time(start, end):
    if start.disable_timing or end.disable_timing:
        raise CUDARuntimeError("cudaErrorInvalidResourceHandle")
    return (end._t - start._t) * 1000.0


def is_available():
    return True


@_contextlib.contextmanager
def using_allocator(allocator=None):
    yield
