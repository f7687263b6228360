"""Fused-kernel primitives of torch.special's ndtri / erfcx / log_ndtr, Bessel functions,
airy_ai and orthogonal polynomials: per element, the algorithms gpujit/ops/special_more.py
runs as array code (PyTorch's, from ATen's Math.h), with the same coefficient tables
(gpujit/ops/special_coeffs.py) unrolled into Horner / Clenshaw steps.

The unary functions compute in float64 whatever the suffix (as eager code does; the
codegen rounds the result to float32 for `_f32`). The polynomials compute in their own
dtype (`F`: _f32 or _f64, every step rounded to it, as PyTorch's kernels and eager gpujit:
a float32 recurrence overflows where a float64 one would not).
"""
from __future__ import annotations

import re as _re

from gpujit.ops import special_coeffs as C

from .prims import _DEFS, _define, LIBM_F64

__all__ = ["UNARY", "BINARY"]

# scalar-language names -> the primitive family they call (`_<name>_f32` / `_<name>_f64`)
UNARY = ("ndtri", "erfcx", "log_ndtr", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
         "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
         "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
         "spherical_bessel_j0", "airy_ai")
BINARY = tuple(f"{s}chebyshev_polynomial_{k}" for s in ("", "shifted_") for k in "tuvw") + (
    "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
    "legendre_polynomial_p")

_MATH_DEPS = ("_log_f64", "_log1p_f64", "_exp_f64", "_sqrt_f64", "_sin_f64", "_cos_f64",
              "_erfc_f64")


def _horner(var, coeffs, z, indent="    "):
    """Lines computing var = polevl(z, coeffs)."""
    lines = [f"{indent}{var} = {coeffs[0]!r}"]
    lines += [f"{indent}{var} = {var} * {z} + {c!r}" for c in coeffs[1:]]
    return "\n".join(lines) + "\n"


def _clenshaw(var, coeffs, t, indent="    "):
    """Lines computing var = chbevl(t, coeffs) (0.5 (b0 - b2))."""
    lines = [f"{indent}b0 = {coeffs[0]!r}", f"{indent}b1 = 0.0", f"{indent}b2 = 0.0"]
    for c in coeffs[1:]:
        lines += [f"{indent}b2 = b1", f"{indent}b1 = b0", f"{indent}b0 = {t} * b1 - b2 + {c!r}"]
    lines.append(f"{indent}{var} = 0.5 * (b0 - b2)")
    return "\n".join(lines) + "\n"


def _unary(name, body, deps=()):
    """Define _<name>_f32 / _<name>_f64 from the body of a float64 function of xd."""
    for s in ("f32", "f64"):
        src = (f"\n@DEVICE\ndef _{name}_{s}(x):\n    xd = _f64(x)\n"
               + body.replace("{s}", s))
        _define(f"_{name}_{s}", src, deps=tuple(d.replace("{s}", s) for d in deps)
                + _MATH_DEPS)


# ------------------------------------------------------------------ ndtri, erfcx, log_ndtr

_unary("ndtri", """\
    if xd != xd:
        return xd
    if xd == 0.0:
        return -math.inf
    if xd == 1.0:
        return math.inf
    if xd < 0.0 or xd > 1.0:
        return math.nan
    code = True
    y = xd
    if y > 1.0 - 0.13533528323661269189:
        y = 1.0 - y
        code = False
    if y > 0.13533528323661269189:
        y = y - 0.5
        y2 = y * y
""" + _horner("p", C._NDTRI_P0, "y2", "        ") + _horner("q", C._NDTRI_Q0, "y2", "        ")
    + """\
        return (y + y * (y2 * p / q)) * 2.5066282746310007
    r = _f64(_sqrt_f64(-2.0 * _f64(_log_f64(y))))
    x0 = r - _f64(_log_f64(r)) / r
    z = 1.0 / r
    if r < 8.0:
""" + _horner("p", C._NDTRI_P1, "z", "        ") + _horner("q", C._NDTRI_Q1, "z", "        ")
    + """\
    else:
""" + _horner("p", C._NDTRI_P2, "z", "        ") + _horner("q", C._NDTRI_Q2, "z", "        ")
    + """\
    r = x0 - z * p / q
    if code:
        r = -r
    return r
""")

# exp(x^2) with x^2 a double-double (Dekker's split), as special_more._exp_square
_define("_expsq_f64", """
@DEVICE
def _expsq_f64(x):
    c = 134217729.0 * x
    hi = c - (c - x)
    lo = x - hi
    sq = x * x
    err = ((hi * hi - sq) + 2.0 * hi * lo) + lo * lo
    return _f64(_exp_f64(sq)) * (1.0 + err)
""", deps=("_exp_f64",))
_define("_erfcx_pos_f64", """
@DEVICE
def _erfcx_pos_f64(x):
    if x < 10.0:
        return _expsq_f64(x) * _f64(_erfc_f64(x))
    if x > 50.0:
        if x > 5e7:
            return 0.5641895835477563 / x
        x2 = x * x
        return 0.5641895835477563 * (x2 * (x2 + 4.5) + 2.0) / (x * (x2 * (x2 + 5.0) + 3.75))
    inv = 1.0 / (2.0 * x * x)
    term = 1.0
    total = 1.0
    for k in range(1, 21):
        term = term * -(2.0 * k - 1.0) * inv
        total = total + term
    return total * 0.5641895835477563 / x
""", deps=("_expsq_f64", "_erfc_f64"))
_ERFCX_BODY = """\
    if xd != xd:
        return xd
    if xd >= 0.0:
        return _erfcx_pos_f64(xd)
    if xd < -26.7:
        return math.inf
    if xd < -6.1:
        return 2.0 * _expsq_f64(xd)
    return 2.0 * _expsq_f64(xd) - _erfcx_pos_f64(-xd)
"""
_unary("erfcx", _ERFCX_BODY, deps=("_erfcx_pos_f64", "_expsq_f64"))
# float32 (CUDA, the simulator): x^2 rounded to float before the exp for x < 0, as ATen's
# float steps and the CPU's (ops/_special_kernels._erfcx_32_py): exp of the exact x^2 was
# up to 1.6e-6 away (x ~ -7.8), past assert_consistent's float32 rtol
_deps, _srcs = _DEFS["_erfcx_f32"]
_define("_erfcx_f32", {t: src.replace("_expsq_f64(xd)", "_f64(_exp_f64(_f64(_f32(xd * xd))))")
                       for t, src in _srcs.items()}, deps=_deps)
_unary("log_ndtr", """\
    t = xd * 0.7071067811865476
    if xd < -1.0:
        return _f64(_log_f64(_erfcx_f64(-t) / 2.0)) - t * t
    return _f64(_log1p_f64(-_f64(_erfc_f64(t)) / 2.0))
""", deps=("_erfcx_f64",))


# ------------------------------------------------------------------ Bessel functions

def _hankel(shift, pp, pq, qp, qq, y_form, indent="    "):
    i = indent
    return (f"{i}z = 25.0 / (xd * xd)\n" + _horner("pp", pp, "z", i) + _horner("pq", pq, "z", i)
            + _horner("qp", qp, "z", i) + _horner("qq", qq, "z", i)
            + f"{i}p = pp / pq\n{i}q = 5.0 / xd * (qp / qq)\n"
            + f"{i}s = _f64(_sin_f64(xd - {shift!r}))\n{i}c = _f64(_cos_f64(xd - {shift!r}))\n"
            + (f"{i}r = p * s + q * c\n" if y_form else f"{i}r = p * c - q * s\n")
            + f"{i}return r * 0.7978845608028654 / _f64(_sqrt_f64(xd))\n")


_PIO4, _3PIO4 = 0.7853981633974483, 2.356194490192345

_unary("bessel_j0", """\
    if xd < 0.0:
        xd = -xd
    if xd <= 5.0:
        z = xd * xd
        if xd < 1e-5:
            return 1.0 - z / 4.0
""" + _horner("rp", C._BESSEL_J0_RP, "z", "        ") + _horner("rq", C._BESSEL_J0_RQ, "z",
                                                                  "        ")
    + """\
        return (z - 5.78318596294678452118e+00) * (z - 3.04712623436620863991e+01) * rp / rq
""" + _hankel(_PIO4, C._BESSEL_J0_PP, C._BESSEL_J0_PQ, C._BESSEL_J0_QP, C._BESSEL_J0_QQ,
              False))
_unary("bessel_j1", """\
    if xd <= 5.0 and xd >= -5.0:
        z = xd * xd
""" + _horner("rp", C._BESSEL_J1_RP, "z", "        ") + _horner("rq", C._BESSEL_J1_RQ, "z",
                                                                  "        ")
    + """\
        return rp / rq * xd * (z - 1.46819706421238932572e+01) * (z - 4.92184563216946036703e+01)
    neg = xd < 0.0
    if neg:
        xd = -xd
    z = 25.0 / (xd * xd)
""" + _horner("pp", C._BESSEL_J1_PP, "z") + _horner("pq", C._BESSEL_J1_PQ, "z")
    + _horner("qp", C._BESSEL_J1_QP, "z") + _horner("qq", C._BESSEL_J1_QQ, "z") + f"""\
    r = (pp / pq * _f64(_cos_f64(xd - {_3PIO4!r})) - 5.0 / xd * (qp / qq)
         * _f64(_sin_f64(xd - {_3PIO4!r}))) * 0.7978845608028654 / _f64(_sqrt_f64(xd))
    if neg:
        return -r
    return r
""")
_unary("bessel_y0", """\
    if xd <= 5.0:
        if xd == 0.0:
            return -math.inf
        if xd < 0.0:
            return math.nan
        z = xd * xd
""" + _horner("yp", C._BESSEL_Y0_YP, "z", "        ") + _horner("yq", C._BESSEL_Y0_YQ, "z",
                                                                  "        ")
    + """\
        return yp / yq + 0.6366197723675814 * _f64(_log_f64(xd)) * _f64(_bessel_j0_f64(xd))
""" + _hankel(_PIO4, C._BESSEL_J0_PP, C._BESSEL_J0_PQ, C._BESSEL_J0_QP, C._BESSEL_J0_QQ,
              True), deps=("_bessel_j0_f64",))
_unary("bessel_y1", """\
    if xd <= 5.0:
        if xd == 0.0:
            return -math.inf
        if xd < 0.0:
            return math.nan
        z = xd * xd
""" + _horner("yp", C._BESSEL_Y1_YP, "z", "        ") + _horner("yq", C._BESSEL_Y1_YQ, "z",
                                                                  "        ")
    + """\
        return xd * (yp / yq) + 0.6366197723675814 * (_f64(_bessel_j1_f64(xd))
                                                     * _f64(_log_f64(xd)) - 1.0 / xd)
""" + _hankel(_3PIO4, C._BESSEL_J1_PP, C._BESSEL_J1_PQ, C._BESSEL_J1_QP, C._BESSEL_J1_QQ,
              True), deps=("_bessel_j1_f64",))
_unary("spherical_bessel_j0", """\
    if xd == math.inf or xd == -math.inf:
        return 0.0
    if abs(xd) < 0.5:
        z = xd * xd
""" + _horner("p", (1 / 6227020800.0, -1 / 39916800.0, 1 / 362880.0, -1 / 5040.0, 1 / 120.0,
                    -1 / 6.0, 1.0), "z", "        ") + """\
        return p
    return _f64(_sin_f64(xd)) / xd
""")

# modified Bessel functions: Chebyshev series in |x|/2 - 2 (<= 8) and 32/|x| - 2 (I), in
# x^2 - 2 (<= 2) and 8/x - 2 (K)
_unary("modified_bessel_i0", """\
    a = abs(xd)
    e = _f64(_exp_f64(a))
    if a <= 8.0:
        t = a / 2.0 - 2.0
""" + _clenshaw("r", C._MB_I0_A, "t", "        ") + """\
        return e * r
    t = 32.0 / a - 2.0
""" + _clenshaw("r", C._MB_I0_B, "t") + """\
    return e * r / _f64(_sqrt_f64(a))
""")
_unary("modified_bessel_i1", """\
    a = abs(xd)
    e = _f64(_exp_f64(a))
    if a <= 8.0:
        t = a / 2.0 - 2.0
""" + _clenshaw("r", C._MB_I1_A, "t", "        ") + """\
        r = r * a * e
    else:
        t = 32.0 / a - 2.0
""" + _clenshaw("r", C._MB_I1_B, "t", "        ") + """\
        r = e * r / _f64(_sqrt_f64(a))
    if xd < 0.0:
        return -r
    return r
""")
for _order in (0, 1):
    for _scaled in (False, True):
        _name = f"{'scaled_' if _scaled else ''}modified_bessel_k{_order}"
        _i = f"_modified_bessel_i{_order}_f64"
        _near = ("r = r - _f64(_log_f64(0.5 * xd)) * _f64({i}(xd))" if _order == 0 else
                 "r = _f64(_log_f64(0.5 * xd)) * _f64({i}(xd)) + r / xd").format(i=_i)
        _unary(_name, """\
    if xd == 0.0:
        return math.inf
    if xd < 0.0:
        return math.nan
    if xd <= 2.0:
        t = xd * xd - 2.0
""" + _clenshaw("r", C._MB_K0_A if _order == 0 else C._MB_K1_A, "t", "        ")
            + f"        {_near}\n"
            + ("        return r * _f64(_exp_f64(xd))\n" if _scaled else "        return r\n")
            + "    t = 8.0 / xd - 2.0\n"
            + _clenshaw("r", C._MB_K0_B if _order == 0 else C._MB_K1_B, "t")
            + ("    return r / _f64(_sqrt_f64(xd))\n" if _scaled else
               "    return _f64(_exp_f64(-xd)) * r / _f64(_sqrt_f64(xd))\n"),
            deps=(_i,))

_unary("airy_ai", """\
    if xd == math.inf or xd == -math.inf:
        return math.nan
    if xd > 103.892:
        return 0.0
    if xd < -2.09:
        zeta = -2.0 * xd * _f64(_sqrt_f64(-xd)) / 3.0
        z = 1.0 / zeta
        z2 = z * z
""" + _horner("afn", C._AIRY_AI_AFN, "z2", "        ")
    + _horner("afd", C._AIRY_AI_AFD, "z2", "        ")
    + _horner("agn", C._AIRY_AI_AGN, "z2", "        ")
    + _horner("agd", C._AIRY_AI_AGD, "z2", "        ") + """\
        t = zeta + 0.25 * math.pi
        return 0.5641895835477563 / _f64(_sqrt_f64(_f64(_sqrt_f64(-xd)))) * (
            _f64(_sin_f64(t)) * (1.0 + z2 * (afn / afd)) - _f64(_cos_f64(t)) * (z * (agn / agd)))
    if xd >= 2.09:
        zeta = 2.0 * xd * _f64(_sqrt_f64(xd)) / 3.0
        w = 1.0 / zeta
""" + _horner("an", C._AIRY_AI_AN, "w", "        ") + _horner("ad", C._AIRY_AI_AD, "w",
                                                                "        ") + """\
        return 0.5641895835477563 * (an / ad) / (2.0 * _f64(_sqrt_f64(_f64(_sqrt_f64(xd))))
                                                 * _f64(_exp_f64(zeta)))
    cube = xd * xd * xd
    f = 1.0
    g = xd
    m = 1.0
    n = xd
    k = 1.0
    for _ in range(60):
        m = m * cube / (k + 1.0)
        n = n * cube / (k + 2.0)
        m = m / (k + 2.0)
        f = f + m
        n = n / (k + 3.0)
        g = g + n
        k = k + 3.0
        if abs(m / f) <= 2.220446049250313e-16:
            break
    return 0.35502805388781723926 * f - 0.258819403792806798405 * g
""")


# The unary functions call C's exp / log / log1p / sin / cos (libm's on the CPU), as ATen's
# Math.h and gpujit's eager ufuncs (ops/_special_kernels.py) do: not the kernels' `_exp_f64`
# & co., which are NumPy's (SVML's on AVX512 hosts) to match NumPy's eager exp; those
# differed from torch 2.13 and from eager by an ulp or more at thousands of float64 values
_LIBM = LIBM_F64     # (prims.py's _cm_<fn>_f64)


def _to_libm(text):
    for fn in _LIBM:
        text = text.replace(f"_{fn}_f64(", f"_cm_{fn}_f64(")
    return text


for _name in [f"_{n}_{s}" for n in UNARY for s in ("f32", "f64")] + ["_expsq_f64",
                                                                     "_erfcx_pos_f64"]:
    _deps, _srcs = _DEFS[_name]
    _define(_name, {t: _to_libm(src) for t, src in _srcs.items()},
            deps=tuple(f"_cm_{d[1:]}" if d[1:-4] in _LIBM and d.endswith("_f64") else d
                       for d in _deps))


# float32 on the CPU: ATen's float steps, the very numba functions of eager's ufuncs
# (ops/_special_kernels.jit32: fused and eager give torch 2.13's float32 bits); the cache
# key of a kernel is its text, so the text names the digest of that file. (CUDA and the
# simulator compute in float64 and round, as the CuPy array code.)
_F32_STEPS = ("ndtri", "erfcx", "log_ndtr", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
              "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
              "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
              "airy_ai")


def _file_digest(name):
    import hashlib
    import os
    from gpujit import ops
    with open(os.path.join(os.path.dirname(ops.__file__), name), "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()


_SK_DIGEST = _file_digest("_special_kernels.py")
_K_ARGS = {"modified_bessel_k0": "0, False", "modified_bessel_k1": "1, False",
           "scaled_modified_bessel_k0": "0, True", "scaled_modified_bessel_k1": "1, True"}
for _n in _F32_STEPS:
    _deps, _srcs = _DEFS[f"_{_n}_f32"]
    _head = (f"# ops/_special_kernels.py {_SK_DIGEST}\n"
             f"from gpujit.ops._special_kernels import jit32 as _sk_jit32\n")
    if _n in _K_ARGS:       # (a family's function of x, order, scaled)
        _cpu = _head + f"""_sk_{_n} = _sk_jit32({_n!r})[0]


@DEVICE
def _{_n}_f32(x):
    return _sk_{_n}(x, {_K_ARGS[_n]})
"""
    else:
        _cpu = _head + f"_{_n}_f32 = _sk_jit32({_n!r})[0]\n"
    _define(f"_{_n}_f32", {**_srcs, "cpu": _cpu}, deps=_deps)
# float64 on the CPU: eager's functions too (ATen's erfcx_y100 table and its steps;
# erfinv's last step in double-double; the FMAs of the others' double steps:
# ops/_special_kernels.JIT64); CUDA and the simulator keep their text (prims.py's erfinv:
# two plain Newton steps)
for _n in ("erfcx", "log_ndtr", "erfinv", "ndtri", "bessel_j0", "bessel_j1", "bessel_y0",
           "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
           "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "airy_ai"):
    _deps, _srcs = _DEFS[f"_{_n}_f64"]
    _args = f", {_K_ARGS[_n]}" if _n in _K_ARGS else ""
    _cpu = f"""# ops/_special_kernels.py {_SK_DIGEST}
from gpujit.ops._special_kernels import jit64 as _sk_jit64
_sk_{_n}_64 = _sk_jit64({_n!r})[0]


@DEVICE
def _{_n}_f64(x):
    return _sk_{_n}_64(_f64(x){_args})
"""
    _define(f"_{_n}_f64", {**_srcs, "cpu": _cpu}, deps=_deps)


# float32 erfinv on the CPU: eager's function (the float64 value of one Newton step, rounded)
_deps, _srcs = _DEFS["_erfinv_f32"]
_define("_erfinv_f32", {**_srcs, "cpu": f"""# ops/_special_kernels.py {_SK_DIGEST}
from gpujit.ops._special_kernels import jit32 as _sk_jit32
_sk_erfinv_32 = _sk_jit32('erfinv')[0]


@DEVICE
def _erfinv_f32(x):
    return _sk_erfinv_32(_f32(x))
"""}, deps=_deps)


# lgamma on the CPU: eager's functions, Sleef's lgammaf_u1 / lgamma_u1 as ATen's vectorized
# kernel (ops/_sleef_lgamma.py: torch 2.13's bits; float16 computes the float32 one); CUDA
# keeps libdevice's lgamma, the simulator Python's
_SL_DIGEST = _file_digest("_sleef_lgamma.py")
for _s in ("f32", "f64"):
    _deps, _srcs = _DEFS[f"_lgamma_{_s}"]
    _define(f"_lgamma_{_s}", {**_srcs, "cpu": f"""# ops/_sleef_lgamma.py {_SL_DIGEST}
from gpujit.ops._sleef_lgamma import jit_{_s} as _sl_lgamma_{_s}


@DEVICE
def _lgamma_{_s}(x):
    return _sl_lgamma_{_s}(_{_s}(x))
"""}, deps=_deps)


# digamma: polevl's steps as FMAs (GCC's contraction in ATen's calc_digamma) on every
# target; the CPU calls eager's functions (ops/_trigamma_kernel.py: torch 2.13's bits)
_TK_DIGEST = _file_digest("_trigamma_kernel.py")
for _s, _fma in (("f32", "_fmaf_f32"), ("f64", "_fma_f64")):
    _deps, _srcs = _DEFS[f"_digamma_{_s}"]
    if _s == "f32":
        _pat = r"p = _f32\(p \* z \+ (_f32\([^()]*\))\)"
    else:
        _pat = r"p = p \* z \+ ([-0-9.E]+)"
    _srcs = {t: _re.sub(_pat, rf"p = {_fma}(p, z, \1)", src) for t, src in _srcs.items()}
    _define(f"_digamma_{_s}", {**_srcs, "cpu": f"""# ops/_trigamma_kernel.py {_TK_DIGEST}
from gpujit.ops._trigamma_kernel import jit_digamma_{_s} as _tk_digamma_{_s}


@DEVICE
def _digamma_{_s}(x):
    return _tk_digamma_{_s}(_{_s}(x))
"""}, deps=_deps + (_fma,))


# spherical_bessel_j0 in its dtype, as ATen's kernel and eager (ops/_special_kernels.py):
# the Taylor polynomial contracted into FMAs, C's sin / sinf (torch 2.13's bits)
_define("_fmaf_f32", {"cpu": "_fmaf_f32 = _fma_f32\n", "cuda": """
@DEVICE
def _fmaf_f32(a, b, c):
    return cuda.fma(_f32(a), _f32(b), _f32(c))
""", "sim": """
@DEVICE
def _fmaf_f32(a, b, c):
    return np.float32(np.float64(a) * np.float64(b) + np.float64(c))
"""}, deps=("_fma_f32",))
_SJ0 = (-1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0, -1.0 / 39916800.0,
        1.0 / 6227020800.0)
for _s, _F, _fma, _sin in (("f32", "_f32", "_fmaf_f32", "_sin_h"),
                           ("f64", "_f64", "_fma_f64", "_cm_sin_f64")):
    _define(f"_spherical_bessel_j0_{_s}", f"""
@DEVICE
def _spherical_bessel_j0_{_s}(x):
    xs = {_F}(x)
    if xs == math.inf or xs == -math.inf:
        return {_F}(0.0)
    if abs(xs) < {_F}(0.5):
        z = {_F}(xs * xs)
        r = {_F}({_SJ0[5]!r})
""" + "".join(f"        r = {_fma}(z, r, {_F}({c!r}))\n" for c in _SJ0[4::-1]) + f"""\
        return {_fma}(z, r, {_F}(1.0))
    return {_F}({_F}({_sin}(xs)) / xs)
""", deps=(_fma, _sin))


# ------------------------------------------------------------------ orthogonal polynomials
# (x, n) in the computation dtype F; n truncated to an int64 m (-1 for NaN, +-inf and
# beyond int64); each step rounded to F

_DEGREE = """\
    nd = _f64(n)
    m = _i64(-1)
    if nd == nd and abs(nd) < 9.2e18:
        m = _i64(nd)
    if m < 0:
        return {F}(0.0)
"""


def _poly(name, body, extra_deps=()):
    # ({FMA}: the recurrence's a * b - c rounded once, as GCC contracts ATen's step)
    # (acos / cos / sin: C's, acosf ... for float32 (`_<fn>_h`), as ATen's scalar kernel
    # and eager call them; not the kernels' NumPy / SVML forms)
    for s, F, fma, c in (("f32", "_f32", "_fmaf_f32", "_{fn}_h"),
                         ("f64", "_f64", "_fma_f64", "_cm_{fn}_f64")):
        src = (f"\n@DEVICE\ndef _{name}_{s}(x, n):\n    x = {F}(x)\n" + _DEGREE
               + body).replace("{F}", F).replace("{s}", s).replace("{FMA}", fma)
        for fn in ("acos", "cos", "sin"):
            src = src.replace(f"_{fn}_{s}(", c.format(fn=fn) + "(")
        _define(f"_{name}_{s}", src,
                deps=tuple(d.replace("{s}", s) for d in extra_deps)
                + tuple(c.format(fn=fn) for fn in ("acos", "cos", "sin")) + (fma,))


def _chebyshev_body(kind, shifted):
    one = "{F}(1.0)"
    y = "{F}({F}(x + x) - {F}(1.0))" if shifted else "x"
    q1 = {"t": "y", "u": "{F}(y + y)", "v": "{F}({F}(y + y) - {F}(1.0))",
          "w": "{F}({F}(y + y) + {F}(1.0))"}[kind]
    top = "x == {F}(1.0)"
    bottom = "x == {F}(0.0)" if shifted else "x == {F}(-1.0)"
    odd = "(1.0 if m % 2 == 0 else -1.0)"
    at_top = {"t": one, "u": "{F}(m + 1)", "v": one, "w": "{F}(2 * m + 1)"}[kind]
    at_bottom = {"t": "{F}(%s)" % odd, "u": "{F}(%s * (m + 1))" % odd,
                 "v": "{F}(%s * (2 * m + 1))" % odd, "w": "{F}(%s)" % odd}[kind]
    first = {("t", False): 7, ("u", False): 9, ("v", False): 9, ("w", False): 9,
             ("w", True): 5}.get((kind, shifted), 7)
    th = "th = {F}(_acos_{s}(y))\n"
    if kind == "t":
        closed = th + "        return {F}(_cos_{s}({F}({F}(m) * th)))\n"
    elif kind == "u":
        closed = th + ("        sn = {F}(_sin_{s}(th))\n"
                       "        if sn != {F}(0.0):\n"
                       "            return {F}({F}(_sin_{s}({F}({F}(m + 1) * th))) / sn)\n"
                       "        return {F}({F}({F}(m + 1) * {F}(_cos_{s}({F}({F}(m + 1) * th))))"
                       " / y)\n")
    elif kind == "v":
        closed = th + ("        if {F}(_sin_{s}({F}(th / {F}(2.0)))) != {F}(1.0):\n"
                       "            return {F}({F}(_cos_{s}({F}({F}({F}(m) + {F}(0.5)) * th)))"
                       " / {F}(_cos_{s}({F}(th / {F}(2.0)))))\n"
                       "        return {F}(%s * (2 * m + 1))\n" % odd)
    else:
        fallback = ("{F}(%s)" % odd) if shifted else \
            ("({F}(2 * m + 1) if x > {F}(0.0) else {F}(%s))" % odd)
        closed = th + ("        if {F}(_cos_{s}({F}(th / {F}(2.0)))) != {F}(1.0):\n"
                       "            return {F}({F}(_sin_{s}({F}({F}({F}(m) + {F}(0.5)) * th)))"
                       " / {F}(_sin_{s}({F}(th / {F}(2.0)))))\n"
                       f"        return {fallback}\n")
    return (f"    y = {y}\n"
            f"    if {top}:\n        return {at_top}\n"
            f"    if {bottom}:\n        return {at_bottom}\n"
            f"    if m >= {first} and abs(y) < {one}:\n        " + closed
            + "    if m == 0:\n        return {F}(1.0)\n"
            f"    q = {q1}\n"
            "    if m == 1:\n        return q\n"
            "    p = {F}(1.0)\n"
            "    two_y = {F}(y + y)\n"
            "    for k in range(2, m + 1):\n"
            "        if q != q:\n            break\n"
            "        r = {F}({FMA}(two_y, q, -p))\n"
            "        p = q\n        q = r\n"
            "    return q\n")


for _k in "tuvw":
    for _sh in (False, True):
        _poly(f"{'shifted_' if _sh else ''}chebyshev_polynomial_{_k}", _chebyshev_body(_k, _sh))

for _phys, _name in ((True, "hermite_polynomial_h"), (False, "hermite_polynomial_he")):
    _step = ("{F}({FMA}({F}(x + x), q, -{F}({F}(2 * (k - 1)) * p)))" if _phys else
             "{F}({FMA}(x, q, -{F}({F}(k - 1) * p)))")
    _poly(_name, """\
    if m == 0:
        return {F}(1.0)
    q = %s
    if m == 1:
        return q
    if m > LIMIT:
        return {F}(math.nan)
    p = {F}(1.0)
    for k in range(2, m + 1):
        r = %s
        p = q
        q = r
    return q
""" % ("{F}(x + x)" if _phys else "x", _step))
for _s, _lim in (("f32", "128"), ("f64", "512")):      # PyTorch's limits by dtype
    for _name in ("hermite_polynomial_h", "hermite_polynomial_he"):
        deps, srcs = _DEFS[f"_{_name}_{_s}"]
        _define(f"_{_name}_{_s}", {t: src.replace("LIMIT", _lim) for t, src in srcs.items()},
                deps=deps)

_poly("laguerre_polynomial_l", """\
    if x == {F}(0.0):
        return {F}(1.0)
    if m == 0:
        return {F}(1.0)
    q = {F}({F}(1.0) - x)
    if m == 1:
        return q
    p = {F}(1.0)
    omx = {F}({F}(1.0) - x)
    for k in range(2, m + 1):
        if q != q:
            break
        r = {F}({F}({FMA}({F}({F}(2 * (k - 1)) + omx), q, -{F}({F}(k - 1) * p))) / {F}(k))
        p = q
        q = r
    return q
""")
_poly("legendre_polynomial_p", """\
    if x == {F}(1.0) or x == {F}(-1.0):
        if x > {F}(0.0) or m % 2 == 0:
            return {F}(1.0)
        return {F}(-1.0)
    if m == 0:
        return {F}(1.0)
    q = x
    if m == 1:
        return q
    p = {F}(1.0)
    for k in range(2, m + 1):
        if q != q:
            break
        r = {F}({F}({FMA}({F}({F}(2 * k - 1) * x), q, -{F}({F}(k - 1) * p))) / {F}(k))
        p = q
        q = r
    return q
""")
