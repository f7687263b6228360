"""torch.compiler: the questions and decorators model code asks of the compiler.

gpujit.compile scripts a function and fuses it; code is never being traced by a bytecode
compiler, so is_compiling() / is_dynamo_compiling() are False and disable() returns the
function itself (the script frontend compiles what it is given, calls included)."""
from __future__ import annotations

__all__ = ["is_compiling", "is_dynamo_compiling", "is_exporting", "disable", "reset",
           "allow_in_graph", "assume_constant_result"]


def is_compiling() -> bool:
    return False


def is_dynamo_compiling() -> bool:
    return False


def is_exporting() -> bool:
    return False


def disable(fn=None, recursive=True, *, reason=None):
    """@torch.compiler.disable / disable(fn) / disable(recursive=False)(fn): fn unchanged."""
    if fn is None:
        return lambda f: f
    if not callable(fn):
        raise TypeError(f"torch.compiler.disable expects a callable, got "
                        f"{type(fn).__name__}")
    return fn


def reset() -> None:
    """Forget compiled code (gpujit compiles per call site on first use)."""


def allow_in_graph(fn):
    return fn


def assume_constant_result(fn):
    return fn
