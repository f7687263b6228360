"""torch.functional: the module PyTorch defines its Python-level tensor functions in
(torch.split, torch.einsum, torch.norm, torch.stft, ...) and re-exports at the top level;
programs import them from here (`from torch.functional import F`-style code, `import
torch.functional as TF`). The same function objects as gpujit's top level."""
from __future__ import annotations

import gpujit as _gpujit
from gpujit import (atleast_1d, atleast_2d, atleast_3d, block_diag, broadcast_shapes,  # noqa: F401
                    broadcast_tensors, cartesian_prod, cdist, chain_matmul, einsum, lu,
                    meshgrid, norm, pca_lowrank, split, stft, svd_lowrank, tensordot, unique,
                    unique_consecutive, unravel_index)

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
           "cartesian_prod", "block_diag", "cdist", "chain_matmul", "einsum", "lu",
           "norm", "meshgrid", "pca_lowrank", "split", "stft", "svd_lowrank", "tensordot",
           "unique", "unique_consecutive", "unravel_index"]

if hasattr(_gpujit, "istft"):      # (with complex tensors)
    istft = _gpujit.istft
    __all__.append("istft")
