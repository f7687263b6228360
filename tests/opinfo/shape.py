"""OpInfos of the shape family (gpujit/ops/shape.py, shape_dims.py). References are NumPy
formulas written from PyTorch's documented semantics; where PyTorch and NumPy differ the
reference says so (cat skips 1-D empty inputs, sort puts NaN last ascending / first
descending, split takes a size rather than a number of sections, chunk may return fewer
pieces)."""
from __future__ import annotations

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, ALL_DTYPES

F16, F32, F64, I64, I32, U8, B = (np.float16, np.float32, np.float64, np.int64, np.int32,
                                  np.uint8, np.bool_)


def _ints(v):
    return [v] if isinstance(v, int) else list(v)


# ------------------------------------------------------------------ cat / stack

def _cat_ref(tensors, dim=0):
    parts = [a for a in tensors if a.shape != (0,)]     # PyTorch skips 1-D empty inputs
    return np.concatenate(parts, axis=dim) if parts else np.empty((0,))


CAT = OpInfo(
    "aten::cat", ref=_cat_ref,
    samples=[
        Sample([rand(2, 3), rand(4, 3)]),
        Sample([rand(2, 3), rand(2, 1), rand(2, 2)], 1),
        Sample([rand(2, 3, dtype=F32), rand(2, 1, dtype=F64)], dim=-1).expect_dtype(G.float64),
        Sample([rand(2, 3, dtype=I32), rand(2, 2, dtype=F16)], 1).expect_dtype(G.float16),
        Sample([rand(3, dtype=B), rand(2, dtype=U8)]).expect_dtype(G.uint8),
        Sample([rand(3, dtype=I64), rand(2, dtype=I32)]).expect_dtype(G.int64),
        Sample([rand(0), rand(2, 3), rand(1, 3)]),           # the 1-D empty one is skipped
        Sample([rand(0, 3), rand(2, 3)]),
        Sample([rand(0), rand(0, dtype=F64)]).expect_dtype(G.float64),
        Sample((rand(2, 2, 2),), dim=2),
    ],
    errors=[
        ErrorSample([], exc=ValueError, match="non-empty list"),     # (torch 2.13: ValueError)
        ErrorSample([rand(2, 3), rand(2, 4)], match="Sizes of tensors must match except in "
                                                    "dimension 0. Expected size 3 but got "
                                                    "size 4 for tensor number 1"),
        ErrorSample([rand(2, 3), rand(3)], match="same number of dimensions"),
        ErrorSample([rand(), rand(2)], match="zero-dimensional tensor"),
        ErrorSample([rand(2, 3)], 2, exc=IndexError, match="Dimension out of range"),
    ])

STACK = OpInfo(
    "aten::stack", ref=lambda ts, dim=0: np.stack(ts, axis=dim),
    samples=[
        Sample([rand(2, 3), rand(2, 3), rand(2, 3)]),
        Sample([rand(2, 3), rand(2, 3)], 2),
        Sample([rand(2, 3), rand(2, 3)], dim=-1),
        Sample([rand(3, dtype=I32), rand(3, dtype=F64)], 0).expect_dtype(G.float64),
        Sample([rand(), rand()]),
        Sample([rand(0, 2)], 1),
        Sample([rand(4, dtype=B), rand(4, dtype=B)], 1),
    ],
    errors=[
        ErrorSample([], match="non-empty TensorList"),
        ErrorSample([rand(2), rand(3)], match=r"equal size, but got \[2\] at entry 0 and "
                                              r"\[3\] at entry 1"),
        ErrorSample([rand(2)], 3, exc=IndexError),
    ])


def _stack_info(name, fn):
    return OpInfo(
        f"aten::{name}", ref=lambda ts: fn(ts),
        samples=[
            Sample([rand(3), rand(3)]),
            Sample([rand(2, 3), rand(2, 3, dtype=F64)]).expect_dtype(G.float64),
            Sample([rand(), rand()]),
            Sample([rand(2, 3, 4), rand(2, 3, 4, dtype=I32)]),
            Sample([rand(2, 1), rand(2, 1)]),
        ],
        errors=[ErrorSample([], match="non-empty")])


HSTACK = _stack_info("hstack", np.hstack)
VSTACK = _stack_info("vstack", np.vstack)
DSTACK = _stack_info("dstack", np.dstack)
COLUMN_STACK = _stack_info("column_stack", np.column_stack)


# ------------------------------------------------------------------ split / chunk / unbind

def _split_ref(x, split_size, dim=0):
    n = x.shape[dim]
    return np.split(x, list(range(split_size, n, split_size)) if split_size else [], axis=dim)


SPLIT = OpInfo(
    "aten::split.Tensor", ref=_split_ref,
    samples=[
        Sample(rand(5, 3), 2), Sample(rand(6, 3), 3), Sample(rand(4, 7), 3, 1),
        Sample(rand(4, 7, dtype=I32), 10, dim=-1), Sample(rand(0, 3), 2),
        Sample(rand(0, 3), 0), Sample(rand(3, dtype=B), 1),
    ],
    errors=[
        ErrorSample(rand(3), -1, match="non-negative"),
        ErrorSample(rand(3), 0, match="split_size can only be 0 if dimension size is 0"),
        ErrorSample(rand(), 1, match="at least a 1-dimensional"),
    ])

SPLIT_WITH_SIZES = OpInfo(
    "aten::split_with_sizes",
    ref=lambda x, sizes, dim=0: np.split(x, np.cumsum(sizes)[:-1], axis=dim),
    samples=[
        Sample(rand(5, 3), [2, 3]), Sample(rand(5, 3), [1, 0, 2], 1),
        Sample(rand(4, 6, dtype=I64), [6], dim=-1), Sample(rand(3), [3, 0]),
    ],
    errors=[
        ErrorSample(rand(5), [2, 2], match=r"sum exactly to 5 \(input tensor's size at "
                                           r"dimension 0\), but got split_sizes=\[2, 2\]"),
        ErrorSample(rand(5), [6, -1], match="non-negative"),
    ])


def _chunk_ref(x, chunks, dim=0):
    n = x.shape[dim]
    if n == 0:
        return [x] * chunks
    step = -(-n // chunks)
    return np.split(x, list(range(step, n, step)), axis=dim)


CHUNK = OpInfo(
    "aten::chunk", ref=_chunk_ref,
    samples=[
        Sample(rand(6, 2), 3), Sample(rand(5, 2), 3), Sample(rand(6, 2), 4),   # 4 -> 3 pieces
        Sample(rand(2, 7, dtype=U8), 2, 1), Sample(rand(2, 7), 10, dim=-1),
        Sample(rand(0, 2), 3),
    ],
    errors=[
        ErrorSample(rand(3), 0, match="greater than 0, got: 0"),
        ErrorSample(rand(), 2, match="at least a 1-dimensional"),
    ])

UNBIND = OpInfo(
    "aten::unbind.int",
    ref=lambda x, dim=0: [np.take(x, i, axis=dim) for i in range(x.shape[dim])],
    samples=[Sample(rand(3, 4)), Sample(rand(3, 4), 1), Sample(rand(2, 3, 2, dtype=I32), -1),
             Sample(rand(0, 3)), Sample(rand(3, dtype=B))],
    errors=[ErrorSample(rand(), exc=IndexError, match="no dimensions"),
            ErrorSample(rand(3), 1, exc=IndexError)])


# ------------------------------------------------------------------ flip / roll

FLIP = OpInfo(
    "aten::flip", ref=lambda x, dims: np.flip(x, axis=tuple(_ints(dims))) if x.ndim else x,
    samples=[Sample(rand(3, 4), [0]), Sample(rand(3, 4), [0, 1]), Sample(rand(2, 3, 4), [-1, 0]),
             Sample(rand(3, 4, dtype=I32), [1]), Sample(rand(3, 4), []),
             Sample(rand(), [0]), Sample(rand(0, 3), [0]), Sample(rand(5, dtype=B), [0])],
    errors=[ErrorSample(rand(3, 4), [0, 0], match="dim 0 appears multiple times"),
            ErrorSample(rand(3, 4), [2], exc=IndexError),
            # (an int for its unsized int[]: torch 2.13's parser refuses it)
            ErrorSample(rand(3, 4), 1, exc=TypeError, match=r"flip\(\): argument 'dims' "
                        r"\(position 2\) must be tuple of ints, not int")])


def _roll_ref(x, shifts, dims=()):
    dims = _ints(dims)
    if not dims:
        return np.roll(x.reshape(-1), _ints(shifts)[0]).reshape(x.shape)
    return np.roll(x, _ints(shifts), axis=dims)


ROLL = OpInfo(
    "aten::roll", ref=_roll_ref,
    samples=[Sample(rand(3, 4), 1), Sample(rand(3, 4), -5), Sample(rand(3, 4), 2, 1),
             Sample(rand(3, 4, 2), [1, -2], [0, 2]), Sample(rand(3, 4, dtype=I64), (7,), (-1,)),
             Sample(rand(), 3), Sample(rand(0, 2), 1, 1), Sample(rand(4, dtype=B), 1, 0)],
    errors=[ErrorSample(rand(3, 4), [1, 2], [0], match="shifts and dimensions must align"),
            ErrorSample(rand(3, 4), [1, 2], match="shifts and dimensions must align"),
            ErrorSample(rand(3), [], match="shifts"),
            ErrorSample(rand(3, 4), 1, 3, exc=IndexError)])


# ------------------------------------------------------------------ sort / argsort / topk

def _order(x, axis, descending):
    """Stable order with NaN as the largest value (PyTorch), via lexsort on explicit keys."""
    v = x.astype(np.float64)
    nan = np.isnan(v)
    v = np.where(nan, 0.0, v)
    if descending:
        return np.lexsort((-v, ~nan), axis=axis)
    return np.lexsort((v, nan), axis=axis)


def _sort_ref(x, dim=-1, descending=False, stable=None):
    if x.ndim == 0:
        return x, np.array(0)
    idx = _order(x, dim, descending)
    return np.take_along_axis(x, idx, axis=dim), idx


def _with_nan(*shape):
    a = rand(*shape, dtype=F32)
    a.reshape(-1)[::4] = np.nan
    return a


def _sort_samples(stable_kw):
    kw = {"stable": True} if stable_kw else {}
    out = [Sample(rand(4, 5), **kw), Sample(rand(4, 5), **kw, dim=0),
           Sample(rand(4, 5), **kw, descending=True),
           Sample(rand(3, 6, dtype=I32, low=0, high=3), **kw, dim=1, descending=True),
           Sample(rand(3, 6, dtype=U8, low=0, high=3), **kw, descending=True),
           Sample(rand(9, dtype=B), **kw), Sample(rand(9, dtype=B), **kw, descending=True),
           Sample(_with_nan(3, 5), **kw), Sample(_with_nan(3, 5), **kw, descending=True),
           Sample(rand(**{}), **kw), Sample(rand(0, 3), **kw), Sample(rand(4, 4, dtype=F16), **kw)]
    for d in ALL_DTYPES:
        out.append(Sample(rand(2, 7, dtype=d), **kw, dim=-1, descending=True))
    return out


SORT = OpInfo("aten::sort", ref=_sort_ref, samples=lambda: _sort_samples(False),
              errors=[ErrorSample(rand(3), 1, exc=IndexError)])
SORT_STABLE = OpInfo("aten::sort.stable", ref=_sort_ref, samples=lambda: _sort_samples(True),
                     errors=[ErrorSample(rand(3), stable=True, dim=2, exc=IndexError)])
ARGSORT = OpInfo("aten::argsort", ref=lambda x, **kw: _sort_ref(x, **kw)[1],
                 samples=lambda: _sort_samples(False))
ARGSORT_STABLE = OpInfo("aten::argsort.stable", ref=lambda x, **kw: _sort_ref(x, **kw)[1],
                        samples=lambda: _sort_samples(True))


def _topk_ref(x, k, dim=-1, largest=True, sorted=True):
    if x.ndim == 0:
        return x, np.array(0)
    idx = np.take(_order(x, dim, largest), np.arange(k), axis=dim)
    return np.take_along_axis(x, idx, axis=dim), idx


def _topk_check(sample, out):
    """sorted=True: the reference's order (PyTorch's, stable where the samples tie);
    sorted=False: PyTorch's CPU order is std::nth_element's (tests/test_eager_fidelity_s34
    pins it), so the same values as the reference's, each at its index."""
    x, *rest = sample.args
    kw = dict(sample.kwargs)
    want_v, want_i = _topk_ref(np.asarray(x), *rest, **kw)
    got_v, got_i = (np.asarray(t.numpy()) for t in out)
    d = rest[1] if len(rest) > 1 else kw.get("dim", -1)
    if kw.get("sorted", True):
        np.testing.assert_array_equal(got_v, want_v)
        v = want_v[~np.isnan(want_v)] if want_v.dtype.kind == "f" else want_v
        if np.unique(v).size == v.size:
            np.testing.assert_array_equal(got_i, want_i)
        else:       # (tied values: PyTorch's order among them is its sort's, not stable)
            np.testing.assert_array_equal(np.take_along_axis(np.asarray(x), got_i, axis=d),
                                          got_v)
        return
    np.testing.assert_array_equal(np.sort(got_v, axis=d), np.sort(want_v, axis=d))
    np.testing.assert_array_equal(np.take_along_axis(np.asarray(x), got_i, axis=d), got_v)


TOPK = OpInfo(
    "aten::topk", check=_topk_check,
    samples=[Sample(rand(4, 6), 2), Sample(rand(4, 6), 3, 0), Sample(rand(4, 6), 2, largest=False),
             Sample(rand(5, dtype=I64, low=-100, high=100), 5), Sample(rand(5), 0),
             Sample(_with_nan(3, 8), 3), Sample(rand(), 1), Sample(rand(2, 5, dtype=F16), 1, -1),
             Sample(rand(2, 5, dtype=U8), 4, dim=1, largest=True, sorted=False)],
    errors=[ErrorSample(rand(3), 4, match="selected index k out of range"),
            ErrorSample(rand(3), -1, match="selected index k out of range")])


# ------------------------------------------------------------------ repeat / tile / interleave

def _tile_ref(x, reps):
    """Broadcast formula: shape (1, s0, 1, s1, ...) broadcast to (r0, s0, r1, s1, ...)."""
    reps = list(reps)
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    inter = [v for s in shape for v in (1, s)]
    target = [v for r, s in zip(reps, shape) for v in (r, s)]
    out = np.broadcast_to(x.reshape(inter), target)
    return out.reshape([r * s for r, s in zip(reps, shape)])


REPEAT = OpInfo(
    "aten::repeat", ref=_tile_ref,
    samples=[Sample(rand(2, 3), [2, 2]), Sample(rand(2, 3), [1, 1]), Sample(rand(3), [2, 1, 3]),
             Sample(rand(2, 3, dtype=I32), (3, 1)), Sample(rand(), [4]), Sample(rand(2), [0]),
             Sample(rand(0, 2), [2, 2]), Sample(rand(3, dtype=B), [2])],
    errors=[ErrorSample(rand(2, 3), [2], match="can not be smaller than number of dimensions"),
            ErrorSample(rand(2), [-1], match="negative dimension")])

TILE = OpInfo(
    "aten::tile",
    ref=lambda x, dims: _tile_ref(x, [1] * (x.ndim - len(_ints(dims))) + _ints(dims)),
    samples=[Sample(rand(2, 3), [2]), Sample(rand(2, 3), [2, 2]), Sample(rand(3), [2, 2]),
             Sample(rand(2, 3, dtype=U8), (1,)), Sample(rand(), [3]), Sample(rand(2, 2), [])])


def _ri_ref(x, repeats, dim=None):
    a = x.reshape(-1) if dim is None else (x.reshape(1) if x.ndim == 0 else x)
    d = 0 if dim is None else dim % a.ndim
    reps = [repeats] * a.shape[d] if isinstance(repeats, int) else (
        list(repeats.reshape(-1)) * (a.shape[d] if repeats.size == 1 else 1))
    idx = np.array([i for i, r in enumerate(reps) for _ in range(int(r))], dtype=np.int64)
    return np.take(a, idx, axis=d)


RI_INT = OpInfo(
    "aten::repeat_interleave.self_int", ref=_ri_ref,
    samples=[Sample(rand(2, 3), 2), Sample(rand(2, 3), 3, 1), Sample(rand(2, 3, dtype=I32), 2, -2),
             Sample(rand(), 3), Sample(rand(3), 0), Sample(rand(0, 2), 2, 0)],
    errors=[ErrorSample(rand(3), -1, match="negative")])

RI_TENSOR = OpInfo(
    "aten::repeat_interleave.self_Tensor", ref=_ri_ref,
    samples=[Sample(rand(3, 2), np.array([1, 0, 2]), 0), Sample(rand(2, 2), np.array([3]), 1),
             Sample(rand(4), np.array([1, 2, 0, 1])), Sample(rand(2, 2, dtype=B), np.array([2]))],
    errors=[ErrorSample(rand(3), np.array([1, 2]), 0, match="same size as input along dim"),
            ErrorSample(rand(2), np.array([1.0, 2.0]), 0,
                        match="repeat_interleave_cpu\" not implemented for .Double."),
            ErrorSample(rand(2), np.array([1, -2]), 0, match="negative")])

RI_COUNTS = OpInfo(
    "aten::repeat_interleave.Tensor",
    ref=lambda r: np.array([i for i, n in enumerate(r) for _ in range(int(n))], dtype=np.int64),
    samples=[Sample(np.array([1, 0, 3])), Sample(np.array([2], dtype=np.int32)),
             Sample(np.zeros(0, dtype=np.int64))],
    errors=[ErrorSample(np.array([[1]]), match="1D")])


# ------------------------------------------------------------------ broadcasting

EXPAND_AS = OpInfo(
    "aten::expand_as", ref=lambda x, other: np.broadcast_to(x, other.shape),
    samples=[Sample(rand(3, 1), rand(3, 4)), Sample(rand(4), rand(2, 4)), Sample(rand(), rand(2)),
             Sample(rand(1, dtype=I32), rand(0, dtype=F32))],
    errors=[ErrorSample(rand(3), rand(4), match=r"expanded size of the tensor \(4\) must match")])

BROADCAST_TO = OpInfo(
    "aten::broadcast_to", ref=lambda x, size: np.broadcast_to(
        x, [x.shape[i - (len(size) - x.ndim)] if s == -1 else s for i, s in enumerate(size)]),
    samples=[Sample(rand(3, 1), [3, 4]), Sample(rand(3, 1), (2, 3, 5)), Sample(rand(3), [-1]),
             Sample(rand(1, 3, dtype=B), [2, -1]), Sample(rand(), [2, 2])],
    errors=[ErrorSample(rand(3), [4]), ErrorSample(rand(2, 3), [3])])

BROADCAST_TENSORS = OpInfo(
    "aten::broadcast_tensors", ref=lambda ts: np.broadcast_arrays(*ts),
    samples=[Sample([rand(3, 1), rand(4)]), Sample([rand(2, 1, 3, dtype=I32), rand(), rand(5, 1)]),
             Sample([rand(2)])],
    errors=[ErrorSample([rand(3), rand(4)], match=r"size of tensor a \(3\) must match")])


# ------------------------------------------------------------------ tril / triu

def _tri_ref(upper):
    def ref(x, diagonal=0):
        i = np.arange(x.shape[-2])[:, None]
        j = np.arange(x.shape[-1])[None, :]
        keep = (j - i >= diagonal) if upper else (j - i <= diagonal)
        return np.where(keep, x, np.zeros((), x.dtype))
    return ref


def _tri_samples():
    out = [Sample(rand(4, 4)), Sample(rand(4, 5), 1), Sample(rand(5, 3), -1),
           Sample(rand(2, 3, 4), diagonal=2), Sample(rand(3, 3), 10), Sample(rand(3, 3), -10),
           Sample(rand(0, 3))]
    out += [Sample(rand(3, 4, dtype=d), 0) for d in ALL_DTYPES]
    return out


def _tri_info(name, upper):
    return OpInfo(f"aten::{name}", ref=_tri_ref(upper), samples=_tri_samples,
                  errors=[ErrorSample(rand(3), match=f"{name.rstrip('_')}: input tensor must "
                                                     f"have at least 2 dimensions")])


TRIL, TRIU = _tri_info("tril", False), _tri_info("triu", True)
TRIL_, TRIU_ = _tri_info("tril_", False), _tri_info("triu_", True)


# ------------------------------------------------------------------ dim moves

def _movedim_info(name):
    return OpInfo(
        name, ref=lambda x, s, d: np.moveaxis(x, s, d) if x.ndim else x,
        samples=([Sample(rand(2, 3, 4), 0, 2), Sample(rand(2, 3, 4), -1, 0),
                  Sample(rand(2, 3, dtype=I32), 1, 1), Sample(rand(), 0, 0)]
                 if name.endswith(".int") else
                 [Sample(rand(2, 3, 4), [0, 1], [2, 0]), Sample(rand(2, 3, 4, 5), [3], [0]),
                  Sample(rand(2, 3), [], []), Sample(rand(2, 3, 4), (-1, 0), (0, -1))]),
        errors=([ErrorSample(rand(2, 3), 2, 0, exc=IndexError)] if name.endswith(".int") else
                [ErrorSample(rand(2, 3), [0, 1], [0], match="same number of dims"),
                 ErrorSample(rand(2, 3), [0, 0], [0, 1], match="repeated dim in `source`"),
                 ErrorSample(rand(2, 3), [0, 1], [1, 1], match="repeated dim in `destination`")]))


MOVEDIM = [_movedim_info(n) for n in ("aten::movedim.int", "aten::movedim.intlist",
                                      "aten::moveaxis.int", "aten::moveaxis.intlist")]


def _swap_info(name):
    return OpInfo(f"aten::{name}", ref=lambda x, a, b: np.swapaxes(x, a, b) if x.ndim else x,
                  samples=[Sample(rand(2, 3), 0, 1), Sample(rand(2, 3, 4), -1, 0),
                           Sample(rand(2, 3, dtype=B), 1, 1), Sample(rand(), 0, -1)],
                  errors=[ErrorSample(rand(2, 3), 0, 2, exc=IndexError)])


SWAPS = [_swap_info("swapaxes"), _swap_info("swapdims")]


def _atleast_info(n, fn):
    return OpInfo(f"aten::atleast_{n}d", ref=fn,
                  samples=[Sample(rand()), Sample(rand(3)), Sample(rand(2, 3)),
                           Sample(rand(2, 3, 4, dtype=I32)), Sample(rand(1, 2, 3, 4))])


def _atleast_seq_info(n, fn):
    # (torch.atleast_2d(x, y) / ([x, y]): the Sequence overload, a list of results)
    return OpInfo(f"aten::atleast_{n}d.Sequence", ref=lambda ts: [fn(t) for t in ts],
                  samples=[Sample([rand(), rand(3), rand(2, 3)]),
                           Sample([rand(2, 3, 4, dtype=I32), rand(1, 2, 3, 4)]), Sample([])])


ATLEAST = [_atleast_info(1, np.atleast_1d), _atleast_info(2, np.atleast_2d),
           _atleast_info(3, np.atleast_3d), _atleast_seq_info(1, np.atleast_1d),
           _atleast_seq_info(2, np.atleast_2d), _atleast_seq_info(3, np.atleast_3d)]

OPINFOS = [CAT, STACK, HSTACK, VSTACK, DSTACK, COLUMN_STACK, SPLIT, SPLIT_WITH_SIZES, CHUNK,
           UNBIND, FLIP, ROLL, SORT, SORT_STABLE, ARGSORT, ARGSORT_STABLE, TOPK, REPEAT, TILE,
           RI_INT, RI_TENSOR, RI_COUNTS, EXPAND_AS, BROADCAST_TO, BROADCAST_TENSORS,
           TRIL, TRIU, TRIL_, TRIU_, *MOVEDIM, *SWAPS, *ATLEAST]
