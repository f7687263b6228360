"""A compiled function's arguments checked against its parameter types, and converted as
TorchScript converts them when it is called from Python: an int or bool for a `float`
parameter becomes a float, a dtype passes for an `int` parameter (TorchScript's ScalarType
is an int: `def f(x, dtype: int): return x.to(dtype)`), a one-element Tensor for an `int`/`float`/`bool` parameter
becomes that number, a tuple for a `List[T]` becomes a list; anything else of the wrong
type raises TorchScript's error

    f() Expected a value of type 'int' for argument 'n' but instead found type 'float'.

The executor calls `coerce_args` only for calls its generated dispatcher did not take
(new input types), so calls with the exact types pay nothing.
"""
from __future__ import annotations

import enum
import numbers
import weakref

import numpy as np

from .. import dtypes as _dt
from ..ir import types as T
from ..ops import registry as _reg

__all__ = ["coerce_args", "ArgumentTypeError"]


def _is_module_class(cls) -> bool:
    from ..nn.module import Module        # (nn.module imports the runtime: imported here)
    return issubclass(cls, Module)


class ArgumentTypeError(RuntimeError):
    """An argument of a compiled function does not have (and does not convert to) the
    type of its parameter."""


class _Mismatch(Exception):
    """(args: why, when more than the type shows: TorchScript's cast error details)"""


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _int64(v: int) -> int:
    """v if it fits TorchScript's int (int64_t), else _Mismatch."""
    if not _INT64_MIN <= v <= _INT64_MAX:
        raise _Mismatch(f"{v} is outside the range of TorchScript's int (64-bit)")
    return v


def _number(v):
    """A one-element Tensor's value (TorchScript takes it for a number parameter)."""
    if isinstance(v, _reg._Tensor) and v._data.size == 1:
        return v.item()
    raise _Mismatch


def _convert(v, t):
    """v as a value of IR type t, or _Mismatch."""
    if isinstance(t, T.AnyTupleType):      # (a bare `tuple`: torch 2.13 takes none from Python)
        raise _Mismatch("toIValue() cannot handle converting to type: tuple")
    if isinstance(t, T.TensorType):
        if v is None or isinstance(v, _reg._Tensor):     # None: as TorchScript allows
            return v
        raise _Mismatch
    if isinstance(t, T.EnumType):           # a member of that Enum (not its value)
        if not isinstance(v, enum.Enum) or T.type_of_value(v) != t:
            raise _Mismatch
        return v
    if isinstance(t, T.BoolType):
        if isinstance(v, bool):
            return v
        if v is None or isinstance(v, (int, float, np.bool_, np.number)):
            return bool(v)          # (NumPy numbers too, as TorchScript takes them)
        return bool(_number(v))
    if isinstance(t, T.IntType):
        if isinstance(v, int):
            return int(v) if isinstance(v, bool) else _int64(v)
        if isinstance(v, np.bool_):                 # TorchScript takes np.True_ as 1
            return int(v)
        if isinstance(v, np.floating) and not isinstance(v, float):
            # TorchScript takes a NumPy float32/float16 for an int (truncated), but not a
            # float64 (a Python float)
            if not np.isfinite(v):
                raise _Mismatch
            return _int64(int(v))
        if isinstance(v, _dt.dtype):
            # TorchScript's ScalarType is an int (`d: int` given torch.float32 is 6)
            return _dt.scalar_type_code(v)
        if isinstance(v, _reg._Tensor):
            return _int64(int(_number(v)))
        if isinstance(v, numbers.Integral):         # NumPy integers
            return int(v)
        raise _Mismatch
    if isinstance(t, T.FloatType):
        if type(v) is float:
            return v
        if isinstance(v, _reg._Tensor):
            return float(_number(v))
        if isinstance(v, (numbers.Real, np.bool_)):  # ints, bools, NumPy numbers (a
            return float(v)                          # np.float64 too: a Python float)
        raise _Mismatch
    if isinstance(t, T.NumberType):
        if isinstance(v, int) and not isinstance(v, bool):
            return _int64(v)
        if isinstance(v, (int, float)):
            return v
        return _number(v)
    if isinstance(t, T.StrType):
        if isinstance(v, str):
            return v
        if isinstance(v, bytes):
            return v.decode()
        raise _Mismatch
    if isinstance(t, T.DeviceType):
        from ..device import device
        if isinstance(v, device):
            return v
        if isinstance(v, str):
            return device(v)
        raise _Mismatch
    if isinstance(t, T.NoneType):
        if v is None:
            return v
        raise _Mismatch
    if isinstance(t, T.GeneratorType):
        from ..ops.random import Generator
        if isinstance(v, Generator):
            return v
        raise _Mismatch
    if isinstance(t, T.OptionalType):
        return None if v is None else _convert(v, t.elem)
    if isinstance(t, T.UnionType):
        if isinstance(v, (np.number, np.bool_)):
            v = v.item()        # a NumPy scalar as the Python number it holds (int stays int)
        # a member the value already is wins (4 stays an int in a Union[float, int]);
        # else the first member it converts to (an int outside int64 is refused, as
        # TorchScript refuses it, rather than taken as a float)
        if type(v) is int and any(isinstance(u, T.IntType) for u in t.types):
            _int64(v)
        if _uninferable_list(v) is not None:        # ([] or [1.0, 2]: no type)
            raise _Mismatch
        for u in t.types:
            try:
                c = _convert(v, u)
            except _Mismatch:
                continue
            if c is v:
                return c
        # TorchScript takes a value for a Union only as what it is (the type it infers
        # for it must be a member): a bool or int is not taken for a float member, a
        # Tensor not for a number, a tuple not for a List, [1, 2] (a List[int]) not for a
        # List[float] (torch 2.13: "Expected a value of type 'Union[List[float], int]'
        # ... Expected a member of Union[List[float], int] but instead found type
        # List[int]")
        raise _Mismatch
    if isinstance(t, T.ListType):
        if not isinstance(v, (list, tuple)):
            raise _Mismatch
        out = [_convert(x, t.elem) for x in v]
        # the caller's own list when nothing changed (scripted code may append to it)
        if isinstance(v, list) and all(a is b for a, b in zip(out, v)):
            return v
        return out
    if isinstance(t, T.TupleType) and not isinstance(t, T.NamedTupleType):
        if not isinstance(v, (list, tuple)) or len(v) != len(t.elems):
            raise _Mismatch
        out = tuple(_convert(x, e) for x, e in zip(v, t.elems))
        if isinstance(v, tuple) and all(a is b for a, b in zip(out, v)):
            return v
        return out
    if isinstance(t, T.NamedTupleType):
        if not isinstance(v, tuple) or len(v) != len(t.elems):
            raise _Mismatch
        out = [_convert(x, e) for x, e in zip(v, t.elems)]
        if all(a is b for a, b in zip(out, v)):
            return v
        return type(v)(*out) if hasattr(type(v), "_fields") else tuple(out)
    if isinstance(t, T.DictType):
        if not isinstance(v, dict):
            raise _Mismatch
        out = {_convert(k, t.key): _convert(x, t.value) for k, x in v.items()}
        if all(a is b and out[a] is v[b] for a, b in zip(out, v)):
            return v                     # the caller's own dict when nothing changed
        return out
    if isinstance(t, T.InterfaceType) and not t.is_module and \
            not hasattr(v, "_script_methods"):       # an object (not a module) implementing it
        ct = T.class_type_of_object(v)
        if ct is None or T.interface_mismatch(ct, t) is not None:
            raise _Mismatch
        return v
    if isinstance(t, T.InterfaceType):      # gpujit.jit.interface: a module implementing it
        from ..jit.interface import incompatibility
        if incompatibility(t, v) is not None:
            raise _Mismatch
        return v
    if isinstance(t, T.ClassType) and isinstance(t.py_class, type) and \
            not _is_module_class(t.py_class):     # an object of a script class
        if isinstance(v, t.py_class):
            return v
        # any other object (one of the class of that name this process or a loaded
        # archive has, a plain Python object) is taken by the class's attributes, as
        # TorchScript's toIValue makes a new object of the class from them (torch 2.13)
        cls = t.py_class
        new = cls.__new__(cls)
        for name, at in t.attributes.items():
            if not hasattr(v, name):
                raise _Mismatch(f"Tried to cast object to type {t.annotation()} but object "
                                f"was missing attribute {name}")
            try:
                object.__setattr__(new, name, _convert(getattr(v, name), at))
            except _Mismatch:
                raise _Mismatch(f"Could not cast attribute '{name}' to type "
                                f"{at.annotation()}") from None
        return new
    return v        # class types, Any, devices, named tuples...: what the code checks


def _interface_details(v, t) -> str:
    """Why object v does not implement interface t (TorchScript's cast error details)."""
    from ..jit.interface import incompatibility
    if t.is_module or hasattr(v, "_script_methods"):
        why = incompatibility(t, v)
    else:
        ct = T.class_type_of_object(v)
        why = (f"{type(v).__name__} is not an object of a TorchScript class" if ct is None
               else T.interface_mismatch(ct, t))
    what = getattr(v, "original_name", None) or type(v).__name__
    return (f"\nCast error details: Object of type {what} is not compatible with interface "
            f"{t.name}\n{why}")


def _uninferable_list(v):
    """Why TorchScript cannot infer the type of list v (given for a Union parameter), as
    its tracer's words say it, or None."""
    if not isinstance(v, list):
        return None
    if not v:
        return "List trace inputs must have elements"
    try:
        kinds = [T.type_of_value(x).annotation() for x in v]
    except TypeError:
        return None
    other = next((k for k in kinds if k != kinds[0]), None)
    if other is None:
        return None
    return (f"List inputs to traced functions must have consistent element type. "
            f"Found {kinds[0]} and {other}")


def _declaration(graph) -> str:
    """TorchScript's `Declaration:` line of a scripted function's argument error (the
    schema its ScriptFunction / ScriptMethod gave the graph)."""
    d = getattr(graph, "declaration", None)
    return f"\nDeclaration: {d}" if d else ""


def _culprit(v, t):
    """(value, type) of the part of v that does not convert to t, as pybind11's casters
    name it: a dict's key or value, a tuple's element, an element of a list whose
    elements are not Tensors, ints, floats or bools (TorchScript casts those lists whole
    and names the list)."""
    base = t.elem if isinstance(t, T.OptionalType) and v is not None else t
    parts = ()
    if isinstance(base, T.DictType) and isinstance(v, dict):
        parts = [p for k, x in v.items() for p in ((k, base.key), (x, base.value))]
    elif isinstance(base, T.TupleType) and not isinstance(base, T.NamedTupleType) and \
            isinstance(v, (tuple, list)) and len(v) == len(base.elems):
        parts = list(zip(v, base.elems))
    elif isinstance(base, T.ListType) and isinstance(v, (tuple, list)) and not isinstance(
            base.elem, (T.TensorType, T.IntType, T.FloatType, T.BoolType)):
        parts = [(x, base.elem) for x in v]
    for x, xt in parts:
        try:
            _convert(x, xt)
        except _Mismatch:
            return _culprit(x, xt)
    return v, t


def _cast_details(v, t) -> str:
    """TorchScript's `Cast error details:` line (pybind11's words) for a value of a plain
    type that does not convert to t."""
    base = t.elem if isinstance(t, T.OptionalType) else t
    if isinstance(base, T.TupleType) and not isinstance(base, T.NamedTupleType):
        # (pybind11's tuple caster takes any iterable, then counts its elements)
        if not hasattr(v, "__iter__"):
            return (f"\n Python error details: TypeError: '{type(v).__name__}' object is "
                    f"not iterable")
        try:
            n = len(v)
        except TypeError:
            n = None
        if n is not None and n != len(base.elems):
            return (f"\nCast error details: Object {v} had a different number of elements "
                    f"than type {base.annotation()}")
    if isinstance(base, T.TensorType):
        return f"\nCast error details: Unable to cast {v} to Tensor"
    if isinstance(base, (T.UnionType, T.InterfaceType, T.NamedTupleType)):
        return ""
    if isinstance(base, T.NoneType):        # (toIValue's own words for None)
        return f"\nCast error details: Cannot cast {v} to None"
    cls = type(v)
    from ..ops.registry import _Tensor
    qual = "torch.Tensor" if isinstance(v, _Tensor) else \
        cls.__qualname__ if cls.__module__ == "builtins" else \
        f"{cls.__module__}.{cls.__qualname__}"
    return (f"\nCast error details: Unable to cast Python instance of type <class '{qual}'> "
            f"to C++ type '?' (#define PYBIND11_DETAILED_ERROR_MESSAGES or compile in debug "
            f"mode for details)")


def _union_details(v, t) -> str:
    """TorchScript's `Cast error details:` line for a value that is no member of Union t."""
    try:
        found = T.type_of_value(v).annotation()
    except TypeError:
        found = type(v).__name__
    return (f"\nCast error details: Expected a member of {t.annotation()} but instead "
            f"found type {found}")


def coerce_args(graph, name, args):
    """args converted to the types of graph's inputs (a tuple), or ArgumentTypeError."""
    out = None
    for i, (given, inp) in enumerate(zip(args, graph.inputs)):
        v = given
        n = graph.broadcast.get(i)
        if n is not None and isinstance(v, numbers.Number) and isinstance(inp.type, T.ListType):
            v = [v] * n         # a BroadcastingListN parameter: one number for all n
        try:
            c = _convert(v, inp.type)
        except _Mismatch as e:
            t = inp.type
            what = t.annotation()
            if isinstance(t, T.TensorType) and inp.debug_name != "self":
                what = "Tensor"
            shown = f"'{what}'"
            inferred = ""
            if i in graph.inferred and isinstance(t, T.TensorType):    # (TorchScript's words)
                shown = "'Tensor (inferred)'"
            if isinstance(t, T.NamedTupleType):           # as TorchScript says it
                shown = (f"'{T.TupleType(tuple(t.elems)).annotation()}' (aka NamedTuple("
                         f"{', '.join(t.fields)}))")
            param = inp.debug_name.rsplit(".", 1)[0] if inp.debug_name.rsplit(".", 1)[-1] \
                .isdigit() else inp.debug_name
            if shown == "'Tensor (inferred)'":
                inferred = (f"\nInferred '{param}' to be of type 'Tensor' because it was not "
                            f"annotated with an explicit type.")
            details = _cast_details(*_culprit(v, t))
            if e.args:
                details = f"\nCast error details: {e.args[0]}"
            elif isinstance(t, T.UnionType):                # as TorchScript says it
                bad = _uninferable_list(v)
                if bad is not None:     # (TorchScript infers the type of a Union's value)
                    raise ArgumentTypeError(f"Tracer cannot infer type of {v!r}\n:{bad}") \
                        from None
                details = _union_details(v, t)
            elif isinstance(t, T.InterfaceType):
                details = _interface_details(v, t)
            raise ArgumentTypeError(
                f"{name}() Expected a value of type {shown} for argument '{param}' but "
                f"instead found type '{type(v).__name__}'.{inferred}\nPosition: {i}\n"
                f"Value: {v!r}"
                f"{_declaration(graph)}{details}") from None
        if c is not given:
            if out is None:
                out = list(args)
            out[i] = c
    return args if out is None else tuple(out)


def coerce_return(v, t):
    """v, an @ignore'd Python function's result, as a value of its declared IR type t;
    TorchScript's error where it does not convert."""
    try:
        return _convert(v, t)
    except _Mismatch as e:
        details = f"\nCast error details: {e.args[0]}" if e.args else \
            _union_details(v, t) if isinstance(t, T.UnionType) else \
            _cast_details(*_culprit(v, t))
        err = RuntimeError(f" expected value of type {t} for return value but instead got "
                           f"value of type {type(v).__name__}.\nValue: {v!r}{details}")
        err.return_cast = True      # (TorchScript's own error: no Python stack in its report)
        raise err from None


def holds_container(t) -> bool:
    """May a value of IR type t hold a Python list or dict or an object of a script class
    (copied's work)?"""
    if isinstance(t, (T.ListType, T.DictType, T.AnyType)):
        return True
    if _object_type(t):
        return True
    if isinstance(t, T.OptionalType):
        return holds_container(t.elem)
    if isinstance(t, T.UnionType):
        return any(holds_container(u) for u in t.types)
    if isinstance(t, T.TupleType):
        return any(holds_container(e) for e in t.elems)
    return False


def holds_str(t) -> bool:
    """May a value of IR type t hold a str (copied decodes its UTF-8 bytes)?"""
    if isinstance(t, T.StrType):
        return True
    if isinstance(t, (T.OptionalType, T.ListType)):
        return holds_str(t.elem)
    if isinstance(t, T.DictType):
        return holds_str(t.key) or holds_str(t.value)
    if isinstance(t, T.UnionType):
        return any(holds_str(u) for u in t.types)
    if isinstance(t, T.TupleType):
        return any(holds_str(e) for e in t.elems)
    return False


def _object_type(t) -> bool:
    """Is t the type of objects of a script class (not a module, interface, NamedTuple)?"""
    return type(t) is T.ClassType and isinstance(getattr(t, "py_class", None), type) and \
        not _is_module_class(t.py_class)


# a script class read from an archive -> the Python class of its qualified name this
# process has scripted (filled by the loader): copied() makes an object of the archive's
# class one of that class, as TorchScript's toPyObject makes a loaded object reaching
# Python an object of the Python class it finds by name (torch 2.13: `type(ld.v) is Vocab`)
PYTHON_CLASS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def copied(v, to_python=True):
    """v with its plain lists and dicts (nested too, and those inside tuples) copied: a
    value crossing between Python and scripted code, as TorchScript converts it into a
    new List / Dict (ScriptList / ScriptDict and Tensors are shared). An object of a
    script class is converted too, into a new object of its class whose attributes are
    copied so (torch 2.13: `o1(a)` of a scripted `def o1(a: Acc) -> Acc: a.add(5); return
    a` returns a new Acc and leaves the caller's a as it was). to_python=False: a value
    going into scripted code (a module's attribute values when it is scripted), whose strs
    stay TorchScript's bytes and objects their own class."""
    k = type(v)
    if k is str:
        # TorchScript's str reaching Python: its UTF-8 bytes decoded (a piece of a char,
        # "é"[0], raises the UnicodeDecodeError torch raises; ops/scalar_str.utf8_view)
        return v if v.isascii() or not to_python else \
            v.encode("utf-8", "surrogateescape").decode("utf-8")
    if k is list:
        return [copied(x, to_python) for x in v]
    if k is dict:
        return {copied(x, to_python): copied(y, to_python) for x, y in v.items()}
    if hasattr(v, "__dict__") and _object_type(T.class_type_of_object(v)):
        if to_python:
            k = PYTHON_CLASS.get(k, k)
        new = k.__new__(k)
        for name, x in vars(v).items():
            object.__setattr__(new, name, copied(x, to_python))
        return new
    if isinstance(v, tuple):
        items = [copied(x, to_python) for x in v]
        if all(a is b for a, b in zip(items, v)):
            return v
        return k(*items) if hasattr(k, "_fields") else tuple(items)
    return v


# ---------------------------------------------------------------- attributes read from Python

# the attribute names some scripted module holds a list, dict or script-class object in:
# each has a CopiedOnRead on the ScriptModule class (gpujit.jit.script_module)
COPIED_ON_READ: set = set()


class CopiedOnRead:
    """A module attribute of a type that holds a list, dict or script-class object, read
    from Python: a new value per read, as TorchScript converts the module's IValue for
    Python (toPyObject): `m.xs.append(1)` leaves the module alone and `m.xs is m.xs` is
    False (torch 2.13). The value itself stays in the instance's __dict__, where scripted
    code reads and writes it (live_attr / set_live_attr). An instance whose attribute of
    this name has another type (or none: a parameter, a submodule) reads as before."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        d = obj.__dict__
        try:
            v = d[self.name]
        except KeyError:
            raise AttributeError(self.name) from None     # (Module.__getattr__ then)
        t = d.get("_type")
        t = t.attributes.get(self.name) if t is not None else None
        if t is None:
            return v
        if holds_container(t) or holds_str(t):
            v = copied(v)       # (a str: its UTF-8 bytes decoded, ops/scalar_str.utf8_view)
        if isinstance(t, T.TupleType) and type(v) is tuple:
            return tuple(list(v))       # (a new tuple per read, as toPyObject makes)
        return v

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value

    def __delete__(self, obj):
        try:
            del obj.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None


def live_attr(obj, name):
    """Attribute `name` of obj as scripted code reads it: the module's own list / dict /
    object, not the copy a read from Python gets."""
    d = getattr(obj, "__dict__", None)
    if d is not None and name in d:
        return d[name]
    return getattr(obj, name)


def set_live_attr(obj, name, value):
    """Scripted code's prim::SetAttr of an attribute that CopiedOnRead guards: the value
    itself is stored (an alias, as TorchScript's; from Python, ScriptModule.__setattr__
    converts it first)."""
    if isinstance(getattr(type(obj), name, None), CopiedOnRead):
        obj.__dict__[name] = value
    else:
        setattr(obj, name, value)
