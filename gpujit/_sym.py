"""torch's sym_* helpers (torch.sym_int, sym_float, sym_max, sym_min, sym_not, sym_ite,
sym_sqrt, sum) and small top-level queries (get_device_module, is_distributed,
compiled_with_cxx11_abi, init_num_threads) that model code calls. gpujit has no symbolic
shapes (torch.compile's SymInt / SymFloat / SymBool): on plain numbers they are PyTorch's
eager answers; an object with PyTorch's `__sym_<name>__` method is asked first, as torch
does."""
from __future__ import annotations

import builtins
import math

import numpy as np

__all__ = ["sym_int", "sym_float", "sym_max", "sym_min", "sym_not", "sym_ite", "sym_sqrt",
           "sym_sum", "get_device_module", "is_distributed", "compiled_with_cxx11_abi",
           "init_num_threads"]

_ALL_TYPES = (np.integer, np.floating, int, float)
_FLOAT_TYPES = (np.floating, float)


def sym_not(a):
    """`not a` (a SymBool-aware not in PyTorch)."""
    if hasattr(a, "__sym_not__"):
        return a.__sym_not__()
    return not a


def sym_float(a):
    """float(a)."""
    if hasattr(a, "__sym_float__"):
        return a.__sym_float__()
    return builtins.float(a)


def sym_int(a):
    """int(a) (a float truncates toward zero, as int())."""
    return builtins.int(a)


def _minmax(a, b, pick, name):
    if hasattr(a, f"__sym_{name}__"):
        return getattr(a, f"__sym_{name}__")(b)
    if hasattr(b, f"__sym_{name}__"):
        return getattr(b, f"__sym_{name}__")(a)
    # (PyTorch asserts the types: a Tensor is refused with its AssertionError's words)
    assert isinstance(a, _ALL_TYPES), f"expected {_ALL_TYPES}, got {type(a)}"
    assert isinstance(b, _ALL_TYPES), f"expected {_ALL_TYPES}, got {type(b)}"
    if isinstance(a, _FLOAT_TYPES) or isinstance(b, _FLOAT_TYPES):
        return builtins.float(pick(a, b))
    return pick(a, b)


def sym_max(a, b):
    """max(a, b) of two numbers, a float when either is one."""
    return _minmax(a, b, builtins.max, "max")


def sym_min(a, b):
    """min(a, b) of two numbers, a float when either is one."""
    return _minmax(a, b, builtins.min, "min")


def sym_sqrt(a):
    """math.sqrt(a)."""
    if hasattr(a, "__sym_sqrt__"):
        return a.__sym_sqrt__()
    return math.sqrt(a)


def sym_ite(b, t, f):
    """t if b else f (b a bool; t and f of one type, as PyTorch asserts)."""
    assert isinstance(b, builtins.bool) and type(t) is type(f)
    return t if b else f


def sym_sum(args):
    """sum(args)."""
    return builtins.sum(args)


def get_device_module(device=None):
    """The module of a device type: torch.get_device_module('cpu') is torch.cpu, 'cuda'
    torch.cuda; None: the current accelerator's (the CPU's without one)."""
    import gpujit
    if isinstance(device, gpujit.device):
        name = device.type
    elif isinstance(device, str):
        name = gpujit.device(device).type
    elif device is None:
        acc = gpujit.accelerator.current_accelerator()
        name = acc.type if acc is not None else "cpu"
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, "
                           f"or None")
    module = getattr(gpujit, name, None)
    if module is None:
        raise RuntimeError(f"Device '{name}' does not have a corresponding module registered "
                           f"as 'torch.{name}'.")
    return module


def is_distributed(tensor) -> bool:
    """False: gpujit's tensors are never distributed (a non-Tensor: PyTorch's TypeError)."""
    from .ops.parser_errors import tensor_args
    tensor_args("is_distributed", "input", tensor)
    return False


def compiled_with_cxx11_abi() -> bool:
    """True, as PyTorch's wheels since 2.6."""
    return True


def init_num_threads() -> None:
    """Nothing to do (gpujit's thread pools start on first use)."""
    return None
