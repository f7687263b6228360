"""torch.jit.fork / wait while tracing, recorded as TorchScript's tracer records them:

    %fut : Future[(Tensor, Tensor)] = prim::fork()
      block0():
        <the ops the forked call ran>
        -> (%out)
    %r : (Tensor, Tensor) = aten::wait(%fut)

The forked call runs at once (as in eager code) with every recorder inserting into its
fork's block; the Future remembers each recorder's fork output, and the wait binds the
value's tensors to the wait's outputs. A tensor computed inside the fork and used outside
it other than through the wait has no data dependence on the trace inputs the graph can
express: reading it is refused, as TorchScript refuses it.
"""
from __future__ import annotations

import contextlib

from ..ir import types as T

__all__ = ["traced_fork", "traced_wait", "check_not_fork_local"]


def traced_fork(session, func, args, kwargs):
    from ..jit.futures import Future
    from .trace_boundary import output_value
    forks = []
    with contextlib.ExitStack() as stack:
        for rec in list(session.recorders):
            n = rec.graph.insert_node("prim::fork", [], output_types=[])
            b = n.add_block()
            stack.enter_context(rec.graph.inserting_at_end(b))
            forks.append((rec, n, b))
        result = func(*args, **kwargs)
        fut = Future._completed(result)
        fut._trace = {}
        for rec, n, b in forks:
            v = output_value(rec, result, strict=False, where="forked function's output")
            b.register_output(v)
            fut._trace[id(rec)] = n.add_output(T.FutureType(v.type))
    return fut


def traced_wait(session, trace, value):
    """Record aten::wait of each recorder's fork output (`trace`: recorder id -> it)."""
    from .tracer import _bind_result
    for rec in session.recorders:
        fv = trace.get(id(rec))
        if fv is None:
            continue
        v = rec.graph.insert_node("aten::wait", [fv], output_types=[fv.type.elem]).output
        _bind_result(rec, value, v)
    return value


def check_not_fork_local(rec, v):
    """Refuse Value v (bound to a tensor) where it is out of scope: made inside a fork's
    block that the recorder is no longer inserting into."""
    b = v.node.owning_block if v.node is not None else None
    inner = rec.graph._insert[0] if rec.graph._insert is not None else rec.graph.block
    while b is not None and b.owning_node is not None:
        if b.owning_node.kind == "prim::fork":
            c = inner
            while c is not None and c is not b:
                c = c.owning_node.owning_block if c.owning_node is not None else None
            if c is None:
                raise RuntimeError(
                    "A tensor computed inside a forked call (torch.jit._fork) is used "
                    "outside it: it did not have observable data dependence with trace "
                    "inputs; this probably indicates your program cannot be understood "
                    "by the tracer.")
        b = b.owning_node.owning_block
    return v
