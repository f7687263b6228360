"""torch.jit.fork / torch.jit.wait in scripted code, as TorchScript compiles them:

    fut = torch.jit.fork(fn, x, y)
        -> %fut : Future[T] = prim::fork()
             block0():
               %r : T = <the call fn(x, y), its arguments evaluated inside>
               -> (%r)
    v = torch.jit.wait(fut)
        -> %v : T = aten::wait(%fut)

A Future is not its value: using `fut` as a T is a type error, and wait() of anything but
a Future is refused in TorchScript's words. The block runs when the fork runs (PyTorch lets
a fork run at once on the calling thread); what it raises is kept in the Future and raised
by the wait (runtime/interpreter.py, runtime/codegen.py). Both nodes have side effects
(never dropped): an unused wait still raises the forked call's error.

`.code` prints a fork as TorchScript does, its block as a local function:

    def _block():
      return fn(x, y)
    fut = fork(_block)

so scripted code (and archive code) may define a local function without parameters and
fork it: `compile_closure_def` records it, `compile_future_call` compiles its body into the
fork's block (statements, then a final `return`).
"""
from __future__ import annotations

import ast

from ...ir import types as T

__all__ = ["compile_future_call", "compile_closure_def", "is_future_function"]


def is_future_function(obj) -> bool:
    return getattr(obj, "__module__", "") == "gpujit.jit.futures" and \
        getattr(obj, "__name__", "") in ("fork", "wait")


def compile_closure_def(c, s):
    """`def name(): ...` inside a scripted function: a closure to fork."""
    if s.args.args or s.args.vararg or s.args.kwarg or s.args.kwonlyargs or \
            s.args.posonlyargs or s.decorator_list:
        c.error("a nested function definition is not supported in scripted functions "
                "(only a local function without parameters, to pass to torch.jit.fork)", s,
                hint="define it at module level")
    body = [b for b in s.body if not (isinstance(b, ast.Expr) and
                                      isinstance(b.value, ast.Constant))]
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None or \
            any(isinstance(n, ast.Return) for b in body[:-1] for n in ast.walk(b)):
        c.error(f"local function '{s.name}' must end with its only `return <value>` "
                f"(it is forked: its value is the Future's)", s)
    closures = c.__dict__.setdefault("closures", {})
    closures[s.name] = body
    return None


def _closure(c, node):
    closures = getattr(c, "closures", {})
    if len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Name):
        return closures.get(node.args[0].id)
    return None


def compile_future_call(c, fn, node):
    if fn.__name__ == "fork":
        if not node.args:
            c.error("fork() takes the function to call and its arguments", node,
                    hint="torch.jit.fork(fn, x, y)")
        body = _closure(c, node)
        n = c.emit("prim::fork", [], [])
        b = n.add_block()
        with c.in_block(b), c.scope():
            if body is not None:
                c.stmts(body[:-1])
                v = c.expr(body[-1].value)
            else:
                call = ast.copy_location(ast.Call(func=node.args[0], args=node.args[1:],
                                                  keywords=node.keywords), node)
                v = c.expr(call)
            b.register_output(v)
        return n.add_output(T.FutureType(v.type))
    if len(node.args) != 1 or node.keywords:
        c.error("wait() takes one Future", node, hint="torch.jit.wait(fut)")
    fut = c.expr(node.args[0])
    if not isinstance(fut.type, T.FutureType):
        t = fut.type.annotation()
        c.error(f"aten::wait(Future(t) self) -> t: Could not match type {t} to Future[t] "
                f"in argument 'self': Cannot match a future to {t}", node)
    return c.emit("aten::wait", [fut], [fut.type.elem]).output
