"""CUDA-only paths that the NumPy-backed CuPy (tests/fakecupy) did not model before session
62 (helper c62): CuPy's ElementwiseKernel (ops/fma.py's one-pass FMA), CUDA's saturating
float -> integer casts, CuPy's array() of a sequence mixing cupy arrays with other things,
RandomState.standard_gamma, and a CUDA out-of-memory error through the eager entry points.
`@pytest.mark.cuda` tests: they run on a GPU (ci/gpu.sh) and, without one, in
test_fake_gpu.py's session against the stand-in (and in `bash ci/fake_gpu.sh`)."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import gpujit

cuda = pytest.mark.cuda


def _exact_fma32(a, b, c):
    out = []
    for x, y, z in zip(a.tolist(), b.tolist(), c.tolist()):
        q = Fraction(x) * Fraction(y) + Fraction(z)
        f = np.float32(float(q))
        near = [np.nextafter(f, np.float32(-np.inf)), f, np.nextafter(f, np.float32(np.inf))]
        out.append(min(near, key=lambda v: (abs(Fraction(float(v)) - q),
                                            int(np.float32(v).view(np.int32)) & 1)))
    return np.array(out, np.float32)


@cuda
def test_an_elementwise_kernel_takes_arrays_of_its_parameters_dtype_only():
    import cupy
    k = cupy.ElementwiseKernel("float32 a, float32 b, float32 c", "float32 z",
                               "z = fmaf(a, b, c)", "c62_fma_float32")
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(64).astype(np.float32) for _ in range(3))
    got = k(cupy.asarray(a), cupy.asarray(b), cupy.asarray(c))
    assert got.dtype == np.float32 and got.shape == (64,)
    np.testing.assert_array_equal(cupy.asnumpy(got), _exact_fma32(a, b, c))
    with pytest.raises(TypeError, match="Type is mismatched"):
        k(cupy.asarray(a.astype(np.float64)), cupy.asarray(b), cupy.asarray(c))
    with pytest.raises(TypeError):          # (a host array is no C scalar)
        k(a, cupy.asarray(b), cupy.asarray(c))


@cuda
def test_fma_takes_cupys_kernel_only_for_operands_of_its_dtype():
    # ops/fma.py's CuPy kernel has fixed float32 / float64 parameters: a float64 operand of
    # fma32 (or a Python float that float32 cannot hold) takes the emulation, exact in its
    # operands as NumPy's path is (CuPy raised 'Type is mismatched' / rounded the scalar)
    import cupy
    from gpujit.ops import fma
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(32), rng.standard_normal(32).astype(np.float32)
    want = fma.fma32(a, b, np.float32(0.25), xp=np)
    got = fma.fma32(cupy.asarray(a), cupy.asarray(b), np.float32(0.25))
    np.testing.assert_array_equal(cupy.asnumpy(got), want)
    want = fma.fma32(b, b, 0.1, xp=np)            # (0.1: not a float32)
    got = fma.fma32(cupy.asarray(b), cupy.asarray(b), 0.1)
    np.testing.assert_array_equal(cupy.asnumpy(got), want)
    got = fma.fma64(cupy.asarray(a), 3, cupy.asarray(a))
    np.testing.assert_array_equal(cupy.asnumpy(got), fma.fma64(a, 3, a, xp=np))


@cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_alpha_steps_and_ranges_on_cuda_are_the_cpus_bits(dtype):
    # the eager ops that round a * b + c once (add / sub with alpha, addcmul, lerp,
    # linspace, arange) take CuPy's FMA kernel on a GPU (float16 differs by design: the
    # CPU rounds alpha to half first, as PyTorch's CPU kernel does)
    dt = getattr(gpujit, dtype)
    x = gpujit.linspace(-3, 5, 37, dtype=dt)
    y = gpujit.linspace(2, -7, 37, dtype=dt).sin()
    cases = [lambda x, y: gpujit.add(x, y, alpha=0.1), lambda x, y: gpujit.sub(x, y, alpha=3),
             lambda x, y: gpujit.addcmul(x, y, y, value=0.3),
             lambda x, y: gpujit.lerp(x, y, 0.7),
             lambda x, y: gpujit.linspace(-1.1, 2.3, 19, dtype=dt, device=x.device),
             lambda x, y: gpujit.arange(-1.0, 2.0, 0.3, dtype=dt, device=x.device)]
    tol = 1e-6 if dtype == "float32" else 1e-14     # (designed to be the same bits; a
    for f in cases:                                   # GPU run must not fail on an ulp)
        want = f(x, y)
        got = f(x.cuda(), y.cuda())
        assert got.device.type == "cuda" and got.dtype is want.dtype
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=tol, atol=tol)


@cuda
def test_cupys_float_to_integer_cast_saturates_and_gpujits_does_not():
    # CUDA's conversion clamps (nan -> 0); x86's (NumPy, PyTorch's CPU) gives INT_MIN:
    # gpujit's conversions agree with the CPU on either device
    import cupy
    v = np.array([np.nan, 1e10, -1e10, -1.5, 7.9], np.float64)
    assert cupy.asnumpy(cupy.asarray(v).astype(np.int32)).tolist() == \
        [0, 2**31 - 1, -2**31, -1, 7]
    assert int(cupy.asarray(v[3:4]).astype(np.uint8)[0]) == 0
    t = gpujit.tensor(v)
    for dtype in (gpujit.int32, gpujit.int64, gpujit.int16, gpujit.int8, gpujit.uint8):
        want = t.to(dtype).tolist()
        assert t.cuda().to(dtype).tolist() == want
        assert gpujit.zeros(5, dtype=dtype, device="cuda").copy_(t.cuda()).tolist() == want


@cuda
def test_cupy_array_of_a_sequence_concatenates_only_cupy_arrays_of_one_shape():
    import cupy
    a = cupy.asarray(np.float32(2.0))
    assert cupy.asnumpy(cupy.array([a, a])).tolist() == [2.0, 2.0]
    assert cupy.asnumpy(cupy.array([[1, 2], [3, 4]])).tolist() == [[1, 2], [3, 4]]
    for mixed in ([a, 1.0], [a, np.float32(1)], [cupy.ones(2), cupy.ones(3)],
                  [cupy.ones(2), np.ones(2)]):
        with pytest.raises(TypeError):
            cupy.array(mixed)
    # gpujit's list-of-tensors constructors do not hand CuPy such lists
    x = gpujit.tensor([1.5, -2.0], device="cuda")
    assert gpujit.tensor([x[0], x[1]]).tolist() == [1.5, -2.0]
    assert gpujit.tensor([x[0], 3.0], device="cuda").tolist() == [1.5, 3.0]
    assert gpujit.stack([x[0], x[1]]).device.type == "cuda"


@cuda
def test_gamma_dirichlet_and_beta_sample_on_cuda():
    a = gpujit.tensor([0.5, 1.0, 2.5], device="cuda")
    gpujit.manual_seed(0)
    for s, shape in ((gpujit._standard_gamma(a), (3,)), (gpujit._sample_dirichlet(a), (3,)),
                     (gpujit.distributions.Gamma(a, a).sample((2,)), (2, 3)),
                     (gpujit.distributions.Dirichlet(a).sample(), (3,)),
                     (gpujit.distributions.Beta(a, a).rsample(), (3,))):
        assert s.device.type == "cuda" and s.dtype is gpujit.float32
        assert tuple(s.shape) == shape
        v = s.cpu().numpy()
        assert np.isfinite(v).all() and (v > 0).all()
    assert math.isclose(float(gpujit._sample_dirichlet(a).sum()), 1.0, rel_tol=1e-5)


@cuda
def test_a_cuda_allocation_failure_is_torch_cuda_out_of_memory_error():
    # 90971482 turned every MemoryError of an eager op into the CPU allocator's error,
    # CuPy's OutOfMemoryError (a MemoryError) too
    import cupy
    pool = cupy.get_default_memory_pool()
    limit = pool.get_limit()
    pool.set_limit(size=gpujit.cuda.memory_allocated() + (1 << 16))
    try:
        for make in (lambda: gpujit.zeros(1 << 20, device="cuda"),
                     lambda: gpujit.ones(1 << 10, device="cuda").repeat(1 << 10),
                     lambda: gpujit.empty(1 << 20, device="cuda")):
            with pytest.raises(gpujit.cuda.OutOfMemoryError,
                               match=r"^CUDA out of memory\. Tried to allocate") as e:
                make()
            assert "DefaultCPUAllocator" not in str(e.value)
            assert isinstance(e.value, gpujit.OutOfMemoryError)
    finally:
        pool.set_limit(size=limit)


@cuda
def test_quantize_and_dequantize_a_cuda_tensor():
    # quantize_per_tensor / per_channel read the input through NumPy (CuPy refused it:
    # 'Implicit conversion to a NumPy array'); torch quantizes CUDA tensors on the device
    import warnings
    x = gpujit.tensor([[0.05, -1.26, 3.3, 100.0], [-0.31, 0.0, 2.45, -7.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # (quantization's deprecation warning)
        for make in (lambda t: gpujit.quantize_per_tensor(t, 0.1, 3, gpujit.quint8),
                     lambda t: gpujit.quantize_per_channel(
                         t, gpujit.tensor([0.1, 0.2], device=t.device),
                         gpujit.tensor([1, -2], device=t.device), 0, gpujit.qint8)):
            want, got = make(x), make(x.cuda())
            assert got.device.type == "cuda" and got.dtype is want.dtype
            assert got.int_repr().device.type == "cuda"
            assert got.int_repr().tolist() == want.int_repr().tolist()
            d = got.dequantize()
            assert d.device.type == "cuda" and d.tolist() == want.dequantize().tolist()
            assert "device='cuda:0'" in repr(got)
        q = gpujit._make_per_tensor_quantized_tensor(
            gpujit.tensor([1, 2], dtype=gpujit.uint8, device="cuda"), 0.5, 1)
        assert q.device.type == "cuda" and q.dequantize().tolist() == [0.0, 0.5]


def test_pack_padded_sequence_lengths_words_are_torchs():
    x = gpujit.zeros(3, 2, 4)
    with pytest.raises(RuntimeError, match=r"^'lengths' argument should be a 1D CPU int64 "
                                           r"tensor, but got 2D cpu Long tensor$"):
        gpujit.nn.utils.rnn.pack_padded_sequence(x, gpujit.tensor([[3, 2]]))
    assert gpujit.nn.utils.rnn.pack_padded_sequence(x, gpujit.tensor([3.0, 2.0])).data.shape \
        == (5, 4)


@cuda
def test_pack_padded_sequence_refuses_lengths_on_the_gpu():
    # (torch: ATen's _pack_padded_sequence check; gpujit packed them silently)
    x = gpujit.zeros(3, 2, 4, device="cuda")
    with pytest.raises(RuntimeError, match=r"^'lengths' argument should be a 1D CPU int64 "
                                           r"tensor, but got 1D cuda:0 Long tensor$"):
        gpujit.nn.utils.rnn.pack_padded_sequence(x, gpujit.tensor([3, 2], device="cuda"))
    p = gpujit.nn.utils.rnn.pack_padded_sequence(x, gpujit.tensor([3, 2]))
    assert p.data.device.type == "cuda" and p.batch_sizes.device.type == "cpu"


def test_the_cuda_namespace_has_torchs_peer_capture_and_sync_debug_questions():
    for name in ("can_device_access_peer", "is_current_stream_capturing",
                 "set_sync_debug_mode", "get_sync_debug_mode"):
        assert callable(getattr(gpujit.cuda, name)) and name in gpujit.cuda.__all__
    assert gpujit.cuda.is_current_stream_capturing() is False


@cuda
def test_peer_access_and_sync_debug_mode_on_cuda():
    n = gpujit.cuda.device_count()
    assert gpujit.cuda.can_device_access_peer(0, 0) is False
    with pytest.raises(AssertionError, match="^Invalid peer device id$"):
        gpujit.cuda.can_device_access_peer(0, n)
    with pytest.raises(AssertionError, match="^Invalid device id$"):
        gpujit.cuda.can_device_access_peer(n, 0)
    if n > 1:
        assert isinstance(gpujit.cuda.can_device_access_peer("cuda:0", 1), bool)
    try:
        gpujit.cuda.set_sync_debug_mode("warn")
        assert gpujit.cuda.get_sync_debug_mode() == 1
        with pytest.raises(RuntimeError, match="invalid value of debug_mode"):
            gpujit.cuda.set_sync_debug_mode("loud")
    finally:
        gpujit.cuda.set_sync_debug_mode(0)
    assert gpujit.cuda.get_sync_debug_mode() == 0
