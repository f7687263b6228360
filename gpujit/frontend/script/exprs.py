"""Expressions of the script compiler: the variable environment, node emission, and
every expression form (names, constants, operators on tensors and numbers, short-circuit
and/or and ternaries as prim::If, tuples and lists, subscripts, attributes, calls of
registry ops and builtins). Statements are compiler.py's."""
from __future__ import annotations

import ast
import inspect

from ...ir import types as T
from ...ir.graph import Graph, SourceRange
from ...ops import registry as _reg
from . import calls
from .calls import describe_type
from .errors import FrontendError

__all__ = ["ExprCompiler", "Var", "Refined", "OneBranch", "unify", "fallback_annotation_type"]


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
    an `if` (why="if"), first assigned inside a loop body ("loop"), or a loop variable
    ("loopvar"). Using it later is an error that says so."""
    __slots__ = ("where", "why")

    def __init__(self, where, why="if"):
        self.where, self.why = where, why


_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
           ast.FloorDiv: "floordiv", ast.Mod: "remainder", ast.Pow: "pow",
           ast.MatMult: "matmul", ast.BitAnd: "__and__", ast.BitOr: "__or__",
           ast.BitXor: "__xor__"}
# the Tensor op of an operator whose scalar op has another name
_TENSOR_NAMES = {"floordiv": "floor_divide", "__and__": "bitwise_and",
                 "__or__": "bitwise_or", "__xor__": "bitwise_xor"}
_INPLACE = {"add": "add_", "sub": "sub_", "mul": "mul_", "div": "div_"}
_CMPOPS = {ast.Lt: "lt", ast.Gt: "gt", ast.LtE: "le", ast.GtE: "ge", ast.Eq: "eq",
           ast.NotEq: "ne"}
_NUMS = (T.IntType, T.FloatType)
# a number on the left of a Tensor: the op with the Tensor first (as TorchScript emits)
_SWAPPED = {"add": "add", "mul": "mul", "sub": "rsub", "__and__": "__and__",
            "__or__": "__or__", "__xor__": "__xor__"}
_FLIPPED = {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le", "eq": "eq", "ne": "ne"}


def unify(a, b):
    """The type of a variable that holds a on one path and b on another (None: none)."""
    if a == b:
        return a
    if isinstance(a, T.TensorType) and isinstance(b, T.TensorType):
        return T.TENSOR
    if isinstance(a, T.NoneType) and not isinstance(b, T.NoneType):
        return b if isinstance(b, T.OptionalType) else T.OptionalType(b)
    if isinstance(b, T.NoneType):
        return unify(b, a)
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


_TYPING = {"int": T.INT, "float": T.FLOAT, "bool": T.BOOL, "str": T.STR,
           "Tensor": T.TENSOR, "None": T.NONE, "NoneType": T.NONE}


def fallback_annotation_type(ann, globals_, src=None):
    """A Python annotation as an IR type, for the names of `typing` (used until
    script/types.py provides annotation_type)."""
    import typing
    from ...tensor import Tensor
    if isinstance(ann, str):
        try:
            ann = eval(ann, dict(globals_))         # noqa: S307 - the user's own annotation
        except Exception:
            raise FrontendError(f"unknown type annotation {ann!r}",
                                src.range(src.fdef) if src else None) from None
    if ann is None or ann is type(None):
        return T.NONE
    if ann is Tensor:
        return T.TENSOR
    for py, t in ((bool, T.BOOL), (int, T.INT), (float, T.FLOAT), (str, T.STR)):
        if ann is py:
            return t
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    sub = [fallback_annotation_type(a, globals_, src) for a in args]
    if origin is list:
        return T.ListType(sub[0])
    if origin is tuple:
        return T.TupleType(tuple(s for s in sub if s != T.NONE or len(sub) != 1))
    if origin is dict:
        return T.DictType(sub[0], sub[1])
    if origin is typing.Union:
        rest = [s for s in sub if not isinstance(s, T.NoneType)]
        if len(rest) == 1 and len(sub) == 2:
            return T.OptionalType(rest[0])
        return T.UnionType(tuple(sub))
    raise FrontendError(f"unsupported type annotation {ann!r}",
                        src.range(src.fdef) if src else None,
                        hint="use Tensor, int, float, bool, str, List[T], Tuple[...], "
                             "Optional[T]")



class _At:
    def __init__(self, c, node):
        self.c, self.node = c, node

    def __enter__(self):
        self.saved = self.c.cur
        if self.node is not None:
            self.c.cur = self.c.src.range(self.node)

    def __exit__(self, *exc):
        self.c.cur = self.saved


class _InBlock:
    def __init__(self, c, block):
        self.c, self.block = c, block

    def __enter__(self):
        self.saved = self.c.block
        self.c.block = self.block

    def __exit__(self, *exc):
        self.c.block = self.saved


class _Scope:
    def __init__(self, c):
        self.c = c

    def __enter__(self):
        self.c.scopes.append({})
        return self.c.scopes[-1]

    def __exit__(self, *exc):
        self.c.scopes.pop()


class ExprCompiler(calls.FunctionCallMixin, calls.ContainerMixin):
    """Emitting nodes, the variable environment, and expressions."""

    # Built and tested (tests/test_script_containers.py) but off until the tests that
    # expect "not supported" errors for them are updated.
    dict_literals = True
    list_comprehensions = True

    def __init__(self, fn, src):
        self.fn, self.src = fn, src
        self.graph = Graph()
        self.block = self.graph.block
        self.scopes = [{}]
        self.cur = None
        self.ret_type = None
        self.closure = {}
        try:
            self.closure = dict(inspect.getclosurevars(fn).nonlocals)
        except (TypeError, ValueError):
            pass

    # ------------------------------------------------------------------ plumbing
    def error(self, msg, node=None, hint=None, note=None):
        sr = self.src.range(node) if node is not None else self.cur
        if sr is not None:
            sr = SourceRange(sr.filename, sr.line, sr.col, sr.text, self.src.name)
        end = self.src.end_col(node) if node is not None else None
        raise FrontendError(msg, sr, end_col=end, hint=hint, note=note)

    def at(self, node):
        return _At(self, node)

    def in_block(self, block):
        return _InBlock(self, block)

    def scope(self):
        return _Scope(self)

    def emit(self, kind, inputs, types, attrs=None, op=None):
        n = self.graph.create(kind, inputs, attrs=attrs, output_types=types,
                              source_range=self.cur)
        if op is not None:
            n.op = op
        self.block.append(n)
        return n

    def const(self, value, type_=None):
        if type_ is None:
            type_ = T.type_of_value(value)
        attrs = {} if value is None else {"value": value}
        return self.emit("prim::Constant", [], [type_], attrs).output

    def const_int(self, node):
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
                isinstance(node.operand, ast.Constant) and type(node.operand.value) is int:
            return -node.operand.value
        return None

    def lookup_var(self, name):
        for frame in reversed(self.scopes):
            if name in frame:
                return frame[name]
        return None

    def lookup(self, name, node):
        var = self.lookup_var(name)
        if isinstance(var, Var):
            return var.value
        if isinstance(var, OneBranch):
            line = self.src.range(var.where).line
            if var.why == "loop":
                self.error(f"'{name}' is first assigned inside the loop at line {line}, so "
                           f"it is not defined after the loop", node,
                           hint=f"assign '{name}' before the loop")
            if var.why == "loopvar":
                self.error(f"'{name}' is the variable of the loop at line {line}; it is "
                           f"not available after the loop", node,
                           hint="copy it into a variable assigned before the loop")
            self.error(f"'{name}' is not defined on every path: it is assigned only on one "
                       f"branch of an if (line {line})", node,
                       hint=f"assign '{name}' before the if or on both branches")
        found, obj = self.py_object(node)
        if found:
            return self.python_value(obj, node)
        self.error(f"undefined name '{name}'", node,
                   hint="define it before this line, or pass it as a parameter")

    def annotation(self, node):
        """The IR type of an annotation expression (`x: List[int] = []`)."""
        g = dict(self.fn.__globals__)
        g.update(self.closure)
        try:
            from .types import annotation_expr_type
        except ImportError:
            annotation_expr_type = None
        if annotation_expr_type is not None:
            return annotation_expr_type(node, g, self.src.range(node))
        try:
            ann = eval(compile(ast.Expression(node), "<annotation>", "eval"), g)  # noqa: S307
        except Exception:
            self.error(f"unknown type annotation '{ast.unparse(node)}'", node)
        return fallback_annotation_type(ann, g, self.src)

    # ------------------------------------------------------------------ Python objects
    def is_builtin(self, name):
        return self.lookup_var(name) is None and name not in self.closure and \
            name not in self.fn.__globals__

    def py_object(self, node):
        """(True, obj) when node names a Python object outside the function (a module, a
        global constant, a builtin), not a scripted variable."""
        import builtins
        if isinstance(node, ast.Name):
            if self.lookup_var(node.id) is not None:
                return False, None
            for d in (self.closure, self.fn.__globals__, builtins.__dict__):
                if node.id in d:
                    return True, d[node.id]
            return False, None
        if isinstance(node, ast.Attribute):
            found, base = self.py_object(node.value)
            if found and inspect.ismodule(base) and hasattr(base, node.attr):
                return True, getattr(base, node.attr)
            if found and inspect.ismodule(base):
                self.error(f"module '{base.__name__}' has no attribute '{node.attr}'", node)
        return False, None

    def python_value(self, obj, node):
        from ... import dtypes as _dt
        from ...device import device as _device
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return self.const(obj)
        if isinstance(obj, _dt.dtype):
            return self.const(obj, T.SCALAR_TYPE)
        if isinstance(obj, _device):
            return self.const(obj, T.DEVICE)
        what = "module" if inspect.ismodule(obj) else type(obj).__name__
        self.error(f"'{ast.unparse(node)}' is a Python {what}, which a scripted function "
                   f"cannot use as a value", node,
                   hint="call it, or pass the value as a parameter")

    # ------------------------------------------------------------------ expressions
    def expr(self, node, expected=None):
        with self.at(node):
            m = getattr(self, "expr_" + type(node).__name__, None)
            if m is None:
                self.unsupported_expr(node)
            if expected is not None and isinstance(node, (ast.List, ast.Tuple, ast.Dict)):
                return m(node, expected)
            return m(node)

    def unsupported_expr(self, node):
        hints = {"ListComp": "write a for loop that appends to a list",
                 "DictComp": "write a for loop that sets d[k] = v",
                 "GeneratorExp": "use a list comprehension [...]",
                 "Lambda": "define a function at module level",
                 "JoinedStr": "use a str constant"}
        k = type(node).__name__
        self.error(f"{_EXPR_NAMES.get(k, k)} is not supported in scripted functions yet",
                   node, hint=hints.get(k))

    def expr_Constant(self, node):
        v = node.value
        if v is None or isinstance(v, (bool, int, float, str)):
            return self.const(v)
        self.error(f"a constant of type {type(v).__name__} is not supported", node)

    def expr_Name(self, node):
        return self.lookup(node.id, node)

    def expr_Tuple(self, node, expected=None):
        vals = [self.expr(e) for e in node.elts]
        return self.emit("prim::TupleConstruct", vals,
                         [T.TupleType(tuple(v.type for v in vals))]).output

    def expr_List(self, node, expected=None):
        vals = [self.expr(e) for e in node.elts]
        if not vals:
            if isinstance(expected, T.ListType):
                return self.emit("prim::ListConstruct", [], [expected]).output
            self.error("the type of an empty list is unknown", node,
                       hint="annotate it: x: List[int] = []")
        t = vals[0].type
        for v in vals[1:]:
            u = unify(t, v.type)
            if u is None:
                self.error(f"a list holds one type; this one mixes {describe_type(t)} and "
                           f"{describe_type(v.type)}", node, hint="use a tuple")
            t = u
        if isinstance(t, T.TensorType):
            t = T.TENSOR
        return self.emit("prim::ListConstruct", vals, [T.ListType(t)]).output

    def expr_Dict(self, node, expected=None):
        if not self.dict_literals:
            self.unsupported_expr(node)
        return self.dict_literal(node, expected)

    def expr_ListComp(self, node):
        if not self.list_comprehensions:
            self.unsupported_expr(node)
        return self.list_comprehension(node)

    def expr_IfExp(self, node):
        cond = self.condition(node.test)
        n = self.emit("prim::If", [cond], [])
        vals = []
        for e, refs in zip((node.body, node.orelse), self.refinements(node.test)):
            b = n.add_block()
            with self.in_block(b), self.scope():
                self.refine(refs)
                v = self.expr(e)
                b.register_output(v)
                vals.append(v)
        t = unify(vals[0].type, vals[1].type)
        if t is None:
            self.error(f"the two values of a conditional expression have different types "
                       f"({describe_type(vals[0].type)} and {describe_type(vals[1].type)})",
                       node)
        return n.add_output(t)

    def expr_BoolOp(self, node):
        is_and = isinstance(node.op, ast.And)
        v = self.condition(node.values[0])
        known = {}          # what the operands before e establish when e is evaluated
        for prev, e in zip(node.values, node.values[1:]):
            t_refs, f_refs = self.refinements(prev)
            known.update(t_refs if is_and else f_refs)
            n = self.emit("prim::If", [v], [])
            for first in (True, False):
                b = n.add_block()
                with self.in_block(b), self.scope():
                    if first == is_and:
                        self.refine(known)
                        b.register_output(self.condition(e))
                    else:
                        b.register_output(self.const(not is_and))
            v = n.add_output(T.BOOL)
        return v

    # ------------------------------------------------------------------ refinement
    def refinements(self, test):
        """({name: type} when test is true, {name: type} when it is false): the Optional
        variables a condition narrows (`x is None`, `x is not None`, `not ...`, and
        `and` / `or` chains of those)."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            t, f = self.refinements(test.operand)
            return f, t
        if isinstance(test, ast.BoolOp):
            parts = [self.refinements(v) for v in test.values]
            merged = {}
            for t, f in parts:
                merged.update(t if isinstance(test.op, ast.And) else f)
            return (merged, {}) if isinstance(test.op, ast.And) else ({}, merged)
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and \
                test.func.id == "isinstance" and self.is_builtin("isinstance") and \
                len(test.args) == 2 and isinstance(test.args[0], ast.Name):
            var = self.lookup_var(test.args[0].id)
            if isinstance(var, Var) and isinstance(var.value.type, T.OptionalType):
                types = self.isinstance_types(test)
                if calls.static_isinstance(var.value.type.elem, types) and \
                        not calls.static_isinstance(T.NONE, types):
                    return {test.args[0].id: var.value.type.elem}, {}
            return {}, {}
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
                isinstance(test.ops[0], (ast.Is, ast.IsNot)):
            a, b = test.left, test.comparators[0]
            if isinstance(a, ast.Constant) and a.value is None:
                a, b = b, a
            if isinstance(a, ast.Name) and isinstance(b, ast.Constant) and b.value is None:
                var = self.lookup_var(a.id)
                if isinstance(var, Var) and isinstance(var.value.type, T.OptionalType):
                    refs = {a.id: var.value.type.elem}
                    return ({}, refs) if isinstance(test.ops[0], ast.Is) else (refs, {})
        return {}, {}

    def refine(self, refs):
        """Narrow the named Optional variables in the current scope (a prim::unchecked_cast
        each, in the current block)."""
        for name, t in refs.items():
            var = self.lookup_var(name)
            if isinstance(var, Var) and isinstance(var.value.type, T.OptionalType):
                cast = self.emit("prim::unchecked_cast", [var.value], [t]).output
                self.scopes[-1][name] = Refined(cast, var.where)

    def expr_UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            return self.scalar("__not__", self.condition(node.operand), node=node)
        v = self.expr(node.operand)
        if isinstance(node.op, ast.UAdd):
            return v
        if isinstance(node.op, ast.USub):
            if isinstance(node.operand, ast.Constant) and isinstance(v.type, _NUMS) \
                    and not isinstance(node.operand.value, bool):
                v.node.destroy()
                return self.const(-node.operand.value)
            if isinstance(v.type, T.TensorType):
                return self.call_op("neg", [v], {}, node)
            return self.scalar("neg", v, node=node)
        if isinstance(v.type, T.TensorType):
            return self.call_op("bitwise_not", [v], {}, node)
        self.error("`~` is supported on tensors only", node)

    def expr_BinOp(self, node):
        if type(node.op) not in _BINOPS:
            self.error(f"the operator `{_op_text(node.op)}` is not supported", node)
        a, b = self.expr(node.left), self.expr(node.right)
        return self.binop(type(node.op), a, b, node)

    def binop(self, opcls, a, b, node, inplace=False):
        name = _BINOPS[opcls]
        if isinstance(a.type, T.TensorType) or isinstance(b.type, T.TensorType):
            if inplace and name in _INPLACE:
                return self.call_op(_INPLACE[name], [a, b], {}, node, method=True)
            if not isinstance(a.type, T.TensorType) and name in _SWAPPED:
                a, b, name = b, a, _SWAPPED[name]    # 2 * x -> mul(x, 2); 2 - x -> rsub
            return self.call_op(_TENSOR_NAMES.get(name, name), [a, b], {}, node)
        return self.scalar(name, a, b, node=node)

    def scalar(self, name, *args, node=None):
        """A Python-number op (aten::add.int, lt.float, neg.int, ...)."""
        from ...ops.scalar_ops import PYTHON_VALUED
        ops = [d for d in _reg.OVERLOADS.get(f"aten::{name}", []) if d.name in PYTHON_VALUED]
        return self.emit_call(ops, list(args), {}, node, name)

    def expr_Compare(self, node):
        left = self.expr(node.left)
        rights = [self.expr(c) for c in node.comparators]
        results = []
        for op, r in zip(node.ops, rights):
            results.append((op, left, r))
            left = r
        v = self.compare(*results[0], node)
        for op, a, b in results[1:]:      # a < b < c: (a < b) and (b < c), b once
            n = self.emit("prim::If", [self.to_bool(v, node)], [])
            b0, b1 = n.add_block(), n.add_block()
            with self.in_block(b0):
                b0.register_output(self.to_bool(self.compare(op, a, b, node), node))
            with self.in_block(b1):
                b1.register_output(self.const(False))
            v = n.add_output(T.BOOL)
        return v

    def compare(self, op, a, b, node):
        if isinstance(op, (ast.Is, ast.IsNot)):
            na, nb = isinstance(a.type, T.NoneType), isinstance(b.type, T.NoneType)
            if not (na or nb):
                self.error("`is` / `is not` is supported for comparing with None only",
                           node, hint="use == to compare values")
            if isinstance(a.type, T.OptionalType) or isinstance(b.type, T.OptionalType):
                kind = "aten::__is__" if isinstance(op, ast.Is) else "aten::__isnot__"
                if not nb:
                    a, b = b, a           # None is None on the right: x is None
                return self.emit(kind, [a, b], [T.BOOL]).output
            same = na and nb      # None is None; a non-Optional value is never None
            return self.const(same if isinstance(op, ast.Is) else not same)
        if isinstance(op, (ast.In, ast.NotIn)):
            v = self.contains(b, a, node)
            return v if isinstance(op, ast.In) else self.scalar("__not__", v, node=node)
        if type(op) not in _CMPOPS:
            self.error(f"`{_op_text(op)}` is not supported yet", node,
                       hint="compare elements explicitly")
        name = _CMPOPS[type(op)]
        if isinstance(a.type, T.TensorType) or isinstance(b.type, T.TensorType):
            if not isinstance(a.type, T.TensorType):
                a, b, name = b, a, _FLIPPED[name]    # 3 < x -> gt(x, 3)
            return self.call_op(name, [a, b], {}, node)
        return self.scalar(name, a, b, node=node)

    def contains(self, c, x, node):
        """`x in c` for a list, tuple, dict (its keys) or str: aten::__contains__(c, x)."""
        t, xt = c.type, x.type
        if isinstance(t, T.ListType):
            elems = [t.elem]
        elif isinstance(t, T.TupleType):
            elems = list(t.elems)
        elif isinstance(t, T.DictType):
            elems = [t.key]
        elif isinstance(t, T.StrType):
            elems = [T.STR]
        else:
            self.error(f"`in` needs a list, tuple, dict or str on its right, got "
                       f"{describe_type(t)}", node)
        scalar = (T.IntType, T.FloatType, T.BoolType, T.StrType)
        if not isinstance(xt, scalar) or not any(
                isinstance(e, scalar) and (unify(e, xt) is not None or
                                           (isinstance(e, _NUMS) and isinstance(xt, _NUMS)))
                for e in elems):
            self.error(f"`in` compares ints, floats, bools or strs with the elements; "
                       f"cannot look for {describe_type(xt)} in {describe_type(t)}", node)
        return self.emit("aten::__contains__", [c, x], [T.BOOL]).output

    def condition(self, node):
        return self.to_bool(self.expr(node), node)

    def to_bool(self, v, node):
        t = v.type
        if isinstance(t, T.BoolType):
            return v
        if isinstance(t, T.NoneType):
            return self.const(False)
        kind = {T.TensorType: "Bool.Tensor", T.IntType: "Bool.int",
                T.FloatType: "Bool.float"}.get(type(t))
        if kind is None:
            self.error(f"{describe_type(t)} cannot be used as a condition", node,
                       hint="compare it explicitly, e.g. `len(x) > 0`")
        op = _reg.OPS[f"aten::{kind}"]
        return self.emit("aten::Bool", [v], [T.BOOL], op=op).output

    # ------------------------------------------------------------------ subscripts
    def expr_Subscript(self, node):
        v = self.expr(node.value)
        t = v.type
        sl = node.slice
        if isinstance(t, T.TensorType):
            return self.tensor_index(v, sl, node)
        if isinstance(t, T.TupleType):
            k = self.const_int(sl)
            if k is None:
                self.error("a tuple can only be indexed with an int constant", sl,
                           hint="use a list for indexing with a variable")
            n = len(t.elems)
            if not -n <= k < n:
                self.error(f"tuple index {k} out of range for a tuple of {n} values", sl)
            k %= n
            return self.emit("prim::TupleIndex", [v, self.const(k)], [t.elems[k]]).output
        if isinstance(t, T.ListType):
            if isinstance(sl, ast.Slice):
                self.error("slicing a list is not supported yet", sl)
            i = self.expr(sl)
            if not isinstance(i.type, T.IntType):
                self.error(f"list indices must be ints, got {describe_type(i.type)}", sl)
            return self.emit("aten::__getitem__", [v, i], [t.elem]).output
        if isinstance(t, T.DictType):
            k = self.expr(sl)
            self.check_key(v, k, sl)
            return self.emit("aten::__getitem__", [v, k], [t.value]).output
        if isinstance(t, T.ClassType):
            return self.class_index(v, sl, node)
        self.error(f"{describe_type(t)} cannot be indexed", node)

    def tensor_index(self, v, sl, node):
        items = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        dim = 0
        for e in items:
            if isinstance(e, ast.Slice):
                start = self.expr(e.lower) if e.lower else self.const(None, T.OptionalType(T.INT))
                end = self.expr(e.upper) if e.upper else self.const(None, T.OptionalType(T.INT))
                step = self.expr(e.step) if e.step else self.const(1)
                v = self.call_op("slice", [v, self.const(dim), start, end, step], {}, node)
                dim += 1
                continue
            if isinstance(e, ast.Constant) and (e.value is None or e.value is Ellipsis):
                self.error("indexing with None or ... is not supported yet", e,
                           hint="use x.unsqueeze(d) instead of None")
            i = self.expr(e)
            if not isinstance(i.type, T.IntType):
                self.error(f"a tensor index must be an int or a slice here, got "
                           f"{describe_type(i.type)}", e,
                           hint="use gpujit.index_select or masked_select")
            v = self.call_op("select", [v, self.const(dim), i], {}, node)
        return v

    # ------------------------------------------------------------------ attributes
    def expr_Attribute(self, node):
        found, obj = self.py_object(node)
        if found:
            return self.python_value(obj, node)
        v = self.expr(node.value)
        if isinstance(v.type, T.ClassType):
            return self.class_attr(v, node)
        if isinstance(v.type, T.TensorType):
            if node.attr == "shape":
                return self.call_op("size", [v], {}, node, method=True)
            if node.attr in ("dtype", "device"):
                t = T.SCALAR_TYPE if node.attr == "dtype" else T.DEVICE
                return self.emit(f"prim::{node.attr}", [v], [t]).output
        self.error(f"{describe_type(v.type)} has no attribute '{node.attr}' in scripted "
                   f"code", node)

    # ------------------------------------------------------------------ calls
    def expr_Call(self, node):
        func = node.func
        if any(isinstance(a, ast.Starred) for a in node.args) or \
                any(k.arg is None for k in node.keywords):
            self.error("*args / **kwargs in a call are not supported", node,
                       hint="pass each argument explicitly")
        if self.is_annotate(func):
            if len(node.args) != 2 or node.keywords:
                self.error("annotate() takes a type and a value", node,
                           hint="annotate(List[int], [])")
            t = self.annotation(node.args[0])
            v = self.expr(node.args[1], expected=t)
            if not (v.type.is_subtype_of(t) or (isinstance(v.type, T.TensorType)
                                                and isinstance(t, T.TensorType))):
                self.error(f"annotate() says {t.annotation()} but the value is "
                           f"{describe_type(v.type)}", node)
            return v
        if isinstance(func, ast.Attribute):
            found, owner = self.py_object(func.value)
            if found and inspect.ismodule(owner):
                functional = owner.__name__.endswith("nn.functional")
                if not owner.__name__.startswith("gpujit") and owner.__name__ != "math":
                    self.error(f"calls into module '{owner.__name__}' are not supported",
                               node, hint="use gpujit functions")
                name = func.attr
                args, kwargs = self.call_args(node)
                return self.call_wrapper(getattr(owner, name, None), name, args, kwargs,
                                         node, functional)
            if not found:
                self_v = self.expr(func.value)
                if isinstance(self_v.type, T.ClassType):
                    return self.class_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.TensorType):
                    args, kw = self.call_args(node)
                    return self.call_op(func.attr, [self_v] + args, kw, node, method=True)
                if isinstance(self_v.type, T.ListType):
                    return self.list_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.DictType):
                    return self.dict_method_call(self_v, func.attr, node)
                self.error(f"{describe_type(self_v.type)} has no method '{func.attr}' in "
                           f"scripted code yet", node)
        if isinstance(func, ast.Name) and self.is_builtin(func.id):
            return self.builtin_call(func.id, node)
        found, obj = self.py_object(func)
        if found and getattr(obj, "op", None) is not None:
            return self.call_op(obj.op.public_name, *self.call_args(node), node)
        if found and callable(obj) and getattr(obj, "__module__", "") == \
                "gpujit.nn.modules.utils":
            # _pair(0), _single(k): layer helpers on constants fold at compile time
            args, kw = self.call_args(node)
            consts = [self.constant_of(a) for a in list(args) + list(kw.values())]
            if all(k for k, _ in consts):
                vals = [c for _, c in consts]
                value = obj(*vals[:len(args)], **dict(zip(kw, vals[len(args):])))
                return self.constant_value(value, node)
            self.error(f"'{ast.unparse(func)}' can only be called with constant arguments",
                       node)
        if found and calls.is_compiled_function(obj):
            return self.call_function(obj, obj.graph, obj.name, node)
        if found and inspect.isfunction(obj) and \
                not getattr(obj, "__module__", "").startswith("gpujit"):
            return self.call_python_function(obj, node)
        if found and callable(obj) and getattr(obj, "__module__", "").startswith("gpujit"):
            return self.call_op(obj.__name__, *self.call_args(node), node)
        if not found and not isinstance(func, ast.Attribute):
            fv = self.expr(func)
            if isinstance(fv.type, T.ClassType):
                return self.class_method_call(fv, "forward", node)
        self.error(f"calling '{ast.unparse(func)}' is not supported yet", func,
                   hint="call gpujit functions, tensor methods or builtins")

    def is_annotate(self, func):
        """Does `func` name gpujit.jit.annotate (or torch.jit.annotate under an alias)?"""
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return False
        from ...jit.script import annotate
        if isinstance(func, ast.Name):
            found, obj = self.py_object(func)
            return found and obj is annotate
        found, base = self.py_object(func.value)
        return found and inspect.ismodule(base) and \
            getattr(base, func.attr, None) is annotate

    def call_args(self, node):
        return [self.expr(a) for a in node.args], {k.arg: self.expr(k.value)
                                                    for k in node.keywords}

    def call_wrapper(self, pyfn, name, args, kwargs, node, functional):
        """A call of gpujit.<name> / F.<name>: its op by the arguments' types, or, when
        no overload fits as written, the arguments bound by the Python function's own
        signature (F.dropout(x, p, training, inplace) -> aten::dropout(x, p, train))."""
        ops = calls.candidates_for_function(name, functional)
        if ops and inspect.isfunction(pyfn) and "inplace" not in kwargs:
            m, _ = calls.resolve(ops, args, kwargs)
            if m is not None:
                return self.emit_call(ops, args, kwargs, node, name)
        if ops and inspect.isfunction(pyfn):
            r = calls.rebind_wrapper_call(pyfn, ops, args, kwargs, self.constant_of)
            if isinstance(r, tuple):
                kw, inplace = r
                kw = {k: v if hasattr(v, "node") else self.const(v) for k, v in kw.items()}
                if inplace:
                    ops = calls.candidates_for_method(name + "_")
                    if not ops:
                        self.error(f"gpujit has no in-place '{name}_'", node)
                    return self.emit_call(ops, [], kw, node, name + "_")
                return self.emit_call(ops, [], kw, node, name)
        return self.call_op(name, args, kwargs, node, functional=functional)

    def constant_value(self, value, node):
        """A Python constant (tuples and lists of scalars too) as graph values."""
        if isinstance(value, tuple):
            vals = [self.constant_value(x, node) for x in value]
            return self.emit("prim::TupleConstruct", vals,
                             [T.TupleType(tuple(x.type for x in vals))]).output
        if isinstance(value, list) and value:
            vals = [self.constant_value(x, node) for x in value]
            t = vals[0].type
            if any(v.type != t for v in vals):
                self.error(f"the constant {value!r} mixes types", node)
            return self.emit("prim::ListConstruct", vals, [T.ListType(t)]).output
        return self.python_value(value, node)

    @staticmethod
    def constant_of(v):
        """(True, value) when v is a prim::Constant, else (False, None)."""
        if v.node.kind != "prim::Constant":
            return False, None
        return True, v.node.attrs.get("value")

    def call_op(self, name, args, kwargs, node, method=False, functional=False):
        if method:
            ops = calls.candidates_for_method(name)
        else:
            ops = calls.candidates_for_function(name, functional)
        if not ops:
            where = "Tensor method" if method else "function"
            self.error(f"gpujit has no {where} '{name}'", node)
        if functional and "inplace" in kwargs and not any(
                p.name == "inplace" for op in ops for p in op.schema.arguments):
            # F.relu(x, inplace=flag): the Python wrapper's flag picks relu or relu_
            flag = kwargs.pop("inplace")
            if flag.node.kind != "prim::Constant" or not isinstance(flag.type, T.BoolType):
                self.error("`inplace=` must be a bool constant in scripted code", node,
                           hint="write inplace=True or inplace=False")
            if flag.node.attrs.get("value"):
                name += "_"
                ops = calls.candidates_for_method(name)
                if not ops:
                    self.error(f"gpujit has no in-place '{name}'", node)
        return self.emit_call(ops, args, kwargs, node, name)

    def emit_call(self, ops, args, kwargs, node, name):
        m, misses = calls.resolve(ops, args, kwargs)
        if m is None:
            self.error(calls.no_match_message(name, ops, misses, args, kwargs), node)
        op = m.op
        inputs = []
        for p, (kind, x) in zip(op.schema.arguments, m.items):
            if kind == "pack":
                x = self.emit("prim::ListConstruct", x, [T.ListType(T.INT)]).output
            elif kind == "default":
                x = self.default_const(p, x)
            elif p.type.is_list and isinstance(x.type, T.IntType):
                x = self.emit("prim::ListConstruct", [x], [T.ListType(T.INT)]).output
            elif p.type.is_list and isinstance(x.type, T.TupleType):
                elems = x.node.inputs if x.node.kind == "prim::TupleConstruct" else \
                    self.emit("prim::TupleUnpack", [x], list(x.type.elems)).outputs
                et = calls.schema_arg_type(p.type)
                et = et.elem if isinstance(et, T.OptionalType) else et
                x = self.emit("prim::ListConstruct", list(elems), [et]).output
            inputs.append(x)
        rets = [calls.schema_arg_type(r.type) for r in op.schema.returns]
        n = self.emit(op.schema.name, inputs, rets, op=op)
        if len(rets) == 1:
            return n.output
        return self.emit("prim::TupleConstruct", n.outputs, [T.TupleType(tuple(rets))]).output

    def default_const(self, p, value):
        t = calls.schema_arg_type(p.type)
        if value is None:
            return self.const(None, t if isinstance(t, T.OptionalType) else T.OptionalType(t))
        if isinstance(value, tuple):
            et = t.elem if isinstance(t, T.OptionalType) else t
            return self.const(list(value), et)
        if isinstance(value, str) and not isinstance(t, T.StrType):
            return self.const(value, T.STR)
        return self.const(value)

    def builtin_call(self, name, node):
        if name == "isinstance":
            return self.isinstance_call(node)
        if name == "range":
            self.error("range() is supported only as the iterable of a for loop", node,
                       hint="write `for i in range(n):`")
        if node.keywords:
            self.error(f"{name}() takes no keyword arguments here", node)
        args = [self.expr(a) for a in node.args]
        if name == "len" and len(args) == 1:
            t = args[0].type
            if isinstance(t, T.ClassType):
                return self.class_len(args[0], node)
            if isinstance(t, T.TupleType):
                return self.const(len(t.elems))
            if isinstance(t, T.ListType):
                return self.emit("aten::len", args, [T.INT], op=_reg.OPS["aten::len.t"]).output
            if isinstance(t, (T.DictType, T.StrType)):     # CONTAINER_OPS' len
                return self.emit("aten::len", args, [T.INT]).output
            return self.scalar("len", *args, node=node)
        if name in ("int", "float", "bool") and len(args) == 1:
            t = args[0].type
            target = {"int": T.IntType, "float": T.FloatType, "bool": T.BoolType}[name]
            if isinstance(t, target):
                return args[0]
            if name == "bool":
                return self.to_bool(args[0], node)
            return self.emit_call(list(_reg.OVERLOADS.get(f"aten::{name.capitalize()}", [])),
                                  args, {}, node, name)
        if name in ("min", "max") and len(args) == 2 and \
                all(isinstance(a.type, _NUMS) for a in args):
            a, b = args
            t = unify(a.type, b.type) or T.FLOAT
            if t == T.FLOAT:
                a, b = [self.emit_call(list(_reg.OVERLOADS["aten::Float"]), [x], {}, node,
                                       "float") if isinstance(x.type, T.IntType) else x
                        for x in (a, b)]
            c = self.scalar("lt" if name == "min" else "gt", a, b, node=node)
            return self.select(c, a, b, t)
        if name == "abs" and len(args) == 1:
            a = args[0]
            if isinstance(a.type, _NUMS):
                c = self.scalar("lt", a, self.const(0), node=node)
                return self.select(c, self.scalar_neg(a, node), a, a.type)
            return self.call_op("abs", args, {}, node)
        if name == "print":
            self.emit("prim::Print", args, [])
            return self.const(None)
        known = ("len", "int", "float", "bool", "min", "max", "abs")
        if name in known:
            self.error(f"{name}() with ({', '.join(describe_type(a.type) for a in args)}) is "
                       f"not supported", node)
        self.error(f"the builtin '{name}' is not supported in scripted functions yet", node)

    # ------------------------------------------------------------------ class values
    # Values of a class type (modules) exist only in module methods; the module compiler
    # (modules.py) overrides these.
    def class_attr(self, v, node):
        self.error(f"{describe_type(v.type)} has no attribute '{node.attr}' in scripted "
                   f"code", node)

    def class_setattr(self, v, name, value, node):
        self.error(f"cannot assign to attribute '{name}' of {describe_type(v.type)}", node)

    def class_len(self, v, node):
        self.error(f"{describe_type(v.type)} has no len()", node)

    def class_method_call(self, v, name, node):
        self.error(f"{describe_type(v.type)} has no method '{name}' in scripted code", node)

    def class_index(self, v, sl, node):
        self.error(f"{describe_type(v.type)} cannot be indexed", node)

    def class_elements(self, v, node):
        """[make() -> Value] for a for loop over a class value (unrolled), or an error."""
        self.error(f"cannot iterate over {describe_type(v.type)}", node)

    def scalar_neg(self, a, node):
        return self.scalar("neg", a, node=node)

    def select(self, cond, a, b, t):
        """cond ? a : b, as a prim::If (a and b are already computed)."""
        n = self.emit("prim::If", [cond], [])
        for v in (a, b):
            n.add_block().register_output(v)
        return n.add_output(t)


_EXPR_NAMES = {"ListComp": "a list comprehension", "DictComp": "a dict comprehension",
               "SetComp": "a set comprehension", "GeneratorExp": "a generator expression",
               "Lambda": "a lambda", "Dict": "a dict literal", "Set": "a set literal",
               "JoinedStr": "an f-string", "Starred": "a starred expression",
               "NamedExpr": "`:=`", "Await": "await", "Yield": "yield",
               "YieldFrom": "yield from"}


def _op_text(op):
    return {ast.LShift: "<<", ast.RShift: ">>", ast.In: "in", ast.NotIn: "not in",
            ast.Invert: "~"}.get(type(op), type(op).__name__)
