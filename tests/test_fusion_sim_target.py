"""In a process started with NUMBA_ENABLE_CUDASIM=1, scripted and traced functions run
their fusion groups of CPU tensors as the CUDA kernel under numba's simulator (target
"sim"), so CI without a GPU runs the CUDA code generator on what users fuse; calls too
big for the simulator run the CPU kernel; GPUJIT_FUSION_TARGET=cpu|sim overrides."""
from __future__ import annotations

import os

import pytest
from cache_seed import warm

SCRIPT = r"""
import sys
import numpy as np
import gpujit as torch
from gpujit import kernels
import gpujit.fusers.group as G

targets = []
_build = G.default_builder
def counting(spec, target):
    targets.append(target)
    return _build(spec, target)
G.default_builder = counting

def chain(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)

def ref(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    return np.tanh(x * 0.5 + y) / (1 + np.exp(-(x - y))) + np.maximum(x, 0)

torch.manual_seed(0)
s = torch.jit.script(chain)
x, y = torch.randn(3, 7), torch.randn(7)
for _ in range(3):
    out = s(x, y)
np.testing.assert_allclose(out.numpy(), ref(x.numpy(), y.numpy()), rtol=1e-5, atol=1e-6)
t = torch.jit.trace(chain, (x, y))
for _ in range(3):
    out = t(x, y)
np.testing.assert_allclose(out.numpy(), ref(x.numpy(), y.numpy()), rtol=1e-5, atol=1e-6)
print("small", sorted(set(targets)))
targets.clear()
# past SIM_MAX_ELEMENTS: the CPU kernel (an outer product counts its broadcast size)
a, b = torch.randn(200, 1), torch.randn(1, 100)
for _ in range(3):
    out = s(a, b)
np.testing.assert_allclose(out.numpy(), ref(a.numpy(), b.numpy()), rtol=1e-5, atol=1e-6)
print("large", sorted(set(targets)), G.SIM_MAX_ELEMENTS < 200 * 100)
"""


# both tests' programs in one process (tests/batch_programs; GPUJIT_FUSION_TARGET is read
# at each group's build: test_cpu_target_choice), each with its own fresh cache folder,
# the kernels, the counters and the builder's wrapper undone between them; the programs
# of the tests selected in this session
_PROGRAMS = {"test_scripted_groups_run_on_the_simulator": ("SIM", {}),
             "test_gpujit_fusion_target_cpu_keeps_the_cpu_kernels":
                 ("CPU", {"GPUJIT_FUSION_TARGET": "cpu"})}


@pytest.fixture(scope="module")
def sim_process(request, tmp_path_factory):
    from batch_programs import FORGET_KERNELS, run_batch
    names = {item.name for item in request.session.items
             if getattr(item, "module", None) is request.module}
    folder = tmp_path_factory.mktemp("sim_target")
    e = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", GPUJIT_CACHE_DIR=warm(folder / "cache"))
    e.pop("GPUJIT_FUSION_TARGET", None)
    programs = [(name, SCRIPT, dict(env, GPUJIT_CACHE_DIR=warm(folder / name / "cache")))
                for test, (name, env) in _PROGRAMS.items() if test in names]
    return run_batch(folder / "run", programs, env=e,
                     setup="import gpujit.fusers.group as _G\n_b = _G.default_builder\n",
                     reset="_G.default_builder = _b\n" + FORGET_KERNELS, timeout=600)


@pytest.mark.sim
def test_scripted_groups_run_on_the_simulator(sim_process):
    from batch_programs import program_result
    out, _ = program_result(sim_process, "SIM")
    assert "small ['sim']" in out, out
    # the big call: a DYNAMIC kernel built for the simulator, run as the CPU kernel
    assert "large ['cpu', 'sim'] True" in out, out


@pytest.mark.sim
def test_gpujit_fusion_target_cpu_keeps_the_cpu_kernels(sim_process):
    from batch_programs import program_result
    out, _ = program_result(sim_process, "CPU")
    assert "small ['cpu']" in out and "large ['cpu']" in out, out


def test_cpu_target_choice(monkeypatch):
    from gpujit.runtime.fusion import cpu_target
    monkeypatch.delenv("GPUJIT_FUSION_TARGET", raising=False)
    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "0")
    assert cpu_target() == "cpu"
    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "1")
    assert cpu_target() == "sim"
    monkeypatch.setenv("GPUJIT_FUSION_TARGET", " CPU ")
    assert cpu_target() == "cpu"
    monkeypatch.setenv("GPUJIT_FUSION_TARGET", "gpu")
    with pytest.raises(ValueError, match="GPUJIT_FUSION_TARGET='gpu'"):
        cpu_target()
