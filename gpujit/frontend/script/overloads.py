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

import ast
import inspect

from ...ir import types as T
from .errors import FrontendError
from .calls import is_empty_list_literal

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


def _mismatch(params, defaults, args, kwargs):
    """Why a declaration with params [(name, Type)] (self first for a method, its value
    in args) does not take the call, in TorchScript's words; None when it does."""
    for i, (name, t) in enumerate(params):       # (the parameters first, in order)
        v = args[i] if i < len(args) else kwargs.get(name)
        if v is None:
            if name not in defaults:
                return f"Argument {name} not provided."
        elif not _accepts(v, t):
            return (f"Expected a value of type '{t.annotation()}' for argument '{name}' "
                    f"but instead found type '{v.type.annotation()}'.")
    if len(args) > len(params):
        return (f"Expected at most {len(params)} arguments but found {len(args)} "
                f"positional arguments.")
    names = [n for n, _ in params]
    for k in kwargs:
        if k not in names:
            return f"Keyword argument {k} unknown."
    return None


def _declaration_schema(name, params, ret, defaults):
    """A declaration as TorchScript's schema prints it: `g(Tensor x, int? s=None) ->
    Tensor` (defaults: {name: value}, those to print)."""
    from ...jit.objects import _schema_type, _schema_default
    token = T.QUALIFIED_CLASS_NAMES.set(True)       # (`__torch__.M self`)
    try:
        ins = [f"{_schema_type(t)} {n}" + (f"={_schema_default(defaults[n])}"
                                            if n in defaults else "") for n, t in params]
        return f"{name}({', '.join(ins)}) -> {_schema_type(ret or T.NONE)}"
    finally:
        T.QUALIFIED_CLASS_NAMES.reset(token)


def pick_overload(compiler, fn, decls, args, kwargs, node, self_type=None):
    """(index, declaration) of the first of decls whose parameter types accept the call's
    arguments; a compile error in TorchScript's words, each declaration with why it did
    not, when none does."""
    from .signatures import signature_types
    method = self_type is not None
    check_declarations(fn, decls, compiler.src.range(node), method)
    given = ([_SelfArg(self_type)] if method else []) + list(args)
    variants = []
    for k, d in enumerate(decls):
        params, ret = signature_types(d, self_type=self_type)
        defaults = {n: p.default for n, p in inspect.signature(d).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        why = _mismatch(params, defaults, given, kwargs)
        if why is None:
            return k, d
        # (a method's declarations print as TorchScript names them, name__k, with self
        # and without defaults)
        shown = _declaration_schema(f"{fn.__name__}__{k}", params, ret, {}) if method \
            else _declaration_schema(fn.__name__, params, ret, defaults)
        variants.append(f"  \n  {shown}:\n  {why}")
    callee = node.func if isinstance(node, ast.Call) else node
    compiler.error("Arguments for call are not valid.\nThe following variants are "
                   "available:\n" + "\n".join(variants) + "\nThe original call is:", callee)


class _SelfArg:
    """A method's self among the arguments a declaration is checked against."""
    def __init__(self, t):
        self.type = t
