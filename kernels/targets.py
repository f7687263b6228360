"""Compiling generated kernel modules, per target, through the disk cache.

- cpu: numba compiles the module's `kernel` (a cfunc); its object code for this host CPU is
  stored under `<cache>/cpu/<sha>.json` (sha of the module text, llvmlite's version, the
  host CPU, gpujit's and numba's versions) and loaded with llvmlite, so a warm process never imports
  numba (kernels/native.py).
- cuda: `numba.cuda.compile_ptx` (never the dispatcher) to PTX, stored with its entry name
  (read from the PTX: numba's mangled names carry a process counter) under
  `<cache>/cuda/<sha>.json`, keyed by the module text, signature, compute capability,
  versions and `PTX_ROUNDING`; loaded with `cupy.cuda.function.Module` (a driver older
  than NVVM's PTX ISA refuses it: then assembled to a cubin by nvJitLink, `load_cuda`).
  Every float add/sub/mul of a CUDA kernel rounds on its own, as eager's one kernel per
  op does (and as the CPU kernels, which carry no fast-math flag): with its default
  `-fma=1` NVVM contracts `a * b + c` into one `fma.rn` itself (x * 2 - x of a float32 x
  near its largest value then gives x where eager's rounded x * 2 overflows to inf), and
  ptxas may contract the `add/sub/mul.f32` it leaves without a rounding modifier (PTX
  ISA: only an explicit `.rn` is never fused). numba-cuda 0.30 has no public option for
  NVVM's `-fma=0`, so `_compile_ptx_per_op` sets it on its way to NVVM
  (`numba.cuda.cudadrv.nvvm.compile_ir`, wrapped while numba's compiler lock is held);
  NVVM then writes `.rn` on each of them. Then `round_per_op` adds `.rn` to any
  `add/sub/mul` on .f16/.f16x2/.bf16/.bf16x2/.f32/.f64 still without a rounding modifier
  (none where the option got through; it is the safe fallback if numba-cuda changes that
  path, stopping ptxas's contraction though not NVVM's). Explicit FMAs stay `fma.rn`:
  those of libdevice's exp/tanh/erf/log... (whose own few plain mul/add sequences round
  per op now too: float64 log, log1p, pow and lgamma have one to three FMAs fewer than
  with `-fma=1`) and any `cuda.fma` a kernel calls.
- sim: the same module under numba's CUDA simulator (`NUMBA_ENABLE_CUDASIM=1` must be set
  before numba is imported); nothing to cache.
"""
from __future__ import annotations

import linecache
import os
import re
import sys
import threading
import types
import warnings

from . import cache as _cache
from .spec import KernelBuildError

__all__ = ["compile_cpu", "compile_ptx", "load_cuda", "compile_sim", "versions", "round_per_op",
           "PTX_ROUNDING", "ptx_to_cubin", "ptx_isa"]

_ENTRY = re.compile(r"\.visible\s+\.entry\s+([\w$]+)\s*\(")
_VERSIONS = None


def _dist_version(dist: str) -> str:
    """An installed distribution's version, from its `.dist-info` folder name on sys.path
    (importing importlib.metadata costs ~10 ms of a warm first call; it is the fallback)."""
    prefix = dist.replace("-", "_").lower() + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and name.lower().startswith(prefix):
                return name[len(prefix):-len(".dist-info")]
    import importlib.metadata
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def versions() -> str:
    """Library versions that key the disk cache."""
    global _VERSIONS
    if _VERSIONS is None:         # (without importing numba: a PTX disk hit never needs it)
        import gpujit
        _VERSIONS = (f"gpujit {gpujit.__version__}; numba {_dist_version('numba')}; "
                     f"numba-cuda {_dist_version('numba-cuda')}; "
                     f"llvmlite {_dist_version('llvmlite')}; python {sys.version_info[:2]}")
    return _VERSIONS


def _exec_module(text, name):
    filename = f"<gpujit kernel {name}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    ns = {"__name__": name}
    exec(compile(text, filename, "exec"), ns)
    return ns


# ------------------------------------------------------------------------------ cpu

def compile_cpu(text: str):
    """(ctypes function of the module's `kernel`, loaded from the disk cache?, the cache
    entry's path). Where `text` is an emit.ModuleText, its prelude pieces are defined once
    per process (_shared_namespace) and only the rest of the module runs per kernel."""
    from . import native
    if not native.OFFSET_OK:
        raise KernelBuildError("this Python's ndarray objects do not keep their data pointer "
                               "where gpujit's CPU kernels read it; CPU fusion is off")
    # (abi_key initialises llvmlite here, which registers the C runtime's half-conversion
    # helpers that LLVM may call: numba's linker below aborts on a symbol it cannot find)
    key = _cache.sha256("\n".join([text, native.abi_key(), _gpujit_version(),
                                    _numba_version()]))[:40]
    path = _cache.cache_dir() / "cpu" / f"{key}.json"
    loaded = _cache.loaded_objects.get(str(path))
    if loaded is not None:            # (this process loaded or compiled the same text)
        return loaded, True, path
    # kernels of different specs often share a text: threads building them at once
    # compile it once, the others wait and load it (numba compiled it per thread)
    with _cache.key_lock(("cpu", key)):
        return _compile_cpu(text, key, path, native)


def _compile_cpu(text, key, path, native):
    loaded = _cache.loaded_objects.get(str(path))
    if loaded is not None:            # (another thread compiled it meanwhile)
        return loaded, True, path
    entry = _cache.read_verified_json(path)
    if entry is not None:
        try:
            fn = native.load(entry)
        except native.NativeLoadError:
            pass                      # compiled again below (numba registers its symbols)
        else:
            _cache.loaded_objects[str(path)] = fn
            return fn, True, path
    # (NumPy's inner loops a staged kernel calls: numba's linker must find them too)
    missing = native.resolve_symbols(sorted(set(re.findall(
        rf"\b{native.NUMPY_LOOP_PREFIX}\w+", text))))
    if missing:
        raise KernelBuildError(f"the kernel calls NumPy loops this process lacks: {missing}")
    from gpujit.ops.numba_helpers import fast_intrinsic_typing
    fast_intrinsic_typing()
    try:                              # @cfunc with a signature: compiled when defined
        prelude = getattr(text, "prelude", ())
        ns = _shared_namespace(prelude) if prelude else None
        if ns is None:
            cf = _exec_module(text, f"gpujit_kernel_{key}")["kernel"]
        else:
            cf = _exec_body(text, text.body_at, f"gpujit_kernel_{key}", ns)["kernel"]
    except Exception as e:
        raise KernelBuildError(f"numba could not compile the generated kernel:\n{e}\n"
                               f"{text}") from e
    entry = native.build_entry(cf)
    if entry is None:                 # no ELF objects here: numba's own function
        _KEEP.append(cf)
        return native.kernel_function(_c_params(cf), cf.address), False, None
    if not _cache.write_verified_json(path, entry):
        path = None                   # not cached on disk (read-only cache directory)
    try:
        fn = native.load(entry)
    except native.NativeLoadError as e:
        raise KernelBuildError(f"the compiled CPU kernel cannot be loaded: {e}") from e
    if path is not None:
        _cache.loaded_objects[str(path)] = fn
    return fn, False, path


_KEEP = []         # numba cfuncs whose code is called directly (non-ELF platforms)

# The prelude pieces of CPU kernel modules (imports, dtype aliases, primitives: njit
# helpers and intrinsics), each defined once per process in one namespace that every
# kernel module starts from: numba then types and compiles an njit helper once per
# signature and process, and types each intrinsic once, where a module of its own made
# new function objects that every kernel compiled again (an int32 group's floor
# division and select helpers: ~60% of its compile).
# (the namespace is a module's, in sys.modules once used: numba rebuilds the environment
# of a helper loaded from the disk cache by importing its function's module)
_SHARED_MODULE = "gpujit.kernels._shared_prims"
_shared_module = types.ModuleType(_SHARED_MODULE, "The CPU kernels' shared prelude "
                                  "(kernels/targets.py).")
_shared: dict = _shared_module.__dict__
_shared_parts: dict = {}    # piece key -> its text
_shared_lock = threading.Lock()


def _shared_namespace(parts):
    """A copy of the shared namespace once it holds every piece of `parts` ((key, text)
    pairs, prims.prelude_parts); None when a key is already defined by another text
    (then the module is run on its own)."""
    with _shared_lock:
        for key, text in parts:
            have = _shared_parts.get(key)
            if have is None:
                sys.modules.setdefault(_SHARED_MODULE, _shared_module)
                name = f"<gpujit kernel primitive {key}>"
                linecache.cache[name] = (len(text), None, text.splitlines(True), name)
                exec(compile(text, name, "exec"), _shared)
                _shared_parts[key] = text
                _cache_helper(key, name)
            elif have != text:
                return None
        ns = dict(_shared)
    ns["cfunc"] = _ir_cfunc if _IR_CFUNC_OK[0] else ns.get("cfunc")
    return ns


def _cache_helper(key, filename):
    """Where shared piece `key` (defined from `filename`) is an njit helper, give it
    gpujit's disk cache of numba helpers, stamped with the text of the piece and of every
    piece it needs (prims.prelude_parts): a process compiling a kernel that calls it
    loads it instead of typing, lowering and compiling it again (~0.1 s a helper)."""
    obj = _shared.get(key)
    py_func = getattr(obj, "py_func", None)
    if py_func is None or getattr(py_func, "__code__", None) is None \
            or py_func.__code__.co_filename != filename or not hasattr(obj, "_cache"):
        return
    from . import prims
    from gpujit.ops import numba_helpers
    try:
        texts = prims.prelude_parts("cpu", [key])
    except KeyError:
        return
    stamp = _cache.sha256("\n".join([_gpujit_version()] + [t for _, t in texts]))
    numba_helpers.cache_generated(obj, stamp)


def _exec_body(text, body_at, name, ns):
    """Run the part of module `text` after its prelude (from body_at) in namespace `ns`,
    with its lines numbered as in the whole text (tracebacks show the module's lines)."""
    filename = f"<gpujit kernel {name}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    ns["__name__"] = name
    body = "\n" * text.count("\n", 0, body_at) + text[body_at:]
    exec(compile(body, filename, "exec"), ns)
    return ns


_IR_CFUNC_OK = [True]       # numba's internals are the ones _IRCFunc uses


def _ir_cfunc(sig, **options):
    """numba.cfunc(sig, **options) that stops at optimized LLVM IR (_IRCFunc)."""
    def wrap(pyfunc):
        try:
            return _IRCFunc(pyfunc, sig, options)
        except _NumbaInternals:
            _IR_CFUNC_OK[0] = False
            from numba import cfunc
            return cfunc(sig, **options)(pyfunc)
    return wrap


def _layout_only(self, ll_module):
    """numba's CPUCodeLibrary._optimize_functions without its passes."""
    ll_module.data_layout = self._codegen._data_layout


class _NumbaInternals(Exception):
    """numba's internals differ from the ones _IRCFunc was written against."""


class _IRCFunc:
    """A numba cfunc compiled as far as its optimized LLVM IR (native.build_entry turns it
    into gpujit's object file), without the machine code numba's JIT would generate for it
    in this process (never called: the kernel is the loaded object; ~15% of a group's
    compile), and optimized once (below). `address` finishes numba's JIT compile where it
    is needed (non-ELF hosts)."""

    def __init__(self, pyfunc, sig, options):
        try:
            from numba.core import sigutils
            from numba.core.ccallback import CFunc
            from numba.core.compiler_lock import global_compiler_lock
            args, ret = sigutils.normalize_signature(sig)
            pipeline = _kernel_pipeline(pyfunc)
            cf = CFunc(pyfunc, (args, ret), {}, options, **pipeline)
            self._wrapped = not _ELF_HOST
            if not self._wrapped:
                _skip_cfunc_wrapper(cf._compiler)
            compile_uncached = cf._compile_uncached
            if pipeline:
                compile_uncached = _or_numbas_pipeline(
                    compile_uncached, lambda: CFunc(pyfunc, (args, ret), {}, options))
        except (ImportError, AttributeError, TypeError) as e:
            raise _NumbaInternals(e) from e
        self._cf, self._sig, self._options = cf, cf._sig, options
        try:
            from numba.core.codegen import CPUCodeLibrary
            fn_passes = CPUCodeLibrary._optimize_functions
        except (ImportError, AttributeError) as e:
            raise _NumbaInternals(e) from e
        with global_compiler_lock:
            # numba optimizes a function three times: its function passes when lowered,
            # then the final module's "cheap" pipeline (to prune NRT reference counts,
            # which kernels have none of) and its full O3 pipeline. A kernel gets the full
            # pipeline only (the same loops and vector code; ~25% of a group's compile).
            # (the class's method, swapped while numba's compiler lock is held: every numba
            # compile takes it; the helpers a kernel compiles meanwhile are optimized in
            # the kernel's module, which links them)
            CPUCodeLibrary._optimize_functions = _layout_only
            try:
                with _memoized_call_types():
                    cres = compile_uncached()     # typed and lowered; not finalized
            finally:
                CPUCodeLibrary._optimize_functions = fn_passes
            lib = cres.library
            try:
                final, linking = lib._final_module, lib._linking_libraries
                for_linking = type(lib)._get_module_for_linking
                mpm, mpb = _kernel_pass_manager(lib._codegen)
            except (AttributeError, ImportError) as e:
                raise _NumbaInternals(e) from e
            # numba's CPUCodeLibrary.finalize, up to the JIT's codegen (_finalize_final_module)
            seen = set()
            for other in linking:
                if other not in seen:
                    seen.add(other)
                    final.link_in(for_linking(other), preserve=True)
            mpm.run(final, mpb)
        # (native.build_entry adds its entry point to this module and emits its object
        # from it, verified once there: no IR text printed and parsed again, ~5% of a
        # kernel's compile; where numba made its C wrapper, it takes the text, below)
        self.llvm_module = None if self._wrapped else final
        self._ir = None
        self._lib = lib
        self.native_name = cres.fndesc.llvm_cfunc_wrapper_name
        self._address = None

    def inspect_llvm(self):
        if self._ir is None:
            self._ir = str(self._lib._final_module)
        return self._ir

    @property
    def address(self):
        if self._address is None:
            from numba.core.compiler_lock import global_compiler_lock
            if not self._wrapped:     # (no C wrapper was made: numba's own cfunc's)
                from numba import cfunc
                cf = cfunc(self._sig, **self._options)(self._cf._pyfunc)
                _KEEP.append(cf)
                self._address = cf.address
                return self._address
            with global_compiler_lock:
                self._lib._finalize_final_module()
                self._address = self._lib.get_pointer_to_function(self.native_name)
        return self._address


def _kernel_pass_manager(codegen):
    """numba's module pass manager (its O3 pipeline with loop vectorization, as
    codegen._module_pass_manager() builds it) without loop interleaving: the vectorizer
    then emits one 8-wide (AVX2 float32) body per loop instead of four interleaved ones
    plus an epilogue vector loop, ~25% less IR for LLVM to optimize and to generate code
    for (~10 ms of a kernel's ~60 ms in LLVM). The kernels' loops run as fast (measured
    on 1e3..1e6 elements: chains of exp / tanh / sigmoid / sin, int32, float64, where:
    all within noise), the out-of-order core overlaps their independent iterations."""
    import llvmlite.binding as ll
    from numba.core import config
    pto = ll.create_pipeline_tuning_options()
    pto.speed_level = int(config.OPT)
    pto.loop_vectorization = bool(config.LOOP_VECTORIZE)
    pto.slp_vectorization = bool(config.SLP_VECTORIZE)
    pto.loop_interleaving = False
    # nor runtime unrolling: the kernels' `while i < stop` loops (kernels/emit.py) have a
    # trip count LLVM computes, so it unrolled their scalar remainder (< 8 elements) 8
    # times (+11% object code, +20% code generation); the vector body is not unrolled
    pto.loop_unrolling = False
    pb = ll.create_pass_builder(codegen._tm, pto)
    mpm = pb.getModulePassManager()
    if config.LLVM_REFPRUNE_PASS:
        from numba.core.codegen import _parse_refprune_flags
        mpm.add_refprune_pass(_parse_refprune_flags())
    return mpm, pb


# Where objects are ELF (native.build_entry makes gpujit's own entry point in them and
# drops numba's `cfunc.*` C wrapper), the kernel is lowered without that wrapper: numba
# built it (arguments, the exception slot, the GIL around an error) in a module of its
# own, printed it to text, parsed and linked it, and optimized it with the kernel (~6%
# of a kernel's compile)
_ELF_HOST = sys.platform.startswith("linux")


def _skip_cfunc_wrapper(compiler):
    """Make numba's cfunc compiler `compiler` lower no C wrapper (flags.no_cfunc_wrapper)."""
    customize = compiler._customize_flags

    def flags_without_wrapper(flags):
        flags = customize(flags)
        flags.no_cfunc_wrapper = True
        return flags
    compiler._customize_flags = flags_without_wrapper


# (numba's call typing memoized within a kernel's compile: gpujit/ops/numba_compile, whose
# helpers compile with it too; the names here for the kernels' code and tests)
from gpujit.ops.numba_compile import _CALL_TYPES, memoized_call_types as _memoized_call_types  # noqa: E402,F401,E501


_KERNEL_COMPILER: list = []     # [numba compiler class of kernels], or [None]


def _kernel_pipeline(pyfunc):
    """{"pipeline_class": the kernels' numba compiler} for a generated kernel function, or
    {} (numba's own pipeline) where this numba's passes differ from the ones named here or
    the kernel calls a function numba inlines at the IR level (InlineInlinables)."""
    if not _KERNEL_COMPILER:
        try:
            _KERNEL_COMPILER.append(_kernel_compiler_class())
        except (ImportError, AttributeError, TypeError):
            _KERNEL_COMPILER.append(None)
    cls = _KERNEL_COMPILER[0]
    if cls is None:
        return {}
    g = getattr(pyfunc, "__globals__", {})
    for name in pyfunc.__code__.co_names:
        opts = getattr(g.get(name), "targetoptions", None)
        if isinstance(opts, dict) and opts.get("inline", "never") != "never":
            return {}
    return {"pipeline_class": cls}


def _kernel_compiler_class():
    """numba's nopython pipeline less the passes a generated kernel has nothing for: it
    is straight-line code and counted `while` loops calling primitives (intrinsics and
    njit helpers) with no closures, `with` blocks, literal dispatch, raises, array
    expressions nor IR-inlined callees. numba's other passes found nothing to change in
    it, but each walked the IR and, where it may change the CFG, had the pass manager
    rebuild the IR's definitions and CFG after it (~10-15% of a kernel's compile).
    Also without numba's SSA reconstruction: the kernel's code (kernels/emit.py) names
    each value once, and what it assigns again (a pointer argument to its data pointer,
    the chunk and row counters, `zd`) keeps one type, so typing gives every variable the
    type it gets with SSA (and then no phi nodes for PreLowerStripPhis to strip, nor its
    IR post-processing again); and without the Dels that IRLegalization inserts where no
    variable holds a reference for them to release (GpujitLegalization). The machine
    code is the same (compared on the compile_time benchmark's and the kernel tests'
    groups); ~10% of a compile."""
    from numba.core import compiler, typed_passes as tp, untyped_passes as up
    from numba.core.compiler_machinery import PassManager, register_pass

    @register_pass(mutates_CFG=False, analysis_only=True)
    class GpujitLegalization(tp.IRLegalization):
        """numba's IRLegalization (which inserts a Del after each variable's last use,
        where lowering decrements its reference count) only where a variable's type
        holds an NRT reference; elsewhere the Dels lower to stores nothing reads."""
        _name = "gpujit_kernel_ir_legalization"

        def run_pass(self, state):
            dmm = state.targetctx.data_model_manager
            try:
                plain = not any(dmm[t].contains_nrt_meminfo() for t in state.typemap.values())
            except Exception:             # (a type without a data model: numba's way)
                plain = False
            if plain:
                return False
            return super().run_pass(state)

    class GpujitKernelCompiler(compiler.CompilerBase):
        def define_pipelines(self):
            pm = PassManager("gpujit_kernel")
            pm.add_pass(up.TranslateByteCode, "analyzing bytecode")
            pm.add_pass(up.FixupArgs, "fix up args")
            pm.add_pass(up.IRProcessing, "processing IR")
            pm.add_pass(tp.NopythonTypeInference, "nopython frontend")
            pm.add_pass(GpujitLegalization, "ensure IR is legal prior to lowering")
            pm.add_pass(tp.AnnotateTypes, "annotate types")
            pm.add_pass(tp.NativeLowering, "native lowering")
            pm.add_pass(tp.NoPythonBackend, "nopython mode backend")
            pm.finalize()
            return [pm]
    return GpujitKernelCompiler


def _or_numbas_pipeline(compile_uncached, numbas_cfunc):
    """compile_uncached(), or where the kernels' pipeline fails, numba's own pipeline's
    compile (whose error is the one raised where that fails too)."""
    def compile():
        try:
            return compile_uncached()
        except Exception as e:
            PIPELINE_FALLBACKS.append(f"{type(e).__name__}: {e}"[:500])
            return numbas_cfunc()._compile_uncached()
    return compile


PIPELINE_FALLBACKS: list = []   # why a kernel went to numba's own pipeline (its error)


def _c_params(cf):
    names = {"void*": "ptr", "int64": "i64", "float64": "double", "bool": "i8"}
    return [names[str(t)] for t in cf._sig.args]


def _gpujit_version():
    import gpujit
    return f"gpujit {gpujit.__version__}"


_NUMBA_VERSION: list = []


def _numba_version():
    """numba's version, in a CPU entry's key: the object holds code numba lowered (its
    implementations of math functions, the njit helpers linked in), which an upgrade of
    numba may change or fix (read without importing numba, as versions())."""
    if not _NUMBA_VERSION:
        _NUMBA_VERSION.append(f"numba {_dist_version('numba')}")
    return _NUMBA_VERSION[0]


# ------------------------------------------------------------------------------ cuda

def compile_ptx(text: str, signature: str, cc: tuple, fresh: bool = False):
    """(ptx, entry name, loaded from the disk cache?) for compute capability cc; fresh:
    compiled even where the disk cache has it (the entry is written again)."""
    key = _cache.sha256("\n".join([text, signature, repr(tuple(cc)), versions(),
                                    PTX_ROUNDING]))[:40]
    path = _cache.cache_dir() / "cuda" / f"{key}.json"
    with _cache.key_lock(("cuda", key)):     # (one NVVM compile of a text, as compile_cpu)
        return _compile_ptx(text, signature, cc, fresh, key, path)


def _compile_ptx(text, signature, cc, fresh, key, path):
    entry = None if fresh else _cache.read_verified_json(path)
    # (an entry whose checksum matches but which is not one PTX module with its entry
    # point, as this function writes, is compiled again rather than loaded)
    if isinstance(entry, dict) and isinstance(entry.get("ptx"), str) \
            and isinstance(entry.get("entry"), str) \
            and _ENTRY.findall(entry["ptx"]) == [entry["entry"]]:
        return entry["ptx"], entry["entry"], True
    from numba import cuda
    if cuda.compile_ptx is None:
        raise KernelBuildError("numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1): it "
                               "cannot compile PTX")
    ns = _exec_module(text, f"gpujit_ptx_{key}")
    try:
        ptx = _compile_ptx_per_op(cuda, ns["kernel"], signature, tuple(cc))
    except Exception as e:
        raise KernelBuildError(f"numba.cuda could not compile the generated kernel:\n{e}\n"
                               f"{text}") from e
    names = _ENTRY.findall(ptx)
    if len(names) != 1:
        raise KernelBuildError(f"expected one .entry in the PTX, found {names}")
    _cache.write_verified_json(path, {"ptx": ptx, "entry": names[0]})
    return ptx, names[0], False


# (in the cache key: PTX compiled before kernels rounded per op may hold contracted FMAs)
PTX_ROUNDING = "per-op rounding: nvvm -fma=0, .rn on float add/sub/mul"

# an add/sub/mul on a float type with no rounding modifier: `add{.rnd}{.ftz}{.sat}.f32`,
# `mul{.rnd}.f64`, `add{.rnd}{.ftz}{.sat}.f16(x2)`, `add{.rnd}.bf16(x2)` (PTX ISA); never
# `mul.wide`/`mul.lo` (integers), `add.cc` nor `atom/red.add.f32`: the lookbehind (after
# the 3 letters, which lets re scan for them fast: ~8 ns a byte, 0.1 ms for a 10 KB PTX)
# keeps to an opcode
_UNROUNDED = re.compile(r"(add|sub|mul)(?<![\w.%$]...)(?=(?:\.ftz)?(?:\.sat)?"
                        r"\.(?:f16x2|f16|bf16x2|bf16|f32|f64)\b)")


def round_per_op(ptx: str) -> str:
    """The PTX with `.rn` on every float add/sub/mul that has no rounding modifier (the
    same rounding, and ptxas never contracts an explicitly rounded op into an FMA)."""
    return _UNROUNDED.sub(r"\1.rn", ptx)


def _compile_ptx_per_op(cuda, pyfunc, signature, cc):
    """numba.cuda.compile_ptx's PTX, compiled with NVVM's `-fma=0` where numba-cuda's path
    to NVVM is the one known (0.30: every compile reaches `nvvm.compile_ir(ir, **options)`),
    and with `.rn` on any float add/sub/mul left without a rounding modifier."""
    try:
        from numba.cuda.cudadrv import nvvm
        from numba.cuda import compiler as _compiler
        lock = _compiler.global_compiler_lock
        original = nvvm.compile_ir
    except (ImportError, AttributeError):
        nvvm = None
    if nvvm is None or not callable(original):
        ptx, _ = cuda.compile_ptx(pyfunc, signature, cc=cc)
        return round_per_op(ptx)

    def compile_ir(llvmir, **options):
        options["fma"] = False        # NVVM's -fma=0: no contraction of fmul/fadd
        return original(llvmir, **options)

    with lock:                        # (reentrant; compile_ptx takes it too)
        nvvm.compile_ir = compile_ir
        try:
            ptx, _ = cuda.compile_ptx(pyfunc, signature, cc=cc)
        finally:
            nvvm.compile_ir = original
    return round_per_op(ptx)


def device_info(index):
    """(compute capability, SM count) of CUDA device `index` (CuPy)."""
    import cupy
    dev = cupy.cuda.Device(index)
    cc = dev.compute_capability
    return (int(cc[:-1]), int(cc[-1])), dev.attributes["MultiProcessorCount"]


_PTX_REFUSED = []     # the driver refused NVVM's PTX ISA once: later loads go to cubin


def load_cuda(ptx: str, entry: str, index, cc=None):
    """(CuPy module, function) of the PTX, loaded on device `index` (compute capability
    cc). The driver JIT-compiles PTX only up to the ISA of its own CUDA version: PTX of a
    newer toolkit's NVVM (`pip install numba-cuda[cu13]` brings the newest 13.x: ISA 9.5
    from CUDA 13.5) fails to load on an older 13.x driver with
    CUDA_ERROR_UNSUPPORTED_PTX_VERSION. Then the PTX is assembled to a cubin by that
    toolkit's nvJitLink (as numba-cuda's own linker does; a cubin of a newer minor
    toolkit loads on an older driver of the same major version) and the cubin is loaded."""
    import cupy
    with cupy.cuda.Device(index):
        module = cupy.cuda.function.Module()
        if not _PTX_REFUSED:
            try:
                module.load(ptx.encode())
                return module, module.get_function(entry)
            except Exception as e:
                if "UNSUPPORTED_PTX_VERSION" not in str(e):
                    raise
                _PTX_REFUSED.append(str(e))
            module = cupy.cuda.function.Module()
        if cc is None:
            cc = device_info(index)[0]
        module.load(ptx_to_cubin(ptx, cc))
        return module, module.get_function(entry)


_PTX_VERSION = re.compile(r"^\.version\s+(\d+)\.(\d+)", re.M)


def ptx_isa(ptx: str):
    """The PTX ISA version (major, minor) of `.version` in the PTX text, or None."""
    m = _PTX_VERSION.search(ptx)
    return (int(m.group(1)), int(m.group(2))) if m else None


def ptx_to_cubin(ptx: str, cc) -> bytes:
    """The PTX assembled for sm_<cc> by nvJitLink (an ELF cubin), without a GPU."""
    try:
        from cuda.bindings import nvjitlink
    except ImportError as e:
        why = (_PTX_REFUSED[0] if _PTX_REFUSED else "")
        raise KernelBuildError(
            f"the GPU driver cannot load PTX ISA {ptx_isa(ptx)} ({why}) and nvJitLink, "
            f"which would assemble it, is missing: update the NVIDIA driver, or install "
            f"the toolkit of the driver's CUDA version (pip install 'cuda-toolkit[nvvm,"
            f"nvjitlink]==13.<minor>.*'); fused groups run unfused until then") from e
    arch = "sm_" + "".join(str(c) for c in cc)
    data = ptx.encode()
    handle = nvjitlink.create(1, [f"-arch={arch}"])
    try:
        try:
            nvjitlink.add_data(handle, nvjitlink.InputType.PTX, data, len(data), "kernel.ptx")
            nvjitlink.complete(handle)
        except Exception as e:
            size = nvjitlink.get_error_log_size(handle)
            log = bytearray(size)
            if size:
                nvjitlink.get_error_log(handle, log)
            raise KernelBuildError(f"nvJitLink could not assemble the kernel's PTX for "
                                   f"{arch}: {e}\n{bytes(log).decode(errors='replace')}") from e
        cubin = bytearray(nvjitlink.get_linked_cubin_size(handle))
        nvjitlink.get_linked_cubin(handle, cubin)
    finally:
        nvjitlink.destroy(handle)
    return bytes(cubin)


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
