"""aten::batch_norm in inference in a fusion group (NNC lists it among its fusible ops).

With `training` a constant False and running statistics given, batch_norm is pointwise per
channel (gpujit/ops/fused_norm.py says what it computes). The partitioner fuses such a node
(`batch_norm_problem` says why it cannot); the group's subgraph keeps the aten::batch_norm
node (graph_for shows it, the unfused fallback and the autograd of the group run it as
eager does). A kernel reads its inputs right-aligned, so before one is built `line_up`
rewrites each batch_norm of the kernel graph into aten::_batch_norm_lined_up, whose 1-D
parameters are unsqueezed to [C, 1, ..., 1] (rank of x minus 1) and thus line up with dim 1
of x; fusers/views.py then moves those unsqueezes onto the group's inputs (views, no copy).
"""
from __future__ import annotations

from .. import dtypes as _dt
from ..ir import types as T

__all__ = ["BATCH_NORM", "PARAMS", "batch_norm_problem", "is_parameter_use", "line_up"]

BATCH_NORM = "aten::batch_norm"
# input index -> name of the per-channel parameters (schema order after the input)
PARAMS = {1: "weight", 2: "bias", 3: "running_mean", 4: "running_var"}
_NUMBERS = (T.IntType, T.FloatType, T.BoolType)


def _name(v):
    return f"%{v.debug_name}"


def _const(v):
    return v.node.kind == "prim::Constant"


def is_parameter_use(node, v) -> bool:
    """Is v read by batch_norm node `node` as a per-channel parameter (lined up with dim 1
    of the input, not broadcast against it)?"""
    return node.kind == BATCH_NORM and any(node.inputs[i] is v for i in PARAMS
                                           if i < len(node.inputs))


def batch_norm_problem(node, tensor_type_problem) -> str | None:
    """Why batch_norm node `node` cannot be fused (None: it can). `tensor_type_problem(t)`
    says what keeps a tensor type out of a kernel."""
    ins = node.inputs
    if len(ins) != 9:
        return "batch_norm with an unexpected argument list"
    x, training = ins[0], ins[5]
    if not _const(training):
        return (f"argument 'training' ({_name(training)}) is not a constant (a module's "
                f"self.training: trace or freeze the module in eval mode)")
    if training.node.attrs.get("value") is not False:
        return ("batch_norm in training (it computes batch statistics and updates the "
                "running ones in place)")
    for i in (3, 4):
        if _const(ins[i]) and ins[i].node.attrs.get("value") is None:
            return (f"batch_norm without {PARAMS[i]} (it normalizes with the batch's "
                    f"statistics)")
    if not isinstance(x.type, T.TensorType):
        return "batch_norm of a value that is not a tensor"
    problem = tensor_type_problem(x.type)
    if problem:
        return f"{problem} of input {_name(x)}"
    sizes, dt = x.type.sizes, x.type.dtype
    if len(sizes) < 2:
        return "batch_norm of an input with fewer than 2 dims (eager raises)"
    if dt.category != _dt.FLOATING:
        return f"batch_norm of a {dt.name} input (eager raises)"
    for i, pname in PARAMS.items():
        v = ins[i]
        if _const(v) and v.node.attrs.get("value") is None:
            continue                    # weight / bias None: no scale / no shift
        t = v.type
        if not isinstance(t, T.TensorType):
            return f"argument '{pname}' ({_name(v)}) may be None at run time"
        problem = tensor_type_problem(t)
        if problem:
            return f"{problem} of {pname} {_name(v)}"
        if tuple(t.sizes) != (sizes[1],):
            return (f"{pname} {_name(v)} of sizes {list(t.sizes)} is not one value per "
                    f"channel of the input ([{sizes[1]}])")
        if t.dtype is not dt and not (dt is _dt.float16 and t.dtype is _dt.float32):
            return (f"{pname} {_name(v)} is {t.dtype.name} for a {dt.name} input (eager "
                    f"raises: mixed dtypes)")
    for i, pname in ((6, "momentum"), (7, "eps"), (8, "cudnn_enabled")):
        v = ins[i]
        if not _const(v) and not isinstance(v.type, _NUMBERS):
            return f"argument '{pname}' ({_name(v)}) is a {v.type}, not a number"
    problem = tensor_type_problem(node.output.type)
    if problem:
        return f"{problem} of its result {_name(node.output)}"
    devices = {v.type.device for v in list(ins[:5]) + [node.output]
               if isinstance(v.type, T.TensorType)}
    if len(devices) > 1:
        return f"mixed devices ({', '.join(sorted(str(d) for d in devices))})"
    return None


def has_batch_norm(graph) -> bool:
    return any(n.kind == BATCH_NORM for n in graph.nodes)


def line_up(g, unsqueeze_kind, make_unsqueezed_type):
    """Rewrite, in place, each aten::batch_norm of kernel graph g into
    aten::_batch_norm_lined_up(x, w', b', m', v', eps), each parameter p' being p
    unsqueezed at dims 1, 2, ..., rank(x) - 2 (new unsqueeze nodes: fusers/views.py moves
    them onto the group inputs)."""
    from ..ops.fused_norm import BATCH_NORM_LINED_UP as op
    for n in [m for m in g.nodes if m.kind == BATCH_NORM]:
        x = n.inputs[0]
        rank = len(x.type.sizes)
        ins = [x]
        for i in PARAMS:
            p = n.inputs[i]
            if isinstance(p.type, T.TensorType):
                for d in range(1, rank - 1):
                    c = g.create("prim::Constant", attrs={"value": d}, output_types=[T.INT])
                    c.insert_before(n)
                    u = g.create(unsqueeze_kind, [p, c.output],
                                 output_types=[make_unsqueezed_type(p.type, d)],
                                 source_range=n.source_range, scope=n.scope)
                    u.op = _unsqueeze_op()
                    u.insert_before(n)
                    p = u.output
            ins.append(p)
        ins.append(n.inputs[7])
        q = g.create(op.name, ins, output_types=[n.output.type],
                     source_range=n.source_range, scope=n.scope)
        q.op = op
        q.insert_before(n)
        n.output.replace_all_uses_with(q.output)
        n.destroy()


def _unsqueeze_op():
    from ..ops.registry import OPS
    return OPS["aten::unsqueeze"]
