"""`gpujit.jit.freeze` and `gpujit.jit.optimize_for_inference`, as torch.jit has them.

Freezing a scripted or traced module in eval mode inlines its submodule calls and turns
every parameter, buffer and attribute the code reads (and never assigns) into a constant
of the graph; constant propagation then folds what depends only on them. The result is a
new RecursiveScriptModule without parameters: calling it runs the one frozen graph. Names
in `preserved_attrs` stay attributes (and methods named there stay methods).
"""
from __future__ import annotations

__all__ = ["freeze", "optimize_for_inference", "run_frozen_optimizations"]


def _attribute_value(obj, name):
    """What `prim::GetAttr[name](obj)` reads from a (script) module or object."""
    for table in ("_parameters", "_buffers", "_modules"):
        d = getattr(obj, "__dict__", {}).get(table)
        if d is not None and name in d:
            return d[name]
    if name == "training":
        return obj.training
    from ..runtime.arguments import live_attr
    return live_attr(obj, name)     # (the module's own list, not the copy Python reads)


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
    return _value_in_eval_mode(node.inputs[names.index("training")]) is False


def _value_in_eval_mode(v, depth=0):
    """The bool v is when the module is in eval mode (`self.training` False), or None when
    the graph does not say: a constant, `self.training`, `not` of one, or a prim::If on
    one giving its taken block's value (`if self.training: bn_training = True else:
    bn_training = False` as scripted, its constants folded)."""
    n = v.node
    if depth > 16:
        return None
    if n.kind == "prim::Constant":
        value = n.attrs.get("value")
        return value if isinstance(value, bool) else None
    if n.kind == "prim::GetAttr":
        return False if n.attrs.get("name") == "training" else None
    if n.kind == "aten::__not__":
        inner = _value_in_eval_mode(n.inputs[0], depth + 1)
        return None if inner is None else not inner
    if n.kind == "prim::If":
        cond = _value_in_eval_mode(n.inputs[0], depth + 1)
        if cond is None:
            return None
        block = n.blocks[0] if cond else n.blocks[1]
        return _value_in_eval_mode(block.outputs[v.offset], depth + 1)
    return None


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
            if n.kind == "prim::SetAttr" and n.inputs[1] is v and is_mutable_type(v.type):
                return True      # stored into an attribute: written through it later
            if n.kind in ("prim::CallFunction", "prim::CallMethod", "prim::PythonOp"):
                return True
            derived = list(n.outputs)
            if n.kind in ("prim::If", "prim::Loop"):
                derived += [x for b in n.blocks for x in b.inputs]
            elif not (n.kind in _ALIASING_READS or n.kind.startswith("prim::")
                      or (n.op is not None and ({"view", "inplace"} & n.op.tags)
                          and use.offset == 0)):
                # (a view or in-place op's result is its self argument's memory, not its
                # other arguments': `feature_dropout_(x, p, self.training)` then
                # `squeeze_` writes x, never the bool)
                derived = []
            todo.extend(o for o in derived if is_mutable_type(o.type))
    return False


# (torch 2.13's removeDropout: these four with a constant train=False; the alpha forms
# stay, the input itself all the same)
_DROPOUTS = frozenset({"aten::dropout", "aten::dropout_", "aten::feature_dropout",
                       "aten::feature_dropout_"})


def _is_object(value, type_) -> bool:
    """A module or a script-class object: freezing reads through it, never folds it."""
    from ..nn.module import Module
    from ..ir import types as T
    return isinstance(value, Module) or (isinstance(type_, T.ClassType)
                                         and not isinstance(type_, T.NamedTupleType))


def _holds_objects(type_) -> bool:
    """Does a container type hold script-class objects (einops' Dict[int,
    TransformRecipe])? TorchScript's freezing leaves such an attribute a prim::GetAttr (a
    graph constant cannot hold an object: insertableIValue), and gpujit could not save
    the constant it made of one."""
    from ..ir import types as T
    if isinstance(type_, T.ClassType):
        return True
    if isinstance(type_, T.ListType):
        return _holds_objects(type_.elem)
    if isinstance(type_, T.DictType):
        return _holds_objects(type_.key) or _holds_objects(type_.value)
    if isinstance(type_, T.OptionalType):
        return _holds_objects(type_.elem)
    if isinstance(type_, (T.TupleType, T.UnionType)):
        return any(_holds_objects(t) for t in getattr(type_, "elems", None) or
                   getattr(type_, "types", ()))
    return False


def _tensors_in(value, out=None):
    from ..tensor import Tensor
    out = [] if out is None else out
    if isinstance(value, Tensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _tensors_in(v, out)
    elif isinstance(value, dict):
        for k, v in value.items():
            _tensors_in(k, out)
            _tensors_in(v, out)
    return out


def _containers_in(value, out=None):
    """The lists and dicts inside value (itself included): what Python code can write."""
    out = [] if out is None else out
    if isinstance(value, (list, dict)):
        out.append(value)
    if isinstance(value, (list, tuple)):
        for v in value:
            _containers_in(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _containers_in(v, out)
    return out


def _share_memory(a, b) -> bool:
    x, y = a._data, b._data
    if type(x).__module__.startswith("cupy") or type(y).__module__.startswith("cupy"):
        if type(x) is not type(y):
            return False
        import cupy
        return bool(cupy.may_share_memory(x, y))
    import numpy as np
    return bool(np.may_share_memory(x, y))


def _overlap(u, v) -> bool:
    """Do two attribute values share a tensor's memory or a (mutable) container?"""
    cu, cv = _containers_in(u), _containers_in(v)
    if any(a is b for a in cu for b in cv):
        return True
    tv = _tensors_in(v)
    return any(_share_memory(a, b) for a in _tensors_in(u) for b in tv)


def _all_attributes(root):
    """(owner, name, value) for every parameter, buffer and plain attribute of root's
    modules and of the script-class objects they hold (each owner once)."""
    from ..nn.module import Module
    from ..frontend.script.classes import _CLASSES
    out, seen, todo = [], set(), [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Module):
            d = obj.__dict__
            items = list(d.get("_parameters", {}).items()) + list(d.get("_buffers", {}).items())
            todo.extend(m for m in d.get("_modules", {}).values() if m is not None)
            ctype = d.get("_type")
            for k in (ctype.attributes if ctype is not None else ()):
                if k in d and k != "training":
                    items.append((k, d[k]))
        else:
            items = [(k, v) for k, v in getattr(obj, "__dict__", {}).items()
                     if not k.startswith("_")]
        for k, v in items:
            if v is None:
                continue
            if isinstance(v, Module) or type(v) in _CLASSES:
                todo.append(v)
                continue
            out.append((obj, k, v))
    return out


def _copy_constant(value, memo):
    """A folded value, the frozen module's own: tensors detached copies, lists and dicts
    new containers (writing the scripted module's later does not change the frozen one).
    memo: id(tensor) -> (tensor, its copy), so that a tensor two attributes share (tied
    weights) stays one constant, as TorchScript's freezing keeps it."""
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        seen = memo.get(id(value))
        if seen is None:
            seen = memo[id(value)] = (value, value.detach().clone())
        return seen[1]
    if isinstance(value, list):
        return [_copy_constant(v, memo) for v in value]
    if isinstance(value, dict):
        return {k: _copy_constant(v, memo) for k, v in value.items()}
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_copy_constant(v, memo) for v in value)
    return value


class _Freezer:
    """One torch.jit.freeze: the graphs of the methods kept (forward and the preserved
    ones, of the root or of submodules), what they write, what stays an attribute, and
    the frozen module tree built around them."""

    def __init__(self, mod, preserved):
        self.mod = mod
        self.keep = set()          # (id(owner), name): stays an attribute
        self.whole = set()         # id(module): preserved with all it holds
        self.methods = []          # (owner, method name)
        self.paths = []            # (owners along the path, name): preserved by the user
        self.mutated = set()       # (id(owner), name): assigned or written in place
        self.mutated_names = set()  # written through an owner freezing cannot name
        self.copies = {}           # id(tensor) -> (tensor, its frozen copy)
        self.made = {}             # id(graph) -> the attribute constants _fold made
        self._resolve(preserved)

    # ---------------------------------------------------------------- preserved names
    def _resolve(self, preserved):
        from ..nn.module import Module
        from .objects import ScriptModule
        mod = self.mod
        if "forward" in mod._script_methods:
            self.methods.append((mod, "forward"))
        for path in preserved:
            chain, owner = [mod], mod
            parts = path.split(".")
            for p in parts[:-1]:
                sub = owner.__dict__.get("_modules", {}).get(p) \
                    if isinstance(owner, Module) else None
                if sub is None:
                    raise RuntimeError(f"Unknown name: {path}")
                chain.append(sub)
                owner = sub
            name = parts[-1]
            if isinstance(owner, ScriptModule) and name in owner._script_methods:
                if (owner, name) not in self.methods:
                    self.methods.append((owner, name))
            elif isinstance(owner, Module) and name in owner.__dict__.get("_modules", {}):
                sub = owner._modules[name]
                if sub is not None:
                    self.whole.add(id(sub))
                self.keep.add((id(owner), name))
            elif hasattr(owner, name) and name not in type(owner).__dict__:
                self.keep.add((id(owner), name))
            else:
                raise RuntimeError(f"Unknown name: {path}")
            self.paths.append((chain, name))
        if not self.methods:
            raise RuntimeError("freeze: the module has no compiled method 'forward' "
                               "(name the methods to keep in preserved_attrs)")

    # ---------------------------------------------------------------- analysis
    @staticmethod
    def _objects(graph, root):
        """Value -> the module or script object a GetAttr chain from self reads."""
        objects = {graph.inputs[0]: root}
        for n in graph.walk():
            if n.kind == "prim::GetAttr" and n.inputs[0] in objects:
                value = _attribute_value(objects[n.inputs[0]], n.attrs["name"])
                if _is_object(value, n.output.type):
                    objects[n.output] = value
        return objects

    def _scan(self, graph, objects):
        from ..passes.alias_analysis import AliasDb
        db = AliasDb(graph)
        for n in graph.walk():
            if n.kind == "prim::SetAttr" or (n.kind == "prim::GetAttr" and
                                             _written_in_graph(n.output, db)):
                owner = objects.get(n.inputs[0])
                if owner is None:
                    self.mutated_names.add(n.attrs["name"])
                else:
                    self.mutated.add((id(owner), n.attrs["name"]))
            if n.kind == "prim::GetAttr" and n.output in objects and any(
                    u.user.kind not in ("prim::GetAttr", "prim::SetAttr")
                    for u in n.output.uses):
                # a module returned or called at run time (an interface attribute) stays
                # whole, as does the attribute holding it
                obj = objects[n.output]
                from ..nn.module import Module
                if isinstance(obj, Module):
                    self.whole.add(id(obj))
                    self.keep.add((id(objects[n.inputs[0]]), n.attrs["name"]))
        if any(o is graph.inputs[0] for o in graph.outputs):
            raise RuntimeError("attempted to freeze a module that return itself")

    def _spread_over_aliases(self):
        """An attribute written in place that shares memory with another keeps that one
        too; a written list, tuple or dict whose tensors overlap another attribute is
        refused, as torch.jit.freeze refuses it."""
        attrs = _all_attributes(self.mod)
        by_key = {(id(o), k): v for o, k, v in attrs}
        from ..tensor import Tensor
        for key in list(self.mutated):
            v = by_key.get(key)
            if v is None or isinstance(v, Tensor) or not _tensors_in(v):
                continue
            tv = _tensors_in(v)
            for o, k, w in attrs:
                if (id(o), k) != key and any(_share_memory(a, b) for a in tv
                                             for b in _tensors_in(w)):
                    raise RuntimeError(
                        f"Freezing module contains attributes values that overlaps: "
                        f"'{key[1]}' is written and shares memory with '{k}'; "
                        f"freeze does not support it")
        todo = [k for k in self.mutated if k in by_key]
        while todo:
            key = todo.pop()
            v = by_key[key]
            for o, k, w in attrs:
                other = (id(o), k)
                if other not in self.mutated and _overlap(v, w):
                    self.mutated.add(other)
                    todo.append(other)

    def _stays(self, owner, name) -> bool:
        return (id(owner) in self.whole or (id(owner), name) in self.keep
                or (id(owner), name) in self.mutated or name in self.mutated_names)

    # ---------------------------------------------------------------- folding
    def _fold(self, graph, root):
        from ..ir.types import type_of_value
        from ..tensor import Tensor
        objects = {graph.inputs[0]: root}
        paths = {graph.inputs[0]: "self"}     # the attribute path of each object read
        tensors = {}            # id(attribute tensor) -> its constant in this graph
        made = self.made[id(graph)] = []    # the constants made, in the order read
        for n in list(graph.walk()):
            if n.kind != "prim::GetAttr" or n.inputs[0] not in objects:
                continue
            owner, name = objects[n.inputs[0]], n.attrs["name"]
            path = f"{paths[n.inputs[0]]}.{name}"
            value = _attribute_value(owner, name)
            if _is_object(value, n.output.type):
                objects[n.output] = value
                paths[n.output] = path
                continue
            if self._stays(owner, name) or _holds_objects(n.output.type):
                continue
            c = tensors.get(id(value)) if isinstance(value, Tensor) else None
            if c is None:
                # a tensor's constant at the top, where every later read of it (a tied
                # weight) reuses it
                where = graph.block.nodes[0] if isinstance(value, Tensor) else n
                folded = _copy_constant(value, self.copies)
                # as TorchScript's freezing prints it: named by the attribute's path
                # (%self.l.weight), a tensor's of its complete type
                # (Float(2, 3, strides=[3, 1], requires_grad=0, device=cpu)), no source
                ty = type_of_value(folded) if isinstance(value, Tensor) else n.output.type
                with graph.inserting_before(where):
                    c = graph.insert_constant(folded, ty)
                c.set_debug_name(path)
                made.append(c.node)
                if isinstance(value, Tensor):
                    tensors[id(value)] = c
            n.output.replace_all_uses_with(c)
            n.destroy()
        for n in list(graph.walk()):       # dropout in eval mode is the identity
            if n.kind in _DROPOUTS and n.op is not None and _training_off(n):
                n.output.replace_all_uses_with(n.inputs[0])
                n.destroy()

    def run(self, optimize_numerics=True):
        from ..passes import optimize
        graphs = []
        for owner, name in self.methods:
            m = owner._script_methods[name]
            g = m.inlined_graph.copy()
            _erase_tensor_types(g)
            graphs.append((owner, name, m, g, self._objects(g, owner)))
        for owner, name, m, g, objects in graphs:
            self._scan(g, objects)
        self._spread_over_aliases()
        out = []
        from ..passes.frozen_folding import fold_frozen_conv_dims
        from ..passes.peephole import drop_frozen_identities
        for owner, name, m, g, objects in graphs:
            self._fold(g, owner)
            fold_frozen_conv_dims(g)
            optimize(g, frozen=True)
            drop_frozen_identities(g)
            _unroll_constant_loops(g)
            if optimize_numerics:
                _optimize_frozen_graph(g)
            _torch_constant_order(g, self.made.pop(id(g), []))
            out.append((owner, name, m, g))
        return self._build(out)

    # ---------------------------------------------------------------- the frozen tree
    def _shell(self, orig):
        from ..frontend.script.modules import RecursiveScriptModule
        from ..frontend.tracer import class_type_for
        s = self.shells.get(id(orig))
        if s is None:
            s = RecursiveScriptModule()
            object.__setattr__(s, "original_name", orig.original_name)
            object.__setattr__(s, "_type", class_type_for(orig))
            s.training = False
            self.shells[id(orig)] = s
        return s

    def _attach(self, orig, shell, name):
        """Give shell orig's attribute `name` (the same value: writes are shared)."""
        from ..nn.module import Module
        d, sd = orig.__dict__, shell.__dict__
        value = _attribute_value(orig, name)
        if name in d.get("_modules", {}):
            sd["_modules"][name] = (self._shell(value) if value is not None and
                                    id(value) not in self.whole else value)
            iface = (d.get("_interface_attrs") or {}).get(name)
            if iface is not None:
                attrs = dict(sd.get("_interface_attrs") or {})
                attrs[name] = iface
                object.__setattr__(shell, "_interface_attrs", attrs)
        elif name in d.get("_parameters", {}):
            sd["_parameters"][name] = value
        elif name in d.get("_buffers", {}):
            sd["_buffers"][name] = value
            if name in getattr(orig, "_non_persistent_buffers_set", ()):
                shell._non_persistent_buffers_set.add(name)
        elif name != "training":
            object.__setattr__(shell, name, value)
        if orig._type is not None and name in orig._type.attributes:
            shell._type.attributes[name] = orig._type.attributes[name]
        return value if isinstance(value, Module) else None

    def _build(self, graphs):
        from ..nn.module import Module
        self.shells = {}
        frozen = self._shell(self.mod)
        for chain, name in self.paths:      # what the user named exists, used or not
            for parent, child in zip(chain, chain[1:]):
                key = next(k for k, v in parent._modules.items() if v is child)
                self._attach(parent, self._shell(parent), key)
            owner = chain[-1]
            if name not in owner.__dict__.get("_script_methods", {}):
                self._attach(owner, self._shell(owner), name)
        for owner, name, m, g in graphs:
            where = {g.inputs[0]: owner}
            for n in g.walk():
                if n.kind not in ("prim::GetAttr", "prim::SetAttr") or \
                        n.inputs[0] not in where:
                    continue
                o = where[n.inputs[0]]
                if id(o) in self.whole:
                    continue
                sub = self._attach(o, self._shell(o), n.attrs["name"])
                if n.kind == "prim::GetAttr" and isinstance(sub, Module):
                    where[n.output] = sub
            shell = self._shell(owner)
            g.inputs[0].type = shell._type
            shell._add_method(name, g)
            shell._script_methods[name]._defaults = dict(m._defaults)
        return frozen


def _torch_constant_order(graph, made):
    """The leading constants of a frozen graph in torch's order. torch's freezing puts the
    attributes' constants first, in the order read, and its one ConstantPooling then moves
    each constant in turn to the front: the graph's other constants come out in reverse
    order of appearance, then the attributes' in reverse order read."""
    nodes = graph.block.nodes
    k = 0
    while k < len(nodes) and nodes[k].kind == "prim::Constant":
        k += 1
    if k < 2:
        return
    lead = list(nodes[:k])
    here = set(map(id, lead))
    ours = [n for n in made if id(n) in here]
    mine = set(map(id, ours))
    order = [n for n in reversed(lead) if id(n) not in mine] + ours[::-1]
    if all(a is b for a, b in zip(order, lead)):
        return
    rest = nodes[k] if k < len(nodes) else None
    for n in order:
        if rest is not None:
            n.move_before(rest)
        else:
            n.move_after(nodes[-1])


def _plain(t):
    """t with every tensor type in it a plain Tensor (a traced Float(2, 3, ...))."""
    from ..ir import types as T
    if isinstance(t, T.TensorType):
        return T.TENSOR
    if isinstance(t, T.TupleType) and not isinstance(t, T.NamedTupleType):
        return T.TupleType(tuple(_plain(e) for e in t.elems))
    if isinstance(t, T.ListType):
        return T.ListType(_plain(t.elem))
    if isinstance(t, T.OptionalType):
        return T.OptionalType(_plain(t.elem))
    return t


def _erase_tensor_types(graph):
    """torch's frozen graph of a trace types its values plain Tensor (`%x : Tensor`, the
    traced `{2}` constant's too); the constants freezing makes of parameters then have
    their complete types (%self.l.weight : Float(3, 3, strides=[3, 1], ...))."""
    for v in graph.all_values():
        t = _plain(v.type)
        if t is not v.type and t != v.type:
            v.type = t


def _unroll_constant_loops(graph):
    """torch's freezing runs runOptimization, whose UnrollConstantLoops unrolls a loop of
    a constant trip count made constant by the folded attributes (`for i in
    range(self.k)`), then its peephole and constant propagation fold the copies."""
    from ..passes import optimize
    from ..passes.loop_unroll import unroll_small_constant_loops
    if not any(n.kind == "prim::Loop" for n in graph.walk()):
        return
    if unroll_small_constant_loops(graph):
        from ..passes.remove_mutation import remove_list_mutation
        from ..passes.peephole import drop_frozen_identities
        remove_list_mutation(graph)
        # (torch's peephole sees the first copy's counter, its 0 constant, and literals;
        # the later counters are `i + 1` nodes until its constant propagation)
        later = {n for n in graph.walk() if n.meta.get("unrolled_counter", 0) > 0}
        drop_frozen_identities(graph, later)
        optimize(graph, frozen=True)


def _training_off(node) -> bool:
    schema = node.op.schema
    names = [a.name for a in schema.arguments]
    if "train" in names:
        k = names.index("train")
    elif "training" in names:
        k = names.index("training")
    else:
        return False
    if k >= len(node.inputs):
        return False
    flag = node.inputs[k].node
    return flag.kind == "prim::Constant" and flag.attrs.get("value") is False


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """A frozen copy of a scripted or traced module in eval mode: its forward (and the
    methods named in preserved_attrs, `sub.method` for a submodule's) with submodules
    inlined and the parameters, buffers and attributes they read folded in as constants.
    What the code assigns or writes in place, and what shares memory with it, stays an
    attribute (the scripted module's own value); so do the names in preserved_attrs
    (`sub.attr` for a submodule's; a submodule named there stays whole)."""
    from .objects import ScriptModule
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("Freezing expects a ScriptModule as input. Please use "
                           "torch.jit.script or torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval "
                           "mode. Please call .eval() on your module before freezing.")
    return _Freezer(mod, list(preserved_attrs or ())).run(optimize_numerics)


def _optimize_frozen_graph(graph):
    """The numerics-changing folds of a frozen graph (conv-bn, conv-add/sub/mul/div)."""
    from ..passes import optimize
    from ..passes.frozen_folding import fold_frozen_convolutions
    fold_frozen_convolutions(graph)
    optimize(graph, frozen=True)


def run_frozen_optimizations(mod, optimize_numerics=True, preserved_methods=None):
    """torch.jit.run_frozen_optimizations: fold a frozen module's constant parameters
    into its convolutions (batch norm; adding, multiplying... by per-channel constants)
    in forward and the methods named, in place. optimize_numerics=False leaves the
    graphs as they are (every fold changes the rounding)."""
    from .objects import ScriptModule
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("run_frozen_optimizations expects a frozen ScriptModule "
                           "(torch.jit.freeze it first)")
    if not optimize_numerics:
        return
    for name in ["forward"] + list(preserved_methods or ()):
        m = mod._script_methods.get(name)
        if m is None:
            if name == "forward":
                continue
            raise RuntimeError(f"run_frozen_optimizations: the module has no method {name!r}")
        g = m.graph.copy()
        _optimize_frozen_graph(g)
        defaults = dict(m._defaults)
        mod._add_method(name, g)
        mod._script_methods[name]._defaults = defaults


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
