"""`gpujit.trace` / `gpujit.trace_module`: record a run into a graph, wrap it in a
ScriptFunction or TracedModule, and check the trace against re-traces and eager runs."""
from __future__ import annotations

import inspect
import warnings

from ..frontend import tracer as _tr
from ..frontend import trace_hooks as _th
from ..frontend import trace_boundary as _tb
from ..frontend import trace_calls as _calls
from ..frontend import trace_fixup_numbers as _fixup_numbers
from ..frontend.tracer import TracerWarning
from ..nn.module import Module
from ..passes.dce import eliminate_dead_code
from ..tensor import Tensor
from .objects import ScriptFunction, ScriptModule
from .script_module import add_traced_graphs, traced_module_from
from .trace_check import TracingCheckError, check as _check, clone_inputs

__all__ = ["trace", "trace_module", "TracingCheckError", "TracerWarning", "is_tracing",
           "jit_disabled"]


def jit_enabled() -> bool:
    """The JIT's switch (jit/_state.py): off, script and trace hand back the original
    function or module, to debug in Python."""
    from ._state import _enabled
    return _enabled.enabled


def jit_disabled() -> bool:
    return not jit_enabled()


def is_tracing() -> bool:
    s = _tr.current_session()
    return s is not None and not s.paused


def _as_tuple(example_inputs):
    """The positional arguments example_inputs stands for, as torch.jit.trace reads it: a
    Tensor or a dict is the one argument, a tuple the arguments, and any other sequence
    (a list) is taken as the tuple of its elements."""
    if isinstance(example_inputs, tuple):
        return example_inputs
    if isinstance(example_inputs, (Tensor, dict)) or not isinstance(
            example_inputs, (list, range)) and not hasattr(example_inputs, "__iter__"):
        return (example_inputs,)
    return tuple(example_inputs)


def _distinct(a, seen):
    """a with each repeated Tensor replaced by a view of it (as torch's tracer does), so
    `trace(f, (x, x))` records f's two parameters as two graph inputs."""
    if isinstance(a, Tensor):
        if id(a) in seen:
            a = a.view(tuple(a.shape))
        seen.add(id(a))
        return a
    if isinstance(a, (tuple, list)):
        elems = [_distinct(x, seen) for x in a]
        if hasattr(a, "_fields"):              # a namedtuple: its fields as arguments
            return type(a)(*elems)
        return type(a)(elems)
    if isinstance(a, dict):
        return {k: _distinct(x, seen) for k, x in a.items()}
    return a


def _positional_names(fn):
    """The names of fn's positional-or-keyword parameters: the ones a traced function
    takes its inputs by (torch's get_callable_argument_names)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]


def _kwarg_inputs(fn, what, args, kwargs, module):
    """The keyword example inputs in the order of fn's parameters (the order the traced
    function takes them in), after checking each names a parameter the trace can take."""
    names = _positional_names(fn)
    if module:          # (torch's check, before the module runs)
        for k in kwargs:
            if k not in names:
                # (torch 2.13's words, a line break and its source's indent included,
                # "forward()" whatever the method)
                raise NameError(f"'{k}' is not in forward() method's arguments,\n"
                                f"{' ' * 25}valid arguments name are [{','.join(names)}]")
    else:
        try:
            inspect.signature(fn).bind_partial(*args, **kwargs)
        except ValueError:
            pass
        except TypeError as e:
            # (Python's own words, as the call would have raised them)
            raise TypeError(f"{getattr(fn, '__qualname__', what)}() {e}") from None
        for k in kwargs:
            if k not in names:
                raise NameError(
                    f"'{k}' is not a positional-or-keyword argument of {what}(): a traced "
                    f"function takes its inputs by position, so keyword-only and **kwargs "
                    f"arguments cannot be example_kwarg_inputs (valid argument names are "
                    f"[{','.join(names)}])")
    return {n: kwargs[n] for n in names if n in kwargs}


def _trace_graph(target, inputs, strict, module=None, method="forward", types=None,
                 kwargs=None, force_outplace=False, method_counts=None):
    """Run target(*inputs, **kwargs) under a TraceSession; the top graph and the
    session. The graph's inputs are the positional inputs, then the keyword ones in the
    order of the function's parameters. method_counts: the submodule calls recorded by
    the methods traced before (trace_module's)."""
    session = _tr.TraceSession(module)
    session.force_outplace = force_outplace
    if method_counts is not None:
        session.method_counts = method_counts
    if types is not None:
        session.module_types = types
    rec = _tr.Recorder(session, module, session.module_type(module) if module is not None
                       else None)
    if module is None:
        rec.graph._unique = -1      # (torch's traced function numbers its values from %0)
    session.recorders.append(rec)
    fn = getattr(module, method) if module is not None else target
    if module is not None and method == "forward":
        fn_for_names = type(module).forward.__get__(module)
    else:
        fn_for_names = fn
    names = _tb._param_names(fn_for_names, len(inputs))
    if isinstance(fn, ScriptFunction):
        # (a compiled function traced: torch 2.13's inputs are unnamed, `%0`, printed
        # `argument_0`)
        names = [None] * len(inputs)
    if kwargs:
        kwargs = _kwarg_inputs(fn_for_names, method if module is not None else
                               getattr(fn, "__name__", "the traced function"),
                               inputs, kwargs, module is not None)
        names = names + list(kwargs)
        inputs = tuple(inputs) + tuple(kwargs.values())
    # a parameter or buffer given as an input too (trace(m, m.weight)) is an input apart
    # from the attribute: the graph reads the attribute where the module uses it
    seen = {k for k, path in session.attr_paths.items() if path} if module is not None \
        else set()
    inputs = _distinct(inputs, seen)
    for a in inputs:
        try:
            _tb.input_type(a)
        except RuntimeError as e:
            if "cannot be traced" in str(e) and kwargs:
                # (torch 2.13's words where example_kwarg_inputs were given: the type of
                # the first leaf that is no tensor)
                raise RuntimeError(
                    f"Only tensors or (possibly nested) dict or tuples of tensors can be "
                    f"inputs to traced functions. Got "
                    f"{type(_non_tensor_leaf(inputs)).__name__}") from None
            if "cannot be traced" in str(e):     # (torch names the whole argument tuple)
                raise RuntimeError(
                    f"Type '{_tb._type_words(tuple(inputs))}' cannot be traced. Only Tensors "
                    f"and (possibly nested) Lists, Dicts, and Tuples of Tensors can be "
                    f"traced") from None
            raise
    for name, a in zip(names, inputs):
        _tb.bind_input(rec, name, a)
    if kwargs:
        kwargs = dict(zip(kwargs, inputs[len(inputs) - len(kwargs):]))
        inputs = inputs[:len(inputs) - len(kwargs)]
    with _th.tracing(session):
        if module is not None and method == "forward":
            out = module(*inputs, **(kwargs or {}))
        else:
            out = fn(*inputs, **(kwargs or {}))
    if out is None:
        raise RuntimeError("The traced function didn't return any values! Side-effects are "
                           "not captured in traces, so it would be a no-op.")
    _tb.check_output(out, strict)
    rec.graph.register_output(_tb.output_value(rec, out, strict))
    # (torch's numbers, worked out from the calls inline before they fold)
    numbers = _fixup_numbers.plan(rec, session, module) if module is not None else None
    if module is not None:
        _fixup_numbers.global_names(session)
    # submodule calls become method calls (trace_calls.py), outermost first
    for r in [rec] + session.call_recorders:
        _calls.fold_calls(r)
    # as TorchScript's tracer: what nothing uses and has no effect goes (the size() reads
    # of a shape check, constants of dead nodes); each submodule's graph too
    eliminate_dead_code(rec.graph)
    for sub_rec in session.call_recorders:
        if module is not None:
            # (numbered with its dead nodes: torch numbers the call's block before its
            # cleanup passes drop them)
            _fixup_numbers.number_method(sub_rec.graph, nested=len(sub_rec.callers) > 1)
        eliminate_dead_code(sub_rec.graph)
    if module is not None:
        if not _fixup_numbers.apply(numbers, rec.graph):
            _number_as_torch(rec.graph)
        _fixup_numbers.name_call_getattrs(numbers, session)
        _name_selves([rec] + session.call_recorders)
    return rec.graph, session


def _name_selves(recs):
    """The `self` inputs of a traced method's graph and of its submodule calls' graphs
    named as torch 2.13's one trace names them, in the order the calls began: each new
    `self` displaces the last, so all but the last are `self.1`, `self.3`, `self.5` ...
    (`graph(%self.1 : __torch__.M, ...)`, its Linear's `%self.3`)."""
    selves = [r.self_value for r in recs if r.self_value is not None
              and r.graph.inputs and r.graph.inputs[0] is r.self_value
              and not isinstance(r.module, ScriptModule)]   # (a compiled call makes none)
    for k, v in enumerate(selves[:-1]):
        v.graph.take_name(v, f"self.{2 * k + 1}")


def _number_as_torch(graph):
    """A traced module's graph numbered as torch 2.13's tracer numbers it: its inputs from
    %0 (self first), two numbers the tracer takes for itself, then every value in order
    (a Linear's `%6 = aten::linear(%input, %weight, %bias)`; gpujit's own numbering had
    the parameters' GetAttr chains numbered at their first use)."""
    n = len(graph.inputs) + 2
    for i, v in enumerate(graph.inputs):
        v.unique = i
    for v in list(graph.all_values())[len(graph.inputs):]:
        v.unique = n
        n += 1
    graph._unique = n - 1


def _example_pair(example, is_kwarg):
    """(positional inputs, keyword inputs) of one method's example (or check) inputs."""
    if is_kwarg and isinstance(example, dict):
        return (), example
    return _as_tuple(example), {}


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """Trace a function or module into a ScriptFunction / TracedModule (torch.jit.trace).
    example_kwarg_inputs (a dict) gives inputs by keyword, alone or after example_inputs;
    the traced function takes them by position (in the order of the function's
    parameters) or by keyword, and check_inputs are then dicts of keyword inputs too."""
    if jit_disabled():
        return func
    if isinstance(func, ScriptModule):
        warnings.warn("The input to trace is already a ScriptModule, tracing it is a no-op. "
                      "Returning the object as is.")
        return func
    owner = getattr(func, "__self__", None)
    module = func if isinstance(func, Module) else owner if (
        isinstance(owner, Module) and getattr(func, "__name__", "") == "forward") else None
    if example_kwarg_inputs is not None and not isinstance(example_kwarg_inputs, dict):
        raise (RuntimeError if module is not None else TypeError)(
            f"example_kwarg_inputs should be a dict (got "
            f"{type(example_kwarg_inputs).__name__})")
    is_kwarg = example_kwarg_inputs is not None
    if example_inputs is None and not is_kwarg:
        raise ValueError("trace() needs example_inputs (a tuple of Tensors or a Tensor) or "
                         "example_kwarg_inputs (a dict)")
    pair = (() if example_inputs is None else _as_tuple(example_inputs),
            dict(example_kwarg_inputs or {}))
    checks = None if check_inputs is None else [
        _example_pair(c, is_kwarg) for c in check_inputs]
    if module is not None:
        return _trace_module(module, {"forward": pair}, check_trace,
                             None if checks is None else [{"forward": c} for c in checks],
                             check_tolerance, strict, _force_outplace)
    if isinstance(owner, Module):
        raise AttributeError("trace doesn't support compiling individual module's "
                             "functions.\nPlease use trace_module")
    if not callable(func):
        raise TypeError(f"trace() expects a function or an nn.Module, got "
                        f"{type(func).__name__}")
    graph, session = _trace_graph(func, pair[0], strict, kwargs=pair[1],
                                  force_outplace=_force_outplace)
    name = getattr(func, "__name__", "traced_fn")
    if name == "<lambda>":
        name = "_lambda"        # (torch 2.13's: `def _lambda(a: Tensor,`, `t.name`)
    fn = ScriptFunction(graph, name, func)
    # the graph's inputs are the example inputs, all given in every call: the Python
    # function's defaults are none of its (PyTorch's traced function has none either, and
    # one the archive cannot hold, `cfg=Config()`, made jit.save fail)
    fn._defaults = {}
    if check_trace:
        # PyTorch checks the check_inputs when given, else the example inputs
        _check(lambda a, k: _trace_graph(func, a, strict, kwargs=k,
                                         force_outplace=_force_outplace)[0], fn, func,
               checks if checks is not None else [pair], check_tolerance)
    return fn


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None,
                 check_tolerance=1e-5, strict=True, _force_outplace=False,
                 _module_class=None, _compilation_unit=None, example_inputs_is_kwarg=False,
                 _store_inputs=True):
    """Trace methods of a module: `inputs` maps method name -> example inputs (with
    example_inputs_is_kwarg, a dict of keyword inputs each); check_inputs is a list of
    such maps."""
    if jit_disabled():
        return mod
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    pairs = {m: _example_pair(e, example_inputs_is_kwarg) for m, e in inputs.items()}
    checks = None if check_inputs is None else [
        {m: _example_pair(e, example_inputs_is_kwarg) for m, e in c.items()}
        for c in check_inputs]
    return _trace_module(mod, pairs, check_trace, checks, check_tolerance, strict,
                         _force_outplace)


def _has_exports(mod) -> bool:
    """torch._jit_internal.module_has_exports: a method of mod's class is @export."""
    from .script import function_modifier
    return any(function_modifier(fn) == "export" for _, fn in
               inspect.getmembers(type(mod), inspect.isfunction))


def _check_entry(c, method):
    if method not in c:         # (PyTorch's words for a check input without the method)
        raise RuntimeError(f"Method '{method}' is not defined.")
    return c[method]


def traced_module_types(m, types: dict | None = None) -> dict:
    """id(module) -> ClassType for the modules torch.jit.trace mirrors from m, made in
    torch's order: each registration's children before it (TracedModule's constructor
    makes its submodules' TracedModules first), so of two C()s under a P the first
    C's Linear is `Linear`, the second's `___torch_mangle_0.Linear`, the second C
    `___torch_mangle_1.C`. A module registered under two names gets a TracedModule, and a
    type name, per name (the first one's type serves both here); compiled children are
    kept, with no new type. With `types` None only the names are spent: the retrace of
    each check_trace input makes (and drops) a new type for every module."""
    out = {}

    def visit(mod, ancestors):
        if isinstance(mod, ScriptModule) or id(mod) in ancestors:
            return
        ancestors = ancestors | {id(mod)}
        for c in mod._modules.values():
            if c is not None:
                visit(c, ancestors)
        if types is None or id(mod) in out:
            _tr._new_type_name(_tr.qualified_class_name(mod))
        else:
            out[id(mod)] = _tr.class_type_for(mod)

    visit(m, frozenset())
    if types is not None:
        types.update(out)
    return out


def _trace_module(mod, pairs, check_trace, checks, check_tolerance, strict,
                  force_outplace=False):
    for sub in mod.modules():           # (PyTorch refuses them when it copies the module)
        if getattr(sub, "_backward_hooks", None):
            raise ValueError("Modules that have backward hooks assigned can't be compiled: "
                             + str(sub))
    types = traced_module_types(mod, {})
    graphs = {}
    # (as torch 2.13's, a submodule's calls count on across the methods traced: a second
    # method's first call of it is `forward1`, its first method having made `forward`)
    counts, counts_before = {}, {}
    ctx = None
    if _has_exports(mod):
        # torch's make_module: a module with @export methods is scripted with them
        # first (create_script_module), a submodule method they call compiled from its
        # Python source under its own name; the trace then names its calls of that
        # submodule after the first free name (`fe.forward` scripted: `forward1`)
        from ..frontend.script.modules import _Context
        ctx = _Context()
        tm = traced_module_from(mod, {}, types, ctx=ctx)
        for method in pairs:        # (trace_module of an @export method: torch's words)
            if method in tm._script_methods:
                raise RuntimeError(f"method '{tm._type.name}.{method}' already defined.")
        for info in ctx.info.values():
            if "forward" in info.sm._script_methods:
                counts[id(info.module)] = 1
    for method, (args, kwargs) in pairs.items():
        if method != "forward" and not callable(getattr(mod, method, None)):
            raise AttributeError(f"'{type(mod).__name__}' object has no attribute "
                                 f"'{method}'")
        counts_before[method] = dict(counts)
        graph, session = _trace_graph(None, args, strict, mod, method, types, kwargs,
                                      force_outplace, counts)
        graphs.setdefault(id(mod), {})[method] = graph
        for sub, rec in session.module_graphs.values():
            if rec.method_name is None and getattr(rec, "partial_out", False):
                continue        # (its result no graph output: no method of it)
            graphs.setdefault(id(sub), {}).setdefault("forward", rec.graph)
        for sub, name, graph in session.extra_methods:
            graphs.setdefault(id(sub), {}).setdefault(name, graph)
    if ctx is None:
        tm = traced_module_from(mod, graphs, types)
    else:
        add_traced_graphs(ctx, graphs)
    if check_trace:
        sets = checks if checks is not None else [pairs]
        for method in pairs:
            for _ in sets:
                traced_module_types(mod)    # (the names torch's retraces spend)
            _check(_retrace_all(mod, method, sets, strict, types, force_outplace,
                                counts_before[next(iter(pairs))]),
                   # (forward is checked against the module's call: its hooks run too)
                   tm._method(method), mod if method == "forward" else getattr(mod, method),
                   [_check_entry(c, method) for c in sets], check_tolerance)
    return tm


def _retrace_all(mod, method, sets, strict, types, force_outplace, counts0):
    """The retrace of `method` for _check, one call per check set in order: as torch's
    _check_trace (a trace_module of the whole check dict) it traces every method the set
    names, in order, so a BatchNorm that another method calls counts those runs too."""
    it = iter(sets)

    def retrace(a, k):
        c = next(it)
        counts, graph = dict(counts0), None
        for m, pair in c.items():
            args, kwargs = (a, k) if m == method else \
                (clone_inputs(pair[0]), clone_inputs(pair[1]))
            g = _trace_graph(None, args, strict, mod, m, types, kwargs, force_outplace,
                             counts)[0]
            if m == method:
                graph = g
        return graph
    return retrace


def _non_tensor_leaf(x):
    """The first value in x (through lists, tuples and dicts' values) that is no Tensor;
    _ALL_TENSORS where every leaf is one."""
    if isinstance(x, Tensor):
        return _ALL_TENSORS
    if isinstance(x, (list, tuple, dict)):
        for e in (x.values() if isinstance(x, dict) else x):
            r = _non_tensor_leaf(e)
            if r is not _ALL_TENSORS:
                return r
        return _ALL_TENSORS
    return x


_ALL_TENSORS = object()


def _get_trace_graph(f, args=(), kwargs=None, strict=True, _force_outplace=False,
                     return_inputs=False, _return_inputs_states=False):
    """torch.jit._get_trace_graph (what ONNX export and TensorBoard's add_graph read): the
    trace of one run of f(*args, **kwargs) as one graph, calls inlined, its inputs unnamed
    (%0, ...): the arguments' tensors, then for a module its parameters and buffers (as
    torch's ONNXTracedModule passes them); and what the run returned."""
    args = args if isinstance(args, tuple) else (args,)
    kwargs = kwargs or {}
    got = []
    if isinstance(f, Module):
        handle = f.register_forward_hook(lambda m, i, o: got.append(o))
        try:
            traced = trace(f, args, check_trace=False, strict=strict,
                           _force_outplace=_force_outplace,
                           example_kwarg_inputs=kwargs or None)
        finally:
            handle.remove()
        graph = _state_as_inputs(traced.inlined_graph.copy(), f)
    else:
        def run(*a, **k):
            got.append(f(*a, **k))
            return got[-1]
        run.__signature__ = inspect.signature(f)
        traced = trace(run, args, check_trace=False, strict=strict,
                       _force_outplace=_force_outplace, example_kwarg_inputs=kwargs or None)
        graph = traced.graph.copy()
    for v in graph.inputs:
        v.set_debug_name(None)
    for n in graph.walk():
        n.scope = None          # (torch's graph here records no module scopes)
    for i, v in enumerate(list(graph.all_values())):
        v.unique = i            # (numbered afresh in order: inputs %0, %1 ...)
    graph._unique = i
    outs = got[0] if got else None
    if return_inputs:
        return graph, outs, args
    return graph, outs


def _state_as_inputs(g, module):
    """g, a module's inlined graph, with its `self` input gone: each parameter or buffer
    the GetAttr chains read is a graph input after the arguments, in the order of the
    module's state (named_parameters, then named_buffers, shared ones once)."""
    from ..ir import types as T
    state, seen, tensors = [], set(), {}
    for name, t in list(module.named_parameters()) + list(module.named_buffers()):
        if id(t) not in seen:
            seen.add(id(t))
            state.append(name)
            tensors[name] = t

    def path_of(v):
        if v is g.inputs[0]:
            return ()
        n = v.node
        if n.kind != "prim::GetAttr" or path_of(n.inputs[0]) is None:
            return None
        return path_of(n.inputs[0]) + (n.attrs["name"],)

    reads = []
    for n in list(g.walk()):
        if n.kind == "prim::GetAttr":
            p = path_of(n.output)
            if p is not None and ".".join(p) in state:
                reads.append((".".join(p), n))
    for name in state:
        users = [n for p, n in reads if p == name]
        if users:
            v = g.add_input(None, T.TensorType.of(tensors[name]))
            for n in users:
                n.output.replace_all_uses_with(v)
    for n in reversed(list(g.walk())):
        if n.kind == "prim::GetAttr" and not any(o.uses for o in n.outputs):
            n.destroy()
    g.block.erase_input(0)
    return g
