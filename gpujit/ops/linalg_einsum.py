"""einsum: `aten::einsum` (the equation checked as torch.einsum checks it, operands of one
dtype, float16 computed in float32), the public `gpujit.einsum` with its three call forms
(equation and operands, equation and a list, the sublist form), and its derivative (an
einsum of the output's gradient with the other operands). The other products are
linalg.py's."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta
from .linalg import _LA, _F16, _F32, _dtn, _gpujit
from .registry import op, OPS, derivative as _derivative

PUBLIC = {}


def einsum_parse(equation, shapes):
    """Validate an einsum equation against the operand shapes as torch.einsum does.
    Returns (explicit equation, {label: size}, output shape): the explicit equation names
    the ellipsis dims with spare letters and always has its '->' output (NumPy then needs
    no ellipsis rules of its own, and ellipsis dims missing from the output are summed)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    spare = [c for c in _LETTERS if c not in eq]
    n_ell = 0
    for i, (t, s) in enumerate(zip(terms, shapes)):
        labels = t.replace("...", "")
        if t.count("...") > 1 or not all(c in _LETTERS for c in labels):
            raise RuntimeError(f"einsum(): invalid subscript given in the equation for "
                               f"operand {i}: {t!r}")
        if "..." in t:
            if len(labels) > len(s):
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({len(labels)}) is more than the number of dimensions "
                                   f"({len(s)}) for operand {i}")
            n_ell = max(n_ell, len(s) - len(labels))
        elif len(labels) != len(s):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(labels)}) does not match the number of dimensions "
                               f"({len(s)}) for operand {i} and no ellipsis was given")
    ell = "".join(spare[:n_ell])
    full = []
    for t, s in zip(terms, shapes):
        if "..." in t:   # this operand's ellipsis dims are the last ones of the broadcast
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[n_ell - k:])
        full.append(t)
    sizes, counts = {}, {}
    for i, (t, s) in enumerate(zip(full, shapes)):
        for c, n in zip(t, s):
            counts[c] = counts.get(c, 0) + 1
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n != 1 and n != prev and n is not None:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} "
                                   f"which does not broadcast with previously seen size "
                                   f"{prev}")
    if not arrow:
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        for c in rhs.replace("...", ""):
            if c not in _LETTERS:
                raise RuntimeError(f"einsum(): invalid subscript given in the output: {c!r}")
            if c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   f"equation for any input operand")
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once "
                                   f"in the output")
        out = rhs.replace("...", ell)
    return ",".join(full) + "->" + out, sizes, tuple(sizes[c] for c in out)


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _einsum_dtype(dts, eq=None, shapes=None):
    """The result dtype of PyTorch's einsum (no opt_einsum path): it folds the operands
    left to right; a step that contracts a dim of size != 1 in both operands (the last two
    holding it) is a bmm, which needs one dtype ("expected scalar type Float but found
    Half", also for a 0-size contraction, where PyTorch's CPU bmm skips its check: as
    gpujit's bmm), a step that contracts none a promoting mul."""
    d0 = dts[0] if dts else _dt.get_default_dtype()
    if all(d is d0 for d in dts[1:]):
        return d0
    lhs, _, out = eq.partition("->")
    terms = lhs.split(",")
    sizes = [{c: n for c, n in zip(t, sh)} for t, sh in zip(terms, shapes)]
    counts = {}
    for t in terms:
        for c in set(t):
            if c not in out:
                counts[c] = counts.get(c, 0) + 1
    acc, acc_dt = dict(sizes[0]), d0
    for b, b_dt in zip(sizes[1:], dts[1:]):
        contracts = False
        for c in counts:
            sa, sb = acc.get(c, 1) != 1, b.get(c, 1) != 1
            if sa and sb:
                counts[c] -= 1
                if counts[c] == 1:
                    contracts, counts[c] = True, 0
                    acc[c] = 1
            elif counts[c] == 1 and (sa or sb):
                counts[c] = 0         # summed out of the one operand holding it
                acc[c] = 1
                b = {**b, c: 1}
        if contracts:
            if b_dt is not acc_dt:
                raise RuntimeError(f"expected scalar type {acc_dt.short_name} but found "
                                   f"{b_dt.short_name}")
        else:
            acc_dt = _dt.promote_types(acc_dt, b_dt)
        for c, n in b.items():
            if n != 1:
                acc[c] = n
    return acc_dt


def _einsum_meta(equation, tensors, path=None):
    shapes = [t.shape for t in tensors]
    eq, _, shape = einsum_parse(equation, shapes)
    d = _einsum_dtype([t.dtype for t in tensors], eq, shapes)
    dev = tensors[0].device if tensors else None
    return TensorMeta(d, shape, dev)


@op("aten::einsum(str equation, Tensor[] tensors, *, int[]? path=None) -> Tensor", tags=_LA,
    function=False, method=False, meta=_einsum_meta)
def einsum(xp, equation, tensors, path=None):
    if not tensors:
        raise RuntimeError("einsum(): must provide at least one operand")
    eq, sizes, _ = einsum_parse(equation, [t.shape for t in tensors])
    out = _einsum_dtype([_dtn(t.dtype) for t in tensors], eq, [t.shape for t in tensors]).np
    lhs = eq.partition("->")[0].split(",")
    ops = []
    for t, a in zip(lhs, tensors):
        a = a.astype(out, copy=False)       # (operands of other dtypes: promoted by a mul)
        if a.dtype == _F16:
            a = a.astype(_F32)
        # a size-1 dim whose label is larger elsewhere broadcasts, as in torch
        if any(n == 1 and sizes[c] != 1 for c, n in zip(t, a.shape)):
            a = xp.broadcast_to(a, tuple(sizes[c] for c in t))
        ops.append(a)
    try:
        r = xp.einsum(eq, *ops, optimize=len(ops) > 2)
    except ValueError as e:
        raise RuntimeError(f"einsum(): {e}") from None
    return xp.asarray(r).astype(out, copy=False)


def _sublist_equation(args):
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) -> ('ab,bc->ac', [a, b])."""
    def term(sub):
        parts = []
        for s in sub:
            if s is Ellipsis:
                parts.append("...")
            elif isinstance(s, (int, np.integer)) and 0 <= s < 52:
                parts.append(_LETTERS[s])
            else:
                raise ValueError(f"einsum(): subscript in subscript list is not within the "
                                 f"valid range [0, 52), got {s!r}")
        return "".join(parts)

    n = len(args) // 2
    eq = ",".join(term(s) for s in args[1:2 * n:2])
    if len(args) % 2:
        eq += "->" + term(args[-1])
    return eq, list(args[0:2 * n:2])


def einsum_public(*args):
    """gpujit.einsum(equation, *operands), einsum(equation, [operands]) or the sublist form
    einsum(op1, sublist1, op2, sublist2, ..., [sublist_out])."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand, "
                        "or at least one operand and its subscripts list")
    if isinstance(args[0], str):
        eq, ops = args[0], list(args[1:])
        if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
            ops = list(ops[0])
    else:
        eq, ops = _sublist_equation(args)
    return OPS["aten::einsum"].public(eq, ops)


einsum_public.__name__ = einsum_public.__qualname__ = "einsum"
PUBLIC["einsum"] = einsum_public


# derivative (gpujit.autograd): written with registry ops, PyTorch's formula

def _others_read(tensors, tensors_needs_grad):
    """The operands a needed gradient reads: each operand's gradient reads the others
    (PyTorch's einsum is products of the operands: each keeps the other factor)."""
    need = tensors_needs_grad
    return [t if any(n for j, n in enumerate(need) if j != i) else None
            for i, t in enumerate(tensors)]


@_derivative(einsum, computes={"kept": _others_read})
def _einsum_grad(grad, equation, tensors_shape, kept, tensors_needs_grad):
    """Each operand's gradient is an einsum of the output's gradient with the other
    operands, onto that operand's subscripts. A subscript repeated in the operand (a
    diagonal, 'ii->i') is renamed and tied back by an identity matrix; one that only the
    operand has (summed away, 'ij->i') comes from a ones vector."""
    G = _gpujit()
    tensors = kept
    eq, sizes, _ = einsum_parse(equation, [tuple(sh) for sh in tensors_shape])
    lhs, out = eq.split("->")
    terms = lhs.split(",")
    spare = [c for c in _LETTERS if c not in eq]
    grads = []
    for i, term in enumerate(terms):
        if not tensors_needs_grad[i]:
            grads.append(None)
            continue
        target, extra, extra_ops, fresh = [], [], [], iter(spare)
        for c in term:
            if c in target:
                c2 = next(fresh)
                extra.append(c + c2)
                extra_ops.append(G.eye(sizes[c], dtype=grad.dtype, device=grad.device))
                target.append(c2)
            else:
                target.append(c)
        others = [t for j, t in enumerate(terms) if j != i]
        known = set(out).union(*others, *extra)
        for c in dict.fromkeys(term):
            if c not in known:
                extra.append(c)
                extra_ops.append(grad.new_ones((sizes[c],)))
        sub = ",".join([out] + others + extra) + "->" + "".join(target)
        # (operands of another dtype than the result's, which a promoting mul took:
        # in the result's dtype, the gradient's)
        ops = [grad] + [t if t.dtype == grad.dtype else t.to(grad.dtype)
                        for j, t in enumerate(tensors) if j != i] + extra_ops
        grads.append(G.einsum(sub, *ops))
    return grads
