"""Session 59 (helper e): leftovers of the bad-input round, compared with torch 2.13."""
import numpy as np
import pytest

import gpujit as torch
import gpujit.nn.functional as F


_FACTORIES = {
    "ones": lambda p: torch.ones(2, pin_memory=p),
    "zeros": lambda p: torch.zeros(2, pin_memory=p),
    "empty": lambda p: torch.empty(2, pin_memory=p),
    "full": lambda p: torch.full((2,), 1.0, pin_memory=p),
    "rand": lambda p: torch.rand(2, pin_memory=p),
    "randn": lambda p: torch.randn(2, pin_memory=p),
    "randint": lambda p: torch.randint(3, (2,), pin_memory=p),
    "randperm": lambda p: torch.randperm(3, pin_memory=p),
    "arange": lambda p: torch.arange(3, pin_memory=p),
    "linspace": lambda p: torch.linspace(0, 1, 3, pin_memory=p),
    "logspace": lambda p: torch.logspace(0, 1, 3, pin_memory=p),
    "eye": lambda p: torch.eye(2, pin_memory=p),
    "empty_strided": lambda p: torch.empty_strided((2,), (1,), pin_memory=p),
    "hann_window": lambda p: torch.hann_window(3, pin_memory=p),
    "rand_like": lambda p: torch.rand_like(torch.ones(2), pin_memory=p),
    "randint_like": lambda p: torch.randint_like(torch.ones(2), 3, pin_memory=p),
    "ones_like": lambda p: torch.ones_like(torch.ones(2), pin_memory=p),
}


@pytest.mark.parametrize("name", sorted(_FACTORIES))
def test_pin_memory_must_be_bool(name):
    make = _FACTORIES[name]
    assert make(False).shape == make(None).shape     # (bool? : None is the default)
    for bad in ("a", 1):
        with pytest.raises(TypeError, match="pin_memory"):
            make(bad)


def test_pin_memory_not_none_where_schema_says_bool():
    # torch.tensor / sparse constructors / nested_tensor take `bool pin_memory`, None refused
    makers = [lambda p: torch.tensor([1.0], pin_memory=p),
              lambda p: torch.sparse_coo_tensor([[0]], [1.0], (2,), pin_memory=p),
              lambda p: torch.sparse_csr_tensor([0, 1], [0], [1.0], (1, 2), pin_memory=p),
              lambda p: torch.nested.nested_tensor([torch.ones(2)], pin_memory=p)]
    for make in makers:
        make(False)
        for bad in ("a", None, 0):
            with pytest.raises(TypeError, match="pin_memory"):
                make(bad)


def test_pin_memory_checked_before_rng_draw():
    torch.manual_seed(0)
    with pytest.raises(TypeError):
        torch.rand(3, pin_memory="a")
    a = torch.rand(3)
    torch.manual_seed(0)
    np.testing.assert_array_equal(a.numpy(), torch.rand(3).numpy())


def _x():
    return torch.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 7 + 0.1)


@pytest.mark.parametrize("call, words", [
    (lambda x: F.pairwise_distance(x, x, None), "argument 'p' (position 3) must be float, not NoneType"),
    (lambda x: F.pairwise_distance(x, x, "a"), "'p' (position 3) must be float, not str"),
    (lambda x: F.pairwise_distance(x, x, 2, keepdim=1), "'keepdim'.* must be bool, not int"),
    (lambda x: F.poisson_nll_loss(x, x, None), "argument 'log_input' (position 3) must be bool, not NoneType"),
    (lambda x: F.poisson_nll_loss(x, x, full="a"), "'full'.* must be bool, not str"),
    (lambda x: F.poisson_nll_loss(x, x, eps=None), "'eps'.* must be float, not NoneType"),
    (lambda x: F.triplet_margin_loss(x, x, x, swap=None), "'swap'.* must be bool, not NoneType"),
    (lambda x: F.dropout(x, 0.5, None), "'train' (position 3) must be bool, not NoneType"),
    (lambda x: F.scaled_dot_product_attention(x, x, x, is_causal=None), "'is_causal'.* must be bool"),
    (lambda x: F.scaled_dot_product_attention(x, x, x, enable_gqa="a"), "'enable_gqa'.* must be bool"),
    (lambda x: F.grid_sample(x.reshape(1, 1, 2, 3), torch.zeros(1, 2, 2, 2), align_corners="a"),
     "'align_corners'.* must be bool, not str"),
    (lambda x: F.affine_grid(torch.zeros(1, 2, 3), [1, 1, 2, 2], align_corners=1),
     "'align_corners'.* must be bool, not int"),
    (lambda x: F.ctc_loss(torch.zeros(5, 1, 3).log_softmax(2), torch.tensor([[1, 2]]), [5], [2],
                          zero_infinity=None), "'zero_infinity'.* must be bool"),
])
def test_functional_bool_float_params_refuse_none(call, words):
    import re
    with pytest.raises(TypeError, match=re.escape(words) if ".*" not in words else words):
        call(_x())


def test_functional_numbers_still_taken():
    x = _x()
    d = x.numpy()
    want = np.sqrt(((d - d[::-1] + 1e-6) ** 2).sum(-1))
    for p in (2, 2.0, np.float32(2.0), torch.tensor(2.0)):
        np.testing.assert_allclose(F.pairwise_distance(x, x.flip(0), p).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(F.poisson_nll_loss(x, x, False, True, eps=1).item(),
                               F.poisson_nll_loss(x, x, False, True, eps=1.0).item())
    assert F.dropout(x, 0.5, False) is x


def test_empty_view_of_huge_size_is_a_clear_error():
    # torch 2.13 returns an empty tensor of size (2**62, 0); NumPy cannot hold it: the
    # error says so and names the sizes (not an overflow PyTorch does not see)
    with pytest.raises(RuntimeError, match=r"sizes=\[4611686018427387904, 0\].*empty"):
        torch.ones(0).view(2 ** 62, 0)
    with pytest.raises(RuntimeError, match=r"Storage size calculation overflowed"):
        torch.zeros(2 ** 31, 2 ** 31)


def test_unfold_step_beyond_c_long():
    x = torch.arange(5.0)
    np.testing.assert_array_equal(x.unfold(0, 1, 2 ** 62).numpy(), [[0.0]])
    np.testing.assert_array_equal(x.unfold(0, 5, 2 ** 62).numpy(), [[0, 1, 2, 3, 4]])
    y = torch.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(y.unfold(1, 2, 2 ** 62).numpy(), [[[0, 1]], [[3, 4]]])
    assert x.unfold(0, 4, 2).stride() == (2, 1)       # (torch's, a single window too)


def _pooled():
    return F.max_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)


def test_max_unpool_to_an_empty_output_skips_the_index_check():
    x, i = _pooled()
    assert tuple(F.max_unpool2d(x, i, 0).shape) == (1, 1, 0, 0)
    assert tuple(F.max_unpool2d(x, i, 1, 1, 1).shape) == (1, 1, 0, 0)
    x1, i1 = F.max_pool1d(torch.arange(4.0).reshape(1, 1, 4), 2, return_indices=True)
    assert tuple(F.max_unpool1d(x1, i1, 0).shape) == (1, 1, 0)
    with pytest.raises(RuntimeError, match="Found an invalid max index: 100"):
        F.max_unpool2d(x, i * 0 + 100, 2)
    with pytest.raises(RuntimeError, match="invalid max index"):
        F.max_unpool2d(x, i, 0, 1)
    z = F.max_unpool2d(torch.ones(0, 1, 2, 2), torch.zeros(0, 1, 2, 2, dtype=torch.long), 2)
    assert tuple(z.shape) == (0, 1, 4, 4)


def test_max_unpool_shape_and_stride_checks():
    x, i = _pooled()
    with pytest.raises(RuntimeError, match=r"max_unpooling2d_forward_out_cpu\(\): Expected input "
                       r"to have non-zero size for non-batch dimensions, but got \[1, 1, 0, 2\] "
                       r"with dimension 2 being empty"):
        F.max_unpool2d(x[:, :, :0], i[:, :, :0], 2)
    x3, i3 = F.max_pool3d(torch.arange(8.0).reshape(1, 1, 2, 2, 2), 2, return_indices=True)
    with pytest.raises(RuntimeError, match=r"strides should be greater than zero, but got "
                                           r"stride: \[0, 0, 0\]"):
        F.max_unpool3d(x3, i3, 0)
    assert tuple(F.max_unpool3d(x3, i3, 2, 1, 1).shape) == (1, 1, 0, 0, 0)


@pytest.mark.parametrize("shape, size, words", [
    ((1, 2, 3), 0, "kernel size should be greater than zero, but got kH: 0 kW: 1"),
    ((1, 2, 3), -1, "kernel size should be greater than zero, but got kH: -1 kW: 1"),
    ((1, 2, 3, 3), 0, "kernel size should be greater than zero, but got kT: 0 kH: 1 kW: 1"),
    ((1, 2, 3), -2, "narrow(): length must be non-negative."),
])
def test_local_response_norm_size_not_positive(shape, size, words):
    import re
    with pytest.raises(RuntimeError, match=re.escape(words)):
        F.local_response_norm(torch.ones(*shape), size)
    assert F.local_response_norm(torch.ones(0, 2, 3), size).shape == (0, 2, 3)


def test_randint_bfloat16():
    # torch 2.13's values: the int64 draws of the same seed, converted (rounded past 2**8)
    torch.manual_seed(0)
    a = torch.randint(0, 10, (5,), dtype=torch.bfloat16)
    assert a.dtype == torch.bfloat16
    assert a.tolist() == [4.0, 9.0, 3.0, 0.0, 3.0]
    torch.manual_seed(0)
    assert torch.randint(-256, 257, (5,), dtype=torch.bfloat16).tolist() == [
        -203.0, 185.0, -47.0, 200.0, -150.0]
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^8\), 2\^8\]"):
        b = torch.randint(0, 100000, (5,), dtype=torch.bfloat16)
    assert b.tolist() == [36096.0, 48128.0, 14912.0, 93696.0, 48896.0]


@pytest.mark.parametrize("args, kw, dtype", [
    ((True,), {}, "bool"), ((False,), {}, "bool"), ((1.5,), {}, "float64"),
    ((1j,), {}, "complex128"), ((2.5, True), {}, "float64"), ((True, True, True), {}, "bool"),
    ((np.float32(1.0),), {}, "float64"), ((np.bool_(True),), {}, "float64"),
    ((True,), {"copy": True}, "bool"),
])
def test_to_a_number_is_the_tensor_overload(args, kw, dtype):
    # torch 2.13 reads a Python number given for to()'s first argument as `Tensor other`
    # (a CPU tensor of it: bool / float64 / complex128)
    x = torch.ones(2, dtype=torch.int32)
    y = x.to(*args, **kw)
    assert y.dtype == getattr(torch, dtype)
    np.testing.assert_array_equal(y.numpy(), np.ones(2, getattr(np, dtype if dtype != "bool" else "bool_")))


@pytest.mark.parametrize("args, kw", [((True,), {"dtype": torch.float64}), (("cpu", True), {}),
                                      ((1.5, "a"), {})])
def test_to_calls_no_overload_takes(args, kw):
    with pytest.raises(TypeError, match="to\\(\\) received an invalid combination"):
        torch.ones(2).to(*args, **kw)


def test_cross_entropy_float32_log_probs_are_atens():
    # cross_entropy without recorded gradients now takes the log-probabilities from the
    # eager log_softmax kernel (ATen's float32 last-dim kernel, bit for bit): torch 2.13's
    # losses, which NumPy's exp / log / pairwise sums missed by an ulp here
    a = (np.arange(40, dtype=np.float32).reshape(5, 8) * np.float32(0.37)) % np.float32(3.1) - 1
    t = np.array([0, 3, 7, 2, 5])
    got = F.cross_entropy(torch.from_numpy(a), torch.from_numpy(t), reduction="none").numpy()
    assert got.view(np.int32).tolist() == [1080915530, 1078012446, 1069867929, 1081249462,
                                           1076593781]
    x = torch.from_numpy(a)
    lp = x.log_softmax(1).numpy()
    want = -lp[np.arange(5), t]
    np.testing.assert_array_equal(got, want)
    # the same loss whether or not autograd records (its path took the kernel already)
    xg = torch.from_numpy(a.copy()).requires_grad_()
    np.testing.assert_array_equal(F.cross_entropy(xg, torch.from_numpy(t)).detach().numpy(),
                                  F.cross_entropy(x, torch.from_numpy(t)).numpy())
    # a row of inf / nan / all -inf: nan, as torch's
    b = np.array([[0.0, np.inf, 1.0], [1.0, 2.0, 3.0], [-np.inf] * 3], np.float32)
    r = F.cross_entropy(torch.from_numpy(b), torch.tensor([1, 0, 2]), reduction="none").numpy()
    assert np.isnan(r[0]) and np.isnan(r[2]) and np.isfinite(r[1])


def test_cross_entropy_label_smoothing_row_sums_in_atens_order():
    # the smoothing term's sum over the classes, in ATen's CPU order (reduction_cascade):
    # torch 2.13's bits, which NumPy's pairwise sums missed by an ulp
    a = ((np.arange(8 * 17, dtype=np.float32).reshape(8, 17) * np.float32(0.731))
         % np.float32(5.3)) - 2
    t = np.arange(8) * 2 % 17
    got = F.cross_entropy(torch.from_numpy(a), torch.from_numpy(t), reduction="none",
                          label_smoothing=0.1).numpy()
    assert got.view(np.int32).tolist() == [1086620137, 1078886477, 1084656988, 1074553246,
                                           1080892487, 1086382105, 1076752732, 1083236577]


@pytest.mark.skipif(torch.cuda.is_available(), reason="pinned memory exists with a GPU")
@pytest.mark.parametrize("name", ["ones", "rand", "empty", "arange"])
def test_pin_memory_true_without_an_accelerator(name):
    # torch 2.13 on a machine without CUDA: its RuntimeError, not an unpinned tensor
    with pytest.raises(RuntimeError, match="pin_memory=True requires a CUDA or other "
                                           "accelerator backend"):
        _FACTORIES[name](True)
    with pytest.raises(RuntimeError, match="pin_memory=True requires"):
        torch.tensor([1.0], pin_memory=True)


def test_expand_past_int64_elements_is_the_numel_overflow():
    with pytest.raises(RuntimeError, match="numel: integer multiplication overflow"):
        torch.ones(1).expand(2 ** 40, 2 ** 40)


def test_a_view_numpy_cannot_hold_says_so():
    # torch 2.13 expands to 2**62 elements (stride 0, no memory); an allocation of as many
    # is its storage-size overflow
    with pytest.raises(RuntimeError, match=r"sizes=\[4611686018427387904\]: a view .*PyTorch "
                                           r"makes this view"):
        torch.ones(1).expand(2 ** 62)
    with pytest.raises(RuntimeError, match=r"Storage size calculation overflowed with "
                                           r"sizes=\[4611686018427387904\]"):
        torch.empty(2 ** 62)
