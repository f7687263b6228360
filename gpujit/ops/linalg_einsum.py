"""einsum: `aten::einsum` (the equation checked as torch.einsum checks it, operands of one
dtype, float16 computed in float32), the public `gpujit.einsum` with its three call forms
(equation and operands, equation and a list, the sublist form), and its derivative (down
PyTorch's tree of pairwise contractions, keeping what each keeps). The other products are
linalg.py's."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta
from .reduction_cascade import cascade_sum
from .linalg import _LA, _F16, _F32, _dtn, _gpujit
from . import registry as _registry
from .registry import op, OPS, derivative as _derivative, dispatch_state

_CASCADE = (_F32, np.dtype(np.float64))    # (torch.sum's CPU order: reduction_cascade)

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


def _sum_dtype(d):
    """The dtype of a.sum(dims): bool and integer sums accumulate in int64, as torch.sum."""
    return _dt.int64 if d is _dt.bool or d.category == _dt.INTEGRAL else d


def _einsum_dtype(dts, eq=None, shapes=None, path=None, equation=None):
    """The result dtype of PyTorch's einsum, following its contraction (Linear.cpp):
    operands are taken two at a time (left to right, the product put first; or the given
    path's pairs, the product put last); a summed label that only one side of a step
    still holds with size != 1 (and no later operand holds) is summed out of that side
    first (a torch.sum: bool and integers become int64); the step is then a promoting mul
    when it contracts nothing, else a bmm, which needs one dtype ("expected scalar type
    Int but found Long") and has no bool kernel ("bmm" not implemented for 'Bool'),
    except on empty operands, where the CPU bmm checks nothing and gives mat2's dtype.
    A single operand with summed labels is one torch.sum."""
    if not dts:
        return _dt.get_default_dtype()
    lhs, _, out = eq.partition("->")
    terms = lhs.split(",")
    summed = sorted({c for t in terms for c in t if c not in out})
    order = _canonical_order(equation or eq, eq)
    ops = []
    counts = dict.fromkeys(summed, 0)
    for t, sh, d in zip(terms, shapes, dts):
        sz = {}
        for c, n in zip(t, sh):
            sz[c] = n
        for c in summed:
            if sz.get(c, 1) != 1:
                counts[c] += 1
        ops.append((sz, d))
    if path is not None:
        want = 1 if len(ops) == 1 else (len(ops) - 1) * 2
        if len(path) != want:
            raise RuntimeError(f"einsum(): expected contraction path given in path parameter "
                               f"to have size {want} but got {len(path)}")
    if len(ops) == 1:
        return _sum_dtype(dts[0]) if summed else dts[0]
    steps = iter(path or ())
    while len(ops) > 1:
        i, j = 0, 1
        if path is not None:
            i, j = sorted((next(steps), next(steps)))
            if i == j or i < 0 or j >= len(ops):
                raise RuntimeError(f"einsum(): invalid contraction ({i}, {j}) " + (
                    "cannot contract an operand with itself" if i == j else
                    "operand index is out of bounds"))
        (a, da), (b, db) = ops[i], ops[j]
        del ops[j], ops[i]
        a, b = dict(a), dict(b)
        sum_dims, a_sum, b_sum = [], False, False
        for c in summed:
            na, nb = a.get(c, 1), b.get(c, 1)
            if na != 1 and nb != 1:
                counts[c] -= 1
                if counts[c] == 1:
                    sum_dims.append(c)
                    counts[c] = 0
            elif counts[c] == 1:
                if na != 1:
                    a[c], a_sum, counts[c] = 1, True, 0
                elif nb != 1:
                    b[c], b_sum, counts[c] = 1, True, 0
        if a_sum:
            da = _sum_dtype(da)
        if b_sum:
            db = _sum_dtype(db)
        if not sum_dims:
            d = _dt.promote_types(da, db)
        else:
            labels = set(a) | set(b)
            empty = any(a.get(c, 1) == 0 or b.get(c, 1) == 0 for c in labels)
            # sumproduct_pair multiplies the sides swapped when every dim only the
            # right side has (or neither has) comes before every dim only the left
            # side has in the output order: mat1 is then the right operand
            lo = [k for c, k in order.items() if c not in sum_dims
                  and a.get(c, 1) != 1 and b.get(c, 1) == 1]
            ro = [k for c, k in order.items() if c not in sum_dims and a.get(c, 1) == 1]
            if lo and ro and max(ro) < min(lo):
                da, db = db, da
            if empty:
                d = db
            elif da is _dt.bool:
                raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
            elif da is not db:
                raise RuntimeError(f"expected scalar type {da.short_name} but found "
                                   f"{db.short_name}")
            else:
                d = da
        sz = {}
        for c in set(a) | set(b):
            na, nb = a.get(c, 1), b.get(c, 1)
            sz[c] = 1 if c in sum_dims else (nb if na == 1 else na)
        if path is not None:
            ops.append((sz, d))
        else:
            ops.insert(0, (sz, d))
    return ops[0][1]


def _einsum_meta(equation, tensors, path=None):
    shapes = [t.shape for t in tensors]
    eq, _, shape = einsum_parse(equation, shapes)
    d = _einsum_dtype([t.dtype for t in tensors], eq, shapes, path, equation)
    dev = tensors[0].device if tensors else None
    return TensorMeta(d, shape, dev)


@op("aten::einsum(str equation, Tensor[] tensors, *, int[]? path=None) -> Tensor", tags=_LA,
    function=False, method=False, meta=_einsum_meta)
def einsum(xp, equation, tensors, path=None):
    if not tensors:
        raise RuntimeError("einsum(): must provide at least one operand")
    eq, sizes, _ = einsum_parse(equation, [t.shape for t in tensors])
    out = _einsum_dtype([_dtn(t.dtype) for t in tensors], eq, [t.shape for t in tensors],
                        path, equation).np
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
    r = _single_sum(eq, ops, out)
    if r is None:
        try:
            r = xp.einsum(eq, *ops, optimize=len(ops) > 2)
        except ValueError as e:
            raise RuntimeError(f"einsum(): {e}") from None
    r = xp.asarray(r).astype(out, copy=False)
    st = _einsum_strides(eq, equation, tensors, path)
    if st is None:
        st = _contiguous(r.shape)
    if r.ndim < 2 or r.strides == tuple(x * r.itemsize for x in st):
        return r
    o = _mf.empty_strided(xp, r.shape, r.dtype, st)
    o[...] = r
    return o


def _single_sum(eq, ops, out):
    """One float32 / float64 NumPy operand with labels to sum: PyTorch's einsum takes a
    repeated label's diagonal, permutes the operand to (output labels, summed labels)
    and sums the trailing dims (torch.sum: its CPU order, reduction_cascade); None
    otherwise."""
    lhs, _, res = eq.partition("->")
    a = ops[0]
    if len(ops) != 1 or type(a) is not np.ndarray or out not in _CASCADE or \
            a.dtype != out or len(set(lhs)) == len(res):
        return None
    if len(set(lhs)) != len(lhs):       # a repeated label: its diagonal (a view), as torch
        uniq = "".join(dict.fromkeys(lhs))
        a, lhs = np.einsum(f"{lhs}->{uniq}", a), uniq
    perm = [lhs.index(c) for c in res] + [i for i, c in enumerate(lhs) if c not in res]
    return cascade_sum(a.transpose(perm), tuple(range(len(res), a.ndim)), False)


def _contiguous(shape):
    return _mf.strides_in(shape, range(len(shape)))


def _einsum_strides(eq, equation, tensors, path):
    """The element strides of PyTorch's einsum result (Linear.cpp), or None for C order:
    each operand is permuted to the canonical dim order (the output's labels, then the
    summed ones; a repeated label its diagonal, a missing one unsqueezed), the pairs are
    contracted as _einsum_dtype walks them, and the last step lays the result out: a
    sumproduct_pair that sums is bmm's (batch, left-only, right-only) product viewed and
    permuted back to the canonical order, one that sums nothing a mul (TensorIterator's
    layout of its operands), an operand's own sum (keepdim) C order; a single operand
    with nothing to sum is its permuted view."""
    lhs, out = eq.split("->")
    terms = lhs.split(",")
    order = _canonical_order(equation, eq)
    P, nout = len(order), len(out)
    ops = []
    for t, a in zip(terms, tensors):
        if 0 in a.shape:
            return None             # (the zero-size fast path: at::zeros)
        size, stride = [1] * P, [None] * P
        ast = [x // a.itemsize for x in a.strides]
        for c, n, x in zip(t, a.shape, ast):
            k = order[c]
            size[k] = n
            stride[k] = x if stride[k] is None else stride[k] + x     # (a diagonal)
        ops.append((size, [1 if x is None else x for x in stride]))   # (unsqueeze(-1))
    if len(ops) == 1:
        size, stride = ops[0]
        return tuple(stride) if P == nout else None     # (a sum: C order)
    counts = [sum(1 for sz, _ in ops if sz[k] != 1) for k in range(P)]
    steps = iter(path or ())
    while len(ops) > 1:
        i, j = (0, 1) if path is None else sorted((next(steps), next(steps)))
        (asz, ast), (bsz, bst) = ops[i], ops[j]
        del ops[j], ops[i]
        asz, bsz = list(asz), list(bsz)
        sum_dims, a_sum, b_sum = [], False, False
        for k in range(nout, P):
            if asz[k] != 1 and bsz[k] != 1:
                counts[k] -= 1
                if counts[k] == 1:
                    sum_dims.append(k)
                    counts[k] = 0
            elif counts[k] == 1:
                if asz[k] != 1:
                    asz[k], a_sum, counts[k] = 1, True, 0
                elif bsz[k] != 1:
                    bsz[k], b_sum, counts[k] = 1, True, 0
        if a_sum:
            ast = list(_contiguous(asz))
        if b_sum:
            bst = list(_contiguous(bsz))
        sz = [max(x, y) for x, y in zip(asz, bsz)]
        if not sum_dims:
            st = _mf.iterator_strides([_mf._Strided(asz, ast), _mf._Strided(bsz, bst)],
                                      tuple(sz))
            st = list(_contiguous(sz) if st is None else st)
        else:
            sz = [1 if k in sum_dims else n for k, n in enumerate(sz)]
            lro, lo, ro = [], [], []
            for k in range(P):
                if k in sum_dims:
                    continue
                if asz[k] != 1 and bsz[k] != 1:
                    lro.append(k)
                elif asz[k] != 1:
                    lo.append(k)
                else:
                    ro.append(k)
            if lo and ro and max(ro) < min(lo):
                lo, ro = ro, lo     # (the sides swapped, as _einsum_dtype's)
            perm = lro + lo + sum_dims + ro
            ost = _contiguous([sz[k] for k in perm])
            st = [0] * P
            for pos, k in enumerate(perm):
                st[k] = ost[pos]
        ops.insert(len(ops) if path is not None else 0, (sz, st))
    size, stride = ops[0]
    if P > nout:
        stride = _mf.compute_stride(tuple(size), tuple(stride), tuple(size[:nout]))
    return tuple(stride)


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
    if len(args) < 2:
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    # (torch's reads the sublist form only when the first argument is a Tensor: anything
    # else is the equation, so einsum(proxy, proxy) reaches the proxy's handler)
    if isinstance(args[0], _registry._Tensor):
        eq, ops = _sublist_equation(args)
    else:
        eq, ops = args[0], list(args[1:])
    if dispatch_state.torch_function is not None:
        # (torch's checks the operands after reading the sublist form and again after
        # unpacking a list of operands: a handler sees einsum(equation, *operands))
        from ..overrides import handle_torch_function, has_torch_function
        if has_torch_function(ops):
            return handle_torch_function(einsum_public, ops, eq, *ops)
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        return einsum_public(eq, *ops[0])
    if not isinstance(eq, str):
        raise TypeError("einsum(): argument 'equation' (position 1) must be str, not "
                        f"{type(eq).__name__}")
    return OPS["aten::einsum"].public(eq, ops)


einsum_public.__name__ = einsum_public.__qualname__ = "einsum"
einsum_public.checks_torch_function = True       # (its own check: not _function_entries')
PUBLIC["einsum"] = einsum_public


# derivative (gpujit.autograd): written with registry ops, PyTorch's formula
#
# PyTorch's einsum contracts two operands at a time (left to right, or the given path's
# pairs with each product appended last), each contraction first summing out the summed
# dims only one side has, then a bmm or mul that keeps each side only where the other
# needs a gradient. The derivative follows the same tree: it keeps, per contraction, the
# side the other side's gradient reads (an operand, or a sum / partial product computed at
# forward time), so a write into an operand after the op is an error only where PyTorch's
# is, and it takes each gradient back down the tree.


def _einsum_tree(terms, out, path, shapes):
    """The contraction tree of PyTorch's einsum over operand `terms` (of `shapes`): leaves
    are operand indices, nodes (left, right, the labels of the node's product, (the labels
    of each side once the summed dims only it has are summed out: an operand keeps its own
    term, repeated labels included, when nothing is summed out of it), the non-1 labels of
    (left, right)). As PyTorch's, it goes by sizes: a label of size 1 (broadcast) is no
    dim to share or to keep for a later operand."""
    n = len(terms)
    big = [{c for c, k in zip(t, s) if k != 1} for t, s in zip(terms, shapes)]

    def leaves(node):
        return [node] if isinstance(node, int) else leaves(node[0]) + leaves(node[1])

    def subs(node):
        return terms[node] if isinstance(node, int) else node[2]

    def nonone(node):
        return big[node] if isinstance(node, int) else (node[4][0] | node[4][1]) & set(node[2])

    def make(a, b):
        inside = set(leaves(a) + leaves(b))
        outside = set(out).union(*(big[k] for k in range(n) if k not in inside))
        na, nb = nonone(a), nonone(b)

        def side(x, mine, other):
            kept = "".join(c for c in dict.fromkeys(subs(x))
                           if c not in mine or c in outside or c in other)
            return subs(x) if set(kept) == set(subs(x)) else kept
        order = dict.fromkeys(subs(a) + subs(b))
        keep = "".join(c for c in order if c in outside)
        return (a, b, keep, (side(a, na, nb), side(b, nb, na)), (na, nb))

    ops = list(range(n))
    steps = list(path) if path is not None else []
    for k in range(0, len(steps) - 1, 2):
        if len(ops) < 2:
            break
        a, b = sorted((steps[k], steps[k + 1]))
        x, y = ops[a], ops[b]
        del ops[b], ops[a]
        ops.append(make(x, y))
    while len(ops) > 1:
        ops = [make(ops[0], ops[1])] + ops[2:]
    root = ops[0]
    return root if isinstance(root, int) else root[:2] + (out,) + root[3:]


def _einsum_needs(node, need):
    return need[node] if isinstance(node, int) else (_einsum_needs(node[0], need) or
                                                     _einsum_needs(node[1], need))


def _einsum_kept(equation, tensors, path, tensors_needs_grad):
    """What the contractions keep (see above): for each node of the tree (depth first),
    [its left side when the right needs a gradient, its right side when the left does]."""
    G = _gpujit()
    if len(tensors) < 2:
        return []
    eq, _, _ = einsum_parse(equation, [tuple(t.shape) for t in tensors])
    lhs, out = eq.split("->")
    terms = lhs.split(",")
    need = list(tensors_needs_grad)
    kept = []

    def value(node):
        if isinstance(node, int):
            return tensors[node]
        a, b, keep, (la, lb), _ = node
        return G.einsum(f"{la},{lb}->{keep}", side_value(a, la), side_value(b, lb))

    def side_value(node, labels):
        subs = terms[node] if isinstance(node, int) else node[2]
        if subs == labels:
            return value(node)
        return G.einsum(f"{subs}->{labels}", value(node))

    canon = _canonical_order(equation, eq)

    def keep_side(node, x, labels, left):
        v = side_value(x, labels)
        if isinstance(x, int) and v is tensors[x] and _reshape_copies(
                v, terms[x], node[4][0], node[4][1], set(node[2]), canon, left):
            v = v.clone()       # PyTorch's bmm keeps the copy its reshape made
        return v

    def walk(node):
        if isinstance(node, int):
            return
        slot = len(kept)
        kept.extend([None, None])
        walk(node[0])
        walk(node[1])
        a, b, _, (la, lb), _ = node
        if _einsum_needs(b, need):
            kept[slot] = keep_side(node, a, la, True)
        if _einsum_needs(a, need):
            kept[slot + 1] = keep_side(node, b, lb, False)
    walk(_einsum_tree(terms, out, path, [tuple(t.shape) for t in tensors]))
    return kept


def _canonical_order(equation, eq):
    """{label: position} in PyTorch's einsum dim order: the output's labels, then (when the
    output has none) the ellipsis dims, then the summed labels in A-Z, a-z order."""
    lhs, out = eq.split("->")
    ell = [c for c in dict.fromkeys(eq) if c.isalpha() and c not in equation]
    order = list(out) + [c for c in ell if c not in out]
    order += [c for c in _LETTERS if c in lhs and c not in order]
    return {c: i for i, c in enumerate(order)}


def _reshape_copies(t, term, left_dims, right_dims, keep, canon, left):
    """Whether PyTorch's sumproduct_pair copies operand t (labels `term`; the left or right
    side of a contraction whose sides have the non-1 labels left_dims / right_dims and
    whose product keeps `keep`) when it permutes it to (batch, own, summed) or (batch,
    summed, own) and reshapes that to three dims: a merged group whose dims are not
    adjacent in memory cannot be a view. A mul (nothing summed) keeps a view."""
    summed = (left_dims & right_dims) - keep
    if not summed:
        return False
    both = (left_dims & right_dims) & keep
    own = (left_dims if left else right_dims) - right_dims if left else \
        right_dims - left_dims
    own &= keep
    groups = [both, own, summed] if left else [both, summed, own]
    size, stride = {}, {}
    for k, c in enumerate(term):
        size[c] = t.shape[k]
        stride[c] = stride.get(c, 0) + t.stride(k)
    for g in groups:
        dims = [c for c in sorted(g, key=canon.get) if c in size and size[c] != 1]
        for x, y in zip(dims, dims[1:]):
            if stride[x] != stride[y] * size[y]:
                return True
    return False


def _lift(G, ins, ops, target, sizes, spare):
    """einsum of `ops` (labels `ins`) onto the labels `target` (of `sizes`): a label
    repeated in target (a diagonal, 'ii') is renamed and tied back by an identity matrix,
    one the inputs lack or have only with size 1 (summed away before the product) comes
    from a ones vector."""
    ref = ops[0]        # (the gradient: operands of another dtype, which a promoting mul
    # took, are read in its dtype)
    ops = [ref] + [t if t.dtype == ref.dtype else t.to(ref.dtype) for t in ops[1:]]
    have = {c for lb, t in zip(ins, ops) for c, n in zip(lb, t.shape) if n != 1}
    fresh = iter(spare)
    out, extra, extra_ops = [], [], []
    for c in target:
        if c in out:
            c2 = next(fresh)
            extra.append(c + c2)
            extra_ops.append(G.eye(sizes[c], dtype=ref.dtype, device=ref.device))
            out.append(c2)
        else:
            out.append(c)
    for c in dict.fromkeys(target):
        if c not in have:
            extra.append(c)
            extra_ops.append(ref.new_ones((sizes[c],)))
    return G.einsum(",".join(list(ins) + extra) + "->" + "".join(out), *ops, *extra_ops)


@_derivative(einsum, computes={"kept": _einsum_kept})
def _einsum_grad(grad, equation, tensors_shape, path, kept, tensors_needs_grad):
    """Each gradient goes down PyTorch's contraction tree: a side's gradient is an einsum
    of its node's gradient with the other side's kept value, onto the side's labels (an
    operand's own, with its diagonals and summed-away dims restored)."""
    G = _gpujit()
    eq, _, _ = einsum_parse(equation, [tuple(sh) for sh in tensors_shape])
    lhs, out = eq.split("->")
    terms = lhs.split(",")
    spare = [c for c in _LETTERS if c not in eq]
    need = list(tensors_needs_grad)
    grads = [None] * len(terms)
    slots = iter(range(0, len(kept), 2))

    def target(node):
        return terms[node] if isinstance(node, int) else node[2]

    def target_sizes(node):
        """the sizes of node's value: an operand's own, a product's the largest of its
        operands' (1 where all of them broadcast)"""
        if isinstance(node, int):
            return dict(zip(terms[node], tensors_shape[node]))
        a, b = target_sizes(node[0]), target_sizes(node[1])
        return {c: max(a.get(c, 1), b.get(c, 1)) for c in node[2]}

    def walk(node, g):
        """g: the gradient of node's value (its labels: target(node))"""
        if isinstance(node, int):
            grads[node] = g
            return
        k = next(slots)
        a, b, keep, (la, lb), _ = node
        for child, other, other_labels in ((a, kept[k + 1], lb), (b, kept[k], la)):
            if _einsum_needs(child, need):
                walk(child, _lift(G, [keep, other_labels], [g, other], target(child),
                                  target_sizes(child), spare))
            else:
                skip(child)

    def skip(node):
        if not isinstance(node, int):
            next(slots)
            skip(node[0])
            skip(node[1])

    tree = _einsum_tree(terms, out, path, [tuple(sh) for sh in tensors_shape])
    if isinstance(tree, int):
        grads[tree] = _lift(G, [out], [grad], terms[tree], target_sizes(tree), spare)
        return grads
    walk(tree, grad)
    return grads
