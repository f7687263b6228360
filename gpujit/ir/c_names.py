"""torch._C's spellings of the graph API that Python users call on `fn.graph`
(g.insertConstant, g.insert_point_guard, g.insertGraph, g.permuteInputs, n.matches,
n.inputsAt, n.g("Subgraph"), n.findAllNodes, v.toIValue, v.debugName, b.paramNode, ...),
as mixins of Graph / Node / Value / Block: each one is the gpujit method it names."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .graph import Node, Value


class GraphCNames:
    __slots__ = ()

    def insertConstant(self, value):
        """A prim::Constant of value at the insertion point; its Value."""
        return self.insert_constant(value)

    def insert_point_guard(self, node):
        """`with g.insert_point_guard(n):` new nodes go before n (torch._C's
        WithInsertPoint)."""
        return self.inserting_before(node)

    def insertGraph(self, callee, inputs):
        """callee's body copied at the insertion point, its inputs bound to `inputs`; the
        Values standing for its outputs."""
        return self.insert_graph(callee, list(inputs))

    def permuteInputs(self, new_order):
        """Reorder the graph's inputs: input i becomes the old input new_order[i] (names,
        types and uses travel with them)."""
        old = list(self.inputs)
        order = [int(i) for i in new_order]
        if sorted(order) != list(range(len(old))):
            raise RuntimeError(f"permuteInputs: {order} is not a permutation of the "
                               f"{len(old)} inputs")
        self.inputs[:] = [old[i] for i in order]
        for k, v in enumerate(self.inputs):
            v.offset = k
        if self.broadcast:
            where = {old_i: new_i for new_i, old_i in enumerate(order)}
            self.broadcast = {where[i]: n for i, n in self.broadcast.items()}


class NodeCNames:
    __slots__ = ()

    def __call__(self):                 # v.node()
        return self

    def input(self) -> Value:
        if len(self.inputs) != 1:
            from .graph import LintError
            raise LintError(f"{self.kind} has {len(self.inputs)} inputs, not one")
        return self.inputs[0]

    def prev(self) -> "Node":
        """The node before this one in its block (the block's prim::Param node for the
        first), as torch._C's n.prev()."""
        b = self.owning_block
        i = b.nodes.index(self)
        return b.nodes[i - 1] if i else b.param_node

    def next(self) -> "Node":
        """The node after this one (the block's prim::Return node for the last)."""
        b = self.owning_block
        i = b.nodes.index(self)
        return b.nodes[i + 1] if i + 1 < len(b.nodes) else b.return_node

    def inputsAt(self, i) -> Value:
        return self.inputs[i]

    def outputsAt(self, i) -> Value:
        return self.outputs[i]

    def inputsSize(self) -> int:
        return len(self.inputs)

    def outputsSize(self) -> int:
        return len(self.outputs)

    def hasAttribute(self, name) -> bool:
        return name in self.attrs

    def hasAttributes(self) -> bool:
        return bool(self.attrs)

    def attributeNames(self) -> list:
        return list(self.attrs)

    def kindOf(self, name) -> str:
        """torch._C's attribute kind of attrs[name]: 'i' (an int, bool or dtype), 'f',
        'c', 's' (a str or device), 't' (a Tensor), 'g' (a Graph), else 'ival' (lists and
        the rest, as torch stores a constant list)."""
        return _attr_kind(self.attrs[name]) or "ival"

    def g(self, name):                  # n.g("Subgraph")
        return self.attrs[name]

    i = f = s = ival = t = g            # (n.i("value"), n.s("name"), ...)

    def owningBlock(self):
        return self.owning_block

    def scopeName(self) -> str:
        """The module scope a trace recorded the node in ("__module.l/__module.l.0"; ""
        outside any submodule), as torch._C's n.scopeName()."""
        return self.scope or ""

    def sourceRange(self) -> str:
        return str(self.source_range) if self.source_range is not None else ""

    def schema(self) -> str:
        """The schema TorchScript matched: a number operand of gpujit's one Tensor
        overload shows PyTorch's Scalar overload (x + 1: aten::add.Scalar)."""
        s = self.torch_schema()
        return str(s) if s is not None else "(no schema)"

    def torch_schema(self):
        """The op's schema as TorchScript names it (ops/scalar_overloads), or None."""
        op = self.op
        if op is None:
            return None
        from ..ops.scalar_overloads import torch_schema
        return torch_schema(op, [_kind_name(v.type) for v in self.inputs])

    def hasUses(self) -> bool:
        return any(v.uses for v in self.outputs)

    def findNode(self, kind, recurse=True):
        return next(_find(self.blocks, kind, recurse), None)

    def findAllNodes(self, kind, recurse=True):
        return list(_find(self.blocks, kind, recurse))

    def matches(self, schema) -> bool:
        """Whether this node's operator has the given schema (text or Schema): the same
        operator name and argument / return types; the overload name need not be
        written (torch._C's Node::matches)."""
        op = self.op
        if op is None:
            return False
        from ..ops.schema import parse_schema
        want = parse_schema(schema) if isinstance(schema, str) else schema
        have = op.schema if not isinstance(op.schema, str) else parse_schema(op.schema)
        if want.name != have.name or len(want.arguments) != len(have.arguments):
            return False
        if [str(r.type) for r in want.returns] != [str(r.type) for r in have.returns]:
            return False
        for i, (w, h) in enumerate(zip(want.arguments, have.arguments)):
            if str(w.type) == str(h.type):
                continue
            # gpujit declares one overload of a pointwise op, whose Tensor operands also
            # take numbers: given a number there, it is TorchScript's `.Scalar` overload
            if str(w.type) == "Scalar" and str(h.type) == "Tensor" and op.is_pointwise \
                    and h.name in op.operands and i < len(self.inputs) and \
                    _is_number_type(self.inputs[i].type):
                continue
            return False
        return True


_NUMBER_NAMES = {"IntType": "int", "FloatType": "float", "BoolType": "bool",
                 "ComplexType": "complex", "NumberType": "Scalar", "TensorType": "Tensor"}


def _kind_name(t) -> str:
    """A value's type as ops/scalar_overloads.torch_schema reads it."""
    return _NUMBER_NAMES.get(type(t).__name__, "")


def _is_number_type(t) -> bool:
    return type(t).__name__ in ("IntType", "FloatType", "BoolType", "NumberType",
                                "ComplexType")


class ValueCNames:
    __slots__ = ()

    def __call__(self):                 # torch._C's n.output() / v.node().output()
        return self

    # torch._C's method names
    def debugName(self) -> str:
        return self.debug_name

    def setDebugName(self, name):
        return self.set_debug_name(name)

    def setType(self, t):
        self.type = t
        return self

    def replaceAllUsesWith(self, other):
        self.replace_all_uses_with(other)

    def isCompleteTensor(self) -> bool:
        """A Tensor whose dtype, sizes and device the graph knows (a traced value)."""
        t = self.type
        return getattr(t, "kind", lambda: None)() == "TensorType" and t.is_complete

    def toIValue(self):
        """The value of a constant (a prim::Constant's output), else None."""
        n = self.node
        if getattr(n, "kind", None) != "prim::Constant":
            return None
        return n.attrs.get("value")


class BlockCNames:
    __slots__ = ()
    # (b.nodes(), b.inputs() and b.outputs() are the lists' calls)

    def __call__(self):                 # g.block()
        return self

    def paramNode(self):
        return self.param_node

    def returnNode(self):
        return self.return_node

    def owningNode(self):
        return self.owning_node

    def findNode(self, kind, recurse=True):
        return next(_find([self], kind, recurse), None)

    def findAllNodes(self, kind, recurse=True):
        return list(_find([self], kind, recurse))


def _attr_kind(v):
    from ..device import device
    from ..dtypes import dtype
    from ..tensor import Tensor
    from .graph import Graph
    if isinstance(v, (bool, int, dtype)):
        return "i"
    if isinstance(v, float):
        return "f"
    if isinstance(v, complex):
        return "c"
    if isinstance(v, (str, device)):
        return "s"
    if isinstance(v, Tensor):
        return "t"
    if isinstance(v, Graph):
        return "g"
    return None


def _find(blocks, kind, recurse):
    for b in blocks:
        for n in b.nodes:
            if n.kind == kind:
                yield n
            if recurse and n.blocks:
                yield from _find(n.blocks, kind, recurse)


# n.is("sizes"), n.fs(...), n.ss(...), n.ts(...), n.gs(...), n.c(...), n.ty(...): like n.i /
# n.s, each reads the attribute ("is" is a keyword: set by name)
for _name in ("is", "fs", "ss", "ts", "gs", "c", "ty", "tys"):
    setattr(NodeCNames, _name, NodeCNames.g)
del _name
