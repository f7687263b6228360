"""Fake cupy.cuda: one (FAKECUPY_NDEV) device, compute capability 9.0."""
from __future__ import annotations

import contextlib as _contextlib
import itertools as _it
import threading as _threading
import time as _time

from .. import _State, _ndev, MemoryPointer  # noqa: F401
from . import runtime, function, curand, driver, memory, nvtx  # noqa: F401
from .memory import set_allocator, get_allocator, alloc  # noqa: F401
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


class _BaseStream:
    """As CuPy's: `ptr`, `device_id` (-1 for Stream.null: the current device's), == by
    ptr; use()/`with` make it the current stream of its device, which must be current."""

    def __init__(self, ptr, device_id):
        self.ptr, self.device_id = ptr, device_id
        self._priority = 0

    def __eq__(self, other):
        return isinstance(other, _BaseStream) and self.ptr == other.ptr

    def __hash__(self):
        return self.ptr

    def __repr__(self):
        return f"<{type(self).__name__} {self.ptr} (device {self.device_id})>"

    def __cuda_stream__(self):
        return (0, self.ptr)

    def _match(self):
        cur = _State.current
        if self.device_id not in (-1, cur):
            raise RuntimeError(f"The device that the stream is created on ({self.device_id}) "
                               f"does not match with the current device ({cur})")
        return cur

    def synchronize(self):
        pass

    def wait_event(self, event):
        if not isinstance(event, Event):
            raise TypeError(f"fake cupy: wait_event takes a cupy.cuda.Event, not {type(event)}")

    def record(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    @property
    def done(self):
        return True

    @property
    def priority(self):
        return self._priority

    def use(self):
        _CUR.streams[self._match()] = self
        return self

    def __enter__(self):
        dev = self._match()
        _CUR.stack.append((dev, _CUR.streams.get(dev, Stream.null)))
        _CUR.streams[dev] = self
        return self

    def __exit__(self, *exc):
        dev, prev = _CUR.stack.pop()
        _CUR.streams[dev] = prev


class Stream(_BaseStream):
    null = None

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
        if null:
            super().__init__(0, -1)
        else:
            super().__init__(next(_ptrs), _State.current)
            # (CUDA clamps a priority to the device's range: 0 least, -5 greatest here)
            self._priority = min(max(int(priority or 0), -5), 0)

    @classmethod
    def from_external(cls, obj):
        version, ptr = obj.__cuda_stream__()
        s = cls.__new__(cls)
        _BaseStream.__init__(s, ptr, _State.current)
        s._foreign_stream_ref = obj
        return s


class ExternalStream(_BaseStream):
    def __init__(self, ptr, device_id=-1):
        import warnings
        warnings.warn("ExternalStream is deprecated. Use Stream.from_external() instead to "
                      "interoperate with external streams that implement the CUDA stream "
                      "protocol.", DeprecationWarning, stacklevel=2)
        super().__init__(ptr, device_id)


Stream.null = Stream(null=True)


class _CurrentStream(_threading.local):
    """CuPy's current stream, per thread and device."""

    def __init__(self):
        self.streams = {}
        self.stack = []


_CUR = _CurrentStream()


def get_current_stream(device_id=-1):
    if device_id is None:
        raise TypeError("an integer is required")
    return _CUR.streams.get(_State.current if device_id == -1 else device_id, Stream.null)


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.ptr = next(_ptrs)
        self.disable_timing = disable_timing
        self._t = None

    def record(self, stream=None):
        if stream is not None and not isinstance(stream, _BaseStream):
            raise TypeError(f"fake cupy: Event.record takes a cupy.cuda.Stream, not "
                            f"{type(stream)}")
        self._t = _time.perf_counter()

    def synchronize(self):
        pass

    @property
    def done(self):
        return True


def get_elapsed_time(start, end):
    if start._t is None or end._t is None:
        raise CUDARuntimeError("cudaErrorInvalidResourceHandle: invalid resource handle")
    if start.disable_timing or end.disable_timing:
        raise CUDARuntimeError("cudaErrorInvalidResourceHandle")
    return (end._t - start._t) * 1000.0


def is_available():
    return True


@_contextlib.contextmanager
def using_allocator(allocator=None):
    yield
