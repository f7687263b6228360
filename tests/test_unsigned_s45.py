"""Session 45 (b45): the unsigned integer types of PyTorch's limited support (uint16 /
uint32 / uint64) and the unsigned conversions of Python numbers; each behaviour is checked
against hand-written / NumPy values (CI has no torch) and against torch 2.13 where it is
importable."""
import pytest

import gpujit

try:
    import torch
except ImportError:        # (CI)
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares with PyTorch")


def _outcome(f):
    """('ok', value) or (exception class name, first line of its message)."""
    try:
        r = f()
    except Exception as e:          # noqa: BLE001 - the class is what is compared
        cls = "NotImplementedError" if isinstance(e, NotImplementedError) else type(e).__name__
        return cls, str(e).splitlines()[0]
    if hasattr(r, "tolist"):
        return "ok", (str(r.dtype).split(".")[-1], r.tolist())
    return "ok", r


# ---------------------------------------------------------------- c10's checked conversion
# of a float fill value to an unsigned type: a negative float never fits (only a negative
# int wraps, -1 -> 255)

_NEG_FLOAT_FILLS = [
    lambda t, u: t.full((2,), -1.0, dtype=t.uint8),
    lambda t, u: u.clone().fill_(-0.5),
    lambda t, u: u.index_fill(0, t.tensor([0]), -1.0),
    lambda t, u: u.masked_fill(t.tensor([True, False]), -2.0),
    lambda t, u: u.clone().__setitem__(0, -1.0),
]


@pytest.mark.parametrize("k", range(len(_NEG_FLOAT_FILLS)))
def test_negative_float_fill_of_uint8_overflows(k):
    u = gpujit.tensor([1, 2], dtype=gpujit.uint8)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t "
                                           "without overflow"):
        _NEG_FLOAT_FILLS[k](gpujit, u)


def test_negative_int_fill_of_uint8_still_wraps():
    assert gpujit.full((2,), -1, dtype=gpujit.uint8).tolist() == [255, 255]
    assert gpujit.tensor([1, 2], dtype=gpujit.uint8).masked_fill(
        gpujit.tensor([True, False]), -255).tolist() == [1, 2]
    assert gpujit.tensor([1, 2], dtype=gpujit.uint8).fill_(255.0).tolist() == [255, 255]


@needs_torch
@pytest.mark.parametrize("k", range(len(_NEG_FLOAT_FILLS)))
def test_negative_float_fill_of_uint8_as_torch(k):
    f = _NEG_FLOAT_FILLS[k]
    assert _outcome(lambda: f(gpujit, gpujit.tensor([1, 2], dtype=gpujit.uint8))) == \
        _outcome(lambda: f(torch, torch.tensor([1, 2], dtype=torch.uint8)))
