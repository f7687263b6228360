"""Edge shapes of registry ops (session 25, helper g25): 0-size and 0-dim tensors, size-1
dims, non-dense views and swapped dtypes, as PyTorch answers them.

Found by a differential sweep over the registry's OpInfo samples against PyTorch (each
sample's tensors made 0-size along one dim, 0-dim, size-1, transposed, strided, expanded,
cast to other dtypes; results, dtypes, shapes, errors and the gradients of the 0-size and
0-dim variants compared). Expected values here are NumPy or written out."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F


# ------------------------------------------------------------ random ops on 0-dim tensors

@pytest.mark.parametrize("seed", range(4))
def test_dropout_0dim_requires_grad(seed):
    # the eager body's result of a 0-dim input is a NumPy scalar: stashing the keep mask
    # for backward took a weak reference to it (TypeError)
    x = gpujit.tensor(2.0, requires_grad=True)
    gpujit.manual_seed(seed)
    y = F.dropout(x, 0.3, True)
    assert y.shape == ()
    y.backward()
    kept = float(y) != 0.0
    assert float(x.grad) == pytest.approx(1 / 0.7 if kept else 0.0)
    assert float(y) == pytest.approx(2.0 / 0.7 if kept else 0.0)


def test_rrelu_0dim_requires_grad():
    x = gpujit.tensor(-2.0, requires_grad=True)
    gpujit.manual_seed(0)
    y = F.rrelu(x, training=True)
    y.backward()
    slope = float(x.grad)
    assert 1 / 8 <= slope <= 1 / 3
    assert float(y) == pytest.approx(-2.0 * slope)


# ------------------------------------------------------------ linalg.vecdot

@pytest.mark.parametrize("xs,ys", [((), (2, 3)), ((2, 3), ()), ((2, 1), (1, 3)), ((3,), (2, 3)),
                                   ((), ())])
def test_vecdot_broadcast_grad(xs, ys):
    # a 0-dim / size-1 operand: the other's gradient was left at the small shape
    # ("a gradient of shape [1] does not fit the input shape [4]")
    a = np.linspace(-1, 1, int(np.prod(xs))).reshape(xs)
    b = np.linspace(0.5, 2, int(np.prod(ys))).reshape(ys)
    x = gpujit.tensor(a, requires_grad=True)
    y = gpujit.tensor(b, requires_grad=True)
    gpujit.linalg.vecdot(x, y).sum().backward()
    ab, bb = np.broadcast_arrays(a, b)

    def down(g, shape):      # sum a broadcast gradient back to an input's shape
        while g.ndim > len(shape):
            g = g.sum(0)
        return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True) \
            if shape else g
    np.testing.assert_allclose(x.grad.numpy(), down(bb, xs).reshape(xs), atol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), down(ab, ys).reshape(ys), atol=1e-12)


def test_vecdot_float16():
    # PyTorch's vecdot takes float16 (a product sum, no LAPACK), accumulating in float32
    x = gpujit.full((1000,), 0.1, dtype=gpujit.float16)
    out = gpujit.linalg.vecdot(x, gpujit.ones(1000, dtype=gpujit.float16))
    assert out.dtype is gpujit.float16
    expected = float(np.float16(np.float32(np.float16(0.1)) * 1000))
    assert float(out) == pytest.approx(expected, rel=1e-3)
    with pytest.raises(RuntimeError, match="Expected a floating point"):
        gpujit.linalg.vecdot(gpujit.ones(3, dtype=gpujit.int32), gpujit.ones(3, dtype=gpujit.int32))


# ------------------------------------------------------------ cat family, pixel_unshuffle

@pytest.mark.parametrize("fn", ["cat", "hstack"])
def test_cat_grad_of_skipped_empty_input(fn):
    # cat skips 1-D empty inputs; their gradient is an empty tensor (PyTorch), not None
    x = gpujit.zeros(0, requires_grad=True)
    y = gpujit.ones(2, 3, requires_grad=True) if fn == "cat" else gpujit.ones(3, requires_grad=True)
    getattr(gpujit, fn)([x, y]).sum().backward()
    assert x.grad is not None and tuple(x.grad.shape) == (0,)
    np.testing.assert_array_equal(y.grad.numpy(), np.ones(tuple(y.shape)))


@pytest.mark.parametrize("shape", [(1, 0, 4, 6), (0, 2, 4, 6), (2, 3, 0, 6)])
def test_pixel_unshuffle_zero_size_keeps_shape(shape):
    # PyTorch returns a 0-size input's clone (pixel_shuffle reshapes as usual)
    x = gpujit.zeros(*shape, requires_grad=True)
    y = F.pixel_unshuffle(x, 2)
    assert tuple(y.shape) == shape
    y.sum().backward()
    assert tuple(x.grad.shape) == shape
    assert tuple(F.pixel_shuffle(gpujit.zeros(1, 0, 4, 6), 2).shape) == (1, 0, 8, 12)
    with pytest.raises(RuntimeError, match="divisible by downscale_factor"):
        F.pixel_unshuffle(gpujit.zeros(1, 3, 0, 5), 2)


# ------------------------------------------------------------ 0-size batches: no reshape(-1)
# NumPy (and gpujit, as PyTorch) cannot infer a -1 dim next to a 0 dim: these bodies and
# derivatives raised "cannot reshape array of size 0 into shape (0,newaxis)".

def _shapes(r):
    if isinstance(r, (tuple, list)):
        return [_shapes(x) for x in r]
    return tuple(r.shape)


@pytest.mark.parametrize("call,expected", [
    (lambda: gpujit.linalg.lu_factor(gpujit.zeros(0, 3, 3)), [(0, 3, 3), (0, 3)]),
    (lambda: gpujit.linalg.lu(gpujit.zeros(2, 0, 3)), [(2, 0, 0), (2, 0, 0), (2, 0, 3)]),
    (lambda: gpujit.linalg.lu(gpujit.zeros(3, 0)), [(3, 3), (3, 0), (0, 0)]),
    (lambda: gpujit.linalg.lu_factor_ex(gpujit.zeros(2, 4, 0)), [(2, 4, 0), (2, 0), (2,)]),
    (lambda: gpujit.linalg.lu_solve(gpujit.zeros(0, 3, 3), gpujit.zeros(0, 3, dtype=gpujit.int32),
                                    gpujit.zeros(0, 3, 2)), (0, 3, 2)),
    (lambda: F.adaptive_max_pool1d(gpujit.zeros(0, 3, 10), 4, return_indices=True),
     [(0, 3, 4), (0, 3, 4)]),
    (lambda: F.adaptive_max_pool2d(gpujit.zeros(0, 3, 10, 4), 4, return_indices=True),
     [(0, 3, 4, 4), (0, 3, 4, 4)]),
    (lambda: F.adaptive_max_pool3d(gpujit.zeros(0, 2, 5, 4, 3), (2, 3, 2)), (0, 2, 2, 3, 2)),
    (lambda: gpujit.unique_consecutive(gpujit.zeros(0, 2, dtype=gpujit.long), dim=0,
                                       return_counts=True, return_inverse=True),
     [(0, 2), (0,), (0,)]),
    (lambda: gpujit.unique(gpujit.zeros(3, 0, dtype=gpujit.long), dim=1, return_counts=True,
                           return_inverse=True), [(3, 0), (0,), (0,)]),
    (lambda: gpujit.unique(gpujit.zeros(4, 2, 0, dtype=gpujit.long), dim=-1), (4, 2, 0)),
    (lambda: F.max_unpool2d(gpujit.zeros(0, 2, 2, 2), gpujit.zeros(0, 2, 2, 2, dtype=gpujit.long),
                            2), (0, 2, 4, 4)),
    (lambda: F.max_unpool3d(gpujit.zeros(0, 2, 1, 2, 2),
                            gpujit.zeros(0, 2, 1, 2, 2, dtype=gpujit.long), (1, 2, 2)),
     (0, 2, 1, 4, 4)),
])
def test_zero_size_batch_results(call, expected):
    assert _shapes(call()) == expected


def test_lu_of_empty_matrix_values():
    P, L, U = gpujit.linalg.lu(gpujit.zeros(3, 0, dtype=gpujit.float64))
    np.testing.assert_array_equal(P.numpy(), np.eye(3))


@pytest.mark.parametrize("fn,shape", [
    (lambda x: F.max_pool1d(x, 2), (0, 3, 5)),
    (lambda x: F.max_pool2d(x, 2), (0, 3, 4, 4)),
    (lambda x: F.max_pool3d(x, 2), (0, 3, 5, 6, 4)),
    (lambda x: F.adaptive_max_pool2d(x, 2), (0, 3, 4, 4)),
    (lambda x: F.max_unpool2d(x, gpujit.zeros(0, 2, 2, 2, dtype=gpujit.long), 2), (0, 2, 2, 2)),
])
def test_zero_size_batch_pool_grads(fn, shape):
    x = gpujit.zeros(*shape, requires_grad=True)
    fn(x).sum().backward()
    assert tuple(x.grad.shape) == shape


def test_unpool_grad_values():
    x = gpujit.tensor(np.arange(32.0).reshape(1, 2, 4, 4), requires_grad=True)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    F.max_unpool2d(y, i, 2).sum().backward()
    expected = np.zeros((1, 2, 4, 4))
    expected[..., 1::2, 1::2] = 1          # each window's maximum is its last element
    np.testing.assert_array_equal(x.grad.numpy(), expected)


# ------------------------------------------------------------ dtype errors: PyTorch's class
# A kernel without the dtype raises NotImplementedError in PyTorch ('"avg_pool2d" not
# implemented for 'Int''; a RuntimeError subclass, so `except RuntimeError` still holds).

_I = gpujit.ones(2, 3, 4, dtype=gpujit.int32)


@pytest.mark.parametrize("call", [
    lambda: F.avg_pool1d(_I, 2),
    lambda: F.interpolate(_I, scale_factor=2),
    lambda: F.group_norm(_I, 1),
    lambda: F.smooth_l1_loss(_I, _I),
    lambda: gpujit.softmax(_I, 1),
    lambda: gpujit.log_softmax(_I, 1),
    lambda: gpujit.rand_like(_I),
    lambda: gpujit.normal(_I, 1.0),
    lambda: F.prelu(_I, gpujit.ones(1, dtype=gpujit.int32)),
    lambda: gpujit.ones(3, dtype=gpujit.bool).geometric_(0.5),
    lambda: gpujit.ones(3, 3, dtype=gpujit.bool) @ gpujit.ones(3, 3, dtype=gpujit.bool),
    lambda: gpujit.trace(gpujit.ones(3, 3, dtype=gpujit.bool)),
    lambda: F.max_pool1d(_I.bool(), 2),
])
def test_not_implemented_for_dtype_is_notimplementederror(call):
    with pytest.raises(NotImplementedError, match="not implemented for"):
        call()


_H = gpujit.eye(3, dtype=gpujit.float16)


@pytest.mark.parametrize("call,exc", [
    (lambda: gpujit.linalg.solve(_H, _H), NotImplementedError),
    (lambda: gpujit.linalg.det(_H), NotImplementedError),
    (lambda: gpujit.linalg.cholesky(_H), NotImplementedError),
    (lambda: gpujit.linalg.qr(_H), NotImplementedError),
    (lambda: gpujit.linalg.eigh(_H), NotImplementedError),
    (lambda: gpujit.linalg.svdvals(_H), NotImplementedError),
    (lambda: gpujit.geqrf(_H), NotImplementedError),
    (lambda: gpujit.linalg.eigh(_H.int()), NotImplementedError),
    (lambda: gpujit.geqrf(_H.int()), NotImplementedError),
    (lambda: gpujit.linalg.householder_product(_H.int(), _H[0].int()), NotImplementedError),
    # PyTorch's own checks (not a kernel's) stay RuntimeError
    (lambda: gpujit.linalg.inv(_H), RuntimeError),
    (lambda: gpujit.linalg.solve(_H.int(), _H.int()), RuntimeError),
    (lambda: gpujit.linalg.cholesky(_H.int()), RuntimeError),
])
def test_linalg_dtype_error_class(call, exc):
    with pytest.raises(exc) as info:
        call()
    assert type(info.value) is exc


# ------------------------------------------------------------ dims of 0-dim tensors

_S = gpujit.tensor(1.5)


@pytest.mark.parametrize("call", [
    lambda: gpujit.median(_S, 1),
    lambda: gpujit.nanmedian(_S, -2),
    lambda: gpujit.mode(_S, 1),
    lambda: gpujit.flatten(_S, 1),
    lambda: gpujit.flatten(_S, 0, -2),
    lambda: _S.flatten(1),
    lambda: gpujit.repeat_interleave(_S, 2, 0),
    lambda: gpujit.repeat_interleave(_S, gpujit.tensor([2]), -1),
])
def test_dim_of_0dim_tensor_out_of_range(call):
    # a 0-dim tensor takes dim -1 or 0 in reductions and flatten (IndexError otherwise);
    # repeat_interleave along any dim of it is an IndexError
    with pytest.raises(IndexError):
        call()


def test_dim_of_0dim_tensor_in_range():
    assert float(gpujit.median(_S, -1)[0]) == 1.5
    assert float(gpujit.mode(_S, 0)[0]) == 1.5
    assert tuple(gpujit.flatten(_S, 0, -1).shape) == (1,)
    np.testing.assert_array_equal(gpujit.repeat_interleave(_S, 2).numpy(), [1.5, 1.5])


@pytest.mark.parametrize("fn", [gpujit.unique, gpujit.unique_consecutive])
def test_unique_dim_unselected_zero_dim(fn):
    with pytest.raises(RuntimeError, match="0 sized dimensions, and they aren't selected"):
        fn(gpujit.zeros(6, 0), dim=0)
    assert tuple(fn(gpujit.zeros(0, 5), dim=0).shape) == (0, 5)


# ------------------------------------------------------------ repeat_interleave repeats dtype

def test_repeat_interleave_counts_keep_int32():
    out = gpujit.repeat_interleave(gpujit.tensor([1, 0, 3], dtype=gpujit.int32))
    assert out.dtype is gpujit.int32
    np.testing.assert_array_equal(out.numpy(), [0, 2, 2, 2])
    assert gpujit.repeat_interleave(gpujit.tensor([2, 1])).dtype is gpujit.int64


@pytest.mark.parametrize("dt", ["uint8", "int8", "bool", "float32"])
@pytest.mark.parametrize("call", [
    lambda r: gpujit.repeat_interleave(r),
    lambda r: gpujit.ones(3).repeat_interleave(r),
    lambda r: gpujit.ones(3).repeat_interleave(r, dim=0),
])
def test_repeat_interleave_repeats_int32_int64_only(dt, call):
    r = gpujit.tensor([1, 0, 2], dtype=getattr(gpujit, dt))
    with pytest.raises(NotImplementedError, match="repeat_interleave_cpu"):
        call(r)


# ------------------------------------------------------------ bool inputs PyTorch refuses

_B = gpujit.ones(3, 4, dtype=gpujit.bool)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: gpujit.median(_B), NotImplementedError, "median_cpu"),
    (lambda: gpujit.median(_B, 1), NotImplementedError, "median_out"),
    (lambda: gpujit.nanmedian(_B), NotImplementedError, "median_cpu"),
    (lambda: gpujit.nanmedian(_B, 0), NotImplementedError, "median_out"),
    (lambda: gpujit.kthvalue(_B, 1), NotImplementedError, "kthvalue_cpu"),
    (lambda: gpujit.topk(_B, 1), RuntimeError, "topk does not support bool"),
    (lambda: gpujit.linalg.cross(gpujit.ones(3, dtype=gpujit.bool),
                                 gpujit.ones(3, dtype=gpujit.bool)), NotImplementedError, "cross"),
])
def test_bool_refused(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_bool_still_taken():
    # sort, mode and msort take bool in PyTorch
    assert gpujit.sort(_B)[0].dtype is gpujit.bool
    assert gpujit.mode(_B)[0].dtype is gpujit.bool
    assert gpujit.median(_B.int()).dtype is gpujit.int32


# ------------------------------------------------------------ NumPy broadcast errors in bodies

@pytest.mark.parametrize("call", [
    # (a non-contiguous 3-D input: torch's matmul then add_; a 2-D one goes through addmm,
    # whose words are its expand's: tests/test_eager_fidelity_s36.py)
    lambda: F.linear(gpujit.ones(5, 2, 3).transpose(0, 1), gpujit.ones(4, 3), gpujit.ones(3)),
    lambda: gpujit.ops.aten.binary_cross_entropy(gpujit.full((0, 4), 0.5), gpujit.ones(3, 4)),
])
def test_numpy_broadcast_error_is_runtimeerror(call):
    # a non-pointwise body's NumPy 'operands could not be broadcast together' ValueError
    # comes out as PyTorch's RuntimeError
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(\d+\) must match the size "
                                           r"of tensor b \(\d+\) at non-singleton dimension"):
        call()


def test_numpy_broadcast_error_translation():
    from gpujit.ops.registry import numpy_broadcast_error
    e = numpy_broadcast_error(ValueError(
        "operands could not be broadcast together with shapes (2,4) (3,) "))
    assert type(e) is RuntimeError
    assert str(e).startswith("The size of tensor a (4) must match the size of tensor b (3) "
                             "at non-singleton dimension 1")
    other = ValueError("something else")
    assert numpy_broadcast_error(other) is other


# ------------------------------------------------------------ aten::item of a 0-size tensor

def _item(x):
    return x.item()


@pytest.mark.parametrize("shape", [(0, 3), (2,)])
def test_aten_item_not_one_element(shape):
    # the registry op (scripted x.item(), torch.ops.aten.item) raised NumPy's ValueError
    x = gpujit.ones(*shape)
    for fn in (gpujit.ops.aten.item, gpujit.jit.script(_item)):
        with pytest.raises(RuntimeError, match=f"a Tensor with {int(np.prod(shape))} elements "
                                               f"cannot be converted to Scalar"):
            fn(x)
    assert gpujit.ops.aten.item(gpujit.tensor([2.5])) == 2.5


# ------------------------------------------------------------ cross_entropy without classes

@pytest.mark.parametrize("reduction,expected", [("mean", [np.nan]), ("sum", [0.0]),
                                                ("none", [0.0] * 5)])
@pytest.mark.parametrize("ls", [0.0, 0.1])
def test_cross_entropy_zero_classes(reduction, expected, ls):
    # class probabilities of 0 classes with label smoothing divided by C = 0
    x = gpujit.ones(5, 0, requires_grad=True)
    y = F.cross_entropy(x, gpujit.ones(5, 0), label_smoothing=ls, reduction=reduction)
    np.testing.assert_array_equal(np.atleast_1d(y.detach().numpy()), expected)
    y.sum().backward()
    assert tuple(x.grad.shape) == (5, 0)


# ------------------------------------------------------------ int32 indices (gather / scatter)

def test_gather_scatter_take_int32_index():
    # PyTorch 2.x's gather / scatter family takes int32 indices ("int32/int64")
    a = np.arange(12.0).reshape(3, 4)
    idx = np.array([[0, 1], [2, 3], [1, 1]])
    x = gpujit.tensor(a, requires_grad=True)
    i32 = gpujit.tensor(idx, dtype=gpujit.int32)
    y = gpujit.gather(x, 1, i32)
    np.testing.assert_array_equal(y.detach().numpy(), np.take_along_axis(a, idx, 1))
    y.sum().backward()
    g = np.zeros_like(a)
    np.add.at(g, (np.arange(3)[:, None], idx), 1)
    np.testing.assert_array_equal(x.grad.numpy(), g)
    xd = x.detach()
    s = a.copy()
    np.put_along_axis(s, idx, -1.0, 1)
    np.testing.assert_array_equal(xd.scatter(1, i32, -1.0).numpy(), s)
    sa = a.copy()
    np.add.at(sa, (np.arange(3)[:, None], idx), 1.0)
    ones = gpujit.ones(3, 2, dtype=gpujit.float64)
    np.testing.assert_array_equal(xd.scatter_add(1, i32, ones).numpy(), sa)
    np.testing.assert_array_equal(xd.scatter_reduce(1, i32, ones, "sum").numpy(), sa)
    with pytest.raises(RuntimeError, match=r"gather\(\): Expected dtype int32/int64 for index"):
        gpujit.gather(xd, 1, i32.short())
    # index_fill keeps int64 only, with PyTorch's IndexError
    with pytest.raises(IndexError, match=r"index_fill_\(\): Expected dtype int64 for index"):
        xd.index_fill(1, i32[0], -1.0)


# ------------------------------------------------------------ mT / mH / H / adjoint of 0-dim

@pytest.mark.parametrize("call,words", [
    (lambda x: x.mT, "Tensor.mT is deprecated on 0-D tensors"),
    (lambda x: x.mH, "Tensor.mH is deprecated on 0-D tensors"),
    (lambda x: x.H, "Tensor.H is deprecated on 0-D tensors"),
    (lambda x: gpujit.adjoint(x), r"adjoint\(\) is deprecated on 0-D tensors"),
])
def test_matrix_transposes_of_0dim_are_identity_views(call, words):
    # PyTorch takes a 0-dim tensor (the identity, a view) with a deprecation warning
    x = gpujit.tensor(1.0)
    with pytest.warns(UserWarning, match=words):
        y = call(x)
    assert tuple(y.shape) == () and float(y) == 1.0
    y.add_(1)
    assert float(x) == 2.0
    with pytest.raises(RuntimeError, match="only supported on matrices"):
        call(gpujit.ones(3))


# ------------------------------------------------------------ matrix norms of empty matrices

@pytest.mark.parametrize("shape,ord,keepdim,expected", [
    ((0, 4), 1, False, 0.0), ((0, 4), 2, False, 0.0), ((2, 0, 3), np.inf, False, [0.0, 0.0]),
    ((0, 3, 3), 2, False, np.zeros(0)), ((2, 4, 0), 1, True, np.zeros((2, 1, 1))),
])
def test_matrix_norm_of_empty_matrices(shape, ord, keepdim, expected):
    # PyTorch 2.x answers 0 (gpujit refused, after an older PyTorch's error)
    y = gpujit.linalg.matrix_norm(gpujit.zeros(*shape, dtype=gpujit.float64), ord,
                                  keepdim=keepdim)
    np.testing.assert_array_equal(y.numpy(), expected)
    assert y.dtype is gpujit.float64


@pytest.mark.parametrize("shape,ord", [((3, 0), -1), ((0, 4), -2)])
def test_matrix_norm_of_empty_matrices_negative_ord(shape, ord):
    with pytest.raises(IndexError, match="to have non-zero size"):
        gpujit.linalg.matrix_norm(gpujit.zeros(*shape), ord)


def test_poisson_0dim():
    # the generator's draw of a 0-dim rate is a Python int (AttributeError: no astype)
    gpujit.manual_seed(0)
    y = gpujit.poisson(gpujit.tensor(4.0, dtype=gpujit.float64))
    assert tuple(y.shape) == () and y.dtype is gpujit.float64
    assert float(y) == int(float(y)) >= 0
    assert float(gpujit.poisson(gpujit.tensor(0.0))) == 0.0


# ------------------------------------------------------------ shape checks before indexing

@pytest.mark.parametrize("call,match", [
    (lambda: gpujit.linalg.solve(gpujit.eye(3), gpujit.tensor(1.0)),
     "The input tensor B must have at least 2 dimensions"),
    (lambda: gpujit.diff(gpujit.ones(3), prepend=gpujit.tensor(1.0)),
     "diff expects prepend or append to be the same dimension as input"),
    (lambda: gpujit.diff(gpujit.ones(3, 4), prepend=gpujit.ones(2, 3)),
     r"except along the differencing dimension; input.size\(0\) = 3, but got "
     r"tensor.size\(0\) = 2"),
])
def test_shape_errors_are_runtimeerrors(call, match):
    # these read a missing dim first (IndexError: tuple index out of range) or let NumPy's
    # concatenate refuse (ValueError)
    with pytest.raises(RuntimeError, match=match):
        call()
    assert tuple(gpujit.diff(gpujit.ones(3, 4), prepend=gpujit.ones(3, 2)).shape) == (3, 5)


def test_view_copy_of_a_transposed_input():
    # view_copy copies: a layout view() refuses is fine (PyTorch reshapes)
    a = np.arange(12.0).reshape(4, 3)
    x = gpujit.tensor(a).t()
    np.testing.assert_array_equal(gpujit.view_copy(x, [4, 3]).numpy(), a.T.reshape(4, 3))
    y = gpujit.view_copy(x, [-1])
    np.testing.assert_array_equal(y.numpy(), a.T.reshape(-1))
    y[0] = 100.0
    assert float(x[0, 0]) == 0.0
    with pytest.raises(RuntimeError, match="invalid for input of size 12"):
        gpujit.view_copy(x, [5])
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.view(12)


@pytest.mark.parametrize("fn", [gpujit.logaddexp, gpujit.logaddexp2])
def test_logaddexp_refuses_integers(fn):
    i = gpujit.ones(2, dtype=gpujit.int32)
    with pytest.raises(NotImplementedError):
        fn(i, i)
    assert fn(i, gpujit.ones(2)).dtype is gpujit.float32    # a float operand promotes


@pytest.mark.parametrize("dt,fill,words", [
    ("int64", "cauchy_", "Cauchy distribution .* you specified long int"),
    ("int32", "cauchy_", "Cauchy distribution .* you specified int"),
    ("int32", "exponential_", "Exponential distribution .* you specified Int"),
])
def test_continuous_fills_of_integer_tensors(dt, fill, words):
    # PyTorch's own check, a plain RuntimeError (not its kernels' NotImplementedError)
    with pytest.raises(RuntimeError, match=words) as info:
        getattr(gpujit.zeros(3, dtype=getattr(gpujit, dt)), fill)()
    assert type(info.value) is RuntimeError


def test_cross_entropy_zero_classes_weight_grad():
    # the per-class sum of the weight's gradient reshaped with -1 next to C = 0
    x = gpujit.zeros(5, 0, dtype=gpujit.float64, requires_grad=True)
    w = gpujit.zeros(0, dtype=gpujit.float64, requires_grad=True)
    y = F.cross_entropy(x, gpujit.zeros(5, 0, dtype=gpujit.float64), weight=w,
                        reduction="sum", label_smoothing=0.1)
    y.backward()
    assert tuple(x.grad.shape) == (5, 0) and tuple(w.grad.shape) == (0,)
