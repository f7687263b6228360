"""TorchScript's CreateAutodiffSubgraphs on a recording plan's steps: which ops of a
scripted call that records gradients run as DifferentiableGraph regions (each records ONE
DifferentiableGraphBackward, jit/graph_autodiff.py) and which record op by op.

torch 2.13 (torch/csrc/jit/passes/create_autodiff_subgraphs.cpp, SubgraphSlicer) on the
profiled graph of each block (the graph's, and recursively each If branch's and Loop
body's):

- a node may join a region when it is differentiable (symbolic_script's formulas:
  graph_autodiff.AUTODIFF_OPS here) and not a view (view, view_as, reshape, reshape_as,
  transpose, expand, expand_as), or when it is a prim::profile node (the profiling
  executor puts one before every use of a Tensor);
- nodes with side effects split a block into work blocks nothing moves across;
- scanning each work block from its end, a node that may join becomes a region of its
  own, which then takes in the producers of its inputs, latest first (sorted in reverse
  topological order), as long as the producer may join and can be moved just before
  the region (AliasDb.moveBeforeTopologicallyValid: what depends on the producer in
  between moves after the region; nothing the region reads may depend on it); a region
  taken in is unmerged and its nodes merged one by one, last first; the scan repeats
  until nothing merges;
- regions of fewer than 2 executed nodes (prim::profile and constants do not count) are
  inlined back.

A region's inputs are in the order SubgraphUtils.mergeNodeIntoSubgraph makes them (each
merged node's inputs appended, constants cloned in, the merged node's outputs removed):
the order of the DifferentiableGraphBackward's next_functions (its inputs that require
grad), e.g. (l2.bias, l2.weight, l1.bias, l1.weight, x) for a scripted two-layer MLP.

Here a step that is not a registry op, or one that writes, draws random numbers or has
a side effect (warn, raise, a container write, an If or Loop holding such, but for a
raise there) is never moved across: no region forms around it. An op that may join a
region is never ordered so, as torch's AliasDb does not order it: dropout (its draw) and batch_norm (the running
statistics its TorchScript schema does not declare written).
"""
from __future__ import annotations

from ..ir import types as T

__all__ = ["slice_steps", "VIEW_KINDS", "LIST_OPS", "fixed_list"]

VIEW_KINDS = frozenset(("aten::view", "aten::view_as", "aten::reshape", "aten::reshape_as",
                        "aten::transpose", "aten::expand", "aten::expand_as"))

# ops a region takes that read a list of Tensors (symbolic_script's cat / stack): the list,
# made by a prim::ListConstruct the slicer never moves, is a region input
LIST_OPS = frozenset(("aten::cat", "aten::stack"))

_RANDOM_OR_WRITE = frozenset({"random", "inplace_view"})


class _Profile:
    """A prim::profile node: one use of a Tensor value (slot) by a step."""
    __slots__ = ("slot", "out", "inputs", "outputs", "reads_all")
    mergeable = True
    ordered = False

    def __init__(self, slot):
        self.slot = slot
        self.out = self
        self.inputs = self.reads_all = (slot,)
        self.outputs = (self,)


class _Item:
    """One step of the block (its reads: the slots it and its nested steps read)."""
    __slots__ = ("index", "step", "inputs", "outputs", "reads", "mergeable", "ordered",
                 "weight", "reads_all")

    def __init__(self, index, step, inputs, reads, weight, ordered):
        self.index, self.step = index, step
        self.inputs = inputs
        self.outputs = tuple(step[3])
        self.reads = reads
        self.mergeable, self.ordered = weight > 0, ordered
        self.weight = weight
        # (what it reads: slots, and the profiles of its Tensor inputs)
        self.reads_all = frozenset(reads) | {x for x in inputs if isinstance(x, _Profile)}


class _Group:
    """A DifferentiableGraph being built: its nodes (items and profiles) and inputs."""
    __slots__ = ("nodes", "inputs", "produced")
    mergeable = True
    ordered = False

    def __init__(self):
        # (inputs: a dict, its keys in merge order)
        self.nodes, self.inputs, self.produced = [], {}, set()

    @property
    def outputs(self):
        return tuple(self.produced)

    @property
    def reads(self):
        return self.inputs

    @property
    def reads_all(self):
        return self.inputs


class _Bound:
    """A work block's end: a step with side effects, or the block's return."""
    __slots__ = ("item", "reads_all")
    mergeable = False
    ordered = True
    inputs = reads = outputs = ()

    def __init__(self, item):
        self.item = item
        self.reads_all = item.reads_all if item is not None else ()


_MEMO: dict = {}        # (slice_steps' run: id(step) -> (step, reads), (step, effects))


def _step_reads(step):
    """The slots a step reads, its nested steps' too (closed over by an If or Loop)."""
    kind, ins, extra = step[0], step[2], step[4]
    if kind not in (4, 5, 9):
        return set(ins)
    m = _MEMO.get((id(step), 0))
    if m is not None and m[0] is step:
        return set(m[1])
    out = _step_reads_nested(step, kind, ins, extra)
    _MEMO[(id(step), 0)] = (step, frozenset(out))
    return out


def _step_reads_nested(step, kind, ins, extra):
    out = set(ins)
    if kind == 4:
        for bsteps, bouts in extra:
            for s in bsteps:
                out |= _step_reads(s)
            out.update(bouts)
    elif kind == 5:
        bsteps, _, bouts = extra
        for s in bsteps:
            out |= _step_reads(s)
        out.update(bouts)
    elif kind == 9:
        out.add(extra[1])
    return out


def _effects(step):
    """(has side effects, must keep its place among writes and random draws)."""
    kind = step[0]
    if kind in (4, 5):
        m = _MEMO.get((id(step), 1))
        if m is not None and m[0] is step:
            return m[1]
        r = _effects_nested(step, kind)
        _MEMO[(id(step), 1)] = (step, r)
        return r
    return _effects_nested(step, kind)


def _effects_nested(step, kind):
    if kind == 9:
        return True, True
    if kind == 6:
        node = step[5]
        return node.kind == "prim::RaiseException", node.kind == "prim::RaiseException"
    if kind in (4, 5):
        nested = step[4] if kind == 4 else (step[4][0],)
        side = ordered = False
        for bsteps in nested:
            if kind == 4:
                bsteps = bsteps[0]
            for s in bsteps:
                if _raise_check(s):
                    continue
                a, b = _effects(s)
                side |= a
                ordered |= b
        return side, ordered
    if kind == 7:
        # (a list's reads, the size's `size[0]`, move; its writes keep their place)
        from ..passes.alias_analysis import is_container_mutator
        from ..ir.schema_match import SIDE_EFFECT_KINDS
        node = step[5]
        return False, node is None or is_container_mutator(node) or \
            node.kind in SIDE_EFFECT_KINDS
    if kind in (1, 8):
        op = step[1]
        if not op.schema.returns:
            return True, True       # (aten::set_grad_enabled, manual_seed: the state)
        return False, (any(a.type.is_write for a in op.schema.arguments) or
                       bool(op.tags & _RANDOM_OR_WRITE) or op.inplace_of is not None)
    return False, kind not in (0, 2, 3)


def _raise_check(step) -> bool:
    """A raise in an If / Loop body: it neither splits nor orders its If. torch's
    Node::hasSideEffects does not look into blocks, and its AliasDb orders no pure op
    after a raise, so a region moves across F.batch_norm's `if size_prods == 1: raise`
    (the check runs after the region there)."""
    return step[0] == 6 and step[5].kind == "prim::RaiseException"


def _plain_input_types(node):
    """Whether each input is a Tensor or holds none (an Optional[Tensor] or a list of
    Tensors would hide a gradient from the region's edges; an Optional[Tensor] the op
    takes no gradient for, batch_norm's running statistics, hides none)."""
    wrt = None
    for k, v in enumerate(node.inputs):
        t = v.type
        if not isinstance(t, T.TensorType) and "Tensor" in str(t):
            if wrt is None:
                op = node.op
                d = op.derivative if op is not None else None
                wrt = () if getattr(d, "wrt", None) is None else tuple(
                    i for i, a in enumerate(op.schema.arguments) if a.name in d.wrt)
            if k in wrt or not isinstance(t, T.OptionalType):
                # (torch.cat / torch.stack take their list whole: its elements are the
                # region's edges, the prim::ListConstruct stays outside)
                if not (node.kind in LIST_OPS and k == 0 and isinstance(t, T.ListType) and
                        fixed_list(v) and (
                            len(node.inputs) < 2 or
                            node.inputs[1].node.kind == "prim::Constant")):
                    return False
    return True


def fixed_list(v) -> bool:
    """Whether list Value v is a prim::ListConstruct of Tensors that only cat / stack read:
    its elements are then the ones it was built with. A list aten::append grows (the
    decoder's `outs.append(o)` in a loop), or one passed on to a loop, a branch or a call,
    holds Tensors the ListConstruct does not name: a region reading it would miss their
    gradients, so its cat / stack stays outside regions (CatBackward0)."""
    n = v.node
    if n.kind != "prim::ListConstruct" or not n.inputs or \
            not all(isinstance(e.type, T.TensorType) for e in n.inputs):
        return False
    return all(u.user.kind in LIST_OPS and u.offset == 0 for u in v.uses)


def slice_steps(steps, const_slots, out_slots, mergeable, is_view=None):
    """The regions of one block's steps, TorchScript's way: (new steps, regions) where the
    new steps are the block's in the order the slicer leaves them, each region one
    (its steps in order, the slots it reads in merge order) tuple among them; regions:
    those tuples. mergeable(step): how many ops the step brings into a region (a
    fusion group the ops it holds), 0 where it may not join one; is_view(step): whether
    its output aliases its first input (a region output that aliases a region input or
    another output is unmerged with what uses it, as torch's unfuseAliasedOutputs).
    out_slots: the slots the block returns (profiled, read after it)."""
    seq = []
    for i, st in enumerate(steps):
        node = st[5]
        kind = st[0]
        side, ordered = _effects(st)
        ok = kind in (0, 1) and node is not None and node.kind not in VIEW_KINDS and \
            _plain_input_types(node) and mergeable(st)
        if ok and kind == 1:
            # (torch's AliasDb orders no region op: dropout's draw and batch_norm's
            # running statistics, which its schema does not declare written, move)
            ordered = False
        # (a profile node before each Tensor use)
        ins = list(st[2])
        if node is not None and len(node.inputs) == len(ins):
            for k, v in enumerate(node.inputs):
                if isinstance(v.type, T.TensorType):
                    p = _Profile(ins[k])
                    seq.append(p)
                    ins[k] = p
        it = _Item(i, st, tuple(ins), _step_reads(st), ok or 0, ordered)
        seq.append(_Bound(it) if side else it)
    for s in out_slots:
        seq.append(_Profile(s))
    end = _Bound(None)
    seq.append(end)

    # (seq keeps its length: a unit merged away leaves None, so a move renumbers only the
    # span it crosses; pos: each unit's index; producer: who makes each value)
    producer, pos = {}, {}
    for k, u in enumerate(seq):
        pos[u] = k
        outs = u.item.outputs if isinstance(u, _Bound) and u.item is not None else u.outputs
        for o in outs:
            producer[o] = u

    def merge_node(n, g, before):
        ins = g.inputs
        for v in n.inputs:
            if v in const_slots or v in ins or v in g.produced:
                continue
            ins[v] = None
        if before:
            for o in n.outputs:
                ins.pop(o, None)
            g.nodes.insert(0, n)
        else:
            g.nodes.append(n)
        g.produced.update(n.outputs)
        for o in n.outputs:
            producer[o] = g

    def try_merge(g, pu):
        """Move pu just before the group g (later in seq) and merge it into g."""
        if not pu.mergeable:
            return False
        pi, gi = pos[pu], pos[g]
        if pi >= gi:
            return False
        work, work_out = [], set(pu.outputs)
        stay = []
        for u in seq[pi + 1:gi]:
            if u is None:
                continue
            if u.ordered:
                return False
            if any(r in work_out for r in u.reads_all):
                work.append(u)
                work_out.update(u.outputs)
            else:
                stay.append(u)
        dep = set()
        for u in work:
            dep.update(u.outputs)
        if any(r in dep for r in g.inputs):
            return False
        span = stay + [None] * (gi - pi - len(stay) - len(work)) + [g] + work
        seq[pi:gi + 1] = span
        for k, u in enumerate(span, pi):
            if u is not None:
                pos[u] = k
        del pos[pu]
        if isinstance(pu, _Group):
            for n in reversed(pu.nodes):
                merge_node(n, g, True)
        else:
            merge_node(pu, g, True)
        return True

    changed = True
    while changed:
        changed = False
        k = len(seq) - 1
        while k >= 0:
            u = seq[k]
            if u is None or not u.mergeable:
                k -= 1
                continue
            if not isinstance(u, _Group):
                g = _Group()
                merge_node(u, g, False)
                seq[k] = g
                del pos[u]
                pos[g] = k
                u = g
            # the group's inputs produced in this block, latest first
            cands = sorted({producer[x] for x in u.inputs if x in producer},
                           key=lambda c: pos[c], reverse=True)
            merged = False
            for pu in cands:
                if pu is u:
                    continue
                if try_merge(u, pu):
                    merged = changed = True
                    break
            if merged:
                k = pos[u]
                continue
            k -= 1
    seq = [u for u in seq if u is not None]
    # outputs that alias: unmerged (torch's unmergeAliasedOutputs /
    # unmergeOutputsAlisingInputs), then the regions big enough; the rest back into steps
    if is_view is not None:
        # (what is read outside each group: its own inputs are never what it makes)
        outside = set(out_slots)
        for u in seq:
            if isinstance(u, _Group):
                outside.update(x.slot if isinstance(x, _Profile) else x for x in u.inputs)
            elif isinstance(u, _Bound):
                if u.item is not None:
                    outside.update(u.item.reads)
            elif isinstance(u, _Item):
                outside.update(u.reads)
        k = 0
        while k < len(seq):
            u = seq[k]
            if isinstance(u, _Group) and any(is_view(n.step) for n in u.nodes
                                             if isinstance(n, _Item)):
                out = _unfuse_aliased(u, set(outside), is_view)
                if out:
                    seq[k + 1:k + 1] = out
            k += 1
    out_steps, regions = [], []

    def resolve(x):
        return x.slot if isinstance(x, _Profile) else x

    for u in seq:
        if isinstance(u, _Group):
            its = sorted((n for n in u.nodes if isinstance(n, _Item)), key=lambda n: n.index)
            if sum(n.weight for n in its) >= 2:
                ins = []
                for x in u.inputs:
                    x = resolve(x)
                    if x not in ins:
                        ins.append(x)
                regions.append(([n.step for n in its], ins))
                out_steps.append(regions[-1])
            else:
                out_steps.extend(n.step for n in its)
        elif isinstance(u, _Item):
            out_steps.append(u.step)
        elif isinstance(u, _Bound) and u.item is not None:
            out_steps.append(u.item.step)
    return out_steps, regions


def _unfuse_aliased(g, outside, is_view):
    """Take out of group g the nodes whose outputs alias a region input or an earlier
    region output (through views), with everything in g that uses them: those nodes, in
    order (they go just after the group). outside: the values read outside g."""
    taken = []
    while True:
        items = sorted((n for n in g.nodes if isinstance(n, _Item)), key=lambda n: n.index)
        prod = {}
        for n in items:
            for o in n.outputs:
                prod[o] = n
        root = {}
        for n in items:
            if is_view(n.step):
                src = n.step[2][0]
                for o in n.outputs:
                    root[o] = root.get(src, src)
            else:
                for o in n.outputs:
                    root[o] = o
        outs = [o for n in items for o in n.outputs if o in outside or
                any(o in t.reads for t in taken)]
        bad, seen = [], {}
        for o in outs:
            r = root[o]
            if r not in prod:
                bad.append(prod[o])         # (aliases a region input)
            elif r in seen:
                bad.append(prod[o])         # (aliases an earlier output)
            else:
                seen[r] = o
        if not bad:
            break
        # the node and what uses it in the group, transitively
        drop, frontier = set(), list(bad)
        while frontier:
            n = frontier.pop()
            if n in drop:
                continue
            drop.add(n)
            outs_n = set(n.outputs)
            for m in items:
                if m not in drop and (outs_n & set(m.reads)):
                    frontier.append(m)
        for n in sorted(drop, key=lambda n: n.index):
            taken.append(n)
        # (profiles of the dropped nodes' inputs go with them: unmerged, they vanish)
        g.nodes = [n for n in g.nodes if n not in drop and not (
            isinstance(n, _Profile) and any(n in m.inputs for m in drop))]
        g.produced = {o for n in g.nodes for o in n.outputs}
        used = set()
        for n in g.nodes:
            used.update(n.inputs)
        g.inputs = {x: None for x in g.inputs if x in used}
        outside.update(x for n in drop for x in n.reads)
    taken.sort(key=lambda n: n.index)
    return taken
