"""Random scripted programs of the generator's second mode (tests/program_fuzz_gen_b.py:
reductions with dim lists/keepdim/dtype=, softmax/logsumexp/cumsum/argmax, matmul/mm/bmm/
linear, chunk/split/unbind, repeat/expand_as/flip/roll/permute, type promotion corners,
ops on special values) checked as tests/test_program_fuzz_s20.py checks the first mode's:
gpujit eager, gpujit.jit.script over a sequence of calls and gpujit.jit.trace against
PyTorch eager and torch.jit.script of the same source, under the fusion strategies of
test_program_fuzz_s20, and the gradients of a subset. The calls add inputs holding special
values (inf, -inf, nan, -0.0, 1e30; huge ints), a B of 1 (broadcasting flips between calls),
an A of 0 (0-size inputs) and a 0-dim x2.

Where gpujit deliberately differs, the checks let it (besides test_program_fuzz_s20's list):

GPUJIT_PROGRAM_FUZZ=<n> programs (default 36), GPUJIT_PROGRAM_FUZZ_SEED=<int> for other
programs than the fixed ones."""
from __future__ import annotations

import os

import numpy as np
import pytest

import gpujit
from program_fuzz_gen_b import program_b

torch = pytest.importorskip("torch")

from test_program_fuzz_s20 import STRATEGIES, check, check_grads  # noqa: E402


def calls_for_b(seed):
    """The calls a program gets: (A, B, dtype, layout, s, n, with_o, data seed)."""
    r = np.random.default_rng(seed)
    a0, b0 = int(r.integers(2, 6)), int(r.integers(2, 6))
    a1 = int(r.integers(1, 7))
    s, n = float(r.choice([0.5, -1.5, 2.0])), int(r.integers(1, 4))
    other = str(r.choice(["float64", "float16", "int64", "int32"]))
    o = bool(r.integers(0, 2))
    return [(a0, b0, "float32", "c", s, n, o, 1), (a0, b0, "float32", "c", s, n, o, 2),
            (a0, b0, "float32", "c", s, n, o, 3), (a0, b0, "float32", "v", s, n, o, 4),
            (a1, 1, "float32", "c", s, n, not o, 5), (a0, b0, "float32", "c", -s, n, o, 6),
            (0, b0, "float32", "c", s, n, o, 7), (a0, b0, "float32", "z", s, n, o, 8),
            (a0, b0, other, "c", s, n, o, 9), (a0, b0, "int64", "v", s, n, o, 10),
            (a1, b0 + 1, "float32", "t", s, n + 1, o, 11), (a0, b0, "float32", "c", s, n, o, 12)]


_N = int(os.environ.get("GPUJIT_PROGRAM_FUZZ", "36"))
_SEED = int(os.environ.get("GPUJIT_PROGRAM_FUZZ_SEED", "0"))


@pytest.mark.parametrize("chunk", range(4))
def test_random_programs_b_match_pytorch_and_torchscript(chunk):
    for k in range(chunk, _N, 4):
        seed = _SEED * 100003 + 220000 + k
        src, traceable = program_b(seed)
        check(src, traceable, calls_for_b(seed), strategy=STRATEGIES[k % len(STRATEGIES)])


def test_random_programs_b_gradients_match_pytorch():
    for k in range(_N // 3):
        seed = _SEED * 100003 + 250000 + k
        src, _ = program_b(seed)
        check_grads(src, calls_for_b(seed)[:6], strategy=STRATEGIES[k % len(STRATEGIES)])


# ------------------------------------------------------------------ found by the above
