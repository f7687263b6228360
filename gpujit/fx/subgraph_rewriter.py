"""torch.fx.subgraph_rewriter: replace_pattern(gm, pattern, replacement) finds each place
where pattern's graph occurs in gm's (passes/utils/matcher_utils.py) and puts
replacement's graph there, as torch's: the replacement is inserted before the first user
of the matched returning nodes, the matched nodes are erased, gm is recompiled."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import NamedTuple

from .. import nn
from ._symbolic_trace import symbolic_trace
from .graph import Graph
from .graph_module import GraphModule
from .node import Node

__all__ = ["Match", "replace_pattern", "replace_pattern_with_filters", "ReplacedPatterns"]


class Match(NamedTuple):
    anchor: Node                # the node from which the match was found
    nodes_map: dict             # pattern node -> matched node


@dataclass
class ReplacedPatterns:
    anchor: Node
    nodes_map: dict
    replacements: list


def _graph_of(p):
    if isinstance(p, GraphModule):
        return p.graph
    if isinstance(p, Graph):
        return p
    return symbolic_trace(p).graph


def _replace_attributes(gm, replacement):
    gm.delete_all_unused_submodules()

    def try_get_attr(m, target):
        module_path, _, attr_name = target.rpartition(".")
        try:
            mod = m.get_submodule(module_path)
        except AttributeError:
            return None
        return getattr(mod, attr_name, None)

    for node in gm.graph.nodes:
        if node.op in ("call_module", "get_attr"):
            if try_get_attr(gm, node.target) is not None:
                continue
            rattr = try_get_attr(replacement, node.target)
            if rattr is None:
                raise RuntimeError('Attempted to create a "', node.op, '" node during '
                                   f"subgraph rewriting with target {node.target}, but the "
                                   "referenced attribute does not exist in the replacement "
                                   "GraphModule")
            new_attr = copy.deepcopy(rattr)
            if isinstance(rattr, nn.Module):
                gm.add_submodule(node.target, new_attr)
            else:
                setattr(gm, node.target, new_attr)
    gm.graph.lint()


def replace_pattern(gm, pattern, replacement):
    """Replace every non-overlapping occurrence of pattern in gm.graph by replacement
    (functions or GraphModules); returns the Matches (anchor, nodes_map)."""
    return [Match(anchor=m.anchor, nodes_map=m.nodes_map)
            for m in _replace_pattern(gm, pattern, replacement)]


def replace_pattern_with_filters(gm, pattern, replacement=None, match_filters=None,
                                 ignore_literals=False, replacement_callback=None):
    return _replace_pattern(gm, pattern, replacement, match_filters, ignore_literals,
                            replacement_callback)


def _replace_pattern(gm, pattern, replacement=None, match_filters=None,
                     ignore_literals=False, replacement_callback=None):
    from .passes.utils.matcher_utils import SubgraphMatcher
    original_graph = gm.graph
    pattern_graph = _graph_of(pattern)
    matcher = SubgraphMatcher(pattern_graph, match_output=False, match_placeholder=False,
                              remove_overlapping_matches=True, ignore_literals=ignore_literals)
    matches = [m for m in matcher.match(original_graph)
               if all(f(m, original_graph, pattern_graph) for f in match_filters or ())]
    common = _graph_of(replacement) if replacement is not None else None
    if common is None and replacement_callback is None:
        raise AssertionError("Must provide either a replacement GraphModule or a "
                             "replacement callback")
    changed = {}
    out = []
    for match in matches:
        rgraph = replacement_callback(match, original_graph, pattern_graph) \
            if replacement_callback is not None else common
        rplaceholders = [n for n in rgraph.nodes if n.op == "placeholder"]
        if len(match.placeholder_nodes) != len(rplaceholders):
            raise AssertionError(f"Placeholder count mismatch: {len(match.placeholder_nodes)}"
                                 f" vs {len(rplaceholders)}")
        val_map = {}
        for rn, gn in zip(rplaceholders, match.placeholder_nodes):
            if isinstance(gn, Node):
                val_map[rn] = changed.get(gn, gn)
                if gn != val_map[rn]:       # an earlier replacement produced this input
                    i = match.placeholder_nodes.index(gn)
                    match.placeholder_nodes[i] = changed[gn]
                    key = list(match.nodes_map)[list(match.nodes_map.values()).index(gn)]
                    match.nodes_map[key] = changed[gn]
            else:
                val_map[rn] = gn
        users = set()
        for n in match.returning_nodes:
            users.update(n.users)
        insert_point = next((n for n in original_graph.nodes if n in users), None)
        if insert_point is None:
            nxt = None
            for n in reversed(original_graph.nodes):
                if n in match.returning_nodes:
                    insert_point = nxt
                    break
                nxt = n
        if insert_point is None:
            raise AssertionError("The insert point can't be None")
        with original_graph.inserting_before(insert_point):
            copied = original_graph.graph_copy(rgraph, val_map)
        if isinstance(copied, Node):
            copied = (copied,)
        replacements = [v for v in val_map.values() if v not in match.placeholder_nodes]
        if len(match.returning_nodes) != len(copied):
            raise AssertionError(f"Returning nodes count mismatch: "
                                 f"{len(match.returning_nodes)} vs {len(copied)}")
        for gn, cn in zip(match.returning_nodes, copied):
            gn.replace_all_uses_with(cn)
            changed[gn] = cn
        for node in reversed(pattern_graph.nodes):
            if node.op not in ("placeholder", "output"):
                gm.graph.erase_node(match.nodes_map[node])
        out.append(ReplacedPatterns(anchor=match.anchors[0], nodes_map=match.nodes_map,
                                    replacements=replacements))
    gm.recompile()
    if isinstance(replacement, nn.Module):
        _replace_attributes(gm, replacement)
    return out
