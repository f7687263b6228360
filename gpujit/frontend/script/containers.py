"""Lists, dicts and sets in scripted code: literals, subscripts and slices, methods, item
assignment and `del`, and the operators on them (`+`, `*`, `|`, `&`, `-`, `^`, `in`).

Everything lowers to the runtime's Python container ops (interpreter.CONTAINER_OPS:
aten::append, aten::_set_item, aten::__getitem__, aten::pop, aten::slice, ...) plus
prim::Loop / prim::If, so the reference interpreter and the generated executor run the
very Python operation the user wrote. A mutator returns its container (as aten::append
does) and its kind is one of the IR's side-effect kinds (schema_match.SIDE_EFFECT_KINDS:
append, insert, _set_item, pop, clear, extend, remove), so dead-code elimination keeps it;
the mutators with no kind of their own there lower onto those (`xs.sort()` is a sorted
copy, then clear and extend; `s.add(x)` extends s with [x]; `d.setdefault(k, v)` is
`if k not in d: d[k] = v`). `.code` writes the container ops it has no Python spelling
for as `torch.<kind>(...)`; container_kind_call compiles those back.

A user's subscript and pop carry the scripted source line as a last str input: an index
out of range or a missing key raises IndexError / KeyError naming that line."""
from __future__ import annotations

import ast
import inspect
import warnings

from ...ir import types as T
from ...ir.python_exprs import CONTAINER_OP_DEFAULTS
from ...ops import registry as _reg
from . import calls
from .calls import describe_type, short_type
from .errors import FrontendError, NotSupportedError
from .variables import OneBranch, Var, unify as _unify, unify_or_union

__all__ = ["ContainerMixin", "elem_fits", "general"]

_KEY_TYPES = (T.StrType, T.IntType, T.FloatType, T.BoolType, T.TensorType)
_HASHABLE = (T.StrType, T.IntType, T.FloatType, T.BoolType)
_SORTABLE = (T.StrType, T.IntType, T.FloatType, T.BoolType)
# set operators: the container op each lowers to
_SET_OPS = {ast.BitOr: "__or__", ast.BitAnd: "__and__", ast.Sub: "sub", ast.BitXor: "__xor__"}


def elem_fits(t, elem) -> bool:
    """May a value of type t be stored in a container whose elements are `elem`? A
    Scalar (`x.item()`) fits an int or float slot, as it fits such an argument."""
    if t.is_subtype_of(elem) or (isinstance(t, T.TensorType)
                                 and isinstance(elem, T.TensorType)):
        return True
    if isinstance(t, T.NumberType) and isinstance(elem, (T.IntType, T.FloatType)):
        return True
    return isinstance(t, T.TupleType) and isinstance(elem, T.TupleType) and \
        len(t.elems) == len(elem.elems) and all(map(elem_fits, t.elems, elem.elems))


def general(t):
    """The element type a container stores: any Tensor is `Tensor`."""
    return T.TENSOR if isinstance(t, T.TensorType) else t


class ContainerMixin:
    """ExprCompiler's list, dict and set forms (self is the compiler)."""

    # ------------------------------------------------------------------ building blocks
    def len_of(self, c):
        if isinstance(c.type, T.ListType):
            return self.emit("aten::len", [c], [T.INT], op=_reg.OPS["aten::len.t"]).output
        return self.emit("aten::len", [c], [T.INT]).output

    def append_to(self, lst, v, node):
        elem = lst.type.elem
        # a number (x.item()) for a List[float]'s element is aten::Float of it, as
        # TorchScript's schema matching converts it (torch 2.13: [2.0], not [2]); so in a
        # tuple literal, element by element
        v = self.number_as(v, elem)
        if not elem_fits(v.type, elem):
            self.error(f"'append' got {describe_type(v.type)} but the list holds "
                       f"{describe_type(elem)}:\n  aten::append.t(t[](a!) self, t(c -> *) el) "
                       f"-> t[](a!): Could not match type {v.type} to t in argument 'el': "
                       f"Type variable 't' previously matched to type {elem} is matched to "
                       f"type {v.type}.", node,
                       hint="a list holds one type; annotate it, e.g. xs: List[float] = []")
        return self.emit("aten::append", [lst, v], [lst.type]).output

    def rebind(self, receiver, v):
        """After a mutator, the receiver variable names the mutator's result (the same
        list or dict object): code after it, loops carrying it and the executor's return
        (which rebuilds a list literal from its items) all see the mutated container."""
        if isinstance(receiver, ast.Name):
            old = self.lookup_var(receiver.id)
            if isinstance(old, Var) and old.value.type == v.type:
                # a refined variable (isinstance(x, List[int])) stays refined: the mutation
                # is no assignment to merge with the wider variable after the if
                self.scopes[-1][receiver.id] = type(old)(v, old.where)

    def for_each(self, seq, body, where):
        """A prim::Loop over the elements of the list `seq`, body(elem) compiled in its
        block (no carried values: the body only mutates containers)."""
        trip = self.len_of(seq)
        node = self.emit("prim::Loop", [trip, self.const(True)], [])
        block = node.add_block()
        i = block.add_input(T.INT)      # (unnamed, as TorchScript's: `for _1 in ...`)
        with self.in_block(block), self.scope():
            body(self.emit("aten::__getitem__", [seq, i], [seq.type.elem]).output)
            block.register_output(self.const(True))
        return node

    def as_list(self, v, tuple_use=None):
        """The list a loop or comprehension iterates for v: a list itself, a dict's keys,
        a set's elements (in Python's own iteration order), a str's characters; with
        tuple_use (what converts it: "list() of", "a comprehension over"...), a tuple whose
        elements share one type, as TorchScript; None for other types."""
        t = v.type
        if isinstance(t, T.ListType):
            return v
        if isinstance(t, T.TupleType) and tuple_use is not None:
            return self.tuple_as_list(v, tuple_use)
        if isinstance(t, T.DictType):
            return self.emit("aten::keys", [v], [T.ListType(t.key)]).output
        if isinstance(t, T.SetType):
            return self.emit("aten::list", [v], [T.ListType(t.elem)]).output
        if isinstance(t, T.StrType):
            return self.emit("aten::list", [v], [T.ListType(T.STR)]).output
        return None

    def tuple_as_list(self, v, use):
        """The list of a tuple's elements (`list(t)`, `[f(x) for x in t]`): they must share
        one type (an empty tuple gives a List[Tensor], as `[]`)."""
        t = v.type
        vals = self.emit("prim::TupleUnpack", [v], list(t.elems)).outputs if t.elems else []
        et = T.TENSOR
        for k, x in enumerate(vals):
            u = x.type if k == 0 else _unify(et, x.type)
            if u is None:
                self.error(f"{use} a tuple needs elements of one type; "
                           f"{describe_type(t)} mixes {describe_type(et)} and "
                           f"{describe_type(x.type)}",
                           hint="iterate it with a for loop (unrolled), or index it")
            et = u
        return self.emit("prim::ListConstruct", vals, [T.ListType(general(et))]).output

    def starred_unpack(self, target, v):
        """`first, *rest = t` of a tuple t: (target, value) pairs, the starred name getting
        a tuple of the middle elements, as TorchScript's (torch 2.13: `p, *q = (1, 2, 3)`
        makes q (2, 3)). A list has no size known when compiling: TorchScript refuses
        `a, *b = xs` of one ("cannot statically infer the expected size of a list in this
        context"), as it does a starred name alone (`*b, = t`)."""
        elts = target.elts
        star = [k for k, e in enumerate(elts) if isinstance(e, ast.Starred)]
        if len(star) != 1:
            self.error("an unpacking takes at most one starred name", target)
        if len(elts) == 1:
            self.error("A Starred expression may only appear on the lhs within the presence "
                       "of another non-starred expression", target)
        k, after = star[0], len(elts) - star[0] - 1
        t = v.type
        if isinstance(t, T.ListType):
            self.error("cannot statically infer the expected size of a list in this context",
                       target, hint="unpack a tuple, or index the list")
        if not isinstance(t, T.TupleType):
            self.error(f"{t.annotation()} cannot be used as a tuple: cannot unpack "
                       f"{describe_type(t)}", target, hint="unpack a tuple")
        if len(t.elems) < len(elts) - 1:
            self.error(f"cannot unpack a tuple of {len(t.elems)} values into "
                       f"{len(elts) - 1} or more names", target)
        vals = self.emit("prim::TupleUnpack", [v], list(t.elems)).outputs
        mid = vals[k:len(vals) - after]
        rest = self.emit("prim::TupleConstruct", mid,
                         [T.TupleType([x.type for x in mid])]).output
        names = elts[:k] + [elts[k].value] + elts[k + 1:]
        return list(zip(names, vals[:k] + [rest] + vals[len(vals) - after:]))

    def element_type(self, vals, node, what="a list", union=None):
        """The one element type of a literal's values (an error when they mix). With
        union (TorchScript's word for the container: "List", "Dict values"), mixed
        elements make a Union of their types, with TorchScript's warning, as its
        unifyTypes(default_to_union=true) in a list or dict literal."""
        t = vals[0].type
        for v in vals[1:]:
            u = _unify(t, v.type)
            if u is None and union is not None:
                u = unify_or_union(t, v.type)
            if u is None:
                self.error(f"{what} holds one type; this one mixes {describe_type(t)} and "
                           f"{describe_type(v.type)}", node, hint="use a tuple")
            t = u
        if union is not None and isinstance(t, T.UnionType):
            self.warn_heterogeneous(union, general(t), node)
        return general(t)

    def warn_heterogeneous(self, what, t, node):
        """TorchScript's warning for a list or dict literal typed as a Union."""
        sr = self.src.range(node)
        where = f"\n  File \"{sr.filename}\", line {sr.line}" if sr is not None else ""
        if what == "List":
            text = (f"List consists of heterogeneous types, which means that it has been "
                    f"typed as containing {t.annotation()}. To use any of the values in "
                    f"this List, it will be necessary to add an `assert isinstance` "
                    f"statement before first use to trigger type refinement.")
        else:
            text = (f"Dict values consist of heterogeneous types, which means that they "
                    f"have been typed as being {t.annotation()}. To use any of the values "
                    f"in this dict, it will be necessary to add an `assert isinstance` "
                    f"statement before first use to trigger type refinement.")
        warnings.warn(text + where, UserWarning, stacklevel=2)

    # ------------------------------------------------------------------ literals
    def expr_List(self, node, expected=None):
        if isinstance(expected, T.OptionalType):
            expected = expected.elem
        hint = expected.elem if isinstance(expected, T.ListType) else None
        vals = self.display_values(node.elts, [hint] * len(node.elts))
        if not vals:
            # an empty list is a List[Tensor] unless annotated (TorchScript's rule)
            t = expected if isinstance(expected, T.ListType) else T.ListType(T.TENSOR)
            return self.emit("prim::ListConstruct", [], [t]).output
        if isinstance(expected, T.ListType) and all(elem_fits(v.type, expected.elem)
                                                    for v in vals):
            t = expected          # List[OneTwo] of objects of two classes it describes
        elif isinstance(expected, T.ListType) and not any(
                isinstance(v.type, T.TensorType) for v in vals) and \
                len({v.type for v in vals}) > 1:
            # `l: List[int] = [1, "foo"]` (mixed elements, an annotation): TorchScript's words
            kinds = " and ".join(sorted({describe_type(v.type) for v in vals}))
            self.error(f"List type annotation `{expected.annotation()}` did not match the "
                       f"types of the given list elements (it mixes {kinds})", node)
        else:
            t = T.ListType(self.element_type(vals, node, union="List"))
        return self.emit("prim::ListConstruct", vals, [t]).output

    def expr_Dict(self, node, expected=None):
        if any(k is None for k in node.keys):
            self.error("Dict expansion (e.g. `{**dict}`) is not supported: `**` in a dict "
                       "literal", node, hint="set each key with d[k] = v",
                       cls=NotSupportedError)
        if isinstance(expected, T.OptionalType):
            expected = expected.elem
        hint = expected.value if isinstance(expected, T.DictType) else None
        keys = [self.expr(k) for k in node.keys]
        vals = [self.expr(v, expected=hint) for v in node.values]
        if not keys:
            # an empty dict is a Dict[str, Tensor] unless annotated (TorchScript's rule)
            t = expected if isinstance(expected, T.DictType) else \
                T.DictType(T.STR, T.TENSOR)
            return self.emit("prim::DictConstruct", [], [t]).output
        kt = keys[0].type
        for k in keys[1:]:
            if _unify(kt, k.type) is None:
                # TorchScript's words
                self.error(f"Dict keys must contain only a single type. Expected: "
                           f"{general(kt).annotation()} but found "
                           f"{general(k.type).annotation()} instead", node)
            kt = _unify(kt, k.type)
        kt = general(kt)
        vt = self.element_type(vals, node, "a dict's values", union="Dict values")
        self.check_key_type(kt, node.keys[0])
        t = T.DictType(kt, vt)
        if isinstance(expected, T.DictType) and elem_fits(kt, expected.key) and \
                elem_fits(vt, expected.value):
            t = expected
        items = [x for kv in zip(keys, vals) for x in kv]
        return self.emit("prim::DictConstruct", items, [t]).output

    def union_container_literal(self, t, value, stmt):
        """`x: Union[List[str], List[Tensor]] = [...]` (or a dict): the literal is built as
        the one List (Dict) member of the Union its elements fit, as TorchScript picks it,
        with TorchScript's errors when none or several could be meant."""
        is_list = isinstance(value, (ast.List, ast.ListComp))
        kind, word = (T.ListType, "List") if is_list else (T.DictType, "Dict")
        cands = [m for m in t.types if isinstance(m, kind)]
        if not cands:
            self.error(f"Expected an Union type annotation with an inner {word} type, but "
                       f"got {t.annotation()}", stmt)

        def fits(v, c):
            return v.type.is_subtype_of(c) or (
                is_list and isinstance(v.type.elem, T.TensorType) and c.elem == T.TENSOR)
        if len(cands) == 1:
            c = cands[0]
            try:
                v = self.expr(value, expected=c)
                ok = fits(v, c)
            except FrontendError:
                ok = False
            if ok:
                return v
            if is_list:
                self.error(f"List type annotation `{c.annotation()}` did not match the "
                           f"types of the given list elements", stmt)
            self.error(f"Type annotation was inferred to be `{c.annotation()}`, but the "
                       f"type of values given by the dict literal is not {c.value.annotation()}",
                       stmt)
        shown = ", ".join(c.annotation() for c in cands)
        if isinstance(value, (ast.List, ast.Dict)) and not (
                value.elts if is_list else value.keys):
            self.error(f"Cannot assign an empty {word.lower()} literal to a variable "
                       f"annotated {t.annotation()}: there are multiple possible {word} "
                       f"type candidates in the Union annotation ({shown})", stmt,
                       hint=f"annotate it with one {word} type")
        try:
            v = self.expr(value)
            match = next((c for c in cands if fits(v, c)), None)
        except FrontendError:
            match = None
        if match is None:
            what = ("none of those types match the types of the given list elements"
                    if is_list else "none of those dict types can hold the types of the "
                                    "given keys and values")
            self.error(f"Union type annotation `{t.annotation()}` can hold {shown}, but "
                       f"{what}", stmt)
        return v

    def check_key_type(self, kt, node):
        if not isinstance(kt, _KEY_TYPES):
            self.error(f"Cannot create dict for key type '{kt}', only int, float, complex, "
                       f"Tensor, device and string keys are supported: dict keys must be "
                       f"str, int, float, bool or Tensor, not {describe_type(kt)}", node,
                       hint="use str or int keys")

    def expr_Set(self, node, expected=None):
        vals = [self.expr(e) for e in node.elts]
        t = self.element_type(vals, node, "a set")
        if isinstance(expected, T.SetType) and all(elem_fits(v.type, expected.elem)
                                                   for v in vals):
            t = expected.elem
        return self.new_set(self.emit("prim::ListConstruct", vals, [T.ListType(t)]).output,
                            node)

    def new_set(self, lst, node):
        """set(xs): a set of a list's elements (ints, floats, bools or strs)."""
        if not isinstance(lst.type.elem, _HASHABLE):
            self.error(f"a set holds ints, floats, bools or strs, not "
                       f"{describe_type(lst.type.elem)}", node,
                       hint="use a List[T] of those values instead")
        return self.emit("aten::set", [lst], [T.SetType(lst.type.elem)]).output

    def empty_set(self, node, expected=None):
        t = expected if isinstance(expected, T.SetType) else None
        if t is None:
            self.error("the type of an empty set is unknown", node,
                       hint="annotate it: s: Set[int] = set()")
        return self.emit("aten::set", [], [t]).output

    # ------------------------------------------------------------------ subscripts
    def container_subscript(self, v, sl, node):
        """xs[i], xs[a:b:c], d[k], s[i], s[a:b]; None when v is not a list, dict or str."""
        t = v.type
        if isinstance(t, (T.ListType, T.StrType)):
            if isinstance(sl, ast.Slice):
                return self.slice_of(v, sl)
            i = self.bool_as_index(self.expr(sl))
            if not isinstance(i.type, T.IntType):
                what = "list" if isinstance(t, T.ListType) else "string"
                self.error(f"{what} indices must be ints, got {describe_type(i.type)}", sl)
            out = t.elem if isinstance(t, T.ListType) else T.STR
            return self.emit("aten::__getitem__", [v, i], [out]).output
        if isinstance(t, T.DictType):
            k = self.check_key(v, self.expr(sl), sl)
            return self.emit("aten::__getitem__", [v, k],
                             [t.value]).output
        return None

    def bool_as_index(self, i):
        """A bool index of a list or str is its int (aten::Int), as TorchScript's schema
        matching converts a bool for an int argument (torch 2.13: `[a, b][a > b]`); a
        Tensor its aten::IntImplicit (`xs[t]`, `s[t:]` with a 0-dim t: torch 2.13)."""
        if isinstance(i.type, T.TensorType):
            return self.tensor_as_number(i, "IntImplicit")
        return self.scalar("Int", i) if isinstance(i.type, T.BoolType) else i

    def tensor_as_elem(self, v, elem):
        """A Tensor given for the int / float element or key of a container op whose
        overloads are concrete (aten::__contains__.int_list, count.float, Dict_int's
        __getitem__ / get / pop / setdefault / _set_item / Delete) is converted, as
        TorchScript's schema matching converts it (aten::IntImplicit / FloatImplicit of a
        0-dim tensor). The type-variable ones (append, insert's element, xs[i] = v) are
        not: torch refuses those. A bool is its aten::Int / Float alike (`flag in xs`,
        `d[flag]` of a Dict[int, T]: torch 2.13)."""
        if not isinstance(elem, (T.IntType, T.FloatType)):
            return v
        if isinstance(v.type, T.TensorType):
            return self.tensor_as_number(
                v, "IntImplicit" if isinstance(elem, T.IntType) else "FloatImplicit")
        if isinstance(v.type, T.BoolType):
            return self.scalar("Int" if isinstance(elem, T.IntType) else "Float", v)
        return v

    def slice_of(self, v, sl):
        parts = []
        for k, e in enumerate((sl.lower, sl.upper, sl.step)):
            if e is None:
                # NoneType, as TorchScript's; a missing step is its 1 (`s[1:]` is
                # aten::slice(s, 1, None, 1), .code `torch.slice(s, 1)`)
                parts.append(self.const(1) if k == 2 else self.const(None))
                continue
            p = self.bool_as_index(self.expr(e))
            if not isinstance(p.type, (T.IntType, T.NoneType)):
                self.error(f"slice indices must be ints, got {describe_type(p.type)}", e)
            parts.append(p)
        return self.emit("aten::slice", [v, *parts], [v.type]).output

    def check_key(self, d, k, node):
        """k as the key of dict d (a Tensor for an int or float key converted); an error
        when it does not fit."""
        k = self.tensor_as_elem(k, d.type.key)
        if not elem_fits(k.type, d.type.key) and not (
                isinstance(k.type, T.IntType) and isinstance(d.type.key, T.FloatType)):
            self.error(f"Expected key type '{d.type.key.annotation()}' for the dict index "
                       f"but instead found type '{k.type.annotation()}': the keys of this dict "
                       f"are {describe_type(d.type.key)}, not {describe_type(k.type)}", node)
        return k

    def module_keys(self, c, node):
        """The keys of a ModuleDict value (None when c is no ModuleDict; the module
        compiler knows them)."""
        return None

    def contains(self, c, x, node):
        """`x in c` for a list, tuple, dict (its keys), set or str: aten::__contains__."""
        t, xt = c.type, x.type
        if isinstance(t, T.ListType) and calls.is_empty_list_literal(c) and \
                isinstance(xt, (T.IntType, T.FloatType, T.BoolType, T.StrType)):
            # `"a" in []`: the literal takes the element's list type (TorchScript's
            # prim::EmptyListLiteral matched against aten::__contains__.str_list ...; a bool
            # is int_list's item, aten::Int of it, as torch 2.13 compiles `b in []`)
            c = self.empty_list_for_param(c, T.ListType(
                T.INT if isinstance(xt, T.BoolType) else xt))
            t = c.type
            if isinstance(xt, T.BoolType):
                x = self.scalar("Int", x, node=node)
                xt = x.type
        if isinstance(t, T.ClassType):
            keys = self.module_keys(c, node)
            if keys is not None:     # `"name" in self.blocks` (a ModuleDict)
                c = self.emit("prim::ListConstruct", [self.const(k) for k in keys],
                              [T.ListType(T.STR)]).output
                t = c.type
        if isinstance(t, (T.ListType, T.DictType)):
            # (`t in xs` / `t in d` of a 0-dim tensor t: __contains__.int_list's int)
            x = self.tensor_as_elem(x, t.elem if isinstance(t, T.ListType) else t.key)
            xt = x.type
        if isinstance(t, (T.ListType, T.SetType)):
            elems = [t.elem]
        elif isinstance(t, T.TupleType):
            elems = list(t.elems)
        elif isinstance(t, T.DictType):
            elems = [t.key]
        elif isinstance(t, T.StrType):
            elems = [T.STR]
        elif self.has_dunder(c, "__contains__"):      # an object: its __contains__
            return self.dunder_call(c, "__contains__", [x], node, result=T.BOOL)
        else:
            self.error(f"`in` needs a list, tuple, dict, set or str on its right, got "
                       f"{describe_type(t)}", node,
                       hint="for tensors compare explicitly, e.g. (x == v).any()")
        if isinstance(t, T.StrType) and isinstance(xt, T.StrType):
            # TorchScript's str.__contains__ (a builtin function it inlines):
            # c.find(x, 0, len(c)) != -1
            found = self.emit_call(list(_reg.OVERLOADS["aten::find"]),
                                   [c, x, self.const(0), self.len_of(c)], {}, node, "find")
            return self.scalar("ne", found, self.const(-1), node=node)
        nums = (T.IntType, T.FloatType)
        if isinstance(t, T.DictType) and isinstance(t.key, T.TensorType) and \
                isinstance(xt, T.TensorType):
            # aten::__contains__.Tensor: a Dict[Tensor, t] keys its tensors by identity
            return self.emit("aten::__contains__", [c, x], [T.BOOL]).output
        if isinstance(t, T.ListType) and isinstance(t.elem, T.BoolType):
            # TorchScript's aten::__contains__ has no List[bool] overload
            self.error(_contains_not_valid(t), node,
                       hint="any(xs) / all(xs), or compare the elements with ==")
        if not isinstance(xt, _HASHABLE) or not any(
                isinstance(e, _HASHABLE) and (_unify(e, xt) is not None or
                                              (isinstance(e, nums) and isinstance(xt, nums)))
                for e in elems):
            self.error(f"Arguments for call are not valid: no variant of '__contains__' "
                       f"accepts ({t.annotation()}, {xt.annotation()}): "
                       f"`in` compares ints, floats, bools or strs with the elements; "
                       f"cannot look for {describe_type(xt)} in {describe_type(t)}", node)
        return self.emit("aten::__contains__", [c, x], [T.BOOL]).output

    # ------------------------------------------------------------------ operators
    def container_binop(self, opcls, a, b, node):
        """`+` and `*` on lists, `|` `&` `-` `^` on sets; None when neither applies."""
        ta, tb = a.type, b.type
        if isinstance(ta, T.TupleType) and isinstance(tb, T.TupleType) and opcls is ast.Add:
            # tuple concatenation: a new tuple of both element lists (as TorchScript)
            vals = [x for v, t in ((a, ta), (b, tb)) if t.elems
                    for x in self.emit("prim::TupleUnpack", [v], list(t.elems)).outputs]
            return self.emit("prim::TupleConstruct", vals,
                             [T.TupleType(tuple(x.type for x in vals))]).output
        if opcls is ast.Add and {type(ta), type(tb)} == {T.TupleType, T.ListType}:
            # `(x.shape[0],) + [1] * k`: TorchScript's aten::add.t converts the tuple to a
            # list when its elements are of the list's element type
            lt = ta if isinstance(ta, T.ListType) else tb
            tup, tt = (a, ta) if isinstance(ta, T.TupleType) else (b, tb)
            if all(e.is_subtype_of(lt.elem) for e in tt.elems):
                vals = self.emit("prim::TupleUnpack", [tup], list(tt.elems)).outputs \
                    if tt.elems else []
                as_list = self.emit("prim::ListConstruct", vals, [lt]).output
                a, b = (as_list, b) if tup is a else (a, as_list)
                ta, tb = a.type, b.type
        if isinstance(ta, T.ListType) and opcls is ast.Add:
            if not isinstance(tb, T.ListType) or _unify(ta, tb) != ta:
                self.error(f"no variant of 'add' accepts ({short_type(ta)}, "
                           f"{short_type(tb)}): a list adds a list of the same type", node,
                           hint="both lists must hold the same type")
            return self.emit("aten::add", [a, b], [ta]).output
        if opcls is ast.Mult and (isinstance(ta, T.TupleType) or isinstance(tb, T.TupleType)) \
                and not (isinstance(ta, T.ListType) or isinstance(tb, T.ListType)):
            # (3,) * 2: TorchScript converts the tuple to a list and repeats that ([3, 3])
            if isinstance(ta, T.TupleType):
                a = self.tuple_as_list(a, "repeating with `*`")
            else:
                b = self.tuple_as_list(b, "repeating with `*`")
            ta, tb = a.type, b.type
        if opcls is ast.Mult and (isinstance(ta, T.ListType) or isinstance(tb, T.ListType)):
            lst, n = (a, b) if isinstance(ta, T.ListType) else (b, a)
            if isinstance(n.type, T.BoolType):
                n = self.scalar("Int", n, node=node)          # [x] * flag: Int(flag)
            if not isinstance(n.type, T.IntType):
                self.error(f"a list can be multiplied by an int only, not "
                           f"{describe_type(n.type)}", node)
            return self.emit("aten::mul", [lst, n], [lst.type]).output
        if isinstance(ta, T.SetType) or isinstance(tb, T.SetType):
            kind = _SET_OPS.get(opcls)
            if kind is None:
                self.error("sets combine with | & - ^, not with this operator", node,
                           hint="use s | t for a union")
            if ta != tb:
                self.error(f"unsupported operands for a set operator: {describe_type(ta)} "
                           f"and {describe_type(tb)}", node,
                           hint="sets combine with | & - ^ with a set of the same type")
            return self.emit(f"aten::{kind}", [a, b], [ta]).output
        return None

    # ------------------------------------------------------------------ archive spelling
    def container_kind_call(self, name, args, node):
        """`torch.<kind>(...)` of a container op on containers, as `.code` prints the
        container nodes it has no Python spelling for (`torch.sorted(xs, False)`,
        `torch.extend(s, [x])`, `torch.format("{}", n)`): the node again, so saved code
        loads back. None when aten::<name> is no container op or a registry op takes
        the arguments (`torch.add(x, 1)` stays a Tensor add)."""
        from ...runtime.interpreter import CONTAINER_OPS
        if name in ("any", "all") and len(args) == 1 and isinstance(args[0].type,
                                                                     T.ListType):
            # `torch.all(xs)`: TorchScript's aten::all.bool / all.int ... of `all(xs)`
            return self.any_all(args, name == "any", {}, node)
        kind = f"aten::{name}"
        if kind not in CONTAINER_OPS or not args or isinstance(args[0].type, T.TensorType) \
                or (any(isinstance(a.type, T.TensorType) for a in args) and not isinstance(
                    args[0].type, (T.ListType, T.DictType, T.SetType)) and name != "format"):
            return None      # (a Tensor list's torch.remove(xs, t) is a container op)
        if any(calls.match_schema(op, args, {}).__class__ is calls.Match
               for op in _reg.OVERLOADS.get(kind, [])):
            return None
        trailing = CONTAINER_OP_DEFAULTS.get(kind)
        if trailing is not None and len(args) <= len(trailing):
            # `torch.slice(s, 1)` as .code prints it: the defaults filled in
            args = list(args) + [self.const(d) for d in trailing[len(args) - 1:]]
        t = _container_result(name, [a.type for a in args])
        if t is None or not _takes(CONTAINER_OPS[kind][0], len(args)):
            return None      # (`torch.add(xs)`: the caller's "no variant" error)
        op = None if name != "len" or not isinstance(args[0].type, T.ListType) else \
            _reg.OPS["aten::len.t"]
        out = self.emit(kind, args, [t], op=op).output
        if kind == "aten::add_":      # (a new list for DCE, as the frontend's `xs += ys`)
            from ...passes.alias_analysis import TORCH_FRESH_RESULT
            out.node.meta[TORCH_FRESH_RESULT] = True
        return out

    # ------------------------------------------------------------------ item assignment, del
    def set_item(self, target, v, node):
        """`xs[i] = v` / `d[k] = v` (aten::_set_item); False when the target is not a list
        or dict (the caller reports it)."""
        c = self.expr(target.value)
        t = c.type
        target = self.with_desugared_slice(target)
        if isinstance(t, T.ListType):
            if isinstance(target.slice, ast.Slice):
                self.error("Sliced expression not yet supported for subscripted assignment. "
                           "File a bug if you want this: assigning to a list slice is not "
                           "supported", target,
                           hint="assign the elements one by one")
            i = self.bool_as_index(self.expr(target.slice))
            if not isinstance(i.type, T.IntType):
                self.error(f"list indices must be ints, got {describe_type(i.type)}",
                           target.slice)
            elem = t.elem
        elif isinstance(t, T.DictType):
            i = self.check_key(c, self.expr(target.slice), target.slice)
            elem = t.value
        elif isinstance(t, T.TensorType):        # x[i] = v, x[mask] = 0: in place
            self.tensor_setitem(c, target.slice, v, node)
            return True
        elif self.has_dunder(c, "__setitem__"):   # obj[i] = v: obj.__setitem__(i, v)
            self.dunder_call(c, "__setitem__", [self.expr(target.slice), v], target)
            return True
        else:
            return False
        v = self.number_as(v, elem)         # (d["a"] = x.item(): as append_to)
        if not elem_fits(v.type, elem):
            self.error(f"cannot store {describe_type(v.type)} in a container of "
                       f"{describe_type(elem)}", node)
        # (a list's aten::_set_item.t returns the list, a dict's `-> ()`)
        self.emit("aten::_set_item", [c, i, v], [t] if isinstance(t, T.ListType) else [])
        return True

    def stmt_Delete(self, s):
        """`del xs[i]` / `del d[k]`: aten::Delete, as TorchScript's; `del name`: the
        name is undefined after it (on this path: an `if` that deletes it on one branch
        leaves it undefined after the if)."""
        for target in s.targets:
            if isinstance(target, ast.Name):
                var = self.lookup_var(target.id)
                if isinstance(var, OneBranch):
                    self.lookup(target.id, target)      # says why it is not defined
                if not isinstance(var, Var):
                    self.error(f"undefined value '{target.id}': `del` deletes a local "
                               f"variable, and '{target.id}' is not assigned before it",
                               target)
                self.scopes[-1][target.id] = OneBranch(s, "del")
                continue
            if not isinstance(target, ast.Subscript):
                self.error("`del` is supported on names and on list and dict items only "
                           "(del x, del xs[i], del d[k])", target,
                           hint="reassign the variable instead")
            c = self.expr(target.value)
            target = self.with_desugared_slice(target)
            if isinstance(c.type, T.ListType) and not isinstance(target.slice, ast.Slice):
                i = self.bool_as_index(self.expr(target.slice))
                if not isinstance(i.type, T.IntType):
                    self.error(f"list indices must be ints, got {describe_type(i.type)}",
                               target.slice)
                with self.at(target):       # (torch's range: the item, `d[7]`)
                    self.emit("aten::Delete", [c, i], [c.type])
            elif isinstance(c.type, T.DictType):
                k = self.check_key(c, self.expr(target.slice), target.slice)
                with self.at(target):
                    self.emit("aten::Delete", [c, k], [c.type])
            elif isinstance(c.type, T.ListType):
                self.error("del statements only support deletion at a single index, slicing "
                           "is not supported", target,
                           hint="delete the items one by one: del xs[i]")
            elif self.has_dunder(c, "__delitem__"):     # del obj[k]: obj.__delitem__(k)
                self.dunder_call(c, "__delitem__", [self.expr(target.slice)], target)
            else:
                self.error(f"cannot delete an item of {describe_type(c.type)}: Class does "
                           f"not define __delitem__" if isinstance(c.type, T.ClassType)
                           else f"cannot delete an item of {describe_type(c.type)}", target,
                           hint="del works on list items and dict keys")


_SAME_AS_FIRST = {"append", "extend", "insert", "clear", "remove", "_set_item", "copy",
                  "Delete", "reverse", "sort",
                  "update", "sorted", "reversed", "slice", "add", "sub", "__or__",
                  "__and__", "__xor__"}
_FIXED = {"__contains__": T.BOOL, "len": T.INT, "count": T.INT, "index": T.INT,
          "eq": T.BOOL, "ne": T.BOOL, "lt": T.BOOL, "le": T.BOOL, "gt": T.BOOL,
          "ge": T.BOOL,
          "format": T.STR,
          "percentFormat": T.STR,
          "str": T.STR}


def _takes(fn, n):
    """Whether container function fn takes n positional arguments (True where Python
    cannot tell: builtins without a signature)."""
    try:
        inspect.signature(fn).bind(*range(n))
    except TypeError:
        return False
    except ValueError:
        return True
    return True


def _container_result(name, types):
    """The result type of container op aten::<name> on inputs of these types (None: the
    op does not apply)."""
    t0 = types[0]
    if name in _FIXED:
        return _FIXED[name]
    if name == "mul":
        return t0 if isinstance(t0, (T.ListType, T.StrType)) else \
            types[1] if len(types) > 1 and isinstance(types[1], T.ListType) else None
    if name in _SAME_AS_FIRST:
        return t0 if isinstance(t0, (T.ListType, T.DictType, T.SetType, T.StrType)) else None
    if name in ("__getitem__", "pop"):
        return t0.elem if isinstance(t0, T.ListType) else t0.value \
            if isinstance(t0, T.DictType) else T.STR if isinstance(t0, T.StrType) else \
            t0.elem if name == "pop" and isinstance(t0, T.SetType) else None
    if name == "get" and isinstance(t0, T.DictType):
        return t0.value if len(types) == 3 else T.OptionalType(t0.value)
    if name == "setdefault" and isinstance(t0, T.DictType) and len(types) == 3:
        return t0.value
    if name == "popitem" and isinstance(t0, T.DictType):
        return T.TupleType((t0.key, t0.value))
    if name in ("keys", "values", "items") and isinstance(t0, T.DictType):
        return T.ListType({"keys": t0.key, "values": t0.value,
                           "items": T.TupleType((t0.key, t0.value))}[name])
    if name in ("add_", "mul_") and isinstance(t0, T.ListType) and len(types) == 2 and \
            isinstance(types[1], T.ListType if name == "add_" else T.IntType):
        return t0                   # (`xs0 = torch.add_(xs, ys)`: a list's += / *=)
    if name == "dict" and isinstance(t0, T.DictType) and len(types) == 1:
        return t0                   # (torch.dict(d): TorchScript's aten::dict.Dict_str)
    if name == "list" and isinstance(t0, (T.ListType, T.SetType)):
        return T.ListType(t0.elem)
    if name == "list" and isinstance(t0, T.StrType):
        return T.ListType(T.STR)
    if name == "enumerate" and isinstance(t0, T.ListType):
        return T.ListType(T.TupleType((T.INT, t0.elem)))
    if name == "zip" and all(isinstance(t, T.ListType) for t in types):
        return T.ListType(T.TupleType(tuple(t.elem for t in types)))
    if name == "set" and isinstance(t0, T.ListType):
        return T.SetType(t0.elem)
    if name in ("min", "max") and isinstance(t0, T.ListType):
        return t0 if len(types) == 2 and types[1] == t0 else t0.elem
    if name == "sum" and isinstance(t0, T.ListType):
        return T.FLOAT if isinstance(t0.elem, T.FloatType) else T.INT
    return None


def _contains_not_valid(t) -> str:
    """torch 2.13's words for `x in c` of a list c that no aten::__contains__ overload
    takes (a List[bool])."""
    a = t.annotation()
    out = ["Arguments for call are not valid.", "The following variants are available:"]
    for name, sig, why in (
            ("int_list", "int[] l, int item", "List[int]"),
            ("str_list", "str[] l, str item", "List[str]"),
            ("str", "Dict(str, t) dict, str key", "Dict[str, t]"),
            ("int", "Dict(int, t) dict, int key", "Dict[int, t]"),
            ("bool", "Dict(bool, t) dict, bool key", "Dict[bool, t]"),
            ("float", "Dict(float, t) dict, float key", "Dict[float, t]"),
            ("complex", "Dict(complex, t) dict, complex key", "Dict[complex, t]"),
            ("Tensor", "Dict(Tensor, t) dict, Tensor key", "Dict[Tensor, t]"),
            ("float_list", "float[] l, float item", "List[float]")):
        out += ["  ", f"  aten::__contains__.{name}({sig}) -> bool:"]
        if why.startswith("List"):
            out.append(f"  Expected a value of type '{why}' for argument 'l' but instead "
                       f"found type '{a}'.")
        else:
            out.append(f"  Could not match type {a} to {why} in argument 'dict': Cannot "
                       f"match a dict to {a}.")
    out += ["  ", "  __contains__(str self, str key) -> bool:",
            f"  Expected a value of type 'str' for argument 'self' but instead found type "
            f"'{a}'.", ""]
    return "\n".join(out)
