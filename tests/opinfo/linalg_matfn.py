"""OpInfos of torch.linalg's matrix functions and products: matrix_power, matrix_exp,
cross, vecdot, trace, multi_dot and the norms (gpujit/ops/linalg_matfn.py). References
are NumPy's, in float64."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand
from .linalg import grad_rand
from .linalg_decomp import _NOT_FLOAT, _TOL, wc

F32, F64, I64 = np.float32, np.float64, np.int64


# ---------------------------------------------------------------- references

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


OPINFOS = [
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
OPINFOS += _EXPM_OPINFOS
