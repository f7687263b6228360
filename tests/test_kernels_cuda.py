"""The CUDA target. Without a GPU: the kernels compile to PTX when NVVM is installed, and
the launcher's packing of numba's kernel ABI is checked by running the CUDA kernel's text
on the unpacked arguments (an emulated launch). With a GPU (`@pytest.mark.cuda`, the GPU
tier of ci/gpu.sh): the kernels run through CuPy and match eager gpujit."""
from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
import types

import numpy as np
import pytest

import gpujit
from gpujit import kernels as K
from gpujit.kernels import prims
from gpujit.kernels.emit import generate
from gpujit.kernels.launch import base_view, make_launcher, unpack_kernel_params

from test_kernels import (kernel_cache_dir, LAYOUTS, _A, _pair, _scalar_graph,  # noqa: F401
                          traced, reference, assert_same, sweep_graph, vector_sweeps,
                          misaligned, fusible_ops)


def _nvvm_available():
    """Whether numba.cuda can compile PTX here (NVRTC, NVVM and libdevice found)."""
    try:
        from numba import cuda

        def probe(a):
            a[0] = 1
        cuda.compile_ptx(probe, "void(float32[::1])", cc=(9, 0))
        return True
    except Exception:
        return False


needs_nvvm = pytest.mark.skipif(not _nvvm_available(), reason="no CUDA toolkit (NVVM) to "
                                "compile PTX with: pip install 'numba-cuda[cu13]'")


@needs_nvvm
@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_cuda_kernels_compile_to_ptx(static):
    x, y = LAYOUTS["transposed"]
    ptx, entry = K.ptx_for(K.spec_for(traced(_pair, x, y), (x, y), static=static), cc=(9, 0))
    head = ptx[ptx.index(".visible .entry"):]
    params = len(re.findall(r"\.param\s", head[:head.index(")")]))
    # 2 inputs and 3 outputs of 7 ABI fields, n, and for DYNAMIC sizes/strides/shifts
    assert params == 5 * 7 + 1 + (0 if static else 2 + 2 + 1)
    assert entry in head


_VECTOR_PTX = {"float32": r"ld\.global\.v4\.f32", "float16": r"ld\.global\.v4\.(b16|f16|u16)",
               "float64": r"ld\.global\.v2\.f64", "int8": r"ld\.global\.v4\.(u8|s8|b8)",
               "bool": r"ld\.global\.v4\.(u8|s8|b8)", "int64": r"ld\.global\.v2\.(u64|s64|b64)"}


@needs_nvvm
@pytest.mark.parametrize("dtype_name", list(_VECTOR_PTX))
def test_flat_kernels_load_and_store_vectors(dtype_name):
    """A flat group's kernel reads and writes 16 bytes (4 elements, 8 of float16 in two
    halves...) per access in its vector loop: numba alone emits only scalar accesses."""
    dtype = getattr(gpujit, dtype_name)
    x = gpujit.ones(1000, dtype=dtype)
    y = gpujit.ones(1000, dtype=dtype)
    g = traced(lambda a, b: (a * b + a) * b if dtype_name != "bool" else (a & b) | a, x, y)
    ptx, _ = K.ptx_for(K.spec_for(g, (x.numpy(), y.numpy()), static=True), cc=(9, 0))
    assert re.search(_VECTOR_PTX[dtype_name], ptx), ptx[-3000:]
    assert re.search(_VECTOR_PTX[dtype_name].replace("ld", "st"), ptx)


@needs_nvvm
@pytest.mark.parametrize("dtype_name", ["float16", "bool", "float64"])
def test_vector_loops_of_every_fusible_op_compile_to_ptx(dtype_name):
    for g, args, labels in vector_sweeps(dtype_name):
        ptx, _ = K.ptx_for(K.spec_for(g, args, static=False), cc=(9, 0))
        assert re.search(_VECTOR_PTX.get(dtype_name, "v4"), ptx), labels


@needs_nvvm
@pytest.mark.parametrize("dtype_name", ["float16", "int8", "bool"])
def test_every_fusible_op_compiles_to_ptx(dtype_name):
    """numba.cuda types every op's scalar code for the device (float16 has its own math):
    the simulator runs the same text as Python and would not notice."""
    g, args, labels = sweep_graph(dtype_name)
    ptx, entry = K.ptx_for(K.spec_for(g, args, static=False), cc=(9, 0))
    head = ptx[ptx.index(".visible .entry"):]
    assert entry in head and len(labels) > 10


# ------------------------------------------------------------------ the launch, emulated

class _DeviceArray:
    """A NumPy array seen through the attributes the CUDA launcher reads of a CuPy array."""

    def __init__(self, a):
        self.a, self.shape, self.strides = a, a.shape, a.strides
        self.itemsize, self.size, self.dtype = a.itemsize, a.size, a.dtype

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self.a.ctypes.data)


class _Cuda:
    """numba.cuda as a kernel sees it, for one emulated thread at a time."""

    def __init__(self):
        self.tid, self.nthreads = 0, 1

    def grid(self, ndim):
        return self.tid

    def gridsize(self, ndim):
        return self.nthreads

    class local:                # cuda.local.array: a thread's own small array
        array = staticmethod(lambda shape, dtype: np.zeros(shape, dtype))

    @staticmethod
    def jit(*a, **k):
        return lambda f: f


_NP_OF_NB = {"boolean": np.bool_, "uint8": np.uint8, "int8": np.int8, "int16": np.int16,
             "int32": np.int32, "int64": np.int64, "float16": np.float16,
             "float32": np.float32, "float64": np.float64}


def _emulated_cuda_kernel(ks):
    """A stand-in for the CuPy function of the kernel's PTX: it unpacks the arguments as
    numba's kernel ABI lays them out (checking each field), rebuilds the arrays from their
    device pointers and runs the kernel's Python text for every thread of the grid."""
    cuda = _Cuda()
    ns = {"cuda": cuda}
    text = prims.emulation_text(ks.text)       # the vector accesses as Python
    exec(compile(text.replace("from numba import cuda\n", ""), "<cuda kernel>", "exec"), ns)
    kinds = [t.strip() for t in ks.signature[ks.signature.index("(") + 1:-1].split(",")]

    def launch(grid, block, args):
        args, vals = list(args), []
        for kind in kinds:
            if kind.endswith("[::1]"):
                meminfo, parent, nitems, itemsize, ptr, shape, stride = args[:7]
                del args[:7]
                dtype = np.dtype(_NP_OF_NB[kind[:-5]])
                assert (meminfo, parent) == (0, 0) and itemsize == dtype.itemsize
                assert shape == nitems and stride == itemsize
                buf = (ctypes.c_char * (nitems * itemsize)).from_address(ptr)
                vals.append(np.frombuffer(buf, dtype))
            else:
                v = args.pop(0)
                if type(v) is not int:         # a NumPy scalar of the parameter's width
                    assert type(v) is _NP_OF_NB[kind], (kind, type(v))
                vals.append(v)
        assert not args
        n = vals[ks.params.index("n")]
        cuda.nthreads = grid[0] * block[0]
        per = 4 if "vec" in ks.params else 1        # elements per thread and pass
        cap = 2 * (64 if "vec" in ks.params else 32)  # blocks per SM (2 SMs here)
        assert block == (256,) and (cuda.nthreads * per >= n or grid[0] == cap)
        with np.errstate(all="ignore"):
            for cuda.tid in range(cuda.nthreads):
                ns["kernel"](*vals)
    return launch


class _Stream:
    ptr = 0


def _emulated_cuda(graph, args, static, direct=False):
    """Launch through the CUDA launcher, with CuPy's Function call or (direct) a
    parameter block and cuLaunchKernel, both emulated."""
    spec = K.spec_for(graph, args, static=static)
    ks = generate(spec, "cuda")
    fn, extra = _emulated_cuda_kernel(ks), {}
    if direct:
        calls = []

        def launch_kernel(f, gx, gy, gz, bx, by, bz, shared, stream, params, ext):
            assert (f, gy, gz, by, bz, shared, stream, ext) == (fn.ptr, 1, 1, 1, 1, 0, 0, 0)
            calls.append(params)
            fn((gx,), (bx,), unpack_kernel_params(params, ks.signature))
        fn.ptr = 12345
        extra = {"launch_kernel": launch_kernel, "stream": lambda: _Stream}
    launch = make_launcher(ks, spec, fn, sm_count=2, **extra,
                           empty=lambda shape, dtype: _DeviceArray(np.empty(shape, dtype)))
    assert ("_launch(_fp" in launch.source) == direct
    dev = [_DeviceArray(a) if isinstance(a, np.ndarray) else a for a in args]
    return [o.a for o in launch(*dev)]


@pytest.mark.parametrize("direct", [False, True], ids=["Function", "cuLaunchKernel"])
@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_the_cuda_launcher_packs_numbas_kernel_abi(static, direct):
    """Without a GPU: the CUDA launcher's arguments, read back as numba's ABI defines them
    (pointers of the lowest addresses of strided inputs, spans, exact-width scalars), run
    the CUDA kernel's text thread by thread and give eager's answers; passed as CuPy's
    Function takes them or written into the launcher's cuLaunchKernel parameter block."""
    for case in ("transposed", "negative strides", "outer product", "0-dim", "sliced"):
        x, y = LAYOUTS[case]
        g = traced(_pair, x, y)
        for o, r in zip(_emulated_cuda(g, (x, y), static, direct), reference(g, (x, y))):
            assert_same(o, r, case)
    args = (_A, 0.25, 3, True)
    for o, r in zip(_emulated_cuda(_scalar_graph(), args, static, direct),
                    reference(_scalar_graph(), args)):
        assert_same(o, r)
    args = (_A, -1.5, -7, False)        # the same launcher again: new values in the block
    for o, r in zip(_emulated_cuda(_scalar_graph(), args, static, direct),
                    reference(_scalar_graph(), args)):
        assert_same(o, r)


@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_vector_loops_emulated(static):
    """Without a GPU: a flat kernel's vector loop and its scalar tail (21 elements), and
    the scalar loop alone when an input is misaligned, launched through the launcher's
    alignment flag and cuLaunchKernel parameter block, emulated (the simulator tier runs
    every fusible op's vector loop)."""
    rng = np.random.default_rng(3)
    x, y = (rng.standard_normal((3, 7)).astype(np.float32) for _ in range(2))
    g = traced(_pair, x, y)
    assert "_ld4(a0, jv)" in generate(K.spec_for(g, (x, y), static=static), "cuda").text
    for inputs in ((x, y), (misaligned(x), y), (x, misaligned(y))):
        for o, r in zip(_emulated_cuda(g, inputs, static, True), reference(g, (x, y))):
            assert_same(o, r)


# ------------------------------------------------------------------ on a GPU

GPU_TOL = {np.dtype(np.float16): (1e-2, 1e-3), np.dtype(np.float32): (3e-5, 1e-6),
           np.dtype(np.float64): (1e-12, 1e-14)}


def _on_device(a):
    """a's values on the GPU with a's strides (transposed, sliced, negative, stride 0)."""
    import cupy
    if not isinstance(a, np.ndarray):
        return a
    flat, shift, _ = base_view(a)
    buf = cupy.asarray(np.ascontiguousarray(flat))
    return cupy.ndarray(a.shape, a.dtype, memptr=buf.data + shift * a.itemsize,
                        strides=a.strides)


def _gpu_compare(graph, args, static, labels=None):
    import gpujit
    spec = K.spec_for(graph, [_on_device(a) for a in args], static=static)
    assert spec.device == gpujit.device("cuda", 0)
    k = K.build(spec, "cuda")
    outs = k(*[_on_device(a) for a in args])
    for j, (o, r) in enumerate(zip(outs, reference(graph, args))):
        o = o.get()
        where = labels[j] if labels else f"output {j}"
        assert o.shape == r.shape and o.dtype == r.dtype, where
        if r.dtype.kind == "f":
            rtol, atol = GPU_TOL[r.dtype]
            np.testing.assert_allclose(o.astype(np.float64), r.astype(np.float64), rtol=rtol,
                                       atol=atol, equal_nan=True, err_msg=where)
        else:
            np.testing.assert_array_equal(o, r, err_msg=where)
    return k


SWEEP_PARTS = 4


@pytest.mark.cuda
@pytest.mark.parametrize("dtype_name,part", [
    (d, p) for d in ("float32", "float16", "float64", "int32", "uint8", "bool")
    for p in range(SWEEP_PARTS)], ids=lambda v: str(v))
def test_every_fusible_op_on_the_gpu(dtype_name, part):
    """Every fusible op in SWEEP_PARTS kernels per dtype (op i in kernel i % SWEEP_PARTS):
    one kernel of them all took over 200 s of numba and NVVM compile for float64 and uint8
    on the H200 (2026-12-04), and as one test it could not be spread over workers."""
    names = tuple(op.name for op in fusible_ops())[part::SWEEP_PARTS]
    g, args, labels = sweep_graph(dtype_name, names)
    _gpu_compare(g, args, static=True, labels=labels)


@pytest.mark.cuda
@pytest.mark.parametrize("dtype_name", ["float32", "float16", "float64", "int32", "bool"])
def test_every_fusible_op_in_vector_loops_on_the_gpu(dtype_name):
    """Each fusible op in a kernel with the vector loop (21 elements: 5 vectors, a tail),
    with aligned inputs and with a misaligned one (the scalar loop)."""
    for g, args, labels in vector_sweeps(dtype_name):     # one kernel (DYNAMIC) each
        k = _gpu_compare(g, args, static=False, labels=labels)
        assert "_ld4(" in k.source and "(0 if (" in k.launcher_source
        assert _gpu_compare(g, [misaligned(a) for a in args], static=False,
                            labels=labels) is k


@pytest.mark.cuda
def test_a_launcher_makes_its_gpu_current_only_where_there_are_several(monkeypatch):
    """With one GPU it is always current: no per-call device check (~0.1 µs)."""
    import cupy
    from gpujit.kernels import launch as L
    x = np.arange(6, dtype=np.float32)
    g = traced(lambda a, b: (a * b).exp() - a, x, x)
    spec = K.spec_for(g, [_on_device(x)] * 2, static=True)
    several = cupy.cuda.runtime.getDeviceCount() > 1
    assert ("_getdev()" in K.build(spec, "cuda").launcher_source) == several
    monkeypatch.setattr(L, "_several_gpus", lambda: False)
    g = traced(lambda a, b: (a * b).exp() - a * 2.0, x, x)     # not in the memory cache
    k = K.build(K.spec_for(g, [_on_device(x)] * 2, static=True), "cuda")
    assert "_getdev" not in k.launcher_source
    out = k(_on_device(x), _on_device(x))[0].get()
    np.testing.assert_allclose(out, np.exp(x * x) - x * 2, rtol=3e-5, atol=1e-6)


# ------------------------------------------------------------------ output recycling

def _recycling_kernel(n=64, static=True, c=0.5):
    x = np.linspace(-2, 2, n).astype(np.float32)
    g = traced(lambda a, b: (a * c + b).tanh() - b, x, x)
    return K.build(K.spec_for(g, [_on_device(x)] * 2, static=static), "cuda"), x


def _want(x, y, c=0.5):
    """The recycling tests' expected values (float32, NumPy's tanh). CUDA's tanhf may be
    an ulp away from NumPy's, and tanh(x * c + y) - y cancels near its zeros: one ulp is
    a relative error up to 7e-5 there (x = -0.857, c = 0.5), so these tests compare with
    GPU_TOL's float32 tolerance (rtol 3e-5, atol 1e-6). With rtol=1e-6 alone the two
    recycling tests failed on the H200, 2026-12-04: most likely on these values (their
    tracebacks did not come back; by reference counts read off CuPy 14.2 objects on
    Python 3.12 without a GPU, recycling itself sees what RECYCLE_FREE expects)."""
    return np.tanh(x * c + y) - y


def _recycle_state(k):
    """What a recycling launcher decides by (for a failure's message: the first real-GPU
    run of these tests failed, 2026-12-04, without a traceback): the reference counts of
    its kept buffers as its code reads them, their streams, the current one, RECYCLE_FREE."""
    import cupy
    from gpujit.kernels import launch as L
    g = k.launch.__globals__
    counts = [(sys.getrefcount(b), sys.getrefcount(b.data), sys.getrefcount(b.data.mem))
              for b in g["_r0"] if b is not None]
    return (f"kept buffers' counts {counts}, written on streams {list(g['_rs0'])}, current "
            f"stream {cupy.cuda.get_current_stream().ptr}, free means {L.RECYCLE_FREE}")


@pytest.mark.cuda
def test_a_dropped_output_buffer_is_reused_and_a_held_one_never():
    """A STATIC launcher keeps two buffers per small output: one nothing else refers to
    (and last written on this stream) serves the next call; one the caller still holds,
    directly or through a view, is never written again."""
    from gpujit.kernels import launch as L
    if L.RECYCLE_FREE is None:
        pytest.skip("output recycling is off here")
    k, x = _recycling_kernel()
    assert "_rc(o0) == " in k.launcher_source
    dx = _on_device(x)
    ys = [_on_device(x * s) for s in (1.0, 2.0, 3.0, 4.0)]
    first = k(dx, ys[0])[0]
    ident = id(first)
    np.testing.assert_allclose(first.get(), _want(x, x), rtol=3e-5, atol=1e-6)
    del first
    state = _recycle_state(k)
    again = k(dx, ys[1])[0]
    assert id(again) == ident, state              # the dropped buffer, reused
    np.testing.assert_allclose(again.get(), _want(x, x * 2), rtol=3e-5, atol=1e-6)
    held = again                                  # held: the next calls write elsewhere
    other = k(dx, ys[2])[0]
    third = k(dx, ys[3])[0]
    for a in (held, other, third):
        assert sum(a is b for b in (held, other, third)) == 1
    np.testing.assert_allclose(held.get(), _want(x, x * 2), rtol=3e-5, atol=1e-6)
    np.testing.assert_allclose(other.get(), _want(x, x * 3), rtol=3e-5, atol=1e-6)
    np.testing.assert_allclose(third.get(), _want(x, x * 4), rtol=3e-5, atol=1e-6)
    del held, other
    view = third[8:]                              # a view keeps its base busy
    del third
    outs = [k(dx, ys[0])[0] for _ in range(3)]
    assert all(o is not view.base for o in outs)
    np.testing.assert_allclose(view.get(), _want(x, x * 4)[8:], rtol=3e-5, atol=1e-6)


@pytest.mark.cuda
def test_memory_shared_without_a_view_is_never_reused():
    """Arrays over an output's memory that do not hold the array itself: cupy's
    as_strided holds only its MemoryPointer, `cupy.ndarray(memptr=out.data + k)` only
    the allocation. Their memory is never written again while they live."""
    import cupy
    import gpujit
    from gpujit.kernels import launch as L
    if L.RECYCLE_FREE is None:
        pytest.skip("output recycling is off here")
    k, x = _recycling_kernel(c=0.625)
    dx = _on_device(x)
    ys = [_on_device(x * s) for s in (1.0, 2.0)]
    want = _want(x, x, 0.625)
    out = k(dx, ys[0])[0]
    strided = cupy.lib.stride_tricks.as_strided(out, shape=(16,), strides=(8,))
    del out
    later = [k(dx, ys[1])[0] for _ in range(3)]
    np.testing.assert_allclose(strided.get(), want[:32:2], rtol=3e-5, atol=1e-6)
    out = k(dx, ys[0])[0]
    shifted = cupy.ndarray((8,), np.float32, memptr=out.data + 16)
    del out, later
    later = [k(dx, ys[1])[0] for _ in range(3)]
    np.testing.assert_allclose(shifted.get(), want[4:12], rtol=3e-5, atol=1e-6)

    @gpujit.jit.script
    def f(a, b):
        return (a * 0.625 + b).tanh() - b

    t = gpujit.from_numpy(x).cuda()
    f(t, t), f(t, t)
    r = f(t, t)
    w = r.unfold(0, 4, 3)                         # windows: cupy's as_strided, no base
    del r
    later = [f(t, t * 2) for _ in range(3)]
    np.testing.assert_allclose(w.cpu().numpy(), want[np.arange(21)[:, None] * 3
                                                       + np.arange(4)], rtol=3e-5, atol=1e-6)


@pytest.mark.cuda
def test_recycling_keeps_to_the_stream_and_to_small_static_outputs():
    import cupy
    from gpujit.kernels import launch as L
    if L.RECYCLE_FREE is None:
        pytest.skip("output recycling is off here")
    k, x = _recycling_kernel(c=0.25)
    dx = _on_device(x)
    ident = id(k(dx, dx)[0])
    with cupy.cuda.Stream() as st:                # last written on the null stream
        state = _recycle_state(k)
        out = k(dx, dx)[0]
        st.synchronize()
    assert id(out) != ident, state
    np.testing.assert_allclose(out.get(), _want(x, x, 0.25), rtol=3e-5, atol=1e-6)
    big, _ = _recycling_kernel(n=L.RECYCLE_MAX_BYTES // 4 + 1, c=0.75)
    dyn, _ = _recycling_kernel(static=False, c=0.125)
    assert "_rc(" not in big.launcher_source and "_rc(" not in dyn.launcher_source


@pytest.mark.cuda
def test_threads_calling_a_recycling_function_get_their_own_answers():
    import threading
    import gpujit

    @gpujit.jit.script
    def f(a, b):
        return (a * 0.5 + b).tanh() * b

    x = gpujit.from_numpy(np.linspace(-1, 1, 256).astype(np.float32)).cuda()
    f(x, x), f(x, x)
    errors = []

    def work(s):
        y = x * s
        want = np.tanh(x.cpu().numpy() * 0.5 + y.cpu().numpy()) * y.cpu().numpy()
        for _ in range(50):
            got = f(x, y).cpu().numpy()
            if not np.allclose(got, want, rtol=1e-5, atol=1e-6):
                errors.append(s)

    threads = [threading.Thread(target=work, args=(float(s),)) for s in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


@pytest.mark.cuda
def test_a_call_from_inside_its_own_launch_runs_unfused_and_does_not_hang(monkeypatch):
    """A finalizer that the garbage collector runs during a launch (or a signal handler)
    may call the same function: the launcher's lock is this thread's own, so that call
    must not wait for it (a hang) nor refill the parameter block being filled: it runs
    unfused."""
    import gc
    import threading
    import cupy
    import gpujit

    @gpujit.jit.script
    def f(a, b):
        return (a * 0.4375 + b).tanh() * b

    x0 = np.linspace(-1, 1, 64).astype(np.float32)
    want = np.tanh(x0 * 0.4375 + x0) * x0
    x = gpujit.from_numpy(x0).cuda()
    inner = []

    class Cycle:
        def __init__(self):
            self.me = self

        def __del__(self):
            inner.append(f(x, x).cpu().numpy())

    launch = cupy.cuda.driver.launchKernel

    def collecting_launch(*args):      # the collector runs inside the launch
        gc.collect()
        return launch(*args)

    monkeypatch.setattr(cupy.cuda.driver, "launchKernel", collecting_launch)
    outer = []

    def calls():
        for _ in range(4):
            Cycle()
            outer.append(f(x, x).cpu().numpy())

    t = threading.Thread(target=calls, daemon=True)
    t.start()
    t.join(120)
    assert not t.is_alive(), "a call from inside its own launch waited for its lock"
    assert len(outer) == 4 and len(inner) >= 2
    for r in outer + inner:
        np.testing.assert_allclose(r, want, rtol=3e-5, atol=1e-6)


@pytest.mark.cuda
@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_layouts_and_scalars_on_the_gpu(static):
    for case, (x, y) in LAYOUTS.items():
        _gpu_compare(traced(_pair, x, y), (x, y), static)
    _gpu_compare(_scalar_graph(), (_A, 0.25, 3, True), static)


@pytest.mark.cuda
def test_the_chain_on_the_gpu_and_its_ptx_cache(kernel_cache_dir):
    import cupy
    x = np.random.default_rng(0).standard_normal(1 << 20).astype(np.float32)
    y = x[::-1].copy()
    g = traced(lambda a, b: (a * 0.5 + b).tanh() * (a - b).sigmoid() + a.relu(), x, y)
    k = _gpu_compare(g, (x, y), static=False)
    assert k.extra["entry"] in k.extra["ptx"] and k.layout.flat
    out = k(cupy.asarray(x), cupy.asarray(y))[0]
    assert out.flags.c_contiguous and out.dtype == cupy.float32
    code = ("import sys; sys.path.insert(0, %r); import numpy as np, cupy\n"
            "import test_kernels as t; from gpujit import kernels as K\n"
            "x = cupy.zeros(1 << 20, cupy.float32)\n"
            "g = t.traced(lambda a, b: (a * 0.5 + b).tanh() * (a - b).sigmoid() + a.relu(),"
            " np.zeros(1 << 20, np.float32), np.zeros(1 << 20, np.float32))\n"
            "K.build(K.spec_for(g, (x, x), static=False), 'cuda')\n"
            "print(tuple(K.cache_info()))\n") % os.path.dirname(__file__)
    env = dict(os.environ, GPUJIT_CACHE_DIR=kernel_cache_dir)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert eval(r.stdout.strip()) == (0, 1, 0, 1)        # the PTX came from the disk cache
