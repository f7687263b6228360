"""OpInfos of the linear-algebra family (gpujit/ops/linalg.py, linalg_einsum.py,
linalg_norms.py). References are explicit sums of products in float64 (broadcast multiply +
sum, or a loop over label values for einsum), not calls into np.matmul / np.einsum."""
from __future__ import annotations

import itertools

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, FLOAT_DTYPES

F16, F32, F64, I64 = np.float16, np.float32, np.float64, np.int64
PRODUCT_DTYPES = FLOAT_DTYPES + (np.uint8, np.int8, np.int32, np.int64)


def _acc(x):
    x = np.asarray(x)
    return x.astype(np.float64 if x.dtype.kind == "f" else np.int64)


def mm_ref(a, b):
    """(..., n, k) x (..., k, m) by broadcast multiply-and-sum."""
    a, b = _acc(a), _acc(b)
    return (a[..., :, :, None] * b[..., None, :, :]).sum(-2)


def matmul_ref(a, b):
    a, b = _acc(a), _acc(b)
    if a.ndim == 1 and b.ndim == 1:
        return (a * b).sum()
    if a.ndim == 1:
        return mm_ref(a[None, :], b)[..., 0, :]
    if b.ndim == 1:
        return mm_ref(a, b[:, None])[..., 0]
    return mm_ref(a, b)


_grad_rng = np.random.default_rng(78)


def grad_rand(*shape):
    """float64 values for the samples put first for tests/test_autograd_registry.py (which
    gradchecks an op's first 3 samples); their own generator leaves the shared one's
    sequence, and so every other sample, unchanged."""
    return _grad_rng.uniform(-2, 2, shape)


def _half_tol(samples):
    for s in samples:
        if any(isinstance(a, np.ndarray) and a.dtype == F16 for a in s.args):
            s.tol(2e-3, 2e-3)
    return samples


def _matmul_samples():
    g = grad_rand
    out = [Sample(g(4), g(4)), Sample(g(4), g(2, 4, 5)), Sample(g(2, 1, 3, 4), g(5, 4, 2))]
    out += [Sample(rand(3, 4, dtype=d), rand(4, 5, dtype=d)) for d in PRODUCT_DTYPES]
    shapes = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((2, 3, 4), (2, 4, 5)),
              ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)),
              ((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (2, 4, 5)), ((2, 2, 3, 4), (2, 1, 4, 2)),
              ((0, 3), (3, 4)), ((3, 0), (0, 4)), ((2, 0, 3), (3, 4)), ((0,), (0,)),
              ((0, 2, 3), (3, 2)), ((3, 4), (4, 0))]
    out += [Sample(rand(*sa, dtype=F32), rand(*sb, dtype=F32)) for sa, sb in shapes]
    out += [Sample(rand(2, 3, 4, dtype=F64), rand(4, 2, dtype=F64)),
            Sample(rand(5, dtype=I64, low=-50, high=50), rand(5, dtype=I64, low=-50, high=50)),
            Sample(rand(6, 7, dtype=F16), rand(7, dtype=F16)),
            Sample(rand(3, 4, dtype=np.int8, low=-100, high=100),
                   rand(4, 2, dtype=np.int8, low=-100, high=100))]   # wraps like torch
    return _half_tol(out)


# (PyTorch 2.13's words, corrected in s27: mm / 2-D matmul are addmm's, a bmm reads its
# operands as one scalar type, mv is addmv's)
_KERNEL = {"matmul": "addmm_impl_cpu_", "mm": "addmm_impl_cpu_", "bmm": "bmm",
           "mv": "addmv_impl_cpu"}


def _product_errors(name, a_shape, b_shape, shape_match):
    return [ErrorSample(rand(*a_shape), rand(*b_shape), match=shape_match),
            ErrorSample(rand(*a_shape, dtype=F32), _compatible(a_shape, F64),
                        match=r"expected scalar type Float but found Double" if name == "bmm"
                        else r"expected m1 and m2 to have the same dtype, but got: "
                        r"float != double"),
            ErrorSample(rand(*a_shape, dtype=np.bool_), _compatible(a_shape, np.bool_),
                        match=f"\"{_KERNEL[name]}\" not implemented for 'Bool'")]


def _compatible(a_shape, dtype):
    """An operand whose shape fits a (k matches), for dtype error samples."""
    if len(a_shape) == 3:
        return rand(a_shape[0], a_shape[2], 2, dtype=dtype)
    return rand(a_shape[-1], 2, dtype=dtype) if len(a_shape) == 2 else rand(a_shape[0],
                                                                             dtype=dtype)


_MATMUL_ERRORS = _product_errors("matmul", (3, 4), (5, 6),
                                 r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 5x6\)") + [
    ErrorSample(rand(dtype=F32), rand(3), match=r"both arguments to matmul need to be at "
                r"least 1D, but they are 0D and 1D"),
    ErrorSample(rand(3), rand(4), match=r"inconsistent tensor size, expected tensor \[3\] "
                r"and src \[4\]"),
    ErrorSample(rand(3, 4), rand(5), match=r"size mismatch, got input \(3\), mat \(3x4\), "
                r"vec \(5\)"),
    ErrorSample(rand(3), rand(4, 5), match=r"mat1 and mat2 shapes cannot be multiplied "
                r"\(1x3 and 4x5\)"),
    ErrorSample(rand(2, 3, 4), rand(5, 6), match=r"mat1 and mat2 shapes cannot be "
                r"multiplied \(6x4 and 5x6\)"),
    ErrorSample(rand(2, 3, 4), rand(3, 4, 5), match=r"The size of tensor a \(2\) must match "
                r"the size of tensor b \(3\) at non-singleton dimension 0"),
    ErrorSample(rand(2, 3, 4), rand(2, 5, 6), match=r"Expected size for first two "
                r"dimensions of batch2 tensor to be: \[2, 4\] but got: \[2, 5\]"),
]


def _mm_samples():
    out = [Sample(rand(3, 4, dtype=d), rand(4, 5, dtype=d)) for d in PRODUCT_DTYPES]
    out += [Sample(rand(0, 3), rand(3, 2)), Sample(rand(2, 0), rand(0, 3)),
            Sample(rand(1, 2), rand(2, 6))]
    return _half_tol(out)


def _bmm_samples():
    out = [Sample(rand(2, 3, 4, dtype=d), rand(2, 4, 5, dtype=d)) for d in PRODUCT_DTYPES]
    out += [Sample(rand(0, 3, 4), rand(0, 4, 2)), Sample(rand(2, 3, 0), rand(2, 0, 2))]
    return _half_tol(out)


def _mv_samples():
    out = [Sample(rand(3, 4, dtype=d), rand(4, dtype=d)) for d in PRODUCT_DTYPES]
    out += [Sample(rand(0, 4), rand(4)), Sample(rand(3, 0), rand(0))]
    return _half_tol(out)


def _dot_samples():
    out = [Sample(rand(7, dtype=d), rand(7, dtype=d)) for d in PRODUCT_DTYPES]
    out += [Sample(rand(0), rand(0))]
    return _half_tol(out)


def _addmm_ref(self, m1, m2, beta=1, alpha=1):
    p = alpha * mm_ref(m1, m2)
    return p if beta == 0 else p + beta * _acc(self)


def _addmm_samples(batch=()):
    b = batch
    out = [Sample(grad_rand(5), grad_rand(*b, 3, 4), grad_rand(*b, 4, 5), beta=0.5, alpha=2.0)]
    out += [Sample(rand(*b, 3, 5, dtype=d), rand(*b, 3, 4, dtype=d), rand(*b, 4, 5, dtype=d))
           for d in PRODUCT_DTYPES]
    nan_self = np.full((*b, 3, 5), np.nan, F32)
    x, y = rand(*b, 3, 4), rand(*b, 4, 5)
    out += [Sample(rand(5), x, y), Sample(rand(*b, 1, 5), x, y), Sample(rand(dtype=F32), x, y),
            Sample(rand(*b, 3, 5), x, y, beta=0.5, alpha=2.0), Sample(nan_self, x, y, beta=0),
            Sample(rand(*b, 3, 5, dtype=I64), rand(*b, 3, 4, dtype=I64),
                   rand(*b, 4, 5, dtype=I64), beta=2, alpha=3),
            Sample(rand(*b, 3, 5, dtype=F64), rand(*b, 3, 4, dtype=F64),
                   rand(*b, 4, 5, dtype=F64), alpha=-1)]
    return _half_tol(out)


def _outer_samples():
    out = [Sample(rand(3, dtype=d), rand(4, dtype=d)) for d in PRODUCT_DTYPES + (np.bool_,)]
    out += [Sample(rand(3, dtype=np.int32), rand(2, dtype=F32)).expect_dtype(G.float32),
            Sample(rand(3, dtype=np.uint8), rand(2, dtype=np.int8)).expect_dtype(G.int16),
            Sample(rand(0), rand(3)), Sample(rand(2, dtype=F16), rand(2, dtype=F64))
            .expect_dtype(G.float64)]
    return out


def _outer_ref(a, b):
    return np.asarray(a)[:, None] * np.asarray(b)[None, :]


_OUTER_ERRORS = [ErrorSample(rand(2, 3), rand(3), match=r"outer: Expected 1-D argument self, "
                             r"but got 2-D")]


# ------------------------------------------------------------------ einsum

def einsum_loop(equation, ops, path=None):
    """Explicit einsum: loop over every assignment of label values (small sizes only)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    ops = [_acc(o) for o in ops]
    spare = iter("ZYXWVUTS")
    ell = None
    full_terms = []
    for t, o in zip(terms, ops):
        if "..." in t:
            n = o.ndim - len(t.replace("...", ""))
            ell = ell or [next(spare) for _ in range(8)]
            t = t.replace("...", "".join(ell[8 - n:]) if n else "")
        full_terms.append(t)
    n_ell = max((o.ndim - len(t.replace("...", ""))) for t, o in zip(terms, ops)
                if "..." in t) if ell else 0
    ell_labels = "".join(ell[8 - n_ell:]) if ell else ""
    sizes = {}
    for t, o in zip(full_terms, ops):
        for c, n in zip(t, o.shape):
            sizes[c] = max(sizes.get(c, 1), n) if n != 0 else 0
    if arrow:
        out_t = rhs.replace("...", ell_labels)
    else:
        counts = {c: sum(t.count(c) for t in full_terms) for c in sizes}
        out_t = ell_labels + "".join(sorted(c for c in sizes if counts[c] == 1
                                            and c not in ell_labels))
    labels = sorted(sizes)
    res = np.zeros([sizes[c] for c in out_t], ops[0].dtype)
    for vals in itertools.product(*[range(sizes[c]) for c in labels]):
        v = dict(zip(labels, vals))
        p = 1
        for t, o in zip(full_terms, ops):
            p = p * o[tuple(min(v[c], o.shape[i] - 1) for i, c in enumerate(t))]
        res[tuple(v[c] for c in out_t)] += p
    return res


def _einsum_samples():
    g = grad_rand
    # first: a diagonal, broadcast batch dims, a size-1 dim that broadcasts
    out = [Sample("ii->i", [g(4, 4)]), Sample("...ij,...jk->...ik", [g(2, 3, 4), g(4, 2)]),
           Sample("ij,ij->ij", [g(1, 3), g(2, 3)])]
    a, b, c = rand(3, 4), rand(4, 5), rand(5, 2)
    sq = rand(4, 4)
    out += [Sample("ij,jk->ik", [a, b]), Sample("ij,jk", [a, b]), Sample("ij,jk,kl->il", [a, b, c]),
           Sample("ii->i", [sq]), Sample("ii", [sq]), Sample("ij->ji", [a]), Sample("ij->", [a]),
           Sample("i,i", [rand(4), rand(4)]), Sample("i,j->ij", [rand(3), rand(2)]),
           Sample("bij,bjk->bik", [rand(2, 3, 4), rand(2, 4, 2)]),
           Sample("...ij,...jk->...ik", [rand(2, 3, 4), rand(4, 2)]),
           Sample("b...,b...->b", [rand(2, 3), rand(2, 3)]), Sample("...ii->...i", [rand(2, 3, 3)]),
           Sample(" ij , jk -> ki ", [a, b]), Sample("ij,ij->ij", [rand(1, 3), rand(2, 3)]),
           Sample("Ab,bC->AC", [a, b]), Sample("ij,jk->ik", [rand(0, 3), rand(3, 2)]),
           Sample("ij,jk->ik", [rand(2, 0), rand(0, 3)]), Sample("i->", [rand(0)]),
           Sample("ij,jk->ik", [rand(3, 4, dtype=I64), rand(4, 2, dtype=I64)]),
           Sample("ij,jk->ik", [rand(3, 4, dtype=F16), rand(4, 2, dtype=F16)]).tol(2e-3, 2e-3),
           Sample("ij,jk->ik", [rand(3, 4, dtype=F64), rand(4, 2, dtype=F64)]),
           Sample("ij,jk->ik", [a, b], path=None)]
    return out


_EINSUM_ERRORS = [
    ErrorSample("ij,jk->ik", [rand(3, 4)], match="fewer operands were provided"),
    ErrorSample("ij->ij", [rand(3, 4), rand(3)], match="more operands were provided"),
    ErrorSample("ij,jk->ik", [rand(3, 4, 2), rand(4, 5)], match=r"the number of subscripts "
                r"in the equation \(2\) does not match the number of dimensions \(3\) for "
                r"operand 0 and no ellipsis was given"),
    ErrorSample("ij,jk->ik", [rand(3, 4), rand(5, 2)], match=r"subscript j has size 5 for "
                r"operand 1 which does not broadcast with previously seen size 4"),
    ErrorSample("ij->ik", [rand(3, 4)], match="output subscript k does not appear"),
    ErrorSample("ij->ii", [rand(3, 4)], match="output subscript i appears more than once"),
    ErrorSample("ij,jk->ik", [rand(3, 4, dtype=F32), rand(4, 2, dtype=F64)],
                match="expected scalar type Float but found Double"),
    ErrorSample("ij", [], match="at least one operand"),
]


# ------------------------------------------------------------------ linear / norms

def _linear_ref(x, w, bias=None):
    r = matmul_ref(x, np.asarray(w).T)
    return r if bias is None else r + _acc(bias)


def _linear_samples():
    g = grad_rand
    # (a 1-D weight: matmul's mv / dot, then add_ of a bias off addmm's path)
    out = [Sample(g(2, 3), g(3)), Sample(g(3), g(3), g()), Sample(g(2, 5, 3), g(4, 3), g(4)),
           Sample(g(3), g(4, 3), g(4))]
    out += [Sample(rand(2, 3, dtype=d), rand(4, 3, dtype=d), rand(4, dtype=d))
           for d in PRODUCT_DTYPES]
    out += [Sample(rand(2, 5, 3), rand(4, 3)), Sample(rand(3), rand(4, 3), rand(4)),
            Sample(rand(2, 3), rand(4, 3), bias=None), Sample(rand(5, 3), rand(3)),
            Sample(rand(0, 3), rand(4, 3), rand(4)), Sample(rand(2, 0), rand(4, 0), rand(4))]
    return _half_tol(out)


_LINEAR_ERRORS = [
    ErrorSample(rand(2, 3), rand(4, 5), match=r"mat1 and mat2 shapes cannot be multiplied "
                r"\(2x3 and 5x4\)"),
    ErrorSample(rand(2, 3, dtype=F64), rand(4, 3, dtype=F32), match=r"expected m1 and m2 to "
                r"have the same dtype, but got: double != float"),
    # (torch 2.13's addmm words for a bias of another dtype)
    ErrorSample(rand(2, 3), rand(4, 3), rand(4, dtype=F64),
                match="self and mat2 must have the same dtype, but got Double and Float"),
    # (torch's addmm path of a 2-D input: a 1-D weight's t() is no matrix)
    ErrorSample(rand(2, 3), rand(3), rand(), match="mat2 must be a matrix, got 1-D tensor"),
]


def _vnorm_ref(x, ord=2, dim=None, keepdim=False, dtype=None):
    x = np.abs(np.asarray(x, np.float64))
    ax = axes_all(dim, x.ndim)
    if ord == float("inf"):
        return np.max(x, axis=ax, keepdims=keepdim)
    if ord == float("-inf"):
        return np.min(x, axis=ax, keepdims=keepdim)
    if ord == 0:
        return np.sum(x != 0, axis=ax, keepdims=keepdim).astype(np.float64)
    return np.sum(x ** ord, axis=ax, keepdims=keepdim) ** (1.0 / ord)


def axes_all(dim, ndim):
    if dim is None or (not isinstance(dim, int) and len(dim) == 0):
        return tuple(range(ndim))
    dims = [dim] if isinstance(dim, int) else dim
    return tuple(d % max(ndim, 1) for d in dims) if ndim else ()


def _vnorm_samples():
    x = rand(3, 4, 5, dtype=F32)
    g = grad_rand
    out = [Sample(g(3, 4, 5), float("inf"), (0, 2)), Sample(g(3, 4), 0.5, None, True),
           Sample(g(3, 4), 3, [1])]
    out += [Sample(rand(3, 4, dtype=d)) for d in FLOAT_DTYPES]
    out += [Sample(x, 1), Sample(x, 2, 1), Sample(x, float("inf"), (0, 2)),
            Sample(x, float("-inf"), -1, True), Sample(x, 0), Sample(x, 3, [1]),
            Sample(x, 0.5, None, True), Sample(x, -1.0, 0), Sample(x, ord=2, dim=(0, 1)),
            Sample(rand(dtype=F32), 2), Sample(rand(0, 3), 2), Sample(rand(0, 3), 1, 1),
            Sample(rand(3, 4, dtype=F32), dtype=G.float64).expect_dtype(G.float64),
            Sample(np.array([3e30, 4e30], F64)), Sample(np.zeros((2, 3), F32), 2, 1)]
    return _half_tol(out)


def _mnorm_ref(x, ord="fro", dim=(-2, -1), keepdim=False, dtype=None):
    x = np.asarray(x, np.float64)
    d = tuple(i % x.ndim for i in dim)
    if ord == "fro":
        return np.sqrt(np.sum(x * x, axis=d, keepdims=keepdim))
    m = np.moveaxis(x, d, (-2, -1))
    # nuclear norm = sum of singular values = sum of sqrt(eigenvalues of M^T M)
    ev = np.linalg.eigvalsh(np.swapaxes(m, -1, -2) @ m)
    r = np.sqrt(np.clip(ev, 0, None)).sum(-1)
    for i in sorted(d) if keepdim else ():
        r = np.expand_dims(r, i)
    return r


def _mnorm_samples():
    x = rand(2, 3, 4, dtype=F32)
    out = [Sample(grad_rand(2, 3, 4), "nuc"), Sample(grad_rand(3, 2, 3), "nuc", (2, 0), True),
           Sample(grad_rand(3, 4), "fro", (0, 1), True)]
    out += [Sample(rand(3, 4, dtype=d)) for d in FLOAT_DTYPES]
    out += [Sample(x, "fro", (0, 2)), Sample(x, "nuc"), Sample(x, "nuc", (2, 0), True),
            Sample(x, "fro", keepdim=True), Sample(rand(3, 3, dtype=F64), "nuc"),
            Sample(rand(0, 3), "fro"), Sample(rand(3, 4), dtype=G.float64)
            .expect_dtype(G.float64)]
    return _half_tol(out)


_TOL = dict(rtol=1e-5, atol=5e-5)

OPINFOS = [
    OpInfo("aten::matmul", samples=_matmul_samples, ref=matmul_ref, errors=_MATMUL_ERRORS,
           **_TOL),
    OpInfo("aten::mm", samples=_mm_samples, ref=mm_ref, **_TOL,
           errors=_product_errors("mm", (3, 4), (5, 6), r"mat1 and mat2 shapes cannot be "
                                  r"multiplied \(3x4 and 5x6\)") + [
               ErrorSample(rand(3), rand(3, 4), match="self must be a matrix"),
               ErrorSample(rand(3, 4), rand(2, 4, 5), match="mat2 must be a matrix")]),
    OpInfo("aten::bmm", samples=_bmm_samples, ref=mm_ref, **_TOL,
           errors=_product_errors("bmm", (2, 3, 4), (3, 4, 5), r"Expected size for first two "
                                  r"dimensions of batch2 tensor to be: \[2, 4\] but got: "
                                  r"\[3, 4\]") + [
               ErrorSample(rand(3, 4), rand(3, 4, 5), match="batch1 must be a 3D tensor")]),
    OpInfo("aten::mv", samples=_mv_samples, ref=matmul_ref, **_TOL,
           errors=_product_errors("mv", (3, 4), (5,), r"size mismatch, got input \(3\), mat "
                                  r"\(3x4\), vec \(5\)")[:1] + [
               ErrorSample(rand(3, 4), rand(4, 1), match="vector \\+ matrix @ vector expected"),
               ErrorSample(rand(3, 4, dtype=np.bool_), rand(4, dtype=np.bool_),
                           match="\"addmv_impl_cpu\" not implemented for 'Bool'")]),
    OpInfo("aten::dot", samples=_dot_samples, ref=matmul_ref, **_TOL, errors=[
        ErrorSample(rand(3, dtype=F32), rand(3, dtype=F64), match="dot : expected both "
                    "vectors to have same dtype, but found Float and Double"),
        ErrorSample(rand(3, 2), rand(3, 2), match="1D tensors expected, but got 2D and 2D"),
        ErrorSample(rand(3), rand(4), match=r"inconsistent tensor size, expected tensor \[3\] "
                    r"and src \[4\] to have the same number of elements, but got 3 and 4 "
                    r"elements respectively"),
        ErrorSample(rand(3, dtype=np.bool_), rand(3, dtype=np.bool_),
                    match="\"dot\" not implemented for 'Bool'")]),
    OpInfo("aten::addmm", samples=_addmm_samples, ref=_addmm_ref, **_TOL, errors=[
        ErrorSample(rand(3, 5), rand(3, 4), rand(5, 5), match="cannot be multiplied"),
        ErrorSample(rand(4, 5), rand(3, 4), rand(4, 5), match="The expanded size"),
        ErrorSample(rand(3, 5, dtype=I64), rand(3, 4, dtype=I64), rand(4, 5, dtype=I64),
                    alpha=float("nan"),
                    match="value cannot be converted to type int64_t without overflow"),
        ErrorSample(rand(3, 5, dtype=F64), rand(3, 4), rand(4, 5), match="same dtype")]),
    OpInfo("aten::baddbmm", samples=lambda: _addmm_samples((2,)), ref=_addmm_ref, **_TOL,
           errors=[ErrorSample(rand(2, 3, 5), rand(2, 3, 4), rand(3, 4, 5),
                               match="Expected size for first two dimensions of batch2")]),
    OpInfo("aten::outer", samples=_outer_samples, ref=_outer_ref, errors=_OUTER_ERRORS),
    OpInfo("aten::ger", samples=_outer_samples, ref=_outer_ref, errors=_OUTER_ERRORS),
    OpInfo("aten::einsum", samples=_einsum_samples, ref=einsum_loop, errors=_EINSUM_ERRORS,
           **_TOL),
    OpInfo("aten::linear", samples=_linear_samples, ref=_linear_ref, errors=_LINEAR_ERRORS,
           **_TOL),
    OpInfo("aten::linalg_vector_norm", samples=_vnorm_samples, ref=_vnorm_ref, **_TOL, errors=[
        ErrorSample(rand(3, dtype=I64), match="linalg.vector_norm: Expected a floating point "
                    "or complex tensor as input. Got Long"),
        ErrorSample(rand(0, 3), float("inf"), match="Expected reduction dim to be specified"),
        ErrorSample(rand(0, 3), float("inf"), 0, exc=IndexError, match="Expected reduction "
                    "dim 0 to have non-zero size")]),
    OpInfo("aten::linalg_matrix_norm.str_ord", samples=_mnorm_samples, ref=_mnorm_ref,
           rtol=1e-4, atol=1e-4, errors=[
               ErrorSample(rand(3, 4), "fro", (0,), match="dim must be a 2-tuple"),
               ErrorSample(rand(3, 4), "abc", match="Order abc not supported"),
               ErrorSample(rand(3), match="must have at least 2 dimensions")]),
]
