"""What a specialization's key fixes, folded into its graph before code is made.

A specialization serves only calls whose inputs have its key (profile.input_key: each
tensor's dtype, device and rank, the Python type of everything else), and the dispatcher
checks that key on every call. So in its graph:

- an Optional input the key says is None is the constant None, and one the key says is a
  Tensor is a Tensor (`if attn_mask is not None:`, `if key_padding_mask is None:`; its
  `prim::unchecked_cast`s go);
- `x.dim()` of a tensor input is the key's rank (`is_batched = query.dim() == 3`), and
  so is that of a tensor the graph made from one by ops whose result's rank follows from
  their operand's (`query.transpose(1, 0).dim()` in MultiheadAttention with
  batch_first, x.unsqueeze(0), x.view(a, b, c): _RANK_RULES);
- `x.is_nested` of a tensor input is False (a nested tensor's key is not a tensor key:
  `if query.is_nested:` of nn.MultiheadAttention's nested fast path goes);
- `x is x` of a tensor is True (`if query is key:` in MultiheadAttention called as
  `self_attn(x, x, x)`).

Constant propagation then removes the branches those facts decide, and DCE what only
they read. Without this, such a branch that the profiling run did not take leaves its
If's tensor outputs untyped (the code cannot know the branch will never run), and every
op after it ran through the generic, boxed path and could not fuse: a scripted
nn.TransformerEncoderLayer ran slower than eager. TorchScript's profiling executor
specializes Optional inputs that profiled as None in the same way (specializeAutogradZero,
behind a guard; here the dispatcher's key check is that guard).
"""
from __future__ import annotations

from ..ir import types as T
from .profile import Profile

__all__ = ["fold_key_facts"]


def _tensor_key(k) -> bool:
    return isinstance(k, tuple) and len(k) == 3 and isinstance(k[2], int)


def _facts(graph, key):
    """[(input Value, what the key says: None or its tensor key)] of the inputs whose key
    says something the graph can use."""
    out = []
    for v, k in zip(graph.inputs, key[1:]):
        t = v.type
        if isinstance(t, T.OptionalType):
            if k is type(None):
                out.append((v, None))
            elif _tensor_key(k) and isinstance(t.elem, T.TensorType):
                out.append((v, k))
        elif isinstance(t, T.TensorType) and _tensor_key(k) and any(
                u.user.kind in _KEYED for u in v.uses):
            out.append((v, k))
    return out


# the ops of a tensor input whose result its key fixes
_KEYED = ("aten::dim", "aten::is_nested")


# kind -> the rank of its Tensor result (None where it does not follow) from the node n
# and the ranks known so far ({Value: rank})
def _same(n, ranks):
    return ranks.get(n.inputs[0])


def _listed(n, ranks):
    """view / reshape to a size list built in the graph: its length."""
    src = n.inputs[1].node
    if src.kind == "prim::ListConstruct":
        return len(src.inputs)
    if src.kind == "prim::Constant" and isinstance(src.attrs.get("value"), (list, tuple)):
        return len(src.attrs["value"])
    return None


def _broadcast(n, ranks):
    """a binary op's result: the larger rank of its operands (a number's: 0)."""
    rs = [ranks.get(v) if isinstance(v.type, T.TensorType) else 0 for v in n.inputs[:2]]
    return None if len(rs) < 2 or None in rs else max(rs)


_RANK_RULES = {
    **{k: _broadcast for k in ("aten::add", "aten::sub", "aten::mul", "aten::div")},
    **{k: _same for k in ("aten::transpose", "aten::permute", "aten::contiguous",
                          "aten::clone", "aten::detach", "aten::to", "aten::type_as",
                          "aten::relu", "aten::gelu", "aten::tanh", "aten::sigmoid",
                          "aten::neg", "aten::dropout", "aten::softmax",
                          "aten::log_softmax", "aten::layer_norm")},
    "aten::unsqueeze": lambda n, ranks: None if (r := ranks.get(n.inputs[0])) is None
    else r + 1,
    "aten::select": lambda n, ranks: r - 1 if (r := ranks.get(n.inputs[0])) else None,
    "aten::view": _listed,
    "aten::reshape": _listed,
}


def _ranks(graph, key):
    """{Tensor Value: its rank} the key fixes: the tensor inputs' ranks, carried through
    the ops of _RANK_RULES (nested blocks included), and the ranks of views to a size list
    of known length."""
    ranks = {}
    for v, k in zip(graph.inputs, key[1:]):
        t = v.type
        if _tensor_key(k) and (isinstance(t, T.TensorType) or (
                isinstance(t, T.OptionalType) and isinstance(t.elem, T.TensorType))):
            ranks[v] = k[2]
    for n in graph.walk():
        rule = _RANK_RULES.get(n.kind)
        if rule is None or len(n.outputs) != 1 or not n.inputs or \
                not isinstance(n.output.type, T.TensorType):
            continue
        r = rule(n, ranks)
        if r is not None:
            ranks[n.output] = r
    return ranks


_SIZE_READS = ("aten::len", "aten::__getitem__", "prim::ListUnpack")


def _rank_reads(graph, ranks):
    """[(node, rank)]: the aten::dim nodes of a Value whose rank is known (not an
    input's: _facts's), and `len(x.size())` of one (an input's too: torch's F bodies'
    `assert len(input.size()) > len(output_size)`, F.adaptive_avg_pool2d's)."""
    inputs = set(graph.inputs)
    out = []
    for n in graph.walk():
        if n.kind == "aten::dim" and len(n.inputs) == 1 and n.inputs[0] in ranks and \
                n.inputs[0] not in inputs:
            out.append((n, ranks[n.inputs[0]]))
        elif n.kind == "aten::len" and len(n.inputs) == 1 and \
                n.inputs[0].node.kind == "aten::size" and \
                len(n.inputs[0].node.inputs) == 1 and n.inputs[0].node.inputs[0] in ranks \
                and all(u.user.kind in _SIZE_READS for u in n.inputs[0].uses):
            # (only a size list nothing writes: `l = x.size(); l.append(4)` keeps its len)
            out.append((n, ranks[n.inputs[0].node.inputs[0]]))
    return out


def _self_identity(n) -> bool:
    return n.kind in ("aten::__is__", "aten::__isnot__") and len(n.inputs) == 2 and \
        n.inputs[0] is n.inputs[1] and isinstance(n.inputs[0].type, T.TensorType)


def _at_top(g):
    return g.inserting_before(g.block.nodes[0]) if g.block.nodes else \
        g.inserting_at_end(g.block)


def _block_owners(graph):
    return [n for n in graph.walk() if n.blocks]


def fold_key_facts(graph, profile, key):
    """(graph, profile) for the specialization of `key`: a copy of graph with the facts
    of the module docstring folded and the profile re-keyed onto it, or the pair itself
    when nothing folds."""
    if not _facts(graph, key) and not any(_self_identity(n) for n in graph.walk()) and \
            not _rank_reads(graph, _ranks(graph, key)):
        return graph, profile
    from ..passes import eliminate_dead_code, propagate_constants
    g = graph.copy()
    blocks = {graph.block: g.block}
    for a, b in zip(_block_owners(graph), _block_owners(g)):
        blocks.update(zip(a.blocks, b.blocks))
    for v, k in _facts(g, key):
        if k is None:
            with _at_top(g):
                none = g.insert_constant(None, T.NONE)
            v.replace_all_uses_with(none)
            continue
        if isinstance(v.type, T.OptionalType):      # a Tensor here (its uses take one)
            v.type = v.type.elem
        for u in list(v.uses):
            n = u.user
            if n.kind in _KEYED and len(n.inputs) == 1:
                with g.inserting_before(n):
                    c = g.insert_constant(k[2], T.INT) if n.kind == "aten::dim" else \
                        g.insert_constant(False, T.BOOL)
                n.output.replace_all_uses_with(c)
                n.destroy()
    first = True
    while True:
        # (a rank read or `x is x` of a value an If gives, `query = query.transpose(1, 0)`
        # in a branch, folds once the branches the facts before decide are gone)
        folded = False
        for n in list(g.walk()):
            if _self_identity(n) and n.owning_block is not None:
                with g.inserting_before(n):
                    c = g.insert_constant(n.kind == "aten::__is__", T.BOOL)
                n.output.replace_all_uses_with(c)
                n.destroy()
                folded = True
        ranks = _ranks(g, key)
        for n, r in _rank_reads(g, ranks):
            with g.inserting_before(n):
                c = g.insert_constant(r, T.INT)
            n.output.replace_all_uses_with(c)
            n.destroy()
            folded = True
        if not (folded or first):
            break
        first = False
        propagate_constants(g)
    for n in list(g.walk()):    # (`m = unchecked_cast(mask)` of a mask now a Tensor: mask)
        if n.kind == "prim::unchecked_cast" and n.inputs[0].type.is_subtype_of(
                n.output.type):
            n.output.replace_all_uses_with(n.inputs[0])
            n.destroy()
    eliminate_dead_code(g)
    g.lint()
    return g, _rekeyed(profile, graph, g, blocks)


def _rekeyed(profile, src, dst, blocks) -> Profile:
    """profile (of src) for dst, a copy of src that folding changed: Values by their
    unique number, blocks through `blocks` (src block -> its copy; a copy whose If was
    folded away is gone, its nodes now sit in the block around it)."""
    by_unique = {w.unique: w for w in dst.all_values()}
    alive = {dst.block} | {b for n in dst.walk() for b in n.blocks}
    p = Profile()
    p.runs = profile.runs
    if hasattr(profile, "without_grad"):
        p.without_grad = profile.without_grad
    for v in src.all_values():
        w = by_unique.get(v.unique)
        if w is None:
            continue
        if v in profile.specs:
            p.specs[w] = profile.specs[v]
        if v in profile.types:
            p.types[w] = profile.types[v]
        if v in profile._last:
            p._last[w] = profile._last[v]
    for b, c in blocks.items():
        if c not in alive:
            continue
        if b in profile.blocks:
            p.blocks.add(c)
        if b in profile._entered:
            p._entered[c] = profile._entered[b]
    return p
