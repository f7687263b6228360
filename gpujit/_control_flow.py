"""torch.cond and torch.while_loop (PyTorch's control-flow operators for torch.compile and
torch.export), run eagerly: the checks PyTorch makes of their arguments, in its words, then
the branch / loop in Python.

PyTorch runs them on tensor predicates through torch.compile(fullgraph=True), which also
refuses branches whose outputs alias their inputs ("Higher order ops do not support
aliasing"): gpujit checks that one too (an output sharing memory with an operand); the
other restrictions of a compiled body (both branches returning the same shapes and dtypes,
no mutation of Python state) are not checked: gpujit runs the one branch taken."""
from __future__ import annotations

from .tensor import Tensor
from .utils._pytree import tree_leaves

__all__ = ["cond", "while_loop"]


def _aliases(outputs, inputs):
    ins = [t for t in tree_leaves(inputs) if isinstance(t, Tensor)]
    for out in tree_leaves(outputs):
        if isinstance(out, Tensor) and any(out is t or (
                out.numel() and t.numel() and out.untyped_storage().data_ptr()
                == t.untyped_storage().data_ptr()) for t in ins):
            raise RuntimeError(
                "Higher order ops do not support aliasing: an output of the branch is (a "
                "view of) one of its inputs. Replace `return input` with `return "
                "input.clone()` to avoid aliasing.")


def cond(pred, true_fn, false_fn, operands=()):
    """`true_fn(*operands)` if pred else `false_fn(*operands)`: pred is a Python bool /
    number or a one-element tensor; operands a tuple or list of tensors."""
    if isinstance(pred, (bool, int, float)):
        return true_fn(*operands) if pred else false_fn(*operands)
    if not isinstance(pred, Tensor):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got "
                           f"{pred}.")
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError("Expect both branches to be callable.")
    if not isinstance(operands, (tuple, list)) or any(
            not isinstance(t, Tensor) for t in tree_leaves(operands)):
        raise RuntimeError("Expect operands to be a tuple of possibly nested dict/list/tuple "
                           f"that only consists of tensor leaves, but got {operands}.")
    out = (true_fn if bool(pred) else false_fn)(*operands)
    _aliases(out, operands)
    return out


def while_loop(cond_fn, body_fn, carried_inputs):
    """`while cond_fn(*carried): carried = body_fn(*carried)`; the last carried values (the
    inputs when the loop does not run). Leaves are tensors or ints."""
    if not callable(cond_fn) or not callable(body_fn):
        raise RuntimeError("Expect cond_fn and body_fn to be callable.")
    leaves = tree_leaves(carried_inputs)
    for leaf in leaves:
        if not isinstance(leaf, (Tensor, int)):
            raise RuntimeError(
                "Expect carried_inputs to be a tuple of possibly nested dict/list/tuple that "
                f"only consists of tensor or int leaves, but got {carried_inputs}.")
    carried = carried_inputs
    while bool(cond_fn(*carried)):
        out = body_fn(*carried)
        _aliases(out, carried)
        carried = out
    return carried
