"""PyTorch's sparse tensor API where gpujit has no sparse tensors (its tensors are dense and
strided: NumPy/CuPy arrays, README).

What works on a dense tensor in PyTorch works here: `torch.spmm(a, b)` and
`torch.sparse.mm` / `torch.sparse.addmm` of dense operands are mm / addmm, `x.sparse_dim()`
is 0, `x.dense_dim()` is x.dim(), `x.to_dense()` is x (tensor_flags.py). What would make or
need a sparse tensor (torch.sparse_coo_tensor, x.to_sparse(), a factory's
layout=torch.sparse_coo, torch.sparse.sum ...) raises a RuntimeError that says so, instead
of an AttributeError that reads like a typo or a dense result under a sparse name; the
accessors of a sparse tensor's parts (x.indices(), x.values(), x.coalesce() ...) raise
PyTorch's own errors for a strided tensor."""
from __future__ import annotations

from .._no_complex import refusing
from ..tensor import Tensor
from .registry import tensor_method

__all__ = ["WHY", "refuse_layout"]

PUBLIC = {}

WHY = "gpujit has no sparse tensors (its tensors are dense and strided)"


def refuse_layout(op_name, layout):
    """The error for a factory given a sparse layout (the generated entry points of ops with
    a `Layout? layout` argument call it for any layout but torch.strided)."""
    return RuntimeError(f"{op_name}: layout={layout!r} is not available: {WHY}; "
                        f"use the default layout=torch.strided")


def _refusing(name, what, qual="torch"):
    return refusing(name, WHY, what, qual)


_MAKES = "its result would be a sparse tensor"
for _name in ("sparse_coo_tensor", "sparse_csr_tensor", "sparse_csc_tensor",
              "sparse_bsr_tensor", "sparse_bsc_tensor", "sparse_compressed_tensor", "hspmm"):
    PUBLIC[_name] = _refusing(_name, _MAKES)
for _name in ("smm", "sspaddmm", "saddmm"):
    PUBLIC[_name] = _refusing(_name, "it takes a sparse matrix")


def spmm(input, mat2):
    """torch.spmm: input @ mat2 for 2-D operands (mm; PyTorch's takes a sparse `input` too,
    which gpujit does not have)."""
    from .. import mm
    return mm(input, mat2)


PUBLIC["spmm"] = spmm

# x.to_sparse() & co.: their results would be sparse
for _name in ("to_sparse", "to_sparse_coo", "to_sparse_csr", "to_sparse_csc", "to_sparse_bsr",
              "to_sparse_bsc", "sparse_mask", "sparse_resize_", "sparse_resize_and_clear_"):
    setattr(Tensor, _name, _refusing(_name, _MAKES if _name.startswith("to_") else
                                     "it works on sparse tensors", "Tensor"))


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
