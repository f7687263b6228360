"""Interop without copies: DLPack, from_numpy, as_tensor, np.asarray; CuPy and PyTorch."""
import numpy as np
import pytest

import gpujit


def shares(t, a):
    return np.shares_memory(np.asarray(t), a)


# ---------------------------------------------------------------- NumPy

def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = gpujit.from_numpy(a)
    assert t.dtype is gpujit.float32 and t.shape == (2, 3)
    a[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    t[1, 2] = -1.0
    assert a[1, 2] == -1.0


def test_from_numpy_keeps_strides_of_views():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    t = gpujit.from_numpy(a[:, ::2])
    assert t.tolist() == [[0, 2], [4, 6], [8, 10]]
    assert t.stride() == (4, 2)
    assert shares(t, a)


def test_from_numpy_rejects_other_types():
    with pytest.raises(TypeError, match="expected np.ndarray"):
        gpujit.from_numpy([1, 2])


def test_as_tensor_shares_when_it_can_and_copies_when_it_must():
    a = np.ones(4, dtype=np.float64)
    assert shares(gpujit.as_tensor(a), a)
    assert shares(gpujit.as_tensor(a, dtype=gpujit.float64), a)
    c = gpujit.as_tensor(a, dtype=gpujit.float32)     # a dtype change has to copy
    assert c.dtype is gpujit.float32 and not shares(c, a)
    t = gpujit.tensor([1.0])
    assert gpujit.as_tensor(t) is t
    assert not shares(gpujit.tensor(a), a)            # gpujit.tensor always copies


def test_numpy_and_asarray_share_memory():
    t = gpujit.arange(5)
    assert np.shares_memory(t.numpy(), np.asarray(t))
    n = np.asarray(t)
    n[0] = 9
    assert t[0].item() == 9
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


def test_dlpack_round_trip_with_numpy_without_copies():
    a = np.arange(8, dtype=np.float32)
    t = gpujit.from_dlpack(a)
    assert t.dtype is gpujit.float32 and t.device == gpujit.device("cpu")
    assert shares(t, a)
    b = np.from_dlpack(t)
    assert np.shares_memory(a, b)
    b[3] = -5.0
    assert t[3].item() == -5.0 and a[3] == -5.0
    assert t.__dlpack_device__() == (1, 0)       # kDLCPU
    assert gpujit.from_dlpack(t) is t


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
                                   np.float16, np.float32, np.float64])
def test_dlpack_dtypes(dtype):
    a = np.zeros((2, 3), dtype=dtype)
    t = gpujit.from_dlpack(a)
    assert t.dtype is gpujit.dtypes.from_numpy_dtype(dtype)
    assert np.from_dlpack(t).dtype == dtype


def test_dlpack_of_a_non_contiguous_view():
    a = np.arange(12.0).reshape(3, 4)
    t = gpujit.from_dlpack(a.T)
    assert t.shape == (4, 3) and shares(t, a)
    np.testing.assert_array_equal(np.from_dlpack(t), a.T)


# ---------------------------------------------------------------- CuPy

@pytest.mark.cuda
def test_cupy_dlpack_round_trip_without_copies():
    import cupy as cp
    a = cp.arange(8, dtype=cp.float32)
    t = gpujit.from_dlpack(a)
    assert t.is_cuda and t.dtype is gpujit.float32
    assert t.data_ptr() == a.data.ptr
    b = cp.from_dlpack(t)
    assert b.data.ptr == a.data.ptr
    b[0] = 7.0
    assert t[0].item() == 7.0


@pytest.mark.cuda
def test_as_tensor_of_cupy_array_shares():
    import cupy as cp
    a = cp.ones((2, 2), dtype=cp.float64)
    t = gpujit.as_tensor(a)
    assert t.device == gpujit.device("cuda:0") and t.data_ptr() == a.data.ptr
    assert gpujit.as_tensor(a, device="cpu").device == gpujit.device("cpu")


@pytest.mark.cuda
def test_tensor_of_cupy_array_copies():
    import cupy as cp
    a = cp.ones(3, dtype=cp.int32)
    t = gpujit.tensor(a)
    assert t.dtype is gpujit.int32 and t.data_ptr() != a.data.ptr


# ---------------------------------------------------------------- PyTorch

@pytest.mark.cuda
def test_as_tensor_of_a_foreign_cuda_array_interface_shares():
    """Any object with __cuda_array_interface__ (numba device arrays, PyTorch CUDA
    tensors...), not only CuPy arrays: as_tensor shares its memory, tensor copies it."""
    import cupy
    a = cupy.arange(6, dtype=cupy.float32)

    class Foreign:
        def __init__(self, x):
            self.x, self.__cuda_array_interface__ = x, x.__cuda_array_interface__

    t = gpujit.as_tensor(Foreign(a))
    c = gpujit.tensor(Foreign(a[::2]))
    assert t.device == c.device == gpujit.device("cuda:0") and t.dtype is gpujit.float32
    assert t.data_ptr() == a.data.ptr
    a[0] = 7
    assert t.tolist() == [7.0, 1.0, 2.0, 3.0, 4.0, 5.0] and c.tolist() == [0.0, 2.0, 4.0]
    assert gpujit.as_tensor(Foreign(a), dtype=gpujit.int64).tolist() == [7, 1, 2, 3, 4, 5]


def test_torch_from_gpujit_cpu():
    torch = pytest.importorskip("torch")
    t = gpujit.arange(6, dtype=gpujit.float32).reshape(2, 3)
    pt = torch.from_dlpack(t)
    assert pt.dtype == torch.float32 and tuple(pt.shape) == (2, 3)
    assert pt.data_ptr() == t.data_ptr()
    pt[0, 0] = 10.0
    assert t[0, 0].item() == 10.0


def test_gpujit_from_torch_cpu():
    torch = pytest.importorskip("torch")
    pt = torch.arange(4, dtype=torch.int64)
    t = gpujit.from_dlpack(pt)
    assert t.dtype is gpujit.int64 and t.data_ptr() == pt.data_ptr()
    assert gpujit.tensor(pt).tolist() == [0, 1, 2, 3]


@pytest.mark.cuda
def test_torch_cuda_round_trip():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch was built without CUDA here")
    t = gpujit.ones(4, device="cuda")
    pt = torch.from_dlpack(t)
    assert pt.is_cuda and pt.data_ptr() == t.data_ptr()
    back = gpujit.from_dlpack(torch.zeros(3, device="cuda"))
    assert back.is_cuda and back.tolist() == [0.0, 0.0, 0.0]
