"""torch.svd_lowrank and torch.pca_lowrank: a rank-q SVD by randomized range finding
(Halko, Martinsson and Tropp, 2009: Algorithm 4.4 for the basis, 5.1 for the SVD), in
PyTorch's order of operations, so that with the same generator state the Gaussian test
matrix, and the factors, are PyTorch's (up to the last bits of QR / SVD / matmul)."""
from __future__ import annotations

__all__ = ["svd_lowrank", "pca_lowrank", "get_approximate_basis"]


def _floating(dtype):
    import gpujit
    return dtype if dtype in (gpujit.float16, gpujit.float32, gpujit.float64) else \
        gpujit.float32


def _mm(a, b):
    import gpujit
    if a.is_sparse:
        return gpujit.sparse.mm(a, b)
    return gpujit.matmul(a, b)


def _H(a):
    """a's conjugate transpose (a sparse matrix: its transpose; gpujit's are real)."""
    return a.t() if a.is_sparse else a.mH


def get_approximate_basis(A, q, niter=2, M=None):
    """An orthonormal (n, q) basis Q whose span approximates A's range (of A - M when M is
    given): a Gaussian test matrix, then niter power iterations, each re-orthonormalized."""
    import gpujit
    niter = 2 if niter is None else niter
    R = gpujit.randn(A.shape[-1], q, dtype=_floating(A.dtype), device=A.device)
    X = _mm(A, R)
    if M is not None:
        X = X - _mm(M, R)
    Q = gpujit.linalg.qr(X).Q
    for _ in range(niter):
        X = _mm(_H(A), Q)
        if M is not None:
            X = X - _mm(M.mH, Q)
        Q = gpujit.linalg.qr(X).Q
        X = _mm(A, Q)
        if M is not None:
            X = X - _mm(M, Q)
        Q = gpujit.linalg.qr(X).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) with A - M ~= U diag(S) V^H of rank q (default 6), niter power
    iterations (default 2); A may be batched (and sparse)."""
    import gpujit
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    if m < n:                               # (work on a tall matrix)
        A = _H(A)
        if M is not None:
            M = M.mH
    Q = get_approximate_basis(A, q, niter=niter, M=M)
    B = _mm(Q.mH, A) if not A.is_sparse else _mm(_H(A), Q).mH
    if M is not None:
        B = B - _mm(Q.mH, M)
    U, S, Vh = gpujit.linalg.svd(B, full_matrices=False)
    V = Vh.mH
    U = Q.matmul(U)
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A, q=None, center=True, niter=2):
    """svd_lowrank of A less its column means (center=True), q = min(6, m, n) by default:
    the principal directions are V's columns, as torch.pca_lowrank."""
    import gpujit
    if not isinstance(A, gpujit.Tensor):
        raise TypeError(f"pca_lowrank(): argument 'A' must be Tensor, not {type(A).__name__}")
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter, M=None)
    if A.is_sparse:
        if A.dim() != 2:
            raise ValueError("pca_lowrank input is expected to be 2-dimensional tensor")
        c = A.to_dense().to(_floating(A.dtype)).sum(-2, keepdim=True) / m
        return svd_lowrank(A, q, niter=niter, M=c.expand(m, n))
    C = A.mean(dim=(-2,), keepdim=True)
    return svd_lowrank(A - C, q, niter=niter, M=None)
