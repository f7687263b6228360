"""Random scripted elementwise programs (tests/test_fusion_hunt_s11.py's generator) through
the whole fusion pipeline with every fusion group on the CUDA code generator's target run
under numba's CUDA simulator: partition, guards, STATIC/DYNAMIC specializations, the
grid-stride kernels of kernels/emit.py and their launchers, against the same function run
eagerly on the CPU (NumPy).

The simulator runs each CUDA thread as Python, so sizes are tiny (<= 64 elements per
tensor). It must be on before numba is imported (NUMBA_ENABLE_CUDASIM=1), hence the
subprocess. In it the runtime's choice of target for a CPU group ("cpu") is redirected to
"sim": the group then takes NumPy arrays as on the CPU and launches the simulated CUDA
kernel. A kernel that fails to build or raises on good inputs (the group would quietly run
unfused) fails the test.

GPUJIT_SIM_FUZZ_EXAMPLES=400 for a longer hunt (default 40, ~20-40 s), GPUJIT_FUZZ_SEED=<int>
for other programs than the fixed ones."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from cache_seed import warm
from test_kernels import session_cache_dir

PRELUDE = r"""
import sys, warnings
sys.path.insert(0, {tests!r})
import numpy as np
import gpujit as torch
import gpujit.runtime.fusion as RF
import gpujit.fusers.group as G

_cpu_target = RF._target
RF._target = lambda node: "sim" if _cpu_target(node) == "cpu" else _cpu_target(node)
SIM_KERNELS = []
_build = G.default_builder


def _counting_builder(spec, target):
    assert target == "sim", target
    k = _build(spec, target)
    SIM_KERNELS.append(k)
    return k


G.default_builder = _counting_builder


def _note_failure(self, msg):     # a kernel that failed must not hide behind the fallback
    raise AssertionError(f"simulated kernel failed: {{msg}}")


G.FusedGroup._note_failure = _note_failure


def tiny(case):
    # at most 64 elements (64, 8x8 or 4x4x4), so the simulator stays quick; the sizes the
    # generator makes large (the CPU thread pool's chunks) become the largest allowed
    src, bcast, calls = case
    out = []
    for c in calls:
        cap = {{1: 64, 2: 8, 3: 4}}.get(len(c[0]), 1)
        out.append((tuple(cap if n > 5 else min(n, cap) for n in c[0]),) + tuple(c[1:]))
    return src, bcast, out
"""

SCRIPT = PRELUDE + r"""
from hypothesis import HealthCheck, given, seed, settings
import test_fusion_hunt_s11 as h


done = [0]


@seed({seed})
@settings(max_examples={examples}, deadline=None, derandomize={seed} is None, database=None,
          suppress_health_check=list(HealthCheck))
@given(h.programs())
def fuzz(case):
    if case is None:
        return
    h.check_program(*tiny(case))
    done[0] += 1


fuzz()
assert SIM_KERNELS, "no group ran on the simulated CUDA target"
print(f"simulator fuzz: {{done[0]}} programs, {{len(SIM_KERNELS)}} kernels passed")
"""


def run_sim(code, cache_dir, timeout=900):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", GPUJIT_CACHE_DIR=warm(cache_dir))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=timeout)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-8000:]
    return r.stdout


@pytest.mark.sim
def test_random_programs_on_the_simulated_cuda_target_match_eager():
    examples = int(os.environ.get("GPUJIT_SIM_FUZZ_EXAMPLES", "40"))
    seed = os.environ.get("GPUJIT_FUZZ_SEED")      # (other programs than the fixed ones)
    out = run_sim(SCRIPT.format(tests=os.path.dirname(__file__), examples=examples,
                                seed=None if seed is None else int(seed)),
                  session_cache_dir())
    assert "kernels passed" in out
    print(out.strip())


# ------------------------------------------------------------------ found by the above

def _powers(x):
    return x ** 0.5, x ** -0.5, x ** 2, x ** 3, x ** -1, x ** -2


def test_executor_keeps_a_python_number_exponent_a_number():
    # the executor passes a constant operand as a NumPy scalar when a probe on 1-element
    # samples of 1 answers the same; pow takes sqrt for the Python number 0.5 (-inf ** 0.5
    # is nan, as PyTorch) but NumPy's pow for a NumPy scalar (+inf): after the profiling
    # run the scripted function answered inf. The probe now tries special values too.
    import gpujit as torch
    f = torch.jit.script(_powers)
    vals = np.array([-np.inf, -4.0, -0.0, 0.0, 0.25, np.inf, np.nan], np.float32)
    with np.errstate(all="ignore"):
        want = (np.sqrt(vals), 1 / np.sqrt(vals), vals * vals, vals * vals * vals, 1 / vals,
                1 / (vals * vals))
    for dtype in (np.float32, np.float64):
        for _ in range(3):
            got = f(torch.from_numpy(vals.astype(dtype)))
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g.numpy(), w.astype(dtype))
