"""`.code` in torch 2.13's layout (python_print.cpp): the signature breaks after the first
parameter, one further parameter to a line indented 4 spaces; defaults print `k: int=3`;
method and function calls print `(linear).forward(x, )`. The expected texts are what
torch 2.13 prints for the same programs."""
import ast
import sys
from typing import Dict, List, Optional, Tuple

import pytest

import gpujit as torch

Tensor = torch.Tensor


class MyCell(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


class Sub(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 3)

    def forward(self, x):
        return self.lin(x).relu()

    @torch.jit.export
    def other(self, x: Tensor, k: int = 3) -> Tensor:
        return x * k


class Outer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.sub = Sub()

    def forward(self, x, y: Optional[Tensor] = None):
        z = self.sub(x) + self.sub.other(x, 2)
        if y is not None:
            z = z + y
        return z


class NoArgs(torch.nn.Module):
    def forward(self):
        return torch.zeros(2)


class Helper(torch.nn.Module):
    def forward(self, x):
        return self.helper(x, 2) + self.helper(x, k=3)

    def helper(self, x, k: int):
        return x + k


def f0() -> int:
    return 3


def f1(x):
    return x + 1


def f3(xs: List[Tensor], d: Dict[str, int]) -> Tensor:
    return xs[0]


def f_defaults(x, a: float = 2.0, b: str = "h'i\"", c: Optional[int] = None,
               d: bool = False, e: int = -3, g: float = 1e-5,
               h: Tuple[int, int] = (1, 2), k: float = float("inf")):
    return x


def g_callee(x, y: int):
    return x * y


def f_calls(x):
    return g_callee(x, 2) + g_callee(x, y=3)


def _code(obj):
    text = obj.code
    ast.parse(text)
    return text


def test_script_module_signature_breaks_after_self():
    assert _code(torch.jit.script(MyCell())) == """\
def forward(self,
    x: Tensor,
    h: Tensor) -> Tuple[Tensor, Tensor]:
  linear = self.linear
  new_h = torch.tanh(torch.add((linear).forward(x, ), h))
  return (new_h, new_h)
"""


def test_zero_and_one_parameter_forms():
    assert _code(torch.jit.script(f0)) == "def f0() -> int:\n  return 3\n"
    assert _code(torch.jit.script(f1)) == \
        "def f1(x: Tensor) -> Tensor:\n  return torch.add(x, 1)\n"
    assert _code(torch.jit.script(NoArgs())) == \
        "def forward(self) -> Tensor:\n  return torch.zeros([2])\n"
    assert _code(torch.jit.script(Sub())) == """\
def forward(self,
    x: Tensor) -> Tensor:
  lin = self.lin
  return torch.relu((lin).forward(x, ))
"""


def test_function_with_containers():
    assert _code(torch.jit.script(f3)).splitlines()[:2] == [
        "def f3(xs: List[Tensor],", "    d: Dict[str, int]) -> Tensor:"]


def test_defaults_print_as_torch():
    assert _code(torch.jit.script(f_defaults)).splitlines() == [
        "def f_defaults(x: Tensor,",
        "    a: float=2.,",
        "    b: str=\"h\\'i\\\"\",",
        "    c: Optional[int]=None,",
        "    d: bool=False,",
        "    e: int=-3,",
        "    g: float=1.0000000000000001e-05,",
        "    h: Tuple[int, int]=(1, 2),",
        "    k: float=inf) -> Tensor:",
        "  return x"]
    # the schema spells a tuple default as a tuple and escapes ' as torch does
    assert torch.jit.script(f_defaults).schema == (
        "f_defaults(Tensor x, float a=2., str b=\"h\\'i\\\"\", int? c=None, bool d=False, "
        "int e=-3, float g=1.0000000000000001e-05, (int, int) h=(1, 2), float k=inf) "
        "-> Tensor")


def test_methods_with_defaults_and_submodule_calls():
    m = torch.jit.script(Outer())
    assert _code(m) == """\
def forward(self,
    x: Tensor,
    y: Optional[Tensor]=None) -> Tensor:
  sub = self.sub
  _0 = (sub).forward(x, )
  sub0 = self.sub
  z = torch.add(_0, (sub0).other(x, 2, ))
  if torch.__isnot__(y, None):
""" + m.code.split("if torch.__isnot__(y, None):\n", 1)[1]
    assert _code(m.sub.other) == """\
def other(self,
    x: Tensor,
    k: int=3) -> Tensor:
  return torch.mul(x, k)
"""


def test_calls_of_methods_and_functions_end_each_argument_with_a_comma():
    assert _code(torch.jit.script(Helper())) == """\
def forward(self,
    x: Tensor) -> Tensor:
  _0 = torch.add((self).helper(x, 2, ), (self).helper(x, 3, ))
  return _0
"""
    # torch 2.13's text: the callee's qualified name, too long to inline, named once
    assert _code(torch.jit.script(f_calls)) == """\
def f_calls(x: Tensor) -> Tensor:
  _0 = __torch__.test_code_printer_s28.g_callee
  return torch.add(_0(x, 2, ), _0(x, 3, ))
"""


def test_traced_module_and_function_layout():
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    lines = _code(torch.jit.trace(MyCell(), (x, h))).splitlines()
    assert lines[:3] == ["def forward(self,", "    x: Tensor,",
                         "    h: Tensor) -> Tuple[Tensor, Tensor]:"]
    t = torch.jit.trace(lambda a, b: a * b + 1, (torch.rand(2), torch.rand(2)))
    assert _code(t).splitlines()[:2] == ["def _lambda(a: Tensor,", "    b: Tensor) -> Tensor:"]


def test_rnn_loop_of_a_traced_cell():
    x, h = torch.rand(3, 4), torch.rand(3, 4)

    class MyRNNLoop(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = torch.jit.trace(MyCell(), (x, h))

        def forward(self, xs):
            h, y = torch.zeros(3, 4), torch.zeros(3, 4)
            for i in range(xs.size(0)):
                y, h = self.cell(xs[i], h)
            return y, h

    text = _code(torch.jit.script(MyRNNLoop()))
    assert text.startswith("def forward(self,\n    xs: Tensor) -> Tuple[Tensor, Tensor]:\n")
    assert "(cell).forward(torch.select(xs, 0, i), " in text
    # torch 2.13: `y0 = y` / `h0 = h` (carried values one to a line), `y1, h1, = _0`
    # (the trailing comma forces the unpack); the tuple assignment names the zeros
    lines = text.splitlines()
    assert lines[2:6] == ["  h = torch.zeros([3, 4])", "  y = torch.zeros([3, 4])",
                          "  y0 = y", "  h0 = h"]
    assert lines[9] == "    y1, h1, = _0"


def test_unpack_of_one_value_and_loop_annotations():
    def f(xs: List[Tuple[int]], n: int):
        s: Optional[int] = None
        for i in range(n):
            a, = xs[i]
            s = a
        return s
    text = _code(torch.jit.script(f))
    assert "    a, = xs[i]\n" in text
    assert "  s: Optional[int] = None\n" in text


def test_save_load_reads_the_new_layout_back(tmp_path):
    m = torch.jit.script(Outer())
    path = tmp_path / "outer.pt"
    torch.jit.save(m, str(path))
    loaded = torch.jit.load(str(path))
    x, y = torch.rand(2, 3), torch.rand(2, 3)
    assert torch.allclose(loaded(x, y), m(x, y))
    assert torch.allclose(loaded(x), m(x))
    assert torch.allclose(loaded.sub.other(x), m.sub.other(x))
    assert loaded.sub.other.code == m.sub.other.code
    assert loaded.code == m.code
    f = torch.jit.script(f_defaults)
    torch.jit.save(f, str(tmp_path / "f.pt"))
    g = torch.jit.load(str(tmp_path / "f.pt"))
    # (a function comes back as the forward of torch's PlaceholderModule, self first)
    assert g.code == f.code.replace("def f_defaults(", "def forward(self,\n    ", 1)


LEAD_T13 = '''
import sys
from typing import Optional
torch = __import__(sys.argv[1])
Tensor = torch.Tensor
class MyCell(torch.nn.Module):
    def __init__(self):
        super(MyCell, self).__init__()
        self.linear = torch.nn.Linear(4, 4)
    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h
print(torch.jit.script(MyCell()).code)
def f(x, y: int = 2, w: Optional[Tensor] = None):
    return x * y
print(torch.jit.script(f).code)
'''


def test_same_text_as_torch(tmp_path):
    pytest.importorskip("torch")
    import subprocess
    script = tmp_path / "t13.py"
    script.write_text(LEAD_T13)
    outs = [subprocess.run([sys.executable, str(script), mod], capture_output=True,
                           text=True, check=True).stdout for mod in ("gpujit", "torch")]
    assert outs[0] == outs[1]
