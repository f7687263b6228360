"""Resolving a scripted call to a registry overload by IR types, as eager gpujit resolves
it by Python values: which ops a callee names (`gpujit.tanh`, `torch.tanh` under
`import gpujit as torch`, `F.relu`, `x.sum()`), which overload the argument types fit,
and the inputs of the node in schema order (defaults become constants). A call no overload
accepts gets an error listing every schema and why each did not match. Calls of Python
functions (FunctionCallMixin, alias_target, boolean dispatch) are function_calls.py's."""
from __future__ import annotations

import inspect
import weakref

from ...ir import types as T
from ...ir.schema_match import is_number_type, type_matches
from ...ops import registry as _reg
from ...ops.number_operands import scalar_twin_places

__all__ = ["candidates_for_function", "candidates_for_method", "methods_with_later_self", "match_schema",
           "bool_as_number",
           "schema_arg_type", "describe_type",
           "describe_arg_type", "Match"]

_NUM = (T.IntType, T.FloatType, T.BoolType, T.NumberType)

# the IR type a schema argument or return type stands for: one definition, in the IR
from ...ir.schema_match import schema_arg_type  # noqa: E402


def is_gpujit_name(name) -> bool:
    """Whether a module name is gpujit's own (gpujit, gpujit.nn, ...): a user module whose
    name only begins with "gpujit" (gpujit_utils) is the user's."""
    return name == "gpujit" or str(name).startswith("gpujit.")


def describe_type(t) -> str:
    """'a Tensor', 'an int', 'None', 'a List[int]': a type in a sentence."""
    if isinstance(t, T.NoneType):
        return "None"
    if isinstance(t, T.TensorType):
        return "a Tensor"
    name = t.annotation() if not isinstance(t, T.NumberType) else "number"
    return ("an " if name[0] in "aeiouAEIO" else "a ") + name       # a Union[...]


_ARG_WORDS = {"Tensor": "a Tensor", "int": "an int", "SymInt": "an int", "float": "a float",
              "bool": "a bool", "str": "a str", "Scalar": "a number",
              "ScalarType": "a dtype", "Device": "a device", "Layout": "a layout",
              "MemoryFormat": "a memory format", "Generator": "a Generator"}
_LIST_WORDS = {"Tensor": "a list of Tensors", "int": "a list of ints",
               "SymInt": "a list of ints", "float": "a list of floats",
               "bool": "a list of bools"}


def describe_arg_type(at) -> str:
    if at.is_list:
        s = _LIST_WORDS.get(at.base, f"a list of {at.base}")
        if at.base in ("int", "SymInt"):
            s += " (or an int)"
    else:
        s = _ARG_WORDS.get(at.base, f"a {at.base}")
    return s + " or None" if at.optional else s


def short_type(t) -> str:
    """The spelling in a '(Tensor, str)' argument list."""
    return "Tensor" if isinstance(t, T.TensorType) else t.annotation() \
        if not isinstance(t, T.NoneType) else "None"


# --------------------------------------------------------------------------------------
# which ops a callee names

def _bindings(target, name):
    return list(_reg._PUBLIC.get(target, {}).get(name, []))


def candidates_for_function(name, functional=False):
    """Overloads of `gpujit.<name>` (or `F.<name>` when functional), in resolution order.
    Python wrappers over an op (gpujit.zeros takes varargs sizes) fall back to the ops
    named `aten::<name>`."""
    name = _normalized(name)
    found = []
    if functional:
        found += _bindings("functional", name)
    found += [d for d in _bindings("function", name) if d not in found]
    if not found and functional and name in _FUNCTIONAL_ATEN:
        # F.nll_loss is aten::nll_loss_nd (any number of spatial dims), not aten::nll_loss
        # (1-D / 2-D input only), as torch.nn.functional calls it
        found = list(_reg.OVERLOADS.get(f"aten::{_FUNCTIONAL_ATEN[name]}", []))
    if not found:
        found = [d for d in _reg.OVERLOADS.get(f"aten::{name}", []) + _more_overloads(name)
                 if d.schema.arguments and not _is_scalar_family(d)]
    # the Python-number overloads first (they take no Tensor, so never shadow a Tensor
    # overload): torch.lt(i, 10), torch.size(x, 0), as .code prints them
    found = [d for d in _reg.OVERLOADS.get(f"aten::{name}", [])
             if _is_scalar_family(d) and not _explicit_only(d) and d not in found] + found
    if not found and functional:
        found = list(_reg.OVERLOADS.get(f"aten::{_FUNCTIONAL_ATEN.get(name, name)}", []))
    return found


def _normalized(name):
    """The target of an alias that is also an op of its own (torch.ger, x.swapaxes(),
    torch.moveaxis): scripted code calls the target, as TorchScript's normalize_ops
    rewrites aten::ger to aten::outer."""
    from ...ops.aliases import ALIASES
    base, suffix = (name[:-1], "_") if name.endswith("_") and not name.endswith("__") \
        else (name, "")
    target = ALIASES.get(base)
    return target + suffix if target is not None else name


def _more_overloads(name):
    """Ops a Python name covers beyond aten::<name> (none now: scripted x.split([1, 3])
    is aten::split.sizes, as torch's graph has it)."""
    other = _ALSO.get(name)
    return list(_reg.OVERLOADS.get(other, [])) if other else []


_ALSO = {}

# F.<name> whose op ATen names otherwise (the wrapper binds its Python arguments to it)
_FUNCTIONAL_ATEN = {"cross_entropy": "cross_entropy_loss", "nll_loss": "nll_loss_nd"}


def candidates_for_method(name):
    """Overloads of the Tensor method `x.<name>(...)`: the method bindings, then other
    `aten::<name>` overloads whose first argument is a Tensor (x.size(0), x.dim())."""
    name = _normalized(name)
    found = _bindings("method", name)
    for d in _reg.OVERLOADS.get(f"aten::{name}", []) + _more_overloads(name):
        args = d.schema.arguments
        if d not in found and args and args[0].type.is_tensor and not _later_self(args):
            found.append(d)
    return found


def _later_self(args):
    """A Tensor `self` after the first argument (where.self(Tensor condition, Tensor self,
    Tensor other)): the receiver binds to it, not to the first Tensor (x.where(c, y) is
    where(c, x, y))."""
    return any(a.name == "self" and a.type.is_tensor for a in args[1:])


def methods_with_later_self(name):
    """Overloads of `aten::<name>` whose Tensor `self` comes after other arguments
    (polygamma(int n, Tensor self)): Tensor methods in PyTorch, the receiver bound to
    `self`."""
    return [d for d in _reg.OVERLOADS.get(f"aten::{name}", []) if _later_self(d.schema.arguments)]


def _is_scalar_family(d):
    from ...ops.scalar_ops import PYTHON_VALUED
    return d.name in PYTHON_VALUED


def _explicit_only(d):
    from ...ops.scalar_ops import EXPLICIT_ONLY
    return d.name in EXPLICIT_ONLY


# --------------------------------------------------------------------------------------
# matching one schema

class Match:
    """A schema that fits: `items` is one entry per schema argument, in order: ('value',
    Value), ('pack', [Values]) for varargs sizes, ('default', python value)."""
    __slots__ = ("op", "items")

    def __init__(self, op, items):
        self.op, self.items = op, items


def _int_for_float(p, t) -> bool:
    """Is t a list or tuple holding ints, given for p's `float[]`? TorchScript's schema
    matching converts no int list to a float list: [1] == [1.0] and (1, 2.0) == (1, 2.0)
    fit no aten::eq overload ("Arguments for call are not valid", torch 2.13). (A single
    int still fits a `float` here: gpujit's registry has one float overload where
    TorchScript has int ones too, math.sqrt's aten::sqrt.int.)"""
    if p.type.base != "float" or not p.type.is_list:
        return False
    if isinstance(t, T.OptionalType):
        t = t.elem
    if isinstance(t, T.ListType):
        return isinstance(t.elem, T.IntType)
    return isinstance(t, T.TupleType) and any(isinstance(e, T.IntType) for e in t.elems)


def _int_for_tensor_op_float(p, t, op) -> bool:
    """Is t an int (or Optional[int]) given for p's `float` of an op that takes a Tensor?
    TorchScript's schema matching converts no int to a float: torch.dropout(x, 0, False),
    torch.isclose(x, y, 0, 0), torch.layer_norm(x, [3], None, None, 0) are refused
    ("Expected a value of type 'float' for argument 'p' but instead found type 'int'",
    torch 2.13; gpujit's float parameters of Tensor ops are torch's float ones, not
    Scalars). Scalar functions (math.sqrt(n)) keep taking an int: gpujit's registry has
    one float overload where TorchScript has int ones too."""
    if p.type.base != "float" or p.type.is_list:
        return False
    if isinstance(t, T.OptionalType):
        t = t.elem
    return isinstance(t, T.IntType) and any(a.type.base == "Tensor"
                                            for a in op.schema.arguments)


def _int_for_complex_op_float(p, t, op) -> bool:
    """Is t an int given for p's `float` of an op on complex numbers (pow.complex_float)?
    TorchScript declares the int forms it has (sub.complex_int); where it has none, `c **
    2` is pow's Scalar overload (a float), not pow.complex_float."""
    return p.type.base == "float" and not p.type.is_list and isinstance(t, T.IntType) and \
        any(a.type.base == "complex" for a in op.schema.arguments)


def _fits(p, t, op, convert=False, lenient=True) -> bool:
    if type_matches(p.type, t):
        return not _int_for_float(p, t) and not _int_for_tensor_op_float(p, t, op) and \
            not _int_for_complex_op_float(p, t, op)
    if convert and isinstance(t, T.BoolType) and not p.type.is_list and \
            p.type.base in ("int", "SymInt", "float"):
        return True          # TorchScript's implicit aten::Int / aten::Float of a bool
    if convert and isinstance(t, T.TensorType) and \
            tensor_as_number(op, p, any_op=convert == "numbers"):
        return True          # ... and aten::IntImplicit / FloatImplicit of a Tensor
    if convert and isinstance(t, T.NumberType) and number_as_int_or_float(op, p):
        return True          # ... and aten::Int / aten::Float of a number (x.item())
    # (only where PyTorch's overloads take a number: ops/number_operands.py)
    # (not where another overload takes a Scalar there: clamp.Tensor's min / max are
    # clamp's, so y.clamp(t, 1) is clamp of aten::ScalarImplicit(t), as TorchScript's)
    return lenient and op.is_pointwise and p.name in op.operands and \
        p.name in op.number_operands and is_number_type(t) and \
        p.name not in scalar_twin_places(op)


def _exact_choice(m, ops, args, kwargs):
    """m, or the first overload that takes a number argument as a number where m takes it
    as a Tensor operand: torch.lerp(x, y, 0.5) is lerp.Scalar (its dtype checks and
    promotion), as TorchScript's schema matching picks, though lerp.Tensor comes first."""
    for op in ops:
        m2 = match_schema(op, args, kwargs, lenient=False)
        if isinstance(m2, Match):
            return m2
    return m


def _empty_literal_choice(m, others, args, kwargs):
    """Match m, or, when m takes an empty list literal that a later overload takes as a
    float list, that one: torch.tensor([]) is float32 (eager's default dtype), not
    tensor.bool_list's bool (TorchScript cannot run it at all)."""
    empties = [a for a in list(args) + list(kwargs.values())
               if not isinstance(a, tuple) and is_empty_list_literal(a)]
    if not empties:
        return m

    def bases(match):
        return {p.type.base for p, (kind, x) in zip(match.op.schema.arguments, match.items)
                if kind == "value" and any(x is e for e in empties)}
    if bases(m) == {"float"}:
        return m
    for op in others:
        m2 = match_schema(op, args, kwargs)
        if isinstance(m2, Match) and bases(m2) == {"float"}:
            return m2
    return m


def is_empty_list_literal(v) -> bool:
    """Is v a `[]` written as a call's argument? Its type is List[Tensor] (TorchScript's
    rule for an unannotated empty list), but, as TorchScript's prim::EmptyListLiteral, it
    fits any list parameter of the callee (torch.sum(x, []), x.view([]), torch.zeros([]))."""
    return v.node.kind == "prim::ListConstruct" and not v.node.inputs and \
        v.node.meta.get("empty_list_literal", False)


def bool_as_number(op, p) -> str | None:
    """'Int' / 'Float' when a bool passed for schema argument p of op is converted first,
    as TorchScript's schema matching does (aten::Int for a Scalar or int, aten::Float for
    a float): `x * flag` is mul(x, Int(flag)), so a bool tensor times True is int64 in
    scripted code (eager keeps bool). Python-number ops take their bools as they are."""
    from ...ops.scalar_ops import PYTHON_VALUED
    if op.name in PYTHON_VALUED or p.type.is_list:
        return None
    base = p.type.base
    if base == "float":
        return "Float"
    if base in ("Scalar", "int", "SymInt") or (
            base == "Tensor" and op.is_pointwise and p.name in op.operands):
        return "Int"
    return None


def number_as_int_or_float(op, p) -> str | None:
    """'Int' / 'Float' when a number (a Scalar: `t.item()`) passed for schema argument p of
    op (an int or float, or an Optional one; not a list) is converted, as TorchScript's
    tryConvertToType does (aten::Int.Scalar / aten::Float.Scalar): `x[:t.item()]`,
    `x.view(t.item(), -1)` (torchaudio's Emformer). Python-number ops keep their Scalar
    overloads (`min(2, t.item())` is a number, as in torch)."""
    from ...ops.scalar_ops import PYTHON_VALUED
    if op.name in PYTHON_VALUED or p.type.is_list:
        return None
    return {"int": "Int", "SymInt": "Int", "float": "Float"}.get(p.type.base)


def tensor_as_number(op, p, any_op=False) -> str | None:
    """'IntImplicit' / 'FloatImplicit' / 'ScalarImplicit' when a Tensor passed for schema
    argument p of op (an int, float or Scalar, or an Optional one: TorchScript converts to
    Optional[T] as to T, so `x[:n]` and `x.argmax(n)` take a 0-dim tensor n; not a list) is
    converted to its value, as TorchScript's schema matching does (a 0-dim tensor; checked
    when it runs)."""
    from ...ops.scalar_ops import PYTHON_VALUED
    if (op.name in PYTHON_VALUED and not any_op) or p.type.is_list:
        return None
    return {"int": "IntImplicit", "SymInt": "IntImplicit", "float": "FloatImplicit",
            "Scalar": "ScalarImplicit"}.get(p.type.base)


_PACK_ELEMS = {"Tensor": (T.TensorType,),
               "int": (T.IntType, T.BoolType, T.TensorType, T.NumberType),
               "SymInt": (T.IntType, T.BoolType, T.TensorType, T.NumberType),
               "float": (T.FloatType, T.BoolType, T.TensorType, T.NumberType),
               "bool": (T.BoolType,), "str": (T.StrType,)}


# ops whose typed list overloads (tensor.int_list, tensor.float_list, ...) stand for
# TorchScript's one `t[] data` overload: a type variable's list, which it never packs
# (torch.tensor(1, 2) is refused)
_TYPEVAR_LISTS = frozenset({"aten::tensor", "aten::as_tensor"})


def _packed_tail(positional, args):
    """args with those from the last positional parameter on packed into one
    ('pack', [Values]) item, as TorchScript's schema matching does in its second pass
    (varargsCanBeUsedAsList): the parameter is a list of a concrete type (not int[N],
    not Optional), the argument there no list or tuple, and each packed argument fits
    its element type (a bool or a Tensor an int's or float's, converted: aten::Int /
    IntImplicit): torch.linalg.multi_dot(a, b) is multi_dot([a, b]), x.reshape(n) of a
    0-dim tensor n x.reshape([int(n)]). None where it does not apply."""
    k = len(positional) - 1
    if k < 0 or len(args) <= k:
        return None
    p = positional[k]
    kinds = _PACK_ELEMS.get(p.type.base)
    if not p.type.is_list or p.type.optional or p.type.elem_optional or \
            p.type.list_size is not None or kinds is None:
        return None
    tail = args[k:]
    if any(isinstance(a, tuple) for a in tail) or \
            isinstance(tail[0].type, (T.ListType, T.TupleType)):
        return None
    if not all(isinstance(a.type, kinds) for a in tail):
        return None
    return args[:k] + [("pack", tail)]


def match_schema(op, args, kwargs, convert=False, lenient=True, pack=False):
    """args: [(Value)], kwargs: {name: Value}. Returns a Match, or the reason (a str) the
    schema does not accept the call. convert: a bool also fits an int or float argument
    (TorchScript's second pass, with implicit conversions); lenient: a number fits a
    pointwise op's Tensor operand (`torch.add(x, 1)` on add.Tensor's kernel); pack: the
    trailing arguments may be packed into the last positional list (_packed_tail)."""
    params = op.schema.arguments
    positional = [p for p in params if not p.kwarg_only]
    items = []
    args = list(args)
    if pack:
        packed = _packed_tail(positional, args) if op.schema.name not in _TYPEVAR_LISTS \
            else None
        if packed is None:
            return "packs no arguments into a list"
        args = packed
    if len(args) > len(positional):
        # varargs sizes: zeros(3, 4), x.view(2, -1), x.permute(1, 0)
        k = next((i for i, p in enumerate(positional) if p.type.is_list
                  and p.type.base in ("int", "SymInt") and i < len(args)), None)
        extra = len(args) - len(positional)
        if op.schema.name in _TYPEVAR_LISTS:
            k = None
        if k is None or not all(isinstance(a.type, T.IntType) for a in args[k:k + extra + 1]):
            return (f"takes {len(positional)} positional argument"
                    f"{'s' if len(positional) != 1 else ''} but {len(args)} were given")
        args = args[:k] + [("pack", args[k:k + extra + 1])] + args[k + extra + 1:]
    if "input" in kwargs and "self" not in kwargs and op.name.startswith("aten::") and \
            any(p.name == "self" for p in params) and all(p.name != "input" for p in params):
        # an aten schema's `self` is `input` in the functional form (TorchScript's
        # findInputWithName: torch.sum(input=x), torch.neg(input=x) script)
        kwargs = {("self" if k == "input" else k): v for k, v in kwargs.items()}
    unknown = set(kwargs) - {p.name for p in params}
    if unknown:
        return f"has no argument {sorted(unknown)[0]!r}"
    for i, p in enumerate(params):
        if i < len(args) and not p.kwarg_only:
            a = args[i]
            if p.name in kwargs:
                return f"got {p.name!r} both by position and by name"
            if isinstance(a, tuple):
                items.append(a)
                continue
        elif p.name in kwargs:
            a = kwargs[p.name]
        elif p.has_default:
            items.append(("default", p.default))
            continue
        else:
            return f"missing argument {p.name!r}"
        if p.type.is_list and a.node.meta.get("dtype") and isinstance(a.type, T.IntType):
            # a dtype (an int in scripted code) is no size: x.view(torch.int32) is
            # view.dtype, as eager (TorchScript's view([3]) is its defect)
            return f"{p.name!r} expected {describe_arg_type(p.type)}, got a dtype"
        if not _fits(p, a.type, op, convert, lenient) and not (p.type.is_list and
                                                      is_empty_list_literal(a)):
            if _int_for_tensor_op_float(p, a.type, op):       # (TorchScript's words)
                want = "Optional[float]" if p.type.optional else "float"
                return (f"Expected a value of type '{want}' for argument '{p.name}' but "
                        f"instead found type '{a.type.annotation()}'.")
            return f"{p.name!r} expected {describe_arg_type(p.type)}, got {short_type(a.type)}"
        items.append(("value", a))
    return Match(op, items)


_NO_NUMBER_PASS = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "max", "min"})


def resolve(ops, args, kwargs):
    """(Match or None, [(op, reason)] of the overloads that did not fit)."""
    misses = []
    for i, op in enumerate(ops):
        m = match_schema(op, args, kwargs)
        if isinstance(m, Match):
            if any(isinstance(a.type, _NUM) for a in list(args) + list(kwargs.values())
                   if not isinstance(a, tuple)):
                m = _exact_choice(m, ops[i:], args, kwargs)
            return _empty_literal_choice(m, ops[i + 1:], args, kwargs), misses
        misses.append((op, m))
    if any(isinstance(a.type, (T.BoolType, T.TensorType, T.NumberType))
           for a in list(args) + list(kwargs.values()) if not isinstance(a, tuple)):
        for op in ops:    # then with a bool / Tensor / number converted to a number argument
            m = match_schema(op, args, kwargs, convert=True)
            if isinstance(m, Match):
                return m, misses
    if any(isinstance(a.type, T.TensorType) for a in list(args) + list(kwargs.values())
           if not isinstance(a, tuple)):
        # then a Tensor to a Python-number overload's number too: torch.atan2(x0, 1.0)
        # is atan2.float(FloatImplicit(x0), 1.0), a float, as TorchScript's conversions
        # (not compares, whose (number, Tensor) builtins torch has and gpujit lacks, nor
        # max / min: torch refuses those)
        for op in ops:
            if op.name.split("::")[-1].split(".")[0] in _NO_NUMBER_PASS:
                continue
            m = match_schema(op, args, kwargs, convert="numbers")
            if isinstance(m, Match):
                return m, misses
    for op in ops:      # then with the trailing arguments packed into a list
        m = match_schema(op, args, kwargs, convert=True, pack=True)
        if isinstance(m, Match):
            return m, misses
    return None, misses


def no_match_message(name, ops, misses, args, kwargs) -> str:
    """The error of a call no overload accepts, one schema per entry with why."""
    given = [short_type(a.type) for a in args] + [f"{k}={short_type(v.type)}"
                                                   for k, v in kwargs.items()]
    lines = [f"Arguments for call are not valid: no variant of '{name}' accepts "
             f"({', '.join(given)}):"]                    # (TorchScript's first words)
    for op, why in misses:
        s = str(op.schema)
        lines.append(f"  {s.split('::', 1)[1] if '::' in s else s}")
        lines.append(f"      {why}")
    unions = [a for a in list(args) + list(kwargs.values())
              if isinstance(a.type, T.UnionType)]
    if unions:
        lines.append("  " + union_hint(unions[0]))
    return "\n".join(lines)


def union_hint(v) -> str:
    """What to do with a Union value v used where one of its members is needed."""
    name = v.debug_name.split(".")[0] if v.has_debug_name() else "x"
    from .isinstance_exprs import isinstance_spelling
    cls = isinstance_spelling(v.type.types[0])
    return (f"A {v.type.annotation()} value must be narrowed to one member first: test "
            f"it with isinstance(), e.g. `if isinstance({name}, {cls}):`, and use it there")


# --------------------------------------------------------------------------------------
# calls of gpujit's Python wrappers (F.dropout(input, p, training, inplace)) whose
# parameters differ from their op's schema

# a wrapper parameter -> the schema names it may stand for
_ALIASES = {"input": ("self", "input", "indices"), "training": ("train",)}
# schema arguments the Python wrappers fill themselves (Python values; made constants)
_FILLED = {"cudnn_enabled": True}
_REDUCTION_ENUM = {"none": 0, "mean": 1, "sum": 2}
# a wrapper's None that means "the same as another argument"
_SAME_AS = {("aten::eye", "m"): "n"}


_SIGNATURES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def wrapper_signature(pyfn):
    """inspect.signature(pyfn), kept per Python function (a library wrapper's is asked for
    again at each call of it that a script makes: 20-40 us each) while the attributes it is
    read from are the same objects; TypeError / ValueError as inspect raises them."""
    if not inspect.isfunction(pyfn):
        return inspect.signature(pyfn)
    state = tuple(getattr(pyfn, a, None) for a in (
        "__code__", "__defaults__", "__kwdefaults__", "__annotations__", "__signature__",
        "__wrapped__"))
    hit = _SIGNATURES.get(pyfn)
    if hit is not None and all(a is b for a, b in zip(hit[0], state)):
        return hit[1]
    sig = inspect.signature(pyfn)
    _SIGNATURES[pyfn] = (state, sig)
    return sig


def wrapper_reorders(pyfn, ops, nargs) -> bool:
    """Does the Python wrapper take its first nargs arguments in another order than its op
    (F.embedding(input, weight) is aten::embedding(weight, indices)), or one that its op
    does not have where the op has another (F.elu(input, alpha, inplace) is not
    aten::elu(self, alpha, scale))? Then the call must be bound by the wrapper's
    signature, not positionally."""
    try:
        params = list(wrapper_signature(pyfn).parameters)[:nargs]
    except (TypeError, ValueError):
        return False
    every = {a.name for op in ops for a in op.schema.arguments}
    # a parameter no overload has, under its name or an alias (F.elu's `inplace`)
    foreign = {n for n in params if n not in every and not
               any(a in every for a in _ALIASES.get(n, ()))}
    for op in ops:
        names = [a.name for a in op.schema.arguments]
        for i, name in enumerate(params):
            target = name if name in names else next(
                (a for a in _ALIASES.get(name, ()) if a in names), None)
            if name in foreign and i < len(names):
                return True
            if target is not None and names.index(target) != i:
                return True
    return False


def moved_parameter(pyfn, op, nargs):
    """The schema argument, among op's first nargs, that the Python wrapper takes at
    another position (aten::max_unpool2d's output_size is F.max_unpool2d's 6th argument,
    its 3rd is kernel_size): binding a call's positional arguments to op as written
    would give them other meanings. None when there is none (or no fixed signature)."""
    try:
        params = list(wrapper_signature(pyfn).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    names = [p.name for p in params]
    for i, a in enumerate(op.schema.arguments[:nargs]):
        at = names.index(a.name) if a.name in names else \
            names.index("input") if a.name == "self" and "input" in names else None
        if at is not None and at != i:
            return a.name
    return None


def _reads(pyfn) -> set:
    """The local names the Python function's code reads (a parameter it never reads has
    no effect on what it does); every name when that cannot be told (closures)."""
    import dis
    code = getattr(pyfn, "__code__", None)
    if code is None or code.co_cellvars:
        return set(getattr(code, "co_varnames", ())) | {"*"}
    return {i.argval for i in dis.get_instructions(code)
            if i.opname.startswith("LOAD_FAST") or i.opname == "DELETE_FAST"}


def rebind_wrapper_call(pyfn, ops, args, kwargs, constant_of):
    """Bind a call by the Python wrapper's signature and map it to schema names.
    constant_of(Value) -> (True, python value) for constants, else (False, None).
    Returns ({schema name: Value or Python constant}, inplace flag) or a str saying why
    it cannot."""
    try:
        sig = wrapper_signature(pyfn)
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values()):
            return "it takes *args / **kwargs"
        bound = sig.bind(*args, **kwargs).arguments
    except (TypeError, ValueError) as e:
        return str(e)
    names = {p.name for op in ops for p in op.schema.arguments}
    optional = {p.name for op in ops for p in op.schema.arguments if p.type.optional}
    out, inplace = {}, False
    for name, v in bound.items():
        target = name if name in names else next(
            (a for a in _ALIASES.get(name, ()) if a in names), None)
        known, c = constant_of(v)
        if target is not None:
            if known and c is None and target not in optional:
                continue                 # the wrapper's None: the schema's own default
            if target == "reduction" and known and c in _REDUCTION_ENUM:
                v = _REDUCTION_ENUM[c]    # F.mse_loss(..., reduction="sum"): ATen's int
            out[target] = v
            continue
        if name == "inplace" and known and isinstance(c, bool):
            inplace = c
            continue
        default = sig.parameters[name].default
        if known and default is not inspect.Parameter.empty and c == default:
            continue
        if default is not inspect.Parameter.empty and name not in _reads(pyfn):
            continue        # (a parameter the wrapper ignores: F.max_pool2d_with_indices's
            #                 return_indices, any value)
        if default is inspect.Parameter.empty:
            return f"its argument '{name}' has no counterpart in the op schema"
        return (f"its argument '{name}' has no counterpart in the op schema; only its "
                f"default ({default!r}) is supported in scripted code")
    required = {p.name for op in ops for p in op.schema.arguments if not p.has_default}
    for name, param in sig.parameters.items():
        # F.dropout(x, training=False): the wrapper's default p=0.5 for the schema's
        # required p; F.batch_norm(x, rm, rv, training=True): its weight=None for the
        # schema's required `Tensor? weight`
        if name in bound or param.default is inspect.Parameter.empty:
            continue
        target = name if name in names else next(
            (a for a in _ALIASES.get(name, ()) if a in names), None)
        if target in required and target not in out and (
                param.default is not None or target in optional):
            out[target] = param.default
    for op in ops:
        for p in op.schema.arguments:
            if p.name not in out and not p.has_default and p.name in _FILLED:
                out[p.name] = _FILLED[p.name]
            same = _SAME_AS.get((op.schema.name, p.name))
            if p.name not in out and same in out:
                out[p.name] = out[same]     # gpujit.eye(n): eye.m(n, n)
    return out, inplace
