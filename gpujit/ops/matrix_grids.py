"""Grids built from several tensors: block_diag, meshgrid (`indexing=`, PyTorch's warning
without it) and cartesian_prod, with their derivatives. Python entry points with
PyTorch's varargs (`meshgrid(*tensors, indexing=)`, `block_diag(*tensors)`,
`cartesian_prod(*tensors)`) are in `PUBLIC`.
"""
from __future__ import annotations

import warnings

from .. import dtypes as _dt
from .meta import TensorMeta
from .registry import op, OPS
from ..device import cpu as _cpu
from .registry import derivative as _derivative
from .matrix_shape import _SHAPE, _VIEW, _dtn, _promote_all

PUBLIC = {}


# ------------------------------------------------------------------ block_diag

def _block_diag_rule(shapes, dtypes):
    for i, s in enumerate(shapes):
        if len(s) > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {len(s)} dimensions")
    mats = [(1, 1) if len(s) == 0 else (1, s[0]) if len(s) == 1 else tuple(s)
            for s in shapes]
    shape = (sum(m[0] for m in mats), sum(m[1] for m in mats)) if mats else (1, 0)
    return _promote_all(dtypes) or _dt.float32, shape, mats


@op("aten::block_diag(Tensor[] tensors) -> Tensor", tags=_SHAPE, method=False,
    meta=lambda tensors: TensorMeta(*_block_diag_rule(
        [tuple(t.shape) for t in tensors], [t.dtype for t in tensors])[:2],
        tensors[0].device if tensors else _cpu))
def block_diag(xp, tensors):
    dt, shape, mats = _block_diag_rule([t.shape for t in tensors],
                                       [_dtn(t.dtype) for t in tensors])
    out = xp.zeros(shape, dt.np)
    r = c = 0
    for t, (m, n) in zip(tensors, mats):
        out[r:r + m, c:c + n] = t.reshape(m, n)
        r, c = r + m, c + n
    return out


def block_diag_public(*tensors):
    return OPS["aten::block_diag"].public(list(tensors))


block_diag_public.__name__ = block_diag_public.__qualname__ = "block_diag"
PUBLIC["block_diag"] = block_diag_public


# ------------------------------------------------------------------ meshgrid

_MESHGRID_WARNING = ("torch.meshgrid: in an upcoming release, it will be required to pass "
                     "the indexing argument.")


def _meshgrid_rule(shapes, dtypes, indexing):
    if not shapes:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for d in dtypes[1:]:
        if d is not dtypes[0]:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for s in shapes:
        if len(s) > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got a {len(s)}D tensor of shape {list(s)}")
    sizes = [s[0] if s else 1 for s in shapes]
    swap = indexing == "xy" and len(sizes) >= 2
    if swap:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return tuple(sizes), swap


def _meshgrid_meta(tensors, indexing="ij"):
    shape, _ = _meshgrid_rule([tuple(t.shape) for t in tensors], [t.dtype for t in tensors],
                              indexing)
    return [TensorMeta(t.dtype, shape, t.device) for t in tensors]


def _meshgrid(xp, tensors, indexing):
    shape, swap = _meshgrid_rule([t.shape for t in tensors],
                                 [_dtn(t.dtype) for t in tensors], indexing)
    out = []
    for i, t in enumerate(tensors):
        pos = (1 - i if i < 2 else i) if swap else i
        view = [1] * len(shape)
        view[pos] = shape[pos]
        out.append(xp.broadcast_to(t.reshape(view), shape))
    return out


@op("aten::meshgrid(Tensor[] tensors) -> Tensor[]", tags=_VIEW | {"output_per_input"},
    method=False,
    meta=lambda tensors: _meshgrid_meta(tensors))
def meshgrid_default(xp, tensors):
    warnings.warn(_MESHGRID_WARNING, UserWarning, stacklevel=3)
    return _meshgrid(xp, tensors, "ij")


@op("aten::meshgrid.indexing(Tensor[] tensors, *, str indexing) -> Tensor[]",
    tags=_VIEW | {"output_per_input"},
    method=False, meta=_meshgrid_meta)
def meshgrid_indexing(xp, tensors, indexing):
    return _meshgrid(xp, tensors, indexing)


def _meshgrid_composite(tensors, indexing="ij"):
    """meshgrid recording gradients: PyTorch's, each input viewed with -1 at its dim (the
    first two swapped for 'xy') and expanded (ExpandBackward0 -> ViewBackward0)."""
    shape, swap = _meshgrid_rule([tuple(t.shape) for t in tensors],
                                 [t.dtype for t in tensors], indexing)
    out = []
    for i, t in enumerate(tensors):
        pos = (1 - i if i < 2 else i) if swap else i
        view = [1] * len(shape)
        view[pos] = -1
        out.append(t.view(view).expand(shape))
    return out


def _meshgrid_default_composite(tensors):
    warnings.warn(_MESHGRID_WARNING, UserWarning, stacklevel=4)
    return _meshgrid_composite(tensors)


meshgrid_indexing.op.composite = _meshgrid_composite
meshgrid_default.op.composite = _meshgrid_default_composite


def meshgrid(*tensors, indexing=None):
    """torch.meshgrid(*tensors, indexing=None): 'ij' (with PyTorch's warning) when indexing
    is not given; the outputs are expanded views of the inputs."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    if indexing is None:
        return OPS["aten::meshgrid"].public(list(tensors))
    return OPS["aten::meshgrid.indexing"].public(list(tensors), indexing=indexing)


PUBLIC["meshgrid"] = meshgrid


def _cartesian_rule(shapes, dtypes):
    for s in shapes:
        if len(s) != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(s)}")
    if len(shapes) == 1:
        return shapes[0]
    _meshgrid_rule(shapes, dtypes, "ij")
    n = 1
    for s in shapes:
        n *= s[0]
    return (n, len(shapes))


@op("aten::cartesian_prod(Tensor[] tensors) -> Tensor", tags=_SHAPE, method=False,
    meta=lambda tensors: TensorMeta(
        tensors[0].dtype if tensors else _dt.float32,
        _cartesian_rule([tuple(t.shape) for t in tensors], [t.dtype for t in tensors]),
        tensors[0].device if tensors else None))
def cartesian_prod(xp, tensors):
    shape = _cartesian_rule([t.shape for t in tensors], [_dtn(t.dtype) for t in tensors])
    if len(tensors) == 1:
        return tensors[0].copy()
    grids = _meshgrid(xp, tensors, "ij")
    return xp.stack([g.reshape(-1) for g in grids], axis=1).reshape(shape)


def _cartesian_composite(tensors):
    """cartesian_prod recording gradients: PyTorch's, meshgrid's grids flattened (copies of
    the expanded views: UnsafeViewBackward0 -> CloneBackward0 -> ExpandBackward0) and
    stacked (StackBackward0)."""
    _cartesian_rule([tuple(t.shape) for t in tensors], [t.dtype for t in tensors])
    if len(tensors) == 1:
        return tensors[0]           # (PyTorch hands back the input itself)
    return OPS["aten::stack"].public([g.flatten() for g in _meshgrid_composite(tensors)], 1)


cartesian_prod.op.composite = _cartesian_composite


def cartesian_prod_public(*tensors):
    return OPS["aten::cartesian_prod"].public(list(tensors))


cartesian_prod_public.__name__ = cartesian_prod_public.__qualname__ = "cartesian_prod"
PUBLIC["cartesian_prod"] = cartesian_prod_public


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops


@_derivative(block_diag)
def _block_diag_grad(grad, tensors_shape):
    # (shapes only: a later write into an input is no error at backward, as in PyTorch)
    _, _, mats = _block_diag_rule(list(tensors_shape), [grad.dtype] * len(tensors_shape))
    out, r, c = [], 0, 0
    for shape, (m, n) in zip(tensors_shape, mats):
        out.append(grad[r:r + m, c:c + n].reshape(shape))
        r, c = r + m, c + n
    return out


def _meshgrid_grad(grads, shapes, indexing):
    _, swap = _meshgrid_rule(list(shapes), [None] * len(shapes), indexing)
    out = []
    for i, (g, shape) in enumerate(zip(grads, shapes)):
        pos = (1 - i if i < 2 else i) if swap else i
        others = [d for d in range(g.dim()) if d != pos]
        out.append((g.sum(others) if others else g).reshape(shape))
    return out


@_derivative(meshgrid_default)
def _meshgrid_default_grad(grad, tensors_shape):
    return _meshgrid_grad(grad, tensors_shape, "ij")


@_derivative(meshgrid_indexing)
def _meshgrid_indexing_grad(grad, tensors_shape, indexing):
    return _meshgrid_grad(grad, tensors_shape, indexing)


@_derivative(cartesian_prod)
def _cartesian_prod_grad(grad, tensors_shape):
    if len(tensors_shape) == 1:
        return [grad]
    sizes = [s[0] for s in tensors_shape]
    g = grad.reshape(sizes + [len(tensors_shape)])
    out = []
    for i in range(len(tensors_shape)):
        others = [d for d in range(len(sizes)) if d != i]
        out.append(g.select(-1, i).sum(others))
    return out
