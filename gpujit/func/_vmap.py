"""torch.func.vmap (torch.vmap): f mapped over a dimension of its inputs.

There are no batched tensors: f runs once per batch element on that element's slices
(`select(in_dim, i)`, views, so an in-place write reaches the input as PyTorch's does) and
the outputs are stacked at out_dims. Every op and every transform therefore works inside
vmap, nested vmaps and vmap(grad(f)) included, at the cost of one call of f per element.
Differences from PyTorch that follow: f may do what a BatchedTensor refuses (`.item()`,
data-dependent control flow); an output with out_dims=None is refused when it differs
between elements (PyTorch: when it depends on a mapped input at all); an empty batch runs
f once on zeros to learn the output shapes. randomness: 'error' refuses a random op
anywhere under the vmap, 'same' rewinds the generators f drew from before each element,
'different' lets each element draw its own numbers (not the numbers PyTorch's batched
draw gives)."""
from __future__ import annotations

import contextlib
import functools

from ..ops import random as _random
from ..tensor import Tensor
from ._tree import _broadcast_to_and_flatten, tree_flatten, tree_unflatten

__all__ = ["vmap", "randomness_scope"]


def _get_name(func):
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_get_name(func.func)}, ...)"
    return repr(func)


def _check_randomness_arg(randomness):
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")


@contextlib.contextmanager
def randomness_scope(randomness):
    """Random ops inside follow a vmap's randomness mode (the entry's dict: the state of
    each generator when 'same' first saw it draw)."""
    entry = [randomness, {} if randomness == "same" else None]
    _random.vmap_randomness.append(entry)
    try:
        yield entry
    finally:
        _random.vmap_randomness.pop()


def _rewind(entry):
    if entry[1]:
        for g, state in entry[1].values():
            g.set_state(state)


def _process_batched_inputs(in_dims, args, func):
    name = _get_name(func)
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` "
                         f"to be int or a (potentially nested) tuple matching the structure "
                         f"of inputs, got: {type(in_dims)}.")
    if len(args) == 0:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add "
                         f"inputs, or you are trying to vmap over a function with no inputs. "
                         f"The latter is unsupported.")
    flat_args, args_spec = tree_flatten(args)
    flat_in_dims = _broadcast_to_and_flatten(in_dims, args_spec)
    if flat_in_dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                         f"compatible with the structure of `inputs`. in_dims has structure "
                         f"{tree_flatten(in_dims)[1]} but inputs has structure {args_spec}.")
    for i, (arg, d) in enumerate(zip(flat_args, flat_in_dims)):
        if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got "
                             f"in_dim={d} for an input but in_dim must be either an integer "
                             f"dimension or None.")
        if d is not None and not isinstance(arg, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got "
                             f"in_dim={d} for an input but the input is of type "
                             f"{type(arg)}. We cannot vmap over non-Tensor arguments, please "
                             f"use None as the respective in_dim")
        if d is not None and not -arg.dim() <= d < arg.dim():
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got "
                             f"in_dim={d} for some input, but that input is a Tensor of "
                             f"dimensionality {arg.dim()} so expected in_dim to satisfy "
                             f"-{arg.dim()} <= in_dim < {arg.dim()}.")
        if d is not None and d < 0:
            flat_in_dims[i] = d % arg.dim()
    sizes = [a.size(d) for a, d in zip(flat_args, flat_in_dims) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return sizes[0], flat_in_dims, flat_args, args_spec


def _check_out_dims(out_dims, func):
    if isinstance(out_dims, int):
        return
    for d in tree_flatten(out_dims)[0]:
        if d is not None and not isinstance(d, int):
            raise ValueError(f"vmap({_get_name(func)}, ..., out_dims={out_dims}): `out_dims` "
                             f"must be an int, None or a python collection of ints "
                             f"representing where in the outputs the vmapped dimension "
                             f"should appear.")


def _flat_out_dims(output, out_dims, out_spec, func):
    if isinstance(output, Tensor):
        # as PyTorch: a lone tensor output takes an int, a 1-tuple or None
        if isinstance(out_dims, int) or out_dims is None:
            return [out_dims]
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            return list(out_dims)
        flat = None
    else:
        flat = _broadcast_to_and_flatten(out_dims, out_spec)
    if flat is None:
        raise ValueError(f"vmap({_get_name(func)}, ..., out_dims={out_dims})(<inputs>): "
                         f"out_dims is not compatible with the structure of `outputs`. "
                         f"out_dims has structure {tree_flatten(out_dims)[1]} but outputs has "
                         f"structure {out_spec}.")
    return flat


def _same(a, b):
    if a is b:
        return True
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        from .. import equal
        return a.shape == b.shape and a.dtype == b.dtype and equal(a, b)
    return False


def _combine(name, per_elem, out_dim, batch_size):
    """One output leaf over the batch: per-element values stacked at out_dim."""
    first = per_elem[0]
    if out_dim is None:
        if isinstance(first, Tensor) and not all(_same(first, x) for x in per_elem[1:]):
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor "
                             f"when out_dim is None")
        return first
    if not isinstance(first, Tensor):
        raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                         f"{type(first)}. Did you mean to set out_dims= to None for output?")
    nd = first.dim() + 1
    if not -nd <= out_dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                         f"{nd - 1}], but got {out_dim})")
    if batch_size == 0:
        shape = list(first.shape)
        shape.insert(out_dim % nd, 0)
        return first.new_zeros(shape)
    from .. import stack
    return stack(per_elem, dim=out_dim)


def _vmap_impl(func, in_dims, out_dims, randomness, args, kwargs):
    _check_out_dims(out_dims, func)
    batch_size, flat_in_dims, flat_args, args_spec = _process_batched_inputs(
        in_dims, args, func)
    outs = []
    with randomness_scope(randomness) as entry:
        if batch_size == 0:
            # nothing to map: f runs on zeros shaped like one element, for the output shapes
            from ..random import fork_rng
            one = [a if d is None else a.new_zeros(a.shape[:d] + a.shape[d + 1:])
                   for a, d in zip(flat_args, flat_in_dims)]
            with fork_rng():
                outs.append(func(*tree_unflatten(one, args_spec), **kwargs))
        for i in range(batch_size):
            if i and randomness == "same":
                _rewind(entry)
            elem = [a if d is None else a.select(d, i) for a, d in zip(flat_args, flat_in_dims)]
            outs.append(func(*tree_unflatten(elem, args_spec), **kwargs))
    flat_outs = []
    out_spec = None
    for o in outs:
        flat, spec = tree_flatten(o)
        if out_spec is None:
            out_spec = spec
        elif spec != out_spec:
            raise ValueError(f"vmap({_get_name(func)}, ...): `{_get_name(func)}` returned "
                             f"outputs of different structures for different batch elements "
                             f"({out_spec} and {spec})")
        flat_outs.append(flat)
    dims = _flat_out_dims(outs[0], out_dims, out_spec, func)
    name = _get_name(func)
    leaves = [_combine(name, [f[k] for f in flat_outs], d, batch_size)
              for k, d in enumerate(dims)]
    return tree_unflatten(leaves, out_spec)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dimension in_dims of its inputs (an int, or a tuple matching the
    positional arguments, nested as they are, None for an argument not mapped; keyword
    arguments are never mapped), the results stacked at out_dims. chunk_size is checked as
    PyTorch does; elements run one at a time whatever it is."""
    _check_randomness_arg(randomness)
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")

    def wrapped(*args, **kwargs):
        return _vmap_impl(func, in_dims, out_dims, randomness, args, kwargs)

    try:
        functools.update_wrapper(wrapped, func, updated=())
    except (AttributeError, TypeError):
        pass
    return wrapped
