"""OpInfos of the view ops (gpujit/ops/views.py). References are NumPy reshapes/transposes
with PyTorch's rules written out: -1 is inferred, size-1 dims expand, squeeze(dim) leaves
non-1 dims alone, select/narrow/slice wrap negative positions, 0-dim tensors accept dim 0
and -1. That the results share memory is tested in tests/test_tensor.py."""
from __future__ import annotations

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, ALL_DTYPES

F32, I64, B = np.float32, np.int64, np.bool_


def _infer(shape, n):
    shape = list(shape)
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        shape[shape.index(-1)] = n // known
    return shape


VIEW = OpInfo(
    "aten::view", ref=lambda x, size: x.reshape(_infer(size, x.size)),
    noncontiguous=False,     # view of a non-contiguous tensor is an error case, tested below
    samples=[Sample(rand(2, 6), [3, 4]), Sample(rand(2, 6), [-1]), Sample(rand(2, 6), (4, -1)),
             Sample(rand(1), []), Sample(rand(), [1, 1]), Sample(rand(0, 3), [3, 0, 5]),
             *[Sample(rand(2, 3, dtype=d), [6, 1]) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(2, 6), [5], match=r"shape '\[5\]' is invalid for input of size 12"),
            ErrorSample(rand(2, 6), [-1, -1], match="only one dimension can be inferred"),
            ErrorSample(rand(2, 6), [-2, 6], match="invalid shape dimension -2"),
            ErrorSample(rand(0, 3), [3, 0, -1],
                        match="cannot reshape tensor of 0 elements into shape \\[3, 0, -1\\] "
                              "because the unspecified dimension size -1 can be any value "
                              "and is ambiguous"),
            ErrorSample(np.ascontiguousarray(rand(4, 3)).T, [12],
                        match=r"view size is not compatible.*Use .reshape\(...\) instead")])

def _view_dtype_check(sample, out):
    """NumPy's view of the sample's own bytes (the reference's arguments are upcast)."""
    x, dtype = sample.args
    if x.ndim and x.strides[-1] != x.itemsize and x.shape[-1] == 1:
        x = np.lib.stride_tricks.as_strided(x, x.shape, x.strides[:-1] + (x.itemsize,))
    want = x.view(dtype.np)
    got = out.numpy()
    assert got.dtype == want.dtype and got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_array_equal(got.reshape(-1).view(np.uint8), want.reshape(-1).view(np.uint8))


VIEW_DTYPE = OpInfo(
    "aten::view.dtype", ref=None, check=_view_dtype_check,
    noncontiguous=False,     # a last dim of stride != 1 is an error case, below
    samples=[Sample(rand(2, 6), G.int32), Sample(rand(2, 6), G.float16),
             Sample(rand(2, 6), G.float64), Sample(rand(3, 4, dtype=np.int16), G.uint8),
             Sample(rand(), G.int32),
             Sample(rand(4, 3).T, G.int32), Sample(rand(4, 1)[::2], G.int16),
             Sample(rand(4, dtype=np.uint8), G.bool),
             *[Sample(rand(2, 8, dtype=d), G.uint8) for d in ALL_DTYPES]],
    errors=[ErrorSample(rand(), G.int16, match="self.dim\\(\\) cannot be 0 to view Float "
                        "as Short"),
            ErrorSample(rand(2, 3), G.float64, match="self.size\\(-1\\) must be divisible "
                        "by 2 to view Float as Double"),
            ErrorSample(rand(4, 3).T, G.int16, match="self.stride\\(-1\\) must be 1 to view "
                        "Float as Short"),
            # (an empty NumPy array's strides are all 0, which from_numpy keeps, as torch's:
            # its view as a narrower dtype is refused there too)
            ErrorSample(rand(0, 4), G.int16, match="self.stride\\(-1\\) must be 1 to view "
                        "Float as Short \\(different element sizes\\), but got 0")])

RESHAPE = OpInfo(
    "aten::reshape", ref=lambda x, shape: x.reshape(_infer(shape, x.size)),
    samples=[Sample(rand(2, 6), [3, 4]), Sample(rand(2, 6), [-1]), Sample(rand(4, 3).T, [12]),
             Sample(rand(), []), Sample(rand(0, 4), [2, 0, 2]),
             Sample(rand(2, 3, dtype=I64), [3, 2]),
             Sample(rand(3, dtype=B), (1, 3, 1))],
    errors=[ErrorSample(rand(2, 6), [7], match="invalid for input of size 12")])

# (ATen's _unsafe_view: reshape's last step where it copies; not bound as torch.<name>)
UNSAFE_VIEW = OpInfo(
    "aten::_unsafe_view", ref=lambda x, size: x.reshape(_infer(size, x.size)),
    noncontiguous=False,     # (view's strides rule, as aten::view's)
    samples=[Sample(rand(2, 6), [3, 4]), Sample(rand(2, 6), [-1]), Sample(rand(), []),
             Sample(rand(0, 4), [2, 0, 2]), Sample(rand(2, 3, dtype=I64), [3, 2])],
    errors=[ErrorSample(rand(2, 6), [7], match="invalid for input of size 12"),
            ErrorSample(np.ascontiguousarray(rand(4, 3)).T, [12],
                        match=r"view size is not compatible.*Use .reshape\(...\) instead")])


VIEW_AS = OpInfo(
    "aten::view_as", ref=lambda x, other: x.reshape(other.shape), noncontiguous=False,
    samples=[Sample(rand(2, 6), rand(3, 4)), Sample(rand(1), rand()), Sample(rand(0, 3), rand(3, 0)),
             Sample(rand(2, 3, dtype=I64), rand(6, dtype=F32))],
    errors=[ErrorSample(rand(2, 6), rand(5), match=r"shape '\[5\]' is invalid for input of size 12"),
            ErrorSample(rand(4, 3).T, rand(12), match="view size is not compatible")])

RESHAPE_AS = OpInfo(
    "aten::reshape_as", ref=lambda x, other: x.reshape(other.shape),
    samples=[Sample(rand(2, 6), rand(3, 4)), Sample(rand(4, 3).T, rand(12)), Sample(rand(), rand(1)),
             Sample(rand(3, dtype=B), rand(1, 3, 1))],
    errors=[ErrorSample(rand(2, 6), rand(7), match="invalid for input of size 12")])


def _flatten_ref(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (-1 if x.size else int(np.prod(x.shape[s:e + 1])),)
                     + x.shape[e + 1:])


FLATTEN = OpInfo(
    "aten::flatten.using_ints", ref=_flatten_ref,
    samples=[Sample(rand(2, 3, 4)), Sample(rand(2, 3, 4), 1), Sample(rand(2, 3, 4), 0, 1),
             Sample(rand(2, 3, 4, 5), start_dim=1, end_dim=-2), Sample(rand()), Sample(rand(5)),
             Sample(rand(2, 0, 3), 1), Sample(rand(2, 3, dtype=B), 1, 1)],
    errors=[ErrorSample(rand(2, 3, 4), 2, 1, match="start_dim cannot come after end_dim"),
            ErrorSample(rand(2, 3), 3, exc=IndexError)])

PERMUTE = OpInfo(
    "aten::permute", ref=lambda x, dims: np.transpose(x, dims),
    samples=[Sample(rand(2, 3, 4), [2, 0, 1]), Sample(rand(2, 3, 4), (-1, 1, 0)),
             Sample(rand(2, 3), [0, 1]), Sample(rand(), []),
             Sample(rand(2, 0, 3, dtype=I64), [1, 2, 0])],
    errors=[ErrorSample(rand(2, 3), [0, 0], match="duplicate dims are not allowed"),
            ErrorSample(rand(2, 3), [0], match=r"input.dim\(\) = 2 is not equal to "
                                               r"len\(dims\) = 1"),
            ErrorSample(rand(2, 3), [0, 2], exc=IndexError)])

TRANSPOSE = OpInfo(
    "aten::transpose.int", ref=lambda x, a, b: np.swapaxes(x, a, b) if x.ndim else x,
    samples=[Sample(rand(2, 3), 0, 1), Sample(rand(2, 3, 4), -1, 0), Sample(rand(2, 3), 1, 1),
             Sample(rand(), 0, -1), Sample(rand(3, 4, dtype=B), 1, 0)],
    errors=[ErrorSample(rand(2, 3), 0, 2, exc=IndexError, match="Dimension out of range")])

T = OpInfo(
    "aten::t", ref=lambda x: x.T,
    samples=[Sample(rand(2, 3)), Sample(rand(3)), Sample(rand()), Sample(rand(4, 1, dtype=I64))],
    errors=[ErrorSample(rand(2, 3, 4), match="expects a tensor with <= 2 dimensions")])


def _expand_ref(x, size, implicit=False):
    lead = len(size) - x.ndim
    return np.broadcast_to(x, [x.shape[i - lead] if s == -1 else s for i, s in enumerate(size)])


EXPAND = OpInfo(
    "aten::expand", ref=_expand_ref,
    samples=[Sample(rand(3, 1), [3, 4]), Sample(rand(3, 1), [2, 3, 5]), Sample(rand(3), [-1]),
             Sample(rand(1, 3), [4, -1]), Sample(rand(), [2, 3]), Sample(rand(1), [0]),
             Sample(rand(3, 1, dtype=I64), (2, 3, 2), implicit=True)],
    errors=[ErrorSample(rand(3), [4], match=r"expanded size of the tensor \(4\) must match the "
                                            r"existing size \(3\) at non-singleton dimension 0"),
            ErrorSample(rand(2, 3), [3], match="number of sizes provided"),
            ErrorSample(rand(3), [-1, 3], match="The expanded size of the tensor \\(-1\\) isn't "
                                                 "allowed in a leading, non-existing "
                                                 "dimension 0")])


def _squeeze_ref(x, dim=None):
    if dim is None:
        return x.reshape([s for s in x.shape if s != 1])
    dims = {d % max(x.ndim, 1) for d in ([dim] if isinstance(dim, int) else dim)}
    return x.reshape([s for i, s in enumerate(x.shape) if not (i in dims and s == 1)])


SQUEEZE = OpInfo(
    "aten::squeeze", ref=_squeeze_ref,
    samples=[Sample(rand(1, 3, 1)), Sample(rand()), Sample(rand(1, 0, 1)),
             Sample(rand(1, 1, dtype=B))])

SQUEEZE_DIM = OpInfo(
    "aten::squeeze.dim", ref=_squeeze_ref,
    samples=[Sample(rand(1, 3, 1), 0), Sample(rand(1, 3, 1), 1), Sample(rand(), 0),
             Sample(rand(1, 1, dtype=B), -1)],
    errors=[ErrorSample(rand(1, 3), 2, exc=IndexError), ErrorSample(rand(), 1, exc=IndexError)])

SQUEEZE_DIMS = OpInfo(
    "aten::squeeze.dims", ref=_squeeze_ref,
    samples=[Sample(rand(1, 3, 1), [0, -1]), Sample(rand(1, 3, 1), dim=[]),
             Sample(rand(1, 0, 1), [0, 2]), Sample(rand(1, 1, dtype=B), [1])],
    errors=[ErrorSample(rand(1, 3), [2], exc=IndexError)])

UNSQUEEZE = OpInfo(
    "aten::unsqueeze", ref=lambda x, dim: np.expand_dims(x, dim % (x.ndim + 1)),
    samples=[Sample(rand(2, 3), 0), Sample(rand(2, 3), 2), Sample(rand(2, 3), -1),
             Sample(rand(2, 3), -3), Sample(rand(), 0), Sample(rand(0, dtype=I64), 1)],
    errors=[ErrorSample(rand(2, 3), 3, exc=IndexError), ErrorSample(rand(2), -3, exc=IndexError)])


def _narrow_ref(x, dim, start, length):
    d = dim % x.ndim
    start = start + x.shape[d] if start < 0 else start
    return np.take(x, np.arange(start, start + length), axis=d)


NARROW = OpInfo(
    "aten::narrow", ref=_narrow_ref,
    samples=[Sample(rand(5, 3), 0, 1, 3), Sample(rand(5, 3), 1, 0, 2),
             Sample(rand(5, 3), -1, -2, 2), Sample(rand(5, 3), 0, 5, 0), Sample(rand(5, 3), 0, -5, 5),
             Sample(rand(4, dtype=I64), 0, 2, 2)],
    errors=[ErrorSample(rand(5), 0, 3, 3, match=r"start \(3\) \+ length \(3\) exceeds dimension "
                                                r"size \(5\)"),
            ErrorSample(rand(5), 0, 6, 0, exc=IndexError, match="start out of range"),
            ErrorSample(rand(5), 0, -6, 1, exc=IndexError, match="start out of range"),
            ErrorSample(rand(5), 0, 0, -1, match="length must be non-negative"),
            ErrorSample(rand(), 0, 0, 1, match="cannot be applied to a 0-dim tensor")])

# narrow with a Tensor start (the overload PyTorch's parser picks for any Tensor start):
# a 0-dim integral tensor only (errors checked against torch 2.13)
NARROW_TENSOR = OpInfo(
    "aten::narrow.Tensor", ref=lambda x, dim, start, length: _narrow_ref(x, dim, int(start), length),
    samples=[Sample(rand(5, 3), 0, np.array(1), 3), Sample(rand(5, 3), 1, np.array(0, np.int32), 2),
             Sample(rand(5, 3), -1, np.array(-2), 2), Sample(rand(5, 3), 0, np.array(5), 0),
             Sample(rand(4, dtype=I64), 0, np.array(2, np.uint8), 2)],
    errors=[ErrorSample(rand(5), 0, np.array(3), 3,
                        match=r"start \(3\) \+ length \(3\) exceeds dimension size \(5\)"),
            ErrorSample(rand(5), 0, np.array([1]), 2, match="start must be an 0-dim integral Tensor"),
            ErrorSample(rand(5), 0, np.array(1.0), 2, match="start must be an 0-dim integral Tensor"),
            ErrorSample(rand(5), 0, np.array(True), 2,
                        match="start must be an 0-dim integral Tensor")])

SELECT = OpInfo(
    "aten::select.int", ref=lambda x, dim, index: np.take(x, index, axis=dim),
    samples=[Sample(rand(3, 4), 0, 1), Sample(rand(3, 4), 1, -1), Sample(rand(2, 3, 4), -2, 2),
             Sample(rand(3), 0, 2), Sample(rand(3, 0), 0, 0), Sample(rand(2, 2, dtype=B), 1, 0)],
    errors=[ErrorSample(rand(3, 4), 0, 3, exc=IndexError,
                        match=r"select\(\): index 3 out of range for tensor of size \[3, 4\] "
                              r"at dimension 0"),
            ErrorSample(rand(3, 4), 1, -5, exc=IndexError, match="out of range"),
            ErrorSample(rand(), 0, 0, exc=IndexError, match="0-dim tensor"),
            ErrorSample(rand(3), 1, 0, exc=IndexError, match="Dimension out of range")])


def _slice_ref(x, dim=0, start=None, end=None, step=1):
    idx = [slice(None)] * x.ndim
    idx[dim % x.ndim] = slice(start, end, step)
    return x[tuple(idx)]


SLICE = OpInfo(
    "aten::slice.Tensor", ref=_slice_ref,
    samples=[Sample(rand(6, 3)), Sample(rand(6, 3), 0, 1, 4), Sample(rand(6, 3), 0, 1, None, 2),
             Sample(rand(6, 3), 1, -2), Sample(rand(6, 3), 0, -100, 100, 3),
             Sample(rand(6, 3), 0, 4, 2), Sample(rand(6, 3), dim=-1, start=None, end=-1),
             Sample(rand(5, dtype=I64), 0, 0, 5, 10)],
    errors=[ErrorSample(rand(5), 0, None, None, -1, exc=RuntimeError,
                        match="^slice step must be positive$"),       # (torch 2.13's aten::slice)
            ErrorSample(rand(5), 0, None, None, 0, exc=RuntimeError,
                        match="^slice step must be positive$")])


def _unfold_ref(x, dimension, size, step):
    if x.ndim == 0:
        return x.reshape(1)[:size]
    d = dimension % x.ndim
    n = (x.shape[d] - size) // step + 1
    windows = [np.take(x, np.arange(i * step, i * step + size), axis=d) for i in range(n)]
    # windows: n arrays with `size` along d; stack at d, then move that window axis last
    out = np.stack(windows, axis=d) if n else np.zeros(
        x.shape[:d] + (0,) + x.shape[d + 1:] + (size,), x.dtype)
    return np.moveaxis(out, d + 1, -1) if n else out


UNFOLD = OpInfo(
    "aten::unfold", ref=_unfold_ref,
    samples=[Sample(rand(7), 0, 2, 1), Sample(rand(7), 0, 3, 2), Sample(rand(4, 7), 1, 7, 1),
             Sample(rand(4, 7), 0, 2, 3), Sample(rand(3, 5, 2), -2, 2, 2), Sample(rand(), 0, 1, 1),
             Sample(rand(4, dtype=I64), 0, 0, 1), Sample(rand(3, 4), 1, 4, 5)],
    errors=[ErrorSample(rand(3), 0, 4, 1, match="maximum size for tensor at dimension 0 is 3 "
                                                "but size is 4"),
            ErrorSample(rand(3), 0, 2, 0, match="step is 0 but must be > 0")])

OPINFOS = [VIEW, VIEW_DTYPE, RESHAPE, UNSAFE_VIEW, VIEW_AS, RESHAPE_AS, FLATTEN, PERMUTE, TRANSPOSE, T, EXPAND, SQUEEZE, SQUEEZE_DIM, SQUEEZE_DIMS,
           UNSQUEEZE, NARROW, NARROW_TENSOR,
           SELECT, SLICE, UNFOLD]
