"""Helpers the generated code calls: boxing raw arrays into Tensors and back (for the
generic paths and the function boundary), the generic op call, error construction.

Inside generated code every tensor is its raw array (numpy.ndarray on the CPU, cupy.ndarray
on a GPU), also inside lists, tuples and dicts; Python values are themselves. `box` turns
such a value into what eager gpujit would hold (Tensors), `unbox` goes back.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu, device_of_array
from ..ops import registry as _reg
from ..ops.registry import wrap
from .interpreter import InterpreterError

__all__ = ["box", "unbox", "passed_input", "call_op", "item", "broadcast_failure",
           "inplace_shape_error", "dtype_of", "device_of"]

_nd = np.ndarray
_FROM_NP = _dt._FROM_NP
_BF16 = _dt.bfloat16


def _is_gpu_array(v):
    return type(v).__module__.startswith("cupy") and hasattr(v, "device")


def passed_input(a, inputs):
    """The input Tensor whose array a returned array is (carried unchanged through a
    loop or an `if`: eager code returns that same object, requires_grad and all), or
    None."""
    for t in inputs:
        if t._data is a:
            return t
    return None


def share_counter(t, inputs):
    """A returned Tensor t that may be a view of one of the input Tensors (codegen's walk
    of its producers says so): it shares that input's version counter when it shares its memory,
    as a view made by eager code does (an in-place write to either is then seen by
    autograd's saved copies of the other), and names the root of that input's view chain
    as its `_base` (Tensor._base, _is_view()), as registry.wrap_view does."""
    if isinstance(t, _reg._Tensor):
        for x in inputs:
            if _reg.shares_memory(t._data, x._data):
                t._vc = x._vc
                if t is not x and t._ag is None and getattr(t, "_base", None) is None:
                    root = getattr(x, "_base", None)
                    t._base = x if root is None else root
                    gs = _reg.grad_state
                    if gs is not None and not gs.enabled:
                        t._nograd_view = True
                break
    elif isinstance(t, (tuple, list)):      # split's pieces, a list of views
        for e in t:
            share_counter(e, inputs)
    return t


def view_base(t, root):
    """A returned Tensor t that a chain of view ops made of a value the compiled code
    computed ((x * 2).t()): its _base is that value, as eager's is (torch's result is a
    view on every call) -- `root`, the returned Tensor of it when it is returned too
    (`return y.t(), y`: its _base is y), else a Tensor of the array t's views; they
    share a version counter. A view made in no_grad mode is marked so, as
    registry.wrap_view marks eager's."""
    if not isinstance(t, _reg._Tensor) or getattr(t, "_base", None) is not None or \
            t._ag is not None:
        return t
    if root is not None:
        if not _reg.shares_memory(t._data, root._data) and t._data.size:
            return t
        t._vc = root._vc
        t._base = getattr(root, "_base", None) or root
    else:
        b = getattr(t._data, "base", None)
        # (the array owning the memory: through as_strided's holder and the view it holds)
        while b is not None and (not hasattr(b, "dtype") or
                                 getattr(b, "base", None) is not None):
            b = getattr(b, "base", None)
        dt = None if b is None else _dt._FROM_NP.get(getattr(b, "dtype", None))
        if dt is None:
            return t
        t._base = _reg.wrap(b, dt, t._device)
        t._base._vc = t._vc
    gs = _reg.grad_state
    if gs is not None and not gs.enabled:
        t._nograd_view = True
    return t


def bump_counter(a, inputs):
    """Array a, which may be a view of one of the input Tensors, was written in place:
    the version counter of each input whose memory it shares counts one write."""
    done = []
    for x in inputs:
        if not any(x._vc is d for d in done) and _reg.shares_memory(a, x._data):
            x._vc[0] += 1
            done.append(x._vc)


def box(v):
    """A raw value as eager gpujit holds it: arrays become Tensors (containers recursed).
    A list or dict with nothing to box is returned itself, as unbox returns it: the list a
    scripted `self.o = ys` stores is ys, which a later `ys.append(8)` changes (torch
    2.13's self.o is [7, 8]; a new list lost the append)."""
    t = type(v)
    if t is _nd:
        return wrap(v, _FROM_NP[v.dtype], _cpu)
    if t is list:
        out = [box(x) for x in v]
        return v if all(a is b for a, b in zip(out, v)) else out
    if t is tuple:
        return tuple(box(x) for x in v)
    if t is dict:
        out = {k: box(x) for k, x in v.items()}
        return v if all(out[k] is x for k, x in v.items()) else out
    if isinstance(v, np.generic):
        a = np.asarray(v)
        return wrap(a, _FROM_NP[a.dtype], _cpu)
    if isinstance(v, tuple):                           # a namedtuple keeps its class
        return t(*[box(x) for x in v])
    if _is_gpu_array(v):
        return wrap(v, _FROM_NP[v.dtype], device_of_array(v))
    return v


def unbox(v):
    """Tensors to their arrays, containers recursed; other values unchanged. A container
    with nothing to unbox is returned itself, so the code that mutates it (`xs.append`,
    `self.counts[k] = n`) mutates the caller's (or the module attribute's) object, as
    Python would. A bfloat16 Tensor stays boxed (its array is a float32 carrier: the
    generated code treats its values as unknown and runs the ops on them eagerly)."""
    if isinstance(v, _reg._Tensor):
        return v if v._dtype is _BF16 else v._data
    t = type(v)
    if t is list:
        out = [unbox(x) for x in v]
        return v if all(a is b for a, b in zip(out, v)) else out
    if t is tuple:
        out = tuple(unbox(x) for x in v)
        return v if all(a is b for a, b in zip(out, v)) else out
    if t is dict:
        out = {k: unbox(x) for k, x in v.items()}
        return v if all(out[k] is x for k, x in v.items()) else out
    if isinstance(v, tuple):       # a NamedTuple: rebuilt without its class's __new__
        out = [unbox(x) for x in v]  # (PackedSequence's checks its fields are Tensors)
        return v if all(a is b for a, b in zip(out, v)) else tuple.__new__(t, out)
    return v


def call_op(op, kind, types, n_outputs, *args):
    """The generic path of an aten node: box the arguments, run the op's eager entry
    point (all of eager's checks, promotion and errors), unbox the result(s)."""
    if op is None:
        raise InterpreterError(f"no registry op {kind} takes ({types})")
    params = op.schema.arguments
    boxed = [box(a) for a in args] + [p.default for p in params[len(args):]]
    try:
        r = op.eager(*boxed)
    except _reg.NestedOperand as e:
        # (a quantized / nested operand or result the profile did not show, e.g. a
        # dense input's quantized::linear_dynamic with its packed weight: the op's kernel
        # for it, as the interpreter's compute_scripted runs it)
        if e.op is not op:
            raise
        r = _reg.sparse_call(e, boxed)
    if n_outputs == 1:
        return unbox(tuple(r) if len(op.schema.returns) > 1 else r)
    if n_outputs == 0:
        return None
    return tuple(unbox(x) for x in r)


def item(r):
    """A Python number from an impl result (eager's `.item()` for int/float/bool returns)."""
    return r.item() if hasattr(r, "item") else r


def broadcast_failure(op, exc, *arrays):
    """The eager path's broadcast error (PyTorch's words) for a failed pointwise call."""
    return _reg.broadcast_error(op, [box(a) for a in arrays], exc)


def inplace_shape_error(op, self, r):
    return RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                        f"shape {list(r.shape)}")       # (PyTorch's words name no op)


def dtype_of(a):
    try:
        return _FROM_NP[a.dtype]
    except KeyError:            # (a bfloat16 Tensor, boxed: unbox)
        return a._dtype


def device_of(a):
    return a._device if isinstance(a, _reg._Tensor) else device_of_array(a)
