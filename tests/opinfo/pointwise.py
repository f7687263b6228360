"""OpInfos of the pointwise family (gpujit/ops/pointwise.py; activations are in
activation.py). References are NumPy formulas in float64 written from PyTorch's documented
semantics; expected output dtypes are pinned by hand from PyTorch's promotion rules (a
dimensioned tensor beats a 0-dim tensor beats a Python scalar within a category; int->float
ops give the default float32). The in-place variants (x.add_ ...) are derived by the
harness from these samples."""
from __future__ import annotations

import math

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample

B, U8, I8, I16, I32, I64 = np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64
F16, F32, F64 = np.float16, np.float32, np.float64
FLOATS = (F16, F32, F64)
INTS = (U8, I8, I16, I32, I64)
ALL = (B,) + INTS + FLOATS
NO_BOOL = INTS + FLOATS
NAN, INF = float("nan"), float("inf")
UNSUPPORTED = (RuntimeError, TypeError)   # PyTorch raises RuntimeError ("not implemented")

_rng = np.random.default_rng(20240611)   # this module's own: samples do not shift when
                                         # other families draw


def gd(d):
    return getattr(G, np.dtype(d).name)


def as_float(d):
    return gd(d) if np.dtype(d).kind == "f" else G.float32


def to_bool(d):
    return G.bool


def arr(*shape, dtype=F32, low=-2.0, high=2.0):
    dtype = np.dtype(dtype)
    if dtype == B:
        return np.asarray(_rng.random(shape) > 0.5)
    if dtype.kind in "iu":
        lo = max(math.ceil(low), int(np.iinfo(dtype).min))
        hi = min(math.floor(high), int(np.iinfo(dtype).max))
        return np.asarray(_rng.integers(lo, max(hi, lo) + 1, size=shape)).astype(dtype)
    return np.asarray(_rng.uniform(low, high, size=shape)).astype(dtype)


def nonzero(*shape, dtype=F32, low=0.5, high=3.0):
    """Values with |v| in [low, high] and a random sign (positive for unsigned)."""
    a = arr(*shape, dtype=dtype, low=max(low, 1) if np.dtype(dtype).kind in "iu" else low,
            high=high)
    if np.dtype(dtype).kind in "if" and a.size:
        a = np.where(_rng.random(shape) > 0.5, a, -a).astype(dtype)
    return np.asarray(a)


def special(dtype=F32):
    return np.array([NAN, INF, -INF, 0.0, -0.0, 1.5, -2.5], dtype)


# ---------------------------------------------------------------- sample generators

def unary_samples(dtypes, out, low=-2.0, high=2.0, *args, special_values=True, **kwargs):
    """Each dtype, a 0-dim, an empty and a 3-d input (and inf/nan when floats are in)."""
    s = [Sample(arr(3, 4, dtype=d, low=low, high=high), *args, **kwargs).expect_dtype(out(d))
         for d in dtypes]
    d0 = F32 if F32 in dtypes else dtypes[-1]
    s += [Sample(arr(dtype=d0, low=low, high=high), *args, **kwargs).expect_dtype(out(d0)),
          Sample(arr(0, 3, dtype=d0), *args, **kwargs).expect_dtype(out(d0)),
          Sample(arr(2, 1, 3, dtype=dtypes[-1], low=low, high=high), *args, **kwargs)]
    if special_values and F32 in dtypes:
        s.append(Sample(special(F32), *args, **kwargs).expect_dtype(out(F32)))
    return s


# (dtype of a, dtype of b, PyTorch's result dtype) for two dimensioned tensors
MIXED = [(I32, F16, F16), (U8, I8, I16), (B, I32, I32), (I64, F32, F32), (F32, F64, F64),
         (I16, I64, I64), (B, F16, F16), (U8, B, U8)]
# dimensioned a, 0-dim b: the 0-dim tensor only counts when its category is higher
ZERO_DIM = [(F32, F64, F32), (I32, F64, F64), (U8, I64, U8), (F16, F32, F16), (B, I32, I32)]
# dimensioned a, Python scalar b: the scalar only counts when its category is higher
SCALARS = [(I32, 3, I32), (I32, 2.5, F32), (F16, 2.5, F16), (B, 3, I64), (B, True, B),
           (U8, 3, U8), (F64, 3, F64), (I64, -2, I64)]
SCALAR_FIRST = [(3, I32, I32), (2.5, I32, F32), (2, F16, F16)]


def binary_samples(dtypes, out, lhs=arr, rhs=arr, bool_operands=True, scalars=None,
                   **kwargs):
    """Samples of a binary op whose computation dtypes are `dtypes`; `out` maps the
    computation dtype to the output dtype; lhs/rhs draw operands (shape..., dtype=)."""
    ok = set(np.dtype(d) for d in dtypes)

    def allowed(*ds):
        return np.dtype(ds[-1]) in ok and (bool_operands or B not in ds)

    s = [Sample(lhs(3, 4, dtype=d), rhs(3, 4, dtype=d), **kwargs).expect_dtype(out(d))
         for d in dtypes if allowed(d)]
    d0 = F32 if F32 in dtypes else dtypes[-1]
    s += [Sample(lhs(3, 1, dtype=d0), rhs(1, 4, dtype=d0), **kwargs).expect_dtype(out(d0)),
          Sample(lhs(2, 3, 4, dtype=d0), rhs(4, dtype=d0), **kwargs),
          Sample(lhs(0, 3, dtype=d0), rhs(3, dtype=d0), **kwargs).expect_dtype(out(d0)),
          Sample(lhs(dtype=d0), rhs(dtype=d0), **kwargs).expect_dtype(out(d0))]
    s += [Sample(lhs(3, 4, dtype=a), rhs(3, 4, dtype=b), **kwargs).expect_dtype(out(r))
          for a, b, r in MIXED if allowed(a, b, r)]
    # float16 + a float32 0-dim tensor: gpujit rounds the 0-dim value to float16 first
    # (PyTorch reads it at full precision), so allow one more float16 ulp
    s += [Sample(lhs(3, 4, dtype=a), np.asarray(np.abs(rhs(dtype=b, low=0.5))), **kwargs)
          .expect_dtype(out(r)).tol(*((2e-3, 1e-3) if r == F16 else (None, None)))
          for a, b, r in ZERO_DIM if allowed(a, b, r)]
    for a, v, r in SCALARS:
        if allowed(a, r) and (scalars is None or v in scalars):
            s.append(Sample(lhs(3, 4, dtype=a), v, **kwargs).expect_dtype(out(r)))
    for v, b, r in SCALAR_FIRST:
        if allowed(b, r) and (scalars is None or v in scalars):
            s.append(Sample(v, rhs(3, 4, dtype=b), **kwargs).expect_dtype(out(r)))
    return s


def shape_error(*args, **kwargs):
    return ErrorSample(*args, match=r"tensor a \(3\) must match the size of tensor b \(4\) "
                                    r"at non-singleton dimension 1", **kwargs)


# torch 2.13's CPU kernels named in the dtype refusals of these ops ('"hypot_cpu" not
# implemented for 'Int'')
_TORCH_KERNELS = {"ceil": "ceil_vml_cpu", "floor": "floor_vml_cpu", "round": "round_vml_cpu",
                  "trunc": "trunc_vml_cpu", "fix": "trunc_vml_cpu", "frac": "frac_cpu",
                  "hypot": "hypot_cpu", "nextafter": "nextafter_cpu", "fmod": "fmod_cpu",
                  "remainder": "remainder_cpu", "floor_divide": "div_floor_cpu",
                  "gcd": "gcd_cpu", "lcm": "lcm_cpu", "logaddexp": "logaddexp_cpu",
                  "logaddexp2": "logaddexp2_cpu"}
_SHORT = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
          "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double"}


def dtype_error(name, *args, dt="bool", kernel=None, **kwargs):
    kernel = kernel or _TORCH_KERNELS.get(name)
    if kernel is not None:
        return ErrorSample(*args, exc=UNSUPPORTED,
                           match=f"^\"{kernel}\" not implemented for '{_SHORT[dt]}'$",
                           **kwargs)
    return ErrorSample(*args, exc=UNSUPPORTED, match=f"{name}.*{dt}", **kwargs)


def kernel_dtype_error(kernel, *args, dt="Bool", **kwargs):
    """PyTorch's kernel refusal: '"bitwise_and_cpu" not implemented for 'Float'' (the
    kernel's name follows the device)."""
    return ErrorSample(*args, exc=UNSUPPORTED,
                       match=f"\"{kernel}_(cpu|cuda)\" not implemented for '{dt}'", **kwargs)


def info(name, samples, ref, errors=(), **kw):
    return OpInfo(name, samples=samples, ref=ref, errors=errors, **kw)


def _same(d):
    return gd(d)


# ---------------------------------------------------------------- arithmetic

def _add_ref(a, b, alpha=1):
    return np.add(a, np.multiply(b, alpha)) if alpha != 1 else np.add(a, b)


def _sub_ref(a, b, alpha=1):
    return np.subtract(a, np.multiply(b, alpha))


def _true_div(a, b):
    return np.asarray(a, np.float64) / np.asarray(b, np.float64)


def _div_ref(a, b, rounding_mode=None):
    q = _true_div(a, b)
    return {None: q, "trunc": np.trunc(q), "floor": np.floor(q)}[rounding_mode]


def _div_out(mode):
    return as_float if mode is None else _same


def _div_samples():
    """div.Tensor's (x / y): no rounding_mode."""
    return binary_samples(ALL, _div_out(None), rhs=nonzero, bool_operands=True) + [
        Sample(arr(3, dtype=I32), np.zeros(3, I32)).expect_dtype(G.float32)]  # -> inf/nan


def _div_mode_samples():
    """div.Tensor_mode's: rounding_mode given (None too: true division)."""
    s = []
    for mode in (None, "trunc", "floor"):
        s += binary_samples(NO_BOOL if mode else ALL, _div_out(mode), rhs=nonzero,
                            rounding_mode=mode, bool_operands=mode is None)
    s += [Sample(arr(3, dtype=I32), np.zeros(3, I32), rounding_mode=None
                 ).expect_dtype(G.float32),
          Sample(np.array([-7, 7, -8, 9], I64), np.array([2, -2, 3, 3], I64),
                 rounding_mode="trunc").expect_dtype(G.int64),
          Sample(np.array([-7.5, 7.5], F32), -2.0, rounding_mode="floor")]
    return s


def _mod_ref(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a - b * np.floor(a / b)


def _fmod_ref(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a - b * np.trunc(a / b)


def _int_div_samples(name):
    s = binary_samples(NO_BOOL, _same, rhs=nonzero, bool_operands=False)
    s.append(Sample(np.array([-7, 7, -7, 7, 0], I32), np.array([2, 2, -2, -2, 3], I32)))
    errors = [ErrorSample(arr(3, dtype=I32), np.array([1, 0, 2], I32),
                          exc=ZeroDivisionError, match="ZeroDivisionError"),
              ErrorSample(arr(3, dtype=I64), 0, exc=ZeroDivisionError),
              shape_error(arr(2, 3), arr(4)), dtype_error(name, arr(3, dtype=B),
                                                          arr(3, dtype=B))]
    return s, errors


def _pow_base(*shape, dtype=F32, **_):
    return arr(*shape, dtype=dtype, low=0.2 if np.dtype(dtype).kind == "f" else -3, high=2.5)


def _pow_exp(*shape, dtype=F32, **_):
    return arr(*shape, dtype=dtype, low=-2 if np.dtype(dtype).kind == "f" else 0, high=3)


def _pow_ref(a, b):
    if isinstance(a, np.ndarray) and a.dtype.kind in "iub" and \
            (not isinstance(b, float) and np.asarray(b).dtype.kind in "iub"):
        return np.power(np.asarray(a, np.int64), np.asarray(b, np.int64))
    return np.power(np.asarray(a, np.float64), np.asarray(b, np.float64))


def _pow_samples():
    s = binary_samples(NO_BOOL, _same, lhs=_pow_base, rhs=_pow_exp,
                       scalars=(3, 2.5, 2, True))
    s += [Sample(arr(3, 4, dtype=B), 2).expect_dtype(G.int64),
          Sample(arr(4, dtype=F32, low=0.1), 0.5), Sample(2, arr(4, dtype=I64, low=0, high=5)),
          Sample(np.array([-2.0, 0.0, 4.0], F32), np.array([0.5, -1.0, 0.5], F32))]
    return s


ARITH = [
    info("aten::add.Tensor", binary_samples(ALL, _same) + [
        Sample(arr(3, 4), arr(3, 4), alpha=2), Sample(arr(3, dtype=I32), arr(3, dtype=I32),
                                                      alpha=-3),
        Sample(arr(3, 4, dtype=F16), 1.5, alpha=0.5)], _add_ref,
        errors=[shape_error(arr(2, 3), arr(4)),
                ErrorSample(arr(3, dtype=I32), arr(3, dtype=I32), alpha=0.5,
                            match="alpha must not be a floating point")]),
    info("aten::sub.Tensor", binary_samples(NO_BOOL, _same, bool_operands=False) + [
        Sample(arr(3, 4), arr(4), alpha=2.5)], _sub_ref,
        errors=[shape_error(arr(2, 3), arr(4)),
                ErrorSample(arr(3, dtype=B), arr(3, dtype=B), exc=RuntimeError,
                            match="Subtraction, the `-` operator, with two bool tensors"),
                ErrorSample(arr(3, dtype=B), 1, exc=RuntimeError,
                            match="Subtraction, the `-` operator, with a bool tensor")]),
    info("aten::rsub.Tensor", binary_samples(NO_BOOL, _same, bool_operands=False) + [
        Sample(arr(3, 4, dtype=I64), arr(4, dtype=I64), alpha=3)],
        lambda a, b, alpha=1: _sub_ref(b, a, alpha)),
    info("aten::mul.Tensor", binary_samples(ALL, _same), np.multiply,
         errors=[shape_error(arr(2, 3), arr(4))]),
    info("aten::div.Tensor", _div_samples(), _div_ref,
         errors=[shape_error(arr(2, 3), arr(4))]),
    info("aten::div.Tensor_mode", _div_mode_samples(), _div_ref,
         errors=[ErrorSample(arr(3), arr(3), rounding_mode="round", exc=RuntimeError,
                             match="rounding_mode"),
                 ErrorSample(arr(3, dtype=I32), 0, rounding_mode="floor",
                             exc=ZeroDivisionError),
                 ErrorSample(arr(3, dtype=I32), np.array([1, 0, 1], I32),
                             rounding_mode="trunc", exc=ZeroDivisionError),
                 shape_error(arr(2, 3), arr(4), rounding_mode="floor")]),
]
for _name, _ref in (("floor_divide", lambda a, b: np.floor(_true_div(a, b))),
                    ("remainder.Tensor", _mod_ref), ("fmod.Tensor", _fmod_ref)):
    _s, _e = _int_div_samples(_name.split(".")[0])
    ARITH.append(info(f"aten::{_name}", _s, _ref, errors=_e))
ARITH += [
    info("aten::pow.Tensor_Tensor", _pow_samples(), _pow_ref,
         errors=[ErrorSample(arr(3, dtype=I32), -1, match="Integers to negative integer "
                                                          "powers are not allowed"),
                 ErrorSample(arr(3, dtype=B), arr(3, dtype=B), exc=NotImplementedError,
                             match="\"pow\" not implemented for 'Bool'"),
                 shape_error(arr(2, 3), arr(4))]),
    info("aten::atan2", binary_samples(ALL, as_float),
         lambda a, b: np.arctan2(np.asarray(a, np.float64), np.asarray(b, np.float64)),
         errors=[shape_error(arr(2, 3), arr(4))]),
    info("aten::neg", unary_samples(NO_BOOL, _same), np.negative,
         errors=[ErrorSample(arr(3, dtype=B), exc=RuntimeError,
                             match="Negation, the `-` operator, on a bool tensor")]),
    info("aten::abs", unary_samples(NO_BOOL, _same) + [
        Sample(np.array([-128, 127, 0], I8))],
        lambda a: np.where(a < 0, -a, a), errors=[kernel_dtype_error("abs", arr(3, dtype=B))]),
    info("aten::sign", unary_samples(ALL, _same),
         lambda a: a if a.dtype == B else np.where(a > 0, 1, np.where(a < 0, -1, 0))),
    info("aten::positive", unary_samples(NO_BOOL, _same), lambda a: a,
         errors=[ErrorSample(arr(3, dtype=B), exc=RuntimeError,
                             match="The `\\+` operator, on a bool tensor is not supported.")]),
    info("aten::square", unary_samples(ALL, lambda d: G.int64 if d == B else gd(d)),
         lambda a: np.multiply(a, a, dtype=np.int64 if a.dtype == B else None)),
]


# ---------------------------------------------------------------- float math

def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x, np.float64))


def _erfc(x):
    return np.vectorize(math.erfc, otypes=[np.float64])(np.asarray(x, np.float64))


def _erfinv_ref(x):
    """Bisection on math.erf (independent of gpujit's rational-guess + Newton)."""
    x = np.asarray(x, np.float64)
    lo, hi = np.full(x.shape, -6.0), np.full(x.shape, 6.0)
    for _ in range(64):
        mid = (lo + hi) / 2
        below = _erf(mid) < x
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    r = (lo + hi) / 2
    r = np.where(np.abs(x) > 1, NAN, np.where(x == 1, INF, np.where(x == -1, -INF, r)))
    return np.where(np.isnan(x), NAN, r)


def _logit_ref(x, eps=None):
    x = np.asarray(x, np.float64)
    if eps is not None and eps >= 0:
        x = np.where(x < eps, eps, np.where(x > 1 - eps, 1 - eps, x))
    return np.log(x) - np.log1p(-x)


# name, reference, input range
FLOAT_MATH = [
    ("exp", np.exp, -3, 3), ("exp2", lambda x: 2.0 ** x, -3, 3), ("expm1", np.expm1, -2, 2),
    ("log", np.log, 0.1, 5), ("log2", lambda x: np.log(x) / math.log(2), 0.1, 5),
    ("log10", lambda x: np.log(x) / math.log(10), 0.1, 5), ("log1p", np.log1p, -0.9, 3),
    ("sqrt", np.sqrt, 0, 5), ("rsqrt", lambda x: 1 / np.sqrt(x), 0.1, 5),
    ("reciprocal", lambda x: 1 / x, 0.2, 3), ("sin", np.sin, -4, 4), ("cos", np.cos, -4, 4),
    ("tan", np.tan, -1.2, 1.2), ("asin", np.arcsin, -0.95, 0.95),
    ("acos", np.arccos, -0.95, 0.95), ("atan", np.arctan, -4, 4),
    ("sinh", np.sinh, -3, 3), ("cosh", np.cosh, -3, 3), ("tanh", np.tanh, -3, 3),
    ("asinh", np.arcsinh, -4, 4), ("acosh", np.arccosh, 1, 5),
    ("atanh", np.arctanh, -0.95, 0.95), ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), -6, 6),
    ("erf", _erf, -3, 3), ("erfc", _erfc, -3, 3), ("erfinv", _erfinv_ref, -0.95, 0.95),
]
def _on_f64(ref):
    return lambda x: ref(np.asarray(x, np.float64))   # NumPy would do bool/int8 in float16


MATH = [info(f"aten::{n}", unary_samples(ALL, as_float, lo, hi), _on_f64(ref))
        for n, ref, lo, hi in FLOAT_MATH]
def _logit_samples(samples):
    """float16 samples compared with an absolute tolerance of 2^-10: PyTorch's (and
    gpujit's) float16 logit rounds 1 - x and x / (1 - x) to half before the log (ndtr:
    erf and 1 + erf), which the float64 reference does not: up to ~2^-11 of absolute
    error."""
    for s in samples:
        a = s.args[0] if s.args else None
        if getattr(a, "dtype", None) == F16 and s.atol is None:
            s.tol(rtol=1e-3, atol=2.0 ** -10)
    return samples


MATH += [
    info("aten::logit", _logit_samples(unary_samples(ALL, as_float, 0.05, 0.95)) + [
        Sample(arr(3, 4, low=-0.2, high=1.2), 1e-3), Sample(arr(5, low=-0.2, high=1.2),
                                                            eps=0.25),
        Sample(arr(5, dtype=F64, low=-0.2, high=1.2), eps=-0.5),
        # (eps and 1 - eps exact in float16: PyTorch rounds the bounds to the tensor's
        # dtype, test_fusion_numerics checks that)
        Sample(np.array([0.0, 1.0, 0.5], F16), eps=0.25)], _logit_ref),
]


# ---------------------------------------------------------------- rounding

def _round_dec_ref(x, decimals):
    x = np.asarray(x, np.float64)
    p = 10.0 ** abs(decimals)
    return np.rint(x * p) / p if decimals >= 0 else np.rint(x / p) * p


# bool tensors are refused, as PyTorch ('"floor_vml_cpu" not implemented for 'Bool'')
def _no_bool(samples):
    # drawn over ALL and filtered, so the samples drawn after these stay the same
    return [x for x in samples if np.asarray(x.args[0]).dtype != B]


ROUNDING = [info(f"aten::{n}", _no_bool(unary_samples(ALL, _same, -5, 5)), ref,
                 errors=[dtype_error(n, np.array([True, False, True]))])
            for n, ref in (("floor", np.floor), ("ceil", np.ceil), ("trunc", np.trunc))]
ROUNDING += [
    info("aten::round", _no_bool(unary_samples(ALL, _same, -5, 5)) + [
        Sample(np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5], F32))], np.rint,
        errors=[dtype_error("round", np.array([True, False]))]),
    info("aten::round.decimals",
         [Sample(arr(3, 4, dtype=d, low=-50, high=50), decimals=k)
          for d in FLOATS for k in (2, -1)] + [
             Sample(arr(3, 4, dtype=F64), decimals=0), Sample(arr(dtype=F32), decimals=3),
             Sample(arr(0, 2, dtype=F32), decimals=1),
             Sample(np.array([1250.0, 1350.0, -25.0], F64), decimals=-2)], _round_dec_ref,
         errors=[dtype_error("round", arr(3, dtype=I64), dt="int64", kernel="round_cpu",
                             decimals=1)]),
    info("aten::frac", unary_samples(FLOATS, _same, -5, 5), lambda x: x - np.trunc(x),
         errors=[dtype_error("frac", arr(3, dtype=I32), dt="int32")]),
]


# ---------------------------------------------------------------- clamp, min/max

def _clamp_ref(x, min=None, max=None):
    if min is not None:
        x = np.maximum(x, min)
    if max is not None:
        x = np.minimum(x, max)
    return x


def _clamp_scalar_samples():
    # (an out-of-range bound wraps in PyTorch, e.g. -1 for uint8; not sampled)
    s = [Sample(arr(3, 4, dtype=d, low=-3, high=3), 0 if d == U8 else -1, 2)
         .expect_dtype(gd(d)) for d in NO_BOOL]
    s += [Sample(arr(3, 4), min=0.0), Sample(arr(3, 4), max=-0.5),
          Sample(arr(3, 4), 1.0, -1.0),                      # min > max: all max
          Sample(special(), -1.0, 1.0), Sample(arr(5), NAN, None),
          Sample(arr(3, 4, dtype=I32), 0.5).expect_dtype(G.float32),
          Sample(arr(3, 4, dtype=U8, high=9), None, 4).expect_dtype(G.uint8),
          Sample(arr(3, 4, dtype=F16), 0.25, 0.5).expect_dtype(G.float16),
          Sample(arr(dtype=F64), -0.5, 0.5), Sample(arr(0, 3), -0.5, 0.5)]
    return s


def _clamp_tensor_samples():
    return [Sample(arr(3, 4), arr(3, 4, high=0), arr(4, low=0)),
            Sample(arr(3, 4), min=arr(3, 1)), Sample(arr(3, 4), None, arr(4)),
            Sample(arr(3, 4, dtype=I32, low=-5, high=5), arr(4, dtype=I32, high=0),
                   arr(3, 1, dtype=I64, low=1)).expect_dtype(G.int64),
            Sample(arr(3, 4, dtype=I32), arr(dtype=F64, low=0)).expect_dtype(G.float64),
            Sample(arr(3, 4, dtype=F16), arr(dtype=F32), arr(dtype=F32, low=2, high=3))
            .expect_dtype(G.float16),
            Sample(arr(4), arr(2, 4), None), Sample(arr(0, 4), arr(4), arr(4))]


def _clamp_errors(name):
    return [ErrorSample(arr(3), match="At least one of 'min' or 'max' must not be None"),
            dtype_error(name, arr(3, dtype=B), True, False)]


CLAMP = []
for _n in ("clamp", "clip"):
    CLAMP += [info(f"aten::{_n}", _clamp_scalar_samples(), _clamp_ref,
                   errors=_clamp_errors(_n)),
              info(f"aten::{_n}.Tensor", _clamp_tensor_samples(), _clamp_ref,
                   errors=[shape_error(arr(2, 3), arr(4)),
                           ErrorSample(arr(3), None, None, match="At least one")])]
for _n, _f, _a in (("clamp_min", np.maximum, "min"), ("clamp_max", np.minimum, "max")):
    CLAMP += [
        info(f"aten::{_n}", [Sample(arr(3, 4, dtype=d), 0.5 if d in FLOATS else 1)
                             for d in NO_BOOL] + [
            Sample(arr(3, 4, dtype=I64), 0.5).expect_dtype(G.float32),
            Sample(arr(5), NAN), Sample(arr(dtype=F16), 0), Sample(arr(0, 2), 0)], _f,
            errors=[dtype_error(_n, arr(3, dtype=B), True)]),
        info(f"aten::{_n}.Tensor", binary_samples(NO_BOOL, _same, bool_operands=False), _f,
             errors=[shape_error(arr(2, 3), arr(4))]),
    ]
CLAMP += [
    info(f"aten::{n}", binary_samples(ALL, _same) + [Sample(special(), special()[::-1].copy())],
         f, errors=[shape_error(arr(2, 3), arr(4))])
    for n, f in (("maximum", np.maximum), ("minimum", np.minimum))
]


# ---------------------------------------------------------------- comparisons, tests

def _nan_to_num_check(sample, out):
    x = np.asarray(sample.args[0])
    nan, posinf, neginf = (list(sample.args[1:]) + [None] * 3)[:3]
    nan = sample.kwargs.get("nan", nan)
    posinf = sample.kwargs.get("posinf", posinf)
    neginf = sample.kwargs.get("neginf", neginf)
    exp = x.copy()
    if x.dtype.kind == "f":
        big = float(np.finfo(x.dtype).max)
        exp = np.where(np.isnan(x), 0.0 if nan is None else nan, exp)
        exp = np.where(x == INF, big if posinf is None else posinf, exp)
        exp = np.where(x == -INF, -big if neginf is None else neginf, exp)
    G.testing.assert_close(out, exp.astype(x.dtype), equal_nan=False)
    assert out.dtype is gd(x.dtype)


COMPARE = [info(f"aten::{n}.Tensor", binary_samples(ALL, to_bool) + [
    Sample(special(), special()[::-1].copy()), Sample(np.array([2, 3], I64), 2.5)], f,
    errors=[shape_error(arr(2, 3), arr(4))])
    for n, f in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                 ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal))]
COMPARE += [info(f"aten::{n}", unary_samples(ALL, to_bool), f)
            for n, f in (("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite))]
COMPARE += [
    info("aten::nan_to_num", [
        Sample(special(d)) for d in FLOATS] + [
        Sample(special(F32), 1.5, 100.0, -100.0), Sample(special(F64), posinf=7.0),
        Sample(special(F16), neginf=-1.0, nan=-2.0), Sample(arr(3, 4, dtype=I32)),
        Sample(arr(3, dtype=B)), Sample(np.array(NAN, F32)), Sample(arr(0, 3))],
        None, check=_nan_to_num_check),
]


# ---------------------------------------------------------------- logical, bitwise

def _logical(f):
    return lambda a, b: f(np.asarray(a) != 0, np.asarray(b) != 0)


def _shift_ref(left):
    def ref(a, b):
        a, b = np.asarray(a), np.asarray(b)
        dt = np.promote_types(a.dtype, b.dtype) if b.ndim or a.ndim == 0 else a.dtype
        bits = np.dtype(dt).itemsize * 8
        a64, b64 = a.astype(np.int64), b.astype(np.int64)
        out_of_range = (b64 < 0) | (b64 >= bits)
        b64 = np.clip(b64, 0, 63)
        if left:
            return np.where(out_of_range, 0, a64 << b64)
        return np.where(out_of_range, np.where(a64 < 0, -1, 0), a64 >> b64)
    return ref


def _shift_amount(*shape, dtype=I32, **_):
    return arr(*shape, dtype=dtype, low=0, high=6)


def _shift_samples():
    s = binary_samples(INTS, _same, rhs=_shift_amount, bool_operands=False, scalars=(3,))
    s += [Sample(np.array([3, -3, 100, -100], I8), np.array([9, 9, 8, -1], I8)),
          Sample(np.array([3, 200], U8), np.array([8, 7], U8)),
          Sample(np.array([5, -5], I64), np.array([63, 70], I64))]
    return s


LOGICAL = [info(f"aten::{n}", binary_samples(ALL, to_bool), _logical(f),
                errors=[shape_error(arr(2, 3), arr(4))])
           for n, f in (("logical_and", np.logical_and), ("logical_or", np.logical_or),
                        ("logical_xor", np.logical_xor))]
LOGICAL += [
    info("aten::logical_not", unary_samples(ALL, to_bool), lambda a: np.asarray(a) == 0)]
LOGICAL += [info(f"aten::{n}.Tensor", binary_samples((B,) + INTS, _same,
                                                     lhs=lambda *s, dtype, **k: arr(
                                                         *s, dtype=dtype, low=-100,
                                                         high=100)), f,
                 errors=[kernel_dtype_error(n, arr(3), arr(3), dt="Float"),
                         shape_error(arr(2, 3, dtype=I32), arr(4, dtype=I32))])
            for n, f in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                         ("bitwise_xor", np.bitwise_xor))]
LOGICAL += [
    info("aten::bitwise_not", unary_samples((B,) + INTS, _same, -100, 100), np.invert,
         errors=[kernel_dtype_error("bitwise_not", arr(3, dtype=F64), dt="Double")]),
    info("aten::bitwise_left_shift.Tensor", _shift_samples(), _shift_ref(True),
         errors=[kernel_dtype_error("lshift", arr(3, dtype=B), arr(3, dtype=B))]),
    info("aten::bitwise_right_shift.Tensor", _shift_samples(), _shift_ref(False),
         errors=[kernel_dtype_error("rshift", arr(3), 1, dt="Float")]),
]


def _operator_info(dunder, of, kernel):
    """x & y, x << y ... (torch 2.13's aten::__and__, __lshift__ ...): the samples of the
    bitwise op they compute, a Python number taken for `other` only."""
    base = next(i for i in LOGICAL if i.name == of)
    return info(f"aten::{dunder}.Tensor",
                [s for s in base.get_samples() if isinstance(s.args[0], np.ndarray)],
                base.ref, errors=[kernel_dtype_error(kernel, arr(3), arr(3), dt="Float"),
                                  shape_error(arr(2, 3, dtype=I32), arr(4, dtype=I32))])


LOGICAL += [_operator_info(d, f"aten::{n}.Tensor", k) for d, n, k in (
    ("__and__", "bitwise_and", "bitwise_and"), ("__or__", "bitwise_or", "bitwise_or"),
    ("__xor__", "bitwise_xor", "bitwise_xor"), ("__lshift__", "bitwise_left_shift", "lshift"),
    ("__rshift__", "bitwise_right_shift", "rshift"))]


# ---------------------------------------------------------------- selection, blends

def _mask(*shape):
    return arr(*shape, dtype=B)


def _where_samples():
    return [Sample(_mask(3, 4), arr(3, 4), arr(3, 4)),
            Sample(_mask(3, 1), arr(1, 4, dtype=I32), arr(3, 4, dtype=F16))
            .expect_dtype(G.float16),
            Sample(_mask(3, 4), arr(4, dtype=I64), 2.5).expect_dtype(G.float32),
            Sample(_mask(3, 4), 1.0, 0).expect_dtype(G.float32),
            Sample(_mask(3, 4), 1, arr(dtype=F64)).expect_dtype(G.float64),
            Sample(_mask(2, 3), arr(2, 3, dtype=B), arr(2, 3, dtype=B)),
            Sample(_mask(4), arr(2, 4, dtype=U8), arr(4, dtype=I8)).expect_dtype(G.int16),
            Sample(_mask(), arr(), arr()), Sample(_mask(0, 3), arr(3), arr(0, 1))]


def _masked_fill_samples(value):
    return [Sample(arr(3, 4), _mask(3, 4), value(2.5)),
            Sample(arr(3, 4, dtype=I32), _mask(3, 4), value(2.5)).expect_dtype(G.int32),
            Sample(arr(3, 4, dtype=F16), _mask(3, 1), value(-1)).expect_dtype(G.float16),
            Sample(arr(2, 3, dtype=B), _mask(2, 3), value(True)).expect_dtype(G.bool),
            Sample(arr(4, dtype=F64), _mask(3, 4), value(0.5)),    # mask widens the result
            Sample(arr(dtype=I64), _mask(), value(7)), Sample(arr(0, 3), _mask(3), value(1)),
            # last: the gradient test checks the first samples, and finite differences
            # through a NaN fill are NaN
            Sample(arr(4, dtype=F64), _mask(3, 4), value(NAN))]


def _mf_errors(value):
    return [ErrorSample(arr(3), arr(3), value(1.0), match="only supports boolean masks, but "
                                                          "got mask with dtype float"),
            # (PyTorch's masked_fill broadcasts the mask first: it is tensor a)
            ErrorSample(arr(2, 3), _mask(4), value(1.0),
                        match=r"tensor a \(4\) must match the size of tensor b \(3\) at "
                              r"non-singleton dimension 1")]


def _lerp_ref(a, b, w):
    return a + w * (b - a)


def _lerp_samples(weight):
    # PyTorch requires self, end (and a weight tensor) to have one dtype
    s = [Sample(arr(3, 4, dtype=d), arr(3, 4, dtype=d), weight(w, d))
         for d in FLOATS for w in (0.3, 0.8)]
    s += [Sample(arr(3, 1), arr(4), weight(1.0, F32)), Sample(arr(), arr(), weight(0.0, F32)),
          Sample(arr(0, 2, dtype=F64), arr(2, dtype=F64), weight(0.5, F64)),
          Sample(special(), special()[::-1].copy(), weight(0.25, F32))]
    return s


BLEND = [
    info("aten::where.self", _where_samples(),
         lambda c, a, b: np.where(c, a, b),
         errors=[ErrorSample(arr(3), arr(3), arr(3), match="where expected condition to be "
                                                            "a boolean tensor, but got a "
                                                            "tensor with dtype Float"),
                 shape_error(_mask(2, 3), arr(4), arr(4))]),
    info("aten::masked_fill.Scalar", _masked_fill_samples(lambda v: v),
         lambda x, m, v: np.where(m, v, x), errors=_mf_errors(lambda v: v)),
    info("aten::masked_fill.Tensor", _masked_fill_samples(lambda v: np.array(v)) + [
        Sample(arr(3, 4, dtype=I64), _mask(3, 4), np.array(3, I32))
        .expect_dtype(G.int64)],
        lambda x, m, v: np.where(m, v, x),
        errors=_mf_errors(lambda v: np.array(v, F32)) + [
            ErrorSample(arr(3), _mask(3), arr(3), match="0-dimensional value tensor")]),
    info("aten::lerp.Scalar", _lerp_samples(lambda w, d: w), _lerp_ref,
         errors=[dtype_error("lerp", arr(3, dtype=I32), arr(3, dtype=I32), 0.5,
                             dt="int32", kernel="lerp_kernel_scalar"),
                 shape_error(arr(2, 3), arr(4), 0.5)]),
    info("aten::lerp.Tensor", _lerp_samples(lambda w, d: np.array(w, d)) + [
        Sample(arr(3, 4), arr(3, 4), arr(3, 4, low=-0.5, high=1.5)),
        Sample(arr(3, 1, dtype=F64), arr(1, 4, dtype=F64), arr(3, 4, dtype=F64))],
        _lerp_ref),
    info("aten::addcmul", [
        Sample(arr(3, 4, dtype=d), arr(3, 4, dtype=d), arr(3, 4, dtype=d), value=v)
        for d in NO_BOOL for v in (1, 2)] + [
        Sample(arr(3, 4), arr(3, 1), arr(4), value=0.5),
        Sample(arr(3, dtype=I32), arr(3, dtype=F16), arr(3, dtype=I8)).expect_dtype(G.float16),
        Sample(arr(), arr(), arr()), Sample(arr(0, 3), arr(3), arr(1))],
        lambda a, b, c, value=1: a + value * b * c,
        errors=[dtype_error("addcmul", arr(3, dtype=B), arr(3, dtype=B), arr(3, dtype=B))]),
    info("aten::addcdiv", [
        Sample(arr(3, 4, dtype=d), arr(3, 4, dtype=d), nonzero(3, 4, dtype=d), value=v)
        for d in FLOATS for v in (1, -0.5)] + [
        Sample(arr(3, 4), arr(3, 1), nonzero(4), value=2),
        Sample(arr(3, dtype=I32), arr(3, dtype=I32), nonzero(3, dtype=F64))
        .expect_dtype(G.float64),
        Sample(arr(), arr(), nonzero()), Sample(arr(0, 3), arr(3), nonzero(1))],
        lambda a, b, c, value=1: a + value * b / c,
        errors=[ErrorSample(arr(3, dtype=I32), arr(3, dtype=I32), arr(3, dtype=I32, low=1),
                            match="Integer division with addcdiv is no longer supported")]),
]

# ---------------------------------------------------------------- more float math, tests

def _f64(a):
    return np.asarray(a, np.float64)


def _xlog_ref(log):
    """The reference of xlogy (log) and special.xlog1py (log1p): a * log(b), 0 where a
    is 0, NaN where b is."""
    def ref(a, b):
        a, b = _f64(a), _f64(b)
        with np.errstate(all="ignore"):
            return np.where(np.isnan(b), NAN, np.where(a == 0, 0.0, a * log(b)))
    return ref


_xlogy_ref = _xlog_ref(np.log)


def _sinc_ref(a):
    a = _f64(a)
    with np.errstate(all="ignore"):
        return np.where(a == 0, 1.0, np.sin(np.pi * a) / (np.pi * a))


def _heaviside_ref(a, b):          # PyTorch: a == 0 ? b : a > 0 (nan -> 0)
    return np.where(a == 0, b, np.where(a > 0, 1, 0))


def _logaddexp_ref(base):
    def ref(a, b):
        a, b = _f64(a), _f64(b)
        with np.errstate(all="ignore"):
            return np.logaddexp(a, b) if base == "e" else np.logaddexp2(a, b)
    return ref


MORE = [
    info("aten::deg2rad", unary_samples(NO_BOOL, as_float), lambda a: _f64(a) * (np.pi / 180)),
    info("aten::rad2deg", unary_samples(NO_BOOL, as_float), lambda a: _f64(a) * (180 / np.pi)),
    info("aten::isposinf", unary_samples(NO_BOOL, to_bool), lambda a: _f64(a) == INF),
    info("aten::isneginf", unary_samples(NO_BOOL, to_bool), lambda a: _f64(a) == -INF),
    info("aten::signbit", unary_samples(NO_BOOL, to_bool), lambda a: np.signbit(_f64(a))),
    info("aten::sinc", unary_samples(ALL, as_float), _sinc_ref),
    info("aten::fmax", binary_samples(NO_BOOL, _same, bool_operands=False),
         lambda a, b: np.fmax(_f64(a), _f64(b))),
    info("aten::fmin", binary_samples(NO_BOOL, _same, bool_operands=False),
         lambda a, b: np.fmin(_f64(a), _f64(b))),
    # (floating-point computation dtypes only: PyTorch has no integer kernel; an integer
    # operand with a float one promotes)
    info("aten::logaddexp", binary_samples(FLOATS, as_float, bool_operands=False),
         _logaddexp_ref("e"),
         errors=[dtype_error("logaddexp", arr(3, dtype=I64), arr(3, dtype=I64), dt="int64"),
                 dtype_error("logaddexp", arr(3, dtype=B), arr(3, dtype=B))]),
    info("aten::logaddexp2", binary_samples(FLOATS, as_float, bool_operands=False),
         _logaddexp_ref("2"),
         errors=[dtype_error("logaddexp2", arr(3, dtype=I32), arr(3, dtype=I32),
                             dt="int32")]),
    info("aten::xlogy.Tensor", binary_samples(
        ALL, as_float, rhs=lambda *shape, dtype=F32, low=0.1: arr(*shape, dtype=dtype,
                                                                 low=max(low, 0.1),
                                                                 high=3.0)) + [
        Sample(np.array([0.0, 0.0, 2.0, -1.5], F32), np.array([0.0, NAN, -1.0, 0.5], F32))],
        _xlogy_ref),
    # (self and values of one dtype: PyTorch's heaviside does not promote)
    info("aten::heaviside", [x for x in binary_samples(NO_BOOL, _same, bool_operands=False)
                             if all(isinstance(a, np.ndarray) for a in x.args)
                             and x.args[0].dtype == x.args[1].dtype],
         _heaviside_ref,
         errors=[ErrorSample(arr(3, 4, dtype=F32), arr(3, 4, dtype=F64),
                             match="heaviside is not yet implemented for tensors with "
                                   "different dtypes"),
                 ErrorSample(arr(3, 4, dtype=F32), np.asarray(np.float64(2.0)),
                             match="heaviside is not yet implemented")],
         grad=False),    # (recorded, its backward refused: PyTorch's not_implemented)
]

OPINFOS = ARITH + MATH + ROUNDING + CLAMP + COMPARE + LOGICAL + BLEND + MORE


# ---------------------------------------------------------------- gamma family, float bits
# Independent references in float64, element by element in Python: math.lgamma; digamma and
# polygamma by the recurrence up to x >= 30 and the asymptotic (Bernoulli) series there,
# with digamma's reflection formula below 0.

_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _elementwise(fn):
    def ref(x):
        x = np.asarray(x, np.float64)
        return np.vectorize(fn, otypes=[np.float64])(x) if x.size else x.copy()
    return ref


def _lgamma_one(x):
    if math.isnan(x):
        return NAN
    if math.isinf(x) or (x <= 0 and x == math.floor(x)):
        return INF
    return math.lgamma(x)


def _digamma_one(x):
    if math.isnan(x) or x == -INF:
        return NAN
    if x == INF:
        return INF
    if x == 0:
        return math.copysign(INF, -x)
    if x < 0:
        if x == math.floor(x):
            return NAN
        return _digamma_one(1 - x) - math.pi / math.tan(math.pi * x)
    acc = 0.0
    while x < 30:
        acc -= 1 / x
        x += 1
    s = math.log(x) - 1 / (2 * x)
    for k, b in enumerate(_BERNOULLI, 1):
        s -= b / (2 * k * x ** (2 * k))
    return acc + s


def _polygamma_one(n, x):
    """(-1) ** (n + 1) n! sum_k (x + k) ** -(n + 1) (n >= 1): the sum up to x + k >= 30,
    the Euler-Maclaurin tail of the Hurwitz zeta function after."""
    if n == 0:
        return _digamma_one(x)
    sign = 1.0 if n % 2 else -1.0
    if math.isnan(x):
        return NAN
    if x == INF:
        return 0.0 if n == 1 else NAN          # (n >= 2: NaN, as PyTorch's zeta)
    if x == -INF:
        return NAN if n == 1 else sign * INF
    if x <= 0 and x == math.floor(x):
        return sign * INF
    s, total = n + 1, 0.0
    while x < 30:
        total += x ** -s
        x += 1
    tail = x ** (1 - s) / (s - 1) + x ** -s / 2
    rising, fact = 1.0, 1.0                    # s (s+1) ... (s+2k-2), (2k)!
    for k, b in enumerate(_BERNOULLI, 1):
        rising *= (s + 2 * k - 2) * (s + 2 * k - 3) if k > 1 else s
        fact *= (2 * k) * (2 * k - 1)
        tail += b / fact * rising * x ** (-s - 2 * k + 1)
    return sign * math.factorial(n) * (total + tail)


def _polygamma_ref(n, x):
    return _elementwise(lambda v: _polygamma_one(n, v))(x)


def _gamma_samples(low, high, *args):
    """unary_samples (every dtype, 0-dim, empty, inf/nan/+-0) plus values near the poles
    and far out."""
    s = unary_samples(ALL, as_float, low, high, *args)
    s.append(Sample(np.array([-0.5, -1.5, -3.25, -1e-3, 1e-3, 1.0, 2.0, 0.5, 10.0, 30.5,
                              1e3, -7.75], F64), *args))
    return s


def _nextafter_check(sample, out):
    """Exactly NumPy's nextafter in the result dtype (float16 steps by float16 ulps)."""
    with np.errstate(over="ignore"):            # (the largest float16 to inf)
        a, b = (np.asarray(v).astype(out.dtype.np) for v in sample.args)
        np.testing.assert_array_equal(out.numpy(), np.nextafter(a, b))


def _ldexp_exp(*shape, dtype=F32, **_):
    return arr(*shape, dtype=dtype, low=0 if np.dtype(dtype) == U8 else -4, high=6)


SPECIAL = [
    info("aten::lgamma", _gamma_samples(-4.0, 5.0), _elementwise(_lgamma_one)),
    info("aten::digamma", _gamma_samples(-4.0, 5.0), _elementwise(_digamma_one)),
    info("aten::polygamma",
         # (n = 1 is ATen's trigamma series since s47: large finite values at the negative
         # integers, sin(pi x) not being 0 there; those are compared with torch in
         # tests/test_half_numerics_s47.py)
         [Sample(n, *s.args).expect_dtype(s.dtype) for n in (1, 2)
          for s in _gamma_samples(-3.0 if n == 2 else 0.0, 4.0)] +
         [Sample(0, arr(3, 4, low=-3, high=4)), Sample(3, arr(5, dtype=F64, low=0.1, high=5)),
          Sample(4, np.array([-2.5, 0.25, 1.0, 7.0], F32)),
          Sample(1, arr(3, 4, dtype=I32, low=1, high=9)).expect_dtype(G.float32)],
         lambda n, x: _polygamma_ref(n, x),
         errors=[ErrorSample(-1, arr(3), match=r"polygamma\(n, x\) does not support "
                                                r"negative n")]),
    info("aten::polygamma_",
         [Sample(arr(3, 4, dtype=d, low=-3 if n != 1 else 0, high=4), n) for d in FLOATS
          for n in (0, 1, 2)]
         + [Sample(special(F32), 1), Sample(arr(dtype=F64), 3)],
         lambda x, n: _polygamma_ref(n, x),
         errors=[ErrorSample(arr(3, dtype=I32), 1, match="can't be cast to the desired "
                                                         "output type Int"),
                 ErrorSample(arr(3), -2, match="does not support negative n")]),
    info("aten::hypot", binary_samples(FLOATS, _same) + [
        Sample(special(), special()[::-1].copy()),
        Sample(np.array([3e38, 1e-30, -5.0], F32), np.array([3e38, 1e-30, 12.0], F32))],
        lambda a, b: np.hypot(_f64(a), _f64(b)),
        errors=[dtype_error("hypot", arr(3, dtype=I32), arr(3, dtype=I32), dt="int32"),
                shape_error(arr(2, 3), arr(4))]),
    info("aten::copysign.Tensor", binary_samples(ALL, as_float) + [
        Sample(special(), special()[::-1].copy()), Sample(special(), -0.0),
        Sample(np.array([1, -2, 0], I64), -1).expect_dtype(G.float32)],
        lambda a, b: np.copysign(_f64(a), _f64(b))),
    info("aten::nextafter", binary_samples(FLOATS, _same) + [
        Sample(special(), special()[::-1].copy()),
        Sample(np.array([0.0, 1.0, -1.0, 65504.0], F16), np.array([1.0, 0.0, INF, INF], F16)),
        Sample(np.array([0.0, -0.0, 1.0], F64), np.array([-1.0, 1.0, 1.0], F64))],
        None, check=_nextafter_check,
        errors=[dtype_error("nextafter", arr(3, dtype=I64), arr(3, dtype=I64), dt="int64")]),
    info("aten::ldexp.Tensor", binary_samples(ALL, as_float, rhs=_ldexp_exp) + [
        Sample(arr(4, dtype=F16), np.array([1, 10, 15, 17], I32)).expect_dtype(G.float16),
        Sample(np.array([1e-30, 3.0, -2.0], F32), np.array([100, 127, -130], I64))],
        lambda a, b: _f64(a) * 2.0 ** _f64(b)),
    info("aten::sgn", unary_samples(ALL, _same),
         lambda a: a if a.dtype == B else np.where(a > 0, 1, np.where(a < 0, -1, 0))),
    info("aten::float_power.Tensor_Tensor", binary_samples(
        ALL, lambda d: G.float64, lhs=_pow_base, rhs=_pow_exp, scalars=(3, 2.5, 2, True)) + [
        Sample(arr(4, dtype=F32, low=0.1), 0.5).expect_dtype(G.float64),
        Sample(np.array([-8.0, 4.0, 0.0], F32), np.array([1 / 3, -0.5, -1.0], F32)),
        Sample(np.array([2, -3, 0], I32), -2).expect_dtype(G.float64),
        Sample(2.5, arr(4, dtype=F16)).expect_dtype(G.float64)],
        lambda a, b: np.power(_f64(a), _f64(b))),
]

OPINFOS = OPINFOS + SPECIAL


# ---------------------------------------------------------------- torch.special's own ops

_xlog1py_ref = _xlog_ref(np.log1p)


def _entr_ref(a):
    a = _f64(a)
    with np.errstate(all="ignore"):
        return np.where(a > 0, -a * np.log(np.where(a > 0, a, 1)),
                        np.where(a == 0, 0.0, np.where(a < 0, -INF, a)))


def _ndtr_ref(a):
    return np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2)),
                        otypes=[np.float64])(_f64(a))


SPECIAL_NS = [
    # (no Python bool operand: the scalar-expression check evaluates log1p(True) alone in
    # NumPy, as float16; the kernels compute it in float32, see test_special_namespace.py)
    info("aten::special_xlog1py", binary_samples(
        ALL, as_float, rhs=lambda *shape, dtype=F32, low=-0.9: arr(*shape, dtype=dtype,
                                                                  low=max(low, -0.9),
                                                                  high=3.0),
        scalars=(3, 2.5, 2, -2)) + [
        Sample(np.array([0.0, 0.0, 2.0, -1.5, 1.0], F32),
               np.array([0.0, NAN, -1.0, 0.5, -2.0], F32))],
        _xlog1py_ref),
    info("aten::special_entr", unary_samples(ALL, as_float, 0.05, 3) + [
        Sample(np.array([0.0, -0.0, -1.0, 0.5, INF, NAN], F32))], _entr_ref),
    # (float16: PyTorch's Half kernel rounds erf and 1 + erf to half, as gpujit's)
    info("aten::special_ndtr", _logit_samples(unary_samples(ALL, as_float, -4, 4)),
         _ndtr_ref),
]

OPINFOS = OPINFOS + SPECIAL_NS
