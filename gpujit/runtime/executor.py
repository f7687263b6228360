"""The executor: an optimized graph run as generated Python code, one specialization per
input type key.

    exe = Executable(graph, "forward")
    exe(x, y)                  # first call with these types: profile (interpreter) + compile
    exe(x, y)                  # later calls: guard -> generated function
    exe.graph_for(x, y)        # the optimized graph with the profiled types
    exe.code_for(x, y)         # the generated source

A call goes through a generated dispatcher whose guards compare each tensor input's
(dtype, device, ndim), each Python input's type and the default float dtype with those of
the specializations made so far, and calls the matching generated function. A new key
costs one interpreter run, whose result is returned and whose profile the new
specialization's code is generated from. After `max_specializations` compilations, new keys
run in the interpreter (same answers, eager speed; a FusionWarning says so once, and
inside strict_fusion such a call raises). A specialization whose code meets a path the
profile never saw keeps running it generically and asks for a new profile on the next call
with its key (the profiles merge; its fusion groups are typed as the latest run saw their
values, fusion._type_as_last_run, so code after the new path stays fused); the code after
an untaken If branch is made for the types the taken branches gave, and
the untaken branch, when it runs, checks its outputs against them at its end and finishes
the call op by op if they differ (assume.py, resume.py); what the key itself fixes (an
Optional input's None-ness, a tensor input's rank) is folded first (key_facts.py); module
attributes whose type changed (model.double()) make the call leave the generated code
before anything ran (a deopt) and choose or make the specialization that fits them.
`GPUJIT_DUMP=graph,code` prints each new specialization's graph and source.
"""
from __future__ import annotations

import collections
import copy
import functools
import keyword
import linecache
import os
import re
import sys
import threading
import weakref

from .. import dtypes as _dt
from .._dump import dump_flags
from .._gc import gc_paused
from ..autograd import grad_mode as _grad_mode
from ..ir import types as T
from ..ir.schema_match import calls_autograd
from ..ops import registry as _reg
from ..tensor import Tensor
from . import fusion
from . import script_traceback as _script_tb
from .arguments import coerce_args
from .assume import hoisted_attrs, specialized_graph
from .codegen import CodeGenerator, CodeGenError
from .key_facts import fold_key_facts
from .objects import marker_writes_nothing, namedtuple_class
from .container_ops import CONTAINER_OPS, container_op
from .interpreter import GROUP_RUNNER, PRIM_HANDLERS, interpret, read_attr, \
    callee_graph, call_inputs, compute_scripted, dynamic_callee, emit_warning
from .profile import Profile, TensorSpec, ValueSpec, input_key, spec_of
from .support import unbox

__all__ = ["Executable", "Specialization", "CallSite", "compile_source", "dump_flags"]

# name -> numbers k of its live specializations (named f"{name}_{k}", compiled as file
# "<gpujit-code {name}_{k}>"): a new one takes the smallest free k, so a function traced
# again and again in a long process reuses names instead of minting one per trace (each
# new filename stayed in tracemalloc's table for good, and as a name linecache and the
# traceback registry hold while the specialization lives); live ones stay distinct.
_LIVE_NUMBERS: dict = {}
_numbers_lock = threading.Lock()
# (name, k) of specializations that died, freed at the next _take_number: a finalizer may
# run inside the collector while this thread holds _numbers_lock (no lock taken there)
_FREED_NUMBERS: collections.deque = collections.deque()


def _take_number(name) -> int:
    with _numbers_lock:
        while _FREED_NUMBERS:
            dead, j = _FREED_NUMBERS.popleft()
            live = _LIVE_NUMBERS.get(dead)
            if live is not None:
                live.discard(j)
                if not live:
                    del _LIVE_NUMBERS[dead]
        live = _LIVE_NUMBERS.setdefault(name, set())
        k = 0
        while k in live:
            k += 1
        live.add(k)
        return k


def _specialization_gone(name, k, filename):
    """A specialization died: its generated source leaves linecache and the traceback
    registry, then its number may be taken again (not before: a new one of that filename
    registers its own source)."""
    linecache.cache.pop(filename, None)
    _script_tb.forget(filename)
    _FREED_NUMBERS.append((name, k))


def compile_source(source, filename, namespace, fname):
    """exec `source` as module `filename`, registered in linecache so that tracebacks
    show its lines; return the function `fname` it defines."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[fname]


def _py_name(name, used):
    """A parameter name for the dispatcher from a Value's debug name (never `type`, a
    keyword, or a name starting with `_`, which the dispatcher's own names use)."""
    base = re.sub(r"\W", "_", name).lstrip("_") or "arg"
    if base[0].isdigit() or keyword.iskeyword(base) or base == "type":
        base = "a" + base
    out, k = base, 1
    while out in used:
        out = f"{base}_{k}"
        k += 1
    used.add(out)
    return out


# GPUJIT_GRAPH_AUTODIFF=0: scripted calls record op by op (no whole-graph region)
_whole_graph = [os.environ.get("GPUJIT_GRAPH_AUTODIFF", "1") != "0"]

_UNFIT = object()       # _run_recording_plan: a module attribute not of the type the code was made for
_WARNED = object()      # _recording_plan's slots: the key of the call's set of warned nodes

# prim:: nodes whose interpreter handler reads only the node and its inputs' values (no
# regions, attributes written, calls or per-call state): a recording plan runs them as a
# step (the checks of F.scaled_dot_product_attention and MultiheadAttention: x.dtype,
# `raise`, unpacking a list, `key is value`) instead of leaving the whole graph to the
# interpreter
_VALUE_PRIMS = frozenset((
    "prim::TupleUnpack", "prim::ListUnpack", "prim::TupleIndex", "prim::unchecked_cast",
    "prim::Uninitialized", "prim::dtype", "prim::device", "prim::requires_grad",
    "prim::is_leaf", "prim::itemsize", "prim::nbytes", "prim::layout", "prim::RaiseException",
    "prim::isinstance", "prim::EnumName", "prim::EnumValue", "prim::DictConstruct",
    "prim::NumToTensor"))


def _recording_plan(graph, runner, attr_specs=None, in_order=False):
    """A call_recording of a graph (reads of the module's attributes,
    constants, registry ops, fusion groups run through their runners, tuples and lists
    built): (runner, slots in all, attribute reads, constants' (slot, value), steps,
    output slots, direct, the whole graph's GraphDiff (set by call_recording: its whole
    graph as one differentiable region, jit/graph_autodiff.py, or None)), which
    _run_recording_plan runs without the interpreter's
    environment and node dispatch; None for any other graph.

    attr_specs: a module method's ((GetAttr node, spec), ...), the attributes its code
    reads at entry with the types it was made for: each read (slot of the object read,
    name, spec, slot of the value), done before any op runs (the graph
    sets no attribute and calls nothing that could), checks the type as attrs_fit does.
    in_order: a graph not specialized (no attr_specs): each prim::GetAttr is a step of
    its own where the graph reads it, as the interpreter reads it (no type check).
    A step is (kind, callee, input slots, output slots, extra): kind 0 a group's runner,
    1 a registry op (extra: its filled-in defaults and how its result is unpacked), 2 a
    tuple, 3 a list, 4 a prim::If (extra: per branch, its steps and output slots), 5 a
    prim::Loop (extra: its body's steps, input slots and output slots), 6 a prim node of
    _VALUE_PRIMS (callee: the interpreter's handler, extra: the node), 7 a container op
    (callee: its function), 8 a registry op that gives no Tensor (as 1, its eager body
    called without the autograd layer: `x.size(0)`, `n // h`), 9 an aten::warn with a
    source line (extra: the node and the slot of the call's set of warned nodes), 10 a
    DifferentiableGraph region (callee: its jit/graph_autodiff.GraphDiff; only in plans
    call_recording cut into regions); then the node (what an error's note names:
    runtime/script_traceback)."""
    slots = {v: i for i, v in enumerate(graph.inputs)}
    specs = dict(attr_specs or ())
    reads, consts, steps = [], [], []
    objects = {0}               # slots of the module and the submodules read from it

    def build(nodes, steps):
        for node in nodes:
            kind = node.kind
            if node.blocks and kind not in ("prim::If", "prim::Loop"):
                return False
            if kind == "prim::Constant":
                slots[node.output] = len(slots)
                value = node.attrs.get("value")
                consts.append((slots[node.output], value))
                continue
            if kind == "prim::GetAttr" and not in_order:
                src = slots.get(node.inputs[0])
                if node not in specs or src is None or src not in objects:
                    return False
                slots[node.output] = len(slots)
                reads.append((src, node.attrs["name"], specs[node], slots[node.output]))
                if isinstance(node.output.type, T.ClassType):
                    objects.add(slots[node.output])
                continue
            try:
                ins = tuple(slots[v] for v in node.inputs)
            except KeyError:
                return False
            if kind == "prim::If":
                # (each branch's steps and the slots it gives; attributes and constants
                # of the branches are read at entry with the others)
                branches = []
                for b in node.blocks:
                    bsteps = []
                    if not build(b.nodes, bsteps):
                        return False
                    try:
                        branches.append((tuple(bsteps), tuple(slots[v] for v in b.outputs)))
                    except KeyError:
                        return False
                step = (4, None, ins, tuple(branches))
            elif kind == "prim::Loop":
                # (the interpreter's _loop: the body's steps on slots; its inputs the trip
                # index and the carried values, its outputs the condition and them)
                body = node.blocks[0]
                for v in body.inputs:
                    slots[v] = len(slots)
                bsteps = []
                if not build(body.nodes, bsteps):
                    return False
                try:
                    bouts = tuple(slots[v] for v in body.outputs)
                except KeyError:
                    return False
                step = (5, None, ins, (tuple(bsteps),
                                       tuple(slots[v] for v in body.inputs), bouts))
            elif kind == "prim::TensorExprGroup":
                run = node.meta.get(GROUP_RUNNER)
                if run is None:
                    return False
                step = (0, run, ins, None)
            elif kind in ("prim::TupleConstruct", "prim::ListConstruct"):
                # (a NamedTuple's class builds it, as the interpreter's TupleConstruct)
                cls = namedtuple_class(node.output.type) if kind == "prim::TupleConstruct" \
                    else None
                step = (2 if kind == "prim::TupleConstruct" else 3, cls, ins, None)
            elif kind in _VALUE_PRIMS or kind == "prim::GetAttr":
                step = (6, PRIM_HANDLERS[kind], ins, node)
            elif kind == "aten::warn" and getattr(node.source_range, "filename", None):
                # (warned once per call, as the interpreter's: the call's set of warned
                # nodes in a slot of its own; a node without source warns from Python's
                # stack, whose depth differs here: left to the interpreter)
                if _WARNED not in slots:
                    slots[_WARNED] = len(slots)
                step = (9, emit_warning, ins, (node, slots[_WARNED]))
            elif node.op is None and kind in CONTAINER_OPS:
                # (an aten:: kind without registry op: sum of a list, `a is b`, format)
                step = (7, container_op(node)[0], ins, None)
            elif kind in PRIM_HANDLERS or node.op is None or calls_autograd(node):
                return False
            else:
                op = node.op
                params = op.schema.arguments
                defaults = tuple(p.default for p in params[len(ins):])
                n = len(node.outputs)
                rets = op.schema.returns
                # how the result is unpacked, as the interpreter's _run_aten: 0 none, 1
                # as is, 2 a tuple of several returns in one value, 3 a list, 4 one per
                # output
                unpack = (0 if n == 0 else 4 if n > 1 else 2 if len(rets) > 1 else
                          3 if rets[0].type.is_list else 1)
                step = (8 if _untracked(op) else 1, op, ins, (defaults, unpack))
            outs = []
            for v in node.outputs:
                slots[v] = len(slots)
                outs.append(slots[v])
            steps.append(step[:3] + (tuple(outs), step[3], node))   # (node: errors' note)
        return True

    if not build(graph.nodes, steps):
        return None
    try:
        outputs = tuple(slots[v] for v in graph.outputs)
    except KeyError:
        return None
    # one group taking the graph's inputs in order and giving its one output: its runner
    # is called on the arguments themselves
    direct = steps[0][1] if len(steps) == 1 and steps[0][0] == 0 and not consts and \
        not reads and steps[0][2] == tuple(range(len(graph.inputs))) and \
        len(outputs) == 1 and steps[0][3] == outputs else None
    return (runner, len(slots), tuple(reads), tuple(consts), tuple(steps), outputs, direct,
            None)


_read_attr = read_attr         # (a parameter, buffer or submodule from its dict)


def _untracked(op) -> bool:
    """Does the op give no Tensor and write none, so that autograd has nothing to record
    (its layer would call the eager body: x.size(0), x.dim(), int arithmetic, the
    checks of MultiheadAttention; ~1.5-3 us a call through it)?"""
    rets = op.schema.returns
    return bool(rets) and op.composite is None and op.refuse_grad is None and \
        op.inplace_of is None and all(r.type.base != "Tensor" for r in rets) and \
        not any(a.type.is_write or a.type.base == "Generator" for a in op.schema.arguments)


def _run_steps(steps, env):
    for kind, f, ins, outs, extra, node in steps:
        if kind == 0:
            for i, r in zip(outs, f([env[i] for i in ins])):
                env[i] = r
        elif kind == 1 or kind == 8:
            a = [env[i] for i in ins]
            defaults, unpack = extra
            if defaults:
                a += defaults
            if kind == 1:
                r = compute_scripted(f, a)
            else:               # (no Tensor given or written: no autograd layer)
                try:
                    r = f.eager(*a)
                except _reg.NestedOperand:
                    r = compute_scripted(f, a)      # (a nested tensor's kernel)
            if unpack == 1:
                env[outs[0]] = r
            elif unpack == 2:
                env[outs[0]] = tuple(r)
            elif unpack == 3:
                env[outs[0]] = list(r) if type(r) is tuple else r
            elif unpack == 4:
                for i, x in zip(outs, r):
                    env[i] = x
        elif kind == 2:
            env[outs[0]] = tuple([env[i] for i in ins]) if f is None else \
                f(*[env[i] for i in ins])
        elif kind == 3:
            env[outs[0]] = [env[i] for i in ins]
        elif kind == 4:      # (an if: the branch's steps, then its values)
            bsteps, bouts = extra[0] if env[ins[0]] else extra[1]
            _run_steps(bsteps, env)
            for i, o in zip(outs, bouts):
                env[i] = env[o]
        elif kind == 6:      # (the interpreter's handler, on the node's inputs)
            r = f(extra, dict(zip(extra.inputs, [env[i] for i in ins])), None)
            if r is not None:
                for i, x in zip(outs, r):
                    env[i] = x
        elif kind == 7:
            r = f(*[env[i] for i in ins])
            if outs:
                env[outs[0]] = r
        elif kind == 10:     # (a DifferentiableGraph region: jit/graph_autodiff.py)
            f.run_region(env)
        elif kind == 9:      # (aten::warn: once per call)
            node, ws = extra
            warned = env[ws]
            if warned is None:
                warned = env[ws] = set()
            f(node, env[ins[0]], env[ins[1]] if len(ins) > 1 else 2, warned=warned)
        else:               # (a loop, as the interpreter's _loop)
            bsteps, bins, bouts = extra
            trip, cond = env[ins[0]], env[ins[1]]
            carried = [env[i] for i in ins[2:]]
            k = 0
            while cond and k < trip:
                env[bins[0]] = k
                for i, c in zip(bins[1:], carried):
                    env[i] = c
                _run_steps(bsteps, env)
                cond = env[bouts[0]]
                carried = [env[i] for i in bouts[1:]]
                k += 1
            for i, c in zip(outs, carried):
                env[i] = c


def _run_recording_plan(plan, args):
    _, n, reads, consts, steps, outputs, direct, whole = plan
    if direct is not None:
        return direct(args)[0]
    env = list(args)
    env.extend([None] * (n - len(env)))
    if reads:
        for src, name, spec, out in reads:
            try:
                val = env[out] = _read_attr(env[src], name)
            except AttributeError:
                return _UNFIT
            if type(spec) is TensorSpec and isinstance(val, Tensor):
                # (attrs_fit's test)
                if val._dtype is not spec.dtype or val._device is not spec.device or \
                        spec.ndim not in (None, val._data.ndim):
                    return _UNFIT
            elif spec is not None and not _spec_fits(spec, spec_of(val)):
                return _UNFIT
    for i, v in consts:
        env[i] = v
    if whole is not None and whole.usable():
        # the whole graph as one differentiable region (jit/graph_autodiff.py)
        return whole.run(env, steps, outputs)
    _run_steps(steps, env)
    if len(outputs) == 1:
        return env[outputs[0]]
    return tuple([env[i] for i in outputs]) if outputs else None


def _inputs_written_later(graph, groups) -> set:
    """The groups some of whose tensor inputs may be written in place (through any alias)
    after the group runs. Recording gradients, such a group runs op by op: its fused
    backward recomputes the ops from its inputs, so it saves inputs that eager autograd
    does not (x * 2 then abs: eager saves the product), and the later write would fail
    its version check where eager's backward does not."""
    from ..passes.alias_analysis import AliasDb
    db, out = None, set()
    for g in groups:
        ins = [v for v in g.node.inputs if isinstance(v.type, T.TensorType)]
        if not ins:
            continue
        if db is None:
            db = AliasDb(graph)
        if db.is_mutated_after(ins, g.node, ignore=_writes_nothing):
            out.add(g)
    return out


class _OpByOp:
    """The runner of a group whose inputs are written in place after it (see
    _inputs_written_later), for calls recording gradients: its ops one by one, through
    the recording ops. Inside strict_fusion (a scripted region holding the group, or
    `with strict_fusion():` around the call) that is StrictFusionError, not a silent
    unfused run."""
    __slots__ = ("group", "name")

    def __init__(self, group, name):
        self.group, self.name = group, name

    def __call__(self, args):
        from ..fusers import strict_fusion_active, StrictFusionError
        from ..fusers.strict import strict_where
        from ..fusers.subgraph import subgraph_of
        sub = subgraph_of(self.group.node)
        if self.group.strict or strict_fusion_active():
            ops = [n for n in sub.nodes if n.kind != "prim::Constant"]
            why = ("an input of its fusion group is written in place after it: a call "
                   "that records gradients runs the group op by op (its fused backward "
                   "would save that input, which eager autograd does not)")
            raise StrictFusionError(ops, where=strict_where(self.group.strict,
                                                            f"a call of {self.name}"),
                                    reasons={n: why for n in ops})
        out = interpret(sub, *args)
        return out if len(self.group.node.outputs) > 1 else (out,)


# (a group inside `with strict_fusion():` in scripted code ran op by op when recording
# gradients: its region markers read as writes)
_writes_nothing = marker_writes_nothing


def _holds_bf16(spec):
    from .profile import ListSpec, TensorSpec, TupleSpec
    if isinstance(spec, TensorSpec):
        return spec.dtype is _dt.bfloat16
    if isinstance(spec, ListSpec):
        return _holds_bf16(spec.elem)
    if isinstance(spec, TupleSpec):
        return any(_holds_bf16(e) for e in spec.elems)
    return False


def _bfloat16_unknown(profile):
    """The profile with every spec that holds a bfloat16 tensor made unknown (None): the
    generated code passes raw arrays between nodes, and a bfloat16 tensor's is a float32
    array (ops/bfloat16_support.py), so those values stay Tensors (support.unbox keeps
    them) and the nodes that read or make them run their eager entry points (the code
    generator's fallback), which compute as eager bfloat16 does; the rest of the graph is
    generated and fused as usual (the fusers take no unknown spec). The profile itself
    unchanged when it holds none."""
    bf = [v for v, s in profile.specs.items() if _holds_bf16(s)]
    if not bf:
        return profile
    out = copy.copy(profile)
    out.specs = dict(profile.specs)
    for v in bf:
        out.specs[v] = None
    return out


def _has_regions(steps):
    """Whether a recording plan's steps hold a DifferentiableGraph region (kind 10)."""
    for st in steps:
        k = st[0]
        if k == 10 or (k == 4 and any(_has_regions(b) for b, _ in st[4])) or (
                k == 5 and _has_regions(st[4][0])):
            return True
    return False


# torch's PeepholeOptimize drops x * 1 / x + 0 / x - 0 of int constants before it profiles
# (the profiling run takes them as x: Profile.identities) and fuses (_unroll_profiled).
# Tests that need a two-op group write `x * 1.0` (which torch keeps).
_PEEPHOLE_IDENTITIES = True


def _unroll_profiled(graph, profile):
    """(a copy of graph with its small constant-trip for-loops unrolled and its `x * 1`,
    `x + 0`, `x - 0` of int constants gone, the profile re-keyed onto it, each copy of a
    body Value or block profiled as that one), as torch 2.13's profiling executor
    optimizes (UnrollLoops, PeepholeOptimize) before it cuts DifferentiableGraph regions
    and fuses: the iterations' ops then join one region and fuse across; None when
    nothing changed."""
    from ..passes import loop_unroll as _lu
    from ..passes.peephole import drop_profiled_identities
    loops = identities = False
    for n in graph.walk():
        if n.kind == "prim::Loop":
            loops = True
        elif _PEEPHOLE_IDENTITIES and n.kind in ("aten::mul", "aten::add", "aten::sub") and \
                any(v.node.kind == "prim::Constant" and
                    type(v.node.attrs.get("value")) in (int, bool)
                    and v.node.attrs["value"] == (1 if n.kind == "aten::mul" else 0)
                    for v in n.inputs[:2]):
            identities = True       # (a candidate of torch's x * 1 / x + 0 / x - 0)
    if not loops and not identities:
        return None
    g = graph.copy()
    by_unique = {v.unique: v for v in fusion._values(graph)}
    bmap = {g.block: graph.block}
    for a, b in zip(fusion._block_owners(graph), fusion._block_owners(g)):
        bmap.update(zip(b.blocks, a.blocks))
    origin = {}
    from ..passes import eliminate_dead_code, propagate_constants
    unrolled = loops and _lu.unroll_small_constant_loops(g, origin)
    if unrolled:
        # (as torch's pipeline after UnrollLoops: the copies' `if i == 0:` folded, the
        # copies' list appends folded into their lists' prim::ListConstruct)
        propagate_constants(g)
        from ..passes.remove_mutation import remove_list_mutation
        remove_list_mutation(g)
    p = Profile()
    p.runs = profile.runs
    for w in fusion._values(g):
        v = by_unique.get(origin.get(w, w).unique)
        if v is None:
            continue
        for src, dst in ((profile.specs, p.specs), (profile.types, p.types),
                         (profile._last, p._last)):
            if v in src:
                dst[w] = src[v]
    blocks = [g.block] + [b for n in g.walk() for b in n.blocks]
    for b in blocks:
        src = bmap.get(origin.get(b, b))
        if src in profile.blocks:
            p.blocks.add(b)
        if src in profile._entered:
            p._entered[b] = profile._entered[src]
    # torch's peephole of x * 1, x + 0, x - 0 (int constants) for the profiled dtypes
    dropped = identities and drop_profiled_identities(
        g, lambda v: getattr(p.specs.get(v), "dtype", None))
    if not unrolled and not dropped:
        return None
    eliminate_dead_code(g)
    return g, p


def _holds_nested(key, profile):
    """Does a specialization's input key or profile hold a nested tensor?"""
    from .profile import ListSpec, TupleSpec, ValueSpec

    def nested(spec):
        if getattr(spec, "dtype", None) in _dt.FLOAT8_TYPES or \
                getattr(spec, "dtype", None) in _dt.QUANTIZED_TYPES:
            # (float8 tensors too: their arrays are the bits, ops/float8.py; quantized
            # ones: their arrays are the integers, gpujit/quantized.py)
            return True
        if isinstance(spec, ValueSpec):
            return getattr(spec.pytype, "_nested_layout", False)
        if isinstance(spec, ListSpec):
            return nested(spec.elem)
        if isinstance(spec, TupleSpec):
            return any(nested(e) for e in spec.elems)
        return False
    return (any(type(k) is tuple and len(k) == 4 and isinstance(k[0], type) for k in key)
            or any(nested(s) for s in profile.specs.values()))


def _holds_meta(key, profile):
    """Does a specialization's input key or profile hold a meta tensor (gpujit/_meta.py:
    no data, which the generated array code would read)? Its graph runs op by op, each
    op through its meta rule, as TorchScript propagates shapes on the meta device."""
    from .profile import ListSpec, TupleSpec

    def in_key(k):
        if type(k) is tuple:
            return any(in_key(x) for x in k)
        return getattr(k, "type", None) == "meta"

    def in_spec(spec):
        if getattr(getattr(spec, "device", None), "type", None) == "meta":
            return True
        if isinstance(spec, ListSpec):
            return in_spec(spec.elem)
        if isinstance(spec, TupleSpec):
            return any(in_spec(e) for e in spec.elems)
        return False
    return in_key(key) or any(in_spec(s) for s in profile.specs.values())


class Specialization:
    """One generated function: the key it serves, its profile, source and graph."""

    def __init__(self, exe, key, name, profile):
        self.key = key
        self.name = name
        self.profile = profile
        self.filename = f"<gpujit-code {name}>"
        self.fn = None
        self.source = None
        self.attr_specs = ()        # ((GetAttr node, spec), ...) guarded at entry
        self._attr_plan = None      # (attr_specs, steps on slots) that attrs_fit reads
        self.groups = ()            # the FusedGroups its code calls
        self.unfused = ()           # nodes left unfused (what strict_fusion reports)
        self.unfused_reason = None  # why, when fusion was off for all of them
        self.stale = False
        self.runners = None         # what call_recording attached to its group nodes
        self.recording = None       # call_recording's plan for a graph of groups alone
        # the profiled requires_grad of the inputs when the fused graph folded an in-place
        # write that autograd saves for other ones (fusers/functionalize.py), else None
        self.grad_pattern = None
        self.node_lines = {}        # generated line -> its node (an error's note)
        # its profiling run(s) ran with grad mode off (torch.no_grad: trace's check_trace
        # run): as TorchScript's profile, which then saw no value requiring grad, its code
        # made no differentiable graphs; calls that record gradients run the graph op by op
        # (each op's own grad_fn: TanhBackward0, not DifferentiableGraphBackward)
        self.profiled_without_grad = False
        self._graph = None
        self._exe_graph = exe.graph

    @property
    def graph(self):
        """The optimized graph with the types this specialization's profile saw."""
        if self._graph is None:
            self._graph = specialized_graph(self._exe_graph, self.profile)
        return self._graph

    def shown_graph(self):
        """graph, each fusion group behind its guard (fusers/display.py), as graph_for
        and last_executed_optimized_graph show it (a copy; graph itself when it has no
        group)."""
        plan = self.recording
        from ..jit import region_display as _rd
        regions = _rd._ENABLED[0] and plan is not None and len(plan) > 7 and (
            plan[7] is not None or _has_regions(plan[4]) or
            getattr(plan[6], "region_slots", None) is not None)
        if not self.groups and not regions:
            return self.graph
        from ..fusers.display import guarded_graph
        g = guarded_graph(self.graph, self.groups) if self.groups else self.graph
        if regions:
            # (a call recorded gradients: its DifferentiableGraph regions, as torch shows
            # them, jit/region_display.py)
            g = _rd.with_regions(g.copy() if g is self.graph else g, self._exe_graph, plan)
        return g

    def attrs_fit(self, module):
        """Do the module's attributes (read now) have the types this code was made for?"""
        plan = self._attr_plan
        if plan is None or plan[0] is not self.attr_specs:
            # (slot of the object read, attribute name, spec) per GetAttr, slot 0 the module
            slots = {self._exe_graph.inputs[0]: 0}
            steps = []
            for node, spec in self.attr_specs:
                src = slots.get(node.inputs[0])
                if src is None:
                    steps = None
                    break
                slots[node.output] = len(slots)
                steps.append((src, node.attrs["name"], spec))
            plan = self._attr_plan = (self.attr_specs, steps)
        steps = plan[1]
        if steps is None:
            return self._attrs_fit_env(module)
        env = [module]
        for src, name, spec in steps:
            try:
                val = _read_attr(env[src], name)
            except AttributeError:
                return False
            env.append(val)
            if type(spec) is TensorSpec and isinstance(val, Tensor):
                # (spec_of's test without making a TensorSpec)
                if val._dtype is not spec.dtype or val._device is not spec.device or \
                        spec.ndim not in (None, val._data.ndim):
                    return False
                continue
            if not _spec_fits(spec, spec_of(val)):
                return False
        return True

    def _attrs_fit_env(self, module):
        env = {self._exe_graph.inputs[0]: module}
        for node, spec in self.attr_specs:
            try:
                val = _read_attr(env[node.inputs[0]], node.attrs["name"])
            except AttributeError:
                return False
            env[node.output] = val
            if not _spec_fits(spec, spec_of(val)):
                return False
        return True

    def __repr__(self):
        return f"<Specialization {self.name} key={self.key}>"


def _spec_fits(spec, got):
    if isinstance(spec, TensorSpec):
        return isinstance(got, TensorSpec) and got.same_kind(spec) and \
            spec.ndim in (None, got.ndim)
    return not (isinstance(spec, ValueSpec) and got != spec)


def _grad_pattern(args):
    return tuple(a.requires_grad if isinstance(a, Tensor) else None for a in args)


def _erase_tensor_facts(graph):
    """Forget the dtypes, sizes and strides on graph's tensor Values (in place): a traced
    graph carries those of its example inputs, which later calls need not share, and the
    passes must not rewrite by them (`x.to(torch.float32)` traced on a float32 tensor was
    dropped, so an int tensor gave an int result). Each specialization's graph gets the
    types its profile saw (specialized_graph)."""
    def erase(v):
        t = v.type
        if isinstance(t, T.TensorType) and (t.dtype is not None or t.sizes is not None):
            v.type = t.with_(dtype=None, sizes=None, strides=None, requires_grad=None)
    for v in graph.all_values():
        erase(v)


class Executable:
    """An optimized graph, callable on Tensors and Python values (a module object first
    when the graph's first input is a module)."""

    def __init__(self, graph, name="forward", *, max_specializations=8, optimize=True,
                 fuse=True, copy=True):
        """copy=False: the Executable takes `graph` itself and changes it (for a graph
        nobody else holds, such as a backward trace)."""
        from .. import passes
        with gc_paused():       # see gpujit/_gc.py
            g = graph.copy() if copy else graph
            if optimize:
                _erase_tensor_facts(g)
                passes.optimize(g)          # (lints what it returns)
            else:
                g.lint()
        self.graph = g
        # does the graph call autograd itself (x.detach_(), requires_grad_, backward,
        # autograd.grad, torch.tensor(..., requires_grad=True))? Such a graph runs node by
        # node on Tensor objects (jit/objects.py)
        self.calls_autograd = any(calls_autograd(n) for n in g.walk())
        self.name = name
        self.fuse = fuse
        self.fusion_budget = None
        self.max_specializations = max_specializations
        self.specializations: list = []
        self.stats = {"profiling_runs": 0, "compiles": 0, "interpreted": 0, "deopts": 0,
                      "stale": 0}
        self._active: dict = {}       # key -> the Specialization the dispatcher calls
        self._profiles: dict = {}     # key -> Profile (accumulates over re-profiles)
        self._hoisted = hoisted_attrs(g)
        self._tensor_params = None     # (call_recording) all parameters Tensors, none broadcast
        self._module_seen = None       # (call_recording) the last module argument coerced
        self._op_by_op_plan = None     # (call_recording) the graph's plan, not optimized
        self._has_strict_regions = None   # does g hold a scripted strict_fusion region?
        self._identities = None     # (profiling runs) torch_identities(g)
        # one thread profiles and compiles a new key; the others wait and then call its
        # code (without it, 8 threads calling a new function made 8 specializations of one
        # key, spending the budget and the fusion strategy's)
        self._lock = threading.RLock()
        used = set()
        self._params = [_py_name(v.debug_name, used) for v in g.inputs]
        # what last_executed_optimized_graph holds (made once: a call stores it as is)
        self.weak_self = weakref.ref(self)
        self._build_dispatcher()

    # ------------------------------------------------------------------ calling
    def __call__(self, *args):
        return self._dispatch(*args)

    @property
    def entry(self):
        """The generated dispatcher itself (what __call__ calls): the cheapest way in."""
        return self._dispatch

    def key(self, args):
        """The specialization key of a call: the default float dtype (Python floats
        promote to it) and each argument's input_key."""
        return (_dt._default_float,) + tuple(input_key(a) for a in args)

    def _miss(self, *args):
        args = coerce_args(self.graph, self.name, args)
        key = self.key(args)
        spec = self._active.get(key)
        if spec is None and len(self.specializations) < self.max_specializations:
            with self._lock:
                spec = self._active.get(key)
                if spec is None:
                    return self._specialize(key, args)
        if spec is not None:
            return spec.fn(*args)
        return self._specialize(key, args)

    def call_recording(self, *args, runner=None):
        """A call that records gradients (an input or parameter requires grad): the
        optimized graph of the specialization for these inputs run node by node through
        the recording ops, its fusion groups through `runner(FusedGroup)` (a callable on
        the group's arguments that runs the kernel and records one backward node,
        gpujit.jit.autodiff). A new key profiles (recording) and compiles as a call
        without gradients would; past max_specializations, or for module attributes the
        code was not made for, the graph runs op by op."""
        tensor_params = self._tensor_params
        if tensor_params is None:
            # 0: all Tensors; 1: a method's (its module, then Tensors); False: any other
            ins = self.graph.inputs
            tensor_params = False
            if not self.graph.broadcast and all(
                    isinstance(v.type, T.TensorType) for v in ins[1:]):
                if not ins or isinstance(ins[0].type, T.TensorType):
                    tensor_params = 0
                elif isinstance(ins[0].type, T.ClassType):
                    tensor_params = 1
            self._tensor_params = tensor_params
        if tensor_params is False or len(args) != len(self.graph.inputs) or \
                not all([isinstance(a, Tensor) for a in args[tensor_params:]]) or (
                tensor_params and (self._module_seen is None or
                                   self._module_seen() is not args[0])):
            # (Tensors for Tensor parameters are taken as they are; a method's module,
            # once it passed, too)
            args = coerce_args(self.graph, self.name, args)
            key = self.key(args)
            if tensor_params and args and all([isinstance(a, Tensor) for a in args[1:]]):
                try:
                    self._module_seen = weakref.ref(args[0])
                except TypeError:
                    pass
        else:       # (input_key of each Tensor; a module's: its type)
            key = (_dt._default_float,) + ((type(args[0]),) if tensor_params else ()) + \
                tuple([(a._dtype, a._device, a._data.ndim) for a in args[tensor_params:]])
        spec = self._active.get(key)
        if spec is None:
            with self._lock:
                spec = self._active.get(key)
                if spec is None:
                    return self._specialize(key, args)
        if spec.profiled_without_grad:
            return self._op_by_op(args)
        plan = spec.recording
        if plan is not None and plan[0] is runner and (
                spec.grad_pattern is None or spec.grad_pattern == _grad_pattern(args)):
            out = _run_recording_plan(plan, args)
            if out is not _UNFIT:
                return out
            # (module attributes of other types than the code was made for: checked
            # before any op ran)
            return interpret(self.graph, *args)
        if runner is None or (
                self._hoisted and not spec.attrs_fit(args[0])) or (
                spec.grad_pattern is not None and spec.grad_pattern != _grad_pattern(args)):
            # (a pattern other than the profiled one: the fused graph folded a write that
            # eager autograd would refuse at backward)
            return interpret(self.graph, *args)
        if spec.runners is None:
            with self._lock:
                if spec.runners is None:
                    written = _inputs_written_later(spec._exe_graph, spec.groups)
                    for g in spec.groups:
                        g.node.meta[GROUP_RUNNER] = runner(g) if g not in written else \
                            _OpByOp(g, self.name)
                    spec.runners = runner
                    # (a graph without groups: the optimized graph, spec._exe_graph too)
                    spec.recording = _recording_plan(
                        spec._exe_graph, runner,
                        spec.attr_specs if self._hoisted else None)
                    if spec.recording is not None and _whole_graph[0]:
                        # (TorchScript's DifferentiableGraph regions: the whole graph as
                        # one, or steps of kind 10 where the slicer cut some out)
                        from ..jit.graph_autodiff import graph_diff
                        steps, whole, grown = graph_diff(spec._exe_graph, spec.recording,
                                                         spec.profile.blocks)
                        rec = spec.recording
                        if grown is not None:   # (groups expanded: more slots, constants)
                            rec = rec[:1] + (grown[0],) + rec[2:3] + (grown[1],) + \
                                rec[4:6] + (None,) + rec[7:]
                        if steps is not None:
                            rec = rec[:4] + (tuple(steps),) + rec[5:7]
                        spec.recording = rec[:7] + (whole,)
        # (the plan at once: the first call after the profiling run runs the optimized
        # code, as TorchScript's second call does -- its DifferentiableGraph formed then)
        plan = spec.recording
        if plan is not None and plan[0] is runner:
            out = _run_recording_plan(plan, args)
            if out is not _UNFIT:
                return out
        return interpret(spec._exe_graph, *args)

    def _op_by_op(self, args):
        """interpret(self.graph, *args), a call that records gradients op by op (its
        specialization was profiled with grad mode off, as TorchScript's fallback graph
        when the profiled requires_grad differs), through a recording plan of the graph
        as it was made: the same ops, each recording its own node, without the
        interpreter's per-node dispatch (a traced model's training calls after
        check_trace ran 2.7x slower than the scripted one)."""
        plan = self._op_by_op_plan
        if plan is None:
            plan = self._op_by_op_plan = _recording_plan(self.graph, None, in_order=True) \
                or False
        if plan is False:
            return interpret(self.graph, *args)
        return _run_recording_plan(plan, args)

    def _specialize(self, key, args):
        if len(self.specializations) >= self.max_specializations:
            # op by op: a scripted strict_fusion region raises (it could not run fused)
            self.check_strict_regions(
                f"{self.name} has made the most specializations it may "
                f"({self.max_specializations}, one per signature of input types); new "
                f"signatures run unfused, op by op")
            if not self.stats["interpreted"]:
                _warn_interpreted(self)
            self.stats["interpreted"] += 1
            return interpret(self.graph, *args)
        profile = self._profiles.get(key)
        if profile is None:
            profile = self._profiles[key] = Profile()
        # (the profiling run too: its interpreter allocates as much as compiling does)
        runs = fusion.profiling_runs()
        with gc_paused():       # see gpujit/_gc.py
            if runs == 0:
                # TorchScript's _jit_set_num_profiled_runs(0): the optimized code at once,
                # built from no profiled types (so nothing fuses), and this call runs it
                spec = self._compile(key, profile, args[0] if self._hoisted else None)
                self._active[key] = spec
                self._build_dispatcher()
                return spec.fn(*args)
            grad_on = _grad_mode.is_grad_enabled()
            profile.without_grad = not grad_on and getattr(profile, "without_grad", True)
            if _PEEPHOLE_IDENTITIES:
                # (torch's PeepholeOptimize runs before its profiling run)
                if self._identities is None:
                    from ..passes.peephole import torch_identities
                    self._identities = torch_identities(self.graph)
                profile.identities = self._identities
            result = interpret(self.graph, *args, profile=profile)
            self.stats["profiling_runs"] += 1
            if profile.runs < runs:
                return result        # more profiling runs before the optimized code is built
            spec = self._compile(key, profile, args[0] if self._hoisted else None)
            spec.profiled_without_grad = profile.without_grad
        self._active[key] = spec
        self._build_dispatcher()
        return result

    def check_strict_regions(self, reason):
        """A call about to run the whole graph op by op (past max_specializations): a
        scripted `with strict_fusion():` region of the graph with tensor work raises
        StrictFusionError, `reason` saying why nothing is fused."""
        if self._has_strict_regions is None:
            from ..fusers.strict import strict_regions
            self._has_strict_regions = bool(strict_regions(self.graph))
        if self._has_strict_regions:
            from ..fusers.strict import check_strict_regions
            check_strict_regions(self.graph, reason=reason)

    def _compile(self, key, profile, module=None):
        k = _take_number(self.name)
        spec = Specialization(self, key, f"{self.name}_{k}", profile)
        weakref.finalize(spec, _specialization_gone, self.name, k, spec.filename)
        profile = _bfloat16_unknown(profile)    # (bfloat16 values: unknown, boxed)
        graph, prof, hoisted = self.graph, profile, self._hoisted
        base, profile = fold_key_facts(graph, profile, key)    # (what the key decides)
        unrolled = _unroll_profiled(base, profile)      # (torch's UnrollLoops)
        if unrolled is not None:
            base, profile = unrolled
        if base is not graph:
            graph, prof, hoisted = base, profile, hoisted_attrs(base)
            spec.profile, spec._exe_graph = profile, base
        if _holds_nested(key, profile):
            # (the generated code passes raw arrays between nodes: a nested tensor has none)
            return self._interpreting(spec, "it holds nested tensors", warn=False)
        if _holds_meta(key, profile):
            return self._interpreting(spec, "it holds meta tensors", warn=False)
        if self.fuse and self.fusion_budget is None:
            from .. import fusers
            # a function keeps the strategy in force when it first compiles (documented)
            self.fusion_budget = fusers.FusionBudget(fusers.get_fusion_strategy(), name=self.name)
        off = fusion.fusion_off_reason(self.fusion_budget.strategy) if self.fuse else None
        fusing = self.fuse and off is None
        if off is not None:         # a strict_fusion region raises: nothing fuses
            from ..fusers.strict import check_strict_regions
            check_strict_regions(graph, reason=off)
        report = graph
        if fusing:
            graph, prof, groups, report = fusion.fuse_profiled(base, profile)
            if groups:
                hoisted = hoisted_attrs(graph)
                spec.profile, spec._exe_graph, spec._graph = prof, graph, graph
                spec.grad_pattern = getattr(graph, "grad_pattern", None)
            else:       # shown with the reasons the partitioner recorded
                spec._graph = report
        # with no profiling run (_jit_set_num_profiled_runs(0)) no path was profiled and
        # none will be: a block the profile never entered asks for no new profile
        profiled = profile.runs > 0
        cg = CodeGenerator(graph, prof, spec.name, hoisted,
                           stale=functools.partial(self._mark_stale, weakref.ref(spec))
                           if profiled else None,
                           deopt=functools.partial(self._deopt, spec), module=module,
                           fusion_budget=self.fusion_budget)
        try:
            source, ns = cg.generate()
        except CodeGenError as e:
            return self._interpreting(spec, e)
        spec.groups = cg.groups
        spec.unfused = _unfused(report, fusion.remap_profile(profile, base, report).blocks
                                if fusing and profiled else None) if self.fuse else ()
        spec.unfused_reason = off
        spec.source = source
        spec.fn = compile_source(source, spec.filename, ns, spec.name)
        spec.attr_specs = tuple((n, cg.specs.get(n.output)) for n in hoisted)
        spec.node_lines = cg.node_lines()
        _script_tb.register_source(spec.filename, spec)
        self.specializations.append(spec)
        self.stats["compiles"] += 1
        flags = dump_flags()
        if "graph" in flags or ("fusion" in flags and spec.groups):
            print(f"[gpujit] graph of {spec.name} (optimized, profiled types):\n{spec.graph}")
        if "code" in flags:
            print(f"[gpujit] code of {spec.name}:\n{source}")
        sys.stdout.flush()
        return spec

    def _interpreting(self, spec, err, warn=True):
        """A specialization whose graph the code generator cannot serve (CodeGenError:
        e.g. an out= or in-place view write into a tensor held in a container argument,
        whose Tensor object the array code does not have): it runs the graph op by op,
        unfused (same answers, eager speed), and says so once."""
        self.check_strict_regions(f"{self.name} runs op by op: {err}")
        from ..fusers.group import _warn, _dump
        msg = f"{self.name} runs unfused, op by op: {err}"
        _dump(msg)
        if warn:
            _warn(f"gpujit: {msg}")
        graph = self.graph
        spec.fn = lambda *args: interpret(graph, *args)
        spec.unfused = _unfused(graph) if self.fuse else ()
        spec.unfused_reason = str(err)
        self.specializations.append(spec)
        self.stats["compiles"] += 1
        return spec

    def _mark_stale(self, spec_ref):
        """Generated code entered a block the profile never ran: the next call with this
        key profiles again (the profiles merge) and compiles code covering both paths."""
        spec = spec_ref()
        if spec is None or spec.stale:
            return
        # under the lock: another thread may be adding a specialization to _active (the
        # dispatcher is rebuilt from it: "dictionary changed size during iteration")
        with self._lock:
            if spec.stale or len(self.specializations) >= self.max_specializations:
                return
            spec.stale = True
            self.stats["stale"] += 1
            if self._active.get(spec.key) is spec:
                del self._active[spec.key]
                self._build_dispatcher()

    def _deopt(self, spec, *args):
        """A module attribute no longer has the type `spec` was made for."""
        with self._lock:
            return self._deopt_locked(spec, *args)

    def _deopt_locked(self, spec, *args):
        self.stats["deopts"] += 1
        for other in reversed(self.specializations):
            if other is not spec and other.key == spec.key and other.attrs_fit(args[0]):
                self._active[spec.key] = other
                self._build_dispatcher()
                return other.fn(*args)
        if self._active.get(spec.key) is spec:
            del self._active[spec.key]
        self._profiles.pop(spec.key, None)
        return self._specialize(spec.key, args)

    # ------------------------------------------------------------------ dispatcher
    def _build_dispatcher(self):
        """(An object of a script class is guarded by its Python class, as other
        non-tensors: `type(p) is Cls`; another value goes to _miss, which checks it.)"""
        ps = self._params
        args = ", ".join(ps)
        ns = {"_miss": self._miss, "_dtypes": _dt, "_key": input_key}
        lines = [f"def {self.name}({args}):"]
        tensor_in = [(p, v) for p, v in zip(ps, self.graph.inputs)
                     if isinstance(v.type, T.TensorType)]
        if tensor_in and self._active:
            lines.append("    try:")
            for p, _ in tensor_in:
                lines.append(f"        _{p}_d, _{p}_v, _{p}_n = {p}._dtype, {p}._device, "
                             f"{p}._data.ndim")
            lines.append("    except AttributeError:")
            lines.append(f"        return _miss({args})")
        if self._active:
            lines.append("    _df = _dtypes._default_float")
        for i, (key, spec) in enumerate(self._active.items()):
            conds = [f"_df is _k{i}_df"]
            ns[f"_k{i}_df"] = key[0]
            ok = True
            for j, (p, v, k) in enumerate(zip(ps, self.graph.inputs, key[1:])):
                c = f"_k{i}_{j}"
                if isinstance(v.type, T.TensorType):
                    if not (isinstance(k, tuple) and len(k) == 3 and isinstance(k[0], _dt.dtype)):
                        ok = False          # a non-Tensor where the graph says Tensor
                        break
                    ns[c + "d"], ns[c + "v"] = k[0], k[1]
                    conds.append(f"_{p}_d is {c}d and _{p}_v is {c}v and _{p}_n == {k[2]}")
                elif isinstance(v.type, T.InterfaceType):   # must implement it, or _miss
                    ns[c] = _implements(v.type)
                    conds.append(f"{c}({p})")
                elif isinstance(v.type, T.ClassType) and not _is_object_type(v.type):
                    continue                # a module (self): no guard
                elif k is int:      # an int outside int64 goes to _miss, which refuses it
                    ns[c] = k
                    conds.append(f"type({p}) is {c} and -0x8000000000000000 <= {p} <= "
                                 f"0x7fffffffffffffff")
                elif isinstance(k, type):
                    ns[c] = k
                    conds.append(f"type({p}) is {c}")
                else:
                    ns[c] = k
                    conds.append(f"_key({p}) == {c}")
            if not ok:
                continue
            ns[f"_s{i}"] = spec.fn
            lines.append(f"    if {' and '.join(conds)}:")
            lines.append(f"        return _s{i}({args})")
        lines.append(f"    return _miss({args})")
        source = "\n".join(lines) + "\n"
        filename = f"<gpujit-code {self.name} dispatch>"
        self._dispatch = compile_source(source, filename, ns, self.name)
        self.dispatch_source = source

    # ------------------------------------------------------------------ inspection
    def specialization_for(self, *args):
        """The specialization that serves these arguments (made by calling, if needed:
        that runs the graph once, or as many times as the profiling runs it still needs
        (gpujit.jit.set_profiling_runs); None past max_specializations)."""
        args = coerce_args(self.graph, self.name, args)
        key = self.key(args)
        spec = self._active.get(key)
        for _ in range(max(1, fusion.profiling_runs())):
            if spec is not None:
                break
            full = len(self.specializations) >= self.max_specializations
            self(*args)
            spec = self._active.get(key)
            if full:
                break
        return spec

    def graph_for(self, *args):
        """The optimized graph specialized for these arguments, with profiled types, each
        fusion group behind its guard as TorchScript shows it (fusers/display.py)."""
        spec = self.specialization_for(*args)
        return spec.shown_graph() if spec is not None else self.graph

    def optimized_graph_for(self, *args):
        """graph_for's graph as it runs: the group nodes in place, no guards shown."""
        spec = self.specialization_for(*args)
        return spec.graph if spec is not None else self.graph

    def unfused_reason_of(self, graph):
        """Why every op of the specialization whose graph (optimized_graph_for's) is
        `graph` ran unfused (fusion was off when it compiled), else None."""
        return next((s.unfused_reason for s in self.specializations if s._graph is graph),
                    None)

    def code_for(self, *args):
        """The generated source serving these arguments (None past max_specializations)."""
        spec = self.specialization_for(*args)
        return spec.source if spec is not None else None

    @property
    def source(self):
        """The source of the most recent specialization (None before the first call)."""
        return self.specializations[-1].source if self.specializations else None

    def __repr__(self):
        return (f"<gpujit.runtime.Executable {self.name}: {len(self.specializations)} "
                f"specialization(s)>")


def _warn_interpreted(exe):
    """Once per function: new input signatures now run unfused, op by op."""
    from ..fusers.group import _warn, _dump
    msg = (f"{exe.name} has made the most specializations it may "
           f"({exe.max_specializations}, one per signature of input dtypes, ranks and "
           f"devices); inputs of new signatures run unfused, op by op")
    _dump(msg)
    _warn(f"gpujit: {msg}")


def _unfused(graph, ran=None):
    """The nodes left unfused (what strict_fusion around a call reports); ran: the blocks
    the profiling runs entered (a branch not taken yet has no types to fuse with: a call
    that takes it profiles again and recompiles, as fuse_profiled's region check does)."""
    from .. import fusers
    return tuple(n for n in fusers.unfused_nodes(graph) if ran is None or n.owning_block in ran)


def _implements(iface):
    from ..jit.interface import incompatibility

    def check(v):
        if iface.is_module or hasattr(v, "_script_methods"):     # a scripted module
            return incompatibility(iface, v) is None
        t = T.class_type_of_object(v)       # a class interface: the object's class type
        return t is not None and T.interface_mismatch(t, iface) is None
    return check


def _is_object_type(t) -> bool:
    """Is ClassType t a script class (its values Python objects of t.py_class), not a
    module?"""
    from ..nn.module import Module
    return isinstance(t.py_class, type) and not issubclass(t.py_class, Module) and \
        not isinstance(t, T.InterfaceType)


class DynamicCallSite:
    """A prim::CallMethod on an interface-typed value: the method of the module passed
    first, looked up at each call (the module may be swapped), one Executable per method
    graph."""

    def __init__(self, node):
        self.name = node.attrs["name"]
        self.args = list(node.inputs)
        self._exes = {}

    def __call__(self, obj, *args):
        g = dynamic_callee(obj, self.name)
        exe = self._exes.get(id(g))
        if exe is None or exe[0] is not g:
            exe = self._exes[id(g)] = (g, Executable(g, self.name))
        return unbox(exe[1](obj, *args))


class CallSite:
    """What generated code calls for prim::CallFunction / prim::CallMethod: the callee's
    own Executable on boxed arguments, its result unboxed."""

    def __init__(self, node):
        self.graph = callee_graph(node)
        self.args = list(call_inputs(node, self.graph))
        self.name = node.attrs.get("name") or "callee"
        self._exe = None

    def __call__(self, *args):
        if self._exe is None:
            self._exe = Executable(self.graph, self.name)
        return unbox(self._exe(*args))


_script_tb.register_node_loop(_run_steps.__code__)
