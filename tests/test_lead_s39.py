"""Session 39 (lead): finds from scripting, tracing and training torchvision 0.28's classification models
(resnet, resnext, densenet, squeezenet, shufflenet, mobilenet v2/v3, mnasnet, efficientnet v1/v2, regnet,
googlenet, inception_v3, convnext, swin v1/v2, vit) with `import gpujit as torch` against torch 2.13 itself:
eager, scripted (3 calls), traced and scripted train-mode backward agree with torch to 1e-13 in float64. What
differed was what the user sees besides the numbers:

- torch.jit.trace of swin_t printed TracerWarnings (window-size checks `if window_size[0] >= pad_H:` on traced
  sizes, the attention mask's in-place fill) that torch does not print: torch/jit/_trace.py installs
  `warnings.filterwarnings("ignore", category=TracerWarning, module="torch.(?!jit)")` for its own library, and
  the pattern (a regex prefix match on the warning's module name) also quiets torchvision, torchaudio and any
  module whose name starts with "torch" and a character other than "j" of "jit".
- torch.jit.script of inception_v3 warns "The TorchScript type system doesn't support instance-level annotations
  on empty non-base types in `__init__`..." (`self.AuxLogits: Optional[nn.Module] = None`): torch's
  AttributeTypeIsSupportedChecker runs on the scripted module's own __init__ (not its submodules'); gpujit had
  no such warning. gpujit still types such attributes by their annotation (it runs where TorchScript refuses),
  and now says, with torch's words, that TorchScript would not.
"""
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Dict, List, Optional

import gpujit as torch

ROOT = Path(__file__).resolve().parents[1]

_PROGRAM = """
import types, warnings
import gpujit as torch
SRC = '''
def f(x):
    if x.sum() > 0:
        return x * 2
    return x
'''
for name in ("torchvision.models.m", "torchaudio.m", "torch_geometric.m", "mymodel.m", "torch_jit.m", "torch"):
    mod = types.ModuleType(name)
    exec(compile(SRC, "<" + name + ">", "exec"), mod.__dict__)
    with warnings.catch_warnings(record=True) as w:
        t = torch.jit.trace(mod.f, torch.ones(2, 3))
    assert t(torch.ones(2, 3)).tolist() == [[2.0] * 3] * 2
    print(name, [str(x.message)[:39] for x in w if issubclass(x.category, torch.jit.TracerWarning)])
"""


def test_tracer_warnings_of_modules_named_like_torch_libraries_are_ignored_as_torch_ignores_them(tmp_path):
    # torch 2.13 (the filter is process-wide, installed when torch.jit is imported; run in a fresh process
    # as pytest resets warning filters around each test)
    prog = tmp_path / "tracer_filter.py"
    prog.write_text(_PROGRAM)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    out = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    loud = "['Converting a tensor to a Python boolean']"
    assert out.stdout.splitlines() == [
        "torchvision.models.m []", "torchaudio.m []", "torch_geometric.m []",
        f"mymodel.m {loud}", f"torch_jit.m {loud}", f"torch {loud}"]


class _EmptyList(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x: List[int] = []

    def forward(self, t):
        self.x.append(3)
        return t + len(self.x)


class _ClassLevel(torch.nn.Module):
    x: List[int]

    def __init__(self):
        super().__init__()
        self.x: List[int] = []

    def forward(self, t):
        return t


class _NonEmpty(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.x: List[int] = [1]      # quiet
        self.y: list[int] = [1]      # warns (torch's checker treats lowercase list/dict as always empty)

    def forward(self, t):
        return t


class _AnnotateAndOptional(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.d = torch.jit.annotate(Dict[str, int], {})     # warns
        self.o: Optional[int] = None                         # warns
        self.p: Optional[int] = 3                            # quiet

    def forward(self, t):
        return t


class _Outer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = _EmptyList()      # a submodule's __init__ is not checked

    def forward(self, t):
        return self.a(t)


def _annotation_warnings(cls):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        s = torch.jit.script(cls())
    return s, [x for x in w if "instance-level annotations on empty non-base types" in str(x.message)]


def test_instance_level_annotations_of_empty_containers_warn_as_torchscript_does():
    # torch 2.13: warnings per class A 1, B 0, C 1, D 2, E 0
    counts = {cls.__name__: len(_annotation_warnings(cls)[1])
              for cls in (_EmptyList, _ClassLevel, _NonEmpty, _AnnotateAndOptional, _Outer)}
    assert counts == {"_EmptyList": 1, "_ClassLevel": 0, "_NonEmpty": 1, "_AnnotateAndOptional": 2,
                      "_Outer": 0}
    s, ws = _annotation_warnings(_EmptyList)
    assert ws[0].category is UserWarning
    assert str(ws[0].message) == (
        "The TorchScript type system doesn't support instance-level annotations on empty non-base types in "
        "`__init__`. Instead, either 1) use a type annotation in the class body, or 2) wrap the type in "
        "`torch.jit.Attribute`.")
    # gpujit keeps the annotation's type (TorchScript refuses `self.x.append(3)` here)
    assert s(torch.ones(2)).tolist() == [2.0, 2.0] and s.x == [3]


def test_tracing_a_module_does_not_run_the_annotation_check():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        torch.jit.trace(_ClassLevel().eval(), torch.ones(2))
        torch.jit.trace(_EmptyList(), torch.ones(2), check_trace=False)
    assert not [x for x in w if "instance-level" in str(x.message)]
