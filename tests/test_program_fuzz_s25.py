"""Random scripted programs of the extended sub-mode of mode 2 (tests/program_fuzz_gen_b.py,
program_bx): the op families the other modes do not draw -- pointwise ops with tensor
operands (addcdiv, lerp with a tensor weight, clamp / clamp_min with tensor bounds,
masked_fill and where with 0-dim tensor values, atan2, hypot, logaddexp, xlogy, copysign,
heaviside, float_power), activations of torch.nn.functional (softplus, hardswish, mish, elu,
selu, celu, hardtanh, threshold, shrinks, logsigmoid ...), type promotion of int / bool
tensors with float numbers and 0-dim tensors of other dtypes; scans, sorts and order
statistics (cumprod, logcumsumexp, cummax / cummin, sort, argsort, topk, kthvalue, median,
nanmedian, aminmax), moments and norms with dim= / correction= / dtype= (std_mean,
var_mean, linalg.vector_norm, norm, nansum, nanmean, count_nonzero), softmax / log_softmax
with dtype=, gather / scatter / scatter_add / take_along_dim / index_add / index_select /
index_fill / index_copy with in-range index tensors, cat / stack / pad / tril / triu /
repeat_interleave / tile / movedim / diff / unflatten, and 1-D / 2-D products (outer, dot,
mv, addmv, addmm, einsum, cdist, cosine_similarity) -- mixed with mode 2's statements and
checked as tests/test_program_fuzz_s22.py checks mode 2's (the same calls, including the
special-value, 0-size, int and float16 / float64 ones, and the same deliberate differences).

Finds are in tests/test_fuzz_finds_s25.py.

GPUJIT_PROGRAM_FUZZ=<n> programs (default 24), GPUJIT_PROGRAM_FUZZ_SEED=<int> for other
programs than the fixed ones."""
from __future__ import annotations

import os

import pytest

from program_fuzz_gen_b import program_bx

pytest.importorskip("torch")

from test_program_fuzz_s20 import STRATEGIES, check, check_grads  # noqa: E402
from test_program_fuzz_s22 import calls_for_b  # noqa: E402

_N = int(os.environ.get("GPUJIT_PROGRAM_FUZZ", "24"))
_SEED = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_SEED", "0"))


@pytest.mark.parametrize("chunk", range(4))
def test_random_programs_bx_match_pytorch_and_torchscript(chunk):
    for k in range(chunk, _N, 4):
        seed = _SEED * 100003 + 2500000 + k
        src, traceable = program_bx(seed)
        check(src, traceable, calls_for_b(seed), strategy=STRATEGIES[k % len(STRATEGIES)])


def test_random_programs_bx_gradients_match_pytorch():
    for k in range(0, _N, 3):
        seed = _SEED * 100003 + 2600000 + k
        src, _ = program_bx(seed)
        need = [(k >> j) % 2 == 0 or j == k % 4 for j in range(4)]    # a subset
        calls = [c for c in calls_for_b(seed)[:8] if c[3] != "v"]     # (as mode 2's)
        check_grads(src, calls, strategy=STRATEGIES[k % len(STRATEGIES)], need=need)
