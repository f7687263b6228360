"""`torch.jit.CompilationUnit(src)`: TorchScript functions compiled from source text.

    cu = gpujit.jit.CompilationUnit('''
    def cell(x, y):
        return torch.tanh(x) * y
    ''')
    cu.cell(a, b)          # a ScriptFunction, profiled and fused like any scripted one

The text is registered with `linecache` under a name of its own, so the script frontend
reads each function's source (and error messages show its lines) as for a file. Names the
text uses resolve as in TorchScript's source: `torch` (gpujit), `math`, `Tensor`,
`List`/`Dict`/`Optional`/`Tuple`, the functions defined before or after in the same unit,
then the names of the scope that created the unit (its globals and locals).
"""
from __future__ import annotations

import ast
import itertools
import linecache
import math
import textwrap
import typing

__all__ = ["CompilationUnit"]

_COUNTER = itertools.count()


def caller_scope(frames_up: int) -> dict:
    """The globals and locals of the frame `frames_up` above the caller's caller (the code
    that called CompilationUnit(...) / define(...)): names TorchScript source text may use
    besides its own (PyTorch resolves them through the same frame)."""
    import sys
    try:
        f = sys._getframe(2 + frames_up)
    except ValueError:
        return {}
    scope = dict(f.f_globals)
    scope.update(f.f_locals)
    return scope


def source_functions(src: str, kind: str = "CompilationUnit", scope=None) -> dict:
    """{name: Python function} of the top-level `def`s of TorchScript source text, their
    source registered with linecache (so that the script frontend reads it). scope: the
    caller's names, seen under the names TorchScript source always has."""
    import gpujit
    src = textwrap.dedent(src)
    filename = f"<gpujit.jit.{kind}-{next(_COUNTER)}>"
    lines = src.splitlines(True)
    linecache.cache[filename] = (len(src), None, lines, filename)
    names = [n.name for n in ast.parse(src).body if isinstance(n, ast.FunctionDef)]
    for k, name in enumerate(names):
        if name in names[:k]:
            raise RuntimeError(f"method '{name}' already defined.")
    env = {k: v for k, v in (scope or {}).items() if not k.startswith("__")}
    env.update({"torch": gpujit, "math": math, "Tensor": gpujit.Tensor,
                "List": typing.List, "Dict": typing.Dict, "Optional": typing.Optional,
                "Tuple": typing.Tuple, "Union": typing.Union, "Any": typing.Any,
                "__name__": filename})
    from .. import _jit_internal
    env.update({f"BroadcastingList{i}": getattr(_jit_internal, f"BroadcastingList{i}")
                for i in range(1, 4)})
    exec(compile(src, filename, "exec"), env)
    return {name: env[name] for name in names}


class CompilationUnit:
    """Functions compiled from TorchScript source text (`define`), found as attributes."""

    def __init__(self, lang: str | None = None, _frames_up: int = 0):
        object.__setattr__(self, "_functions", {})
        if lang is not None:
            self.define(lang, _frames_up=_frames_up + 1)

    def define(self, src: str, rcb=None, _frames_up: int = 0):
        """Compile every function of `src` (top-level `def`s) into this unit; names it
        does not define resolve in the caller's scope (PyTorch's resolution callback)."""
        from .script import script
        fns = source_functions(src, scope=caller_scope(_frames_up))
        for name in fns:
            if name in self._functions:
                raise RuntimeError(f"method '{name}' already defined.")
        for name, fn in fns.items():
            self._functions[name] = script(fn)
        return self

    def find_function(self, name):
        return self._functions.get(name)

    def get_functions(self):
        return list(self._functions.values())

    def __getattr__(self, name):
        fns = self.__dict__.get("_functions", {})
        if name in fns:
            return fns[name]
        raise AttributeError(f"'CompilationUnit' has no function '{name}'")

    def __setattr__(self, name, value):
        raise AttributeError("CompilationUnit attributes are its compiled functions; use "
                             "define(src) to add some")
