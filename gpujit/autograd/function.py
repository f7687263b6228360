"""Custom autograd functions (torch.autograd.Function): a forward computed without
recording and a user-written backward, joined to the graph as one node."""
from __future__ import annotations

import itertools
import threading
import weakref

from .. import dtypes as _dt
from ..ops import registry as _reg
from ..tensor import Tensor
from . import forward_ad
from . import grad_mode
from . import views as _views
from .graph import Node, SavedTensor, fit_gradient
from .recording import activate, edge_of, mark_result

__all__ = ["Function", "FunctionCtx", "once_differentiable", "InplaceFunction"]

# torch.func transforms running now (gpujit/func keeps the counts): grad-like levels,
# forward (jvp-like) levels, vmap levels; a custom Function refuses what PyTorch's
# functorch refuses under them
class _TransformCounts(threading.local):
    """FUNCTORCH[k]: per thread, as PyTorch's functorch levels."""

    def __init__(self):
        self.counts = [0, 0, 0]

    def __getitem__(self, k):
        return self.counts[k]

    def __setitem__(self, k, v):
        self.counts[k] = v


FUNCTORCH = _TransformCounts()
# each transform level, grad-like or vmap, takes the next number when it starts: a larger
# number is a transform nested inside (which of them handles a Function's call first)
TRANSFORM_IDS = itertools.count(1)

_NEEDS_SETUP_CONTEXT = (
    "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, "
    "jacrev, ...), it must override the setup_context staticmethod. For more details, "
    "please see https://pytorch.org/docs/main/notes/extending.func.html")


class FunctionCtx:
    def __init__(self):
        self._saved = None
        self.needs_input_grad = ()
        self.non_differentiable = set()
        self.materialize_grads = True
        self._node_name = "Function"
        self._dirty = ()

    def save_for_forward(self, *tensors):
        """Tensors jvp reads (as saved_tensors) in forward-mode AD."""
        self._saved_fwd = tensors

    def save_for_backward(self, *tensors):
        self._saved = [SavedTensor(t, self._node_name, i) if isinstance(t, Tensor) else t
                       for i, t in enumerate(tensors)]

    @property
    def saved_tensors(self):
        if getattr(self, "_in_jvp", False):
            return tuple(getattr(self, "_saved_fwd", ()))
        if self._saved is None:
            return ()
        if self._saved == "freed":
            from .graph import FREED
            raise RuntimeError(FREED)
        return tuple(s.unpack() if isinstance(s, SavedTensor) else s for s in self._saved)

    def mark_non_differentiable(self, *tensors):
        self.non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        """The inputs forward wrote in place; forward must return them (the same Tensor
        objects), whose history then goes through this Function, as PyTorch's."""
        self._dirty = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class FunctionBackward(Node):
    # (a Python class in PyTorch, torch.autograd.function.<Name>Backward: its repr is
    # object's, module-qualified, where the C++ nodes print their bare name)
    __repr__ = object.__repr__

    def __init__(self, cls, ctx, next_functions, inputs_meta, out_meta):
        super().__init__()
        self.cls, self.ctx = cls, ctx
        self.next_functions = next_functions
        self.inputs_meta = inputs_meta
        self.out_meta = out_meta

    @property
    def materialize_grads(self):
        return self.ctx.materialize_grads

    def release(self):
        self.released = True
        self.ctx._saved = "freed" if self.ctx._saved is not None else None

    def apply(self, grads):
        if self.released and self.ctx._saved == "freed":
            from .graph import FREED
            raise RuntimeError(FREED)
        out = self.cls.backward(self.ctx, *grads)
        if not isinstance(out, tuple):
            out = (out,)
        n = len(self.inputs_meta)
        if len(out) > n and all(g is None for g in out[n:]):
            out = out[:n]       # (extra Nones are dropped, as PyTorch's)
        if len(out) != n:
            raise RuntimeError(f"function {self.cls.__name__}Backward returned an incorrect "
                               f"number of gradients (expected {len(self.inputs_meta)}, got "
                               f"{len(out)})")
        return [fit_gradient(g, m, (f"{self.cls.__name__}Backward", i))
                for i, (g, m) in enumerate(zip(out, self.inputs_meta))]


def _node_class(cls):
    """The backward node's class of a Function, named as PyTorch's (`MyExpBackward`:
    type(y.grad_fn).__name__ and grad_fn.name())."""
    node = cls.__dict__.get("_backward_cls")
    if node is None:
        node = type(f"{cls.__name__}Backward", (FunctionBackward,), {"__module__": __name__})
        type.__setattr__(cls, "_backward_cls", node)
    return node


class Function:
    """Subclass with @staticmethod forward(ctx, *args) and backward(ctx, *grad_outputs);
    call with `.apply(*args)`. Or PyTorch's other style: forward(*args) without ctx and
    @staticmethod setup_context(ctx, inputs, output), which saves what backward needs."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise TypeError("a custom Function must define a forward staticmethod")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise TypeError("a custom Function must define a backward staticmethod")

    # torch.func.vmap of apply: with generate_vmap_rule the Function runs per element (as
    # any code under vmap here); with a vmap staticmethod that computes its outputs
    # (func/_vmap.py: run_vmap_rule); without either, refused
    generate_vmap_rule = False
    _gpujit_op = False

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError("To use autograd.Function with vmap, you must either "
                                  "override the vmap staticmethod or set "
                                  "generate_vmap_rule=True.")

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward-mode AD: the outputs' tangents from the inputs' (None: no tangent)."""
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args):
        if _reg.dispatch_state.tracing is not None and not cls._gpujit_op:
            from ..frontend.tracer import current_session
            s = current_session()
            if s is not None and not s.paused:
                # (one opaque call in the trace, as TorchScript's PythonOp)
                from ..frontend.trace_functions import traced_apply
                return traced_apply(s, cls, args)
        rule = None
        if (FUNCTORCH[0] or FUNCTORCH[1] or FUNCTORCH[2]) and not cls._gpujit_op:
            _check_functorch(cls, args)
            if FUNCTORCH[2] and cls.vmap is not Function.vmap:
                from ..func._vmap import run_vmap_rule, vmap_rule_level
                rule = vmap_rule_level(args)
                if rule is not None and rule[1]:
                    # (the vmap is the innermost transform: as PyTorch's, the rule's own
                    # ops are what the transforms around it and autograd differentiate)
                    return run_vmap_rule(cls, args, rule[0])
        ctx = FunctionCtx()
        ctx._node_name = f"{cls.__name__}Backward"
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = grad_mode.state.enabled and any(ctx.needs_input_grad)
        tangents = forward_ad._tangents_of_args(args)
        with grad_mode.no_grad(), forward_ad._Busy(tangents is not None):
            if cls.setup_context is Function.setup_context:
                result = cls.forward(ctx, *args)
            else:
                if rule is not None:        # (a grad-like transform inside the vmap)
                    from ..func._vmap import run_vmap_rule
                    result = run_vmap_rule(cls, args, rule[0])
                else:
                    result = cls.forward(*args)
                cls.setup_context(ctx, args, result)
        outs = result if isinstance(result, tuple) else (result,)
        dirty = _mark_dirty(ctx, outs)
        if tangents is not None:
            forward_ad._function_jvp(cls, ctx, tangents, outs)
        if not record:
            return result
        activate()
        next_functions, inputs_meta = [], []
        for a in args:
            e = edge_of(a) if isinstance(a, Tensor) else None
            next_functions.append(e or (None, 0))
            inputs_meta.append((tuple(a._data.shape), a._dtype) if e else None)
        out_meta = tuple((tuple(r._data.shape), r._dtype, r._device)
                         if isinstance(r, Tensor) else None for r in outs)
        node = _node_class(cls)(cls, ctx, tuple(next_functions), inputs_meta, out_meta)
        refs = []
        fixed = []
        rebase = _dirty_views(dirty, outs)
        for i, r in enumerate(outs):
            if any(r is t for t in dirty):
                if r._ag is not None and r._ag.requires_grad and r._ag.grad_fn is None:
                    raise RuntimeError("a leaf Variable that requires grad has been used "
                                       "in an in-place operation.")
            elif isinstance(r, Tensor) and any(r is a for a in args):
                r = _reg.wrap_any(r._data, r._dtype, r._device)   # an alias with its own grad_fn
            if (isinstance(r, Tensor) and r._dtype.category >= _dt.FLOATING
                    and id(r) not in ctx.non_differentiable):
                mark_result(r, node, i)
                refs.append(weakref.ref(r))
            else:
                refs.append(None)
            fixed.append(r)
        node.out_refs = refs
        if isinstance(ctx._saved, list):
            # outputs it saved: kept without their grad_fn (no cycle through the node)
            for s in ctx._saved:
                if type(s) is SavedTensor and s.unpack_hook is None:
                    t = s.tensor
                    if t._ag is not None and t._ag.grad_fn is node:
                        s.as_output(node, t._ag.output_nr, refs[t._ag.output_nr])
        for view, base_edge in rebase:      # the view's base: through CopySlices
            slot = next(k for k, a in enumerate(args) if a is view)
            _views.copy_slices(view, base_edge, node, slot)
        return tuple(fixed) if isinstance(result, tuple) else fixed[0]


class OpFunction(Function):
    """gpujit's own Functions (the sparse kernels' autograd): they stand for PyTorch's ops,
    which torch.func transforms run, so the refusals of user Functions do not apply."""
    _gpujit_op = True


def _check_functorch(cls, args):
    """Under torch.func transforms, PyTorch's refusals: an old-style Function (forward
    taking ctx, no setup_context), vmap over a Function without vmap support, jvp of one
    without jvp."""
    if cls.setup_context is Function.setup_context:
        raise RuntimeError(_NEEDS_SETUP_CONTEXT)
    if FUNCTORCH[2] and bool(cls.generate_vmap_rule) != (cls.vmap is Function.vmap):
        from ..func._vmap import batched_argument
        if any(batched_argument(a) for a in args):
            what = ("has both generate_vmap_rule=True and an overridden vmap staticmethod. "
                    "Please set generate_vmap_rule=False or delete the overridden vmap "
                    "staticmethod to avoid ambiguity" if cls.generate_vmap_rule else
                    "does not have vmap support. Please override and implement the vmap "
                    "staticmethod or set generate_vmap_rule=True")
            raise RuntimeError(f"You tried to vmap over {cls.__name__}, but it {what}. For "
                               f"more details, please see "
                               f"https://pytorch.org/docs/main/notes/extending.func.html")
    if FUNCTORCH[1] and cls.jvp is Function.jvp and any(
            isinstance(a, Tensor) and a.requires_grad for a in args):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")


_NOT_RETURNED = ("Some elements marked as dirty during the forward method were not returned "
                 "as output. The inputs that are modified inplace must all be outputs of "
                 "the Function.")


def _mark_dirty(ctx, outs):
    """The tensors forward marked dirty (it wrote them in place): each is one of the
    outputs, and counts one more version (what it saved of them is saved as written)."""
    dirty = [t for t in ctx._dirty if isinstance(t, Tensor)]
    for t in dirty:
        if not any(t is r for r in outs):
            raise RuntimeError(_NOT_RETURNED)
        t._vc[0] += 1
    if dirty and isinstance(ctx._saved, list):
        for s in ctx._saved:
            if isinstance(s, SavedTensor) and any(s.ref() is t for t in dirty):
                s.version = s.ref()._vc[0]
    return dirty


def _dirty_views(dirty, outs):
    """(view, edge of its base) for each dirty output that is a recorded view: its base's
    gradient goes through the Function (CopySlices), as after an in-place op on a view."""
    out = []
    for t in dirty:
        info = t._ag.view if t._ag is not None else None
        if info is None:
            continue
        if sum(isinstance(r, Tensor) for r in outs) > 1:
            raise RuntimeError(
                "If your Function modifies inplace an input that is a view of another "
                "Tensor, your Function cannot return more than one Tensor. This is not "
                "supported by the current autograd engine. You should either make sure the "
                "input is not a view (using .clone() for example) or make your Function "
                "only return one Tensor (potentially splitting it into two Functions: one "
                "doing the inplace that returns a single Tensor and a second one that does "
                "the other operations).")
        base = info.base
        if base._ag is not None and base._ag.requires_grad and base._ag.grad_fn is None:
            raise RuntimeError(_views.LEAF_VIEW)
        out.append((t, edge_of(base)))
    return out


class InplaceFunction(Function):
    """torch.autograd.function.InplaceFunction: a Function with an `inplace` flag (kept for
    backward compatibility, as PyTorch's)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


def once_differentiable(fn):
    """Run backward without recording (its result cannot be differentiated again)."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            return fn(ctx, *args)
    return wrapper
