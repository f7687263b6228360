"""Tensor printing: the exact strings PyTorch prints (torch/_tensor_str.py)."""
import math

import numpy as np
import pytest

import gpujit
from gpujit._tensor_str import set_printoptions, get_printoptions, printoptions


@pytest.fixture(autouse=True)
def _default_printoptions():
    set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")


def t(data, **kw):
    return gpujit.tensor(data, **kw)


# The rand(3, 4) outputs of the "Introduction to TorchScript" tutorial (seeds/002).
TUTORIAL = [[0.7853, 0.8882, 0.7137, 0.3746],
            [0.5265, 0.8508, 0.1487, 0.9144],
            [0.7057, 0.8217, 0.9575, 0.6132]]
TUTORIAL_SIGNED = [[0.0294, 0.2921, 0.5171, 0.2689],
                   [0.5859, 0.8311, 0.2553, 0.8026],
                   [-0.4138, 0.7641, 0.4251, 0.7217]]


def test_tutorial_matrix():
    assert repr(t(TUTORIAL)) == (
        "tensor([[0.7853, 0.8882, 0.7137, 0.3746],\n"
        "        [0.5265, 0.8508, 0.1487, 0.9144],\n"
        "        [0.7057, 0.8217, 0.9575, 0.6132]])")
    # str() is the same, and a tuple of tensors prints through repr
    assert str(t(TUTORIAL)) == repr(t(TUTORIAL))


def test_negative_values_widen_every_column():
    assert repr(t(TUTORIAL_SIGNED)) == (
        "tensor([[ 0.0294,  0.2921,  0.5171,  0.2689],\n"
        "        [ 0.5859,  0.8311,  0.2553,  0.8026],\n"
        "        [-0.4138,  0.7641,  0.4251,  0.7217]])")


class TanhBackward:
    pass


class DifferentiableGraphBackward:
    pass


def _with_grad_fn(x, node):
    x.requires_grad_(True)
    x._ag.grad_fn = node
    return x


def test_grad_fn_suffix_stays_on_the_line_or_wraps_like_torch():
    # both from seeds/002: the short name fits after the last row, the long one wraps
    x = _with_grad_fn(t(TUTORIAL_SIGNED), TanhBackward())
    assert repr(x).endswith("[-0.4138,  0.7641,  0.4251,  0.7217]], grad_fn=<TanhBackward>)")
    x = _with_grad_fn(t(TUTORIAL_SIGNED), DifferentiableGraphBackward())
    assert repr(x) == (
        "tensor([[ 0.0294,  0.2921,  0.5171,  0.2689],\n"
        "        [ 0.5859,  0.8311,  0.2553,  0.8026],\n"
        "        [-0.4138,  0.7641,  0.4251,  0.7217]],\n"
        "       grad_fn=<DifferentiableGraphBackward>)")


@pytest.mark.parametrize("value, expected", [
    (t([1.0, 2.0]), "tensor([1., 2.])"),
    (t([-1.0, 2.0]), "tensor([-1.,  2.])"),
    (t([100.0, 20000.0]), "tensor([  100., 20000.])"),
    (t([0.0, 0.0]), "tensor([0., 0.])"),
    (t([0.1, 0.123456789]), "tensor([0.1000, 0.1235])"),
    (t([0.5, -0.25]), "tensor([ 0.5000, -0.2500])"),
    (t(3.5), "tensor(3.5000)"),
    (t(3.0), "tensor(3.)"),
    (t(-2), "tensor(-2)"),
    (t(True), "tensor(True)"),
    (t([True, False]), "tensor([ True, False])"),
    (t([1, 22, -333]), "tensor([   1,   22, -333])"),
    (t([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (t([1.0, 1e9]), "tensor([1.0000e+00, 1.0000e+09])"),
    (t([1.5, 1e9]), "tensor([1.5000e+00, 1.0000e+09])"),
    (t([0.5, 5000.0]), "tensor([5.0000e-01, 5.0000e+03])"),
    (t([1.0, math.nan, math.inf]), "tensor([1., nan, inf])"),
    (t([0.5, -math.inf]), "tensor([0.5000,   -inf])"),
    (t([math.nan]), "tensor([nan])"),
])
def test_formats(value, expected):
    assert repr(value) == expected


@pytest.mark.parametrize("value, expected", [
    (t([1.0], dtype=gpujit.float64), "tensor([1.], dtype=gpujit.float64)"),
    (t(3.5, dtype=gpujit.float64), "tensor(3.5000, dtype=gpujit.float64)"),
    (t([0.1], dtype=gpujit.float16), "tensor([0.1000], dtype=gpujit.float16)"),
    (t([1, 2], dtype=gpujit.int32), "tensor([1, 2], dtype=gpujit.int32)"),
    (t([1, 2], dtype=gpujit.uint8), "tensor([1, 2], dtype=gpujit.uint8)"),
    (t([1, 2]), "tensor([1, 2])"),                      # int64 is the default int
    (gpujit.ones(2, 3, dtype=gpujit.int32),
     "tensor([[1, 1, 1],\n        [1, 1, 1]], dtype=gpujit.int32)"),
])
def test_dtype_suffix(value, expected):
    assert repr(value) == expected


def test_default_dtype_changes_which_float_prints_its_dtype():
    old = gpujit.get_default_dtype()
    gpujit.set_default_dtype(gpujit.float64)
    try:
        assert repr(t([1.5], dtype=gpujit.float64)) == "tensor([1.5000])"
        assert repr(t([1.5], dtype=gpujit.float32)) == "tensor([1.5000], dtype=gpujit.float32)"
    finally:
        gpujit.set_default_dtype(old)


@pytest.mark.parametrize("value, expected", [
    (t([]), "tensor([])"),
    (gpujit.empty(0, 3), "tensor([], size=(0, 3))"),
    (t([], dtype=gpujit.int64), "tensor([], dtype=gpujit.int64)"),
    (t([], dtype=gpujit.bool), "tensor([], dtype=gpujit.bool)"),
    (gpujit.empty(2, 0, dtype=gpujit.int32), "tensor([], size=(2, 0), dtype=gpujit.int32)"),
])
def test_empty(value, expected):
    assert repr(value) == expected


def test_requires_grad_suffix():
    assert repr(t([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"


def test_three_dims_separate_blocks_with_a_blank_line():
    assert repr(gpujit.zeros(2, 2, 3)) == (
        "tensor([[[0., 0., 0.],\n"
        "         [0., 0., 0.]],\n"
        "\n"
        "        [[0., 0., 0.],\n"
        "         [0., 0., 0.]]])")


def test_long_vector_wraps_at_80_columns():
    s = repr(gpujit.arange(100))
    lines = s.split("\n")
    assert lines[0] == ("tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, "
                        "15, 16, 17,")
    assert lines[1] == ("        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, "
                        "33, 34, 35,")
    assert lines[-1] == "        90, 91, 92, 93, 94, 95, 96, 97, 98, 99])"
    assert all(len(line) <= 80 for line in lines)


def test_summarized_vector_and_matrix():
    assert repr(gpujit.arange(2000)) == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"
    assert repr(gpujit.arange(3000).reshape(3, 1000)) == (
        "tensor([[   0,    1,    2,  ...,  997,  998,  999],\n"
        "        [1000, 1001, 1002,  ..., 1997, 1998, 1999],\n"
        "        [2000, 2001, 2002,  ..., 2997, 2998, 2999]])")
    assert repr(gpujit.zeros(100, 100)) == (
        "tensor([[0., 0., 0.,  ..., 0., 0., 0.],\n"
        "        [0., 0., 0.,  ..., 0., 0., 0.],\n"
        "        [0., 0., 0.,  ..., 0., 0., 0.],\n"
        "        ...,\n"
        "        [0., 0., 0.,  ..., 0., 0., 0.],\n"
        "        [0., 0., 0.,  ..., 0., 0., 0.],\n"
        "        [0., 0., 0.,  ..., 0., 0., 0.]])")


def test_summary_formatter_sees_only_the_shown_values():
    # the big middle value is not printed, so it must not force scientific notation
    a = np.full(2001, 0.5, dtype=np.float32)
    a[1000] = 1e9
    assert repr(gpujit.from_numpy(a)) == (
        "tensor([0.5000, 0.5000, 0.5000,  ..., 0.5000, 0.5000, 0.5000])")


def test_large_suffix_wraps_onto_its_own_line():
    x = gpujit.from_numpy(np.arange(24.0).reshape(2, 3, 4) * 1e9)
    assert repr(x).endswith("2.3000e+10]]],\n       dtype=gpujit.float64)")


def test_set_printoptions_precision_and_threshold():
    set_printoptions(precision=2)
    assert repr(t([1.2345, 2.0])) == "tensor([1.23, 2.00])"
    set_printoptions(profile="default", threshold=5)
    assert repr(gpujit.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    set_printoptions(profile="default", edgeitems=1, threshold=5)
    assert repr(gpujit.arange(10)) == "tensor([0,  ..., 9])"


def test_set_printoptions_linewidth():
    set_printoptions(linewidth=30)
    # (30 - len("tensor(")) // len("0, ") = 7 elements per line
    assert repr(gpujit.arange(10)) == ("tensor([0, 1, 2, 3, 4, 5, 6,\n"
                                       "        7, 8, 9])")


def test_sci_mode_forced_measures_the_width_of_the_forced_format():
    # (torch 2.13's _Formatter applies sci_mode= before measuring: fixed-point widths)
    set_printoptions(sci_mode=False)
    assert repr(t([1e-5, 1.0])) == "tensor([0.0000, 1.0000])"
    set_printoptions(sci_mode=True)
    assert repr(t([0.5, 0.25])) == "tensor([5.0000e-01, 2.5000e-01])"
    set_printoptions()   # a call without sci_mode gives the choice back to the formatter
    assert get_printoptions()["sci_mode"] is None
    assert repr(t([0.5, 0.25])) == "tensor([0.5000, 0.2500])"


def test_printoptions_context_restores():
    with printoptions(precision=1):
        assert repr(t([0.25])) == "tensor([0.2])"
    assert get_printoptions() == dict(precision=4, threshold=1000, edgeitems=3,
                                      linewidth=80, sci_mode=None)


def test_unknown_profile_is_an_error():
    with pytest.raises(ValueError, match="profile"):
        set_printoptions(profile="long")


def test_views_print_their_own_elements():
    x = gpujit.arange(12).reshape(3, 4)
    assert repr(x[:, 1]) == "tensor([1, 5, 9])"
    assert repr(x.T) == ("tensor([[ 0,  4,  8],\n"
                         "        [ 1,  5,  9],\n"
                         "        [ 2,  6, 10],\n"
                         "        [ 3,  7, 11]])")


@pytest.mark.cuda
def test_cuda_tensor_prints_its_device():
    x = t([1.0, 2.0], device="cuda")
    assert repr(x) == "tensor([1., 2.], device='cuda:0')"
    assert repr(t([1, 2], dtype=gpujit.int32, device="cuda")) == \
        "tensor([1, 2], device='cuda:0', dtype=gpujit.int32)"
    big = gpujit.arange(2000, device="cuda")
    assert repr(big) == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999], device='cuda:0')"
