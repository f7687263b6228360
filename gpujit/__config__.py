"""torch.__config__: show() tells what gpujit runs on (its NumPy, numba, numba-cuda and
CuPy, the CPU's vector capability as gpujit.backends.cpu reports it, the CUDA runtime);
parallel_info() the thread settings, as PyTorch's build and parallel reports."""
from __future__ import annotations

import os
import platform

__all__ = ["show", "parallel_info"]


def _dist_version(name):
    from importlib import metadata
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def show() -> str:
    from .version import gpujit_version
    lines = [f"gpujit {gpujit_version} built with:",
             f"  - Python {platform.python_version()} ({platform.machine()})"]
    for name, dist in (("NumPy", "numpy"), ("numba", "numba"), ("llvmlite", "llvmlite"),
                       ("numba-cuda", "numba-cuda"), ("CuPy", None)):
        v = None
        if dist is not None:
            v = _dist_version(dist)
        else:
            for d in ("cupy", "cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x"):
                v = v or _dist_version(d)
        lines.append(f"  - {name} {v if v else '(not installed)'}")
    from .backends.cpu import get_cpu_capability
    lines.append(f"  - CPU capability usage: {get_cpu_capability()}")
    from . import version
    cuda = version.cuda
    lines.append(f"  - CUDA runtime: {cuda if cuda else 'none (no GPU found)'}")
    return "\n".join(lines) + "\n"


def parallel_info() -> str:
    from . import get_num_threads, get_num_interop_threads
    env = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
    lines = ["gpujit/Parallel:",
             f"\tgpujit.get_num_threads() : {get_num_threads()}",
             f"\tgpujit.get_num_interop_threads() : {get_num_interop_threads()}",
             f"os.cpu_count() : {os.cpu_count()}",
             "Environment variables:"]
    lines += [f"\t{k} : {os.environ.get(k, '[not set]')}" for k in env]
    lines.append("gpujit parallel backend: numba (parallel=True kernels)")
    return "\n".join(lines) + "\n"
