"""PyTorch's deprecated top-level linear algebra (torch.qr, slogdet, cholesky,
triangular_solve, lu_solve and torch.lu over aten::_lu_with_info), each the torch.linalg
op with its old argument order, PyTorch's deprecation warning (once a process, as its
TORCH_WARN_ONCE) and the linalg op's derivative; and torch.solve / lstsq / eig / symeig,
which PyTorch has removed: they raise its RuntimeError.
"""
from __future__ import annotations

from typing import List, Optional

import numpy as np

from .. import dtypes as _dt
from ..tensor import Tensor
from .._frames import warn_at_user_frame
from .meta import TensorMeta, broadcast_shapes
from .registry import op, OPS, Derivative, tensor_method
from .stats_ops import replay_derivative
from .linalg_decomp import _cholesky

PUBLIC = {}

_LA = {"linalg"}

_DEPRECATED = {
    "qr": "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future "
          "PyTorch release.\nThe boolean parameter 'some' has been replaced with a string "
          "parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced with\nQ, R = "
          "torch.linalg.qr(A, 'reduced' if some else 'complete')",
    "cholesky": "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
                "removed in a future PyTorch release.\nL = torch.cholesky(A)\nshould be "
                "replaced with\nL = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, "
                "upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\nThis "
                "transform will produce equivalent results for all valid (symmetric positive "
                "definite) inputs.",
    "triangular_solve": "torch.triangular_solve is deprecated in favor of "
                        "torch.linalg.solve_triangularand will be removed in a future PyTorch "
                        "release.\ntorch.linalg.solve_triangular has its arguments reversed "
                        "and does not return a copy of one of the inputs.\nX = "
                        "torch.triangular_solve(B, A).solution\nshould be replaced with\nX = "
                        "torch.linalg.solve_triangular(A, B).",
    "lu": "torch.lu is deprecated in favor of torch.linalg.lu_factor / "
          "torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.\nLU, "
          "pivots = torch.lu(A, compute_pivots)\nshould be replaced with\nLU, pivots = "
          "torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, "
          "compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = "
          "torch.linalg.lu_factor_ex(A, compute_pivots)",
    "lu_solve": "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be "
                "removed in a future PyTorch release.\nNote that torch.linalg.lu_solve has its "
                "arguments reversed.\nX = torch.lu_solve(B, LU, pivots)\nshould be replaced "
                "with\nX = torch.linalg.lu_solve(LU, pivots, B)",
}
_warned: set = set()


def _deprecated(name):
    from ..runtime_flags import is_warn_always_enabled
    if name not in _warned or is_warn_always_enabled():
        _warned.add(name)
        warn_at_user_frame(_DEPRECATED[name])


# ------------------------------------------------------------------ qr, slogdet, cholesky

_QR = OPS["aten::linalg_qr"]


@op("aten::qr(Tensor self, bool some=True) -> (Tensor Q, Tensor R)", tags=_LA, fortran=("Q", "R"),
    meta=lambda self, some=True: _QR.meta(self, "reduced" if some else "complete"),
    namedtuple_name="qr")
def qr(xp, self, some=True):
    _deprecated("qr")
    return _QR.impl(xp, self, "reduced" if some else "complete")


def _qr_grad(grad, self_shape, result, some):
    return _QR.derivative.fn(grad, A_shape=self_shape, result=result,
                             mode="reduced" if some else "complete")


qr.op.derivative = Derivative(_qr_grad, ("self",), ("self_shape", "result", "some"))

_SLOGDET = OPS["aten::linalg_slogdet"]


@op("aten::slogdet(Tensor self) -> (Tensor sign, Tensor logabsdet)", tags=_LA,
    meta=lambda self: _SLOGDET.meta(self), namedtuple_name="slogdet")
def slogdet(xp, self):
    return _SLOGDET.impl(xp, self)


# (linalg.slogdet's; a complex input's sign kept as linalg.slogdet keeps it)
slogdet.op.derivative = Derivative(
    lambda grad, self, sign: _SLOGDET.derivative.fn(grad, A=self, sign=sign), ("self",),
    ("self", "sign"), computes={
        "sign": lambda self, result: result[0] if self.is_complex() else None})

_CHOL = OPS["aten::linalg_cholesky"]


@op("aten::cholesky(Tensor self, bool upper=False) -> Tensor", tags=_LA, fortran=(0,),
    meta=lambda self, upper=False: _CHOL.meta(self, upper=upper))
def cholesky(xp, self, upper=False):
    _deprecated("cholesky")
    return _cholesky(xp, self, upper, "cholesky")   # (its errors in its own name)


cholesky.op.derivative = _CHOL.derivative       # (its parameters: result, upper)


# ------------------------------------------------------------------ triangular_solve

_TRI = OPS["aten::linalg_solve_triangular"]


def _tri_check(bs, As, bd, Ad):
    """torch.triangular_solve's argument checks (linearSolveCheckInputs), before the
    solve's own: b's rank, A's rank, then one dtype."""
    for name, sh in (("b", bs), ("A", As)):
        if len(sh) < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {name} to have at least 2 "
                               f"dimensions, but it has {len(sh)} dimensions instead")
    if Ad is not bd:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{bd.short_name} and A of type {Ad.short_name} instead.")
    if None not in (As[-1], As[-2]) and As[-1] != As[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {As[-2]} by "
                           f"{As[-1]} matrices")
    if None not in (As[-1], bs[-2]) and As[-1] != bs[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is "
                           f"{As[-1]} by {As[-1]} but each b matrix is {bs[-2]} by {bs[-1]}")
    broadcast_shapes(tuple(bs[:-2]), tuple(As[:-2]))


def _tri_meta(self, A, upper=True, transpose=False, unitriangular=False):
    _tri_check(tuple(self.shape), tuple(A.shape), self.dtype, A.dtype)
    m = _TRI.meta(A, self, upper=upper, left=True, unitriangular=unitriangular)
    return m, TensorMeta(A.dtype, tuple(A.shape), A.device)


@op("aten::triangular_solve(Tensor self, Tensor A, bool upper=True, bool transpose=False, "
    "bool unitriangular=False) -> (Tensor solution, Tensor cloned_coefficient)", tags=_LA, fortran=("solution", "cloned_coefficient"),
    meta=_tri_meta, namedtuple_name="triangular_solve")
def triangular_solve(xp, self, A, upper=True, transpose=False, unitriangular=False):
    """The solution X of op(A) X = self (op: A or its transpose), A triangular, and a copy
    of A."""
    _deprecated("triangular_solve")
    _tri_check(self.shape, A.shape, _dt.from_numpy_dtype(self.dtype),
               _dt.from_numpy_dtype(A.dtype))
    a = xp.swapaxes(A, -1, -2) if transpose else A
    x = _TRI.impl(xp, a, self, upper=upper != transpose, left=True,
                  unitriangular=unitriangular)
    return x, xp.array(A, copy=True)


def _tri_compose(self, A, upper, transpose, unitriangular):
    a = A.mT if transpose else A
    x = _TRI.public(a, self, upper=upper != transpose, left=True,
                    unitriangular=unitriangular)
    return x, A.clone()


replay_derivative(triangular_solve.op, _tri_compose, ("self", "A"),
                  ("self", "A", "upper", "transpose", "unitriangular"))


# ------------------------------------------------------------------ lu, lu_solve

_LUF = OPS["aten::linalg_lu_factor"]
_LUS = OPS["aten::linalg_lu_solve"]


def _lu_info_meta(self, pivot=True, check_errors=True):
    lu, piv = _LUF.meta(self, pivot=pivot)
    return lu, piv, TensorMeta(_dt.int32, tuple(self.shape)[:-2], self.device)


@op("aten::_lu_with_info(Tensor self, bool pivot=True, bool check_errors=True) -> "
    "(Tensor LU, Tensor pivots, Tensor info)", tags=_LA, fortran=("LU",), meta=_lu_info_meta, method=False,
    namedtuple_name="_lu_with_info")
def _lu_with_info(xp, self, pivot=True, check_errors=True):
    """LU, pivots and LAPACK's info (k > 0: U[k-1, k-1] is zero). Warns (once) that
    torch.lu is deprecated, as ATen's _lu_with_info does (so torch.lu warns in scripted
    code too). check_errors is ignored, as ATen's (linalg_lu_factor_ex(self, pivot,
    check_errors=False)): a singular matrix is no error (torch.lu(torch.zeros(3, 3))
    gives info 1)."""
    _deprecated("lu")
    from .linalg_lu import _lu, _lu_check, _pivot_check
    _lu_check("lu_factor", self.shape, _dt.from_numpy_dtype(self.dtype), where=self)
    _pivot_check(pivot)
    lu, piv, info = _lu(xp, self)
    return lu, piv, xp.asarray(info).astype(np.int32).reshape(self.shape[:-2])


_lu_with_info.op.derivative = Derivative(
    lambda grad, result: _LUF.derivative.fn(grad[:2], result=result[:2]), ("self",),
    ("result",))


def lu(A, pivot=True, get_infos=False, out=None):
    """torch.lu (deprecated): (LU, pivots), and LAPACK's infos with get_infos=True (then a
    singular matrix is no error)."""
    r = _LU_WITH_INFO(A, pivot=pivot, check_errors=not get_infos)
    res = tuple(r) if get_infos else tuple(r)[:2]
    if out is not None:
        for o, v in zip(out, res):
            o.resize_(v.shape).copy_(v)
        return tuple(out)
    return res


_LU_WITH_INFO = OPS["aten::_lu_with_info"].public


# scripted torch.lu: torch.functional's boolean dispatch on get_infos (_lu_with_infos /
# _lu_no_infos, compiled from source); out= is eager-only here
def _lu_infos(A, pivot: bool = True, get_infos: bool = False, out: Optional[List[Tensor]] = None):
    if out is not None:
        raise RuntimeError("torch.lu(out=...) is not supported in gpujit's scripted code")
    return _LU_WITH_INFO(A, pivot=pivot, check_errors=not get_infos)


def _lu_no_infos(A, pivot: bool = True, get_infos: bool = False,
                 out: Optional[List[Tensor]] = None):
    if out is not None:
        raise RuntimeError("torch.lu(out=...) is not supported in gpujit's scripted code")
    r = _LU_WITH_INFO(A, pivot=pivot, check_errors=not get_infos)
    return r[0], r[1]


_lu_infos.__gpujit_script_source__ = _lu_no_infos.__gpujit_script_source__ = True
lu.__gpujit_boolean_dispatch__ = ("get_infos", 2, False, _lu_infos, _lu_no_infos)
PUBLIC["lu"] = lu
tensor_method("lu")(lu)


@op("aten::lu_solve(Tensor self, Tensor LU_data, Tensor LU_pivots) -> Tensor", tags=_LA, fortran=(0,),
    meta=lambda self, LU_data, LU_pivots: _LUS.meta(LU_data, LU_pivots, self))
def lu_solve(xp, self, LU_data, LU_pivots):
    """The solution X of A X = self from A's LU factorization (torch.lu's)."""
    _deprecated("lu_solve")
    return _LUS.impl(xp, LU_data, LU_pivots, self)


replay_derivative(lu_solve.op, lambda self, LU_data, LU_pivots: _LUS.public(
    LU_data, LU_pivots, self), ("self", "LU_data"), ("self", "LU_data", "LU_pivots"),
    at_forward=True)


def _lu_solve_composite(self, LU_data, LU_pivots):
    """torch.lu_solve recording gradients: torch's composite, linalg.lu_solve(LU, pivots,
    B) (LinalgLuSolveBackward0, its edges LU's then B's)."""
    _deprecated("lu_solve")
    return _LUS.public(LU_data, LU_pivots, self)


lu_solve.op.composite = _lu_solve_composite


# ------------------------------------------------------------------ removed functions

_REMOVED = {
    "solve": "`torch.solve` is deprecated in favor of `torch.linalg.solve`. "
             "`torch.linalg.solve` has its arguments reversed and does not return the LU "
             "factorization.\n\nTo get the LU factorization see `torch.lu`, which can be used "
             "with `torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution "
             "should be replaced with:\nX = torch.linalg.solve(A, B)",
    "lstsq": "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
             "`torch.linalg.lstsq` has reversed arguments and does not return the QR "
             "decomposition in the returned tuple (although it returns other information "
             "about the problem).\n\nTo get the QR decomposition consider using "
             "`torch.linalg.qr`.\n\nThe returned solution in `torch.lstsq` stored the "
             "residuals of the solution in the last m - n columns of the returned value "
             "whenever m > n. In torch.linalg.lstsq, the residuals are in the field "
             "'residuals' of the returned named tuple.\n\nThe unpacking of the solution, as "
             "in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\n"
             "X = torch.linalg.lstsq(A, B).solution",
    "eig": "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather "
           "than real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be "
           "replaced with:\nL_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = "
           "torch.eig(A, eigenvectors=True) should be replaced with:\nL_complex, V_complex = "
           "torch.linalg.eig(A)",
    "symeig": "The default behavior has changed from using the upper triangular portion of "
              "the matrix by default to using the lower triangular portion.\n\nL, _ = "
              "torch.symeig(A, upper=upper) should be replaced with:\nL = "
              "torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = "
              "torch.symeig(A, eigenvectors=True) should be replaced with:\nL, V = "
              "torch.linalg.eigh(A, UPLO='U' if upper else 'L')",
}


def _removed(name):
    def fn(*args, **kwargs):
        raise RuntimeError("This function was deprecated since version 1.9 and is now "
                           "removed. " + _REMOVED[name])
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}: removed from PyTorch (it raises, as PyTorch's does)."
    return fn


for _name in _REMOVED:
    PUBLIC[_name] = _removed(_name)
    tensor_method(_name)(PUBLIC[_name])      # x.lstsq(A) ... raise the same


# (PyTorch's derivatives.yaml: cholesky has a backward, no forward formula)
from .derivatives import no_forward_derivative as _no_forward  # noqa: E402

_no_forward("cholesky", "aten::cholesky")
