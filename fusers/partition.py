"""The NNC-style partitioner: `fuse(graph)` merges fusible nodes into prim::TensorExprGroup
nodes, in place (torch/csrc/jit/passes/tensorexpr_fuser.cpp, as NOTES-nnc.md describes).

First, in-place pointwise ops on fresh intermediates become out-of-place ops where nothing
can tell the difference (functionalize.py). Then, per block: walk the nodes from the end;
at each fusible node or group, try to pull in its producers from the same block, latest
first; after a merge rescan the grown group; repeat the walk until nothing changes. Then
recurse into the blocks of the block's nodes, and try to merge groups that follow each
other in the block (they may not depend on each other at all). Finally groups with fewer
than `min_group_size` ops are put back, groups whose results nobody reads are dropped, and
each group's inputs and outputs are ordered as their values are defined.

A producer merges into a consumer when both are on the same device, the group stays within
128 inputs+outputs, its tensor inputs' profiled sizes broadcast together (one kernel walks
one iteration space), and the producer can move down to just before the consumer: every node
in between that depends on it (reads its results, or writes memory it reads, or reads
memory it writes, as the AliasDb says) moves after the consumer instead, which must not
depend on any of them (that would be a cycle), and no node in between may have side
effects (TorchScript's AliasDb::moveBeforeTopologicallyValid). An in-place op its schema
declares (`b.add_(3)`) is no such barrier: the AliasDb knows what it writes, so it stays
after everything that reads that memory and moves after the consumer only when it must.
Nothing is ever reordered around a side effect or an aliasing write.

The AliasDb describes the graph before fusion; group outputs are mapped back to the values
they replaced for its queries (groups themselves read only their inputs and write nothing).
Each node outside a group gets `node.meta["fusion"]`: why it was not fused.
"""
from __future__ import annotations

from ..ir.types import TensorType, type_of_value
from ..ops.registry import wrapped_constant
from ..passes.alias_analysis import AliasDb, is_mutable_type
from ..ir.schema_match import SIDE_EFFECT_KINDS, is_nondeterministic
from .chunks import (restore, space_shapes, to_constant_chunks,
                     to_fused_concats, cats_as_aten)
from .batch_norm import BATCH_NORM, is_parameter_use
from .functionalize import functionalize_inplace, restore_unfused_writes
from .fusibility import (CONSTANT_CHUNK, FUSED_CONCAT, UNSQUEEZE, unfusible_reason,
                          node_device, is_group)
from .subgraph import (new_group, absorb, unmerge, op_count, node_weight, origin,
                       sort_inputs, sort_outputs, subgraph_of)

__all__ = ["fuse", "MAX_GROUP_ARGS", "FUSION_META"]

MAX_GROUP_ARGS = 128       # inputs + outputs of one group (kernel argument limits)
FUSION_META = "fusion"     # node.meta key: why a node outside a group was not fused


def fuse(graph, *, min_group_size=2) -> list:
    """Partition `graph` (optimized, tensor values with complete profiled types) into
    fusion groups, in place. Returns the group nodes, in graph order."""
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int) \
            or min_group_size < 1:
        raise ValueError(f"min_group_size must be a positive int, got {min_group_size!r}")
    functionalize_inplace(graph)
    unwrap_number_constants(graph)
    place_scalar_constants(graph)
    to_constant_chunks(graph)
    to_fused_concats(graph)
    groups = _Partitioner(graph, min_group_size).run()
    restore(graph)              # the chunks and cats no group took
    restore_unfused_writes(graph)   # the in-place ops no group took
    return groups


def _zero_dim_cpu_constant(v):
    """The value of a prim::Constant holding a 0-dim CPU tensor (a traced Python number, as
    torch's tracer records `x // 2`), else None."""
    n = v.node
    if n.kind != "prim::Constant" or not isinstance(v.type, TensorType):
        return None
    t = n.attrs.get("value")
    if getattr(t, "ndim", None) != 0 or getattr(getattr(t, "device", None), "type", None) \
            != "cpu" or t.requires_grad:
        return None
    return t


def unwrap_number_constants(graph) -> None:
    """A wrapped-number constant (a trace's `x // 2.5`, `torch.mul(2.5, x)`: a 0-dim CPU
    tensor marked as PyTorch's wrapped number) read by a pointwise op where it takes a
    number is given that number (a constant of its own per reader). A fused kernel takes
    its inputs as arrays, which carry no mark: int64 x // it computed in float64 there,
    in float32 eagerly, as PyTorch's."""
    for node in list(graph.walk()):
        if node.op is None:
            continue
        for i, v in enumerate(node.inputs):
            if v.node.kind != "prim::Constant":
                continue
            x = wrapped_constant(node.op, i, v.node.attrs.get("value"))
            if x is None:
                continue
            with graph.inserting_before(node):
                c = graph.insert_constant(x, type_of_value(x), v.node.source_range)
            node.replace_input(i, c)
            if not v.uses:
                v.node.destroy()


def place_scalar_constants(graph) -> None:
    """A 0-dim CPU tensor constant read by a pointwise op on a CUDA device is given to it
    as a 0-dim tensor on that device (one copy per constant and device): eagerly PyTorch
    takes the CPU scalar tensor there with the same promotion as a 0-dim tensor of the
    op's device, and the fuser puts ops on one device only, so the CPU constant kept
    `x // 2`, `torch.div(x, 2, rounding_mode=...)`, `torch.add(2, x)` of a CUDA trace
    out of the fusion groups."""
    placed = {}
    for node in list(graph.walk()):
        op = node.op
        if op is None or not op.is_pointwise:
            continue
        devices = {v.type.device for v in list(node.inputs) + list(node.outputs)
                   if isinstance(v.type, TensorType) and v.type.device is not None
                   and v.type.device.type == "cuda"}
        if len(devices) != 1:
            continue
        dev = devices.pop()
        for i, v in enumerate(node.inputs):
            t = _zero_dim_cpu_constant(v)
            if t is None:
                continue
            key = (v, dev, node.owning_block)    # (defined where its first reader is)
            if key not in placed:
                moved = t.to(dev)
                with graph.inserting_before(node):
                    placed[key] = graph.insert_constant(moved, TensorType.of(moved),
                                                        v.node.source_range)
            node.replace_input(i, placed[key])
    for v, _, _ in placed:
        if not v.uses:
            v.node.destroy()


def _free_inputs(node):
    """The values a node reads: its inputs and the outer values its blocks use."""
    if not node.blocks:
        return node.inputs
    defined, used = set(), list(node.inputs)
    stack = list(node.blocks)
    while stack:
        b = stack.pop()
        defined.update(b.inputs)
        for n in b.nodes:
            used.extend(n.inputs)
            defined.update(n.outputs)
            stack.extend(n.blocks)
        used.extend(b.outputs)
    return [v for v in used if v not in defined]


def _returns_its_input(node) -> bool:
    """A node whose result is its input itself (`x.to(x.dtype)`, `x.type_as(y)` of the
    same dtype, `x.contiguous()`): alone in a group it would compute nothing but a copy,
    where eager hands back x (and TorchScript leaves it unfused)."""
    op = node.op
    if op is None or not op.schema.returns or not op.schema.returns[0].type.alias:
        return False
    x, out = node.inputs[0].type, node.outputs[0].type
    return isinstance(x, TensorType) and isinstance(out, TensorType) and \
        x.dtype == out.dtype and x.sizes == out.sizes


def _definition_order(graph) -> dict:
    """Value -> its place in the order values are defined (graph inputs first)."""
    order = {v: i for i, v in enumerate(graph.inputs)}
    for n in graph.walk():
        for b in n.blocks:
            for v in b.inputs:
                order[v] = len(order)
        for v in n.outputs:
            order[v] = len(order)
    return order


def _barrier(node) -> bool:
    """Can nothing move across node? Side effects the AliasDb does not model (printing,
    raising, calls, container mutators), here or in its blocks. An op whose schema
    declares its in-place writes is no barrier: `conflict` orders it against every node
    that reads or writes that memory. Random ops are no barrier either (`_random`): what
    the fuser moves across them is pure; only their order among themselves counts."""
    if node.kind in _BARRIER_KINDS:
        return True
    return any(_barrier(n) for b in node.blocks for n in b.nodes)


def _random(node) -> bool:
    """Does node draw from a generator (here or in its blocks)? Two such nodes must keep
    their order (the numbers each gets depend on it)."""
    return is_nondeterministic(node) or any(_random(n) for b in node.blocks
                                            for n in b.nodes)


_BARRIER_KINDS = SIDE_EFFECT_KINDS | {"prim::Closure", "prim::With"}


def _iteration_space_problem(consumer, producer, space):
    """A group's kernel walks one iteration space, the broadcast of its tensor inputs: two
    independent computations whose sizes do not broadcast together (box areas of shape
    [4] next to corner pairs of shape [4, 4, 2]) cannot share a group. None when the
    merged group's inputs and the results it returns (as profiled) broadcast, or their
    sizes are not all known. An input read through chunks only counts with the shape of
    a piece (`space`, from chunks.space_shapes); a chunk node with the pieces the group
    reads (an uneven chunk's are not all alike); a cat's inputs with its result's."""
    inside = set(producer.outputs)
    sizes = {}                  # the distinct shapes, in the order first met
    for n in (consumer, producer):
        if n.kind == CONSTANT_CHUNK:
            # walked piece by piece: the pieces the group reads count, not the chunked
            # value (an uneven chunk's last piece is smaller than the others)
            for o in n.outputs:
                if any(n is consumer or u.user is consumer for u in o.uses):
                    if o.type.sizes is None or None in o.type.sizes:
                        return None
                    # (a piece read only on the way into a cat: with the cat's shape)
                    shape = space.get(o)
                    sizes[tuple(o.type.sizes) if shape is None else tuple(shape)] = None
            continue
        lined_up = n.kind == FUSED_CONCAT or n.kind == UNSQUEEZE
        for v in n.inputs:
            t = v.type
            if v in inside or not isinstance(t, TensorType):
                continue
            if t.sizes is None or None in t.sizes:
                return None
            if is_parameter_use(n, v):      # batch_norm's per-channel parameters
                shape = tuple(n.output.type.sizes)
            elif is_group(n) and _parameter_shape(n, v) is not None:
                shape = _parameter_shape(n, v)      # (the same, inside a group)
            elif lined_up and (n.kind == FUSED_CONCAT or v is n.inputs[0]):
                # (read lined up with its result, as the result is read: an unsqueeze's
                # result unsqueezed again counts with the shape after both)
                shape = tuple(space.get(n.output) or n.output.type.sizes)
            else:
                shape = space.get(v)
                shape = tuple(t.sizes) if shape is None else tuple(shape)
            sizes[shape] = None
        # the results the group would return are computed in the same space: with chunks
        # and cats they need not have its inputs' sizes (a piece of an uneven chunk, a
        # chunk of a piece, a cat's result next to a result read by another cat)
        for o in n.outputs:
            t = o.type
            if not isinstance(t, TensorType):
                continue
            for u in o.uses:
                if u.user is not consumer:
                    break
            else:
                continue
            if t.sizes is None or None in t.sizes:
                return None
            sizes[tuple(t.sizes)] = None
    if len(sizes) <= 1:
        return None
    # an uneven chunk's smaller last piece (and what is computed from it) counts with the
    # shape of a whole piece: the group runs such pieces in a kernel of their own
    # (fusers/parts.py, space_parts), as NNC keeps `x.chunk(3)` of 10 rows in one group
    whole = _uneven_pieces(consumer, producer)
    sizes = list(dict.fromkeys(whole.get(x, x) for x in sizes))
    rank = max(len(x) for x in sizes)
    for d in range(1, rank + 1):
        seen = {x[-d] for x in sizes if len(x) >= d and x[-d] != 1}
        if len(seen) > 1:
            a, b = (next(list(x) for x in sizes if len(x) >= d and x[-d] == n)
                    for n in sorted(seen)[:2])
            return (f"its inputs' (or results') sizes do not broadcast together ({a} and "
                    f"{b}): one kernel walks one iteration space")
    return None


def _uneven_pieces(*nodes):
    """{the shape of an uneven chunk's last piece: the shape of its other pieces} for the
    prim::ConstantChunk nodes among nodes (or in their subgraphs), as profiled."""
    out = {}
    for n in nodes:
        for c in (subgraph_of(n).nodes if is_group(n) else (n,)):
            if c.kind != CONSTANT_CHUNK or len(c.outputs) < 2:
                continue
            shapes = [o.type.sizes for o in c.outputs]
            if any(x is None or None in x for x in shapes):
                continue
            first, last = tuple(shapes[0]), tuple(shapes[-1])
            if last != first and all(tuple(x) == first for x in shapes[:-1]):
                out[last] = first
    return out


def _parameter_shape(group, v):
    """The shape of the result of the batch_norm that reads group input v as a per-channel
    parameter, when all the group's reads of v are such (None otherwise)."""
    sub = subgraph_of(group)
    shapes = set()
    for k, w in enumerate(group.inputs):
        if w is v:
            for u in sub.inputs[k].uses:
                if not is_parameter_use(u.user, sub.inputs[k]) or \
                        u.user.output.type.sizes is None:
                    return None
                shapes.add(tuple(u.user.output.type.sizes))
    return shapes.pop() if len(shapes) == 1 else None


def _kinds(node):
    """The kinds of node, or of the nodes in its subgraph when it is a group."""
    return {n.kind for n in subgraph_of(node).nodes} if is_group(node) else {node.kind}


def _cat_into_cut(consumer, producer):
    """Would the merged group chunk or concatenate a value computed from a cat's result
    (directly or through pointwise ops)? Its kernel could not compute it."""
    if producer.kind == FUSED_CONCAT:
        derived = set(producer.outputs)
    elif is_group(producer):
        sub, inner = subgraph_of(producer), set()
        for n in sub.nodes:
            if n.kind == FUSED_CONCAT or any(v in inner for v in n.inputs):
                inner.update(n.outputs)
        derived = {o for o, v in zip(producer.outputs, sub.outputs) if v in inner}
    else:
        return False
    if not derived:
        return False
    if not is_group(consumer):
        return consumer.kind in (CONSTANT_CHUNK, FUSED_CONCAT) and \
            any(v in derived for v in consumer.inputs)
    sub = subgraph_of(consumer)
    reached = {p for p, v in zip(sub.inputs, consumer.inputs) if v in derived}
    for n in sub.nodes:
        if any(v in reached for v in n.inputs):
            if n.kind in (CONSTANT_CHUNK, FUSED_CONCAT):
                return True
            reached.update(n.outputs)
    return False


def _merge_chunk_copies(sub):
    """Chunks of one value with one (chunks, dim) in a group's subgraph become one: each
    reader's group took a copy of its own (`own_view`), and the groups merged since (NNC's
    group has one prim::ConstantChunk)."""
    first = {}
    for n in list(sub.nodes):
        if n.kind != CONSTANT_CHUNK:
            continue
        key = (n.inputs[0], n.attrs["chunks"], n.attrs["dim"])
        kept = first.setdefault(key, n)
        if kept is n:
            continue
        for new, old in zip(kept.outputs, n.outputs):
            old.replace_all_uses_with(new)
        n.destroy()


class _Partitioner:
    def __init__(self, graph, min_group_size):
        self.graph = graph
        self.min_group_size = min_group_size
        self.aliases = AliasDb(graph)
        self.reasons = {}                 # node -> unfusible reason (None: fusible)
        self.devices = {}                 # fusible node / group -> device
        for n in graph.walk():
            if n.kind != "prim::Constant":
                r = unfusible_reason(n, self.aliases)
                self.reasons[n] = r
                if r is None:
                    self.devices[n] = node_device(n)
        self.origin = {}                  # group output -> the original value it replaced
        self.space = space_shapes(graph, self.handled)
        self.merge_failure = {}           # node -> why its last merge attempt failed
        self.too_small = set()

    # ------------------------------------------------------------------ driver
    def run(self):
        self.create_groups(self.graph.block)
        self.inline_small_groups(self.graph.block)
        self.wrap_single_nodes(self.graph.block)
        for n in [n for n in self.graph.walk() if is_group(n) and not n.outputs]:
            n.destroy()             # nothing reads what it computes (groups are pure)
        self.record_reasons()
        groups = [n for n in self.graph.walk() if is_group(n)]
        if groups:
            position = _definition_order(self.graph)
            for g in groups:
                _merge_chunk_copies(subgraph_of(g))
                cats_as_aten(subgraph_of(g))
                sort_inputs(g, position.__getitem__)
                sort_outputs(g)
        return groups

    def handled(self, node):
        return is_group(node) or self.reasons.get(node, "constant") is None

    def create_groups(self, block):
        self.scan_block(block)
        for n in list(block.nodes):
            for b in n.blocks:
                self.create_groups(b)
        while True:
            prev, merged_any = None, False
            for n in [n for n in block.nodes if is_group(n)]:
                merged = self.try_merge(n, prev) if prev is not None else None
                merged_any = merged_any or merged is not None
                prev = merged if merged is not None else n
            # two groups that read one producer (the pieces of `(x * y).chunk(3)` read by
            # two chains) are one now: the producer, refused while a second group read its
            # result, may join (NNC's group holds the mul, the chunk and both chains)
            if not (merged_any and self.scan_block(block)):
                break

    def scan_block(self, block) -> bool:
        """Merge producers into consumers, last node first, until nothing merges; True
        when anything did."""
        changed, any_merge = True, False
        while changed:
            changed = False
            i = len(block.nodes) - 1
            while i >= 0:
                node = block.nodes[i]
                group = self.scan(node)
                if group is not None:
                    changed = any_merge = True
                    i = block.nodes.index(group)     # rescan the grown group
                else:
                    i -= 1
        return any_merge

    def scan(self, node):
        """Merge one producer into node (a fusible node or a group); the group or None."""
        if not self.handled(node) or node.kind == UNSQUEEZE:
            return None             # (an unsqueeze joins its reader's group, never leads one)
        block = node.owning_block
        producers = []
        for v in node.inputs:
            p = v.node
            if p.owning_block is block and p not in producers and self.handled(p):
                producers.append(p)
        producers.sort(key=block.nodes.index, reverse=True)
        for p in producers:
            group = self.try_merge(node, p)
            if group is not None:
                return group
        return None

    # ------------------------------------------------------------------ merging
    def try_merge(self, consumer, producer):
        why = self.merge_problem(consumer, producer)
        if not why and (producer.kind in (CONSTANT_CHUNK, UNSQUEEZE)
                        or _returns_its_input(producer)):
            producer = self.own_view(producer, consumer)
        why = why or self.move_before(producer, consumer)
        if why:
            self.merge_failure[producer] = why
            self.merge_failure.setdefault(consumer, why)
            return None
        group = consumer
        if not is_group(consumer):
            group = new_group(self.graph, consumer)
            self.devices[group] = self.devices[consumer]
            absorb(group, consumer, self.origin)
        self.devices.pop(producer, None)
        absorb(group, producer, self.origin)
        return group

    def merge_problem(self, consumer, producer):
        if self.devices.get(consumer) is not self.devices.get(producer):
            return (f"its neighbour runs on another device ({self.devices.get(producer)} vs "
                    f"{self.devices.get(consumer)})")
        n_args = sum(len(n.inputs) + len(n.outputs) for n in (consumer, producer))
        if n_args > MAX_GROUP_ARGS:
            return f"the group would have more than {MAX_GROUP_ARGS} inputs and outputs"
        kinds = _kinds(consumer) | _kinds(producer)
        if kinds & {UNSQUEEZE, BATCH_NORM} and kinds & {CONSTANT_CHUNK, FUSED_CONCAT}:
            what = "an unsqueeze" if UNSQUEEZE in kinds else "a batch_norm"
            return (f"{what} and a chunk or cat would share the group (a kernel reads its "
                    f"inputs either way, not both)")
        if not is_group(consumer) and _returns_its_input(consumer):
            x = consumer.inputs[0]
            if x.node is producer and any(u.user is not consumer for u in x.uses):
                return ("it returns its input itself, which is read outside too: in a group "
                        "the two would be different tensors")
        if _cat_into_cut(consumer, producer):
            return ("a cat's result would be chunked or concatenated again in the group (a "
                    "kernel computes a cat's elements branch by branch, not piece by piece)")
        return _iteration_space_problem(consumer, producer, self.space)

    def own_view(self, producer, consumer):
        """A chunk (or unsqueeze, or a cast that returns its input: `x.float()` of a float
        x) whose pieces are also read outside `consumer`: the group gets a copy of its own
        (its pieces are views of an input from outside the group, or the input itself: the
        group must not return them, as its results would be copies, not views, and a
        caller's in-place write to the result would miss the input) and the others keep
        the original, which goes when nobody reads it any more."""
        if not any(u.user is not consumer for o in producer.outputs for u in o.uses):
            return producer
        copy = self.graph.create(producer.kind, list(producer.inputs),
                                 attrs=dict(producer.attrs),
                                 output_types=[o.type for o in producer.outputs],
                                 source_range=producer.source_range, scope=producer.scope)
        copy.op = producer.op
        copy.insert_before(consumer)
        for new, old in zip(copy.outputs, producer.outputs):
            for u in [u for u in old.uses if u.user is consumer]:
                consumer.replace_input(u.offset, new)
        self.reasons[copy] = None
        self.devices[copy] = self.devices[producer]
        if not any(o.uses for o in producer.outputs):
            producer.destroy()
        return copy

    def move_before(self, producer, consumer):
        """Move producer to just before consumer (its dependents in between go after the
        consumer); None when done, else why it cannot move."""
        nodes = consumer.owning_block.nodes
        start, end = nodes.index(producer), nodes.index(consumer)
        assert start < end, "a producer comes before its consumer"
        if start + 1 == end:
            return None
        deps, outs = [], set(producer.outputs)
        for x in nodes[start + 1:end]:
            if _barrier(x):
                return f"it would move across {x.kind}, which has side effects"
            if self.depends_on(x, [producer] + deps, outs):
                deps.append(x)
                outs.update(x.outputs)
        if deps:
            # deps go after the consumer: a random one must not pass a random one that
            # stays (x * x + x + rand_like(x): the pure group moves across rand_like,
            # as in NNC, and the generator draws keep their order)
            moved = set(deps)
            for d in deps:
                if _random(d):
                    later = nodes[nodes.index(d) + 1:end]
                    other = next((x for x in later if x not in moved and _random(x)), None)
                    if other is not None:
                        return (f"{d.kind} would move after {other.kind}: random ops keep "
                                f"their order")
            dep_outs = {o for d in deps for o in d.outputs}
            if self.depends_on(consumer, deps, dep_outs):
                culprit = next(d for d in deps if self.depends_on(consumer, [d], set(d.outputs)))
                how = ("reads its result" if any(v in outs for v in _free_inputs(culprit))
                       else "must stay after it (their memory accesses conflict)")
                return (f"{culprit.kind} sits between them, {how} and feeds the group "
                        f"(fusing would make a cycle)")
        producer.move_before(consumer)
        prev = consumer
        for d in deps:
            d.move_after(prev)
            prev = d
        return None

    def depends_on(self, x, working_set, outputs):
        """Must x stay after the working set (it reads their results, or their memory
        accesses conflict with x's)?"""
        reads = _free_inputs(x)
        if any(v in outputs for v in reads):
            return True
        return any(self.conflict(w, x) for w in working_set)

    def accessed(self, node):
        vals = list(_free_inputs(node)) + list(node.outputs)
        return [origin(self.origin, v) for v in vals if is_mutable_type(v.type)]

    def conflict(self, a, b):
        """Does a write memory b uses, or b write memory a uses?"""
        if is_group(a) and is_group(b):
            return False
        db = self.aliases
        # (most nodes write nothing: then what the other one accesses does not matter)
        return (db.writes_anything(a) and db.writes_to_alias(a, self.accessed(b))) or \
            (db.writes_anything(b) and db.writes_to_alias(b, self.accessed(a)))

    # ------------------------------------------------------------------ clean-up
    def inline_small_groups(self, block):
        for n in list(block.nodes):
            for b in n.blocks:
                self.inline_small_groups(b)
            if is_group(n) and op_count(n) < self.min_group_size:
                self.too_small.update(unmerge(n))

    def wrap_single_nodes(self, block):
        """A fusible node alone becomes a group of its own when it counts as
        min_group_size ops by itself (min_group_size=1, or a composite op: node_weight)."""
        for n in list(block.nodes):
            for b in n.blocks:
                self.wrap_single_nodes(b)
            # (a chunk alone computes nothing: its pieces are views of its input, which a
            # group would return as copies)
            if not is_group(n) and self.reasons.get(n, "constant") is None \
                    and node_weight(n) >= self.min_group_size \
                    and n.kind not in (CONSTANT_CHUNK, UNSQUEEZE) \
                    and not _returns_its_input(n):
                group = new_group(self.graph, n)
                absorb(group, n, self.origin)

    def record_reasons(self):
        for n in self.graph.walk():
            if is_group(n) or n.kind == "prim::Constant":
                continue
            r = self.reasons.get(n)
            if r is None:
                if n in self.too_small:
                    r = (f"its group had fewer than {self.min_group_size} ops "
                         f"(min_group_size)")
                elif n in self.merge_failure:
                    r = f"fusible, but {self.merge_failure[n]}"
                elif self.min_group_size <= 1 and _returns_its_input(n):
                    r = "fusible, but alone it returns its input unchanged (nothing to fuse)"
                else:
                    r = "fusible, but no fusible op next to it (a group needs at least "\
                        f"{self.min_group_size})"
            n.meta[FUSION_META] = r
