"""`gpujit.trace` / `gpujit.trace_module`: record a run into a graph, wrap it in a
ScriptFunction or TracedModule, and check the trace against re-traces and eager runs."""
from __future__ import annotations

import difflib
import warnings

import numpy as np

from ..frontend import tracer as _tr
from ..frontend import trace_hooks as _th
from ..frontend import trace_boundary as _tb
from ..frontend.tracer import TracerWarning
from ..ops import registry as _reg
from ..nn.module import Module
from ..tensor import Tensor
from .objects import ScriptFunction, ScriptModule
from .script_module import traced_module_from

__all__ = ["trace", "trace_module", "TracingCheckError", "TracerWarning", "is_tracing",
           "jit_disabled"]


class TracingCheckError(Exception):
    """The trace does not reproduce the traced code (graphs differ across inputs)."""

    def __init__(self, graph_diff_error, tensor_compare_error=None, extra_msg=None):
        self.message = "Tracing failed sanity checks!\n"
        if extra_msg is not None:
            self.message += extra_msg + "\n"
        if graph_diff_error is not None:
            self.message += "ERROR: Graphs differed across invocations!\n"
            self.message += _indent(graph_diff_error) + "\n"
        if tensor_compare_error is not None:
            self.message += ("ERROR: Tensor-valued Constant nodes differed in value across "
                             "invocations. This often indicates that the tracer has "
                             "encountered untraceable code.\n")
            self.message += _indent(tensor_compare_error) + "\n"
        super().__init__(self.message)


def _indent(s):
    return "\n".join("\t" + line for line in s.splitlines())


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


def _trace_graph(target, inputs, strict, module=None, method="forward", types=None):
    """Run target(*inputs) under a TraceSession; the top graph and the session."""
    session = _tr.TraceSession(module)
    if types is not None:
        session.module_types = types
    rec = _tr.Recorder(session, module, session.module_type(module) if module is not None
                       else None)
    session.recorders.append(rec)
    fn = getattr(module, method) if module is not None else target
    if module is not None and method == "forward":
        fn_for_names = type(module).forward.__get__(module)
    else:
        fn_for_names = fn
    names = _tb._param_names(fn_for_names, len(inputs))
    # a parameter or buffer given as an input too (trace(m, m.weight)) is an input apart
    # from the attribute: the graph reads the attribute where the module uses it
    seen = {k for k, path in session.attr_paths.items() if path} if module is not None \
        else set()
    inputs = _distinct(inputs, seen)
    for a in inputs:
        try:
            _tb.input_type(a)
        except RuntimeError as e:
            if "cannot be traced" in str(e):     # (torch names the whole argument tuple)
                raise RuntimeError(
                    f"Type '{_tb._type_words(tuple(inputs))}' cannot be traced. Only Tensors "
                    f"and (possibly nested) Lists, Dicts, and Tuples of Tensors can be "
                    f"traced") from None
            raise
    for name, a in zip(names, inputs):
        _tb.bind_input(rec, name, a)
    with _th.tracing(session):
        if module is not None and method == "forward":
            out = module(*inputs)
        else:
            out = fn(*inputs)
    if out is None:
        raise RuntimeError("The traced function didn't return any values! Side-effects are "
                           "not captured in traces, so it would be a no-op.")
    rec.graph.register_output(_tb.output_value(rec, out, strict))
    return rec.graph, session


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """Trace a function or module into a ScriptFunction / TracedModule (torch.jit.trace)."""
    if jit_disabled():
        return func
    if isinstance(func, (ScriptModule, ScriptFunction)):
        warnings.warn("The input to trace is already a ScriptModule, tracing it is a no-op. "
                      "Returning the object as is.")
        return func
    if example_inputs is None:
        if example_kwarg_inputs is None:
            raise ValueError("trace() needs example_inputs (a tuple of Tensors or a Tensor)")
        example_inputs = tuple(example_kwarg_inputs.values())
    if isinstance(func, Module):
        checks = None if check_inputs is None else [{"forward": c} for c in check_inputs]
        return trace_module(func, {"forward": example_inputs}, check_trace=check_trace,
                            check_inputs=checks, check_tolerance=check_tolerance,
                            strict=strict)
    owner = getattr(func, "__self__", None)
    if isinstance(owner, Module) and getattr(func, "__name__", "") != "forward":
        raise AttributeError("trace doesn't support compiling individual module's "
                             "functions.\nPlease use trace_module")
    if isinstance(owner, Module) and getattr(func, "__name__", "") == "forward":
        checks = None if check_inputs is None else [{"forward": c} for c in check_inputs]
        return trace_module(owner, {"forward": example_inputs}, check_trace=check_trace,
                            check_inputs=checks, check_tolerance=check_tolerance,
                            strict=strict)
    if not callable(func):
        raise TypeError(f"trace() expects a function or an nn.Module, got "
                        f"{type(func).__name__}")
    inputs = _as_tuple(example_inputs)
    graph, session = _trace_graph(func, inputs, strict)
    name = getattr(func, "__name__", "traced_fn")
    if name == "<lambda>":
        name = "lambda_fn"
    fn = ScriptFunction(graph, name, func)
    # the graph's inputs are the example inputs, all given in every call: the Python
    # function's defaults are none of its (PyTorch's traced function has none either, and
    # one the archive cannot hold, `cfg=Config()`, made jit.save fail)
    fn._defaults = {}
    if check_trace:
        _check(lambda ins: _trace_graph(func, ins, strict)[0], fn, func,
               # PyTorch checks the check_inputs when given, else the example inputs
               [_as_tuple(c) for c in check_inputs] if check_inputs is not None
               else [inputs],
               check_tolerance, session, is_check_inputs=check_inputs is not None)
    return fn


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None,
                 check_tolerance=1e-5, strict=True, _force_outplace=False,
                 _module_class=None, _compilation_unit=None, example_inputs_is_kwarg=False,
                 _store_inputs=True):
    """Trace methods of a module: `inputs` maps method name -> example inputs."""
    if jit_disabled():
        return mod
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    for sub in mod.modules():           # (PyTorch refuses them when it copies the module)
        if getattr(sub, "_backward_hooks", None):
            raise ValueError("Modules that have backward hooks assigned can't be compiled: "
                             + str(sub))
    types = {}
    graphs = {}
    sessions = {}
    for method, example in inputs.items():
        if method != "forward" and not callable(getattr(mod, method, None)):
            raise AttributeError(f"{type(mod).__name__} has no method {method!r}")
        graph, session = _trace_graph(None, _as_tuple(example), strict, mod, method,
                                      types)
        sessions[method] = session
        graphs.setdefault(id(mod), {})[method] = graph
        for sub, rec in session.module_graphs.values():
            graphs.setdefault(id(sub), {}).setdefault("forward", rec.graph)
    tm = traced_module_from(mod, graphs, types)
    if check_trace:
        for method, example in inputs.items():
            extra = [c[method] for c in (check_inputs or []) if method in c]
            _check(lambda ins, m=method: _trace_graph(None, ins, strict, mod, m, types)[0],
                   tm._method(method), getattr(mod, method),
                   [_as_tuple(c) for c in extra] if check_inputs is not None
                   else [_as_tuple(example)], check_tolerance,
                   sessions[method], is_check_inputs=bool(extra))
    return tm


# ---------------------------------------------------------------------- trace checking
def _clone(x):
    if isinstance(x, Tensor):
        # a fresh leaf, unrecorded, laid out as x (as x.clone(): a channels-last input stays so)
        c = _reg.wrap(x._data.copy(order="K"), x._dtype, x._device)
        if x.requires_grad:
            c.requires_grad_(True)
        return c
    if isinstance(x, tuple):
        elems = [_clone(e) for e in x]
        return type(x)(*elems) if hasattr(x, "_fields") else tuple(elems)
    if isinstance(x, list):
        return [_clone(e) for e in x]
    if isinstance(x, dict):
        return {k: _clone(v) for k, v in x.items()}
    return x




def _canonical(graph) -> str:
    """The graph's text with tensor shapes erased (check inputs may have other shapes)."""
    g = graph.copy()
    for n in [g.param_node, *g.walk()]:
        for v in n.outputs:
            v.type = _tb._erased(v.type)
        for b in n.blocks:
            for v in b.inputs:
                v.type = _tb._erased(v.type)
    return str(g)


def _graph_diff(a: str, b: str) -> str:
    lines = []
    for line in difflib.ndiff(a.splitlines(True), b.splitlines(True)):
        if line.startswith("?"):
            continue
        lines.append(line.rstrip("\n"))
    return "Graph diff:\n" + "\n".join(lines)


def _check(retrace, compiled, python_fn, input_sets, tol, session, is_check_inputs):
    """PyTorch's _check_trace, per input set: trace again, run the trace, the Python
    function and (when those agree) the repeated trace, then compare the graphs. Each run
    counts: a module's buffers (BatchNorm's running statistics, num_batches_tracked) see
    as many updates as in PyTorch."""
    first = _canonical(compiled.graph)
    for inputs in input_sets:
        g2 = retrace(_clone(inputs))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TracerWarning)
            traced_out = compiled(*_clone(inputs))
            eager_out = python_fn(*_clone(inputs))
        other = _canonical(g2)
        if _compare_outputs(_flatten(traced_out), _flatten(eager_out), tol, session) \
                and other == first:
            # the repeated trace is the same graph: running it is running this one, node
            # by node (PyTorch runs a second module: this run is no profiling run of
            # `compiled`, whose first call after tracing profiles as in PyTorch)
            from ..runtime import interpret
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TracerWarning)
                interpret(compiled._get_executable().graph, *compiled._leading(),
                          *_clone(inputs))
        if other != first:
            raise TracingCheckError(_graph_diff(first, other))
        diff = _tensor_constants_diff(compiled.graph, g2)
        if diff is not None:
            raise TracingCheckError(None, diff)


def _tensor_constants(graph):
    return [n for n in graph.walk() if n.kind == "prim::Constant"
            and isinstance(n.attrs.get("value"), Tensor)]


def _tensor_constants_diff(a, b):
    """The first tensor constant whose value differs between two traces of the same
    graph (a tensor the trace could not follow: `.data` of an input, a global, a
    tensor made from Python values), in words; None when all agree."""
    for n, m in zip(_tensor_constants(a), _tensor_constants(b)):
        x, y = n.attrs["value"], m.attrs["value"]
        if x.shape != y.shape or x.dtype is not y.dtype or not np.array_equal(
                np.asarray(x.cpu()._data), np.asarray(y.cpu()._data), equal_nan=True):
            where = ""
            sr = n.source_range
            if sr is not None and getattr(sr, "filename", None):
                where = f"\nSource Location:\n\t{sr.filename}:{sr.line}: {(sr.text or '').strip()}"
            return (f"Node:\n\t{str(n).strip()}{where}\nComparison exception:\t"
                    f"{_mismatch(x, y, 0.0) or 'the values differ'}")
    return None


def _flatten(x):
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for e in x for t in _flatten(e)]
    if isinstance(x, dict):
        return [t for e in x.values() for t in _flatten(e)]
    return []


def _compare_outputs(traced, eager, tol, session):
    """Warn for each output that differs; whether all agree."""
    same = True
    warned_nd = False
    for i, (a, b) in enumerate(zip(traced, eager)):
        detail = _mismatch(a, b, tol)
        if detail is None:
            continue
        same = False
        if session.nondeterministic and not warned_nd:
            # (PyTorch's two warnings: this one once, then one per output that differs)
            warned_nd = True
            _tr.warn_at_user(
                "Trace had nondeterministic nodes. Did you forget call .eval() on your "
                "model? Nodes:\n\t" + "\n\t".join(dict.fromkeys(session.nondeterministic))
                + "\nThis may cause errors in trace checking. To disable trace checking, "
                "pass check_trace=False to gpujit.trace()")
        _tr.warn_at_user(f"Output nr {i + 1}. of the traced function does not match the "
                         f"corresponding output of the Python function. Detailed error:\n"
                         f"{detail}")
    return same


def _mismatch(a, b, tol):
    x, y = np.asarray(a.cpu()._data), np.asarray(b.cpu()._data)
    if x.shape != y.shape:
        return f"The values for attribute 'shape' do not match: {x.shape} != {y.shape}."
    if a.dtype is not b.dtype:
        return f"The values for attribute 'dtype' do not match: {a.dtype} != {b.dtype}."
    xd, yd = x.astype(np.float64), y.astype(np.float64)
    ok = np.isclose(xd, yd, rtol=tol, atol=tol, equal_nan=True)
    if ok.all():
        return None
    bad = np.argwhere(~ok)
    idx = tuple(int(k) for k in bad[0])
    n = int(bad.shape[0])
    where = "input[" + ", ".join(map(str, idx)) + "]" if idx else "input"
    others = f" and {n - 1} other locations ({100.0 * n / x.size:.2f}%)" if n > 1 else ""
    return (f"Not within tolerance rtol={tol:g} atol={tol:g} at {where} "
            f"({xd[idx]!r} vs. {yd[idx]!r}){others}; the greatest absolute difference is "
            f"{float(np.nanmax(np.abs(xd - yd)[~ok])):g}")
