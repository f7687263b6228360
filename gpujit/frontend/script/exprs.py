"""Expressions of the script compiler: the variable environment, node emission, and the
expression forms (names, constants, operators on tensors and numbers, tuples, subscripts,
attributes, calls). The other forms live in the mixins ExprCompiler combines:
conditions.py (comparisons, and/or, ternaries, Optional refinement), op_calls.py
(registry-op calls), containers.py / container_methods.py / comprehensions.py (lists,
dicts, sets), strings.py (f-strings, str methods), builtin_calls.py (builtins, math).
Statements are compiler.py's."""
from __future__ import annotations

import ast
import collections
import inspect
import itertools
import warnings

from ... import _tensor_types
from ...ir import types as T
from ...ir.graph import Graph, SourceRange
from ...ops import registry as _reg
from ...ops.namespace import OpOverload, OpOverloadPacket, _OpNamespace
from ...ops.scalar_ops import EXPLICIT_ONLY, PYTHON_VALUED
from . import autograd_calls, calls, future_calls, serialized
from .conditions import ConditionMixin, op_text as _op_text
from .builtin_calls import BuiltinMixin
from .comprehensions import ComprehensionMixin
from .container_methods import ContainerMethodsMixin
from .containers import ContainerMixin
from .op_calls import OpCallMixin
from .slices import SliceMixin
from .strings import StringMixin
from .calls import describe_type
from .errors import FrontendError
from .variables import Var, Refined, OneBranch, unify  # noqa: F401 (compiler.py's names)


def _is_const(node, value) -> bool:
    """Is this AST node the literal None / ... (compared by identity)?"""
    return isinstance(node, ast.Constant) and node.value is value


__all__ = ["ExprCompiler", "Var", "Refined", "OneBranch", "unify", "fallback_annotation_type"]


# the elements of a list that indexes a Tensor (x[[0, 2]], x[[0.5, 1.2]], x[[True, False]])
_NUMBERS = (T.IntType, T.FloatType, T.BoolType)

# Tensor methods scripted as the gpujit function of the same name with the tensor first:
# their bool flags choose what they return (TorchScript's boolean dispatch)
_FUNCTION_METHODS = frozenset({"unique", "unique_consecutive"})

# x.float() / x.long() / ...: x.to(<dtype>) (Tensor methods eager code has in Python)
_CAST_METHODS = {"float": "float32", "double": "float64", "half": "float16",
                 "long": "int64", "int": "int32", "short": "int16", "char": "int8",
                 "byte": "uint8", "bool": "bool"}
_NEW_FACTORIES = {"new_zeros": "zeros", "new_ones": "ones", "new_empty": "empty",
                  "new_full": "full"}
_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
           ast.FloorDiv: "floordiv", ast.Mod: "remainder", ast.Pow: "pow",
           ast.MatMult: "matmul", ast.BitAnd: "__and__", ast.BitOr: "__or__",
           ast.BitXor: "__xor__", ast.LShift: "__lshift__", ast.RShift: "__rshift__"}
# the Tensor op of an operator whose scalar op has another name
_TENSOR_NAMES = {"floordiv": "floor_divide", "__and__": "bitwise_and",
                 "__or__": "bitwise_or", "__xor__": "bitwise_xor",
                 "__lshift__": "bitwise_left_shift", "__rshift__": "bitwise_right_shift"}
_INPLACE = {"add": "add_", "sub": "sub_", "mul": "mul_", "div": "div_"}
_NUMS = (T.IntType, T.FloatType)
# a number on the left of a Tensor: the op with the Tensor first (as TorchScript emits)
_SWAPPED = {"add": "add", "mul": "mul", "sub": "rsub", "__and__": "__and__",
            "__or__": "__or__", "__xor__": "__xor__"}



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
    if getattr(origin, "_gpujit_future", False) and len(sub) == 1:
        return T.FutureType(sub[0])
    if getattr(origin, "_gpujit_await", False) and len(sub) == 1:
        return T.AwaitType(sub[0])
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


# tensor attributes scripted code reads through a registry op / a prim node (TorchScript's)
_TENSOR_VIEW_ATTRS = {"ndim": "dim", "T": "numpy_T", "mT": "mT", "H": "matrix_H",
                      "mH": "mH"}
_TENSOR_PRIM_ATTRS = {"data": T.TENSOR, "grad": T.OptionalType(T.TENSOR), "is_leaf": T.BOOL,
                      "retains_grad": T.BOOL, "itemsize": T.INT, "nbytes": T.INT}


class ExprCompiler(SliceMixin, calls.FunctionCallMixin, OpCallMixin, ConditionMixin,
                   ContainerMixin,
                   ContainerMethodsMixin, ComprehensionMixin, BuiltinMixin, StringMixin):
    """Emitting nodes, the variable environment, and expressions."""

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
            if isinstance(var.why, tuple):      # ("mismatch", true-branch Var, other Var)
                self.branch_type_error(name, var.why[1], var.why[2])
            if var.why == "loop":
                self.error(f"'{name}' is first assigned inside the loop at line {line}, so "
                           f"it is not defined after the loop", node,
                           hint=f"assign '{name}' before the loop")
            if var.why == "del":
                self.error(f"undefined value '{name}': it was deleted by `del` at line "
                           f"{line}", node, hint=f"assign '{name}' again before using it")
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
            if found and inspect.isclass(base) and isinstance(
                    inspect.getattr_static(base, node.attr, None), staticmethod):
                return True, getattr(base, node.attr)      # Cls.helper(x): a function
        return False, None

    def python_value(self, obj, node):
        from ... import dtypes as _dt
        from ...device import device as _device
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return self.const(obj)
        if isinstance(obj, serialized.ArchiveConstant):               # archive code only
            return self.const(obj.value, T.TENSOR)
        if isinstance(obj, _dt.dtype):
            return self.const(obj, T.SCALAR_TYPE)
        if isinstance(obj, _device):
            return self.const(obj, T.DEVICE)
        if isinstance(obj, _dt.layout):
            return self.const(0)          # torch.strided: an int in TorchScript
        if type(obj) in (tuple, list, dict) and obj and _plain_data(obj):
            # a global / closure table (NAMES = ["a", "b"]): its value when compiled
            return self.constant_value(obj, node)
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
            if expected is not None and isinstance(node, (ast.List, ast.Tuple, ast.Dict,
                                                                 ast.Set, ast.ListComp,
                                                                 ast.DictComp)):
                return m(node, expected)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr == "tolist" and not node.args and not node.keywords:
                return self.tolist(node, expected)
            if isinstance(expected, (T.ListType, T.DictType)) and isinstance(
                    node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id == ("list" if isinstance(expected, T.ListType) else "dict") \
                    and not node.args and not node.keywords and self.is_builtin(node.func.id):
                kind = "prim::ListConstruct" if isinstance(expected, T.ListType) else \
                    "prim::DictConstruct"               # x: List[int] = list()
                return self.emit(kind, [], [expected]).output
            if isinstance(expected, T.SetType) and isinstance(node, ast.Call) and \
                    isinstance(node.func, ast.Name) and node.func.id == "set" and \
                    not node.args and self.is_builtin("set"):
                return self.empty_set(node, expected)        # s: Set[int] = set()
            return m(node)

    def unsupported_expr(self, node):
        hints = {"GeneratorExp": "use a list comprehension [...]",
                 "Lambda": "define a function at module level"}
        k = type(node).__name__
        self.error(f"{_EXPR_NAMES.get(k, k)} is not supported in scripted functions yet",
                   node, hint=hints.get(k))

    def expr_Constant(self, node):
        v = node.value
        if v is None or isinstance(v, (bool, int, float, str)):
            return self.const(v)
        self.error(f"a constant of type {type(v).__name__} is not supported", node)

    def expr_Name(self, node):
        v = self.lookup(node.id, node)
        return self.narrowed.get(v, v)

    def expr_Tuple(self, node, expected=None):
        # an annotation reaches the elements: `beams: List[Tuple[float, List[int]]] =
        # [(0.0, [])]` makes that [] a List[int]
        exp = expected.elem if isinstance(expected, T.OptionalType) else expected
        hints = exp.elems if isinstance(exp, T.TupleType) and \
            len(exp.elems) == len(node.elts) else [None] * len(node.elts)
        vals = [self.expr(e, expected=h) for e, h in zip(node.elts, hints)]
        return self.emit("prim::TupleConstruct", vals,
                         [T.TupleType(tuple(v.type for v in vals))]).output

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
            if isinstance(v.type, T.BoolType):
                v = self.scalar("Int", v, node=node)       # -flag: neg(Int(flag))
            return self.scalar("neg", v, node=node)
        if isinstance(v.type, T.TensorType):
            return self.call_op("bitwise_not", [v], {}, node)
        self.error("`~` is supported on tensors only", node)

    def expr_BinOp(self, node):
        if type(node.op) not in _BINOPS:
            self.error(f"the operator `{_op_text(node.op)}` is not supported", node)
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and \
                isinstance(node.left.value, str):
            return self.percent_format(node)
        a = self.expr(node.left)
        if isinstance(node.op, ast.Mod) and isinstance(a.type, T.StrType):
            return self.percent_format(node, template=a)        # `template % values`
        b = self.expr(node.right)
        return self.binop(type(node.op), a, b, node)

    def binop(self, opcls, a, b, node, inplace=False):
        name = _BINOPS[opcls]
        if isinstance(a.type, T.TensorType) or isinstance(b.type, T.TensorType):
            if inplace and name in _INPLACE:
                return self.call_op(_INPLACE[name], [a, b], {}, node, method=True)
            if not isinstance(a.type, T.TensorType) and name in _SWAPPED:
                a, b, name = b, a, _SWAPPED[name]    # 2 * x -> mul(x, 2); 2 - x -> rsub
            return self.call_op(_TENSOR_NAMES.get(name, name), [a, b], {}, node)
        a, b = self.bools_as_numbers(opcls, a, b, node)
        v = self.container_binop(opcls, a, b, node)
        if v is None:
            v = self.str_binop(opcls, a, b, node)
        return v if v is not None else self.scalar(name, a, b, node=node)

    def bools_as_numbers(self, opcls, a, b, node):
        """A bool operand of an arithmetic operator on Python numbers is converted first,
        as TorchScript's schema matching does: aten::Float when the other operand is a
        float, else aten::Int (flag + flag is 2, n // flag an int division); `&`, `|`,
        `^` of two bools stay bool."""
        ta, tb = a.type, b.type
        if not (isinstance(ta, T.BoolType) or isinstance(tb, T.BoolType)):
            return a, b
        if isinstance(ta, T.BoolType) and isinstance(tb, T.BoolType) and \
                opcls in (ast.BitAnd, ast.BitOr, ast.BitXor):
            return a, b
        nums = (T.IntType, T.FloatType, T.BoolType, T.NumberType)
        if not (isinstance(ta, nums) and isinstance(tb, nums)):
            return a, b                  # [True] * 2, a bool with a container
        to = "Float" if isinstance(ta, T.FloatType) or isinstance(tb, T.FloatType) else "Int"
        if isinstance(ta, T.BoolType):
            a = self.scalar(to, a, node=node)
        if isinstance(tb, T.BoolType):
            b = self.scalar(to, b, node=node)
        return a, b

    # ------------------------------------------------------------------ subscripts
    def expr_Subscript(self, node):
        v = self.expr(node.value)
        t = v.type
        sl = self.desugar_slices(node.slice)
        if isinstance(t, T.TensorType):
            return self.tensor_index(v, sl, node)
        if isinstance(t, T.TupleType):
            if isinstance(sl, ast.Slice):
                return self.tuple_slice(v, sl)
            k = self.const_int(sl)
            if k is None:
                return self.tuple_dynamic_item(v, sl)
            n = len(t.elems)
            if not -n <= k < n:
                self.error(f"tuple index {k} out of range for a tuple of {n} values", sl)
            return self.tuple_item(v, k % n)
        found = self.container_subscript(v, sl, node)
        if found is not None:
            return found
        if isinstance(t, T.ClassType):
            return self.class_index(v, sl, node)
        self.error(f"{describe_type(t)} cannot be indexed", node)

    def tensor_setitem(self, x, sl, value, node):
        """`x[...] = value` in place, as eager Python does it: the indexed view filled
        (a number) or copied into (a Tensor); with tensor indices, aten::index_put_."""
        view, indices = self.tensor_index(x, sl, node, gather=False)
        if indices is not None:
            if not isinstance(value.type, T.TensorType):
                # a number: a tensor of x's dtype and device (index_put_ takes no other)
                like = {"dtype": self.emit("prim::dtype", [view], [T.SCALAR_TYPE]).output,
                        "device": self.emit("prim::device", [view], [T.DEVICE]).output}
                value = self.call_op("tensor", [value], like, node)
            self.call_op("index_put_", [view, indices, value], {}, node, method=True)
        elif isinstance(value.type, T.TensorType):
            self.call_op("copy_", [view, value], {}, node, method=True)
        elif isinstance(value.type, (T.IntType, T.FloatType, T.BoolType, T.NumberType)):
            self.call_op("fill_", [view, value], {}, node, method=True)
        else:
            self.error(f"cannot store {describe_type(value.type)} in a Tensor", node,
                       hint="assign a number or a Tensor")

    def tensor_index(self, v, sl, node, gather=True):
        """x[i, a:b, None, ..., mask]: select / slice / unsqueeze per item, as NumPy
        reads them; items after `...` count their dims from the end; tensor indices
        (bool masks, long indices) gather at the end with one aten::index (gather=False:
        the view and the Tensor?[] list of indices, or None, for an assignment)."""
        items = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        ellipses = [k for k, e in enumerate(items) if _is_const(e, Ellipsis)]
        if len(ellipses) > 1:
            self.error("an index can only have a single ellipsis ('...')", items[ellipses[1]])
        dim = 0
        tensor_indices = {}            # dim (at the end: position) -> index Tensor
        for k, e in enumerate(items):
            after = [x for x in items[k + 1:] if not _is_const(x, None)
                     and not _is_const(x, Ellipsis)]
            from_end = bool(ellipses) and k > ellipses[0]
            here = self.const(-(len(after) + 1)) if from_end else self.const(dim)
            if _is_const(e, Ellipsis):
                continue
            if _is_const(e, None):
                if from_end:
                    here = self.const(-(len(after) + 1))
                v = self.call_op("unsqueeze", [v, here], {}, node, method=True)
                dim += 1
                continue
            if isinstance(e, ast.Slice):
                start = self.expr(e.lower) if e.lower else self.const(None, T.OptionalType(T.INT))
                end = self.expr(e.upper) if e.upper else self.const(None, T.OptionalType(T.INT))
                step = self.expr(e.step) if e.step else self.const(1)
                v = self.call_op("slice", [v, here, start, end, step], {}, node)
                dim += 1
                continue
            i = self.expr(e)
            inner = i.type
            while isinstance(inner, T.ListType):
                inner = inner.elem
            if isinstance(i.type, T.ListType) and isinstance(inner, _NUMBERS):
                # x[[0, 2]] / x[[[0, 1], [1, 0]]] / x[mask_list]: the (nested) list as a
                # long (bool) index Tensor; floats index as longs, as in PyTorch
                from ... import dtypes as _dt
                dt = _dt.bool if isinstance(inner, T.BoolType) else _dt.int64
                kw = {"dtype": self.const(dt)}
                i = self.nested_tensor_literal(i, kw, node) if isinstance(
                    i.type.elem, T.ListType) else self.call_op("tensor", [i], kw, node)
            if isinstance(i.type, T.TensorType) and not from_end and not ellipses:
                tensor_indices[dim] = i
                dim += 1
                continue
            if not isinstance(i.type, T.IntType):
                self.error(f"a tensor index must be an int, a slice, None, ..., a Tensor or a "
                           f"list of ints, "
                           f"got {describe_type(i.type)}", e,
                           hint="use gpujit.index_select or masked_select")
            v = self.call_op("select", [v, here, i], {}, node)
        lst = None
        if tensor_indices:
            opt = T.OptionalType(T.TENSOR)
            idx = [tensor_indices.get(d, self.const(None, opt))
                   for d in range(max(tensor_indices) + 1)]
            lst = self.emit("prim::ListConstruct", idx, [T.ListType(opt)]).output
            if gather:
                v = self.call_op("index", [v, lst], {}, node)
        return v if gather else (v, lst)

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
            if node.attr in ("is_cuda", "is_cpu"):
                return self.call_op(node.attr, [v], {}, node, method=True)
            if node.attr == "requires_grad":
                return self.emit("prim::requires_grad", [v], [T.BOOL]).output
            op = _TENSOR_VIEW_ATTRS.get(node.attr)
            if op is not None:                          # x.ndim, x.T, x.mT, x.H, x.mH
                return self.call_op(op, [v], {}, node)
            t = _TENSOR_PRIM_ATTRS.get(node.attr)
            if t is not None:             # x.data, x.grad, x.is_leaf, x.itemsize, x.nbytes
                return self.emit(f"prim::{node.attr}", [v], [t]).output
            if node.attr == "layout":
                return self.const(0)      # TorchScript's int for torch.strided, the only one
        if isinstance(v.type, T.DeviceType) and node.attr == "type":
            return self.scalar("device_type", v, node=node)       # x.device.type == "cuda"
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
            if isinstance(t, (T.OptionalType, T.UnionType)) and isinstance(v.type, T.NoneType):
                return self.const(None, t)     # annotate(Optional[T], None): typed None
            return v
        found, obj = self.callee_object(func)
        if found and autograd_calls.autograd_function(obj) is not None:
            return autograd_calls.compile_autograd_call(
                self, autograd_calls.autograd_function(obj), node)
        if found and future_calls.is_future_function(obj):
            return future_calls.compile_future_call(self, obj, node)
        if found and obj is warnings.warn or _is_torch_warn(self, func):
            return self.warn_call(node)
        prim = serialized.prim_function(self, func)
        if prim is not None:                                        # archive code only
            return serialized.compile_prim_call(self, prim, node)
        if found and isinstance(obj, (OpOverloadPacket, OpOverload)):
            return self.ops_namespace_call(obj, node)      # torch.ops.aten.relu(x)
        if not found and isinstance(func, ast.Attribute) and \
                isinstance(self.py_object(func.value)[1], _OpNamespace):
            ns = self.py_object(func.value)[1].name
            self.error(f"Unknown builtin op: {ns}::{func.attr}.", node)
        if isinstance(func, ast.Attribute) and func.attr == "__new__":
            v = self.class_new(func, node)             # Cls.__new__(Cls)
            if v is not None:
                return v
        if isinstance(func, ast.Attribute):
            found, owner = self.py_object(func.value)
            if found and inspect.ismodule(owner) and owner.__name__ == "math":
                return self.math_call(func.attr, node)
            if found and inspect.ismodule(owner):
                if not owner.__name__.startswith("gpujit") and owner.__name__ != "math":
                    self.error(f"calls into module '{owner.__name__}' are not supported",
                               node, hint="use gpujit functions")
                return self.module_call(owner, func.attr, node)
            if not found and func.attr == "__getitem__":
                # x.__getitem__(i) is x[i], as TorchScript compiles it
                if len(node.args) != 1 or node.keywords:
                    self.error(f"__getitem__ expected exactly 1 arguments, got "
                               f"{len(node.args) + len(node.keywords)}", node)
                sub = ast.copy_location(ast.Subscript(value=func.value, slice=node.args[0],
                                                      ctx=ast.Load()), node)
                ast.fix_missing_locations(sub)
                return self.expr(sub)
            if not found:
                self_v = self.expr(func.value)
                if isinstance(self_v.type, T.TensorType) and func.attr in _FUNCTION_METHODS:
                    return self.function_method_call(self_v, func, node)
                if isinstance(self_v.type, T.ClassType):
                    return self.class_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.TensorType) and func.attr == "backward":
                    return autograd_calls.compile_tensor_backward(self, self_v, node)
                if isinstance(self_v.type, T.TensorType) and func.attr == "requires_grad_":
                    return autograd_calls.compile_requires_grad_(self, self_v, node)
                if isinstance(self_v.type, T.TensorType):
                    args, kw = self.call_args(node)
                    if func.attr == "type" and len(args) + len(kw) in (1, 2) and \
                            set(kw) <= {"dtype", "non_blocking"}:
                        # x.type(dtype, non_blocking=False): x.to(dtype, non_blocking), as
                        # TorchScript compiles it
                        bound = dict(zip(("dtype", "non_blocking"), args), **kw)
                        if isinstance(bound.get("dtype", self.const(None)).type,
                                      (T.ScalarTypeType, T.IntType)):
                            return self.call_op("to", [self_v, bound.pop("dtype")], bound,
                                                node, method=True)
                    if func.attr in _CAST_METHODS and not args and not kw:
                        from ... import dtypes as _dt       # x.float(): x.to(float32)
                        dt = self.const(getattr(_dt, _CAST_METHODS[func.attr]), T.SCALAR_TYPE)
                        return self.call_op("to", [self_v, dt], {}, node, method=True)
                    if func.attr in _NEW_FACTORIES and args and not kw:
                        # x.new_zeros(size): zeros(size) with x's dtype and device
                        like = {"dtype": self.emit("prim::dtype", [self_v],
                                                   [T.SCALAR_TYPE]).output,
                                "device": self.emit("prim::device", [self_v],
                                                    [T.DEVICE]).output}
                        return self.call_op(_NEW_FACTORIES[func.attr], args, like, node)
                    if func.attr == "to" and "memory_format" in kw and len(args) <= 2:
                        # x.to(dtype | device [, dtype], memory_format=...): to.dtype_layout
                        # (gpujit's to.dtype / to.device take no memory_format)
                        kinds = [("dtype" if isinstance(a.type, (T.ScalarTypeType, T.IntType))
                                  else "device" if isinstance(a.type, (T.DeviceType, T.StrType))
                                  else None) for a in args]
                        if None not in kinds and len(set(kinds)) == len(kinds) and not (
                                set(kinds) & set(kw)):
                            kw = dict(kw, **dict(zip(kinds, args)))
                            return self.call_op("to", [self_v], kw, node, method=True)
                    if func.attr == "type_as" and len(args) == 1 and not kw:
                        dt = self.emit("prim::dtype", [args[0]], [T.SCALAR_TYPE]).output
                        return self.call_op("to", [self_v, dt], {}, node, method=True)
                    return self.call_op(func.attr, [self_v] + args, kw, node, method=True)
                if isinstance(self_v.type, T.ListType):
                    return self.list_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.DictType):
                    return self.dict_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.SetType):
                    return self.set_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.StrType):
                    return self.str_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.FutureType) and func.attr == "wait" and \
                        not node.args and not node.keywords:     # fut.wait(): aten::wait
                    return self.emit("aten::wait", [self_v], [self_v.type.elem]).output
                self.error(f"{describe_type(self_v.type)} has no method '{func.attr}' in "
                           f"scripted code yet", node)
        if isinstance(func, ast.Name) and self.is_builtin(func.id):
            return self.builtin_call(func.id, node)
        found, obj = self.py_object(func)
        if found:
            target = calls.boolean_dispatch(obj, node, self._constant_flag)
            if target is calls.NOT_LITERAL:
                self.error(f"'{ast.unparse(func)}': its bool flags must be literals "
                           f"(True/False) in scripted code: they decide the type it "
                           f"returns", node)
            obj = target
        if found and obj is collections.OrderedDict:
            return self.builtin_call("dict", node)    # OrderedDict(...): a dict (ordered)
        if found:
            v = self.call_object(obj, func, node)
            if v is not None:
                return v
        if not found and not isinstance(func, ast.Attribute):
            fv = self.expr(func)
            from .classes import script_class_of
            if script_class_of(fv.type) is not None:        # obj(x): obj.__call__(x)
                return self.object_method_call(fv, script_class_of(fv.type), "__call__",
                                               node)
            if isinstance(fv.type, T.ClassType):
                call = getattr(self, "call_module", None)     # (a module's hooks)
                return call(fv, node) if call is not None else \
                    self.class_method_call(fv, "forward", node)
            self.error(f"cannot call a value of type '{fv.type.annotation()}'", func,
                       hint="call gpujit functions, tensor methods or builtins")
        if found and inspect.isclass(obj):
            from ...jit.script import function_modifier
            if function_modifier(obj) in ("ignore", "drop"):
                self.error(f"Cannot instantiate class '{obj.__name__}' in a script "
                           f"function: it is marked @ignore", func)
        self.error(f"calling '{ast.unparse(func)}' is not supported yet", func,
                   hint="call gpujit functions, tensor methods or builtins")

    def call_object(self, obj, func, node):
        """The call `node` of the Python object obj (a global function, a registry
        function, a scripted function, or a module's function attribute), or None when
        scripted code cannot call it."""
        if calls.compiled_from_source(obj):
            return self.call_python_function(obj, node)
        if isinstance(obj, _tensor_types.tensortype):      # torch.LongTensor(...)
            return self.legacy_constructor_call(obj, node)
        if getattr(obj, "op", None) is not None:
            return self.call_op(obj.op.public_name, *self.call_args(node), node)
        if callable(obj) and getattr(obj, "__module__", "") == \
                "gpujit.nn.modules.utils":
            # _pair(0), _single(k): layer helpers on constants fold at compile time
            args, kw = self.call_args(node)
            consts = [self.constant_of(a) for a in list(args) + list(kw.values())]
            if all(k for k, _ in consts):
                vals = [c for _, c in consts]
                value = obj(*vals[:len(args)], **dict(zip(kw, vals[len(args):])))
                return self.constant_value(value, node)
            n = {"_single": 1, "_pair": 2, "_triple": 3, "_quadruple": 4}.get(
                getattr(obj, "__name__", ""))
            if n is not None and len(args) == 1 and not kw:
                # _pair(self.k) of a value: a list, as TorchScript's aten::_pair(int[2])
                v = args[0]
                if isinstance(v.type, (T.IntType, T.FloatType, T.BoolType)):
                    return self.emit("prim::ListConstruct", [v] * n,
                                     [T.ListType(v.type)]).output
                if isinstance(v.type, (T.ListType, T.TupleType)):
                    return self.as_list(v, f"{obj.__name__}() of")
            self.error(f"'{ast.unparse(func)}' can only be called with constant arguments",
                       node)
        if calls.is_compiled_function(obj):
            return self.call_function(obj, obj.graph, obj.name, node)
        from ...nn.module import Module
        if isinstance(obj, Module):
            self.error("Cannot call a ScriptModule that is not a submodule of the caller"
                       if hasattr(obj, "_script_methods") else
                       f"Cannot call the module '{ast.unparse(func)}' ({type(obj).__name__}): "
                       f"it is not a submodule of the caller", node,
                       hint="make it an attribute of a scripted module and call it as "
                            "self.<name>(...)")
        if inspect.isfunction(obj) and \
                not getattr(obj, "__module__", "").startswith("gpujit"):
            return self.call_python_function(obj, node)
        if callable(obj) and getattr(obj, "__module__", "").startswith("gpujit"):
            return self.call_op(obj.__name__, *self.call_args(node), node)
        return None

    def tolist(self, node, expected):
        """`vals: List[float] = x.tolist()`: the Tensor's values as (nested) Python lists
        of the annotated type, as TorchScript requires the type to be written."""
        v = self.expr(node.func.value)
        if not isinstance(v.type, T.TensorType):     # (no other scripted type has it)
            self.error(f"{describe_type(v.type)} has no method 'tolist' in scripted code",
                       node)
        t, depth = expected, 0
        while isinstance(t, T.ListType):
            t, depth = t.elem, depth + 1
        if expected is None:
            self.error("Expected type hint for result of tolist(): x.tolist() needs its "
                       "type written", node, hint="vals: List[float] = x.tolist(), or "
                       "torch.jit.annotate(List[List[int]], x.tolist())")
        if not isinstance(t, (T.IntType, T.FloatType, T.BoolType)):
            self.error(f"{t.annotation()} is not one of the supported element types for "
                       f"tolist: int, float, bool", node,
                       hint="annotate a (nested) List of int, float or bool, or one of them")
        kind = {T.IntType: "int", T.FloatType: "float", T.BoolType: "bool"}[type(t)]
        return self.emit("aten::tolist", [v, self.const(depth), self.const(kind)],
                         [expected]).output

    def function_method_call(self, self_v, func, node):
        """x.unique(...): gpujit.unique(x, ...), whose bool flags decide its return type
        (the receiver, already compiled, is passed under a name no program can use)."""
        import gpujit
        hidden = "$receiver"
        self.scopes.append({hidden: Var(self_v, node)})
        try:
            call = ast.copy_location(ast.Call(
                func=func, args=[ast.copy_location(ast.Name(hidden, ast.Load()), func.value),
                                 *node.args], keywords=node.keywords), node)
            return self.module_call(gpujit, func.attr, call)
        finally:
            self.scopes.pop()

    def _constant_flag(self, arg):
        """(True, value) when the expression `arg` compiles to a constant (a module's
        __constants__ attribute such as self.return_indices), else (False, None)."""
        if not (isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name)
                and arg.value.id == "self"):
            return False, None
        return self.constant_of(self.expr(arg))

    def module_call(self, owner, name, node):
        """`owner.name(...)`: a function of a gpujit module (torch.relu, F.softmax, ...).
        Archive code (.code read back by jit.load) calls the registry's ops by name:
        torch.unique_consecutive there is the op, not the Python function that chooses a
        variant by its flags (the variant was compiled into a helper of its own)."""
        archive = isinstance(self.fn.__globals__.get("ops"), serialized._OpsNamespace)
        target = getattr(owner, name, None)
        if not archive:
            target = calls.boolean_dispatch(target, node, self._constant_flag)
        if target is calls.NOT_LITERAL:
            self.error(f"'{name}': its bool flags must be literals (True/False) in "
                       f"scripted code: they decide the type it returns", node)
        if calls.compiled_from_source(target):
            return self.call_python_function(target, node)
        if isinstance(target, _tensor_types.tensortype):   # torch.LongTensor(...)
            return self.legacy_constructor_call(target, node)
        name, owner = calls.alias_target(owner, name)   # special.expit: sigmoid
        functional = owner.__name__.endswith("nn.functional")
        args, kwargs = self.call_args(node)
        if name == "device" and owner.__name__ == "gpujit":
            return self.device_call(args, kwargs, node)
        if not functional and not kwargs:
            v = self.container_kind_call(name, args, node)    # torch.sorted(xs, ...)
            if v is not None:
                return v
        return self.call_wrapper(getattr(owner, name, None), name, args, kwargs,
                                 node, functional)

    def warn_call(self, node):
        """`warnings.warn(message, stacklevel=2)`: aten::warn, as TorchScript (a
        UserWarning pointing at this line, each time it runs; `torch.warn(message, 3)`
        is how .code writes it back)."""
        args, kw = list(node.args), {k.arg: k.value for k in node.keywords}
        bad = set(kw) - {"message", "stacklevel"}
        if len(args) > 2 or bad or (len(args) == 2 and "stacklevel" in kw):
            self.error("warnings.warn in scripted code takes a message and stacklevel= "
                       "(TorchScript warns with UserWarning; a category cannot be given)",
                       node, hint='warnings.warn("message")')
        msg = args[0] if args else kw.get("message")
        if msg is None:
            self.error("warnings.warn() needs a message", node)
        level = args[1] if len(args) == 2 else kw.get("stacklevel")
        if level is not None and not (isinstance(level, ast.Constant) and
                                      type(level.value) is int):
            found, obj = self.py_object(level) if isinstance(level, ast.Name) else (0, 0)
            if found and isinstance(obj, type) and issubclass(obj, Warning):
                self.error(f"warnings.warn in scripted code cannot take a category "
                           f"({obj.__name__}): TorchScript warns with UserWarning", level,
                           hint='warnings.warn("message")')
        m = self.expr(msg)
        if not isinstance(m.type, T.StrType):
            self.error(f"warnings.warn() takes a str message, not {describe_type(m.type)}",
                       msg)
        lv = self.expr(level) if level is not None else self.const(2)
        if not isinstance(lv.type, T.IntType):
            self.error(f"warnings.warn(stacklevel=) takes an int, not "
                       f"{describe_type(lv.type)}", level)
        where = self.src.range(node)
        self.emit("aten::warn", [m, lv], [],
                  attrs={"warn_id": _warn_id((where.filename, where.line, node.col_offset))})
        return self.const(None)

    def ops_namespace_call(self, obj, node):
        """`torch.ops.aten.add(x, y)` (its overloads chosen by the arguments' types, as a
        gpujit function's are) or `torch.ops.aten.add.Tensor(x, y)` (that overload)."""
        args, kwargs = self.call_args(node)
        if isinstance(obj, OpOverload):
            return self.emit_call([obj.op], args, kwargs, node, obj.name())
        # the Python-number overloads first (they take no Tensor), as for gpujit.<name>
        allv = _reg.OVERLOADS[obj._qualified_op_name]
        ovs = [o for o in allv if o.name in PYTHON_VALUED and o.name not in EXPLICIT_ONLY]
        ovs += [o for o in allv if o not in ovs]
        return self.emit_call(ovs, args, kwargs, node, obj._qualified_op_name)

    def callee_object(self, func):
        """(True, obj) when a call's callee names a Python object (py_object), without
        complaining about a missing module attribute (registry ops have no attribute)."""
        if isinstance(func, ast.Attribute):
            found, owner = self.py_object(func.value)
            if found and hasattr(owner, func.attr):
                return True, getattr(owner, func.attr)
            return False, None
        if isinstance(func, ast.Name):
            return self.py_object(func)
        return False, None

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

    # ------------------------------------------------------------------ class values
    # Values of a class type (modules) exist only in module methods; the module compiler
    # (modules.py) overrides these.
    def class_attr(self, v, node):
        self.error(f"{describe_type(v.type)} has no attribute '{node.attr}' in scripted "
                   f"code", node)

    def class_setattr(self, v, name, value, node):
        self.error(f"cannot assign to attribute '{name}' of {describe_type(v.type)}", node)

    def class_len(self, v, node):
        """len(obj) of a script class object: its __len__ method."""
        from .classes import script_class_of
        sc = script_class_of(v.type)
        if sc is not None and sc.python_method("__len__") is not None:
            call = ast.copy_location(ast.Call(func=node.func, args=[], keywords=[]), node)
            return self.object_method_call(v, sc, "__len__", call)
        self.error(f"{describe_type(v.type)} has no len()", node,
                   hint="define __len__(self) -> int in the class" if sc is not None else None)

    def class_method_call(self, v, name, node):
        if isinstance(v.type, T.InterfaceType):        # gpujit.jit.interface
            from .interfaces import interface_call
            return interface_call(self, v, name, node)
        self.error(f"{describe_type(v.type)} has no method '{name}' in scripted code", node)

    def class_index(self, v, sl, node):
        self.error(f"{describe_type(v.type)} cannot be indexed", node)

    def class_elements(self, v, node):
        """[make() -> Value] for a for loop over a class value (unrolled), or an error."""
        self.error(f"cannot iterate over {describe_type(v.type)}", node)

    def scalar_neg(self, a, node):
        return self.scalar("neg", a, node=node)



_EXPR_NAMES = {"ListComp": "a list comprehension", "DictComp": "a dict comprehension",
               "SetComp": "a set comprehension", "GeneratorExp": "a generator expression",
               "Lambda": "a lambda", "Dict": "a dict literal", "Set": "a set literal",
               "JoinedStr": "an f-string", "Starred": "a starred expression",
               "NamedExpr": "`:=`", "Await": "await", "Yield": "yield",
               "YieldFrom": "yield from"}


def _plain_data(obj) -> bool:
    """Numbers, strs, None, and non-empty tuples / lists / dicts of them."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return True
    if type(obj) in (tuple, list):
        return bool(obj) and all(_plain_data(x) for x in obj)
    if type(obj) is dict:
        return bool(obj) and all(_plain_data(k) and _plain_data(v) for k, v in obj.items())
    return False


_warn_ids = itertools.count()
_warn_sites: dict = {}


def _warn_id(site):
    """One id per warnings.warn call site (file, line, column): a function compiled again
    (from two modules, two methods) gives the same graph, so a model that calls it from
    both still saves."""
    i = _warn_sites.get(site)
    if i is None:
        i = _warn_sites[site] = next(_warn_ids)
    return i


def _is_torch_warn(c, func):
    """`torch.warn(message, stacklevel)`: what .code prints for aten::warn."""
    if not (isinstance(func, ast.Attribute) and func.attr == "warn"):
        return False
    found, owner = c.py_object(func.value)
    return found and inspect.ismodule(owner) and owner.__name__ == "gpujit"
