"""Session 59's error leftovers and their kin (helper c60). Expected messages are torch
2.13's: lp_pool's norm_type parsed by input.pow (a str is pow()'s TypeError, gpujit took
float('2')); an int list given a str / range / NumPy array / dict (PyTorch's parser takes a
tuple or list only: F.pad(x, '11') padded by (1, 1)); x.pow('2') and the other names whose
Python binding has Scalar overloads name the invalid combination; max_unpool names the
last bad index (ATen's kernel keeps the last it meets); repeat's sizes are int64
products (a wrapped size is a negative dimension), checked as c10 checks a new tensor's
storage and strides before anything is allocated."""
import numpy as np
import pytest

import gpujit as torch
import gpujit.nn.functional as F


def _x():
    return torch.arange(16.).reshape(1, 1, 4, 4)


_POW_STR = ("pow() received an invalid combination of arguments - got (str), but expected "
            "one of:\n * (Tensor exponent)\n      didn't match because some of the arguments "
            "have invalid types: (!str!)\n * (Number exponent)\n      didn't match because "
            "some of the arguments have invalid types: (!str!)\n")


@pytest.mark.parametrize("call", [
    lambda: F.lp_pool2d(_x(), '2', 2),
    lambda: F.lp_pool1d(_x()[0], '2', 2),
    lambda: F.lp_pool3d(_x()[None], '2', 2),
])
def test_lp_pool_norm_type_str_is_pows_type_error(call):
    with pytest.raises(TypeError) as e:
        call()
    assert str(e.value) == _POW_STR


def test_lp_pool_norm_type_none_and_list():
    with pytest.raises(TypeError, match=r"pow\(\) received an invalid combination of "
                                        r"arguments - got \(NoneType\)"):
        F.lp_pool2d(_x(), None, 2)
    with pytest.raises(TypeError, match=r"\(!list of \[int\]!\)"):
        F.lp_pool2d(_x(), [2], 2)


def test_lp_pool_kernel_size_is_unpacked_first():
    with pytest.raises(ValueError, match=r"^not enough values to unpack \(expected 2, got 1\)$"):
        F.lp_pool2d(_x(), 2, [2])
    with pytest.raises(ValueError, match=r"^not enough values to unpack \(expected 2, got 1\)$"):
        F.lp_pool2d(_x(), 2, '2')
    with pytest.raises(ValueError, match=r"^too many values to unpack \(expected 2\)$"):
        F.lp_pool2d(_x(), 2, [2, 2, 2])
    with pytest.raises(ValueError, match=r"^not enough values to unpack \(expected 3, got 2\)$"):
        F.lp_pool3d(_x()[None], 2, [1, 2])


def test_lp_pool_still_computes():
    # a bool / int / float norm_type as before; (sum of squares over each 2x2 window) ** 0.5
    want = np.sqrt(np.array([[0 + 1 + 16 + 25, 4 + 9 + 36 + 49],
                             [64 + 81 + 144 + 169, 100 + 121 + 196 + 225]], np.float32))
    for p in (2, 2.0):
        np.testing.assert_allclose(F.lp_pool2d(_x(), p, 2)[0, 0].numpy(), want, rtol=1e-6)
    assert tuple(F.lp_pool2d(_x(), True, 2).shape) == (1, 1, 2, 2)
    # (nn.LPPool2d's forward passes float(self.norm_type): '2' is 2.0, as in torch)
    np.testing.assert_allclose(torch.nn.LPPool2d('2', 2)(_x())[0, 0].numpy(), want, rtol=1e-6)


@pytest.mark.parametrize("call, arg, pos, what", [
    (lambda v: F.avg_pool2d(_x(), v), "kernel_size", 2, "str"),
    (lambda v: F.max_pool2d(_x(), v), "kernel_size", 2, "str"),
    (lambda v: torch.constant_pad_nd(_x(), v), "pad", 2, "str"),
    (lambda v: _x().flip(v), "dims", 1, "str"),
])
def test_an_int_list_given_a_str_is_the_parsers_type_error(call, arg, pos, what):
    with pytest.raises(TypeError, match=rf"argument '{arg}' \(position {pos}\) must be tuple "
                                        rf"of ints, not {what}$"):
        call("22")


@pytest.mark.parametrize("value, shown", [
    (range(2, 4), "range"), (np.array([2, 2]), "numpy.ndarray"), ({2: 2}, "dict"),
    ({2}, "set"), (b"22", "bytes"),
])
def test_an_int_list_takes_a_tuple_or_list_only(value, shown):
    with pytest.raises(TypeError, match=rf"avg_pool2d\(\): argument 'kernel_size' \(position "
                                        rf"2\) must be tuple of ints, not {shown}$"):
        F.avg_pool2d(_x(), value)
    with pytest.raises(TypeError, match=rf"must be tuple of ints, not {shown}$"):
        torch.constant_pad_nd(_x(), value)
    with pytest.raises(TypeError, match=r"sum\(\) received an invalid combination"):
        _x().sum(value)


def test_pad_with_a_str_no_longer_pads():
    with pytest.raises(TypeError, match=r"must be tuple of ints, not str"):
        F.pad(_x(), "11")


def test_view_of_a_numpy_array_is_the_parsers_error():
    with pytest.raises(TypeError, match=r"view\(\) received an invalid combination of "
                                        r"arguments - got \(numpy.ndarray\)"):
        _x().view(np.array([2, 8]))
    with pytest.raises(TypeError, match=r"flip\(\): argument 'dims' \(position 1\) must be "
                                        r"tuple of ints, not numpy.ndarray"):
        _x().flip(np.array([0, 1]))


@pytest.mark.parametrize("call, name, param", [
    (lambda x: x.pow("2"), "pow", "exponent"),
    (lambda x: x.pow_("2"), "pow_", "exponent"),
    (lambda x: x.float_power("2"), "float_power", "exponent"),
    (lambda x: x.eq("2"), "eq", "other"),
    (lambda x: x.eq_("2"), "eq_", "other"),
    (lambda x: x.remainder("2"), "remainder", "other"),
    (lambda x: x.fmod("2"), "fmod", "other"),
    (lambda x: x.xlogy("2"), "xlogy", "other"),
    (lambda x: x.copysign("2"), "copysign", "other"),
    (lambda x: x.bitwise_and("2"), "bitwise_and", "other"),
])
def test_methods_with_scalar_twins_name_the_invalid_combination(call, name, param):
    with pytest.raises(TypeError) as e:
        call(torch.ones(2) if not name.startswith("bitwise") else torch.ones(2, dtype=torch.int64))
    assert str(e.value) == (
        f"{name}() received an invalid combination of arguments - got (str), but expected "
        f"one of:\n * (Tensor {param})\n      didn't match because some of the arguments have "
        f"invalid types: (!str!)\n * (Number {param})\n      didn't match because some of the "
        f"arguments have invalid types: (!str!)\n")


def test_rsub_function_names_both_signatures():
    with pytest.raises(TypeError) as e:
        torch.rsub(torch.ones(2), "2")
    assert str(e.value) == (
        "rsub() received an invalid combination of arguments - got (Tensor, str), but "
        "expected one of:\n * (Tensor input, Tensor other, *, Number alpha = 1)\n * (Tensor "
        "input, Number other, Number alpha = 1)\n")


def test_div_keeps_its_single_signature_message():
    # (div's Python binding has no Scalar overload: the parser's one-signature words)
    with pytest.raises(TypeError, match=r"^div\(\): argument 'other' \(position 1\) must be "
                                        r"Tensor, not str$"):
        torch.ones(2).div("2")


def test_max_unpool_names_the_last_invalid_index():
    v = torch.ones(1, 1, 2, 2)
    with pytest.raises(RuntimeError, match=r"^Found an invalid max index: 30 \(output volumes "
                                           r"are of size 4x4\)$"):
        F.max_unpool2d(v, torch.tensor([[[[50, 1], [20, 30]]]]), 2)
    with pytest.raises(RuntimeError, match=r"invalid max index: -3 \(output volumes are of "
                                           r"size 1x2\)"):
        F.max_unpool2d(torch.ones(2, 2, 1, 2), torch.tensor(
            [[[[9, -1]], [[-3, 0]]], [[[0, 0]], [[0, 0]]]]), 1)
    with pytest.raises(RuntimeError, match=r"invalid max index: 7 \(output volumes are of "
                                           r"size 6x1\)"):
        F.max_unpool1d(torch.ones(1, 2, 3), torch.tensor([[[9, 1, 8], [7, 0, 1]]]), 2)


_NEG = -4611686018427387904


@pytest.mark.parametrize("call, msg", [
    (lambda: torch.ones(3).repeat(0, 2**62),
     f"Trying to create tensor with negative dimension {_NEG}: [0, {_NEG}]"),
    (lambda: torch.ones(3).repeat(2**62, 2**62),
     f"Trying to create tensor with negative dimension {_NEG}: [4611686018427387904, {_NEG}]"),
    (lambda: torch.ones(3).tile((2**62,)),
     f"Trying to create tensor with negative dimension {_NEG}: [{_NEG}]"),
    (lambda: torch.ones(2, 3).repeat(2**62, 1),
     "IntArrayRef contains an int that cannot be represented as a SymInt: "
     "-9223372036854775808"),
    (lambda: torch.ones(3).repeat(2**40, 2**40),
     "Storage size calculation overflowed with sizes=[1099511627776, 3298534883328]"),
    (lambda: torch.ones(3).repeat(2**61),
     "Storage size calculation overflowed with sizes=[6917529027641081856]"),
    (lambda: torch.ones(3).repeat(2**63 - 1),
     "Storage size calculation overflowed with sizes=[9223372036854775805]"),
    (lambda: torch.ones(1).repeat(2**33, 2**30),
     "Storage size calculation overflowed with sizes=[8589934592, 1073741824]"),
    (lambda: torch.ones(1).repeat(2**40, 2**40, 0),
     "Storage size calculation overflowed with sizes=[1099511627776, 1099511627776, 0]"),
    (lambda: torch.ones(1).repeat(0, 2**40, 2**40), "Stride calculation overflowed"),
    (lambda: torch.zeros(0, 2**40, 2**40), "Stride calculation overflowed"),
    (lambda: torch.empty(2**40, 2**40, 0),
     "Storage size calculation overflowed with sizes=[1099511627776, 1099511627776, 0]"),
])
def test_repeat_sizes_are_int64_products_checked_before_allocating(call, msg):
    # (gpujit tried to allocate terabytes, or named the repeats, not the sizes)
    with pytest.raises(RuntimeError) as e:
        call()
    assert str(e.value) == msg


def test_repeat_of_empty_results_still_works():
    assert tuple(torch.ones(3).repeat(0, 2).shape) == (0, 6)
    assert tuple(torch.ones(0).repeat(-1).shape) == (0,)
    assert torch.ones(2, 2).repeat(3, 4).shape == (6, 8)


def test_method_messages_with_autograd_recording_on():
    # (a Tensor that requires grad turns autograd's hook on: the op's function entry raises,
    # and the method call words it again)
    x = torch.ones(2)
    w = torch.ones(2, requires_grad=True)
    try:
        with pytest.raises(TypeError, match=r"^pow\(\) received an invalid combination of "
                                            r"arguments - got \(str\), but"):
            w.pow("2")
        with pytest.raises(TypeError, match=r"^eq_\(\) received an invalid combination of "
                                            r"arguments - got \(str\), but"):
            x.eq_("2")
        with pytest.raises(TypeError, match=r"^add\(\): argument 'other' \(position 1\) "
                                            r"must be Tensor, not str$"):
            x.add("2")
    finally:
        del w       # (the hook off again: other files count the frames of a call)
