"""Submodule calls of a trace kept as method calls, as TorchScript's tracer keeps them.

While tracing, every recorder records every op (a submodule's ops land inline in its
callers' graphs too, `scope:` naming it), and each submodule call gets a recorder of its
own (the callee's graph). Each caller also marks the call's *region*: the nodes the call
added to its graph, the Values of its tensor arguments and of its result's tensors. When
the trace ends (`fold_calls`), each region becomes one
`prim::CallMethod[name="forward"](%sub, %args...)` whose callee is the submodule's
graph of that call: the first call of a submodule is its `forward`, later ones
`forward1`, `forward2`... (PyTorch 2.13's names, one method per call). A region stays
inline (as before) when the call cannot be a method call: keyword arguments, a result
that is not Tensors in (nested) tuples/lists, a result the call did not compute (an
argument returned: Dropout in eval), a callee that baked in a value its caller
computed (a traced tensor or size not passed as an argument), or a caller that uses a
value computed inside the call other than its result.

The executor inlines the calls again before optimizing (passes.inline_calls first, as
TorchScript's runOptimization), so fusion sees the whole program; `.inlined_graph`
shows that form.
"""
from __future__ import annotations

from ..ir import types as T
from ..tensor import Tensor


class CallRegion:
    __slots__ = ("rec", "callee", "module", "prev", "last", "arg_values", "module_value",
                 "out", "valid", "attrs_before", "bound", "leaf_values")

    def __init__(self, rec, callee, module):
        self.rec = rec                    # the caller's Recorder
        self.callee = callee              # the call's own Recorder
        self.module = module
        self.prev = None                  # the caller's last node before the call
        self.last = None                  # its last node when the call returned
        self.arg_values = []
        self.module_value = None
        self.out = None                   # the call's result (Python)
        self.valid = True
        self.attrs_before = None          # the caller's cached GetAttr chains before it
        self.bound = ()                   # the Tensor-holding arguments (Python)
        self.leaf_values = {}             # id(leaf tensor) -> the caller's Value of it


def _leaves(x, acc):
    if isinstance(x, Tensor):
        acc.append(x)
        return True
    if isinstance(x, (tuple, list)) and not hasattr(x, "_fields"):
        return all(_leaves(e, acc) for e in x)
    return False


def _arg_leaves(x, acc):
    """An argument's tensors (also in dicts' values), or False if it holds others."""
    if isinstance(x, dict):
        return all(_arg_leaves(e, acc) for e in x.values())
    if isinstance(x, (tuple, list)) and not hasattr(x, "_fields"):
        return all(_arg_leaves(e, acc) for e in x)
    return _leaves(x, acc)


def _known(rec, t):
    return id(t) in rec.env or rec.attr_value(t) is not None


def start(rec, callee, module, bound_args, other_args):
    """Mark the start of a submodule call in caller rec (before the callee runs)."""
    r = CallRegion(rec, callee, module)
    leaves = []
    if rec.graph._insert is not None or \
            not all(_arg_leaves(a, leaves) for a in bound_args) or \
            any(_holds_tensor_or_traced(a) for a in other_args) or \
            not all(_known(rec, t) for t in leaves):
        r.valid = False
        return r
    mv = rec.attr_value(module)
    if mv is None:
        r.valid = False
        return r
    r.module_value = mv
    # (the call's method takes the tensors in its arguments, also those in lists, tuples
    # and dicts, as TorchScript's tracer: see _flat_params)
    r.bound = tuple(bound_args)
    r.leaf_values = {id(t): rec.value_of(t) for t in leaves}
    r.arg_values = list(r.leaf_values.values())
    nodes = rec.graph.block.nodes
    r.prev = nodes[-1] if len(nodes) else None
    r.attrs_before = set(rec.attr_values)
    rec.regions.append(r)
    return r


def _holds_tensor_or_traced(a):
    from .traced_numbers import is_traced_number
    if isinstance(a, Tensor) or is_traced_number(a):
        return True
    if isinstance(a, (tuple, list)):
        return any(_holds_tensor_or_traced(e) for e in a)
    if isinstance(a, dict):
        return any(_holds_tensor_or_traced(e) for e in a.values())
    return False


def finish(r, out):
    if not r.valid:
        return
    nodes = r.rec.graph.block.nodes
    r.last = nodes[-1] if len(nodes) else None
    leaves = []
    if not _leaves(out, leaves) or r.callee.baked_caller_value:
        r.valid = False
        return
    r.out = out
    # the chains the call's own ops read (its parameters) go with the call once it is
    # folded: a read of the same parameter after the call gets a chain of its own, placed
    # where TorchScript's tracer places it (`w = a.w` above `a = self.a` when `self.a.w`
    # is read after `self.a(x)`)
    cache = r.rec.attr_values
    for k in [k for k in cache if k not in r.attrs_before]:
        del cache[k]


def _top(node, block):
    """node's ancestor (or itself) placed in block."""
    while node is not None and node.owning_block is not block:
        ob = node.owning_block
        node = ob.owning_node if ob is not None else None
    return node


def _method_name(session, callee):
    """forward for a submodule's first call, forward<k> for its k-th after it."""
    name = callee.method_name
    if name is None:
        k = callee.call_index
        name = callee.method_name = "forward" if k == 0 else f"forward{k}"
        if k:
            session.extra_methods.append((callee.module, name, callee.graph))
    return name


def fold_calls(rec):
    """Turn rec's call regions into prim::CallMethod nodes (outermost first)."""
    session = rec.session
    block = rec.graph.block
    for r in rec.regions:
        if not r.valid or r.out is None:
            continue
        nodes = block.nodes
        try:
            i0 = nodes.index(r.prev) + 1 if r.prev is not None else 0
            i1 = nodes.index(r.last) + 1 if r.last is not None else 0
        except ValueError:
            continue        # (nodes of it already folded into an outer call)
        if r.module_value.node.owning_block is not None and \
                _top(r.module_value.node, block) is None:
            continue
        region = list(nodes[i0:i1])
        # attribute reads (self.lin.weight) move before the call: the caller may read the
        # same attribute later through the Recorder's cached GetAttr chain
        moved = set()
        for n in region:
            if n.kind == "prim::GetAttr" and (n.inputs[0].node not in region or
                                              n.inputs[0].node in moved):
                moved.add(n)
        kept = [n for n in region if n not in moved]
        if kept:
            for n in region:
                if n in moved:
                    n.move_before(kept[0])
        region = [n for n in region if n not in moved]
        rset = set(region)
        allowed = {id(v) for v in r.arg_values} | {id(r.module_value)}
        ok = True
        # what the call's nodes read from before it: its arguments, attributes, constants
        for n in region:
            for m in [n] + [x for b in n.blocks for x in b.walk()]:
                for v in m.inputs:
                    top = _top(v.node, block)
                    if top in rset or id(v) in allowed or v.node.kind in (
                            "prim::GetAttr", "prim::Constant") or (
                            v.node.kind == "prim::Param" and top is None):
                        continue
                    ok = False
        if not ok:
            continue
        # what the caller reads from the call: its result only
        out_leaves = []
        _leaves(r.out, out_leaves)
        out_values = {}
        for t in out_leaves:
            v = rec.env.get(id(t))
            if v is None or _top(v.node, block) not in rset:
                ok = False      # (a result computed before the call: Dropout in eval
                break           # returns its input; the call stays inline)
            out_values.setdefault(id(v), v)
        if not ok:
            continue
        for n in region:
            for v in n.outputs:
                for u in v.uses:
                    if _top(u.user, block) not in rset and id(v) not in out_values:
                        ok = False
        if not ok:
            continue
        callee = r.callee.graph
        if len(callee.outputs) != 1:
            continue
        order = _flat_params(r.callee, r.bound)
        if order is None:
            continue
        args = [r.leaf_values[k] for k in order]
        name = _method_name(session, r.callee)
        _name_parameters(callee, args)
        g = rec.graph
        anchor = nodes[i1] if i1 < len(nodes) else None
        with (g.inserting_before(anchor) if anchor is not None
              else g.inserting_at_end(block)):
            cm = g.create("prim::CallMethod", [r.module_value] + args,
                          output_types=[T.without_shapes(callee.outputs[0].type)],
                          attrs={"name": name})
            cm.meta["callee"] = callee
            g.insert(cm)
            _rebind(g, r.out, cm.output, rec, rset, block)
        for n in reversed(region):
            n.destroy()
        # a later call that starts right after this one (`self.a(x) + self.a(x)`: nothing
        # recorded between the two) marked its start at a node now folded into the
        # CallMethod: it starts after the call's nodes instead (an inner call's region,
        # whose end was folded too, is still skipped above)
        after = block.nodes[block.nodes.index(anchor) - 1] if anchor is not None \
            else block.nodes[-1]
        for r2 in rec.regions:
            if r2.prev in rset:
                r2.prev = after


def _name_parameters(callee, arg_values):
    """The method's parameters named as TorchScript's tracer names them when it turns a
    call into a method: after the caller's values passed (`forward1(self, x, inp)` for
    `self.s(x, inp)`), `argument_<k>` for an unnamed one (`(dg).forward(argument_1)` for
    `self.dg(self.linear(x))`)."""
    params = list(callee.inputs)[1:]
    if len(params) != len(arg_values):
        return
    for p in params:
        p.set_debug_name(None)
    for k, (p, a) in enumerate(zip(params, arg_values), 1):
        p.set_debug_name(a.debug_name if a.has_debug_name() else f"argument_{k}")


def _rebind(g, x, v, rec, rset, block):
    """The uses after the call of the Values standing for result x: v (unpacked)."""
    if isinstance(x, Tensor):
        old = rec.env.get(id(x))
        if old is not None and _top(old.node, block) in rset:
            if v.node.kind != "prim::CallMethod":
                v.type = old.type       # (an unpacked element: as the op typed it)
            old.replace_all_uses_with(v)
            # the call's result stands for x from here on: in a later call's arguments
            # too (Sequential's ReLU after a Linear folded first stayed inline)
            rec.env[id(x)] = v
            for r in rec.regions:
                r.arg_values = [v if a is old else a for a in r.arg_values]
                r.leaf_values = {k: v if a is old else a for k, a in r.leaf_values.items()}
            # (unnamed, as TorchScript's: its tracer builds the call's result afresh when
            # it turns the call's block into a method, `_0 = (linear).forward(x, )`; the
            # name the user's local gave the value inside the call stays there)
            old.set_debug_name(None)
        return
    kind = "prim::TupleUnpack" if isinstance(x, tuple) else "prim::ListUnpack"
    types = list(v.type.elems) if isinstance(v.type, T.TupleType) else \
        [v.type.elem] * len(x)
    un = g.insert_node(kind, [v], output_types=types)
    for e, o in zip(x, un.outputs):
        _rebind(g, e, o, rec, rset, block)


def _flat_params(callee, bound):
    """The method's parameters as TorchScript's tracer makes them when it turns a call
    into a method: the tensors the call's ops read from its arguments (also inside lists,
    tuples and dicts), each once, in the order the ops first read them; one it does not
    read is no parameter (`self.s([x, y], {"a": z})` whose forward computes
    `d["a"] * xs[1] - xs[0]` is `(s).forward(z, y, x, )`). Rewrites the callee's graph
    (once: the callee is shared by every caller's graph) and returns the ids of the
    tensors in parameter order, or None when an argument is read otherwise than by
    unpacking it (the call stays inline)."""
    done = getattr(callee, "flat_params", None)
    if done is not None:
        return done
    g = callee.graph
    params = list(g.inputs)[1:]
    if len(params) != len(bound):
        return None
    pairs, unpacks = [], []

    def walk(v, a):
        if isinstance(a, Tensor):
            pairs.append((v, a))
            return True
        uses = list(v.uses)
        if isinstance(a, (tuple, list)):
            if not uses:
                return True
            n = uses[0].user
            if len(uses) != 1 or n.kind not in ("prim::ListUnpack", "prim::TupleUnpack") \
                    or len(n.outputs) != len(a):
                return False
            unpacks.append(n)
            return all(walk(o, e) for o, e in zip(n.outputs, a))
        if isinstance(a, dict):
            for u in uses:
                n = u.user
                key = n.inputs[1].node if len(n.inputs) > 1 else None
                if n.kind != "aten::__getitem__" or u.offset != 0 or \
                        key.kind != "prim::Constant" or key["value"] not in a:
                    return False
                unpacks.append(n)
                if not walk(n.output, a[key["value"]]):
                    return False
            return True
        return False
    try:
        if not all(walk(p, a) for p, a in zip(params, bound)):
            return None
    except (AttributeError, KeyError, TypeError):
        return None
    of = {id(v): t for v, t in pairs}
    skip = set(map(id, unpacks))
    order, types = [], {}
    for n in list(g.block.walk()) + [g.return_node]:
        if id(n) in skip:
            continue
        for v in n.inputs:
            t = of.get(id(v))
            if t is not None and id(t) not in types:
                order.append(t)
                types[id(t)] = T.TensorType.of(t)      # (as the tensor is: Float(2, 3))
    new = {id(t): g.add_input(type_=types[id(t)]) for t in order}
    moved = {}
    for v, t in pairs:
        if id(t) in new:
            v.replace_all_uses_with(new[id(t)])
            moved[id(v)] = new[id(t)]
    # the callee's own record of the values (its env, its calls' arguments, folded after
    # this when the callee is a caller too) follows
    env = callee.env
    for k, v in list(env.items()):
        if id(v) in moved:
            env[k] = moved[id(v)]
    for r in callee.regions:
        r.arg_values = [moved.get(id(a), a) for a in r.arg_values]
        r.leaf_values = {k: moved.get(id(a), a) for k, a in r.leaf_values.items()}
    def drop(n):
        # a call inside the callee that starts right after n starts after n's predecessor
        nodes = n.owning_block.nodes
        if n.owning_block is g.block:
            k = nodes.index(n)
            for r in callee.regions:
                if r.prev is n:
                    r.prev = nodes[k - 1] if k else None
                if r.last is n:
                    r.last = nodes[k - 1] if k else None
        n.destroy()
    for n in reversed(unpacks):
        consts = [x.node for x in n.inputs[1:] if x.node.kind == "prim::Constant"]
        drop(n)
        for c in consts:
            if not any(o.uses for o in c.outputs):
                drop(c)
    for i in range(len(params), 0, -1):
        g.block.erase_input(i)
    callee.flat_params = [id(t) for t in order]
    return callee.flat_params
