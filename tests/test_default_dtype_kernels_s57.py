"""A fused kernel whose body computes in the default dtype without any output dtype showing
it (isclose of integer tensors measures its error in the default float dtype, as torch
2.13 does) is a different kernel after set_default_dtype: the memory cache's key holds the
default dtype (it served the float32 kernel after a switch to float64)."""
import gpujit as torch


def _close(a, b):
    return torch.isclose(a * 1, b + 0, rtol=0.0, atol=0.5) & (a > -100)


def test_integer_isclose_kernel_follows_the_default_dtype():
    a = torch.tensor([2 ** 24 + 1, 5, 7], dtype=torch.int64)
    b = torch.tensor([2 ** 24, 5, 9], dtype=torch.int64)
    s = torch.jit.script(_close)
    old = torch.get_default_dtype()
    try:
        for _ in range(3):
            r = s(a, b)
        # (float32: 2**24 + 1 rounds to 2**24, so they are close)
        assert r.tolist() == _close(a, b).tolist() == [True, True, False]
        torch.set_default_dtype(torch.float64)
        for _ in range(3):
            r = s(a, b)
        assert r.tolist() == _close(a, b).tolist() == [False, True, False]
    finally:
        torch.set_default_dtype(old)
