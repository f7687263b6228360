"""What fused and what did not, with the reason and the user's source line.

    >>> print(fusion_report(graph))
    fused   prim::TensorExprGroup_0  aten::relu, aten::add         model.py:5
    unfused aten::matmul             not pointwise (runs on CuPy)  model.py:4

`fusion_report(graph)` returns a list of (node, fused, reason) for every non-constant node
(nested blocks included; a group node is one entry whose reason lists its ops); printing it
gives the table. `unfused_nodes(graph)` is what strict_fusion reports: the nodes outside
groups that do tensor work (not constants, tuples, lists, attributes, control flow, size
queries or scalar arithmetic).
"""
from __future__ import annotations

import linecache
import os

from ..ir import __file__ as _ir_file
from ..ir import types as T
from ..ops.namespace import scalar_form
from .fusibility import is_group, is_bookkeeping, unfusible_reason, GROUP_KIND
from .partition import FUSION_META
from .subgraph import subgraph_of

__all__ = ["fusion_report", "format_fusion_report", "FusionReport", "unfused_nodes",
           "unfused_reason", "source_location", "source_text", "node_label"]


def _nodes(where):
    """The nodes of a Graph or Block (nested, in order), or the given nodes."""
    walk = getattr(where, "walk", None)
    return list(walk()) if walk is not None else list(where)


def unfused_nodes(graph) -> list:
    """Nodes outside fusion groups that do tensor work (what strict_fusion reports).
    `graph` may be a Graph, a Block or an iterable of nodes."""
    return [n for n in _nodes(graph) if not is_group(n) and not is_bookkeeping(n)]


def unfused_reason(node) -> str:
    """Why a node outside the groups was not fused (recorded by `fuse`, else computed)."""
    r = node.meta.get(FUSION_META)
    if r is not None:
        return r
    r = unfusible_reason(node)
    return r if r is not None else "fusible, but the graph was not fused"


_NUMBERS = (T.IntType, T.FloatType, T.BoolType, T.NumberType)

# gpujit's own package: an op of a library module's method (nn.Linear's F.linear) inlined
# into a user's scripted module is shown at the user's line that called the method
_LIBRARY = os.path.dirname(os.path.dirname(os.path.abspath(_ir_file))) + os.sep


def user_source_range(node):
    """The node's source range, or, for an op of gpujit's own code inlined into the
    user's (meta["inlined_at"], innermost call first), the user's call it came through."""
    r = node.source_range
    if r is None or not os.path.abspath(r.filename).startswith(_LIBRARY):
        return r
    for site in node.meta.get("inlined_at", ()):
        if site is not None and not os.path.abspath(site.filename).startswith(_LIBRARY):
            return site
    return r


def source_location(nodes) -> str:
    """`model.py:4` (or `model.py:4-6` for several lines of one file), '' when unknown."""
    ranges = [r for r in map(user_source_range, nodes) if r is not None]
    if not ranges:
        return ""
    f = ranges[0].filename
    lines = sorted(r.line for r in ranges if r.filename == f)
    # (a pseudo file, `<model.pt:code/__torch__.py>` of a loaded archive, keeps its whole
    # name: its basename would read `__torch__.py>`)
    where = f if f.startswith("<") and f.endswith(">") else os.path.basename(f)
    return f"{where}:{lines[0]}" if lines[0] == lines[-1] else f"{where}:{lines[0]}-{lines[-1]}"


def source_text(node) -> str:
    """The user's line of code a node came from (from the source range or the file)."""
    r = user_source_range(node)
    if r is None:
        return ""
    text = r.text or linecache.getline(r.filename, r.line)
    return text.strip()


def node_label(node) -> str:
    """The schema of the registry op a node calls, else its kind: PyTorch's `.Scalar`
    overload when a number is the operand (`x * 2.0` calls aten::mul.Scalar there; the
    registry folds it into mul.Tensor)."""
    op = node.op if not node.kind.startswith("prim::") else None
    if op is None:
        return node.kind
    if len(node.inputs) > 1 and isinstance(node.inputs[1].type, _NUMBERS):
        scalar = scalar_form(op)
        if scalar is not None:
            return str(scalar)
    return str(op.schema)


class FusionReport(list):
    """A list of (node, fused, reason); str() is the table."""

    def __str__(self):
        return format_fusion_report(self)

    __repr__ = __str__


def fusion_report(graph, off_reason=None) -> FusionReport:
    """(node, fused, reason) for every non-constant node of a (fused) graph. off_reason:
    why fusion was off when the graph was built (GPUJIT_FUSION=0...), given for the ops
    that would have fused (else they read "fusible, but the graph was not fused")."""
    out = FusionReport()
    for n in graph.walk():
        if n.kind == "prim::Constant":
            continue
        if is_group(n):
            kinds = [m.kind for m in subgraph_of(n).nodes if m.kind != "prim::Constant"]
            out.append((n, True, ", ".join(kinds)))
        elif off_reason and FUSION_META not in n.meta and unfusible_reason(n) is None:
            out.append((n, False, off_reason))
        else:
            out.append((n, False, unfused_reason(n)))
    return out


def format_fusion_report(report) -> str:
    """The report as a table; `report` is what fusion_report returns, or a graph."""
    if not isinstance(report, list):
        report = fusion_report(report)
    rows, k = [], 0
    for n, fused, reason in report:
        if is_group(n):
            label = f"{GROUP_KIND}_{k}"
            k += 1
            where = source_location(subgraph_of(n).nodes)
        else:
            label = n.kind
            where = source_location([n])
        rows.append(("fused" if fused else "unfused", label, reason, where))
    if not rows:
        return "(no ops)"
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    return "\n".join(f"{a:<7} {b:<{w1}}  {c:<{w2}}  {d}".rstrip() for a, b, c, d in rows)
