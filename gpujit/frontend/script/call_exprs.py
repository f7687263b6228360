"""Calls in scripted expressions (`f(...)`), decided by what is called: registry ops and
gpujit functions, Python functions compiled from source, methods of values, modules'
functions (`torch.relu`, `F.softmax`, `torch.ops.aten.add`), builtins, `warnings.warn`,
`torch.jit.annotate`, script classes and the Python objects object_exprs.py knows."""
from __future__ import annotations

import ast
import collections
import inspect
import itertools
import warnings

from ... import _tensor_types
from ...ir import types as T
from ...ops import registry as _reg
from ...ops.namespace import OpOverload, OpOverloadPacket, _OpNamespace
from ...ops.scalar_ops import EXPLICIT_ONLY, PYTHON_VALUED
from . import autograd_calls, function_calls, future_calls, library_functions, serialized
from .calls import describe_type, is_gpujit_name
from .errors import NotSupportedError
from .variables import Var

__all__ = ["CallExprMixin", "plain_data"]

# Tensor methods scripted as the gpujit function of the same name with the tensor first:
# their bool flags choose what they return (TorchScript's boolean dispatch)
_FUNCTION_METHODS = frozenset({"unique", "unique_consecutive"})

# x.float() / x.long() / ...: x.to(<dtype>) (Tensor methods eager code has in Python;
# TorchScript 2.13 has no x.bool() / x.bfloat16(): "'Tensor' object has no attribute or
# method 'bool'.")
_CAST_METHODS = {"float": "float32", "double": "float64", "half": "float16",
                 "long": "int64", "int": "int32", "short": "int16", "char": "int8",
                 "byte": "uint8", "cfloat": "complex64", "cdouble": "complex128"}
_STAR_TEMPS = itertools.count()

# annotate(number / int / float, tensor): the conversion TorchScript inserts
_IMPLICIT = {T.NumberType: "aten::ScalarImplicit", T.IntType: "aten::IntImplicit",
             T.FloatType: "aten::FloatImplicit"}


def _prim_device_to(args, kw):
    """Whether scripted x.to(*args, **kw) is torch's to.prim_Device: a device (or device
    string) first, no dtype given or one that may be None, no memory_format."""
    if not args or len(args) > 4 or "memory_format" in kw or "device" in kw or \
            not isinstance(args[0].type, (T.DeviceType, T.StrType)):
        return False
    dt = args[1] if len(args) > 1 else kw.get("dtype")
    return dt is None or isinstance(dt.type, (T.NoneType, T.OptionalType))


class CallExprMixin:
    """ExprCompiler's calls (self is the compiler)."""

    def unstar_call(self, node):
        """`f(a, *tup)`: the call with the tuple's elements as arguments, as TorchScript
        unpacks a starred tuple (its length is in its type); a starred value that is not
        a tuple is refused with TorchScript's words."""
        args = []
        for a in node.args:
            if not isinstance(a, ast.Starred):
                args.append(a)
                continue
            v = self.expr(a.value)
            if isinstance(v.type, T.ListType):
                self.error("cannot statically infer the expected size of a list in this "
                           "context", a, hint="unpack a tuple, whose length is known")
            if not isinstance(v.type, T.TupleType):
                self.error(f"{v.type.annotation()} cannot be used as a tuple", a,
                           hint="only a tuple can be unpacked into call arguments")
            tmp = f"$star{next(_STAR_TEMPS)}"   # not a Python name: never collides
            self.scopes[-1][tmp] = Var(v, a)
            for k in range(len(v.type.elems)):
                args.append(ast.copy_location(ast.Subscript(
                    value=ast.copy_location(ast.Name(id=tmp, ctx=ast.Load()), a),
                    slice=ast.copy_location(ast.Constant(value=k), a), ctx=ast.Load()), a))
        call = ast.copy_location(ast.Call(func=node.func, args=args, keywords=node.keywords),
                                 node)
        ast.fix_missing_locations(call)
        return call

    def expr_Call(self, node):
        if any(isinstance(a, ast.Starred) for a in node.args):
            node = self.unstar_call(node)            # f(*tup): f(tup[0], tup[1], ...)
        func = node.func
        if any(k.arg is None for k in node.keywords):
            # (TorchScript's NotSupportedError and words)
            self.error("keyword-arg expansion is not supported: **kwargs in a call", node,
                       cls=NotSupportedError, hint="pass each keyword argument explicitly")
        if self.is_annotate(func):
            if len(node.args) != 2 or node.keywords:
                self.error("annotate() takes a type and a value", node,
                           hint="annotate(List[int], [])")
            t = self.annotation(node.args[0])
            v = self.expr(node.args[1], expected=t)
            implicit = _IMPLICIT.get(type(t))
            if implicit is not None and isinstance(v.type, T.TensorType):
                # annotate(number, t) of a tensor: its value, aten::ScalarImplicit (as
                # TorchScript converts; its printer writes the conversions so)
                return self.emit(implicit, [v], [t], op=_reg.OPS[implicit]).output
            if not (v.type.is_subtype_of(t) or (isinstance(v.type, T.TensorType)
                                                and isinstance(t, T.TensorType))):
                self.error(f"annotate() says {t.annotation()} but the value is "
                           f"{describe_type(v.type)}", node)
            if isinstance(t, (T.OptionalType, T.UnionType)) and isinstance(v.type, T.NoneType):
                return self.const(None, t)     # annotate(Optional[T], None): typed None
            if isinstance(t, T.UnionType) and not isinstance(t, T.OptionalType) and \
                    v.type != t:
                # annotate(Union[List[int], int], an_int): the Union's value (the printer
                # writes an if's Union output fed a refined value so)
                return self.as_declared(v, t)
            return v
        found, obj = self.callee_object(func)
        if found and autograd_calls.autograd_function(obj) is not None:
            return autograd_calls.compile_autograd_call(
                self, autograd_calls.autograd_function(obj), node)
        if found and future_calls.is_future_function(obj):
            return future_calls.compile_future_call(self, obj, node)
        if found and future_calls.is_untyped_future_function(obj):
            future_calls.refuse_untyped_future_function(self, obj, node)
        if found and obj is warnings.warn or _is_torch_warn(self, func):
            return self.warn_call(node)
        if found and _is_unwrap_optional(obj):
            return self.unwrap_optional_call(node)
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
            if found and inspect.ismodule(owner) and is_gpujit_name(owner.__name__):
                return self.module_call(owner, func.attr, node)
            if found and inspect.ismodule(owner) and \
                    not _user_callable(getattr(owner, func.attr, None)):
                self.error(f"calls into module '{owner.__name__}' are not supported",
                           node, hint="use gpujit functions")
            # (else `helpers.f(x)`: a function or class of a user's module, compiled as
            # a call of f, as TorchScript resolves a Python module's attribute)
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
                self_v = self.call_arg(func.value)   # (`[].count(x)`: an empty list literal)
                if isinstance(self_v.type, T.TensorType) and func.attr in _FUNCTION_METHODS:
                    return self.function_method_call(self_v, func, node)
                if isinstance(self_v.type, T.ClassType):
                    return self.class_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.TensorType) and func.attr == "backward":
                    return autograd_calls.compile_tensor_backward(self, self_v, node)
                if isinstance(self_v.type, T.TensorType) and func.attr == "requires_grad_":
                    return autograd_calls.compile_requires_grad_(self, self_v, node)
                if isinstance(self_v.type, T.TensorType) and func.attr == "detach_":
                    return autograd_calls.compile_detach_(self, self_v, node)
                if isinstance(self_v.type, T.TensorType) and func.attr == "retain_grad":
                    return autograd_calls.compile_retain_grad(self, self_v, node)
                if isinstance(self_v.type, T.TensorType):
                    args, kw = self.call_args(node)
                    # x.type(...) is x.to(...) in TorchScript (x.type() is torch.to(x), the
                    # tensor itself; x.type(torch.float64) torch.to(x, 7); x.type("...") a
                    # Device string); eager x.type() is its type's name
                    attr = "to" if func.attr == "type" else func.attr
                    if func.attr in _CAST_METHODS and not args and not kw:
                        from ... import dtypes as _dt       # x.float(): x.to(float32)
                        dt = self.const(getattr(_dt, _CAST_METHODS[func.attr]), T.SCALAR_TYPE)
                        return self.call_op("to", [self_v, dt], {}, node, method=True)
                    if attr == "to" and "memory_format" in kw and len(args) <= 2:
                        # x.to(dtype | device [, dtype], memory_format=...): the arguments
                        # by name (to.dtype / to.device take memory_format, as TorchScript's)
                        kinds = [("dtype" if isinstance(a.type, (T.ScalarTypeType, T.IntType))
                                  else "device" if isinstance(a.type, (T.DeviceType, T.StrType))
                                  else None) for a in args]
                        if None not in kinds and len(set(kinds)) == len(kinds) and not (
                                set(kinds) & set(kw)):
                            kw = dict(kw, **dict(zip(kinds, args)))
                            return self.call_op("to", [self_v], kw, node, method=True)
                    if attr == "to" and _prim_device_to(args, kw):
                        # x.to(device [, None]): torch 2.13's to.device needs a dtype, so
                        # TorchScript resolves this to to.prim_Device (5 inputs, no
                        # memory_format), as its graph shows
                        return self.emit_call([_reg.get("aten::to.prim_Device")],
                                              [self_v] + args, kw, node, "to")
                    return self.call_op(attr, [self_v] + args, kw, node, method=True)
                if isinstance(self_v.type, T.ListType):
                    return self.list_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.DictType):
                    return self.dict_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.SetType):
                    return self.set_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.StrType):
                    return self.str_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.GeneratorType):
                    return self.generator_method_call(self_v, func.attr, node)
                if isinstance(self_v.type, T.FutureType) and func.attr == "wait" and \
                        not node.args and not node.keywords:     # fut.wait(): aten::wait
                    return self.emit("aten::wait", [self_v], [self_v.type.elem]).output
                if isinstance(self_v.type, T.OptionalType):     # (as TorchScript: refine first)
                    self.error(f"'{self_v.type.annotation()}' object has no attribute or "
                               f"method '{func.attr}'.: "
                               f"{describe_type(self_v.type)} has no method '{func.attr}': it "
                               f"may be None; refine it first (`if {ast.unparse(func.value)} is "
                               f"not None:` or `assert {ast.unparse(func.value)} is not None`)",
                               node)
                t = self_v.type
                lead = f"'{t.name if isinstance(t, T.NamedTupleType) else t.annotation()}' " \
                       f"object has no attribute or method '{func.attr}'.: "
                self.error(f"{lead}{describe_type(self_v.type)} has no method '{func.attr}' in "
                           f"scripted code yet", node)
        if isinstance(func, ast.Name) and self.is_builtin(func.id):
            return self.builtin_call(func.id, node)
        found, obj = self.py_object(func)
        if found:
            target = function_calls.boolean_dispatch(obj, node, self._constant_flag)
            if target is function_calls.NOT_LITERAL:
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
            hint = "call gpujit functions, tensor methods or builtins"
            if isinstance(fv.type, T.TupleType) and fv.type.elems and all(
                    isinstance(e, T.ClassType) for e in fv.type.elems):
                # self.seq[1:](x): a slice of a Sequential / ModuleList is a tuple of
                # its modules in TorchScript, not a Sequential (torch 2.13 refuses too)
                hint = ("a slice of an nn.Sequential / nn.ModuleList is a tuple of modules "
                        "in scripted code; call them in a loop: `for m in "
                        f"{ast.unparse(func)}: x = m(x)`, or make the slice a Sequential "
                        "submodule in __init__")
            self.error(f"cannot call a value of type '{fv.type.annotation()}'", func,
                       hint=hint)
        if found and inspect.isclass(obj):
            from ...jit.script import function_modifier
            if function_modifier(obj) in ("ignore", "drop"):
                self.error(f"Cannot instantiate class '{obj.__name__}' in a script "
                           f"function: it is marked @ignore", func)
        if found and not inspect.isclass(obj):
            from ...jit.script import function_modifier
            call = inspect.getattr_static(type(obj), "__call__", None)
            if inspect.isfunction(call) and function_modifier(call) in ("ignore",):
                # a Python object whose __call__ is @torch.jit.ignore'd: Python runs it
                from .python_calls import python_call
                args, kwargs = self.call_args(node)
                return python_call(self, obj.__call__, args, kwargs, node)
        if found and inspect.isclass(obj):
            self.refuse_module_class(node)      # Block()(x): a module class (op_calls)
        if found:
            from .classes import lacks_init
            if lacks_init(obj):         # (torch 2.13's words)
                self.error(f"Class {obj.__name__} does not have an __init__ function "
                           f"defined", func, hint=f"give {obj.__name__} an __init__")
        hint = "call gpujit functions, tensor methods or builtins"
        owner = self.py_object(func.value) if isinstance(func, ast.Attribute) else (0, 0)
        if owner[0] and inspect.isclass(owner[1]) and isinstance(
                inspect.getattr_static(owner[1], func.attr, None), classmethod):
            # Block.make(x) of a @classmethod (torch 2.13 refuses it too: it binds x to
            # cls); self.make(x) in the module's methods compiles
            hint = (f"'{ast.unparse(func)}' is a @classmethod: call it on the module, "
                    f"self.{func.attr}(...)")
        self.error(f"calling '{ast.unparse(func)}' is not supported yet", func, hint=hint)

    def call_object(self, obj, func, node):
        """The call `node` of the Python object obj (a global function, a registry
        function, a scripted function, or a module's function attribute), or None when
        scripted code cannot call it."""
        if function_calls.compiled_from_source(obj):
            return self.call_python_function(function_calls.script_source(obj), node)
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
        if function_calls.is_compiled_function(obj):
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
                not is_gpujit_name(getattr(obj, "__module__", "")):
            return self.call_python_function(obj, node)
        if callable(obj) and is_gpujit_name(getattr(obj, "__module__", "")):
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

    def generator_method_call(self, g, name, node, args=None, kwargs=None):
        """`g.manual_seed(n)`, `g.seed()`, `g.initial_seed()` of a Generator value: the
        registry's ops whose first argument is a Generator (TorchScript's
        aten::manual_seed.generator, aten::seed, aten::initial_seed)."""
        ops = [d for d in _reg.OVERLOADS.get(f"aten::{name}", [])
               if d.schema.arguments and d.schema.arguments[0].type.base == "Generator"]
        if not ops:
            methods = sorted({d.name.split("::")[1].split(".")[0]
                              for d in _reg.OPS.values() if d.schema.arguments and
                              d.schema.arguments[0].type.base == "Generator"})
            self.error(f"a Generator has no method '{name}' in scripted code", node,
                       hint="supported: " + ", ".join(methods))
        if args is None:
            args, kwargs = self.call_args(node)
        return self.emit_call(ops, [g, *args], kwargs, node, name)

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
            target = function_calls.boolean_dispatch(target, node, self._constant_flag)
        if target is function_calls.NOT_LITERAL:
            self.error(f"'{name}': its bool flags must be literals (True/False) in "
                       f"scripted code: they decide the type it returns", node)
        # (archive code's torch.cdist is the op: torch writes a Python function's call as
        # __torch__.torch.functional.cdist, its body's torch.cdist(x1, x2, p, 1) as the op)
        if function_calls.compiled_from_source(target) and not (
                archive and getattr(owner, "__name__", "") == "gpujit" and
                f"aten::{name}" in _reg.OVERLOADS):
            return self.call_python_function(function_calls.script_source(target), node)
        if isinstance(target, _tensor_types.tensortype):   # torch.LongTensor(...)
            return self.legacy_constructor_call(target, node)
        name, owner = function_calls.alias_target(owner, name)   # special.expit: sigmoid
        functional = owner.__name__.endswith("nn.functional")
        args, kwargs = self.call_args(node)
        if functional and not archive:
            # torch's F.<name> is compiled, and its signature converts no int to a float
            # (F.hardtanh(x, 0, 6.0)): torch's refusal, where the op would take the int
            refused = library_functions.number_argument_refusal(name, args, kwargs)
            if refused is not None:
                self.error(refused, node)
            if name == "hardtanh":
                self.hardtanh_bounds_check(args, kwargs)
        if name == "device" and owner.__name__ == "gpujit":
            return self.device_call(args, kwargs, node)
        if owner.__name__ == "gpujit" and args and isinstance(args[0].type, T.GeneratorType):
            # torch.manual_seed(g, n), as .code writes g.manual_seed(n)
            return self.generator_method_call(args[0], name, node, args[1:], kwargs)
        if not functional and not kwargs:
            v = self.container_kind_call(name, args, node)    # torch.sorted(xs, ...)
            if v is not None:
                return v
        return self.call_wrapper(getattr(owner, name, None), name, args, kwargs,
                                 node, functional)

    def hardtanh_bounds_check(self, args, kwargs):
        """F.hardtanh's own check, which TorchScript compiles with the function (the op
        aten::hardtanh has none): `if min_val > max_val: raise ValueError(...)`."""
        bounds = list(args[1:3])
        for i, (key, default) in enumerate((("min_val", -1.0), ("max_val", 1.0))):
            if len(bounds) <= i:
                bounds.append(kwargs.get(key) or self.const(default))
        lo, hi = bounds
        los, his = self.constant_of(lo), self.constant_of(hi)
        if los[0] and his[0] and not los[1] > his[1]:
            return
        bad = self.emit("aten::gt", [lo, hi], [T.BOOL]).output
        branch = self.emit("prim::If", [bad], [])
        with self.in_block(branch.add_block()):
            self.emit("prim::RaiseException", [
                self.const("min_val cannot be greater than max_val"),
                self.const("builtins.ValueError")], [])
        branch.add_block()

    def unwrap_optional_call(self, node):
        """`torch.jit._unwrap_optional(x)`: x narrowed from Optional[T] to T, raising
        "Unwrapping null optional" when it is None (TorchScript's aten::_unwrap_optional);
        a value that cannot be None is x itself."""
        if len(node.args) != 1 or node.keywords:
            self.error("_unwrap_optional() takes one argument", node)
        v = self.expr(node.args[0])
        if isinstance(v.type, T.NoneType):
            self.error("_unwrap_optional() of None: the value is always None", node)
        if not isinstance(v.type, T.OptionalType):
            return v
        is_none = self.emit("aten::__is__", [v, self.const(None)], [T.BOOL]).output
        branch = self.emit("prim::If", [is_none], [])
        with self.in_block(branch.add_block()):
            self.emit("prim::RaiseException", [self.const("Unwrapping null optional"),
                                               self.const("builtins.RuntimeError")], [])
        branch.add_block()
        return self.emit("prim::unchecked_cast", [v], [v.type.elem]).output

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


def plain_data(obj) -> bool:
    """Numbers, strs, None, and non-empty tuples / lists / dicts of them."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return True
    if type(obj) in (tuple, list):
        return bool(obj) and all(plain_data(x) for x in obj)
    if type(obj) is dict:
        return bool(obj) and all(plain_data(k) and plain_data(v) for k, v in obj.items())
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


def _is_unwrap_optional(obj) -> bool:
    from ...jit.script import _unwrap_optional
    return obj is _unwrap_optional


def _is_torch_warn(c, func):
    """`torch.warn(message, stacklevel)`: what .code prints for aten::warn."""
    if not (isinstance(func, ast.Attribute) and func.attr == "warn"):
        return False
    found, owner = c.py_object(func.value)
    return found and inspect.ismodule(owner) and owner.__name__ == "gpujit"


def _user_callable(obj) -> bool:
    """Is obj, an attribute of a non-gpujit Python module, something scripted code may
    call as TorchScript would (a function or class of the user's, or a scripted one)?"""
    if obj is None or (getattr(obj, "__module__", None) or "").split(".")[0] in (
            "torch", "numpy", "cupy", "builtins"):
        return False
    return inspect.isfunction(obj) or inspect.isclass(obj) or \
        type(obj).__name__ in ("ScriptFunction", "StrongFunctionPtr")
