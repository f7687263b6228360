"""Python ints past int64 as PyTorch 2.13 takes them (expected values read from torch 2.13):
torch.tensor's item order decides between its ValueError (an int read as a long long) and
c10's RuntimeError (a number out of the dtype's range); add / sub / rsub / addcmul check an
int alpha (value) against int64 too, and sub / rsub add -alpha negated in int64's two's
complement, as c10's Scalar negates it."""
import pytest

import gpujit as torch

LL = (ValueError, "Overflow when unpacking long long")


def _ovf(name):
    return (RuntimeError, f"value cannot be converted to type {name} without overflow")


@pytest.mark.parametrize("make, expected", [
    (lambda: torch.tensor([2 ** 63, 1]), LL),
    (lambda: torch.tensor([[1], [2 ** 63]]), LL),
    (lambda: torch.tensor([-2 ** 63 - 1, 1]), LL),
    (lambda: torch.tensor([2 ** 63, 1], dtype=torch.int32), LL),
    (lambda: torch.tensor([2 ** 63, 1.5], dtype=torch.int64), LL),
    (lambda: torch.tensor((2 ** 63, 1), dtype=torch.uint8), LL),
    (lambda: torch.tensor([[3, 1.], [2 ** 70, 1]], dtype=torch.int8), LL),
    (lambda: torch.tensor([2 ** 70, 1e300], dtype=torch.int16), LL),
    (lambda: torch.tensor([1e300, 2 ** 70], dtype=torch.int16), _ovf("int16")),
    (lambda: torch.tensor([[300, 1.], [2 ** 70, 1]], dtype=torch.int8), _ovf("int8")),
    (lambda: torch.tensor([1e19, 1], dtype=torch.int64), _ovf("int64")),
])
def test_tensor_of_ints_past_int64_raises_as_pytorch(make, expected):
    exc, words = expected
    with pytest.raises(exc) as e:
        make()
    assert str(e.value) == words


@pytest.mark.parametrize("make, expected", [
    (lambda: torch.tensor([2 ** 70], dtype=torch.complex64), [2.0 ** 70]),
    (lambda: torch.tensor([1.5, 2 ** 70], dtype=torch.complex64), [1.5, 2.0 ** 70]),
    (lambda: torch.tensor([2 ** 70, 1j]), [2.0 ** 70, 1j]),
    (lambda: torch.tensor([[2 ** 63], [1.5]]), [[2.0 ** 63], [1.5]]),
    (lambda: torch.tensor([2 ** 63, 1], dtype=torch.bool), [True, True]),
])
def test_tensor_of_ints_past_int64_stored_as_pytorch(make, expected):
    assert make().tolist() == expected


def _i(dt=None):
    return torch.ones(3, dtype=dt or torch.int64)


@pytest.mark.parametrize("call, name", [
    (lambda: torch.add(_i(), _i(), alpha=2 ** 63), "int64_t"),
    (lambda: torch.add(_i(), 1, alpha=2 ** 63), "int64_t"),
    (lambda: _i().add_(_i(), alpha=2 ** 63), "int64_t"),
    (lambda: torch.addcmul(_i(), _i(), _i(), value=2 ** 63), "int64_t"),
    (lambda: torch.sub(_i(torch.int32), _i(torch.int32), alpha=-2 ** 31), "int"),
])
def test_int_alpha_out_of_range_is_pytorchs_runtime_error(call, name):
    with pytest.raises(RuntimeError, match=f"cannot be converted to type {name} without"):
        call()


M = -2 ** 63
# (sub and rsub add -alpha, negated in int64: 1 - 2**63 * 1 wraps to 1 + -2**63)
@pytest.mark.parametrize("call, expected", [
    (lambda: torch.sub(_i(), _i(), alpha=2 ** 63), 1 + M),
    (lambda: torch.sub(_i(), _i(), alpha=-2 ** 63), 1 + M),
    (lambda: torch.sub(_i(), _i(), alpha=2 ** 63 + 1), M),
    (lambda: torch.rsub(_i(), _i(), alpha=2 ** 63), 1 + M),
    (lambda: _i().sub_(_i(), alpha=2 ** 63), 1 + M),
    (lambda: torch.add(_i(), _i(), alpha=-2 ** 63), 1 + M),
    (lambda: torch.sub(_i(torch.int32), _i(torch.int32), alpha=2 ** 31), 1 - 2 ** 31),
    (lambda: torch.sub(_i(torch.uint8), _i(torch.uint8), alpha=2), 255),
    (lambda: torch.sub(torch.ones(3), torch.ones(3), alpha=2 ** 63), 1.0 - 2.0 ** 63),
    (lambda: torch.sub(torch.tensor([5, 6]), 2, alpha=3), None),
])
def test_sub_adds_alpha_negated_in_int64(call, expected):
    r = call().tolist()
    if expected is None:
        assert r == [-1, 0]
    else:
        assert r == [expected] * 3
