"""Tensor.view(dtype): the same bytes read as another dtype, with PyTorch's rules (a
different element size scales the last dim, which must have stride 1; a larger element
needs a divisible last size, storage offset and strides), eager on CPU and CUDA, scripted.
The expected values are NumPy's view of the same bytes."""
import numpy as np
import pytest

import gpujit as torch


def _x(device="cpu"):
    return torch.arange(24, dtype=torch.float32, device=device).reshape(4, 6)


def _check_views(device):
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    x = _x(device)
    cases = [
        (x, torch.int32, base.view(np.int32)),
        (x, torch.float16, base.view(np.float16)),
        (x[1], torch.uint8, base[1].view(np.uint8)),
        (x[::2], torch.float64, base[::2].view(np.float64)),
        (x[:, 2:3], torch.int16, base[:, 2:3].view(np.int16)),
        (x.t(), torch.int32, base.T.view(np.int32)),         # same size: any strides
        (x[0, 0], torch.int32, base[0, 0].view(np.int32)),   # 0-dim, same size
    ]
    for t, dt, want in cases:
        got = t.view(dt)
        assert got.dtype is dt and tuple(got.shape) == want.shape, (got.shape, want.shape)
        np.testing.assert_array_equal(got.cpu().numpy(), want)
        assert tuple(got.stride()) == tuple(s // want.itemsize for s in want.strides)
    v = x[1].view(torch.int32)          # a view: writes reach x
    v.fill_(0)
    assert (x[1] == 0).all() and (x[0] != 0).any()


def test_view_as_another_dtype_reads_the_same_bytes():
    _check_views("cpu")


@pytest.mark.cuda
def test_view_as_another_dtype_on_cuda():
    _check_views("cuda")


@pytest.mark.parametrize("make, dt, message", [
    (lambda x: x.t(), torch.int16, "self.stride(-1) must be 1 to view Float as Short "
     "(different element sizes), but got 6"),
    (lambda x: x[:, 1:5], torch.float64, "self.storage_offset() must be divisible by 2 to "
     "view Float as Double (different element sizes), but got 1"),
    (lambda x: x[:, 1:4], torch.float64, "self.size(-1) must be divisible by 2 to view "
     "Float as Double (different element sizes), but got 3"),
    (lambda x: x[0, 0], torch.int16, "self.dim() cannot be 0 to view Float as Short "
     "(different element sizes)"),
    (lambda x: torch.arange(12, dtype=torch.int16).reshape(4, 3)[:, :2], torch.int32, "self.stride(0) must be divisible "
     "by 2 to view Short as Int (different element sizes), but got 3"),
])
def test_views_pytorch_refuses_raise_its_errors(make, dt, message):
    with pytest.raises(RuntimeError) as e:
        make(_x()).view(dt)
    assert str(e.value) == message


def test_scripted_view_as_dtype():
    def f(x):
        return x.view(torch.int32) + 1, x.view(torch.int16).shape
    s = torch.jit.script(f)
    x = torch.rand(4, 6)
    for _ in range(3):       # profiling, then optimized
        a, shape = s(x)
        np.testing.assert_array_equal(a.numpy(), x.numpy().view(np.int32) + 1)
        assert shape == [4, 12]
    assert x.view(2, 12).shape == (2, 12) and x.view((24,)).shape == (24,)  # sizes still
