"""Devices: parsing, equality, repr as torch.device; gpujit.cuda without and with a GPU."""
import pickle

import numpy as np
import pytest

import gpujit
from gpujit.device import cpu, xp_for

HAS_CUDA = gpujit.cuda.is_available()


# ---------------------------------------------------------------- device objects

@pytest.mark.parametrize("spec, args, type_, index", [
    ("cpu", (), "cpu", None),
    ("cuda", (), "cuda", None),
    ("cuda:1", (), "cuda", 1),
    ("cuda", (2,), "cuda", 2),
    (0, (), "cuda", 0),
])
def test_parsing(spec, args, type_, index):
    d = gpujit.device(spec, *args)
    assert (d.type, d.index) == (type_, index)


def test_repr_and_str_as_torch():
    assert repr(gpujit.device("cuda:0")) == "device(type='cuda', index=0)"
    assert repr(gpujit.device("cuda")) == "device(type='cuda')"
    assert repr(gpujit.device("cpu")) == "device(type='cpu')"
    assert str(gpujit.device("cuda", 1)) == "cuda:1"
    assert str(gpujit.device("cuda")) == "cuda"
    assert str(gpujit.device("cpu")) == "cpu"


def test_devices_are_interned_and_compare_with_strings():
    assert gpujit.device("cuda:0") is gpujit.device("cuda", 0) is gpujit.device(0)
    assert gpujit.device("cpu") is cpu
    # torch 2.13: a device never equals a str (device('cuda:0') == 'cuda:0' is False)
    assert not gpujit.device("cuda:0") == "cuda:0"
    assert gpujit.device("cuda:0") != "cuda:0"
    assert gpujit.device("cuda:0") == gpujit.device("cuda:0")
    assert gpujit.device("cuda:0") != gpujit.device("cuda")
    assert gpujit.device("cpu") != "not a device"
    assert len({gpujit.device("cuda:0"), gpujit.device("cuda", 0)}) == 1
    assert pickle.loads(pickle.dumps(gpujit.device("cuda:1"))) is gpujit.device("cuda:1")


@pytest.mark.parametrize("spec, args, match", [
    ("gpu", (), "Expected one of cpu, cuda"),
    ("cuda:x", (), "Invalid device string"),
    ("cuda:1", (1,), "must not include an index because index was passed explicitly"),
    ("", (), "Device string must not be empty"),
    (" cpu", (), "Invalid device string: . cpu."),
    ("cuda:01", (), "Invalid device string"),
    ("cuda", (-1,), "must not be negative"),
])
def test_bad_devices(spec, args, match):
    with pytest.raises(RuntimeError, match=match):
        gpujit.device(spec, *args)


def test_devices_are_immutable():
    with pytest.raises(AttributeError):
        gpujit.device("cpu").type = "cuda"


def test_cpu_is_served_by_numpy():
    assert xp_for(cpu) is np
    assert gpujit.tensor([1.0]).device is cpu
    assert gpujit.tensor([1.0]).device == gpujit.device("cpu") and gpujit.tensor([1.0]).device != "cpu"
    assert not gpujit.tensor([1.0]).is_cuda


# ---------------------------------------------------------------- without a GPU

no_gpu = pytest.mark.skipif(HAS_CUDA, reason="checks the behaviour on machines without a GPU")
HINT = r'pip install "gpujit\[cuda12\]"'


@no_gpu
def test_cuda_namespace_reports_no_gpu():
    assert gpujit.cuda.is_available() is False
    assert gpujit.cuda.device_count() == 0
    assert gpujit.cuda.memory_allocated() == 0
    gpujit.cuda.empty_cache()          # nothing to free; not an error (as torch)
    gpujit.cuda.manual_seed(0)         # seeds lazily, as torch does without a GPU
    gpujit.cuda.manual_seed_all(0)


@no_gpu
@pytest.mark.parametrize("call", [
    lambda: gpujit.tensor([1.0]).cuda(),
    lambda: gpujit.tensor([1.0]).to("cuda"),
    lambda: gpujit.tensor([1.0], device="cuda"),
    lambda: gpujit.zeros(2, device="cuda:0"),
    lambda: gpujit.cuda.current_device(),
    lambda: gpujit.cuda.set_device(0),
    lambda: gpujit.cuda.synchronize(),
    lambda: gpujit.cuda.Event(enable_timing=True),
    lambda: gpujit.cuda.get_device_name(),
    lambda: gpujit.cuda.get_device_capability(),
], ids=["cuda()", "to", "tensor", "zeros", "current_device", "set_device", "synchronize",
        "Event", "get_device_name", "get_device_capability"])
def test_cuda_calls_without_gpu_raise_with_install_hint(call):
    with pytest.raises(RuntimeError, match=HINT):
        call()


# ---------------------------------------------------------------- with a GPU

@pytest.mark.cuda
def test_transfers_round_trip():
    x = gpujit.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = x.cuda()
    assert y.device == gpujit.device("cuda", gpujit.cuda.current_device())
    assert y.is_cuda and not x.is_cuda
    assert type(y._data).__module__.startswith("cupy")
    z = y.cpu()
    assert z.device is cpu
    np.testing.assert_array_equal(z.numpy(), x.numpy())
    assert y.to("cuda") is y            # already there: no copy
    assert y.to(gpujit.float64).device == y.device
    assert y.to("cpu", gpujit.int32).dtype is gpujit.int32
    with pytest.raises(TypeError, match="Use Tensor.cpu"):
        y.numpy()


@pytest.mark.cuda
def test_transfers_keep_a_dense_layout():
    """As PyTorch's .to(device) (preserve_format): a dense tensor keeps its strides, a
    tensor with gaps arrives contiguous; values are kept either way."""
    base = gpujit.arange(24, dtype=gpujit.float32).reshape(2, 3, 4)
    for x in (base.permute(2, 0, 1), base.transpose(0, 1),
              base[:, :, ::2], base.permute(1, 2, 0).contiguous()):
        dense = x.is_contiguous() or x.permute(*sorted(
            range(x.dim()), key=lambda d: -x.stride(d))).is_contiguous()
        y = x.cuda()
        assert y.stride() == (x.stride() if dense else x.contiguous().stride())
        z = y.cpu()
        assert z.stride() == y.stride()
        np.testing.assert_array_equal(z.numpy(), x.numpy())


@pytest.mark.cuda
def test_float_to_int_conversions_agree_across_devices():
    """Out-of-range float -> int conversions give the CPU's answers on the GPU too (CuPy's
    astype saturates; PyTorch converts through int64 on either device)."""
    vals = [-1.5, -200.5, 300.7, 2.5, -0.5, 70000.2, -3e9, 3e9, float("nan"), float("inf")]
    x = gpujit.tensor(vals, dtype=gpujit.float32)
    for dt in (gpujit.uint8, gpujit.int8, gpujit.int16, gpujit.int32, gpujit.int64):
        np.testing.assert_array_equal(x.cuda().to(dt).cpu().numpy(), x.to(dt).numpy(),
                                      err_msg=str(dt))
    assert x.cuda().to(gpujit.uint8).cpu().tolist()[0] == 255


@pytest.mark.cuda
def test_cuda_namespace_facts():
    assert gpujit.cuda.is_available()
    n = gpujit.cuda.device_count()
    assert n >= 1
    assert 0 <= gpujit.cuda.current_device() < n
    name = gpujit.cuda.get_device_name()
    assert isinstance(name, str) and name
    major, minor = gpujit.cuda.get_device_capability(0)
    assert major >= 3
    gpujit.cuda.set_device(0)
    with gpujit.cuda.device(0):
        assert gpujit.cuda.current_device() == 0
    with pytest.raises(RuntimeError, match="does not exist"):
        gpujit.cuda.set_device(n)


@pytest.mark.cuda
def test_event_timing():
    start = gpujit.cuda.Event(enable_timing=True)
    end = gpujit.cuda.Event(enable_timing=True)
    x = gpujit.ones(1 << 20, device="cuda")
    start.record()
    for _ in range(10):
        x = x * 1.0001
    end.record()
    end.synchronize()
    ms = start.elapsed_time(end)
    assert isinstance(ms, float) and 0.0 < ms < 10_000.0
    gpujit.cuda.synchronize()
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        gpujit.cuda.Event().elapsed_time(end)


@pytest.mark.cuda
def test_cuda_manual_seed_repeats_random_numbers():
    gpujit.cuda.manual_seed(123)
    a = gpujit.rand(16, device="cuda")
    gpujit.cuda.manual_seed(123)
    b = gpujit.rand(16, device="cuda")
    assert a.tolist() == b.tolist()
    assert a.device.type == "cuda"


@pytest.mark.cuda
def test_memory_counters():
    gpujit.cuda.empty_cache()
    before = gpujit.cuda.memory_allocated()
    x = gpujit.zeros(1 << 20, device="cuda")
    assert gpujit.cuda.memory_allocated() >= before + 4 * (1 << 20)
    assert gpujit.cuda.memory_reserved() >= gpujit.cuda.memory_allocated()
    del x


@pytest.mark.cuda
def test_mixing_devices_raises_naming_both():
    a = gpujit.ones(3)
    b = gpujit.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match=r"cpu and cuda:0|cuda:0 and cpu"):
        a + b
    with pytest.raises(RuntimeError, match=r"cpu and cuda:0|cuda:0 and cpu"):
        gpujit.mul(b, a)
    # a 0-dim CPU tensor joins a CUDA op as a scalar, as in PyTorch
    assert (b + gpujit.tensor(2.0)).device == b.device


@pytest.mark.cuda
def test_ops_on_a_second_gpu_run_there():
    """CuPy allocates and launches on its current device: an op (eager, or a fused kernel)
    on cuda:1 tensors must make cuda:1 current, whatever was current before."""
    if gpujit.cuda.device_count() < 2:
        pytest.skip("needs two GPUs (the fake CuPy has two with FAKECUPY_NDEV=2)")
    import cupy

    @gpujit.jit.script
    def f(a, b):
        return (a * b + 1.0).relu().sigmoid()

    x = gpujit.ones(4, device="cuda:1")
    try:
        for _ in range(3):
            cupy.cuda.runtime.setDevice(0)
            y = (x + 1).exp()
            z = f(x, x)
            for t in (y, z):
                assert t.device == gpujit.device("cuda:1") and t._data.device.id == 1
        assert cupy.cuda.runtime.getDevice() == 1    # (it stays current, as Device.use())
        np.testing.assert_allclose(z.cpu().numpy(), 1 / (1 + np.exp(-2.0)), rtol=1e-6)
    finally:
        cupy.cuda.runtime.setDevice(0)


@pytest.mark.cuda
def test_a_move_from_one_gpu_to_another_copies_there():
    """x.to("cuda:1") of a cuda:0 tensor lands on cuda:1 (CuPy's asarray copies across
    GPUs; the fake CuPy returned the cuda:0 array, so ops on the moved tensor, eager or
    fused, raised CuPy's 'different from the current device' error)."""
    if gpujit.cuda.device_count() < 2:
        pytest.skip("needs two GPUs (the fake CuPy has two with FAKECUPY_NDEV=2)")

    @gpujit.jit.script
    def f(a, b):
        return (a * b + 1.0).relu().sigmoid()

    x = gpujit.arange(4, dtype=gpujit.float32, device="cuda:0")
    y = x.to("cuda:1")
    assert y.device == gpujit.device("cuda:1") and y._data.device.id == 1
    assert x._data.device.id == 0
    for _ in range(3):
        np.testing.assert_allclose(f(y, y).cpu().numpy(), f(x, x).cpu().numpy())
    np.testing.assert_array_equal((y + 1).cpu().numpy(), np.arange(1, 5))


@pytest.mark.cuda
def test_ops_on_a_second_gpu_leave_cuda_meaning_the_current_device():
    """As in PyTorch, whose ops restore the device they switch from: after ops (eager,
    fused) and moves to cuda:1, 'cuda', .cuda() and current_device() still mean cuda:0;
    set_device (or CuPy's Device.use() of another device) changes what they mean."""
    if gpujit.cuda.device_count() < 2:
        pytest.skip("needs two GPUs (the fake CuPy has two with FAKECUPY_NDEV=2)")
    import cupy

    @gpujit.jit.script
    def f(a, b):
        return (a * b + 1.0).relu().sigmoid()

    try:
        gpujit.cuda.set_device(0)
        a = gpujit.ones(4, device="cuda")
        x = gpujit.ones(4).to("cuda:1")
        for _ in range(3):
            z = f(x, x)
            y = (x + 1).exp()
            assert z.device == y.device == gpujit.device("cuda:1")
            assert gpujit.cuda.current_device() == 0
            b = gpujit.ones(4, device="cuda")
            c = gpujit.ones(4).cuda()
            assert b.device == c.device == gpujit.device("cuda:0")
            assert (a + b + c).device == gpujit.device("cuda:0")
        gpujit.cuda.set_device(1)
        assert gpujit.ones(1, device="cuda").device == gpujit.device("cuda:1")
        (a + 1).exp()                                 # an op on cuda:0 while 1 is current
        assert gpujit.cuda.current_device() == 1
        gpujit.cuda.set_device(0)
        (x + 1).exp()
        cupy.cuda.Device(0).use()                     # CuPy's: what 'cuda' means, too
        assert gpujit.ones(1).cuda().device == gpujit.device("cuda:0")
    finally:
        gpujit.cuda.set_device(0)


@pytest.mark.cuda
def test_threads_on_two_gpus_share_a_scripted_function():
    """CUDA's current device is per thread: threads running one scripted function on
    cuda:0 and cuda:1 at once each get their own device's answers, and 'cuda' still
    means cuda:0 in each."""
    if gpujit.cuda.device_count() < 2:
        pytest.skip("needs two GPUs (the fake CuPy has two with FAKECUPY_NDEV=2)")
    import threading

    @gpujit.jit.script
    def f(a, b):
        return (a * 0.5 + b).tanh() * b

    x0 = np.linspace(-1, 1, 256).astype(np.float32)
    errors = []

    def work(dev, s):
        try:
            x = gpujit.from_numpy(x0).to(dev)
            want = np.tanh(x0 * 0.5 + x0 * s) * (x0 * s)
            for _ in range(20):
                r = f(x, x * s)
                assert r.device == gpujit.device(dev)
                np.testing.assert_allclose(r.cpu().numpy(), want, rtol=1e-5, atol=1e-6)
                assert gpujit.ones(1, device="cuda").device == gpujit.device("cuda:0")
        except Exception as e:          # (pytest does not see a thread's exception)
            errors.append((dev, s, e))

    threads = [threading.Thread(target=work, args=(f"cuda:{i % 2}", i + 1.0))
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_threads_that_first_ask_for_cupy_together_all_get_it(monkeypatch):
    """The one check for CuPy and a GPU: threads asking at once wait for it (one that saw
    the check begun but not finished got None: 'no CUDA GPU is available')."""
    import sys
    import threading
    import time
    import types
    D = sys.modules["gpujit.device"]        # (gpujit.device is the device class)

    calls = []

    def get_device_count():
        calls.append(1)
        time.sleep(0.05)
        return 1
    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(
        getDeviceCount=get_device_count))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(D, "_cupy", None)
    monkeypatch.setattr(D, "_cupy_tried", False)
    got = []
    threads = [threading.Thread(target=lambda: got.append(D.cupy_or_none()))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [fake] * 8 and len(calls) == 1
