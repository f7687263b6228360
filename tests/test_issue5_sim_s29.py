"""Issue 5 audit (session 29) on the simulator target: the seeds' programs (MyCell,
MyDecisionGate, MyRNNLoop, WrapRNN of the TorchScript tutorial; the torch.jit page's
set_fusion_strategy / strict_fusion examples) run with their fusion groups as the CUDA
kernel under numba's CUDA simulator (a process started with NUMBA_ENABLE_CUDASIM=1 runs the
fusion groups of CPU tensors on target "sim"), random elementwise programs, the issue's
guard list (new shape, new dtype, non-contiguous, 0-size, 0-dim, mixed devices) on the CPU
and simulator targets, STATIC then DYNAMIC specializations counted, the fallback after the
budget, strict_fusion naming aten::matmul and its line, cache_info, GPUJIT_DUMP showing the
CUDA kernel's source; 8 threads calling one new function (CPU target) with a fresh cache
directory and with corrupt / truncated disk entries planted before they start.

Each program runs in a subprocess (the simulator must be on before numba is imported) and
checks its results against NumPy; tiny sizes (the simulator runs each CUDA thread as
Python). The simulator programs of one environment share one process (tests/batch_programs:
each its own script, cache folder and kernel counters; ~1.5 s of CPU saved per program)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from batch_programs import FORGET_KERNELS, program_result, run_batch
from cache_seed import warm

HERE = os.path.dirname(os.path.abspath(__file__))

# every fusion group's kernel build is recorded with its target; a kernel that fails to
# build or raises must not hide behind the unfused fallback
PRELUDE = textwrap.dedent("""
    import sys, warnings
    import numpy as np
    import gpujit as torch
    from gpujit import kernels
    import gpujit.fusers.group as G
    TARGETS, FAILS = [], []
    _build = G.default_builder
    def _counting(spec, target):
        TARGETS.append(target)
        return _build(spec, target)
    G.default_builder = _counting
    G.FusedGroup._note_failure = lambda self, msg: FAILS.append(msg)
    def done(tag):
        assert not FAILS, FAILS
        print(tag, "TARGETS", sorted(set(TARGETS)))
""")


def _env(sim):
    e = dict(os.environ)
    for k in ("GPUJIT_DUMP", "NUMBA_ENABLE_CUDASIM", "GPUJIT_FUSION_TARGET", "GPUJIT_FUSION"):
        e.pop(k, None)
    if sim:
        e["NUMBA_ENABLE_CUDASIM"] = "1"
    return e


def _run(tmp_path, prog, sim=True, name="prog.py", **env):
    e = _env(sim)
    e["GPUJIT_CACHE_DIR"] = warm(tmp_path / "cache")
    e.update(env)
    path = tmp_path / name             # (scripting reads the function's source file)
    path.write_text(PRELUDE + textwrap.dedent(prog))
    r = subprocess.run([sys.executable, str(path)], env=e, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    return r.stdout, r.stderr


# the simulator programs run in one process (below: each test's program by name), those of
# the tests selected in this session only; each with its own fresh cache folder, and the
# kernels it compiled and the counters forgotten after it (kernels.clear_cache)
_SIM_BATCH = {      # test -> (program's name, its source's global, its environment entries),
               # in the order they run
    "test_fusion_strategy_and_strict_fusion_examples_on_the_simulator":
        ("PAGE", "_STRATEGY", {}),
    "test_gpujit_dump_shows_the_cuda_kernel_source_on_the_simulator":
        ("DUMP", "_DUMP", {"GPUJIT_DUMP": "fusion,kernels"}),
    "test_guard_list_on_the_cpu_and_simulator_targets[sim]": ("GUARDS", "_GUARDS", {}),
    "test_python_scalars_and_dtypes_on_the_simulator": ("SCALARS", "_SCALARS", {}),
    "test_random_elementwise_programs_on_the_simulator_match_numpy": ("RANDOM", "_RANDOM", {}),
    "test_integer_division_by_zero_raises_on_the_simulator_as_on_the_cpu":
        ("ZERO_DIV", "_ZERO_DIV", {}),
    "test_tutorial_cells_and_rnn_loops_on_the_simulator": ("TUTORIAL", "_TUTORIAL", {}),
}
_BATCH_SETUP = """
import gpujit.fusers.group as _G
from gpujit import kernels as _K
_orig = (_G.default_builder, _G.FusedGroup._note_failure)
"""
_BATCH_RESET = """
_G.default_builder, _G.FusedGroup._note_failure = _orig
""" + FORGET_KERNELS
# (and this process's CPU thread pool: the next program's first large launch builds it
# again, reading its object code from the disk; the old pool's threads sleep)
_FORGET_POOL = """
from gpujit.kernels import threads as _T
_T._forget_pool()
_T._pool_error = None
"""


@pytest.fixture(scope="module")
def sim_batch(request, tmp_path_factory):
    names = {item.name for item in request.session.items
             if getattr(item, "module", None) is request.module}
    folder = tmp_path_factory.mktemp("s29_sim")
    programs = [(name, PRELUDE + textwrap.dedent(globals()[var]),
                 dict(env, GPUJIT_CACHE_DIR=warm(folder / name / "cache")))
                for test, (name, var, env) in _SIM_BATCH.items() if test in names]
    return run_batch(folder, programs, env=_env(True), setup=_BATCH_SETUP,
                     reset=_BATCH_RESET, timeout=600)


# the CPU-target programs of four tests in two processes (each program its own cache
# folder; the kernels, the counters and the CPU thread pool forgotten between programs).
# The first process makes the entries: the 8 threads first (so that they make the process's
# first kernels), the guard list, the checksummed entries' first run, the thread pool's
# object built. The second finds them on the disk in a new process: the 8 threads first
# again (a new process's first kernels, all loaded from the disk), the planted entries,
# then (a loader crash would end the process: last) the broken objects and pool objects.
def _cpu_programs(folder):
    threads = PRELUDE + textwrap.dedent(_THREADS)
    tcache = warm(folder / "threads_cache")
    plant = f"CACHE = {tcache!r}\n" + _PLANT_THREADS
    pcache = warm(folder / "planted_cache")
    planted = PRELUDE + textwrap.dedent(f"CACHE = {pcache!r}\n" + _PLANTED)
    ncache = warm(folder / "native_cache")

    def native(how):
        return PRELUDE + textwrap.dedent(f"CACHE = {ncache!r}\nHOW = {how!r}\n" + _NATIVE)
    first = {
        "test_eight_threads_one_new_function_fresh_and_corrupt_disk_cache": [
            ("THREADS", threads, {"GPUJIT_CACHE_DIR": tcache})],
        "test_guard_list_on_the_cpu_and_simulator_targets[cpu]": [
            ("GUARDS_CPU", PRELUDE + textwrap.dedent(_GUARDS),
             {"GPUJIT_CACHE_DIR": warm(folder / "guards_cache")})],
        "test_checksummed_entries_with_a_broken_object_are_compiled_again": [
            ("FIRST", planted, {"GPUJIT_CACHE_DIR": pcache})],
        "test_checksummed_thread_pool_objects_that_are_broken_are_built_again": [
            ("NATIVE_BUILT", native("none"), {"GPUJIT_CACHE_DIR": ncache})],
    }
    second = {
        "test_eight_threads_one_new_function_fresh_and_corrupt_disk_cache": [
            (name, src, {"GPUJIT_CACHE_DIR": tcache})
            for name, src in [("THREADS_DISK", threads), ("THREADS_PLANT", plant),
                              ("THREADS_BAD", threads), ("THREADS_WRITTEN", threads)]],
        "test_checksummed_entries_with_a_broken_object_are_compiled_again": [
            ("SECOND", planted, {"GPUJIT_CACHE_DIR": pcache})],
        "test_checksummed_thread_pool_objects_that_are_broken_are_built_again": [
            (f"NATIVE_{how}", native(how.split("_")[0]), {"GPUJIT_CACHE_DIR": ncache})
            for how in NATIVE_HOWS],
    }
    return first, second


# the thread pool's object code as its disk entry is found by each program of the second
# process, in order: whole (loaded), then planted empty, cut, another ELF object, whole again
NATIVE_HOWS = ("none_loaded", "empty", "cut", "other", "none_rewritten")


@pytest.fixture(scope="module")
def cpu_batch(request, tmp_path_factory):
    names = {item.name for item in request.session.items
             if getattr(item, "module", None) is request.module}
    folder = tmp_path_factory.mktemp("s29_cpu")
    e = _env(False)
    e["GPUJIT_CACHE_DIR"] = warm(folder / "import_cache")   # (the batch's own imports)
    results, processes = {}, []
    for k, stage in enumerate(_cpu_programs(folder)):
        programs = [p for test, progs in stage.items() if test in names for p in progs]
        if programs:
            res = run_batch(folder / f"run{k}", programs, env=e, setup=_BATCH_SETUP,
                            reset=_BATCH_RESET + _FORGET_POOL, timeout=600)
            processes.append(res.pop("_process"))
            results.update(res)
    results["_process"] = (all(ok for ok, _, _ in processes),
                           "".join(out for _, out, _ in processes),
                           "".join(err for _, _, err in processes))
    return results


# ------------------------------------------------------------------ the tutorial (seed 002)
_TUTORIAL = """
class MyDecisionGate(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x

class MyCell(torch.nn.Module):
    def __init__(self, dg):
        super(MyCell, self).__init__()
        self.dg = dg
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h

class MyRNNLoop(torch.nn.Module):
    def __init__(self):
        super(MyRNNLoop, self).__init__()
        self.cell = torch.jit.trace(MyCell(scripted_gate), (x, h))

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h

class WrapRNN(torch.nn.Module):
    def __init__(self):
        super(WrapRNN, self).__init__()
        self.loop = torch.jit.script(MyRNNLoop())

    def forward(self, xs):
        y, h = self.loop(xs)
        return torch.relu(y)

def np_cell(x, h, linear):
    y = x @ linear.weight.detach().numpy().T.astype(np.float64) + linear.bias.detach().numpy()
    y = y if y.sum() > 0 else -y
    return np.tanh(y + h)

torch.manual_seed(0)
x, h = torch.rand(3, 4), torch.rand(3, 4)
scripted_gate = torch.jit.script(MyDecisionGate())

my_cell = MyCell(scripted_gate)
scripted_cell = torch.jit.script(my_cell)
for xin in (x, -x, torch.rand(3, 4)):       # both branches of the gate
    for _ in range(3):
        a, b = scripted_cell(xin, h)
    want = np_cell(xin.numpy().astype(np.float64), h.numpy(), my_cell.linear)
    np.testing.assert_allclose(a.detach().numpy(), want, rtol=1e-5, atol=1e-6)
    assert a is b or np.array_equal(a.detach().numpy(), b.detach().numpy())
assert "prim::TensorExprGroup" in str(scripted_cell.graph_for(x, h))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")          # (the tracer's warnings of the tutorial)
    wrap = WrapRNN()
    xs = torch.rand(10, 3, 4)
    traced = torch.jit.trace(wrap, (xs,))
linear = wrap.loop.cell.linear
for xin in (xs, torch.rand(10, 3, 4) - 0.5):
    for _ in range(3):
        out = traced(xin)
    hh = np.zeros((3, 4))
    for i in range(xin.shape[0]):
        hh = np_cell(xin.numpy()[i].astype(np.float64), hh, linear)
    np.testing.assert_allclose(out.detach().numpy(), np.maximum(hh, 0), rtol=1e-5, atol=1e-6)
loop = torch.jit.script(MyRNNLoop())
y, hn = loop(xs)
y, hn = loop(xs)
hh = np.zeros((3, 4))
for i in range(10):
    hh = np_cell(xs.numpy()[i].astype(np.float64), hh, loop.cell.linear)
np.testing.assert_allclose(hn.detach().numpy(), hh, rtol=1e-5, atol=1e-6)
info = kernels.cache_info()
print("SPECS", sorted(info.specializations.items()))
done("TUTORIAL")
"""


@pytest.mark.sim
def test_tutorial_cells_and_rnn_loops_on_the_simulator(sim_batch):
    out, _ = program_result(sim_batch, "TUTORIAL")
    assert "TUTORIAL TARGETS ['sim']" in out, out
    # the cell's add + tanh, one 3x4 specialization per compiled function
    assert "STATIC(3x4)" in out and "DYNAMIC" not in out, out


# ------------------------------------------------------------------ the torch.jit page (seed 001)
_STRATEGY = """
old = torch.jit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 1)])
assert old == [("STATIC", 2), ("DYNAMIC", 10)], old

def fn(a, b):
    return torch.sigmoid(a * b) + a - 2.0

s = torch.jit.script(fn)
rng = np.random.default_rng(0)
seen = []
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for shape in [(2, 3), (2, 3), (4, 5), (3, 3), (5, 2), (1, 7), (2, 2, 2), (6,)]:
        an = rng.standard_normal(shape).astype(np.float32)
        bn = rng.standard_normal(shape).astype(np.float32)
        for _ in range(2):
            r = s(torch.from_numpy(an), torch.from_numpy(bn))
        a64, b64 = an.astype(np.float64), bn.astype(np.float64)
        np.testing.assert_allclose(r.numpy(), 1 / (1 + np.exp(-a64 * b64)) + a64 - 2,
                                   rtol=1e-5, atol=1e-6)
        seen.append(list(kernels.cache_info().specializations["fn"]))
print("SEEN", seen)
print("WARNED", sum("has made all the specializations" in str(w.message) for w in caught))
torch.jit.set_fusion_strategy(old)

@torch.jit.script
def foo(x):
    with torch.jit.strict_fusion():
        return x + x + x

xf = torch.rand(3, 4)
for _ in range(3):
    np.testing.assert_allclose(foo(xf).numpy(), 3 * xf.numpy().astype(np.float64), rtol=1e-6)

@torch.jit.script
def with_matmul(x, w):
    with torch.jit.strict_fusion():
        y = torch.matmul(x, w)
        return torch.relu(y) + 1

try:
    for _ in range(3):
        with_matmul(xf, torch.rand(4, 2))
except Exception as e:
    print("STRICT", type(e).__name__, "|", str(e).replace(chr(10), " | "))
else:
    print("STRICT none")
def plain_matmul(x, w):
    return torch.relu(torch.mm(x, w)) * 2

def plain_chain(x):
    return torch.tanh(x * 0.5) + 1

pm, pc = torch.jit.script(plain_matmul), torch.jit.script(plain_chain)
pm(xf, torch.rand(4, 2))
pc(xf)
try:
    with torch.jit.strict_fusion():          # around calls: each call's graph is checked
        pm(xf, torch.rand(4, 2))
except Exception as e:
    print("AROUND", type(e).__name__, "aten::mm" in str(e))
with torch.jit.strict_fusion():
    for _ in range(2):
        r = pc(xf)
np.testing.assert_allclose(r.numpy(), np.tanh(xf.numpy().astype(np.float64) * 0.5) + 1, rtol=1e-6)
info = kernels.cache_info()
print("INFO", info.compiles, sorted(info.specializations.items()))
done("PAGE")
"""


@pytest.mark.sim
def test_fusion_strategy_and_strict_fusion_examples_on_the_simulator(sim_batch):
    out, _ = program_result(sim_batch, "PAGE")
    assert "PAGE TARGETS ['sim']" in out, out
    seen = eval(out.split("SEEN ", 1)[1].splitlines()[0])
    # two STATIC specializations, then one DYNAMIC covering every 2-d shape; the 3-d and
    # 1-d calls find the budget spent and run unfused (warned once)
    assert seen[0] == seen[1] == ["STATIC(2x3)"]
    assert seen[2] == ["STATIC(2x3)", "STATIC(4x5)"]
    assert all(s == ["STATIC(2x3)", "STATIC(4x5)", "DYNAMIC(*x*)"] for s in seen[3:]), seen
    assert "WARNED 1" in out, out
    strict = out.split("STRICT ", 1)[1].splitlines()[0]
    assert strict.startswith("StrictFusionError"), strict
    assert "aten::matmul" in strict and "prog.py:" in strict, strict
    assert "y = torch.matmul(x, w)" in strict and "aten::relu" not in strict, strict
    assert "AROUND StrictFusionError True" in out, out
    # fn's three kernels, foo's, plain_chain's and plain_matmul's relu * 2
    assert "INFO 6 [('fn', ['STATIC(2x3)', 'STATIC(4x5)', 'DYNAMIC(*x*)']), " \
           "('foo', ['STATIC(3x4)']), ('plain_chain', ['STATIC(3x4)']), " \
           "('plain_matmul', ['STATIC(3x2)'])]" in out, out


_DUMP = """
def relu_mul(a, b):
    return torch.relu(a * b) + 0.5

s = torch.jit.script(relu_mul)
a, b = torch.randn(3, 4), torch.randn(4)
for _ in range(2):
    r = s(a, b)
np.testing.assert_allclose(r.numpy(), np.maximum(a.numpy() * b.numpy(), 0) + 0.5, rtol=1e-6)
done("DUMP")
"""


@pytest.mark.sim
def test_gpujit_dump_shows_the_cuda_kernel_source_on_the_simulator(sim_batch):
    out, err = program_result(sim_batch, "DUMP")
    text = out + err
    assert "DUMP TARGETS ['sim']" in out
    assert "prim::TensorExprGroup_0" in text
    assert "[gpujit] kernel (sim):" in text, text
    kernel = text.split("[gpujit] kernel (sim):", 1)[1]
    for want in ("target sim", "from numba import cuda", "def kernel(", "cuda.grid(1)",
                 "cuda.gridsize(1)"):
        assert want in kernel, (want, kernel)


# ------------------------------------------------------------------ guards, both targets
_GUARDS = """
def chain(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)

def ref(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    return np.tanh(x * 0.5 + y) / (1 + np.exp(-(x - y))) + np.maximum(x, 0)

s = torch.jit.script(chain)
rng = np.random.default_rng(0)
def T(*shape, dt=np.float32):
    return torch.from_numpy(rng.standard_normal(shape).astype(dt))
cases = [
    ("base", T(3, 4), T(3, 4)),
    ("new shape", T(5, 2), T(5, 2)),
    ("broadcast", T(3, 4), T(4)),
    ("float64", T(3, 4, dt=np.float64), T(3, 4, dt=np.float64)),
    ("float16", T(3, 4, dt=np.float16), T(3, 4, dt=np.float16)),
    ("half and float", T(3, 4, dt=np.float16), T(3, 4)),
    ("int64", torch.arange(12).reshape(3, 4), torch.arange(12).reshape(3, 4) - 5),
    ("float and int32", T(3, 4), torch.from_numpy(rng.integers(-3, 3, (3, 4)).astype(np.int32))),
    ("transposed", T(4, 3).t(), T(3, 4)),
    ("strided slice", T(3, 8)[:, ::2], T(3, 4)),
    ("offset slice", T(6, 5)[1:4, 1:], T(4)),
    ("expanded", T(1, 4).expand(3, 4), T(3, 1).expand(3, 4)),
    ("permuted 3-d", T(2, 4, 3).permute(0, 2, 1), T(2, 3, 4)),
    ("flipped", T(3, 4).flip(0), T(3, 4)),
    ("0-size", T(0, 4), T(0, 4)),
    ("0-size broadcast", T(0, 1), T(1, 4)),
    ("0-dim", T(), T()),
    ("0-dim operand", T(3, 4), T()),
    ("0-dim int", T(3, 4), torch.tensor(2)),
    ("0-dim double", T(3, 4), torch.tensor(0.5, dtype=torch.float64)),
    ("base again", T(3, 4), T(3, 4)),
]
n = 0
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for name, x, y in cases:
        for _ in range(3):
            r = s(x, y)
        e = chain(x, y)
        assert (r.dtype, tuple(r.shape), r.stride()) == (e.dtype, tuple(e.shape), e.stride()), \\
            (name, r.dtype, e.dtype, r.shape, e.shape, r.stride(), e.stride())
        tol = 3e-3 if r.dtype == torch.float16 else 1e-5
        np.testing.assert_allclose(r.numpy().astype(np.float64), ref(x.numpy(), y.numpy()),
                                   rtol=tol, atol=tol, err_msg=name)
        n += 1
kinds = kernels.cache_info().specializations["chain"]
print("GUARDS", n, len(kinds), kinds[:3], sum(k.startswith("DYNAMIC") for k in kinds))
done("GUARDS")
"""


@pytest.mark.parametrize("target", ["cpu", pytest.param("sim", marks=pytest.mark.sim)])
def test_guard_list_on_the_cpu_and_simulator_targets(tmp_path, target, request):
    if target == "sim":
        out, _ = program_result(request.getfixturevalue("sim_batch"), "GUARDS")
    else:
        out, _ = program_result(request.getfixturevalue("cpu_batch"), "GUARDS_CPU")
    assert f"GUARDS TARGETS ['{target}']" in out, out
    # 2 STATIC then DYNAMIC ones up to the default budget (10), each kernel right
    assert "GUARDS 21 12 ['STATIC(3x4)', 'STATIC(5x2)', 'DYNAMIC(*x*)'] 10" in out, out


_MIXED = """
def mix(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + x

def ref(x, y):
    x, y = (v.cpu().numpy().astype(np.float64) for v in (x, y))
    return np.tanh(x * 0.5 + y) / (1 + np.exp(-(x - y))) + x

s = torch.jit.script(mix)
xc, yc = torch.rand(3, 4), torch.rand(4)
for a, b, dev in [(xc, yc, "cpu"), (xc.cuda(), yc.cuda(), "cuda:0"),
                  (xc.cuda(), torch.tensor(0.25), "cuda:0"),     # a CPU 0-dim operand
                  (torch.tensor(0.25), yc.cuda(), "cuda:0"),
                  (xc, torch.tensor(0.25), "cpu"),
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
done("MIXED")
"""


@pytest.mark.sim
def test_mixed_devices_with_cpu_groups_on_the_simulator(tmp_path):
    # the CPU groups on the simulator beside CUDA groups of tests/fakecupy's stand-in CuPy
    path = os.pathsep.join(p for p in (os.path.join(HERE, "fakecupy"),
                                       os.environ.get("PYTHONPATH")) if p)
    out, _ = _run(tmp_path, _MIXED, PYTHONPATH=path, FAKECUPY_NDEV="2")
    assert "MIXED TARGETS ['cuda', 'sim']" in out, out


# ------------------------------------------------------------------ scalars and dtypes
_SCALARS = """
def f1(x, s: float, i: int):
    return (x * s + i) / (i - 0.5), torch.clamp(x, -s, s) * i, (x > s) | (x < -i)

def f2(x, y, b: bool):
    z = x + y
    if b:
        z = z * 2
    return torch.where(z > 0, z, y) - 1

def f3(x, y):
    return x // y, x % y, x * y + 3, x.to(torch.float16) / 3

def f4(x):
    return x.half() * 0.1 + 1, (x.half() * 0.1).float(), x.to(torch.int8) * 100, x.to(torch.uint8) + 250

rng = np.random.default_rng(3)
def mk(shape, dt):
    if dt == np.bool_:
        return torch.from_numpy(rng.random(shape) > .5)
    if dt == np.uint8:
        return torch.from_numpy(rng.integers(1, 9, shape).astype(dt))
    if np.issubdtype(dt, np.integer):
        return torch.from_numpy((rng.integers(1, 9, shape) * rng.choice([-1, 1], shape)).astype(dt))
    return torch.from_numpy((rng.standard_normal(shape) * 3).astype(dt))

n = 0
def check(fs, fn, args):
    global n
    for _ in range(3):
        r = fs(*args)
    e = fn(*args)
    r = r if isinstance(r, tuple) else (r,)
    e = e if isinstance(e, tuple) else (e,)
    for a, b in zip(r, e):
        n += 1
        assert (a.dtype, a.shape, a.stride()) == (b.dtype, b.shape, b.stride()), (fn.__name__, a.dtype, b.dtype)
        if a.dtype.is_floating_point:
            tol = 2e-3 if a.dtype == torch.float16 else 1e-6
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol, err_msg=fn.__name__)
        else:
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=fn.__name__)

s1, s2, s3, s4 = (torch.jit.script(f) for f in (f1, f2, f3, f4))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for dt in [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_]:
        for xx in (mk((3, 4), dt), mk((4, 3), dt).t(), mk((3, 8), dt)[:, ::2]):
            if dt != np.bool_:
                check(s1, f1, (xx, 0.75, 2))
                check(s1, f1, (xx, -1.5, -3))
            check(s4, f4, (xx,))
            for dt2 in [dt, np.float32, np.int64, np.bool_]:
                if dt == dt2 == np.bool_:       # (bool - 1 raises, eager as scripted)
                    continue
                y = mk((4,), dt2)
                check(s2, f2, (xx, y, True))
                check(s2, f2, (xx, y, False))
                if dt != np.bool_ and dt2 != np.bool_:
                    check(s3, f3, (xx, y))
# the NumPy reference for the float32 programs
x = mk((3, 4), np.float32)
a, b, c = s1(x, 0.75, 2)
x64 = x.numpy().astype(np.float64)
np.testing.assert_allclose(a.numpy(), (x64 * 0.75 + 2) / 1.5, rtol=1e-6)
np.testing.assert_allclose(b.numpy(), np.clip(x64, -0.75, 0.75) * 2, rtol=1e-6)
np.testing.assert_array_equal(c.numpy(), (x64 > 0.75) | (x64 < -2))
print("CHECKED", n, {k: len(v) for k, v in sorted(kernels.cache_info().specializations.items())})
done("SCALARS")
"""


@pytest.mark.sim
def test_python_scalars_and_dtypes_on_the_simulator(sim_batch):
    out, _ = program_result(sim_batch, "SCALARS")
    assert "SCALARS TARGETS ['sim']" in out, out
    assert "CHECKED 654 " in out, out


# ------------------------------------------------------------------ threads and the disk cache
_THREADS = """
import threading

def thr(x, y):
    return torch.sigmoid(x * 1.5 - y) * torch.tanh(y) + 0.25

f = torch.jit.script(thr)
rng = np.random.default_rng(1)
# each phase: the 8 threads call f at once with the phase's inputs (a barrier between
# phases, so which specializations are made does not depend on the threads' order)
phases = [(shape, dt) for shape in [(4, 5), (3, 7), (6, 2), (2, 2, 2), (9,)]
          for dt in (np.float32, np.float64)]
# (every other column of wider arrays: strided inputs, so that each phase's kernel has a
# text of its own -- contiguous ones share one straight-loop text across sizes, ranks and
# strategies -- and 8 kernels are compiled at once, 6 of them later broken on disk)
def half(s, dt):
    return rng.standard_normal(s[:-1] + (2 * s[-1],)).astype(dt)[..., ::2]
inputs = [(half(s, dt), half(s, dt)) for s, dt in phases]
errors, bar = [], threading.Barrier(8)

def work(i):
    try:
        for x, y in inputs:
            bar.wait()
            for _ in range(2):
                r = f(torch.from_numpy(x), torch.from_numpy(y)).numpy()
            assert r.dtype == x.dtype, r.dtype
            want = 1 / (1 + np.exp(-(x * 1.5 - y).astype(np.float64))) * np.tanh(y) + 0.25
            np.testing.assert_allclose(r, want, rtol=1e-5, atol=1e-6)
    except BaseException as e:
        errors.append(repr(e)[:1000])
        bar.abort()

ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert not errors, errors
i = kernels.cache_info()
print("INFO", i.misses, i.compiles, i.disk_hits, i.specializations["thr"])
done("THREADS")
"""


_PLANT_THREADS = """
import pathlib
entries = sorted((pathlib.Path(CACHE) / "kernels" / "cpu").glob("*.json"))
print("ENTRIES", len(entries))
for k, e in enumerate(entries):
    data = e.read_bytes()
    e.write_bytes([data[:len(data) // 2], b"\\x00\\xffjunk", b"", data[:-1]][k % 4]
                  if k < 6 else data)
"""


def _info(out):
    line = out.split("INFO ", 1)[1].splitlines()[0]
    misses, compiles, disk_hits, kinds = line.split(" ", 3)
    return int(misses), int(compiles), int(disk_hits), sorted(eval(kinds))


def test_eight_threads_one_new_function_fresh_and_corrupt_disk_cache(cpu_batch):
    kinds = sorted(["STATIC(4x5)", "STATIC(4x5)", "DYNAMIC(*x*)", "DYNAMIC(*x*)",
                    "DYNAMIC(*x*x*)", "DYNAMIC(*x*x*)", "DYNAMIC(*)", "DYNAMIC(*)"])
    # (float32 and float64 each: the two STATIC ones are (4, 5)'s)
    out, _ = program_result(cpu_batch, "THREADS")         # a fresh cache directory
    assert "THREADS TARGETS ['cpu']" in out
    assert _info(out) == (8, 8, 0, kinds), out            # each kernel compiled once
    # then (the process's kernels and counters forgotten between the programs): all from
    # the disk; the entries planted before the threads start, and two more runs
    out, _ = program_result(cpu_batch, "THREADS_DISK")
    assert _info(out) == (8, 0, 8, kinds), out            # all from the disk
    out, _ = program_result(cpu_batch, "THREADS_PLANT")
    assert "ENTRIES 8" in out, out
    out, _ = program_result(cpu_batch, "THREADS_BAD")
    assert _info(out) == (8, 6, 2, kinds), out            # the 6 bad ones compiled again
    out, _ = program_result(cpu_batch, "THREADS_WRITTEN")
    assert _info(out) == (8, 0, 8, kinds), out            # and written back whole


# ------------------------------------------------------------------ random programs vs NumPy
_RANDOM = """
import importlib, itertools, os, re, tempfile
from hypothesis import HealthCheck, given, settings, strategies as st

MOD_DIR = tempfile.mkdtemp()
sys.path.insert(0, MOD_DIR)
_count = itertools.count()
# (gpujit's text, NumPy's text) of each op; {a} {b} operands, s the Python float argument
UNARY = [("torch.tanh({a})", "np.tanh({a})"), ("torch.sigmoid({a})", "1 / (1 + np.exp(-{a}))"),
         ("torch.relu({a})", "np.maximum({a}, 0)"), ("({a} * s)", "({a} * s)"),
         ("({a} + 1.5)", "({a} + 1.5)"), ("torch.clamp({a}, -1.0, 1.0)", "np.clip({a}, -1, 1)"),
         ("torch.abs({a})", "np.abs({a})"), ("(2 - {a})", "(2 - {a})")]
BINARY = [("({a} + {b})", "({a} + {b})"), ("({a} - {b})", "({a} - {b})"),
          ("({a} * {b})", "({a} * {b})"), ("torch.maximum({a}, {b})", "np.maximum({a}, {b})"),
          ("torch.where({a} > {b}, {a}, {b} * 0.5)", "np.where({a} > {b}, {a}, {b} * 0.5)")]

@st.composite
def expr(draw, depth=3):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        v = draw(st.sampled_from(["x", "y"]))
        return v, v
    if draw(st.booleans()):
        g, n = draw(st.sampled_from(UNARY))
        a = draw(expr(depth - 1))
        return g.format(a=a[0]), n.format(a=a[1])
    g, n = draw(st.sampled_from(BINARY))
    a, b = draw(expr(depth - 1)), draw(expr(depth - 1))
    return g.format(a=a[0], b=b[0]), n.format(a=a[1], b=b[1])

LAYOUTS = ["contiguous", "transposed", "sliced", "row"]

def make(rng, shape, dt, layout):
    if layout == "transposed":
        return torch.from_numpy(rng.uniform(-2, 2, shape[::-1]).astype(dt)).t()
    if layout == "sliced":
        return torch.from_numpy(rng.uniform(-2, 2, (shape[0] + 1, shape[1] * 2)).astype(dt))[1:, ::2]
    if layout == "row":              # broadcast along the rows
        return torch.from_numpy(rng.uniform(-2, 2, shape[1:]).astype(dt))
    return torch.from_numpy(rng.uniform(-2, 2, shape).astype(dt))

checked = [0]

@settings(max_examples=int(os.environ.get("S29_EXAMPLES", "12")), deadline=None, derandomize="S29_EXAMPLES" not in os.environ, database=None,
          suppress_health_check=list(HealthCheck))
@given(expr(), st.sampled_from([np.float32, np.float64, np.float16]),
       st.sampled_from([np.float32, np.float64, np.float16]),
       st.sampled_from(LAYOUTS), st.sampled_from(LAYOUTS), st.floats(-2, 2))
def check(e, dx, dy, lx, ly, sval):
    g, n = e
    name = f"rand_{next(_count)}"
    with open(os.path.join(MOD_DIR, name + ".py"), "w") as fh:
        fh.write(f"import gpujit as torch\\n\\ndef f(x, y, s: float):\\n    return {g} * 1.0\\n")
    f = torch.jit.script(importlib.import_module(name).f)
    rng = np.random.default_rng(0)
    for shape in [(3, 4), (3, 4), (2, 5)]:
        x = make(rng, shape, dx, "contiguous" if lx == "row" else lx)
        y = make(rng, shape, dy, ly)
        for _ in range(2):
            r = f(x, y, sval)
        used = [d for v, d in (("x", dx), ("y", dy)) if re.search(rf"\\b{v}\\b", g)]
        # NumPy on the inputs' own dtypes (its float16 ops round as PyTorch's, Python
        # floats are weak scalars in both), the values compared in float64
        want = np.asarray(eval(n, {"np": np, "x": x.numpy(), "y": y.numpy(), "s": sval}))
        assert want.dtype == np.result_type(*used)
        assert r.numpy().dtype == want.dtype, (g, r.dtype, want.dtype)
        assert tuple(r.shape) == want.shape, (g, r.shape, want.shape)
        want = want.astype(np.float64)
        tol = 2e-2 if np.float16 in used else 1e-5
        np.testing.assert_allclose(r.numpy().astype(np.float64), want, rtol=tol, atol=tol,
                                   err_msg=g)
        checked[0] += 1

check()
print("RANDOM", checked[0])
done("RANDOM")
"""


@pytest.mark.sim
def test_random_elementwise_programs_on_the_simulator_match_numpy(sim_batch):
    pytest.importorskip("hypothesis")
    out, _ = program_result(sim_batch, "RANDOM")
    assert "RANDOM TARGETS ['sim']" in out, out
    assert ("RANDOM 36" in out) != ("S29_EXAMPLES" in os.environ), out


# ------------------------------------------------------------------ found by this audit
_ZERO_DIV = """
def idiv(x, y):
    return (x // y) + 1, torch.fmod(x, y) * 1, (x % y) * 2

s = torch.jit.script(idiv)
x = torch.tensor([7, -7, 7, -8])
for yy in (torch.tensor([2, 3, -4, 3]), torch.tensor([2, 3, -4, 3])):
    for _ in range(2):
        a, b, c = s(x, yy)
xn, yn = x.numpy(), yy.numpy()
np.testing.assert_array_equal(a.numpy(), xn // yn + 1)
np.testing.assert_array_equal(b.numpy(), np.fmod(xn, yn))
np.testing.assert_array_equal(c.numpy(), (xn % yn) * 2)
for yy in (torch.tensor([2, 0, 4, 1]), torch.tensor(0), torch.tensor([0, 0, 0, 0], dtype=torch.int32)):
    for f in (idiv, s, s):
        try:
            f(x, yy)
        except Exception as e:
            # (scripted: TorchScript's traceback text, its last line the op's error)
            print("RAISED", type(e).__name__,
                  str(e).splitlines()[-1].replace("RuntimeError: ", ""))
        else:
            print("RAISED nothing")
done("ZERO_DIV")
"""


@pytest.mark.sim
def test_integer_division_by_zero_raises_on_the_simulator_as_on_the_cpu(sim_batch):
    # a fusion group of CPU tensors on the simulator divided integers by zero silently
    # (CUDA's kernels do not check; the CPU kernels count the zero divisors and raise
    # PyTorch's ZeroDivisionError, as eager does): the simulated kernel now flags them
    out, _ = program_result(sim_batch, "ZERO_DIV")
    assert "ZERO_DIV TARGETS ['sim']" in out, out
    raised = [ln for ln in out.splitlines() if ln.startswith("RAISED")]
    assert raised == ["RAISED IntegerDivisionByZero ZeroDivisionError"] * 9, out


_PLANTED = """
import base64, hashlib, json, pathlib
from gpujit.kernels import native

def thr(x, y):
    return torch.sigmoid(x * 1.5 - y) * torch.tanh(y) + 0.25

def broken(body, how):
    obj = base64.b64decode(body["object"])
    obj = {"empty": b"", "cut": obj[:len(obj) // 2], "header": obj[:64],
           "not elf": b"MZ" + obj[2:],     # the section table's offset past the end:
           "far sections": obj[:0x28] + (len(obj) + 4096).to_bytes(8, "little") + obj[0x30:],
           "none": obj}[how]
    return dict(body, object=base64.b64encode(obj).decode())

entries = sorted(pathlib.Path(CACHE).rglob("kernels/cpu/*.json"))
for p in entries:
    body = json.loads(json.loads(p.read_text())["body"])
    for how in ("empty", "cut", "header", "not elf", "far sections", "none"):
        try:
            native.load(broken(body, how))
        except native.NativeLoadError as e:
            print("LOAD", how, "refused", "malformed" in str(e))
        else:
            print("LOAD", how, "loaded")
    # a well-formed entry (its checksum matches) whose object is not a whole ELF object
    text = json.dumps(broken(body, "cut"), sort_keys=True)
    p.write_text(json.dumps({"sha256": kernels.cache._seal(p, text), "body": text}))
f = torch.jit.script(thr)
x, y = np.linspace(-2, 2, 20, dtype=np.float32), np.linspace(1, -1, 20, dtype=np.float32)
for _ in range(3):
    r = f(torch.from_numpy(x), torch.from_numpy(y))
np.testing.assert_allclose(r.numpy(), 1 / (1 + np.exp(-(x * 1.5 - y))) * np.tanh(y) + 0.25,
                           rtol=1e-5, atol=1e-6)
i = kernels.cache_info()
print("PLANTED", len(entries), i.compiles, i.disk_hits)
done("PLANTED")
"""


def test_checksummed_entries_with_a_broken_object_are_compiled_again(cpu_batch):
    # an entry whose checksum matches but whose object is empty or cut (written so by a
    # bug or another tool) went to LLVM's object loader, which crashed the process
    # (SIGSEGV); the loader now reads the ELF headers first and compiles afresh
    # (one process: the second program finds the first one's entry on the disk, its
    # kernels and counters forgotten in between)
    out, _ = program_result(cpu_batch, "FIRST")
    assert "PLANTED 0 1 0" in out, out
    out, _ = program_result(cpu_batch, "SECOND")
    assert "PLANTED 1 1 0" in out, out
    loads = [ln for ln in out.splitlines() if ln.startswith("LOAD")]
    assert loads == [f"LOAD {how} refused True" for how in
                     ("empty", "cut", "header", "not elf", "far sections")] + ["LOAD none loaded"]


_NATIVE = """
import base64, hashlib, json, pathlib
root = pathlib.Path(CACHE)
kern = sorted(p for p in root.rglob("kernels/cpu/*.json") if not p.name.startswith("native-"))
for p in sorted(root.rglob("kernels/cpu/native-*.json")):   # the thread pool's object code
    body = json.loads(json.loads(p.read_text())["body"])
    obj = base64.b64decode(body["object"])
    obj = {"empty": b"", "cut": obj[:len(obj) // 2], "none": obj,   # (other: a whole ELF
           "other": base64.b64decode(json.loads(json.loads(         # object without the
               kern[0].read_text())["body"])["object"])}[HOW]        # pool's functions)
    text = json.dumps(dict(body, object=base64.b64encode(obj).decode()), sort_keys=True)
    p.write_text(json.dumps({"sha256": kernels.cache._seal(p, text), "body": text}))
    print("PLANTED", HOW)

def big(x, y):
    return torch.sigmoid(x * 1.5 - y) * torch.tanh(y) + 0.25

f = torch.jit.script(big)
x = np.linspace(-2, 2, 1 << 15, dtype=np.float32)      # (past PARALLEL_MIN: the pool runs)
y = x[::-1].copy()
for _ in range(3):
    r = f(torch.from_numpy(x), torch.from_numpy(y))
np.testing.assert_allclose(r.numpy(), 1 / (1 + np.exp(-(x * 1.5 - y))) * np.tanh(y) + 0.25,
                           rtol=1e-5, atol=1e-6)
done("NATIVE")
"""


def test_checksummed_thread_pool_objects_that_are_broken_are_built_again(cpu_batch):
    # kernels/native.load_ir (the CPU thread pool's and trampolines' object code, cached
    # since session 23) handed any checksummed object to LLVM too: an empty one crashed
    # the process, one without the pool's functions gave null function pointers
    # (cpu_batch: the pool built in one process, then in a new one its whole entry loaded,
    # and each broken one planted, the process's pool forgotten before each program)
    for name, how in [("NATIVE_BUILT", "none")] + [(f"NATIVE_{h}", h.split("_")[0])
                                                   for h in NATIVE_HOWS]:
        out, _ = program_result(cpu_batch, name)
        assert "NATIVE TARGETS ['cpu']" in out, (how, out)
        assert how == "none" or f"PLANTED {how}" in out, (how, out)


_PTX = """
import hashlib, json, pathlib
from gpujit.kernels import targets

_load = targets.load_cuda
def load_cuda(ptx, entry, index, cc=None):  # the driver refusing a PTX (fakecupy reads none)
    if ptx.startswith("// planted"):
        raise RuntimeError("CUDA_ERROR_INVALID_PTX: a PTX JIT compilation failed")
    return _load(ptx, entry, index, cc)
targets.load_cuda = load_cuda

for p in sorted(pathlib.Path(CACHE).rglob("kernels/cuda/*.json")):
    body = json.loads(json.loads(p.read_text())["body"])
    body = {"empty": {}, "list": [], "types": {"ptx": 5, "entry": None},
            "entry": dict(body, entry="no_such_kernel"),
            "refused": dict(body, ptx="// planted\\n" + body["ptx"]), "none": body}[HOW]
    text = json.dumps(body, sort_keys=True)
    p.write_text(json.dumps({"sha256": kernels.cache._seal(p, text), "body": text}))
    print("PLANTED", HOW)

def cu(x, y):
    return torch.sigmoid(x * 1.5 - y) * torch.tanh(y) + 0.25

f = torch.jit.script(cu)
x = np.linspace(-2, 2, 20, dtype=np.float32)
y = x[::-1].copy()
for _ in range(3):
    r = f(torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda())
np.testing.assert_allclose(r.cpu().numpy(), 1 / (1 + np.exp(-(x * 1.5 - y))) * np.tanh(y) + 0.25,
                           rtol=1e-5, atol=1e-6)
i = kernels.cache_info()
print("PTX", i.compiles, i.disk_hits, i.specializations["cu"])
done("PTX")
"""


def test_checksummed_ptx_entries_that_are_broken_are_compiled_again(tmp_path):
    # a CUDA disk entry whose checksum matches but which is not a PTX with its entry point
    # ({}, a list, a wrong entry name) or whose PTX the driver refuses left the group
    # unfused in every later process ("building the kernel of STATIC #1 failed:
    # KeyError: 'ptx'"); now it is compiled again and the entry rewritten (CPU entries
    # always were). Through tests/fakecupy, with numba's NVVM making the PTX.
    import sys as _sys
    _sys.path.insert(0, HERE)
    from test_kernels_cuda import _nvvm_available
    if not _nvvm_available():
        pytest.skip("numba-cuda's NVVM is not installed: no PTX to cache")
    cache = str(tmp_path / "cache")
    path = os.pathsep.join(p for p in (os.path.join(HERE, "fakecupy"),
                                       os.environ.get("PYTHONPATH")) if p)
    for how, want in [("none", "PTX 1 0"), ("empty", "PTX 1 0"), ("none", "PTX 0 1"),
                      ("types", "PTX 1 0"), ("entry", "PTX 1 0"), ("refused", "PTX 1 0"),
                      ("none", "PTX 0 1")]:
        prog = f"CACHE = {cache!r}\nHOW = {how!r}\n" + _PTX
        out, _ = _run(tmp_path, prog, sim=False, PYTHONPATH=path, FAKECUPY_NDEV="1")
        assert f"{want} ['STATIC(20)']" in out and "PTX TARGETS ['cuda']" in out, (how, out)
