"""PyTorch's sparse tensor API beside gpujit's sparse tensors (gpujit/_sparse_coo.py, COO;
gpujit/_sparse_csr.py, CSR / CSC / BSR / BSC).

x.to_sparse() / x.to_sparse_coo() / torch.sparse_coo_tensor make a SparseCooTensor,
torch.sparse_csr_tensor & co. and x.to_sparse_csr() & co. a compressed one; torch.spmm,
sspaddmm, smm and hspmm take them (or a dense matrix: mm). On a dense tensor what PyTorch
computes works: `torch.sparse.mm` / `torch.sparse.addmm` of dense operands are mm / addmm,
`x.sparse_dim()` is 0, `x.dense_dim()` is x.dim(), `x.to_dense()` is x (tensor_flags.py).
A factory's sparse layout (torch.zeros(..., layout=torch.sparse_coo)) makes an empty sparse
tensor or raises PyTorch's error (sparse_factory); what gpujit has no kernel for raises a
RuntimeError that says so, instead of an AttributeError that reads like a typo or a dense
result under a sparse name; the accessors of a sparse tensor's parts (x.indices(),
x.values(), x.coalesce() ...) raise PyTorch's own errors for a strided tensor."""
from __future__ import annotations

from .. import dtypes as _dt
from .._sparse_coo import SparseCooTensor, sparse_coo_tensor, to_sparse
from .._sparse_kernels import sparse_mask
from .._sparse_products import hspmm, smm, sparse_mm, sspaddmm
from .._sparse_csr import (sparse_bsc_tensor, sparse_bsr_tensor, sparse_compressed_tensor,
                           sparse_csc_tensor, sparse_csr_tensor)
from ..tensor import Tensor
from .registry import tensor_method

__all__ = ["WHY", "refuse_layout"]

PUBLIC = {}

WHY = ("gpujit's sparse tensors are COO and 2-D CSR / CSC / BSR / BSC, made by "
       "x.to_sparse() / x.to_sparse_csr() & co. or torch.sparse_coo_tensor / "
       "torch.sparse_csr_tensor & co., with few ops (no sparse kernel for this)")


def refuse_layout(op_name, layout):
    """The error for a factory given a sparse layout (the generated entry points of ops with
    a `Layout? layout` argument call it for any layout but torch.strided)."""
    return RuntimeError(f"{op_name}: layout={layout!r} is not available: {WHY}; "
                        f"use the default layout=torch.strided")


_EMPTY = {"aten::zeros", "aten::empty.memory_format", "aten::new_zeros", "aten::new_empty",
          "aten::zeros_like", "aten::empty_like"}
_FULL = {"aten::ones", "aten::full", "aten::new_ones", "aten::new_full", "aten::ones_like",
         "aten::full_like"}


def sparse_factory(op, args, dev):
    """A factory given a sparse layout (the generated entry points of ops with a `Layout?
    layout` argument call it for torch.sparse_coo & co.): zeros / empty (and their new_ /
    _like forms) make an empty sparse COO tensor (all dims sparse; a _like one the input's
    sparse dims) or, 2-D, CSR one, as PyTorch's; ones / full PyTorch's error; the others
    refuse in words."""
    from .. import get_default_dtype
    from .._sparse_kernels import _empty_sparse
    from .._sparse_csr import _make_csr, _warn_beta
    kw = dict(zip((a.name for a in op.schema.arguments), args))
    layout = kw["layout"]
    if op.name in _FULL and layout is _dt.sparse_coo:
        # (PyTorch's full refuses a sparse layout; its _like forms reach empty_strided,
        # its new_ forms fill_ of the empty sparse tensor)
        from .._sparse_coo import not_implemented
        if op.name.endswith("_like"):
            raise not_implemented("aten::empty_strided", dev)
        if op.name.startswith("aten::new_"):
            raise not_implemented("aten::fill_.Scalar", dev)
        raise RuntimeError("full(...) is not implemented for sparse layout")
    if op.name not in _EMPTY or layout not in (_dt.sparse_coo, _dt.sparse_csr):
        raise refuse_layout(op.public_name, layout)
    like = kw.get("self")
    size = tuple(like.shape) if op.name.endswith("_like") else tuple(kw["size"])
    dtype = kw.get("dtype") or (like.dtype if like is not None else get_default_dtype())
    if layout is _dt.sparse_coo:
        sd = like.sparse_dim() if op.name.endswith("_like") and like.is_sparse else len(size)
        return _empty_sparse(size, sd, dtype, dev)
    if len(size) != 2:
        raise RuntimeError(f"{op.public_name}: gpujit's CSR tensors are 2-D matrices (got "
                           f"size {list(size)})")
    from .. import zeros
    _warn_beta()
    return _make_csr(zeros(size[0] + 1, dtype=_dt.int64, device=dev),
                     zeros(0, dtype=_dt.int64, device=dev), zeros(0, dtype=dtype, device=dev),
                     size)


def refusing(name, why, what, qual="torch"):
    """A stand-in for `qual.name`, which gpujit lacks (why): it raises a RuntimeError
    saying so."""
    def f(*args, **kwargs):
        raise RuntimeError(f"{qual}.{name}: {why}; {what}")
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"{qual}.{name}: {what}; not available in gpujit ({why})."
    return f


def _refusing(name, what, qual="torch"):
    return refusing(name, WHY, what, qual)


PUBLIC["saddmm"] = _refusing("saddmm", "it takes a sparse matrix")
PUBLIC.update(sspaddmm=sspaddmm, smm=smm, hspmm=hspmm)
Tensor.sspaddmm = lambda self, mat1, mat2, *, beta=1, alpha=1: sspaddmm(
    self, mat1, mat2, beta=beta, alpha=alpha)
Tensor.smm = smm


def spmm(input, mat2):
    """torch.spmm: input @ mat2 for 2-D operands, `input` sparse COO or dense (mm)."""
    if isinstance(input, SparseCooTensor):
        return sparse_mm(input, mat2, "MmBackward0")
    if input.layout is _dt.sparse_csr:
        return input.mm(mat2)
    from .. import mm
    return mm(input, mat2)


PUBLIC["spmm"] = spmm

PUBLIC["sparse_coo_tensor"] = sparse_coo_tensor
PUBLIC.update(sparse_csr_tensor=sparse_csr_tensor, sparse_csc_tensor=sparse_csc_tensor,
              sparse_bsr_tensor=sparse_bsr_tensor, sparse_bsc_tensor=sparse_bsc_tensor,
              sparse_compressed_tensor=sparse_compressed_tensor)
Tensor.to_sparse = to_sparse


def to_sparse_coo(self):
    """x.to_sparse_coo(): x.to_sparse()."""
    return to_sparse(self)


Tensor.to_sparse_coo = to_sparse_coo
Tensor.sparse_mask = sparse_mask

for _name in ("sparse_resize_", "sparse_resize_and_clear_"):
    setattr(Tensor, _name, _refusing(_name, "it works on sparse tensors", "Tensor"))


def _strided_error(name, layout_words):
    def f(self, *args, **kwargs):
        raise RuntimeError(f"{name} expected {layout_words} layout but got Strided")
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Tensor.{name}: PyTorch's error for a strided tensor (gpujit's are all strided)."
    return f


# PyTorch's words for a strided tensor, accessor by accessor
for _name, _words in (("indices", "sparse coordinate tensor"),
                      ("_indices", "sparse coordinate tensor"),
                      ("coalesce", "sparse coordinate tensor"),
                      ("is_coalesced", "sparse coordinate tensor"),
                      ("values", "sparse tensor"),
                      ("crow_indices", "sparse row compressed tensor"),
                      ("col_indices", "sparse row compressed tensor"),
                      ("ccol_indices", "sparse column compressed tensor"),
                      ("row_indices", "sparse column compressed tensor")):
    setattr(Tensor, _name, _strided_error(_name, _words))


def _values(self):
    raise NotImplementedError("Could not run 'aten::_values' with arguments from the 'CPU' "
                              f"backend: {WHY}")


Tensor._values = _values


@tensor_method("sparse_dim")
def _sparse_dim(self):
    """0: a strided tensor has no sparse dims (PyTorch's answer for one)."""
    return 0


@tensor_method("dense_dim")
def _dense_dim(self):
    """Every dim of a strided tensor is dense (PyTorch's answer: x.dim())."""
    return self.dim()
