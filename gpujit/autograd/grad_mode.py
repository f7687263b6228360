"""Grad mode: whether op calls record a backward graph. Context managers that are also
decorators, as in torch.autograd.grad_mode."""
from __future__ import annotations

import functools
import inspect
import sys
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled"]


class _GradState(threading.local):
    """Per thread, as in PyTorch (a backward in one thread, which runs with grad mode
    off, must not stop another thread's forward from recording); each thread starts
    with grad mode on. (No __slots__: slots of a threading.local are shared.)"""

    def __init__(self):
        self.enabled = True
        self.inference = False
        # saved_tensors_hooks' stack: (pack_hook, unpack_hook), or (None, message) where
        # disable_saved_tensors_hooks forbids saving; the last entry applies
        self.saved_hooks = []


state = _GradState()


def is_grad_enabled() -> bool:
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


# gpujit.overrides' count of TorchFunctionModes pushed and its _mode_on (set there)
_pushed, _mode_on = [0], [None]


def _set_grad_enabled(mode):
    """torch._C._set_grad_enabled: what no_grad, enable_grad and set_grad_enabled call on
    entry and exit, as PyTorch's (a TorchFunctionMode sees those calls)."""
    if _pushed[0] and _mode_on[0]():
        from ..overrides import handle_torch_function
        return handle_torch_function(_set_grad_enabled, (), mode)
    state.enabled = bool(mode)


class _Mode:
    """Base: enter sets the mode, exit restores it; used as @decorator a fresh instance
    wraps each call."""

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(self._clone, fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._clone():
                return fn(*args, **kwargs)
        return wrapper

    def _clone(self):
        return type(self)()

    def clone(self):
        """A fresh context manager like this one (PyTorch's _DecoratorContextManager.clone)."""
        return self._clone()

    def __exit__(self, *exc):
        state.enabled, state.inference = self._prev
        return False


def _wrap_generator(ctx_factory, fn):
    """A decorated generator function, as PyTorch's context_decorator makes it: the mode
    holds while the generator's body runs (each step, its close and throw), not while its
    caller runs between steps."""
    @functools.wraps(fn)
    def generator_context(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with ctx_factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with ctx_factory():
                        gen.close()
                    raise
                except BaseException:
                    with ctx_factory():
                        response = gen.throw(*sys.exc_info())
                else:
                    with ctx_factory():
                        response = gen.send(request)
        except StopIteration as e:
            return e.value
    return generator_context


class _SetsGradMode(_Mode):
    """A mode whose entry and exit set grad mode through _set_grad_enabled."""

    def __exit__(self, *exc):
        state.inference = self._prev[1]
        _set_grad_enabled(self._prev[0])
        return False


class _NoParamMode(_SetsGradMode):
    """A mode that takes no argument, which PyTorch also lets decorate bare
    (@torch.no_grad, @torch.enable_grad)."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamMode):
    """Ops run inside record no gradients (results do not require grad)."""

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        _set_grad_enabled(False)


class enable_grad(_NoParamMode):
    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        _set_grad_enabled(True)


class set_grad_enabled(_SetsGradMode):
    """set_grad_enabled(False) switches the mode at once (as a call) and restores the
    previous mode when used as a context manager and left."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = (state.enabled, state.inference)
        _set_grad_enabled(self.mode)

    def _clone(self):
        return set_grad_enabled(self.mode)

    def __call__(self, fn):
        state.enabled, state.inference = self._prev     # as a decorator: no effect now
        return super().__call__(fn)

    def __enter__(self):
        return None


class inference_mode(_Mode):
    """As PyTorch's: inside inference_mode() (or inference_mode(True)) ops record no
    gradients and the tensors they make are inference tensors (autograd/inference.py);
    grad mode reads as off. inference_mode(False) leaves it: grad mode on, no inference
    tensors. Also a decorator, bare (@inference_mode) or called."""

    def __new__(cls, mode_or_orig_func=True):
        if mode_or_orig_func is None or isinstance(mode_or_orig_func, bool):
            return super().__new__(cls)
        return cls()(mode_or_orig_func)        # (@inference_mode on a function)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def _clone(self):
        return inference_mode(self.mode)

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        # (a region entered from outside inference mode installs inference mode's layer:
        # autograd/inference.py)
        self._opened = self.mode and not state.inference
        if self._opened:
            from .inference import enter_region
            enter_region()
        # (c10::InferenceMode(mode) sets grad mode to `not mode`: inference_mode(False)
        # inside no_grad turns gradients on)
        state.enabled = not self.mode
        state.inference = self.mode

    def __exit__(self, *exc):
        state.enabled, state.inference = self._prev
        if self._opened:
            from .inference import exit_region
            exit_region()
        return False


class _ThreadFlags(threading.local):
    def __init__(self):
        self.multithreading = True
        self.view_replay = False


_flags = _ThreadFlags()


def is_multithreading_enabled() -> bool:
    """torch.autograd.is_multithreading_enabled (this thread's switch; gpujit's backward
    always runs on the calling thread, so it changes nothing)."""
    return _flags.multithreading


def is_view_replay_enabled() -> bool:
    """torch.autograd.is_view_replay_enabled: off unless set (gpujit views replay their
    view functions only through autograd's own view tracking)."""
    return _flags.view_replay


class _FlagMode(_Mode):
    """A switch of this thread, set at once (as a call) and restored when left as a context
    manager; as a decorator, set around each call too."""
    _name = ""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev_flag = getattr(_flags, self._name)
        setattr(_flags, self._name, self.mode)

    def _clone(self):
        return type(self)(self.mode)

    # (as a decorator the switch made by the call that built it stays set, as torch's:
    # unlike set_grad_enabled, these do not undo it in __call__)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        setattr(_flags, self._name, self._prev_flag)
        return False


class set_multithreading_enabled(_FlagMode):
    """torch.autograd.set_multithreading_enabled(mode): kept per thread and read back by
    is_multithreading_enabled (gpujit's backward runs on the calling thread either way)."""
    _name = "multithreading"


class _force_original_view_tracking(_FlagMode):
    """torch.autograd._force_original_view_tracking(mode): view replay on or off for the
    block (read back by is_view_replay_enabled)."""
    _name = "view_replay"
