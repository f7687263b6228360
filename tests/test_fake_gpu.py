"""The GPU tier's Python side, without a GPU: the `@pytest.mark.cuda` tests of the kernel,
script, device and testing modules run in a subprocess against tests/fakecupy, a
NumPy-backed stand-in for CuPy that behaves as CuPy does where gpujit could go wrong (no
implicit conversion to NumPy, 0-dim results, two devices and the current one, kernel
arguments packed as numba's ABI, pointers inside live allocations; fused launches are
emulated from the kernel's text). It checks gpujit's CuPy calls, not CUDA: `ci/gpu.sh` on a GPU does.
One subprocess runs the parts (the modules above; the sweeps of every fusible op in
float32, int32 and float32 vector loops; session 26's finds; every op's OpInfo samples),
one test each below. Run the whole tier this way with `bash ci/fake_gpu.sh`."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cache_seed import warm

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ["test_kernels_cuda.py", "test_script_cuda.py", "test_device.py", "test_testing.py",
         "test_fusers_kernels.py", "test_threads_resources_s20.py"]


# the sweeps of every fusible op (each emulated thread by thread), in the dtypes this tier
# runs (SWEPT, VECTOR_SWEPT below; the others are deselected)
SWEEP = "test_kernels_cuda.py::test_every_fusible_op_on_the_gpu"


def sweep_ids(dtype_name):
    """The node ids of SWEEP for one dtype (its kernels: test_kernels_cuda.SWEEP_PARTS)."""
    from test_kernels_cuda import SWEEP_PARTS
    return [f"{SWEEP}[{dtype_name}-{p}]" for p in range(SWEEP_PARTS)]


VECTOR_SWEEP = "test_kernels_cuda.py::test_every_fusible_op_in_vector_loops_on_the_gpu"


# ------------------------------------------------------------------ shared numba helpers
# Each subprocess of this tier (and of the simulator tier) starts from a fresh cache folder
# seeded by cache_seed.warm from the session's, which on a cold CI run has few of gpujit's
# numba-compiled eager helpers yet (these files run first): every subprocess compiled the
# special functions' ufuncs its sweeps reach again (~10 s of CPU each). The subprocesses
# now leave what they compiled in one folder of the session's (HELPERS, beside its cache
# folder, under an flock) and take from it at their start. Only whole functions move:
# numba's index (<stem>.nbi) names its data files (<stem>.<n>.nbc), so a function's files
# are copied, data first, where the destination has no index of it; gpujit's ufunc loops
# (*.nbw) check their own key.

def _helpers_folder():
    from cache_seed import SEED_ENV
    src = os.environ.get(SEED_ENV)
    return os.path.join(src, "shared-numba-helpers") if src and os.path.isdir(src) else None


def _copy_functions(src, dst):
    """Copy the numba cache entries of folder src that folder dst lacks (whole functions)."""
    import shutil
    try:
        names = os.listdir(src)
    except OSError:
        return
    have = set(os.listdir(dst)) if os.path.isdir(dst) else set()
    os.makedirs(dst, exist_ok=True)
    todo = []
    for name in names:
        if ".tmp" in name:
            continue
        if name.endswith(".nbi") and name not in have:
            stem = name[:-4]
            todo += [n for n in names if n.startswith(stem + ".") and n.endswith(".nbc")]
            todo.append(name)                       # (the index last)
        elif name.endswith(".nbw") and name not in have:
            todo.append(name)
    for name in todo:
        tmp = os.path.join(dst, f"{name}.tmp{os.getpid()}")
        try:
            shutil.copyfile(os.path.join(src, name), tmp)
            os.replace(tmp, os.path.join(dst, name))
        except OSError:
            try:
                os.remove(tmp)
            except OSError:
                pass


def _with_helpers(folder, give):
    """Take the shared folder's numba helpers into gpujit cache folder `folder` (give=False)
    or leave folder's there (give=True); nothing where no lock can be taken."""
    shared = _helpers_folder()
    if shared is None:
        return
    try:
        import fcntl
        from cache_seed import _numba_subdirs
        os.makedirs(shared, exist_ok=True)
        lock = open(os.path.join(shared, "lock"), "a")
    except (ImportError, OSError):
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX if give else fcntl.LOCK_SH)
        for sub in _numba_subdirs():
            mine = os.path.join(str(folder), "kernels", "numba", sub)
            there = os.path.join(shared, sub)
            if give:
                _copy_functions(mine, there)
            elif os.path.isdir(there):
                _copy_functions(there, mine)


def take_helpers(folder):
    """`folder` (a gpujit cache folder warm() seeded), with the tier's shared numba helpers."""
    _with_helpers(folder, give=False)
    return str(folder)


def give_helpers(folder):
    """Leave the numba helpers a subprocess compiled into `folder` for the next ones."""
    _with_helpers(folder, give=True)


def _fake_tier_env(tmp_path):
    """(env, cache folder) of a subprocess of this tier."""
    # the caller's PYTHONPATH stays after the stand-in (as ci/fake_gpu.sh keeps it): a
    # checkout's path shim must reach the subprocess, or it tests another checkout
    path = os.pathsep.join(p for p in (os.path.join(HERE, "fakecupy"),
                                       os.environ.get("PYTHONPATH")) if p)
    cache = take_helpers(warm(tmp_path / "cache"))
    # (the kernel test files' folder is this one too: else the numba helpers their sweeps
    # compile went to a folder of their own and every subprocess compiled them again)
    from cache_seed import KERNEL_CACHE_ENV
    env = dict(os.environ, PYTHONPATH=path, FAKECUPY_NDEV="2",
               FAKECUPY_STRICT_DEVICE="1", GPUJIT_CACHE_DIR=cache, **{KERNEL_CACHE_ENV: cache})
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    return env, cache


def _run(tmp_path, targets, deselect=(), extra=()):
    env, cache = _fake_tier_env(tmp_path)
    # (--deselect matches node ids as pytest writes them: relative to the repository)
    skip = [item for d in deselect for item in ("--deselect", f"tests/{d}")]
    r = subprocess.run([sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-n", "0",
                        "-p", "no:cacheprovider", *skip, *extra,
                        *[os.path.join(HERE, t) for t in targets]],
                       capture_output=True, text=True, env=env, cwd=os.path.dirname(HERE),
                       timeout=1800)
    give_helpers(cache)
    return r


# ------------------------------------------------------------------ the tier, one session
# The tier's parts (FILES; the sweeps of every fusible op in float32, in int32 and in
# vector loops; session 26's finds; every op's OpInfo samples) were five test files, each
# a subprocess that imported gpujit, collected the tests and compiled the special
# functions' numba helpers again (~20 s of CPU each cold; the two sweeps ran side by side
# on CI's two workers): one subprocess now runs them all, and each test below checks its
# part's results in the session's junit report.
# the cuda-marked tests of later sessions' files (each file ran its own session of this
# tier: ~2-6 s of start-up, collection and helper compiles each), one test each below
LATER = ["test_cuda_paths_s29.py", "test_cuda_paths_s30.py", "test_cuda_layouts_s30.py",
         "test_fidelity_s29.py", "test_fidelity_s30.py", "test_fidelity_s30b.py",
         "test_gpu_tier_s34.py", "test_complex_s44.py::test_complex_on_cuda_matches_the_cpu",
         "test_gpu_ready_c62.py", "test_storage_layout_c62.py"]
SWEEP_DTYPES = ("float16", "float32", "float64", "uint8", "int32", "bool")
VECTOR_DTYPES = ("float16", "float32", "float64", "int32", "bool")
PARTS = {"gpu tier": FILES, "sweep float32": [], "sweep int32 and vector loops": [],
         "session 26": ["test_fake_gpu_finds_s26.py"], "opinfo": ["test_opinfo.py"],
         "later sessions": LATER}
SWEPT = {"sweep float32": ("float32",), "sweep int32 and vector loops": ("int32",)}
VECTOR_SWEPT = ("float32",)       # (every dtype runs on the GPU tier and the simulator)


def _classname(target):
    return "tests." + target.split("::")[0][:-len(".py")]


@pytest.fixture(scope="module")
def tier(tmp_path_factory):
    """{(classname, test name): outcome} of one `-m cuda` session over every part, and
    the session's output tail."""
    import xml.etree.ElementTree as ET
    from test_kernels_cuda import _nvvm_available
    skip = [] if _nvvm_available() else [    # (without NVVM there is no PTX to cache)
        "test_kernels_cuda.py::test_the_chain_on_the_gpu_and_its_ptx_cache"]
    swept = [d for ds in SWEPT.values() for d in ds]
    skip += [i for d in SWEEP_DTYPES if d not in swept for i in sweep_ids(d)]
    skip += [f"{VECTOR_SWEEP}[{d}]" for d in VECTOR_DTYPES if d not in VECTOR_SWEPT]
    tmp = tmp_path_factory.mktemp("fake_tier")
    report = tmp / "junit.xml"
    targets = [t for part in PARTS.values() for t in part]
    r = _run(tmp, targets, skip, [f"--junitxml={report}", "-o", "junit_family=xunit1"])
    tail = "\n".join(r.stdout.strip().splitlines()[-40:]) + r.stderr[-3000:]
    assert report.exists(), tail
    results = {}
    for case in ET.parse(report).iter("testcase"):
        kinds = {c.tag for c in case}
        outcome = ("failed" if kinds & {"failure", "error"} else
                   "skipped" if "skipped" in kinds else "passed")
        results[(case.get("classname"), case.get("name"))] = outcome
    return results, tail


def _check(tier, targets, only=None):
    """Every test of `targets` (files; or only the names `only` picks) passed in the
    session: none failed or errored, at least one passed."""
    results, tail = tier
    want = {_classname(t) for t in targets}
    mine = {k: v for k, v in results.items() if k[0] in want and (only is None or only(k[1]))}
    bad = sorted(f"{c}::{n}" for (c, n), v in mine.items() if v == "failed")
    assert not bad, "\n".join(bad) + "\n" + tail
    assert any(v == "passed" for v in mine.values()), f"no test of {targets} passed\n{tail}"
    return mine


def test_the_gpu_tier_runs_against_a_numpy_backed_cupy(tier):
    sweeps = (SWEEP.split("::")[1] + "[", VECTOR_SWEEP.split("::")[1] + "[")
    _check(tier, FILES, lambda n: not n.startswith(sweeps))


def test_every_fusible_op_float32_against_a_numpy_backed_cupy(tier):
    """Each op's kernel is emulated thread by thread from its text, so one float and one
    integer dtype run here; every dtype's kernels run for real on the GPU tier and under
    numba's simulator in test_kernels_sim."""
    from test_kernels_cuda import SWEEP_PARTS
    name = SWEEP.split("::")[1]
    mine = _check(tier, ["test_kernels_cuda.py"], lambda n: n.startswith(f"{name}[float32-"))
    assert len(mine) == SWEEP_PARTS and set(mine.values()) == {"passed"}, mine


def test_every_fusible_op_int32_and_vector_loops_against_a_numpy_backed_cupy(tier):
    """Every fusible op in int32, and every op in vector loops (the kernels that load and
    store several elements per thread) in float32."""
    from test_kernels_cuda import SWEEP_PARTS
    name, vector = SWEEP.split("::")[1], VECTOR_SWEEP.split("::")[1]
    mine = _check(tier, ["test_kernels_cuda.py"],
                  lambda n: n.startswith(f"{name}[int32-") or n == f"{vector}[float32]")
    assert len(mine) == SWEEP_PARTS + 1 and set(mine.values()) == {"passed"}, mine


def test_session_26_gpu_finds_against_a_numpy_backed_cupy(tier):
    """Session 26's GPU-tier tests (tests/test_fake_gpu_finds_s26.py)."""
    _check(tier, PARTS["session 26"])


def test_every_op_on_cuda_matches_the_cpu_against_a_numpy_backed_cupy(tier):
    """The GPU tier's op-by-op device comparison (test_opinfo.py's cuda-marked tests: every
    registry op's OpInfo samples on CUDA against the CPU, through gpujit.testing's
    assert_consistent). It catches a CuPy path that answers differently from the CPU one
    without a GPU (topk's order among ties did, from 2026-12-04 until session 38, unseen:
    no GPU was lent)."""
    _check(tier, PARTS["opinfo"])


@pytest.mark.parametrize("target", LATER, ids=lambda t: t.split(".py")[0])
def test_later_sessions_cuda_tests_against_a_numpy_backed_cupy(tier, target):
    """The cuda-marked tests of `target` (a file, or one test of it) passed in the tier's
    session."""
    name = target.split("::")[1] if "::" in target else None
    _check(tier, [target], None if name is None else (lambda n: n == name))
