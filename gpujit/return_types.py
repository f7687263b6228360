"""torch.return_types: the named tuples of ops with several named results (max.dim,
sort, topk, linalg.slogdet...), one class per name and fields, printed as PyTorch's:

    gpujit.return_types.max(
    values=tensor([2., 3.]),
    indices=tensor([1, 0]))

Defined here (not in the op registry) so that they pickle by name."""
from __future__ import annotations

from collections import namedtuple

__all__ = []

_CLASSES: dict = {}


def _repr(self):
    body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
    return f"{__name__}.{type(self).__name__}(\n{body})"


def make(name: str, fields) -> type:
    """The return_types class `name` with `fields` (made once; exported by name when no
    other class of that name has other fields)."""
    key = (name, tuple(fields))
    cls = _CLASSES.get(key)
    if cls is None:
        cls = namedtuple(name, fields)
        cls.__module__ = __name__
        cls.__repr__ = _repr
        _CLASSES[key] = cls
        if name not in globals():
            globals()[name] = cls
            __all__.append(name)
    return cls
