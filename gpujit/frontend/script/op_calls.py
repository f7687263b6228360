"""Emitting calls of registry ops from scripted code: the arguments of a call, a gpujit
function or Tensor method resolved to its overload by the arguments' IR types (calls.py
resolves), Python wrappers whose parameters differ from their op's schema
(`F.dropout(x, p, training)`), schema defaults as constants, and the Python-number ops
(aten::add.int, lt.float, ...)."""
from __future__ import annotations

import ast
import inspect

from ...ir import types as T
from ... import dtypes as _dt
from ...ops import registry as _reg
from . import calls, library_functions
from .errors import FrontendError

__all__ = ["OpCallMixin"]

_REDUCTION_ENUM = {"none": 0, "mean": 1, "sum": 2}


def _packs_varargs(pyfn, ops):
    """A Python function f(*tensors, ...) over ops whose first argument is a Tensor[]."""
    if not inspect.isfunction(pyfn):
        return False
    params = list(calls.wrapper_signature(pyfn).parameters.values())
    if not params or params[0].kind is not inspect.Parameter.VAR_POSITIONAL:
        return False
    return all(op.schema.arguments and op.schema.arguments[0].type.base == "Tensor" and
               op.schema.arguments[0].type.is_list for op in ops)


# a compare with its operands swapped
_MIRRORED = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}


class OpCallMixin:
    """ExprCompiler's registry-op calls (self is the compiler)."""

    def scalar(self, name, *args, node=None):
        """A Python-number op (aten::add.int, lt.float, neg.int, ...)."""
        from ...ops.scalar_ops import PYTHON_VALUED, EXPLICIT_ONLY
        ops = [d for d in _reg.OVERLOADS.get(f"aten::{name}", [])
               if d.name in PYTHON_VALUED and d.name not in EXPLICIT_ONLY]
        return self.emit_call(ops, list(args), {}, node, name)

    def call_args(self, node):
        return [self.call_arg(a) for a in node.args], {k.arg: self.call_arg(k.value)
                                                        for k in node.keywords}

    def call_arg(self, e):
        v = self.expr(e)
        if isinstance(e, ast.List) and not e.elts:
            v.node.meta["empty_list_literal"] = True    # calls.is_empty_list_literal
        return v

    def nested_tensor_literal(self, data, kwargs, node):
        """gpujit.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=...): the registry's aten::tensor
        takes a flat list; a nested list literal is the stack of its rows' tensors."""
        if data.node.kind != "prim::ListConstruct" or not data.node.inputs:
            return self.nested_tensor_variable(data, kwargs, node)
        rows = []
        for row in data.node.inputs:
            if isinstance(row.type.elem, T.ListType):
                rows.append(self.nested_tensor_literal(row, kwargs, node))
            else:
                rows.append(self.call_wrapper(None, "tensor", [row], dict(kwargs), node,
                                              False))
        lst = self.emit("prim::ListConstruct", rows, [T.ListType(T.TENSOR)]).output
        return self.call_op("stack", [lst], {}, node)

    def nested_tensor_variable(self, data, kwargs, node):
        """gpujit.tensor(rows) of a List[List[...]] value (a variable, not a literal): the
        stack of its rows' tensors, made in a loop; an empty outer list gives an empty
        tensor of the elements' dtype, as TorchScript (tensor([]), size [0])."""
        leaf = data.type
        while isinstance(leaf, T.ListType):
            leaf = leaf.elem
        empty = self.scalar("eq", self.len_of(data), self.const(0), node=node)
        branch = self.emit("prim::If", [empty], [T.TENSOR])
        with self.in_block(branch.add_block()), self.scope():
            none = self.emit("prim::ListConstruct", [], [T.ListType(leaf)]).output
            branch.blocks[0].register_output(
                self.call_wrapper(None, "tensor", [none], dict(kwargs), node, False))
        with self.in_block(branch.add_block()), self.scope():
            rows = self.emit("prim::ListConstruct", [], [T.ListType(T.TENSOR)]).output
            first = self.emit("aten::__getitem__", [data, self.const(0)],
                              [data.type.elem]).output
            width = self.len_of(first)

            def body(row):
                # a ragged one: TorchScript's words (its sizes are the first row's)
                ragged = self.scalar("ne", self.len_of(row), width, node=node)
                check = self.emit("prim::If", [ragged], [])
                with self.in_block(check.add_block()):
                    msg = self.emit("aten::format", [
                        self.const("Expected sequence of length {} at dim 1 (got {})"),
                        width, self.len_of(row)], [T.STR]).output
                    self.emit("prim::RaiseException",
                              [msg, self.const("builtins.RuntimeError")], [])
                check.add_block()
                if isinstance(row.type.elem, T.ListType):
                    t = self.nested_tensor_literal(row, kwargs, node)
                else:
                    t = self.call_wrapper(None, "tensor", [row], dict(kwargs), node, False)
                self.emit("aten::append", [rows, t], [rows.type])
            self.for_each(data, body, node)
            branch.blocks[1].register_output(self.call_op("stack", [rows], {}, node))
        return branch.output

    @staticmethod
    def tensor_data_refusal(data):
        """TorchScript's runtime error of torch.tensor(data) for a list whose (innermost)
        element type is not a number or bool (register_special_ops.cpp's
        checkListInputType): a literal `[]` or `[[], []]` is a List[Tensor] ("Empty lists
        default to List[Tensor]" when the list itself has no elements), `[True, 1]` a
        List[Union[int, bool]]; a union of numbers only (`[1, 2.0]`) fails in
        scalarTypeFromJitType. None when the list's type is fine."""
        leaf = data.type
        while isinstance(leaf, T.ListType):
            leaf = leaf.elem
        if isinstance(leaf, T.TensorType):
            msg = "Input must be of ints, floats, or bools, got Tensor"
            if data.node.kind == "prim::ListConstruct" and not data.node.inputs:
                msg += ("\nEmpty lists default to List[Tensor]. Add a variable annotation to "
                        "the assignment to create an empty list of another type "
                        "(torch.jit.annotate(List[T, []]) where T is the type of elements "
                        "in the list for Python 2)")
            return msg
        if isinstance(leaf, T.UnionType) and not any(isinstance(m, T.ListType)
                                                     for m in leaf.types):
            # ([[1.0], [2]], a List[Union[List[float], List[int]]], passes the check in
            # torch 2.13 and reads the ints' bits as floats; gpujit stacks its rows)
            if all(m in (T.INT, T.FLOAT) or type(m).__name__ == "ComplexType"
                   for m in leaf.types):
                return f"Add new condition, expected Float, Complex, Int, or Bool but got{leaf}"
            return f"Input must be of ints, floats, or bools, got {leaf.annotation()}"
        return None

    @staticmethod
    def ragged_literal(data):
        """TorchScript's runtime error of torch.tensor of a nested list literal that is not
        rectangular (`[[1], [2, 3]]`: "Expected sequence of length 1 at dim 1 (got 2)",
        its sizes taken from the first elements, then checked depth first, as
        ops/creation.py's _nested_sizes); None when it is, or when a row is a variable."""
        def items(v):
            if not isinstance(v.type, T.ListType):
                return False
            if v.node.kind != "prim::ListConstruct":
                return None
            return v.node.inputs
        sizes, level = [], data
        while True:
            it = items(level)
            if it is None:
                return None
            if it is False:
                break
            sizes.append(len(it))
            if not it:
                break
            level = it[0]
        stack = [(data, 0)]
        while stack:
            x, dim = stack.pop()
            it = items(x)
            if it is None:
                return None
            if dim == len(sizes):
                if it is not False:
                    return f"Expected sequence of length 0 at dim {dim} (got {len(it)})"
                continue
            if it is False or len(it) != sizes[dim]:
                got = "a number" if it is False else len(it)
                return f"Expected sequence of length {sizes[dim]} at dim {dim} (got {got})"
            stack.extend((e, dim + 1) for e in reversed(it))
        return None

    def call_wrapper(self, pyfn, name, args, kwargs, node, functional):
        """A call of gpujit.<name> / F.<name>: its op by the arguments' types, or, when
        no overload fits as written, the arguments bound by the Python function's own
        signature (F.dropout(x, p, training, inplace) -> aten::dropout(x, p, train))."""
        if name == "tensor" and not functional and "requires_grad" in kwargs:
            flag = kwargs["requires_grad"]
            if not isinstance(flag.type, T.BoolType):
                self.error(f"tensor(): requires_grad must be a bool, not {flag.type}", node)
            if len(args) == 1 and isinstance(args[0].type, T.ListType) and \
                    isinstance(args[0].type.elem, T.ListType):
                # torch.tensor(rows, requires_grad=flag): one aten::tensor node of the
                # nested list, as TorchScript's (not the stack of the rows' tensors, a
                # non-leaf); a flat list or number goes on to its own overload below
                return self.call_op("tensor", args, kwargs, node)
        if name == "tensor" and not functional and args and \
                isinstance(args[0].type, T.ListType):
            refused = self.tensor_data_refusal(args[0])
            if refused is not None:
                self.emit("prim::RaiseException", [self.const(refused),
                                                   self.const("builtins.RuntimeError")], [])
                return self.emit("prim::Uninitialized", [], [T.TENSOR]).output
        if name == "tensor" and not functional and len(args) == 1 and \
                isinstance(args[0].type, T.ListType) and \
                isinstance(args[0].type.elem, T.ListType):
            ragged = self.ragged_literal(args[0])
            if ragged is not None:
                self.emit("prim::RaiseException", [self.const(ragged),
                                                   self.const("builtins.RuntimeError")], [])
                return self.emit("prim::Uninitialized", [], [T.TENSOR]).output
            return self.nested_tensor_literal(args[0], kwargs, node)
        if name == "einsum" and len(args) > 1 and all(isinstance(a.type, T.TensorType)
                                                      for a in args[1:]):
            # torch.einsum("ij,jk->ik", a, b): the operands as the schema's Tensor[]
            args = [args[0], self.emit("prim::ListConstruct", args[1:],
                                       [T.ListType(T.TENSOR)]).output]
        if name == "norm" and not functional and not self.archive_norm(args, kwargs):
            return self.norm_call(args, kwargs, node)   # (torch.functional.norm's body)
        if not functional and name in _MIRRORED and len(args) == 2 and not kwargs and \
                isinstance(args[0].type, (T.IntType, T.FloatType)) and \
                isinstance(args[1].type, T.TensorType):
            # torch.lt(2, x): TorchScript's builtin (number, Tensor) compares call the
            # Tensor op mirrored, gt(x, 2), a bool tensor (not lt.int of IntImplicit(x))
            name, args = _MIRRORED[name], [args[1], args[0]]
        ops = calls.candidates_for_function(name, functional)
        if functional and inspect.isfunction(pyfn) and kwargs and \
                name not in library_functions.F_BUILTINS:
            # F.relu(self=x): the keywords are the Python function's (torch compiles its
            # source), not the op schema's (a C++ builtin's, F.logsigmoid(self=x), are)
            params = calls.wrapper_signature(pyfn).parameters
            if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
                for k in kwargs:
                    if k not in params:
                        self.error(f"{name}(): keyword argument {k} unknown (F.{name} takes "
                                   f"{', '.join(params)})", node)
        if name == "tensordot" and not functional and len(args) < 4 and \
                "dims_self" not in kwargs:
            args, kwargs = self.tensordot_dims(args, kwargs, node)
        elif ops and args and _packs_varargs(pyfn, ops) and \
                all(isinstance(a.type, T.TensorType) for a in args):
            # torch.block_diag(a, b), torch.meshgrid(x, y, indexing="ij"): the Python
            # function's *tensors as the schema's Tensor[]
            args = [self.emit("prim::ListConstruct", args, [T.ListType(T.TENSOR)]).output]
        if ops and inspect.isfunction(pyfn) and "inplace" not in kwargs and \
                not calls.wrapper_reorders(pyfn, ops, len(args)):
            m, _ = calls.resolve(ops, args, kwargs)
            if m is not None:
                return self.emit_call(ops, args, kwargs, node, name)
        if ops and inspect.isfunction(pyfn):
            r = calls.rebind_wrapper_call(pyfn, ops, args, kwargs, self.constant_of)
            if isinstance(r, tuple):
                kw, inplace = r
                kw = {k: v if hasattr(v, "node") else self.const(v) for k, v in kw.items()}
                if inplace:
                    out_of_place = {op.schema.arguments[0].name for op in
                                    calls.candidates_for_function(name, functional)
                                    if op.schema.arguments}
                    ops = calls.candidates_for_method(name + "_")
                    if not ops:
                        self.error(f"gpujit has no in-place '{name}_'", node)
                    first = ops[0].schema.arguments[0].name
                    for k in out_of_place - {first}:    # dropout(input, ...): dropout_(self,
                        if k in kw and first not in kw:  # ...)
                            kw[first] = kw.pop(k)
                    return self.emit_call(ops, [], kw, node, name + "_")
                return self.emit_call(ops, [], kw, node, name)
            m, _ = calls.resolve(ops, args, kwargs)
            moved = m is not None and calls.moved_parameter(pyfn, m.op, len(args))
            if moved:
                # the op's schema would take these arguments positionally as others
                # (F.max_unpool2d(x, idx, [4, 4]): kernel_size, not aten's output_size)
                self.error(f"{name}(): {r} (the op's '{moved}' is another argument of "
                           f"{name}())", node)
        return self.call_op(name, args, kwargs, node, functional=functional)

    def tensordot_dims(self, args, kwargs, node):
        """torch.tensordot(a, b, dims): a constant int n (a's last n dims with b's first
        n) or pair of dim lists, as aten::tensordot's two int lists."""
        args, kwargs = list(args), dict(kwargs)
        if len(args) >= 3:
            dims = args.pop(2)
        else:
            dims = kwargs.pop("dims", None)
        if dims is None:
            dims_v = 2
        else:
            known, dims_v = self.constant_tree(dims)
            if not known:
                self.error("torch.tensordot(): dims must be a constant in scripted code (an "
                           "int or a pair of dim lists)", node)
        if isinstance(dims_v, int):
            if dims_v < 0:
                self.error(f"tensordot expects dims >= 0, but got dims={dims_v}", node)
            da, db = list(range(-dims_v, 0)), list(range(dims_v))
        elif isinstance(dims_v, (list, tuple)) and len(dims_v) == 2:
            da, db = ([d] if isinstance(d, int) else list(d) for d in dims_v)
        else:
            self.error(f"torch.tensordot(): dims must be an int or a pair of dim lists, got "
                       f"{dims_v!r}", node)

        def int_list(vals):
            return self.emit("prim::ListConstruct", [self.const(v) for v in vals],
                             [T.ListType(T.INT)]).output
        return args[:2] + [int_list(da), int_list(db)], kwargs

    def constant_tree(self, v):
        """(True, value) for a constant or a list/tuple literal of constants."""
        if v.node.kind in ("prim::ListConstruct", "prim::TupleConstruct"):
            items = [self.constant_tree(x) for x in v.node.inputs]
            if all(k for k, _ in items):
                return True, [x for _, x in items]
            return False, None
        return self.constant_of(v)

    def device_call(self, args, kwargs, node):
        """gpujit.device("cuda", 0) of constants: a Device constant."""
        from ...device import device as _device
        consts = [self.constant_of(a) for a in list(args) + list(kwargs.values())]
        if not all(k for k, _ in consts) or any(isinstance(a.type, T.DeviceType)
                                                for a in args):
            # a str (and an int index) known at run time: aten::device / .with_index, as
            # TorchScript (torchvision's make_coords_grid: `device = torch.device(device)`)
            ops = list(_reg.OVERLOADS.get("aten::device", []))
            return self.emit_call(ops, args, kwargs, node, "device")
        vals = [c for _, c in consts]
        try:
            dev = _device(*vals[:len(args)], **dict(zip(kwargs, vals[len(args):])))
        except (TypeError, ValueError, RuntimeError) as e:
            self.error(f"gpujit.device(): {e}", node)
        return self.const(dev, T.DEVICE)

    def legacy_constructor_call(self, cls, node):
        """torch.LongTensor(...) (a legacy tensor type called), as TorchScript compiles it:
        no arguments an empty tensor, int arguments the sizes of an uninitialized one
        (aten::empty), one other argument the data (aten::tensor); of the type's dtype,
        on the type's kind of device unless a device= is given."""
        args, kwargs = self.call_args(node)
        schemas = ("Legacy Tensor Constructor only supports two schemas in TorchScript: "
                   "'new(IntArrayRef size, *, Device? device=None)', "
                   "'new(PyObject* data, *, Device? device=None)'")
        for k in kwargs:
            if k != "device":
                self.error(f"{schemas}. Got kwarg {k}", node)
        kw = {"dtype": self.const(cls.dtype, T.SCALAR_TYPE)}
        if "device" in kwargs:
            kw["device"] = kwargs["device"]
        elif cls.is_cuda:
            from ...device import device as _device
            kw["device"] = self.const(_device("cuda"), T.DEVICE)
        if not args or all(isinstance(a.type, T.IntType) for a in args):
            sizes = self.emit("prim::ListConstruct", args or [self.const(0)],
                              [T.ListType(T.INT)]).output
            return self.call_op("empty", [sizes], kw, node)
        if len(args) > 1:
            self.error(f"{schemas}. Got multiple positional arguments that were not all "
                       f"integers", node)
        return self.call_op("tensor", args, kw, node)

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
        if isinstance(value, dict) and value:
            keys = [self.constant_value(k, node) for k in value]
            vals = [self.constant_value(v, node) for v in value.values()]
            kt, vt = keys[0].type, vals[0].type
            if any(k.type != kt for k in keys) or any(v.type != vt for v in vals):
                self.error(f"the constant {value!r} mixes types", node)
            items = [x for kv in zip(keys, vals) for x in kv]
            return self.emit("prim::DictConstruct", items, [T.DictType(kt, vt)]).output
        return self.python_value(value, node)

    @staticmethod
    def constant_of(v):
        """(True, value) when v is a prim::Constant, else (False, None)."""
        if v.node.kind != "prim::Constant":
            return False, None
        return True, v.node.attrs.get("value")

    def refuse_module_class(self, node):
        """`torch.nn.ReLU(x)`: a module class called in scripted code (torch 2.13's
        words, then why)."""
        from ...nn.module import Module
        try:
            found, obj = self.py_object(node.func)
        except FrontendError:
            return
        if found and isinstance(obj, type) and issubclass(obj, Module):
            self.error(f"Cannot instantiate class '{obj.__name__}' in a script function: "
                       f"'{obj.__name__}' is a module class; scripted code calls modules "
                       f"made in __init__", node,
                       hint=f"self.m = {obj.__name__}(...) in __init__, then self.m(x) in "
                            f"forward" + (" (or its torch.nn.functional form)" if
                                          obj.__module__.startswith("gpujit.nn") else ""))

    def call_op(self, name, args, kwargs, node, method=False, functional=False):
        if name == "norm" and (not method or calls.resolve(
                calls.candidates_for_method(name), args, kwargs)[0] is None):
            # (torch.norm: torch.functional's Python function; x.norm(...) is aten::norm,
            # and where none fits, x.norm(dim=1) that torch refuses, the wrapper's norm)
            return self.norm_call(args, kwargs, node)
        if name == "normalize" and functional and \
                not calls.candidates_for_function(name, functional):
            return self.normalize_call(args, kwargs, node)
        if method:
            ops = calls.candidates_for_method(name)
            later = calls.methods_with_later_self(name) if args and "self" not in kwargs \
                else []
            if later and (not ops or calls.resolve(ops, args, kwargs)[0] is None):
                # x.polygamma(n), x.where(c, y): an op whose `self` is not its first
                # argument takes the receiver as `self` (PyTorch's method binding), the
                # rest in order
                return self.emit_call(later, *self.bind_past_self(later, args, kwargs),
                                      node, name)
        else:
            ops = calls.candidates_for_function(name, functional)
        if not ops and not method and isinstance(node, ast.Call):
            self.refuse_module_class(node)
        if not ops and functional and name in library_functions.F_UNSCRIPTABLE:
            # (torch compiles F.<name>'s Python source and fails there: its error class
            # and words, then what gpujit has)
            from .errors import NotSupportedError
            self.error(f"{library_functions.F_UNSCRIPTABLE[name]}: torch 2.13's "
                       f"F.{name} cannot be compiled (its source uses it); gpujit has no "
                       f"scripted '{name}' either", node, cls=NotSupportedError,
                       hint="call it from an @torch.jit.ignore'd method, or write the "
                            "loss out in scripted code")
        if not ops:
            where = "Tensor method" if method else "function"
            said = f"'{self.shown_type(args[0]) if args else 'Tensor'}' object has no " \
                f"attribute or method '{name}'.: " if method else ""
            self.error(f"{said}gpujit has no {where} '{name}'", node)
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
        out = None
        if "out" in kwargs and not any(
                p.name == "out" for op in ops for p in op.schema.arguments):
            out = kwargs.pop("out")       # torch.div(a, b, out=o): the op's .out overload
        if out is None:
            out = self.named_outs(ops, kwargs)
        return self.emit_call(ops, args, kwargs, node, name, out=out)

    def named_outs(self, ops, kwargs):
        """torch.max(x, 0, max=v, max_values=i), torch.sort(x, values=v, indices=i): the
        out tensors by their names in the op's .out overload (TorchScript's spelling, its
        .code's), as the tuple `out=(v, i)` is; None when kwargs name none."""
        from ...ops.out_variants import eligible, out_names
        for op in ops:
            if len(op.schema.returns) < 2 or not eligible(op):
                continue
            names = out_names(op)
            if all(n in kwargs for n in names) and not any(
                    p.name in names for p in op.schema.arguments):
                vals = [kwargs.pop(n) for n in names]
                return self.emit("prim::TupleConstruct", vals,
                                 [T.TupleType(tuple(v.type for v in vals))]).output
        return None

    @staticmethod
    def bind_past_self(ops, args, kwargs):
        """(args, kwargs) of a method call on an op whose Tensor `self` is not its first
        argument: the receiver is `self`, the other positional arguments fill the schema's
        other positional parameters in order (x.where(c, y): condition=c, other=y)."""
        params = [p.name for p in ops[0].schema.arguments
                  if not p.kwarg_only and p.name != "self"]
        if len(args) - 1 > len(params) or any(k in kwargs for k in params[:len(args) - 1]):
            return args[1:], dict(kwargs, self=args[0])     # no_match_message says why
        return [], dict(zip(params, args[1:]), self=args[0], **kwargs)

    def archive_norm(self, args, kwargs):
        """Whether `torch.norm(...)` is aten::norm: archive code's spelling of x.norm(...)
        (.code writes the builtin so), where its arguments fit one."""
        from .serialized import is_archive_code
        return is_archive_code(self) and calls.resolve(
            calls.candidates_for_method("norm"), args, kwargs)[0] is not None

    def norm_call(self, args, kwargs, node):
        """x.norm(p, dim, keepdim) / gpujit.norm: a Python wrapper in eager gpujit; its
        vector norms (p a number, or 'fro' over at most two dims) are linalg_vector_norm."""
        names = ["self", "p", "dim", "keepdim"]
        if len(args) > len(names) or any(k not in names[1:] + ["dtype"] for k in kwargs):
            self.error("norm() takes (input, p, dim, keepdim, dtype=)", node)
        bound = dict(zip(names, args), **kwargs)
        p = bound.pop("p", None)
        if p is not None:
            known, c = self.constant_of(p)
            if known and isinstance(c, str):
                dim = bound.get("dim")
                ndims = 1 if dim is None or isinstance(dim.type, T.IntType) else \
                    len(dim.node.inputs) if dim.node.kind == "prim::ListConstruct" else 3
                if c != "fro" or (dim is not None and ndims > 2):
                    self.error(f"norm(p={c!r}) is not supported in scripted code", node,
                               hint="call gpujit.linalg.matrix_norm for matrix norms")
                p = None
            elif known and c is None:
                p = None
        bound["ord"] = p if p is not None else self.const(2)
        self_v = bound.pop("self")
        ops = list(_reg.OVERLOADS.get("aten::linalg_vector_norm", []))
        return self.emit_call(ops, [self_v], bound, node, "norm")

    def normalize_call(self, args, kwargs, node):
        """F.normalize(x, p=2.0, dim=1, eps=1e-12): x / max(||x||_p along dim, eps), as
        the Python wrapper computes it."""
        names = ["input", "p", "dim", "eps"]
        if len(args) > len(names) or any(k not in names for k in kwargs):
            self.error("normalize() takes (input, p=2.0, dim=1, eps=1e-12)", node)
        bound = dict(zip(names, args), **kwargs)
        x = bound["input"]
        norm = self.norm_call([x], {"p": bound.get("p", self.const(2.0)),
                                    "dim": bound.get("dim", self.const(1)),
                                    "keepdim": self.const(True)}, node)
        den = self.call_op("clamp_min", [norm, bound.get("eps", self.const(1e-12))], {},
                           node, method=True)
        den = self.call_op("expand_as", [den, x], {}, node, method=True)
        return self.call_op("div", [x, den], {}, node)

    def emit_call(self, ops, args, kwargs, node, name, out=None):
        m, misses = calls.resolve(ops, args, kwargs)
        if m is None:
            self.error(calls.no_match_message(name, ops, misses, args, kwargs), node,
                       hint=_optional_hint(list(args) + list(kwargs.values())))
        if out is not None:
            return self.emit_out_call(m.op, m, out, node, name)
        return self.emit_op(m.op, self.op_inputs(m.op, m, node))

    def op_inputs(self, op, m, node):
        """The node inputs of op's call matched as m (calls.resolve)."""
        inputs = []
        for p, (kind, x) in zip(op.schema.arguments, m.items):
            if kind == "pack":
                lt = calls.schema_arg_type(p.type)
                if isinstance(lt.elem, (T.IntType, T.FloatType)):
                    # (a bool or number packed into an int or float list: aten::Int / aten::Float; a
                    # Tensor: aten::IntImplicit / FloatImplicit, as TorchScript converts)
                    kind = lt.elem.annotation().capitalize()
                    x = [self.scalar(kind, v, node=node)
                         if isinstance(v.type, (T.BoolType, T.NumberType)) else
                         self.tensor_as_number(v, f"{kind}Implicit")
                         if isinstance(v.type, T.TensorType) else v for v in x]
                x = self.emit("prim::ListConstruct", x, [lt]).output
            elif kind == "default":
                x = self.default_const(p, x)
            elif p.type.is_list and calls.is_empty_list_literal(x):
                et = calls.schema_arg_type(p.type)
                et = et.elem if isinstance(et, T.OptionalType) else et
                if x.type != et:
                    old, x = x, self.emit("prim::ListConstruct", [], [et]).output
                    if not old.uses:
                        old.node.destroy()
            elif p.type.base == "ScalarType" and not p.type.is_list and \
                    isinstance(x.type, T.IntType) and x.node.kind == "prim::Constant" and \
                    x.node.attrs.get("value") in _dt.SCALAR_TYPE_CODES:
                # a dtype (an int in scripted code) passed for a ScalarType: the dtype
                # constant, which graphs, .code and the fusers read as one
                old, x = x, self.const(_dt.SCALAR_TYPE_CODES[x.node.attrs["value"]],
                                       T.SCALAR_TYPE)
                x.node.source_range = old.node.source_range     # (the dtype's, as torch's)
                if not old.uses:
                    old.node.destroy()
            elif p.type.base == "Device" and not p.type.is_list and \
                    isinstance(x.type, T.StrType) and x.node.kind == "prim::Constant" and \
                    _device_constant(x.node.attrs.get("value")) is not None:
                # a device string for a Device (x.to('cpu')): TorchScript's Device
                # constant (torch.to(x, torch.device("cpu")) in .code); a string that is no
                # device stays, refused when the call runs
                old, x = x, self.const(_device_constant(x.node.attrs["value"]), T.DEVICE)
                if not old.uses:
                    old.node.destroy()
            elif isinstance(x.type, T.BoolType) and calls.bool_as_number(op, p):
                x = self.scalar(calls.bool_as_number(op, p), x, node=node)
            elif isinstance(x.type, T.TensorType) and not p.type.is_tensor:
                x = self.tensor_as_number(x, calls.tensor_as_number(op, p, any_op=True))
            elif isinstance(x.type, T.NumberType) and \
                    (conv := calls.number_as_int_or_float(op, p)):
                x = self.scalar(conv, x, node=node)
            elif p.type.is_list and isinstance(x.type, T.IntType):
                # (an int for ATen's `int[2] stride`: TorchScript's list of 2 copies,
                # F.avg_pool2d(x, 2) is avg_pool2d(x, [2, 2]); for `int[1] dim`, [d])
                x = self.emit("prim::ListConstruct", [x] * (p.type.list_size or 1),
                              [T.ListType(T.INT)]).output
            elif p.type.is_list and isinstance(x.type, T.TupleType):
                elems = x.node.inputs if x.node.kind == "prim::TupleConstruct" else \
                    self.emit("prim::TupleUnpack", [x], list(x.type.elems)).outputs
                et = calls.schema_arg_type(p.type)
                et = et.elem if isinstance(et, T.OptionalType) else et
                x = self.emit("prim::ListConstruct", list(elems), [et]).output
            inputs.append(x)
        return inputs

    def emit_out_call(self, op, m, out, node, name):
        """op's call with `out=` (PyTorch's .out overload, out_variants.py): the op's
        inputs, then the out tensor, which the node writes and returns."""
        from ...ops.out_variants import eligible, out_variant
        if not eligible(op):
            self.error(f"{name}() does not take an out= argument (keyword argument out "
                       f"unknown for {op.schema})", node)
        k = len(op.schema.returns)
        if k == 1:
            outs = [out]
        elif isinstance(out.type, T.TupleType) and len(out.type.elems) == k:
            # torch.max(x, 0, out=(v, i)): one out tensor per result
            outs = list(out.node.inputs) if out.node.kind == "prim::TupleConstruct" else \
                self.emit("prim::TupleUnpack", [out], list(out.type.elems)).outputs
        else:
            self.error(f"Expected a value of type 'Tuple[{', '.join(['Tensor'] * k)}]' for "
                       f"argument 'out' but instead found type '{out.type}'", node)
        for o in outs:
            if not isinstance(o.type, T.TensorType):
                self.error(f"Expected a value of type 'Tensor' for argument 'out' but "
                           f"instead found type '{o.type}'", node)
        inputs = self.op_inputs(op, m, node)
        result = self.emit_op(out_variant(op), inputs + outs)
        if k > 1 and out.node.kind == "prim::TupleConstruct" and not out.uses:
            out.node.destroy()          # (the tuple literal's elements were taken apart)
        return result

    def emit_op(self, op, inputs):
        rets = [calls.schema_arg_type(r.type) for r in op.schema.returns]
        n = self.emit(op.schema.name, inputs, rets, op=op)
        if len(rets) == 1:
            # an op's ScalarType result (torch.result_type) is an int in scripted code
            return self.as_dtype_int(n.output)
        if not rets:
            return self.const(None)       # an op returning nothing (aten::manual_seed)
        names = tuple(r.name for r in op.schema.returns)
        # (torch's packOutputs: the tuple of named returns is a NamedTuple, x.max(0).values)
        t = T.NamedReturnsType(tuple(rets), names) if all(names) else T.TupleType(tuple(rets))
        return self.emit("prim::TupleConstruct", n.outputs, [t]).output

    def tensor_as_number(self, x, kind):
        """aten::<kind> (IntImplicit, FloatImplicit, ScalarImplicit) of a Tensor passed for
        a number argument, as TorchScript's graph has it (the op itself refuses a tensor
        that requires grad when it runs, as its kernel does)."""
        t = {"IntImplicit": T.INT, "FloatImplicit": T.FLOAT}.get(kind, T.NUMBER)
        ops = _reg.OVERLOADS[f"aten::{kind}"]
        return self.emit(f"aten::{kind}", [x], [t], op=ops[0]).output

    def default_const(self, p, value):
        """A schema default the call leaves out, as a constant with no source range (as
        TorchScript's: its line shows no `# file:line:col`)."""
        saved, self.cur = self.cur, None
        try:
            return self._default_const(p, value)
        finally:
            self.cur = saved

    def _default_const(self, p, value):
        t = calls.schema_arg_type(p.type)
        if value is None:       # (TorchScript's filled-in None is a NoneType constant)
            return self.const(None)
        if isinstance(value, tuple):
            et = t.elem if isinstance(t, T.OptionalType) else t
            return self.const(list(value), et)
        if isinstance(value, str) and isinstance(t, T.IntType) and value in _REDUCTION_ENUM:
            return self.const(_REDUCTION_ENUM[value])      # `int reduction=Mean`
        if value == "long" and isinstance(
                t.elem if isinstance(t, T.OptionalType) else t, T.ScalarTypeType):
            # `ScalarType? dtype=long` (randint, randperm, tril_indices): torch.int64, as
            # .code writes it back (the string "long" did not compile again)
            return self.const(_dt.int64)
        if isinstance(value, str) and p.type.base == "MemoryFormat" and \
                value in _MEMORY_FORMATS:
            # (`MemoryFormat memory_format=contiguous_format`: TorchScript's int code, as
            # torch.channels_last is 2 in scripted code)
            return self.const(_MEMORY_FORMATS[value])
        if isinstance(value, str) and not isinstance(t, T.StrType):
            return self.const(value, T.STR)
        return self.const(value)


# c10::MemoryFormat's codes, as TorchScript's constants hold them
_MEMORY_FORMATS = {"contiguous_format": 0, "preserve_format": 1, "channels_last": 2,
                   "channels_last_3d": 3}


def _optional_hint(values):
    """The usual cause of a mismatch with an Optional argument, said as a fix."""
    opt = next((v for v in values if isinstance(v.type, T.OptionalType)), None)
    if opt is None:
        return None
    from ...ir.python_exprs import _base_name
    name = _base_name(opt.debug_name) if opt.has_debug_name() else "the value"   # x, not x.3
    return (f"{name} is {opt.type.annotation()} and may be None: test `if {name} is not "
            f"None:` (or assert it) before using it")


def _device_constant(text):
    """The device a constant string names, or None (not a device string)."""
    from ...device import device
    try:
        return device(text)
    except (RuntimeError, ValueError, TypeError):
        return None
