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
