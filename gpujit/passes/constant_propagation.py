"""Constant propagation: compute at compile time what depends only on constants.

Folded:
- registry ops (`node.op`) whose inputs are all constants, none of them a Tensor, and whose
  results are not tensors, by calling the op (`node.op.eager(*values)`);
- prim::ListConstruct / prim::TupleConstruct of constants, prim::ListUnpack /
  prim::TupleUnpack of a constant; `a is b` / `a is not b` of constants (an inlined
  function's `if size is not None:` given None: its branch goes);
- prim::If on a constant condition (the taken block replaces the node);
- prim::Loop that runs zero times (constant trip count <= 0 or constant false condition).

Never folded: ops with side effects, in-place writes or random numbers; ops whose result
is a Tensor (a folded tensor would bloat the graph and could not be printed); a list that
something writes to or that leaves the graph (a constant is one shared object); and any
op that raises while folding: that error belongs to run time, where the user sees it.
"""
from __future__ import annotations

import numpy as np

from ..ir import types as T
from ..ir.schema_match import has_side_effects, is_nondeterministic
from .alias_analysis import AliasDb, is_mutable_type

__all__ = ["propagate_constants", "constant_value", "NOT_CONSTANT"]

# identity tests (Python's own `is`, not registry ops): folded when both sides are constants
_IDENTITY = {"aten::__is__": lambda a, b: a is b, "aten::__isnot__": lambda a, b: a is not b}


# types whose values are never None: `x is None` of one is False (TorchScript's peephole
# folds it too), e.g. an inlined `if weight is not None:` given a module's Parameter
_NEVER_NONE = (T.TensorType, T.IntType, T.FloatType, T.BoolType, T.StrType, T.ListType,
               T.TupleType, T.DictType, T.DeviceType)


def _identity_with_none(values, inputs):
    """`a is b` where one side is the constant None: True / False when the other side's
    type says (None / a type that cannot hold None), else None (decided at run time)."""
    for i in (0, 1):
        v = inputs[1 - i]
        if values[i] is None and inputs[i].node.kind == "prim::Constant":
            if isinstance(v.type, T.NoneType):
                return True
            if isinstance(v.type, _NEVER_NONE):
                return False
    return None


class _NotConstant:
    def __repr__(self):
        return "NOT_CONSTANT"


NOT_CONSTANT = _NotConstant()


def constant_value(v):
    """The Python value of a prim::Constant output (None for `prim::Constant()`), or
    NOT_CONSTANT when v is not a constant the passes can compute with (a function
    constant, a `<Tensor>` that text cannot spell)."""
    n = v.node
    if n.kind != "prim::Constant":
        return NOT_CONSTANT
    if not n.attrs:
        return None
    if set(n.attrs) != {"value"}:
        return NOT_CONSTANT
    value = n.attrs["value"]
    if type(value).__name__ == "Opaque":
        return NOT_CONSTANT
    return value


def propagate_constants(graph) -> None:
    """Fold, in place, every node the module docstring lists."""
    _Folder(graph).block(graph.block)


class _Folder:
    def __init__(self, graph):
        self.graph = graph
        self._aliases = None

    @property
    def aliases(self):
        # built on first need; the values it is asked about are original ones
        if self._aliases is None:
            self._aliases = AliasDb(self.graph)
        return self._aliases

    def block(self, block):
        i = 0
        while i < len(block.nodes):
            node = block.nodes[i]
            if self.fold(node):
                continue            # what replaced it now sits at index i: visit it
            for b in node.blocks:
                self.block(b)
            i += 1

    def fold(self, node) -> bool:
        """Replace node if it can be computed now; True when it was removed."""
        kind = node.kind
        if kind == "prim::Constant":
            return False
        if kind == "prim::If":
            return self.fold_if(node)
        if kind == "prim::Loop":
            return self.fold_loop(node)
        values = [constant_value(v) for v in node.inputs]
        if kind in _IDENTITY and len(values) == 2:
            known = _identity_with_none(values, node.inputs)
            if known is not None:   # `w is not None` of a value whose type cannot be None
                return self.replace(node, [known if kind == "aten::__is__" else not known])
        if any(v is NOT_CONSTANT or _holds_tensor(v) for v in values):
            return False
        if any(is_mutable_type(v.type) and self.aliases.has_writers(v) for v in node.inputs):
            return False            # a constant list that is written later: read at run time
        if kind in ("prim::ListConstruct", "prim::TupleConstruct"):
            result = list(values) if kind == "prim::ListConstruct" else tuple(values)
            return self.replace(node, [result])
        if kind in ("prim::ListUnpack", "prim::TupleUnpack"):
            seq = values[0]
            if not isinstance(seq, (list, tuple)) or len(seq) != len(node.outputs):
                return False        # the length error is the program's, at run time
            return self.replace(node, list(seq))
        if kind in _IDENTITY:       # `x is None` of constants (an inlined call's None)
            return self.replace(node, [_IDENTITY[kind](*values)])
        op = node.op
        if op is None or has_side_effects(node) or is_nondeterministic(node):
            return False
        if any(r.type.base == "Tensor" for r in op.schema.returns):
            return False
        try:
            result = op.eager(*values)
        except Exception:           # noqa: BLE001 - the error must happen at run time
            return False
        results = [result] if len(node.outputs) == 1 else list(result)
        return self.replace(node, [_python(r) for r in results])

    def replace(self, node, results) -> bool:
        if len(results) != len(node.outputs):
            return False
        for out, r in zip(node.outputs, results):
            if not _fits(r, out.type):
                return False
            if is_mutable_type(out.type) and (self.aliases.has_writers(out)
                                              or self.aliases.escapes(out)):
                return False
        g = self.graph
        with g.inserting_before(node):
            consts = [g.insert_constant(r, out.type, node.source_range)
                      for r, out in zip(results, node.outputs)]
        names = [out.debug_name if out.has_debug_name() else None for out in node.outputs]
        for out, c in zip(node.outputs, consts):
            out.replace_all_uses_with(c)
        node.destroy()
        for c, name in zip(consts, names):
            if name is not None:
                c.set_debug_name(name)      # the user's name reads better than a number
        return True

    def fold_if(self, node) -> bool:
        cond = constant_value(node.inputs[0])
        if not isinstance(cond, bool):
            return False
        taken = node.blocks[0] if cond else node.blocks[1]
        for n in list(taken.nodes):
            n.move_before(node)
        for out, v in zip(node.outputs, taken.outputs):
            out.replace_all_uses_with(v)
        node.destroy()
        return True

    def fold_loop(self, node) -> bool:
        trips = constant_value(node.inputs[0])
        cond = constant_value(node.inputs[1])
        zero = (isinstance(trips, int) and not isinstance(trips, bool) and trips <= 0) \
            or cond is False
        if not zero:
            return False
        for out, v in zip(node.outputs, node.inputs[2:]):
            out.replace_all_uses_with(v)
        node.destroy()
        return True


def _holds_tensor(v) -> bool:
    from ..tensor import Tensor
    if isinstance(v, Tensor):
        return True
    if isinstance(v, (list, tuple)):
        return any(_holds_tensor(x) for x in v)
    return False


def _python(v):
    """NumPy scalars (and containers of them) as Python values, for constants."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple) and not hasattr(v, "_fields"):
        return tuple(_python(x) for x in v)
    if isinstance(v, list):
        return [_python(x) for x in v]
    return v


def _fits(v, t, top=True) -> bool:
    """Is v a value of IR type t that a constant can hold and print back? (None only at
    the top: graph text has no spelling for None inside a list or tuple.)"""
    from ..device import device
    from .. import dtypes as _dt
    if isinstance(t, T.OptionalType):
        return (v is None and top) or _fits(v, t.elem, top)
    if isinstance(t, T.NoneType):
        return v is None and top
    if isinstance(t, T.BoolType):
        return isinstance(v, bool)
    if isinstance(t, T.IntType):
        return isinstance(v, int) and not isinstance(v, bool)
    if isinstance(t, T.FloatType):
        return isinstance(v, float)
    if isinstance(t, T.NumberType):
        return isinstance(v, (int, float))
    if isinstance(t, T.StrType):
        return isinstance(v, str)
    if isinstance(t, T.DeviceType):
        return isinstance(v, device)
    if isinstance(t, T.ScalarTypeType):
        return isinstance(v, _dt.dtype)
    if isinstance(t, T.ListType):
        return isinstance(v, list) and all(_fits(x, t.elem, False) for x in v)
    if isinstance(t, T.TupleType) and not isinstance(t, T.NamedTupleType):
        return (type(v) is tuple and len(v) == len(t.elems)
                and all(_fits(x, e, False) for x, e in zip(v, t.elems)))
    return False
