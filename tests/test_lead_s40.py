"""Session 40 (lead): finds left by session 39's torchvision runs, checked against torch 2.13.

- torch._assert(tensor_condition, msg) in traced code: PyTorch's TracerWarning ("Converting a tensor to a Python
  boolean...") points at torch/__init__.py's `if not condition:` (the Python frame that converts the tensor), so
  it is shown once for every assert in a program (the default filter shows a location once) and is not quieted
  by torch.jit's library filter (module "torch" does not match "torch.(?!jit)"): vit_b_16's shape asserts warn
  once in torch. gpujit pointed at each user line (and, for torchvision's modules, the filter quieted them).
  Now it points at gpujit's counterpart (gpujit/_asserts.py). Conversions in the user's own code still point at
  the user's line.
"""
import os
import subprocess
import sys
import warnings
from pathlib import Path

import gpujit as torch

ROOT = Path(__file__).resolve().parents[1]


def _traced_warnings(fn, *inputs):
    with warnings.catch_warnings(record=True) as caught:
        # (appended: torch.jit's own "ignore" filter for torch-named modules stays first)
        warnings.filterwarnings("default", category=torch.jit.TracerWarning, append=True)
        torch.jit.trace(fn, inputs, check_trace=False)
    return [(w.category.__name__, w.filename.replace("\\", "/").rsplit("/", 1)[-1])
            for w in caught if issubclass(w.category, torch.jit.TracerWarning)]


def _two_asserts(x):
    torch._assert((x > 0).all(), "positive")
    torch._assert((x > -1).all(), "above -1")
    if (x < 5).all():           # the user's own conversion: the user's line
        x = x + 1
    return x * 2


def test_assert_conversion_warns_once_at_the_library_line():
    got = _traced_warnings(_two_asserts, torch.ones(2, 3))
    # torch 2.13: [("TracerWarning", "__init__.py"), ("TracerWarning", "<this file>")]
    assert got == [("TracerWarning", "_asserts.py"), ("TracerWarning", "test_lead_s40.py")]


_PROGRAM = """
import types, warnings
import gpujit as torch
mod = types.ModuleType("torchvision.models.vit")
mod.torch = torch
src = ("def f(x):\\n    torch._assert((x > 0).all(), 'positive')\\n"
       "    if (x < 5).all():\\n        x = x + 1\\n    return x * 2\\n")
exec(compile(src, "<torchvision.models.vit>", "exec"), mod.__dict__)
with warnings.catch_warnings(record=True) as w:
    torch.jit.trace(mod.f, torch.ones(2, 3))
print([x.filename.replace("\\\\", "/").rsplit("/", 1)[-1] for x in w
       if issubclass(x.category, torch.jit.TracerWarning)])
"""


def test_assert_warning_not_quieted_for_torch_named_modules(tmp_path):
    # (a fresh process: pytest resets warning filters around each test, torch.jit's filter is process-wide)
    prog = tmp_path / "assert_filter.py"
    prog.write_text(_PROGRAM)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    out = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    # torch 2.13: the assert's warning shows (module "torch"); the library's own `if` is quieted
    assert out.stdout.splitlines() == ["['_asserts.py']"]
