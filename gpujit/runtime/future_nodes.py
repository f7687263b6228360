"""How the interpreter runs, and generated code emits, the nodes of forks and awaits
(frontend/script/future_calls.py and frontend/trace_futures.py make them):

- prim::fork: its block runs when the fork runs (PyTorch lets a fork run at once on the
  calling thread); its Future holds the block's value, or what the block raised, which
  aten::wait raises (PyTorch raises a forked call's error at the wait).
- prim::awaitable: an Await whose call is the block, run on the node's inputs (its
  block's inputs) and the outer values it reads as they were when the Await was made,
  at the first prim::awaitable_wait (later waits return the kept value).
- prim::awaitable_nowait: an Await of its input.

Futures and Awaits hold boxed values (Tensors), as eager code sees them.
"""
from __future__ import annotations

__all__ = ["HANDLERS", "EMITTERS", "block_free_values", "make_await"]


# ---------------------------------------------------------------------- the interpreter
def _fork(node, env, profile):
    from ..jit.futures import Future
    from .interpreter import _run_block
    elem = node.outputs[0].type.elem
    try:
        return (Future._completed(_run_block(node.blocks[0], env, profile)[0], type_=elem),)
    except Exception as e:
        return (Future._completed(error=e, type_=elem),)


def _wait(node, env, profile):
    return (env[node.inputs[0]].wait(),)


def block_free_values(node):
    """The values node's blocks read that are defined outside them."""
    inside, used = set(), []

    def visit(b):
        inside.update(b.inputs)
        for n in b.nodes:
            used.extend(n.inputs)
            for sub in n.blocks:
                visit(sub)
            inside.update(n.outputs)
        used.extend(b.outputs)
    for b in node.blocks:
        visit(b)
    return list(dict.fromkeys(v for v in used if v not in inside))


def make_await(node, captured, args):
    """The Await of a prim::awaitable node: its block runs at the first wait, on `args`
    (its inputs) and `captured` (the outer values it reads, as they were made)."""
    from ..jit.awaits import _Await
    from .interpreter import _run_block
    block = node.blocks[0]

    def call(*a):
        env = dict(captured)
        env.update(zip(block.inputs, a))
        return _run_block(block, env, None)[0]
    return _Await(call, args, type_=node.outputs[0].type.elem)


def _awaitable(node, env, profile):
    captured = {v: env[v] for v in block_free_values(node)}
    return (make_await(node, captured, [env[v] for v in node.inputs]),)


def _awaitable_nowait(node, env, profile):
    from ..jit.awaits import _Await
    return (_Await.nowait(env[node.inputs[0]], node.outputs[0].type.elem),)


HANDLERS = {"prim::fork": _fork, "aten::wait": _wait, "prim::awaitable": _awaitable,
            "prim::awaitable_nowait": _awaitable_nowait, "prim::awaitable_wait": _wait}


# ---------------------------------------------------------------------- generated code
def _emit_fork(cg, n):
    """The block inside a try: the Future holds its value or its error."""
    from ..jit.futures import Future
    from .codegen_prim import box_expr
    fut_cls = cg.bind(Future._completed, "Future")
    elem = cg.bind(n.output.type.elem, "future_type")
    out = cg.define(n.output)
    b = n.blocks[0]
    cg.emit("try:")
    cg.depth += 1
    cg.emit_block(b)
    cg.emit(f"{out} = {fut_cls}({box_expr(cg, b.outputs[0])}, type_={elem})")
    cg.depth -= 1
    cg.emit("except Exception as _fork_error:")
    cg.emit(f"    {out} = {fut_cls}(error=_fork_error, type_={elem})")


def _emit_wait(cg, n):
    out = cg.define(n.output)
    cg.emit(f"{out} = _unbox({cg.ref(n.inputs[0])}.wait())")


class _AwaitSite:
    """Makes the Await of one prim::awaitable node from boxed values (its block runs
    node by node at the first wait, as the interpreter runs it)."""

    def __init__(self, node):
        self.node = node

    def __call__(self, captured, args):
        return make_await(self.node, dict(zip(block_free_values(self.node), captured)),
                          args)


def _emit_awaitable(cg, n):
    from .codegen_prim import box_expr
    site = cg.bind(_AwaitSite(n), "awaitable")
    free = ", ".join(box_expr(cg, v) for v in block_free_values(n))
    args = ", ".join(box_expr(cg, v) for v in n.inputs)
    cg.emit(f"{cg.define(n.output)} = {site}([{free}], [{args}])")


def _emit_awaitable_nowait(cg, n):
    from ..jit.awaits import _Await
    from .codegen_prim import box_expr
    cls = cg.bind(_Await, "Await")
    elem = cg.bind(n.output.type.elem, "await_type")
    cg.emit(f"{cg.define(n.output)} = {cls}.nowait({box_expr(cg, n.inputs[0])}, {elem})")


EMITTERS = {"prim::fork": _emit_fork, "aten::wait": _emit_wait,
            "prim::awaitable": _emit_awaitable,
            "prim::awaitable_nowait": _emit_awaitable_nowait,
            "prim::awaitable_wait": _emit_wait}
