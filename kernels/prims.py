"""The primitives generated kernels call, defined once per target.

A kernel body is the same text for every target; it calls named primitives (`_exp_f32`,
`_ifloordiv`, `_rh` ...) and each target's module header binds those names:

- cpu: numba (the kernel a `cfunc` over pointers, helpers `njit`, memory through the
  `_data`/`_ld_<t>`/`_st_<t>` intrinsics below). float32 exp/tanh are the vectorizable
  versions of kernels/cpu_math.py (PyPI's llvmlite has no SVML, so libm calls would keep
  the loop scalar); float16 arrays
  travel as uint16 and convert through LLVM's half type (numba's CPU target has no float16).
- cuda: numba.cuda device code; `math.*` lowers to libdevice.
- sim: the same kernel under numba's CUDA simulator, which runs it as Python on NumPy
  scalars: NumPy's functions, which keep float32 and never raise on inf/nan (Python's
  `math` returns float64 and raises on domain errors).

Only the primitives a kernel uses are emitted, each after those it calls.
"""
from __future__ import annotations

import numpy as np

from . import cpu_math
from .native import DATA_OFFSET
from gpujit.ops.half_libm import FUNCTIONS as _HALF_LIBM

__all__ = ["prelude", "prelude_parts", "HEADERS"]

TARGETS = ("cpu", "cuda", "sim")

HEADERS = {
    "cpu": ("import math\nimport numpy as np\nfrom numba import cfunc, njit\n"
            "from numba.core import types as _nbt\n"),
    "cuda": "import math\nimport numpy as np\nfrom numba import cuda\n",
    "sim": "import math\nimport numpy as np\nfrom numba import cuda\n",
}
_TYPES = ("_u8 = np.uint8\n_i8 = np.int8\n_i16 = np.int16\n_i32 = np.int32\n_i64 = np.int64\n"
          "_u64 = np.uint64\n"
          "_f16 = np.float16\n_f32 = np.float32\n_f64 = np.float64\n")
# CUDA helpers are inlined into the kernel's IR: a separately compiled device function
# would ask numba for the current GPU, and PTX for a given cc must compile without one
_DECORATOR = {"cpu": "@njit(error_model='numpy', nogil=True)",
              "cuda": "@cuda.jit(device=True, inline='always')",
              "sim": "@cuda.jit(device=True, inline='always')"}

_DEFS: dict = {}     # name -> (deps, {target: source})


def _define(name, source, deps=(), targets=TARGETS):
    srcs = source if isinstance(source, dict) else {t: source for t in targets}
    _DEFS[name] = (tuple(deps), srcs)


# ------------------------------------------------------------------ float functions
_MATH = {  # scalar-language name -> (math name, numpy name)
    "exp": ("exp", "exp"), "exp2": ("exp2", "exp2"), "expm1": ("expm1", "expm1"),
    "log": ("log", "log"), "log2": ("log2", "log2"), "log10": ("log10", "log10"),
    "log1p": ("log1p", "log1p"), "sqrt": ("sqrt", "sqrt"), "sin": ("sin", "sin"),
    "cos": ("cos", "cos"), "tan": ("tan", "tan"), "asin": ("asin", "arcsin"),
    "acos": ("acos", "arccos"), "atan": ("atan", "arctan"), "sinh": ("sinh", "sinh"),
    "cosh": ("cosh", "cosh"), "tanh": ("tanh", "tanh"), "asinh": ("asinh", "arcsinh"),
    "acosh": ("acosh", "arccosh"), "atanh": ("atanh", "arctanh"), "atan2": ("atan2", "arctan2"),
    "pow": ("pow", "power"), "fmod": ("fmod", "fmod"), "copysign": ("copysign", "copysign"),
    "hypot": ("hypot", "hypot"),
}


def _sim_alias(name, np_name):
    """The simulator's definition of `name` as NumPy's function np_name. NumPy's power of
    scalars takes sqrt for an exponent 0.5 (pow(-inf, 0.5) nan, pow(-0.0, 0.5) -0.0); its
    loop over arrays calls C's pow, which libdevice's pow agrees with (+inf, +0.0)."""
    if np_name != "power":
        return f"{name} = np.{np_name}\n"
    return (f"@DEVICE\ndef {name}(x, e):\n"
            f"    return np.power(np.reshape(x, 1), np.reshape(e, 1))[0]\n")


for _fn, (_m, _n) in _MATH.items():
    for _s in ("f32", "f64"):
        cpu = f"_{_fn}_{_s} = math.{_m}\n"
        if _fn == "fmod":                    # not in numba's CPU math module
            cpu = f"_{_fn}_{_s} = np.{_n}\n"
        if _fn == "exp2":                    # (an LLVM intrinsic: cpu_math.py)
            cpu = cpu_math.source(f"_exp2_{_s}")
        _define(f"_{_fn}_{_s}", {"cpu": cpu, "cuda": f"_{_fn}_{_s} = math.{_m}\n",
                                 "sim": _sim_alias(f"_{_fn}_{_s}", _n)})
# ldexp(x, n): C's, the exponent a C int (libm's on the CPU, libdevice's on CUDA)
for _s in ("f32", "f64"):
    _define(f"_ldexp_{_s}", {"cpu": f"_ldexp_{_s} = math.ldexp\n",
                             "cuda": f"_ldexp_{_s} = math.ldexp\n",
                             "sim": f"_ldexp_{_s} = np.ldexp\n"})
for _fn in ("erf", "erfc"):        # NumPy has none; Python's math.erf is total
    for _s in ("f32", "f64"):
        _define(f"_{_fn}_{_s}", f"_{_fn}_{_s} = math.{_fn}\n")
# lgamma: libm's (numba's CPU math, libdevice on CUDA): +inf at the poles and at +-inf.
# Python's math.lgamma raises there (and on overflow), so the simulator's tests them first.
_LGAMMA_SIM = """
@DEVICE
def _lgamma_{s}(x):
    xd = float(x)
    if xd != xd:
        return xd
    if xd == math.inf or xd == -math.inf or (xd <= 0.0 and xd == math.floor(xd)):
        return math.inf
    try:
        return math.lgamma(xd)
    except OverflowError:
        return math.inf
"""
for _s in ("f32", "f64"):
    _define(f"_lgamma_{_s}", {"cpu": f"_lgamma_{_s} = math.lgamma\n",
                              "cuda": f"_lgamma_{_s} = math.lgamma\n",
                              "sim": _LGAMMA_SIM.format(s=_s)})
for _fn in ("floor", "ceil", "trunc", "rint", "nextafter"):
    for _s in ("f32", "f64"):
        # math.floor & co. return ints on the CPU and in Python; CUDA's return floats
        cuda = f"_{_fn}_{_s} = math.{_fn}\n"
        if _fn == "rint":
            cuda = (f"from numba.cuda import libdevice as _libdevice\n"
                    f"_{_fn}_{_s} = _libdevice.{'rintf' if _s == 'f32' else 'rint'}\n")
        _define(f"_{_fn}_{_s}", {"cpu": f"_{_fn}_{_s} = np.{_fn}\n", "cuda": cuda,
                                 "sim": f"_{_fn}_{_s} = np.{_fn}\n"})

# the CPU's float32 exp / log / sin / cos, float32 / float64 tanh: NumPy's own algorithms
# (cpu_math.py) where this host's NumPy runs them, so that a fused kernel gives eager's
# bits (and the loop vectorizes: PyPI's llvmlite has no SVML); libm where NumPy calls libm
# too. libdevice on CUDA, NumPy's functions in the simulator.
_define("_llvm_helpers", {"cpu": cpu_math.source("_llvm_helpers")}, targets=("cpu",))
for _v in ("_vexp_f32", "_vlog_f32", "_vtanh_f32", "_vtanh_f64", "_vsin_f32", "_vcos_f32"):
    _define(_v, {"cpu": cpu_math.source(_v)}, deps=("_llvm_helpers",), targets=("cpu",))
for _fn, _s, _np_simd in (("exp", "f32", cpu_math.NUMPY_SIMD_EXP_LOG_F32),
                          ("log", "f32", cpu_math.NUMPY_SIMD_EXP_LOG_F32),
                          ("sin", "f32", cpu_math.NUMPY_SIMD_TANH),
                          ("cos", "f32", cpu_math.NUMPY_SIMD_TANH),
                          ("tanh", "f32", cpu_math.NUMPY_SIMD_TANH),
                          ("tanh", "f64", cpu_math.NUMPY_SIMD_TANH)):
    _define(f"_{_fn}_{_s}", {"cpu": (f"_{_fn}_{_s} = _v{_fn}_{_s}\n" if _np_simd
                                     else f"_{_fn}_{_s} = math.{_fn}\n"),
                             "cuda": f"_{_fn}_{_s} = math.{_fn}\n",
                             "sim": f"_{_fn}_{_s} = np.{_fn}\n"},
            deps=(f"_v{_fn}_{_s}",) if _np_simd else ())

# NumPy's SVML functions (cpu_math.SVML: AVX512 hosts, where NumPy computes them so),
# one call per element: eager's bits (the loop stays scalar, as with libm's)
for (_fn, _s) in cpu_math.SVML:
    _v = f"_svml_{_fn}_{_s}"
    _define(_v, {"cpu": cpu_math.source(_v)}, targets=("cpu",))
    _old = _DEFS[f"_{_fn}_{_s}"][1]
    _define(f"_{_fn}_{_s}", {**_old, "cpu": f"_{_fn}_{_s} = {_v}\n"}, deps=(_v,))

# NumPy's own inner loops on the CPU (kernels/emit.py's staged loops): where a float32 /
# float64 function's CPU primitive is NumPy's algorithm (tanh; sin / cos float32) or NumPy's
# SVML function, a kernel may instead compute its argument for a chunk of up to STAGE_CHUNK
# elements into a buffer on the stack (_stackbuf), call the NumPy loop eager runs on the
# whole chunk (_npl_<ufunc>_<s>: kernels/native.numpy_loop binds its symbol), and read the
# results back: eager's bits by construction, at NumPy's speed (its vector code holds the
# tables in registers where the kernel's own vector loop gathers them per element).
# NUMPY_LOOPS: primitive name -> (loop primitive, arity, numba type of its operands)
STAGE_CHUNK = 512
NUMPY_LOOPS = {}
_define("_stackbuf", {"cpu": f'''
@intrinsic
def _stackbuf(typingctx):
    sig = _nbt.voidptr()

    def codegen(context, builder, signature, args):
        with builder.goto_entry_block():        # (one allocation per call of the kernel)
            buf = builder.alloca(_llir.ArrayType(_llir.IntType(64), {STAGE_CHUNK}))
        buf.align = 64
        return builder.bitcast(buf, _llir.IntType(8).as_pointer())
    return sig, codegen
'''}, targets=("cpu",))
_NPL = '''
@intrinsic
def _npl_{name}(typingctx, {params}, n):
    sig = _nbt.void({ptrs}, _nbt.int64)

    def codegen(context, builder, signature, args):
        i8p, i64 = _llir.IntType(8).as_pointer(), _llir.IntType(64)
        fn = _cgutils.get_or_insert_function(builder.module, _llir.FunctionType(
            _llir.VoidType(), [i8p.as_pointer(), i64.as_pointer(), i64.as_pointer(), i8p]),
            "{symbol}")
        with builder.goto_entry_block():
            ptrs = builder.alloca(i8p, size=_llir.Constant(i64, {nargs}))
            steps = builder.alloca(i64, size=_llir.Constant(i64, {nargs}))
            dims = builder.alloca(i64)
        for k, a in enumerate(args[:-1]):       # (the operands, then the result)
            builder.store(a, builder.gep(ptrs, [_llir.Constant(i64, k)]))
            builder.store(_llir.Constant(i64, {itemsize}),
                          builder.gep(steps, [_llir.Constant(i64, k)]))
        builder.store(args[-1], dims)
        builder.call(fn, [ptrs, dims, steps, _llir.Constant(i8p, None)])
        return context.get_dummy_value()
    return sig, codegen
'''


def _numpy_loops():
    from .native import NUMPY_LOOP_PREFIX, numpy_loop
    fns = [(fn, s) for fn, s in (("tanh", "f32"), ("tanh", "f64"), ("sin", "f32"),
                                 ("cos", "f32")) if cpu_math.NUMPY_SIMD_TANH]
    for fn, s in fns + sorted(cpu_math.SVML):
        ufunc = _MATH[fn][1]
        symbol = f"{NUMPY_LOOP_PREFIX}{ufunc}_{s}"
        if numpy_loop(symbol) is None:
            continue
        arity = 2 if fn in ("pow", "atan2") else 1
        name = f"{ufunc}_{s}"
        _define(f"_npl_{name}", {"cpu": _NPL.format(
            name=name, params=", ".join(["x", "y"][:arity] + ["out"]),
            ptrs=", ".join(["_nbt.voidptr"] * (arity + 1)), symbol=symbol, nargs=arity + 1,
            itemsize=4 if s == "f32" else 8)}, targets=("cpu",))
        NUMPY_LOOPS[f"_{fn}_{s}"] = (f"_npl_{name}", arity,
                                     "float32" if s == "f32" else "float64")


_numpy_loops()

# float16 pow / atan2 (held in float32): NumPy's half loops call libm's powf / atan2f (SVML
# serves its float32 / float64 loops only)
for _fn in ("pow", "atan2"):
    _define(f"_{_fn}_h", {"cpu": f"_{_fn}_h = math.{_fn}\n", "cuda": f"_{_fn}_h = math.{_fn}\n",
                          "sim": _sim_alias(f"_{_fn}_h", _MATH[_fn][1])})

# the float16 ops of ops/half_libm.OPS (exp, log, sin ... held in float32): libm's float
# functions, as eager (PyTorch's halves; not NumPy's SVML half loops nor its float32 ones)
for _fn in _HALF_LIBM:
    _define(f"_{_fn}_h", {"cpu": (f"_{_fn}_h = _exp2_f32\n" if _fn == "exp2"
                                  else f"_{_fn}_h = math.{_fn}\n"),
                          "cuda": f"_{_fn}_h = math.{_fn}\n",
                          "sim": _sim_alias(f"_{_fn}_h", _MATH[_fn][1])},
            deps=("_exp2_f32",) if _fn == "exp2" else ())
    # (float64: C's function, for half_libm.SCALAR_KERNEL_OPS)
    _define(f"_{_fn}_d", {"cpu": (f"_{_fn}_d = _exp2_f64\n" if _fn == "exp2"
                                  else f"_{_fn}_d = math.{_fn}\n"),
                          "cuda": f"_{_fn}_d = math.{_fn}\n",
                          "sim": _sim_alias(f"_{_fn}_d", _MATH[_fn][1])},
            deps=("_exp2_f64",) if _fn == "exp2" else ())

# float16 functions whose libm float value and NumPy's float32 loop's value round to the
# same half for every one of the 65536 halves (checked over all of them: tests/
# test_special_speed_s50.py; expm1, log, log10, tan, asin, atan, cosh, asinh differ at 1-4
# halves and keep libm's per element). `_<fn>_hs` is the float16 op's function held in
# float32: libm's, and where NumPy exports the float32 loop a staged call of it
# (NUMPY_LOOPS): eager's halves either way, at NumPy's vector speed when staged. (float16
# exp calls `_exp_f32`, NumPy's own float32 algorithm, likewise the same halves.)
HALF_STAGED = ("exp2", "log2", "log1p", "sin", "cos", "acos", "sinh", "tanh", "acosh",
               "atanh")
for _fn in HALF_STAGED:
    _define(f"_{_fn}_hs", {t: src.replace(f"_{_fn}_h =", f"_{_fn}_hs =")
                           for t, src in _DEFS[f"_{_fn}_h"][1].items()},
            deps=_DEFS[f"_{_fn}_h"][0])
    if f"_{_fn}_f32" in NUMPY_LOOPS:
        NUMPY_LOOPS[f"_{_fn}_hs"] = NUMPY_LOOPS[f"_{_fn}_f32"]

# NumPy's floor division and remainder of floats (npy_divmod): the quotient snapped to
# an integer, the remainder with the divisor's sign (a zero remainder with the dividend's,
# as PyTorch's)
_FLOORDIV = """
@DEVICE
def _floordiv_{s}(a, b):
    if b == 0:
        return {F}(a / b)
    mod = _fmod_{s}(a, b)
    div = (a - mod) / b
    if mod != 0:
        if (b < 0) != (mod < 0):
            div = div - {F}(1.0)
    if div != 0:
        fd = {F}(_floor_{s}(div))
        if div - fd > {F}(0.5):
            fd = fd + {F}(1.0)
    else:
        fd = {F}(_copysign_{s}({F}(0.0), a / b))
    return {F}(fd)
"""
_REMAINDER = """
@DEVICE
def _remainder_{s}(a, b):
    mod = {F}(_fmod_{s}(a, b))
    if b == 0:
        return mod
    if mod != 0:
        if (b < 0) != (mod < 0):
            mod = mod + b
    return {F}(mod)
"""
# x ** e for a Python-number exponent e known only at run time: PyTorch's special cases
# (as the codegen emits them for a constant e), else pow
_SPOW = """
@DEVICE
def _spow_{s}(x, e):
    if e == 0.5:
        return {F}(_sqrt_{s}(x))
    if e == -0.5:
        return {F}({F}(1.0) / _sqrt_{s}(x))
    if e == 2.0:
        return {F}(x * x)
    if e == 3.0:
        return {F}(x * x * x)
    if e == -1.0:
        return {F}({F}(1.0) / x)
    if e == -2.0:
        return {F}({F}(1.0) / (x * x))
    return {F}(_pow_{s}(x, e))
"""
# C's float64 exp, log ... (libm's on the CPU) for the primitives of ATen's Math.h functions
# (kernels/prims_special.py's Cephes functions), as gpujit's eager ufuncs
# (ops/_special_kernels.py) and ATen call them: `_exp_f64` & co. are
# NumPy's (SVML's on AVX512 hosts), to match NumPy's eager exp
LIBM_F64 = ("exp", "log", "log1p", "sin", "cos", "sqrt", "acos")
for _fn in LIBM_F64:
    _define(f"_cm_{_fn}_f64", {"cpu": f"_cm_{_fn}_f64 = math.{_fn}\n",
                               "cuda": f"_cm_{_fn}_f64 = math.{_fn}\n",
                               "sim": f"_cm_{_fn}_f64 = np.{_MATH[_fn][1]}\n"})
# Giles' erfinv (as gpujit.ops.special): polynomial guess, two Newton steps, in float64
_ERFINV = """
@DEVICE
def _erfinv_{s}(x):
    xd = _f64(x)
    if xd != xd:
        return xd
    ax = abs(xd)
    if ax >= 1.0:
        if ax == 1.0:
            return _f64(_copysign_f64(math.inf, xd))
        return math.nan
    w = -_f64(_log_f64((1.0 - xd) * (1.0 + xd)))
    if w < 5.0:
        w = w - 2.5
        p = 2.81022636e-08
        p = p * w + 3.43273939e-07
        p = p * w + -3.5233877e-06
        p = p * w + -4.39150654e-06
        p = p * w + 0.00021858087
        p = p * w + -0.00125372503
        p = p * w + -0.00417768164
        p = p * w + 0.246640727
        p = p * w + 1.50140941
    else:
        w = _f64(_sqrt_f64(w)) - 3.0
        p = -0.000200214257
        p = p * w + 0.000100950558
        p = p * w + 0.00134934322
        p = p * w + -0.00367342844
        p = p * w + 0.00573950773
        p = p * w + -0.0076224613
        p = p * w + 0.00943887047
        p = p * w + 1.00167406
        p = p * w + 2.83297682
    y = p * xd
    for _ in range(2):
        y = y - (_f64(_erf_f64(y)) - xd) / (1.1283791670955126 * _f64(_exp_f64(-y * y)))
    return y
"""
# PyTorch's calc_digamma(double) (as gpujit.ops.special.digamma): reflection for x < 0,
# the recurrence up to 10, the asymptotic series; C's log and tan (math.*: libm on the CPU,
# not NumPy's SVML float64 ones), as ATen
_DIGAMMA = """
@DEVICE
def _digamma_{s}(x):
    xd = _f64(x)
    if xd == 0.0:
        return _f64(_copysign_f64(math.inf, -xd))
    refl = 0.0
    if xd < 0.0:
        t = _f64(_trunc_f64(xd))
        if xd == t:
            return math.nan
        refl = math.pi / _f64(math.tan(math.pi * (xd - t)))
        xd = 1.0 - xd
    result = 0.0
    while xd < 10.0:
        result = result - 1.0 / xd
        xd = xd + 1.0
    if xd == 10.0:
        return result + 2.25175258906672110764 - refl
    y = 0.0
    if xd < 1.0e17:
        z = 1.0 / (xd * xd)
        p = 8.33333333333333333333E-2
        p = p * z + -2.10927960927960927961E-2
        p = p * z + 7.57575757575757575758E-3
        p = p * z + -4.16666666666666666667E-3
        p = p * z + 3.96825396825396825397E-3
        p = p * z + -8.33333333333333333333E-3
        p = p * z + 8.33333333333333333333E-2
        y = z * p
    return result + _f64(math.log(xd)) - 0.5 / xd - y - refl
"""
# ATen's calc_digamma(float) (as gpujit.ops.special._digamma_f32_scalar): float32 steps,
# libm's logf (_log_h), the reflection's tan of a double libm's (math.tan)
_DIGAMMA_F32 = """
@DEVICE
def _digamma_f32(x):
    x = _f32(x)
    if x == 0.0:
        return _f32(_copysign_f32(math.inf, -x))
    refl = _f32(0.0)
    if x < 0.0:
        xd = _f64(x)
        t = _f64(_trunc_f64(xd))
        if xd == t:
            return _f32(math.nan)
        refl = _f32(math.pi / _f64(math.tan(math.pi * (xd - t))))
        x = _f32(_f32(1.0) - x)
    result = _f32(0.0)
    while x < _f32(10.0):
        result = _f32(result - _f32(_f32(1.0) / x))
        x = _f32(x + _f32(1.0))
    if x == _f32(10.0):
        return _f32(_f32(result + _f32(2.25175258906672110764)) - refl)
    y = _f32(0.0)
    if x < _f32(1.0e17):
        z = _f32(_f32(1.0) / _f32(x * x))
        p = _f32(8.33333333333333333333E-2)
        p = _f32(p * z + _f32(-2.10927960927960927961E-2))
        p = _f32(p * z + _f32(7.57575757575757575758E-3))
        p = _f32(p * z + _f32(-4.16666666666666666667E-3))
        p = _f32(p * z + _f32(3.96825396825396825397E-3))
        p = _f32(p * z + _f32(-8.33333333333333333333E-3))
        p = _f32(p * z + _f32(8.33333333333333333333E-2))
        y = _f32(z * p)
    r = _f32(_f32(result + _f32(_log_h(x))) - _f32(_f32(0.5) / x))
    return _f32(_f32(r - y) - refl)
"""
_define("_digamma_f32", _DIGAMMA_F32, deps=("_log_h", "_trunc_f64", "_copysign_f32"))
for _s, _F in (("f32", "_f32"), ("f64", "_f64")):
    if _s == "f64":
        _define(f"_digamma_{_s}", _DIGAMMA.format(s=_s), deps=("_trunc_f64", "_copysign_f64"))
    _define(f"_floordiv_{_s}", _FLOORDIV.format(s=_s, F=_F),
            deps=(f"_fmod_{_s}", f"_floor_{_s}", f"_copysign_{_s}"))
    _define(f"_remainder_{_s}", _REMAINDER.format(s=_s, F=_F), deps=(f"_fmod_{_s}",))
    _define(f"_spow_{_s}", _SPOW.format(s=_s, F=_F), deps=(f"_sqrt_{_s}", f"_pow_{_s}"))
    _define(f"_erfinv_{_s}", _ERFINV.format(s=_s),
            deps=("_log_f64", "_sqrt_f64", "_erf_f64", "_exp_f64", "_copysign_f64"))
# float16 floor division (a, b float16 values held in float32) by a divisor that does not
# read one element: PyTorch 2.13's CPU div_floor_floating_vec of Vectorized<Half>, every
# step rounded to half (as eager, ops/pointwise._floordiv_half)
_define("_floordiv_h", """
@DEVICE
def _floordiv_h(a, b):
    a = _rh(a)
    b = _rh(b)
    basic = _rh(a / b)
    if b == 0:
        return basic
    mod = _rh(_fmod_f32(a, b))
    if abs(basic) == math.inf and abs(a) != math.inf:
        fl = a
    else:
        fl = _rh(a - mod)
    div = _rh(fl / b)
    if mod != 0:
        if (b < 0) != (mod < 0):
            div = _rh(div - _f32(1.0))
    if div == 0:
        return _f32(_copysign_f32(_f32(0.0), basic))
    fd = _f32(_floor_f32(div))
    if _rh(div - fd) > _f32(0.5):
        fd = _rh(fd + _f32(1.0))
    return fd
""", deps=("_rh", "_fmod_f32", "_floor_f32", "_copysign_f32"))
# float64 a * b + c rounded once: LLVM's llvm.fma.f64 (correct with or without an FMA
# unit), CUDA's fma; the simulator through exact rationals (Fraction to float rounds once)
_define("_fma_f64", {"cpu": cpu_math.source("_fma_f64"), "cuda": """
@DEVICE
def _fma_f64(a, b, c):
    return cuda.fma(_f64(a), _f64(b), _f64(c))
""",
                     "sim": """
@DEVICE
def _fma_f64(a, b, c):
    from fractions import Fraction
    a, b, c = float(a), float(b), float(c)
    r = a * b + c
    if not (math.isfinite(a) and math.isfinite(b)) or c != c:
        return np.float64(r)
    if not math.isfinite(c):      # (the exact product is finite: fma(1.5, -max, inf) inf)
        return np.float64(c)
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if exact == 0:
        # IEEE's sign for a zero product plus a zero, +0. for other exact zeros
        return np.float64(r if a == 0 or b == 0 else 0.0)
    try:
        return np.float64(float(exact))
    except OverflowError:
        return np.float64(math.inf if exact > 0 else -math.inf)
"""})
# float16 erf on the CPU: ATen's vectorized float erf (as gpujit.ops._aten_erf_kernel):
# Abramowitz and Stegun 7.1.26 by FMAs, exp(-x^2) Sleef's expf_u10; CUDA's erff elsewhere
_define("_fma_f32", {"cpu": cpu_math.source("_fma_f32")}, targets=("cpu",))
_define("_sleef_expf_h", {"cpu": """
@DEVICE
def _sleef_expf_h(d):
    if d != d:
        return d
    if d < _f32(-104.0):
        return _f32(0.0)
    if d > _f32(100.0):
        return _f32(math.inf)
    q = np.int32(np.rint(_f32(d * _f32(1.442695040888963407359924681001892137426645954152985934))))
    qf = _f32(q)
    s = _fma_f32(qf, _f32(-0.693145751953125), d)
    s = _fma_f32(qf, _f32(-1.428606765330187045e-06), s)
    u = _f32(0.000198527617612853646278381)
    u = _fma_f32(u, s, _f32(0.00139304355252534151077271))
    u = _fma_f32(u, s, _f32(0.00833336077630519866943359))
    u = _fma_f32(u, s, _f32(0.0416664853692054748535156))
    u = _fma_f32(u, s, _f32(0.166666671633720397949219))
    u = _fma_f32(u, s, _f32(0.5))
    u = _f32(_f32(1.0) + _fma_f32(_f32(s * s), u, s))
    q1 = q >> 1
    u = _f32(u * _f32(math.ldexp(1.0, q1)))
    return _f32(u * _f32(math.ldexp(1.0, q - q1)))
"""}, deps=("_fma_f32",), targets=("cpu",))
_define("_erf_h", {"cpu": """
@DEVICE
def _erf_h(x):
    x = _f32(x)
    t = _f32(_f32(1.0) / _fma_f32(_f32(0.3275911), abs(x), _f32(1.0)))
    r = _fma_f32(_f32(1.061405429), t, _f32(-1.453152027))
    r = _fma_f32(r, t, _f32(1.421413741))
    r = _fma_f32(r, t, _f32(-0.284496736))
    r = _fma_f32(r, t, _f32(0.254829592))
    e = _sleef_expf_h(-_f32(x * x))
    v = _fma_f32(_f32(-e * t), r, _f32(1.0))
    return _f32(math.copysign(v, x))
""", "cuda": "_erf_h = math.erf\n", "sim": "_erf_h = math.erf\n"},
        deps=("_fma_f32", "_sleef_expf_h"))
# x ** e of a float16 x (held in float32) and a Python-number exponent e: PyTorch's CPU
# kernel for float16 is plain pow (pow(-0, 0.5) = +0, pow(-inf, 0.5) = +inf) of e rounded
# to float16 (as NumPy's: x ** 1.7 is x ** 1.7001953125; a float64 e reaches float16
# through float32 here, which can differ only at a float16 tie), its CUDA
# kernel takes sqrt, rsqrt and 1/x for 0.5, -0.5 and -1 as for every float dtype (as
# eager gpujit: NumPy arrays, CuPy arrays); the simulator's reference is eager NumPy
# (NumPy's float32 power takes sqrt for 0.5: the simulator computes in float16)
_define("_hpow_f32", {"cpu": "@DEVICE\ndef _hpow_f32(x, e):\n"
                             "    return _pow_h(x, _rh(_f32(e)))\n",
                      "cuda": "_hpow_f32 = _spow_f32\n",
                      "sim": "@DEVICE\ndef _hpow_f32(x, e):\n"
                             "    return _f32(np.power(_f16(x), _f16(e)))\n"},
        deps=("_pow_h", "_spow_f32", "_rh"))

# the float16 after x in the direction of y, x and y float16 values held in float32
_define("_nextafter_f16", """
@DEVICE
def _nextafter_f16(x, y):
    xd = _f64(x)
    yd = _f64(y)
    if xd != xd or yd != yd:
        return _f32(xd + yd)
    if xd == yd:
        return _f32(yd)
    if xd == 0.0:
        return _f32(5.960464477539063e-08 if yd > 0.0 else -5.960464477539063e-08)
    ax = abs(xd)
    toward_zero = (yd < xd) == (xd > 0.0)
    if ax == math.inf:
        r = 65504.0
    else:
        m, e = math.frexp(ax)
        ulp = math.ldexp(1.0, e - 11)
        if ulp < 5.960464477539063e-08:
            ulp = 5.960464477539063e-08
        if toward_zero and m == 0.5 and ulp > 5.960464477539063e-08:
            ulp = ulp * 0.5
        r = ax - ulp if toward_zero else ax + ulp
    return _f32(r if xd > 0.0 else -r)
""")

# ------------------------------------------------------------------ integers
# NumPy's results where C's are undefined: a zero divisor gives 0 (on the CPU the kernel
# also counts it and the launcher raises, as eager gpujit does), INT_MIN // -1 wraps,
# shifts by a count outside [0, bits) give 0 (or the sign for >>), negative integer
# powers follow PyTorch (1 -> 1, -1 -> +-1, else 0)
# int64 arithmetic that wraps as NumPy's and PyTorch's: numba's signed operations carry
# LLVM's `nsw` (overflow is undefined), which lets the optimizer fold `x * x == 0` to
# `x == 0`; unsigned operations wrap. (Narrower ints compute in int64 and cannot overflow.)
# An operand goes through int64 first: a weakly typed integer (sign's `where(x > 0, 1, 0)
# - ...`) is a Python int under the CUDA simulator, and NumPy refuses uint64(-1) there.
for _name, _expr in (("_wadd", "_u64(_i64(a)) + _u64(_i64(b))"),
                     ("_wsub", "_u64(_i64(a)) - _u64(_i64(b))"),
                     ("_wmul", "_u64(_i64(a)) * _u64(_i64(b))")):
    _define(_name, f"@DEVICE\ndef {_name}(a, b):\n    return _i64({_expr})\n")
_define("_wneg", "@DEVICE\ndef _wneg(a):\n    return _i64(_u64(0) - _u64(_i64(a)))\n")
_define("_ifloordiv", """
@DEVICE
def _ifloordiv(a, b):
    a = _i64(a)
    b = _i64(b)
    if b == 0:
        return _i64(0)
    if b == -1:
        return _wneg(a)
    return a // b
""", deps=("_wneg",))
_define("_imod", """
@DEVICE
def _imod(a, b):
    a = _i64(a)
    b = _i64(b)
    if b == 0 or b == -1:
        return _i64(0)
    return a % b
""")
_define("_ifmod", """
@DEVICE
def _ifmod(a, b):
    a = _i64(a)
    b = _i64(b)
    if b == 0 or b == -1:
        return _i64(0)
    r = a % b
    if r != 0 and (r < 0) != (a < 0):
        r = r - b
    return r
""")
_define("_ipow", """
@DEVICE
def _ipow(a, b):
    a = _i64(a)
    b = _i64(b)
    if b < 0:
        if a == 1:
            return _i64(1)
        if a == -1:
            return _i64(1) if b % 2 == 0 else _i64(-1)
        return _i64(0)
    r = _i64(1)
    while b > 0:
        if b & 1:
            r = _wmul(r, a)
        a = _wmul(a, a)
        b = b >> 1
    return r
""", deps=("_wmul",))
_define("_shl", """
@DEVICE
def _shl(a, b, bits):
    a = _i64(a)
    b = _i64(b)
    if b < 0 or b >= bits:
        return _i64(0)
    return a << b
""")
_define("_shr", """
@DEVICE
def _shr(a, b, bits):
    a = _i64(a)
    b = _i64(b)
    if b < 0 or b >= bits:
        return _i64(-1) if a < 0 else _i64(0)
    return a >> b
""")

# float -> integer conversions, where C's are undefined (nan, inf, out of range: LLVM's
# fptosi gives poison, which the optimizer exploits). The CPU follows what NumPy does on
# this host, on every target, so that fused code agrees with eager CPU code everywhere
# (GPU-vs-CPU checks compare with the CPU); on x86 that is the cvtt instructions'
# "integer indefinite": int64 and int32 get their minimum, narrower types the int32
# result's low bits. Elsewhere (a host whose NumPy saturates), saturation (nan -> 0).
# Eager CuPy conversions follow the same rule (gpujit/ops/conversion.py), as PyTorch's
# agree across devices.
_F2I_X86 = """
@DEVICE
def _f2i_{t}(v):
    d = _f64(v)
    if d != d or d >= {hi} or d <= {lo}:
        return _i64({indefinite})
    return _i64(d)
"""
_F2I_SAT = """
@DEVICE
def _f2i_{t}(v):
    d = _f64(v)
    if d != d:
        return _i64(0)
    if d >= {max}.0:
        return _i64({max})
    if d <= {min}.0:
        return _i64({min})
    return _i64(d)
"""


from gpujit.dtypes import HOST_X86_CONVERSIONS, x86_conversion_range  # noqa: E402
for _t in ("int64", "int32", "int16", "int8", "uint8"):
    _info = np.iinfo(_t)
    _, _lo, _hi, _indefinite = x86_conversion_range(_t)
    _x86 = _F2I_X86.format(t=_t, hi=repr(_hi), lo=repr(_lo), indefinite=_indefinite)
    _sat = _F2I_SAT.format(t=_t, max=_info.max, min=_info.min)
    _define(f"_f2i_{_t}", _x86 if HOST_X86_CONVERSIONS else _sat)

# ------------------------------------------------------------------ float16
# _ld16: a loaded float16 element as float32; _st16: a float32 as the stored element;
# _rh: a float32 rounded to the nearest float16 (kept in float32)
_define("_ld16", {"cpu": "_ld16 = _h2f\n", "cuda": "_ld16 = np.float32\n",
                  "sim": "_ld16 = np.float32\n"}, deps=("_h2f",))
_define("_st16", {"cpu": "_st16 = _f2h\n", "cuda": "_st16 = np.float16\n",
                  "sim": "_st16 = np.float16\n"}, deps=("_f2h",))
_RH = "@DEVICE\ndef _rh(x):\n    return np.float32(np.float16(x))\n"
_define("_rh", {"cpu": cpu_math.source("_rh"), "cuda": _RH, "sim": _RH})
_define("_h2f", {"cpu": cpu_math.source("_h2f")}, targets=("cpu",))
_define("_f2h", {"cpu": cpu_math.source("_f2h")}, targets=("cpu",))

# ------------------------------------------------------------------ select
# _sel(c, a, b): a where c else b, both evaluated (every primitive is total: integer
# division by zero, shifts out of range... return a value, nothing traps). On the CPU an
# LLVM `select`, no branch: a Python ternary `a if c else b` makes numba's IR two blocks
# more, and numba's SSA reconstruction and reaching-definitions analysis grow with blocks
# times variables, so a fused chain of a few hundred relu / clamp / where ops compiled in
# tens of seconds (kernels/scalar_codegen.py emits _sel for where / minimum / fmax ...).
_SEL = "@DEVICE\ndef _sel(c, a, b):\n    return a if c else b\n"
_define("_sel", {"cpu": """
@intrinsic
def _sel(typingctx, c, a, b):
    ta, tb = _nbt.unliteral(a), _nbt.unliteral(b)
    t = ta if ta == tb else typingctx.unify_types(ta, tb)
    if t is None or isinstance(t, _nbt.Optional):
        return None
    sig = t(c, a, b)

    def codegen(context, builder, signature, args):
        ca, aa, ba = signature.args
        cond = context.cast(builder, args[0], ca, _nbt.boolean)
        return builder.select(cond, context.cast(builder, args[1], aa, t),
                              context.cast(builder, args[2], ba, t))
    return sig, codegen
""", "cuda": _SEL, "sim": _SEL})


# ------------------------------------------------------------------ CPU memory access
# CPU kernels take tensors as ndarray objects and read and write their memory through
# pointers (kernels/native.py): _data(obj) is the data pointer, _ld_<t>(p, k) element k of
# a <t> array at p (k may be negative: strides are relative to the data pointer),
# _st_<t>(p, k, v) stores v (cast to <t> by numba at the call)
_define("_data", {"cpu": f'''
@intrinsic
def _data(typingctx, obj):
    sig = _nbt.voidptr(_nbt.voidptr)

    def codegen(context, builder, signature, args):
        i8p = _llir.IntType(8).as_pointer()
        slot = builder.gep(builder.bitcast(args[0], i8p),
                           [_llir.Constant(_llir.IntType(64), {DATA_OFFSET})])
        return builder.load(builder.bitcast(slot, i8p.as_pointer()))
    return sig, codegen
'''}, targets=("cpu",))
_LD = '''
@intrinsic
def _ld_{t}(typingctx, ptr, k):
    sig = _nbt.{t}(_nbt.voidptr, _nbt.int64)

    def codegen(context, builder, signature, args):
        dm = context.data_model_manager[_nbt.{t}]
        p = builder.bitcast(args[0], dm.get_data_type().as_pointer())
        return dm.from_data(builder, builder.load(builder.gep(p, [args[1]])))
    return sig, codegen
'''
_ST = '''
@intrinsic
def _st_{t}(typingctx, ptr, k, v):
    sig = _nbt.void(_nbt.voidptr, _nbt.int64, _nbt.{t})

    def codegen(context, builder, signature, args):
        dm = context.data_model_manager[_nbt.{t}]
        p = builder.bitcast(args[0], dm.get_data_type().as_pointer())
        builder.store(dm.as_data(builder, args[2]), builder.gep(p, [args[1]]))
        return context.get_dummy_value()
    return sig, codegen
'''
for _t in ("boolean", "uint8", "int8", "int16", "int32", "int64", "uint16", "float32",
           "float64"):
    _define(f"_ld_{_t}", {"cpu": _LD.format(t=_t)}, targets=("cpu",))
    _define(f"_st_{_t}", {"cpu": _ST.format(t=_t)}, targets=("cpu",))


# ------------------------------------------------------------------ CUDA vector access
# _ld4(a, j): elements j..j+3 of 1-D array a in one load (ld.global.v4 for 4-byte types),
# _st4(a, j, r0, r1, r2, r3) stores four. j must be a multiple of 4 and a's data pointer
# 16-byte aligned (the launcher checks; the kernel falls back to its scalar loop). numba
# knows only the element's alignment, so its loads stay scalar: a fused kernel then reaches
# ~75% of a copy's bandwidth on an H200, ~100% with these (benchmarks/fusion.py).
_VEC_PTR = """
def _vec_ptr(context, builder, aryty, ary, j):
    data = context.make_array(aryty)(context, builder, ary).data
    elt = context.get_data_type(aryty.dtype)
    vty = _llir.VectorType(elt, 4)
    align = min(16, 4 * context.get_abi_sizeof(elt))
    return builder.bitcast(builder.gep(data, [j]), vty.as_pointer()), align
"""
_define("_vec_ptr", {"cuda": _VEC_PTR}, targets=("cuda",))
_define("_ld4", {"cuda": """
@intrinsic
def _ld4(typingctx, ary, j):
    from numba.core import types as _nbt
    sig = _nbt.UniTuple(ary.dtype, 4)(ary, j)

    def codegen(context, builder, signature, args):
        ptr, align = _vec_ptr(context, builder, signature.args[0], args[0], args[1])
        v = builder.load(ptr, align=align)
        dm = context.data_model_manager[signature.args[0].dtype]
        lanes = [dm.from_data(builder, builder.extract_element(v, _llir.Constant(
            _llir.IntType(32), k))) for k in range(4)]
        return context.make_tuple(builder, signature.return_type, lanes)
    return sig, codegen
""", "sim": """
@DEVICE
def _ld4(a, j):
    return a[j], a[j + 1], a[j + 2], a[j + 3]
"""}, deps=("_vec_ptr",), targets=("cuda", "sim"))
_define("_st4", {"cuda": """
@intrinsic
def _st4(typingctx, ary, j, r0, r1, r2, r3):
    from numba.core import types as _nbt
    sig = _nbt.void(ary, j, ary.dtype, ary.dtype, ary.dtype, ary.dtype)

    def codegen(context, builder, signature, args):
        ptr, align = _vec_ptr(context, builder, signature.args[0], args[0], args[1])
        dm = context.data_model_manager[signature.args[0].dtype]
        v = _llir.Constant(ptr.type.pointee, _llir.Undefined)
        for k in range(4):
            v = builder.insert_element(v, dm.as_data(builder, args[2 + k]),
                                       _llir.Constant(_llir.IntType(32), k))
        builder.store(v, ptr, align=align)
        return context.get_dummy_value()
    return sig, codegen
""", "sim": """
@DEVICE
def _st4(a, j, r0, r1, r2, r3):
    a[j] = r0
    a[j + 1] = r1
    a[j + 2] = r2
    a[j + 3] = r3
"""}, deps=("_vec_ptr",), targets=("cuda", "sim"))


def emulation_text(text):
    """A CUDA kernel module's text with its LLVM-level primitives (the vector accesses)
    replaced by the simulator's Python definitions, for running it as Python (the test
    emulators of CUDA launches)."""
    for name in ("_ld4", "_st4", "_vec_ptr"):
        cuda_src = _DEFS[name][1]["cuda"].strip("\n") + "\n"
        sim_src = _DEFS[name][1].get("sim", "").replace("@DEVICE\n", "").strip("\n")
        text = text.replace(cuda_src, sim_src + "\n" if sim_src else "")
    if "@intrinsic" not in text:
        text = text.replace(cpu_math.INTRINSIC_IMPORTS, "")
    return text


def _closure(names, target):
    order, seen = [], set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        deps, srcs = _DEFS[n]
        for d in deps:
            if target in _DEFS[d][1]:
                visit(d)
        order.append(n)

    for n in sorted(names):
        if n not in _DEFS:
            raise KeyError(f"no primitive {n!r}")
        visit(n)
    return order


# torch.special's ndtri / erfcx / log_ndtr, Bessel functions, airy_ai and orthogonal
# polynomials: their own module (it defines its primitives with _define on import)
from . import prims_special as _prims_special  # noqa: E402
del _prims_special


def prelude_parts(target: str, names) -> list:
    """The pieces of `prelude(target, names)`, in order, as (key, text): the imports
    ("header", "intrinsic imports"), the dtype aliases ("types") and each primitive's
    definition under its name. A piece's text depends on its key only (in one process),
    so a CPU kernel module's pieces can be defined once per process and shared
    (kernels/targets.py)."""
    parts = [("header", HEADERS[target]), ("types", _TYPES)]
    needs_intrinsics = False
    for n in _closure(names, target):
        src = _DEFS[n][1].get(target)
        if src is None:
            raise KeyError(f"primitive {n!r} has no {target} definition")
        needs_intrinsics |= "@intrinsic" in src
        parts.append((n, src.replace("@DEVICE", _DECORATOR[target]).strip("\n") + "\n"))
    if needs_intrinsics:
        parts.insert(1, ("intrinsic imports", cpu_math.INTRINSIC_IMPORTS))
    return parts


def prelude(target: str, names) -> str:
    """The module header of a kernel for `target`: imports, dtype aliases and the
    primitives in `names` (with what they call), in dependency order."""
    return "\n".join(text for _, text in prelude_parts(target, names))
