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

ClassValueMixin is the compiler's side (FunctionCompiler inherits it): creating objects,
reading, writing and calling on them, and NamedTuple construction and field access.
"""
from __future__ import annotations

import enum
import inspect
import threading
import typing
import weakref

from ...ir import types as T
from .calls import describe_type
from .dataclass_methods import SYNTHESIZED, generated_by_dataclass, dataclass_method
from .errors import FrontendError

__all__ = ["script_class", "script_class_of", "is_scriptable_class", "object_value_type",
           "ScriptClass", "ClassValueMixin"]

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
        name = "__torch__." + cls.__qualname__.replace(".<locals>", "")
        k = 0
        while _taken(name, cls):
            name = f"__torch__.___torch_mangle_{k}.{cls.__name__}"
            k += 1
        self.type = T.register_class_type(T.ClassType(name, py_class=cls))
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
        fn = inspect.getattr_static(self.cls, name, None)
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
            if not inspect.isfunction(fn) or name == "__init__" or \
                    name in _SKIPPED_DUNDERS or function_modifier(fn) in ("ignore", "drop"):
                continue
            self.method_graph(name)


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
    if cls.__module__.startswith("gpujit") and not cls.__module__.startswith("gpujit_"):
        return False
    if issubclass(cls, (Module, Tensor, BaseException, enum.Enum, tuple)):
        return False
    if cls in _EXPLICIT and _default_init(cls):     # @script on a class without __init__
        return True
    return inspect.isfunction(inspect.getattr_static(cls, "__init__", None))


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
        fail(f"the attribute '{name}' of {sc.name} is {describe_type(t)}: recursive "
             f"class types are not supported (a class's attributes cannot hold the class "
             f"itself)")


def _generalized(t):
    if isinstance(t, T.TensorType):
        return T.TENSOR
    if isinstance(t, T.ListType) and isinstance(t.elem, T.TensorType):
        return T.ListType(T.TENSOR)
    return t


def _fits(value_type, t):
    return value_type.is_subtype_of(t) or (isinstance(value_type, T.TensorType)
                                           and isinstance(t, T.TensorType))


# ---------------------------------------------------------------------- compiler side

class ClassValueMixin:
    """Objects of scripted classes and NamedTuples in the function compiler."""

    # ---- construction
    def construct(self, cls, node):
        """`Pair(...)` for a script (or scriptable) class, `Point(...)` for a NamedTuple
        class; None when cls is neither."""
        if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
            return self.construct_namedtuple(cls, node)
        if not is_scriptable_class(cls):
            return None
        try:
            sc = script_class(cls)
        except FrontendError as e:
            if not getattr(e, "_gpujit_class", False) and e.source_range is None:
                self.error(str(e.args[0]), node)
            raise
        if "__init__" in sc.in_progress:
            self.error(f"{sc.name}.__init__ creates a {sc.name}; a class cannot construct "
                       f"itself while it is being defined", node)
        obj = self.emit("prim::CreateObject", [], [sc.type]).output
        self.object_method_call(obj, sc, "__init__", node)
        return obj

    def class_new(self, func, node):
        """`Pair.__new__(Pair)`: an object of the script class with no attribute set yet
        (prim::CreateObject, TorchScript's spelling of a construction whose __init__ was
        inlined, as frozen or inlined code prints it); None when func's owner is not a
        script class."""
        found, cls = self.py_object(func.value)
        if not (found and isinstance(cls, type) and is_scriptable_class(cls)) or \
                issubclass(cls, tuple):
            return None
        sc = script_class(cls)
        if len(node.args) != 1 or node.keywords or \
                self.py_object(node.args[0]) != (True, cls):
            self.error(f"{sc.name}.__new__ takes the class itself: "
                       f"{sc.name}.__new__({sc.name})", node)
        return self.emit("prim::CreateObject", [], [sc.type]).output

    def construct_namedtuple(self, cls, node):
        from .types import namedtuple_type
        t = namedtuple_type(cls)
        fields = list(t.fields)
        args, kwargs = self.call_args(node)
        what = cls.__name__
        if len(args) > len(fields):
            self.error(f"{what}() takes {len(fields)} fields but {len(args)} were given",
                       node)
        bound = dict(zip(fields, args))
        for k, v in kwargs.items():
            if k not in fields:
                self.error(f"{what}() has no field '{k}' (its fields: "
                           f"{', '.join(fields)})", node)
            if k in bound:
                self.error(f"{what}() got field '{k}' both by position and by name", node)
            bound[k] = v
        defaults = getattr(cls, "_field_defaults", {})
        values = []
        for f, ft in zip(fields, t.elems):
            v = bound.get(f)
            if v is None:
                if f not in defaults:
                    self.error(f"{what}() is missing field '{f}'", node)
                v = self.constant_value(defaults[f], node)
            v = self.number_as(v, ft)       # a Scalar (x.item()) for a float / int field
            if not _fits(v.type, ft):
                self.error(f"Expected a value of type '{ft.annotation()}' for argument "
                           f"'{f}' but instead found type '{v.type.annotation()}': field "
                           f"'{f}' of {what} is {describe_type(ft)}, got "
                           f"{describe_type(v.type)}", node)
            values.append(v)
        return self.emit("prim::TupleConstruct", values, [t]).output

    # ---- attributes
    def namedtuple_field(self, v, node):
        t = v.type
        if node.attr not in t.fields:
            self.error(f"{t.annotation()} has no field '{node.attr}' (its fields: "
                       f"{', '.join(t.fields)})", node)
        k = t.fields.index(node.attr)
        return self.emit("prim::TupleIndex", [v, self.const(k)], [t.elems[k]]).output

    def object_attr(self, v, sc, node):
        name = node.attr
        t = sc.type.attributes.get(name)
        if t is None and sc.python_method(f"__{name}_getter") is not None:
            return self.dunder_call(v, f"__{name}_getter", [], node)     # a @property
        if t is None:
            if sc.python_method(name) is not None:
                self.error(f"method '{name}' of {sc.name} can only be called here, not used "
                           f"as a value", node, hint=f"call it: .{name}(...)")
            if sc.defining:
                self.error(f"the attribute '{name}' of {sc.name} is read before __init__ "
                           f"assigns it", node, hint=f"assign self.{name} first")
            self.error(f"class '{sc.name}' has no attribute '{name}'", node,
                       hint=f"assign self.{name} in {sc.name}.__init__")
        out = self.emit("prim::GetAttr", [v], [t], attrs={"name": name}).output
        return out

    def object_setattr(self, v, sc, name, value, node, declared=None):
        t = sc.type.attributes.get(name)
        if t is None and sc.python_method(f"__{name}_setter") is not None:
            self.dunder_call(v, f"__{name}_setter", [value], node)      # a @property
            return
        if t is None and sc.python_method(f"__{name}_getter") is not None:
            self.error(f"the property '{name}' of {sc.name} has no setter", node)
        if t is None:
            if not (sc.defining and self.in_own_init(v, sc)):
                self.error(f"class '{sc.name}' has no attribute '{name}'; attributes are "
                           f"declared by assigning them in __init__", node,
                           hint=f"assign self.{name} in {sc.name}.__init__")
            if self.block is not self.graph.block:
                self.error(f"First assignment cannot be in a control-flow block: the "
                           f"attribute '{name}' of {sc.name} would not exist on every path",
                           node, hint=f"initialize self.{name} at the top level of "
                                      f"__init__ first")
            if isinstance(value.type, T.NoneType) and declared is None:
                self.error(f"the attribute '{name}' of {sc.name} is assigned None, so its "
                           f"type is unknown", node,
                           hint=f"annotate it in the class body: {name}: Optional[Tensor]")
            t = declared or _generalized(value.type)
            _check_not_recursive(sc, name, t, lambda m: self.error(m, node))
            sc.type.attributes[name] = t
        if not _fits(value.type, t):
            self.error(f"the attribute '{name}' of {sc.name} is {describe_type(t)}; it "
                       f"cannot be assigned {describe_type(value.type)}", node)
        self.emit("prim::SetAttr", [v, value], [], attrs={"name": name})

    def in_own_init(self, v, sc):
        return bool(self.graph.inputs) and v is self.graph.inputs[0] and \
            getattr(self, "script_class", None) is sc

    # ---- calls
    def class_level_call(self, sc, name, node):
        """`obj.create(a)` / `Cls.create(a)` of a @staticmethod or @classmethod (its
        `cls` is the class), compiled as a function; None when `name` is neither."""
        import functools
        raw = inspect.getattr_static(sc.cls, name, None)
        if isinstance(raw, staticmethod):
            return self.call_python_function(raw.__func__, node)
        if not isinstance(raw, classmethod):
            return None
        fn = raw.__func__
        graph = sc.class_method_graph(name, fn)
        return self.call_function(functools.partial(fn, sc.cls), graph,
                                  f"{sc.name}_{name}", node)

    def object_method_call(self, v, sc, name, node):
        from ...jit.script import function_modifier
        fn = sc.python_method(name)
        if fn is None:
            got = self.class_level_call(sc, name, node)
            if got is not None:
                return got
            if name in sc.type.attributes:
                self.error(f"the attribute '{name}' of {sc.name} is not callable", node)
            self.error(f"class '{sc.name}' has no method '{name}'", node)
        modifier = function_modifier(fn)
        if modifier in ("ignore", "drop"):
            from .python_calls import python_call, dropped_call
            args, kwargs = self.call_args(node)
            if modifier == "drop":
                return dropped_call(self, fn, f"{sc.name}.{name}", node)
            return python_call(self, fn, [v] + list(args), kwargs, node, method=True)
        graph = sc.method_graph(name, self, node)
        what = f"{sc.name}.{name}"
        values = self.bind_call(fn, graph.inputs[1:], what, node, skip_self=True)
        outs = [o.type for o in graph.outputs]
        n = self.emit("prim::CallMethod", [v] + values, outs, attrs={"name": name})
        n.meta["callee"] = graph
        if len(outs) == 1:
            return n.output
        return self.emit("prim::TupleConstruct", n.outputs,
                         [T.TupleType(tuple(outs))]).output

    def has_dunder(self, v, name):
        """Does v's script class define the method `name` (`__contains__`, `__lt__`)?"""
        sc = script_class_of(v.type)
        return sc is not None and sc.python_method(name) is not None

    def dunder_call(self, v, name, args, node, result=None):
        """v.name(*args) for a protocol method (`x in obj` is obj.__contains__(x)), args
        already evaluated; `result` is the type the protocol needs it to return."""
        sc = script_class_of(v.type)
        graph = sc.method_graph(name, self, node)
        what = f"{sc.name}.{name}"
        params = graph.inputs[1:]
        if len(args) != len(params):
            self.error(f"{what}() takes {len(params)} argument"
                       f"{'s' if len(params) != 1 else ''} but {len(args)} were given", node)
        for i, (a, p) in enumerate(zip(args, params)):
            if not _fits(a.type, p.type):
                self.error(f"argument {i + 1} of {what}() expects {describe_type(p.type)}, "
                           f"got {describe_type(a.type)}", node)
        outs = [o.type for o in graph.outputs]
        if result is not None and (len(outs) != 1 or not _fits(outs[0], result)):
            got = describe_type(outs[0]) if len(outs) == 1 else "a tuple"
            self.error(f"{what} must return {describe_type(result)}, it returns {got}", node)
        n = self.emit("prim::CallMethod", [v] + list(args), outs, attrs={"name": name})
        n.meta["callee"] = graph
        if len(outs) == 1:
            return n.output
        return self.emit("prim::TupleConstruct", n.outputs,
                         [T.TupleType(tuple(outs))]).output

    def bind_call(self, fn, params, what, node, skip_self=False):
        """The argument Values of a call, bound by fn's Python signature (keywords,
        defaults) and checked against the parameter Values' types."""
        args, kwargs = self.call_args(node)
        sig = inspect.signature(fn)
        plist = list(sig.parameters.values())[1 if skip_self else 0:]
        by_name = dict(zip([p.name for p in plist], range(len(plist))))
        values = [None] * len(plist)
        positional = sum(p.kind != p.KEYWORD_ONLY for p in plist)
        if len(args) > positional and positional < len(plist):
            self.error(f"{what}() takes {positional} positional argument"
                       f"{'s' if positional != 1 else ''} but {len(args)} were given "
                       f"(the others are keyword-only)", node)
        if len(args) > len(plist):
            n_self = 1 if skip_self else 0                  # TorchScript counts self
            self.error(f"Expected at most {len(plist) + n_self} arguments but found "
                       f"{len(args) + n_self} positional arguments: "
                       f"{what}() takes {len(plist)} argument{'s' if len(plist) != 1 else ''}"
                       f" but {len(args)} were given", node)
        for i, a in enumerate(args):
            values[i] = a
        for k, a in kwargs.items():
            i = by_name.get(k)
            if i is None:
                self.error(f"{what}() got an unexpected keyword argument '{k}'", node)
            if values[i] is not None:
                self.error(f"{what}() got multiple values for argument '{k}'", node)
            values[i] = a
        for i, (p, pv) in enumerate(zip(plist, params)):
            if values[i] is None:
                if p.default is inspect.Parameter.empty:
                    self.error(f"Argument {p.name} not provided: {what}() is missing "
                               f"argument '{p.name}'", node)
                values[i] = self.const(p.default, pv.type if p.default is None else None) \
                    if p.default is None or isinstance(p.default, (bool, int, float, str)) \
                    else self.constant_value(p.default, node)
            values[i] = self.broadcast_for_param(
                self.empty_list_for_param(values[i], pv.type), pv)
            if not _fits(values[i].type, pv.type):
                self.error(f"argument {i + 1} ('{p.name}') of {what}() expects "
                           f"{describe_type(pv.type)}, got {describe_type(values[i].type)}",
                           node)
        return values

    # ---- isinstance
    def class_isinstance_type(self, cls):
        """The IR type an isinstance() class argument stands for, for script classes and
        NamedTuples (None for anything else)."""
        if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
            from .types import namedtuple_type
            return namedtuple_type(cls)
        if is_scriptable_class(cls):
            return script_class(cls).type
        return None


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
