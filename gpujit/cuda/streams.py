"""torch.cuda's streams and events, on CuPy's.

A gpujit Stream wraps a cupy.cuda.Stream; making it current makes the CuPy stream current
(per thread and device, as CuPy's and PyTorch's), so eager ops (CuPy calls) and fused
kernels (launched on `cupy.cuda.get_current_stream()`, their recycled outputs reused only
on the stream that last wrote them) run on it.
"""
from __future__ import annotations

from ..device import require_cupy

__all__ = ["Stream", "ExternalStream", "Event", "current_stream", "default_stream",
           "set_stream", "stream", "StreamContext"]


def _cp(what):
    return require_cupy(f"gpujit.cuda.{what}")


class Stream:
    """torch.cuda.Stream(device=None, priority=0): a CUDA stream of one device. A lower
    priority number is a higher priority; CUDA clamps it to the device's range."""

    def __init__(self, device=None, priority=0, **kwargs):
        from . import _index, device as _device_ctx
        cp = _cp("Stream")
        if kwargs:
            raise TypeError(f"Stream() got unexpected keyword arguments {sorted(kwargs)}")
        idx = _index(None if device is None or (isinstance(device, int) and device < 0)
                     else device)
        with _device_ctx(idx):
            self._stream = cp.cuda.Stream(priority=int(priority))
        self.device_index = idx

    @classmethod
    def _wrap(cls, cupy_stream, idx):
        self = cls.__new__(cls)
        self._stream, self.device_index = cupy_stream, idx
        return self

    @property
    def device(self):
        from ..device import device as _dev
        return _dev("cuda", self.device_index)

    device_type = 1         # (torch's DeviceType::CUDA)

    @property
    def cuda_stream(self) -> int:
        return int(self._stream.ptr)

    @property
    def stream_id(self) -> int:
        return int(self._stream.ptr)

    @property
    def priority(self) -> int:
        return int(self._stream.priority) if self._stream.ptr else 0

    def query(self) -> bool:
        """True if all work queued on the stream has finished."""
        return bool(self._stream.done)

    def synchronize(self) -> None:
        """Wait for all work queued on the stream."""
        from . import device as _device_ctx
        with _device_ctx(self.device_index):
            self._stream.synchronize()

    def wait_event(self, event) -> None:
        """Make future work on this stream wait for `event` (returns at once)."""
        event.wait(self)

    def wait_stream(self, stream) -> None:
        """Make future work on this stream wait for the work queued on `stream` now."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Record `event` (a new Event if None) on this stream; returns it."""
        if event is None:
            event = Event()
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and (self.cuda_stream, self.device_index) == \
            (other.cuda_stream, other.device_index)

    def __hash__(self):
        return hash((self.cuda_stream, self.device_index))

    def __repr__(self):
        return f"<torch.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"

    def __cuda_stream__(self):
        return (0, self.cuda_stream)

    def __enter__(self):          # (as torch.Stream: `with s:` is `with stream(s):`)
        ctx = StreamContext(self)
        ctx.__enter__()
        self.__dict__.setdefault("_contexts", []).append(ctx)
        return self

    def __exit__(self, *exc):
        return self._contexts.pop().__exit__(*exc)


class _StreamPointer:
    """An object with the CUDA stream protocol, for cupy.cuda.Stream.from_external."""

    def __init__(self, ptr):
        self.ptr = ptr

    def __cuda_stream__(self):
        return (0, self.ptr)


class ExternalStream(Stream):
    """torch.cuda.ExternalStream(stream_ptr, device=None): a stream made elsewhere (its
    cudaStream_t as an int); the caller keeps it alive."""

    def __init__(self, stream_ptr, device=None, **kwargs):
        from . import _index, device as _device_ctx
        cp = _cp("ExternalStream")
        idx = _index(device)
        with _device_ctx(idx):
            from_external = getattr(cp.cuda.Stream, "from_external", None)
            if from_external is not None:
                s = from_external(_StreamPointer(int(stream_ptr)))
            else:     # (CuPy before 14)
                s = cp.cuda.ExternalStream(int(stream_ptr), idx)
        self._stream, self.device_index = s, idx


def current_stream(device=None) -> Stream:
    """The stream work on `device` (default: the current device) is queued on."""
    from . import _index
    cp = _cp("current_stream")
    idx = _index(device)
    return Stream._wrap(cp.cuda.get_current_stream(idx), idx)


def default_stream(device=None) -> Stream:
    """The device's default (null) stream."""
    from . import _index
    cp = _cp("default_stream")
    return Stream._wrap(cp.cuda.Stream.null, _index(device))


def set_stream(stream) -> None:
    """Make `stream` the current stream of its device (a no-op for None). Prefer
    `with gpujit.cuda.stream(s):`."""
    if stream is None:
        return
    from . import device as _device_ctx
    with _device_ctx(stream.device_index):
        stream._stream.use()


class StreamContext:
    """Makes `stream` current in its block (on its device; the current device stays);
    a no-op for None."""

    def __init__(self, stream):
        self.stream = stream
        self.src_prev_stream = self.dst_prev_stream = None

    def __enter__(self):
        s = self.stream
        if s is None:
            return None
        self.src_prev_stream = current_stream(None)
        if self.src_prev_stream.device_index != s.device_index:
            self.dst_prev_stream = current_stream(s.device_index)
        set_stream(s)
        return None

    def __exit__(self, *exc):
        s = self.stream
        if s is None:
            return False
        if self.dst_prev_stream is not None:
            set_stream(self.dst_prev_stream)
        set_stream(self.src_prev_stream)
        return False


def stream(stream) -> StreamContext:
    """`with gpujit.cuda.stream(s):` queues the block's CUDA work on s."""
    return StreamContext(stream)


class Event:
    """torch.cuda.Event(enable_timing=False, blocking=False, interprocess=False): record()
    on a stream (default: the current one), wait(), query(), synchronize(), and
    `start.elapsed_time(end)` in milliseconds (both created with enable_timing=True)."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        cp = _cp("Event")
        self.enable_timing = bool(enable_timing)
        self._event = cp.cuda.Event(block=blocking, disable_timing=not enable_timing,
                                    interprocess=interprocess)
        self._recorded = False

    @property
    def cuda_event(self) -> int:
        return int(self._event.ptr)

    def record(self, stream=None):
        """Record the event on `stream` (default: the current stream)."""
        if stream is None:
            stream = current_stream()
        from . import device as _device_ctx
        with _device_ctx(stream.device_index):
            self._event.record(stream._stream)
        self._recorded = True

    def wait(self, stream=None):
        """Make future work on `stream` (default: the current stream) wait for this event."""
        if stream is None:
            stream = current_stream()
        from . import device as _device_ctx
        with _device_ctx(stream.device_index):
            stream._stream.wait_event(self._event)

    def query(self) -> bool:
        """True if the work recorded before the event has finished (or it was never
        recorded)."""
        return not self._recorded or bool(self._event.done)

    def synchronize(self):
        """Wait for the work recorded before the event (at once if never recorded)."""
        if self._recorded:
            self._event.synchronize()

    def elapsed_time(self, end_event) -> float:
        """Milliseconds from this event to `end_event`, waiting for `end_event`."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'")
        if not (self._recorded and end_event._recorded):
            raise RuntimeError("Both events must be recorded before calculating elapsed time")
        cp = _cp("Event")
        end_event._event.synchronize()
        return float(cp.cuda.get_elapsed_time(self._event, end_event._event))

    def __repr__(self):
        return (f"<torch.cuda.Event {self.cuda_event:#x}>" if self._recorded
                else "<torch.cuda.Event uninitialized>")
