"""`torch.linalg`'s composite functions: linalg.cond, vander, tensorinv, tensorsolve,
diagonal, and lu_factor_ex.

PyTorch implements cond / vander / tensorinv / tensorsolve as CompositeImplicitAutograd
kernels over other linalg ops; here each is one registry op (eager on NumPy / CuPy arrays,
one node in a scripted graph) whose derivative replays the same composite of public ops at
forward time (`replay_derivative(..., at_forward=True)`), so gradients, and what a write into
an input after the call does at backward, are PyTorch's.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta
from .registry import op, OPS
from .registry import derivative as _derivative
from .linalg_decomp import (_check_float, _check_matrix, _check_square, _dtn,
                            _host, _singular_error, la_svd)
from .linalg_ex import linalg_inv_ex
from .linalg_lu import _lu, _lu_check, _lu_factor_grad, _pivot_check, _zero_pivot_check
from .matrix_shape import _diagonal_grad, _diagonal_shape, diagonal
from .stats_ops import replay_derivative

_LA = {"linalg"}


def _G():
    import gpujit
    return gpujit


def _prod(shape):
    p = 1
    for s in shape:
        p *= s
    return p


# ------------------------------------------------------------------ vander

def _vander_dtype(d):
    if d in (_dt.float32, _dt.float64) or d.cplx or (d.category == _dt.INTEGRAL and
                                                      d is not _dt.bool):
        return d if d.category == _dt.FLOATING or d.cplx else _dt.int64  # (ints: cumprod's)
    raise RuntimeError(f"linalg.vander supports floating point, complex, and integer "
                       f"tensors, but got {d.short_name}")


def _vander_shape(shape, N):
    shape = tuple(shape) or (1,)
    n = shape[-1] if N is None else N
    if n is not None and n <= 1:
        raise RuntimeError("N must be greater than 1.")
    return shape + (n,)


def _vander_meta(x, N=None):
    return TensorMeta(_vander_dtype(x.dtype), _vander_shape(x.shape, N), x.device)


@op("aten::linalg_vander(Tensor x, *, SymInt? N=None) -> Tensor", tags=_LA, method=False,
    function=False, meta=_vander_meta)
def linalg_vander(xp, x, N=None):
    """The powers x^0 ... x^(N-1) of each element, along a new last dim (N = x.size(-1)):
    cumprod's kernel (float32 accumulated in float64, complex64 in complex128), as
    PyTorch's x.unsqueeze(-1).expand(..., N - 1).cumprod(-1)."""
    dt = _vander_dtype(_dtn(x.dtype)).np
    shape = _vander_shape(x.shape, N)
    x = x.reshape(shape[:-1]).astype(dt, copy=False)
    powers = OPS["aten::cumprod"].impl(
        xp, xp.broadcast_to(x[..., None], shape[:-1] + (shape[-1] - 1,)), -1)
    return xp.concatenate([xp.ones(shape[:-1] + (1,), dt), powers.astype(dt, copy=False)], -1)


def _vander_compose(x, N):
    x_ = x if x.dim() else x.unsqueeze(-1)
    n = x_.shape[-1] if N is None else N
    powers = x_.unsqueeze(-1).expand(*x_.shape, n - 1).cumprod(-1)
    return _G().cat([powers.new_ones(*x_.shape, 1), powers], -1)


replay_derivative(linalg_vander.op, _vander_compose, ("x",), ("x", "N"), at_forward=True)


def _checked_composite(meta, compose, empty=None):
    """A composite recording gradients as PyTorch's (its nodes; compose, the replayed
    derivative's decomposition, is written after it): meta's checks (the op's words)
    first; empty(*args) true: the op's own path (PyTorch's fresh zeros there)."""
    def composite(*args):
        meta(*args)
        if empty is not None and empty(*args):
            return NotImplemented
        return compose(*args)
    return composite


# (torch.linalg.vander: cat((ones, cumprod of x expanded)): CatBackward0 -> (None,
# CumprodBackward0 -> ExpandBackward0 -> UnsqueezeBackward0))
linalg_vander.op.composite = _checked_composite(_vander_meta, _vander_compose)


# ------------------------------------------------------------------ cond

def _cond_ord_check(p):
    if isinstance(p, str):
        if p not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    elif abs(p) not in (1, 2, math.inf):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {_ord_text(p)}")


def _ord_text(p):
    """A number as c10::Scalar prints it (3, 3.5, inf)."""
    return str(int(p)) if float(p).is_integer() else repr(float(p))


def _cond_square_name(p):
    if isinstance(p, str):
        return f"linalg.cond(ord={p})"
    if isinstance(p, float):      # (as std::to_string(double))
        return f"linalg.cond(ord={'-' if p < 0 else ''}inf)" if math.isinf(p) else \
            f"linalg.cond(ord={p:.6f})"
    return f"linalg.cond(ord={int(p)})"


def _cond_meta_check(shape, dtype, p, where=None):
    """PyTorch's checks, in its order; whether the result is the empty-matrix zeros."""
    if isinstance(p, str):
        _check_square(_cond_square_name(p), shape)
        _cond_ord_check(p)
    else:
        _check_matrix("linalg.cond", shape)
        _cond_ord_check(p)
    if None not in shape and _prod(shape) == 0:
        return True
    if not isinstance(p, str) and abs(p) != 2:
        _check_square(_cond_square_name(p), shape)
    _check_float("linalg.svd" if not isinstance(p, str) and abs(p) == 2 or p == "nuc"
                 else "linalg.inv", dtype, where, shape)
    if dtype not in (_dt.float32, _dt.float64, _dt.complex64, _dt.complex128):
        raise RuntimeError(f"\"linalg_cond\" not implemented for '{dtype.short_name}'")
    return False


def _cond_meta(self, p=None):
    _cond_meta_check(tuple(self.shape), self.dtype, 2 if p is None else p, self)
    # (a complex matrix's condition number is real)
    return TensorMeta(self.dtype.to_real(), tuple(self.shape[:-2]), self.device)


def _cond_eager(xp, A, p):
    real = np.empty(0, A.dtype).real.dtype
    if _cond_meta_check(A.shape, _dtn(A.dtype), p, A):
        return xp.zeros(A.shape[:-2], real)
    from .linalg_norms import linalg_matrix_norm as _mnorm_str
    from .linalg_matfn import linalg_matrix_norm as _mnorm_num
    if p == "nuc" or (not isinstance(p, str) and abs(p) == 2):
        s = la_svd(xp, A, compute_uv=False)
        if p == "nuc":
            r = s.sum(-1) * (1 / s).sum(-1)
        else:
            r = s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
        return xp.asarray(r).astype(real, copy=False)
    inv, info = linalg_inv_ex(xp, A)
    inv = xp.where((info > 0)[..., None, None], xp.asarray(np.inf, A.dtype), inv)
    norm = _mnorm_str if isinstance(p, str) else _mnorm_num
    r = norm(xp, A, p) * norm(xp, inv, p)
    # (0 * inf: NumPy's answer, inf)
    return xp.nan_to_num(xp.asarray(r), nan=np.inf, posinf=np.inf, neginf=-np.inf)


@op("aten::linalg_cond(Tensor self, Scalar? p=None) -> Tensor", tags=_LA, method=False,
    function=False, meta=_cond_meta)
def linalg_cond(xp, self, p=None):
    """The condition number of each matrix in the given norm (None: the 2-norm, the ratio
    of the largest and the smallest singular value)."""
    return _cond_eager(xp, self, 2 if p is None else p)


@op("aten::linalg_cond.p_str(Tensor self, str p) -> Tensor", tags=_LA, method=False,
    function=False, meta=_cond_meta)
def linalg_cond_p_str(xp, self, p):
    return _cond_eager(xp, self, p)


def _cond_compose(self, p):
    g = _G()
    if self.numel() == 0:
        return self.new_zeros(self.shape[:-2])
    if p == "nuc" or (not isinstance(p, str) and abs(p) == 2):
        s = g.linalg.svdvals(self)
        if p == "nuc":
            return s.sum(-1) * s.reciprocal().sum(-1)
        hi, lo = s.narrow(-1, 0, 1), s.narrow(-1, -1, 1)
        return (lo / hi if p == -2 else hi / lo).squeeze(-1)
    inv, info = g.linalg.inv_ex(self)
    # (in place, as PyTorch's _linalg_cond_helper: the inverse linalg.inv_ex saved for its
    # backward is overwritten, so a backward through the norm of the inverse raises
    # "one of the variables needed for gradient computation has been modified by an
    # inplace operation", as PyTorch 2.13's does)
    inv.masked_fill_(info.unsqueeze(-1).unsqueeze(-1) > 0, math.inf)
    r = g.linalg.matrix_norm(self, p) * g.linalg.matrix_norm(inv, p)
    return r.nan_to_num_(math.inf, math.inf, -math.inf)


replay_derivative(linalg_cond.op, lambda self, p: _cond_compose(self, 2 if p is None else p),
                  ("self",), ("self", "p"), at_forward=True)
replay_derivative(linalg_cond_p_str.op, _cond_compose, ("self",), ("self", "p"),
                  at_forward=True)
# (PyTorch's linalg_cond: +-2 svdvals' ends divided, squeezed (SqueezeBackward1 ->
# DivBackward0 -> SliceBackward0s -> LinalgSvdBackward0); 'nuc' sums of the singular values
# and their reciprocals multiplied; else matrix_norm(A) * matrix_norm(inv_ex(A) with inf
# where singular), nan_to_num'ed (NanToNumBackward0 -> MulBackward0); no elements: zeros)
linalg_cond.op.untracked_when = linalg_cond_p_str.op.untracked_when = \
    lambda self, p=None: self.numel() == 0      # (PyTorch's fresh zeros)
linalg_cond.op.composite = _checked_composite(
    _cond_meta, lambda self, p=None: _cond_compose(self, 2 if p is None else p),
    lambda self, p=None: self.numel() == 0)
linalg_cond_p_str.op.composite = _checked_composite(_cond_meta, _cond_compose,
                                                    lambda self, p: self.numel() == 0)


# ------------------------------------------------------------------ tensorinv / tensorsolve

def _tensorinv_shape(shape, ind):
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    end, start = tuple(shape[ind:]), tuple(shape[:ind])
    if None not in shape and _prod(end) != _prod(start):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) "
                           f"== prod(self.shape[:ind]), but got {_prod(end)} != "
                           f"{_prod(start)}")
    return end + start


def _tensorinv_meta(self, ind=2):
    shape = _tensorinv_shape(tuple(self.shape), ind)
    _check_float("linalg.inv", self.dtype)
    return TensorMeta(self.dtype, shape, self.device)


@op("aten::linalg_tensorinv(Tensor self, int ind=2) -> Tensor", tags=_LA, method=False,
    function=False, meta=_tensorinv_meta)
def linalg_tensorinv(xp, self, ind=2):
    """The inverse of self for tensordot over its first `ind` dims: self reshaped to a
    square matrix, inverted, reshaped to shape[ind:] + shape[:ind]."""
    shape = _tensorinv_shape(self.shape, ind)
    _check_float("linalg.inv", _dtn(self.dtype))
    n = _prod(self.shape[ind:])
    A = self.reshape((n, n))
    inv, info = linalg_inv_ex(xp, A)
    if int(_host(info)):
        raise _singular_error("inv", A)
    return inv.reshape(shape)


def _tensorinv_composite(self, ind=2):
    """linalg.tensorinv recording gradients: PyTorch's, inv_ex of self reshaped to a square
    matrix (its error: "inv: ..."), reshaped (ReshapeAliasBackward0 of the column-major
    inverse -> LinalgInvExBackward0 -> ViewBackward0)."""
    shape = _tensorinv_meta(self, ind).shape
    n = _prod(self.shape[ind:])
    A = self.reshape(n, n)
    inv, info = _G().linalg.inv_ex(A)
    if int(info.item()):
        raise _singular_error("inv", A._data)
    return inv.reshape(shape)


linalg_tensorinv.op.composite = _tensorinv_composite
replay_derivative(linalg_tensorinv.op,
                  lambda self, ind: _G().linalg.inv(self.reshape(
                      self.shape[ind:].numel(), -1)).reshape(*self.shape[ind:],
                                                             *self.shape[:ind]),
                  ("self",), ("self", "ind"), at_forward=True)


def _tensorsolve_dims(nd, dims):
    from .meta import wrap_dim
    if dims is None:
        return list(range(nd))
    src = [wrap_dim(d, nd) for d in dims]
    if len(set(src)) != len(src):
        raise RuntimeError("movedim: repeated dim in `source` (" + str(list(dims)) + ")")
    dest = list(range(nd - len(src), nd))
    order = [None] * nd
    for s, d in zip(src, dest):
        order[d] = s
    rest = iter(i for i in range(nd) if i not in src)
    return [next(rest) if o is None else o for o in order]


def _tensorsolve_shapes(shape, other_shape, dims):
    order = _tensorsolve_dims(len(shape), dims)
    moved = tuple(shape[i] for i in order)
    k = len(other_shape)
    result = moved[k:]
    if None not in moved and None not in other_shape and \
            _prod(result) != _prod(other_shape):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape["
                           f"other.ndim:]) == prod(self.shape[:other.ndim]), but got "
                           f"{_prod(result)} != {_prod(other_shape)}")
    return order, result


def _tensorsolve_meta(self, other, dims=None):
    _, result = _tensorsolve_shapes(tuple(self.shape), tuple(other.shape), dims)
    _check_float("linalg.solve", self.dtype)
    if self.dtype is not other.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but "
                           f"found A of type {self.dtype.short_name} and B of type "
                           f"{other.dtype.short_name} instead")
    return TensorMeta(self.dtype, result, self.device)


@op("aten::linalg_tensorsolve(Tensor self, Tensor other, int[]? dims=None) -> Tensor",
    tags=_LA, method=False, function=False, meta=_tensorsolve_meta)
def linalg_tensorsolve(xp, self, other, dims=None):
    """x with tensordot(self, x, x.ndim) == other (self's `dims` moved to the end first)."""
    from .linalg_decomp import linalg_solve
    _tensorsolve_meta(TensorMeta(_dtn(self.dtype), self.shape, None),
                      TensorMeta(_dtn(other.dtype), other.shape, None), dims)
    order, result = _tensorsolve_shapes(self.shape, other.shape, dims)
    n = _prod(result)
    A = xp.transpose(self, order).reshape((n, n))
    return linalg_solve(xp, A, other.reshape(-1)).reshape(result)


def _tensorsolve_compose(self, other, dims):
    if dims is not None:
        nd = self.dim()
        self = self.movedim(list(dims), list(range(nd - len(dims), nd)))
    result = self.shape[other.dim():]
    n = result.numel()
    return _G().linalg.solve(self.reshape(n, n), other.flatten()).reshape(result)


replay_derivative(linalg_tensorsolve.op, _tensorsolve_compose, ("self", "other"),
                  ("self", "other", "dims"), at_forward=True)
# (PyTorch's: self's dims moved last, reshaped to a square matrix, linalg.solve with the
# flattened other, reshaped: ViewBackward0 -> LinalgSolveExBackward0)
linalg_tensorsolve.op.composite = _checked_composite(
    _tensorsolve_meta, lambda self, other, dims=None: _tensorsolve_compose(self, other, dims))


# ------------------------------------------------------------------ diagonal

@op("aten::linalg_diagonal(Tensor(a) A, *, int offset=0, int dim1=-2, int dim2=-1) -> "
    "Tensor(a)", tags={"view"}, method=False, function=False,
    meta=lambda A, offset=0, dim1=-2, dim2=-1: TensorMeta(
        A.dtype, _diagonal_shape(tuple(A.shape), offset, dim1, dim2), A.device))
def linalg_diagonal(xp, A, offset=0, dim1=-2, dim2=-1):
    """torch.diagonal with the last two dims as the default (a view)."""
    return diagonal(xp, A, offset, dim1, dim2)


@_derivative(linalg_diagonal)
def _linalg_diagonal_grad(grad, A_shape, offset, dim1, dim2):
    return _diagonal_grad(grad, A_shape, offset, dim1, dim2)


# ------------------------------------------------------------------ lu_factor_ex

def _lu_factor_ex_meta(A, pivot=True, check_errors=False):
    _lu_check("lu_factor_ex", A.shape, A.dtype, where=A)
    _pivot_check(pivot)
    s = tuple(A.shape)
    k = None if s[-1] is None or s[-2] is None else min(s[-2:])
    return (TensorMeta(A.dtype, s, A.device), TensorMeta(_dt.int32, s[:-2] + (k,), A.device),
            TensorMeta(_dt.int32, s[:-2], A.device))


@op("aten::linalg_lu_factor_ex(Tensor A, *, bool pivot=True, bool check_errors=False) -> "
    "(Tensor LU, Tensor pivots, Tensor info)", tags=_LA, fortran=("LU",), method=False, function=False,
    meta=_lu_factor_ex_meta, namedtuple_name="linalg_lu_factor_ex")
def linalg_lu_factor_ex(xp, A, pivot=True, check_errors=False):
    """linalg.lu_factor and LAPACK's info (the 1-based index of the first zero pivot, 0 if
    none) instead of an error, unless check_errors."""
    _lu_check("lu_factor_ex", A.shape, _dtn(A.dtype), where=A)
    _pivot_check(pivot)
    LU, piv, info = _lu(xp, A)
    if check_errors:
        _zero_pivot_check("torch.linalg.lu_factor_ex", A, info)
    return LU, piv, xp.asarray(info).astype(np.int32).reshape(A.shape[:-2])


@_derivative(linalg_lu_factor_ex)
def _lu_factor_ex_grad(grad, result):
    return _lu_factor_grad(grad[:2], result[:2])

