"""nn.Parameter: a Tensor that a Module registers as a parameter (a leaf requiring grad)."""
from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a Tensor, got {type(data).__name__}")
        p = object.__new__(cls)
        p._data, p._dtype, p._device, p._version, p._ag = (data._data, data._dtype,
                                                           data._device, 0, None)
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __reduce__(self):
        return (Parameter, (Tensor.detach(self), self.requires_grad))

    def __deepcopy__(self, memo):
        p = Parameter(Tensor.clone(self), self.requires_grad)
        memo[id(self)] = p
        return p
