"""`out=` arguments: PyTorch's `<op>.out` overloads, made from the functional op.

PyTorch declares an out overload next to most functional ops
(`aten::div.out(Tensor self, Tensor other, *, Tensor(a!) out) -> Tensor(a!)`): the op's
arguments, then a keyword-only `out` that the result is written into and returned. gpujit
derives the same overload from the registry's functional op on first use
(`out_variant(d)`), so every layer reads one declaration: `gpujit.div(a, b, out=o)` calls
it (the function bindings accept `out=`, `bind.py`), scripted code compiles
`torch.div(a, b, out=o)` to a node of it (kind `aten::div`, the out tensor its last
input, as TorchScript's graph shows), the tracer records it, and `.code` prints it back as
`torch.div(a, b, out=o)`. The variants are not in `registry.OPS` (the table of declared
ops): they are views of the ops there.

Writing follows PyTorch's rules for out tensors: the result's dtype must cast to out's
without leaving its category (`result type Float can't be cast to the desired output type
Long`); an out of another shape is resized to the result's (with PyTorch's deprecation
warning when it had elements); an out sharing only part of an input's memory is refused;
and autograd does not go through out= calls (an input or out that requires grad, with
grad mode on, is an error).
"""
from __future__ import annotations

import threading
from dataclasses import replace

from . import registry as _reg
from .overlap import assert_no_partial_overlap
from .schema import Argument, ArgType, Return, Schema
from .. import dtypes as _dt
from .._frames import warn_at_user_frame

__all__ = ["eligible", "out_variant", "write_out", "with_out"]

_VARIANTS: dict = {}
_LOCK = threading.Lock()
_OUT_ARG = Argument("out", ArgType("Tensor", alias="a", is_write=True), kwarg_only=True)
_OUT_RET = Return(ArgType("Tensor", alias="a", is_write=True))


def eligible(d) -> bool:
    """Whether op d has an out= form: a functional op returning one new Tensor (not a view
    of an argument, not in place, without an `out` argument of its own)."""
    s = d.schema
    if s.is_inplace or d.inplace_of is not None or len(s.returns) != 1:
        return False
    r = s.returns[0].type
    return r.is_tensor and r.alias is None and \
        not any(a.name == "out" for a in s.arguments) and d.out_of is None


def out_variant(d):
    """The `.out` OpDef of functional op d (made once, shared by every layer)."""
    v = _VARIANTS.get(d.name)
    if v is None:
        with _LOCK:
            v = _VARIANTS.get(d.name)
            if v is None:
                v = _VARIANTS[d.name] = _make(d)
    return v


def _make(d):
    s = d.schema
    # PyTorch's names: add.Tensor -> add.out (no unnamed add), clamp.Tensor ->
    # clamp.Tensor_out (clamp -> clamp.out), sum.dim_IntList -> sum.dim_IntList_out
    unnamed = any(o.schema.overload == "" for o in _reg.OVERLOADS.get(s.name, ()))
    overload = "out" if not s.overload or (s.overload == "Tensor" and not unnamed) \
        else f"{s.overload}_out"
    s2 = Schema(s.name, overload, tuple(s.arguments) + (_OUT_ARG,), (_OUT_RET,), False, "")
    s2 = replace(s2, text=str(s2))
    v = _reg.OpDef(s2, d.impl, tags=(d.tags - {"pointwise", "view", "inplace"}) | {"out"},
                   meta=None, promote=d.promote, dtypes=d.dtypes, method=False,
                   function=False, name=d.public_name)
    v.out_of = d
    v.derivative = _reg.NonDifferentiable("out= calls are not differentiable")
    base = d.eager
    hooks = _reg.dispatch_state

    def eager(*args):
        *inputs, out = args
        _check(v, inputs, out)
        return write_out(v, base(*inputs), out, inputs)

    def public(*args, **kwargs):
        if kwargs:
            args = v.bind(args, kwargs)
        _check(v, args[:-1], args[-1])
        h = hooks.hook
        if h is not None:
            return h(v, args)
        return eager(*args)

    for f in (eager, public):
        f.__name__ = f.__qualname__ = d.public_name
        f.__doc__ = str(s2)
        f.op = v
    v.eager, v.public = eager, public
    return v


def _check(v, inputs, out):
    if not isinstance(out, _reg._Tensor):
        raise TypeError(f"{v.public_name}(): argument 'out' must be Tensor, not "
                        f"{type(out).__name__}")
    from ..autograd.grad_mode import is_grad_enabled
    if is_grad_enabled() and (out.requires_grad or any(
            isinstance(a, _reg._Tensor) and a.requires_grad for a in _flat(inputs))):
        raise RuntimeError(f"{v.public_name}(): functions with out=... arguments don't "
                           f"support automatic differentiation, but one of the arguments "
                           f"requires grad.")


def _flat(args):
    for a in args:
        if isinstance(a, (list, tuple)):
            yield from a
        else:
            yield a


def write_out(v, result, out, inputs=()):
    """Write op v's result into out as PyTorch's out= does, and return out."""
    if not _dt.can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {result.dtype.short_name} can't be cast "
                           f"to the desired output type {out.dtype.short_name}")
    if out.device != result.device:
        raise RuntimeError(f"Expected out tensor to have device {result.device}, but got "
                           f"{out.device} instead")
    tensors = [a._data for a in _flat(inputs) if isinstance(a, _reg._Tensor)]
    if tensors:
        assert_no_partial_overlap(out._data, tensors)
    have, want = tuple(out._data.shape), tuple(result._data.shape)
    if have != want:     # (sizes read off the arrays: a trace records none of this)
        if out._data.size:
            warn_at_user_frame(
                f"An output with one or more elements was resized since it had shape "
                f"{list(have)}, which does not match the required output shape "
                f"{list(want)}. This behavior is deprecated, and in a future "
                f"PyTorch release outputs will not be resized unless they have zero "
                f"elements. You can explicitly reuse an out tensor t by resizing it, "
                f"inplace, to zero elements with t.resize_(0).")
        out.resize_(want)
    _reg.OPS["aten::copy_"].eager(out, result)     # (eager: no hook records it)
    return out


def with_out(pyname, fn, ovs):
    """The public function `pyname` (fn dispatches over overloads ovs) accepting `out=`."""
    from .overloads import match_overload

    def function(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        d = ovs[0] if len(ovs) == 1 else match_overload(ovs, args, kwargs)
        if d is None or not eligible(d):
            return fn(*args, out=out, **kwargs)     # fn's own error names the call
        return out_variant(d).public(*d.bind(args, kwargs), out)

    function.__name__ = function.__qualname__ = pyname
    function.__doc__ = fn.__doc__
    function.__wrapped__ = fn
    for attr in ("op", "overloads"):
        if hasattr(fn, attr):
            setattr(function, attr, getattr(fn, attr))
    return function
