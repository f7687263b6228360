"""Expressions of the script compiler: the variable environment, node emission, and the
expression forms (names, constants, operators on tensors and numbers, tuples, subscripts,
attributes). The other forms live in the mixins ExprCompiler combines: call_exprs.py
(calls, decided by what is called),
conditions.py (comparisons, and/or, ternaries, Optional refinement), op_calls.py
(registry-op calls), containers.py / container_methods.py / comprehensions.py (lists,
dicts, sets), strings.py (f-strings, str methods), builtin_calls.py (builtins, math).
Statements are compiler.py's."""
from __future__ import annotations

import ast
import inspect

from ...ir import types as T
from ...ir.graph import Graph, SourceRange
from ...ops import registry as _reg
from ...ops.memory_format import AS_INT as _MEMORY_FORMAT_INTS
from . import function_calls, serialized
from .call_exprs import CallExprMixin, plain_data
from .isinstance_exprs import IsinstanceMixin
from .conditions import ConditionMixin, op_text as _op_text
from .builtin_calls import BuiltinMixin
from .comprehensions import ComprehensionMixin
from .iterables import IterableMixin
from .container_methods import ContainerMethodsMixin
from .containers import ContainerMixin
from .op_calls import OpCallMixin
from .slices import SliceMixin
from .strings import StringMixin
from .calls import describe_type
from .errors import FrontendError, UnsupportedNodeError, unsupported_node_words
from .variables import Var, Refined, OneBranch, ExceptionVar, NoneResult, PyAlias, unify  # noqa: F401 (compiler.py's names)


def _is_const(node, value) -> bool:
    """Is this AST node the literal None / ... (compared by identity)?"""
    return isinstance(node, ast.Constant) and node.value is value


# x.is_sparse, x.is_meta ...: registry ops (ops/tensor_flags.py), False for gpujit tensors
_BACKEND_FLAGS = frozenset(("is_sparse", "is_sparse_csr", "is_quantized", "is_nested",
                            "is_meta", "is_mkldnn", "is_xpu", "is_mps", "is_vulkan", "is_ipu",
                            "is_maia", "is_mtia", "is_xla"))


def _is_none_index(node) -> bool:
    """None in an index: the literal, or torch.newaxis / numpy.newaxis (both None)."""
    return _is_const(node, None) or isinstance(node, ast.Attribute) and node.attr == "newaxis"


__all__ = ["ExprCompiler", "Var", "Refined", "OneBranch", "unify", "fallback_annotation_type"]


# the elements of a list that indexes a Tensor (x[[0, 2]], x[[0.5, 1.2]], x[[True, False]])
_NUMBERS = (T.IntType, T.FloatType, T.BoolType)

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
           ast.FloorDiv: "floordiv", ast.Mod: "remainder", ast.Pow: "pow",
           ast.MatMult: "matmul", ast.BitAnd: "__and__", ast.BitOr: "__or__",
           ast.BitXor: "__xor__", ast.LShift: "__lshift__", ast.RShift: "__rshift__"}
# the Tensor op of an operator whose scalar op has another name
_TENSOR_NAMES = {"floordiv": "floor_divide"}
# the augmented assignments TorchScript writes in place on a Tensor (`x <<= 1` is its
# __ilshift__; `x |= y`, `x **= y` rebind x to a new Tensor). `x %= y` writes in place
# there too, but as fmod_ (C's sign): gpujit's is Python's, remainder_, as eager's
_INPLACE = {"add": "add_", "sub": "sub_", "mul": "mul_", "div": "div_",
            "remainder": "remainder_", "__lshift__": "__ilshift__", "__rshift__": "__irshift__"}
# `x &= y`, `x |= y`, `x ^= y` of a Tensor x: TorchScript's aug-assignment ops are
# bitwise_and / or / xor (ir_emitter's getAugOp), where `x & y` is aten::__and__
_AUG_NAMES = {"__and__": "bitwise_and", "__or__": "bitwise_or", "__xor__": "bitwise_xor"}
_NUMS = (T.IntType, T.FloatType)
# a number on the left of a Tensor: the op with the Tensor first (as TorchScript emits)
_SWAPPED = {"add": "add", "mul": "mul", "sub": "rsub"}
# the operators of a number and a Tensor (`4 | x`, `2 // x`) TorchScript computes on
# numbers, the Tensor converted (aten::IntImplicit / FloatImplicit): no builtin nor schema
# takes the pair as it is
_IMPLICIT_RHS = ("floordiv", "__and__", "__or__", "__xor__", "__lshift__", "__rshift__")



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



def _gpujit_module():
    import gpujit
    return gpujit


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
                      "mH": "mH", "real": "real", "imag": "imag"}
# (x.grad is a Tensor, as TorchScript's prim::grad(Tensor a) -> Tensor: None at run time
# where there is no gradient, yet `x.grad is None` is False when compiling, torch 2.13)
_TENSOR_PRIM_ATTRS = {"data": T.TENSOR, "grad": T.TENSOR, "is_leaf": T.BOOL,
                      "retains_grad": T.BOOL, "itemsize": T.INT, "nbytes": T.INT}


class ExprCompiler(CallExprMixin, SliceMixin, function_calls.FunctionCallMixin, IsinstanceMixin,
                   OpCallMixin, ConditionMixin, ContainerMixin, ContainerMethodsMixin,
                   ComprehensionMixin, BuiltinMixin, StringMixin, IterableMixin):
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
    def error(self, msg, node=None, hint=None, note=None, cls=None, used=None):
        """Raise a compile error at node (else the current node); used: the AST node
        where the culprit is read, shown after it ("and was used here:", as TorchScript's
        errors of a variable an if leaves undefined or of two types)."""
        sr = self.src.range(node) if node is not None else self.cur
        if sr is not None:
            sr = SourceRange(sr.filename, sr.line, sr.col, sr.text, self.src.name)
        end = self.src.end_col(node) if node is not None else None
        if used is not None:
            u = self.src.range(used)
            used = (SourceRange(u.filename, u.line, u.col, u.text, self.src.name),
                    self.src.end_col(used))
        raise (cls or FrontendError)(msg, sr, end_col=end, hint=hint, note=note, used=used)

    def error_unsupported_node(self, msg, node, hint=None):
        """A node kind TorchScript refuses: torch's UnsupportedNodeError and words."""
        self.error(f"{unsupported_node_words(node)}: {msg}", node, hint=hint,
                   cls=UnsupportedNodeError)

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

    def dtype_const(self, d):
        """A dtype in scripted code: TorchScript's int (its ScalarType code, float32 is 6),
        so it meets ints in lists, `in`, `is`, comparisons, arithmetic and annotations.
        Marked as a dtype: passed for an op's ScalarType argument it becomes the dtype
        constant again (calls.dtype_arg), and it does not fit an int-list parameter."""
        from ... import dtypes as _dt
        v = self.const(_dt.scalar_type_code(d), T.INT)
        v.node.meta["dtype"] = True
        return v

    def as_dtype_int(self, v):
        """v (a ScalarType value: an op's result) as TorchScript's int code of it."""
        if isinstance(v.type, T.ScalarTypeType):
            if v.node.kind == "prim::Constant" and "value" in v.node.attrs:
                return self.dtype_const(v.node.attrs["value"])
            out = self.emit("aten::Int", [v], [T.INT],
                            op=_reg.OPS["aten::Int.ScalarType"]).output
            out.node.meta["dtype"] = True
            return out
        if isinstance(v.type, T.OptionalType) and isinstance(v.type.elem, T.ScalarTypeType):
            return self.emit("prim::unchecked_cast", [v], [T.OptionalType(T.INT)]).output
        return v

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
        if isinstance(var, ExceptionVar):
            self.error("exception message cannot be used as a value", node)
        if isinstance(var, NoneResult):
            self.error("None cannot be used as a value", node)
        if isinstance(var, PyAlias):
            return self.python_value(var.obj, node)        # (no value: says so)
        if isinstance(var, OneBranch):
            line = self.src.range(var.where).line
            if isinstance(var.why, tuple):      # ("mismatch", true-branch Var, other Var)
                self.branch_type_error(name, var.why[1], var.why[2], used=node)
            if var.why == "loop":
                self.error(f"undefined value {name}: '{name}' is first assigned inside the "
                           f"loop at line {line}, so it is not defined after the loop", node,
                           hint=f"assign '{name}' before the loop")
            if var.why == "sugared":
                self.error(f"undefined value {name}: '{name}' names a Python object (a "
                           f"module, class or function) assigned inside the if at line "
                           f"{line}, which is no value an if can merge", node,
                           hint=f"assign '{name}' before the if")
            if var.why == "del":
                self.error(f"undefined value '{name}': it was deleted by `del` at line "
                           f"{line}", node, hint=f"assign '{name}' again before using it")
            if var.why == "loopvar":
                self.error(f"undefined value {name}: '{name}' is the variable of the loop "
                           f"at line {line}; it is not available after the loop", node,
                           hint="copy it into a variable assigned before the loop")
            branch = var.why[3:] if var.why.startswith("if-") else None
            lead = f"{name} is not defined in the {branch} branch: " if branch else ""
            # (TorchScript's frames: the if's branch that assigns it, "and was used here:")
            self.error(f"{lead}'{name}' is not defined on every path: it is assigned only "
                       f"on one branch of an if (line {line})", var.where,
                       hint=f"assign '{name}' before the if or on both branches", used=node)
        found, obj = self.py_object(node)
        if found:
            self.check_global_value(name, obj, node)
            return self.python_value(obj, node)
        self.error(f"undefined value {name}: undefined name '{name}'", node,
                   hint="define it before this line, or pass it as a parameter")

    def annotation(self, node):
        """The IR type of an annotation expression (`x: List[int] = []`)."""
        self.refuse_final(node)
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

    def refuse_final(self, ann):
        """Final annotates module attributes (`__constants__`); in scripted code (a local's
        annotation, annotate(), a script class's `self.x: Final[int] = ...`) TorchScript
        knows no such type (torch 2.13: `y: Final = 3` is "Unknown type name 'Final'",
        `y: Final[int] = 3` "Unknown type constructor Final")."""
        import typing
        head = ann.value if isinstance(ann, ast.Subscript) else ann
        found, obj = self.py_object(head)
        if found and obj is typing.Final:
            self.error(f"Unknown type constructor {ast.unparse(head)}"
                       if head is not ann else f"Unknown type name '{ast.unparse(head)}'",
                       ann)

    # ------------------------------------------------------------------ Python objects
    def is_builtin(self, name):
        return self.lookup_var(name) is None and name not in self.closure and \
            name not in self.fn.__globals__

    def py_object(self, node):
        """(True, obj) when node names a Python object outside the function (a module, a
        global constant, a builtin), not a scripted variable."""
        import builtins
        if isinstance(node, ast.Name):
            var = self.lookup_var(node.id)
            if isinstance(var, PyAlias):
                return True, var.obj             # `backend = TorchJitBackend`
            if var is not None:
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

    def check_global_value(self, name, obj, node):
        """A global or closed-over variable named in user code must not be a value (an
        int, float, bool, str, tuple, list, dict, Tensor, dtype, device or None):
        TorchScript resolves a bare name to functions, classes and modules only, and
        torch 2.13 refuses `x + SCALE` with "python value of type 'float' cannot be used
        as a value. Perhaps it is a closed over global variable? ..." (None: "undefined
        value"). An attribute of a module (`math.pi`, `config.SCALE`) stays a constant;
        gpujit's own library and archive code keep their constants."""
        from ...tensor import Tensor
        from ... import dtypes as _dt
        from ...device import device as _device
        if name not in self.closure and name not in self.fn.__globals__:
            return                                              # a builtin
        import math
        if obj is math.inf:
            return          # (math.inf itself, `from math import inf`: torch 2.13 takes it)
        if (getattr(self.fn, "__module__", None) or "").split(".")[0] == "gpujit":
            return
        if obj is not None and not isinstance(obj, (bool, int, float, str, tuple, list, dict,
                                                    Tensor, _dt.dtype, _device)):
            return
        from .serialized import is_archive_code
        if is_archive_code(self):
            return
        if obj is None:
            self.error(f"undefined value {name}", node)
        what = "dtype" if isinstance(obj, _dt.dtype) else type(obj).__name__
        self.error(f"python value of type '{what}' cannot be used as a value. Perhaps it "
                   f"is a closed over global variable? If so, please consider passing it "
                   f"in as an argument or use a local variable instead.", node)

    def python_value(self, obj, node):
        from ... import dtypes as _dt
        from ...device import device as _device
        if isinstance(obj, str) and obj in _MEMORY_FORMAT_INTS and \
                isinstance(node, ast.Attribute) and node.attr == obj and \
                self.py_object(node.value)[1] is _gpujit_module():
            # torch.channels_last & co.: TorchScript's MemoryFormat is an int (channels_last
            # 2: `torch.contiguous(x, memory_format=2)`); gpujit spells them as str
            return self.const(_MEMORY_FORMAT_INTS[obj])
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return self.const(obj)
        if isinstance(obj, serialized.ArchiveConstant):               # archive code only
            return self.const(obj.value, T.STR if isinstance(obj.value, str) else T.TENSOR)
        if isinstance(obj, _dt.dtype):
            return self.dtype_const(obj)
        if isinstance(obj, _dt._QuantizedDtype):  # torch.quint8: its ScalarType code
            return self.dtype_const(obj)
        if isinstance(obj, _dt.MissingDtype):     # torch.bfloat16
            self.error(str(obj.error()), node)
        if isinstance(obj, _device):
            return self.const(obj, T.DEVICE)
        if isinstance(obj, _dt.layout):
            return self.const(0)          # torch.strided: an int in TorchScript
        if type(obj) in (tuple, list, dict) and obj and plain_data(obj):
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
                                                                 ast.DictComp, ast.IfExp)):
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
        hints = {"Lambda": "define a function at module level"}
        k = type(node).__name__
        self.error_unsupported_node(
            f"{_EXPR_NAMES.get(k, k)} is not supported in scripted functions yet", node,
            hint=hints.get(k))

    def expr_Constant(self, node):
        v = node.value
        if isinstance(v, int) and not isinstance(v, bool) and \
                not -2 ** 63 <= v < 2 ** 63:
            # (the literal before any unary minus, as TorchScript's lexer reads it:
            # -9223372036854775808 is refused too)
            self.error("Integral constant out of range (must fit in a signed 64 bit "
                       "integer)", node)
        if v is None or isinstance(v, (bool, int, float, complex, str)):
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
        vals = self.display_values(node.elts, hints)
        return self.emit("prim::TupleConstruct", vals,
                         [T.TupleType(tuple(v.type for v in vals))]).output

    def shown_type(self, v) -> str:
        """v's type as TorchScript's errors show it: 'Tensor (inferred)' for a parameter
        left unannotated (so typed Tensor), else its annotation."""
        if isinstance(v.type, T.TensorType) and v in self.graph.inputs and \
                self.graph.inputs.index(v) in getattr(self.graph, "inferred", ()):
            return "Tensor (inferred)"
        return v.type.annotation()

    def display_values(self, elts, hints):
        """The values of a tuple or list display's elements, in order, a starred tuple's
        elements in its place (`(*t, h)`, `[*t, 3]`: prim::TupleUnpack, as TorchScript's
        getValues unpacks it; a list's length is unknown: torch 2.13's words)."""
        vals = []
        for e, h in zip(elts, hints):
            if not isinstance(e, ast.Starred):
                vals.append(self.expr(e, expected=h))
                continue
            with self.at(e):
                v = self.expr(e.value)
                if isinstance(v.type, T.ListType):
                    self.error("cannot statically infer the expected size of a list in "
                               "this context", e, hint="unpack a tuple, whose length is known")
                if not isinstance(v.type, T.TupleType):
                    self.error(f"{v.type.annotation()} cannot be used as a tuple", e,
                               hint="only a tuple can be unpacked into a tuple or list")
                vals += self.emit("prim::TupleUnpack", [v], list(v.type.elems)).outputs
        return vals

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
        # (~n of a number: no aten::bitwise_not takes it, "Arguments for call are not
        # valid", as TorchScript's)
        return self.call_op("bitwise_not", [v], {}, node)

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
        if opcls is ast.Mult and not inplace and _repeat_by_tensor(a.type, b.type):
            # `(x,) * depth` / `[x] * n` of a Tensor count: TorchScript's schema matching
            # converts it to the int of aten::mul.left_t (aten::IntImplicit: a 0-dim
            # tensor's value, checked when it runs); vit_pytorch's cast_tuple
            lst, n = (a, b) if isinstance(b.type, T.TensorType) else (b, a)
            if isinstance(lst.type, T.TupleType):
                lst = self.tuple_as_list(lst, "repeating with `*`")
            return self.container_binop(opcls, lst, self.tensor_as_number(n, "IntImplicit"),
                                        node)
        if isinstance(a.type, T.TensorType) or isinstance(b.type, T.TensorType):
            if name == "floordiv" and not inplace and isinstance(b.type, T.BoolType) and \
                    isinstance(a.type, T.TensorType):
                # x // True: a bool is no number, so TorchScript's first overload with
                # conversions wins, floordiv.int(IntImplicit(x), Int(b)): an int result
                # (not the Tensor floor_divide of `x // 1`; a float x raises at run time)
                a = self.tensor_as_number(a, "IntImplicit")
                return self.scalar(name, a, self.scalar("Int", b, node=node), node=node)
            if inplace and name in _INPLACE and isinstance(a.type, T.TensorType):
                return self.call_op(_INPLACE[name], [a, b], {}, node, method=True)
            if not isinstance(a.type, T.TensorType):
                v = self.number_tensor_binop(name, a, b, node)
                if v is not None:
                    return v
            if not isinstance(a.type, T.TensorType) and name == "sub":
                # 2 - x: TorchScript's builtin __rsub__, -x + 2 (its node is add.Scalar's)
                neg = self.call_op("neg", [b], {}, node)
                return self.call_op("add", [neg, a], {}, node)
            if not isinstance(a.type, T.TensorType) and name == "div":
                # 2 / x: TorchScript's builtin div(Scalar a, Tensor b), reciprocal(b) * a
                # (as eager torch's Tensor.__rdiv__: not a true division, the rounding of
                # x.reciprocal() stays in the result)
                r = self.call_op("reciprocal", [b], {}, node)
                return self.call_op("mul", [r, a], {}, node)
            if not isinstance(a.type, T.TensorType) and name in _SWAPPED:
                a, b, name = b, a, _SWAPPED[name]    # 2 * x -> mul(x, 2)
            if inplace and name in _AUG_NAMES:
                name = _AUG_NAMES[name]
            return self.call_op(_TENSOR_NAMES.get(name, name), [a, b], {}, node)
        a, b = self.bools_as_numbers(opcls, a, b, node)
        # (no `str * int`: TorchScript's aten::mul has no str variant, its schema error)
        v = self.container_binop(opcls, a, b, node)
        return v if v is not None else self.scalar(name, a, b, node=node)

    def number_tensor_binop(self, name, a, b, node):
        """`n <op> x` of a Python number n and a Tensor x where TorchScript has no
        builtin taking (number, Tensor): its schema matching then converts x to n's type
        (aten::IntImplicit / FloatImplicit: a 0-dim tensor's value, an error at run time
        otherwise) and calls the number op, whose result is a number (`4 | x`, `2 // x`;
        a bool n is an int there, and its builtins (add, sub, mul, div, as the compares)
        take an int or a float only: `True + x`, `flag * x`). A float n with `|`, `&`,
        `^`, `<<`, `>>` fits no schema: the number op's compile error. None where a
        (number, Tensor) builtin or schema takes the operands (2 * x, 2 ** x, 2 % x)."""
        implicit = name in _IMPLICIT_RHS or (isinstance(a.type, T.BoolType)
                                              and name in ("add", "sub", "mul", "div"))
        if not implicit or not isinstance(a.type, (T.IntType, T.FloatType, T.BoolType)):
            return None
        if isinstance(a.type, T.BoolType):
            a = self.scalar("Int", a, node=node)
        if isinstance(a.type, T.FloatType) and name != "floordiv":
            return self.scalar(name, a, b, node=node)       # (the compile error)
        kind = "FloatImplicit" if isinstance(a.type, T.FloatType) else "IntImplicit"
        return self.scalar(name, a, self.tensor_as_number(b, kind), node=node)

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
        nums = (T.IntType, T.FloatType, T.BoolType, T.NumberType, T.ComplexType)
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
                self.error(f"Tuple index out of range. Tuple is length {n} and index is {k}: "
                           f"tuple index {k} out of range for a tuple of {n} values", sl)
            return self.tuple_item(v, k)   # (t[-1]: TorchScript keeps the -1)
        found = self.container_subscript(v, sl, node)
        if found is not None:
            return found
        if isinstance(t, T.ClassType):
            return self.class_index(v, sl, node)
        py = {T.IntType: "int", T.FloatType: "float", T.BoolType: "bool",
              T.NoneType: "NoneType"}.get(type(t))
        if py is not None:                          # TorchScript's (and Python's) words
            self.error(f"'{py}' object is not subscriptable: {describe_type(t)} cannot "
                       f"be indexed", node)
        self.error(f"{describe_type(t)} cannot be indexed", node)

    def tensor_setitem(self, x, sl, value, node):
        """`x[...] = value` in place, as eager Python does it: the indexed view filled
        (a number) or copied into (a Tensor); with tensor indices, aten::index_put_."""
        view, indices = self.tensor_index(x, sl, node, gather=False)
        if isinstance(value.type, (T.IntType, T.FloatType, T.BoolType, T.NumberType)):
            # a number: a tensor of x's dtype and device, copied in (as TorchScript: copy_
            # refuses a view whose elements share memory, x.expand(2, 3)[:, 0] = 2, where
            # fill_ lets it through; index_put_ takes no number)
            # (TorchScript's three show no source range)
            saved, self.cur = self.cur, None
            try:
                like = {"dtype": self.emit("prim::dtype", [view], [T.SCALAR_TYPE]).output,
                        "device": self.emit("prim::device", [view], [T.DEVICE]).output}
                value = self.call_op("tensor", [value], like, None)
            finally:
                self.cur = saved
        elif not isinstance(value.type, T.TensorType):
            self.error(f"cannot store {describe_type(value.type)} in a Tensor", node,
                       hint="assign a number or a Tensor")
        if indices is not None:
            put = self.call_op("index_put_", [view, indices, value], {}, node, method=True)
            # (TorchScript makes the Tensor?[] list of indices last, after the value)
            if indices.node.owning_block is put.node.owning_block:
                indices.node.move_before(put.node)
        else:
            self.call_op("copy_", [view, value], {}, node, method=True)

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
            after = [x for x in items[k + 1:] if not _is_none_index(x)
                     and not _is_const(x, Ellipsis)]
            from_end = bool(ellipses) and k > ellipses[0]
            here = self.const(-(len(after) + 1)) if from_end else self.const(dim)
            if _is_const(e, Ellipsis):
                continue
            if _is_none_index(e):
                if from_end:
                    here = self.const(-(len(after) + 1))
                v = self.call_op("unsqueeze", [v, here], {}, node, method=True)
                dim += 1
                continue
            if isinstance(e, ast.Slice):
                # a missing bound: the NoneType constant, as TorchScript's compiler emits it
                start = self.expr(e.lower) if e.lower else self.const(None)
                end = self.expr(e.upper) if e.upper else self.const(None)
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
                self.error(f"Unsupported operation: indexing tensor with unsupported index "
                           f"type '{i.type.annotation()}'. Only ints, slices, lists and "
                           f"tensors are supported: a tensor index must be an int, a slice, "
                           f"None, ..., a Tensor or a list of ints, "
                           f"got {describe_type(i.type)}", e,
                           hint="use gpujit.index_select or masked_select")
            v = self.call_op("select", [v, here, i], {}, node)
        lst = None
        if tensor_indices:
            opt = T.OptionalType(T.TENSOR)
            # (a dim not indexed: createNone's NoneType constant)
            idx = [tensor_indices.get(d) or self.const(None)
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
            out = self.tensor_property(v, node)
            if node.attr not in _TENSOR_VIEW_ATTRS and out.node.kind != "prim::Constant":
                # (TorchScript's property reads, x.dtype, x.grad ..., show no source range;
                # x.ndim / x.T show its `<string>` helper's)
                out.node.source_range = None
            return out
        return self.other_attribute(v, node)

    def tensor_property(self, v, node):
        """x.dtype, x.device, x.is_cuda, x.requires_grad, x.grad, x.ndim ..."""
        if node.attr in ("dtype", "device"):
            # (x.dtype is an int in TorchScript: prim::dtype(Tensor a) -> int)
            t = T.INT if node.attr == "dtype" else T.DEVICE
            out = self.emit(f"prim::{node.attr}", [v], [t]).output
            if node.attr == "dtype":
                out.node.meta["dtype"] = True
            return out
        if node.attr in ("is_cuda", "is_cpu") or node.attr in _BACKEND_FLAGS:
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
            # TorchScript's prim::layout: the layout's int (torch.strided's 0)
            return self.emit("prim::layout", [v], [T.INT]).output
        self.error(f"'{self.shown_type(v)}' object has no attribute or method "
                   f"'{node.attr}'.: {describe_type(v.type)} has no attribute '{node.attr}' "
                   f"in scripted code", node)

    def other_attribute(self, v, node):
        if isinstance(v.type, T.DeviceType) and node.attr == "type":
            return self.emit_op(_reg.OPS["prim::type"], [v])      # TorchScript's prim::type
        if isinstance(v.type, T.DeviceType) and node.attr == "index":
            return self.emit_op(_reg.OPS["prim::index"], [v])     # TorchScript's prim::index
        hint = None
        if isinstance(v.type, T.TupleType) and not isinstance(v.type, T.NamedTupleType) and \
                v.node is not None and v.node.kind == "prim::GetAttr":
            # (a NamedTuple assigned in __init__ without a class-level annotation: TorchScript
            # infers a plain Tuple and the fields are gone)
            hint = ("a NamedTuple attribute assigned in __init__ is typed as a plain Tuple (as "
                    "TorchScript infers it); declare it in the class body (e.g. `p: Point`) "
                    "to keep its fields")
        self.error(f"'{self.shown_type(v)}' object has no attribute or method "
                   f"'{node.attr}'.: {describe_type(v.type)} has no attribute '{node.attr}' "
                   f"in scripted code", node, hint=hint)

    # ------------------------------------------------------------------ calls
    def class_attr(self, v, node):
        self.error(f"'{self.shown_type(v)}' object has no attribute or method "
                   f"'{node.attr}'.: {describe_type(v.type)} has no attribute '{node.attr}' "
                   f"in scripted code", node)

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

    def untyped_attribute(self, node) -> bool:
        """Is node `self.x` of a module attribute that is a Python object of no
        TorchScript type (a module's compiler answers)?"""
        return False

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


def _repeat_by_tensor(ta, tb) -> bool:
    """Is `a * b` a list or tuple repeated by a Tensor count?"""
    seqs = (T.ListType, T.TupleType)
    return (isinstance(ta, seqs) and isinstance(tb, T.TensorType)) or \
        (isinstance(tb, seqs) and isinstance(ta, T.TensorType))
