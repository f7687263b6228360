"""torch._jit_internal's user-facing annotation helpers: BroadcastingList1 ...
BroadcastingList6.

`def f(kernel: BroadcastingList2[int])` declares a List[int] parameter of two elements
that also takes a single number, repeated to fill it (`f(3)` is `f([3, 3])`), as
TorchScript's BroadcastingList. Subscripted, each is a typing.Annotated list type, so type
checkers read it as List[T]; the script frontend reads the element count from it."""
from __future__ import annotations

import typing
# (torch._jit_internal re-exports typing's names: `from torch._jit_internal import Optional`)
from typing import (Any, Callable, Dict, Final, ForwardRef, List, Optional,  # noqa: F401
                    Tuple, TypeVar, Union)

__all__ = [f"BroadcastingList{i}" for i in range(1, 7)] + ["BroadcastingListCls", "Broadcast",
                                                          "_overload", "_overload_method"]


class Broadcast:
    """The mark of a broadcasting list annotation: `n` elements of type `elem`, a single
    `elem` value standing for all of them."""

    __slots__ = ("n", "elem")

    def __init__(self, n, elem):
        self.n, self.elem = n, elem

    def __repr__(self):
        return f"BroadcastingList{self.n}[{getattr(self.elem, '__name__', self.elem)}]"


class BroadcastingListCls:
    """BroadcastingListN: subscript it with the element type."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, elem):
        return typing.Annotated[typing.List[elem], Broadcast(self.n, elem)]

    def __repr__(self):
        return f"BroadcastingList{self.n}"


BroadcastingList1 = BroadcastingListCls(1)
BroadcastingList2 = BroadcastingListCls(2)
BroadcastingList3 = BroadcastingListCls(3)
BroadcastingList4 = BroadcastingListCls(4)
BroadcastingList5 = BroadcastingListCls(5)
BroadcastingList6 = BroadcastingListCls(6)


# --------------------------------------------------------------------------------------
# overloads: torch.jit._overload / _overload_method

_OVERLOADED_FNS: dict = {}        # (module, qualname) -> [declaration, ...]
_OVERLOADED_METHODS: dict = {}    # (module, class qualname, method name) -> [declaration]


def _check_overload_body(func):
    """An overload declaration's body is `pass` or `...` (a docstring may precede it), as
    TorchScript requires."""
    import ast
    import inspect
    import textwrap
    try:
        src = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return                  # (no source: TorchScript warns and goes on too)
    fdef = next((n for n in ast.walk(ast.parse(src))
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if fdef is None:
        return
    body = list(fdef.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str) and len(body) > 1:
        body = body[1:]         # a docstring
    ok = len(body) == 1 and (isinstance(body[0], ast.Pass) or (
        isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        and body[0].value.value is Ellipsis))
    if not ok:
        raise RuntimeError("Only `pass` statement or `...` can be the body of overload "
                           f"declaration:\n{src}")


def _overload(func):
    """`@torch.jit._overload`: declares one typed signature of the function defined next
    (without the decorator). Python calls run that implementation; scripted code compiles
    it once per declaration its calls use, chosen by the arguments' types."""
    _check_overload_body(func)
    _OVERLOADED_FNS.setdefault((func.__module__, func.__qualname__), []).append(func)
    return func


def _get_overloads(fn):
    """The overload declarations of function fn (None when it has none)."""
    key = (getattr(fn, "__module__", None), getattr(fn, "__qualname__", None))
    decls = _OVERLOADED_FNS.get(key)
    if not decls or fn in decls:     # (the last declaration itself is no implementation)
        return None
    return decls


def _overload_method(func):
    """`@torch.jit._overload_method`: the same for a method of a module class (e.g. a
    forward taking a Tensor or a List[Tensor]): scripted callers pick the declaration by
    the arguments' types, each compiled as its own method (`forward__0`, `forward__1`)."""
    _check_overload_body(func)
    cls, _, name = func.__qualname__.rpartition(".")
    _OVERLOADED_METHODS.setdefault((func.__module__, cls, name), []).append(func)
    return func


def _get_overloaded_methods(cls, name):
    """The overload declarations of method `name` of class cls (or of the base class that
    defines the method), or None."""
    for klass in getattr(cls, "__mro__", ()):
        if name in vars(klass):
            decls = _OVERLOADED_METHODS.get((klass.__module__, klass.__qualname__, name))
            if decls and vars(klass)[name] not in decls:
                return decls
            return None
    return None


def get_callable_argument_names(fn) -> list:
    """The names of fn's parameters that can be passed both by position and by keyword
    (torch._jit_internal's helper): positional-only, *args, keyword-only and **kwargs
    parameters are left out. A callable without a signature gives []."""
    import inspect
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return []
    return [name for name, p in params.items()
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]


_FROM_JIT = ("is_scripting", "ignore", "unused", "export", "Future")


def __getattr__(name):
    """torch._jit_internal's is_scripting / ignore / unused / export / Future: gpujit.jit's
    (imported when asked: gpujit.jit imports this module)."""
    if name in _FROM_JIT:
        from . import jit
        return getattr(jit, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
