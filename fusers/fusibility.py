"""Which nodes the fuser may put into a fusion group, and why the others stay out.

A node is fusible when its op is a registry op tagged pointwise with a scalar expression
(`OpDef.scalar`, what the kernels emit per element), every tensor it reads or writes has a
complete profiled type (dtype, sizes, device) of a supported dtype on one device, every
number it takes as an operand is a typed Python number (a constant, or an int/float/bool
value that becomes a kernel argument), and every other argument (alpha, rounding_mode,
dtype...) is a constant the kernel can bake in. In-place ops stay out (they write memory
someone else may read), and so do view-like ops (`Tensor(a)` results) whose memory is
written in place somewhere: a fused copy would not see the write.

`unfusible_reason(node)` returns None for a fusible node, else the reason in the user's
words; `fusion_report` and `StrictFusionError` show these reasons.
"""
from __future__ import annotations

from .. import dtypes as _dt
from ..ir import types as T
from ..ir.schema_match import has_side_effects, AUTOGRAD_KINDS
from ..ops.registry import _NARROW as _NARROW_INTS, checked_int, checked_number
from .batch_norm import BATCH_NORM, batch_norm_problem
from .strategy import fusion_on

CONSTANT_CHUNK = "prim::ConstantChunk"
FUSED_CONCAT = "prim::FusedConcat"
# the one view op NNC fuses (x.unsqueeze(d), d a constant): a kernel reads the value it
# unsqueezes with a size-1 dim inserted (fusers/views.py moves it onto the group inputs)
UNSQUEEZE = "aten::unsqueeze"
# `with` regions' markers: opaque to alias analysis (they may write anything they are
# given), but a strict_fusion or no_grad region writes no tensor
_REGION_MARKERS = frozenset({"prim::Enter", "prim::Exit"})

__all__ = ["GROUP_KIND", "UNSQUEEZE", "SUPPORTED_DTYPES", "unfusible_reason", "node_device",
           "tensor_type_problem", "runs_on", "is_group", "is_bookkeeping"]

GROUP_KIND = "prim::TensorExprGroup"

# the real dtypes: float16/32/64, the integer types and bool (complex64 / complex128 are
# not fusible: a graph on them runs unfused)
SUPPORTED_DTYPES = frozenset(_dt.ALL)

_NUMBER_TYPES = (T.IntType, T.FloatType, T.BoolType)

# nodes that only move Python values around (tuples, lists, attributes, control flow):
# never fused, never reported as unfused work by strict_fusion
_BOOKKEEPING_PRIMS = frozenset({
    "prim::Constant", "prim::ListConstruct", "prim::TupleConstruct", "prim::TupleUnpack",
    "prim::ListUnpack", "prim::TupleIndex", "prim::DictConstruct", "prim::GetAttr",
    "prim::SetAttr", "prim::unchecked_cast", "prim::Uninitialized", "prim::If",
    "prim::Loop", "prim::dtype", "prim::device", "prim::requires_grad", "prim::data",
    "prim::grad", "prim::is_leaf", "prim::itemsize", "prim::nbytes", "prim::Enter",
    "prim::Exit",
    "prim::RaiseException", "prim::Print", "prim::RecordFunction"})
# ops that read a tensor's metadata only (no data, no device work)
_SHAPE_QUERIES = frozenset({"aten::size", "aten::dim", "aten::numel", "aten::len",
                            "aten::stride", "aten::is_contiguous", "aten::is_floating_point"})


def is_group(node) -> bool:
    return node.kind == GROUP_KIND


def _is_tensor(v) -> bool:
    return isinstance(v.type, T.TensorType)


def _container_access(node) -> bool:
    """`xs[i]` of a list, dict or tuple (a tensor taken out of a container, no compute)."""
    return (node.kind == "aten::__getitem__" and bool(node.inputs) and isinstance(
        node.inputs[0].type, (T.ListType, T.DictType, T.TupleType)))


def is_bookkeeping(node) -> bool:
    """Shape and container bookkeeping (constants, tuples, lists, attributes, control flow,
    size queries, scalar arithmetic): what strict_fusion does not ask to be fused."""
    if node.kind in _BOOKKEEPING_PRIMS or _container_access(node):
        return True
    if any(_is_tensor(o) for o in node.outputs):
        return False
    if node.kind.startswith("prim::"):
        return True
    base = node.kind.split(".")[0]
    return base in _SHAPE_QUERIES or not any(_is_tensor(v) for v in node.inputs)


def tensor_type_problem(t) -> str | None:
    """What keeps a tensor of IR type t out of a kernel (None: nothing)."""
    if t.sizes is None or any(s is None for s in t.sizes):
        return "unknown shape"
    if t.dtype is None:
        return "unknown dtype"
    if t.device is None:
        return "unknown device"
    if t.dtype not in SUPPORTED_DTYPES:
        return f"unsupported dtype {t.dtype.name}"
    return None


def node_device(node):
    """The one device of a node's tensors (None when it has none or they are unknown)."""
    for v in list(node.inputs) + list(node.outputs):
        if _is_tensor(v) and v.type.device is not None:
            return v.type.device
    return None


def runs_on(device) -> str:
    """The library that runs an unfused op on `device`, for messages."""
    if device is None:
        return "CuPy/NumPy"
    return "CuPy" if device.type == "cuda" else "NumPy"


def _constant(v):
    return v.node.kind == "prim::Constant"


def _name(v):
    return f"%{v.debug_name}"


def _fusion_off(dev) -> str:
    return (f"fusion on {dev.type} is off (gpujit._C._jit_override_can_fuse_on_"
            f"{'cpu' if dev.type == 'cpu' else 'gpu'}(False))")


def unfusible_reason(node, alias_db=None) -> str | None:
    """None when the fuser may put `node` into a group, else why not. `alias_db` (an
    AliasDb of the graph) lets it tell in-place writes on graph inputs apart and refuse
    view-like ops whose memory is written."""
    kind = node.kind
    if is_group(node):
        return None
    if kind == "prim::Constant":
        return "constant (copied into the groups that use it)"
    if kind in ("prim::If", "prim::Loop"):
        return "control flow (the ops in its blocks fuse among themselves)"
    if kind == CONSTANT_CHUNK:
        return _chunk_problem(node, alias_db)
    if kind == FUSED_CONCAT:
        return _concat_problem(node)
    if kind in ("prim::Enter", "prim::Exit") and node.attrs.get("name"):
        # (what a fusion report says of a `with` line: a marker, not work left unfused)
        return (f"{'start' if kind == 'prim::Enter' else 'end'} of a `with "
                f"{node.attrs['name']}():` region (no tensor work)")
    if kind.startswith("prim::"):
        if has_side_effects(node):
            return f"{kind} has side effects (runs in Python)"
        return ("shape/container bookkeeping (runs in Python)" if is_bookkeeping(node)
                else f"{kind} is not an op the fuser handles (runs in Python)")
    if _container_access(node):
        return "shape/container bookkeeping (runs in Python)"
    if kind == UNSQUEEZE:
        return _unsqueeze_problem(node, alias_db)
    if kind == BATCH_NORM and node.op is not None:
        reason = batch_norm_problem(node, tensor_type_problem)
        if reason is None:
            dev = node_device(node)
            if dev is not None and not fusion_on(dev.type):
                return _fusion_off(dev)
        return reason
    op = node.op
    if op is None:
        if kind in AUTOGRAD_KINDS:      # (aten::grad, aten::backward: the interpreter's)
            return "autograd call (runs in Python)"
        return "no registry op takes these input types"
    dev = node_device(node)
    if not any(_is_tensor(o) for o in node.outputs):
        return ("shape query (runs in Python)" if is_bookkeeping(node)
                else f"no tensor result (runs on {runs_on(dev)})")
    if not op.is_pointwise:
        if "random" in op.tags or "nondeterministic" in op.tags:
            return f"random op (runs on {runs_on(dev)})"
        if "reduction" in op.tags:
            return f"reduction (runs on {runs_on(dev)})"
        return f"not pointwise (runs on {runs_on(dev)})"
    if not op.scalar:
        return f"pointwise op without a scalar expression (runs on {runs_on(dev)})"
    args = op.schema.arguments
    if op.inplace_of is not None or any(a.type.is_write for a in args):
        if alias_db is not None and node.inputs and alias_db.is_wildcard(node.inputs[0]):
            return "in-place op on a graph input"
        return "in-place op (writes its input)"
    if has_side_effects(node):
        return f"has side effects (runs on {runs_on(dev)})"
    reason = _arguments_problem(op, node) or _checked_scalar_problem(op, node)
    if reason:
        return reason
    for o in node.outputs:
        if _is_tensor(o):
            problem = tensor_type_problem(o.type)
            if problem:
                return f"{problem} of its result {_name(o)}"
    devices = {v.type.device for v in list(node.inputs) + list(node.outputs) if _is_tensor(v)}
    if len(devices) > 1:
        return f"mixed devices ({', '.join(sorted(str(d) for d in devices))})"
    if dev is not None and not fusion_on(dev.type):
        return _fusion_off(dev)
    if alias_db is not None:
        for r, o in zip(op.schema.returns, node.outputs):
            if r.type.alias and _written(alias_db, o):
                return ("its result may share memory with its input, and that memory is "
                        "written in place")
    return None


def _chunk_problem(node, alias_db) -> str | None:
    """Why a prim::ConstantChunk (x.chunk(c, d) unpacked, fusers/chunks.py) cannot be
    fused (None: it can): its input and pieces must have complete types on one device,
    and nothing may write the pieces (a fused piece is a copy, not a view)."""
    x = node.inputs[0]
    problem = tensor_type_problem(x.type) if _is_tensor(x) else "not a tensor"
    if problem:
        return f"{problem} of input {_name(x)}"
    if not x.type.sizes or not -len(x.type.sizes) <= node.attrs["dim"] < len(x.type.sizes):
        return "chunk of a dimension the input does not have"
    for o in node.outputs:
        problem = tensor_type_problem(o.type)
        if problem:
            return f"{problem} of its result {_name(o)}"
    dev = x.type.device
    if not fusion_on(dev.type):
        return _fusion_off(dev)
    if alias_db is not None and any(_written(alias_db, o) for o in node.outputs):
        return "its pieces share memory with its input, and that memory is written in place"
    return None


def _written(alias_db, v) -> bool:
    """Does an in-place op write v or a value that may alias it? (A `with` region's
    markers do not count: alias analysis lets them write anything they are given.)"""
    return any(w.kind not in _REGION_MARKERS for w in alias_db.writers(v))


def _unsqueeze_problem(node, alias_db) -> str | None:
    """Why `x.unsqueeze(d)` cannot be fused (None: it can): d must be a constant, x and
    the result complete tensor types on a device that fuses, and no in-place op may write
    the result or x (a fused unsqueeze reads a copy's worth of x, not a view of it)."""
    x, d = node.inputs[0], node.inputs[1]
    if not _is_tensor(x):
        return "unsqueeze of a number"
    if not _constant(d):
        return f"argument 'dim' ({_name(d)}) is not a constant"
    for v in (x, node.output):
        problem = tensor_type_problem(v.type)
        if problem:
            return f"{problem} of {'its result' if v is node.output else 'input'} {_name(v)}"
    dev = x.type.device
    if not fusion_on(dev.type):
        return _fusion_off(dev)
    if alias_db is not None and _written(alias_db, node.output):
        return "its result shares memory with its input, and that memory is written in place"
    return None


def is_legacy_empty(sizes, rank) -> bool:
    """A cat input of sizes [0] next to a result of another rank: torch.cat skips such
    legacy empty tensors (only their dtype takes part in the result's)."""
    return tuple(sizes) == (0,) and rank != 1


def _concat_problem(node) -> str | None:
    """Why a prim::FusedConcat (torch.cat of a list built for it, fusers/chunks.py) cannot
    be fused (None: it can): its inputs must have complete types of one rank on one
    device, and equal sizes but along the cat's dim (a kernel does not broadcast them)."""
    out = node.output
    for v in list(node.inputs) + [out]:
        problem = tensor_type_problem(v.type)
        if problem:
            return f"{problem} of {'its result' if v is out else 'input'} {_name(v)}"
    rank = len(out.type.sizes)
    dim = node.attrs["dim"]
    if rank == 0 or not -rank <= dim < rank:
        return "cat along a dimension the result does not have"
    dim %= rank
    for v in node.inputs:
        sizes = v.type.sizes
        if is_legacy_empty(sizes, rank):
            continue            # torch.cat skips it; the kernel never reads it
        if len(sizes) != rank or any(a != b for i, (a, b) in enumerate(zip(sizes, out.type.sizes))
                                     if i != dim):
            return (f"input {_name(v)} of sizes {list(sizes)} does not line up with the "
                    f"result's {list(out.type.sizes)} (a kernel does not broadcast cat's "
                    f"inputs)")
    devices = {v.type.device for v in list(node.inputs) + [out]}
    if len(devices) > 1:
        return f"mixed devices ({', '.join(sorted(str(d) for d in devices))})"
    dev = out.type.device
    if not fusion_on(dev.type):
        return _fusion_off(dev)
    return None


def _checked_scalar_problem(op, node) -> str | None:
    """A Python int that PyTorch converts to a narrow integer result dtype with its range
    checked (OpDef.checked_scalars: clamp's bounds, masked_fill's value, alpha ...): a
    kernel wraps it, so one out of range, or known only at run time, stays out of the group
    (the op's eager call raises PyTorch's error)."""
    names = op.checked_scalars
    out = node.outputs[0].type if node.outputs else None
    dt = getattr(out, "dtype", None)
    if op.checked_floats and dt is not None:
        # a constant float (an int, for float16) out of the range c10 checks it against
        # (clamp(h, min=1e6), threshold(u8, -0.5, 1.0)): eager's call raises
        for a, v in zip(op.schema.arguments, node.inputs):
            c = v.node.attrs.get("value") if a.name in op.checked_floats and \
                _constant(v) else None
            if type(c) in (int, float):
                try:
                    checked_number(op, a.name, c, dt.np)
                except RuntimeError as e:
                    return f"argument '{a.name}' = {c}: {e} (runs on {runs_on(node_device(node))})"
    if not names or dt is None or dt.np not in _NARROW_INTS:
        return None
    for a, v in zip(op.schema.arguments, node.inputs):
        if a.name not in names:
            continue
        if _constant(v):
            c = v.node.attrs.get("value")
            if type(c) is int:
                try:
                    checked_int(c, dt.np)
                except RuntimeError as e:
                    return f"argument '{a.name}' = {c}: {e} (runs on {runs_on(node_device(node))})"
        elif isinstance(v.type, T.IntType):
            return (f"int argument '{a.name}' ({_name(v)}) of a {dt.name} result is range-"
                    f"checked when it runs (runs on {runs_on(node_device(node))})")
    return None


def _arguments_problem(op, node) -> str | None:
    operands = op.operands
    for a, v in zip(op.schema.arguments, node.inputs):
        t = v.type
        if isinstance(t, T.TensorType):
            problem = tensor_type_problem(t)
            if problem:
                return f"{problem} of input {_name(v)}"
            continue
        if _constant(v):
            continue               # copied into the group's subgraph
        if a.name in operands or a.type.base == "Tensor":
            if isinstance(t, _NUMBER_TYPES):
                continue           # a Python number passed to the kernel at run time
            if isinstance(t, T.NumberType):
                return (f"scalar {_name(v)} of unknown type (a Scalar, e.g. from .item(); "
                        f"the kernel needs an int, float or bool)")
            if isinstance(t, T.OptionalType):
                return f"argument '{a.name}' ({_name(v)}) may be None at run time"
            return f"argument '{a.name}' is a {t}, not a tensor or a number"
        return f"argument '{a.name}' ({_name(v)}) is not a constant"
    return None
