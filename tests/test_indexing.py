"""x[index] and x[index] = value, against NumPy. Where PyTorch differs from NumPy the test
says so and states PyTorch's answer: an int next to a tensor index is a `select` applied
first (x[0, :, idx] has shape (B, K), NumPy's a[0, :, idx] (K, B)); negative slice steps
raise ValueError; basic indexing returns views, advanced indexing copies."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit

A = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)


def T(a, dtype=None):
    return gpujit.tensor(a, dtype=dtype)


def _np_index(index):
    """The same index for NumPy: gpujit tensors become arrays."""
    if not isinstance(index, tuple):
        index = (index,)
    return tuple(i.numpy() if isinstance(i, gpujit.Tensor) else i for i in index)


def check(index, a=A):
    x = gpujit.from_numpy(a.copy())
    got = x[index]
    want = a[_np_index(index)]
    assert tuple(got.shape) == want.shape, (index, tuple(got.shape), want.shape)
    np.testing.assert_array_equal(got.numpy(), want)
    return x, got


IDX = T([2, 0, 2])
MASK3 = T([True, False, True])
BASIC = [0, -1, (1, 2), (-1, -2, 3), (0, 1, 2, 3), slice(None), slice(1, None),
         (slice(None), slice(None, None, 2)), (slice(None), slice(1, 5, 3)),
         (slice(None), slice(-2, None)), (slice(10, 20),), (slice(None), slice(2, 1)),
         None, (None, 0), (slice(None), None, 1), (None, Ellipsis, None), Ellipsis,
         (Ellipsis, 0), (0, Ellipsis), (0, Ellipsis, slice(1, None), None), (1, None, 2, None)]
ADVANCED = [T([1, 0, 1]), (slice(None), IDX), (Ellipsis, T([4, 0])), ([0, 1],), ([[0], [1]],),
            (np.array([1, 0]),), (slice(None), [0, 0, 2]), (T([0, 1]), T([2, 0])),
            (T([[0], [1]]), T([0, 1, 2])),                   # broadcast index pair
            (T([0, 1]), slice(None), T([1, 3])),             # separated: adv dims go first
            (slice(None), IDX, slice(1, 3), T([0, 4, 1])),
            (T([1, -1]),), (T([], dtype=gpujit.int64),), (T([0, 1], dtype=gpujit.int32),),
            (slice(None), MASK3), (T([True, False]),), (T(A[:, :, 0, 0] > 10),),
            (T(A > 50),), (1, T(A[1] > 70)), (Ellipsis, T([True, False, True, True, False])),
            (T([True, True]), T([0, 2])), True, False, (0, True), (True, 0)]


@pytest.mark.parametrize("index", BASIC, ids=[repr(i) for i in BASIC])
def test_basic_indexing_matches_numpy_and_is_a_view(index):
    x, got = check(index)
    assert got.numel() == 0 or np.shares_memory(got.numpy(), x.numpy())


@pytest.mark.parametrize("index", ADVANCED, ids=[str(k) for k in range(len(ADVANCED))])
def test_advanced_indexing_matches_numpy_and_copies(index):
    x, got = check(index)
    assert not np.shares_memory(got.numpy(), x.numpy())


def test_full_slice_is_a_new_view():
    x = gpujit.zeros(3)
    y = x[:]
    assert y is not x and np.shares_memory(y.numpy(), x.numpy())
    assert x[...] is not x


def test_zero_dim_tensors():
    s = gpujit.tensor(5.0)
    assert s[...].shape == () and s[None].shape == (1,) and s[True].shape == (1,)
    with pytest.raises(IndexError, match="too many indices"):
        s[0]
    x = gpujit.from_numpy(A.copy())
    # a 0-dim integer tensor indexes like an int: a select, so the result is a view
    r = x[T(1)]
    assert r.shape == (3, 4, 5) and np.shares_memory(r.numpy(), x.numpy())


def test_int_next_to_tensor_index_differs_from_numpy():
    x = gpujit.from_numpy(A.copy())
    idx = T([0, 3])
    got = x[0, :, idx]
    # PyTorch applies the int as a select first, then indexes dim 1 of the (3, 4, 5) rest:
    # shape (3, 2, 5) ...
    assert got.shape == (3, 2, 5)
    np.testing.assert_array_equal(got.numpy(), A[0][:, [0, 3]])
    # ... while NumPy broadcasts the int with the array (separated by a slice), so the
    # indexed dim goes first: (2, 3, 5)
    assert A[0, :, [0, 3]].shape == (2, 3, 5)
    np.testing.assert_array_equal(got.numpy(), np.moveaxis(A[0, :, [0, 3]], 0, 1))
    # adjacent int and tensor: both agree
    np.testing.assert_array_equal(x[1, T([0, 2])].numpy(), A[1, [0, 2]])
    np.testing.assert_array_equal(x[:, 1, idx].numpy(), A[:, 1][:, [0, 3]])


def test_assignment_scalars_tensors_broadcasting():
    a = A.copy()
    x = gpujit.from_numpy(A.copy())
    x[0] = 5
    a[0] = 5
    x[1, :, 2] = T(np.arange(5, dtype=np.float32))                 # broadcast over dim 1
    a[1, :, 2] = np.arange(5)
    x[..., 0] = T(np.full((2, 3, 4), -1.0, np.float32))
    a[..., 0] = -1
    x[:, IDX] = 7.5
    a[:, [2, 0, 2]] = 7.5
    x[T([0, 1]), T([1, 2]), 0] = T([10.0, 20.0]).unsqueeze(1)
    a[[0, 1], [1, 2], 0] = np.array([[10.0], [20.0]])
    x[1, 1:3, ::2] = np.full((2, 2, 5), 3.0, np.float32)           # a NumPy value
    a[1, 1:3, ::2] = 3.0
    x[0, 0, 0] = [1, 2, 3, 4, 5]                                    # a list value
    a[0, 0, 0] = [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(x.numpy(), a)


def test_mask_assignment_and_selection():
    a = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], np.float32)
    x = gpujit.from_numpy(a.copy())
    x[x < 0] = 0
    a[a < 0] = 0
    np.testing.assert_array_equal(x.numpy(), a)
    x[T([True, False])] = T([9.0, 8.0, 7.0])
    a[[True, False]] = [9.0, 8.0, 7.0]
    np.testing.assert_array_equal(x.numpy(), a)
    m = x > 4
    x[m] = T(np.arange(int(m.numpy().sum()), dtype=np.float32))
    a[a > 4] = np.arange((a > 4).sum())
    np.testing.assert_array_equal(x.numpy(), a)
    assert x[x > 100].shape == (0,)


def test_augmented_assignment_writes_through():
    x = gpujit.zeros(3, 4)
    x[:, 1] += 1
    x[0] *= 3
    x[1:, 2:] -= 2
    x[..., -1] /= 4
    want = np.zeros((3, 4), np.float32)
    want[:, 1] += 1
    want[0] *= 3
    want[1:, 2:] -= 2
    want[..., -1] /= 4
    np.testing.assert_array_equal(x.numpy(), want)
    y = gpujit.zeros(4)
    y[T([0, 0, 2])] += 1          # duplicates: read once, written once (torch and NumPy)
    assert y.tolist() == [1.0, 0.0, 1.0, 0.0]
    y[T([True, False, True, False])] -= 5
    assert y.tolist() == [-4.0, 0.0, -4.0, 0.0]


def test_assignment_casts_to_the_tensor_dtype_and_bumps_version():
    x = gpujit.zeros(3, dtype=gpujit.int64)
    v = x._version
    x[0] = 2.7
    x[1:] = T([True, False])
    assert x.tolist() == [2, 1, 0] and x.dtype is gpujit.int64 and x._version > v
    b = gpujit.zeros(2, dtype=gpujit.bool)
    b[0] = 3
    assert b.tolist() == [True, False]
    u = gpujit.zeros(2, dtype=gpujit.uint8)
    u[1] = -1                                   # wraps, as in PyTorch
    assert u.tolist() == [0, 255]


def test_out_of_range_and_bad_indices_raise_index_error():
    x = gpujit.zeros(3, 4)
    for index in (3, -4, (0, 4), (slice(None), -5), (0, 0, 0), (T([3]),), (T([0, 1]), T([4])),
                  ([0, 5],), (T([True, False]),), 1.5, "a", (T([0.0]),), (Ellipsis, Ellipsis)):
        with pytest.raises(IndexError):
            x[index]
    with pytest.raises(IndexError):
        x[5] = 1
    with pytest.raises(IndexError):
        x[T([7])] = 1


def test_negative_step_raises_value_error():
    x = gpujit.arange(6)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(ValueError):
        x[4:1:-2] = 0
    assert x.flip(0).tolist() == [5, 4, 3, 2, 1, 0]     # the PyTorch way to reverse


def test_assignment_shape_mismatch_is_an_error():
    x = gpujit.zeros(3, 4)
    with pytest.raises((RuntimeError, ValueError)):
        x[0] = T([1.0, 2.0, 3.0])
    with pytest.raises((RuntimeError, ValueError)):
        x[T([0, 1])] = T([1.0, 2.0, 3.0])


def test_setitem_of_a_number_is_recorded_by_a_trace_without_warning():
    """x[0] = 2 is copy_ into the view, x[idx] = 2 index_put_, of the number as a 0-dim
    tensor of x's dtype that the trace holds as a constant without a warning (PyTorch's
    valueToTensor, made outside the dispatcher); values as PyTorch's for every dtype
    (x[1] = 1e10 on float16 is inf)."""
    import warnings

    def f(x, i):
        y = x * 1
        y[0] = 2
        y[i] = 3.5
        return y

    x, i = gpujit.zeros(4), gpujit.tensor([1, 3])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tf = gpujit.jit.trace(f, (x, i))
    # (PyTorch's own warning about writing through a view may come; not the constant one)
    assert not [w for w in caught if "constant" in str(w.message)]
    kinds = [n.kind for n in tf.graph.nodes]
    assert "aten::copy_" in kinds and "aten::index_put_" in kinds and "aten::full" not in kinds
    (put,) = [n for n in tf.graph.nodes if n.kind == "aten::index_put_"]
    assert put.inputs[2].node.kind == "prim::Constant"
    assert str(put.inputs[2].type) == "Float(requires_grad=0, device=cpu)"
    assert tf(gpujit.ones(4), gpujit.tensor([2])).tolist() == [2.0, 1.0, 3.5, 1.0]
    h = gpujit.zeros(3, dtype=gpujit.float16)
    h[1] = 1e10
    h[gpujit.tensor([2])] = -1e10
    assert h.tolist() == [0.0, float("inf"), float("-inf")]
    b = gpujit.zeros(3, dtype=gpujit.int64)
    b[1] = 2.7
    b[gpujit.tensor([False, False, True])] = True
    assert b.tolist() == [0, 2, 1]


def test_advanced_index_result_layout_as_torch():
    """aten::index lays its result out as PyTorch's AdvancedIndex / TensorIterator does
    (strides are PyTorch 2.13's): NumPy puts the indexed dims outermost in memory, so
    x[:, [0, 2]] of a C-contiguous x was not contiguous and .view(-1) raised."""
    import gpujit as torch
    x = torch.arange(24.).reshape(2, 3, 4)
    r = x[:, [0, 2]]
    assert r.stride() == (8, 4, 1) and r.view(-1).shape == (16,)
    np.testing.assert_array_equal(r.numpy(), x.numpy()[:, [0, 2]])
    assert x[..., [3, 1, 0]].stride() == (9, 3, 1)
    assert x[:, torch.tensor([[0, 1], [2, 0]])].stride() == (16, 8, 4, 1)
    p = torch.arange(24.).reshape(3, 4, 2).permute(2, 0, 1)     # strides (1, 8, 2)
    assert p[:, [0, 2]].stride() == (1, 2, 4)
    assert p[[1, 0], :, [2, 3]].stride() == (3, 1)
    assert p[1:, [0, 2], 1:3].stride() == (4, 2, 1)             # a size-1 dim
    m = x[:, :, 0] > 4
    assert x[m].stride() == (4, 1)
    assert p[:, p[0, :, 0] > 0].stride() == (1, 2, 4)
    np.testing.assert_array_equal(p[:, [0, 2]].numpy(), p.numpy()[:, [0, 2]])
