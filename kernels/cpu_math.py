"""float32 exp and tanh that LLVM can vectorize, for the CPU target.

PyPI's llvmlite is built without Intel SVML, so `math.exp` in a numba loop is a scalar libm
call and the loop stays scalar: a fused CPU kernel of a transcendental-heavy chain would
then be slower than NumPy's SIMD ufuncs (NOTES-numba-cupy.md, "The CPU target"). These are
straight-line code instead: Cody-Waite range reduction, the Cephes polynomials, and 2^k
built by bit-casting the exponent field (through `_i32_as_f32`, an LLVM bitcast), with
the overflow, underflow (denormal results), inf and NaN cases handled by selects.
Accuracy: within 1 ulp of the correctly rounded result over the whole float32 range
(tests/test_kernels_cpu_math.py checks every 4096th bit pattern against float64).

Both are inlined into the kernel by numba (`inline='always'`), so the loop body holds their
code before LLVM sees it: left to LLVM's inliner, a call that grows past its threshold
stays in the loop and keeps it scalar (10x slower). `fastmath={'contract'}` only allows FMA
contraction (no flush to zero, no approximate division); the kernels use it too.

The text below is what kernels embed (each generated module is self-contained, so the
on-disk cache key, a hash of the module text, covers these functions too); `namespace()`
executes it for tests.
"""
from __future__ import annotations

__all__ = ["source", "namespace", "INTRINSIC_IMPORTS"]

INTRINSIC_IMPORTS = ("from numba.extending import intrinsic\n"
                     "from llvmlite import ir as _llir\n")

_SOURCES = {
    "_i32_as_f32": '''
@intrinsic
def _i32_as_f32(typingctx, v):
    sig = _nbt.float32(_nbt.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], _llir.FloatType())
    return sig, codegen
''',
    "_rh": '''
@intrinsic
def _rh(typingctx, x):
    sig = _nbt.float32(_nbt.float32)

    def codegen(context, builder, signature, args):
        h = builder.fptrunc(args[0], _llir.HalfType())
        return builder.fpext(h, _llir.FloatType())
    return sig, codegen
''',
    "_h2f": '''
@intrinsic
def _h2f(typingctx, bits):
    sig = _nbt.float32(_nbt.uint16)

    def codegen(context, builder, signature, args):
        return builder.fpext(builder.bitcast(args[0], _llir.HalfType()), _llir.FloatType())
    return sig, codegen
''',
    "_f2h": '''
@intrinsic
def _f2h(typingctx, x):
    sig = _nbt.uint16(_nbt.float32)

    def codegen(context, builder, signature, args):
        h = builder.fptrunc(args[0], _llir.HalfType())
        return builder.bitcast(h, _llir.IntType(16))
    return sig, codegen
''',
    # exp(x) = p(r) * 2^k, x = k ln2 + r, |r| <= ln2/2; 2^k as two factors so that k down
    # to -150 (denormal results) needs no denormal scale factor
    "_vexp_f32": '''
@njit(error_model='numpy', fastmath={'contract'}, inline='always')
def _vexp_f32(x):
    xc = x if x < _f32(88.72284) else _f32(88.72284)
    xc = xc if xc > _f32(-103.972084) else _f32(-103.972084)
    kf = np.floor(xc * _f32(1.4426950408889634) + _f32(0.5))
    r = xc - kf * _f32(0.693359375)
    r = r + kf * _f32(2.12194440e-4)
    p = _f32(1.9875691500e-4)
    p = p * r + _f32(1.3981999507e-3)
    p = p * r + _f32(8.3334519073e-3)
    p = p * r + _f32(4.1665795894e-2)
    p = p * r + _f32(1.6666665459e-1)
    p = p * r + _f32(5.0000001201e-1)
    p = p * r * r + r + _f32(1.0)
    k = _i32(kf)
    k1 = _i32(k >> 1)
    k2 = _i32(k - k1)
    e = p * _i32_as_f32(_i32((k1 + 127) << 23)) * _i32_as_f32(_i32((k2 + 127) << 23))
    return e if x == x else x
''',
    # tanh: an odd polynomial below 0.625 (no cancellation near 0), 1 - 2/(e^2|x| + 1) above
    "_vtanh_f32": '''
@njit(error_model='numpy', fastmath={'contract'}, inline='always')
def _vtanh_f32(x):
    z = x * x
    p = _f32(-5.70498872745e-3)
    p = p * z + _f32(2.06390887954e-2)
    p = p * z + _f32(-5.37397155531e-2)
    p = p * z + _f32(1.33314422036e-1)
    p = p * z + _f32(-3.33332819422e-1)
    small = p * z * x + x
    small = math.copysign(small, x)             # odd: keeps the sign of -0.0
    a = abs(x)
    e = _vexp_f32(a + a)
    big = _f32(1.0) - _f32(2.0) / (e + _f32(1.0))
    big = big if x >= _f32(0.0) else -big
    return small if a < _f32(0.625) else big
''',
}


def source(name: str) -> str:
    return _SOURCES[name]


_NS = None


def namespace() -> dict:
    """The functions above, compiled in this process (for tests and experiments)."""
    global _NS
    if _NS is None:
        from .prims import HEADERS, _TYPES
        text = HEADERS["cpu"] + INTRINSIC_IMPORTS + _TYPES + "\n".join(
            _SOURCES.values())
        ns = {"__name__": "gpujit.kernels.cpu_math_live"}
        exec(compile(text, "<gpujit cpu_math>", "exec"), ns)
        _NS = ns
    return _NS
