"""How graph_for / last_executed_optimized_graph show the DifferentiableGraph regions of a
specialization whose calls record gradients, as torch 2.13 prints them:

    %5 : Float(4, 4, ...), %6 : Float(4, 4, ...), %7 : bool = prim::RequiresGradCheck[types=[Tensor(requires_grad=1), ...]](%w, %x)
    %8 : Tensor = prim::If(%7)
      block0():
        %9 : Tensor = prim::DifferentiableGraph_0(%5, %6)
        -> (%9)
      block1():
        %10 : Function = prim::Constant[name="fallback_function", fallback=1]()
        %11 : (Tensor) = prim::CallFunction(%10, %w, %x)
        %12 : Tensor = prim::TupleUnpack(%11)
        -> (%12)
    with prim::DifferentiableGraph_0 = graph(%w : ..., %x : ...):
      ...the region's ops (a fusion group inside behind its own guard)...

The region's inputs are in the order the slicer merged them (jit/autodiff_subgraphs.py:
the order of its node's next_functions), constants are cloned into the subgraph, and the
values read after the region are its outputs. The subgraph shows the region's ops as the
recording plan runs them (not torch's differentiated forward, which also returns the
values its backward reads). A region the plan holds that the shown graph does not (a
fusion group expanded into its ops for the recording plan only) is not shown.
"""
from __future__ import annotations

import os

from ..fusers.display import guard_node
from ..ir import types as T, SUBGRAPH_ATTR
from ..ir.graph import Graph, Node, clone_node

__all__ = ["with_regions", "show_regions"]

# On by default, as torch shows them; GPUJIT_SHOW_REGIONS=0 (or show_regions(False))
# shows the graph without them (fusion groups at its top level).
_ENABLED = [os.environ.get("GPUJIT_SHOW_REGIONS", "1") not in ("", "0")]


def show_regions(flag=None):
    """Whether graph_for / last_executed_optimized_graph show regions (sets it when
    flag is given); the previous setting."""
    prev = _ENABLED[0]
    if flag is not None:
        _ENABLED[0] = bool(flag)
    return prev


class _DirectRegion:
    """A plan's one group that is the whole graph and one region (its runner's
    region_slots, graph_autodiff._direct_region), as _show reads a region."""

    def __init__(self, steps, inputs):
        self.steps = steps
        self.sub = self
        self.inputs = inputs


def _regions(plan, exe_graph=None):
    """The GraphDiffs of a recording plan: its whole-graph one, or its kind-10 steps
    (those in If branches and Loop bodies too), in order."""
    whole = plan[7] if len(plan) > 7 else None
    if whole is not None:
        return [whole]
    direct = plan[6]
    if direct is not None:
        slots = getattr(direct, "region_slots", None)
        if slots is None or exe_graph is None:
            return []
        return [_DirectRegion(plan[4], [exe_graph.inputs[s] for s in slots])]
    out = []

    def walk(steps):
        for st in steps:
            k = st[0]
            if k == 10:
                out.append(st[1])
            elif k == 4:
                for bsteps, _ in st[4]:
                    walk(bsteps)
            elif k == 5:
                walk(st[4][0])
    walk(plan[4])
    return out


def with_regions(shown, exe_graph, plan):
    """`shown` (graph_for's copy of a specialization's graph, fusion groups behind their
    guards; changed in place) with each region of the recording plan `plan` as a guarded
    prim::DifferentiableGraph; shown itself."""
    if plan is None:
        return shown
    regions = _regions(plan, exe_graph)
    if not regions:
        return shown
    # the shown graph's Values and nodes by the exe graph's Value numbers (a copy keeps them)
    by_unique = {}
    for v in shown.inputs:
        by_unique[v.unique] = v
    producer = {}
    for n in shown.walk():
        for v in n.outputs:
            by_unique[v.unique] = v
            producer[v.unique] = n
    grads = {}      # (a region result -> whether the value it stands for requires grad)
    for region in regions:
        _show(shown, exe_graph, region, by_unique, producer, grads)
    return shown


def _unit(n):
    """The node of the shown graph standing for n: a fusion group's guarding prim::If
    (with its check, the node before it), else n."""
    b = n.owning_block
    owner = b.owning_node if b is not None else None
    if owner is not None and owner.kind == "prim::If" and n.kind == "prim::TensorExprGroup":
        check = owner.inputs[0].node
        return [check, owner] if check.kind != "prim::Param" else [owner]
    return [n]


def _show(g, exe_graph, region, by_unique, producer, grads):
    nodes = []
    # (the exe graph's op and group nodes of the region, in plan order)
    exe_nodes = [st[5] for st in region.steps] if region.steps is not None else \
        list(region.sub.nodes)
    for n in exe_nodes:
        if n is None or not n.outputs or getattr(n, "graph", None) is not exe_graph:
            return False
        s = producer.get(n.outputs[0].unique)
        if s is None:
            return False
        for u in _unit(s):
            if u not in nodes:
                nodes.append(u)
    block = nodes[0].owning_block
    if any(n.owning_block is not block for n in nodes):
        return False
    order = {n: i for i, n in enumerate(block.nodes)}
    nodes.sort(key=order.__getitem__)
    inside = set(nodes)
    made = set()
    for n in nodes:
        for sub in _walk(n):
            made.update(sub.outputs)
            for b in sub.blocks:
                made.update(b.inputs)
    # inputs: the region's, in merge order, then what else its nodes read from outside
    ins = []
    lists = getattr(region, "list_inputs", None) or {}
    for v in list(region.sub.inputs):
        # (a list a cat / stack reads: torch's region takes the Tensor[] whole)
        v = lists.get(v, v)
        w = by_unique.get(v.unique) if v.node.graph is exe_graph else None
        w = _outside_guard(w, block)
        if w is not None and w not in made and w not in ins:
            ins.append(w)
    consts = []
    for n in nodes:
        for sub in _walk(n):
            for v in sub.inputs:
                if v in made or v in ins or v in consts:
                    continue
                if v.node.kind == "prim::Constant":
                    consts.append(v)
                else:
                    ins.append(v)
    # outputs: what is read after the region
    outs = []
    for n in nodes:
        for v in n.outputs:
            if any(u.user not in inside and not _within(u.user, inside) for u in v.uses) or \
                    _returned(v, block):
                outs.append(v)
    if not outs:
        return False
    sub = Graph()
    vmap = {}
    for v in ins:
        vmap[v] = sub.add_input(v.debug_name if v.has_debug_name() else None, v.type)
    for v in consts:
        c = sub.block.append(clone_node(v.node, sub, {}, keep_names=True))
        vmap[v] = c.outputs[0]
    for n in nodes:
        sub.block.append(clone_node(n, sub, vmap, keep_names=True))
    for v in outs:
        sub.register_output(vmap[v])
    _as_forward(sub)
    last = nodes[-1]
    dg = Node(g, "prim::DifferentiableGraph", {SUBGRAPH_ATTR: sub})
    for v in ins:
        dg.add_input(v)
    results = [dg.add_output(T.TENSOR if isinstance(v.type, T.TensorType) else v.type)
               for v in outs]
    dg.insert_after(last)
    # (what uses a region output between its nodes moves after it, as the slicer moved it)
    first = order[nodes[0]]
    moved, dep = [], set(v for n in nodes for v in n.outputs)
    for n in list(block.nodes)[first:order[last]]:
        if n in inside:
            continue
        if any(v in dep for s in _walk(n) for v in s.inputs):
            moved.append(n)
            dep.update(n.outputs)
    anchor = dg
    for n in moved:
        n.move_after(anchor)
        anchor = n
    for v, r in zip(outs, results):
        v.replace_all_uses_with(r)
        # (the region's output requires grad where an input does: its node records)
        grads[r] = isinstance(v.type, T.TensorType) and any(
            grads.get(w, getattr(w.type, "requires_grad", False)) for w in ins)
    # (a later region reading one of these by the exe graph's number reads the result: an
    # unrolled loop's next region; a group's output seen through its guard's If too)
    repl = dict(zip(outs, results))
    for n in nodes:
        if n.kind == "prim::If":
            for b in n.blocks:
                for v, w in zip(n.outputs, b.outputs):
                    if v in repl:
                        repl.setdefault(w, repl[v])
    for k, w in by_unique.items():
        if w in repl:
            by_unique[k] = repl[w]
    for n in reversed(nodes):
        n.destroy()
    for v in consts:        # (cloned into the subgraph; gone outside where unused now)
        if not v.uses and v.node.owning_block is not None:
            v.node.destroy()
    _guard(g, dg, ins, grads)
    b = dg.owning_block
    if b.owning_node is not None and b.owning_node.kind == "prim::If":
        for v, w in zip(b.owning_node.outputs, b.outputs):
            if w in grads:
                grads[v] = grads[w]
    return True


def _no_grad(t):
    if isinstance(t, T.TensorType) and t.requires_grad:
        return t.with_(requires_grad=False)
    return t


def _as_forward(sub):
    """The region's subgraph typed as torch prints a DifferentiableGraph's forward: its
    inputs plain Tensors, every value (a fusion group's and its guard's types too) with
    requires_grad=0 (the forward runs without recording)."""
    for v in sub.inputs:
        if isinstance(v.type, T.TensorType):
            v.type = T.TENSOR
    _strip_block(sub.block)


def _strip_block(block):
    for n in block.nodes:
        for v in n.outputs:
            v.type = _no_grad(v.type)
        types = n.attrs.get("types")
        if type(types) is list and any(isinstance(t, T.TensorType) for t in types):
            n.attrs = dict(n.attrs)
            n.attrs["types"] = [_no_grad(t) for t in types]
        g = n.attrs.get(SUBGRAPH_ATTR)
        if g is not None:
            g = g.copy()            # (the executable's stays as it is)
            n.attrs = dict(n.attrs)
            n.attrs[SUBGRAPH_ATTR] = g
            for v in g.inputs:
                v.type = _no_grad(v.type)
            _strip_block(g.block)
        for b in n.blocks:
            for v in b.inputs:
                v.type = _no_grad(v.type)
            _strip_block(b)


def _walk(n):
    yield n
    for b in n.blocks:
        for m in b.nodes:
            yield from _walk(m)


def _within(user, inside):
    """Whether node user sits in a block of one of the nodes `inside`."""
    b = user.owning_block
    while b is not None and b.owning_node is not None:
        if b.owning_node in inside:
            return True
        b = b.owning_node.owning_block
    return False


def _outside_guard(w, block):
    """w as the nodes of `block` read it: a fusion group's output returned by the block of
    its guarding prim::If (an earlier region of an unrolled loop, or a guarded group) is
    read through that If's output."""
    while w is not None:
        b = w.node.owning_block
        if b is None or b is block or b.owning_node is None:
            return w
        owner = b.owning_node
        if owner.kind != "prim::If" or w not in b.outputs:
            return w
        w = owner.outputs[list(b.outputs).index(w)]
    return w


def _returned(v, block):
    return v in block.outputs


def _guard(g, dg, ins, grads):
    """dg behind torch's prim::RequiresGradCheck of its Tensor inputs, the fallback
    function in the other branch (fusers/display.py's guard_node)."""
    tensors = [v for v in ins if isinstance(v.type, T.TensorType)]
    if not tensors:
        return          # (only lists: torch checks nothing)
    guard_node(g, dg, "prim::RequiresGradCheck", tensors,
               [T.TensorType(requires_grad=bool(grads.get(v, v.type.requires_grad)))
                for v in tensors],
               [v.type for v in tensors])
