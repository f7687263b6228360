"""OpInfos of torch.linalg's inverses, solves, decompositions and norms
(gpujit/ops/linalg_decomp.py). References are NumPy's (np.linalg, in float64).
Decompositions whose factors are unique only up to signs (QR, SVD, eigh) are checked by
their defining properties (A = Q R with Q orthonormal and R upper triangular, ...) rather
than against NumPy's factors, and are not compared across devices (cuSOLVER may choose
other signs)."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand
from .linalg import grad_rand

F32, F64, I64 = np.float32, np.float64, np.int64
_TOL = dict(rtol=1e-4, atol=1e-4)


def wc(*shape, dtype=F32, g=False):
    """A well-conditioned (batch of) square matrix: random plus n on the diagonal."""
    n = shape[-1]
    a = grad_rand(*shape) if g else rand(*shape, dtype=F64)
    return (a + n * np.eye(n)).astype(F64 if g else dtype)


def spd(*shape, dtype=F32, g=False):
    a = grad_rand(*shape) if g else rand(*shape, dtype=F64)
    n = shape[-1]
    s = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    return s.astype(F64 if g else dtype)


def _f(x):
    return np.asarray(x, np.float64)


# ---------------------------------------------------------------- checks of decompositions

def _np(t):
    return t.numpy().astype(np.float64)


def _close(a, b, tol):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _tol(t):
    return 1e-3 if t.dtype.name == "float32" else 1e-9


def _orthonormal_cols(q, tol):
    k = q.shape[-1]
    _close(np.swapaxes(q, -1, -2) @ q, np.broadcast_to(np.eye(k), q.shape[:-2] + (k, k)), tol)


def _qr_check(sample, out):
    a = _f(sample.args[0])
    mode = sample.args[1] if len(sample.args) > 1 else sample.kwargs.get("mode", "reduced")
    q, r = out
    tol = _tol(r)
    R = _np(r)
    assert np.allclose(np.tril(R, -1), 0), "R is not upper triangular"
    if mode == "r":
        assert tuple(q.shape) == (0,)
        _close(np.abs(R), np.abs(np.linalg.qr(a, mode="r")), tol)
        return
    Q = _np(q)
    _orthonormal_cols(Q, tol)
    _close(Q @ R, a, tol)


def _svd_check(sample, out, old=False):
    a = _f(sample.args[0])
    u, s, v = out
    tol = _tol(s)
    S = _np(s)
    _close(S, np.linalg.svd(a, compute_uv=False), tol)
    compute_uv = sample.kwargs.get("compute_uv", sample.args[2] if len(sample.args) > 2
                                   else True)
    if old and not compute_uv:
        assert not _np(u).any() and not _np(v).any()
        return
    U, Vh = _np(u), _np(v)
    if old:
        Vh = np.swapaxes(Vh, -1, -2)
    _orthonormal_cols(U, tol)
    _orthonormal_cols(np.swapaxes(Vh, -1, -2), tol)
    k = S.shape[-1]
    _close((U[..., :, :k] * S[..., None, :]) @ Vh[..., :k, :], a, tol)


def _eigh_check(sample, out):
    a = _f(sample.args[0])
    uplo = sample.args[1] if len(sample.args) > 1 else sample.kwargs.get("UPLO", "L")
    w, v = out
    tol = _tol(w)
    W, V = _np(w), _np(v)
    _close(W, np.linalg.eigvalsh(a, UPLO=uplo), tol)
    sym = np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2) if uplo == "L" else \
        np.triu(a) + np.swapaxes(np.triu(a, 1), -1, -2)
    _orthonormal_cols(V, tol)
    _close(sym @ V, V * W[..., None, :], tol * 10)


# ---------------------------------------------------------------- references

def _solve_ref(A, B, left=True):
    vec = left and (B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1]))
    inv = np.linalg.inv(A)
    if vec:
        return (inv @ B[..., None])[..., 0]
    return inv @ B if left else B @ inv


def _logdet_ref(A):
    s, l = np.linalg.slogdet(A)
    return np.where(s < 0, np.nan, l)


def _rank_ref(A, atol=None, rtol=None, hermitian=False):
    s = np.abs(np.linalg.eigvalsh(A)) if hermitian else np.linalg.svd(A, compute_uv=False)
    m, n = A.shape[-2:]
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(np.float32).eps * max(m, n)
    tol = np.maximum(atol or 0.0, rtol * s.max(-1, keepdims=True))
    return (s > tol).sum(-1)


def _pinv_ref(A, atol=None, rtol=None, hermitian=False):
    # singular values below 1e-5 of the largest are float32 rounding of a lower rank (the
    # inputs are upcast; gpujit cuts at float32's eps * max(m, n), as torch)
    return np.linalg.pinv(A, rcond=1e-5, hermitian=hermitian)


def _mnorm_ref(x, ord, dim=(-2, -1), keepdim=False, dtype=None):
    return np.linalg.norm(x, ord, axis=tuple(dim), keepdims=keepdim)


def _norm_ref(x, ord=None, dim=None, keepdim=False, dtype=None):
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None and dim is None:
        r = np.sqrt((x * x).sum())
        return r.reshape((1,) * x.ndim) if keepdim else r
    if dim is not None and len(dim) == 1 and isinstance(ord, (int, float)) and ord not in (
            0, 1, 2, -1, -2, np.inf, -np.inf):
        r = (np.abs(x) ** ord).sum(dim[0], keepdims=keepdim) ** (1 / ord)
        return r
    return np.linalg.norm(x, ord, axis=None if dim is None else tuple(dim), keepdims=keepdim)


def _cross_ref(a, b, dim=-1):
    return np.cross(a, b, axis=dim)


def _old_cross_ref(a, b, dim=None):
    if dim is None:
        dim = next(i for i, s in enumerate(np.broadcast_shapes(a.shape, b.shape)) if s == 3)
    return np.cross(*np.broadcast_arrays(a, b), axis=dim)


def _vecdot_ref(x, y, dim=-1):
    return (x * y).sum(dim)


def _multi_dot_ref(tensors):
    return np.linalg.multi_dot(tensors)


# ---------------------------------------------------------------- samples

def _square_samples():
    return [Sample(wc(3, 3, g=True)), Sample(wc(2, 3, 3, g=True)), Sample(wc(4, 4, g=True)),
            Sample(wc(5, 5)), Sample(wc(2, 2, 4, 4)), Sample(wc(3, 3, dtype=F64)),
            Sample(wc(1, 1))]


_NOT_FLOAT = "Expected a floating point or complex tensor as input. Got Long"


def _square_errors(name):
    return [ErrorSample(rand(2, 3), match=f"{name}: A must be batches of square matrices, "
                        f"but they are 2 by 3 matrices"),
            ErrorSample(rand(3), match=f"{name}: The input tensor A must have at least 2 "
                        f"dimensions."),
            ErrorSample(rand(3, 3, dtype=I64), match=f"{name}: {_NOT_FLOAT}"),
            ErrorSample(rand(3, 3, dtype=np.float16), match=f"{name}: Low precision dtypes "
                        f"not supported. Got Half")]


_SINGULAR = np.array([[1., 2, 3], [2, 4, 6], [1, 1, 1]], F32)


def _solve_samples():
    g = grad_rand
    return [Sample(wc(3, 3, g=True), g(3)), Sample(wc(2, 3, 3, g=True), g(3, 2)),
            Sample(wc(3, 3, g=True), g(2, 3), left=False),
            Sample(wc(4, 4), rand(4)), Sample(wc(2, 4, 4), rand(2, 4)),
            Sample(wc(2, 4, 4), rand(4, 3)), Sample(wc(4, 4), rand(3, 4, 2)),
            Sample(wc(4, 4, dtype=F64), rand(2, 4, dtype=F64), left=False)]


def _rect(*shape, g=False, dtype=F32):
    return grad_rand(*shape) if g else rand(*shape, dtype=dtype)


def _rect_samples(extra=()):
    out = [Sample(_rect(4, 3, g=True), *extra), Sample(_rect(3, 3, g=True), *extra),
           Sample(_rect(2, 4, 3, g=True), *extra),
           Sample(_rect(5, 3), *extra), Sample(_rect(3, 5), *extra),
           Sample(_rect(2, 3, 4, 3), *extra), Sample(_rect(4, 4, dtype=F64), *extra)]
    return out


def _qr_samples():
    out = _rect_samples()
    out += [Sample(_rect(5, 3), "complete"), Sample(_rect(3, 5), "complete"),
            Sample(_rect(2, 5, 3), mode="r"), Sample(_rect(3, 5), "r")]
    return out


def _svd_samples():
    out = _rect_samples((False,))
    out += [Sample(_rect(5, 3)), Sample(_rect(2, 3, 5)),
            Sample(_rect(3, 3, dtype=F64), full_matrices=True)]
    return out


def _old_svd_samples():
    out = _rect_samples()
    out += [Sample(_rect(5, 3), False), Sample(_rect(2, 3, 5), compute_uv=False),
            Sample(_rect(3, 5), some=False)]
    return out


def _sym_samples():
    return [Sample(spd(3, 3, g=True)), Sample(spd(2, 3, 3, g=True)),
            Sample(rand(4, 4, dtype=F64)), Sample(rand(4, 4), "U"),
            Sample(spd(2, 5, 5)), Sample(rand(3, 3, dtype=F64), UPLO="U")]


def _pinv_samples():
    lowrank = (rand(5, 2, dtype=F64) @ rand(2, 4, dtype=F64)).astype(F32)
    return [Sample(_rect(4, 3, g=True)), Sample(_rect(3, 4, g=True)),
            Sample(_rect(2, 3, 3, g=True)), Sample(_rect(5, 3)), Sample(lowrank),
            Sample(spd(4, 4), hermitian=True)]


def _rank_samples():
    lowrank = (rand(5, 2, dtype=F64) @ rand(2, 4, dtype=F64)).astype(F32)
    return [Sample(lowrank), Sample(rand(2, 4, 3)), Sample(np.ones((3, 3), F32)),
            Sample(spd(3, 3), hermitian=True),
            Sample(np.diag([1.0, 0.5, 1e-3]).astype(F64), atol=0.1),
            Sample(np.diag([1.0, 0.5, 1e-3]).astype(F64), rtol=0.6)]


def _mpow_samples():
    return [Sample(wc(3, 3, g=True), 3), Sample(wc(2, 3, 3, g=True), -2),
            Sample(wc(3, 3, g=True), 0), Sample(wc(4, 4), 5), Sample(wc(2, 3, 3), -1),
            Sample(wc(4, 4), 1), Sample(rand(3, 3, dtype=I64, low=-3, high=3), 3),
            Sample(rand(3, 3, dtype=I64), 0)]


def _cross_samples(old=False):
    g = grad_rand
    out = [Sample(g(3), g(3)), Sample(g(4, 3), g(1, 3)), Sample(g(3, 2), g(3, 2), dim=0),
           Sample(rand(5, 3), rand(5, 3)), Sample(rand(2, 3, 4), rand(2, 3, 4), dim=1),
           Sample(rand(4, 3, dtype=I64), rand(4, 3, dtype=I64)),
           Sample(rand(2, 3, dtype=F64), rand(2, 3, dtype=F64), dim=-1)]
    if old:
        out = [Sample(*s.args, dim=s.kwargs["dim"]) if "dim" in s.kwargs else Sample(*s.args,
               dim=-1) for s in out]
        out.append(Sample(rand(3, 4), rand(3, 4)))      # dim=None: the first dim of size 3
    return out


def _vecdot_samples():
    g = grad_rand
    return [Sample(g(4), g(4)), Sample(g(3, 4), g(4)), Sample(g(3, 4), g(3, 4), dim=0),
            Sample(rand(2, 5, 3), rand(5, 3)), Sample(rand(4, dtype=F64), rand(4, dtype=F64))]


def _trace_samples():
    g = grad_rand
    return [Sample(g(3, 3)), Sample(g(3, 4)), Sample(g(5, 2)), Sample(rand(4, 4)),
            Sample(rand(3, 3, dtype=I64)), Sample(rand(3, 2, dtype=np.int32)),
            Sample(rand(0, 3))]


def _multi_dot_samples():
    g = grad_rand
    return [Sample([g(3), g(3, 4), g(4)]), Sample([g(2, 3), g(3, 4), g(4, 2)]),
            Sample([g(3, 2), g(2)]), Sample([rand(3), rand(3, 4)]),
            Sample([rand(2, 3), rand(3, 4), rand(4, 5), rand(5)]),
            Sample([rand(3, 3, dtype=I64), rand(3, 3, dtype=I64)])]


def _mnorm_samples():
    g = grad_rand
    out = [Sample(g(3, 4), 1), Sample(g(2, 3, 3), float("inf")), Sample(g(4, 3), 2),
           Sample(g(3, 4), -2), Sample(g(3, 3), -1), Sample(g(3, 4), float("-inf"))]
    out += [Sample(rand(2, 3, 4), o) for o in (1, -1, 2, -2, float("inf"), float("-inf"))]
    out += [Sample(rand(3, 2, 4), 2, (0, 2), keepdim=True), Sample(rand(3, 4, dtype=F64), 1,
                                                                  dim=(1, 0))]
    return out


def _norm_samples():
    g = grad_rand
    return [Sample(g(3, 4)), Sample(g(3, 4), 2), Sample(g(2, 3, 4), 3, (1,)),
            Sample(g(4), float("inf")), Sample(rand(2, 3, 4), None, (1, 2)),
            Sample(rand(3, 4), 1, keepdim=True), Sample(rand(3, 4), -2),
            Sample(rand(2, 3, 4), 0.5, 2), Sample(rand(2, 3, 4), keepdim=True),
            Sample(rand(5, dtype=F64), 1), Sample(rand(2, 3, 4), 2, (0, 2))]


def _norm_str_samples():
    g = grad_rand
    return [Sample(g(3, 4), "fro"), Sample(g(3, 4), "nuc"), Sample(g(2, 3, 4), "fro", (0, 2)),
            Sample(rand(2, 3, 4), "nuc", (1, 2), keepdim=True)]


# ---------------------------------------------------------------- triangular solves, LU

def _st_ref(A, B, upper, left=True, unitriangular=False):
    T = np.triu(A) if upper else np.tril(A)
    if unitriangular:
        T = T - T * np.eye(A.shape[-1]) + np.eye(A.shape[-1])
    inv = np.linalg.inv(T)
    return inv @ B if left else B @ inv


def _lu_one(a):
    """Doolittle LU with partial pivoting of one matrix (LAPACK getrf's output)."""
    a = a.astype(np.float64).copy()
    m, n = a.shape
    piv = []
    for j in range(min(m, n)):
        p = j + int(np.argmax(np.abs(a[j:, j])))
        piv.append(p + 1)
        a[[j, p]] = a[[p, j]]
        if a[j, j] != 0:
            a[j + 1:, j] /= a[j, j]
        a[j + 1:, j + 1:] -= np.outer(a[j + 1:, j], a[j, j + 1:])
    return a, np.array(piv, np.int32)


def _lu_ref_parts(A):
    """(LU, pivots, P, L, U) of a batch, matrix by matrix."""
    m, n = A.shape[-2:]
    k = min(m, n)
    mats = A.reshape((-1, m, n))
    out = [[], [], [], [], []]
    for a in mats:
        lu, piv = _lu_one(a)
        perm = list(range(m))
        for j, p in enumerate(piv):
            perm[j], perm[p - 1] = perm[p - 1], perm[j]
        P = np.zeros((m, m))
        P[perm, range(m)] = 1
        L = np.tril(lu[:, :k], -1) + np.eye(m, k)
        for o, v in zip(out, (lu, piv, P, L, np.triu(lu[:k]))):
            o.append(v)
    b = A.shape[:-2]
    return tuple(np.stack(o).reshape(b + o[0].shape) for o in out)


def _lu_factor_ref(A, pivot=True):
    return _lu_ref_parts(A)[:2]


def _lu_ref(A, pivot=True):
    return _lu_ref_parts(A)[2:]


def _lu_unpack_ref(LU, piv, unpack_data=True, unpack_pivots=True):
    m, n = LU.shape[-2:]
    k = min(m, n)
    perm = np.broadcast_to(np.arange(m), piv.shape[:-1] + (m,)).copy()
    for idx in np.ndindex(piv.shape[:-1]):
        for j, p in enumerate(piv[idx]):
            perm[idx + (j,)], perm[idx + (p - 1,)] = perm[idx + (p - 1,)], perm[idx + (j,)]
    P = (perm[..., :, None] == np.arange(m)).swapaxes(-1, -2).astype(np.float64)
    L = np.tril(LU[..., :, :k], -1) + np.eye(m, k)
    U = np.triu(LU[..., :k, :])
    e = np.zeros((0,))
    return (P if unpack_pivots else e), (L if unpack_data else e), (U if unpack_data else e)


def _lu_solve_ref(LU, piv, B, left=True, adjoint=False):
    P, L, U = _lu_unpack_ref(LU, piv)
    A = P @ L @ U
    if adjoint:
        A = np.swapaxes(A, -1, -2)
    inv = np.linalg.inv(A)
    return inv @ B if left else B @ inv


def _st_samples():
    # A's other triangle holds values the op must not read
    g = grad_rand
    return [Sample(wc(3, 3, g=True), g(3, 2), upper=True),
            Sample(wc(2, 3, 3, g=True), g(3, 2), upper=False, unitriangular=True),
            Sample(wc(3, 3, g=True), g(2, 3), upper=True, left=False),
            Sample(wc(4, 4), rand(4, 3), upper=False),
            Sample(wc(2, 1, 4, 4), rand(3, 4, 2), upper=True, unitriangular=True),
            Sample(wc(4, 4), rand(2, 2, 4), upper=False, left=False),
            Sample(wc(3, 3, dtype=F64), rand(3, 1, dtype=F64), upper=True),
            Sample(wc(3, 3), rand(3, 2, dtype=F64), upper=True),      # B cast to A's dtype
            Sample(wc(3, 3), rand(3, 0), upper=False)]


def _lu_samples():
    return [Sample(_rect(3, 3, g=True)), Sample(_rect(2, 4, 3, g=True)),
            Sample(_rect(3, 5, g=True)), Sample(_rect(4, 4)), Sample(_rect(2, 3, 5, 3)),
            Sample(_rect(3, 3, dtype=F64)), Sample(_rect(1, 1)), Sample(_rect(2, 4, 4),
                                                                      pivot=True)]


def _factored(*shape, dtype=F32):
    a = wc(*shape, dtype=F64)
    lu, piv = _lu_ref_parts(a)[:2]
    return lu.astype(dtype), piv


def _lu_solve_samples():
    g = grad_rand
    out = []
    for args, kw in [(((3, 3), (3, 2)), {}), (((2, 3, 3), (3, 2)), dict(adjoint=True)),
                     (((3, 3), (2, 3)), dict(left=False)),
                     (((4, 4), (4, 3)), {}), (((2, 4, 4), (2, 4, 1)), dict(adjoint=True)),
                     (((4, 4), (3, 2, 4)), dict(left=False, adjoint=True)),
                     (((3, 3), (3, 2)), dict(dtype=F64))]:
        (sa, sb), dtype = args, kw.pop("dtype", F32)
        lu, piv = _factored(*sa, dtype=dtype)
        b = g(*sb) if len(out) < 3 else rand(*sb, dtype=dtype)
        if len(out) < 3:
            lu = lu.astype(F64)
        out.append(Sample(lu, piv, b, **kw))
    return out


def _lu_unpack_samples():
    out = []
    for s in [(3, 3), (2, 4, 3), (3, 5), (2, 4, 4), (5, 2)]:
        lu, piv = _lu_ref_parts(rand(*s, dtype=F64))[:2]
        out.append(Sample(lu.astype(F64 if len(out) < 3 else F32), piv))
    lu, piv = _factored(3, 3)
    out += [Sample(lu, piv, False, False), Sample(lu, piv, unpack_pivots=False)]
    return out


_I32 = np.int32
_LU_OPINFOS = [
    OpInfo("aten::linalg_solve_triangular", samples=_st_samples, ref=_st_ref, **_TOL, errors=[
        ErrorSample(np.eye(3, dtype=F32), rand(2, 3), upper=True, match=r"linalg.solve_"
                    r"triangular: Incompatible shapes of A and B for the equation AX = B "
                    r"\(3x3 and 2x3\)"),
        ErrorSample(np.eye(3, dtype=F32), rand(3, 2), upper=True, left=False, match=r"equation"
                    r" XA = B \(3x3 and 3x2\)"),
        ErrorSample(np.eye(3, dtype=F32), rand(3), upper=True, match="linalg.solve_triangular:"
                    " The input tensor B must have at least 2 dimensions."),
        ErrorSample(rand(2, 3), rand(2, 3), upper=True, match="linalg.solve_triangular: A must"
                    " be batches of square matrices, but they are 2 by 3 matrices"),
        ErrorSample(rand(3, 3, dtype=I64), rand(3, 3, dtype=I64), upper=True,
                    exc=NotImplementedError, match="\"triangular_solve_cpu\" not implemented "
                    "for 'Long'")]),
    OpInfo("aten::linalg_lu_factor", samples=_lu_samples, ref=_lu_factor_ref, **_TOL, errors=[
        ErrorSample(np.zeros((3, 3), F32), match=r"torch.linalg.lu_factor: U\[1,1\] is zero "
                    r"and using it on lu_solve would result in a division by zero"),
        ErrorSample(np.stack([np.eye(3), np.ones((3, 3))]).astype(F32), match=r"\(Batch "
                    r"element 1\): U\[2,2\] is zero"),
        ErrorSample(rand(3, 3), pivot=False, match="linalg.lu_factor: LU without pivoting is "
                    "not implemented on the CPU"),
        ErrorSample(rand(3), match=r"torch.lu_factor: Expected tensor with 2 or more "
                    r"dimensions. Got size: \[3\] instead"),
        ErrorSample(rand(3, 3, dtype=I64), exc=NotImplementedError,
                    match="\"lu_cpu\" not implemented for 'Long'")]),
    OpInfo("aten::linalg_lu", samples=_lu_samples, ref=_lu_ref, **_TOL, errors=[
        ErrorSample(rand(3, 3, dtype=np.float16), exc=NotImplementedError,
                    match="\"lu_cpu\" not implemented for 'Half'"),
        ErrorSample(rand(3, 3), pivot=False, match="LU without pivoting is not implemented")]),
    OpInfo("aten::lu_unpack", samples=_lu_unpack_samples, ref=_lu_unpack_ref, **_TOL, errors=[
        ErrorSample(np.eye(3, dtype=F32), np.array([1, 2, 3]), match="torch.lu_unpack: "
                    "LU_pivots is expected to be a contiguous tensor of torch.int32 dtype")]),
    OpInfo("aten::linalg_lu_solve", samples=_lu_solve_samples, ref=_lu_solve_ref, **_TOL,
           errors=[
               ErrorSample(np.eye(3, dtype=F32), np.arange(1, 4, dtype=_I32), rand(2, 3),
                           match=r"linalg.lu_solve: Incompatible shapes of A and B for the "
                           r"equation AX = B \(3x3 and 2x3\)"),
               ErrorSample(np.eye(3, dtype=F32), np.arange(1, 4), rand(3, 2),
                           match="linalg.lu_solve: pivots should be a Tensor of scalar type "
                           "torch.int32"),
               ErrorSample(np.eye(3, dtype=F32), np.arange(1, 4, dtype=_I32),
                           rand(3, 2, dtype=F64), match="linalg.lu_solve: Expected LU and B "
                           "to have the same dtype, but found LU of type Float and B of type "
                           "Double instead"),
               ErrorSample(rand(3, 4), np.arange(1, 4, dtype=_I32), rand(3, 2),
                           match="torch.linalg.lu_solve: A must be batches of square "
                           "matrices, but they are 3 by 4 matrices"),
               ErrorSample(np.eye(3, dtype=F32), np.arange(1, 3, dtype=_I32), rand(3, 2),
                           match="linalg.lu_solve: Number of pivots per batch should be same "
                           "as the dimension of the matrix"),
               ErrorSample(np.eye(3, dtype=F32), np.arange(1, 4, dtype=_I32), rand(3),
                           match="linalg.lu_solve: The input tensor B must have at least 2 "
                           "dimensions.")]),
]


# ---------------------------------------------------------------- matrix_exp

def _expm_ref(A):
    """Taylor series of A / 2^s (1-norm below 1/2) to 30 terms, then s squarings."""
    norm = np.abs(A).sum(-2).max() if A.size else 0.0
    s = max(0, int(np.ceil(np.log2(norm / 0.5)))) if norm > 0 else 0
    a = A / 2.0 ** s
    term = np.broadcast_to(np.eye(A.shape[-1]), A.shape).copy()
    out = term.copy()
    for k in range(1, 30):
        term = term @ a / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


def _expm_samples():
    g = grad_rand
    mixed = np.stack([np.eye(3) * 1e-3, rand(3, 3, dtype=F64) * 4])
    return [Sample(g(3, 3)), Sample(g(2, 3, 3) * 0.1), Sample(g(4, 4) * 2),
            Sample(rand(5, 5)), Sample(rand(2, 4, 4) * 2), Sample(rand(3, 3) * 1e-3),
            Sample(rand(3, 3, dtype=F64) * 10).tol(1e-6, 1e-6), Sample(mixed),
            Sample(rand(1, 1)), Sample(rand(0, 0)), Sample(rand(2, 0, 0))]


def _expm_errors(name):
    return [ErrorSample(rand(2, 3), match=f"{name}: A must be batches of square matrices, "
                        f"but they are 2 by 3 matrices"),
            ErrorSample(rand(3), match=f"{name}: The input tensor A must have at least 2 "
                        f"dimensions."),
            ErrorSample(rand(3, 3, dtype=I64), match=f"{name}: {_NOT_FLOAT}")]


_EXPM_OPINFOS = [
    # float32's error grows with the norm (the squarings): relative 1e-3
    OpInfo("aten::linalg_matrix_exp", samples=_expm_samples, ref=_expm_ref, rtol=1e-3,
           atol=1e-3, errors=_expm_errors("linalg.matrix_exp")),
    OpInfo("aten::matrix_exp", samples=_expm_samples, ref=_expm_ref, rtol=1e-3, atol=1e-3,
           errors=_expm_errors("linalg.matrix_exp")),
]


# ---------------------------------------------------------------- lstsq

def _lstsq_ref(A, B, rcond=None, driver=None):
    driver = driver or "gelsy"
    m, n = A.shape[-2:]
    vec = B.ndim == 1 or B.ndim == A.ndim - 1
    Bm = B[..., None] if vec else B
    batch = np.broadcast_shapes(A.shape[:-2], Bm.shape[:-2])
    Ab = np.broadcast_to(A, batch + (m, n))
    Bb = np.broadcast_to(Bm, batch + Bm.shape[-2:])
    rc = np.finfo(np.float32).eps * max(m, n) if rcond is None else rcond
    X = np.zeros(batch + (n, Bm.shape[-1]))
    for i in np.ndindex(batch):
        X[i] = np.linalg.lstsq(Ab[i], Bb[i], rcond=rc)[0]
    s = np.linalg.svd(A, compute_uv=False)
    rank = (s > rc * s.max(-1, keepdims=True)).sum(-1)
    res = np.zeros((0,))
    if m > n and driver != "gelsy" and (driver == "gels" or (rank == n).all()):
        res = ((Ab @ X - Bb) ** 2).sum(-2)
    return (X[..., 0] if vec else X, res, np.zeros((0,), np.int64) if driver == "gels" else
            rank, s if driver in ("gelsd", "gelss") else np.zeros((0,)))


def _lstsq_samples():
    g = grad_rand
    # rank 2 (a zero column), with an rcond far from float32's rounding of the zero
    # singular value and from the others
    low = np.concatenate([rand(5, 2), np.zeros((5, 1), F32)], -1)
    return [Sample(g(5, 3), g(5, 2)), Sample(g(3, 5), g(3, 2), driver="gelsd"),
            Sample(g(2, 4, 3), g(2, 4), driver="gels"),
            Sample(rand(6, 3), rand(6), driver="gelss"),
            Sample(rand(2, 1, 5, 3), rand(2, 3, 5, 2), None, driver="gelsd"),
            Sample(rand(4, 4, dtype=F64), rand(4, 2, dtype=F64), driver="gelsy"),
            Sample(low, rand(5, 2), 1e-4), Sample(low, rand(5, 2), 1e-4, driver="gelss"),
            Sample(rand(5, 3), rand(5, 2), 0.5, driver="gelsd").tol(1e-3, 1e-3)]


_LSTSQ_OPINFOS = [
    OpInfo("aten::linalg_lstsq", samples=_lstsq_samples, ref=_lstsq_ref, rtol=1e-3, atol=1e-3,
           errors=[
               ErrorSample(rand(5, 3), rand(5, 2, dtype=F64), match="torch.linalg.lstsq: "
                           "Expected input and other to have the same dtype, but got input's "
                           "dtype Float and other's dtype Double"),
               ErrorSample(rand(5, 3), rand(5, 2), driver="foo", match=r"torch.linalg.lstsq: "
                           r"parameter `driver` should be one of \(gels, gelsy, gelsd, "
                           r"gelss\)"),
               ErrorSample(rand(5, 3), rand(4, 2), match=r"torch.linalg.lstsq: input.size\(-2\)"
                           r" should match other.size\(-2\)"),
               ErrorSample(rand(3), rand(3, 2), match="torch.linalg.lstsq: input must have at "
                           "least 2 dimensions."),
               ErrorSample(rand(3, 3, dtype=I64), rand(3, 3, dtype=I64), match="This function "
                           "doesn't handle types other than float and double")]),
]


# ---------------------------------------------------------------- *_ex, cholesky_solve

def _info_ref(A):
    """LAPACK getrf's info: the 1-based index of U's first zero diagonal entry, or 0."""
    out = []
    for a in A.reshape((-1,) + A.shape[-2:]):
        z = np.flatnonzero(_lu_one(a)[0].diagonal() == 0)
        out.append(z[0] + 1 if z.size else 0)
    return np.array(out, np.int32).reshape(A.shape[:-2])


def _inv_ex_ref(A, check_errors=False):
    return np.linalg.inv(A), _info_ref(A)


def _solve_ex_ref(A, B, left=True, check_errors=False):
    return _solve_ref(A, B, left), _info_ref(A)


def _cholesky_ex_ref(A, upper=False, check_errors=False):
    L = np.linalg.cholesky(A)
    return (np.swapaxes(L, -1, -2) if upper else L), np.zeros(A.shape[:-2], np.int32)


def _lower(*shape, g=False, dtype=F32):
    """A Cholesky factor (its other triangle holds values the ops must not read)."""
    L = np.linalg.cholesky(spd(*shape, dtype=F64))
    noise = grad_rand(*shape) if g else rand(*shape, dtype=F64)
    return (L + np.triu(noise, 1)).astype(F64 if g else dtype)


def _chol_solve_ref(B, L, upper=False):
    L = np.triu(L) if upper else np.tril(L)
    A = np.swapaxes(L, -1, -2) @ L if upper else L @ np.swapaxes(L, -1, -2)
    return np.linalg.inv(A) @ B


def _chol_inverse_ref(L, upper=False):
    return _chol_solve_ref(np.broadcast_to(np.eye(L.shape[-1]), L.shape), L, upper)


_NOT_PD = np.array([[1., 2], [2, 1]], F32)
_EX_OPINFOS = [
    # info of singular inputs (whose inverse is inf / nan): tests/test_linalg.py
    OpInfo("aten::linalg_inv_ex", samples=_square_samples, ref=_inv_ex_ref, **_TOL,
           errors=_square_errors("linalg.inv") + [
               ErrorSample(_SINGULAR, check_errors=True, match="linalg.inv_ex: The diagonal "
                           "element 3 is zero, the inversion could not be completed because "
                           "the input matrix is singular.")]),
    OpInfo("aten::linalg_solve_ex", samples=_solve_samples, ref=_solve_ex_ref, **_TOL,
           errors=[ErrorSample(np.stack([np.eye(3), _SINGULAR]).astype(F32), rand(3),
                               check_errors=True, match=r"torch.linalg.solve_ex: \(Batch "
                               r"element 1\): The solver failed because the input matrix is "
                               r"singular.")]),
    # reads one triangle of A: gradcheck in tests/test_linalg.py on symmetrized inputs
    OpInfo("aten::linalg_cholesky_ex", grad=False,
           samples=lambda: [Sample(spd(3, 3)), Sample(spd(2, 4, 4), upper=True),
                            Sample(spd(3, 3, dtype=F64))],
           ref=_cholesky_ex_ref, **_TOL,
           errors=[ErrorSample(_NOT_PD, check_errors=True, match=r"linalg.cholesky_ex: The "
                               r"factorization could not be completed because the input is "
                               r"not positive-definite \(the leading minor of order 2 is not "
                               r"positive-definite\).")]),
    # cholesky_solve / cholesky_inverse read one triangle of the factor: gradcheck in
    # tests/test_linalg.py through tril()
    OpInfo("aten::cholesky_solve", grad=False,
           samples=lambda: [Sample(rand(3, 2), _lower(3, 3)),
                            Sample(rand(2, 3, 2), _lower(3, 3), True),
                            Sample(rand(4, 1), _lower(2, 4, 4)),
                            Sample(rand(3, 2, dtype=F64), _lower(3, 3, dtype=F64), upper=True)],
           ref=_chol_solve_ref, **_TOL, errors=[
               ErrorSample(rand(2), rand(2, 2), match="b should have at least 2 dimensions, "
                           "but has 1 dimensions instead"),
               ErrorSample(rand(3, 3), rand(2, 2), match="Incompatible matrix sizes for "
                           "cholesky_solve: each A matrix is 2 by 2 but each b matrix is 3 "
                           "by 3"),
               ErrorSample(rand(2, 3, dtype=F64), rand(2, 2), match="Expected b and A to have "
                           "the same dtype, but found b of type Double and A of type Float "
                           "instead.")]),
    OpInfo("aten::cholesky_inverse", grad=False,
           samples=lambda: [Sample(_lower(3, 3)), Sample(_lower(2, 4, 4), True),
                            Sample(_lower(3, 3, dtype=F64), upper=False)],
           ref=_chol_inverse_ref, **_TOL, errors=[
               ErrorSample(rand(2, 3), match="cholesky_inverse: A must be batches of square "
                           "matrices, but they are 2 by 3 matrices"),
               ErrorSample(rand(2, 2, dtype=I64), exc=NotImplementedError,
                           match="\"cholesky_inverse_out_cpu\" not implemented for 'Long'")]),
]


OPINFOS = [
    OpInfo("aten::linalg_inv", samples=_square_samples, ref=np.linalg.inv, **_TOL,
           errors=_square_errors("linalg.inv") + [
               ErrorSample(_SINGULAR, match=r"linalg.inv: The diagonal element 3 is zero, "
                           r"the inversion could not be completed because the input matrix "
                           r"is singular."),
               ErrorSample(np.zeros((2, 2, 2), F32), match=r"linalg.inv: \(Batch element 0\): "
                           r"The diagonal element 1 is zero")]),
    OpInfo("aten::linalg_det", samples=_square_samples, ref=np.linalg.det, **_TOL,
           errors=_square_errors("linalg.det")),
    OpInfo("aten::linalg_slogdet", samples=_square_samples,
           ref=lambda A: tuple(np.linalg.slogdet(A)), **_TOL,
           errors=_square_errors("linalg.slogdet")),
    OpInfo("aten::logdet", samples=lambda: [Sample(spd(3, 3, g=True)),
                                            Sample(spd(2, 3, 3, g=True)),
                                            Sample(spd(4, 4)),
                                            Sample(np.diag([-1.0, 2.0]).astype(F32))],
           ref=_logdet_ref, **_TOL, errors=_square_errors("logdet")),
    OpInfo("aten::linalg_solve", samples=_solve_samples, ref=_solve_ref, **_TOL, errors=[
        ErrorSample(np.eye(3, dtype=F32), rand(2, 3), match=r"linalg.solve: Incompatible "
                    r"shapes of A and B for the equation AX = B \(3x3 and 2x3\)"),
        ErrorSample(np.eye(4, dtype=F32), rand(4, 2), left=False, match=r"equation XA = B "
                    r"\(4x4 and 4x2\)"),
        ErrorSample(np.eye(3, dtype=F32), rand(3, dtype=F64), match="Expected A and B to "
                    "have the same dtype, but found A of type Float and B of type Double"),
        ErrorSample(_SINGULAR, rand(3), match="The solver failed because the input matrix "
                    "is singular")]),
    # cholesky and eigh read one triangle of A: finite differences of the other triangle
    # are zero while the derivative is PyTorch's symmetric one, so gradcheck runs in
    # tests/test_linalg.py on symmetrized inputs instead
    OpInfo("aten::linalg_cholesky", grad=False,
           samples=lambda: [Sample(spd(3, 3)), Sample(spd(2, 4, 4)),
                            Sample(spd(3, 3, dtype=F64), upper=True)],
           ref=lambda A, upper=False: np.swapaxes(np.linalg.cholesky(A), -1, -2) if upper
           else np.linalg.cholesky(A), **_TOL, errors=_square_errors("linalg.cholesky") + [
               ErrorSample(np.array([[1., 2], [2, 1]], F32), match=r"linalg.cholesky: The "
                           r"factorization could not be completed because the input is not "
                           r"positive-definite \(the leading minor of order 2 is not "
                           r"positive-definite\).")]),
    OpInfo("aten::linalg_qr", samples=_qr_samples, check=_qr_check, gpu=False, errors=[
        ErrorSample(rand(3, 3), "x", match="qr received unrecognized mode 'x'"),
        ErrorSample(rand(3), match="linalg.qr: The input tensor A must have at least 2"),
        ErrorSample(rand(3, 3, dtype=I64), match=f"linalg.qr: {_NOT_FLOAT}")]),
    OpInfo("aten::linalg_svd", samples=_svd_samples, check=_svd_check, gpu=False, errors=[
        ErrorSample(rand(3), match="linalg.svd: The input tensor A must have at least 2"),
        ErrorSample(rand(3, 3, dtype=I64), match=f"linalg.svd: {_NOT_FLOAT}")]),
    OpInfo("aten::svd", samples=_old_svd_samples, gpu=False,
           check=lambda s, out: _svd_check(s, out, old=True)),
    OpInfo("aten::linalg_svdvals", samples=_rect_samples,
           ref=lambda A: np.linalg.svd(A, compute_uv=False), **_TOL),
    OpInfo("aten::linalg_eigh", samples=_sym_samples, check=_eigh_check, gpu=False,
           grad=False, errors=[
               ErrorSample(rand(3, 3), "X", match="Expected UPLO argument to be 'L' or 'U', "
                           "but got X")] + _square_errors("linalg.eigh")),
    OpInfo("aten::linalg_eigvalsh", samples=_sym_samples, grad=False,
           ref=lambda A, UPLO="L": np.linalg.eigvalsh(A, UPLO=UPLO), **_TOL),
    OpInfo("aten::linalg_pinv", samples=_pinv_samples, ref=_pinv_ref, rtol=1e-3, atol=1e-3,
           errors=[ErrorSample(rand(3, 3, dtype=I64), match=r"linalg.pinv\(Long\{\[3, 3\]\}\)"
                               r": expected a tensor with 2 or more dimensions of float")]),
    OpInfo("aten::pinverse", samples=lambda: [Sample(_rect(4, 3, g=True)),
                                              Sample(_rect(2, 3, 4, g=True)),
                                              Sample(_rect(3, 3, g=True), 1e-10),
                                              Sample(_rect(5, 2))],
           ref=lambda A, rcond=1e-15: np.linalg.pinv(A, rcond=rcond), rtol=1e-3, atol=1e-3),
    OpInfo("aten::linalg_matrix_rank", samples=_rank_samples, ref=_rank_ref,
           errors=[ErrorSample(rand(3, 3, dtype=I64), match=f"linalg.matrix_rank: "
                               f"{_NOT_FLOAT}")]),
    OpInfo("aten::linalg_matrix_power", samples=_mpow_samples,
           ref=lambda A, n: np.linalg.matrix_power(A, n), **_TOL, errors=[
               ErrorSample(rand(2, 3), 2, match="linalg.matrix_power: A must be batches of "
                           "square matrices, but they are 2 by 3 matrices"),
               ErrorSample(rand(3), 2, match="linalg.matrix_power: The input tensor A must "
                           "have at least 2 dimensions."),
               ErrorSample(rand(3, 3, dtype=I64), -1, match=f"linalg.inv: {_NOT_FLOAT}")]),
    OpInfo("aten::linalg_cross", samples=_cross_samples, ref=_cross_ref, **_TOL, errors=[
        ErrorSample(rand(3, 4), rand(3, 4), match="linalg.cross: inputs dimension -1 must "
                    "have length 3. Got 4 and 4"),
        ErrorSample(rand(3), rand(3, dtype=F64), match="expected scalar type Float but "
                    "found Double")]),
    OpInfo("aten::cross", samples=lambda: _cross_samples(old=True), ref=_old_cross_ref,
           **_TOL, errors=[ErrorSample(rand(2, 4), rand(2, 4), match="no dimension of size 3 "
                                       "in input")]),
    OpInfo("aten::linalg_vecdot", samples=_vecdot_samples, ref=_vecdot_ref, **_TOL, errors=[
        ErrorSample(rand(3, dtype=I64), rand(3, dtype=I64), match=f"linalg.vecdot: "
                    f"{_NOT_FLOAT}"),
        ErrorSample(rand(3), rand(3, dtype=F64), match="linalg.vecdot: Expected x and y to "
                    "have the same dtype, but found x of type Float and y of type Double")]),
    OpInfo("aten::trace", samples=_trace_samples, ref=np.trace, **_TOL, errors=[
        ErrorSample(rand(2, 3, 4), match="trace: expected a matrix, but got tensor with dim "
                    "3"),
        ErrorSample(rand(3, 3, dtype=np.bool_), match="\"trace\" not implemented for "
                    "'Bool'")]),
    OpInfo("aten::linalg_multi_dot", samples=_multi_dot_samples, ref=_multi_dot_ref, **_TOL,
           errors=[
               ErrorSample([rand(3)], match=r"multi_dot\(\): expected at least 2 tensors but "
                           r"got 1"),
               ErrorSample([rand(3, 3, 3), rand(3, 3)], match=r"the first tensor must be 1D "
                           r"or 2D but got 3D"),
               ErrorSample([rand(3, 3), rand(4, 3)], match=r"tensors 0 and 1 with shapes "
                           r"\[3, 3\] and \[4, 3\] cannot be multiplied"),
               ErrorSample([rand(3, 3), rand(3, 3, 3), rand(3)], match="tensor 1 must be 2D "
                           "but got 3D")]),
    OpInfo("aten::linalg_matrix_norm", samples=_mnorm_samples, ref=_mnorm_ref, **_TOL,
           errors=[ErrorSample(rand(3, 4), 0.5, match=r"linalg.matrix_norm: Order 0.5 not "
                               r"supported."),
                   ErrorSample(rand(3, 4), 3, match=r"Order 3 not supported."),
                   ErrorSample(rand(3, 4, dtype=I64), 2, match=_NOT_FLOAT)]),
    OpInfo("aten::linalg_norm", samples=_norm_samples, ref=_norm_ref, **_TOL, errors=[
        ErrorSample(rand(2, 3, 4), 2, match="linalg.norm: If dim is not specified but ord is, "
                    "the input must be 1D or 2D. Got 3D."),
        ErrorSample(rand(2, 3, 4), None, (0, 1, 2), match=r"linalg.norm: If dim is specified, "
                    r"it must be of length 1 or 2. Got \[0, 1, 2\]"),
        ErrorSample(rand(3, dtype=I64), match=f"linalg.vector_norm: {_NOT_FLOAT}")]),
    OpInfo("aten::linalg_norm.ord_str", samples=_norm_str_samples,
           ref=lambda x, ord, dim=None, keepdim=False: np.linalg.norm(
               x, ord, axis=None if dim is None else tuple(dim), keepdims=keepdim), **_TOL,
           errors=[ErrorSample(rand(3), "fro", match="linalg.matrix_norm: The input tensor A "
                               "must have at least 2 dimensions.")]),
]
OPINFOS += _LU_OPINFOS
OPINFOS += _EXPM_OPINFOS
OPINFOS += _LSTSQ_OPINFOS
OPINFOS += _EX_OPINFOS
