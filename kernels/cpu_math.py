"""The CPU target's float32 exp / log / sin / cos and float32 / float64 tanh: NumPy's own
algorithms.

Eager code computes these with NumPy, whose ufuncs run their own vector algorithms on x86
with AVX2 + FMA3 (or AVX512F): float32 exp and log (loops_exponent_log.dispatch.c.src),
float32 sin and cos (loops_trigonometric.dispatch.cpp) and tanh
(loops_hyperbolic.dispatch.cpp.src, Intel SVML's algorithm in Highway). A fused kernel
must give eager's bits, so it computes the same operations in the same order: the same
range reductions, polynomials (each step one fused multiply-add, through `llvm.fma`; one
FMA too where GCC contracted NumPy's multiply and add: sin / cos's x 2/pi + 1.5 2^23),
tables and special cases. They also keep the kernel's loop vectorizable (PyPI's llvmlite
has no SVML, so a libm call per element keeps it scalar, ~10x slower than NumPy); sin and
cos keep NumPy's libm fallback for large |x| in a branch, so their loops stay scalar
(still cheaper than libm's sinf / cosf for every element). Checked bit for bit against
NumPy over every 97th float32 bit pattern and a million float64 values
(tests/test_kernels_cpu_math.py, tests/test_fused_numerics_s46.py). Where this host's NumPy
calls libm instead (`NUMPY_SIMD_EXP_LOG_F32`, `NUMPY_SIMD_TANH` (tanh, sin, cos) false),
kernels/prims.py binds libm's functions, which is again what eager computes.

They are numba intrinsics that emit their LLVM instructions at each call, so the loop
body holds their code before LLVM sees it: left to LLVM's inliner, a call that grows past
its threshold stays in the loop and keeps it scalar (10x slower). (They were @njit
functions with `inline='always'` before: numba's IR-level inlining took ~0.3 s per call
site, 8 s to compile one backward kernel of an LSTM cell.) Their arithmetic carries no
fast-math flag (contractions are explicit FMAs), nor do the kernels: contraction across
two ops skipped the rounding between them (x * 2 - x of a float16 or float32 x near its
largest value gave x where eager's rounded x * 2 overflows to inf;
tests/test_fuzz_finds_s27.py).

Where NumPy exports its loop (kernels/native.numpy_loop), CPU kernels call that loop on
chunks of elements instead (kernels/emit.py's staged loops): the functions below then serve
kernels whose calls cannot be staged (inside a cat's branch, more stack buffers than
emit.STAGE_MAX_BUFFERS) and the tests.

The text below is what kernels embed (each generated module is self-contained, so the
on-disk cache key, a hash of the module text, covers these functions too); `namespace()`
executes it for tests.
"""
from __future__ import annotations

import platform as _platform

import numpy as _np

__all__ = ["source", "namespace", "INTRINSIC_IMPORTS", "NUMPY_SIMD_EXP_LOG_F32",
           "NUMPY_SIMD_TANH", "SVML"]


def _numpy_simd():
    """Whether this host's NumPy computes float32 exp / log and tanh with its own vector
    algorithms (which the functions below reproduce) rather than libm's: float32 exp / log
    on x86 with AVX2 + FMA3 or AVX512F (loops_exponent_log's targets), tanh on x86 with
    AVX2 + FMA3 (loops_hyperbolic's and loops_trigonometric's: Highway's native-FMA
    targets; float32 sin / cos too)."""
    try:
        feats = _np._core._multiarray_umath.__cpu_features__
    except AttributeError:      # (a NumPy without the table: assume libm)
        return False, False
    x86 = _platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")
    fma = x86 and bool(feats.get("AVX2")) and bool(feats.get("FMA3"))
    return fma or (x86 and bool(feats.get("AVX512F"))), fma


NUMPY_SIMD_EXP_LOG_F32, NUMPY_SIMD_TANH = _numpy_simd()

# NumPy's functions from Intel SVML (loops_umath_fp.dispatch.c.src: contiguous float32 /
# float64 arrays on AVX512 Skylake-X and later, where NumPy links SVML): scalar-language
# name -> SVML's name. float64 exp and log too (loops_exponent_log).
_SVML_UNARY = {"exp2": "exp2", "log2": "log2", "log10": "log10", "expm1": "expm1",
               "log1p": "log1p", "tan": "tan", "asin": "asin", "acos": "acos", "atan": "atan",
               "sinh": "sinh", "cosh": "cosh", "asinh": "asinh", "acosh": "acosh",
               "atanh": "atanh"}
_SVML_F64_ONLY = {"exp": "exp", "log": "log"}
_SVML_BINARY = {"pow": "pow", "atan2": "atan2"}


def _svml_symbol(fn, s):
    return f"__svml_{fn}f16" if s == "f32" else f"__svml_{fn}8_ha"


def _svml_functions():
    """{(name, 'f32' | 'f64'): (SVML symbol, arity)} of the SVML functions this host's NumPy
    calls, each registered with LLVM at its address in NumPy's extension module (which
    exports them); empty where NumPy does not use SVML (no AVX512_SKX, or a build without
    it), so the kernels call libm as NumPy then does."""
    try:
        feats = _np._core._multiarray_umath.__cpu_features__
        if not feats.get("AVX512_SKX"):
            return {}
        import ctypes
        from llvmlite import binding as _llb
        lib = ctypes.CDLL(_np._core._multiarray_umath.__file__)
        out = {}
        for table, arity, sfx in ((_SVML_UNARY, 1, ("f32", "f64")),
                                  (_SVML_F64_ONLY, 1, ("f64",)),
                                  (_SVML_BINARY, 2, ("f32", "f64"))):
            for name, fn in table.items():
                for s in sfx:
                    sym = _svml_symbol(fn, s)
                    addr = ctypes.cast(getattr(lib, sym), ctypes.c_void_p).value
                    _llb.add_symbol(sym, addr)
                    out[(name, s)] = (sym, arity)
        return out
    except (AttributeError, OSError, ImportError):
        return {}


SVML = _svml_functions()

INTRINSIC_IMPORTS = ("from numba.extending import intrinsic\n"
                     "from numba.core import cgutils as _cgutils\n"
                     "from llvmlite import ir as _llir\n")

# NumPy's tanh tables (loops_hyperbolic.dispatch.cpp.src, from Intel SVML), the bit patterns
# of each interval's coefficients: float32 rows c6 c5 c4 c3 c2 c1 c0 b (32 rows),
# float64 rows b c0 c1 ... c16 (16 rows)
_TANH_TABLES = {"f32": (
    0xbc0e2f66, 0x3e0910e9, 0xb76dd6b9, 0xbeaaaaa5, 0xb0343c7b, 0x3f800000, 0x00000000, 0x00000000,
    0x460bda12, 0x43761143, 0xbe1c276d, 0xbeab0612, 0xbd6ee69d, 0x3f7f1f84, 0x3d6fb9c9, 0x3d700000,
    0x43d638ef, 0x4165ecdc, 0x3c1dcf2f, 0xbea7f01f, 0xbd8f0da7, 0x3f7ebd11, 0x3d8fc35f, 0x3d900000,
    0xc3e11c3e, 0xc190f756, 0x3dc1a78d, 0xbea4e120, 0xbdae477d, 0x3f7e1e5f, 0x3daf9169, 0x3db00000,
    0xc2baa4e9, 0xc08c097d, 0x3d96f985, 0xbea387b7, 0xbdcd2a1f, 0x3f7d609f, 0x3dcf49ab, 0x3dd00000,
    0xc249da2d, 0xc02ba813, 0x3da2b61b, 0xbea15962, 0xbdeba80d, 0x3f7c842d, 0x3deee849, 0x3df00000,
    0xc1859b82, 0xbf7f6bda, 0x3dc13397, 0xbe9d57f7, 0xbe0c443b, 0x3f7b00e5, 0x3e0f0ee8, 0x3e100000,
    0x40dd5b57, 0x3f2b1dc0, 0x3dd2f670, 0xbe976b5a, 0xbe293cf3, 0x3f789580, 0x3e2e4984, 0x3e300000,
    0x40494640, 0x3ece105d, 0x3df48a0a, 0xbe90230d, 0xbe44f282, 0x3f75b8ad, 0x3e4d2f8e, 0x3e500000,
    0x40c730a8, 0x3f426a94, 0x3e06c5a8, 0xbe880dff, 0xbe5f3651, 0x3f726fd9, 0x3e6bb32e, 0x3e700000,
    0xbf0f160e, 0xbadb0dc4, 0x3e1a3aba, 0xbe7479b3, 0xbe81c7c0, 0x3f6cc59b, 0x3e8c51cd, 0x3e900000,
    0x3e30e76f, 0x3da43b17, 0x3e27c405, 0xbe4c3d88, 0xbe96d7ca, 0x3f63fb92, 0x3ea96163, 0x3eb00000,
    0xbea81387, 0xbd51ab88, 0x3e2e78d0, 0xbe212482, 0xbea7fb8e, 0x3f59ff97, 0x3ec543f1, 0x3ed00000,
    0xbdb26a1c, 0xbcaea23d, 0x3e2c3e44, 0xbdeb8cba, 0xbeb50e9e, 0x3f4f11d7, 0x3edfd735, 0x3ef00000,
    0xbd351e57, 0xbd3b6d8d, 0x3e1d3097, 0xbd5e78ad, 0xbec12efe, 0x3f3d7573, 0x3f028438, 0x3f100000,
    0xbb4c01a0, 0xbd6caaad, 0x3df4a8f4, 0x3c6b5e6e, 0xbec4be92, 0x3f24f360, 0x3f18abf0, 0x3f300000,
    0x3c1d7bfb, 0xbd795bed, 0x3da38508, 0x3d839143, 0xbebce070, 0x3f0cbfe7, 0x3f2bc480, 0x3f500000,
    0x3c722cd1, 0xbd5fddda, 0x3d31416a, 0x3dc21ee1, 0xbead510e, 0x3eec1a69, 0x3f3bec1c, 0x3f700000,
    0x3c973f1c, 0xbd038f3b, 0x3b562657, 0x3de347af, 0xbe8ef7d6, 0x3eb0a801, 0x3f4f2e5b, 0x3f900000,
    0x3c33a31b, 0xbc1cad63, 0xbcaeeac9, 0x3dcbec96, 0xbe4b8704, 0x3e6753a2, 0x3f613c53, 0x3fb00000,
    0x3b862ef4, 0x3abb4766, 0xbcce9419, 0x3d99ef2d, 0xbe083237, 0x3e132f1a, 0x3f6ce37d, 0x3fd00000,
    0x3a27b3d0, 0x3b95f10b, 0xbcaaeac4, 0x3d542ea1, 0xbdaf7449, 0x3db7e7d3, 0x3f743c4f, 0x3ff00000,
    0xba3b5907, 0x3b825873, 0xbc49e7d0, 0x3cdde701, 0xbd2e1ec4, 0x3d320845, 0x3f7a5feb, 0x40100000,
    0xba0efc22, 0x3afaea66, 0xbba71ddd, 0x3c2cca67, 0xbc83bf06, 0x3c84d3d4, 0x3f7dea85, 0x40300000,
    0xb97f9f0f, 0x3a49f878, 0xbb003b0e, 0x3b81cb27, 0xbbc3e0b5, 0x3bc477b7, 0x3f7f3b3d, 0x40500000,
    0xb8c8af50, 0x39996bf3, 0xba3f9a05, 0x3ac073a1, 0xbb10aadc, 0x3b10d3da, 0x3f7fb78c, 0x40700000,
    0xb7bdddfb, 0x388f3e6c, 0xb92c08a7, 0x39ac3032, 0xba0157db, 0x3a01601e, 0x3f7fefd4, 0x40900000,
    0xb64f2950, 0x371bb0e3, 0xb7ba9232, 0x383a94d9, 0xb88c18f2, 0x388c1a3b, 0x3f7ffdd0, 0x40b00000,
    0xb4e085b1, 0x35a8a5e6, 0xb64a0b0f, 0x36ca081d, 0xb717b096, 0x3717b0da, 0x3f7fffb4, 0x40d00000,
    0xb3731dfa, 0x34369b17, 0xb4dac169, 0x355abd4c, 0xb5a43bae, 0x35a43bce, 0x3f7ffff6, 0x40f00000,
    0xb15a1f04, 0x322487b0, 0xb2ab78ac, 0x332b3cb6, 0xb383012c, 0x338306c6, 0x3f7fffff, 0x41100000,
    0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x3f800000, 0x00000000
), "f64": (
    0x0000000000000000, 0x0000000000000000, 0x3ff0000000000000, 0xbbf0b3ea3fdfaa19,
    0xbfd5555555555555, 0xbce6863ee44ed636, 0x3fc1111111112ab5, 0xbda1ea19ddddb3b4,
    0xbfaba1ba1990520b, 0xbe351ca7f096011f, 0x3f9664f94e6ac14e, 0xbea8c4c1fd7852fe,
    0xbf822404577aa9dd, 0xbefdd99a221ed573, 0x3f6e3be689423841, 0xbf2a1306713a4f3a,
    0xbf55d7e76dc56871, 0x3f35e67ab76a26e7,
    0x3fcc000000000000, 0x3fcb8fd0416a7c92, 0x3fee842ca3f08532, 0xbfca48aaeb53bc21,
    0xbfd183afc292ba11, 0x3fc04dcd0476c75e, 0x3fb5c19efdfc08ad, 0xbfb0b8df995ce4df,
    0xbf96e37bba52f6fc, 0x3f9eaaf3320c3851, 0xbf94d3343bae39dd, 0xbfccce16b1046f13,
    0x403d8b07f7a82aa3, 0x4070593a3735bab4, 0xc0d263511f5baac1, 0xc1045e509116b066,
    0x41528c38809c90c7, 0x41848ee0627d8206,
    0x3fd4000000000000, 0x3fd35f98a0ea650e, 0x3fed11574af58f1b, 0xbfd19921f4329916,
    0xbfcc1a4b039c9bfa, 0x3fc43d3449a80f08, 0x3fa74c98dc34fbac, 0xbfb2955cf41e8164,
    0x3ecff7df18455399, 0x3f9cf823fe761fc1, 0xbf7bc748e60df843, 0xbf81a16f224bb7b6,
    0xbf9f44ab92fbab0a, 0xbfccab654e44835e, 0x40169f73b15ebe5c, 0x4041fab9250984ce,
    0xc076d57fb5190b02, 0xc0a216d618b489ec,
    0x3fdc000000000000, 0x3fda5729ee488037, 0x3fea945b9c24e4f9, 0xbfd5e0f09bef8011,
    0xbfc16e1e6d8d0be6, 0x3fc5c26f3699b7e7, 0xbf790d6a8eff0a77, 0xbfaf9d05c309f7c6,
    0x3f97362834d33a4e, 0x3f9022271754ff1f, 0xbf8c89372b43ba85, 0xbf62cbf00406bc09,
    0x3fb2eac604473d6a, 0x3fd13ed80037dbac, 0xc025c1dd41cd6cb5, 0xc0458d090ec3de95,
    0x4085f09f888f8ada, 0x40a5b89107c8af4f,
    0x3fe4000000000000, 0x3fe1bf47eabb8f95, 0x3fe6284c3374f815, 0xbfd893b59c35c882,
    0xbf92426c751e48a2, 0x3fc1a686f6ab2533, 0xbfac3c021789a786, 0xbf987d27ccff4291,
    0x3f9e7f8380184b45, 0xbf731fe77c9c60af, 0xbf8129a092de747a, 0x3f75b29bb02cf69b,
    0x3f45f87d903aaac8, 0xbf6045b9076cc487, 0xbf58fd89fe05e0d1, 0xbf74949d60113d63,
    0x3fa246332a2fcba5, 0x3fb69d8374520eda,
    0x3fec000000000000, 0x3fe686650b8c2015, 0x3fe02500a09f8d6e, 0xbfd6ba7cb7576538,
    0x3fb4f152b2bad124, 0x3faf203c316ce730, 0xbfae2196b7326859, 0x3f8b2ca62572b098,
    0x3f869543e7c420d4, 0xbf84a6046865ec7d, 0x3f60c85b4d538746, 0x3f607df0f9f90c17,
    0xbf5e104671036300, 0x3f2085ee7e8ac170, 0x3f73f7af01d5af7a, 0x3f7c9fd6200d0ade,
    0xbfb29d851a896fcd, 0xbfbded519f981716,
    0x3ff4000000000000, 0x3feb2523bb6b2dee, 0x3fd1f25131e3a8c0, 0xbfce7291743d7555,
    0x3fbbba40cbef72be, 0xbf89c7a02788557c, 0xbf93a7a011ff8c2a, 0x3f8f1cf6c7f5b00a,
    0xbf7326bd4914222a, 0xbf4ca3f1f2b9192b, 0x3f5be9392199ec18, 0xbf4b852a6e0758d5,
    0x3f19bc98ddf0f340, 0x3f23524622610430, 0xbf1e40bdead17e6b, 0x3f02cd40e0ad0a9f,
    0x3ed9065ae369b212, 0xbef02d288b5b3371,
    0x3ffc000000000000, 0x3fee1fbf97e33527, 0x3fbd22ca1c24a139, 0xbfbb6d85a01efb80,
    0x3fb01ba038be6a3d, 0xbf98157e26e0d541, 0x3f6e4709c7e8430e, 0x3f60379811e43dd5,
    0xbf5fc15b0a9d98fa, 0x3f4c77dee0afd227, 0xbf2a0c68a4489f10, 0xbf0078c63d1b8445,
    0x3f0d4304bc9246e8, 0xbeff12a6626911b4, 0x3ee224cd6c4513e5, 0xbe858ab8e019f311,
    0xbeb8e1ba4c98a030, 0x3eb290981209c1a6,
    0x4004000000000000, 0x3fef9258260a71c2, 0x3f9b3afe1fba5c76, 0xbf9addae58c7141a,
    0x3f916df44871efc8, 0xbf807b55c1c7d278, 0x3f67682afa611151, 0xbf4793826f78537e,
    0x3f14cffcfa69fbb6, 0x3f04055bce68597a, 0xbf00462601dc2faa, 0x3eec12eadd55be7a,
    0xbed13c415f7b9d41, 0x3eab9008bca408af, 0xbe24b645e68eeaa3, 0xbe792fa6323b7cf8,
    0x3e6ffd0766ad4016, 0xbe567e924bf5ff6e,
    0x400c000000000000, 0x3feff112c63a9077, 0x3f6dd37d19b22b21, 0xbf6dc59376c7aa19,
    0x3f63c6869dfc8870, 0xbf53a18d5843190f, 0x3f3ef2ee77717cbf, 0xbf2405695e36240f,
    0x3f057e48e5b79d10, 0xbee2bf0cb4a71647, 0x3eb7b6a219dea9f4, 0xbe6fa600f593181b,
    0xbe722b8d9720cdb0, 0x3e634df71865f620, 0xbe4abfebfb72bc83, 0x3e2df04d67876402,
    0xbe0c63c29f505f5b, 0x3de3f7f7de6b0eb6,
    0x4014000000000000, 0x3fefff419668df11, 0x3f27ccec13a9ef96, 0xbf27cc5e74677410,
    0x3f1fb9aef915d828, 0xbf0fb6bbc89b1a5b, 0x3ef95a4482f180b7, 0xbee0e08de39ce756,
    0x3ec33b66d7d77264, 0xbea31eaafe73efd5, 0x3e80cbcc8d4c5c8a, 0xbe5a3c935dce3f7d,
    0x3e322666d739bec0, 0xbe05bb1bcf83ca73, 0x3dd51c38f8695ed3, 0xbd95c72be95e4d2c,
    0xbd7fab216b9e0e49, 0x3d69ed18bae3ebbc,
    0x401c000000000000, 0x3feffffc832750f2, 0x3ecbe6c3f33250ae, 0xbecbe6c0e8b4cc87,
    0x3ec299d1e27c6e11, 0xbeb299c9c684a963, 0x3e9dc2c27da3b603, 0xbe83d709ba5f714e,
    0x3e66ac4e578b9b10, 0xbe46abb02c4368ed, 0x3e2425bb231a5e29, 0xbe001c6d95e3ae96,
    0x3dd76a553d7e7918, 0xbdaf2ac143fb6762, 0x3d8313ac38c6832b, 0xbd55a89c30203106,
    0x3d2826b62056aa27, 0xbcf7534c4f3dfa71,
    0x4024000000000000, 0x3feffffffdc96f35, 0x3e41b4865394f75f, 0xbe41b486526b0565,
    0x3e379b5ddcca334c, 0xbe279b5dd4fb3d01, 0x3e12e2afd9f7433e, 0xbdf92e3fc5ee63e0,
    0x3ddcc74b8d3d5c42, 0xbdbcc749ca8079dd, 0x3d9992a4beac8662, 0xbd74755a00ea1fd3,
    0x3d4de0fa59416a39, 0xbd23eae52a3dbf57, 0x3cf7787935626685, 0xbccad6b3bb9eff65,
    0x3ca313e31762f523, 0xbc730b73f1eaff20,
    0x402c000000000000, 0x3fefffffffffcf58, 0x3d8853f01bda5f28, 0xbd8853f01bef63a4,
    0x3d8037f57bc62c9a, 0xbd7037f57ae72aa6, 0x3d59f320348679ba, 0xbd414cc030f2110e,
    0x3d23c589137f92b4, 0xbd03c5883836b9d2, 0x3ce191ba5ed3fb67, 0xbcbc1c6c063bb7ac,
    0x3c948716cf3681b4, 0xbc6b5e3e9ca0955e, 0x3c401ffc49c6bc29, 0xbc12705ccd3dd884,
    0x3bea37aa21895319, 0xbbba2cff8135d462,
    0x4034000000000000, 0x3ff0000000000000, 0x3c73953c0197ef58, 0xbc73955be519be31,
    0x3c6a2d4b50a2cff7, 0xbc5a2ca2bba78e86, 0x3c44b61d9bbcc940, 0xbc2ba022e8d82a87,
    0x3c107f8e2c8707a1, 0xbbf07a5416264aec, 0x3bc892450bad44c4, 0xbba3be9a4460fe00,
    0x3b873f9f2d2fda99, 0xbb5eca68e2c1ba2e, 0xbabf0b21acfa52ab, 0xba8e0a4c47ae75f5,
    0x3ae5c7f1fd871496, 0xbab5a71b5f7d9035,
    0x0000000000000000, 0x3ff0000000000000, 0x0000000000000000, 0x0000000000000000,
    0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000,
    0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000,
    0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000,
    0x0000000000000000, 0x0000000000000000
)}

# a * b + c rounded once: float64 (lerp's fmadd), float32 (ATen's vectorized erf,
# prims._erf_h)
_FMA = """
@intrinsic
def _fma_{s}(typingctx, a, b, c):
    sig = _nbt.{t}(_nbt.{t}, _nbt.{t}, _nbt.{t})

    def codegen(context, builder, signature, args):
        f = _llir.{ir}()
        fn = _cgutils.get_or_insert_function(builder.module,
                                             _llir.FunctionType(f, [f, f, f]), "llvm.fma.{s}")
        return builder.call(fn, args)
    return sig, codegen
"""

_SOURCES = {
    **{f"_fma_{s}": _FMA.format(s=s, t=t, ir=ir)
       for s, t, ir in (("f64", "float64", "DoubleType"), ("f32", "float32", "FloatType"))},
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
    # llvm.fma (one rounding: an FMA instruction, or libm's fma where the CPU has none) and a
    # constant table read at a computed index (LLVM turns it into a gather in a vector loop)
    "_llvm_helpers": """
def _llvm_fma(builder, a, b, c):
    fn = _cgutils.get_or_insert_function(
        builder.module, _llir.FunctionType(a.type, [a.type] * 3),
        "llvm.fma.f32" if a.type == _llir.FloatType() else "llvm.fma.f64")
    return builder.call(fn, [a, b, c])


def _llvm_lut(builder, name, ty, bits, idx):
    w = 32 if ty == _llir.FloatType() else 64
    ity = _llir.IntType(w)
    bits = [b - (1 << w) if b >> (w - 1) else b for b in bits]
    mod = builder.module
    g = mod.globals.get(name)
    if g is None:
        arr = _llir.ArrayType(ity, len(bits))
        g = _llir.GlobalVariable(mod, arr, name)
        g.initializer = _llir.Constant(arr, [_llir.Constant(ity, b) for b in bits])
        g.global_constant = True
        g.linkage = "internal"
    zero = _llir.Constant(_llir.IntType(32), 0)
    ptr = builder.gep(g, [zero, idx], inbounds=True)
    return builder.bitcast(builder.load(ptr), ty)
""",
    # NumPy's float32 exp (simd_exp_FLOAT of loops_exponent_log.dispatch.c.src, the
    # AVX2+FMA3 and AVX512F loops, which give the same bits): q = rint(x log2 e) by the
    # 1.5 * 2^23 trick, Cody-Waite reduction r = x + q c1 + q c2 (FMAs), exp(r) as the
    # rational P5(r) / Q2(r) (FMAs), times 2^q rounded once (two exact power-of-two
    # factors: scalef's value, denormal results included); x >= 88.72284 is inf,
    # x <= -103.97208 is 0, NaN the default NaN
    "_vexp_f32": """
def _emit_vexp_f32(builder, x):
    f32, i32 = _llir.FloatType(), _llir.IntType(32)
    cf = lambda v: _llir.Constant(f32, float(_f32(v)))
    ci = lambda v: _llir.Constant(i32, v)
    fma = lambda a, b, c: _llvm_fma(builder, a, b, c)
    zero = cf(0.0)
    nan = builder.fcmp_unordered('uno', x, x)
    x = builder.select(nan, zero, x)
    big = builder.fcmp_ordered('>=', x, cf(88.72283935546875))
    small = builder.fcmp_ordered('<=', x, cf(-103.97208404541015625))
    x = builder.select(builder.or_(big, small), zero, x)
    q = builder.fmul(x, cf(1.4426950408889634))
    q = builder.fsub(builder.fadd(q, cf(12582912.0)), cf(12582912.0))
    r = fma(q, cf(-6.93145752e-1), x)
    r = fma(q, cf(-1.42860677e-6), r)
    r = fma(q, zero, r)
    num = fma(cf(5.082762527590693718096e-04), r, cf(6.757896990527504603057e-03))
    for c in (5.114512081637298353406e-02, 2.473615434895520810817e-01,
              7.257664613233124478488e-01, 9.999999999980870924916e-01):
        num = fma(num, r, cf(c))
    den = fma(cf(2.159509375685829852307e-02), r, cf(-2.742335390411667452936e-01))
    den = fma(den, r, cf(1.0))
    p = builder.fdiv(num, den)
    k = builder.fptosi(q, i32)
    k1 = builder.ashr(k, ci(1))
    k2 = builder.sub(k, k1)
    s1 = builder.bitcast(builder.shl(builder.add(k1, ci(127)), ci(23)), f32)
    s2 = builder.bitcast(builder.shl(builder.add(k2, ci(127)), ci(23)), f32)
    e = builder.fmul(builder.fmul(p, s1), s2)
    e = builder.select(nan, cf(float('nan')), e)
    e = builder.select(big, cf(float('inf')), e)
    return builder.select(small, zero, e)


@intrinsic
def _vexp_f32(typingctx, x):
    sig = _nbt.float32(_nbt.float32)

    def codegen(context, builder, signature, args):
        return _emit_vexp_f32(builder, args[0])
    return sig, codegen
""",
    # NumPy's float32 log (simd_log_FLOAT, same file): x = m 2^e with m in [0.5, 1)
    # (a denormal scaled by 2^100 first), m <= sqrt(1/2) doubled, log(1 + (m - 1)) as
    # P5 / Q5 (FMAs), + e ln 2 (an FMA); x < 0 gives -NaN, 0 gives -inf, inf inf
    "_vlog_f32": """
@intrinsic
def _vlog_f32(typingctx, x):
    sig = _nbt.float32(_nbt.float32)

    def codegen(context, builder, signature, args):
        f32, i32 = _llir.FloatType(), _llir.IntType(32)
        cf = lambda v: _llir.Constant(f32, float(_f32(v)))
        ci = lambda v: _llir.Constant(i32, v)
        fma = lambda a, b, c: _llvm_fma(builder, a, b, c)
        x = args[0]
        neg = builder.fcmp_ordered('<', x, cf(0.0))
        zero = builder.fcmp_ordered('==', x, cf(0.0))
        inf = builder.fcmp_ordered('==', x, cf(float('inf')))
        nan = builder.fcmp_unordered('uno', x, x)
        x = builder.select(neg, cf(0.0), x)
        den = builder.fcmp_ordered('<', x, cf(1.1754943508222875e-38))
        x = builder.select(den, builder.fmul(x, cf(2.0 ** 100)), x)
        bits = builder.bitcast(x, i32)
        e = builder.sitofp(builder.sub(builder.lshr(bits, ci(23)), ci(126)), f32)
        e = builder.select(den, builder.fsub(e, cf(100.0)), e)
        m = builder.bitcast(builder.or_(builder.and_(bits, ci(0x7FFFFF)), ci(126 << 23)), f32)
        low = builder.fcmp_ordered('<=', m, cf(0.7071067811865476))
        m = builder.select(low, builder.fadd(m, m), m)
        e = builder.select(low, builder.fsub(e, cf(1.0)), e)
        m = builder.fsub(m, cf(1.0))
        num = fma(cf(2.589979117907922693523e-02), m, cf(3.808837741388407920751e-01))
        for c in (1.480000633576506585156e+00, 2.112677543073053063722e+00,
                  9.999999999999998702752e-01, 0.0):
            num = fma(num, m, cf(c))
        dn = fma(cf(5.875095403124574342950e-03), m, cf(1.546476374983906719538e-01))
        for c in (9.864942958519418960339e-01, 2.453006071784736363091e+00,
                  2.612677543073109236779e+00, 1.0):
            dn = fma(dn, m, cf(c))
        r = fma(e, cf(0.6931471805599453), builder.fdiv(num, dn))
        r = builder.select(nan, cf(float('nan')), r)
        r = builder.select(neg, builder.bitcast(ci(-4194304), f32), r)     # -NaN, 0xffc00000
        r = builder.select(zero, cf(float('-inf')), r)
        return builder.select(inf, cf(float('inf')), r)
    return sig, codegen
""",
    # NumPy's float32 sin / cos (simd_sincos_f32 of loops_trigonometric.dispatch.cpp, on
    # every CPU with FMA): |x| up to 117435.992 (sin) / 71476.0625 (cos) reduced by
    # Cody-Waite with q = rint(x 2/pi) (three FMAs), both polynomials (FMAs), the one the
    # quadrant picks, negated as 0 - v in quadrants 2 and 3; larger |x| (and inf) libm's
    # sinf / cosf, as NumPy's fallback, in a branch; NaN the default NaN
    **{f"_v{_fn}_f32": f"""
@intrinsic
def _v{_fn}_f32(typingctx, x):
    sig = _nbt.float32(_nbt.float32)

    def codegen(context, builder, signature, args):
        f32, i32 = _llir.FloatType(), _llir.IntType(32)
        cf = lambda v: _llir.Constant(f32, float(_f32(v)))
        ci = lambda v: _llir.Constant(i32, v)
        fma = lambda a, b, c: _llvm_fma(builder, a, b, c)
        fty = _llir.FunctionType(f32, [f32])
        fabs = _cgutils.get_or_insert_function(builder.module, fty, "llvm.fabs.f32")
        x = args[0]
        nan = builder.fcmp_unordered('uno', x, x)
        x = builder.select(nan, cf(0.0), x)
        small = builder.fcmp_ordered('<=', builder.call(fabs, [x]), cf({_max}))
        xs = builder.select(small, x, cf(0.0))
        # (x 2/pi + 1.5 2^23 as one FMA: GCC contracts NumPy's Mul and Add)
        q = fma(xs, cf(float.fromhex('0x1.45f306p-1')), cf(12582912.0))
        q = builder.fsub(q, cf(12582912.0))
        r = fma(q, cf(float.fromhex('-0x1.921fb0p+00')), xs)
        r = fma(q, cf(float.fromhex('-0x1.5110b4p-22')), r)
        r = fma(q, cf(float.fromhex('-0x1.846988p-48')), r)
        r2 = builder.fmul(r, r)
        c = fma(cf(float.fromhex('0x1.98e616p-16')), r2, cf(float.fromhex('-0x1.6c06dcp-10')))
        c = fma(c, r2, cf(float.fromhex('0x1.55553cp-05')))
        c = fma(c, r2, cf(-0.5))
        c = fma(c, r2, cf(1.0))
        s = fma(cf(float.fromhex('0x1.7d3bbcp-19')), r2, cf(float.fromhex('-0x1.a06bbap-13')))
        s = fma(s, r2, cf(float.fromhex('0x1.11119ap-07')))
        s = fma(s, r2, cf(float.fromhex('-0x1.555556p-03')))
        s = fma(s, r2, cf(0.0))
        s = fma(s, r, r)
        iq = builder.fptosi(q, i32)
        if {_cos}:
            iq = builder.add(iq, ci(1))
        v = builder.select(builder.icmp_signed('==', builder.and_(iq, ci(1)), ci(0)), s, c)
        neg = builder.icmp_signed('==', builder.and_(iq, ci(2)), ci(2))
        v = builder.select(neg, builder.fsub(cf(0.0), v), v)
        v = builder.select(nan, cf(float('nan')), v)
        pre = builder.block
        with builder.if_then(builder.not_(small), likely=False):
            libm = _cgutils.get_or_insert_function(builder.module, fty, "{_fn}f")
            big = builder.call(libm, [x])
            then = builder.block
        out = builder.phi(f32)
        out.add_incoming(v, pre)
        out.add_incoming(big, then)
        return out
    return sig, codegen
""" for _fn, _max, _cos in (("sin", 117435.992, False), ("cos", 71476.0625, True))},
    # NumPy's tanh (simd_tanh_f32 / simd_tanh_f64 of loops_hyperbolic.dispatch.cpp.src,
    # Intel SVML's algorithm, on every CPU with FMA): |x| picks one of 32 (float64: 16)
    # intervals by its exponent bits, whose polynomial in y = |x| - b (degree 6; float64
    # 16) is evaluated by FMAs from the highest coefficient; |x| above the table (and inf)
    # gives 1; the sign copied back; NaN the default NaN. Tables: numpy_tables.py
    **{f"_vtanh_{_s}": f"""
_TANH_LUT_{_s.upper()} = {_TANH_TABLES[_s]!r}


@intrinsic
def _vtanh_{_s}(typingctx, x):
    sig = _nbt.{_t}(_nbt.{_t})

    def codegen(context, builder, signature, args):
        ft, it = _llir.{_ll}(), _llir.IntType({_w})
        i32 = _llir.IntType(32)
        ci = lambda v: _llir.Constant(it, v)
        c32 = lambda v: _llir.Constant(i32, v)
        x = args[0]
        bits = builder.bitcast(x, it)
        nd = builder.and_(bits, ci({_ndmask}))
        special = builder.icmp_signed('>', nd, ci({_huge}))
        if {_w} == 64:
            nd = builder.trunc(builder.lshr(nd, ci(32)), i32)
        idx = builder.sub(nd, c32({_base}))
        idx = builder.select(builder.icmp_signed('<', idx, c32(0)), c32(0), idx)
        idx = builder.select(builder.icmp_signed('>', idx, c32({_top})), c32({_top}), idx)
        idx = builder.mul(builder.lshr(idx, c32({_shift})), c32({_row}))
        coef = lambda k: _llvm_lut(builder, "_tanh_lut_{_s}", ft, _TANH_LUT_{_s.upper()},
                                   builder.add(idx, c32(k)))
        fabs = _cgutils.get_or_insert_function(builder.module, _llir.FunctionType(ft, [ft]),
                                               "llvm.fabs.{_s}")
        y = builder.fsub(builder.call(fabs, [x]), coef({_b}))
        r = coef({_ctop})
        for k in {_crest}:
            r = _llvm_fma(builder, r, y, coef(k))
        r = builder.select(special, _llir.Constant(ft, 1.0), r)
        sign = builder.and_(bits, ci({_sign}))
        r = builder.bitcast(builder.or_(builder.bitcast(r, it), sign), ft)
        return builder.select(builder.fcmp_unordered('uno', x, x),
                              _llir.Constant(ft, float('nan')), r)
    return sig, codegen
""" for _s, _t, _ll, _w, _ndmask, _huge, _base, _top, _shift, _row, _b, _ctop, _crest, _sign in (
        # float32 rows: c6 c5 c4 c3 c2 c1 c0 b; float64 rows: b c0 c1 ... c16
        ("f32", "float32", "FloatType", 32, 0x7FE00000, 0x7F000000, 0x3D400000, 0x3E00000,
         21, 8, 7, 0, (1, 2, 3, 4, 5, 6), 0x80000000 - (1 << 32)),
        ("f64", "float64", "DoubleType", 64, 0x7FF8000000000000, 0x7FE0000000000000,
         0x3FC00000, 0x780000, 19, 18, 0, 17, tuple(range(16, 0, -1)),
         0x8000000000000000 - (1 << 64)))},
}


# One SVML function on one element: x (and y) in lane 0 of a 16 x float32 / 8 x float64
# vector, the rest 0 (NumPy pads partial vectors likewise; lanes are independent), lane 0
# of the result. float64 expm1 replaces a NaN input by 1 and returns the NaN, as NumPy
# does around SVML's expm1 (its invalid-value workaround).
for (_name, _s), (_sym, _arity) in SVML.items():
    _t = "_nbt.float32" if _s == "f32" else "_nbt.float64"
    _SOURCES[f"_svml_{_name}_{_s}"] = f"""
@intrinsic
def _svml_{_name}_{_s}(typingctx, {', '.join('xy'[:_arity])}):
    sig = {_t}({', '.join([_t] * _arity)})

    def codegen(context, builder, signature, args):
        ft = _llir.{'FloatType' if _s == 'f32' else 'DoubleType'}()
        vt = _llir.VectorType(ft, {16 if _s == 'f32' else 8})
        fn = _cgutils.get_or_insert_function(builder.module,
                                             _llir.FunctionType(vt, [vt] * {_arity}), "{_sym}")
        zero = _llir.Constant(vt, [_llir.Constant(ft, 0.0)] * {16 if _s == 'f32' else 8})
        lane = _llir.Constant(_llir.IntType(32), 0)
        ins = list(args)
        if {(_name, _s) == ('expm1', 'f64')}:
            nan = builder.fcmp_unordered('uno', args[0], args[0])
            ins[0] = builder.select(nan, _llir.Constant(ft, 1.0), args[0])
        r = builder.call(fn, [builder.insert_element(zero, a, lane) for a in ins])
        r = builder.extract_element(r, lane)
        if {(_name, _s) == ('expm1', 'f64')}:
            r = builder.select(nan, args[0], r)
        return r
    return sig, codegen
"""


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
