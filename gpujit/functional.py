"""torch.functional: the Python-level functions PyTorch defines in torch/functional.py
(split, einsum, norm, stft, unique, ...), the same objects as gpujit.<name>. (istft is
not among them: gpujit has no complex tensors.)"""
from . import (atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors,
               cartesian_prod, block_diag, cdist, chain_matmul, einsum, lu, norm, meshgrid,
               pca_lowrank, split, stft, svd_lowrank, tensordot, unique, unique_consecutive,
               unravel_index)

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
           "cartesian_prod", "block_diag", "cdist", "chain_matmul", "einsum", "lu", "norm",
           "meshgrid", "pca_lowrank", "split", "stft", "svd_lowrank", "tensordot", "unique",
           "unique_consecutive", "unravel_index"]
