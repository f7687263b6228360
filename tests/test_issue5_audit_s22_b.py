"""Issue 5 acceptance audit (session 22), part b: what runs in a subprocess: the kernel
cache (threads, disk, corrupt entries), GPUJIT_DUMP, `python -m gpujit`, kernel numerics
on the simulator and CPU targets, and guards on mixed devices through tests/fakecupy.
Part a (test_issue5_audit_s22.py) says where gpujit deliberately differs from PyTorch."""
from __future__ import annotations

import pytest
from batch_programs import FORGET_KERNELS, program_result, run_batch, writing_program
from cache_seed import warm


# ----------------------------------------------------------------------- cache
_CACHE_PROG = r"""
import sys, threading
import numpy as np
import gpujit as torch
from gpujit import kernels

def chain(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)

def ref(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    return np.tanh(x * 0.5 + y) / (1 + np.exp(-(x - y))) + np.maximum(x, 0)

s = torch.jit.script(chain)
x, y = torch.randn(5, 7), torch.randn(7)
barrier = threading.Barrier(8)
outs, errors = [None] * 8, []
def work(i):
    try:
        barrier.wait()
        for _ in range(4):
            outs[i] = s(x, y)
    except BaseException as e:
        errors.append(repr(e))
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not errors, errors
for o in outs:
    np.testing.assert_allclose(o.numpy(), ref(x.numpy(), y.numpy()), rtol=1e-5, atol=1e-6)
i = kernels.cache_info()
print("INFO", i.hits, i.misses, i.compiles, i.disk_hits, i.specializations["chain"])
"""


def _env(tmp_path, numba_helpers=False, **env):
    # (the kernel-cache test counts the files under kernels/: the numba helpers' caches,
    # kernels/numba, seeded only where that is not counted)
    import os
    e = dict(os.environ, GPUJIT_CACHE_DIR=warm(tmp_path / "cache", numba_helpers=numba_helpers))
    for k in ("GPUJIT_DUMP", "NUMBA_ENABLE_CUDASIM", "GPUJIT_FUSION_TARGET", "GPUJIT_FUSION"):
        e.pop(k, None)
    e.update(env)
    return e


def _run_prog(tmp_path, prog, numba_helpers=False, **env):
    import subprocess
    import sys
    e = _env(tmp_path, numba_helpers, **env)
    path = tmp_path / "prog.py"            # (scripting reads the function's source file)
    path.write_text(prog)
    r = subprocess.run([sys.executable, str(path)], env=e, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _info(out):
    line = next(ln for ln in out.splitlines() if ln.startswith("INFO"))
    return line.split(" ", 5)[1:]


def test_kernel_cache_threads_disk_dump_and_corrupt_entries(tmp_path):
    # 8 threads calling one new function: one compile, the same right answers; the dump
    # prints the partitioned graph and the kernel's source
    out = _run_prog(tmp_path, _CACHE_PROG, GPUJIT_DUMP="fusion, Kernels")
    hits, *rest = _info(out)
    assert rest == ["1", "1", "0", "['STATIC(5x7)']"]
    # (32 calls: those after the kernel was built are cache hits; how many ran before it
    # depends on the threads' timing)
    assert 0 < int(hits) < 32
    assert "prim::TensorExprGroup_0" in out and "with prim::TensorExprGroup_0 = graph(" in out
    assert "[gpujit] kernel (cpu)" in out and "numba" in out
    assert "gpujit fused kernel" in out     # (the kernel source's header)
    entries = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()
               and "kernels" in p.parts]
    assert len(entries) == 1
    # a new process: a disk hit, nothing compiled; then in it (the kernels and counters
    # forgotten between its programs) the entry truncated, its bytes changed: compiled again
    data = entries[0].read_bytes()
    programs = [("DISK", _CACHE_PROG, {})]
    for k, broken in enumerate((data[: len(data) // 2], data.replace(data[200:210], bytes(10)))):
        programs += [(f"PLANT{k}", writing_program(entries[0], broken), {}),
                     (f"BROKEN{k}", _CACHE_PROG, {})]
    res = run_batch(tmp_path / "again", programs, env=_env(tmp_path), reset=FORGET_KERNELS)
    assert _info(program_result(res, "DISK")[0])[1:4] == ["1", "0", "1"]
    for k in range(2):
        program_result(res, f"PLANT{k}")
        assert _info(program_result(res, f"BROKEN{k}")[0])[1:4] == ["1", "1", "0"], k


def test_python_m_gpujit_shows_a_group_and_a_timing_table(tmp_path):
    import os
    import subprocess
    import sys
    # (the session's numba helpers too: the demo's x.sum() of 2^20 elements compiled
    # ATen's sum loop in numba afresh, ~4 s, which no assertion here is about)
    e = dict(os.environ, GPUJIT_CACHE_DIR=warm(tmp_path / "cache"))
    e.pop("NUMBA_ENABLE_CUDASIM", None)
    # (also the check test_issue5_outside_s26.py made: run from the repository's root)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    r = subprocess.run([sys.executable, "-m", "gpujit"], env=e, capture_output=True,
                       text=True, timeout=600, cwd=root)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "prim::TensorExprGroup_0" in r.stdout and "prim::TypeCheck" in r.stdout
    assert "eager" in r.stdout and "fused" in r.stdout and "speed-up" in r.stdout
    assert "2^10" in r.stdout


# ----------------------------------------------------------------------- simulator target
_KERNELS_PROG = r"""
import numpy as np, warnings
import gpujit as torch
import gpujit.fusers.group as G
warnings.simplefilter("ignore")
targets = []
_build = G.default_builder
def counting(spec, target):
    targets.append(target)
    return _build(spec, target)
G.default_builder = counting

def gelus(x, y):
    return torch.nn.functional.gelu(x * y) + torch.nn.functional.gelu(x - y, approximate="tanh")
def intdiv(a, b):
    return (a // b) * 100 + (a % b) + torch.fmod(a, b) * 10000
def truediv(a, b):
    return a / b + torch.sigmoid(a * 1.0)
def half(x, y):
    return (x * y + 1.5).sigmoid() * x - y
def scal(x, s: float, k: int):
    return (x * s + k).relu() / (k + 1)

rng = np.random.default_rng(0)
def check(fn, ref, args, tol):
    s = torch.jit.script(fn)
    for _ in range(3):
        out = s(*args)
    e = ref(*[a.numpy() if isinstance(a, torch.Tensor) else a for a in args])
    want = {"gelus": torch.float32, "truediv": torch.float32, "half": args[0].dtype, "scal": torch.float32}.get(fn.__name__, args[0].dtype)
    assert out.dtype == want, (fn.__name__, out.dtype, want)
    np.testing.assert_allclose(out.numpy().astype(np.float64), e.astype(np.float64), rtol=tol, atol=tol, err_msg=fn.__name__)

from math import erf, sqrt, pi
verf = np.vectorize(erf)
def gelu_ref(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    u, v = x * y, x - y
    return u * 0.5 * (1 + verf(u / sqrt(2))) + 0.5 * v * (1 + np.tanh(sqrt(2 / pi) * (v + 0.044715 * v ** 3)))
x = torch.from_numpy(rng.standard_normal((3, 4)).astype(np.float32) * 3)
y = torch.from_numpy(rng.standard_normal((4,)).astype(np.float32))
check(gelus, gelu_ref, (x.t().contiguous().t(), y), 1e-5)
a = torch.from_numpy(rng.integers(-9, 10, (3, 5)).astype(np.int64))
b = torch.from_numpy(np.array([3, -2, 4, -5, 7], dtype=np.int64))
check(intdiv, lambda a, b: (a // b) * 100 + (a % b) + np.fmod(a, b) * 10000, (a[:, ::1], b), 0)
check(intdiv, lambda a, b: (a // b) * 100 + (a % b) + np.fmod(a, b) * 10000, (a.to(torch.int32), b.to(torch.int32)), 0)
check(truediv, lambda a, b: (a / b + 1 / (1 + np.exp(-a.astype(np.float64)))).astype(np.float32), (a.to(torch.int32), b.to(torch.int32)), 1e-6)
xh, yh = x.half(), y.half()
def half_ref(x, y):
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    t = (x32 * y32).astype(np.float16).astype(np.float32) + 1.5
    return ((1 / (1 + np.exp(-t.astype(np.float16).astype(np.float32)))).astype(np.float16).astype(np.float32) * x32).astype(np.float16).astype(np.float32) - y32
check(half, half_ref, (xh, yh), 4e-3)
check(scal, lambda x, s, k: np.maximum(x * s + k, 0) / (k + 1), (x[::2], 2.5, -3), 1e-6)
big = torch.randn(2, 3).expand(5, 2, 3)
check(half, lambda x, y: (1 / (1 + np.exp(-(x * y + 1.5)))) * x - y, (big, torch.randn(3)), 1e-5)
print("TARGETS", sorted(set(targets)))
"""


@pytest.mark.sim
@pytest.mark.parametrize("target", ["sim", "cpu"])
def test_kernel_numerics_on_the_simulator_and_cpu(tmp_path, target, request):
    # gelu exact and tanh, integer // % fmod on negatives (int32, int64), int / int ->
    # float, float16 math, Python float and int arguments, transposed/sliced/expanded
    # inputs: the same answers from the CUDA kernel under numba's simulator (tiny sizes)
    # and from the CPU kernel
    if target == "sim":
        out = _run_prog(tmp_path, _KERNELS_PROG, numba_helpers=True, NUMBA_ENABLE_CUDASIM="1")
    else:
        out, _ = program_result(request.getfixturevalue("fake_cupy_batch"), "KERNELS")
    assert f"TARGETS ['{target}']" in out


# ----------------------------------------------------------------------- mixed devices
_DEVICES_PROG = r"""
import numpy as np
import gpujit as torch

def mix(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + x

def ref(x, y):
    x, y = (v.cpu().numpy().astype(np.float64) for v in (x, y))
    return np.tanh(x * 0.5 + y) / (1 + np.exp(-(x - y))) + x

assert torch.cuda.is_available() and torch.cuda.device_count() == 2
s = torch.jit.script(mix)
xc, yc = torch.rand(3, 4), torch.rand(4)
for a, b, dev in [(xc, yc, "cpu"), (xc.cuda(), yc.cuda(), "cuda:0"),
                  (xc.cuda(), torch.tensor(0.25), "cuda:0"),      # a CPU 0-dim operand
                  (torch.tensor(0.25), yc.cuda(), "cuda:0"),
                  (xc.to("cuda:1"), yc.to("cuda:1"), "cuda:1"), (xc, yc, "cpu")]:
    for _ in range(3):
        out = s(a, b)
    assert str(out.device) == dev, (out.device, dev)
    np.testing.assert_allclose(out.cpu().numpy(), ref(a, b), rtol=1e-5, atol=1e-6)
try:
    s(xc.cuda(), yc)
except RuntimeError as e:
    assert "same device" in str(e), e
else:
    raise AssertionError("a CUDA and a CPU tensor (not 0-dim) ran")
print("DEVICES OK")
"""


@pytest.fixture(scope="module")
def fake_cupy_batch(request, tmp_path_factory):
    """The CPU-target numerics program and the mixed-devices one, run in one process
    through tests/fakecupy (the GPU tier's NumPy-backed CuPy, two devices): the first one's
    groups are all of CPU tensors (its TARGETS line says they ran on the CPU target). Only
    the programs of the tests selected in this session."""
    import os
    names = {item.name for item in request.session.items
             if getattr(item, "module", None) is request.module}
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.pathsep.join(p for p in (os.path.join(here, "fakecupy"),
                                       os.environ.get("PYTHONPATH")) if p)
    folder = tmp_path_factory.mktemp("s22b")
    programs = [(name, prog, {}) for test, name, prog in [
        ("test_kernel_numerics_on_the_simulator_and_cpu[cpu]", "KERNELS", _KERNELS_PROG),
        ("test_guards_on_mixed_devices_against_the_stand_in_cupy", "DEVICES", _DEVICES_PROG)]
        if test in names]
    # (_KERNELS_PROG wraps the fusion groups' builder: put back after it)
    return run_batch(folder, programs,
                     env=_env(folder, True, PYTHONPATH=path, FAKECUPY_NDEV="2"),
                     setup="import gpujit.fusers.group as _G\n_b = _G.default_builder\n",
                     reset="_G.default_builder = _b\n" + FORGET_KERNELS)


def test_guards_on_mixed_devices_against_the_stand_in_cupy(fake_cupy_batch):
    # cuda:0, cuda:1 and CPU inputs of one function, and a CPU 0-dim tensor with CUDA
    # ones, through tests/fakecupy (the GPU tier's NumPy-backed CuPy, two devices)
    out, _ = program_result(fake_cupy_batch, "DEVICES")
    assert "DEVICES OK" in out
