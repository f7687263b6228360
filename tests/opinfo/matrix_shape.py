"""OpInfos of the matrix-shape family (gpujit/ops/matrix_shape.py). References are NumPy:
np.diagonal / np.diag / np.kron / np.rot90 / np.tensordot / np.meshgrid / np.vander /
np.tril_indices, and explicit loops where NumPy has no such function (block_diag, cdist,
diag_embed). PyTorch's differences are written out: vander and tril_indices give int64,
kron/addr/block_diag promote, fill_diagonal_'s wrap is NumPy's."""
from __future__ import annotations

import itertools

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, ALL_DTYPES, FLOAT_DTYPES

F16, F32, F64, I64, I32, U8, B = (np.float16, np.float32, np.float64, np.int64, np.int32,
                                  np.uint8, np.bool_)

_g = np.random.default_rng(91)


def g(*shape):
    """float64 samples for gradcheck (the first 3 samples of each op)."""
    return _g.uniform(-2, 2, shape)


# ------------------------------------------------------------------ diagonals

def _diagonal_ref(x, offset=0, dim1=0, dim2=1):
    return np.diagonal(x, offset, dim1 % x.ndim, dim2 % x.ndim)


DIAGONAL = OpInfo(
    "aten::diagonal", ref=_diagonal_ref,
    samples=[Sample(g(3, 4)), Sample(g(2, 3, 4), 1, 2, 0), Sample(g(3, 4), -1),
             Sample(rand(4, 4), 2), Sample(rand(2, 3, 4), -1, -1, 0), Sample(rand(3, 4), 9),
             Sample(rand(3, 4), -5), Sample(rand(0, 3)), Sample(rand(2, 3, 4, 5), 0, 1, 3),
             *[Sample(rand(3, 3, dtype=d), 1) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(3, 4), 0, 0, 0, match="diagonal dimensions cannot be identical "
                        "0, 0"),
            ErrorSample(rand(3, 4), 0, 0, 2, exc=IndexError, match="Dimension out of range"),
            ErrorSample(rand(3), exc=IndexError, match="Dimension out of range")])


def _embed_ref(src, shape, offset, dim1, dim2):
    out = np.zeros(shape, src.dtype)
    d1, d2 = dim1 % len(shape), dim2 % len(shape)
    view = np.diagonal(out, offset, d1, d2)
    view.flags.writeable = True
    view[...] = src
    return out


DIAGONAL_BACKWARD = OpInfo(
    "aten::diagonal_backward", ref=_embed_ref,
    samples=[Sample(g(3), [3, 4], 0, 0, 1), Sample(g(2, 2), [3, 2, 4], 1, 2, 0),
             Sample(g(2), [3, 4], -1, 0, 1), Sample(rand(0), [3, 4], 5, 0, 1),
             Sample(rand(2, 3, dtype=I64), [2, 3, 3], 0, -2, -1)])


def _diag_embed_ref(x, offset=0, dim1=-2, dim2=-1):
    x = x.reshape(1) if x.ndim == 0 else x
    n = x.shape[-1] + abs(offset)
    nd = x.ndim + 1
    d1, d2 = dim1 % nd, dim2 % nd
    rest = iter(x.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(nd))
    return _embed_ref(x, shape, offset, d1, d2)


DIAG_EMBED = OpInfo(
    "aten::diag_embed", ref=_diag_embed_ref,
    samples=[Sample(g(3)), Sample(g(2, 3), 1, 0, 2), Sample(g(2, 3), -1, 2, 0),
             Sample(rand(4), 2), Sample(rand(2, 3, 2), 0, 1, 3),
             *[Sample(rand(2, 3, dtype=d), -1) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(2, 3), 1, 0, 0, match="diagonal dimensions cannot be identical"),
            ErrorSample(rand(2, 3), 0, 0, 3, exc=IndexError, match="Dimension out of range"),
            ErrorSample(rand(), exc=IndexError, match="Dimension out of range")])


def _diag_ref(x, diagonal=0):
    return np.diag(x, diagonal).copy()


DIAG = OpInfo(
    "aten::diag", ref=_diag_ref,
    samples=[Sample(g(3)), Sample(g(3, 4), 1), Sample(g(4), -2), Sample(rand(3, 4), -1),
             Sample(rand(3, 4), 7), Sample(rand(0)), Sample(rand(3, dtype=I64), 5),
             *[Sample(rand(3, 3, dtype=d)) for d in ALL_DTYPES],
             *[Sample(rand(3, dtype=d), 1) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(2, 2, 2), match=r"diag\(\): Supports 1D or 2D tensors. Got 3D"),
            ErrorSample(rand(), match=r"diag\(\): Supports 1D or 2D tensors. Got 0D")])

DIAGFLAT = OpInfo(
    "aten::diagflat", ref=lambda x, offset=0: np.diagflat(x, offset),
    samples=[Sample(g(3)), Sample(g(2, 2), 1), Sample(g(3), -1), Sample(rand()),
             Sample(rand(0)), *[Sample(rand(2, 2, dtype=d), -1) for d in ALL_DTYPES]])


def _fill_diagonal_ref(x, fill_value, wrap=False):
    x = x.copy()
    if x.ndim == 2:
        np.fill_diagonal(x, fill_value, wrap=wrap)
    else:
        for i in range(x.shape[0]):
            x[(i,) * x.ndim] = fill_value
    return x


FILL_DIAGONAL_ = OpInfo(
    "aten::fill_diagonal_", ref=_fill_diagonal_ref,
    samples=[Sample(g(3, 3), 1.5), Sample(g(7, 3), -2.0, True), Sample(g(3, 5), 0.5),
             Sample(rand(7, 3), 2.0), Sample(rand(3, 3, 3), 4.0), Sample(rand(4, 3), 1, True),
             Sample(rand(7, 3, dtype=I64), 1.5).expect_dtype(G.int64),
             Sample(rand(2, 2, dtype=B), True), Sample(rand(0, 0), 1.0)],
    errors=[ErrorSample(rand(3), 1.0, match="dimensions must larger than 1"),
            ErrorSample(rand(3, 4, 5), 1.0, match="all dimensions of input must be of equal "
                        "length")])


# ------------------------------------------------------------------ triangle indices

def _tri_ref(fn):
    def ref(row, col, offset=0, dtype=None, device=None):
        r, c = fn(row, offset, col)
        return np.stack([r, c]).reshape(2, -1)
    return ref


def _tri_info(name, fn):
    return OpInfo(
        f"aten::{name}", ref=_tri_ref(fn), grad=False,
        samples=[Sample(3, 4), Sample(4, 3, -1), Sample(3, 4, 1), Sample(0, 3),
                 Sample(3, 3, 10), Sample(3, 3, -10), Sample(5, 2, 1).expect_dtype(G.int64),
                 Sample(3, 4, dtype=G.int32).expect_dtype(G.int32)],
        errors=[ErrorSample(-1, 4, match="row must be non-negative, got-1"),
                ErrorSample(3, -4, match="col must be non-negative, got-4"),
                ErrorSample(3, 4, dtype=G.float32, exc=NotImplementedError,
                            match=f"\"{name}\" not implemented for 'Float'")])


TRIL_INDICES = _tri_info("tril_indices", np.tril_indices)
TRIU_INDICES = _tri_info("triu_indices", np.triu_indices)


# ------------------------------------------------------------------ kron / rot90

KRON = OpInfo(
    "aten::kron", ref=lambda a, b: np.kron(a, b),
    samples=[Sample(g(2, 3), g(2, 2)), Sample(g(3), g(2, 2)), Sample(g(), g(3)),
             Sample(rand(2, 3, 2), rand(2, 2)),
             Sample(rand(2, 3, dtype=I32), rand(4, dtype=U8)).expect_dtype(G.int32),
             Sample(rand(2, dtype=I32), rand(2, 2, dtype=F32)).expect_dtype(G.float32),
             Sample(rand(2, 2, dtype=B), rand(2, dtype=B)).expect_dtype(G.bool),
             Sample(rand(0, 2), rand(2, 3)),
             *[Sample(rand(2, 2, dtype=d), rand(2, 1, dtype=d)) for d in ALL_DTYPES]])


def _rot90_ref(x, k=1, dims=(0, 1)):
    return np.rot90(x, k, tuple(dims)).copy()


ROT90 = OpInfo(
    "aten::rot90", ref=_rot90_ref,
    samples=[Sample(g(3, 4)), Sample(g(2, 3, 4), 1, [2, 0]), Sample(g(3, 4), -1),
             Sample(rand(3, 4), 2), Sample(rand(3, 4), 3, [1, 0]), Sample(rand(3, 4), 0),
             Sample(rand(3, 4), 5, [-1, 0]),
             *[Sample(rand(2, 3, dtype=d)) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(2), match="expected total dims >= 2, but got total dims = 1"),
            ErrorSample(rand(3, 4), 1, [0], match="expected total rotation dims == 2, but "
                        "got dims = 1"),
            ErrorSample(rand(3, 4), 1, [0, 0], match="expected rotation dims to be "
                        "different, but got dim0 = 0 and dim1 = 0"),
            ErrorSample(rand(3, 4), 1, [0, -2], match="expected rotation dims to be "
                        "different, but got dim0 = 0 and dim1 = -2"),
            ErrorSample(rand(3, 4), 1, [0, 5], exc=IndexError,
                        match="Dimension out of range")])


# ------------------------------------------------------------------ block_diag / grids

def _block_diag_ref(tensors):
    mats = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    dt = np.result_type(*tensors) if tensors else np.float32
    out = np.zeros((sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats))
                   if mats else (1, 0), dt)
    r = c = 0
    for m in mats:
        out[r:r + m.shape[0], c:c + m.shape[1]] = m
        r, c = r + m.shape[0], c + m.shape[1]
    return out


BLOCK_DIAG = OpInfo(
    "aten::block_diag", ref=_block_diag_ref,
    samples=[Sample([g(2, 2), g(3)]), Sample([g(), g(2, 3), g(1)]), Sample([g(2, 2)]),
             Sample([rand(0, 3), rand(2, 0)]), Sample([]),
             Sample([rand(2, dtype=I32), rand(3, dtype=U8)]).expect_dtype(G.int32),
             Sample([rand(2, dtype=I32), rand(2, 2, dtype=F32)]).expect_dtype(G.float32),
             Sample([rand(2, dtype=B), rand(1, dtype=B)]).expect_dtype(G.bool)],
    errors=[ErrorSample([rand(2, 2, 2)], match="torch.block_diag: Input tensors must have 2 "
                        "or fewer dimensions. Input 0 has 3 dimensions")])


def _meshgrid_ref(tensors, indexing="ij"):
    return tuple(np.meshgrid(*[t.reshape(-1) for t in tensors], indexing=indexing))


_MESH_ERRORS = [
    ErrorSample([], match="meshgrid expects a non-empty TensorList"),
    ErrorSample([rand(2, dtype=I64), rand(3)], match="meshgrid expects all tensors to have "
                "the same dtype"),
    ErrorSample([rand(2), rand(2, 3)], match="Expected 0D or 1D tensor in the tensor list")]


def _meshgrid_samples(**kw):
    return [Sample([g(2), g(3)], **kw), Sample([g(2), g(3), g(4)], **kw),
            Sample([g(3)], **kw), Sample([rand(), rand(3)], **kw),
            Sample([rand(0), rand(2)], **kw),
            *[Sample([rand(2, dtype=d), rand(3, dtype=d)], **kw) for d in ALL_DTYPES]]


MESHGRID = OpInfo("aten::meshgrid", ref=_meshgrid_ref, samples=_meshgrid_samples,
                  errors=_MESH_ERRORS)
MESHGRID_INDEXING = OpInfo(
    "aten::meshgrid.indexing", ref=_meshgrid_ref,
    samples=lambda: _meshgrid_samples(indexing="xy") + _meshgrid_samples(indexing="ij"),
    errors=[ErrorSample([rand(2), rand(3)], indexing="foo", match="torch.meshgrid: indexing "
                        "must be one of \"xy\" or \"ij\", but received: foo")])


def _cartesian_ref(tensors):
    if len(tensors) == 1:
        return tensors[0]
    return np.array(list(itertools.product(*tensors))).reshape(-1, len(tensors))


CARTESIAN_PROD = OpInfo(
    "aten::cartesian_prod", ref=_cartesian_ref,
    samples=[Sample([g(2), g(3)]), Sample([g(2), g(2), g(3)]), Sample([g(3)]),
             Sample([rand(0), rand(3)]),
             *[Sample([rand(2, dtype=d), rand(3, dtype=d)]) for d in ALL_DTYPES]],
    errors=[ErrorSample([rand(2, 2)], match=r"Expect a 1D vector, but got shape \[2, 2\]"),
            ErrorSample([rand()], match=r"Expect a 1D vector, but got shape \[\]"),
            ErrorSample([rand(2, dtype=I64), rand(3)], match="meshgrid expects all tensors "
                        "to have the same dtype")])


# ------------------------------------------------------------------ products

def _acc(x):
    return x.astype(np.float64 if x.dtype.kind == "f" else np.int64)


TENSORDOT = OpInfo(
    "aten::tensordot",
    ref=lambda a, b, da, db: np.tensordot(_acc(a), _acc(b), axes=(list(da), list(db))),
    samples=[Sample(g(2, 3, 4), g(4, 3, 2), [1, 2], [1, 0]), Sample(g(2, 3), g(3, 2), [1], [0]),
             Sample(g(2, 3), g(4), [], []), Sample(rand(2, 3, 4), rand(3, 4, 5), [-2, -1], [0, 1]),
             Sample(rand(2, 3), rand(2, 3), [0, 1], [0, 1]),
             Sample(rand(0, 3), rand(3, 2), [1], [0]),
             Sample(rand(2, 3, dtype=F16), rand(3, 4, dtype=F16), [1], [0]).tol(2e-3, 2e-3),
             *[Sample(rand(2, 3, dtype=d), rand(3, 2, dtype=d), [1], [0])
               for d in (I64, I32, F32, F64)]],
    errors=[ErrorSample(rand(3, 4), rand(3, 4, dtype=F64), [0], [0],
                        match="both inputs should have same dtype"),
            ErrorSample(rand(3, 4), rand(3, 4), [0], [0, 1],
                        match="both dimension lists should have same length"),
            ErrorSample(rand(3, 4), rand(4, 3), [0], [0], match="contracted dimensions need "
                        "to match, but first has size 3 in dim 0 and second has size 4 in "
                        "dim 0")])


def _cdist_ref(x1, x2, p=2.0, compute_mode=None):
    d = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return (d != 0).sum(-1).astype(x1.dtype)
    if np.isinf(p):
        return d.max(-1) if d.shape[-1] else d.sum(-1)
    return (d ** p).sum(-1) ** (1 / p)


CDIST = OpInfo(
    "aten::cdist", ref=_cdist_ref,
    samples=[Sample(g(3, 2), g(4, 2)), Sample(g(2, 3, 2), g(4, 2), 1.0),
             Sample(g(3, 2), g(2, 2), 3.0), Sample(rand(5, 3), rand(4, 3), 0.0),
             Sample(rand(2, 5, 3), rand(3, 1, 4, 3), float("inf")),
             Sample(rand(0, 3), rand(4, 3)), Sample(rand(2, 3, dtype=F64), rand(2, 3, dtype=F64),
                                                    0.5),
             Sample(rand(3, 2), rand(4, 2), 2.0, 1)],
    errors=[ErrorSample(rand(3, 4), rand(3, 4), -1.0, match="cdist only supports non-negative "
                        "p values"),
            ErrorSample(rand(3, 4), rand(2, 3), match="X1 and X2 must have the same number of "
                        "columns. X1: 4 X2: 3"),
            ErrorSample(rand(3), rand(3), match="cdist only supports at least 2D tensors, X1 "
                        "got: 1D"),
            ErrorSample(rand(3, 3, dtype=I64), rand(3, 3, dtype=I64), match="cdist only "
                        "supports floating-point dtypes, X1 got: Long"),
            ErrorSample(rand(3, 3), rand(3, 3, dtype=F64), match="expected scalar type Float "
                        "but found Double")])


def _addmv_ref(s, m, v, beta=1, alpha=1):
    p = alpha * (_acc(m) * _acc(v)).sum(1)
    return p if beta == 0 else beta * s + p


ADDMV = OpInfo(
    "aten::addmv", ref=_addmv_ref,
    samples=[Sample(g(3), g(3, 4), g(4)), Sample(g(1), g(3, 2), g(2), beta=0.5, alpha=2.0),
             Sample(g(), g(2, 3), g(3), beta=0), Sample(rand(3), rand(3, 4), rand(4)),
             Sample(np.full(3, np.nan, F32), rand(3, 4), rand(4), beta=0),
             Sample(rand(3, dtype=I64), rand(3, 4, dtype=I64), rand(4, dtype=I64), beta=2,
                    alpha=3),
             Sample(rand(3, dtype=F64), rand(3, 0, dtype=F64), rand(0, dtype=F64))],
    errors=[ErrorSample(rand(3), rand(3, 4), rand(3), match=r"size mismatch, got input \(3\), "
                        r"mat \(3x4\), vec \(3\)"),
            ErrorSample(rand(2), rand(3, 4), rand(4), match=r"size mismatch, got input \(2\)"),
            ErrorSample(rand(3), rand(3, 4), rand(4, dtype=F64), match="addmv input tensors "
                        "must have the same dtype, but got Float, Float, and Double"),
            ErrorSample(rand(3, 1), rand(3, 4), rand(4), match="vector \\+ matrix @ vector "
                        "expected, got 2, 2, 1"),
            ErrorSample(rand(3, dtype=I64), rand(3, 4, dtype=I64), rand(4, dtype=I64),
                        alpha=float("inf"), match="value cannot be converted to type "
                        "int64_t without overflow")])


def _addr_ref(s, a, b, beta=1, alpha=1):
    if s.dtype == np.bool_ and a.dtype == np.bool_ and b.dtype == np.bool_:
        out = np.logical_and(a[:, None], b[None, :]) & bool(alpha)
        return out | (s & bool(beta))
    p = alpha * np.multiply.outer(a, b)
    return p if beta == 0 else beta * s + p


ADDR = OpInfo(
    "aten::addr", ref=_addr_ref,
    samples=[Sample(g(3, 4), g(3), g(4)), Sample(g(3, 1), g(3), g(2), beta=0.5, alpha=2.0),
             Sample(g(), g(2), g(3), beta=0), Sample(rand(3, 4), rand(3), rand(4)),
             Sample(rand(3, 4), rand(3), rand(4, dtype=F64)).expect_dtype(G.float64),
             Sample(rand(3, 4, dtype=I64), rand(3, dtype=I64), rand(4, dtype=I64), beta=2,
                    alpha=3),
             Sample(rand(3, 4, dtype=B), rand(3, dtype=B), rand(4, dtype=B), beta=0),
             Sample(rand(3, 4, dtype=B), rand(3, dtype=B), rand(4, dtype=B), alpha=0)],
    errors=[ErrorSample(rand(3, 4), rand(3, 1), rand(4), match="addr: Expected 1-D argument "
                        "vec1, but got 2-D"),
            ErrorSample(rand(2, 4), rand(3), rand(4), match="The expanded size of the tensor "
                        r"\(3\) must match the existing size \(2\)"),
            ErrorSample(rand(3, 4, dtype=I64), rand(3, dtype=I64), rand(4, dtype=I64),
                        alpha=1.5, match="argument alpha must not be a floating point")])


def _chain_ref(matrices):
    r = _acc(matrices[0])
    for m in matrices[1:]:
        r = (r[:, :, None] * _acc(m)[None, :, :]).sum(1)
    return r


CHAIN_MATMUL = OpInfo(
    "aten::chain_matmul", ref=_chain_ref,
    samples=[Sample([g(2, 3), g(3, 4)]), Sample([g(2, 3), g(3, 3), g(3, 2)]), Sample([g(2, 2)]),
             Sample([rand(3, 4, dtype=I64), rand(4, 2, dtype=I64)]),
             Sample([rand(3, 4), rand(4, 5), rand(5, 2), rand(2, 3)])],
    errors=[ErrorSample([], match=r"chain_matmul\(\): Expected one or more matrices"),
            ErrorSample([rand(3)], match="Tensor dimension is 1, expected 2 instead."),
            ErrorSample([rand(2, 3), rand(4, 2)], match=r"multi_dot\(\): tensors 0 and 1 with "
                        r"shapes \[2, 3\] and \[4, 2\] cannot be multiplied")])


def _vander_ref(x, N=None, increasing=False):
    N = x.shape[0] if N is None else N
    x = x.astype(np.float64 if x.dtype.kind == "f" else np.int64)
    return np.vander(x, N, increasing=increasing)


VANDER = OpInfo(
    "aten::vander", ref=_vander_ref,
    # (no gradient samples: PyTorch 2.13's vander composite (cumprod of an expanded,
    # in-place-written tensor) fails its backward "modified by an inplace operation", as
    # gpujit's composite does)
    samples=[Sample(rand(3)).no_grad(), Sample(rand(3), 4, True).no_grad(),
             Sample(rand(2), 1).no_grad(), Sample(rand(3), 0),
             Sample(rand(0)), Sample(rand(4, dtype=I32)).expect_dtype(G.int64),
             Sample(rand(3, dtype=U8), 4).expect_dtype(G.int64),
             Sample(rand(3, dtype=B), 3).expect_dtype(G.int64),
             Sample(rand(3, dtype=F16), increasing=True).expect_dtype(G.float16).no_grad(),
             Sample(rand(3, dtype=F64), 5).no_grad()],
    errors=[ErrorSample(rand(2, 2), match="x must be a one-dimensional tensor."),
            ErrorSample(rand(), match="x must be a one-dimensional tensor."),
            ErrorSample(rand(3), -1, match="N must be non-negative.")])


# ------------------------------------------------------------------ in-place views
# meta=False: the harness reads the arguments' metas after the call, when these ops have
# already restrided self; tests/test_matrix_shape.py checks their meta rules before.

T_ = OpInfo(
    "aten::t_", meta=False, ref=lambda x: x.T,
    samples=[Sample(g(3, 4)), Sample(g(3)), Sample(g()),
             *[Sample(rand(2, 3, dtype=d)) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(2, 3, 4), match=r"t_\(\) expects a tensor with <= 2 dimensions, "
                        "but self is 3D")])

TRANSPOSE_ = OpInfo(
    "aten::transpose_", meta=False, ref=lambda x, a, b: np.swapaxes(x, a, b) if x.ndim else x,
    samples=[Sample(g(3, 4), 0, 1), Sample(g(2, 3, 4), -1, 0), Sample(g(), 0, -1),
             Sample(rand(2, 3), 1, 1), *[Sample(rand(2, 3, dtype=d), 0, 1) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(2, 1, 4), 0, 5, exc=IndexError, match="Dimension out of range")])


def _squeeze_ref(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    dims = [dim] if isinstance(dim, int) else list(dim)
    return np.squeeze(x, tuple(d % max(x.ndim, 1) for d in dims
                               if x.ndim and x.shape[d % x.ndim] == 1)) if x.ndim else x


SQUEEZE_ = OpInfo(
    "aten::squeeze_", meta=False, ref=_squeeze_ref,
    samples=[Sample(g(3, 1, 4)), Sample(rand(1, 1)), Sample(rand()),
             *[Sample(rand(1, 3, dtype=d)) for d in ALL_DTYPES]])

SQUEEZE_DIM_ = OpInfo(
    "aten::squeeze_.dim", meta=False, ref=_squeeze_ref,
    samples=[Sample(g(3, 1), 0), Sample(rand(3, 1), 1), Sample(rand(), 0)],
    errors=[ErrorSample(rand(3, 1), 2, exc=IndexError, match="Dimension out of range")])

SQUEEZE_DIMS_ = OpInfo(
    "aten::squeeze_.dims", meta=False, ref=_squeeze_ref,
    samples=[Sample(g(1, 3, 1), [0, 2]), *[Sample(rand(1, 3, dtype=d), [0]) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(3, 1), [2], exc=IndexError, match="Dimension out of range")])

UNSQUEEZE_ = OpInfo(
    "aten::unsqueeze_", meta=False, ref=lambda x, d: np.expand_dims(x, d % (x.ndim + 1)),
    samples=[Sample(g(3, 4), 0), Sample(g(3, 4), -1), Sample(g(), 0), Sample(rand(3), 1),
             *[Sample(rand(2, 3, dtype=d), 1) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(3), 3, exc=IndexError, match="Dimension out of range")])

def _resize_ref(x, size):
    n = int(np.prod(size))
    return x.reshape(-1)[:n].reshape(size)      # (only samples that do not grow)


# noncontiguous=False: resize_ reads a non-contiguous self in memory order (PyTorch's
# storage semantics; tests/test_resize.py checks them), not the logical order ref uses
RESIZE_ = OpInfo(
    "aten::resize_", meta=False, ref=_resize_ref, noncontiguous=False,
    samples=[Sample(rand(2, 3), [3, 2]), Sample(rand(2, 3), [6]), Sample(rand(2, 3), [2, 2]),
             Sample(rand(4), [0]), Sample(rand(3), [3]),
             Sample(rand(5), []),
             *[Sample(rand(2, 3, dtype=d), [3, 2]) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(3), [-1, 2], match="Trying to create tensor with negative "
                        "dimension: \\[-1, 2\\]")])

RESIZE_AS_ = OpInfo(
    "aten::resize_as_", meta=False, ref=lambda x, t: _resize_ref(x, t.shape),
    noncontiguous=False,
    samples=[Sample(rand(2, 3), rand(3, 2)), Sample(rand(2, 3), rand(4)),
             *[Sample(rand(2, 3, dtype=d), rand(6, dtype=d)) for d in ALL_DTYPES]])

# (c61: Tensor.set_(source) in traced / scripted code; self becomes a view of source)
SET_SOURCE_TENSOR = OpInfo(
    "aten::set_.source_Tensor", meta=False, ref=lambda x, src: src,
    samples=[Sample(rand(2, 3), rand(4)), Sample(rand(3), rand(2, 2)), Sample(rand(0), rand(3)),
             Sample(rand(3), rand()),
             *[Sample(rand(2, dtype=d), rand(3, dtype=d)) for d in ALL_DTYPES]])

OPINFOS = [DIAGONAL, DIAGONAL_BACKWARD, DIAG_EMBED, DIAG, DIAGFLAT, FILL_DIAGONAL_,
           TRIL_INDICES, TRIU_INDICES, KRON, ROT90, BLOCK_DIAG, MESHGRID, MESHGRID_INDEXING,
           CARTESIAN_PROD, TENSORDOT, CDIST, ADDMV, ADDR, CHAIN_MATMUL, VANDER, T_, TRANSPOSE_,
           SQUEEZE_, SQUEEZE_DIM_, SQUEEZE_DIMS_, UNSQUEEZE_, RESIZE_, RESIZE_AS_,
           SET_SOURCE_TENSOR]
