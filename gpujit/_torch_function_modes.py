"""torch.overrides.TorchFunctionMode: `with Mode():` the mode's __torch_function__ sees
every call the protocol sees (gpujit/overrides.py), plain Tensors' included. This
thread's stack of modes; the first mode pushed (in any thread) puts the dispatch layer,
the public functions' check and the Tensor entry points on Tensor itself, the last popped
takes them off."""
from __future__ import annotations

from .overrides import (_NO, _ModeEntry, _layer_needed, _pushed, _state, _tensor_entries,
                        Tensor)


class TorchFunctionMode:
    """torch.overrides.TorchFunctionMode: `with Mode():` its __torch_function__ sees every
    call the protocol sees, plain Tensors' included (the innermost mode first; its own
    calls go to the modes outside it, then to the subclasses)."""
    inner = None

    def __init__(self):
        pass

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError()         # (PyTorch's: a mode defines its own)

    def __enter__(self):
        _push_mode(self)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        _pop_mode()

    @classmethod
    def push(cls, *args, **kwargs):
        import warnings
        warnings.warn("`Mode.push()` is no longer necessary and can be replaced with just "
                      "`with Mode()`")
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        if kwargs is None:
            kwargs = {}
        return func(*args, **kwargs)


def _mode_stack():
    stack = getattr(_state, "modes", None)
    if stack is None:
        stack = _state.modes = []
    return stack


_tensor_own = None      # Tensor's own attributes while a mode has its entry points on it


def _push_mode(mode):
    """mode on top of this thread's stack; the first mode pushed puts the dispatch layer
    and the entry points on Tensor itself (plain Tensors' calls are seen)."""
    global _tensor_own
    _mode_stack().append(mode)
    _pushed[0] += 1
    if _pushed[0] == 1:
        _layer_needed(1)
        entries = _tensor_entries()
        _tensor_own = {n: Tensor.__dict__.get(n, _NO) for n, _ in entries}
        for n, e in entries:
            setattr(Tensor, n, e if isinstance(e, property) else _ModeEntry(e))


def _pop_mode():
    global _tensor_own
    mode = _mode_stack().pop()
    _pushed[0] -= 1
    if not _pushed[0]:
        for n, v in (_tensor_own or {}).items():
            if v is _NO:
                delattr(Tensor, n)
            else:
                setattr(Tensor, n, v)
        _tensor_own = None
        _layer_needed(-1)
    return mode


class _pop_mode_temporarily:
    """`with _pop_mode_temporarily() as mode:` this thread's innermost mode off the stack."""
    __slots__ = ("mode",)

    def __enter__(self):
        self.mode = _mode_stack().pop()
        return self.mode

    def __exit__(self, *exc):
        _mode_stack().append(self.mode)
        return False


def _get_current_function_mode():
    stack = _mode_stack()
    return stack[-1] if stack else None


def _get_current_function_mode_stack():
    return list(_mode_stack())


def _len_torch_function_stack():
    return len(_mode_stack())


def _get_function_stack_at(i):
    return _mode_stack()[i]


def _is_torch_function_mode_enabled():
    return bool(_mode_stack()) and not getattr(_state, "all_off", 0)


_push_on_torch_function_stack, _pop_torch_function_stack = _push_mode, _pop_mode  # (torch._C's)


def enable_reentrant_dispatch():
    """torch.overrides.enable_reentrant_dispatch: PyTorch's restores the state of a
    __torch_dispatch__ call, and refuses outside one; gpujit has no __torch_dispatch__."""
    import contextlib

    @contextlib.contextmanager
    def restore():
        raise RuntimeError("Accessing torch dispatch state outside of '__torch_dispatch__' is "
                           "not allowed.")
        yield
    return restore()
