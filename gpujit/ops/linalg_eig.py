"""torch.linalg.eig / eigvals: the eigen-decomposition of general square matrices, complex
whatever the input (a real matrix's eigenvalues come in conjugate pairs): float32 gives
complex64, float64 complex128, as PyTorch's. LAPACK's geev through NumPy (CuPy's
cusolver geev where it has one, else on the host, as PyTorch's CUDA eig runs MAGMA's on
the CPU): the eigenvectors are geev's, each of unit norm with its largest component
real, as PyTorch's. Their gradient is PyTorch's linalg_eig_backward (eigvals records
linalg_eig's node, as torch's composite, which runs linalg_eig when a gradient is needed)."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .linalg_decomp import _G, _check_square, _diag, _dtn
from .meta import TensorMeta
from .registry import op, OPS
from .registry import derivative as _derivative

_LA = {"linalg"}


def _eig_check(name, shape, d):
    _check_square(name, tuple(shape))
    if d.category < _dt.FLOATING:
        raise RuntimeError(f"Unknown Complex ScalarType for {d.short_name}")
    if d is _dt.float16:
        raise NotImplementedError("\"linalg_eig_out_cpu\" not implemented for 'Half'")
    return d if d.cplx else d.to_complex()


def _eig_meta(self):
    c = _eig_check("linalg.eig", self.shape, self.dtype)
    return (TensorMeta(c, tuple(self.shape[:-1]), self.device),
            TensorMeta(c, tuple(self.shape), self.device))


def _eigvals_meta(self):
    c = _eig_check("linalg.eigvals", self.shape, self.dtype)
    return TensorMeta(c, tuple(self.shape[:-1]), self.device)


def _geev(xp, A, vectors):
    """(eigenvalues, eigenvectors or None) of the matrices of A, complex, in A's precision."""
    c = np.dtype(_eig_check("linalg.eig" if vectors else "linalg.eigvals", A.shape,
                            _dtn(A.dtype)).np)
    if A.size == 0:
        return (xp.zeros(A.shape[:-1], c),
                xp.zeros(A.shape, c) if vectors else None)
    if not bool(xp.isfinite(A).all()):
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
    name = "eig" if vectors else "eigvals"
    on_host = xp is not np and not hasattr(xp.linalg, name)
    a = A.get() if on_host else A           # (its dtype kept: a complex matrix stays one)
    r = getattr((np if on_host else xp).linalg, name)(a)
    w, v = r if vectors else (r, None)
    w = w.astype(c, copy=False)
    v = None if v is None else v.astype(c, copy=False)
    if on_host:
        w = xp.asarray(w)
        v = None if v is None else xp.asarray(v)
    return w, v


@op("aten::linalg_eig(Tensor self) -> (Tensor eigenvalues, Tensor eigenvectors)", tags=_LA,
    fortran=("eigenvectors",), method=False, function=False, meta=_eig_meta,
    namedtuple_name="linalg_eig")
def linalg_eig(xp, self):
    """The eigenvalues and (right) eigenvectors of square matrices, complex."""
    return _geev(xp, self, True)


@op("aten::linalg_eigvals(Tensor self) -> Tensor", tags=_LA, method=False, function=False,
    meta=_eigvals_meta)
def linalg_eigvals(xp, self):
    """The eigenvalues of square matrices, complex."""
    return _geev(xp, self, False)[0]


# --------------------------------------------------------------------------------------
# derivatives: PyTorch's linalg_eig_backward (FunctionsManual.cpp), with registry ops


def _eig_backward(gL, gV, L, V):
    """gA = V^-H (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / conj(L_j - L_i)) V^H
    (off the diagonal); eigenvalues only: V^-H diag(gL) V^H. A loss that depends on the
    eigenvectors' phases (the imaginary diagonal of V^H gV) is refused in PyTorch's
    words. Complex whatever A's dtype (autograd takes a real A's real part)."""
    solve = OPS["aten::linalg_solve"].public
    Vh = V.mH
    if gV is None:
        return solve(Vh, gL.unsqueeze(-1) * Vh)
    VhgV = Vh.matmul(gV)
    d = VhgV.diagonal(0, -2, -1)
    if not bool((d.imag.abs() <= 1e-2).all()):
        raise RuntimeError("linalg_eig_backward: The eigenvectors in the complex case are "
                           "specified up to multiplication by e^{i phi}. The specified loss "
                           "function depends on this quantity, so it is ill-defined.")
    # (the projection onto the tangent space of matrices with columns of norm 1)
    VhgV = VhgV - Vh.matmul(V * d.real.unsqueeze(-2))
    Lc = L.conj()
    E = Lc.unsqueeze(-2) - Lc.unsqueeze(-1)
    eye = _G().eye(L.shape[-1], dtype=L.dtype, device=L.device)
    off = eye == 0
    gA = (VhgV / (E + eye)) * off            # (the diagonal: 1 in E, gL's below)
    gA = gA + _diag(gL) if gL is not None else gA + VhgV * ~off
    return solve(Vh, gA.matmul(Vh))


@_derivative(linalg_eig)
def _eig_grad(grad, result, grads_defined):
    L, V = result
    return _eig_backward(grad[0] if grads_defined[0] else None,
                         grad[1] if grads_defined[1] else None, L, V)


@_derivative(linalg_eigvals, computes={
    "V": lambda self: OPS["aten::linalg_eig"].public(self)[1]})
def _eigvals_grad(grad, V, result):
    return _eig_backward(grad, None, result, V)
