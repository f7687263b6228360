"""The compiled modules: ScriptModule (the base of traced and scripted modules: a Module
whose methods are ScriptMethods, graph and all; submodule swaps checked as TorchScript
checks them; `define`, `@script_method` subclasses, copy, pickling refused) and
TracedModule, which gpujit.trace builds mirroring a module (`traced_module_from`)."""
from __future__ import annotations

import copy
import inspect
import types as _pytypes
import weakref

from ..ir import types as T
from ..nn.module import Module
from .objects import ScriptMethod
from ..tensor import Tensor as _Tensor
from ..nn.parameter import Parameter as _Parameter

__all__ = ["ScriptModule", "TracedModule", "traced_module_from"]


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


# a method's graph -> (a weak reference to) the ScriptMethod first made of it: its
# parameters' defaults, for the other modules of its type (ScriptModule.shared_method)
_METHODS_OF_GRAPH: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


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


class ConstMap:
    """The constants table of code_with_constants: `.const_mapping` ({"c0": tensor}) and
    each entry as an attribute (`consts.c0`), as torch.jit._script.ConstMap."""

    def __init__(self, const_mapping):
        self.const_mapping = const_mapping

    def __getattr__(self, attr):
        return self.const_mapping[attr]


def copy_on_read(name):
    """Attribute `name` of scripted modules holds a list, dict or script-class object: a
    read from Python gets a new value, as TorchScript's (runtime.arguments.CopiedOnRead,
    on the ScriptModule class; names the class or Module itself uses are left alone)."""
    from ..runtime.arguments import COPIED_ON_READ, CopiedOnRead
    if name in COPIED_ON_READ:
        return
    if name.startswith("__") or hasattr(ScriptModule, name) or name in _instance_names():
        return
    setattr(ScriptModule, name, CopiedOnRead(name))
    COPIED_ON_READ.add(name)


_INSTANCE_NAMES = []


def _instance_names():
    """The names a ScriptModule instance keeps in its own __dict__ (training, _parameters,
    _script_methods...)."""
    if not _INSTANCE_NAMES:
        _INSTANCE_NAMES.append(frozenset(vars(ScriptModule())))
    return _INSTANCE_NAMES[0]


def _cast_attribute(name, value, t):
    """value as the scripted module's attribute of IR type t holds it (True for an int is
    1, 2 for a float 2.0, a tuple for a List a list), as TorchScript converts it; a value
    that does not convert raises its RuntimeError "Could not cast attribute"."""
    from ..runtime.arguments import _convert, _Mismatch, _cast_details, _culprit
    try:
        return _convert(value, t)
    except _Mismatch as e:
        why = e.args[0] if e.args else \
            _cast_details(*_culprit(value, t)).replace("\nCast error details: ", "", 1) \
            .replace("\n Python error details: ", "", 1)
        raise RuntimeError(f"Could not cast attribute '{name}' to type {t.annotation()}: "
                           f"{why}") from None


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
        consts = self.__dict__.get("_script_constants")
        if consts and name in consts:       # __constants__ / Final: baked into the code
            raise RuntimeError(f"Can't set constant '{name}' which has value:{consts[name]}")
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
        t = self.__dict__.get("_type")
        t = t.attributes.get(name) if t is not None else None
        if t is not None:
            # a dtype for an attribute typed int (`self.dt = torch.float64`): TorchScript
            # stores its ScalarType code (m.dt = torch.float16 reads back as 5)
            from ..frontend.script.module_attrs import dtype_codes
            from ..runtime.arguments import copied, holds_container
            value = _cast_attribute(name, dtype_codes(value, t), t)
            if holds_container(t):
                # (converted, as TorchScript's: the caller's list appended to later leaves
                # the module's alone)
                value = copied(value)
        params = self.__dict__.get("_parameters")
        if params is not None and name in params and isinstance(value, _Tensor) and \
                not isinstance(value, _Parameter):
            # a plain Tensor for a parameter (scripted `self.w = x * 2`, or from Python):
            # the slot holds it, as TorchScript's module attribute of type Tensor
            params[name] = value
            return
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
        known = _METHODS_OF_GRAPH.get(graph)
        if known is None or known() is None:
            _METHODS_OF_GRAPH[graph] = weakref.ref(m)      # (for shared_method)
        if isinstance(inspect.getattr_static(type(self), name, None), _pytypes.FunctionType):
            # a compiled method named like an nn.Module one (`_save_to_state_dict`,
            # `_load_from_state_dict` exported by the user): the instance's own attribute,
            # as in TorchScript, so state_dict() / load_state_dict() call the override
            object.__setattr__(self, name, m)
        if self._type is not None:
            self._type.methods[name] = graph
        return m

    def shared_method(self, name):
        """Method `name` compiled on another scripted module of this one's type (they
        share their ClassType, as in TorchScript): bound to this one, or None."""
        t = self.__dict__.get("_type")
        graph = t.methods.get(name) if t is not None else None
        ref = _METHODS_OF_GRAPH.get(graph) if graph is not None else None
        src = ref() if ref is not None else None
        if src is None:
            return None
        defaults = dict(src._defaults)
        m = self._add_method(name, graph)
        m._defaults = defaults
        return m

    def __getattr__(self, name):
        d = self.__dict__
        sm = d.get("_script_methods")
        if sm is not None and name in sm:
            return sm[name]
        if sm is not None and not name.startswith("__"):
            m = self.shared_method(name)
            if m is not None:
                return m
        prop = (d.get("_script_properties") or {}).get(name)
        if prop is not None:            # a property of the class, compiled (its getter)
            return sm[prop[0]]()
        if name == "forward":
            raise AttributeError(f"'RecursiveScriptModule' object has no attribute 'forward' "
                                 f"({self._get_name()} has no compiled forward: it was not "
                                 f"traced or scripted, or its parent's trace never called "
                                 f"it)")
        try:
            return super().__getattr__(name)
        except AttributeError:
            if not isinstance(self, TracedModule):
                raise
            # (torch 2.13's words for a traced module too: its C++ module's class)
            raise AttributeError(f"'RecursiveScriptModule' object has no attribute "
                                 f"'{name}'") from None

    @property
    def forward(self):
        """The compiled forward, a ScriptMethod (`tm.forward.graph` works as in torch)."""
        m = self._script_methods.get("forward")
        if m is None and "_python_forward" in self.__dict__:
            return self.__dict__["_python_forward"]   # an @unused / @ignore'd forward: Python
        if m is None:
            overloads = sorted(n for n in self._script_methods if n.startswith("forward__"))

            def missing(*args, **kwargs):
                raise RuntimeError(
                    f"{self._get_name()}.forward is overloaded (@torch.jit._overload_"
                    f"method): scripted callers run the overload their arguments pick "
                    f"({', '.join(overloads) or 'none was called'}); it cannot be "
                    f"called directly")
            if overloads or self.__dict__.get("_overloaded_forward"):
                return missing
            # no forward at all (a trace_module of other methods, a submodule its parent's
            # trace never called): no such attribute, as PyTorch's (hasattr is False);
            # __getattr__ below says why
            raise AttributeError("forward")
        return m

    def _method(self, name="forward"):
        m = self._script_methods.get(name)
        if m is None:
            raise AttributeError(f"{self._get_name()} has no compiled method {name!r}")
        return m

    @property
    def _c(self):
        """The torch._C.ScriptModule view (jit/c_module.py)."""
        from .c_module import c_module
        return c_module(self)

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
    def code_with_constants(self):
        """(forward's code, a ConstMap of the tensors it names `CONSTANTS.c<k>`), as
        torch's RecursiveScriptModule.code_with_constants."""
        code, table = self._method().code_with_constants
        return code, ConstMap(table)

    @property
    def schema(self):
        return self._method().schema

    def graph_for(self, *args, **kwargs):
        return self._method().graph_for(*args, **kwargs)

    def fusion_report(self, *args, **kwargs):
        return self._method().fusion_report(*args, **kwargs)

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
        methods = {}
        for name, m in self._script_methods.items():
            methods[name] = ScriptMethod(new, m.graph, name)
            # (its parameters' defaults: `forward(self, input, hx: Optional[Tensor] = None)`)
            methods[name]._defaults = dict(m._defaults)
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
        methods = {}
        for name, m in self._script_methods.items():
            methods[name] = ScriptMethod(new, m.graph, name)
            # (its parameters' defaults: `forward(self, input, hx: Optional[Tensor] = None)`)
            methods[name]._defaults = copy.deepcopy(m._defaults, memo)
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

    @property
    def _name(self):
        """The traced module's class name (torch's TracedModule._name, which
        torch.utils.tensorboard's add_graph reads)."""
        return self.original_name

    def _get_name(self):
        return self.original_name

    def extra_repr(self):
        return f"original_name={self.original_name}"


class TopLevelTracedModule(TracedModule):
    """The module torch.jit.trace / trace_module return (its submodules are TracedModules),
    as in torch: `type(traced).__name__ == "TopLevelTracedModule"`."""


def traced_module_from(module, graphs_by_module: dict, types: dict, memo=None, ctx=None):
    """A TracedModule mirroring `module`: same parameter/buffer objects, submodules mirrored,
    a forward for every module that has a recorded graph. One module registered under two
    names gets a TracedModule per name, sharing its parameters and buffers, as
    torch.jit.trace does (named_modules lists both names); `memo` holds the ancestors being
    mirrored (a module holding one of them gets that one back).

    With `ctx` (a script _Context: torch's make_module for a module with @export
    methods) every mirror is a RecursiveScriptModule, as torch's create_script_module
    makes them, registered in that one context before its exports compile: an export
    calling a submodule scripts the submodule's Python method onto its mirror under the
    method's own name (`forward`), and the traced graphs are added afterwards
    (`add_traced_graphs`)."""
    if memo is None:
        memo = {}
    if id(module) in memo:
        return memo[id(module)]
    if isinstance(module, ScriptModule):
        return module                 # already compiled: keep it (and its methods)
    if ctx is not None:
        from ..frontend.script import modules as _sm
        tm = _sm._ScriptContainer() if _sm._container_kind(module) else \
            _sm.RecursiveScriptModule()
        if _sm._container_kind(module):
            object.__setattr__(tm, "_container_kind", _sm._container_kind(module))
    else:
        tm = TracedModule() if memo else TopLevelTracedModule()
    memo[id(module)] = tm
    object.__setattr__(tm, "original_name", type(module).__name__)
    object.__setattr__(tm, "_type", types.get(id(module)))
    for name, p in module._parameters.items():
        tm._parameters[name] = p
    for name, b in module._buffers.items():
        tm._buffers[name] = b
    tm._non_persistent_buffers_set = set()   # (every buffer in its state_dict, as torch's)
    tm.training = module.training
    for name, c in module._modules.items():
        if c is not None:         # (a submodule set to None is left out, as in torch)
            tm._modules[name] = traced_module_from(c, graphs_by_module, types, memo, ctx)
    for name, graph in graphs_by_module.get(id(module), {}).items():
        tm._add_method(name, graph)
    _script_exports(module, tm, ctx)
    del memo[id(module)]
    return tm


def add_traced_graphs(ctx, graphs_by_module: dict):
    """The traced graphs (id(original) -> {method: graph}) added to the mirrors
    registered in ctx (traced_module_from with a ctx), beside the scripted methods."""
    for info in list(ctx.info.values()):
        for name, graph in graphs_by_module.get(id(info.module), {}).items():
            if name not in info.sm._script_methods:
                info.sm._add_method(name, graph)


def _script_exports(module, tm, ctx=None):
    """As torch.jit.trace does: the module's plain attributes (hyperparameters, ints,
    tensors...) stay readable on the traced module, and its @torch.jit.export methods
    are scripted onto it (a traced forward next to scripted methods)."""
    import inspect
    from ..frontend.script import modules as _sm
    from ..frontend.tracer import class_type_for
    from .script import function_modifier
    if tm._type is None:
        object.__setattr__(tm, "_type", class_type_for(module))
    if ctx is None:     # (given: one context for the tree, a parent's export may script
        ctx = _sm._Context()    # a child's method)
    ctx.scripted[id(module)] = tm
    info = _sm.ModuleInfo(module, tm, type(module).__name__)
    ctx.info[id(tm)] = info
    object.__setattr__(tm, "_script_constants", info.constants)
    # (silent about __constants__ that name a submodule: torchvision's segmentation
    # models' aux_classifier warns when scripted, not when traced, in torch 2.13)
    info.collect_attributes(warn=False)
    for name, fn in inspect.getmembers(type(module), inspect.isfunction):
        if name != "forward" and name not in tm._script_methods and \
                function_modifier(fn) == "export":
            ctx.method_graph(tm, name)
