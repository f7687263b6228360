"""`gpujit.compile` (torch.compile's spelling): a function or module compiled with
gpujit's script frontend and fuser, falling back to eager Python where scripting cannot
follow the code (as torch.compile's graph breaks fall back to Python).

PyTorch's compile traces Python bytecode (TorchDynamo) and generates Triton/C++ (Inductor);
gpujit has neither: it scripts the function or module on its first call (TorchScript's
rules: annotations, no **kwargs, no calls into NumPy...) and runs the scripted code, whose
elementwise chains the fuser turns into kernels. Code the script frontend refuses runs
eagerly with one warning naming the reason, or raises with fullgraph=True. `mode`,
`dynamic` and `options` are accepted and change nothing (the fusion strategy,
`gpujit.set_fusion_strategy`, decides how far shapes are specialized).
"""
from __future__ import annotations

import functools
import warnings

from ..nn.module import Module

__all__ = ["compile", "OptimizedModule"]

_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs", "gpujit")


def _script_or_none(obj, fullgraph, what):
    """The scripted obj, or None (and a warning) when the script frontend refuses it."""
    from .script import script
    from ..frontend.script.errors import FrontendError
    try:
        return script(obj)
    except FrontendError as e:
        if fullgraph:
            raise RuntimeError(f"gpujit.compile(fullgraph=True): {what} cannot be compiled "
                               f"as one graph: {e}") from e
        first = str(e).splitlines()[0]
        warnings.warn(f"gpujit.compile: {what} runs eagerly: the script frontend cannot "
                      f"compile it ({first})", UserWarning, stacklevel=4)
        return None


class _CompiledFunction:
    def __init__(self, fn, fullgraph):
        functools.update_wrapper(self, fn)
        self._orig_fn, self._fullgraph = fn, fullgraph
        self._compiled = None         # None: not yet tried; False: eager
        self._warned_args = False

    def __call__(self, *args, **kwargs):
        if self._compiled is None:
            name = getattr(self._orig_fn, "__qualname__", repr(self._orig_fn))
            self._compiled = _script_or_none(self._orig_fn, self._fullgraph, name) or False
        if self._compiled is False:
            return self._orig_fn(*args, **kwargs)
        return _call_or_eager(self, self._compiled, self._orig_fn, args, kwargs)

    def __get__(self, obj, objtype=None):       # a compiled method
        return self if obj is None else functools.partial(self, obj)


def _call_or_eager(owner, compiled, eager, args, kwargs):
    """The compiled call, or, for arguments outside the types it was compiled for (a
    Python int where the scripted signature says Tensor...), the eager call (a warning
    once; fullgraph=True raises)."""
    from ..runtime.arguments import ArgumentTypeError
    try:
        return compiled(*args, **kwargs)
    except ArgumentTypeError as e:
        if owner._fullgraph:
            raise
        if not owner._warned_args:
            owner._warned_args = True
            warnings.warn(f"gpujit.compile: these arguments run eagerly ({e}); annotate the "
                          f"parameters to compile for them", UserWarning, stacklevel=3)
        return eager(*args, **kwargs)


class OptimizedModule(Module):
    """What gpujit.compile(module) returns, as torch's: the original module as `_orig_mod`
    (its parameters and state_dict keys under `_orig_mod.`), calls run the scripted module,
    which shares the parameters; train()/eval() reach both."""

    def __init__(self, mod, fullgraph, eager=None):
        super().__init__()
        self._orig_mod = mod
        # (Module.compile's: the module's own call with its hooks, which calling mod would
        # bring back here)
        object.__setattr__(self, "_eager", eager if eager is not None else mod)
        object.__setattr__(self, "_fullgraph", fullgraph)
        object.__setattr__(self, "_compiled", None)
        object.__setattr__(self, "_warned_args", False)
        object.__setattr__(self, "_pairs", ())      # (original, scripted) submodules
        object.__setattr__(self, "_flags", None)

    def forward(self, *args, **kwargs):
        mod = self._orig_mod
        if self._compiled is None:
            c = _script_or_none(mod, self._fullgraph, type(mod).__name__) or False
            object.__setattr__(self, "_compiled", c)
            if c is not False:
                scripted = dict(c.named_modules())
                object.__setattr__(self, "_pairs", tuple(
                    (m, scripted[name]) for name, m in mod.named_modules() if name in scripted))
        if self._compiled is False:
            return self._eager(*args, **kwargs)
        self._sync_training()
        return _call_or_eager(self, self._compiled, self._eager, args, kwargs)

    def _sync_training(self):
        # the scripted copy has its own `training` flags: mirror the original's
        flags = tuple(m.training for m, _ in self._pairs)
        if flags != self._flags:
            for m, c in self._pairs:
                if c.training != m.training:
                    c.training = m.training
            object.__setattr__(self, "_flags", flags)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """torch.compile(model): model (a function, method or nn.Module) compiled by gpujit's
    script frontend and fuser on its first call; usable as @gpujit.compile or
    @gpujit.compile(fullgraph=True)."""
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode!r}, should be one of: "
                           f"{', '.join(m for m in _MODES if m)}")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if callable(backend) and not isinstance(backend, str):
        raise TypeError("gpujit.compile: custom backends (a callable taking an FX GraphModule) "
                        "are not supported: gpujit compiles with its own script frontend")
    if backend not in _BACKENDS:
        raise ValueError(f"gpujit.compile: unknown backend {backend!r}; expected one of "
                         f"{', '.join(_BACKENDS)}")
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options, disable=disable)
    if not callable(model):
        raise RuntimeError("compile() expected a callable or an nn.Module")
    if disable or backend == "eager":
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, fullgraph)
    return _CompiledFunction(model, fullgraph)


class _CompiledCall:
    """What nn.Module.compile() installs as the module's call (torch's
    `_compiled_call_impl`): the scripted module, run as gpujit.compile(module) runs it,
    while the module has no hooks; with hooks (or once scripting refused it) the module's
    own call, its hooks included."""

    def __init__(self, mod, fullgraph):
        self._eager = mod._call_hooked
        self._opt = OptimizedModule(mod, fullgraph, eager=self._eager)
        self._mod = mod

    def __call__(self, *args, **kwargs):
        from ..nn import _module_hooks as H
        m = self._mod
        if (m._forward_pre_hooks or m._forward_hooks or m._backward_hooks or
                m._backward_pre_hooks or H._global_forward_pre_hooks or
                H._global_forward_hooks or H._global_backward_hooks or
                H._global_backward_pre_hooks or H.call_hook.hook is not None):
            return self._eager(*args, **kwargs)
        return self._opt.forward(*args, **kwargs)


def compile_module_in_place(mod, *args, **kwargs):
    """nn.Module.compile(*args, **kwargs): gpujit.compile's arguments checked as
    gpujit.compile checks them; the module's later calls go through the compiled call."""
    out = compile(mod, *args, **kwargs)
    if out is mod:                       # (disable=True, backend="eager")
        object.__setattr__(mod, "_compiled_call_impl", None)
        return None
    object.__setattr__(mod, "_compiled_call_impl", _CompiledCall(mod, out._fullgraph))
    return None

