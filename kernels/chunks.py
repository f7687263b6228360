"""Chunks and cats in a kernel: `prim::ConstantChunk[chunks=c, dim=d](%x)` (x.chunk(c, d)
unpacked) and `prim::FusedConcat[dim=d](%a, %b)` (torch.cat([a, b], d)), which the fuser
puts into groups as NNC does.

A kernel walks one iteration space, and a piece of a chunk has the shape of that space, not
the chunked value's. So before code generation each chunk of a value computed inside the
group is moved up through the pointwise op that computes it: piece j of `op(u, w)` is
`op(piece j of u, piece j of w)` (an operand that broadcasts along the chunked dim is used
whole), until every chunk reads a group input (or a piece of one). TorchScript's old fuser
did the same ("chunk motion"); the ops are computed once per piece, and every element of
the chunked value once in all, since the pieces do not overlap.

A piece of a group input is then a *view*: the input's memory read with its strides from
an offset (the piece's first element), with the piece's sizes; the kernel reads the input
once per piece it uses (kernels/emit.py, "logical inputs").

A cat is the other way round: the kernel walks the cat's result, and element i (along the
cat's dim) comes from the one input whose range holds i. Each input gets nodes of its own
(`Branch`: the pointwise ops computing it, cloned), which read their leaves through views
shifted by the input's offset, and the kernel computes only the branch an element is in
(`if i_d < 4: ... elif ...`), so it never reads outside an input.

The sizes along cut dims must be known when the kernel is built: STATIC kernels know every
size, and DYNAMIC ones are specialized on the sizes of the dims chunks and cats cut
(`cut_dims`; the fuser's guard checks them), so every piece's size and offset along those
dims is a literal.
"""
from __future__ import annotations

from dataclasses import dataclass

from gpujit.ir import TensorType
from gpujit.ops.meta import is_c_contiguous
from gpujit.ops.shape import chunk_rule

from .spec import ArgSpec, KernelBuildError

__all__ = ["KIND", "CAT", "Piece", "Branch", "distribute", "cut_dims", "kernel_form"]

KIND = "prim::ConstantChunk"
CAT = "prim::FusedConcat"
CAT_VIEW = "prim::CatView"     # (kernels only) one cat input's leaf, read at its offset


@dataclass(frozen=True)
class Piece:
    """A piece of group input `source` that the kernel reads: `starts` (per dim of the
    input, the first index read), `known` (per dim: the piece's size where it is fixed
    when the kernel is built, else None: the input's size) and its ArgSpec."""
    source: int
    starts: tuple
    known: tuple
    spec: ArgSpec


def _params(node, rank):
    chunks, dim = node.attrs["chunks"], node.attrs["dim"]
    if rank == 0 or not -rank <= dim < rank:
        raise KernelBuildError(f"chunk along dim {dim} of a tensor of rank {rank}")
    return chunks, dim % rank


def _rank(v):
    t = v.type
    if not isinstance(t, TensorType) or t.sizes is None:
        raise KernelBuildError(f"%{v.debug_name} is not a tensor of known rank ({t})")
    return len(t.sizes)


def _is_tensor(v):
    return isinstance(v.type, TensorType)


def cut_dims(graph) -> dict:
    """Subgraph input index -> the dims (of that input) some chunk or cat of the group
    cuts, directly or through the pointwise ops between (by rank alignment: a dim that
    turns out to broadcast is listed too, harmlessly). Empty without chunks and cats."""
    if not any(n.kind in (KIND, CAT) for n in graph.nodes):
        return {}
    dims = {}                            # value -> set of its dims that are cut
    for n in reversed(graph.nodes):
        if n.kind == "prim::Constant":
            continue
        if n.kind == KIND:
            x = n.inputs[0]
            want = {_params(n, _rank(x))[1]}
            for o in n.outputs:
                want |= dims.get(o, set())
            dims.setdefault(x, set()).update(want)
            continue
        out = set()
        for o in n.outputs:
            out |= dims.get(o, set())
        if n.kind == CAT:
            out.add(_cat_dim(n))
        if not out:
            continue
        ro = max(_rank(o) for o in n.outputs if _is_tensor(o))
        for u in n.inputs:
            if _is_tensor(u):
                ru = _rank(u)
                dims.setdefault(u, set()).update(d - (ro - ru) for d in out if d >= ro - ru)
    return {k: frozenset(dims[v]) for k, v in enumerate(graph.inputs) if dims.get(v)}


def _cat_dim(n):
    rank = _rank(n.inputs[0])
    dim = n.attrs["dim"]
    if rank == 0 or not -rank <= dim < rank:
        raise KernelBuildError(f"cat along dim {dim} of tensors of rank {rank}")
    return dim % rank


class _Shapes:
    """Per value: sizes (int where known, else None) and which dims have size 1."""

    def __init__(self):
        self.sizes, self.bcast = {}, {}

    def set(self, v, sizes):
        self.sizes[v] = tuple(sizes)
        self.bcast[v] = tuple(s == 1 for s in sizes)

    def set_input(self, v, spec):
        if spec.sizes is not None:
            self.set(v, spec.sizes)
            return
        fixed = dict(spec.fixed)
        self.sizes[v] = tuple(1 if b else fixed.get(d) for d, b in enumerate(spec.broadcast))
        self.bcast[v] = tuple(spec.broadcast)

    def pointwise(self, n):
        ins = [u for u in n.inputs if _is_tensor(u)]
        rank = max((len(self.sizes[u]) for u in ins), default=0)
        sizes, bcast = [], []
        for d in range(rank):
            held = [self.sizes[u][d - (rank - len(self.sizes[u]))] for u in ins
                    if d - (rank - len(self.sizes[u])) >= 0
                    and not self.bcast[u][d - (rank - len(self.sizes[u]))]]
            bcast.append(not held)
            sizes.append(next((s for s in held if s is not None), None) if held else 1)
        for o in n.outputs:
            self.sizes[o], self.bcast[o] = tuple(sizes), tuple(bcast)

    def chunk(self, n):
        x = n.inputs[0]
        chunks, d = _params(n, len(self.sizes[x]))
        size = self.sizes[x][d]
        if size is None:
            raise KernelBuildError(f"chunk along dim {d}, whose size the kernel is not "
                                   f"specialized on")
        try:
            sizes = chunk_rule((size,), chunks, 0)[1]
        except RuntimeError as e:
            raise KernelBuildError(str(e)) from None
        if len(sizes) != len(n.outputs):
            raise KernelBuildError(f"x.chunk({chunks}, {d}) of size {size} makes "
                                   f"{len(sizes)} pieces, not {len(n.outputs)}")
        for o, s in zip(n.outputs, sizes):
            shape = list(self.sizes[x])
            shape[d] = s
            self.sizes[o] = tuple(shape)
            self.bcast[o] = tuple(b if i != d else s == 1
                                  for i, b in enumerate(self.bcast[x]))
        return chunks, d, sizes


    def concat(self, n):
        """The sizes of a cat's result: its inputs' sizes (which must line up but along
        the dim, whose sizes must be known: the kernel's branch offsets)."""
        d = _cat_dim(n)
        ins = [self.sizes[u] for u in n.inputs]
        if any(len(x) != len(ins[0]) for x in ins):
            raise KernelBuildError("cat of tensors of different ranks")
        along = [x[d] for x in ins]
        if any(a is None for a in along):
            raise KernelBuildError(f"cat along dim {d}, whose sizes the kernel is not "
                                   f"specialized on")
        out = []
        for i in range(len(ins[0])):
            if i == d:
                out.append(sum(along))
                continue
            known = {x[i] for x in ins} - {None}
            if len(known) > 1:
                raise KernelBuildError(f"cat of tensors whose sizes differ at dim {i}")
            out.append(known.pop() if known else None)
        self.sizes[n.output] = tuple(out)
        self.bcast[n.output] = tuple(x == 1 for x in out)
        return d, along


def _piece_type(t, sizes):
    return TensorType(t.dtype, tuple(sizes), None, t.device, False)


@dataclass
class Branch:
    """One input of a cat, as the kernel computes it: when the index along the cat's dim
    is in [start, start + size), from its own nodes (in order) and pieces (`local`: the
    logical inputs loaded there)."""
    start: int
    size: int
    nodes: list
    local: list


def kernel_form(graph):
    """graph with each `aten::cat(prim::ListConstruct(...), <int constant>)` (a fusion
    group's subgraph prints its cats so, as NNC's) as the prim::FusedConcat node the
    kernels compute (a copy; graph itself when it has none)."""
    def cats(g):
        for n in g.nodes:
            if n.kind != "aten::cat" or len(n.inputs) != 2:
                continue
            lst, d = n.inputs
            val = d.node.attrs.get("value") if d.node.kind == "prim::Constant" else None
            if lst.node.kind == "prim::ListConstruct" and len(lst.uses) == 1 and \
                    isinstance(val, int) and not isinstance(val, bool) and lst.node.inputs:
                yield n, lst.node, val
    if next(cats(graph), None) is None:
        return graph
    g = graph.copy()
    for n, build, dim in list(cats(g)):
        cat = g.create(CAT, list(build.inputs), attrs={"dim": dim},
                       output_types=[n.output.type], source_range=n.source_range)
        cat.insert_before(n)
        n.output.replace_all_uses_with(cat.output)
        n.destroy()
        build.destroy()
    return g


def distribute(graph, inputs):
    """(graph, pieces, piece_of, branches): `graph` with every chunk moved up to the group
    inputs and every cat's inputs computed by nodes of their own (a copy; the graph itself
    when it has neither), the Pieces the kernel reads, for each piece value of the returned
    graph read by an op (or returned) its index in `pieces`, and per cat node its Branches.
    Raises KernelBuildError for what a kernel cannot do."""
    if not any(n.kind in (KIND, CAT) for n in graph.nodes):
        return graph, [], {}, {}
    g = graph.copy()
    _drop_legacy_empties(g)
    shapes = _Shapes()
    for v, s in zip(g.inputs, inputs):
        if s.kind == "tensor":
            shapes.set_input(v, s)
    cut = {}
    for n in g.nodes:
        if n.kind == "prim::Constant":
            continue
        if n.kind == KIND:
            cut[n] = shapes.chunk(n)
        elif n.kind == CAT:
            shapes.concat(n)
        else:
            shapes.pointwise(n)
    _move_chunks(g, shapes, cut)
    branch_of = _plan_concats(g, shapes, cut)
    _whole_pieces(g, shapes, cut)
    g, pieces, piece_of = _pieces(g, inputs, shapes, cut, branch_of)
    branches = {}
    for n in g.nodes:
        if n.kind == CAT:
            along = cut[n]
            starts = [sum(along[:b]) for b in range(len(along))]
            branches[n] = [Branch(starts[b], along[b], [], []) for b in range(len(along))]
    for n in g.nodes:
        where = branch_of.get(n)
        if where is not None:
            branches[where[0]][where[1]].nodes.append(n)
    for v, m in piece_of.items():
        where = branch_of.get(v.node)
        if where is not None and m not in branches[where[0]][where[1]].local:
            branches[where[0]][where[1]].local.append(m)
    return g, pieces, piece_of, branches


def _drop_legacy_empties(g):
    """Take the inputs of sizes [0] off cats of another rank (torch.cat skips them: the
    result's type already counts their dtype). The group still takes them, so its guard
    still checks them; a node computing one that nothing else reads goes too."""
    for c in [n for n in g.nodes if n.kind == CAT]:
        rank = _rank(c.output)
        for i in reversed(range(len(c.inputs))):
            v = c.inputs[i]
            t = v.type
            if isinstance(t, TensorType) and t.sizes is not None \
                    and tuple(t.sizes) == (0,) and rank not in (None, 1):
                if len(c.inputs) == 1:
                    raise KernelBuildError("a cat of legacy empty tensors only")
                c.remove_input(i)
                _drop_if_dead(g, v)


def _drop_if_dead(g, v):
    if v.uses or v in g.inputs or v in g.outputs or len(v.node.outputs) != 1:
        return
    node = v.node
    ins = list(node.inputs)
    node.destroy()
    for u in ins:
        _drop_if_dead(g, u)


def _plan_concats(g, shapes, cut):
    """Give each input of each cat nodes of its own: the pointwise ops computing it are
    cloned per input (`clone`), reading its leaves (group inputs, pieces) through
    prim::CatView nodes that shift the index along the cat's dim by the input's offset
    (a leaf of size 1 there that the input broadcasts is read as is). Returns node ->
    (cat node, input position) for the clones and views."""
    branch_of = {}
    leaves = set(g.inputs)
    for c in [n for n in g.nodes if n.kind == CAT]:
        d = _cat_dim(c)
        rank = len(shapes.sizes[c.output])
        total = shapes.sizes[c.output][d]
        cut[c] = [shapes.sizes[u][d] for u in c.inputs]     # (before the inputs change)
        start = 0
        for b, u in enumerate(list(c.inputs)):
            size = shapes.sizes[u][d]
            memo = {}

            def clone(v, b=b, start=start, size=size, memo=memo):
                if v in memo:
                    return memo[v]
                if not _is_tensor(v):
                    return v
                dv = d - (rank - len(shapes.sizes[v]))
                if dv < 0 or (shapes.bcast[v][dv] and size != 1):
                    memo[v] = v               # broadcast along the cat's dim: as is
                    return v
                p = v.node
                if v in leaves or p.kind in (KIND, CAT_VIEW):
                    view = g.create(CAT_VIEW, [v], attrs={"dim": dv, "shift": start,
                                                          "size": total},
                                    output_types=[v.type])
                    view.insert_before(c)
                    sizes = list(shapes.sizes[v])
                    sizes[dv] = total
                    shapes.sizes[view.output] = tuple(sizes)
                    shapes.bcast[view.output] = tuple(x == 1 for x in sizes)
                    cut[view] = ("cat", dv, start, total)
                    branch_of[view] = (c, b)
                    memo[v] = view.output
                    return view.output
                if p.kind == CAT:
                    raise KernelBuildError("a cat of a cat")
                if p.kind == "prim::Constant" or p.op is None or not p.op.scalar \
                        or len(p.outputs) != 1:
                    raise KernelBuildError(f"a cat of the result of {p.kind}")
                ins = [clone(x) for x in p.inputs]
                n = g.create(p.kind, ins, output_types=[v.type], attrs=dict(p.attrs),
                             source_range=p.source_range)
                n.op = p.op
                n.insert_before(c)
                shapes.pointwise(n)
                branch_of[n] = (c, b)
                memo[v] = n.output
                return n.output

            c.replace_input(b, clone(u))
            start += size
    for n in reversed(list(g.nodes)):          # the originals nothing reads any more
        if n.kind not in ("prim::Constant", KIND) and n not in branch_of \
                and not any(o.uses for o in n.outputs):
            n.destroy()
    return branch_of


def _whole_pieces(g, shapes, cut):
    """A group input read in pieces (chunks, cat views) and also whole (the real and
    imaginary halves of `x` and `x / (re * re + im * im)`) is read whole through one more
    piece: the whole input, from its first element (`x.chunk(1, 0)`), so that the kernel
    reads the input's memory only through pieces."""
    for v in g.inputs:
        if not _is_tensor(v) or not v.uses:
            continue
        users = [u.user for u in v.uses]
        if not any(n.kind in (KIND, CAT_VIEW) for n in users) \
                or all(n.kind in (KIND, CAT_VIEW) for n in users):
            continue
        whole = g.create(KIND, [v], attrs={"chunks": 1, "dim": 0}, output_types=[v.type])
        whole.insert_before(next(n for n in g.nodes if n.kind != "prim::Constant"))
        for u in [u for u in v.uses if u.user.kind not in (KIND, CAT_VIEW)
                  and u.user is not whole]:
            u.user.replace_input(u.offset, whole.output)
        shapes.sizes[whole.output] = shapes.sizes[v]
        shapes.bcast[whole.output] = shapes.bcast[v]
        cut[whole] = (1, 0, [shapes.sizes[v][0]])


def _move_chunks(g, shapes, cut):
    inputs = set(g.inputs)
    moved = True
    while moved:
        moved = False
        for n in list(g.nodes):
            if n.kind != KIND or n.owning_block is None:
                continue
            v = n.inputs[0]
            p = v.node
            if v in inputs or p.kind == KIND:
                continue
            if p.kind == "prim::Constant" or p.op is None or not p.op.scalar \
                    or len(p.outputs) != 1:
                raise KernelBuildError(f"a chunk of the result of {p.kind}, which the "
                                       f"kernel cannot compute piece by piece")
            _move_one(g, n, p, shapes, cut)
            moved = True


def _move_one(g, n, p, shapes, cut):
    """Replace chunk n of p's result by p computed on chunks of p's operands."""
    chunks, d, sizes = cut.pop(n)
    v = p.outputs[0]
    rank = len(shapes.sizes[v])
    operand_chunks = {}
    for j, out in enumerate(n.outputs):
        if not out.uses:
            continue
        ins = []
        for u in p.inputs:
            if not _is_tensor(u):
                ins.append(u)
                continue
            du = d - (rank - len(shapes.sizes[u]))
            if du < 0 or shapes.bcast[u][du]:
                ins.append(u)               # broadcast along the chunked dim: whole
                continue
            cc = operand_chunks.get(u)
            if cc is None:
                cc = g.create(KIND, [u], attrs={"chunks": chunks, "dim": du},
                              output_types=[u.type] * len(n.outputs))
                cc.insert_before(n)
                got = shapes.chunk(cc)
                if got[2] != sizes:
                    raise KernelBuildError("operands of a chunked op are cut differently")
                for o in cc.outputs:
                    o.type = _piece_type(u.type, shapes.sizes[o])
                cut[cc] = got
                operand_chunks[u] = cc
            ins.append(cc.outputs[j])
        c = g.create(p.kind, ins, output_types=[_piece_type(v.type, shapes.sizes[out])],
                     attrs=dict(p.attrs), source_range=p.source_range)
        c.op = p.op
        c.insert_before(n)
        shapes.pointwise(c)
        out.replace_all_uses_with(c.outputs[0])
    n.destroy()
    if not v.uses:
        p.destroy()


def _pieces(g, inputs, shapes, cut, branch_of):
    """The Pieces the kernel reads. Equal pieces are read once within one scope: a cat
    branch's pieces are loaded in its branch only (kernels/emit.py), so a piece read there
    and the same piece read outside every branch (`x * w` chunked, then `cat(...) * w`:
    w's whole and a shifted view of its second half meet) are two pieces, each loaded
    where it is read."""
    index = {v: k for k, v in enumerate(g.inputs)}
    views = {}                   # value -> (input k, starts, known sizes)

    def view(v):
        if v in views:
            return views[v]
        if v in index:
            k = index[v]
            s = inputs[k]
            if s.kind != "tensor":
                raise KernelBuildError("a chunk of a number")
            known = tuple(s.sizes) if s.sizes is not None else (None,) * s.ndim
            views[v] = (k, (0,) * s.ndim, known)
            return views[v]
        n = v.node
        k, starts, known = view(n.inputs[0])
        starts, known = list(starts), list(known)
        if n.kind == CAT_VIEW:        # index i along d reads element i - shift
            _, d, shift, total = cut[n]
            starts[d] -= shift
            known[d] = total
        else:
            chunks, d, sizes = cut[n]
            j = n.outputs.index(v)
            starts[d] += sum(sizes[:j])
            known[d] = sizes[j]
        views[v] = (k, tuple(starts), tuple(known))
        return views[v]

    pieces, piece_of, seen = [], {}, {}
    returned = set(g.outputs)
    for n in g.nodes:
        if n.kind not in (KIND, CAT_VIEW):
            continue
        for o in n.outputs:
            if o in returned or any(u.user.kind not in (KIND, CAT_VIEW) for u in o.uses):
                at = view(o)                # equal pieces (two chunks of one input) are
                key = (at, branch_of.get(n))    # read once (in one scope)
                if key not in seen:
                    k, starts, known = at
                    seen[key] = len(pieces)
                    pieces.append(Piece(k, starts, known,
                                        _piece_spec(inputs[k], known, shapes.bcast[o])))
                piece_of[o] = seen[key]
    return g, pieces, piece_of


def _piece_spec(spec, known, bcast):
    if spec.sizes is not None:
        sizes = tuple(known)
        return ArgSpec("tensor", spec.dtype, spec.ndim, sizes, spec.strides,
                       is_c_contiguous(sizes, spec.strides, 1), tuple(s == 1 for s in sizes))
    return ArgSpec("tensor", spec.dtype, spec.ndim, None, None, False, tuple(bcast))
