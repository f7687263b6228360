"""Common subexpression elimination, and constant pooling (which runs first).

Constant pooling: constants of the same type and value become one, and every constant
moves to the start of the graph (in order of first appearance), so a constant used in
several blocks is defined once where all of them see it.

CSE: a node is replaced by an earlier identical one (same kind, same input values, same
attributes, same output types) that is in scope: earlier in the same block or in an
enclosing one. Only pure nodes take part: no blocks, no side effects, no in-place writes,
nothing random. Mutation is respected through the alias analysis: two reads of %x are not
the same when something may write %x (or an alias of it) between them, and a node whose
result something writes, or a list that leaves the graph, is never shared; nor are two
nodes whose results both leave the graph (the caller could write one and see the other). In a graph that
calls autograd's backward / grad (which free the graph they run through, and write every
tensor the caller may hold) TorchScript's rule holds instead: a node whose tensor inputs
something writes anywhere is not shared (`v6 = v * v; (v * v).sum().backward()` keeps
two products, so v6's graph lives on for a later backward: one shared product had it freed).
"""
from __future__ import annotations

import math

from ..ir import types as T
from ..ir.schema_match import has_side_effects, is_mutating, is_nondeterministic
from .alias_analysis import AliasDb

__all__ = ["eliminate_common_subexpressions", "pool_constants", "value_key"]


def value_key(v):
    """A hashable key equal for equal constant values (1 and 1.0 and True differ, so do
    0.0 and -0.0; nan equals nan), or None for values not pooled (tensors, graphs...)."""
    from ..device import device
    from .. import dtypes as _dt
    if v is None:
        return ("None",)
    if isinstance(v, (bool, int, str)):
        return (type(v).__name__, v)
    if isinstance(v, float):        # (nan and -nan differ: scripted str() writes the sign)
        return ("float", repr(v), v != v and math.copysign(1.0, v) < 0)
    if isinstance(v, complex):
        return ("complex", value_key(v.real), value_key(v.imag))
    if isinstance(v, _dt.dtype):
        return ("dtype", v.name)
    if isinstance(v, device):
        return ("device", str(v))
    if isinstance(v, (list, tuple)) and not hasattr(v, "_fields"):
        keys = tuple(value_key(x) for x in v)
        return None if any(k is None for k in keys) else (type(v).__name__, keys)
    return None


def _attrs_key(attrs):
    keys = []
    for name in sorted(attrs):
        k = value_key(attrs[name])
        if k is None:
            return None
        keys.append((name, k))
    return tuple(keys)


def _tensor_key(node):
    """(type, dtype, sizes, device) of a Tensor constant, or None for another node."""
    from ..tensor import Tensor
    v = node.attrs.get("value")
    if len(node.attrs) != 1 or not isinstance(v, Tensor) or v.requires_grad:
        return None
    return ("Tensor", str(node.output.type), str(v.dtype), tuple(v.shape), str(v.device))


def _same_tensor(a, b) -> bool:
    """torch's EqualNode for two Tensor constants: the same tensor, or equal values
    (Tensor.equal: nan never equals)."""
    x, y = a.attrs["value"], b.attrs["value"]
    return x is y or bool(x.equal(y))


def pool_constants(graph) -> None:
    """One constant per (type, value), all hoisted to the start of the graph, as
    TorchScript's ConstantPooling: Tensor constants too, equal ones made one where
    nothing writes them (alias analysis). Constants whose value has no key (opaque
    values) stay where they are."""
    first = {}
    hoisted = []
    tensors = {}        # tensor key -> the kept constants of that key
    aliases = None
    for node in list(graph.walk()):
        if node.kind != "prim::Constant":
            continue
        tkey = _tensor_key(node) if isinstance(node.output.type, T.TensorType) else None
        if tkey is not None:
            kept = tensors.setdefault(tkey, [])
            twin = next((k for k in kept if _same_tensor(k, node)), None)
            if twin is None:
                kept.append(node)
                hoisted.append(node)
            else:
                if aliases is None:
                    aliases = AliasDb(graph)
                a, b = node.output, twin.output
                if aliases.has_writers(a) or aliases.has_writers(b) or \
                        (aliases.escapes(a) and aliases.escapes(b)):
                    # (safeToChangeAliasingRelationship: not merged, and left where
                    # it is)
                    continue
                if twin.source_range is None and node.source_range is not None:
                    twin.source_range = node.source_range
                node.output.replace_all_uses_with(twin.output)
                node.destroy()
            continue
        attrs = _attrs_key(node.attrs)
        if attrs is None or isinstance(node.output.type, T.TensorType):
            continue
        key = (str(node.output.type), attrs)
        if isinstance(node.output.type, T.FunctionType):
            key += (id(node.meta.get("function")),)   # (torch's EqualNode: one per callee)
        kept = first.get(key)
        if kept is None:
            first[key] = node
            hoisted.append(node)
        else:
            if kept.source_range is None and node.source_range is not None:
                # (a schema default's constant has none: the pooled one shows the first
                # written literal's, as TorchScript's does)
                kept.source_range = node.source_range
            node.output.replace_all_uses_with(kept.output)
            node.destroy()
    top = graph.block
    for i, node in enumerate(hoisted):
        if top.nodes[i] is not node:
            node.move_before(top.nodes[i])


def eliminate_common_subexpressions(graph) -> None:
    """Pool constants, then replace each pure node by an identical earlier one in scope."""
    pool_constants(graph)
    strict = any(n.kind in _FREEING for n in graph.walk())
    _cse_block(graph.block, [{}], AliasDb(graph), strict)


# autograd calls that run backward through (and free) the graph of what they reach
_FREEING = frozenset({"aten::backward", "aten::grad"})


def _cse_block(block, scopes, aliases, strict):
    table = scopes[-1]
    for node in list(block.nodes):
        if node.blocks:
            for b in node.blocks:
                _cse_block(b, scopes + [{}], aliases, strict)
            continue
        key = _node_key(node)
        if key is None or not _shareable(node, aliases, strict):
            continue
        earlier = next((s[key] for s in reversed(scopes) if key in s), None)
        if earlier is not None and _both_returned(node, earlier, aliases):
            continue                # (TorchScript: no new aliasing among graph outputs:
                                    # `return x.tanh(), x.tanh()` gives two tensors)
        if earlier is not None and not aliases.is_mutated_between(node.inputs, earlier, node):
            for mine, theirs in zip(node.outputs, earlier.outputs):
                mine.replace_all_uses_with(theirs)
            node.destroy()
        else:
            table[key] = node       # a later twin may reuse this one instead


def _node_key(node):
    if node.kind == "prim::Constant":
        return None                 # pooled already
    attrs = _attrs_key(node.attrs)
    if attrs is None:
        return None
    return (node.kind, tuple(node.inputs), attrs,
            tuple(str(o.type) for o in node.outputs))


def _both_returned(node, earlier, aliases) -> bool:
    return any(aliases.is_returned(o) for o in node.outputs) and \
        any(aliases.is_returned(o) for o in earlier.outputs)


def _shareable(node, aliases, strict) -> bool:
    if has_side_effects(node) or is_mutating(node) or is_nondeterministic(node):
        return False
    for o in node.outputs:
        if aliases.has_writers(o):
            return False
        if isinstance(o.type, (T.ListType, T.DictType, T.SetType)) and aliases.escapes(o):
            return False            # the caller could mutate one list and see the other
    if strict and any(isinstance(v.type, T.TensorType) and aliases.has_writers(v)
                                    for v in node.inputs):
        return False                # (TorchScript's AliasDb::hasWriters(node))
    return True
