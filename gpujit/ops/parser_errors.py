"""PyTorch's argument-parser errors for a call that no overload of an op takes (the error
path of overloads.make_dispatcher only: nothing here runs on a call that succeeds).

PyTorch (torch/csrc/utils/python_arg_parser.cpp) binds each op's overloads as Python
signatures made from the aten schemas (tools/autograd/gen_python_functions.py): `self` is
`input` in a function and left out of a method, types are written as the parser names them
(`Scalar` is `Number`, `int[]` / `SymInt[]` `tuple of ints`, `ScalarType` `torch.dtype`, a
`T?` is `T`), defaults as the C++ binding prints them (`{-2,-1}`, `"fro"`, `None` for `[]`),
a function has `Tensor out = None` (`tuple of Tensors out = None` for several results) where
an out= form exists, and a factory's tensor options are `torch.dtype dtype = None,
torch.layout layout = None, torch.device device = None, bool pin_memory = False, bool
requires_grad = False`. The overloads are listed in the codegen's order (sorted by their C++
signature text, then a Tensor overload before its Scalar twin, int before int[] ...).

When no signature takes the call:
- one whose argument count fits (PyTorch's "plausible" one) is parsed again, raising the
  first fault it meets in parameter order: `argument 'dim' (position 2) must be int, not
  str`, `missing 1 required positional arguments: "k"` (PyTorch's own plural), `takes from 1
  to 3 positional arguments but 4 were given`, `got an unexpected keyword argument 'foo'`,
  `got multiple values for argument 'dim'`;
- an int list given a tuple with a non-int element fails as soon as a signature reaches it
  (`argument 'dim' failed to unpack the object at pos 2 with error "type must be tuple of
  ints,but got str"`);
- otherwise "received an invalid combination of arguments - got (Tensor, str), but expected
  one of:" and a ` * (signature)` line per overload, with PyTorch's "didn't match because
  some of the arguments have invalid types: (Tensor, !str!)" (the faulty ones between `!`,
  as torch prints them without a terminal) or "... some of the keywords were incorrect: dim"
  under the ones whose (text-counted) argument count fits the call, as
  torch/csrc/utils/invalid_arguments.cpp computes them. Keyword arguments are listed last
  given first (the order torch's std::unordered_map gives small dicts).

gpujit has no named tensors: PyTorch 2.13 lists no Dimname overload in these messages either.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from .numpy_aliases import ALIASES as _ALIASES
from .schema import ArgType

__all__ = ["signature_params", "parser_error", "torch_name", "tensor_args"]


class _P:
    """One parameter of a Python signature as PyTorch's parser holds it."""
    __slots__ = ("name", "type", "tname", "default", "kwarg_only", "allow_none", "bare_int")

    def __init__(self, name, type, tname, default, kwarg_only, allow_none):
        self.name, self.type, self.tname = name, type, tname
        self.default, self.kwarg_only, self.allow_none = default, kwarg_only, allow_none
        self.bare_int = True    # (an int list that takes an int: gpujit's ops, permissive)

    @property
    def optional(self):
        return self.default is not None


_SIMPLE = {"Tensor": "Tensor", "Scalar": "Number", "int": "int", "SymInt": "int",
           "float": "float", "complex": "complex", "bool": "bool", "str": "str",
           "ScalarType": "torch.dtype", "Layout": "torch.layout", "Device": "torch.device",
           "MemoryFormat": "torch.memory_format", "Generator": "torch.Generator",
           "Dimname": "name", "Storage": "torch.Storage", "QScheme": "torch.qscheme",
           "Stream": "Stream"}
_LISTS = {"Tensor": "tuple of Tensors", "int": "tuple of ints", "SymInt": "tuple of ints",
          "float": "tuple of floats", "Scalar": "tuple of Scalars", "Dimname": "tuple of names",
          "bool": "tuple of bools"}


def _type_name(t):
    return _LISTS.get(t.base, "tuple") if t.is_list else _SIMPLE.get(t.base, t.base)


_JIT_TO_CPP = {"Mean": "at::Reduction::Mean", "contiguous_format": "MemoryFormat::Contiguous",
               "long": "at::kLong"}


def _default_str(a):
    """The default as PyTorch's Python binding prints it (cpp.default_expr, then
    pythonify_default): None stays None, [a,b] is {a,b} ([] is None), 'fro' is "fro"."""
    d = a.default_text
    t = a.type
    if d is None:
        return None
    if d == "None":
        return "None"
    if t.base == "str" and not t.is_list and len(d) >= 2 and d[0] == d[-1] == "'":
        return '"' + d[1:-1].replace('"', '\\"') + '"'
    if t.is_list and d.startswith("[") and d.endswith("]"):
        inner = d[1:-1]
        return "None" if inner == "" else "{" + inner + "}"
    return _JIT_TO_CPP.get(d, d)


_TENSOR_OPTIONS = ("dtype", "layout", "device", "pin_memory")


def signature_params(d, method, with_out):
    """The parameters of op d's Python signature (see the module docstring)."""
    from .out_variants import python_out
    args = d.schema.arguments
    names = {a.name for a in args if a.kwarg_only}
    factory = all(n in names for n in _TENSOR_OPTIONS)
    pos, kw, opts = [], [], []
    for a in args:
        if method and a.name == "self":
            continue
        name = a.name
        if name == "self" and a.type.base == "Tensor" and not a.type.is_list:
            name = "input"
        default = _default_str(a)
        p = _P(name, a.type, _type_name(a.type), default, a.kwarg_only,
               a.type.optional or a.type.elem_optional or default == "None")
        if factory and a.kwarg_only and a.name in _TENSOR_OPTIONS:
            if a.name == "dtype":
                p.default = "None"
            elif a.name == "pin_memory":
                p.default, p.type, p.tname = "False", ArgType("bool", optional=True), "bool"
            opts.append(p)
        else:
            (kw if a.kwarg_only else pos).append(p)
    outs = []
    if with_out and not method and python_out(d):
        several = len(d.schema.returns) > 1
        outs.append(_P("out", ArgType("Tensor", is_list=several),
                       "tuple of Tensors" if several else "Tensor", "None", True, True))
    if factory and not any(a.name == "requires_grad" for a in args):
        opts.append(_P("requires_grad", ArgType("bool"), "bool", "False", True, False))
    for p in outs + opts:
        p.kwarg_only = True
    return pos + kw + outs + opts


def _to_string(params):
    parts, star = [], False
    for p in params:
        s = f"{p.tname} {p.name}"
        if p.default is not None:
            s += f" = {p.default}"
        if p.kwarg_only and not star:
            s = "*, " + s
            star = True
        parts.append(s)
    return "(" + ", ".join(parts) + ")"


# ---- the codegen's order of overloads (gen_python_functions.sort_overloads)

def _cpp_type(t):
    b = t.base
    if t.is_list:
        if b == "Tensor" and t.elem_optional:
            s = "c10::List<::std::optional<Tensor>>"
        else:
            s = {"int": "IntArrayRef", "SymInt": "SymIntArrayRef", "Tensor": "TensorList",
                 "Scalar": "ScalarList", "float": "ArrayRef<double>",
                 "Dimname": "DimnameList"}.get(b, b + "List")
            if t.list_size is not None and b != "float":
                s += f"[{t.list_size}]"
    else:
        s = {"int": "int64_t", "float": "double", "str": "c10::string_view"}.get(b, b)
    return s + "?" if t.optional else s


def _sort_key(d, method):
    parts, star = [], False
    for a in d.schema.arguments:
        if method and a.name == "self":
            continue
        ts = _cpp_type(a.type)
        name = "input" if a.name == "self" and ts in ("Tensor", "Number") else a.name
        if a.kwarg_only and not star:
            parts.append("*")
            star = True
        s = f"{ts} {name}"
        if a.default_text is not None:
            dflt = _default_str(a)
            s += f"={dflt}"
        parts.append(s)
    return f"{d.schema.base_name}({', '.join(parts)})"


def _plain(t):
    s = t.base
    if t.elem_optional:
        s += "?"
    if t.is_list:
        s += f"[{t.list_size if t.list_size is not None else ''}]"
    return s + "?" if t.optional else s


def _arg_smaller(t1, t2):
    t1, t2 = _plain(t1), _plain(t2)
    return ((t1 == "Scalar" and t2 == "Tensor") or (t1 == "Scalar?" and t2 == "Tensor?")
            or ("Dimname" in t1 and "Dimname" not in t2)
            or (t1 == "int[]" and t2 in ("int", "int?"))
            or (t1 == "Tensor[]" and "[]" in t2)
            or (t1 == "SymInt[]" and t2 == "int[]")
            or (t1 in ("SymInt", "int") and t2 == "Tensor"))


def _smaller(d1, d2, method):
    a1 = [a for a in d1.schema.arguments if not (method and a.name == "self")]
    a2 = [a for a in d2.schema.arguments if not (method and a.name == "self")]
    if len(a1) != len(a2):
        return False
    equal = all(_plain(x.type) == _plain(y.type) for x, y in zip(a1, a2))
    le = all(_plain(x.type) == _plain(y.type) or _arg_smaller(x.type, y.type)
             for x, y in zip(a1, a2))
    return le and not equal


def sorted_overloads(ovs, method):
    ovs = sorted(ovs, key=lambda d: _sort_key(d, method))
    larger = defaultdict(set)
    for i, a in enumerate(ovs):
        for j, b in enumerate(ovs):
            if _smaller(a, b, method):
                larger[i].add(j)
    if not larger:
        return ovs
    order = [i for i in range(len(ovs)) if i not in larger]
    for idx in range(len(ovs)):
        if idx >= len(order):
            break
        i = order[idx]
        for j in sorted(larger):
            larger[j].discard(i)
            if not larger[j]:
                del larger[j]
                order.append(j)
    return [ovs[i] for i in order]


def torch_name(pyname, ovs):
    """The name PyTorch's parser uses: the aten name (linalg_matrix_norm, not matrix_norm)."""
    base = ovs[0].schema.base_name
    return base if base != pyname and base.endswith("_" + pyname) else pyname


# ---- values as PyTorch's parser names them

def _typename(v):
    from .. import dtypes as _dt
    from ..device import device
    from . import registry as _reg
    if isinstance(v, _reg._Tensor):
        return "Tensor"
    if isinstance(v, _dt.dtype):
        return "torch.dtype"
    if isinstance(v, device):
        return "torch.device"
    t = type(v)
    if isinstance(v, np.generic):
        return f"numpy.{t.__name__}"
    if not t.__flags__ & _HEAPTYPE and t.__module__ != "builtins":
        # (a C extension's type: its tp_name is dotted, numpy.random._generator.Generator)
        return f"{t.__module__}.{t.__qualname__}"
    return t.__name__


_HEAPTYPE = 1 << 9          # Py_TPFLAGS_HEAPTYPE: a class written in Python


_M64 = (1 << 64) - 1
_MUL = 0xc6a4a7935bd1e995


def _shift_mix(v):
    return v ^ (v >> 47)


def _std_hash(s):
    """libstdc++'s std::hash<std::string> (_Hash_bytes, 64-bit, seed 0xc70f6907)."""
    b = s.encode()
    n = len(b)
    h = (0xc70f6907 ^ (n * _MUL)) & _M64
    aligned = n & ~7
    for i in range(0, aligned, 8):
        d = (_shift_mix((int.from_bytes(b[i:i + 8], "little") * _MUL) & _M64) * _MUL) & _M64
        h = ((h ^ d) * _MUL) & _M64
    if n & 7:
        h = ((h ^ int.from_bytes(b[aligned:], "little")) * _MUL) & _M64
    return _shift_mix((_shift_mix(h) * _MUL) & _M64)


def _kw_items(kwargs):
    """The keywords in the order torch's error walks them: a std::unordered_map<string,
    PyObject*> filled in the call's order (invalid_arguments.cpp), whose 13 first buckets
    (libstdc++) put a key in an empty bucket first, one in a bucket in use first of that
    bucket's keys: mostly last given first."""
    items = list(kwargs.items())
    if len(items) > 13:          # (a rehash: not followed)
        return items[::-1]
    out, bucket_of = [], {}
    for k, v in items:
        b = _std_hash(k) % 13
        i = next((j for j, (q, _) in enumerate(out) if bucket_of[q] == b), 0)
        bucket_of[k] = b
        out.insert(i, (k, v))
    return out


def _arg_desc(args, kwargs):
    s = "(" + "".join(f"{_typename(a)}, " for a in args) + "".join(
        f"{k}={_typename(v)}, " for k, v in _kw_items(kwargs))
    if args:
        s = s[:-2]
    return s + ")"


class _Opt:
    """A signature's text parsed back as invalid_arguments.cpp parses it (its quirks
    included: `*` and `()` count as arguments, a defaulted one is named by its default)."""

    def __init__(self, text):
        self.args = []
        for arg in text[1:-1].split(", "):
            sp = arg.rfind(" ")
            tname = arg[:sp] if sp >= 0 else arg
            self.args.append((arg[sp + 1:], tname))


def _text_matches(tname, v):
    n = _typename(v)
    if tname == "float":
        return n in ("float", "int", "long")
    if tname == "int":
        return n in ("int", "long")
    return n == tname


def _formatted_desc(opt, args, kwargs):
    kws = dict(kwargs)
    out = []
    n = len(args) + len(kwargs)
    for i in range(n):
        is_kw = i >= len(args)
        name, tname = opt.args[i]
        v = kws[name] if is_kw else args[i]
        ok = _text_matches(tname, v)
        s = f"{name}=" if is_kw else ""
        if isinstance(v, (tuple, list)):
            inner = ", ".join(_typename(x) for x in v)
            s += (f"tuple of ({inner}{',' if len(v) == 1 else ''})" if isinstance(v, tuple)
                  else f"list of [{inner}]")
        else:
            s += _typename(v)
        out.append(s if ok else f"!{s}!")
    s = "(" + "".join(x + ", " for x in out)
    if args:
        s = s[:-2]
    return s + ")"


def _unmatched_kwargs(opt, kwargs):
    start = max(len(opt.args) - len(kwargs), 0)
    names = {nm for nm, _ in opt.args[start:]}
    return [k for k, _ in _kw_items(kwargs) if k not in names]


def _invalid_combination(name, sigs, args, kwargs):
    msg = [f"{name}() received an invalid combination of arguments - got "
           f"{_arg_desc(args, kwargs)}, but expected one of:\n"]
    for params in sigs:
        text = _to_string(params)
        msg.append(f" * {text}\n")
        opt = _Opt(text)
        if len(opt.args) == len(args) + len(kwargs):
            bad = _unmatched_kwargs(opt, kwargs) if kwargs else []
            if bad:
                msg.append("      didn't match because some of the keywords were incorrect: "
                           + ", ".join(bad) + "\n")
            else:
                msg.append("      didn't match because some of the arguments have invalid "
                           f"types: {_formatted_desc(opt, args, kwargs)}\n")
    return TypeError("".join(msg))


# ---- one signature parsed as FunctionSignature::parse does

def _int_elem(x):
    from .overloads import _value_matches
    return _value_matches(ArgType("int"), x)


def _unpack_error(name, p, v):
    """An int list given a sequence with an element that is no int: torch's parser raises
    while trying the signature (whatever the other overloads)."""
    if p.type.is_list and p.type.base in ("int", "SymInt") and isinstance(v, (list, tuple)) \
            and v and _int_elem(v[0]):
        for i, x in enumerate(v):
            if not _int_elem(x):
                return TypeError(f"{name}(): argument '{p.name}' failed to unpack the object "
                                 f"at pos {i + 1} with error \"type must be tuple of ints,"
                                 f"but got {_typename(x)}\"")
    return None


def _matches(p, v):
    from .overloads import _value_matches
    if p.name == "out" and p.type.is_list:
        return isinstance(v, (tuple, list))
    t = p.type
    if t.base == "Generator":
        from .random import Generator
        return isinstance(v, Generator)
    if t.base == "Layout":
        from ..dtypes import layout
        return isinstance(v, layout)
    if not p.bare_int and t.is_list and isinstance(v, (int, np.integer)):
        return False        # (an unsized int list: a bare int is no tuple of ints)
    return _value_matches(t, v)


def _varargs_ints(params, args):
    # (torch's parser takes the arguments as the list where the first is an index: one
    # after it that is none fails to unpack, torch.rand(2, 'a'))
    return (sum(1 for p in params if not p.kwarg_only) == 1 and params[0].type.is_list
            and params[0].type.base in ("int", "SymInt") and args
            and _int_elem(args[0]))


def _parse(name, params, args, kwargs, raise_exception):
    """None where params take (args, kwargs); else the TypeError torch's parse raises (or
    True where it would only report a mismatch, raise_exception False)."""
    nargs = len(args)
    max_pos = sum(1 for p in params if not p.kwarg_only)
    min_args = sum(1 for p in params if not p.optional)
    varargs = _varargs_ints(params, args)
    if varargs:
        args = (tuple(args),)
        nargs = 1

    def extra():
        if min_args != max_pos:
            return TypeError(f"{name}() takes from {min_args} to {max_pos} positional "
                             f"arguments but {nargs} were given")
        return TypeError(f"{name}() takes {max_pos} positional argument"
                         f"{'' if max_pos == 1 else 's'} but {nargs} "
                         f"{'was' if nargs == 1 else 'were'} given")

    if nargs > max_pos:
        return extra() if raise_exception else True
    used = 0
    for i, p in enumerate(params):
        is_kw = i >= nargs
        if not is_kw and p.kwarg_only:
            return extra() if raise_exception else True
        missing = object()
        v = args[i] if not is_kw else kwargs.get(p.name, missing)
        if v is missing and is_kw:
            # (NumPy's names, ops/numpy_aliases.py: x.max(axis=None) is "argument 'dim'
            # must be int, not NoneType")
            for al in _ALIASES.get(p.name, ()):
                if al in kwargs:
                    v = kwargs[al]
                    break
        if is_kw and v is not missing:
            used += 1
        if (v is missing and p.optional) or (v is None and p.allow_none):
            continue
        if v is missing:
            if not raise_exception:
                return True
            miss = [q.name for q in params[i:] if not q.optional]
            return TypeError(f"{name}() missing {len(miss)} required positional argument"
                             f"{'s' if len(miss) == 1 else ''}: "
                             + ", ".join(f'"{m}"' for m in miss))
        e = _unpack_error(name, p, v)
        if e is not None:
            return e
        if _matches(p, v):
            continue
        if not raise_exception:
            return True
        if is_kw:
            return TypeError(f"{name}(): argument '{p.name}' must be {p.tname}, not "
                             f"{_typename(v)}")
        if p.type.is_list and isinstance(v, (list, tuple)) and v:
            # (its first element is what fails: torch's is_int_list looks at that one)
            return TypeError(f"{name}(): argument '{p.name}' (position {i + 1}) must be "
                             f"{p.tname}, but found element of type {_typename(v[0])} at pos 0")
        return TypeError(f"{name}(): argument '{p.name}' (position {i + 1}) must be "
                         f"{p.tname}, not {_typename(v)}")
    if used < len(kwargs):
        if not raise_exception:
            return True
        pnames = [p.name for p in params]
        for k in kwargs:
            if k not in pnames:
                return TypeError(f"{name}() got an unexpected keyword argument '{k}'")
            if pnames.index(k) < nargs:
                return TypeError(f"{name}() got multiple values for argument '{k}'")
        return TypeError("invalid keyword arguments")
    return None


class _Sig:
    """A Python signature of a function gpujit writes by hand (randint, arange, split ...)
    as an op: its aten schema, whether it takes out=."""
    __slots__ = ("schema", "name", "out")

    def __init__(self, text, out):
        from .schema import parse_schema
        self.schema = parse_schema(text)
        self.name, self.out = self.schema.name, out


_OPTS = ("ScalarType? dtype=None, Layout? layout=None, Device? device=None, "
         "bool? pin_memory=None) -> Tensor")
# PyTorch's Python signatures of the functions gpujit writes by hand, in its order: (aten
# schema, takes out=); a factory's tensor options are added to its schema
_SIGNATURES = {
    "rand": [(f"rand(SymInt[] size, *, Generator? generator, {_OPTS}", True),
             (f"rand(SymInt[] size, *, {_OPTS}", True)],
    "randn": [(f"randn(SymInt[] size, *, Generator? generator, {_OPTS}", True),
              (f"randn(SymInt[] size, *, {_OPTS}", True)],
    "randint": [(f"randint(SymInt high, SymInt[] size, *, Generator? generator, {_OPTS}", True),
                (f"randint(SymInt high, SymInt[] size, *, {_OPTS}", True),
                (f"randint(SymInt low, SymInt high, SymInt[] size, *, Generator? generator, "
                 f"{_OPTS}", True),
                (f"randint(SymInt low, SymInt high, SymInt[] size, *, {_OPTS}", True)],
    "randperm": [(f"randperm(SymInt n, *, Generator? generator, {_OPTS}", True),
                 (f"randperm(SymInt n, *, {_OPTS}", True)],
    "arange": [(f"arange(Scalar end, *, {_OPTS}", True),
               (f"arange(Scalar start, Scalar end, *, {_OPTS}", False),
               (f"arange(Scalar start, Scalar end, Scalar step=1, *, {_OPTS}", True)],
    # (torch._VF.split, which Tensor.split calls with an int (or bool) split_size)
    "split": [("split(Tensor(a) self, SymInt split_size, int dim=0) -> Tensor(a)[]", False),
              ("split.sizes(Tensor(a) self, SymInt[] split_size, int dim=0) -> Tensor(a)[]",
               False)],
}
_SIGNATURE_PARAMS: dict = {}


def signature_error(name, args, kwargs):
    """The TypeError PyTorch's parser raises for a call of `name` (one of _SIGNATURES, a
    function written by hand in gpujit), or None where one of its signatures takes it (the
    error path only)."""
    sigs = _SIGNATURE_PARAMS.get(name)
    if sigs is None:
        sigs = []
        for text, out in _SIGNATURES[name]:
            params = signature_params(_Sig("aten::" + text, out), False, False)
            for p in params:
                p.bare_int = False          # (sizes: a tuple, or ints as varargs)
            if out:
                at = next(i for i, p in enumerate(params) if p.name == "dtype")
                params.insert(at, _P("out", ArgType("Tensor"), "Tensor", "None", True, True))
            sigs.append(params)
        _SIGNATURE_PARAMS[name] = sigs
    for params in sigs:
        if _parse(name, params, args, kwargs, False) is None:
            return None
    return _error_for(name, sigs, args, kwargs)


# PyTorch's Python signatures of a name that gpujit's overloads (whose number operands
# take Python numbers themselves) do not have: Scalar overloads its Python binding keeps
# (tools/autograd/gen_python_functions.py skips only add / sub / mul / div.Scalar), by
# the Python name, for the parser's errors: (schema, whether the function takes out=); a
# method has those with a Tensor self. A name's overloads that take a parameter of
# _DROPPED (an alias's: true_divide has no rounding_mode) are not its signatures.
_SCALAR_TWINS = {
    "div": (("div.Scalar_mode(Tensor self, Scalar other, *, str? rounding_mode) -> Tensor",
             False),),
    "divide": (("divide.Scalar(Tensor self, Scalar other) -> Tensor", False),
               ("divide.Scalar_mode(Tensor self, Scalar other, *, str? rounding_mode) -> "
                "Tensor", False)),
    "true_divide": (("true_divide.Scalar(Tensor self, Scalar other) -> Tensor", False),),
    "floor_divide": (("floor_divide.Scalar(Tensor self, Scalar other) -> Tensor", False),),
    "remainder": (("remainder.Scalar(Tensor self, Scalar other) -> Tensor", True),
                  ("remainder.Scalar_Tensor(Scalar self, Tensor other) -> Tensor", False)),
    "rsub": (("rsub.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor", False),),
    # (the aliases' Scalar overloads: the binding skips only add / sub / mul / div's)
    "subtract": (("subtract.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor",
                  False),),
    "multiply": (("multiply.Scalar(Tensor self, Scalar other) -> Tensor", False),),
    # (torch.where(c, self=2.0, other=y) is where.ScalarSelf's: its binding lists these)
    "where": (("where.ScalarSelf(Tensor condition, Scalar self, Tensor other) -> Tensor",
               False),
              ("where.ScalarOther(Tensor condition, Tensor self, Scalar other) -> Tensor",
               False),
              ("where.Scalar(Tensor condition, Scalar self, Scalar other) -> Tensor", False)),
}
# (a Tensor-Scalar overload with out=, and for some a Scalar-Tensor one, as torch 2.13's)
for _name in ("copysign", "eq", "fmod", "ge", "gt", "le", "lt", "ne"):
    _SCALAR_TWINS[_name] = ((f"{_name}.Scalar(Tensor self, Scalar other) -> Tensor", True),)
for _name in ("bitwise_and", "bitwise_left_shift", "bitwise_or", "bitwise_right_shift",
              "bitwise_xor", "xlogy"):
    _SCALAR_TWINS[_name] = (
        (f"{_name}.Scalar(Tensor self, Scalar other) -> Tensor", True),
        (f"{_name}.Scalar_Tensor(Scalar self, Tensor other) -> Tensor", _name == "xlogy"))
for _name in ("pow", "float_power"):
    _SCALAR_TWINS[_name] = (
        (f"{_name}.Scalar(Tensor self, Scalar exponent) -> Tensor", True),
        (f"{_name}.Scalar_Tensor(Scalar self, Tensor exponent) -> Tensor", True))
del _name
_DROPPED = {"true_divide": "rounding_mode"}


def _twins_of(pyname, method):
    """The name whose _SCALAR_TWINS a call of pyname lists (x.div_() lists x.div()'s), or
    None."""
    if pyname in _SCALAR_TWINS:
        return pyname
    if method and pyname.endswith("_") and pyname[:-1] in _SCALAR_TWINS:
        return pyname[:-1]
    return None


def has_scalar_twins(pyname, method):
    return _twins_of(pyname, method) is not None


def _python_overloads(pyname, ovs, method):
    """ovs with the Scalar overloads of PyTorch's Python signatures for pyname, in the
    codegen's order."""
    base = _twins_of(pyname, method) or pyname
    drop = _DROPPED.get(base)
    if drop is not None:
        ovs = [d for d in ovs if all(a.name != drop for a in d.schema.arguments)]
    twins = [_Sig("aten::" + t, out) for t, out in _SCALAR_TWINS.get(base, ())]
    if method:          # (a method's self is the Tensor)
        twins = [d for d in twins if d.schema.arguments[0].type.base == "Tensor"]
    return sorted_overloads(list(ovs) + twins, method)


def _params(d, method, with_out):
    if not isinstance(d, _Sig):
        return signature_params(d, method, with_out)
    params = signature_params(d, method, False)
    if with_out and d.out and not method:
        params.append(_P("out", ArgType("Tensor"), "Tensor", "None", True, True))
    return params


def parser_error(pyname, ovs, args, kwargs, method, with_out):
    """The TypeError PyTorch's parser raises for a call (args without self for a method)
    that none of ovs takes."""
    name = torch_name(pyname, ovs)
    sigs = [_params(d, method, with_out) for d in _python_overloads(pyname, ovs, method)]
    return _error_for(name, sigs, args, kwargs)


def _error_for(name, sigs, args, kwargs):
    # (a signature that reaches an int list given a bad element raises at once)
    for params in sigs:
        e = _parse(name, params, args, kwargs, False)
        if isinstance(e, TypeError):
            return e
    n = len(args) + len(kwargs)
    plausible = [ps for ps in sigs
                 if sum(1 for p in ps if not p.optional) <= n <= len(ps)]
    if len(plausible) == 1:
        e = _parse(name, plausible[0], args, kwargs, True)
        if isinstance(e, TypeError):
            return e
    return _invalid_combination(name, sigs, args, kwargs)


# ---- Python-level functions' Tensor parameters
# (F.pdist(None) leaked the body's AttributeError: 'NoneType' object has no attribute 'dim';
# the functions call this first, under `if not torch.jit.is_scripting()`)

def _tensor_arg_type_name(v):
    t = type(v)
    return t.__name__ if t.__module__ == "builtins" or t.__flags__ & (1 << 9) \
        else f"{t.__module__}.{t.__qualname__}"


def tensor_args(fname, names, *values):
    """Raise "fname(): argument 'x' (position N) must be Tensor, not NoneType" for the
    first of values (the parameters `names`, space-separated, at positions 1, 2, ...) that
    is no Tensor; None where a name ends in '?' (an Optional[Tensor])."""
    from .registry import _Tensor as Tensor
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            n = names.split()[i]
            if n.endswith("?"):
                if v is None:
                    continue
                n = n[:-1]
            raise TypeError(f"{fname}(): argument '{n}' (position {i + 1}) must be Tensor, "
                            f"not {_tensor_arg_type_name(v)}")


def scalar_args(fname, spec, *values):
    """PyTorch's parser TypeError for the first of values that its binding's bool / float
    parameter refuses ("pairwise_distance(): argument 'p' (position 3) must be float, not
    NoneType"): spec names them, space-separated, as name:bool:position / name:float:position.
    A bool parameter takes only a Python bool (not 1, np.bool_, a Tensor); a float one any
    Python or NumPy number or a 0-dim Tensor."""
    import numbers
    from .registry import _Tensor as Tensor
    for item, v in zip(spec.split(), values):
        n, kind, pos = item.split(":")
        if v.__class__ is bool or (kind == "float" and (
                (isinstance(v, numbers.Number) and not isinstance(v, complex))
                or (isinstance(v, Tensor) and v.dim() == 0))):
            continue
        raise TypeError(f"{fname}(): argument '{n}' (position {pos}) must be {kind}, not "
                        f"{_tensor_arg_type_name(v)}")
