"""Overload resolution on Python values: which of an op's overloads (max / max.dim /
max.other) a call's arguments fit, and the public entry point that dispatches among them.
The script compiler does the same on types."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu
from . import registry as _reg
from .number_operands import number_operands as _number_operands, scalar_twin_places as _scalar_twin_places, \
    numbers_as_tensors as _numbers_as_tensors
from .registry import wrap

__all__ = ["match_overload", "make_dispatcher"]



def _int_tensor(v):
    """A Tensor PyTorch's parser reads as one element of an int[]: one integral element."""
    return v._data.size == 1 and v._data.dtype.kind in "iub"


def _value_matches(t, v, loose=True):
    """Does v fit type t? loose: a Tensor also fits an int / float / int[] / Scalar parameter as
    PyTorch's parser reads it (match_overload tries every overload without that first,
    so an overload taking the Tensor itself wins: repeat_interleave(x, t, dim))."""
    if v is None:
        return t.optional or t.elem_optional
    b = t.base
    if t.is_list:
        if b == "Tensor":
            return isinstance(v, (list, tuple)) and all(
                isinstance(x, _reg._Tensor) or (x is None and t.elem_optional) for x in v)
        if b in ("int", "SymInt"):
            if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                return True      # torch accepts a bare int for int[]
            # (and a one-element integral Tensor, bare or as an element: its int)
            return (loose and isinstance(v, _reg._Tensor) and _int_tensor(v)) or (
                isinstance(v, (list, tuple)) and all(
                    (isinstance(x, (int, np.integer)) and not isinstance(x, bool))
                    or (loose and isinstance(x, _reg._Tensor) and _int_tensor(x))
                    for x in v))
        if b == "float":
            return isinstance(v, (list, tuple))
        if b == "bool":
            return isinstance(v, (list, tuple, bool))
        return isinstance(v, (list, tuple))
    if b == "Tensor":
        return isinstance(v, _reg._Tensor)
    if b in ("int", "SymInt"):
        # (a 0-dim integral Tensor stands for its int, as in PyTorch's argument parser; a
        # SymInt also takes any one-element integral one, bool included: its conversion
        # then fails, registry.tensor_number)
        return (isinstance(v, (int, np.integer)) and not isinstance(v, bool)) or (
            loose and isinstance(v, _reg._Tensor) and (
                (v._data.ndim == 0 and v._data.dtype.kind in "iu") if b == "int"
                else (v._data.size == 1 and v._data.dtype.kind in "iub")))
    if b == "float":
        # (a bool too: PyTorch's parser reads a double with THPUtils_checkDouble, which a
        # bool, an int, passes: torch.quantile(x, True) is q=1.0)
        return isinstance(v, (int, float, np.number)) or (
            loose and isinstance(v, _reg._Tensor) and v._data.ndim == 0
            and not v.requires_grad)
    if b == "bool":
        return isinstance(v, (bool, np.bool_))
    if b == "Scalar":
        # a 0-dim tensor is a Scalar unless it requires grad (PyTorch's Python argument
        # parser): torch.clamp(x, min_t) with min_t a 0-dim leaf is clamp.Tensor, so
        # min_t gets its gradient; and only where no overload takes it as a Tensor
        # (PyTorch's parser tries Tensor overloads first: bool_t.clamp(min=t0) is
        # clamp.Tensor, which takes bool, not clamp's Scalar overload, which refuses it)
        return isinstance(v, (int, float, bool, complex, np.number, np.bool_)) or (
            loose and isinstance(v, _reg._Tensor) and v._data.ndim == 0
            and not v.requires_grad)
    if b == "str":
        return isinstance(v, str)
    if b == "ScalarType":
        if isinstance(v, _dt.MissingDtype):
            if isinstance(v, _dt._QuantizedDtype):
                return True         # (quantize_per_tensor's; elsewhere its .np refuses)
            raise v.error()
        # (`is`, not `in`: an array's == is elementwise, x.view(np.array([2, 2])))
        return isinstance(v, _dt.dtype) or v is bool or v is int or v is float
    if b == "Device":
        from ..device import device
        return isinstance(v, (str, device))
    return True


def match_overload(ovs, args, kwargs):
    """The first overload whose arguments accept (args, kwargs), or None: Tensors where
    numbers are taken only when no overload takes them as they are."""
    return _match(ovs, args, kwargs, False) or _match(ovs, args, kwargs, True)


def _match(ovs, args, kwargs, loose):
    for d in ovs:
        params = d.schema.arguments
        if len(args) > sum(1 for p in params if not p.kwarg_only):
            continue
        ok = True
        given = set()
        # (loose: a Python number for the Tensor parameters PyTorch's parser wraps it for,
        # torch.div(x, 2, rounding_mode="floor"))
        numbers = _number_operands(d.schema) - _scalar_twin_places(d) if loose else ()
        if numbers and not _numbers_as_tensors(d.schema) and not any(
                isinstance(v, _reg._Tensor) for v in (*args, *kwargs.values())):
            # PyTorch takes a number for a Tensor only where an overload with a Tensor
            # argument takes a Scalar there: a call of numbers alone matches none
            # (torch.normal(0.5, 1.0), torch.isin(3, 2): its parser's TypeError, not the
            # body's AttributeError on a float)
            numbers = ()
        for p, v in zip(params, args):
            if not (_value_matches(p.type, v, loose) or (
                    p.name in numbers and isinstance(v, (int, float, complex, np.number))
                    and not p.type.is_list)):
                ok = False
                break
            given.add(p.name)
        if not ok:
            continue
        names = {p.name: p for p in params}
        for k, v in kwargs.items():
            p = names.get(k)
            # (a number by keyword too: torch.div(x, other=2), x.div(other=2))
            if p is None or k in given or not (_value_matches(p.type, v, loose) or (
                    k in numbers and isinstance(v, (int, float, complex, np.number))
                    and not p.type.is_list)):
                ok = False
                break
            given.add(k)
        if ok and all(p.name in given or p.has_default for p in params):
            return d
    return None


def _tensors_as_scalars(d, args, kwargs):
    """A 0-dim tensor that overload d (found by the loose match) takes for a Scalar
    parameter as its number, as PyTorch's parser reads it (THPUtils_unpackScalar: its
    item): y.clamp(t0, 1) is clamp's Scalar overload with the number t0 holds, a unary op
    (its strides; float32 for an integral y whatever t0's dtype), not clamp.Tensor."""
    params = d.schema.arguments
    if any(isinstance(v, _reg._Tensor) and p.type.base == "Scalar" and not p.type.is_list
           for p, v in zip(params, args)):
        args = tuple(v.item() if isinstance(v, _reg._Tensor) and p.type.base == "Scalar"
                     and not p.type.is_list else v for p, v in zip(params, args)) + \
            tuple(args[len(params):])
    if kwargs:
        types = {p.name: p.type for p in params}
        if any(isinstance(v, _reg._Tensor) and k in types and types[k].base == "Scalar"
               and not types[k].is_list for k, v in kwargs.items()):
            kwargs = {k: v.item() if isinstance(v, _reg._Tensor) and k in types and
                      types[k].base == "Scalar" and not types[k].is_list else v
                      for k, v in kwargs.items()}
    return args, kwargs


def make_dispatcher(pyname, ovs, method=False, aliases=False, kw_entry=False):
    """A public entry point over several overloads (e.g. max / max.dim / max.other).
    method: the Tensor method (its errors number the arguments without self). aliases:
    PyTorch's parser's other names for parameters (input=, NumPy's axis= / keepdims= /
    x1= ...: ops/numpy_aliases.py) taken, renamed on the failure path; kw_entry: a
    single overload's entry point takes them too (entry_codegen.numpy_entry), where no
    wrapper (out_variants.with_out) renames them on its own failure path."""
    def entry(o):
        return (o.method_public or o.public) if method else (o.function_public or o.public)
    if len(ovs) == 1:
        if kw_entry:
            from .entry_codegen import numpy_entry
            return numpy_entry(ovs[0], method) or entry(ovs[0])
        return entry(ovs[0])
    # x.sum(), x.max(), torch.mean(x): the overload a lone Tensor argument selects, found
    # once here (for a 0-dim and a 1-dim probe alike) so the hot call skips the search
    probes = [wrap(np.zeros(s, np.float32), _dt.float32, _cpu) for s in ((), (1,))]
    d1 = match_overload(ovs, probes[1:], {})
    single = entry(d1) if d1 is not None and d1 is match_overload(ovs, probes[:1], {}) \
        else None

    # where(c, x, y) vs where(c): when only one overload takes n positional arguments,
    # a call with n of them (and no keywords) goes to it without the search
    by_arity = {}
    for n in range(2, 1 + max(len(o.schema.arguments) for o in ovs)):
        fits = [o for o in ovs
                if sum(1 for p in o.schema.arguments if not p.kwarg_only) >= n
                and sum(1 for p in o.schema.arguments if not p.has_default) <= n]
        if len(fits) == 1:
            by_arity[n] = entry(fits[0])
    tensor_cls = _reg._Tensor
    name_in_errors = ovs[0].schema.base_name
    from .numpy_aliases import self_is_input, self_keyword_error
    no_self = not method and self_is_input(ovs)
    # (a Tensor `self` elsewhere than first is `input` to PyTorch's parser too:
    # torch.where(c, self=x, other=y) is its TypeError; self=2.0 is where.ScalarSelf's)
    selfs = [a for o in ovs for a in o.schema.arguments if a.name == "self"]
    tensor_self = not method and bool(selfs) and all(
        a.type.base == "Tensor" and not a.type.is_list for a in selfs)

    def dispatch(*args, **kwargs):
        if not kwargs and args and isinstance(args[0], tensor_cls):
            n = len(args)
            if n == 1 and single is not None:
                return single(args[0])
            direct = by_arity.get(n)
            if direct is not None:
                try:
                    return direct(*args)
                except TypeError as e:
                    # the one overload taking n positional arguments refused them (an
                    # argument of a type it does not take): PyTorch's parser error counts
                    # the others too (x.mean(0.5): "invalid combination"). A TypeError of
                    # arguments some overload takes is the op's own: as it is.
                    if match_overload(ovs, args, {}) is not None or not str(e).startswith(
                            (pyname + "(", name_in_errors + "(")):
                        raise
                    from .parser_errors import parser_error
                    raise parser_error(pyname, ovs, args[1:] if method else args, {},
                                       method, True) from None
        if "self" in kwargs and (no_self or (tensor_self and isinstance(
                kwargs["self"], tensor_cls))):       # (torch.add(self=x, other=y))
            raise self_keyword_error(pyname, ovs, args, kwargs)
        d = _match(ovs, args, kwargs, False)
        if d is None:
            d = _match(ovs, args, kwargs, True)
            if d is not None:
                args, kwargs = _tensors_as_scalars(d, args, kwargs)
        if d is None and kwargs and aliases:
            # (keywords under another name: x.sum(axis=0), torch.sum(input=x))
            from .numpy_aliases import match_renamed
            r = match_renamed(ovs, args, kwargs, method)
            if r is not None:
                return entry(r[0])(*args, **r[1])
        if d is None:
            from ..overrides import tensor_likes, tensor_like_dispatch
            if tensor_likes(args + tuple(kwargs.values())):    # (its __torch_function__)
                import gpujit
                return tensor_like_dispatch(
                    getattr(tensor_cls if method else gpujit, pyname, dispatch), args, kwargs)
            # PyTorch's parser error (ops/parser_errors.py; built only here, on failure)
            from .parser_errors import parser_error
            shown = args[1:] if method and args else args     # (PyTorch leaves self out)
            raise parser_error(pyname, ovs, shown, kwargs, method, True)
        return entry(d)(*args, **kwargs)

    dispatch.__name__ = dispatch.__qualname__ = pyname
    dispatch.__doc__ = "\n".join(str(o.schema) for o in ovs)
    dispatch.overloads = ovs
    return dispatch


