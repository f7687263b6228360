"""torch.backends.mkldnn: oneDNN's switches, kept (gpujit's CPU kernels are NumPy's and
numba's, so oneDNN is not available)."""
from __future__ import annotations

import sys
from contextlib import contextmanager

from . import _allow_mutation, _bool_setter, context_prop, flag_module

__all__ = ["is_available", "set_flags", "flags"]

_state = {"enabled": True, "deterministic": False, "allow_tf32": True}


def is_available() -> bool:
    return False


def is_acl_available() -> bool:
    return False


_setters = {"enabled": _bool_setter(_state, "enabled", "set_enabled_mkldnn"),
            "deterministic": _bool_setter(_state, "deterministic", "set_deterministic_mkldnn"),
            "allow_tf32": _bool_setter(_state, "allow_tf32", "set_allow_tf32_onednn")}


def set_flags(_enabled=None, _deterministic=None, _allow_tf32=None, _fp32_precision="none"):
    orig = (_state["enabled"], _state["deterministic"], _state["allow_tf32"], "none")
    for key, value in (("enabled", _enabled), ("deterministic", _deterministic),
                       ("allow_tf32", _allow_tf32)):
        if value is not None:
            _setters[key](value)
    return orig


@contextmanager
def flags(enabled=False, deterministic=False, allow_tf32=True, fp32_precision="none"):
    with _allow_mutation():
        orig = set_flags(enabled, deterministic, allow_tf32, fp32_precision)
    try:
        yield
    finally:
        with _allow_mutation():
            set_flags(*orig)


flag_module(sys.modules[__name__], **{
    key: context_prop(lambda key=key: _state[key], setter) for key, setter in _setters.items()})
