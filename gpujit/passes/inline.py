"""Inlining: replace each call to a function or method whose graph we know by a copy of
that graph, so the later passes (constant propagation, CSE, the fuser) see one graph.

    %y : Tensor = prim::CallMethod[name="forward"](%self.cell, %x)
    %z : Tensor = prim::CallFunction[name="gelu"](%y)

The callee of a node is, in this order: `node.meta["callee"]` (a Graph, or an object with a
`.graph`, such as a scripted function); for prim::CallFunction, `functions[name]` (the name
attribute, or that of the `prim::Constant[name=...]` function value passed first); for
prim::CallMethod, `node.inputs[0].type.methods[name]` (a ClassType's method graphs take
self first). A call whose callee is not known is left as it is (the executor calls it).
Callee bodies are inlined first, so calls inside them disappear too, and then
constant-propagated and cleared of dead code once (TorchScript inlines a callee's
pre-optimized graph likewise); a function that calls itself cannot be inlined and is an
error, as in TorchScript.
"""
from __future__ import annotations

from ..ir import Graph
from ..ir import types as T
from .constant_propagation import propagate_constants
from .dce import eliminate_dead_code

__all__ = ["inline_calls", "inline", "inlined_graph", "InlineError"]

_CALLS = ("prim::CallFunction", "prim::CallMethod")


class InlineError(RuntimeError):
    pass


def inline_calls(graph: Graph, functions=None) -> None:
    """Inline (in place) every prim::CallFunction / prim::CallMethod whose callee is
    known, recursively. `functions` maps a prim::CallFunction's `name` to its callee.
    False where the graph calls nothing known (it is left as it was)."""
    return _Inliner(functions or {}).run(graph, ())


# TorchScript's name for the pass (torch._C._jit_pass_inline); gpujit.jit imports it
inline = inline_calls


def inlined_graph(graph: Graph, functions=None) -> Graph:
    """A copy of graph with its calls inlined (what `.inlined_graph` shows)."""
    g = graph.copy()
    inline_calls(g, functions)
    return g


class _Inliner:
    def __init__(self, functions):
        self.functions = functions
        self.done = {}          # id(callee graph) -> (callee, its inlined copy)

    def run(self, graph, stack):
        inlined = False
        for node in list(graph.walk()):
            if node.kind not in _CALLS or node.owning_block is None:
                continue
            callee = self.callee(node)
            if callee is not None:
                self.inline_node(node, callee, stack + ((callee, _label(node)),))
                inlined = True
        return inlined

    def callee(self, node):
        found = node.meta.get("callee")
        name = node.attrs.get("name")
        if name is None and node.kind == "prim::CallFunction" and node.inputs:
            fn = node.inputs[0].node        # TorchScript's `prim::Constant[name="f"]()`
            if fn.kind == "prim::Constant":
                name = fn.attrs.get("name")
        if found is None and node.kind == "prim::CallFunction":
            found = self.functions.get(name)
        if found is None and node.kind == "prim::CallMethod" and node.inputs:
            cls = node.inputs[0].type
            if isinstance(cls, T.ClassType):
                found = cls.methods.get(name)
        if found is None:
            return None
        g = found if isinstance(found, Graph) else getattr(found, "graph", None)
        if not isinstance(g, Graph):
            raise InlineError(f"{node.kind}[name={name!r}]: the callee {found!r} is neither a "
                              f"Graph nor has a .graph Graph")
        return g

    def body(self, callee, stack):
        """callee with its own calls inlined (computed once per callee). stack: the
        (callee, label) pairs being inlined, outermost first, this one last."""
        if any(c is callee for c, _ in stack[:-1]):
            names = " -> ".join(label for _, label in stack)
            raise InlineError(f"cannot inline a recursive call ({names}): TorchScript "
                              f"functions may not call themselves")
        hit = self.done.get(id(callee))
        if hit is not None and hit[0] is callee:
            return hit[1]
        body = callee.copy()
        self.run(body, stack)
        # as TorchScript inlines a callee's pre-optimized graph: what its own constants
        # decide (branches of inlined helpers, dead values) goes once here, not in every
        # copy (a scripted nn.Transformer's inlining cloned 230k nodes for a graph of 26k;
        # optimized, 4.5k)
        propagate_constants(body, tensors=False)
        # (a submodule's read stays when its call was inlined and reads nothing of it, a
        # parameterless nn.ReLU's `%act = prim::GetAttr[name="act"](%self)`, as torch's
        # inlining keeps it: its inlined_graph shows it, tensorboard's add_graph a node)
        eliminate_dead_code(body, keep=_submodule_read)
        self.done[id(callee)] = (callee, body)
        return body

    def inline_node(self, node, callee, stack):
        body = self.body(callee, stack)
        args = list(node.inputs)
        if node.kind == "prim::CallFunction" and len(args) == len(body.inputs) + 1:
            args = args[1:]         # TorchScript's form: the function value comes first
        if len(args) != len(body.inputs):
            raise InlineError(f"{node.kind}[name={node.attrs.get('name')!r}] passes "
                              f"{len(args)} arguments but its callee takes "
                              f"{len(body.inputs)}:\n{body}")
        if len(body.outputs) != len(node.outputs):
            raise InlineError(f"{node.kind}[name={node.attrs.get('name')!r}] has "
                              f"{len(node.outputs)} outputs but its callee returns "
                              f"{len(body.outputs)}:\n{body}")
        graph = node.graph
        with graph.inserting_before(node):
            results = graph.insert_graph(body, args, inlined_at=node.source_range)
        for out, r in zip(node.outputs, results):
            out.replace_all_uses_with(r)
        node.destroy()


def _submodule_read(node):
    return node.kind == "prim::GetAttr" and isinstance(node.output.type, T.ClassType)


def _label(node):
    return f"{node.kind}[name={node.attrs.get('name')!r}]"
