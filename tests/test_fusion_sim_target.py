"""In a process started with NUMBA_ENABLE_CUDASIM=1, scripted and traced functions run
their fusion groups of CPU tensors as the CUDA kernel under numba's simulator (target
"sim"), so CI without a GPU runs the CUDA code generator on what users fuse; calls too
big for the simulator run the CPU kernel; GPUJIT_FUSION_TARGET=cpu|sim overrides."""
from __future__ import annotations

import os
import subprocess
import sys

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


def _run(tmp_path, **env):
    e = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", GPUJIT_CACHE_DIR=warm(tmp_path))
    e.pop("GPUJIT_FUSION_TARGET", None)
    e.update(env)
    prog = tmp_path / "prog.py"        # (scripting reads the function's source file)
    prog.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(prog)], env=e, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.sim
def test_scripted_groups_run_on_the_simulator(tmp_path):
    r = _run(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr[-4000:]
    assert "small ['sim']" in r.stdout, r.stdout
    # the big call: a DYNAMIC kernel built for the simulator, run as the CPU kernel
    assert "large ['cpu', 'sim'] True" in r.stdout, r.stdout


@pytest.mark.sim
def test_gpujit_fusion_target_cpu_keeps_the_cpu_kernels(tmp_path):
    r = _run(tmp_path, GPUJIT_FUSION_TARGET="cpu")
    assert r.returncode == 0, r.stdout + r.stderr[-4000:]
    assert "small ['cpu']" in r.stdout and "large ['cpu']" in r.stdout, r.stdout


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
