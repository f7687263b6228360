"""Lowering of simple tuples (TorchScript's LowerSimpleTuples): a prim::TupleUnpack, or a
prim::TupleIndex with a constant index in range, of a value a prim::TupleConstruct made
reads the construct's input directly, so `t = (a, b); return t[0]` returns %a. The
construct, unused then, is left to dead code elimination. Tuples that reach block
outputs, calls or containers stay (TorchScript's LowerAllTuples, which flattens those,
is not run on scripted functions).
"""
from __future__ import annotations

__all__ = ["lower_simple_tuples"]


def lower_simple_tuples(graph) -> bool:
    """Bypass, in place, tuple reads of a visible prim::TupleConstruct; True when any was
    bypassed. (The reads themselves go with dead code elimination.)"""
    changed = False
    for node in list(graph.walk()):
        if node.kind not in ("prim::TupleUnpack", "prim::TupleIndex") or not node.inputs:
            continue
        construct = node.inputs[0].node
        if construct.kind != "prim::TupleConstruct":
            continue
        parts = construct.inputs
        if node.kind == "prim::TupleUnpack":
            if len(node.outputs) != len(parts):
                continue
            for out, part in zip(node.outputs, parts):
                if out.uses:
                    out.replace_all_uses_with(part)
                    changed = True
            continue
        idx = node.inputs[1].node
        if idx.kind != "prim::Constant":
            continue
        i = idx.attrs.get("value")
        if not isinstance(i, int) or isinstance(i, bool):
            continue
        if i < 0:
            i += len(parts)
        if 0 <= i < len(parts) and node.outputs[0].uses:
            node.outputs[0].replace_all_uses_with(parts[i])
            changed = True
    return changed
