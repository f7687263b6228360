"""`torch.linalg` triangular solves and LU: linalg.solve_triangular, linalg.lu_factor / lu /
lu_solve, torch.lu_unpack, with their derivatives. The solvers built on them (the `_ex`
variants inv_ex, cholesky_ex, solve_ex; cholesky_solve, cholesky_inverse) are in
linalg_ex.py.

NumPy has no LU and no triangular solve: they are written here (substitution and
partial pivoting column by column, vectorized over the batch), LAPACK's conventions
(getrf's 1-based int32 pivots). Checks and errors are linalg_decomp.py's.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, broadcast_shapes
from .registry import op, OPS
from .registry import derivative as _derivative
from .kernel_names import linalg_kernel_name
from .linalg_decomp import (_G, _check_matrix, _check_square, _dtn, _host,
                            _mT)

_LA = {"linalg"}


# ------------------------------------------------------------------ triangular solves, LU

def _not_impl(kernel, d, where=None, shape=(), **facts):
    """PyTorch's error for a dtype its kernel lacks (a NotImplementedError, which is a
    RuntimeError): kernel is the CPU one, where (the input) and shape (its shape) name the
    CUDA one on cuda (kernel_names.linalg_kernel_name)."""
    if d not in (_dt.float32, _dt.float64):
        raise NotImplementedError(f"\"{linalg_kernel_name(kernel, where, shape, **facts)}\" "
                                  f"not implemented for '{d.short_name}'")


def _flat(xp, a):
    """(..., m, n) -> (batch, m, n), a fresh contiguous copy."""
    return xp.array(a, copy=True).reshape((math.prod(a.shape[:-2]),) + a.shape[-2:])  # no -1: 0-size


def _trisolve(xp, a, b, upper, unit):
    """A X = B for a triangular A (only its triangle is read), by substitution row by row,
    vectorized over the batch and the columns of B. a: (..., n, n), b: (..., n, k) with the
    same batch dims. Division by a zero diagonal gives inf / nan, as LAPACK's trtrs."""
    n = a.shape[-1]
    x = xp.zeros(b.shape, a.dtype)
    rows = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in rows:
            r = b[..., i, :]
            if upper and i + 1 < n:
                r = r - xp.matmul(a[..., i:i + 1, i + 1:], x[..., i + 1:, :])[..., 0, :]
            elif not upper and i > 0:
                r = r - xp.matmul(a[..., i:i + 1, :i], x[..., :i, :])[..., 0, :]
            x[..., i, :] = r if unit else r / a[..., i, i, None]
    return x


def _st_shapes(sa, sb, left, name="linalg.solve_triangular"):
    sa, sb = tuple(sa), tuple(sb)
    _check_square(name, sa)
    _check_matrix(name, sb, "B")
    n = sa[-1]
    if (sb[-2] if left else sb[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {sb[-2]}x{sb[-1]})")
    return broadcast_shapes(sa[:-2], sb[:-2]) + sb[-2:]


def _st_meta(self, B, upper, left=True, unitriangular=False):
    if not self.dtype.cplx:         # (complex: the substitution below as for reals)
        _not_impl("triangular_solve_cpu", self.dtype, self)
    return TensorMeta(self.dtype, _st_shapes(self.shape, B.shape, left), self.device)


@op("aten::linalg_solve_triangular(Tensor self, Tensor B, *, bool upper, bool left=True, "
    "bool unitriangular=False) -> Tensor", tags=_LA, fortran=(0,), method=False, function=False,
    meta=_st_meta)
def linalg_solve_triangular(xp, self, B, upper, left=True, unitriangular=False):
    """A X = B (or X A = B) for a triangular A; B is cast to A's dtype (PyTorch)."""
    if self.dtype.kind != "c":
        _not_impl("triangular_solve_cpu", _dtn(self.dtype), self)
    shape = _st_shapes(self.shape, B.shape, left)
    A, B = self, B.astype(self.dtype, copy=False)
    if not left:                 # X A = B  <=>  A^T X^T = B^T
        A, B, upper = _mT(A), _mT(B), not upper
    bshape = shape if left else shape[:-2] + (shape[-1], shape[-2])
    a = xp.broadcast_to(A, bshape[:-2] + A.shape[-2:])
    b = xp.broadcast_to(B, bshape)
    r = _trisolve(xp, a, b, upper, unitriangular) if b.size else xp.zeros(bshape, A.dtype)
    return xp.ascontiguousarray(r if left else _mT(r))


def _lu(xp, A):
    """LAPACK getrf: partial pivoting on a (..., m, n) batch, vectorized over the batch.
    Returns (LU, pivots int32 1-based (..., min(m, n)), info (batch,): the 1-based column of
    the first zero pivot, 0 if none)."""
    m, n = A.shape[-2:]
    cplx = A.dtype.kind == "c"
    k = min(m, n)
    a = _flat(xp, A)
    nb = a.shape[0]
    bi = xp.arange(nb)
    piv = xp.zeros((nb, k), np.int32)
    info = xp.zeros((nb,), np.int64)
    for j in range(k):
        col = a[:, j:, j]
        # (i?amax: |x|, of a complex x |Re x| + |Im x|, LAPACK's cabs1)
        p = j + xp.argmax(xp.abs(col.real) + xp.abs(col.imag) if cplx else xp.abs(col), axis=1)
        piv[:, j] = (p + 1).astype(np.int32)
        rj = a[:, j, :].copy()
        a[:, j, :] = a[bi, p, :]
        a[bi, p, :] = rj
        d = a[:, j, j]
        zero = d == 0
        info = xp.where((info == 0) & zero, j + 1, info)
        if j + 1 < m:
            # a zero pivot leaves a zero column below it (it was the largest): not scaled
            l = a[:, j + 1:, j] / xp.where(zero, 1, d)[:, None]
            a[:, j + 1:, j] = l
            if j + 1 < n:
                a[:, j + 1:, j + 1:] -= l[:, :, None] * a[:, j, None, j + 1:]
    return (a.reshape(A.shape), piv.reshape(A.shape[:-2] + (k,)), info)


def _perm(xp, piv, m):
    """LAPACK's row interchanges -> perm (batch, m): row i of L U is row perm[i] of A."""
    p = piv.reshape((math.prod(piv.shape[:-1]), piv.shape[-1])).astype(np.int64) - 1
    nb = p.shape[0]
    bi = xp.arange(nb)
    perm = xp.broadcast_to(xp.arange(m), (nb, m)).copy()
    for j in range(p.shape[1]):
        t = perm[:, j].copy()
        perm[:, j] = perm[bi, p[:, j]]
        perm[bi, p[:, j]] = t
    return perm


def _perm_matrix(xp, piv, m, dtype):
    """P with A = P L U, (..., m, m)."""
    perm = _perm(xp, piv, m)
    nb = perm.shape[0]
    P = xp.zeros((nb, m, m), dtype)
    P[xp.arange(nb)[:, None], perm, xp.arange(m)[None, :]] = 1
    return P.reshape(piv.shape[:-1] + (m, m))


def _unpack(xp, LU):
    m, n = LU.shape[-2:]
    k = min(m, n)
    L = xp.tril(LU[..., :, :k], -1) + xp.eye(m, k, dtype=LU.dtype)
    U = xp.triu(LU[..., :k, :])
    return L, U


def _lu_check(name, shape, d, kernel="lu_cpu", where=None):
    if not d.cplx:          # (complex: getrf as for reals, cabs1 pivots)
        _not_impl(kernel, d, where, shape)
    if len(shape) < 2:
        raise RuntimeError(f"torch.{name}: Expected tensor with 2 or more dimensions. Got "
                           f"size: [{', '.join(str(s) for s in shape)}] instead")


def _pivot_check(pivot):
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the "
                           "CPU")


def _zero_pivot_check(name, A, info):
    """PyTorch's error for the first zero pivot of an LU factorization in the batch (a
    RuntimeError, as PyTorch's: its _linalg_check_errors raises LinAlgError only for the
    inverse / Cholesky / solve family)."""
    bad = np.flatnonzero(_host(info))
    if bad.size:
        i = int(bad[0])
        j = int(_host(info)[i])
        pre = f"(Batch element {i}): " if A.ndim > 2 else ""
        raise RuntimeError(f"{name}: {pre}U[{j},{j}] is zero and using it on lu_solve would "
                           f"result in a division by zero. If you still want to perform the "
                           f"factorization, consider calling linalg.lu(A, pivot) or "
                           f"linalg.lu_factor_ex(A, pivot)")


def _lu_factor_meta(A, pivot=True):
    _lu_check("lu_factor", A.shape, A.dtype, where=A)
    _pivot_check(pivot)
    s = tuple(A.shape)
    k = None if s[-1] is None or s[-2] is None else min(s[-2:])
    return TensorMeta(A.dtype, s, A.device), TensorMeta(_dt.int32, s[:-2] + (k,), A.device)


@op("aten::linalg_lu_factor(Tensor A, *, bool pivot=True) -> (Tensor LU, Tensor pivots)",
    tags=_LA, fortran=("LU",), method=False, function=False, meta=_lu_factor_meta,
    namedtuple_name="linalg_lu_factor")
def linalg_lu_factor(xp, A, pivot=True):
    """LAPACK's compact LU (L's unit diagonal implied) and its 1-based row interchanges."""
    _lu_check("lu_factor", A.shape, _dtn(A.dtype), where=A)
    _pivot_check(pivot)
    LU, piv, info = _lu(xp, A)
    _zero_pivot_check("torch.linalg.lu_factor", A, info)
    return LU, piv


def _lu_shapes(s):
    *b, m, n = s
    b = tuple(b)
    k = None if m is None or n is None else min(m, n)
    return b + (m, m), b + (m, k), b + (k, n)


def _lu_meta(A, pivot=True):
    _lu_check("lu", A.shape, A.dtype, where=A)
    _pivot_check(pivot)
    return tuple(TensorMeta(A.dtype, s, A.device) for s in _lu_shapes(tuple(A.shape)))


@op("aten::linalg_lu(Tensor A, *, bool pivot=True) -> (Tensor P, Tensor L, Tensor U)",
    tags=_LA, method=False, function=False, meta=_lu_meta, namedtuple_name="linalg_lu",
    contiguous=True,
    nondiff_outputs=("P",))
def linalg_lu(xp, A, pivot=True):
    """A = P L U (P a permutation matrix of A's dtype); a singular A is not an error."""
    _lu_check("lu", A.shape, _dtn(A.dtype), where=A)
    _pivot_check(pivot)
    LU, piv, _ = _lu(xp, A)
    L, U = _unpack(xp, LU)
    return _perm_matrix(xp, piv, A.shape[-2], A.dtype), L, U


def _lu_unpack_check(shape, ps, pd):
    if len(shape) < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: [{', '.join(str(s) for s in shape)}] instead")
    if pd is not _dt.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor "
                           "of torch.int32 dtype.\nNote: this function is intended to be used "
                           "with the output produced by torch.linalg.lu_factor")


def _lu_unpack_shapes(s, unpack_data, unpack_pivots):
    sp, sl, su = _lu_shapes(s)
    return (sp if unpack_pivots else (0,)), (sl if unpack_data else (0,)), \
        (su if unpack_data else (0,))


def _lu_unpack_meta(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    _lu_unpack_check(LU_data.shape, LU_pivots.shape, LU_pivots.dtype)
    return tuple(TensorMeta(LU_data.dtype, s, LU_data.device) for s in
                 _lu_unpack_shapes(tuple(LU_data.shape), unpack_data, unpack_pivots))


@op("aten::lu_unpack(Tensor LU_data, Tensor LU_pivots, bool unpack_data=True, "
    "bool unpack_pivots=True) -> (Tensor P, Tensor L, Tensor U)", tags=_LA, method=False,
    meta=_lu_unpack_meta, namedtuple_name="lu_unpack", nondiff_outputs=("P",),
    contiguous=True)
def lu_unpack(xp, LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """linalg.lu_factor's output -> (P, L, U); the parts not asked for are empty."""
    _lu_unpack_check(LU_data.shape, LU_pivots.shape, _dtn(LU_pivots.dtype))
    m = LU_data.shape[-2]
    e = xp.zeros((0,), LU_data.dtype)
    P = _perm_matrix(xp, LU_pivots, m, LU_data.dtype) if unpack_pivots else e
    L, U = _unpack(xp, LU_data) if unpack_data else (e, e.copy())
    return P, L, U


def _lu_solve_check(sl, sp, sb, dl, dp, db, left, adjoint=False, where=None):
    if dl is not db:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but "
                           f"found LU of type {dl.short_name} and B of type {db.short_name} "
                           f"instead")
    if dp is not _dt.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type "
                           "torch.int32")
    _check_square("torch.linalg.lu_solve", tuple(sl))
    if len(sp) < 1 or sp[-1] != sl[-1]:
        raise RuntimeError("linalg.lu_solve: Number of pivots per batch should be same as the "
                           "dimension of the matrix")
    shape = _st_shapes(sl, sb, left, "linalg.lu_solve")
    if math.prod(shape) and dl not in (_dt.float32, _dt.float64) and not dl.cplx:
        # the kernel (no B: no call); on cuda by sizes: n, B's (B^H's) columns and batch
        _not_impl("linalg.lu_solve_cpu", dl, where, sl, k=shape[-1] if left else shape[-2],
                  b=math.prod(shape[:-2]), trans=adjoint == left)
    return shape


def _lu_solve_meta(LU, pivots, B, left=True, adjoint=False):
    s = _lu_solve_check(LU.shape, pivots.shape, B.shape, LU.dtype, pivots.dtype, B.dtype, left,
                        adjoint, LU)
    return TensorMeta(LU.dtype, s, LU.device)


def _swap_rows(xp, b, p, reverse):
    """Apply LAPACK's interchanges p (batch, n; 0-based) to the rows of b (batch, n, k):
    in order (P^T b), or reversed (P b)."""
    bi = xp.arange(b.shape[0])
    js = range(p.shape[1] - 1, -1, -1) if reverse else range(p.shape[1])
    for j in js:
        t = b[:, j, :].copy()
        b[:, j, :] = b[bi, p[:, j], :]
        b[bi, p[:, j], :] = t
    return b


def _lu_solve_left(LU, pivots, B, left=True, adjoint=False):
    return (0,) if left else ()       # (as linalg.solve's: linalg_decomp._solve_left)


@op("aten::linalg_lu_solve(Tensor LU, Tensor pivots, Tensor B, *, bool left=True, "
    "bool adjoint=False) -> Tensor", tags=_LA, fortran=_lu_solve_left, method=False, function=False,
    meta=_lu_solve_meta)
def linalg_lu_solve(xp, LU, pivots, B, left=True, adjoint=False):
    """A X = B (A^H X = B with adjoint; X A = B with left=False) from linalg.lu_factor's
    A = P L U."""
    shape = _lu_solve_check(LU.shape, pivots.shape, B.shape, _dtn(LU.dtype),
                            _dtn(pivots.dtype), _dtn(B.dtype), left, adjoint, LU)
    # LAPACK getrs' trans: "N" A X = B, "T" A^T X = B, "C" A^H X = B (of a real A: "T")
    trans = "C" if adjoint else "N"
    cplx = LU.dtype.kind == "c"
    if not left:     # X A = B <=> A^T X^T = B^T; X A^H = B <=> A conj(X^T) = conj(B^T)
        B, trans = _mT(B), "N" if adjoint else "T"
        if adjoint and cplx:
            B = B.conj()
    bshape = shape if left else shape[:-2] + (shape[-1], shape[-2])
    batch = bshape[:-2]
    n = LU.shape[-1]
    if B.size == 0 or n == 0:
        r = xp.zeros(bshape, LU.dtype)
        return xp.ascontiguousarray(r if left else _mT(r))
    lu = xp.broadcast_to(LU, batch + (n, n)).reshape((math.prod(batch), n, n))
    p = xp.broadcast_to(pivots, batch + (n,)).reshape((math.prod(batch), n)).astype(np.int64) - 1
    b = _flat(xp, xp.broadcast_to(B, bshape))
    if trans == "N":       # U X = L^{-1} P^T B
        y = _trisolve(xp, lu, _swap_rows(xp, b, p, False), False, True)
        x = _trisolve(xp, lu, y, True, False)
    else:                 # A^T = U^T L^T P^T: X = P L^{-T} U^{-T} B (A^H: L^{-H} U^{-H})
        luT = _mT(lu).conj() if trans == "C" and cplx else _mT(lu)
        y = _trisolve(xp, luT, b, False, False)
        x = _swap_rows(xp, _trisolve(xp, luT, y, True, True), p, True)
    x = x.reshape(bshape)
    if not left and adjoint and cplx:
        x = x.conj()
    return xp.ascontiguousarray(x if left else _mT(x))


# --------------------------------------------------------------------------------------
# derivatives (PyTorch's formulas, tools/autograd/derivatives.yaml / FunctionsManual.cpp),
# written with registry ops


def _st(A, B, upper, left=True, unitriangular=False):
    return OPS["aten::linalg_solve_triangular"].public(A, B, upper=upper, left=left,
                                                       unitriangular=unitriangular)


@_derivative(linalg_solve_triangular)
def _solve_triangular_grad(grad, self, result, upper, left, unitriangular, needs_grad):
    """PyTorch's linalg_solve_triangular_backward: gB = A^{-H} gX, gA = -gB X^H restricted
    to A's triangle (its strict triangle when unitriangular)."""
    gB = _st(self.mT, grad, not upper, left, unitriangular)
    gA = None
    if needs_grad[0]:
        gA = -(gB.matmul(result.mT)) if left else -(result.mT.matmul(gB))
        gA = gA.triu(int(unitriangular)) if upper else gA.tril(-int(unitriangular))
    return gA, (gB if needs_grad[1] else None)


def _lu_backward(gL, gU, P, L, U):
    """PyTorch's linalg_lu_backward (pivot=True; conjugate transposes: a real matrix's mH
    is its transpose)."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    G = _G()
    gL, gU = gL.tril(-1), gU.triu()      # L's unit diagonal and U's zeros are constants
    if m == n:
        gA = L.mH.matmul(gL).tril(-1) + gU.matmul(U.mH).triu()
        gA = _st(U.mH, gA, upper=False, left=False)
        gA = _st(L.mH, gA, upper=True, unitriangular=True)
    elif m < n:        # wide: U = [U1 U2]
        U1 = U.narrow(-1, 0, k)
        gA = L.mH.matmul(gL) - gU.triu().matmul(U.mH)
        gA = _st(U1.mH, gA.tril(-1), upper=False, left=False)
        gA = G.cat([gA + gU.narrow(-1, 0, k).triu(), gU.narrow(-1, k, n - k)], -1)
        gA = _st(L.mH, gA, upper=True, unitriangular=True)
    else:              # tall: L = [L1; L2]
        L1 = L.narrow(-2, 0, k)
        gA = gU.matmul(U.mH) - L.mH.matmul(gL)
        gA = _st(L1.mH, gA.triu(), upper=True, unitriangular=True)
        gA = G.cat([gA + gL.narrow(-2, 0, k).tril(-1), gL.narrow(-2, k, m - k)], -2)
        gA = _st(U.mH, gA, upper=False, left=False)
    return P.matmul(gA)


@_derivative(linalg_lu)
def _lu_grad(grad, result):
    P, L, U = result
    return _lu_backward(grad[1], grad[2], P, L, U)


@_derivative(linalg_lu_factor)
def _lu_factor_grad(grad, result):
    """PyTorch's lu_factor_ex_backward: LU's gradient split into L's and U's."""
    LU, piv = result
    g = grad[0]
    P, L, U = OPS["aten::lu_unpack"].public(LU.detach(), piv)
    m, n = LU.shape[-2], LU.shape[-1]
    k = min(m, n)
    return _lu_backward(g.narrow(-1, 0, k), g.narrow(-2, 0, k), P, L, U)


@_derivative(lu_unpack, wrt=("LU_data",))
def _lu_unpack_grad(grad, LU_data_shape, unpack_data):
    if not unpack_data:
        return None
    _, gL, gU = grad
    m, n = LU_data_shape[-2], LU_data_shape[-1]
    k = min(m, n)
    G = _G()
    gL, gU = gL.tril(-1), gU.triu()
    if m < n:
        gL = G.cat([gL, G.zeros(gL.shape[:-1] + (n - k,), dtype=gL.dtype,
                                  device=gL.device)], -1)
    elif m > n:
        gU = G.cat([gU, G.zeros(gU.shape[:-2] + (m - k, n), dtype=gU.dtype,
                                  device=gU.device)], -2)
    return gL + gU


@_derivative(linalg_lu_solve, wrt=("LU", "B"))
def _lu_solve_grad(grad, LU, pivots, result, left, adjoint, needs_grad):
    """PyTorch's linalg_lu_solve_LU (LU's gradient) and lu_solve(..., !adjoint) (B's), with
    conjugate transposes (P is real)."""
    solve = OPS["aten::linalg_lu_solve"].public
    gB = solve(LU, pivots, grad, left=left, adjoint=not adjoint) if needs_grad[1] else None
    if not needs_grad[0]:
        return None, gB
    X, gX = result, grad
    P, L, U = OPS["aten::lu_unpack"].public(LU.detach(), pivots)
    if left != adjoint:
        gR = _st(U.mH, -((gX if left else gX.mH).matmul(X.mH if left else X)), upper=False)
        gL = _st(L.mH, gR.matmul(U.mH), upper=True, unitriangular=True).tril(-1)
        gLU = gL + gR.triu()
    else:
        gR = -(P.mT.matmul(X if left else X.mH).matmul(gX.mH if left else gX).matmul(P))
        gR = _st(L.mH, gR, upper=True, left=False, unitriangular=True)
        gU = _st(U.mH, L.mH.matmul(gR), upper=False, left=False).triu()
        gLU = gR.tril(-1) + gU
    return gLU, gB
