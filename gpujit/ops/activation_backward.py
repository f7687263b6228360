"""The backward kernels of the activations that derivatives.yaml calls by name:
aten::tanh_backward(grad_output, output) and aten::sigmoid_backward(grad_output, output),
with their own derivatives (double backward), as PyTorch's. tanh's and sigmoid's
derivatives call them, so a create_graph gradient's grad_fn is TanhBackwardBackward0 /
SigmoidBackwardBackward0 as torch's, and the backward graphs jit traces (and fuses) hold
one pointwise node per gradient, without a constant to make first.

Their arithmetic is ATen's CPU kernels' (BinaryOpsKernel.cpp), in their order:
tanh_backward a * (1 - b * b), compiled with FMA contraction: a * fma(-b, b, 1);
sigmoid_backward a * (1 - b) * b; float16 tanh_backward computed in float and rounded once,
sigmoid_backward rounded to half after each step.
Not bound as gpujit.<name> or Tensor methods (torch has neither): torch.ops.aten only.
"""
from __future__ import annotations

import math as _math

import numpy as _np

from .. import dtypes as _dt
from . import fma as _fma
from .registry import op, OPS
from .registry import derivative as _derivative
from .derivatives import raw_operands as _raw_operands
from .derivatives import not_implemented as _not_implemented
from .pointwise import FLOATS, _PW

_BACKWARD = dict(tags=_PW, dtypes=FLOATS, method=False, function=False)


def _one_minus_square(xp, y):
    """1 - y * y rounded once (ATen's FMA-contracted form), in y's dtype: float32 (and
    float16's float) through the exact float64 product, float64 a true FMA."""
    if y.dtype == _np.float64:
        return _fma.fma64(-y, y, _np.float64(1.0), xp)
    r = y.astype(_np.float64)
    if r.ndim:      # (in place in the float64 copy: one temporary where there were three)
        xp.multiply(r, r, out=r)
        return xp.subtract(1.0, r, out=r).astype(_np.float32)
    return (1.0 - r * r).astype(_np.float32)


def _times(xp, g, t):
    """g * t, written into t (a fresh array) where the product has t's shape and dtype."""
    if getattr(t, "ndim", 0) and t.shape == g.shape and t.dtype == g.dtype:
        return xp.multiply(g, t, out=t)
    return g * t


@op("aten::tanh_backward(Tensor grad_output, Tensor output) -> Tensor", **_BACKWARD,
    scalar="{grad_output} * (1 - {output} * {output})")
def tanh_backward(xp, grad_output, output):
    if output.dtype.kind == "c":        # (ATen's complex kernel: a * conj(1 - b * b))
        return grad_output * xp.conj(1 - output * output)
    if output.dtype == _np.float16:         # in float, rounded once
        t = _one_minus_square(xp, output.astype(_np.float32))
        return (grad_output.astype(_np.float32) * t).astype(_np.float16)
    return _times(xp, grad_output, _one_minus_square(xp, output))


def _tanh_backward_expression(form):
    """eager's one rounding of 1 - y * y: float32 (float16 computes in it) the float64
    sum of the exact product, rounded to float32; float64 a true FMA."""
    if form.ct in (_dt.float16, _dt.float32):
        return ("{grad_output} * cast_float32(1 - cast_float64({output}) * "
                "cast_float64({output}))")
    if form.ct is _dt.float64:
        return "{grad_output} * fma(-{output}, {output}, cast_float64(1))"
    return None


tanh_backward.op.scalar_for = _tanh_backward_expression


@op("aten::sigmoid_backward(Tensor grad_output, Tensor output) -> Tensor", **_BACKWARD,
    scalar="{grad_output} * (1 - {output}) * {output}")
def sigmoid_backward(xp, grad_output, output):
    if output.dtype.kind == "c":        # (ATen's complex kernel: a * conj((1 - b) * b))
        return grad_output * xp.conj((1 - output) * output)
    # (float16 too: each step rounded to half, as torch 2.13's CPU kernel; the products
    # written into the fresh 1 - output where the shapes allow)
    t = 1 - output
    if getattr(t, "ndim", 0) and t.shape == grad_output.shape and t.dtype == grad_output.dtype:
        xp.multiply(grad_output, t, out=t)
        return xp.multiply(t, output, out=t)
    return grad_output * t * output


def _sigmoid_backward_expression(form):
    """float16: eager's (and ATen's) rounding to half after each step."""
    if form.ct is _dt.float16:
        return ("cast_float16(cast_float16({grad_output} * cast_float16(1 - {output})) * "
                "{output})")
    return None


sigmoid_backward.op.scalar_for = _sigmoid_backward_expression


def _raw(body):
    """Derivative.raw of tanh / sigmoid: the op's body on the arrays, where the registry
    call would pass them as they are (one floating dtype and shape, C order)."""
    def raw(xp, grad, result):
        if type(result) is not type(grad) or \
                not _raw_operands(grad, result, expanded_grad=True):
            return NotImplemented
        return body(xp, grad, result)
    return raw


def tanh_grad(grad, result):
    return OPS["aten::tanh_backward"].public(grad, result)


def sigmoid_grad(grad, result):
    return OPS["aten::sigmoid_backward"].public(grad, result)


tanh_grad_raw = _raw(tanh_backward)
sigmoid_grad_raw = _raw(sigmoid_backward)


# derivatives.yaml: grad_output: <op>_backward(grad, output); output: tanh's
# grad * (-2 * output * grad_output), sigmoid's grad * grad_output * (-2 * output + 1)
@_derivative(tanh_backward, reads={"grad_output": ("output",),
                                   "output": ("output", "grad_output")})
def _tanh_backward_grad(grad, grad_output, output, needs_grad):
    if output.is_complex():
        # (go conj(1 - y^2): complex-linear in go, antiholomorphic in y, as torch's
        # derivatives.yaml: tanh_backward(grad, y.conj()), grad.conj() * -2 go conj(y))
        return (tanh_grad(grad, output.conj()) if needs_grad[0] else None,
                grad.conj() * (output.conj() * -2 * grad_output) if needs_grad[1] else None)
    return (tanh_grad(grad, output) if needs_grad[0] else None,
            grad * (output * -2 * grad_output) if needs_grad[1] else None)


@_derivative(sigmoid_backward, reads={"grad_output": ("output",),
                                      "output": ("output", "grad_output")})
def _sigmoid_backward_grad(grad, grad_output, output, needs_grad):
    if output.is_complex():     # (go conj((1 - y) y): as tanh_backward's above)
        return (sigmoid_grad(grad, output.conj()) if needs_grad[0] else None,
                grad.conj() * grad_output * (output.conj() * -2 + 1) if needs_grad[1]
                else None)
    return (sigmoid_grad(grad, output) if needs_grad[0] else None,
            grad * grad_output * (output * -2 + 1) if needs_grad[1] else None)


# ---------------------------------------------------------- gelu / silu / mish backward
# ATen's cpu/Activation.cpp backward kernels in their order of operations, with the
# multiply-adds GCC contracts into FMAs (one rounding: float32 the float64 sum of the exact
# product rounded to float32, as addcmul; float64 a true FMA); float16 computed in float,
# rounded once. (Their exp / tanh / erf are SLEEF's in ATen's vector loops, NumPy's here:
# the last bit of those may still differ.)
_SQRT1_2 = _math.sqrt(0.5)                                      # M_SQRT1_2
_M_2_SQRTPI = 2 / _math.sqrt(_math.pi)                          # M_2_SQRTPI
_GELU_BETA = _M_2_SQRTPI * _SQRT1_2 * 0.5                       # 1 / sqrt(2 pi)
_GELU_TANH_BETA = _math.sqrt(2) * _M_2_SQRTPI * 0.5             # sqrt(2 / pi)
_GELU_KAPPA = 0.044715


def _three_kappa(dt):
    # 3 * kKappa as the kernel's scalar_t computes it (float for float32 and float16)
    if dt == _np.float64:
        return 3 * _GELU_KAPPA
    return float(_np.float32(3) * _np.float32(_GELU_KAPPA))


def _fma_xp(xp, a, b, c):
    """a * b + c rounded once in a's dtype (b, c arrays or numbers, taken in that dtype)."""
    dt = a.dtype
    b, c = (v if hasattr(v, "dtype") else dt.type(v) for v in (b, c))
    if dt == _np.float64:
        return _fma.fma64(a, b, c, xp)
    # (float32: the float64 sum of the exact product, rounded to float32; one pass)
    return _fma.muladd32_via64(a, b, c, xp)


def _sigmoid_xp(xp, x):
    # the kernels' 1 / (1 + exp(-x)) (in one temporary where x is an array)
    if not getattr(x, "ndim", 0):
        return 1 / (xp.exp(-x) + 1)
    e = xp.negative(x)
    xp.exp(e, out=e)
    xp.add(e, 1, out=e)
    return xp.divide(1, e, out=e)


def _in_float(body):
    """body computed in float for float16 operands, rounded once to float16."""
    def impl(xp, grad_output, self, *args):
        if self.dtype != _np.float16:
            return body(xp, grad_output, self, *args)
        r = body(xp, grad_output.astype(_np.float32), self.astype(_np.float32), *args)
        return r.astype(_np.float16)
    impl.__name__ = body.__name__
    return impl


def _check_approximate(approximate):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")


def _fma_expr(ct, a, b, c):
    if ct is _dt.float64:
        return f"fma({a}, {b}, cast_float64({c}))"
    return f"cast_float32(cast_float64({a}) * cast_float64({b}) + cast_float64({c}))"


def _gelu_backward_body(xp, grad_output, self, approximate="none"):
    _check_approximate(approximate)
    x = self
    if approximate == "tanh":
        # GeluBackwardKernelImpl: dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) *
        # kBeta * (1 + 3 * kKappa * x * x)), t = tanh(kBeta * (x + kKappa * x^3))
        from .pointwise_math import tanh
        x_sq = x * x
        if not x.ndim:
            t = tanh(xp, (x * x * x * _GELU_KAPPA + x) * _GELU_TANH_BETA)
            left = (t + 1) * 0.5
            inner = _fma_xp(xp, x_sq, _three_kappa(x.dtype), 1) * _GELU_TANH_BETA
            right = x * 0.5 * _fma_xp(xp, -t, t, 1) * inner
            return grad_output * (left + right)
        # (the same ufuncs in the same order, each step written into a temporary of its
        # own: 6 arrays where there were 16)
        u = xp.multiply(x_sq, x)
        xp.multiply(u, _GELU_KAPPA, out=u)
        xp.add(u, x, out=u)
        xp.multiply(u, _GELU_TANH_BETA, out=u)
        t = tanh(xp, u)
        left = xp.add(t, 1, out=u)
        xp.multiply(left, 0.5, out=left)
        inner = _fma_xp(xp, x_sq, _three_kappa(x.dtype), 1)
        xp.multiply(inner, _GELU_TANH_BETA, out=inner)
        right = xp.multiply(x, 0.5, out=x_sq)
        xp.multiply(right, _fma_xp(xp, xp.negative(t), t, 1), out=right)
        xp.multiply(right, inner, out=right)
        xp.add(left, right, out=left)
        if left.shape == grad_output.shape and left.dtype == grad_output.dtype:
            return xp.multiply(grad_output, left, out=left)
        return grad_output * left
    # dy * (cdf + x * pdf): cdf = 0.5 * (1 + erf(x * M_SQRT1_2)), pdf = kBeta * exp(-x^2 / 2)
    from .pointwise_math import erf
    if x.ndim == 0:
        cdf = (erf(xp, x * _SQRT1_2) + 1) * 0.5
        pdf = xp.exp(x * x * -0.5) * _GELU_BETA
        return grad_output * _fma_xp(xp, x, pdf, cdf)
    if xp is _np and x.dtype == _np.float32 and grad_output.dtype == _np.float32 and \
            grad_output.shape == x.shape and x.flags.c_contiguous and \
            grad_output.flags.c_contiguous:
        # (the steps below after NumPy's exp in one compiled pass: ops/_erf_kernel.py)
        from . import _erf_kernel as _k
        if _k.agrees_with_libm():
            return _k.gelu_backward_f32(grad_output, x)
    cdf = erf(xp, x * _SQRT1_2)             # (in place: the same ufuncs, fewer temporaries)
    xp.add(cdf, 1, out=cdf)
    xp.multiply(cdf, 0.5, out=cdf)
    pdf = x * x
    xp.multiply(pdf, -0.5, out=pdf)
    xp.exp(pdf, out=pdf)
    xp.multiply(pdf, _GELU_BETA, out=pdf)
    t = _fma_xp(xp, x, pdf, cdf)
    # (shapes and dtypes by NumPy's rules, which CuPy follows: t can take the product)
    if t.shape == _np.broadcast_shapes(t.shape, grad_output.shape) and t.dtype == \
            _np.result_type(grad_output.dtype, t.dtype):
        return xp.multiply(grad_output, t, out=t)
    return grad_output * t


def _saturated_tanh(arg):
    # (eager's float32 tanh, which these bodies call: pointwise_math.saturated_tanh)
    from .pointwise_math import saturated_tanh
    return saturated_tanh(arg)


def _gelu_backward_text(ct, approximate):
    """gelu_backward's scalar expression as eager computes it in ct (each step the op eager
    runs; the multiply-adds rounded once)."""
    x, g = "{self}", "{grad_output}"
    if approximate == "tanh":
        three_kappa = _three_kappa(_np.float64 if ct is _dt.float64 else _np.float32)
        t = f"(({x} * {x} * {x} * {_GELU_KAPPA!r} + {x}) * {_GELU_TANH_BETA!r})"
        t = _saturated_tanh(t) if ct in (_dt.float16, _dt.float32) else f"tanh{t}"
        left = f"(({t} + 1) * 0.5)"
        inner = f"({_fma_expr(ct, f'({x} * {x})', repr(three_kappa), 1)} * {_GELU_TANH_BETA!r})"
        right = f"({x} * 0.5 * {_fma_expr(ct, f'(-{t})', t, 1)} * {inner})"
        return f"{g} * ({left} + {right})"
    cdf = f"((erf({x} * {_SQRT1_2!r}) + 1) * 0.5)"
    pdf = f"(exp({x} * {x} * -0.5) * {_GELU_BETA!r})"
    return f"{g} * {_fma_expr(ct, x, pdf, cdf)}"


@op("aten::gelu_backward(Tensor grad_output, Tensor self, *, str approximate=\"none\") "
    "-> Tensor", **_BACKWARD,
    scalar=f"where({{approximate}} == 'tanh', {_gelu_backward_text(_dt.float64, 'tanh')}, "
           f"{_gelu_backward_text(_dt.float64, 'none')})")
def gelu_backward(xp, grad_output, self, approximate="none"):
    return _in_float(_gelu_backward_body)(xp, grad_output, self, approximate)


def _gelu_backward_expression(form):
    ct, approximate = form.ct, form.constants.get("approximate")
    if ct not in (_dt.float16, _dt.float32, _dt.float64) or approximate not in (
            "none", "tanh"):
        return None
    return _gelu_backward_text(ct, approximate)


gelu_backward.op.scalar_for = _gelu_backward_expression


@op("aten::silu_backward(Tensor grad_output, Tensor self) -> Tensor", **_BACKWARD,
    scalar="{grad_output} * (1 / (exp(-{self}) + 1)) * fma({self}, 1 - (1 / (exp(-{self}) "
           "+ 1)), cast_float64(1))")
def silu_backward(xp, grad_output, self):
    return _in_float(_silu_backward_body)(xp, grad_output, self)


def _silu_backward_body(xp, grad_output, x):
    # silu_backward_kernel: dy * sigmoid * (1 + x * (1 - sigmoid))
    s = _sigmoid_xp(xp, x)
    f = _fma_xp(xp, x, 1 - s, 1)
    if getattr(s, "ndim", 0) and s.shape == grad_output.shape and s.dtype == grad_output.dtype:
        xp.multiply(grad_output, s, out=s)
        return xp.multiply(s, f, out=s)
    return grad_output * s * f


def _silu_backward_expression(form):
    if form.ct not in (_dt.float16, _dt.float32, _dt.float64):
        return None
    s = "(1 / (exp(-{self}) + 1))"
    return f"{{grad_output}} * {s} * {_fma_expr(form.ct, '{self}', f'(1 - {s})', 1)}"


silu_backward.op.scalar_for = _silu_backward_expression


@op("aten::mish_backward(Tensor grad_output, Tensor self) -> Tensor", **_BACKWARD,
    scalar="{grad_output} * fma({self} * (1 / (exp(-{self}) + 1)), fma(-tanh(log1p(exp("
           "{self}))), tanh(log1p(exp({self}))), cast_float64(1)), tanh(log1p(exp({self}))))")
def mish_backward(xp, grad_output, self):
    return _in_float(_mish_backward_body)(xp, grad_output, self)


def _mish_backward_body(xp, grad_output, x):
    # mish_backward_kernel: dy * (tanh_sp + x * sigmoid * (1 - tanh_sp * tanh_sp)),
    # tanh_sp = tanh(log1p(exp(x)))
    from .pointwise_math import tanh
    t = tanh(xp, xp.log1p(xp.exp(x)))
    return grad_output * _fma_xp(xp, x * _sigmoid_xp(xp, x), _fma_xp(xp, -t, t, 1), t)


def _mish_backward_expression(form):
    ct = form.ct
    if ct not in (_dt.float16, _dt.float32, _dt.float64):
        return None
    t = "log1p(exp({self}))"
    t = _saturated_tanh(t) if ct in (_dt.float16, _dt.float32) else f"tanh({t})"
    s = "(1 / (exp(-{self}) + 1))"
    return (f"{{grad_output}} * "
            f"{_fma_expr(ct, f'({{self}} * {s})', _fma_expr(ct, f'(-{t})', t, 1), t)}")


mish_backward.op.scalar_for = _mish_backward_expression

# (derivatives.yaml differentiates neither: torch's autograd refuses their double backward)
_not_implemented(silu_backward, message="derivative for aten::silu_backward is not implemented")
_not_implemented(mish_backward, message="derivative for aten::mish_backward is not implemented")


def gelu_grad(grad, self, approximate):
    return OPS["aten::gelu_backward"].public(grad, self, approximate=approximate)


def silu_grad(grad, self):
    """silu's derivative: silu_backward, or under grad mode (create_graph) FunctionsManual's
    infinitely_differentiable_silu_backward, in torch's ops (1.0 - t: empty_like(t).fill_
    (1.0).sub_(t), a SubBackward0)."""
    import gpujit
    if not gpujit.is_grad_enabled():
        return OPS["aten::silu_backward"].public(grad, self)
    sigmoid = self.sigmoid()
    return grad * sigmoid * (self * _one_minus(sigmoid)).add(1.0)


def mish_grad(grad, self):
    """mish's derivative: mish_backward, or under grad mode infinitely_differentiable_mish_
    backward, in torch's ops."""
    import gpujit
    if not gpujit.is_grad_enabled():
        return OPS["aten::mish_backward"].public(grad, self)
    sigmoid = self.sigmoid()
    tanh_softplus = self.exp().log1p().tanh()
    return grad * (tanh_softplus + self * sigmoid * _one_minus(tanh_softplus * tanh_softplus))


def _one_minus(t):
    # C++'s `1.0 - t` (c10's operator-(Scalar, Tensor)): empty_like(t).fill_(1.0).sub_(t)
    import gpujit
    return gpujit.ones_like(t).sub_(t)


@_derivative(gelu_backward, reads={"grad_output": ("self",),
                                   "self": ("self", "grad_output")})
def _gelu_backward_grad(grad, grad_output, self, approximate, needs_grad):
    # derivatives.yaml: grad_output: gelu_backward(grad, self, approximate);
    # self: gelu_double_backward(grad, grad_output, self, approximate) (FunctionsManual)
    g_out = gelu_grad(grad, self, approximate) if needs_grad[0] else None
    if not needs_grad[1]:
        return g_out, None
    x = self
    if approximate == "tanh":
        beta, kappa = _GELU_TANH_BETA, _GELU_KAPPA
        inner = (x + x.pow(3) * kappa) * beta
        tanh_inner = inner.tanh()
        sech_inner = 1 / inner.cosh()
        f = x * 0.5
        g = 1 - tanh_inner * tanh_inner
        h = (x * x * (3 * kappa) + 1) * beta
        f_prime_gh = g * 0.5 * h
        g_prime = (sech_inner * 2) * (-sech_inner * tanh_inner) * h
        g_prime_fh = f * h * g_prime
        h_prime = x * (6 * kappa) * beta
        h_prime_fg = f * g * h_prime
        d = f_prime_gh + f_prime_gh + g_prime_fh + h_prime_fg
    else:
        x_sq = x * x
        pdf = (x_sq * -0.5).exp() * _GELU_BETA
        d = pdf * 2 - x_sq * pdf
    return g_out, grad * grad_output * d


# the array operations each eager body runs (float32): a lone node still gets a kernel
for _impl, _n in ((tanh_backward, 5), (sigmoid_backward, 3), (gelu_backward, 12),
                  (silu_backward, 10), (mish_backward, 14)):
    _impl.op.eager_ops = _n
