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

__all__ = ["unroll_loops", "unroll_small_constant_loops", "DEFAULT_MAX_TRIP_COUNT"]

DEFAULT_MAX_TRIP_COUNT = 8
# torch 2.13's UnrollLoops (loop_unrolling.cpp), which its profiling executor runs on the
# optimized graph before CreateAutodiffSubgraphs and the fusers: a for-loop whose body
# holds at most kMaxBodySize executed nodes (nested blocks counted, constants not) and
# whose trip count is a constant below kMaxBodyRepeats is unrolled whole
MAX_BODY_SIZE = 32
MAX_BODY_REPEATS = 64


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


def unroll_small_constant_loops(graph, origin=None) -> bool:
    """torch's UnrollLoops for constant trip counts (MAX_BODY_REPEATS, MAX_BODY_SIZE), in
    place, inner loops first; whether any loop was unrolled. origin: a dict that gets,
    for each Value and Block the copies made, the one of the loop body it copies."""
    return _unroll_small(graph.block, origin)


def _unroll_small(block, origin):
    changed = False
    for node in list(block.nodes):
        for b in node.blocks:
            changed |= _unroll_small(b, origin)
        if node.kind == "prim::Loop":
            trips = _trip_count(node, MAX_BODY_REPEATS - 1)
            if trips is not None and _body_size(node.blocks[0], MAX_BODY_SIZE + 1) <= \
                    MAX_BODY_SIZE:
                _unroll(node, trips, origin)
                changed = True
    return changed


def _body_size(block, limit):
    """torch's limitedBlockSize: the executed nodes of block, those of nested blocks too,
    counted up to limit."""
    i = 0
    for n in block.nodes:
        for b in n.blocks:
            i += _body_size(b, limit - i)
        if n.kind != "prim::Constant":
            i += 1
        if i >= limit:
            return limit
    return i


def _note_warns(c, n):
    """Each copy of an aten::warn (in c, the copy of n) is that node for its warn-once-per-
    call rule (meta "warn_of"; copies of copies: the first node)."""
    if c.kind == "aten::warn":
        c.meta["warn_of"] = n.meta.get("warn_of", n)
    for cb, nb in zip(c.blocks, n.blocks):
        for cn, nn in zip(cb.nodes, nb.nodes):
            _note_warns(cn, nn)


def _note_origin(c, n, origin):
    for a, b in zip(c.outputs, n.outputs):
        origin[a] = origin.get(b, b)
    for cb, nb in zip(c.blocks, n.blocks):
        origin[cb] = origin.get(nb, nb)
        for a, b in zip(cb.inputs, nb.inputs):
            origin[a] = origin.get(b, b)
        for cn, nn in zip(cb.nodes, nb.nodes):
            _note_origin(cn, nn, origin)


def _unroll(loop, trips, origin=None):
    graph = loop.graph
    body = loop.blocks[0]
    carried = list(loop.inputs[2:])
    for i in range(trips):
        with graph.inserting_before(loop):
            vmap = dict(zip(body.inputs[1:], carried))
            index = body.inputs[0]
            if index.uses:
                vmap[index] = graph.insert_constant(i)
                vmap[index].node.meta["unrolled_counter"] = i   # (jit.freeze's peephole)
                if index.has_debug_name():
                    vmap[index].set_debug_name(index.debug_name)   # %i -> %i.1, %i.2 ...
            for n in body.nodes:
                c = graph.insert(clone_node(n, graph, vmap, keep_names=True))
                _note_warns(c, n)
                if origin is not None:
                    _note_origin(c, n, origin)
        carried = [vmap.get(v, v) for v in body.outputs[1:]]
    for out, v in zip(loop.outputs, carried):
        out.replace_all_uses_with(v)
    loop.destroy()
