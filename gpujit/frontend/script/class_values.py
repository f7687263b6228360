"""The compiler's side of TorchScript classes (classes.py compiles the classes themselves):
ClassValueMixin, which FunctionCompiler inherits, creates objects of script classes
(prim::CreateObject + the __init__ call, __new__-style class_new), builds NamedTuples and
reads their fields, reads, writes (declaring attributes inside __init__) and calls on
objects (methods, @classmethod / @staticmethod calls, dunder protocol calls such as
__len__ / __getitem__ / __contains__), binds a call's arguments to a method's parameters,
and gives isinstance() a class's type."""
from __future__ import annotations

import inspect

from ...ir import types as T
from .calls import describe_type
from .classes import is_scriptable_class, script_class, script_class_of, _check_not_recursive
from .errors import FrontendError

__all__ = ["ClassValueMixin"]


def _generalized(t):
    if isinstance(t, T.TensorType):
        return T.TENSOR
    if isinstance(t, T.ListType) and isinstance(t.elem, T.TensorType):
        return T.ListType(T.TENSOR)
    return t


def _fits(value_type, t):
    return value_type.is_subtype_of(t) or (isinstance(value_type, T.TensorType)
                                           and isinstance(t, T.TensorType))


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
        # (TorchScript's order: the arguments, then the object, then __init__'s
        # schema matching: its default constants and conversions, then the call)
        evaluated = self.call_args(node)
        obj = self.emit("prim::CreateObject", [], [sc.type]).output
        self.object_method_call(obj, sc, "__init__", node, evaluated=evaluated)
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
            v = self.implicit_conversion(v, ft)    # x.item(), a bool for an int field, ...
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
            self.error(f"'{t.name}' object has no attribute or method '{node.attr}'.: "
                       f"{t.annotation()} has no field '{node.attr}' (its fields: "
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
            # (torch 2.13's words)
            if name in vars(sc.cls) and not callable(vars(sc.cls)[name]):
                self.error(f"'__torch__.{sc.name}' object has no attribute or method "
                           f"'{name}'. '{name}' is defined as a class attribute which "
                           f"currently is not supported. Consider converting this to an "
                           f"instance attribute.", node,
                           hint=f"assign self.{name} in {sc.name}.__init__")
            self.error(f"'__torch__.{sc.name}' object has no attribute or method '{name}'. "
                       f"Did you forget to initialize an attribute in __init__()?", node,
                       hint=f"class '{sc.name}' has no attribute '{name}': assign "
                            f"self.{name} in {sc.name}.__init__")
        out = self.emit("prim::GetAttr", [v], [t], attrs={"name": name}).output
        if name.isidentifier():         # (TorchScript's %x: code writes `x0 = c.x`)
            out.set_debug_name(name)
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
                # (torch 2.13's words; gpujit's why in the hint)
                self.error(f"Tried to set nonexistent attribute: {name}. Did you forget to "
                           f"initialize it in __init__()?", node,
                           hint=f"class '{sc.name}' has no attribute '{name}': assign "
                                f"self.{name} in {sc.name}.__init__")
            if self.block is not self.graph.block:
                self.error(f"First assignment cannot be in a control-flow block: the "
                           f"attribute '{name}' of {sc.name} would not exist on every path",
                           node, hint=f"initialize self.{name} at the top level of "
                                      f"__init__ first")
            # (`self.x = None`: a NoneType attribute, as TorchScript's; a class-level
            # annotation `x: Optional[int]` declares a wider type)
            t = declared or _generalized(value.type)
            _check_not_recursive(sc, name, t, lambda m: self.error(m, node))
            sc.type.attributes[name] = t
        if not _fits(value.type, t):
            tn = "NoneType" if isinstance(t, T.NoneType) else t.annotation()
            vn = "NoneType" if isinstance(value.type, T.NoneType) else \
                value.type.annotation()
            self.error(f"Wrong type for attribute assignment. Expected {tn} but got {vn}: "
                       f"the attribute '{name}' of {sc.name} is {describe_type(t)}; it "
                       f"cannot be assigned {describe_type(value.type)}", node)
        # (unranged, as SimpleValue::setAttr inserts it: torch prints no source)
        self.emit("prim::SetAttr", [v, value], [], attrs={"name": name}).source_range = None

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

    def object_method_call(self, v, sc, name, node, evaluated=None):
        """v.name(...) on an object of script class sc; `evaluated` the call's (args,
        kwargs) when already emitted."""
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
            args, kwargs = evaluated or self.call_args(node)
            if modifier == "drop":
                return dropped_call(self, fn, f"{sc.name}.{name}", node)
            return python_call(self, fn, [v] + list(args), kwargs, node, method=True)
        graph = sc.method_graph(name, self, node)
        what = f"{sc.name}.{name}"
        values = self.bind_call(fn, graph.inputs[1:], what, node, skip_self=True,
                                evaluated=evaluated)
        outs = graph.output_types()
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
        outs = graph.output_types()
        if result is not None and (len(outs) != 1 or not _fits(outs[0], result)):
            got = describe_type(outs[0]) if len(outs) == 1 else "a tuple"
            self.error(f"{what} must return {describe_type(result)}, it returns {got}", node)
        n = self.emit("prim::CallMethod", [v] + list(args), outs, attrs={"name": name})
        n.meta["callee"] = graph
        if len(outs) == 1:
            return n.output
        return self.emit("prim::TupleConstruct", n.outputs,
                         [T.TupleType(tuple(outs))]).output

    def bind_call(self, fn, params, what, node, skip_self=False, evaluated=None):
        """The argument Values of a call, bound by fn's Python signature (keywords,
        defaults) and checked against the parameter Values' types."""
        args, kwargs = evaluated or self.call_args(node)
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
                # (a None default is a NoneType constant, as schema matching's)
                values[i] = self.const(p.default) \
                    if p.default is None or isinstance(p.default, (bool, int, float, str)) \
                    else self.constant_value(p.default, node)
            # (a tuple for a List[E] parameter is a list, as TorchScript's schema matching
            # converts it: torchvision's `self.torch_choice(self.min_size)`)
            values[i] = self.broadcast_for_param(self.empty_list_for_param(
                self.tuple_for_list_param(values[i], pv.type), pv.type), pv)
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
