"""DifferentiableGraph regions of a scripted call that records gradients (TorchScript's
autodiff of the DifferentiableGraphs CreateAutodiffSubgraphs cuts out of the graph).

jit/autodiff_subgraphs.py cuts the recording plan's steps (each block: the graph's, If
branches', Loop bodies') as torch 2.13's slicer does: regions of >= 2 differentiable ops
(AUTODIFF_OPS, a few views, fusion groups of those ops), with what torch leaves out
(most views, sum, cat, nll_loss, ...) recording op by op between them. A region runs its
ops WITHOUT recording (no node, saved values or edges per op; a fusion group's kernel
unrecorded), keeps the values the backward walk needs, and records ONE backward node
(`DifferentiableGraphBackward`, type named `CppFunction` as torch's) whose edges are its
inputs that require grad, in the order torch's merges make them:

    forward:   y = linear(x, w1, b1); z = tanh(y); ...      op by op, no recording
    backward:  gw1, gb1, ... = backward_fn(saved values, gz) each op's registry derivative
                                                            in reverse (jit/autodiff.py's
                                                            reverse_walk), traced once per
                                                            signature into a graph that is
                                                            profiled, fused and cached

A graph that is one region whole (a scripted MLP) runs as GraphDiff.run (the plan's last
item); other regions are kind-10 steps of the plan (GraphDiff.region / run_region). A
fusion group's values inside it are computed again from its inputs at backward, as a
FusedGroupBackward does. Where the walk cannot be traced (a derivative reading data as
Python values), under create_graph (it records), inside a trace, or past BACKWARD_CACHE
signatures, the walk runs op by op on Tensors; the gradients are those eager autograd
gives. Values a derivative reads that the user can reach (the call's inputs, the module's
parameters, its outputs) are version-checked as eager's saved values are; intermediates
are private to the call.
"""
from __future__ import annotations

import threading

from .. import dtypes as _dt
from .._gc import gc_paused
from ..autograd import anomaly_mode as _anomaly
from ..autograd import grad_mode
from ..autograd.graph import FREED, Node, SavedTensor
from ..autograd.recording import edge_of
from ..frontend import tracer as _tracer
from ..ir import types as T
from ..ir.schema_match import calls_autograd
from ..runtime import script_traceback as _script_tb
from ..ops import registry as _reg
from ..tensor import Tensor
from .autodiff import (BACKWARD_CACHE, STASH, _HINT_NAME, _call, _attr_key, _may_float,
                       _reads, grad_outputs, mark_outputs, reverse_walk, trace_backward)
from . import autodiff_subgraphs as _subgraphs
from .autodiff_subgraphs import LIST_OPS, _step_reads, slice_steps

__all__ = ["GraphDiff", "graph_diff"]

_new = object.__new__

_FLOATING = _dt.FLOATING
_COMPLEX = _dt.COMPLEX
# (random ops too: a backward under create_graph computes the region again)
_BAD_TAGS = frozenset({"view", "output_per_input", "inplace_view", "returns_input",
                       "random"})

# the ops TorchScript's autodiff differentiates in a DifferentiableGraph (symbolic_script's
# formulas; as checked against torch 2.13: a scripted graph of these ops records one
# DifferentiableGraphBackward, while sum, mse_loss, the max reduction, norm,
# nll_loss, elu, minimum / maximum, atan2, logsigmoid or square stay outside regions)
AUTODIFF_OPS = frozenset("aten::" + n for n in (
    "mm addmm matmul linear mean var relu sigmoid tanh softmax log_softmax gelu layer_norm "
    "dropout pow exp log log1p div sub rsub add mul abs neg clamp sqrt rsqrt reciprocal "
    "erf sin where leaky_relu silu softplus hardtanh hardsigmoid lerp gt lt ge le eq "
    "ne"
    # (a48: more of symbolic_script's, each checked against torch 2.13 as
    # x * y -> op -> * 3 forming one DifferentiableGraphBackward)
    " addcmul cos tan atan sinh cosh asin acos erfc hardswish type_as std bmm frac log2 "
    "log10 expm1 ceil floor remainder fmod round trunc logsumexp"
    # (h48: F.relu6, TorchScript's inlined hardtanh(x, 0., 6.), threshold, hardshrink: one
    # region with x * y and * 2 in torch 2.13; softshrink is not)
    " relu6 threshold hardshrink"
    # (a49: symbolic_script's contiguous and batch_norm, autodiff's native_batch_norm;
    # the pools, embedding and dot: one region with x * y and * 2 in torch 2.13)
    " contiguous batch_norm max_pool2d avg_pool2d adaptive_avg_pool2d embedding dot mv"
    # (f52: torch.cat / torch.stack of a list built outside: cat([x * y, z]) * 3 is a
    # region of cat and mul taking the list, x * y recording MulBackward0)
    " cat stack"
    ).split())
# what a region takes that an op by op recording would not (as torch 2.13's isDifferentiable):
# aten::dropout unless its `train` is a constant False (symbolic_script's formula: the mask
# drawn in the forward, native_dropout_backward reading it); batch_norm, whose TorchScript
# schema declares no write into the running statistics it updates (gpujit's does: the
# region's forward updates them once, its create_graph recompute on copies)
_RANDOM_OK = frozenset(("aten::dropout",))
_STATS_WRITE_OK = frozenset(("aten::batch_norm",))
# ops whose result may be their input itself (torch's schemas: Tensor(a) -> Tensor(a)); as
# region outputs unmerged where they alias a region input or another output, as views
ALIAS_OPS = frozenset(("aten::contiguous", "aten::type_as"))
# views torch's slicer takes in (not in its isViewOp list; symbolic_script has formulas):
# a region output aliasing a region input or another output is unmerged, as torch's
# unfuseAliasedOutputs does (jit/autodiff_subgraphs.py)
REGION_VIEWS = frozenset(("aten::t", "aten::permute", "aten::unsqueeze", "aten::squeeze"))
# overloads only: torch.max(a, b) / torch.min(a, b) join a region, the reductions do not
# (nor torch.maximum / minimum)
AUTODIFF_OVERLOADS = frozenset(("aten::max.other", "aten::min.other"))


class _Sub:
    """The subgraph autodiff's walks read: inputs, op nodes, outputs (IR Values/Nodes)."""
    __slots__ = ("inputs", "nodes", "outputs")

    def __init__(self, inputs, nodes, outputs):
        self.inputs, self.nodes, self.outputs = inputs, nodes, outputs


def _from_type_as(node):
    """Whether node is the `aten::to` fusion lowered a scripted x.type_as(y) into (torch's
    graph keeps aten::type_as, which symbolic_script differentiates)."""
    return node.kind == "aten::to" and node.meta.get("type_as", False)


def _train_off(node):
    """Whether dropout's `train` input is the constant False (torch's isDifferentiable:
    no region for it; a non-constant `train`, a module's self.training, joins one)."""
    v = node.inputs[2] if len(node.inputs) > 2 else None
    return v is not None and v.node.kind == "prim::Constant" and \
        v.node.attrs.get("value") is False


# ops whose formula symbolic_script has for Tensors only at these input positions: given a
# number there (torch's where.ScalarOther / ScalarSelf), torch's region does not take them
# (`torch.where(x > 0, x * 2, 0.5) + 1` records op by op, nothing fused)
_TENSOR_ONLY = {"aten::where": (1, 2)}


def _plain_op(node):
    op = node.op
    base = op.name.partition(".")[0] if op is not None else None
    if op is None or calls_autograd(node) or (
            base not in AUTODIFF_OPS and base not in REGION_VIEWS and
            op.name not in AUTODIFF_OVERLOADS and not _from_type_as(node)):
        return False
    only = _TENSOR_ONLY.get(base)
    if only is not None and any(k < len(node.inputs) and
                                not isinstance(node.inputs[k].type, T.TensorType)
                                for k in only):
        return False
    d = op.derivative
    tags = op.tags - {"view"} if base in REGION_VIEWS else op.tags
    if base in _RANDOM_OK:
        if _train_off(node):
            return False
        tags = tags - {"random", "returns_input"}
    # (a comparison has no derivative and its bool result carries none: torch's regions
    # take gt / lt / ... as symbolic_script does, the walk passes over them)
    if (d is None and "comparison" not in tags) or getattr(d, "elem_needs", None) or \
            op.untracked_when is not None or \
            op.unchanged_when is not None or op.inplace_of is not None or \
            tags & _BAD_TAGS or getattr(d, "untracked_inplace", False):
        return False
    args = op.schema.arguments
    if (base not in _STATS_WRITE_OK and any(a.type.is_write for a in args)) or any(
            a.type.base == "Tensor" and a.type.is_list for a in args[base in LIST_OPS:]):
        return False
    rets = op.schema.returns
    if not rets or any(r.type.base != "Tensor" or r.type.is_list for r in rets):
        return False
    return len(node.outputs) == len(rets)


def _group_ok(step):
    """Whether a fusion group's step may join a region: its runner differentiates it
    (not run op by op) and every op inside is one a region differentiates."""
    from .autodiff import DifferentiableGroup
    run = step[1]
    if type(run) is not DifferentiableGroup:
        return False
    sub, node = run.sub, step[5]
    outs = list(sub.outputs)
    if len(set(outs)) != len(outs) or any(v in sub.inputs for v in outs) or \
            len(node.outputs) != len(outs) or len(node.inputs) != len(sub.inputs):
        return False
    for n in sub.nodes:
        if n.kind in ("prim::Constant", "prim::ConstantChunk", "prim::FusedConcat"):
            continue
        if not _plain_op(n):
            return False
    return True


def _mergeable(step):
    """How many ops a step brings into a region (torch counts the ops a fusion group
    holds), 0 for a step that may not join one."""
    if step[0] == 1:
        return 1 if _plain_op(step[5]) else 0
    if step[0] == 0 and _group_ok(step):
        return sum(1 for n in step[1].sub.nodes if n.kind != "prim::Constant")
    return 0


def _is_view(step):
    if step[0] != 1:
        return False
    base = step[1].name.partition(".")[0]
    return base in REGION_VIEWS or base in ALIAS_OPS or (
        step[5] is not None and _from_type_as(step[5]))


def graph_diff(graph, plan, ran=None, expand=True):
    """What a call that records gradients of `graph` runs through its recording plan
    `plan` (executor._recording_plan's): (None, GraphDiff) when the whole graph is one
    straight-line differentiable region; (steps, None) when TorchScript's slicer
    (jit/autodiff_subgraphs.py) cuts some of its blocks into regions, steps being the
    plan's with each region one step (kind 10: its GraphDiff); (None, None) otherwise;
    then (slots in all, constants) where fusion groups were expanded into their ops
    (_expand_groups; the plan's `direct` group is then no more), else None. ran: the
    blocks the profiling runs entered (their If branches and Loop bodies alone form
    regions), None for all."""
    _, n_slots, reads, consts, steps, outputs, direct = plan[:7]
    if not steps:
        return None, None, None
    # (TorchScript slices before it fuses: a fusion group holding ops its autodiff leaves
    # out of regions runs as its ops, each recording or joining a region on its own)
    grown, orig = [n_slots, list(consts)], plan
    if expand:
        steps = _expand_groups(steps, grown)
    extra = None
    if direct is not None and grown[0] == n_slots:
        _direct_region(direct, steps, {s for s, _ in consts}, outputs)
        return None, None, None
    if grown[0] != n_slots or len(grown[1]) != len(consts):
        extra = (grown[0], tuple(grown[1]))
        n_slots, consts = extra
        plan = plan[:1] + (n_slots,) + plan[2:3] + (consts, steps) + plan[5:]
    const_slots = {s for s, _ in consts}
    out_slots = [s for s, v in zip(outputs, graph.outputs) if isinstance(v.type, T.TensorType)]
    top, regions = slice_steps(steps, const_slots, out_slots, _mergeable, _is_view)
    n_ops = sum(1 for st in steps if st[0] == 1)
    if len(regions) == 1 and len(regions[0][0]) == n_ops:
        whole = _whole_graph(graph, plan, regions[0][1]) if extra is None else None
        if whole is not None:
            return None, whole, None
    try:
        new, any_region = _with_regions(steps, const_slots, out_slots, outputs, ran,
                                        _list_slots(steps))
    finally:
        _subgraphs._MEMO.clear()
    if extra is not None and _sums_reordered(new):
        # (the regions would sum a value's gradients in another order than eager's
        # engine: the groups kept, their backward eager's bit for bit)
        return graph_diff(graph, orig, ran, False)
    return (new if any_region or extra is not None else None), None, extra


def _direct_region(run, steps, const_slots, out_slots):
    """A plan's one group taking the graph's inputs (its runner `run` called on them,
    executor._recording_plan's `direct`): where it is one region for torch's slicer, the
    order its node's edges take (run.order) and the region's input slots (run.region_slots:
    graph_for shows it as a prim::DifferentiableGraph)."""
    if type(run).__name__ != "DifferentiableGroup" or not _group_ok(steps[0]):
        return
    try:
        _, regions = slice_steps(steps, const_slots, out_slots, _mergeable, _is_view)
    finally:
        _subgraphs._MEMO.clear()
    if len(regions) != 1:
        return
    n = len(steps[0][2])
    ins = [s for s in regions[0][1] if s < n]
    order = tuple(ins + [i for i in range(n) if i not in ins])
    run.order = order if order != tuple(range(n)) else None
    run.region_slots = tuple(ins)


def _list_slots(steps, out=None):
    """list slot -> its element slots, for the prim::ListConstruct steps (kind 3) of
    Tensors in steps (their If branches and Loop bodies too)."""
    if out is None:
        out = {}
    for st in steps:
        kind = st[0]
        if kind == 3 and st[5] is not None and st[5].outputs and \
                _subgraphs.fixed_list(st[5].outputs[0]):
            out[st[3][0]] = tuple(st[2])
        elif kind == 4:
            for bsteps, _ in st[4]:
                _list_slots(bsteps, out)
        elif kind == 5:
            _list_slots(st[4][0], out)
    return out


def _sums_reordered(steps):
    """Whether a region of steps reads a value that 3 or more ops read, some outside the
    region: the region's one node adds the gradients of its uses before the engine adds
    the others, so their sum is rounded in another order than eager's."""
    uses, regions = {}, []

    def count(steps):
        for st in steps:
            kind = st[0]
            if kind == 10:
                regions.append(st)
                count(st[1].steps)
            elif kind == 4:
                for bsteps, _ in st[4]:
                    count(bsteps)
            elif kind == 5:
                count(st[4][0])
            elif kind in (0, 1):    # (what records: not x.size(0), lists, ...)
                for i in st[2]:
                    uses[i] = uses.get(i, 0) + 1
    count(steps)
    for st in regions:
        inside = {}
        for r in st[1].steps:
            for i in r[2]:
                inside[i] = inside.get(i, 0) + 1
        for i in st[2]:
            if uses.get(i, 0) >= 3 and uses[i] > inside.get(i, 0):
                return True
    return False


def _expand_groups(steps, grown):
    """steps with each fusion group that holds an op a region may not take (masked_fill,
    logical_not, elu, square, ...) replaced by its subgraph's ops as registry-op steps
    (recursively in If branches and Loop bodies), as TorchScript's slicer sees them: it
    cuts regions before the fuser runs, and ops outside regions run unfused, each
    recording its own node. grown: [slots in all, constants' (slot, value)], extended
    with the slots of the values inside the groups expanded. Values are the fused
    kernel's bit for bit (fused == eager)."""
    out = None
    for k, st in enumerate(steps):
        kind = st[0]
        new = st
        if kind == 0:
            ops = _group_ops(st, grown)
            if ops is not None:
                new = ops
        elif kind == 4:
            branches = tuple((_expand_groups(bsteps, grown), bouts)
                             for bsteps, bouts in st[4])
            if any(b[0] is not o[0] for b, o in zip(branches, st[4])):
                new = st[:4] + (branches,) + st[5:]
        elif kind == 5:
            bsteps, bins, bouts = st[4]
            b = _expand_groups(bsteps, grown)
            if b is not bsteps:
                new = st[:4] + ((b, bins, bouts),) + st[5:]
        if new is not st and out is None:
            out = list(steps[:k])
        if out is not None:
            if type(new) is list:
                out.extend(new)
            else:
                out.append(new)
    return steps if out is None else tuple(out)


def _group_ops(step, grown):
    """A fusion group's step as its subgraph's op steps (a list), or None where it stays
    a group: every op in it may join a region, it runs op by op already, is under
    strict_fusion, or holds what is not a registry op."""
    from .autodiff import DifferentiableGroup
    from ..runtime.executor import _untracked
    run, node = step[1], step[5]
    if type(run) is not DifferentiableGroup or _group_ok(step) or \
            getattr(run.group, "strict", False):
        return None
    sub = run.sub
    outs = list(sub.outputs)
    if len(set(outs)) != len(outs) or any(v in sub.inputs for v in outs) or \
            len(node.outputs) != len(outs) or len(sub.inputs) != len(step[2]):
        return None
    slot = dict(zip(sub.inputs, step[2]))
    slot.update(zip(outs, step[3]))
    n_slots, consts = grown[0], []
    ops = []
    for n in sub.nodes:
        if n.kind == "prim::Constant":
            slot[n.output] = n_slots
            consts.append((n_slots, n.attrs.get("value")))
            n_slots += 1
            continue
        op = n.op
        if op is None or n.blocks or calls_autograd(n) or \
                any(v not in slot for v in n.inputs):
            return None
        ins = tuple(slot[v] for v in n.inputs)
        o = []
        for v in n.outputs:
            if v not in slot:
                slot[v] = n_slots
                n_slots += 1
            o.append(slot[v])
        rets = op.schema.returns
        m = len(n.outputs)
        unpack = (0 if m == 0 else 4 if m > 1 else 2 if len(rets) > 1 else
                  3 if rets[0].type.is_list else 1)
        defaults = tuple(p.default for p in op.schema.arguments[len(ins):])
        ops.append((8 if _untracked(op) else 1, op, ins, tuple(o), (defaults, unpack), n))
    if any(v not in slot for v in outs):
        return None
    grown[0] = n_slots
    grown[1].extend(consts)
    return ops


def _with_regions(steps, const_slots, out_slots, block_outs, ran=None, lists=None):
    """steps with TorchScript's regions as kind-10 steps (recursively in If branches and
    Loop bodies); whether any region formed. ran: the blocks the profiling runs entered
    (None: all): torch's profiled graph has no requires_grad for the values of a block
    that did not run, so its slicer leaves that block's ops op by op (the If branch not
    taken while profiling records TanhBackward0, MulBackward1, ... on every later call)."""
    any_region = False
    nested = []
    for st in steps:
        kind = st[0]
        if kind == 4:
            branches = []
            blocks = st[5].blocks if st[5] is not None else ()
            for k, (bsteps, bouts) in enumerate(st[4]):
                if ran is not None and k < len(blocks) and blocks[k] not in ran:
                    branches.append((bsteps, bouts))
                    continue
                b, r = _with_regions(bsteps, const_slots, bouts, bouts, ran, lists)
                any_region |= r
                branches.append((tuple(b), bouts))
            st = st[:4] + (tuple(branches),) + st[5:]
        elif kind == 5 and (ran is None or st[5] is None or st[5].blocks[0] in ran):
            bsteps, bins, bouts = st[4]
            b, r = _with_regions(bsteps, const_slots, bouts[1:], bouts, ran, lists)
            any_region |= r
            st = st[:4] + ((tuple(b), bins, bouts),) + st[5:]
        nested.append(st)
    if sum(_mergeable(st) for st in nested if st[0] in (0, 1)) < 2:
        return nested, any_region       # (no region can form: fewer than 2 ops may join)
    top, regions = slice_steps(nested, const_slots, out_slots, _mergeable, _is_view)
    if not regions:
        return nested, any_region
    # a region's outputs: what anything after it (or the block's return) reads
    outer = []
    for u in top:
        if type(u) is tuple and len(u) == 2:
            outer.append(u)
        else:
            outer.append(None)
    reads_after = [set() for _ in top]
    acc = set(block_outs)
    for k in range(len(top) - 1, -1, -1):
        reads_after[k] = set(acc)
        u = top[k]
        if type(u) is tuple and len(u) == 2:
            for st in u[0]:
                acc |= _step_reads(st)
        else:
            acc |= _step_reads(u)
    out = []
    for k, u in enumerate(top):
        if type(u) is tuple and len(u) == 2:
            rsteps, ins = u
            outs = [s for st in rsteps for s in st[3] if s in reads_after[k]]
            # (a list a cat / stack reads: its elements are the region's inputs there)
            flat, step_ins = [], list(ins)
            for s in ins:
                for e in (lists.get(s, (s,)) if lists else (s,)):
                    if e not in flat:
                        flat.append(e)
                    if e not in step_ins:
                        step_ins.append(e)
            region = GraphDiff.region(rsteps, flat, outs, lists)
            if lists and any(s in lists for s in ins):
                idx = {s: i for i, s in enumerate(region.in_slots)}
                region.layout = tuple(
                    (idx[e], s in lists) for s in ins
                    for e in (lists[s] if s in lists else (s,)) if e in idx)
            out.append((10, region, tuple(step_ins), tuple(outs), None, None))
        else:
            out.append(u)
    return out, True


def _whole_graph(graph, plan, order):
    """The whole-graph GraphDiff, its inputs in TorchScript's order (`order`: slots in
    the slicer's merge order), or None."""
    _, n_slots, reads, consts, steps, outputs, direct = plan[:7]
    slot_of = {}
    ins = list(graph.inputs)
    for i, v in enumerate(ins):
        slot_of[v] = i
    nodes = [n for n in graph.nodes if n.kind not in ("prim::Constant", "prim::GetAttr")]
    if len(nodes) != len(steps) or sum(1 for st in steps if st[0] == 1) < 2:
        return None         # (one op: its own node, as TorchScript's autodiff leaves it)
    # slots of every Value, as _recording_plan numbered them
    k = len(ins)
    for n in graph.nodes:
        for o in n.outputs:
            slot_of[o] = k
            k += 1
    if k != n_slots:
        return None
    produced, op_nodes, tuple_out = set(), [], None
    for n, step in zip(nodes, steps):
        kind = step[0]
        if kind == 1:
            if not _plain_op(n):
                return None
            op_nodes.append(n)
            produced.update(n.outputs)
        elif kind == 2 and n.outputs[0] in graph.outputs and tuple_out is None:
            tuple_out = n
        else:
            return None
    # outputs: Tensors produced by the ops (the sole output, or the elements of the
    # tuple built for it)
    if len(graph.outputs) != 1:
        return None
    out_v = graph.outputs[0]
    if tuple_out is not None:
        if out_v is not tuple_out.outputs[0]:
            return None
        out_vals = list(tuple_out.inputs)
    else:
        out_vals = [out_v]
    if not all(v in produced and isinstance(v.type, T.TensorType) for v in out_vals):
        return None
    used = set()
    for n in op_nodes:
        used.update(n.inputs)
    if tuple_out is not None and any(v in used for v in tuple_out.outputs):
        return None
    # the region's inputs: the graph's Tensor inputs and the Tensor attributes read, in
    # the order TorchScript's slicer merged them
    attr_vals = {}
    for n in graph.nodes:
        if n.kind == "prim::GetAttr":
            attr_vals[n.output] = n
    region_in = [v for v in ins if v in used and isinstance(v.type, T.TensorType)] + \
        [v for v in attr_vals if v in used and isinstance(v.type, T.TensorType)]
    rank = {s: i for i, s in enumerate(order)}
    region_in.sort(key=lambda v: rank.get(slot_of[v], len(rank)))
    # an op reading a value that is neither produced here, an input, an attribute nor a
    # constant (or a non-Tensor input / attribute it reads): the key covers those
    consts_v = {n.output for n in graph.nodes if n.kind == "prim::Constant"}
    region_set = set(region_in)
    others = []
    for v in used:
        if v in produced or v in region_set or v in consts_v:
            continue
        if v in attr_vals:
            return None         # (a non-Tensor attribute read by an op: not keyed)
        others.append(v)
    uniq_out = []
    for v in out_vals:
        if v not in uniq_out:
            uniq_out.append(v)
    whole = GraphDiff(_Sub(region_in, op_nodes, uniq_out), slot_of, out_vals,
                      tuple_out is not None, others)
    whole._find_views()
    return whole


class _Pattern:
    """What a call with one pattern of inputs needing grad saves and marks."""
    __slots__ = ("reads", "requiring", "saving", "reach", "req", "keep", "order", "fill",
                 "read")

    def __init__(self, sub, needs, inner=None):
        producer, read = _reads(sub, needs)
        # (a view read: what it views is read too -- eager's saved view shares the version
        # counter of its base: a write into a region input seen through w.t() is an error)
        stack = list(read)
        while stack:
            n = producer.get(stack.pop())
            if n is not None and n.op is not None and \
                    n.op.name.partition(".")[0] in REGION_VIEWS and n.inputs[0] not in read:
                read.add(n.inputs[0])
                stack.append(n.inputs[0])
        self.reads = tuple(v in read for v in sub.inputs)
        self.read = read        # (the values the derivatives read)
        self.requiring = grad_outputs(sub, needs)
        self.saving = tuple(i for i, o in enumerate(sub.outputs) if o in read)
        self.reach = tuple(grad_outputs(sub, tuple(k == i for k in range(len(needs))))
                           if nd else () for i, nd in enumerate(needs))
        req = {v for v, nd in zip(sub.inputs, needs) if nd}
        for n in sub.nodes:
            if any(v in req for v in n.inputs):
                nd = n.op.nondiff_outputs if n.op is not None else ()
                req.update(o for i, o in enumerate(n.outputs)
                           if i not in nd and _may_float(o))
        self.req = req
        # the values the backward walk reads: the inputs and outputs of the nodes a
        # gradient flows through
        keep = set()
        for n in sub.nodes:
            if any(v in req for v in n.inputs):
                keep.update(n.inputs)
                keep.update(n.outputs)
        # a fusion group's values inside it (GraphDiff.region): computed again from the
        # group's inputs at backward (as a FusedGroupBackward does), which are kept and,
        # where read, version-checked
        self.fill = ()
        if inner:
            fill = []
            for v in list(keep):
                g = inner.get(v)
                if g is not None:
                    keep.discard(v)
                    if g not in fill:
                        fill.append(g)
            for g in fill:
                keep.update(g[0])
            self.fill = tuple(fill)
            ins = {v for g in fill for v in g[0]}
            self.reads = tuple(r or v in ins for r, v in zip(self.reads, sub.inputs))
        self.keep = keep
        self.order = None       # keep in slot order (GraphDiff.backward)


class GraphDiff:
    """The whole-graph differentiable region of one specialization's recording plan."""

    def __init__(self, sub, slot_of, out_vals, as_tuple, others):
        self.sub = sub
        self.slot_of = slot_of
        self.in_slots = tuple(slot_of[v] for v in sub.inputs)
        self.out_vals = out_vals
        self.out_slots = tuple(slot_of[v] for v in sub.outputs)
        self.as_tuple = as_tuple
        self.other_slots = tuple(slot_of[v] for v in others)
        self.patterns: dict = {}
        self.backwards: dict = {}
        self._lock = threading.Lock()
        self.traced = 0
        self.name = "graph backward"
        self.steps = None       # (a region's: its op steps, GraphDiff.region)
        self.list_inputs = {}   # (a region's: list element Value -> the list Value)
        # (a region's with Tensor[] inputs: its node's edges, as torch's flattened: per
        # edge (index in in_slots, whether listed even when it needs no grad))
        self.layout = None
        self.view_outs = ()     # (a region's outputs viewing a value inside it)
        self.view_root = {}
        self.inner = None       # (a region's groups: Value inside -> (inputs, nodes, consts))
        self.groups = ()        # (a region's groups: (input slots, profiled dtypes))
        # (the outputs of its dropouts: the mask each drew is kept with the backward's
        # values under (STASH, output), an input of a traced backward, not a constant)
        self.stash_outs = tuple(n.outputs[0] for n in sub.nodes
                                if n.op is not None and "random" in n.op.tags)

    @classmethod
    def region(cls, steps, in_slots, out_slots, lists=None):
        """A DifferentiableGraph region of a plan: its op steps (in order), the slots it
        reads in TorchScript's merge order, the slots read after it. lists: list slot ->
        element slots of the prim::ListConstruct lists its cat / stack read (made outside
        it): in_slots holds the elements in the list's place, each one an edge, as torch's
        DifferentiableGraphBackward flattens a Tensor[] input."""
        slot_of, val_of = {}, {}
        nodes, inner, groups = [], {}, []
        list_inputs = {}
        for st in steps:
            node = st[5]
            if st[0] == 1 and lists and node is not None and node.kind in LIST_OPS and \
                    st[2] and st[2][0] in lists:
                # (the cat / stack seen as one node of the elements: walks and traces
                # differentiate it as a fusion group's prim::FusedConcat)
                build = node.inputs[0].node
                for v, s in zip(build.inputs, lists[st[2][0]]):
                    slot_of[v] = s
                    val_of[s] = v
                    list_inputs[v] = node.inputs[0]
                view = _ListOpView(node, list(build.inputs))
                nodes.append(view)
                for v, s in zip(node.outputs, st[3]):
                    slot_of[v] = s
                    val_of[s] = v
                continue
            if st[0] == 0:
                # (a fusion group: its subgraph's nodes, seen with the group node's
                # inputs and outputs; the values inside recomputed at backward)
                run = st[1]
                sub = run.sub
                # (the Values already standing for its slots: an op expanded before it,
                # _expand_groups, holds its subgraph's)
                g_ins = [val_of.get(s, v) for v, s in zip(node.inputs, st[2])]
                g_outs = [val_of.get(s, v) for v, s in zip(node.outputs, st[3])]
                vmap = dict(zip(sub.inputs, g_ins))
                vmap.update(zip(sub.outputs, g_outs))
                views, consts = [], []
                for n in sub.nodes:
                    if n.kind == "prim::Constant":
                        consts.append((n.output, n.attrs.get("value")))
                    else:
                        views.append(_NodeView(n, vmap))
                g = (tuple(g_ins), tuple(views), tuple(consts))
                for n in sub.nodes:
                    for o in n.outputs:
                        if o not in vmap:
                            inner[o] = g
                nodes.extend(views)
                groups.append((st[2], run.in_dtypes))
                for v, s in zip(node.inputs, st[2]):
                    slot_of[v] = s
                node = _NodeView(node, dict(zip(node.inputs, g_ins)) | dict(
                    zip(node.outputs, g_outs)))
            else:
                # (a fusion group's op expanded into the plan, _expand_groups: its Values
                # the subgraph's, seen as the ones already standing for the same slots)
                if any(val_of.get(s, v) is not v for v, s in zip(node.inputs, st[2])):
                    node = _NodeView(node, {v: val_of[s] for v, s in zip(node.inputs, st[2])
                                            if s in val_of})
                nodes.append(node)
            for v, s in zip(node.inputs, st[2]):
                slot_of[v] = s
                val_of[s] = v
            for v, s in zip(node.outputs, st[3]):
                slot_of[v] = s
                val_of[s] = v
        ins = [val_of[s] for s in in_slots if isinstance(val_of[s].type, T.TensorType)]
        others = [val_of[s] for s in in_slots if not isinstance(val_of[s].type, T.TensorType)]
        outs = [val_of[s] for s in out_slots]
        self = cls(_Sub(ins, nodes, outs), slot_of, outs, False, others)
        self.steps = tuple(steps)
        self.list_inputs = list_inputs
        self.inner = inner or None
        self.groups = tuple(groups)
        self._find_views()
        return self

    def _find_views(self):
        """The outputs that are views (t / permute / ...) of a value inside the region:
        what they view, for the writes into them (GraphDiff._record)."""
        root = {}
        for n in self.sub.nodes:
            op = n.op
            if op is not None and (op.name.partition(".")[0] in REGION_VIEWS or
                                   op.name.partition(".")[0] in ALIAS_OPS or
                                   _from_type_as(n)):
                root[n.outputs[0]] = root.get(n.inputs[0], n.inputs[0])
        self.view_root = root
        self.view_outs = tuple((i, root[o]) for i, o in enumerate(self.sub.outputs)
                               if o in root)

    def run_region(self, env):
        """Run a region's ops on env (a list of slots) without recording and record its
        one node; op by op, recording, where the call may not run as regions."""
        if not self.usable() or (self.groups and not self._profiled_types(env)) or \
                self._complex_grad(env):
            from ..runtime.executor import _run_steps
            _run_steps(self.steps, env)
            return
        state = grad_mode.state
        prev = state.enabled, state.inference
        state.enabled = False
        try:
            _forward(self.steps, env)
        finally:
            state.enabled, state.inference = prev
        self._record(env)

    def usable(self):
        """Whether this call may run as one region: recording, no trace, profiler,
        autocast, anomaly mode or saved-tensor hooks (those see each op)."""
        st = _reg.dispatch_state
        gs = grad_mode.state
        return (gs.enabled and not gs.inference and not gs.saved_hooks and
                st.autograd is not None and st.hook is st.autograd and
                st.tracing is None and not _anomaly.state.enabled and
                _tracer._Active.session is None)

    def _profiled_types(self, env):
        """Whether the region's fusion groups get Tensors of their profiled dtypes (else
        the groups' plans would misjudge which values may be floating: op by op)."""
        for ins, dts in self.groups:
            for i, d in zip(ins, dts):
                if d is not None:
                    a = env[i]
                    if isinstance(a, Tensor) and a._dtype != d:
                        return False
        return True

    def _complex_grad(self, env):
        """Whether a complex input requires grad (the walk's requirement sets and edges
        are the floating ones': such a call records op by op, as eager)."""
        for i in self.in_slots:
            a = env[i]
            if isinstance(a, Tensor) and a._dtype.category == _COMPLEX and \
                    edge_of(a) is not None:
                return True
        return False

    def run(self, env, steps, outputs):
        """Run the ops (no recording) on env, then record the one node. The call's result."""
        if self._complex_grad(env):
            from ..runtime.executor import _run_steps
            _run_steps(steps, env)
            return env[outputs[0]] if len(outputs) == 1 else \
                tuple([env[i] for i in outputs])
        state = grad_mode.state
        prev = state.enabled, state.inference
        state.enabled = False
        try:
            _forward(steps, env)
        finally:
            state.enabled, state.inference = prev
        if self._record(env) is False:
            return None
        return env[outputs[0]] if len(outputs) == 1 else tuple([env[i] for i in outputs])

    def _record(self, env):
        """Record the node of a region run on env; False where an input is no Tensor."""
        args = [env[i] for i in self.in_slots]
        edges = []
        for a in args:
            if type(a) is not Tensor and not isinstance(a, Tensor):
                return False
            edges.append(edge_of(a) if a._dtype.category == _FLOATING else None)
        needs = tuple([e is not None for e in edges])
        if True not in needs:
            return True
        pat = self.patterns.get(needs)
        if pat is None:
            pat = self.patterns[needs] = _Pattern(self.sub, needs, self.inner)
        results = [env[i] for i in self.out_slots]
        node = GraphBackward(self, env, args, edges, results, needs, pat)
        refs = mark_outputs(node, results)
        if pat.saving:
            node.out_saved = [SavedTensor(results[i], _HINT_NAME, i).as_output(
                node, i, refs[i]) for i in pat.saving if refs[i] is not None]
        if self.view_outs:
            # (an output viewing a value inside the region: as torch, a write into it
            # records, and fails the backward only when the backward reads that value --
            # the view and what it views share one version counter, checked at apply)
            roots = {self.view_root.get(v, v) for v in pat.read}
            checks = []
            for i, rv in self.view_outs:
                results[i]._detached = True
                if rv in roots:
                    t = env[self.slot_of[rv]]
                    checks.append((t, t._vc[0]))
            node.view_checks = checks
        return True

    # ------------------------------------------------------------------ backward
    def walk(self, env, grads, needs, pat):
        """The region inputs' gradients (None where none) by each op's derivative in
        reverse, through public ops (a trace records them; under create_graph autograd)."""
        if pat.fill:
            env = _fill(env, pat.fill)
        return reverse_walk(self.sub, env, grads, needs, pat.req)

    def recompute(self, env, pat):
        """env with the values computed from inputs that need a gradient computed again
        through the public ops, recording (create_graph: the derivatives' formulas read
        values with their history, as eager's saved values under create_graph)."""
        env = _fill(env, pat.fill) if pat.fill else dict(env)
        req = pat.req
        for n in self.sub.nodes:
            if any(v in req for v in n.inputs):
                _eval(n, env, True)
        return env

    def backward(self, env, grads, needs, pat):
        if grad_mode.state.enabled:
            return self.walk(self.recompute(env, pat), grads, needs, pat)
        if _tracer._Active.session is not None:
            return self.walk(env, grads, needs, pat)
        keep = pat.order
        if keep is None:
            keep = pat.order = tuple(sorted(pat.keep, key=lambda v: self.slot_of[v])) + \
                tuple((STASH, o) for o in self.stash_outs if o in pat.keep)
        tensors, key = [], []
        for v in keep:
            x = env[v]
            if isinstance(x, Tensor):
                tensors.append(v)
                key.append((x._data.shape, x._dtype, x._device))
            else:
                a = _attr_key(x)
                key.append(a if a is not None else (type(x), id(x)))
        key.append(tuple([g is not None for g in grads]))
        key.append(needs)
        key.append(_dt._default_float)
        key = tuple(key)
        bw = self.backwards.get(key)
        if bw is None:
            with self._lock:
                bw = self.backwards.get(key)
                if bw is None:
                    if len(self.backwards) >= BACKWARD_CACHE:
                        return self.walk(env, grads, needs, pat)
                    with gc_paused():
                        bw, result = self._trace(env, tensors, grads, needs, pat)
                    self.backwards[key] = bw
                    return result
        if bw is False:
            return self.walk(env, grads, needs, pat)
        return bw.run([env[v] for v in tensors] + [g for g in grads if g is not None])

    def _trace(self, env, tensors, grads, needs, pat):
        def walk(ts, gs):
            e = dict(env)
            for v, t in zip(tensors, ts):
                e[v] = t
            return self.walk(e, gs, needs, pat)

        bw, result = trace_backward(walk, [env[v] for v in tensors], grads, "graph_backward")
        if bw:
            self.traced += 1
        return bw, result


class _NodeView:
    """A node of a fusion group's subgraph as a region's walks see it: the subgraph's
    inputs and outputs replaced by the group node's."""
    __slots__ = ("kind", "op", "inputs", "outputs", "attrs", "meta")

    def __init__(self, n, vmap):
        self.kind, self.op, self.attrs, self.meta = n.kind, n.op, n.attrs, n.meta
        self.inputs = [vmap.get(v, v) for v in n.inputs]
        self.outputs = [vmap.get(v, v) for v in n.outputs]


class _ListOpView:
    """A region's aten::cat / aten::stack of a list made outside it, as its walks see it:
    a prim::FusedConcat of the list's elements (attrs: dim, and stack for a stack)."""
    __slots__ = ("kind", "op", "inputs", "outputs", "attrs", "meta")

    def __init__(self, n, elements):
        self.kind, self.op, self.meta = "prim::FusedConcat", None, n.meta
        dim = n.inputs[1].node.attrs.get("value") if len(n.inputs) > 1 else 0
        self.attrs = {"dim": dim, "stack": n.kind == "aten::stack"}
        self.inputs = elements
        self.outputs = list(n.outputs)


def _eval(n, env, again=False):
    """Compute node n's outputs into env through the public ops (a trace records them;
    under grad mode autograd does). again: the forward ran it already (a region's
    create_graph recompute): dropout applies the mask it drew then (the same values, no
    new draw), batch_norm updates copies of the running statistics (updated once)."""
    k = n.kind
    if k == "prim::ConstantChunk":
        r = env[n.inputs[0]].chunk(n.attrs["chunks"], n.attrs["dim"])
    elif k == "prim::FusedConcat":
        import gpujit
        r = (gpujit.stack if n.attrs.get("stack") else gpujit.cat)(
            [env[v] for v in n.inputs], n.attrs["dim"])
    else:
        op = n.op
        args = [env[v] for v in n.inputs]
        args += [p.default for p in op.schema.arguments[len(args):]]
        if again and op.name.partition(".")[0] in _RANDOM_OK:
            o = n.outputs[0]
            stash = env.get((STASH, o))
            r = op.derivative.fn(args[0], stash=stash, p=args[1], train=args[2])
            env[o] = r
            return
        if again and op.name.partition(".")[0] in _STATS_WRITE_OK:
            args = [a.clone() if s.type.is_write and isinstance(a, Tensor) else a
                    for a, s in zip(args, op.schema.arguments)]
        r = _call(op, args)
    for v, x in zip(n.outputs, tuple(r) if len(n.outputs) > 1 else (r,)):
        env[v] = x


def _fill(env, groups):
    """env with the values of the fusion groups `groups` computed again from their inputs
    (their outputs too: the same values, as the fused kernel's are eager's bit for bit; a
    traced backward then fuses as a FusedGroupBackward's, which recomputes them all)."""
    env = dict(env)
    for _, views, consts in groups:
        for v, c in consts:
            env[v] = c
        for n in views:
            _eval(n, env)
    return env


def _forward(steps, env):
    """The ops of a region (and the tuple of a whole graph's result) on env, unrecorded."""
    for kind, f, ins, outs, extra, node in steps:
        if kind == 1:
            a = [env[i] for i in ins]
            defaults, unpack = extra
            if defaults:
                a += defaults
            r = f.eager(*a)
            if unpack == 1:
                if a and r is a[0]:
                    # (dropout when not training, contiguous, type_as: the input itself --
                    # as a region output, an alias that the region's node may mark)
                    t = _new(Tensor)
                    t._data, t._dtype, t._device = r._data, r._dtype, r._device
                    t._vc, t._ag, t._base = r._vc, None, None
                    r = t
                env[outs[0]] = r
            else:
                for i, x in zip(outs, r):
                    env[i] = x
        elif kind == 0:     # (a fusion group's kernel: grad mode is off)
            for i, r in zip(outs, f([env[i] for i in ins])):
                env[i] = r
        else:       # (the tuple returned; a NamedTuple's class builds it)
            env[outs[0]] = tuple([env[i] for i in ins]) if f is None else \
                f(*[env[i] for i in ins])


class GraphBackward(Node):
    """The one backward node of a scripted call run as one region (torch's
    DifferentiableGraphBackward: `type(grad_fn).__name__` is "CppFunction")."""

    materialize_grads = False
    out_saved = ()
    view_checks = ()
    order = None        # (a region with Tensor[] inputs: per edge, the input it is, or -1)

    def __init__(self, region, env, args, edges, results, needs, pat):
        super().__init__()
        self.region = region
        self.needs = needs
        self.pat = pat
        slot_of = region.slot_of
        # the values the backward reads, by IR Value (the private intermediates as they
        # are; the inputs' versions checked at apply as SavedTensors would)
        self.env = e = {v: env[slot_of[v]] for v in pat.keep}
        # the outputs kept without their grad_fn (an alias over the same memory and
        # version counter): output -> node -> output would be a cycle only the gc frees
        ids = {id(a) for a in args}
        for v in region.sub.outputs:
            if v in e:
                r = e[v]
                if isinstance(r, Tensor) and id(r) not in ids:
                    t = _new(Tensor)
                    t._data, t._dtype, t._device = r._data, r._dtype, r._device
                    t._vc, t._ag, t._base = r._vc, None, None
                    e[v] = t
        for v in region.stash_outs:
            if v in e:
                st = _reg.stashed(e[v]._data)
                e[(STASH, v)] = None if st is None else _reg.wrap(st, _dt.bool, e[v].device)
        self.args = args
        self.versions = [a._vc[0] if r else None for a, r in zip(args, pat.reads)]
        layout = region.layout
        if layout is None:
            # (edges of the inputs that require grad only, as torch's node lists them)
            self.next_functions = tuple([e for e in edges if e is not None])
        else:
            # (a Tensor[] input: one edge per element, None where it needs no grad, an
            # element listed twice twice -- its gradient given once, at the first)
            nf, order, seen = [], [], set()
            for k, whole in layout:
                e = edges[k]
                if e is None:
                    if whole:
                        nf.append((None, 0))
                        order.append(-1)
                    continue
                nf.append(e)
                order.append(-1 if k in seen else k)
                seen.add(k)
            self.next_functions = tuple(nf)
            self.order = order
        self.out_meta = tuple([(r._data.shape, r._dtype, r._device)
                               if rq and r._dtype.category == _FLOATING and id(r) not in ids
                               else None for r, rq in zip(results, pat.requiring)])

    def name(self):
        return "torch::jit::(anonymous namespace)::DifferentiableGraphBackward"

    def release(self):
        self.released = True
        self.env = None
        self.args = None
        self.out_saved = ()
        self.view_checks = ()

    def apply(self, grads):
        if self.released:
            raise RuntimeError(FREED)
        for o in self.out_saved:
            o.unpack()
        for t, v in zip(self.args, self.versions):
            if v is not None and t._vc[0] != v:
                s = SavedTensor(t, _HINT_NAME, 0)
                s.version = v
                s._modified(t)
        for t, v in self.view_checks:
            if t._vc[0] != v:
                s = SavedTensor(t, _HINT_NAME, 0)
                s.version = v
                s._modified(t)
        gs = [g if m is not None else None for g, m in zip(grads, self.out_meta)]
        result = self.region.backward(self.env, gs, self.needs, self.pat)
        needs = self.needs
        for g in gs:
            if g is None:
                reach = self.pat.reach
                result = [None if r is not None and not any(
                    gs[j] is not None for j, on in enumerate(reach[i]) if on) else r
                    for i, r in enumerate(result)]
                break
        order = self.order
        if order is not None:
            return [None if k < 0 else result[k] for k in order]
        return [r for r, nd in zip(result, needs) if nd]


GraphBackward.__name__ = GraphBackward.__qualname__ = "CppFunction"


_script_tb.register_node_loop(_forward.__code__)
