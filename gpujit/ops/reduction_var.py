"""Variance and standard deviation: var, std, var_mean and std_mean, each in PyTorch's
three overloads (unbiased=, dim + unbiased=, correction=), with divisor max(N - correction,
0) and float16 computed in float32, and their derivatives (std's is 0 where std is 0).
An op family of its own in ops.FAMILIES, right after reduction.py, whose helpers it uses."""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from .registry import op, derivative as _derivative
from .reduction import (_RED, _F16, _F32, _axes, _count, _var_check, _meta, _reduced,
                        _reduced_count, _keep)


def _welford_mean(xp, x, axes, m):
    """The mean as PyTorch's var_mean/std_mean give it (m: the mean, reduced dims kept):
    its Welford update reads (value - mean so far), so an infinity followed by any other
    element of the reduced slice (in index order) makes the mean nan (inf - inf), where
    the sum's mean is +-inf; an infinity last leaves it +-inf."""
    if x.dtype.kind != "f" or x.ndim == 0:
        return m
    nd = x.ndim
    red = tuple(range(nd)) if axes is None else axes
    lead = [d for d in range(nd) if d not in red]
    n = math.prod(x.shape[d] for d in red)
    if n < 2 or x.size == 0:
        return m
    flat = xp.transpose(x, lead + list(red)).reshape(tuple(x.shape[d] for d in lead) + (n,))
    early = xp.isinf(flat[..., :-1]).any(-1)
    if not bool(early.any()):
        return m
    return xp.where(early.reshape(m.shape), math.nan, m)


def _var_mean(xp, a, dim, correction, keepdim, sqrt, with_mean=False):
    """(variance or its sqrt, mean) with divisor max(N - correction, 0), as torch."""
    _var_check(_dt._FROM_NP[a.dtype], ("std" if sqrt else "var") + "_mean" * with_mean)
    if a.dtype.kind == "c":
        # (ATen's std_var_out of a complex tensor: the variances of the real and the
        # imaginary parts, each as a real tensor's, added; real; the mean complex)
        vr, mr = _var_mean(xp, a.real, dim, correction, keepdim, False, with_mean)
        vi, mi = _var_mean(xp, a.imag, dim, correction, keepdim, False, with_mean)
        v = vr + vi
        m = xp.empty(mr.shape, a.dtype)
        m.real[...], m.imag[...] = mr, mi
        return (xp.sqrt(v) if sqrt else v), m
    axes = _axes(dim, a.ndim)
    out = a.dtype
    # PyTorch's CPU kernel accumulates float32 in double (its acc_type): squares of
    # values past ~1.8e19 stay finite there (float16 in float32, as on both devices)
    x = a.astype(_F32) if out == _F16 else \
        a.astype(np.float64) if out == _F32 and xp is np else a
    n = _count(a.shape, axes)
    c = 1 if correction is None else correction
    with np.errstate(invalid="ignore", divide="ignore"):
        m = x.sum(axes, keepdims=True) / n if n else x.sum(axes, keepdims=True) * math.nan
        d = x - m
        v = (d * d).sum(axes, keepdims=keepdim) / (n - c if n > c else 0)
    if sqrt:
        v = xp.sqrt(v)
    if with_mean:
        m = _welford_mean(xp, x, axes, m)
    if not keepdim:
        m = m.reshape(v.shape)
    return xp.asarray(v).astype(out, copy=False), xp.asarray(m).astype(out, copy=False)


def _var_meta(self, dim=None, keepdim=False, name=None):
    _var_check(self.dtype, name)
    return _meta(self, self.dtype.to_real(), dim, keepdim)      # (of complex: real)


def _declare_var(name):
    """var/std/var_mean/std_mean in PyTorch's three overloads each."""
    with_mean = name.endswith("_mean")
    tail = "(Tensor, Tensor)" if with_mean else "Tensor"
    pub = {"method": not with_mean}   # var_mean/std_mean are functions only, as torch

    def compute(xp, a, dim, correction, keepdim):
        v, m = _var_mean(xp, a, dim, correction, keepdim, name.startswith("std"), with_mean)
        return (v, m) if with_mean else v

    def meta(self, dim=None, keepdim=False):
        m = _var_meta(self, dim, keepdim, name)
        return (m, _meta(self, self.dtype, dim, keepdim)) if with_mean else m

    @op(f"aten::{name}(Tensor self, bool unbiased=True) -> {tail}", tags=_RED,
        meta=lambda self, unbiased=True: meta(self), **pub)
    def plain(xp, self, unbiased=True):
        return compute(xp, self, None, int(unbiased), False)

    @op(f"aten::{name}.dim(Tensor self, int[1]? dim, bool unbiased=True, "
        f"bool keepdim=False) -> {tail}", tags=_RED,
        meta=lambda self, dim, unbiased=True, keepdim=False: meta(self, dim, keepdim), **pub)
    def with_dim(xp, self, dim, unbiased=True, keepdim=False):
        return compute(xp, self, dim, int(unbiased), keepdim)

    @op(f"aten::{name}.correction(Tensor self, int[1]? dim=None, *, Scalar? correction=None, "
        f"bool keepdim=False) -> {tail}", tags=_RED,
        meta=lambda self, dim=None, correction=None, keepdim=False: meta(self, dim, keepdim),
        **pub)
    def with_correction(xp, self, dim=None, correction=None, keepdim=False):
        return compute(xp, self, dim, correction, keepdim)

    return plain, with_dim, with_correction


var, var_dim, var_correction = _declare_var("var")
std, std_dim, std_correction = _declare_var("std")
var_mean, var_mean_dim, var_mean_correction = _declare_var("var_mean")
std_mean, std_mean_dim, std_mean_correction = _declare_var("std_mean")


# derivatives (gpujit.autograd), written with registry ops

def _var_backward(grad, self, dim, correction, keepdim):
    """d var / dx = 2 (x - mean) / (N - correction); the divisor is clamped at 0 as in the
    forward (an infinite variance has an infinite slope)."""
    dims = _reduced(self.dim(), dim)
    div = _reduced_count(self, dim) - (1 if correction is None else correction)
    scale = 2.0 / div if div > 0 else math.inf
    centered = self - self.mean(dims, keepdim=True)
    return _keep(grad, self.dim(), dim, keepdim) * scale * centered


def _declare_var_grads(kind, plain, with_dim, with_correction):
    """The derivatives of var/std/var_mean/std_mean in their three overloads; std's
    d sqrt(v) = dv / (2 std) is 0 where std is 0 (torch's std_backward)."""
    sqrt, with_mean = kind.startswith("std"), kind.endswith("_mean")

    def backward(grad, self, result, dim, correction, keepdim, grads_defined=(True, True)):
        # (torch's var_mean_backward: the variance's part only for a variance that got a
        # gradient, the mean's only for a mean that did; the variance of one element has
        # an infinite slope, so a zero gradient would still give nan)
        out = None
        if grads_defined[0]:
            g = grad[0] if with_mean else grad
            if sqrt:
                std = result[0] if with_mean else result
                g = (g / (2 * std)).masked_fill(std == 0, 0)
            out = _var_backward(g, self, dim, correction, keepdim)
        if with_mean and grads_defined[1]:
            n = max(_reduced_count(self, dim), 1)
            m = _keep(grad[1], self.dim(), dim, keepdim) / n
            out = m.expand_as(self) if out is None else out + m
        return out

    if with_mean:   # (which of the two outputs got a gradient: grads_defined)
        if sqrt:
            _derivative(plain)(lambda grad, self, result, unbiased, grads_defined: backward(
                grad, self, result, None, int(unbiased), False, grads_defined))
            _derivative(with_dim)(lambda grad, self, result, dim, unbiased, keepdim,
                                  grads_defined: backward(grad, self, result, dim,
                                                          int(unbiased), keepdim, grads_defined))
            _derivative(with_correction)(lambda grad, self, result, dim, correction, keepdim,
                                         grads_defined: backward(grad, self, result, dim,
                                                                 correction, keepdim,
                                                                 grads_defined))
        else:
            _derivative(plain)(lambda grad, self, unbiased, grads_defined: backward(
                grad, self, None, None, int(unbiased), False, grads_defined))
            _derivative(with_dim)(lambda grad, self, dim, unbiased, keepdim, grads_defined:
                                  backward(grad, self, None, dim, int(unbiased), keepdim,
                                           grads_defined))
            _derivative(with_correction)(lambda grad, self, dim, correction, keepdim,
                                         grads_defined: backward(grad, self, None, dim,
                                                                 correction, keepdim,
                                                                 grads_defined))
    elif sqrt:      # only std needs the result saved
        _derivative(plain)(lambda grad, self, result, unbiased: backward(
            grad, self, result, None, int(unbiased), False))
        _derivative(with_dim)(lambda grad, self, result, dim, unbiased, keepdim: backward(
            grad, self, result, dim, int(unbiased), keepdim))
        _derivative(with_correction)(lambda grad, self, result, dim, correction, keepdim:
                                     backward(grad, self, result, dim, correction, keepdim))
    else:
        _derivative(plain)(lambda grad, self, unbiased: backward(
            grad, self, None, None, int(unbiased), False))
        _derivative(with_dim)(lambda grad, self, dim, unbiased, keepdim: backward(
            grad, self, None, dim, int(unbiased), keepdim))
        _derivative(with_correction)(lambda grad, self, dim, correction, keepdim: backward(
            grad, self, None, dim, correction, keepdim))


_declare_var_grads("var", var, var_dim, var_correction)
_declare_var_grads("std", std, std_dim, std_correction)
_declare_var_grads("var_mean", var_mean, var_mean_dim, var_mean_correction)
_declare_var_grads("std_mean", std_mean, std_mean_dim, std_mean_correction)
