"""Leaving generated code where its profiled types stop holding: the bailout of an If
branch the profiling run did not take.

The code generator types the outputs of such an If from the branches that ran
(assume.assumptions: `checked`), so the code after it stays on the direct, fused path.
At the end of the untaken branch the generated code checks that what it computed fits
those types (`fits`); if it does not (a float64 tensor where the profile saw float32, a
Tensor where it saw None), the call is finished by the interpreter from that point
(`Resume`): the rest of the branch's block, then each enclosing block after the If or
Loop that holds it (a loop's remaining trips first), up to the graph's return, its
fusion groups through the code's own FusedGroups. Nothing runs twice. The branch's entry
has already asked for a new profile (the `_stale()` call), so the next call with these
input types makes code that covers both paths.
"""
from __future__ import annotations

import numpy as np

from ..device import cpu as _cpu, device_of_array
from ..dtypes import _FROM_NP
from .interpreter import RESUMED_GROUPS, _run_block, pack_outputs, run_nodes, \
    unwind_regions
from .profile import EMPTY, ListSpec, TensorSpec, TupleSpec, ValueSpec
from .support import _is_gpu_array, box

__all__ = ["fits", "continuation_reads", "Resume"]


def fits(values, specs) -> bool:
    """Do the raw values (as the generated code holds them) have these specs?"""
    return all(_fits(v, s) for v, s in zip(values, specs))


def _fits(v, s) -> bool:
    t = type(s)
    if t is TensorSpec:
        if type(v) is np.ndarray or isinstance(v, np.generic):
            dev = _cpu
        elif _is_gpu_array(v):
            dev = device_of_array(v)
        else:
            return False
        return (_FROM_NP.get(v.dtype) is s.dtype and dev is s.device
                and (s.ndim is None or v.ndim == s.ndim))
    if t is ValueSpec:
        return type(v) is s.pytype
    if t is TupleSpec:
        return type(v) is tuple and len(v) == len(s.elems) and fits(v, s.elems)
    if t is ListSpec:
        if type(v) is not list:
            return False
        if s.elem is EMPTY:
            return not v
        return s.elem is None or all(_fits(x, s.elem) for x in v)
    return s is None


def _continuation(node):
    """The nodes that run after node's If when a call resumes there, innermost block
    first, and the blocks whose outputs they hand on."""
    out = []
    while node.owning_block is not None:
        block = node.owning_block
        i = block.nodes.index(node)
        out.append((block.nodes[i + 1:], block))
        if block.owning_node is None:
            break
        node = block.owning_node
    return out


def continuation_reads(node) -> list:
    """The Values the continuation of node reads that are defined before it (what the
    generated code hands to Resume), in a fixed order. Around a loop body: the loop's
    trip count, the current trip's counter, and all the body reads (it runs again)."""
    defined = set(node.outputs)
    seen, order = set(), []

    def read(v):
        if v not in defined and v not in seen:
            seen.add(v)
            order.append(v)

    def walk(nodes):
        for m in nodes:
            for v in m.inputs:
                read(v)
            for b in m.blocks:
                defined.update(b.inputs)
                walk(b.nodes)
                for v in b.outputs:
                    read(v)
            defined.update(m.outputs)

    for nodes, block in _continuation(node):
        walk(nodes)
        for v in block.outputs:
            read(v)
        owner = block.owning_node
        if owner is not None and owner.kind == "prim::Loop":
            read(owner.inputs[0])
            read(block.inputs[0])
            defined.update(block.inputs)
            walk(block.nodes)
            for v in block.outputs:
                read(v)
        if owner is not None:
            defined.update(owner.outputs)
    return order


def _finish_loop(loop, env, outs):
    """The carried values after loop's remaining trips, the current one having given
    outs (its body's outputs: the condition, then the carried values); as the
    interpreter's prim::Loop."""
    body = loop.blocks[0]
    trip = env[loop.inputs[0]]
    i = env[body.inputs[0]] + 1
    cond, carried = outs[0], outs[1:]
    while cond and i < trip:
        env[body.inputs[0]] = i
        for v, c in zip(body.inputs[1:], carried):
            env[v] = c
        outs = _run_block(body, env, None)
        cond, carried = outs[0], outs[1:]
        i += 1
    return carried


class Resume:
    """`resume(values, outs[, entered])`: finish a call op by op after If node `node`,
    from the values the continuation reads (`reads`, as the generated code holds them:
    raw arrays are boxed, Tensor objects kept) and the outputs the branch computed.
    `prelude`: nodes before node that the generated code did not compute (constants, a
    tuple built only for the return), run first. `entered`: the generated code's list of
    the `with` objects it is inside, which the interpreter's prim::Exit pops (one list:
    if the rest raises, whoever unwinds it first exits each object once). `groups`: the
    generated code's {group node: FusedGroup} (filled as its code is made), through which
    the fusion groups of the rest run, as in the generated code (guards, specialized
    kernels, strict_fusion's errors), not op by op."""

    def __init__(self, node, reads, prelude=(), groups=None):
        self.node, self.reads, self.prelude = node, list(reads), list(prelude)
        self.groups = groups if groups is not None else {}

    def __call__(self, values, outs, entered=None):
        env = {v: box(x) for v, x in zip(self.reads, values)}
        env[RESUMED_GROUPS] = self.groups
        if entered is not None:
            from .objects import ENTERED
            env[ENTERED] = entered
        try:
            return self._finish(env, outs)
        except BaseException:
            unwind_regions(env)
            raise

    def _finish(self, env, outs):
        run_nodes(self.prelude, env)
        node = self.node
        for v, x in zip(node.outputs, outs):
            env[v] = box(x)
        for nodes, block in _continuation(node):
            run_nodes(nodes, env)
            results = [env[v] for v in block.outputs]
            owner = block.owning_node
            if owner is None:
                return pack_outputs(results)
            if owner.kind == "prim::Loop":
                results = _finish_loop(owner, env, results)
            for v, r in zip(owner.outputs, results):
                env[v] = r
        raise AssertionError("unreachable: a continuation ends at the graph's return")
