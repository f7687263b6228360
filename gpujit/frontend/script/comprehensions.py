"""List, dict and set comprehensions in scripted code (beyond TorchScript, which has only
single-`for` list comprehensions): `[e for x in xs if c]`, `{k: v for k, v in d.items()}`,
`{x % 3 for x in xs}`, with any number of `for` and `if` clauses; a generator expression
`(e for x in xs)` is a list comprehension, as in TorchScript.

Each becomes a fresh list or dict and nested prim::Loops (one per `for`: over range(...)
with any int step, a Tensor's rows, or a list: a dict's keys, a set, a str,
enumerate(...), zip(...)) that add to it under prim::Ifs (one per `if`); a set
comprehension is then set() of its list. The element type is known only once the
element expression is compiled, so the container's type is set after."""
from __future__ import annotations

import ast

from ...ir import types as T
from .calls import describe_type
from .containers import general, elem_fits, _HASHABLE
from .torch_names import meaningful

__all__ = ["ComprehensionMixin"]


class ComprehensionMixin:
    """ExprCompiler's comprehensions (self is the compiler)."""

    def expr_ListComp(self, node, expected=None):
        return self.comprehension(node, "list", expected)

    def expr_GeneratorExp(self, node, expected=None):
        """`(e for x in xs)`: a list comprehension, as TorchScript's frontend builds it
        (`sum(x * x for x in xs)` sums the list; returned, it is a list)."""
        return self.comprehension(node, "list", expected)

    def expr_SetComp(self, node):
        return self.comprehension(node, "set")

    def expr_DictComp(self, node, expected=None):
        return self.comprehension(node, "dict", expected)

    def comprehension(self, node, kind, expected=None):
        """A list / set / dict comprehension; an annotation (`x: List[Optional[int]] =
        [None for _ in ...]`) types it when its elements fit the annotation's."""
        # a set comprehension is set() of the list comprehension
        made = self.emit("prim::DictConstruct", [], [T.DictType(T.NONE, T.NONE)]) \
            if kind == "dict" else self.emit("prim::ListConstruct", [], [T.ListType(T.NONE)])
        box = made.output
        adds = []          # (node, [element values])

        def add():
            if kind == "dict":
                k, v = self.expr(node.key), self.expr(node.value)
                adds.append((self.emit("aten::_set_item", [box, k, v], []), [k, v]))
            else:
                v = self.expr(node.elt)
                adds.append((self.emit("aten::append", [box, v], [box.type]), [v]))

        def level(k):
            if k == len(node.generators):
                add()
                return
            gen = node.generators[k]
            if gen.is_async:
                self.error("async comprehensions are not supported", node,
                           hint="write a plain comprehension")

            def body(elem):
                self.assign_target(gen.target, elem, gen)
                self.comprehension_ifs(gen.ifs, lambda: level(k + 1))
            self.comprehension_loop(gen, body)
        with self.scope():
            level(0)
        parts = [self.comprehension_type([vs[i] for _, vs in adds], node, kind, i)
                 for i in range(len(adds[0][1]))]
        if isinstance(expected, T.OptionalType):
            expected = expected.elem
        want = [expected.elem] if kind == "list" and isinstance(expected, T.ListType) else \
            [expected.key, expected.value] if kind == "dict" and isinstance(
                expected, T.DictType) else None
        if want is not None and all(map(elem_fits, parts, want)):
            parts = want
        t = T.DictType(parts[0], parts[1]) if kind == "dict" else T.ListType(parts[0])
        box.type = t
        for n, _ in adds:
            for o in n.outputs:         # (a list's aten::append; a dict's _set_item: none)
                o.type = t
        if kind == "dict":
            return box
        if kind == "set":
            return self.emit("aten::set", [box], [T.SetType(parts[0])]).output
        return box          # (TorchScript's: the list the loop appended to)

    def comprehension_type(self, vals, node, kind, part):
        what = {"list": "a list", "set": "a set"}.get(kind, ("a dict's keys",
                                                              "a dict's values")[part])
        where = node.elt if kind != "dict" else (node.key, node.value)[part]
        t = None
        for v in vals:
            u = v.type if t is None else self.unify(t, v.type)
            if u is None:
                self.error(f"{what} holds one type; this comprehension makes "
                           f"{describe_type(t)} and {describe_type(v.type)}", where)
            t = u
        t = general(t)
        if (kind == "set" or (kind == "dict" and part == 0)) and not isinstance(
                t, _HASHABLE + ((T.TensorType,) if kind == "dict" else ())):
            self.error(f"{what} cannot hold {describe_type(t)}", where,
                       hint="use ints, floats, bools or strs")
        return t

    def comprehension_loop(self, gen, body):
        """One `for` of a comprehension: over range(...) (a counted loop), or a list (a
        dict's keys, a set, a str: as_list; enumerate() and zip() make lists)."""
        it = gen.iter
        builtin = it.func.id if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) \
            and self.is_builtin(it.func.id) else None
        if builtin == "range":
            self.range_loop(it, body, gen.target.id if isinstance(gen.target, ast.Name)
                            else None)
            return
        tree = self.iterable_tree(it, None)     # enumerate() / zip(): iterables.py
        if tree is not None:
            n = self.static_length(tree, it)
            if n is None:
                self.index_loop(self.tree_length(tree, None),
                                lambda i: self.tree_item(tree, i, None), body,
                                self.index_target(gen.target, tree))
                return
            for k in range(n):
                with self.scope():
                    body(self.tree_static_item(tree, k))
            return
        v = self.expr(it)
        if isinstance(v.type, T.StrType):        # [f(c) for c in s]: s[i], as TorchScript
            self.index_loop(self.len_of(v), lambda i: self.emit(
                "aten::__getitem__", [v, i], [T.STR]).output, body)
            return
        if isinstance(v.type, T.TupleType) and v.type.elems:
            # [f(x) for x in t]: unrolled over the elements (read first), as TorchScript
            for x in self.iterable_leaf(v, it).elems:
                with self.scope():
                    body(x)
            return
        if isinstance(v.type, T.TensorType):     # [f(row) for row in x]: x's dim 0
            self.index_loop(self.scalar("len", v, node=it), lambda i: self.call_op(
                "select", [v, self.const(0), i], {}, it), body)
            return
        if isinstance(v.type, T.ClassType) and not isinstance(v.type, T.InterfaceType):
            # [l.out_features for l in self.layers]: a module container, unrolled as a
            # for loop over it is (TorchScript compiles this)
            with self.at(it):
                vals = [make() for make in self.class_elements(v, it)]
            for x in vals:
                with self.scope():
                    body(x)
            return
        with self.at(it):
            lst = self.as_list(v, "a comprehension over")
        if lst is None:
            self.error(f"a comprehension iterates over a list, tuple, dict, set, str, Tensor "
                       f"or range(...); got {describe_type(v.type)}", it,
                       hint="write a for loop instead")
        self.for_each(lst, body, gen)

    def range_loop(self, it, body, name=None):
        """range(n), range(a, b) or range(a, b, step), counted (range(n)'s counter is the
        target `name`, as TorchScript's `for i in range(3):` in its .code)."""
        args = self.range_args(it)
        step = self.const_int(it.args[2]) if len(args) == 3 else 1
        if not step:
            # a step known only when the loop runs (or a zero one, which raises then)
            trip, elem = self.range_by_step(args[0], args[1], args[2])
            self.index_loop(trip, elem, body)
            return
        if len(args) == 1:  # range(n): n iterations (none when n <= 0), counted by i
            self.index_loop(args[0], lambda i: i, body, name)
            return
        # TorchScript's aten::__range_length / aten::__derive_index, as a for loop's
        # (loops.for_range): b - a may wrap around int64, for a step of 1 too
        start, stop = args[0], args[1]
        trip = self.scalar("__range_length", start, stop, self.const(step))
        self.index_loop(trip, lambda i: self.scalar("__derive_index", i, start,
                                                    self.const(step)), body)

    def index_loop(self, trip, element, body, name=None):
        """A prim::Loop of `trip` iterations, body(element(i)) compiled in its block (the
        counter unnamed but for range(n)'s, as TorchScript's: `for _1 in ...`)."""
        loop = self.emit("prim::Loop", [trip, self.const(True)], [])
        block = loop.add_block()
        i = block.add_input(T.INT, name if meaningful(name) else None)
        with self.in_block(block), self.scope():
            body(element(i))
            block.register_output(self.const(True))

    def comprehension_ifs(self, ifs, inner):
        if not ifs:
            inner()
            return
        cond = self.condition(ifs[0])
        branch = self.emit("prim::If", [cond], [])
        with self.in_block(branch.add_block()), self.scope():
            # `[x for x in xs if x is not None]`: the filter narrows x for the later
            # ifs and the element, as an if statement's test narrows its body
            self.refine(self.refinements(ifs[0])[0])
            self.comprehension_ifs(ifs[1:], inner)
        branch.add_block()

    def assign_target(self, target, v, where):
        """Bind a comprehension's target (a name or a tuple of names)."""
        if not isinstance(target, (ast.Name, ast.Tuple)):
            self.error("a comprehension target must be a name or a tuple of names", target,
                       hint="for x in xs, or for k, v in d.items()")
        if isinstance(v, tuple):    # (key, module) of an unrolled module container
            self.bind_unrolled_target(target, v, where)
            return
        self.assign(target, v, where)
