"""Constant propagation: compute at compile time what depends only on constants.

Folded:
- registry ops (`node.op`) whose inputs are all constants, none of them a Tensor, and whose
  results are not tensors, by calling the op (`node.op.eager(*values)`);
- prim::ListConstruct / prim::TupleConstruct of constants, prim::ListUnpack /
  prim::TupleUnpack of a constant; `a is b` / `a is not b` of constants (an inlined
  function's `if size is not None:` given None: its branch goes);
- prim::If on a constant condition (the taken block replaces the node);
- prim::Loop that runs zero times (constant trip count <= 0 or constant false condition);
- as TorchScript's pass: a prim::If output both blocks give the same value (or equal
  constants) becomes that value, a loop-carried value the body passes through unchanged
  becomes the loop's input.

`immutable_only=True` is TorchScript's ConstantPropagationImmutableTypes, the subset run
when a function is scripted (passes/cleanup.py): no node with an input or output of a
mutable type (Tensor, list, dict, object, a tuple holding one), no node without inputs
(`is_grad_enabled()` reads state), no vararg op (`"{}".format(x)`), no type-based
`x is None`; nodes without a registry op (str and container ops, tuple indexing) run as
the interpreter runs them.

- with tensors=True (the default; the executor's pipeline, `_jit_pass_constant_propagation`):
  ops on constants whose results are tensors, as TorchScript's ConstantPropagation folds
  `torch.ones(4, 4)`, `torch.arange(4) * 2 + 1`, `torch.tensor([1., 2.])` into
  `prim::Constant[value=<Tensor>]` (typed as the tensor is), so a fusion group reads them
  (`(x * 2 + torch.ones(4, 4)).relu()` is one group; strict_fusion accepts it) and they
  are not made again on every call. Not when anything may write the tensor or what it
  is made from (AliasDb: TorchScript's hasWriters), when it requires grad (TorchScript
  inserts no such constant), or when it may leave the graph (returned, alone or in a
  container): TorchScript folds `return torch.ones(2)` too and hands every call the same
  tensor, which the caller can then change for the next call; gpujit makes it afresh.
  Inlining folds a callee's body with tensors=False (its caller's writes are not seen).
  A prim::ListConstruct of tensor constants that nothing writes (no reverse() / append /
  in-place op on an element) and that does not leave the graph becomes a Tensor[] constant
  (`prim::Constant[value=[<Tensors>]]`, TorchScript's tryInsertConstant of a TensorList),
  so `torch.cat([torch.ones(2), torch.zeros(2)]) * x` folds the cat too; the generated
  code binds it as a list of arrays (runtime/codegen.py), as it unwraps a Tensor[] input.

Never folded: ops with side effects, in-place writes or random numbers; a list that
something writes to or that leaves the graph (a constant is one shared object); and any
op that raises while folding: that error belongs to run time, where the user sees it.
"""
from __future__ import annotations

import numpy as np

from ..ir import types as T
from ..ir.schema_match import calls_autograd, has_side_effects, is_nondeterministic
from .alias_analysis import AliasDb, is_mutable_type

__all__ = ["propagate_constants", "constant_value", "NOT_CONSTANT", "same_identity"]

def _identity_kind(v):
    """The kind an IValue compares by value in an identity test, or None (by object)."""
    import numbers
    if isinstance(v, bool):
        return bool
    if isinstance(v, numbers.Integral):
        return int
    if isinstance(v, numbers.Real):
        return float
    from ..device import device
    return device if isinstance(v, device) else None


def same_identity(a, b) -> bool:
    """TorchScript's aten::__is__ (IValue identity): None, bools, ints, floats and devices
    (no pointer in an IValue) by value, of one kind (1 is 1.0 is False, nan is nan
    False); tensors, strings, tuples, lists, objects by object."""
    if a is None or b is None:          # (`x is None`: the common case)
        return a is b
    ka, kb = _identity_kind(a), _identity_kind(b)
    if ka is not None or kb is not None:
        return ka is kb and a == b
    return a is b


def _constant_identity(a, b) -> bool:
    """`a is b` of two constants as TorchScript's constant propagation answers it: each
    constant string, tuple or Enum member becomes an IValue of its own there, so `"x" is
    "x"`, `(1, 2) is (1, 2)`, `Color.RED is Color.RED` are False (torch 2.13); numbers,
    devices and None by value."""
    import enum
    if isinstance(a, (str, tuple, enum.Enum)) and isinstance(b, (str, tuple, enum.Enum)):
        return False
    return same_identity(a, b)


# identity tests (not registry ops): folded when both sides are constants
_IDENTITY = {"aten::__is__": _constant_identity,
             "aten::__isnot__": lambda a, b: not _constant_identity(a, b)}


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
            if isinstance(v.type, _NEVER_NONE) and v.node.kind != "prim::grad":
                return False        # (x.grad: a Tensor that is None without a gradient)
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


def propagate_constants(graph, immutable_only=False, tensors=True,
                        returned_tensors=False) -> bool:
    """Fold, in place, every node the module docstring lists; True when anything changed.
    tensors=False leaves ops whose inputs or results are tensors alone (a function's body
    before it is inlined: its caller may write what it returns); returned_tensors=True
    folds tensors the graph returns too, as TorchScript's pass does
    (`torch._C._jit_pass_constant_propagation`)."""
    folder = _Folder(graph, immutable_only, tensors and not immutable_only,
                     returned_tensors)
    folder.block(graph.block)
    return folder.changed


# TorchScript's skip list (prim::If / prim::Loop are folded by their own rules) and the
# vararg ops, which its constant propagation does not run
_SKIP = frozenset({"prim::Closure", "prim::AutogradZero", "prim::Uninitialized",
                   "prim::Guard", "prim::profile", "prim::profile_ivalue",
                   "prim::unchecked_unwrap_optional", "prim::awaitable",
                   "aten::dequantize", "aten::format", "aten::percentFormat"})
# the prim:: nodes the immutable-types mode runs (through the interpreter's handlers)
_RUNNABLE_PRIMS = frozenset({"prim::TupleConstruct", "prim::TupleUnpack",
                             "prim::TupleIndex"})


class _Folder:
    def __init__(self, graph, immutable_only=False, tensors=False, returned_tensors=False):
        self.graph = graph
        self._aliases = None
        self.immutable_only = immutable_only
        self.tensors = tensors
        self.returned_tensors = returned_tensors
        self.changed = False

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
                self.changed = True
                continue            # what replaced it now sits at index i: visit it
            for b in node.blocks:
                self.block(b)
            if node.kind == "prim::If":
                self.remove_extra_if_outputs(node)
            elif node.kind == "prim::Loop":
                self.remove_extra_loop_outputs(node)
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
        if self.immutable_only:
            return self.fold_immutable(node)
        values = [constant_value(v) for v in node.inputs]
        if kind in _IDENTITY and len(values) == 2:
            known = _identity_with_none(values, node.inputs)
            if known is not None:   # `w is not None` of a value whose type cannot be None
                return self.replace(node, [known if kind == "aten::__is__" else not known])
        if any(v is NOT_CONSTANT for v in values):
            return False
        tensor_in = any(_holds_tensor(v) for v in values)
        if tensor_in and not (self.tensors and self.tensor_node_folds(node)):
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
        if any(r.type.base == "Tensor" for r in op.schema.returns) and not (
                self.tensors and self.tensor_node_folds(node)):
            return False
        try:
            with _warnings_recorded() as caught:
                result = op.eager(*values)
        except Exception:           # noqa: BLE001 - the error must happen at run time
            return False
        if caught:                  # (a warning is the program's, at run time, too)
            return False
        results = [result] if len(node.outputs) == 1 else list(result)
        return self.replace(node, [_python(r) for r in results])

    def tensor_node_folds(self, node) -> bool:
        """May node, whose inputs are constants, be run now though a tensor goes in or
        comes out (TorchScript's supportedNode with its AliasDb)? Not an op that builds
        autograd state, not when anything writes an input or output or what may alias
        them, not when an output may leave the graph (module docstring)."""
        if node.kind in _SKIP or node.blocks or calls_autograd(node):
            return False
        if node.kind != "prim::ListConstruct" and (    # (a list of tensors: for a cat)
                node.op is None or has_side_effects(node) or is_nondeterministic(node)):
            return False
        db = self.aliases
        return not any(is_mutable_type(v.type) and db.has_writers(v)
                       for v in list(node.inputs) + list(node.outputs)) and \
            (self.returned_tensors or not any(db.escapes(v) for v in node.outputs))

    def fold_immutable(self, node) -> bool:
        """TorchScript's ConstantPropagationImmutableTypes for one node (not If / Loop)."""
        kind = node.kind
        if kind in _SKIP or node.blocks or not node.inputs:
            return False
        if any(is_mutable_type(v.type) for v in node.inputs) or \
                any(is_mutable_type(v.type) for v in node.outputs):
            return False
        values = [constant_value(v) for v in node.inputs]
        if any(v is NOT_CONSTANT for v in values):
            return False
        if has_side_effects(node) or is_nondeterministic(node):
            return False
        if kind.startswith("prim::") and kind not in _RUNNABLE_PRIMS and node.op is None:
            return False            # (a registry op named prim::, as prim::max.int, runs)
        if kind in _IDENTITY:       # `x is None` of two constants
            return self.replace(node, [_IDENTITY[kind](*values)])
        results = _run_node(node, values)
        if results is None:
            return False
        return self.replace(node, [_python(r) for r in results])

    def replace(self, node, results) -> bool:
        if len(results) != len(node.outputs):
            return False
        for out, r in zip(node.outputs, results):
            if _holds_tensor(r) and not (_tensor_constant(r, out.type) or _tensor_list_constant(
                    r, out.type)):
                return False
            if not _holds_tensor(r) and not _fits(r, out.type):
                return False
            if is_mutable_type(out.type) and (self.aliases.has_writers(out) or (
                    self.aliases.escapes(out) and not (
                        self.returned_tensors and _holds_tensor(r)))):
                return False
        g = self.graph
        with g.inserting_before(node):
            # (a tensor's constant is typed as the tensor is: dtype, sizes, strides)
            consts = [g.insert_constant(r, T.type_of_value(r) if _holds_tensor(r)
                                        else out.type, node.source_range)
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

    def remove_extra_if_outputs(self, node):
        """An output both blocks give as the same value, or as equal constants, is that
        value (TorchScript's removeExtraIfOutputs)."""
        from .cse import value_key
        yes, no = node.blocks
        i = 0
        while i < len(node.outputs):
            t, f = yes.outputs[i], no.outputs[i]
            same = t if t is f else None
            if same is None and t.node.kind == "prim::Constant" and \
                    f.node.kind == "prim::Constant" and t.type == f.type:
                tv, fv = constant_value(t), constant_value(f)
                key = value_key(tv) if tv is not NOT_CONSTANT else None
                if key is not None and fv is not NOT_CONSTANT and key == value_key(fv):
                    with self.graph.inserting_before(node):
                        same = self.graph.insert_constant(tv, t.type, t.node.source_range)
            if same is None:
                i += 1
                continue
            node.outputs[i].replace_all_uses_with(same)
            node.erase_output(i)
            yes.erase_output(i)
            no.erase_output(i)
            self.changed = True

    def remove_extra_loop_outputs(self, node):
        """A loop-carried value the body hands on unchanged is the loop's input
        (TorchScript's removeExtraLoopOutputs)."""
        body = node.blocks[0]
        for k in reversed(range(len(node.outputs))):
            if body.inputs[k + 1] is not body.outputs[k + 1]:
                continue
            start = node.inputs[2 + k]
            node.outputs[k].replace_all_uses_with(start)
            body.inputs[k + 1].replace_all_uses_with(start)
            body.erase_output(k + 1)
            body.erase_input(k + 1)
            node.remove_input(2 + k)
            node.erase_output(k)
            self.changed = True

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


def _run_node(node, values):
    """node's results on constant inputs, computed as the interpreter computes them, or
    None when it raises (the error is the program's, at run time) or warns."""
    from ..runtime import interpreter as _interp
    env = dict(zip(node.inputs, values))
    try:
        with _warnings_recorded() as caught:
            handler = _interp.PRIM_HANDLERS.get(node.kind)
            if handler is not None:
                results = handler(node, env, None)
            else:
                results = _interp._run_aten(node, env)
    except Exception:               # noqa: BLE001 - the error must happen at run time
        return None
    if caught or results is None or len(results) != len(node.outputs):
        return None
    return list(results)


class _warnings_recorded:
    """The warnings raised inside (a list), shown nowhere. Unlike warnings.catch_warnings,
    the filters are changed in place (an "always" entry first, then removed), not
    replaced: catch_warnings bumps the filters' version, which empties every module's
    registry of the warnings already shown once, so after scripting anything the user's
    and gpujit's default-filtered warnings showed again (torch's show once)."""

    def __enter__(self):
        import warnings
        self.caught = []
        self.entry = ("always", None, Warning, None, 0)
        warnings.filters.insert(0, self.entry)
        self.shown = warnings.__dict__.get("_showwarnmsg")
        warnings._showwarnmsg = self.caught.append
        return self.caught

    def __exit__(self, *exc):
        import warnings
        warnings._showwarnmsg = self.shown
        for i, f in enumerate(warnings.filters):
            if f is self.entry:
                del warnings.filters[i]
                break
        return False


def _holds_tensor(v) -> bool:
    from ..tensor import Tensor
    if isinstance(v, Tensor):
        return True
    if isinstance(v, (list, tuple)):
        return any(_holds_tensor(x) for x in v)
    return False


def _tensor_constant(v, t) -> bool:
    """Can a constant hold v, a tensor result of a node whose output has type t? A plain
    dense tensor (not sparse, quantized, nested: subclasses) that does not require grad
    (TorchScript's insertableTensor), for a Tensor-typed output."""
    from ..tensor import Tensor
    return isinstance(v, Tensor) and isinstance(t, T.TensorType) and \
        not v.requires_grad and type(v) is Tensor


def _tensor_list_constant(v, t) -> bool:
    """Can a constant hold v, a list of tensors (a prim::ListConstruct of tensor constants,
    `torch.cat([torch.ones(2), torch.zeros(2)])`'s), for an output of type t? Each one a
    constant tensor (_tensor_constant), as TorchScript inserts a Tensor[] constant, so the
    cat / stack that reads it folds too."""
    return isinstance(v, list) and isinstance(t, T.ListType) and \
        isinstance(t.elem, T.TensorType) and bool(v) and \
        all(_tensor_constant(x, t.elem) for x in v)


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
    if isinstance(t, T.OptionalType):
        return (v is None and top) or _fits(v, t.elem, top)
    if isinstance(t, T.NoneType):
        return v is None and top
    leaf = T.leaf_value_matches(v, t)
    if leaf is not None:
        return leaf
    if isinstance(t, T.ListType):
        return isinstance(v, list) and all(_fits(x, t.elem, False) for x in v)
    if isinstance(t, T.TupleType) and not isinstance(t, T.NamedTupleType):
        return (type(v) is tuple and len(v) == len(t.elems)
                and all(_fits(x, e, False) for x, e in zip(v, t.elems)))
    return False
