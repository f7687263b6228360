"""Expressions whose meaning depends on the Python object they name or the class of the
value they act on, layered over the generic expression compiler (exprs.py):

- a call of a Python object: `gpujit.jit.is_scripting()` (True in scripted code), a class
  (a script-class object or a NamedTuple, classes.py), an `@ignore` function (a call
  into Python) or `@unused` one (a raise), python_calls.py;
- `obj.method(...)` and `obj.attr` on script-class objects and NamedTuples, and calls of
  a module's `@ignore` methods;
- isinstance() with script classes and NamedTuples; a call of an undefined name.

Each hook falls back to the generic code. When a hook has computed the receiver of
`obj.attr` / `obj.m()` before deciding it is not its case, the Value is handed to the
generic code through `_evaluated` (so the receiver is emitted once).
"""
from __future__ import annotations

import ast
import inspect

from ...ir import types as T
from .calls import describe_type, is_gpujit_name
from .future_calls import implicit_wait
from .classes import script_class_of
from .errors import FrontendError
from . import static_eval

__all__ = ["ObjectExprMixin"]

# the method an operator calls on a script-class object on its left (TorchScript has no
# reflected __radd__ & co.)
_BIN_DUNDERS = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__",
                ast.Div: "__truediv__", ast.FloorDiv: "__floordiv__", ast.Mod: "__mod__",
                ast.Pow: "__pow__", ast.MatMult: "__matmul__", ast.BitAnd: "__and__",
                ast.BitOr: "__or__", ast.BitXor: "__xor__", ast.LShift: "__lshift__",
                ast.RShift: "__rshift__"}
_CMP_DUNDERS = {ast.Lt: "__lt__", ast.Gt: "__gt__", ast.LtE: "__le__", ast.GtE: "__ge__",
                ast.Eq: "__eq__", ast.NotEq: "__ne__"}
_UNARY_DUNDERS = {ast.USub: "__neg__", ast.UAdd: "__pos__", ast.Invert: "__invert__"}


class ObjectExprMixin:
    """The compiler's hooks on exprs.py (FunctionCompiler inherits them)."""

    @property
    def _evaluated(self):
        """id(AST node) -> Value already computed for it (see the module docstring)."""
        d = self.__dict__.get("_evaluated_values")
        if d is None:
            d = self.__dict__["_evaluated_values"] = {}
        return d

    def expr(self, node, expected=None):
        if self._evaluated:
            got = self._evaluated.pop(id(node), None)
            if got is not None:
                return got
        return super().expr(node, expected)

    def _evaluate_once(self, node):
        """Compute node's Value now; the next self.expr(node) returns it (so that the
        generic expression code, which evaluates node itself, does not emit it twice)."""
        v = implicit_wait(self, self.expr(node))      # an Await[T] used as its T
        self._evaluated[id(node)] = v
        return v

    def expr_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "forward" and \
                isinstance(func.value, ast.Subscript):
            # self.blocks[key].forward(x) is self.blocks[key](x) (blog 003's workaround)
            call = ast.Call(func=func.value, args=node.args, keywords=node.keywords)
            ast.copy_location(call, node)
            call.end_lineno, call.end_col_offset = node.end_lineno, node.end_col_offset
            return self.expr_Call(call)
        if isinstance(func, (ast.Name, ast.Attribute)) and not any(
                isinstance(a, ast.Starred) for a in node.args):
            found, obj = self._py_object_quiet(func)
            if found:
                with self.at(node):
                    v = self.python_callee(obj, node)
                if v is not None:
                    return v
            elif isinstance(func, ast.Attribute) and not self._py_object_quiet(func.value)[0]:
                recv = self._evaluate_once(func.value)
                with self.at(node):
                    v = self.method_on(recv, func.attr, node)
                if v is not None:
                    self._evaluated.pop(id(func.value), None)
                    return v
                try:
                    return super().expr_Call(node)
                finally:
                    self._evaluated.pop(id(func.value), None)
        return super().expr_Call(node)

    # ---- operators on script-class objects: the class's dunder methods
    def _overload(self, v, name, args, node, what):
        """v.name(*args) when v is an object of a script class (None otherwise); an
        object without that method is an error naming it."""
        sc = script_class_of(v.type)
        if sc is None:
            return None
        if sc.python_method(name) is None:
            # (torch 2.13's words first)
            self.error(f"'__torch__.{sc.name}' object has no attribute or method '{name}'. "
                       f"Did you forget to initialize an attribute in __init__()?: {what} on "
                       f"a {sc.name} calls its {name}", node,
                       hint=f"define {name} in class {sc.name}")
        return self.dunder_call(v, name, args, node)

    def binop(self, opcls, a, b, node, inplace=False):
        if opcls in _BIN_DUNDERS:
            v = self._overload(a, _BIN_DUNDERS[opcls], [b], node, "this operator")
            if v is not None:
                return v
        return super().binop(opcls, a, b, node, inplace)

    def compare(self, op, a, b, node):
        if type(op) in _CMP_DUNDERS:
            v = self._overload(a, _CMP_DUNDERS[type(op)], [b], node, "this comparison")
            if v is not None:
                return v
        return super().compare(op, a, b, node)

    def to_bool(self, v, node):
        """`if obj:` / bool(obj): its __bool__."""
        if self.has_dunder(v, "__bool__"):
            return self.dunder_call(v, "__bool__", [], node, result=T.BOOL)
        return super().to_bool(v, node)

    def number_conversion(self, name, args, node):
        """int(obj) / float(obj): its __int__ / __float__."""
        if len(args) == 1 and self.has_dunder(args[0], f"__{name}__"):
            return self.dunder_call(args[0], f"__{name}__", [], node,
                                    result=T.INT if name == "int" else T.FLOAT)
        return super().number_conversion(name, args, node)

    def to_str(self, v, node):
        """str(obj): its __str__."""
        if self.has_dunder(v, "__str__"):
            return self.dunder_call(v, "__str__", [], node, result=T.STR)
        return super().to_str(v, node)

    def expr_UnaryOp(self, node):
        if type(node.op) in _UNARY_DUNDERS and not self._py_object_quiet(node.operand)[0]:
            v = self._evaluate_once(node.operand)
            if script_class_of(v.type) is not None:
                self._evaluated.pop(id(node.operand), None)
                with self.at(node):
                    return self._overload(v, _UNARY_DUNDERS[type(node.op)], [], node,
                                          "this operator")
        try:
            return super().expr_UnaryOp(node)
        finally:
            self._evaluated.pop(id(node.operand), None)

    def expr_Subscript(self, node):
        if not self._py_object_quiet(node.value)[0]:
            v = self._evaluate_once(node.value)
            if script_class_of(v.type) is not None:
                self._evaluated.pop(id(node.value), None)
                if isinstance(node.slice, ast.Slice):
                    self.error("slicing an object is not supported", node,
                               hint="call a method that takes the bounds")
                with self.at(node):
                    return self._overload(v, "__getitem__", [self.expr(node.slice)], node,
                                          "indexing")
        try:
            return super().expr_Subscript(node)
        finally:
            self._evaluated.pop(id(node.value), None)

    def python_callee(self, obj, node):
        """Calls decided by the Python object called: is_scripting() (True in scripted
        code), classes (objects, NamedTuples), @ignore / @unused functions. None: the
        generic call path."""
        from ...jit.script import function_modifier
        folded = static_eval.call_value(obj)
        if folded is not static_eval.UNKNOWN:
            self.call_args(node)
            return self.const(folded)
        if inspect.isclass(obj):
            return self.construct(obj, node)
        from ..._asserts import _assert, _check
        from ...jit.script import jit_isinstance
        if obj is _check:
            return self.torch_check(node)
        if obj is _assert:
            return self.torch_assert(node)
        if obj is jit_isinstance:                 # torch.jit.isinstance(x, List[int])
            return self.isinstance_call(node)
        if inspect.isfunction(obj):
            modifier = function_modifier(obj)
            if modifier in ("ignore", "drop"):
                from .python_calls import python_call, dropped_call
                args, kwargs = self.call_args(node)
                if modifier == "drop":
                    return dropped_call(self, obj, obj.__name__, node)
                return python_call(self, obj, args, kwargs, node)
        return None

    def torch_assert(self, node):
        """torch._assert(condition, message) as TorchScript's code has it, its function
        inlined: the arguments first, then `if cond: pass else: raise` with
        "AssertionError: " + message (a constant True condition leaves nothing), no
        refinement of the condition's variables (gpujit called the compiled function)."""
        names = ("condition", "message")
        given = dict(zip(names, node.args))
        for kw in node.keywords:
            if kw.arg not in names or kw.arg in given:
                self.error(f"_assert() got an unexpected keyword argument '{kw.arg}'", kw)
            given[kw.arg] = kw.value
        if len(node.args) > 2 or set(given) != set(names):
            self.error("_assert() takes 2 arguments (condition, message)", node,
                       hint='torch._assert(x.dim() == 2, "expected a matrix")')
        cond = self.expr(given["condition"])
        msg = self.expr(given["message"])
        if not isinstance(msg.type, T.StrType):
            self.error(f"_assert() expects message to be a str, got "
                       f"{describe_type(msg.type)}", given["message"])
        if isinstance(cond.type, T.TensorType):
            cond = self.emit("aten::Bool", [cond], [T.BOOL]).output
        elif not isinstance(cond.type, T.BoolType):
            self.error(f"_assert() expects condition to be a bool or Tensor, got "
                       f"{describe_type(cond.type)}", given["condition"])
        if cond.node.kind == "prim::Constant" and cond.node.attrs.get("value") is True:
            return self.const(None)
        ifn = self.emit("prim::If", [cond], [])
        ifn.add_block()
        with self.in_block(ifn.add_block()):
            text = msg.node.attrs.get("value") if msg.node.kind == "prim::Constant" else None
            full = self.const("AssertionError: " + text) if isinstance(text, str) else \
                self.emit("aten::add", [self.const("AssertionError: "), msg], [T.STR]).output
            self.raise_without_class(full, None)        # (torch's own source: no range)
        return self.const(None)

    def torch_check(self, node):
        """torch._check(cond, message=None) as TorchScript compiles it: a RuntimeError
        (the message, a str, or `lambda: <str>` as eager code writes it) unless cond."""
        from ..._asserts import CHECK_FAILED
        if len(node.args) + len(node.keywords) not in (1, 2) or len(node.args) > 2:
            self.error("torch._check() expects 1 or 2 arguments (cond, message)", node)
        given = dict(zip(("cond", "message"), node.args))
        for kw in node.keywords:
            if kw.arg not in ("cond", "message"):
                self.error(f"torch._check() got an unexpected keyword argument "
                           f"'{kw.arg}'", kw.value)
            if kw.arg in given:
                self.error(f"torch._check() got multiple values for argument "
                           f"'{kw.arg}'", kw.value)
            given[kw.arg] = kw.value
        if "cond" not in given:
            self.error("torch._check() missing required argument 'cond'", node)
        cond = self.expr(given["cond"])
        if not isinstance(cond.type, T.BoolType):
            self.error(f"torch._check() expects cond to be a bool, got "
                       f"{describe_type(cond.type)}", given["cond"],
                       hint="compare it, or call .item() on a one-element tensor")
        msg_node = given.get("message")
        if isinstance(msg_node, ast.Lambda) and not (
                msg_node.args.args or msg_node.args.vararg or msg_node.args.kwarg):
            msg_node = msg_node.body
        ifn = self.emit("prim::If", [cond], [])
        ifn.add_block()
        with self.in_block(ifn.add_block()):
            msg = self.const(CHECK_FAILED) if msg_node is None else self.expr(msg_node)
            if isinstance(msg.type, T.NoneType):
                msg = self.const(CHECK_FAILED)
            elif not isinstance(msg.type, T.StrType):
                self.error(f"torch._check()'s message must be a str, got "
                           f"{describe_type(msg.type)}", msg_node)
            self.emit("prim::RaiseException", [msg, self.const("builtins.RuntimeError")], [])
        return self.const(None)

    def method_on(self, recv, name, node):
        """`obj.name(...)` on an object of a script class, or an @ignore'd method of a
        module (called in Python with the ScriptModule as self). None: generic path."""
        sc = script_class_of(recv.type)
        if sc is not None:
            return self.object_method_call(recv, sc, name, node)
        fn = self._module_python_method(recv, name)
        if fn is not None:
            from .python_calls import python_call
            args, kwargs = self.call_args(node)
            return python_call(self, fn, [recv] + list(args), kwargs, node, method=True)
        return None

    def _module_python_method(self, recv, name):
        """The @ignore'd Python method `name` of the module recv stands for (module method
        compilers only), else None."""
        from ...jit.script import function_modifier
        if not isinstance(recv.type, T.ClassType) or not hasattr(self, "module_of"):
            return None
        try:
            sm = self.module_of(recv, None)
        except FrontendError:
            return None
        info = getattr(self, "ctx", None) and self.ctx.info.get(id(sm))
        if info is None or name in sm._modules:
            return None
        fn = inspect.getattr_static(type(info.module), name, None)
        if inspect.isfunction(fn) and function_modifier(fn) == "ignore":
            return fn
        return None

    def _py_object_quiet(self, node):
        """py_object, with (False, None) where it would report a missing module attribute
        (`gpujit.linear` is a registry op, not a Python attribute: the generic path)."""
        try:
            return self.py_object(node)
        except FrontendError:
            if isinstance(node, ast.Attribute):
                found, base = self.py_object(node.value)
                if found and not is_gpujit_name(getattr(base, "__name__", "")):
                    raise                 # `math.nope`: say so now
            return False, None

    def expr_Attribute(self, node):
        if not self._py_object_quiet(node)[0] and not self._py_object_quiet(node.value)[0]:
            v = self._evaluate_once(node.value)
            with self.at(node):
                if isinstance(v.type, T.NamedTupleType):
                    self._evaluated.pop(id(node.value), None)
                    refined = self.refined_field(node)
                    return refined if refined is not None else self.namedtuple_field(v, node)
                sc = script_class_of(v.type)
                if sc is not None:
                    self._evaluated.pop(id(node.value), None)
                    return self.object_attr(v, sc, node)
                field = _named_return(self, v, node.attr)
                if field is not None:
                    self._evaluated.pop(id(node.value), None)
                    return field
            try:
                return super().expr_Attribute(node)
            finally:
                self._evaluated.pop(id(node.value), None)
        return super().expr_Attribute(node)

    def builtin_call(self, name, node):
        import builtins
        if not hasattr(builtins, name):
            from .compiler import compiling_function_named, recursion_message
            if compiling_function_named(name) is not None:
                # `@script def f(n): ... f(n - 1)`: f is not bound yet while it compiles
                self.error(recursion_message(name, f"{name} -> {name}"), node.func,
                           hint="rewrite the recursion as a loop")
            self.error(f"undefined value {name}: undefined name '{name}'", node.func,
                       hint=f"define or import '{name}' before scripting, or pass it as a "
                            f"parameter")
        return super().builtin_call(name, node)

    def isinstance_types(self, node):
        """isinstance() class arguments, with script classes and NamedTuples."""
        if len(node.args) == 2 and not node.keywords:
            cls_node = node.args[1]
            items = cls_node.elts if isinstance(cls_node, ast.Tuple) else [cls_node]
            resolved = [self.py_object(it) for it in items]
            if all(found for found, _ in resolved):
                special = [self.class_isinstance_type(obj) for _, obj in resolved]
                if any(t is not None for t in special):
                    if all(t is not None for t in special):
                        return special
                    rest = [it for it, t in zip(items, special) if t is None]
                    fake = ast.Call(func=node.func, args=[node.args[0], ast.Tuple(
                        elts=rest, ctx=ast.Load())], keywords=[])
                    ast.copy_location(fake, node)
                    return [t for t in special if t is not None] + \
                        super().isinstance_types(fake)
        return super().isinstance_types(node)


def _named_return(self, v, attr):
    """`torch.topk(x, k).indices`, `x.max(dim=1).values`: a field of an op's named
    returns (SimpleValue::attr of the NamedTuple packOutputs made: its index's constant,
    then prim::TupleIndex, which the cleanup reads through); None for another value."""
    t = v.type
    if not isinstance(t, T.NamedReturnsType) or attr not in t.names:
        return None
    k = t.names.index(attr)
    return self.emit("prim::TupleIndex", [v, self.const(k)], [t.elems[k]]).output
