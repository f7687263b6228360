"""float32 exp and tanh that LLVM can vectorize, for the CPU target.

PyPI's llvmlite is built without Intel SVML, so `math.exp` in a numba loop is a scalar libm
call and the loop stays scalar: a fused CPU kernel of a transcendental-heavy chain would
then be slower than NumPy's SIMD ufuncs (NOTES-numba-cupy.md, "The CPU target"). These are
straight-line code instead: Cody-Waite range reduction, the Cephes polynomials, and 2^k
built by bit-casting the exponent field (through `_i32_as_f32`, an LLVM bitcast), with
the overflow, underflow (denormal results), inf and NaN cases handled by selects.
Accuracy: within 1 ulp of the correctly rounded result over the whole float32 range
(tests/test_kernels_cpu_math.py checks every 4096th bit pattern against float64).

Both are numba intrinsics that emit their LLVM instructions at each call, so the loop body
holds their code before LLVM sees it: left to LLVM's inliner, a call that grows past its
threshold stays in the loop and keeps it scalar (10x slower). (They were @njit functions
with `inline='always'` before: numba's IR-level inlining took ~0.3 s per call site, 8 s to
compile one backward kernel of an LSTM cell.) Their arithmetic carries only the `contract`
fast-math flag: FMA contraction inside the one function, no flush to zero, no approximate
division. The kernels themselves carry no fast-math flag: contraction across two ops
skipped the rounding between them (x * 2 - x of a float16 or float32 x near its largest
value gave x where eager's rounded x * 2 overflows to inf; tests/test_fuzz_finds_s27.py).

The text below is what kernels embed (each generated module is self-contained, so the
on-disk cache key, a hash of the module text, covers these functions too); `namespace()`
executes it for tests.
"""
from __future__ import annotations

__all__ = ["source", "namespace", "INTRINSIC_IMPORTS"]

INTRINSIC_IMPORTS = ("from numba.extending import intrinsic\n"
                     "from numba.core import cgutils as _cgutils\n"
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
    # float64 a * b + c rounded once (lerp's fmadd)
    "_fma_f64": '''
@intrinsic
def _fma_f64(typingctx, a, b, c):
    sig = _nbt.float64(_nbt.float64, _nbt.float64, _nbt.float64)

    def codegen(context, builder, signature, args):
        d = _llir.DoubleType()
        fn = _cgutils.get_or_insert_function(builder.module,
                                             _llir.FunctionType(d, [d, d, d]), "llvm.fma.f64")
        return builder.call(fn, args)
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
    # exp2 through LLVM's typed intrinsics (libm's exp2 / exp2f): numba's np.exp2 declares
    # an untyped `llvm.exp2`, so a kernel calling it on float32 and float64 did not compile
    # ("Type of #1 arg mismatch: float != double": exp2 of a float32 and of a float64
    # tensor in one group, or ldexp's float64 power next to a float32 exp2)
    **{f"_exp2_{_s}": f'''
@intrinsic
def _exp2_{_s}(typingctx, x):
    sig = _nbt.{_t}(_nbt.{_t})

    def codegen(context, builder, signature, args):
        ty = _llir.{_ll}()
        fn = _cgutils.get_or_insert_function(builder.module, _llir.FunctionType(ty, [ty]),
                                             "llvm.exp2.{_s}")
        return builder.call(fn, [args[0]])
    return sig, codegen
''' for _s, _t, _ll in (("f32", "float32", "FloatType"), ("f64", "float64", "DoubleType"))},
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
    "_vexp_f32": """
def _emit_vexp_f32(builder, x):
    f32, i32 = _llir.FloatType(), _llir.IntType(32)
    mod = builder.module
    cf = lambda v: _llir.Constant(f32, float(_f32(v)))
    ci = lambda v: _llir.Constant(i32, v)
    fl = ('contract',)
    mul = lambda a, b: builder.fmul(a, b, flags=fl)
    add = lambda a, b: builder.fadd(a, b, flags=fl)
    sub = lambda a, b: builder.fsub(a, b, flags=fl)
    floor = _cgutils.get_or_insert_function(mod, _llir.FunctionType(f32, [f32]),
                                            "llvm.floor.f32")
    xc = builder.select(builder.fcmp_ordered('<', x, cf(88.72284)), x, cf(88.72284))
    xc = builder.select(builder.fcmp_ordered('>', xc, cf(-103.972084)), xc,
                        cf(-103.972084))
    kf = builder.call(floor, [add(mul(xc, cf(1.4426950408889634)), cf(0.5))])
    r = sub(xc, mul(kf, cf(0.693359375)))
    r = add(r, mul(kf, cf(2.12194440e-4)))
    p = cf(1.9875691500e-4)
    for c in (1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
              5.0000001201e-1):
        p = add(mul(p, r), cf(c))
    p = add(add(mul(mul(p, r), r), r), cf(1.0))
    k = builder.fptosi(kf, i32)
    k1 = builder.ashr(k, ci(1))
    k2 = builder.sub(k, k1)
    s1 = builder.bitcast(builder.shl(builder.add(k1, ci(127)), ci(23)), f32)
    s2 = builder.bitcast(builder.shl(builder.add(k2, ci(127)), ci(23)), f32)
    e = mul(mul(p, s1), s2)
    return builder.select(builder.fcmp_ordered('==', x, x), e, x)


@intrinsic
def _vexp_f32(typingctx, x):
    sig = _nbt.float32(_nbt.float32)

    def codegen(context, builder, signature, args):
        return _emit_vexp_f32(builder, args[0])
    return sig, codegen
""",
    # tanh: an odd polynomial below 0.625 (no cancellation near 0), 1 - 2/(e^2|x| + 1) above
    "_vtanh_f32": """
@intrinsic
def _vtanh_f32(typingctx, x):
    sig = _nbt.float32(_nbt.float32)

    def codegen(context, builder, signature, args):
        f32 = _llir.FloatType()
        x = args[0]
        mod = builder.module
        cf = lambda v: _llir.Constant(f32, float(_f32(v)))
        fl = ('contract',)
        mul = lambda a, b: builder.fmul(a, b, flags=fl)
        add = lambda a, b: builder.fadd(a, b, flags=fl)
        fnty = _llir.FunctionType(f32, [f32])
        fabs = _cgutils.get_or_insert_function(mod, fnty, "llvm.fabs.f32")
        copysign = _cgutils.get_or_insert_function(
            mod, _llir.FunctionType(f32, [f32, f32]), "llvm.copysign.f32")
        z = mul(x, x)
        p = cf(-5.70498872745e-3)
        for c in (2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1,
                  -3.33332819422e-1):
            p = add(mul(p, z), cf(c))
        small = add(mul(mul(p, z), x), x)
        small = builder.call(copysign, [small, x])      # odd: keeps the sign of -0.0
        a = builder.call(fabs, [x])
        e = _emit_vexp_f32(builder, add(a, a))
        big = builder.fsub(cf(1.0), builder.fdiv(cf(2.0), add(e, cf(1.0)), flags=fl),
                           flags=fl)
        big = builder.select(builder.fcmp_ordered('>=', x, cf(0.0)), big,
                             builder.fneg(big))
        return builder.select(builder.fcmp_ordered('<', a, cf(0.625)), small, big)
    return sig, codegen
""",
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
