"""isinstance() in scripted code (the builtin and torch.jit.isinstance): decided by the
static type where it can be (a constant), else a None check of an Optional or a
prim::isinstance run-time test of a Union / Any value; and the Union / Optional member
arithmetic the refinement of a tested variable uses (conditions.py)."""
from __future__ import annotations

import ast

from ...ir import types as T

__all__ = ["IsinstanceMixin", "static_isinstance", "union_members", "union_of",
           "split_members", "any_members"]


class IsinstanceMixin:
    """ExprCompiler's isinstance() (self is the compiler)."""

    def isinstance_types(self, node):
        """The IR types an isinstance() class argument names (a class, typing generic,
        or a tuple of those)."""
        if len(node.args) != 2 or node.keywords:
            self.error("isinstance() takes a value and a class", node)
        cls_node = node.args[1]
        items = cls_node.elts if isinstance(cls_node, ast.Tuple) else [cls_node]
        out = []
        for it in items:
            found, cls = self.py_object(it)
            if not found:
                try:
                    cls = eval(compile(ast.Expression(it), "<isinstance>", "eval"),  # noqa: S307
                               {**self.fn.__globals__, **self.closure})
                except Exception:
                    self.error(f"unknown class '{ast.unparse(it)}' in isinstance()", it)
            for c in (cls if isinstance(cls, tuple) else (cls,)):
                out.append(_isinstance_type(c, self.fn.__globals__, self.src, self, it))
        return out

    def is_isinstance_test(self, node) -> bool:
        """Is node a call of the builtin isinstance(x, C) or of gpujit.jit.isinstance (as
        `torch.jit.isinstance(x, List[int])`), with two arguments?"""
        if not (isinstance(node, ast.Call) and len(node.args) == 2 and not node.keywords):
            return False
        f = node.func
        if isinstance(f, ast.Name) and f.id == "isinstance" and self.is_builtin("isinstance"):
            return True
        if not isinstance(f, ast.Attribute):
            return False
        from ...jit.script import jit_isinstance
        found, obj = self._py_object_quiet(f) if hasattr(self, "_py_object_quiet") else \
            self.py_object(f)
        return found and obj is jit_isinstance

    def isinstance_call(self, node):
        """isinstance() from static types: a constant when the static type decides it;
        on a Union or an Optional it is a run-time test, prim::isinstance, whose `types`
        attribute lists the members it accepts (graph-text spellings, as parse_type
        reads them)."""
        types = self.isinstance_types(node)
        v = self.expr(node.args[0])
        t = v.type
        if isinstance(t, T.AnyType):       # any value: a run-time test of its kind
            return self._isinstance_node(v, _spelled(types, any_members(types, self, node)))
        verdict = static_isinstance(t, types)
        if verdict is not None:
            return self.const(verdict)
        matching, _ = split_members(t, types)
        # (an Optional's too: torch 2.13's prim::isinstance[types=[int]](%x), .code
        # `isinstance(x, int)`)
        return self._isinstance_node(v, _spelled(types, matching))

    def _isinstance_node(self, v, types):
        """prim::isinstance[types=...](v), with no source range (TorchScript's has none:
        its line shows no `# file:line:col`)."""
        saved, self.cur = self.cur, None
        try:
            return self.emit("prim::isinstance", [v], [T.BOOL], attrs={"types": types}).output
        finally:
            self.cur = saved


# the classes isinstance() names, as TorchScript's prim::isinstance[types=[...]] spells
# them: `list` and `tuple` are any list / tuple (its AnyListType / AnyTupleType)
_KIND_SPELLING = {T.ListType: "list", T.TupleType: "tuple", T.IntType: "int",
                  T.FloatType: "float", T.BoolType: "bool", T.StrType: "str",
                  T.NoneType: "NoneType", T.TensorType: "Tensor"}


def _spelled(types, matching):
    """prim::isinstance's `types`: the classes as written (`isinstance(x, list)` is
    types=[list], as torch 2.13's), or, for a class TorchScript has no such spelling
    of, the members it accepts."""
    out = []
    for x in types:
        s = _KIND_SPELLING.get(x[0]) if isinstance(x, tuple) else str(x)
        if s is None:
            return [str(m) for m in matching]
        out.append((s, T.ListType(T.ANY) if s == "list" else T.TupleType(()) if s == "tuple"
                    else x if not isinstance(x, tuple) else _ANY_MEMBERS[x[0]]))
    # (in the order TorchScript's Union of them keeps: `isinstance(x, (str, float))` is
    # types=[float, str])
    order = {str(t): i for i, t in enumerate(T.canonical_union_members([t for _, t in out]))}
    return sorted(dict.fromkeys(s for s, _ in out),
                  key=lambda s: order.get(str(dict(out)[s]), len(order)))


_ANY_MEMBERS = {T.TensorType: T.TENSOR, T.IntType: T.INT, T.FloatType: T.FLOAT,
                T.StrType: T.STR, T.NoneType: T.NONE, T.BoolType: T.BOOL}


def any_members(types, c, node):
    """The types isinstance(x, types) accepts for x of type Any (what a true test
    narrows x to): Tensor, int, float, str, None, or a spelled-out generic."""
    out = []
    for x in types:
        if isinstance(x, tuple) and x[0] in (T.ListType, T.TupleType):
            out.append(T.ANY)       # (any list / tuple: nothing to narrow it to)
        elif isinstance(x, tuple):
            t = _ANY_MEMBERS.get(x[0])
            if t is None:
                c.error("isinstance() of an Any value is supported with Tensor, int, "
                        "float, bool, str, None, list, tuple or a typed List[T] / "
                        "Tuple[...] / Dict[K, V] / Optional[T]",
                        node)
            out.append(t)
        else:
            out.append(x)
    return out


def union_members(t):
    """The alternatives of a value of type t: a Union's members, an Optional's element
    and None, or t alone."""
    if isinstance(t, T.UnionType):
        return tuple(t.types)
    if isinstance(t, T.OptionalType):
        return (t.elem, T.NONE)
    if isinstance(t, T.NumberType):     # a Scalar (`x.item()`): an int or a float
        return (T.INT, T.FLOAT)
    return (t,)


def union_of(members):
    """The type of a value that is one of members (the inverse of union_members): one
    member is itself, one member and None an Optional, more a Union."""
    members = list(dict.fromkeys(members))
    if len(members) == 1:
        return members[0]
    others = [m for m in members if m != T.NONE]
    if len(others) == 1:
        return T.OptionalType(others[0])
    return T.UnionType(tuple(members))


def split_members(t, types):
    """([members isinstance(x, types) accepts], [the others]) for x of static type t."""
    yes, no = [], []
    for m in union_members(t):
        (yes if static_isinstance(m, types) else no).append(m)
    return yes, no


def isinstance_spelling(t) -> str:
    """A member type as an isinstance() class argument (`int`, `Tensor`, `List[int]`)."""
    return "type(None)" if isinstance(t, T.NoneType) else t.annotation()


_PY_CLASSES = {int: (T.IntType,), float: (T.FloatType,), bool: (T.BoolType,),
               str: (T.StrType,), list: (T.ListType,), tuple: (T.TupleType,),
               set: (T.SetType,), type(None): (T.NoneType,)}


def _isinstance_type(cls, globals_, src, c, where):
    """A class argument of isinstance(): a tuple of IR type classes (a plain class: any
    value of its kind) or an IR type (a typing generic: List[int])."""
    from ...tensor import Tensor
    from ...jit.script import bare_generic_message
    if cls is Tensor:
        return (T.TensorType,)
    if bare_generic_message(cls) is not None:
        c.error(bare_generic_message(cls), where)
    if cls is dict:     # (TorchScript knows `list` and `tuple` here, not `dict`)
        c.error("Unknown type name 'dict': isinstance() takes Dict[K, V], not dict",
                where, hint="write isinstance(x, Dict[str, int]) with the key and value "
                            "types")
    if cls in _PY_CLASSES:
        return _PY_CLASSES[cls]
    if getattr(cls, "_gpujit_future", False) and isinstance(cls, type):   # any Future
        return (T.FutureType,)
    if getattr(cls, "_gpujit_await", False) and isinstance(cls, type):    # any Await
        return (T.AwaitType,)
    try:
        return _annotation_type(cls, globals_, src)
    except _frontend_error():
        c.error(f"isinstance() with {getattr(cls, '__name__', cls)!r} is not supported",
                where, hint="use int, float, bool, str, Tensor, list, tuple or "
                            "List[T] / Tuple[...] / Dict[K, V]")


def static_isinstance(t, types):
    """True / False when the static type t decides isinstance(), None when it does not
    (an Optional or Union value whose alternatives differ, or an Any value)."""
    if isinstance(t, T.AnyType):
        return None
    alts = union_members(t) if isinstance(t, (T.UnionType, T.OptionalType, T.NumberType)) \
        else None
    if alts is not None:
        verdicts = {static_isinstance(a, types) for a in alts}
        return verdicts.pop() if len(verdicts) == 1 else None
    for x in types:
        if isinstance(x, tuple):
            if isinstance(t, x) or (T.TupleType in x and isinstance(t, T.AnyTupleType)):
                return True     # (a bare `tuple` value is a tuple)
        elif t == x or (isinstance(t, T.TensorType) and isinstance(x, T.TensorType)) or \
                t.is_subtype_of(x):
            return True
    return False


def _annotation_type(ann, globals_, src):
    from .exprs import fallback_annotation_type
    return fallback_annotation_type(ann, globals_, src)


def _frontend_error():
    from .errors import FrontendError
    return FrontendError
