"""`gpujit.script` and the decorators and helpers of TorchScript's language
(`ignore`, `unused`, `export`, `is_scripting`, `annotate`, `Final`, `Attribute`,
`script_if_tracing`, `jit.isinstance`), as `torch.jit` spells them.

The markers only record an attribute on the function; the script compiler reads them
through `function_modifier(fn)`. `GPUJIT_JIT=0` (or `PYTORCH_JIT=0`, for code ported from
PyTorch) in the environment, read at each call, turns `script` and `trace` into the
identity so that the user's code runs, and can be debugged, as plain Python.
"""
from __future__ import annotations

import functools
import inspect
import typing
import warnings
import weakref

from ..frontend.script.errors import FrontendError, lambda_error
from ..nn.module import Module
from .objects import ScriptFunction, ScriptModule

__all__ = ["script", "jit_enabled", "ignore", "unused", "export", "function_modifier",
           "is_scripting", "annotate", "Final", "Attribute", "unwrap_attribute",
           "script_if_tracing", "jit_isinstance", "_unwrap_optional"]

Final = typing.Final


def jit_enabled() -> bool:
    """False when GPUJIT_JIT=0 or PYTORCH_JIT=0 is set, or after torch.jit._state.disable():
    script/trace return their input (jit/_state.py)."""
    from ._state import _enabled
    return _enabled.enabled


# compiled functions, so that scripting a function twice (or a decorator and a call of
# script on the same function) compiles once: kept in the function's own __dict__ as
# [a weak reference to the function, its compiled form without it (ScriptFunction.
# _detached), a weak reference to the ScriptFunction last handed out]. Not a weak-keyed
# table: the compiled form reaches the function's globals (and through them the function),
# so a table's value kept its own key alive (a module run by runpy and dropped kept its
# scripted functions' kernels), and where the function died in a cycle its entry went only
# at the next collection. On the function, both go in the same collection. (The weak
# reference back tells the function's entry from one functools.wraps copied into a wrapper.)
_CACHE_ATTR = "__gpujit_compiled__"


def _cache_entry(fn):
    entry = getattr(fn, "__dict__", {}).get(_CACHE_ATTR)
    if type(entry) is list and len(entry) == 3 and entry[0]() is fn:
        return entry
    return None


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Compile a Python function into a ScriptFunction (`@gpujit.script` or
    `gpujit.script(fn)`), or an nn.Module instance, recursively, into a
    RecursiveScriptModule (its forward, the methods forward calls and @export methods;
    see frontend/script/modules.py), or a class into a TorchScript class (the class is
    returned; see frontend/script/classes.py). Names in the body resolve in the
    function's globals and closure (`_frames_up` / `_rcb` are accepted for torch.jit
    compatibility and not needed). `example_inputs`: a list of argument tuples; each
    unannotated parameter takes the type of its example values (a module's forward's, for
    a module); a `{callable: [argument tuples]}` dict types each module's forward (or the
    function) it names, as torch.jit.script with MonkeyType. A list or
    dict becomes a ScriptList / ScriptDict (jit/script_containers.py)."""
    if not jit_enabled():
        return obj
    if optimize is not None:
        warnings.warn("`optimize` is deprecated and has no effect; gpujit always runs the "
                      "optimization pipeline", FutureWarning, stacklevel=2)
    from .._gc import gc_paused
    with gc_paused():   # (scripting allocates a few 100k short-lived objects: see _gc.py)
        return _script(obj, example_inputs)


def _plain_instance(obj) -> bool:
    """Is obj an instance of a user's plain class (no function, class, module, Tensor)?"""
    import types
    from ..ops.registry import _Tensor
    cls = type(obj)
    return not (inspect.isroutine(obj) or inspect.isclass(obj) or inspect.ismodule(obj)
                or isinstance(obj, (_Tensor, types.FunctionType))) and \
        cls.__module__ not in ("builtins", "functools") and hasattr(obj, "__dict__") and \
        not cls.__module__.startswith(("gpujit.", "torch.", "enum"))


def _script_instance(obj):
    """torch.jit.script(obj) of an instance of a plain class: the class is compiled (its
    errors raised) and a new object of it returned, its attributes obj's converted to
    the attribute types, as torch 2.13's create_script_class copies them (changing the
    result leaves obj alone)."""
    from ..frontend.script.classes import script_class, mark_explicit
    from ..ir import types as T
    from ..runtime.arguments import _convert, _Mismatch, _cast_details, _culprit, copied
    cls = type(obj)
    mark_explicit(cls)
    script_class(cls)
    t = T.class_type_of_object(obj)
    new = cls.__new__(cls)
    for name, at in (t.attributes.items() if t is not None else ()):
        if not hasattr(obj, name):
            raise RuntimeError(f"Tried to cast object to type {t.annotation()} but object "
                               f"was missing attribute {name}")
        v = getattr(obj, name)
        try:
            object.__setattr__(new, name, copied(_convert(v, at)))
        except _Mismatch:
            why = _cast_details(*_culprit(v, at)).replace("\nCast error details: ", ": ", 1)
            raise RuntimeError(f"Could not cast attribute '{name}' to type "
                               f"{at.annotation()}{why}") from None
    return new


def _script(obj, example_inputs):
    if isinstance(obj, (ScriptFunction, ScriptModule)):
        return obj
    if not example_inputs:
        example_inputs = None       # (an empty one too, as torch's: nothing to learn from)
    else:
        from ..frontend.script.examples import check_example_inputs
        check_example_inputs(example_inputs)    # (torch's ValueError)
    if hasattr(obj, "__script_unsupported"):    # (@autocast()-decorated functions)
        raise RuntimeError("TorchScript error: " + getattr(obj, "__script_unsupported"))
    if isinstance(obj, (list, dict)):      # TorchScript's ScriptList / ScriptDict
        from .script_containers import ScriptList, ScriptDict
        if isinstance(obj, (ScriptList, ScriptDict)):
            return obj
        return ScriptList(obj) if isinstance(obj, list) else ScriptDict(obj)
    if isinstance(obj, Module):
        # __prepare_scriptable__ first, as torch.jit.script: torchaudio's wav2vec2 removes
        # its positional convolution's weight_norm parametrization there
        obj = _prepare_scriptable(obj, {})
        if isinstance(obj, Module):
            _refuse_parametrized(obj)
    elif hasattr(obj, "__prepare_scriptable__") and not inspect.isclass(obj):
        obj = obj.__prepare_scriptable__()
        if isinstance(obj, (ScriptFunction, ScriptModule)):
            return obj
    if isinstance(obj, Module):
        from ..frontend.script.modules import script_module
        from ..frontend.script.module_attrs import warn_instance_annotations
        warn_instance_annotations(obj)
        if example_inputs is None:
            return script_module(obj)
        from ..frontend.script.types import example_types_for_modules
        with example_types_for_modules(obj, example_inputs):
            return script_module(obj)
    if inspect.isclass(obj):
        if issubclass(obj, Module):
            raise FrontendError(f"scripting nn.Module classes is not supported (got class "
                                f"{obj.__qualname__}); gpujit.script compiles module "
                                f"instances",
                                hint=f"script an instance: gpujit.script({obj.__name__}(...))")
        from ..frontend.script.enums import is_enum_class, enum_type
        if is_enum_class(obj):          # an Enum: its type checked (TorchScript's errors)
            enum_type(obj)
            return obj
        from ..frontend.script.classes import script_class, mark_explicit
        mark_explicit(obj)
        script_class(obj)
        return obj
    original = getattr(obj, "_gpujit_original_fn", None)     # a script_if_tracing wrapper
    if original is not None:
        obj = original
    from ..frontend.script.library_functions import library_home, script_library_function
    home = library_home(obj) if inspect.isfunction(obj) else None
    from .._jit_internal import _get_overloads
    if inspect.isfunction(obj) and home is None and _get_overloads(obj):
        # (a library function's, F.interpolate's, names torch's module: library_functions)
        from ..frontend.qualified_names import qualified_name
        raise FrontendError(
            f"Function {qualified_name(obj)} cannot be directly compiled because it is "
            f"overloaded. It must be used in a context of a function where its inputs can "
            f"determine which overload to call.")
    own = None
    if home is not None:        # torch.jit.script(F.relu): see library_functions.py
        own, obj = obj, script_library_function(obj, *home)
    if inspect.ismethod(obj) and inspect.isfunction(obj.__func__):
        # a bound method (an nn.Module's too): torch 2.13 compiles its function, `self` a
        # parameter like another (an inferred Tensor: `self.weight` is an error, `def
        # other(self, x: Tensor)` a ScriptFunction of two arguments)
        obj = obj.__func__
    call = getattr(type(obj), "__call__", None)
    if not inspect.isfunction(obj) and inspect.isfunction(call) and any(
            p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            for p in inspect.signature(call).parameters.values()):
        raise FrontendError(
            f"Compiled functions can't take variable number of arguments or use "
            f"keyword-only arguments with defaults ({type(obj).__name__}.__call__)",
            hint="give the class a __prepare_scriptable__ that returns a scriptable "
                 "function or module")
    if _plain_instance(obj):
        return _script_instance(obj)
    if not inspect.isfunction(obj) and type(obj).__module__ == "builtins" and \
            not inspect.isbuiltin(obj):
        # (torch.jit.script(3), script(None): PyTorch's TypeError, from its class lookup)
        raise TypeError(f"{type(obj)} is a built-in class")
    if not inspect.isfunction(obj):
        raise FrontendError(
            f"gpujit.script compiles Python functions; got {type(obj).__name__} "
            f"{getattr(obj, '__name__', '')!s}".rstrip(),
            hint="pass a function defined with def (or decorate it with @gpujit.script)")
    if obj.__name__ == "<lambda>":
        raise lambda_error(obj)
    if example_inputs is None:
        cached = _cache_entry(obj)
        if cached is not None:
            fn = cached[2]()
            if fn is None:
                fn = cached[1]._rebound(obj)
                cached[2] = weakref.ref(fn)
            return fn
    from ..frontend.script import compile_function
    arg_types = None
    if example_inputs is not None:
        from ..frontend.script.types import types_from_examples
        if isinstance(example_inputs, dict):
            # {callable: [argument tuples]}, as torch.jit.script runs each callable on its
            # examples under MonkeyType: the function's own entry types it
            example_inputs = next((v for k, v in example_inputs.items()
                                   if k is obj or getattr(k, "__wrapped__", None) is obj), [])
        params, _ = types_from_examples(obj, example_inputs)
        arg_types = [t for _, t in params]
    try:
        graph = compile_function(obj, arg_types=arg_types)
    except FrontendError:
        if own is None or own is obj:
            raise
        # a library function whose call scripted code cannot make with its parameters'
        # values (not constants): its own source, when that compiles (F.normalize)
        try:
            graph = compile_function(own, arg_types=arg_types)
        except FrontendError:
            pass
        else:
            obj = own
        if obj is not own:
            raise
    fn = ScriptFunction(graph, obj.__name__, obj)
    fn.__module__ = obj.__module__
    if example_inputs is None:
        obj.__dict__[_CACHE_ATTR] = [weakref.ref(obj), fn._detached(), weakref.ref(fn)]
    return fn


def _prepare_scriptable(obj, memo):
    """The module to script for `obj`: what its `__prepare_scriptable__()` returns, if it
    has one, with its submodules (in _modules and plain attributes) replaced the same way,
    recursively; the originals' _modules are updated in place, as torch.jit does."""
    if not isinstance(obj, Module) or isinstance(obj, ScriptModule):
        return obj
    key = id(obj)
    if key in memo:
        return memo[key]
    if hasattr(obj, "__prepare_scriptable__"):
        obj = obj.__prepare_scriptable__()
    memo[key] = obj
    if not isinstance(obj, Module):
        return obj
    subs = obj.__dict__.get("_modules") or {}
    for k, v in list(subs.items()):
        subs[k] = _prepare_scriptable(v, memo)
    for k, v in list(obj.__dict__.items()):
        if k != "_modules" and isinstance(v, Module) and not isinstance(v, ScriptModule):
            obj.__dict__[k] = _prepare_scriptable(v, memo)
    return obj


def _refuse_parametrized(module):
    """torch.nn.utils.parametrize does not work with scripting (TorchScript compiles the
    property and raises when it runs): refused up front, naming the module."""
    from ..nn.utils.parametrize import is_parametrized
    todo, seen = [("", module)], set()
    while todo:                 # (named_modules needs Module.__init__ to have run)
        name, m = todo.pop(0)
        if id(m) in seen:
            continue
        seen.add(id(m))
        subs = m.__dict__.get("_modules") or {}
        todo += [(f"{name}.{k}" if name else k, c) for k, c in subs.items()
                 if isinstance(c, Module)]
        if is_parametrized(m):
            from ..runtime.interpreter import Error
            where = f"the submodule '{name}'" if name else "the module"
            raise Error(f"Parametrization is not working with scripting: {where} "
                        f"({type(m).__bases__[0].__name__}) has parametrized tensors "
                        f"({', '.join(m.parametrizations)}); script it after "
                        f"parametrize.remove_parametrizations, or trace it")


# ------------------------------------------------------------------ function markers

class _IgnoreContextManager:
    """`with torch.jit._IgnoreContextManager(a="inp:int", c="out:int"):` marks a block
    that scripted code runs in Python (frontend/script/ignore_blocks.py); the keywords
    name the block's inputs and outputs with their TorchScript types. In eager code it
    does nothing."""

    def __init__(self, **kwargs):
        pass

    def __enter__(self):
        return None

    def __exit__(self, exc_type, exc_value, traceback):
        return None


def ignore(drop=False, **kwargs):
    """`@ignore`: the compiler leaves the function in Python and calls it from the graph
    (a prim::PythonOp typed by the function's annotations; an unannotated result is a
    Tensor). A model that calls one cannot be saved (an archive holds no Python): see
    frontend/script/python_calls.py, `python_ops_in` / `check_no_python_ops`.
    `@ignore(drop=True)`: the call is replaced by a raise (as `@unused`)."""
    if callable(drop):              # used bare: @ignore
        drop._gpujit_ignore = True
        return drop
    if not isinstance(drop, bool):      # torch 2.13's class and words
        raise RuntimeError("Argument to @torch.jit.ignore must be a bool or a function but "
                           f"got {drop}")
    drop_on_export = kwargs.pop("drop_on_export", None)    # torch's pre-1.2 spelling
    if drop_on_export or drop:          # torch 2.13 warns for both (the same FutureWarning)
        what = "ignore(drop_on_export=True)" if drop_on_export else "ignore(True)"
        warnings.warn(f"{what} has been deprecated. TorchScript will now drop the function "
                      "call on compilation. Use torch.jit.unused now. {}",
                      FutureWarning, stacklevel=2)
        drop = bool(drop_on_export) or drop
    if kwargs:
        raise TypeError(f"ignore() got unexpected arguments {sorted(kwargs)}")

    def decorator(fn):
        fn._gpujit_ignore = "drop" if drop else True
        return fn
    return decorator


def unused(fn):
    """The compiler replaces the function's body (or calls of it) with a raise, so code
    the compiler cannot handle may stay in a module that is scripted. On a property,
    marks its getter and setter."""
    if isinstance(fn, property):
        for part in (fn.fget, fn.fset):
            if part is not None:
                part._gpujit_unused = True
        return fn
    fn._gpujit_unused = True
    return fn


def export(fn):
    """Compile this method of a scripted module even if `forward` does not call it."""
    fn._gpujit_export = True
    return fn


def script_method(fn):
    """`@torch.jit.script_method` on a method of a `torch.jit.ScriptModule` subclass (the
    deprecated way to script a module): the method is compiled when an instance has been
    constructed (gpujit/jit/objects.py ScriptModule.__init_subclass__)."""
    fn._gpujit_export = True
    fn._gpujit_script_method = True
    return fn


def function_modifier(fn) -> str | None:
    """'export', 'ignore', 'drop' (ignore(drop=True) and @unused) or None: how the
    compiler treats a function or method."""
    fn = getattr(fn, "__func__", fn)
    ig = getattr(fn, "_gpujit_ignore", None)
    if getattr(fn, "_gpujit_unused", False) or ig == "drop":
        return "drop"
    if ig:
        return "ignore"
    if getattr(fn, "_gpujit_export", False):
        return "export"
    return None


# ------------------------------------------------------------------ language helpers

def is_scripting() -> bool:
    """False in Python; scripted code sees True (the compiler folds the call), so
    `if not gpujit.jit.is_scripting(): ...` keeps Python-only code out of graphs."""
    return False


def annotate(the_type, the_value):
    """The value, unchanged; tells the compiler its type (`annotate(List[int], [])`)."""
    return the_value


class Attribute(tuple):
    """`gpujit.jit.Attribute(value, type)`: a module attribute with a declared type
    (`self.names = Attribute({}, Dict[str, int])`). As in torch.jit it is a
    `(value, type)` pair while the JIT is on; Module.__setattr__ stores the value and
    records the type (see `unwrap_attribute`). With the JIT off it is just the value."""
    __slots__ = ()

    def __new__(cls, value, type):
        if not jit_enabled():
            return value
        return tuple.__new__(cls, (value, type))

    @property
    def value(self):
        return self[0]

    @property
    def type(self):
        return self[1]

    def __repr__(self):
        return f"Attribute(value={self[0]!r}, type={self[1]!r})"


def unwrap_attribute(owner, name, value):
    """For `__setattr__` of modules: the value to store, recording an Attribute's declared
    type in the class's `__annotations__` (where the module compiler reads attribute
    types)."""
    if isinstance(value, Attribute):
        cls = type(owner)
        if "__annotations__" not in cls.__dict__:
            cls.__annotations__ = {}
        cls.__annotations__[name] = value.type
        return value.value
    return value


def script_if_tracing(fn):
    """Run `fn` in Python, but script it when it is called while tracing, so that its
    control flow is recorded (prim::If / prim::Loop) instead of the path one input took."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .trace import is_tracing
        if not is_tracing():
            return fn(*args, **kwargs)
        compiled = script(fn)
        return compiled(*args, **kwargs)
    wrapper._gpujit_original_fn = fn
    return wrapper


def _unwrap_optional(x):
    """torch.jit._unwrap_optional(x): x, which must not be None (scripted code narrows an
    Optional[T] to T with it, raising "Unwrapping null optional" on None)."""
    if x is None:
        raise AssertionError("Unwrapping null optional")
    return x


def jit_isinstance(obj, target_type) -> bool:
    """`gpujit.jit.isinstance(obj, List[int])`: isinstance for TorchScript types, checking
    containers element by element (an empty list is a List of anything)."""
    import typing
    from ..frontend.script.types import annotation_type, value_matches_type
    msg = bare_generic_message(target_type)
    if msg is not None:
        raise RuntimeError(msg)
    if target_type is typing.Any:
        # (torch 2.13 hands a non-generic class to Python's isinstance: TypeError
        # "typing.Any cannot be used with isinstance()")
        return isinstance(obj, target_type)
    _warn_empty_containers(obj, target_type)
    return value_matches_type(obj, annotation_type(target_type))


EMPTY_CONTAINER_WARNING = (
    "The inner type of a container is lost when calling torch.jit.isinstance in eager "
    "mode. For example, List[int] would become list and therefore falsely return True "
    "for List[float] or List[str].")


def _warn_empty_containers(obj, t):
    """torch 2.13's container_checker warns (UserWarning) for each empty list, dict or
    tuple it meets where the type asks for a List / Dict / Tuple, nested ones too."""
    import typing
    import warnings
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is typing.Union:
        for a in args:
            if typing.get_origin(a) is not None and obj is not None:
                _warn_empty_containers(obj, a)
                return
        return
    if origin not in (list, dict, tuple):
        return
    if type(obj) in (list, dict, tuple) and len(obj) == 0:
        # (pointing here, as torch's points into torch/_jit_internal.py: shown once per
        # process under the default filter)
        warnings.warn(EMPTY_CONTAINER_WARNING, UserWarning)
    if origin is list and type(obj) is list and args:
        for x in obj:
            _warn_empty_containers(x, args[0])
    elif origin is dict and type(obj) is dict and len(args) == 2:
        for x in obj.values():
            _warn_empty_containers(x, args[1])
    elif origin is tuple and type(obj) is tuple and len(args) == len(obj):
        for x, a in zip(obj, args):
            _warn_empty_containers(x, a)


def bare_generic_message(cls):
    """TorchScript's error for typing.List / Tuple / Optional / Dict without the types they
    contain (isinstance(x, List) cannot say which lists), else None."""
    import typing
    for name in ("List", "Tuple", "Optional"):
        if cls is getattr(typing, name):
            return (f"Attempted to use {name} without a contained type. Please add a "
                    f"contained type, e.g. {name}[int]")
    if cls is typing.Dict:
        return ("Attempted to use Dict without contained types. Please add contained "
                "type, e.g. Dict[int, int]")
    return None
