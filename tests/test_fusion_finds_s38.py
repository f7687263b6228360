"""Session 38's fuser / kernel hunt (helper a38): session 37's leftovers, the fuzzers with new
seeds, guards across calls, against eager PyTorch 2.13 and TorchScript's NNC.

What was found:
- float16 trunc division by a divisor PyTorch's TensorIterator sees as one element. torch
  2.13's CPU div_trunc_kernel takes `iter.is_scalar(2)` (the divisor has a stride of 0 in
  every dim whose size is not 1: a 0-dim tensor, a one-element tensor of any rank, an
  expanded one) as a float32 number and truncates the float32 quotient; any other divisor
  gives (a / b).trunc() of Half, the quotient rounded to half first. With halves
  a = -2.947, b = 0.1552 (a / b = -18.996, -19.0 in half):
  `torch.div(a, b, rounding_mode='trunc')` is -18 for b = tensor(0.1552, dtype=float16),
  its reshape(1), reshape(1, 1), reshape(1).expand(24), and for a one-element a and b; -19
  for b.expand(24).contiguous() (and for a strided slice of a full tensor). A Python number
  (or a 0-dim float32 / float64 tensor) was already float32 (opmath_scalars): -18.
  floor division and `//` agree with NumPy's float16 floor_divide for such divisors; a
  full float16 divisor goes through torch's vectorized Half floor (every step rounded to
  half, quotients above 1024 differ by one from the float32 computation) only for the
  elements its vector loop covers (the tail of each row runs the float scalar loop), a
  position- and machine-dependent answer gpujit does not copy (it computes in float32).
  gpujit gave -19 for all of them, eager and fused. Eager (ops/pointwise.div) now tests
  the divisor's strides as TensorIterator does (reads_one_element); the fused kernels
  know it from the spec (a one-element input, a STATIC input's strides) or test a DYNAMIC
  strided input's stride arguments once before the loop (kernels/emit.py,
  ScalarCodegen.one_element); a value computed in the group has one element when all its
  tensor operands have (an expanded operand gives a full result: -19 again).
- the strides of size-1 dims in elementwise results. TensorIterator orders the dims by the
  operands' strides, those of size-1 dims too, unless its fast setup applies (operands of
  one shape, all contiguous: C strides). torch 2.13: a = torch.ones(1, 3).t() (strides
  (1, 3)): a * 2 and a > 0 have strides (1, 3), a + a and -a (1, 1); a permuted (3, 1, 4)
  x with strides (4, 12, 1): x * 2 and x * torch.ones(4) (4, 12, 1). gpujit gave C strides
  ((1, 1), (4, 4, 1)): eager code (entry_codegen, and compiled code's
  codegen_pointwise) took NumPy's C-contiguous flag, which ignores size-1 dims, as "C
  order". It now also asks memory_format.size1_strides_c (the fuser's eager_perm too).
  Fused outputs: the kernels write each output dense in their dim order, which gave size-1
  dims C order's strides where eager's chain of ops gives others (random rank-1..4 pairs
  with size-1 dims and random permutations: 40-76 of 360 fused results differed from torch
  2.13's eager strides, 0 after); the fuser re-strides those dims of its outputs as eager
  lays them out (views, no copy: specialize.size1_strides, found per argument layout and
  remembered, ~1 us a call, only for groups whose outputs have a size-1 dim).
- nested `with torch.jit.strict_fusion():` in scripted code: torch 2.13 raises
  RuntimeError "Found unfused operators: ..." at the outer `with` for ANY region holding
  another (the inner region's prim::Enter / prim::Exit count as unfused operators, listed
  as blank lines), even when every op fuses; gpujit passed a fully fusible nested region.
  fusers/strict.py now counts the inner markers as unfused nodes of the outer region.
- set_fusion_strategy depths: torch 2.13 takes them as a uint64 (2**64 - 1 kept; 2**64,
  10**20 TypeError "incompatible function arguments"); gpujit kept 10**20. Now a
  FusionStrategyError (TypeError and ValueError). (A bool depth stays refused, as
  test_fusers_strategy pins; torch reads True as 1.)
- lerp of float32 / float16: torch 2.13 rounds once (fmadd); gpujit rounded twice, 1 ulp
  off in ~25% of elements, eagerly and fused. Now one rounding in both (float64 left).

What held (new seeds, CPU target unless said): fusion_gen_s32 38001 / 38002 (350 cases,
with the PyTorch diff), guard fuzz 38001 / 38002 (350), the s32 / guard / three-way fuzzes
on the simulator (38003: 12 + 4 cases, 40 examples), this file's generator (the registry's
55 fusible ops no generator named; 350 cases with the PyTorch diff: fused always as
eager; two differences from torch's eager answers, neither the fuser's:
torch.special.modified_bessel_i0(0.) of float32 is 0.99999994 in torch (its Chebyshev
series in float), 1.0 in gpujit (float64, rounded), which `.to(torch.int16)` made 0 vs 1;
torch.special.shifted_chebyshev_polynomial_u(tensor([nan, inf, 0., 1.]), 3) is
[6.4e-40, nan, -4, 4] in torch 2.13 (nan gives garbage: uninitialised), gpujit nan there).
NNC itself could not run here (torch 2.13 CPU without LLVM: "LLVM Backend not found").
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest

import gpujit as torch
from fusion_asserts import run_sim_leg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


# ------------------------------------------- float16 trunc division by one element

_X16 = np.array([-2.947, 2.947, 7.0, -7.0, 1e4, 0.0, 3.0, -1.0] * 3, np.float16)
_B16 = np.float16(0.1552)


def _trunc_want(x, b, one):
    """torch 2.13's CPU answer: the float32 quotient truncated when the divisor reads one
    element, else the quotient rounded to half first."""
    with np.errstate(all="ignore"):
        if one:
            return np.trunc(x.astype(np.float32) / np.float32(b)).astype(np.float16)
        return np.trunc(x / b)


def _divisors():
    x = torch.from_numpy(_X16.copy())
    b0 = torch.tensor(_B16)
    full = torch.from_numpy(np.full(48, _B16))
    return [  # (name, x, b, whether b reads one element)
        ("0-dim", x, b0, True),
        ("one element", x, b0.reshape(1), True),
        ("(1, 1)", x.reshape(4, 6), b0.reshape(1, 1), True),
        ("expanded", x, b0.reshape(1).expand(24), True),
        ("expanded 2-D", x.reshape(4, 6), b0.reshape(1, 1).expand(4, 6), True),
        ("expanded row", x.reshape(4, 6), b0.reshape(1, 1).expand(1, 6), True),
        ("full", x, b0.reshape(1).expand(24).contiguous(), False),
        ("strided", x, full[::2], False),
        ("one by one", x[:1].clone(), b0.reshape(1), True),
    ]


def _div_trunc(x, y):
    return torch.div(x * 1.0, y, rounding_mode="trunc") + 0.0


def _div_trunc_computed(x, y):
    # the divisor computed in the group: one element only when y has one element
    return torch.div(x * 1.0, y + 0.0, rounding_mode="trunc") + 0.0


def _div_trunc_inplace(x, y):
    return (x * 1.0).div_(y, rounding_mode="trunc") + 0.0


def test_float16_trunc_division_by_one_element_eagerly():
    for name, x, b, one in _divisors():
        want = _trunc_want(x.numpy(), b.numpy(), one)
        assert want.ravel()[0] == (-18 if one else -19)
        for got in (torch.div(x, b, rounding_mode="trunc"), x.clone().div_(b, rounding_mode="trunc")):
            assert got.dtype is torch.float16, name
            np.testing.assert_array_equal(got.numpy(), want, err_msg=name)
        # floor division: the float32 computation (NumPy's float16 floor_divide) either way
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal((x // b).numpy(), x.numpy() // b.numpy(), err_msg=name)
    # a Python number: float32 (not rounded to half first)
    x = torch.from_numpy(_X16.copy())
    assert torch.div(x, 0.1552, rounding_mode="trunc")[0].item() == -18.0


@pytest.mark.parametrize("strategy", ["STATIC", "DYNAMIC"])
def test_float16_trunc_division_by_one_element_fused(strategy):
    prev = torch.jit.set_fusion_strategy([(strategy, 40)])
    try:
        for fn in (_div_trunc, _div_trunc_computed, _div_trunc_inplace):
            s = torch.jit.script(fn)
            # one function called with every divisor, twice (DYNAMIC: the kernels of the
            # first calls serve expanded and strided divisors alike)
            for name, x, b, one in _divisors() * 2:
                one = one and not (fn is _div_trunc_computed and b.numel() > 1)
                want = _trunc_want(x.numpy(), b.numpy(), one)
                for _ in range(2):
                    got = s(x, b)
                assert got.dtype is torch.float16
                np.testing.assert_array_equal(got.numpy(), want, err_msg=f"{fn.__name__} {name}")
                np.testing.assert_array_equal(fn(x, b).numpy(), want, err_msg=name)
            kinds = [n.kind() for n in s.graph_for(x, b).nodes()]
            assert "prim::If" in kinds or "prim::TensorExprGroup" in kinds
    finally:
        torch.jit.set_fusion_strategy(prev)


def test_float16_trunc_division_kernels():
    """The kernels themselves (no fallback): STATIC and DYNAMIC, built for one layout and
    run on the others of their spec."""
    from gpujit import kernels as K
    from test_kernels import reference, traced
    x = _X16.reshape(4, 6)
    full = np.full((4, 12), _B16)
    g = traced(_div_trunc, x, full[:, ::2])
    for static in (True, False):
        for b, one in ((np.broadcast_to(_B16, (4, 6)), True), (full[:, ::2], False),
                       (np.broadcast_to(np.full((1, 6), _B16), (4, 6)), False)):
            k = K.build(K.spec_for(g, (x, b), static=static), "cpu")
            got, = k(x, b)
            if b.flags.writeable:       # (reference() copies its arguments: no stride 0)
                np.testing.assert_array_equal(got, reference(g, (x, b))[0])
            np.testing.assert_array_equal(got, _trunc_want(x, b, one))
        if not static:      # a DYNAMIC kernel of a strided divisor run on an expanded one
            k = K.build(K.spec_for(g, (x, full[:, ::2]), static=False), "cpu")
            b = np.broadcast_to(_B16, (4, 6))
            np.testing.assert_array_equal(k(x, b)[0], _trunc_want(x, b, True))


SIM = r"""
import test_fusion_finds_s38 as t
t.test_float16_trunc_division_by_one_element_fused("STATIC")
t.test_float16_trunc_division_by_one_element_fused("DYNAMIC")
t.test_size1_dims_strides_of_fused_outputs("STATIC")
t.test_size1_dims_strides_of_fused_outputs("DYNAMIC")
t.test_lerp_rounds_once_as_pytorch("DYNAMIC")
assert set(built) == {{"sim"}}, set(built)
print("sim kernels built:", len(built))
"""


@pytest.mark.sim
def test_the_same_on_the_simulated_cuda_target():
    run_sim_leg(SIM)


# ------------------------------------------- the strides of size-1 dims (eager layout)

_SIZE1_SRC = """
def one(x):
    return x * 2
def cmp(x):
    return x > 0
def two(x, y):
    return x * y
"""


def _size1_cases():
    """(x, y or None, op, torch 2.13's strides of the result). TensorIterator orders the
    dims by the operands' strides, those of dims of size 1 too, unless its fast setup
    applies (operands of one shape, all contiguous: C strides)."""
    a = torch.ones(1, 3).t()                                    # (3, 1), strides (1, 3)
    x = torch.ones(3, 4).unsqueeze(0).permute(1, 0, 2)          # (3, 1, 4), (4, 12, 1)
    z = torch.ones(2, 1, 1, 1).permute(3, 1, 0, 2)              # (1, 1, 2, 1), (1, 1, 1, 1)
    w = torch.ones(2, 1).permute(1, 0)                          # (1, 2), (1, 1)
    return [
        (a, None, "x * 2", (1, 3)), (a, None, "x > 0", (1, 3)), (a, a, "x + y", (1, 1)),
        (a, None, "-x", (1, 1)), (a, torch.ones(3), "x + y", (3, 1)),
        (x, None, "x * 2", (4, 12, 1)), (x, torch.ones(4), "x * y", (4, 12, 1)),
        (x, torch.ones(4), "y * x", (4, 12, 1)), (x, x, "x - y", (4, 4, 1)),
        (z, torch.ones(2, 1), "x * y", (1, 1, 1, 1)),
        (w.reshape(1, 1, 1, 2).permute(3, 0, 1, 2).permute(1, 2, 3, 0), torch.ones(2),
         "x * y", (2, 2, 2, 1)),
    ]


def test_size1_dims_strides_of_elementwise_results_eagerly():
    assert torch.ones(1, 3).t().stride() == (1, 3)
    for x, y, expr, want in _size1_cases():
        got = eval(expr, {"x": x, "y": y})
        assert got.stride() == want, (expr, tuple(x.shape), x.stride(), got.stride(), want)
        np.testing.assert_array_equal(got.numpy(), eval(expr, {
            "x": x.numpy(), "y": None if y is None else y.numpy()}))


def test_size1_dims_strides_in_compiled_code():
    cu = torch.jit.CompilationUnit(_SIZE1_SRC)
    a = torch.ones(1, 3).t()
    x = torch.ones(3, 4).unsqueeze(0).permute(1, 0, 2)
    for _ in range(3):
        assert cu.one(a).stride() == (1, 3)
        assert cu.cmp(a).stride() == (1, 3)
        assert cu.two(a, a).stride() == (1, 1)
        assert cu.two(x, torch.ones(4)).stride() == (4, 12, 1)


# ------------------------------------------- nested strict_fusion, huge strategy depths

_NESTED_SRC = """
def nested_ok(x, y):
    with torch.jit.strict_fusion():
        with torch.jit.strict_fusion():
            a = x * 2 + y
    return a

def nested_after(x, y):
    with torch.jit.strict_fusion():
        b = x - y
        with torch.jit.strict_fusion():
            a = b * 2 + y
    return a

def one_then_another(x, y):
    with torch.jit.strict_fusion():
        a = x * 2 + y
    with torch.jit.strict_fusion():
        b = a.relu() * 3
    return b
"""


def test_nested_strict_fusion_regions_always_fail():
    """torch 2.13 (NNC on CPU): any strict_fusion region holding another raises
    RuntimeError "Found unfused operators: ..." at the outer `with` (the inner region's
    prim::Enter / prim::Exit listed as blank lines), even when every op fuses; regions one
    after the other pass."""
    cu = torch.jit.CompilationUnit(_NESTED_SRC)
    x, y = torch.rand(3, 3), torch.rand(3, 3)
    for name, also in (("nested_ok", None), ("nested_after", "aten::sub")):
        f = getattr(cu, name)
        with pytest.raises(RuntimeError, match="Found unfused operators") as e:
            for _ in range(4):
                f(x, y)
        msg = str(e.value)
        rows = [ln.split()[0] for ln in msg.splitlines() if ln.startswith("  ") and
                not ln.startswith("      ") and ln.strip()]
        assert rows.count("prim::Enter") == 1 and rows.count("prim::Exit") == 1, msg
        assert "nested" in msg
        if also:
            assert also in msg
    for _ in range(4):
        r = cu.one_then_another(x, y)
    np.testing.assert_allclose(r.numpy(), np.maximum(x.numpy() * 2 + y.numpy(), 0) * 3,
                               rtol=1e-6)


def test_fusion_strategy_depth_is_a_uint64():
    """torch 2.13 takes a depth as a uint64: 2**64 - 1 is kept, 2**64 and 10**20 raise
    TypeError ("incompatible function arguments")."""
    prev = torch.jit.set_fusion_strategy([("STATIC", 2 ** 64 - 1)])
    try:
        assert torch.jit.set_fusion_strategy([("DYNAMIC", 2 ** 64 - 1)]) == [
            ("STATIC", 2 ** 64 - 1)]
        for bad in (2 ** 64, 10 ** 20):
            with pytest.raises(TypeError, match="< 2"):
                torch.jit.set_fusion_strategy([("STATIC", bad)])
            with pytest.raises(ValueError):
                torch.jit.set_fusion_strategy([("DYNAMIC", 2), ("STATIC", bad)])
        assert torch.jit.set_fusion_strategy(prev) == [("DYNAMIC", 2 ** 64 - 1)]
    finally:
        torch.jit.set_fusion_strategy(prev)


# ------------------------------------------- the registry's ops the generators did not name

# fusion_gen_s32's templates plus lines for every fusible op of the registry that no
# generator named (listed by reading registry.OPS against the generators' text: acos, angle,
# the shifts, bitwise_or, cos, digamma, erfinv, ge / le / lt / ne by name, isneginf,
# isposinf, ldexp, lgamma, log_sigmoid, logical_and / or / xor, nextafter, positive,
# rad2deg, rsub, tan, every torch.special function (Bessel, Chebyshev, Hermite, Laguerre,
# Legendre, airy_ai, entr, erfcx, log_ndtr, ndtr, ndtri, xlog1py)), each made valid for
# any input dtype (`* 0.5` makes a float; domains clamped), and Python numbers negative
# and 0
UNARY38 = [
    "torch.cos({a} * 0.5)", "torch.tan({a} * 0.25)", "torch.acos(torch.clamp({a} * 0.3, -1, 1))",
    "torch.digamma({a} * 0.5 + 3)", "torch.lgamma({a} * 0.5 + 3)",
    "torch.erfinv(torch.clamp({a} * 0.3, -0.9, 0.9))", "torch.rad2deg({a} * 0.5)",
    "torch.angle({a} * 0.5)", "torch.isneginf({a} / 0)", "torch.isposinf({a} * 1e38 * 10)",
    "torch.positive({a} * {i})", "torch.nn.functional.logsigmoid({a} * 0.5)",
    "torch.special.ndtr({a} * 0.5)", "torch.special.ndtri(torch.sigmoid({a} * 0.5))",
    "torch.special.log_ndtr({a} * 0.5)", "torch.special.erfcx({a} * 0.5)",
    "torch.special.entr(torch.abs({a} * 0.5))", "torch.special.bessel_j0({a} * 0.5)",
    "torch.special.bessel_j1({a} * 0.5)", "torch.special.bessel_y0(torch.abs({a}) * 0.5 + 0.5)",
    "torch.special.bessel_y1(torch.abs({a}) * 0.5 + 0.5)",
    "torch.special.modified_bessel_i0({a} * 0.5)", "torch.special.modified_bessel_i1({a} * 0.5)",
    "torch.special.modified_bessel_k0(torch.abs({a}) * 0.5 + 0.5)",
    "torch.special.modified_bessel_k1(torch.abs({a}) * 0.5 + 0.5)",
    "torch.special.scaled_modified_bessel_k0(torch.abs({a}) * 0.5 + 0.5)",
    "torch.special.scaled_modified_bessel_k1(torch.abs({a}) * 0.5 + 0.5)",
    "torch.special.spherical_bessel_j0({a} * 0.5)", "torch.special.airy_ai({a} * 0.5)",
    "torch.special.chebyshev_polynomial_t({a} * 0.3, 3)",
    "torch.special.chebyshev_polynomial_u({a} * 0.3, 2)",
    "torch.special.chebyshev_polynomial_v({a} * 0.3, 2)",
    "torch.special.chebyshev_polynomial_w({a} * 0.3, 3)",
    "torch.special.shifted_chebyshev_polynomial_t({a} * 0.3, 2)",
    "torch.special.shifted_chebyshev_polynomial_u({a} * 0.3, 3)",
    "torch.special.shifted_chebyshev_polynomial_v({a} * 0.3, 2)",
    "torch.special.shifted_chebyshev_polynomial_w({a} * 0.3, 2)",
    "torch.special.hermite_polynomial_h({a} * 0.3, 3)",
    "torch.special.hermite_polynomial_he({a} * 0.3, 2)",
    "torch.special.laguerre_polynomial_l({a} * 0.3, 3)",
    "torch.special.legendre_polynomial_p({a} * 0.3, 2)",
    "{a} * -2", "{a} + 0.0", "{a} - -1.5", "{a} * 0", "{a} * {i} - {s}", "-3 - {a}",
    "torch.bitwise_left_shift({a}.to(torch.int16), 2)", "torch.rsub({a}, {s})",
    "torch.le({a}, {s})", "torch.lt({a}, {i})", "torch.ge({a}, -1)",
]
BINARY38 = [
    "torch.logical_and({a}, {b})", "torch.logical_or({a}, {b})", "torch.logical_xor({a}, {b})",
    "torch.nextafter({a} * 0.5, {b} * 0.5)",
    "torch.ldexp({a} * 0.5, torch.clamp({b} * 1, -3, 3).to(torch.int32))",
    "{a}.to(torch.int16) | {b}.to(torch.int16)",
    "torch.bitwise_right_shift({a}.to(torch.int32), torch.clamp({b} * 1, 0, 3).to(torch.int32))",
    "torch.rsub({a}, {b})", "torch.ge({a}, {b})", "torch.ne({a}, {b})",
    "torch.special.xlog1py({a} * 0.5, torch.abs({b}) * 0.5)",
    "torch.special.chebyshev_polynomial_t({a} * 0.3, torch.clamp({b} * 1, 0, 4).to(torch.int64))",
]


def _fuzz_seeds():
    n = int(os.environ.get("GPUJIT_S38_FUZZ", "3"))
    base = int(os.environ.get("GPUJIT_S38_FUZZ_SEED", "0"))
    return [38 * 1000003 + base * 100003 + k for k in range(n)]


@pytest.mark.parametrize("seed", _fuzz_seeds())
def test_every_fusible_op_fused_as_eager(seed):
    """GPUJIT_S38_FUZZ=<n> cases (default 3), GPUJIT_S38_FUZZ_SEED=<int> for others,
    GPUJIT_S38_TORCH=1 to compare with PyTorch's eager answers too (tests/
    test_fusion_finds_s32.run_case: values, dtypes, shapes, strides, aliasing, in-place
    inputs, gradients, over a sequence of calls under a random strategy)."""
    import fusion_gen_s32 as gen
    from test_fusion_finds_s32 import run_case
    with_torch = bool(os.environ.get("GPUJIT_S38_TORCH"))
    if with_torch:
        pytest.importorskip("torch")
    run_case(gen.case(seed, gen.UNARY + UNARY38, gen.BINARY + BINARY38), with_torch)


# ------------------------------------------- guards across a sequence of calls

_CHAIN_SRC = """
def chain(x, y):
    return torch.sigmoid(x * 2.0 + y) - y * 0.5
"""


def _chain_calls():
    rng = np.random.default_rng(38)

    def r(*s, dt=np.float32):
        return torch.from_numpy(rng.standard_normal(s).astype(dt))
    return [
        (r(4, 5), r(4, 5)), (r(4, 5), r(4, 5)), (r(3, 7), r(7)), (r(5, 4).t(), r(4, 5)),
        (r(4, 10)[:, ::2], r(1, 5)), (r(2, 3, 4), r(3, 4)), (r(0, 5), r(5)), (r(), r()),
        (r(4, 5, dt=np.float64), r(4, 5, dt=np.float64)),
        (r(4, 5, dt=np.float16), r(5, dt=np.float16)),
        (torch.ones(4, 5, dtype=torch.int32), r(4, 5)), (r(4, 5).requires_grad_(), r(4, 5)),
        (r(6, 2), r(6, 1)), (r(1, 5).expand(4, 5), r(4, 5)), (r(3, 1, 4), r(1, 2, 4)),
        (r(4, 5), r(4, 5)), (r(8, 9), r(9)), (r(2, 2), r(2, 2)),
    ]


@pytest.mark.parametrize("strategy, made", [
    (None, (2, 10)), ([("DYNAMIC", 1)], (0, 1)), ([("STATIC", 3), ("DYNAMIC", 2)], (3, 2)),
    ([], (0, 0))], ids=["default", "dynamic1", "static3_dynamic2", "off"])
def test_one_function_over_varied_calls(strategy, made):
    """One scripted function called with new sizes, transposed / sliced / expanded inputs,
    broadcasting, 0-size and 0-dim tensors, float64 / float16 / int32 inputs, requires_grad
    on and off, under no_grad: every answer as NumPy's (dtype, shape, strides and
    requires_grad as the eager call's), and the function makes exactly the specializations
    its budget allows (gpujit.kernels.cache_info().specializations)."""
    from gpujit import kernels as K
    prev = torch.jit.set_fusion_strategy(strategy if strategy is not None
                                         else [("STATIC", 2), ("DYNAMIC", 10)])
    try:
        name = f"chain_s38_{len(strategy or ()) * 100 + made[0] * 10 + made[1]}"
        src = _CHAIN_SRC.replace("chain", name)
        ns = {"torch": torch}
        exec(src, ns)
        f = getattr(torch.jit.CompilationUnit(src), name)
        for x, y in _chain_calls():
            for no_grad in (False, True):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if no_grad:
                        with torch.no_grad():
                            got = f(x, y)
                    else:
                        got = f(x, y)
                e = ns[name](x, y)
                x64, y64 = (t.detach().numpy().astype(np.float64) for t in (x, y))
                want = 1 / (1 + np.exp(-(x64 * 2 + y64))) - y64 * 0.5
                tol = 3e-3 if e.dtype is torch.float16 else 1e-6
                assert got.dtype is e.dtype and got.shape == e.shape
                assert got.stride() == e.stride(), (tuple(x.shape), x.stride(), got.stride())
                assert got.requires_grad == (e.requires_grad and not no_grad)
                np.testing.assert_allclose(got.detach().numpy().astype(np.float64), want,
                                           rtol=tol, atol=tol)
        kinds = K.cache_info().specializations.get(name, [])
        assert (sum(k.startswith("STATIC") for k in kinds),
                sum(k.startswith("DYNAMIC") for k in kinds)) == made, kinds
    finally:
        torch.jit.set_fusion_strategy(prev)


# ------------------------------------------- the strides of size-1 dims in fused outputs

_SIZE1_FUSED_SRC = """
def one_in(x):
    return torch.sigmoid(x * 2.0) + 1.0

def two_outs(x, y):
    return (x * 2.0 + y).relu(), (x - y) * 3.0
"""


def _np_sig(a):
    return 1 / (1 + np.exp(-a))


@pytest.mark.parametrize("strategy", ["STATIC", "DYNAMIC"])
def test_size1_dims_strides_of_fused_outputs(strategy):
    """torch 2.13 (eager; TorchScript's fused outputs the same): each op of the chain lays
    its result out by TensorIterator's rule, size-1 dims too. x (3, 1, 4) with strides
    (4, 12, 1): x * 2 has (4, 12, 1), sigmoid of that (one operand, contiguous: fast setup)
    (4, 4, 1), + 1 (4, 4, 1); x (1, 1, 2, 1) strides (2, 1, 1, 2), y (2, 1) strides (1, 2):
    (x * 2 + y).relu() has (2, 2, 1, 1), (x - y) * 3 (2, 1, 1, 2); a (3, 4, 4, 1) pair laid
    out (4, 1, 12, 1) and (16, 1, 4, 4): (4, 1, 12, 4) both. gpujit's kernels gave the
    outputs C order's size-1 strides in their dim order ((2, 2, 1, 1) for both, (4, 1, 12,
    1)); the fuser now re-strides those dims (views: no index reaches them) as eager lays
    them out (specialize.size1_strides)."""
    prev = torch.jit.set_fusion_strategy([(strategy, 20)])
    try:
        cu = torch.jit.CompilationUnit(_SIZE1_FUSED_SRC)
        rng = np.random.default_rng(5)

        def t(shape, perm):
            a = rng.standard_normal([shape[p] for p in np.argsort(perm)]).astype(np.float32)
            return torch.from_numpy(a).permute(*perm)
        x = t((3, 1, 4), (1, 0, 2))
        assert x.stride() == (4, 12, 1)
        for _ in range(3):
            r = cu.one_in(x)
            assert r.stride() == (4, 4, 1)
            np.testing.assert_allclose(r.numpy(), _np_sig(x.numpy() * 2) + 1, rtol=1e-6)
        cases = [(t((1, 1, 2, 1), (1, 3, 2, 0)), t((2, 1), (1, 0)), (2, 2, 1, 1), (2, 1, 1, 2)),
                 (t((4, 2, 1), (2, 1, 0)), t((1, 2, 1), (0, 1, 2)), (1, 4, 8), (1, 4, 8)),
                 (t((3, 4, 4, 1), (1, 2, 0, 3)), t((3, 4, 4, 1), (0, 3, 1, 2)), (4, 1, 12, 4),
                  (4, 1, 12, 4))]
        for x, y, s0, s1 in cases * 2:
            for _ in range(2):
                a, b = cu.two_outs(x, y)
            ea, eb = (x * 2.0 + y).relu(), (x - y) * 3.0
            assert (a.stride(), b.stride()) == (ea.stride(), eb.stride()) == (s0, s1), (
                tuple(x.shape), x.stride(), y.stride(), a.stride(), b.stride())
            np.testing.assert_allclose(a.numpy(), np.maximum(x.numpy() * 2 + y.numpy(), 0),
                                       rtol=1e-6)
            np.testing.assert_allclose(b.numpy(), (x.numpy() - y.numpy()) * 3, rtol=1e-6)
    finally:
        torch.jit.set_fusion_strategy(prev)


# ------------------------------------------- lerp: one rounding (PyTorch's fmadd)

_LERP_SRC = """
def lerp_num(a, b, w: float):
    return torch.lerp(a * 1.0, b, w) + 0.0

def lerp_const(a, b):
    return (a * 1.0).lerp_(b, 0.7) * 1.0

def lerp_tensor(a, b, w):
    return torch.lerp(a * 1.0, b, w) + 0.0
"""

# (self, end, weight) -> torch 2.13's float32 lerp (NumPy's two roundings in brackets)
_LERP_PINNED = [(0.3615950644016266, -2.20350980758667, 0.3, -0.4079364538192749),
                (1.3040000200271606, 0.052028972655534744, 0.3, 0.928408682346344),
                (-0.7037352323532104, 1.0039615631103516, 0.7, 0.4916525185108185),
                (0.04132597893476486, -1.3204309940338135, 0.7, -0.9119039177894592)]


def _np_lerp_fma(a, b, w):
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    w32 = np.asarray(w, np.float32)
    small = np.abs(w32) < 0.5
    coeff = np.where(small, w32, w32 - np.float32(1)).astype(np.float64)
    base = np.where(small, a32, b32).astype(np.float64)
    return (coeff * (b32 - a32).astype(np.float64) + base).astype(np.float32)


@pytest.mark.parametrize("strategy", ["STATIC", "DYNAMIC"])
def test_lerp_rounds_once_as_pytorch(strategy):
    """torch 2.13's CPU lerp of float32 (and float16, computed in float32) is
    fmadd(w or w - 1, end - self, self or end): one rounding. gpujit's NumPy form rounded
    the product and the sum apart: 1 ulp off in ~25% of the elements of lerp(a, b, 0.3)
    (a, b standard normal), e.g. lerp(0.3615950644016266, -2.20350980758667, 0.3) is
    -0.4079364538192749 in torch, -0.4079364836215973 in gpujit. Eager and the kernels now
    round once (the float64 product of two float32s is exact). float64 still rounds twice
    (left: no cheap exact float64 fma in NumPy)."""
    for a, b, w, want in _LERP_PINNED:
        got = torch.lerp(torch.tensor([a]), torch.tensor([b]), w)
        assert got.item() == want
    prev = torch.jit.set_fusion_strategy([(strategy, 10)])
    try:
        cu = torch.jit.CompilationUnit(_LERP_SRC)
        rng = np.random.default_rng(38)
        for dt in (np.float32, np.float16):
            a = rng.standard_normal(257).astype(dt)
            b = rng.standard_normal(257).astype(dt)
            w = rng.uniform(-1, 2, 257).astype(dt)
            A, B, W = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(w)
            for got, want in ((lambda: cu.lerp_num(A, B, 0.3), _np_lerp_fma(a, b, 0.3)),
                              (lambda: cu.lerp_const(A, B), _np_lerp_fma(a, b, 0.7)),
                              (lambda: cu.lerp_tensor(A, B, W), _np_lerp_fma(a, b, w))):
                for _ in range(3):
                    r = got()
                np.testing.assert_array_equal(r.numpy(), want.astype(dt))
            np.testing.assert_array_equal(torch.lerp(A, B, W).numpy(),
                                          _np_lerp_fma(a, b, w).astype(dt))
    finally:
        torch.jit.set_fusion_strategy(prev)
