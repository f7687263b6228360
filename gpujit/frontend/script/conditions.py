"""Conditions and boolean logic in scripted code: comparisons (chained, `is None`, `in`),
`and` / `or` (a bool, as TorchScript's, also as a value), `not`,
ternaries, conversion of a value to a condition, and the refinement of Optional and Union
variables by the conditions that test them (`if x is not None:`,
`x is not None and x > 0`, `isinstance(x, int)`, `not isinstance(x, (int, str))`): in
the branch where the test holds the variable has the members it accepts, in the other
the remaining ones (a prim::unchecked_cast in each branch)."""
from __future__ import annotations

import ast

from ...ir import types as T
from ...ops import registry as _reg
from . import static_eval
from . import isinstance_exprs as isx
from .calls import describe_type
from .errors import FrontendError
from .torch_names import meaningful
from .variables import Refined, Var, unify

__all__ = ["ConditionMixin", "op_text"]

_CMPOPS = {ast.Lt: "lt", ast.Gt: "gt", ast.LtE: "le", ast.GtE: "ge", ast.Eq: "eq",
           ast.NotEq: "ne"}
_CMP_TEXT = {ast.Lt: "<", ast.Gt: ">", ast.LtE: "<=", ast.GtE: ">=", ast.Eq: "==",
             ast.NotEq: "!="}
_FLIPPED = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le", "eq": "eq", "ne": "ne"}


_TYPING = {"int": T.INT, "float": T.FLOAT, "bool": T.BOOL, "str": T.STR,
           "Tensor": T.TENSOR, "None": T.NONE, "NoneType": T.NONE}


class ConditionMixin:
    """ExprCompiler's conditions (self is the compiler)."""

    def expr_IfExp(self, node, expected=None):
        """`a if c else b`; a type hint (`return [1] if b else []` of a List[int]
        function) reaches both values, as TorchScript's."""
        known, prefix = static_eval.static_condition_and_prefix(self, node.test)
        if known is not None:      # decided at compile time: only that value is compiled
            if prefix is not None:
                self.condition(prefix)      # (`v or True`: v still runs)
            return self.expr(node.body if known else node.orelse, expected)
        cond = self.condition(node.test)
        n = self.emit("prim::If", [cond], [])
        vals = []
        for e, refs in zip((node.body, node.orelse), self.refinements(node.test)):
            b = n.add_block()
            with self.in_block(b), self.scope():
                self.refine(refs)
                v = self.expr(e, expected)
                b.register_output(v)
                vals.append(v)
        t = unify(vals[0].type, vals[1].type)
        if t is None:
            # (torch 2.13's words)
            self.error(f"if-expression's true branch has type {vals[0].type.annotation()} "
                       f"but false branch has type {vals[1].type.annotation()}", node)
        return n.add_output(t)

    def expr_BoolOp(self, node):
        """`a and b` / `a or b` as a value: TorchScript's always give a bool, the bool of
        each operand evaluated left to right and no further than needed (torch 2.13:
        `n or 7` of an int n is True, `s and t` of two strs bool(t) where s is not empty;
        never Python's operand)."""
        return self.bool_chain(node)

    def if_condition(self, test):
        """An `if` statement's test as a bool: a chain's operands that are the value that
        does not decide it, known at compile time (`a and True`, `a or self.off` of a
        False constant), are left out, as torch 2.13's graph of `if self.training and
        self.track_running_stats:` tests %training alone (a value, `b = a and True`,
        keeps them: condition())."""
        if isinstance(test, ast.BoolOp):
            idle = not isinstance(test.op, ast.Or)     # (True in `and`, False in `or`)
            kept = [e for e in test.values
                    if static_eval.static_condition_and_prefix(self, e) != (idle, None)]
            if kept and len(kept) < len(test.values):
                test = kept[0] if len(kept) == 1 else \
                    ast.copy_location(ast.BoolOp(op=test.op, values=kept), test)
        return self.condition(test)

    def bool_chain(self, node):
        """`a and b` / `a or b` as a bool (a condition or a value): each operand converted
        to bool, later ones refined by earlier ones (`x is not None and x > 0`)."""
        is_and = isinstance(node.op, ast.And)
        v = self.condition(node.values[0])
        known = {}          # what the operands before e establish when e is evaluated
        for prev, e in zip(node.values, node.values[1:]):
            t_refs, f_refs = self.refinements(prev)
            _narrow(known, t_refs if is_and else f_refs)
            # (the If and its constant carry the expression's line and column, as
            # TorchScript's emitShortCircuitLogical, not the statement's)
            with self.at(node):
                n = self.emit("prim::If", [v], [])
            refined = {}
            for first in (True, False):
                b = n.add_block()
                with self.in_block(b), self.scope() as frame, self.at(node):
                    if first == is_and:
                        self.refine(known)
                        refined = {k: r for k, r in frame.items()
                                   if isinstance(r, Refined) and "." not in k}
                        b.register_output(self.condition(e))
                    else:
                        b.register_output(self.const(not is_and))
            v = n.add_output(T.BOOL)
            # the variables the operand's block narrowed are outputs of the If (the
            # narrowed value there, the variable's own on the other path), as TorchScript's
            # emitShortCircuitLogical stores them: later reads, and the casts of the `if`
            # the chain decides, read the If's output (`_0, x0 = torch.gt(x1, 2), x1`;
            # DCE drops those nothing reads)
            for name, r in refined.items():
                outer = self.lookup_var(name)
                if not isinstance(outer, Var) or isinstance(outer, Refined) or \
                        r.value.node.kind != "prim::unchecked_cast" or \
                        not r.value.type.is_subtype_of(outer.value.type):
                    continue
                for first, b in zip((True, False), n.blocks):
                    b.register_output(r.value if first == is_and else outer.value)
                out = n.add_output(outer.value.type)
                if meaningful(name):
                    out.set_debug_name(name)
                self.scopes[-1][name] = Var(out, outer.where)
        return v

    # ------------------------------------------------------------------ refinement
    def refinements(self, test):
        """({name: type} when test is true, {name: type} when it is false): the Optional
        and Union variables a condition narrows (`x is None`, `x is not None`,
        `isinstance(x, ...)`, `not ...`, and `and` / `or` chains of those). A variable
        is never narrowed to None alone (nothing could use it)."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            t, f = self.refinements(test.operand)
            return f, t
        if isinstance(test, ast.BoolOp):
            merged = {}
            for v in test.values:
                t, f = self.refinements(v)
                _narrow(merged, t if isinstance(test.op, ast.And) else f)
            return (merged, {}) if isinstance(test.op, ast.And) else ({}, merged)
        if self.is_isinstance_test(test) and isinstance(test.args[0], ast.Name):
            name = test.args[0].id
            var = self.lookup_var(name)
            if isinstance(var, Var) and isinstance(var.value.type, T.AnyType):
                # (the false branch reads it as an Any again: torch 2.13's code casts it,
                # `x0 = unchecked_cast(Any, x)`, where that branch uses it)
                yes = isx.any_members(self.isinstance_types(test), self, test)
                return (_refs(name, yes) if len(yes) == 1 else {}), {name: T.ANY}
            if isinstance(var, Var) and _narrowable(var.value.type):
                yes, no = isx.split_members(var.value.type, self.isinstance_types(test))
                if yes and no:
                    return _refs(name, yes), _refs(name, no)
            return {}, {}
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
                isinstance(test.ops[0], (ast.Is, ast.IsNot)):
            a, b = test.left, test.comparators[0]
            if isinstance(a, ast.Constant) and a.value is None:
                a, b = b, a
            name, t = self.refinable(a) if isinstance(b, ast.Constant) and \
                b.value is None else (None, None)
            if name is not None:
                if _narrowable(t):
                    members = isx.union_members(t)
                    if T.NONE in members:
                        refs = _refs(name, [m for m in members if m != T.NONE])
                        return ({}, refs) if isinstance(test.ops[0], ast.Is) else (refs, {})
        return {}, {}

    def refinable(self, node):
        """(key, type) of what `is None` can narrow: a variable, or a field of a
        NamedTuple variable (`if out.loss is not None:`; a NamedTuple never changes, so
        the field stays narrowed until the variable is reassigned), else (None, None)."""
        if isinstance(node, ast.Name):
            var = self.lookup_var(node.id)
            return (node.id, var.value.type) if isinstance(var, Var) else (None, None)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            var = self.lookup_var(node.value.id)
            if isinstance(var, Var) and isinstance(var.value.type, T.NamedTupleType) and \
                    node.attr in var.value.type.fields:
                t = var.value.type
                return f"{node.value.id}.{node.attr}", t.elems[t.fields.index(node.attr)]
        return None, None

    def refined_field(self, node):
        """The narrowed value of `name.field` (see refinable) while `name` still holds
        the NamedTuple it was narrowed on, else None."""
        if not isinstance(node.value, ast.Name):
            return None
        r = self.lookup_var(f"{node.value.id}.{node.attr}")
        var = self.lookup_var(node.value.id)
        if isinstance(r, Refined) and isinstance(var, Var) and \
                r.value.node.inputs[0].node.inputs[0] is var.value:
            return r.value
        return None

    def refine(self, refs):
        """Narrow the named Optional / Union variables in the current scope (a
        prim::unchecked_cast each, in the current block)."""
        for name, t in refs.items():
            if "." in name:                  # a NamedTuple's field: `out.loss`
                base, field = name.split(".")
                var = self.lookup_var(base)
                ty = var.value.type
                k = ty.fields.index(field)
                v = self.emit("prim::TupleIndex", [var.value, self.const(k)],
                              [ty.elems[k]]).output
                cast = self.emit("prim::unchecked_cast", [v], [t]).output
                self.scopes[-1][name] = Refined(cast, var.where)
                continue
            var = self.lookup_var(name)
            if isinstance(var, Var) and (_narrowable(var.value.type) or isinstance(
                    var.value.type, T.AnyType)) and (var.value.type != t or isinstance(
                        t, T.AnyType)):
                cast = self.emit("prim::unchecked_cast", [var.value], [t]).output
                if meaningful(name):
                    cast.set_debug_name(name)       # (TorchScript's %y.7: code writes y0 = ...)
                self.scopes[-1][name] = Refined(cast, var.where)

    def expr_Compare(self, node):
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            a, b = node.left, node.comparators[0]
            if isinstance(a, ast.Constant) and a.value is None:
                a, b = b, a
            if isinstance(b, ast.Constant) and b.value is None and \
                    self.untyped_attribute(a):
                # `self.tokenizer is None` of a Python object attribute: never None
                return self.const(isinstance(node.ops[0], ast.IsNot))
        # (an operand `[]` is an empty list literal: `xs == []`, `"a" in []` match the
        # schema's list type, as TorchScript's prim::EmptyListLiteral)
        return self.compare_chain(self.call_arg(node.left), list(zip(node.ops,
                                                                     node.comparators)),
                                  node)

    def compare_chain(self, left, rest, node):
        """a < b < c: (a < b) and (b < c), b evaluated once and c only where a < b holds
        (Python's and TorchScript's short circuit: `a < a <= xs[-1]` reads no xs)."""
        op, comp = rest[0]
        right = self.call_arg(comp)
        v = self.compare(op, left, right, node)
        if len(rest) == 1:
            return v
        n = self.emit("prim::If", [self.to_bool(v, node)], [])
        b0, b1 = n.add_block(), n.add_block()
        with self.in_block(b0):
            b0.register_output(self.to_bool(self.compare_chain(right, rest[1:], node), node))
        with self.in_block(b1):
            b1.register_output(self.const(False))
        return n.add_output(T.BOOL)

    def same_module(self, a, b):
        """Whether the values a and b are the same module (None: not modules; the module
        compiler knows them)."""
        return None

    def compare(self, op, a, b, node):
        if isinstance(op, (ast.Is, ast.IsNot)):
            na, nb = isinstance(a.type, T.NoneType), isinstance(b.type, T.NoneType)
            if _tensorish(a.type) and _tensorish(b.type):
                # TorchScript's identity test of two tensors (self-attention's `query is key`),
                # either of them Optional
                kind = "aten::__is__" if isinstance(op, ast.Is) else "aten::__isnot__"
                return self.emit(kind, [a, b], [T.BOOL]).output
            same = self.same_module(a, b) if isinstance(a.type, T.ClassType) and \
                isinstance(b.type, T.ClassType) else None
            if same is not None:        # submodules: known when compiling
                return self.const(same if isinstance(op, ast.Is) else not same)
            if isinstance(a.type, T.BoolType) and isinstance(b.type, T.BoolType):
                # TorchScript's normalization of `x is True` to aten::eq
                return self.scalar("eq" if isinstance(op, ast.Is) else "ne", a, b,
                                   node=node)
            if not (na or nb):
                # any other two values (lists, dicts, objects of script classes, strings,
                # tuples, numbers, devices; Optional or not): TorchScript's aten::__is__,
                # IValue identity: numbers and devices by value of one kind (`a is b` of
                # two ints is a == b, of an int and a float False), strings, tuples and
                # the rest by object (`a is a` True, `s is "x"` False)
                kind = "aten::__is__" if isinstance(op, ast.Is) else "aten::__isnot__"
                return self.emit(kind, [a, b], [T.BOOL]).output
            if _may_be_none(a.type) or _may_be_none(b.type):
                kind = "aten::__is__" if isinstance(op, ast.Is) else "aten::__isnot__"
                if not nb:
                    a, b = b, a           # None is None on the right: x is None
                return self.emit(kind, [a, b], [T.BOOL]).output
            grad = a if nb and a.node.kind == "prim::grad" else \
                b if na and b.node.kind == "prim::grad" else None
            if grad is not None:
                # x.grad is typed Tensor, as TorchScript's prim::grad (so x.grad.sum()
                # compiles), yet None where there is no gradient: tested when it runs,
                # as eagerly (TorchScript folds `x.grad is None` to False and then fails
                # on the None; gpujit keeps the eager answer)
                kind = "aten::__is__" if isinstance(op, ast.Is) else "aten::__isnot__"
                return self.emit(kind, [grad, self.const(None)], [T.BOOL]).output
            same = na and nb      # None is None; a non-Optional value is never None
            return self.const(same if isinstance(op, ast.Is) else not same)
        if isinstance(op, (ast.In, ast.NotIn)):
            v = self.contains(b, a, node)
            return v if isinstance(op, ast.In) else self.scalar("__not__", v, node=node)
        if type(op) not in _CMPOPS:
            self.error(f"`{op_text(op)}` is not supported yet", node,
                       hint="compare elements explicitly")
        name = _CMPOPS[type(op)]
        if isinstance(a.type, T.SetType) and isinstance(b.type, T.SetType):
            return self.set_compare(name, a, b, node)
        if isinstance(a.type, T.TensorType) or isinstance(b.type, T.TensorType):
            if isinstance(a.type, T.BoolType):
                # flag < x: TorchScript's (Scalar, Tensor) compares take an int or a float,
                # so the flag is an int and x its aten::IntImplicit (a bool result)
                return self.scalar(name, self.scalar("Int", a, node=node),
                                   self.tensor_as_number(b, "IntImplicit"), node=node)
            if not isinstance(a.type, T.TensorType):
                a, b, name = b, a, _FLIPPED[name]    # 3 < x -> gt(x, 3)
            return self.call_op(name, [a, b], {}, node)
        try:
            return self.scalar(name, a, b, node=node)
        except FrontendError:
            why = _not_compared(a.type, b.type, _CMP_TEXT[type(op)])
            if why is None:
                raise
        # (torch 2.13's words first; then one reason, not every overload's)
        self.error(f"Arguments for call are not valid: no variant of '{name}' accepts "
                   f"({_name(a.type)}, {_name(b.type)}): {why[0]}", node, hint=why[1])

    def condition(self, node):
        if isinstance(node, ast.BoolOp):
            return self.bool_chain(node)
        return self.to_bool(self.expr(node), node)

    def to_bool(self, v, node):
        t = v.type
        if isinstance(t, T.BoolType):
            return v
        if isinstance(t, (T.ListType, T.DictType, T.StrType, T.SetType)):
            # Python's truthiness: `if xs:` is `if len(xs) != 0:`
            return self.scalar("ne", self.len_of(v), self.const(0), node=node)
        kind = {T.TensorType: "Bool.Tensor", T.IntType: "Bool.int",
                T.FloatType: "Bool.float"}.get(type(t))
        if kind is None:
            # None, an Optional, a tuple, ...: TorchScript's bool() takes none of them
            # (`if x:` of an Optional[int] x is refused; test `x is not None`)
            name = "NoneType" if isinstance(t, T.NoneType) else t.annotation()
            self.error(f"Could not cast value of type {name} to bool", node,
                       hint="compare it explicitly, e.g. `x is not None` or `len(x) > 0`")
        op = _reg.OPS[f"aten::{kind}"]
        with self.at(node):     # (the tested expression's range, as TorchScript's)
            return self.emit("aten::Bool", [v], [T.BOOL], op=op).output

    def select(self, cond, a, b, t):
        """cond ? a : b, as a prim::If (a and b are already computed)."""
        n = self.emit("prim::If", [cond], [])
        for v in (a, b):
            n.add_block().register_output(v)
        return n.add_output(t)


def _narrowable(t):
    """Can a condition narrow a value of type t (an Optional, a Union, or a Scalar, which
    is an int or a float)?"""
    return isinstance(t, (T.OptionalType, T.UnionType, T.NumberType))


def _may_be_none(t):
    return isinstance(t, T.OptionalType) or (isinstance(t, T.UnionType)
                                             and T.NONE in t.types)


def _refs(name, members):
    """{name: the type of members}, or nothing for None alone."""
    return {} if list(members) == [T.NONE] else {name: isx.union_of(members)}


def _narrow(known, refs):
    """Add what one more true condition says to known: a variable two conditions narrow
    has the members both allow (`not isinstance(x, int) and not isinstance(x, str)`)."""
    for name, t in refs.items():
        old = known.get(name)
        if old is not None:
            both = [m for m in isx.union_members(old) if m in isx.union_members(t)]
            t = isx.union_of(both) if both else t
        known[name] = t


def op_text(op):
    """An operator as the user wrote it, for messages."""
    return {ast.LShift: "<<", ast.RShift: ">>", ast.In: "in", ast.NotIn: "not in",
            ast.Invert: "~"}.get(type(op), type(op).__name__)


def _tensorish(t):
    """A Tensor or an Optional[Tensor] (what `a is b` compares by identity)."""
    if isinstance(t, T.OptionalType):
        t = t.elem
    return isinstance(t, T.TensorType)


def _not_compared(ta, tb, op):
    """(why, hint) when `a op b` fails on a tuple, a dict, a list of containers or an
    Optional operand (TorchScript compares numbers, strs, bools, dtypes, devices, Tensors
    and lists of those), else None."""
    for t in (ta, tb):
        if isinstance(t, T.OptionalType):
            return (f"`{op}` of {describe_type(t)}: it may be None",
                    "refine it first, e.g. `x is not None and x " + op + " y`")
    for t in (ta, tb):
        if isinstance(t, T.TupleType):
            return (f"`{op}` does not compare {_name(t)} values in scripted code "
                    f"(it compares numbers, strs, bools, Tensors and lists of those)",
                    "compare the elements, e.g. a[0] " + op + " b[0]")
        if isinstance(t, T.DictType):
            return (f"`{op}` does not compare {_name(t)} values in scripted code",
                    "compare len(a) == len(b) and a[k] == b[k] for each key k")
        if isinstance(t, T.ListType) and isinstance(t.elem, (T.ListType, T.TupleType,
                                                              T.DictType)):
            return (f"`{op}` does not compare {_name(t)} values in scripted code "
                    f"(lists of numbers, strs, bools or Tensors only)",
                    "compare the inner containers one by one in a loop")
    return None


def _name(t):
    return t.name.split(".")[-1] if isinstance(t, T.NamedTupleType) else t.annotation()
