"""Traced modules' type names in torch's order (session 36).

torch.jit.trace mirrors a module as TracedModules whose constructor makes its submodules'
TracedModules first, so types are made children before parent: of a P holding two C()s
that each hold a Linear, torch 2.13 names a.l `Linear`, a `C`, b.l
`___torch_mangle_0.Linear`, b `___torch_mangle_1.C`, P `P`. gpujit named the parent
first (P, C, Linear, ___torch_mangle_0.C, ___torch_mangle_1.Linear). And check_trace
retraces the module (torch.jit.trace_module with check_trace=False) once per check input:
every retrace makes a type per module, so the next trace's numbers start that many later
(a second P traced with the default check got ___torch_mangle_6.P in torch, _2 in gpujit).
A module registered under two names makes a type per name. The expected lines are
torch 2.13's output of the same program, run in a fresh process.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = textwrap.dedent('''
    import gpujit as torch

    class C(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l = torch.nn.Linear(2, 2)

        def forward(self, x):
            return self.l(x)

    class P(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = C()
            self.b = C()

        def forward(self, x):
            return self.a(x) + self.b(x)

    class D(torch.nn.Module):          # one C under two names
        def __init__(self):
            super().__init__()
            self.a = C()
            self.b = self.a
            self.n = None

        def forward(self, x):
            return self.a(x) + self.b(x)

    class Q(torch.nn.Module):
        def forward(self, x):
            return x + 1

    def name(m):
        return str(m.graph).splitlines()[0].split(" : ")[1].rstrip(",)").replace("__torch__.", "")

    def show(t, subs=True):
        ms = [t, t.a, t.a.l, t.b, t.b.l] if subs else [t]
        print(" ".join(name(m) for m in ms))

    x = torch.ones(1, 2)
    show(torch.jit.trace(P(), x, check_trace=False))
    show(torch.jit.trace(P(), x, check_trace=False))
    d = torch.jit.trace(D(), x, check_trace=False)
    print(name(d), name(d.a), name(d.a.l))
    d = torch.jit.trace(D(), x)
    print(name(d), name(d.a), name(d.a.l))
    show(torch.jit.trace(P(), x, check_inputs=[(x,), (x,)]))
    show(torch.jit.trace(P(), x, check_trace=False))
    show(torch.jit.trace_module(P(), {"forward": x}))
    show(torch.jit.trace(Q(), x), subs=False)
    show(torch.jit.trace(Q(), x), subs=False)
    show(torch.jit.script(P()))        # scripted: children first, equal types shared
    show(torch.jit.trace(P(), x))
''')

LIN = "torch.nn.modules.linear."
TORCH_2_13 = [
    f"P C {LIN}Linear ___torch_mangle_1.C {LIN}___torch_mangle_0.Linear",
    f"___torch_mangle_6.P ___torch_mangle_3.C {LIN}___torch_mangle_2.Linear "
    f"___torch_mangle_5.C {LIN}___torch_mangle_4.Linear",
    f"D ___torch_mangle_8.C {LIN}___torch_mangle_7.Linear",
    f"___torch_mangle_15.D ___torch_mangle_12.C {LIN}___torch_mangle_11.Linear",
    f"___torch_mangle_25.P ___torch_mangle_22.C {LIN}___torch_mangle_21.Linear "
    f"___torch_mangle_24.C {LIN}___torch_mangle_23.Linear",
    f"___torch_mangle_40.P ___torch_mangle_37.C {LIN}___torch_mangle_36.Linear "
    f"___torch_mangle_39.C {LIN}___torch_mangle_38.Linear",
    f"___torch_mangle_45.P ___torch_mangle_42.C {LIN}___torch_mangle_41.Linear "
    f"___torch_mangle_44.C {LIN}___torch_mangle_43.Linear",
    "Q",
    "___torch_mangle_52.Q",
    f"___torch_mangle_56.P ___torch_mangle_55.C {LIN}___torch_mangle_54.Linear "
    f"___torch_mangle_55.C {LIN}___torch_mangle_54.Linear",
    f"___torch_mangle_61.P ___torch_mangle_58.C {LIN}___torch_mangle_57.Linear "
    f"___torch_mangle_60.C {LIN}___torch_mangle_59.Linear",
]


def test_traced_module_type_names_follow_torch(tmp_path):
    prog = tmp_path / "traced_types.py"
    prog.write_text(PROGRAM)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH"))
                                        if p)
    out = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == TORCH_2_13


# ------------------------------------------------------------------ fused multiply-add on CuPy
# c36 made add/sub with alpha (and SGD's updates) one fused multiply-add, as torch's
# kernels; ops/fma.py emulated it on CuPy with ~15 elementwise kernels per call. CuPy now
# runs CUDA's own fmaf / fma as one ElementwiseKernel (made once per dtype).

class _StubCupy:
    """Just what ops/fma asks of CuPy: ndarray and ElementwiseKernel (recorded)."""
    ndarray = np.ndarray

    def __init__(self):
        self.made = []

    def __getattr__(self, name):        # (the emulation's asarray, isfinite...)
        return getattr(np, name)

    def ElementwiseKernel(self, in_params, out_params, operation, name):
        self.made.append((in_params, out_params, operation, name))
        dt = np.dtype(out_params.split()[0])
        # the kernel's answer: the exact fma, rounded once (NumPy's emulation)
        from gpujit.ops import fma as F
        return lambda a, b, c: (F._fma_numpy32 if dt == np.float32 else
                                F._fma_numpy64)(a, b, c, np)


def test_cupy_fma_is_one_elementwise_kernel_of_cudas_fma(monkeypatch):
    from gpujit.ops import fma as F
    monkeypatch.setattr(F, "_CUPY_KERNELS", {})
    xp = _StubCupy()
    a = np.array([1 + 2.0 ** -23, 3.0], np.float32)
    b = np.float32(1 - 2.0 ** -23)
    c = np.array([-1.0, 0.5], np.float32)
    r = F.fma32(a, b, c, xp)
    assert r.dtype == np.float32
    # (1 + e)(1 - e) - 1 = -e^2 exactly, which two roundings lose
    assert r[0] == np.float32(-(2.0 ** -46))
    F.fma32(a, b, c, xp)
    F.fma64(a.astype(np.float64), 0.25, c.astype(np.float64), xp)
    assert xp.made == [
        ("float32 a, float32 b, float32 c", "float32 z", "z = fmaf(a, b, c)",
         "gpujit_fma_float32"),
        ("float64 a, float64 b, float64 c", "float64 z", "z = fma(a, b, c)",
         "gpujit_fma_float64")]
    # no array operand: no kernel (it would need a size), the emulation answers
    assert F.fma32(np.float32(2), np.float32(3), np.float32(1), xp) == np.float32(7)
    assert len(xp.made) == 2


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_add_with_alpha_on_cuda_has_the_cpu_bits(dtype):
    import gpujit as torch
    dt = getattr(torch, dtype)
    torch.manual_seed(0)
    x, y = torch.randn(70000, dtype=dt), torch.randn(70000, dtype=dt)
    for alpha in (0.3, -1.7, 1e-3):
        cpu = torch.add(x, y, alpha=alpha)
        gpu = torch.add(x.cuda(), y.cuda(), alpha=alpha).cpu()
        assert torch.equal(gpu, cpu), alpha
        assert torch.equal(torch.sub(x.cuda(), y.cuda(), alpha=alpha).cpu(),
                           torch.sub(x, y, alpha=alpha))


@pytest.mark.cuda
def test_sgd_step_on_cuda_has_the_cpu_bits():
    import gpujit as torch
    torch.manual_seed(0)
    ps = {}
    for dev in ("cpu", "cuda"):
        torch.manual_seed(1)
        w = torch.randn(257, 33).to(dev).requires_grad_()
        opt = torch.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True)
        for _ in range(3):
            opt.zero_grad()
            (w.sin() * w).sum().backward()
            opt.step()
        ps[dev] = w.detach().cpu()
    assert torch.equal(ps["cuda"], ps["cpu"])


# ------------------------------------------------------------------ x.is_pinned() in script
# torch 2.13 scripts x.is_pinned() (aten::is_pinned(Tensor self, Device? device=None));
# gpujit refused it ("gpujit has no Tensor method 'is_pinned'", b36's find).

def test_is_pinned_in_scripted_code():
    import gpujit as torch

    @torch.jit.script
    def f(x):
        return x.is_pinned(), x[1:].is_pinned()

    x = torch.ones(3)
    assert f(x) == (False, False) == (x.is_pinned(), x[1:].is_pinned())
    assert "aten::is_pinned" in str(f.graph)
    # memory pin_memory() returned (a machine with CuPy's accelerator): pinned, views too
    from gpujit.ops import host_functions as H
    p = x.clone()
    r = H._root(p._data)
    H._PINNED[id(r)] = __import__("weakref").ref(r)
    try:
        assert f(p) == (True, True) == (p.is_pinned(), p[1:].is_pinned())
    finally:
        H._PINNED.pop(id(r), None)
