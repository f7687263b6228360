"""Transposing views (`x.T`, `x.mT`, `x.H`, `x.mH`, `adjoint`). gpujit has no complex
dtypes, so the conjugating transposes (`H`, `mH`, `adjoint`) transpose."""
from __future__ import annotations

from .meta import TensorMeta
from .registry import op

_VIEW = {"view"}


def _reversed_meta(self):
    return TensorMeta(self.dtype, tuple(reversed(self.shape)), self.device)


@op("aten::numpy_T(Tensor(a) self) -> Tensor(a)", tags=_VIEW, method=False, function=False,
    meta=_reversed_meta)
def numpy_T(xp, self):
    """`x.T`: all dimensions reversed."""
    return self.transpose()


def _matrix_check(nd, what, batched=True):
    if batched and nd < 2:
        raise RuntimeError(f"tensor.{what} is only supported on matrices or batches of "
                           f"matrices. Got {nd}-D tensor.")
    if not batched and nd != 2:
        raise RuntimeError(f"tensor.{what} is only supported on matrices (2-D tensors). Got "
                           f"{nd}-D tensor." + (" For batches of matrices, consider using "
                                                "tensor.mH" if nd > 2 else ""))


def _swap_last(shape):
    return tuple(shape[:-2]) + (shape[-1], shape[-2])


def _mt_meta(what, batched=True):
    def meta(self):
        _matrix_check(len(self.shape), what, batched)
        return TensorMeta(self.dtype, _swap_last(self.shape), self.device)
    return meta


def _swap(xp, a):
    return xp.swapaxes(a, -1, -2)


@op("aten::mT(Tensor(a) self) -> Tensor(a)", tags=_VIEW, method=False, function=False,
    meta=_mt_meta("mT"))
def mT(xp, self):
    _matrix_check(self.ndim, "mT")
    return _swap(xp, self)


@op("aten::mH(Tensor(a) self) -> Tensor(a)", tags=_VIEW, method=False, function=False,
    meta=_mt_meta("mH"))
def mH(xp, self):
    _matrix_check(self.ndim, "mH")
    return _swap(xp, self)


@op("aten::matrix_H(Tensor(a) self) -> Tensor(a)", tags=_VIEW, method=False,
    function=False, meta=_mt_meta("H", batched=False))
def matrix_H(xp, self):
    _matrix_check(self.ndim, "H", batched=False)
    return _swap(xp, self)


@op("aten::adjoint(Tensor(a) self) -> Tensor(a)", tags=_VIEW, meta=_mt_meta("adjoint"))
def adjoint(xp, self):
    _matrix_check(self.ndim, "adjoint")
    return _swap(xp, self)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops
from .registry import derivative as _derivative  # noqa: E402


@_derivative(numpy_T)
def _numpy_t_grad(grad):
    return grad.permute(list(range(grad.dim() - 1, -1, -1)))


@_derivative(mT, mH, adjoint, matrix_H)
def _mt_grad(grad):
    return grad.transpose(-2, -1)
