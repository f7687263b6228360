"""Calls from scripted code back into Python: `@gpujit.jit.ignore` functions and methods.

    @gpujit.jit.ignore
    def debug_hook(x: Tensor) -> Tensor:      # any Python: pdb, numpy, printing, ...
        ...

    %y : Tensor = prim::PythonOp[name="debug_hook"](%x)

The node holds the Python callable in `node.meta["python"]` (the graph text names it);
at run time the interpreter and the generated code call it with the arguments as eager
code holds them (Tensors). Its result is typed by the function's return annotation (an
unannotated one is a Tensor, as TorchScript assumes); annotated parameters are checked
at compile time, unannotated ones take any value. A PythonOp is an opaque call: it has
side effects, so passes neither drop nor merge it.

`@ignore(drop=True)` and `@unused` compile to a raise (`dropped_call`): the code stays in
the Python class or module but scripted code that reaches the call fails clearly.

A graph holding a PythonOp cannot be saved: the archive never holds Python code.
`python_ops_in(graph)` lists them (callees included) and `check_no_python_ops` raises
the error save() shows.
"""
from __future__ import annotations

import ast
import inspect

from ...ir import types as T
from .calls import describe_type
from .errors import FrontendError

__all__ = ["python_call", "dropped_call", "dropped_raise", "python_ops_in",
           "check_no_python_ops", "PYTHON_OP", "PythonOpError"]

PYTHON_OP = "prim::PythonOp"


class PythonOpError(RuntimeError):
    """A graph that calls Python (@ignore) was asked to do what needs pure graphs (save)."""


def _types_of(fn, skip_self):
    """([(name, Type or None)], return Type) from fn's annotations (None: any value)."""
    from .signatures import function_globals
    from .types import annotation_type
    env = function_globals(fn)
    sig = inspect.signature(fn)
    params = []
    for i, p in enumerate(sig.parameters.values()):
        if skip_self and i == 0:
            continue
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            params.append((p.name, "*"))
            continue
        # (unannotated: a Tensor, as TorchScript reads every unannotated parameter)
        t = T.TENSOR if p.annotation is inspect.Parameter.empty else \
            annotation_type(p.annotation, env)
        params.append((p.name, t))
    ret = sig.return_annotation
    rt = T.TENSOR if ret is inspect.Signature.empty else annotation_type(ret, env)
    return sig, params, rt


def _qualname(fn):
    return getattr(fn, "__qualname__", getattr(fn, "__name__", "python_fn")).replace(
        ".<locals>", "")


def python_call(c, fn, args, kwargs, node, method=False):
    """prim::PythonOp calling fn (self first when method) from compiler c."""
    what = _qualname(fn)
    try:
        sig, params, ret = _types_of(fn, skip_self=method)
    except FrontendError as e:
        c.error(f"the annotations of the @ignore'd '{what}' are not TorchScript types: "
                f"{e.args[0]}", node)
    leading = list(args[:1]) if method else []
    args = list(args[1:]) if method else list(args)
    if any(t == "*" for _, t in params):
        if kwargs:
            c.error(f"'{what}' takes *args / **kwargs; call it with positional arguments "
                    f"only from scripted code", node)
        values = args
    else:
        names = [n for n, _ in params]
        if len(args) > len(names):
            c.error(f"'{what}' takes {len(names)} arguments but {len(args)} were given", node)
        values = list(args)
        for k, v in kwargs.items():
            if k not in names:
                c.error(f"'{what}' got an unexpected keyword argument '{k}'", node)
            if names.index(k) < len(args):
                c.error(f"'{what}' got multiple values for argument '{k}'", node)
        plist = [p for i, p in enumerate(sig.parameters.values()) if not (method and i == 0)]
        last = max([len(args) - 1] + [names.index(k) for k in kwargs])
        for i in range(len(args), last + 1):
            p = plist[i]
            if p.name in kwargs:
                values.append(kwargs[p.name])
            elif p.default is not inspect.Parameter.empty:
                values.append(c.constant_value(p.default, node))
            else:
                c.error(f"Argument {p.name} not provided: '{what}' is missing argument "
                        f"'{p.name}'", node)
        unannotated = {p.name for p in plist if p.annotation is inspect.Parameter.empty}
        for i, (v, (pname, t)) in enumerate(zip(values, params)):
            if t is not None and not (v.type.is_subtype_of(t) or (
                    isinstance(v.type, T.TensorType) and isinstance(t, T.TensorType))):
                c.error(f"argument '{pname}' (argument {i + 1}) of '{what}' expects "
                        f"{describe_type(t)}, got {describe_type(v.type)}", node,
                        hint="annotate the parameter (an unannotated one is a Tensor)"
                        if pname in unannotated else None)
    n = c.emit(PYTHON_OP, leading + values, [ret], attrs={"name": what})
    n.meta["python"] = fn
    return n.output


# what a call of an @unused / @ignore(drop=True) function or method raises (a RuntimeError,
# in the words and the .code of torch 2.13: ops.prim.RaiseException(msg), no class)
DROPPED_MESSAGE = "This Python function is annotated to be ignored and cannot be run"


def dropped_call(c, fn, what, node):
    """A call of an @unused / @ignore(drop=True) function: a raise; its (never produced)
    value has the function's annotated return type."""
    try:
        _, _, ret = _types_of(fn, skip_self=False)
    except FrontendError:
        ret = T.TENSOR
    return dropped_raise(c, ret, node)


def dropped_raise(c, ret, node=None):
    """The raise a dropped function's or method's call (node) is, then its value (the
    type ret). The statements after it are compiled and dropped (passes/raise_exits.py),
    as TorchScript's exit transform drops them. It raises TorchScript's error, its frame
    underlining the function called (`self.helper`), as torch 2.13's."""
    args = [c.const(DROPPED_MESSAGE), c.const(None)]
    for v in args:          # (TorchScript's constants of the raise show no source range)
        v.node.source_range = None
    raised = c.emit("prim::RaiseException", args, [])
    if node is not None and isinstance(node, ast.Call):
        c.mark_raise(raised, node.func)
    return c.emit("prim::Uninitialized", [], [ret]).output


def python_ops_in(graph, _seen=None) -> list:
    """The prim::PythonOp nodes of graph and of the graphs it calls (prim::CallFunction /
    prim::CallMethod callees, fusion subgraphs)."""
    seen = _seen if _seen is not None else set()
    if id(graph) in seen:
        return []
    seen.add(id(graph))
    out = []
    for n in graph.walk():
        if n.kind == PYTHON_OP:
            out.append(n)
        callee = n.meta.get("callee")
        callee = getattr(callee, "graph", callee)
        if callee is not None and hasattr(callee, "walk"):
            out += python_ops_in(callee, seen)
        if n.kind == "prim::CallMethod" and callee is None and n.inputs:
            g = (getattr(n.inputs[0].type, "methods", None) or {}).get(n.attrs.get("name"))
            if g is not None:
                out += python_ops_in(getattr(g, "graph", g), seen)
    return out


def check_no_python_ops(graph, what="this model"):
    """Raise PythonOpError when graph calls Python (what save() cannot store)."""
    ops = python_ops_in(graph)
    if not ops:
        return
    lines = [f"{what} cannot be saved: its compiled code calls Python functions marked "
             f"@gpujit.jit.ignore, and an archive holds no Python code:"]
    for n in ops:
        sr = n.source_range
        where = f"  ({sr.filename}:{sr.line})" if sr is not None else ""
        lines.append(f"  {n.attrs.get('name')}{where}")
    lines.append("  Hint: mark them @gpujit.jit.unused (the call then raises in the saved "
                 "model), or make them scriptable and remove @ignore")
    raise PythonOpError("\n".join(lines))
