"""torch.autograd.forward_ad: dual tensors (a primal and its tangent) for forward-mode AD.

Inside `dual_level()`, `make_dual(x, t)` is a view of x carrying the tangent t; every
registry op called with an argument that carries a tangent gives its floating-point
outputs the Jacobian-vector product J t as their tangent, which `unpack_dual` returns.

An op's tangent is computed from its registry derivative by the double-vjp trick, op by
op as the program runs (an op whose backward is singular at a zero cotangent carries a
forward formula instead: OpDef.forward_derivative, logcumsumexp's). The op runs once more
on detached copies of its arguments (those with tangents as fresh leaves) with autograd
recording, its vjp u -> J^T u is taken with create_graph for a zero cotangent u that
requires grad, and differentiating that vjp (linear in u) along the input tangents gives
J t. Values are those of PyTorch's forward formulas; what it costs and needs differs: each
dual op runs twice plus one backward and one double backward (random ops run on the same
generator state both times), and it needs the double backward of the op's derivative.
View ops give the same view of the input's tangent, and in-place ops update the tangent
they write in place (a write into a view of a tensor without a tangent gives that tensor
a zero tangent first), as PyTorch's tangents follow views. A custom autograd.Function's
outputs get what its jvp returns (forward runs without tangents; no jvp: PyTorch's
NotImplementedError), and compiled code called with dual tensors runs node by node. In
grad mode a tangent is differentiable with respect to the primals and tangents that
require grad (reverse over forward). Not supported: nested levels (PyTorch has one level
too), complex tensors; out= variants are refused (PyTorch's NotImplementedError). An
in-place op whose other operand is the tensor it writes (x.mul_(x)) gets the
mathematical tangent (PyTorch's reads the tangent it is updating)."""
from __future__ import annotations

import threading
import weakref
from typing import NamedTuple, Optional

from ..ops import registry as _reg
from ..ops.derivatives import NoForwardDerivative
from ..tensor import Tensor
from . import grad_mode

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]

_current_level = -1
# id(tensor) -> (weak reference to it, its tangent) at the current level
_TANGENTS: dict = {}
class _Flags(threading.local):
    """Per thread (as PyTorch's excluded dispatch keys): busy, True while a tangent is
    being computed (ops inside pass through); hidden, True while forward AD's own
    computations run (tangents, a Function's jvp): their ops go straight to autograd's
    layer (or the eager body), unseen by a trace, vmap or autocast."""

    def __init__(self):
        self.busy = False
        self.hidden = False


_flags = _Flags()


def _tangent_of(t) -> Optional[Tensor]:
    rec = _TANGENTS.get(id(t))
    if rec is None or rec[0]() is not t:
        return None
    return rec[1]


def _forget(ref, key, tangents=_TANGENTS):
    rec = tangents.get(key)
    if rec is not None and rec[0] is ref:
        del tangents[key]


def _drop_tangent(t):
    if _tangent_of(t) is not None:
        del _TANGENTS[id(t)]


def _set_tangent(t, tangent):
    key = id(t)
    _TANGENTS[key] = (weakref.ref(t, lambda r, k=key: _forget(r, k)), tangent)


class _Busy:
    def __init__(self, on=True, hidden=False):
        self.on, self.hidden = on, hidden

    def __enter__(self):
        f = _flags
        self.was = f.busy
        self.was_hidden = f.hidden
        f.busy = self.was or self.on
        f.hidden = self.was_hidden or self.hidden

    def __exit__(self, *exc):
        f = _flags
        f.busy = self.was
        f.hidden = self.was_hidden


# ------------------------------------------------------------------- the dispatch layer

def _has_dual(args):
    for a in args:
        if isinstance(a, Tensor):
            if id(a) in _TANGENTS and _tangent_of(a) is not None:
                return True
        elif type(a) in (list, tuple):
            for x in a:
                if isinstance(x, Tensor) and _tangent_of(x) is not None:
                    return True
    return False


def _hook(op, args):
    """dispatch_state.forward_ad while a dual level is open (below autocast's layer, which
    casts first: tangents of the cast arguments, as PyTorch's): an op with a dual argument
    computes its outputs' tangents, then runs through the other layers as ever."""
    s = _reg.dispatch_state
    f = _flags
    if f.hidden:
        g = s.grad_call
        return g(op, args) if g is not None else op.eager(*args)
    nxt = s.inner
    if f.busy or not _TANGENTS or not _has_dual(args):
        return nxt(op, args) if nxt is not None else op.eager(*args)
    return _dual_call(op, args, nxt)


def _compute(op, args):
    """dispatch_state.compute while a dual level is open (the interpreter's and the
    tracer's call; autocast's compute calls it): as _hook, over autograd's call."""
    s = _reg.dispatch_state
    nxt = s.grad_call
    if _flags.busy or not _TANGENTS or not _has_dual(args):
        return nxt(op, args) if nxt is not None else op.eager(*args)
    return _dual_call(op, args, nxt)


def _module_has_dual(module):
    """Does a scripted module hold a dual parameter or buffer?"""
    if not _TANGENTS:
        return False
    try:
        tensors = list(module.parameters()) + list(module.buffers())
    except Exception:       # noqa: BLE001  (not a Module)
        return False
    return _has_dual(tensors)


_NO_TANGENT_TAGS = frozenset({"factory", "random", "comparison"})


def _differentiable(op):
    d = op.derivative
    if isinstance(d, _reg.NonDifferentiable):
        return False
    return not (d is None and op.tags & _NO_TANGENT_TAGS)


def _flat_outputs(result):
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [r for r in result if isinstance(r, Tensor)]
    return []


def _is_diff_dtype(t):
    return t.is_floating_point() or t.is_complex()


def _view_tangents(op, args):
    """A view op of a dual tensor: the same view of its tangent (None when not one)."""
    if "view" not in op.tags or not args or not isinstance(args[0], Tensor):
        return None
    if op.tags & {"inplace_view"} or any(isinstance(a, Tensor) and _tangent_of(a) is not None
                                         for a in args[1:]):
        return None
    t = _tangent_of(args[0])
    if t is None or t.stride() != args[0].stride() or t.shape != args[0].shape:
        return None
    with _Busy(hidden=True):
        g = _reg.dispatch_state.grad_call      # (a tangent requiring grad: its view too)
        return _flat_outputs(g(op, (t, *args[1:])) if g is not None
                             else op.eager(t, *args[1:]))


def _random_state(op):
    if "random" in op.tags or "dropout" in op.name:
        from .. import random as _random
        return _random.get_rng_state()
    return None


def _pushed(op, args, written):
    """The tangents of op's flat outputs at args (None for an output without one): the
    double-vjp trick on the arguments (detached copies; the arguments themselves where
    one requires grad in grad mode, so that the tangent is differentiable with respect to
    them and to tangents that require grad, as PyTorch's)."""
    from .. import zeros_like
    from .engine import grad as _grad
    leaves, tangents = [], []
    flat = [x for a in args for x in (a if type(a) in (list, tuple) else (a,))
            if isinstance(x, Tensor)]
    differentiable = grad_mode.is_grad_enabled() and any(
        x.requires_grad or (_tangent_of(x) is not None and _tangent_of(x).requires_grad)
        for x in flat)

    def enter(a, write):
        if not isinstance(a, Tensor):
            return a
        t = _tangent_of(a)
        if differentiable and a.requires_grad:
            # an alias per use, connected to a: the op's gradient with respect to this
            # use alone (not through another argument computed from a), whose result
            # stays differentiable with respect to a
            d = a.view_as(a)
            if t is not None and _is_diff_dtype(d):
                leaves.append(d)
                tangents.append(t.to(d.dtype))
            return d.clone() if write else d
        d = a.detach()
        if t is not None and _is_diff_dtype(d):
            d._set_requires_grad(True)
            leaves.append(d)
            tangents.append(t.to(d.dtype))
        return d.clone() if write else d

    with _Busy(hidden=True), grad_mode.enable_grad():
        new_args = []
        for i, a in enumerate(args):
            if type(a) in (list, tuple):
                new_args.append(type(a)(enter(x, False) for x in a))
            else:
                new_args.append(enter(a, i in written))
        g = _reg.dispatch_state.grad_call
        out = g(op, tuple(new_args)) if g is not None else op.eager(*new_args)
        outs = _flat_outputs(out)
        diff = [o for o in outs if o.requires_grad and _is_diff_dtype(o)]
        res = {}
        if diff:
            us = [zeros_like(o) for o in diff]
            for u in us:
                u._set_requires_grad(True)
            gs = _grad(diff, leaves, us, create_graph=True, allow_unused=True)
            pairs = [(g, t) for g, t in zip(gs, tangents) if g is not None and g.requires_grad]
            jt = [None] * len(us)
            if pairs:
                jt = _grad([g for g, _ in pairs], us, [t for _, t in pairs],
                           allow_unused=True, create_graph=differentiable)
            for o, j in zip(diff, jt):
                if j is None:
                    j = zeros_like(o)
                elif any(_may_alias(j, t) for t in tangents):
                    j = j.clone()       # (clone's backward passes its gradient through)
                res[id(o)] = j if differentiable else j.detach()
    return [res.get(id(o)) for o in outs]


def _may_alias(a, b):
    if a._device != b._device:
        return False
    x, y = a._data, b._data
    if x is y:
        return True
    import numpy as np
    if isinstance(x, np.ndarray):
        return np.may_share_memory(x, y)
    import cupy
    return cupy.may_share_memory(x, y)


def _dual_call(op, args, nxt):
    arguments = op.schema.arguments
    written = {i for i, a in enumerate(arguments) if a.type.is_write and i < len(args)}
    if any(arguments[i].kwarg_only for i in written):
        raise NotImplementedError(f"Trying to use forward AD with {op.schema.base_name}_out "
                                  f"that does not support it because it is an out= "
                                  f"function")
    missing = _no_forward_formula(op)
    if missing is not None:
        # (a derivatives.yaml not_implemented entry, named aten::<op>: the short words)
        raise NotImplementedError(
            f"Trying to use forward AD with {missing} that does not support it." if
            missing.startswith("aten::") else
            f"Trying to use forward AD with {missing} that does not support it because it "
            f"has not been implemented yet.\nPlease file an issue to PyTorch at "
            f"https://github.com/pytorch/pytorch/issues/new?template=feature-request.yml so "
            f"that we can prioritize its implementation or submit a PR adding the "
            f"implementation to derivatives.yaml")
    if not _differentiable(op):
        result = nxt(op, args) if nxt is not None else op.eager(*args)
        for i in written:
            # an in-place op without a derivative (random_): the tangent becomes zeros,
            # as PyTorch's
            t = _tangent_of(args[i])
            if t is not None:
                with _Busy(hidden=True):
                    t.zero_()
        return result
    if op.forward_derivative is not None and not written and \
            not isinstance(op.forward_derivative, NoForwardDerivative):
        result = nxt(op, args) if nxt is not None else op.eager(*args)
        tangent = _formula_tangent(op, args, result)
        if tangent is not None and isinstance(result, Tensor):
            _set_tangent(result, tangent)
            _tangent_to_saved_output(result, tangent)
        return result
    outs_t = None if written else _view_tangents(op, args)
    state = None
    if outs_t is None:
        state = _random_state(op)
        outs_t = _pushed(op, args, written)
        if state is not None:
            from .. import random as _random
            _random.set_rng_state(state)
    prev = {i: _tangent_of(args[i]) for i in written}
    result = nxt(op, args) if nxt is not None else op.eager(*args)
    with _Busy(hidden=True):
        for r, t in zip(_flat_outputs(result), outs_t):
            if t is None:
                continue
            w = next((i for i in written if args[i] is r), None)
            if w is None:
                _set_tangent(r, t)
                _tangent_to_saved_output(r, t)
                continue
            _write_tangent(r, prev[w], t)
    return result


def _no_forward_formula(op):
    """The ATen name PyTorch's forward AD refusal gives for op, or None: an op marked
    no_forward_derivative, or one whose derivative is not implemented (its message names
    the op as PyTorch's does: 'aten::histogram' for a derivatives.yaml not_implemented
    entry, '_unique2' for an op without one)."""
    fd = op.forward_derivative
    if isinstance(fd, NoForwardDerivative):
        return fd.name
    msg = getattr(op.derivative, "not_implemented", None)
    if not isinstance(msg, str):
        return None
    if msg.startswith("derivative for aten::"):
        return msg.split()[2]
    if msg.startswith("the derivative for '"):
        return msg.split("'")[1]
    return None


def _tangent_to_saved_output(r, t):
    """Output r's node saved r for its backward (exp's result): the saved copy gets r's
    tangent too, as PyTorch's SavedVariable keeps the forward grad, so that a backward
    run after r is gone (forward-over-reverse) still sees it."""
    from .graph import SavedOutputs, SavedTensor
    ag = r._ag
    node = ag.grad_fn if ag is not None else None
    saved = getattr(node, "saved", None)
    if not saved:
        return
    for v in saved.values():
        items = v.items if isinstance(v, SavedOutputs) else (v,)
        for s in items:
            if type(s) is SavedTensor and s.out_of is not None and \
                    s.unpack_hook is None and s._ref() is r:
                _set_tangent(s.tensor, t)


def _formula_tangent(op, args, result):
    """The tangent of op's output by its registry forward formula (forward_derivative)."""
    import inspect
    from .. import zeros_like
    fn = op.forward_derivative
    names = [a.name for a in op.schema.arguments]
    bound = dict(zip(names, args))
    kwargs = {}
    with _Busy(hidden=True):
        # (in grad mode, recorded: differentiable as the generic tangents are)
        for p in inspect.signature(fn).parameters:
            if p == "result":
                kwargs[p] = result
            elif p.endswith("_t") and p[:-2] in bound:
                a = bound[p[:-2]]
                t = _tangent_of(a) if isinstance(a, Tensor) else None
                kwargs[p] = zeros_like(a) if t is None else t.to(a.dtype)
            else:
                kwargs[p] = bound.get(p)
        return fn(**kwargs)


def _write_tangent(w, prev, t):
    """In-place op wrote w with new tangent t: update w's tangent in place, as PyTorch
    (a view written without a tangent of its own: the view of its base's tangent, made
    zeros first when the base has none)."""
    if prev is None:
        base = getattr(w, "_base", None)
        if base is not None and _is_diff_dtype(base):
            bt = _tangent_of(base)
            if bt is None or bt.stride() != base.stride():
                from .. import empty_strided
                fresh = empty_strided(base.shape, base.stride(), dtype=base.dtype,
                                      device=base.device).zero_()
                if bt is not None:
                    fresh.copy_(bt)
                bt = fresh
                _set_tangent(base, bt)
            prev = bt.as_strided(w.shape, w.stride(),
                                 w.storage_offset() - base.storage_offset()
                                 + bt.storage_offset())
        else:
            _set_tangent(w, t)
            return
    prev.copy_(t)
    _set_tangent(w, prev)


def _tangents_of_args(args):
    """A custom Function's call: its inputs' tangents (None for one without), or None
    when none has one (no dual level, or no dual input)."""
    if not _TANGENTS or _flags.busy:
        return None
    tangents = [_tangent_of(a) if isinstance(a, Tensor) else None for a in args]
    return tangents if any(t is not None for t in tangents) else None


def _function_jvp(cls, ctx, tangents, outs):
    """The outputs of custom Function cls get the tangents its jvp returns (ctx's
    saved_tensors: what forward saved with save_for_forward); PyTorch refuses a Function
    without jvp as this does."""
    ctx._in_jvp = True
    try:
        with _Busy(hidden=True):
            res = cls.jvp(ctx, *tangents)
    finally:
        ctx._in_jvp = False
    res = res if isinstance(res, tuple) else (res,)
    if len(res) != len(outs):
        raise RuntimeError(f"{cls.__name__}.jvp returned an incorrect number of tangents "
                           f"(expected {len(outs)}, got {len(res)})")
    for o, t in zip(outs, res):
        if isinstance(o, Tensor) and isinstance(t, Tensor) and _is_diff_dtype(o):
            _set_tangent(o, t)


def _install(on):
    s = _reg.dispatch_state
    s.forward_ad = _hook if on else None
    s.forward_ad_compute = _compute if on else None
    s.refresh()


# -------------------------------------------------------------------------- the API

def enter_dual_level():
    """Enter a new forward grad level (there is one: nested levels are refused, as
    PyTorch's); make_dual and unpack_dual use it by default."""
    global _current_level
    if _current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current_level = 0
    _install(True)
    return _current_level


def exit_dual_level(*, level=None):
    """Exit the forward grad level: every tangent of that level is deleted."""
    global _current_level
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one "
                           "that was created. This is not supported.")
    _TANGENTS.clear()
    _install(False)
    _current_level = level - 1


def make_dual(tensor, tangent, *, level=None):
    """A view of `tensor` carrying `tangent` (as it is when it has tensor's strides,
    else copied to them) at the forward grad level."""
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level "
                           "exists, make sure to enter_dual_level() first.")
    if not _is_diff_dtype(tensor):
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not _is_diff_dtype(tangent):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if level != _current_level:
        # (PyTorch's words: level 0 is the one level there can be, >0 never exists)
        raise RuntimeError("Trying to access a forward AD level with an invalid index. This "
                           "index was either not created or is already deleted."
                           if level == 0 else "Invalid level given to _make_dual")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(f"Trying to set a forward gradient that has a different size "
                           f"than that of the original Tensor, this is not supported. Tensor "
                           f"is of size {list(tensor.shape)} while the given forward "
                           f"gradient is of size {list(tangent.shape)}.")
    if _tangent_of(tensor) is not None:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a "
                           f"forward gradient at the same level {level} is not supported.")
    with _Busy():
        if tangent.stride() != tensor.stride() and tensor.numel() > 1:
            from .. import empty_strided
            tangent = empty_strided(tensor.shape, tensor.stride(), dtype=tangent.dtype,
                                    device=tangent.device).copy_(tangent)
        out = tensor.view_as(tensor)
    _set_tangent(out, tangent)
    return out


class UnpackedDualTensor(NamedTuple):
    """Namedtuple returned by unpack_dual: the primal and the tangent (None: none)."""
    primal: Tensor
    tangent: Optional[Tensor]


def unpack_dual(tensor, *, level=None):
    """(a view of tensor's primal without a tangent, its tangent as it is or None)."""
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    tangent = _tangent_of(tensor)
    if level != _current_level:
        if tangent is not None:
            raise RuntimeError("Invalid level given to _fw_primal")
    with _Busy():
        primal = _reg.OPS["aten::_fw_primal"].public(tensor, level)
    return UnpackedDualTensor(primal, tangent)


class dual_level:
    """with dual_level(): the forward AD level in which dual tensors are made and read;
    their tangents are deleted on exit. Also a decorator."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, exc_type, exc_value, traceback):
        exit_dual_level()

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)
        return wrapper
