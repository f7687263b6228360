"""Bad arguments found by session 59's hunt (helper b59): PyTorch 2.13's error class and
words, or its answer, for each call; expected values are torch 2.13's (no torch import)."""
import numpy as np
import pytest

import gpujit as torch


def _x():
    return torch.ones(2)


# ---- a dtype= that is no torch.dtype: a str or a NumPy dtype is refused (each was accepted)

@pytest.mark.parametrize("call, msg", [
    (lambda: torch.zeros(2, dtype="float32"), r"zeros\(\): argument 'dtype' must be torch.dtype, not str"),
    (lambda: torch.ones(2, dtype=np.float32), r"ones\(\): argument 'dtype' must be torch.dtype, not type"),
    (lambda: torch.full((2,), 1., dtype="float32"), r"full\(\): argument 'dtype' must be torch.dtype"),
    (lambda: torch.zeros(2, dtype=np.dtype("float32")),
     r"must be torch.dtype, not numpy.dtypes.Float32DType"),
    (lambda: torch.zeros_like(_x(), dtype="float32"), r"zeros_like\(\): argument 'dtype'"),
    (lambda: torch.arange(3, dtype="float32"), r"arange\(\) received an invalid combination"),
    (lambda: torch.rand(2, dtype="float32"), r"rand\(\) received an invalid combination"),
    (lambda: torch.randn(2, dtype=np.float64), r"got \(int, dtype=type\)"),
    (lambda: torch.tensor([1.], dtype="float32"), r"tensor\(\): argument 'dtype' must be torch.dtype, not str"),
    (lambda: torch.tensor([1.], dtype=5), r"tensor\(\): argument 'dtype' must be torch.dtype, not int"),
    (lambda: torch.as_tensor([1.], dtype=np.float32), r"as_tensor\(\): argument 'dtype'"),
    (lambda: _x().new_tensor([1], dtype="float64"), r"new_tensor\(\): argument 'dtype'"),
    (lambda: _x().new_zeros(2, dtype="float64"), r"new_zeros\(\): argument 'dtype'"),
    (lambda: torch.softmax(_x(), 0, dtype="float64"), r"softmax\(\): argument 'dtype'"),
    (lambda: torch.nn.functional.log_softmax(_x(), 0, dtype="float64"), r"log_softmax\(\): argument 'dtype'"),
    (lambda: torch.cumsum(_x(), 0, dtype="float64"), r"cumsum\(\): argument 'dtype'"),
    (lambda: torch.nansum(_x(), dtype="float64"), r"nansum\(\): argument 'dtype'"),
    (lambda: torch.linalg.vector_norm(_x(), dtype="float64"), r"argument 'dtype' must be torch.dtype"),
    (lambda: torch.sparse_coo_tensor([[0]], [1.], dtype=np.float64), r"sparse_coo_tensor\(\)"),
    (lambda: _x().to(dtype="float32"), r"to\(\) received an invalid combination of arguments - got \(dtype=str, \)"),
    (lambda: _x().to(np.float32), r"to\(\) received an invalid combination of arguments - got \(type\)"),
    (lambda: _x().to("cpu", "float64"), r"to\(\) received an invalid combination of arguments - got \(str, str\)"),
    (lambda: _x().to(torch.float32, "cpu"), r"got \(torch.dtype, str\)"),
    (lambda: _x().to(torch.float32, torch.float64), r"got \(torch.dtype, torch.dtype\)"),
    (lambda: torch.nn.Linear(2, 2).to(dtype="float64"), r"to\(\) received an invalid combination"),
    (lambda: torch.finfo("float32"), r"finfo\(\): argument 'type' \(position 1\) must be torch.dtype, not str"),
    (lambda: torch.iinfo(np.int32), r"iinfo\(\): argument 'type' \(position 1\) must be torch.dtype, not type"),
    (lambda: torch.promote_types("float32", torch.int32),
     r"promote_types\(\): argument 'type1' \(position 1\) must be torch.dtype, not str"),
    (lambda: torch.can_cast(torch.float32, "a"), r"can_cast\(\): argument 'to' \(position 2\)"),
    (lambda: torch.set_default_dtype("float64"), r"invalid dtype object: only floating-point types"),
    (lambda: torch.set_default_dtype(np.float64), r"invalid dtype object"),
])
def test_a_dtype_that_is_no_torch_dtype_is_refused(call, msg):
    with pytest.raises(TypeError, match=msg):
        call()
    assert torch.get_default_dtype() is torch.float32


@pytest.mark.parametrize("call", [lambda: _x().type(float), lambda: _x().type(np.float64)])
def test_tensor_type_of_a_class_that_is_no_tensor_type(call):
    with pytest.raises(ValueError, match=r"invalid type: '(float|numpy.float64)'"):
        call()
    with pytest.raises(TypeError, match="dtype must be a type, str, or dtype object"):
        _x().type(np.dtype("float64"))


@pytest.mark.parametrize("call, dtype", [
    # (Python's float is C's double, whatever the default dtype: these were float32)
    (lambda: torch.ones(2, dtype=float), torch.float64),
    (lambda: torch.tensor(1, dtype=float), torch.float64),
    (lambda: _x().to(float), torch.float64),
    (lambda: _x().to(dtype=float), torch.float64),
    (lambda: _x().to(complex), torch.complex128),
    (lambda: torch.ones(2, dtype=complex), torch.complex128),
    (lambda: _x().sum(dtype=float), torch.float64),
    (lambda: _x().new_zeros(2, dtype=float), torch.float64),
    (lambda: torch.nn.Linear(2, 2).to(float).weight, torch.float64),
    (lambda: torch.ones(2, dtype=int), torch.int64),
    (lambda: torch.ones(2, dtype=bool), torch.bool),
    (lambda: torch.ones(1, dtype=torch.promote_types(float, torch.int32)), torch.float64),
])
def test_python_types_for_a_dtype_are_pytorchs(call, dtype):
    assert call().dtype is dtype


def test_python_float_type_is_float64_under_any_default():
    assert torch.finfo(float).dtype == "float64" and torch.iinfo(int).dtype == "int64"
    assert torch.can_cast(float, torch.int32) is False
    torch.set_default_dtype(torch.float64)
    try:
        assert torch.ones(2, dtype=float).dtype is torch.float64
    finally:
        torch.set_default_dtype(torch.float32)


def test_to_keeps_its_overloads():
    x = _x()
    assert x.to("cpu", torch.float64).dtype is torch.float64
    assert x.to(None).dtype is torch.float32 and x.to(dtype=None) is x
    assert x.to(torch.float64, True, True).dtype is torch.float64
    y = x.to(x, False, True)
    assert y is not x and y.dtype is torch.float32
    assert x.to("cpu", None, False, True) is not x


# ---- a Python int past int64 for an int parameter: PyTorch's parser errors (each was an
# IndexError or RuntimeError about the huge value, or computed)

_BIG = 2 ** 70


@pytest.mark.parametrize("call, cls, msg", [
    (lambda: _x().select(0, _BIG), ValueError, "Overflow when unpacking long long"),
    (lambda: _x().sum(-2 ** 63 - 1), ValueError, "Overflow when unpacking long long"),
    (lambda: _x().unsqueeze(_BIG), ValueError, "Overflow when unpacking long long"),
    (lambda: torch.roll(_x(), _BIG), ValueError, "Overflow when unpacking long long"),
    (lambda: _x().topk(_BIG), ValueError, "Overflow when unpacking long long"),
    (lambda: _x()[:, None][_BIG], ValueError, "Overflow when unpacking long long"),
    (lambda: torch.manual_seed(2 ** 64), ValueError, "Overflow when unpacking long long"),
    (lambda: _x().sum((0, _BIG)), TypeError,
     "sum\\(\\): argument 'dim' failed to unpack the object at pos 2 with error \"Overflow "
     "when unpacking long long\""),
    (lambda: _x().view((2, _BIG)), TypeError, "view\\(\\): argument 'size' failed to unpack"),
    (lambda: torch.zeros(2, _BIG), TypeError, "zeros\\(\\): argument 'size' failed to unpack "
                                               "the object at pos 2"),
    (lambda: _x().repeat(_BIG), TypeError, "repeat\\(\\): argument 'repeats' failed to unpack"),
    (lambda: _x().pow(_BIG), OverflowError, "int too big to convert"),
    (lambda: _x() ** (-2 ** 63 - 1), OverflowError, "can't convert negative int to unsigned"),
    (lambda: torch.add(_BIG, 1), OverflowError, "int too big to convert"),
    (lambda: torch.add(-2 ** 63 - 1, 1), OverflowError, "can't convert negative int"),
])
def test_an_int_past_int64_is_the_parsers_error(call, cls, msg):
    with pytest.raises(cls, match=msg):
        call()


def test_slices_past_int64_are_clamped_as_pythons():
    x = torch.arange(5.)
    assert x[_BIG:].numel() == 0 and x[:-_BIG].numel() == 0
    np.testing.assert_array_equal(x[-_BIG:].numpy(), np.arange(5.))
    np.testing.assert_array_equal(x[:_BIG].numpy(), np.arange(5.))
    assert x.pow(2 ** 63).tolist() == [0.0, 1.0, np.inf, np.inf, np.inf]   # (a uint64 Scalar)


# ---- trapezoid / cumulative_trapezoid with sample points x of other ranks than y: PyTorch's
# layout (x not broadcast to y before its differences); wrong answers and refusals before

def _np_trap(y, x, d, cumulative):
    """PyTorch's integral.cpp in NumPy: x viewed to y's rank (1-D along d, leading 1s),
    ((y[1:] + y[:-1]) * diff(x)) summed (cumsum) along d, / 2."""
    if x.ndim == 1:
        x = x.reshape((1,) * d + x.shape + (1,) * (y.ndim - d - 1))
    elif x.ndim < y.ndim:
        x = x.reshape((1,) * (y.ndim - x.ndim) + x.shape)
    seg = (np.take(y, range(1, y.shape[d]), d) + np.take(y, range(y.shape[d] - 1), d)) * \
        np.diff(x, axis=d)
    return (np.cumsum(seg, d) if cumulative else seg.sum(d)) / 2


@pytest.mark.parametrize("ys, xs, d, shape, cshape", [
    ((4, 2, 3), (2, 3), 1, (4, 3), (4, 1, 3)),      # (was refused: a size error)
    ((2, 3, 4), (3, 1), 1, (2, 4), (2, 2, 4)),      # (was refused)
    ((3,), (3, 1), 0, (2,), (2, 2)),                # (was refused)
    ((2, 3), (2, 3, 1), 0, (3, 3), (1, 3, 3)),      # (was (2, 3): x broadcast first)
    ((2, 3), (2, 3), 0, (3,), (1, 3)),
    ((4, 2, 3), (2, 3), -1, (4, 2), (4, 2, 2)),
])
def test_trapezoid_of_sample_points_of_another_rank(ys, xs, d, shape, cshape):
    rng = np.random.default_rng(0)
    y, x = rng.standard_normal(ys), np.cumsum(rng.random(xs), axis=-1)
    dd = d % len(ys)
    r = torch.trapezoid(torch.tensor(y), torch.tensor(x), dim=d)
    c = torch.cumulative_trapezoid(torch.tensor(y), torch.tensor(x), dim=d)
    assert tuple(r.shape) == shape and tuple(c.shape) == cshape
    np.testing.assert_allclose(r.numpy(), _np_trap(y, x, dd, False), rtol=1e-12)
    np.testing.assert_allclose(c.numpy(), _np_trap(y, x, dd, True), rtol=1e-12)
    yt = torch.tensor(y, requires_grad=True)
    torch.trapezoid(yt, torch.tensor(x), dim=d).sum().backward()
    assert yt.grad.shape == yt.shape


@pytest.mark.parametrize("ys, xs, msg", [
    ((3,), (2, 3), r"The size of tensor a \(2\) must match the size of tensor b \(3\) at "
                   r"non-singleton dimension 1"),
    ((2, 3), (5, 2, 3), r"The size of tensor a \(2\) must match the size of tensor b \(3\) at "
                        r"non-singleton dimension 2"),
])
def test_trapezoid_of_sample_points_that_do_not_broadcast(ys, xs, msg):
    # (each computed before: x broadcast to y, as PyTorch does not)
    for f in (torch.trapezoid, torch.cumulative_trapezoid, torch.trapz):
        with pytest.raises(RuntimeError, match=msg):
            f(torch.ones(ys), torch.ones(xs))


# ---- Python-level nn.functional functions given a non-Tensor for a Tensor: PyTorch's
# parser TypeError (each leaked an AttributeError: 'NoneType' object has no attribute 'dim')

_F = torch.nn.functional


@pytest.mark.parametrize("call, msg", [
    (lambda: _F.pdist(None), r"pdist\(\): argument 'input' \(position 1\) must be Tensor, not NoneType"),
    (lambda: torch.pdist("a"), r"pdist\(\): argument 'input' \(position 1\) must be Tensor, not str"),
    (lambda: _F.embedding(torch.tensor([0]), None), r"argument 'weight' .*must be Tensor, not NoneType"),
    (lambda: _F.grid_sample(None, torch.ones(1, 2, 2, 2)), r"grid_sampler\(\): argument 'input'"),
    (lambda: _F.grid_sample(torch.ones(1, 1, 2, 2), None), r"grid_sampler\(\): argument 'grid' \(position 2\)"),
    (lambda: _F.pairwise_distance(_x(), None), r"pairwise_distance\(\): argument 'x2' \(position 2\)"),
    (lambda: _F.cosine_embedding_loss(_x(), _x(), None), r"argument 'target' \(position 3\) must be Tensor"),
    (lambda: _F.multi_margin_loss(_x(), "a"), r"multi_margin_loss\(\): argument 'target' \(position 2\) must be Tensor, not str"),
    (lambda: _F.multilabel_margin_loss(_x(), None), r"multilabel_margin_loss\(\): argument 'target'"),
    (lambda: _F.triplet_margin_loss(_x(), _x(), None), r"argument 'negative' \(position 3\)"),
    (lambda: _F.scaled_dot_product_attention(_x(), _x(), None), r"argument 'value' \(position 3\) must be Tensor"),
])
def test_functional_of_no_tensor_is_the_parsers_type_error(call, msg):
    with pytest.raises(TypeError, match=msg):
        call()


def test_fractional_max_pool_without_a_size_says_so_first():
    # (PyTorch checks output_size / output_ratio before the kernel size: was len(None)'s error)
    with pytest.raises(ValueError, match="fractional_max_pool2d requires specifying either an "
                                         "output_size or an output_ratio"):
        _F.fractional_max_pool2d(torch.ones(1, 1, 4, 4), None)
    with pytest.raises(ValueError, match="fractional_max_pool3d requires specifying"):
        _F.fractional_max_pool3d(torch.ones(1, 1, 4, 4, 4), 2)


@pytest.mark.parametrize("shape, dim, idx, cls, msg", [
    # (ATen's CPU kernel of a self of one dim or none: its own words, an IndexError)
    ((3,), 0, [5], IndexError, "index out of range in self"),
    ((3,), 0, [-1], IndexError, "index out of range in self"),
    ((), 0, [1], IndexError, "index out of range in self"),
    ((3, 2), 0, [5], RuntimeError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((3, 2), 1, [-1], RuntimeError, "index -1 is out of bounds for dimension 1 with size 2"),
])
def test_index_add_of_an_index_out_of_range(shape, dim, idx, cls, msg):
    src = list(shape)
    if src:
        src[dim] = 1
    for f in (torch.Tensor.index_add_, torch.Tensor.index_add):
        with pytest.raises(cls, match=msg):
            f(torch.zeros(shape), dim, torch.tensor(idx), torch.ones(src))


@pytest.mark.parametrize("obj, name", [(3, "int"), (None, "NoneType"), ("abc", "str"),
                                       ((1,), "tuple")])
def test_script_of_a_builtin_value_is_torchs_type_error(obj, name):
    with pytest.raises(TypeError, match=f"<class '{name}'> is a built-in class"):
        torch.jit.script(obj)


@pytest.mark.parametrize("call, cls, msg", [
    (lambda: torch.margin_ranking_loss(_x(), _x(), None), TypeError,
     r"margin_ranking_loss\(\): argument 'target' \(position 3\) must be Tensor, not NoneType"),
    (lambda: torch.ormqr(torch.ones(2, 2), torch.ones(1), "a"), TypeError,
     r"ormqr\(\): argument 'input3' \(position 3\) must be Tensor, not str"),
    (lambda: torch.is_distributed(None), TypeError, r"is_distributed\(\): argument 'input'"),
    (lambda: torch.from_dlpack(None), RuntimeError, "from_dlpack received an invalid capsule"),
    (lambda: torch.sparse_compressed_tensor(torch.tensor([0, 1]), torch.tensor([0]),
                                            torch.ones(1)), RuntimeError,
     "sparse_compressed_tensor expected sparse compressed tensor layout but got none"),
])
def test_torch_functions_of_no_tensor(call, cls, msg):
    # (each leaked an AttributeError or KeyError)
    with pytest.raises(cls, match=msg):
        call()


def test_numpy_force_is_a_keyword_only_bool():
    with pytest.raises(TypeError, match="numpy\\(\\): argument 'force' must be bool, not str"):
        _x().numpy(force="a")
    with pytest.raises(TypeError):
        _x().numpy(True)
    np.testing.assert_array_equal(_x().numpy(force=True), np.ones(2, np.float32))


@pytest.mark.parametrize("call, msg", [
    (lambda: torch.ones(2, layout="strided"), r"ones\(\): argument 'layout' must be torch.layout, not str"),
    (lambda: torch.zeros(2, layout=3), r"zeros\(\): argument 'layout' must be torch.layout, not int"),
    (lambda: torch.ones_like(_x(), layout="a"), r"ones_like\(\): argument 'layout'"),
    (lambda: torch.ones(2, device=3.5), r"must be torch.device, not float|device\(\) received an "
                                        r"invalid combination of arguments - got \(float\)"),
    (lambda: torch.tensor([1.], device=[0]), r"got \(list\)"),
    (lambda: torch.device(None), r"device\(\) received an invalid combination of arguments - "
                                 r"got \(NoneType\)"),
    (lambda: torch.device(3.5), r"got \(float\)"),
])
def test_a_layout_or_device_of_another_type_is_the_parsers_type_error(call, msg):
    # (layouts were ignored; devices were 'Invalid device string' RuntimeErrors)
    with pytest.raises(TypeError, match=msg):
        call()
    assert torch.ones(2, layout=torch.strided, device="cpu").layout is torch.strided
    assert torch.zeros(1, device=torch.device("cpu")).device.type == "cpu"


def test_cpu_takes_a_memory_format():
    x = torch.ones(1, 2, 3, 4)
    y = x.cpu(memory_format=torch.channels_last)
    assert y.is_contiguous(memory_format=torch.channels_last) and x.cpu() is x
    with pytest.raises(TypeError):
        x.cpu(torch.contiguous_format)      # (keyword-only, as PyTorch's)


@pytest.mark.parametrize("call, got", [
    # (PyTorch's three overloads: the tensor and dtype ones take no dtype= or device=)
    (lambda x: x.to(torch.float64, device="cpu"), r"\(torch.dtype, device=str\)"),
    (lambda x: x.to(torch.float64, dtype=torch.float32), r"\(torch.dtype, dtype=torch.dtype\)"),
    (lambda x: x.to("cpu", device="cpu"), r"\(str, device=str\)"),
    (lambda x: x.to(x, device="cpu"), r"\(Tensor, device=str\)"),
    (lambda x: x.to(x, dtype=torch.float64), r"\(Tensor, dtype=torch.dtype\)"),
])
def test_to_refuses_a_keyword_its_overload_has_not(call, got):
    with pytest.raises(TypeError, match=r"to\(\) received an invalid combination of arguments - "
                                        r"got " + got):
        call(_x())
    assert _x().to("cpu", dtype=torch.float64).dtype is torch.float64


@pytest.mark.parametrize("call, msg", [
    # (ATen's check_from_to_in_range, as random_'s: these drew wrapped values)
    (lambda: torch.randint(0, 300, (2,), dtype=torch.uint8), "to - 1 is out of bounds for unsigned char"),
    (lambda: torch.randint(-129, 0, (2,), dtype=torch.int8), "from is out of bounds for signed char"),
    (lambda: torch.randint(3, (2,), dtype=torch.bool), "to - 1 is out of bounds for bool"),
    (lambda: torch.randint(0, 2 ** 31 + 1, (2,), dtype=torch.int32), "to - 1 is out of bounds for int"),
    (lambda: torch.randint_like(torch.zeros(2, dtype=torch.uint8), 300), "to - 1 is out of bounds"),
    (lambda: torch.randint_like(torch.zeros(2, dtype=torch.int8), -200, 0), "from is out of bounds"),
])
def test_randint_of_bounds_its_dtype_cannot_hold(call, msg):
    with pytest.raises(RuntimeError, match=msg):
        call()
    r = torch.randint(0, 256, (50,), dtype=torch.uint8)
    assert r.dtype is torch.uint8 and int(r.max()) <= 255
    assert torch.randint(-128, 128, (5,), dtype=torch.int8).dtype is torch.int8


@pytest.mark.parametrize("call", [
    lambda: torch.empty(2 ** 40), lambda: torch.ones(2).repeat(2 ** 40),
    lambda: torch.randperm(2 ** 40), lambda: torch.ones(2 ** 20, 1) + torch.ones(1, 2 ** 21),
])
def test_an_allocation_that_fails_is_pytorchs_allocator_error(call):
    # (NumPy's MemoryError 'Unable to allocate 4.00 TiB ...': PyTorch's RuntimeError, still
    # a MemoryError too)
    with pytest.raises(RuntimeError, match="DefaultCPUAllocator: can't allocate memory: you "
                                           "tried to allocate [0-9]+ bytes") as e:
        call()
    assert isinstance(e.value, MemoryError)


def test_sizes_whose_product_overflows():
    with pytest.raises(RuntimeError, match=r"Storage size calculation overflowed with "
                                           r"sizes=\[2147483648, 2147483648\]"):
        torch.zeros(2 ** 31, 2 ** 31)     # (NumPy's 'array is too big' ValueError)


@pytest.mark.parametrize("edges, vals, hist", [
    # (torch 2.13's counts: ATen's binary search over the edges as given; NumPy's
    # "bins must increase monotonically" ValueError leaked)
    ([2., 1.], [1., 1.], [0.]),
    ([0., 2., 1.], [0.5, 1., 0.2, 3.], [3., 0.]),
    ([0., 3., 1., 4.], [0.5, 2., 3.5, 4.], [1., 0., 3.]),
    ([5., 0., 10.], [1., 6., 10.], [0., 2.]),
])
def test_histogram_of_bins_that_do_not_increase(edges, vals, hist):
    r = torch.histogram(torch.tensor(vals), bins=torch.tensor(edges))
    assert r.hist.tolist() == hist and r.bin_edges.tolist() == edges
    w = torch.histogram(torch.tensor(vals), bins=torch.tensor(edges), weight=torch.tensor(vals))
    assert w.hist.shape == (len(edges) - 1,)


@pytest.mark.parametrize("call, msg", [
    # (an array is no Number, a 0-dim one neither: these computed elementwise)
    (lambda: _F.elu(_x(), np.ones(3)), r"elu\(\): argument 'alpha' \(position 2\) must be Number, "
                                       r"not numpy.ndarray"),
    (lambda: _F.softplus(_x(), np.array(1.0)), r"softplus\(\): argument 'beta'"),
    (lambda: _F.leaky_relu(_x(), np.ones(2)), r"argument 'negative_slope'"),
    (lambda: _x().add(1, alpha=np.ones(2)), r"add\(\): argument 'alpha' must be Number"),
    (lambda: _F.poisson_nll_loss(_x(), 1.5), r"poisson_nll_loss\(\): argument 'target' "
                                             r"\(position 2\) must be Tensor, not float"),
])
def test_an_array_for_a_number_is_the_parsers_type_error(call, msg):
    with pytest.raises(TypeError, match=msg):
        call()
    assert _F.elu(_x(), np.float64(1.0)).shape == (2,)      # (a NumPy scalar is a number)
