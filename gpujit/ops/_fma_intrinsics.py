"""a * b + c rounded once inside numba code: LLVM's llvm.fma intrinsics (correctly rounded
whether or not the CPU has an FMA unit), for ops/_fma_kernels.py and
ops/_layer_norm_kernel.py. Importing this builds nothing (numba is imported)."""
from llvmlite import ir
import numba  # noqa: F401  (whole first: threads, see ops/numba_helpers.py)
from numba.core import cgutils, types
from numba.extending import intrinsic


def _fma_intrinsic(llty, nbty, name):
    def typer(typingctx, a, b, c):
        def codegen(context, builder, sig, args):
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(llty, [llty] * 3), name)
            return builder.call(fn, args)
        return nbty(nbty, nbty, nbty), codegen
    return intrinsic(typer)


fma_f32 = _fma_intrinsic(ir.FloatType(), types.float32, "llvm.fma.f32")
fma_f64 = _fma_intrinsic(ir.DoubleType(), types.float64, "llvm.fma.f64")


def _fma_either(typingctx, a, b, c):
    """fma of three float32 or three float64 values (llvm.fma.f32 / .f64 by their type)."""
    if not (a == b == c) or a not in (types.float32, types.float64):
        return None
    llty = ir.FloatType() if a == types.float32 else ir.DoubleType()
    name = "llvm.fma.f32" if a == types.float32 else "llvm.fma.f64"

    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(llty, [llty] * 3), name)
        return builder.call(fn, args)
    return a(a, a, a), codegen


fma = intrinsic(_fma_either)
