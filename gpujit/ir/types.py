"""IR types, printed as TorchScript prints them.

`str(t)` is the graph-text spelling (`Float(3, 4, strides=[4, 1], requires_grad=0,
device=cpu)`, `int[]`, `Tensor?`, `(Tensor, int)`, `Dict(str, Tensor)`), `t.annotation()`
the Python-annotation spelling used by `.code` (`List[int]`, `Optional[Tensor]`, ...).
Types are immutable values: equal types compare equal and hash alike.
"""
from __future__ import annotations

import contextvars
import enum as _enum
import weakref
from dataclasses import dataclass, field

from .. import dtypes as _dt

__all__ = ["Type", "TensorType", "IntType", "FloatType", "ComplexType", "BoolType", "StrType",
           "NoneType",
           "DeviceType", "ScalarTypeType", "NumberType", "LayoutType", "AnyType", "AnyTupleType",
           "GeneratorType", "FunctionType", "ListType", "FutureType", "AwaitType", "TupleType", "DictType", "SetType", "OptionalType",
           "UnionType", "ClassType", "InterfaceType", "NamedTupleType", "NamedReturnsType", "EnumType", "interface_mismatch",
           "class_type_of_object", "may_hold_tensor", "INT", "FLOAT", "BOOL", "STR", "NONE", "DEVICE",
           "SCALAR_TYPE", "NUMBER", "TENSOR", "ANY", "FUNCTION", "type_of_value", "register_class_type",
           "class_type", "parsed_class_type"]


# qualified class name -> the name code printed now calls it (gpujit.jit.save gives two
# classes with one short name names of their own in the archive); None: the short name
ARCHIVE_CLASS_NAMES: contextvars.ContextVar = contextvars.ContextVar(
    "gpujit_archive_class_names", default=None)


# True while `.code` prints: types name classes by their qualified name there, as
# TorchScript's code does (`x: __torch__.P`), except a class a gpujit archive loaded
# (`__torch__.__archive__.P` prints P); "all" while PyTorch's archive format is written
# (every class by its qualified name: that archive's loader finds them so); elsewhere
# (messages, gpujit's archive code) by the short name
QUALIFIED_CLASS_NAMES: contextvars.ContextVar = contextvars.ContextVar(
    "gpujit_qualified_class_names", default=False)


def _shown_name(name: str, shown) -> str:
    """The qualified name a class type prints with: `shown`, the name its archive gave it,
    for a type a loaded archive made (torch.jit.load compiles each archive into a
    compilation unit of its own, so its types keep the archive's names even where this
    process has another type of that name: `name`, the registry's unique one, is mangled
    then); `name` itself while an archive is written (its code and class files must agree
    on one unique name per type)."""
    if shown is None or QUALIFIED_CLASS_NAMES.get() == "all" or \
            ARCHIVE_CLASS_NAMES.get() is not None:
        return name
    return shown


def _short_name(qualified: str, shown=None) -> str:
    """How code names a class, NamedTuple or enum: its short name, or the name the archive
    being written gives it (its qualified name in `.code`)."""
    names = ARCHIVE_CLASS_NAMES.get()
    if names:
        mapped = names.get(qualified)
        if mapped is not None:
            return mapped
    qualified = _shown_name(qualified, shown)
    which = QUALIFIED_CLASS_NAMES.get()
    if which and qualified.startswith("__torch__.") and (
            which == "all" or not qualified.startswith("__torch__.__archive__.")):
        return qualified
    return qualified.rsplit(".", 1)[-1]


class Type:
    __slots__ = ()

    def __call__(self):
        """torch._C's `v.type()` (here `v.type` is the Type itself)."""
        return self

    def kind(self) -> str:
        """torch._C's name of the type's kind: 'TensorType', 'IntType', 'ListType'..."""
        name = type(self).__name__
        return _TORCH_KIND.get(name, name)

    def annotation(self) -> str:
        return str(self)

    @property
    def annotation_str(self) -> str:
        """torch._C's Type.annotation_str: the type as Python annotates it ('Tensor',
        'List[int]', 'Tuple[Tensor, int]'), what torch's str() of a type gives too."""
        return self.annotation()

    def is_subtype_of(self, other: "Type") -> bool:
        if self == other or isinstance(other, AnyType):
            return True
        if isinstance(other, OptionalType):
            return isinstance(self, NoneType) or self.is_subtype_of(other.elem)
        if isinstance(other, UnionType):
            return any(self.is_subtype_of(t) for t in other.types)
        if isinstance(other, NumberType):
            return isinstance(self, (IntType, FloatType, ComplexType, BoolType))
        if isinstance(self, TensorType) and isinstance(other, TensorType):
            return other == TENSOR
        return False


def _simple(name, annotation=None):
    @dataclass(frozen=True)
    class _T(Type):
        def __str__(self):
            return name

        def annotation(self):
            return annotation or name
    _T.__name__ = _T.__qualname__ = name.capitalize() + "Type"
    return _T


IntType = _simple("int")
FloatType = _simple("float")
ComplexType = _simple("complex")
BoolType = _simple("bool")
StrType = _simple("str")
NoneType = _simple("NoneType")
DeviceType = _simple("Device")
ScalarTypeType = _simple("ScalarType", "int")
NumberType = _simple("Scalar", "number")
LayoutType = _simple("Layout", "int")
GeneratorType = _simple("Generator")
AnyType = _simple("Any")
# a bare `tuple` annotation: TorchScript's AnyTupleType (any tuple is one; none of its
# elements can be read: no indexing or unpacking), printed `tuple`
AnyTupleType = _simple("tuple")
FunctionType = _simple("Function")      # a function value (graph_for's fallback call)
for _cls, _n in ((IntType, "IntType"), (FloatType, "FloatType"), (ComplexType, "ComplexType"),
                 (BoolType, "BoolType"),
                 (StrType, "StrType"), (NoneType, "NoneType"), (DeviceType, "DeviceType"),
                 (ScalarTypeType, "ScalarTypeType"), (NumberType, "NumberType"),
                 (LayoutType, "LayoutType"), (GeneratorType, "GeneratorType"),
                 (AnyType, "AnyType"), (AnyTupleType, "AnyTupleType"), (FunctionType, "FunctionType")):
    _cls.__name__ = _cls.__qualname__ = _n


_TORCH_KIND = {"StrType": "StringType", "DeviceType": "DeviceObjType"}


class Dims(tuple):
    """A TensorType's sizes / strides: a tuple; calling it (torch._C's `t.sizes()`,
    `t.strides()`) gives a list."""
    __slots__ = ()

    def __call__(self):
        return list(self)


@dataclass(frozen=True)
class TensorType(Type):
    """A tensor, with whatever is known of it (None = unknown). `sizes` is None when the
    rank is unknown, else a tuple whose entries may be None (`*`)."""
    dtype: object = None
    sizes: tuple | None = None
    strides: tuple | None = None
    device: object = None
    requires_grad: bool | None = None

    def __post_init__(self):
        # (torch._C's t.sizes() / t.strides(): the fields are tuples that can be called)
        for name in ("sizes", "strides"):
            v = getattr(self, name)
            if v is not None and type(v) is not Dims:
                object.__setattr__(self, name, Dims(v))

    @classmethod
    def of(cls, t) -> "TensorType":
        """The complete type of a real Tensor, as the tracer records it (of a nested one:
        its dtype, device and requires_grad, no sizes, as PyTorch's `FloatTensor(...)`)."""
        if t.is_nested:
            return cls(t._dtype, None, None, t._device, bool(t.requires_grad))
        a = t._data
        item = a.itemsize
        strides = tuple(s // item for s in a.strides) if a.ndim else ()
        return cls(t._dtype, tuple(a.shape), strides, t._device, bool(t.requires_grad))

    @property
    def is_complete(self):
        return (self.dtype is not None and self.sizes is not None
                and all(s is not None for s in self.sizes) and self.device is not None)

    @property
    def dim(self):
        return None if self.sizes is None else len(self.sizes)

    # torch._C's names that the fields (sizes, dtype, device, requires_grad) do not take
    def isComplete(self) -> bool:
        return self.is_complete

    def scalarType(self):
        """'Float', 'Long'... (None when unknown)."""
        return None if self.dtype is None else self.dtype.short_name

    def varyingSizes(self):
        return None if self.sizes is None else list(self.sizes)

    def with_(self, **kw) -> "TensorType":
        d = dict(dtype=self.dtype, sizes=self.sizes, strides=self.strides,
                 device=self.device, requires_grad=self.requires_grad)
        d.update(kw)
        return TensorType(**d)

    def __str__(self):
        # TorchScript's spelling: a known dtype of an unknown rank is `FloatTensor`
        # (`FloatTensor(requires_grad=0)`), a 0-dim tensor `Float(requires_grad=0, device=cpu)`
        # (no `strides=[]`), a known rank `Float(3, 4, strides=[4, 1], ...)`
        head = "Tensor" if self.dtype is None else (
            self.dtype.short_name + ("Tensor" if self.sizes is None else ""))
        parts = []
        if self.sizes is not None:
            parts += ["*" if s is None else str(s) for s in self.sizes]
            if self.strides is not None and len(self.strides) == len(self.sizes) != 0:
                parts.append("strides=[" + ", ".join("*" if s is None else str(s)
                                                     for s in self.strides) + "]")
        if self.requires_grad is not None:
            parts.append(f"requires_grad={int(self.requires_grad)}")
        if self.device is not None:
            parts.append(f"device={self.device}")
        if not parts and self.sizes is None:
            return head
        return f"{head}({', '.join(parts)})"

    def annotation(self):
        return "Tensor"


@dataclass(frozen=True)
class ListType(Type):
    elem: Type

    def __str__(self):
        return f"{self.elem}[]"

    def annotation(self):
        return f"List[{self.elem.annotation()}]"

    def is_subtype_of(self, other):
        if isinstance(other, ListType):   # lists are invariant, but a refined Tensor is a Tensor
            return self.elem == other.elem or (isinstance(self.elem, TensorType)
                                                and other.elem == TENSOR)
        return Type.is_subtype_of(self, other)


@dataclass(frozen=True)
class TupleType(Type):
    elems: tuple

    def __str__(self):
        return "(" + ", ".join(str(t) for t in self.elems) + ")"

    def elements(self):
        """torch._C.TupleType.elements(): the element types, in order."""
        return list(self.elems)

    containedTypes = elements

    def annotation(self):
        if not self.elems:
            return "Tuple[()]"
        return "Tuple[" + ", ".join(t.annotation() for t in self.elems) + "]"

    def is_subtype_of(self, other):
        if isinstance(other, NamedReturnsType) and not isinstance(self, NamedReturnsType):
            return False        # (an unnamed tuple is no named one: TupleType::isSubtypeOf)
        if isinstance(other, TupleType) and not isinstance(other, NamedTupleType):
            return (len(self.elems) == len(other.elems)
                    and all(a.is_subtype_of(b) for a, b in zip(self.elems, other.elems)))
        return isinstance(other, AnyTupleType) or Type.is_subtype_of(self, other)



@dataclass(frozen=True)
class NamedReturnsType(TupleType):
    """The tuple of an op's named returns (`x.max(0)`: aten::max.dim's `(Tensor values,
    Tensor indices)`): torch's packOutputs types it TupleType::createNamed with no class,
    which graphs print `NamedTuple(values : Tensor, indices : Tensor)` and whose fields
    read as attributes; otherwise, code and archives included, a plain tuple."""
    names: tuple = ()

    def __str__(self):
        return "NamedTuple(" + ", ".join(
            f"{n} : {t}" for n, t in zip(self.names, self.elems)) + ")"

    def is_subtype_of(self, other):
        if isinstance(other, NamedReturnsType) and other.names != self.names:
            return False
        return TupleType.is_subtype_of(self, other)

def _default_text(v) -> str:
    """A NamedTuple field's default as TorchScript's schema prints it (IValue's text:
    True, None, 2., hi)."""
    if v is None or isinstance(v, (bool, int, str)):
        return str(v)
    if isinstance(v, float):
        from .printer import format_float
        return format_float(v)
    return repr(v)


@dataclass(frozen=True)
class NamedTupleType(TupleType):
    name: str = ""
    fields: tuple = ()
    py_class: object = None
    shown: str = field(default=None, compare=False)     # (_shown_name)
    # (a type read from graph text with no known class: its fields' defaults as shown)
    default_texts: tuple = field(default=(), compare=False)

    def __str__(self):
        # as TorchScript's graphs show a NamedTuple: its fields and their types, a
        # field's default too (`n : int = 3`; code and annotations name it: `__torch__.P`)
        texts = self.field_default_texts()
        return "NamedTuple(" + ", ".join(
            f"{n} : {t}" + (f" = {texts[n]}" if n in texts else "")
            for n, t in zip(self.fields, self.elems)) + ")"

    def field_default_texts(self) -> dict:
        """{field: its default as graph text shows it}."""
        defaults = getattr(self.py_class, "_field_defaults", None)
        if defaults:
            return {n: _default_text(v) for n, v in defaults.items()}
        return dict(self.default_texts)

    def annotation(self):
        return _short_name(self.name, self.shown)


@dataclass(frozen=True)
class FutureType(Type):
    """`Future[T]`: what torch.jit.fork returns, the value of a call that torch.jit.wait
    gives back (a Future is not its value: using one as a T is a type error). Graphs
    print it `Future[int]`; inside a Dict (and in schemas) TorchScript spells it
    `Future(int)`."""
    elem: Type

    def __str__(self):
        return f"Future[{self.elem}]"

    def schema_str(self):
        return f"Future({_schema_str(self.elem)})"

    def annotation(self):
        return f"Future[{self.elem.annotation()}]"

    def is_subtype_of(self, other):
        if isinstance(other, FutureType):     # Future is covariant, as TorchScript's
            return self.elem.is_subtype_of(other.elem)
        return Type.is_subtype_of(self, other)


@dataclass(frozen=True)
class AwaitType(Type):
    """`Await[T]`: a delayed call (torch.jit._awaitable) whose value prim::awaitable_wait
    gives (TorchScript inserts that wait where an Await[T] is used as a T). Printed like
    a Future: `Await[int]`, `Await(int)` inside a Dict and in schemas."""
    elem: Type

    def __str__(self):
        return f"Await[{self.elem}]"

    def schema_str(self):
        return f"Await({_schema_str(self.elem)})"

    def annotation(self):
        return f"Await[{self.elem.annotation()}]"

    def is_subtype_of(self, other):
        if isinstance(other, AwaitType):
            return self.elem.is_subtype_of(other.elem)
        return Type.is_subtype_of(self, other)


def _schema_str(t):
    return t.schema_str() if isinstance(t, (FutureType, AwaitType)) else str(t)


@dataclass(frozen=True)
class DictType(Type):
    key: Type
    value: Type

    def __str__(self):
        return f"Dict({_schema_str(self.key)}, {_schema_str(self.value)})"

    def annotation(self):
        return f"Dict[{self.key.annotation()}, {self.value.annotation()}]"


@dataclass(frozen=True)
class SetType(Type):
    """A Python set (beyond TorchScript, which has none): printed `Set(int)` like a Dict."""
    elem: Type

    def __str__(self):
        return f"Set({self.elem})"

    def annotation(self):
        return f"Set[{self.elem.annotation()}]"


@dataclass(frozen=True)
class OptionalType(Type):
    elem: Type

    def __str__(self):
        return f"{self.elem}?"

    def annotation(self):
        return f"Optional[{self.elem.annotation()}]"

    def is_subtype_of(self, other):
        if isinstance(other, UnionType):       # Optional[int] <: Union[int, str, None]
            return self.elem.is_subtype_of(other) and NONE.is_subtype_of(other)
        return Type.is_subtype_of(self, other)


# TorchScript's order of type kinds (c10's TypeKind), by which a Union sorts its members
_KIND_ORDER = {k: i for i, k in enumerate((
    "AnyType", "EnumType", "AnyEnumType", "TensorType", "StorageType", "TupleType",
    "ListType", "DictType", "NumberType", "FloatType", "ComplexType", "FutureType",
    "AwaitType", "RRefType", "IntType", "NoneType", "StringType", "GeneratorType",
    "QuantizerType", "BoolType", "OptionalType", "VarType", "DeviceObjType",
    "StreamObjType", "FunctionType", "ClassType", "PyObjectType", "CapsuleType",
    "InterfaceType", "QSchemeType", "ScalarTypeType", "LayoutType", "MemoryFormatType"))}
_KIND_ORDER["NamedTupleType"] = _KIND_ORDER["TupleType"]


def canonical_union_members(types):
    """A Union's members as TorchScript keeps them: nested Unions and Optionals
    flattened, a member that is a subtype of another dropped, and the rest sorted by type
    kind, then by their printed form (Union[str, int] is Union[int, str])."""
    flat = []
    for t in types:
        parts = (t.types if isinstance(t, UnionType)
                 else canonical_union_members((t.elem, NONE)) if isinstance(t, OptionalType)
                 else (t,))
        for p in parts:
            if p not in flat:
                flat.append(p)
    kept = [t for i, t in enumerate(flat)
            if not any(j != i and t != u and t.is_subtype_of(u) for j, u in enumerate(flat))]
    return tuple(sorted(kept, key=lambda t: (_KIND_ORDER.get(t.kind(), len(_KIND_ORDER)),
                                             str(t))))


@dataclass(frozen=True)
class UnionType(Type):
    types: tuple

    def __post_init__(self):
        object.__setattr__(self, "types", canonical_union_members(self.types))

    def is_subtype_of(self, other):
        if self == other or isinstance(other, AnyType):
            return True
        return all(t.is_subtype_of(other) for t in self.types)

    def __str__(self):
        return "Union(" + ", ".join(str(t) for t in self.types) + ")"

    def annotation(self):
        return "Union[" + ", ".join(t.annotation() for t in self.types) + "]"


@dataclass(frozen=True, eq=False)
class ClassType(Type):
    """A module or class: printed by its qualified name (`__torch__.MyCell`). Identity is
    the name, so a parsed graph's class type equals the traced one. `methods` maps a
    method name to its Graph (first input: self), for prim::CallMethod and the inliner;
    `attributes` maps an attribute name to its Type, for prim::GetAttr."""
    name: str
    py_class: object = None
    methods: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)
    shown: str = None           # the loaded archive's name for it (_shown_name)
    unit: object = None         # and that load's unit (qualified_names.LoadUnit)
    hooks: frozenset = frozenset()      # a module's forward (pre-)hook methods

    def __str__(self):
        return _shown_name(self.name, self.shown)

    def annotation(self):
        return _short_name(self.name, self.shown)

    def __eq__(self, other):
        return isinstance(other, ClassType) and other.name == self.name

    def __hash__(self):
        return hash(("class", self.name))

    def is_subtype_of(self, other):
        if isinstance(other, InterfaceType) and not other.is_module and self != other:
            return interface_mismatch(self, other) is None
        return Type.is_subtype_of(self, other)


def _method_signature(t, name):
    """(param types without self, return type) of method `name` of a class or interface
    type, or None when it has none."""
    if isinstance(t, InterfaceType):
        sig = t.signatures.get(name)
        return None if sig is None else (list(sig[1]), sig[2])
    g = t.methods.get(name)
    if g is None:
        return None
    outs = [o.type for o in g.outputs]
    return [i.type for i in g.inputs[1:]], outs[0] if len(outs) == 1 else TupleType(
        tuple(outs))


def _loosely(a, b):
    return a.is_subtype_of(b) or (isinstance(a, TensorType) and isinstance(b, TensorType))


def interface_mismatch(t, iface):
    """Why class (or interface) type t does not implement the class interface iface,
    in TorchScript's words; None when it does (each declared method present, taking what
    the interface passes, returning what it declares)."""
    for name, (names, params, ret) in iface.signatures.items():
        got = _method_signature(t, name)
        if got is None:
            return (f"{t.annotation()} does not have method '{name}' on interface "
                    f"{iface.annotation()}")
        have, r = got
        if len(have) != len(params) or not all(map(_loosely, params, have)) or \
                not _loosely(r, ret):
            def sig(ps, out):
                return f"({', '.join(x.annotation() for x in ps)}) -> {out.annotation()}"
            return (f"method '{name}' of {t.annotation()} {sig(have, r)} is not "
                    f"compatible with interface {iface.annotation()}'s {sig(params, ret)}")
    return None


@dataclass(frozen=True, eq=False)
class InterfaceType(ClassType):
    """A TorchScript interface (`@gpujit.jit.interface`): method signatures only.
    `signatures` maps a method name to `(param_types, return_type)` (without self);
    `is_module`: a module interface (held by module attributes, implemented by scripted
    modules) rather than a class interface. A prim::CallMethod on a value of this type
    has no callee graph: it runs the method of the object found at run time."""
    signatures: dict = field(default_factory=dict)
    is_module: bool = True

    def __str__(self):
        # TorchScript's graphs show an interface `InterfaceType<I>` (its short name)
        return f"InterfaceType<{self.name.rsplit('.', 1)[-1]}>"

    def __eq__(self, other):
        return isinstance(other, ClassType) and other.name == self.name

    def __hash__(self):
        return hash(("class", self.name))


@dataclass(frozen=True, eq=False)
class EnumType(Type):
    """A Python Enum class in TorchScript: printed `Enum<__torch__.Color>` in graphs and
    by its class name in code; `value_type` is its members' value type (int, float or
    str). Identity is the name, as for classes. Values are the Python Enum members."""
    name: str
    value_type: Type = None
    py_class: object = None
    shown: str = None           # (_shown_name)

    def __str__(self):
        return f"Enum<{_shown_name(self.name, self.shown)}>"

    def annotation(self):
        return _short_name(self.name, self.shown)

    def __eq__(self, other):
        return isinstance(other, EnumType) and other.name == self.name

    def __hash__(self):
        return hash(("enum", self.name))


INT, FLOAT, BOOL, STR, NONE = IntType(), FloatType(), BoolType(), StrType(), NoneType()
COMPLEX = ComplexType()
DEVICE, SCALAR_TYPE, NUMBER, ANY = DeviceType(), ScalarTypeType(), NumberType(), AnyType()
FUNCTION = FunctionType()
TENSOR = TensorType()

_CLASS_TYPES: dict = {}
# a module instance's type (a name per instance; its methods' graphs hold the instance's
# traced or frozen constants): known by name only while something holds it
_MODULE_TYPES: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()
_BY_PY_CLASS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
# the types loaded archives made, by the name they print with (_shown_name): graph text
# names them so (parsed_class_type)
_SHOWN_TYPES: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()


def without_shapes(t: Type) -> Type:
    """t with tensor shapes forgotten: Tensor, also inside tuples (not NamedTuples), lists,
    Optionals and Futures (a traced graph's input and output types, a callee's outputs seen by a
    caller that may pass other shapes)."""
    if isinstance(t, TensorType):
        return TENSOR
    if isinstance(t, NamedReturnsType):
        return NamedReturnsType(tuple(without_shapes(e) for e in t.elems), t.names)
    if isinstance(t, TupleType) and not isinstance(t, NamedTupleType):
        return TupleType(tuple(without_shapes(e) for e in t.elems))
    if isinstance(t, ListType):
        return ListType(without_shapes(t.elem))
    if isinstance(t, OptionalType):
        return OptionalType(without_shapes(t.elem))
    if isinstance(t, (FutureType, AwaitType)):      # (a traced fork's Future[Float(2, 2)])
        return type(t)(without_shapes(t.elem))
    return t


def register_class_type(t, weak=False):
    """Known class / NamedTuple types by qualified name, so parsed text finds them (and
    by their Python class, so an object's methods can be found at run time). weak: a
    module instance's type, forgotten with its last user."""
    if getattr(t, "shown", None) is not None:
        _SHOWN_TYPES[t.shown] = t
    if weak:
        _CLASS_TYPES.pop(t.name, None)
        _MODULE_TYPES[t.name] = t
        return t
    _MODULE_TYPES.pop(t.name, None)
    _CLASS_TYPES[t.name] = t
    if t.py_class is not None:
        try:
            _BY_PY_CLASS[t.py_class] = t
        except TypeError:               # (a class that cannot be weakly referenced)
            pass
    return t


def class_type_of_object(obj):
    """The ClassType of an object of a script class (None when it is not one)."""
    try:
        return _BY_PY_CLASS.get(type(obj))
    except TypeError:
        return None


def module_type(name: str):
    """The live type of scripted modules named `name` (register_class_type's weak), or
    None."""
    return _MODULE_TYPES.get(name)


def class_type(name: str) -> Type:
    t = _CLASS_TYPES.get(name) or _MODULE_TYPES.get(name)
    return t if t is not None else ClassType(name)


def parsed_class_type(name: str) -> Type:
    """The class type graph text names `name`: the latest type a loaded archive made that
    prints so (its own compilation unit's name), else the registered type of that name
    when it prints so, else a new type of that name."""
    t = _SHOWN_TYPES.get(name)
    if t is not None:
        return t
    t = class_type(name)
    return t if getattr(t, "shown", None) in (None, name) else ClassType(name)


def named_tuple_type(fields: tuple, elems: tuple, default_texts: dict | None = None) -> Type:
    """The NamedTuple type graph text `NamedTuple(a : Tensor, b : int = 2)` shows: the one
    known NamedTuple with those fields, types and defaults (the text does not name it),
    else one of that shape named `NamedTuple` that shows the same defaults."""
    default_texts = default_texts or {}
    found = [t for t in list(_CLASS_TYPES.values())
             if isinstance(t, NamedTupleType) and t.fields == fields and t.elems == elems
             and t.field_default_texts() == default_texts]
    return found[0] if len(found) == 1 else NamedTupleType(
        elems, "NamedTuple", fields, default_texts=tuple(default_texts.items()))


def interface_type(short: str) -> Type:
    """The interface graph text `InterfaceType<I>` shows (by its short name): the latest
    interface of that short name defined (the text does not say which module's), else an
    interface of that name without signatures."""
    found = [t for t in list(_CLASS_TYPES.values()) + list(_MODULE_TYPES.values())
             if isinstance(t, InterfaceType) and t.name.rsplit(".", 1)[-1] == short]
    return found[-1] if found else InterfaceType(short)


def leaf_value_matches(v, t: Type):
    """Is v a value of the number/str/device/dtype type t (bool is no int)? None when t is
    not one of those."""
    if isinstance(t, BoolType):
        return isinstance(v, bool)
    if isinstance(t, IntType):
        return isinstance(v, int) and not isinstance(v, bool)
    if isinstance(t, FloatType):
        return isinstance(v, float)
    if isinstance(t, ComplexType):
        return isinstance(v, complex)
    if isinstance(t, NumberType):
        return isinstance(v, (int, float, complex))
    if isinstance(t, StrType):
        return isinstance(v, str)
    if isinstance(t, DeviceType):
        from ..device import device as _device
        return isinstance(v, _device)
    if isinstance(t, ScalarTypeType):
        return isinstance(v, _dt.dtype)
    return None


def type_of_value(v) -> Type:
    """The IR type of a Python value (constants, traced inputs)."""
    from ..tensor import Tensor
    from ..device import device as _device
    if isinstance(v, Tensor):
        return TensorType.of(v)
    if isinstance(v, _enum.Enum):
        from ..frontend.script.enums import enum_type
        return enum_type(type(v))
    if v is None:
        return NONE
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, int):
        return INT
    if isinstance(v, float):
        return FLOAT
    if isinstance(v, complex):
        return COMPLEX
    if isinstance(v, str):
        return STR
    if isinstance(v, _device):
        return DEVICE
    if isinstance(v, (_dt.dtype, _dt._QuantizedDtype)):
        return SCALAR_TYPE      # (quint8 & co.: quantize_per_tensor's dtype argument)
    if isinstance(v, list):
        elems = {type_of_value(x) for x in v}
        if len(elems) == 1:
            e = elems.pop()
            return ListType(TENSOR if isinstance(e, TensorType) else e)
        if elems and all(isinstance(e, TensorType) for e in elems):
            return ListType(TENSOR)
        if not elems:
            return ListType(TENSOR)
        raise TypeError(f"a list mixing {sorted(map(str, elems))} has no IR type")
    if isinstance(v, tuple):
        return TupleType(tuple(type_of_value(x) for x in v))
    if isinstance(v, (set, frozenset)):
        elems = {type_of_value(x) for x in v}
        if len(elems) > 1:
            raise TypeError(f"a set mixing {sorted(map(str, elems))} has no IR type")
        return SetType(elems.pop() if elems else INT)
    from ..jit.futures import Future
    from ..jit.awaits import _Await
    from ..ops.random import Generator
    if isinstance(v, Generator):       # (a traced call's generator=: a constant, as
        return GeneratorType()         # TorchScript's tracer records it)
    if isinstance(v, Future):
        return FutureType(v.element_type())
    if isinstance(v, _Await):
        return AwaitType(v.element_type())
    if isinstance(v, dict):
        ks = {type_of_value(k) for k in v}
        vs = {type_of_value(x) for x in v.values()}
        kt = ks.pop() if len(ks) == 1 else STR
        vt = vs.pop() if len(vs) == 1 else TENSOR
        return DictType(kt, TENSOR if isinstance(vt, TensorType) else vt)
    qualified = getattr(type(v), "_qualified_name", None)
    if isinstance(qualified, str) and qualified.startswith("__torch__.torch.classes."):
        return class_type(qualified)    # (a torch.classes object: packed quantized weights)
    raise TypeError(f"{type(v).__name__} values have no IR type")


def may_hold_tensor(t, objects=True) -> bool:
    """Whether a value of type t may be or hold a Tensor: itself, in a list, set, tuple,
    dict, Optional or Union, as Any; with `objects`, also in a class instance (a module
    or TorchScript object)."""
    if isinstance(t, (TensorType, AnyType)):
        return True
    if isinstance(t, (ListType, SetType, OptionalType, FutureType, AwaitType)):
        return may_hold_tensor(t.elem, objects)
    if isinstance(t, TupleType):
        return any(may_hold_tensor(e, objects) for e in t.elems)
    if isinstance(t, DictType):
        return may_hold_tensor(t.key, objects) or may_hold_tensor(t.value, objects)
    if isinstance(t, UnionType):
        return any(may_hold_tensor(e, objects) for e in t.types)
    return objects and isinstance(t, ClassType)
