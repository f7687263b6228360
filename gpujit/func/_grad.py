"""torch.func.grad, grad_and_value, vjp, jvp and linearize over gpujit's autograd.

jvp is forward-mode AD, as PyTorch's: f runs once on dual tensors (autograd.forward_ad),
each op pushing its tangent forward (with its forward formula where the registry has one,
a custom Function's jvp staticmethod). forward_ad has one level, so a jvp inside another
(or inside the user's dual_level) and a complex one take the double-vjp trick, which is
also what linearize (and jacfwd, in _jac.py) use: f runs once, its vjp u -> J^T u is
recorded with a zero cotangent u that requires grad, and differentiating that (linear)
vjp with respect to u in the direction of a tangent t gives J t exactly. That costs one
forward, one backward with create_graph, then one backward of the backward per tangent;
it needs the double backward of every op f uses (a custom Function marked
once_differentiable has none)."""
from __future__ import annotations

import contextlib
import functools

from ..autograd import forward_ad as _fw
from ..autograd import grad_mode
from ..ops import registry as _reg
from ..tensor import Tensor
from ._tree import tree_flatten, tree_unflatten, treespec_pprint
from ..autograd.functional import _autograd_grad
from ._levels import (Level, assert_non_empty_tensor_output, grads_or_zeros,
                      recording, replace_args, slice_argnums, unwrap_aux)

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize"]


def _wraps(func):
    return functools.wraps(func, assigned=("__module__", "__name__", "__qualname__",
                                           "__doc__"), updated=())


def _enter(level, args, argnums):
    """args with the differentiated ones (argnums; all when None) entered into level: the
    new args and the flat list of what the gradients are taken with respect to."""
    diff = args if argnums is None else slice_argnums(args, argnums, as_tuple=False)
    flat, spec = tree_flatten(diff)
    wrapped = [level.wrap(x) for x in flat]
    diff = tree_unflatten(wrapped, spec)
    new_args = diff if argnums is None else replace_args(args, diff, argnums)
    return new_args, wrapped, spec


def _split_aux(output, has_aux, api):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) "
                           f"if has_aux is True")
    return output


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of func's scalar output with respect to
    args[argnums], that output); with has_aux, (gradient, (output, aux))."""
    @_wraps(func)
    def wrapper(*args, **kwargs):
        level = Level()
        with level, recording():
            args, flat_diff, spec = _enter(level, args, argnums)
            output = func(*args, **kwargs)
            output, aux = _split_aux(output, has_aux, "grad_and_value(f)(*args)")
            if not isinstance(output, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(output)}")
            if output.dim() != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {output.dim()} dims. "
                                   f"Maybe you wanted to use the vjp or jacrev APIs instead?")
            connected = level.reaches_outside([output])
            grads = grads_or_zeros((output,), flat_diff, create_graph=connected)
            grads = tree_unflatten(level.unwrap_all(grads), spec)
            output = level.unwrap(output)
            if has_aux:
                return grads, (output, unwrap_aux(level, aux))
            return grads, output

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of func's scalar output with respect to
    args[argnums] (a pytree of tensors; a tuple of them for a tuple of argnums); with
    has_aux, (gradient, aux). Nests: grad(grad(f)) is the second derivative."""
    gv = grad_and_value(func, argnums, has_aux)

    @_wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def _vjp(func, primals, argnums=None, has_aux=False):
    """vjp with the gradients taken only with respect to primals[argnums] (jacrev's)."""
    level = Level()
    with level, recording():
        args, flat_diff, spec = _enter(level, primals, argnums)
        out = func(*args)
        out, aux = _split_aux(out, has_aux, "vjp(f, *primals)")
        flat_out, out_spec = tree_flatten(out)
        assert_non_empty_tensor_output(flat_out, "vjp(f, *primals)")
        for o in flat_out:
            if not (o.is_floating_point() or o.is_complex()):
                raise RuntimeError(f"vjp(f, ...): All outputs of f must be floating-point or "
                                   f"complex Tensors, got Tensor with dtype {o.dtype}")
        connected = level.reaches_outside(flat_out)
        results = tree_unflatten(level.unwrap_all(flat_out), out_spec)
        if has_aux:
            aux = unwrap_aux(level, aux)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        if create_graph is None:
            create_graph = grad_mode.is_grad_enabled()
        flat_ct, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function. cotangents: "
                               f"{treespec_pprint(ct_spec)}, primal output: "
                               f"{treespec_pprint(out_spec)}")
        # a graph is only worth keeping when the result can depend on something outside
        create_graph = create_graph and (connected or any(
            isinstance(c, Tensor) and c.requires_grad for c in flat_ct))
        res = grads_or_zeros(flat_out, flat_diff, tuple(flat_ct), create_graph=create_graph,
                             retain_graph=retain_graph)
        return tree_unflatten(level.unwrap_all(res), spec)

    return (results, vjp_fn, aux) if has_aux else (results, vjp_fn)


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn): vjp_fn(cotangents) is the vector-Jacobian product, a
    tuple with one entry per primal; with has_aux, (output, vjp_fn, aux)."""
    return _vjp(func, primals, None, has_aux)


_JVP = "jvp(f, primals, tangents)"


def _has_forward_rule(outputs):
    """Does the graph of outputs hold a node whose tangent PyTorch computes with a rule
    of its own (an op with a forward formula, whose backward the double-vjp trick may
    differentiate where it is singular: logcumsumexp's at a zero cotangent; a custom
    Function with a jvp staticmethod)?"""
    from ..autograd.function import Function, FunctionBackward
    from ..autograd.graph import OpBackward
    seen = set()
    stack = [t.grad_fn for t in outputs if isinstance(t, Tensor) and t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, OpBackward) and node.op.forward_derivative is not None:
            return True
        if isinstance(node, FunctionBackward) and node.cls.jvp is not Function.jvp:
            return True
        stack.extend(n for n, _ in node.next_functions if n is not None)
    return False


class _Linearized:
    """f run once at primals with the double-vjp trick recorded: `tangents_out(t)` is J t
    for flat tangents t (one per differentiated input)."""

    def __init__(self, func, primals, argnums, has_aux, api, constants=False,
                 batched=False):
        # (constants: f may return other things than tensors, which come back as they
        # are, as linearize's)
        from ..random import get_rng_state
        self.constants = constants
        self.func, self.primals, self.argnums, self.has_aux = func, primals, argnums, has_aux
        self.rng = get_rng_state()
        self.level = level = Level(forward=True, batched=batched)
        with level, recording():
            args, self.flat_diff, self.spec = _enter(level, primals, argnums)
            out = func(*args)
            out, aux = _split_aux(out, has_aux, api)
            self.flat_out, self.out_spec = tree_flatten(out)
            if not constants:
                assert_non_empty_tensor_output(self.flat_out, api)
            self.connected = level.reaches_outside(self.flat_out)
            # the vjp is linear in its cotangents u: its derivative along t is J t
            self.diff_out = [o for o in self.flat_out
                             if isinstance(o, Tensor) and o.requires_grad]
            self.us = [level.leaf(o.new_zeros(o.shape)) for o in self.diff_out]
            self.vjps = [(g, k) for k, g in enumerate(
                grads_or_zeros(self.diff_out, self.flat_diff, self.us, create_graph=True,
                               retain_graph=True)) if g.requires_grad]
            self.aux = unwrap_aux(level, aux) if has_aux else None
        self.primals_out = tree_unflatten(level.unwrap_all(self.flat_out), self.out_spec)
        self.forward_mode = _has_forward_rule(self.flat_out)

    def tangents_out(self, flat_tangents, strict=False):
        from .. import zeros_like
        if self.forward_mode and _fw._current_level < 0 and not any(
                t.is_complex() for t in flat_tangents):
            # f's graph holds a node whose tangent is not the derivative of its backward:
            # forward-mode AD for each tangent (f runs again, from the generator state
            # the recording started from, so that it draws what the recording drew)
            from ..random import fork_rng, set_rng_state
            with fork_rng(devices=[]):
                set_rng_state(self.rng)
                return _forward_mode(self.func, self.primals, flat_tangents, self.argnums,
                                     strict, self.has_aux, self.constants)[1]
        create = grad_mode.is_grad_enabled() and (self.connected or any(
            isinstance(t, Tensor) and t.requires_grad for t in flat_tangents))
        res = (None,) * len(self.us)
        if self.vjps and self.us:
            res = _autograd_grad(tuple(g for g, _ in self.vjps), tuple(self.us),
                                 tuple(flat_tangents[k] for _, k in self.vjps),
                                 create_graph=create, retain_graph=True)
        by_out = dict(zip(map(id, self.diff_out), res))
        outs = []
        for o in self.flat_out:
            t = by_out.get(id(o))
            if not isinstance(o, Tensor):
                t = o
            elif t is None:
                if strict:
                    raise RuntimeError("jvp(f, primals, tangents, strict=True): The output "
                                       "of f is independent of the inputs. This is not "
                                       "allowed with strict=True.")
                t = zeros_like(o)
            outs.append(self.level.unwrap(t))
        return tree_unflatten(outs, self.out_spec)


def _check_tangents(primals, tangents, argnums):
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid "
                           f"to call f(*primals).")
    diff = primals if argnums is None else slice_argnums(primals, argnums)
    flat_p, p_spec = tree_flatten(diff)
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{_JVP}: Expected primals and tangents to have the same python "
                           f"structure. For example, if primals is a tuple of 3 tensors, "
                           f"tangents also must be. Got primals with structure {p_spec} and "
                           f"tangents with structure {t_spec}")
    for name, flat in (("primals", flat_p), ("tangents", flat_t)):
        if len(flat) == 0:
            raise RuntimeError(f"{_JVP}: Expected {name} to contain at least one Tensor.")
        for x in flat:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"{_JVP}: Expected {name} to only contain Tensors, got "
                                   f"{type(x)}")
    for p, t in zip(flat_p, flat_t):
        # (PyTorch's make_dual's checks, in its order)
        for what, x in (("primal", p), ("tangent", t)):
            if not (x.is_floating_point() or x.is_complex()):
                raise ValueError(f"Expected {what} to be floating point or complex, but "
                                 f"got: {x.dtype}")
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"Trying to set a forward gradient that has a different size "
                               f"than that of the original Tensor, this is not supported. "
                               f"Tensor is of size {list(p.shape)} while the given forward "
                               f"gradient is of size {list(t.shape)}.")
    return flat_t


def _unwrap_dual(o):
    """A jvp output as PyTorch's transforms unwrap it: an alias (AliasBackward0) without
    the tangent."""
    if not isinstance(o, Tensor):
        return o
    with _fw._Busy():
        return _reg.OPS["aten::alias"].public(o)


def _forward_mode(func, primals, flat_t, argnums, strict, has_aux, constants=False):
    """jvp by forward-mode AD (autograd.forward_ad): f runs once on dual tensors, each op
    pushing the tangents forward with its forward formula (a custom Function's jvp), as
    PyTorch's jvp does."""
    from .. import zeros_like
    level = Level(forward=True)
    # (out of inference mode, where forward AD pushes nothing, as PyTorch's jvp)
    outside = grad_mode.inference_mode(False) if grad_mode.state.inference else \
        contextlib.nullcontext()
    with outside, _fw.dual_level(), level:
        diff = primals if argnums is None else slice_argnums(primals, argnums,
                                                              as_tuple=False)
        flat_p, spec = tree_flatten(diff)
        duals = [_fw.make_dual(p, t.to(p.dtype)) for p, t in zip(flat_p, flat_t)]
        diff = tree_unflatten(duals, spec)
        args = diff if argnums is None else replace_args(primals, diff, argnums)
        out = func(*args)
        out, aux = _split_aux(out, has_aux, _JVP)
        flat_out, out_spec = tree_flatten(out)
        if not constants:
            assert_non_empty_tensor_output(flat_out, _JVP)
        tangents_out = []
        for o in flat_out:
            if not isinstance(o, Tensor):
                tangents_out.append(o)
                continue
            t = _fw.unpack_dual(o).tangent
            if t is None:
                if strict:
                    raise RuntimeError("jvp(f, primals, tangents, strict=True): The output "
                                       "of f is independent of the inputs. This is not "
                                       "allowed with strict=True.")
                t = zeros_like(o)
            tangents_out.append(t)
        # (the outputs as PyTorch's unwrapped ones: aliases without a tangent)
        primals_out = tree_unflatten([_unwrap_dual(o) for o in flat_out], out_spec)
        tangents_out = tree_unflatten(tangents_out, out_spec)
        if has_aux:
            flat_aux, aux_spec = tree_flatten(aux)
            for a in flat_aux:
                if not isinstance(a, Tensor):
                    raise RuntimeError(f"Expected tensors, got unsupported type {type(a)}")
            aux = tree_unflatten([_unwrap_dual(a) for a in flat_aux], aux_spec)
    return (primals_out, tangents_out, aux) if has_aux else (primals_out, tangents_out)


def _jvp(func, primals, tangents, argnums=None, strict=False, has_aux=False):
    flat_t = _check_tangents(primals, tangents, argnums)
    if _fw._current_level < 0 and not any(t.is_complex() for t in flat_t):
        # (one forward level: a jvp inside another, or inside the user's dual_level, and
        # complex numbers, which forward_ad does not support, take the double-vjp trick)
        return _forward_mode(func, primals, flat_t, argnums, strict, has_aux)
    lin = _Linearized(func, primals, argnums, has_aux, _JVP)
    flat_t = [t.to(p.dtype) for t, p in zip(flat_t, lin.flat_diff)]
    out = lin.tangents_out(flat_t, strict)
    return (lin.primals_out, out, lin.aux) if has_aux else (lin.primals_out, out)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J tangents): the Jacobian-vector product (primals and tangents:
    tuples of the same structure); with has_aux, (output, jvp_out, aux)."""
    return _jvp(func, primals, tangents, None, strict, has_aux)


def linearize(func, *primals):
    """(func(*primals), jvp_fn): jvp_fn(*tangents) is J tangents at primals, for as many
    tangents as wanted from one recording of func (which, as in PyTorch, runs twice: once
    for the output, once for the linearization)."""
    output = func(*primals)
    flat_p, p_spec = tree_flatten(primals)
    lin = _Linearized(func, primals, None, False, "linearize(f, *primals)", constants=True)

    def jvp_fn(*tangents):
        flat_t, t_spec = tree_flatten(tangents)
        if t_spec != p_spec:
            raise RuntimeError(f"Expected the tangents {t_spec} to have the same argspec as "
                               f"the primals {p_spec}")
        for idx, (t, p) in enumerate(zip(flat_t, flat_p)):
            for what, a, b in (("shape", t.shape, p.shape), ("device", t.device, p.device),
                               ("dtype", t.dtype, p.dtype)):
                if a != b:
                    raise RuntimeError(f"tangent:{idx} with {what} {a} in flattened pytree "
                                       f"doesn't match the {what} {b} of the corresponding "
                                       f"primal.")
        return lin.tangents_out(flat_t)

    return output, jvp_fn
