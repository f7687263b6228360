"""torch.fx.passes.utils.matcher_utils: find the places where a pattern graph occurs in a
graph (SubgraphMatcher), as torch's: the pattern's placeholders match any value, its
returning nodes are the anchors, literals must be equal, internal nodes may have no users
outside the match, and overlapping matches are dropped (first one wins)."""
from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field

from ...node import Node

__all__ = ["SubgraphMatcher", "InternalMatch"]


@dataclass
class InternalMatch:
    anchors: list
    nodes_map: dict = field(default_factory=dict)      # pattern node -> graph node
    placeholder_nodes: list = field(default_factory=list)
    returning_nodes: list = field(default_factory=list)
    name_node_map: dict = field(default_factory=dict)

    def __copy__(self):
        return InternalMatch(anchors=self.anchors, nodes_map=self.nodes_map.copy(),
                             placeholder_nodes=self.placeholder_nodes.copy(),
                             returning_nodes=self.returning_nodes.copy())


class SubgraphMatcher:
    def __init__(self, pattern, match_output=False, match_placeholder=False,
                 remove_overlapping_matches=True, ignore_literals=False):
        self.pattern = pattern
        self.match_output = match_output
        self.match_placeholder = match_placeholder
        self.remove_overlapping_matches = remove_overlapping_matches
        self.ignore_literals = ignore_literals
        if len(pattern.nodes) == 0:
            raise ValueError("SubgraphMatcher cannot be initialized with an empty pattern")
        for node in pattern.nodes:
            if node.op != "output" and not node.is_impure() and len(node.users) == 0:
                raise AssertionError("SubgraphMatcher cannot be initialized with an pattern "
                                     "with dead code")
        self.pattern_placeholder_nodes = [n for n in pattern.nodes if n.op == "placeholder"]
        output_node = next(iter(reversed(pattern.nodes)))
        self.pattern_returning_nodes = output_node.all_input_nodes
        self.pattern_anchors = [output_node] if match_output else \
            [n for n in output_node.all_input_nodes if len(n.users) == 1]

    def _match_attributes(self, pn, gn):
        from ...graph_module import _get_attr
        from ....tensor import Tensor
        pv = _get_attr(pn.graph.owning_module, pn.target)
        gv = _get_attr(gn.graph.owning_module, gn.target)
        if type(pv) is not type(gv):
            return False
        if isinstance(pv, Tensor):
            return isinstance(gv, Tensor)
        raise RuntimeError(f"Unsupported type {pv} when matching attributes")

    def _nodes_are_equal(self, pn, gn):
        if not self.match_placeholder and pn.op == "placeholder":
            return True
        if pn.op != gn.op:
            return False
        if pn.op in ("placeholder", "output"):
            return True
        if pn.op == "get_attr":
            return self._match_attributes(pn, gn)
        return pn.target == gn.target

    def _is_contained(self, nodes_map):
        lookup = {gn: pn for pn, gn in nodes_map.items() if pn.op != "placeholder"}
        for gn, pn in lookup.items():
            if pn in self.pattern_returning_nodes:
                continue
            if any(user not in lookup for user in gn.users):
                return False
        return True

    def _remove_overlapping_matches(self, matches):
        kept, taken = [], set()
        for match in matches:
            compute = [gn for pn, gn in match.nodes_map.items()
                       if pn.op not in ("placeholder", "output")]
            if not any(gn in taken for gn in compute):
                kept.append(match)
                taken.update(compute)
        return kept

    def _match_literals(self, pn, gn, match):
        if isinstance(pn, Node):
            if isinstance(gn, Node) or pn.op != "placeholder":
                return False
            if pn in match.nodes_map:
                return match.nodes_map[pn] == gn
            match.nodes_map[pn] = gn
            return True
        if isinstance(gn, Node):
            return False
        return type(gn) is type(pn) and gn == pn

    def _match_nodes(self, pn, gn, match):
        if pn in match.nodes_map:
            return match.nodes_map[pn] == gn
        if gn in match.nodes_map.values() or not self._nodes_are_equal(pn, gn):
            return False
        saved = copy.copy(match)
        match.nodes_map[pn] = gn
        if pn.op == "placeholder":
            return True

        def match_args(a1s, a2s):
            if len(a1s) != len(a2s):
                return False
            for a1, a2 in zip(a1s, a2s):
                if isinstance(a1, Node) and isinstance(a2, Node):
                    ok = self._match_nodes(a1, a2, match)
                elif isinstance(a1, (list, tuple)) and isinstance(a2, (list, tuple)):
                    ok = match_args(a1, a2)
                else:
                    ok = self._match_literals(a1, a2, match) or self.ignore_literals
                if not ok:
                    return False
            return True

        if len(pn.args) == len(gn.args) and list(pn.kwargs) == list(gn.kwargs) and \
                match_args(list(pn.args) + list(pn.kwargs.values()),
                           list(gn.args) + list(gn.kwargs.values())):
            return True
        match.nodes_map.clear()
        match.nodes_map.update(saved.nodes_map)
        return False

    def match(self, graph):
        candidates = defaultdict(list)
        for anchor in self.pattern_anchors:
            for node in graph.nodes:
                if self._nodes_are_equal(anchor, node):
                    candidates[anchor].append(node)
        candidates = list(candidates.items())
        matches = []

        def backtracking(i, match):
            if i == len(candidates):
                match.placeholder_nodes = [match.nodes_map[pn]
                                           for pn in self.pattern_placeholder_nodes]
                match.returning_nodes = [match.nodes_map[pn]
                                         for pn in self.pattern_returning_nodes]
                matches.append(match)
                return
            anchor, nodes = candidates[i]
            saved = copy.copy(match)
            for node in nodes:
                if self._match_nodes(anchor, node, match):
                    backtracking(i + 1, match)
                match = copy.copy(saved)

        if candidates:
            backtracking(0, InternalMatch(anchors=self.pattern_anchors))
        matches = [m for m in matches if self._is_contained(m.nodes_map)]
        matches = [m for m in matches if not _forms_cycle(
            [gn for pn, gn in m.nodes_map.items() if pn.op not in ("placeholder", "output")])]
        if self.remove_overlapping_matches:
            matches = self._remove_overlapping_matches(matches)
        return matches


def _forms_cycle(nodes):
    """Whether a path leaves the nodes and comes back (they could not become one node)."""
    part = set(nodes)
    seen, stack = set(), [u for n in part for u in n.users if u not in part]
    while stack:
        n = stack.pop()
        if n in part:
            return True
        if n not in seen:
            seen.add(n)
            stack.extend(n.users)
    return False
