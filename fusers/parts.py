"""A fusion group's independent parts, run as separate groups when its kernel cannot.

The partitioner may merge two computations that share no value computed inside the group
(`a = x * 2 + 1` next to `b = y.sin() * 3`: one kernel launch instead of two) when their
sizes, as profiled, broadcast together: one kernel walks one iteration space. Later calls
may give sizes that do not ([3, 2] and [5, 4]); eager answers them, so the group must too,
and fused: each part (the nodes connected through values computed inside the group;
constants and the group's inputs do not connect) becomes a group of its own, made lazily
with the function's budget under its own key, and the parent assembles their results.

`parts_of(subgraph)` finds the parts (None for a group of one part); `PartsRunner` runs
them.

A group of one part can still hold several iteration spaces: the pieces of an uneven
chunk (`a, b, c = (x * y).chunk(3)` of 10 rows: 4, 4 and 2), whose computations NNC keeps in
one group (each of its outputs has a loop nest of its own). `space_parts(typed)` splits
such a group, typed for the arguments, by the shapes of its results: each part keeps what
its results are computed from (the shared producers, `x * y` and the chunk, are computed
again per part, on the part's pieces only: kernels/chunks.py moves a chunk up to the
group's inputs), and runs as a group of its own.
"""
from __future__ import annotations

from ..ir import Graph, SUBGRAPH_ATTR
from .fusibility import GROUP_KIND


__all__ = ["parts_of", "space_parts", "PartsRunner"]

_CONSTANT = "prim::Constant"
_CHUNK = "prim::ConstantChunk"


def parts_of(sub):
    """[(node indices, output positions)] of the subgraph's independent parts, in node
    order; None when it has one part, or when an output is not computed by a part (an
    input or a constant returned as is: such groups are not split)."""
    nodes = list(sub.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    # (a chunk of a group input is a view of it: the parts reading its pieces are not
    # connected through it, and each part keeps the chunk)
    inputs = set(sub.inputs)
    views = {i for i, n in enumerate(nodes) if n.kind == _CHUNK and n.inputs[0] in inputs}
    root = {i: i for i, n in enumerate(nodes) if n.kind != _CONSTANT and i not in views}

    def find(i):
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for i in root:
        for v in nodes[i].inputs:
            j = index.get(v.node)
            if j is not None and j in root:
                a, b = find(i), find(j)
                if a != b:
                    root[max(a, b)] = min(a, b)
    groups: dict = {}
    for i in root:
        groups.setdefault(find(i), []).append(i)
    if len(groups) < 2:
        return None
    outs: dict = {r: [] for r in groups}
    for k, v in enumerate(sub.outputs):
        j = index.get(v.node)
        if j is None or j not in root:
            return None
        outs[find(j)].append(k)
    for r, members in groups.items():
        members.extend(sorted({index[v.node] for i in members for v in nodes[i].inputs
                               if index.get(v.node) in views}))
        members.sort()
    return [(groups[r], outs[r]) for r in sorted(groups) if outs[r]]


def space_parts(typed, problem):
    """[(node indices, output positions)] of the subgraph `typed` (retyped with exact
    sizes) split by the shapes of its results, each part with the nodes its results are
    computed from; None when it has one shape, returns an input or a constant, or a part
    still has a `problem(carved subgraph)` (no one iteration space)."""
    nodes = list(typed.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    shapes: dict = {}
    for k, v in enumerate(typed.outputs):
        sizes = getattr(v.type, "sizes", None)
        if v.node not in index or v.node.kind == _CONSTANT or sizes is None:
            return None
        shapes.setdefault(tuple(sizes), []).append(k)
    if len(shapes) < 2:
        return None
    parts = []
    for out_pos in shapes.values():
        keep, work = set(), [typed.outputs[k].node for k in out_pos]
        while work:
            n = work.pop()
            if n in keep or n not in index or n.kind == _CONSTANT:
                continue
            keep.add(n)
            work.extend(v.node for v in n.inputs)
        keep_idx = sorted(index[n] for n in keep)
        if problem(_carve(typed, keep_idx, out_pos)[0]) is not None:
            return None
        parts.append((keep_idx, out_pos))
    return parts


def _carve(sub, keep_idx, out_pos):
    """A copy of subgraph `sub` with only the nodes at `keep_idx` (and the constants they
    read), returning the outputs at `out_pos`; with the positions of the inputs it reads."""
    g = sub.copy()
    nodes = list(g.nodes)
    keep = {nodes[i] for i in keep_idx}
    wanted = set(out_pos)
    for k in reversed(range(len(g.outputs))):
        if k not in wanted:
            g.block.erase_output(k)
    for n in reversed(nodes):       # users before the values they read
        if n in keep or (n.kind == _CONSTANT and n.outputs[0].uses):
            continue
        n.destroy()
    used = []
    for k in reversed(range(len(g.inputs))):
        if g.inputs[k].uses:
            used.append(k)
        else:
            g.block.erase_input(k)
    return g, used[::-1]


class PartsRunner:
    """The parts of `group` (a FusedGroup) as groups of their own: `run(args)` calls each
    with its arguments and returns the group's results in order."""

    def __init__(self, group, parts, tag="part"):
        self.groups = []        # (FusedGroup, input positions, output positions)
        for number, (keep_idx, out_pos) in enumerate(parts):
            sub, used = _carve(group.subgraph, keep_idx, out_pos)
            h = Graph()
            inputs = []
            for k in used:
                v = group.node.inputs[k]
                inputs.append(h.add_input(v.debug_name if v.has_debug_name() else None,
                                          v.type))
            node = h.create(GROUP_KIND, inputs,
                            output_types=[v.type for v in sub.outputs],
                            attrs={SUBGRAPH_ATTR: sub})
            part = type(group)(node, group.budget, group.target, builder=group.builder,
                               name=f"{group.name} {tag} {number}", strict=group.strict)
            key = getattr(group, "budget_key", None)
            part.budget_key = (group if key is None else key, tag, number)
            self.groups.append((part, used, out_pos))
        self.n_outputs = len(group.subgraph.outputs)

    def run(self, args):
        out = [None] * self.n_outputs
        for part, used, out_pos in self.groups:
            res = part.call(*[args[k] for k in used])
            for k, r in zip(out_pos, res):
                out[k] = r
        return tuple(out)

    def specializations(self):
        return [s for part, _, _ in self.groups for s in part.specializations]
