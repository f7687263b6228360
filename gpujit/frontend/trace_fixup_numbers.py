"""The numbers torch 2.13 gives a traced module's graph (`%31 : Tensor =
prim::CallMethod[name="forward"](%linear, %x.1)` in the tutorial's MyCell).

torch traces one graph: `self`, then a prim::TracedAttr value for every attribute of the
module tree (gatherParametersAndBuffers: a TracedModule's parameters and buffers that are
not None, `training`, `_is_full_backward_hook`, then each submodule and its own), the
inputs, then every op in trace order, each submodule call a prim::TracedModuleForward
block holding its ops. FixupTraceScopeBlocks then numbers, in its passes' order: a `self`
input per block, the GetAttr chains replacing the attributes each block reads (a block
input for one its scope does not hold), the block outputs lifting values read outside a
call (MakeDefsDominateUses), the tuples of calls returning several values (or None), and
last each top-level call's prim::CallMethod. `plan` replays that over gpujit's trace
before its calls fold (the top recorder holds every op inline, and a region per call);
`apply` numbers the folded graph so; None / False where the trace is not of that shape
(the caller keeps its simpler rule)."""
from __future__ import annotations

__all__ = ["plan", "apply", "number_method", "global_names", "name_call_getattrs"]


def _no(where, why, result=None):
    """A give-up: said under GPUJIT_DUMP=names (the graph keeps gpujit's numbering)."""
    from .._dump import names_gave_up
    names_gave_up("traced numbers", where, why)
    return result


def _attr_count(m):
    """How many TracedAttr values torch's gatherParametersAndBuffers makes for module m
    and its submodules (every attribute of its module type); None where gpujit cannot
    tell."""
    from ..jit.objects import ScriptModule
    from ..jit.script_module import TracedModule
    if isinstance(m, ScriptModule) and not isinstance(m, TracedModule):
        # a scripted submodule's type: its parameters and buffers (None ones too), then
        # its other attributes (not its constants)
        d = m.__dict__
        consts = d.get("_script_constants") or ()
        n = len(m._parameters) + len(m._buffers) + 2 + sum(
            1 for k in d if not k.startswith("_") and k not in consts and
            k not in ("training", "original_name"))
    else:
        n = sum(p is not None for p in m._parameters.values()) + \
            sum(b is not None for b in m._buffers.values()) + 2
    for sub in m._modules.values():
        if sub is None:
            continue
        k = _attr_count(sub)
        if k is None:
            return None
        n += 1 + k
    return n


class _Block:
    __slots__ = ("region", "path", "parent", "items", "outputs")

    def __init__(self, region, path, parent):
        self.region, self.path, self.parent = region, path, parent
        self.items = []          # ("node", node) / ("call", _Block), in program order
        self.outputs = []        # the values lifted out of it (MakeDefsDominateUses)


def _attr_path(v, self_value):
    """The attribute path ('__module', 'linear', 'weight') a GetAttr chain reads, or
    None for any other value."""
    atoms = []
    while v.node is not None and v.node.kind == "prim::GetAttr":
        atoms.append(v.node.attrs["name"])
        v = v.node.inputs[0]
    if not atoms or v is not self_value:
        return None
    return ("__module",) + tuple(reversed(atoms))


def plan(rec, session, root):
    """torch's numbers for rec's trace (its graph before folding), as a dict: 'values'
    (gpujit Value -> number of each op's result), 'inputs' (their numbers), 'calls' (per
    top-level call: its CallMethod's number and its TupleUnpack's numbers), 'last'."""
    nattr = _attr_count(root)
    g = rec.graph
    nodes = list(g.block.nodes)
    where = f"{type(root).__name__}'s graph"
    if nattr is None:
        return _no(where, "a submodule's attributes are not counted")
    if any(n.blocks for n in nodes) or rec.self_value is None:
        return _no(where, "a node with blocks: " + next(
            (str(n).strip() for n in nodes if n.blocks), "no self"))
    regions = list(rec.regions)
    if any(not r.valid or r.out is None for r in regions):
        return _no(where, "a call stays inline: " + next(
            ".".join(session.attr_paths.get(id(r.module)) or ("?",))
            for r in regions if not r.valid or r.out is None))
    idx = {id(n): i for i, n in enumerate(nodes)}
    try:
        spans = [(idx[id(r.prev)] + 1 if r.prev is not None else 0,
                  idx[id(r.last)] + 1 if r.last is not None else 0) for r in regions]
    except KeyError:
        return _no(where, "a call's nodes are gone")
    top = _Block(None, ("__module",), None)
    by_callee = {id(rec): top}
    blocks = []
    for r, (i0, i1) in zip(regions, spans):
        parent = by_callee.get(id(r.callee.callers[-1])) if r.callee.callers else None
        path = session.attr_paths.get(id(r.module))
        if parent is None or path is None or i1 < i0:
            return _no(where, f"a call not nested in its caller: {type(r.module).__name__}")
        b = _Block(r, ("__module",) + tuple(path), parent)
        b.region = (r, i0, i1)
        by_callee[id(r.callee)] = b
        blocks.append(b)
    owner = [top] * len(nodes)
    for b in blocks:                     # (start order: a call inside another overrides)
        _, i0, i1 = b.region
        for i in range(i0, i1):
            owner[i] = b
    # each block's items: its own nodes and its calls, by position (a call before the
    # node at its start index)
    placed = []
    for i, n in enumerate(nodes):
        if n.kind != "prim::GetAttr":
            placed.append(((i, 1), owner[i], ("node", n)))
    for b in blocks:
        placed.append(((b.region[1], 0), b.parent, ("call", b)))
    # (a call starts inside its parent: its position orders it among the parent's)
    placed.sort(key=lambda t: t[0])
    for _, b, item in placed:
        b.items.append(item)

    c = 0                                              # self
    c += nattr
    inputs = {}
    for v in g.inputs[1:]:
        c += 1
        inputs[v] = c
    values, def_block = {}, {}
    for i, n in enumerate(nodes):
        if n.kind == "prim::GetAttr":
            continue
        for o in n.outputs:
            c += 1
            values[o] = c
            def_block[o] = owner[i]
    c += len(blocks)                                   # each block's `self` input
    chains = []
    c = _get_attrs(top, rec.self_value, c, chains)
    c = _lift(top, def_block, g, c)
    calls = []
    c = _tuples(top, c, calls)
    for k, b in enumerate(b for kind, b in top.items if kind == "call"):
        c += 1
        calls[k] = (c, calls[k])
    taken = {_base(v.debug_name) for n in nodes if n.kind != "prim::GetAttr"
             for v in n.outputs if v.has_debug_name()}
    return {"values": values, "inputs": inputs, "calls": calls, "last": c,
            "top_calls": sum(1 for kind, _ in top.items if kind == "call"),
            "getattr_names": _getattr_names(chains, top, taken)}


def _base(name):
    base, _, k = name.rpartition(".")
    return base if base and k.isdigit() else name


def _getattr_names(chains, top, taken):
    """The names torch's top-level GetAttr values end with, in the graph's order (chains
    inserted at the block's start: the last made first), each (attribute, name): every
    createGetAttr names its value the field, displacing the value that held the name
    (Value::setDebugName), inner blocks' chains too. None where a field shares its base
    name with an op's value (whose renaming is not replayed)."""
    from ..ir.graph import displaced_name
    names, last, held = {}, {}, {}
    for _, atoms, _ in chains:
        for a in atoms:
            if a in taken:
                return None
    tokens = []
    for blk, atoms, _ in chains:
        for a in atoms:
            t = object()
            name = "_" + a if a.isdigit() else a
            old = names.get(name)
            if old is not None:
                new = displaced_name(name, names, last)
                names[new] = old
                held[old] = new
            names[name] = t
            held[t] = name
            tokens.append((blk, a, t))
    out = _Names()
    top_chains = [(atoms, toks) for (blk, atoms, _), toks in
                  zip(chains, _split(tokens, chains)) if blk is top]
    for atoms, toks in reversed(top_chains):
        out.extend((a, held[t]) for a, t in zip(atoms, toks))
    # the calls' own chains: their graphs copy the names (`%weight.9` in conv1's)
    inner = {}
    for (blk, atoms, _), toks in zip(chains, _split(tokens, chains)):
        if blk is not top:
            m = inner.setdefault(id(blk.region[0].callee), {})
            for k, t in enumerate(toks):
                m.setdefault(atoms[:k + 1], held[t])
    out.inner = inner
    return out


class _Names(list):
    """_getattr_names' list, with `inner`: per call's Recorder, attribute path -> name."""


def _split(tokens, chains):
    i = 0
    for _, atoms, _ in chains:
        yield [t for _, _, t in tokens[i:i + len(atoms)]]
        i += len(atoms)


def _get_attrs(b, self_value, c, chains):
    """ConvertTracedAttrReferences' numbers (GetAttr chains, block inputs); chains gets
    each chain made, in order: (block, its atoms, the path)."""
    def visit(b):
        nonlocal c
        unresolved, local = [], set()
        for kind, x in b.items:
            if kind == "call":
                refs = [x.path] + visit(x)
            else:
                refs = [p for p in (_attr_path(v, self_value) for v in x.inputs)
                        if p is not None]
            for p in refs:
                if p in local:
                    continue
                local.add(p)
                if p[:len(b.path)] == b.path:
                    c += len(p) - len(b.path)          # GetAttr per atom
                    if len(p) > len(b.path):
                        chains.append((b, p[len(b.path):], p))
                else:
                    c += 1                             # a block input
                    unresolved.append(p)
        return unresolved
    visit(b)
    return c


def _lift(top, def_block, g, c):
    """MakeDefsDominateUses: an output of each call a value leaves, in use order."""
    remap = {}

    def chain(b):
        out = []
        while b is not None:
            out.append(b)
            b = b.parent
        return out

    def use(v, b):
        nonlocal c
        v = remap.get(v, v)
        d = def_block.get(v) if not isinstance(v, tuple) else v[1]
        if d is None or d is b:
            return
        ups = chain(b)
        common = next(x for x in chain(d) if x in ups)
        cur, blk = v, d
        while blk is not common:
            blk.outputs.append(cur)
            c += 1
            cur = (cur, blk.parent)       # (the call's output, in the parent block)
            blk = blk.parent
        remap[v] = cur

    def run(b):
        for kind, x in b.items:
            if kind == "node":
                for v in x.inputs:
                    use(v, b)
            else:
                run(x)
    run(top)
    for v in g.outputs:
        use(v, top)
    return c


def _tuples(b, c, calls):
    """convertReturnsToTuples: a call returning several values returns a tuple (its
    TupleConstruct, the call's tuple output, a TupleUnpack's values), none a None."""
    for kind, x in b.items:
        if kind != "call":
            continue
        c = _tuples(x, c, [])
        k = len(x.outputs)
        unpack = []
        if k > 1:
            unpack = list(range(c + 3, c + 3 + k))
            c += 2 + k
        elif k == 0:
            c += 2
        calls.append(unpack)
    return c


def apply(p, graph):
    """Number graph (the trace folded, dead code gone) by plan p; False (unchanged) when
    its values do not all have a number there."""
    if p is None:
        return False
    where = "a traced module's graph"
    # (the folded calls: a compiled submodule's call was traced as one, a value of its
    # own)
    top = [n for n in graph.block.nodes if n.kind == "prim::CallMethod"
           and "callee" in n.meta and n.outputs and n.outputs[0] not in p["values"]]
    if len(top) != p["top_calls"]:
        return _no(where, f"{len(top)} calls, {p['top_calls']} planned", False)
    nums = {graph.inputs[0]: 0}
    for v in graph.inputs[1:]:
        if v not in p["inputs"]:
            return _no(where, f"an input not planned: %{v.debug_name}", False)
        nums[v] = p["inputs"][v]
    for cm, (num, unpack) in zip(top, p["calls"]):
        nums[cm.output] = num
        users = [u.user for u in cm.output.uses]
        if unpack:
            if len(users) != 1 or users[0].kind != "prim::TupleUnpack" or \
                    len(users[0].outputs) != len(unpack):
                return _no(where, f"a call's tuple not unpacked: {str(cm).strip()}", False)
            for o, k in zip(users[0].outputs, unpack):
                nums[o] = k
    spare = p["last"]
    for n in graph.block.nodes:
        for o in n.outputs:
            if o in nums:
                continue
            if o in p["values"]:
                nums[o] = p["values"][o]
            elif n.kind == "prim::GetAttr" and o.has_debug_name():
                spare += 1                  # (named: its number is not shown)
                nums[o] = spare
            else:
                return _no(where, f"a value not planned: {str(n).strip()}", False)
        if n.blocks:
            return _no(where, f"a node with blocks: {str(n).strip()}", False)
    for v, k in nums.items():
        v.unique = k
    graph._unique = spare
    _name_getattrs(graph, p.get("getattr_names"))
    return True


def _name_getattrs(graph, names):
    """The top-level GetAttr values take torch's names (the graph's order is torch's)."""
    if names is None:
        return
    gets = [n for n in graph.block.nodes if n.kind == "prim::GetAttr"]
    if len(gets) != len(names) or any(n.attrs.get("name") != a
                                      for n, (a, _) in zip(gets, names)):
        return
    mine = {n.output for n in gets}
    if any(graph._names.get(name) not in (None, *mine) for _, name in names):
        return                  # (a name another value holds)
    for n in gets:
        graph._forget(n.output)
    for n, (_, name) in zip(gets, names):
        graph._rename(n.output, name)


def number_method(graph, nested=False):
    """Number a submodule call's graph (before dead code goes) as torch's
    lambdaLiftBlocksAndConvertToGraph clones the call's block into a graph of its own:
    `self` %0, then each node in order, its outputs first, then each of its inputs read
    from outside the block (a new graph input, in first-read order); a nested call's
    block output takes its number in order but its prim::CallMethod, made after all
    (createMethodCalls), takes the next ones (dg's graph: `%3` its input, `%6 = aten::neg`).
    nested: a call inside a submodule's call, whose graph torch copies (Graph::copy)
    when it clones the outer block: its inputs first, %0, %1 ..., then the nodes'
    outputs. False (unchanged) where the graph is not of that shape."""
    where = f"the graph of a call of {graph.inputs[0].type if graph.inputs else '?'}"
    if not graph.inputs or any(n.blocks for n in graph.block.nodes):
        return _no(where, "a node with blocks: " + next(
            (str(n).strip() for n in graph.block.nodes if n.blocks), "no self"), False)
    params = set(graph.inputs[1:])
    nums = {graph.inputs[0]: 0}
    c = 0
    calls = []

    def read(v):
        nonlocal c
        if v in params and v not in nums:
            c += 1
            nums[v] = c
    # (the attribute reads of the calls folded out of it, which nothing reads now, are
    # in the inner calls' blocks in torch's trace, not in this one)
    stale = set()
    for n in reversed(graph.block.nodes):
        if n.kind == "prim::GetAttr" and all(u.user in stale for u in n.output.uses) or \
                n.meta.get("result_only") and not any(o.uses for o in n.outputs):
            stale.add(n)
    if nested:
        for v in graph.inputs[1:]:
            read(v)
    for n in graph.block.nodes:
        if n in stale:
            continue
        for o in n.outputs:
            c += 1
            if n.meta.get("traced_call"):
                calls.append(o)
            else:
                nums[o] = c
        for v in n.inputs:
            read(v)
    for v in graph.outputs:
        read(v)
    for o in calls:
        c += 1
        nums[o] = c
    if len(nums) != len(graph.inputs) + sum(len(n.outputs) for n in graph.block.nodes
                                            if n not in stale):
        return _no(where, "an input its nodes do not read: " + next(
            (f"%{v.debug_name}" for v in graph.inputs if v not in nums), "?"), False)
    for n in stale:             # (dead code: gone before it prints)
        for o in n.outputs:
            nums[o] = c = c + 1
    for v, k in nums.items():
        v.unique = k
    graph._unique = c
    return True


def global_names(session):
    """Each submodule call's values named as torch's one trace names them (the call's
    graph copies them from there: `%input.3`, not the `%input` of a graph of its own):
    as the top trace, which holds every op, names the same op's values (before the calls
    fold, which destroys the top trace's nodes of them)."""
    for rec in session.call_recorders:
        g = rec.graph
        pairs = []
        for n in g.block.nodes:
            t = n.meta.get("twin")
            if t is None or t.owning_block is None or len(t.outputs) != len(n.outputs):
                continue
            pairs.extend(zip(n.outputs, t.outputs))
            # (a list result's unpacked elements: `%i, %f, %g, %o = prim::ListUnpack`)
            un, tu = _unpack_of(n), _unpack_of(t)
            if un is not None and tu is not None and len(un.outputs) == len(tu.outputs):
                pairs.extend(zip(un.outputs, tu.outputs))
        if not pairs:
            continue
        for v, _ in pairs:
            g._rename(v, None)
        for v, t in pairs:
            if not t.has_debug_name():
                continue
            held = g._names.get(t.debug_name)
            if held is not None and held.node.kind == "prim::Param" and held is not \
                    g.inputs[0]:
                # (a parameter still named after the forward's own, `x.1`: the fold names
                # it after the caller's value)
                g._rename(held, None)
            if g._names.get(t.debug_name) is None:
                g._rename(v, t.debug_name)


def _unpack_of(n):
    if len(n.outputs) != 1 or len(n.output.uses) != 1:
        return None
    u = n.output.uses[0].user
    return u if u.kind == "prim::ListUnpack" else None


def name_call_getattrs(p, session):
    """The GetAttr values of each call's graph named as torch's one trace names them
    (plan's chains of the call's block)."""
    names = p.get("getattr_names") if p else None
    inner = getattr(names, "inner", None)
    if not inner:
        return
    for rec in session.call_recorders:
        m = inner.get(id(rec))
        g = rec.graph
        if not m or not g.inputs:
            continue
        got = []
        for n in g.block.nodes:
            if n.kind != "prim::GetAttr":
                continue
            atoms, v = [], n.output
            while v.node is not None and v.node.kind == "prim::GetAttr":
                atoms.append(v.node.attrs["name"])
                v = v.node.inputs[0]
            name = m.get(tuple(reversed(atoms))) if v is g.inputs[0] else None
            if name is not None:
                got.append((n.output, name))
        mine = {v for v, _ in got}
        if any(g._names.get(k) not in (None, *mine) for _, k in got) or \
                len({k for _, k in got}) != len(got):
            continue                # (a name another value holds)
        for v, _ in got:
            g._rename(v, None)
        for v, k in got:
            g._rename(v, k)
