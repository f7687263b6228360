"""Python's `slice` object in scripted code, as TorchScript takes it: `x[slice(1, 5)]`,
`x[slice(None, 3, 1), 0]`, and a slice kept in a variable (`a = slice(1); xs[a]`). A slice
is known at compile time (TorchScript's SliceValue is a sugared value too): its bounds are
evaluated where `slice(...)` is written, and an index that uses it is compiled as the
`a:b:c` it stands for, so lists, strs, tuples, tensors and module lists take it alike."""
from __future__ import annotations

import ast

from ...ir import types as T

__all__ = ["SliceMixin"]


class SliceMixin:
    """ExprCompiler's `slice(...)` (self is the compiler)."""

    @property
    def slice_objects(self):
        """Value of a `slice(...)` -> its (start, stop, step) Values (None: not given)."""
        d = self.__dict__.get("_slice_objects")
        if d is None:
            d = self.__dict__["_slice_objects"] = {}
        return d

    def _slice_call_args(self, node):
        if node.keywords:
            self.error("Slice does not accept any keyword arguments", node,
                       hint="pass start, stop and step by position")
        if not 1 <= len(node.args) <= 3:
            self.error(f"slice expected 1 to 3 arguments, got {len(node.args)}", node)
        args = list(node.args)
        return [None] + args + [None] if len(args) == 1 else args + [None] * (3 - len(args))

    def is_slice_call(self, e):
        return isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and \
            e.func.id == "slice" and self.is_builtin("slice")

    def slice_object(self, node):
        """`slice(...)` as a value (`a = slice(1, n)`): its bounds evaluated here."""
        parts = []
        for a in self._slice_call_args(node):
            if a is None or (isinstance(a, ast.Constant) and a.value is None):
                parts.append(None)
                continue
            v = self.expr(a)
            if not isinstance(v.type, (T.IntType, T.OptionalType)):
                self.error(f"slice indices must be ints or None, got "
                           f"{v.type.annotation()}", a)
            parts.append(v)
        given = [p for p in parts if p is not None]
        v = self.emit("prim::TupleConstruct", given,
                      [T.TupleType(tuple(p.type for p in given))]).output
        self.slice_objects[v] = parts
        return v

    def desugar_slices(self, sl):
        """The index sl with each `slice(...)` call, and each variable holding a slice,
        written as the `a:b:c` it is."""
        if isinstance(sl, ast.Tuple):
            elts = [self._as_slice(e) for e in sl.elts]
            if all(a is b for a, b in zip(elts, sl.elts)):
                return sl
            return ast.copy_location(ast.Tuple(elts=elts, ctx=ast.Load()), sl)
        return self._as_slice(sl)

    def with_desugared_slice(self, target):
        """The subscript target (`x[slice(0, 2)] = v`, `del xs[a]`) with its index
        desugared."""
        sl = self.desugar_slices(target.slice)
        if sl is target.slice:
            return target
        return ast.copy_location(ast.Subscript(value=target.value, slice=sl, ctx=target.ctx),
                                 target)

    def tuple_item(self, v, k):
        """v[k] of a tuple (k a constant): prim::TupleIndex; a module of a tuple of
        modules built here (self.layers[1:3]) is that module's value itself, so that it
        is called and indexed as a module."""
        parts = self.tuple_parts.get(v)     # (a tuple of an unrolled loop's elements)
        if parts is not None:
            return parts[k]
        t = v.type.elems[k]
        if isinstance(t, T.ClassType) and v.node.kind == "prim::TupleConstruct":
            return v.node.inputs[k]
        return self.emit("prim::TupleIndex", [v, self.const(k)], [t]).output

    def tuple_dynamic_item(self, v, sl):
        """v[i] of a tuple with an int computed at run time: prim::TupleIndex, as
        TorchScript does, when all its elements have one type (else the type of v[i]
        is not known when compiling); an index out of range raises IndexError."""
        i = self.expr(sl)
        t = v.type
        if not isinstance(i.type, T.IntType):
            self.error(f"tuple indices must be integers, not {i.type.annotation()}", sl)
        if not t.elems or any(e != t.elems[0] for e in t.elems[1:]):
            self.error(f"Cannot index into a {t.annotation()} with a non-integer literal "
                       f"because we cannot resolve the output type", sl,
                       hint="index it with an int constant, or use a list")
        return self.emit("prim::TupleIndex", [v, i], [t.elems[0]]).output

    def tuple_slice(self, v, sl):
        """t[a:b:c] of a tuple with constant bounds: the tuple of the elements chosen, as
        Python chooses them (TorchScript's prim::TupleSlice, lowered)."""
        bounds = []
        for e in (sl.lower, sl.upper, sl.step):
            if e is None or (isinstance(e, ast.Constant) and e.value is None):
                bounds.append(None)
                continue
            k = self.const_int(e)
            if k is None:
                self.error("tuple slice indices must be integer constants", e,
                           hint="use a list to slice with variables")
            bounds.append(k)
        if bounds[2] == 0:
            self.error("slice step cannot be zero", sl.step)
        elems = v.type.elems
        chosen = range(len(elems))[slice(*bounds)]
        items = [self.tuple_item(v, k) for k in chosen]
        return self.emit("prim::TupleConstruct", items,
                         [T.TupleType(tuple(elems[k] for k in chosen))]).output

    def _as_slice(self, e):
        if self.is_slice_call(e):
            parts = [None if a is None or (isinstance(a, ast.Constant) and a.value is None)
                     else a for a in self._slice_call_args(e)]
            return ast.copy_location(ast.Slice(*parts), e)
        if isinstance(e, ast.Name) and self.lookup_var(e.id) is not None:
            var = self.lookup_var(e.id)
            parts = self.slice_objects.get(getattr(var, "value", None))
            if parts is not None:
                return ast.copy_location(ast.Slice(*[
                    None if p is None else self._evaluated_node(p, e) for p in parts]), e)
        return e

    def _evaluated_node(self, value, where):
        """An AST node whose self.expr() is value (computed already)."""
        n = ast.copy_location(ast.Name(id=where.id, ctx=ast.Load()), where)
        n.end_lineno, n.end_col_offset = where.end_lineno, where.end_col_offset
        self._evaluated[id(n)] = value
        self.__dict__.setdefault("_slice_nodes", []).append(n)   # keeps id(n) unique
        return n
