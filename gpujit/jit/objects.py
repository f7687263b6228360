"""What `gpujit.trace` and `gpujit.script` return: ScriptFunction, and the ScriptMethods of
ScriptModule / TracedModule (those two in script_module.py). Each holds a graph and exposes
`.graph`, `.inlined_graph`, `.code`, `.schema` and `graph_for(*inputs)`; calling one runs
the graph through the executor (gpujit.runtime)."""
from __future__ import annotations

import copy
import threading

from .. import fusers as _fusers
from ..amp.autocast_mode import _state as _autocast
from ..autograd.grad_mode import state as _grad_state
from ..frontend import tracer as _tracer
from ..frontend import trace_hooks as _trace_hooks
from ..ops import registry as _reg
from ..tensor import Tensor
from ..ir import types as T
from ..nn.module import Module
from .autodiff import DifferentiableGroup as _DiffGroup
from ..runtime.executor import _read_attr
from ..runtime.arguments import holds_container as _holds_container, copied as _copied
from ..runtime.arguments import holds_str as _holds_str
from ..runtime.interpreter import interpreter_error as _interpreter_error
from ..runtime.script_traceback import add_scripted_frames as _add_scripted_frames
from ..runtime.script_traceback import scripted_nodes as _scripted_nodes
from ..runtime.script_traceback import ran_unranged_node as _ran_unranged_node

# a weak reference to the executable of the compiled function called last (as PyTorch's
# weak_ptr: the graph, and tensors it holds as constants, go with their function)
_LAST = [None]
_EXE_LOCK = threading.RLock()   # threads calling a new function make one Executable
# read on every call (bound once: each module attribute lookup costs on the fast path):
# tracing, strict_fusion (this thread's depth) and autograd recording take the slow path
_Active = _tracer._Active
_strict = _fusers.strict._state
_dispatch = _reg.dispatch_state
# The fast path's gate, two plain reads: `_dispatch.hook` is None only while no thread
# traces (a thread's `_Active.session` is set only inside frontend.trace_hooks.tracing, whose
# enter installs `dispatch_state.tracing` and whose exit clears the session before the
# hook), autograd has never been turned on and no thread has an autocast region enabled,
# and `_strict_open[0]` is 0 only while no thread is inside strict_fusion. When either
# says otherwise, the full test (thread-local reads, ~60 ns each) decides.
_strict_open = _fusers.strict._entered


def last_executed_optimized_graph():
    """torch.jit.last_executed_optimized_graph: the optimized graph (fusion groups and
    guards included) of the compiled function called last, as built for the input types
    it saw last (its newest specialization); None before any compiled function has run,
    as PyTorch's."""
    exe = _LAST[0] and _LAST[0]()
    if exe is None:
        return None
    specs = exe.specializations
    return specs[-1].shown_graph() if specs else exe.graph


__all__ = ["last_executed_optimized_graph", "ScriptFunction", "ScriptMethod", "ScriptModule",
           "TracedModule", "TopLevelTracedModule", "RecursiveScriptModule"]


def _schema_type(t) -> str:
    if isinstance(t, T.TensorType):
        return "Tensor"
    if isinstance(t, T.TupleType) and not isinstance(t, T.NamedTupleType):
        return "(" + ", ".join(_schema_type(e) for e in t.elems) + ")"
    if isinstance(t, T.ListType):
        return _schema_type(t.elem) + "[]"
    if isinstance(t, T.OptionalType):
        return _schema_type(t.elem) + "?"
    return str(t)


class ScriptArgumentError(RuntimeError, TypeError):
    """A call of a compiled function or method with arguments its schema does not take
    (a RuntimeError as in torch.jit, and a TypeError as for a Python function)."""


def _raise_as_runtime_error(e):
    """Raise e as the RuntimeError an op's failure reaches the caller as, as TorchScript's
    interpreter reports it (runtime/interpreter.as_runtime_error); nothing when e is one
    already (the caller re-raises it). Called from the calls' `except` only."""
    nodes = [n for _, n in _scripted_nodes(e.__traceback__)]
    _add_scripted_frames(e)
    new = _interpreter_error(e, nodes, unranged=not nodes and _ran_unranged_node(
        e.__traceback__))
    if new is e:
        return
    try:
        raise new
    finally:
        del new, e      # (no frame -> exception -> traceback -> frame cycle)


class _GraphCallable:
    """The shared part of functions and methods: a graph, its name, the executor."""

    def _init_graph(self, graph, name, arg_names=None):
        self._graph = graph
        self.name = name
        self._arg_names = arg_names
        self._executable = None
        self._inlined = None
        self._defaults = {}      # parameter name -> default value (Python's, or saved)
        # checked per call: fewer args -> defaults; a function with keyword-only
        # parameters never takes the positional fast path (-1)
        self._arity = len(graph.inputs) if not graph.kwarg_only else -1
        self._copiers = None     # (_copy_containers) the parameters that take containers
        # (_copy_containers) does the result hold a list, dict or script-class object? It
        # is converted as TorchScript converts a result for Python (toPyObject): a new list
        # / dict / object for each reference (`return p, p` gives two objects, `return
        # self.xs` a list the caller may change without changing the module's)
        self._copies_out = False

    def _copy_containers(self, args, leading=0):
        """The arguments as scripted code receives them: a Python list or dict passed in
        (also inside a tuple, list or dict) is copied, as TorchScript converts it into a
        new List / Dict, so that scripted code appending to it leaves the caller's alone
        (torch 2.13: `def f(a: List[int]): a.append(1)` keeps the caller's [0]); Tensors,
        objects and gpujit.jit.script'ed ScriptList / ScriptDict are shared. leading:
        graph inputs before args (a method's self)."""
        cps = self._copiers
        if cps is None:
            cps = tuple(k - leading for k, v in enumerate(self._graph.inputs)
                        if k >= leading and _holds_container(v.type))
            self._copies_out = any(_holds_container(v.type) or _holds_str(v.type)
                                   for v in self._graph.outputs)
            # (() only when nothing is converted either way: the calls' fast path)
            self._copiers = cps if cps or not self._copies_out else (None,)
        if cps == (None,):
            return args
        args = list(args)
        for k in cps:
            if k < len(args):
                args[k] = _copied(args[k])
        return tuple(args)

    @property
    def graph(self):
        return self._graph

    @property
    def inlined_graph(self):
        if self._inlined is None:
            from ..passes.inline import inline
            g = self._graph.copy()
            # (torch's Graph::copy numbers the copy's values afresh, in order, from %0;
            # the inlined calls' values then take the next numbers)
            n = 0
            for n, v in enumerate(g.all_values(), 1):
                v.unique = n - 1
            g._unique = n - 1
            inline(g)
            self._inlined = g
        return self._inlined

    @property
    def code(self) -> str:
        return self._source()

    def _source(self, constants=None) -> str:
        """The graph as `.code` prints it; constants: a list that collects the tensors
        it names `CONSTANTS.c<k>` (code_with_constants)."""
        from ..ir.python_printer import python_source
        g = self._graph
        defaults = {}
        for i, v in enumerate(g.inputs):
            name = _plain(v.debug_name)
            if name in self._defaults:
                value = self._defaults[name]
                if i in g.broadcast and not isinstance(value, (list, tuple)):
                    value = [value] * g.broadcast[i]    # as TorchScript: the whole list
                defaults[i] = _schema_default(value)
        from ..ir import types as _T
        token = _T.QUALIFIED_CLASS_NAMES.set(True)  # (`x: __torch__.P`, as TorchScript)
        try:
            return python_source(g, name=self.name,
                                 is_method=isinstance(self, ScriptMethod),
                                 defaults=defaults, constants=constants)
        finally:
            _T.QUALIFIED_CLASS_NAMES.reset(token)

    @property
    def schema(self) -> str:
        ins = []
        first_kw = len(self._graph.inputs) - self._graph.kwarg_only
        for i, v in enumerate(self._graph.inputs):
            if i == first_kw and self._graph.kwarg_only:
                ins.append("*")
            name = _plain(v.debug_name)
            arg = f"{_schema_type(v.type)} {name}"
            n = (self._graph.broadcast or {}).get(i)
            t = v.type.elem if isinstance(v.type, T.OptionalType) else v.type
            if n is not None and isinstance(t, T.ListType):
                # (a broadcasting list: TorchScript's `int[2] padding=[0, 0]`)
                arg = f"{_schema_type(t.elem)}[{n}]" + \
                    ("?" if t is not v.type else "") + f" {name}"
            if name in self._defaults:
                d = self._defaults[name]
                if n is not None and isinstance(d, (int, float)) and not isinstance(d, bool):
                    d = [d] * n
                arg += "=" + _schema_default(d)
            ins.append(arg)
        types = self._graph.output_types()
        outs = [_schema_type(t) for t in types]
        ret = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ")"
        if len(outs) > 1 or isinstance(types[0], T.TupleType):
            ret = f"({ret})"    # (one tuple return, in parentheses: `-> ((int, str))`)
        return f"{self.name}({', '.join(ins)}) -> {ret}"

    def _get_executable(self):
        if self._executable is None:
            with _EXE_LOCK:
                if self._executable is None:
                    from ..runtime import Executable
                    # the inlined graph when a method already made it (its attribute
                    # paths): the executor's own inlining then has nothing left to do
                    g = self._inlined if self._inlined is not None else self._graph
                    exe = Executable(g, self.name)
                    # (the schema an argument type error shows: `Declaration: f(...)`)
                    exe.graph.declaration = self.schema
                    self._executable = exe
        return self._executable

    def _invalidate(self):
        self._executable = None

    def _run(self, leading, args, kwargs):
        if _dispatch.inference is not None and _grad_state.inference:
            # inside torch.inference_mode: the new tensors it returns are inference
            # tensors, as an eager op's (its arguments, and a module's own tensors, stay
            # what they are)
            from ..autograd.inference import mark_fresh
            out = self._run_body(leading, args, kwargs)
            owner = leading[0] if leading else None
            kept = (*args, *owner.parameters(), *owner.buffers()) \
                if isinstance(owner, Module) else args
            return mark_fresh(out, kept)
        return self._run_body(leading, args, kwargs)

    def _run_body(self, leading, args, kwargs):
        if kwargs or len(leading) + len(args) != self._arity:
            args = self._bind_kwargs(args, kwargs, len(leading))
        grad = _needs_grad(args, leading[0] if leading else None,
                           self._tensor_attr_paths() if leading else (),
                           _enables_grad(self._get_executable()))
        session = _tracer.current_session()
        if session is not None and not session.paused:
            # called while tracing: compute (recording gradients if needed), then copy the
            # graph, control flow included, into the trace
            with _trace_hooks.paused(session):
                out = self._call_graph(leading, args, grad)
            session.record_call(self.inlined_graph, leading[0] if leading else None,
                                args, out, self)
            return out
        if _reg.dispatch_state.forward_ad is not None:
            from ..autograd import forward_ad
            if forward_ad._has_dual(args) or (leading and forward_ad._module_has_dual(
                    leading[0])):
                # dual tensors in: the optimized graph runs node by node, each op giving
                # its outputs tangents as eager ones (PyTorch's scripted ops have forward
                # formulas too)
                from ..runtime import interpret
                return interpret(self._get_executable().graph, *leading, *args)
        if _autocast.active:
            # an autocast region (this thread's): its casts apply to the ops of the graph as to eager ones
            # (as PyTorch's dispatcher applies them to a scripted function's ops), so the
            # optimized graph runs node by node through the autocasting compute
            from ..runtime import interpret
            exe = self._get_executable()
            # unfused: a strict_fusion region of the graph, or one around this call, raises
            # (as for any call that runs op by op)
            why = (f"{self.name} runs op by op inside an autocast region (its casts apply "
                   f"to each op, as in eager code)")
            exe.check_strict_regions(why)
            if _fusers.strict_fusion_active():
                self._strict_unfused(exe, why)
            return interpret(exe.graph, *leading, *args)
        exe = self._get_executable()
        _LAST[0] = exe.weak_self
        if exe.calls_autograd:
            # x.backward(), torch.autograd.grad, requires_grad_: what they differentiate
            # must be recorded, so the graph runs node by node through the recording ops
            # (unfused: a strict_fusion region, or a block around the call, raises)
            from ..runtime import interpret
            why = _autograd_reason(self.name)
            exe.check_strict_regions(why)
            if _fusers.strict_fusion_active():
                self._strict_unfused(exe, why)
            return interpret(exe.graph, *leading, *args)
        if _fusers.strict_fusion_active():
            return self._run_strict(exe, (*leading, *args), grad)
        if grad:
            # fused groups record one backward node each, fused too (jit/autodiff.py)
            return exe.call_recording(*leading, *args, runner=_DiffGroup)
        return exe(*leading, *args)

    def _call_graph(self, leading, args, grad):
        if grad:
            # the generated code works on raw arrays and records nothing: run the optimized
            # graph node by node through the recording ops instead, as eager would
            from ..runtime import interpret
            return interpret(self._get_executable().graph, *leading, *args)
        return self._get_executable()(*leading, *args)

    def _run_strict(self, exe, args, grad=False):
        """Inside `with gpujit.strict_fusion():` every call that runs optimized code must
        run fully fused (profiling calls, which build that code, are exempt)."""
        key = exe.key(args)
        had = exe._active.get(key)
        interpreted = exe.stats["interpreted"]
        out = exe.call_recording(*args, runner=_DiffGroup) if grad else exe(*args)
        if exe.stats["interpreted"] != interpreted:
            self._strict_unfused(exe, (
                f"{self.name} has made the most specializations it may "
                f"({exe.max_specializations}, one per signature of input types); "
                f"new signatures run unfused, op by op"))
        spec = exe._active.get(key)
        if grad and had is not None and had.profiled_without_grad:
            self._strict_unfused(exe, (
                f"{self.name} was profiled with grad mode off (trace's check_trace runs the "
                f"trace under no_grad, as PyTorch's): calls that record gradients run op by "
                f"op, as in TorchScript; trace with check_trace=False, or make its first "
                f"call with gradients, to fuse them"))
        # (a call that built its code without profiling, _jit_set_num_profiled_runs(0),
        # ran that optimized code: it is no profiling call)
        optimized = had is not None or (spec is not None and spec.profile.runs == 0)
        if optimized and spec is not None and spec.unfused:
            why = spec.unfused_reason
            raise _fusers.StrictFusionError(spec.unfused, where=f"a call of {self.name}",
                                            reasons={n: why for n in spec.unfused} if why else None)
        return out

    def _strict_unfused(self, exe, why):
        """Inside strict_fusion, a call that runs the whole graph unfused: raise, naming
        the graph's tensor work (a graph without any passes)."""
        nodes = _fusers.unfused_nodes(exe.graph)
        if nodes:
            raise _fusers.StrictFusionError(nodes, where=f"a call of {self.name}",
                                            reasons={n: why for n in nodes})

    def fusion_report(self, *args, **kwargs):
        """Which ops of the graph that runs for these inputs fused, and why the others did
        not (one line per node, with the user's source line)."""
        exe = self._get_executable()
        if exe.calls_autograd:      # its calls run the graph op by op (_run_body)
            rows, why = _fusers.fusion_report(exe.graph), _autograd_reason(self.name)
            work = set(_fusers.unfused_nodes(exe.graph))
            return _fusers.format_fusion_report(
                [(n, f, why if n in work else r) for n, f, r in rows])
        g = self._graph_for(self._leading(), args, kwargs, shown=False)
        off = exe.unfused_reason_of(g)
        return _fusers.format_fusion_report(_fusers.fusion_report(g, off_reason=off))

    def _bind_kwargs(self, args, kwargs, skip):
        """The call's arguments in the graph's order, checked as TorchScript's
        createStackForSchema does, in its order: the count of all arguments (self, keywords
        included), then the positional count of a function with keyword-only parameters,
        then each parameter past the positional ones from a keyword, its default or
        'missing value'; keywords left over: the first unknown one, else the first
        parameter given both ways (FunctionSchema::findErrorInKwargs)."""
        names = [_plain(v.debug_name) for v in self._graph.inputs[skip:]]
        total = len(self._graph.inputs)
        given = len(args) + len(kwargs) + skip
        if given > total:
            raise ScriptArgumentError(
                f"{self.name}() expected at most {total} argument(s) but received {given} "
                f"argument(s). Declaration: {self.schema}")
        positional = total - self._graph.kwarg_only
        if len(args) + skip > positional:       # (TorchScript's words: two spaces)
            raise ScriptArgumentError(
                f"{self.name}() takes {positional} positional argument(s) but "
                f"{len(args) + skip} was/were given.  Declaration: {self.schema}")
        out = list(args)
        left = dict(kwargs)
        for n in names[len(args):]:
            if n in left:
                out.append(left.pop(n))
            elif n in self._defaults:
                out.append(self._defaults[n])
            else:
                raise ScriptArgumentError(
                    f"{self.name}() is missing value for argument '{n}'. "
                    f"Declaration: {self.schema}")
        if left:
            for n in left:
                if n not in names:
                    raise ScriptArgumentError(
                        f"Unknown keyword argument '{n}' for operator '{self.name}'. "
                        f"Schema: {self.schema}")
            n = next(n for n in names if n in left)
            raise ScriptArgumentError(
                f"Argument '{n}' specified both as positional and keyword argument. "
                f"Schema: {self.schema}")
        return out

    def _leading(self):
        """The arguments the graph takes before the caller's (a method's module)."""
        return ()

    def graph_for(self, *args, **kwargs):
        return self._graph_for(self._leading(), args, kwargs)

    def _graph_for(self, leading, args, kwargs=None, shown=True):
        """The optimized graph for these arguments; shown: with each fusion group behind
        its guard (graph_for), else as it runs (fusion_report reads that)."""
        if kwargs or len(leading) + len(args) != self._arity:
            args = self._bind_kwargs(args, dict(kwargs or {}), len(leading))
        # (a call that records gradients runs the same optimized graph, its groups
        # recording a backward node each: jit/autodiff.py)
        exe = self._get_executable()
        _LAST[0] = exe.weak_self        # (PyTorch's graph_for runs the function)
        if shown and exe.calls_autograd:
            # its calls run this graph op by op (so that autograd records each op): no
            # fusion group ever runs, so none is shown (last_executed_optimized_graph's)
            return exe.graph
        return (exe.graph_for if shown else exe.optimized_graph_for)(*leading, *args)

    def _tensor_attr_paths(self):
        """The attributes of the module (name paths from `self`) that this method, with
        what it calls, reads and that may hold a Tensor: plain tensor attributes
        (`self.alpha = torch.zeros(1, requires_grad=True)`), lists of tensors... whose
        requires_grad decides, as parameters do, whether a call records gradients."""
        paths = self.__dict__.get("_attr_paths")
        if paths is None:
            paths = self._attr_paths = _tensor_attr_paths(self.inlined_graph)
        return paths



def _autograd_reason(name):
    return (f"{name} calls autograd (backward, autograd.grad, requires_grad_): its graph "
            f"runs op by op, so that autograd records each op")


def _tensor_attr_paths(graph):
    """((name, ...), ...): the prim::GetAttr chains from the graph's module input that
    end in a value that may hold a Tensor."""
    if not graph.inputs or not isinstance(graph.inputs[0].type, T.ClassType):
        return ()
    chains = {graph.inputs[0]: ()}
    out = []
    for n in graph.walk():
        if n.kind == "prim::GetAttr" and n.inputs[0] in chains:
            path = chains[n.inputs[0]] + (n.attrs["name"],)
            if isinstance(n.output.type, T.ClassType):
                chains[n.output] = path
            elif T.may_hold_tensor(n.output.type, objects=False) and path not in out:
                out.append(path)
    return tuple(out)


def _enables_grad(exe) -> bool:
    """Can the compiled graph switch grad mode on (a `with torch.enable_grad():` region, a
    `torch.set_grad_enabled(b)` call)? Called under no_grad, what runs after the switch
    records gradients as eager code would."""
    r = exe.__dict__.get("_enables_grad")
    if r is None:
        r = exe.__dict__["_enables_grad"] = any(
            (n.kind == "prim::Enter" and n.attrs.get("name") == "enable_grad")
            or n.kind == "aten::set_grad_enabled" for n in exe.graph.walk())
    return r


def _needs_grad(args, module, attr_paths=(), enables_grad=False):
    """Would eager code record gradients for this call (grad mode on, or the code enabling
    it in a `with torch.enable_grad():` region, and an input (or a tensor in an input's
    list, tuple, dict or TorchScript-class object), a parameter of the module or a tensor
    attribute the code reads requires grad)?"""
    if _reg.dispatch_state.autograd is None or not (_grad_state.enabled or enables_grad):
        return False
    stack = list(args)
    if isinstance(module, Module):
        # (its parameters and buffers first: usually one requires grad, and the walk is
        # cheaper than the attribute paths')
        if _module_requires_grad(module):
            return True
        for path in attr_paths:
            v = module
            try:
                for name in path:
                    v = _read_attr(v, name)
            except AttributeError:
                v = None
            stack.append(v)
    elif module is not None:
        stack.append(module)    # an object of a script class whose method is called
    seen = set()
    while stack:
        a = stack.pop()
        if isinstance(a, Tensor):
            if a._ag is not None and a._ag.requires_grad:
                return True
        elif isinstance(a, (list, tuple)):
            stack.extend(a)
        elif isinstance(a, dict):
            stack.extend(a.values())
        elif type(a) in _script_classes and id(a) not in seen:
            seen.add(id(a))         # an object of a TorchScript class: its attributes
            stack.extend(vars(a).values())
    return False


_EMPTY: dict = {}


def _module_requires_grad(module):
    """Does a parameter or buffer of the module or of a submodule (any(p.requires_grad
    for p in module.parameters()), buffers() too) require grad? Read off the module
    dicts, without parameters()' generators."""
    todo, seen = [module], {id(module)}
    while todo:
        d = todo.pop().__dict__
        for table in (d.get("_parameters", _EMPTY), d.get("_buffers", _EMPTY)):
            for t in table.values():
                if t is not None and t._ag is not None and t._ag.requires_grad:
                    return True
        for m in d.get("_modules", _EMPTY).values():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                todo.append(m)
    return False


def python_defaults(fn) -> dict:
    """The default values of fn's parameters (a scripted call may leave them out)."""
    import inspect
    try:
        params = inspect.signature(fn).parameters.values() if fn is not None else ()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def _schema_default(value) -> str:
    """A default value as TorchScript's schemas print it: float=2., str="a", int[]=[1, 2]."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        text = "%.17g" % value
        return text if any(c in text for c in ".eni") else text + "."
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, tuple):
        items = [_schema_default(x) for x in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_schema_default(x) for x in value) + "]"
    from ..dtypes import dtype, scalar_type_code
    from ..device import device
    if isinstance(value, dtype):        # (TorchScript's ScalarType is an int: dtype: int=6)
        return str(scalar_type_code(value))
    if isinstance(value, device):
        return f'torch.device("{value}")'
    return str(value)


_QUOTED_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\a": "\\a", "\b": "\\b",
                   "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _quoted(text: str) -> str:
    """A string as c10::printQuotedString writes it: double quotes; \\, ', " and the C
    control escapes backslashed, other unprintable bytes as 3-digit octal."""
    out = []
    for c in text:
        if c in _QUOTED_ESCAPES:
            out.append(_QUOTED_ESCAPES[c])
        elif ord(c) < 0x20 or ord(c) == 0x7f:
            out.append("\\%03o" % ord(c))
        elif 0xD800 <= ord(c) <= 0xDFFF:
            # (a lone surrogate: an undecodable byte of a loaded archive's str, Python's
            # surrogateescape; JSON's escape, which the IR parser reads back)
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _plain(name):
    base, _, suffix = name.rpartition(".")
    return base if base and suffix.isdigit() else name


class ScriptFunction(_GraphCallable):
    """A compiled free function (`gpujit.trace(fn, ...)`, later `gpujit.script(fn)`)."""

    def __init__(self, graph, name, original=None):
        self._init_graph(graph, name)
        self._original = original
        self._core = None
        self._defaults = python_defaults(original)
        self.__name__ = self.__qualname__ = name
        self.__doc__ = getattr(original, "__doc__", None)

    @property
    def qualified_name(self):
        """TorchScript's qualified name of the function: `__torch__.f` for one of the
        script being run, `__torch__.pkg.mod.f` for one imported (torch 2.13)."""
        from ..frontend.qualified_names import function_name
        fn = self._original if self._original is not None else None
        if fn is None:
            return f"__torch__.{self.__name__}"
        return function_name(fn)

    def _detached(self):
        """A copy without the Python function (what gpujit.script's cache keeps: it holds
        it under the function as a weak key, and a reference back would keep both for
        good), whose executable this one and those made by _rebound share."""
        core = copy.copy(self)
        core._original = None
        self._core = core
        return core

    def _rebound(self, original):
        """A ScriptFunction for `original` sharing this one's graph and executable (its
        compiled specializations): gpujit.script(f) again after the first one was
        dropped compiles nothing, as PyTorch finds the function in its compilation unit."""
        fn = copy.copy(self)
        fn._original = original
        fn._core = self
        fn._executable = self._executable
        return fn

    def _get_executable(self):
        if self._core is not None:
            self._executable = self._core._get_executable()
            return self._executable
        return super()._get_executable()

    def __call__(self, *args, **kwargs):
        try:
            exe = self._executable or self._get_executable()
            if self._copiers != ():
                args = self._copy_containers(args)
                if self._copies_out:        # (the fast path's gate, then its dispatch)
                    if kwargs or len(args) != self._arity or _dispatch.hook is not None or \
                            _strict_open[0] or exe.calls_autograd:
                        return _copied(self._run((), args, kwargs))
                    _LAST[0] = exe.weak_self
                    return _copied(exe._dispatch(*args))
            # (a graph calling autograd itself, x.detach_() / requires_grad_ / backward,
            # runs node by node on Tensor objects: _run)
            if kwargs or len(args) != self._arity or _dispatch.hook is not None or \
                    _strict_open[0] or exe.calls_autograd:
                if kwargs or _Active.session is not None or _strict.depth or \
                        exe.calls_autograd or _autocast.active or _grad_state.inference or \
                        _dispatch.forward_ad is not None or \
                        len(args) != self._arity:
                    return self._run((), args, kwargs)
                if _dispatch.autograd is not None and (_grad_state.enabled or _enables_grad(exe)):
                    # recording gradients, no trace, strict_fusion or autocast region: _run's
                    # path taken at once when the arguments are Tensors (_needs_grad decides
                    # for any other)
                    grad = False
                    for a in args:
                        if not isinstance(a, Tensor):
                            return self._run((), args, kwargs)
                        ag = a._ag
                        if ag is not None and ag.requires_grad:
                            grad = True
                    _LAST[0] = exe.weak_self
                    if grad:
                        # fused groups record one backward node each (jit/autodiff.py)
                        return exe.call_recording(*args, runner=_DiffGroup)
            _LAST[0] = exe.weak_self
            return exe._dispatch(*args)
        except Exception as e:
            _raise_as_runtime_error(e)
            raise

    def save(self, f, _extra_files=None, *, format=None):
        """Save to a path or binary file object (see gpujit.jit.save)."""
        from ..serialization import save
        save(self, f, _extra_files=_extra_files, format=format)

    def save_to_buffer(self, _extra_files=None, *, format=None):
        """The bytes that save() would write (gpujit.jit.load reads them from a BytesIO)."""
        import io
        buf = io.BytesIO()
        self.save(buf, _extra_files=_extra_files, format=format)
        return buf.getvalue()

    def __repr__(self):
        return f"<gpujit.jit.ScriptFunction {self.name}>"


class ScriptMethod(_GraphCallable):
    """A compiled method of a ScriptModule, bound to it."""

    @property
    def code_with_constants(self):
        """(code, {"c<k>": value}): `.code` and the table of the constants it names
        `CONSTANTS.c<k>` (tensors), as TorchScript's ScriptMethod gives them (a
        ScriptFunction has none, as in torch)."""
        table = []
        code = self._source(table)
        return code, {f"c{k}": v for k, v in enumerate(table)}

    def __init__(self, module, graph, name):
        self._init_graph(graph, name)
        self.owner = module

    def __call__(self, *args, **kwargs):
        try:
            exe = self._executable or self._get_executable()
            if self._copiers != ():
                args = self._copy_containers(args, 1)
                if self._copies_out:        # (the fast path's gate, then its dispatch)
                    if kwargs or len(args) + 1 != self._arity or _dispatch.hook is not None or \
                            _strict_open[0] or exe.calls_autograd:
                        return _copied(self._run((self.owner,), args, kwargs))
                    _LAST[0] = exe.weak_self
                    return _copied(exe._dispatch(self.owner, *args))
            # (a graph calling autograd itself, x.detach_() / requires_grad_ / backward,
            # runs node by node on Tensor objects: _run)
            if kwargs or len(args) + 1 != self._arity or _dispatch.hook is not None or \
                    _strict_open[0] or exe.calls_autograd:
                if kwargs or _Active.session is not None or _strict.depth or \
                        exe.calls_autograd or _autocast.active or _grad_state.inference or \
                        _dispatch.forward_ad is not None or \
                        len(args) + 1 != self._arity:
                    return self._run((self.owner,), args, kwargs)
                if _dispatch.autograd is not None and (_grad_state.enabled or _enables_grad(exe)):
                    # recording gradients, no trace, strict_fusion or autocast region: as
                    # ScriptFunction's call (Tensor arguments, then the module's parameters and
                    # the tensor attributes the method reads, decide as _needs_grad does)
                    grad = False
                    for a in args:
                        if not isinstance(a, Tensor):
                            return self._run((self.owner,), args, kwargs)
                        ag = a._ag
                        if ag is not None and ag.requires_grad:
                            grad = True
                    owner = self.owner
                    if not grad:
                        grad = _needs_grad((), owner, self._tensor_attr_paths(), True)
                    _LAST[0] = exe.weak_self
                    if grad:
                        return exe.call_recording(owner, *args, runner=_DiffGroup)
            _LAST[0] = exe.weak_self
            return exe._dispatch(self.owner, *args)
        except Exception as e:
            _raise_as_runtime_error(e)
            raise

    def _leading(self):
        return (self.owner,)

    def __repr__(self):
        owner = self.owner      # (a module, or an object of a loaded script class)
        name = owner._get_name() if isinstance(owner, Module) else type(owner).__name__
        return f"<gpujit.jit.ScriptMethod {name}.{self.name}>"


# the module classes live in script_module.py (which reads ScriptMethod from here)
from .script_module import ScriptModule, TopLevelTracedModule, TracedModule  # noqa: E402
from ..frontend.script.modules import RecursiveScriptModule  # noqa: E402 (cycle)
from ..frontend.script.classes import _CLASSES as _script_classes  # noqa: E402 (cycle)
