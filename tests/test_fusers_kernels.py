"""FusedGroup with the real kernels (gpujit.kernels.build): the CPU target here, the CUDA
simulator in a subprocess (`sim`), CUDA on a GPU (`cuda`). Few compiles: each costs
~0.5 s cold (the disk cache serves later runs)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gpujit import fusers
from gpujit.ir import parse_ir

F4 = "Float(4, strides=[1], requires_grad=0, device=cpu)"
GRAPH = f"""
graph(%x : {F4},
      %y : {F4},
      %s : float):
  %one : int = prim::Constant[value=1]()
  %a : {F4} = aten::mul(%x, %s)
  %b : {F4} = aten::add(%a, %y, %one)
  %t : {F4} = aten::tanh(%b)
  %d : {F4} = aten::sub(%x, %y, %one)
  %g : {F4} = aten::sigmoid(%d)
  %m : {F4} = aten::mul(%t, %g)
  %r : {F4} = aten::relu(%x)
  %o : {F4} = aten::add(%m, %r, %one)
  return (%o)
"""


def reference(x, y, s):
    x, y = x.astype(np.float64), y.astype(np.float64)
    return np.tanh(x * s + y) / (1 + np.exp(-(x - y))) + np.maximum(x, 0)


def group_for(target, strategy):
    g = parse_ir(GRAPH)
    (node,) = fusers.fuse(g)
    return fusers.FusedGroup(node, fusers.FusionBudget(strategy, name="chain"), target)


def f32(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_cpu_kernels_static_then_dynamic():
    group = group_for("cpu", [("STATIC", 1), ("DYNAMIC", 2)])
    cases = [(f32(4), f32(4, seed=1), 0.5),           # STATIC #1
             (f32(4), f32(4, seed=2), 2.0),           # same kernel, another scalar
             (f32(7), f32(7, seed=3), 0.5),           # DYNAMIC #1
             (f32(33), f32(1, seed=4), -1.5),         # DYNAMIC #2 (y broadcasts)
             (f32(100), f32(100, seed=5), 0.25)]      # DYNAMIC #1 again
    for x, y, s in cases:
        (out,) = group(x, y, s)
        assert out.dtype == np.float32 and out.shape == np.broadcast(x, y).shape
        np.testing.assert_allclose(out, reference(x, y, s), rtol=2e-6, atol=2e-6)
    assert [s.kind for s in group.specializations] == ["STATIC", "DYNAMIC", "DYNAMIC"]
    assert all(s.kernel is not None for s in group.specializations)
    assert group.fallback_calls == 0 and group.kernel_failures == 0
    x = f32(9)[::2]                  # strided: would need a kernel of its own, none is left
    with pytest.warns(fusers.FusionWarning, match="inputs of new types run unfused"):
        (out,) = group(x, f32(5), 1.0)
    np.testing.assert_allclose(out, reference(x, f32(5), 1.0), rtol=2e-6, atol=2e-6)
    assert group.fallback_calls == 1


def test_cpu_kernel_with_an_int_scalar_promotes_as_eager():
    group = group_for("cpu", [("DYNAMIC", 1)])
    x, y = f32(6), f32(6, seed=1)
    (out,) = group(x, y, 3)
    np.testing.assert_allclose(out, reference(x, y, 3), rtol=2e-6, atol=2e-6)
    assert group.specializations[0].spec.inputs[2].dtype.name == "int64"


SIM_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from test_fusers_kernels import group_for, reference, f32
    group = group_for("sim", [("STATIC", 1)])
    x, y = f32(4), f32(4, seed=1)
    (out,) = group(x, y, 0.5)
    np.testing.assert_allclose(out, reference(x, y, 0.5), rtol=2e-6, atol=2e-6)
    assert group.fallback_calls == 0 and group.kernel_failures == 0
    print("ok", group.specializations[0].kind)
""")


@pytest.mark.sim
def test_the_cuda_kernel_runs_under_the_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    script = SIM_SCRIPT.format(tests=os.path.dirname(__file__))
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "ok STATIC"


@pytest.mark.cuda
def test_cuda_kernels_on_the_gpu():
    import cupy
    group = group_for("cuda", [("STATIC", 1), ("DYNAMIC", 1)])
    for n in (4, 1000, 4096):
        x, y = f32(n), f32(n, seed=1)
        (out,) = group(cupy.asarray(x), cupy.asarray(y), 0.5)
        assert isinstance(out, cupy.ndarray)
        np.testing.assert_allclose(out.get(), reference(x, y, 0.5), rtol=2e-6, atol=2e-6)
    assert [s.kind for s in group.specializations] == ["STATIC", "DYNAMIC"]
    assert group.fallback_calls == 0 and group.kernel_failures == 0


def _scalar_tensor_constants(x):
    import gpujit
    return x * gpujit.tensor(2.5) + gpujit.tensor(1.0) - x.sigmoid()


@pytest.mark.cuda
def test_zero_dim_cpu_tensor_constants_fuse_into_cuda_groups():
    # a trace's 0-dim CPU tensor constants (torch.tensor(2.5)) read by ops on a CUDA tensor:
    # eagerly they promote as 0-dim tensors of the op's device; the fuser now reads them
    # as such (fusers.partition.place_scalar_constants) instead of leaving the ops unfused
    # for "mixed devices"
    import warnings
    import gpujit
    x = gpujit.arange(8.0, device="cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = gpujit.jit.trace(_scalar_tensor_constants, (x,))
    for _ in range(3):
        y = t(x)
    assert y.cpu().tolist() == _scalar_tensor_constants(x.cpu()).tolist()
    g = str(t.graph_for(x))
    assert "device=cpu" not in g
    body = g.split("with prim::TensorExprGroup_0")[1]
    for kind in ("aten::mul", "aten::add", "aten::sub", "aten::sigmoid"):
        assert kind in body, (kind, g)
    xi = (gpujit.arange(8) - 3).to("cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ti = gpujit.jit.trace(lambda v: v * gpujit.tensor(2.5) + 1, (xi,))
    for _ in range(3):
        yi = ti(xi)
    want = (gpujit.arange(8) - 3) * gpujit.tensor(2.5) + 1
    assert yi.dtype is want.dtype and yi.cpu().tolist() == want.tolist()
