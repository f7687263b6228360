"""Compiling generated kernel modules, per target, through the disk cache.

- cpu: the module is written once to `<cache>/cpu/gen_<sha>.py` (sha of its text and the
  library versions) and imported from there, so numba's own `cache=True` can store the
  compiled code beside it (it cannot cache code exec'd from a string). A manifest lists
  numba's cache files with their checksums; a mismatch removes them before import.
- cuda: `numba.cuda.compile_ptx` (never the dispatcher) to PTX, stored with its entry name
  (read from the PTX: numba's mangled names carry a process counter) under
  `<cache>/cuda/<sha>.json`, keyed by the module text, signature, compute capability and
  versions; loaded with `cupy.cuda.function.Module`.
- sim: the same module under numba's CUDA simulator (`NUMBA_ENABLE_CUDASIM=1` must be set
  before numba is imported); nothing to cache.
"""
from __future__ import annotations

import glob
import importlib.metadata
import importlib.util
import linecache
import os
import re
import sys
import warnings
from pathlib import Path

from . import cache as _cache
from .spec import KernelBuildError

__all__ = ["compile_cpu", "compile_ptx", "load_cuda", "compile_sim", "versions"]

_ENTRY = re.compile(r"\.visible\s+\.entry\s+([\w$]+)\s*\(")
_VERSIONS = None


def versions() -> str:
    """Library versions that key the disk cache."""
    global _VERSIONS
    if _VERSIONS is None:         # (without importing numba: a PTX disk hit never needs it)
        import gpujit

        def version(dist):
            try:
                return importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                return "none"
        _VERSIONS = (f"gpujit {gpujit.__version__}; numba {version('numba')}; "
                     f"numba-cuda {version('numba-cuda')}; llvmlite {version('llvmlite')}; "
                     f"python {sys.version_info[:2]}")
    return _VERSIONS


def _exec_module(text, name):
    filename = f"<gpujit kernel {name}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    ns = {"__name__": name}
    exec(compile(text, filename, "exec"), ns)
    return ns


# ------------------------------------------------------------------------------ cpu

def _numba_files(manifest, stem, directory):
    files = set(manifest.get("files", {})) if manifest else set()
    files.update(glob.glob(os.path.join(directory, "__pycache__", f"{stem}.kernel-*")))
    if manifest and manifest.get("cache_path"):
        files.update(glob.glob(os.path.join(manifest["cache_path"], f"{stem}.kernel-*")))
    return files


def _purge(files, sums: Path):
    for f in list(files) + [str(sums)]:
        try:
            os.unlink(f)
        except OSError:
            pass


def _manifest_ok(manifest):
    for f, digest in manifest.get("files", {}).items():
        try:
            if _cache.sha256(Path(f).read_bytes()) != digest:
                return False
        except OSError:
            return False
    return bool(manifest.get("files"))


def compile_cpu(text: str):
    """(numba dispatcher of the module's `kernel`, loaded from the disk cache?)"""
    sha = _cache.sha256(text + "\n# " + versions())[:40]
    directory = _cache.cache_dir() / "cpu"
    stem = f"gen_{sha}"
    path, sums = directory / f"{stem}.py", directory / f"{stem}.sums"
    try:
        current = path.read_text()
    except OSError:
        current = None
    manifest = _cache.read_verified_json(sums)
    if current != text:
        _purge(_numba_files(manifest, stem, str(directory)), sums)
        _cache.atomic_write(path, text)
        manifest = None
    elif manifest is not None and not _manifest_ok(manifest):
        _purge(_numba_files(manifest, stem, str(directory)), sums)
        manifest = None
    had_files = bool(_numba_files(manifest, stem, str(directory)))
    try:
        disp = _import_kernel(path, sha)
    except Exception as e:
        if not had_files:
            raise KernelBuildError(f"numba could not compile the generated kernel "
                                   f"{path}:\n{e}") from e
        # a cache file numba could not read: remove what is there and compile afresh
        _purge(_numba_files(manifest, stem, str(directory)), sums)
        disp = _import_kernel(path, sha)
    disk_hit = bool(sum(disp.stats.cache_hits.values()))
    if not disk_hit:
        _write_manifest(disp, stem, sums)
    return disp, disk_hit


def _import_kernel(path: Path, sha):
    name = f"gpujit_kernel_{sha}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return mod.kernel


def _write_manifest(disp, stem, sums: Path):
    try:
        cache_path = disp._cache._cache_path        # numba's FunctionCache (internal)
    except AttributeError:
        return
    files = {}
    for f in glob.glob(os.path.join(cache_path, f"{stem}.kernel-*")):
        try:
            files[f] = _cache.sha256(Path(f).read_bytes())
        except OSError:
            return
    if files:
        _cache.write_verified_json(sums, {"cache_path": cache_path, "files": files})


# ------------------------------------------------------------------------------ cuda

def compile_ptx(text: str, signature: str, cc: tuple):
    """(ptx, entry name, loaded from the disk cache?) for compute capability cc."""
    key = _cache.sha256("\n".join([text, signature, repr(tuple(cc)), versions()]))[:40]
    path = _cache.cache_dir() / "cuda" / f"{key}.json"
    entry = _cache.read_verified_json(path)
    if entry is not None:
        return entry["ptx"], entry["entry"], True
    from numba import cuda
    if cuda.compile_ptx is None:
        raise KernelBuildError("numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1): it "
                               "cannot compile PTX")
    ns = _exec_module(text, f"gpujit_ptx_{key}")
    try:
        ptx, _ = cuda.compile_ptx(ns["kernel"], signature, cc=tuple(cc))
    except Exception as e:
        raise KernelBuildError(f"numba.cuda could not compile the generated kernel:\n{e}\n"
                               f"{text}") from e
    names = _ENTRY.findall(ptx)
    if len(names) != 1:
        raise KernelBuildError(f"expected one .entry in the PTX, found {names}")
    _cache.write_verified_json(path, {"ptx": ptx, "entry": names[0]})
    return ptx, names[0], False


def device_info(index):
    """(compute capability, SM count) of CUDA device `index` (CuPy)."""
    import cupy
    dev = cupy.cuda.Device(index)
    cc = dev.compute_capability
    return (int(cc[:-1]), int(cc[-1])), dev.attributes["MultiProcessorCount"]


def load_cuda(ptx: str, entry: str, index):
    """(CuPy module, function) of the PTX, loaded on device `index`."""
    import cupy
    with cupy.cuda.Device(index):
        module = cupy.cuda.function.Module()
        module.load(ptx.encode())
        return module, module.get_function(entry)


# ------------------------------------------------------------------------------ sim

def compile_sim(text: str):
    import numba
    if not numba.config.ENABLE_CUDASIM:
        raise KernelBuildError("the 'sim' target runs numba's CUDA simulator: set "
                               "NUMBA_ENABLE_CUDASIM=1 before numba is imported")
    from numba import cuda
    # the simulator computes with NumPy scalars, which warn where CUDA computes inf/nan
    # silently (each simulated thread is a Python thread: np.errstate would not reach it)
    warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"gpujit_sim_")
    ns = _exec_module(text, f"gpujit_sim_{_cache.sha256(text)[:16]}")
    return cuda.jit(ns["kernel"])
