"""The executor's side of fusion: after a profiling run, the optimized graph (with the
profiled types) goes through `gpujit.fusers.fuse`; each `prim::TensorExprGroup` node it
makes becomes, in the generated code, one call of a `FusedGroup` (guards, kernels, the
unfused fallback) on the raw arrays. The `with gpujit.strict_fusion():` regions of a
scripted graph are checked right after fusing (fusers.check_strict_regions); with fusion
off (GPUJIT_FUSION=0, an empty strategy, `gpujit.jit.fuser("none")`,
`gpujit.jit.optimized_execution(False)`) nothing is fused and a strict region raises.

Fusion settings are read when a function builds its optimized code for new input types:
code built inside `with gpujit.jit.fuser("none"):` stays unfused after the block."""
from __future__ import annotations

import contextlib
import os

from .. import dtypes as _dt
from ..ir import types as T
from .profile import Profile

__all__ = ["fuse_profiled", "fusion_enabled", "emit_group", "set_profiling_runs",
           "profiling_runs", "fuser", "optimized_execution", "enable_onednn_fusion",
           "onednn_fusion_enabled"]

_SETTINGS = {"profiling_runs": 1, "fuser": "fuser1", "optimize": True, "onednn": False}
# torch.jit.fuser's names: the legacy fuser, NNC, nvFuser, oneDNN; gpujit has one fuser,
# which every name but "none" turns on
FUSER_NAMES = ("fuser0", "fuser1", "fuser2", "fuser3", "none")


def set_fuser(name: str) -> str:
    """Switch the fuser for code built from now on (see `fuser`); returns the previous."""
    if name not in FUSER_NAMES:
        raise ValueError(f"unrecognized fuser option (name: {name}); expected one of "
                         f"{', '.join(FUSER_NAMES)}")
    prev, _SETTINGS["fuser"] = _SETTINGS["fuser"], name
    return prev


def current_fuser() -> str:
    return _SETTINGS["fuser"]


def _check_bool(what, value):
    # (torch's bindings take a bool only: a string such as "no" would read as True)
    import numpy as np
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what}: expected a bool, got {type(value).__name__} ({value!r})")
    return bool(value)


def set_optimizing(should_optimize: bool) -> bool:
    flag = _check_bool("optimized_execution", should_optimize)
    prev, _SETTINGS["optimize"] = _SETTINGS["optimize"], flag
    return prev


def optimizing() -> bool:
    return _SETTINGS["optimize"]


@contextlib.contextmanager
def fuser(name: str):
    """`with gpujit.jit.fuser("fuser1"):` (torch.jit.fuser): "none" turns fusion off in
    the block; "fuser0"-"fuser3" (TorchScript's backends) all mean gpujit's fuser."""
    prev = set_fuser(name)
    try:
        yield
    finally:
        _SETTINGS["fuser"] = prev


@contextlib.contextmanager
def optimized_execution(should_optimize: bool):
    """`with gpujit.jit.optimized_execution(False):` (torch.jit.optimized_execution):
    code built in the block is not fused."""
    prev = set_optimizing(should_optimize)
    try:
        yield
    finally:
        _SETTINGS["optimize"] = prev


def enable_onednn_fusion(enabled: bool) -> None:
    """torch.jit.enable_onednn_fusion: recorded for onednn_fusion_enabled(); gpujit has
    no oneDNN backend, its own fuser makes the CPU kernels either way."""
    _SETTINGS["onednn"] = _check_bool("enable_onednn_fusion", enabled)


def onednn_fusion_enabled() -> bool:
    return _SETTINGS["onednn"]


def profiling_runs() -> int:
    """How many profiling runs a compiled function makes per input signature before its
    optimized (fused) code is built (TorchScript: 1)."""
    return _SETTINGS["profiling_runs"]


def set_profiling_runs(n: int) -> int:
    """Set the number of profiling runs (>= 0); returns the previous value. 0 is
    TorchScript's `_jit_set_num_profiled_runs(0)`: a new input signature's first call
    builds the optimized code at once, with no profiled types, so nothing in it fuses."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"profiling runs must be an int >= 0, got {n!r}")
    prev, _SETTINGS["profiling_runs"] = _SETTINGS["profiling_runs"], n
    return prev


def fusion_enabled() -> bool:
    """Fusion is on unless GPUJIT_FUSION=0 or the strategy is empty (or its depths are
    all 0)."""
    return fusion_off_reason() is None


def fusion_off_reason(strategy=None):
    """Why fusion is off (what strict_fusion reports for every unfused op), or None.
    strategy: a function's own copy of the fusion strategy (default: the one in force)."""
    if os.environ.get("GPUJIT_FUSION", "1") == "0":
        return "fusion is off (GPUJIT_FUSION=0)"
    if _SETTINGS["fuser"] == "none":
        return "fusion is off (inside gpujit.jit.fuser('none'))"
    if not _SETTINGS["optimize"]:
        return "fusion is off (inside gpujit.jit.optimized_execution(False))"
    if strategy is None:
        from .. import fusers
        strategy = fusers.get_fusion_strategy()
    if not strategy:
        return "fusion is off (the fusion strategy is empty: gpujit.set_fusion_strategy)"
    if not any(depth for _, depth in strategy):
        # as TorchScript, whose executor runs without fusion when the depths add up to 0
        return (f"fusion is off (the fusion strategy {list(strategy)} allows no "
                f"specializations: gpujit.set_fusion_strategy)")
    return None


def _values(graph):
    yield from graph.inputs
    for n in graph.walk():
        for b in n.blocks:
            yield from b.inputs
        yield from n.outputs


def _block_owners(graph):
    return [n for n in graph.walk() if n.blocks]


def remap_profile(profile, src, dst) -> Profile:
    """The profile of graph src re-keyed onto graph dst (a copy of src that fusion changed):
    Values by their unique number (group outputs take over the numbers of the values they
    replace), blocks by the order of the nodes that own them."""
    by_unique = {v.unique: v for v in _values(dst)}
    p = Profile()
    p.runs = profile.runs
    for v in _values(src):
        w = by_unique.get(v.unique)
        if w is None:
            continue
        if v in profile.specs:
            p.specs[w] = profile.specs[v]
        if v in profile.types:
            p.types[w] = profile.types[v]
    if src.block in profile.blocks:
        p.blocks.add(dst.block)
    for a, b in zip(_block_owners(src), _block_owners(dst)):
        for ba, bb in zip(a.blocks, b.blocks):
            if ba in profile.blocks:
                p.blocks.add(bb)
    return p


def fuse_profiled(graph, profile):
    """(fused graph, its profile, group nodes, fused graph), or (graph, profile, [], the
    partitioned copy) when nothing fused. The fused graph is a copy of `graph` with the
    profiled types on its Values; the last item, fused or not, holds why each node outside
    a group was not fused (what graph_for, fusion_report and strict_fusion show)."""
    from .. import fusers
    from ..fusers.strict import check_strict_regions
    from ..fusers.strategy import fusion_group_inlining
    from .assume import specialized_graph
    fg = specialized_graph(graph, profile)
    # (no profiling run at all, _jit_set_num_profiled_runs(0): every block counts as run,
    # none has types, so a strict region anywhere raises, as in TorchScript)
    ran = remap_profile(profile, graph, fg).blocks if profile.runs else None
    _lower_type_as(fg)
    _fold_dtypes(fg)
    _fold_devices(fg)
    _drop_same_device_to(fg)
    _drop_real_identities(fg)
    _drop_detach_of_constants(fg)
    merged = _type_as_last_run(fg, graph, profile)
    groups = fusers.fuse(fg, min_group_size=2 if fusion_group_inlining() else 1)
    for v in fg.all_values():       # outside the groups: the types of every run again
        t = merged.get(v.unique)
        if t is not None:
            v.type = t
    # `with gpujit.strict_fusion():` in scripted code: every op of the region must now
    # be in a group (StrictFusionError, raised from the first profiled call, otherwise)
    check_strict_regions(fg, ran=ran)
    if not groups:
        return graph, profile, [], fg
    fg.lint()
    return fg, remap_profile(profile, graph, fg), groups, fg


def _type_as_last_run(fg, graph, profile) -> dict:
    """Values of fg (a specialized copy of graph) whose profiled runs saw different types
    (merged: sizes or dtype unknown, so nothing could fuse them), typed as the latest run
    computed them, for the partitioner: after a call took a branch or loop body the
    profile never saw, the re-profile merges both runs, and TorchScript would still fuse
    the code after it (its fallback profiles afresh). Each group guards its inputs, so
    other types at run time retype its kernel or run it unfused, never wrongly. A value is
    retyped only when every node reading it is in a block the latest run entered, so the
    types a node sees come from one run. Returns {unique: merged type} of those changed;
    the caller puts the merged types back on the values outside the groups."""
    if profile.runs < 2:
        return {}
    by_unique = {v.unique: v for v in _values(graph)}
    entered = {fg.block}
    for a, b in zip(_block_owners(graph), _block_owners(fg)):
        entered.update(bb for ba, bb in zip(a.blocks, b.blocks) if profile.entered_last(ba))
    changed = {}
    for v in _values(fg):
        t = v.type
        if not isinstance(t, T.TensorType) or t.is_complete:
            continue
        orig = by_unique.get(v.unique)
        last = profile.latest_type(orig) if orig is not None else None
        if last is None or not last.is_complete or \
                any(u.user.owning_block not in entered for u in v.uses):
            continue
        changed[v.unique] = t
        v.type = last
    return changed


def _flow_dependent(graph) -> set:
    """Values whose dtype (or device) need not be the profiled one on the next call with
    inputs of the same types: results of a prim::If whose branches did not all give one
    profiled dtype and device from values that are not flow-dependent themselves (a branch
    the profiling run did not take is unknown), loop-carried values, and whatever is
    computed from them (`if (x > 0).all(): v = v.sqrt()` makes an int v float only when
    the data says so)."""
    dep = set()

    def same(vals):
        kinds = {(v.type.dtype, v.type.device) if isinstance(v.type, T.TensorType)
                 else None for v in vals}
        return len(kinds) == 1 and None not in kinds and None not in next(iter(kinds)) \
            and not any(v in dep for v in vals)

    def walk(block):
        for n in block.nodes:
            if n.kind == "prim::Loop":
                for b in n.blocks:
                    dep.update(b.inputs)
            for b in n.blocks:
                walk(b)
            if n.kind == "prim::Loop" or any(v in dep for v in n.inputs):
                dep.update(n.outputs)
            elif n.kind == "prim::If":
                for i, o in enumerate(n.outputs):
                    if isinstance(o.type, T.TensorType) and not same(
                            [b.outputs[i] for b in n.blocks]):
                        dep.add(o)
    walk(graph.block)
    return dep


def _lower_type_as(graph):
    """`aten::type_as(x, other)` (as TorchScript records x.type_as(other)) becomes the
    cast `aten::to(x, prim::dtype(other), False, False, None)`, whose dtype _fold_dtypes
    folds and which the fusers take."""
    from ..ops import registry as _reg
    to = None
    for n in list(graph.walk()):
        if n.kind != "aten::type_as" or n.op is None:
            continue
        to = to or _reg.get("aten::to.dtype")
        sr, scope = n.source_range, n.scope
        with graph.inserting_before(n):
            d = graph.insert_node("prim::dtype", [n.inputs[1]], output_types=[T.SCALAR_TYPE],
                                  source_range=sr, scope=scope).output
            no = graph.insert_constant(False, T.BOOL)
            none = graph.insert_constant(None, T.NONE)
            c = graph.insert_node("aten::to", [n.inputs[0], d, no, no, none],
                                  output_types=[n.output.type], source_range=sr, scope=scope)
        c.op = to
        c.meta["type_as"] = True    # (a DifferentiableGraph region takes it, as type_as)
        n.output.replace_all_uses_with(c.output)
        n.destroy()


def _profiled_reads(graph, kind, field):
    """(node, tensor type) of the `kind(%v)` nodes (prim::dtype / prim::device) whose
    tensor's profiled `field` is known and does not depend on control flow
    (`_flow_dependent`): what _fold_dtypes and _fold_devices make constants."""
    dep = None
    for n in list(graph.walk()):
        if n.kind != kind:
            continue
        dep = _flow_dependent(graph) if dep is None else dep
        t = n.inputs[0].type
        if isinstance(t, T.TensorType) and getattr(t, field) is not None and \
                n.inputs[0] not in dep:
            yield n, t


def _fold_dtypes(graph):
    """`prim::dtype(%v)` of a tensor whose profiled dtype is known becomes that constant
    (scripted `x.type_as(y)` and `x.to(y.dtype)`), so the cast can fuse: an optimized graph
    serves only inputs of the dtypes it was profiled with (the executor's key), and every
    tensor's dtype follows from those, but for values that depend on control flow
    (`_flow_dependent`), whose prim::dtype stays a run-time read."""
    for n, t in _profiled_reads(graph, "prim::dtype", "dtype"):
        producer = n.inputs[0].node
        if isinstance(n.output.type, T.IntType):
            # scripted x.dtype, TorchScript's int: the dtype constant where an op takes
            # a ScalarType (so the cast fuses), the int code elsewhere
            with graph.inserting_before(n):
                code = graph.insert_constant(_dt.scalar_type_code(t.dtype), T.INT)
                dt = None
                for u in list(n.output.uses):
                    if _takes_scalar_type(u):
                        if dt is None:
                            dt = graph.insert_constant(t.dtype, T.SCALAR_TYPE)
                        u.user.replace_input(u.offset, dt)
            n.output.replace_all_uses_with(code)
            if not code.uses:
                code.node.destroy()
        else:
            with graph.inserting_before(n):
                c = graph.insert_constant(t.dtype, n.output.type)
            n.output.replace_all_uses_with(c)
        n.destroy()
        _drop_if_dead(producer)


def _fold_devices(graph):
    """`prim::device(%v)` of a tensor whose profiled device is known becomes that constant
    (`torch.ones(n, device=x.device)`, F.scaled_dot_product_attention's causal mask), for
    the reasons _fold_dtypes gives: the code generator's static paths take a Device
    argument only as a constant (else the op ran through its boxed eager entry, and so did
    every op whose input it fed)."""
    for n, t in _profiled_reads(graph, "prim::device", "device"):
        producer = n.inputs[0].node
        with graph.inserting_before(n):
            c = graph.insert_constant(t.device, T.DEVICE)
        n.output.replace_all_uses_with(c)
        n.destroy()
        _drop_if_dead(producer)


def _takes_scalar_type(use):
    """Does the registry op of use's node take a (non-list) ScalarType there?"""
    op = use.user.op if not use.user.kind.startswith("prim::") else None
    if op is None:
        return False
    params = op.schema.arguments
    if use.offset >= len(params):
        return False
    p = params[use.offset].type
    return p.base == "ScalarType" and not p.is_list


def _drop_real_identities(graph):
    """`x.conj()`, `x.real`, `resolve_conj` ... of an x profiled real (and not
    flow-dependent) is x itself (passes.peephole's rule, which needs a known dtype), so
    `x.conj() * y` fuses; of a complex x they stay."""
    from ..passes.peephole import _REAL_IDENTITIES
    dep = None
    for n in list(graph.walk()):
        if n.kind not in _REAL_IDENTITIES or not n.inputs:
            continue
        x = n.inputs[0]
        dt = getattr(x.type, "dtype", None)
        if dt is None or dt.is_complex:
            continue
        dep = _flow_dependent(graph) if dep is None else dep
        if x not in dep:
            n.output.replace_all_uses_with(x)
            n.destroy()


def _drop_same_device_to(graph):
    """`x.to(device)` (aten::to.device) to the profiled device x already has, with no
    other dtype and no copy=True, is x itself (aten::to returns self then): drop it, so
    `x.to("cpu").relu()` fuses, as TorchScript's profiled graph does; `x.to(dtype)` to
    its profiled dtype likewise."""
    from ..device import device as _device
    from ..passes.constant_propagation import constant_value
    dep = None
    from ..passes.peephole import same_dtype_to
    from ..fusers import unfusible_reason
    for n in reversed(list(graph.walk())):      # (outer casts first: to(to(x)))
        op = n.op if n.kind == "aten::to" else None
        if op is None or op.name not in ("aten::to.device", "aten::to.prim_Device",
                                         "aten::to.dtype") or \
                len(n.inputs) < 2:
            continue
        dep = _flow_dependent(graph) if dep is None else dep
        if n.inputs[0] in dep:
            continue
        if op.name == "aten::to.dtype":
            # `x.to(x's profiled dtype)` is x: a cast whose result leaves the fused ops
            # (returned, read by an unfused op) is dropped, as a group would hand back a
            # copy where eager hands back x itself (program fuzz seed 2128); one only
            # fused ops (or a list, for cat) read stays, for the group it may join
            # (`cat((x, y.type_as(x)))`)
            if same_dtype_to(n) is not None and any(
                    u.user.kind != "prim::ListConstruct" and
                    unfusible_reason(u.user) is not None for u in n.output.uses):
                n.output.replace_all_uses_with(n.inputs[0])
                n.destroy()
            continue
        t = n.inputs[0].type
        if not isinstance(t, T.TensorType) or t.device is None or t.dtype is None:
            continue
        dev = constant_value(n.inputs[1])
        try:
            dev = _device(dev) if isinstance(dev, (str, _device)) else None
        except Exception:       # noqa: BLE001 - a bad device string: the error stays
            continue
        extra = [constant_value(v) for v in n.inputs[2:]]
        dtype = extra[0] if extra else None
        copy = extra[2] if len(extra) > 2 else False
        if dev is None or dev != t.device or copy is not False or (
                dtype is not None and dtype != t.dtype):
            continue
        n.output.replace_all_uses_with(n.inputs[0])
        n.destroy()


def _drop_detach_of_constants(graph):
    """`aten::detach` of a constant tensor (a traced torch.tensor's constant -> to ->
    detach, once the same-device `to` is dropped) is the constant: it requires no grad and
    detach shares its storage, so the op using it fuses, as TorchScript's constant
    propagation folds it."""
    for n in list(graph.walk()):
        if n.kind == "aten::detach" and len(n.inputs) == 1 and \
                n.inputs[0].node.kind == "prim::Constant":
            n.output.replace_all_uses_with(n.inputs[0])
            n.destroy()


def _drop_if_dead(node):
    """Remove a pure registry op (and then its producers) whose results nobody reads: a
    value computed only for its dtype (`x.type_as(x + y)`)."""
    from ..ir.schema_match import has_side_effects
    op = node.op if node.kind.startswith("aten::") else None
    if (op is None or node.blocks or node.owning_block is None
            or any(o.uses for o in node.outputs) or has_side_effects(node)
            or op.inplace_of is not None or any(a.type.is_write for a in op.schema.arguments)
            or {"random", "nondeterministic"} & set(op.tags)):     # (the RNG state moves)
        return
    producers = [v.node for v in node.inputs]
    node.destroy()
    for p in producers:
        _drop_if_dead(p)


def _target(node):
    for v in list(node.outputs) + list(node.inputs):
        t = v.type
        if isinstance(t, T.TensorType) and t.device is not None:
            return cpu_target() if t.device.type == "cpu" else "cuda"
    return cpu_target()


def cpu_target():
    """The kernel target of groups of CPU tensors: "cpu" (numba-compiled loops), or "sim"
    (the CUDA kernel under numba's CUDA simulator) in a process started with
    NUMBA_ENABLE_CUDASIM=1, so that without a GPU the CUDA code generator runs what
    scripted and traced functions fuse (each simulated thread is Python: tiny sizes).
    GPUJIT_FUSION_TARGET=cpu or =sim overrides that choice."""
    want = os.environ.get("GPUJIT_FUSION_TARGET", "").strip().lower()
    if want in ("cpu", "sim"):
        return want
    if want:
        raise ValueError(f"GPUJIT_FUSION_TARGET={want!r}: expected 'cpu' or 'sim'")
    return "sim" if os.environ.get("NUMBA_ENABLE_CUDASIM", "0").strip() not in ("", "0") \
        else "cpu"


def emit_group(cg, n):
    """Generated code for one prim::TensorExprGroup node: `a, b = _group_0(x, y, 2.5)`."""
    from .. import fusers
    inside = cg.__dict__.get("_strict_nodes")
    if inside is None:      # the nodes of the graph's scripted strict_fusion regions
        from ..fusers.strict import strict_regions
        # (node -> its innermost region's `with` line, which the error points at)
        inside = cg._strict_nodes = {m: e.source_range or True
                                     for e, ns in strict_regions(cg.graph) for m in ns}
    # a group of a region raises when it would run unfused (budget spent, kernel failed)
    group = fusers.FusedGroup(n, cg.fusion_budget, _target(n), strict=inside.get(n, False))
    group.budget_key = len(cg.groups)     # the k-th group of every specialization shares
    name = cg.bind(group, "group")
    cg.groups.append(group)
    cg.group_of[n] = group      # (what a resumed call runs the node with: resume.py)
    args = ", ".join(cg.ref(v) for v in n.inputs)
    outs = [cg.define(v) for v in n.outputs]
    lhs = outs[0] + "," if len(outs) == 1 else ", ".join(outs)
    cg.emit(f"{lhs} = {name}.call({args})")
