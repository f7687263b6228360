"""TorchScript's CanonicalizeOutputs (passes/canonicalize.cpp), the last of the cleanup
passes its ir_emitter runs when it scripts a function: the outputs of every prim::If and
the loop-carried values of every prim::Loop are put in the order of their first use after
the node (their order as emitted is the sorted order of the names they carry, which
`.graph` and `.code` never show). So

    if c:
        x -= 1; z += 1; y += x
    return x + y + z

gives `%x, %y, %z = prim::If(%c)` (first uses: x, then y, then z), and
`eps = ...; delta = ...` in a branch read by `eps + delta` keeps eps first. Outputs no
one uses keep their order, after the used ones. Nodes are visited last to first (the order
of a node's outputs depends on the uses that follow it), a node before its blocks. What
the graph computes is unchanged: each permutation moves a node's outputs together with its
blocks' outputs (and a loop's carried inputs with its block's inputs)."""
from __future__ import annotations

from ..ir.graph import Use

__all__ = ["canonicalize_outputs"]


def canonicalize_outputs(graph) -> None:
    """Reorder, in place, the outputs of every If and Loop node of graph."""
    _canonicalize_block(graph.block)


def _canonicalize_block(block):
    for n in reversed(list(block.nodes)):
        if n.kind == "prim::Loop":
            _permute_loop(n, _order(n.outputs))
        elif n.kind == "prim::If":
            _permute_if(n, _order(n.outputs))
        for b in n.blocks:
            _canonicalize_block(b)


def _position(node):
    """A key that orders nodes as canonicalize.cpp's isBefore: by place in a block; a node
    before the nodes it contains; the nodes of an earlier block of one node first. A
    block's return node comes after its nodes."""
    key = []
    while node is not None:
        block = node.owning_block
        if block is None:
            break
        if node is block.return_node:
            i = len(block.nodes)
        else:
            i = block.nodes.index(node)
        key.append(i)
        owner = block.owning_node
        if owner is None:
            break
        key.append(owner.blocks.index(block))
        node = owner
    return tuple(reversed(key))


def _order(values):
    firsts = [min(((_position(u.user), u.offset) for u in v.uses), default=None)
              for v in values]
    used = sorted((i for i, f in enumerate(firsts) if f is not None), key=lambda i: firsts[i])
    return used + [i for i, f in enumerate(firsts) if f is None]


def _permute_outputs(node, order):
    node.outputs[:] = [node.outputs[i] for i in order]
    for j, v in enumerate(node.outputs):
        v.offset = j


def _permute_inputs(node, order, start):
    """Reorder node.inputs[start:] by order (indices relative to start), keeping each
    value's uses right."""
    old = list(node.inputs)
    for k in range(start, len(old)):
        old[k].uses.remove(Use(node, k))
    new = old[:start] + [old[start + i] for i in order]
    node.inputs[:] = new
    for k in range(start, len(new)):
        new[k].uses.append(Use(node, k))


def _permute_if(n, order):
    if order == sorted(order):
        return
    _permute_outputs(n, order)
    for b in n.blocks:
        _permute_inputs(b.return_node, order, 0)


def _permute_loop(n, order):
    if order == sorted(order):
        return
    _permute_outputs(n, order)
    _permute_inputs(n, order, 2)
    body = n.blocks[0]
    _permute_outputs(body.param_node, [0] + [i + 1 for i in order])
    _permute_inputs(body.return_node, order, 1)
