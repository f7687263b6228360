"""`gpujit.jit.script(a_list)` / `gpujit.jit.script(a_dict)`: TorchScript's ScriptList and
ScriptDict, a list / dict with one element type (inferred from the contents, as
TorchScript infers it: an empty list is a List[Tensor], an empty dict a Dict[str, Tensor])
that refuses values of another type with TypeError, and that scripted functions mutate in
place (reference semantics: `f(xs)` appending to xs is seen by the caller).

They are list / dict subclasses, so everything that takes a list or dict takes them."""
from __future__ import annotations

from ..ir import types as T

__all__ = ["ScriptList", "ScriptDict"]


def _fits(v, t) -> bool:
    """May the Python value v be stored where the IR type t is expected?"""
    try:
        vt = T.type_of_value(v)
    except TypeError:
        return False
    if isinstance(t, T.FloatType) and isinstance(vt, (T.IntType, T.BoolType)):
        return True                                  # 1 into a List[float], as pybind does
    if isinstance(t, T.IntType) and isinstance(vt, T.BoolType):
        return True
    if isinstance(t, T.TensorType) and isinstance(vt, T.TensorType):
        return True
    if isinstance(t, T.ListType) and isinstance(vt, T.ListType) and not v:
        return True                                  # [] fits any List[...]
    if isinstance(t, T.DictType) and isinstance(vt, T.DictType) and not v:
        return True
    return vt.is_subtype_of(t)


def _infer(value, what):
    try:
        return T.type_of_value(value)
    except TypeError as e:
        raise TypeError(f"cannot script this {what}: {e}") from None


class ScriptList(list):
    """A list of one element type (TorchScript's torch.ScriptList)."""

    def __init__(self, items=(), elem_type=None):
        items = list(items)
        if elem_type is None:
            elem_type = _infer(items, "list").elem
        super().__init__(items)
        self._elem = elem_type

    @property
    def elem_type(self):
        return self._elem

    def _check(self, x):
        if not _fits(x, self._elem):
            raise TypeError(f"a ScriptList of {self._elem.annotation()} cannot hold "
                            f"{type(x).__name__} {x!r}")
        return x

    def append(self, x):
        super().append(self._check(x))

    def insert(self, i, x):
        super().insert(i, self._check(x))

    def extend(self, xs):
        xs = list(xs)
        for x in xs:
            self._check(x)
        super().extend(xs)

    def __iadd__(self, xs):
        self.extend(xs)
        return self

    def __setitem__(self, i, x):
        if isinstance(i, slice):
            x = list(x)
            for e in x:
                self._check(e)
        else:
            self._check(x)
        super().__setitem__(i, x)

    def __contains__(self, x):
        return super().__contains__(self._check(x))

    def count(self, x):
        return super().count(self._check(x))

    def remove(self, x):
        super().remove(self._check(x))

    def index(self, x, *args):
        return super().index(self._check(x), *args)

    def copy(self):
        return ScriptList(self, self._elem)


class ScriptDict(dict):
    """A dict of one key and one value type (TorchScript's torch.ScriptDict)."""

    def __init__(self, items=(), key_type=None, value_type=None):
        items = dict(items)
        if key_type is None or value_type is None:
            t = _infer(items, "dict")
            key_type, value_type = t.key, t.value
        super().__init__(items)
        self._key, self._value = key_type, value_type

    @property
    def key_type(self):
        return self._key

    @property
    def value_type(self):
        return self._value

    def _check_key(self, k, exc=TypeError):
        if not _fits(k, self._key):
            raise exc(f"a ScriptDict with {self._key.annotation()} keys has no key "
                      f"{type(k).__name__} {k!r}")
        return k

    def _check_value(self, v):
        if not _fits(v, self._value):
            raise TypeError(f"a ScriptDict of {self._value.annotation()} values cannot "
                            f"hold {type(v).__name__} {v!r}")
        return v

    def __setitem__(self, k, v):
        super().__setitem__(self._check_key(k), self._check_value(v))

    def __delitem__(self, k):
        super().__delitem__(self._check_key(k))

    def __contains__(self, k):
        return super().__contains__(self._check_key(k, KeyError))

    def __getitem__(self, k):
        return super().__getitem__(self._check_key(k, KeyError))

    def setdefault(self, k, default=None):
        if k not in self:
            self[k] = default
        return self[k]

    def update(self, other=(), **kw):
        for k, v in dict(other, **kw).items():
            self[k] = v

    def copy(self):
        return ScriptDict(self, self._key, self._value)
