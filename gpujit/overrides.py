"""torch.overrides and the __torch_function__ protocol for Tensor subclasses.

A Tensor subclass gets PyTorch's default `Tensor.__torch_function__`: every op called with
one of its instances runs as usual and returns instances of the subclass (a subclass
overriding `__torch_function__` sees each call first: func, types, args, kwargs).
`nn.Parameter` (and nn.Buffer) turn it off with `_disabled_torch_function_impl`, so their
results are plain Tensors, as PyTorch's.

Cost: nothing until a Tensor subclass with an active `__torch_function__` is defined; from
then on a dispatch layer in front of the others (ops/registry.py's hook chain) looks at each
op call's arguments. Scope: every registry op (functions, methods, operators, the ops the
library's nn / functional code calls); Tensor methods that are not ops (tolist, repr,
properties) are not routed; objects that are not Tensors reach `__torch_function__` only
through `handle_torch_function` (their own code calling it), not from gpujit's ops.
"""
from __future__ import annotations

import threading
import weakref

from .ops.registry import dispatch_state as _S
from .tensor import Tensor

__all__ = ["get_ignored_functions", "get_default_nowrap_functions", "has_torch_function",
           "has_torch_function_unary", "has_torch_function_variadic", "handle_torch_function",
           "is_tensor_like", "is_tensor_method_or_property", "wrap_torch_function"]


class _DisabledTorchFunctionImpl:
    """torch._C._disabled_torch_function_impl: a class's `__torch_function__` that runs
    func with the protocol off (its results are what func returns: no subclass). Not a
    descriptor, so `instance.__torch_function__(...)` does not bind the instance."""
    __slots__ = ()
    __name__ = __qualname__ = "_disabled_torch_function_impl"

    def __call__(self, func, types, args=(), kwargs=None):
        with DisableTorchFunctionSubclass():
            return func(*args, **(kwargs or {}))

    def __repr__(self):
        return "<built-in function _disabled_torch_function_impl>"


_disabled_torch_function_impl = _DisabledTorchFunctionImpl()

_state = threading.local()          # .off: > 0 inside DisableTorchFunction(Subclass)


class DisableTorchFunctionSubclass:
    """`with DisableTorchFunctionSubclass():` op calls inside skip __torch_function__."""
    __slots__ = ()

    def __enter__(self):
        _state.off = getattr(_state, "off", 0) + 1
        return self

    def __exit__(self, *exc):
        _state.off -= 1
        return False


class DisableTorchFunction(DisableTorchFunctionSubclass):
    """As DisableTorchFunctionSubclass (gpujit has no torch function modes)."""
    __slots__ = ()


def _is_disabled() -> bool:
    return getattr(_state, "off", 0) > 0


def _active(cls) -> bool:
    tf = getattr(cls, "__torch_function__", None)
    return tf is not None and getattr(tf, "__func__", tf) is not _disabled_torch_function_impl


# ------------------------------------------------------------------------ the dispatch layer
_live = [0]                         # how many subclasses with an active one exist


def enable(cls):
    """Put the dispatch layer in front of the others while cls (a subclass with an active
    __torch_function__) exists: when the last such class is collected, the layer goes and
    op calls pay nothing again."""
    _live[0] += 1
    weakref.finalize(cls, _class_gone)
    if _S.torch_function is None:
        _S.torch_function = _dispatch
        _S.refresh()


def _class_gone():
    _live[0] -= 1
    if not _live[0] and _S.torch_function is not None:
        _S.torch_function = None
        _S.refresh()


def _overloaded(args, out, seen):
    """The arguments (also inside lists / tuples) whose type has an active
    __torch_function__ other than plain Tensor's, in torch's order: left to right, a
    subclass before its superclass."""
    for a in args:
        t = type(a)
        if t is Tensor or a is None or t in (int, float, bool, str):
            continue
        if t in (list, tuple):
            _overloaded(a, out, seen)
            continue
        if t in seen or not _active(t) or not isinstance(a, Tensor):
            continue
        _add_in_order(out, seen, a)
    return out


def _add_in_order(out, seen, a):
    """a into out before the first argument whose type its type subclasses (torch's order
    of overloaded arguments: left to right, a subclass before its superclass)."""
    t = type(a)
    seen.add(t)
    at = len(out)
    for i, b in enumerate(out):
        if issubclass(t, type(b)):
            at = i
            break
    out.insert(at, a)


def _dispatch(op, args):
    if not _is_disabled():
        over = _overloaded(args, [], set())
        if over:
            func, pos, kw = _public_call(op, args)
            return _call_overloaded(func, over, pos, kw)
    nxt = _S.profiler or _S.transforms
    return op.eager(*args) if nxt is None else nxt(op, args)


def _call_overloaded(func, over, args, kwargs):
    types = tuple(type(a) for a in over)
    for a in over:
        r = type(a).__torch_function__(func, types, args, kwargs)
        if r is not NotImplemented:
            return r
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    mod = getattr(func, "__module__", None)
    kinds = "".join(f"  - {'tensor subclass' if issubclass(t, Tensor) else 'mode object'} "
                    f"{t}\n" for t in types)
    raise TypeError(f"Multiple dispatch failed for '{mod + '.' if mod else ''}{name}'; all "
                    f"__torch_function__ handlers returned NotImplemented:\n\n{kinds}")


def _public_call(op, args):
    """(func, args, kwargs) of a registry op's call as the user's public API spells it:
    gpujit.<name> where it is that op's function, else Tensor.<name>; positional
    parameters positional (trailing defaults dropped), keyword-only ones by name where
    they differ from their defaults."""
    import gpujit
    name = op.public_name
    func = getattr(gpujit, name, None)
    if getattr(func, "op", None) is not op:
        meth = Tensor.__dict__.get(name, None) or getattr(Tensor, name, None)
        if isinstance(meth, property):      # (x.mT, x.T: torch passes the getter's __get__)
            meth = meth.__get__
        func = meth if callable(meth) else (func if callable(func) else op.public)
    pos, kw = [], {}
    for a, v in zip(op.schema.arguments, args):
        default = a.default if a.has_default else _NO
        if a.kwarg_only:
            if v is not default and v != default:
                kw[a.name] = v
        else:
            pos.append((v, default))
    while pos and pos[-1][1] is not _NO and (pos[-1][0] is pos[-1][1]
                                            or _same(pos[-1][0], pos[-1][1])):
        pos.pop()
    return func, tuple(v for v, _ in pos), kw


_NO = object()


def _same(v, d):
    try:
        return type(v) is type(d) and bool(v == d)
    except Exception:
        return False


def _convert(ret, cls):
    """ret with its Tensors as cls (Tensor.__torch_function__'s result)."""
    if cls is Tensor:
        return ret
    if isinstance(ret, Tensor) and not isinstance(ret, cls):
        return ret.as_subclass(cls)
    if isinstance(ret, (tuple, list)):
        return type(ret)(_convert(r, cls) for r in ret) if type(ret) in (tuple, list) \
            else type(ret)(*(_convert(r, cls) for r in ret))
    return ret


def default_torch_function(cls, func, types, args=(), kwargs=None):
    """Tensor.__torch_function__: func with the protocol off, its Tensors returned as cls
    (NotImplemented when another type in types is not a superclass of cls)."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        ret = func(*args, **kwargs)
        if func in _NOWRAP:
            return ret
        return _convert(ret, cls)


# ------------------------------------------------------------------------ torch.overrides
def get_default_nowrap_functions():
    """Functions whose results Tensor.__torch_function__ does not turn into the subclass."""
    return set(_NOWRAP)


_NOWRAP = frozenset(f for f in (getattr(Tensor, "_base", None), getattr(Tensor, "grad", None))
                    if f is not None)


def get_ignored_functions():
    """Public functions that never go through __torch_function__ (factories and the like:
    they take no Tensor)."""
    import gpujit
    names = ("tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "arange",
             "linspace", "logspace", "eye", "rand", "randn", "randint", "randperm",
             "manual_seed", "seed", "is_tensor", "is_storage", "set_default_dtype",
             "get_default_dtype", "promote_types", "result_type", "can_cast", "finfo",
             "iinfo", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled")
    return {getattr(gpujit, n) for n in names if hasattr(gpujit, n)}


def is_tensor_like(inp) -> bool:
    """A Tensor, or an object whose type defines __torch_function__."""
    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


def _relevant(relevant_args):
    out, seen = [], set()
    for a in relevant_args:
        t = type(a)
        if t in seen or t is Tensor or not hasattr(t, "__torch_function__") or not _active(t):
            continue
        _add_in_order(out, seen, a)
    return out


def has_torch_function(relevant_args) -> bool:
    """Whether one of relevant_args (an iterable) overrides __torch_function__ (and the
    protocol is on)."""
    return not _is_disabled() and bool(_relevant(relevant_args))


def has_torch_function_unary(obj) -> bool:
    return has_torch_function((obj,))


def has_torch_function_variadic(*args) -> bool:
    return has_torch_function(args)


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Call the __torch_function__ of relevant_args' overriding types in torch's order
    (what a function that checked has_torch_function calls)."""
    over = _relevant(relevant_args)
    return _call_overloaded(public_api, over, args, kwargs)


def wrap_torch_function(dispatcher):
    """A decorator: the function checks dispatcher(*args, **kwargs)'s values for
    __torch_function__ overrides and hands the call to them."""
    import functools

    def inner(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            relevant = dispatcher(*args, **kwargs)
            if has_torch_function(relevant):
                return handle_torch_function(wrapped, relevant, *args, **kwargs)
            return func(*args, **kwargs)
        return wrapped
    return inner


def is_tensor_method_or_property(func) -> bool:
    """Whether func is a method or property of Tensor (func(x, ...) gets x as self)."""
    name = getattr(func, "__name__", None)
    return name is not None and (getattr(Tensor, name, None) is func
                                 or isinstance(func, property))
