"""OpInfos of torch.linalg's inverses, determinants, solve, cholesky and qr
(gpujit/ops/linalg_decomp.py), and the sample helpers the other linalg OpInfo modules
share (linalg_lu.py, linalg_spectral.py, linalg_matfn.py, as the op modules are split).
References are NumPy's (np.linalg, in float64). Decompositions whose factors are unique
only up to signs (QR, SVD, eigh) are checked by their defining properties (A = Q R with Q
orthonormal and R upper triangular, ...) rather than against NumPy's factors, and are not
compared across devices (cuSOLVER may choose other signs)."""
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


# ---------------------------------------------------------------- samples

def _square_samples():
    return [Sample(wc(3, 3, g=True)), Sample(wc(2, 3, 3, g=True)), Sample(wc(4, 4, g=True)),
            Sample(wc(5, 5)), Sample(wc(2, 2, 4, 4)), Sample(wc(3, 3, dtype=F64)),
            Sample(wc(1, 1))]


_NOT_FLOAT = "Expected a floating point or complex tensor as input. Got Long"


def _kernel_error(kernel, dtype):
    """PyTorch's dispatch error of a CPU kernel that has no `dtype` version."""
    return dict(exc=NotImplementedError, match=f'"{kernel}" not implemented for \'{dtype}\'')


def _square_errors(name, *, long=None, half=None):
    """long / half: ErrorSample keywords where PyTorch's error for an int64 / float16 A is
    its kernel's (_kernel_error) rather than the op's own dtype check (torch 2.13)."""
    return [ErrorSample(rand(2, 3), match=f"{name}: A must be batches of square matrices, "
                        f"but they are 2 by 3 matrices"),
            ErrorSample(rand(3), match=f"{name}: The input tensor A must have at least 2 "
                        f"dimensions."),
            ErrorSample(rand(3, 3, dtype=I64), **(long or dict(match=f"{name}: {_NOT_FLOAT}"))),
            ErrorSample(rand(3, 3, dtype=np.float16), **(half or dict(
                match=f"{name}: Low precision dtypes not supported. Got Half")))]


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


OPINFOS = [
    OpInfo("aten::linalg_inv", samples=_square_samples, ref=np.linalg.inv, **_TOL,
           errors=_square_errors("linalg.inv") + [
               ErrorSample(_SINGULAR, match=r"linalg.inv: The diagonal element 3 is zero, "
                           r"the inversion could not be completed because the input matrix "
                           r"is singular."),
               ErrorSample(np.zeros((2, 2, 2), F32), match=r"linalg.inv: \(Batch element 0\): "
                           r"The diagonal element 1 is zero")]),
    OpInfo("aten::linalg_det", samples=_square_samples, ref=np.linalg.det, **_TOL,
           errors=_square_errors("linalg.det", half=_kernel_error("lu_cpu", "Half"))),
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
           else np.linalg.cholesky(A), **_TOL, errors=_square_errors(
               "linalg.cholesky", half=_kernel_error("cholesky_cpu", "Half")) + [
               ErrorSample(np.array([[1., 2], [2, 1]], F32), match=r"linalg.cholesky: The "
                           r"factorization could not be completed because the input is not "
                           r"positive-definite \(the leading minor of order 2 is not "
                           r"positive-definite\).")]),
    OpInfo("aten::linalg_qr", samples=_qr_samples, check=_qr_check, gpu=False, errors=[
        ErrorSample(rand(3, 3), "x", match="qr received unrecognized mode 'x'"),
        ErrorSample(rand(3), match="linalg.qr: The input tensor A must have at least 2"),
        ErrorSample(rand(3, 3, dtype=I64), match=f"linalg.qr: {_NOT_FLOAT}")]),
]
