"""Pointwise ops: arithmetic (add, sub, rsub, mul, div, floor_divide, remainder, fmod, pow,
neg, abs, sign, sgn, positive, square) and rounding (floor, ceil, trunc, round, frac), with
their derivatives, and what every pointwise family module shares (dtype sets, the float16 opmath helper `_f32`,
the derivative helpers, logit's fused expression). The other pointwise families:
pointwise_math.py (float math: exp, log, trigonometric, erf, gamma functions, logit,
hypot, ...), pointwise_logic.py (comparisons, float tests, logical and bitwise ops),
pointwise_ternary.py (where, masked_fill, lerp, addcmul, addcdiv), pointwise_clamp.py
(clamp / clip and their bounds, maximum, minimum: imported at the end of this module) and
activation.py.

Each body is written once against `xp` (NumPy or CuPy); operands arrive as arrays already
cast to the computation dtype (or as Python scalars), and the result is cast to the output
dtype by the registry. `scalar` is the per-element expression the fuser emits (see
ops/scalar.py); tests check it against the eager body.

float16 bodies that chain several operations compute in float32 (`_f32`) and round once at
the end, as PyTorch's kernels do (their "opmath" type), instead of rounding every step.
"""
from __future__ import annotations

import numpy as _np

from .. import dtypes as _dt
from . import registry as _reg
from . import scalar_ops as _scalar_ops
from .registry import op
from .registry import derivative as _derivative
from .derivatives import not_implemented as _not_implemented
from .derivatives import raw_operands as _raw_operands
from . import fma as _fma

_F16, _F64 = _np.dtype(_np.float16), _np.dtype(_np.float64)
_I64 = _np.dtype(_np.int64)

NO_BOOL = tuple(d for d in _dt.ALL if d is not _dt.bool)
INTS = (_dt.bool,) + _dt.INTEGRAL_TYPES
FLOATS = _dt.FLOATING_TYPES

_PW = {"pointwise"}


# PyTorch (CPU) raises RuntimeError('ZeroDivisionError') for integer division by zero:
# this is both ZeroDivisionError and RuntimeError (declared with the scalar ops, which
# raise it for `a // 0` on ints)
IntegerDivisionByZero = _scalar_ops.IntegerDivisionByZero


def _kind(a, b):
    """The NumPy kind of the computation dtype (that of whichever operand is an array)."""
    d = getattr(a, "dtype", None)
    return (b.dtype if d is None else d).kind


def _is_int(a, b):
    return _kind(a, b) in "iu"


def _check_divisor(xp, other, self=None):
    # CPU PyTorch checks integer divisors; CUDA does not (and checking would synchronize).
    # An empty result divides nothing (torch.empty(0, 3) // torch.tensor([0, 1, 2]) is empty)
    if getattr(self, "size", 1) == 0 or getattr(other, "size", 1) == 0:
        return
    if xp is _np:
        bad = (not other.all()) if isinstance(other, _np.ndarray) else other == 0
        if bad:
            raise IntegerDivisionByZero("ZeroDivisionError")


def _f32(a):
    return a.astype(_np.float32) if getattr(a, "dtype", None) == _np.float16 else a


def _short(np_dtype):
    return _dt.from_numpy_dtype(np_dtype).short_name


# add / sub / rsub take their one-call path only for alpha exactly the int 1 (`alpha is
# _ONE`: CPython keeps one object for small ints, and runtime/impl_facts reads the test as
# it reads `alpha == 1`); any other alpha (True, 1.0, 1+0j, an np.int64) is checked first.
_ONE = 1


def _check_alpha(a, b, alpha, negate=False):
    """PyTorch's alpha_check against the result's dtype (that of the operands here), then
    alpha (-alpha for sub and rsub, which are add with -alpha) as the kernel converts it.
    c10's Scalar negates an int in int64's two's complement: sub(x, y, alpha=2**63) adds
    -2**63, and sub(i32, i32, alpha=-2**31) is int32's overflow error."""
    kind = _kind(a, b)
    if isinstance(alpha, (bool, _np.bool_)) and kind != "b":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if kind in "biu" and isinstance(alpha, (float, complex, _np.floating, _np.complexfloating)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if kind != "c" and isinstance(alpha, (complex, _np.complexfloating)):
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a "
                           "complex number.")
    if negate:
        alpha = ((-alpha + (1 << 63)) % (1 << 64)) - (1 << 63) if type(alpha) is int else -alpha
    if kind == "b":
        return bool(alpha)      # PyTorch casts alpha to bool: x.add(y, alpha=-1) is x | y
    return _wrap_scalar(alpha, a, b)


def _wrap_scalar(v, *arrays):
    """An int argument (alpha, value) converted to the tensors' narrow integer dtype, as
    PyTorch converts it (c10::checked_convert: wrapped within range, else an error;
    registry.checked_int). NumPy would raise OverflowError. int64's range is checked
    too (add(i64, i64, alpha=2**63) is PyTorch's RuntimeError)."""
    if type(v) is int:
        for a in arrays:
            dt = getattr(a, "dtype", None)
            if dt is not None and dt in _reg._NARROW:
                return _reg.checked_int(v, dt)
            if dt == _I64 and not -(1 << 63) <= v < 1 << 63:
                raise _reg.overflow_error(dt)
    return v


# ------------------------------------------------------------------ logit's fused expression
# (here, beside the helpers, because kernels/scalar_codegen.py reads logit_expression from
# this module; the op is in pointwise_math.py)

# eps=None is PyTorch's eps=-1: no clamping. Clamping to [e, 1-e] with any e < 0 changes
# only inputs outside [0, 1], whose logit is NaN either way, so one expression covers both.
# PyTorch clamps as x < lo ? lo : (x > hi ? hi : x) (eps > 0.5: lo > hi), with lo = eps and
# hi = 1 - lo in the computation dtype: float16 rounds 1 - 1e-6 to 1, so logit(1.) is inf.
# CAST rounds to that dtype; logit's scalar_for (logit_expression) names it, float64 needs
# none.
_LOGIT_LO = "CAST(ifnone({eps}, -1))"
_LOGIT_HI = f"CAST(1 - {_LOGIT_LO})"
_LOGIT_Z = (f"where({{self}} < {_LOGIT_LO}, {_LOGIT_LO}, "
            f"where({{self}} > {_LOGIT_HI}, {_LOGIT_HI}, {{self}}))")
_LOGIT = f"log({_LOGIT_Z} / (1 - {_LOGIT_Z}))"


def logit_expression(ct):
    """logit's scalar expression computing in dtype ct (its bounds rounded to ct).
    float16: 1 - z and z / (1 - z) rounded to half, as PyTorch 2.13's CPU kernel
    (Vectorized<Half> arithmetic) and eager gpujit."""
    cast = f"cast_{ct.name}" if ct in (_dt.float16, _dt.float32) else ""
    if ct is _dt.float16:
        return (f"log(cast_float16({_LOGIT_Z} / cast_float16(1 - {_LOGIT_Z})))"
                .replace("CAST", cast))
    return _LOGIT.replace("CAST", cast)


# ------------------------------------------------------------------ arithmetic

def _fma_alpha(xp, a, b, alpha):
    """a + alpha * b for floating operands as PyTorch's add kernel computes it: one fused
    multiply-add (its vectorized fmadd; its scalar code contracted to one on x86 and by
    nvcc) in float32 / float64; float16 in float32, rounded once to float16, alpha
    rounded to float16 first on the CPU (its Half alpha; CUDA's opmath alpha is float32).
    On the CPU, float16 elements PyTorch's loop leaves to its scalar code (half_tail)
    compute in Half arithmetic, alpha * b rounded to half first. None for other dtypes."""
    dt = None
    for v in (a, b):
        d = getattr(v, "dtype", None)
        if d is not None:
            dt = d
            break
    if dt is None or dt.kind != "f":
        return None
    if not isinstance(alpha, (int, float, _np.number)):
        raise TypeError(f"alpha must be a number, not {type(alpha).__name__}")  # (the
        # entry point's parser words replace it)
    if dt == _F64:
        return _fma.fma64(b, alpha, a, xp)
    if dt == _F16:
        # (a Python number operand is a Half tensor in PyTorch's add: rounded to half
        # first: torch.add(h, 3.3001, alpha=2) adds 2 * 3.30078125)
        al = _np.float32(_np.float16(alpha) if xp is _np else alpha)
        b32, a32 = _as32(xp, b, _F16), _as32(xp, a, _F16)
        r = _fma.fma32(b32, al, a32, xp).astype(_F16)
        tail = half_tail((a, b), r.shape) if xp is _np else None
        if tail is True:
            r = (a32 + (al * b32).astype(_F16).astype(_np.float32)).astype(_F16)
        elif tail is not None:
            a32, b32 = (_np.broadcast_to(v, r.shape)[tail] for v in (a32, b32))
            r[tail] = (a32 + (al * b32).astype(_F16).astype(_np.float32)).astype(_F16)
        return r
    return _fma.fma32(_as32(xp, b), _np.float32(alpha), _as32(xp, a), xp)


# elements per step of PyTorch's vectorized CPU loop over float16 (2 x Vectorized<Half>:
# 32 on its AVX2 and its AVX512 build alike)
_HALF_VEC_STEP = 32


def half_tail(operands, shape):
    """Which elements of a float16 elementwise result of `shape` PyTorch 2.13's CPU
    TensorIterator loop computes in its scalar code (basic_loop) rather than its vectorized
    one: a boolean mask, or None for none. Its loop runs over the innermost dims of the
    result's layout that coalesce (every operand's strides contiguous across them, a
    broadcast operand's too); that run is vectorized when each operand is contiguous along
    it or one of them reads one element (stride 0), in steps of 32, the last run % 32
    elements in scalar code; otherwise (an operand strided along it, or two reading one
    element) all of it is scalar. torch.add(a, b, alpha=3.3) of
    (4, 10) halves computes the last 8 elements so, of (40, 40) and (40,) the last 8 of
    each row, of a[::2] all. (Above 32768 elements PyTorch splits the loop among threads;
    this is its one-thread answer.) operands: arrays, or None for a Python number."""
    from .memory_format import iterator_strides, strides_in
    ndim = len(shape)
    if ndim == 0:
        return True
    if 0 in shape:
        return None
    operands = [a if hasattr(a, "strides") else None for a in operands]
    st = iterator_strides(operands, shape) or strides_in(shape, range(ndim))
    ops = []
    for a in operands:
        if a is None or not getattr(a, "ndim", 0):
            ops.append((0,) * ndim)
            continue
        off = ndim - a.ndim
        ops.append((0,) * off + tuple(0 if n == 1 else s // a.itemsize
                                      for n, s in zip(a.shape, a.strides)))
    dims = sorted((d for d in range(ndim) if shape[d] != 1), key=lambda d: st[d])
    if not dims:
        return True
    run, prev = shape[dims[0]], dims[0]
    for d in dims[1:]:
        if st[d] != st[prev] * shape[prev] or any(o[d] != o[prev] * shape[prev]
                                                   for o in ops):
            break
        run, prev = run * shape[d], d
    inner = [o[dims[0]] for o in ops]
    vectorized = all(v in (0, 1) for v in inner) and inner.count(0) <= 1
    if vectorized and run % _HALF_VEC_STEP == 0:
        return None
    if not vectorized or run < _HALF_VEC_STEP:
        return True
    # (the mask laid out in memory order, then seen through the result's strides)
    n = int(_np.prod(shape, dtype=_np.int64))
    if run == n:
        flat = _np.zeros(n, bool)
        flat[n - run % _HALF_VEC_STEP:] = True
    else:
        flat = _np.arange(n) % run >= run - run % _HALF_VEC_STEP
    return _np.lib.stride_tricks.as_strided(flat, shape, st)


def _as32(xp, v, dt=None):
    """v as float32: an array converted, a Python number rounded (the tensor it wraps is
    of the operands' dtype dt: float16 first for a float16 computation)."""
    d = getattr(v, "dtype", None)
    if d is None:
        return _np.float32(_np.float16(v) if dt == _F16 else v)
    return v.astype(_np.float32) if d != _np.float32 else v


# add / sub / rsub test their operands for complex inline (no call: they are the hottest
# ops, and a call is a Python frame per add): `if self.dtype.kind == "c" or
# getattr(other, "dtype", _REAL).kind == "c" or type(other) is complex:` — runtime/
# impl_facts knows that test as a guard of the complex path (not a direct call's path)
_REAL = _np.dtype(_np.float64)


def _complex_add(xp, a, b, alpha):
    """a + alpha * b of complex operands as ATen's add kernel: alpha (1 too) times b as a
    complex product, so an infinite part of b meets alpha's zero imaginary part
    ((1 + 0j) * (inf + 0j) is inf + nan j: torch's x + inf is inf + nan j)."""
    return xp.add(a, xp.multiply(complex(alpha), b))


@op("aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", tags=_PW,
    inplace=True, scalar="{self} + {alpha} * {other}")
def add(xp, self, other, alpha=1):
    if getattr(self, "dtype", _REAL).kind == "c" or getattr(other, "dtype", _REAL).kind == "c" \
            or type(other) is complex or type(self) is complex:
        return _complex_add(xp, self, other, 1 if alpha is _ONE else alpha)
    if alpha is _ONE:
        return xp.add(self, other)
    alpha = _check_alpha(self, other, alpha)
    r = _fma_alpha(xp, self, other, alpha)
    return xp.add(self, xp.multiply(other, alpha)) if r is None else r


@op("aten::sub.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", tags=_PW,
    inplace=True, dtypes=NO_BOOL, scalar="{self} - {alpha} * {other}")
def sub(xp, self, other, alpha=1):
    if getattr(self, "dtype", _REAL).kind == "c" or getattr(other, "dtype", _REAL).kind == "c" \
            or type(other) is complex or type(self) is complex:     # (sub: add with -alpha)
        return _complex_add(xp, self, other, -(1 if alpha is _ONE else alpha))
    if alpha is _ONE:
        return xp.subtract(self, other)
    alpha = _check_alpha(self, other, alpha, negate=True)  # (PyTorch's sub: add, -alpha)
    r = _fma_alpha(xp, self, other, alpha)
    return xp.add(self, xp.multiply(other, alpha)) if r is None else r


@op("aten::rsub.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor", tags=_PW,
    dtypes=NO_BOOL, method=False, scalar="{other} - {alpha} * {self}")
def rsub(xp, self, other, alpha=1):
    if getattr(self, "dtype", _REAL).kind == "c" or getattr(other, "dtype", _REAL).kind == "c" \
            or type(other) is complex or type(self) is complex:
        return _complex_add(xp, other, self, -(1 if alpha is _ONE else alpha))
    if alpha is _ONE:
        return xp.subtract(other, self)
    alpha = _check_alpha(self, other, alpha, negate=True)
    r = _fma_alpha(xp, other, self, alpha)
    return xp.add(other, xp.multiply(self, alpha)) if r is None else r


for _d in (add.op, add.op.inplace_variant, sub.op, sub.op.inplace_variant, rsub.op):
    _d.checked_scalars = frozenset(("alpha",))
    # (add(h, h, alpha=1e5): c10::Half's error; an integer tensor's float alpha is
    # _check_alpha's error first)
    _d.checked_floats = {"alpha": {_np.dtype(t): None for t in (
        _np.uint8, _np.int8, _np.int16, _np.int32, _np.int64)}}


def _alpha_expression(a, b, sign):
    """scalar_for of add / sub / rsub (a + sign * alpha * b): with an alpha other than 1,
    one rounding of the product and the sum, as eager (_fma_alpha) and PyTorch's fmadd:
    float64 a true FMA (prims._fma_f64); float32 the float64 sum of the exact float64
    product (alpha rounded to float32 first, as eager), rounded to float32. (Two roundings,
    the plain expression, differed from eager in 8 of 37 float32 elements of
    torch.add(a, b, alpha=0.3).) float16 keeps the plain expression: PyTorch's CPU loop
    computes some elements in Half arithmetic (half_tail)."""
    op = "+" if sign > 0 else "-"

    def expression(form):
        alpha = form.constants.get("alpha", None)
        if form.ct not in (_dt.float32, _dt.float64) or (
                "alpha" in form.constants and alpha == 1 and not isinstance(alpha, bool)):
            return None
        if form.ct is _dt.float64:
            return f"fma({'' if sign > 0 else '-'}cast_float64({{alpha}}), {b}, {a})"
        return (f"cast_float32(cast_float64({a}) {op} cast_float64(cast_float32({{alpha}}))"
                f" * cast_float64({b}))")
    return expression


add.op.scalar_for = _alpha_expression("{self}", "{other}", 1)
sub.op.scalar_for = _alpha_expression("{self}", "{other}", -1)
rsub.op.scalar_for = _alpha_expression("{other}", "{self}", -1)


# (opmath_scalars: float16 times or by a Python number, or by a 0-dim tensor of another
# dtype, computes in float32, as PyTorch)
def _no_bool_subtraction(kinds):
    """PyTorch refuses `-` with a bool operand (a Python bool is one), whatever the result
    type would be."""
    refuse_bool_subtraction(sum(1 for k in kinds[:2] if k[0] is _dt.bool))


def refuse_bool_subtraction(bools):
    """sub's RuntimeError for `bools` (1 or 2) bool operands; nothing for 0."""
    if bools == 2:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if bools:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


for _d in (sub.op, sub.op.inplace_variant, rsub.op):
    _d.check_kinds = _no_bool_subtraction


@op("aten::mul.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    scalar="{self} * {other}", opmath_scalars=True)
def mul(xp, self, other):
    if getattr(self, "dtype", _REAL).kind == "c" or getattr(other, "dtype", _REAL).kind == "c" \
            or type(other) is complex or type(self) is complex:
        return _complex_mul(xp, self, other)
    return xp.multiply(self, other)


def _complex_mul(xp, a, b):
    """a * b with a complex operand as ATen's CPU kernel (Vectorized<c10::complex<T>>'s
    operator*): both in the result dtype, (ac - bd) + (ad + bc) i, each product rounded
    (NumPy's complex multiply fuses them: 45% of complex128 products differed from torch's
    in the last bit; an infinite part meets the other's zero as in torch: (inf + 0j) *
    (1 + 1j) is inf + inf j, 2.5 * (inf j) nan + inf j). ATen's scalar tail (the last
    len % (2 * lanes) elements) may contract into FMAs: those can still differ."""
    ct = xp.result_type(a, b)
    a = xp.asarray(a, ct)
    b = xp.asarray(b, ct)
    ar, ai, br, bi = a.real, a.imag, b.real, b.imag
    re = ar * br - ai * bi
    out = xp.empty(re.shape, ct)
    out.real[...] = re
    out.imag[...] = ar * bi + ai * br
    return out


def _div_types(ct, rounding_mode):
    if rounding_mode is None and ct.category < _dt.FLOATING:
        ct = _dt.get_default_dtype()
    if rounding_mode not in (None, "trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found {rounding_mode!r}")
    if rounding_mode is not None and (ct.cplx or ct in _dt.UNSIGNED_TYPES):
        # (PyTorch's kernels div_trunc / div_floor take no complex numbers, nor uint16 /
        # uint32 / uint64)
        raise NotImplementedError(f'"div_{rounding_mode}_cpu" not implemented for '
                                  f"'{ct.short_name}'")
    return ct, ct


# C division (toward zero) from Python's floor division, exact for integers
_TRUNC_DIV = ("({self} // {other} + where((({self} % {other}) != 0) & "
              "(({self} < 0) ^ ({other} < 0)), 1, 0))")


# Two overloads, as PyTorch's: div.Tensor (x / y, torch.div(x, y)) and div.Tensor_mode,
# whose rounding_mode has no default (torch.div(x, y, rounding_mode=None) records it;
# TorchScript's printer then keeps `rounding_mode=None`)
@op("aten::div.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    promote="float", dtypes=NO_BOOL, opmath_scalars=True, scalar="{self} / {other}")
def true_div(xp, self, other):
    if getattr(self, "dtype", _REAL).kind == "c" or getattr(other, "dtype", _REAL).kind == "c" \
            or type(other) is complex or type(self) is complex:
        return _complex_div(xp, self, other)
    return xp.true_divide(self, other)


def _complex_div(xp, a, b):
    """a / b with a complex operand as ATen's CPU kernel: c10::complex's division
    (NumPy's, Smith's: the larger of |c|, |d| scales), element by element (its vectorized
    form is disabled), and GCC contracts its multiply-adds into FMAs: with r = d / c,
    s = 1 / fma(d, r, c), (fma(b, r, a) s) + (fma(-a, r, b) s) i (|c| < |d|: the mirror
    image); 0 / 0 divides each part by 0. NumPy's division rounds each product: 40% of
    complex quotients differed from torch's in the last bit."""
    ct = xp.result_type(a, b)
    ft = _np.dtype(ct).type(0).real.dtype
    a = xp.asarray(a, ct)
    b = xp.asarray(b, ct)
    ar, ai, c, d = a.real, a.imag, b.real, b.imag

    def f(x, y, z):
        x, y, z = xp.broadcast_arrays(x, y, z)
        return _fma.fma(x, y, z, ft, xp)
    with _np.errstate(all="ignore"):
        ac, ad = xp.abs(c), xp.abs(d)
        big = ac >= ad
        rat = xp.where(big, d / c, c / d)
        scl = 1 / xp.where(big, f(d, rat, c), f(c, rat, d))
        re = xp.where(big, f(ai, rat, ar), f(ar, rat, ai)) * scl
        im = xp.where(big, f(-ar, rat, ai), f(ai, rat, -ar)) * scl
        zero = (ac == 0) & (ad == 0)
        if bool(zero.any()):
            re = xp.where(zero, ar / ac, re)
            im = xp.where(zero, ai / ad, im)
    out = xp.empty(re.shape, ct)
    out.real[...] = re
    out.imag[...] = im
    return out


@op("aten::div.Tensor_mode(Tensor self, Tensor other, *, str? rounding_mode) -> Tensor",
    tags=_PW, inplace=True, promote=_div_types, dtypes=NO_BOOL, opmath_scalars=True,
    scalar=f"where({{rounding_mode}} == 'trunc', {_TRUNC_DIV}, where({{rounding_mode}} == "
           f"'floor', {{self}} // {{other}}, {{self}} / {{other}}))")
def div(xp, self, other, rounding_mode=None):
    if getattr(self, "dtype", _REAL).kind == "c" or getattr(other, "dtype", _REAL).kind == "c" \
            or type(other) is complex or type(self) is complex:
        return _complex_div(xp, self, other)    # (a rounding mode refuses complex numbers)
    if rounding_mode is None:
        return xp.true_divide(self, other)
    is_int = _is_int(self, other)
    if is_int:
        _check_divisor(xp, other, self)
    if rounding_mode == "floor":
        return _floor(xp, self, other)
    if is_int:
        # trunc division of integers: exact, C semantics
        q = xp.floor_divide(self, other)
        return xp.where((xp.remainder(self, other) != 0) & (q < 0), q + 1, q)
    if getattr(self, "dtype", None) == _np.float16 and reads_one_element(other):
        # PyTorch's CPU div_trunc_kernel: a float16 division by a divisor its
        # TensorIterator sees as one element (is_scalar(2): 0-dim, one element, or
        # expanded, stride 0 wherever its size is not 1) takes it as a float32 number and
        # truncates the float32 quotient; otherwise the quotient is rounded to half first
        # ((a / b).trunc() of Half): -2.947 / 0.1552 (halves) is -18.996: -18 by a
        # one-element divisor, -19 by a tensor of several
        return xp.trunc(xp.true_divide(self.astype(_np.float32),
                                       other.astype(_np.float32))).astype(_np.float16)
    return xp.trunc(xp.true_divide(self, other))


def _div_mode_expression(form):
    """div(rounding_mode=...)'s fused forms where eager computes otherwise than `scalar`
    (OpDef.scalar_for). trunc of floats: trunc(a / b), as eager (the integer form's a // b
    gives nan for inf / b); float16: the quotient rounded to half first, as eager (NumPy's
    float16 true_divide) and PyTorch's vectorized CPU loop ((a / b).trunc() of
    Vectorized<Half>): -2.947 / 0.1552 = -18.996 is -19.0 in half, so -19, not -18; but
    by a divisor that reads one element (0-dim, one element, expanded) the float32
    quotient, as eager and PyTorch's is_scalar(2) loop: -18. floor: float16 as
    floor_divide's."""
    ct, mode = form.ct, form.constants.get("rounding_mode")
    if ct is None or ct.category != _dt.FLOATING:
        return None
    if mode == "trunc":
        if ct is _dt.float16:
            return form.by_one_element("other", "trunc({self} / {other})",
                                       "trunc(cast_float16({self} / {other}))")
        return "trunc({self} / {other})"
    if mode == "floor":
        return _floor_divide_expression(form)
    return None


def _floor_divide_expression(form):
    """float16 floor division by a float16 divisor that does not read one element:
    PyTorch's Vectorized<Half> loop, every step rounded to half (prims._floordiv_h,
    _floordiv_half here), as eager; by one that does, the float32 floor of the float32
    quotient (OpDef.scalar_for)."""
    if form.ct is _dt.float16 and form.dtypes.get("other") is _dt.float16:
        return form.by_one_element("other", "{self} // {other}",
                                   "floordiv_half({self}, {other})")
    return None


div.op.scalar_for = _div_mode_expression


def reads_one_element(a):
    """Whether PyTorch's TensorIterator sees array a (an operand, broadcast to the result)
    as one element (its is_scalar): a stride of 0 in every dim of size > 1 (0-dim,
    one-element, expanded). The fused kernels read the same (kernels/emit.py)."""
    return all(st == 0 or n == 1 for n, st in zip(a.shape, a.strides))


@op("aten::floor_divide(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    dtypes=NO_BOOL, scalar="{self} // {other}", opmath_scalars=True)
def floor_divide(xp, self, other):
    if _is_int(self, other):
        _check_divisor(xp, other, self)
    return _floor(xp, self, other)


def _floor(xp, self, other):
    # (the operands come cast to the compute dtype; a Python number as self stays one)
    if getattr(self, "dtype", _F16) == _F16 and getattr(other, "dtype", None) == _F16 \
            and not reads_one_element(other):
        return _floordiv_half(xp, self, other)
    return xp.floor_divide(self, other)


floor_divide.op.scalar_for = _floor_divide_expression


def _floordiv_half(xp, a, b):
    """float16 floor division as PyTorch 2.13's CPU div_floor kernel computes it for a
    divisor its TensorIterator does not see as one element (that one, as a float32
    number, gets the float32 floor of the float32 quotient, NumPy's float16 floor_divide):
    div_floor_floating_vec of Vectorized<Half>, every step (a / b, fmod, a - mod,
    (a - mod) / b, - 1, div - floor(div), + 1) rounded to half. Every element, whatever its
    layout or place in the loop: 330.5 // -0.02054 (halves; -16091.9 in float32) is
    -16088, not -16096; 2118 // 1.348 is 1572, not 1571. The fused kernels compute the
    same (kernels/prims.py, _floordiv_h)."""
    f32 = _np.float32

    def rh(x):
        return x.astype(_F16).astype(f32)

    a, b = rh(xp.asarray(a)), rh(xp.asarray(b))
    basic = rh(a / b)
    mod = rh(xp.fmod(a, b))
    fl = xp.where((xp.abs(basic) == _np.inf) & (xp.abs(a) != _np.inf), a, rh(a - mod))
    div = rh(fl / b)
    div = xp.where((mod != 0) & ((b < 0) != (mod < 0)), rh(div - f32(1)), div)
    fd = xp.floor(div)
    fd = xp.where(rh(div - fd) > f32(0.5), rh(fd + f32(1)), fd)
    fd = xp.where(div == 0, xp.copysign(xp.zeros_like(basic), basic), fd)
    return xp.where(b == 0, basic, fd).astype(_F16)


@op("aten::remainder.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    dtypes=NO_BOOL, scalar="{self} % {other}")
def remainder(xp, self, other):
    """Python's modulo: the result has the sign of the divisor (a zero result, as in
    PyTorch, the dividend's: NumPy gives it the divisor's)."""
    if _is_int(self, other):
        _check_divisor(xp, other, self)
        return xp.remainder(self, other)
    r = xp.remainder(self, other)
    if getattr(r, "dtype", None) is not None and r.dtype.kind == "f":
        r = xp.where(r == 0, xp.copysign(r, self), r)
    return r


@op("aten::fmod.Tensor(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True,
    dtypes=NO_BOOL, scalar="fmod({self}, {other})")
def fmod(xp, self, other):
    """C's fmod: the result has the sign of the dividend."""
    if _is_int(self, other):
        _check_divisor(xp, other, self)
    return xp.fmod(self, other)


@op("aten::pow.Tensor_Tensor(Tensor self, Tensor exponent) -> Tensor", tags=_PW,
    inplace=True, scalar="{self} ** {exponent}", number_args={"exponent": "weak"},
    contiguous_numbers=("self",), parameter_numbers=("exponent",))
def power(xp, self, exponent):
    if _kind(self, exponent) == "b":
        # (_bool_power: a bool tensor to a Python bool) x ** True is x, x ** False is 1
        return self.copy() if exponent else xp.ones_like(self)
    if _is_int(self, exponent):
        if not hasattr(exponent, "dtype"):
            # (the Python int as given, not wrapped into self's dtype: number_args "weak")
            if exponent < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            if exponent > _np.iinfo(self.dtype).max:
                # then c10::checked_convert to self's dtype: uint8 ** 256 raises
                from .registry import overflow_error
                raise overflow_error(self.dtype)
        elif exponent.dtype.kind == "i" and (exponent < 0).any():
            # PyTorch: 1 ** -n = 1, (-1) ** -n = +-1, any other base truncates to 0
            neg = exponent < 0
            r = xp.power(self, xp.where(neg, 0, exponent))
            odd = (exponent % 2) != 0
            inv = xp.where(self == 1, 1, xp.where(self == -1, xp.where(odd, -1, 1), 0))
            # (inv is int64 from the Python numbers: the result keeps r's dtype)
            return xp.where(neg, inv.astype(r.dtype, copy=False), r)
    if getattr(getattr(self, "dtype", None), "kind", "") == "c" or \
            getattr(getattr(exponent, "dtype", None), "kind", "") == "c":
        return _complex_power(xp, self, exponent)
    floating = getattr(getattr(self, "dtype", None), "kind", "") == "f"
    # PyTorch's CPU kernel for float16 is plain pow (pow(-0, 0.5) = +0); its CUDA kernel
    # takes the special cases for every float dtype
    if floating and not hasattr(exponent, "dtype") and not (xp is _np and
                                                           self.dtype == _np.float16):
        special = _scalar_power(xp, self, float(exponent))
        if special is not None:
            return special
    r = xp.power(self, exponent)
    if xp is _np and floating and getattr(exponent, "dtype", None) is not None:
        # NumPy takes sqrt for a 0-dim (or stride-0) exponent of 0.5: pow(-0, .5) is +0 and
        # pow(-inf, .5) +inf, as PyTorch's pow of two tensors gives
        fix = (exponent == 0.5) & ((self == 0) | (self == -_np.inf))
        if fix.any():
            r = xp.where(fix, xp.abs(self), r)
    return r


def _complex_power(xp, self, exponent):
    """pow with a complex operand as PyTorch computes it: c10's exp(exponent * log(self))
    (0 ** 0 is nan + nan j there, NumPy's 1), after the scalar-exponent shortcuts of
    ATen's pow_tensor_scalar (2: x * x, 3: x * x * x, 0.5: sqrt, -0.5: 1 / sqrt, -1:
    1 / x, -2: 1 / (x * x), 0: ones, 1: x)."""
    if not hasattr(exponent, "dtype"):
        e = complex(exponent)
        one = self.dtype.type(1)
        if e.imag == 0:
            # (ATen's products and quotients: _complex_mul / _complex_div)
            def sq():
                return _complex_mul(xp, self, self)
            shortcut = {2.0: sq, 3.0: lambda: _complex_mul(xp, sq(), self),
                        0.5: lambda: xp.sqrt(self),
                        -0.5: lambda: _complex_div(xp, one, xp.sqrt(self)),
                        -1.0: lambda: _complex_div(xp, one, self),
                        -2.0: lambda: _complex_div(xp, one, sq()),
                        0.0: lambda: xp.ones_like(self), 1.0: lambda: self.copy()}.get(e.real)
            if shortcut is not None:
                return shortcut()
        return xp.exp(self.dtype.type(e) * xp.log(self))
    if not hasattr(self, "dtype"):          # (a number's power: 2 ** x)
        return xp.exp(exponent * xp.log(exponent.dtype.type(self)))
    return xp.exp(exponent * xp.log(self))


def _bool_power(kinds):
    """PyTorch's pow computes in bool only for a bool tensor to a Python bool (its
    exponent-0 and exponent-1 shortcuts); bool tensors otherwise have no pow kernel.
    An int exponent past int64 (a uint64 Scalar) of a bool / integer self: c10's checked
    conversion to int64_t raises before any promotion."""
    if len(kinds) == 2 and kinds[1] == (_dt.uint64, _dt.SCALAR) and \
            kinds[0][0].category < _dt.FLOATING:
        raise _reg.overflow_error(_np.int64)
    if all(k[0] is _dt.bool for k in kinds) and not (
            len(kinds) == 2 and kinds[0][1] != _dt.SCALAR and kinds[1][1] == _dt.SCALAR):
        raise NotImplementedError('"pow" not implemented for \'Bool\'')


power.op.check_kinds = power.op.inplace_variant.check_kinds = _bool_power
# an int exponent PyTorch range-checks for an integer self (negative: its own error, then
# c10::checked_convert): the impl checks it unwrapped (number_args "weak"), the fuser
# leaves one known only at run time out of its groups (fusibility._checked_scalar_problem)
power.op.checked_scalars = power.op.inplace_variant.checked_scalars = frozenset(("exponent",))
# a float16 self's exponent converts to Half, checked (h ** 70000.0 raises); float32 /
# float64 take it as a double
power.op.checked_floats = power.op.inplace_variant.checked_floats = {
    "exponent": {_np.dtype(_np.float32): None, _np.dtype(_np.float64): None}}


def _scalar_power(xp, x, e):
    """x ** e for a Python-number exponent where PyTorch computes it another way than pow
    (sqrt, rsqrt, square, cube, reciprocal): their answers differ at -0, -inf and in the
    last bit. None for any other exponent."""
    if e == 0.5:
        return xp.sqrt(x)
    if e == -0.5:
        return 1 / xp.sqrt(x)
    if e == 2:
        return x * x
    if e == 3:
        return x * x * x
    if e == -1:
        return 1 / x
    if e == -2:
        return 1 / (x * x)
    return None


@op("aten::neg(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=NO_BOOL,
    scalar="-{self}")
def neg(xp, self):
    return xp.negative(self)


@op("aten::abs(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=NO_BOOL,
    scalar="abs({self})", promote="real")
def abs(xp, self):
    """|x|; of a complex tensor its modulus, real (hypot, as PyTorch's std::abs)."""
    if self.dtype.kind == "c":
        return _complex_abs(xp, self)
    return xp.abs(self)


def _complex_abs(xp, z):
    """|z| as ATen's: hypot(re, im) (NumPy's complex abs computes it otherwise: 34% of
    moduli differed from torch's in the last bit)."""
    return xp.hypot(z.real, z.imag)


abs.op.kernel = abs.op.inplace_variant.kernel = "abs_cpu"     # (its error for a bool)


def _no_complex_abs_(kinds):
    if kinds[0][0].cplx:
        raise RuntimeError("In-place abs is not supported for complex tensors.")


abs.op.inplace_variant.check_kinds = _no_complex_abs_


def _no_bool_negation(kinds):
    if kinds[0][0] is _dt.bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


neg.op.check_kinds = neg.op.inplace_variant.check_kinds = _no_bool_negation


@op("aten::sign(Tensor self) -> Tensor", tags=_PW, inplace=True,
    scalar="where({self} > 0, 1, 0) - where({self} < 0, 1, 0)")
def sign(xp, self):
    """-1, 0 or 1; NaN gives 0 and bool stays bool, as in PyTorch."""
    return _sign(xp, self)


def _sign(xp, self):
    if self.dtype.kind == "b":
        return self.copy()
    return (self > 0).astype(self.dtype) - (self < 0).astype(self.dtype)


@op("aten::sgn(Tensor self) -> Tensor", tags=_PW, inplace=True,
    scalar="where({self} > 0, 1, 0) - where({self} < 0, 1, 0)")
def sgn(xp, self):
    """sign(x) for real dtypes; x / |x| for complex ones (0 at 0), each part divided by
    the real |x| as ATen's `z / std::abs(z)` (NumPy's complex division would multiply by
    a reciprocal): ATen's vectorized loop (its scalar tail divides as complex numbers,
    sgn(inf + 1j) nan + nan j there, nan + 0j here)."""
    if self.dtype.kind != "c":
        return _sign(xp, self)
    a = _complex_abs(xp, self)
    zero = a == 0
    a = xp.where(zero, 1, a)
    out = xp.empty_like(self)
    out.real[...] = xp.where(zero, 0, self.real / a)
    out.imag[...] = xp.where(zero, 0, self.imag / a)
    return out


def _no_complex_sign(kinds):
    if kinds[0][0].cplx:
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex "
                           "numbers. Please use torch.sgn instead.")


sign.op.check_kinds = sign.op.inplace_variant.check_kinds = _no_complex_sign


@op("aten::positive(Tensor(a) self) -> Tensor(a)", tags=_PW, dtypes=NO_BOOL,
    scalar="{self}")
def positive(xp, self):
    return self


def _no_bool_positive(kinds):
    if kinds[0][0] is _dt.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")


positive.op.check_kinds = _no_bool_positive


def _square_types(ct):
    # square is pow(self, 2): a bool tensor with the int scalar 2 computes in int64
    if ct is _dt.bool:
        ct = _dt.int64
    return ct, ct


@op("aten::square(Tensor self) -> Tensor", tags=_PW, inplace=True, promote=_square_types,
    scalar="{self} * {self}")
def square(xp, self):
    if self.dtype.kind == "c":      # (pow(z, 2): ATen's z * z)
        return _complex_mul(xp, self, self)
    return xp.multiply(self, self)


# ------------------------------------------------------------------ rounding

def _rounding(name, ufunc):
    # (bool tensors are refused, as PyTorch: '"floor_vml_cpu" not implemented for 'Bool'')
    @op(f"aten::{name}(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=NO_BOOL,
        scalar=f"{name}({{self}})")
    def impl(xp, self):
        if self.dtype.kind in "biu":
            return self.copy()      # integers are already integral; PyTorch returns a copy
        return getattr(xp, ufunc)(self)
    impl.__name__ = name
    return impl


floor = _rounding("floor", "floor")
ceil = _rounding("ceil", "ceil")
trunc = _rounding("trunc", "trunc")
round_ = _rounding("round", "rint")      # half to even, as torch.round


@op("aten::round.decimals(Tensor self, *, int decimals) -> Tensor", tags=_PW, inplace=True,
    dtypes=FLOATS,
    scalar="where({decimals} >= 0, round({self} * 10.0 ** {decimals}) / 10.0 ** {decimals}, "
           "round({self} / 10.0 ** -{decimals}) * 10.0 ** -{decimals})")
def round_decimals(xp, self, decimals):
    if decimals == 0:
        return xp.rint(self)
    x = _f32(self)
    if decimals > 0:
        p = 10.0 ** decimals
        return xp.rint(x * p) / p
    p = 10.0 ** -decimals
    return xp.rint(x / p) * p


@op("aten::frac(Tensor self) -> Tensor", tags=_PW, inplace=True, dtypes=FLOATS,
    scalar="{self} - trunc({self})")
def frac(xp, self):
    return self - xp.trunc(self)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd): written with registry ops, so they can be differentiated
# again (create_graph=True) and later traced and fused. The formulas, and the choices at
# kinks and ties, are PyTorch's (tools/autograd/derivatives.yaml, FunctionsManual.cpp).


def _gpujit():
    import gpujit    # the package sits above the registry: imported when a backward runs
    return gpujit


def _is_tensor(v):
    return isinstance(v, _gpujit().Tensor)


def _zero_grad(grad):
    """Piecewise-constant ops (floor, sign, x // y...): zero gradient, as PyTorch."""
    return _gpujit().zeros_like(grad)


def _keep(cond, grad):
    """grad where cond holds, 0 elsewhere (the shape of both, broadcast)."""
    return _gpujit().where(cond, grad, 0.0)


def _scaled(grad, k):
    return grad if k == 1 else grad * k


@_derivative(add)
def _add_grad(grad, alpha):
    return grad, (grad if alpha == 1 else grad * alpha)


@_derivative(sub)
def _sub_grad(grad, alpha):
    return grad, (-grad if alpha == 1 else grad * -alpha)


def _mul_grad_raw(xp, grad, self, other, needs_grad):
    # mul's ufunc as _mul_grad's registry calls run it, for two arrays of the gradient's
    # floating dtype and shape in C order (raw_operands); a Python number operand, a
    # broadcast or another dtype: the formula
    ga = type(grad)
    if (needs_grad[0] and type(other) is not ga) or (needs_grad[1] and type(self) is not ga):
        return NotImplemented
    if not _raw_operands(grad, *[a for a, n in ((other, needs_grad[0]), (self, needs_grad[1]))
                                 if n], expanded_grad=True):
        return NotImplemented
    return (xp.multiply(grad, other) if needs_grad[0] else None,
            xp.multiply(grad, self) if needs_grad[1] else None)


@_derivative(mul, reads={"self": ("other",), "other": ("self",)}, raw=_mul_grad_raw)
def _mul_grad(grad, self, other, needs_grad):
    return (grad * other if needs_grad[0] else None,
            grad * self if needs_grad[1] else None)


@_derivative(neg)
def _neg_grad(grad):
    return -grad


@_derivative(rsub)
def _rsub_grad(grad, alpha):
    return (-grad if alpha == 1 else grad * -alpha), grad


@_derivative(true_div, reads={"self": ("other",), "other": ("self", "other")})
def _true_div_grad(grad, self, other, needs_grad):
    # (div_tensor_other_backward: -grad * ((self / other) / other); (-grad * self) /
    # (other * other) was an ulp off in ~45% of values)
    return (grad / other if needs_grad[0] else None,
            -grad * (self / other / other) if needs_grad[1] else None)


@_derivative(div, reads={"self": ("other",), "other": ("self", "other")})
def _div_grad(grad, self, other, rounding_mode, needs_grad):
    if rounding_mode is not None:           # trunc / floor: piecewise constant
        return _zero_grad(grad), _zero_grad(grad)
    return _true_div_grad(grad, self, other, needs_grad)


# (PyTorch records floor_divide -- `x // 2` too -- with its output requiring grad and
# refuses the backward; div(rounding_mode='floor') has a zero gradient, above)
_not_implemented(floor_divide, message="derivative for aten::floor_divide is not implemented")
_not_implemented(floor_divide.op.inplace_variant,
                 message="derivative for aten::floor_divide_ is not implemented")


# self's gradient reads nothing (PyTorch's RemainderBackward/FmodBackward keep self and
# other only for other's: x % 2 then an in-place write to x is no error)
@_derivative(remainder, reads={"self": (), "other": ("self", "other")})
def _remainder_grad(grad, self, other, needs_grad):
    # self - other * floor(self / other)
    return grad, (-grad * _gpujit().div(self, other, rounding_mode="floor")
                  if needs_grad[-1] and len(needs_grad) == 2 else None)


@_derivative(fmod, reads={"self": (), "other": ("self", "other")})
def _fmod_grad(grad, self, other, needs_grad):
    # self - other * trunc(self / other)
    return grad, (-grad * _gpujit().div(self, other, rounding_mode="trunc")
                  if needs_grad[-1] and len(needs_grad) == 2 else None)


from .node_names import aten_scalars as _aten_scalars  # noqa: E402


@_derivative(power, reads={"exponent": ("result",)})
def _pow_grad(grad, self, exponent, result, needs_grad):
    """PyTorch's pow_backward_self / pow_backward_exponent: no gradient to the base where
    the exponent is 0, none to the exponent where 0 ** (e >= 0) is constant. The result
    is kept only for the exponent's gradient (x ** 2 then an in-place write to the result
    is no error when x alone needs a gradient, as PyTorch's PowBackward0 keeps self)."""
    g = _gpujit()
    g_self = None
    if _is_complex_operand(self) or _is_complex_operand(exponent):
        return _complex_pow_grad(grad, self, exponent, result, needs_grad)
    if _is_tensor(self) and self.is_floating_point():    # an integer base takes none
        if not _is_tensor(exponent):
            # (pow_backward's order: grad * (exponent * self.pow(exponent - 1)), the
            # exponent a Scalar: mul.Scalar's MulBackward1 when recorded)
            if exponent == 0:
                g_self = _zero_grad(grad)
            else:
                with _aten_scalars():
                    d = exponent * self ** (exponent - 1)
                g_self = grad * d
        else:
            g_self = g.where(exponent == 0, 0.0,
                             grad * (exponent * self ** (exponent - 1)))
    if not _is_tensor(exponent) or result is None:
        return g_self, None
    base = self.to(result.dtype) if _is_tensor(self) else g.full_like(result, self)
    g_exp = grad * g.where((base == 0) & (exponent >= 0), 0.0, result * base.log())
    return g_self, g_exp


def _is_complex_operand(v):
    return type(v) is complex or (_is_tensor(v) and v._dtype.cplx)


def _complex_pow_grad(grad, self, exponent, result, needs_grad):
    """pow_backward_self / pow_backward_exponent of complex operands: grad times the
    conjugated derivative; no gradient to the base where the exponent is 0, none to the
    exponent where the base is 0 and the exponent real and >= 0."""
    g = _gpujit()
    g_self = g_exp = None
    if _is_tensor(self) and needs_grad[0]:
        if not _is_tensor(exponent):
            g_self = (_zero_grad(grad) if exponent == 0
                      else grad * (exponent * self ** (exponent - 1)).conj())
        else:
            g_self = g.where(exponent == 0, 0.0,
                             grad * (exponent * self ** (exponent - 1)).conj())
    if _is_tensor(exponent) and result is not None and needs_grad[-1]:
        base = self.to(result.dtype) if _is_tensor(self) else g.full_like(result, self)
        e_real = exponent.real if exponent._dtype.cplx else exponent
        zero_ok = (exponent.imag == 0) & (e_real >= 0) if exponent._dtype.cplx \
            else e_real >= 0
        g_exp = grad * g.where((base == 0) & zero_ok, 0.0, (result * base.log()).conj())
    return g_self, g_exp


# one-line derivatives of the unary ops: name -> fn(grad, self | result)
_UNARY_GRADS = {
    # 0 at 0; a complex self's: grad * self.sgn() (derivatives.yaml's abs_backward)
    "abs": lambda grad, self: grad * (self.sgn() if self._dtype.cplx else self.sign()),
    "positive": lambda grad: grad,
    "frac": lambda grad: grad,
    "square": lambda grad, self: grad * 2 * self,
}
for _name, _fn in _UNARY_GRADS.items():
    _derivative(f"aten::{_name}")(_fn)
_derivative(floor, ceil, trunc, round_, round_decimals, sign)(_zero_grad)


@_derivative(sgn)
def _sgn_grad(grad, self, result):
    """Zero on the reals; of a complex z, PyTorch's sgn_backward: (g - sgn * Re(g / sgn))
    / |z|, 0 where z is 0 (|sgn| = 1 elsewhere, so Re(g / sgn) = Re(g * sgn.conj()))."""
    if not self._dtype.cplx:
        return _zero_grad(grad)
    a = self.abs()
    return ((grad - result * (grad * result.conj()).real) / a).masked_fill(a == 0, 0)


from . import pointwise_clamp  # noqa: E402,F401  (clamp, clip, maximum, minimum: after these)
