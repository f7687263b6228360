"""`torch.jit._awaitable` / `_awaitable_wait` / `_awaitable_nowait` and `_Await[T]`, as
torch.jit has them: an Await holds a call that runs the first time the Await is waited on
(its value is kept for later waits); a nowait Await holds a value. Reading an attribute of
an Await that it does not have itself waits and reads the value's (`aw.dtype`), as
TorchScript converts an Await[T] to its T where a T is used.

In scripted code `_awaitable(fn, *args)` compiles to a `prim::awaitable` node (its block
makes the call from the block's inputs, the arguments, evaluated where the Await is made),
`_awaitable_nowait(v)` to `prim::awaitable_nowait` and `_awaitable_wait(aw)` to
`prim::awaitable_wait` (frontend/script/future_calls.py).
"""
from __future__ import annotations

import typing

__all__ = ["_Await", "_awaitable", "_awaitable_wait", "_awaitable_nowait"]

_T = typing.TypeVar("_T")
_PENDING = object()


class _Await(typing.Generic[_T]):
    """A delayed call (or a value): `wait()` runs the call once and returns its value."""

    _gpujit_await = True

    def __init__(self, fn=None, args=(), value=_PENDING, type_=None):
        object.__setattr__(self, "_state", {"fn": fn, "args": tuple(args), "value": value,
                                            "nowait": value is not _PENDING, "type": type_})

    @classmethod
    def nowait(cls, value, type_=None):
        return cls(None, (value,), value, type_)

    def fn(self):
        return self._state["fn"]

    def args(self):
        return self._state["args"]

    def is_nowait(self) -> bool:
        return self._state["nowait"]

    def wait(self):
        st = self._state
        if st["value"] is _PENDING:
            st["value"] = st["fn"](*st["args"])
        return st["value"]

    def element_type(self):
        """The IR type of the value (the scripted Await[T]'s T when known)."""
        from ..ir import types as T
        if self._state["type"] is not None:
            return self._state["type"]
        try:
            return T.type_of_value(self.wait())
        except TypeError:
            return T.ANY

    def __getattr__(self, name):        # an attribute of the value (waits for it)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.wait(), name)

    def __repr__(self):
        done = self._state["value"] is not _PENDING
        return f"gpujit.jit._Await({'done' if done else 'pending'})"


def _awaitable(func, *args, **kwargs) -> _Await:
    """An Await of func(*args, **kwargs), called at the first wait."""
    if not callable(func):
        raise TypeError(f"_awaitable() expects a callable, got {type(func).__name__}")
    if kwargs:
        return _Await(lambda *a: func(*a, **kwargs), args)
    return _Await(func, args)


def _awaitable_wait(aw):
    """The Await's value (its call runs now if it has not yet)."""
    if not isinstance(aw, _Await):
        raise TypeError(f"_awaitable_wait() expects an Await, got {type(aw).__name__}")
    return aw.wait()


def _awaitable_nowait(value) -> _Await:
    """An Await that already holds `value`."""
    return _Await.nowait(value)
