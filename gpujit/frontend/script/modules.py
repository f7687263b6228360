"""Scripting nn.Module instances (`gpujit.script(module)`), recursively.

The module becomes a RecursiveScriptModule that shares its parameters and buffers with
the original; every submodule is scripted the same way (one that is already a
ScriptModule, traced or scripted, is kept with its graphs). Each module gets a ClassType;
a method's graph takes `self` (of that type) as input 0 and reads state through
prim::GetAttr: submodules, parameters and buffers, `training`, and plain Python attributes
whose type can be inferred (int, float, bool, str, Tensors, lists and tuples of them, or
declared with a class annotation / gpujit.jit.Attribute). Names in `__constants__` or
annotated `Final` become constants. `self.sub(x)` is a prim::CallMethod[name="forward"]
whose callee graph is in `node.meta["callee"]` and in the callee's ClassType.methods;
`self.helper(x)` compiles `helper` too. A loop over an nn.Sequential / nn.ModuleList is
unrolled, and a ModuleList indexed by an int constant is a GetAttr of that child.
"""
from __future__ import annotations

import ast
import inspect
import weakref

from ...ir import types as T
from ..qualified_names import archive_name
from ...nn.module import Module
from .calls import describe_type
from .compiler import FunctionCompiler, compile_function, overload_compiler
from .module_containers import ModuleContainerMixin, is_container as _is_container, \
    container_kind as _container_kind, \
    is_module_dict as _is_module_dict, is_sequential_sm as _is_sequential_sm, \
    is_param_container
from .errors import FrontendError
from .variables import Var
from .module_attrs import ModuleInfo, untyped_reason
from .interfaces import InterfaceMixin, check_interface_attrs
from .module_hooks import HookCallMixin, _hooks_of, compile_hooks
from .module_members import PropertyMixin, compile_properties, copy_ignored_methods, \
    ignored_method

__all__ = ["script_module", "RecursiveScriptModule"]


def _script_module_base():
    from ...jit.objects import ScriptModule
    return ScriptModule


def _make_class():
    base = _script_module_base()

    class RecursiveScriptModule(base):
        """A module compiled from its Python source by gpujit.script. Printed as
        TorchScript prints it: `RecursiveScriptModule(original_name=MyCell ...)`."""
        _kind = "RecursiveScriptModule"

        def _get_name(self):
            return "RecursiveScriptModule"

        def extra_repr(self):
            return f"original_name={self.original_name}"

    class ScriptModuleContainer(RecursiveScriptModule):
        """A scripted nn.Sequential / nn.ModuleList: still indexable and iterable in
        Python."""

        def __getitem__(self, idx):
            if _container_kind(self) == "ModuleDict":
                return self._modules[idx]
            mods = list(self._modules.values())
            if isinstance(idx, slice):
                raise TypeError("slicing a scripted container is not supported")
            return mods[idx]

        def __len__(self):
            return len(self._modules)

        def __iter__(self):
            if _container_kind(self) == "ModuleDict":
                return iter(self._modules)
            return iter(self._modules.values())

        def __contains__(self, key):
            return key in self._modules

        def keys(self):
            return self._modules.keys()

        def values(self):
            return self._modules.values()

        def items(self):
            return self._modules.items()

    for name in _NOT_ON_SCRIPT_MODULES:
        setattr(RecursiveScriptModule, name, _make_fail(name))
    return RecursiveScriptModule, ScriptModuleContainer


# the nn.Module methods torch 2.13's RecursiveScriptModule replaces with a failing stub
# (torch/jit/_script.py: those it neither defines nor allows; a traced module keeps them):
# hooks registered on a module before it is scripted are compiled into it, not after
_NOT_ON_SCRIPT_MODULES = (
    "bfloat16", "compile", "get_buffer", "get_parameter", "get_submodule", "ipu", "mtia",
    "register_backward_hook", "register_forward_hook", "register_forward_pre_hook",
    "register_full_backward_hook", "register_full_backward_pre_hook",
    "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
    "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_",
    "set_submodule", "to_empty", "xpu")


def _make_fail(name):
    def fail(self, *args, **kwargs):
        raise RuntimeError(name + " is not supported on ScriptModules")
    fail.__name__ = name
    return fail


RecursiveScriptModule, _ScriptContainer = _make_class()



# ---------------------------------------------------------------------- scripting

def _typed(v):
    """A constant's value with its kind, for comparing concrete types: 0, 0.0 and False
    are equal in Python but are three constants to TorchScript (nn.Dropout(0) refuses
    its int p where an earlier nn.Dropout(0.0) compiled), also inside tuples."""
    if type(v) in (list, tuple):
        return type(v), tuple(_typed(x) for x in v)
    return type(v), v


def _typed_constants(constants):
    return {name: _typed(v) for name, v in constants.items()}


def _concrete_key(mod, sm, info, kind):
    """What TorchScript's ConcreteModuleTypeBuilder compares to decide whether two
    modules being scripted share one type: the class, container kind, constants, typed
    and untyped attributes, function attributes, ignored names, parameters and buffers
    (by name, and which are None), hooks, defined methods, and each submodule's type name
    (named before its parent: equal names, shared types)."""
    def sub_type(s):
        return None if s is None else getattr(getattr(s, "_type", None), "name", type(s))
    return (type(mod), kind, _typed_constants(info.constants), dict(info.attr_types),
            dict(info.untyped), dict(info.functions), frozenset(info.ignored),
            tuple((n, p is None) for n, p in mod._parameters.items()),
            tuple((n, b is None) for n, b in mod._buffers.items()),
            tuple((n, sub_type(s)) for n, s in sm._modules.items()),
            tuple(map(tuple, _hooks_of(mod))),
            tuple(mod.__dict__.get("_defined_methods", ())))


class _Context:
    """One call of script_module: scripted modules by original, methods in progress."""

    def __init__(self):
        # id(original) -> ScriptModule, for the modules being scripted now (a module that
        # holds one of its ancestors gets that ancestor's ScriptModule back). One module
        # registered under two names gets a ScriptModule per name, sharing its parameters
        # and buffers, as torch.jit.script does (named_modules lists both names).
        self.scripted = {}
        self.info = {}           # id(ScriptModule) -> ModuleInfo (module_attrs.py)
        self.in_progress = []    # (ScriptModule, method name) being compiled

    def script(self, mod, path=None, recompile=False):
        ScriptModule = _script_module_base()
        if isinstance(mod, ScriptModule) and not recompile:
            if mod._type is None:
                from ..tracer import class_type_for
                object.__setattr__(mod, "_type", class_type_for(mod))
            return mod
        hit = self.scripted.get(id(mod))
        if hit is not None:
            return hit
        if "_parameters" not in mod.__dict__:       # Module.__init__ never ran
            raise RuntimeError(f"'{type(mod).__name__}' has not been initialized, did you "
                               f"forget to call 'super()'?")
        _refuse_lazy(mod)
        from ..tracer import qualified_class_name, shared_type_name
        kind = _container_kind(mod)
        sm = _ScriptContainer() if kind else RecursiveScriptModule()
        if kind:
            object.__setattr__(sm, "_container_kind", kind)
        self.scripted[id(mod)] = sm
        # named once its concrete type is known (after its submodules and attributes)
        cls_type = T.ClassType(qualified_class_name(mod))
        object.__setattr__(sm, "original_name", type(mod).__name__)
        object.__setattr__(sm, "_type", cls_type)
        info = ModuleInfo(mod, sm, path or type(mod).__name__)
        self.info[id(sm)] = info
        object.__setattr__(sm, "_script_constants", info.constants)   # for save
        for name, p in mod._parameters.items():
            sm._parameters[name] = p
        for name, b in mod._buffers.items():
            sm._buffers[name] = b
        # (none is non-persistent: torch 2.13's scripted module keeps no such flag, its
        # state_dict lists every buffer, a register_buffer(..., persistent=False) one too)
        sm._non_persistent_buffers_set = set()
        sm.training = mod.training
        for name, c in mod._modules.items():
            if name in info.ignored:    # __jit_ignored_attributes__: stays a Python module
                object.__setattr__(sm, name, c)
                continue
            sm._modules[name] = self.script(c, f"{info.path}.{name}") if c is not None \
                else None
        info.collect_attributes()
        name = shared_type_name(mod, _concrete_key(mod, sm, info, kind))
        shared = T.module_type(name)
        if shared is not None and shared.py_class is cls_type.py_class and \
                hasattr(shared, "_instances") and \
                not recompile and not mod.__dict__.get("_defined_methods"):
            # (a type of scripted modules: a traced module's type of the same name is not)
            # an earlier scripted module of this concrete type is alive: its type, and the
            # methods compiled on it, are this one's, as TorchScript shares one ClassType
            # (`m.blocks[0].helper(5)` runs where only blocks[1].helper was compiled;
            # `a.forward.graph is b.forward.graph`)
            cls_type = shared
            object.__setattr__(sm, "_type", shared)
        else:
            object.__setattr__(cls_type, "name", name)
            # (a module a loaded archive made prints with the archive's name of its type)
            known = mod.__dict__.get("_type")
            object.__setattr__(cls_type, "shown", archive_name(type(mod)) or getattr(
                known, "shown", None))
            object.__setattr__(cls_type, "unit", vars(type(mod)).get("_jit_unit") or
                               getattr(known, "unit", None))
            T.register_class_type(cls_type, weak=True)
            object.__setattr__(cls_type, "_instances", weakref.WeakSet())
        cls_type._instances.add(sm)
        check_interface_attrs(self, mod, sm, info.path)     # `impl: ModuleInterface`
        compile_properties(self, mod, sm, info.methods_to_compile())
        compile_hooks(self, mod, sm)
        copy_ignored_methods(mod, sm)
        for method in list(cls_type.methods):     # (a shared type's: its callees too)
            if method not in sm._script_methods:
                sm.shared_method(method)
        if path is not None:
            del self.scripted[id(mod)]        # (done: another name gets its own)
        return sm

    def method_graph(self, sm, name, node=None, caller=None, fn=None, signature_from=None):
        """The graph of method `name` of the scripted module sm, compiled on first use
        (from `fn` when given: a base class's method that `super()` names; with the types
        of `signature_from` when given: an @_overload_method declaration)."""
        m = sm._script_methods.get(name)
        if m is not None:
            return m.graph
        if fn is None and signature_from is None:
            m = sm.shared_method(name)     # (compiled on another module of its type)
            if m is not None:
                return m.graph
        info = self.info.get(id(sm))
        if info is None:
            what = f"{sm._get_name()} has no compiled method '{name}'"
            if caller is not None:
                caller.error(what, node, hint="trace it with an example call of this method, "
                                              "or script the module instead")
            raise FrontendError(what)
        if (sm, name) in self.in_progress:
            cycle = " -> ".join(f"{s.original_name}.{n}" for s, n in self.in_progress)
            msg = (f"method '{name}' is called recursively. Recursive calls are not "
                   f"supported: recursive call of {info.original_name}.{name} "
                   f"({cycle} -> {name})")
            if caller is not None:
                caller.error(msg, node, hint="scripted methods cannot be recursive; "
                                             "write a loop")
            raise FrontendError(msg)
        original_fn = fn
        fn = fn or info.module.__dict__.get("_defined_methods", {}).get(name) or \
            getattr(type(info.module), name, None)      # (the first: define(src))
        raw = inspect.getattr_static(type(info.module), name, None)
        if original_fn is None and isinstance(raw, classmethod):
            # self.c(x) of a @classmethod: TorchScript compiles it as a method, `cls`
            # bound to the module (its type) as `self` is
            fn = raw.__func__
        if not inspect.isfunction(fn):
            # (torch 2.13's words first)
            msg = (f"Module '{info.original_name}' has no attribute '{name}' : "
                   f"'{info.original_name}' has no method '{name}'")
            attr_t = getattr(sm.__dict__.get("_type"), "attributes", {}).get(name)
            if attr_t is not None and isinstance(node, ast.Call):
                # self.agg(x) of a None / int / list attribute: torch 2.13's words, at
                # `self.agg`
                msg = f"cannot call a value of type '{attr_t.annotation()}'"
                node = node.func
            if name in info.ignored:
                msg = (f"'{name}' of {info.original_name} cannot be called here: the "
                       f"attribute was ignored during compilation "
                       f"(__jit_ignored_attributes__)")
            if caller is not None:
                caller.error(msg, node)
            raise FrontendError(msg)
        from ...jit.script import function_modifier
        if function_modifier(fn) in ("ignore", "drop"):
            msg = (f"{info.original_name}.{name} is marked @ignore / @unused; calling it from "
                   f"scripted code is not supported yet")
            if caller is not None:
                caller.error(msg, node, hint="remove the marker, or do not call it from "
                                             "scripted methods")
            raise FrontendError(msg)
        self.in_progress.append((sm, name))
        try:
            graph = compile_function(fn, make_compiler=overload_compiler(
                signature_from, lambda f, src: ModuleMethodCompiler(f, src, self, sm)))
        except FrontendError as e:
            if not getattr(e, "_gpujit_where", False):   # say which module, once
                e.args = (f"{e.args[0]}\n  (while scripting {info.path}: "
                          f"{info.original_name}.{name})",)
                e._gpujit_where = True
            raise
        finally:
            self.in_progress.pop()
        from ...jit.objects import python_defaults
        sm._add_method(name, graph)._defaults = python_defaults(fn)
        if original_fn is None and signature_from is None:
            # (the other live modules of its type have it too, as TorchScript's methods
            # belong to the type: saving one of them saves it)
            for other in getattr(sm._type, "_instances", ()):
                if other is not sm and name not in other._script_methods:
                    other.shared_method(name)
        return graph


def _refuse_lazy(mod):
    """TorchScript's error for a lazy module scripted before its first forward."""
    from ...nn.parameter import is_lazy
    for kind, items in (("parameters", mod._parameters), ("buffers", mod._buffers)):
        for name, t in items.items():
            if t is not None and is_lazy(t):
                cls = type(mod)
                raise RuntimeError(f"'{cls.__module__}.{cls.__qualname__}' has uninitialized "
                                   f"{kind} {name}. Did you forget to run a forward pass?")


def script_module(mod, recompile=False):
    """gpujit.script(module): the module and its submodules compiled, recursively.
    recompile: compile `mod` even though it is a ScriptModule (a subclass instance with
    `@script_method`s, gpujit/jit/objects.py)."""
    return _Context().script(mod, recompile=recompile)


# ---------------------------------------------------------------------- method compiler

class ModuleMethodCompiler(InterfaceMixin, ModuleContainerMixin, PropertyMixin,
                           HookCallMixin, FunctionCompiler):
    """A FunctionCompiler for a method: `self` is graph input 0, of the module's class
    type; values of class types stand for (scripted) modules."""

    def __init__(self, fn, src, ctx, sm):
        super().__init__(fn, src)
        self.ctx, self.sm = ctx, sm
        self.modules = {}        # Value of a class type -> the ScriptModule it holds
        self.dict_view = {}      # ModuleDict Value -> "values" after .values()

    def signature(self):
        from .signatures import signature_types
        params, ret = signature_types(self.signature_from or self.fn,
                                      self_type=self.sm._type)
        if not params:
            self.error(f"method '{self.src.name}' has no `self` parameter", self.src.fdef)
        if self.src.name == "__setstate__" and len(params) == 2 and \
                params[1][0] not in getattr(self.fn, "__annotations__", {}):
            # as TorchScript: an unannotated state has the type __getstate__ returns
            g = self.ctx.method_graph(self.sm, "__getstate__")
            if len(g.outputs) == 1:
                params = [params[0], (params[1][0], g.outputs[0].type)]
        return params, ret

    def module_of(self, v, node):
        if not self.modules and self.graph.inputs:
            self.modules[self.graph.inputs[0]] = self.sm
        sm = self.modules.get(v)
        if sm is None and self.graph.inputs and v is self.graph.inputs[0]:
            sm = self.modules[v] = self.sm
        if sm is None:
            sm = self._carried_module(v)
        if sm is None:
            self.error(f"{describe_type(v.type)} is not a module known here", node)
        return sm

    def _carried_module(self, v, depth=0):
        """The module a loop-carried `self` (a loop body's parameter, or the loop's
        output: a loop with a `return` in it carries every variable) or an if's output
        stands for, when all its sources are that module."""
        n = v.node
        if depth > 50 or n is None:
            return None
        sources = []
        if n.kind == "prim::Param":
            owner = n.owning_block.owning_node
            if owner is not None and owner.kind == "prim::Loop" and v.offset > 0:
                sources = [owner.inputs[1 + v.offset]]
        elif n.kind == "prim::Loop":
            sources = [n.inputs[2 + v.offset]]
        elif n.kind == "prim::If":
            sources = [b.outputs[v.offset] for b in n.blocks if b.outputs]
        elif n.kind in ("prim::TupleUnpack", "prim::TupleIndex") and \
                n.inputs[0].node is not None and \
                n.inputs[0].node.kind == "prim::TupleConstruct":
            # an element of a tuple of modules: `for layer in self.layers[:-1]` (a
            # ModuleList slice is a tuple) or `for m in (self.a, self.b)`
            k = v.offset if n.kind == "prim::TupleUnpack" else \
                n.inputs[1].node.attrs.get("value") if len(n.inputs) > 1 and \
                n.inputs[1].node is not None and \
                n.inputs[1].node.kind == "prim::Constant" else None
            if isinstance(k, int):
                sources = [n.inputs[0].node.inputs[k]]
        found = {id(m): m for m in (self.modules.get(x) or self._carried_module(x, depth + 1)
                                    for x in sources) if m is not None}
        if len(found) == 1 and len(sources) > 0 and all(
                self.modules.get(x) is not None or self._carried_module(x, depth + 1)
                is not None for x in sources):
            sm = next(iter(found.values()))
            self.modules[v] = sm
            return sm
        return None

    def get_attr(self, v, name, t):
        out = self.emit("prim::GetAttr", [v], [t], attrs={"name": name}).output
        if name.isidentifier():
            out.set_debug_name(name)
        elif name.isdigit():                 # a container's element: `_0`, as TorchScript
            out.set_debug_name("_" + name)
        if isinstance(t, T.ScalarTypeType):
            return self.as_dtype_int(out)   # a dtype attribute: an int in scripted code
        return out

    def submodule_value(self, v, sub, name):
        if sub._type is None:
            from ..tracer import class_type_for
            object.__setattr__(sub, "_type", class_type_for(sub))
        out = self.get_attr(v, name, sub._type)
        self.modules[out] = sub
        return out

    # ------------------------------------------------------------------ attributes
    def class_attr(self, v, node):
        if isinstance(v.type, T.InterfaceType):
            self.interface_call(v, node.attr, node)     # (the message for a non-method)
            self.error(f"method '{node.attr}' of {v.type.annotation()} can only be called",
                       node)
        sm = self.module_of(v, node)
        name = node.attr
        info = self.ctx.info.get(id(sm))
        if info is not None and name in info.ignored:
            self.error(f"'{name}' of {info.original_name} cannot be used here: the "
                       f"attribute was ignored during compilation "
                       f"(__jit_ignored_attributes__)", node,
                       hint="use it only in @torch.jit.ignore'd methods")
        if name in sm._modules:
            sub = sm._modules[name]
            if sub is None:
                return self.const(None)
            iface = getattr(sm, "_interface_attrs", {}).get(name)
            if iface is not None:
                return self.interface_attr(v, name, iface)
            return self.submodule_value(v, sub, name)
        if name in sm._parameters or name in sm._buffers:
            t = sm._parameters.get(name, sm._buffers.get(name))
            if t is None:
                # a None parameter / buffer: a NoneType attribute, read as TorchScript
                # reads it (`bias = self.bias` in Linear(bias=False)'s code)
                return self.get_attr(v, name, T.NONE)
            return self.get_attr(v, name, T.TENSOR)
        if name == "training":
            return self.get_attr(v, name, T.BOOL)
        if name in getattr(sm, "_script_properties", {}):
            return self.property_get(v, sm, name, node)
        if info is not None:
            if name in info.constants:
                return self.constant_value(info.constants[name], node)
            t = info.attr_types.get(name)
            if t is not None:
                return self.get_attr(v, name, t)
            if name in info.untyped:
                # (TorchScript's words first, then gpujit's)
                why = untyped_reason(getattr(info.module, name, None))
                self.error(f"Module '{info.original_name}' has no attribute '{name}' (This "
                           f"attribute exists on the Python module, but we failed to "
                           f"convert Python type: '{info.untyped[name]}' to a TorchScript "
                           f"type. {why}. Its type was inferred; try adding a type "
                           f"annotation for the attribute.): the attribute '{name}' of "
                           f"{info.original_name} is a Python {info.untyped[name]}, which "
                           f"scripted code cannot use", node,
                           hint="use int, float, bool, str, a Tensor or lists / tuples of "
                                "them, or add it to __constants__")
            if inspect.isfunction(getattr(type(info.module), name, None)):
                self.error(f"method '{name}' of {info.original_name} can only be called "
                           f"here, not used as a value", node, hint=f"call self.{name}(...)")
        t = sm._type.attributes.get(name) if sm._type is not None else None
        if t is not None:
            return self.get_attr(v, name, t)
        self.error(f"Module '{sm.original_name}' has no attribute '{name}' : module "
                   f"'{sm.original_name}' has no attribute '{name}'", node,
                   hint="assign it in __init__ (a parameter, buffer, submodule or a "
                        "value of a scriptable type)")

    def untyped_attribute(self, node) -> bool:
        """`self.tokenizer` of a Python object that is no TorchScript value (not None):
        `self.tokenizer is None` is False when compiled, as TorchScript's (a Python value
        is never None); any other use still fails."""
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            return False
        var = self.lookup_var(node.value.id)
        if not self.graph.inputs or not isinstance(var, Var) or \
                var.value is not self.graph.inputs[0]:
            return False
        info = self.ctx.info.get(id(self.sm))
        return info is not None and node.attr in info.untyped and \
            getattr(info.module, node.attr, None) is not None

    def attribute_hint(self, base, name):
        """`self.cache = []`: the declared type of self's attribute (statements)."""
        var = self.lookup_var(base)
        if not self.graph.inputs or not isinstance(var, Var) or \
                var.value is not self.graph.inputs[0]:
            return None
        info = self.ctx.info.get(id(self.sm))
        return info.attr_types.get(name) if info is not None else None

    def class_setattr(self, v, name, value, node):
        """`self.count = self.count + 1`: prim::SetAttr of a plain attribute, keeping its
        type (parameters, buffers, submodules and constants cannot be reassigned)."""
        sm = self.module_of(v, node)
        if name in getattr(sm, "_script_properties", {}):
            return self.property_set(v, sm, name, value, node)
        info = self.ctx.info.get(id(sm))
        what = sm.original_name
        if name in sm._parameters or name in sm._buffers:
            # `self.running_mean = ...`: a parameter or buffer is a Tensor attribute that
            # scripted code may rebind, as torch 2.13's (a parameter then holds the plain
            # Tensor assigned; ScriptModule.__setattr__)
            if not isinstance(value.type, T.TensorType):
                vn = "NoneType" if isinstance(value.type, T.NoneType) else \
                    value.type.annotation()
                self.error(f"Wrong type for attribute assignment. Expected Tensor but got "
                           f"{vn}", node)
            # (unranged, as SimpleValue::setAttr inserts it: torch prints no source)
            self.emit("prim::SetAttr", [v, value], [], attrs={"name": name}).source_range = None
            return
        if name in sm._modules:
            vn = "NoneType" if isinstance(value.type, T.NoneType) else value.type.annotation()
            sub_t = getattr(sm._modules[name], "_type", None)
            self.error(f"Wrong type for attribute assignment. Expected "
                       f"{sub_t if sub_t is not None else 'a submodule'} but got {vn}", node)
        if info is not None and name in info.constants:
            # (torch 2.13's words: a constant is no attribute of the module's type)
            self.error(f"Tried to set nonexistent attribute: {name}. Did you forget to "
                       f"initialize it in __init__()?", node,
                       hint=f"'{name}' of {what} is a constant (__constants__ / Final)")
        # (`self.training = ...`: a bool attribute, as in TorchScript; __setstate__ sets it)
        t = T.BOOL if name == "training" else \
            info.attr_types.get(name) if info is not None else None
        if t is None:
            self.error(f"Tried to set nonexistent attribute: {name}. Did you forget to "
                       f"initialize it in __init__()?", node,
                       hint=f"scripted code of {what} can only assign attributes that "
                            f"__init__ set")
        if not (value.type.is_subtype_of(t) or (isinstance(t, T.TensorType)
                                                and isinstance(value.type, T.TensorType))):
            tn = "NoneType" if isinstance(t, T.NoneType) else t.annotation()
            vn = "NoneType" if isinstance(value.type, T.NoneType) else \
                value.type.annotation()
            self.error(f"Wrong type for attribute assignment. Expected {tn} but got {vn}: "
                       f"the attribute '{name}' of {what} is {describe_type(t)}; it cannot "
                       f"be assigned {describe_type(value.type)}", node)
        # (unranged, as SimpleValue::setAttr inserts it: torch prints no source)
        self.emit("prim::SetAttr", [v, value], [], attrs={"name": name}).source_range = None

    def class_len(self, v, node):
        from .classes import script_class_of
        if script_class_of(v.type) is not None:
            return super().class_len(v, node)
        sm = self.module_of(v, node)
        info = self.ctx.info.get(id(sm))
        own = getattr(type(info.module), "__len__", None) if info is not None else None
        if inspect.isfunction(own) and not own.__module__.startswith("gpujit."):
            # the class's own __len__ (a container subclass overriding it): compiled
            graph = self.ctx.method_graph(sm, "__len__", node, self)
            return self.emit_method_call(v, "__len__", graph, [])
        if not _is_container(sm) or is_param_container(sm):
            # (torch 2.13's words: a ParameterList / ParameterDict has no __len__ either)
            self.error(f"'{v.type}' object has no attribute or method '__len__'. Did you "
                       f"forget to initialize an attribute in __init__()?: module "
                       f"'{sm.original_name}' has no len()", node,
                       hint="len() takes a ModuleList, ModuleDict or Sequential")
        return self.const(len(sm._modules))

    # ------------------------------------------------------------------ calls
    def class_method_call(self, v, name, node):
        if isinstance(v.type, T.InterfaceType):
            return self.interface_call(v, name, node)
        sm = self.module_of(v, node)
        info = self.ctx.info.get(id(sm))
        if info is not None and name in info.functions:
            return self.call_object(info.functions[name], node.func, node)
        raw = inspect.getattr_static(type(info.module), name, None) if info is not None \
            else None
        if isinstance(raw, staticmethod):
            # self.helper(x) of a @staticmethod: a plain function call, no self (as
            # TorchScript compiles it)
            return self.call_python_function(raw.__func__, node)
        if sm.original_name == "ParameterDict" and name in ("keys", "values", "items") and \
                not node.args:
            if name == "keys":
                return self.emit("prim::ListConstruct",
                                 [self.const(k) for k, p in sm._parameters.items()
                                  if p is not None], [T.ListType(T.STR)]).output
            self.dict_view[v] = name
            return v
        if _is_module_dict(sm) and name in ("keys", "values", "items") and not node.args:
            if name == "keys":
                return self.emit("prim::ListConstruct", [self.const(k) for k in sm._modules],
                                 [T.ListType(T.STR)]).output
            self.dict_view[v] = name     # `for m in self.blocks.values():` / `.items()`
            return v
        if name in _MODULE_WALKS and getattr(type(sm if info is None else info.module),
                                             name, None) is getattr(Module, name):
            return self.module_walk_call(v, sm, name, node)
        if name != "forward" and name in sm._modules:       # self.sub(x) with func node
            iface = getattr(sm, "_interface_attrs", {}).get(name)
            sub = self.interface_attr(v, name, iface) if iface is not None else \
                self.submodule_value(v, sm._modules[name], name)
            return self.call_module(sub, node)
        if _is_container(sm) and name == "forward" and not _is_sequential_sm(sm) and \
                "forward" not in sm._script_methods:
            self.error(f"a {sm.original_name} cannot be called", node,
                       hint="iterate over it or index it with a constant")
        if info is not None and isinstance(info.attr_types.get(name), T.ClassType) and \
                not callable(inspect.getattr_static(type(info.module), name, None)):
            # self.matcher(x) of an attribute holding a script-class object: its __call__,
            # as TorchScript compiles it (torchvision's detection models: proposal_matcher,
            # box_coder ...)
            call = ast.copy_location(ast.Call(
                func=ast.copy_location(ast.Attribute(value=node.func, attr="__call__",
                                                     ctx=ast.Load()), node.func),
                args=node.args, keywords=node.keywords), node)
            return self.expr(call)
        dropped = self.dropped_call(sm, name, node)
        if dropped is not None:
            return dropped
        ignored = ignored_method(self.ctx.info.get(id(sm)), name)
        if ignored is not None:         # @ignore: Python called from the graph
            from .python_calls import python_call
            args, kwargs = self.call_args(node)
            return python_call(self, ignored, [v] + list(args), kwargs, node, method=True)
        name = self.overload_for(sm, name, node)
        graph = self.ctx.method_graph(sm, name, node, self)
        params = graph.inputs[1:]
        what = f"{sm.original_name}.{name}"
        info = self.ctx.info.get(id(sm))
        fn = getattr(type(info.module), name, None) if info is not None else None
        fn = getattr(fn, "__func__", fn)        # (a @classmethod: its cls is the self)
        if inspect.isfunction(fn) and \
                len(inspect.signature(fn).parameters) == len(graph.inputs):
            # bound by the Python method's signature: keywords and default arguments
            bound = self.bind_call(fn, params, what, node, skip_self=True)
            return self.emit_method_call(v, name, graph, bound)
        args, kwargs = self.call_args(node)
        names = [_plain(p.debug_name) for p in params]
        for k in kwargs:
            if k not in names[len(args):]:
                self.error(f"{what}() got an unexpected keyword argument '{k}'", node)
        bound = list(args) + [kwargs[n] for n in names[len(args):] if n in kwargs]
        if len(bound) != len(params):
            self.error(f"{what}() takes {len(params)} argument"
                       f"{'s' if len(params) != 1 else ''} but {len(bound)} were given",
                       node)
        for k, (a, p) in enumerate(zip(bound, params)):
            if not (a.type.is_subtype_of(p.type) or (isinstance(a.type, T.TensorType)
                                                     and isinstance(p.type, T.TensorType))):
                self.error(f"argument {k + 1} ('{names[k]}') of {what}() expects "
                           f"{describe_type(p.type)}, got {describe_type(a.type)}", node)
        return self.emit_method_call(v, name, graph, bound)

    def overload_for(self, sm, name, node):
        """The method a call of `name` runs: a module class lists methods standing for
        overloads of it in `__script_overloads__` ({"forward": ("forward_packed",)}, as
        TorchScript's @_overload_method forward overloads of nn.LSTM); the first whose
        annotated parameters accept the positional arguments' types, else `name`."""
        info = self.ctx.info.get(id(sm))
        cls = type(info.module) if info is not None else None
        from ..._jit_internal import _get_overloaded_methods
        decls = _get_overloaded_methods(cls, name)
        if decls:       # @torch.jit._overload_method: compiled as name__k for its callers
            from .overloads import pick_overload
            args, kwargs = self.call_args(node)
            self._evaluated_args = (node, args, kwargs)     # the call binds these
            impl = getattr(cls, name)
            k, decl = pick_overload(self, impl, decls, args, kwargs, node,
                                    self_type=sm._type)
            self.ctx.method_graph(sm, f"{name}__{k}", node, self, fn=impl,
                                  signature_from=decl)
            return f"{name}__{k}"
        others = (getattr(cls, "__script_overloads__", None) or {}).get(name, ())
        if not others or not node.args:
            return name
        from .signatures import signature_types
        args, kwargs = self.call_args(node)
        self._evaluated_args = (node, args, kwargs)     # the call binds these, not anew
        types = [a.type for a in args]

        def accepts(method):
            fn = getattr(cls, method, None)
            if not inspect.isfunction(fn):
                return False
            params, _ = signature_types(fn, self_type=sm._type)
            params = params[1:]
            if len(types) > len(params):
                return False
            return all(t.is_subtype_of(p) or (
                isinstance(t, T.TensorType) and isinstance(p, T.TensorType))
                for t, (_, p) in zip(types, params))
        if accepts(name):
            return name
        return next((m for m in others if accepts(m)), name)

    def call_args(self, node):
        done = getattr(self, "_evaluated_args", None)
        if done is not None and done[0] is node:
            self._evaluated_args = None
            return list(done[1]), dict(done[2])
        return super().call_args(node)

    def emit_method_call(self, v, name, graph, bound):
        # (the method's schema types: a traced submodule's forward returns `(Tensor,
        # Tensor)` to its scripted caller, not its traced graph's Float(3, 4, ...)s)
        outs = [T.without_shapes(t) for t in graph.output_types()]
        n = self.emit("prim::CallMethod", [v] + bound, outs, attrs={"name": name})
        n.meta["callee"] = graph
        if len(outs) == 1:
            return n.output
        return self.emit("prim::TupleConstruct", n.outputs, [T.TupleType(tuple(outs))]).output

    def dropped_call(self, sm, name, node):
        """A call of an @unused (or @ignore(drop=True)) method: a raise, as TorchScript
        compiles it; its value (never produced) has the method's annotated return type."""
        from ...jit.script import function_modifier
        info = self.ctx.info.get(id(sm))
        fn = getattr(type(info.module), name, None) if info is not None else None
        if not inspect.isfunction(fn) or function_modifier(fn) != "drop":
            return None
        from .signatures import signature_types
        try:
            _, ret = signature_types(fn, self_type=sm._type)
        except FrontendError:
            ret = None
        self.call_args(node)                   # the arguments are still evaluated
        from .python_calls import dropped_raise
        return dropped_raise(self, ret or T.TENSOR, node)


_MODULE_WALKS = ("children", "named_children", "modules", "named_modules")


def _plain(name):
    base, _, suffix = (name or "").rpartition(".")
    return base if base and suffix.isdigit() else name
