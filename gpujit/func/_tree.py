"""The trees torch.func's transforms walk: nested tuples, lists, dicts (OrderedDict,
defaultdict) and namedtuples as containers, anything else (None included: an in_dims of
None means "not mapped") as a leaf. Flattening follows each container's own order (a
dict's insertion order), as PyTorch's does. (gpujit.utils._pytree is torch.utils._pytree
itself, with registration, key paths and torch's TreeSpec printing.)"""
from __future__ import annotations

import collections

__all__ = ["TreeSpec", "LeafSpec", "tree_flatten", "tree_unflatten", "tree_leaves",
           "tree_structure", "tree_map", "tree_map_", "treespec_pprint"]


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _kind(x):
    """(type name, context, children) of a container, None for a leaf."""
    if _is_namedtuple(x):
        return "namedtuple", type(x), list(x)
    t = type(x)
    if t is tuple:
        return "tuple", None, list(x)
    if t is list:
        return "list", None, list(x)
    if t is dict:
        return "dict", list(x), list(x.values())
    if t is collections.OrderedDict:
        return "OrderedDict", list(x), list(x.values())
    if t is collections.defaultdict:
        return "defaultdict", (x.default_factory, list(x)), list(x.values())
    return None


class TreeSpec:
    """The shape of a tree: its container type, context (a dict's keys, a namedtuple's
    class) and one spec per child."""

    def __init__(self, type_name, context, children_specs):
        self.type = type_name
        self.context = context
        self.children_specs = children_specs
        self.num_leaves = sum(c.num_leaves for c in children_specs)

    def is_leaf(self):
        return False

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.is_leaf() == other.is_leaf()
                and self.type == other.type and self.context == other.context
                and self.children_specs == other.children_specs)

    def __hash__(self):
        return hash((self.type, len(self.children_specs)))

    def unflatten(self, leaves):
        return self._build(iter(leaves))

    def _build(self, it):
        kids = [c._build(it) for c in self.children_specs]
        if self.type == "tuple":
            return tuple(kids)
        if self.type == "list":
            return kids
        if self.type == "namedtuple":
            return self.context(*kids)
        if self.type == "dict":
            return dict(zip(self.context, kids))
        if self.type == "OrderedDict":
            return collections.OrderedDict(zip(self.context, kids))
        d = collections.defaultdict(self.context[0])
        d.update(zip(self.context[1], kids))
        return d

    def __repr__(self, indent=0):
        """As torch.utils._pytree's TreeSpec prints (what torch.func's errors show): one
        child a line after the first, indented two more per level; a namedtuple's class
        and a defaultdict's [factory, keys] as its context."""
        ctx = self.context
        if self.type == "defaultdict":
            ctx = [ctx[0], list(ctx[1])]
        kids = self.children_specs
        inner = ""
        if kids:
            indent += 2
            inner = kids[0].__repr__(indent) + ("," if len(kids) > 1 else "")
            inner += ",".join("\n" + " " * indent + c.__repr__(indent) for c in kids[1:])
        return f"TreeSpec({self.type}, {ctx}, [{inner}])"


class LeafSpec(TreeSpec):
    def __init__(self):
        super().__init__(None, None, [])
        self.num_leaves = 1

    def is_leaf(self):
        return True

    def _build(self, it):
        return next(it)

    def __repr__(self, indent=0):
        return "*"


def _flatten(x, leaves):
    k = _kind(x)
    if k is None:
        leaves.append(x)
        return LeafSpec()
    name, ctx, kids = k
    return TreeSpec(name, ctx, [_flatten(c, leaves) for c in kids])


def tree_flatten(tree):
    """(leaves, spec): the leaves in order and the structure that puts them back."""
    leaves = []
    spec = _flatten(tree, leaves)
    return leaves, spec


def tree_unflatten(leaves, spec):
    leaves = list(leaves)
    if len(leaves) != spec.num_leaves:
        raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} "
                         f"but the spec refers to a pytree that holds {spec.num_leaves} "
                         f"items ({spec}).")
    return spec.unflatten(leaves)


def tree_leaves(tree):
    return tree_flatten(tree)[0]


def tree_structure(tree):
    return tree_flatten(tree)[1]


def tree_map(fn, tree, *rests):
    leaves, spec = tree_flatten(tree)
    others = [_flatten_like(r, spec) for r in rests]
    return tree_unflatten([fn(*xs) for xs in zip(leaves, *others)], spec)


def tree_map_(fn, tree, *rests):
    leaves, spec = tree_flatten(tree)
    for xs in zip(leaves, *[_flatten_like(r, spec) for r in rests]):
        fn(*xs)
    return tree


def _flatten_like(tree, spec):
    leaves, other = tree_flatten(tree)
    if other != spec:
        raise ValueError(f"Tree structure mismatch: {other} vs {spec}")
    return leaves


def _broadcast_to_and_flatten(tree, spec):
    """tree (a prefix of spec's structure, its leaves standing for whole subtrees) as one
    value per leaf of spec; None when tree does not fit spec."""
    out = []

    def go(t, s):
        if s.is_leaf():
            if _kind(t) is not None:
                return False
            out.append(t)
            return True
        k = _kind(t)
        if k is None:
            out.extend([t] * s.num_leaves)
            return True
        name, ctx, kids = k
        if name in ("dict", "OrderedDict") and name == s.type and ctx != s.context \
                and sorted(ctx, key=repr) == sorted(s.context, key=repr):
            # the same keys in another order: matched by key (PyTorch takes the prefix's
            # order, pairing a key's in_dim with another key's input)
            kids = [t[key] for key in s.context]
            ctx = s.context
        if name != s.type or ctx != s.context or len(kids) != len(s.children_specs):
            return False
        return all(go(c, cs) for c, cs in zip(kids, s.children_specs))

    return out if go(tree, spec) else None


def treespec_pprint(spec):
    """The spec as the tree it describes, a `*` per leaf: ((*, [*, *]), {'a': *})."""
    dummy = spec.unflatten([_Star()] * spec.num_leaves)
    return repr(dummy)


class _Star:
    def __repr__(self):
        return "*"
