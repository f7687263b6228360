"""torch.backends.opt_einsum: einsum's contraction-path optimizer. gpujit's einsum
contracts through NumPy / CuPy (`optimize` left to them) and does not use the opt_einsum
package, so it is not available: `enabled` is False, `strategy` None, and turning it on
raises torch's ValueError (as torch without opt_einsum installed)."""
from __future__ import annotations

import sys
from contextlib import contextmanager

from . import _allow_mutation, context_prop, flag_module

__all__ = ["is_available", "get_opt_einsum", "set_flags", "flags"]


def is_available() -> bool:
    return False


def get_opt_einsum():
    return None


_state = {"enabled": False}


def _set_enabled(value):
    if not is_available() and value:
        raise ValueError(
            f"opt_einsum is not available, so setting `enabled` to {value} will not reap the "
            f"benefits of calculating an optimal path for einsum. torch.einsum will fall back "
            f"to contracting from left to right. To enable this optimal path calculation, "
            f"please install opt-einsum.")
    _state["enabled"] = value


def set_flags(_enabled=None, _strategy=None):
    orig = (_state["enabled"], None)
    if _enabled is not None:
        _set_enabled(_enabled)
    return orig


@contextmanager
def flags(enabled=None, strategy=None):
    with _allow_mutation():
        orig = set_flags(enabled, strategy)
    try:
        yield
    finally:
        with _allow_mutation():
            set_flags(*orig)


strategy = None      # a plain attribute when opt_einsum is not available, as in torch
flag_module(sys.modules[__name__], enabled=context_prop(lambda: _state["enabled"], _set_enabled))
