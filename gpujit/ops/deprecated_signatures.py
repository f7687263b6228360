"""PyTorch's deprecated Python signatures with the Scalar first (tools/autograd/
deprecated.yaml): `p.add_(-lr, grad)`, `v.addcmul_(1 - beta, g, g)`, `torch.addmm(beta, M,
alpha, a, b)`. Old optimizer and model code still calls them; torch 2.13 takes them with
one UserWarning a process (its parser's TORCH_WARN_ONCE). bind.py wraps the few public
entry points that have such forms; the wrapper reaches the form only when the modern
signature refused the call (a TypeError), so an ordinary call pays one frame and nothing else;
the methods with a `*_a` slow path (add, sub) are reached from it, unwrapped.
"""
from __future__ import annotations

import numpy as np

from . import registry as _reg

__all__ = ["FORMS", "with_deprecated", "renamed_call", "fallback_for", "NO_CALL"]

_ALPHA = ("self", "alpha", "other")
_VALUE = ("self", "value", "tensor1", "tensor2")
_SCALAR_ALPHA = ("self", "other", "alpha")


def _beta(a, b):
    return (("beta", "self", "alpha", a, b), ("beta", "self", a, b))


# op name (function and method, and its in-place method) -> its deprecated forms, the
# parameters in torch's order (self: the Tensor the method is called on / `input`)
FORMS = {
    "add": (_ALPHA,), "sub": (_ALPHA,), "addcmul": (_VALUE,), "addcdiv": (_VALUE,),
    "addmm": _beta("mat1", "mat2"), "addmv": _beta("mat", "vec"), "addr": _beta("vec1", "vec2"),
    "addbmm": _beta("batch1", "batch2"), "baddbmm": _beta("batch1", "batch2"),
    # (not deprecated: subtract's and rsub's Scalar overloads take alpha positionally,
    # torch.subtract(x, 2, 0.5), with no warning; their other a number)
    "subtract": (_SCALAR_ALPHA,), "rsub": (_SCALAR_ALPHA,),
}
_SCALARS = ("alpha", "beta", "value")
# (the modern signatures torch's warning lists besides the plain one)
_OUT_DTYPE = ("addmm", "baddbmm")

_warned = []


def _is_number(v):
    return (isinstance(v, (int, float, complex, np.number)) and not isinstance(v, bool)) or (
        isinstance(v, _reg._Tensor) and v._data.ndim == 0)


def _bind(form, args, kwargs, method):
    """{param: value} for the call under deprecated form, or None where it does not fit."""
    params = [p for p in form if not (method and p == "self")]
    if len(args) > len(params):
        return None
    got = dict(zip(params, args))
    for k, v in kwargs.items():
        if k not in params or k in got:
            return None
        got[k] = v
    if len(got) != len(params):
        return None
    for p, v in got.items():
        # (add / sub take a number for `other` too, torch's numbers-as-tensors:
        # torch.add(x, 2, 0.5) is x + 2 * 0.5)
        if not (_is_number(v) if p in _SCALARS or (form is _SCALAR_ALPHA and p != "self") else
                isinstance(v, _reg._Tensor) or (p == "other" and _is_number(v))):
            return None
    # (torch's parser tries the modern signature first: a call whose values all fit it
    # positionally, x.add(t0, y), is that one's error, not this form)
    return got


def _signature(name, params, method, out):
    ty = {p: "Number" if p in _SCALARS else "Tensor" for p in params}
    shown = [f"{ty[p]} {'input' if p == 'self' else p}" for p in params
             if not (method and p == "self")]
    return f"{name}({', '.join(shown)}{', *, Tensor out = None' if out else ''})"


def _modern(name, form, method, out):
    tensors = [("input" if p == "self" else p) for p in form if p not in _SCALARS]
    if method:
        tensors = tensors[1:]
    scalars = ("beta", "alpha") if "beta" in form else [p for p in form if p in _SCALARS]
    kw = ", ".join(f"Number {s} = 1" for s in scalars)
    outs = ", Tensor out = None" if out else ""
    t = ", ".join(f"Tensor {p}" for p in tensors)
    sigs = [f"{name}({t}, *, {kw}{outs})"]
    if out and name in _OUT_DTYPE:
        sigs.append(f"{name}({t}, torch.dtype out_dtype, *, {kw}{outs})")
    return sigs


def _warn(name, form, method):
    from ..runtime_flags import is_warn_always_enabled
    if _warned and not is_warn_always_enabled():
        return
    _warned.append(True)
    out = not method
    from .._frames import warn_at_user_frame
    warn_at_user_frame(
        f"This overload of {name} is deprecated:\n\t{_signature(name, form, method, out)}\n"
        "Consider using one of the following signatures instead:\n\t"
        + "\n\t".join(_modern(name, form, method, out)))


_NO = NO_CALL = object()


def _call(name, fn, method, args, kwargs):
    """fn called under the first deprecated form of `name` that takes (args, kwargs) (for a
    method args[0] is self), with the warning; _NO where none does."""
    out = None if method else kwargs.get("out")
    kw = {k: v for k, v in kwargs.items() if k != "out"}
    for form in FORMS[name.rstrip("_")]:
        got = _bind(form, args[1:] if method else args, kw, method)
        if got is not None:
            break
    else:
        return _NO
    if form is not _SCALAR_ALPHA:
        _warn(name, form, method)
    tensors = [got[p] for p in form if p not in _SCALARS and p != "self"]
    scalars = {p: got[p] for p in form if p in _SCALARS}
    if out is not None:
        scalars["out"] = out
    return fn(args[0] if method else got["self"], *tensors, **scalars)


def renamed_call(op, plain, method, values, kw, extra):
    """numpy_aliases.call_renamed's refusal (x.add_(-lr, g): an argument too many for a
    `*_a, **_kw` entry point) as the call under a deprecated form, or _NO: the call
    rebuilt from the values Python bound (no extra frame on the ordinary path)."""
    from .numpy_aliases import NOT_GIVEN
    name = plain.__name__
    if not extra or name.rstrip("_") not in FORMS:
        return _NO
    pos, named = [], dict(kw)
    for a, v in zip(op.schema.arguments, values):
        if v is NOT_GIVEN:
            continue
        if not a.kwarg_only:
            pos.append(v)
        elif not (a.has_default and (v is a.default or (
                type(v) is type(a.default) and v == a.default))):
            named[a.name] = v
    return _call(name, plain, method, tuple(pos) + tuple(extra), named)


def fallback_for(name, namespace):
    """out_variants.with_out's fallback for torch.<name> (None where it has no deprecated
    form): the call under one, through the bound function namespace[name]."""
    if name not in FORMS:
        return None
    return lambda args, kwargs: _call(name, namespace[name], False, args, kwargs)


def with_deprecated(name, fn, method):
    """fn (the public function or method `name`) also taking its deprecated forms."""
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TypeError:
            r = _call(name, fn, method, args, kwargs)
            if r is _NO:
                raise
            return r

    from .out_variants import dressed_as
    return dressed_as(call, fn, name)
