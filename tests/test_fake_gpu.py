"""The GPU tier's Python side, without a GPU: the `@pytest.mark.cuda` tests of the kernel,
script, device and testing modules run in a subprocess against tests/fakecupy, a
NumPy-backed stand-in for CuPy that behaves as CuPy does where gpujit could go wrong (no
implicit conversion to NumPy, 0-dim results, two devices and the current one, kernel
arguments packed as numba's ABI, pointers inside live allocations; fused launches are
emulated from the kernel's text). It checks gpujit's CuPy calls, not CUDA: `ci/gpu.sh` on a GPU does.
Run the whole tier this way with `bash ci/fake_gpu.sh`."""
from __future__ import annotations

import os
import subprocess
import sys

from cache_seed import warm

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ["test_kernels_cuda.py", "test_script_cuda.py", "test_device.py", "test_testing.py",
         "test_fusers_kernels.py", "test_threads_resources_s20.py"]


# the sweeps of every fusible op (each emulated thread by thread: minutes) run as tests of
# their own files (test_fake_gpu_sweep*.py), so that pytest-xdist runs them beside the rest
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


def run_fake_tier(tmp_path, targets, deselect=()):
    """Run `targets` (test files or node ids under tests/) with `-m cuda` in a subprocess
    against the NumPy-backed CuPy; assert they pass."""
    # the caller's PYTHONPATH stays after the stand-in (as ci/fake_gpu.sh keeps it): a
    # checkout's path shim must reach the subprocess, or it tests another checkout
    path = os.pathsep.join(p for p in (os.path.join(HERE, "fakecupy"),
                                       os.environ.get("PYTHONPATH")) if p)
    cache = take_helpers(warm(tmp_path / "cache"))
    env = dict(os.environ, PYTHONPATH=path, FAKECUPY_NDEV="2",
               FAKECUPY_STRICT_DEVICE="1", GPUJIT_CACHE_DIR=cache)
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    # (--deselect matches node ids as pytest writes them: relative to the repository)
    skip = [item for d in deselect for item in ("--deselect", f"tests/{d}")]
    r = subprocess.run([sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-n", "0",
                        "-p", "no:cacheprovider", *skip,
                        *[os.path.join(HERE, t) for t in targets]],
                       capture_output=True, text=True, env=env, cwd=os.path.dirname(HERE),
                       timeout=900)
    give_helpers(cache)
    tail = "\n".join(r.stdout.strip().splitlines()[-15:])
    assert r.returncode == 0, tail + r.stderr[-3000:]
    assert " passed" in tail and " failed" not in tail, tail


def test_the_gpu_tier_runs_against_a_numpy_backed_cupy(tmp_path):
    from test_kernels_cuda import _nvvm_available
    skip = [] if _nvvm_available() else [    # (without NVVM there is no PTX to cache)
        "test_kernels_cuda.py::test_the_chain_on_the_gpu_and_its_ptx_cache"]
    # the sweeps: see test_fake_gpu_sweep*.py
    dtypes = ("float16", "float32", "float64", "uint8", "int32", "bool")
    skip += [i for d in dtypes for i in sweep_ids(d)] + [f"{VECTOR_SWEEP}[{d}]" for d in dtypes]
    run_fake_tier(tmp_path, FILES, skip)
