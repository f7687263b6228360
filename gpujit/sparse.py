"""torch.sparse: mm of a sparse COO matrix by a dense one (gpujit/_sparse_coo.py); mm / addmm
of dense matrices are what PyTorch's give for them (mm / addmm); the other functions, which
need sparse kernels gpujit does not have, raise a RuntimeError saying so."""
from __future__ import annotations

from .ops.sparse_refusals import WHY, _refusing

__all__ = ["mm", "addmm", "sum", "softmax", "log_softmax", "sampled_addmm", "spsolve",
           "spdiags", "to_sparse_semi_structured"]


def mm(mat1, mat2, reduce="sum"):
    """torch.sparse.mm: a sparse COO mat1 times a dense mat2 (sparse_coo.sparse_mm), or of
    dense matrices mat1 @ mat2 (reduce="sum", the only reduction a dense mat1 takes)."""
    from . import mm as _mm
    from ._sparse_coo import SparseCooTensor, sparse_mm
    if isinstance(mat1, SparseCooTensor) and reduce == "sum":
        return sparse_mm(mat1, mat2)
    if reduce != "sum":
        raise RuntimeError(f"torch.sparse.mm: reduce={reduce!r} needs a sparse CSR mat1: {WHY}")
    return _mm(mat1, mat2)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """torch.sparse.addmm of dense matrices: beta * mat + alpha * (mat1 @ mat2)."""
    from . import addmm as _addmm
    return _addmm(mat, mat1, mat2, beta=beta, alpha=alpha)


_NEEDS = "it takes a sparse tensor"
sum = _refusing("sum", _NEEDS, "torch.sparse")
softmax = _refusing("softmax", _NEEDS, "torch.sparse")
log_softmax = _refusing("log_softmax", _NEEDS, "torch.sparse")
sampled_addmm = _refusing("sampled_addmm", _NEEDS, "torch.sparse")
spsolve = _refusing("spsolve", _NEEDS, "torch.sparse")
spdiags = _refusing("spdiags", "its result would be a sparse tensor", "torch.sparse")
to_sparse_semi_structured = _refusing("to_sparse_semi_structured",
                                      "its result would be a sparse tensor", "torch.sparse")
