"""torch.jit.export_opnames: the operators a scripted or traced module's methods call, as
PyTorch's lite-interpreter export lists them ('aten::add.Scalar', 'aten::append.t',
'prim::max.self_int'): every method of the module, inlined, its nodes' operator names
with the overload TorchScript matched, sorted, each once. Nodes that torch's bytecode
emitter turns into instructions rather than operator calls are not listed (constants,
control flow, containers built or unpacked, attributes, x.dtype / x.device / x.dim(), is /
is not, format, warn, raise)."""
from __future__ import annotations

from ..ir import types as T
from ..ir.graph import TORCH_SPELLING

__all__ = ["export_opnames", "op_name"]

# torch/csrc/jit/runtime/interpreter/code_impl.h: kinds emitted as instructions
# (checked against torch 2.13's export_opnames)
_INSTRUCTIONS = frozenset({
    "prim::Constant", "prim::If", "prim::Loop", "prim::Param", "prim::Return",
    "prim::CallFunction", "prim::CallMethod", "prim::GetAttr", "prim::SetAttr",
    "prim::ListUnpack", "prim::TupleConstruct", "prim::NamedTupleConstruct",
    "prim::ListConstruct", "prim::DictConstruct", "prim::CreateObject", "prim::isinstance",
    "prim::TupleSlice", "prim::TupleIndex", "prim::RaiseException", "prim::Uninitialized",
    "prim::fork", "prim::awaitable", "aten::wait", "aten::warn", "prim::Enter",
    "prim::Exit", "prim::dtype", "prim::device", "aten::dim", "prim::is_cuda",
    "prim::tolist", "aten::__is__", "aten::__isnot__", "aten::format", "prim::Drop",
    "prim::profile", "prim::profile_ivalue", "prim::TypeCheck", "prim::BailOut",
    "prim::Guard"})

# gpujit's kinds that TorchScript spells in another namespace (x.is_cpu: prim::is_cpu)
_TORCH_KIND = dict(TORCH_SPELLING, **{"aten::tolist": "prim::tolist"})

# container ops whose overloads are named after a List's element type (sort.int) ...
_BY_ELEM = {"remove": "{}", "index": "list_{}", "sort": "{}", "sorted": "{}", "count": "{}",
            "any": "{}", "all": "{}", "sum": "{}", "__contains__": "{}_list",
            "eq": "{}_list", "ne": "{}_list"}
_ELEMS = ("int", "float", "bool", "Tensor", "str", "complex")
# ... or a Dict's key type, with a Dict_ prefix (__getitem__.Dict_str) or without (keys.str)
_DICT_PREFIXED = frozenset({"__getitem__", "len", "pop", "Delete", "copy", "dict"})
# str's own overloads of container ops (len.str, slice.str; list(s) is list's default)
_STR = {"__getitem__": "str", "len": "str", "slice": "str", "add": "str", "list": "",
        "index": "str", "count": "", "__contains__": "str", "format": "",
        "percentFormat": "", "eq": "str", "ne": "str", "lt": "str", "le": "str",
        "gt": "str", "ge": "str"}


def _type_name(t) -> str:
    if isinstance(t, T.TensorType):
        return "Tensor"
    return str(t)


def _container_overload(name, ins):
    """TorchScript's overload of a container op (no registry op in gpujit) from its
    inputs' types: append.t, __getitem__.Dict_str, keys.str, sort.int ..."""
    t0 = ins[0].type if ins else None
    if isinstance(t0, T.OptionalType):
        t0 = t0.elem
    if isinstance(t0, T.ListType):
        e = _type_name(t0.elem)
        if name in _BY_ELEM:
            if e in _ELEMS:
                return _BY_ELEM[name].format(e)
            return "any" if name in ("sort", "sorted") else "t"
        if name == "mul":
            return "left_t"
        return "t"
    if isinstance(t0, T.DictType):
        k = _type_name(t0.key)
        if name in ("get", "pop") and len(ins) == 3:
            return f"Dict_default_{k}" if name == "pop" else f"default_{k}"
        return f"Dict_{k}" if name in _DICT_PREFIXED else k
    if isinstance(t0, T.StrType):
        return _STR.get(name, "str")
    if name == "mul" and len(ins) == 2 and isinstance(ins[1].type, T.ListType):
        return "right_"
    return ""


def op_name(node):
    """node's operator as torch's export lists it ('aten::add.Scalar'), or None for a kind
    the bytecode emits as an instruction."""
    kind = _TORCH_KIND.get(node.kind, node.kind)
    if kind in _INSTRUCTIONS:
        return None
    s = node.torch_schema() if node.op is not None else None
    if s is not None:
        return _TORCH_KIND.get(s.name, s.name) + (f".{s.overload}" if s.overload else "")
    if kind == "prim::NumToTensor":
        t = node.inputs[0].type if node.inputs else None
        return kind + (".bool" if isinstance(t, T.BoolType) else ".Scalar")
    if kind.startswith("aten::"):
        over = _container_overload(kind[6:], node.inputs)
        return kind + (f".{over}" if over else "")
    return kind


def _collect(graph, names, calls):
    def walk(block):
        for n in block.nodes:
            if n.kind == "prim::CallMethod":
                calls.append(n)
            name = op_name(n)
            if name is not None:
                names.add(name)
            for b in n.blocks:
                walk(b)
    walk(graph)


def _methods(m):
    methods = getattr(m, "_script_methods", None)
    return list(methods.values()) if methods else []


def export_opnames(m):
    """The sorted operator names m's methods call (torch.jit.export_opnames); a method
    called through an interface (not inlined) adds the ops of the submodules' methods."""
    if not hasattr(m, "_script_methods"):
        # (torch reads m._c, which only a ScriptModule has: its AttributeError)
        raise AttributeError(f"'{type(m).__name__}' object has no attribute '_c'")
    names, calls = set(), []
    for meth in _methods(m):
        _collect(meth.inlined_graph, names, calls)
    if calls:
        seen = {id(m)}
        todo = [s for _, s in m.named_modules() if id(s) not in seen]
        for sub in todo:
            if id(sub) in seen:
                continue
            seen.add(id(sub))
            for meth in _methods(sub):
                _collect(meth.inlined_graph, names, [])
    return sorted(names)
