"""Bad arguments found by session 58's argument fuzz (helper c58): each call below leaked
an internal error (AttributeError on a Python number), answered where PyTorch raises, or
raised where PyTorch computes. Expected values and messages are torch 2.13's."""
import numpy as np
import pytest

import gpujit as torch


def _x():
    return torch.arange(12.).reshape(3, 4)


@pytest.mark.parametrize("call", [
    lambda: torch.normal(0.5, 1.0),          # (no size: no overload takes two floats alone)
    lambda: torch.normal(0.5, 3),
    lambda: torch.isin(3, 2),
    lambda: torch.quantile(_x(), 1j),
    lambda: torch.nanquantile(_x(), 1j),
    lambda: torch.normal(_x(), 1j),
    lambda: torch.normal(1j, _x()),
])
def test_numbers_where_no_overload_takes_them_are_the_parsers_type_error(call):
    with pytest.raises(TypeError, match=r"received an invalid combination of arguments"):
        call()


def test_normal_of_one_number_names_the_argument():
    with pytest.raises(TypeError, match=r"normal\(\): argument 'mean' \(position 1\) must be "
                                        r"Tensor, not int"):
        torch.normal(3)


def test_a_bool_for_a_float_parameter_is_its_number():
    # (PyTorch's parser reads a double from a bool: q=True is 1.0, std=True is 1.0)
    assert torch.quantile(_x(), True).item() == 11.0
    assert torch.nanquantile(_x(), False).item() == 0.0
    torch.manual_seed(0)
    a = torch.normal(_x(), True)
    torch.manual_seed(0)
    b = torch.normal(_x(), 1.0)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    torch.manual_seed(0)
    c = torch.normal(True, torch.ones(3))
    torch.manual_seed(0)
    d = torch.normal(1.0, torch.ones(3))
    np.testing.assert_array_equal(c.numpy(), d.numpy())


@pytest.mark.parametrize("call, value, dtype", [
    (lambda: torch.add(7, 2), 9, torch.int64),
    (lambda: torch.add(1.5, 2), 3.5, torch.float32),
    (lambda: torch.add(2, 1.5), 3.5, torch.float32),
    (lambda: torch.add(7, 2, alpha=2), 11, torch.int64),
    (lambda: torch.add(True, True), True, torch.bool),
    (lambda: torch.mul(2, 1.5), 3.0, torch.float32),
    (lambda: torch.multiply(7, 2), 14, torch.int64),
    (lambda: torch.sub(7, 2), 5, torch.int64),
    (lambda: torch.subtract(7.5, 2), 5.5, torch.float32),
    (lambda: torch.div(7, 2), 3.5, torch.float32),
    (lambda: torch.divide(7, 2), 3.5, torch.float32),
    (lambda: torch.true_divide(3, 2), 1.5, torch.float32),
    (lambda: torch.div(7, 2, rounding_mode="floor"), 3, torch.int64),
    (lambda: torch.floor_divide(-7, 2.0), -4.0, torch.float32),
    (lambda: torch.add(input=7, other=2), 9, torch.int64),
])
def test_numbers_as_tensors_functions_take_numbers_alone(call, value, dtype):
    # (PyTorch's should_allow_numbers_as_tensors: its parser makes the number a tensor)
    r = call()
    assert isinstance(r, torch.Tensor) and r.dim() == 0
    assert r.dtype == dtype
    assert r.item() == value


def test_mul_of_numbers_with_a_complex():
    r = torch.mul(2, 3j)
    assert r.dtype == torch.complex64 and r.item() == 6j


@pytest.mark.parametrize("call, msg", [
    (lambda: torch.add("a", 2), "add(): argument 'input' (position 1) must be Tensor, not str"),
    (lambda: torch.add(None, 2),
     "add(): argument 'input' (position 1) must be Tensor, not NoneType"),
    (lambda: torch.add(2, "a"), "add(): argument 'other' (position 2) must be Tensor, not str"),
    (lambda: torch.add([1], 2), "add(): argument 'input' (position 1) must be Tensor, not list"),
])
def test_numbers_as_tensors_refuse_what_is_no_number(call, msg):
    with pytest.raises(TypeError) as e:
        call()
    assert str(e.value) == msg


def test_numbers_alone_keep_their_ops_errors():
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with a bool"):
        torch.sub(True, 1)
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        torch.add(7, 2, alpha=2.5)


def test_traced_numbers_alone_are_recorded_constants():
    def f(x):
        return torch.add(2, 3) * x + torch.mul(0.5, 4)
    tr = torch.jit.trace(f, (torch.ones(2),))
    np.testing.assert_array_equal(tr(torch.ones(2) * 2).numpy(), [12.0, 12.0])


@pytest.mark.parametrize("call, msg", [
    (lambda: torch.threshold(_x(), 2, None),
     "threshold(): argument 'value' (position 3) must be Number, not NoneType"),
    (lambda: torch.threshold(_x(), 2, "x"),
     "threshold(): argument 'value' (position 3) must be Number, not str"),
    (lambda: torch.threshold(_x(), [1, 1], 2),
     "threshold(): argument 'threshold' (position 2) must be Number, not list"),
    (lambda: torch.hardshrink(_x(), None),
     "hardshrink(): argument 'lambd' (position 2) must be Number, not NoneType"),
    (lambda: _x().hardshrink("x"),
     "hardshrink(): argument 'lambd' (position 1) must be Number, not str"),
    (lambda: torch.nan_to_num(_x(), [1, 1]),
     "nan_to_num(): argument 'nan' (position 2) must be float, not list"),
    (lambda: torch.pinverse(_x(), None),
     "pinverse(): argument 'rcond' (position 2) must be float, not NoneType"),
    (lambda: torch.cosine_similarity(_x(), _x(), 1, None),
     "cosine_similarity(): argument 'eps' (position 4) must be float, not NoneType"),
    (lambda: _x().fill_diagonal_(None),
     "fill_diagonal_(): argument 'fill_value' (position 1) must be Number, not NoneType"),
    (lambda: torch.roll(_x(), None),
     "roll(): argument 'shifts' (position 2) must be tuple of ints, not NoneType"),
])
def test_a_number_parameter_refuses_none_str_and_list(call, msg):
    # (before: None computed as NaN or as "no dim", a str or a list leaked NumPy's error)
    with pytest.raises(TypeError) as e:
        call()
    assert str(e.value) == msg


def test_prod_of_a_none_dim_is_the_parsers_error():
    # (before: prod over every element, tensor(0.))
    with pytest.raises(TypeError, match=r"prod\(\) received an invalid combination"):
        torch.prod(_x(), None)


def test_none_for_an_int_list_with_a_default_is_the_default():
    assert torch.amax(_x(), None).item() == 11.0
    np.testing.assert_array_equal(torch.roll(_x(), 1, None).numpy(),
                                  np.roll(np.arange(12.).reshape(3, 4), 1))


@pytest.mark.parametrize("bins", [1.5, 1j, True])
def test_histogram_bins_of_no_int_is_the_parsers_error(bins):
    # (before: 1.5 reached the Tensor overload: AttributeError, True binned as a tensor)
    with pytest.raises(TypeError, match=r"histogram\(\) received an invalid combination"):
        torch.histogram(_x(), bins)


@pytest.mark.parametrize("dims", [None, 1.5, "a"])
def test_tensordot_dims_of_no_count_or_pair(dims):
    with pytest.raises(RuntimeError, match=r"tensordot expects dims to be int or "
                                           r"tuple\[list\[int\], list\[int\]\]"):
        torch.tensordot(_x(), _x(), dims)


@pytest.mark.parametrize("call, msg", [
    (lambda: torch.slice_scatter(None, _x(), 1),
     "slice_scatter(): argument 'input' (position 1) must be Tensor, not NoneType"),
    (lambda: torch.diagonal_scatter(_x(), "a"),
     "diagonal_scatter(): argument 'src' (position 2) must be Tensor, not str"),
    (lambda: torch.diagonal_scatter(_x(), [1.0, 2.0, 3.0]),
     "diagonal_scatter(): argument 'src' (position 2) must be Tensor, not list"),
    (lambda: torch.is_floating_point(None),
     "is_floating_point(): argument 'input' (position 1) must be Tensor, not NoneType"),
    (lambda: torch.is_floating_point(3),
     "is_floating_point(): argument 'input' (position 1) must be Tensor, not int"),
    (lambda: torch.relu_(None), "relu_(): argument 'input' (position 1) must be Tensor, not "
                                "NoneType"),
    (lambda: torch.abs_([1.0]), "abs_(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda: torch.histogramdd(None),
     "histogramdd(): argument 'input' (position 1) must be Tensor, not NoneType"),
])
def test_no_tensor_where_a_tensor_is_wanted(call, msg):
    # (before: an IndexError from the body, or the AttributeError of a method lookup)
    with pytest.raises(TypeError) as e:
        call()
    assert str(e.value) == msg


@pytest.mark.parametrize("call, cls, msg", [
    (lambda: torch.squeeze(_x(), [1, 1]), RuntimeError, "dim 1 appears multiple times"),
    (lambda: _x().squeeze((0, -2)), RuntimeError, "dim 0 appears multiple times"),
    (lambda: torch.arange(2, None), TypeError, r"arange\(\) received an invalid combination"),
    (lambda: torch.range(2, None), TypeError,
     r"range\(\): argument 'end' \(position 2\) must be Number, not NoneType"),
    (lambda: torch.range(3), TypeError, r'range\(\) missing 1 required positional arguments'),
    (lambda: torch.range(float("nan"), 2), RuntimeError, "unsupported range: nan -> 2"),
    (lambda: torch.range(0, float("inf")), RuntimeError, "unsupported range: 0 -> inf"),
    (lambda: torch.range(0, 5, float("nan")), RuntimeError, "step must be nonzero"),
    (lambda: torch.broadcast_shapes([1.5], [1]), TypeError,
     r"torch.Size\(\) takes an iterable of 'int' \(item 0 is 'float'\)"),
    (lambda: torch.complex(torch.zeros(0, 4), _x()), RuntimeError,
     r"The size of tensor a \(0\) must match the size of tensor b \(3\) at non-singleton "
     r"dimension 0"),
    (lambda: torch.kthvalue(torch.zeros(0, 3), 1, 0), IndexError,
     r"kthvalue\(\): Expected reduction dim 0 to have non-zero size"),
    (lambda: torch.normal(torch.ones(3, dtype=torch.bool), torch.ones(3)),
     NotImplementedError, "\"normal_kernel_cpu\" not implemented for 'Bool'"),
    (lambda: torch.normal(torch.arange(3), torch.ones(3)),
     NotImplementedError, "\"normal_kernel_cpu\" not implemented for 'Long'"),
])
def test_bad_values_are_pytorchs_errors(call, cls, msg):
    with pytest.raises(cls, match=msg):
        call()


def test_range_and_arange_still_count():
    np.testing.assert_array_equal(torch.range(1, 3, 0.5).numpy(), [1, 1.5, 2, 2.5, 3])
    np.testing.assert_array_equal(torch.arange(5).numpy(), np.arange(5))
    np.testing.assert_array_equal(torch.arange(end=3).numpy(), np.arange(3))
    assert tuple(torch.kthvalue(torch.zeros(0, 3), 1, 1).values.shape) == (0,)


def test_normal_of_two_tensors_has_means_dtype():
    # (torch 2.13: the result is mean's dtype; std's multiplies in the promoted dtype,
    # rounded back: before, float32 mean and float64 std gave float64)
    torch.manual_seed(0)
    r = torch.normal(torch.arange(6.).reshape(2, 3), torch.tensor([1., 2., 1.],
                                                                   dtype=torch.float64))
    assert r.dtype == torch.float32
    np.testing.assert_allclose(r.numpy(), [[1.5409961, 0.4131422, -0.1787894],
                                           [3.5684314, 1.8309553, 3.6014047]], rtol=1e-6)
    assert torch.normal(torch.zeros(2, dtype=torch.float64), torch.ones(2)).dtype == \
        torch.float64


_OVERLAP = "unsupported operation: some elements of the input tensor and the written-to"


@pytest.mark.parametrize("call", [
    lambda x: torch.cat([x, x], out=x),
    lambda x: torch.cat([x], out=x),
    lambda x: torch.stack([x, x], out=x),
    lambda x: torch.index_select(x, 0, torch.tensor([0, 1, 2]), out=x),
    lambda x: torch.gather(x, 0, torch.zeros(3, 3, dtype=torch.int64), out=x),
    lambda x: torch.take(x, torch.zeros(3, 3, dtype=torch.int64), out=x),
    lambda x: torch.masked_select(x.view(-1), x.view(-1) > 3, out=x.view(-1)),
    lambda x: torch.cross(x, x, dim=1, out=x),
])
def test_out_sharing_an_inputs_memory_is_refused_where_pytorch_refuses(call):
    # (before: torch.cat([x, x], out=x) resized x to 6 rows and wrote the result)
    x = torch.arange(9.).reshape(3, 3)
    with pytest.raises(RuntimeError, match=_OVERLAP):
        call(x)
    np.testing.assert_array_equal(x.numpy(), np.arange(9.).reshape(3, 3))


def test_out_that_is_an_input_of_an_elementwise_op_is_fine():
    x = torch.arange(9.).reshape(3, 3)
    torch.add(x, x, out=x)
    np.testing.assert_array_equal(x.numpy(), 2 * np.arange(9.).reshape(3, 3))


@pytest.mark.parametrize("call, msg", [
    (lambda: torch.zeros(2, dtype=5), "zeros(): argument 'dtype' must be torch.dtype, not int"),
    (lambda: torch.full((2,), 1, dtype=4), "full(): argument 'dtype' must be torch.dtype, not int"),
    (lambda: torch.empty(2, dtype=7), "empty(): argument 'dtype' must be torch.dtype, not int"),
])
def test_an_int_for_a_dtype_is_refused_in_eager_calls(call, msg):
    # (before: TorchScript's code 5 made a float16 tensor)
    with pytest.raises(TypeError) as e:
        call()
    assert str(e.value) == msg


def test_torch_ops_aten_still_takes_dtype_codes():
    assert torch.ops.aten.zeros([2], dtype=6).dtype == torch.float32


@pytest.mark.parametrize("call", [
    lambda x: torch.threshold(x, 1j, 2),
    lambda x: torch.threshold(x, 1, 2j),
    lambda x: torch.nn.functional.leaky_relu(x, 1j),
    lambda x: torch.nn.functional.elu(x, 1j),
    lambda x: torch.nn.functional.softplus(x, 1j),
    lambda x: torch.addcmul(x, x, x, value=1j),
    lambda x: torch.lerp(x, x, 1j),
    lambda x: torch.hardshrink(x, 1j),
])
def test_a_complex_scalar_for_a_real_result_is_refused(call):
    # (before: threshold, leaky_relu, elu, softplus and addcmul computed without the
    # imaginary part)
    with pytest.raises(RuntimeError, match="value cannot be converted to type float without "
                                           "overflow"):
        call(_x())


def test_complex_scalars_of_complex_results_and_of_zero_imaginary_part():
    c = torch.ones(2, dtype=torch.complex64)
    np.testing.assert_array_equal(torch.add(c, c, alpha=1j).numpy(), [1 + 1j, 1 + 1j])
    np.testing.assert_array_equal(torch.threshold(torch.ones(2), 1 + 0j, 2).numpy(), [2, 2])


@pytest.mark.parametrize("call, cls, msg", [
    (lambda: _x().type_as(None), TypeError,
     r"type_as\(\): argument 'other' \(position 1\) must be Tensor, not NoneType"),
    (lambda: torch.renorm(_x(), 2, 1, float("nan")), RuntimeError,
     "renorm: expected maxnorm to be >= 0 but got nan"),
])
def test_more_bad_arguments(call, cls, msg):
    with pytest.raises(cls, match=msg):
        call()


@pytest.mark.parametrize("n, dtype, cls, msg", [
    (257, torch.uint8, RuntimeError, "value cannot be converted to type uint8_t without overflow"),
    (129, torch.int8, RuntimeError, "value cannot be converted to type int8_t without overflow"),
    (40000, torch.int16, RuntimeError, "value cannot be converted to type int16_t without"),
    (3000, torch.float16, RuntimeError, "n cannot be greater than 2049 for Half type"),
    (3, torch.bool, NotImplementedError, "\"randperm\" not implemented for 'Bool'"),
])
def test_randperm_of_a_count_its_dtype_cannot_hold(n, dtype, cls, msg):
    # (before: the permutation wrapped, randperm(300, dtype=torch.uint8) repeated values)
    with pytest.raises(cls, match=msg):
        torch.randperm(n, dtype=dtype)


def test_randperm_of_the_largest_count_its_dtype_holds():
    r = torch.randperm(256, dtype=torch.uint8)
    assert sorted(r.tolist()) == list(range(256))


@pytest.mark.parametrize("shape, di, dw, db, msg", [
    ((2, 4), torch.float64, torch.float32, torch.float32,
     "mat1 and mat2 must have the same dtype, but got Double and Float"),
    ((2, 4), torch.float32, torch.float64, torch.float32,
     "self and mat2 must have the same dtype, but got Float and Double"),
    ((2, 3, 4), torch.float32, torch.float32, torch.float64,
     "self and mat2 must have the same dtype, but got Double and Float"),
    ((2, 4), torch.float64, torch.float32, None,
     "expected m1 and m2 to have the same dtype, but got: double != float"),
])
def test_linear_dtype_mismatch_in_torchs_words(shape, di, dw, db, msg):
    # (torch's linear is addmm(bias, input, weight.t()) with a bias: addmm's checks)
    x = torch.ones(shape, dtype=di)
    w = torch.ones(3, 4, dtype=dw)
    b = None if db is None else torch.ones(3, dtype=db)
    with pytest.raises(RuntimeError) as e:
        torch.nn.functional.linear(x, w, b)
    assert str(e.value) == msg


def test_a_linear_module_given_a_float64_batch():
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype, but got "
                                           "Double and Float"):
        torch.nn.Linear(4, 3)(torch.ones(2, 4, dtype=torch.float64))
