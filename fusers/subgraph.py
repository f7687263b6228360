"""Group nodes and their subgraphs (TorchScript's SubgraphUtils, for prim::TensorExprGroup).

A group node `%9 : Float(...) = prim::TensorExprGroup(%x, %y)` holds its subgraph in
`attrs["Subgraph"]`: the subgraph's inputs are the group's inputs in order, its outputs the
group's outputs. `absorb(group, node)` moves a node (or a whole group) that sits before the
group into it: its inputs become group inputs (constants are copied in instead), its
results that only the group reads become internal, and results read elsewhere become new
group outputs. Those outputs take over the number and name of the values they replace, so
the fused graph reads like the original one. Values in a subgraph keep the names of the
values they stand for where the subgraph has no value of that name yet.
"""
from __future__ import annotations

from ..ir import Graph, SUBGRAPH_ATTR, clone_node
from ..ir import types as T
from .fusibility import GROUP_KIND, is_group

__all__ = ["new_group", "absorb", "unmerge", "subgraph_of", "op_count", "node_weight",
           "origin", "sort_inputs", "sort_outputs"]


def subgraph_of(group) -> Graph:
    return group.attrs[SUBGRAPH_ATTR]


def op_count(group) -> int:
    """What the group's nodes count toward the minimum group size: constants nothing, a
    registry op its eager_ops (the array operations its eager body runs), others 1."""
    return sum(node_weight(n) for n in subgraph_of(group).nodes if n.kind != "prim::Constant")


def node_weight(node) -> int:
    op = getattr(node, "op", None)
    return getattr(op, "eager_ops", 1) if op is not None else 1


def new_group(graph, before):
    """An empty group node placed just before node `before`."""
    group = graph.create(GROUP_KIND, (), output_types=[], attrs={SUBGRAPH_ATTR: Graph()})
    group.insert_before(before)
    return group


def _adopt_name(v, name):
    """Give subgraph/graph value v the name `name` when that graph has no value of that
    name; otherwise keep v's own (fresh) name. Every value we create gets a name, so
    fresh numbers never collide with adopted ones."""
    g = v.graph
    if name not in g._names:
        v.set_debug_name(name)
    else:
        v.set_debug_name(str(g._new_unique()))


def _same_constant(a, b) -> bool:
    if a.output.type != b.output.type:
        return False
    va, vb = a.attrs.get("value", None), b.attrs.get("value", None)
    return type(va) is type(vb) and repr(va) == repr(vb)


def _is_copied_constant(v) -> bool:
    """Constants that groups copy (numbers, strings, None, dtypes): tensor constants are
    passed as inputs like any tensor."""
    return v.node.kind == "prim::Constant" and not isinstance(v.type, T.TensorType)


class _Local:
    """Maps outer values to values of one group's subgraph, adding inputs as needed."""

    def __init__(self, group):
        self.group = group
        self.sub = subgraph_of(group)
        self.copied_from = []       # outer constant nodes copied in (maybe dead now)

    def constant(self, node):
        """The subgraph's copy of a constant node (reusing an equal one)."""
        sub = self.sub
        for n in sub.nodes:
            if n.kind != "prim::Constant":
                break
            if _same_constant(n, node):
                return n.output
        c = clone_node(node, sub, {}, keep_names=False)
        c.source_range = None
        if sub.nodes:
            c.insert_before(sub.nodes[0])
        else:
            sub.block.append(c)
        _adopt_name(c.output, node.output.debug_name)
        return c.output

    def __call__(self, v):
        if _is_copied_constant(v):
            self.copied_from.append(v.node)
            return self.constant(v.node)
        for gi, si in zip(self.group.inputs, self.sub.inputs):
            if gi is v:
                return si
        self.group.add_input(v)
        p = self.sub.block.add_input(v.type)
        _adopt_name(p, v.debug_name)
        return p


def absorb(group, node, origin_map=None):
    """Move `node` (a plain fusible node or a group), which must come before `group` in the
    same block with nothing in between that reads its results, into `group`.
    `origin_map` (value -> the original value it stands for) is updated for the group
    outputs that replace node's results."""
    local = _Local(group)
    sub = local.sub
    if is_group(node):
        psub = subgraph_of(node)
        vmap = {p: local(v) for p, v in zip(psub.inputs, node.inputs)}
        members = psub.nodes
        results = list(zip(node.outputs, psub.outputs))
    else:
        vmap = {v: local(v) for v in node.inputs}
        members = [node]
        results = [(o, o) for o in node.outputs]
    anchor = next((n for n in sub.nodes if n.kind != "prim::Constant"), None)
    wanted = []                                    # (clone, name it should have)
    for m in members:
        if m.kind == "prim::Constant":
            vmap[m.output] = local.constant(m)
            continue
        c = clone_node(m, sub, vmap, keep_names=False)
        if anchor is not None:
            c.insert_before(anchor)
        else:
            sub.block.append(c)
        for new, old in zip(c.outputs, m.outputs):
            _adopt_name(new, old.debug_name)
            wanted.append((new, old.debug_name))
    renames = []
    for outer, inner in results:
        inside = vmap[inner]
        for j in reversed(range(len(group.inputs))):
            if group.inputs[j] is outer:           # the group read it: now internal
                sub.inputs[j].replace_all_uses_with(inside)
                group.remove_input(j)
                sub.block.erase_input(j)
        if outer.uses:                             # read elsewhere: a group output
            sub.register_output(inside)
            out = group.add_output(outer.type)
            outer.replace_all_uses_with(out)
            renames.append((out, outer))
    for new, name in wanted:     # names held by the inputs just made internal are free now
        if new.debug_name != name and name not in sub._names:
            new.set_debug_name(name)
    node.destroy()
    for out, old in renames:
        _take_over(out, old)
        if origin_map is not None:
            origin_map[out] = origin_map.get(old, old)
    for c in local.copied_from:
        if c.owning_block is not None and not c.output.uses:
            c.destroy()
    return group


def _take_over(new, old):
    """new (a value of the same graph) takes old's number and name; old is gone."""
    new.set_debug_name(None)
    new.unique = old.unique
    if old._name is not None:
        new.set_debug_name(old._name)


def unmerge(group):
    """Put the group's nodes back into the outer graph in its place (a group too small to
    keep); returns the re-created nodes."""
    graph = group.graph
    sub = subgraph_of(group)
    vmap = dict(zip(sub.inputs, group.inputs))
    made = []
    for n in sub.nodes:
        c = clone_node(n, graph, vmap, keep_names=False)
        c.insert_before(group)
        for new, old in zip(c.outputs, n.outputs):
            _adopt_name(new, old.debug_name)
        made.append(c)
    pairs = [(vmap[s], g) for s, g in zip(sub.outputs, group.outputs)]
    for new, out in pairs:
        out.replace_all_uses_with(new)
    group.destroy()
    for new, out in pairs:
        _take_over(new, out)
    return made


def origin(origin_map, v):
    return origin_map.get(v, v)


def sort_inputs(group, position):
    """Order the group's inputs (and its subgraph's) by where their values are defined
    (`position(value)`), so `%x, %y` read as in the source rather than in merge order."""
    sub = subgraph_of(group)
    n = len(group.inputs)
    order = sorted(range(n), key=lambda j: position(group.inputs[j]))
    if order == list(range(n)):
        return
    outer = [group.inputs[j] for j in order]
    params = [sub.inputs[j] for j in order]
    group.remove_all_inputs()
    for v in outer:
        group.add_input(v)
    sub.block.param_node.outputs[:] = params
    for i, p in enumerate(params):
        p.offset = i


def sort_outputs(group):
    """Order the group's outputs as their values are computed in the subgraph."""
    sub = subgraph_of(group)
    place = {v: i for i, n in enumerate(sub.nodes) for v in n.outputs}
    n = len(group.outputs)
    order = sorted(range(n), key=lambda j: place.get(sub.outputs[j], -1))
    if order == list(range(n)):
        return
    inner = [sub.outputs[j] for j in order]
    group.outputs[:] = [group.outputs[j] for j in order]
    for i, o in enumerate(group.outputs):
        o.offset = i
    sub.return_node.remove_all_inputs()
    for v in inner:
        sub.register_output(v)
