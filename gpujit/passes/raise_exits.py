"""TorchScript's exit transform of raises (its frontend's ExitTransforms, THROWS status):
a block that reaches a prim::RaiseException always throws, so

1. the nodes after the raise in its block are deleted (the frontend compiled them, so
   their compile errors were reported, as TorchScript emits them before this pass: the
   statements after a call of an `@torch.jit.unused` function, whose call is a raise);
2. the block's outputs made after the raise become prim::Uninitialized values (one per
   type, at the start of the graph, without source range, as TorchScript's unit values);
   those made before it stay (a loop body's carried values assigned before a raise, a
   variable assigned before an @unused call in an if's branch), and a for loop's continue
   condition (True) too;
3. a prim::If both of whose blocks throw throws too (1. and 2. for its own block), and a
   graph whose block throws returns prim::Uninitialized.

An If with one throwing block keeps the other's values (its outputs for the throwing
block are the unit values). A loop whose body throws does not throw (it may run no
iteration). Nothing here changes what a call computes: it raises where it raised.
"""
from __future__ import annotations

__all__ = ["transform_raise_exits", "UNIT_VALUE"]

# node.meta key of a prim::Uninitialized the frontend made as a unit value (a loop's return
# slot, a path's missing value): pooled with this pass's own, one per type at the top
UNIT_VALUE = "unit_value"


def transform_raise_exits(graph) -> bool:
    """Apply the transform to graph in place; whether anything changed."""
    units = {}
    changed = False

    def unit(t):
        key = str(t)
        v = units.get(key)
        if v is None:
            n = graph.create("prim::Uninitialized", [], output_types=[t])
            n.meta[UNIT_VALUE] = True
            top = graph.block
            if top.nodes:
                n.insert_before(top.nodes[0])
            else:
                top.append(n)
            v = units[key] = n.output
        return v

    def throws(block, loop_body=False) -> bool:
        nonlocal changed
        for node in list(block.nodes):
            if node.kind == "prim::RaiseException":
                raised = True
            elif node.kind == "prim::If":
                raised = all([throws(b) for b in node.blocks])
            else:
                if node.kind == "prim::Loop":       # (a closure's block keeps its own)
                    throws(node.blocks[0], loop_body=True)
                raised = False
            if not raised:
                continue
            dead = list(block.nodes[block.nodes.index(node) + 1:])   # (units went first)
            gone = set(dead)
            ret = block.return_node
            for k, v in enumerate(list(ret.inputs)):
                if v.node not in gone:
                    continue        # (a value from before the raise stays)
                if loop_body and k == 0 and v.node.kind == "prim::Constant":
                    # a for loop's continue condition (True), made after the raise
                    v.node.move_before(node)
                    dead.remove(v.node)
                    continue
                ret.replace_input(k, unit(v.type))
                changed = True
            for n in reversed(dead):
                n.destroy()
                changed = True
            return True
        return False

    throws(graph.block)
    for n in [n for n in graph.walk() if n.kind == "prim::Uninitialized" and
              n.meta.get(UNIT_VALUE) and not any(n.output is u for u in units.values())]:
        n.output.replace_all_uses_with(unit(n.output.type))
        n.destroy()
        changed = True
    return changed
