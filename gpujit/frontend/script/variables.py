"""The variable environment's values and the type a variable keeps across paths: a Var
(a name bound to a graph Value), a Refined variable (narrowed by a condition), a OneBranch
name (defined on one path only), and unify (the one type of a variable that holds
different types on different paths, or None)."""
from __future__ import annotations

from ...ir import types as T

__all__ = ["Var", "Refined", "OneBranch", "ExceptionVar", "NoneResult", "PyAlias", "unify"]


class Var:
    __slots__ = ("value", "where")

    def __init__(self, value, where):
        self.value, self.where = value, where      # where: the AST node that assigned it


class Refined(Var):
    """A variable narrowed by a condition (`if x is not None:`): its value is a
    prim::unchecked_cast of the Optional variable. Not an assignment: an `if` does not
    merge it into its outputs."""
    __slots__ = ()


class OneBranch:
    """A name not defined after the statement that assigned it: assigned on one branch of
    an `if` (why="if", or "if-true" / "if-false": the branch that leaves it undefined),
    first assigned inside a loop body ("loop"), a loop variable
    ("loopvar"), or deleted by `del name` ("del"; where: the del statement). Using it
    later is an error that says so."""
    __slots__ = ("where", "why")

    def __init__(self, where, why="if"):
        self.where, self.why = where, why


class NoneResult:
    """A name bound to what print(...) gives, `y = print(x)`: TorchScript's NoneValue (a
    sugared value, no graph value), which names may hold (`z = y`) but which is no value
    anywhere else (torch 2.13: "None cannot be used as a value")."""
    __slots__ = ("where",)

    def __init__(self, where):
        self.where = where


class ExceptionVar:
    """A name bound to an exception, `e = ValueError("bad", x)`, for a later `raise e`:
    TorchScript's exception message (a sugared value, no graph value): msg, the message
    Value, and cls, the exception class. Not a value ("exception message cannot be used
    as a value"), and not merged after an `if` (as torch 2.13: "undefined value e")."""
    __slots__ = ("msg", "cls", "where")

    def __init__(self, msg, cls, where):
        self.msg, self.cls, self.where = msg, cls, where


class PyAlias:
    """A name bound to a Python object that is no value, `backend = TorchJitBackend`,
    `g = torch.relu`, `m = math` (einops' scriptable layers): TorchScript's setSugaredVar
    keeps the sugared value under the name, so `backend.reshape(x, s)` calls it as the
    object itself would be called. Not a value, not merged after an `if` or a loop, and
    not re-assignable in a nested block (torch 2.13: "Cannot re-assign 'b' ... because b
    is not a first-class value")."""
    __slots__ = ("obj", "where")

    def __init__(self, obj, where):
        self.obj, self.where = obj, where


def unify(a, b):
    """The type of a variable that holds a on one path and b on another (None: none)."""
    if a == b:
        return a
    if isinstance(a, T.AnyType) or isinstance(b, T.AnyType):
        return T.ANY             # every type is a subtype of Any (TorchScript's unifyTypes)
    if isinstance(a, T.TensorType) and isinstance(b, T.TensorType):
        return T.TENSOR
    if isinstance(a, T.NumberType) and isinstance(b, (T.IntType, T.FloatType)) or \
            isinstance(b, T.NumberType) and isinstance(a, (T.IntType, T.FloatType)):
        return T.NumberType()    # an int or float is a number (a Scalar: x.item())
    if isinstance(a, T.NoneType) and not isinstance(b, T.NoneType):
        return b if isinstance(b, T.OptionalType) else T.OptionalType(b)
    if isinstance(b, T.NoneType):
        return unify(b, a)
    if isinstance(a, T.UnionType) and b.is_subtype_of(a):
        return a
    if isinstance(b, T.UnionType) and a.is_subtype_of(b):
        return b
    if isinstance(a, T.OptionalType) and b.is_subtype_of(a.elem):
        return a
    if isinstance(b, T.OptionalType) and a.is_subtype_of(b.elem):
        return b
    if isinstance(a, T.ListType) and isinstance(b, T.ListType):
        e = unify(a.elem, b.elem)
        return T.ListType(e) if e is not None and (e == a.elem or e == T.TENSOR) else None
    if isinstance(a, T.TupleType) and isinstance(b, T.TupleType) and \
            len(a.elems) == len(b.elems) and not isinstance(a, T.NamedTupleType):
        es = [unify(x, y) for x, y in zip(a.elems, b.elems)]
        return None if any(e is None for e in es) else T.TupleType(tuple(es))
    return None


def unify_or_union(a, b):
    """TorchScript's unifyTypes(a, b, default_to_union=true), a list literal's element
    type: unify's type, tuples of one length element by element, else Union[a, b]
    ([1, "a"] is a List[Union[int, str]])."""
    if isinstance(a, T.TupleType) and isinstance(b, T.TupleType) and \
            len(a.elems) == len(b.elems) and not isinstance(a, T.NamedTupleType) and \
            not isinstance(b, T.NamedTupleType) and a != b:
        return T.TupleType(tuple(unify_or_union(x, y) for x, y in zip(a.elems, b.elems)))
    u = unify(a, b)
    return u if u is not None else T.UnionType((a, b))
