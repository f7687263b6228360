"""`with torch.jit._IgnoreContextManager(a="inp:int", c="out:List[int]"):` in scripted
code: the block's statements stay Python, as TorchScript runs them.

The block becomes a Python function of the `inp:` variables returning the `out:` ones
(one value, a tuple of several, or None), called through a prim::PythonOp as an
@ignore'd function is (see python_calls.py), and its results are assigned to the `out:`
names. The body sees the scripted function's globals and the variables its closure
captured (TorchScript's own frontend runs it with torch's globals only); any other local
of the scripted function must be listed as an input. As with @ignore, a graph holding
such a call cannot be saved.
"""
from __future__ import annotations

import ast
import textwrap
import types
import typing

from ...ir import types as T
from .python_calls import python_call
from .signatures import function_globals
from .types import annotation_type

__all__ = ["IgnoreBlockMixin"]

_TYPING_NAMES = {n: getattr(typing, n) for n in ("Any", "List", "Dict", "Tuple", "Optional",
                                                 "Union")}


class IgnoreBlockMixin:
    """FunctionCompiler's `with torch.jit._IgnoreContextManager(...)` (self is the
    compiler)."""

    def is_ignore_block(self, s) -> bool:
        from ...jit.script import _IgnoreContextManager
        ctx = s.items[0].context_expr
        if not (isinstance(ctx, ast.Call) and isinstance(ctx.func, (ast.Name, ast.Attribute))):
            return False
        found, obj = self.py_object(ctx.func)
        if not (found and obj is _IgnoreContextManager):
            return False
        if len(s.items) != 1 or s.items[0].optional_vars is not None:
            self.error("`with torch.jit._IgnoreContextManager(...)` must be the only item "
                       "of its `with` statement and takes no `as` target", ctx)
        return True

    def _ignore_block_vars(self, ctx, env):
        """([(name, Type)] inputs, [(name, Type)] outputs) of the manager's keywords."""
        if ctx.args:
            self.error("torch.jit._IgnoreContextManager takes keyword arguments only "
                       "(name=\"inp:<type>\" or name=\"out:<type>\")", ctx)
        ins, outs = [], []
        for kw in ctx.keywords:
            v = kw.value
            spec = v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else None
            kind, _, ann = (spec or "").partition(":")
            if kw.arg is None or kind not in ("inp", "out") or not ann.strip():
                self.error(f"torch.jit._IgnoreContextManager: the argument "
                           f"'{kw.arg}' must be a string \"inp:<type>\" or "
                           f"\"out:<type>\", got {ast.unparse(v)}", ctx)
            (ins if kind == "inp" else outs).append(
                (kw.arg, annotation_type(ann.strip(), env)))
        return ins, outs

    def ignore_block(self, s):
        """Compile the block as a call back into Python (see the module docstring)."""
        ctx = s.items[0].context_expr
        env = {**_TYPING_NAMES, **function_globals(self.fn)}
        ins, outs = self._ignore_block_vars(ctx, env)
        for st in s.body:
            for n in ast.walk(st):
                if isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom)):
                    self.error("a `with torch.jit._IgnoreContextManager(...)` block cannot "
                               "return or yield: list the values as \"out:<type>\" "
                               "arguments and return after the block", n)
        fn = self._ignore_block_function(s, ins, outs)
        args = []
        with self.at(s):
            for name, _ in ins:
                args.append(self.expr(ast.copy_location(ast.Name(id=name, ctx=ast.Load()),
                                                        ctx)))
            result = python_call(self, fn, args, {}, ctx)
        if not outs:
            return None
        names = [ast.copy_location(ast.Name(id=n, ctx=ast.Store()), ctx) for n, _ in outs]
        target = names[0] if len(names) == 1 else ast.copy_location(
            ast.Tuple(elts=names, ctx=ast.Store()), ctx)
        self.assign(target, result, s)
        return None

    def _ignore_block_function(self, s, ins, outs):
        code = getattr(self.fn, "__code__", None)
        free = list(code.co_freevars) if code else []
        cells = dict(zip(free, getattr(self.fn, "__closure__", None) or ()))
        captured = [n for n in free if n not in {i for i, _ in ins}]
        name = f"func_ignore_{getattr(self.fn, '__name__', 'fn')}_{s.lineno}"
        ret = ", ".join(n for n, _ in outs) + ("," if len(outs) > 1 else "")
        body = "\n".join(ast.unparse(st) for st in s.body)
        src = (f"def _make({', '.join(captured)}):\n"
               f"    def {name}({', '.join(n for n, _ in ins)}):\n"
               f"{textwrap.indent(body, ' ' * 8)}\n"
               f"        return {ret or 'None'}\n"
               f"    return {name}\n")
        ns: dict = {}
        exec(compile(src, f"<ignored block of {name}>", "exec"), ns)
        make = types.FunctionType(ns["_make"].__code__, getattr(self.fn, "__globals__", {}))
        values = []
        for n in captured:
            try:
                values.append(cells[n].cell_contents)
            except ValueError:              # a closure cell not assigned yet
                values.append(None)
        fn = make(*values)
        fn.__qualname__ = name
        fn.__annotations__ = {n: t for n, t in ins}
        fn.__annotations__["return"] = (T.NONE if not outs else outs[0][1] if len(outs) == 1
                                        else T.TupleType(tuple(t for _, t in outs)))
        fn._gpujit_ignore = True
        return fn
