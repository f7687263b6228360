"""gpujit.testing.make_tensor (torch.testing.make_tensor): ranges per dtype, clamping,
layouts, exclude_zero, requires_grad and PyTorch's errors."""
import math
import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit.testing import make_tensor

RANGES = {torch.bool: (0, 1), torch.uint8: (0, 9), torch.int8: (-9, 9),
          torch.int16: (-9, 9), torch.int32: (-9, 9), torch.int64: (-9, 9),
          torch.float16: (-9, 9), torch.float32: (-9, 9), torch.float64: (-9, 9)}


@pytest.mark.parametrize("dtype", list(RANGES), ids=str)
def test_default_ranges(dtype):
    t = make_tensor(2000, dtype=dtype, device="cpu")
    assert t.dtype == dtype and t.shape == (2000,) and t.device.type == "cpu"
    a = t.numpy().astype(np.float64)
    lo, hi = RANGES[dtype]
    assert a.min() >= lo and a.max() <= hi
    if dtype.is_floating_point and dtype != torch.float16:
        assert a.max() < 9
    if not dtype.is_floating_point:
        assert set(np.unique(a)) == set(range(lo, hi + 1))     # the whole range is drawn


def test_shapes():
    assert make_tensor(2, 3, dtype=torch.float32, device="cpu").shape == (2, 3)
    assert make_tensor((2, 3), dtype=torch.float32, device="cpu").shape == (2, 3)
    assert make_tensor([4], dtype=torch.int32, device="cpu").shape == (4,)
    assert make_tensor((), dtype=torch.float32, device="cpu").shape == ()


def test_low_high_and_clamping():
    a = make_tensor(1000, dtype=torch.int32, device="cpu", low=-2.5, high=3.5).numpy()
    assert a.min() == -2 and a.max() == 3          # integer bounds round up
    a = make_tensor(1000, dtype=torch.float32, device="cpu", low=1, high=2).numpy()
    assert a.min() >= 1 and a.max() < 2
    a = make_tensor(1000, dtype=torch.uint8, device="cpu", low=-100, high=1000).numpy()
    assert a.min() >= 0 and a.max() <= 255
    a = make_tensor(1000, dtype=torch.float64, device="cpu", low=-math.inf,
                    high=math.inf).numpy()
    assert np.isfinite(a).all() and a.max() > 1e300


def test_layouts():
    t = make_tensor(3, 4, dtype=torch.float32, device="cpu", noncontiguous=True)
    assert t.shape == (3, 4) and not t.is_contiguous() and t.stride() == (8, 2)
    assert make_tensor(1, dtype=torch.float32, device="cpu", noncontiguous=True) \
        .is_contiguous()
    t = make_tensor(2, 3, 4, 5, dtype=torch.float32, device="cpu",
                    memory_format=torch.channels_last)
    assert t.is_contiguous(memory_format=torch.channels_last)


def test_exclude_zero_and_grad():
    t = make_tensor(200, dtype=torch.int8, device="cpu", low=-1, high=1, exclude_zero=True)
    assert (t.numpy() != 0).all()
    t = make_tensor(200, dtype=torch.float32, device="cpu", low=0, high=1e-40,
                    exclude_zero=True, requires_grad=True)
    assert (t.detach().numpy() != 0).all() and t.requires_grad and t.is_leaf
    assert not make_tensor(3, dtype=torch.float32, device="cpu").requires_grad


@pytest.mark.parametrize("kw,err,msg", [
    (dict(low=3, high=2), ValueError, "`low` must be less than `high`"),
    (dict(low=math.nan), ValueError, "cannot be NaN"),
    (dict(requires_grad=True), ValueError, "not supported for boolean and integral"),
    (dict(low=300, high=400), ValueError, r"only supports \[0, 256\)"),
    (dict(noncontiguous=True, memory_format=torch.contiguous_format), ValueError,
     "mutually exclusive"),
])
def test_errors(kw, err, msg):
    with pytest.raises(err, match=msg):
        make_tensor(3, dtype=torch.uint8, device="cpu", **kw)


def test_unsupported_dtype_and_low_eq_high():
    with pytest.raises(TypeError, match="not supported"):
        make_tensor(3, dtype="float32", device="cpu")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = make_tensor(3, dtype=torch.float32, device="cpu", low=2, high=2)
    assert any(issubclass(x.category, FutureWarning) for x in w)
    assert (t.numpy() == 2).all()
