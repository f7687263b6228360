"""Lowering of aten nodes for the code generator (codegen.py).

Each node becomes one of:

- a pointwise call: what entry_codegen._gen_pointwise does at run time (device join, type
  promotion, operand casts, the impl, result cast, in-place write-back), decided from
  the operands' specs, so the line that remains is the impl call (or the NumPy function
  it is) with only the casts the dtypes need (codegen_pointwise.py);
- a generic call: entry_codegen._gen_generic's work (device, ScalarType/Device arguments, the
  impl, results per the schema) decided the same way;
- a Python expression, for the Python-scalar ops (`i + 1`);
- the fallback: the op's eager entry point on boxed values, for a node whose types the
  profile does not fix (and for whatever the static paths decline). It computes exactly
  what eager gpujit computes, errors included.

The pieces these share (_Arg, the device join, the call expression) are codegen_calls.py's.
"""
from __future__ import annotations

import ast

import functools
import string

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu, resolve as _resolve
from ..ir import types as _T
from ..ops import overlap as _overlap, registry as _reg
from ..ops.registry import wrapped_constant
from ..ops.scalar_ops import (GUARDED_CONSTANTS, GUARDED_FORMS, INT64_WRAPPED,
                              PYTHON_FORMS, PYTHON_VALUED)
from .assume import NO_CONSTANT, known, static_value
from .profile import TensorSpec, ValueSpec, ListSpec, TupleSpec, EMPTY, spec_of
from .codegen_calls import _NONE, _Arg, _join_devices, _move, _call_expr
from .codegen_pointwise import _pointwise
from .container_ops import CONTAINER_OPS, container_op
from .isinstance_kinds import isinstance_test
from .support import call_op

__all__ = ["emit_aten", "emit_isinstance"]


def _args(cg, n, op):
    from .codegen import python_literal
    out = []
    params = op.schema.arguments
    for i, (p, v) in enumerate(zip(params, n.inputs)):
        c = static_value(v, cg.specs)
        x = wrapped_constant(op, i, c)
        if x is not None:
            # (a wrapped number where the op takes a number: that number, as the eager
            # entry point takes it: registry.zero_dim_operand_kind)
            lit = python_literal(x)
            out.append(_Arg(p.name, p.type, v, lit if lit is not None else cg.bind(
                x, f"n_{p.name}"), ValueSpec(type(x)), x))
            continue
        out.append(_Arg(p.name, p.type, v, cg.ref(v), cg.specs.get(v), c))
    for p in params[len(n.inputs):]:
        lit = python_literal(p.default)
        expr = lit if lit is not None else cg.bind(p.default, f"d_{p.name}")
        out.append(_Arg(p.name, p.type, None, expr, spec_of(p.default), p.default))
    return out


def emit_aten(cg, n):
    op = n.op
    if op is None and n.kind in CONTAINER_OPS:
        _container(cg, n)
        return
    if op is not None and op.out_of is None and \
            all(known(cg.specs.get(v)) for v in (*n.inputs, *n.outputs)):
        args = _args(cg, n, op)
        if op.name in PYTHON_FORMS and _python_form(cg, n, op, args):
            return
        if op.is_pointwise and op.operands:
            if _pointwise(cg, n, op, args):
                return
        elif _generic(cg, n, op, args):
            return
    _fallback(cg, n, op)


# ---------------------------------------------------------------------- Python scalars

def _never(c):
    return False


def _plain(a) -> bool:
    """A Python value the op's form takes as it is: a number, bool or str, or a list
    where the schema takes one (`list(k.shape) != list(v.shape)`: Python's != on lists
    is aten::ne.int_list's)."""
    s = a.spec
    if isinstance(s, ValueSpec):
        return s.pytype in (int, float, bool, str)
    return isinstance(s, ListSpec) and a.type.is_list and a.type.base in ("int", "str", "bool")


def _python_form(cg, n, op, args):
    specs = [a.spec for a in args]
    if not all(_plain(a) for a in args):
        return False
    if op.name.endswith(".float") and not any(s.pytype is float for s in specs):
        return False       # float(int op int): the impl converts
    form = PYTHON_FORMS[op.name]
    if op.name in GUARDED_FORMS and (
            args[1].const in (NO_CONSTANT, 0)
            or GUARDED_CONSTANTS.get(op.name, _never)(args[1].const)):
        form = GUARDED_FORMS[op.name]       # int // b: TorchScript's 'division by 0'
    expr = form.format(**{a.name: a.expr for a in args})
    out = cg.define(n.output)
    cg.emit(f"{out} = {expr}")
    if op.name in INT64_WRAPPED and _escapes_ring(n.output):
        cg.emit(f"if {out}.bit_length() > 63: {out} = _wrap64({out})")
    return True


# Ints are int64 (scalar_ops.INT64_WRAPPED). Wrapping modulo 2**64 commutes with + - * and
# <<, so a result only these use (`a * 31 + i - 7`) need not be wrapped: the chain's last
# result is, when something else (a comparison, %, a call, a loop-carried value, the
# return) uses it. One check per chain instead of per op: a loop of int arithmetic runs
# at about the speed of Python's unbounded ints.
_RING = {"aten::add.int": None, "aten::sub.int": None, "aten::mul.int": None,
         "aten::neg.int": None, "aten::__lshift__.int": 0}


def _escapes_ring(v):
    """Is v used other than as an operand of + - * (or the left one of <<) on ints?"""
    for u in v.uses:
        op = getattr(u.user, "op", None)
        if op is None or op.name not in _RING:
            return True
        only = _RING[op.name]
        if only is not None and u.offset != only:
            return True
    return False


# ---------------------------------------------------------------------- generic ops

def _generic(cg, n, op, args):
    s = op.schema
    tensor_args = [a for a in args if a.type.base == "Tensor"]
    if any(a.type.base.startswith("__torch__.") for a in args):
        return False    # (a torch.classes object, a packed quantized weight: the eager entry)
    if op.cross_device == "keep":
        return False    # (aten::to.other, aten::cpu / cuda: the eager entry finds the device)
    if len(tensor_args) == 1 and tensor_args[0].type.is_tensor and not \
            tensor_args[0].type.optional:
        spec = tensor_args[0].spec
        if not isinstance(spec, TensorSpec):
            return False
        dev = spec.device
    elif tensor_args:
        first = tensor_args[0].spec
        if op.cross_device is True:     # ("indices": joined as usual; a clash -> eager)
            if not isinstance(first, TensorSpec):
                return False
            dev = first.device
        else:
            # (an op that checks its devices exactly takes no 0-dim CPU tensor beside a
            # GPU one: eager raises its error)
            dev = _join_devices([a.spec for a in tensor_args],
                                zero_dim_exempt=op.device_check is None)
            if dev is None and _has_tensor(a.spec for a in tensor_args):
                return False          # devices clash (or cannot be told): eager decides
    else:
        dev = None
    exprs = {}
    consts = {}
    for a in args:
        e, c = a.expr, a.const
        if a.type.base == "Device" and not a.type.is_list:
            if c is not None and c is not NO_CONSTANT:
                try:
                    c = _resolve(c)
                except Exception:
                    return False
                dev = c
                e = cg.bind_device(c)
        elif a.type.base == "ScalarType" and c is not None and c is not NO_CONSTANT:
            c = _dt.scalar_type_arg(c)
            e = cg.bind_dtype(c)
        exprs[a.name], consts[a.name] = e, c
    if dev is None:
        dev = _cpu
    for a in tensor_args:
        sp = a.spec
        if isinstance(sp, TensorSpec) and sp.device is not dev:
            exprs[a.name] = _move(cg, a.expr, dev)
        elif isinstance(sp, ListSpec) and isinstance(sp.elem, TensorSpec) and \
                sp.elem.device is not dev:
            exprs[a.name] = f"[{_move(cg, 't_', dev)} for t_ in {a.expr}]"
    rets, outs = s.returns, n.outputs
    whole = _expanded_self(cg, op, args, exprs) if len(outs) == 1 else None
    call = _call_expr(cg, op, dev, [_Arg(a.name, a.type, a.value, a.expr, a.spec,
                                         consts[a.name]) for a in args], exprs)
    wrote = None
    if len(outs) == 0:
        cg.emit(call)
    elif len(rets) == 1 and len(outs) == 1:
        rt = rets[0]
        if rt.type.base == "Tensor" and not rt.type.is_list and rt.type.alias and \
                rt.type.is_write:
            aliased = next((a for a in args if a.type.alias == rt.type.alias), None)
            if "inplace_view" in op.tags:
                # t_, squeeze_: the impl returns self's new view, which becomes self (the
                # variable every use of self reads, and its Tensor object when it has one)
                name = cg.names.get(aliased.value) if aliased.value is not None else None
                if name is None or name != aliased.expr or not name.isidentifier() or \
                        name.startswith("_"):
                    from .codegen import CodeGenError
                    raise CodeGenError(f"{op.public_name}: the executor cannot restride "
                                       f"{aliased.expr} in place (not a local tensor)")
                o = cg.obj(aliased.value)
                if o is None and _held_at(cg, aliased.value, n):
                    from .codegen import CodeGenError
                    raise CodeGenError(f"{op.public_name} restrides a tensor held in a "
                                       f"container or object, which the array code "
                                       f"cannot update in place")
                cg.emit(f"{name} = {call}")
                if o is not None:
                    cg.emit(f"{o}._data = {name}")
                    _same_object_inputs(cg, aliased.value, o, name)
            elif s.is_inplace:    # the impl may return UNCHANGED: it wrote nothing
                wrote = cg.new_var("wrote")
                if whole is not None and op.on_expanded == "changes":
                    # (tril_ of an expanded self wrote a copy: its changed elements go back)
                    r = cg.new_var("r")
                    cg.emit(f"{r} = {call}")
                    cg.emit(f"if {whole} is not None:")
                    cg.emit(f"    {cg.bind(_reg.write_changes, 'write_changes')}({whole}, {r}, "
                            f"{op.public_name!r})")
                    call = r
                cg.emit(f"{wrote} = {call} is not {cg.bind(_reg.UNCHANGED, 'UNCHANGED')}")
            else:
                cg.emit(call)
            cg.names[outs[0]] = aliased.expr
            if aliased.value is not None and aliased.value in cg.objs:
                cg.objs[outs[0]] = cg.objs[aliased.value]
        else:
            fixed = call if op.name in PYTHON_VALUED else _fix(cg, rt, call, outs[0], dev, op)
            cg.emit(f"{cg.define(outs[0])} = {fixed}")
    elif len(outs) == len(rets):
        names = [cg.define(v) for v in outs]
        cg.emit(f"{', '.join(names)} = {call}")
        for name, rt, v in zip(names, rets, outs):
            fixed = _fix(cg, rt, name, v, dev, op)
            if fixed != name:
                cg.emit(f"{name} = {fixed}")
    else:
        t = cg.define(outs[0])
        cg.emit(f"{t} = {call}")
        items = [_fix(cg, rt, f"{t}[{i}]", None, dev, op) for i, rt in enumerate(rets)]
        cg.emit(f"{t} = ({', '.join(items)},)")
    if s.is_inplace and args and args[0].value is not None and outs:
        o = cg.obj(args[0].value)
        if o is not None:
            cg.emit(f"if {wrote}: {o}._vc[0] += 1" if wrote else f"{o}._vc[0] += 1")
            cg.objs.setdefault(outs[0], o)
        else:
            cg.bump_viewed(args[0].value, wrote)
    return True


_BUILDS = frozenset({"prim::TupleConstruct", "prim::ListConstruct", "prim::DictConstruct"})


def _holder_type(t) -> bool:
    from ..passes.alias_analysis import is_mutable_type
    if isinstance(t, _T.OptionalType):
        t = t.elem
    return is_mutable_type(t) and not isinstance(t, _T.TensorType)


def _held_at(cg, v, node) -> bool:
    """May a container or object hold v's array when `node` restrides v (t_, unsqueeze_)?
    Not when the only containers holding it are tuples / lists / dicts built from it after
    node, outside loops (`y.unsqueeze_(1); return z, y`): they are built from the new
    view. Anything else the alias analysis calls contained (an input, an element or
    attribute read, a container built before or in a loop) may keep the old array."""
    db = cg.alias_db()
    if not db.is_contained(v):
        return False
    if db.is_wildcard(v):
        return True
    later, at = set(), node
    while at is not None:                   # (after it, and after the ifs holding it)
        nodes = at.owning_block.nodes
        later.update(nodes[nodes.index(at) + 1:])
        at = at.owning_block.owning_node
        if at is not None and at.kind != "prim::If":
            later = set()                   # (a loop: a later build may be an earlier
            break                           # iteration's)
    for m in cg.graph.walk():
        if m is node:
            continue
        if any(db.may_alias(o, v) for o in m.outputs) and m.op is None:
            return True                     # (read out of a container, an If / Loop)
        if any(db.may_alias(u, v) for u in m.inputs):
            if m.kind in _BUILDS:
                if m not in later:
                    return True
            elif m.op is None or any(_holder_type(x.type) for x in (*m.inputs, *m.outputs)):
                return True
    return False


def _expanded_self(cg, op, args, exprs):
    """An in-place op's self whose elements share memory (expand) is written as the eager
    entry writes it (ops/entry_codegen.py, ops/overlap.py): PyTorch's internal-overlap
    error, or through a writable alias (masked_fill_ / index_put_ with PyTorch's
    deprecation warning, fill_ / zero_), or a copy whose changes go back (tril_); a
    read-only view of one without overlap through a writable alias. Emits
    the check (self's argument becomes a new variable) and returns the name holding the
    whole self when the copy's changes are to be written back (else None)."""
    s = op.schema
    if not s.is_inplace or "inplace_view" in op.tags or op.on_expanded == "own" or \
            op.unchanged_when is not None or not args or args[0].type.base != "Tensor" or \
            args[0].type.is_list or not isinstance(args[0].spec, TensorSpec):
        return None
    name = args[0].name
    se = exprs[name]
    tgt = cg.new_var("self_w")
    cg.emit(f"{tgt} = {se}")
    ovl = cg.bind(_reg.has_internal_overlap, "has_internal_overlap")
    target = cg.bind(_overlap.expanded_target, "expanded_target")
    whole = cg.new_var("whole") if op.on_expanded == "changes" else None
    if whole is not None:
        cg.emit(f"{whole} = None")
    cg.emit(f"if 0 in {tgt}.strides and {ovl}({tgt}):")
    if whole is not None:
        cg.emit(f"    {whole} = {tgt}")
    cg.emit(f"    {tgt} = {target}({cg.bind(op, f'op_{op.public_name}')}, {tgt})")
    # (a read-only NumPy view of an expanded tensor without overlap: written, as eager)
    cg.emit(f"elif type({tgt}) is {cg.bind(np.ndarray, 'ndarray')} and not "
            f"{tgt}.flags.writeable:")
    cg.emit(f"    {tgt} = {cg.bind(_reg.writable_target, 'writable_target')}({tgt}, "
            f"{op.public_name!r})")
    exprs[name] = tgt
    return whole


def _has_tensor(specs):
    for s in specs:
        if isinstance(s, TensorSpec) or (isinstance(s, ListSpec) and s.elem is not EMPTY):
            return True
    return False


def _fix(cg, rt, e, v, dev, op=None):
    """An impl's result as the eager entry point returns it (in raw form)."""
    t = rt.type
    if t.base == "Tensor" and not t.is_list:
        if op is not None and op.contiguous_result:      # C-contiguous, as eager's
            from ..ops.memory_format import c_layout
            e = f"{cg.bind(c_layout, 'c_layout')}({cg.xp_name(dev)}, {e})"
        # NumPy gives 0-dim results as scalars; CPU tensors in generated code are ndarrays
        return f"_asarray({e})" if dev is _cpu else e
    if t.base == "Tensor":      # a Tensor[] is a list in scripted code (append, xs[0] = )
        return f"list(map(_asarray, {e}))" if dev is _cpu else f"list({e})"
    if t.base in ("int", "float", "bool", "Scalar") and not t.is_list:
        return f"_item({e})"
    return e


# ---------------------------------------------------------------------- containers

def _scalar_literal(expr):
    """Is expr the text of a Python number, bool or None (an inlined constant)?"""
    try:
        v = ast.literal_eval(expr)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return v is None or isinstance(v, (int, float, complex))


def _container(cg, n):
    """A Python list/dict operation (values inside are raw, as everywhere in the code)."""
    fn, form = container_op(n)
    args = [cg.ref(v) for v in n.inputs]
    if n.kind == "aten::__contains__" and isinstance(n.inputs[1].type, _T.TensorType):
        # `t in d` of a Dict[Tensor, t]: the dict keeps its Tensor keys (by identity), so
        # look for the Tensor object, not its array
        from .codegen_prim import box_expr
        args[1] = box_expr(cg, n.inputs[1])
    # `None[i]` (a constant in a branch that never runs: an inlined library function's
    # other case) is a SyntaxWarning when the code is compiled: call the function instead
    scalar_base = form is not None and form.startswith("{0}[") and _scalar_literal(args[0])
    if form is not None and _placeholders(form) == len(args) and not scalar_base:
        call = form.format(*args)
    else:
        call = f"{cg.bind(fn, n.kind.split('::')[1].strip('_'))}({', '.join(args)})"
    if n.outputs:
        cg.emit(f"{cg.define(n.output)} = {call}")
    else:
        cg.emit(call)


@functools.lru_cache(maxsize=None)
def _placeholders(form):
    """How many inputs an expression form names ({0} ... {k})."""
    return len({f for _, f, _, _ in string.Formatter().parse(form) if f is not None})


# ---------------------------------------------------------------------- isinstance

def emit_isinstance(cg, n):
    """prim::isinstance on a Union: a constant when x is a graph input (or a refinement
    of one) whose kind decides the test: the specialization key fixes the input's Python
    type. Else the interpreter's run-time test, on the raw value."""
    x = n.inputs[0]
    test = isinstance_test(x.type, tuple(n.attrs["types"]))
    origin = x
    while origin.node.kind == "prim::unchecked_cast":
        origin = origin.node.inputs[0]
    verdict = None
    if origin in cg.graph.inputs:
        sample = _sample(cg.specs.get(origin))
        verdict = test.by_kind(sample) if sample is not _NO_SAMPLE else None
    if verdict is not None:
        cg.names[n.output] = str(verdict)
        return
    fn = cg.bind(test, "isinstance_test")
    cg.emit(f"{cg.define(n.output)} = {fn}({cg.ref(x)})")


_NO_SAMPLE = object()
_PLAIN = (int, float, bool, str, _NONE, dict, set)


def _sample(s):
    """A value of the kind spec s describes (_NO_SAMPLE when s does not fix one)."""
    if isinstance(s, TensorSpec):
        return np.empty(0)
    if isinstance(s, ListSpec):
        return []
    if isinstance(s, TupleSpec):
        return ()
    if isinstance(s, ValueSpec) and s.pytype in _PLAIN:
        return s.pytype()
    return _NO_SAMPLE


# ---------------------------------------------------------------------- fallback

def _fallback(cg, n, op):
    types = ", ".join(str(v.type) for v in n.inputs)
    name = op.public_name if op is not None else n.kind.split("::")[-1]
    fn = cg.bind(functools.partial(call_op, op, n.kind, types, len(n.outputs)), f"op_{name}")
    args = []
    for v in n.inputs:
        o = cg.obj(v)
        args.append(o if o is not None else cg.ref(v))
    outs = [cg.define(v) for v in n.outputs]
    call = f"{fn}({', '.join(args)})"
    cg.emit(f"{', '.join(outs)} = {call}" if outs else call)
    if op is not None and op.out_of is not None:
        # an out= write may have resized out (a new array): what reads out next sees it
        for w, new in zip(n.inputs[-len(n.outputs):], outs):
            rebind_written(cg, w, new, op)
    if op is not None and (op.schema.is_inplace or op.out_of is not None) and n.outputs \
            and n.inputs:
        # the node returns the Tensor(s) it wrote: self (in place), or out (an out= call)
        wrote = n.inputs[:1] if op.out_of is None else n.inputs[-len(n.outputs):]
        for w, v in zip(wrote, n.outputs):
            o = cg.objs.get(w)
            if o is not None:
                cg.objs[v] = o
            else:
                cg.bump_viewed(w)


def _same_object_inputs(cg, v, o, expr):
    """Tensor object o (v's) took a new array `expr`: an input that is o itself (f(x, x),
    torch's one TensorImpl passed twice) reads it too."""
    for u in cg.graph.inputs:
        nu = cg.names.get(u)
        if u is not v and u in cg.objs and nu not in (None, expr) and nu.isidentifier():
            cg.emit(f"if {cg.obj(u)} is {o}: {nu} = {expr}")


def rebind_written(cg, w, new, op):
    """Tensor value w was written by a call that may have given it a new array `new` (an
    out= resize, an in-place view's restride): the variable of w (and its Tensor object,
    when the code has it) take the new array. A tensor the code holds only as an array
    that others may see too (an element of a container argument or of a local list, an
    object's attribute) cannot follow: CodeGenError (the executor then runs the graph op
    by op, which keeps every Tensor object)."""
    name = cg.names.get(w)
    local = name is not None and name.isidentifier() and not name.startswith("_")
    o = cg.obj(w)
    if o is not None:
        if local:
            cg.emit(f"{name} = {o}._data")
        _same_object_inputs(cg, w, o, f"{o}._data")
        return
    if local and not cg.alias_db().is_contained(w):
        if name != new:
            cg.emit(f"{name} = {new}")
        return
    from .codegen import CodeGenError
    raise CodeGenError(f"{op.public_name} writes a tensor held in a container or "
                       f"object, which the array code cannot update in place")
