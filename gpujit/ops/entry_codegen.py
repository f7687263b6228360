"""Code generation of the registry's eager entry points: for each OpDef, the Python source
of its `public` function (the hook check first) and its `eager` one (no hook, every
argument positional, in schema order), compiled once (ops/codecache.py) and set on the
OpDef by `build_entry_points`, which registry.register calls. Pointwise ops get
`_gen_pointwise` (device join, cached type promotion, Python-int wrapping into narrow
integer dtypes, TensorIterator's result layout, in-place finishing); every other op
`_gen_generic` (unwrap Tensor / Tensor[] arguments, resolve Device / ScalarType, wrap the
results per the schema's returns). The helpers the generated code calls (wrap,
unwrap_for, the device joins, broadcast_error, finish_inplace ...) stay in registry.py.
"""
from __future__ import annotations

import linecache
import re

import numpy as np

from .. import dtypes as _dt
from .._dump import dumping as _dumping
from ..device import device as _device_type
from ..device import cpu as _cpu, xp_for as _xp_for, DEFAULT_FACTORY_DEVICE as _DEFDEV, \
    default_device as _default_device, device_of_array as _device_of_array
from . import registry as _r
from .number_operands import numbers_as_tensors as _numbers_as_tensors, \
    numbers_only_call as _numbers_only_call


def _writes_an_argument(schema):
    """Whether an op writes one of its arguments (in-place, out=, Tensor(a!) anywhere)."""
    return schema.is_inplace or any(getattr(a.type, "is_write", False)
                                    for a in schema.arguments)


def _quiet(impl, xp, *args):
    """impl(xp, *args) with NumPy's floating-point warnings off (an entry point's retry
    after a user's warning filter made one an exception: PyTorch computes silently)."""
    with np.errstate(all="ignore"):
        return impl(xp, *args)


def _py_default(name, arg, consts):
    """`name=<literal>` when the default prints as a Python literal, else a bound constant."""
    if not arg.has_default:
        return name
    v = arg.default
    finite_float = isinstance(v, float) and v == v and abs(v) != float("inf")
    if v is None or isinstance(v, (bool, int, str)) or finite_float:
        return f"{name}={v!r}"
    consts[f"_d_{name}"] = v
    return f"{name}=_d_{name}"


def _signature(schema, consts, kwarg_only=True, reflected=False):
    """The Python signature of an entry point. The public one keeps the schema's `*`;
    `eager` takes every argument positionally, in schema order (what the hook passes).
    `reflected`: the first two parameters swapped (a reflected operator's, x.__rsub__(2)
    is rsub(x, 2) but x.__rtruediv__(2) is div(2, x): its code names them as the schema)."""
    parts, star = [], False
    for a in schema.arguments:
        if kwarg_only and a.kwarg_only and not star:
            parts.append("*")
            star = True
        parts.append(_py_default(a.name, a, consts))
    if reflected:
        assert not any(a.kwarg_only or a.has_default for a in schema.arguments[:2])
        parts[0], parts[1] = parts[1], parts[0]
    return ", ".join(parts)


_NUMBER_BASES = ("int", "SymInt", "float", "Scalar", "complex")


def _number_args(op, skip=()):
    """Lines converting a Tensor given for a number parameter (int / float / Scalar, int[]
    elements) to its Python number, as PyTorch's argument parser does (a 0-dim Tensor's
    .item()), and a NumPy scalar given for a float / Scalar / complex one to its Python
    number. The fast test first: a Python number (or None) is one set lookup of its type,
    a tuple or list of Python ints one loop; anything else goes to registry.number_arg /
    tensor_int_list, which do the isinstance tests (a NumPy scalar, a Tensor, an int
    subclass) and raise PyTorch's errors."""
    s = op.schema
    L = []
    for i, a in enumerate(s.arguments):
        t, n = a.type, a.name
        if n in skip or t.base not in _NUMBER_BASES:
            continue
        if not t.is_list:
            npy = t.base in ("Scalar", "float", "complex")
            # (an int parameter's set leaves bool out: PyTorch's parser refuses it there,
            # x.select(True, 0), and number_arg raises its TypeError)
            pyn = "_PYI" if t.base in ("int", "SymInt") else "_PYN"
            if not t.optional:      # (None too goes to number_arg: its TypeError)
                pyn += "N"
            L.append(f"    if {n}.__class__ not in {pyn}: {n} = _numarg(_op, {i}, {n}, {npy})")
            if t.base == "Scalar":
                # (an int past int64 and uint64: PyTorch's parser OverflowError)
                L.append(f"    elif {n}.__class__ is int and not -9223372036854775808 <= {n} "
                         f"<= 18446744073709551615: raise _bigsc({n})")
            elif t.base in ("int", "SymInt"):
                # (past int64: PyTorch's parser ValueError, x.select(0, 2**70) was an IndexError)
                L.append(f"    elif {n}.__class__ is int and not -9223372036854775808 <= {n} "
                         f"<= 9223372036854775807: raise _ovfll()")
        elif t.base in ("int", "SymInt"):
            # (a bare int for an unsized int[] is PyTorch's TypeError: _tlist raises it)
            ind = "    "
            if _r.int_list_takes_int(op, a):        # (an int: as it is)
                # (None for one without a default goes to _tlist too: torch.roll(x, None);
                # PyTorch's parser reads None as the default, torch.amax(x, None))
                none = f" and {n} is not None" if t.optional or a.has_default else ""
                L.append(f"    if {n}.__class__ is int:")
                L.append(f"        if not -9223372036854775808 <= {n} <= 9223372036854775807: "
                         f"raise _ovfll()")     # (x.sum(2**70): PyTorch's ValueError)
                L.append(f"    elif True{none}:")
                ind = "        "
            L.append(f"{ind}if {n}.__class__ is tuple or {n}.__class__ is list:")
            L.append(f"{ind}    for _v in {n}:")
            # (an element past int64 too: _tlist's "failed to unpack" TypeError)
            L.append(f"{ind}        if _v.__class__ is not int or not -9223372036854775808 <= "
                     f"_v <= 9223372036854775807:")
            L.append(f"{ind}            {n} = _tlist(_op, {i}, {n})")
            L.append(f"{ind}            break")
            # (None for an int[] that takes none: _tlist's TypeError, torch.flip(x, None))
            L.append(f"{ind}else:" if ind != "    " or not (t.optional or a.default_text ==
                                                          "None") else f"    elif {n} is not None:")
            L.append(f"{ind}    {n} = _tlist(_op, {i}, {n})")
    return L


def _bool_args(op, skip=()):
    """Lines refusing a value that is no Python bool for a bool parameter, as PyTorch's
    parser (x.sum(0, 1), keepdim=np.bool_(1), keepdim=None: its TypeErrors; None where the
    parameter is Optional). In the public entry point only, before the hook: a graph's
    executor calls `eager` with the values a scripted program holds (a NumPy bool given
    for a bool input, which TorchScript's argument conversion takes)."""
    L = []
    for i, a in enumerate(op.schema.arguments):
        t, n = a.type, a.name
        if t.base == "bool" and not t.is_list and n not in skip:
            opt = f" and {n} is not None" if t.optional else ""
            L.append(f"    if {n}.__class__ is not bool{opt}: _boolarg(_op, {i}, {n})")
        elif t.base == "ScalarType" and not t.is_list:
            # (an int is TorchScript's code of a dtype, which graphs pass to `eager`; PyTorch's
            # parser refuses it (torch.zeros(2, dtype=5) was float16), a str or NumPy dtype
            # too, and reads Python's float / complex as float64 / complex128)
            # (the schema's own default passes: triu_indices' dtype=long, a str here)
            own = f" and {n} != {a.default!r}" if isinstance(a.default, str) else ""
            L.append(f"    if {n}.__class__ is not _DTC and {n} is not None{own}: "
                     f"{n} = _dtypearg(_op, {i}, {n})")
        elif t.base == "Layout" and not t.is_list:
            # (torch.ones(2, layout='strided') was taken: the parser's TypeError)
            L.append(f"    if {n}.__class__ is not _LAYC and {n} is not None: "
                     f"_typearg(_op, {i}, {n}, 'torch.layout')")
        elif t.base == "Device" and not t.is_list:
            # (a str or an index is a device; device=3.5 was 'Invalid device string')
            L.append(f"    if {n}.__class__ is not _DEVC and {n} is not None and {n}.__class__ "
                     f"is not str and {n}.__class__ is not int: "
                     f"_typearg(_op, {i}, {n}, 'torch.device')")
    return L


def _type_refused(op, n, v, want):
    """PyTorch's parser TypeError for v given for op's parameter n of type `want`."""
    raise TypeError(f"{_r._arg_where(op, n)} must be {want}, not {_r.type_name(v)}")


# ops whose body checks alpha first (pointwise._check_alpha: its words for a complex alpha)
_ALPHA_CHECKED = frozenset({"add", "sub", "rsub", "subtract"})


def _dtype_code_refused(op, n, v):
    """The dtype PyTorch's parser reads v, no gpujit.dtype, as for op's ScalarType
    parameter n (Python's bool / int / float / complex types), else its TypeError (an int
    code, a str, a NumPy dtype)."""
    d = _dt.python_type_dtype(v)
    if d is not None:
        return d
    raise TypeError(f"{_r._arg_where(op, n)} must be torch.dtype, not {_r.type_name(v)}")


def _hook_call(names):
    """The hook's call (autograd, tracer): its parser TypeErrors (from the no-hook entry
    point) renumbered for a method call by `_renum` (None in a function's globals)."""
    return ["        try:",
            f"            return _S.hook(_op, ({', '.join(names)}{',' if len(names) == 1 else ''}))",
            "        except TypeError as e:",
            "            if _renum is None: raise",
            "            raise _renum(_op, e) from None"]


def _gen_pointwise(op, fname, consts, inplace=False, hook=True):
    s = op.schema
    names = [a.name for a in s.arguments]
    operands = op.operands
    extras = [n for n in names if n not in operands]
    optional = {a.name for a in s.arguments if a.name in operands and a.type.optional}
    L = [f"def {fname}({_signature(s, consts, kwarg_only=hook)}):"]
    if hook:
        L.extend(_bool_args(op, skip=operands))
        L.append("    if _S.hook is not None:")
        L.extend(_hook_call(names))
    aux = [a.name for a in s.arguments if a.type.is_tensor and a.name not in operands]
    L.extend(_number_args(op, skip=operands))
    L.append("    dev = None")
    L.append("    try:")
    values = f"({', '.join(names)}{',' if len(names) == 1 else ''})"
    tensor_params = {a.name for a in s.arguments if a.type.base == "Tensor"}
    for k, n in enumerate(list(operands) + aux):
        L.append(f"        if isinstance({n}, _T):")
        # (registry._join_device inline where the device is the one so far: no call)
        if k == 0:
            L.append(f"            dev = {n}._device")
        else:
            L.append(f"            if dev is None or dev is {n}._device: dev = {n}._device")
            L.append(f"            else: dev = _join(_op, dev, {n})")
        if n in operands and (n in op.number_operands or n not in tensor_params):
            # a NumPy scalar: the Python number PyTorch's parser reads it as
            # (registry.numpy_number: x0 == np.float64(0.1) compares in float32); a
            # Python number passes one set lookup of its type
            L.append(f"        elif {n}.__class__ not in _PYN and isinstance({n}, _npn):")
            L.append(f"            {n} = _npnum({n})")
        # a Python number where PyTorch's overloads take none (logaddexp(x, 2)): its
        # TypeError (ops/number_operands.py); None where the parameter is Optional
        if n not in op.number_operands and n in tensor_params:
            cond = f"{n} is not None" if n in optional or n in aux else None
            L.append(f"        elif {cond}:" if cond else "        else:")
            L.append(f"            raise _not_tensor(_op, {values})")
    L.append("    except _Retry:")
    L.append(f"        dev = _opdev(_op, ({', '.join(list(operands) + aux)},))")
    L.append("    if dev is None:")
    if _numbers_as_tensors(s) and not inplace:
        # (torch.add(7, 2), torch.mul(x.item(), 0.5): PyTorch's parser makes its number a tensor)
        L.append(f"        return _numbers_call(_op, {values})")
    else:
        L.append(f"        raise _no_tensor(_op, {values})")
    kind_items = []
    numbers = [n for k, n in enumerate(operands) if (
        n in op.number_operands or n not in tensor_params) and not (inplace and k == 0)]
    for n in operands:
        opt = n in optional
        # (a Python int's or float's kind inline: registry.scalar_kind's first tests)
        # (an int from 2**63 up is PyTorch's uint64 Scalar: _sk's kind, which a bool
        # tensor does not promote with)
        sk = (f"_SKI if {n}.__class__ is int and {n} < 9223372036854775808 else "
              f"(_dtm._default_float, _SCALAR) if "
              f"{n}.__class__ is float else ")
        # (where a number may stand, a 0-dim tensor's kind through _zkn: a wrapped number
        # raises, and the entry takes the number itself: registry.zero_dim_operand_kind)
        tk = (f"(({n}._dtype, False) if {n}._data.ndim else _zkn({n})) if isinstance({n}, _T) "
              f"else " if n in numbers else
              f"({n}._dtype, {n}._data.ndim == 0) if isinstance({n}, _T) else ")
        if opt:
            kind_items.append(f"({tk}{sk}(_sk({n}) if {n} is not None else None))")
        else:
            kind_items.append(f"({tk}{sk}_sk({n}))")
    # (a str / list where a Scalar operand may stand: _sk's TypeError becomes PyTorch's,
    # "add(): argument 'other' (position 2) must be Tensor, not str")
    L.append("    try:")
    L.append(f"        kinds = ({', '.join(kind_items)},)")
    if numbers:
        L.append("    except _WrappedOperand:")
        for n in numbers:
            L.append(f"        {n} = _unwn({n})")
        L.append(f"        kinds = ({', '.join(kind_items)},)")
    L.append("    except TypeError:")
    L.append(f"        _e = _not_tensor(_op, {values})")
    L.append("        if _e is None: raise")
    L.append("        raise _e from None")
    if optional:
        L.append("    kinds = tuple(k for k in kinds if k is not None)")
    ex = ", ".join(extras)
    if callable(op.promote):
        L.append(f"    ct, ot = _op.compute_types(kinds{', ' if ex else ''}{ex})")
    else:
        # (a dtype the op refuses: its shape error first, its kernel's words:
        # registry.dtype_refused; results are cached, errors never)
        L.append("    r = _cache.get(kinds)")
        L.append("    if r is None:")
        L.append("        try:")
        L.append("            r = _op.compute_types(kinds)")
        L.append("        except _UDE as e:")
        L.append(f"            raise _dtype_refused(_op, e, dev, ({', '.join(operands)},)) "
                 "from None")
        L.append("    ct, ot = r")
    L.append("    npt = ct.np")
    lay_out = not inplace and not op.contiguous_result
    if lay_out:
        # an operand not C-contiguous: the result is laid out as PyTorch's TensorIterator
        # lays it out (memory_format.iterator_layout), not as NumPy's order="K" (a 1-D
        # operand next to C-contiguous ones orders no dims: C order, as NumPy's)
        L.append("    lay = False")
    for n in operands:
        L.append(f"    if isinstance({n}, _T):")
        L.append(f"        a_{n} = {n}._data if {n}._device is dev else _unwrap_for({n}, dev)")
        if lay_out:
            # (NumPy calls every array without elements C-contiguous; PyTorch lays out
            # an empty result by its operands' strides all the same)
            # (nor one whose dims of size 1 have strides C order would not give them:
            # TensorIterator orders dims by those too, memory_format.size1_strides_c)
            L.append(f"        if a_{n}.ndim > 1 and not (a_{n}.flags.c_contiguous and "
                     f"a_{n}.size and (1 not in a_{n}.shape or _size1_c(a_{n}))):")
            L.append("            lay = True")
        if n not in op.own_dtype:      # (OpDef.own_dtype: the impl casts it)
            L.append(f"        if a_{n}.dtype != npt:")
            L.append(f"            a_{n} = a_{n}.astype(npt)")
        L.append("    else:")
        L.append(f"        a_{n} = {n}")
        if n in op.number_operands or n not in tensor_params:
            # (c10's checked conversion of a float, or of an int to float16, for the
            # numbers an op converts so: OpDef.checked_floats, set after this is built)
            L.append(f"        if (a_{n}.__class__ is float or ot is _DF16) and "
                     f"{n!r} in _op.checked_floats:")
            L.append(f"            _checkn(_op, {n!r}, a_{n}, ot.np)")
        # a Python int wraps into a narrower integer compute type (PyTorch: u8 > 300 is
        # u8 > 44, clamp(u8, min=-1) clamps at 255), as fused kernels convert it
        if op.number_args.get(n) == "weak":
            # (pow's exponent stays the Python int: PyTorch refuses a negative one for an
            # integer self before any cast, uint8 ** -3 too, which wrapping made 253); one
            # past int64 and uint64 is the parser's OverflowError (x ** 2**70 was 1)
            L.append(f"        if type(a_{n}) is int and not -9223372036854775808 <= a_{n} <= "
                     f"18446744073709551615: raise _bigsc(a_{n})")
            continue
        L.append(f"        if type(a_{n}) is int:")
        L.append("            if npt in _NARROW:")
        L.append(f"                a_{n} = (_checki if {n!r} in _op.checked_scalars else "
                 f"_wrapi)(a_{n}, npt)")
        # (past int64: PyTorch's parser makes it a uint64 Scalar, or refuses it)
        L.append(f"            elif not -9223372036854775808 <= a_{n} <= 9223372036854775807:")
        L.append(f"                a_{n} = _bigint(_op, {n!r}, a_{n}, npt)")
    for a in s.arguments:
        if a.type.base == "Scalar" and a.name not in operands and a.name in names:
            # (a Scalar the impl takes as it is, alpha / lambd: c10's checked conversion
            # of a float, or of an int to float16, OpDef.checked_floats)
            n = a.name
            L.append(f"    if ({n}.__class__ is float or ot is _DF16) and "
                     f"{n!r} in _op.checked_floats:")
            L.append(f"        _checkn(_op, {n!r}, {n}, ot.np)")
            # (a complex one for a real result: c10's checked conversion refuses its
            # imaginary part; threshold(x, 1j, 2), elu(x, 1j) computed without it. add's
            # and sub's alpha have their own check first, in the body)
            if not (n == "alpha" and s.base_name.rstrip("_") in _ALPHA_CHECKED):
                L.append(f"    elif {n}.__class__ is complex and {n}.imag and not ot.cplx:")
                L.append("        raise _ovf(ot.np)")
    for n in aux:
        L.append(f"    a_{n} = ({n}._data if {n}._device is dev else _unwrap_for({n}, dev))"
                 f" if isinstance({n}, _T) else {n}")
    if lay_out:
        for n in aux:
            L.append(f"    if isinstance({n}, _T) and a_{n}.ndim > 1 and "
                     f"not (a_{n}.flags.c_contiguous and a_{n}.size):")
            L.append("        lay = True")
    # (a meta tensor's call: its meta rule, gpujit/_meta.py; on the branch a device that
    # is not the CPU takes anyway, so that a CPU call pays nothing)
    L.append("    if dev is _cpu: xp = _np")
    L.append(f"    elif dev is _META: return _metacall(_op, {values})")
    L.append("    else: xp = _xp_for(dev)")
    if op.takes_bf16:
        # (TensorIterator casts the operands to bfloat16 first, ATen's opmath scalars and
        # add's alpha aside: bfloat16_support.operands)
        ops_ = ", ".join(operands) + ("," if len(operands) == 1 else "")
        arrs = ", ".join(f"a_{n}" for n in operands) + ("," if len(operands) == 1 else "")
        L.append("    if ct is _BF:")
        L.append(f"        ({arrs}) = _bfops(_op, dev, ({ops_}), ({arrs}))")
        if "alpha" in names and len(operands) == 2 and op.name.split(".")[0].rstrip("_") in (
                "aten::add", "aten::sub"):
            L.append(f"        if type(alpha) is not int or alpha != 1: a_{operands[1]}, alpha = "
                     f"_bfalpha(dev, a_{operands[1]}, alpha)")
    call_args = ", ".join(f"a_{n}" if n in operands or n in aux else n for n in names)
    L.append("    try:")
    L.append(f"        r = _impl(xp, {call_args})")
    L.append("    except ValueError as e:")
    tensor_args = [n for n in names if n in operands or n in aux]    # (schema order)
    L.append(f"        raise _bcast_err(_op, ({', '.join(tensor_args)},), e) from None")
    L.append("    except TypeError:")       # (alpha="a": PyTorch's parser TypeError)
    L.append(f"        _e = _argtypes(_op, {values})")
    L.append("        if _e is None: raise")
    L.append("        raise _e from None")
    # (a Python number for an operand whose impl reads it as an array (igamma(t, 2)):
    # PyTorch's TypeError, as _gen_generic's)
    L.append("    except AttributeError:")
    L.append(f"        _e = _not_tensor(_op, ({', '.join(names)}{',' if len(names) == 1 else ''}))")
    L.append("        if _e is None: raise")
    L.append("        raise _e from None")
    L.append("    except OverflowError:")
    # a Python int that does not fit the tensor's integer dtype wraps, as in PyTorch
    wrapped = ", ".join(f"(_np.asarray(a_{n}) if type(a_{n}) is int else a_{n})"
                        if n in operands else (f"a_{n}" if n in aux else n) for n in names)
    L.append(f"        r = _impl(xp, {wrapped})")
    # NumPy's floating-point warning made an exception by the user's warning filters
    # (simplefilter("error"), pytest -W error): computed again without it, as PyTorch
    # computes inf / nan silently (the impl writes no input: the result is written after)
    L.append("    except RuntimeWarning:")
    L.append(f"        r = _quiet(_impl, xp, {call_args})")
    L.append("    except MemoryError as e:")     # (NumPy's: PyTorch's allocator error)
    L.append("        raise _oom(e) from None")
    L.append("    if type(r) is not _nd and dev is _cpu:")
    L.append("        r = _np.asarray(r)")
    L.append("    if r.dtype != ot.np:")
    L.append("        r = r.astype(ot.np)")
    if op.takes_bf16:       # (computed in float32: rounded once)
        L.append("    if ot is _BF: r = _bfr(xp, r)")
    if not inplace and _returns_input(op):  # (positive: PyTorch hands back its input)
        L.append(f"    if isinstance({names[0]}, _T) and r is {names[0]}._data and "
                 f"_S.tracing is None:")
        L.append(f"        return {names[0]}")
    if inplace:
        others = [n for n in names[1:] if n in operands or n in aux]
        if others:
            ins = ", ".join(f"({n}._data if isinstance({n}, _T) else None)" for n in others)
            L.append(f"    return _finish_inplace(_op, {names[0]}, r, ot, ({ins},))")
        else:
            L.append(f"    return _finish_inplace(_op, {names[0]}, r, ot)")
    elif op.like_self and names and names[0] in operands:
        # (PyTorch's result is empty_like(self): registry.OpDef.like_self)
        L.append(f"    r = _like(xp, r, {names[0]}._data)")
        L.append("    " + _r.wrap_statements("_t", "r", "ot", "dev"))
        L.append("    return _t")
    elif op.contiguous_result:
        L.append("    r = _c_layout(xp, r)")
        L.append("    " + _r.wrap_statements("_t", "r", "ot", "dev"))
        L.append("    return _t")
    else:
        allt = [n for n in names if n in operands or n in aux]     # (torch's order)
        pn = set(op.parameter_numbers)      # (a number there: no operand, registry.OpDef)
        cn = [n for n in op.contiguous_numbers if n in operands]
        if cn:      # (a Python number there: C-contiguous, registry.OpDef)
            L.append("    if " + " or ".join(f"not isinstance({n}, _T)" for n in cn) + ":")
            L.append("        r = _c_layout(xp, r)")
            L.append("    elif lay:")
        else:
            L.append("    if lay:")
        if any(n in optional for n in allt):
            L.append("        arrays = []")
            for n in allt:
                ind = "        "
                if n in optional:                # (None: no operand)
                    L.append(f"        if {n} is not None:")
                    ind += "    "
                if n in pn:
                    L.append(f"{ind}if isinstance({n}, _T):")
                    ind += "    "
                L.append(f"{ind}arrays.append({n}._data if isinstance({n}, _T) else None)")
            L.append("        r = _iter_layout(xp, r, arrays)")
        elif pn.intersection(allt):
            L.append("        r = _iter_layout(xp, r, [a for a in ("
                     + ", ".join(f"({n}._data if isinstance({n}, _T) else "
                                 f"{'_UNCHANGED' if n in pn else 'None'})" for n in allt)
                     + ") if a is not _UNCHANGED])")
        else:
            arrays = ", ".join(f"({n}._data if isinstance({n}, _T) else None)" for n in allt)
            L.append(f"        r = _iter_layout(xp, r, ({arrays},))")
        L.append("    " + _r.wrap_statements("_t", "r", "ot", "dev"))      # (registry.wrap, inline: one call less)
        L.append("    return _t")
    return "\n".join(L)


def _gen_generic(op, fname, consts, hook=None):
    """Unwrap Tensor / Tensor[] args, call the impl, wrap the results per the schema."""
    s = op.schema
    names = [a.name for a in s.arguments]
    hook = fname == "public" if hook is None else hook
    L = [f"def {fname}({_signature(s, consts, kwarg_only=hook)}):"]
    if hook:
        L.extend(_bool_args(op))
        L.append("    if _S.hook is not None:")
        L.extend(_hook_call(names))
    L.extend(_number_args(op))
    tensor_args = [a for a in s.arguments if a.type.base == "Tensor"]
    dev_arg = next((a.name for a in s.arguments if a.type.base == "Device"), None)
    from .scalar_ops import PYTHON_VALUED
    if op.name in PYTHON_VALUED:
        dev_arg = None      # a Device value (d == e, d.index): as it is, cpu:0 not cpu
    # (a non-Tensor where the schema takes one: the AttributeError it meets becomes PyTorch's
    # TypeError naming the argument; `try` costs nothing when nothing is raised)
    not_tensor = ["    except AttributeError:",
                  f"        _e = _not_tensor(_op, ({', '.join(names)}{',' if len(names) == 1 else ''}))",
                  "        if _e is None: raise",
                  "        raise _e from None"]
    if len(tensor_args) == 1 and tensor_args[0].type.is_tensor and not tensor_args[0].type.optional:
        n = tensor_args[0].name
        L.append("    try:")
        L.append(f"        dev = {n}._device")
        L.extend(not_tensor)
        L.append(f"    a_{n} = {n}._data")
    elif tensor_args:
        if op.cross_device == "indices":
            # self and values on one device; an index tensor may also be on the CPU (it
            # moves to self's device, as PyTorch's indexing allows)
            others = [a.name for a in tensor_args if a.name != "indices"]
            L.append(f"    dev = _opdev(_op, ({', '.join(others)},))")
            L.append("    _index_devices(_op, dev, indices)")
        elif op.cross_device:
            L.append(f"    dev = {tensor_args[0].name}._device")
        else:
            L.append(f"    dev = _opdev(_op, ({', '.join(a.name for a in tensor_args)},))")
        for a in tensor_args:
            n = a.name
            if op.cross_device == "keep" and a is not tensor_args[0]:
                # (aten::to.other: the other tensors stay on their devices)
                L.append(f"    a_{n} = {n}._data")
                continue
            if a.type.is_list:
                # a Tensor is iterable: as a Tensor[] it would be read row by row
                L.append(f"    if isinstance({n}, _T): raise _tensor_for_list(_op, "
                         f"{names.index(n)})")
                # (an element not a Tensor, an ndarray included: PyTorch's TypeError
                # "expected Tensor as element 1 in argument 0"; None in a Tensor?[])
                other = "None if _x is None else " if a.type.elem_optional else ""
                # (a value that is no sequence, torch.cat(1), x.index_put(None, v): PyTorch's
                # "argument 'tensors' (position 1) must be tuple of Tensors, not int")
                # (a loop, not a comprehension: no frame; a Tensor on dev is its array)
                vals = f"({', '.join(names)}{',' if len(names) == 1 else ''})"
                ind = "        "
                L.append("    try:")
                if a.type.optional:
                    L.append(f"        a_{n} = None")
                    L.append(f"        if {n} is not None:")
                    ind += "    "
                L.append(f"{ind}a_{n} = []")
                L.append(f"{ind}for _x in {n}:")
                L.append(f"{ind}    if isinstance(_x, _T):")
                L.append(f"{ind}        a_{n}.append(_x._data if _x._device is dev else "
                         f"_unwrap_for(_x, dev))")
                L.append(f"{ind}    else:")
                L.append(f"{ind}        a_{n}.append({other}_lref(_op, {vals}))")
                L.append("    except TypeError:")
                L.append(f"        _e = _not_tensor(_op, ({', '.join(names)}{',' if len(names) == 1 else ''}))")
                L.append("        if _e is None: raise")
                L.append("        raise _e from None")
            elif n in op.number_operands:
                # (a number as it is; anything else PyTorch's TypeError: x.copy_("2") and
                # x.copy_([1.5, 2]) went into the body, np.asarray(v, int64))
                L.append(f"    a_{n} = _unwrap_for({n}, dev) if isinstance({n}, _T) else "
                         f"{n} if {n}.__class__ in _PYN else _refused(_op, {names.index(n)}, "
                         f"({', '.join(names)}{',' if len(names) == 1 else ''}))")
            else:       # (a Python number: PyTorch's TypeError; ops/number_operands.py)
                L.append(f"    a_{n} = _unwrap_for({n}, dev) if isinstance({n}, _T) else "
                         f"_refused(_op, {names.index(n)}, "
                         f"({', '.join(names)}{',' if len(names) == 1 else ''}))")
    else:
        L.append("    dev = None")
    if dev_arg:
        L.append(f"    if {dev_arg} is not None:")
        L.append(f"        {dev_arg} = _resolve({dev_arg})")
        L.append(f"        dev = {dev_arg}")
    L.extend(_limited_test(op, tensor_args))
    refusals = []
    if not op.takes_complex:
        refusals += _complex_refusal(tensor_args, [a.name for a in s.arguments
                                                   if a.type.base == "Scalar"
                                                   and not a.type.is_list])
    if not op.takes_unsigned:
        refusals += _unsigned_refusal(tensor_args)
    L.extend(_guarded(refusals))
    if op.takes_unsigned:
        from .unsigned_support import CONDITIONS
        if op.name in CONDITIONS:   # (refused or not by the arguments: flip, matmul)
            t = [a.name for a in tensor_args if not a.type.is_list]
            # (the first unsigned one, in one expression: matmul and index_put_ are hot;
            # looked for only where _lm)
            L.append("    _u = (" + " else ".join(f"{n} if isinstance({n}, _T) and {n}._dtype "
                                                  f"in _UNS" for n in t) +
                     " else None) if _lm else None" if t else "    _u = None")
            for a in tensor_args:           # (a Tensor[] argument: einsum's operands)
                if a.type.is_list and a.name != "indices":
                    L.append(f"    if _u is None and {a.name} is not None: _u = next((_x for "
                             f"_x in {a.name} if isinstance(_x, _T) and _x._dtype in _UNS), "
                             f"None)")
            L.append("    if _u is not None:")
            L.append(f"        _k = _UNSC[_op.name]({', '.join(names)})")
            L.append("        if _k: raise _unsr(_op, _u, _k)")
    L.append("    if dev is None:")
    L.append("        dev = _defdev[0] and _defdev_here() or _cpu" if dev_arg
             else "        dev = _cpu")
    # (a meta tensor's call, or a factory's on the meta device: gpujit/_meta.py)
    L.append("    if dev is _cpu: xp = _np")
    L.append(f"    elif dev is _META: return _metacall(_op, "
             f"({', '.join(names)}{',' if len(names) == 1 else ''}))")
    L.append("    else: xp = _xp_for(dev)")
    for a in s.arguments:
        if a.type.base == "ScalarType":
            L.append(f"    if {a.name} is not None: {a.name} = _to_dtype({a.name})")
            from .bfloat16_support import DEFAULT_DTYPE_FACTORIES
            if op.name in DEFAULT_DTYPE_FACTORIES:      # (bfloat16 as the default dtype)
                L.append(f"    elif _dtm._default_float is _BF and _bfdef(_op, ({', '.join(names)},)):"
                         f" {a.name} = _BF")
            if not op.takes_complex:
                L.append(f"    if {a.name} is not None and {a.name}.cplx: "
                         f"raise _cxr(_op, {a.name})")
            from .unsigned_support import NO_UNSIGNED_DTYPE_ARG
            k = NO_UNSIGNED_DTYPE_ARG.get(op.name.split(".")[0])
            if not op.takes_unsigned or k:
                L.append(f"    if {a.name} in _UNS: raise _unsr(_op, {a.name}, {k!r})")
        elif a.type.base == "Layout":       # (a sparse one: sparse_refusals.sparse_factory)
            L.append(f"    if {a.name} is not None and {a.name} in _SPARSE: "
                     f"return _no_layout(_op, ({', '.join(names)},), dev)")
    L.extend(_bf16_lines(op, tensor_args))
    call_args = ", ".join(f"a_{a.name}" if a.type.base == "Tensor" else a.name
                          for a in s.arguments)
    checked = s.is_inplace and "inplace_view" not in op.tags and op.on_expanded != "own" \
        and tensor_args \
        and tensor_args[0].name == names[0] and not tensor_args[0].type.is_list
    if checked:     # a self whose elements share memory (expand): ops/overlap.py
        n = names[0]
        L.append("    _whole = None")
        # (not when the op leaves self as it is: dropout_ with p == 0 returns first)
        L.append(f"    if 0 in a_{n}.strides and _ovl(a_{n}) and not (_op.unchanged_when "
                 f"is not None and _op.unchanged_when({', '.join(names)})):")
        L.append(f"        _whole = a_{n}")
        L.append(f"        a_{n} = _expanded(_op, a_{n})")
        # (a read-only NumPy view of an expanded tensor without overlap, x.expand(3, 4)[0]:
        # PyTorch writes it)
        L.append(f"    elif type(a_{n}) is _nd and not a_{n}.flags.writeable:")
        L.append(f"        a_{n} = _writable(a_{n}, {op.public_name!r})")
    # NumPy's broadcast ValueError inside a body (a bias that does not fit, a 0-size operand
    # against a bigger one) in PyTorch's words and class: a RuntimeError
    L.append("    try:")
    L.append(f"        r = _impl(xp, {call_args})")
    # (a str / float / list where the schema takes an int or a bool fails somewhere in
    # the body: PyTorch's parser TypeError naming the argument, found only then)
    vals = f"({', '.join(names)}{',' if len(names) == 1 else ''})"
    L.append("    except (TypeError, ValueError) as e:")
    L.append(f"        e2 = _argtypes(_op, {vals})")
    L.append("        if e2 is not None: raise e2 from None")
    L.append("        if type(e) is TypeError: raise")
    L.append(f"        e2 = _np_bcast(e, _op, {vals})")
    L.append("        if e2 is e: raise")
    L.append("        raise e2 from None")
    if tensor_args:
        L.extend(not_tensor)
    if not _writes_an_argument(s):
        # (as the pointwise entry's: a floating-point warning the user's filters made an
        # exception is computed again silently; not for an op that writes an argument,
        # which may have written part of it)
        L.append("    except RuntimeWarning:")
        L.append(f"        r = _quiet(_impl, xp, {call_args})")
    # (NumPy's MemoryError, torch.empty(2**40): PyTorch's allocator RuntimeError)
    L.append("    except MemoryError as e:")
    L.append("        raise _oom(e) from None")
    if op.cross_device == "keep":
        # (aten::to.other: the result is on other's device, not self's)
        L.append("    dev = _devof(r)")
    if checked:
        L.append("    if _whole is not None and _op.on_expanded == 'changes':")
        L.append(f"        _changes(_whole, r, {s.name.split('::')[-1]!r})")
    if op.takes_bf16:
        written = [a.name for a in s.arguments if a.type.is_write and a.type.base == "Tensor"
                   and not a.type.is_list]
        for w in written:
            L.append(f"    if _bfm and isinstance({w}, _T) and {w}._dtype is _BF: _bfw({w}._data)")
    rets = s.returns
    if s.is_inplace:    # an impl that wrote nothing returns UNCHANGED: no new version
        L.append(f"    if r is _UNCHANGED: return {names[0]}")
        if "inplace_view" in op.tags:     # t_, squeeze_: self becomes the impl's view
            # (resize_ to self's own sizes hands back self's array: PyTorch counts no write)
            L.append(f"    if r is a_{names[0]}: return {names[0]}")
            L.append(f"    {names[0]}._data = r")
        L.append(f"    {names[0]}._vc[0] += 1")
    # PyTorch's reductions, scans and softmaxes return C-contiguous results whatever the
    # input's layout (NumPy's keep the order of the input's dims)
    c = op.contiguous_result
    ret = _bf16_ret(op, tensor_args) if op.takes_bf16 else "    return {}".format
    if len(rets) == 1 and _takes_requires_grad(s):
        # a factory's `bool requires_grad` (aten::tensor): the result requires grad
        L.append("    r = " + _wrap_ret(rets[0], "r", s, names, c))
        if op.takes_bf16:
            L.append(ret("r").replace("return ", "r = ", 1))
        L.append("    return r._factory_requires_grad() if requires_grad else r")
    elif len(rets) == 1:
        L.append(ret(_wrap_ret(rets[0], "r", s, names, c, _returns_input(op),
                               _unannotated_view(op))))
    elif len(rets) == 0:
        L.append("    return None")
    else:
        items = [_wrap_ret(rt, f"r[{i}]", s, names, c) for i, rt in enumerate(rets)]
        if "undefined_results" in op.tags:
            # an undefined Tensor result (aten::_native_multi_head_attention's weights when
            # not asked for) is None, as PyTorch's Python binding gives it
            items = [f"(None if r[{i}] is None else {e})" for i, e in enumerate(items)]
        items = ", ".join(items)
        if op.namedtuple is not None:
            L.append(ret(f"_nt({items})"))
        else:
            L.append(ret(f"({items},)"))
    return "\n".join(L)


def _limited_test(op, tensor_args):
    """One test per Tensor argument for the dtypes an op may not take as they come
    (complex, uint16/32/64 where it has not opted in; bfloat16 always: refused, or
    computed by the op's bfloat16 path): `_lm`, true when one of them holds such a
    tensor. The refusals below (their order, words and opt-in rules as before) and the
    bfloat16 tests run only then: one set lookup per argument instead of three tests
    (mm's entry point paid ~30-40 ns per test). Tensor[] arguments keep their loops."""
    single = [a.name for a in tensor_args if not a.type.is_list]
    if not single:
        return []
    from .unsigned_support import CONDITIONS
    lim = "_LIM_B" + ("" if op.takes_complex else "C") + (
        "" if op.takes_unsigned and op.name not in CONDITIONS else "U")
    return ["    _lm = " + " or ".join(f"(isinstance({n}, _T) and {n}._dtype in {lim})"
                                       for n in single)]


def _limited_sets():
    """_limited_test's sets by name: bfloat16 (B), complex (C), uint16/32/64 (U)."""
    b, c, u = {_dt.bfloat16}, set(_dt.COMPLEX_TYPES), set(_dt.UNSIGNED_TYPES)
    return {"_LIM_B": frozenset(b), "_LIM_BC": frozenset(b | c), "_LIM_BU": frozenset(b | u),
            "_LIM_BCU": frozenset(b | c | u)}


def _guarded(lines):
    """(guarded, line) pairs -> lines, each run of guarded ones under `if _lm:`."""
    L, inside = [], False
    for g, line in lines:
        if g and not inside:
            L.append("    if _lm:")
        inside = g
        L.append("    " + line if g else line)
    return L


def _complex_refusal(tensor_args, scalars):
    """Lines refusing a complex Tensor or Scalar argument of an op that has not opted in to
    complex tensors (ops/complex_support.py): its body would compute it as a real one.
    (guarded, line) pairs for _guarded."""
    L = [(False, f"    if type({n}) is complex: raise _cxr(_op, "
                 "_dtm.get_default_complex_dtype())") for n in scalars]
    for a in tensor_args:
        n = a.name
        if a.type.is_list:
            L.append((False, f"    if a_{n} is not None:"))
            L.append((False, f"        for _x in a_{n}:"))
            L.append((False, "            if _x is not None and _x.dtype.kind == 'c': "
                             "raise _cxr(_op, _dtm.from_numpy_dtype(_x.dtype))"))
        else:
            L.append((True, f"    if isinstance({n}, _T) and {n}._dtype.cplx: "
                            f"raise _cxr(_op, {n})"))
    return L


def _unsigned_conditions():
    from .unsigned_support import CONDITIONS
    return CONDITIONS


def _unsigned_refusal(tensor_args):
    """Lines refusing a uint16 / uint32 / uint64 Tensor argument of an op that PyTorch does
    not compute on them (ops/unsigned_support.py), in its kernel's words. (guarded, line)
    pairs for _guarded."""
    L = []
    for a in tensor_args:
        n = a.name
        if a.type.is_list and n == "indices":
            continue        # (index tensors: the op's own IndexError, as PyTorch's)
        if a.type.is_list:
            L.append((False, f"    if a_{n} is not None:"))
            L.append((False, f"        for _x in a_{n}:"))
            L.append((False, "            if _x is not None and _x.dtype in _UNSNP: "
                             "raise _unsr(_op, _dtm.from_numpy_dtype(_x.dtype))"))
        else:
            L.append((True, f"    if isinstance({n}, _T) and {n}._dtype in _UNS: "
                            f"raise _unsr(_op, {n})"))
    return L


def _bf16_lines(op, tensor_args):
    """bfloat16 (ops/bfloat16_support.py) in a generic entry point: an op that has not
    opted in refuses a bfloat16 Tensor, Tensor[] element or dtype=; one that has sets
    `_bfm` (a bfloat16 operand or dtype=) for _bf16_ret and the in-place rounding."""
    s = op.schema
    dtype_args = [a.name for a in s.arguments if a.type.base == "ScalarType"]
    conds, pre, single = [], [], []
    for a in tensor_args:
        n = a.name
        if not a.type.is_list:      # (only where _lm: _limited_test)
            single.append(f"(isinstance({n}, _T) and {n}._dtype is _BF)")
        elif a.type.is_list:
            # (a loop, not any([...]): a comprehension is a Python frame per call of cat)
            pre += [f"    _bfl_{n} = False",
                    f"    if {n} is not None:",
                    f"        for _x in {n}:",
                    "            if isinstance(_x, _T) and _x._dtype is _BF:",
                    f"                _bfl_{n} = True",
                    "                break"]
            conds.append(f"_bfl_{n}")
    if single:
        conds.insert(0, f"(_lm and ({' or '.join(single)}))" if len(single) > 1
                     else f"(_lm and {single[0]})")
    conds += [f"{n} is _BF" for n in dtype_args]
    if op.takes_bf16:
        L = pre + [f"    _bfm = {' or '.join(conds) if conds else 'False'}"]
        if op.bf16_impl is not None:
            names = ", ".join(a.name for a in s.arguments)
            L.append("    if _bfm:")
            L.append(f"        _r = _op.bf16_impl({names})")
            L.append("        if _r is not NotImplemented: return _r")
        return L
    return pre + [f"    if {c}: raise _bfx(_op)" for c in conds]


def _bf16_ret(op, tensor_args):
    """The return line of a generic entry point of an op that takes bfloat16: its result
    through bfloat16_support.finish when _bfm."""
    dtype_args = [a.name for a in op.schema.arguments if a.type.base == "ScalarType"]
    tensors = "".join(f"{a.name}, " for a in tensor_args)
    explicit = dtype_args[0] if dtype_args else "None"
    return (lambda e: f"    return _bff({e}, ({tensors}), {explicit}) if _bfm else {e}")


def _takes_requires_grad(s) -> bool:
    """Does the schema take a factory's `bool requires_grad` (aten::tensor) and return
    one Tensor? The entry point then makes its result require grad (the impl ignores it)."""
    return any(a.name == "requires_grad" and a.type.base == "bool" and not a.type.is_list
               for a in s.arguments) and len(s.returns) == 1 and s.returns[0].type.is_tensor


def _returns_input(op) -> bool:
    """Does op's one result alias its first argument without writing it (Tensor(a) ->
    Tensor(a), not a view op): contiguous, to, positive... hand back the input itself
    when nothing needed doing, and PyTorch returns the input Tensor then (in-place writes
    through views of either then reach the other's gradients). A view op tagged
    "returns_input" does too where PyTorch's does (flatten with start_dim == end_dim)."""
    rets, args = op.schema.returns, op.schema.arguments
    if "returns_input" in op.tags and "view" not in op.tags and len(rets) == 1 and args \
            and rets[0].type.alias is None and rets[0].type.is_tensor:
        return True     # (aten::dropout: its schema names no alias, ATen's early `return
        # input` when not training hands back the input all the same)
    return (len(rets) == 1 and rets[0].type.alias is not None and not rets[0].type.is_write
            and ("view" not in op.tags or "returns_input" in op.tags) and bool(args)
            and args[0].type.alias == rets[0].type.alias)


def _unannotated_view(op):
    """A view op whose schema, as PyTorch's, names no alias (atleast_Nd; broadcast_tensors
    and meshgrid, whose output i views input i): 'first' or 'per_input', else None. Its
    results are views all the same and share their input's version counter. 'untracked'
    for an op tagged "untracked_view" (unsafe_split, unsafe_chunk): its results share
    their input's memory, with their own version counters, and autograd never treats them
    as views (registry.wrap_untracked)."""
    if "untracked_view" in op.tags:
        return "untracked"
    if "view" not in op.tags or any(r.type.alias for r in op.schema.returns):
        return None
    return "per_input" if "output_per_input" in op.tags else "first"


def _aliases_first(rtype, s) -> bool:
    """Does a result of type rtype alias (without writing) the op's first argument?"""
    args = s.arguments
    return (rtype.alias is not None and not rtype.is_write and bool(args)
            and args[0].type.alias == rtype.alias)


def _wrap_ret(rt, expr, s, names, c_order=False, identity=False, view=None):
    t = rt.type
    if t.base == "Tensor" and not t.is_list:
        if t.alias and t.is_write:   # returns self (in-place / out=): the same Tensor object
            for a in s.arguments:
                if a.type.alias == t.alias:
                    return a.name
        n = names[0]
        if identity:
            # Tensor(a) -> Tensor(a), not a view op: the input itself when the impl handed
            # back its array (not while tracing: a trace keeps the input's value for its
            # later readers). View ops always make a new Tensor, as PyTorch's.
            other = f"_wrap_view({expr}, dev, {n})" if t.alias else f"_wrap_array({expr}, dev)"
            return (f"({n} if isinstance({n}, _T) and {expr} is {n}._data and "
                    f"_S.tracing is None else {other})")
        if view == "untracked":
            return f"_wrap_untracked({expr}, dev)"
        if view == "first" or _aliases_first(t, s):     # a view: shares the version
            if s.name == "aten::detach":                # counter of what it views (a
                return f"_wrap_view({expr}, dev, {n}, False)"   # detach: no autograd base)
            return f"_wrap_view({expr}, dev, {n})"
        if c_order:
            return f"_wrap_array(_c_layout(xp, {expr}), dev)"
        return f"_wrap_array({expr}, dev)"
    if t.base == "Tensor":
        if _aliases_first(t, s):     # split, unbind, chunk: views
            return f"tuple([_wrap_view(x, dev, {names[0]}) for x in {expr}])"
        if view == "per_input":
            return f"tuple([_wrap_view(x, dev, t) for x, t in zip({expr}, {names[0]})])"
        if view == "untracked":
            return f"tuple([_wrap_untracked(x, dev) for x in {expr}])"
        if c_order:     # (gradient's list: each C-contiguous)
            return f"tuple([_wrap_array(_c_layout(xp, x), dev) for x in {expr}])"
        return f"tuple([_wrap_array(x, dev) for x in {expr}])"   # torch returns tuples
    if t.base in ("int", "float", "bool", "Scalar"):
        return f"({expr}.item() if hasattr({expr}, 'item') else {expr})"
    return expr


def _sparse_catch(op, src):
    """src's body inside one `try` whose handler runs op's sparse kernel when an operand's
    dense array was read and was a sparse tensor's (_sparse_coo: its `_data` raises
    registry.SparseOperand for this op): torch.mm(s, d), d.add_(s), torch.addmm(d, s, d)
    ... With nothing raised the `try` costs nothing, so a dense call pays no check. An
    op without a sparse kernel re-raises PyTorch's NotImplementedError."""
    return _operand_catch(op, src, "_SpX")


def _operand_catch(op, src, exc):
    """src's body inside `try`, its handler (for the exception class bound to `exc` in the
    entry points' namespace) running _spcall on the operands where the exception is
    this op's."""
    head, body = src.split("\n", 1)
    names = ", ".join(a.name for a in op.schema.arguments)
    if len(op.schema.arguments) == 1:
        names += ","
    return "\n".join([head, "    try:"] + ["    " + ln for ln in body.split("\n")] + [
        f"    except {exc} as _e:",
        "        if _e.op is not _op: raise",
        f"        return _spcall(_e, ({names}))"])


def _float8_catch(op, src):
    """The eager entry point's body inside one `try` whose handler runs the op on a float8
    operand (ops/float8.py: its array read here raises Float8Operand for this op), as the
    public entry point's _sparse_catch does: autograd's recording and the interpreter call
    `op.eager`, so a float8 call recorded there is one node (ToCopyBackward0, ViewBackward0
    ... as PyTorch's autograd records float8 ops). Other sparse operands still leave it."""
    return _operand_catch(op, src, "_F8X")


_BASE_NS = None


def _base_namespace():
    """The names every generated entry point reads that do not depend on its op: built
    once (a copy per entry point costs ~1 µs; building it anew cost ~80 µs, 3000 times at
    import)."""
    global _BASE_NS
    if _BASE_NS is not None:
        return _BASE_NS
    from ..device import resolve
    from .memory_format import (iterator_layout as _iter_layout, c_layout as _c_layout,
                                size1_strides_c as _size1_c, like_layout as _like)
    from . import overlap as _overlap
    from .sparse_refusals import sparse_factory as _no_layout
    from .._meta import META as _META, meta_call as _metacall
    ns = dict(__name__=_r.GENERATED_ENTRY, _S=_r.dispatch_state,
              _META=_META, _metacall=_metacall,
              _T=_r._Tensor, _np=np, _nd=np.ndarray, _cpu=_cpu, _defdev=_DEFDEV,
              _defdev_here=_default_device,
              _xp_for=_xp_for, _join=_r._join_device, _Retry=_r._DevMismatchRetry,
              _opdev=_r._operand_device, _index_devices=_r._index_devices,
              _sk=_r.scalar_kind, _zkn=_r.zero_dim_operand_kind,
              _WrappedOperand=_r.WrappedOperand, _unwn=_r.unwrap_number, _unwrap_for=_r.unwrap_for,
              _bcast_err=_r.broadcast_error, _np_bcast=_r.numpy_broadcast_error, _oom=_r.allocation_error, _wrap=_r.wrap, _wrap_array=_r.wrap_array, _wrap_view=_r.wrap_view, _wrap_untracked=_r.wrap_untracked, _devof=_device_of_array,
              _finish_inplace=_r.finish_inplace, _resolve=resolve,
              _to_dtype=_dt.scalar_type_arg, _NARROW=_r._NARROW, _wrapi=_r._wrap_int,
              _checki=_r.checked_int, _checkn=_r.checked_number, _DF16=_dt.float16, _bigint=_r.big_int_operand, _not_tensor=_r.not_tensor_error, _no_tensor=_r.no_tensor_error, _numbers_call=_numbers_only_call,
              _refused=_r.number_refused,
              _lref=_r.list_refused, _UDE=_r.UnsupportedDtypeError, _cxr=_r.complex_refused, _unsr=_r.unsigned_refused, _bigsc=_r.scalar_overflow,
              _UNS=frozenset(_dt.UNSIGNED_TYPES), _UNSC=_unsigned_conditions(), _UNSNP=frozenset(d.np for d in _dt.UNSIGNED_TYPES),
              _dtype_refused=_r.dtype_refused, _npn=_r.NUMPY_NUMBERS, _PYN=_r.PYTHON_NUMBER_TYPES, _PYI=_r.PYTHON_INT_TYPES,
              _PYNN=_r.PYTHON_NUMBER_TYPES - {type(None)}, _PYIN=frozenset({int}),
              _new=_r._new, _empty_layout=_r.empty_layout, _dtm=_dt, _SCALAR=_dt.SCALAR, _SKI=(_dt.int64, _dt.SCALAR),
              _numarg=_r.number_arg, _boolarg=_r.bool_refused, _dtypearg=_dtype_code_refused, _DTC=_dt.dtype, _LAYC=_dt.layout, _DEVC=_device_type, _typearg=_type_refused, _ovf=_r.overflow_error, _ovfll=_r.int64_overflow, _npnum=_r.numpy_number, _nd_other=_r.ndarray_operand,
              _tlist=_r.tensor_int_list, _argtypes=_r.arg_type_error, _renum=None,
              _rdx=_r.reduction_refused,
              _tensor_for_list=_r.tensor_for_list,
              _UNCHANGED=_r.UNCHANGED, _iter_layout=_iter_layout, _c_layout=_c_layout, _size1_c=_size1_c, _like=_like,
              _ovl=_overlap.has_internal_overlap, _expanded=_overlap.expanded_target,
              _changes=_overlap.write_changes, _writable=_overlap.writable_target,
              _SPARSE=_dt.SPARSE_LAYOUTS, _no_layout=_no_layout, _quiet=_quiet,
              _SpX=_r.SparseOperand, _spcall=_r.sparse_call)
    from .float8 import Float8Operand as _f8x
    ns.update(_F8X=_f8x)
    from . import bfloat16_support as _bfs
    ns.update(_bfdef=_bfs.default_is_bf16)
    ns.update(_BF=_dt.bfloat16, _bfx=_r.bf16_refused, _bff=_bfs.finish, _bfr=_bfs.round_bf16,
              _bfw=_bfs.round_in_place, _bfops=_bfs.operands, _bfalpha=_bfs.alpha_product)
    ns.update(_limited_sets())
    _BASE_NS = ns
    return ns


def _compile(op, src, fname, consts):
    from . import bfloat16_support as _bfs
    ns = dict(_base_namespace())
    ns.update(_op=op, _impl=op.impl, _cache=op._cache, _nt=op.namedtuple)
    ns.update(_bfs.exact_bindings(op))      # (bfloat16 as ATen rounds it: NaN bits, steps)
    ns.update(consts)
    filename = f"<gpujit op {op.name}:{fname}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    from .codecache import compile_cached
    exec(compile_cached(src, filename), ns)
    fn = ns[fname]
    fn._ns = ns
    return fn


def _method_ns(ns):
    """Globals whose error helpers number the arguments as PyTorch does in a method call
    (self not counted: x.add("a") is "argument 'other' (position 1)")."""
    from functools import partial
    ns = dict(ns)
    for k in ("_not_tensor", "_refused", "_numarg", "_boolarg", "_tlist", "_argtypes", "_lref",
              "_tensor_for_list"):
        ns[k] = partial(ns[k], method=True)
    ns["_renum"] = _r.method_positions
    # (read by the __torch_function__ layer, overrides._dispatch, from its caller's
    # frame: the call was Tensor.<name>, whose method PyTorch's handlers receive)
    ns["_METHOD"] = True
    return ns


def _as_method(op, fn):
    """fn's code run as Tensor.<name>: the same code object over the globals of
    `_method_ns`. Nothing is recompiled."""
    import types
    m = types.FunctionType(fn.__code__, _method_ns(fn._ns), fn.__name__, fn.__defaults__,
                           fn.__closure__)
    m.__kwdefaults__ = fn.__kwdefaults__
    return m


def operator_entry(op, name, reflected=False, ndarray_other=False, python_level=False):
    """Tensor.<name> for a binary Python operator (__add__, __rtruediv__, __iadd__ ...) over
    op, as PyTorch's (_wrap_type_error_to_not_implemented): op's public entry point whose
    body, inside one `try`, returns NotImplemented on a TypeError (an operand the op takes
    no overload for: x + "a", x == None), so that Python tries the other operand, then
    raises its own words ("unsupported operand type(s) for +: 'Tensor' and 'str'") or, for
    == and !=, compares identities. An unsupported dtype (UnsupportedDtypeError, also a
    NotImplementedError) and every other error still raise; arguments the op does not take
    (x.__add__(2, 3), x.__pow__(other=2)) are NotImplemented too, as PyTorch's parser's
    TypeError is. `python_level`: one of torch's operators defined in Python over
    (self, other) only (__rsub__, __rtruediv__ ...: x.__rtruediv__(other=2) works,
    x.__rsub__(2, alpha=2) is NotImplemented), the op's other parameters at their
    defaults. `reflected`: x.__rpow__(2) is pow(2, x), the operands swapped.
    `ndarray_other`: an ndarray other operand, which the op refuses, is taken as its
    Tensor (torch.from_numpy) before NotImplemented, as torch 2.13's Tensor.__eq__
    (x == np.ones(3): a bool Tensor; an ndarray from_numpy refuses with a TypeError,
    np.ones(3, object): NotImplemented). One frame a call, as op's method: a `try` costs
    nothing until something is raised. Compiled once per (op, variant)."""
    import types
    assert python_level or not reflected
    key = ("_operator_r" if reflected else "_operator_p" if python_level else "_operator") \
        + ("_nd" if ndarray_other else "")
    fn = op.__dict__.get(key)
    if fn is None:
        consts = {}
        if op.is_pointwise and op.operands:
            src = _gen_pointwise(op, "operator", consts, op.inplace_of is not None, hook=True)
        else:
            src = _gen_generic(op, "operator", consts, hook=True)
        head, body = _sparse_catch(op, src).split("\n", 1)
        fname = "operator_r" if reflected else "operator"
        args = op.schema.arguments
        pre = ["    if _a or _k: return NotImplemented"]
        # (a missing operand is NotImplemented too, as PyTorch's parser's TypeError for
        # it: x.__pow__() -- the default None, which every op refuses with a TypeError)
        if python_level:
            head = f"def {fname}(self, other=None, *_a, **_k):"
            n0, n1 = args[0].name, args[1].name
            if reflected or (n0, n1) != ("self", "other"):
                pre.append(f"    {n0}, {n1} = {'other, self' if reflected else 'self, other'}")
            for a in args[2:]:
                assert a.has_default, (op.name, a.name)
                pre.append("    " + _py_default(a.name, a, consts))
        else:
            parts = _signature(op.schema, consts, True).split(", ")
            parts = ["*_a" if p == "*" else p for p in parts]
            if "*_a" not in parts:
                parts.append("*_a")
            star = parts.index("*_a")
            if star > 1 and all("=" in p for p in parts[2:star]) and "=" not in parts[1]:
                parts[1] += "=None"
            head = f"def {fname}({', '.join(parts + ['**_k'])}):"
        nd = []
        if ndarray_other:
            a0, a1 = (a.name for a in args[:2])
            nd = [f"        if isinstance({a1}, _nd): return _nd_other({fname}, {a0}, {a1})"]
        src = "\n".join([head] + pre + ["    try:"] + ["    " + ln for ln in body.split("\n")] + [
            "    except TypeError as e:",
            "        if isinstance(e, NotImplementedError): raise"] + nd + [
            "        return NotImplemented"])
        fn = _compile(op, src, fname, consts)
        fn.__globals__.update(_method_ns(fn.__globals__))
        fn.source = src
        setattr(op, key, fn)
    d = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    d.__kwdefaults__ = fn.__kwdefaults__
    d.__qualname__ = f"Tensor.{name}"
    d.__doc__ = f"{name}: {op.public_name}, returning NotImplemented on a TypeError."
    d.op = op
    d.source = fn.source
    return d


def _binding_entry(op, pub_src, consts):
    """The entry point PyTorch's Python binding of op is, where it differs from the one
    the registry's callers (indexing, scripts) use: a Tensor?[] argument whose None
    elements the Python parser refuses (x.index_put((None, i), v): "expected Tensor as
    element 0 in argument 0, but got NoneType") while the schema, as torch.ops.aten's
    and TorchScript's, takes them. A separate compile, so no call pays for the check
    but on the hook's path (autograd, tracing), which walks the list once. An
    `int reduction=Mean` default is 0 there: torch 2.13's parser reads at::Reduction::Mean
    as no number, 0 (torch.kl_div(x, y) is unreduced; scripted code and torch.ops.aten
    take the mean). None when op has no such argument or is not bound."""
    if not (op.bind_function or op.bind_method):
        return None
    src = pub_src
    head, body = src.split("\n", 1)
    for a in op.schema.arguments:
        if _reduction_mean(a):
            head = head.replace(f"{a.name}='mean'", f"{a.name}=0")
    hook = "    if _S.hook is not None:\n"
    at = re.search(r"^( +)if _S\.hook is not None:$", body, re.M)
    reductions = "".join(
        f"{at.group(1)}if {a.name}.__class__ is not int: _rdx(_op, {i}, {a.name})\n"
        for i, a in enumerate(op.schema.arguments) if _reduction_mean(a)) if at else ""
    # (a name given for ATen's int reduction: the Python parser's TypeError)
    src = head + "\n" + body[:at.start()] + reductions + body[at.start():] if reductions \
        else head + "\n" + body
    lists = [a for a in op.schema.arguments if a.type.base == "Tensor" and a.type.is_list
             and a.type.elem_optional]
    if not lists or "None if _x is None else _lref(" not in src:
        return None if src == pub_src else _compile_binding(op, _sparse_catch(op, src), consts)
    src = src.replace("None if _x is None else _lref(", "_lref(")
    src = re.sub(r"_lref\(_op, (\([^()]*\))\)", r"_lref(_op, \1, binding=True)", src)
    values = re.search(r"_lref\(_op, (\([^()]*\)), binding=True\)", src).group(1)
    checks = "".join(
        f"        if {a.name} is not None and not isinstance({a.name}, _T) and any("
        f"x is None for x in {a.name}): _lref(_op, {values}, binding=True)\n" for a in lists)
    assert hook in src, op.name
    return _compile_binding(op, _sparse_catch(op, src.replace(hook, hook + checks, 1)), consts)


def _reduction_mean(a) -> bool:
    """Is schema argument a an `int reduction=Mean` (0 in PyTorch's Python binding)?"""
    return a.has_default and a.default == "mean" and a.type.base == "int"


def _binding_default(name, a, consts):
    """_py_default as PyTorch's Python binding has it (_binding_entry)."""
    return f"{name}=0" if _reduction_mean(a) else _py_default(name, a, consts)


def _compile_binding(op, src, consts):
    fn = _compile(op, src.replace("def public(", "def binding(", 1), "binding", consts)
    fn.__name__ = fn.__qualname__ = op.public_name
    fn.op = op
    fn.source = src
    return fn


def build_entry_points(op: _r.OpDef):
    consts = {}
    if op.is_pointwise and op.operands:
        inplace = op.inplace_of is not None
        pub_src = _gen_pointwise(op, "public", consts, inplace, hook=True)
        eager_src = _gen_pointwise(op, "eager", consts, inplace, hook=False)
    else:
        pub_src = _gen_generic(op, "public", consts)
        eager_src = _gen_generic(op, "eager", consts)
    bound = _binding_entry(op, pub_src, consts)
    pub_src = _sparse_catch(op, pub_src)
    op.source = pub_src
    op.public = _compile(op, pub_src, "public", consts)
    op.eager = _compile(op, _float8_catch(op, eager_src), "eager", consts)
    op.public.__name__ = op.public.__qualname__ = op.public_name
    op.public.__doc__ = f"{op.schema}\n\n{op.doc or ''}".rstrip()
    op.public.op = op
    # the entry points torch.<name> and Tensor.<name> bind (the method's errors count
    # arguments without self)
    op.function_public = op.public
    op.binding_source = pub_src
    if bound is not None:
        bound.__doc__ = op.public.__doc__
        op.function_public = bound
        op.binding_source = bound.source
    op.method_public = op.public
    if op.bind_method and op.schema.arguments:
        op.method_public = _as_method(op, bound or op.public)
        op.method_public.__name__ = op.method_public.__qualname__ = op.public_name
        op.method_public.__doc__ = op.public.__doc__
        op.method_public.op = op
    if _dumping("ops"):
        print(f"[gpujit] eager entry point of {op.name}:\n{pub_src}\n")



def numpy_entry(op, method):
    """op's Tensor method (method) or torch function taking PyTorch's parser's other names
    for its parameters (ops/numpy_aliases.py: x.sum(axis=0), torch.add(x1=a, x2=b),
    torch.neg(input=x)): the bound entry point's code with `*_a, **_kw` and, for a
    required positional parameter from the first aliased one on, a NOT_GIVEN default,
    calling numpy_aliases.call_renamed only when a keyword no parameter has came (or an
    argument too many, or a required one is missing): `if _kw or dim is _NA:` is all an
    ordinary call adds. None where the binding has no such parameter. Compiled once."""
    from . import numpy_aliases as _na
    from .numpy_aliases import python_name
    key = "_numpy_method" if method else "_numpy_function"
    if key in op.__dict__:
        return op.__dict__[key]
    fn = None
    args = op.schema.arguments
    if args and _na.takes_aliases(op, method):
        plain = op.method_public if method else op.function_public
        src = op.binding_source
        head, body = src.split("\n", 1)
        fname = head[4:head.index("(")]
        first = next((i for i, a in enumerate(args) if not a.kwarg_only and not a.has_default
                      and _na.python_name(a, method) in _na.ALIASES), None)
        consts, parts, unset, star = {}, [], [], False
        # (a function's Tensor self is `input` to PyTorch's parser: torch.sigmoid(self=x)
        # is its missing-argument TypeError, the keyword left in **_kw)
        renamed = not method and python_name(args[0], False) == "input" and \
            args[0].name == "self"
        for i, a in enumerate(args):
            if a.kwarg_only and not star:
                parts.append("*_a")
                star = True
            pname = "input" if renamed and i == 0 else a.name
            if first is not None and i >= first and not a.kwarg_only and not a.has_default:
                parts.append(f"{pname}=_NA")
                unset.append(a.name)
            else:
                parts.append(_binding_default(pname, a, consts))
        if not star:
            parts.append("*_a")
        parts.append("**_kw")
        names = ", ".join(a.name for a in args)
        cond = " or ".join(["_kw", "_a"] + [f"{n} is _NA" for n in unset])
        src = "\n".join([f"def {fname}({', '.join(parts)}):"]
                        + (["    self = input"] if renamed else []) + [
                         f"    if {cond}: return _npkw(_op, _plain, _npm, ({names},), _kw, _a)",
                         body])
        consts.update(_NA=_na.NOT_GIVEN, _npkw=_na.call_renamed, _plain=plain, _npm=method)
        fn = f0 = _compile(op, src, fname, consts)
        if method:
            import types
            fn = types.FunctionType(f0.__code__, _method_ns(f0._ns), f0.__name__,
                                    f0.__defaults__, f0.__closure__)
            fn.__kwdefaults__ = f0.__kwdefaults__
        fn.__name__ = fn.__qualname__ = plain.__name__
        fn.__doc__ = plain.__doc__
        fn.op = op
        fn.source = src
    setattr(op, key, fn)
    return fn


def invert_entry(op):
    """Tensor.__invert__ as torch 2.13's over op (bitwise_not): op's method entry point in
    one frame whose refusal of a floating dtype (the kernel's NotImplementedError) becomes
    the operator's TypeError; the dtype is looked at only then. Compiled once."""
    fn = op.__dict__.get("_invert")
    if fn is None:
        head, body = op.binding_source.split("\n", 1)
        assert head == "def public(self):", head
        src = "\n".join(["def __invert__(self):", "    try:"]
                        + ["    " + ln for ln in body.split("\n")] + [
            "    except NotImplementedError:",
            "        if self.dtype.is_floating_point:",
            "            raise TypeError('~ (operator.invert) is only implemented on integer "
            "and Boolean-type tensors') from None",
            "        raise"])
        fn = _compile(op, src, "__invert__", {})
        fn.__globals__.update(_method_ns(fn.__globals__))
        fn.__qualname__ = "Tensor.__invert__"
        fn.op = op
        fn.source = src
        op._invert = fn
    return fn
