"""enumerate() and zip() in scripted code, as TorchScript's IterableTree: `for i, (a, b) in
enumerate(zip(xs, ys)):` is one prim::Loop over the index, min(the lengths of its base
iterables) times (prim::min of their aten::len; enumerate's counter is a range up to
2**63 - 1), whose body reads each base iterable's element at the index (xs[i], a Tensor's
row, a str's character; the counter is the index itself, or aten::__derive_index of it
with a start; a negative start counts from it, as Python, where TorchScript's wrapped
range length runs no iteration) — no list of tuples is made. When every base iterable has a length known
when compiling (a tuple, a module container) the loop is unrolled instead, their elements
read before the first copy of the body, as TorchScript's; a mix of the two is refused in
its words. enumerate() / zip() used as a value (`list(zip(a, b))`, `z = zip(a, b)`) is
the list that such a loop appends the tuples to, as TorchScript compiles list(zip(...)).
"""
from __future__ import annotations

import ast

from ...ir import types as T
from ...ops import registry as _reg
from .calls import describe_type

__all__ = ["IterableMixin", "is_iterable_call"]

_INT_MAX = 9223372036854775807
_STATIC_MIX = ("Can not iterate over a module list or tuple with a value that does not have "
               "a statically determinable length")


class _Counter:
    """enumerate()'s counter: range(start, 2**63 - 1) (start None: 0); a range() zipped:
    range(start, end, step) (end a value; start None: range(end); step None: 1)."""
    __slots__ = ("start", "static_start", "call", "end", "step")

    def __init__(self, start, static_start, call, end=None, step=None):
        self.start, self.static_start, self.call = start, static_start, call
        self.end, self.step = end, step


class _Seq:
    """A base iterable read by index: a list, a str, a Tensor (its rows)."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _Static:
    """A base iterable of a length known when compiling: its elements, already read."""
    __slots__ = ("elems", "value")

    def __init__(self, elems, value=None):
        self.elems, self.value = elems, value


class _Zip:
    """zip() (and enumerate(): its counter, then its iterable) of iterables."""
    __slots__ = ("children",)

    def __init__(self, children):
        self.children = children


def _special(c, it):
    """'enumerate' or 'zip' when `it` is a call of that builtin in a form the tree takes
    (enumerate(xs), enumerate(xs, start), enumerate(xs, start=k); zip(a, ...) without
    keywords or starred arguments), else None."""
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and
            it.func.id in ("enumerate", "zip") and c.is_builtin(it.func.id)) or \
            any(isinstance(a, ast.Starred) for a in it.args):
        return None
    if it.func.id == "zip":
        return "zip" if it.args and not it.keywords else None
    if len(it.args) == 2 and not it.keywords:
        return "enumerate"
    if len(it.args) == 1 and (not it.keywords or (
            len(it.keywords) == 1 and it.keywords[0].arg == "start")):
        return "enumerate"
    return None


def is_iterable_call(c, node) -> bool:
    """Is `node` a call of enumerate() / zip() that makes a new list?"""
    return _special(c, node) is not None


def _leaves(tree):
    if isinstance(tree, _Zip):
        for ch in tree.children:
            yield from _leaves(ch)
    else:
        yield tree


class IterableMixin:
    """ExprCompiler's enumerate() / zip() trees (self is the compiler)."""

    def iterable_tree(self, it, where):
        """The tree of `it` when it is an enumerate() / zip() call (nested), else None;
        its base iterables are compiled, each as _Seq, _Static or a tuple made a list."""
        kind = _special(self, it)
        if kind is None:
            return None
        if kind == "zip":
            tree = _Zip([self.iterable_tree(a, where) or self.range_leaf(a) or
                         self.iterable_leaf(self.expr(a), a) for a in it.args])
        else:
            start_node = it.args[1] if len(it.args) == 2 else \
                (it.keywords[0].value if it.keywords else None)
            start = None
            if start_node is not None:
                start = self.expr(start_node)
                if not isinstance(start.type, T.IntType):
                    self.error(f"enumerate() takes an int start, got "
                               f"{describe_type(start.type)}", start_node)
            with self.at(it):
                # (TorchScript's RangeValue: the step, or the end when there is no start)
                counter = _Counter(start, self.const_int(start_node) if start_node is not
                                   None else 0, it)
            inner = it.args[0]
            tree = _Zip([counter, self.iterable_tree(inner, where) or
                         self.range_leaf(inner) or
                         self.iterable_leaf(self.expr(inner), inner)])
        return tree

    def range_leaf(self, a):
        """range(...) zipped or enumerated: TorchScript's RangeValue (its length
        aten::__range_length, its element aten::__derive_index of the loop index), or
        None when a is not a range() call."""
        if not (isinstance(a, ast.Call) and isinstance(a.func, ast.Name) and
                a.func.id == "range" and self.is_builtin("range")):
            return None
        args = self.range_args(a)
        if len(args) == 1:
            return _Counter(None, 0, a, end=args[0])
        with self.at(a):
            step = args[2] if len(args) == 3 else self.const(1)
        return _Counter(args[0], None, a, end=args[1], step=step)

    def value_leaf(self, v, use):
        """A base iterable of enumerate() / zip() used as a value (a tuple: the list of
        its elements, which must share one type), or None."""
        t = v.type
        if isinstance(t, T.TupleType):
            return _Seq(self.tuple_as_list(v, use))
        if isinstance(t, (T.ListType, T.StrType, T.TensorType)):
            return _Seq(v)
        lst = self.as_list(v)
        return None if lst is None else _Seq(lst)

    def counted(self, start, static_start, call, leaf):
        """enumerate(leaf, start) of values."""
        return _Zip([_Counter(start, 0 if start is None else static_start, call), leaf])

    def zipped(self, leaves):
        return _Zip(list(leaves))

    def iterable_leaf(self, v, node):
        """One base iterable: a list (a dict's keys, a set's elements), a str and a Tensor
        are read by index; a tuple and a module container are _Static."""
        t = v.type
        if isinstance(t, (T.ListType, T.StrType, T.TensorType)):
            return _Seq(v)
        if isinstance(t, (T.DictType, T.SetType)):
            return _Seq(self.as_list(v))
        if isinstance(t, T.TupleType):
            with self.at(node):
                parts = self.tuple_parts.get(v) if hasattr(self, "tuple_parts") else None
                elems = list(parts) if parts is not None else list(
                    self.emit("prim::TupleUnpack", [v], list(t.elems)).outputs
                    if t.elems else [])
            return _Static(elems, v)
        if isinstance(t, T.ClassType) and not isinstance(t, T.InterfaceType):
            with self.at(node):
                return _Static([make() for make in self.class_elements(v, node)])
        self.error(f"'{t.annotation()}' object is not iterable: cannot iterate over "
                   f"{describe_type(t)}", node,
                   hint="iterate over range(...), a list, a tuple, a dict, a str or a tensor")

    def static_length(self, tree, node):
        """The number of elements of an unrolled tree, or None when it is looped over by
        index (a tuple among iterables read by index becomes a list of its elements)."""
        leaves = [x for x in _leaves(tree) if not isinstance(x, _Counter)]
        static = [x for x in leaves if isinstance(x, _Static)]
        if not static:
            return None
        if any(isinstance(x, _Counter) and x.end is not None for x in _leaves(tree)):
            self.error(_STATIC_MIX, node)       # (a range() zipped with a tuple)
        if len(static) == len(leaves):
            return min(len(x.elems) for x in static)
        if all(x.value is not None for x in static):
            # beyond TorchScript: zip(t, xs) of a tuple whose elements share one type
            # iterates the list of them
            self.tuple_lists(tree, node)
            return None
        self.error(_STATIC_MIX, node)

    def tuple_lists(self, tree, node):
        for k, ch in enumerate(tree.children):
            if isinstance(ch, _Zip):
                self.tuple_lists(ch, node)
            elif isinstance(ch, _Static):
                with self.at(node):
                    tree.children[k] = _Seq(self.tuple_as_list(ch.value, "zip() of"))

    def index_target(self, target, tree):
        """The name the loop target binds to the loop index itself (the `i` of `for i, x
        in enumerate(xs)`): TorchScript's loop counter takes it."""
        if isinstance(tree, _Counter):
            return target.id if isinstance(target, ast.Name) and tree.start is None else None
        if isinstance(tree, _Zip) and isinstance(target, (ast.Tuple, ast.List)) and \
                len(target.elts) == len(tree.children):
            for e, ch in zip(target.elts, tree.children):
                name = self.index_target(e, ch)
                if name is not None:
                    return name
        return None

    def tree_length(self, tree, where):
        """The loop's trip count: prim::min of the lengths of the base iterables."""
        lens = []
        for x in _leaves(tree):
            if isinstance(x, _Counter) and x.end is not None:
                # a range() zipped: RangeValue::len
                if x.start is None:
                    lens.append(x.end)
                else:
                    with self.at(where):
                        lens.append(self.scalar("__range_length", x.start, x.end, x.step))
            elif isinstance(x, _Counter):
                # range(start, 2**63 - 1)'s length, as TorchScript's (its constant folded);
                # none for a negative or unknown start: TorchScript's aten::__range_length
                # wraps around int64 there and the loop runs no time, where gpujit counts
                # from start as Python does (a documented difference: torch's is a defect)
                if x.start is None:
                    with self.at(x.call):
                        lens.append(self.const(_INT_MAX))
                elif x.static_start is not None and x.static_start >= 0:
                    saved, self.cur = self.cur, None
                    try:
                        lens.append(self.const(_INT_MAX - x.static_start))
                    finally:
                        self.cur = saved
            else:
                with self.at(where):
                    lens.append(self.scalar("len", x.value, node=where) if isinstance(
                        x.value.type, T.TensorType) else self.len_of(x.value))
        saved, self.cur = self.cur, None             # (TorchScript's: no source range)
        try:
            lst = self.emit("prim::ListConstruct", lens, [T.ListType(T.INT)]).output
        finally:
            self.cur = saved
        with self.at(where):
            return self.emit("prim::min", [lst], [T.INT],
                             op=_reg.OPS["prim::min.self_int"]).output

    def tree_item(self, tree, i, where):
        """The element of the tree at loop index i: a Value, or a tuple of them (nested)."""
        if isinstance(tree, _Zip):
            return tuple(self.tree_item(ch, i, where) for ch in tree.children)
        if isinstance(tree, _Counter):
            if tree.start is None:
                return i
            step = tree.step
            if step is None:
                with self.at(tree.call):
                    step = self.const(1)
            with self.at(where):
                return self.scalar("__derive_index", i, tree.start, step)
        v = tree.value
        if isinstance(v.type, T.TensorType):
            # (TorchScript's SimpleValue::getitem: aten::select(v, 0, i) at the loop's
            # range, its 0 with none)
            saved, self.cur = self.cur, None
            try:
                zero = self.const(0)
            finally:
                self.cur = saved
            with self.at(where):
                return self.call_op("select", [v, zero, i], {}, where)
        with self.at(where):
            out = v.type.elem if isinstance(v.type, T.ListType) else T.STR
            return self.emit("aten::__getitem__", [v, i], [out]).output

    def tree_static_item(self, tree, k):
        """The k-th element of an unrolled tree."""
        if isinstance(tree, _Zip):
            return tuple(self.tree_static_item(ch, k) for ch in tree.children)
        if isinstance(tree, _Counter):
            if tree.static_start is not None:
                return self.const(tree.static_start + k)
            with self.at(tree.call):
                return self.scalar("__derive_index", self.const(k), tree.start, self.const(1))
        return tree.elems[k]

    def tree_type(self, tree):
        if isinstance(tree, _Zip):
            return T.TupleType(tuple(self.tree_type(ch) for ch in tree.children))
        if isinstance(tree, _Counter):
            return T.INT
        t = tree.value.type
        return T.TENSOR if isinstance(t, T.TensorType) else t.elem if isinstance(
            t, T.ListType) else T.STR

    def tree_value(self, parts):
        """A Python tuple of tree elements as one (nested) tuple Value."""
        vals = [self.tree_value(p) if isinstance(p, tuple) else p for p in parts]
        return self.emit("prim::TupleConstruct", vals,
                         [T.TupleType(tuple(v.type for v in vals))]).output

    def iterable_as_list(self, tree, node):
        """enumerate() / zip() as a value: the list of its tuples, appended by a loop over
        the tree (TorchScript's list(zip(...)))."""
        self.tuple_lists(tree, node)
        for x in _leaves(tree):
            if isinstance(x, _Static):
                self.error(f"{describe_type(x.value.type) if x.value is not None else 'a module container'} "
                           f"cannot be zipped or enumerated outside a for loop", node,
                           hint="iterate it with a for loop (unrolled)")
        with self.at(node):
            out = self.emit("prim::ListConstruct", [],
                            [T.ListType(self.tree_type(tree))]).output
            trip = self.tree_length(tree, node)
            loop = self.emit("prim::Loop", [trip, self.const(True)], [])
        block = loop.add_block()
        i = block.add_input(T.INT)
        with self.in_block(block), self.scope(), self.at(node):
            v = self.tree_value(self.tree_item(tree, i, node))
            self.emit("aten::append", [out, v], [out.type])
            block.register_output(self.const(True))
        return out
