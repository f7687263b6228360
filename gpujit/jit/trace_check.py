"""check_trace: trace again on each check input, run the trace and the Python function,
and compare outputs (TracerWarnings) and graphs (TracingCheckError), as PyTorch's
_check_trace does. An input set is a pair (positional args, keyword args)."""
from __future__ import annotations

import re

import difflib
import warnings

import numpy as np

from ..frontend import tracer as _tr
from ..frontend import trace_boundary as _tb
from ..frontend.tracer import TracerWarning
from ..ops import registry as _reg
from ..tensor import Tensor

__all__ = ["TracingCheckError", "check", "clone_inputs"]


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


def clone_inputs(x):
    if isinstance(x, Tensor):
        if x.is_nested or getattr(x, "_float8_layout", False) or x.is_quantized:
            # (gpujit/nested: a packed copy of its components; float8: ops/float8.py;
            # quantized: its integers and quantizer, gpujit/quantized.py)
            c = x.detach().clone()
            return c.requires_grad_(True) if x.requires_grad else c
        # a fresh leaf, unrecorded, laid out as x (as x.clone(): a channels-last input stays so)
        c = _reg.wrap(x._data.copy(order="K"), x._dtype, x._device)
        if type(x) is not Tensor:
            from ..overrides import _active
            if _active(type(x)):        # (a subclass stays one, as torch's clone keeps it)
                c = c.as_subclass(type(x))
        if x.requires_grad:
            c.requires_grad_(True)
        return c
    if isinstance(x, tuple):
        elems = [clone_inputs(e) for e in x]
        return type(x)(*elems) if hasattr(x, "_fields") else tuple(elems)
    if isinstance(x, list):
        return [clone_inputs(e) for e in x]
    if isinstance(x, dict):
        return {k: clone_inputs(v) for k, v in x.items()}
    if x is None:
        return None
    # (torch 2.13's _clone_inputs, autograd.function._nested_map's words: a check input
    # of another type is refused before anything runs)
    from ..runtime_flags import typename
    raise ValueError(f"Auto nesting doesn't know how to process an input object of type "
                     f"{typename(x)}. Accepted types: tensors, or lists/tuples of them")


def _canonical(graph) -> str:
    """The graph's text with tensor shapes erased (check inputs may have other shapes) and
    its unnamed values numbered in order of appearance (torch's _jit_pass_canonicalize):
    two traces that made the same graph compare equal, however many dead values (shape
    reads dropped by dead-code elimination) numbered one of them."""
    g = graph.copy()
    for n in [g.param_node, *g.walk()]:
        for v in n.outputs:
            v.type = _tb._erased(v.type)
        for b in n.blocks:
            for v in b.inputs:
                v.type = _tb._erased(v.type)
    numbers: dict = {}
    return re.sub(r"%(\d+)\b", lambda m: "%" + str(numbers.setdefault(m.group(1), len(numbers))),
                  str(g))


def _graph_diff(a: str, b: str) -> str:
    # (PyTorch's form: the ndiff, its `?` marker lines too, one tab in from its title)
    diff = "".join(difflib.ndiff(a.splitlines(True), b.splitlines(True)))
    return "Graph diff:\n" + _indent(diff) + _first_diverging(a, b)


def _first_diverging(a: str, b: str) -> str:
    """PyTorch's "First diverging operator" section: the first node line that differs."""
    for la, lb in zip(a.splitlines()[1:], b.splitlines()[1:]):
        if la != lb:
            return (f"\nFirst diverging operator:\nNode diff:\n\t- {la.strip()}\n"
                    f"\t+ {lb.strip()}")
    return ""


def _diagnostics(first, graph, other, g2):
    graph_diff = _graph_diff(first, other) if other != first else None
    return graph_diff, _tensor_constants_diff(graph, g2)


def check(retrace, compiled, python_fn, input_sets, tol):
    """PyTorch's _check_trace, per input set: trace again, run the trace and the Python
    function, then compare the outputs (a TracerWarning for each that differs) and the
    graphs (TracingCheckError when they differ, or when running the trace or the function
    raises). Each run counts: a module's buffers (BatchNorm's running statistics,
    num_batches_tracked) see as many updates as in PyTorch."""
    from ..autograd.grad_mode import no_grad
    with no_grad():             # (PyTorch's _check_trace is @torch.no_grad() too: the run
        # of the trace here is its profiling run, which then sees nothing requiring grad)
        _check(retrace, compiled, python_fn, input_sets, tol)


def _inlined(graph):
    """graph with its submodule calls inlined: as PyTorch's _check_trace inlines both
    traces before comparing, so a constant a submodule's call baked in (BatchNorm's
    momentum=None factor, 1/num_batches_tracked) differs too."""
    from ..passes.inline import inlined_graph
    return inlined_graph(graph)


def _check(retrace, compiled, python_fn, input_sets, tol):
    g1 = _inlined(compiled.graph)
    first = _canonical(g1)
    for args, kwargs in input_sets:
        g2 = _inlined(retrace(clone_inputs(args), clone_inputs(kwargs)))
        other = _canonical(g2)

        def run(fn, what):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", TracerWarning)
                    return fn(*clone_inputs(args), **clone_inputs(kwargs))
            except Exception as e:
                raise TracingCheckError(
                    *_diagnostics(first, g1, other, g2),
                    extra_msg=f"encountered an exception while running the {what} with "
                              f"test inputs.\nException:\n{_indent(str(e))}") from e

        traced_out = run(compiled, "trace")
        eager_out = run(python_fn, "Python function")
        if _compare_outputs(_flatten(traced_out), _flatten(eager_out), tol,
                            compiled.graph) \
                and other == first:
            # the repeated trace is the same graph: running it is running this one, node
            # by node (PyTorch runs a second module: this run is no profiling run of
            # `compiled`, whose first call after tracing profiles as in PyTorch)
            from ..runtime import interpret
            leading = compiled._leading()
            ins = compiled._bind_kwargs(clone_inputs(args), clone_inputs(kwargs),
                                        len(leading)) if kwargs else clone_inputs(args)
            run(lambda *a, **k: interpret(compiled._get_executable().graph, *leading,
                                          *ins), "repeated trace")
        graph_diff, tensor_diff = _diagnostics(first, g1, other, g2)
        if graph_diff is not None or tensor_diff is not None:
            raise TracingCheckError(graph_diff, tensor_diff)


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
                    f"{_indent(_mismatch(x, y, None) or 'the values differ')}")
    return None


def _flatten(x):
    if isinstance(x, Tensor):
        return list(x.unbind()) if x.is_nested else [x]     # (a nested one: its components)
    if isinstance(x, (tuple, list)):
        return [t for e in x for t in _flatten(e)]
    if isinstance(x, dict):
        return [t for e in x.values() for t in _flatten(e)]
    return []


def _nondeterministic_nodes(graph):
    """The traced graph's own nondeterministic nodes as PyTorch's warning lists them (the
    first 20, printed): torch 2.13 reads `traced_func.graph.nodes()`, so a random op inside
    a submodule's call (an nn.Dropout of a training model) is none of them; as its
    Node::isNondeterministic, aten::dropout with a constant train=False is deterministic
    (SchemaInfo's one exception)."""
    nodes = []
    for n in graph.nodes:
        op = n.op if n.kind.startswith("aten::") else None
        if op is None or not ("random" in op.tags or "nondeterministic" in op.tags):
            continue
        if n.kind == "aten::dropout" and n.inputs[2].toIValue() is False:
            continue
        nodes.append(str(n).strip())
    return nodes[:20]


def _compare_outputs(traced, eager, tol, graph):
    """Warn for each output that differs; whether all agree."""
    same = True
    warned_nd = False
    for i, (a, b) in enumerate(zip(traced, eager)):
        detail = _mismatch(a, b, tol)
        if detail is None:
            continue
        same = False
        if not warned_nd:
            # (PyTorch's two warnings: this one once, where the graph has such nodes, then
            # one per output that differs)
            warned_nd = True
            nodes = _nondeterministic_nodes(graph)
            if nodes:
                _tr.warn_at_user(
                    "Trace had nondeterministic nodes. Did you forget call .eval() on your "
                    "model? Nodes:\n\t" + "\n\t".join(nodes)
                    + "\nThis may cause errors in trace checking. To disable trace "
                    "checking, pass check_trace=False to gpujit.trace()")
        _tr.warn_at_user(f"Output nr {i + 1}. of the traced function does not match the "
                         f"corresponding output of the Python function. Detailed error:\n"
                         f"{detail}")
    return same


def _mismatch(a, b, tol):
    """PyTorch's comparison of a check's outputs: both as float64 (complex128), rtol the
    check tolerance, atol the dtypes' default (1e-5 for float32, 1e-7 for float64, 0 for
    integers); the assert_close message when they differ, else None."""
    from ..testing import assert_close, default_tolerances
    from .. import dtypes as _dt
    if a.is_quantized or b.is_quantized:        # (PyTorch's check: their dequantized values)
        a, b = a.dequantize(), b.dequantize()
    if a.is_meta or b.is_meta:      # (no values: their sizes, devices and dtypes)
        try:
            assert_close(a.detach(), b.detach())
        except AssertionError as e:
            return str(e)
        return None
    x, y = a.detach().cpu(), b.detach().cpu()
    if tol is None:             # (a tensor constant: compared as it is, default tolerances)
        rtol = atol = None
    else:
        rtol, atol = tol, default_tolerances(a.dtype, b.dtype)[1]
        # (complex outputs as complex128, as PyTorch's check compares them: not their
        # real parts)
        wide = _dt.complex128 if a.dtype.is_complex or b.dtype.is_complex else _dt.float64
        x, y = x.to(wide), y.to(wide)
    try:
        assert_close(x, y, rtol=rtol, atol=atol, equal_nan=True)
    except AssertionError as e:
        return str(e)
    return None
