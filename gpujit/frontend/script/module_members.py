"""The Python-level members of a scripted module besides its compiled methods, as
TorchScript handles them:

- properties of the module's class: the getter compiled as the method
  `__<name>_getter`, the setter (if any) as `__<name>_setter`; `self.<name>` in scripted
  code calls them, and so does `scripted.<name>` in Python (ScriptModule.__getattr__ /
  __setattr__ read `_script_properties`). A property named in the class's
  `__jit_unused_properties__`, or marked @unused, is left out (the scripted module has no
  such attribute).
- @ignore / @unused methods: left in Python, bound to the scripted module (an instance's
  own override of one included); scripted code calls an @ignore one through a
  prim::PythonOp (python_calls.py) with the scripted module as `self`.
"""
from __future__ import annotations

import inspect

from ...ir import types as T
from .calls import describe_type

__all__ = ["PropertyMixin", "compile_properties", "copy_ignored_methods",
           "ignored_method", "module_properties"]


def _user_classes(cls):
    """The classes of cls's MRO whose members TorchScript compiles (gpujit's own nn
    classes and object excluded), base classes first."""
    return [k for k in reversed(cls.__mro__)
            if k is not object and not k.__module__.startswith("gpujit.")]


def module_properties(cls) -> dict:
    """{name: property} of the properties of a module class that scripting compiles."""
    from ...jit.script import function_modifier
    unused = set()
    found = {}
    for k in _user_classes(cls):
        unused |= set(vars(k).get("__jit_unused_properties__", ()))
        for name, v in vars(k).items():
            if isinstance(v, property):
                found[name] = v
            elif name in found:          # a subclass replaced the property
                del found[name]
    return {n: p for n, p in found.items()
            if n not in unused and p.fget is not None and
            function_modifier(p.fget) not in ("ignore", "drop")}


def compile_properties(ctx, mod, sm, methods):
    """Compile `methods` (names) and the properties of mod's class as methods of sm,
    the properties recorded in sm._script_properties ({name: (getter method, setter
    method or None)}) first, so that the methods' `self.<property>` find them."""
    props = module_properties(type(mod))
    table = {}
    if props:
        object.__setattr__(sm, "_script_properties", table)
    for name, p in props.items():
        table[name] = (f"__{name}_getter", f"__{name}_setter" if p.fset else None)
    for name in methods:
        ctx.method_graph(sm, name)
    for name, p in props.items():
        getter, setter = table[name]
        ctx.method_graph(sm, getter, fn=p.fget)
        if setter is not None:
            ctx.method_graph(sm, setter, fn=p.fset)


def copy_ignored_methods(mod, sm):
    """@ignore / @unused methods stay Python: the scripted module gets them bound to
    itself (an instance's own override of one included), as TorchScript copies them."""
    from ...jit.script import function_modifier

    def marked(v):
        fn = getattr(v, "__func__", v)
        return inspect.isfunction(fn) and function_modifier(fn) in ("ignore", "drop")
    # (the names bound to a marked function somewhere getattr_static looks: the one it
    # resolves is among them; nn.Module's ~200 other names need no getattr_static each)
    names = {n for n, v in mod.__dict__.items() if n[:2] != "__" and marked(v)} | \
        {n for k in type(mod).__mro__ for n, v in vars(k).items()
         if n[:2] != "__" and marked(v)}
    for name in sorted(names):
        if name in sm._script_methods:
            continue
        try:
            raw = inspect.getattr_static(mod, name)
        except AttributeError:
            continue
        if isinstance(raw, (staticmethod, classmethod)):
            continue
        fn = getattr(raw, "__func__", raw)
        if inspect.isfunction(fn) and function_modifier(fn) in ("ignore", "drop"):
            if name == "forward":       # (a property of script modules): @unused forward
                sm.__dict__["_python_forward"] = fn.__get__(sm)    # runs in Python
                continue
            object.__setattr__(sm, name, fn.__get__(sm))


def ignored_method(info, name):
    """The function of the @ignore method `name` of info's module (an instance's own
    override first), or None."""
    from ...jit.script import function_modifier
    if info is None:
        return None
    try:
        raw = inspect.getattr_static(info.module, name)
    except AttributeError:
        return None
    if isinstance(raw, (staticmethod, classmethod)):
        return None
    fn = getattr(raw, "__func__", raw)
    return fn if inspect.isfunction(fn) and function_modifier(fn) == "ignore" else None


class PropertyMixin:
    """ModuleMethodCompiler's part for `self.<property>` (it provides ctx and
    emit_method_call)."""

    def _accessor(self, sm, name, which):
        """The getter ("fget") or setter ("fset") function of a property (None for a
        module scripted before this call: its accessors are compiled already)."""
        info = self.ctx.info.get(id(sm))
        if info is None:
            return None
        return getattr(module_properties(type(info.module))[name], which)

    def property_get(self, v, sm, name, node):
        getter, _ = sm._script_properties[name]
        graph = self.ctx.method_graph(sm, getter, node, self,
                                      fn=self._accessor(sm, name, "fget"))
        return self.emit_method_call(v, getter, graph, [])

    def property_set(self, v, sm, name, value, node):
        _, setter = sm._script_properties[name]
        if setter is None:
            self.error(f"the property '{name}' of {sm.original_name} has no setter; it "
                       f"cannot be assigned", node)
        graph = self.ctx.method_graph(sm, setter, node, self,
                                      fn=self._accessor(sm, name, "fset"))
        want = graph.inputs[1].type
        if not (value.type.is_subtype_of(want) or (isinstance(want, T.TensorType) and
                                                   isinstance(value.type, T.TensorType))):
            self.error(f"the setter of the property '{name}' of {sm.original_name} takes "
                       f"{describe_type(want)}, not {describe_type(value.type)}", node)
        self.emit_method_call(v, setter, graph, [value])
