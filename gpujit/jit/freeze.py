"""`gpujit.jit.freeze` and `gpujit.jit.optimize_for_inference`, as torch.jit has them.

Freezing a scripted or traced module in eval mode inlines its submodule calls and turns
every parameter, buffer and attribute the code reads (and never assigns) into a constant
of the graph; constant propagation then folds what depends only on them. The result is a
new RecursiveScriptModule without parameters: calling it runs the one frozen graph. Names
in `preserved_attrs` stay attributes (and methods named there stay methods).
"""
from __future__ import annotations

__all__ = ["freeze", "optimize_for_inference"]


def _attribute_value(obj, name):
    """What `prim::GetAttr[name](obj)` reads from a (script) module or object."""
    for table in ("_parameters", "_buffers", "_modules"):
        d = getattr(obj, "__dict__", {}).get(table)
        if d is not None and name in d:
            return d[name]
    if name == "training":
        return obj.training
    return getattr(obj, name)


_ALIASING_READS = frozenset({"aten::__getitem__", "prim::ListIndex", "prim::DictIndex",
                             "prim::ListUnpack", "prim::TupleUnpack", "prim::TupleIndex",
                             "aten::values", "aten::items"})


def _eval_mode_read(node) -> bool:
    """An op that writes its running statistics only when training (aten::batch_norm's
    `Tensor(a!)? running_mean`), called with training off: a frozen module is in eval
    mode, so `training` is False or `self.training`."""
    schema = getattr(node.op, "schema", None)
    names = [a.name for a in schema.arguments] if schema is not None else []
    if "training" not in names or names.index("training") >= len(node.inputs):
        return False
    flag = node.inputs[names.index("training")].node
    if flag.kind == "prim::GetAttr":
        return flag.attrs.get("name") == "training"
    return flag.kind == "prim::Constant" and flag.attrs.get("value") is False


def _written_in_graph(value, db) -> bool:
    """Does the graph write `value` in place (`self.buf.add_(1)`, `self.seen.append(1)`,
    `self.buf[0] = 1`), directly or through a view or element of it? Such an attribute
    stays an attribute, as in torch.jit.freeze (folded, every read would be a constant
    of the value at freezing time, and each write would change a copy)."""
    from ..passes.alias_analysis import is_mutable_type
    seen, todo = set(), [value]
    while todo:
        v = todo.pop()
        if v in seen:
            continue
        seen.add(v)
        for use in v.uses:
            n = use.user
            if v in db.writes_to(n) and not _eval_mode_read(n):
                return True
            if n.kind in ("prim::CallFunction", "prim::CallMethod", "prim::PythonOp"):
                return True
            derived = list(n.outputs)
            if n.kind in ("prim::If", "prim::Loop"):
                derived += [x for b in n.blocks for x in b.inputs]
            elif not (n.kind in _ALIASING_READS or n.kind.startswith("prim::")
                      or (n.op is not None and ({"view", "inplace"} & n.op.tags))):
                derived = []
            todo.extend(o for o in derived if is_mutable_type(o.type))
    return False


def _freeze_graph(graph, root, preserved):
    """Replace GetAttr chains from `self` by constants (in place), except attributes that
    the graph assigns (prim::SetAttr) or writes in place, and those that are preserved."""
    from ..nn.module import Module
    from ..ir import types as T
    from ..passes.alias_analysis import AliasDb
    db = AliasDb(graph)
    assigned = {(id(n.inputs[0]), n.attrs["name"]) for n in graph.walk()
                if n.kind == "prim::SetAttr"}
    # names of attributes written in place (of any object: coarse, and safe)
    written = {n.attrs["name"] for n in graph.walk()
               if n.kind == "prim::GetAttr" and _written_in_graph(n.output, db)}
    objects = {graph.inputs[0]: root}
    for n in list(graph.walk()):
        if n.kind != "prim::GetAttr" or n.inputs[0] not in objects:
            continue
        owner, name = objects[n.inputs[0]], n.attrs["name"]
        value = _attribute_value(owner, name)
        if isinstance(value, Module) or isinstance(n.output.type, T.ClassType) and \
                not isinstance(n.output.type, T.NamedTupleType):
            objects[n.output] = value
            continue
        if name in preserved or name in written or (id(n.inputs[0]), name) in assigned or any(
                u.user.kind == "prim::SetAttr" for u in n.inputs[0].uses):
            continue
        from ..tensor import Tensor
        if isinstance(value, Tensor):
            value = value.detach().clone()
        with graph.inserting_before(n):
            c = graph.insert_constant(value, n.output.type, source_range=n.source_range)
        if n.output.has_debug_name():
            c.set_debug_name(n.output.debug_name)
        n.output.replace_all_uses_with(c)
        n.destroy()


def _keep_read_attributes(graph, mod, frozen):
    """Give `frozen` the attributes its graph still reads from `self` (those the code
    assigns or writes in place, as `self.count += 1` or `self.seen.append(x)`, are not
    folded). The values are shared with `mod`, as torch.jit.freeze shares them: a tensor
    or list the frozen module writes is the scripted module's too."""
    for n in graph.walk():
        if n.kind != "prim::GetAttr" or n.inputs[0] is not graph.inputs[0]:
            continue
        name = n.attrs["name"]
        if name in frozen.__dict__ or any(name in frozen.__dict__.get(d, {})
                                          for d in ("_modules", "_buffers")):
            continue
        value = _attribute_value(mod, name)
        if name in mod.__dict__.get("_buffers", {}) and "_buffers" in frozen.__dict__:
            frozen.__dict__["_buffers"][name] = value       # a buffer stays a buffer
            continue
        if name in mod.__dict__.get("_modules", {}) and "_modules" in frozen.__dict__:
            # a submodule the code still calls (held by an interface-typed attribute: its
            # methods are looked up at run time): it stays a submodule, saved with it
            frozen.__dict__["_modules"][name] = value
            iface = (mod.__dict__.get("_interface_attrs") or {}).get(name)
            if iface is not None:
                attrs = dict(frozen.__dict__.get("_interface_attrs") or {})
                attrs[name] = iface
                object.__setattr__(frozen, "_interface_attrs", attrs)
            attr_t = mod._type.attributes.get(name) if mod._type is not None else None
            if attr_t is not None:
                frozen._type.attributes[name] = attr_t
            continue
        object.__setattr__(frozen, name, value)
        attr_t = mod._type.attributes.get(name) if mod._type is not None else None
        if attr_t is not None:
            frozen._type.attributes[name] = attr_t


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """A frozen copy of a scripted or traced module in eval mode: its forward (and the
    methods named in preserved_attrs) with submodules inlined and the parameters, buffers
    and attributes they read folded in as constants."""
    from .objects import ScriptModule
    from ..frontend.script.modules import RecursiveScriptModule
    from ..frontend.tracer import class_type_for
    from ..passes import optimize
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("Freezing expects a ScriptModule as input. Please use "
                           "torch.jit.script or torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval "
                           "mode. Please call .eval() on your module before freezing.")
    preserved = set(preserved_attrs or ())
    names = ["forward"] + [k for k in mod._script_methods if k in preserved and
                           k != "forward"]
    frozen = RecursiveScriptModule()
    object.__setattr__(frozen, "original_name", mod.original_name)
    object.__setattr__(frozen, "_type", class_type_for(mod))
    frozen.training = False
    for name in preserved:
        if name in mod._parameters or name in mod._buffers:
            raise RuntimeError(f"freeze: '{name}' is a parameter or buffer; preserved_attrs "
                               f"keeps plain attributes and methods")
        if name not in mod._script_methods and hasattr(mod, name):
            object.__setattr__(frozen, name, getattr(mod, name))
            attr_t = mod._type.attributes.get(name) if mod._type is not None else None
            if attr_t is not None:
                frozen._type.attributes[name] = attr_t
    for name in names:
        m = mod._script_methods.get(name)
        if m is None:
            raise RuntimeError(f"freeze: the module has no compiled method '{name}'")
        g = m.inlined_graph.copy()
        _freeze_graph(g, mod, preserved)
        optimize(g)
        _keep_read_attributes(g, mod, frozen)
        g.inputs[0].type = frozen._type
        frozen._add_method(name, g)
        frozen._script_methods[name]._defaults = dict(m._defaults)
    return frozen


def optimize_for_inference(mod, other_methods=None):
    """freeze(mod) (made eval first) for inference; gpujit's fuser already specializes
    frozen graphs on first call, so nothing else is rewritten."""
    from .objects import ScriptModule
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("optimize_for_inference expects a ScriptModule (torch.jit.script "
                           "or torch.jit.trace it first)")
    if mod.training:
        mod.eval()
    return freeze(mod, preserved_attrs=other_methods)
