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


# ------------------------------------------------------------------ torchaudio 2.11's models

def _slice_by_tensor(x, n: torch.Tensor):
    return x[:n], x[n:n + 1], x.argmax(n)


def test_a_tensor_for_an_optional_int_is_converted_as_for_an_int():
    # torchaudio's Emformer: key[: mems.size(0) + right_context_blocks_length] with a Tensor length; TorchScript
    # converts to Optional[int] as to int (aten::IntImplicit): torch 2.13 scripts it and answers as eagerly
    s = torch.jit.script(_slice_by_tensor)
    x = torch.arange(6.).view(3, 2)
    a, b, c = s(x, torch.tensor(1))
    assert a.tolist() == [[0.0, 1.0]] and b.tolist() == [[2.0, 3.0]] and c.tolist() == [1, 1, 1]
    assert "aten::IntImplicit" in str(s.graph)
    for bad, words in ((torch.tensor(1.0), "Cannot input a tensor of type Float as an integral argument"),
                       (torch.tensor([1]), "Cannot input a tensor of dimension other than 0 as a scalar argument")):
        try:
            s(x, bad)
        except RuntimeError as e:
            assert words in str(e)
        else:
            raise AssertionError("accepted " + repr(bad))


class _WeightNormed(torch.nn.Module):
    """torchaudio's wav2vec2 ConvolutionalPositionalEmbedding: weight_norm'd, removed by __prepare_scriptable__."""

    def __init__(self):
        super().__init__()
        conv = torch.nn.Conv1d(4, 4, 3, padding=1, groups=2)
        self.conv = torch.nn.utils.parametrizations.weight_norm(conv, name="weight", dim=2)

    def __prepare_scriptable__(self):
        if self.conv.__class__.__name__ == "ParametrizedConv1d":
            torch.nn.utils.parametrize.remove_parametrizations(self.conv, "weight")
        return self

    def forward(self, x):
        return self.conv(x)


class _Holder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.pos = _WeightNormed()

    def forward(self, x):
        return self.pos(x) + 1


def test_prepare_scriptable_runs_before_the_parametrization_refusal():
    # torch 2.13 scripts wav2vec2 (its submodule removes the parametrization in __prepare_scriptable__)
    torch.manual_seed(0)
    m = _Holder()
    x = torch.randn(2, 4, 5)
    want = m(x)
    s = torch.jit.script(m)
    assert torch.allclose(s(x), want, atol=1e-6)
    assert sorted(m.state_dict()) == ["pos.conv.bias", "pos.conv.weight"]
    # a parametrization nothing removes is still refused in words (torch 2.13: torch.jit.Error
    # "Parametrization is not working with scripting." when the scripted module runs)
    n = torch.nn.Linear(2, 2)
    torch.nn.utils.parametrizations.weight_norm(n)
    try:
        torch.jit.script(n)
    except torch.jit.Error as e:
        assert "Parametrization is not working with scripting" in str(e)
    else:
        raise AssertionError("scripted a parametrized module")


def _rebind_list_to_tensor(x):
    xs: List[torch.Tensor] = []
    xs.append(x)
    xs.append(x * 2)
    xs = torch.cat(xs)
    return xs


def _rebind_after_loop(x):
    y: List[int] = [1]
    for i in range(2):
        y = [i]
    y = 2.5
    return x + y


def _rebind_float_to_int(x):
    y: float = 1.0
    y = 2
    return y


def _rebind_in_branch(x, c: bool):
    y: List[int] = [1]
    if c:
        y = 2
    return x + len(y)


def test_an_annotated_variable_rebinds_in_its_own_block_as_torchscript():
    # torchaudio's Tacotron2 decoder: mel_specgrams: List[Tensor] = [] ... mel_specgrams = torch.cat(mel_specgrams)
    # torch 2.13: rebinding in the declaring block takes the new value's type; in a nested block it must fit
    assert torch.jit.script(_rebind_list_to_tensor)(torch.ones(2)).tolist() == [1.0, 1.0, 2.0, 2.0]
    assert torch.jit.script(_rebind_after_loop)(torch.ones(2)).tolist() == [3.5, 3.5]
    r = torch.jit.script(_rebind_float_to_int)(torch.ones(2))
    assert r == 2 and type(r) is int
    try:
        torch.jit.script(_rebind_in_branch)
    except RuntimeError as e:
        assert "Variable 'y' previously had type List[int] but is now being assigned to a value of type int" in str(e)
    else:
        raise AssertionError("accepted")


def _number_for_ints(x, t):
    n = t.item()
    m = min(2, t.item())          # a number, as torch's min(int, Scalar)
    return x[:n], x.view(n, -1), x[m:], x.argmax(n)


def test_a_number_for_an_int_converts_with_aten_int_as_torchscript():
    # torchaudio's Emformer._unpack_state: past_length = state[3][0][0].item(); state[0][k - min(k, past_length):]
    # torch 2.13: aten::Int(Scalar) where a number meets an int (also packed into int[], also Optional[int])
    s = torch.jit.script(_number_for_ints)
    x = torch.arange(6.).view(3, 2)
    for t in (torch.tensor(1), torch.tensor(1.5)):
        a, b, c, d = s(x, t)
        assert a.tolist() == [[0.0, 1.0]] and b.tolist() == [[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]]
        assert c.tolist() == [[2.0, 3.0], [4.0, 5.0]] and d.tolist() == [1, 1, 1]
    assert "aten::Int" in str(s.graph)


class _BnAndGru(torch.nn.Module):
    """torchaudio's WaveRNN: BatchNorm1d (its training branch bumps num_batches_tracked in place) and GRUs, whose
    scripted forward reads the module list _flat_weights."""

    def __init__(self):
        super().__init__()
        self.bn = torch.nn.BatchNorm1d(4)
        self.rnn = torch.nn.GRU(4, 4, batch_first=True)

    def forward(self, x):
        y = self.bn(x.transpose(1, 2)).transpose(1, 2)
        out, _ = self.rnn(y)
        return out


class _AppendsToItsList(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.outs: List[torch.Tensor] = [torch.zeros(2)]

    def forward(self, x):
        self.outs.append(x * 2)
        return x + len(self.outs)


def _fusion_warnings(s, x, n=3):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with torch.no_grad():
            ys = [s(x) for _ in range(n)]
    return ys, [str(x.message) for x in w if "runs unfused, op by op" in str(x.message)]


def test_an_in_place_tensor_write_is_no_write_of_a_module_list_for_the_code_generator():
    # gpujit warned "forward runs unfused, op by op: the attribute '_flat_weights' (List[Tensor]) is changed in place"
    # for scripted WaveRNN / Tacotron2 (torch warns nothing): the buffer's add_ shares the coarse wildcard alias class
    torch.manual_seed(0)
    m = _BnAndGru().eval()
    x = torch.randn(2, 3, 4)
    with torch.no_grad():
        want = m(x)
    ys, ws = _fusion_warnings(torch.jit.script(m), x)
    assert ws == []
    assert all(torch.allclose(y, want, atol=1e-6) for y in ys)
    # a list the graph appends to still runs op by op (its writes must reach the module's own list)
    a = _AppendsToItsList()
    s = torch.jit.script(a)
    ys, ws = _fusion_warnings(s, torch.ones(2))
    assert [y.tolist() for y in ys] == [[3.0, 3.0], [4.0, 4.0], [5.0, 5.0]]
    assert len(s.outs) == 4


def _annotated_local_retyped(n: int):
    y: int = n
    y = 1.5
    return y


def _annotated_local_augassign(n: int):
    y: int = n
    y += 1.5
    return y


def test_an_annotated_local_retyped_in_its_block_is_accepted_as_torch():
    # torch 2.13: 1.5 and 3.5 (tests/test_script_errors_corpus.py had both as errors: they were gpujit's)
    assert torch.jit.script(_annotated_local_retyped)(2) == 1.5
    assert torch.jit.script(_annotated_local_augassign)(2) == 3.5
