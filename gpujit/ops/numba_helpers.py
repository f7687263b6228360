"""numba-compiled eager helpers (an njit function, a vectorize ufunc), cached on disk in
gpujit's cache directory: `gpujit.cachedir.cache_dir()/numba/<source dir>_<hash>/` (so under
$GPUJIT_CACHE_DIR or ~/.cache/gpujit, and `clear_cache(disk=True)` removes them too).

numba's own `cache=True` writes its index and object files (*.nbi, *.nbc) beside the source,
in the package's __pycache__ (or NUMBA_CACHE_DIR / numba's user-wide directory when that is
read-only); gpujit's helpers must not write into the installed package. Here the function
gets numba's FunctionCache with one locator of ours, the same index format and invalidation
(the source file's content hash, the function's line). numba is imported on first use only:
`import gpujit` stays free of it.

    f = njit(py_func)                       # a numba Dispatcher, cached under cache_dir()
    u = vectorize(["float64(float64)"], g)  # a NumPy ufunc, its loops cached likewise
"""
from __future__ import annotations

import threading

from .. import cachedir as _dirs

__all__ = ["njit", "vectorize", "lazy_vectorize", "numba_cache_dir"]

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


def _function_cache_class():
    with _lock:
        if _cache_class:
            return _cache_class[0]
        from numba.core import caching

        class GpujitCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
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

        class GpujitCacheImpl(caching.CompileResultCacheImpl):
            _locator_classes = [GpujitCacheLocator]

        class GpujitFunctionCache(caching.FunctionCache):
            _impl_class = GpujitCacheImpl

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


def njit(py_func, **options):
    """numba.njit(py_func, **options), cached on disk under gpujit's cache directory."""
    import numba
    disp = numba.njit(**options)(py_func)
    c = _function_cache(py_func)
    if c is not None:
        disp._cache = c                  # what Dispatcher.enable_caching() sets
    return disp


def vectorize(signatures, py_func, **options):
    """numba.vectorize(signatures, **options)(py_func) for the CPU: a NumPy ufunc whose
    loops are compiled now (or loaded from gpujit's cache directory)."""
    try:
        from numba.np.ufunc.ufuncbuilder import UFuncBuilder
    except ImportError:                  # another numba's internals: numba's own, uncached
        import numba
        return numba.vectorize(signatures, **options)(py_func)
    builder = UFuncBuilder(py_func, targetoptions=dict(options))
    c = _function_cache(py_func)
    if c is not None:
        builder.nb_func.cache = c        # what UFuncTargetDispatcher.enable_caching() sets
    for sig in signatures:
        builder.add(sig)
    return builder.build_ufunc()


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
