"""What torch.func's grad-like transforms share: argnums, the tensors a transform level
differentiates with respect to, and cutting its results from that level's graph.

PyTorch wraps each tensor per transform level; here a level is the set of fresh leaves it
made (an input that already requires grad, from an enclosing transform or the user's own
autograd, is entered through a view instead, so gradients keep flowing out of it). A result
keeps its graph only when that graph reaches a leaf outside the level (the user's, or one
of a transform still running around it), which is when PyTorch's unwrapped result would
still be differentiable; the leaves of a finished level are constants to the others."""
from __future__ import annotations

import threading
import weakref

from ..autograd import forward_ad as _fw
from ..autograd import grad_mode
from ..autograd.function import FUNCTORCH as _FUNCTORCH
from ..autograd.function import TRANSFORM_IDS as _TRANSFORM_IDS
from ..autograd.functional import _autograd_grad
from ..autograd.graph import AccumulateGrad
from ..autograd.recording import edge_of
from ..tensor import Tensor
from ._tree import tree_flatten, tree_unflatten

__all__ = ["Level", "recording", "slice_argnums", "normalize_argnums", "replace_args",
           "error_if_complex", "assert_non_empty_tensor_output", "unwrap_aux",
           "grads_or_zeros"]


class _ThreadLevels(threading.local):
    def __init__(self):
        self.active = []     # the levels whose function is running now, innermost last


_T = _ThreadLevels()
_OWNER: dict = {}        # id(fresh leaf) -> (weak reference to it, the level that made it)


class Level:
    """Used as `with level:` around the call of the transformed function."""

    def __init__(self, forward=False, batched=False):
        self.grad_was_enabled = grad_mode.is_grad_enabled()
        self.fresh = []          # kept alive so that their ids stay theirs
        self.ids = set()
        self.forward = forward   # (a jvp-like transform's: PyTorch's forward-mode level)
        # (jacfwd's: PyTorch's vmap over jvp, whose batched tensors are those carrying the
        # tangents, here what requires grad; it counts as a vmap for custom Functions)
        self.batched = batched

    def __enter__(self):
        self.order = next(_TRANSFORM_IDS)
        _T.active.append(self)
        _FUNCTORCH[1 if self.forward else 0] += 1
        if self.batched:
            _FUNCTORCH[2] += 1
        return self

    def __exit__(self, *exc):
        _T.active.remove(self)
        _FUNCTORCH[1 if self.forward else 0] -= 1
        if self.batched:
            _FUNCTORCH[2] -= 1

    def leaf(self, t):
        """A leaf of this level (not connected to anything outside it; a forward-mode
        tangent t carries stays with it, as PyTorch's wrappers keep it)."""
        d = t.detach()
        d._set_requires_grad(True)
        t = _keep_tangent(t, d)
        self.own(t)
        return t

    def own(self, t):
        self.fresh.append(t)
        self.ids.add(id(t))
        key = id(t)
        _OWNER[key] = (weakref.ref(t, lambda _r, k=key, owners=_OWNER: owners.pop(k, None)),
                       self)

    def _outside(self, v):
        """Is leaf v from outside this level? A user's tensor, or one of a transform
        running around this one, is; this level's, and a finished level's (a constant to
        every other level, as PyTorch's dead wrappers are), are not."""
        if v is None or id(v) in self.ids:
            return False
        rec = _OWNER.get(id(v))
        if rec is None or rec[0]() is not v:
            return True
        return rec[1] in _T.active

    def wrap(self, x):
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if x.requires_grad:
            return x.view_as(x)
        return self.leaf(x)

    def reaches_outside(self, tensors):
        """Does the graph of any of tensors reach a leaf from outside this level?"""
        if not self.grad_was_enabled:
            return False            # nothing outside records: the results are constants
        seen = set()
        stack = []
        for t in tensors:
            if isinstance(t, Tensor) and t.requires_grad:
                e = edge_of(t)
                if e is not None:
                    stack.append(e[0])
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, AccumulateGrad):
                if self._outside(node.variable):
                    return True
                continue
            for nxt, _ in node.next_functions:
                if nxt is not None:
                    stack.append(nxt)
        return False

    def unwrap(self, t):
        """t as the level's caller sees it: cut from the graph unless that leads outside."""
        if isinstance(t, Tensor) and t.requires_grad and not self.reaches_outside([t]):
            return _keep_tangent(t, t.detach())
        return t

    def unwrap_all(self, tensors):
        return tuple(self.unwrap(t) for t in tensors)


def adopt(t):
    """Leaf t was made to require grad while a transform runs (torch.ones(2,
    requires_grad=True) inside f): the innermost level owns it, so that its results are
    cut there as PyTorch's (whose tensor is wrapped at that level)."""
    active = _T.active
    rec = _OWNER.get(id(t))
    if active and (rec is None or rec[0]() is not t):
        active[-1].own(t)


class recording:
    """`with recording():` around a grad-like transform's call of f: grad mode on, and
    out of inference mode when in it (PyTorch's transforms differentiate inside
    torch.inference_mode too; its no-grad recording gave zero gradients here)."""

    def __enter__(self):
        self.inf = grad_mode.inference_mode(False) if grad_mode.state.inference else None
        if self.inf is not None:
            self.inf.__enter__()
        self.en = grad_mode.enable_grad()
        self.en.__enter__()

    def __exit__(self, *exc):
        self.en.__exit__(*exc)
        if self.inf is not None:
            self.inf.__exit__(*exc)


def _keep_tangent(src, dst):
    """dst (a detached src) with src's forward-mode tangent, if it has one."""
    if _fw._TANGENTS:
        t = _fw._tangent_of(src)
        if t is not None:
            _fw._set_tangent(dst, t)
    return dst


def normalize_argnum(argnum, num_args):
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def normalize_argnums(argnums, num_args):
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return normalize_argnum(argnums, num_args)
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    argnums = tuple(normalize_argnum(a, num_args) for a in argnums)
    if len(argnums) == 0:
        raise RuntimeError("argnums must be non-empty")
    if len(set(argnums)) != len(argnums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return argnums


def slice_argnums(args, argnums, as_tuple=True):
    """args[argnums] (a tuple of one when argnums is an int and as_tuple)."""
    argnums = normalize_argnums(argnums, len(args))
    if isinstance(argnums, int):
        return (args[argnums],) if as_tuple else args[argnums]
    return tuple(args[i] for i in argnums)


def replace_args(args, new, argnums):
    """args with args[argnums] replaced by new (one value for an int argnums)."""
    argnums = normalize_argnums(argnums, len(args))
    if isinstance(argnums, int):
        return tuple(new if i == argnums else a for i, a in enumerate(args))
    return tuple(new[argnums.index(i)] if i in argnums else a for i, a in enumerate(args))


def error_if_complex(func_name, args, is_input):
    flat, _ = tree_flatten(args)
    for idx, arg in enumerate(flat):
        if isinstance(arg, Tensor) and arg.dtype.is_complex:
            kind = "inputs" if is_input else "outputs"
            raise RuntimeError(f"{func_name}: Expected all {kind} to be real but received "
                               f"complex tensor at flattened input idx: {idx}")


def assert_non_empty_tensor_output(output, api):
    if (len(output) == 1 and output[0] is None) or len(output) < 1:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output "
                           f"(got output = {output})")
    for o in output:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(o)}")


def unwrap_aux(level, aux):
    """has_aux's second output: tensors only (nested in tuples, lists, dicts), cut from the
    level as the main output is."""
    flat, spec = tree_flatten(aux)
    for x in flat:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    return tree_unflatten(level.unwrap_all(flat), spec)


def grads_or_zeros(outputs, inputs, grad_outputs=None, create_graph=False,
                   retain_graph=None):
    """autograd.grad of the outputs that require grad, zeros for an input none depends on
    (as torch.func: never None)."""
    from .. import zeros_like
    res = _autograd_grad(tuple(outputs), tuple(inputs), grad_outputs,
                         create_graph=create_graph, retain_graph=retain_graph)
    return tuple(zeros_like(i) if g is None else g for g, i in zip(res, inputs))
