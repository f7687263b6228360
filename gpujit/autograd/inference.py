"""Inference mode's tensors, as PyTorch's (c10::InferenceMode, "inference tensors").

Inside `torch.inference_mode()` ops record no gradients (whatever grad mode says), and a
tensor an op makes there that is not a view of a normal tensor is an inference tensor:
its version counter is a registry.InferenceVersion (views and detach() share it, so they
are inference tensors too). Outside inference mode PyTorch refuses to write one in place
(`Inplace update to inference tensor outside InferenceMode ...`), to make it require grad,
to read its `_version`, and to save one for backward (graph.SavedTensor).

The layer (`inference_call`) sits in front of autograd's on the registry's hook path
(dispatch_state.inference) while an inference_mode region is open (in any thread) or an
inference tensor lives, and leaves it when neither holds, so that eager calls pay nothing
for it then.
"""
from __future__ import annotations

from ..ops import registry as _reg
from ..ops.registry import InferenceVersion, TrackedInferenceVersion
from ..tensor import Tensor
from . import grad_mode

__all__ = ["enter_region", "exit_region", "inference_call", "mark_fresh", "is_inference",
           "INPLACE_ERROR", "SAVE_ERROR", "VERSION_ERROR", "REQUIRES_GRAD_ERROR",
           "VIEW_ERROR"]

_state = grad_mode.state

INPLACE_ERROR = ("Inplace update to inference tensor outside InferenceMode is not allowed."
                 "You can make a clone to get a normal tensor before doing inplace update."
                 "See https://github.com/pytorch/rfcs/pull/17 for more details.")
SAVE_ERROR = ("Inference tensors cannot be saved for backward. Please do not use Tensors "
              "created in inference mode in computation tracked by autograd. To work around "
              "this, you can make a clone to get a normal tensor and use it in autograd, or "
              "use `torch.no_grad()` instead of `torch.inference_mode()`.")
VERSION_ERROR = "Inference tensors do not track version counter."
REQUIRES_GRAD_ERROR = ("Setting requires_grad=True on inference tensor outside InferenceMode "
                       "is not allowed.")
VIEW_ERROR = ("A view was created in inference mode and is being modified inplace in normal "
              "mode. Given that this use case is ambiguous and error-prone, it is forbidden. "
              "You can clarify your code by moving both the view and the inplace either both "
              "inside the inference_mode block (if you don't want the inplace to be tracked) "
              "or both outside (if you want the inplace to be tracked).")


def is_inference(t) -> bool:
    return isinstance(t._vc, InferenceVersion)


_open = [0]        # inference_mode regions open now, all threads together


def enter_region():
    """An inference_mode region opens (from outside inference mode): the layer is
    installed."""
    _open[0] += 1
    ds = _reg.dispatch_state
    if ds.inference is None:
        ds.inference = inference_call
        ds.refresh()


def exit_region():
    _open[0] -= 1
    if not _open[0] and not InferenceVersion.live[0]:
        _release()


def _release():
    """No region open and no inference tensor left: the layer leaves the hook path."""
    ds = _reg.dispatch_state
    if not _open[0] and ds.inference is not None:
        ds.inference = None
        ds.refresh()


InferenceVersion.on_last = _release


def _written(op):
    """The positions of the arguments op writes (self of an in-place op, out=, the
    schema's `Tensor(a!)` ones), cached on first use."""
    w = _WRITTEN.get(op)
    if w is None:
        args = op.schema.arguments
        w = tuple(i for i, a in enumerate(args) if a.type.is_write or (
            i == 0 and op.inplace_of is not None))
        _WRITTEN[op] = w
    return w


_WRITTEN: dict = {}


def _fresh(r, vcs):
    """Make the Tensors of result r that share no argument's version counter (not an
    argument itself, nor a view of one) inference tensors."""
    if isinstance(r, Tensor):
        vc = r._vc
        if not isinstance(vc, InferenceVersion) and not any(vc is v for v in vcs):
            r._vc = InferenceVersion(vc)
    elif isinstance(r, (tuple, list)):
        for x in r:
            _fresh(x, vcs)
    elif isinstance(r, dict):
        for x in r.values():
            _fresh(x, vcs)


def mark_fresh(result, args):
    """The tensors of result (a compiled function's: nested tuples, lists, dicts) that
    are none of args' tensors nor views of them become inference tensors. Returns
    result."""
    _fresh(result, _arg_versions(args))
    return result


def _arg_versions(args):
    vcs = []
    for a in args:
        if isinstance(a, Tensor):
            vcs.append(a._vc)
        elif type(a) in (list, tuple):
            vcs.extend(x._vc for x in a if isinstance(x, Tensor))
    return vcs


def inference_call(op, args):
    """The registry hook's call while inference mode's layer is installed: inside the
    mode, the op (no gradients recorded: autograd's call sees state.inference) and its
    new tensors made inference tensors; outside, PyTorch's refusal of an in-place write
    to an inference tensor, then autograd's call (or the op)."""
    nxt = _reg.dispatch_state.autograd
    if _state.inference:
        r = nxt(op, args) if nxt is not None else op.eager(*args)
        _fresh(r, _arg_versions(args))
        return r
    for i in _WRITTEN.get(op) or _written(op):
        if i < len(args):
            a = args[i]
            if isinstance(a, Tensor):
                if type(a._vc) is InferenceVersion:
                    return _refused_write(op, args, a)
            elif type(a) in (list, tuple):
                if any(isinstance(x, Tensor) and type(x._vc) is InferenceVersion for x in a):
                    return _refused_write(op, args, None)
    a = args[0] if args else None
    if isinstance(a, Tensor) and isinstance(a._vc, InferenceVersion):
        if "inplace_view" in op.tags and type(a._vc) is InferenceVersion:
            return _refused_write(op, args, a)      # (t_, squeeze_, as_strided_: metadata)
        if op.name == "aten::detach":
            # (PyTorch: outside the mode a tensor gets a version counter of its own, an
            # inference tensor's detach() too; an inference tensor still)
            r = nxt(op, args) if nxt is not None else op.eager(*args)
            r._vc = TrackedInferenceVersion([0])
            return r
        if "view" in op.tags:
            return _inference_view(op, args, a)
    if op.name == "aten::linear" and len(args) > 1 and isinstance(args[1], Tensor) and \
            isinstance(args[1]._vc, InferenceVersion):
        # (PyTorch's linear reads its weight through w.t(), a view: of an inference tensor
        # outside the mode, one that carries no gradient (_inference_view), so a module
        # made in inference mode then trained gets no weight.grad)
        args = (args[0], args[1].detach()) + tuple(args[2:])
    return nxt(op, args) if nxt is not None else op.eager(*args)


def _refused_write(op, args, target):
    """An in-place write outside the mode into an inference tensor (target; None: one in a
    list): PyTorch runs the kernel, then refuses at its version bump, so the tensor is
    written (its autograd refusal of a leaf that requires grad comes first, before
    anything is written). Nothing is recorded."""
    if target is not None and _state.enabled and target._ag is not None and \
            target._ag.requires_grad and target._ag.grad_fn is None and \
            "inplace_view" not in op.tags:
        raise RuntimeError("a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    op.eager(*args)
    raise RuntimeError(INPLACE_ERROR)


def _inference_view(op, args, base):
    """A view op outside the mode of an inference tensor: as PyTorch's (the tensor has no
    ADInplaceOrView key), the view carries no gradient (no grad_fn, requires_grad False,
    a leaf, even of a tensor that requires grad: a module made in inference mode then
    trained gets no weight.grad through linear's w.t()) and no version counter (a view of
    an inference tensor's detach() is refused writes too)."""
    r = op.eager(*args)
    tracked = type(base._vc) is TrackedInferenceVersion
    for t in (r if isinstance(r, (list, tuple)) else (r,)):
        if isinstance(t, Tensor):
            t._base = None
            if tracked and t._vc is base._vc:
                t._vc = InferenceVersion([0])
    return r
