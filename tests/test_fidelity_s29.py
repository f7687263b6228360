"""Session 29's small PyTorch-fidelity leftovers (helper i29): alpha's checks, argument
type errors of view / reshape / split / arange / rand / randint / full, keepdim spelled
twice, mixed-device matrix products, the fused/capturable Adam's step on the parameter's
device and is_pinned after pin_memory. Expectations are torch 2.13's (checked against it;
the comparisons with torch itself skip without it)."""
from __future__ import annotations

import os

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


# ------------------------------------------------------------------ 2/3. parser errors

def _view_combination(desc):
    return ("view() received an invalid combination of arguments - got ({0}), but expected "
            "one of:\n * (torch.dtype dtype)\n      didn't match because some of the "
            "arguments have invalid types: (!{1}!)\n * (tuple of ints size)\n      didn't "
            "match because some of the arguments have invalid types: (!{1}!)\n").format(
                desc.split(" of ")[0], desc)


@pytest.mark.parametrize("size, desc", [
    ([2.0, 3], "list of [float, int]"), (("a", 2), "tuple of (str, int)"),
    ((2.0,), "tuple of (float,)"), ([gpujit.tensor(2.), 3], "list of [Tensor, int]"),
    ([gpujit.tensor([2, 3])], "list of [Tensor]"),
])
def test_view_given_a_sequence_of_no_ints_matches_neither_overload(size, desc):
    _raises(TypeError, _view_combination(desc), gpujit.ones(6).view, size)


def test_view_and_reshape_sequences_that_stay_as_they_were():
    x = gpujit.ones(6)
    _raises(TypeError, "view(): argument 'size' failed to unpack the object at pos 2 with "
            "error \"type must be tuple of ints,but got str\"", x.view, (2, "a"))
    _raises(TypeError, "reshape(): argument 'shape' (position 1) must be tuple of ints, but "
            "found element of type float at pos 0", x.reshape, [2.0, 3])
    assert x.view([gpujit.tensor(2), 3]).shape == (2, 3)
    assert x.view([2, 3]).shape == (2, 3) and x.view((3, 2)).shape == (3, 2)


_RAND_SIGS = (
    " * (tuple of ints size, *, torch.Generator generator, Tensor out = None, torch.dtype "
    "dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = "
    "False, bool requires_grad = False)\n * (tuple of ints size, *, Tensor out = None, "
    "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool "
    "pin_memory = False, bool requires_grad = False)\n")
_OPTS = ("Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
         "torch.device device = None, bool pin_memory = False, bool requires_grad = False)")
_RANDINT_SIGS = (
    f" * (int high, tuple of ints size, *, torch.Generator generator, {_OPTS}\n"
    f" * (int high, tuple of ints size, *, {_OPTS}\n"
    f" * (int low, int high, tuple of ints size, *, torch.Generator generator, {_OPTS}\n"
    f" * (int low, int high, tuple of ints size, *, {_OPTS}\n")
_ARANGE_SIGS = (
    f" * (Number end, *, {_OPTS}\n"
    " * (Number start, Number end, *, torch.dtype dtype = None, torch.layout layout = None, "
    "torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n"
    f" * (Number start, Number end, Number step = 1, *, {_OPTS}\n")


def _combination(name, got, sigs):
    return (f"{name}() received an invalid combination of arguments - got {got}, but "
            f"expected one of:\n{sigs}")


G = gpujit
FACTORY_ERRORS = [
    (lambda: G.rand("a"), "rand(): argument 'size' (position 1) must be tuple of ints, not str"),
    (lambda: G.rand(2.0), "rand(): argument 'size' (position 1) must be tuple of ints, not float"),
    (lambda: G.randn("a"), "randn(): argument 'size' (position 1) must be tuple of ints, not str"),
    (lambda: G.rand(2, "a"), "rand(): argument 'size' failed to unpack the object at pos 2 with "
                             "error \"type must be tuple of ints,but got str\""),
    (lambda: G.rand((2, "a")), "rand(): argument 'size' failed to unpack the object at pos 2 "
                               "with error \"type must be tuple of ints,but got str\""),
    (lambda: G.rand(2.0, 3), _combination("rand", "(float, int)", _RAND_SIGS)),
    (lambda: G.rand(), _combination("rand", "()", _RAND_SIGS)),
    (lambda: G.randn(), _combination("randn", "()", _RAND_SIGS.replace("rand", "randn"))),
    (lambda: G.rand(2, dtype="x"), _combination("rand", "(int, dtype=str)", _RAND_SIGS)),
    (lambda: G.rand(2, generator=3), _combination("rand", "(int, generator=int)", _RAND_SIGS)),
    (lambda: G.randint("a", (2,)), "randint(): argument 'high' (position 1) must be int, not str"),
    (lambda: G.randint(2.5, (2,)), "randint(): argument 'high' (position 1) must be int, not "
                                   "float"),
    (lambda: G.randint(True, (2,)), "randint(): argument 'high' (position 1) must be int, not "
                                    "bool"),
    (lambda: G.randint(G.tensor(5.), (2,)), "randint(): argument 'high' (position 1) must be "
                                            "int, not Tensor"),
    (lambda: G.randint(5, "a"), "randint(): argument 'size' (position 2) must be tuple of ints, "
                                "not str"),
    (lambda: G.randint(5, 2), "randint(): argument 'size' (position 2) must be tuple of ints, "
                              "not int"),
    (lambda: G.randint(5, [2.0]), "randint(): argument 'size' (position 2) must be tuple of "
                                  "ints, but found element of type float at pos 0"),
    (lambda: G.randint(2, size=(2.0,)), "randint(): argument 'size' must be tuple of ints, not "
                                        "tuple"),
    (lambda: G.randint(0, "a", (2,)), _combination("randint", "(int, str, tuple)",
                                                   _RANDINT_SIGS)),
    (lambda: G.randint(0, 2.0, (2,)), _combination("randint", "(int, float, tuple)",
                                                   _RANDINT_SIGS)),
    (lambda: G.randint(5), _combination("randint", "(int)", _RANDINT_SIGS)),
    (lambda: G.randint(5, (2,), generator=3), _combination("randint",
                                                           "(int, tuple, generator=int)",
                                                           _RANDINT_SIGS)),
    (lambda: G.randint(5, (2,), dtype="x"), _combination("randint", "(int, tuple, dtype=str)",
                                                         _RANDINT_SIGS)),
    (lambda: G.randperm("a"), "randperm(): argument 'n' (position 1) must be int, not str"),
    (lambda: G.randperm(2.0), "randperm(): argument 'n' (position 1) must be int, not float"),
    (lambda: G.randperm(True), "randperm(): argument 'n' (position 1) must be int, not bool"),
    (lambda: G.arange("a"), "arange(): argument 'end' (position 1) must be Number, not str"),
    (lambda: G.arange(0, "a"), _combination("arange", "(int, str)", _ARANGE_SIGS)),
    (lambda: G.arange(0, 5, "a"), _combination("arange", "(int, int, str)", _ARANGE_SIGS)),
    (lambda: G.arange(5, dtype="a"), _combination("arange", "(int, dtype=str)", _ARANGE_SIGS)),
    (lambda: G.full((2,), "a"), "full(): argument 'fill_value' (position 2) must be Number, "
                                "not str"),
    (lambda: G.full("a", 1), "full(): argument 'size' (position 1) must be tuple of ints, not "
                             "str"),
    (lambda: G.zeros(), "zeros() missing 1 required positional arguments: \"size\""),
    (lambda: G.ones(), "ones() missing 1 required positional arguments: \"size\""),
    (lambda: G.empty(), "empty() missing 1 required positional arguments: \"size\""),
    (lambda: G.rand(3, generator=np.random.default_rng(0)),
     _combination("rand", "(int, generator=numpy.random._generator.Generator)", _RAND_SIGS)),
]


@pytest.mark.parametrize("k", range(len(FACTORY_ERRORS)))
def test_factory_argument_errors(k):
    fn, text = FACTORY_ERRORS[k]
    _raises(TypeError, text, fn)


def test_factory_calls_that_are_fine():
    assert G.randint(G.tensor(5), (2,)).shape == (2,)
    assert G.randint(high=3, size=(2,)).shape == (2,)
    assert G.randint(low=1, high=3, size=(2,)).shape == (2,)
    assert G.randint(0, 5, [3], dtype=G.int32).dtype == G.int32
    assert G.randperm(G.tensor(3)).shape == (3,)
    assert G.rand(()).shape == () and G.rand([]).shape == () and G.rand(2, 3).shape == (2, 3)
    assert G.zeros(()).shape == () and G.ones([]).shape == ()
    assert G.arange(G.tensor(3)).tolist() == [0, 1, 2]
    assert G.arange(1, 2.5, 0.5).tolist() == [1.0, 1.5, 2.0]


_SPLIT_SIGS = (" * (Tensor input, int split_size, int dim = 0)\n{0}"
               " * (Tensor input, tuple of ints split_size, int dim = 0)\n{1}")


def test_split_errors():
    x = gpujit.ones(6)
    for bad, name in (("a", "str"), (2.0, "float"), (None, "NoneType")):
        text = ("split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of "
                f"ints, not {name}")
        _raises(TypeError, text, x.split, bad)
        _raises(TypeError, text, gpujit.split, x, bad)
    why = "      didn't match because some of the arguments have invalid types: "
    _raises(TypeError, _combination("split", "(Tensor, bool, int)", _SPLIT_SIGS.format(
        why + "(Tensor, !bool!, !int!)\n", why + "(Tensor, !bool!, !int!)\n")), x.split, True)
    _raises(TypeError, _combination("split", "(Tensor, int, str)", _SPLIT_SIGS.format(
        why + "(Tensor, int, !str!)\n", why + "(Tensor, !int!, !str!)\n")), x.split, 2, "a")
    _raises(TypeError, "split_with_sizes(): argument 'dim' (position 3) must be int, not str",
            x.split, [2, 4], "a")
    assert [t.shape[0] for t in x.split(4)] == [4, 2]
    assert [t.shape[0] for t in x.split(gpujit.tensor(2))] == [2, 2, 2]


def test_none_for_an_int_list_that_takes_none():
    x = gpujit.ones(2, 3)
    _raises(TypeError, "flip(): argument 'dims' (position 2) must be tuple of ints, not "
            "NoneType", gpujit.flip, x, None)
    _raises(TypeError, "flip(): argument 'dims' (position 1) must be tuple of ints, not "
            "NoneType", x.flip, None)
    assert gpujit.sum(x, None).item() == 6.0 and x.mean(None).item() == 1.0


def test_size_and_stride_dim_argument():
    x = gpujit.ones(6)
    assert x.size(axis=0) == 6 and x.stride(axis=0) == 1 and x.size(gpujit.tensor(0)) == 6
    _raises(TypeError, "size() got an unexpected keyword argument 'axis'", x.size, dim=0,
            axis=0)
    for bad, name in (("a", "str"), (1.0, "float"), (0.0, "float"), (True, "bool"),
                      (gpujit.tensor(0.), "Tensor")):
        _raises(TypeError, f"size(): argument 'dim' (position 1) must be int, not {name}",
                x.size, bad)
    _raises(TypeError, "stride(): argument 'dim' (position 1) must be int, not str", x.stride,
            "a")
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                       r"of \[-1, 0\], but got 5\)"):
        x.size(5)


# ------------------------------------------------------------------ 4. keepdim and keepdims

def test_keepdim_and_keepdims_both_given():
    x = gpujit.ones(2, 3)
    for name in ("argmax", "argmin", "sum"):
        _raises(TypeError, f"{name}() got an unexpected keyword argument 'keepdims'",
                getattr(x, name), 1, keepdim=True, keepdims=True)
    assert gpujit.argmax(x, 1, keepdims=True).shape == (2, 1)
    assert x.max(dim=1, keepdims=True).values.shape == (2, 1)
    with pytest.raises(TypeError, match=r"max\(\) received an invalid combination of "
                       r"arguments - got \(int, keepdims=bool, keepdim=bool\)"):
        x.max(1, keepdim=True, keepdims=True)


# ------------------------------------------------------------------ 7. pinned memory

def test_pin_memory_without_an_accelerator():
    if gpujit.cuda.is_available():
        pytest.skip("an accelerator (or the fake CuPy) is here")
    _raises(RuntimeError, "Cannot access accelerator device when none is available.",
            gpujit.ones(2).pin_memory)
    assert gpujit.ones(2).is_pinned() is False


# (its cuda-marked tests run against the NumPy-backed CuPy in test_fake_gpu.py's session)


@cuda
def test_is_pinned_after_pin_memory():
    x = gpujit.arange(6.).pin_memory()
    assert x.is_pinned() and x.view(2, 3).is_pinned() and x[1:].is_pinned()
    assert x.detach().is_pinned() and x.pin_memory() is x
    assert not x.clone().is_pinned() and not gpujit.ones(2).is_pinned()
    y = x.cuda(non_blocking=True)
    assert not y.is_pinned() and y.cpu().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
