"""Peephole rewrites: single nodes that compute their input unchanged become that input.

- `x * 1`, `1 * x`, `x + 0`, `0 + x` (alpha 1), `x - 0` (alpha 1), `x / 1` (no rounding
  mode) -> x, when x's dtype is known and the op's own promotion of (x, the constant)
  gives x's dtype back: `int_x * 1.0` is a float tensor and `bool_x + 0` an int64 one, so
  they stay; `int_x / 1` is a float tensor (true division), so it stays too.
- `aten::mul(x, c)` (add / sub / mul / div.Tensor) of a 0-dim CPU tensor constant c ->
  `aten::mul(x, c.item())`, as in torch 2.13's optimized graph of a trace or a loaded one
  (a traced Python number is a 0-dim tensor there, as PyTorch's).
- `aten::to(x, dtype)` to the dtype x already has, without `copy=True` -> x (aten::to
  returns self then, so this is exact).
- `aten::Int(prim::NumToTensor(n))` -> n for an int n (a traced size given for an int).
- `aten::t(aten::t(x))` -> x for x of known rank <= 2 (t of a 3-d tensor is an error,
  which must stay).
- `aten::conj`, `conj_physical`, `resolve_conj`, `resolve_neg`, `real` -> x for x of a
  known real dtype, for which these hand back x itself (ops/complex_parts.py), so
  `x.conj() * y` fuses.
- `prim::TupleUnpack(prim::TupleConstruct(a, b, ...))` -> a, b, ... and
  `prim::TupleIndex(prim::TupleConstruct(...), i)` -> element i of a constant i (tuples are
  immutable): `x, y = a * 2, b * 3` leaves no tuple between the ops, which would stop
  fusion, as TorchScript's tuple lowering.
- `aten::len(prim::ListConstruct(a, b, c))` -> 3 and `aten::__getitem__` of such a list
  at a constant index in range -> that item, when nothing may write the list (the
  AliasDb finds no writer: no append, no handing it to opaque code), as TorchScript's
  list idioms.

The rewritten node is removed; what it read is left to DCE. (`x + 0` -> x differs from
the addition only at x = -0.0, where the sum is +0.0; TorchScript makes the same rewrite.)
"""
from __future__ import annotations

from .. import dtypes as _dt
from ..ir import types as T
from ..tensor import Tensor
from ..ops.registry import scalar_kind
from .alias_analysis import AliasDb
from .constant_propagation import constant_value

__all__ = ["peephole_optimize", "drop_profiled_identities"]

_REAL_IDENTITIES = frozenset(("aten::conj", "aten::conj_physical", "aten::resolve_conj",
                              "aten::resolve_neg", "aten::real"))


def peephole_optimize(graph, unwrap_numbers=True) -> None:
    """Apply the rewrites above everywhere, in place (unwrap_numbers=False: not the 0-dim
    tensor constant -> number one, which torch's jit.freeze does not make)."""
    db = []           # the AliasDb, built when a list idiom needs it (writers only go away)
    for node in list(graph.walk()):
        if node.owning_block is None:
            continue
        if node.kind in ("aten::len", "aten::__getitem__") and node.inputs and \
                node.inputs[0].node.kind == "prim::ListConstruct":
            if not db:
                db.append(AliasDb(graph))
            if _list_idiom(graph, node, db[0]):
                continue
        elements = _tuple_elements(node)
        if elements is not None:
            for out, v in zip(node.outputs, elements):
                out.replace_all_uses_with(v)
            node.destroy()
            continue
        if unwrap_numbers:
            _unwrap_number(graph, node)
        same = _rewrite(node)
        if same is None:
            continue
        node.output.replace_all_uses_with(same)
        node.destroy()


# the functional ops whose `other` TorchScript's optimized graph takes as a number when it
# is a 0-dim CPU tensor constant (a traced Python number: tracer.wrapped_number)
_NUMBER_OTHER = frozenset(("aten::add.Tensor", "aten::sub.Tensor", "aten::mul.Tensor",
                           "aten::div.Tensor"))


def _unwrap_number(graph, node) -> None:
    """`aten::mul(x, c)` with c a 0-dim CPU tensor constant -> `aten::mul(x, c.item())`,
    as torch 2.13's optimized graph of a trace (`%1 : float = prim::Constant[value=2.5]()`).
    Only add / sub / mul / div.Tensor's `other`, as torch's: in-place forms, div with a
    rounding mode, floor_divide and a number first keep the tensor. A trace's own constant
    is a wrapped number (registry.wrapped_number), which promotes as the number either
    way; a loaded trace's is a plain 0-dim tensor (PyTorch saves no mark), so after
    jit.load int64 x * 2.5 is float32 (rewritten here) and x // 2.5 float64, as torch's."""
    op = node.op
    if op is None or op.name not in _NUMBER_OTHER or len(node.inputs) < 2:
        return
    c = node.inputs[1].node
    t = c.attrs.get("value") if c.kind == "prim::Constant" else None
    if not (isinstance(t, Tensor) and t.dim() == 0 and t.device.type == "cpu"
            and not t.requires_grad):
        return
    x = t.item()
    with graph.inserting_before(node):
        n = graph.insert_constant(x, T.type_of_value(x), c.source_range)
    node.replace_input(1, n)


def _list_idiom(graph, node, db) -> bool:
    """Rewrite len / a constant-index read of an unwritten ListConstruct; True if done."""
    made = node.inputs[0].node
    items = list(made.inputs)
    if db.has_writers(made.output):
        return False
    if node.kind == "aten::len":
        if len(node.inputs) != 1:
            return False
        with graph.inserting_before(node):
            same = graph.insert_constant(len(items), None, node.source_range)
    else:
        i = constant_value(node.inputs[1]) if len(node.inputs) > 1 else None
        if type(i) is not int or not -len(items) <= i < len(items):
            return False            # out of range: the IndexError stays
        same = items[i]
        t, want = same.type, node.output.type
        if t != want and not (isinstance(t, T.TensorType) and isinstance(want, T.TensorType)):
            return False            # (an item of a narrower type than the list's)
    node.output.replace_all_uses_with(same)
    node.destroy()
    return True


def _tuple_elements(node):
    """The values a TupleUnpack / TupleIndex of a TupleConstruct gives, or None."""
    if node.kind not in ("prim::TupleUnpack", "prim::TupleIndex") or not node.inputs:
        return None
    made = node.inputs[0].node
    if made.kind != "prim::TupleConstruct":
        return None
    if node.kind == "prim::TupleUnpack":
        return list(made.inputs) if len(made.inputs) == len(node.outputs) else None
    i = constant_value(node.inputs[1]) if len(node.inputs) > 1 else None
    if type(i) is not int or not -len(made.inputs) <= i < len(made.inputs):
        return None
    return [made.inputs[i]]


def _rewrite(node):
    """The value node's output always equals, or None."""
    if len(node.outputs) != 1 or node.kind.startswith("prim::"):
        return None
    if node.kind == "aten::Int" and len(node.inputs) == 1:
        # int(prim::NumToTensor(n)) -> n: a traced size's int (`x.view(x.size(0), -1)`
        # records aten::Int of the size's 0-dim tensor, as torch's trace)
        made = node.inputs[0].node
        if made.kind == "prim::NumToTensor" and len(made.inputs) == 1 and \
                isinstance(made.inputs[0].type, T.IntType):
            return made.inputs[0]
        return None
    op = node.op
    if op is None:
        return None
    name = op.name
    if name == "aten::to.dtype":
        return same_dtype_to(node)
    if name in _REAL_IDENTITIES:
        # (of a complex tensor conj conjugates and real is a view of other numbers: only
        # a tensor known to be real is its own conj)
        x = node.inputs[0]
        dt = getattr(x.type, "dtype", None)
        return x if dt is not None and not dt.is_complex else None
    if name == "aten::t":
        inner = node.inputs[0].node
        x = inner.inputs[0] if inner.kind == "aten::t" and inner.inputs else None
        if x is not None and isinstance(x.type, T.TensorType) and x.type.dim is not None \
                and x.type.dim <= 2:
            return x
        return None
    rule = _IDENTITIES.get(name)
    if rule is None:
        return None
    unit, positions, third_ok = rule
    ins = node.inputs
    if len(ins) > 2 and (third_ok is None or not third_ok(constant_value(ins[2]))):
        return None
    for xi, ci in positions:
        c = constant_value(ins[ci])
        if _is_number(c) and c == unit and _keeps_dtype(node, ins[xi], c):
            return ins[xi]
    return None


def _is_number(c) -> bool:
    return isinstance(c, (int, float)) and not isinstance(c, bool)


def _alpha_one(v) -> bool:
    return _is_number(v) and v == 1


def _no_rounding(v) -> bool:
    return v is None


# op -> (its identity element, the (x, constant) input positions it may take, what the
# third input must be: alpha 1 for add/sub, no rounding mode for div)
_IDENTITIES = {
    "aten::mul.Tensor": (1, ((0, 1), (1, 0)), None),
    "aten::add.Tensor": (0, ((0, 1), (1, 0)), _alpha_one),
    "aten::sub.Tensor": (0, ((0, 1),), _alpha_one),
    "aten::div.Tensor": (1, ((0, 1),), None),
    "aten::div.Tensor_mode": (1, ((0, 1),), _no_rounding),
}


def _keeps_dtype(node, x, c) -> bool:
    tx = x.type
    if not isinstance(tx, T.TensorType) or tx.dtype is None:
        return False
    out = node.output.type
    if isinstance(out, T.TensorType) and out.dtype is not None and out.dtype != tx.dtype:
        return False
    kinds = ((tx.dtype, _dt.ZERO_DIM if tx.sizes == () else _dt.DIM), scalar_kind(c))
    extras = (None,) if node.op.name == "aten::div.Tensor_mode" else ()   # rounding_mode
    try:
        _, out_dtype = node.op.compute_types(kinds, *extras)
    except Exception:       # noqa: BLE001 - an unsupported dtype: the error stays at run time
        return False
    return out_dtype == tx.dtype


def same_dtype_to(node):
    """x when node is `aten::to.dtype(x, x's known dtype)` without copy=True, else None."""
    x = node.inputs[0]
    if not isinstance(x.type, T.TensorType) or x.type.dtype is None or len(node.inputs) < 2:
        return None
    target = constant_value(node.inputs[1])
    if isinstance(target, int) and not isinstance(target, bool):
        try:                    # (TorchScript's int code of a dtype, as graphs show it)
            target = _dt.scalar_type_arg(target)
        except (TypeError, ValueError, KeyError):
            return None
    if not isinstance(target, _dt.dtype) or target != x.type.dtype:
        return None
    if len(node.inputs) > 3 and constant_value(node.inputs[3]) is not False:
        return None             # copy=True (or unknown) asks for a new tensor
    return x


# torch 2.13's PeepholeOptimize of a scripted graph (its profiling executor runs it before
# it profiles): `x * 1`, `1 * x`, `x + 0`, `0 + x`, `x - 0` with an int constant (alpha 1)
# -> x; `x / 1` and float constants (`x * 1.0`) stay
_TORCH_IDENTITIES = ("aten::mul.Tensor", "aten::add.Tensor", "aten::sub.Tensor")


def drop_profiled_identities(graph, dtype_of) -> bool:
    """torch's rewrite of `x * 1` / `x + 0` / `x - 0` (int constants) into x, in place, for
    x whose profiled dtype (dtype_of(Value): a dtype or None) the op keeps (torch also
    rewrites a bool x, whose `x * 1` is int64: not here), when replacing the result by x
    changes no aliasing anyone can see (torch's safeToChangeAliasingRelationship: neither
    is written, not both reach the caller). Whether any node went."""
    changed = False
    for node, (xi, c) in torch_identities(graph).items():
        x = node.inputs[xi]
        if not identity_keeps(node.op, dtype_of(x), c):
            continue
        node.output.replace_all_uses_with(x)
        node.destroy()
        changed = True
    return changed


def drop_frozen_identities(graph, counters=()) -> bool:
    """The `x + 0` / `x - 0` / `x * 1` rewrites (int constants, alpha 1) of the
    PeepholeOptimize torch's freezing runs (runOptimization: before and after unrolling
    constant loops) on a graph whose tensor types are unknown, in place, in graph order.
    As torch's tryToReplaceOutputWithInput: not where x or the result is written or both
    reach the caller, and a rewrite leaves x and the result stale, no later one taking
    either (`(x + 0) * 1 - 0` keeps the mul, drops the sub). Constants in `counters` (an
    unrolled loop's later counters: torch's are still `aten::add(i, 1)` then) are no
    constants yet. Whether any node went."""
    db, stale, changed = None, set(), False
    for node in list(graph.walk()):
        if node.kind not in ("aten::mul", "aten::add", "aten::sub") or \
                node.owning_block is None or len(node.outputs) != 1 or node.op is None or \
                node.op.name not in _TORCH_IDENTITIES:
            continue
        unit, positions, _ = _IDENTITIES[node.op.name]
        ins = node.inputs
        if len(ins) > 2 and (type(constant_value(ins[2])) is not int or
                             constant_value(ins[2]) != 1):
            continue            # (alpha: an int 1)
        for xi, ci in positions:
            c = constant_value(ins[ci])
            # (an int Scalar, not a bool: torch's check is IntType)
            if type(c) is not int or c != unit or ins[ci].node.kind != "prim::Constant" \
                    or ins[ci].node in counters:
                continue
            x, y = ins[xi], node.output
            if not isinstance(x.type, T.TensorType) or x in stale or y in stale:
                continue
            if db is None:
                db = AliasDb(graph)
            if db.has_writers(x) or db.has_writers(y) or (db.escapes(x) and db.escapes(y)):
                continue
            stale.update((x, y))
            y.replace_all_uses_with(x)
            node.destroy()
            changed = True
            break
    return changed


def torch_identities(graph) -> dict:
    """{node: (the index of its input x, the constant)} for each `x * 1`, `1 * x`,
    `x + 0`, `0 + x`, `x - 0` (int or bool constants, alpha 1) of the graph (its blocks too) whose result could be x
    without changing aliasing anyone can see (neither is written, not both reach the
    caller): torch's PeepholeOptimize drops those (for x of a dtype the op keeps:
    identity_keeps)."""
    db = None
    out = {}
    root, escapes = {}, {}      # (chains: `(x * 1) + 0` is x for both)
    for node in graph.walk():
        if node.owning_block is None or node.kind not in (
                "aten::mul", "aten::add", "aten::sub") or len(node.outputs) != 1:
            continue
        op = node.op
        if op is None or op.name not in _TORCH_IDENTITIES:
            continue
        unit, positions, third_ok = _IDENTITIES[op.name]
        ins = node.inputs
        if len(ins) > 2 and not third_ok(constant_value(ins[2])):
            continue
        for xi, ci in positions:
            c = constant_value(ins[ci])
            if type(c) not in (int, bool) or c != unit or \
                    ins[ci].node.kind != "prim::Constant":
                continue        # (torch's: an integral Scalar, bool too -- not 1.0)
            x = ins[xi]
            if not isinstance(x.type, T.TensorType):
                continue
            if db is None:
                db = AliasDb(graph)
            y = node.output
            r = root.get(x, x)      # (x the result of an identity taken before: its x)
            esc = escapes[r] if r in escapes else db.escapes(r)
            if db.has_writers(x) or db.has_writers(y) or (esc and db.escapes(y)):
                continue
            out[node] = (xi, c)
            root[y] = r
            escapes[r] = esc or db.escapes(y)
            break
    return out


_KEEPS: dict = {}


def identity_keeps(op, dt, c) -> bool:
    """Whether registry op `op` (one of _TORCH_IDENTITIES) of a tensor of dtype dt and the
    number c keeps dt (bool * 1 is int64: torch rewrites that too, gpujit not)."""
    r = _KEEPS.get((op.name, dt, type(c)))
    if r is None:
        r = False
        if dt is not None:
            try:
                _, out_dtype = op.compute_types(((dt, _dt.DIM), scalar_kind(c)))
                r = out_dtype == dt
            except Exception:   # noqa: BLE001 - an unsupported dtype: the error stays
                r = False
        _KEEPS[(op.name, dt, type(c))] = r
    return r
