"""OpInfos of torch.linalg.ldl_factor / ldl_factor_ex / ldl_solve (gpujit/ops/linalg_ldl.py).
Samples are diagonally dominant symmetric positive definite matrices, on which
Bunch-Kaufman pivoting takes every diagonal pivot as it comes (pivots 1..n): LD is then
the plain LDL^T, which the NumPy reference computes from a Cholesky factor. Pivoted and
indefinite cases are tests/test_edges_s27c.py's (against torch 2.13)."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand

F32, F64 = np.float32, np.float64
_TOL = dict(rtol=1e-4, atol=1e-4)


def _dd(*shape, dtype=F32):
    """Symmetric, diagonally dominant, positive definite (..., n, n)."""
    n = shape[-1]
    m = rand(*shape, dtype=F64, low=-1.0, high=1.0)
    a = m + np.swapaxes(m, -1, -2) + 2.5 * n * np.eye(n)
    return a.astype(dtype)


def _ldl_parts(A):
    A = np.asarray(A, F64)
    n = A.shape[-1]
    if n == 0:
        return np.zeros(A.shape, F64), np.zeros(A.shape[:-1], np.int32)
    C = np.linalg.cholesky(A)
    d = np.diagonal(C, axis1=-2, axis2=-1)
    L = C / d[..., None, :]
    LD = np.tril(L, -1) + d[..., None, :] ** 2 * np.eye(n)
    piv = np.broadcast_to(np.arange(1, n + 1, dtype=np.int32), A.shape[:-1]).copy()
    return LD, piv


def _factor_ref(A, hermitian=False):
    return _ldl_parts(A)


def _factor_ex_ref(A, hermitian=False, check_errors=False):
    LD, piv = _ldl_parts(A)
    return LD, piv, np.zeros(A.shape[:-2], np.int32)


def _factor_samples():
    return [Sample(_dd(3, 3)), Sample(_dd(2, 4, 4, dtype=F64)), Sample(_dd(1, 1)),
            Sample(_dd(3, 3), hermitian=True), Sample(np.zeros((2, 0, 0), F32))]


def _solve_samples():
    out = []
    for A, B in ((_dd(3, 3), rand(3, 2)), (_dd(2, 4, 4, dtype=F64), rand(4, 1, dtype=F64)),
                 (_dd(3, 3), rand(2, 3, 3))):
        LD, piv = _ldl_parts(A)
        out.append(Sample(LD.astype(A.dtype), piv, B))
    return out


def _solve_ref(LD, pivots, B, hermitian=False):
    n = LD.shape[-1]
    L = np.tril(LD, -1) + np.eye(n)
    D = np.diagonal(LD, axis1=-2, axis2=-1)[..., None, :] * np.eye(n)
    A = L @ D @ np.swapaxes(L, -1, -2)
    batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    return np.linalg.solve(np.broadcast_to(A, batch + A.shape[-2:]),
                           np.broadcast_to(B, batch + B.shape[-2:]))


OPINFOS = [
    # (grad: PyTorch has no derivative for these, derivatives.yaml's not_implemented)
    OpInfo("aten::linalg_ldl_factor", samples=_factor_samples, ref=_factor_ref, **_TOL,
           grad=False, errors=[
               ErrorSample(rand(2, 3), match="torch.linalg.ldl_factor_ex: A must be batches "
                           "of square matrices, but they are 2 by 3 matrices"),
               ErrorSample(np.zeros((2, 2), F32), match="torch.linalg.ldl_factor: Unknown "
                           "error code: 1."),
               ErrorSample(rand(2, 2, dtype=np.int64), match="Expected a floating point or "
                           "complex tensor as input. Got Long")]),
    OpInfo("aten::linalg_ldl_factor_ex", samples=_factor_samples, ref=_factor_ex_ref, **_TOL,
           grad=False, errors=[
               ErrorSample(rand(3), match="torch.linalg.ldl_factor_ex: The input tensor A "
                           "must have at least 2 dimensions."),
               ErrorSample(np.zeros((2, 2), F32), check_errors=True,
                           match="Unknown error code: 1.")]),
    OpInfo("aten::linalg_ldl_solve", samples=_solve_samples, ref=_solve_ref, **_TOL,
           grad=False, errors=[
               ErrorSample(_dd(2, 2), np.array([1, 2], np.int32), rand(3, 1),
                           match="Incompatible matrix sizes for torch.linalg.ldl_solve"),
               ErrorSample(_dd(2, 2), np.array([1.0, 2.0], F32), rand(2, 1),
                           match="Expected pivots to be integers. Got Float")]),
]
