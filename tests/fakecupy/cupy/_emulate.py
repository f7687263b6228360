"""Emulated launches of gpujit's numba.cuda kernels.

gpujit compiles kernel text -> PTX with gpujit.kernels.targets.compile_ptx; we wrap that
function (install_hooks) to remember {PTX entry name: (kernel text, numba signature)}.
cupy.cuda.function.Module(...).get_function(entry)(grid, block, args) then unpacks args as
numba's kernel ABI lays them out (7 fields per `T[::1]` array, one scalar per number),
checks each field, rebuilds the arrays from their (host) pointers -- which must lie inside
a live fake-cupy allocation -- and runs the kernel text thread by thread (a stripped-down
copy of tests/test_kernels_cuda.py::_emulated_cuda_kernel).
"""
from __future__ import annotations

import ctypes
import re
import sys
import threading
import weakref

import numpy as np

_KERNELS = {}          # entry -> (text, signature)
_HOOKED = set()
_LIVE = weakref.WeakValueDictionary()   # lo address -> root numpy array (fake allocations)
# threads allocate while a launch looks its pointers up: a WeakValueDictionary's items()
# is a Python generator, so an insertion from another thread in the middle of it raised
# "dictionary changed size during iteration" (the launch failed; gpujit ran unfused)
_LIVE_LOCK = threading.Lock()
_HOOK_LOCK = threading.RLock()


def register_alloc(lo, root):
    try:
        with _LIVE_LOCK:
            _LIVE[lo] = root
    except TypeError:
        pass


def _inside(ptr, nbytes):
    """Whether [ptr, ptr + nbytes) lies in a live allocation; with FAKECUPY_STRICT_DEVICE,
    one of the current device (no peer access)."""
    import os
    from . import _OWNERS, _State
    with _LIVE_LOCK:
        live = list(_LIVE.items())
    for lo, r in live:
        if lo <= ptr and ptr + nbytes <= lo + r.nbytes:
            owner = _OWNERS.get(id(r))
            if (owner is not None and owner._dev != _State.current
                    and os.environ.get("FAKECUPY_STRICT_DEVICE")):
                raise LaunchError(f"[{ptr:#x}, +{nbytes}) is memory of cuda:{owner._dev}, "
                                  f"launched on cuda:{_State.current} (an illegal address)")
            return True
    return False


def install_hooks():
    with _HOOK_LOCK:
        _install_hooks()


def _install_hooks():
    for modname in ("gpujit.kernels.targets", "kernels.targets"):
        mod = sys.modules.get(modname)
        if mod is None or modname in _HOOKED:
            continue
        orig = getattr(mod, "compile_ptx", None)
        if orig is None:        # still being imported by another thread: hook it later
            continue
        _HOOKED.add(modname)

        def compile_ptx(text, signature, cc, *args, _orig=orig, **kwargs):
            # no CUDA toolkit here (CI: numba-cuda without NVVM): numba.cuda would type and
            # lower the whole kernel (seconds for a sweep's) and fail only at NVVM's step,
            # an error swallowed here; the launch is emulated from the text anyway
            if _nvvm_available():
                ptx, entry, hit = _orig(text, signature, cc, *args, **kwargs)
            else:
                import hashlib
                entry = "fake_" + hashlib.sha256((text + signature).encode()).hexdigest()[:16]
                ptx, hit = f"// fake cupy: no NVVM to compile with\n.visible .entry {entry}(", False
            _KERNELS[entry] = (text, signature)
            return ptx, entry, hit
        compile_ptx.__wrapped__ = orig
        mod.compile_ptx = compile_ptx


_NVVM = []


def _nvvm_available():
    """Whether numba.cuda can compile PTX here (NVVM and libdevice installed)."""
    if not _NVVM:
        try:
            from numba import cuda

            def probe(a):
                a[0] = 1
            cuda.compile_ptx(probe, "void(float32[::1])", cc=(9, 0))
            _NVVM.append(True)
        except Exception:
            _NVVM.append(False)
    return _NVVM[0]


class _Cuda:
    def __init__(self):
        self.tid, self.nthreads = 0, 1

    def grid(self, ndim):
        assert ndim == 1
        return self.tid

    def gridsize(self, ndim):
        assert ndim == 1
        return self.nthreads

    class local:                # cuda.local.array: a thread's own small array
        array = staticmethod(lambda shape, dtype: np.zeros(shape, dtype))

    @staticmethod
    def fma(a, b, c):
        """cuda.fma: a * b + c rounded once (float64 lerp's), through exact rationals as
        the simulator's _fma_f64 (kernels/prims.py)."""
        from fractions import Fraction
        import math
        t = type(a) if isinstance(a, np.floating) else np.float64
        a, b, c = float(a), float(b), float(c)
        r = a * b + c
        if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)) or r != r:
            return t(r)
        exact = Fraction(a) * Fraction(b) + Fraction(c)
        if exact == 0:
            return t(r if a == 0 or b == 0 else 0.0)
        try:
            return t(float(exact))
        except OverflowError:
            return t(r)

    @staticmethod
    def jit(*a, **k):
        if a and callable(a[0]) and not k:
            return a[0]
        return lambda f: f


_NP_OF_NB = {"boolean": np.bool_, "uint8": np.uint8, "int8": np.int8, "int16": np.int16,
             "int32": np.int32, "int64": np.int64, "float16": np.float16,
             "float32": np.float32, "float64": np.float64, "uint64": np.uint64}
_PY_OK = {"int64": int, "float64": float, "boolean": bool}


class _CudaMath:
    """`math` as numba.cuda compiles it: libdevice functions that return NaN/inf on
    domain errors and floats (of the argument's width) from floor/ceil/trunc."""
    inf, nan, pi, e = float("inf"), float("nan"), np.pi, np.e

    def __getattr__(self, name):
        import math
        m = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh",
             "acosh": "arccosh", "atanh": "arctanh", "atan2": "arctan2", "pow": "power",
             "fabs": "fabs"}
        if name in ("erf", "erfc", "gamma", "lgamma"):
            f = getattr(math, name)

            def g(x):
                t = type(x) if isinstance(x, np.floating) else np.float64
                try:
                    return t(f(float(x)))
                except (ValueError, OverflowError):
                    # libdevice's lgamma: +inf at the poles and on overflow
                    return t(np.inf if name == "lgamma" else np.nan)
            return g
        uf = getattr(np, m.get(name, name))

        def h(*a):
            with np.errstate(all="ignore"):
                return uf(*a)
        return h


class _LibDevice:
    def __getattr__(self, name):
        base = name[:-1] if name.endswith("f") and hasattr(np, name[:-1]) else name
        uf = getattr(np, base)

        def h(*a):
            with np.errstate(all="ignore"):
                return uf(*a)
        return h


class LaunchError(AssertionError):
    pass


def _aligned(access):
    """A vector access (_ld4/_st4 of kernels.prims) that checks its address's alignment
    as the PTX load/store does (min(16, 4 x itemsize) bytes: else a misaligned-address
    fault on a GPU)."""
    def checked(a, j, *rest):
        align = min(16, 4 * a.itemsize)
        addr = a.ctypes.data + j * a.itemsize
        if addr % align:
            raise LaunchError(f"misaligned vector access: {addr:#x} is not {align}-byte "
                              f"aligned (CUDA_ERROR_MISALIGNED_ADDRESS)")
        return access(a, j, *rest)
    return checked


def signature_of(entry):
    """The numba signature of the kernel compiled under PTX entry name `entry`."""
    return _KERNELS[entry][1]


def emulator_for(entry, ptx):
    install_hooks()
    if entry not in _KERNELS:
        raise RuntimeError(f"fake cupy cannot launch {entry}: its kernel text was not seen "
                           f"by gpujit.kernels.targets.compile_ptx in this process")
    text, signature = _KERNELS[entry]
    cuda = _Cuda()
    ns = {"cuda": cuda, "math": _CudaMath(), "_libdevice": _LibDevice()}
    from gpujit.kernels.prims import emulation_text
    src = (emulation_text(text).replace("from numba import cuda\n", "").replace("import math\n", "")
           .replace("from numba.cuda import libdevice as _libdevice\n", ""))
    if "numba" in src:
        raise RuntimeError(f"fake cupy: kernel text imports more of numba: {entry}")
    exec(compile(src, f"<emulated {entry}>", "exec"), ns)
    for name in ("_ld4", "_st4"):      # the GPU faults on a misaligned vector access
        if name in ns:
            ns[name] = _aligned(ns[name])
    kernel = ns["kernel"]
    params = re.search(r"^def kernel\(([^)]*)\):", text, re.M).group(1)
    params = [p.strip() for p in params.split(",") if p.strip()]
    kinds = [t.strip() for t in signature[signature.index("(") + 1:-1].split(",")]
    assert len(kinds) == len(params), (kinds, params)

    def launch(grid, block, args):
        if len(grid) != 1 or len(block) != 1:
            raise LaunchError(f"grid/block not 1-D: {grid} {block}")
        for g in (grid[0], block[0]):
            if type(g) is not int:
                raise LaunchError(f"grid/block entries must be Python ints, got {type(g)}")
        if not (1 <= grid[0] < 2**31) or not (1 <= block[0] <= 1024):
            raise LaunchError(f"invalid launch configuration grid={grid} block={block}")
        args, vals = list(args), []
        for kind, pname in zip(kinds, params):
            if kind.endswith("[::1]"):
                if len(args) < 7:
                    raise LaunchError("too few kernel arguments")
                fields = args[:7]
                del args[:7]
                for f in fields:
                    if type(f) is not int:
                        raise LaunchError(f"{pname}: ABI field of type {type(f)} "
                                          f"(CuPy would pack {f!r} differently)")
                meminfo, parent, nitems, itemsize, ptr, shape, stride = fields
                dtype = np.dtype(_NP_OF_NB[kind[:-5]])
                if (meminfo, parent) != (0, 0) or itemsize != dtype.itemsize:
                    raise LaunchError(f"{pname}: bad meminfo/parent/itemsize {fields}")
                if shape != nitems or stride != itemsize:
                    raise LaunchError(f"{pname}: bad shape/stride {fields}")
                nbytes = nitems * itemsize
                if nitems and not _inside(ptr, nbytes):
                    raise LaunchError(f"{pname}: [{ptr:#x}, +{nbytes}) is not inside a live "
                                      f"device allocation")
                buf = (ctypes.c_char * max(nbytes, 1)).from_address(ptr)
                vals.append(np.frombuffer(buf, dtype)[:nitems])
            else:
                if not args:
                    raise LaunchError("too few kernel arguments")
                v = args.pop(0)
                want = _NP_OF_NB[kind]
                if type(v) is not want and type(v) is not _PY_OK.get(kind):
                    raise LaunchError(f"{pname}: {kind} parameter given {type(v).__name__} "
                                      f"{v!r} (CuPy packs it with another width)")
                vals.append(want(v))
        if args:
            raise LaunchError(f"{len(args)} extra kernel arguments")
        cuda.nthreads = grid[0] * block[0]
        with np.errstate(all="ignore"):
            for cuda.tid in range(cuda.nthreads):
                kernel(*vals)
    return launch
