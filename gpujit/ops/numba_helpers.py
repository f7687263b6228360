"""numba-compiled eager helpers (an njit function, a vectorize ufunc), cached on disk in
gpujit's cache directory: `gpujit.cachedir.cache_dir()/numba/<source dir>_<hash>/` (so under
$GPUJIT_CACHE_DIR or ~/.cache/gpujit, and `clear_cache(disk=True)` removes them too).

numba's own `cache=True` writes its index and object files (*.nbi, *.nbc) beside the source,
in the package's __pycache__ (or NUMBA_CACHE_DIR / numba's user-wide directory when that is
read-only); gpujit's helpers must not write into the installed package. Here the function
gets numba's FunctionCache with one locator of ours, the same index format and invalidation
(the source file's content hash, the function's line). numba is imported on first use only:
`import gpujit` stays free of it.

Every entry carries a sha256 of its contents (numba's own files do not: a truncated or
corrupt index or data file made numba raise from its unpickler, or load damaged object
code): one whose digest does not match is a miss, compiled again and rewritten. A
vectorize ufunc's loop wrappers (numba builds one per signature in every process,
inlining the scalar function into it: ~50-100 ms each, the scalar function's cache or
not) are cached too, as object code beside the function's entries (`*.nbw`).

    f = njit(py_func)                       # a numba Dispatcher, cached under cache_dir()
    g = inner(py_func)                      # a callee of njit code only (numba_compile)
    u = vectorize(["float64(float64)"], g)  # a NumPy ufunc, its loops cached likewise

Every path of gpujit's that may import numba first imports the package whole (`import
numba` or `from numba import x`) before any submodule (`from numba.core import types`):
threads that first touch numba at once (eager erf, lgamma, i0 and softmax called from 8
threads of a fresh process) otherwise each start numba's circular imports under a
submodule's import lock, and Python's deadlock detection hands out half-initialized
modules (ImportError, _DeadlockError). The package import itself waits for the thread
initializing it.
"""
from __future__ import annotations

import os
import threading

from .. import cachedir as _dirs
from . import numba_compile as _nc
from .numba_compile import _CALL_TYPES, memoized_call_types  # noqa: F401  (re-exported)

__all__ = ["njit", "inner", "memoized_call_types", "vectorize", "lazy_vectorize", "numba_cache_dir", "cache_generated",
           "fast_intrinsic_typing"]

_lock = threading.Lock()
_cache_class: list = []


def numba_cache_dir():
    """Where the helpers' numba caches go: cache_dir()/numba."""
    return _dirs.cache_dir() / "numba"


_digests: dict = {}


def _helper_files_digest(py_file):
    """sha1 over the contents of the files beside py_file that compile numba helpers
    (they import this module): one value per directory and process."""
    import hashlib
    import os
    d = os.path.dirname(os.path.abspath(py_file))
    with _lock:
        if d not in _digests:
            h = hashlib.sha1()
            for name in sorted(os.listdir(d)):
                if not name.endswith(".py"):
                    continue
                try:
                    with open(os.path.join(d, name), "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                if b"numba_helpers" in data:
                    h.update(name.encode() + b"\0" + hashlib.sha1(data).digest())
            _digests[d] = h.hexdigest()
        return _digests[d]


_MAGIC = b"gpujit-numba-cache 1\n"


def _digest(payload: bytes, name) -> bytes:
    # (name: the file's name, where the payload does not say whose entry it is: numba's
    # index and data files, whose names are their key; a valid file of another function
    # copied onto it then reads as damaged, not as this function's code)
    import hashlib
    return hashlib.sha256(payload if name is None else
                          os.path.basename(name).encode() + b"\0" + payload).digest()


def _sealed(payload: bytes, name=None) -> bytes:
    return _MAGIC + _digest(payload, name) + payload


def _unsealed(data: bytes, name=None):
    """The payload of _sealed(payload, name), or None when data is not one (corrupt,
    truncated, another format, another file's)."""
    n = len(_MAGIC)
    if data[:n] != _MAGIC or len(data) < n + 32:
        return None
    payload = data[n + 32:]
    return payload if _digest(payload, name) == data[n:n + 32] else None


def _verified_file_class():
    """numba's IndexDataCacheFile whose index and data files carry a sha256 of their
    contents and name: a damaged file (or another function's) reads as absent (the
    function is compiled again and its entry rewritten) instead of failing in numba's
    unpickler or loading bad code (saving is best effort: GpujitFunctionCache)."""
    import pickle
    from numba.core import caching

    class VerifiedIndexDataCacheFile(caching.IndexDataCacheFile):
        def _load_index(self):
            try:
                with open(self._index_path, "rb") as f:
                    payload = _unsealed(f.read(), self._index_path)
            except OSError:
                return {}
            try:
                version, stamp, overloads = pickle.loads(payload)
            except Exception:           # (None: corrupt; or another format)
                return {}
            if version != self._version or stamp != self._source_stamp \
                    or not isinstance(overloads, dict):
                return {}
            return overloads

        def _save_index(self, overloads):
            data = _sealed(self._dump((self._version, self._source_stamp, overloads)),
                           self._index_path)
            with self._open_for_write(self._index_path) as f:
                f.write(data)

        def _load_data(self, name):
            with open(self._data_path(name), "rb") as f:
                payload = _unsealed(f.read(), self._data_path(name))
            if payload is None:
                return None             # (a miss: compiled again, then saved over it)
            try:
                return pickle.loads(payload)
            except Exception:
                return None

        def _save_data(self, name, data):
            data = _sealed(self._dump(data), self._data_path(name))
            with self._open_for_write(self._data_path(name)) as f:
                f.write(data)

    return VerifiedIndexDataCacheFile


def _function_cache_class():
    with _lock:
        if _cache_class:
            return _cache_class[0]
        import numba  # noqa: F401  (whole first: see the module docstring)
        from numba.core import caching

        class ReadOnlyTolerant:
            def ensure_cache_path(self):
                # numba proves the folder writable (a temporary file in it) or gives the
                # function no cache; a read-only, pre-warmed cache folder is still read
                # (saving then fails and is skipped: GpujitFunctionCache.save_overload)
                try:
                    super().ensure_cache_path()
                except OSError:
                    if not os.path.isdir(self.get_cache_path()):
                        raise

        class GpujitCacheLocator(ReadOnlyTolerant, caching._SourceFileBackedLocatorMixin,
                                 caching._CacheLocator):
            """Caches a function of file F under cache_dir()/numba/<F's directory>_<sha1>."""

            def __init__(self, py_func, py_file):
                self._py_file = py_file
                self._lineno = py_func.__code__.co_firstlineno
                self._cache_path = str(numba_cache_dir() / self.get_suitable_cache_subpath(py_file))

            def get_cache_path(self):
                return self._cache_path

            def get_source_stamp(self):
                # numba's stamp is the file's own (mtime, size): a kernel that inlines a
                # helper of another file (the softmax rows call _aten_erf_kernel's Sleef
                # expf) would stay stale when only that file changes (an upgrade); the
                # stamp also covers every sibling file that compiles numba helpers
                return (super().get_source_stamp(), _helper_files_digest(self._py_file))

        class GpujitTextLocator(ReadOnlyTolerant, caching._CacheLocator):
            """Caches a function that generated text defines (run by exec: no source
            file; the CPU kernels' njit primitives) under cache_dir()/numba/generated,
            its stamp the one its maker gave it (cache_generated)."""

            def __init__(self, py_func, stamp):
                self._stamp = stamp
                self._lineno = py_func.__code__.co_firstlineno
                self._cache_path = str(numba_cache_dir() / "generated")

            def get_cache_path(self):
                return self._cache_path

            def get_source_stamp(self):
                return self._stamp

            def get_disambiguator(self):
                return str(self._lineno)

            @classmethod
            def from_function(cls, py_func, py_file):
                stamp = getattr(py_func, "__gpujit_cache_stamp__", None)
                return cls(py_func, stamp) if isinstance(stamp, str) else None

        class GpujitCacheImpl(caching.CompileResultCacheImpl):
            _locator_classes = [GpujitTextLocator, GpujitCacheLocator]

            def get_filename_base(self, fullname, abiflags):
                # (a generated function's "file" is `<gpujit kernel primitive NAME>`)
                return "_".join(super().get_filename_base(fullname, abiflags).split())

        verified = _verified_file_class()

        class GpujitFunctionCache(caching.FunctionCache):
            _impl_class = GpujitCacheImpl

            def __init__(self, py_func):
                super().__init__(py_func)
                f = self._cache_file
                self._cache_file = verified(f._cache_path, f._index_name[:-len(".nbi")],
                                            f._source_stamp)

            def save_overload(self, sig, data):
                # best effort, as the kernels' entries: a folder that cannot be written (a
                # directory in an entry's place, a full disk, the cache removed and a file
                # put there) is not stored; numba raised out of the op compiling the helper
                try:
                    super().save_overload(sig, data)
                except OSError:
                    pass

        _cache_class.append(GpujitFunctionCache)
        return GpujitFunctionCache


def _function_cache(py_func):
    """numba's FunctionCache of py_func located in gpujit's cache directory, or None when
    no directory can be written or this numba's caching internals differ from the ones
    used here (numba 0.68): the function is then compiled in memory only."""
    try:
        return _function_cache_class()(py_func)
    except (RuntimeError, OSError):      # numba: "no locator available"
        return None
    except (ImportError, AttributeError, TypeError):     # another numba's internals
        return None


def cache_generated(dispatcher, stamp: str) -> bool:
    """Give numba `dispatcher`, whose function generated text defines (no source file),
    gpujit's disk cache, its entries valid while `stamp` is (a str naming all its compiled
    code depends on besides numba and the CPU: the text and the text of what it calls).
    Its module (func.__module__) must be importable (in sys.modules): numba rebuilds a
    loaded function's environment from it. False where no cache can be made (the
    function then compiles in memory only)."""
    try:
        dispatcher.py_func.__gpujit_cache_stamp__ = stamp
    except AttributeError:
        return False
    c = _function_cache(dispatcher.py_func)
    if c is None:
        return False
    dispatcher._cache = c                 # what Dispatcher.enable_caching() sets
    return True


_FAST_TYPING: list = []      # [True] once fast_intrinsic_typing has run (or [False])


def fast_intrinsic_typing() -> bool:
    """Make numba type a call of an `@intrinsic` it has typed before for the same argument
    types from the intrinsic's own cache, without first refreshing the CPU target's
    registries. numba 0.68's _IntrinsicTemplate.generic refreshes them (every registry's
    new registrations, the typing context's too: ~0.25 ms) before it looks in its cache,
    at every call site: a fused kernel's ~12 loads, stores and selects paid ~3 ms of its
    ~80 ms compile for it. A hit returns the signature numba's own path cached (keyed by
    the typing context, the argument types and keywords); a miss takes numba's path,
    which refreshes, types and registers the lowering as before. Once per process;
    False where numba's internals differ from these (nothing is changed then)."""
    with _lock:
        if _FAST_TYPING:
            return _FAST_TYPING[0]
        try:
            import numba  # noqa: F401  (whole first: see the module docstring)
            from numba.core.typing.templates import _IntrinsicTemplate
            numbas = _IntrinsicTemplate.generic
            ok = "_impl_cache" in numbas.__code__.co_names \
                and "_get_target_registry" in numbas.__code__.co_names
        except (ImportError, AttributeError):
            ok = False
        if ok:
            def generic(self, args, kws):
                try:
                    return self._impl_cache[self.context, args, tuple(kws.items())]
                except (KeyError, TypeError):
                    return numbas(self, args, kws)
            generic.__wrapped__ = numbas
            _IntrinsicTemplate.generic = generic
        _FAST_TYPING.append(ok)
        _shared_memo_inline_copy()
        _memo_inline_untyped_ir()
        _fast_config_values()
        return ok


def _fast_config_values() -> bool:
    """Make numba's TargetConfig.values() (a compile's Flags as a dict: what Flags'
    __eq__ and __hash__ compare, and numba compares them at every typing of an @overload
    call, _OverloadFunctionTemplate._get_impl's cache key) build the dict from the
    class's defaults and the values set, not by ~40 property calls: ~3% of a cold
    compile's CPU in cProfile (4.5M getter calls over tests/test_ops_jit_port.py). The
    same dict, keys in the same order: for a class whose every option's property is the
    metaclass's getter of that option (self._values.get(name, option.default)), and
    whose set values are all options (else numba's own loop). False, and nothing
    changed, where numba's internals differ. Called once, by fast_intrinsic_typing."""
    try:
        from numba.core import targetconfig as tc
        numbas = tc.TargetConfig.values
        ok = "options" in numbas.__code__.co_names and "_values" in \
            tc.TargetConfig.__init__.__code__.co_names
    except (ImportError, AttributeError):
        return False
    if not ok:
        return False
    defaults: dict = {}

    def _defaults(cls):
        d = {}
        for name, option in cls.options.items():
            prop = getattr(cls, name, None)
            fget = getattr(prop, "fget", None)
            cells = getattr(fget, "__closure__", None) or ()
            free = getattr(getattr(fget, "__code__", None), "co_freevars", ())
            env = dict(zip(free, (c.cell_contents for c in cells)))
            if not isinstance(prop, property) or fget.__name__ != "getter" or \
                    set(env) != {"name", "option"} or env["name"] != name or \
                    env["option"] is not option:
                return None
            d[name] = option.default
        return d

    def values(self):
        cls = type(self)
        try:
            d = defaults[cls]
        except KeyError:
            d = defaults[cls] = _defaults(cls)
        if d is None:
            return numbas(self)
        out = d.copy()
        out.update(self._values)
        if len(out) != len(d):           # (a value of another config's option)
            return numbas(self)
        return out
    values.__wrapped__ = numbas
    values.__doc__ = numbas.__doc__
    tc.TargetConfig.values = values
    return True


def _memo_inline_untyped_ir() -> bool:
    """Make numba's IR inlining of a function (InlineWorker.inline_function: an njit
    helper's inline="always") build the callee's untyped IR (its bytecode through numba's
    untyped passes, its own inline callees inlined) once per function, typing and target
    contexts, pipeline, flags and locals, instead of at every call site: inline_ir copies
    the IR it is given and never changes it (the softmax kernels inline _row_sum twice,
    _fold three times and Sleef's double-float helpers at several sites: ~1/5 of a cold
    compile). As numba's path, the inlining worker's flags get enable_ssa = False. False,
    and nothing changed, where numba's internals differ."""
    import weakref
    try:
        from numba.core import inline_closurecall as icc
        numbas = icc.InlineWorker.inline_function
        names = numbas.__code__.co_names
        ok = "run_untyped_passes" in names and "inline_ir" in names and \
            "enable_ssa" in icc.InlineWorker.run_untyped_passes.__code__.co_names
    except (ImportError, AttributeError):
        return False
    if not ok:
        return False
    memo = weakref.WeakKeyDictionary()     # {function: {key: its untyped IR}}
    mlock = threading.Lock()

    def inline_function(self, caller_ir, block, i, function, arg_typs=None):
        try:
            self.flags.enable_ssa = False           # (what run_untyped_passes sets)
            key = (id(self.typingctx), id(self.targetctx), self._compiler_pipeline,
                   repr(sorted((k, repr(v)) for k, v in self.flags.values().items())),
                   repr(sorted((self.locals or {}).items())))
            with mlock:
                callee_ir = memo.get(function, {}).get(key)
        except Exception:                # (unhashable, not weak-referable: numba's way)
            return numbas(self, caller_ir, block, i, function, arg_typs=arg_typs)
        if callee_ir is None:
            callee_ir = self.run_untyped_passes(function)
            with mlock:
                memo.setdefault(function, {})[key] = callee_ir
        return self.inline_ir(caller_ir, block, i, callee_ir, function.__code__.co_freevars,
                              arg_typs=arg_typs)
    inline_function.__wrapped__ = numbas
    icc.InlineWorker.inline_function = inline_function
    return True


def _shared_memo_inline_copy() -> bool:
    """Make numba's IR inlining (InlineWorker.inline_ir: an njit function's
    inline="always", an @overload's inline) copy the callee's blocks with one deepcopy memo
    per copy, as numba's own loop canonicalisation copies a dict of blocks
    (untyped_passes: deepcopy(loop_ir.blocks)). numba 0.68's copy_ir deep-copies each block
    with a memo of its own, and every block refers to the function's scope, so each block
    copied the whole scope again (every variable of the function, its redefinitions and
    locations): blocks x variables objects, ~38k per copy of a Sleef kernel's helper and
    two copies per call site, ~1/4 of a cold compile of the softmax / erf kernels. With one
    memo the copied blocks share one copy of the scope, as the callee's blocks share theirs
    (inline_ir asserts they have one scope). Only the deepcopy calls of inline_ir's copy_ir
    change (inline_closurecall calls copy.deepcopy nowhere else); False, and nothing
    changed, where numba's internals differ from these. Called once, by
    fast_intrinsic_typing (under _lock)."""
    import copy
    try:
        from numba.core import inline_closurecall as icc
        from numba.core import ir
        numbas = icc.InlineWorker.inline_ir
        copy_ir = [c for c in numbas.__code__.co_consts
                   if getattr(c, "co_name", None) == "copy_ir"]
        ok = icc.copy is copy and len(copy_ir) == 1 and \
            "deepcopy" in copy_ir[0].co_names and "__deepcopy__" not in vars(ir.Block)
    except (ImportError, AttributeError):
        return False
    if not ok:
        return False
    local = threading.local()

    class _Copy:
        """inline_closurecall's `copy`: copy.deepcopy(block) within an inline_ir call
        shares one memo among the blocks of one scope (one function's IR)."""

        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(x, memo=None):
            memos = getattr(local, "memos", None)
            if memo is None and memos is not None and isinstance(x, ir.Block):
                memo = memos.setdefault(id(x.scope), {})
            return copy.deepcopy(x, memo)

    def inline_ir(self, *args, **kwargs):
        outer = getattr(local, "memos", None)
        local.memos = {}            # (the memos hold their originals: the ids stay theirs)
        try:
            return numbas(self, *args, **kwargs)
        finally:
            local.memos = outer
    inline_ir.__wrapped__ = numbas
    icc.copy = _Copy()
    icc.InlineWorker.inline_ir = inline_ir
    return True


def njit(py_func, **options):
    """numba.njit(py_func, **options), cached on disk under gpujit's cache directory
    (compiled with memoized call typing; argument types unliteral: see inner)."""
    import numba
    fast_intrinsic_typing()
    disp = _nc.memoized_compile(numba.njit(**options)(py_func), True)
    c = _function_cache(py_func)
    if c is not None:
        disp._cache = c                  # what Dispatcher.enable_caching() sets
    return disp


def inner(py_func, **options):
    """A numba dispatcher of py_func for njit callers only (the helpers an entry point
    calls): compiled without numba's CPython and C wrappers (never called from Python;
    ~20% of a small function's compile, lowered, optimized and made into machine code),
    not cached on disk (its code is linked into each caller's cached entry), argument
    types unliteral, call typing memoized. Called from Python it raises TypeError."""
    import numba
    fast_intrinsic_typing()
    options = dict(options, no_cpython_wrapper=True, no_cfunc_wrapper=True)
    cls = _nc.inner_compiler_class()
    if cls is not None:
        options["pipeline_class"] = cls
    disp = _nc.memoized_compile(numba.njit(**options)(py_func), True)
    # (its entry points have no CPython wrapper: a Python call must not reach them)
    disp._insert = lambda *a, **k: None
    disp._compile_for_args = _nc.InnerOnly(py_func.__name__)
    return disp


def vectorize(signatures, py_func, **options):
    """numba.vectorize(signatures, **options)(py_func) for the CPU: a NumPy ufunc whose
    loops are compiled now (or loaded from gpujit's cache directory)."""
    fast_intrinsic_typing()
    try:
        from numba.np.ufunc.ufuncbuilder import UFuncBuilder
    except ImportError:                  # another numba's internals: numba's own, uncached
        import numba
        return numba.vectorize(signatures, **options)(py_func)
    builder = UFuncBuilder(py_func, targetoptions=dict(options))
    c = _function_cache(py_func)
    if c is not None:
        builder.nb_func.cache = c        # what UFuncTargetDispatcher.enable_caching() sets
        # (numba's build_ufunc calls self.build(cres, signature) for each loop)
        builder.build = lambda cres, sig: _ufunc_loop(cres, sig, c)
    for sig in signatures:
        builder.add(sig)
    return builder.build_ufunc()


def _ufunc_loop(cres, signature, cache):
    """numba's _build_element_wise_ufunc_wrapper(cres, signature): (dtype numbers, the
    loop's address, its environment), the loop's object code loaded from cache's
    directory where an entry of this function, signature, source stamp and CPU is there
    (else built by numba, as numba does, and stored)."""
    import pickle
    from numba.core.compiler_lock import global_compiler_lock
    from numba.np.numpy_support import as_dtype
    from numba.np.ufunc import wrappers
    from numba.np.ufunc.ufuncbuilder import _build_element_wise_ufunc_wrapper
    dtypenums = [as_dtype(a).num for a in signature.args]
    dtypenums.append(as_dtype(signature.return_type).num)
    try:
        import hashlib
        import numba
        codegen = cres.target_context.codegen()
        key = repr((numba.__version__, cache._index_key(signature, codegen),
                    cache._impl.locator.get_source_stamp(), cres.fndesc.llvm_func_name))
        base = cache._cache_file._index_name[:-len(".nbi")]
        path = os.path.join(cache._cache_path,
                            f"{base}.{hashlib.sha256(key.encode()).hexdigest()[:24]}.nbw")
        build_wrapper = wrappers.build_ufunc_wrapper
    except Exception:                    # (another numba's internals: numba's own path)
        return _build_element_wise_ufunc_wrapper(cres, signature)
    with global_compiler_lock:
        entry = None
        try:
            with open(path, "rb") as f:
                payload = _unsealed(f.read())
            entry = pickle.loads(payload) if payload is not None else None
        except Exception:                # (absent, unreadable, damaged)
            entry = None
        if isinstance(entry, tuple) and len(entry) == 3 and entry[0] == key:
            try:
                lib = codegen.unserialize_library(entry[2])
                ptr = lib.get_pointer_to_function(entry[1])
                if ptr:
                    _KEEP_LOOPS.append(lib)
                    return dtypenums, ptr, cres.environment
            except Exception:            # (compiled again below)
                pass
        info = build_wrapper(cres.library, cres.target_context, cres.fndesc.llvm_func_name,
                             signature, cres.objectmode, cres)
        info.library.enable_object_caching()
        ptr = info.library.get_pointer_to_function(info.name)
        _KEEP_LOOPS.append(info.library)
        try:
            data = _sealed(pickle.dumps((key, info.name,
                                         info.library.serialize_using_object_code()),
                                        protocol=-1))
            tmp = f"{path}.tmp.{os.getpid()}.{threading.get_ident()}"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except Exception:                # (a read-only cache: not stored)
            try:
                os.unlink(tmp)           # (a directory in the entry's place: no stray tmp)
            except Exception:
                pass
    return dtypenums, ptr, cres.environment


_KEEP_LOOPS: list = []      # the loops' code libraries (the ufuncs call into them)


def lazy_vectorize(namespace, table):
    """A module `__getattr__` (PEP 562) for the ufuncs of `table`, {name: (signatures,
    py_func)}: each is made by vectorize() at its first use and kept in `namespace` (the
    module's globals). numba builds a ufunc's loop wrappers in every process (its disk
    cache keeps the scalar function only, ~0.1 s a ufunc warm, ~0.5 s cold): a module
    imported for one helper (softmax's Sleef exp) no longer builds the others."""
    lock = threading.Lock()
    module = namespace["__name__"]

    def __getattr__(name):
        if name not in table:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        with lock:
            if name not in namespace:
                signatures, py_func = table[name]
                namespace[name] = vectorize(signatures, py_func)
        return namespace[name]
    return __getattr__
