"""Special values and numeric edge cases through fused kernels: every fusible pointwise op
of the registry on nan, +-inf, -0.0, denormals, values near overflow, .5 ties, float16
overflow / subnormals, INT_MIN / INT_MAX, zero divisors, shifts past the bit width, bools.
Scripted (CompilationUnit) and traced, 3 calls each so the optimized plan runs a fused
kernel (CPU target; the CUDA simulator target in a subprocess), compared with gpujit eager
bit for bit (nan positions and signs of zeros included), with NumPy references, and with
PyTorch 2.13 where it is installed.

Found and fixed here:
- lerp promoted `end` (and a weight tensor) with self: PyTorch's lerp requires end's dtype
  (and a 1+-dim weight's) to be self's ("expected dtype float for `end` but got dtype
  double"), eagerly, scripted and fused.
- A Python int converted to a narrow integer dtype wrapped everywhere; PyTorch converts
  clamp / clamp_min / clamp_max / clip bounds, hardtanh's and threshold's limits,
  masked_fill's and where's values, alpha and addcmul's value with c10::checked_convert:
  clamp(int8, -3, 300) raises "value cannot be converted to type int8_t without
  overflow" (gpujit clamped at 44), threshold(u8, -1, 2) compares with 255 (gpujit with
  -1). Comparisons and `u8 + 300` still wrap, as PyTorch's.

PyTorch CPU artifacts not copied (gpujit's answer is the exact one): float32 fmod /
remainder by a denormal divisor give nan (vectorized a - trunc(a / b) * b), float32 gelu
of inf is nan, float64 sinh / cosh overflow near 710, float16 erf of the smallest
subnormal is 0; addcmul's fma keeps -3e38 + 0.5 * -3e38 * -2.5 finite. torch.div(INT_MIN,
-1, rounding_mode='trunc') of integer tensors kills the process with SIGFPE in PyTorch
2.13 (gpujit wraps, as floor division does).

Scripted lerp(x, y, 0.5) is lerp.Scalar, as TorchScript's schema matching picks (the
compiler took lerp.Tensor, declared first, whose number operand a pointwise op accepts:
lerp of int64 tensors gave float32 where eager and PyTorch raise).
"""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit import fusers

nan, inf = float("nan"), float("inf")
FV = [nan, inf, -inf, -0.0, 0.0, 1e-40, -1e-40, 88.8, -88.8, 89.5, 710.0, -710.0, 1.0, -1.0,
      0.5, 1.5, 2.5, -2.5, -0.5, 3e38, -3e38, 65504.0, 70000.0, 6e-8, -7.5, 7.5, 2.0, -3.0]
IV = {"int8": [-128, 127, -1, 0, 1, 5, -7, 3], "int16": [-32768, 32767, -1, 0, 1, 5, -7, 3],
      "int32": [-2**31, 2**31 - 1, -1, 0, 1, 5, -7, 3],
      "int64": [-2**63, 2**63 - 1, -1, 0, 1, 5, -7, 3],
      "uint8": [0, 255, 1, 128, 5, 7, 3, 2], "bool": [1, 0, 1, 1, 0, 0, 1, 0]}
NZ = [-1, -1, 2, 3, -5, 7, 1, -3]           # nonzero divisors (-1 under INT_MIN)


def values(dt, rot=0):
    if dt in IV:
        a = np.array(IV[dt])
    else:
        a = np.array(FV)
    with np.errstate(all="ignore"):
        return np.roll(a, rot).astype(dt)


def divisors(dt):
    if dt == "bool":
        return np.ones(8, bool)
    with np.errstate(all="ignore"):
        return np.array(NZ).astype(dt)


# ------------------------------------------------------------------ comparison

def same(got, want, what, tol=0.0):
    """Equal dtype and shape; nan where want has nan; signs of zeros equal; values equal
    (within rtol tol for floats when tol > 0)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, want {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    if want.dtype.kind != "f":
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    gn, wn = np.isnan(got), np.isnan(want)
    assert (gn == wn).all(), f"{what}: nan at {np.nonzero(gn != wn)[0]}: {got} vs {want}"
    g, w = got[~wn].astype(np.float64), want[~wn].astype(np.float64)
    with np.errstate(all="ignore"):
        # (a denormal result may flush to 0 in one computation and not in another)
        atol = float(np.finfo(want.dtype).tiny) if tol else 0.0
        bad = ~((g == w) | (np.abs(g - w) <= tol * np.abs(w) + atol))
    bad |= (w == 0) & (g == 0) & (np.signbit(g) != np.signbit(w))
    at = np.nonzero(~wn)[0][bad]
    assert not bad.any(), f"{what}: got {g[bad]} want {w[bad]} (elements {at})"


_ULPS = {"float32": 5e-7, "float64": 1e-15, "float16": 1e-3}


def compiled(src, name):
    """(scripted, traced-maker) of the function `name` defined by src."""
    ns = {"torch": torch, "F": torch.nn.functional}
    exec(src, ns)
    cu = torch.jit.CompilationUnit(src.replace("F.", "torch.nn.functional."))
    return getattr(cu, name), ns[name]


def run_all(src, name, args, want=None, tol=0.0, ulps=None):
    """src's function eagerly, scripted and traced (3 calls each; a FusionWarning fails):
    all equal to eager (nan positions, signs of zeros and integers exactly, other floats
    within an ulp or two: libm and NumPy's SIMD functions differ there), and to `want`
    when given. Returns eager's result."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", fusers.FusionWarning)
        s, py = compiled(src, name)
        t = [torch.from_numpy(a.copy()) for a in args]
        with np.errstate(all="ignore"):
            eager = py(*t).numpy()
        if want is not None:
            same(eager, want, f"{name} eager", tol)
        tr = torch.jit.trace(py, tuple(t))
        for how, f in (("script", s), ("trace", tr)):
            for rep in range(3):
                got = f(*[torch.from_numpy(a.copy()) for a in args]).numpy()
                same(got, eager, f"{name} {how} run {rep} vs eager",
                     ulps if ulps is not None else _ULPS.get(str(eager.dtype), 0.0))
        g = s.graph_for(*t)
        assert "prim::TensorExprGroup_" in str(g), f"{name}: no fusion group"
    return eager


# ------------------------------------------------------------------ unary float ops
# name -> (expression over x, NumPy reference over float64 or None)

def _sig(x):
    with np.errstate(all="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


UNARY = {
    "neg": ("torch.neg(x * 1.0)", np.negative),
    "abs": ("torch.abs(x * 1.0)", np.abs),
    "relu": ("torch.relu(x * 1.0)", lambda x: np.where((x > 0) | (x == 0) | (x != x), x, 0.0)),
    "sigmoid": ("torch.sigmoid(x * 1.0)", _sig),
    "tanh": ("torch.tanh(x * 1.0)", np.tanh),
    "exp": ("torch.exp(x * 1.0)", np.exp),
    "expm1": ("torch.expm1(x * 1.0)", np.expm1),
    "exp2": ("torch.exp2(x * 1.0)", np.exp2),
    "log": ("torch.log(x * 1.0)", np.log),
    "log1p": ("torch.log1p(x * 1.0)", np.log1p),
    "log2": ("torch.log2(x * 1.0)", np.log2),
    "sqrt": ("torch.sqrt(x * 1.0)", np.sqrt),
    "rsqrt": ("torch.rsqrt(x * 1.0)", lambda x: 1 / np.sqrt(x)),
    "reciprocal": ("torch.reciprocal(x * 1.0)", lambda x: 1 / x),
    "sinh": ("torch.sinh(x * 1.0)", np.sinh),
    "cosh": ("torch.cosh(x * 1.0)", np.cosh),
    "atan": ("torch.atan(x * 1.0)", np.arctan),
    "asinh": ("torch.asinh(x * 1.0)", np.arcsinh),
    "round": ("torch.round(x * 1.0)", np.round),
    "trunc": ("torch.trunc(x * 1.0)", np.trunc),
    "floor": ("torch.floor(x * 1.0)", np.floor),
    "ceil": ("torch.ceil(x * 1.0)", np.ceil),
    "frac": ("torch.frac(x * 1.0)", lambda x: x - np.trunc(x)),
    "square": ("torch.square(x * 1.0)", np.square),
    "sign": ("torch.sign(x * 1.0)", None),
    "sgn": ("torch.sgn(x * 1.0)", None),
    "erf": ("torch.erf(x * 1.0)", None),
    "erfc": ("torch.erfc(x * 1.0)", None),
    "erfinv": ("torch.erfinv(x * 1.0)", None),
    "lgamma": ("torch.lgamma(x * 1.0)", None),
    "digamma": ("torch.digamma(x * 1.0)", None),
    "logit": ("torch.logit(x * 1.0)", None),
    "asin_acos_atanh": ("torch.asin(x * 1.0) + torch.acos(x * 1.0) + torch.atanh(x * 1.0)", None),
    "sin_cos_tan": ("torch.sin(x * 1.0) + torch.cos(x * 1.0) + torch.tan(x * 1.0)", None),
    "nan_to_num": ("torch.nan_to_num(x * 1.0)", np.nan_to_num),
    "softplus": ("F.softplus(x * 1.0)", lambda x: np.logaddexp(x, 0)),
    "gelu": ("F.gelu(x * 1.0)", None),
    "gelu_tanh": ("F.gelu(x * 1.0, approximate='tanh')", None),
    "silu": ("F.silu(x * 1.0)", lambda x: x / (1 + np.exp(-x.astype(np.float32)))),
    "mish": ("F.mish(x * 1.0)", None),
    "elu": ("F.elu(x * 1.0)", lambda x: np.where(x > 0, x, np.expm1(x))),
    "selu_celu": ("F.selu(x * 1.0) + F.celu(x * 1.0)", None),
    "hardtanh": ("F.hardtanh(x * 1.0)", lambda x: np.where(x != x, x, np.clip(x, -1, 1))),
    "hardsigmoid_hardswish": ("F.hardsigmoid(x * 1.0) + F.hardswish(x * 1.0)", None),
    "leaky_relu": ("F.leaky_relu(x * 1.0, 0.25)", lambda x: np.where(x > 0, x, x * 0.25)),
    "relu6": ("F.relu6(x * 1.0)", lambda x: np.where(x != x, x, np.clip(x, 0, 6))),
    "softsign": ("F.softsign(x * 1.0)", lambda x: x / (1 + np.abs(x))),
    "logsigmoid": ("F.logsigmoid(x * 1.0)",
                   lambda x: 0.0 - np.logaddexp(np.float32(0), -x.astype(np.float32))),
    "tanhshrink": ("F.tanhshrink(x * 1.0)", None),
    "threshold": ("F.threshold(x * 1.0, 0.5, -1.0)", lambda x: np.where(x <= 0.5, -1.0, x)),
    "clamp": ("torch.clamp(x * 1.0, -1.0, 1.0)",
              lambda x: np.where(x != x, x, np.clip(x, -1, 1))),
    "clamp_nan_bound": ("torch.clamp(x * 1.0, min=float('nan'))", lambda x: x * np.nan),
    "clamp_min_max": ("torch.clamp_min(x * 1.0, 0.5) + torch.clamp_max(x * 1.0, 0.5)",
                      lambda x: np.maximum(x, 0.5) + np.minimum(x, 0.5)),
    "mul_neg_zero": ("x * -0.0", lambda x: x * -0.0),
    "copysign_neg_zero": ("torch.copysign(x * 1.0, -0.0)", lambda x: np.copysign(x, -0.0)),
    "pow_scalars": ("(x * 1.0) ** 0.5 + (x * 1.0) ** -1 + (x * 1.0) ** 3.0", None),
    "rpow": ("2 ** (x * 1.0)", np.exp2),
    "round_decimals": ("torch.round(x * 1.0, decimals=1)", None),
    "isnan_isinf": ("torch.isnan(x * 1.0) | torch.isinf(x * 1.0) | torch.signbit(x * 1.0)",
                    lambda x: np.isnan(x) | np.isinf(x) | np.signbit(x)),
}
_UNARY_TOL = {"float32": 2e-6, "float64": 1e-13, "float16": 1e-3}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_special_values_fused_match_eager_and_numpy(name):
    expr, ref = UNARY[name]
    # (`* 1.0`: an op TorchScript keeps, the group has two ops at least; `x * 1` of an int
    # is dropped by its peephole, as here)
    src = f"def f_{name}(x):\n    return ({expr}) * 1.0\n" if "|" not in expr else \
        f"def f_{name}(x):\n    return ({expr}) | (x > 1e30)\n"
    for dt in ("float32", "float64", "float16") if name in _HALF_TOO else ("float32",):
        x = values(dt)
        want = None
        if ref is not None:
            with np.errstate(all="ignore"):
                r = np.asarray(ref(x.astype(np.float64)))
                if "|" in expr:
                    want = r | (x > 1e30)
                else:
                    want = (r * 1).astype(dt)
        run_all(src, f"f_{name}", [x], want, _UNARY_TOL[dt])


_HALF_TOO = {"neg", "abs", "relu", "exp", "log", "sqrt", "round", "trunc", "sigmoid",
             "reciprocal", "clamp", "mul_neg_zero", "hardtanh", "softplus", "square"}


# ------------------------------------------------------------------ binary float ops

BINARY = {
    "add": ("x + y", np.add), "sub": ("x - y", np.subtract), "mul": ("x * y", np.multiply),
    "div": ("x / y", np.divide),
    "atan2": ("torch.atan2(x, y)", np.arctan2),
    "copysign": ("torch.copysign(x, y)", np.copysign),
    "maximum": ("torch.maximum(x, y)", np.maximum), "minimum": ("torch.minimum(x, y)", np.minimum),
    "fmax": ("torch.fmax(x, y)", np.fmax), "fmin": ("torch.fmin(x, y)", np.fmin),
    "fmod": ("torch.fmod(x, y)", np.fmod),
    "remainder": ("torch.remainder(x, y)", None),
    "floor_divide": ("torch.floor_divide(x, y)", None),
    "div_floor": ("torch.div(x, y, rounding_mode='floor')", None),
    "div_trunc": ("torch.div(x, y, rounding_mode='trunc')", lambda x, y: np.trunc(x / y)),
    "pow": ("torch.pow(x, y)", np.power),
    "hypot": ("torch.hypot(x, y)", np.hypot),
    "where": ("torch.where(x > 0, x, y)", lambda x, y: np.where(x > 0, x, y)),
    "lerp": ("torch.lerp(x, y, 0.25)", None),
    "xlogy": ("torch.xlogy(x, y)", None),
    "logaddexp": ("torch.logaddexp(x, y)", np.logaddexp),
    "clamp_tensor_bounds": ("torch.clamp(x, y, y + 1)", None),
    "compare": ("(x < y) | (x == y) | (x != y)", lambda x, y: (x < y) | (x == y) | (x != y)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_special_values_fused_match_eager_and_numpy(name):
    expr, ref = BINARY[name]
    boolean = name == "compare"
    tail = "| (x > 1e30)" if boolean else "* 1.0"
    src = f"def b_{name}(x, y):\n    x = x * 1.0\n    return ({expr}) {tail}\n"
    dts = ("float32", "float64", "float16") if name in ("fmod", "remainder", "floor_divide",
                                                        "maximum", "fmax", "div") \
        else ("float32",)
    for dt in dts:
        x, y = values(dt), values(dt, 3)
        want = None
        if ref is not None:
            with np.errstate(all="ignore"):
                r = ref(x.astype(np.float64), y.astype(np.float64))
                want = r | (x > 1e30) if boolean else r.astype(dt)
        run_all(src, f"b_{name}", [x, y], want, _UNARY_TOL[dt])


def test_float_floor_division_and_remainder_literals():
    # PyTorch: the quotient's sign from the operands (-0.0), the remainder the divisor's
    x = np.array([-0.0, 0.0, 1.0, -1.0, 5.0, -5.0, inf, 1.0], np.float32)
    y = np.array([3.0, -3.0, -inf, inf, -3.0, 3.0, 2.0, 0.0], np.float32)
    src = ("def fr(x, y):\n    x = x * 1.0\n"
           "    return torch.floor_divide(x, y) * 1.0, torch.remainder(x, y) * 1.0\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s, py = compiled(src, "fr")
        for f in (py, s, s, s):
            q, r = (t.numpy() for t in f(torch.from_numpy(x), torch.from_numpy(y)))
            same(q, np.array([-0.0, -0.0, -1.0, -1.0, -2.0, -2.0, nan, inf], np.float32), "q")
            same(r, np.array([-0.0, 0.0, -inf, inf, -1.0, 1.0, nan, nan], np.float32), "r")


# ------------------------------------------------------------------ integers

INT_EXPRS = {
    "add_wrap": ("(x + y) * 3", lambda x, y: (x + y) * 3),
    "mul_wrap": ("(x * y) - x", lambda x, y: x * y - x),
    "neg_abs": ("torch.abs(x) + torch.neg(x)", lambda x, y: np.abs(x) + np.negative(x)),
    "floor_divide": ("x // y", lambda x, y: x // y),
    "remainder": ("x % y", lambda x, y: x % y),
    "fmod": ("torch.fmod(x, y)", np.fmod),
    "true_div": ("x / y", lambda x, y: (x / y).astype(np.float32)),
    "shifts": ("(x << 3) + (x >> 2)", lambda x, y: (x << 3) + (x >> 2)),
    "shift_past_width": ("(x << 70) + (x >> 70)", None),
    "int_times_float": ("x * 1.5 + 2.5", None),
    "pow_tensor": ("torch.pow(x, torch.abs(y))", lambda x, y: np.power(x, np.abs(y))),
    "sign": ("torch.sign(x) * 3", lambda x, y: np.sign(x) * 3),
    "bitwise": ("(x & y) | (x ^ y)", lambda x, y: (x & y) | (x ^ y)),
    "compare_float": ("(x == 2.5) | (x < 1e10)", None),
    "clamp_in_range": ("torch.clamp(x, -1, 100)", None),
    "to_float16": ("x.half() * 2", None),
}


def _one(dt):
    """An op on the input x of dtype dt that the group takes in with the expression (x as
    it is for integers, int64 for bool) and that TorchScript keeps (its peephole drops
    `x * 1` of an int or float tensor): `| 0` for integers; bool * 1 (kept)."""
    return "* 1" if dt == "bool" else "| 0"


@pytest.mark.parametrize("name", sorted(INT_EXPRS))
def test_integer_edge_values_fused_match_eager_and_numpy(name):
    expr, ref = INT_EXPRS[name]
    for dt in ("int8", "int16", "int32", "int64", "uint8", "bool"):
        src = f"def i_{name}(x, y):\n    x = x {_one(dt)}\n    return {expr}\n"
        x, y = values(dt), divisors(dt)
        if dt == "bool" and name in ("neg_abs", "shifts", "shift_past_width", "bitwise",
                                     "mul_wrap"):
            continue          # (PyTorch refuses these for bool, as gpujit does)
        if dt == "bool" and name == "pow_tensor":
            continue
        if dt == "uint8" and name == "clamp_in_range":
            continue
        want = None
        if ref is not None and dt != "bool":
            with np.errstate(all="ignore"):
                want = np.asarray(ref(x, y))
                want = want.astype(x.dtype if want.dtype.kind in "iu" else want.dtype)
        run_all(src, f"i_{name}", [x, y], want)


def test_integer_edge_literals():
    x = np.array([-128, 127, -1, 0], np.int8)
    src = ("def lit(x, y):\n    x = x | 0\n"
           "    return x // y, x % y, torch.abs(x) | 0, (x << y) | 0, (x >> y) | 0\n")
    y = np.array([-1, -1, 8, -1], np.int8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s, py = compiled(src, "lit")
        for f in (py, s, s, s):
            d, r, a, sl, sr = (t.numpy() for t in f(torch.from_numpy(x), torch.from_numpy(y)))
            np.testing.assert_array_equal(d, [-128, -127, -1, 0])      # INT_MIN // -1 wraps
            np.testing.assert_array_equal(r, [0, 0, 7, 0])
            np.testing.assert_array_equal(a, [-128, 127, 1, 0])        # abs(INT_MIN) wraps
            np.testing.assert_array_equal(sl, [0, 0, 0, 0])            # shifts >= 8, < 0
            np.testing.assert_array_equal(sr, [-1, 0, -1, 0])
    u = np.array([0, 1, 255], np.uint8)
    s, _ = compiled("def un(x):\n    return -(x | 0) | 0\n", "un")
    for _ in range(3):
        np.testing.assert_array_equal(s(torch.from_numpy(u)).numpy(), [0, 255, 1])


def test_float_to_int_casts_of_nan_inf_huge_agree_with_eager():
    # implementation-defined in PyTorch; fused and eager gpujit must agree and not crash
    x = values("float32")
    for target in ("torch.int32", "torch.int64", "torch.uint8", "torch.int8", "torch.bool"):
        src = f"def c(x):\n    return (x * 1.0).to({target}) * 1\n"
        run_all(src, "c", [x])


@pytest.mark.parametrize("expr", ["x // y", "x % y", "torch.fmod(x, y)",
                                  "torch.div(x, y, rounding_mode='trunc')"])
def test_integer_division_by_zero_raises_fused_and_eager(expr):
    src = f"def z(x, y):\n    x = x | 0\n    return ({expr}) * 2\n"
    s, py = compiled(src, "z")
    x = torch.from_numpy(values("int32"))
    for _ in range(3):
        s(x, torch.from_numpy(divisors("int32")))
    for f in (py, s, s):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f(x, torch.from_numpy(values("int32", 3)))


def test_mixed_dtypes_half_with_0dim_double_and_int_by_float_scalar():
    h = np.array([1.0, 65504.0, -65504.0, 6e-8, nan, 0.1], np.float16)
    run_all("def m(x, s):\n    return (x * 1.0 + s) * 1.0\n", "m",
            [h, np.array(1e5, np.float64)],
            np.array([inf, inf, inf, inf, nan, inf], np.float16))     # 1e5: inf in float16
    i = np.array([-2**63, 2**63 - 1, 0, 3], np.int64)
    run_all("def n(x):\n    return (x * 1) * 2.5 + 1\n", "n", [i],
            (i.astype(np.float32) * np.float32(2.5) + 1).astype(np.float32))
    b = np.array([True, False, True])
    run_all("def bb(x, y):\n    return (x + x) * y\n", "bb", [b, np.array([1.5, 2.5, -0.0], np.float32)],
            np.array([1.5, 0.0, -0.0], np.float32))        # True + True is True


def test_float16_overflow_and_subnormals_round_per_op():
    h = np.array([300.0, -300.0, 6e-8, 1e-7, 65504.0, 0.0001], np.float16)
    want = ((h.astype(np.float32) * np.float32(300)).astype(np.float16).astype(np.float32)
            / np.float32(300)).astype(np.float16)
    run_all("def hh(x):\n    return (x * 300) / 300\n", "hh", [h], want)


# ------------------------------------------------------------------ errors PyTorch raises

@pytest.mark.parametrize("expr,dt", [
    ("torch.clamp(x, -3, 300)", "int8"), ("torch.clamp(x, -256)", "uint8"),
    ("torch.clamp_max(x, 200)", "int8"), ("F.hardtanh(x, -1000.0, 3.0)", "int8"),
    ("F.threshold(x, 3.0, 300.0)", "uint8"), ("x.masked_fill(x > 1, 300)", "int8"),
    ("torch.where(x > 1, x, -300)", "int8"), ("torch.add(x, x, alpha=300)", "uint8"),
    ("torch.addcmul(x, x, x, value=128)", "int8")])
def test_out_of_range_int_scalar_raises_as_pytorch(expr, dt):
    src = f"def o(x):\n    x = x | 0\n    return ({expr}) | 0\n"
    s, py = compiled(src, "o")
    x = torch.from_numpy(values(dt))
    ctype = {"int8": "int8_t", "uint8": "uint8_t"}[dt]
    msg = f"cannot be converted to type {ctype} without overflow"
    for f in (py, s, s, s):
        with pytest.raises(RuntimeError, match=msg):
            f(x)
    with pytest.raises(RuntimeError, match=msg):
        torch.jit.trace(py, (x,))


def test_in_range_int_scalars_convert_as_pytorch():
    u = np.array([0, 1, 200, 255], np.uint8)
    # -1 converts to 255 for uint8 (c10::checked_convert allows -max..max)
    run_all("def t1(x):\n    return torch.threshold(x | 0, -1, 2) | 0\n", "t1", [u],
            np.array([2, 2, 2, 2], np.uint8))
    run_all("def t2(x):\n    return torch.clamp(x | 0, -255, 100) | 0\n", "t2", [u],
            np.array([1, 1, 100, 100], np.uint8))
    run_all("def t3(x):\n    return (x | 0).masked_fill(x > 1, -1) | 0\n", "t3", [u],
            np.array([0, 1, 255, 255], np.uint8))
    run_all("def t4(x):\n    return ((x | 0) > 300) | ((x + 300) > 100)\n", "t4", [u],
            np.array([False, False, True, True]))                  # these wrap


def test_lerp_requires_matching_dtypes():
    f32, f64 = torch.ones(3), torch.ones(3, dtype=torch.float64)
    s, py = compiled("def l(x, y):\n    return torch.lerp(x * 1.0, y * 1.0, 0.5) * 1.0\n", "l")
    for f in (py, s, s, s):
        with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype "
                                               "double"):
            f(f32, f64)
    with pytest.raises(RuntimeError, match="expected dtype c10::Half for `weight` but got "
                                           "dtype float"):
        torch.lerp(f32.half(), f32.half(), torch.full((3,), 0.5))
    # a 0-dim weight of another dtype takes part in promotion, as PyTorch's
    assert torch.lerp(f32, f32, torch.tensor(0.5, dtype=torch.float64)).dtype == torch.float32


def test_scripted_lerp_with_a_number_weight_is_lerp_scalar():
    """As eager: int64 tensors are refused (lerp.Tensor would promote them with 0.5)."""
    s, py = compiled("def l(x, y):\n    return torch.lerp(x, y, 0.5)\n", "l")
    i = torch.arange(4)
    for f in (py, s, s, s):
        with pytest.raises(RuntimeError, match="\"lerp_kernel_scalar\" not implemented for .Long."):
            f(i, i * 2)
    x, y = torch.arange(4.0), torch.full((4,), 2.0)
    for _ in range(3):
        np.testing.assert_allclose(s(x, y).numpy(), [1.0, 1.5, 2.0, 2.5])


# ------------------------------------------------------------------ PyTorch as the oracle

_TORCH_ARTIFACTS = {"fmod", "remainder", "gelu", "tanhshrink", "erf", "logsigmoid"}


def test_eager_and_fused_match_pytorch_on_special_values():
    T = pytest.importorskip("torch")
    bad = []
    for name, (expr, _) in sorted(UNARY.items()):
        if name in _TORCH_ARTIFACTS or "|" in expr:
            continue
        src = f"def f_{name}(x):\n    return ({expr}) * 1.0\n"
        ns = {"torch": T, "F": T.nn.functional}
        exec(src, ns)
        x = values("float32")
        want = ns[f"f_{name}"](T.from_numpy(x.copy())).numpy()
        try:
            run_all(src, f"f_{name}", [x], want, 1e-4)
        except AssertionError as e:
            bad.append(str(e)[:300])
    assert not bad, "\n".join(bad)


# ------------------------------------------------------------------ on a CUDA device

@pytest.mark.cuda
def test_special_values_fused_on_cuda_match_cpu_eager():
    cases = [(f"def f_{n}(x):\n    return ({e}) * 1.0\n", f"f_{n}", [values("float32")])
             for n, (e, _) in sorted(UNARY.items()) if "|" not in e]
    cases += [(f"def b_{n}(x, y):\n    x = x * 1.0\n    return ({e}) * 1.0\n", f"b_{n}",
               [values("float32"), values("float32", 3)])
              for n, (e, _) in sorted(BINARY.items()) if n != "compare"]
    cases += [(f"def i_{n}(x, y):\n    x = x | 0\n    return {e}\n", f"i_{n}",
               [values("int32"), divisors("int32")]) for n, (e, _) in sorted(INT_EXPRS.items())]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for src, name, args in cases:
            s, py = compiled(src, name)
            with np.errstate(all="ignore"):
                want = py(*[torch.from_numpy(a.copy()) for a in args]).numpy()
            dev = [torch.from_numpy(a.copy()).cuda() for a in args]
            for _ in range(3):
                out = s(*dev)
            assert out.device.type == "cuda"
            same(out.cpu().numpy(), want, f"{name} on cuda", 1e-4 if want.dtype.kind == "f"
                 else 0.0)
    x = torch.from_numpy(values("int8")).cuda()
    s, _ = compiled("def o(x):\n    return torch.clamp(x | 0, -3, 300) | 0\n", "o")
    for _ in range(3):
        with pytest.raises(RuntimeError, match="cannot be converted to type int8_t"):
            s(x)


# ------------------------------------------------------------------ the CUDA simulator

SIM_SCRIPT = r"""
import test_fusion_special_values_s19 as h

for name in sorted(h.UNARY):
    h.test_unary_special_values_fused_match_eager_and_numpy(name)
for name in sorted(h.BINARY):
    h.test_binary_special_values_fused_match_eager_and_numpy(name)
for name in sorted(h.INT_EXPRS):
    h.test_integer_edge_values_fused_match_eager_and_numpy(name)
h.test_integer_edge_literals()
h.test_float_to_int_casts_of_nan_inf_huge_agree_with_eager()
h.test_float16_overflow_and_subnormals_round_per_op()
h.test_in_range_int_scalars_convert_as_pytorch()
assert SIM_KERNELS, "no group ran on the simulated CUDA target"
print(f"simulator: {{len(SIM_KERNELS)}} kernels passed")
"""


@pytest.mark.sim
def test_special_values_on_the_simulated_cuda_target():
    from test_fusion_sim_fuzz import PRELUDE, run_sim
    from test_kernels import session_cache_dir
    out = run_sim((PRELUDE + SIM_SCRIPT).format(tests=os.path.dirname(__file__)),
                  session_cache_dir())
    assert "kernels passed" in out, out
