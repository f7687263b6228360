"""torch.tensor(<Python numbers>, dtype=<integer dtype>) converts as PyTorch's eager
does (c10's checked conversion): out-of-range values raise "value cannot be converted
to type uint8 without overflow"; negative ints wrap into unsigned dtypes down to -max.
(Scripted code casts as TorchScript does, without the check: test_script_number_semantics.)"""
import pytest

import gpujit as torch

OK = [(-1, torch.uint8, 255), (-255, torch.uint8, 1), (255.0, torch.uint8, 255),
      (-0.5, torch.int8, 0), (-1.5, torch.int8, -1), (2.7, torch.int32, 2),
      (True, torch.uint8, 1), ([1, -2], torch.uint8, [1, 254]), ([], torch.uint8, []),
      (127, torch.int8, 127), (-128, torch.int8, -128), (2.0 ** 62, torch.int64, 2 ** 62),
      (-(2 ** 63), torch.int64, -(2 ** 63))]
BAD = [(300, torch.uint8), (256, torch.uint8), (-256, torch.uint8), (-129, torch.int8),
       (128, torch.int8), (255.5, torch.uint8), (-0.5, torch.uint8), (float("nan"), torch.int32),
       (float("inf"), torch.int64), (float("-inf"), torch.int16), (3e9, torch.int32),
       ([1, 300], torch.uint8), ([1.5, -0.5], torch.uint8), (1e20, torch.int64),
       (2.0 ** 63, torch.int64), (40000, torch.int16)]


@pytest.mark.parametrize("value, dtype, want", OK)
def test_in_range_values_convert(value, dtype, want):
    t = torch.tensor(value, dtype=dtype)
    assert t.dtype is dtype and t.tolist() == want


@pytest.mark.parametrize("value, dtype", BAD)
def test_out_of_range_values_raise(value, dtype):
    name = str(dtype).rsplit(".", 1)[-1]
    with pytest.raises(RuntimeError, match=f"value cannot be converted to type {name} "
                                           f"without overflow"):
        torch.tensor(value, dtype=dtype)


def test_arrays_and_tensors_convert_unchecked():
    """Only Python numbers are checked (as PyTorch: a tensor's .to() wraps)."""
    import numpy as np
    t = torch.tensor(np.array([300], dtype=np.int64), dtype=torch.uint8)
    assert t.tolist() == [44]
    assert torch.tensor([300]).to(torch.uint8).tolist() == [44]
