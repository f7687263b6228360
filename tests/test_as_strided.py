"""torch.as_strided / Tensor.as_strided with PyTorch's semantics: sizes, strides and the
storage offset are relative to the tensor's storage (the array owning the memory), the
default offset is the tensor's own, and the result is a view. Eager, scripted, traced and
differentiated, against NumPy's as_strided on the flattened storage."""
import numpy as np
import pytest

import gpujit as torch
from gpujit import Tensor


def _ref(storage, size, stride, offset):
    s = np.asarray(storage)
    return np.lib.stride_tricks.as_strided(s[offset:], shape=size,
                                           strides=[k * s.itemsize for k in stride])


def test_offsets_and_strides_are_relative_to_the_storage():
    base = np.arange(12.0, dtype=np.float32)
    x = torch.from_numpy(base.copy())
    y = x[2:].view(2, 5)                               # storage offset 2
    assert y.storage_offset() == 2
    np.testing.assert_array_equal(y.as_strided((2, 2), (1, 2)).numpy(),
                                  _ref(base, (2, 2), (1, 2), 2))      # [[2, 4], [3, 5]]
    np.testing.assert_array_equal(y.as_strided((2, 2), (1, 2), 1).numpy(),
                                  _ref(base, (2, 2), (1, 2), 1))
    t = x.view(3, 4).t()                               # strides do not matter, the storage
    np.testing.assert_array_equal(torch.as_strided(t, (2, 2), (4, 1)).numpy(),
                                  _ref(base, (2, 2), (4, 1), 0))
    np.testing.assert_array_equal(x.as_strided((2, 2), (1, 1)).numpy(),     # overlapping
                                  [[0, 1], [1, 2]])
    assert x.as_strided((0,), (1,), 100).shape == (0,)


def test_it_is_a_view():
    x = torch.arange(12.0)
    z = x.as_strided((3,), (2,), 1)
    z.mul_(10)
    assert x.tolist() == [0, 10, 2, 30, 4, 50] + list(range(6, 12))
    w = x.view(3, 4)[1:].as_strided((2,), (4,))        # offset 4 inherited from the view
    w.fill_(-1)
    assert x[4].item() == -1 and x[8].item() == -1


@pytest.mark.parametrize("args,msg", [
    (((5,), (3,)), "setStorage: sizes \\[5\\], strides \\[3\\], storage offset 0, and itemsize "
                   "4 requiring a storage size of 52 are out of bounds for storage of size 48"),
    (((2,), (1,), 11), "storage offset 11, and itemsize 4 requiring a storage size of 52"),
    (((3,), (-1,)), "Negative strides are not supported at the moment, got strides: \\[-1\\]"),
    (((2,), (1,), -1), "invalid storage offset -1"),
    (((2, 2), (1,)), "mismatch in length of strides and shape"),
])
def test_errors_as_pytorch(args, msg):
    with pytest.raises(RuntimeError, match=msg):
        torch.arange(12.0).as_strided(*args)


def test_gradient_flows_to_the_storage_positions():
    w = torch.arange(6.0, requires_grad=True)
    g = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    (w * 1).as_strided((2, 2), (1, 2), 1).mul(g).sum().backward()
    assert w.grad.tolist() == [0.0, 1.0, 3.0, 2.0, 4.0, 0.0]
    w.grad = None
    (w.view(2, 3).mH.as_strided((2, 2), (1, 1)) ** 2).sum().backward()   # overlap: summed
    assert w.grad.tolist() == [0.0, 4.0, 4.0, 0.0, 0.0, 0.0]
    w.grad = None
    v = w[1:]                                           # an input at storage offset 1
    v.as_strided((2,), (2,), 2).sum().backward()
    assert w.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 1.0, 0.0]


def strided_window(x: Tensor, n: int):
    return x.as_strided([n, 2], [1, n], 1) * 2.0 + torch.as_strided(x, [n, 2], [2, 1]).sum()


def test_scripted_and_traced_as_eager():
    s = torch.jit.script(strided_window)
    for start in (1, 2, 1):
        x = torch.arange(12.0)[start:]                 # storage offset changes per call
        for _ in range(3):                             # profiled, then generated code
            np.testing.assert_array_equal(s(x, 3).numpy(), strided_window(x, 3).numpy())
    base = np.arange(12.0, dtype=np.float32)
    want = _ref(base, (3, 2), (1, 3), 1) * 2 + _ref(base, (3, 2), (2, 1), 0).sum()
    np.testing.assert_array_equal(strided_window(torch.from_numpy(base), 3).numpy(), want)
    assert "aten::as_strided" in str(s.graph)

    def fn(a):
        return a.as_strided((2, 2), (1, 2)).T * 3.0
    t = torch.jit.trace(fn, (torch.arange(10.0)[1:],))
    for _ in range(3):
        x = torch.arange(10.0)[2:]
        np.testing.assert_array_equal(t(x).numpy(), fn(x).numpy())
    np.testing.assert_array_equal(fn(torch.arange(10.0)[2:]).numpy(), [[6, 9], [12, 15]])


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def test_storage_offset_of_views_made_by_as_strided(device):
    """as_strided / unfold views report their offset in the storage (was: a raw pointer,
    the base chain broke at NumPy's as_strided holder object; on CuPy, whose as_strided
    arrays have no base, 0: the offset is now read from the allocation's start)."""
    y = torch.ones(2, 3, 3, device=device)
    assert y.as_strided((2,), (1,), 3).storage_offset() == 3
    assert y.unfold(0, 1, 1).storage_offset() == 0
    assert y[1].unfold(0, 1, 1).storage_offset() == 9
    assert y[1].as_strided((2,), (1,)).storage_offset() == 9
