"""prim::isinstance at run time: `isinstance_test(static_type, accepted)` is the predicate
telling which member of a Union (or Optional, or Any) a value holds, for the interpreter and
the generated code alike."""
from __future__ import annotations

import enum as _enum
import functools

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu
from ..ir import types as T
from ..ir.parser import parse_type
from ..ops import registry as _reg

__all__ = ["isinstance_test"]


# prim::isinstance[types=[...]](%x): which member of a Union (or Optional) x holds at run
# time. `types` lists the members the test accepts, as graph text (`int`, `Tensor`,
# `int[]`); the others are the rest of x's static type. Values may be boxed (Tensors, in
# the interpreter) or raw (arrays, in generated code): a Tensor member accepts both.

def _kind(v, has_bool):
    """The coarse class of a run-time value: 'int', 'float', 'str', 'Tensor', 'list', ...
    or its Python class. A bool is an 'int' unless the Union has a bool member (as
    Python's isinstance(True, int))."""
    t = type(v)
    if t is bool:
        return "bool" if has_bool else "int"
    if t in _BASIC_KINDS:
        return _BASIC_KINDS[t]
    if v is None:
        return "NoneType"
    if isinstance(v, (_reg._Tensor, np.ndarray)) or (
            t.__module__.startswith("cupy") and hasattr(v, "device")):
        return "Tensor"
    if isinstance(v, tuple) and not hasattr(v, "_fields"):
        return "tuple"
    if isinstance(v, _enum.Enum):           # (an `int, Enum` member is not an int here)
        return t
    for base, kind in ((int, "int"), (float, "float"), (str, "str"), (list, "list"),
                       (dict, "dict"), (set, "set")):
        if isinstance(v, base):
            return kind
    return t


_BASIC_KINDS = {int: "int", float: "float", str: "str", list: "list", dict: "dict",
                set: "set", tuple: "tuple"}


def _member_kind(m):
    if isinstance(m, T.TensorType):
        return "Tensor"
    if isinstance(m, T.EnumType):
        return m.py_class if m.py_class is not None else str(m)
    if isinstance(m, (T.ClassType, T.NamedTupleType)):
        from .objects import object_class
        return object_class(m)
    if isinstance(m, T.ListType):
        return "list"
    if isinstance(m, T.TupleType):
        return "tuple"
    if isinstance(m, T.DictType):
        return "dict"
    if isinstance(m, T.SetType):
        return "set"
    if isinstance(m, T.DeviceType):
        return type(_cpu)
    if isinstance(m, T.ScalarTypeType):
        return _dt.dtype
    if isinstance(m, T.FutureType):
        from ..jit.futures import Future
        return Future
    if isinstance(m, T.AwaitType):
        from ..jit.awaits import _Await
        return _Await
    return str(m)                    # int, float, bool, str, NoneType


def _matches(v, m):
    """Does the run-time value v hold a value of member type m (elements checked)?"""
    k = _kind(v, True)
    if isinstance(m, T.ListType):
        return k == "list" and all(_matches(x, m.elem) for x in v)
    if isinstance(m, T.TupleType) and not isinstance(m, T.NamedTupleType):
        return k == "tuple" and len(v) == len(m.elems) and all(
            _matches(x, e) for x, e in zip(v, m.elems))
    if isinstance(m, T.DictType):
        return k == "dict" and all(_matches(a, m.key) and _matches(b, m.value)
                                   for a, b in v.items())
    if isinstance(m, T.SetType):
        return k == "set" and all(_matches(x, m.elem) for x in v)
    if isinstance(m, T.OptionalType):
        return v is None or _matches(v, m.elem)
    if isinstance(m, T.AnyType):
        return True
    if isinstance(m, (T.FutureType, T.AwaitType)):      # its value's type, as it is known
        return isinstance(v, _member_kind(m)) and (
            isinstance(m.elem, T.AnyType) or v.element_type().is_subtype_of(m.elem))
    mk = _member_kind(m)
    # (a bool is no int: TorchScript's bool is not a subtype of int, so isinstance(x,
    # int) of an Any holding True is False in torch 2.13)
    return k == mk or (isinstance(mk, type) and isinstance(v, mk))


# `list` / `tuple` in prim::isinstance's types: any list / tuple (TorchScript's
# AnyListType / AnyTupleType, `isinstance(x, list)`)
_ANY_KINDS = {"list": list, "tuple": tuple}
_ANY_KIND_TYPES = {"list": T.ListType, "tuple": T.TupleType}


def _accepts(member, spelled):
    """Whether the Union member type is one isinstance()'s class `spelled` (graph text)
    accepts: itself, a supertype of it, or `list` / `tuple` of its kind."""
    kind = _ANY_KIND_TYPES.get(spelled)
    if kind is not None:
        return isinstance(member, kind)
    if isinstance(member, T.ClassType) and str(member) == spelled:
        return True     # (by its printed name: a loaded archive's class may print so too)
    t = parse_type(spelled)
    return member == t or (isinstance(member, T.TensorType) and isinstance(t, T.TensorType)) \
        or member.is_subtype_of(t)


@functools.lru_cache(maxsize=None)
def isinstance_test(static_type, accepted):
    """A predicate v -> bool for prim::isinstance: static_type is the input's graph-text
    type, accepted the node's `types`. Members are told apart by their coarse kind;
    elements are checked only where two members share one (List[int] / List[str]).
    `test.by_kind(v)` answers for all values of v's kind (None: it cannot). static_type
    may be the Type itself: its text names the class a loaded archive of the same
    name made last, not necessarily this one."""
    st = static_type if isinstance(static_type, T.Type) else parse_type(static_type)
    if isinstance(st, T.AnyType):      # an Any value: the accepted types, elements and all
        yes = [_ANY_KINDS.get(t) or parse_type(t) for t in accepted]

        def any_test(v):
            return any(isinstance(v, m) if isinstance(m, type) else _matches(v, m)
                       for m in yes)
        any_test.by_kind = lambda v: None
        return any_test
    members = st.types if isinstance(st, T.UnionType) else \
        (st.elem, T.NONE) if isinstance(st, T.OptionalType) else \
        (T.INT, T.FLOAT) if isinstance(st, T.NumberType) else (st,)
    yes = [m for m in members if any(_accepts(m, t) for t in accepted)]
    no = [m for m in members if m not in yes]
    has_bool = any(isinstance(m, T.BoolType) for m in members)
    yes_kinds = {_member_kind(m) for m in yes}
    no_kinds = {_member_kind(m) for m in no}
    shared = yes_kinds & no_kinds

    def test(v):
        k = _kind(v, has_bool)
        if k in shared or not isinstance(k, str):
            return any(_matches(v, m) for m in yes)
        return k in yes_kinds

    def by_kind(v):
        """The answer for every value of v's kind, or None when elements decide it."""
        k = _kind(v, has_bool)
        return None if k in shared or not isinstance(k, str) else k in yes_kinds
    test.by_kind = by_kind
    return test
