"""In-place pointwise ops on fresh intermediates become their out-of-place forms, so they
can fuse (TorchScript runs RemoveMutation before NNC for the same reason).

    %y : Float(4) = aten::mul(%x, %c)              %y : Float(4) = aten::mul(%x, %c)
    %z : Float(4) = aten::relu_(%y)          ->    %z : Float(4) = aten::relu(%y)
    %w : Float(4) = aten::sin(%y)                  %w : Float(4) = aten::sin(%z)

It is only done when nothing can tell the difference: `self` is the result of an op in the
same block that returns a new tensor (not a view, not a graph input), no other value may
share its memory, the other ops that write it are later in-place ops in the block (on it or
on an in-place op's result, which is it: `a.mul_(2).add_(1)`; each is rewritten in turn), and
the out-of-place op gives the same dtype and shape. Later readers of `self` then read the result instead. In-place ops
on graph inputs (or anything else) are left alone, and the partitioner keeps them out.

"The same dtype and shape" holds for the profiled types; a later call may bring others
(sizes vary under one input signature, and a dtype can follow the data through an `if` or
a loop), for which eager's in-place op casts its result to self's dtype or refuses a
result that broadcasts past self's shape ("output with shape [1, 4] doesn't match the
broadcast shape [4, 4]"). So a rewritten node keeps the in-place op it was
(`node.meta[INPLACE_META]`): a group's specialization for types where the two differ is
refused (`inplace_mismatch`, read by specialize.retype) and the group's unfused fallback
runs `inplace_on_copies` of its subgraph (the in-place op on a copy of self: eager's
answer or error); a rewritten node no group took is an in-place op again after
partitioning (`restore_unfused_writes`), on self, or on a copy of self when a reader of
self moved after it into a group.

Nor when the graph records gradients (profiled requires_grad) and eager autograd would
have saved `self` before the write (sigmoid's or exp's result, an operand of mul with
another operand that requires grad): PyTorch's backward then raises "one of the variables
needed for gradient computation has been modified by an inplace operation"; the write
stays, and the fusion group's backward node checks the version of that output. A write
folded because the profiled inputs did not require grad, but which autograd would save were
they to, is noted on the graph (`graph.grad_pattern`: the profiled requires_grad of its
inputs): calls recording gradients with other inputs requiring grad run the unfused graph.
"""
from __future__ import annotations

from ..ir import types as T
from ..ir.graph import kind_of
from ..ir.schema_match import has_side_effects
from ..ops.meta import TensorMeta, run_meta
from ..passes.alias_analysis import AliasDb

__all__ = ["functionalize_inplace", "INPLACE_META", "inplace_mismatch", "inplace_on_copies",
           "restore_unfused_writes"]

INPLACE_META = "functionalized"     # node.meta: the in-place OpDef the node was rewritten from


def _fresh_result(v) -> bool:
    """Is v a tensor a registry op returned as new memory (not a view of an input)?"""
    p = v.node
    op = p.op if p.kind.startswith("aten::") else None
    if op is None or "view" in op.tags or op.inplace_of is not None:
        return False
    r = op.schema.returns[v.offset] if v.offset < len(op.schema.returns) else None
    return r is not None and not r.type.alias and not r.type.is_list


def _meta_args(node):
    out = []
    for v in node.inputs:
        t = v.type
        if isinstance(t, T.TensorType):
            if not t.is_complete:
                return None
            out.append(TensorMeta(t.dtype, tuple(t.sizes), t.device))
        elif v.node.kind == "prim::Constant":
            out.append(v.node.attrs.get("value"))
        elif isinstance(t, T.IntType):
            out.append(1)
        elif isinstance(t, T.FloatType):
            out.append(1.0)
        elif isinstance(t, T.BoolType):
            out.append(True)
        else:
            return None
    return out


def _same_result(node, functional) -> bool:
    """Does the out-of-place op give self's dtype and shape?"""
    t = node.inputs[0].type
    args = _meta_args(node)
    if args is None or not isinstance(t, T.TensorType) or not t.is_complete:
        return False
    try:
        m = run_meta(functional, *args)
    except Exception:
        return False
    return m.dtype is t.dtype and tuple(m.shape) == tuple(t.sizes)


def _inplace_pointwise(node) -> bool:
    """Is node an in-place pointwise op with an out-of-place form (what `_candidate`
    looks at further)?"""
    op = node.op if node.kind.startswith("aten::") else None
    return op is not None and op.inplace_of is not None and op.is_pointwise and \
        bool(op.scalar)


def _candidate(node, db, tensors) -> bool:
    if not _inplace_pointwise(node):
        return False
    op = node.op
    self_ = node.inputs[0]
    if self_.node.owning_block is not node.owning_block or not _fresh_result(self_):
        return False
    writers = db.writers(self_)
    if node not in writers:
        return False
    if any(u.user.kind in ("prim::ListConstruct", "prim::DictConstruct")
           for u in self_.uses):
        # (held in a list: `lst = [a, b]; lst[0].add_(x); torch.cat(lst)` reads the write
        # through the list, which no tensor value shows; the write was dropped. Not
        # db.is_contained: a value returned in a tuple is contained too, and its in-place
        # chain fuses)
        return False
    # x = a * b; x.add_(1); x.mul_(2): the first write qualifies when every other writer
    # is a later in-place op on self_ in this block (it then writes the first one's
    # result, and qualifies in turn)
    if _autograd_saved(self_, node):
        return False
    later = [w for w in writers if w is not node]
    if any(not _later_inplace_on(w, node, self_) for w in later):
        return False
    allowed = {self_, node.outputs[0]} | {w.outputs[0] for w in later}
    if any(v not in allowed and db.may_alias(v, self_) for v in tensors):
        return False
    return _same_result(node, op.inplace_of)


def _requires_grad(v, assume=False) -> bool:
    t = v.type
    if not isinstance(t, T.TensorType):
        return False
    if assume:          # any floating tensor might
        return t.dtype is None or t.dtype.is_floating_point
    return bool(t.requires_grad)


def _reads_for_grad(n, v, assume=False, operands_only=False) -> bool:
    """Does the derivative of node n read its input or output v, for the inputs of n
    that (as profiled; with assume, that could) require grad? operands_only: only as an
    argument other than self (an in-place op saves its old self apart; an operand that
    is self, `v.addcmul_(v, v)`, is saved as it is, and the write then changes it).
    A node rewritten from an in-place op reads what the in-place op's derivative reads
    (leaky_relu_ and the elu family save their result, their out-of-place forms self)."""
    op = n.meta.get(INPLACE_META) or (n.op if n.kind.startswith("aten::") else None)
    d = op.derivative if op is not None else None
    if d is None or not hasattr(d, "needed"):
        return False
    pos = {a.name: i for i, a in enumerate(op.schema.arguments)}
    wants = tuple(w in pos and pos[w] < len(n.inputs)
                  and _requires_grad(n.inputs[pos[w]], assume) for w in d.wrt)
    if not any(wants):
        return False
    for p in d.needed(wants):
        if p == "result" and v in n.outputs and not operands_only:
            return True
        if p in pos and pos[p] < len(n.inputs) and n.inputs[pos[p]] is v and \
                not (operands_only and pos[p] == 0):
            return True
    return False


def _autograd_saved(self_, node, assume=False) -> bool:
    """Would eager autograd have saved self_ before `node` writes it (with assume: were
    every floating tensor to require grad)?"""
    if _reads_for_grad(self_.node, self_, assume) or \
            _reads_for_grad(node, self_, assume, operands_only=True):
        return True
    block = node.owning_block
    at = block.nodes.index(node)
    for use in self_.uses:
        top = _ancestor_in(use.user, block)
        if top is not None and top is not block.param_node and top is not block.return_node \
                and block.nodes.index(top) < at and _reads_for_grad(use.user, self_, assume):
            return True
    return False


def _later_inplace_on(w, node, self_) -> bool:
    """Is w an in-place op after `node` in its block writing self_ itself or the result
    of an in-place op on it (`x.mul_(2).add_(1)`: add_ writes mul_'s result, which is x)?"""
    op = w.op if w.kind.startswith("aten::") else None
    block = node.owning_block
    return op is not None and op.inplace_of is not None and w.owning_block is block \
        and _written_through(w.inputs[0]) is self_ \
        and block.nodes.index(w) > block.nodes.index(node)


def _written_through(v):
    """The tensor v is, looking through the results of in-place ops (which return self)."""
    while v.node.owning_block is not None and v.node.kind.startswith("aten::") and \
            v.node.op is not None and v.node.op.inplace_of is not None and v.node.inputs:
        v = v.node.inputs[0]
    return v


def _ancestor_in(node, block):
    """The node of `block` that holds `node` (itself, or a node whose blocks hold it)."""
    while node.owning_block is not block:
        owner = node.owning_block.owning_node
        if owner is None:
            return None
        node = owner
    return node


def _rewire_later_uses(node):
    self_, out = node.inputs[0], node.outputs[0]
    block = node.owning_block
    pos = block.nodes.index(node)
    for use in list(self_.uses):
        user = use.user
        if user is node:
            continue
        top = _ancestor_in(user, block)
        if top is block.return_node or (top is not None and top is not block.param_node
                                        and block.nodes.index(top) > pos):
            user.replace_input(use.offset, out)


def functionalize_inplace(graph) -> int:
    """Rewrite the in-place ops that qualify (see the module docstring); how many."""
    total = 0
    while True:                 # a chain of writes to one tensor: one write per round
        if not any(n.inputs and _inplace_pointwise(n) for n in graph.walk()):
            return total        # (no alias analysis for a graph with nothing to rewrite)
        db = AliasDb(graph)
        tensors = [v for v in graph.inputs if isinstance(v.type, T.TensorType)]
        for n in graph.walk():
            tensors += [v for v in n.outputs if isinstance(v.type, T.TensorType)]
            for b in n.blocks:
                tensors += [v for v in b.inputs if isinstance(v.type, T.TensorType)]
        chosen, written = [], set()
        for n in graph.walk():
            if n.inputs and n.inputs[0] not in written and _candidate(n, db, tensors):
                chosen.append(n)
                written.add(n.inputs[0])
                if _autograd_saved(n.inputs[0], n, assume=True):
                    graph.grad_pattern = tuple(
                        _requires_grad(v) if isinstance(v.type, T.TensorType) else None
                        for v in graph.inputs)
        for n in chosen:
            functional = n.op.inplace_of
            _rewire_later_uses(n)
            n.meta[INPLACE_META] = n.op
            n.kind = kind_of(functional.schema.name)
            n.op = functional
        _drop_dead(chosen)
        total += len(chosen)
        if not chosen:
            return total


def _drop_dead(nodes):
    """A write nobody read afterwards is now a dead computation: remove it, and the pure
    nodes that only fed it (block-owning nodes stay: the executor pairs blocks by order)."""
    work = list(nodes)
    while work:
        n = work.pop()
        if n.owning_block is None or n.blocks or n.kind == "prim::Param":
            continue
        if any(o.uses for o in n.outputs) or has_side_effects(n):
            continue
        producers = [v.node for v in n.inputs]
        n.destroy()
        work.extend(producers)


def inplace_mismatch(node, self_meta, dtype, shape):
    """Why the out-of-place result (dtype, shape) of a node functionalize rewrote differs
    from what its in-place op writes into self (self_meta: a TensorMeta), or None."""
    inplace = node.meta.get(INPLACE_META)
    if inplace is None or not isinstance(self_meta, TensorMeta):
        return None
    if dtype is self_meta.dtype and tuple(shape) == tuple(self_meta.shape):
        return None
    return (f"{inplace.schema.name} writes its result into self "
            f"({self_meta.dtype.name}{list(self_meta.shape)}), but it comes out "
            f"{dtype.name}{list(shape)}")


def _write_in_place(graph, n, on_copy):
    """Make the rewritten node n its in-place op again, writing self or a copy of it."""
    op = n.meta.pop(INPLACE_META)
    if on_copy:
        from ..ops.registry import OPS
        self_ = n.inputs[0]
        c = graph.create("aten::clone", [self_], output_types=[self_.type],
                         source_range=n.source_range)
        c.op = OPS["aten::clone"]
        c.insert_before(n)
        n.replace_input(0, c.output)
    n.kind = kind_of(op.schema.name)
    n.op = op


def inplace_on_copies(graph):
    """graph (a group's subgraph) with each rewritten node run as its in-place op on a
    copy of self, so that it computes what eager does for any inputs (what a group's
    unfused fallback runs); graph itself when it has no such node."""
    if not any(INPLACE_META in n.meta for n in graph.nodes):
        return graph
    g = graph.copy()
    for n in list(g.nodes):
        if INPLACE_META in n.meta:
            _write_in_place(g, n, on_copy=True)
    return g


def restore_unfused_writes(graph) -> int:
    """After partitioning: each rewritten node outside the groups becomes its in-place op
    again (the program as written, for any types). It writes self itself, unless a node
    reading self (the value before the write) now comes after it (a reader merged into a
    later group): then it writes a copy of self. Returns how many."""
    count = 0
    for n in list(graph.walk()):
        if INPLACE_META not in n.meta or n.owning_block is None:
            continue
        block, self_ = n.owning_block, n.inputs[0]
        at = block.nodes.index(n)
        moved = False
        for use in self_.uses:
            if use.user is n:
                continue
            top = _ancestor_in(use.user, block)
            if top is block.return_node or (top is not None and top is not block.param_node
                                            and block.nodes.index(top) > at):
                moved = True
                break
        _write_in_place(graph, n, on_copy=moved)
        count += 1
    return count
