"""ATen's AVX2 float32 normal fill as one numba loop (ops/random.py uses it for large draws,
and for every draw once it is loaded; the NumPy version there, op by op over whole arrays,
for the first small ones: both bit for bit the same). Imported only when ops/random.py
compiles the loop (numba_helpers.njit: lazily, disk-cached), so numba is imported then.

The loop is written for LLVM's loop vectorizer: the uniforms of each block of 16 are first
copied into two contiguous lanes (u1 = the first 8, u2 = the last 8), the Box-Muller runs
over the lanes without branches or calls (a float's bits through a bitcast, sqrt and fma
as LLVM intrinsics: vsqrtps / vfmadd as ATen's kernel runs them), then the results go back
in ATen's order."""
import numpy as np
from llvmlite import ir
import numba  # noqa: F401  (whole first: threads, see ops/numba_helpers.py)
from numba.core import cgutils, types
from numba.extending import intrinsic

_FT = ir.FloatType()


def _llvm_call(builder, name, ret, args):
    fn = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ret, [a.type for a in args]), name)
    return builder.call(fn, args)


@intrinsic
def f32_bits(typingctx, x):
    """A float32's bits as an int32 (a bitcast)."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def bits_f32(typingctx, x):
    """The float32 whose bits are the int32 x."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], _FT)
    return types.float32(types.int32), codegen


@intrinsic
def sqrt32(typingctx, x):
    """IEEE float32 square root (llvm.sqrt.f32: no libm call, so it vectorizes)."""
    def codegen(context, builder, sig, args):
        return _llvm_call(builder, "llvm.sqrt.f32", _FT, args)
    return types.float32(types.float32), codegen


@intrinsic
def fma32(typingctx, a, b, c):
    """a * b + c rounded once (llvm.fma.f32: the FMA instruction, as GCC contracts ATen's
    `a * b + c`)."""
    def codegen(context, builder, sig, args):
        return _llvm_call(builder, "llvm.fma.f32", _FT, args)
    return types.float32(types.float32, types.float32, types.float32), codegen


def normal_fill_f32(words, out, tail_at, mean, std, scratch):
    """numba body: ATen's AVX2 normal fill into float32 `out` (n values) from the raw
    32-bit words of the generator (uniform = 24 low bits * 2^-24): blocks of 16 from
    words[:n // 16 * 16]; when n % 16, the last 16 values recomputed from the block
    words[tail_at:tail_at + 16]. Every value gets ATen's fma(v, std, mean). scratch: a
    (4, 8 * blocks) float32 array, the lanes of that many blocks of 16 per pass (the
    caller's, NumPy's: np.empty here compiled numba's empty for a cold first randn)."""
    f4 = np.float32
    n = out.size
    nb = n // 16
    tail = n % 16 != 0
    a1 = scratch[0]
    a2 = scratch[1]
    c1 = scratch[2]
    c2 = scratch[3]
    ch = scratch.shape[1] // 8
    scale = f4(1.0 / 16777216.0)
    mask = np.uint64(0xFFFFFF)
    b0 = 0
    while b0 < nb + tail:
        m = nb + tail - b0             # (not min(): one more numba compile)
        if m > ch:
            m = ch
        for b in range(m):
            w0 = (b0 + b) * 16 if b0 + b < nb else tail_at
            for j in range(8):
                a1[b * 8 + j] = f4(words[w0 + j] & mask) * scale
                a2[b * 8 + j] = f4(words[w0 + 8 + j] & mask) * scale
        for i in range(m * 8):
            # ---- radius = sqrt(-2 * log256_ps(1 - u1))
            x = f4(1.0) - a1[i]            # (no NaN: max() as a select)
            x = x if x > f4(1.1754943508222875e-38) else f4(1.1754943508222875e-38)
            ib = f32_bits(x)
            e = f4((ib >> 23) - 0x7f) + f4(1)
            x = bits_f32((ib & ~0x7f800000) | 0x3f000000)
            small = x < f4(0.707106781186547524)
            x = (x - f4(1)) + (x if small else f4(0))
            e = e - (f4(1) if small else f4(0))
            z = x * x
            y = fma32(f4(7.0376836292E-2), x, f4(-1.1514610310E-1))
            y = fma32(y, x, f4(1.1676998740E-1))
            y = fma32(y, x, f4(-1.2420140846E-1))
            y = fma32(y, x, f4(1.4249322787E-1))
            y = fma32(y, x, f4(-1.6668057665E-1))
            y = fma32(y, x, f4(2.0000714765E-1))
            y = fma32(y, x, f4(-2.4999993993E-1))
            y = fma32(y, x, f4(3.3333331174E-1))
            y = fma32(y * x, z, e * f4(-2.12194440e-4))
            y = fma32(z, f4(-0.5), y)
            lg = fma32(e, f4(0.693359375), x + y)
            r = sqrt32(f4(-2.0) * lg)
            # ---- sincos256_ps(2 pi u2) (u2 >= 0: no sign to take off)
            t = f4(2.0 * np.pi) * a2[i]
            jj = np.int32(t * f4(1.27323954473516))
            jj = (jj + 1) & ~1
            yy = f4(jj)
            xs = fma32(yy, f4(-0.78515625), t)
            xs = fma32(yy, f4(-2.4187564849853515625e-4), xs)
            xs = fma32(yy, f4(-3.77489497744594108e-8), xs)
            z = xs * xs
            yc = fma32(f4(2.443315711809948E-005), z, f4(-1.388731625493765E-003))
            yc = fma32(yc, z, f4(4.166664568298827E-002))
            yc = fma32(yc * z, z, -(z * f4(0.5))) + f4(1)
            ys = fma32(f4(-1.9515295891E-4), z, f4(8.3321608736E-3))
            ys = fma32(ys, z, f4(-1.6666654611E-1))
            ys = fma32(ys * z, xs, xs)
            poly = (jj & 2) == 0
            s = ys if poly else yc
            c = yc if poly else ys
            s = -s if (jj & 4) != 0 else s
            c = -c if (~(jj - 2) & 4) != 0 else c
            c1[i] = fma32(r * c, std, mean)
            c2[i] = fma32(r * s, std, mean)
        for b in range(m):
            o = (b0 + b) * 16 if b0 + b < nb else n - 16
            for j in range(8):
                out[o + j] = c1[b * 8 + j]
                out[o + 8 + j] = c2[b * 8 + j]
        b0 += m
