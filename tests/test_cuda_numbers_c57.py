"""Numbers of the CUDA code generator under numba's simulator, of the CPU kernels and of eager,
at special values (helper c57, session 57). Expected values are torch 2.13's (CPU), written
out; NumPy computes the rest.

1. isclose of integer / bool tensors: torch compares them exactly, then their error in the
   default float dtype. Eager used NumPy's float64 (int64 2**24 + 1 vs 2**24 at atol 0.5 was
   False; torch: True), the fused kernel subtracted in the integer dtype, which wraps
   (int8 isclose(-128, 0) was True).
2. The simulator's pow took NumPy's scalar power, which takes sqrt for an exponent 0.5:
   pow(-inf, 0.5) gave nan and pow(-0.0, 0.5) -0.0 where C's pow (libdevice's, torch's)
   gives +inf and +0.0.
3. float64 FMA emulation (lerp, addcmul eager): a tiny addend that breaks the product's tie
   was lost (lerp(5e-324, 1.5, 0.3) gave 0.44999999999999996; torch 0.45), an overflowing
   product was not fused (addcmul(max, 1.5, -max) gave -inf; torch -max / 2, and inf for an
   inf self, where eager gave nan); the simulator's fma gave nan for an inf addend.
5. float -> uint8 goes through int64 in torch (c10's static_cast_with_inter_type<uint8_t>):
   float64 3000000007.0 is 7, -3000000007.0 249, 2**40 + 5 5; gpujit went through int32's
   conversion (NumPy's C cast; the fused kernels' _f2i_uint8), which gave 0 for all three.
4. torch.max / torch.min of two tensors keep self on a tie of signed zeros (max(-0., 0.) is
   -0., as maximum and the fused kernels); float16 nextafter of equal values is other, as
   C's (NumPy's float16 loop gave self).
"""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import gpujit as torch


def _bits(values):
    return [(v, math.copysign(1.0, v)) if isinstance(v, float) else v for v in values]


# ------------------------------------------------------------------ 1. isclose of integers

def test_isclose_integers_in_the_default_float_dtype():
    x = torch.tensor([2 ** 24 + 1, 2 ** 60 + 1], dtype=torch.int64)
    y = torch.tensor([2 ** 24, 2 ** 60], dtype=torch.int64)
    assert torch.isclose(x, y, rtol=0, atol=0.5).tolist() == [True, True]
    assert torch.isclose(x, y, rtol=0, atol=0).tolist() == [False, False]
    assert torch.allclose(x, y, rtol=0, atol=0.5)
    saved = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert torch.isclose(x, y, rtol=0, atol=0.5).tolist() == [False, True]
    finally:
        torch.set_default_dtype(saved)
    u = torch.tensor([0, 255], dtype=torch.uint8)
    assert torch.isclose(u, u.flip(0), rtol=0, atol=300).tolist() == [True, True]
    b = torch.tensor([True, False])
    assert torch.isclose(b, b).tolist() == [True, True]


_EXTREMES = {"int8": (-128, 127), "int16": (-32768, 32767), "int32": (-2 ** 31, 2 ** 31 - 1),
             "int64": (-2 ** 63, 2 ** 63 - 1)}


def _isclose_pairs(name):
    lo, hi = _EXTREMES[name]
    x = np.array([lo, hi, 0, 1, lo, hi, 5, 2 ** 24 + 1 if hi > 2 ** 25 else 5], name)
    y = np.array([0, -1, lo, -hi, hi, lo, 5, 2 ** 24 if hi > 2 ** 25 else 6], name)
    return x, y


def _isclose_expected(name):
    # torch 2.13: none of the extremes are close; equal values are; 2**24 + 1 and 2**24 are
    # one float32 (int32 / int64), 5 and 6 are not
    return [False] * 6 + [True, name in ("int32", "int64")]


def _compile_isclose():
    cu = torch.jit.CompilationUnit(
        "def f(x, y, r: float):\n"
        "    return torch.isclose(x + 0, y, r, 0.5), torch.isclose(x - 0, y)\n")
    return cu.f


@pytest.mark.parametrize("name", sorted(_EXTREMES))
def test_isclose_integers_fused_and_eager(name):
    x, y = _isclose_pairs(name)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    want = _isclose_expected(name)
    assert torch.isclose(tx, ty, 0.0, 0.5).tolist() == want
    f = _compile_isclose()
    for _ in range(3):
        a, b = f(tx, ty, 0.0)
        assert a.tolist() == want
        assert b.tolist() == want          # (the default rtol and atol)
    assert a.dtype == torch.bool


# ------------------------------------------------------------------ 3. FMA emulation

def test_fma64_tie_broken_by_a_tiny_addend_and_overflowing_products():
    from gpujit.ops import fma
    a = np.array([0.3, 0.3, 1.5, 1.5, 1.5, 0.1])
    b = np.array([1.5, 3.0, -1.7976931348623157e308, -1.7976931348623157e308, 1e308, 3.0])
    c = np.array([5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, np.inf, -np.inf,
                  1e-300])
    got = fma._fma_numpy64(a, b, c, np)
    from fractions import Fraction
    want = [float(Fraction(x) * Fraction(y) + Fraction(z)) if np.isfinite(z) else z
            for x, y, z in zip(a, b, c)]
    assert got.tolist() == want
    assert want[:2] == [0.45, 0.9] and want[2] == -8.988465674311579e307


def test_lerp_and_addcmul_float64_as_torch():
    d = torch.float64
    r = torch.lerp(torch.tensor([5e-324, 2.2250738585072014e-308], dtype=d),
                   torch.tensor([1.5, 3.0], dtype=d), 0.3)
    assert r.tolist() == [0.45, 0.9]
    big = 1.7976931348623157e308
    r = torch.addcmul(torch.tensor([math.inf, -math.inf, big], dtype=d),
                      torch.tensor([1.5, 1.5, 1.5], dtype=d),
                      torch.tensor([-big, big, -big], dtype=d))
    assert r.tolist() == [math.inf, -math.inf, -8.988465674311579e307]


# ------------------------------------------------------------------ 4. signed zeros

def test_max_min_of_two_tensors_keep_self_on_signed_zero_ties():
    for dt in (torch.float32, torch.float64, torch.float16):
        x = torch.tensor([-0.0, 0.0], dtype=dt)
        y = torch.tensor([0.0, -0.0], dtype=dt)
        for fn in (torch.max, torch.min, torch.maximum, torch.minimum):
            assert _bits(fn(x, y).tolist()) == _bits([-0.0, 0.0]), (fn, dt)


def test_nextafter_of_equal_values_is_other():
    for dt in (torch.float16, torch.float32, torch.float64):
        x = torch.tensor([-0.0, 0.0, 1.0], dtype=dt)
        y = torch.tensor([0.0, -0.0, 1.0], dtype=dt)
        assert _bits(torch.nextafter(x, y).tolist()) == _bits([0.0, -0.0, 1.0]), dt


# ------------------------------------------------------------------ 5. float -> uint8

_U8_IN = [3000000007.0, -3000000007.0, 1e10 + 3, -1.0, 300.0, 1e20, math.nan, 2.0 ** 40 + 5]
_U8_OUT = [7, 249, 3, 255, 44, 0, 0, 5]         # torch 2.13
_I8_OUT = [0, 0, 0, -1, 44, 0, 0, 0]            # (int8: through int32, unchanged)


def test_float64_to_uint8_through_int64():
    t = torch.tensor(_U8_IN, dtype=torch.float64)
    assert t.to(torch.uint8).tolist() == _U8_OUT
    assert t.byte().tolist() == _U8_OUT
    assert t.to(torch.int8).tolist() == _I8_OUT
    u = torch.zeros(8, dtype=torch.uint8)
    u.copy_(t)
    assert u.tolist() == _U8_OUT
    u = torch.zeros(8, dtype=torch.uint8)
    u[:] = t
    assert u.tolist() == _U8_OUT
    # float32 / float16 values beyond int32 are multiples of 256: 0 either way
    assert t.float().to(torch.uint8).tolist() == [0, 0, 0, 255, 44, 0, 0, 0]


def test_float64_to_uint8_fused():
    cu = torch.jit.CompilationUnit(
        "def f(x):\n    y = x * 1.0\n    return y.to(torch.uint8), y.to(torch.int8)\n")
    t = torch.tensor(_U8_IN, dtype=torch.float64)
    for _ in range(3):
        a, b = cu.f(t)
    assert a.tolist() == _U8_OUT and b.tolist() == _I8_OUT


# ------------------------------------------------------------------ the simulator

SIM = r"""
import sys, math, warnings
sys.path.insert(0, {tests!r})
warnings.filterwarnings("ignore")
import numpy as np
import gpujit
import test_kernels as t
from gpujit import kernels as K
from gpujit.ops import registry
from gpujit.ir import Graph, TensorType
import test_cuda_numbers_c57 as me


def run(opname, arrays, consts=(), target="sim"):
    op = registry.OPS[opname]
    g = Graph()
    tens = [gpujit.from_numpy(a) for a in arrays]
    ins = [g.add_input(f"t{{k}}", TensorType.of(v)) for k, v in enumerate(tens)]
    r = op.eager(*tens, *consts)
    vs = ins + [g.insert_constant(c) for c in consts]
    g.register_output(t.add_node(g, op, vs, r))
    k = K.build(K.spec_for(g, list(arrays), static=True), target)
    return k(*arrays)[0], r.numpy()


out = {{}}
for name in ("float16", "float32", "float64"):
    x = np.array([-np.inf, -0.0, 4.0, -4.0, 2.0], name)
    e = np.array([0.5, 0.5, 0.5, 0.5, -0.5], name)
    for opname in ("aten::pow.Tensor_Tensor", "aten::float_power.Tensor_Tensor"):
        got, eager = run(opname, (x, e))
        out[opname, name] = (me._bits(got.tolist()), me._bits(eager.tolist()))
for name in sorted(me._EXTREMES):
    x, y = me._isclose_pairs(name)
    got, eager = run("aten::isclose", (x, y), (0.0, 0.5, False))
    out["isclose", name] = (got.tolist(), eager.tolist())
big = 1.7976931348623157e308
s = np.array([np.inf, -np.inf, big, 5e-324])
t1 = np.array([1.5, 1.5, 1.5, 0.3])
t2 = np.array([-big, big, -big, 1.5])
got, eager = run("aten::addcmul", (s, t1, t2), (1,))
out["addcmul"] = (got.tolist(), eager.tolist())
import gpujit.dtypes as dt
for name in ("uint8", "int8"):
    got, eager = run("aten::to.dtype", (np.array(me._U8_IN),), (getattr(dt, name),))
    out["to", name] = (got.tolist(), eager.tolist())
print(repr(out))
"""


@pytest.fixture(scope="module")
def sim_results(tmp_path_factory):
    from cache_seed import warm
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1",
               GPUJIT_CACHE_DIR=warm(tmp_path_factory.mktemp("c57") / "cache"))
    tests = os.path.dirname(__file__)
    r = subprocess.run([sys.executable, "-c", SIM.format(tests=tests)], capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-6000:]
    return eval(r.stdout.strip().splitlines()[-1], {"inf": math.inf, "nan": math.nan})


@pytest.mark.sim
@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_sim_pow_of_minus_inf_and_minus_zero_as_c(sim_results, name):
    # C's pow: pow(-inf, 0.5) = +inf, pow(-0., 0.5) = +0. (torch: [inf, 0.0, 2.0, nan, ...])
    for opname in ("aten::pow.Tensor_Tensor", "aten::float_power.Tensor_Tensor"):
        got, eager = sim_results[opname, name]
        assert got[:3] == _bits([math.inf, 0.0, 2.0]), (opname, got)
        assert math.isnan(got[3][0]) and got[4] == eager[4]
        assert got[:3] == eager[:3]


@pytest.mark.sim
@pytest.mark.parametrize("name", sorted(_EXTREMES))
def test_sim_isclose_of_integers(sim_results, name):
    got, eager = sim_results["isclose", name]
    assert got == eager == _isclose_expected(name)


@pytest.mark.sim
def test_sim_fma_with_an_overflowing_product(sim_results):
    got, eager = sim_results["addcmul"]
    assert got == eager == [math.inf, -math.inf, -8.988465674311579e307, 0.45]


@pytest.mark.sim
def test_sim_float64_to_uint8_through_int64(sim_results):
    assert sim_results["to", "uint8"] == (_U8_OUT, _U8_OUT)
    assert sim_results["to", "int8"] == (_I8_OUT, _I8_OUT)
