"""torch.utils._pytree: nested containers ("pytrees") flattened to a list of leaves and a
TreeSpec that rebuilds them.

The containers are PyTorch's: tuple, list, dict, namedtuple, OrderedDict, defaultdict and
deque, plus any type given to `register_pytree_node`; everything else is a leaf (None and
tensors too). A dict's children are in its insertion order, as torch's. The TreeSpec
prints as torch's (`TreeSpec(list, None, [*, *])`) and compares equal to the spec of any
tree of the same shape.
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict, defaultdict, deque, namedtuple
from typing import Any, Callable, NamedTuple

__all__ = ["PyTree", "Context", "TreeSpec", "LeafSpec", "register_pytree_node",
           "tree_is_leaf", "tree_flatten", "tree_unflatten", "tree_iter", "tree_leaves",
           "tree_structure", "tree_map", "tree_map_", "tree_map_only", "tree_map_only_",
           "tree_all", "tree_any", "tree_all_only", "tree_any_only", "tree_flatten_with_path",
           "tree_leaves_with_path", "tree_map_with_path", "keystr", "key_get",
           "SequenceKey", "MappingKey", "GetAttrKey", "is_namedtuple",
           "is_namedtuple_class", "is_namedtuple_instance"]

PyTree = Any
Context = Any


class NodeDef(NamedTuple):
    type: type
    flatten_fn: Callable
    unflatten_fn: Callable
    flatten_with_keys_fn: Callable | None


SUPPORTED_NODES: dict[type, NodeDef] = {}


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None,
                         to_dumpable_context=None, from_dumpable_context=None,
                         flatten_with_keys_fn=None) -> None:
    """Make cls a container: flatten_fn(node) -> (children, context),
    unflatten_fn(children, context) -> node."""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn)


# ------------------------------------------------------------------ keys (paths)

@dataclasses.dataclass(frozen=True)
class SequenceKey:
    idx: int

    def __str__(self):
        return f"[{self.idx!r}]"

    def get(self, sequence):
        return sequence[self.idx]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    key: Any

    def __str__(self):
        return f"[{self.key!r}]"

    def get(self, mapping):
        return mapping[self.key]


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    name: str

    def __str__(self):
        return f".{self.name}"

    def get(self, obj):
        return getattr(obj, self.name)


def keystr(kp) -> str:
    """A key path as source text: `[0]['a'].b`."""
    return "".join(str(k) for k in kp)


def key_get(obj, kp):
    for k in kp:
        obj = k.get(obj)
    return obj


# ------------------------------------------------------------------ the built-in containers

def is_namedtuple_class(cls) -> bool:
    return (isinstance(cls, type) and issubclass(cls, tuple)
            and isinstance(getattr(cls, "_fields", None), tuple)
            and callable(getattr(cls, "_make", None)))


def is_namedtuple_instance(obj) -> bool:
    return is_namedtuple_class(type(obj))


def is_namedtuple(obj) -> bool:
    return is_namedtuple_class(obj if isinstance(obj, type) else type(obj))


def _seq_keys(d):
    return [(SequenceKey(i), v) for i, v in enumerate(d)]


def _register_builtins():
    reg = register_pytree_node
    reg(tuple, lambda d: (list(d), None), lambda v, c: tuple(v),
        flatten_with_keys_fn=lambda d: (_seq_keys(d), None))
    reg(list, lambda d: (d, None), lambda v, c: list(v),
        flatten_with_keys_fn=lambda d: (_seq_keys(d), None))
    reg(dict, lambda d: (list(d.values()), list(d.keys())), lambda v, c: dict(zip(c, v)),
        flatten_with_keys_fn=lambda d: ([(MappingKey(k), v) for k, v in d.items()],
                                        list(d.keys())))
    # namedtuples share one node type (the `namedtuple` factory, as torch); the context
    # is the class
    reg(namedtuple, lambda d: (list(d), type(d)), lambda v, c: c(*v),
        flatten_with_keys_fn=lambda d: ([(GetAttrKey(f), v) for f, v in zip(d._fields, d)],
                                        type(d)))
    reg(OrderedDict, lambda d: (list(d.values()), list(d.keys())),
        lambda v, c: OrderedDict(zip(c, v)),
        flatten_with_keys_fn=lambda d: ([(MappingKey(k), v) for k, v in d.items()],
                                        list(d.keys())))
    reg(defaultdict, lambda d: (list(d.values()), [d.default_factory, list(d.keys())]),
        lambda v, c: defaultdict(c[0], zip(c[1], v)),
        flatten_with_keys_fn=lambda d: ([(MappingKey(k), v) for k, v in d.items()],
                                        [d.default_factory, list(d.keys())]))
    reg(deque, lambda d: (list(d), d.maxlen), lambda v, c: deque(v, maxlen=c),
        flatten_with_keys_fn=lambda d: (_seq_keys(d), d.maxlen))


_register_builtins()
BUILTIN_TYPES = frozenset(SUPPORTED_NODES)
STANDARD_DICT_TYPES = frozenset({dict, OrderedDict, defaultdict})


def _node_type(tree):
    return namedtuple if is_namedtuple_instance(tree) else type(tree)


def tree_is_leaf(tree, is_leaf=None) -> bool:
    if is_leaf is not None and is_leaf(tree):
        return True
    return _node_type(tree) not in SUPPORTED_NODES


# ------------------------------------------------------------------ TreeSpec

class TreeSpec:
    """The structure of a pytree: its container type, the context that rebuilds it (dict
    keys, namedtuple class...) and one TreeSpec per child; a leaf is `*`."""

    def __init__(self, type, context, children_specs):
        self.type, self._context, self._children = type, context, list(children_specs)
        self.num_children = len(self._children)
        self.num_leaves = sum(c.num_leaves for c in self._children)
        self.num_nodes = 1 + sum(c.num_nodes for c in self._children)

    @property
    def context(self):
        return self._context

    @property
    def children_specs(self):
        return list(self._children)

    def children(self):
        return list(self._children)

    def child(self, index):
        return self._children[index]

    def is_leaf(self) -> bool:
        return self.num_nodes == 1 and self.num_leaves == 1

    def __repr__(self, indent: int = 0) -> str:
        inner = ""
        if self.num_children:
            indent += 2
            inner = (self._children[0].__repr__(indent)
                     + ("," if self.num_children > 1 else "")
                     + ",".join("\n" + " " * indent + c.__repr__(indent)
                                for c in self._children[1:]))
        return f"TreeSpec({self.type.__name__}, {self._context}, [{inner}])"

    def __eq__(self, other):
        if self is other:
            return True
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (str(self.type) == str(other.type) and self._context == other._context
                and self._children == other._children)

    def __hash__(self):
        return hash((self.type, repr(self._context), tuple(self._children)))

    def flatten_up_to(self, tree):
        """The subtrees of tree at this spec's leaves (tree must have this spec's
        containers down to them)."""
        out = []
        self._flatten_up_to(tree, out)
        return out

    def _flatten_up_to(self, node, out):
        if self.is_leaf():
            out.append(node)
            return
        ntype = _node_type(node)
        if self.type not in BUILTIN_TYPES:
            if ntype != self.type:
                raise ValueError(f"Type mismatch; expected {self.type!r}, but got {ntype!r}.")
            children, context = SUPPORTED_NODES[ntype].flatten_fn(node)
            if len(children) != self.num_children:
                raise ValueError(f"Node arity mismatch; expected {self.num_children}, but got "
                                 f"{len(children)}.")
            if context != self._context:
                raise ValueError(f"Node context mismatch for custom node type {self.type!r}.")
        else:
            both_dicts = self.type in STANDARD_DICT_TYPES and ntype in STANDARD_DICT_TYPES
            if not both_dicts and ntype != self.type:
                raise ValueError(f"Node type mismatch; expected {self.type!r}, but got "
                                 f"{ntype!r}.")
            if len(node) != self.num_children:
                raise ValueError(f"Node arity mismatch; expected {self.num_children}, but got "
                                 f"{len(node)}.")
            if both_dicts:       # dict kinds match each other; their keys must
                keys = self._context if self.type is not defaultdict else self._context[1]
                got, want = set(node), set(keys)
                if got != want:
                    msg = ""
                    if want - got:
                        msg += f"; missing key(s): {want - got}"
                    if got - want:
                        msg += f"; extra key(s): {got - want}"
                    raise ValueError(f"Node keys mismatch{msg}.")
                children = [node[k] for k in keys]
            else:
                children, context = SUPPORTED_NODES[ntype].flatten_fn(node)
                if ntype is not deque and context != self._context:
                    raise ValueError(f"Node context mismatch for node type {self.type!r}; "
                                     f"expected {self._context!r}, but got {context!r}.")
        for spec, child in zip(self._children, children):
            spec._flatten_up_to(child, out)

    def unflatten(self, leaves):
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} "
                             f"but the spec refers to a pytree that holds {self.num_leaves} "
                             f"items ({self}).")
        it = iter(leaves)
        return self._build(it)

    def _build(self, it):
        if self.is_leaf():
            return next(it)
        children = [c._build(it) for c in self._children]
        return SUPPORTED_NODES[self.type].unflatten_fn(children, self._context)


class LeafSpec(TreeSpec):
    """The spec of a leaf."""

    def __init__(self):
        super().__init__(None, None, [])
        self.num_nodes, self.num_leaves = 1, 1

    def __repr__(self, indent: int = 0) -> str:
        return "*"


_LEAF = LeafSpec()


# ------------------------------------------------------------------ flatten / map

def _flatten(tree, is_leaf, leaves):
    if tree_is_leaf(tree, is_leaf):
        leaves.append(tree)
        return _LEAF
    ntype = _node_type(tree)
    children, context = SUPPORTED_NODES[ntype].flatten_fn(tree)
    return TreeSpec(ntype, context, [_flatten(c, is_leaf, leaves) for c in children])


def tree_flatten(tree, is_leaf=None):
    """(leaves, treespec): the leaves left to right and the structure around them."""
    leaves: list = []
    spec = _flatten(tree, is_leaf, leaves)
    return leaves, spec


def tree_unflatten(leaves, treespec):
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"Expected `treespec` to be an instance of PyTreeSpec but got item "
                        f"of type {type(treespec)}.")
    return treespec.unflatten(leaves)


def tree_iter(tree, is_leaf=None):
    if tree_is_leaf(tree, is_leaf):
        yield tree
        return
    children, _ = SUPPORTED_NODES[_node_type(tree)].flatten_fn(tree)
    for child in children:
        yield from tree_iter(child, is_leaf)


def tree_leaves(tree, is_leaf=None):
    return list(tree_iter(tree, is_leaf))


def tree_structure(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """The tree with func(leaf, *the same leaf of each of rests) at each leaf (rests must
    have tree's containers down to its leaves)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    flat = [leaves] + [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(map(func, *flat))


def tree_map_(func, tree, *rests, is_leaf=None):
    """func on each leaf for its side effect; returns tree itself."""
    leaves, spec = tree_flatten(tree, is_leaf)
    flat = [leaves] + [spec.flatten_up_to(r) for r in rests]
    for args in zip(*flat):
        func(*args)
    return tree


def _only(type_or_types, func):
    if isinstance(type_or_types, (type, tuple)):
        pred = lambda x: isinstance(x, type_or_types)      # noqa: E731
    else:
        pred = type_or_types
    return lambda x: func(x) if pred(x) else x


def tree_map_only(type_or_types, func, tree, is_leaf=None):
    """func on the leaves of the given type(s) (or satisfying the given predicate)."""
    return tree_map(_only(type_or_types, func), tree, is_leaf=is_leaf)


def tree_map_only_(type_or_types, func, tree, is_leaf=None):
    return tree_map_(_only(type_or_types, func), tree, is_leaf=is_leaf)


def tree_all(pred, tree, is_leaf=None) -> bool:
    return all(map(pred, tree_iter(tree, is_leaf)))


def tree_any(pred, tree, is_leaf=None) -> bool:
    return any(map(pred, tree_iter(tree, is_leaf)))


def tree_all_only(type_or_types, pred, tree, is_leaf=None) -> bool:
    return all(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))


def tree_any_only(type_or_types, pred, tree, is_leaf=None) -> bool:
    return any(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))


# ------------------------------------------------------------------ with key paths

def _flatten_with_path(tree, is_leaf, path, out):
    if tree_is_leaf(tree, is_leaf):
        out.append((path, tree))
        return
    node = SUPPORTED_NODES[_node_type(tree)]
    if node.flatten_with_keys_fn is None:
        raise ValueError(f"Did not find a flatten_with_keys_fn for type: {node.type}. Please "
                         f"pass a flatten_with_keys_fn argument to register_pytree_node.")
    keyed, _ = node.flatten_with_keys_fn(tree)
    for key, child in keyed:
        _flatten_with_path(child, is_leaf, path + (key,), out)


def tree_flatten_with_path(tree, is_leaf=None):
    """([(key path, leaf)...], treespec)."""
    out: list = []
    _flatten_with_path(tree, is_leaf, (), out)
    return out, tree_structure(tree, is_leaf)


def tree_leaves_with_path(tree, is_leaf=None):
    return tree_flatten_with_path(tree, is_leaf)[0]


def tree_map_with_path(func, tree, *rests, is_leaf=None):
    """func(key path, leaf, *rests' leaves) at each leaf."""
    keyed, spec = tree_flatten_with_path(tree, is_leaf)
    flat = [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(func(kp, x, *xs) for (kp, x), *xs in zip(keyed, *flat))
