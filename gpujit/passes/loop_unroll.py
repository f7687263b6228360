"""Loop unrolling: a prim::Loop that runs a known, small number of times becomes that many
copies of its body, so constant propagation, CSE and the fuser see straight-line code.

Unrolled: a loop whose trip count is a constant n with 0 <= n <= max_trip_count, whose
initial condition is constant true and whose body returns a constant true condition (a
`for i in range(n)` loop). Copy k binds the iteration index to the constant k and the
carried values to the previous copy's results. Inner loops are unrolled first.

Not in the default pipeline (it grows graphs): `optimize(graph, unroll=True)` or call
`unroll_loops` yourself.
"""
from __future__ import annotations

from ..ir import clone_node
from .constant_propagation import constant_value

__all__ = ["unroll_loops", "DEFAULT_MAX_TRIP_COUNT"]

DEFAULT_MAX_TRIP_COUNT = 8


def unroll_loops(graph, max_trip_count: int = DEFAULT_MAX_TRIP_COUNT) -> None:
    """Unroll, in place, every loop the module docstring describes."""
    _unroll_block(graph.block, max_trip_count)


def _unroll_block(block, limit):
    for node in list(block.nodes):
        for b in node.blocks:
            _unroll_block(b, limit)         # inner loops first
        if node.kind == "prim::Loop":
            trips = _trip_count(node, limit)
            if trips is not None:
                _unroll(node, trips)


def _trip_count(node, limit):
    trips = constant_value(node.inputs[0])
    if not isinstance(trips, int) or isinstance(trips, bool) or not 0 <= trips <= limit:
        return None
    body = node.blocks[0]
    if constant_value(node.inputs[1]) is not True or constant_value(body.outputs[0]) is not True:
        return None
    return trips


def _unroll(loop, trips):
    graph = loop.graph
    body = loop.blocks[0]
    carried = list(loop.inputs[2:])
    for i in range(trips):
        with graph.inserting_before(loop):
            vmap = dict(zip(body.inputs[1:], carried))
            index = body.inputs[0]
            if index.uses:
                vmap[index] = graph.insert_constant(i)
                if index.has_debug_name():
                    vmap[index].set_debug_name(index.debug_name)   # %i -> %i.1, %i.2 ...
            for n in body.nodes:
                graph.insert(clone_node(n, graph, vmap, keep_names=True))
        carried = [vmap.get(v, v) for v in body.outputs[1:]]
    for out, v in zip(loop.outputs, carried):
        out.replace_all_uses_with(v)
    loop.destroy()
