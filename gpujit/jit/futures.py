"""`gpujit.jit.fork` / `gpujit.jit.wait` / `gpujit.jit.Future`, as torch.jit has them.

gpujit runs a forked call at once, in the calling thread, and returns a completed Future:
that is what `torch.jit.fork` does in eager Python too, and it keeps answers deterministic.
In scripted code `fork(fn, *args)` compiles to the call itself and `wait(fut)` to its value
(a `Future[T]` is a T there): the graph has no parallelism to offer on one device stream.
"""
from __future__ import annotations

import typing

__all__ = ["Future", "fork", "wait"]

_T = typing.TypeVar("_T")


class Future(typing.Generic[_T]):
    """The result of `fork`: `wait()` returns it (or raises what the call raised).
    `Future[Tensor]` in a scripted signature is a Tensor."""

    __slots__ = ("_value", "_error")
    _gpujit_future = True

    def __init__(self, value=None, error=None):
        self._value, self._error = value, error

    def done(self) -> bool:
        return True

    def wait(self):
        if self._error is not None:
            raise self._error
        return self._value

    def value(self):
        return self.wait()

    def then(self, callback):
        """A Future of callback(self), run now (the value is ready)."""
        return fork(callback, self)

    def __repr__(self):
        return f"gpujit.jit.Future(done, {'error' if self._error else 'value'})"


def fork(func, *args, **kwargs) -> Future:
    """Run func(*args, **kwargs) and return a Future holding its result."""
    if not callable(func):
        raise TypeError(f"fork() expects a callable, got {type(func).__name__}")
    try:
        return Future(func(*args, **kwargs))
    except Exception as e:              # raised again by wait(), as torch does
        return Future(error=e)


def wait(future):
    """The value of a Future made by fork (its call's exception is raised here)."""
    if not isinstance(future, Future):
        raise TypeError(f"wait() expects a gpujit.jit.Future, got {type(future).__name__}")
    return future.wait()
