"""Programs found by mode 6 of the program fuzzer (tests/program_fuzz_gen_f.py: long
pointwise chains over mixed dtypes, 0-dim / size-1 / strided operands, in-place ops
between fusible ops, aliased outputs, loops and ifs around fused regions) in session 27
(helper b27), minimised; expected values are PyTorch 2.13's (eager, x86-64), written out.
The last tests run mode 6 itself against PyTorch (skipped without torch):
GPUJIT_PROGRAM_FUZZ_F=<n> programs (default 3), GPUJIT_PROGRAM_FUZZ_SEED=<int> for others."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

import gpujit


def _twice_minus(x):
    return (x * 2) - x


def _fused(fn, *args):
    f = gpujit.jit.script(fn)
    outs = [f(*args) for _ in range(3)]       # the profiling call, then the fused ones
    g = str(f.graph_for(*args))
    assert "prim::TensorExprGroup" in g, g
    return outs


@pytest.mark.parametrize("dtype, big", [(np.float16, 60000.0), (np.float32, 3e38),
                                        (np.float64, 1e308)])
def test_a_fused_chain_rounds_after_each_op_as_eager(dtype, big):
    # (found probing the float16 chains mode 6 draws) the CPU kernels were compiled with
    # fastmath={'contract'}: LLVM fused x * 2 and - x into one FMA (vfmsub...sh for
    # float16 on AVX512-FP16 machines, after narrowing the per-op rounding to half ops), so
    # x * 2 never overflowed: 6e4 where eager (every op rounded on its own) gives inf
    x = gpujit.from_numpy(np.array([big, -big, 0.5, 1.0], dtype=dtype))
    for k, out in enumerate(_fused(_twice_minus, x)):
        got = out.numpy()
        assert got.dtype == dtype
        assert got[0] == math.inf and got[1] == -math.inf, (k, got)
        assert got[2:].tolist() == [0.5, 1.0], (k, got)


def _residue(a, b, c):
    return a * b - c


def test_a_fused_product_minus_its_rounded_value_is_zero():
    # with contraction, fma(a, b, -c) gave the rounding error of a * b (c its rounded
    # value, computed apart): eager gives exactly 0
    rng = np.random.default_rng(0)
    a = rng.standard_normal(64).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    c = a * b                               # NumPy's float32 product, rounded once
    ta, tb, tc = (gpujit.from_numpy(v) for v in (a, b, c))
    for out in _fused(_residue, ta, tb, tc):
        assert np.count_nonzero(out.numpy()) == 0


@pytest.mark.parametrize("call, want", [
    (lambda b, v: b.clamp(min=b), True),
    (lambda b, v: v.clamp(min=b), [True, True]),
    (lambda b, v: v.clamp(b), [True, True]),
    (lambda b, v: v.clamp(max=b), [True, False]),
    (lambda b, v: gpujit.clamp(v, min=b), [True, True]),
    (lambda b, v: v.clamp_min(b), [True, True]),
    (lambda b, v: v.clip(min=b), [True, True]),
    (lambda b, v: b.clone().clamp_(min=b), True),
])
def test_a_bool_tensor_clamped_by_a_zero_dim_tensor_takes_the_tensor_overload(call, want):
    # (mode 6, seed 245) v.clamp(min=t0) with a 0-dim bool t0: the 0-dim tensor matched
    # clamp's Scalar overload first, which refuses bool ("clamp does not support dtype
    # bool"); PyTorch's parser tries the Tensor overloads first (clamp.Tensor takes bool)
    b, v = gpujit.tensor(True), gpujit.tensor([True, False])
    r = call(b, v)
    assert r.dtype == gpujit.bool and r.tolist() == want


def test_zero_dim_tensor_bounds_still_promote_as_pytorch():
    # (what the Scalar overload gave before stays: the same dtypes through clamp.Tensor)
    i = gpujit.tensor([2, -1])
    r = i.clamp(min=gpujit.tensor(0.5))
    assert r.dtype == gpujit.float32 and r.tolist() == [2.0, 0.5]
    r = gpujit.tensor([0.5, -1.0]).clamp(min=gpujit.tensor(True))
    assert r.dtype == gpujit.float32 and r.tolist() == [1.0, 1.0]
    h = gpujit.tensor([1.0, 3.0], dtype=gpujit.float16).clamp(max=gpujit.tensor(2.0,
                                                                              dtype=gpujit.float64))
    assert h.dtype == gpujit.float16 and h.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError):       # both bounds: PyTorch's "clamp_cpu" refuses bool
        gpujit.tensor([True]).clamp(gpujit.tensor(False), gpujit.tensor(True))


_SIM_RUN = r"""
import math
from sim_prog import f
s = torch.jit.script(f)
for dt, big in ((np.float16, 60000.0), (np.float32, 3e38)):
    x = torch.from_numpy(np.array([big, -big, 0.5, 1.0], dtype=dt))
    for k in range(3):
        got = s(x).numpy()
        assert got[0] == math.inf and got[1] == -math.inf and got[2:].tolist() == [0.5, 1.0], got
assert SIM_KERNELS, "no group ran on the simulated CUDA target"
print("sim ok", len(SIM_KERNELS))
"""


@pytest.mark.sim
def test_the_simulated_cuda_target_rounds_after_each_op(tmp_path):
    # the same finding under numba's CUDA simulator (tests/test_fusion_sim_fuzz.py's set-up)
    from test_fusion_sim_fuzz import PRELUDE, run_sim
    (tmp_path / "sim_prog.py").write_text("def f(x):\n    return (x * 2) - x\n")
    code = PRELUDE.format(tests=os.path.dirname(__file__)) + \
        f"sys.path.insert(0, {str(tmp_path)!r})\n" + _SIM_RUN
    out = run_sim(code, str(tmp_path / "cache"))
    assert "sim ok" in out


# ------------------------------------------------------------------ mode 6 itself

_N = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_F", "3"))
_SEED = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_SEED", "0"))


def test_random_programs_of_mode_6_match_pytorch_and_torchscript():
    pytest.importorskip("torch")
    from program_fuzz_gen_f import program_f, calls_for_f
    from test_program_fuzz_s20 import STRATEGIES, check
    for k in range(_N):
        seed = _SEED * 100003 + 2700000 + k
        src, traceable = program_f(seed)
        check(src, traceable, calls_for_f(seed), strategy=STRATEGIES[k % len(STRATEGIES)])


def test_random_programs_of_mode_6_gradients_match_pytorch():
    pytest.importorskip("torch")
    from program_fuzz_gen_f import program_f, calls_for_f
    from test_program_fuzz_s20 import STRATEGIES, check_grads
    for k in range(0, _N, 2):
        seed = _SEED * 100003 + 2800000 + k
        src, _ = program_f(seed)
        need = [(k >> j) % 2 == 0 or j == k % 4 for j in range(4)]
        calls = [c for c in calls_for_f(seed)[:6] if c[3] != "v"]
        check_grads(src, calls, strategy=STRATEGIES[k % len(STRATEGIES)], need=need)
