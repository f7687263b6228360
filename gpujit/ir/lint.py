"""`graph.lint()`: SSA, dominance, use lists, ownership and the arity of control flow."""
from __future__ import annotations

from .graph import LintError, Use

__all__ = ["lint"]

# a value with at most this many uses has its use list scanned for Use(node, i) (a named
# tuple: C equality); one with more, a set of its use records built once per lint
_SCAN = 8


def _fail(msg, node=None):
    where = f"\n  in {node!r}" if node is not None else ""
    raise LintError(f"graph lint failed: {msg}{where}")


def lint(graph):
    seen_values = set()       # every value defined anywhere (SSA: once)
    names = {}

    def define(v, node, offset):
        if v in seen_values:
            _fail(f"{v} is defined twice", node)
        seen_values.add(v)
        if v.node is not node or v.offset != offset:
            _fail(f"{v} does not point back to its defining node", node)
        if v.graph is not graph:
            _fail(f"{v} belongs to another graph", node)
        name = v.debug_name
        if name in names:
            _fail(f"two values are named %{name}", node)
        names[name] = v

    # value -> {(id(user), offset)} of its use records, built once per value (a value read
    # by many nodes made `Use(node, i) in v.uses` quadratic: ~85% of lint's time)
    use_keys = {}

    def check_uses_of(node):
        nid = id(node)
        for i, v in enumerate(node.inputs):
            uses = v.uses
            if len(uses) <= _SCAN:       # (a few uses: scanned, cheaper than a set)
                if Use(node, i) not in uses:
                    _fail(f"input {i} ({v}) lacks a use record for this node", node)
                continue
            keys = use_keys.get(v)
            if keys is None:
                keys = use_keys[v] = {(id(u.user), u.offset) for u in uses}
            if (nid, i) not in keys:
                _fail(f"input {i} ({v}) lacks a use record for this node", node)

    def check_block(block, scope):
        # scope: the values visible here, one set for the whole walk (a block's own values
        # are taken out again when it ends: a copy per block was quadratic in nesting)
        mine = []
        if block.param_node.owning_block is not block or block.return_node.owning_block is not block:
            _fail("a block's param/return node does not point back to it")
        for i, v in enumerate(block.inputs):
            define(v, block.param_node, i)       # (fails on a value defined twice)
            scope.add(v)
            mine.append(v)
        for n in block.nodes:
            if n.owning_block is not block:
                _fail("node's owning_block is wrong", n)
            if n.graph is not graph:
                _fail("node belongs to another graph", n)
            for v in n.inputs:
                if v not in scope:
                    _fail(f"{v} is used before it is defined (or outside its scope)", n)
            check_uses_of(n)
            for b in n.blocks:
                if b.owning_node is not n:
                    _fail("block's owning_node is wrong", n)
                check_block(b, scope)
            check_arity(n)
            for i, v in enumerate(n.outputs):
                define(v, n, i)
                scope.add(v)
                mine.append(v)
        for v in block.outputs:
            if v not in scope:
                _fail(f"block output {v} is not defined in scope")
        check_uses_of(block.return_node)
        scope.difference_update(mine)

    def check_arity(n):
        k = n.kind
        if k == "prim::If":
            if len(n.inputs) != 1 or len(n.blocks) != 2:
                _fail("prim::If takes one condition and has two blocks", n)
            for b in n.blocks:
                if b.inputs or len(b.outputs) != len(n.outputs):
                    _fail(f"a prim::If block must take no inputs and return "
                          f"{len(n.outputs)} values", n)
        elif k == "prim::Loop":
            carried = len(n.outputs)
            if len(n.blocks) != 1 or len(n.inputs) != 2 + carried:
                _fail("prim::Loop takes (trip count, condition, *carried) and has one block", n)
            b = n.blocks[0]
            if len(b.inputs) != 1 + carried or len(b.outputs) != 1 + carried:
                _fail(f"prim::Loop's block takes (i, *carried) and returns (cond, *carried) "
                      f"with {carried} carried values", n)
        elif k == "prim::Constant":
            if n.inputs or len(n.outputs) != 1:
                _fail("prim::Constant has no inputs and one output", n)
        elif k == "prim::fork":
            if n.inputs or len(n.blocks) != 1 or len(n.outputs) != 1 or \
                    n.blocks[0].inputs or len(n.blocks[0].outputs) != 1:
                _fail("prim::fork has one block (no inputs, the forked call's value) "
                      "and one output (its Future)", n)
        elif k == "prim::awaitable":
            if len(n.blocks) != 1 or len(n.outputs) != 1 or \
                    len(n.blocks[0].inputs) != len(n.inputs) or len(n.blocks[0].outputs) != 1:
                _fail("prim::awaitable has one block (taking the node's inputs, the call's "
                      "arguments, and returning its value) and one output (its Await)", n)
        elif n.blocks and k not in ("prim::Closure", "prim::With"):
            _fail(f"{k} cannot own blocks", n)

    check_block(graph.block, set())
    # every recorded use is a real input (no stale use records)
    for v in seen_values:
        for u in v.uses:
            node = u.user
            if u.offset >= len(node.inputs) or node.inputs[u.offset] is not v:
                _fail(f"{v} has a stale use record at input {u.offset}", node)
            if node.owning_block is None:
                _fail(f"{v} is used by a node that is not in the graph", node)
    for name, v in graph._names.items():
        if names.get(name) is not v:
            _fail(f"the name table holds %{name} for a value not in the graph")
