"""What `gpujit.trace` (and later `gpujit.script`) return: ScriptFunction, and
ScriptModule / TracedModule with their ScriptMethods. Each holds a graph and exposes
`.graph`, `.inlined_graph`, `.code`, `.schema` and `graph_for(*inputs)`; calling one runs
the graph through the executor (gpujit.runtime)."""
from __future__ import annotations

import copy
import inspect
import threading
import types as _pytypes

from .. import fusers as _fusers
from ..autograd.grad_mode import state as _grad_state
from ..frontend import tracer as _tracer
from ..ops import registry as _reg
from ..tensor import Tensor
from ..ir import types as T
from ..nn.module import Module
from .autodiff import DifferentiableGroup as _DiffGroup

_LAST = [None]          # the executable of the compiled function called last
_EXE_LOCK = threading.RLock()   # threads calling a new function make one Executable
# read on every call (bound once: each module attribute lookup costs on the fast path):
# tracing, strict_fusion (this thread's depth) and autograd recording take the slow path
_Active = _tracer._Active
_strict = _fusers.strict._state
_dispatch = _reg.dispatch_state
# The fast path's gate, two plain reads: `_dispatch.hook` is None only while no thread
# traces (a thread's `_Active.session` is set only inside frontend.tracer.tracing, whose
# enter installs `dispatch_state.tracing` and whose exit clears the session before the
# hook), autograd has never been turned on and no autocast region is enabled,
# and `_strict_open[0]` is 0 only while no thread is inside strict_fusion. When either
# says otherwise, the full test (thread-local reads, ~60 ns each) decides.
_strict_open = _fusers.strict._entered


def _compile_script_methods(module):
    """Compile a ScriptModule subclass instance's `@script_method`s (as gpujit.script of
    the same module would) and bind the compiled methods to the instance."""
    from ..frontend.script.modules import script_module
    names = [n for n in dir(type(module))
             if getattr(getattr(type(module), n, None), "_gpujit_script_method", False)]
    compiled = script_module(module, recompile=True)
    object.__setattr__(module, "_type", compiled._type)
    # the graphs read the instance's own attributes: later changes (m.eval(), a new
    # weight) are seen as by any scripted module
    for name, m in compiled._script_methods.items():
        method = module._add_method(name, m.graph)
        method._defaults = dict(m._defaults)     # (`def forward(self, x, other=four)`)
        if not isinstance(inspect.getattr_static(type(module), name, None), property):
            object.__setattr__(module, name, method)     # (`forward` is a property)
    for name, sub in compiled._modules.items():     # scripted, sharing their parameters
        module._modules[name] = sub
    missing = [n for n in names if n not in compiled._script_methods]
    if missing:
        raise RuntimeError(f"{type(module).__name__}: @script_method {missing} not compiled")


def last_executed_optimized_graph():
    """torch.jit.last_executed_optimized_graph: the optimized graph (fusion groups and
    guards included) of the compiled function called last, as built for the input types
    it saw last (its newest specialization); None before any compiled function has run,
    as PyTorch's."""
    exe = _LAST[0]
    if exe is None:
        return None
    specs = exe.specializations
    return specs[-1].shown_graph() if specs else exe.graph


__all__ = ["last_executed_optimized_graph", "ScriptFunction", "ScriptMethod", "ScriptModule",
           "TracedModule", "RecursiveScriptModule"]


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

    @property
    def graph(self):
        return self._graph

    @property
    def inlined_graph(self):
        if self._inlined is None:
            from ..passes.inline import inline
            g = self._graph.copy()
            inline(g)
            self._inlined = g
        return self._inlined

    @property
    def code(self) -> str:
        from ..ir.python_printer import python_source
        return python_source(self._graph, name=self.name,
                             is_method=isinstance(self, ScriptMethod))

    @property
    def schema(self) -> str:
        ins = []
        first_kw = len(self._graph.inputs) - self._graph.kwarg_only
        for i, v in enumerate(self._graph.inputs):
            if i == first_kw and self._graph.kwarg_only:
                ins.append("*")
            name = _plain(v.debug_name)
            arg = f"{_schema_type(v.type)} {name}"
            if name in self._defaults:
                arg += "=" + _schema_default(self._defaults[name])
            ins.append(arg)
        outs = [_schema_type(v.type) for v in self._graph.outputs]
        ret = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ")"
        return f"{self.name}({', '.join(ins)}) -> {ret}"

    def _get_executable(self):
        if self._executable is None:
            with _EXE_LOCK:
                if self._executable is None:
                    from ..runtime import Executable
                    # the inlined graph when a method already made it (its attribute
                    # paths): the executor's own inlining then has nothing left to do
                    g = self._inlined if self._inlined is not None else self._graph
                    self._executable = Executable(g, self.name)
        return self._executable

    def _invalidate(self):
        self._executable = None

    def _run(self, leading, args, kwargs):
        if kwargs or len(leading) + len(args) != self._arity:
            args = self._bind_kwargs(args, kwargs, len(leading))
        grad = _needs_grad(args, leading[0] if leading else None,
                           self._tensor_attr_paths() if leading else (),
                           _enables_grad(self._get_executable()))
        session = _tracer.current_session()
        if session is not None and not session.paused:
            # called while tracing: compute (recording gradients if needed), then copy the
            # graph, control flow included, into the trace
            with _tracer.paused(session):
                out = self._call_graph(leading, args, grad)
            session.record_call(self.inlined_graph, leading[0] if leading else None,
                                args, out)
            return out
        if _reg.dispatch_state.autocast is not None:
            # an autocast region: its casts apply to the ops of the graph as to eager ones
            # (as PyTorch's dispatcher applies them to a scripted function's ops), so the
            # optimized graph runs node by node through the autocasting compute
            from ..runtime import interpret
            return interpret(self._get_executable().graph, *leading, *args)
        exe = _LAST[0] = self._get_executable()
        if _calls_autograd(exe):
            # x.backward(), torch.autograd.grad, requires_grad_: what they differentiate
            # must be recorded, so the graph runs node by node through the recording ops
            from ..runtime import interpret
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
        if had is not None and spec is not None and spec.unfused:
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
        g = self._graph_for(self._leading(), args, kwargs, shown=False)
        return _fusers.format_fusion_report(_fusers.fusion_report(g))

    def _too_many(self, given, skip):
        kw_only = self._graph.kwarg_only
        most = len(self._graph.inputs) - skip - kw_only
        if given > most and kw_only:        # (TorchScript's words, counting self)
            raise ScriptArgumentError(
                f"{self.name}() takes {most + skip} positional argument(s) but "
                f"{given + skip} was/were given. Declaration: {self.schema}")
        if given > most:
            raise ScriptArgumentError(
                f"{self.name}() expected at most {most} argument(s) but received {given} "
                f"argument(s). Declaration: {self.schema}")

    def _bind_kwargs(self, args, kwargs, skip):
        names = [_plain(v.debug_name) for v in self._graph.inputs[skip:]]
        self._too_many(len(args), skip)
        for n in names[:len(args)]:
            if n in kwargs:
                raise ScriptArgumentError(
                    f"Argument '{n}' specified both as positional and keyword argument. "
                    f"Schema: {self.schema}")
        out = list(args)
        for n in names[len(args):]:
            if n in kwargs:
                out.append(kwargs.pop(n))
            elif n in self._defaults:
                out.append(self._defaults[n])
            else:
                raise ScriptArgumentError(
                    f"{self.name}() is missing value for argument '{n}'. "
                    f"Declaration: {self.schema}")
        if kwargs:
            raise ScriptArgumentError(
                f"{self.name}() got unexpected keyword arguments {sorted(kwargs)}")
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


def _calls_autograd(exe) -> bool:
    """Does the compiled graph call autograd itself (frontend/script/autograd_calls.py)?"""
    r = exe.__dict__.get("_calls_autograd")
    if r is None:
        from ..ir.schema_match import AUTOGRAD_KINDS
        r = exe.__dict__["_calls_autograd"] = any(n.kind in AUTOGRAD_KINDS
                                                  for n in exe.graph.walk())
    return r


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
    for path in attr_paths:
        v = module
        for name in path:
            v = getattr(v, name, None)
        stack.append(v)
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
    if isinstance(module, Module):
        return any(p.requires_grad for p in module.parameters()) or any(
            b.requires_grad for b in module.buffers())
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
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_schema_default(x) for x in value) + "]"
    return str(value)


def _plain(name):
    base, _, suffix = name.rpartition(".")
    return base if base and suffix.isdigit() else name


class ScriptFunction(_GraphCallable):
    """A compiled free function (`gpujit.trace(fn, ...)`, later `gpujit.script(fn)`)."""

    def __init__(self, graph, name, original=None):
        self._init_graph(graph, name)
        self._original = original
        self._defaults = python_defaults(original)
        self.__name__ = self.__qualname__ = name
        self.__doc__ = getattr(original, "__doc__", None)

    def __call__(self, *args, **kwargs):
        exe = self._executable or self._get_executable()
        if kwargs or len(args) != self._arity or _dispatch.hook is not None or _strict_open[0]:
            if kwargs or _Active.session is not None or _strict.depth or (
                    _dispatch.autograd is not None and (
                        _grad_state.enabled or _enables_grad(exe))) or \
                    _dispatch.autocast is not None or \
                    len(args) != self._arity:
                return self._run((), args, kwargs)
        _LAST[0] = exe
        return exe._dispatch(*args)

    def save(self, f, _extra_files=None):
        """Save to a path or binary file object (see gpujit.jit.save)."""
        from ..serialization import save
        save(self, f, _extra_files=_extra_files)

    def save_to_buffer(self, _extra_files=None):
        """The bytes that save() would write (gpujit.jit.load reads them from a BytesIO)."""
        import io
        buf = io.BytesIO()
        self.save(buf, _extra_files=_extra_files)
        return buf.getvalue()

    def __repr__(self):
        return f"<gpujit.jit.ScriptFunction {self.name}>"


class ScriptMethod(_GraphCallable):
    """A compiled method of a ScriptModule, bound to it."""

    def __init__(self, module, graph, name):
        self._init_graph(graph, name)
        self.owner = module

    def __call__(self, *args, **kwargs):
        exe = self._executable or self._get_executable()
        if kwargs or len(args) + 1 != self._arity or _dispatch.hook is not None or _strict_open[0]:
            if kwargs or _Active.session is not None or _strict.depth or (
                    _dispatch.autograd is not None and (
                        _grad_state.enabled or _enables_grad(exe))) or \
                    _dispatch.autocast is not None or \
                    len(args) + 1 != self._arity:
                return self._run((self.owner,), args, kwargs)
        _LAST[0] = exe
        return exe._dispatch(self.owner, *args)

    def _leading(self):
        return (self.owner,)

    def __repr__(self):
        return f"<gpujit.jit.ScriptMethod {self.owner._get_name()}.{self.name}>"


def _same_module_type(a, b) -> bool:
    """Whether scripted modules a and b have one TorchScript type: compiled from the same
    class with the same constants, attribute types and submodules (recursively), so the
    code compiled for a runs b as it would run a."""
    ta, tb = a.__dict__.get("_type"), b.__dict__.get("_type")
    if ta is tb:
        return True
    if ta is None or tb is None or ta.py_class is not tb.py_class or \
            type(a) is not type(b) or a.original_name != b.original_name:
        return False
    if a.__dict__.get("_script_constants") != b.__dict__.get("_script_constants"):
        return False
    if set(ta.attributes) != set(tb.attributes) or list(a._modules) != list(b._modules):
        return False
    for k, t in ta.attributes.items():
        if k in a._modules:
            continue
        if not (isinstance(t, T.ClassType) and isinstance(tb.attributes[k], T.ClassType)) \
                and t != tb.attributes[k]:
            return False
    return all(isinstance(y, ScriptModule) and _same_module_type(x, y)
               if isinstance(x, ScriptModule) else type(x) is type(y)
               for x, y in zip(a._modules.values(), b._modules.values()))


def _check_swap(name, old, value):
    """Replacing submodule `name` of a scripted module (not declared with an interface
    type): only by a scripted module of the same type, as TorchScript allows."""
    if not isinstance(value, ScriptModule):
        raise RuntimeError(f"Cannot re-assign modules in a ScriptModule with non-scripted "
                           f"module, tried to replace existing module '{name}': {value!r}")
    if not _same_module_type(old, value):
        def shown(m):
            t = m.__dict__.get("_type")
            return t.name if t is not None else m.original_name
        raise RuntimeError(f"Expected a value of type '{shown(old)}' for field '{name}', "
                           f"but found '{shown(value)}'")


class ScriptModule(Module):
    """The shared base of traced and scripted modules: a module whose methods are graphs.
    Parameters and buffers are the original module's own objects (training one trains the
    other); submodules are ScriptModules too."""

    _kind = "ScriptModule"

    def __init__(self):
        super().__init__()
        object.__setattr__(self, "_script_methods", {})
        object.__setattr__(self, "original_name", type(self).__name__)
        object.__setattr__(self, "_type", None)

    def __init_subclass__(cls, **kwargs):
        """A user's subclass with `@torch.jit.script_method` methods (TorchScript's
        deprecated API): once an instance's outermost __init__ has run, its marked methods
        (and what they call) are compiled and bound to the instance."""
        super().__init_subclass__(**kwargs)
        if not any(getattr(f, "_gpujit_script_method", False) for f in vars(cls).values()):
            return
        init = cls.__init__

        def __init__(self, *args, **kw):
            depth = self.__dict__.get("_script_init_depth", 0)
            object.__setattr__(self, "_script_init_depth", depth + 1)
            try:
                init(self, *args, **kw)
            finally:
                object.__setattr__(self, "_script_init_depth", depth)
            if depth == 0:
                _compile_script_methods(self)
        __init__.__wrapped__ = init
        cls.__init__ = __init__

    def __setattr__(self, name, value):
        iface = (self.__dict__.get("_interface_attrs") or {}).get(name)
        if iface is not None:    # a submodule declared with an interface type: swappable
            from .interface import check_implements
            if not isinstance(value, ScriptModule):
                raise RuntimeError(
                    f"Cannot assign to the attribute '{name}' (interface {iface.name}) of "
                    f"a ScriptModule with non-scripted module {type(value).__name__}: "
                    f"script it first with gpujit.jit.script")
            check_implements(iface, value, where=f" (assigned to the attribute '{name}')")
        else:
            old = (self.__dict__.get("_modules") or {}).get(name)
            if isinstance(old, ScriptModule):
                _check_swap(name, old, value)
        prop = (self.__dict__.get("_script_properties") or {}).get(name)
        if prop is not None:
            if prop[1] is None:
                raise AttributeError(f"the property '{name}' of {self._get_name()} has no "
                                     f"setter")
            self._script_methods[prop[1]](value)
            return
        super().__setattr__(name, value)

    def define(self, src: str):
        """Compile the methods of TorchScript source text (`def forward(self, x): ...`)
        as methods of this module, as torch.jit.ScriptModule.define does: they see the
        attributes the module has now."""
        from .compilation_unit import source_functions
        defined = self.__dict__.get("_defined_methods")
        if defined is None:
            defined = {}
            object.__setattr__(self, "_defined_methods", defined)
        defined.update(source_functions(src, "ScriptModule.define"))
        _compile_script_methods(self)

    def _add_method(self, name, graph):
        m = ScriptMethod(self, graph, name)
        self._script_methods[name] = m
        if isinstance(inspect.getattr_static(type(self), name, None), _pytypes.FunctionType):
            # a compiled method named like an nn.Module one (`_save_to_state_dict`,
            # `_load_from_state_dict` exported by the user): the instance's own attribute,
            # as in TorchScript, so state_dict() / load_state_dict() call the override
            object.__setattr__(self, name, m)
        if self._type is not None:
            self._type.methods[name] = graph
        return m

    def __getattr__(self, name):
        d = self.__dict__
        sm = d.get("_script_methods")
        if sm is not None and name in sm:
            return sm[name]
        prop = (d.get("_script_properties") or {}).get(name)
        if prop is not None:            # a property of the class, compiled (its getter)
            return sm[prop[0]]()
        return super().__getattr__(name)

    @property
    def forward(self):
        """The compiled forward, a ScriptMethod (`tm.forward.graph` works as in torch)."""
        m = self._script_methods.get("forward")
        if m is None:
            overloads = sorted(n for n in self._script_methods if n.startswith("forward__"))

            def missing(*args, **kwargs):
                if overloads or self.__dict__.get("_overloaded_forward"):
                    raise RuntimeError(
                        f"{self._get_name()}.forward is overloaded (@torch.jit._overload_"
                        f"method): scripted callers run the overload their arguments pick "
                        f"({', '.join(overloads) or 'none was called'}); it cannot be "
                        f"called directly")
                raise RuntimeError(f"{self._get_name()} has no compiled forward (it was not "
                                   f"called while tracing its parent, so it has no graph)")
            return missing
        return m

    def _method(self, name="forward"):
        m = self._script_methods.get(name)
        if m is None:
            raise AttributeError(f"{self._get_name()} has no compiled method {name!r}")
        return m

    @property
    def graph(self):
        return self._method().graph

    @property
    def inlined_graph(self):
        return self._method().inlined_graph

    @property
    def code(self):
        return self._method().code

    @property
    def schema(self):
        return self._method().schema

    def graph_for(self, *args, **kwargs):
        return self._method().graph_for(*args, **kwargs)

    def fusion_report(self, *args, **kwargs):
        return self._method().fusion_report(*args, **kwargs)

    def save(self, f, _extra_files=None):
        """Save to a path or binary file object (see gpujit.jit.save)."""
        from ..serialization import save
        save(self, f, _extra_files=_extra_files)

    def save_to_buffer(self, _extra_files=None):
        """The bytes that save() would write (gpujit.jit.load reads them from a BytesIO)."""
        import io
        buf = io.BytesIO()
        self.save(buf, _extra_files=_extra_files)
        return buf.getvalue()

    def _get_name(self):
        return f"{self._kind}[{self.original_name}]"

    def _apply(self, fn, recurse=True):
        # a new dtype or device of the parameters changes what the compiled code must do
        r = super()._apply(fn, recurse)
        for m in self._script_methods.values():
            m._invalidate()
        return r

    def __getstate__(self):
        # TorchScript modules are saved with torch.jit.save only: pickling one (torch.save
        # of it or of an nn.Module holding one) fails as in PyTorch, rather than writing a
        # file that torch.load cannot turn back into a working module
        t = self.__dict__.get("_type")
        name = t.name if t is not None else "__torch__.torch.jit._script." + self._kind
        raise RuntimeError(f"Tried to serialize object {name} which does not have a "
                           f"__getstate__ method defined!")

    def __copy__(self):
        # a shallow copy shares parameters, submodules and methods' graphs (what
        # __getstate__ would otherwise have been asked for)
        new = self.__class__.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        for k in ("_parameters", "_buffers", "_modules"):
            if k in new.__dict__:
                object.__setattr__(new, k, type(self.__dict__[k])(self.__dict__[k]))
        methods = {name: ScriptMethod(new, m.graph, name)
                   for name, m in self._script_methods.items()}
        for k, v in self.__dict__.items():
            if isinstance(v, ScriptMethod) and v.owner is self and k in methods:
                object.__setattr__(new, k, methods[k])
        object.__setattr__(new, "_script_methods", methods)
        return new

    def __deepcopy__(self, memo):
        # parameters and buffers are copied; graphs and the class type are shared (they are
        # not changed after tracing); methods are rebound to the copy, executors made anew
        # (a torch.jit.ScriptModule subclass also holds its @script_methods as instance
        # attributes: they are rebound too, never copied graph and all)
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        methods = {name: ScriptMethod(new, m.graph, name)
                   for name, m in self._script_methods.items()}
        for k, v in self.__dict__.items():
            if isinstance(v, ScriptMethod) and v.owner is self and k in methods:
                object.__setattr__(new, k, methods[k])
            elif k not in ("_script_methods", "_type"):
                object.__setattr__(new, k, copy.deepcopy(v, memo))
        object.__setattr__(new, "_type", self._type)
        object.__setattr__(new, "_script_methods", methods)
        return new

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._script_methods))


class TracedModule(ScriptModule):
    """Printed as torch.jit.trace's modules print: `MyCell(original_name=MyCell ...)`."""
    _kind = "TracedModule"

    def _get_name(self):
        return self.original_name

    def extra_repr(self):
        return f"original_name={self.original_name}"




def traced_module_from(module, graphs_by_module: dict, types: dict, memo=None):
    """A TracedModule mirroring `module`: same parameter/buffer objects, submodules mirrored,
    a forward for every module that has a recorded graph. One module registered under two
    names gets a TracedModule per name, sharing its parameters and buffers, as
    torch.jit.trace does (named_modules lists both names); `memo` holds the ancestors being
    mirrored (a module holding one of them gets that one back)."""
    if memo is None:
        memo = {}
    if id(module) in memo:
        return memo[id(module)]
    if isinstance(module, ScriptModule):
        return module                 # already compiled: keep it (and its methods)
    tm = TracedModule()
    memo[id(module)] = tm
    object.__setattr__(tm, "original_name", type(module).__name__)
    object.__setattr__(tm, "_type", types.get(id(module)))
    for name, p in module._parameters.items():
        tm._parameters[name] = p
    for name, b in module._buffers.items():
        tm._buffers[name] = b
    tm._non_persistent_buffers_set = set(getattr(module, "_non_persistent_buffers_set", ()))
    tm.training = module.training
    for name, c in module._modules.items():
        if c is not None:         # (a submodule set to None is left out, as in torch)
            tm._modules[name] = traced_module_from(c, graphs_by_module, types, memo)
    for name, graph in graphs_by_module.get(id(module), {}).items():
        tm._add_method(name, graph)
    _script_exports(module, tm)
    del memo[id(module)]
    return tm


def _script_exports(module, tm):
    """As torch.jit.trace does: the module's plain attributes (hyperparameters, ints,
    tensors...) stay readable on the traced module, and its @torch.jit.export methods
    are scripted onto it (a traced forward next to scripted methods)."""
    import inspect
    from ..frontend.script import modules as _sm
    from ..frontend.tracer import class_type_for
    from .script import function_modifier
    if tm._type is None:
        object.__setattr__(tm, "_type", class_type_for(module))
    ctx = _sm._Context()
    ctx.scripted[id(module)] = tm
    info = _sm.ModuleInfo(module, tm, type(module).__name__)
    ctx.info[id(tm)] = info
    object.__setattr__(tm, "_script_constants", info.constants)
    info.collect_attributes()
    for name, fn in inspect.getmembers(type(module), inspect.isfunction):
        if name != "forward" and name not in tm._script_methods and \
                function_modifier(fn) == "export":
            ctx.method_graph(tm, name)


from ..frontend.script.modules import RecursiveScriptModule  # noqa: E402 (cycle)
from ..frontend.script.classes import _CLASSES as _script_classes  # noqa: E402 (cycle)
