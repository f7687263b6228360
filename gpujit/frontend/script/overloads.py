"""`@torch.jit._overload` / `@torch.jit._overload_method` in scripted code.

A function (or module method) declared with typed overload stubs before its untyped or
differently typed implementation is compiled once per declaration that a scripted call
uses: the call's argument types pick the first declaration that accepts them, and the
implementation's body is compiled with that declaration's parameter and return types
(so an `isinstance(input, Tensor)` test in the body is decided per overload, as
torchvision's DenseNet layer relies on). Module methods compile as `<name>__<k>` (k the
declaration's index), as TorchScript names them. The declarations are recorded by
gpujit._jit_internal."""
from __future__ import annotations

import inspect

from ...ir import types as T
from .errors import FrontendError
from .calls import describe_type, is_empty_list_literal

__all__ = ["check_declarations", "pick_overload"]


def _param_names(fn, skip_self=False):
    names = list(inspect.signature(fn).parameters)
    return names[1:] if skip_self else names


def check_declarations(fn, decls, where=None, method=False):
    """Each declaration names the implementation's parameters, in order (the body is
    compiled under the declaration's types, so it must read the same names)."""
    want = _param_names(fn, method)
    for d in decls:
        got = _param_names(d, method)
        if got != want:
            raise FrontendError(
                f"an overload of '{fn.__name__}' declares parameters ({', '.join(got)}) but "
                f"its implementation takes ({', '.join(want)})", where,
                hint="give each @_overload declaration the implementation's parameter "
                     "names")


def _accepts(v, t) -> bool:
    """Whether the argument value v may be passed for a parameter of type t."""
    if v.type.is_subtype_of(t) or (isinstance(v.type, T.TensorType)
                                   and isinstance(t, T.TensorType)):
        return True
    inner = t.elem if isinstance(t, T.OptionalType) else t
    if isinstance(inner, T.ListType):
        if is_empty_list_literal(v):
            return True
        if isinstance(v.type, T.TupleType):       # f((1, 2)) for a List[int]
            return all(e.is_subtype_of(inner.elem) for e in v.type.elems)
    return False


def pick_overload(compiler, fn, decls, args, kwargs, node, self_type=None):
    """(index, declaration) of the first of decls whose parameter types accept the call's
    arguments (values, bound by fn's Python signature); a compile error listing the
    declarations when none does."""
    from .signatures import signature_types
    method = self_type is not None
    check_declarations(fn, decls, compiler.src.range(node), method)
    sig = inspect.signature(fn)
    try:
        bound = sig.bind(*([None] if method else []), *args, **kwargs).arguments
    except TypeError as e:
        compiler.error(f"cannot call '{fn.__name__}': {e}", node)
    tried = []
    for k, d in enumerate(decls):
        params, _ = signature_types(d, self_type=self_type)
        types = dict(params)
        ok = all(_accepts(v, types[name]) for name, v in bound.items()
                 if v is not None and name in types)
        if ok:
            return k, d
        tried.append("(" + ", ".join(f"{n}: {t}"
                                     for n, t in params[1 if method else 0:]) + ")")
    got = ", ".join(describe_type(a.type) for a in args)
    compiler.error(f"Could not match any of the overloads of '{fn.__name__}' to the "
                   f"arguments ({got}); its declarations take:\n    " + "\n    ".join(tried),
                   node)
