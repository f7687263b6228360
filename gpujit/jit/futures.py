"""`gpujit.jit.fork` / `gpujit.jit.wait` / `gpujit.jit.Future`, as torch.jit has them.

gpujit runs a forked call at once, in the calling thread, and returns a completed Future
(PyTorch's semantics allow a fork to run at fork time on one thread; it keeps answers
deterministic). What the call raised is kept in the Future and raised by `wait`, as
PyTorch raises it there. Scripted code has the same semantics: `fork(fn, *args)` compiles
to a `prim::fork` node whose block holds the call (run when the fork runs) and whose output
is a `Future[T]`; `wait(fut)` compiles to `aten::wait`, whose output is the T.
"""
from __future__ import annotations

import typing

__all__ = ["Future", "fork", "wait"]

_T = typing.TypeVar("_T")


class Future(typing.Generic[_T]):
    """The result of `fork`: `wait()` returns it (or raises what the call raised).
    `Future[Tensor]` in a scripted signature is a Future holding a Tensor."""

    __slots__ = ("_value", "_error", "_type", "_trace")
    _gpujit_future = True

    def __init__(self, value=None, error=None, type_=None):
        self._value, self._error, self._type = value, error, type_
        self._trace = None      # recorder id -> its prim::fork output (a traced fork)

    def done(self) -> bool:
        return True

    def wait(self):
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
        return self.wait()

    def element_type(self):
        """The IR type of the value (the scripted Future[T]'s T, else the value's own)."""
        from ..ir import types as T
        if self._type is not None:
            return self._type
        if self._error is not None:
            return T.ANY
        try:
            return T.type_of_value(self._value)
        except TypeError:
            return T.ANY

    def then(self, callback):
        """A Future of callback(self), run now (the value is ready)."""
        return fork(callback, self)

    def __repr__(self):
        return f"gpujit.jit.Future(done, {'error' if self._error else 'value'})"


def fork(func, *args, **kwargs) -> Future:
    """Run func(*args, **kwargs) and return a Future holding its result."""
    if not callable(func):
        raise TypeError(f"fork() expects a callable, got {type(func).__name__}")
    from ..frontend.tracer import current_session
    s = current_session()
    if s is not None and not s.paused:          # recorded as prim::fork (trace_futures)
        from ..frontend.trace_futures import traced_fork
        return traced_fork(s, func, args, kwargs)
    try:
        return Future(func(*args, **kwargs))
    except Exception as e:              # raised again by wait(), as torch does
        return Future(error=e)


def wait(future):
    """The value of a Future made by fork (its call's exception is raised here)."""
    if not isinstance(future, Future):
        raise TypeError(f"wait() expects a gpujit.jit.Future, got {type(future).__name__}")
    return future.wait()
