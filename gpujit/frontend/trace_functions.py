"""A custom autograd.Function applied while tracing, recorded as TorchScript's tracer
records it: one opaque Python call (torch's `^ClampGrad(-0.5, 0.5)(%x)` PythonOp),

    %y : Float(2, 3) = prim::PythonOp[name="ClampGrad"](%x)

whose tensor arguments are the node's inputs and whose other arguments are baked in. At
run time the node calls Function.apply again, so the traced module differentiates
through the Function's own backward; recording the ops its forward ran (as gpujit did)
gave their derivatives instead (a straight-through estimator's gradient was lost). A
graph holding it cannot be saved, as torch cannot export a Python call either.
"""
from __future__ import annotations

from ..ir import types as T
from ..tensor import Tensor

__all__ = ["traced_apply"]


def traced_apply(session, cls, args):
    """cls.apply(*args) run unrecorded, then recorded as a prim::PythonOp."""
    from .trace_hooks import paused
    from .tracer import _bind_result, source_range_here
    with paused(session):
        result = cls.apply(*args)
    at = [k for k, a in enumerate(args) if isinstance(a, Tensor)]
    outs = result if isinstance(result, tuple) else (result,)
    if not all(isinstance(r, Tensor) for r in outs):
        return result           # (a Function returning numbers: its ops stay unrecorded)

    def call(*tensors, _args=tuple(args), _at=tuple(at)):
        full = list(_args)
        for k, t in zip(_at, tensors):
            full[k] = t
        return cls.apply(*full)

    sr = source_range_here()
    scope = "/".join(session.scopes) or None
    for rec in session.recorders:
        inputs = [rec.value_of(args[k], T.TENSOR) for k in at]
        types = [rec.type_of_result(r) for r in outs]
        ty = types[0] if not isinstance(result, tuple) else T.TupleType(tuple(types))
        n = rec.graph.create("prim::PythonOp", inputs, attrs={"name": cls.__name__},
                             output_types=[ty], source_range=sr, scope=scope)
        n.meta["python"] = call
        rec.graph.insert(n)
        _bind_result(rec, result, n.output)
    return result
