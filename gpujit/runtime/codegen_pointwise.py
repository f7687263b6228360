"""The pointwise lowering of the code generator (codegen_aten.py hands it a pointwise
aten node whose specs are known): what entry_codegen._gen_pointwise does at run time (device
join, type promotion, a Python int wrapped into a narrow compute type, operand casts, the
impl, result cast, broadcast and int-overflow guards, in-place write-back with eager's
overlap and read-only checks, the result's TensorIterator layout), decided here from the
operands' specs, so the line that remains is the impl call (or the NumPy function it is)
with only the casts the dtypes need. Returns False where it cannot decide: the node then
takes the fallback.
"""
from __future__ import annotations

import itertools

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu
from ..ops import registry as _reg
from ..ops.registry import scalar_kind
from .assume import NO_CONSTANT
from .codegen_calls import _NONE, _SAMPLE, _join_devices, _move, _call_expr, _bump_version
from .impl_facts import probe
from .profile import TensorSpec, ValueSpec


def _pointwise(cg, n, op, args):
    operands = [a for a in args if a.name in op.operands]
    aux = [a for a in args if a.type.is_tensor and a.name not in op.operands]
    dev = _join_devices([a.spec for a in operands + aux])
    if dev is None or len(n.outputs) != 1:
        return False
    options = []
    for a in operands:
        s = a.spec
        if isinstance(s, TensorSpec):
            if s.ndim is None:
                options.append([(s.dtype, _dt.DIM), (s.dtype, _dt.ZERO_DIM)])
            else:
                options.append([(s.dtype, _dt.ZERO_DIM if s.ndim == 0 else _dt.DIM)])
        elif isinstance(s, ValueSpec) and s.pytype is _NONE and a.type.optional:
            continue
        elif isinstance(s, ValueSpec) and s.pytype in (int, float, bool):
            options.append([scalar_kind(_SAMPLE[s.pytype])])
        else:
            return False
    extras = [a for a in args if a.name not in op.operands]
    if callable(op.promote) and any(a.const is NO_CONSTANT for a in extras):
        return False
    try:
        found = {op.compute_types(tuple(kinds), *[a.const for a in extras])
                 if callable(op.promote) else op.compute_types(tuple(kinds))
                 for kinds in itertools.product(*options)}
    except Exception:        # an unsupported dtype: the fallback raises eager's error
        return False
    if len(found) != 1:      # promotion depends on a rank the profile does not fix
        return False
    ct, ot = found.pop()
    inplace = op.inplace_of is not None
    if inplace:
        sd = operands[0].spec.dtype if isinstance(operands[0].spec, TensorSpec) else None
        if sd is None or (ot is not sd and (op.inplace_exact_dtype
                                            or not _dt.can_cast(ot, sd))):
            return False

    if ct.np in _reg._NARROW:
        # a Python int operand wraps into a narrow integer compute type, as in eager (or
        # is range-checked: OpDef.checked_scalars; a constant out of range takes the
        # fallback, whose eager call raises PyTorch's error)
        for a in operands:
            if op.number_args.get(a.name) == "weak":
                continue           # (pow's exponent: as entry_codegen, not wrapped)
            if isinstance(a.spec, ValueSpec) and a.spec.pytype is int:
                checked = a.name in op.checked_scalars
                if a.const is NO_CONSTANT:
                    fn = _reg.checked_int if checked else _reg._wrap_int
                    a.expr = (f"{cg.bind(fn, 'checked_int' if checked else 'wrap_int')}"
                              f"({a.expr}, {cg.bind_np_dtype(ct)})")
                elif not isinstance(a.const, bool):
                    try:
                        a.const = (_reg.checked_int if checked else _reg._wrap_int)(
                            a.const, ct.np)
                    except RuntimeError:
                        return False
                    a.expr = repr(a.const)
    if op.checked_floats:
        # a float (an int, for float16) PyTorch converts checked (threshold(u8, v, 1.0),
        # clamp(h, min=1e6)): a constant out of range takes the fallback, whose eager call
        # raises; one known at run time is checked on the line (registry.checked_number)
        for a in args:
            if a.name not in op.checked_floats or not isinstance(a.spec, ValueSpec) or \
                    a.spec.pytype not in (int, float):
                continue
            if a.const is NO_CONSTANT:
                a.expr = (f"{cg.bind(_reg.checked_number, 'checked_number')}("
                          f"{cg.bind(op, 'op')}, {a.name!r}, {a.expr}, {cg.bind_np_dtype(ot)})")
            elif not isinstance(a.const, bool):
                try:
                    _reg.checked_number(op, a.name, a.const, ot.np)
                except RuntimeError:
                    return False
    exprs, probe_args, tensors, int_operands = {}, [], [], []
    overflow_consts, can_probe = False, True
    for a in args:
        s = a.spec
        is_const = a.const is not NO_CONSTANT
        if isinstance(s, TensorSpec):
            e = a.expr if s.device is dev else _move(cg, a.expr, dev)
            if a.name in op.operands and a.name not in op.own_dtype:
                if s.dtype is not ct:
                    e = f"{e}.astype({cg.bind_np_dtype(ct)})"
                probe_args.append(("tensor", ct.np, s.ndim))
            else:
                probe_args.append(("tensor", s.dtype.np, s.ndim))
            tensors.append((a.expr, s))
        elif a.name in op.operands and s.pytype in (int, float, bool):
            e = a.expr
            probe_args.append(("scalar", a.const if is_const else _SAMPLE[s.pytype], is_const))
            if s.pytype is int and ct.category != _dt.FLOATING and \
                    op.number_args.get(a.name) != "weak":
                int_operands.append(a)
                if is_const and not _fits(a.const, ct):
                    overflow_consts = True
        else:
            e = a.expr
            if is_const:
                probe_args.append(("value", a.const))
            elif isinstance(s, ValueSpec) and s.pytype in _SAMPLE:
                probe_args.append(("value", _SAMPLE[s.pytype]))
            else:
                can_probe = False
        exprs[a.name] = e

    retry = None
    if overflow_consts:
        # a Python int the compute dtype cannot hold: eager retries with int64 0-dim arrays
        for a in int_operands:
            exprs[a.name] = (cg.bind(np.asarray(a.const), f"k_{a.name}")
                             if a.const is not NO_CONSTANT else f"_asarray({a.expr})")
        can_probe = False
    elif any(a.const is NO_CONSTANT for a in int_operands):
        retry = dict(exprs)
        for a in int_operands:
            retry[a.name] = f"_asarray({a.expr})"

    pr = probe(op, ct.np, probe_args) if (dev is _cpu and can_probe) else None
    if pr is not None and retry is None:
        for a in operands:
            if a.name in pr.array_constants:
                exprs[a.name] = cg.bind(ct.np.type(a.const), f"k_{a.const}")
    raw = pr.raw_dtype if pr is not None else None

    call = _call_expr(cg, op, dev, args, exprs)
    out = n.output
    target = cg.new_var(out.debug_name + "_r") if inplace else cg.define(out)
    ranks = [s.ndim for _, s in tensors]
    # NumPy hands back a scalar when every operand is 0-dim: keep CPU tensors ndarrays
    zero_dim = dev is _cpu and bool(ranks) and all(r in (0, None) for r in ranks)
    ot_np = cg.bind_np_dtype(ot)
    guarded = sum(1 for r in ranks if r != 0) >= 2 or retry is not None
    if not guarded:
        expr = call if raw is None or raw == ot.np else f"{call}.astype({ot_np})"
        cg.emit(f"{target} = {f'_asarray({expr})' if zero_dim else expr}")
    else:
        opname = cg.bind(op, f"op_{op.public_name}")
        cg.emit("try:")
        cg.emit(f"    {target} = {call}")
        if sum(1 for r in ranks if r != 0) >= 2:
            cg.emit("except ValueError as _exc:")
            arrays = ", ".join(e for e, _ in tensors)
            cg.emit(f"    raise _bcast({opname}, _exc, {arrays}) from None")
        if retry is not None:
            cg.emit("except OverflowError:       # a Python int out of the dtype's range")
            cg.emit(f"    {target} = {_call_expr(cg, op, dev, args, retry)}.astype({ot_np})")
        if zero_dim:
            cg.emit(f"{target} = _asarray({target})")
        if raw is not None and raw != ot.np:
            cg.emit(f"{target} = {target}.astype({ot_np})")
    if raw is None:
        cg.emit(f"if {target}.dtype != {ot_np}:")
        cg.emit(f"    {target} = {target}.astype({ot_np})")
    if not inplace:
        _iterator_layout(cg, op, args, target, dev)
    if inplace:
        self_arg = operands[0]
        se = self_arg.expr
        opname = cg.bind(op, f"op_{op.public_name}")
        others = [e for e, _ in tensors if e != se]
        # (masked_fill_) PyTorch writes into a self with internal overlap, with its
        # deprecation warning, only the elements it changes (registry.finish_inplace)
        deprecated = op.on_expanded == "deprecated"
        if deprecated:
            cg.emit(f"_overlap = {cg.bind(_reg.has_internal_overlap, 'has_internal_overlap')}"
                    f"({se})")
        elif dev is _cpu:
            # (CUDA tensors check internal overlap below, NumPy's read-only expand above)
            cg.emit(f"if {cg.bind(_reg.has_internal_overlap, 'has_internal_overlap')}({se}):")
            cg.emit(f"    raise {cg.bind(_reg.internal_overlap_error, 'overlap_error')}()")
        if others:
            # an input sharing part of self's memory: PyTorch's TensorIterator refuses it
            check = cg.bind(_reg.assert_no_partial_overlap, "assert_no_partial_overlap")
            cg.emit(f"{check}({se}, ({', '.join(others)},))")
        cg.emit(f"if {target}.shape != {se}.shape:")
        cg.emit(f"    raise _shape_error({opname}, {se}, {target})")
        if deprecated:
            cg.emit("if _overlap:")
            cg.emit(f"    {cg.bind(_reg.expanded_warning, 'expanded_warning')}"
                    f"({op.public_name!r})")
            cg.emit(f"    {cg.bind(_reg.write_changes, 'write_changes')}({se}, {target}"
                    f".astype({se}.dtype, copy=False), {op.public_name!r})")
            cg.emit("else:")
            cg.depth += 1
        if dev is _cpu:
            # a read-only view (an expanded input) refuses NumPy's write: eager's rules
            # (finish_inplace) decide, writing where PyTorch writes (a 0- or 1-element
            # expand) and raising PyTorch's internal-overlap error where it refuses
            writable = cg.bind(_reg.writable_target, "writable_target")
            cg.emit("try:")
            cg.emit(f"    _copyto({se}, {target}, casting='unsafe')")
            cg.emit("except ValueError:")
            cg.emit(f"    _copyto({writable}({se}, {op.public_name!r}), {target}, "
                    f"casting='unsafe')")
        else:
            overlap = cg.bind(_reg.has_internal_overlap, "has_internal_overlap")
            cg.emit(f"if {overlap}({se}):")
            cg.emit(f"    raise {cg.bind(_reg.internal_overlap_error, 'overlap_error')}()")
            cg.emit(f"{se}[...] = {target}")
        if deprecated:
            cg.depth -= 1
        cg.names[out] = se
        _bump_version(cg, self_arg.value, out)
    return True


def _iterator_layout(cg, op, args, target, dev):
    """Eager's layout of a pointwise result (entry_codegen._gen_pointwise): an operand not
    C-contiguous lays it out as PyTorch's TensorIterator does, not as NumPy's order="K"."""
    if op.contiguous_result or any(
            a.name in op.contiguous_numbers and isinstance(a.spec, ValueSpec) and
            a.spec.pytype in (int, float, bool) for a in args):
        from ..ops.memory_format import c_layout
        cg.emit(f"{target} = {cg.bind(c_layout, 'c_layout')}({cg.xp_name(dev)}, {target})")
        return
    if op.like_self and args and isinstance(args[0].spec, TensorSpec):
        from ..ops.memory_format import like_layout    # (registry.OpDef.like_self)
        cg.emit(f"{target} = {cg.bind(like_layout, 'like_layout')}({cg.xp_name(dev)}, "
                f"{target}, {args[0].expr})")
        return
    arrays, tensors = [], []
    for a in args:
        s = a.spec
        if isinstance(s, TensorSpec):
            arrays.append(a.expr)
            if s.ndim is None or s.ndim > 1:
                tensors.append(a.expr)
        elif a.name in op.operands and isinstance(s, ValueSpec) and \
                s.pytype in (int, float, bool) and a.name not in op.parameter_numbers:
            arrays.append("None")
    if not tensors or all(a.spec.ndim is not None and a.spec.ndim < 2 for a in args
                          if isinstance(a.spec, TensorSpec)):
        return          # (a result of rank < 2 is laid out as NumPy lays it out)
    from ..ops.memory_format import iterator_layout, size1_strides_c
    fn = cg.bind(iterator_layout, "iter_layout")
    c1 = cg.bind(size1_strides_c, "size1_c")
    # (NumPy calls an array without elements C-contiguous: eager lays an empty result out
    # by its operands' strides all the same; and one with strides C order would not give
    # its dims of size 1, which TensorIterator orders dims by too)
    cg.emit(f"if not ({' and '.join(f'{e}.flags.c_contiguous and {e}.size and (1 not in {e}.shape or {c1}({e}))' for e in tensors)}):")
    cg.emit(f"    {target} = {fn}({cg.xp_name(dev)}, {target}, ({', '.join(arrays)},))")


def _fits(value, ct):
    if isinstance(value, bool) or ct.category != _dt.INTEGRAL:
        return True
    info = np.iinfo(ct.np)
    return info.min <= value <= info.max
