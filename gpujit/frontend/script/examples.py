"""Parameter types from example arguments: `gpujit.script(fn, example_inputs=[(x, 3)])`
(`types_from_examples`) and `gpujit.script(module, example_inputs={module: [(x,)]})`
(`example_types_for_modules`, read by signatures.signature_types while the module compiles).
Each unannotated parameter takes the type of the values it gets; values of different
types for one parameter are an error naming it, None with a T gives Optional[T]."""
from __future__ import annotations

import enum

import inspect
import weakref

from ...device import device as _device
from ...ir import types as T
from ...tensor import Tensor
from .errors import FrontendError
from .types import _is_torch_class, namedtuple_type

__all__ = ["types_from_examples", "example_types_for_modules", "example_types_of",
           "check_example_inputs"]


class _ExampleConflict(Exception):
    pass


class _UnknownType(T.Type):
    """The element type of an empty container in an example: to be learnt from another
    example, or an error."""
    __slots__ = ()

    def __eq__(self, other):
        return isinstance(other, _UnknownType)

    def __hash__(self):
        return 0

    def __str__(self):
        return "?"


_UNKNOWN = _UnknownType()


def check_example_inputs(example_inputs):
    """example_inputs is a list of argument tuples or a {callable: [argument tuples]}
    dict, else torch.jit.script's ValueError."""
    if not isinstance(example_inputs, (list, dict)):
        raise ValueError("Error: Unable to infer types. Please format the inputs to type "
                         "`List[Tuple]` or `Dict[Callable, List[Tuple]]` to be run with "
                         "MonkeyType.")


def types_from_examples(fn, example_inputs, self_type=None):
    """`(params, return_type)` as `signature_types`, with each unannotated parameter
    typed from the values it takes in `example_inputs` (a list of argument tuples, as
    `gpujit.script(fn, example_inputs=[(x, 3), (y, 4)])`). Values of different types for
    one parameter are an error naming it; None with a T gives Optional[T]."""
    from .signatures import _signature
    params, ret = _signature(fn, self_type)
    if not isinstance(example_inputs, (list, tuple)) or (
            isinstance(example_inputs, tuple) and example_inputs
            and not all(isinstance(e, (list, tuple)) for e in example_inputs)):
        raise FrontendError(
            f"example_inputs for {fn.__name__} must be a list of argument tuples, got "
            f"{type(example_inputs).__name__}", hint="e.g. example_inputs=[(x, 3), (y, 4)]")
    examples = [tuple(e) if isinstance(e, (list, tuple)) else (e,) for e in example_inputs]
    own = params[1:] if self_type is not None else params
    for k, ex in enumerate(examples):
        if len(ex) > len(own):
            raise FrontendError(
                f"example_inputs[{k}] has {len(ex)} arguments but {fn.__name__} takes "
                f"{len(own)}")
    for i, p in enumerate(own):
        values = [ex[i] for ex in examples if len(ex) > i]
        if p.annotated or not values:
            continue
        try:
            t = _value_type(values[0])
            for v in values[1:]:
                t = _merge(t, _value_type(v))
        except _ExampleConflict as e:
            raise FrontendError(f"parameter '{p.name}' of {fn.__name__} gets {e} in "
                                "example_inputs", p.source_range,
                                hint=f"annotate '{p.name}' with the type you mean") from None
        if _has_unknown(t):
            raise FrontendError(
                f"parameter '{p.name}' of {fn.__name__} only gets empty containers in "
                "example_inputs, so their element type is unknown", p.source_range,
                hint=f"annotate it, e.g. {p.name}: List[int]")
        p.type = t
    return [(p.name, p.type) for p in params], ret


def _describe(v):
    return type(v).__name__


def _value_type(v) -> T.Type:
    """Annotation-level type of an example value (all tensors are `Tensor`)."""
    if isinstance(v, Tensor) or _is_torch_class(type(v), "Tensor"):
        return T.TENSOR
    if v is None:
        return T.NONE
    if isinstance(v, enum.Enum):
        return T.type_of_value(v)
    for py, t in ((bool, T.BOOL), (int, T.INT), (float, T.FLOAT), (str, T.STR)):
        if isinstance(v, py):
            return t
    if isinstance(v, _device):
        return T.DEVICE
    if isinstance(v, tuple) and hasattr(type(v), "_fields"):
        return namedtuple_type(type(v))
    if isinstance(v, tuple):
        return T.TupleType(tuple(_value_type(x) for x in v))
    if isinstance(v, list):
        elem = _UNKNOWN
        for x in v:
            elem = _merge(elem, _value_type(x), "a list mixing")
        return T.ListType(elem)
    if isinstance(v, dict):
        key, val = _UNKNOWN, _UNKNOWN
        for k, x in v.items():
            key = _merge(key, _value_type(k), "a dict with keys")
            val = _merge(val, _value_type(x), "a dict with values")
        return T.DictType(key, val)
    raise _ExampleConflict(f"a {_describe(v)}, which gpujit.script has no type for")


def _merge(a, b, what="values of types"):
    """The type that covers both a and b, or _ExampleConflict."""
    if a == b or isinstance(b, _UnknownType):
        return a
    if isinstance(a, _UnknownType):
        return b
    if a == T.NONE or b == T.NONE:
        other = b if a == T.NONE else a
        if isinstance(other, T.OptionalType):
            return other
        return T.OptionalType(other)
    if isinstance(a, T.OptionalType) or isinstance(b, T.OptionalType):
        inner_a = a.elem if isinstance(a, T.OptionalType) else a
        inner_b = b.elem if isinstance(b, T.OptionalType) else b
        return T.OptionalType(_merge(inner_a, inner_b, what))
    if isinstance(a, T.ListType) and isinstance(b, T.ListType):
        return T.ListType(_merge(a.elem, b.elem, "lists of"))
    if isinstance(a, T.DictType) and isinstance(b, T.DictType):
        return T.DictType(_merge(a.key, b.key, "dicts with keys"),
                          _merge(a.value, b.value, "dicts with values"))
    if (type(a) is T.TupleType and type(b) is T.TupleType
            and len(a.elems) == len(b.elems)):
        return T.TupleType(tuple(_merge(x, y, what) for x, y in zip(a.elems, b.elems)))
    raise _ExampleConflict(f"{what} {_spell(a)} and {_spell(b)}")


def _spell(t):
    return "Tensor" if isinstance(t, T.TensorType) else t.annotation()


def _has_unknown(t):
    if isinstance(t, _UnknownType):
        return True
    if isinstance(t, (T.ListType, T.OptionalType)):
        return _has_unknown(t.elem)
    if isinstance(t, T.DictType):
        return _has_unknown(t.key) or _has_unknown(t.value)
    if isinstance(t, (T.TupleType, T.UnionType)):
        return any(_has_unknown(e) for e in getattr(t, "elems", None) or t.types)
    return False


# function -> [Type] of its parameters (self excluded) learnt from example_inputs while a
# module is scripted with them (see example_types_for_modules)
_EXAMPLE_TYPES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def example_types_of(fn):
    """[Type] of fn's parameters (self excluded) while its module is scripted with
    example_inputs, else None."""
    return _EXAMPLE_TYPES.get(fn)


class example_types_for_modules:
    """`gpujit.script(module, example_inputs={module: [argument tuples]})`: while the
    module is scripted, the unannotated parameters of each named module's forward take
    the types of its example values."""

    def __init__(self, root, example_inputs):
        if isinstance(example_inputs, list):        # the root's forward's, as torch's
            example_inputs = {root: example_inputs}
        self.fns = []
        for mod, examples in example_inputs.items():
            fn = getattr(type(mod), "forward", None)
            if not inspect.isfunction(fn):
                raise FrontendError(f"example_inputs names {type(mod).__name__}, which has "
                                    f"no forward written in Python")
            params, _ = types_from_examples(fn, examples, self_type=T.ClassType("self"))
            self.fns.append((fn, [t for _, t in params[1:]]))

    def __enter__(self):
        for fn, types in self.fns:
            _EXAMPLE_TYPES[fn] = types
        return self

    def __exit__(self, *exc):
        for fn, _ in self.fns:
            _EXAMPLE_TYPES.pop(fn, None)
        return False
