"""`x.chunk(c, d)` and `torch.cat([...], d)` inside fusion groups: TorchScript's
prim::ConstantChunk and prim::FusedConcat.

`a, b, c = x.chunk(3, 1)` is `aten::chunk(%x, 3, 1)` (a list) unpacked by
`prim::ListUnpack`. Before partitioning, each such pair with constant `chunks` and `dim`
becomes one node, `prim::ConstantChunk[chunks=3, dim=1](%x)`, with the unpacked pieces as
its outputs (they keep the numbers and names of the values they replace, so the profile
still describes them): a node the fuser can put into a group, as NNC does (an LSTM cell's
`gates.chunk(4, 1)` between the gate sums and the gate activations no longer splits its
pointwise ops into two groups). A kernel reads a piece of a group input with the input's
strides from an offset, and a piece of a value computed inside the group by computing
that value's ops on the piece (kernels/chunks.py). Likewise `torch.cat([a, b], 1)` of a
list built right there (`prim::ListConstruct`, read by nothing else) with a constant dim
becomes `prim::FusedConcat[dim=1](%a, %b)` (the old TorchScript fuser's node): a kernel
walks the result and computes each element from the one input it comes from. The nodes
that end up outside every group are turned back into what they were (`restore`), so
only fusion groups ever hold them.

`space_shapes(graph)` gives, per value, the shape it takes part in a kernel's iteration
space with: a value that only feeds chunks (directly, or through pointwise ops) is
walked piece by piece, so it counts with the shape of one piece; one that only feeds a
cat counts with the shape of the cat's result.
"""
from __future__ import annotations

from ..ir import types as T
from ..ir.schema_match import has_side_effects
from .batch_norm import is_parameter_use
from .fusibility import CONSTANT_CHUNK as KIND, FUSED_CONCAT as CAT, UNSQUEEZE

__all__ = ["KIND", "CAT", "to_constant_chunks", "to_fused_concats", "restore", "cats_as_aten",
           "space_shapes", "chunk_params", "concat_params"]
_META = "constant_chunk"        # node.meta: what `restore` needs to rebuild the pair


def _int_constant(v):
    n = v.node
    if n.kind != "prim::Constant" or not isinstance(v.type, T.IntType):
        return None
    val = n.attrs.get("value")
    return val if isinstance(val, int) and not isinstance(val, bool) else None


def _walk_blocks(block):
    yield block
    for n in block.nodes:
        for b in n.blocks:
            yield from _walk_blocks(b)


def _take_over(new, old):
    """new takes old's number and name (old is about to go)."""
    name, unique = old.debug_name, old.unique
    old.set_debug_name(None)
    new.unique = unique
    new.set_debug_name(name)


def _destroy(node):
    """Remove node, and the constants only it read."""
    consts = [v.node for v in node.inputs if v.node.kind == "prim::Constant"]
    node.destroy()
    for c in consts:
        if not c.outputs[0].uses and c.owning_block is not None:
            c.destroy()


def to_constant_chunks(graph) -> int:
    """Turn each `aten::chunk(x, <int constant>, <int constant>)` whose list only a
    `prim::ListUnpack` of as many values reads into a prim::ConstantChunk node, in place.
    Returns how many it made."""
    made = 0
    for block in list(_walk_blocks(graph.block)):
        for n in list(block.nodes):
            if n.kind != "aten::chunk" or len(n.inputs) not in (2, 3):
                continue
            if not isinstance(n.inputs[0].type, T.TensorType):
                continue
            chunks = _int_constant(n.inputs[1])
            dim = _int_constant(n.inputs[2]) if len(n.inputs) == 3 else 0
            if chunks is None or dim is None or chunks < 1:
                continue
            lst = n.outputs[0]
            if len(lst.uses) != 1:
                continue
            unpack = lst.uses[0].user
            if (unpack.kind != "prim::ListUnpack" or unpack.owning_block is not block
                    or len(unpack.outputs) != chunks):
                continue
            cc = graph.create(KIND, [n.inputs[0]], attrs={"chunks": chunks, "dim": dim},
                              output_types=[o.type for o in unpack.outputs],
                              source_range=n.source_range, scope=n.scope)
            cc.insert_before(unpack)
            cc.meta[_META] = (lst.type, lst.unique, lst.debug_name, n.op, n.source_range,
                              unpack.source_range)
            for new, old in zip(cc.outputs, unpack.outputs):
                old.replace_all_uses_with(new)
                _take_over(new, old)
            unpack.destroy()
            _destroy(n)
            made += 1
    return made


def to_fused_concats(graph) -> int:
    """Turn each `aten::cat(%list, <int constant>)` of a `prim::ListConstruct` of tensors
    that nothing else reads into a prim::FusedConcat node, in place. Returns how many."""
    made = 0
    for block in list(_walk_blocks(graph.block)):
        for n in list(block.nodes):
            if n.kind != "aten::cat" or len(n.inputs) not in (1, 2):
                continue
            dim = _int_constant(n.inputs[1]) if len(n.inputs) == 2 else 0
            lst = n.inputs[0]
            build = lst.node
            if (dim is None or build.kind != "prim::ListConstruct" or len(lst.uses) != 1
                    or build.owning_block is not block or not build.inputs
                    or not all(isinstance(v.type, T.TensorType) for v in build.inputs)):
                continue
            cat = graph.create(CAT, list(build.inputs), attrs={"dim": dim},
                               output_types=[n.output.type], source_range=n.source_range,
                               scope=n.scope)
            cat.insert_before(n)
            cat.meta[_META] = (lst.type, lst.unique, lst.debug_name, n.op, build.source_range,
                               n.source_range)
            n.output.replace_all_uses_with(cat.output)
            _take_over(cat.output, n.output)
            _destroy(n)
            build.destroy()
            made += 1
    if made:
        _flatten_cats(graph)
    return made


def _cat_dim(n):
    """A FusedConcat's dim counted from 0 (None when its rank is unknown and it is < 0)."""
    d = n.attrs["dim"]
    if d >= 0:
        return d
    t = n.output.type
    rank = len(t.sizes) if isinstance(t, T.TensorType) and t.sizes is not None else None
    return d + rank if rank else None


def _flatten_cats(graph):
    """cat([cat([a, b], d), c], d) reads a, b, c directly: cat([a, b, c], d) (the same
    values; dtypes promote over all of them alike). A kernel computes a cat branch by branch
    and cannot walk a cat inside another, so a nested cat split the fusion group in two."""
    for block in list(_walk_blocks(graph.block)):
        for n in list(block.nodes):
            if n.kind != CAT or n.owning_block is None or _cat_dim(n) is None:
                continue
            ins = []
            for v in n.inputs:
                m = v.node
                if (m.kind == CAT and m.owning_block is block and _cat_dim(m) == _cat_dim(n)
                        and v.type.dim == n.output.type.dim):
                    ins.extend(m.inputs)
                else:
                    ins.append(v)
            if len(ins) == len(n.inputs):
                continue
            old = list(n.inputs)
            n.remove_all_inputs()
            for v in ins:
                n.add_input(v)
            for v in old:
                if v.node.kind == CAT and not v.uses:
                    v.node.destroy()


def _restore_concat(graph, cat):
    list_type, list_unique, list_name, op, build_range, cat_range = cat.meta.get(_META) or (
        T.ListType(T.TENSOR), None, None, None, cat.source_range, cat.source_range)
    build = graph.create("prim::ListConstruct", list(cat.inputs), output_types=[list_type],
                         source_range=build_range, scope=cat.scope)
    build.insert_before(cat)
    lst = build.outputs[0]
    if list_unique is not None:
        lst.unique = list_unique
        lst.set_debug_name(list_name)
    with graph.inserting_before(cat):
        d = graph.insert_constant(cat.attrs["dim"])
    node = graph.create("aten::cat", [lst, d], output_types=[cat.output.type],
                        source_range=cat_range, scope=cat.scope)
    if op is not None:
        node.op = op
    node.meta.update((k, v) for k, v in cat.meta.items() if k != _META)
    node.insert_before(cat)
    cat.output.replace_all_uses_with(node.output)
    _take_over(node.output, cat.output)
    cat.destroy()


def cats_as_aten(subgraph) -> int:
    """A group's prim::FusedConcat nodes as `prim::ListConstruct` + `aten::cat` again, as
    NNC's TensorExprGroup subgraph holds them (graph_for's text); the group's runtime
    (fusers/group.FusedGroup) works on a copy with them made FusedConcat nodes again
    (to_fused_concats). Returns how many."""
    cats = [n for n in subgraph.nodes if n.kind == CAT]
    for cat in cats:
        _restore_concat(subgraph, cat)
    if cats:                    # (the dims: the subgraph's int constants of that value)
        ints = {}
        for n in list(subgraph.nodes):
            d = _int_constant(n.output) if n.kind == "prim::Constant" else None
            if d is None:
                continue
            first = ints.setdefault(d, n)
            if first is not n:
                n.output.replace_all_uses_with(first.output)
                n.destroy()
    return len(cats)


def restore(graph) -> int:
    """Turn the prim::ConstantChunk nodes left outside fusion groups back into
    `aten::chunk` + `prim::ListUnpack` (what the executor runs). Returns how many."""
    done = 0
    for block in list(_walk_blocks(graph.block)):
        for cat in [n for n in block.nodes if n.kind == CAT]:
            _restore_concat(graph, cat)
            done += 1
        for cc in [n for n in block.nodes if n.kind == KIND]:
            list_type, list_unique, list_name, op, chunk_range, unpack_range = \
                cc.meta.get(_META) or (T.ListType(T.TENSOR), None, None, None,
                                       cc.source_range, cc.source_range)
            with graph.inserting_before(cc):
                c = graph.insert_constant(cc.attrs["chunks"])
                d = graph.insert_constant(cc.attrs["dim"])
            chunk = graph.create("aten::chunk", [cc.inputs[0], c, d],
                                 output_types=[list_type], source_range=chunk_range,
                                 scope=cc.scope)
            if op is not None:
                chunk.op = op
            chunk.meta.update((k, v) for k, v in cc.meta.items() if k != _META)
            chunk.insert_before(cc)
            lst = chunk.outputs[0]
            if list_unique is not None:
                lst.unique = list_unique
                lst.set_debug_name(list_name)
            unpack = graph.create("prim::ListUnpack", [lst],
                                  output_types=[o.type for o in cc.outputs],
                                  source_range=unpack_range, scope=cc.scope)
            unpack.insert_before(cc)
            for new, old in zip(unpack.outputs, cc.outputs):
                old.replace_all_uses_with(new)
                _take_over(new, old)
            cc.destroy()
            done += 1
    return done


def concat_params(node):
    """(dim wrapped to the result's rank, the result's size there) of a prim::FusedConcat
    node (None, None when not known)."""
    t = node.output.type
    sizes = t.sizes if isinstance(t, T.TensorType) else None
    dim = node.attrs["dim"]
    if not sizes or not -len(sizes) <= dim < len(sizes):
        return None, None
    return dim % len(sizes), sizes[dim % len(sizes)]


def chunk_params(node):
    """(chunks, dim wrapped to the input's rank) of a prim::ConstantChunk node (dim None
    when the input's rank is not known)."""
    chunks, dim = node.attrs["chunks"], node.attrs["dim"]
    t = node.inputs[0].type
    rank = len(t.sizes) if isinstance(t, T.TensorType) and t.sizes is not None else None
    if rank is None:
        return chunks, None
    if rank == 0 or not -rank <= dim < rank:
        return chunks, None
    return chunks, dim % rank


def _sizes(v):
    t = v.type
    if not isinstance(t, T.TensorType) or t.sizes is None or any(s is None for s in t.sizes):
        return None
    return tuple(t.sizes)


def _piece(shape, chunks, dim):
    step = -(-shape[dim] // chunks) if chunks else shape[dim]
    return shape[:dim] + (step,) + shape[dim + 1:]


def space_shapes(graph, fusible) -> dict:
    """Value -> the shape it has in a kernel's iteration space when it is read through
    chunks or a cat only: a tensor all of whose uses are fusible prim::ConstantChunk nodes
    of one (chunks, dim), or fusible pointwise ops whose results are read that way along
    the same dim, counts with the shape of one piece; likewise for one input of a
    prim::FusedConcat, with the shape of the cat's result; and a tensor read only through
    unsqueezes at one dim (directly or through pointwise ops), with the unsqueezed shape
    (fusers/views.py moves them onto the inputs). Values not in the dict count
    with their own shape. `fusible(node)` says whether a node may be fused."""
    views = {}                  # value -> ("chunk", chunks, dim) / ("cat", size, dim) /
                                # ("unsq", positions of its dims, rank)
    chunk_nodes = {}            # value -> the chunk nodes it is read through

    def view_of_use(v, use):
        user = use.user
        if not fusible(user) or has_side_effects(user):
            return None
        if user.kind == KIND:
            chunks, dim = chunk_params(user)
            chunk_nodes.setdefault(v, set()).add(user)
            return ("chunk", chunks, dim) if dim is not None else None
        if is_parameter_use(user, v):           # lined up with dim 1 (fusers/batch_norm.py)
            return None
        if user.kind == UNSQUEEZE:              # (fusers/views.py)
            sv, c = _sizes(v), user.inputs[1].node
            if use.offset != 0 or sv is None or c.kind != "prim::Constant" or \
                    not isinstance(c.attrs.get("value"), int) or \
                    not -len(sv) - 1 <= c.attrs["value"] <= len(sv):
                return None
            d = c.attrs["value"] % (len(sv) + 1)
            # where v's dims land: past the new dim, and where the result's own land when
            # it is unsqueezed again (x.unsqueeze(-1).unsqueeze(-1): [C] as [C, 1, 1])
            pos, rank = tuple(range(d)) + tuple(range(d + 1, len(sv) + 1)), len(sv) + 1
            out = views.get(user.output)
            if out is not None and out != "free" and out[0] == "unsq":
                pos, rank = tuple(out[1][k] for k in pos), out[2]
            return ("unsq", pos, rank)
        if user.kind == CAT:
            sv, so = _sizes(v), _sizes(user.output)
            if sv == (0,) and so is not None and len(so) != 1:
                return ("empty", None, None)    # a legacy empty input: torch.cat skips it
            dim, size = concat_params(user)
            return ("cat", size, dim) if dim is not None and size is not None else None
        if len(user.outputs) != 1 or user.blocks:
            return None
        out = views.get(user.outputs[0])
        if out is None:
            return None
        chunk_nodes.setdefault(v, set()).update(chunk_nodes.get(user.outputs[0], ()))
        kind, n, d_out = out
        so, sv = _sizes(user.outputs[0]), _sizes(v)
        if so is None or sv is None:
            return None
        if kind == "empty":     # computing a legacy empty cat input: no space of its own
            return out if sv == (0,) else None
        if kind == "unsq":      # (v's dims all right-aligned in the result: as it is)
            pos = n[len(so) - len(sv):]
            return "free" if pos == tuple(range(d_out - len(sv), d_out)) else (kind, pos, d_out)
        d = d_out - (len(so) - len(sv))
        if d < 0 or sv[d] == 1:
            return "free"               # broadcast along the chunked dim: whole, as is
        return (kind, n, d)

    for block in _walk_blocks(graph.block):
        for n in reversed(block.nodes):
            for v in n.outputs:
                if not isinstance(v.type, T.TensorType) or not v.uses or _sizes(v) is None:
                    continue
                seen = {view_of_use(v, u) for u in v.uses} - {"free"}
                if len(seen) == 1 and None not in seen \
                        and not any(v is o for o in block.outputs):
                    views[v] = seen.pop()
        for v in (graph.inputs if block is graph.block else block.inputs):
            if isinstance(v.type, T.TensorType) and v.uses and _sizes(v) is not None:
                seen = {view_of_use(v, u) for u in v.uses} - {"free"}
                if len(seen) == 1 and None not in seen:
                    views[v] = seen.pop()
    def shape(v, kind, n, d):
        if kind == "empty":
            return ()
        if kind == "unsq":      # (n: where v's dims land, d: the rank they land in)
            out = [1] * d
            for k, size in zip(n, _sizes(v)):
                out[k] = size
            return tuple(out)
        if kind == "cat":
            return _sizes(v)[:d] + (n,) + _sizes(v)[d + 1:]
        piece = _piece(_sizes(v), n, d)
        # pieces read only on the way into one cat: the cat's shape (chunk, then cat)
        cats = {_cat_of_pieces(c) for c in chunk_nodes.get(v, ())}
        if len(cats) == 1 and None not in cats:
            (size, cd), = cats
            if all(len(_sizes(c.inputs[0]) or ()) == len(piece) for c in chunk_nodes[v]) \
                    and cd < len(piece) and piece[cd] != 1:     # (ranks first: cd counts
                                                                # in the cat's)
                return piece[:cd] + (size,) + piece[cd + 1:]
        return piece

    def _cat_of_pieces(c):
        seen = {views.get(o) for o in c.outputs if o.uses}
        if len(seen) != 1 or None in seen:
            return None
        kind, size, cd = seen.pop()
        return (size, cd) if kind == "cat" else None
    return {v: shape(v, *view) for v, view in views.items()}
