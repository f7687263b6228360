"""TorchScript classes: a Python class compiled into a ClassType with typed attributes and
method graphs.

    @gpujit.jit.script                 # or used undecorated from scripted code
    class Pair:
        def __init__(self, a: Tensor, b: int):
            self.a = a                 # attribute types: annotations, else the value's
            self.b = b
        def total(self) -> Tensor:
            return self.a + self.b

`script_class(Pair)` compiles `__init__` first (its assignments to `self.<name>` declare
the attributes, typed by the class's annotations or by the assigned value), then every
other method (a method that calls another compiles that one first). In scripted code
`Pair(x, 1)` is `prim::CreateObject` followed by `prim::CallMethod[name="__init__"]`,
`p.a` is prim::GetAttr, `p.a = v` prim::SetAttr and `p.total()` prim::CallMethod whose
callee graph is in `node.meta["callee"]` (and in the ClassType's `methods`), so the inliner
flattens it. At run time an object is an instance of the user's class made without
calling its Python `__init__` (the graph's __init__ sets its attributes), so Python code
receiving it sees an ordinary Pair.

ClassValueMixin, the compiler's side (FunctionCompiler inherits it: creating objects,
reading, writing and calling on them, NamedTuple construction and field access), is
class_values.py's.
"""
from __future__ import annotations

import enum
import inspect
import threading
import typing
import weakref

from ...ir import types as T
from .calls import describe_type, is_gpujit_name
from .dataclass_methods import SYNTHESIZED, generated_by_dataclass, dataclass_method
from .errors import FrontendError
from .serialized import archive_function
from ..qualified_names import archive_name, unused_name

__all__ = ["script_class", "script_class_of", "is_scriptable_class", "object_value_type",
           "ScriptClass"]

# py class -> ScriptClass (a value's ClassType names its class: ClassType.py_class)
_CLASSES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()

# methods that are Python protocol, not TorchScript methods of the class
_SKIPPED_DUNDERS = {"__repr__", "__str__", "__eq__", "__hash__", "__getstate__",
                    "__setstate__", "__reduce__", "__reduce_ex__", "__init_subclass__",
                    "__class_getitem__", "__new__", "__del__", "__getattr__",
                    "__setattr__", "__delattr__", "__dir__", "__format__"}


class ScriptClass:
    """One compiled class: its ClassType (attributes, method graphs) and compile state."""

    def __init__(self, cls):
        self.cls = cls
        name = unused_name(cls, lambda n: _taken(n, cls))
        self.type = T.register_class_type(T.ClassType(name, py_class=cls,
                                                      shown=archive_name(cls)))
        self.defining = False          # compiling __init__: new attributes may appear
        self.in_progress = []          # method names being compiled
        self.class_methods = {}        # @classmethod graphs (not methods of the type)

    @property
    def name(self):
        return self.cls.__name__

    def python_method(self, name):
        prop = _property_part(self.cls, name)
        if prop is not None:                # __attr_getter / __attr_setter of a property
            return prop
        fn = archive_function(inspect.getattr_static(self.cls, name, None))
        if name == "__init__" and fn is object.__init__ and self.cls in _EXPLICIT:
            return _empty_init(self.cls)
        if inspect.isfunction(fn) and name in SYNTHESIZED and generated_by_dataclass(
                self.cls, fn):
            return dataclass_method(self.cls, name)
        return fn if inspect.isfunction(fn) else None

    def method_graph(self, name, caller=None, node=None):
        """The graph of method `name` (self first), compiled on first use."""
        g = self.type.methods.get(name)
        if g is not None:
            return g
        fn = self.python_method(name)
        where = node if caller is not None else None

        def fail(msg, hint=None):
            if caller is not None:
                caller.error(msg, where, hint=hint)
            raise FrontendError(msg, hint=hint)
        if fn is None:
            fail(f"class '{self.name}' has no method '{name}'",
                 hint="define it with def in the class body")
        if name in self.in_progress:
            cycle = " -> ".join(f"{self.name}.{m}" for m in self.in_progress + [name])
            fail(f"method '{name}' is called recursively. Recursive calls are not "
                 f"supported: recursive call of {self.name}.{name} ({cycle})",
                 hint="scripted methods cannot be recursive; write a loop")
        from .compiler import compile_function
        self.in_progress.append(name)
        outer_defining, self.defining = self.defining, name == "__init__"
        try:
            g = compile_function(fn, make_compiler=lambda f, src: _ClassMethodCompiler(
                f, src, self))
        except FrontendError as e:
            if not getattr(e, "_gpujit_class", False):
                e.args = (f"{e.args[0]}\n  (while scripting class {self.name}: method "
                          f"{name})",)
                e._gpujit_class = True
            raise
        finally:
            self.in_progress.pop()
            self.defining = outer_defining
        self.type.methods[name] = g
        return g

    def class_method_graph(self, name, fn):
        """The graph of @classmethod `name` (fn: its function), without its `cls`
        parameter: `cls` names the class in the body."""
        key = f"__classmethod__{name}"
        g = self.class_methods.get(key)
        if g is None:
            from .compiler import compile_function
            g = compile_function(fn, make_compiler=lambda f, src: _ClassLevelCompiler(
                f, src, self))
            self.class_methods[key] = g
        return g

    def compile_all(self):
        """__init__ (declares the attributes), then every other method."""
        from ...jit.script import function_modifier
        self.method_graph("__init__")
        for name, fn in list(vars(self.cls).items()):
            fn = archive_function(fn)
            if not inspect.isfunction(fn) or name == "__init__" or \
                    name in _SKIPPED_DUNDERS or function_modifier(fn) in ("ignore", "drop") \
                    or _dataclasses_own(fn):
                continue
            self.method_graph(name)


def _dataclasses_own(fn) -> bool:
    """A function of the dataclasses module itself that @dataclass put into the class:
    Python 3.13's `__replace__` (copy.replace's hook, dataclasses._replace, `**changes`).
    TorchScript lists a class's methods by their own names, so it never compiles it."""
    return getattr(fn, "__module__", None) == "dataclasses"


def _property_part(cls, name):
    """The getter / setter function of `@property attr` that method `__attr_getter` /
    `__attr_setter` (TorchScript's names for them) stands for, else None."""
    for suffix, part in (("_getter", "fget"), ("_setter", "fset")):
        if name.startswith("__") and name.endswith(suffix) and len(name) > 2 + len(suffix):
            prop = inspect.getattr_static(cls, name[2:-len(suffix)], None)
            if isinstance(prop, property) and inspect.isfunction(getattr(prop, part)):
                return getattr(prop, part)
    return None


def _taken(name, cls) -> bool:
    """Does another class (or a module's type) already go by this ClassType name?"""
    t = T.class_type(name)
    if t.py_class is not None:
        return t.py_class is not cls
    return bool(t.methods or t.attributes)


def is_scriptable_class(cls) -> bool:
    """A user class gpujit may compile as a TorchScript class: defined in Python with its
    own __init__, not a module, tensor, exception, enum or NamedTuple."""
    from ...nn.module import Module
    from ...tensor import Tensor
    if not inspect.isclass(cls) or cls.__module__ in ("builtins", "typing", "abc"):
        return False
    if is_gpujit_name(cls.__module__):
        return False
    if issubclass(cls, (Module, Tensor, BaseException, enum.Enum, tuple)):
        return False
    if cls in _EXPLICIT and _default_init(cls):     # @script on a class without __init__
        return True
    return inspect.isfunction(archive_function(inspect.getattr_static(cls, "__init__", None)))


def lacks_init(cls) -> bool:
    """A user class that would be a TorchScript class but for its missing __init__ (it
    takes object's): TorchScript refuses a call of it ("Class X does not have an __init__
    function defined")."""
    return inspect.isclass(cls) and _default_init(cls) and cls not in _EXPLICIT and \
        not is_scriptable_class(cls) and _would_script(cls)


def _would_script(cls) -> bool:
    from ...nn.module import Module
    from ...tensor import Tensor
    return cls.__module__ not in ("builtins", "typing", "abc") and \
        not is_gpujit_name(cls.__module__) and \
        not issubclass(cls, (Module, Tensor, BaseException, enum.Enum, tuple))


# classes given to gpujit.jit.script themselves: one without an __init__ of its own (it
# takes object's) is compiled too, with an empty __init__, as TorchScript compiles it
_EXPLICIT: "weakref.WeakSet" = weakref.WeakSet()


def _default_init(cls) -> bool:
    return inspect.getattr_static(cls, "__init__", None) is object.__init__


def mark_explicit(cls):
    """gpujit.jit.script(cls) was called: cls may be compiled without an __init__."""
    _EXPLICIT.add(cls)


def _empty_init(cls):
    """`def __init__(self) -> None: pass`, written as source (registered in linecache)
    for a class that takes object's __init__."""
    fn = _EMPTY_INITS.get(cls)
    if fn is None:
        import linecache
        src = "def __init__(self) -> None:\n    pass\n"
        filename = f"<default __init__ of {cls.__module__}.{cls.__qualname__}>"
        linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
        ns: dict = {}
        exec(compile(src, filename, "exec"), ns)
        fn = ns["__init__"]
        fn.__qualname__ = f"{cls.__qualname__}.__init__"
        fn.__module__ = cls.__module__
        _EMPTY_INITS[cls] = fn
    return fn


_EMPTY_INITS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def script_class_of(t) -> "ScriptClass | None":
    """The ScriptClass of a ClassType, or None (a module type, an unknown class)."""
    if not isinstance(t, T.ClassType) or isinstance(t, T.NamedTupleType):
        return None
    # by the type's own class only: a module's type may share the name (`__torch__.X`)
    return _CLASSES.get(t.py_class) if t.py_class is not None else None


def object_value_type(v):
    """The IR type of a Python object whose class scripted code can use (an instance of a
    script / scriptable class, compiled on first use, or a NamedTuple of typed fields),
    else None: for typing module attributes from their values."""
    if v is None:                 # `self.downsample = None`: None, which `is None` folds
        return T.NONE
    if isinstance(v, (set, frozenset)) and v:       # self.skip = {"b"}: a Set[str]
        elems = {T.type_of_value(x) if isinstance(x, (bool, int, float, str)) else None
                 for x in v}
        return T.SetType(elems.pop()) if len(elems) == 1 and None not in elems else None
    cls = type(v)
    if isinstance(v, tuple) and hasattr(cls, "_fields"):
        from .types import namedtuple_type
        try:
            return namedtuple_type(cls)
        except FrontendError:
            return None
    if is_scriptable_class(cls):
        return script_class(cls).type
    return None


def script_class(cls) -> ScriptClass:
    """Compile a class (once; later calls return the same ScriptClass). A class in the
    middle of compiling (its methods mention it) is returned as it is."""
    with _LOCK:
        got = _CLASSES.get(cls)
        if got is not None:
            return got
        if not is_scriptable_class(cls):
            raise FrontendError(f"class '{cls.__qualname__}' cannot be scripted: a "
                                f"TorchScript class is a plain Python class with its own "
                                f"__init__", hint="define __init__(self, ...) that assigns "
                                                  "the attributes")
        bases = [b for b in cls.__bases__ if b not in (object, typing.Generic)]
        if bases:
            raise FrontendError(f"class '{cls.__qualname__}' inherits from "
                                f"'{bases[0].__qualname__}': TorchScript classes does not "
                                f"support inheritance yet. Please directly inherit from "
                                f"'object'.")
        from .class_annotations import check_instance_annotations
        check_instance_annotations(cls)
        sc = ScriptClass(cls)
        _CLASSES[cls] = sc
        _declare_annotated(sc)
        try:
            sc.compile_all()
        except BaseException:
            _CLASSES.pop(cls, None)
            sc.type.methods.clear()
            sc.type.attributes.clear()
            raise
        return sc


def _declare_annotated(sc):
    """Class-level annotations (`x: Optional[Tensor]`) declare attribute types."""
    from .signatures import function_globals
    from .types import annotation_type
    ann = vars(sc.cls).get("__annotations__", {})
    init = sc.python_method("__init__")
    env = function_globals(init) if init is not None else {}
    import dataclasses
    for name, a in ann.items():
        if isinstance(a, dataclasses.InitVar) or (isinstance(a, str) and a.startswith((
                "InitVar[", "dataclasses.InitVar["))):
            continue                # a dataclass's __init__-only argument, no attribute
        t = annotation_type(a, env)
        _check_not_recursive(sc, name, t, lambda m: _raise(FrontendError(m)))
        sc.type.attributes[name] = t


def _raise(e):
    raise e


def _mentions(t, target) -> bool:
    """Does type t hold a value of type target (in an Optional, list, tuple, dict...)?"""
    if t == target:
        return True
    inner = [getattr(t, k, None) for k in ("elem", "key", "value")] + \
        list(getattr(t, "elems", ()) or ()) + list(getattr(t, "types", ()) or ())
    return any(isinstance(i, T.Type) and _mentions(i, target) for i in inner)


def _check_not_recursive(sc, name, t, fail):
    """An attribute may not hold the class itself: TorchScript has no recursive class
    types (a Tree whose `parent: Optional[Tree]`)."""
    if not isinstance(t, T.NamedTupleType) and _mentions(t, sc.type):
        fail(f"Assignment to attribute '{name}' cannot be of a type that contains class "
             f"'{sc.type}'.\nClasses that recursively contain instances of themselves are "
             f"not yet supported (the attribute '{name}' of {sc.name} is "
             f"{describe_type(t)})")


def _make_method_compiler():
    from .compiler import FunctionCompiler

    class ClassMethodCompiler(FunctionCompiler):
        """A method of a script class: `self` is graph input 0, of the class type."""

        def __init__(self, fn, src, sc):
            super().__init__(fn, src)
            self.script_class = sc
            # `@script class Pair:` compiles before the module binds the name Pair
            self.closure.setdefault(sc.cls.__name__, sc.cls)

        def signature(self):
            from .signatures import signature_types
            params, ret = signature_types(self.fn, self_type=self.script_class.type)
            if not params:
                self.error(f"method '{self.src.name}' has no `self` parameter",
                           self.src.fdef)
            if self.src.name == "__init__" and ret is None:
                ret = T.NONE
            return params, ret
    class ClassLevelCompiler(FunctionCompiler):
        """A @classmethod: its first parameter (`cls`) is not an input but the class."""

        def __init__(self, fn, src, sc):
            super().__init__(fn, src)
            self.script_class = sc
            first = next(iter(inspect.signature(fn).parameters), None)
            if first is None:
                self.error(f"classmethod '{self.src.name}' has no `cls` parameter",
                           self.src.fdef)
            self.closure[first] = sc.cls
            self.closure.setdefault(sc.cls.__name__, sc.cls)

        def signature(self):
            params, ret = super().signature()
            return params[1:], ret
    _LEVEL[0] = ClassLevelCompiler
    return ClassMethodCompiler


_LEVEL = [None]


def _ClassLevelCompiler(fn, src, sc):
    """A ClassLevelCompiler (made with ClassMethodCompiler, on first use)."""
    global _METHOD_COMPILER
    if _LEVEL[0] is None:
        _METHOD_COMPILER = _make_method_compiler()
    return _LEVEL[0](fn, src, sc)


def _ClassMethodCompiler(fn, src, sc):
    """A ClassMethodCompiler (the class is made on first use: compiler.py imports this
    module)."""
    global _METHOD_COMPILER
    if _METHOD_COMPILER is None:
        _METHOD_COMPILER = _make_method_compiler()
    return _METHOD_COMPILER(fn, src, sc)


_METHOD_COMPILER = None
