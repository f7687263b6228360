"""Scripted nn modules' own graphs number their values as torch 2.13's (b61): torch's
forward bodies start with a docstring ("Runs the forward pass."), an expression statement
whose string constant takes a value number before dead code goes, so gpujit's forwards
carry the same docstrings (Linear printed `%5 = aten::linear`, torch's `%6`); Softmax's
`_stacklevel=5` is written as torch's (a module-level name stopped the names replay).
Expected texts: torch 2.13's (source comments left out)."""
import re

import gpujit as torch

nn = torch.nn


def _g(m):
    # (___torch_mangle_N: another test's scripted module of the class came first)
    s = re.sub(r" # \S+", "", str(torch.jit.script(m).graph)).strip()
    return re.sub(r"___torch_mangle_\d+\.", "", s)


def test_linear():
    assert _g(nn.Linear(3, 4)) == """graph(%self : __torch__.torch.nn.modules.linear.Linear,
      %input.1 : Tensor):
  %weight : Tensor = prim::GetAttr[name="weight"](%self)
  %bias : Tensor = prim::GetAttr[name="bias"](%self)
  %6 : Tensor = aten::linear(%input.1, %weight, %bias)
  return (%6)"""


def test_relu_and_dropout():
    assert _g(nn.ReLU()) == """graph(%self : __torch__.torch.nn.modules.activation.ReLU,
      %input.1 : Tensor):
  %5 : Function = prim::Constant[name="relu"]()
  %4 : bool = prim::Constant[value=0]()
  %6 : Tensor = prim::CallFunction(%5, %input.1, %4)
  return (%6)"""
    assert _g(nn.Dropout()) == """graph(%self : __torch__.torch.nn.modules.dropout.Dropout,
      %input.1 : Tensor):
  %7 : Function = prim::Constant[name="dropout"]()
  %6 : bool = prim::Constant[value=0]()
  %4 : float = prim::Constant[value=0.5]()
  %training : bool = prim::GetAttr[name="training"](%self)
  %8 : Tensor = prim::CallFunction(%7, %input.1, %4, %training, %6)
  return (%8)"""


def test_softmax():
    m = nn.Softmax(1)
    assert _g(m) == """graph(%self : __torch__.torch.nn.modules.activation.Softmax,
      %input.1 : Tensor):
  %7 : Function = prim::Constant[name="softmax"]()
  %6 : NoneType = prim::Constant()
  %4 : int = prim::Constant[value=1]()
  %5 : int = prim::Constant[value=5]()
  %8 : Tensor = prim::CallFunction(%7, %input.1, %4, %5, %6)
  return (%8)"""
    s = torch.jit.script(m)
    x = torch.rand(2, 3)
    assert torch.allclose(s(x), m(x)) and abs(float(s(x).sum()) - 2.0) < 1e-5
