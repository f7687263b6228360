"""Graph passes, run as one visible pipeline by `optimize`.

Each pass is a function `Graph -> None` that changes the graph in place, in a module of
its own. The order follows TorchScript's runOptimization: inline calls so every later pass
sees one graph; put the casts of autocast regions in front of the ops they cover; fold constants (which removes untaken branches and zero-trip loops);
peephole rewrites (`x * 1` -> x); CSE, which pools constants first; DCE last, to sweep
what the others left unused.
"""
from __future__ import annotations

import os

from .alias_analysis import AliasDb
from .autocast import insert_autocast_casts
from .constant_propagation import propagate_constants
from .cse import eliminate_common_subexpressions, pool_constants
from .dce import eliminate_dead_code
from .inline import inline_calls, inlined_graph, InlineError
from .loop_unroll import unroll_loops
from .peephole import peephole_optimize

__all__ = ["PIPELINE", "optimize", "AliasDb", "propagate_constants",
           "eliminate_common_subexpressions", "pool_constants", "eliminate_dead_code",
           "inline_calls", "inlined_graph", "InlineError", "unroll_loops",
           "peephole_optimize", "insert_autocast_casts"]

PIPELINE = [inline_calls, insert_autocast_casts, propagate_constants, peephole_optimize,
            eliminate_common_subexpressions, eliminate_dead_code]


def _frozen_peephole(graph):
    return peephole_optimize(graph, unwrap_numbers=False)


# lint after every pass of `optimize` (names the pass that broke a graph; the test suite
# turns it on) rather than once at the end: GPUJIT_LINT_PASSES=1
LINT_EACH_PASS = os.environ.get("GPUJIT_LINT_PASSES", "") not in ("", "0")


def optimize(graph, unroll=False, frozen=False):
    """Run every pass of PIPELINE on graph (in place); lint the result (after each pass
    when LINT_EACH_PASS); return graph. unroll=True also unrolls small constant loops
    (`unroll_loops`) after constant propagation, and folds constants again in what the
    copies expose."""
    passes = list(PIPELINE)
    if frozen:
        # (torch.jit.freeze's graph keeps a traced number's 0-dim tensor constant: the
        # execution pipeline unwraps it in its own copy)
        passes[passes.index(peephole_optimize)] = _frozen_peephole
    if unroll:
        k = passes.index(propagate_constants) + 1
        passes[k:k] = [unroll_loops, propagate_constants]
    for p in passes:
        # (a pass that returns False left the graph as it was: the graph it was given
        # linted already, or is linted at the end)
        if p(graph) is not False and LINT_EACH_PASS:
            graph.lint()
    if not LINT_EACH_PASS:
        graph.lint()
    return graph
