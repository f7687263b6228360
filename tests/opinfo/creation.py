"""OpInfos of the factory ops (gpujit/ops/creation.py). Factories take no tensors (the
*_like ones take one for its shape/dtype/device): the reference builds the expected array
from the arguments. PyTorch's dtype rules: a float fill / float arange bound gives the
default dtype, an int fill gives int64, a bool fill bool; a fill wraps into small int types."""
from __future__ import annotations

import math

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, ALL_DTYPES

F16, F32, F64, I64, I32, U8, B = (np.float16, np.float32, np.float64, np.int64, np.int32,
                                  np.uint8, np.bool_)
_GD = {np.dtype(d): getattr(G, np.dtype(d).name) for d in ALL_DTYPES}


def _np(dtype, default=F32):
    return np.dtype(default) if dtype is None else dtype.np


def _const_info(name, value):
    def ref(size, dtype=None, **kw):
        return np.full(size, value, dtype=_np(dtype))
    return OpInfo(
        f"aten::{name}", ref=ref,
        samples=[Sample([2, 3]).expect_dtype(G.float32), Sample([]), Sample([0, 4]),
                 Sample((5,), dtype=G.int64).expect_dtype(G.int64),
                 Sample([2], dtype=G.bool, device="cpu").expect_dtype(G.bool),
                 *[Sample([2, 2], dtype=_GD[np.dtype(d)]).expect_dtype(_GD[np.dtype(d)])
                   for d in ALL_DTYPES]])


ZEROS = _const_info("zeros", 0)
ONES = _const_info("ones", 1)


def _check_empty(sample, out):
    size = sample.args[0]
    assert tuple(out.shape) == tuple(size)
    assert out.dtype is (sample.kwargs.get("dtype") or G.get_default_dtype())


EMPTY = OpInfo("aten::empty.memory_format", check=_check_empty,
               samples=[Sample([2, 3]), Sample([]), Sample([0]), Sample([4], dtype=G.int32)])


def _fill_ref(size, fill_value, dtype=None, **kw):
    if dtype is None:
        dt = np.dtype(B if isinstance(fill_value, bool) else
                      I64 if isinstance(fill_value, int) else F32)
    else:
        dt = dtype.np
    with np.errstate(all="ignore"):
        v = np.asarray(fill_value).astype(dt)
    return np.full(size, v, dtype=dt)


FULL = OpInfo(
    "aten::full", ref=_fill_ref,
    samples=[Sample([2, 3], 1.5).expect_dtype(G.float32), Sample([2], 3).expect_dtype(G.int64),
             Sample([2], True).expect_dtype(G.bool), Sample([], -2.0),
             Sample([3], -1, dtype=G.uint8).expect_dtype(G.uint8),
             Sample([2, 2], 2.7, dtype=G.int32).expect_dtype(G.int32),
             Sample([2], float("inf")), Sample([0, 3], 1, dtype=G.float16)])


def _like_ref(value):
    def ref(x, dtype=None, **kw):
        return np.full(x.shape, value, dtype=x.dtype if dtype is None else dtype.np)
    return ref


def _like_samples(fill=()):
    out = [Sample(rand(2, 3, dtype=d), *fill).expect_dtype(_GD[np.dtype(d)])
           for d in ALL_DTYPES]
    out += [Sample(rand(), *fill), Sample(rand(0, 2), *fill),
            Sample(rand(2, 3), *fill, dtype=G.int64).expect_dtype(G.int64),
            Sample(rand(3, dtype=I32), *fill, dtype=G.float64, device="cpu")
            .expect_dtype(G.float64),
            Sample(rand(4, 3).T, *fill)]
    return out


ZEROS_LIKE = OpInfo("aten::zeros_like", ref=_like_ref(0), samples=_like_samples)
ONES_LIKE = OpInfo("aten::ones_like", ref=_like_ref(1), samples=_like_samples)


def _check_empty_like(sample, out):
    x = sample.args[0]
    assert tuple(out.shape) == x.shape
    assert out.dtype is (sample.kwargs.get("dtype") or _GD[x.dtype])


EMPTY_LIKE = OpInfo("aten::empty_like", check=_check_empty_like, samples=_like_samples)


def _full_like_ref(x, fill_value, dtype=None, **kw):
    dt = x.dtype if dtype is None else dtype.np
    with np.errstate(all="ignore"):
        return np.full(x.shape, np.asarray(fill_value).astype(dt), dtype=dt)


FULL_LIKE = OpInfo(
    "aten::full_like", ref=_full_like_ref,
    samples=lambda: _like_samples((1,)) + [Sample(rand(3), 2.5), Sample(rand(3, dtype=I32), 2.5),
                                           Sample(rand(2, dtype=U8), -1),
                                           Sample(rand(2), 7, dtype=G.bool)])


def _new_ref(value):
    def ref(x, size, *fill, dtype=None, **kw):
        dt = x.dtype if dtype is None else dtype.np
        v = fill[0] if fill else value
        with np.errstate(all="ignore"):
            return np.full(size, np.asarray(v).astype(dt), dtype=dt)
    return ref


def _new_samples(fill=()):
    # the size is the argument's; dtype (and device) are self's unless given
    out = [Sample(rand(2, 3, dtype=d), [3, 1], *fill).expect_dtype(_GD[np.dtype(d)])
           for d in ALL_DTYPES]
    out += [Sample(rand(), [], *fill), Sample(rand(2), [0, 2], *fill),
            Sample(rand(2, 3), [4], *fill, dtype=G.int64).expect_dtype(G.int64),
            Sample(rand(3, dtype=I32), [2, 2], *fill, dtype=G.float64, device="cpu")
            .expect_dtype(G.float64)]
    return out


NEW_ZEROS = OpInfo("aten::new_zeros", ref=_new_ref(0), samples=_new_samples)
NEW_ONES = OpInfo("aten::new_ones", ref=_new_ref(1), samples=_new_samples)
NEW_FULL = OpInfo("aten::new_full", ref=_new_ref(None),
                  samples=lambda: _new_samples((2,)) + [Sample(rand(2, dtype=U8), [3], -1)])


def _check_new_empty(sample, out):
    x, size = sample.args[:2]
    assert tuple(out.shape) == tuple(size)
    assert out.dtype is (sample.kwargs.get("dtype") or _GD[x.dtype])


NEW_EMPTY = OpInfo("aten::new_empty", check=_check_new_empty, samples=_new_samples)


def _arange_ref(start, end, step=1, dtype=None, **kw):
    n = max(0, math.ceil((end - start) / step))
    vals = [start + i * step for i in range(n)]
    if dtype is None:
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end, step))
        dt = np.dtype(I64 if ints else F32)
    else:
        dt = dtype.np
    return np.array(vals, dtype=np.float64).astype(dt) if vals else np.zeros(0, dt)


ARANGE = OpInfo(
    "aten::arange.start_step", ref=_arange_ref,
    samples=[Sample(0, 5).expect_dtype(G.int64), Sample(2, 11, 3), Sample(5, 0, -1),
             Sample(0, 1, 0.1).expect_dtype(G.float32), Sample(0.5, 2).expect_dtype(G.float32),
             Sample(-1, 1, 0.25, dtype=G.float64).expect_dtype(G.float64),
             Sample(0, 10, 3, dtype=G.float16), Sample(3, 3), Sample(0, 6, 2, dtype=G.int32)],
    errors=[ErrorSample(0, 5, 0, match="step must be nonzero"),
            ErrorSample(0, 5, -1, match="inconsistent with step sign")])


def _linspace_ref(start, end, steps, dtype=None, **kw):
    return np.linspace(start, end, steps, dtype=np.float64)


LINSPACE = OpInfo(
    "aten::linspace", ref=_linspace_ref,
    samples=[Sample(0, 1, 5).expect_dtype(G.float32), Sample(-2, 2, 1), Sample(0, 1, 0),
             Sample(3, -3, 7, dtype=G.float64).expect_dtype(G.float64), Sample(0, 10, 11)],
    errors=[ErrorSample(0, 1, -1, match="non-negative")])

EYE = OpInfo(
    "aten::eye.m", ref=lambda n, m, dtype=None, **kw: np.eye(n, m, dtype=_np(dtype)),
    samples=[Sample(3, 3).expect_dtype(G.float32), Sample(2, 4), Sample(4, 2), Sample(0, 3),
             Sample(3, 3, dtype=G.int64).expect_dtype(G.int64), Sample(2, 2, dtype=G.bool)])

EYE_N = OpInfo(     # (torch.eye(n): aten::eye, s48)
    "aten::eye", ref=lambda n, dtype=None, **kw: np.eye(n, n, dtype=_np(dtype)),
    samples=[Sample(3).expect_dtype(G.float32), Sample(0), Sample(1),
             Sample(3, dtype=G.int64).expect_dtype(G.int64), Sample(2, dtype=G.bool)])

ARANGE_END = OpInfo(
    "aten::arange", ref=lambda end, dtype=None, **kw: _arange_ref(0, end, 1, dtype),
    samples=[Sample(5).expect_dtype(G.int64), Sample(2.5).expect_dtype(G.float32),
             Sample(0), Sample(4, dtype=G.float64).expect_dtype(G.float64)],
    errors=[ErrorSample(-2, match="inconsistent with step sign")])

ARANGE_START = OpInfo(
    "aten::arange.start", ref=lambda start, end, dtype=None, **kw: _arange_ref(start, end, 1,
                                                                              dtype),
    samples=[Sample(0, 5).expect_dtype(G.int64), Sample(0.5, 2).expect_dtype(G.float32),
             Sample(3, 3), Sample(-2, 4, dtype=G.float64).expect_dtype(G.float64)],
    errors=[ErrorSample(5, 0, match="inconsistent with step sign")])


def _tensor_info(name, kind, samples):
    """torch.tensor / torch.as_tensor of a number or a list of numbers (scripted code)."""
    inferred = {"float": F32, "int": I64, "bool": B}[kind]

    def ref(t, dtype=None, **kw):
        return np.asarray(t, dtype=_np(dtype, inferred))
    return OpInfo(f"aten::{name}", ref=ref, samples=samples)


TENSOR_OPS = [
    _tensor_info(f"{fn}.{kind}{suffix}", kind, samples)
    for fn in ("tensor", "as_tensor")
    for kind, suffix, samples in [
        ("float", "", [Sample(2.5).expect_dtype(G.float32), Sample(1.0, dtype=G.float64)]),
        ("int", "", [Sample(3).expect_dtype(G.int64), Sample(3, dtype=G.float32)]),
        ("bool", "", [Sample(True).expect_dtype(G.bool)]),
        ("float", "_list", [Sample([1.0, -2.5]).expect_dtype(G.float32), Sample([])]),
        ("int", "_list", [Sample([1, 2, 3]).expect_dtype(G.int64),
                          Sample([4], dtype=G.int32).expect_dtype(G.int32)]),
        ("bool", "_list", [Sample([True, False]).expect_dtype(G.bool)])]]

def _nested_ref(data, dtype=None, requires_grad=False):
    flat = np.asarray(data).ravel().tolist()
    inferred = B if flat and all(isinstance(v, bool) for v in flat) else \
        I64 if flat and all(isinstance(v, int) for v in flat) else F32
    return np.asarray(data, dtype=_np(dtype, inferred))


# TorchScript's aten::tensor(t[] data, ...) of a nested list (graphs parsed from IR text)
TENSOR_NESTED = OpInfo(
    "aten::tensor", ref=_nested_ref,
    samples=[Sample([[1, 2], [3, 4]]).expect_dtype(G.int64),
             Sample([[[1.5], [2.0]]]).expect_dtype(G.float32),
             Sample([[True], [False]]).expect_dtype(G.bool),
             Sample([[1, 2]], dtype=G.float64).expect_dtype(G.float64),
             # (requires_grad is the schema's, as TorchScript's: torch 2.13 takes it)
             Sample([[1.0], [2.5]], requires_grad=True).expect_dtype(G.float32)],
    errors=[ErrorSample([[1, 2], [3]], match="Expected sequence of length 2 at dim 1"),
            ErrorSample([[1, 2]], requires_grad=True, match="Only Tensors of floating point "
                        "and complex dtype can require gradients")])

# aten::as_tensor.list(t[] data, ...): scripted torch.as_tensor of a nested list variable
AS_TENSOR_NESTED = OpInfo(
    "aten::as_tensor.list", ref=lambda data, dtype=None: _nested_ref(data, dtype),
    samples=[Sample([[1, 2], [3, 4]]).expect_dtype(G.int64),
             Sample([[[1.5], [2.0]]]).expect_dtype(G.float32),
             Sample([[True], [False]]).expect_dtype(G.bool),
             Sample([[1, 2]], dtype=G.float64).expect_dtype(G.float64)],
    errors=[ErrorSample([[1, 2], [3]], match="Expected sequence of length 2 at dim 1")])

OPINFOS = [*TENSOR_OPS, TENSOR_NESTED, AS_TENSOR_NESTED, ARANGE_END, ARANGE_START, ZEROS, ONES, EMPTY, FULL, ZEROS_LIKE, ONES_LIKE, EMPTY_LIKE, FULL_LIKE, NEW_ZEROS, NEW_ONES, NEW_EMPTY, NEW_FULL, ARANGE,
           LINSPACE, EYE, EYE_N]
