"""torch.utils.weak: weak references and dictionaries keyed by object identity (tensors
hash and compare by value-like operators, so a plain WeakKeyDictionary cannot hold them):
WeakIdRef, WeakIdKeyDictionary (WeakTensorKeyDictionary), TensorWeakRef."""
from __future__ import annotations

import collections.abc
import weakref

__all__ = ["WeakIdRef", "WeakIdKeyDictionary", "WeakTensorKeyDictionary", "TensorWeakRef"]


class WeakIdRef(weakref.ref):
    """A weak reference hashed by the referent's id and equal to another only when both
    point at one live object."""
    __slots__ = ["_id"]

    def __init__(self, key, callback=None):
        self._id = id(key)
        super().__init__(key, callback)

    def __hash__(self):
        return self._id

    def __eq__(self, other):
        a = self()
        b = other()
        if a is not None and b is not None:
            return a is b
        return self is other


class WeakIdKeyDictionary(collections.abc.MutableMapping):
    """A dict whose keys are held weakly and looked up by identity (an entry goes when its
    key is collected)."""

    def __init__(self, dict=None, ref_type=WeakIdRef):
        self.data = {}
        self.ref_type = ref_type

        def remove(k, selfref=weakref.ref(self)):
            self = selfref()
            if self is not None:
                try:
                    del self.data[k]
                except KeyError:
                    pass
        self._remove = remove
        if dict is not None:
            self.update(dict)

    def __delitem__(self, key):
        del self.data[self.ref_type(key)]

    def __getitem__(self, key):
        return self.data[self.ref_type(key)]

    def __setitem__(self, key, value):
        self.data[self.ref_type(key, self._remove)] = value

    def __contains__(self, key):
        try:
            wr = self.ref_type(key)
        except TypeError:
            return False
        return wr in self.data

    def __len__(self):
        return sum(1 for k in self.data if k() is not None)

    def __iter__(self):
        for wr in list(self.data):
            obj = wr()
            if obj is not None:
                yield obj

    def __repr__(self):
        return f"<{self.__class__.__name__} at {id(self):#x}>"

    def keyrefs(self):
        return list(self.data)

    def copy(self):
        new = WeakIdKeyDictionary()
        for key, value in self.data.items():
            o = key()
            if o is not None:
                new[o] = value
        return new

    __copy__ = copy

    def get(self, key, default=None):
        return self.data.get(self.ref_type(key), default)

    def pop(self, key, *args):
        return self.data.pop(self.ref_type(key), *args)

    def setdefault(self, key, default=None):
        return self.data.setdefault(self.ref_type(key, self._remove), default)


WeakTensorKeyDictionary = WeakIdKeyDictionary


class TensorWeakRef:
    """A weak reference to a tensor (calling it gives the tensor or None)."""

    def __init__(self, tensor):
        from ..tensor import Tensor
        if not isinstance(tensor, Tensor):
            raise AssertionError(f"expected torch.Tensor, got {type(tensor)}.")
        self.ref = weakref.ref(tensor)

    def __call__(self):
        return self.ref()
