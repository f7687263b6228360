"""Integer and bool dtype semantics of registry ops against PyTorch 2.13 (values checked
with torch 2.13 and hard-coded here): wrapping in the tensors' dtype, no detour through
float64 that rounds int64 beyond 2**53, explicit reduction dtypes converting the input
first, and PyTorch's errors. Found by a registry-wide sweep of int8/uint8/int16/int32/
int64/bool inputs against torch (helper q30, session 30)."""
import math

import numpy as np
import pytest

import gpujit as torch

BIG = 2 ** 62


def _eq(t, expected, dtype):
    assert t.dtype is dtype, (t.dtype, dtype)
    assert t.tolist() == expected


# ------------------------------------------------------------------ scatter/index reduce mean

@pytest.mark.parametrize("op", ["scatter_reduce", "index_reduce"])
def test_reduce_mean_sums_in_self_dtype(op):
    x = torch.tensor([-128, 100, 5], dtype=torch.int8)
    idx = torch.tensor([0, 0, 1])
    src = torch.tensor([-100, -100, 7], dtype=torch.int8)
    f = getattr(x, op)
    # -100 + -100 wraps to 56 in int8, 56 // 2 = 28 (torch 2.13)
    _eq(f(0, idx, src, "mean", include_self=False), [28, 7, 5], torch.int8)
    # -128 - 100 - 100 wraps to -72, -72 // 3 = -24; 100 + 7 = 107, 107 // 2 = 53
    _eq(f(0, idx, src, "mean"), [-24, 53, 5], torch.int8)


def test_scatter_reduce_mean_int64_floor():
    x = torch.tensor([-7, 100, 5])
    r = x.scatter_reduce(0, torch.tensor([0, 0, 1]), torch.tensor([2, 2, 7]), "mean")
    _eq(r, [-1, 53, 5], torch.int64)


# ------------------------------------------------------------------ masked_fill

@pytest.mark.parametrize("value", [2.5, "tensor"])
def test_masked_fill_int64_keeps_unmasked_values(value):
    x = torch.tensor([BIG + 1, BIG + 3])
    v = torch.tensor(2.5) if value == "tensor" else value
    _eq(x.masked_fill(torch.tensor([True, False]), v), [2, BIG + 3], torch.int64)
    y = x.clone()
    y.masked_fill_(torch.tensor([False, True]), v)
    _eq(y, [BIG + 1, 2], torch.int64)


def test_masked_fill_bool_with_float_value():
    x = torch.tensor([False, False])
    _eq(x.masked_fill(torch.tensor([True, False]), 0.5), [True, False], torch.bool)


# ------------------------------------------------------------------ addmm family, uint8

def test_addmm_uint8_negative_alpha_beta_wrap():
    o = torch.ones(2, 2, dtype=torch.uint8)
    _eq(torch.addmm(o, o, o, alpha=-1), [[255, 255], [255, 255]], torch.uint8)
    _eq(torch.addmm(o, o, o, beta=-1), [[1, 1], [1, 1]], torch.uint8)
    b = torch.ones(1, 2, 2, dtype=torch.uint8)
    _eq(torch.baddbmm(b, b, b, alpha=-1, beta=3), [[[1, 1], [1, 1]]], torch.uint8)
    v = torch.ones(2, dtype=torch.uint8)
    _eq(torch.addr(o, v, v, alpha=-1), [[0, 0], [0, 0]], torch.uint8)
    _eq(torch.addmv(v, o, v, alpha=-1), [255, 255], torch.uint8)


def test_addmm_int8_wraps():
    a = torch.full((2, 2), 100, dtype=torch.int8)
    o = torch.ones(2, 2, dtype=torch.int8)
    # 2 * 200 wraps to -112 (int8), -2 * 1 = -2: -114
    _eq(torch.addmm(o, a, o, alpha=2, beta=-2), [[-114, -114], [-114, -114]], torch.int8)


# ------------------------------------------------------------------ integer division by zero

@pytest.mark.parametrize("name", ["floor_divide", "remainder", "fmod"])
def test_int_division_by_zero_empty_result(name):
    x = torch.empty(0, 3, dtype=torch.uint8)
    r = getattr(x, name)(torch.tensor([0, 1, 2], dtype=torch.uint8))
    assert r.dtype is torch.uint8 and tuple(r.shape) == (0, 3)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        getattr(torch.ones(1, 3, dtype=torch.uint8), name)(
            torch.tensor([0, 1, 2], dtype=torch.uint8))


def test_div_floor_empty_result():
    x = torch.empty(0, 3, dtype=torch.int64)
    r = x.div(torch.tensor([0, 1, 2]), rounding_mode="floor")
    assert tuple(r.shape) == (0, 3)


# ------------------------------------------------------------------ explicit reduction dtypes

def test_sum_dtype_converts_input_first():
    x = torch.tensor([2 ** 53 + 1, 2 ** 53 + 1, 2])
    assert x.sum().item() == 18014398509481988
    r = x.sum(dtype=torch.float64)
    assert r.dtype is torch.float64 and r.item() == 1.8014398509481984e+16
    assert x.view(1, 3).sum(1, dtype=torch.float64).tolist() == [1.8014398509481984e+16]
    assert x.cumsum(0, dtype=torch.float64).tolist() == [
        9007199254740992.0, 1.8014398509481984e+16, 1.8014398509481984e+16]


def test_sum_dtype_float16_overflow():
    x = torch.tensor([2 ** 30, -2 ** 30], dtype=torch.int32)
    assert math.isnan(x.sum(dtype=torch.float16).item())
    assert math.isnan(x.nansum(dtype=torch.float16).item())
    c = x.cumsum(0, dtype=torch.float16)
    assert c.dtype is torch.float16
    assert c[0].item() == math.inf and math.isnan(c[1].item())
    # mean(dtype=) is not converted first in PyTorch: 0
    assert x.mean(dtype=torch.float16).item() == 0.0


def test_softmax_dtype_converts_input_first():
    x = torch.tensor([30000, 30001], dtype=torch.int16)
    s = x.softmax(0, dtype=torch.float16)
    assert s.dtype is torch.float16 and s.tolist() == [0.5, 0.5]
    assert x.log_softmax(0, dtype=torch.float16).tolist() == [-0.693359375, -0.693359375]
    assert torch.tensor([30000., 30001.]).softmax(0, dtype=torch.float16).tolist() == [0.5, 0.5]
    n = torch.tensor([2 ** 30, -2 ** 30], dtype=torch.int32).softmax(0, dtype=torch.float16)
    assert np.isnan(n.numpy()).all()


def test_nanmean_checks_input_dtype():
    with pytest.raises(RuntimeError, match=r"nanmean\(\): expected input to have floating "
                       r"point or complex dtype but got Int"):
        torch.tensor([1, 2], dtype=torch.int32).nanmean(dtype=torch.float16)
    with pytest.raises(RuntimeError, match=r"nanmean\(\): could not infer output dtype. "
                       r"Optional dtype must be either a floating point or complex dtype. "
                       r"Got: Long"):
        torch.tensor([1.]).nanmean(dtype=torch.int64)
    assert torch.tensor([1.]).nanmean(dtype=torch.float16).dtype is torch.float16


# ------------------------------------------------------------------ median of nothing

@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_empty_int(name):
    expected = {torch.int8: 0, torch.uint8: 0, torch.int16: 0, torch.int32: -2 ** 31,
                torch.int64: -2 ** 63}
    for d, v in expected.items():
        r = getattr(torch.tensor([], dtype=d), name)()
        assert r.dtype is d and r.item() == v
