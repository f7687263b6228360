"""`x.unsqueeze(d)` in a fusion group (NNC fuses it: `x.unsqueeze(1) * y` is one group).

A kernel walks one iteration space and reads each input by broadcasting it against that
space; an unsqueeze changes how its value lines up (a [3] unsqueezed at 1 is [3, 1], which
broadcasts against [3, 4] along the other dim). So before a kernel is built, each unsqueeze
of the group's subgraph is moved up through the pointwise ops computing its input, as
chunks are (kernels/chunks.py): `op(u, w).unsqueeze(d)` is `op(u', w')`, where an operand
whose dims all lie right of the new one (it broadcasts there) is used as it is and the
others are unsqueezed at the same place counted in their own rank; until each unsqueeze
reads a group input. An unsqueezed group input becomes an input of the kernel of its own
(a view, made per call on the host: no copy), appended after the group inputs the kernel
still reads itself.

    ksub, plan = lower_unsqueezes(subgraph)       # plan: (inputs kept, [(input k, dims)])
    kernel_args = expand_args(args, plan)         # those args + the views the kernel reads

The fallback and the guards see the group as it is: the views are a function of the
group's inputs, of the ranks the group was profiled with (which the guards fix).
"""
from __future__ import annotations

from ..ir import types as T
from .batch_norm import BATCH_NORM, line_up
from .fusibility import CONSTANT_CHUNK, FUSED_CONCAT, UNSQUEEZE

__all__ = ["has_unsqueeze", "lower_unsqueezes", "expand_args", "eager_args", "view_ranks",
           "KernelBuildError"]


class KernelBuildError(RuntimeError):
    """Unsqueezes a kernel cannot read (the group runs unfused)."""


_MAX_STEPS = 4096


def has_unsqueeze(graph) -> bool:
    """Does the kernel read views of the group's inputs (unsqueezes, or batch_norm's
    per-channel parameters)?"""
    return any(n.kind in (UNSQUEEZE, BATCH_NORM) for n in graph.nodes)


def _rank(v):
    t = v.type
    if not isinstance(t, T.TensorType) or t.sizes is None:
        raise KernelBuildError(f"%{v.debug_name} is not a tensor of known rank ({t})")
    return len(t.sizes)


def _dim(n):
    """The unsqueeze's dim wrapped to [0, rank of its input]."""
    c = n.inputs[1].node
    if c.kind != "prim::Constant" or not isinstance(c.attrs.get("value"), int):
        raise KernelBuildError("an unsqueeze whose dim is not a constant")
    r = _rank(n.inputs[0])
    d = c.attrs["value"]
    if not -r - 1 <= d <= r:
        raise KernelBuildError(f"unsqueeze at dim {d} of a tensor of rank {r}")
    return d % (r + 1)


def lower_unsqueezes(subgraph):
    """(kernel graph, (keep, derived)) as the module docstring says: a copy of `subgraph`
    with no unsqueeze left, whose inputs are the group inputs it still reads (their
    indices: keep) followed by one per unsqueezed group input: derived[j] = (k, dims),
    group input k with a size-1 dim inserted at each of dims in turn. Raises
    KernelBuildError for what a kernel cannot do (an unsqueeze next to a chunk or a cat,
    of a 0-dim result, an unsqueezed input returned as it is)."""
    if any(n.kind in (CONSTANT_CHUNK, FUSED_CONCAT) for n in subgraph.nodes):
        raise KernelBuildError("an unsqueeze next to a chunk or a cat in one group")
    g = subgraph.copy()
    line_up(g, UNSQUEEZE, _unsqueezed)      # batch_norm's parameters: [C] -> [C, 1, ...]
    source = {v: (k, ()) for k, v in enumerate(g.inputs)}     # value -> (input k, dims)
    made = {}                                                  # (k, dims) -> new input
    derived = []
    for _ in range(_MAX_STEPS):
        n = next((m for m in g.nodes if m.kind == UNSQUEEZE), None)
        if n is None:
            break
        x, d = n.inputs[0], _dim(n)
        if x in source:
            k, dims = source[x]
            key = (k, dims + (d,))
            new = made.get(key)
            if new is None:
                new = made[key] = g.add_input(type_=n.output.type)
                source[new] = key
                derived.append(key)
            n.output.replace_all_uses_with(new)
        else:
            _move_up(g, n, x, d)
        n.destroy()
    else:
        raise KernelBuildError("too many unsqueezes to move onto the group inputs")
    if any(v in made.values() for v in g.outputs):
        raise KernelBuildError("the group returns an unsqueezed input as it is (a view)")
    for m in reversed(list(g.nodes)):       # ops whose results only unsqueezes read
        if not any(o.uses for o in m.outputs):
            m.destroy()
    n_in = len(subgraph.inputs)             # the group inputs the kernel still reads
    keep = tuple(k for k in range(n_in) if g.inputs[k].uses)
    # views read only by a further unsqueeze (x.unsqueeze(1).unsqueeze(2)): not the kernel's
    used = [j for j in range(len(derived)) if g.inputs[n_in + j].uses]
    for j in reversed(range(len(derived))):
        if j not in used:
            g.block.erase_input(n_in + j)
    for k in reversed(range(n_in)):
        if k not in keep:
            g.block.erase_input(k)
    return g, (keep, tuple(derived[j] for j in used))


def _move_up(g, n, x, d):
    """Put before unsqueeze node n (of x, at wrapped dim d) the op computing x applied to
    its operands unsqueezed (new unsqueeze nodes, moved up in later steps), and let n's
    readers read that instead."""
    p = x.node
    if len(p.outputs) != 1 or p.kind in (CONSTANT_CHUNK, FUSED_CONCAT, "prim::Constant") \
            or p.op is None:
        raise KernelBuildError(f"an unsqueeze of the result of {p.kind}")
    r = _rank(x)
    if r == 0:      # (its 0-dim operands must stay 0-dim: they promote as numbers do)
        raise KernelBuildError("an unsqueeze of a 0-dim result computed in the group")
    ins = []
    for u in p.inputs:
        if isinstance(u.type, T.TensorType) and _rank(u) > 0:
            dd = d - (r - _rank(u))             # the new dim in u's own rank
            if dd >= 0:     # (< 0: u's dims all lie right of the new one: as it is)
                c = g.create("prim::Constant", attrs={"value": dd}, output_types=[T.INT])
                c.insert_before(n)
                m = g.create(UNSQUEEZE, [u, c.output],
                             output_types=[_unsqueezed(u.type, dd)],
                             source_range=n.source_range, scope=n.scope)
                m.op = n.op
                m.insert_before(n)
                u = m.output
        ins.append(u)
    q = g.create(p.kind, ins, attrs=dict(p.attrs), output_types=[n.output.type],
                 source_range=p.source_range, scope=p.scope)
    q.op = p.op
    q.insert_before(n)
    n.output.replace_all_uses_with(q.output)


def _unsqueezed(t, d):
    sizes = list(t.sizes)
    sizes.insert(d, 1)
    return t.with_(sizes=tuple(sizes), strides=None)


def view_ranks(subgraph):
    """{input index: rank} the derived views are planned for (the profiled ranks)."""
    return {k: _rank(v) for k, v in enumerate(subgraph.inputs)
            if isinstance(v.type, T.TensorType)}


def expand_args(args, plan):
    """The kernel's arguments: the group's arguments it reads (plan[0]) followed by the
    views of them its unsqueezes read, group input k with size-1 dims inserted at dims
    (NumPy and CuPy indexing with None: a view, no copy)."""
    keep, derived = plan
    out = [args[k] for k in keep]
    for k, dims in derived:
        a = args[k]
        for d in dims:
            a = a[(slice(None),) * d + (None,)]
        out.append(a)
    return out


def eager_args(args, plan):
    """expand_args with each view strided as eager's unsqueeze makes it (the new dim's
    stride is size[d] * stride[d], or 1 past the last dim; NumPy's None gives 0), for
    the layout rules that read the strides of size-1 dims (specialize.size1_strides):
    x.t().unsqueeze(0) * 2 has strides (5, 1, 5) in eager. Costs an as_strided view per
    unsqueezed input: made when a specialization is built, not per call."""
    from .specialize import restrided
    out = expand_args(args, plan)
    first = len(plan[0])
    for i, (k, dims) in enumerate(plan[1]):
        a = args[k]
        shape, strides = list(a.shape), [s // a.itemsize for s in a.strides]
        for d in dims:
            strides.insert(d, shape[d] * strides[d] if d < len(shape) else 1)
            shape.insert(d, 1)
        out[first + i] = restrided(out[first + i], tuple(strides))
    return out
