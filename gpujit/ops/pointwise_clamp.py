"""Clamping ops: clamp / clip (Scalar and Tensor bounds), clamp_min / clamp_max, maximum,
minimum, with their derivatives (PyTorch's clamp_backward_min_max; ties of maximum /
minimum split the gradient evenly). Conventions as in pointwise.py, which imports this
module at its end (these ops are listed after its own, as before the split).

Python-int bounds of an integer tensor go through c10's checked_convert
(`checked_scalars`): clamp(u8, min=-1) clamps at 255, clamp(i8, 300) raises.
"""
from __future__ import annotations

from .. import dtypes as _dt
from . import registry as _reg
from .registry import op
from .kernel_names import kernel_name as _kernel_name
from .registry import derivative as _derivative
from .scalar import tie_first as _tie_first
from .pointwise import NO_BOOL, _PW, _gpujit, _is_tensor, _keep


def _clamp(xp, self, min=None, max=None, name="clamp"):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if self.dtype == bool and min is not None and max is not None:
        # (bool clamps with one tensor bound, which PyTorch runs as clamp_min/clamp_max;
        # with both, its clamp kernel has no bool version: clip's is clamp's too)
        raise _reg.UnsupportedDtypeError(
            f"\"{_kernel_name('clamp_cpu', xp)}\" not implemented for 'Bool'")
    if min is not None:
        # maximum/minimum propagate NaN, as clamp does; self on ties (signed zeros)
        self = _tie_first(xp, "maximum", self, min)
    if max is not None:
        self = _tie_first(xp, "minimum", self, max)
    return self


# min(max(x, lo), hi), a missing bound leaving x (or max(x, lo)) as it is
_CLAMP_LO = "maximum({self}, ifnone({min}, {self}))"
_CLAMP = f"minimum({_CLAMP_LO}, ifnone({{max}}, {_CLAMP_LO}))"


def _declare_clamp(name):
    ops = []
    for schema, operands in (
            (f"aten::{name}(Tensor self, Scalar? min=None, Scalar? max=None) -> Tensor",
             ("self", "min", "max")),
            (f"aten::{name}.Tensor(Tensor self, Tensor? min=None, Tensor? max=None) -> Tensor",
             None)):
        def impl(xp, self, min=None, max=None):
            return _clamp(xp, self, min, max, name)
        impl.__name__ = name
        # bool: with tensor bounds only (PyTorch's clamp_min/clamp_max.Tensor take bool;
        # a Python number bound, clamp's Scalar overload, does not)
        ops.append(op(schema, tags=_PW, inplace=True, operands=operands, scalar=_CLAMP,
                      dtypes=NO_BOOL if operands else _dt.ALL,
                      parameter_numbers=("min", "max") if operands else ())(impl))
    return ops


clamp, clamp_tensor = _declare_clamp("clamp")
clip, clip_tensor = _declare_clamp("clip")


def _declare_clamp_bound(name, ufunc, arg):
    ops = []
    for schema, operands in ((f"aten::{name}(Tensor self, Scalar {arg}) -> Tensor",
                              ("self", arg)),
                             (f"aten::{name}.Tensor(Tensor self, Tensor {arg}) -> Tensor",
                              None)):
        def impl(xp, self, bound):
            return _tie_first(xp, ufunc, self, bound)
        impl.__name__ = name
        ops.append(op(schema, tags=_PW, inplace=True, operands=operands,
                      dtypes=NO_BOOL if operands else _dt.ALL,     # bool: tensor bound only
                      parameter_numbers=(arg,) if operands else (),
                      scalar=f"{ufunc}({{self}}, {{{arg}}})")(impl))
    return ops


clamp_min, clamp_min_tensor = _declare_clamp_bound("clamp_min", "maximum", "min")
clamp_max, clamp_max_tensor = _declare_clamp_bound("clamp_max", "minimum", "max")
for _f, _names in ((clamp, ("min", "max")), (clip, ("min", "max")), (clamp_min, ("min",)),
                   (clamp_max, ("max",))):
    for _d in (_f.op, _f.op.inplace_variant):      # (Python-int bounds: c10's checked_convert)
        _d.checked_scalars = frozenset(_names)
        _d.checked_floats = {n: {} for n in _names}     # (clamp(h, 1e6) raises too)


@op("aten::maximum(Tensor self, Tensor other) -> Tensor", tags=_PW,
    scalar="maximum({self}, {other})")
def maximum(xp, self, other):
    return _tie_first(xp, "maximum", self, other)      # NaN-propagating, as torch.maximum


@op("aten::minimum(Tensor self, Tensor other) -> Tensor", tags=_PW,
    scalar="minimum({self}, {other})")
def minimum(xp, self, other):
    return _tie_first(xp, "minimum", self, other)


# derivatives

def _clamp_grad(grad, self, min=None, max=None):
    """PyTorch's clamp_backward_min_max: self gets the gradient where no bound applied
    (at a bound too: subgradient 1), a bound where it did; with min > max the result is
    max everywhere, so only max gets it."""
    if min is None:
        g_self = _keep(self <= max, grad)
    elif max is None:
        g_self = _keep(self >= min, grad)
    else:
        g_self = _keep((self >= min) & (self <= max), grad)
    g_min = g_max = None
    if _is_tensor(min):
        g_min = _keep(self < min if max is None else (self < min) & (min < max), grad)
    if _is_tensor(max):
        g_max = _keep(self > max if min is None else (self > max) | (max < min), grad)
    return g_self, g_min, g_max


@_derivative(clamp, clip)
def _clamp_scalar_grad(grad, self, min, max):
    return _clamp_grad(grad, self, min, max)[0]


@_derivative(clamp_tensor, clip_tensor)
def _clamp_tensor_grad(grad, self, min, max):
    return _clamp_grad(grad, self, min, max)


@_derivative(clamp_min)
def _clamp_min_scalar_grad(grad, self, min):
    return _keep(self >= min, grad)


@_derivative(clamp_max)
def _clamp_max_scalar_grad(grad, self, max):
    return _keep(self <= max, grad)


@_derivative(clamp_min_tensor)
def _clamp_min_grad(grad, self, min):
    g_self, g_min, _ = _clamp_grad(grad, self, min=min)
    return g_self, g_min


@_derivative(clamp_max_tensor)
def _clamp_max_grad(grad, self, max):
    g_self, _, g_max = _clamp_grad(grad, self, max=max)
    return g_self, g_max


@_derivative(maximum)
def _maximum_grad(grad, self, other):
    g = _gpujit().where(self == other, grad / 2, grad)     # ties: split evenly
    return g.masked_fill(self < other, 0), g.masked_fill(self > other, 0)


@_derivative(minimum)
def _minimum_grad(grad, self, other):
    g = _gpujit().where(self == other, grad / 2, grad)
    return g.masked_fill(self > other, 0), g.masked_fill(self < other, 0)
