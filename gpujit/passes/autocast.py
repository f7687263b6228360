"""Autocast regions of scripted code: explicit casts in front of the ops they cover.

`with torch.autocast(...)` in scripted code compiles to prim::Enter / prim::Exit nodes
named "autocast" (attributes device_type, dtype, enabled: constants, read when the
function was compiled). This pass, run after inlining (so a called function's ops follow
the caller's region, as TorchScript's JIT autocast pass does), walks each block with the
enabled regions and puts in front of each op on PyTorch's autocast lists (the lists eager
autocast uses, gpujit/amp/lists.py) the casts TorchScript inserts:

  lower        aten::_autocast_to_reduced_precision on each Tensor input
  fp32         aten::_autocast_to_full_precision on each Tensor input
  fp32_dtype   as fp32 when the call's `dtype` is None (a constant); not when it is given
  promote      aten::_autocast_to_full_precision on each Tensor input (TorchScript's pass
               has no dtypes to find the widest one by: it widens to float32, where eager
               keeps float16 when every input is float16)
  banned       refused when the graph is optimized, with eager autocast's message

The casts decide at run time by the tensor (float32 / float16 on an enabled device:
a 'cuda' region leaves CPU tensors alone, float64 stays), and are ordinary nodes: the
executor, autograd and the fuser see them. In-place ops and out= variants are not cast
(eager autocast does not cast them either).
"""
from __future__ import annotations

from .. import dtypes as _dt
from ..ir import types as T

__all__ = ["insert_autocast_casts", "REGION"]

REGION = "autocast"        # prim::Enter / prim::Exit[name=...] of an autocast region
_SKIP_TAGS = ("inplace", "out")


def insert_autocast_casts(graph):
    """Cast the inputs of the ops inside autocast regions (in place); False where the
    graph has no autocast region (and is left as it was)."""
    if not any(n.kind == "prim::Enter" and n.attrs.get("name") == REGION
               for n in graph.walk()):
        return False
    _walk(graph, graph.block, {})


def _walk(graph, block, state):
    saved = []
    for n in list(block.nodes):
        if n.kind == "prim::Enter" and n.attrs.get("name") == REGION:
            saved.append(state)
            state = dict(state)
            dev = n.attrs["device_type"]
            if n.attrs["enabled"]:
                state[dev] = getattr(_dt, n.attrs["dtype"])
            else:
                state.pop(dev, None)
        elif n.kind == "prim::Exit" and n.attrs.get("name") == REGION:
            state = saved.pop() if saved else {}
        elif n.blocks:
            for b in n.blocks:
                _walk(graph, b, state)
        elif state and not n.kind.startswith("prim::"):
            _cast_inputs(graph, n, state)


def _policies(op, state):
    from ..amp.lists import POLICIES
    base = op.name.split(".")[0]
    return [(dev, POLICIES[dev].get(base)) for dev in state if POLICIES[dev].get(base)]


def _cast_inputs(graph, n, state):
    op = n.op
    if op is None or any(t in op.tags for t in _SKIP_TAGS):
        return
    pols = _policies(op, state)
    if not pols:
        return
    from ..amp.lists import BANNED_MESSAGE
    from ..ops import registry as _reg
    for dev, pol in pols:
        if pol == "banned":
            raise RuntimeError(BANNED_MESSAGE)
        if pol == "fp32_dtype":
            names = [a.name for a in op.schema.arguments]
            if "dtype" in names and names.index("dtype") < len(n.inputs):
                d = n.inputs[names.index("dtype")]
                if not (d.node.kind == "prim::Constant" and "value" not in d.node.attrs):
                    continue            # dtype= given (or not known to be None)
        on = [dev == "cuda", dev == "cpu"]
        if pol == "lower":
            kind, extra = "aten::_autocast_to_reduced_precision", [
                *on, state.get("cuda", _dt.float16), state.get("cpu", _dt.float16)]
        else:
            kind, extra = "aten::_autocast_to_full_precision", on
        _insert_casts(graph, n, kind, extra, _reg.OVERLOADS[kind][0])


def _insert_casts(graph, n, kind, extra, cast_op):
    """A `kind` cast of each Tensor input of n, placed just before n. Tensor lists (cat,
    stack) are not cast, as TorchScript's pass leaves them: their ops promote anyway."""
    consts = None
    done = {}                               # torch.mm(a, a): one cast of a
    for i, v in enumerate(list(n.inputs)):
        if isinstance(v.type, T.TensorType):
            if v.node.kind == kind and v.node.inputs[1:] and \
                    [_const(x) for x in v.node.inputs[1:]] == extra:
                continue                    # cast already (code saved with its casts)
            consts = consts or _consts(graph, n, extra)
            if v not in done:
                done[v] = _cast(graph, n, kind, v, consts, cast_op)
            n.replace_input(i, done[v])
        elif isinstance(v.type, T.OptionalType) and isinstance(v.type.elem, T.TensorType) \
                and not (v.node.kind == "prim::Constant" and "value" not in v.node.attrs):
            # a Tensor? (linear's bias): cast when it is a tensor, as eager autocast does
            consts = consts or _consts(graph, n, extra)
            n.replace_input(i, _cast_optional(graph, n, kind, v, consts, cast_op))


def _const(v):
    return v.node.attrs.get("value") if v.node.kind == "prim::Constant" else object()


def _consts(graph, n, extra):
    out = []
    for x in extra:
        c = graph.create("prim::Constant", (), attrs={"value": x},
                         output_types=[T.type_of_value(x)])
        c.insert_before(n)
        out.append(c.output)
    return out


def _cast(graph, n, kind, v, consts, cast_op):
    c = graph.create(kind, [v, *consts], output_types=[v.type], source_range=n.source_range)
    c.op = cast_op
    c.insert_before(n)
    return c.output


def _cast_optional(graph, n, kind, v, consts, cast_op):
    none = graph.create("prim::Constant", (), output_types=[T.NONE])
    none.insert_before(n)
    test = graph.create("aten::__isnot__", [v, none.output], output_types=[T.BOOL],
                        source_range=n.source_range)
    test.insert_before(n)
    ifn = graph.create("prim::If", [test.output], output_types=[v.type],
                       source_range=n.source_range)
    ifn.insert_before(n)
    then, other = ifn.add_block(), ifn.add_block()
    cast = graph.create("prim::unchecked_cast", [v], output_types=[v.type.elem])
    then.append(cast)
    c = graph.create(kind, [cast.output, *consts], output_types=[v.type.elem],
                     source_range=n.source_range)
    c.op = cast_op
    then.append(c)
    then.register_output(c.output)
    other.register_output(v)
    return ifn.output
