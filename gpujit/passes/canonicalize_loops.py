"""TorchScript's CanonicalizeModifiedLoops (frontend/canonicalize_modified_loop.cpp), run
once when a function is scripted: a prim::Loop with both a trip count and a condition
that is not always true (a `for` loop that can break or return early) becomes a `while`
loop that counts its iterations itself, so `.graph` and `.code` read as TorchScript's:

    %c0 = aten::gt(%n, 0)                       (and the loop's first condition)
    prim::Loop(MAX, %c0, ..., 0)
      block0(%_, ..., %i):                      %i replaces the trip counter's uses
        ...
        %i1 = aten::add(%i, 1)
        -> (aten::__and__(aten::lt(%i1, %n), <its condition>), ..., %i1)

(TorchScript's printer refuses such a loop otherwise.) The loop computes what it did."""
from __future__ import annotations

from ..ir import types as T

__all__ = ["canonicalize_modified_loops"]

_INT64_MAX = 9223372036854775807


def _constant(v):
    n = v.node
    return (True, n.attrs.get("value")) if n.kind == "prim::Constant" else (False, None)


def _is_true(v):
    known, value = _constant(v)
    return known and value is True


def canonicalize_modified_loops(graph) -> bool:
    """Rewrite every modified loop of graph (nested blocks included), in place; whether
    any was."""
    loops = [n for n in graph.walk() if n.kind == "prim::Loop"]
    for n in loops:
        _canonicalize(graph, n)
    return bool(loops)


def _insert(graph, kind, inputs, type_):
    from ..ops.registry import OPS
    op = OPS[{"aten::gt": "aten::gt.int", "aten::lt": "aten::lt.int",
              "aten::add": "aten::add.int", "aten::__and__": "aten::__and__.bool"}[kind]]
    node = graph.insert_node(kind, list(inputs), output_types=[type_])
    node.op = op
    return node.output


def _canonicalize(graph, n):
    trip, cond_in = n.inputs[0], n.inputs[1]
    body = n.blocks[0]
    known, max_trip = _constant(trip)
    trip_given = not known or max_trip != _INT64_MAX or bool(body.inputs[0].uses)
    if not trip_given or (_is_true(cond_in) and _is_true(body.outputs[0])):
        return                  # a while loop, or a for loop: printable as it is
    with graph.inserting_before(n):
        zero = graph.insert_constant(0)
        one = graph.insert_constant(1)
        condition = _insert(graph, "aten::gt", (trip, zero), T.BOOL)
        n.replace_input(0, graph.insert_constant(_INT64_MAX))
        known, value = _constant(cond_in)
        if not known or value is not True:
            condition = _insert(graph, "aten::__and__", (condition, cond_in), T.BOOL)
    n.replace_input(1, condition)
    n.add_output(T.INT)
    n.add_input(zero)
    counter = body.add_input(T.INT)
    body.inputs[0].set_debug_name(None)     # (as TorchScript's: its name was the target's)
    body.inputs[0].replace_all_uses_with(counter)
    with graph.inserting_at_end(body):
        nxt = _insert(graph, "aten::add", (counter, one), T.INT)
        more = _insert(graph, "aten::lt", (nxt, trip), T.BOOL)
        cond = _insert(graph, "aten::__and__", (more, body.outputs[0]), T.BOOL)
    outs = [cond] + list(body.outputs[1:]) + [nxt]
    for _ in range(len(body.outputs)):
        body.erase_output(0)
    for v in outs:
        body.register_output(v)
