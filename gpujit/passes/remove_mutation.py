"""List mutation removal: torch's RemoveListMutation (remove_mutation.cpp) for aten::append,
which torch 2.13's runOptimization runs after UnrollLoops: an unrolled
`outs: List[Tensor] = []` / `for i in range(3): outs.append(h)` becomes
`outs = [h1, h2, h3]` -- one prim::ListConstruct the autodiff and the fuser read whole
(a region, a fused torch.cat), where the appends hid the elements.

An aten::append(%l, %x) is folded into %l's prim::ListConstruct when that node is in the
same block and nothing reads %l before the append (no alias of it can exist then): the
ListConstruct moves down to the append's place, takes %x as its last element, and the
append's result is %l. (torch also folds aten::_set_item and a list's insert; not here.)
"""
from __future__ import annotations

__all__ = ["remove_list_mutation"]


def remove_list_mutation(graph) -> bool:
    """Fold the appends the module docstring describes, in place (nested blocks too);
    whether any was folded."""
    return _block(graph.block)


def _block(block) -> bool:
    changed = False
    for node in list(block.nodes):
        for b in node.blocks:
            changed |= _block(b)
        if node.kind != "aten::append" or len(node.inputs) != 2:
            continue
        lst = node.inputs[0]
        build = lst.node
        if build.kind != "prim::ListConstruct" or build.owning_block is not block:
            continue
        if any(u.user is not node and _read_before(u.user, node, block) for u in lst.uses):
            continue
        build.move_before(node)
        build.add_input(node.inputs[1])
        node.outputs[0].replace_all_uses_with(lst)
        node.destroy()
        changed = True
    return changed


def _read_before(user, node, block):
    """Whether user (a node of block or of a block nested in one; a block's return node
    reads last) comes before node, a node of block."""
    while user.owning_block is not block:
        owner = user.owning_block.owning_node
        if owner is None:
            return False
        user = owner
    if user.kind == "prim::Return":
        return False
    return user.is_before(node)
