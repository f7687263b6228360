"""`gpujit.jit.fork` / `gpujit.jit.wait` / `gpujit.jit.Future` (also `gpujit.futures.Future`
and `gpujit.Future`), as torch.jit / torch.futures have them.

gpujit runs a forked call at once, in the calling thread, and returns a completed Future
(PyTorch's semantics allow a fork to run at fork time on one thread; it keeps answers
deterministic). Called from Python, what the call raises propagates from fork() at once,
as torch 2.13's eager fork; in scripted code it is kept in the Future and raised by
`wait`.
Scripted code has the same semantics: `fork(fn, *args)` compiles to a `prim::fork` node
whose block holds the call (run when the fork runs) and whose output is a `Future[T]`;
`wait(fut)` compiles to `aten::wait`, whose output is the T.

A Future made by the user (`gpujit.futures.Future()`) starts pending: another thread (or
a callback) completes it with `set_result` / `set_exception`; `wait()` blocks until then;
`then(cb)` is a Future of cb(self) made when this one completes; `add_done_callback(cb)`
runs cb(self) then (at once when already done), as torch.futures.Future.
"""
from __future__ import annotations

import sys
import threading
import traceback
import typing

__all__ = ["Future", "fork", "wait"]

_T = typing.TypeVar("_T")

_PENDING = object()


class Future(typing.Generic[_T]):
    """A value that is, or will be, ready: `wait()` returns it (or raises what made it
    fail). `Future[Tensor]` in a scripted signature is a Future holding a Tensor."""

    __slots__ = ("_value", "_error", "_type", "_trace", "_cond", "_callbacks")
    _gpujit_future = True

    def __init__(self, *, devices=None):
        if devices:
            from ..device import device as _device
            for d in devices:
                d = _device(d)
                if d.index is None:
                    raise ValueError(f"Expected devices to have indices, got {d}")
        self._value, self._error, self._type, self._trace = _PENDING, None, None, None
        self._cond = threading.Condition()
        self._callbacks = []

    @classmethod
    def _completed(cls, value=None, error=None, type_=None):
        """A Future already done (fork's, a scripted prim::fork's): no lock, no callbacks."""
        f = cls.__new__(cls)
        f._value, f._error, f._type, f._trace = value, error, type_, None
        f._cond = f._callbacks = None
        return f

    def done(self) -> bool:
        return self._value is not _PENDING or self._error is not None

    def wait(self):
        """The value, once ready (blocks until then); raises what the Future holds."""
        if not self.done():
            with self._cond:
                self._cond.wait_for(self.done)
        if self._trace is not None:         # made by a traced fork: the wait is recorded
            from ..frontend.tracer import current_session
            s = current_session()
            if s is not None and not s.paused:
                from ..frontend.trace_futures import traced_wait
                return traced_wait(s, self._trace, self._result())
        return self._result()

    def _result(self):
        if self._error is not None:
            raise self._error
        return self._value

    def value(self):
        """The value of a completed Future (raises what it failed with); it does not
        wait: a pending Future is an error."""
        if not self.done():
            raise RuntimeError("Future.value() called on a Future that has not completed: "
                               "call wait(), or value() once done() is True")
        return self.wait()

    # ---------------------------------------------------------------- completing one
    def set_result(self, result):
        """Complete the Future with result: wakes its waiters, then runs its callbacks."""
        self._complete(result, None)

    def set_exception(self, result):
        """Complete the Future with an exception, which wait() and value() raise."""
        if not isinstance(result, BaseException):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        self._complete(_PENDING, result)

    def _complete(self, value, error):
        cond = self._cond
        if cond is None:
            raise _completed_twice()
        with cond:
            if self.done():
                raise _completed_twice()
            self._value, self._error = value, error
            callbacks, self._callbacks = self._callbacks, []
            cond.notify_all()
        for cb in callbacks:
            cb(self)

    def _on_done(self, run):
        if self._cond is not None:
            with self._cond:
                if not self.done():
                    self._callbacks.append(run)
                    return
        run(self)

    def then(self, callback):
        """A Future of callback(self), made when this Future completes (at once when it
        is done). What the callback raises makes that Future fail with a RuntimeError
        naming it, as torch's."""
        if not callable(callback):
            raise TypeError(f"then(): expected a callable callback, got "
                            f"{type(callback).__name__}")
        child = Future()

        def run(fut):
            try:
                r = callback(fut)
            except Exception as e:
                child.set_exception(RuntimeError(_callback_error(e)))
            else:
                child.set_result(r)

        self._on_done(run)
        return child

    def add_done_callback(self, callback):
        """Run callback(self) when this Future completes (at once when it is done). What
        the callback raises is reported on stderr and dropped, as torch does."""
        if not callable(callback):
            raise TypeError(f"add_done_callback(): expected a callable callback, got "
                            f"{type(callback).__name__}")

        def run(fut):
            try:
                callback(fut)
            except Exception as e:
                sys.stderr.write(_callback_error(e) + "\n")

        self._on_done(run)

    def element_type(self):
        """The IR type of the value (the scripted Future[T]'s T, else the value's own)."""
        from ..ir import types as T
        if self._type is not None:
            return self._type
        if self._error is not None or self._value is _PENDING:
            return T.ANY
        try:
            return T.type_of_value(self._value)
        except TypeError:
            return T.ANY

    def __repr__(self):
        if not self.done():
            return "gpujit.jit.Future(pending)"
        return f"gpujit.jit.Future(done, {'error' if self._error else 'value'})"


def _completed_twice():
    return RuntimeError("Attempting to mark a completed Future as complete again. Note that "
                        "a Future can only be marked completed once.")


def _callback_error(e):
    frames = traceback.extract_tb(e.__traceback__)
    where = "".join(f"  {f.filename}({f.lineno}): {f.name}\n" for f in reversed(frames))
    return (f"Got the following error when running the callback: {type(e).__name__}: {e}"
            f"\n\nAt:\n{where}")


def fork(func, *args, **kwargs) -> Future:
    """Run func(*args, **kwargs) and return a Future holding its result."""
    if not callable(func):
        raise TypeError(f"fork() expects a callable, got {type(func).__name__}")
    from ..frontend.tracer import current_session
    s = current_session()
    if s is not None and not s.paused:          # recorded as prim::fork (trace_futures)
        from ..frontend.trace_futures import traced_fork
        return traced_fork(s, func, args, kwargs)
    # (eager: what the call raises propagates at once, as torch 2.13's torch._C.fork runs
    # the function synchronously; scripted prim::fork keeps it for wait())
    return Future._completed(func(*args, **kwargs))


def wait(future):
    """The value of a Future made by fork (its call's exception is raised here)."""
    if not isinstance(future, Future):
        raise TypeError(f"wait() expects a gpujit.jit.Future, got {type(future).__name__}")
    return future.wait()
