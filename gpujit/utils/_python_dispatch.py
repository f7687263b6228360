"""torch.utils._python_dispatch: TorchDispatchMode and its mode stack, as the names code
imports (_get_current_dispatch_mode, _push_mode / _pop_mode, _disable_current_modes,
is_in_torch_dispatch_mode, is_traceable_wrapper_subclass).

gpujit has no dispatcher below autograd (its ops run their NumPy / CuPy bodies straight
from the registry), so a mode's __torch_dispatch__ is not called for the ops run inside
it: entering a mode that defines one warns once per class (UserWarning) and points to
torch.overrides.TorchFunctionMode, which sees every gpujit op call. The stack itself
(entering, nesting, the current mode, disabling them) is PyTorch's."""
from __future__ import annotations

import contextlib
import threading
import warnings

__all__ = ["TorchDispatchMode", "is_in_torch_dispatch_mode", "is_traceable_wrapper_subclass",
           "is_traceable_wrapper_subclass_type", "_get_current_dispatch_mode",
           "_get_current_dispatch_mode_stack", "_push_mode", "_pop_mode",
           "_pop_mode_temporarily", "_disable_current_modes"]


class _Stack(threading.local):
    def __init__(self):
        self.modes = []


_stack = _Stack()
_warned: set = set()


class TorchDispatchMode:
    """A mode entered with `with`: the innermost one is _get_current_dispatch_mode()."""
    supports_higher_order_operators = False

    def __init__(self, _dispatch_key=None):
        if _dispatch_key is not None:
            self.__dict__["_dispatch_key"] = _dispatch_key

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        cls = type(self)
        if cls.__torch_dispatch__ is not TorchDispatchMode.__torch_dispatch__ and \
                cls not in _warned:
            _warned.add(cls)
            warnings.warn(f"gpujit has no dispatcher below autograd: "
                          f"{cls.__name__}.__torch_dispatch__ is not called for the ops run "
                          f"in the mode (torch.overrides.TorchFunctionMode sees every op "
                          f"call)", UserWarning, stacklevel=2)
        _push_mode(self)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        _pop_mode(self.__dict__.get("_dispatch_key", None))

    @classmethod
    def push(cls, *args, **kwargs):
        warnings.warn("`Mode.push()` is no longer necessary and can be replaced with just "
                      "`with Mode()`", stacklevel=2)
        return cls(*args, **kwargs)

    @classmethod
    def is_infra_mode(cls):
        return False

    @classmethod
    def ignore_compile_internals(cls):
        return False


def _get_current_dispatch_mode():
    """The innermost mode entered (None outside any)."""
    return _stack.modes[-1] if _stack.modes else None


def _get_current_dispatch_mode_stack():
    """The modes entered, outermost first."""
    return list(_stack.modes)


def _push_mode(mode):
    _stack.modes.append(mode)


def _pop_mode(k=None):
    if not _stack.modes:
        raise AssertionError("Trying to pop from an empty mode stack")
    return _stack.modes.pop()


@contextlib.contextmanager
def _pop_mode_temporarily(k=None):
    old = _pop_mode(k)
    try:
        yield old
    finally:
        _push_mode(old)


@contextlib.contextmanager
def _disable_current_modes():
    """Within the block no mode is current; they come back at its end."""
    saved = _stack.modes
    _stack.modes = []
    try:
        yield saved
    finally:
        _stack.modes = saved


def is_in_torch_dispatch_mode(include_infra_modes: bool = True) -> bool:
    if include_infra_modes:
        return bool(_stack.modes)
    return any(not m.is_infra_mode() for m in _stack.modes)


def is_traceable_wrapper_subclass(t) -> bool:
    """Whether t is a Tensor subclass that declares its inner tensors (__tensor_flatten__
    and __tensor_unflatten__), as PyTorch's wrapper subclasses do."""
    from ..tensor import Tensor
    return isinstance(t, Tensor) and type(t) is not Tensor and \
        hasattr(t, "__tensor_flatten__") and hasattr(t, "__tensor_unflatten__")


def is_traceable_wrapper_subclass_type(t) -> bool:
    from ..tensor import Tensor
    return isinstance(t, type) and issubclass(t, Tensor) and t is not Tensor and \
        hasattr(t, "__tensor_flatten__") and hasattr(t, "__tensor_unflatten__")
