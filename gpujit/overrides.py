"""torch.overrides and the __torch_function__ protocol for Tensor subclasses.

A Tensor subclass gets PyTorch's default `Tensor.__torch_function__`: every op called with
one of its instances runs as usual and returns instances of the subclass (a subclass
overriding `__torch_function__` sees each call first: func, types, args, kwargs).
`nn.Parameter` (and nn.Buffer) turn it off with `_disabled_torch_function_impl`, so their
results are plain Tensors, as PyTorch's.

Where a call is seen, and as what func: a method, operator or property of a subclass
instance where it is entered, as PyTorch's (x.tolist(): Tensor.tolist; x[0]:
Tensor.__getitem__; x.shape: Tensor.shape.__get__; x + 1: Tensor.add; 1 - x:
Tensor.__rsub__), through entry points installed on the subclass (plain Tensors keep their
own attributes); the default handler runs it with the protocol off, so the calls inside are
not seen. Every registry op call otherwise (torch.add(x, 1), the ops of gpujit's nn /
functional Python code, ops on plain Tensors given a subclass argument) is seen by a
dispatch layer in front of the others (ops/registry.py's hook chain), as gpujit.<name>.

gpujit's Python-level public functions (F.mse_loss, F.normalize, torch.split ...) are
entry points as PyTorch's: the handler sees the function once (func = the function), not
the ops inside (gpujit/_function_entries.py puts the check in their code).

Cost: nothing until a Tensor subclass with an active `__torch_function__` is defined; the
dispatch layer and the functions' check are there only while one exists (or a
TorchFunctionMode is pushed: then Tensor itself gets the entry points, so plain Tensors'
calls are seen too). A tensor-like that is no Tensor (a type with a __torch_function__,
the docs' ScalarTensor) is found where an op refuses it (ops/registry.py's
TensorLikeOperand): its handler answers, and from then on, while its type exists, the
layer and the functions' check are on. Not as PyTorch: a Python-level function given one
before any op has (F.mse_loss(d, d) first) reads it as a Tensor and fails.
"""
from __future__ import annotations

import sys as _sys
import threading
import types as _types
import weakref

from . import _function_entries
from .autograd import grad_mode as _grad_mode
from .ops.registry import dispatch_state as _S
from .tensor import Tensor

__all__ = ["TorchFunctionMode", "BaseTorchFunctionMode", "enable_reentrant_dispatch",
           "get_overridable_functions", "get_testing_overrides", "resolve_name",
           "get_ignored_functions",
           "get_default_nowrap_functions", "has_torch_function", "has_torch_function_unary",
           "has_torch_function_variadic", "handle_torch_function", "is_tensor_like",
           "is_tensor_method_or_property", "wrap_torch_function"]


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

# per thread: .off > 0 inside DisableTorchFunction(Subclass), .all_off > 0 inside
# DisableTorchFunction (modes off too), .modes the TorchFunctionMode stack
_state = threading.local()


class DisableTorchFunctionSubclass:
    """`with DisableTorchFunctionSubclass():` calls inside skip Tensor subclasses'
    __torch_function__ (a TorchFunctionMode still sees them)."""
    __slots__ = ()

    def __enter__(self):
        _state.off = getattr(_state, "off", 0) + 1
        return self

    def __exit__(self, *exc):
        _state.off -= 1
        return False


class DisableTorchFunction(DisableTorchFunctionSubclass):
    """`with DisableTorchFunction():` calls inside skip every __torch_function__, modes'
    included."""
    __slots__ = ()

    def __enter__(self):
        _state.all_off = getattr(_state, "all_off", 0) + 1
        return super().__enter__()

    def __exit__(self, *exc):
        _state.all_off -= 1
        return super().__exit__(*exc)


def _is_disabled() -> bool:
    """Whether subclasses' __torch_function__ is off."""
    return getattr(_state, "off", 0) > 0


def _mode_on() -> bool:
    """Whether a TorchFunctionMode sees this thread's calls."""
    return _pushed[0] > 0 and bool(getattr(_state, "modes", None)) \
        and not getattr(_state, "all_off", 0)


def _active(cls) -> bool:
    tf = getattr(cls, "__torch_function__", None)
    return tf is not None and getattr(tf, "__func__", tf) is not _disabled_torch_function_impl


# ------------------------------------------------------------------------ the dispatch layer
_live = [0]         # how many subclasses with an active one exist, plus the modes pushed
_pushed = [0]       # how many TorchFunctionModes are pushed (all threads)
_grad_mode._pushed, _grad_mode._mode_on[0] = _pushed, _mode_on   # (_set_grad_enabled's check)


def enable(cls):
    """Put the dispatch layer in front of the others while cls (a subclass with an active
    __torch_function__) exists: when the last such class is collected, the layer goes and
    op calls pay nothing again. cls gets its Tensor entry points (_install_entries)."""
    _install_entries(cls)
    weakref.finalize(cls, _layer_needed, -1)
    _layer_needed(1)


def _keep_layer_while(obj):
    """Keep the dispatch layer (and the public functions' check) on while obj lives: a
    tensor-like that gpujit itself makes (torch.fx's Proxy), so torch.relu(proxy) and
    F.mse_loss(proxy, y) reach its handler from the first call."""
    weakref.finalize(obj, _layer_needed, -1)
    _layer_needed(1)


def _layer_needed(n):
    """A reason for the layer (and the public functions' check) more (1) or less (-1)."""
    _live[0] += n
    if _live[0] and _S.torch_function is None:
        _function_entries.install()
        _S.torch_function = _dispatch
        _S.refresh()
    elif not _live[0] and _S.torch_function is not None:
        _S.torch_function = None
        _S.refresh()
        _function_entries.uninstall()


# ------------------------------------------------------------------ Tensor entry points
# PyTorch checks __torch_function__ where a Tensor method, operator or property is entered
# (func = that method: Tensor.tolist, Tensor.__getitem__, Tensor.shape.__get__), and the
# default handler runs it with the protocol off, so the calls it makes are not seen. A
# subclass with an active __torch_function__ gets such entry points in its own class dict
# for the Tensor attributes it inherits (plain Tensors pay nothing): public methods and
# properties (getter and setter) and the dunders PyTorch routes. An operator passes the
# method PyTorch's passes (x + 1: Tensor.add; 1 - x: Tensor.__rsub__; x < 1: Tensor.lt).
# Functions (torch.add(x, 1)) and ops reached from plain Tensors are seen at the op call
# (the dispatch layer below).
_OPERATOR_FUNCS = {
    "__add__": "add", "__radd__": "add", "__iadd__": "add_", "__sub__": "sub",
    "__isub__": "sub_", "__mul__": "mul", "__rmul__": "mul", "__imul__": "mul_",
    "__truediv__": "div", "__rtruediv__": "__rdiv__", "__itruediv__": "div_", "__div__": "div",
    "__idiv__": "div_", "__ifloordiv__": "floor_divide_", "__mod__": "remainder",
    "__imod__": "remainder_", "__matmul__": "matmul", "__rand__": "bitwise_and",
    "__ror__": "bitwise_or", "__rxor__": "bitwise_xor", "__ne__": "ne", "__lt__": "lt",
    "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__str__": "__repr__"}
_ROUTED_DUNDERS = frozenset(_OPERATOR_FUNCS) | {
    "__rsub__", "__rdiv__", "__floordiv__", "__rfloordiv__", "__rmod__", "__pow__",
    "__rpow__", "__ipow__", "__rmatmul__", "__and__", "__iand__", "__or__", "__ior__",
    "__xor__", "__ixor__", "__lshift__", "__rlshift__", "__ilshift__", "__rshift__",
    "__rrshift__", "__irshift__", "__neg__", "__pos__", "__abs__", "__invert__", "__eq__",
    "__getitem__", "__setitem__", "__len__", "__contains__", "__bool__", "__float__",
    "__int__", "__index__", "__complex__", "__repr__", "__format__", "__array__",
    "__deepcopy__", "__reduce_ex__", "__dir__", "__reversed__", "__dlpack__",
    "__dlpack_device__"}
_entries = None                     # [(name, entry)] made once, shared by the subclasses


def _static(cls, name):
    for k in cls.__mro__:
        if name in k.__dict__:
            return k.__dict__[name]
    return None


# gpujit's counterparts of PyTorch's Python library: nn.Module code (BatchNorm1d's
# input.dim()), optimizers, distributions, utils, whose Tensor calls PyTorch's handler sees
_LIBRARY = ("gpujit.nn.", "gpujit.optim.", "gpujit.distributions.", "gpujit.utils.")


def _user_call() -> bool:
    """Whether the Tensor attribute being entered was called from user code or from
    gpujit's counterpart of PyTorch's Python library (nn, optim ...): gpujit's plumbing (ops,
    Tensor's Python methods) reads tensors as PyTorch's C++ does, unseen; a public function
    (F.mse_loss reading input.shape) runs under its own handler with the protocol off."""
    f = _sys._getframe(2)
    if f.f_code is _ModeEntry.__call__.__code__:
        f = f.f_back
    name = f.f_globals.get("__name__", "")
    return not name.startswith("gpujit") or name.startswith(_LIBRARY)


def _method_entry(orig, fname):
    def entry(self, *args, **kwargs):
        if (not _is_disabled() or _mode_on()) and _user_call():
            over = []
            if not _is_disabled():
                _overloaded((self,) + args, over, set())
                if kwargs:
                    _overloaded(tuple(kwargs.values()), over, {type(a) for a in over})
            if over or _mode_on():
                # (func: Tensor's attribute now, which is this entry while a mode is on)
                func = _static(Tensor, fname)
                return _call_overloaded(func if callable(func) else orig, over,
                                        (self,) + args, kwargs)
        return orig(self, *args, **kwargs)
    entry.__name__, entry.__qualname__ = orig.__name__, orig.__qualname__
    entry.__doc__, entry.__wrapped__ = orig.__doc__, orig
    return entry


def _property_entry(name, prop):
    fget = prop.fget

    def getter(self):
        if (not _is_disabled() or _mode_on()) and _user_call():
            over = [] if _is_disabled() else _overloaded((self,), [], set())
            if over or _mode_on():
                return _call_overloaded(_static(Tensor, name).__get__, over, (self,), {})
        return fget(self)
    if prop.fset is None:
        return property(getter, None, prop.fdel, prop.__doc__)
    fset = prop.fset

    def setter(self, value):
        if (not _is_disabled() or _mode_on()) and _user_call():
            over = [] if _is_disabled() else _overloaded((self, value), [], set())
            if over or _mode_on():
                _call_overloaded(_static(Tensor, name).__set__, over, (self, value), {})
                return
        fset(self, value)
    return property(getter, setter, prop.fdel, prop.__doc__)


def _make_entries():
    out = []
    names = {n for k in Tensor.__mro__[:-1] for n in k.__dict__}
    for name in sorted(names):
        if (name.startswith("_") and name not in _ROUTED_DUNDERS) or name == "as_subclass":
            continue            # (as PyTorch's: a handler may call x.as_subclass(Tensor))
        v = _static(Tensor, name)
        if isinstance(v, property):
            out.append((name, _property_entry(name, v)))
        elif callable(v) and not isinstance(v, (staticmethod, classmethod, type)):
            out.append((name, _method_entry(v, _OPERATOR_FUNCS.get(name, name))))
    return out


def _tensor_entries():
    global _entries
    if _entries is None:
        _entries = _make_entries()
    return _entries


def _install_entries(cls):
    """cls's entry points for the Tensor attributes it inherits unchanged (those it or a
    class between it and Tensor defines, entry points included, stay)."""
    for name, entry in _tensor_entries():
        if _static(cls, name) is _static(Tensor, name):
            setattr(cls, name, entry)


class _ModeEntry:
    """A method's entry point on Tensor itself while a mode is on. It is what a handler
    gets as func (Tensor.add now) and stands for the method it replaces: equal to it, with
    its hash and attributes, so a table keyed by Tensor.add made before finds it."""
    __slots__ = ("entry", "orig")

    def __init__(self, entry):
        self.entry, self.orig = entry, entry.__wrapped__

    def __get__(self, obj, cls=None):
        return self if obj is None else _types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        return self.entry(*args, **kwargs)

    def __eq__(self, other):
        return other is self.orig or (type(other) is _ModeEntry and other.orig is self.orig)

    def __hash__(self):
        return hash(self.orig)

    def __getattr__(self, name):
        return getattr(self.orig, name)

    def __repr__(self):
        return repr(self.orig)


def _overloaded(args, out, seen, plain=False):
    """The arguments (also inside lists / tuples) whose type has an active
    __torch_function__ other than plain Tensor's (plain Tensors' too where `plain`: a
    Python-level function's handle_torch_function lists them, as torch's), in torch's
    order: left to right, a subclass before its superclass."""
    for a in args:
        t = type(a)
        if (t is Tensor and not plain) or a is None or t in (int, float, bool, str):
            continue
        if t in (list, tuple):
            _overloaded(a, out, seen, plain)
            continue
        if t in seen or not _active(t) or not (isinstance(a, Tensor) or _tensor_like(t)):
            continue
        _add_in_order(out, seen, a)
    return out


def _tensor_like(t) -> bool:
    """Whether objects of type t, which is no gpujit Tensor, are tensor-likes: an active
    __torch_function__ of its own (real torch's Tensors and their subclasses are not:
    their handler would run gpujit's function again, without end)."""
    return _active(t) and not issubclass(t, Tensor) and not any(
        (k.__module__ or "").startswith("torch") for k in t.__mro__)


_likes = weakref.WeakSet()          # tensor-like types the dispatch layer is kept on for


def tensor_likes(values):
    """The tensor-likes among values (and their lists) when the protocol is on."""
    if _is_disabled():
        return []
    out, seen = [], set()
    for v in values:
        for a in (v if type(v) in (list, tuple) else (v,)):
            t = type(a)
            if t not in seen and t not in (int, float, bool, str) and a is not None \
                    and not isinstance(a, Tensor) and _tensor_like(t):
                _add_in_order(out, seen, a)
    return out


def tensor_like_call(op, args, method=False):
    """op(*args) (schema order) whose operands hold a tensor-like: its __torch_function__
    answers, with op's public function (its Tensor method where the call was one)."""
    return tensor_like_dispatch(*_public_call(op, args, method or _called_as_method()))


def _called_as_method():
    """Whether the innermost registry entry point on the stack is a Tensor method's (its
    globals carry _METHOD: entry_codegen._method_ns). Read only when a handler answers;
    the entry may be a few frames up (the autograd, vmap or profiler layer between)."""
    f = _sys._getframe(2)
    while f is not None:
        if f.f_code.co_filename.startswith("<gpujit op "):
            return f.f_globals.get("_METHOD", False)
        f = f.f_back
    return False


def tensor_like_dispatch(func, args, kwargs):
    """func(*args, **kwargs) holding a tensor-like: the overloaded arguments' handlers
    answer. From then on, while the tensor-like's type exists, the dispatch layer and the
    public functions' check are on (F.mse_loss(d, d) sees it)."""
    over = _overloaded(tuple(args) + tuple(kwargs.values()), [], set())
    for a in over:
        t = type(a)
        if not isinstance(a, Tensor) and t not in _likes:
            _likes.add(t)
            weakref.finalize(t, _layer_needed, -1)
            _layer_needed(1)
    return _call_overloaded(func, over, tuple(args), kwargs)


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
    over = [] if _is_disabled() else _overloaded(args, [], set())
    if over or _mode_on():
        # (a Tensor method's or operator's entry point, entry_codegen._method_ns, calls
        # this: the handlers get the method, x + p's Tensor.add, as PyTorch's)
        method = _called_as_method()
        func, pos, kw = _public_call(op, args, method)
        return _call_overloaded(func, over, pos, kw)
    nxt = _S.profiler or _S.transforms
    return op.eager(*args) if nxt is None else nxt(op, args)


def _call_overloaded(func, over, args, kwargs, python_level=False):
    """The handlers' answer: this thread's innermost TorchFunctionMode first (popped while
    it runs, so the calls it makes go to the modes outside it, then to the subclasses),
    then the overloaded arguments' types in order. All NotImplemented: torch's TypeError
    (a Python-level function's words where python_level)."""
    types = tuple(type(a) for a in over)
    mode = None
    if _mode_on():
        with _pop_mode_temporarily() as mode:
            r = mode.__torch_function__(func, types, args, kwargs)
        if r is not NotImplemented:
            return r
    for a in over:
        r = type(a).__torch_function__(func, types, args, kwargs)
        if r is not NotImplemented:
            return r
    if python_level:
        msg = (f"no implementation found for '{_api_name(func)}' on types that implement "
               f"__torch_function__: {list(types)}")
        raise TypeError(msg + (f" nor in mode {mode}" if mode is not None else ""))
    kinds = "".join(f"  - tensor subclass {t}\n" for t in types)
    if mode is not None:
        kinds = f"  - mode object {mode}\n" + kinds
    raise TypeError(f"Multiple dispatch failed for '{_api_name(func)}'; all "
                    f"__torch_function__ handlers returned NotImplemented:\n\n{kinds}\n"
                    "For more information, try re-running with TORCH_LOGS=not_implemented")


def _api_name(func):
    """func's public name as PyTorch's errors spell it: torch.add, torch.Tensor.add,
    torch.nn.functional.mse_loss (else its module and qualified name)."""
    name = getattr(func, "__name__", None)
    qual = getattr(func, "__qualname__", None) or name or repr(func)
    if qual.startswith("Tensor."):
        return "torch." + qual
    if name and getattr(Tensor, name, None) is func:
        return "torch.Tensor." + name
    for modname in (("gpujit.nn.functional", "gpujit.functional")
                    + _function_entries._NAMESPACES + tuple(_function_entries._ONLY)):
        mod = _sys.modules.get(modname)
        if mod is None or not name:
            continue
        # (torch.linalg.norm's and torch.fft.fft's own names are linalg_norm / fft_fft)
        short = modname.rpartition(".")[2] + "_"
        for n in (name, name[len(short):] if name.startswith(short) else None):
            if n and vars(mod).get(n) is func:
                return "torch" + modname[len("gpujit"):] + "." + n
    mod = getattr(func, "__module__", None)
    return f"{mod + '.' if mod else ''}{qual}"


def _public_call(op, args, method=False):
    """(func, args, kwargs) of a registry op's call as the user's public API spells it:
    gpujit.<name> where there is one (unless `method`: the call was Tensor.<name>), else
    Tensor.<name>; positional parameters positional (trailing defaults dropped),
    keyword-only ones by name where they differ from their defaults."""
    import gpujit
    name = op.public_name
    func = None if method else getattr(gpujit, name, None)
    if not callable(func):
        # (a method of a subclass instance is seen at its entry point, with Tensor.<name>
        # as func; the ops seen here are function calls or calls on plain Tensors: the
        # function gpujit.<name> where there is one, even a Python wrapper of the op, as
        # torch.where, whose parameters are not Tensor.where's)
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
        items = [_convert(r, cls) for r in ret]
        if all(a is b for a, b in zip(items, ret)):
            return ret                  # (a Size, a tuple of numbers: as it is)
        return type(ret)(items) if not hasattr(type(ret), "_fields") else type(ret)(*items)
    return ret


def _foreign(func) -> bool:
    """Whether func is PyTorch's own (torch.add, Tensor.add's method descriptor, a getset's
    __get__): real torch, imported beside gpujit and given a gpujit Tensor, asks its
    __torch_function__ (its dispatcher sees the method); running func again would ask
    again, without end."""
    f = func.__self__ if type(func).__name__ == "method-wrapper" else func
    if isinstance(f, type):
        return False
    owner = getattr(f, "__objclass__", None)
    mod = getattr(owner if owner is not None else f, "__module__", None) or ""
    return mod == "torch" or mod.startswith("torch.")


def default_torch_function(cls, func, types, args=(), kwargs=None):
    """Tensor.__torch_function__: func with the protocol off, its Tensors returned as cls
    (NotImplemented when another type in types is not a superclass of cls, and for
    PyTorch's own functions: real torch then raises its "no implementation found" TypeError
    for a gpujit Tensor, as for any foreign tensor-like type)."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, t) for t in types) or _foreign(func):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        ret = func(*args, **kwargs)
        if func in _NOWRAP:
            return ret
        return _convert(ret, cls)


def name_tensor_methods():
    """Tensor's Python methods that are defined under another name (x.split is
    _split_method, x.flatten flatten_method) take their public one, as PyTorch's
    (a handler logging func.__name__ sees 'split'); an alias of another public method
    (x.absolute is x.abs) and a function that is also a public function of gpujit under its
    own name keep theirs."""
    import types
    import gpujit
    for name, v in list(vars(Tensor).items()):
        if (name.startswith("_") or type(v) is not types.FunctionType or v.__name__ == name
                or vars(Tensor).get(v.__name__) is v or getattr(gpujit, v.__name__, None) is v):
            continue
        v.__name__, v.__qualname__ = name, "Tensor." + name


# ------------------------------------------------------------------------ torch.overrides
def get_default_nowrap_functions():
    """Functions whose results Tensor.__torch_function__ does not turn into the subclass."""
    return set(_NOWRAP)


# (PyTorch's: the getters of _base and grad)
_NOWRAP = frozenset(p.__get__ for p in (_static(Tensor, "_base"), _static(Tensor, "grad"))
                    if isinstance(p, property))


def is_tensor_like(inp) -> bool:
    """A Tensor, or an object whose type defines __torch_function__."""
    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


def _relevant(relevant_args, plain=False):
    out, seen = [], set()
    for a in relevant_args:
        t = type(a)
        if (t in seen or (t is Tensor and not plain) or not hasattr(t, "__torch_function__")
                or not _active(t)):
            continue
        _add_in_order(out, seen, a)
    return out


def has_torch_function(relevant_args) -> bool:
    """Whether one of relevant_args (an iterable) overrides __torch_function__ (and the
    protocol is on), or a TorchFunctionMode is on."""
    return _mode_on() or (not _is_disabled() and bool(_relevant(relevant_args)))


def has_torch_function_unary(obj) -> bool:
    return has_torch_function((obj,))


def has_torch_function_variadic(*args) -> bool:
    return has_torch_function(args)


# (torch.overrides' names of torch._C's)
_has_torch_function, _has_torch_function_unary, _has_torch_function_variadic = (
    has_torch_function, has_torch_function_unary, has_torch_function_variadic)


def _get_overloaded_args(relevant_args, get_type_fn=None):
    """torch.overrides._get_overloaded_args: the arguments whose __torch_function__ is
    asked, in torch's order (plain Tensors' included: a subclass first, else left to
    right; one per type), get_type_fn(arg) giving an argument's type."""
    get_type = get_type_fn or type
    out, types = [], []
    for a in relevant_args:
        t = get_type(a)
        if t in types or not hasattr(t, "__torch_function__") or not _active(t):
            continue
        at = len(out)
        for i, b in enumerate(out):
            if issubclass(t, types[i]):
                at = i
                break
        out.insert(at, a)
        types.insert(at, t)
    return out


def _get_tensor_methods():
    """The Tensor methods a handler can get as func (properties' getters not: PyTorch's
    lists them under the property)."""
    return set(_overrides_listing.get_overridable_functions()[Tensor])


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Call the __torch_function__ of relevant_args' overriding types in torch's order
    (what a function that checked has_torch_function calls)."""
    over = [] if _is_disabled() else _relevant(relevant_args, plain=True)
    return _call_overloaded(public_api, over, args, kwargs, python_level=True)


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
    """Whether func is a method of Tensor or a property's __get__ (func(x, ...) gets x as
    self), as PyTorch's."""
    name = getattr(func, "__name__", None)
    return name is not None and (getattr(Tensor, name, None) is func or name == "__get__")


from ._torch_function_modes import (  # noqa: E402,F401  (torch.overrides' modes)
    TorchFunctionMode, BaseTorchFunctionMode, enable_reentrant_dispatch, _push_mode, _pop_mode,
    _pop_mode_temporarily, _get_current_function_mode, _get_current_function_mode_stack,
    _len_torch_function_stack, _get_function_stack_at, _is_torch_function_mode_enabled,
    _push_on_torch_function_stack, _pop_torch_function_stack)
from . import _overrides_listing  # noqa: E402
from ._overrides_listing import (  # noqa: E402,F401
    get_ignored_functions, get_overridable_functions, get_testing_overrides, resolve_name)
