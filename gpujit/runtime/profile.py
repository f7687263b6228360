"""What a profiling run records: the runtime type of every Value, as a spec.

A spec is the part of a runtime value's type the generated code is specialized on:

    TensorSpec(dtype, device, ndim, sizes)   a Tensor (ndim None: not known)
    ValueSpec(pytype)                        a Python value of that type (int, float, None…)
    TupleSpec(elems) / ListSpec(elem)        containers, with their elements' specs
    None                                     nothing known (never seen, or seen as two types)

A Value computed several times in a run (in a loop body) or over several runs gets the
merge of what was seen: the same dtype and device keep a TensorSpec, a differing ndim or
size becomes None, any other difference makes the whole spec None. `Profile` holds the
specs and which blocks ran, and for the fuser the type each tensor had when the latest run
last computed it (`latest_type`): a re-profile after a call took a path the profile never
saw merges the runs, but fusion groups are guarded, so they are typed as one run saw them.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import types as T
from ..ops import registry as _reg

__all__ = ["TensorSpec", "ValueSpec", "TupleSpec", "ListSpec", "EMPTY", "spec_of",
           "merge", "merge_tensor_types", "Profile", "input_key"]


@dataclass(frozen=True)
class TensorSpec:
    dtype: object
    device: object
    ndim: int | None
    sizes: tuple | None = None

    def same_kind(self, other):
        return (isinstance(other, TensorSpec) and other.dtype is self.dtype
                and other.device is self.device)


@dataclass(frozen=True)
class ValueSpec:
    pytype: type


@dataclass(frozen=True)
class TupleSpec:
    elems: tuple


@dataclass(frozen=True)
class ListSpec:
    elem: object        # the merged spec of the elements; EMPTY for an empty list


class _Empty:
    """The element spec of an empty list: merging with it keeps the other side."""
    def __repr__(self):
        return "EMPTY"


EMPTY = _Empty()


# A profiling run observes a list each time a Value holds it: a list that grows in a loop
# (`xs.append(...)` n times) is observed n times, so its spec must not look at every
# element (the first call of such a loop was quadratic: 2000 appends took 2.3 s). A list
# longer than this is ListSpec(None), its elements unknown: less to specialize on, never a
# wrong guard (a list's static type already says what plain elements it holds).
_LONG_LIST = 64


def spec_of(v):
    if isinstance(v, _reg._Tensor):
        if v.is_nested:     # (no sizes: a nested tensor's graph runs op by op)
            return ValueSpec(type(v))
        shape = v._data.shape
        return TensorSpec(v._dtype, v._device, len(shape), tuple(shape))
    t = type(v)
    if t is tuple or (isinstance(v, tuple) and not hasattr(v, "_fields")):
        return TupleSpec(tuple(spec_of(x) for x in v))
    if t is list:
        if len(v) > _LONG_LIST:
            return ListSpec(None)
        elem = EMPTY
        for x in v:
            elem = merge(elem, spec_of(x))
        return ListSpec(elem)
    return ValueSpec(t)


def merge(a, b):
    """The spec that covers both a and b (see the module docstring)."""
    if a is EMPTY:
        return b
    if b is EMPTY or a == b:
        return a
    if a is None or b is None:
        return None
    if isinstance(a, TensorSpec):
        if not a.same_kind(b):
            return None
        sizes = None
        if a.sizes is not None and b.sizes is not None and len(a.sizes) == len(b.sizes):
            sizes = tuple(x if x == y else None for x, y in zip(a.sizes, b.sizes))
        return TensorSpec(a.dtype, a.device, a.ndim if a.ndim == b.ndim else None, sizes)
    if isinstance(a, TupleSpec) and isinstance(b, TupleSpec) and len(a.elems) == len(b.elems):
        return TupleSpec(tuple(merge(x, y) for x, y in zip(a.elems, b.elems)))
    if isinstance(a, ListSpec) and isinstance(b, ListSpec):
        return ListSpec(merge(a.elem, b.elem))
    return None


_UNSEEN = object()


def merge_tensor_types(a, b):
    """The IR TensorType covering two observed ones (differing fields become unknown)."""
    def same(x, y):
        return x if x == y else None

    def entries(x, y):
        if x is None or y is None or len(x) != len(y):
            return None
        return tuple(same(p, q) for p, q in zip(x, y))
    sizes = entries(a.sizes, b.sizes)
    strides = entries(a.strides, b.strides)
    if strides is not None and any(s is None for s in strides):
        strides = None
    return T.TensorType(same(a.dtype, b.dtype), sizes, strides, same(a.device, b.device),
                        same(a.requires_grad, b.requires_grad))


class Profile:
    """Specs of the Values seen in profiling runs, the blocks that ran, and the full IR
    type of each tensor seen (sizes, strides: for graph_for)."""

    # {node: index of x} of the graph's `x * 1` / `x + 0` / `x - 0` the profiling run
    # takes as x (passes/peephole.torch_identities; the executor sets it)
    identities: dict = {}

    def __init__(self):
        self.specs: dict = {}
        self.types: dict = {}
        self.blocks: set = set()
        self.runs = 0
        self._last: dict = {}       # value -> (run, the IR type it had when last computed)
        self._entered: dict = {}    # block -> the last run that entered it

    def observe(self, value, obj):
        s = spec_of(obj)
        prev = self.specs.get(value, _UNSEEN)
        self.specs[value] = s if prev is _UNSEEN else merge(prev, s)
        if isinstance(s, TensorSpec):
            t = T.TensorType.of(obj)
            old = self.types.get(value)
            self.types[value] = t if old is None else merge_tensor_types(old, t)
            self._last[value] = (self.runs, t)

    def enter(self, block):
        self.blocks.add(block)
        self._entered[block] = self.runs

    def latest_type(self, value):
        """The IR type of tensor `value` when the latest run last computed it (in a loop:
        its last iteration), None when that run did not."""
        run, t = self._last.get(value, (None, None))
        return t if run == self.runs else None

    def entered_last(self, block) -> bool:
        """Did the latest run enter `block`?"""
        return self._entered.get(block) == self.runs

    def seen(self, value) -> bool:
        return value in self.specs

    def get(self, value):
        return self.specs.get(value)


class _BigInt:
    """input_key of an int outside int64 (TorchScript's int)."""


def input_key(v):
    """The part of an argument's type a specialization is chosen by: (dtype, device,
    ndim) of a Tensor, the Python type of anything else, element-wise for tuples/lists,
    by the set of key/value kinds for dicts."""
    if isinstance(v, _reg._Tensor):
        if v.is_nested:     # (a key no Tensor guard takes: its call goes through _miss)
            return (type(v), v._dtype, v._device, v.dim())
        return (v._dtype, v._device, v._data.ndim)
    t = type(v)
    if t is tuple or t is list or (isinstance(v, tuple) and hasattr(t, "_fields")):
        return (t, tuple(input_key(x) for x in v))       # (a NamedTuple: by its fields)
    if t is dict:       # by the kinds of its keys and values, so {"a": "b"} is not let in
        return (t, frozenset((input_key(k), input_key(x)) for k, x in v.items()))  # as {"a": 1}
    if t is int and not -0x8000000000000000 <= v <= 0x7fffffffffffffff:
        return _BigInt      # (no specialization takes it: the call's argument check refuses it)
    return t
