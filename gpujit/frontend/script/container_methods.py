"""The methods of lists, dicts and sets in scripted code (`xs.pop()`, `d.setdefault(k, v)`,
`s.add(x)`, ...), as container ops (interpreter.CONTAINER_OPS) and prim::If / prim::Loop.

Mutators lower onto the IR's side-effect kinds (see containers.py): `s.add(x)` is
aten::extend of the set with [x], `xs.sort()` / `xs.reverse()` TorchScript's in-place
aten::sort / aten::reverse, `d.setdefault(k, v)` and `s.discard(x)` an `if`. A mutator changes
the container in place: the receiver variable keeps naming the same object (an if or loop
that mutates it carries no value, as TorchScript's); only `xs += ys` rebinds it."""
from __future__ import annotations

import ast

from ...ir import types as T
from .calls import describe_type, is_empty_list_literal
from .containers import elem_fits, _SORTABLE
from .variables import unify

__all__ = ["ContainerMethodsMixin"]

_LIST_METHODS = ("append, extend, insert, pop, remove, clear, sort, reverse, copy, count, "
                 "index")
# element types of list.count / index / remove's concrete overloads (an empty `[]` takes one)
_CONCRETE_ELEMS = (T.IntType, T.FloatType, T.BoolType, T.StrType, T.TensorType)
_DICT_METHODS = "keys, values, items, get, setdefault, update, pop, popitem, clear, copy"
_SET_METHODS = ("add, remove, discard, update, pop, clear, copy, union, intersection, "
                "difference, symmetric_difference, issubset, issuperset, isdisjoint")
# s.issubset(t) is s <= t, s.issuperset(t) s >= t (Python's set comparisons)
_SET_TESTS = {"issubset": "le", "issuperset": "ge"}
_SET_ALGEBRA = {"union": ast.BitOr, "intersection": ast.BitAnd, "difference": ast.Sub,
                "symmetric_difference": ast.BitXor}


class ContainerMethodsMixin:
    """ExprCompiler's container method calls (self is the compiler)."""

    def method_args(self, kind, name, node, keywords=(), expected=()):
        """The arguments; expected[i] types the i-th one's literal (d.setdefault(k, [])
        makes the dict's value type, xs.append([]) the list's element type)."""
        bad = [k.arg for k in node.keywords if k.arg not in keywords]
        if bad and bad[0] == "key" and name == "sort":
            self.error(f"{kind}.sort() takes no key= function in scripted code", node,
                       hint="sort tuples led by the key instead, e.g. "
                            "xs = [(f(x), x) for x in xs]; xs.sort()")
        if bad:
            self.error(f"{kind}.{name}() takes no keyword argument '{bad[0]}'", node,
                       hint="pass the arguments by position")
        hints = list(expected) + [None] * len(node.args)
        return [self.expr(a, expected=h) for a, h in zip(node.args, hints)], \
            {k.arg: self.expr(k.value) for k in node.keywords}

    def arity(self, kind, name, args, counts, node, usage):
        if len(args) not in counts:
            self.error(f"'{name}' of a {kind} does not take {len(args)} argument"
                       f"{'' if len(args) == 1 else 's'}", node, hint=f"write {usage}")

    def mutate(self, kind, inputs, node, result=False):
        """A mutator node changing its container in place (the receiver variable keeps
        naming it; `.code` writes the mutator once, as a statement). As TorchScript's
        schemas (aten::extend / insert / remove / clear / reverse / sort / update: `-> ()`)
        the node has no output; result=True gives it one, the container."""
        n = self.emit(kind, inputs, [inputs[0].type] if result else [])
        return n.output if result else None

    def put_back(self, lst, fresh, node):
        """Replace the contents of `lst` by those of the new list `fresh`, in place."""
        self.mutate("aten::clear", [lst], node)
        self.mutate("aten::extend", [lst, fresh], node)

    def void_value(self):
        """The value of a call of a list or dict method whose TorchScript schema returns
        nothing (`-> ()`: sort, reverse, extend, insert, remove, clear, dict.update): an
        empty tuple, as torch 2.13 gives (`return xs.sort()` returns `()`; a statement
        drops it, compiler.stmt_Expr)."""
        return self.emit("prim::TupleConstruct", [], [T.TupleType(())]).output

    # ------------------------------------------------------------------ lists
    def list_method_call(self, lst, name, node):
        keywords = ("reverse",) if name == "sort" else ()
        elem = lst.type.elem
        expected = {"append": (elem,), "insert": (None, elem),
                    "extend": (lst.type,)}.get(name, ())
        args, kw = self.method_args("list", name, node, keywords, expected)
        if name == "append":
            self.arity("list", name, args, (1,), node, "xs.append(x)")
            return self.append_to(lst, args[0], node)          # (aten::append.t returns its list: `y = xs.append(1)`)
        if name == "extend":
            self.arity("list", name, args, (1,), node, "xs.extend(ys)")
            other = args[0]
            if not isinstance(other.type, T.ListType) or not elem_fits(other.type.elem, elem):
                self.error(f"list.extend() takes a List[{elem.annotation()}], got "
                           f"{describe_type(other.type)}", node.args[0])
            self.mutate("aten::extend", [lst, other], node)
            return self.void_value()
        if name == "insert":
            self.arity("list", name, args, (2,), node, "xs.insert(i, x)")
            i, x = args
            i = self.bool_as_index(i) if isinstance(i.type, T.TensorType) else i
            x = self.number_as(x, elem)     # (xs.insert(0, x.item()): as append_to)
            if not isinstance(i.type, T.IntType) or not elem_fits(x.type, elem):
                self.error(f"list.insert() takes an int index and {describe_type(elem)}, "
                           f"got {describe_type(i.type)} and {describe_type(x.type)}", node)
            self.mutate("aten::insert", [lst, i, x], node)
            return self.void_value()
        if name == "pop":
            self.arity("list", name, args, (0, 1), node, "xs.pop() or xs.pop(i)")
            i = args[0] if args else self.const(-1)
            i = self.bool_as_index(i) if isinstance(i.type, T.TensorType) else i
            if not isinstance(i.type, T.IntType):
                self.error(f"list.pop() takes an int index, got {describe_type(i.type)}",
                           node)
            return self.emit("aten::pop", [lst, i], [elem]).output
        if name in ("remove", "count", "index"):
            self.arity("list", name, args, (1,), node, f"xs.{name}(x)")
            if is_empty_list_literal(lst) and isinstance(args[0].type, _CONCRETE_ELEMS) \
                    and lst.type.elem != args[0].type:
                # `[].count(x)`: the literal takes x's list type, as TorchScript's
                # prim::EmptyListLiteral matches count.int / .float / .bool / .str / .Tensor
                lst = self.empty_list_for_param(lst, T.ListType(args[0].type))
                elem = lst.type.elem
            x = self.tensor_as_elem(args[0], elem)      # (concrete overloads: count.int)
            if not elem_fits(x.type, elem) and not (
                    isinstance(x.type, T.IntType) and isinstance(elem, T.FloatType)):
                self.error(f"list.{name}() of a list of {describe_type(elem)} got "
                           f"{describe_type(x.type)}", node)
            if name == "index":     # (a ValueError that is also a RuntimeError)
                return self.emit("aten::index", [lst, x], [T.INT]).output
            if name == "count":
                return self.emit("aten::count", [lst, x], [T.INT]).output
            self.mutate("aten::remove", [lst, x], node)
            return self.void_value()
        if name in ("clear", "copy", "reverse", "sort"):
            self.arity("list", name, args, (0,), node, f"xs.{name}()")
            if name == "clear":
                self.mutate("aten::clear", [lst], node)
            elif name == "copy":
                return self.emit("aten::copy", [lst], [lst.type]).output
            elif name == "reverse":
                self.mutate("aten::reverse", [lst], node)
            else:
                self.sorted_list(lst, kw.get("reverse"), node, kind="aten::sort")
            return self.void_value()
        self.error(f"'{lst.type.annotation()}' object has no attribute or method "
                   f"'{name}'.: a list has no method '{name}' in scripted code", node,
                   hint=f"supported: {_LIST_METHODS}, len(xs), xs[i], xs[a:b]")

    def sorted_list(self, seq, reverse, node, kind="aten::sorted"):
        """sorted(seq, reverse=...) as a new list (ints, floats, bools, strs, or tuples
        led by one; Tensors, ordered by bool(x < y) as TorchScript's aten::sort.Tensor);
        kind aten::sort: xs.sort(reverse=...), the list sorted in place."""
        lst = self.as_list(seq, "sorted() of")
        if lst is not None and self.orders_objects(lst.type.elem, node):
            pass
        elif lst is None or not (_sortable(lst.type.elem) or
                                 isinstance(lst.type.elem, T.TensorType)):
            self.error(f"sorting needs a list of ints, floats, bools, strs or Tensors, got "
                       f"{describe_type(seq.type)}", node)
        if reverse is None and kind == "aten::sorted":
            # (TorchScript's aten::sorted takes the list only: `sorted(xs)` in .code)
            return self.emit(kind, [lst], [lst.type]).output
        if reverse is None:
            reverse = self.const(False)
            reverse.node.source_range = None    # (a schema default: no range, as torch's)
        if not isinstance(reverse.type, T.BoolType):
            self.error(f"reverse= must be a bool, got {describe_type(reverse.type)}", node)
        if kind == "aten::sort":     # (in place: `-> ()`)
            return self.mutate(kind, [lst, reverse], node)
        return self.emit(kind, [lst, reverse], [lst.type]).output

    def orders_objects(self, elem, node):
        """Is elem a script class that sorting can order: its `__lt__(self, other: Cls)
        -> bool` (compiled here; the sort then calls it, as Python does)? A class without
        one is an error."""
        from .classes import script_class_of
        sc = script_class_of(elem)
        if sc is None:
            return False
        g = sc.method_graph("__lt__", self, node) if sc.python_method("__lt__") else None
        if g is None or len(g.inputs) != 2 or g.inputs[1].type != elem or \
                len(g.outputs) != 1 or not isinstance(g.outputs[0].type, T.BoolType):
            self.error(f"sorting a list of {sc.name}: class {sc.name} must define a __lt__ "
                       f"method taking another {sc.name} and returning a bool", node,
                       hint=f"def __lt__(self, other: '{sc.name}') -> bool")
        return True

    # ------------------------------------------------------------------ dicts
    def dict_method_call(self, d, name, node):
        kt, vt = d.type.key, d.type.value
        args, _ = self.method_args("dict", name, node, expected=(
            (None, vt) if name in ("get", "pop", "setdefault") else ()))
        if name in ("keys", "values", "items"):
            self.arity("dict", name, args, (0,), node, f"d.{name}()")
            t = {"keys": kt, "values": vt, "items": T.TupleType((kt, vt))}[name]
            return self.emit(f"aten::{name}", [d], [T.ListType(t)]).output
        if name in ("get", "pop"):
            self.arity("dict", name, args, (1, 2) if name == "get" else (1, 2), node,
                       f"d.{name}(k) or d.{name}(k, default)")
            args[0] = self.check_key(d, args[0], node)
            if name == "pop" and len(args) == 1:
                return self.emit("aten::pop", [d, args[0]], [vt]).output
            if name == "get":
                # TorchScript's aten::get(d, k) -> Optional[t] / aten::get(d, k, default)
                # -> t, the default of the values' type t (torch 2.13 refuses an int
                # default of a Dict[str, float] and a None one: "Arguments for call are
                # not valid")
                if len(args) == 2 and not elem_fits(args[1].type, vt):
                    self.error(f"Arguments for call are not valid: no variant of 'get' "
                               f"accepts ({d.type.annotation()}, {args[0].type.annotation()}"
                               f", {args[1].type.annotation()}): the default of get() must "
                               f"be {describe_type(vt)}, as the dict's values", node)
                return self.emit("aten::get", [d, *args],
                                 [vt if len(args) == 2 else T.OptionalType(vt)]).output
            default = args[1] if len(args) == 2 else self.const(None)
            t = self.unify(vt, default.type) if len(args) == 2 else T.OptionalType(vt)
            if t is None:
                self.error(f"the default of {name}() is {describe_type(default.type)} but "
                           f"the values are {describe_type(vt)}", node.args[1])
            if name == "pop":       # TorchScript's aten::pop.Dict_default(d, k, default)
                return self.emit("aten::pop", [d, args[0], default], [t]).output
            has = self.emit("aten::__contains__", [d, args[0]], [T.BOOL]).output
            branch = self.emit("prim::If", [has], [])
            kind = "aten::__getitem__" if name == "get" else "aten::pop"
            with self.in_block(branch.add_block()):
                branch.blocks[0].register_output(
                    self.emit(kind, [d, args[0]], [vt]).output)
            with self.in_block(branch.add_block()):
                branch.blocks[1].register_output(default)
            return branch.add_output(t)
        if name == "setdefault":
            self.arity("dict", name, args, (2,), node, "d.setdefault(k, v)")
            k, v = args
            k = self.check_key(d, k, node)
            if not elem_fits(v.type, vt):
                self.error(f"cannot store {describe_type(v.type)} in a dict of "
                           f"{describe_type(vt)}", node)
            # TorchScript's aten::setdefault(Dict(t) self, k, t default) -> t (gpujit wrote
            # `if k not in d: d[k] = v` then d[k])
            return self.emit("aten::setdefault", [d, k, self.number_as(v, vt)], [vt]).output
        if name == "update":
            self.arity("dict", name, args, (1,), node, "d.update(other)")
            other = args[0]
            if not isinstance(other.type, T.DictType) or not elem_fits(
                    other.type.key, kt) or not elem_fits(other.type.value, vt):
                self.error(f"dict.update() takes a dict of the same types, got "
                           f"{describe_type(other.type)}", node)
            self.mutate("aten::update", [d, other], node)     # (TorchScript's node)
            return self.void_value()
        if name == "popitem":            # the first item inserted, removed (TorchScript)
            self.arity("dict", name, args, (0,), node, "d.popitem()")
            return self.emit("aten::popitem", [d],
                             [T.TupleType((kt, vt))]).output
        if name in ("clear", "copy"):
            self.arity("dict", name, args, (0,), node, f"d.{name}()")
            if name == "copy":
                return self.emit("aten::copy", [d], [d.type]).output
            self.mutate("aten::clear", [d], node)
            return self.void_value()
        self.error(f"'{d.type.annotation()}' object has no attribute or method "
                   f"'{name}'.: a dict has no method '{name}' in scripted code", node,
                   hint=f"supported: {_DICT_METHODS}, d[k], d[k] = v, del d[k], k in d")

    def unify(self, a, b):
        return unify(a, b)

    # ------------------------------------------------------------------ sets
    def set_method_call(self, s, name, node):
        args, _ = self.method_args("set", name, node)
        elem = s.type.elem
        if name in ("add", "remove", "discard"):
            self.arity("set", name, args, (1,), node, f"s.{name}(x)")
            x = args[0]
            if not elem_fits(x.type, elem):
                self.error(f"set.{name}() of a set of {describe_type(elem)} got "
                           f"{describe_type(x.type)}", node)
            if name == "add":        # s.update([x]): `.code` spells it for sets too
                one = self.emit("prim::ListConstruct", [x], [T.ListType(elem)]).output
                self.mutate("aten::extend", [s, one], node)
            elif name == "remove":
                self.mutate("aten::remove", [s, x], node)
            else:
                has = self.emit("aten::__contains__", [s, x], [T.BOOL]).output
                branch = self.emit("prim::If", [has], [])
                with self.in_block(branch.add_block()):
                    self.emit("aten::remove", [s, x], [s.type])
                branch.add_block()
            return self.const(None)
        if name in _SET_ALGEBRA or name == "update":
            self.arity("set", name, args, (1,), node, f"s.{name}(other)")
            other = args[0]
            if isinstance(other.type, T.ListType):
                other = self.new_set(other, node)
            if name == "update":
                if other.type != s.type:
                    self.error(f"set.update() takes a Set[{elem.annotation()}] or "
                               f"List[{elem.annotation()}], got {describe_type(args[0].type)}",
                               node)
                self.mutate("aten::extend", [s, other], node)
                return self.const(None)
            return self.container_binop(_SET_ALGEBRA[name], s, other, node)
        if name in _SET_TESTS or name == "isdisjoint":
            self.arity("set", name, args, (1,), node, f"s.{name}(other)")
            other = args[0]
            if isinstance(other.type, T.ListType):
                other = self.new_set(other, node)
            if name == "isdisjoint":        # no common element: len(s & other) == 0
                common = self.container_binop(ast.BitAnd, s, other, node)
                return self.scalar("eq", self.len_of(common), self.const(0), node=node)
            return self.set_compare(_SET_TESTS[name], s, other, node)
        if name == "pop":           # an element, removed (Python's: an arbitrary one)
            self.arity("set", name, args, (0,), node, "s.pop()")
            return self.emit("aten::pop", [s], [elem]).output
        if name in ("clear", "copy"):
            self.arity("set", name, args, (0,), node, f"s.{name}()")
            if name == "copy":
                return self.emit("aten::copy", [s], [s.type]).output
            self.mutate("aten::clear", [s], node)
            return self.const(None)
        self.error(f"a set has no method '{name}' in scripted code", node,
                   hint=f"supported: {_SET_METHODS}, len(s), x in s, | & - ^, "
                        f"== != < <= > >=")

    def set_compare(self, name, a, b, node):
        """`s == t`, `s <= t` (subset), `s < t` (proper subset), ... of two sets of one
        element type, as Python compares them (beyond TorchScript, which has no sets)."""
        if a.type != b.type:
            self.error(f"cannot compare {describe_type(a.type)} with "
                       f"{describe_type(b.type)}", node,
                       hint="compare sets of the same element type")
        return self.emit(f"aten::{name}", [a, b], [T.BOOL]).output


def _sortable(t) -> bool:
    """Python orders these: numbers, strs, and tuples led by one (`sorted(d.items())`;
    later elements are compared only on ties, as in Python)."""
    if isinstance(t, T.TupleType):
        return bool(t.elems) and _sortable(t.elems[0])
    return isinstance(t, _SORTABLE)
