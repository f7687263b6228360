"""Dead code elimination: remove nodes whose results nobody uses and that do nothing
else (`has_side_effects` is False: no printing, raising, in-place writes or opaque calls),
inside blocks too. A random draw is no side effect here, as in TorchScript's DCE: an
unused `torch.rand(3)` goes, and does not advance the generator.

A prim::Loop itself stays, as in TorchScript (its carried values are trimmed, and it goes
once nothing but constants is left in its body): a `while` whose condition raises, e.g.
`while w < 4 and xs[i] > 0: w += 1` with w unused after it, still raises (torch 2.13).
As TorchScript's DCE, it also trims control flow: an unused output of a prim::If goes with
the matching output of both blocks, and an unused loop-carried value of a prim::Loop goes
(output, input, block input and block output) when the body does not read it for
anything that stays. The analysis is mark-then-sweep: marking walks each block backwards
from the live roots (block outputs, side effects); a loop body is marked until the set of
live carried values stops growing, because a carried value read in one trip feeds the next.

A prim::SetAttr is a side effect only while something can still see the object: it goes
(as in TorchScript, whose DCE asks its AliasDb) when the object is local, not returned and
not reachable from anything live after it, e.g. a local object whose __init__ was inlined
by freezing and whose attributes nothing reads. Then its prim::CreateObject goes too.

An in-place write (an op whose schema writes a `Tensor(a!)` argument, e.g. aten::add_,
aten::fill_, aten::copy_, an out= op) goes likewise, as TorchScript's DCE keeps a write
only when it may write a live value's memory (AliasDb::writesToAlias) or a wildcard:
when the memory it writes is local (no graph input's, not returned, not handed to
opaque code) and no live value may alias it. `v = x * 2; v[:, 0] = 0.0` with v unused
afterwards goes, with the select / slice views it wrote through, so a dead write that
would raise (a copy_ of a mismatched shape, a ListUnpack of a traced unbind on new sizes)
does not run, nor does a dead random fill (`torch.zeros(3).uniform_()`). Writes that
call autograd (requires_grad_, detach_) or have other side effects stay.

A list's or dict's mutator (append, insert, `l[i] = v`, extend, clear, remove, pop,
popitem) goes too, with what computed its arguments, when its container provably stays
local (alias_analysis.local_container_aliases: made here, carried only through ifs and
loops, never stored elsewhere, handed to a call or returned) and no live node reads it
(nor, by the AliasDb, anything it may alias): `tr: List[str] = []; tr.append(str(int(s)))`
with tr unused afterwards does not raise for s = " ", as in TorchScript. A list appended
to in a loop and stacked after it is read by a live node, so its appends stay.
"""
from __future__ import annotations

from ..ir.schema_match import (SIDE_EFFECT_KINDS, calls_autograd, has_side_effects,
                               is_mutating, is_nondeterministic)
from .alias_analysis import AliasDb, is_container_mutator, local_container_aliases

__all__ = ["eliminate_dead_code"]


def eliminate_dead_code(graph, keep=None) -> None:
    """Remove dead nodes and dead prim::If / prim::Loop outputs, in place. (Code after a
    raise that is unconditional when the function is compiled never reaches the graph:
    the frontend stops there, as TorchScript's exit transform does; a raise that
    becomes unconditional later, by constant propagation or inlining, leaves the code
    after it in place, as TorchScript leaves it, so what it reads stays live: an
    `assert "abc".strip() == "abca,b"` after `v1 = [...][-1]` still fails at the index
    first, as in torch 2.13.)"""
    while True:
        live = _Live(graph, keep)
        live.block(graph.block, [True] * len(graph.outputs))
        # a container that reached a dead node (a tuple, a call) counted as escaping:
        # once that node is gone, its dead mutators may go too
        if not _sweep_block(graph.block, live) or not live.emptied and \
                all(n in live.nodes or n.kind == "prim::Return" for n in live.blockers):
            return


class _Live:
    def __init__(self, graph, keep=None):
        self.graph = graph
        self.keep = keep        # nodes kept though dead (keep(node) is true)
        self.values = set()
        self.nodes = set()
        self._db = None
        self._local = {}     # container mutator -> its container's local aliases (or None)
        self.emptied = False    # did the sweep drop an if / a loop left with nothing to do
        self.blockers = []      # the nodes through which a container escaped

    def block(self, block, keep_outputs):
        for v, keep in zip(block.outputs, keep_outputs):
            if keep:
                self.values.add(v)
        for node in reversed(block.nodes):
            if node in self.nodes or any(o in self.values for o in node.outputs) or \
                    node.kind == "prim::Loop" or \
                    (has_side_effects(node) and not _only_draws(node) and
                     not self.unseen_write(node)) or \
                    (self.keep is not None and self.keep(node)):
                self.node(node)

    def unseen_write(self, node) -> bool:
        """Is node a prim::SetAttr on an object, an in-place op on tensors or a list /
        dict mutator, that nothing can see afterwards: local (not an input, not handed to
        opaque code), not returned, not reachable from a live value? (Marking runs
        backwards, so the later readers are already live; a loop is marked again until no
        node is added.)"""
        if node.kind == "prim::SetAttr":
            written = [node.inputs[0]]
        elif is_container_mutator(node):
            if node not in self._local:
                self._local[node] = local_container_aliases(node.inputs[0], self.blockers,
                                                            torch_iadd=True)
            local = self._local[node]
            if local is None or any(v in self.values for v in local):
                return False
            written = [node.inputs[0]]
        elif _only_writes(node):
            if self._db is None:
                self._db = AliasDb(self.graph, torch_iadd=True)
            written = list(self._db.writes_to(node))
            if not written:
                return False
        else:
            return False
        if self._db is None:
            self._db = AliasDb(self.graph, torch_iadd=True)
        db = self._db
        return not any(db.escapes(obj) or any(db.may_reach(v, obj) for v in self.values)
                       for obj in written)

    def node(self, node):
        self.nodes.add(node)
        if node.kind == "prim::If":
            keep = [o in self.values for o in node.outputs]
            for b in node.blocks:
                self.block(b, keep)
            self.values.update(node.inputs)
        elif node.kind == "prim::Loop":
            self.loop(node)
        else:
            for b in node.blocks:
                self.block(b, [True] * len(b.outputs))
            self.values.update(node.inputs)

    def loop(self, node):
        body = node.blocks[0]
        n = len(node.outputs)

        def carried():
            return [node.outputs[k] in self.values or body.inputs[k + 1] in self.values
                    for k in range(n)]
        keep = carried()
        while True:
            marked = len(self.nodes)
            self.block(body, [True] + keep)
            again = carried()
            if again == keep and len(self.nodes) == marked:
                break
            keep = again
        self.values.update(node.inputs[:2])
        for k in range(n):
            if keep[k]:
                self.values.add(node.outputs[k])   # the sweep keeps what is marked
                self.values.add(node.inputs[2 + k])


def _only_writes(node) -> bool:
    """Is an in-place write through its schema (no blocks, no autograd call, no print /
    raise / opaque call) the node's only side effect, with a random draw or not
    (`torch.zeros(3).uniform_()` into a dead local goes)?"""
    return (node.op is not None and not node.blocks and node.kind not in SIDE_EFFECT_KINDS
            and not calls_autograd(node) and is_mutating(node)
            and (not is_nondeterministic(node) or _draws(node)))


def _only_draws(node) -> bool:
    """Is a random draw (aten::rand, a training dropout; no write, no blocks) the node's
    only side effect? Then it is dead when nothing uses its result: TorchScript's DCE
    does not count a draw as a side effect (Node::hasSideEffects), so an unused
    `torch.rand(3)` does not advance the generator in torch 2.13's scripted or traced
    code, and the numbers drawn after it are the same as torch's."""
    return (node.op is not None and not node.blocks and node.kind not in SIDE_EFFECT_KINDS
            and not calls_autograd(node) and not is_mutating(node) and _draws(node))


def _draws(node) -> bool:
    """A random op (the registry's "random" tag): not manual_seed / seed, which set the
    generator (side effects in TorchScript too), nor another nondeterministic op."""
    return "random" in node.op.tags


def _sweep_block(block, live) -> bool:
    """Remove what marking left unmarked; did any node go?"""
    # backwards: a dead node's users come after it (or sit in blocks already swept)
    removed = False
    for node in reversed(list(block.nodes)):
        if node not in live.nodes:
            node.destroy()
            removed = True
        elif node.kind == "prim::If":
            for i in reversed(range(len(node.outputs))):
                if node.outputs[i] not in live.values:
                    removed = True
                    for b in node.blocks:
                        b.erase_output(i)
                    node.erase_output(i)
            for b in node.blocks:
                removed |= _sweep_block(b, live)
        elif node.kind == "prim::Loop":
            body = node.blocks[0]
            dead = [k for k, o in enumerate(node.outputs) if o not in live.values]
            removed |= bool(dead)
            for k in reversed(dead):
                body.erase_output(k + 1)
            removed |= _sweep_block(body, live)
            for k in reversed(dead):
                body.erase_input(k + 1)
                node.remove_input(2 + k)
                node.erase_output(k)
        else:
            for b in node.blocks:
                removed |= _sweep_block(b, live)
        if node.kind in ("prim::If", "prim::Loop") and node in live.nodes and \
                not node.outputs and all(n.kind == "prim::Constant"
                                         for b in node.blocks for n in b.nodes):
            node.destroy()      # (kept for a dead write inside, now gone: it does nothing)
            removed = live.emptied = True
    return removed
