"""The complex-number ops on gpujit's tensors, which are all real: angle (pi for negative
entries, 0 otherwise, NaN kept), conj / conj_physical / resolve_conj / resolve_neg / real
(the tensor itself, as PyTorch returns `self` for a real tensor) and imag (PyTorch's error;
eager only: no registry op whose every call raises).

The identity ops are registry ops too (TorchScript's aten::conj ... in scripted and traced
code, where they are aliases); eagerly `x.conj() is x`, as in PyTorch.
"""
from __future__ import annotations

import numpy as _np

from ..tensor import Tensor
from .meta import same_as
from .registry import derivative as _derivative
from .registry import op, tensor_method

PUBLIC = {}


@op("aten::angle(Tensor self) -> Tensor", tags={"pointwise"}, promote="float",
    scalar="where(isnan({self}), {self}, where({self} < 0, 3.141592653589793, 0))")
def angle(xp, self):
    """The argument of a real number: pi where x < 0, 0 where x >= 0 (-0.0 too), NaN kept."""
    kind = self.dtype if self.dtype.kind == "f" else _np.float64
    r = xp.where(self < 0, _np.pi, 0.0).astype(kind, copy=False)
    return xp.where(xp.isnan(self), self, r) if self.dtype.kind == "f" else r


@_derivative(angle)
def _angle_grad(grad):
    """Piecewise constant on the reals: zero gradient, as PyTorch's angle_backward."""
    from .. import zeros_like
    return zeros_like(grad)


def _identity_op(name):
    """aten::<name>(Tensor(a) self) -> Tensor(a): an alias in graphs, `self` eagerly."""
    @op(f"aten::{name}(Tensor(a) self) -> Tensor(a)", tags={"view"}, meta=same_as(0),
        method=False, function=False)
    def impl(xp, self):
        return self.view()
    impl.__name__ = name
    _derivative(impl)(lambda grad: grad)

    def eager(input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return input
    eager.__name__ = eager.__qualname__ = name
    eager.__doc__ = f"torch.{name}: a real tensor is its own {name} (returned itself)."
    PUBLIC[name] = eager
    if name != "real":                 # Tensor.real is a property
        tensor_method(name)(eager)
    return impl


for _name in ("conj", "conj_physical", "resolve_conj", "resolve_neg", "real"):
    _identity_op(_name)


@tensor_method("conj_physical_")
def _conj_physical_(self):
    """In place: nothing changes in a real tensor."""
    return self


def _imag_error(*args):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


PUBLIC["imag"] = _imag_error
Tensor.real = property(lambda self: self, doc="The real part: the tensor itself.")
Tensor.imag = property(_imag_error, doc="Real tensors have none (PyTorch's error).")
