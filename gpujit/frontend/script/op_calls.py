"""Emitting calls of registry ops from scripted code: the arguments of a call, a gpujit
function or Tensor method resolved to its overload by the arguments' IR types (calls.py
resolves), Python wrappers whose parameters differ from their op's schema
(`F.dropout(x, p, training)`), schema defaults as constants, and the Python-number ops
(aten::add.int, lt.float, ...)."""
from __future__ import annotations

import inspect

from ...ir import types as T
from ...ops import registry as _reg
from . import calls

__all__ = ["OpCallMixin"]


class OpCallMixin:
    """ExprCompiler's registry-op calls (self is the compiler)."""

    def scalar(self, name, *args, node=None):
        """A Python-number op (aten::add.int, lt.float, neg.int, ...)."""
        from ...ops.scalar_ops import PYTHON_VALUED
        ops = [d for d in _reg.OVERLOADS.get(f"aten::{name}", []) if d.name in PYTHON_VALUED]
        return self.emit_call(ops, list(args), {}, node, name)

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
