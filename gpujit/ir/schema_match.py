"""Which registry overload an IR node calls, from its kind and input types (a parsed graph
says `aten::add(%a, %b, %c)`; the overload is `aten::add.Tensor` when %b is a Tensor), and
what the IR knows of an op's effects: side effects, mutation, nondeterminism."""
from __future__ import annotations

from . import types as T

__all__ = ["resolve_op", "type_matches", "is_number_type", "schema_arg_type", "has_side_effects", "is_mutating",
           "is_nondeterministic", "SIDE_EFFECT_KINDS", "AUTOGRAD_KINDS", "calls_autograd"]

# autograd called from scripted code (frontend/script/autograd_calls.py): they read and
# write autograd state (.grad, requires_grad, the recorded history) no type shows
AUTOGRAD_KINDS = frozenset({"aten::grad", "aten::backward", "aten::requires_grad_",
                            "aten::detach_", "aten::retain_grad"})

SIDE_EFFECT_KINDS = frozenset({
    "prim::RaiseException", "prim::Print", "aten::warn", "prim::SetAttr",
    "prim::CallFunction", "prim::CallMethod", "aten::append", "aten::insert",
    "aten::_set_item", "aten::pop", "aten::popitem", "aten::clear", "aten::extend",
    "aten::remove", "aten::update", "aten::Delete", "aten::sort", "aten::reverse",
    "prim::fork", "aten::wait",
    "prim::awaitable_wait",
    "prim::Enter", "prim::Exit", "prim::RecordFunction", "prim::PythonOp",
    "aten::set_grad_enabled",
    "prim::AddStatValue", "prim::TimePoint",
    "aten::setdefault"}) | AUTOGRAD_KINDS     # (the grad mode: nothing moves across)

# a list's `xs += ys` / `xs *= n`: TorchScript's aten::add_.t / aten::mul_.t, the kinds
# of Tensor in-place ops too: a container mutator only where the node has no registry op
# (alias_analysis.is_container_mutator)
LIST_INPLACE_KINDS = frozenset({"aten::add_", "aten::mul_"})

_NUM = (T.IntType, T.FloatType, T.ComplexType, T.BoolType, T.NumberType)


def is_number_type(t) -> bool:
    """Does a value of type t fit a `Scalar` (a number)? A Union of ints and floats does,
    as TorchScript's Union[int, float] is a subtype of its Number."""
    return isinstance(t, _NUM) or (isinstance(t, T.UnionType) and all(
        isinstance(u, (T.IntType, T.FloatType, T.NumberType)) for u in t.types))


_BASE_TYPES = {"Tensor": T.TENSOR, "int": T.INT, "SymInt": T.INT, "float": T.FLOAT,
               "complex": T.COMPLEX,
               "bool": T.BOOL, "str": T.STR, "Scalar": T.NUMBER, "ScalarType": T.SCALAR_TYPE,
               "Device": T.DEVICE, "Layout": T.LayoutType(), "MemoryFormat": T.INT,
               "Generator": T.GeneratorType()}


def schema_arg_type(at) -> T.Type:
    """The IR type a schema argument or return type (ops.schema.ArgType) stands for."""
    t = _BASE_TYPES.get(at.base)
    if t is None:       # (a custom class, __torch__.torch.classes.quantized.X: its type)
        t = T.class_type(at.base) if at.base.startswith("__torch__.") else T.ANY
    if at.is_list:
        t = T.ListType(T.OptionalType(t) if at.elem_optional else t)
    return T.OptionalType(t) if at.optional else t


# the schema base types an Any value does not fit (TorchScript's Any is a subtype of
# none of them: str(x) of an Any is aten::str(t elem), never aten::str.Tensor)
_CONCRETE_BASES = frozenset({"Tensor", "int", "SymInt", "float", "bool", "str", "Scalar",
                             "ScalarType", "Device", "Layout", "MemoryFormat", "Generator",
                             "AnyEnumType"})


def _base_matches(base: str, t) -> bool:
    if isinstance(t, T.AnyType):
        return base not in _CONCRETE_BASES
    if base == "Tensor":
        return isinstance(t, T.TensorType)
    if base in ("int", "SymInt"):
        return isinstance(t, T.IntType)
    if base == "float":
        return isinstance(t, (T.FloatType, T.IntType))
    if base == "complex":
        # (a complex only, as TorchScript's: 1j / 2.0 is div's Scalar overload, a float)
        return isinstance(t, T.ComplexType)
    if base == "bool":
        return isinstance(t, T.BoolType)
    if base == "Scalar":
        return is_number_type(t)
    if base == "str":
        return isinstance(t, T.StrType)
    if base == "ScalarType":
        return isinstance(t, (T.ScalarTypeType, T.IntType))
    if base == "Device":
        return isinstance(t, (T.DeviceType, T.StrType))
    if base in ("Layout", "MemoryFormat"):     # gpujit spells these as str constants
        return isinstance(t, (T.LayoutType, T.IntType, T.StrType))
    if base == "Generator":
        return isinstance(t, T.GeneratorType)
    if base == "AnyEnumType":
        return isinstance(t, T.EnumType)
    if base.startswith("__torch__."):       # a custom class (torch.classes): that class
        return isinstance(t, T.ClassType) and t.name == base
    return True


def type_matches(arg_type, t) -> bool:
    """Does a value of IR type t fit a schema argument type (an ops.schema.ArgType)?"""
    if isinstance(t, T.NoneType):
        return arg_type.optional or arg_type.elem_optional
    if isinstance(t, T.OptionalType):
        if not arg_type.optional:
            return False
        t = t.elem
    if arg_type.is_list:
        if isinstance(t, T.TupleType):   # (a NamedTuple too: p == q, as TorchScript's)
            return all(type_matches(_elem(arg_type), e) for e in t.elems)
        if arg_type.base in ("int", "SymInt") and isinstance(t, T.IntType):
            return True          # torch accepts a bare int for int[]
        if not isinstance(t, T.ListType):
            return False
        e = t.elem.elem if isinstance(t.elem, T.OptionalType) and arg_type.elem_optional \
            else t.elem
        return _base_matches(arg_type.base, e)
    return _base_matches(arg_type.base, t)


def _elem(arg_type):
    from ..ops.schema import ArgType
    return ArgType(arg_type.base, optional=arg_type.elem_optional)


def resolve_op(node):
    """The OpDef of an `aten::` node (None when no overload fits its inputs)."""
    from ..ops import registry
    ovs = registry.OVERLOADS.get(node.kind)
    if not ovs:
        return None
    types = [v.type for v in node.inputs]
    for d in ovs:
        args = d.schema.arguments
        if len(types) > len(args):
            continue
        if any(not a.has_default for a in args[len(types):]):
            continue
        # pointwise ops take a Python number where the schema says Tensor (x * 2)
        numeric = d.operands if d.is_pointwise else ()
        if all(type_matches(a.type, t) or (a.name in numeric and isinstance(t, _NUM))
               for a, t in zip(args, types)):
            return d
    return None


# ops that write their `Tensor(a!)` arguments only when a bool argument is true: with it a
# constant False they write nothing (batch_norm in inference reads its running statistics;
# TorchScript's schema has no write annotation at all)
_WRITES_ONLY_IF = {"aten::batch_norm": "training"}


def writes_at_all(node) -> bool:
    """False when node's op writes its `(a!)` arguments only if a bool argument
    (_WRITES_ONLY_IF) is true, and that argument is a constant False."""
    flag = _WRITES_ONLY_IF.get(node.kind)
    if flag is None or node.op is None:
        return True
    for a, v in zip(node.op.schema.arguments, node.inputs):
        if a.name == flag:
            return not (v.node.kind == "prim::Constant" and v.node.attrs.get("value") is False)
    return True


def is_mutating(node) -> bool:
    """Does the node write into one of its inputs (an in-place or out= op)?"""
    op = node.op
    if op is None:
        return node.kind in SIDE_EFFECT_KINDS and node.kind.startswith("aten::") or \
            node.kind in LIST_INPLACE_KINDS
    return any(a.type.is_write for a in op.schema.arguments) and writes_at_all(node)


def is_nondeterministic(node) -> bool:
    op = node.op
    if op is None or not op.tags & {"random", "nondeterministic"}:
        return False
    if node.kind == "aten::dropout" and len(node.inputs) == 3:
        # (TorchScript's SchemaInfo: aten::dropout with a constant train=False is
        # deterministic, the input itself: an eval model's traced dropout)
        t = node.inputs[2]
        if t.node.kind == "prim::Constant" and t.node.attrs.get("value") is False:
            return False
    return True


def calls_autograd(node) -> bool:
    """Does the node call autograd (AUTOGRAD_KINDS), or make a tensor that requires grad
    (aten::tensor(data, dtype, device, requires_grad) with requires_grad not a constant
    False, as TorchScript compiles torch.tensor(..., requires_grad=True))? A graph holding
    one runs node by node on Tensor objects (jit/objects.py), and the node is never
    dropped or merged with a twin (two such tensors are two leaves)."""
    if node.kind in AUTOGRAD_KINDS:
        return True
    if node.kind != "aten::tensor" or node.op is None:
        return False
    for a, v in zip(node.op.schema.arguments, node.inputs):
        if a.name == "requires_grad":
            return not (v.node.kind == "prim::Constant" and v.node.attrs.get("value") is False)
    return False


def has_side_effects(node) -> bool:
    """Must the node run even when its outputs are unused? Raising, printing, writing an
    attribute or a list, calls we cannot see into, in-place writes, and random ops (they
    advance the generator, so dropping one would change later random numbers)."""
    if node.kind in SIDE_EFFECT_KINDS or calls_autograd(node):
        return True
    if node.kind.startswith("prim::"):
        return any(has_side_effects(n) for b in node.blocks for n in b.nodes)
    return is_mutating(node) or is_nondeterministic(node)
