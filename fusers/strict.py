"""strict_fusion: a guarantee that compiled code runs fused, with the reason when not.

    with gpujit.strict_fusion():       # around calls in Python (TorchScript lacks this),
        y = f(x)                       # or inside scripted code (the frontend's region)

The context manager sets a thread-local flag that the executor reads
(`strict_fusion_active()`): every compiled function called inside must run fully fused
once optimized (profiling calls are exempt), and a fusion group that would run unfused
(its specialization budget is spent, its kernel failed) raises instead. The error names
each unfused node: its schema (or kind), the user's file:line and that line of code, and
why it was not fused.
"""
from __future__ import annotations

import contextlib
import linecache
import sys
import threading

from ..ir.graph import SourceRange
from .report import unfused_nodes, unfused_reason, source_location, source_text, node_label
from .fusibility import is_group
from .subgraph import subgraph_of

__all__ = ["strict_fusion", "strict_fusion_active", "StrictFusionError", "strict_where",
           "check_strict_fusion", "strict_regions", "check_strict_regions", "REGION_NAME"]

REGION_NAME = "strict_fusion"      # prim::Enter[name=...] / prim::Exit[name=...] markers


class _StrictState(threading.local):
    depth = 0           # (a class default: reading a missing thread-local attribute
                        # through getattr's default costs ~300 ns on every compiled call)
    sites = ()          # (file, line) of this thread's open blocks, innermost last: the
                        # `with` line an error from a call in the block points at


_state = _StrictState()
# how many `with strict_fusion():` blocks are open in all threads together: compiled calls
# read this one list slot, and this thread's depth (a thread-local read, ~60 ns) only when
# it is not 0. Changed under _entered_lock (enter and exit are rare; a thread switch
# between the read and the write of `+=` would lose a count)
_entered = [0]
_entered_lock = threading.Lock()


class strict_fusion(contextlib.ContextDecorator):
    """`with gpujit.strict_fusion():` (or `@gpujit.strict_fusion()`): compiled code that
    runs in the block must run fused, else StrictFusionError. Nests; per thread."""

    def __enter__(self):
        site = _caller_site()       # (first: nothing to undo if it fails)
        with _entered_lock:
            _entered[0] += 1
        _state.depth += 1
        _state.sites += (site,)
        return self

    def __exit__(self, *exc):
        _state.depth -= 1
        _state.sites = _state.sites[:-1]
        with _entered_lock:
            _entered[0] -= 1
        return False


def strict_fusion_active() -> bool:
    """Is this thread inside `with strict_fusion():`?"""
    return _state.depth > 0


def strict_where(strict, name):
    """What a fusion group's StrictFusionError names: its scripted region's `with` line
    (a group's `strict`, when the region has one), else `name`."""
    return strict if isinstance(strict, SourceRange) else name


def _caller_site():
    """(file, line) of the `with strict_fusion():` being entered (about a µs: the line's
    text is read only when an error shows it); for `@strict_fusion()`, the decorated
    function's first line (ContextDecorator enters from contextlib)."""
    try:
        f = sys._getframe(2)        # (0: _caller_site, 1: __enter__, 2: the caller)
    except ValueError:              # (entered with no Python caller)
        return "<unknown>", 0
    if f.f_code.co_filename == contextlib.__file__:
        code = getattr(f.f_locals.get("func"), "__code__", None)
        if code is not None:
            return code.co_filename, code.co_firstlineno
        f = f.f_back or f
    return f.f_code.co_filename, f.f_lineno


def python_block_site():
    """A SourceRange of this thread's innermost open `with strict_fusion():` (Python
    level), pointing at the call in its line; None outside any."""
    if not _state.sites:
        return None
    filename, line = _state.sites[-1]
    text = linecache.getline(filename, line).rstrip()
    i = text.find("strict_fusion")
    if i < 0:       # (`with sf:` of an object made before) the line's first character
        col = len(text) - len(text.lstrip())
    else:           # the dotted name's start: `torch.jit.strict_fusion()`
        col = i
        while col > 0 and (text[col - 1].isalnum() or text[col - 1] in "_."):
            col -= 1
    return SourceRange(filename, line, col, text)


class StrictFusionError(RuntimeError):
    """Ops ran (or would run) unfused inside strict_fusion.

    nodes: the unfused nodes; where: the strict_fusion region (a SourceRange of the `with`
    line, or a description such as "a call of f"); reasons: {node: why} overriding what
    the fuser recorded; groups: the fusion groups of a region that fused into more than
    one group (named first, as TorchScript's "Found multiple fusions"; `nodes` may be
    empty then)."""

    def __init__(self, nodes, where=None, reasons=None, groups=()):
        self.nodes = list(nodes)
        self.where = where
        # (a call's error inside the Python-level block also shows that block's line)
        self.block = None if isinstance(where, SourceRange) else python_block_site()
        self.reasons = dict(reasons or {})
        self.groups = list(groups)
        super().__init__(self._message())

    def _where(self, lines):
        if isinstance(self.where, SourceRange):
            lines.append(self.where.highlight())
        elif self.where:
            lines.append(f"  in {self.where}" + (", inside strict_fusion:" if self.block
                                                 else ""))
        if self.block is not None:
            lines.append(self.block.highlight())
        return "\n".join(lines)

    def _message(self):
        lines = []
        if self.groups:
            lines = [f"Found multiple fusions inside strict_fusion ({len(self.groups)} fusion "
                     f"groups, one expected):"]
            for i, g in enumerate(self.groups):
                ops = [m for m in subgraph_of(g).nodes if m.kind != "prim::Constant"]
                first = next((m for m in ops if m.source_range is not None), None)
                lines.append(f"  group {i}: {', '.join(m.kind for m in ops)}    "
                             f"{source_location(ops)}    "
                             f"{source_text(first) if first is not None else ''}".rstrip())
            lines.append("  (independent computations, or ones the fuser keeps apart, "
                         "run as separate kernels)")
            if not self.nodes:
                return self._where(lines)
        rows = []
        for n in self.nodes:
            why = self.reasons.get(n) or unfused_reason(n)
            rows.append((node_label(n), source_location([n]), source_text(n), why))
        w1 = max((len(r[0]) for r in rows), default=0)
        w2 = max((len(r[1]) for r in rows), default=0)
        # (after several groups, as TorchScript's check reports them first)
        lines.append("and unfused operators:" if lines else
                     "Found unfused operators inside strict_fusion:")
        for label, loc, text, why in rows:
            lines.append(f"  {label:<{w1}}    {loc:<{w2}}    {text}".rstrip())
            lines.append(f"      not fused: {why}")
        return self._where(lines)


def check_strict_fusion(graph, where=None):
    """Raise StrictFusionError when the (fused) graph, block or nodes leave tensor work
    outside fusion groups."""
    nodes = unfused_nodes(graph)
    if nodes:
        raise StrictFusionError(nodes, where)


def strict_regions(graph, name=REGION_NAME) -> list:
    """[(prim::Enter node, [the nodes between it and its prim::Exit, nested blocks
    included])] for every `with gpujit.strict_fusion():` region of a scripted graph
    (name: the regions of another `with`, "no_grad"...)."""
    out = []

    def visit(block, open_regions):
        for n in block.nodes:
            # (the markers of a region nested in another are nodes of the outer one)
            if n.kind == "prim::Enter" and n.attrs.get("name") == name:
                for _, nodes in open_regions:
                    nodes.append(n)
                open_regions.append((n, []))
                out.append(open_regions[-1])
                continue
            if n.kind == "prim::Exit" and n.attrs.get("name") == name:
                if open_regions:
                    open_regions.pop()
                for _, nodes in open_regions:
                    nodes.append(n)
                continue
            for _, nodes in open_regions:
                nodes.append(n)
            for b in n.blocks:
                # a region the block closes (a `return` inside the `with`) stays open
                # for the block's siblings
                visit(b, list(open_regions))
    visit(graph.block, [])
    return out


_NESTED = ("the marker of a strict_fusion region nested in this one (TorchScript counts "
           "it as an unfused operator: nested regions always fail)")


def check_strict_regions(graph, reason=None, ran=None):
    """Raise StrictFusionError for the first strict_fusion region of a fused graph that
    leaves tensor work outside fusion groups (constants and shape bookkeeping aside);
    the error points at the region's `with` line. `reason`: why every op is unfused
    (fusion is off), instead of what the fuser recorded. `ran`: the blocks the profiling
    runs entered; a region in another block (a branch not taken yet) has no types to fuse
    with and is checked when a call takes it (that call profiles again and recompiles)."""
    for enter, nodes in strict_regions(graph):
        if ran is not None and enter.owning_block not in ran:
            continue
        # a strict_fusion region nested in this one: its prim::Enter / prim::Exit are
        # unfused operators of this region, as TorchScript counts them (torch 2.13 raises
        # "Found unfused operators" for any region holding another, listing them as
        # blank lines), so nesting never passes
        nested = {n for n in nodes if n.kind in ("prim::Enter", "prim::Exit")
                  and n.attrs.get("name") == REGION_NAME}
        ops = set(unfused_nodes(n for n in nodes if n not in nested))
        bad = [n for n in nodes if n in ops or n in nested]
        # several groups first, as TorchScript's checkForUnfusedOps ("Found multiple
        # fusions" whatever else the region leaves unfused); the unfused ops follow
        several = _groups_run_together([n for n in nodes if is_group(n)])
        if bad or several:
            reasons = {n: reason for n in bad if n in ops} if reason else {}
            reasons.update({n: _NESTED for n in nested})
            raise StrictFusionError(bad, enter.source_range or "a strict_fusion region",
                                    reasons=reasons, groups=several)


def _branches(node):
    """{prim::If node: index of its block holding `node`} for every `if` around node."""
    out = {}
    b = node.owning_block
    while b is not None and b.owning_node is not None:
        owner = b.owning_node
        if owner.kind == "prim::If":
            out[owner] = owner.blocks.index(b)
        b = owner.owning_block
    return out


def _groups_run_together(groups):
    """The groups of a region of which two or more can run on one call (PyTorch's "Found
    multiple fusions"); groups in different branches of one `if` exclude each other."""
    if len(groups) < 2:
        return []
    paths = [_branches(g) for g in groups]
    together = []
    for i, p in enumerate(paths):
        for j, q in enumerate(paths):
            if i != j and not any(q.get(k, v) != v for k, v in p.items()):
                together.append(groups[i])
                break
    return together
