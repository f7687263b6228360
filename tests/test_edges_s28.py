"""Session 28 (helper d28): eager edge cases checked against PyTorch 2.13 — mode with NaN
and ties (the CPU kernel's std::sort order), trapezoid of no samples, conv with an empty
kernel, int[] / varargs arguments and their error messages."""
import math

import numpy as np
import pytest

import gpujit as torch

nan = math.nan
inf = math.inf


# ------------------------------------------------------------------ mode
@pytest.mark.parametrize("data,value,index", [
    ([nan, 1., nan, 1., nan], nan, 0),
    ([1., nan, 2., nan, 1.], 1., 0),
    ([3., nan, 3., nan], 3., 0),
    ([inf, nan, -inf, nan, inf], -inf, 2),
    ([1., nan, nan, 2.], 1., 0),
])
def test_mode_with_nan_as_torch(data, value, index):
    r = torch.mode(torch.tensor(data))
    v = r.values.item()
    assert (math.isnan(v) and math.isnan(value)) or v == value
    assert r.indices.item() == index


def test_mode_long_rows_follow_the_cpu_sort():
    """Past 16 elements std::sort is not stable: the index among ties is its own."""
    a = (np.arange(40) % 5).astype(np.float32)
    a[::7] = np.nan
    r = torch.mode(torch.from_numpy(a))
    assert (r.values.item(), r.indices.item()) == (4., 19)
    b = (np.arange(100) * 37 % 100 // 10).astype(np.int64)
    r = torch.mode(torch.from_numpy(b))
    assert (r.values.item(), r.indices.item()) == (0, 46)


def test_mode_dim_with_nan():
    x = torch.tensor([[1., nan], [nan, nan], [2., 2.]])
    r = x.mode(0)
    assert r.values[0].item() == 1. and math.isnan(r.values[1].item())
    assert r.indices.tolist() == [0, 0]
    r = x.mode(1)
    assert r.indices.tolist() == [0, 0, 1]


def test_mode_matches_torch_random():
    T = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for t in range(200):
        n = int(rng.integers(1, 200))
        a = rng.integers(0, int(rng.integers(1, 20)), n).astype(np.float32)
        if t % 2:
            a[rng.random(n) < rng.random()] = np.nan
        r = T.mode(T.from_numpy(a))
        g = torch.mode(torch.tensor(a))
        assert np.array_equal(r.values.numpy(), g.values.numpy(), equal_nan=True)
        assert r.indices.item() == g.indices.item()


# ------------------------------------------------------------------ trapezoid of no samples
@pytest.mark.parametrize("call", [
    lambda y: torch.trapezoid(y),
    lambda y: torch.trapezoid(y, dx=2.),
    lambda y: torch.trapezoid(y, torch.zeros(0)),
    lambda y: torch.trapz(y),
    lambda y: torch.trapezoid(y, dim=-1),
])
def test_trapezoid_of_no_samples_is_untracked_zeros(call):
    y = torch.zeros(3, 0, requires_grad=True)
    r = call(y)
    assert r.shape == (3,) and r.tolist() == [0., 0., 0.]
    assert not r.requires_grad and r.grad_fn is None


def test_trapezoid_nonempty_and_cumulative_empty_are_tracked():
    y = torch.zeros(3, 0, requires_grad=True)
    assert torch.trapezoid(y, dim=0).requires_grad          # 3 samples along dim 0
    r = torch.cumulative_trapezoid(y)
    assert r.shape == (3, 0) and r.requires_grad and r.grad_fn is not None
    r = torch.trapezoid(torch.ones(3, 1, requires_grad=True))
    assert r.requires_grad and r.tolist() == [0., 0., 0.]
    assert torch.trapezoid(torch.zeros(2, 0, dtype=torch.bool)).dtype == torch.bool
    assert torch.trapezoid(torch.zeros(2, 0, dtype=torch.int64)).dtype == torch.int64


# ------------------------------------------------------------------ conv with an empty kernel
@pytest.mark.parametrize("call,msg", [
    (lambda: torch.conv1d(torch.zeros(1, 2, 5), torch.zeros(3, 2, 0)),
     "kernel size should be greater than zero, but got kernel_height: 1 kernel_width: 0"),
    (lambda: torch.conv1d(torch.zeros(2, 5), torch.zeros(3, 2, 0), padding=1),
     "kernel size should be greater than zero, but got kernel_height: 1 kernel_width: 0"),
    (lambda: torch.nn.functional.conv1d(torch.zeros(1, 2, 5), torch.zeros(3, 2, 0),
                                        padding="same"),
     "kernel size should be greater than zero, but got kernel_height: 1 kernel_width: 0"),
    (lambda: torch.conv2d(torch.zeros(1, 2, 5, 5), torch.zeros(3, 2, 2, 0)),
     "kernel size should be greater than zero, but got kernel_height: 2 kernel_width: 0"),
    (lambda: torch.conv1d(torch.zeros(1, 2, 5), torch.zeros(3, 2, 0), stride=2, dilation=3),
     "kernel size should be greater than zero, but got [1, 0]"),
    (lambda: torch.conv3d(torch.zeros(1, 2, 5, 5, 5), torch.zeros(3, 2, 2, 0, 1)),
     "kernel size should be greater than zero, but got: 2 x 0 x 1 (TxHxW)"),
    (lambda: torch.conv3d(torch.zeros(1, 2, 5, 5, 5), torch.zeros(3, 2, 2, 0, 1), dilation=2),
     "kernel size should be greater than zero, but got [2, 0, 1]"),
    (lambda: torch.conv_transpose1d(torch.zeros(1, 2, 5), torch.zeros(2, 3, 0)),
     "kernel size should be greater than zero, but got kernel_height: 1 kernel_width: 0"),
    (lambda: torch.conv_transpose2d(torch.zeros(1, 2, 5, 5), torch.zeros(2, 3, 1, 0),
                                    output_padding=1, stride=2),
     "kernel size should be greater than zero, but got kernel_height: 1 kernel_width: 0"),
    (lambda: torch.conv_transpose3d(torch.zeros(1, 2, 5, 5, 5), torch.zeros(2, 3, 0, 1, 1)),
     "non-empty 5D (n_output_plane x n_input_plane x kernel_depth x kernel_height x "
     "kernel_width) tensor expected for weight, but got: [2, 3, 0, 1, 1]"),
    (lambda: torch.nn.Conv2d(2, 3, (0, 2))(torch.zeros(1, 2, 4, 4)),
     "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 2"),
    (lambda: torch.conv1d(torch.zeros(1, 2, 0), torch.zeros(3, 2, 0)),
     "Only zero batch or zero channel inputs are supported, but got input shape: "
     "[1, 2, 1, 0]"),
    (lambda: torch.conv_transpose1d(torch.zeros(1, 2, 0), torch.zeros(2, 3, 1)),
     "Only zero batch or zero channel inputs are supported, but got input shape: "
     "[1, 2, 1, 0]"),
    (lambda: torch.conv2d(torch.zeros(1, 2, 0, 5), torch.zeros(3, 2, 0, 1), padding=1),
     "Only zero batch or zero channel inputs are supported, but got input shape: "
     "[1, 2, 0, 5]"),
    # the shape checks come first
    (lambda: torch.conv1d(torch.zeros(1, 4, 5), torch.zeros(3, 2, 0)),
     "Given groups=1, weight of size [3, 2, 0], expected input[1, 4, 5] to have 2 "
     "channels, but got 4 channels instead"),
])
def test_conv_empty_kernel_refused(call, msg):
    with pytest.raises(RuntimeError) as e:
        call()
    assert str(e.value) == msg


def test_conv_empty_kernel_without_channels_and_conv_tbc():
    assert torch.conv1d(torch.zeros(1, 0, 5), torch.zeros(3, 0, 0)).shape == (1, 0, 6)
    r = torch.conv_tbc(torch.zeros(5, 1, 2), torch.zeros(0, 2, 3), torch.arange(3.))
    assert r.shape == (6, 1, 3) and r[4, 0].tolist() == [0., 1., 2.]


def test_conv_empty_kernel_scripted():
    @torch.jit.script
    def f(x, w):
        return torch.conv2d(x, w)
    with pytest.raises(RuntimeError, match="kernel size should be greater than zero"):
        f(torch.zeros(1, 2, 5, 5), torch.zeros(3, 2, 2, 0))


# ------------------------------------------------------------------ argument errors
def _type_error(call):
    with pytest.raises(TypeError) as e:
        call()
    return str(e.value)


@pytest.mark.parametrize("call,msg", [
    (lambda x: torch.flip(x, dims=0), "flip(): argument 'dims' must be tuple of ints, not int"),
    (lambda x: torch.flip(x, 0), "flip(): argument 'dims' (position 2) must be tuple of ints, "
                                 "not int"),
    (lambda x: x.flip(dims=0), "flip(): argument 'dims' must be tuple of ints, not int"),
    (lambda x: torch.permute(x, dims=0), "permute(): argument 'dims' must be tuple of ints, "
                                         "not int"),
    (lambda x: x.topk(k="a"), "topk(): argument 'k' must be int, not str"),
    (lambda x: x.topk("a"), "topk(): argument 'k' (position 1) must be int, not str"),
    (lambda x: x.topk(3, dim="a"), "topk(): argument 'dim' must be int, not str"),
    (lambda x: torch.roll(x, 1, dims="a"), "roll(): argument 'dims' must be tuple of ints, "
                                          "not str"),
    (lambda x: torch.tile(x, dims=2), "tile(): argument 'dims' must be tuple of ints, not int"),
])
def test_keyword_argument_errors_have_no_position(call, msg):
    assert _type_error(lambda: call(torch.arange(6).view(2, 3))) == msg


@pytest.mark.parametrize("call,msg", [
    (lambda x: x.flip(0.5), "flip(): argument 'dims' (position 1) must be tuple of ints, "
                            "not float"),
    (lambda x: x.flip(True), "flip(): argument 'dims' (position 1) must be tuple of ints, "
                             "not bool"),
    (lambda x: x.flip("a"), "flip(): argument 'dims' (position 1) must be tuple of ints, "
                            "not str"),
    (lambda x: x.flip(None), "flip(): argument 'dims' (position 1) must be tuple of ints, "
                             "not NoneType"),
    (lambda x: x.flip(0, 0.5), "flip(): argument 'dims' failed to unpack the object at pos 2 "
                               "with error \"type must be tuple of ints,but got float\""),
    (lambda x: x.view(3, 2.0), "view(): argument 'size' failed to unpack the object at pos 2 "
                               "with error \"type must be tuple of ints,but got float\""),
    (lambda x: x.flip(0.5, 0), "flip() takes 1 positional argument but 2 were given"),
    (lambda x: x.permute(1.0, 0), "permute() takes 1 positional argument but 2 were given"),
    (lambda x: x.permute([1, 0], 1), "permute() takes 1 positional argument but 2 were given"),
    (lambda x: x.reshape(3.0, 2), "reshape() takes 1 positional argument but 2 were given"),
    (lambda x: x.repeat(2.0, 1), "repeat() takes 1 positional argument but 2 were given"),
    (lambda x: x.expand(2.0, 3), "expand() takes 1 positional argument but 2 were given"),
    (lambda x: x.tile(2.0), "tile(): argument 'dims' (position 1) must be tuple of ints, "
                            "not float"),
    (lambda x: x.flip(), 'flip() missing 1 required positional arguments: "dims"'),
    (lambda x: x.permute(), 'permute() missing 1 required positional arguments: "dims"'),
    (lambda x: x.reshape(), 'reshape() missing 1 required positional arguments: "shape"'),
    (lambda x: x.repeat(), 'repeat() missing 1 required positional arguments: "repeats"'),
    (lambda x: x.expand(), 'expand() missing 1 required positional arguments: "size"'),
    (lambda x: x.tile(), 'tile() missing 1 required positional arguments: "dims"'),
    (lambda x: x.sum_to_size(), 'sum_to_size() missing 1 required positional arguments: '
                                '"size"'),
])
def test_varargs_method_errors(call, msg):
    assert _type_error(lambda: call(torch.arange(6).view(2, 3))) == msg


def test_varargs_methods_still_take_ints_lists_and_tensors():
    x = torch.arange(6).view(2, 3)
    assert x.flip(0, 1).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert x.flip([0]).tolist() == [[3, 4, 5], [0, 1, 2]]
    assert x.flip(dims=[1]).tolist() == [[2, 1, 0], [5, 4, 3]]
    assert x.flip(0, torch.tensor(1)).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert x.permute(1, 0).shape == (3, 2)
    assert x.view(np.int64(6)).shape == (6,)
    assert x.view(torch.int32).shape == (2, 6)
    assert x.reshape(torch.Size([3, 2])).shape == (3, 2)
    assert x.expand(2, 2, 3).shape == (2, 2, 3)
    assert x.repeat(1, 2).shape == (2, 6)
    assert x.tile(2).shape == (2, 6)
