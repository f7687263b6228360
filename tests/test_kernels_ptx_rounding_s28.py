"""CUDA kernels round after every float op, as eager's one kernel per op (and the CPU
kernels, tests/test_fuzz_finds_s27.py) do: NVVM compiles them with `-fma=0`, so it
writes `.rn` on each add/sub/mul (PTX ISA: ptxas never contracts an explicitly rounded op
into an FMA) and fuses none itself; the only FMAs left are explicit ones (libdevice's
exp/tanh/erf...). Checked on the PTX text, without a GPU (needs NVVM, as
tests/test_kernels_cuda.py)."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import gpujit
from gpujit import kernels as K
from gpujit.kernels import cache as kcache
from gpujit.kernels import targets

from test_kernels import kernel_cache_dir, traced  # noqa: F401
from test_kernels_cuda import needs_nvvm

# an add/sub/mul on a float type without a rounding modifier (ptxas may contract it)
_BARE = re.compile(r"(?<![\w.%$])(?:add|sub|mul)(?:\.ftz)?(?:\.sat)?"
                   r"\.(?:f16x2|f16|bf16x2|bf16|f32|f64)\b")
_FMA = re.compile(r"(?<![\w.%$])(?:fma|mad)\.\w+\.f(?:16|32|64)")
F = gpujit.nn.functional


# ------------------------------------------------------------------ the text rewrite

def test_round_per_op_adds_rn_to_float_add_sub_mul_only():
    ptx = ("\tadd.f32 \t%f3, %f2, %f1;\n"
           "\t@%p1 mul.ftz.sat.f32 %f4, %f3, %f3;\n"
           "\tsub.f64 \t%fd2, %fd1, %fd1;\n"
           "\tmul.f16x2 %r1, %r2, %r3;\n"
           "\tadd.bf16 %rs1, %rs2, %rs3;\n"
           "\tsub.ftz.f16 %rs1, %rs2, %rs3;\n")
    assert targets.round_per_op(ptx) == (
        "\tadd.rn.f32 \t%f3, %f2, %f1;\n"
        "\t@%p1 mul.rn.ftz.sat.f32 %f4, %f3, %f3;\n"       # .rnd before .ftz/.sat
        "\tsub.rn.f64 \t%fd2, %fd1, %fd1;\n"
        "\tmul.rn.f16x2 %r1, %r2, %r3;\n"
        "\tadd.rn.bf16 %rs1, %rs2, %rs3;\n"
        "\tsub.rn.ftz.f16 %rs1, %rs2, %rs3;\n")


def test_round_per_op_leaves_rounded_integer_atomic_and_fma_ops():
    ptx = ("\tadd.rn.f32 %f3, %f2, %f1;\n\tmul.rz.f32 %f3, %f2, %f1;\n"
           "\tsub.rm.f64 %fd3, %fd2, %fd1;\n\tfma.rn.f32 %f4, %f1, %f2, %f3;\n"
           "\tmul.wide.s32 %rd1, %r1, 4;\n\tadd.s64 %rd2, %rd1, %rd3;\n"
           "\tmul.lo.s32 %r1, %r2, %r3;\n\tadd.cc.u32 %r1, %r2, %r3;\n"
           "\tatom.global.add.f32 %f1, [%rd1], %f2;\n\tred.global.add.f64 [%rd1], %fd2;\n"
           "\tcvt.rn.f16.f32 %rs1, %f1;\n\tmov.f32 %f1, 0f3F800000;\n"
           "$L__BB0_2:\n\t// add.f32 in a comment is text\n")
    out = targets.round_per_op(ptx)
    assert out.replace("// add.rn.f32", "// add.f32") == ptx


def test_the_rounding_is_in_the_ptx_cache_key(monkeypatch, tmp_path):
    # PTX compiled before (with contracted FMAs) sits under the old key: never read again
    monkeypatch.setenv("GPUJIT_CACHE_DIR", str(tmp_path))
    text, sig, cc = "def kernel(a):\n    a[0] = 1\n", "void(float32[::1])", (9, 0)
    old = kcache.sha256("\n".join([text, sig, repr(cc), targets.versions()]))[:40]
    new = kcache.sha256("\n".join([text, sig, repr(cc), targets.versions(),
                                   targets.PTX_ROUNDING]))[:40]
    assert old != new
    # (an entry is read only when its PTX has the one .entry it names)
    for key, ptx in ((old, "stale\n.visible .entry e("), (new, "fresh\n.visible .entry e(")):
        assert kcache.write_verified_json(kcache.cache_dir() / "cuda" / f"{key}.json",
                                          {"ptx": ptx, "entry": "e"})
    assert targets.compile_ptx(text, sig, cc) == ("fresh\n.visible .entry e(", "e", True)


# ------------------------------------------------------------------ generated kernels

def _ptx(fn, *arrays, static=True):
    xs = [gpujit.from_numpy(a) for a in arrays]
    g = traced(fn, *xs)
    ptx, entry = K.ptx_for(K.spec_for(g, tuple(arrays), static=static), cc=(9, 0))
    assert re.findall(r"\.visible\s+\.entry\s+([\w$]+)\s*\(", ptx) == [entry]
    return ptx


def _floats(dtype, n=1000, k=1, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(dtype) for _ in range(k)]


def _assert_rounded_per_op(ptx, fmas_allowed):
    assert not _BARE.search(ptx), _BARE.findall(ptx)[:5]
    assert re.search(r"\b(?:add|sub|mul)\.rn\.f(?:16|32|64)\b", ptx)
    if not fmas_allowed:
        assert not _FMA.search(ptx), _FMA.findall(ptx)[:5]


_ARITH = {
    "x*3-x": (lambda a: a * 3 - a, 1),
    "a*b+c": (lambda a, b, c: a * b + c, 3),
    "a*b-c": (lambda a, b, c: a * b - c, 3),
    "addcmul": (lambda a, b, c: gpujit.addcmul(a, b, c, value=0.5), 3),
    "lerp-like": (lambda a, b, w: a + w * (b - a), 3),
}


@needs_nvvm
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("name", list(_ARITH))
def test_arithmetic_chains_have_no_fma(name, dtype):
    # NVVM's default -fma=1 fused a * b + c into one fma.rn itself (and left mul.f32 /
    # sub.f32 that ptxas may fuse): the fused result skipped the rounding of a * b
    fn, k = _ARITH[name]
    ptx = _ptx(fn, *_floats(getattr(np, dtype), k=k))
    if name == "addcmul" and dtype == "float64":
        # (addcmul is one FMA in eager gpujit and in PyTorch's kernels, fma(value * t1, t2,
        # self), since s47: its fused form asks for that FMA (prims._fma_f64); the other
        # products and sums stay rounded one by one)
        assert _FMA.search(ptx)
        _assert_rounded_per_op(ptx, fmas_allowed=True)
        return
    _assert_rounded_per_op(ptx, fmas_allowed=False)


@needs_nvvm
def test_x_times_3_minus_x_multiplies_then_subtracts():
    ptx = _ptx(lambda a: a * 3 - a, *_floats(np.float32), static=False)
    assert re.search(r"mul\.rn\.f32\s+(%f\d+), (%f\d+), 0f40400000;\s+"
                     r"sub\.rn\.f32\s+%f\d+, \1, \2;", ptx), ptx[-2000:]


@needs_nvvm
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "sigmoid_mul", "tanh_exp"])
def test_math_chains_round_per_op_outside_explicit_fmas(name, dtype):
    fn = {"gelu": lambda a: F.gelu(a),
          "gelu_tanh": lambda a: F.gelu(a, approximate="tanh"),
          "sigmoid_mul": lambda a: gpujit.sigmoid(a) * a,
          "tanh_exp": lambda a, b: gpujit.tanh(a) * gpujit.exp(b) - a}[name]
    k = 2 if name == "tanh_exp" else 1
    ptx = _ptx(fn, *_floats(getattr(np, dtype), k=k))
    _assert_rounded_per_op(ptx, fmas_allowed=True)
    assert "fma.rn." in ptx          # libdevice's own, explicit ones are kept


@needs_nvvm
@pytest.mark.parametrize("dtype", ["int32", "int64", "int16"])
def test_integer_chains_are_untouched(dtype):
    a, b, c = (np.arange(1, 1001, dtype=dtype) for _ in range(3))
    ptx = _ptx(lambda x, y, z: x * y + z - x, a, b, c)
    assert not re.search(r"(?<![\w.%$])(?:add|sub|mul|fma|mad)(?:\.\w+)*\.f(?:16|32|64)\b",
                         ptx)
    assert re.search(r"\b(?:mul\.lo|mad\.lo)\.[su](?:16|32|64)\b", ptx)
    assert targets.round_per_op(ptx) == ptx


# ------------------------------------------------------------------ libdevice helpers

def _one_call_kernel(fname, dtype):
    from numba import cuda
    ns = {"cuda": cuda, "math": math}
    exec(f"def kernel(a, out):\n    i = cuda.grid(1)\n    if i < a.size:\n"
         f"        out[i] = math.{fname}(a[i])\n", ns)
    return ns["kernel"], f"void({dtype}[::1], {dtype}[::1])"


@needs_nvvm
@pytest.mark.parametrize("fname", ["exp", "tanh", "erf", "log1p", "expm1"])
def test_libdevice_float32_helpers_keep_their_explicit_fmas(fname):
    # libdevice's float32 functions build on explicit fma.rn: -fma=0 removes none of them
    # (float64 log/log1p/pow/lgamma lose one to three contracted ones: their plain
    # mul/add sequences round per op too)
    from numba import cuda
    fn, sig = _one_call_kernel(fname, "float32")
    per_op = targets._compile_ptx_per_op(cuda, fn, sig, (9, 0))
    fn, sig = _one_call_kernel(fname, "float32")
    default, _ = cuda.compile_ptx(fn, sig, cc=(9, 0))
    assert len(_FMA.findall(per_op)) == len(_FMA.findall(default)) > 0
    assert not _BARE.search(per_op)


@needs_nvvm
def test_the_nvvm_hook_is_removed_after_the_compile():
    from numba import cuda
    from numba.cuda.cudadrv import nvvm
    before = nvvm.compile_ir

    def kernel(a, b, out):
        i = cuda.grid(1)
        if i < a.size:
            out[i] = a[i] * b[i] + out[i]
    ptx = targets._compile_ptx_per_op(cuda, kernel, "void(float32[::1], float32[::1], "
                                      "float32[::1])", (9, 0))
    assert nvvm.compile_ir is before
    _assert_rounded_per_op(ptx, fmas_allowed=False)
    with pytest.raises(Exception):               # a failed compile restores it too
        targets._compile_ptx_per_op(cuda, kernel, "void(float32)", (9, 0))
    assert nvvm.compile_ir is before


@needs_nvvm
def test_without_the_nvvm_route_the_text_rewrite_still_rounds(monkeypatch):
    # if numba-cuda's path to NVVM changes, the PTX still gets .rn on every float
    # add/sub/mul (ptxas contracts none), though NVVM may have fused some into fma.rn
    from numba import cuda
    from numba.cuda import compiler
    monkeypatch.delattr(compiler, "global_compiler_lock")

    def kernel(a, out):
        i = cuda.grid(1)
        if i < a.size:
            out[i] = a[i] * 3.0 - a[i]
    ptx = targets._compile_ptx_per_op(cuda, kernel, "void(float32[::1], float32[::1])",
                                      (9, 0))
    assert not _BARE.search(ptx)
    assert re.search(r"\b(?:sub|mul|fma)\.rn\.f(?:32|64)\b", ptx)
