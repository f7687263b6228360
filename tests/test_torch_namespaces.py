"""torch's top-level switches that training scripts set: torch.backends, matmul precision,
deterministic algorithms, set_default_device, typename."""
import numpy as np
import pytest

import gpujit


def test_backends_flags_are_kept():
    cudnn = gpujit.backends.cudnn
    old = cudnn.benchmark
    try:
        cudnn.benchmark = True
        cudnn.deterministic = True
        assert gpujit.backends.cudnn.benchmark is True and cudnn.deterministic is True
    finally:
        cudnn.benchmark, cudnn.deterministic = old, False
    gpujit.backends.cuda.matmul.allow_tf32 = True
    assert gpujit.backends.cuda.matmul.allow_tf32 is True
    gpujit.backends.cuda.matmul.allow_tf32 = False
    assert gpujit.backends.mps.is_available() is False
    assert gpujit.backends.cuda.is_built() == gpujit.cuda.is_available()


def test_matmul_precision_and_deterministic_switches():
    assert gpujit.get_float32_matmul_precision() == "highest"
    gpujit.set_float32_matmul_precision("high")
    assert gpujit.get_float32_matmul_precision() == "high"
    gpujit.set_float32_matmul_precision("highest")
    with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
        gpujit.set_float32_matmul_precision("fast")     # torch warns, keeps the old one
    assert gpujit.get_float32_matmul_precision() == "highest"
    gpujit.use_deterministic_algorithms(True, warn_only=True)
    assert gpujit.are_deterministic_algorithms_enabled()
    assert gpujit.is_deterministic_algorithms_warn_only_enabled()
    gpujit.use_deterministic_algorithms(False)
    assert not gpujit.are_deterministic_algorithms_enabled()
    with pytest.raises(TypeError):
        gpujit.use_deterministic_algorithms("yes")


def test_typename_and_is_storage():
    assert gpujit.typename(gpujit.ones(1)) == "torch.FloatTensor"
    assert gpujit.typename(gpujit.ones(1, dtype=gpujit.int64)) == "torch.LongTensor"
    assert gpujit.typename(3) == "int"
    assert gpujit.typename(np.ones(1)) == "numpy.ndarray"
    assert gpujit.is_storage(gpujit.ones(1)) is False


def test_default_device_cpu():
    assert gpujit.get_default_device() == gpujit.device("cpu")
    gpujit.set_default_device("cpu")
    try:
        assert gpujit.zeros(2).device == gpujit.device("cpu")
        assert gpujit.tensor([1, 2]).device == gpujit.device("cpu")
    finally:
        gpujit.set_default_device(None)
    if not gpujit.cuda.is_available():
        with pytest.raises(Exception, match="gpujit\\[cuda12\\]|CuPy|cupy"):
            gpujit.set_default_device("cuda")
        assert gpujit.get_default_device() == gpujit.device("cpu")


@pytest.mark.cuda
def test_default_device_cuda_puts_factories_on_the_gpu():
    cuda = gpujit.device("cuda", gpujit.cuda.current_device())
    cpu_t = gpujit.ones(3)
    gpujit.set_default_device("cuda")
    try:
        assert gpujit.get_default_device() == cuda
        made = [gpujit.zeros(2), gpujit.ones(2, 3), gpujit.empty(4), gpujit.full((2,), 1.5),
                gpujit.arange(5), gpujit.linspace(0, 1, 5), gpujit.eye(3), gpujit.rand(2),
                gpujit.randn(2), gpujit.randint(0, 5, (3,)), gpujit.randperm(4),
                gpujit.tensor([1.0, 2.0]), gpujit.as_tensor(np.ones(2)),
                gpujit.tensor(cpu_t)]
        assert all(t.device == cuda for t in made), [t.device for t in made]
        # *_like and ops on existing tensors follow their input, as in torch
        assert gpujit.zeros_like(cpu_t).device == gpujit.device("cpu")
        assert (cpu_t + 1).device == gpujit.device("cpu")
        assert gpujit.zeros(2, device="cpu").device == gpujit.device("cpu")
        np.testing.assert_array_equal(gpujit.arange(5).cpu().numpy(), np.arange(5))
    finally:
        gpujit.set_default_device(None)
    assert gpujit.zeros(1).device == gpujit.device("cpu")
