"""From a call's arguments to what a kernel is specialized on: each argument's ArgSpec,
the device, and the group's subgraph retyped for these arguments.

The subgraph a group holds carries the types its profiling run saw. A later call may bring
other dtypes, ranks or sizes; the kernel for it is built from a copy of the subgraph whose
types follow these arguments, node by node as eager gpujit types them (each op's meta rule:
its promotion of the operand kinds; sizes by broadcasting). A STATIC kernel gets exact
sizes and strides (outputs C-contiguous, as kernels allocate them); a DYNAMIC one gets
dtype and rank only (sizes `*`), so its kernel, and its cache key, serve every size.
Arguments laid out in another dim order than C's (transposed, permuted) are transposed
to it first, and the outputs back (`layout_perm`): fused outputs have eager's layout.
"""
from __future__ import annotations

import math
import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu, device as _device
from ..ir import types as T
from ..ops.meta import TensorMeta, broadcast_shapes, run_meta
from ..ops.registry import checked_number
from ..ops.shape import cat_rule, chunk_rule
from .functionalize import INPLACE_META, inplace_mismatch
from .fusibility import CONSTANT_CHUNK, FUSED_CONCAT
from .kernel_api import ArgSpec

__all__ = ["arg_specs", "retype", "scalar_dtype", "array_device", "contiguous_strides",
           "ZERO_SIZE", "unfit_reason", "layout_perm", "in_layout", "in_layout_expr",
           "permute_cuts", "space_problem", "output_relayouts", "relaid_out", "size1_strides",
           "restrided", "scalar_checks", "checks_range", "number_fits"]

ZERO_SIZE = "a 0-size tensor (nothing to compute)"


def scalar_dtype(x):
    """The ArgSpec dtype of a Python (or NumPy) number: bool, int64 or float64."""
    if isinstance(x, (bool, np.bool_)):
        return _dt.bool
    if isinstance(x, (int, np.integer)):
        return _dt.int64
    if isinstance(x, (float, np.floating)):
        return _dt.float64
    return None


_SCALAR_IR = {_dt.bool: T.BOOL, _dt.int64: T.INT, _dt.float64: T.FLOAT}


def array_device(a):
    """The gpujit device of a NumPy / CuPy array, None for anything else."""
    if isinstance(a, np.ndarray):
        return _cpu
    dev = getattr(a, "device", None)
    if type(a).__module__.startswith("cupy") and dev is not None:
        return _device("cuda", dev.id)
    return None


def contiguous_strides(shape):
    out, step = [], 1
    for s in reversed(shape):
        out.append(step)
        step *= max(s, 1)
    return tuple(reversed(out))


def unfit_reason(args, kinds, names, array_type):
    """Why these arguments cannot go to any kernel of the group (None: they can)."""
    devices, zero = set(), False
    for a, kind, name in zip(args, kinds, names):
        if kind == "scalar":
            if scalar_dtype(a) is None:
                return f"{name} is a {type(a).__name__}, not a number"
            continue
        dev = array_device(a)
        if dev is None:
            return f"{name} is a {type(a).__name__}, not an array"
        devices.add(dev)
        dt = _dt._FROM_NP.get(a.dtype)
        if dt is None or a.dtype is not dt.np:
            return f"{name} has dtype {a.dtype}, which the kernels do not take"
        zero = zero or a.size == 0
    if len(devices) > 1:
        return f"mixed devices ({', '.join(sorted(str(d) for d in devices))})"
    if devices and not any(type(a) is array_type for a in args):
        return (f"its inputs are on {devices.pop()}, its kernels are for "
                f"{array_type.__module__.split('.')[0]} arrays")
    return ZERO_SIZE if zero else None


class _Layout:
    """A tensor's sizes and element strides, as memory_format.iterator_strides reads an
    array (itemsize 1)."""
    __slots__ = ("shape", "strides", "ndim", "flags", "c_contiguous", "size")
    itemsize = 1

    def __init__(self, shape, strides):
        self.shape, self.strides, self.ndim = tuple(shape), tuple(strides), len(shape)
        self.size = math.prod(self.shape)
        self.flags = self
        need = 1
        self.c_contiguous = True
        for n, st in zip(reversed(self.shape), reversed(self.strides)):
            if n == 0:
                self.c_contiguous = True
                break
            if n != 1 and st != need:
                self.c_contiguous = False
            need *= n


_UNKNOWN = object()


def eager_perm(subgraph, args, kinds, per_output=False):
    """The dim order eager code lays the group's outputs out in, node by node as its
    elementwise ops do (memory_format.iterator_strides: the first operand that orders
    the dims decides, x.t() * 2 + y is transposed, y + x.t() * 2 is not; a chunk's pieces
    are views with the strides of what it cuts), as layout_perm
    gives it (None: C order), or _UNKNOWN when a node is not elementwise or the outputs
    disagree. `per_output`: each output's (sizes, element strides) as eager lays it out
    (they may disagree: x.t() + 1 and y + 1; outputs of lower rank), or _UNKNOWN."""
    from ..ops.memory_format import iterator_strides, strides_in, size1_strides_c
    vals = {}
    for p, a, k in zip(subgraph.inputs, args, kinds):
        vals[p] = _Layout(a.shape, tuple(s // a.itemsize for s in a.strides)) \
            if k == "tensor" else a
    for n in subgraph.nodes:
        if n.kind == "prim::Constant":
            vals[n.output] = n.attrs.get("value")
            continue
        if n.kind == CONSTANT_CHUNK:    # pieces: views with the strides of what they cut
            x = vals.get(n.inputs[0])
            if not isinstance(x, _Layout):
                return _UNKNOWN
            d, sizes = chunk_rule(x.shape, n.attrs["chunks"], n.attrs["dim"])
            if sizes is None or len(sizes) != len(n.outputs):
                return _UNKNOWN
            for o, size in zip(n.outputs, sizes):
                vals[o] = _Layout(x.shape[:d] + (size,) + x.shape[d + 1:], x.strides)
            continue
        op = getattr(n, "op", None)
        if op is None or not op.is_pointwise or len(n.outputs) != 1:
            return _UNKNOWN
        arrays = []
        c_order = op.contiguous_result
        for v, arg in zip(n.inputs, op.schema.arguments):
            if v not in vals:
                return _UNKNOWN
            x = vals[v]
            if isinstance(x, _Layout):
                arrays.append(x)
            elif arg.name in op.operands and x is not None and \
                    arg.name not in op.parameter_numbers:
                arrays.append(None)           # a number: a 0-dim operand
                c_order |= arg.name in op.contiguous_numbers     # (2.0 ** x: registry.OpDef)
        tensors = [x for x in arrays if x is not None]
        if not tensors:
            return _UNKNOWN
        shape = broadcast_shapes(*[x.shape for x in tensors])
        self_ = vals.get(n.inputs[0])
        if INPLACE_META in n.meta and isinstance(self_, _Layout) and self_.shape == shape:
            # an in-place op functionalize rewrote: eager writes into self, which keeps its
            # layout (t.masked_fill_(m, 0) of a transposed t stays transposed, where
            # masked_fill's result is contiguous)
            vals[n.output] = self_
            continue
        if op.like_self and isinstance(self_, _Layout) and self_.shape == shape:
            from ..ops.memory_format import like_strides    # (registry.OpDef.like_self)
            vals[n.output] = _Layout(shape, like_strides(self_))
            continue
        st = None
        if not c_order and not all(x.flags.c_contiguous and size1_strides_c(x)
                                   for x in tensors if x.ndim):
            st = iterator_strides(arrays, shape)      # (as eager: entry_codegen._gen_pointwise)
        vals[n.output] = _Layout(shape, st if st is not None else
                                 strides_in(shape, range(len(shape))))
    rank = max((a.ndim for a, k in zip(args, kinds) if k == "tensor"), default=0)
    outs = [vals.get(v) for v in subgraph.outputs]
    if not outs or not all(isinstance(x, _Layout) for x in outs):
        return _UNKNOWN
    if per_output:
        return [(x.shape, x.strides) for x in outs]
    perms = []
    for x in outs:
        if x.ndim != rank:
            return _UNKNOWN
        p = stride_order(x.shape, x.strides)
        perms.append(None if p == tuple(range(rank)) else p)
    if not perms or any(p != perms[0] for p in perms):
        return _UNKNOWN
    return perms[0]


def output_relayouts(subgraph, args, kinds, perm):
    """[(output index, dim order)] for the outputs that eager code lays out in another
    dim order than the kernel, running in order `perm` (None: C order), writes them in:
    a group whose outputs eager lays out differently (x.t() + 1 is transposed, y + 1 is
    not; an output of lower rank) runs in one order, and these outputs are copied into
    their own (`relaid_out`). Empty when none needs it (or eager's layout is not known:
    layout_perm's rule then stands)."""
    tensors = [a for a, k in zip(args, kinds) if k == "tensor"]
    rank = max((a.ndim for a in tensors), default=0)
    if len(subgraph.outputs) < 2 or rank < 2 or any(
            st < 0 for a in tensors for n, st in zip(a.shape, a.strides) if n > 1):
        return []
    layouts = eager_perm(subgraph, args, kinds, per_output=True)
    if layouts is _UNKNOWN:
        return []
    order = perm if perm is not None else tuple(range(rank))
    fixes = []
    for i, (shape, strides) in enumerate(layouts):
        r = len(shape)
        if r < 2:
            continue
        want = stride_order(shape, strides)
        pad = rank - r          # (the kernel gave it leading 1-dims: see group._permuted)
        padded = (1,) * pad + tuple(shape)
        kst = contiguous_strides(tuple(padded[d] for d in order))
        got_st = [0] * rank
        for k, d in enumerate(order):
            got_st[d] = kst[k]
        got = stride_order(shape, got_st[pad:])
        if got != want:
            fixes.append((i, None if want == tuple(range(r)) else want))
    return fixes


def size1_strides(subgraph, args, kinds):
    """Per output, the element strides eager code gives it (eager_perm), for the outputs
    with a dim of size 1, else None; None when no output has one (or eager's layout is not
    known). A kernel writes each output dense in its dim order, but the strides of its
    size-1 dims are TensorIterator's, which orders those dims by the operands' strides
    too: x = torch.ones(3, 4).unsqueeze(0).permute(1, 0, 2) (strides (4, 12, 1)) gives
    torch.sigmoid(x * 2) the strides (4, 12, 1), not (4, 4, 1)."""
    tensors = [a for a, k in zip(args, kinds) if k == "tensor"]
    if any(st < 0 for a in tensors for n, st in zip(a.shape, a.strides) if n > 1):
        return None
    layouts = eager_perm(subgraph, args, kinds, per_output=True)
    if layouts is _UNKNOWN or not any(1 in shape for shape, _ in layouts):
        return None
    return [tuple(st) if 1 in shape else None for shape, st in layouts]


def restrided(o, want):
    """Output array o with element strides `want` in its dims of size 1 (a view of the
    same memory: no index reaches those strides), or o itself when it has them."""
    item = o.itemsize
    have = o.strides
    new = tuple(w * item if n == 1 else h for n, w, h in zip(o.shape, want, have))
    if new == have:
        return o
    if isinstance(o, np.ndarray):
        return np.lib.stride_tricks.as_strided(o, o.shape, new)
    import cupy
    return cupy.lib.stride_tricks.as_strided(o, o.shape, new)


def relaid_out(a, perm):
    """A copy of array a laid out in dim order perm (None: C order), as layout_perm's
    orders are: a.transpose(perm) is C-contiguous."""
    if perm is None:
        return a.copy(order="C")
    inv = tuple(sorted(range(len(perm)), key=perm.__getitem__))
    return a.transpose(perm).copy(order="C").transpose(inv)


def stride_order(shape, strides):
    """The dim order of a layout: the dims of size > 1 sorted by stride (outermost first),
    each in the place of one of them; a dim of size 1 stays where it is (its stride means
    nothing: moved, it gave fused results other strides there)."""
    rank = len(shape)
    big = [d for d in range(rank) if shape[d] > 1]
    p = list(range(rank))
    for slot, d in zip(big, sorted(big, key=lambda d: (-strides[d], d))):
        p[slot] = d
    return tuple(p)


def layout_perm(args, kinds, cuts=None, subgraph=None):
    """The dim order in which the group's outputs are laid out as eager code lays them out
    (NumPy's and PyTorch's elementwise ops follow their inputs' memory layout: the sum of
    two transposed matrices is transposed), or None for C order. Only when every tensor
    argument with the outputs' full sizes orders its
    dims by stride in one non-C order P (no 0 or negative strides): the kernel then runs on
    the arguments transposed by P (views; those of lower rank first get leading 1-dims,
    `in_layout`) and its outputs are transposed back (views, laid out as eager's).
    `cuts` (argument index -> dims) names the dims chunks and cats cut: an argument
    read in pieces or as one input of a cat has the outputs' sizes but there."""
    tensors = [(j, a) for j, (a, k) in enumerate(zip(args, kinds)) if k == "tensor"]
    if not tensors:
        return None
    rank = max(a.ndim for _, a in tensors)
    if rank < 2:
        return None
    if subgraph is not None and all(
            st >= 0 for _, a in tensors for n, st in zip(a.shape, a.strides) if n > 1):
        perm = eager_perm(subgraph, args, kinds)
        if perm is not _UNKNOWN:
            return perm
    cuts = cuts or {}

    def sizes(j, a):                # (a cut dim: None)
        cut = cuts.get(j, ())
        return (1,) * (rank - a.ndim) + tuple(None if d in cut and n > 1 else n
                                              for d, n in enumerate(a.shape))
    shape = tuple(max((n for n in col if n is not None), default=None) for col in zip(*(
        sizes(j, a) for j, a in tensors)))
    perm = None
    for j, a in tensors:
        if a.ndim != rank or any(n is not None and n != m
                                 for n, m in zip(sizes(j, a), shape)):
            continue
        if any(st <= 0 for n, st in zip(a.shape, a.strides) if n > 1):
            return None
        p = stride_order(a.shape, a.strides)
        if perm is None:
            perm = p
        elif p != perm:
            return None
    if perm is None or perm == tuple(range(rank)):
        return None
    return perm


def in_layout(a, perm):
    """Array a (of rank len(perm) or less: leading 1-dims added) transposed by perm. A
    0-dim array stays one: it broadcasts as it is, and a 0-dim tensor takes part in type
    promotion as a number does (uint8 + an int8 0-dim tensor is uint8, not int16)."""
    if a.ndim == 0:
        return a
    pad = len(perm) - a.ndim
    return (a[(None,) * pad] if pad else a).transpose(perm)


def space_problem(typed):
    """Why no kernel computes the group for these sizes (`typed`: the subgraph retyped
    with exact sizes), else None. A kernel walks one iteration space: the pieces it reads
    and the results it returns must broadcast together, and the pieces of an uneven chunk
    do not (5 rows in 2: 3 and 2), though those of the sizes the group was profiled with
    were (4 rows: 2 and 2)."""
    from .chunks import space_shapes
    space = space_shapes(typed, lambda n: True)     # (a piece a cat reads: the cat's)
    sizes = [space.get(o, tuple(o.type.sizes)) for n in typed.nodes
             if n.kind == CONSTANT_CHUNK for o in n.outputs if o.uses]
    sizes += [tuple(v.type.sizes) for v in typed.outputs if isinstance(v.type, T.TensorType)]
    for d in range(1, max((len(x) for x in sizes), default=0) + 1):
        seen = sorted({x[-d] for x in sizes if len(x) >= d and x[-d] != 1})
        if len(seen) > 1:
            a, b = (next(list(x) for x in sizes if len(x) >= d and x[-d] == n)
                    for n in seen[:2])
            chunked = any(n.kind == CONSTANT_CHUNK for n in typed.nodes)
            what = ", an uneven chunk" if chunked else ""
            return (f"its pieces (or results) have sizes that do not broadcast together "
                    f"({a} and {b}{what}): one kernel walks one iteration space")
    return None


def permute_cuts(subgraph, args, kinds, perm):
    """A copy of subgraph for the arguments transposed by perm (`in_layout`: rank
    len(perm)), its chunks and cats cutting the dims they cut of the arguments as they
    are (their dim attributes count in each value's own rank), or None when the group
    does not run in that order as eager: torch.cat's result of rank < 4 is C-contiguous,
    whatever its inputs' layout."""
    full = len(perm)
    g = subgraph.copy()
    rank = {p: a.ndim for p, a, k in zip(g.inputs, args, kinds) if k == "tensor"}
    for n in g.nodes:
        r = max((rank[v] for v in n.inputs if v in rank), default=None)
        if r is None:
            continue
        if n.kind in (CONSTANT_CHUNK, FUSED_CONCAT):
            if n.kind == FUSED_CONCAT and r < 4:
                return None
            d = n.attrs["dim"]
            if r and -r <= d < r:       # (else retype raises eager's error)
                n.attrs["dim"] = perm.index(full - r + d % r)
        for o in n.outputs:
            if isinstance(o.type, T.TensorType):
                rank[o] = r
    return g


def in_layout_expr(expr, ndim, perm):
    """in_layout as a Python expression on the expression of an array of rank ndim."""
    if ndim == 0:
        return expr
    pad = len(perm) - ndim
    return f"{expr}[{'None, ' * pad}].transpose({perm})" if pad else f"{expr}.transpose({perm})"


def arg_specs(args, kinds, static, fixed=None):
    """The ArgSpec of each argument; `fixed` (input index -> dims) names the dims whose
    sizes a DYNAMIC kernel is specialized on all the same (those chunks and cats cut)."""
    out = []
    for k, (a, kind) in enumerate(zip(args, kinds)):
        if kind == "scalar":
            out.append(ArgSpec("scalar", scalar_dtype(a)))
            continue
        shape = tuple(a.shape)
        item = a.itemsize
        dims = () if static or not fixed else sorted(fixed.get(k, ()))
        out.append(ArgSpec("tensor", _dt._FROM_NP[a.dtype], len(shape),
                           shape if static else None,
                           tuple(s // item for s in a.strides) if static else None,
                           bool(a.flags.c_contiguous), tuple(s == 1 for s in shape),
                           tuple((d, shape[d]) for d in dims)))
    return tuple(out)


def _tensor_type(dtype, shape, strides, device, static):
    if static:
        return T.TensorType(dtype, tuple(shape), tuple(strides), device, False)
    return T.TensorType(dtype, (None,) * len(shape), None, device, False)


def retype(subgraph, args, device, static):
    """A copy of subgraph typed for these arguments (see the module docstring). Raises
    what eager would (an unsupported dtype) when the ops do not take these types."""
    g = subgraph.copy()
    vals = {}
    for p, a in zip(g.inputs, args):
        if isinstance(p.type, T.TensorType):
            dt, shape = _dt._FROM_NP[a.dtype], tuple(a.shape)
            strides = tuple(s // a.itemsize for s in a.strides)
            p.type = _tensor_type(dt, shape, strides, device, static)
            vals[p] = TensorMeta(dt, shape, device)
        else:
            p.type = _SCALAR_IR[scalar_dtype(a)]
            vals[p] = a
    for n in g.nodes:
        if n.kind == "prim::Constant":
            vals[n.output] = n.attrs.get("value")
            continue
        if n.kind == CONSTANT_CHUNK:
            x = vals[n.inputs[0]]
            d, sizes = chunk_rule(x.shape, n.attrs["chunks"], n.attrs["dim"])
            if sizes is None or len(sizes) != len(n.outputs):
                raise ValueError(f"prim::ListUnpack: expected {len(n.outputs)} values to "
                                 f"unpack, got {len(sizes or ())}")
            for o, size in zip(n.outputs, sizes):
                shape = x.shape[:d] + (size,) + x.shape[d + 1:]
                o.type = _tensor_type(x.dtype, shape, contiguous_strides(shape), device,
                                      static)
                vals[o] = TensorMeta(x.dtype, shape, device)
            continue
        ins = [vals[v] for v in n.inputs]
        if n.kind == FUSED_CONCAT:
            dt, shape, _, keep = cat_rule([m.shape for m in ins], [m.dtype for m in ins],
                                          n.attrs["dim"])
            if len(keep) != len(ins):
                raise ValueError("torch.cat of a 1-D empty tensor (it is skipped) runs "
                                 "unfused")
            out = n.output
            out.type = _tensor_type(dt, shape, contiguous_strides(shape), device, static)
            vals[out] = TensorMeta(dt, tuple(shape), device)
            continue
        meta = run_meta(n.op, *ins)
        # the op's own shape rule: an unsqueeze or a batch_norm in a group is not a
        # broadcast of its inputs ([C] unsqueezed is [1, C]; x [N, C, L] with w [C] is x's)
        shape = tuple(meta.shape)
        why = inplace_mismatch(n, ins[0] if ins else None, meta.dtype, shape)
        if why is not None:         # (the fallback runs the in-place op: eager's answer)
            raise ValueError(why)
        out = n.output
        out.type = _tensor_type(meta.dtype, shape, contiguous_strides(shape), device, static)
        vals[out] = TensorMeta(meta.dtype, shape, device)
    return g


def scalar_checks(sub, kinds):
    """{kernel argument index: ((op, parameter, numpy dtype), ...)} for the scalar inputs
    of typed subgraph `sub` that an op converts to its dtype range-checked
    (OpDef.checked_floats: clamp(h, min=v), pow(h, v)): a constant out of range is kept
    out of groups (fusibility), one known only at run time is checked by the guard."""
    index = {p: i for i, (p, k) in enumerate(zip(sub.inputs, kinds)) if k == "scalar"}
    out = {}
    for n in sub.nodes:
        op = getattr(n, "op", None)
        if op is None or not op.checked_floats or not n.outputs:
            continue
        dt = getattr(n.outputs[0].type, "dtype", None)
        if dt is None:
            continue
        for a, v in zip(op.schema.arguments, n.inputs):
            if a.name in op.checked_floats and v in index:
                out.setdefault(index[v], []).append((op, a.name, dt.np))
    return {i: tuple(c) for i, c in out.items()}


def checks_range(checks):
    """(lo, hi): numbers between them pass every check (the guard's cheap test; one out of
    it is looked at by number_fits: an inf, a NaN, 2.0**63 for int64)."""
    lo, hi = -math.inf, math.inf
    for op, name, npt in checks:
        to = np.dtype(op.checked_floats[name].get(np.dtype(npt), npt) or np.float64)
        info = np.finfo(to) if to.kind in "fc" else np.iinfo(to) if to.kind in "iu" else None
        if info is not None:
            lo, hi = max(lo, float(info.min)), min(hi, float(info.max))
    return lo, hi


def number_fits(checks, v) -> bool:
    """Whether Python number v passes c10's checked conversion for every check (eager's
    call raises PyTorch's error where it does not)."""
    try:
        for op, name, npt in checks:
            checked_number(op, name, v, npt)
    except RuntimeError:
        return False
    return True
