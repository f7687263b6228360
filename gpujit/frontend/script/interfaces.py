"""Interface-typed values in scripted methods (gpujit/jit/interface.py): a module
attribute annotated with an interface (`impl: ModuleInterface`), a local annotated with
one (`m: ModuleInterface = self.blocks[key]`, a ModuleDict / ModuleList indexed at run
time: a prim::If chain choosing the child), and calls of their declared methods: a
prim::CallMethod with no callee graph, run on the module found at run time (the
interpreter and generated code look its method up then)."""
from __future__ import annotations

import ast
import inspect

from ...ir import types as T
from .calls import describe_type
from .exprs import unify

__all__ = ["InterfaceMixin", "declared_interfaces", "check_interface_attrs", "interface_call"]


def declared_interfaces(module) -> dict:
    """{submodule name: InterfaceType} for the class annotations of `module`'s class
    (and its bases) that name an interface."""
    from .types import annotation_type
    out = {}
    subs = module.__dict__.get("_modules") or {}
    for klass in reversed(type(module).__mro__):
        anns = {k: a for k, a in (vars(klass).get("__annotations__") or {}).items()
                if k in subs}
        if not anns:
            continue
        mod = inspect.getmodule(klass)
        env = dict(vars(mod)) if mod else {}
        for name, ann in anns.items():
            if isinstance(ann, str) and ann not in env:
                continue
            try:
                t = annotation_type(ann, env)
            except Exception:       # (not a type the frontend reads: not an interface)
                continue
            if isinstance(t, T.InterfaceType):
                out[name] = t
    return out


def _check_has_methods(iface, info):
    """torch 2.13 looks an interface's methods up on the Python module it scripts for it: a
    module without one raises Python's AttributeError as it is."""
    if info is None:
        return
    for name in iface.signatures:
        if not hasattr(info.module, name):
            raise AttributeError(f"'{type(info.module).__name__}' object has no attribute "
                                 f"'{name}'")


def check_interface_attrs(ctx, mod, sm, path):
    """Record the scripted module's interface-typed submodules (sm._interface_attrs,
    checked again when one is reassigned) and check the modules they hold now."""
    from ...jit.interface import check_implements
    ifaces = declared_interfaces(mod)
    object.__setattr__(sm, "_interface_attrs", ifaces)
    for name, iface in ifaces.items():
        sub = sm._modules.get(name)
        if sub is None:
            continue
        info = ctx.info.get(id(sub))
        _check_has_methods(iface, info)

        def compile_method(m, sub=sub, info=info):
            if info is None or not inspect.isfunction(getattr(type(info.module), m, None)):
                return None
            return ctx.method_graph(sub, m)
        check_implements(iface, sub, compile_method,
                         where=f" (the attribute '{name}' of {path})")


def interface_call(self, v, name, node):
    """`v.name(...)` for an interface-typed v (any compiler: methods and functions)."""
    iface = v.type
    sig = iface.signatures.get(name)
    if sig is None:
        self.error(f"Tried to access nonexistent attribute or method '{name}' of type "
                   f"'{iface.name}'.", node,
                   hint=f"{iface.annotation()} declares "
                        f"{', '.join(iface.signatures)}")
    names, params, ret = sig
    args, kwargs = self.call_args(node)
    what = f"{iface.annotation()}.{name}"
    for k in kwargs:
        if k not in names[len(args):]:
            self.error(f"{what}() got an unexpected keyword argument '{k}'", node)
    bound = list(args) + [kwargs[n] for n in names[len(args):] if n in kwargs]
    if len(bound) != len(params):
        self.error(f"{what}() takes {len(params)} arguments but {len(bound)} were "
                   f"given", node)
    for k, (a, p) in enumerate(zip(bound, params)):
        if not (a.type.is_subtype_of(p) or isinstance(p, T.AnyType) or (
                isinstance(a.type, T.TensorType) and isinstance(p, T.TensorType))):
            self.error(f"argument {k + 1} ('{names[k]}') of {what}() expects "
                       f"{describe_type(p)}, got {describe_type(a.type)}", node)
    return self.emit("prim::CallMethod", [v] + bound, [ret], attrs={"name": name}).output


class InterfaceMixin:
    """ModuleMethodCompiler's interface part."""

    def interface_compile(self, sub):
        info = self.ctx.info.get(id(sub))

        def compile_method(name):
            if info is None or not inspect.isfunction(getattr(type(info.module), name, None)):
                return None
            return self.ctx.method_graph(sub, name, caller=self)
        return compile_method

    def check_interface(self, sub, iface, node, what):
        from ...jit.interface import incompatibility
        _check_has_methods(iface, self.ctx.info.get(id(sub)))
        why = incompatibility(iface, sub, self.interface_compile(sub))
        if why is not None:
            self.error(f"{sub.original_name} ({what}) is not compatible with interface "
                       f"{iface.name}: {why}", node)

    def to_interface(self, v, sub, iface, node, what):
        self.check_interface(sub, iface, node, what)
        return self.emit("prim::unchecked_cast", [v], [iface]).output

    def interface_attr(self, v, name, iface):
        return self.get_attr(v, name, iface)

    def interface_call(self, v, name, node):
        return interface_call(self, v, name, node)

    def stmt_AnnAssign(self, s):
        if s.value is not None and isinstance(s.target, ast.Name):
            t = self.annotation(s.annotation)
            if isinstance(t, T.InterfaceType):
                v = self.interface_value(s.value, t, s)
                self.declared[s.target.id] = t
                self.assign(s.target, v, s)
                return None
        return super().stmt_AnnAssign(s)

    def interface_value(self, e, iface, node):
        from .module_containers import is_container, is_module_dict, is_sequential_sm
        if isinstance(e, ast.Subscript) and not (
                isinstance(e.slice, ast.Constant) or self.const_int(e.slice) is not None):
            cv = self.expr(e.value)
            if isinstance(cv.type, T.ClassType) and not isinstance(cv.type, T.InterfaceType):
                sm = self.module_of(cv, e.value)
                if is_container(sm) and not is_sequential_sm(sm) or is_module_dict(sm):
                    return self.interface_select(cv, sm, self.expr(e.slice), iface, e)
        v = self.expr(e)
        if isinstance(v.type, T.InterfaceType) and v.type == iface:
            return v
        if isinstance(v.type, T.ClassType) and v in self.modules:
            return self.to_interface(v, self.modules[v], iface, node, ast.unparse(e))
        self.error(f"'{ast.unparse(e)}' ({describe_type(v.type)}) cannot be used as "
                   f"interface {iface.annotation()}", node)

    def interface_select(self, cv, sm, index, iface, e):
        """`self.blocks[key]` / `self.layers[i]` with a run-time index, as an interface
        value: a prim::If chain yielding the chosen child (KeyError / IndexError when none
        matches)."""
        from .module_containers import is_module_dict
        children = [(k, sub) for k, sub in sm._modules.items() if sub is not None]
        is_dict = is_module_dict(sm)
        want = T.STR if is_dict else T.INT
        if not isinstance(index.type, type(want)):
            self.error(f"a {sm.original_name} is indexed with {describe_type(want)}, not "
                       f"{describe_type(index.type)}", e.slice)
        for key, sub in children:
            self.check_interface(sub, iface, e, f"{sm.original_name}[{key!r}]")
        n = len(children)

        def chain(pos):
            if pos == n:
                what = "key" if is_dict else "index"
                msg = (f"{sm.original_name} {what} out of range (it holds "
                       + (", ".join(repr(k) for k, _ in children) if is_dict else
                          f"{n} modules") + ")")
                self.emit("prim::RaiseException", [self.const(msg), self.const(
                    "builtins." + ("KeyError" if is_dict else "IndexError"))], [])
                return self.emit("prim::Uninitialized", [], [iface]).output
            key, sub = children[pos]
            if is_dict:
                cond = self.scalar("eq", index, self.const(key))
            else:
                cond = self.scalar("__or__", self.scalar("eq", index, self.const(pos)),
                                   self.scalar("eq", index, self.const(pos - n)))
            ifn = self.emit("prim::If", [cond], [])
            for build in (lambda: self.emit("prim::unchecked_cast", [
                    self.get_attr(cv, key, sub._type)], [iface]).output,
                    lambda: chain(pos + 1)):
                b = ifn.add_block()
                with self.in_block(b), self.scope():
                    b.register_output(build())
            return ifn.add_output(unify(iface, iface) or iface)
        return chain(0)
