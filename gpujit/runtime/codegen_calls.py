"""The pieces every static aten lowering of the code generator shares (codegen_aten.py,
codegen_pointwise.py): an argument as the lowering sees it (_Arg: its schema name and
type, Value, expression, spec and constant), the device a call runs on joined from its
tensors' specs as eager does, moving an array expression to that device, the call
expression itself (the one NumPy/CuPy function the impl is, else the impl), and the
version bump of an in-place write into a Tensor the caller holds.
"""
from __future__ import annotations

import numpy as np

from ..device import cpu as _cpu
from .impl_facts import direct_call
from .profile import TensorSpec, ListSpec, EMPTY

_NONE = type(None)
_SAMPLE = {int: 1, float: 1.0, bool: True, _NONE: None}


class _Arg:
    __slots__ = ("name", "type", "value", "expr", "spec", "const")

    def __init__(self, name, type_, value, expr, spec, const):
        self.name, self.type, self.value = name, type_, value
        self.expr, self.spec, self.const = expr, spec, const


def _join_devices(specs, zero_dim_exempt=True):
    """The device of a call from its tensors' specs, as eager's _operand_device finds it
    (a 0-dim CPU tensor joins any device); None when it cannot be decided here (or the
    devices clash: the fallback then raises eager's error)."""
    dev, zero_cpu, unsure_cpu = None, False, False
    for s in specs:
        if isinstance(s, ListSpec):
            if s.elem is EMPTY:
                continue
            s, exempt = s.elem, False
        else:
            exempt = zero_dim_exempt
        if not isinstance(s, TensorSpec):
            continue
        if exempt and s.device is _cpu and s.ndim == 0:
            zero_cpu = True
            continue
        if exempt and s.device is _cpu and s.ndim is None:
            unsure_cpu = True
        if dev is None:
            dev = s.device
        elif dev is not s.device:
            return None
    if unsure_cpu and dev is not None and dev is not _cpu:
        return None
    if dev is None and zero_cpu:
        dev = _cpu
    return dev


def _move(cg, e, dev):
    """An array expression moved to dev (0-dim CPU operands of CUDA ops)."""
    if dev is _cpu:
        return f"{e}.get()"
    return f"{cg.xp_name(dev)}.asarray({e})"


def _call_expr(cg, op, dev, args, exprs):
    consts = {a.name: a.const for a in args}
    # (complex operands take the impl's own path: add's alpha times other as a complex
    # product, ops/pointwise._complex_add)
    dc = None if any(type(a.const) is complex or getattr(
        getattr(a.spec, "dtype", None), "cplx", False) for a in args) else \
        direct_call(op, consts)
    if dc is not None:
        fname, params = dc
        xp = np if dev is _cpu else cg.ns[cg.xp_name(dev)]
        fn = getattr(xp, fname, None)
        if callable(fn):
            prefix = "np" if dev is _cpu else "cp"
            name = cg.bind(fn, f"{prefix}_{fname}")
            return f"{name}({', '.join(exprs[p] for p in params)})"
    impl = cg.bind(op.impl, f"impl_{op.public_name}")
    return f"{impl}({cg.xp_name(dev)}, {', '.join(exprs[a.name] for a in args)})"


def _bump_version(cg, self_value, out_value):
    """An in-place write into a Tensor object the caller holds bumps its version, and the
    node's output is that object."""
    o = cg.obj(self_value)
    if o is not None:
        cg.emit(f"{o}._vc[0] += 1")
        cg.objs[out_value] = o
    else:
        cg.bump_viewed(self_value)
