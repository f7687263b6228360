"""Alias analysis: which values may share memory, and which nodes write to it.

CSE needs it (two identical reads of %x are one value only if nothing writes %x between
them), constant propagation needs it (a list that something writes to cannot become a
shared constant) and the fuser needs it (an in-place op must not be moved past a read of
the memory it writes).

The model is TorchScript's, made coarse where that keeps it small and still safe:

- Only values of mutable types take part: tensors, lists, dicts, objects, and optionals,
  unions or tuples holding them. An int never aliases anything.
- Values that may share memory fall into one *alias class* (union-find): a view and its
  base (registry tag "view", or a schema return `Tensor(a)` matching an argument
  `Tensor(a)`), an in-place op's result and its `Tensor(a!) self`, a prim::If output and
  its block outputs, a loop-carried value in all its places.
- A container (list, tuple, dict) is a class of its own that records which classes it
  *contains*: `aten::append(%l, %t)` writes the list, not %t, but an element read back
  out of %l falls into %t's class.
- Graph inputs, and everything handed to code we cannot see (prim::CallFunction,
  prim::CallMethod, ...), join one *wildcard* class: inputs may alias each other
  (`f(x, x)`), and a callee may keep what it is given.
- Writes come from the schema (`Tensor(a!)`), the list/dict mutators (`aten::append`,
  ...: their first input), prim::SetAttr (the object), and opaque calls, which may write
  each mutable input and anything in the wildcard class.

An AliasDb describes the graph as it was when built: build a new one after changing it.
"""
from __future__ import annotations

from ..ir import types as T
from ..ir.schema_match import AUTOGRAD_KINDS, SIDE_EFFECT_KINDS, writes_at_all
from ..ir.schema_match import LIST_INPLACE_KINDS

__all__ = ["AliasDb", "is_mutable_type", "local_container_aliases", "CONTAINER_MUTATORS",
           "is_container_mutator",
           "TORCH_FRESH_RESULT"]

# calls whose bodies we cannot see: they may keep, alias and write what they are given
# (autograd calls write leaves' .grad, anywhere)
_OPAQUE_KINDS = frozenset({"prim::CallFunction", "prim::CallMethod", "prim::Enter",
                           "prim::Exit", "prim::Closure", "prim::With"}) | AUTOGRAD_KINDS
# nodes that read only (their side effect is printing or raising)
_READ_ONLY_KINDS = frozenset({"prim::Print", "prim::RaiseException", "aten::warn",
                              "prim::RecordFunction"})
# element reads: the output is (part of) an element of the container input
# (aten::values / aten::items / aten::popitem are not: their output is a new list or tuple
# that holds the elements, one level further out; they fall to "any part of the inputs")
_ELEMENT_READS = frozenset({"prim::ListUnpack", "prim::TupleUnpack", "prim::TupleIndex",
                            "aten::__getitem__", "prim::ListIndex", "prim::DictIndex",
                            "aten::pop", "aten::wait", "prim::awaitable_wait"})
# mutators that store their later inputs as elements (a key, an index, the value): a list
# appended to a List[List[int]] is an element, not a source of elements as extend's is
_STORES_ELEMENTS = frozenset({"aten::append", "aten::insert", "aten::_set_item",
                              "aten::setdefault"})
# container ops (no registry op) whose result is a new container of the elements of their
# container inputs: the elements are the inputs' own (items / enumerate / zip make new
# tuples: those stay with _any_part)
_ELEMENT_COPIES = frozenset({"aten::list", "aten::copy", "aten::sorted", "aten::reversed",
                             "aten::slice", "aten::add", "aten::mul", "aten::keys",
                             "aten::values"}) | {"aten::dict"}
# node.meta key: the list `+=` whose result TorchScript's AliasDb takes for a new list
TORCH_FRESH_RESULT = "torch_fresh_result"
_CONSTRUCTS = frozenset({"prim::ListConstruct", "prim::TupleConstruct",
                         "prim::DictConstruct", "prim::awaitable_nowait"})


def is_mutable_type(t) -> bool:
    """Can a value of this type share memory that something writes? (TorchScript's
    isMutableType, with tuples counted by what they hold.)"""
    if isinstance(t, (T.TensorType, T.ListType, T.DictType, T.SetType, T.ClassType,
                      T.AnyType)):
        return True
    if isinstance(t, (T.OptionalType, T.FutureType, T.AwaitType)):  # (holds its value)
        return is_mutable_type(t.elem)
    if isinstance(t, T.UnionType):
        return any(is_mutable_type(e) for e in t.types)
    if isinstance(t, T.TupleType):
        return any(is_mutable_type(e) for e in t.elems)
    return False


def _is_container(t) -> bool:
    if isinstance(t, T.OptionalType):
        t = t.elem
    return isinstance(t, (T.ListType, T.TupleType, T.DictType, T.SetType))


class _Wildcard:
    def __repr__(self):
        return "<wildcard>"


class AliasDb:
    """May-alias classes and writers of one graph. Queries take Values and Nodes."""

    def __init__(self, graph, torch_iadd=False):
        """torch_iadd: the result of a list's `+=` (an aten::extend whose meta says
        TORCH_FRESH_RESULT) is a new list, as TorchScript's schema `aten::add_.t(t[](a!)
        self, t[] b) -> t[]` (no alias annotation on its return) makes it for its AliasDb;
        DCE asks for that, to drop what TorchScript's drops."""
        self.graph = graph
        self._torch_iadd = torch_iadd
        self._parent: dict = {}       # union-find over Values (and the wildcard)
        self._contents: dict = {}     # class root -> members of the classes it contains
        self._writes: dict = {}       # innermost node -> values (or wildcard) it writes
        self._deep_writes: dict = {}  # node -> containers whose elements it writes too
        self._order: dict = {}        # node -> position in (pre-order) execution order
        self._reads: list = []        # (out, container): out is an element of container
        self._any_part: list = []     # (out, in): out may be in or any part of
        self._parts: list = []        # (out, in): out holds what in holds (a new container)
        self._escapes: list = []      # values handed to code we cannot see
        self._returned = None         # classes the caller can reach (computed on demand)
        self.wildcard = _Wildcard()
        self._contents[self.wildcard] = {self.wildcard}
        for v in graph.inputs:
            if is_mutable_type(v.type):
                self._union(v, self.wildcard)
        self._analyze_block(graph.block)
        self._solve()
        self._writers_by_class: dict = {}
        self._writer_nodes = None     # every node in _writers_by_class (on demand)
        for node, written in self._writes.items():
            classes = set()
            for v in written:
                deep = v in self._deep_writes.get(node, ())
                classes |= self._reach(v) if deep else {self._find(v)}
            for c in classes:
                self._writers_by_class.setdefault(c, []).append(node)

    # ------------------------------------------------------------------ union-find
    def _find(self, x):
        parent = self._parent
        root = parent.setdefault(x, x)
        while parent[root] is not root:
            root = parent[root]
        while parent[x] is not root:
            parent[x], x = root, parent[x]
        return root

    def _union(self, a, b) -> bool:
        ra, rb = self._find(a), self._find(b)
        if ra is rb:
            return False
        if rb is self.wildcard:          # keep the wildcard its own root: cheap to test
            ra, rb = rb, ra
        self._parent[rb] = ra
        moved = self._contents.pop(rb, None)
        if moved:
            self._contents.setdefault(ra, set()).update(moved)
        return True

    def _contain(self, container, element):
        if is_mutable_type(element.type):
            self._contents.setdefault(self._find(container), set()).add(element)

    def _direct_contents(self, x):
        return {self._find(c) for c in self._contents.get(self._find(x), ())}

    def _reach(self, x):
        """x's class and every class inside it, transitively."""
        seen, todo = set(), [self._find(x)]
        while todo:
            c = todo.pop()
            if c not in seen:
                seen.add(c)
                todo.extend(self._direct_contents(c))
        return seen

    # ------------------------------------------------------------------ analysis
    def _analyze_block(self, block):
        for node in block.nodes:
            self._order[node] = len(self._order)
            self._analyze_node(node)

    def _write(self, node, v):
        self._writes.setdefault(node, []).append(v)

    def _analyze_node(self, node):
        kind = node.kind
        outs = [o for o in node.outputs if is_mutable_type(o.type)]
        ins = [v for v in node.inputs if is_mutable_type(v.type)]
        if kind == "prim::If":
            for b in node.blocks:
                self._analyze_block(b)
                self._join_positions(node.outputs, b.outputs)
        elif kind == "prim::Loop":
            body = node.blocks[0]
            carried = node.inputs[2:]
            self._join_positions(carried, body.inputs[1:])
            self._join_positions(carried, node.outputs)
            self._analyze_block(body)
            self._join_positions(carried, body.outputs[1:])
        elif kind in ("prim::fork", "prim::awaitable"):   # holds the block's value
            b = node.blocks[0]
            if b.inputs:                    # (an awaitable's: its arguments)
                self._join_positions(list(node.inputs), list(b.inputs))
            self._analyze_block(b)
            for o in outs:
                self._contain(o, b.outputs[0])
        elif kind in _OPAQUE_KINDS:
            for b in node.blocks:
                self._analyze_block(b)
            self._escapes.extend(ins + outs)
            for v in ins:
                self._write(node, v)
            self._write(node, self.wildcard)
        elif kind == "prim::Constant" or kind in _READ_ONLY_KINDS:
            pass                                    # fresh values / reads only
        elif kind in _CONSTRUCTS:
            for o in outs:
                for v in node.inputs:
                    self._contain(o, v)
        elif kind in _ELEMENT_READS:
            for o in outs:
                self._reads.append((o, node.inputs[0]))
            if kind == "aten::pop":
                self._write(node, node.inputs[0])
        elif kind == "prim::SetAttr":
            self._contain(node.inputs[0], node.inputs[1])
            self._write(node, node.inputs[0])
        elif (kind in SIDE_EFFECT_KINDS and kind.startswith("aten::") or
              kind in LIST_INPLACE_KINDS and node.op is None) and node.inputs:
            # list / dict mutators: aten::append(%l, %x), aten::_set_item(%d, %k, %v), ...
            # (they return the container itself, as `t[](a!)` says, or nothing)
            for v in node.inputs[1:]:
                if kind in _STORES_ELEMENTS or not _is_container(v.type):
                    self._contain(node.inputs[0], v)
                else:
                    self._parts.append((node.inputs[0], v))  # extend(%l, %m): m's elements
            for o in outs:
                if kind == "aten::popitem":         # a new (key, value) tuple
                    self._any_part.append((o, node.inputs[0]))
                elif self._torch_iadd and node.meta.get(TORCH_FRESH_RESULT):
                    self._parts.append((o, node.inputs[0]))
                else:
                    self._union(o, node.inputs[0])
            self._write(node, node.inputs[0])
        elif node.op is not None:
            self._analyze_schema(node, outs, ins)
            if kind == "aten::set_" and len(ins) == 2:
                self._union(ins[0], ins[1])     # (self now is source's memory)
        elif kind in _ELEMENT_COPIES:
            # a new list of the input's elements (list(l), l + m, sorted(l), l[1:]): it
            # holds what they hold, and is none of them
            for o in outs:
                for v in ins:
                    self._parts.append((o, v))
        else:
            # an op we know nothing of that is not a call (prim::GetAttr, casts, unknown
            # aten:: kinds): its outputs may be any part of its inputs; it writes nothing
            for o in outs:
                for v in ins:
                    self._any_part.append((o, v))

    def _join_positions(self, xs, ys):
        for x, y in zip(xs, ys):
            if is_mutable_type(x.type) and is_mutable_type(y.type):
                self._union(x, y)

    def _analyze_schema(self, node, outs, ins):
        """A registry op: `Tensor(a!)` arguments are written (a written `Tensor(a!)[]`
        means its tensors are), a return `Tensor(a)` is its `Tensor(a)` argument, a view
        op's results alias its inputs, anything else returned is new."""
        op = node.op
        args = op.schema.arguments
        by_alias: dict = {}
        writes = writes_at_all(node)
        for a, v in zip(args, node.inputs):
            if a.type.alias and is_mutable_type(v.type):
                by_alias.setdefault(a.type.alias, []).append(v)
            if writes and a.type.is_write and is_mutable_type(v.type):
                self._write(node, v)
                if _is_container(v.type):
                    self._deep_writes.setdefault(node, set()).add(v)
        is_view = "view" in op.tags
        containers_in = [v for v in ins if _is_container(v.type)]
        for r, o in zip(op.schema.returns, node.outputs):
            if not is_mutable_type(o.type):
                continue
            sources = by_alias.get(r.type.alias, []) if r.type.alias else []
            if not sources and (is_view or r.type.alias):
                sources = ins        # a view op without annotations: any of its inputs
            for v in sources:
                if r.type.is_list and not _is_container(v.type):
                    self._contain(o, v)             # Tensor(a)[]: elements alias self
                elif r.type.is_list:
                    self._any_part.append((o, v))
                else:
                    self._union(o, v)
            if not sources and _is_container(o.type):
                # a new container (list(l), l + m) may hold the elements of its inputs
                for v in containers_in:
                    self._any_part.append((o, v))

    def _solve(self):
        """Apply the constraints that depend on contents until nothing changes (a loop
        may append to a list after the read that sees the appended element)."""
        changed = True
        while changed:
            changed = False
            for out, cont in self._reads:
                for c in self._direct_contents(cont):
                    changed |= self._union(out, c)
            for out, inp in self._any_part:
                for c in self._reach(inp):
                    changed |= self._union(out, c)
            for out, inp in self._parts:
                if not _is_container(inp.type):
                    continue
                held = self._direct_contents(out)
                for c in self._direct_contents(inp):
                    if c not in held:
                        self._contents.setdefault(self._find(out), set()).add(c)
                        changed = True
            for v in self._escapes + [self.wildcard]:   # what a wildcard holds is one too
                for c in self._reach(v):
                    changed |= self._union(c, self.wildcard)

    # ------------------------------------------------------------------ queries
    def may_alias(self, a, b) -> bool:
        """May a and b share memory (or be parts of what a wildcard value holds)?"""
        return (is_mutable_type(a.type) and is_mutable_type(b.type)
                and self._find(a) is self._find(b))

    def may_reach(self, container, v) -> bool:
        """May v share memory with container or with something inside it (transitively:
        an object's attribute, a list's element, a tuple's list's element)?"""
        return (is_mutable_type(container.type) and is_mutable_type(v.type)
                and self._find(v) in self._reach(container))

    def is_wildcard(self, v) -> bool:
        """Is v a graph input, or did it reach code we cannot see?"""
        return is_mutable_type(v.type) and self._find(v) is self.wildcard

    def is_contained(self, v) -> bool:
        """May v be held inside a container or object (a list's element, an attribute),
        or be a graph input or reach code we cannot see?"""
        if not is_mutable_type(v.type):
            return False
        c = self._find(v)
        return c is self.wildcard or any(
            root is not c and any(self._find(e) is c for e in members)
            for root, members in self._contents.items())

    def escapes(self, v) -> bool:
        """Can the caller (or opaque code) reach v after the graph ran? True for wildcard
        values and for values returned, alone or inside a returned container."""
        if not is_mutable_type(v.type):
            return False
        c = self._find(v)
        return c is self.wildcard or c in self._returned_classes()

    def _returned_classes(self) -> set:
        if self._returned is None:
            self._returned = set()
            for o in self.graph.outputs:
                if is_mutable_type(o.type):
                    self._returned |= self._reach(o)
        return self._returned

    def is_returned(self, v) -> bool:
        """May v be (or be inside) a value the graph returns? Unlike `escapes`, a wildcard
        value (a module's attribute, an input) counts only where a returned value is a
        wildcard too: TorchScript's mayContainAlias(v, graph outputs)."""
        if not is_mutable_type(v.type):
            return False
        return self._find(v) in self._returned_classes()

    def writes_to(self, node) -> set:
        """The values node (or any node in its blocks) writes in place. An opaque call may
        also write any wildcard value; `writes_to_alias` accounts for that."""
        out = set()
        for n in _self_and_nested(node):
            out.update(v for v in self._writes.get(n, ()) if v is not self.wildcard)
        return out

    def writes_to_alias(self, node, values) -> bool:
        """Does node (or a node in its blocks) write memory that one of values may use?"""
        nodes = set(_self_and_nested(node))
        return any(w in nodes for v in values for w in self.writers(v))

    def writes_anything(self, node) -> bool:
        """Does node (or a node in its blocks) write anything the AliasDb knows of? When
        not, `writes_to_alias(node, ...)` is False whatever the values."""
        if self._writer_nodes is None:
            self._writer_nodes = {n for ns in self._writers_by_class.values() for n in ns}
        writers = self._writer_nodes
        if not writers:
            return False
        if not node.blocks:
            return node in writers
        return any(n in writers for n in _self_and_nested(node))

    def writers(self, v) -> list:
        """The nodes that write v or a value that may alias it, in graph order."""
        if not is_mutable_type(v.type):
            return []
        return list(self._writers_by_class.get(self._find(v), ()))

    def has_writers(self, v) -> bool:
        return bool(self.writers(v))

    def is_mutated_between(self, values, earlier, later) -> bool:
        """Can a write to (an alias of) one of values run after `earlier` starts and
        before `later` runs? `earlier` must come first in execution order (it is in the
        same block as `later` or in an enclosing one). A write inside a loop around
        `later` that does not also hold `earlier` counts wherever it is in the body: it
        runs between them on the next trip."""
        lo, hi = self._order[earlier], self._order[later]
        loops = [n for n in _enclosing_nodes(later)
                 if n.kind == "prim::Loop" and n not in _enclosing_nodes(earlier)]
        for v in values:
            for w in self.writers(v):
                if lo < self._order[w] < hi:
                    return True
                if any(l in _enclosing_nodes(w) for l in loops):
                    return True
        return False


    def is_mutated_after(self, values, node, ignore=None) -> bool:
        """Can a write to (an alias of) one of values run after `node` starts: a writer
        later in graph order, or one inside a loop that also holds node (it runs again
        on the next trip)? ignore: a predicate of writers known to write nothing at run
        time (left opaque here so that no pass moves nodes across them)."""
        lo = self._order[node]
        loops = [n for n in _enclosing_nodes(node) if n.kind == "prim::Loop"]
        for v in values:
            for w in self.writers(v):
                if ignore is not None and ignore(w):
                    continue
                if self._order[w] > lo or any(l in _enclosing_nodes(w) for l in loops):
                    return True
        return False


# the list / dict mutators (aten::pop / popitem also read: they return an element)
CONTAINER_MUTATORS = frozenset({"aten::append", "aten::insert", "aten::_set_item",
                                "aten::extend", "aten::clear", "aten::remove", "aten::pop",
                                "aten::popitem", "aten::update", "aten::Delete",
                                "aten::sort", "aten::reverse"})
# container ops that read their container inputs and keep none of them: their outputs are
# numbers, strings or new containers (which may hold the elements, never the input itself)
_CONTAINER_READERS = frozenset({
    "aten::len", "aten::__getitem__", "aten::__contains__", "aten::count", "aten::keys",
    "aten::values", "aten::items", "aten::list", "aten::copy", "aten::sorted",
    "aten::reversed", "aten::slice", "aten::add", "aten::mul", "aten::sub", "aten::set",
    "aten::__or__", "aten::__and__", "aten::__xor__", "aten::min", "aten::max", "aten::any",
    "aten::all", "aten::sum", "aten::enumerate", "aten::zip", "aten::str", "aten::format",
    "aten::percentFormat", "aten::__is__", "aten::__isnot__", "aten::eq", "aten::ne",
    "aten::lt", "aten::le", "aten::gt", "aten::ge", "aten::index", "prim::ListUnpack",
    "prim::Print", "prim::RaiseException", "aten::warn", "prim::isinstance"}) | {"aten::dict"}
# mutators' later inputs that are only read (extend's / update's source, remove's element)
_READ_ARGS = frozenset({"aten::extend", "aten::remove", "aten::update", "aten::add_"})


def is_container_mutator(node) -> bool:
    """A list / dict mutator (CONTAINER_MUTATORS), or a list's `+=` / `*=` (aten::add_ /
    aten::mul_ without a registry op: a Tensor's add_ has one)."""
    return node.kind in CONTAINER_MUTATORS or (node.kind in LIST_INPLACE_KINDS and
                                               node.op is None)
# the ops whose container output is a new one (__getitem__'s, min's, ListUnpack's are
# elements: they may be anyone's)
_FRESH_CONTAINERS = frozenset({
    "prim::ListConstruct", "prim::DictConstruct", "aten::keys", "aten::values",
    "aten::items", "aten::list", "aten::copy", "aten::sorted", "aten::reversed",
    "aten::slice", "aten::add", "aten::mul", "aten::sub", "aten::set", "aten::__or__",
    "aten::__and__", "aten::__xor__", "aten::enumerate", "aten::zip"}) | {"aten::dict"}


def local_container_aliases(v, blockers=None, torch_iadd=False):
    """The values that are the list / dict v, if v provably stays local: made in this
    graph (a literal or a new container, never a graph input, an element read out of
    another container, an attribute or a call's result), and flowing only through
    prim::If outputs and loop-carried places to container ops that read or mutate it.
    None when it may escape: stored in another container, tuple, object or attribute,
    handed to a call or to an op not known to keep nothing of it, returned, or used
    inside a block other than an if's or a loop's (a fork's, a closure's). A write to
    such a container matters only through the returned values' readers. blockers: a
    list that gets the node whose use of the container made it escape (where one did).
    torch_iadd: a list's `+=` makes a new list (AliasDb's torch_iadd)."""
    if not _is_container(v.type) or isinstance(v.type, T.TupleType):
        return None
    seen, todo = set(), [v]

    def add(x):
        if x not in seen:
            seen.add(x)
            todo.append(x)
    while todo:
        x = todo.pop()
        n = x.node
        if n.kind == "prim::Param":
            owner = n.owning_block.owning_node
            if owner is None or owner.kind != "prim::Loop" or x.offset == 0:
                return None                         # a graph input, a fork's argument
            k = x.offset - 1
            add(owner.inputs[2 + k])
            add(owner.outputs[k])
            add(n.owning_block.outputs[1 + k])
        elif n.kind == "prim::Loop":
            add(n.inputs[2 + x.offset])
            add(n.blocks[0].inputs[1 + x.offset])
            add(n.blocks[0].outputs[1 + x.offset])
        elif n.kind == "prim::If":
            for b in n.blocks:
                add(b.outputs[x.offset])
        elif torch_iadd and n.meta.get(TORCH_FRESH_RESULT):
            pass                                    # (a new list, as TorchScript sees it)
        elif is_container_mutator(n) and n.kind not in ("aten::pop", "aten::popitem") \
                or n.kind == "prim::unchecked_cast":
            add(n.inputs[0])                        # (returns its container)
        elif not (n.kind in _FRESH_CONTAINERS and n.op is None or _returns_new(n)):
            return None
        for u in x.uses:
            user, i = u.user, u.offset
            if not _in_plain_blocks(user):
                return _blocked(blockers, user)
            if user.kind == "prim::Return":
                owner = user.owning_block.owning_node
                if owner is None or (owner.kind == "prim::Loop" and i == 0) or \
                        owner.kind not in ("prim::If", "prim::Loop"):
                    return _blocked(blockers, user)     # returned, or a fork's result
                if owner.kind == "prim::If":
                    add(owner.outputs[i])
                else:
                    add(owner.outputs[i - 1])
            elif user.kind == "prim::Loop":
                if i < 2:
                    return _blocked(blockers, user)
                add(user.outputs[i - 2])
                add(user.blocks[0].inputs[i - 1])
            elif is_container_mutator(user):
                if i == 0 and user.kind not in ("aten::pop", "aten::popitem"):
                    for o in user.outputs:          # (returns its container)
                        add(o)
                elif i > 0 and user.kind not in _READ_ARGS:
                    return _blocked(blockers, user)     # stored as an element
            elif user.kind == "prim::unchecked_cast":
                add(user.outputs[0])
            elif not (user.kind in _CONTAINER_READERS and user.op is None
                      or _only_reads(user, i)):
                return _blocked(blockers, user)
    return seen


def _blocked(blockers, node):
    if blockers is not None:
        blockers.append(node)
    return None


def _only_reads(node, i) -> bool:
    """Does registry op node only read its input i (no alias annotation: it neither
    writes it nor returns a part of it)?"""
    op = node.op
    if op is None or node.kind in _OPAQUE_KINDS or node.kind in SIDE_EFFECT_KINDS:
        return False
    args = op.schema.arguments
    return (i < len(args) and not args[i].type.alias and not args[i].type.is_write
            and "view" not in op.tags)


def _returns_new(node) -> bool:
    """Are registry op node's results new values (no alias annotation on its returns)?"""
    op = node.op
    return (op is not None and node.kind not in _OPAQUE_KINDS
            and node.kind not in SIDE_EFFECT_KINDS and "view" not in op.tags
            and not any(r.type.alias for r in op.schema.returns))


def _in_plain_blocks(node) -> bool:
    """Does node run where its graph runs, in order: at top level or only inside prim::If
    and prim::Loop blocks?"""
    return all(n.kind in ("prim::If", "prim::Loop") for n in _enclosing_nodes(node))


def _self_and_nested(node):
    yield node
    for b in node.blocks:
        yield from b.walk()


def _enclosing_nodes(node) -> list:
    """The nodes whose blocks hold node, innermost first."""
    out = []
    b = node.owning_block
    while b is not None and b.owning_node is not None:
        out.append(b.owning_node)
        b = b.owning_node.owning_block
    return out
