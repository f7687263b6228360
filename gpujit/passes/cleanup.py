"""The cleanup TorchScript runs on a graph when it scripts a function (its ir_emitter's
runCleanupPasses), so a scripted function's `.graph` shows what TorchScript's shows:

1. dead code elimination (what nothing uses and has no effect);
2. LowerSimpleTuples: `t = (a, b); return t[0]` reads %a (passes/lower_tuples.py);
3. ConstantPropagationImmutableTypes: `3 + 4` is 7, `if 1 < 2:` keeps its taken block,
   never on tensors, lists or dicts, never an op that raises or warns (that stays for run
   time) (passes/constant_propagation.py, immutable_only=True);
4. ConstantPooling: one constant per value, at the start of the graph (passes/cse.py);
5. CanonicalizeOutputs: the outputs of each If and Loop in the order of their first use
   (passes/canonicalize_outputs.py).

(AnnotateWarns is the frontend's: each aten::warn carries its warn_id as it is emitted.)
Nothing here changes what the function computes; the execution pipeline
(passes.optimize) runs its own, fuller passes on a copy later.
"""
from __future__ import annotations

from .canonicalize_outputs import canonicalize_outputs
from .constant_propagation import propagate_constants
from .cse import pool_constants
from .dce import eliminate_dead_code
from .lower_tuples import lower_simple_tuples

__all__ = ["run_cleanup_passes"]


def run_cleanup_passes(graph) -> None:
    """Run TorchScript's script-time cleanup on graph, in place."""
    eliminate_dead_code(graph)
    if lower_simple_tuples(graph):
        eliminate_dead_code(graph)
    if propagate_constants(graph, immutable_only=True):
        eliminate_dead_code(graph)
    pool_constants(graph)
    canonicalize_outputs(graph)
