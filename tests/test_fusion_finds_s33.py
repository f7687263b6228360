"""Session 33's fusion hunt (helper e33): corners the s32 generator does not reach, pinned.

The hunt (no wrong answer found in the fuser, kernels or runtime): tests/test_fusion_finds_s32.py
with new seeds (GPUJIT_S32_FUZZ_SEED=33001/33002/33005: 40 + 120 + 100 cases with PyTorch as the
reference; 33003/33004: 25 + 30 on the simulated CUDA target), tests/test_guard_fuzz_s25.py
(GPUJIT_GUARD_FUZZ_SEED=33001: 60 cases; 33002: 40 + 6 on the simulator),
tests/test_fusion_sim_fuzz.py (GPUJIT_FUZZ_SEED=33001), and probes against PyTorch 2.13 on
CPU and the simulator (~190 sim kernels): div rounding modes / remainder / fmod with negative
operands, shifts by counts >= the width and negative counts, bitwise ops, clamp with tensor
bounds, where with scalar branches, lerp / addcmul / addcdiv, comparisons then arithmetic,
`.to(dtype)` chains through float16 / int8 / bool, 0-dim tensor operands (type promotion across
int8 .. float64 and bool), expanded / stepped / channels_last / permuted / 0-size inputs,
strategy switches mid-run past the specialization budget, six threads calling one function, and
in-place ops on expanded / under-sized / narrower-dtype inputs (raise as PyTorch; PyTorch's
scripted error adds its 'The following operation failed in the TorchScript interpreter'
traceback header, gpujit raises the bare message, as everywhere).
The only difference seen was not gpujit's: the sign of max(0.0, -0.0) in torch.maximum depends
on whether PyTorch's CPU loop is vectorised (length 1 and 20 disagree), so the s32 fuzzer's seed
3300199042 (t / maximum(y, x * y * 0.5) where both are zeros of opposite sign) differs from PyTorch as PyTorch differs from itself.

These tests pin what the probes showed, with PyTorch 2.13's answers written out: each scripted
function is called three times (profiling, then the fused group) and must answer as PyTorch.
"""
import importlib
import itertools
import sys
import tempfile
import threading
import warnings

import numpy as np
import pytest

import gpujit as torch
from fusion_asserts import run_sim_leg

_DIR = tempfile.mkdtemp(prefix="gpujit_finds_s33_")
sys.path.insert(0, _DIR)
_COUNTER = itertools.count()


def load(src):
    mod = f"gpujit_finds_s33_{next(_COUNTER)}"
    with open(f"{_DIR}/{mod}.py", "w") as fh:
        fh.write("import gpujit as torch\n\n\n" + src)
    return importlib.import_module(mod).f


def calls(src, *args, n=3):
    fn = torch.jit.script(load(src))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [fn(*args) for _ in range(n)]


I8 = np.array([-7, 5, 100, 1, -128, 3, 0, 7], np.int8)
SH = np.array([1, 0, 8, 9, -1, 64, 65, -3], np.int8)


@pytest.mark.parametrize("src, want", [
    ("def f(a, b):\n    return (a << b) * 1\n", [-14, 5, 0, 0, 0, 0, 0, 0]),
    ("def f(a, b):\n    return (a >> b) * 1\n", [-4, 5, 0, 0, -1, 0, 0, 0]),
])
def test_shifts_by_counts_past_the_width_or_negative_answer_as_torch(src, want):
    for got in calls(src, torch.tensor(I8), torch.tensor(SH)):
        assert got.dtype == torch.int8
        assert got.tolist() == want


A16 = np.array([-7, 5, -100, 7], np.int16)
B16 = np.array([2, -3, 7, -2], np.int16)


@pytest.mark.parametrize("expr, want", [
    ("torch.div(a, b, rounding_mode='floor')", [-4, -2, -15, -4]),
    ("torch.div(a, b, rounding_mode='trunc')", [-3, -1, -14, -3]),
    ("torch.remainder(a, b)", [1, -1, 5, -1]),
    ("torch.fmod(a, b)", [-1, 2, -2, 1]),
])
def test_integer_rounding_modes_with_negatives_answer_as_torch(expr, want):
    src = f"def f(a, b):\n    return {expr} * 1 + 0\n"
    for got in calls(src, torch.tensor(A16), torch.tensor(B16)):
        assert got.dtype == torch.int16
        assert got.tolist() == want
    # the same on float operands: floor / trunc / remainder / fmod as the integers
    for got in calls(src, torch.tensor(A16.astype(np.float32)), torch.tensor(B16.astype(np.float32))):
        assert got.dtype == torch.float32
        assert got.tolist() == [float(w) for w in want]


def test_zero_dim_operands_promote_as_torch_in_a_group():
    # int8 tensor + 0-dim float64 tensor: float64 (a 0-dim operand of a higher category
    # keeps its dtype); 0-dim int64 + uint8 tensor: uint8; where with a 0-dim bool branch and a
    # Python float: float32
    got = calls("def f(x, z):\n    return (x + z) * 1\n",
                torch.tensor(np.array([1, 2, 3], np.int8)), torch.tensor(2.5, dtype=torch.float64))
    for g in got:
        assert g.dtype == torch.float64 and g.tolist() == [3.5, 4.5, 5.5]
    got = calls("def f(z, x):\n    return (z + x) * 1\n",
                torch.tensor(3), torch.tensor(np.array([1, 2], np.uint8)))
    for g in got:
        assert g.dtype == torch.uint8 and g.tolist() == [4, 5]
    got = calls("def f(x, t):\n    return torch.where(x > 1, t, 2.5) * 1\n",
                torch.tensor(np.array([1, 2, 3], np.int8)), torch.tensor(True))
    for g in got:
        assert g.dtype == torch.float32 and g.tolist() == [2.5, 1.0, 1.0]


def test_a_float16_round_trip_inside_a_group_rounds():
    x = np.array([0.1, 1.0001, 2.5, -3.3], np.float32)
    want = (x.astype(np.float16).astype(np.float32) * 3 + 1)
    for g in calls("def f(x):\n    return x.half().float() * 3 + 1\n", torch.tensor(x)):
        assert g.dtype == torch.float32
        np.testing.assert_array_equal(g.numpy(), want)


SRC_ST = """def f(x, y, i: int):
    a = x * y + i
    b = torch.where(a > 0, a, -a) // 2
    return b.clamp(max=9) * x
"""


def _eager_st(x, y, i):
    a = x * y + i
    b = np.where(a > 0, a, -a) // 2
    return np.minimum(b, 9) * x


def test_strategy_switches_and_threads_past_the_budget_answer_as_eager():
    fn = torch.jit.script(load(SRC_ST))
    prev = torch.jit.set_fusion_strategy([("STATIC", 1)])
    errors = []
    strategies = [[("STATIC", 1)], [("DYNAMIC", 1)], [("STATIC", 2), ("DYNAMIC", 1)], [("STATIC", 0)]]

    def work(k):
        r = np.random.default_rng(k)
        for j in range(12):
            if j % 5 == 4:
                torch.jit.set_fusion_strategy(strategies[(k + j) % len(strategies)])
            shp = [(3,), (2, 3), (1, 3), (4, 1, 3), (), (0, 3)][(k + j) % 6]
            dt = ["float32", "float64", "int16"][(k * j) % 3]
            xn = (r.standard_normal(shp) * 4).astype(dt)
            yn = r.standard_normal(shp[-1:]).astype(np.float32)
            try:
                got = fn(torch.tensor(xn), torch.tensor(yn), 2)
                want = _eager_st(xn, yn, 2)
                if dt == "int16":
                    want = _eager_st(xn.astype(np.float32), yn, 2)
                assert str(got.dtype).split(".")[-1] == str(want.dtype), (got.dtype, want.dtype)
                np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append((k, j, shp, dt, repr(e)[:300]))

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        torch.jit.set_fusion_strategy(prev)
    assert not errors, errors[:3]


SIM = r"""
import test_fusion_finds_s33 as t
t.test_shifts_by_counts_past_the_width_or_negative_answer_as_torch(
    "def f(a, b):\n    return (a << b) * 1\n", [-14, 5, 0, 0, 0, 0, 0, 0])
t.test_shifts_by_counts_past_the_width_or_negative_answer_as_torch(
    "def f(a, b):\n    return (a >> b) * 1\n", [-4, 5, 0, 0, -1, 0, 0, 0])
t.test_integer_rounding_modes_with_negatives_answer_as_torch("torch.div(a, b, rounding_mode='floor')", [-4, -2, -15, -4])
t.test_integer_rounding_modes_with_negatives_answer_as_torch("torch.remainder(a, b)", [1, -1, 5, -1])
t.test_integer_rounding_modes_with_negatives_answer_as_torch("torch.fmod(a, b)", [-1, 2, -2, 1])
t.test_zero_dim_operands_promote_as_torch_in_a_group()
t.test_a_float16_round_trip_inside_a_group_rounds()
assert built and set(built) <= {{"sim"}}, set(built)
print("sim kernels built:", len(built))
"""


@pytest.mark.sim
def test_the_same_corners_on_the_simulated_cuda_target():
    run_sim_leg(SIM, timeout=600)
