"""Python type annotations -> IR types, for the script frontend.

Three sources of types, one result (a `gpujit.ir` Type):
- annotations, as Python objects (`List[int]`, `int | None`, a NamedTuple class) or as
  text (`"Tensor"`, `from __future__ import annotations`, `# type:` comments, `.code`);
- a function's signature (`signature_types`, signatures.py): annotations or a type
  comment, and `Tensor` for what is not annotated;
- example arguments (`types_from_examples`, examples.py), for
  `gpujit.script(fn, example_inputs=...)`.

Annotation text is never `eval`ed: it is parsed with `ast` and its names are looked up in
the function's globals and closure (then typing's names), so compiling code from a saved
archive cannot run Python hidden in an annotation.
"""
from __future__ import annotations

import ast
import enum
import sys
import types as _pytypes
import typing
import weakref

from ... import _jit_internal, dtypes as _dt
from ...device import device as _device
from ...ir import types as T
from ...tensor import Tensor
from .errors import FrontendError
from ..qualified_names import archive_name, unused_name

__all__ = ["annotation_type", "annotation_expr_type", "types_from_examples",
           "example_types_for_modules", "value_matches_type", "namedtuple_type"]

# names an annotation may use without importing them (typing's, and the spellings that
# `.code` prints: `Tensor`, `Device`, `Generator`, `number`, `NoneType`)
_DEFAULT_NAMES = {
    "List": typing.List, "Dict": typing.Dict, "Tuple": typing.Tuple,
    "Optional": typing.Optional, "Union": typing.Union, "Final": typing.Final,
    "Any": typing.Any, "Set": typing.Set, "Callable": typing.Callable,
    "Tensor": T.TENSOR, "Device": T.DEVICE, "number": T.NUMBER, "NoneType": T.NONE,
    "Generator": T.GeneratorType(),
    "int": int, "float": float, "bool": bool, "str": str, "list": list, "tuple": tuple,
    "dict": dict, "set": set, "complex": complex, "None": None,
    **{f"BroadcastingList{i}": getattr(_jit_internal, f"BroadcastingList{i}")
       for i in range(1, 7)},
}
_DICT_KEYS = (T.StrType, T.IntType, T.FloatType, T.BoolType, T.TensorType)
_BARE = {typing.List: "List", list: "list", typing.Dict: "Dict", dict: "dict",
         typing.Tuple: "Tuple", tuple: "tuple", typing.Optional: "Optional",
         typing.Union: "Union", typing.Final: "Final", typing.Set: "Set", set: "set"}
_EXAMPLE = {"List": "List[int]", "list": "list[int]", "Dict": "Dict[str, Tensor]",
            "dict": "dict[str, Tensor]", "Tuple": "Tuple[Tensor, int]",
            "tuple": "tuple[Tensor, int]", "Optional": "Optional[int]",
            "Union": "Union[int, str]", "Final": "Final[int]"}


# ------------------------------------------------------------------ annotation objects

def annotation_type(annotation, globals_=None, source_range=None) -> T.Type:
    """The IR type of an annotation: a Python object (`int`, `List[Tensor]`, a NamedTuple
    class, `gpujit.Tensor`, `torch.Tensor`, an IR Type) or annotation text (`"Tensor"`,
    `"Optional[int]"`) resolved in `globals_`. Raises FrontendError naming what is not a
    TorchScript type."""
    return _Resolver(globals_ or {}, source_range).object_type(annotation)


def annotation_expr_type(node: ast.expr, globals_=None, source_range=None) -> T.Type:
    """The IR type of an annotation as an AST expression (what the compiler sees in
    `x: List[int] = []` or `annotate(List[int], [])`)."""
    return _Resolver(globals_ or {}, source_range).expr_type(node)


def annotation_broadcast(annotation, globals_=None, source_range=None):
    """(IR type, n): n the element count of a broadcasting list annotation
    (BroadcastingList2[int], nn.common_types._size_2_t: a List whose one-number argument
    is repeated n times, as TorchScript's), else None."""
    r = _Resolver(globals_ or {}, source_range)
    t = r.object_type(annotation)
    return t, r.broadcast


class _Resolver:
    def __init__(self, env, source_range):
        self.env = env
        self.sr = source_range
        self.nesting = 0          # inside a generic's arguments
        self.broadcast = None     # the top level's broadcasting list length

    def nested(self, convert):
        def inner(a):
            self.nesting += 1
            try:
                return convert(a)
            finally:
                self.nesting -= 1
        return inner

    def broadcasting_list(self, mark, elem_type) -> T.Type:
        """BroadcastingListN[T] / _size_N_t: a List[T]; at the top level of a parameter's
        annotation its length n is kept (a single T argument is repeated n times)."""
        if not isinstance(elem_type, (T.IntType, T.FloatType, T.BoolType)):
            self.fail(f"a BroadcastingList holds ints, floats or bools, not "
                      f"{elem_type.annotation()}")
        if self.nesting == 0:
            self.broadcast = mark.n
        return T.ListType(elem_type)

    def optional_member(self, convert, a):
        """Optional[X]'s X, at its parent's level: an Optional[BroadcastingList2[int]]
        parameter broadcasts a number too (F.max_pool2d's stride=2 is [2, 2], as
        TorchScript's)."""
        self.nesting -= 1
        try:
            return convert(a)
        finally:
            self.nesting += 1

    def fail(self, message, hint=None):
        raise FrontendError(message, self.sr, hint=hint)

    # ---- Python objects
    def object_type(self, obj) -> T.Type:
        if isinstance(obj, T.Type):
            return obj
        if isinstance(obj, str):
            return self.text_type(obj)
        if isinstance(obj, typing.ForwardRef):
            return self.text_type(obj.__forward_arg__)
        if obj is None or obj is type(None):
            return T.NONE
        if obj is typing.Any:
            return T.ANY
        if obj is tuple:        # torch 2.13: any tuple (bare typing.Tuple stays refused)
            return T.AnyTupleType()
        if _hashable(obj) and obj in _BARE:
            self.bare(_BARE[obj])
        for flag, what in (("_gpujit_future", "Future"), ("_gpujit_await", "Await")):
            if getattr(obj, flag, False) and not typing.get_args(obj):
                self.fail(f"Attempted to use {what} without a contained type: '{what}' "
                          f"needs its element type in an annotation",
                          hint=f"write e.g. {what}[Tensor]")
        origin = typing.get_origin(obj)
        if origin is typing.Annotated:      # Annotated[T, ...]: T (a broadcasting list)
            from ..._jit_internal import Broadcast
            base, *marks = typing.get_args(obj)
            mark = next((m for m in marks if isinstance(m, Broadcast)), None)
            if mark is not None:
                return self.broadcasting_list(mark, self.nested(self.object_type)(mark.elem))
            return self.object_type(base)
        if origin is not None:
            return self.generic(origin, typing.get_args(obj), self.nested(self.object_type))
        if isinstance(obj, type):
            return self.class_type(obj)
        self.fail(f"{obj!r} is not a type annotation gpujit.script understands",
                  hint="use Tensor, int, float, bool, str, List[T], Tuple[...], "
                       "Dict[K, V], Optional[T] or a NamedTuple class")

    def class_type(self, cls) -> T.Type:
        prim = {int: T.INT, float: T.FLOAT, bool: T.BOOL, str: T.STR,
                complex: T.COMPLEX}.get(cls)
        if prim is not None:
            return prim
        if issubclass(cls, Tensor) or _is_torch_class(cls, "Tensor"):
            return T.TENSOR
        if issubclass(cls, _device) or _is_torch_class(cls, "device"):
            return T.DEVICE
        if issubclass(cls, _dt.dtype) or _is_torch_class(cls, "dtype"):
            return T.INT        # `d: torch.dtype` is an int in TorchScript (float32 is 6)
        from ...ops.random import Generator
        if issubclass(cls, Generator) or _is_torch_class(cls, "Generator"):
            return T.GeneratorType()
        if issubclass(cls, tuple) and hasattr(cls, "_fields"):
            return namedtuple_type(cls)
        if issubclass(cls, enum.Enum):
            from .enums import enum_type
            return enum_type(cls, self.sr)
        iface = vars(cls).get("__gpujit_interface__")     # @gpujit.jit.interface
        if iface is not None:
            return iface
        from .classes import is_scriptable_class, script_class
        if is_scriptable_class(cls):         # a TorchScript class, compiled on first use
            return script_class(cls).type
        self.fail(f"class '{cls.__qualname__}' is not a type gpujit.script can compile",
                  hint="use Tensor, int, float, bool, str, containers of them, a NamedTuple "
                       "or a class with its own __init__")

    def bare(self, name):
        example = _EXAMPLE.get(name)
        what = "contained types" if name in ("Dict", "dict") else \
            "a contained type"
        self.fail(f"Attempted to use {name} without {what}: '{name}' needs its "
                  f"element types in an annotation",
                  hint=f"write e.g. {example}" if example else None)

    def generic(self, origin, args, convert) -> T.Type:
        """`origin[args]`, with `convert` turning each argument into a Type."""
        if getattr(origin, "_gpujit_future", False):      # gpujit.jit.Future[T]
            if len(args) != 1:
                self.fail(f"Future takes one type, got {len(args)}")
            return T.FutureType(convert(args[0]))
        if getattr(origin, "_gpujit_await", False):       # gpujit.jit._Await[T]
            if len(args) != 1:
                self.fail(f"Await takes one type, got {len(args)}")
            return T.AwaitType(convert(args[0]))
        if origin is list:
            if len(args) != 1:
                self.fail(f"List takes one element type, got {len(args)}")
            return T.ListType(convert(args[0]))
        if origin is tuple:
            if len(args) == 2 and _is_ellipsis(args[1]):
                self.fail("Expression of type dots cannot be used in a type expression: "
                          "variable-length tuples (Tuple[T, ...]) are not supported",
                          hint="give every element's type, e.g. Tuple[int, int], "
                               "or use List[T]")
            return T.TupleType(tuple(convert(a) for a in args if a != ()))
        if origin is dict:
            if len(args) != 2:
                self.fail(f"Dict takes a key and a value type, got {len(args)} types")
            key = convert(args[0])
            if not isinstance(key, _DICT_KEYS):
                self.fail(f"Cannot create dict for key type '{key}', only int, float, "
                          f"complex, Tensor, device and string keys are supported")
            return T.DictType(key, convert(args[1]))
        if origin is typing.Union or origin is _pytypes.UnionType:
            if len(args) == 2 and type(None) in args:
                return _union([self.optional_member(convert, a) for a in args])
            return _union([convert(a) for a in args])
        if origin is typing.Optional:
            if len(args) != 1:
                self.fail(f"Optional takes one type, got {len(args)}",
                          hint="write Optional[int], or Union[int, str, None]")
            return _union([self.optional_member(convert, args[0]), T.NONE])
        if origin is typing.Final:
            if len(args) != 1:
                self.fail(f"Final takes one type, got {len(args)}")
            return convert(args[0])
        if origin in (set, frozenset, typing.Set, typing.FrozenSet):
            if len(args) != 1:
                self.fail(f"Set takes one element type, got {len(args)}")
            elem = convert(args[0])
            if not isinstance(elem, (T.IntType, T.FloatType, T.BoolType, T.StrType)):
                self.fail(f"a Set holds ints, floats, bools or strs, not {elem.annotation()}")
            return T.SetType(elem)
        name = getattr(origin, "__name__", None) or getattr(origin, "_name", None) or origin
        self.fail(f"'{name}[...]' is not a type annotation gpujit.script understands",
                  hint="use List, Tuple, Dict, Optional or Union")

    # ---- annotation text / AST
    def text_type(self, text) -> T.Type:
        try:
            node = ast.parse(text.strip(), mode="eval").body
        except SyntaxError:
            self.fail(f"the annotation {text!r} is not valid Python")
        return self.expr_type(node)

    def expr_type(self, node) -> T.Type:
        if isinstance(node, ast.Constant):
            if node.value is None:
                return T.NONE
            if isinstance(node.value, str):
                return self.text_type(node.value)
            self.fail(f"{node.value!r} is not a type annotation")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return _union([self.expr_type(node.left), self.expr_type(node.right)])
        if isinstance(node, ast.Subscript):
            origin = self.lookup(node.value)
            from ..._jit_internal import BroadcastingListCls, Broadcast
            if isinstance(origin, BroadcastingListCls):      # BroadcastingList2[int]
                return self.broadcasting_list(Broadcast(origin.n, None),
                                              self.nested(self.expr_type)(node.slice))
            if origin is typing.Tuple or origin is tuple:
                origin_kind = tuple
            elif getattr(origin, "_gpujit_future", False) or \
                    getattr(origin, "_gpujit_await", False):
                origin_kind = origin
            else:
                origin_kind = _GENERIC_ORIGINS.get(_key(origin))
            if origin_kind is None and isinstance(origin, (T.Type, type)):
                self.fail(f"'{ast.unparse(node.value)}' is a type and takes no [...]")
            args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if origin_kind is tuple and isinstance(node.slice, ast.Tuple) and not args:
                return T.TupleType(())
            if origin_kind is None:
                self.fail(f"'{ast.unparse(node.value)}[...]' is not a type annotation "
                          "gpujit.script understands",
                          hint="use List, Tuple, Dict, Optional or Union")
            return self.generic(origin_kind, args, self.nested(self.expr_type))
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.object_type(self.lookup(node))
        self.fail(f"'{ast.unparse(node)}' is not a type annotation gpujit.script "
                  "understands")

    def lookup(self, node):
        """The object a (dotted) name in an annotation stands for."""
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            if node.id in _DEFAULT_NAMES:
                return _DEFAULT_NAMES[node.id]
            module = _default_module(node.id)
            if module is not None:
                return module
            self.fail(f"unknown type '{node.id}' in an annotation",
                      hint=f"import or define '{node.id}' where the function is defined")
        if isinstance(node, ast.Attribute):
            base = self.lookup(node.value)
            try:
                return getattr(base, node.attr)
            except AttributeError:
                self.fail(f"'{ast.unparse(node)}' does not exist "
                          f"('{ast.unparse(node.value)}' has no attribute '{node.attr}')")
        self.fail(f"'{ast.unparse(node)}' is not a type annotation gpujit.script "
                  "understands")


def _is_ellipsis(a):
    return a is Ellipsis or (isinstance(a, ast.Constant) and a.value is Ellipsis)


def _key(obj):
    return obj if _hashable(obj) else None


_GENERIC_ORIGINS = {typing.List: list, list: list, typing.Dict: dict, dict: dict,
                    typing.Optional: typing.Optional, typing.Union: typing.Union,
                    typing.Final: typing.Final, typing.Set: set, set: set}


def _hashable(obj):
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def _default_module(name):
    """`torch.Tensor` / `gpujit.Tensor` / `typing.List` / `jit.Final` without imports."""
    if name in ("torch", "gpujit"):
        import gpujit
        return gpujit
    if name == "jit":
        from ... import jit
        return jit
    if name in ("typing", "typing_extensions"):
        return sys.modules.get(name) or typing
    return None


def _is_torch_class(cls, name):
    """A PyTorch class (torch.Tensor, nn.Parameter, torch.device), without importing
    torch: code ported from PyTorch may still annotate with the real `torch.Tensor`."""
    return any(c.__name__ == name and c.__module__.split(".")[0] == "torch"
               for c in getattr(cls, "__mro__", ()))


def _union(members) -> T.Type:
    """Union of types, flattened and deduplicated; one type plus None is Optional."""
    flat = []
    for m in members:
        parts = (m.types if isinstance(m, T.UnionType)
                 else (m.elem, T.NONE) if isinstance(m, T.OptionalType) else (m,))
        for p in parts:
            if p not in flat:
                flat.append(p)
    others = [m for m in flat if m != T.NONE]
    if len(others) == len(flat):
        return flat[0] if len(flat) == 1 else T.UnionType(tuple(flat))
    if not others:
        return T.NONE
    if len(others) == 1:
        return T.OptionalType(others[0])
    return T.UnionType(tuple(others) + (T.NONE,))


_NAMEDTUPLES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def namedtuple_type(cls) -> T.NamedTupleType:
    """The IR type of a NamedTuple class (typing.NamedTuple or collections.namedtuple):
    `__torch__.<qualname>`, its fields in order; unannotated fields are Tensors."""
    t = _NAMEDTUPLES.get(cls)
    if t is not None:
        return t
    module = sys.modules.get(cls.__module__)
    env = dict(vars(module)) if module is not None else {}
    hints = getattr(cls, "__annotations__", {})
    elems = tuple(annotation_type(hints[f], env) if f in hints else T.TENSOR
                  for f in cls._fields)
    name = unused_name(cls, lambda n: _registered_elsewhere(n, cls))
    t = T.NamedTupleType(elems, name=name, fields=tuple(cls._fields), py_class=cls,
                         shown=archive_name(cls))
    T.register_class_type(t)
    _NAMEDTUPLES[cls] = t
    return t


def _registered_elsewhere(name, cls):
    t = T.class_type(name)
    return isinstance(t, T.NamedTupleType) and t.py_class is not cls


# ------------------------------------------------------------------ function signatures

# ------------------------------------------------------------------ values vs types

def value_matches_type(v, t: T.Type) -> bool:
    """Is the Python value `v` of IR type `t`? (`gpujit.jit.isinstance` in eager code:
    containers are checked element by element.)"""
    if isinstance(t, T.AnyType):
        return True
    if isinstance(t, T.TensorType):
        return isinstance(v, Tensor)
    if isinstance(t, T.NoneType):
        return v is None
    leaf = T.leaf_value_matches(v, t)
    if leaf is not None:
        return leaf
    if isinstance(t, T.OptionalType):
        return v is None or value_matches_type(v, t.elem)
    if isinstance(t, T.UnionType):
        return any(value_matches_type(v, m) for m in t.types)
    if isinstance(t, T.ListType):
        return isinstance(v, list) and all(value_matches_type(x, t.elem) for x in v)
    if isinstance(t, T.NamedTupleType):
        return t.py_class is not None and isinstance(v, t.py_class)
    if isinstance(t, T.TupleType):
        return (isinstance(v, tuple) and len(v) == len(t.elems)
                and all(value_matches_type(x, e) for x, e in zip(v, t.elems)))
    if isinstance(t, T.DictType):
        return isinstance(v, dict) and all(
            value_matches_type(k, t.key) and value_matches_type(x, t.value)
            for k, x in v.items())
    if isinstance(t, T.EnumType):
        return isinstance(v, enum.Enum) and (type(v) is t.py_class or (
            t.py_class is None and T.type_of_value(v) == t))
    if isinstance(t, T.InterfaceType):
        from ...jit.interface import incompatibility
        return incompatibility(t, v) is None
    if isinstance(t, T.ClassType):
        return t.py_class is not None and isinstance(v, t.py_class)
    return False


# example inputs live in examples.py, which reads this module's types (so it is imported
# last); the names are re-exported here
from .examples import types_from_examples, example_types_for_modules  # noqa: E402


def __getattr__(name):
    """signature_types and its helpers live in signatures.py (which imports this module):
    still importable from here."""
    if name in ("signature_types", "broadcast_lengths", "function_globals", "_signature"):
        from . import signatures
        return getattr(signatures, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
