"""The simulator tier: the CUDA code generator's kernels (the same module text that is
compiled to PTX on a GPU, grid-stride loop and index arithmetic included) run under numba's
CUDA simulator in a subprocess (NUMBA_ENABLE_CUDASIM=1 must be set before numba is
imported), on tiny arrays, and must match eager gpujit: every fusible op of the registry in
every dtype, the layouts, Python-number arguments and random elementwise graphs."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from test_kernels import kernel_cache_dir  # noqa: F401

SCRIPT = r"""
import sys
sys.path.insert(0, {tests!r})
import numpy as np
from hypothesis import given, settings, HealthCheck
import test_kernels as t
from gpujit import kernels as K

checks = 0
for name in t.SWEEP_DTYPES:
    g, args, labels = t.sweep_graph(name)
    k = K.build(K.spec_for(g, args, static=name != "float32"), "sim")
    assert "cuda.grid(1)" in k.source
    for label, o, r in zip(labels, k(*args), t.reference(g, args)):
        t.assert_same(o, r, label)
        checks += 1
for name in ("float32", "float16", "float64", "int32", "bool"):   # the vector loop
    for g, args, labels in t.vector_sweeps(name, "sim"):
        for inputs in (args, [t.misaligned(a) for a in args]):
            k = K.build(K.spec_for(g, inputs, static=True), "sim")
            assert "_ld4(a0, jv)" in k.source
            for label, o, r in zip(labels, k(*inputs), t.reference(g, args)):
                t.assert_same(o, r, label)
                checks += 1
for case, (x, y) in t.LAYOUTS.items():
    for static in (True, False):
        t.run_and_compare(t.traced(t._pair, x, y), (x, y), target="sim", static=static)
        checks += 1
h = np.array([-np.inf, -0.0, 0.0, 4.0, -4.0, np.nan, 9.0, 0.25], np.float16)
for static in (True, False):   # float16 ** 0.5: pow, as eager NumPy (and PyTorch's CPU)
    t.run_and_compare(t.traced(lambda x: ((x * 1) ** 0.5, (x * 1) ** -0.5), h), (h,),
                      target="sim", static=static)
    checks += 1
for static in (True, False):
    g = t._scalar_graph()
    k = t.run_and_compare(g, (t._A, 0.25, 3, True), target="sim", static=static)
    checks += 1

@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(t.elementwise_graphs())
def random_graphs(case):
    global checks
    if case is not None:
        t.run_and_compare(case[0], case[1], target="sim", static=case[2])
        checks += 1
random_graphs()
print(f"simulator: {{checks}} checks passed")
"""


@pytest.mark.sim
def test_cuda_kernels_under_the_simulator_match_eager(kernel_cache_dir):
    from test_fake_gpu import give_helpers, take_helpers
    # (the eager numba helpers the sweeps reach: shared with the fake-GPU tier's processes)
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1",
               GPUJIT_CACHE_DIR=take_helpers(kernel_cache_dir))
    code = SCRIPT.format(tests=os.path.dirname(__file__))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=600)
    give_helpers(kernel_cache_dir)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-6000:]
    assert "checks passed" in r.stdout
    print(r.stdout.strip())


@pytest.mark.sim
def test_the_sim_target_needs_the_simulator():
    import numba
    if not numba.config.ENABLE_CUDASIM:     # (this process's numba: in place, no new process)
        import test_kernels as t
        from gpujit import kernels as K
        g = t.traced(t._pair, t._A, t._A)
        with pytest.raises(K.KernelBuildError,
                           match="set NUMBA_ENABLE_CUDASIM=1 before numba is imported"):
            K.build(K.spec_for(g, (t._A, t._A)), "sim")
        return
    code = ("import sys; sys.path.insert(0, %r); import test_kernels as t\n"
            "from gpujit import kernels as K\n"
            "g = t.traced(t._pair, t._A, t._A)\n"
            "try:\n"
            "    K.build(K.spec_for(g, (t._A, t._A)), 'sim')\n"
            "except K.KernelBuildError as e:\n"
            "    print(e)\n") % os.path.dirname(__file__)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "set NUMBA_ENABLE_CUDASIM=1 before numba is imported" in r.stdout, r.stderr
