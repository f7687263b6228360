"""The right-hand sides of python_source's statements: how one node prints as a Python
expression (`torch.add(x, y, alpha=1)`, `self.linear.weight`, `[a, b]`, `x[0]`,
`ops.prim.unchecked_cast(x, Optional[Tensor])`, ...) and how a constant prints as a literal
(`inf`, `torch.device("cpu")`, `CONSTANTS.c0` for a tensor). ExpressionPrinter is
a mixin of python_printer's function printer, which names values and lays out statements
and blocks."""
from __future__ import annotations

import enum as _enum
import json
import keyword
import math
import re

from . import types as T
from .graph import Graph
from .printer import SUBGRAPH_ATTR, format_complex, format_float
from ..device import device as _device

_SUFFIX = re.compile(r"^(.*)\.(\d+)$")

# Container ops (no registry op) print as the Python the script frontend compiles back
# into the same node (save/load relies on it); parenthesized where they could bind
# differently inlined. (Number ops and `is` print as TorchScript does: torch.lt(i, 10),
# torch.__isnot__(x, None).)
_CONTAINER_FORMS = {"aten::__getitem__": "{0}[{1}]", "aten::__contains__": "torch.__contains__({0}, {1})",
                    # (as TorchScript's printer: torch.len(d), torch.keys(d) ...)
                    "aten::len": "torch.len({0})", "aten::list": "torch.list({0})",
                    "aten::keys": "torch.keys({0})", "aten::values": "torch.values({0})",
                    "aten::items": "torch.items({0})"}

# autograd calls from scripted code, as written
_AUTOGRAD_FORMS = {"aten::grad": lambda ins: f"torch.autograd.grad({', '.join(ins)})",
                   "aten::backward": lambda ins: f"torch.autograd.backward({', '.join(ins)})",
                   "aten::requires_grad_":
                   lambda ins: f"{_primary(ins[0])}.requires_grad_({ins[1]})",
                   "aten::detach_": lambda ins: f"{_primary(ins[0])}.detach_()",
                   "aten::retain_grad": lambda ins: f"{_primary(ins[0])}.retain_grad()"}

_IMPLICIT_CASTS = {"aten::ScalarImplicit": "number", "aten::IntImplicit": "int",
                   "aten::FloatImplicit": "float"}
_SCALAR_CASTS = {"aten::Bool": "bool", "aten::Int": "int", "aten::Float": "float",
                 "aten::str": "str"}     # (hash(x) prints torch.hash(x), as TorchScript)


# ops whose namespace in TorchScript differs from gpujit's kind: torch's `x.is_cuda` is
# prim::is_cuda (`ops.prim.is_cuda(x)` in .code), its `x.is_leaf` aten::is_leaf
_TORCH_SPELLING = {f"aten::{n}": f"ops.prim.{n}" for n in (
    "is_cuda", "is_cpu", "is_xla", "is_xpu", "is_ipu", "is_mps", "is_maia", "is_mtia", "is_meta",
    "is_mkldnn", "is_quantized", "is_sparse", "is_sparse_csr", "is_vulkan", "is_nested")}
_TORCH_SPELLING.update({"prim::is_leaf": "torch.is_leaf", "prim::retains_grad": "torch.retains_grad"})

def _widens(src, dst) -> bool:
    """A cast of a src to a wider dst (Tensor -> Optional[Tensor]), not a refinement."""
    return src != dst and src.is_subtype_of(dst)


def isinstance_types(n) -> list:
    """prim::isinstance n's accepted types (`types` are graph-text spellings of them; `list`
    and `tuple` stay text): a member of the input's type by its printed name first, as the
    text alone names the class a loaded archive made last under that name, if any."""
    from .parser import parse_type
    t = n.inputs[0].type
    members = t.types if isinstance(t, T.UnionType) else \
        (t.elem,) if isinstance(t, T.OptionalType) else (t,)
    known = {str(m): m for m in members}
    return [t if t in ("list", "tuple") else known.get(t) or parse_type(t)
            for t in n.attrs["types"]]


def _isinstance_text(x: str, n) -> str:
    """prim::isinstance n as the isinstance() call the frontend compiles back into it."""
    names = ["type(None)" if isinstance(t, T.NoneType) else t if isinstance(t, str) else
             t.annotation() for t in isinstance_types(n)]
    return f"isinstance({x}, {names[0] if len(names) == 1 else '(' + ', '.join(names) + ')'})"


def _keyword_only_by_name(n, args):
    """A call's arguments as text, those for the callee's keyword-only parameters passed
    by name (`f(a, b=x)` for `def f(a, *, b)`)."""
    callee = n.meta.get("callee")
    k = getattr(callee, "kwarg_only", 0)
    if not k or len(args) > len(callee.inputs):
        return list(args)
    names = [_base_name(v.debug_name) for v in callee.inputs[len(callee.inputs) - k:]]
    return list(args[:-k]) + [f"{a}={x}" for a, x in zip(names, args[-k:])]


def _same_constant(v, d) -> bool:
    """v == d with TorchScript's IValue equality: an int is not a float, a bool not an
    int; lists and tuples element by element."""
    if isinstance(d, (list, tuple)):
        return isinstance(v, (list, tuple)) and len(v) == len(d) and \
            all(_same_constant(a, b) for a, b in zip(v, d))
    if d is None or v is None:
        return v is d
    if isinstance(d, bool) or isinstance(v, bool):
        return isinstance(d, bool) and isinstance(v, bool) and v == d
    if isinstance(d, (int, float, str)):
        return type(v) is type(d) and v == d
    return type(v) is type(d) and v == d


def _is_default_arg(param, v) -> bool:
    """The argument v of an op's schema parameter param is a constant equal to param's
    default (TorchScript's printer leaves such trailing arguments out)."""
    if not param.has_default or v.node.kind != "prim::Constant" or "name" in v.node.attrs:
        return False
    value = v.node.attrs.get("value")
    if isinstance(value, int) and not isinstance(value, bool):
        if isinstance(v.type, T.FloatType):
            value = float(value)
        elif isinstance(v.type, T.BoolType):
            value = bool(value)
    default = param.default
    base = param.type.base
    if base == "float" and type(default) is int and not param.type.is_list:
        default = float(default)        # (`float std=1` is TorchScript's 1.)
    elif base == "int" and default == "mean":
        default = 1                     # (`int reduction=Mean` is at::Reduction::Mean, 1)
    elif base == "ScalarType" and default is not None:
        # (a ScalarType is an int in TorchScript: `ScalarType? dtype=long` is 4)
        from .. import dtypes as _dt
        try:
            default = _dt.scalar_type_code(_dt.to_dtype(default))
            value = _dt.scalar_type_code(value) if isinstance(value, _dt.dtype) else value
        except (TypeError, KeyError, ValueError):
            return False
    elif base == "MemoryFormat" and isinstance(default, str):
        # (a MemoryFormat is an int in TorchScript: `memory_format=contiguous_format` is 0)
        from ..ops.memory_format import AS_INT
        default = AS_INT.get(default, default)
        value = AS_INT.get(value, value) if isinstance(value, str) else value
    try:
        return _same_constant(value, default)
    except Exception:        # (a value whose == does not answer a bool: a tensor)
        return False


# container ops (no registry op) whose trailing arguments have defaults in TorchScript's
# schemas, the container's own left out: aten::slice.t(t[] l, int? start=None, int? end=None,
# int step=1) and slice.str, aten::pop.t(t[](a!) self, int idx=-1) (a list's: a dict's
# pop has no default key); the printer leaves them out, the frontend fills them in
CONTAINER_OP_DEFAULTS = {"aten::slice": (None, None, 1), "aten::pop": (-1,),
                         "aten::sort": (False,)}
# (and aten::warn(str message, int stacklevel=2): `torch.warn("x")`, as TorchScript's code
# writes warnings.warn("x"); the frontend's warn_call fills the 2 back in)
CONTAINER_OP_DEFAULTS["aten::warn"] = (2,)


def _is_constant_value(v, default) -> bool:
    if v.node.kind != "prim::Constant" or "name" in v.node.attrs:
        return False
    return _same_constant(v.node.attrs.get("value"), default)


def _base_name(debug_name: str) -> str:
    m = _SUFFIX.match(debug_name)
    return m.group(1) if m else debug_name


def _is_none_constant(v) -> bool:
    n = v.node
    return n.kind == "prim::Constant" and "name" not in n.attrs and \
        n.attrs.get("value") is None


def _call_args(args) -> str:
    """A call's arguments as TorchScript prints prim::CallMethod / CallFunction: each one
    followed by ", " (`f(x, 2, )`, `f()`)."""
    return "".join(f"{a}, " for a in args)


def _primary(expr: str) -> str:
    """expr, parenthesized where a trailing `.attr` / `[i]` would bind differently."""
    return f"({expr})" if expr.startswith("-") else expr


class ExpressionPrinter:
    """rhs(n) and literal(v, t) for a printer that has use(v), typed_use(v) and a
    tensor_constants list. callee_names: {id(callee graph): name} for the calls that print
    under another name than the one they were compiled with (save's unique names)."""

    callee_names: dict = {}

    def rhs(self, n) -> str:
        k = n.kind
        ins = [self.use(v) for v in n.inputs]
        out_type = n.outputs[0].type if n.outputs else None
        if k == "aten::Generator" and n.inputs and n.inputs[0].node.kind == "prim::Constant" \
                and isinstance(n.inputs[0].node.attrs.get("value"), _device):
            # torch.Generator(device="cpu", seed=2023), as TorchScript writes a traced
            # generator back (its Generator constant's text), not torch.device("cpu")
            ins[0] = json.dumps(str(n.inputs[0].node.attrs["value"]))
        if k == "prim::Constant":
            if "value" not in n.attrs and "name" in n.attrs:   # a function by name
                return str(n.attrs["name"])
            return self.literal(n.attrs.get("value"), out_type)
        if k == "prim::ListConstruct":
            text = f"[{', '.join(ins)}]"
            elem = out_type.elem if isinstance(out_type, T.ListType) else None
            if not ins or isinstance(elem, (T.OptionalType, T.UnionType, T.AnyType,
                                            T.InterfaceType)):
                return f"annotate({out_type.annotation()}, {text})"
            return text
        if k == "prim::TupleConstruct":
            if isinstance(out_type, T.TupleType):
                # a None in an Optional slot says its type, as a variable would, or
                # `a, b = (x, None)` compiles back with b NoneType (its `is None` tests
                # then fold and the else branch's refinement is lost)
                ins = [_typed_none(t) if _is_none_constant(v) and
                       isinstance(t, (T.OptionalType, T.UnionType)) else a
                       for a, v, t in zip(ins, n.inputs, out_type.elems)]
            text = f"({ins[0]},)" if len(ins) == 1 else f"({', '.join(ins)})"
            if isinstance(out_type, T.NamedTupleType):
                return out_type.annotation() + text
            return text
        if k == "prim::DictConstruct":
            items = ", ".join(f"{a}: {b}" for a, b in zip(ins[::2], ins[1::2]))
            if not ins or isinstance(out_type.value, (T.OptionalType, T.UnionType,
                                                      T.AnyType)):
                return f"annotate({out_type.annotation()}, {{{items}}})"
            return f"{{{items}}}"
        if k == "prim::TupleIndex":                 # (TorchScript's printer: `(t)[0]`)
            return f"({ins[0]})[{ins[1]}]"
        if k == "prim::DictIndex":
            return f"{_primary(ins[0])}[{ins[1]}]"
        if k == "prim::TupleSlice":
            return f"{_primary(ins[0])}[{n.attrs.get('beg', '')}:{n.attrs.get('end', '')}]"
        if k == "prim::GetAttr":
            return self.attribute(ins[0], n.attrs["name"])
        if k == "prim::CallMethod":
            # TorchScript's spelling: `(linear).forward(x, )`, the callee parenthesized and
            # each argument followed by ", "
            args = _keyword_only_by_name(n, ins[1:])
            owner = n.inputs[0].type
            if n.attrs["name"] in getattr(owner, "hooks", ()) and \
                    T.QUALIFIED_CLASS_NAMES.get():
                # a forward (pre-)hook, no method of the module's type: `.code` and
                # archives call it through its class, `__torch__.M.pre(m, (x,), )`
                return f"{owner.annotation()}.{n.attrs['name']}(" \
                       f"{_call_args([ins[0]] + list(args))})"
            return f"({ins[0]}).{n.attrs['name']}({_call_args(args)})"
        if k == "prim::CallFunction":
            fn = n.attrs.get("name")
            if fn is not None and n.inputs and isinstance(n.inputs[0].type, T.FunctionType):
                ins = ins[1:]       # (the scripted call's `Function` constant: named by fn)
            if fn is None:
                fn, ins = _primary(ins[0]), ins[1:]
            elif id(n.meta.get("callee")) in self.callee_names:
                fn = self.callee_names[id(n.meta.get("callee"))]
            elif T.QUALIFIED_CLASS_NAMES.get() and n.meta.get("qualified_name"):
                fn = n.meta["qualified_name"]       # (`.code`: as TorchScript's)
                fn = getattr(self, "hoisted", {}).get(fn, fn)   # (a long one: its name)
            return f"{fn}({_call_args(_keyword_only_by_name(n, ins))})"
        if k == "prim::Print":
            return f"print({', '.join(ins)})"
        if k == "aten::wait":
            return f"torch.wait({ins[0]})"          # (TorchScript's .code spelling)
        if k == "aten::sorted" and len(ins) == 1:
            return f"sorted({ins[0]})"              # (TorchScript's .code spelling)
        if k in ("prim::awaitable_wait", "prim::awaitable_nowait"):
            return f"ops.prim.{k[6:]}({ins[0]})"      # (TorchScript's .code spelling)
        if k == "prim::Uninitialized":
            return f"uninitialized({out_type.annotation()})"
        if k == "prim::isinstance":
            return _isinstance_text(ins[0], n)
        if k in ("prim::EnumName", "prim::EnumValue"):        # (TorchScript's: `(e).value`)
            return f"({ins[0]}).{'name' if k == 'prim::EnumName' else 'value'}"
        if k == "prim::unchecked_cast":
            # as TorchScript's code writes a refinement: unchecked_cast(int, y)
            return f"unchecked_cast({out_type.annotation()}, {ins[0]})"
        if k in _SCALAR_CASTS and len(ins) == 1:
            return f"{_SCALAR_CASTS[k]}({ins[0]})"
        if k in _IMPLICIT_CASTS and len(ins) == 1:
            # (a tensor taken as a number: TorchScript's printer writes the implicit
            # conversion as the annotate() its frontend compiles back into it)
            return f"annotate({_IMPLICIT_CASTS[k]}, {ins[0]})"
        if k == "aten::__getitem__" and n.op is None and not ins[0].isidentifier():
            # an expression subscripted is parenthesized, as TorchScript's printer does:
            # `(torch.size(x))[0]`, `(d["a"])[0]`, `([1, 2, 3])[i]`
            return _CONTAINER_FORMS[k].format(f"({ins[0]})", *ins[1:])
        if k in _CONTAINER_FORMS and n.op is None:
            return _CONTAINER_FORMS[k].format(*ins)
        if k in ("aten::any", "aten::all") and n.op is None:
            return f"torch.{k[6:]}({', '.join(ins)})"   # (TorchScript's .code: aten::any.int)
        if k in ("aten::min", "aten::max") and n.op is None:
            # min(xs), min(xs, ys)
            return f"{k[6:]}({', '.join(ins)})"
        if k == "aten::tolist" and n.op is None:     # its type must be written
            return f"annotate({out_type.annotation()}, {_primary(ins[0])}.tolist())"
        if k == "aten::set" and n.op is None and len(ins) <= 1:
            return f"set({ins[0]})" if ins else f"annotate({out_type.annotation()}, set())"
        if k in _AUTOGRAD_FORMS and n.op is None:
            return _AUTOGRAD_FORMS[k](ins)
        if k == "aten::sorted" and n.op is None and len(ins) == 1:
            return f"sorted({ins[0]})"      # (TorchScript's code: the builtin's name)
        if k.startswith("aten::"):
            return f"{self.op_name(k)}({', '.join(self.schema_args(n, ins))})"
        if k == "prim::RaiseException" and len(ins) == 2 and ins[1] == "None":
            ins = ins[:1]       # (no class: TorchScript's `ops.prim.RaiseException(msg)`)
        args = ins + [f"{a}={self.literal(v, None)}" for a, v in n.attrs.items()
                      if a != SUBGRAPH_ATTR and a.isidentifier() and not keyword.iskeyword(a)
                      and not isinstance(v, Graph)]
        return f"{self.op_name(k)}({', '.join(args)})"

    @staticmethod
    def op_name(kind: str) -> str:
        spelled = _TORCH_SPELLING.get(kind)
        if spelled is not None:
            return spelled
        ns, _, name = kind.partition("::")
        module = "torch" if ns == "aten" else f"ops.{ns}"
        if name.isidentifier() and not keyword.iskeyword(name):
            return f"{module}.{name}"
        return f"getattr({module}, {json.dumps(name)})"

    @staticmethod
    def attribute(obj: str, field: str) -> str:
        if field.isidentifier() and not keyword.iskeyword(field):
            return f"{_primary(obj)}.{field}"
        return f"getattr({obj}, {json.dumps(field)})"

    @staticmethod
    def schema_args(n, ins):
        """Positional arguments as written, kwarg-only ones (per the op's schema) as
        `name=value`, as TorchScript prints `torch.add(x, y, alpha=2)`; trailing arguments
        that are constants equal to their schema default are left out, as TorchScript's
        printer does (`torch.add(x, y)`, `torch.sum(x, [0])`), and the frontend fills them
        back in when the code compiles."""
        op = n.op
        params = op.schema.arguments if op is not None else ()
        k = len(op.schema.returns) if op is not None and op.out_of is not None else 0
        ins = list(ins)
        trailing = CONTAINER_OP_DEFAULTS.get(n.kind) if op is None else None
        if trailing is not None and len(ins) == len(trailing) + 1 and \
                not isinstance(n.inputs[0].type, T.DictType):
            # a container op's defaults, as TorchScript's printer leaves them out
            # (`torch.slice(s, 1)` of aten::slice(s, 1, None, 1))
            m = len(ins)
            while m > 1 and _is_constant_value(n.inputs[m - 1], trailing[m - 2]):
                m -= 1
            return ins[:m]
        if len(ins) <= len(params):      # (a vararg call keeps every argument)
            m = len(ins) - k
            while m > 0 and _is_default_arg(params[m - 1], n.inputs[m - 1]):
                m -= 1
            ins, kept = ins[:m] + ins[len(ins) - k:], list(range(m)) + \
                list(range(len(ins) - k, len(ins)))
        else:
            kept = list(range(len(ins)))
        if k > 1:       # torch.max(x, 0, False, max=v, max_values=i): the out tensors by
            # their schema names, as TorchScript (which takes no tuple `out=(v, i)`)
            return ins[:-k] + [f"{p.name}={text}" for p, text in zip(params[-k:], ins[-k:])]
        return [f"{params[i].name}={text}" if i < len(params) and params[i].kwarg_only
                else text for i, text in zip(kept, ins)]

    def literal(self, v, t) -> str:
        """A constant as a Python literal."""
        from ..device import device
        from .. import dtypes as _dt
        if v is None:           # (an Optional's None keeps its type: _typed_none)
            return _typed_none(t) if isinstance(t, T.UnionType) else "None"
        if isinstance(v, _enum.Enum):                 # Color.RED
            return f"{T.type_of_value(v).annotation()}.{v.name}"
        if isinstance(v, bool) or (isinstance(v, int) and isinstance(t, T.BoolType)):
            return "True" if v else "False"
        if isinstance(v, float) or (isinstance(v, int) and isinstance(t, T.FloatType)):
            v = float(v)
            if math.isnan(v):       # (TorchScript's names, which its code reader knows)
                return "nan"
            if math.isinf(v):
                return "inf" if v > 0 else "-inf"
            text = format_float(v)
            # (TorchScript writes 1e16 as `10000000000000000`, which would compile back as
            # an int: the code keeps it a float)
            return text if any(c in text for c in ".e") else text + "."
        if isinstance(v, complex):                    # (TorchScript's `0.+1.j`)
            return format_complex(v)
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            if v.isascii():
                # (c10::printQuotedString, as TorchScript's code: "it\'s", "\001")
                from ..jit.objects import _quoted
                return _quoted(v)
            # TorchScript's containsNonASCIIString: its code reader knows no \u escape, so a
            # str with other characters lives in the constants table, as a tensor does
            for i, c in enumerate(self.tensor_constants):
                if type(c) is str and c == v:
                    return f"CONSTANTS.c{i}"
            self.tensor_constants.append(v)
            return f"CONSTANTS.c{len(self.tensor_constants) - 1}"
        if isinstance(v, device):
            return f"torch.device({json.dumps(str(v))})"
        if isinstance(v, (_dt.dtype, _dt._QuantizedDtype)):   # TorchScript's ScalarType is
            # an int: torch.to(x, 7) (quint8 & co. too: quantize_per_tensor(x, s, z, 13))
            return str(_dt.scalar_type_code(v))
        if isinstance(v, list):
            et = t.elem if isinstance(t, T.ListType) else None
            if not v and isinstance(t, T.ListType):
                return f"annotate({t.annotation()}, [])"
            return "[" + ", ".join(self.literal(x, et) for x in v) + "]"
        if isinstance(v, tuple):
            ets = t.elems if isinstance(t, T.TupleType) else [None] * len(v)
            inner = ", ".join(self.literal(x, e) for x, e in zip(v, ets))
            return "(" + inner + ("," if len(v) == 1 else "") + ")"
        if isinstance(v, dict):      # a folded dict attribute (torch.jit.freeze)
            if not v and isinstance(t, T.DictType):
                return f"annotate({t.annotation()}, {{}})"
            kt, vt = (t.key, t.value) if isinstance(t, T.DictType) else (None, None)
            return "{" + ", ".join(f"{self.literal(k, kt)}: {self.literal(x, vt)}"
                                   for k, x in v.items()) + "}"
        from ..ops.random import Generator
        if isinstance(v, Generator):     # (a traced generator=): a new one at its seed,
            return (f"torch.Generator(device={json.dumps(str(v.device))}, "  # as PyTorch
                    f"seed={v.initial_seed()})")
        fn_name = getattr(v, "__name__", None)
        if callable(v) and isinstance(fn_name, str) and fn_name.isidentifier():
            return fn_name
        # tensors and objects Python source cannot spell live in a constants table, one
        # entry for equal tensors of one dtype and device (PyTorch's getOrAddConstant:
        # type_equal and equal)
        for i, c in enumerate(self.tensor_constants):
            if c is v or _equal_tensors(c, v):
                return f"CONSTANTS.c{i}"
        self.tensor_constants.append(v)
        return f"CONSTANTS.c{len(self.tensor_constants) - 1}"


def _equal_tensors(a, b):
    from ..tensor import Tensor
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)) or a._dtype is not b._dtype \
            or a.device != b.device or a._data.shape != b._data.shape:
        return False
    xa, xb = a._data, b._data
    return bool((xa == xb).all())


def _typed_none(t) -> str:
    """None as a value of the Optional or Union type t: `annotate(Optional[int], None)`;
    of a Union, plain None, as TorchScript's frontend types every None constant (it makes
    no constant of a Union type: torch.jit.load refused annotate() of one, 'constant
    literal not supported for: Union(int, NoneType, str)')."""
    if isinstance(t, T.UnionType) and not isinstance(t, T.OptionalType):
        return "None"
    return f"annotate({t.annotation()}, None)"
