"""`gpujit.jit.interface`: TorchScript interfaces.

    @gpujit.jit.interface
    class ModuleInterface(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            pass

    class Net(nn.Module):
        impl: ModuleInterface                 # any scripted module that implements it
        ...
        def forward(self, x, key: str):
            m: ModuleInterface = self.blocks[key]    # a ModuleDict indexed at run time
            return m.forward(x) + self.impl(x)

A decorated class (an nn.Module subclass for a module interface, a plain class
otherwise) declares method signatures; its bodies are never run. A module attribute
annotated with it, or a local annotated with it, holds any module whose compiled methods
match (arguments may be wider, results narrower, as TorchScript's subtyping), and scripted
code calls only the declared methods, dispatched on the module found at run time: a
scripted module's interface attribute can be swapped for another scripted module that
implements the interface (its methods already compiled: forward, what forward calls and
@export'ed methods).
"""
from __future__ import annotations

import inspect

from ..ir import types as T
from ..frontend.qualified_names import qualified_name

__all__ = ["interface", "interface_of", "incompatibility", "check_implements"]


def interface(obj):
    """Declare `obj` (a class) a TorchScript interface (see the module doc)."""
    from ..nn.module import Module
    if not inspect.isclass(obj):
        raise RuntimeError("interface must be applied to a class")
    is_module = issubclass(obj, Module)
    if obj.__bases__ not in ((object,), (Module,)):
        raise RuntimeError("TorchScript interface does not support inheritance yet. Please "
                           "directly inherit from object or nn.Module.")
    t = T.InterfaceType(qualified_name(obj), py_class=obj, is_module=is_module)
    from ..frontend.script.signatures import signature_types
    for name, fn in vars(obj).items():
        if not inspect.isfunction(fn) or (name.startswith("__") and name.endswith("__")):
            continue
        params, ret = signature_types(fn, self_type=t)
        if ret is None:         # (neither annotated nor in a type comment: torch 2.13's)
            raise RuntimeError(f"interface declarations must have a return type annotated.: "
                               f"{obj.__qualname__}.{name}")
        params = params[1:]
        t.signatures[name] = ([n for n, _ in params], [p for _, p in params],
                              T.TENSOR if ret is None else ret)
    if not t.signatures:
        raise RuntimeError(f"interface {obj.__qualname__} declares no methods")
    T.register_class_type(t)
    obj.__gpujit_interface__ = t
    return obj


def interface_of(cls):
    """The InterfaceType of a class decorated with @interface, else None."""
    return vars(cls).get("__gpujit_interface__") if inspect.isclass(cls) else None


def _accepts(wide, narrow):
    """Whether a value of type `narrow` is accepted where `wide` is declared."""
    return narrow.is_subtype_of(wide) or isinstance(wide, T.AnyType) or (
        isinstance(wide, T.TensorType) and isinstance(narrow, T.TensorType))


def _graph_return(graph):
    outs = [o.type for o in graph.outputs]
    if not outs:
        return T.NONE
    return outs[0] if len(outs) == 1 else T.TupleType(tuple(outs))


def incompatibility(iface, sm, compile_method=None):
    """Why the scripted module `sm` does not implement `iface` (None when it does).
    compile_method(name) -> graph or None compiles a method not compiled yet."""
    from .objects import ScriptModule
    if iface.is_module and not isinstance(sm, ScriptModule):
        return (f"only a ScriptModule class can be subtype of module interface "
                f"'{iface.name}', not {type(sm).__name__}")
    methods = getattr(sm, "_script_methods", {})
    for name, (names, params, ret) in iface.signatures.items():
        m = methods.get(name)
        graph = m.graph if m is not None else (compile_method(name) if compile_method
                                               else None)
        if graph is None:
            return (f"method '{name}' is not defined or not compiled (a method that "
                    f"forward does not call must be marked @gpujit.jit.export)")
        got = [i.type for i in graph.inputs[1:]]
        if len(got) != len(params):
            return (f"method '{name}' takes {len(got)} arguments, the interface "
                    f"declares {len(params)}")
        for k, (want, have) in enumerate(zip(params, got)):
            if not _accepts(have, want):
                return (f"argument {k + 1} ('{names[k]}') of method '{name}' is "
                        f"{have.annotation()}, the interface passes {want.annotation()}")
        r = _graph_return(graph)
        if not _accepts(ret, r):
            return (f"method '{name}' returns {r.annotation()}, the interface declares "
                    f"{ret.annotation()}")
    return None


def check_implements(iface, sm, compile_method=None, where=""):
    why = incompatibility(iface, sm, compile_method)
    if why is not None:
        what = getattr(sm, "original_name", type(sm).__name__)
        raise RuntimeError(f"{what} is not compatible with interface {iface.name}{where}: "
                           f"{why}")
