"""Module containers in scripted methods: nn.Sequential / nn.ModuleList / nn.ModuleDict
indexed by a constant (a prim::GetAttr of the child), iterated (unrolled), and — beyond
TorchScript — called through a variable index or key (`self.layers[i](x)`,
`self.blocks[key](x)`): a prim::If chain that calls the chosen child, raising IndexError /
KeyError when none matches. Also `getattr(self, "0")`, as `.code` names children whose
names are not identifiers."""
from __future__ import annotations

import ast
import inspect

from ...ir import types as T
from .calls import describe_type
from .errors import FrontendError
from .exprs import unify
from .variables import Var

__all__ = ["ModuleContainerMixin", "container_kind", "is_container", "is_module_dict", "is_sequential_sm",
           "is_param_container"]

_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def container_kind(m):
    """'Sequential', 'ModuleList' or 'ModuleDict' for such a module (a subclass of one
    included: a scripted one records its kind in `_container_kind`), else None."""
    from ...nn.modules import container as _c
    for cls in (_c.Sequential, _c.ModuleList, _c.ModuleDict):
        if isinstance(m, cls):
            return cls.__name__
    kind = getattr(m, "__dict__", {}).get("_container_kind")
    if kind is not None:
        return kind
    name = getattr(m, "original_name", None)
    return name if name in _CONTAINERS else None


def is_container(m) -> bool:
    return container_kind(m) is not None


def is_param_container(m) -> bool:
    """nn.ParameterList / nn.ParameterDict: indexed and iterated like the module
    containers, their elements the parameters (prim::GetAttr of a Tensor)."""
    return getattr(m, "original_name", None) in ("ParameterList", "ParameterDict")


def _param_names(sm):
    return [n for n, p in sm._parameters.items() if p is not None]


def is_module_dict(m) -> bool:
    return container_kind(m) == "ModuleDict"


def is_sequential_sm(sm):
    return container_kind(sm) == "Sequential"


def module_has(sm, name) -> bool:
    """hasattr of a scripted module as its Python module would answer it."""
    return (name in sm._modules or name in sm._parameters or name in sm._buffers or
            (sm._type is not None and name in sm._type.attributes) or hasattr(sm, name))


class ModuleContainerMixin:
    """ModuleMethodCompiler's container part (it provides module_of, submodule_value,
    class_attr and class_method_call)."""

    def class_index(self, v, sl, node):
        sm = self.module_of(v, node)
        if is_param_container(sm):
            return self.param_index(v, sm, sl)
        if not is_container(sm):
            self.error(f"module '{sm.original_name}' cannot be indexed", node)
        if is_module_dict(sm):
            key = sl.value if isinstance(sl, ast.Constant) and isinstance(sl.value, str) \
                else None
            if key is None:
                self.error("a ModuleDict indexed with a variable key can only be called "
                           "directly (or have a method or attribute read)", sl,
                           hint="write self.blocks[key](x), self.blocks[key].f(x) or "
                                "self.blocks[key].attr")
            if key not in sm._modules or sm._modules[key] is None:
                # (torch 2.13's words first)
                self.error(f"Key Error, {key}", sl,
                           hint=f"the ModuleDict has no module {key!r} (it has "
                                f"{', '.join(map(repr, sm._modules)) or 'none'})")
            return self.submodule_value(v, sm._modules[key], key)
        if isinstance(sl, ast.Slice):
            return self.module_slice(v, sm, sl)
        k = self.const_int(sl)
        if k is None:
            self.error(f"a {sm.original_name} indexed with a variable can only be called "
                       f"directly (or have a method or attribute read)", sl,
                       hint="write self.layers[i](x), self.layers[i].f(x) or "
                            "self.layers[i].attr, or iterate with `for layer in self.layers:`")
        names = list(sm._modules)
        if not -len(names) <= k < len(names):
            self.error(f"Index {k} out of range of length {len(names)}", sl,
                       hint=f"a {sm.original_name} of {len(names)} modules")
        name = names[k]
        return self.submodule_value(v, sm._modules[name], name)

    def module_slice(self, v, sm, sl):
        """self.layers[1:3] / self.layers[::-1] with constant bounds: a tuple of the
        submodules chosen, as TorchScript gives it (indexing it, iterating over it and
        calling its items compile as for the modules themselves)."""
        bounds = []
        for e in (sl.lower, sl.upper, sl.step):
            k = None if e is None or (isinstance(e, ast.Constant) and e.value is None) \
                else self.const_int(e)
            if e is not None and k is None and not (isinstance(e, ast.Constant) and
                                                    e.value is None):
                self.error(f"a {sm.original_name} is sliced with integer constants", e)
            bounds.append(k)
        if bounds[2] == 0:
            self.error("slice step cannot be zero", sl.step)
        names = [n for n, sub in sm._modules.items() if sub is not None]
        items = [self.submodule_value(v, sm._modules[n], n) for n in names[slice(*bounds)]]
        return self.emit("prim::TupleConstruct", items,
                         [T.TupleType(tuple(i.type for i in items))]).output

    def module_walk_call(self, v, sm, name, node):
        """`self.children()`, `self.named_children()`, `self.modules()`,
        `self.named_modules()` of nn.Module (not overridden): the module value, marked so
        that a for loop over it unrolls those modules (named: (name, module) pairs), as
        TorchScript's. `modules()` starts with the module itself (calling it in its own
        forward is a recursive call)."""
        if node.args or node.keywords:
            self.error(f"{name}() takes no arguments in scripted code", node)
        walked = [sm]
        if name in ("modules", "named_modules"):
            walked = [m for _, m in sm.named_modules()]
        if any(getattr(m, "_interface_attrs", None) and
               set(m._interface_attrs) & set(m._modules) for m in walked):
            self.error(f"Could not compile {name}() because module is an interface type. "
                       f"Please file issue.", node,
                       hint="call the submodules by name")
        self.dict_view[v] = ("walk", name)
        return v

    def _walk_elements(self, v, sm, kind):
        named = kind.startswith("named_")
        if kind.endswith("children"):
            pairs = [(n, lambda n=n, sub=sub: self.submodule_value(v, sub, n))
                     for n, sub in sm._modules.items() if sub is not None]
        else:
            pairs, seen = [], set()

            def walk(prefix, m, get):
                if id(m) in seen:
                    return
                seen.add(id(m))
                pairs.append((prefix, get))
                for n, sub in m._modules.items():
                    if sub is not None:
                        walk(f"{prefix}.{n}" if prefix else n, sub,
                             lambda get=get, n=n, sub=sub: self.submodule_value(get(), sub, n))
            walk("", sm, lambda: v)
        if named:
            return [lambda n=n, get=get: (self.const(n), get()) for n, get in pairs]
        return [get for _, get in pairs]

    def class_elements(self, v, node):
        """What `for x in <module value>:` runs over, unrolled: the submodules (a
        ModuleDict: its keys, as Python; after `.values()` its modules, after `.items()`
        (key, module) pairs that the loop target unpacks)."""
        sm = self.module_of(v, node)
        view = self.dict_view.get(v)
        if isinstance(view, tuple) and view[0] == "walk":    # self.children() ...
            del self.dict_view[v]
            return self._walk_elements(v, sm, view[1])
        if is_param_container(sm):
            return self.param_elements(v, sm)
        if not is_container(sm):
            self.error(f"cannot iterate over module '{sm.original_name}'", node,
                       hint="iterate over an nn.Sequential, nn.ModuleList or nn.ModuleDict")
        view = self.dict_view.get(v)
        if isinstance(view, tuple):                  # enumerate(self.layers, start)
            start, inner = view[1], view[2]
            if inner is None:
                del self.dict_view[v]
            else:
                self.dict_view[v] = inner
            try:
                elems = self.class_elements(v, node)
            finally:
                self.dict_view[v] = view
            return [lambda k=k, e=e: (self.const(start + k), e())
                    for k, e in enumerate(elems)]
        if not is_module_dict(sm):
            view = None
        if view == "items":
            return [lambda name=name, sub=sub: (self.const(name),
                                                self.submodule_value(v, sub, name))
                    for name, sub in sm._modules.items() if sub is not None]
        if is_module_dict(sm) and view != "values":
            return [lambda name=name: self.const(name) for name in sm._modules]
        return [lambda name=name, sub=sub: self.submodule_value(v, sub, name)
                for name, sub in sm._modules.items() if sub is not None]

    def same_module(self, a, b):
        def module(v):
            if self.graph.inputs and v is self.graph.inputs[0]:
                return self.sm
            return self.modules.get(v)
        ma, mb = module(a), module(b)
        if ma is None or mb is None or isinstance(a.type, T.InterfaceType) or \
                isinstance(b.type, T.InterfaceType):
            return None
        return ma is mb

    def module_keys(self, c, node):
        sm = self.sm if self.graph.inputs and c is self.graph.inputs[0] else \
            self.modules.get(c)
        if sm is None or not is_module_dict(sm):
            return None
        return list(sm._modules)

    def param_index(self, v, sm, sl):
        names = _param_names(sm)
        if sm.original_name == "ParameterDict":
            key = sl.value if isinstance(sl, ast.Constant) and isinstance(sl.value, str) \
                else None
            if key is None or key not in names:
                self.error(f"a ParameterDict is indexed with one of its keys as a constant "
                           f"string ({', '.join(map(repr, names)) or 'it has none'})", sl)
            return self.get_attr(v, key, T.TENSOR)
        k = self.const_int(sl)
        if k is None:
            self.error("a ParameterList is indexed with a constant int in scripted code", sl,
                       hint="iterate with `for p in self.params:`")
        if not -len(names) <= k < len(names):
            self.error(f"index {k} is out of range for a ParameterList of {len(names)} "
                       f"parameters", sl)
        return self.get_attr(v, names[k], T.TENSOR)

    def param_elements(self, v, sm):
        """`for p in self.params:` (and enumerate(), `.items()`, `.values()`, a
        ParameterDict's keys), unrolled over the parameters."""
        names = _param_names(sm)
        view = self.dict_view.get(v)

        def get(name):
            return self.get_attr(v, name, T.TENSOR)
        if isinstance(view, tuple):                  # enumerate(self.params, start)
            return [lambda k=k, name=name: (self.const(view[1] + k), get(name))
                    for k, name in enumerate(names)]
        if sm.original_name == "ParameterDict":
            if view == "items":
                return [lambda name=name: (self.const(name), get(name)) for name in names]
            if view != "values":
                return [lambda name=name: self.const(name) for name in names]
        return [lambda name=name: get(name) for name in names]

    def static_hasattr(self, call):
        """hasattr(<self or a submodule path>, "name") decided at compile time, else None."""
        if len(call.args) != 2 or call.keywords or not self.is_builtin("hasattr") or \
                not (isinstance(call.args[1], ast.Constant) and
                     isinstance(call.args[1].value, str)):
            return None
        path, base = [], call.args[0]
        while isinstance(base, ast.Attribute):
            path.append(base.attr)
            base = base.value
        var = self.lookup_var(base.id) if isinstance(base, ast.Name) else None
        if not isinstance(var, Var):
            return None
        if self.graph.inputs and var.value is self.graph.inputs[0]:
            sm = self.sm
        elif var.value in self.modules:          # `for mod in self.layers:` unrolled
            sm = self.modules[var.value]
        else:
            return None
        for name in reversed(path):
            sub = sm._modules.get(name)
            if sub is None:
                return None
            sm = sub
        return module_has(sm, call.args[1].value)

    def enumerate_modules(self, v, start, node):
        """enumerate(self.layers): the container value, marked so that a for loop over it
        unrolls (index, module) pairs."""
        sm = self.module_of(v, node)
        if sm.original_name == "ParameterList":
            self.dict_view[v] = ("enumerate", start)
            return v
        if not is_container(sm):
            self.error(f"cannot enumerate module '{sm.original_name}'", node,
                       hint="enumerate an nn.Sequential, nn.ModuleList or nn.ModuleDict")
        # a ModuleDict: its keys, or after .values() / .items() its modules / pairs
        self.dict_view[v] = ("enumerate", start, self.dict_view.get(v))
        return v

    def super_method_call(self, node):
        """`super().forward(x)` in a module method: the base class's method, compiled for
        this module as a method of its own (`super_<Base>_<name>`), called on self."""
        f = node.func
        info = self.ctx.info.get(id(self.sm))
        cls = type(info.module) if info is not None else None
        me = inspect.unwrap(self.fn)
        owners = [k for k in (cls.__mro__ if cls else ()) if k.__dict__.get(me.__name__) is me]
        if f.value.args:                                 # super(Cls, self)
            found, named = self.py_object(f.value.args[0])
            owners = [named] if found and cls is not None and named in cls.__mro__ else []
        if not owners:
            self.error("super() is supported in methods of the scripted module's class", node)
        mro = cls.__mro__
        base_fn, base = None, None
        for k in mro[mro.index(owners[0]) + 1:]:
            cand = k.__dict__.get(f.attr)
            if inspect.isfunction(cand):
                base_fn, base = cand, k
                break
        if base_fn is None:
            self.error(f"no base class of {owners[0].__name__} defines '{f.attr}'", node)
        name = f"super_{base.__name__}_{f.attr}"
        graph = self.ctx.method_graph(self.sm, name, node, self, fn=base_fn)
        self_v = self.graph.inputs[0]
        bound = self.bind_call(base_fn, graph.inputs[1:], f"{base.__name__}.{f.attr}", node,
                               skip_self=True)
        return self.emit_method_call(self_v, name, graph, bound)

    def expr_Call(self, node):
        """`self.layers[i](x)` / `self.blocks[key](x)` with a variable index: a prim::If
        chain that calls the chosen module (TorchScript rejects these); super().f(...)."""
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Call) and \
                isinstance(f.value.func, ast.Name) and f.value.func.id == "super" and \
                len(f.value.args) in (0, 2) and self.is_builtin("super"):
            return self.super_method_call(node)
        if isinstance(f, ast.Name) and f.id in ("getattr", "hasattr") and \
                self.is_builtin(f.id) and len(node.args) in (2, 3 if f.id == "getattr" else 2) \
                and not node.keywords and \
                isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
            # getattr(self, "0"): a submodule whose name is not an identifier (.code
            # prints nn.Sequential's children so); getattr(self, "aa", None): the
            # submodule, parameter or attribute when the module has it, else the default
            # (timm's ConvNormAct reads its anti-aliasing submodule so; gpujit took the
            # default for every submodule and skipped TResNet's blur pools)
            obj = self.expr(node.args[0])
            if isinstance(obj.type, T.ClassType):
                name = node.args[1].value
                if len(node.args) == 3:
                    try:
                        sm = self.module_of(obj, node)
                    except FrontendError:       # (an object of a scripted class)
                        return super().expr_Call(node)
                    if not module_has(sm, name):
                        return self.expr(node.args[2])
                if f.id == "hasattr":
                    return self.const(module_has(self.module_of(obj, node), name))
                attr = ast.copy_location(ast.Attribute(value=node.args[0], attr=name,
                                                       ctx=ast.Load()), node)
                return self.class_attr(obj, attr)
        picked = self.variable_module_pick(f)
        if picked is not None:
            return self.dynamic_module_call(*picked, node)
        picked, chain = self.variable_module_chain(f.value) if isinstance(
            f, ast.Attribute) else (None, None)
        if picked is not None:
            # self.blocks[key].scale(x), self.blocks[key].proj(x): the chosen module's
            # method (forward included) or submodule, called
            def call(sv):
                sv = self.read_chain(sv, chain)
                sub = self.module_of(sv, f).__dict__.get("_modules", {}).get(f.attr)
                if sub is not None:
                    return self.call_module(self.class_attr(sv, f), node)
                return self.class_method_call(sv, f.attr, node)
            return self.dynamic_module_call(*picked, node, call)
        return super().expr_Call(node)

    def expr_Attribute(self, node):
        """`self.blocks[key].out_features`, `self.layers[i].proj.weight` with a variable
        index: the chosen module's attribute (a prim::If chain, as a call of it)."""
        picked, chain = self.variable_module_chain(node)
        if picked is not None:
            return self.dynamic_module_call(*picked, node,
                                            lambda sv: self.read_chain(sv, chain))
        return super().expr_Attribute(node)

    def variable_module_chain(self, node):
        """(variable_module_pick of the subscript under the attribute chain `node`, the
        chain's Attribute nodes inner first), or (None, None)."""
        chain = []
        while isinstance(node, ast.Attribute):
            chain.append(node)
            node = node.value
        picked = self.variable_module_pick(node) if isinstance(node, ast.Subscript) else None
        return (picked, chain[::-1]) if picked is not None else (None, None)

    def read_chain(self, v, chain):
        for a in chain:
            if not isinstance(v.type, T.ClassType):
                return self.expr_Attribute_of(v, a)
            v = self.class_attr(v, a)
        return v

    def expr_Attribute_of(self, v, node):
        """An attribute of a value that is no module (a Tensor's `.shape`, ...)."""
        tmp = "$picked"
        self.scopes[-1][tmp] = Var(v, node)
        try:
            return super().expr_Attribute(ast.copy_location(ast.Attribute(
                value=ast.copy_location(ast.Name(id=tmp, ctx=ast.Load()), node),
                attr=node.attr, ctx=ast.Load()), node))
        finally:
            del self.scopes[-1][tmp]

    def variable_module_pick(self, f):
        """(container value, its module, index value) for `self.layers[i]` /
        `self.blocks[key]` indexed with a variable (not a constant), else None."""
        if not isinstance(f, ast.Subscript) or isinstance(f.slice, (ast.Constant,
                                                                    ast.Slice)) or \
                not _attribute_chain(f.value) or self.const_int(f.slice) is not None:
            return None
        cv = self.expr(f.value)         # (self.layers: a GetAttr, read again if unused)
        if not isinstance(cv.type, T.ClassType) or isinstance(cv.type, T.InterfaceType):
            return None
        try:
            sm = self.module_of(cv, f.value)
        except FrontendError:           # (an object of a scripted class)
            return None
        if not is_container(sm) or is_sequential_sm(sm):
            return None
        return cv, sm, self.expr(f.slice)

    def dynamic_module_call(self, cv, sm, index, node, build=None):
        """build(module value) on the module the index picks (default: calling it)."""
        if build is None:
            def build(sv):
                return self.call_module(sv, node)
        sl = node.func.slice if isinstance(node, ast.Call) and isinstance(
            node.func, ast.Subscript) else node
        children = [(k, sub) for k, sub in sm._modules.items() if sub is not None]
        is_dict = is_module_dict(sm)
        want = T.STR if is_dict else T.INT
        if not isinstance(index.type, type(want)):
            self.error(f"a {sm.original_name} is indexed with {describe_type(want)}, not "
                       f"{describe_type(index.type)}", sl)
        if not children:
            self.error(f"the {sm.original_name} is empty; there is no module to call", node)
        n = len(children)

        def chosen(pos, key):
            if is_dict:
                return self.scalar("eq", index, self.const(key))
            hit = self.scalar("eq", index, self.const(pos))
            return self.scalar("__or__", hit, self.scalar("eq", index, self.const(pos - n)))

        def chain(pos):
            if pos == n:
                what = "key" if is_dict else "index"
                msg = (f"{sm.original_name} {what} out of range (it holds "
                       + (", ".join(repr(k) for k, _ in children) if is_dict else
                          f"{n} modules") + ")")
                self.emit("prim::RaiseException",
                          [self.const(msg), self.const("builtins." + (
                              "KeyError" if is_dict else "IndexError"))], [])
                return self.emit("prim::Uninitialized", [], [result[0]]).output
            key, sub = children[pos]
            ifn = self.emit("prim::If", [chosen(pos, key)], [])
            vals = []
            for make in (lambda: build(self.submodule_value(cv, sub, key)),
                         lambda: chain(pos + 1)):
                b = ifn.add_block()
                with self.in_block(b), self.scope():
                    v = make()
                    b.register_output(v)
                    vals.append(v)
                    if not result:
                        result.append(v.type)
            t = unify(vals[0].type, vals[1].type)
            if t is None:
                self.error(f"the modules of the {sm.original_name} return different types "
                           f"({describe_type(vals[0].type)} from {key!r}, "
                           f"{describe_type(vals[1].type)} from the others); calling one "
                           f"chosen by a variable needs one type", node)
            return ifn.add_output(t)
        result = []
        return chain(0)


def _attribute_chain(node) -> bool:
    """self.layers / self.a.blocks / a local name: an expression read again at no cost."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)
