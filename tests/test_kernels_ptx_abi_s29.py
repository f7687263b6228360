"""The CUDA kernels' real parameter lists against what the launcher writes, without a GPU.

The direct launch (kernels/launch.py) fills a block of 8-byte slots and hands
cuLaunchKernel one pointer per kernel parameter; the driver copies from each pointer as
many bytes as the kernel's PTX declares for that parameter. The fake CuPy tier reads the
block back the way gpujit writes it (unpack_kernel_params), so a disagreement with the
compiled kernel could not show there. Here each group's kernel is compiled to PTX as the
CUDA target compiles it (NVVM, cc 9.0), its `.entry` parameter list is parsed, and a launch
through the real launcher (cuLaunchKernel replaced by a reader) is decoded BY THE PTX'S
TYPES: the slot count must equal the parameter count; arrays are numba's 7 x .u64 (meminfo,
parent, nitems, itemsize, data, shape, stride); a float64 number is a .f64 slot holding the
double, an int64 one a 64-bit slot holding the int64, a bool one a .u8/.b8 read from the
slot's low byte (little-endian); data pointers, spans and n are checked against the arrays,
and the decoded arguments run the kernel's own text thread by thread (the emulation of
tests/test_kernels_cuda.py) against eager. Each PTX is assembled for sm_90 by nvJitLink
(the toolkit of the NVVM that wrote it: what targets.ptx_to_cubin loads when the driver is
older than the PTX ISA) and by ptxas (/usr/local/bin/ptxas; a ptxas older than the PTX's
ISA assembles a copy with `.version` lowered to its own). Skipped without NVVM (CI),
as the PTX is; the launcher's context binding and load_cuda's fallback are tested
without it.

Group shapes covered (each STATIC and DYNAMIC unless said): the three Python number kinds
(float/int/bool, special values and int64 extremes, a launcher called again with new
values); contiguous (vector loop), misaligned (vec=0), row/column broadcast, lower rank,
transposed, sliced, negative strides, outer product (partial outputs), 0-dim, both 0-dim,
read-only stride 0, 0-size (no launch); inputs and outputs of every dtype (float16/32/64,
int8/16/32/64, uint8, bool) flat, misaligned and transposed; chunk pieces (a LSTM-like
group, pieces of a transposed and of a flipped input) and cat branches; several outputs;
op families (arithmetic, comparisons/logical/where/masked_fill, rounding/min-max/clamp,
bitwise and shifts, transcendental, activations, casts to every dtype, special functions)
in float32 and in float16/float64/int32/bool where they apply; grids of 2^32+ elements
(n as a 64-bit parameter, gridDim.x capped) with a 64-bit global index.
"""
from __future__ import annotations

import ctypes
import math
import re
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest

import gpujit
from gpujit import kernels as K
from gpujit.kernels import targets
from gpujit.kernels.emit import generate
from gpujit.kernels.launch import THREADS, make_launcher

from test_kernels import (kernel_cache_dir, LAYOUTS, _A, _pair, _scalar_graph,  # noqa: F401
                          traced, reference, assert_same, sweep_graph, misaligned)
from test_kernels_cuda import needs_nvvm, _emulated_cuda_kernel, _DeviceArray


SM = 2          # the emulation's SM count (tests/test_kernels_cuda.py)
_ENTRY = re.compile(r"\.visible\s+\.entry\s+([\w$]+)\s*\(([^)]*)\)", re.S)
_PARAM = re.compile(r"\.param\s+(?:\.align\s+\d+\s+)?\.([a-z]+\d+)\s+[\w$]+(\[\d+\])?")
_CTYPE = {"f64": ctypes.c_double, "f32": ctypes.c_float,
          "u64": ctypes.c_int64, "s64": ctypes.c_int64, "b64": ctypes.c_int64,
          "u32": ctypes.c_int32, "s32": ctypes.c_int32, "b32": ctypes.c_int32,
          "u16": ctypes.c_uint16, "s16": ctypes.c_int16, "b16": ctypes.c_uint16,
          "u8": ctypes.c_uint8, "s8": ctypes.c_int8, "b8": ctypes.c_uint8}
# what the kernel must declare for each numba signature kind: 64-bit integer slots are
# written as int64, float64 slots as doubles, a bool's slot as an int64 0/1 read by its
# low byte
_ACCEPTED = {"float64": ("f64",), "int64": ("u64", "s64", "b64"),
             "boolean": ("u8", "b8", "s8")}


def entry_params(ptx):
    """(entry name, [PTX type of each parameter]) of the PTX's one kernel."""
    found = _ENTRY.findall(ptx)
    assert len(found) == 1, [f[0] for f in found]
    name, body = found[0]
    params = [m.group(0) for m in re.finditer(r"\.param[^,]*", body)]
    out = []
    for p in params:
        m = _PARAM.match(p.strip())
        assert m and not m.group(2), f"a parameter gpujit cannot write in one slot: {p}"
        out.append(m.group(1))
    return name, out


def signature_kinds(sig):
    return [t.strip() for t in sig[sig.index("(") + 1:-1].split(",")]


def check_declared(ptypes, ks):
    """The PTX parameter list is numba's ABI of the kernel's signature, each slot of a
    type the launcher's 8-byte write serves."""
    kinds = signature_kinds(ks.signature)
    want = sum(7 if k.endswith("[::1]") else 1 for k in kinds)
    assert len(ptypes) == want, (len(ptypes), want, ks.signature)
    j = 0
    for name, kind in zip(ks.params, kinds):
        if kind.endswith("[::1]"):
            assert ptypes[j:j + 7] == ["u64"] * 7, (name, ptypes[j:j + 7])
            j += 7
        else:
            assert ptypes[j] in _ACCEPTED[kind], (name, kind, ptypes[j])
            j += 1


def decode(params, ptypes):
    """The values the kernel receives from the kernelParams block, read as it declares."""
    ptrs = (ctypes.c_void_p * len(ptypes)).from_address(params)
    return [_CTYPE[t].from_address(ptrs[j]).value for j, t in enumerate(ptypes)]


def as_function_args(vals, ks):
    """The decoded values as CuPy's Function would take them (the emulation's input)."""
    out, j = [], 0
    for kind in signature_kinds(ks.signature):
        if kind.endswith("[::1]"):
            out += [int(v) for v in vals[j:j + 7]]
            j += 7
        else:
            v = vals[j]
            if kind == "boolean":
                assert v in (0, 1), v
                v = np.bool_(v)
            elif kind == "float64":
                v = np.float64(v)
            out.append(v)
            j += 1
    return tuple(out)


def lowest_and_span(a):
    """(address of a's lowest byte, span in elements) of an array."""
    lo = sum((n - 1) * s for n, s in zip(a.shape, a.strides) if s < 0)
    hi = sum((n - 1) * s for n, s in zip(a.shape, a.strides) if s > 0)
    return a.ctypes.data + lo, (hi - lo) // a.itemsize + 1


# ------------------------------------------------------------------ assembling

def _ptxas_max_isa():
    """The highest PTX ISA this ptxas reads (from its refusal of a far newer one)."""
    ptxas = shutil.which("ptxas")
    if ptxas is None:
        return None, None
    probe = ".version 99.9\n.target sm_90\n.address_size 64\n"
    r = subprocess.run([ptxas, "-arch=sm_90", "-", "-o", "/dev/null"], input=probe,
                       capture_output=True, text=True)
    m = re.search(r"current version is '(\d+)\.(\d+)'", r.stderr)
    return ptxas, ((int(m.group(1)), int(m.group(2))) if m else None)


_PTXAS = _ptxas_max_isa()


def _have_nvjitlink():
    try:
        from cuda.bindings import nvjitlink
        return nvjitlink is not None
    except ImportError:
        return False


def assemble(ptx, tmp_path, tag="k"):
    """Assemble for sm_90 with nvJitLink and ptxas (those present); the ptxas log."""
    log = None
    if _have_nvjitlink():
        assert targets.ptx_to_cubin(ptx, (9, 0))[:4] == b"\x7fELF"
    ptxas, top = _PTXAS
    if ptxas is not None:
        isa = targets.ptx_isa(ptx)
        text = ptx
        if top is not None and isa > top:      # an older ptxas: the same text, as top
            text = re.sub(r"^\.version\s+\d+\.\d+", f".version {top[0]}.{top[1]}", ptx,
                          count=1, flags=re.M)
        src = tmp_path / f"{tag}.ptx"
        src.write_text(text)
        r = subprocess.run([ptxas, "-arch=sm_90", "-v", str(src), "-o",
                            str(tmp_path / f"{tag}.cubin")], capture_output=True, text=True)
        if r.returncode and text is not ptx and "requires PTX ISA" in r.stderr:
            pass      # NVVM used an instruction newer than this ptxas: nvJitLink's says
        else:
            assert r.returncode == 0, r.stderr[-3000:]
            log = r.stderr
    if not _have_nvjitlink() and ptxas is None:
        pytest.skip("neither nvJitLink nor ptxas to assemble PTX with")
    return log


# ------------------------------------------------------------------ a launch, decoded

class _FakeOut:
    """An output allocation with no memory behind it (launches that are never run)."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.itemsize, self.size = self.dtype.itemsize, math.prod(self.shape)
        self.strides = ()
        self.data = types.SimpleNamespace(ptr=0x7f0000000000)


def launch_decoded(graph, args, static, run=True, empty=None, sm=SM, spec_args=None):
    """Build the kernel's PTX and its direct launcher; launch `args` through it with
    cuLaunchKernel replaced by a reader that decodes the parameter block by the PTX's
    types and checks every value; run the kernel's text on them (run=True). Returns
    (the kernel source, [decoded values per launch], [grids], outputs, PTX). The kernel
    is specialized on spec_args (default args)."""
    spec = K.spec_for(graph, spec_args or args, static=static)
    ks = generate(spec, "cuda")
    ptx, entry = K.ptx_for(spec, cc=(9, 0))
    name, ptypes = entry_params(ptx)
    assert name == entry
    check_declared(ptypes, ks)
    emulate = _emulated_cuda_kernel(ks) if run else None
    calls, grids = [], []

    def launch_kernel(f, gx, gy, gz, bx, by, bz, shared, stream, params, extra):
        for v in (f, gx, gy, gz, bx, by, bz, shared, stream, params, extra):
            assert type(v) is int
        assert (gy, gz, by, bz, shared, extra, bx) == (1, 1, 1, 1, 0, 0, THREADS)
        assert 1 <= gx <= 2 ** 31 - 1            # gridDim.x's limit
        assert len(fn_globals["_pv"]) == len(ptypes)     # one pointer per parameter
        vals = decode(params, ptypes)
        calls.append(vals)
        grids.append(gx)
        if emulate is not None:
            emulate((gx,), (bx,), as_function_args(vals, ks))

    fn = types.SimpleNamespace(ptr=0x7f0000001000)
    launch = make_launcher(ks, spec, fn, sm_count=sm, launch_kernel=launch_kernel,
                           stream=lambda: types.SimpleNamespace(ptr=0),
                           empty=empty or (lambda shape, dtype: _DeviceArray(
                               np.empty(shape, dtype))))
    fn_globals = launch.__globals__
    dev = [_DeviceArray(a) if isinstance(a, np.ndarray) else a for a in args]
    outs = launch(*dev)
    if calls:
        check_values(ks, calls[-1], args, outs)
    return ks, calls, grids, outs, ptx


def check_values(ks, vals, args, outs):
    """Each parameter's decoded value is what the kernel must get."""
    j = 0
    lay = ks.layout
    for name, kind in zip(ks.params, signature_kinds(ks.signature)):
        if kind.endswith("[::1]"):
            meminfo, parent, nitems, item, data, shape, stride = vals[j:j + 7]
            assert (meminfo, parent, shape, stride) == (0, 0, nitems, item), name
            k = int(name[1:])
            if name[0] == "a":
                a = args[k]
                assert item == a.itemsize, name
                plan = lay.inputs[k]
                if plan.kind in ("strided", "base"):
                    assert (data, nitems) == lowest_and_span(a), name
                else:
                    assert data == a.ctypes.data, name
                    assert nitems == (1 if plan.kind == "one" else value_of(ks, vals, "n")), name
            else:
                o = outs[k]
                assert (data, item) == (o.data.ptr, o.itemsize), name
                assert nitems == o.size, name
            j += 7
            continue
        v = vals[j]
        if name[0] == "p" and name[1:].isdigit():
            want = args[int(name[1:])]
            if kind == "float64":
                assert (math.isnan(v) and math.isnan(want)) or (
                    v == want and math.copysign(1, v) == math.copysign(1, want)), (v, want)
            elif kind == "boolean":
                assert v == int(bool(want)), (v, want)
            else:
                assert v == int(want), (v, want)
        elif name == "vec":
            ptrs = [args[k].ctypes.data for k, p in enumerate(lay.inputs)
                    if p.kind == "flat" and f"a{k}" in ks.params]
            ptrs += [o.data.ptr for o in outs]
            assert v == (0 if any(p % 16 for p in ptrs) else 1), v
        j += 1


def value_of(ks, vals, param):
    """The decoded value of number parameter `param`."""
    j = 0
    for name, kind in zip(ks.params, signature_kinds(ks.signature)):
        if name == param:
            return vals[j]
        j += 7 if kind.endswith("[::1]") else 1
    raise AssertionError(f"no parameter {param}")


def compare(graph, args, outs, where=""):
    for j, (o, r) in enumerate(zip(outs, reference(graph, args))):
        assert_same(o.a, r, f"{where} output {j}")


MODES = pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])


# ------------------------------------------------------------------ numbers

@needs_nvvm
@MODES
def test_python_numbers_reach_the_kernel_at_their_declared_width(static, tmp_path):
    """float -> .f64 (the double), int -> 64-bit (the int64, extremes too), bool -> .u8 of
    the slot's low byte; one launcher called again writes the new values."""
    g = _scalar_graph()
    for args in ((_A, 0.25, 3, True), (_A, -1.5, -7, False),
                 (_A, float("nan"), -2 ** 63, True), (_A, -0.0, 2 ** 63 - 1, False),
                 (_A, float("inf"), 0, True), (_A, 5e-324, 1, False)):
        _, calls, _, outs, ptx = launch_decoded(g, args, static,
                                                run=abs(args[2]) < 2 ** 40)
        if abs(args[2]) < 2 ** 40:
            compare(g, args, outs, repr(args))
    _, ptypes = entry_params(ptx)
    assert {"f64", "u8"} <= set(ptypes)
    assemble(ptx, tmp_path)


@needs_nvvm
@MODES
def test_numbers_of_numpy_kinds_are_written_as_their_python_kind(static):
    g = _scalar_graph()
    args = (_A, np.float32(0.5), np.int64(-9), np.bool_(True))
    _, calls, _, outs, _ = launch_decoded(g, args, static)
    compare(g, args, outs)


# ------------------------------------------------------------------ layouts

@needs_nvvm
@MODES
@pytest.mark.parametrize("case", [c for c in LAYOUTS if c != "0-size"])
def test_layouts_decoded_by_the_ptx(case, static, tmp_path):
    x, y = LAYOUTS[case]
    g = traced(_pair, x, y)
    ks, calls, grids, outs, ptx = launch_decoded(g, (x, y), static)
    assert len(calls) == 1
    compare(g, (x, y), outs, case)
    assemble(ptx, tmp_path)


@needs_nvvm
@MODES
def test_a_0_size_launch_is_never_made(static):
    x, y = LAYOUTS["0-size"]
    g = traced(_pair, x, y)
    _, calls, _, outs, _ = launch_decoded(g, (x, y), static)
    assert calls == [] and [o.shape for o in outs] == [(0, 5)] * 3


@needs_nvvm
@MODES
def test_the_vector_loop_flag_follows_alignment(static, tmp_path):
    rng = np.random.default_rng(3)
    x, y = (rng.standard_normal((3, 7)).astype(np.float32) for _ in range(2))
    g = traced(_pair, x, y)
    flags = []
    for inputs in ((x, y), (misaligned(x), y), (x, misaligned(y))):
        ks, calls, _, outs, ptx = launch_decoded(g, inputs, static)
        assert "vec" in ks.params
        flags.append(value_of(ks, calls[0], "vec"))
        compare(g, inputs, outs)
    assert flags == [1, 0, 0]
    log = assemble(ptx, tmp_path)
    if log is not None:     # the vector loop's 4-lane local arrays stay in registers
        entry = entry_params(ptx)[0]
        props = log[log.index(f"Function properties for {entry}"):]
        assert re.search(r"\n\s*0 bytes stack frame, 0 bytes spill stores", props), props


# ------------------------------------------------------------------ dtypes

_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
           "bool"]


def _dtype_group(dtype_name):
    if dtype_name == "bool":
        return lambda a, b: ((a & b) | a, a ^ b)
    if dtype_name.startswith("float"):
        return lambda a, b: ((a * b - a).abs(), a > b, (a + 1).to(gpujit.int32))
    return lambda a, b: (a * b + a - 3, a >= b, (a * 2).to(gpujit.float32))


def _dtype_values(dtype_name, shape=(5, 7), seed=0):
    rng = np.random.default_rng(seed)
    if dtype_name == "bool":
        return [rng.random(shape) < 0.5 for _ in range(2)]
    if dtype_name.startswith("float"):
        return [rng.standard_normal(shape).astype(dtype_name) for _ in range(2)]
    lo = 0 if dtype_name == "uint8" else -5
    return [rng.integers(lo, 6, shape).astype(dtype_name) for _ in range(2)]


@needs_nvvm
@MODES
@pytest.mark.parametrize("dtype_name", _DTYPES)
def test_every_dtype_flat_misaligned_and_transposed(dtype_name, static, tmp_path):
    x, y = _dtype_values(dtype_name)
    fn = _dtype_group(dtype_name)
    for inputs in ((x, y), (misaligned(x), y), (x, y.T.copy().T)):
        g = traced(fn, *inputs)
        _, calls, _, outs, ptx = launch_decoded(g, inputs, static)
        compare(g, inputs, outs, dtype_name)
        assemble(ptx, tmp_path)


# ------------------------------------------------------------------ pieces and cats

def _chunk_cases():
    import test_fusion_chunk_cat as C
    return C, ["lstm-like", "transposed", "negative strides", "uneven",
               "read whole and in pieces", "cat of computed, dim 1",
               "cat, broadcast in a branch", "cat, flipped"]


@needs_nvvm
@MODES
@pytest.mark.parametrize("case", _chunk_cases()[1])
def test_chunk_pieces_and_cat_branches(case, static, tmp_path):
    C, _ = _chunk_cases()
    g, args = C._kernel_graph(case)
    _, calls, _, outs, ptx = launch_decoded(g, args, static)
    compare(g, args, outs, case)
    assemble(ptx, tmp_path)


# ------------------------------------------------------------------ op families

FAMILIES = {
    "arithmetic": ("aten::add.Tensor", "aten::sub.Tensor", "aten::mul.Tensor",
                   "aten::div.Tensor_mode", "aten::rsub.Tensor", "aten::addcmul",
                   "aten::addcdiv", "aten::lerp.Scalar", "aten::neg", "aten::reciprocal"),
    "compare": ("aten::eq.Tensor", "aten::lt.Tensor", "aten::ge.Tensor", "aten::isclose",
                "aten::isnan", "aten::isfinite", "aten::signbit", "aten::logical_and",
                "aten::logical_xor", "aten::logical_not", "aten::where.self",
                "aten::masked_fill.Scalar", "aten::masked_fill.Tensor"),
    "rounding": ("aten::floor", "aten::round.decimals", "aten::trunc", "aten::frac",
                 "aten::remainder.Tensor", "aten::fmod.Tensor", "aten::floor_divide",
                 "aten::sign", "aten::abs", "aten::clamp", "aten::clamp.Tensor",
                 "aten::maximum", "aten::fmin"),
    "bitwise": ("aten::bitwise_and.Tensor", "aten::bitwise_xor.Tensor", "aten::bitwise_not",
                "aten::bitwise_left_shift.Tensor", "aten::bitwise_right_shift.Tensor"),
    "transcendental": ("aten::exp", "aten::log", "aten::tanh", "aten::sigmoid", "aten::sqrt",
                       "aten::rsqrt", "aten::pow.Tensor_Tensor", "aten::erf", "aten::sin",
                       "aten::atan2", "aten::hypot"),
    "activations": ("aten::relu", "aten::gelu", "aten::leaky_relu", "aten::hardtanh",
                    "aten::elu", "aten::silu", "aten::softplus", "aten::threshold",
                    "aten::hardswish"),
    "casts": ("aten::to.dtype",),
    "special": ("aten::lgamma", "aten::erfinv", "aten::special_ndtri", "aten::xlogy.Tensor"),
}
_FAMILY_DTYPES = [("float32", f) for f in FAMILIES if f != "bitwise"] + [
    ("float16", "arithmetic"), ("float16", "transcendental"), ("float64", "arithmetic"),
    ("float64", "transcendental"), ("int32", "rounding"), ("int32", "bitwise"),
    ("int64", "casts"), ("bool", "compare"), ("uint8", "bitwise")]


@pytest.mark.parametrize("dtype_name,family", _FAMILY_DTYPES,
                         ids=[f"{d}-{f}" for d, f in _FAMILY_DTYPES])
@needs_nvvm
def test_op_families(dtype_name, family, tmp_path):
    """Each family's group (DYNAMIC, with the vector loop where it fits; float32's also
    STATIC): the declared parameters, the decoded block and the assembled PTX. The
    simulator tier runs every op's arithmetic; the launch is checked, not run."""
    g, args, labels = sweep_graph(dtype_name, FAMILIES[family], (3, 7))
    assert labels, family
    for static in ((False, True) if dtype_name == "float32" else (False,)):
        _, calls, _, outs, ptx = launch_decoded(g, args, static, run=False)
        assert len(calls) == 1 and len(outs) == len(labels)
        assemble(ptx, tmp_path, f"{family}{static}")


# ------------------------------------------------------------------ big grids

@needs_nvvm
@MODES
def test_more_than_2_to_the_32_elements(static):
    """n travels as a 64-bit parameter, the grid stays within gridDim.x's limit (capped at
    32 blocks an SM), and the kernel's global index is 64-bit (tid + ctaid * ntid widened
    before the add; the loop compares 64-bit values)."""
    n = 2 ** 32 + 3
    big = np.broadcast_to(np.float32(1.5), (n,))          # stride 0: one element of memory
    small = np.asarray(np.float32(2))
    g = traced(lambda a, b: a * b + 1, np.ones(4, np.float32), small)
    ks, calls, grids, outs, ptx = launch_decoded(
        g, (big, small), static, run=False, sm=132,
        empty=lambda shape, dtype: _FakeOut(shape, dtype))
    assert value_of(ks, calls[0], "n") == n and outs[0].shape == (n,)
    assert grids == [min(-(-n // THREADS), 32 * 132)]
    assert re.search(r"mul\.wide\.[su]32\s+%rd\d+, %r\d+, %r\d+", ptx)
    assert re.search(r"setp\.(?:lt|ge|le|gt)\.s64", ptx)
    assert not re.search(r"mad\.lo\.s32\s+%r\d+, %r\d+, %r\d+, %r\d+;\s*cvt", ptx)


# ------------------------------------------------------------------ per-op rounding

@needs_nvvm
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nvvm_itself_rounds_a_times_b_plus_c(dtype, monkeypatch):
    """The -fma=0 option reaches NVVM: its own PTX (before round_per_op's fallback adds
    any .rn) has no fma and no unrounded add/mul for a * b + c."""
    monkeypatch.setattr(targets, "round_per_op", lambda ptx: ptx)
    x = np.linspace(-3, 3, 50).astype(dtype)
    g = traced(lambda a, b, c: a * b + c, x, x, x)
    ks = generate(K.spec_for(g, (x, x, x), static=True), "cuda")
    from numba import cuda
    ns = targets._exec_module(ks.text, "gpujit_ptx_d29_fma")
    ptx = targets._compile_ptx_per_op(cuda, ns["kernel"], ks.signature, (9, 0))
    f = "f32" if dtype == "float32" else "f64"
    assert not re.search(rf"(?<![\w.%$])(?:fma|mad)\.\w+\.{f}", ptx)
    assert re.search(rf"mul\.rn\.{f}", ptx) and re.search(rf"add\.rn\.{f}", ptx)
    assert not re.search(rf"(?<![\w.%$])(?:add|mul)\.{f}", ptx)


# ------------------------------------------------------------------ loading PTX

class _RefusingModule:
    """cupy.cuda.function.Module of a driver older than the PTX: refuses PTX text."""
    loaded = []

    def load(self, image):
        if not image.startswith(b"\x7fELF"):
            raise RuntimeError("CUDA_ERROR_UNSUPPORTED_PTX_VERSION: the provided PTX was "
                               "compiled with an unsupported toolchain.")
        _RefusingModule.loaded.append(image)

    def get_function(self, name):
        return types.SimpleNamespace(ptr=1, name=name)


def _fake_cupy(module_cls):
    class Device:
        def __init__(self, index):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False
    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(Device=Device,
                                      function=types.SimpleNamespace(Module=module_cls))
    return cupy


@needs_nvvm
def test_ptx_newer_than_the_driver_is_loaded_as_a_cubin(monkeypatch):
    if not _have_nvjitlink():
        pytest.skip("no nvJitLink")
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(_RefusingModule))
    monkeypatch.setattr(targets, "_PTX_REFUSED", [])
    x = np.ones(8, np.float32)
    spec = K.spec_for(traced(lambda a: a * 3 + 1, x), (x,), static=True)
    ptx, entry = K.ptx_for(spec, cc=(9, 0))
    _RefusingModule.loaded.clear()
    module, fn = targets.load_cuda(ptx, entry, 0, (9, 0))
    assert fn.name == entry and _RefusingModule.loaded[0][:4] == b"\x7fELF"
    assert targets._PTX_REFUSED                   # later loads go to cubin directly
    targets.load_cuda(ptx, entry, 0, (9, 0))
    assert len(_RefusingModule.loaded) == 2


def test_other_load_errors_are_not_hidden(monkeypatch):
    class Broken(_RefusingModule):
        def load(self, image):
            raise RuntimeError("CUDA_ERROR_OUT_OF_MEMORY: out of memory")
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(Broken))
    monkeypatch.setattr(targets, "_PTX_REFUSED", [])
    with pytest.raises(RuntimeError, match="OUT_OF_MEMORY"):
        targets.load_cuda(".version 9.5\n", "e", 0, (9, 0))
    assert not targets._PTX_REFUSED


def test_without_nvjitlink_a_refused_ptx_is_a_build_error(monkeypatch):
    """A KernelBuildError: the fuser runs the group unfused and says why."""
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(_RefusingModule))
    monkeypatch.setitem(sys.modules, "cuda.bindings.nvjitlink", None)
    bindings = sys.modules.get("cuda.bindings")
    if bindings is not None:
        monkeypatch.delattr(bindings, "nvjitlink", raising=False)
    monkeypatch.setattr(targets, "_PTX_REFUSED", [])
    with pytest.raises(K.KernelBuildError, match=r"cannot load PTX ISA \(9, 5\).*"
                       r"UNSUPPORTED_PTX_VERSION.*nvJitLink"):
        targets.load_cuda(".version 9.5\n.target sm_90\n", "e", 0, (9, 0))


# ------------------------------------------------------------------ the launch, found

@needs_nvvm
@MODES
def test_a_bool_number_is_written_0_or_1(static):
    """The kernel reads a bool's slot by its low byte: an int given for it (the kernels'
    own API takes any number) is written as its truth, as the CPU and simulator kernels
    take bool(p) (256 was written as 256: low byte 0, False)."""
    g = _scalar_graph()
    for flag in (256, 2, np.int64(512), 0):
        args = (_A, 0.25, 3, flag)
        ks, calls, _, outs, _ = launch_decoded(g, args, static,
                                               spec_args=(_A, 0.25, 3, True))
        assert value_of(ks, calls[0], "p3") == int(bool(flag))
        compare(g, (_A, 0.25, 3, bool(flag)), outs, repr(flag))


def _context_launcher(static, fail_with):
    """A direct launcher whose first cuLaunchKernel fails with `fail_with` (then works),
    with the context binder recorded."""
    x = np.linspace(-1, 1, 12).astype(np.float32)
    g = traced(lambda a: a * 2 - 1, x)
    spec = K.spec_for(g, (x,), static=static)
    ks = generate(spec, "cuda")
    emulate = _emulated_cuda_kernel(ks)
    seen = {"launches": 0, "bound": []}

    def launch_kernel(f, gx, gy, gz, bx, by, bz, shared, stream, params, extra):
        seen["launches"] += 1
        if seen["launches"] == 1 and fail_with is not None:
            raise RuntimeError(fail_with)
        from gpujit.kernels.launch import unpack_kernel_params
        emulate((gx,), (bx,), unpack_kernel_params(params, ks.signature))

    def bind(error):
        seen["bound"].append(str(error))
        if "CUDA_ERROR_INVALID_CONTEXT" not in str(error):
            raise error
    launch = make_launcher(ks, spec, types.SimpleNamespace(ptr=7), sm_count=SM,
                           launch_kernel=launch_kernel, bind_context=bind,
                           stream=lambda: types.SimpleNamespace(ptr=0),
                           empty=lambda shape, dtype: _DeviceArray(np.empty(shape, dtype)))
    return launch, x, seen


@MODES
def test_a_thread_without_a_current_context_binds_one_and_launches_again(static):
    """cuLaunchKernel finds no context on a thread that made no CUDA runtime call (a
    worker thread whose outputs were all recycled: no CuPy allocation bound one): the
    launcher binds the device's primary context and launches once more."""
    launch, x, seen = _context_launcher(static, "CUDA_ERROR_INVALID_CONTEXT: invalid "
                                                "device context")
    out = launch(_DeviceArray(x))[0].a
    np.testing.assert_array_equal(out, x * 2 - 1)
    assert seen["launches"] == 2 and len(seen["bound"]) == 1
    launch(_DeviceArray(x))
    assert seen["launches"] == 3 and len(seen["bound"]) == 1


@MODES
def test_other_launch_errors_propagate_and_release_the_launcher(static):
    launch, x, seen = _context_launcher(static, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES: too "
                                                "many resources requested for launch")
    with pytest.raises(RuntimeError, match="OUT_OF_RESOURCES"):
        launch(_DeviceArray(x))
    assert seen["launches"] == 1
    out = launch(_DeviceArray(x))[0].a            # not left busy
    np.testing.assert_array_equal(out, x * 2 - 1)


def test_the_default_binder_reraises_other_errors_untouched():
    from gpujit.kernels.launch import _bind_context
    e = RuntimeError("CUDA_ERROR_ILLEGAL_ADDRESS")
    with pytest.raises(RuntimeError) as got:
        _bind_context(0)(e)
    assert got.value is e
