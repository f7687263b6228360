"""Session 37's fuser / kernel hunt (helper d37): the CPU kernels that walk strided layouts
row by row (kernels/emit.py, session 36), the older fuzzers with new seeds, and issue 5's
user-facing edges, against eager PyTorch 2.13 and TorchScript's NNC.

What was hammered and held (pinned below so a regression fails):
- row-by-row CPU kernels over transposed, sliced-with-steps, expanded (stride 0), permuted
  3-D / 4-D inputs, size-1 and 0-size dims, broadcasting across rows, int8 / uint8 / int32 /
  int64 / bool / float16 / float32 / float64 and multi-output groups with partially broadcast
  outputs, STATIC and DYNAMIC, threaded launches whose chunks start and end inside rows:
  ~1100 random kernels (equal to the reference interpreter bit for bit, floats within the
  kernel tests' tolerances); scripted in-place writes into non-contiguous targets
  (`x[:, ::2].add_(...)`, `x.t().mul_(...)`, a local's strided view written in place), chunk
  and cat groups over strided inputs, on the CPU and (tiny) simulator targets: values,
  dtypes, shapes and strides as eager torch.

What was found:
- the older fuzzers' new seeds (guard fuzz 37001: 6 of 150 cases) failed in the eager
  reference, not in the fuser: the backward of `torch.tanh` / `torch.sigmoid` of a 0-dim
  float32 / float64 tensor raised "return arrays must be of ArrayType" (session 36's
  Derivative.raw formulas update a NumPy ufunc's result in place with `out=`, and a ufunc of
  0-dim arrays returns a NumPy scalar). torch 2.13: `x = torch.tensor(0.5,
  requires_grad=True); torch.sigmoid(x).backward()` gives x.grad == tensor(0.2350) (tanh:
  tensor(0.7864)). ops/derivatives.raw_operands now refuses 0-dim arrays (the formula runs).
- a 0-size call of a group that had a DYNAMIC specialization ran that kernel (its guard
  checked `size != 1` for the dims that do not broadcast, which a 0 passes) and returned
  the launcher's C-order empty outputs, where eager code gives TensorIterator's strides:
  `f(x, y) = ((x * 2 + y).relu(), (x - y) * 3)` scripted under [("DYNAMIC", 5)], warmed on
  (4, 3, 5) and (3, 5), then called with x = zeros(5, 0, 4).permute(2, 1, 0),
  y = zeros(5, 0).t(): the second result has strides (5, 20, 1) eagerly in torch 2.13
  (gpujit: (5, 5, 1)). The DYNAMIC guard now checks `size > 1` (the same cost): a 0-size
  tensor runs unfused, as it does before a first specialization (ZERO_SIZE, exempt from
  strict_fusion and the budget).
- the unfused run of a group (for that 0-size call) re-wrapped its input arrays as new
  tensors, which gives an empty array NumPy's all-zero strides replaced by a new tensor's:
  a `torch.from_numpy(np.zeros((5, 0, 1), np.float32))` (strides (0, 0, 0) in torch 2.13,
  kept by from_numpy) then gave `(torch.pow(y, 2) > 0) | (x < 0)` (y = ones(2)[::2]) the
  strides (1, 1, 1) traced, (0, 1, 0) eagerly (torch: (0, 1, 0) both). The group's
  fallback keeps such an array's strides (FusedGroup._interpret).
- the s32 fuzzer's seed 3700561026 (an eager op of compiled code, not the fuser): scripted
  `t0 = y * y; t2 = t0.masked_fill(t0 > 1, s); return t0, t2 > s`, profiled on int32
  (1, 1, 4, 3) and called with zeros(2, 3, 0, 1): `t2 > s` has strides (0, 0, 1, 0)
  eagerly in torch 2.13 (TensorIterator's, from the mask's (0, 0, 1, 0)); gpujit's
  compiled code answered (3, 1, 1, 1): memory_format.c_layout, which gives an op's result
  torch.empty's strides, copied into NumPy's new empty array, whose strides NumPy makes all
  0, and the next op laid its result out from those. c_layout now allocates an empty
  result with PyTorch's strides.
- every fusible op of the registry through a strided (row-by-row) kernel, against the
  reference interpreter and the flat kernel: all equal, and the strided and flat kernels
  bit for bit, except float16 `torch.div(x, y, rounding_mode="trunc")` where the quotient
  is within half an ulp of an integer: -2.947 / 0.1552 (float16) is -18.996, -19.0 in half;
  eager gpujit (NumPy's float16 true_divide, then trunc) and PyTorch 2.13's vectorized CPU
  loop ((a / b).trunc() of Vectorized<Half>, tensors of 16+ elements) answer -19, the
  fused kernel truncated the float32 quotient: -18 (as NNC, and torch's scalar loop of a
  tensor shorter than a vector, or a 0-dim divisor). Fused now equals unfused: the kernel
  rounds a float16 quotient to half before trunc (kernels/scalar_codegen._expression, as
  xlogy's log already is).
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import gpujit as torch
from fusion_asserts import run_sim_leg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


# ------------------------------------------- 0-dim tanh / sigmoid backward (eager autograd)

@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("fn", ["tanh", "sigmoid", "relu", "mul"])
def test_backward_of_a_0dim_pointwise_op(fn, dtype):
    dt = getattr(torch, dtype)
    x = torch.tensor(0.5, dtype=dt, requires_grad=True)
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
         "mul": lambda t: t * t}[fn]
    f(x).backward()
    want = {"tanh": 1 - np.tanh(0.5) ** 2, "sigmoid": 0.25 - (np.tanh(0.25) / 2) ** 2,
            "relu": 1.0, "mul": 1.0}[fn]
    g = x.grad
    assert g.shape == () and g.dtype is dt
    tol = 1e-3 if dtype == "float16" else 1e-6
    np.testing.assert_allclose(float(g), want, rtol=tol)
    # a 0-dim input of a scripted function: its group's backward runs the same formulas
    y = torch.tensor(0.5, dtype=dt, requires_grad=True)
    s = torch.jit.script(_tanh_sigmoid)
    for _ in range(3):
        y.grad = None
        s(y).backward()
        np.testing.assert_allclose(float(y.grad), _tanh_sigmoid_grad(0.5), rtol=max(tol, 1e-5))


def _tanh_sigmoid(x):
    return torch.tanh(x) * torch.sigmoid(x) + x * 2.0


def _tanh_sigmoid_grad(v):
    t, s = np.tanh(v), 1 / (1 + np.exp(-v))
    return (1 - t * t) * s + t * s * (1 - s) + 2.0


# ------------------------------------------ a 0-size call after a DYNAMIC specialization

def _two(x, y):
    return (x * 2 + y).relu(), (x - y) * 3


def test_a_0size_call_after_a_dynamic_specialization_answers_with_eager_strides():
    prev = torch.jit.set_fusion_strategy([("DYNAMIC", 5)])
    try:
        s = torch.jit.script(_two)
        for _ in range(3):
            s(torch.ones(4, 3, 5), torch.ones(3, 5))
        before = torch.kernels.cache_info().specializations
        x = torch.zeros(5, 0, 4).permute(2, 1, 0)
        y = torch.zeros(5, 0).t()
        with torch.jit.strict_fusion():         # (a 0-size call is exempt)
            got = s(x, y)
        # torch 2.13 eagerly: strides (5, 5, 1) and (5, 20, 1)
        assert [tuple(t.stride()) for t in got] == [(5, 5, 1), (5, 20, 1)]
        assert [tuple(t.stride()) for t in _two(x, y)] == [(5, 5, 1), (5, 20, 1)]
        assert all(tuple(t.shape) == (4, 0, 5) for t in got)
        assert torch.kernels.cache_info().specializations == before
        # the DYNAMIC kernel still serves other sizes of its pattern
        a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 10
        b = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
        r1, r2 = s(torch.from_numpy(a), torch.from_numpy(b))
        np.testing.assert_allclose(r1.numpy(), np.maximum(a * 2 + b, 0), rtol=1e-6)
        np.testing.assert_allclose(r2.numpy(), (a - b) * 3, rtol=1e-6)
        assert torch.kernels.cache_info().specializations == before
    finally:
        torch.jit.set_fusion_strategy(prev)


def _or_of_compares(x, y):
    return (torch.pow(y, 2) > 0) | (x < 0)


def test_a_from_numpy_empty_array_keeps_its_strides_in_a_groups_unfused_run():
    t = torch.jit.trace(_or_of_compares, (torch.ones(5, 3, 1), torch.ones(1)))
    y = torch.ones(2)[::2]
    for n in (3, 3, 7):
        t(torch.ones(5, n, 1), y)
    x = torch.from_numpy(np.zeros((5, 0, 1), np.float32))
    assert x.stride() == (0, 0, 0)
    # torch 2.13, eagerly and traced: (0, 1, 0)
    assert _or_of_compares(x, y).stride() == (0, 1, 0)
    for _ in range(2):
        r = t(x, y)
        assert r.stride() == (0, 1, 0) and tuple(r.shape) == (5, 0, 1)
        assert r.dtype is torch.bool


def _masked_then_compare(y, s: float):
    t0 = y * y
    t2 = t0.masked_fill(t0 > 1, s)
    return t0, t2 > s


def test_an_empty_result_laid_out_in_c_order_keeps_pytorchs_strides():
    f = torch.jit.script(_masked_then_compare)
    for _ in range(3):
        f(torch.zeros(1, 1, 4, 3, dtype=torch.int32), 3.0)
    y = torch.zeros(2, 3, 0, 1, dtype=torch.int32)
    # torch 2.13, eager and scripted: (3, 1, 1, 1) and (0, 0, 1, 0)
    assert [r.stride() for r in _masked_then_compare(y, 3.0)] == [(3, 1, 1, 1), (0, 0, 1, 0)]
    for _ in range(2):
        got = f(y, 3.0)
        assert [r.stride() for r in got] == [(3, 1, 1, 1), (0, 0, 1, 0)]
        assert [r.dtype for r in got] == [torch.int32, torch.bool]
    from gpujit.ops.memory_format import c_layout
    a = np.zeros((2, 3, 0, 1), np.int32)[:, :, :, ::1].transpose(1, 0, 2, 3)
    assert a.shape == (3, 2, 0, 1) and c_layout(np, a).strides == (8, 4, 4, 4)


# ------------------------------------------------ row-by-row CPU kernels over random layouts

def _k1(x, y):
    return x * y + x, torch.where(x > y, x, y)


def _k2(x, y, z):
    a = x + y
    return a * z, (a > z), y * 2


def _k3(x, y):
    return torch.maximum(x, y) - y, x.float() * 0.5


def _k4(x, y, z):
    return torch.where(z > 0, x, y), x - z, z + 1


KERNEL_FNS = [_k1, _k2, _k3, _k4]
KERNEL_DTYPES = ["float32", "float64", "float16", "int32", "int64", "int8", "uint8"]


def _layout_of(rng, shape, dtype, kind):
    """An array of `shape` and `dtype` laid out as `kind` says: contiguous, permuted,
    sliced with steps, expanded (stride 0), broadcast (size-1 / missing leading dims),
    or permuted and sliced."""
    def vals(shp):
        if dtype.startswith("float"):
            return (rng.standard_normal(shp) * 3).astype(dtype)
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -20), min(info.max, 20), shp).astype(dtype)
    r = len(shape)
    if kind == "contig":
        return vals(shape)
    if kind == "perm":
        p = rng.permutation(r)
        return vals(tuple(shape[i] for i in p)).transpose(np.argsort(p))
    if kind == "step":
        steps = [int(rng.integers(1, 4)) for _ in shape]
        big = vals(tuple(n * st + 1 for n, st in zip(shape, steps)))
        return big[tuple(slice(1, 1 + n * st, st) for n, st in zip(shape, steps))]
    if kind == "expand":
        return np.broadcast_to(vals(tuple(1 if rng.random() < 0.5 else n for n in shape)),
                               shape)
    if kind == "bcast":
        small = tuple(1 if rng.random() < 0.5 else n for n in shape)
        return vals(small[int(rng.integers(0, r)):])
    p = rng.permutation(r)                                      # "permstep"
    a = _layout_of(rng, tuple(shape[i] for i in p), dtype, "step")
    return a.transpose(np.argsort(p))


def _kernel_case(seed):
    rng = np.random.default_rng(seed)
    fn = KERNEL_FNS[rng.integers(len(KERNEL_FNS))]
    n = fn.__code__.co_argcount
    r = int(rng.integers(2, 5))
    shape = [int(rng.choice([1, 2, 3, 5, 7])) for _ in range(r)]
    if seed % 4 == 0:       # a threaded launch: chunks that start and end inside rows
        shape[-1], shape[-2] = 1031, 7
        shape[0] = min(shape[0], 3)
    dtype = KERNEL_DTYPES[rng.integers(len(KERNEL_DTYPES))]
    kinds = [["contig", "perm", "step", "expand", "bcast", "permstep"][rng.integers(6)]
             for _ in range(n)]
    kinds[0] = "perm" if kinds[0] == "contig" else kinds[0]
    args = [_layout_of(rng, tuple(shape), dtype, k) for k in kinds]
    return fn, args, bool(seed % 2)


@pytest.mark.parametrize("seed", range(37000, 37012))
def test_row_by_row_cpu_kernels_over_random_layouts(seed):
    from gpujit import kernels as K
    from test_kernels import assert_same, reference, traced
    fn, args, static = _kernel_case(seed)
    g = traced(fn, *args)
    k = K.build(K.spec_for(g, args, static=static), "cpu")
    if not k.layout.flat and len(k.layout.dims) > 1:
        assert "i - base" in k.source
    for j, (got, want) in enumerate(zip(k(*args), reference(g, args))):
        assert_same(got, want, f"{fn.__name__} output {j}, seed {seed}")


# --------------------------------------- scripted in-place writes into strided targets

INPLACE_SRC = """
def slice_add(x, y):
    x[:, ::2].add_(y * 2.0 + 1.0)
    return x * 0.5 + 1.0

def t_mul(x, y):
    z = x.t()
    z.mul_(y.sigmoid() + 1.0)
    return (x + 1.0) * 2.0

def local_view(x, y):
    a = x * 2.0 + y
    b = a[:, 1::2]
    b.add_(1.0)
    return a.sigmoid() * 3.0, a

def multi(x, y, z):
    a = x * y + z
    b = (a > 0.5) & (z < 0.0)
    return a, b, torch.where(b, a, z * 2.0).relu() - 1.0
"""


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def _np_slice_add(x, y):
    x = x.copy()
    x[:, ::2] += y * 2.0 + 1.0
    return x, [x * 0.5 + 1.0]


def _np_t_mul(x, y):
    x = x.copy()
    x.T[...] *= _sig(y) + 1.0
    return x, [(x + 1.0) * 2.0]


def _np_local_view(x, y):
    a = x * 2.0 + y
    a[:, 1::2] += 1.0
    return x, [_sig(a) * 3.0, a]


def _np_multi(x, y, z):
    a = x * y + z
    b = (a > 0.5) & (z < 0.0)
    return x, [a, b, np.maximum(np.where(b, a, z * 2.0), 0) - 1.0]


def _inplace_calls():
    rng = np.random.default_rng(37)

    def r(*s):
        return rng.standard_normal(s).astype(np.float32)
    return [
        ("slice_add", _np_slice_add, [(r(4, 6), r(4, 3)), (r(6, 3).T, r(3, 3)),
                                      (r(4, 12)[:, ::2], r(4, 3))]),
        ("t_mul", _np_t_mul, [(r(4, 5), r(5, 4)), (r(3, 3), r(3, 1)), (r(10, 5)[::2], r(5, 5))]),
        ("local_view", _np_local_view, [(r(4, 6), r(4, 6)), (r(6, 4).T, r(1, 6)),
                                        (r(4, 6), r(6))]),
        ("multi", _np_multi, [(r(3, 4, 5), r(4, 5), r(5, 4, 3).transpose(2, 1, 0)),
                              (r(3, 4, 5), r(1, 5), r(3, 4, 10)[..., ::2])]),
    ]


@pytest.mark.parametrize("strategy", [None, [("DYNAMIC", 10)], [("STATIC", 10)]],
                         ids=["default", "dynamic", "static"])
def test_scripted_inplace_writes_into_strided_targets(strategy):
    prev = torch.jit.set_fusion_strategy(strategy or [("STATIC", 2), ("DYNAMIC", 10)])
    try:
        cu = torch.jit.CompilationUnit(INPLACE_SRC)
        for name, ref, calls in _inplace_calls():
            f = getattr(cu, name)
            for args in calls:
                for _ in range(3):      # (profiling, then the fused plan)
                    ts = [torch.from_numpy(a.copy()) if a.flags.c_contiguous else
                          torch.from_numpy(a.base.copy()).as_strided(
                              a.shape, [st // a.itemsize for st in a.strides],
                              (a.__array_interface__["data"][0]
                               - a.base.__array_interface__["data"][0]) // a.itemsize)
                          for a in args]
                    got = f(*ts)
                    got = got if isinstance(got, tuple) else (got,)
                    x_after, want = ref(*args)
                    np.testing.assert_allclose(ts[0].numpy(), x_after, rtol=1e-5, atol=1e-6,
                                               err_msg=name)
                    for g, w in zip(got, want):
                        assert g.numpy().dtype == w.dtype and g.shape == w.shape, name
                        np.testing.assert_allclose(g.numpy(), w, rtol=1e-5, atol=1e-6,
                                                   err_msg=name)
    finally:
        torch.jit.set_fusion_strategy(prev)


SIM = r"""
import test_fusion_finds_s37 as t
t.test_scripted_inplace_writes_into_strided_targets([("DYNAMIC", 10)])
t.test_scripted_inplace_writes_into_strided_targets([("STATIC", 10)])
t.test_a_0size_call_after_a_dynamic_specialization_answers_with_eager_strides()
t.test_float16_trunc_division_fused_as_unfused()
assert set(built) == {{"sim"}}, set(built)
print("sim kernels built:", len(built))
"""


@pytest.mark.sim
def test_the_same_on_the_simulated_cuda_target():
    run_sim_leg(SIM)


# ------------------------------------------------------------ float16 trunc division

def _div_trunc(x, y):
    return torch.div(x * 1.0, y, rounding_mode="trunc") + 0.0


def test_float16_trunc_division_fused_as_unfused():
    from gpujit import kernels as K
    from test_kernels import reference, traced
    x = np.array([-2.947, 2.947, 7.0, -7.0, 1e4, 0.0, 3.0, -1.0] * 3, np.float16)
    y = np.array([0.1552, 0.1552, 2.0, 2.0, 0.1, -1.0, 0.1, 3.0] * 3, np.float16)
    with np.errstate(over="ignore"):
        want = np.trunc(x / y)      # (float16 arithmetic: -19, 19, 3, -3, inf, -0, 30, -0)
    assert want[0] == -19 and want[1] == 19
    g = traced(_div_trunc, x, y)
    for static in (True, False):
        k = K.build(K.spec_for(g, (x, y), static=static), "cpu")
        got, = k(x, y)
        np.testing.assert_array_equal(got, reference(g, (x, y))[0])
        np.testing.assert_array_equal(got, want)
    f = torch.jit.script(_div_trunc)
    for _ in range(3):
        r = f(torch.from_numpy(x), torch.from_numpy(y))
    assert r.dtype is torch.float16
    np.testing.assert_array_equal(r.numpy(), want)
    np.testing.assert_array_equal(_div_trunc(torch.from_numpy(x), torch.from_numpy(y)).numpy(),
                                  want)
    # a Python-number divisor computes in float32 (opmath), eagerly and fused: -18
    s = torch.jit.script(_div_trunc_by_number)
    for _ in range(3):
        r = s(torch.from_numpy(x), 0.1552)
    assert r[0].item() == -18.0
    assert _div_trunc_by_number(torch.from_numpy(x), 0.1552)[0].item() == -18.0


def _div_trunc_by_number(x, s: float):
    return torch.div(x * 1.0, s, rounding_mode="trunc") + 0.0
