"""A traced module holding tensor constants, saved and loaded back (c59): the loaded
graph's values have torch 2.13's names and numbers (the naming replay reads the code's
`CONSTANTS.c0`, `torch.device("cpu")` and `ops.prim.NumToTensor(...)`), and its equal
tensor constants are one, hoisted with the others (TorchScript's ConstantPooling). The
expected text is torch 2.13's, source-range comments left out."""
import io
import re

import numpy as np

import gpujit as torch
from gpujit import nn


class _M(nn.Module):
    def __init__(self):
        super().__init__()
        self.l = nn.Linear(3, 3)

    def forward(self, x):
        c = torch.tensor([1.0, 2.0, 3.0])
        d = torch.tensor([1.0, 2.0, 3.0])
        return self.l(x) * c + d + 2 + x.size(0)


def _loaded():
    torch.manual_seed(0)
    t = torch.jit.trace(_M(), torch.randn(2, 3), check_trace=False)
    buf = io.BytesIO()
    torch.jit.save(t, buf)
    buf.seek(0)
    return t, torch.jit.load(buf)


def _bare(text):
    """text without source-range comments and the mangling of a second load's class"""
    text = re.sub(r"___torch_mangle_\d+\.", "", str(text))
    return "\n".join(re.sub(r" # .*$", "", ln) for ln in text.splitlines())


LOADED = """graph(%self.1 : __torch__.test_traced_archive_c59._M,
      %x.1 : Tensor):
  %32 : Tensor = prim::Constant[value={2}]()
  %29 : int = prim::Constant[value=1]()
  %10 : NoneType = prim::Constant()
  %8 : bool = prim::Constant[value=0]()
  %52 : Device = prim::Constant[value="cpu"]()
  %4 : Tensor = prim::Constant[value= 1  2  3 [ CPUFloatType{3} ]]()
  %7 : int = prim::Constant[value=6]()
  %36 : int = prim::Constant[value=0]()
  %l.1 : __torch__.torch.nn.modules.linear.Linear = prim::GetAttr[name="l"](%self.1)
  %11 : Tensor = aten::to(%4, %52, %7, %8, %8, %10)
  %c.1 : Tensor = aten::detach(%11)
  %20 : Tensor = aten::to(%4, %52, %7, %8, %8, %10)
  %d.1 : Tensor = aten::detach(%20)
  %25 : Tensor = prim::CallMethod[name="forward"](%l.1, %x.1)
  %27 : Tensor = aten::mul(%25, %c.1)
  %30 : Tensor = aten::add(%27, %d.1, %29)
  %34 : Tensor = aten::add(%30, %32, %29)
  %37 : int = aten::size(%x.1, %36)
  %38 : Tensor = prim::NumToTensor(%37)
  %42 : Tensor = aten::add(%34, %38, %29)
  return (%42)"""

CODE = """def forward(self,
    x: Tensor) -> Tensor:
  l = self.l
  _0 = torch.to(CONSTANTS.c0, torch.device("cpu"), 6)
  c = torch.detach(_0)
  _1 = torch.to(CONSTANTS.c0, torch.device("cpu"), 6)
  d = torch.detach(_1)
  _2 = torch.add(torch.mul((l).forward(x, ), c), d)
  _3 = torch.add(_2, CONSTANTS.c1)
  _4 = ops.prim.NumToTensor(torch.size(x, 0))
  return torch.add(_3, _4)
"""


def test_loaded_traced_graph_names_and_pooled_constants():
    t, m = _loaded()
    assert _bare(m.graph) == LOADED
    assert m.code == CODE
    x = torch.randn(2, 3)
    np.testing.assert_allclose(m(x).detach().numpy(), t(x).detach().numpy(), rtol=1e-6)


INLINED = """graph(%self.1 : __torch__.test_traced_archive_c59._M,
      %x.1 : Tensor):
  %2 : Tensor = prim::Constant[value={2}]()
  %3 : int = prim::Constant[value=1]()
  %4 : NoneType = prim::Constant()
  %5 : bool = prim::Constant[value=0]()
  %6 : Device = prim::Constant[value="cpu"]()
  %7 : Tensor = prim::Constant[value= 1  2  3 [ CPUFloatType{3} ]]()
  %8 : int = prim::Constant[value=6]()
  %9 : int = prim::Constant[value=0]()
  %l.1 : __torch__.torch.nn.modules.linear.Linear = prim::GetAttr[name="l"](%self.1)
  %11 : Tensor = aten::to(%7, %6, %8, %5, %5, %4)
  %c.1 : Tensor = aten::detach(%11)
  %13 : Tensor = aten::to(%7, %6, %8, %5, %5, %4)
  %d.1 : Tensor = aten::detach(%13)
  %bias.1 : Tensor = prim::GetAttr[name="bias"](%l.1)
  %weight.1 : Tensor = prim::GetAttr[name="weight"](%l.1)
  %24 : Tensor = aten::linear(%x.1, %weight.1, %bias.1)
  %16 : Tensor = aten::mul(%24, %c.1)
  %17 : Tensor = aten::add(%16, %d.1, %3)
  %18 : Tensor = aten::add(%17, %2, %3)
  %19 : int = aten::size(%x.1, %9)
  %20 : Tensor = prim::NumToTensor(%19)
  %21 : Tensor = aten::add(%18, %20, %3)
  return (%21)"""


def test_loaded_inlined_graph():
    _, m = _loaded()
    assert _bare(m.inlined_graph) == INLINED


def test_frozen_loaded_trace_pools_the_folded_constants():
    # c and d fold into equal constants that become one, first; the {2} stays a tensor
    _, m = _loaded()
    f = torch.jit.freeze(m.eval())
    lines = _bare(f.graph).splitlines()
    assert re.fullmatch(r"  %\d+ : Float\(3, strides=\[1\], requires_grad=0, device=cpu\) = "
                        r"prim::Constant\[value= 1  2  3 \[ CPUFloatType\{3\} \]\]\(\)",
                        lines[2])
    k = lines[2].split()[0]
    assert lines[3:6] == ["  %9 : int = prim::Constant[value=0]()",
                          "  %3 : int = prim::Constant[value=1]()",
                          "  %2 : Tensor = prim::Constant[value={2}]()"]
    assert lines[6].startswith("  %self.l.weight :") and lines[7].startswith("  %self.l.bias :")
    assert lines[9:11] == [f"  %16 : Tensor = aten::mul(%24, {k})",
                           f"  %17 : Tensor = aten::add(%16, {k}, %3)"]
    assert "torch.add(_1, CONSTANTS.c3)" in f.code
