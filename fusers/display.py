"""How graph_for shows a fusion group: behind the guard its runtime checks, as TorchScript
prints it.

    %2 : Float(4, 4, ...), %3 : Float(4, 4, ...), %4 : bool = prim::TypeCheck[types=[...]](%a, %b)
    %5 : Float(4, 4, ...) = prim::If(%4)
      block0():
        %6 : Float(4, 4, ...) = prim::TensorExprGroup_0(%2, %3)
        -> (%6)
      block1():
        %7 : Function = prim::Constant[name="fallback_function", fallback=1]()
        %8 : (Tensor) = prim::CallFunction(%7, %a, %b)
        %9 : Tensor = prim::TupleUnpack(%8)
        -> (%9)

The executable graph keeps the group node in place: its guards are the generated
dispatcher of each FusedGroup (guards.py), one `if` per specialization, and its fallback
the unfused subgraph. `guarded_graph` builds a copy for display from what the runtime
holds: the guard shown is the group's first specialization's (what TorchScript's
top-level TypeCheck is; later ones sit in its fallback), or for a group not yet run the
one its first call makes: a STATIC one is a `prim::TypeCheck` over the exact sizes and
strides, a DYNAMIC one a `prim::TensorExprDynamicGuard` whose types show `*` for the
sizes read at run time. A group with no tensor input to check shows bare; one whose
function has spent its fusion budget runs unfused, op by op, and shows its ops in its
place (as TorchScript's graph at depth 0 shows the plain ops).
"""
from __future__ import annotations

from ..ir import types as T, SUBGRAPH_ATTR
from ..ops.meta import is_c_contiguous
from ..ir.graph import Node
from .strategy import STATIC
from .subgraph import unmerge

__all__ = ["guarded_graph", "guard_node", "FALLBACK_NAME"]

FALLBACK_NAME = "fallback_function"


def guarded_graph(graph, groups):
    """A copy of `graph` (whose group nodes are those of `groups`, FusedGroups) with every
    group behind its guard; `graph` itself when it holds none of them."""
    shown = {grp.node: grp for grp in groups}
    if not any(n in shown for n in graph.walk()):
        return graph
    g = graph.copy()
    pairs = [(c, shown[o]) for o, c in zip(graph.walk(), g.walk()) if o in shown]
    for node, grp in pairs:
        _guard(g, node, grp)
    return g


def _guard_types(node, grp):
    """(the group's input Values the guard checks, the type it checks each for, STATIC?),
    None when the group will make no specialization (its budget is spent). A group that
    has not run since its graph was optimized shows the guard its first call makes: of
    the kind its budget gives next, for the profiled types."""
    if grp.specializations:
        spec = grp.specializations[0]
        kind, arg_guards = spec.kind, spec.guard.args
    else:
        kind, arg_guards = grp.budget.next_kind(grp), (None,) * len(grp.kinds)
        if kind is None:
            return None
    static = kind == STATIC
    values, types = [], []
    for v, k, ag in zip(node.inputs, grp.kinds, arg_guards):
        if k != "tensor" or v.node.kind == "prim::Constant":
            continue
        t = v.type if isinstance(v.type, T.TensorType) else T.TENSOR
        values.append(v)
        types.append(_checked_type(t, ag, static))
    return values, types, static


def _checked_type(t, ag, static):
    """What a guard checks of an argument typed t: from its ArgGuard ag, or predicted
    from t (the profiled type) when ag is None."""
    if ag is not None and ag.shape is not None:         # STATIC: exact sizes and strides
        item = ag.np_dtype.itemsize
        return t.with_(sizes=tuple(ag.shape), strides=tuple(s // item for s in ag.strides))
    if ag is not None:          # DYNAMIC: rank, size-1 dims, cut dims, contiguity
        fixed = dict(ag.fixed)
        sizes = tuple(fixed.get(d, 1 if b else None) for d, b in enumerate(ag.broadcast))
        contiguous = ag.contiguous
    elif static or not t.is_complete:
        return t
    else:
        sizes = tuple(1 if s == 1 else None for s in t.sizes)
        contiguous = t.strides is not None and is_c_contiguous(
            t.sizes, t.strides, 1)
    strides = (None,) * (len(sizes) - 1) + (1,) if contiguous and sizes else None
    return t.with_(sizes=sizes, strides=strides)


def _guard(g, node, grp):
    checked = _guard_types(node, grp)
    if checked is None:     # (its budget is spent: it runs unfused, op by op)
        unmerge(node)
        return
    _constants_inside(node)
    if not checked[0]:
        return
    values, types, static = checked
    kind = "prim::TypeCheck" if static else "prim::TensorExprDynamicGuard"
    results = guard_node(g, node, kind, values, types, types if static else None)
    if not static:      # sizes read at run time: the group's own types show `*` too
        _show_dynamic(node, dict(zip(values, types)))
        for r in results:
            r.type = _dynamic(r.type)


def _constants_inside(node):
    """The tensor constants a group reads shown inside its subgraph, as NNC's
    mergeNodeIntoSubgraph clones them in (the group node does not take them; the kernel
    still gets them as arguments): after the subgraph's other constants, the last input
    first; the constant nodes nothing else reads dropped from the graph."""
    idx = [i for i, v in enumerate(node.inputs) if v.node.kind == "prim::Constant" and
           isinstance(v.type, T.TensorType)]
    sub = node.attrs.get(SUBGRAPH_ATTR)
    if not idx or sub is None or len(sub.inputs) != len(node.inputs):
        return
    sub = sub.copy()            # (the executable's stays as it is)
    node.attrs = dict(node.attrs)
    node.attrs[SUBGRAPH_ATTR] = sub
    first = next((n for n in sub.nodes if n.kind != "prim::Constant"), None)
    outer = []
    for i in reversed(idx):
        v = node.inputs[i]
        c = Node(sub, "prim::Constant", v.node.attrs)   # (no source line: torch's)
        c.add_output(v.type)
        if first is not None:
            c.insert_before(first)
        else:
            sub.block.append(c)
        sub.inputs[i].replace_all_uses_with(c.output)
        outer.append(v.node)
    for i in reversed(idx):
        node.remove_input(i)
        sub.block.erase_input(i)
    for c in outer:
        if not c.output.uses and c.owning_block is not None:
            c.destroy()


def guard_node(g, node, kind, values, types, passed=None):
    """Put `node` (of graph g) behind a guard as TorchScript prints one: a `kind` node
    (prim::TypeCheck, prim::TensorExprDynamicGuard, prim::RequiresGradCheck) checking
    `values` for `types` -- passing them on as values of the types `passed` (a list)
    unless it is None, the node then reading those -- whose bool feeds a prim::If: block0 holds
    the node, block1 the fallback function called on the node's inputs. The If's
    results (what used the node's outputs reads them now)."""
    check = Node(g, kind, {"types": types}, node.source_range)
    for v in values:
        check.add_input(v)
    checked = {}
    if passed is not None:
        checked = {v: check.add_output(t) for v, t in zip(values, passed)}
    ok = check.add_output(T.BOOL)
    check.insert_before(node)

    branch = Node(g, "prim::If", None, node.source_range)
    branch.add_input(ok)
    results = [branch.add_output(v.type) for v in node.outputs]
    branch.insert_before(node)
    for v, r in zip(node.outputs, results):
        v.replace_all_uses_with(r)

    fast = branch.add_block()
    inputs = list(node.inputs)
    node.owning_block.nodes.remove(node)
    fast.append(node)
    for i, v in enumerate(inputs):
        if v in checked:
            node.replace_input(i, checked[v])
    for v in node.outputs:
        fast.register_output(v)

    slow = branch.add_block()
    fn = slow.append(Node(g, "prim::Constant", {"name": FALLBACK_NAME, "fallback": 1}))
    fn.add_output(T.FUNCTION)
    call = slow.append(Node(g, "prim::CallFunction"))
    call.add_input(fn.output)
    for v in inputs:
        call.add_input(v)
    out_types = [_unshaped(v.type) for v in node.outputs]
    call.add_output(T.TupleType(tuple(out_types)))
    unpack = slow.append(Node(g, "prim::TupleUnpack"))
    unpack.add_input(call.output)
    for t in out_types:
        slow.register_output(unpack.add_output(t))
    return results


def _dynamic(t, checked=None):
    """t as a DYNAMIC specialization holds it: the checked type of a group input, else
    sizes read at run time (`*`; a size-1 dim stays, a DYNAMIC guard fixes which broadcast)
    and no strides."""
    if checked is not None:
        return checked
    if not isinstance(t, T.TensorType) or t.sizes is None:
        return t
    return t.with_(sizes=tuple(1 if s == 1 else None for s in t.sizes), strides=None)


def _show_dynamic(node, checked):
    """Retype the displayed group `node` (of the graph copy) and a copy of its subgraph
    (the runtime's is shared with the copy: it stays as it is) for a DYNAMIC guard whose
    checked types per group input Value are `checked`."""
    sub = node.attrs[SUBGRAPH_ATTR].copy()
    node.attrs = dict(node.attrs)
    node.attrs[SUBGRAPH_ATTR] = sub
    for outer, v in zip(node.inputs, sub.inputs):
        v.type = _dynamic(v.type, checked.get(outer))
    for n in sub.walk():
        for v in n.outputs:
            v.type = _dynamic(v.type)
    for v in node.outputs:
        v.type = _dynamic(v.type)


def _unshaped(t):
    return T.TENSOR if isinstance(t, T.TensorType) else t
