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

so archive code (gpujit.jit.load) may define a local function and fork it:
`compile_closure_def` records it, `compile_future_call` compiles its body into the fork's
block (statements, then a final `return`). Scripted source may not (TorchScript's
frontend refuses a nested def too).

Awaits (torch.jit._awaitable, gpujit/jit/awaits.py) compile alike, but lazily:

    aw = torch.jit._awaitable(fn, x, y)
        -> %aw : Await[T] = prim::awaitable(%x, %y)
             block0(%a, %b):
               %r : T = <the call fn(a, b)>
               -> (%r)
    torch.jit._awaitable_wait(aw)   -> %v : T = prim::awaitable_wait(%aw)
    torch.jit._awaitable_nowait(v)  -> %aw : Await[T] = prim::awaitable_nowait(%v)

The arguments are evaluated where the Await is made; the block runs at the first wait.
An Await[T] read as an object (`aw.attr`, `aw.method()`) or passed for a T parameter is
waited on implicitly (`implicit_wait`), as TorchScript converts it. `.code` prints the
block as a local function with the block's inputs as parameters, `_awaitable(_block, x, y)`.
"""
from __future__ import annotations

import ast

from ...ir import types as T
from .variables import Var

__all__ = ["compile_future_call", "compile_closure_def", "is_future_function",
           "implicit_wait", "is_untyped_future_function", "refuse_untyped_future_function"]

_AWAIT_FUNCTIONS = ("_awaitable", "_awaitable_wait", "_awaitable_nowait")


def is_future_function(obj) -> bool:
    mod, name = getattr(obj, "__module__", ""), getattr(obj, "__name__", "")
    return (mod == "gpujit.jit.futures" and name in ("fork", "wait")) or \
        (mod == "gpujit.jit.awaits" and name in _AWAIT_FUNCTIONS)


def is_untyped_future_function(obj) -> bool:
    """torch.futures.wait_all / collect_all: annotated `list[Future]` (no element type),
    which TorchScript 2.13 cannot compile."""
    return getattr(obj, "__module__", "") == "gpujit.futures" and \
        getattr(obj, "__name__", "") in ("wait_all", "collect_all")


def refuse_untyped_future_function(c, obj, node):
    """torch 2.13's error for a scripted call of torch.futures.wait_all / collect_all
    (it compiles their Python source, whose `list[Future]` has no contained type), at the
    call, with the way that compiles."""
    c.error("Attempted to use Future without a contained type. Please add a contained "
            f"type, e.g. Future[int]: torch.futures.{obj.__name__} takes an untyped "
            f"list[Future] and cannot be scripted", node,
            hint="wait on each Future: [torch.jit.wait(f) for f in futs]")


def implicit_wait(c, v):
    """v, or its value when v is an Await[T] (prim::awaitable_wait)."""
    if isinstance(v.type, T.AwaitType):
        return c.emit("prim::awaitable_wait", [v], [v.type.elem]).output
    return v


def compile_closure_def(c, s):
    """`def name(...): ...` inside a scripted function: a closure to fork (no
    parameters) or to make an Await of (torch.jit._awaitable(name, *args))."""
    from .serialized import is_archive_code
    if not is_archive_code(c) or s.args.vararg or s.args.kwarg or s.args.kwonlyargs or \
            s.args.posonlyargs or s.args.defaults or s.decorator_list:
        c.error_unsupported_node("a nested function definition is not supported in "
                                 "scripted functions", s, hint="define it at module level")
    body = [b for b in s.body if not (isinstance(b, ast.Expr) and
                                      isinstance(b.value, ast.Constant))]
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None or \
            any(_has_return(b) for b in body[:-1]):
        c.error(f"local function '{s.name}' must end with its only `return <value>` "
                f"(it is forked: its value is the Future's)", s)
    closures = c.__dict__.setdefault("closures", {})
    closures[s.name] = ([a.arg for a in s.args.args], body)
    return None


def _has_return(node) -> bool:
    """Whether statement node returns (a nested fork's `def _block` returns for itself)."""
    if isinstance(node, ast.Return):
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return False
    return any(_has_return(n) for n in ast.iter_child_nodes(node))


def _closure(c, node, nargs=0):
    """The (parameter names, body) of the local function node's first argument names."""
    closures = getattr(c, "closures", {})
    if node.args and isinstance(node.args[0], ast.Name) and not node.keywords:
        got = closures.get(node.args[0].id)
        if got is not None and len(got[0]) != nargs:
            c.error(f"local function '{node.args[0].id}' takes {len(got[0])} arguments "
                    f"but {nargs} were given", node)
        return got
    return None


def _outer_callee(c, fn):
    """The value of a forked submodule `self.sub` (its prim::GetAttr, emitted where the fork
    is), else None (a function, a method: called by name in the closure)."""
    if not hasattr(c, "module_of") or not (
            isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name)):
        return None
    var = c.lookup_var(fn.value.id)
    if not isinstance(var, Var) or not isinstance(var.value.type, T.ClassType):
        return None
    owner = c.module_of(var.value, fn)
    if fn.attr not in getattr(owner, "_modules", {}):
        return None
    return c.expr(fn)


def _compile_body(c, body):
    c.stmts(body[:-1])
    return c.expr(body[-1].value)


def compile_future_call(c, fn, node):
    if fn.__name__ in _AWAIT_FUNCTIONS:
        return _compile_await_call(c, fn.__name__, node)
    if fn.__name__ == "fork":
        if not node.args:
            c.error("fork() takes the function to call and its arguments", node,
                    hint="torch.jit.fork(fn, x, y)")
        closure = _closure(c, node, len(node.args) - 1)
        if closure is not None and node.args[1:]:
            c.error("torch.jit.fork of a local function takes no arguments", node)
        if closure is None:
            # the forked submodule and the arguments are evaluated before the closure, as
            # TorchScript's emitForkExpr (`_0 = torch.add(x, 1)` then `def
            # __forked_function(): return (a).forward(_0, )`); the closure calls them
            callee = _outer_callee(c, node.args[0])
            args = [c.expr(a) for a in node.args[1:]]
            kwargs = [(k.arg, c.expr(k.value)) for k in node.keywords]
        n = c.emit("prim::fork", [], [])
        b = n.add_block()
        with c.in_block(b), c.scope():
            if closure is not None:
                v = _compile_body(c, closure[1])
            else:
                def bound(k, value, where):
                    name = f"__fork_value{k}"
                    c.scopes[-1][name] = Var(value, where)
                    return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), where)
                func = node.args[0] if callee is None else bound("f", callee, node.args[0])
                call = ast.copy_location(ast.Call(
                    func=func,
                    args=[bound(k, a, e) for k, (a, e) in enumerate(zip(args, node.args[1:]))],
                    keywords=[ast.keyword(arg=name, value=bound(f"k{j}", a, kw.value))
                              for j, ((name, a), kw) in enumerate(zip(kwargs, node.keywords))]),
                    node)
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


def _compile_await_call(c, name, node):
    if name == "_awaitable_wait":
        if len(node.args) != 1 or node.keywords:
            c.error("_awaitable_wait() takes one Await", node)
        aw = c.expr(node.args[0])
        if not isinstance(aw.type, T.AwaitType):
            t = aw.type.annotation()
            c.error(f"prim::awaitable_wait(Await(t) self) -> t: Could not match type {t} "
                    f"to Await[t] in argument 'self': Cannot match an Await to {t}", node)
        return c.emit("prim::awaitable_wait", [aw], [aw.type.elem]).output
    if name == "_awaitable_nowait":
        if len(node.args) != 1 or node.keywords:
            c.error("_awaitable_nowait() takes one value", node)
        v = c.expr(node.args[0])
        return c.emit("prim::awaitable_nowait", [v], [T.AwaitType(v.type)]).output
    if not node.args or node.keywords:
        c.error("_awaitable() takes the function to call and its positional arguments",
                node, hint="torch.jit._awaitable(fn, x, y)")
    args = [c.expr(a) for a in node.args[1:]]
    closure = _closure(c, node, len(args))
    n = c.emit("prim::awaitable", args, [])
    b = n.add_block()
    with c.in_block(b), c.scope():
        if closure is not None:
            names = closure[0]
        else:
            names = [f"__awaitable_arg{k}" for k in range(len(args))]
        for a, nm in zip(args, names):
            c.scopes[-1][nm] = Var(b.add_input(a.type, nm if closure else None), node)
        if closure is not None:
            v = _compile_body(c, closure[1])
        else:
            call = ast.copy_location(ast.Call(
                func=node.args[0], keywords=[],
                args=[ast.copy_location(ast.Name(id=nm, ctx=ast.Load()), a)
                      for nm, a in zip(names, node.args[1:])]), node)
            v = c.expr(call)
        b.register_output(v)
    return n.add_output(T.AwaitType(v.type))
