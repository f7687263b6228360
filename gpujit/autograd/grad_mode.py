"""Grad mode: whether op calls record a backward graph. Context managers that are also
decorators, as in torch.autograd.grad_mode."""
from __future__ import annotations

import functools
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


class _Mode:
    """Base: enter sets the mode, exit restores it; used as @decorator a fresh instance
    wraps each call."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._clone():
                return fn(*args, **kwargs)
        return wrapper

    def _clone(self):
        return type(self)()

    def __exit__(self, *exc):
        state.enabled, state.inference = self._prev
        return False


class no_grad(_Mode):
    """Ops run inside record no gradients (results do not require grad)."""

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        state.enabled = False


class enable_grad(_Mode):
    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        state.enabled = True


class set_grad_enabled(_Mode):
    """set_grad_enabled(False) switches the mode at once (as a call) and restores the
    previous mode when used as a context manager and left."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = (state.enabled, state.inference)
        state.enabled = self.mode

    def _clone(self):
        return set_grad_enabled(self.mode)

    def __call__(self, fn):
        state.enabled, state.inference = self._prev     # as a decorator: no effect now
        return super().__call__(fn)

    def __enter__(self):
        return None


class inference_mode(_Mode):
    """Like no_grad (gpujit has no separate inference tensors); inference_mode(False)
    does nothing."""

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def _clone(self):
        return inference_mode(self.mode)

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        if self.mode:
            state.enabled = False
            state.inference = True
