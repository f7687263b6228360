"""OpInfos of the index-driven shape ops (gpujit/ops/shape_index.py and shape_select.py):
gather, scatter*, index_select/fill/add, take, take_along_dim, masked_select, nonzero.
References build the full coordinate grid with np.indices and index with it (no
take_along_axis), and accumulate duplicates with np.add.at / np.multiply.at."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand, ALL_DTYPES

F16, F32, F64, I64, I32, U8, B = (np.float16, np.float32, np.float64, np.int64, np.int32,
                                  np.uint8, np.bool_)
_rng = np.random.default_rng(77)


def idx(high, *shape, dtype=I64):
    return _rng.integers(0, high, size=shape).astype(dtype)


def perm_index(n, *shape, dim=0):
    """Indices without duplicates along dim (scatter without reduce is then deterministic)."""
    out = np.empty(shape, dtype=I64)
    moved = np.moveaxis(out, dim, -1)
    for pos in np.ndindex(moved.shape[:-1]):
        moved[pos] = _rng.permutation(n)[:moved.shape[-1]]
    return out


def _grid(index, dim):
    g = list(np.indices(index.shape)) if index.ndim else []
    if not index.ndim:
        return (index,)
    g[dim] = index
    return tuple(g)


# ------------------------------------------------------------------ gather

def _gather_ref(x, dim, index, sparse_grad=False):
    if x.ndim == 0:
        return x.reshape(1)[index]
    return x[_grid(index, dim % x.ndim)]


GATHER = OpInfo(
    "aten::gather", ref=_gather_ref,
    samples=[
        Sample(rand(3, 4), 1, idx(4, 3, 2)), Sample(rand(3, 4), 0, idx(3, 5, 4)),
        Sample(rand(3, 4, 5), -1, idx(5, 2, 3, 7)), Sample(rand(4, 4, dtype=I32), 0, idx(4, 2, 2)),
        Sample(rand(3, 4, dtype=B), 1, idx(4, 3, 4)),
        Sample(rand(3, 4, dtype=F16), 1, idx(4, 1, 1)),
        Sample(rand(), 0, np.array(0)), Sample(rand(3, 4), 1, idx(4, 0, 2)),
        Sample(rand(3, 4), 0, idx(3, 2, 2), sparse_grad=False),
    ],
    errors=[
        ErrorSample(rand(3, 4), 1, idx(4, 3, 2, dtype=np.int16),
                    match="Expected dtype int32/int64"),
        ErrorSample(rand(3, 4), 1, idx(4, 3), match="same number of dimensions"),
        ErrorSample(rand(3, 4), 1, idx(4, 4, 2), match="Size does not match at dimension 0"),
        ErrorSample(rand(3, 4), 1, np.array([[0, 4]]), match="index 4 is out of bounds for "
                                                              "dimension 1 with size 4"),
        ErrorSample(rand(3, 4), 0, np.array([[-1]]), match="out of bounds"),
    ])


# ------------------------------------------------------------------ scatter

def _scatter_ref(x, dim, index, src, reduce=None):
    out = x.copy()
    if index.size == 0:
        return out
    if x.ndim == 0:
        out, index = out.reshape(1), index.reshape(1)
        src = np.asarray(src).reshape(1) if np.ndim(src) == 0 else src
    g = _grid(index, dim % out.ndim)
    vals = src[tuple(slice(0, n) for n in index.shape)] if isinstance(src, np.ndarray) and \
        src.ndim else np.full(index.shape, src)
    if reduce is None:
        out[g] = vals
    elif reduce == "add":
        np.add.at(out, g, vals)
    else:
        np.multiply.at(out, g, vals)
    return out.reshape(x.shape)


def _scatter_samples(kind, reduce, pass_reduce=True):
    """kind: 'src' or 'value'; reduce: None, 'add', 'multiply' (then duplicates allowed)."""
    def val(shape, dtype=F32):
        return rand(*shape, dtype=dtype) if kind == "src" else 1.5 if dtype != B else True

    kw = {"reduce": reduce} if reduce and pass_reduce else {}
    dup = reduce is not None
    out = [
        Sample(rand(3, 5), 0, idx(3, 2, 5) if dup else perm_index(3, 2, 5), val((2, 5)), **kw),
        Sample(rand(3, 5), 1, idx(5, 3, 4) if dup else perm_index(5, 3, 4, dim=1), val((3, 6)),
               **kw),
        Sample(rand(4, 3, 2), -1, idx(2, 2, 3, 2) if dup else perm_index(2, 2, 3, 2, dim=2),
               val((4, 3, 2)), **kw),
        Sample(rand(3, 4, dtype=I64), 0, idx(3, 2, 4) if dup else perm_index(3, 2, 4),
               val((2, 4), I64) if kind == "src" else 7, **kw),
        Sample(rand(3, 4, dtype=F64), 1, idx(4, 3, 0), val((3, 1), F64), **kw),
        Sample(rand(dtype=F32), 0, np.array(0), val((), F32), **kw),
    ]
    if kind == "value" and not reduce:
        out.append(Sample(rand(5, dtype=U8), 0, np.array([1, 3]), -1))       # wraps to 255
        out.append(Sample(rand(4, dtype=B), 0, np.array([0, 2]), True))
    if reduce == "add":
        out.append(Sample(rand(4, dtype=I32), 0, np.array([1, 1, 1, 3]),
                          rand(4, dtype=I32) if kind == "src" else 2, **kw))
    return out


def _scatter_errors(kind, name, kw):
    v = rand(2, 4) if kind == "src" else 1.0
    errs = [ErrorSample(rand(3, 3), 0, idx(3, 2, 2, dtype=np.int16), v,
                        match="Expected dtype int32/int64", **kw),
            ErrorSample(rand(3, 3), 0, idx(3, 2, 4), v, match="to be smaller than self", **kw),
            ErrorSample(rand(3, 3), 0, np.array([[5]]), v if kind == "value" else rand(1, 1),
                        match="index 5 is out of bounds for dimension 0 with size 3", **kw)]
    if kind == "src":
        errs += [ErrorSample(rand(3, 3), 0, idx(3, 2, 2), rand(2, 2, dtype=F64),
                             match=f"{name}\\(\\): Expected self.dtype to be equal to src.dtype",
                             **kw),
                 ErrorSample(rand(3, 3), 0, idx(3, 2, 3), rand(2, 2),
                             match="smaller size than src", **kw)]
    return errs


def _scatter_info(name, overload, kind, reduce_kw):
    qual = f"aten::{name}.{overload}" if overload else f"aten::{name}"
    fixed = "add" if name.startswith("scatter_add") else None

    def samples():
        if reduce_kw:
            return _scatter_samples(kind, "add") + _scatter_samples(kind, "multiply")
        return _scatter_samples(kind, fixed, pass_reduce=False)

    errors = _scatter_errors(kind, name, {"reduce": "add"} if reduce_kw else {})
    if reduce_kw:
        errors.append(ErrorSample(rand(3, 3), 0, idx(3, 2, 2),
                                  rand(2, 2) if kind == "src" else 1.0, reduce="max",
                                  match="reduce argument must be either add or multiply"))
    ref = (lambda *a, **k: _scatter_ref(*a, reduce=fixed, **k)) if fixed else _scatter_ref
    return OpInfo(qual, ref=ref, samples=samples, errors=errors)


SCATTERS = []
for _n in ("scatter", "scatter_"):
    SCATTERS += [_scatter_info(_n, "src", "src", False), _scatter_info(_n, "value", "value", False),
                 _scatter_info(_n, "reduce", "src", True),
                 _scatter_info(_n, "value_reduce", "value", True)]
SCATTERS += [_scatter_info("scatter_add", "", "src", False),
             _scatter_info("scatter_add_", "", "src", False)]


# ------------------------------------------------------------------ index_select / fill / add

def _along(x, dim, index):
    return (slice(None),) * (dim % max(x.ndim, 1)) + (index,)


INDEX_SELECT = OpInfo(
    "aten::index_select",
    ref=lambda x, dim, index: x.reshape(1)[index.reshape(-1)].reshape(()) if x.ndim == 0
    else x[_along(x, dim, index.reshape(-1))],
    samples=[Sample(rand(4, 3), 0, np.array([3, 0, 0])), Sample(rand(4, 3), 1, np.array([2])),
             Sample(rand(2, 3, 4, dtype=I32), -1, np.array([1, 3], dtype=I32)),
             Sample(rand(4, 3), 0, np.zeros(0, dtype=I64)), Sample(rand(4, 3), 1, np.array(1)),
             Sample(rand(), 0, np.array([0])), Sample(rand(5, dtype=B), 0, np.array([4, 0]))],
    errors=[ErrorSample(rand(4, 3), 0, np.array([4]), exc=IndexError, match="index out of range"),
            ErrorSample(rand(4, 3), 0, np.array([-1]), exc=IndexError, match="out of range"),
            ErrorSample(rand(4, 3), 0, np.array([[0]]), exc=IndexError, match="vector"),
            ErrorSample(rand(4, 3), 0, np.array([0.0]), match="int32 or int64"),
            ErrorSample(rand(), 0, np.array([0, 0]), exc=IndexError, match="only 1 value")])


def _index_fill_ref(x, dim, index, value):
    out = x.copy().reshape(x.shape or (1,))
    out[_along(out, dim, index.reshape(-1))] = value
    return out.reshape(x.shape)


def _index_fill_info(name, overload):
    def v(val, dtype=F32):
        return np.array(val, dtype=dtype) if overload == "int_Tensor" else val
    return OpInfo(
        f"aten::{name}.{overload}", ref=_index_fill_ref,
        samples=[Sample(rand(4, 3), 0, np.array([0, 2]), v(-1.5)),
                 Sample(rand(4, 3), 1, np.array([2, 2]), v(3.0)),
                 Sample(rand(2, 3, 4, dtype=I64), -1, np.array(1), v(9, I64)),
                 Sample(rand(4, 3), 0, np.zeros(0, dtype=I64), v(1.0)),
                 Sample(rand(3, dtype=B), 0, np.array([1]), v(True, B)),
                 Sample(rand(), 0, np.array([0]), v(4.0))],
        errors=[ErrorSample(rand(4, 3), 0, np.array([4]), v(1.0), exc=IndexError),
                ErrorSample(rand(4, 3), 0, np.array([0], dtype=I32), v(1.0), exc=IndexError,
                            match="Expected dtype int64"),
                # (torch 2.13: a RuntimeError, "Index has to be a vector/scalar": d61)
                ErrorSample(rand(4, 3), 0, np.array([[0]]), v(1.0), exc=RuntimeError,
                            match="^Index has to be a vector/scalar$")])


INDEX_FILLS = [_index_fill_info(n, o) for n in ("index_fill", "index_fill_")
               for o in ("int_Scalar", "int_Tensor")]


def _index_add_ref(x, dim, index, source, alpha=1):
    out = x.copy().reshape(x.shape or (1,))
    np.add.at(out, _along(out, dim, index.reshape(-1)), alpha * source.reshape(
        source.shape or (1,)))
    return out.reshape(x.shape)


def _index_add_info(name):
    return OpInfo(
        f"aten::{name}", ref=_index_add_ref,
        samples=[Sample(rand(4, 3), 0, np.array([0, 2, 0]), rand(3, 3)),
                 Sample(rand(4, 3), 1, np.array([1, 1]), rand(4, 2), alpha=2),
                 Sample(rand(2, 3, dtype=I64), 0, np.array([1, 1, 1], dtype=I32),
                        rand(3, 3, dtype=I64)),
                 Sample(rand(3, 4, dtype=F64), -1, np.zeros(0, dtype=I64), rand(3, 0, dtype=F64)),
                 Sample(rand(), 0, np.array([0]), rand()),
                 Sample(rand(4, dtype=I32), 0, np.array([3, 3]), rand(2, dtype=I32), alpha=-1)],
        # (PyTorch's index_func_meta_impl: RuntimeErrors, as its kernel's bounds check)
        errors=[ErrorSample(rand(4, 3), 0, np.array([0, 1]), rand(3, 3),
                            match=r"^index_add_\(\): Number of indices \(2\) should be equal "
                                  r"to source.size\(dim\): \(3\), for dim: 0$"),
                ErrorSample(rand(4, 3), 0, np.array([0]), rand(1, 3, dtype=F64),
                            match="must have the same scalar type"),
                ErrorSample(rand(4, 3), 0, np.array([4]), rand(1, 3),
                            match="^index 4 is out of bounds for dimension 0 with size 4$"),
                ErrorSample(rand(4, 3), 0, np.array([0]), rand(1, 2),
                            match=r"^source tensor shape must match self tensor shape, "
                                  r"excluding the specified dimension. Got self.shape = "
                                  r"\[4, 3\] source.shape = \[1, 2\]$")])


INDEX_ADDS = [_index_add_info("index_add"), _index_add_info("index_add_")]


# ------------------------------------------------------------------ take / take_along_dim

TAKE = OpInfo(
    "aten::take", ref=lambda x, index: x.reshape(-1)[index],
    samples=[Sample(rand(3, 4), np.array([0, 11, -1, 5])), Sample(rand(3, 4), np.array([[1, 2]])),
             Sample(rand(5, dtype=I32), np.array(2)), Sample(rand(), np.array([0, 0])),
             Sample(rand(3), np.zeros((0, 2), dtype=I64))],
    errors=[ErrorSample(rand(3), np.array([3]), exc=IndexError, match="out of range"),
            ErrorSample(rand(3), np.array([-4]), exc=IndexError, match="out of range"),
            ErrorSample(rand(3), np.array([0], dtype=I32),
                        match="Expected a long tensor for index, but got Int")])


def _tad_ref(x, indices, dim=None):
    if dim is None:
        return x.reshape(-1)[indices.reshape(-1)]
    if x.ndim == 0:
        return x
    d = dim % x.ndim
    # broadcast everything but dim, then gather with an explicit grid
    s = list(x.shape)
    s[d] = indices.shape[d]
    ib = np.broadcast_to(indices, np.broadcast_shapes(tuple(s), indices.shape))
    t = list(indices.shape)
    t[d] = x.shape[d]
    xb = np.broadcast_to(x, np.broadcast_shapes(tuple(t), x.shape))
    return xb[_grid(ib, d)]


TAKE_ALONG_DIM = OpInfo(
    "aten::take_along_dim", ref=_tad_ref,
    samples=[Sample(rand(3, 4), idx(4, 3, 2), 1), Sample(rand(3, 4), idx(3, 1, 4), 0),
             Sample(rand(3, 1), idx(3, 1, 5), 0), Sample(rand(3, 4), idx(12, 5)),
             Sample(rand(2, 3, 4, dtype=I32), idx(3, 2, 2, 1), dim=-2),
             Sample(rand(3, 4), idx(4, 2, 2), None)],
    errors=[ErrorSample(rand(3, 4), idx(4, 3), 1, match="same number of dimensions"),
            ErrorSample(rand(3, 4), idx(4, 3, 2, dtype=I32), 1, match="should be Long"),
            ErrorSample(rand(3, 4), np.array([[4]]), 1, match="out of bounds")])


# ------------------------------------------------------------------ masked_select / nonzero

def _masked_select_ref(x, mask):
    xb, mb = np.broadcast_arrays(x, mask)
    return xb[mb]


MASKED_SELECT = OpInfo(
    "aten::masked_select", ref=_masked_select_ref,
    samples=[Sample(rand(3, 4), rand(3, 4, dtype=B)), Sample(rand(3, 4), rand(4, dtype=B)),
             Sample(rand(4), rand(3, 1, dtype=B)), Sample(rand(3, dtype=I64), np.zeros(3, B)),
             Sample(rand(), np.array(True)), Sample(rand(0, 2), rand(2, dtype=B))],
    errors=[ErrorSample(rand(3), rand(3, dtype=U8), match="expected BoolTensor"),
            ErrorSample(rand(3), rand(4, dtype=B), match="must match")])


def _masked_scatter_ref(x, mask, source):
    xb, mb = np.broadcast_arrays(x, mask)
    out = xb.copy()
    out[mb] = source.reshape(-1)[:int(mb.sum())]
    return out


_MS_SAMPLES = [Sample(rand(3, 4), rand(3, 4, dtype=B), rand(12)),
               Sample(rand(3, 4), rand(4, dtype=B), rand(4, 5)),
               Sample(rand(3, 4, dtype=I64), rand(3, 4, dtype=B), rand(2, 6, dtype=I64)),
               Sample(rand(2, 3, dtype=B), rand(2, 3, dtype=B), rand(7, dtype=B)),
               Sample(rand(), np.array(True), rand(1)),
               Sample(rand(0, 2), rand(2, dtype=B), rand(0)),
               Sample(rand(3, 2), np.zeros((3, 2), B), rand(0))]
_MS_ERRORS = [ErrorSample(rand(3), rand(3, dtype=U8), rand(3),
                          match="masked_scatter_ only supports boolean masks, but got mask "
                                "with dtype Byte"),
              ErrorSample(rand(3), rand(3, dtype=B), rand(3, dtype=np.float64),
                          match="masked_scatter: expected self and source to have same "
                                "dtypes but gotFloat and Double"),
              ErrorSample(rand(3), np.ones(3, B), rand(2),
                          match="Number of elements of source < number of ones in mask")]
MASKED_SCATTER = OpInfo(
    "aten::masked_scatter", ref=_masked_scatter_ref,
    samples=_MS_SAMPLES + [Sample(rand(4), rand(3, 1, dtype=B), rand(12))],
    errors=_MS_ERRORS + [ErrorSample(rand(3), rand(4, dtype=B), rand(4), match="must match")])
MASKED_SCATTER_ = OpInfo(
    "aten::masked_scatter_", ref=_masked_scatter_ref, samples=_MS_SAMPLES,
    errors=_MS_ERRORS + [ErrorSample(rand(3), rand(2, 3, dtype=B), rand(6),
                                     match="the number of sizes provided")])


def _nonzero_ref(x):
    if x.ndim == 0:
        return np.zeros((1, 0) if x != 0 else (0, 0), dtype=I64)
    return np.stack(np.nonzero(x), axis=1) if x.size else np.zeros((0, x.ndim), dtype=I64)


def _nonzero_samples():
    out = [Sample(rand(3, 4, dtype=d, low=-1, high=1)) for d in ALL_DTYPES]
    out += [Sample(rand(6)), Sample(rand(2, 3, 4, dtype=B)), Sample(np.array(0.0)),
            Sample(np.array(2)), Sample(rand(0, 3)), Sample(np.zeros((2, 2)))]
    return out


NONZERO = OpInfo("aten::nonzero", ref=_nonzero_ref, samples=_nonzero_samples)
ARGWHERE = OpInfo("aten::argwhere", ref=_nonzero_ref, samples=_nonzero_samples)
NONZERO_NUMPY = OpInfo("aten::nonzero_numpy",
                       ref=lambda x: [i.astype(I64) for i in np.nonzero(np.atleast_1d(x))],
                       samples=_nonzero_samples)

OPINFOS = [GATHER, *SCATTERS, INDEX_SELECT, *INDEX_FILLS, *INDEX_ADDS, TAKE, TAKE_ALONG_DIM,
           MASKED_SELECT, MASKED_SCATTER, MASKED_SCATTER_, NONZERO, ARGWHERE, NONZERO_NUMPY]


OPINFOS.append(OpInfo(
    "aten::where", ref=lambda c: tuple(np.nonzero(np.atleast_1d(c))),
    samples=[Sample(np.array([[True, False], [False, True]])), Sample(np.array([0., 1., 2.])),
             Sample(np.array(True)), Sample(np.zeros((0, 3), np.bool_))]))
