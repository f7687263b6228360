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

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ["test_kernels_cuda.py", "test_script_cuda.py", "test_device.py", "test_testing.py",
         "test_fusers_kernels.py", "test_threads_resources_s20.py"]


def test_the_gpu_tier_runs_against_a_numpy_backed_cupy(tmp_path):
    # the caller's PYTHONPATH stays after the stand-in (as ci/fake_gpu.sh keeps it): a
    # checkout's path shim must reach the subprocess, or it tests another checkout
    path = os.pathsep.join(p for p in (os.path.join(HERE, "fakecupy"),
                                       os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, PYTHONPATH=path, FAKECUPY_NDEV="2",
               FAKECUPY_STRICT_DEVICE="1",
               GPUJIT_CACHE_DIR=str(tmp_path))
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    from test_kernels_cuda import _nvvm_available
    skip = [] if _nvvm_available() else [    # (without NVVM there is no PTX to cache)
        "--deselect", "tests/test_kernels_cuda.py::test_the_chain_on_the_gpu_and_its_ptx_cache"]
    # every op in vector loops: emulated thread by thread, one dtype is enough here; the
    # plain sweep in a float and an integer dtype (each dtype's kernels run for real on the
    # GPU tier and under numba's simulator in test_kernels_sim; the emulation of every
    # special function's series in the others cost minutes of CI)
    skip += [item for d in ("float16", "float64", "int32", "bool") for item in (
        "--deselect",
        f"tests/test_kernels_cuda.py::test_every_fusible_op_in_vector_loops_on_the_gpu[{d}]")]
    skip += [item for d in ("float16", "float64", "uint8", "bool") for item in (
        "--deselect", f"tests/test_kernels_cuda.py::test_every_fusible_op_on_the_gpu[{d}]")]
    r = subprocess.run([sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-n", "0",
                        "-p", "no:cacheprovider", *skip, *[os.path.join(HERE, f) for f in FILES]],
                       capture_output=True, text=True, env=env, cwd=os.path.dirname(HERE),
                       timeout=900)
    tail = "\n".join(r.stdout.strip().splitlines()[-15:])
    assert r.returncode == 0, tail + r.stderr[-3000:]
    assert " passed" in tail and " failed" not in tail, tail
