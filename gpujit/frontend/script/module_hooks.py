"""Forward hooks and pre-hooks of scripted modules, as TorchScript compiles them.

A module's `register_forward_pre_hook(fn)` / `register_forward_hook(fn)` hooks (Python
functions taking the module as `self`) are compiled, when the module is scripted, as
methods of it named after the function. Calling the module — `scripted(x)` from Python
or `self.sub(x)` in scripted code — runs them around forward as eager does:

    pre-hook(self, input: Tuple[...]) -> None | Tuple[...] | a single value
    forward(*input)
    hook(self, input: Tuple[...], output) -> None | a new output

while `scripted.forward(x)` / `self.sub.forward(x)` runs forward alone. The hooks'
annotations are checked against forward's signature (and each forward hook's output
against the previous hook's result) with TorchScript's messages. Hooks registered with
`with_kwargs=True` or `always_call=True` are refused.
"""
from __future__ import annotations

import inspect
from collections import OrderedDict

from ...ir import types as T
from .errors import FrontendError, lambda_error

__all__ = ["compile_hooks", "HookCallMixin"]


def _ann(t) -> str:
    return "None" if isinstance(t, T.NoneType) else t.annotation()


class _CompiledPreHook:
    """A scripted module's pre-hook as Module.__call__ runs it: the compiled method."""

    def __init__(self, name):
        self.name = name

    def __call__(self, module, args):
        return module._script_methods[self.name](args)


class _CompiledHook:
    def __init__(self, name):
        self.name = name

    def __call__(self, module, args, output):
        return module._script_methods[self.name](args, output)


def _hooks_of(mod):
    pre = list(mod.__dict__.get("_forward_pre_hooks", {}).items())
    post = list(mod.__dict__.get("_forward_hooks", {}).items())
    if mod.__dict__.get("_forward_pre_hooks_with_kwargs") or \
            mod.__dict__.get("_forward_hooks_with_kwargs") or \
            mod.__dict__.get("_forward_hooks_always_called"):
        raise FrontendError(f"hooks of {type(mod).__name__} registered with "
                            f"with_kwargs=True or always_call=True cannot be scripted")
    return [fn for _, fn in pre], [fn for _, fn in post]


def compile_hooks(ctx, mod, sm):
    """Compile mod's forward pre-hooks and hooks as methods of sm (after its forward);
    record their names in sm._script_hooks and install callers of the compiled methods
    as sm's own hooks, so that calling sm from Python runs them too."""
    pre, post = _hooks_of(mod)
    if not pre and not post:
        return
    cls = type(mod).__qualname__
    if "forward" not in sm._script_methods:
        raise FrontendError(f"{cls} has hooks but no forward to script")
    seen = {}
    for kind, fns in (("Pre-hook", pre), ("Hook", post)):
        for fn in fns:
            if not inspect.isfunction(fn):
                raise FrontendError(f"{kind} {fn!r} on module '{cls}' is not a Python function; "
                                    f"scripted modules take functions as hooks")
            name = fn.__name__
            if name == "<lambda>":
                raise lambda_error(fn)
            if name not in seen and (name in sm._script_methods or inspect.isfunction(
                    getattr(type(mod), name, None))):
                raise FrontendError(f"Can't define hook: {name} on class: {cls} because a "
                                    f"method or hook with that name already exists.")
            if seen.get(name, fn) is not fn:
                raise FrontendError(f"{kind} '{name}' on module '{cls}' has at least two different "
                                    f"python definitions. Please use unique names for all "
                                    f"hooks.")
            seen[name] = fn
    fwd = sm._script_methods["forward"].graph
    in_types = tuple(v.type for v in fwd.inputs[1:])
    outs = [v.type for v in fwd.outputs]
    out_t = outs[0] if len(outs) == 1 else T.TupleType(tuple(outs))
    for fn in pre:
        _check_pre_hook(fn, sm, cls, in_types)
        ctx.method_graph(sm, fn.__name__, fn=fn)
    for fn in post:
        _check_hook(fn, sm, cls, in_types, out_t)
        graph = ctx.method_graph(sm, fn.__name__, fn=fn)
        ret = graph.outputs[0].type if len(graph.outputs) == 1 else \
            T.TupleType(tuple(v.type for v in graph.outputs))
        if not isinstance(ret, T.NoneType):
            out_t = ret
    object.__setattr__(sm, "_script_hooks", ([f.__name__ for f in pre],
                                             [f.__name__ for f in post]))
    if sm._type is not None:     # (code calls them as TorchScript prints a hook's call)
        object.__setattr__(sm._type, "hooks", frozenset(f.__name__ for f in pre + post))
    sm._forward_pre_hooks = OrderedDict(
        (k, _CompiledPreHook(f.__name__)) for k, f in enumerate(pre))
    sm._forward_hooks = OrderedDict((k, _CompiledHook(f.__name__)) for k, f in enumerate(post))


def _param_types(fn, sm):
    from .signatures import signature_types
    params, ret = signature_types(fn, self_type=sm._type)
    return [t for _, t in params[1:]], ret


def _input_tuple(kind, name, cls, t):
    if not isinstance(t, T.TupleType):
        raise FrontendError(f"{kind} '{name}' on module '{cls}' expected the input argument to be "
                            f"typed as a Tuple but found type: '{_ann(t)}' instead.")


def _check_pre_hook(fn, sm, cls, in_types):
    name = fn.__name__
    n = len(inspect.signature(fn).parameters)
    if n != 2:
        raise FrontendError(f"Pre-hook '{name}' on module '{cls}' was expected to only have exactly "
                            f"2 inputs but it had {n} inputs")
    if inspect.signature(fn).return_annotation is inspect.Signature.empty:
        raise FrontendError(f"Pre-hook '{name}' on module '{cls}' is missing a return annotation. "
                            f"Return annotations are required, please add one.")
    (t,), ret = _param_types(fn, sm)
    _input_tuple("Pre-hook", name, cls, t)
    want = T.TupleType(in_types)
    if not want.is_subtype_of(t):
        raise FrontendError(f"Pre-hook '{name}' on module '{cls}' has the wrong inner types for the "
                            f"input tuple argument. Received type: '{_ann(t)}'. Expected "
                            f"type: '{_ann(want)}'.")
    if ret is None or isinstance(ret, T.NoneType) or ret.is_subtype_of(want) or (
            len(in_types) == 1 and ret.is_subtype_of(in_types[0]) and
            not isinstance(in_types[0], T.TupleType)):
        return
    if len(in_types) == 1 and isinstance(in_types[0], T.TupleType):
        raise FrontendError(f"Pre-hook '{name}' on module '{cls}' returned the wrong type: "
                            f"'{_ann(ret)}'. When forward has a single tuple input argument, "
                            f"the return needs to be 'None' or a nested tuple containing "
                            f"forward's input tuple argument as in: '{_ann(want)}'")
    raise FrontendError(f"Pre-hook '{name}' on module '{cls}' returned the wrong type of: "
                        f"'{_ann(ret)}'. The return needs to be 'None', '{_ann(want)}'"
                        + (f" or '{_ann(in_types[0])}'" if len(in_types) == 1 else ""))


def _check_hook(fn, sm, cls, in_types, out_t):
    name = fn.__name__
    n = len(inspect.signature(fn).parameters)
    if n != 3:
        raise FrontendError(f"Hook '{name}' on module '{cls}' was expected to only have exactly 3 "
                            f"inputs but it had {n} inputs")
    (t, o), _ = _param_types(fn, sm)
    _input_tuple("Hook", name, cls, t)
    want = T.TupleType(in_types)
    if len(t.elems) != len(in_types):
        raise FrontendError(f"Hook '{name}' on module '{cls}' has the wrong number of contained "
                            f"types for the input argument's Tuple. Received type: "
                            f"'{_ann(t)}'. Expected type: '{_ann(want)}'.")
    if not want.is_subtype_of(t):
        raise FrontendError(f"Hook '{name}' on module '{cls}' has the wrong inner types for the input "
                            f"tuple argument. Received type: '{_ann(t)}'. Expected type: "
                            f"'{_ann(want)}'.")
    if not out_t.is_subtype_of(o):
        raise FrontendError(f"Hook '{name}' on module '{cls}' has the wrong type for the output "
                            f"argument. Received type: '{_ann(o)}'. Expected type: "
                            f"'{_ann(out_t)}'.")


class HookCallMixin:
    """ModuleMethodCompiler's part for calling a module (`self.sub(x)`): its compiled
    pre-hooks, forward and hooks (it provides ctx, module_of, call_args,
    class_method_call and emit_method_call)."""

    def call_module(self, v, node):
        if isinstance(v.type, T.InterfaceType):
            return self.class_method_call(v, "forward", node)
        sm = self.module_of(v, node)
        hooks = sm.__dict__.get("_script_hooks")
        if not hooks:
            return self.class_method_call(v, "forward", node)
        pre, post = hooks
        args, kwargs = self.call_args(node)
        if kwargs:
            self.error(f"a module with hooks ({sm.original_name}) is called with positional "
                       f"arguments only in scripted code", node)

        def tup(vals):
            return self.emit("prim::TupleConstruct", list(vals),
                             [T.TupleType(tuple(a.type for a in vals))]).output

        for name in pre:
            graph = self.ctx.method_graph(sm, name, node, self)
            r = self.emit_method_call(v, name, graph, [tup(args)])
            if isinstance(r.type, T.NoneType):
                continue
            if isinstance(r.type, T.TupleType):
                args = [self.emit("prim::TupleIndex", [r, self.const(k)], [et]).output
                        for k, et in enumerate(r.type.elems)]
            else:
                args = [r]
        inp = tup(args)
        self._evaluated_args = (node, list(args), {})
        out = self.class_method_call(v, "forward", node)
        for name in post:
            graph = self.ctx.method_graph(sm, name, node, self)
            r = self.emit_method_call(v, name, graph, [inp, out])
            if not isinstance(r.type, T.NoneType):
                out = r
        return out
