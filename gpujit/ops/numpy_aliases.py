"""NumPy-style keyword names PyTorch's Python argument parser accepts for some parameters
(torch/csrc/utils/python_arg_parser.cpp, `numpy_compatibility_arg_names`): `axis` for
`dim`, `keepdims` for `keepdim`, `x` / `a` / `x1` for `input` (a function's Tensor
`self`), `x2` for `other` -- x.sum(axis=0), x.mean(axis=1, keepdims=True),
torch.add(x1=x, x2=y). A parameter not given positionally takes its own name's keyword
first, else the first of its aliases present; a keyword no parameter took is the parser's
"unexpected keyword argument" (x.sum(dim=0, axis=0), x.sum(0, axis=0)). Only bindings of
the parser have them (torch.<fn>, Tensor.<method>; not torch.nn.functional's Python
functions, not TorchScript).

Nothing here runs on a call that uses the parameters' own names: the overload dispatchers
(overloads.make_dispatcher) and the out= wrappers (out_variants.with_out) rename on their
failure path; a single-overload entry point bound as a method or a function takes
`**_kw` (entry_codegen.numpy_entry) and calls `call_renamed` only when it is not empty.
"""
from __future__ import annotations

__all__ = ["ALIASES", "python_name", "renamed_kwargs", "match_renamed", "call_renamed",
           "takes_aliases", "self_is_input", "self_keyword_error"]

ALIASES = {"dim": ("axis",), "keepdim": ("keepdims",), "input": ("x", "a", "x1"),
           "other": ("x2",)}
_ALIAS_NAMES = frozenset(n for v in ALIASES.values() for n in v)


def python_name(a, method):
    """The name PyTorch's parser gives schema argument a (None: a method's self)."""
    if a.name == "self":
        if method:
            return None
        if a.type.base == "Tensor" and not a.type.is_list:
            return "input"
    return a.name


def self_is_input(ovs):
    """Do all of a function's overloads call their first parameter `input` (a Tensor
    `self`)? Then PyTorch's parser takes no `self=` keyword (torch.sigmoid(self=x))."""
    return bool(ovs) and all(d.schema.arguments and d.schema.arguments[0].name == "self"
                             and python_name(d.schema.arguments[0], False) == "input"
                             for d in ovs)


def self_keyword_error(pyname, ovs, args, kwargs):
    """PyTorch's TypeError for a function call naming `self=` (no parameter of its Python
    signature: `sigmoid() missing 1 required positional arguments: "input"`, or the
    overloads' invalid combination)."""
    from .parser_errors import parser_error
    return parser_error(pyname, ovs, args, kwargs, False, True)


def takes_aliases(op, method):
    """Does op's Python binding (a method's or a function's) have a parameter named
    input / dim / keepdim / other, the ones with NumPy names?"""
    return any(python_name(a, method) in ALIASES for a in op.schema.arguments)


def renamed_kwargs(d, method, nargs, kwargs):
    """kwargs (of a call with nargs positional arguments, self included for a method) with
    the keywords overload d's Python signature takes under another name (input, NumPy's)
    renamed to d's schema names; None when nothing is renamed."""
    out = None
    for i, a in enumerate(d.schema.arguments):
        if i < nargs:
            continue
        pn = python_name(a, method)
        if pn is None:
            continue
        cur = out if out is not None else kwargs
        if pn in cur:
            if pn != a.name:
                out = dict(cur) if out is None else out
                out[a.name] = out.pop(pn)
            continue
        for al in ALIASES.get(pn, ()):
            if al in cur:
                out = dict(cur) if out is None else out
                out[a.name] = out.pop(al)
                break
    return out


def match_renamed(ovs, args, kwargs, method):
    """(overload, renamed kwargs) for a call no overload takes under its keywords' own
    names but one takes with them renamed (renamed_kwargs), or None."""
    from .overloads import _match
    tries = []
    for d in ovs:
        kw = renamed_kwargs(d, method, len(args), kwargs)
        if kw is not None:
            tries.append((d, kw))
    for loose in (False, True):
        for d, kw in tries:
            if _match([d], args, kw, loose) is d:
                return d, kw
    return None


class _Missing:
    """The default of a required parameter of a `**_kw` entry point (its keyword may come
    under a NumPy name): not given."""
    __slots__ = ()

    def __repr__(self):
        return "<not given>"


NOT_GIVEN = _Missing()


def call_renamed(op, plain, method, values, kw, extra=()):
    """The slow path of a `**_kw` entry point (entry_codegen.numpy_entry): values, the
    schema's arguments as Python bound them (NOT_GIVEN: a required one not given; a
    defaulted one at its default: not given either), kw the keywords no parameter took.
    The call again through `plain` (the entry point without **_kw) with NumPy's names
    renamed; a keyword left over (x.sum(dim=0, axis=0), x.cumsum(0, axis=0), foo=1) or a
    required argument missing: `plain` called as the call was, for Python's TypeError
    (PyTorch's words: it names the first keyword that is no parameter's own name)."""
    args = op.schema.arguments
    vals = list(values)
    left = dict(kw)
    for i, a in enumerate(args):
        pn = python_name(a, method)
        if pn not in ALIASES or not left:
            continue
        v = vals[i]
        if v is NOT_GIVEN:
            given = False
        elif not a.has_default:
            given = True
        else:
            d = a.default
            given = not (v is d or (type(v) is type(d) and v == d))
        if given:
            continue
        for al in ((pn,) if pn != a.name else ()) + ALIASES[pn]:
            if al in left:
                vals[i] = left.pop(al)
                break
    if left or extra or any(v is NOT_GIVEN for v in vals):
        from .deprecated_signatures import renamed_call, NO_CALL   # (x.add_(-lr, g))
        r = renamed_call(op, plain, method, values, kw, extra)
        if r is not NO_CALL:
            return r
        raise _call_error(op, plain, method, values, kw, extra)
    pos, named = [], {}
    for i, (a, v) in enumerate(zip(args, vals)):
        if not a.kwarg_only and not named and len(pos) == i:
            pos.append(v)
        else:
            named[a.name] = v
    return plain(*pos, **named)


def _call_error(op, plain, method, values, kw, extra):
    """PyTorch's TypeError for a `**_kw` entry point's call that its signature does not
    take (parser_errors._parse over the call as it was, NumPy's names as they came):
    `cumsum() takes 1 positional argument but 2 were given`, `unsqueeze() missing 1
    required positional arguments: "dim"`, `sum() got an unexpected keyword argument
    'axis'`."""
    from .parser_errors import _parse, signature_params, torch_name, has_scalar_twins, \
        parser_error
    pos, named, prefix = [], {}, True
    for a, v in zip(op.schema.arguments, values):
        pn = python_name(a, method)
        if pn is None:
            continue
        if v is NOT_GIVEN:
            prefix = False
        elif prefix and not a.kwarg_only:
            pos.append(v)
        elif not (a.has_default and (v is a.default or (
                type(v) is type(a.default) and v == a.default))):
            named[pn] = v
    named.update(kw)
    pos.extend(extra)
    if has_scalar_twins(op.public_name, method):
        # (PyTorch's signatures include Scalar overloads gpujit's op has not: its parser
        # names the invalid combination of them all, x.floor_divide())
        return parser_error(op.public_name, [op], pos, named, method, not method)
    e = _parse(torch_name(op.public_name, [op]), signature_params(op, method, not method),
               pos, named, True)
    if isinstance(e, TypeError):
        return e
    try:        # (Python's own words, as the entry point without **_kw gives them)
        plain(*values[:len(pos)], **kw)
    except TypeError as e2:
        return e2
    return TypeError(f"{op.public_name}(): invalid arguments")
