"""Session 30's argument-parser fidelity leftovers (helper g30): factories taking `size=`,
arange's parser errors, mixed-device messages without an op-name prefix, bools refused
where an int dim is taken, wrong-arity calls in PyTorch's words, scripted
`<Python number> <op> <Tensor>` as TorchScript's scalar ops. Expected texts were checked
against torch 2.13. `@pytest.mark.cuda` tests run on a GPU and, through
test_fake_gpu.py's session, against tests/fakecupy on machines without one."""
from __future__ import annotations

import re

import numpy as np
import pytest

import gpujit
import gpujit as torch

cuda = pytest.mark.cuda


# (its cuda-marked tests run against the NumPy-backed CuPy in test_fake_gpu.py's session)


def _raises(cls, text, f):
    with pytest.raises(cls) as ei:
        f()
    assert str(ei.value) == text, str(ei.value)


# ------------------------------------------------------------------ size=

@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_size_by_keyword(name):
    f = getattr(torch, name)
    assert f(size=(2, 3)).shape == (2, 3)
    assert f(size=[2]).shape == (2,)
    assert f(size=()).shape == ()
    assert f(size=torch.Size([4])).shape == (4,)
    assert f(size=(2,), dtype=torch.float64).dtype == torch.float64


def test_size_keyword_values_and_errors():
    assert torch.zeros(size=(2,), dtype=torch.int32).tolist() == [0, 0]
    assert torch.ones(size=[3]).tolist() == [1.0, 1.0, 1.0]
    x = torch.randn(3, 4)
    assert x.new_zeros(size=(2,)).tolist() == [0.0, 0.0]
    assert x.new_ones(size=(2,)).tolist() == [1.0, 1.0]
    assert x.new_empty(size=(2, 1)).shape == (2, 1)
    assert x.new_zeros(size=(2,), dtype=torch.int64).dtype == torch.int64
    assert torch.randint(0, 5, size=(2,)).shape == (2,)
    _raises(TypeError, "zeros() got multiple values for argument 'size'",
            lambda: torch.zeros(2, size=(3,)))
    _raises(TypeError, "zeros(): argument 'size' must be tuple of ints, not int",
            lambda: torch.zeros(size=3))
    _raises(TypeError, "zeros(): argument 'size' must be tuple of ints, not NoneType",
            lambda: torch.zeros(size=None))
    _raises(TypeError, "zeros(): argument 'size' failed to unpack the object at pos 2 with "
            "error \"type must be tuple of ints,but got str\"",
            lambda: torch.zeros(size=(2, "a")))
    _raises(TypeError, "zeros() got an unexpected keyword argument 'foo'",
            lambda: torch.zeros(2, foo=1))
    _raises(TypeError, "new_zeros() got multiple values for argument 'size'",
            lambda: x.new_zeros(2, size=(3,)))
    _raises(TypeError, "new_zeros(): argument 'size' must be tuple of ints, not int",
            lambda: x.new_zeros(size=3))
    _raises(TypeError, "rand(): argument 'size' must be tuple of ints, not int",
            lambda: torch.rand(size=3))
    with pytest.raises(TypeError, match=re.escape(
            "rand() received an invalid combination of arguments - got (int, size=tuple), "
            "but expected one of:\n * (tuple of ints size, *, torch.Generator generator, ")):
        torch.rand(2, size=(3,))


# ------------------------------------------------------------------ arange

_ARANGE_SIGS = (
    " * (Number end, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout = "
    "None, torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n"
    " * (Number start, Number end, *, torch.dtype dtype = None, torch.layout layout = None, "
    "torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n"
    " * (Number start, Number end, Number step = 1, *, Tensor out = None, torch.dtype dtype "
    "= None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
    "bool requires_grad = False)\n")


@pytest.mark.parametrize("call, got", [
    (lambda: torch.arange(0, 10, 2, 1), "(int, int, int, int)"),
    (lambda: torch.arange(1, 2, 3, 4, 5), "(int, int, int, int, int)"),
    (lambda: torch.arange(), "()"),
    (lambda: torch.arange(0, 10, 2, 1, dtype=torch.float32),
     "(int, int, int, int, dtype=torch.dtype)"),
])
def test_arange_invalid_combinations(call, got):
    _raises(TypeError, f"arange() received an invalid combination of arguments - got {got}, "
            f"but expected one of:\n{_ARANGE_SIGS}", call)


def test_arange_keywords():
    assert torch.arange(end=5).tolist() == [0, 1, 2, 3, 4]
    assert torch.arange(start=1, end=5).tolist() == [1, 2, 3, 4]
    assert torch.arange(1, 5, step=2).tolist() == [1, 3]
    assert torch.arange(0, 10, 3).tolist() == [0, 3, 6, 9]
    with pytest.raises(TypeError, match=re.escape(
            "arange() received an invalid combination of arguments - got (int, foo=int)")):
        torch.arange(5, foo=1)


# ------------------------------------------------------------------ mixed devices

@cuda
def test_mixed_device_messages_have_no_op_name():
    x = gpujit.ones(3)
    want = ("Expected all tensors to be on the same device, but found at least two devices, "
            "{} and {}!")
    _raises(RuntimeError, want.format("cpu", "cuda:0"), lambda: x + x.cuda())
    _raises(RuntimeError, want.format("cuda:0", "cpu"), lambda: x.cuda().add(x))
    _raises(RuntimeError, want.format("cuda:0", "cpu"), lambda: x.cuda().mul_(x))
    _raises(RuntimeError, want.format("cpu", "cuda:0"), lambda: torch.outer(x, x.cuda()))


# ------------------------------------------------------------------ bool for an int

@pytest.mark.parametrize("call, text", [
    (lambda x: x.size(True), "size(): argument 'dim' (position 1) must be int, not bool"),
    (lambda x: x.stride(True), "stride(): argument 'dim' (position 1) must be int, not bool"),
    (lambda x: x.select(True, 0), "select(): argument 'dim' (position 1) must be int, not bool"),
    (lambda x: torch.select(x, True, 0),
     "select(): argument 'dim' (position 2) must be int, not bool"),
    (lambda x: x.transpose(True, 0),
     "transpose(): argument 'dim0' (position 1) must be int, not bool"),
    (lambda x: x.unsqueeze(True), "unsqueeze(): argument 'dim' (position 1) must be int, not bool"),
    (lambda x: x.flatten(True),
     "flatten(): argument 'start_dim' (position 1) must be int, not bool"),
    (lambda x: x.flatten(0, True),
     "flatten(): argument 'end_dim' (position 2) must be int, not bool"),
    (lambda x: torch.flatten(x, True),
     "flatten(): argument 'start_dim' (position 2) must be int, not bool"),
    (lambda x: x.softmax(True), "softmax(): argument 'dim' (position 1) must be int, not bool"),
    (lambda x: x.cumsum(True), "cumsum(): argument 'dim' (position 1) must be int, not bool"),
    (lambda x: x.topk(1, True), "topk(): argument 'dim' (position 2) must be int, not bool"),
    (lambda x: x.chunk(2, True), "chunk(): argument 'dim' (position 2) must be int, not bool"),
    (lambda x: torch.cat([x], True), "cat(): argument 'dim' (position 2) must be int, not bool"),
    (lambda x: x.roll(1, True),
     "roll(): argument 'dims' (position 2) must be tuple of ints, not bool"),
    (lambda x: x.argmax(True), "argmax(): argument 'dim' (position 1) must be int, not bool"),
    (lambda x: x.index_select(True, torch.tensor([0])),
     "index_select(): argument 'dim' (position 1) must be int, not bool"),
    (lambda x: x.diagonal(0, True, 0),
     "diagonal(): argument 'dim1' (position 2) must be int, not bool"),
    (lambda x: x.select(dim=True, index=0), "select(): argument 'dim' must be int, not bool"),
])
def test_bool_is_no_int_dim(call, text):
    _raises(TypeError, text, lambda: call(torch.randn(3, 4)))


def test_bool_for_an_int_in_overloaded_methods():
    x = torch.randn(3, 4)
    for name in ("sum", "mean"):
        with pytest.raises(TypeError, match=re.escape(
                f"{name}() received an invalid combination of arguments - got (bool), but "
                "expected one of:\n * (*, torch.dtype dtype = None)\n * (tuple of ints dim, "
                "bool keepdim = False, *, torch.dtype dtype = None)\n")):
            getattr(x, name)(True)
    # where a bool is a number: Scalar / float parameters, a bool fill value
    assert torch.nn.functional.leaky_relu(x, True).shape == (3, 4)
    assert torch.full((2,), True).dtype == torch.bool


def test_size_and_stride_dims():
    x = torch.randn(3, 4)
    assert x.size(0) == 3 and x.size(-1) == 4 and x.stride(0) == 4
    assert x.size(np.int64(1)) == 4 and x.size(torch.tensor(1)) == 4
    _raises(TypeError, "size(): argument 'dim' (position 1) must be int, not bool",
            lambda: x.size(False))
    _raises(IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 5)",
            lambda: x.size(5))
    _raises(TypeError, "size(): argument 'dim' (position 1) must be int, not float",
            lambda: x.size(1.0))
    x0 = torch.tensor(1.0)
    for d in (0, -1, 1):
        _raises(IndexError, f"Dimension specified as {d} but tensor has no dimensions",
                lambda: x0.size(d))
    _raises(IndexError, "Dimension specified as 0 but tensor has no dimensions",
            lambda: x0.stride(0))
