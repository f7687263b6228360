"""OpInfos of torch.linalg's triangular solves, LU, the `_ex` variants, cholesky_solve
and cholesky_inverse (gpujit/ops/linalg_lu.py, linalg_ex.py). References are NumPy's, in
float64."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand
from .linalg import grad_rand
from .linalg_decomp import (_SINGULAR, _TOL, _rect, _solve_ref, _solve_samples,
                            _square_errors, _square_samples, spd, wc)

F32, F64, I64 = np.float32, np.float64, np.int64


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


OPINFOS = _LU_OPINFOS + _EX_OPINFOS
