"""Python Enums in scripted code, as TorchScript has them.

An `enum.Enum` subclass whose members' values are all ints, all floats or all strs is a
TorchScript type, `Enum<__torch__.Color>` (T.EnumType): a parameter, return, attribute,
list or dict element may hold its members, which stay the Python members at run time.

- `Color.RED` (also through a global or closure alias of the class or of the member) is a
  `prim::Constant[value=__torch__.Color.RED]`;
- `x.name` / `x.value` are `prim::EnumName` / `prim::EnumValue` (of a known member: its
  constant);
- `==` / `!=` are `aten::eq.enum` / `aten::ne.enum` (members of different Enums are
  never equal, as in Python); `is` / `is not` are Python's identity (TorchScript answers
  False for `x is Color.RED` even when x is RED); other operators and comparisons with
  non-members are refused;
- `for c in Color` (and comprehensions over it) iterate over the members, in definition
  order, as a constant list;
- `isinstance(x, Color)`;
- `str(x)`, f-strings, `.format`, `%s` and `print` write TorchScript's `Enum<Color.RED>`,
  also for members in a list, tuple, dict or Optional (`[Enum<Color.RED>]`).

Errors are TorchScript's: mixed value types ("Could not unify type list ..."), other value
types ("Cannot create Enum with value type ..."), a member that does not exist, the class
used as a value or called.
"""
from __future__ import annotations

import ast
import enum
import weakref

from ...ir import types as T
from ..qualified_names import archive_name, unused_name
from ...ops import registry as _reg
from .errors import FrontendError

__all__ = ["enum_type", "is_enum_class", "EnumMixin"]

_ENUMS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_VALUE_TYPES = {int: T.INT, float: T.FLOAT, str: T.STR}


def _holds_enum(t) -> bool:
    """Whether a value of type t is or holds an Enum member (in a list, tuple, dict, ...)."""
    if isinstance(t, T.EnumType):
        return True
    if isinstance(t, (T.ListType, T.SetType, T.OptionalType)):
        return _holds_enum(t.elem)
    if isinstance(t, T.TupleType):
        return any(_holds_enum(e) for e in t.elems)
    if isinstance(t, T.DictType):
        return _holds_enum(t.key) or _holds_enum(t.value)
    if isinstance(t, T.UnionType):
        return any(_holds_enum(e) for e in t.types)
    return False


def _as_text(t) -> bool:
    """Is a value of type t printed and formatted through str() (runtime/script_text.py):
    a container holding Enum members (one that may hold a Tensor prints as it is)."""
    return _holds_enum(t) and not T.may_hold_tensor(t)


def is_enum_class(obj) -> bool:
    return isinstance(obj, type) and issubclass(obj, enum.Enum)


def _value_type(v) -> T.Type:
    for py, t in _VALUE_TYPES.items():
        if type(v) is py or (isinstance(v, py) and not isinstance(v, (bool, enum.Enum))):
            return t
    try:
        name = str(T.type_of_value(v))
        if isinstance(v, _tensor_class()):
            name = "Tensor"
    except TypeError:
        name = type(v).__name__
    raise FrontendError(f"Cannot create Enum with value type '{name}', only int, float "
                        f"and string are supported")


def _tensor_class():
    from ...tensor import Tensor
    return Tensor


def enum_type(cls, source_range=None) -> T.EnumType:
    """The TorchScript type of an Enum class (`__torch__.<qualname>`), checked once: its
    members' values must all be ints, all floats or all strs."""
    t = _ENUMS.get(cls)
    if t is not None:
        return t
    members = list(cls)
    if not members:
        raise FrontendError(f"Enum '{cls.__qualname__}' has no members", source_range)
    types = []
    for m in members:
        vt = _value_type(m.value)
        if types and vt != types[0]:
            raise FrontendError(
                f"Could not unify type list since element {len(types)} of type {vt} did not "
                f"match the types before it ({types[0]})", source_range)
        types.append(vt)
    name = unused_name(cls, lambda n: _registered_elsewhere(n, cls))
    t = T.EnumType(name, types[0], py_class=cls,
                   shown=archive_name(cls))
    T.register_class_type(t)
    _ENUMS[cls] = t
    return t


def _registered_elsewhere(name, cls):
    t = T.class_type(name)
    return isinstance(t, T.EnumType) and t.py_class is not cls


class EnumMixin:
    """The compiler's Enum hooks (FunctionCompiler inherits them, before the generic
    expression code)."""

    # ---- the class and its members as Python objects
    def python_value(self, obj, node):
        if isinstance(obj, enum.Enum):
            return self.const(obj, enum_type(type(obj), self.src.range(node)))
        if is_enum_class(obj):
            if id(node) in self._enum_iterables:
                t = enum_type(obj, self.src.range(node))
                return self.const(list(obj), T.ListType(t))
            enum_type(obj, self.src.range(node))
            self.error("EnumClass cannot be used as a value", node,
                       hint=f"use a member ({obj.__name__}.{next(iter(obj)).name}) or "
                            f"iterate over the class")
        return super().python_value(obj, node)

    @property
    def _enum_iterables(self):
        s = self.__dict__.get("_enum_iterable_ids")
        if s is None:
            s = self.__dict__["_enum_iterable_ids"] = set()
        return s

    def _enum_class_named(self, node):
        found, obj = self._py_object_quiet(node)
        return obj if found and is_enum_class(obj) else None

    def _enum_object(self, node):
        """(True, obj) when node names a Python object; `Color.RED` (also through an
        alias of the class) is its member."""
        if isinstance(node, ast.Attribute):
            cls = self._enum_class_named(node.value)
            if cls is not None and node.attr in cls.__members__:
                return True, cls.__members__[node.attr]
        return self._py_object_quiet(node)

    def builtin_call(self, name, node):
        if name == "list" and len(node.args) == 1 and not node.keywords and \
                self._enum_class_named(node.args[0]) is not None:
            # list(Color): its members' list, as torch 2.13's (a for loop's iterable)
            self._enum_iterables.add(id(node.args[0]))
        return super().builtin_call(name, node)

    def stmt_For(self, s):
        if self._enum_class_named(s.iter) is not None:     # for c in Color
            self._enum_iterables.add(id(s.iter))
        return super().stmt_For(s)

    def _comprehension(self, node, expected=None):
        for g in node.generators:
            if self._enum_class_named(g.iter) is not None:
                self._enum_iterables.add(id(g.iter))
        m = getattr(super(), "expr_" + type(node).__name__)
        return m(node) if expected is None else m(node, expected)

    def expr_ListComp(self, node, expected=None):
        return self._comprehension(node, expected)

    def expr_DictComp(self, node, expected=None):
        return self._comprehension(node, expected)

    # ---- Color.RED, x.name, x.value
    def expr_Attribute(self, node):
        found, base = self._enum_object(node.value)
        if found and is_enum_class(base):
            t = enum_type(base, self.src.range(node))
            member = base.__members__.get(node.attr)
            if member is None:
                if node.attr in ("name", "value") or not node.attr.startswith("_"):
                    self.error(f"'{t}' has no attribute '{node.attr}'", node)
                return super().expr_Attribute(node)
            return self.const(member, t)
        if found and isinstance(base, enum.Enum):
            enum_type(type(base), self.src.range(node))
            if node.attr in ("name", "value"):               # folded: a constant
                return self.const(getattr(base, node.attr))
            self.error(f"'{T.type_of_value(base)}' object has no attribute or method "
                       f"'{node.attr}'", node)
        if found:
            return super().expr_Attribute(node)
        v = self._evaluate_once(node.value)
        if not isinstance(v.type, T.EnumType):
            return super().expr_Attribute(node)
        self._evaluated.pop(id(node.value), None)
        with self.at(node):
            if node.attr == "name":
                return self.emit("prim::EnumName", [v], [T.STR]).output
            if node.attr == "value":
                return self.emit("prim::EnumValue", [v], [v.type.value_type]).output
            self.error(f"'{v.type}' object has no attribute or method '{node.attr}'", node)

    # ---- ==, !=
    def compare(self, op, a, b, node):
        ea, eb = isinstance(a.type, T.EnumType), isinstance(b.type, T.EnumType)
        if not (ea or eb) or isinstance(op, (ast.In, ast.NotIn)):
            return super().compare(op, a, b, node)
        if isinstance(op, (ast.Is, ast.IsNot)) and ea and eb:
            # Python's identity of members (singletons): `x is Color.RED` is x == RED
            # (TorchScript compares boxed copies there, and answers False)
            kind = "aten::__is__" if isinstance(op, ast.Is) else "aten::__isnot__"
            return self.emit(kind, [a, b], [T.BOOL]).output
        name = {ast.Eq: "eq", ast.NotEq: "ne"}.get(type(op))
        if name is None or not (ea and eb):
            sym = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.Gt: ">", ast.LtE: "<=",
                   ast.GtE: ">=", ast.Is: "is", ast.IsNot: "is not"}.get(type(op), "?")
            self.error(f"Arguments for call are not valid: `{sym}` is not defined between "
                       f"'{a.type}' and '{b.type}'", node,
                       hint="Enum members compare with == and != to members only")
        return self.emit(f"aten::{name}", [a, b], [T.BOOL],
                         op=_reg.OPS[f"aten::{name}.enum"]).output

    # ---- str(x), f"{x}", "{}".format(x), print(x): TorchScript's `Enum<Color.RED>`
    def _enum_text(self, v):
        name = self.emit("prim::EnumName", [v], [T.STR]).output
        fmt = self.const(f"Enum<{v.type.annotation()}.{{}}>")
        return self.emit("aten::format", [fmt, name], [T.STR]).output

    def to_str(self, v, node):
        if isinstance(v.type, T.EnumType):
            return self._enum_text(v)
        return super().to_str(v, node)      # (in a container: runtime/script_text.py)

    def format_arg(self, v, node):
        if isinstance(v.type, T.EnumType):
            return self._enum_text(v)
        if _as_text(v.type):
            return self.to_str(v, node)
        return super().format_arg(v, node)

    def builtin_print(self, args, kw, node):
        args = [self.to_str(a, node) if _as_text(a.type) else a for a in args]
        return super().builtin_print(args, kw, node)

    # ---- isinstance(x, Color), Color(1)
    def class_isinstance_type(self, cls):
        if is_enum_class(cls):
            return enum_type(cls)
        return super().class_isinstance_type(cls)

    def expr_Call(self, node):
        if self._enum_class_named(node.func) is not None:
            self.error("cannot call a EnumClass", node.func,
                       hint="name a member (Color.RED) instead of looking one up by value")
        return super().expr_Call(node)
