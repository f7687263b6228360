"""Session 45 (e45): numbers in traces as PyTorch's wrapped numbers, value names.

A Python number given for a Tensor parameter of add / sub / mul / div / floor_divide /
true_divide is wrapped by PyTorch's argument parser in a 0-dim CPU tensor marked
is_wrapped_number, which promotes as the number (int64 x * it is float32); a trace records
it as a tensor constant and its replay keeps the mark, a saved and loaded trace does not.
"""
import copy
import pickle

import pytest

import gpujit
from gpujit.ops.registry import wrapped_number

DTYPES = ["int64", "int32", "uint8", "bool", "float16", "float32", "float64"]
NUMBERS = [2, 2.5, True, -3, 0.1]


def _x(dt):
    return gpujit.arange(1, 5).to(getattr(gpujit, dt))


EAGER = {
    "add": lambda a, b: gpujit.add(a, b),
    "sub": lambda a, b: gpujit.sub(a, b),
    "mul": lambda a, b: gpujit.mul(a, b),
    "div": lambda a, b: gpujit.div(a, b),
    "div_trunc": lambda a, b: gpujit.div(a, b, rounding_mode="trunc"),
    "floor_divide": lambda a, b: gpujit.floor_divide(a, b),
    "true_divide": lambda a, b: gpujit.true_divide(a, b),
    "remainder": lambda a, b: gpujit.remainder(a, b),
    "add_alpha": lambda a, b: gpujit.add(a, b, alpha=2),
}


def _outcome(fn, *args):
    try:
        r = fn(*args)
    except Exception as e:      # noqa: BLE001 - the error is what is compared
        return type(e), str(e)
    return r.dtype, r.numpy().tolist()


@pytest.mark.parametrize("dt", DTYPES)
def test_wrapped_number_promotes_as_the_number(dt):
    # eager registry ops: a wrapped number computes what the Python number computes
    x = _x(dt)
    for name, fn in EAGER.items():
        for n in NUMBERS:
            assert _outcome(fn, x, wrapped_number(n)) == _outcome(fn, x, n), (name, n)
            assert _outcome(fn, wrapped_number(n), x) == _outcome(fn, n, x), (name, n)


def test_wrapped_number_dtypes_hand_checked():
    i64, f16 = _x("int64"), _x("float16")
    assert (i64 * wrapped_number(2.5)).dtype == gpujit.float32     # (a plain 0-dim: float64)
    assert gpujit.floor_divide(i64, wrapped_number(2.5)).dtype == gpujit.float32
    assert (wrapped_number(2.5) * i64).dtype == gpujit.float32
    assert (f16 * wrapped_number(2.5)).dtype == gpujit.float16
    assert (_x("uint8") + wrapped_number(300)).tolist() == [45, 46, 47, 48]
    assert (_x("bool") + wrapped_number(True)).dtype == gpujit.bool
    assert gpujit.result_type(i64, wrapped_number(2.5)) == gpujit.float32
    assert gpujit.result_type(f16, wrapped_number(2.5)) == gpujit.float16
    plain = gpujit.tensor(2.5, dtype=gpujit.float64)
    assert (i64 * plain).dtype == gpujit.float64       # (an unmarked 0-dim tensor)
    with gpujit.autograd.set_grad_enabled(True):
        p = gpujit.ones(3, requires_grad=True)
        y = p * wrapped_number(2)
        assert type(y.grad_fn).__name__ == "MulBackward0"
        y.sum().backward()
        assert p.grad.tolist() == [2.0, 2.0, 2.0]


def test_wrapped_mark_is_not_copied():
    # as PyTorch's (is_wrapped_number lives in the TensorImpl): copies are plain tensors
    w = wrapped_number(2.5)
    assert w._wrapped_number and w.dim() == 0 and w.dtype == gpujit.float64
    for c in (pickle.loads(pickle.dumps(w)), copy.deepcopy(w), w.clone(), w.neg().neg()):
        assert not c._wrapped_number
        assert (_x("int64") * c).dtype == gpujit.float64
    # (an op's result is no wrapped number: wrapped + number promotes as two numbers)
    r = w + 0
    assert not r._wrapped_number and r.dtype == gpujit.float32 and r.item() == 2.5
    t = gpujit.tensor(1.0)
    t.note = 3
    assert copy.deepcopy(t).note == 3 and pickle.loads(pickle.dumps(t)).note == 3
