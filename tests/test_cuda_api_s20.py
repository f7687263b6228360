"""gpujit.cuda as torch.cuda: streams and events, memory statistics and OutOfMemoryError,
RNG state, nvtx and the small calls scripts make; without a GPU, torch's CPU-only answers
(AssertionError "Torch not compiled with CUDA enabled" where a call needs a GPU).

Deliberate differences (see gpujit/cuda/__init__.py):
  * without a GPU, reset_peak_memory_stats is a no-op and memory_summary prints zeros
    (torch 2.13's CPU build: AttributeError, KeyError), nvtx calls do nothing (torch's CPU
    build: RuntimeError "NVTX functions not installed"; a CUDA build without a GPU works);
  * the "no GPU" error is an AssertionError and a RuntimeError, naming the CUDA extra;
  * memory_stats reports the amounts CuPy's pool knows (allocated/active/reserved/
    inactive bytes), all under "all" and "large_pool".
"""
import gc

import numpy as np
import pytest

import gpujit

HAS_CUDA = gpujit.cuda.is_available()
no_gpu = pytest.mark.skipif(HAS_CUDA, reason="checks the behaviour on machines without a GPU")
C = gpujit.cuda

# ---------------------------------------------------------------- without a GPU

NEEDS_GPU = {
    "current_device": lambda c: c.current_device(),
    "synchronize": lambda c: c.synchronize(),
    "get_device_name": lambda c: c.get_device_name(),
    "get_device_capability": lambda c: c.get_device_capability(),
    "get_device_properties": lambda c: c.get_device_properties(0),
    "current_stream": lambda c: c.current_stream(),
    "default_stream": lambda c: c.default_stream(),
    "mem_get_info": lambda c: c.mem_get_info(),
    "get_rng_state": lambda c: c.get_rng_state(),
    "initial_seed": lambda c: c.initial_seed(),
    "init": lambda c: c.init(),
    "ipc_collect": lambda c: c.ipc_collect(),
    "set_per_process_memory_fraction": lambda c: c.set_per_process_memory_fraction(0.5),
}

LAZY = {
    "max_memory_allocated": lambda c: c.max_memory_allocated(),
    "max_memory_reserved": lambda c: c.max_memory_reserved(),
    "memory_allocated": lambda c: c.memory_allocated(),
    "memory_reserved": lambda c: c.memory_reserved(),
    "memory_stats": lambda c: dict(c.memory_stats()),
    "empty_cache": lambda c: c.empty_cache(),
    "get_rng_state_all": lambda c: c.get_rng_state_all(),
    "set_rng_state_all": lambda c: c.set_rng_state_all([]),
    "seed": lambda c: c.seed(),
    "seed_all": lambda c: c.seed_all(),
    "manual_seed": lambda c: c.manual_seed(1),
    "manual_seed_all": lambda c: c.manual_seed_all(1),
    "is_initialized": lambda c: c.is_initialized(),
    "get_arch_list": lambda c: c.get_arch_list(),
    "get_gencode_flags": lambda c: c.get_gencode_flags(),
    "is_bf16_supported": lambda c: c.is_bf16_supported(),
    "is_bf16_supported_no_emulation": lambda c: c.is_bf16_supported(including_emulation=False),
    "is_tf32_supported": lambda c: c.is_tf32_supported(),
    "device_count": lambda c: c.device_count(),
    "stream_none": lambda c: c.stream(None).__enter__(),
    "StreamContext_none": lambda c: c.StreamContext(None).__enter__(),
    "set_stream_none": lambda c: c.set_stream(None),
    "set_device_negative": lambda c: c.set_device(-1),
}


@no_gpu
@pytest.mark.parametrize("name", sorted(NEEDS_GPU))
def test_calls_that_need_a_gpu_raise_torchs_assertion(name):
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled"):
        NEEDS_GPU[name](C)
    with pytest.raises(RuntimeError, match=r'pip install "gpujit\[cuda12\]"'):
        NEEDS_GPU[name](C)


@no_gpu
@pytest.mark.parametrize("name", sorted(NEEDS_GPU))
def test_torch_cpu_build_raises_the_same(name):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("torch sees a GPU")
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled"):
        NEEDS_GPU[name](torch.cuda)


@no_gpu
@pytest.mark.parametrize("name", sorted(LAZY))
def test_lazy_calls_answer_as_torchs_cpu_build(name):
    got = LAZY[name](C)
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("torch sees a GPU")
    want = LAZY[name](torch.cuda)
    if name in ("seed", "seed_all"):
        assert got is None and want is None
    else:
        assert got == want


@no_gpu
def test_tensor_cuda_without_gpu_is_torchs_assertion():
    for call in (lambda: gpujit.ones(2).cuda(), lambda: gpujit.zeros(2, device="cuda"),
                 lambda: gpujit.ones(2).to("cuda:0")):
        with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled"):
            call()


@no_gpu
def test_no_gpu_streams_events_and_lazy_state():
    for make in (lambda: C.Stream(), lambda: C.Event(), lambda: C.ExternalStream(0)):
        with pytest.raises(RuntimeError):
            make()
    with C.stream(None):
        pass
    with C.device_of(gpujit.ones(2)):       # a CPU tensor: no device change
        pass
    C.set_rng_state(gpujit.zeros(16, dtype=gpujit.uint8))   # (lazy: a no-op, as torch)
    C.reset_peak_memory_stats()
    assert "Allocated memory" in C.memory_summary()
    assert C.memory_stats() == {} and C.is_initialized() is False


def test_out_of_memory_error_is_torchs():
    assert issubclass(C.OutOfMemoryError, RuntimeError)
    assert gpujit.OutOfMemoryError is C.OutOfMemoryError
    torch = pytest.importorskip("torch")
    assert torch.cuda.OutOfMemoryError.__mro__[1:] == (RuntimeError, Exception,
                                                       BaseException, object)


def test_nvtx_ranges_nest_and_never_fail():
    assert C.nvtx.range_push("outer") == 0
    assert C.nvtx.range_push("inner") == 1
    assert C.nvtx.range_pop() == 1
    assert C.nvtx.range_pop() == 0
    assert C.nvtx.range_pop() == -1         # nothing open
    C.nvtx.mark("here")
    with C.nvtx.range("step {}", 3):
        assert C.nvtx.range_push("x") == 1
        C.nvtx.range_pop()
    rid = C.nvtx.range_start("across threads")
    C.nvtx.range_end(rid)
    import gpujit.cuda.nvtx as nvtx_module
    assert nvtx_module is C.nvtx


def test_deprecated_memory_aliases_warn():
    with pytest.warns(FutureWarning, match="memory_reserved"):
        assert C.memory_cached() == C.memory_reserved()
    with pytest.warns(FutureWarning, match="max_memory_reserved"):
        C.max_memory_cached()
    with pytest.warns(FutureWarning, match="reset_peak_memory_stats"):
        C.reset_max_memory_allocated()


# ---------------------------------------------------------------- with a GPU

@gpujit.jit.script
def _fused(a, b):
    return (a * b + 1.0).relu().sigmoid()


@pytest.mark.cuda
def test_streams_become_current_and_carry_the_work():
    import cupy
    s = C.Stream(priority=-1)
    assert s.device == gpujit.device("cuda", C.current_device())
    assert s.priority <= 0 and s.cuda_stream == s._stream.ptr != 0
    assert repr(s).startswith("<torch.cuda.Stream device=cuda:")
    assert C.current_stream() == C.default_stream() != s
    x = gpujit.ones(64, device="cuda")
    _fused(x, x)
    with C.stream(s):
        assert C.current_stream() == s and cupy.cuda.get_current_stream() == s._stream
        y = _fused(x, x)                # launched on s (the fake checks the stream)
        z = (x + 1).exp()
    assert C.current_stream() == C.default_stream()
    C.current_stream().wait_stream(s)
    s.synchronize()
    assert s.query()
    np.testing.assert_allclose(y.cpu().numpy(), 1 / (1 + np.exp(-2.0)), rtol=1e-6)
    np.testing.assert_allclose(z.cpu().numpy(), np.exp(2.0), rtol=1e-6)
    with s:                             # (torch.Stream as a context manager)
        assert C.current_stream() == s
    C.set_stream(s)
    try:
        assert C.current_stream() == s
    finally:
        C.set_stream(C.default_stream())
    assert len({s, C.current_stream(), C.default_stream()}) == 2


@pytest.mark.cuda
def test_stream_of_another_device_leaves_the_current_device():
    if C.device_count() < 2:
        pytest.skip("needs two GPUs (the fake CuPy has two with FAKECUPY_NDEV=2)")
    s1 = C.Stream(device=1)
    assert s1.device == gpujit.device("cuda:1")
    before0 = C.current_stream(0)
    with C.stream(s1):
        assert C.current_device() == 0
        assert C.current_stream(1) == s1 and C.current_stream(0) == before0
        w = _fused(gpujit.ones(3, device="cuda:1"), gpujit.ones(3, device="cuda:1"))
    assert C.current_stream(1) == C.default_stream(1)
    assert w.device == gpujit.device("cuda:1")


@pytest.mark.cuda
def test_events_record_wait_and_time():
    s = C.Stream()
    start, end = C.Event(enable_timing=True), C.Event(enable_timing=True)
    assert start.query() and repr(start) == "<torch.cuda.Event uninitialized>"
    start.record()
    with C.stream(s):
        gpujit.ones(1 << 12, device="cuda").sum()
        end.record()
    ev = s.record_event()
    assert isinstance(ev, C.Event)
    C.current_stream().wait_event(ev)
    end.wait()                           # the current stream waits for `end`
    end.synchronize()
    assert end.query() and start.elapsed_time(end) >= 0.0
    with pytest.raises(RuntimeError, match="must be recorded"):
        C.Event(enable_timing=True).elapsed_time(end)
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        C.Event().elapsed_time(end)


@pytest.mark.cuda
def test_external_stream_wraps_a_pointer():
    s = C.Stream()
    ext = C.ExternalStream(s.cuda_stream)
    assert ext.cuda_stream == s.cuda_stream and ext == s
    with C.stream(ext):
        assert C.current_stream().cuda_stream == s.cuda_stream


@pytest.mark.cuda
def test_peak_memory_follows_allocations_and_resets():
    gc.collect()
    C.reset_peak_memory_stats()
    base = C.memory_allocated()
    assert C.max_memory_allocated() == base
    big = gpujit.zeros(1 << 18, device="cuda")       # 1 MiB
    assert C.memory_allocated() >= base + (1 << 20)
    peak = C.max_memory_allocated()
    assert peak >= base + (1 << 20)
    del big
    gc.collect()
    assert C.memory_allocated() < peak and C.max_memory_allocated() == peak
    stats = C.memory_stats()
    assert stats["allocated_bytes.all.peak"] == peak
    assert stats["allocated_bytes.all.current"] == C.memory_allocated()
    assert stats["reserved_bytes.all.current"] == C.memory_reserved()
    assert stats["reserved_bytes.all.peak"] == C.max_memory_reserved() >= peak
    assert "Allocated memory" in C.memory_summary()
    C.reset_peak_memory_stats()
    assert C.max_memory_allocated() == C.memory_allocated()
    free, total = C.mem_get_info()
    assert 0 < free <= total


@pytest.mark.cuda
def test_cupy_out_of_memory_becomes_torchs_error():
    import cupy
    pool = cupy.get_default_memory_pool()
    limit = pool.get_limit()
    pool.set_limit(size=C.memory_allocated() + (1 << 16))
    try:
        with pytest.raises(C.OutOfMemoryError, match=r"^CUDA out of memory\. Tried to "
                                                     r"allocate 4\.00 MiB"):
            gpujit.zeros(1 << 20, device="cuda")
        with pytest.raises(cupy.cuda.memory.OutOfMemoryError):   # (CuPy's own fallbacks)
            (gpujit.ones(8, device="cuda") + gpujit.zeros(1 << 20, device="cuda"))
    finally:
        pool.set_limit(size=limit)
    gpujit.zeros(1 << 20, device="cuda")


@pytest.mark.cuda
def test_per_process_memory_fraction_limits_the_pool():
    import cupy
    with pytest.raises(ValueError, match="Allowed range"):
        C.set_per_process_memory_fraction(1.5)
    with pytest.raises(TypeError, match="must be `float`"):
        C.set_per_process_memory_fraction(1)
    C.set_per_process_memory_fraction(0.5)
    try:
        assert cupy.get_default_memory_pool().get_limit() > 0
        assert C.get_per_process_memory_fraction() == 0.5
    finally:
        C.set_per_process_memory_fraction(1.0)


@pytest.mark.cuda
def test_rng_state_round_trips_and_seeds():
    C.manual_seed(7)
    assert C.initial_seed() == 7
    state = C.get_rng_state()
    states = C.get_rng_state_all()
    assert len(states) == C.device_count()
    assert state.dtype is gpujit.uint8 and state.device == gpujit.device("cpu")
    a = gpujit.rand(8, device="cuda")
    C.set_rng_state(state)
    assert gpujit.rand(8, device="cuda").tolist() == a.tolist()
    C.set_rng_state_all(states)
    assert gpujit.rand(8, device="cuda").tolist() == a.tolist()
    assert C.seed() is None and C.initial_seed() != 7
    assert C.seed_all() is None


@pytest.mark.cuda
def test_misc_calls_with_a_gpu():
    import cupy
    assert C.is_initialized()
    C.init()
    C.ipc_collect()
    major, minor = C.get_device_capability()
    assert C.get_arch_list() == [f"sm_{major}{minor}"]
    assert C.get_gencode_flags() == f"-gencode compute=compute_{major}{minor},code=sm_{major}{minor}"
    assert C.is_bf16_supported() is True        # (bfloat16 tensors since session 45)
    assert C.is_bf16_supported(including_emulation=False) is (major >= 8)
    assert C.is_tf32_supported() is (major >= 8)
    x = gpujit.ones(2, device="cuda")
    with C.device_of(x):
        assert C.current_device() == x.get_device()
    log = getattr(cupy.cuda.nvtx, "_LOG", None)
    C.nvtx.range_push("step")
    if log is not None:                 # (the fake CuPy's record of NVTX calls)
        assert log.stack[-1] == "step"
    C.nvtx.range_pop()
    if log is not None:
        assert "step" not in log.stack
