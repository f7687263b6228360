"""OpInfos of torch.linalg's SVD, eigh, pinv, matrix_rank and lstsq
(gpujit/ops/linalg_spectral.py). Factors unique only up to signs (SVD, eigh) are checked
by their defining properties rather than against NumPy's, and are not compared across
devices (cuSOLVER may choose other signs)."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand
from .linalg import grad_rand
from .linalg_decomp import (_NOT_FLOAT, _TOL, _close, _f, _kernel_error, _np,
                            _orthonormal_cols, _rect, _rect_samples, _square_errors, _tol, spd)

F32, F64, I64 = np.float32, np.float64, np.int64


# ---------------------------------------------------------------- checks of decompositions

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


# ---------------------------------------------------------------- samples

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


OPINFOS = [
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
                           "but got X")] + _square_errors(
               "linalg.eigh", long=_kernel_error("linalg_eigh_cpu", "Long"),
               half=_kernel_error("linalg_eigh_cpu", "Half"))),
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
           # (torch 2.13: its tolerance kernel's words, for integers and float16 alike)
           errors=[ErrorSample(rand(3, 3, dtype=I64), match="This function doesn't handle "
                               "types other than float and double"),
                   ErrorSample(rand(3, dtype=np.float16), match="torch.linalg.matrix_rank: The "
                               "input tensor input must have at least 2 dimensions.")]),
]
OPINFOS += _LSTSQ_OPINFOS
