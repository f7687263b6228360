"""How gpujit compiles numba code cheaply (its eager helpers, gpujit/ops/numba_helpers, and
the CPU kernels, kernels/targets): numba's call typing memoized within a compile
(memoized_call_types); a dispatcher whose compiles run under it, their argument types
made non-literal (memoized_compile); and the compiler of numba_helpers.inner's callees,
whose code libraries are linked into their callers and never JIT-compiled themselves
(inner_compiler_class). numba is imported by these functions only."""
from __future__ import annotations

import threading

_lock = threading.Lock()


# The signatures numba resolved for calls of its function types (operator.sub, <, *,
# float32(...), bool(...)) while compiling CPU kernels and helpers, by (function type,
# typing context, argument types, keywords): numba resolves each call site again, trying
# every template registered for the function (operator.sub has dozens: datetimes, arrays,
# sets...; each failure is recorded with its message) in literal and non-literal form,
# ~1-1.5 ms a call; a kernel's index arithmetic and loop tests are ~15 such calls (~20
# ms, a third of a small kernel's compile). A signature is reused only where numba's
# function type still holds the implementation key it recorded for it.
_CALL_TYPES: dict = {}
_MEMO_DEPTH = [0]           # (nested blocks: the outermost patches and restores)


class memoized_call_types:
    """Within the block (numba's compiler lock held: the kernels' and the helpers'
    compiles), numba's types.Function resolves a call it resolved before for the same
    argument types from _CALL_TYPES. Re-entrant (a helper compiled within a kernel's
    compile, a callee within its caller's)."""

    def __enter__(self):
        try:
            from numba.core.types import functions
            base, exact = functions.BaseFunction, functions.Function
            numbas = base.__dict__["get_call_type"]
        except (ImportError, AttributeError, KeyError):
            self._restore = None
            return self
        if _MEMO_DEPTH[0]:
            _MEMO_DEPTH[0] += 1
            self._restore = ()
            return self

        def get_call_type(fn, context, args, kws):
            if type(fn) is not exact:
                return numbas(fn, context, args, kws)
            try:
                key = (fn, context, tuple(args), tuple(kws.items()))
                sig = _CALL_TYPES.get(key)
            except TypeError:            # (an unhashable keyword value)
                return numbas(fn, context, args, kws)
            if sig is not None and sig.args in fn._impl_keys:
                return sig
            sig = numbas(fn, context, args, kws)
            if sig is not None:
                _CALL_TYPES[key] = sig
            return sig
        base.get_call_type = get_call_type
        _MEMO_DEPTH[0] = 1
        self._restore = (base, numbas)
        return self

    def __exit__(self, *exc):
        if self._restore is not None:
            _MEMO_DEPTH[0] -= 1
            if self._restore:
                base, numbas = self._restore
                base.get_call_type = numbas


def memoized_compile(disp, unliteral):
    """Make disp.compile run under memoized_call_types; unliteral: compile the argument
    types' non-literal forms (a callee called with a constant, `f(x, 4)`, was compiled
    for Literal[int](4) besides int64: a second specialization of the same code, as
    slow to compile; numba's call template then matches the literal to the int64 one)."""
    from numba.core import types
    from numba.core.compiler_lock import global_compiler_lock
    numbas = disp.compile

    def compile(sig):
        if unliteral and isinstance(sig, tuple):
            sig = tuple(types.unliteral(a) for a in sig)
        with global_compiler_lock, memoized_call_types():
            return numbas(sig)
    disp.compile = compile
    return disp


_INNER_COMPILER: list = []      # [numba compiler class of inner()'s helpers], or [None]


def inner_compiler_class():
    """numba's nopython pipeline whose lowering puts an inner() helper's code in a code
    library that is never made into machine code: numba's JIT compiled each callee's
    module (~0.1 s of a small helper's ~0.3 s) though only its callers' modules, which
    link and optimize its LLVM IR again, are ever run. None where numba's internals differ."""
    with _lock:
        if not _INNER_COMPILER:
            try:
                _INNER_COMPILER.append(_make_inner_compiler_class())
            except (ImportError, AttributeError, TypeError):
                _INNER_COMPILER.append(None)
        return _INNER_COMPILER[0]


def _make_inner_compiler_class():
    import numba  # noqa: F401  (whole first: see the module docstring)
    from numba.core import compiler, typed_passes as tp
    from numba.core.codegen import JITCodeLibrary
    from numba.core.compiler_machinery import register_pass
    for name in ("_finalize_dynamic_globals", "_verify_declare_only_symbols",
                 "_finalize_final_module"):
        getattr(JITCodeLibrary, name)

    class InnerCodeLibrary(JITCodeLibrary):
        """A library only linked into others: finalized (its modules linked, optimized
        and verified, as numba's) without being added to the JIT nor compiled."""

        def _finalize_final_module(self):
            self._finalize_dynamic_globals()
            self._verify_declare_only_symbols()
            self._finalized = True

        def get_pointer_to_function(self, name):
            self._ensure_finalized()
            return 0                     # (no symbol of it is executable)

        @property
        def codegen(self):
            return _EnvlessCodegen(self._codegen)

    @register_pass(mutates_CFG=True, analysis_only=False)
    class GpujitInnerLowering(tp.NativeLowering):
        _name = "gpujit_inner_native_lowering"

        def run_pass(self, state):
            if state.library is None:
                lib = state.targetctx.codegen().create_library(state.func_id.func_qualname)
                if type(lib) is JITCodeLibrary:
                    lib.__class__ = InnerCodeLibrary
                lib.enable_object_caching()
                state.library = lib
            return super().run_pass(state)

    class GpujitInnerCompiler(compiler.CompilerBase):
        def define_pipelines(self):
            pm = compiler.DefaultPassBuilder.define_nopython_pipeline(self.state)
            pm.passes = [(GpujitInnerLowering if p is tp.NativeLowering else p, d)
                         for p, d in pm.passes]
            pm.finalize()
            return [pm]
    return GpujitInnerCompiler


class _EnvlessCodegen:
    """An inner() library's codegen: numba's, but set_env (numba points the function's
    environment global at its Environment, by the global's address in the JIT) skips a
    global the JIT has no definition of (the library's own module is never added)."""

    def __init__(self, codegen):
        self._codegen = codegen

    def __getattr__(self, name):
        return getattr(self._codegen, name)

    def set_env(self, env_name, env):
        if self._codegen._engine.get_global_value_address(env_name):
            self._codegen.set_env(env_name, env)


class InnerOnly:
    """An inner() dispatcher called from Python."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args, **kws):
        raise TypeError(f"{self.name} is a numba helper compiled for njit callers only "
                        "(gpujit.ops.numba_helpers.inner)")
