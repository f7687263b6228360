"""Session 29's small PyTorch-fidelity leftovers (helper i29): alpha's checks, argument
type errors of view / reshape / split / arange / rand / randint / full, keepdim spelled
twice, mixed-device matrix products, the fused/capturable Adam's step on the parameter's
device and is_pinned after pin_memory. Expectations are torch 2.13's (checked against it;
the comparisons with torch itself skip without it)."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import gpujit

cuda = pytest.mark.cuda
HERE = os.path.dirname(os.path.abspath(__file__))


def _raises(cls, text, fn, *args, **kwargs):
    with pytest.raises(cls) as ei:
        fn(*args, **kwargs)
    assert str(ei.value) == text, str(ei.value)


# ------------------------------------------------------------------ 1. alpha's checks

BOOL_ALPHA = "Boolean alpha only supported for Boolean results."
FLOAT_ALPHA = "For integral input tensors, argument alpha must not be a floating point number."
COMPLEX_ALPHA = ("For non-complex input tensors, argument alpha must not be a complex "
                 "number.")


@pytest.mark.parametrize("call", [
    lambda x, y: x.add(y, alpha=True),
    lambda x, y: x.sub(y, alpha=True),
    lambda x, y: gpujit.add(x, y, alpha=True),
    lambda x, y: gpujit.sub(x, y, alpha=False),
    lambda x, y: gpujit.rsub(x, y, alpha=True),
    lambda x, y: x.add_(y, alpha=True),
    lambda x, y: x.sub_(y, alpha=True),
    lambda x, y: x.add(1, alpha=True),
    lambda x, y: x.bool().add(y, alpha=True),        # the result is float
    lambda x, y: x.long().add(y.long(), alpha=True),
])
def test_a_bool_alpha_needs_a_bool_result(call):
    _raises(RuntimeError, BOOL_ALPHA, call, gpujit.ones(2), gpujit.ones(2))


def test_alpha_of_the_wrong_kind():
    i = gpujit.ones(2, dtype=gpujit.int64)
    _raises(RuntimeError, FLOAT_ALPHA, i.add, i, alpha=1.0)    # 1.0 is not the int 1
    _raises(RuntimeError, FLOAT_ALPHA, i.add, 2, alpha=1.0)
    _raises(RuntimeError, FLOAT_ALPHA, i.sub, i, alpha=2.5)
    b = gpujit.ones(2, dtype=gpujit.bool)
    _raises(RuntimeError, FLOAT_ALPHA, b.add, b, alpha=1.5)
    _raises(RuntimeError, COMPLEX_ALPHA, gpujit.ones(2).add, gpujit.ones(2), alpha=1 + 0j)
    _raises(RuntimeError, FLOAT_ALPHA, i.add, i, alpha=1j)     # (checked first)
    _raises(RuntimeError, BOOL_ALPHA, gpujit.ones(2).add, gpujit.ones(2),
            alpha=gpujit.tensor(True))


def test_alphas_that_are_fine():
    b = gpujit.tensor([True, False])
    assert b.add(b, alpha=True).tolist() == [True, False]
    assert b.add(gpujit.tensor([False, True]), alpha=-1).tolist() == [True, True]
    np.testing.assert_array_equal(gpujit.ones(2).add(gpujit.ones(2), alpha=1.0).numpy(), [2, 2])
    np.testing.assert_array_equal(gpujit.ones(2).add(gpujit.ones(2), alpha=2).numpy(), [3, 3])
    np.testing.assert_array_equal(gpujit.ones(2).add(gpujit.ones(2),
                                                     alpha=gpujit.tensor(2.)).numpy(), [3, 3])
    i = gpujit.ones(2, dtype=gpujit.int64)
    assert i.add(2.5, alpha=1).tolist() == [3.5, 3.5]
    assert i.add(i, alpha=np.int64(3)).tolist() == [4, 4]


def _scripted_bool_alpha(x, y, a: bool):
    return x.add(y, alpha=a) * 2


def _scripted_true_alpha(x, y):
    return gpujit.sub(x, y, alpha=True)


def test_scripted_bool_alpha_is_an_int_as_in_torchscript():
    # TorchScript converts a bool Scalar argument with aten::Int: torch's scripted
    # x.add(y, alpha=True) gives x + y
    s = gpujit.jit.script(_scripted_bool_alpha)
    for _ in range(3):
        assert s(gpujit.ones(2), gpujit.ones(2), True).tolist() == [4.0, 4.0]
    s = gpujit.jit.script(_scripted_true_alpha)
    for _ in range(3):
        assert s(gpujit.ones(2), gpujit.ones(2)).tolist() == [0.0, 0.0]


def test_scripted_add_with_alpha_one_still_calls_numpy_directly():
    from gpujit.runtime.impl_facts import direct_call
    from gpujit.runtime.assume import NO_CONSTANT
    from gpujit.ops.pointwise import add
    op = add.op
    assert direct_call(op, {"alpha": 1}) == ("add", ["self", "other"])
    assert direct_call(op, {"alpha": True}) is None
    assert direct_call(op, {"alpha": 1.0}) is None
    assert direct_call(op, {"alpha": NO_CONSTANT}) is None
