"""What scripted code knows at compile time about a few Python calls:
`gpujit.jit.is_scripting()` (also `torch.jit.is_scripting()` under `import gpujit as
torch`) is True in scripted code, and `hasattr(self.sub, "name")` on modules is known (as
TorchScript evaluates it), so

    if not torch.jit.is_scripting():
        <Python-only code>

compiles only the branch that scripted code runs (the other one is never compiled, as
TorchScript does): `static_condition` decides such an `if` test.
"""
from __future__ import annotations

import ast

__all__ = ["UNKNOWN", "call_value", "static_condition"]

UNKNOWN = object()


def _folded():
    from ...jit.script import is_scripting
    return {is_scripting: True}


def call_value(obj):
    """The value a call of the Python object obj has in scripted code, or UNKNOWN."""
    try:
        return _folded().get(obj, UNKNOWN)
    except TypeError:            # an unhashable callable
        return UNKNOWN


def static_condition(c, test):
    """True / False when the `if` test is decided at compile time, else None. c: the
    compiler (for name lookup)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        v = static_condition(c, test.operand)
        return None if v is None else not v
    if isinstance(test, ast.BoolOp):
        vals = [static_condition(c, v) for v in test.values]
        if isinstance(test.op, ast.And):
            if any(v is False for v in vals):
                return None if any(v is None for v in vals[:vals.index(False)]) else False
            return True if all(v is True for v in vals) else None
        if any(v is True for v in vals):
            return None if any(v is None for v in vals[:vals.index(True)]) else True
        return False if all(v is False for v in vals) else None
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and \
            test.func.id == "hasattr" and hasattr(c, "static_hasattr"):
        return c.static_hasattr(test)       # hasattr(self.sub, "x") on modules
    if isinstance(test, ast.Call) and not test.args and not test.keywords and \
            isinstance(test.func, (ast.Name, ast.Attribute)):
        found, obj = c.py_object(test.func)
        if found:
            v = call_value(obj)
            if v is not UNKNOWN:
                return bool(v)
    return None
