"""Autograd in scripted code, as TorchScript compiles it:

    torch.autograd.grad(outputs, inputs, grad_outputs=None, retain_graph=None,
                        create_graph=False, allow_unused=False)
        -> %g : Tensor?[] = aten::grad(%outputs, %inputs, %grad_outputs, ...)
    torch.autograd.backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False)
    x.backward(gradient=None, retain_graph=None, create_graph=False)
        -> aten::backward(%tensors : Tensor[], %grad_tensors : Tensor?[]?, ...)
    x.requires_grad_(requires_grad=True)
        -> %y : Tensor = aten::requires_grad_(%x, %flag)      (y is x)
    x.detach_()
        -> %y : Tensor = aten::detach_(%x)                     (y is x, cut from the graph)
    x.retain_grad()
        -> aten::retain_grad(%x)                               (keeps x.grad at backward)
    torch.tensor(data, ..., requires_grad=True)
        -> aten::tensor.<kind>(...) then aten::requires_grad_

The nodes have no registry op (their arguments are Tensors with their autograd history,
not arrays): the interpreter runs them (runtime/interpreter.py), and a function whose
graph holds one runs node by node through the recording ops on every call
(jit/objects.py), as eager code would, so the tensors it computes record what these
calls differentiate. They have side effects (ir/schema_match.SIDE_EFFECT_KINDS): never
dropped, merged or moved past one another. `.code` prints them back as written above.
"""
from __future__ import annotations

from ...ir import types as T
from ...ir.schema_match import AUTOGRAD_KINDS

__all__ = ["AUTOGRAD_KINDS", "autograd_function", "compile_autograd_call",
           "compile_tensor_backward", "compile_requires_grad_", "compile_detach_",
           "compile_retain_grad",
           "with_requires_grad"]

_GRAD_PARAMS = ("outputs", "inputs", "grad_outputs", "retain_graph", "create_graph",
                "allow_unused")
_BACKWARD_PARAMS = ("tensors", "grad_tensors", "retain_graph", "create_graph")
_TENSOR_BACKWARD_PARAMS = ("gradient", "retain_graph", "create_graph")


def autograd_function(obj):
    """"grad" / "backward" when obj is gpujit.autograd.grad / .backward, else None."""
    from ... import autograd
    if obj is autograd.grad:
        return "grad"
    if obj is autograd.backward:
        return "backward"
    return None


def _bind(c, node, params, values, what):
    if len(values) > len(params):
        c.error(f"{what}() takes at most {len(params)} arguments "
                f"({', '.join(params)})", node)
    bound = dict(zip(params, values))
    for k in node.keywords:
        if k.arg not in params:
            c.error(f"{what}() got an unexpected keyword argument '{k.arg}'", node)
        if k.arg in bound:
            c.error(f"{what}() got multiple values for argument '{k.arg}'", node)
        bound[k.arg] = c.expr(k.value)
    return bound


def _tensor_list(c, v, node, what, optional_elems=False):
    """A Tensor, a tuple of Tensors or a list of Tensors as a Tensor[] value."""
    t = v.type
    elem = T.OptionalType(T.TENSOR) if optional_elems else T.TENSOR
    if isinstance(t, T.TensorType):
        return c.emit("prim::ListConstruct", [v], [T.ListType(elem)]).output
    if isinstance(t, T.ListType) and (isinstance(t.elem, T.TensorType) or (
            optional_elems and isinstance(t.elem, T.OptionalType)
            and isinstance(t.elem.elem, T.TensorType))):
        return v
    if isinstance(t, T.TupleType) and all(
            isinstance(e, T.TensorType) or (optional_elems and isinstance(e, (T.NoneType,
                                                                             T.OptionalType)))
            for e in t.elems):
        elems = v.node.inputs if v.node.kind == "prim::TupleConstruct" else \
            c.emit("prim::TupleUnpack", [v], list(t.elems)).outputs
        return c.emit("prim::ListConstruct", list(elems), [T.ListType(elem)]).output
    c.error(f"{what} takes a Tensor or a list or tuple of Tensors, not "
            f"{t.annotation() if hasattr(t, 'annotation') else t}", node)


def _optional(c, bound, name, default, check, node, what):
    v = bound.get(name)
    if v is None:
        return c.const(default, T.NONE if default is None else None)
    if not check(v.type):
        c.error(f"{what}(): '{name}' must be {check.__doc__}, not {v.type}", node)
    return v


def _bool(t):
    """a bool"""
    return isinstance(t, T.BoolType)


def _opt_bool(t):
    """a bool or None"""
    return isinstance(t, (T.BoolType, T.NoneType)) or (
        isinstance(t, T.OptionalType) and isinstance(t.elem, T.BoolType))


def _grad_list(c, bound, name, node, what):
    v = bound.get(name)
    if v is None or isinstance(v.type, T.NoneType):
        return c.const(None, T.NONE)
    return _tensor_list(c, v, node, f"{what}(): '{name}'", optional_elems=True)


def compile_autograd_call(c, which, node):
    """torch.autograd.grad(...) / torch.autograd.backward(...) in scripted code."""
    what = f"torch.autograd.{which}"
    args = [c.expr(a) for a in node.args]
    if which == "grad":
        b = _bind(c, node, _GRAD_PARAMS, args, what)
        if "outputs" not in b or "inputs" not in b:
            c.error(f"{what}() needs outputs and inputs", node)
        ins = [_tensor_list(c, b["outputs"], node, f"{what}(): 'outputs'"),
               _tensor_list(c, b["inputs"], node, f"{what}(): 'inputs'"),
               _grad_list(c, b, "grad_outputs", node, what),
               _optional(c, b, "retain_graph", None, _opt_bool, node, what),
               _optional(c, b, "create_graph", False, _bool, node, what),
               _optional(c, b, "allow_unused", False, _bool, node, what)]
        return c.emit("aten::grad", ins, [T.ListType(T.OptionalType(T.TENSOR))]).output
    b = _bind(c, node, _BACKWARD_PARAMS, args, what)
    if "tensors" not in b:
        c.error(f"{what}() needs the tensors to differentiate", node)
    return _emit_backward(c, _tensor_list(c, b["tensors"], node, f"{what}(): 'tensors'"),
                          _grad_list(c, b, "grad_tensors", node, what), b, node, what)


def _emit_backward(c, tensors, grads, b, node, what):
    ins = [tensors, grads, _optional(c, b, "retain_graph", None, _opt_bool, node, what),
           _optional(c, b, "create_graph", False, _bool, node, what)]
    c.emit("aten::backward", ins, [])
    return c.const(None, T.NONE)


def compile_tensor_backward(c, self_v, node):
    """x.backward(gradient=None, retain_graph=None, create_graph=False)."""
    what = "Tensor.backward"
    b = _bind(c, node, _TENSOR_BACKWARD_PARAMS, [c.expr(a) for a in node.args], what)
    tensors = _tensor_list(c, self_v, node, what)
    g = b.get("gradient")
    if g is None or isinstance(g.type, T.NoneType):
        grads = c.const(None, T.NONE)
    else:
        grads = _tensor_list(c, g, node, f"{what}(): 'gradient'", optional_elems=True)
    return _emit_backward(c, tensors, grads, b, node, what)


def compile_requires_grad_(c, self_v, node):
    """x.requires_grad_(requires_grad=True)."""
    b = _bind(c, node, ("requires_grad",), [c.expr(a) for a in node.args],
              "Tensor.requires_grad_")
    flag = _optional(c, b, "requires_grad", True, _bool, node, "Tensor.requires_grad_")
    return with_requires_grad(c, self_v, flag)


def with_requires_grad(c, v, flag):
    return c.emit("aten::requires_grad_", [v, flag], [v.type]).output


def compile_detach_(c, self_v, node):
    """x.detach_(): x cut from the autograd graph in place (a leaf without grad)."""
    _bind(c, node, (), [c.expr(a) for a in node.args], "Tensor.detach_")
    return c.emit("aten::detach_", [self_v], [self_v.type]).output


def compile_retain_grad(c, self_v, node):
    """x.retain_grad(): x.grad kept at a later backward (aten::retain_grad, no result:
    None, as TorchScript's `retain_grad(Tensor(a!) self) -> ()`)."""
    _bind(c, node, (), [c.expr(a) for a in node.args], "Tensor.retain_grad")
    c.emit("aten::retain_grad", [self_v], [])
    return c.const(None, T.NONE)
