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
import threading

from ..ir.graph import SourceRange
from .report import unfused_nodes, unfused_reason, source_location, source_text, node_label

__all__ = ["strict_fusion", "strict_fusion_active", "StrictFusionError",
           "check_strict_fusion"]

_state = threading.local()


class strict_fusion(contextlib.ContextDecorator):
    """`with gpujit.strict_fusion():` (or `@gpujit.strict_fusion()`): compiled code that
    runs in the block must run fused, else StrictFusionError. Nests; per thread."""

    def __enter__(self):
        _state.depth = getattr(_state, "depth", 0) + 1
        return self

    def __exit__(self, *exc):
        _state.depth -= 1
        return False


def strict_fusion_active() -> bool:
    """Is this thread inside `with strict_fusion():`?"""
    return getattr(_state, "depth", 0) > 0


class StrictFusionError(RuntimeError):
    """Ops ran (or would run) unfused inside strict_fusion.

    nodes: the unfused nodes; where: the strict_fusion region (a SourceRange of the `with`
    line, or a description such as "a call of f"); reasons: {node: why} overriding what
    the fuser recorded."""

    def __init__(self, nodes, where=None, reasons=None):
        self.nodes = list(nodes)
        self.where = where
        self.reasons = dict(reasons or {})
        super().__init__(self._message())

    def _message(self):
        rows = []
        for n in self.nodes:
            why = self.reasons.get(n) or unfused_reason(n)
            rows.append((node_label(n), source_location([n]), source_text(n), why))
        w1 = max((len(r[0]) for r in rows), default=0)
        w2 = max((len(r[1]) for r in rows), default=0)
        lines = ["found unfused operators inside strict_fusion:"]
        for label, loc, text, why in rows:
            lines.append(f"  {label:<{w1}}    {loc:<{w2}}    {text}".rstrip())
            lines.append(f"      not fused: {why}")
        if isinstance(self.where, SourceRange):
            lines.append(self.where.highlight())
        elif self.where:
            lines.append(f"  in {self.where}")
        return "\n".join(lines)


def check_strict_fusion(graph, where=None):
    """Raise StrictFusionError when the (fused) graph, block or nodes leave tensor work
    outside fusion groups."""
    nodes = unfused_nodes(graph)
    if nodes:
        raise StrictFusionError(nodes, where)
