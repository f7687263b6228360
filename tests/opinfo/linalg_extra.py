"""OpInfos of torch.linalg's composite functions (gpujit/ops/linalg_extra.py): cond, vander,
tensorinv, tensorsolve, diagonal, lu_factor_ex. References are NumPy's, in float64."""
from __future__ import annotations

import math

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand
from .linalg import grad_rand
from .linalg_decomp import _TOL, wc
from .linalg_lu import _lu_ref_parts, _lu_samples

F32, F64, I64 = np.float32, np.float64, np.int64


def _cond_ref(A, p=None):
    if A.size == 0:
        return np.zeros(A.shape[:-2])
    return np.asarray(np.linalg.cond(A, p))


def _cond_samples():
    # (p = 1, -1, inf, 'fro' take no gradient: PyTorch 2.13's composite norm(A) * norm(inv(A))
    # writes inv's result in place, so its backward fails "modified by an inplace operation"
    # there, and gpujit's composite with it)
    # (the str norms 'fro' and 'nuc' are linalg_cond.p_str's samples: this overload's
    # `Scalar? p` refuses a str, as torch.ops.aten.linalg_cond.default does)
    return [Sample(wc(3, 3, g=True)), Sample(wc(2, 3, 3), 1).no_grad(),
            Sample(wc(3, 3, g=True), 2),
            Sample(wc(2, 4, 4), -2), Sample(wc(3, 3), math.inf).no_grad(),
            Sample(wc(3, 3), -1).no_grad(),
            Sample(rand(2, 4, 3)), Sample(wc(3, 3, dtype=F64), -math.inf),
            Sample(np.zeros((2, 0, 0), F32), 1)]


def _vander_ref(x, N=None):
    x = x.reshape(x.shape or (1,))
    n = x.shape[-1] if N is None else N
    return x[..., None] ** np.arange(n)


def _vander_samples():
    return [Sample(grad_rand(3)), Sample(grad_rand(2, 3), N=4), Sample(rand(4)),
            Sample(rand(2, 3, dtype=F64), N=2), Sample(rand(3, dtype=I64), N=5),
            Sample(rand(2, 0), N=3)]


def _tensorinv_samples():
    return [Sample(grad_rand(6, 2, 3) + np.eye(6).reshape(6, 2, 3) * 3, ind=1),
            Sample(wc(4, 4, g=True).reshape(2, 2, 2, 2)),
            Sample((wc(6, 6).reshape(2, 3, 6)), ind=2)]


def _tensorsolve_ref(A, B, dims=None):
    return np.linalg.tensorsolve(A, B, axes=dims)


def _tensorsolve_samples():
    return [Sample(grad_rand(6, 2, 3) + np.eye(6).reshape(6, 2, 3) * 3, grad_rand(6)),
            Sample(wc(6, 6, g=True).reshape(2, 3, 2, 3), grad_rand(2, 3)),
            Sample(wc(6, 6).reshape(6, 3, 2).transpose(1, 0, 2).copy(), rand(6), dims=(0,))]


def _lu_factor_ex_ref(A, pivot=True, check_errors=False):
    LU, piv = _lu_ref_parts(A)[:2]
    return LU, piv, np.zeros(A.shape[:-2], np.int32)


OPINFOS = [
    OpInfo("aten::linalg_cond", samples=_cond_samples, ref=_cond_ref, **_TOL, errors=[
        ErrorSample(rand(3), match="linalg.cond: The input tensor A must have at least 2 "
                    "dimensions."),
        ErrorSample(rand(3, 3), 3, match="linalg.cond got an invalid norm type: 3"),
        ErrorSample(rand(2, 3), 1, match=r"linalg.cond\(ord=1\): A must be batches of square "
                    r"matrices, but they are 2 by 3 matrices"),
        ErrorSample(rand(3, 3, dtype=I64), match="Expected a floating point or complex "
                    "tensor as input. Got Long")]),
    OpInfo("aten::linalg_cond.p_str", samples=lambda: [
        Sample(wc(3, 3), "fro").no_grad(), Sample(wc(2, 3, 3, g=True), "nuc"),
        Sample(wc(4, 4), "fro").no_grad()], ref=_cond_ref, **_TOL, errors=[
        ErrorSample(rand(3, 3), "spam", match="linalg.cond got an invalid norm type: spam"),
        ErrorSample(rand(2, 3), "fro", match=r"linalg.cond\(ord=fro\): A must be batches")]),
    OpInfo("aten::linalg_vander", samples=_vander_samples, ref=_vander_ref, errors=[
        ErrorSample(rand(2), N=1, match="N must be greater than 1."),
        ErrorSample(rand(3) > 0, match="linalg.vander supports floating point, complex, and "
                    "integer tensors, but got Bool"),
        ErrorSample(rand(3, dtype=np.float16), match="but got Half")]),
    OpInfo("aten::linalg_tensorinv", samples=_tensorinv_samples,
           ref=lambda a, ind=2: np.linalg.tensorinv(a, ind), **_TOL, errors=[
               ErrorSample(rand(4, 2, 2), ind=0, match="Expected a strictly positive integer "
                           "for 'ind', but got 0"),
               ErrorSample(rand(4, 3), ind=1, match=r"but got 3 != 4")]),
    OpInfo("aten::linalg_tensorsolve", samples=_tensorsolve_samples, ref=_tensorsolve_ref,
           **_TOL, errors=[
               ErrorSample(rand(6, 4), rand(6), match=r"but got 4 != 6")]),
    OpInfo("aten::linalg_diagonal", samples=lambda: [
        Sample(grad_rand(3, 4)), Sample(grad_rand(2, 3, 4), offset=1),
        Sample(rand(2, 3, 4), offset=-1, dim1=0, dim2=2), Sample(rand(3, 3, dtype=I64))],
        ref=lambda A, offset=0, dim1=-2, dim2=-1: np.diagonal(A, offset, dim1, dim2)),
    OpInfo("aten::linalg_lu_factor_ex", samples=_lu_samples, ref=_lu_factor_ex_ref, **_TOL,
           errors=[
               ErrorSample(np.zeros((3, 3), F32), check_errors=True,
                           match=r"torch.linalg.lu_factor_ex: U\[1,1\] is zero"),
               ErrorSample(rand(3, 3), pivot=False, match="LU without pivoting is not "
                           "implemented on the CPU")]),
]
