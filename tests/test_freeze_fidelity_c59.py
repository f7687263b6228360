"""torch.jit.freeze's graphs as torch 2.13 prints them (c59): a frozen trace types its
values plain Tensor and keeps a traced number's 0-dim tensor constant (CONSTANTS.c2 in
its code, not the number); the leading constants come in torch's order (the graph's own
in reverse order of appearance, then the attributes' in reverse order read: torch's one
ConstantPooling moving each to the front); a loop of a trip count the attributes fix is
unrolled (runOptimization's UnrollConstantLoops). Expected texts are torch 2.13's, with
source-range comments left out."""
import re

import numpy as np

import gpujit as torch
from gpujit import nn


def _bare(text):
    text = re.sub(r"___torch_mangle_\d+\.", "", str(text))
    return "\n".join(re.sub(r" # .*$", "", ln) for ln in text.splitlines())


class _Traced(nn.Module):
    def __init__(self):
        super().__init__()
        self.l = nn.Linear(3, 3)

    def forward(self, x):
        return self.l(x) * 2.5 + 2 - x.size(0)


W = ("%self.l.weight : Float(3, 3, strides=[3, 1], requires_grad=0, device=cpu) = "
     "prim::Constant[value=-0.0043  0.3097 -0.4752 -0.4249 -0.2224  0.1548 -0.0114  "
     "0.4578 -0.0512 [ CPUFloatType{3,3} ]]()")
B = ("%self.l.bias : Float(3, strides=[1], requires_grad=0, device=cpu) = "
     "prim::Constant[value= 0.1528 -0.1745 -0.1135 [ CPUFloatType{3} ]]()")

TRACED = f"""graph(%self.1 : __torch__.test_freeze_fidelity_c59._Traced,
      %x : Tensor):
  %9 : int = prim::Constant[value=0]()
  %7 : int = prim::Constant[value=1]()
  %6 : Tensor = prim::Constant[value={{2}}]()
  %4 : Tensor = prim::Constant[value={{2.5}}]()
  {W}
  {B}
  %16 : Tensor = aten::linear(%x, %self.l.weight, %self.l.bias), scope: __module.l
  %5 : Tensor = aten::mul(%16, %4)
  %8 : Tensor = aten::add(%5, %6, %7)
  %10 : int = aten::size(%x, %9)
  %11 : Tensor = prim::NumToTensor(%10)
  %13 : Tensor = aten::sub(%8, %11, %7)
  return (%13)"""

TRACED_CODE = """def forward(self,
    x: Tensor) -> Tensor:
  _0 = torch.linear(x, CONSTANTS.c0, CONSTANTS.c1)
  _1 = torch.add(torch.mul(_0, CONSTANTS.c2), CONSTANTS.c3)
  _2 = ops.prim.NumToTensor(torch.size(x, 0))
  return torch.sub(_1, _2)
"""


def test_frozen_trace():
    torch.manual_seed(0)
    m = _Traced().eval()
    t = torch.jit.trace(m, torch.randn(2, 3))
    f = torch.jit.freeze(t)
    assert _bare(f.graph) == TRACED
    assert f.code == TRACED_CODE
    x = torch.randn(4, 3)
    np.testing.assert_allclose(f(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)


class _Scripted(nn.Module):
    def __init__(self):
        super().__init__()
        self.l = nn.Linear(3, 3)
        self.k = 3

    def forward(self, x):
        y = self.l(x) * 2.5 + 2 - x.size(0)
        for i in range(self.k):
            y = y + i
        return y.clamp(0, 1) * self.k


def test_frozen_script_constant_order_and_unrolled_loop():
    torch.manual_seed(0)
    m = _Scripted().eval()
    f = torch.jit.freeze(torch.jit.script(m))
    lines = _bare(f.graph).splitlines()
    assert lines[2:9] == [
        "  %6 : int = prim::Constant[value=1]()",
        "  %5 : int = prim::Constant[value=0]()",
        "  %4 : int = prim::Constant[value=2]()",
        "  %3 : float = prim::Constant[value=2.5]()",
        "  %self.k : int = prim::Constant[value=3]()",
        "  " + B, "  " + W]
    assert "prim::Loop" not in str(f.graph) and "for " not in f.code
    x = torch.randn(4, 3)
    np.testing.assert_allclose(f(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)
