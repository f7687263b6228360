"""torch.sparse: mm of a sparse COO matrix by a dense one (gpujit/_sparse_coo.py); mm / addmm
of dense matrices are what PyTorch's give for them (mm / addmm); the other functions, which
need sparse kernels gpujit does not have, raise a RuntimeError saying so."""
from __future__ import annotations

from ._tensor_types import tensortype as _tensortype
from .dtypes import ALL as _ALL_DTYPES
from .ops.sparse_refusals import WHY, _refusing

__all__ = ["mm", "addmm", "sum", "softmax", "log_softmax", "sampled_addmm", "spsolve",
           "spdiags", "to_sparse_semi_structured"]


def mm(mat1, mat2, reduce="sum"):
    """torch.sparse.mm: a sparse COO mat1 times a dense mat2 (_sparse_products.sparse_mm), or of
    dense matrices mat1 @ mat2 (reduce="sum", the only reduction a dense mat1 takes)."""
    from . import mm as _mm
    from ._sparse_coo import SparseCooTensor
    from ._sparse_products import sparse_mm
    if isinstance(mat1, SparseCooTensor) and reduce == "sum":
        if isinstance(mat2, SparseCooTensor):
            return mat1.mm(mat2)
        return sparse_mm(mat1, mat2)
    if reduce != "sum":
        raise RuntimeError(f"torch.sparse.mm: reduce={reduce!r} needs a sparse CSR mat1: {WHY}")
    return _mm(mat1, mat2)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """torch.sparse.addmm: beta * mat + alpha * (mat1 @ mat2), mat1 sparse COO or dense."""
    from . import addmm as _addmm
    from ._sparse_coo import SparseCooTensor
    from ._sparse_products import sparse_mm
    if isinstance(mat1, SparseCooTensor):
        return sparse_mm(mat1, mat2, "SparseAddmmBackward0", t=mat, beta=beta, alpha=alpha)
    return _addmm(mat, mat1, mat2, beta=beta, alpha=alpha)


_NEEDS = "it takes a sparse tensor"
_sum_refusal = _refusing("sum", _NEEDS, "torch.sparse")


def sum(input, dim=None, dtype=None):
    """torch.sparse.sum of a sparse COO tensor over all its elements (a dense 0-dim tensor)
    or over dims (sparse, or dense when no sparse dim is left); of a dense tensor, a
    RuntimeError saying gpujit has no such kernel."""
    from ._sparse_coo import SparseCooTensor
    from ._sparse_csr import SparseCsrTensor
    if isinstance(input, SparseCooTensor):
        return input.sum(dtype=dtype) if dim is None else input.sum(dim, dtype=dtype)
    if isinstance(input, SparseCsrTensor):
        input.coalesce()        # (PyTorch's error: its sum coalesces a COO tensor)
    return _sum_refusal(input, dim, dtype)


def softmax(input, dim, *, dtype=None):
    """torch.sparse.softmax of a sparse COO tensor (_sparse_kernels.sparse_softmax)."""
    from ._sparse_kernels import sparse_softmax
    return sparse_softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    """torch.sparse.log_softmax of a sparse COO tensor (_sparse_kernels.sparse_softmax)."""
    from ._sparse_kernels import sparse_softmax
    return sparse_softmax(input, dim, dtype, log=True)


sampled_addmm = _refusing("sampled_addmm", _NEEDS, "torch.sparse")
spsolve = _refusing("spsolve", _NEEDS, "torch.sparse")
def spdiags(diagonals, offsets, shape, layout=None):
    """torch.sparse.spdiags: diagonals[k, j] at (j - offsets[k], j) for each column j the
    k-th diagonal crosses (SciPy's convention), diagonal by diagonal, uncoalesced; a COO
    tensor, or CSR with layout=torch.sparse_csr."""
    import numpy as np
    from . import as_tensor
    from ._sparse_coo import _make, _device_tensor, _host
    from .dtypes import sparse_csr, sparse_coo
    d = as_tensor(diagonals)
    o = _host(as_tensor(offsets)).reshape(-1).astype(np.int64)
    rows, cols = (int(x) for x in shape)
    if d.dim() != 2:
        raise RuntimeError(f"Diagonals must be vector or matrix, got {d.dim()}-D tensor")
    if d.shape[0] != o.size:
        raise RuntimeError(f"Number of diagonals ({d.shape[0]}) does not match the number of "
                           f"offsets ({o.size})")
    if np.unique(o).size != o.size:
        raise RuntimeError("Offset tensor contains duplicate values")
    if layout not in (None, sparse_coo, sparse_csr):
        raise RuntimeError(f"Only output layouts (Sparse, SparseCsr) are supported, got "
                           f"{layout!r}")
    # PyTorch's entry count (each diagonal's, negative for one that leaves the matrix): its
    # error when the total is negative (between, its kernel reads memory it never wrote;
    # gpujit gives such a diagonal no entries)
    total = int(np.sum([min(off + rows, d.shape[1]) if off <= 0 else
                        min(cols, d.shape[1]) - off for off in o.tolist()]))
    if total < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {total}: "
                           f"[2, {total}]")
    ri, ci, ki = [], [], []
    for k, off in enumerate(o.tolist()):
        j = np.arange(max(0, off), min(cols, rows + off, d.shape[1]), dtype=np.int64)
        ri.append(j - off)
        ci.append(j)
        ki.append(np.full(j.size, k, np.int64))
    ri, ci, ki = (np.concatenate(x) if x else np.zeros(0, np.int64) for x in (ri, ci, ki))
    v = _host(d)[ki, ci] if ci.size else np.zeros((0,), _host(d).dtype)
    r = _make(_device_tensor(np.stack([ri, ci]), d.device), _device_tensor(v, d.device),
              (rows, cols), False)
    return r.to_sparse_csr() if layout is sparse_csr else r


to_sparse_semi_structured = _refusing("to_sparse_semi_structured",
                                      "its result would be a sparse tensor", "torch.sparse")


class _sparse_tensortype(_tensortype):
    """The metaclass of the legacy sparse types torch.sparse.FloatTensor & co."""

    def __instancecheck__(cls, obj):
        from ._sparse_coo import SparseCooTensor
        return (isinstance(obj, SparseCooTensor) and obj.dtype is cls.dtype
                and obj.is_cuda == cls.is_cuda)

    def __call__(cls, *args, device=None):
        """(indices, values[, size]): torch.sparse_coo_tensor (the values' dtype, as
        PyTorch's); (*sizes) or (): an empty sparse tensor of that size (or (0,))."""
        import gpujit
        from .tensor import Tensor
        from ._sparse_coo import sparse_coo_tensor
        dev = device if device is not None else ("cuda" if cls.is_cuda else "cpu")
        if len(args) in (2, 3) and all(isinstance(a, Tensor) for a in args[:2]):
            return sparse_coo_tensor(*args, device=dev)
        size = tuple(args[0]) if len(args) == 1 and isinstance(args[0], tuple) else \
            tuple(int(a) for a in args) if args else (0,)
        return sparse_coo_tensor(gpujit.zeros((len(size), 0), dtype=gpujit.int64),
                                 gpujit.zeros(0, dtype=cls.dtype), size, device=dev)


def _legacy(d, cuda):
    return _sparse_tensortype(f"{d.short_name}Tensor", (), {
        "__module__": "torch.cuda.sparse" if cuda else "torch.sparse", "dtype": d,
        "is_cuda": cuda, "is_sparse": True})


for _d in _ALL_DTYPES:
    globals()[f"{_d.short_name}Tensor"] = _legacy(_d, False)
    __all__.append(f"{_d.short_name}Tensor")


class check_sparse_tensor_invariants:
    """torch.sparse.check_sparse_tensor_invariants: the global switch of the invariant
    checks of sparse constructors whose check_invariants is None (off by default; they
    warn once then); a context manager (`with ...():`) and a decorator too."""

    @staticmethod
    def is_enabled():
        from ._sparse_coo import INVARIANT_CHECKS
        return bool(INVARIANT_CHECKS[0])

    @staticmethod
    def enable():
        from ._sparse_coo import INVARIANT_CHECKS
        INVARIANT_CHECKS[0] = True

    @staticmethod
    def disable():
        from ._sparse_coo import INVARIANT_CHECKS
        INVARIANT_CHECKS[0] = False

    def __init__(self, enable=True):
        self.state = enable
        self.saved_state = None

    def __enter__(self):
        if self.saved_state is not None:
            raise RuntimeError("This context manager instance is already activated. Use a "
                               "different context manager instance for context nesting.")
        from ._sparse_coo import INVARIANT_CHECKS
        self.saved_state = bool(INVARIANT_CHECKS[0])
        INVARIANT_CHECKS[0] = self.state

    def __exit__(self, type, value, traceback):
        from ._sparse_coo import INVARIANT_CHECKS
        INVARIANT_CHECKS[0] = self.saved_state
        self.saved_state = None

    def __call__(self, mth):
        def test_mth(*args, **kwargs):
            with type(self)(self.state):
                return mth(*args, **kwargs)
        return test_mth


__all__.append("check_sparse_tensor_invariants")
