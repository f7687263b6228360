"""The graph IR, shaped as TorchScript's: a Graph owns a top Block; a Block is a list of
Nodes between a param node (its inputs) and a return node (its outputs); a Node has a kind
(`aten::mul`, `prim::If`, ...), input Values, output Values, attributes, sub-blocks and a
source range; a Value has a unique name, a type and its uses. Every pass may call
`graph.lint()`; the tests call it after every pass.

Passes read attributes (`g.nodes`, `n.kind`, `n.inputs`, `v.type`, `v.node`); code written
for torch._C's graphs calls methods (`for n in g.nodes(): n.kind()`, `n.inputs()`,
`v.type()`, `v.node()`, `n.g("Subgraph")`, `g.findAllNodes(kind)`): both work, as the
lists are `Seq`s (lists whose call is PyTorch's iterator), a kind is a `Kind` (a str whose
call returns the str) and Nodes, Values and Types return themselves when called.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from . import types as T
from .c_names import BlockCNames, GraphCNames, NodeCNames, ValueCNames
from .source_range import SourceRange

__all__ = ["Graph", "Block", "Node", "Value", "Use", "SourceRange", "LintError", "Seq", "Kind",
           "kind_of"]


class Seq(list):
    """A list of nodes, Values, blocks or uses; calling it, as torch._C's `g.nodes()`,
    `n.inputs()`, gives an iterator over it."""
    __slots__ = ()

    def __call__(self):
        return iter(self)


class UseList(Seq):
    """A Value's uses; calling it, as torch._C's `v.uses()`, gives a list (torch returns a
    std::vector<Use>: len() works on it), not an iterator."""
    __slots__ = ()

    def __call__(self):
        return list(self)


# kinds gpujit's registry spells in another namespace than TorchScript: x.is_cuda is
# TorchScript's prim::is_cuda, gpujit's aten::is_cuda op (printed, parsed and named as
# torch's: the printer, the parser, n.kind() and export_opnames read this table)
TORCH_SPELLING = {f"aten::{n}": f"prim::{n}" for n in (
    "is_cuda", "is_cpu", "is_xla", "is_xpu", "is_ipu", "is_mps", "is_maia", "is_mtia",
    "is_meta", "is_mkldnn", "is_quantized", "is_sparse", "is_sparse_csr", "is_vulkan",
    "is_nested")}
OWN_SPELLING = {v: k for k, v in TORCH_SPELLING.items()}


class Kind(str):
    """A node's kind: a str; `n.kind()` (torch._C's spelling) returns it as a plain str,
    as TorchScript names it (TORCH_SPELLING)."""
    __slots__ = ()

    def __call__(self):
        return TORCH_SPELLING.get(self, str(self))


_KINDS: dict = {}


def kind_of(kind: str) -> Kind:
    """The shared Kind of a kind string (what every assignment to Node.kind goes through)."""
    if type(kind) is Kind:              # (a copied node's: already the shared one)
        return kind
    k = _KINDS.get(kind)
    if k is None:
        k = _KINDS[kind] = Kind(kind)
    return k


class LintError(AssertionError):
    pass


class Use(NamedTuple):
    """One use of a Value: input `offset` of node `user`. (A named tuple, not a frozen
    dataclass: uses are made for every input of every node made, copied or parsed, and
    compared in `uses.remove(Use(n, i))` and lint's `Use(n, i) in v.uses`; a tuple's C
    constructor, equality and hash make those ~2x faster.)"""
    user: "Node"
    offset: int


class Value(ValueCNames):
    __slots__ = ("node", "offset", "type", "uses", "unique", "_name")

    def __init__(self, node, offset, type_, unique):
        self.node = node
        self.offset = offset
        self.type = type_
        self.uses: list[Use] = UseList()
        self.unique = unique
        self._name = None

    @property
    def graph(self):
        return self.node.graph

    @property
    def debug_name(self) -> str:
        return self._name if self._name is not None else str(self.unique)

    def has_debug_name(self):
        return self._name is not None and not self._name.isdigit()

    def set_debug_name(self, name: str | None) -> "Value":
        self.graph._rename(self, name)
        return self

    def replace_all_uses_with(self, other: "Value"):
        for u in list(self.uses):
            u.user.replace_input(u.offset, other)

    def __repr__(self):
        return f"%{self.debug_name}"


class Node(NodeCNames):
    __slots__ = ("kind", "inputs", "outputs", "attrs", "blocks", "source_range", "scope",
                 "owning_block", "graph", "meta", "_op")

    def __init__(self, graph, kind, attrs=None, source_range=None, scope=None):
        self.graph = graph
        self.kind = kind_of(kind)
        self.inputs: list[Value] = Seq()
        self.outputs: list[Value] = Seq()
        self.attrs: dict = dict(attrs or {})
        self.blocks: list[Block] = Seq()
        self.source_range = source_range
        self.scope = scope
        self.owning_block = None
        self.meta: dict = {}     # free-form, for passes (profiles, fusion decisions)
        self._op = None

    # ----------------------------------------------------------------- registry link
    @property
    def op(self):
        """The registry OpDef this node calls (None for prim:: nodes): set by whoever made
        the node, else resolved from the kind and the input types."""
        if self._op is None and not self.kind.startswith("prim::"):
            from .schema_match import resolve_op
            self._op = resolve_op(self)
        return self._op

    @op.setter
    def op(self, o):
        self._op = o

    # ----------------------------------------------------------------- inputs / outputs
    def add_input(self, v: Value) -> Value:
        v.uses.append(Use(self, len(self.inputs)))
        self.inputs.append(v)
        return v

    def replace_input(self, i: int, v: Value):
        old = self.inputs[i]
        old.uses.remove(Use(self, i))
        self.inputs[i] = v
        v.uses.append(Use(self, i))

    def replace_input_with(self, old: Value, new: Value):
        for i, v in enumerate(self.inputs):
            if v is old:
                self.replace_input(i, new)

    def remove_input(self, i: int):
        self.inputs[i].uses.remove(Use(self, i))
        for j in range(i + 1, len(self.inputs)):   # later uses shift down by one
            v = self.inputs[j]
            k = v.uses.index(Use(self, j))
            v.uses[k] = Use(self, j - 1)
        del self.inputs[i]

    def remove_all_inputs(self):
        for i in reversed(range(len(self.inputs))):
            self.remove_input(i)

    def add_output(self, type_=T.TENSOR, name=None) -> Value:
        v = Value(self, len(self.outputs), type_, self.graph._new_unique())
        self.outputs.append(v)
        if name is not None:
            v.set_debug_name(name)
        return v

    def erase_output(self, i: int):
        v = self.outputs[i]
        if v.uses:
            raise LintError(f"cannot erase output {v} of {self.kind}: it still has uses")
        self.graph._forget(v)
        del self.outputs[i]
        for j, o in enumerate(self.outputs):
            o.offset = j

    @property
    def output(self) -> Value:
        if len(self.outputs) != 1:
            raise LintError(f"{self.kind} has {len(self.outputs)} outputs, not one")
        return self.outputs[0]

    def add_block(self) -> "Block":
        b = Block(self.graph, self)
        self.blocks.append(b)
        return b

    # ----------------------------------------------------------------- placement
    @property
    def index(self) -> int:
        return self.owning_block.nodes.index(self)

    def insert_before(self, n: "Node") -> "Node":
        """Put self (unplaced) just before n."""
        b = n.owning_block
        b.nodes.insert(b.nodes.index(n), self)
        self.owning_block = b
        return self

    def insert_after(self, n: "Node") -> "Node":
        b = n.owning_block
        b.nodes.insert(b.nodes.index(n) + 1, self)
        self.owning_block = b
        return self

    def move_before(self, n: "Node"):
        self.owning_block.nodes.remove(self)
        self.insert_before(n)

    def move_after(self, n: "Node"):
        self.owning_block.nodes.remove(self)
        self.insert_after(n)

    def destroy(self):
        """Remove the node (its outputs must be unused) with its blocks."""
        for v in self.outputs:
            if v.uses:
                raise LintError(f"cannot destroy {self.kind}: output {v} is used by "
                                f"{v.uses[0].user.kind}")
        for b in self.blocks:
            b.destroy()
        self.remove_all_inputs()
        for v in self.outputs:
            self.graph._forget(v)
        if self.owning_block is not None:
            self.owning_block.nodes.remove(self)
            self.owning_block = None

    def is_before(self, other: "Node") -> bool:
        """Both in the same block: does self come first?"""
        nodes = self.owning_block.nodes
        return nodes.index(self) < nodes.index(other)

    # ----------------------------------------------------------------- attributes
    def __getitem__(self, name):
        return self.attrs[name]

    def __setitem__(self, name, value):
        self.attrs[name] = value

    def has_side_effects(self) -> bool:
        from .schema_match import has_side_effects
        return has_side_effects(self)

    def __str__(self):
        """The node's lines of its graph's text (blocks included), as torch._C.Node's."""
        from .printer import print_node
        return print_node(self)

    def __repr__(self):
        outs = ", ".join(repr(v) for v in self.outputs)
        ins = ", ".join(repr(v) for v in self.inputs)
        return f"<Node {outs} = {self.kind}({ins})>"


class Block(BlockCNames):
    __slots__ = ("graph", "owning_node", "nodes", "param_node", "return_node")

    def __init__(self, graph, owning_node):
        self.graph = graph
        self.owning_node = owning_node
        self.nodes: list[Node] = Seq()
        self.param_node = Node(graph, "prim::Param")
        self.param_node.owning_block = self
        self.return_node = Node(graph, "prim::Return")
        self.return_node.owning_block = self

    @property
    def inputs(self) -> list[Value]:
        return self.param_node.outputs

    @property
    def outputs(self) -> list[Value]:
        return self.return_node.inputs

    def add_input(self, type_=T.TENSOR, name=None) -> Value:
        return self.param_node.add_output(type_, name)

    def erase_input(self, i):
        self.param_node.erase_output(i)

    def register_output(self, v: Value) -> int:
        self.return_node.add_input(v)
        return len(self.return_node.inputs) - 1

    def erase_output(self, i):
        self.return_node.remove_input(i)

    def append(self, n: Node) -> Node:
        self.nodes.append(n)
        n.owning_block = self
        return n

    def walk(self):
        """Every node in this block and, depth first, in its nodes' blocks."""
        for n in list(self.nodes):
            yield n
            for b in n.blocks:
                yield from b.walk()

    def destroy(self):
        self.return_node.remove_all_inputs()
        for n in reversed(list(self.nodes)):   # users come after definitions
            n.remove_all_inputs()
            for b in n.blocks:
                b.destroy()
        for n in self.nodes:
            for v in n.outputs:
                self.graph._forget(v)
            n.owning_block = None
        for v in self.inputs:
            self.graph._forget(v)
        self.nodes = Seq()


_SUFFIX = re.compile(r"^(.*)\.(\d+)$")


def displaced_name(name, taken, last):
    """The name Value::setDebugName gives the value that held `name` when another takes
    it: `base.N`, N past `name`'s own suffix and past the last N given for that base
    (last: base -> next N, updated), the first not in `taken`. The IR's graphs and the
    script frontend's model of torch's names (frontend/script/torch_names.py) both use it."""
    m = _SUFFIX.match(name)
    base, k = (m.group(1), int(m.group(2))) if m else (name, 1)
    prev = last.get(base)
    if prev is not None:
        k = max(k, prev + 1)
    while True:
        cand = f"{base}.{k}"
        k += 1
        if cand not in taken:
            break
    last[base] = k
    return cand


class Graph(GraphCNames):
    # how many of the last inputs are keyword-only parameters (`def f(a, *, b)`: 1); calls
    # from Python and from scripted code pass them by name only
    kwarg_only = 0
    # input index -> n for the inputs declared as broadcasting lists (BroadcastingList2[int],
    # _size_2_t): a List whose one-number argument stands for n copies of it
    broadcast = {}
    # input indices of the parameters typed Tensor for want of an annotation ('Tensor
    # (inferred)' in an argument type error)
    inferred = frozenset()
    # a scripted function's declared return type (its annotation) where the one output's
    # own type is narrower: `-> Optional[int]` returning an int, as TorchScript's schema
    # says the annotation and its graph returns the value (None: the output's type)
    return_type = None

    def __init__(self):
        self._unique = 0
        self._names: dict[str, Value] = {}
        self._suffix: dict[str, int] = {}
        self._taken: dict[str, int] = {}     # (take_name's counters, as torch's)
        self.block = Block(self, None)
        self._insert = None      # (block, before-node or None for the end)

    # ----------------------------------------------------------------- names
    def _new_unique(self):
        self._unique += 1
        while str(self._unique) in self._names:
            self._unique += 1
        return self._unique

    def _rename(self, v: Value, name):
        if v._name is not None and self._names.get(v._name) is v:
            del self._names[v._name]
        if name is None:
            v._name = None
            return
        if name.isdigit():                       # a number from parsed text: keep it
            if name in self._names:
                raise LintError(f"value name %{name} is used twice")
            v._name = name
            self._names[name] = v
            self._unique = max(self._unique, int(name))
            return
        if name in self._names:
            m = _SUFFIX.match(name)
            base = m.group(1) if m else name
            k = self._suffix.get(base, 0)
            while True:
                k += 1
                cand = f"{base}.{k}"
                if cand not in self._names:
                    break
            self._suffix[base] = k
            name = cand
        v._name = name
        self._names[name] = v

    def take_name(self, v: Value, name: str):
        """v named `name` as TorchScript's Value::setDebugName names it: a value already
        holding the name gives it up and is renamed `base.N` (N past the graph's last
        for that base: x.1, x.3, x.5 as torch's counter goes), so the newest value is
        `%x` and the older ones `%x.1`, `%x.3` (the tracer's names of a reassigned local)."""
        old = self._names.get(name)
        if old is not None and old is not v:
            self._rename(old, displaced_name(name, self._names, self._taken))
        self._rename(v, name)

    def _forget(self, v: Value):
        if v._name is not None and self._names.get(v._name) is v:
            del self._names[v._name]

    # ----------------------------------------------------------------- structure
    @property
    def inputs(self):
        return self.block.inputs

    @property
    def outputs(self):
        return self.block.outputs

    @property
    def nodes(self):
        return self.block.nodes

    @property
    def param_node(self):
        return self.block.param_node

    @property
    def return_node(self):
        return self.block.return_node

    def add_input(self, name=None, type_=T.TENSOR) -> Value:
        return self.block.add_input(type_, name)

    def register_output(self, v: Value) -> int:
        return self.block.register_output(v)

    def walk(self):
        return self.block.walk()

    def all_values(self):
        """Every Value defined in the graph: its inputs, then each node's block inputs and
        outputs, depth first."""
        yield from self.inputs
        for n in self.walk():
            for b in n.blocks:
                yield from b.inputs
            yield from n.outputs

    # torch._C's names (g.nodes(), g.inputs(), g.outputs(), g.param_node() and
    # g.return_node() are calls of what the properties return)
    def findNode(self, kind, recurse=True):
        return self.block.findNode(kind, recurse)

    def str(self) -> str:
        return self.__str__()

    def findAllNodes(self, kind, recurse=True):
        return self.block.findAllNodes(kind, recurse)

    # ----------------------------------------------------------------- node creation
    def create(self, kind, inputs=(), n_outputs=1, attrs=None, output_types=None,
               source_range=None, scope=None) -> Node:
        """A new node, not yet placed (see `insert`)."""
        n = Node(self, kind, attrs, source_range, scope)
        for v in inputs:
            n.add_input(v)
        types = output_types if output_types is not None else [T.TENSOR] * n_outputs
        for t in types:
            n.add_output(t)
        return n

    def insert(self, n: Node) -> Node:
        """Place n at the insertion point (the end of the top block by default)."""
        if self._insert is None:
            return self.block.append(n)
        block, before = self._insert
        if before is None:
            return block.append(n)
        return n.insert_before(before)

    def insert_node(self, kind, inputs=(), n_outputs=1, **kw) -> Node:
        return self.insert(self.create(kind, inputs, n_outputs, **kw))

    def insert_constant(self, value, type_=None, source_range=None) -> Value:
        if type_ is None:
            type_ = T.type_of_value(value)
        attrs = {} if value is None else {"value": value}
        n = self.create("prim::Constant", (), attrs=attrs, output_types=[type_],
                        source_range=source_range)
        return self.insert(n).output

    class _InsertPoint:
        def __init__(self, graph, point):
            self.graph, self.point = graph, point

        def __enter__(self):
            self.saved = self.graph._insert
            self.graph._insert = self.point
            return self.graph

        def __exit__(self, *exc):
            self.graph._insert = self.saved

    def inserting_before(self, n: Node):
        return Graph._InsertPoint(self, (n.owning_block, n))

    def inserting_at_end(self, block: Block):
        return Graph._InsertPoint(self, (block, None))

    # ----------------------------------------------------------------- copying
    def copy(self) -> "Graph":
        g = Graph()
        g._unique = self._unique
        vmap = {}
        for v in self.inputs:
            vmap[v] = _copy_value(g.add_input(None, v.type), v, "exact")
        clone_block_into(self.block, g.block, vmap, "exact")
        for v in self.outputs:
            g.register_output(vmap[v])
        g._unique = self._unique
        g._suffix = dict(self._suffix)
        g._taken = dict(self._taken)
        g.kwarg_only = self.kwarg_only
        g.broadcast = self.broadcast
        g.inferred = self.inferred
        g.return_type = self.return_type
        return g

    def output_types(self) -> list:
        """The types the function returns, as its schema says them (return_type for the
        one output where the annotation is wider)."""
        if self.return_type is not None and len(self.outputs) == 1:
            return [self.return_type]
        return [v.type for v in self.outputs]

    def insert_graph(self, callee: "Graph", inputs, inlined_at=None) -> list[Value]:
        """Copy callee's body at the insertion point with its inputs bound to `inputs`;
        returns the values that stand for its outputs (the inliner's primitive).
        inlined_at: the call's source range, added to each copy's meta["inlined_at"] (the
        call sites it was inlined through, innermost first: what names the user's line for
        an op of a library module's method)."""
        vmap = dict(zip(callee.inputs, inputs))
        for n in callee.nodes:
            c = self.insert(clone_node(n, self, vmap, keep_names=True))
            if inlined_at is not None:
                for m in (c, *(m for b in c.blocks for m in b.walk())):
                    m.meta["inlined_at"] = m.meta.get("inlined_at", ()) + (inlined_at,)
        return [vmap[v] for v in callee.outputs]

    # ----------------------------------------------------------------- checking / text
    def lint(self):
        from .lint import lint
        lint(self)
        return self

    def __str__(self):
        from .printer import print_graph
        return print_graph(self)

    __repr__ = __str__


def _copy_value(nv: Value, v: Value, keep_names) -> Value:
    """keep_names: False (fresh numbers), True (debug names, uniquified), "exact" (same
    name and number: copying a whole graph)."""
    if keep_names == "exact":
        g = nv.graph
        nv.unique = v.unique
        if v._name is not None:
            nv._name = v._name
            g._names[v._name] = nv
    elif keep_names and v.has_debug_name():
        nv.set_debug_name(v._name)
    return nv


def clone_node(n: Node, graph: Graph, vmap: dict, keep_names=True) -> Node:
    """A copy of n in `graph` with inputs mapped through vmap (outputs added to it)."""
    c = Node(graph, n.kind, n.attrs, n.source_range, n.scope)
    c._op = n._op
    c.meta = dict(n.meta)
    for v in n.inputs:
        c.add_input(vmap.get(v, v))
    if keep_names == "exact":
        # (a whole graph's copy: each output keeps its number and name, so none is drawn
        # from graph._new_unique, which would be thrown away: a third of the copy's time)
        names = graph._names
        for v in n.outputs:
            nv = vmap[v] = Value(c, len(c.outputs), v.type, v.unique)
            c.outputs.append(nv)
            if v._name is not None:
                nv._name = v._name
                names[v._name] = nv
    else:
        for v in n.outputs:
            vmap[v] = _copy_value(c.add_output(v.type), v, keep_names)
    for b in n.blocks:
        nb = c.add_block()
        clone_block_into(b, nb, vmap, keep_names)
    return c


def clone_block_into(src: Block, dst: Block, vmap: dict, keep_names=True):
    if src.owning_node is not None or dst.owning_node is not None:
        for v in src.inputs:
            vmap[v] = _copy_value(dst.add_input(v.type), v, keep_names)
    for n in src.nodes:
        dst.append(clone_node(n, dst.graph, vmap, keep_names))
    if src.owning_node is not None or dst.owning_node is not None:
        for v in src.outputs:
            dst.register_output(vmap.get(v, v))
