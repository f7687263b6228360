"""gpujit.kernels: fusion group -> code. Generated numba source from the registry's scalar
expressions, compiled for CUDA (PTX launched through CuPy), for the CPU (a numba cfunc whose
object code is loaded with llvmlite and called through ctypes) and for numba's CUDA
simulator, plus the on-disk kernel cache (the fuser issue). It knows nothing
about the frontend or the graph passes.

    spec = KernelSpec(subgraph, tuple(arg_spec(a, static=True) for a in args), device, True)
    kernel = build(spec, "cpu")          # "cpu" | "cuda" | "sim"; cached
    outs = kernel(*args)                 # arrays and numbers -> tuple of output arrays
    print(kernel.source)                 # the generated module (GPUJIT_DUMP=kernels prints it)

The stages, one module each: spec.py (what a kernel is specialized on, the iteration-space
layout), scalar_codegen.py (each node's scalar expression as typed Python), prims.py and
cpu_math.py (the functions those call, per target), emit.py (the kernel module: loop,
index arithmetic), chunks.py (chunks in a kernel: moved up to the group inputs, whose
pieces are read in place), launch.py (the host launcher: outputs, argument packing), targets.py
(compiling through the disk cache), native.py (CPU object code: emit, load, call),
threads.py (CPU launches in chunks on threads), cache.py (memory/disk cache, counters; the
directory is gpujit/cachedir.py's, which the op registry's numba-compiled eager helpers,
gpujit/ops/numba_helpers.py, cache under too).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from gpujit import dtypes as _dt
from gpujit._dump import dumping as _dumping
from gpujit._gc import gc_paused

from . import cache as _cache
from .cache import CacheInfo, cache_info, clear_cache
from .chunks import cut_dims, kernel_form
from .emit import generate
from .launch import EmptySpace, LauncherBusy, ShapeMismatch, make_launcher
from .spec import ArgSpec, KernelSpec, KernelBuildError, arg_spec, check_args

__all__ = ["ArgSpec", "KernelSpec", "Kernel", "build", "arg_spec", "spec_for", "cache_info",
           "clear_cache", "CacheInfo", "KernelBuildError", "ShapeMismatch", "EmptySpace",
           "LauncherBusy",
           "TARGETS", "structure_key", "ptx_for", "cut_dims"]

TARGETS = ("cpu", "cuda", "sim")


class Kernel:
    """A compiled fusion group. `kernel(*args)` takes the group's inputs (NumPy/CuPy arrays
    for tensors, numbers for scalars, in the subgraph's input order), checks them against
    the spec (kernels read memory as the spec says), allocates the C-contiguous outputs and
    returns them as a tuple. `launch` is the same without the check, for callers that
    have checked already (the fuser's guards); `source` the generated module,
    `launcher_source` the host side."""

    def __init__(self, spec, target, ks, launch, compiled, disk_hit, extra=None):
        self.spec = spec
        self.target = target
        self.source = ks.text
        self.signature = ks.signature
        self.layout = ks.layout
        self.launch = launch
        self.launcher_source = launch.source
        self.compiled = compiled
        self.disk_hit = disk_hit
        self.extra = extra or {}   # cpu: the disk entry; cuda: the PTX, its entry, the module

    def __call__(self, *args):
        check_args(self.spec, args, self._array_type())
        return self.launch(*args)

    def _array_type(self):
        if self.target == "cuda":
            import cupy
            return cupy.ndarray
        return np.ndarray

    def __repr__(self):
        mode = "STATIC" if self.spec.static else "DYNAMIC"
        path = "flat" if self.layout.flat else "strided"
        return (f"<gpujit kernel {self.target} {mode} {path}, {len(self.spec.inputs)} inputs, "
                f"{len(self.layout.outputs)} outputs>")


def spec_for(subgraph, args, device=None, static=True) -> KernelSpec:
    """The KernelSpec of `subgraph` for these arguments (arrays and numbers)."""
    subgraph = kernel_form(subgraph)      # (its cats as the kernels compute them)
    if device is None:
        from gpujit.device import device as _device
        dev = next((getattr(a, "device", None) for a in args
                    if hasattr(a, "shape") and type(a).__module__.startswith("cupy")), None)
        device = _device("cuda", dev.id) if dev is not None else _device("cpu")
    specs = tuple(arg_spec(a, static) for a in args)
    if not static:        # a DYNAMIC kernel is specialized on the sizes its chunks cut
        fixed = cut_dims(subgraph)
        specs = tuple(dataclasses.replace(s, fixed=tuple((d, a.shape[d])
                                                         for d in sorted(fixed[k])))
                      if k in fixed else s for k, (s, a) in enumerate(zip(specs, args)))
    return KernelSpec(subgraph, specs, device, static)


def structure_key(graph) -> str:
    """The group's structure, independent of the input specs: node kinds, op overloads,
    constants, dataflow and output dtypes (the first level of the memory cache)."""
    ids = {v: f"i{k}" for k, v in enumerate(graph.inputs)}
    parts = [",".join(type(v.type).__name__ for v in graph.inputs)]
    for j, n in enumerate(graph.nodes):
        for k, o in enumerate(n.outputs):
            ids[o] = f"n{j}.{k}"
        const = repr((type(n.attrs.get("value")).__name__, n.attrs.get("value"))) \
            if n.kind == "prim::Constant" else repr(sorted(n.attrs.items()))
        op = n.op.name if n.op is not None else ""
        parts.append(f"{n.kind}|{op}|{','.join(ids.get(v, '?') for v in n.inputs)}|{const}")
    parts.append("->" + ",".join(f"{ids.get(v, '?')}:{getattr(v.type, 'dtype', None)}"
                                 for v in graph.outputs))
    return _cache.sha256("\n".join(parts))


def build(spec: KernelSpec, target: str) -> Kernel:
    """The kernel of `spec` on `target` ("cpu", "cuda" or "sim"), from the memory cache, the
    disk cache, or compiled (at most once per key, also across threads)."""
    if target not in TARGETS:
        raise ValueError(f"kernel target must be one of {TARGETS}, not {target!r}")
    dev = spec.device
    if target == "cuda" and getattr(dev, "type", None) != "cuda":
        raise KernelBuildError(f"the cuda target needs a CUDA device, not {dev}")
    if target == "cpu" and getattr(dev, "type", "cpu") != "cpu":
        raise KernelBuildError(f"the cpu target runs on the CPU, not {dev}")
    key1 = structure_key(spec.subgraph)
    # (the default dtype too: a body may compute in it with no output dtype showing it,
    # as integer isclose measures its error in it)
    key2 = (tuple(spec.inputs), bool(spec.static), target, str(dev),
            _dt.get_default_dtype().name)
    return _cache.lookup_or_build(key1, key2, lambda: _compile(spec, target))


def _compile(spec, target) -> Kernel:
    with gc_paused():       # numba's compile trips full collections (gpujit/_gc.py)
        return _compile_now(spec, target)


def _compile_now(spec, target) -> Kernel:
    from . import targets
    ks = generate(spec, target)
    if _dumping("kernels"):
        print(f"[gpujit] kernel ({target}):\n{ks.text}", flush=True)
    extra, sm = {}, None
    if target == "cpu":
        compiled, disk_hit, path = targets.compile_cpu(ks.text)
        extra = {"cache_file": path}
    elif target == "sim":
        compiled, disk_hit = targets.compile_sim(ks.text), False
    else:
        index = spec.device.index if spec.device.index is not None else 0
        cc, sm = targets.device_info(index)
        ptx, entry, disk_hit = targets.compile_ptx(ks.text, ks.signature, cc)
        try:
            module, compiled = targets.load_cuda(ptx, entry, index, cc)
        except Exception:
            if not disk_hit:
                raise
            # a cached PTX the driver refuses (written by a bug or another tool): compiled
            # afresh (and cached again) rather than leaving the group unfused for good
            ptx, entry, disk_hit = targets.compile_ptx(ks.text, ks.signature, cc, fresh=True)
            module, compiled = targets.load_cuda(ptx, entry, index, cc)
        extra = {"ptx": ptx, "entry": entry, "module": module}
    _cache.count("disk_hits" if disk_hit else "compiles")
    launch = make_launcher(ks, spec, compiled, sm_count=sm)
    return Kernel(spec, target, ks, launch, compiled, disk_hit, extra)


def ptx_for(spec: KernelSpec, cc=(9, 0)):
    """(PTX, entry name) of the CUDA kernel of `spec` for compute capability cc, without a
    GPU (needs the CUDA toolkit's NVVM, as numba-cuda[cu12]/[cu13] install). Disk-cached."""
    from . import targets
    with gc_paused():
        ks = generate(spec, "cuda")
        ptx, entry, disk_hit = targets.compile_ptx(ks.text, ks.signature, cc)
    _cache.count("disk_hits" if disk_hit else "compiles")
    return ptx, entry
