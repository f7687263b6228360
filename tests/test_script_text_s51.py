"""Session 51 (c51): scripted functions' .graph text with TorchScript's value names and
numbers (`%x.1`, `%y.3`, `%16`), as torch 2.13 gives them: the frontend's history of
values (prim::Load / prim::Store of each variable, default-argument constants, the SSA
conversion's loads and stores, constant pooling's order) replayed by
gpujit/frontend/script/torch_names.py for straight code, if / else, for over range()
and while loops, calls with defaults, keywords and list conversions.

The expected texts were computed with torch 2.13 (`str(torch.jit.script(f).graph)`, the
`# file:line:col` comments dropped); with torch importable the tests also compare with
torch itself, comments included."""

import re
import types

import numpy as np
import pytest

import gpujit
import gpujit as torch

try:
    import torch as _torch
except ImportError:                 # (CI has no torch)
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="needs torch")


def straight(x, y):
    z = x + y
    x = x * 2
    x = x + z
    return x + y


def branches(x, n: int):
    if n > 2:
        x = x + 1
        y = x * 3
    else:
        y = x - 1
    for i in range(n):
        x = x + y
        y = y * 2
    return x


def counting(x, n: int):
    s = 0
    i = 0
    while i < n:
        s = s + i
        i += 1
    return x * s


def calls(x, y):
    """sums and views"""
    z = torch.cat([x, y], dim=1)
    s = z.sum(dim=1, keepdim=True)
    return torch.sum(z, 0) + s.view(-1), z * -1.5


def nested(x, n: int):
    acc = torch.zeros_like(x)
    for i in range(n):
        for j in range(3):
            if j > 1:
                acc = acc + x * j
            else:
                acc = acc - x
    return acc


def only_true_branch(x, n: int):
    if n > 2:
        x = x + 1
        x = x + 2
    return x * 5


def unpacked(x, y, n: int):
    a, b = x, y
    v, i = torch.max(a + b, 1)
    m = float(n)
    return v * m + i, x.shape[0] + x.size(1)


def in_place(x, n: int):
    y = x * 2
    for i in range(n):
        y += x
        y *= 0.5
    return y


def ternary(x, n: int):
    z = x + 1 if n > 2 else x - 1
    w = z * 2
    for i in range(n):
        w = w + (i if i > 1 else 0)
    return w


def exits_early(x, n: int):
    # a break: not replayed (gpujit's own names), still compiled and run right
    for i in range(n):
        if i > 2:
            break
        x = x + i
    return x


class Scaled(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 4)
        self.fc2 = torch.nn.Linear(4, 4)
        self.scale = 2.0

    def forward(self, x, n: int):
        y = self.fc(x)
        if n > 1:
            y = y * self.scale
        for i in range(n):
            y = self.fc2(y) + self.fc2(y) * i
        return torch.relu(y) + x.sum()


# str(torch.jit.script(Scaled()).graph) under torch 2.13 (class names as `T`)
_SCALED = """graph(%self : T,
      %x.1 : Tensor,
      %n.1 : int):
  %37 : NoneType = prim::Constant()
  %21 : bool = prim::Constant[value=1]()
  %7 : int = prim::Constant[value=1]()
  %fc : T = prim::GetAttr[name="fc"](%self)
  %y.1 : Tensor = prim::CallMethod[name="forward"](%fc, %x.1)
  %8 : bool = aten::gt(%n.1, %7)
  %y.27 : Tensor = prim::If(%8)
    block0():
      %scale : float = prim::GetAttr[name="scale"](%self)
      %y.5 : Tensor = aten::mul(%y.1, %scale)
      -> (%y.5)
    block1():
      -> (%y.1)
  %y : Tensor = prim::Loop(%n.1, %21, %y.27)
    block0(%i.1 : int, %y.29 : Tensor):
      %fc2.1 : T = prim::GetAttr[name="fc2"](%self)
      %25 : Tensor = prim::CallMethod[name="forward"](%fc2.1, %y.29)
      %fc2 : T = prim::GetAttr[name="fc2"](%self)
      %28 : Tensor = prim::CallMethod[name="forward"](%fc2, %y.29)
      %30 : Tensor = aten::mul(%28, %i.1)
      %y.21 : Tensor = aten::add(%25, %30, %7)
      -> (%21, %y.21)
  %35 : Tensor = aten::relu(%y)
  %38 : Tensor = aten::sum(%x.1, %37)
  %40 : Tensor = aten::add(%35, %38, %7)
  return (%40)
"""


def test_module_forward_graph_names_are_torchs():
    mod = Scaled()
    m = torch.jit.script(mod)
    text = re.sub(r"__torch__\.[\w.]+", "T", _bare(str(m.graph)))
    assert text == _SCALED, text
    x = gpujit.from_numpy(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
    with torch.no_grad():
        np.testing.assert_allclose(m(x, 2).numpy(), mod(x, 2).numpy(), rtol=1e-5,
                                   atol=1e-6)


# str(torch.jit.script(f).graph) under torch 2.13, comments dropped
_EXPECTED = {
    "straight": """graph(%x.1 : Tensor,
      %y.1 : Tensor):
  %4 : int = prim::Constant[value=1]()
  %7 : int = prim::Constant[value=2]()
  %z.1 : Tensor = aten::add(%x.1, %y.1, %4)
  %x.7 : Tensor = aten::mul(%x.1, %7)
  %x.11 : Tensor = aten::add(%x.7, %z.1, %4)
  %16 : Tensor = aten::add(%x.11, %y.1, %4)
  return (%16)
""",
    "branches": """graph(%x.1 : Tensor,
      %n.1 : int):
  %28 : bool = prim::Constant[value=1]()
  %3 : int = prim::Constant[value=2]()
  %7 : int = prim::Constant[value=1]()
  %12 : int = prim::Constant[value=3]()
  %4 : bool = aten::gt(%n.1, %3)
  %x.29 : Tensor, %y.21 : Tensor = prim::If(%4)
    block0():
      %x.5 : Tensor = aten::add(%x.1, %7, %7)
      %y.1 : Tensor = aten::mul(%x.5, %12)
      -> (%x.5, %y.1)
    block1():
      %y.3 : Tensor = aten::sub(%x.1, %7, %7)
      -> (%x.1, %y.3)
  %x : Tensor, %y : Tensor = prim::Loop(%n.1, %28, %x.29, %y.21)
    block0(%i : int, %x.31 : Tensor, %y.23 : Tensor):
      %x.23 : Tensor = aten::add(%x.31, %y.23, %7)
      %y.17 : Tensor = aten::mul(%y.23, %3)
      -> (%28, %x.23, %y.17)
  return (%x)
""",
    "counting": """graph(%x.1 : Tensor,
      %n.1 : int):
  %s.1 : int = prim::Constant[value=0]()
  %3 : int = prim::Constant[value=9223372036854775807]()
  %14 : int = prim::Constant[value=1]()
  %32 : bool = aten::lt(%s.1, %n.1)
  %s : int, %i : int = prim::Loop(%3, %32, %s.1, %s.1)
    block0(%8 : int, %s.11 : int, %i.11 : int):
      %s.5 : int = aten::add(%s.11, %i.11)
      %i.7 : int = aten::add(%i.11, %14)
      %6 : bool = aten::lt(%i.7, %n.1)
      -> (%6, %s.5, %i.7)
  %19 : Tensor = aten::mul(%x.1, %s)
  return (%19)
""",
    "calls": """graph(%x.1 : Tensor,
      %y.1 : Tensor):
  %29 : float = prim::Constant[value=-1.5]()
  %21 : int = prim::Constant[value=-1]()
  %16 : bool = prim::Constant[value=0]()
  %11 : NoneType = prim::Constant()
  %9 : bool = prim::Constant[value=1]()
  %6 : int = prim::Constant[value=1]()
  %14 : int = prim::Constant[value=0]()
  %5 : Tensor[] = prim::ListConstruct(%x.1, %y.1)
  %z.1 : Tensor = aten::cat(%5, %6)
  %10 : int[] = prim::ListConstruct(%6)
  %s.1 : Tensor = aten::sum(%z.1, %10, %9, %11)
  %15 : int[] = prim::ListConstruct(%14)
  %18 : Tensor = aten::sum(%z.1, %15, %16, %11)
  %22 : int[] = prim::ListConstruct(%21)
  %23 : Tensor = aten::view(%s.1, %22)
  %25 : Tensor = aten::add(%18, %23, %6)
  %30 : Tensor = aten::mul(%z.1, %29)
  %31 : (Tensor, Tensor) = prim::TupleConstruct(%25, %30)
  return (%31)
""",
    "nested": """graph(%x.1 : Tensor,
      %n.1 : int):
  %12 : bool = prim::Constant[value=1]()
  %3 : NoneType = prim::Constant()
  %14 : int = prim::Constant[value=3]()
  %20 : int = prim::Constant[value=1]()
  %acc.1 : Tensor = aten::zeros_like(%x.1, %3, %3, %3, %3, %3)
  %acc : Tensor = prim::Loop(%n.1, %12, %acc.1)
    block0(%i : int, %acc.33 : Tensor):
      %acc.31 : Tensor = prim::Loop(%14, %12, %acc.33)
        block0(%j.1 : int, %acc.29 : Tensor):
          %21 : bool = aten::gt(%j.1, %20)
          %acc.27 : Tensor = prim::If(%21)
            block0():
              %26 : Tensor = aten::mul(%x.1, %j.1)
              %acc.5 : Tensor = aten::add(%acc.29, %26, %20)
              -> (%acc.5)
            block1():
              %acc.11 : Tensor = aten::sub(%acc.29, %x.1, %20)
              -> (%acc.11)
          -> (%12, %acc.27)
      -> (%12, %acc.31)
  return (%acc)
""",
    "in_place": """graph(%x.1 : Tensor,
      %n.1 : int):
  %12 : int = prim::Constant[value=1]()
  %8 : bool = prim::Constant[value=1]()
  %3 : int = prim::Constant[value=2]()
  %16 : float = prim::Constant[value=0.5]()
  %y.1 : Tensor = aten::mul(%x.1, %3)
  %y : Tensor = prim::Loop(%n.1, %8, %y.1)
    block0(%i : int, %y.17 : Tensor):
      %y.5 : Tensor = aten::add_(%y.17, %x.1, %12)
      %y.11 : Tensor = aten::mul_(%y.5, %16)
      -> (%8, %y.11)
  return (%y)
""",
    "ternary": """graph(%x.1 : Tensor,
      %n.1 : int):
  %19 : bool = prim::Constant[value=1]()
  %3 : int = prim::Constant[value=2]()
  %7 : int = prim::Constant[value=1]()
  %26 : int = prim::Constant[value=0]()
  %4 : bool = aten::gt(%n.1, %3)
  %z.1 : Tensor = prim::If(%4)
    block0():
      %9 : Tensor = aten::add(%x.1, %7, %7)
      -> (%9)
    block1():
      %12 : Tensor = aten::sub(%x.1, %7, %7)
      -> (%12)
  %w.1 : Tensor = aten::mul(%z.1, %3)
  %w : Tensor = prim::Loop(%n.1, %19, %w.1)
    block0(%i.1 : int, %w.11 : Tensor):
      %23 : bool = aten::gt(%i.1, %7)
      %27 : int = prim::If(%23)
        block0():
          -> (%i.1)
        block1():
          -> (%26)
      %w.5 : Tensor = aten::add(%w.11, %27, %7)
      -> (%19, %w.5)
  return (%w)
""",
    "only_true_branch": """graph(%x.1 : Tensor,
      %n.1 : int):
  %3 : int = prim::Constant[value=2]()
  %7 : int = prim::Constant[value=1]()
  %20 : int = prim::Constant[value=5]()
  %4 : bool = aten::gt(%n.1, %3)
  %x : Tensor = prim::If(%4)
    block0():
      %x.5 : Tensor = aten::add(%x.1, %7, %7)
      %x.11 : Tensor = aten::add(%x.5, %3, %7)
      -> (%x.11)
    block1():
      -> (%x.1)
  %21 : Tensor = aten::mul(%x, %20)
  return (%21)
""",
}

# (the same; torch's aten::size of `.shape` says `# <string>:13:9`, gpujit the user's line)
_EXPECTED_BARE = {
    "unpacked": """graph(%x.1 : Tensor,
      %y.1 : Tensor,
      %n.1 : int):
  %11 : bool = prim::Constant[value=0]()
  %10 : int = prim::Constant[value=1]()
  %26 : int = prim::Constant[value=0]()
  %9 : Tensor = aten::add(%x.1, %y.1, %10)
  %v.1 : Tensor, %i.1 : Tensor = aten::max(%9, %10, %11)
  %m.1 : float = aten::Float(%n.1)
  %20 : Tensor = aten::mul(%v.1, %m.1)
  %23 : Tensor = aten::add(%20, %i.1, %10)
  %25 : int[] = aten::size(%x.1)
  %27 : int = aten::__getitem__(%25, %26)
  %29 : int = aten::size(%x.1, %10)
  %30 : int = aten::add(%27, %29)
  %31 : (Tensor, int) = prim::TupleConstruct(%23, %30)
  return (%31)
""",
}

_FNS = {f.__name__: f for f in (straight, branches, counting, calls, nested,
                                 only_true_branch, unpacked, in_place, ternary,
                                 exits_early)}


def _bare(text):
    return re.sub(r" # [^\n]*", "", text)


@pytest.mark.parametrize("name", sorted(_EXPECTED) + sorted(_EXPECTED_BARE))
def test_graph_names_are_torchs(name):
    g = torch.jit.script(_FNS[name]).graph
    assert _bare(str(g)) == {**_EXPECTED, **_EXPECTED_BARE}[name], str(g)


def test_unpacked_values():
    x = np.array([[1, 5, 2], [7, 0, 3]], np.float32)
    v, s = torch.jit.script(unpacked)(gpujit.from_numpy(x), gpujit.from_numpy(x * 0), 3)
    np.testing.assert_allclose(v.numpy(), x.max(1) * 3 + x.argmax(1))
    assert s == 5


def test_code_unchanged_by_the_names():
    # .code names come from the debug names (x, x0, x1 ...): still torch 2.13's
    assert torch.jit.script(branches).code == (
        "def branches(x: Tensor,\n    n: int) -> Tensor:\n  if torch.gt(n, 2):\n"
        "    x1 = torch.add(x, 1)\n    x0, y = x1, torch.mul(x1, 3)\n  else:\n"
        "    x0, y = x, torch.sub(x, 1)\n  x2 = x0\n  y0 = y\n  for i in range(n):\n"
        "    x2, y0 = torch.add(x2, y0), torch.mul(y0, 2)\n  return x2\n")
    assert torch.jit.script(counting).code == (
        "def counting(x: Tensor,\n    n: int) -> Tensor:\n  s = 0\n  i = 0\n"
        "  _0 = torch.lt(0, n)\n  while _0:\n    s0 = torch.add(s, i)\n"
        "    i0 = torch.add(i, 1)\n    _0, s, i = torch.lt(i0, n), s0, i0\n"
        "  return torch.mul(x, s)\n")


def test_renamed_functions_compute_the_same():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = np.ones((2, 3), np.float32)
    tx, ty = gpujit.from_numpy(x.copy()), gpujit.from_numpy(y.copy())
    np.testing.assert_allclose(torch.jit.script(straight)(tx, ty).numpy(),
                               (x * 2 + (x + y)) + y)
    exp = x + 1
    yy = exp * 3
    for _ in range(4):
        exp, yy = exp + yy, yy * 2
    np.testing.assert_allclose(torch.jit.script(branches)(tx, 4).numpy(), exp)
    np.testing.assert_allclose(torch.jit.script(counting)(tx, 5).numpy(), x * 10)
    a, b = torch.jit.script(calls)(tx[:1], ty[:1])
    z = np.concatenate([x[:1], y[:1]], 1)
    np.testing.assert_allclose(a.numpy(), z.sum(0) + z.sum(1), rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), z * -1.5)
    acc = np.zeros_like(x)
    for _ in range(2):
        for j in range(3):
            acc = acc + x * j if j > 1 else acc - x
    np.testing.assert_allclose(torch.jit.script(nested)(tx, 2).numpy(), acc)
    y = x * 2
    for _ in range(3):
        y = (y + x) * 0.5
    np.testing.assert_allclose(torch.jit.script(in_place)(tx, 3).numpy(), y, rtol=1e-6)
    np.testing.assert_allclose(torch.jit.script(ternary)(tx, 4).numpy(),
                               (x + 1) * 2 + 2 + 3)


def test_values_numbered_once_and_graph_still_grows():
    g = torch.jit.script(branches).graph
    names = [v.debug_name for n in g.walk() for v in n.outputs] + \
        [v.debug_name for v in g.inputs]
    assert len(names) == len(set(names))
    # a value made later gets a fresh number (after torch's last)
    g2 = g.copy()
    v = g2.insert_constant(7)
    assert v.debug_name not in names and int(v.debug_name) > 31


def test_not_replayed_keeps_gpujit_names_and_runs():
    s = torch.jit.script(exits_early)
    text = str(s.graph)
    assert "prim::Loop" in text and "%x" in text
    x = gpujit.from_numpy(np.zeros(3, np.float32))
    np.testing.assert_allclose(s(x, 10).numpy(), np.full(3, 3.0, np.float32))


def _torch_twin(fn):
    """fn with `torch` bound to torch itself (same code, same source lines)."""
    return types.FunctionType(fn.__code__, {**fn.__globals__, "torch": _torch},
                              fn.__name__, fn.__defaults__)


@needs_torch
@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_graph_text_equals_torch_with_comments(name):
    fn = _FNS[name]
    assert str(torch.jit.script(fn).graph) == str(_torch.jit.script(_torch_twin(fn)).graph)


@needs_torch
def test_expected_texts_are_torchs():
    for name, text in {**_EXPECTED, **_EXPECTED_BARE}.items():
        assert _bare(str(_torch.jit.script(_torch_twin(_FNS[name])).graph)) == text
