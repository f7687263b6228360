"""torch.backends.cudnn: cuDNN's switches, kept and checked as PyTorch's (gpujit runs its
own kernels, so they change no result). `is_available()` is False: gpujit uses no cuDNN."""
from __future__ import annotations

import sys
from contextlib import contextmanager

from . import _allow_mutation, _bool_setter, context_prop, flag_module

__all__ = ["is_available", "version", "is_acceptable", "set_flags", "flags"]

_state = {"enabled": True, "benchmark": False, "deterministic": False, "allow_tf32": True,
          "fp32_precision": "none"}
_FP32 = ("none", "ieee", "tf32")


def is_available() -> bool:
    return False


def version():
    """None: no cuDNN library is loaded (as PyTorch without cuDNN)."""
    return None


def is_acceptable(tensor) -> bool:
    return False


def _set_fp32_precision(value):
    if value not in _FP32:
        raise RuntimeError(f"{value} is not supported")   # checked as torch's setter
    _state["fp32_precision"] = value


_setters = {
    "enabled": _bool_setter(_state, "enabled", "set_enabled_cudnn"),
    "benchmark": _bool_setter(_state, "benchmark", "set_benchmark_cudnn"),
    "deterministic": _bool_setter(_state, "deterministic", "set_deterministic_cudnn"),
    "allow_tf32": _bool_setter(_state, "allow_tf32", "set_allow_tf32_cublas"),
    "fp32_precision": _set_fp32_precision,
}


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None,
              _allow_tf32=None, _fp32_precision="none"):
    """Set the given flags; return the old ones in this order (torch's set_flags)."""
    orig = (_state["enabled"], _state["benchmark"], None, _state["deterministic"],
            _state["allow_tf32"], _state["fp32_precision"])
    for key, value in (("enabled", _enabled), ("benchmark", _benchmark),
                       ("deterministic", _deterministic), ("allow_tf32", _allow_tf32),
                       ("fp32_precision", _fp32_precision)):
        if value is not None:
            _setters[key](value)
    return orig


@contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision="none"):
    """Set every flag for the block (the defaults too, as torch: `flags()` turns cuDNN
    off inside) and restore them after."""
    with _allow_mutation():
        orig = set_flags(enabled, benchmark, benchmark_limit, deterministic, allow_tf32,
                         fp32_precision)
    try:
        yield
    finally:
        with _allow_mutation():
            set_flags(*orig)


# benchmark_limit is a plain attribute (None) where cuDNN is not available, as in torch
benchmark_limit = None
flag_module(sys.modules[__name__], **{
    key: context_prop(lambda key=key: _state[key], setter) for key, setter in _setters.items()})
