"""Submodule calls of a trace kept as method calls, as TorchScript's tracer keeps them.

While tracing, every recorder records every op (a submodule's ops land inline in its
callers' graphs too, `scope:` naming it), and each submodule call gets a recorder of its
own (the callee's graph). Each caller also marks the call's *region*: the nodes the call
added to its graph, the Values of its tensor arguments and of its result's tensors. When
the trace ends (`fold_calls`), each region becomes one
`prim::CallMethod[name="forward"](%sub, %args...)` whose callee is the submodule's
graph of that call: the first call of a submodule is its `forward`, later ones
`forward1`, `forward2`... (PyTorch 2.13's names, one method per call; a name an
@export method's scripting took first is skipped). As TorchScript's tracer turns the
call's block into a method, the method returns what the caller reads of the call: the
tensors computed in it and used after it, in the order first used (one, a tuple, or
None), whatever the Python result held (None, numbers, dicts, an argument passed
through). A region stays inline (as before) when the call cannot be a method call:
arguments that do not bind to the forward's parameters (*args, **kwargs), a callee that baked in a value its caller computed (a traced tensor
or size not passed as an argument), or a caller reading a value of the call that is no
tensor the callee computed at its top level (a traced size).

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
    if r.callee.baked_caller_value:
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
        # what the caller reads from the call: as TorchScript's tracer makes the call's
        # block a method, the values computed in it and used after it, in the order
        # first used (its Python result's structure, a None, a number or a dict in it,
        # does not matter; none used: the method returns None)
        escaping = _escaping(block, i1, rset)
        outs = _method_outputs(rec, r.callee, escaping, rset)
        if outs is None:
            continue
        callee = r.callee.graph
        order = _flat_params(r.callee, r.bound)
        if order is None:
            continue
        args = [r.leaf_values[k] for k in order]
        name = _method_name(session, r.callee)
        _name_parameters(callee, args, rec.traced_types)
        g = rec.graph
        anchor = nodes[i1] if i1 < len(nodes) else None
        with (g.inserting_before(anchor) if anchor is not None
              else g.inserting_at_end(block)):
            cm = g.create("prim::CallMethod", [r.module_value] + args,
                          output_types=[T.without_shapes(callee.outputs[0].type)],
                          attrs={"name": name})
            cm.meta["callee"] = callee
            cm.meta["traced_call"] = True       # (a block lifted to a method, not a compiled call)
            g.insert(cm)
            if len(escaping) == 1:
                _rebind_value(escaping[0], cm.output, rec, outs[0])
            elif escaping:
                un = g.insert_node("prim::TupleUnpack", [cm.output],
                                   output_types=[v.type for v in escaping])
                for old, o, tids in zip(escaping, un.outputs, outs):
                    _rebind_value(old, o, rec, tids)
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
        if not rset:
            # (a call that recorded nothing, `self.ident(x)` returning x, is still a call,
            # `_0 = (i).forward()`, as torch's: a later call starting where it started
            # starts after it, or its region would take this CallMethod in)
            for r2 in rec.regions[rec.regions.index(r) + 1:]:
                if r2.prev is r.prev:
                    r2.prev = cm


def _tensor_leaves(x, acc):
    """The tensors in a call's result (in tuples, lists, dicts; other leaves skipped)."""
    if isinstance(x, Tensor):
        acc.append(x)
    elif isinstance(x, (tuple, list)):
        for e in x:
            _tensor_leaves(e, acc)
    elif isinstance(x, dict):
        for e in x.values():
            _tensor_leaves(e, acc)


def _escaping(block, i1, rset):
    """The Values of the region's nodes (rset) that block's nodes after it (from index i1,
    nested blocks too) or its return read, in the order first read."""
    seen, out = set(), []

    def read(v):
        if v.node in rset and id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    for n in block.nodes[i1:]:
        for m in [n] + [x for b in n.blocks for x in b.walk()]:
            for v in m.inputs:
                read(v)
            for b in m.blocks:
                for v in b.outputs:
                    read(v)
    for v in block.outputs:
        read(v)
    return out


def _method_outputs(rec, callee_rec, escaping, rset):
    """Make the callee's graph return the Values standing for the escaping ones (the
    same tensors): one, a tuple of them, or None when there are none. The tensor ids of
    each (for the caller's env), or None when one is no tensor the callee computed (the
    call stays inline). A callee graph that more than one caller folds keeps the
    outputs the first chose (another choice: inline)."""
    tids, cvals = [], []
    g = callee_rec.graph
    for v in escaping:
        # (the tensors v was bound to, also when an in-place op of the caller rebound
        # them since: `self.relu_(self.bn(x))`, the bn call returns the tensor relu_ writes)
        ids = rec.tensors_of.get(v)
        cv = None
        for tid in ids or ():
            cv = callee_rec.env.get(tid)
            if cv is not None:
                break
        if cv is None or cv.node.owning_block is not g.block or \
                cv.node.kind == "prim::Param":
            return None
        tids.append(ids)
        cvals.append(cv)
    key = [id(v) for v in cvals]
    done = getattr(callee_rec, "method_outputs", None)
    if done is not None:
        return tids if done == key else None
    callee_rec.method_outputs = key
    for i in reversed(range(len(g.outputs))):
        if g.outputs[i].node.kind in ("prim::TupleConstruct", "prim::ListConstruct",
                                      "prim::Constant"):
            # (the Python result's structure, which torch's trace does not hold: not
            # numbered, trace_fixup_numbers.number_method)
            g.outputs[i].node.meta["result_only"] = True
        g.block.erase_output(i)
    with g.inserting_at_end(g.block):
        if not cvals:
            out = g.insert_constant(None)
        elif len(cvals) == 1:
            out = cvals[0]
        else:
            out = g.insert_node("prim::TupleConstruct", cvals, output_types=[
                T.TupleType(tuple(v.type for v in cvals))]).output
    g.register_output(out)
    return tids


def _rebind_value(old, new, rec, tids):
    """The call's result Value `new` stands for the caller's `old` (computed in the call)
    from here on: its uses, the caller's env for its tensors, later calls' arguments."""
    if new.node.kind != "prim::CallMethod":
        new.type = old.type         # (an unpacked element: as the op typed it)
    else:       # (the type a later call's parameter copies, _name_parameters)
        rec.traced_types[new] = old.type
    old.replace_all_uses_with(new)
    for tid in tids:
        if rec.env.get(tid) is old:     # (not one an in-place op rebound since)
            rec.env[tid] = new
    rec.tensors_of.setdefault(new, []).extend(tids)
    for r in rec.regions:
        r.arg_values = [new if a is old else a for a in r.arg_values]
        r.leaf_values = {k: new if a is old else a for k, a in r.leaf_values.items()}
    # (unnamed, as TorchScript's: its tracer builds the call's result afresh when it turns
    # the call's block into a method, `_0 = (linear).forward(x, )`)
    old.set_debug_name(None)


def _name_parameters(callee, arg_values, traced_types):
    """The method's parameters named as TorchScript's tracer names them when it turns a
    call into a method: after the caller's values passed (`forward1(self, x, inp)` for
    `self.s(x, inp)`), unnamed for an unnamed one (`%3` in dg's graph for
    `self.dg(self.linear(x))`, which its code prints `argument_1`)."""
    params = list(callee.inputs)[1:]
    if len(params) != len(arg_values):
        return
    for p in params:
        p.set_debug_name(None)
    for p, a in zip(params, arg_values):
        if a.has_debug_name():
            p.set_debug_name(a.debug_name)
        t = traced_types.get(a, a.type)
        if isinstance(t, T.TensorType) and isinstance(p.type, T.TensorType):
            # (and typed as the caller's value, lambda lifting's copyMetadata: a conv's
            # result as the tracer typed it, `requires_grad=0`, not as the tensor is now)
            p.type = t


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
