"""A traced model's submodule graphs number their values as torch 2.13's tracer does (b61):
lambdaLiftBlocksAndConvertToGraph clones each call's block into a graph of its own (`self`
%0, then each node, its outputs before the inputs it reads from outside the block, dead
nodes included; the nested calls' prim::CallMethods last), a call nested in a submodule's
call is copied once more (inputs first); an unnamed parameter stays unnamed (`%3`, printed
`argument_1` in code, not `%argument_1`) and takes the caller's traced type; F.batch_norm
in training and InstanceNorm record their size comparisons (`== 1`, `!= num_features`); a
None argument and an int[] ListConstruct carry the op's scope. Expected texts: torch 2.13's
(source comments and ___torch_mangle_N left out)."""
import re
import warnings

import gpujit as torch

nn = torch.nn


def _g(m):
    s = re.sub(r" # \S+", "", str(m.graph))
    return re.sub(r"___torch_mangle_\d+\.", "", s).strip()


def _numbers(m):
    """The unnamed values' numbers of m's graph, in order."""
    return re.findall(r"%(\d+) ", _g(m))


class Gate(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


class Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.dg = Gate()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, h):
        return torch.tanh(self.dg(self.linear(x)) + h), h


class Two(nn.Module):
    def forward(self, x):
        return x.sin(), x.cos() + 1


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.two = Two()
        self.seq = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Tanh(), nn.Linear(4, 2)))

    def forward(self, x):
        a, b = self.two(x)
        return self.seq(a * b)


def test_unnamed_parameter_and_dead_nodes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = Cell()
        with torch.no_grad():
            m.linear.weight.fill_(-1.0)     # (the gate's `-x` branch)
            m.linear.bias.fill_(-1.0)
        t = torch.jit.trace(m, (torch.rand(3, 4), torch.rand(3, 4)))
    assert _g(t.dg).split("\n", 1)[1] == """      %3 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu)):
  %6 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::neg(%3), scope: __module.dg
  return (%6)"""
    assert "argument_1: Tensor) -> Tensor:\n  return torch.neg(argument_1)" in t.dg.code


def test_top_level_sequential_member():
    t = torch.jit.trace(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), torch.rand(2, 3))
    relu = getattr(t, "1")
    assert _g(relu) == """graph(%self : __torch__.torch.nn.modules.activation.ReLU,
      %2 : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu)):
  %1 : Float(2, 4, strides=[4, 1], requires_grad=1, device=cpu) = aten::relu(%2), scope: __module.1
  return (%1)"""


def test_nested_calls_and_tuples():
    t = torch.jit.trace(Outer(), torch.rand(3, 4))
    assert _numbers(t.two) == ["3", "4", "5", "7"]       # cos, 1, alpha, TupleConstruct
    assert _numbers(t.seq) == ["6", "7"]
    inner = getattr(t.seq, "1")                          # a call in a call: copied
    assert _numbers(inner) == ["1", "6", "7"]
    assert _numbers(getattr(inner, "0")) == ["1"]
    assert _numbers(getattr(inner, "1")) == ["1", "4"]


class ConvBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(3)
        self.inorm = nn.InstanceNorm2d(3)

    def forward(self, x):
        return self.inorm(self.bn(self.conv(x)))


def test_types_scopes_and_norm_comparisons():
    t = torch.jit.trace(ConvBN(), torch.rand(2, 3, 5, 5))
    bn = _g(t.bn)
    # the conv's result as traced (requires_grad=0), not as the tensor is after
    assert "%11 : Float(2, 3, 5, 5, strides=[75, 25, 5, 1], requires_grad=0, device=cpu)" \
        in bn
    # _verify_batch_size's `== 1`: two values more before batch_norm's constants
    assert "%26 : bool = prim::Constant[value=1](), scope: __module.bn" in bn
    assert "aten::batch_norm(%11, %weight, %bias, %running_mean, %running_var, %26, %27, " \
        "%28, %29), scope: __module.bn" in bn
    inorm = _g(t.inorm)
    assert "%24 : NoneType = prim::Constant(), scope: __module.inorm" in inorm
    assert "aten::instance_norm(%3, %24, %25, %26, %27, %28, %29, %30, %31)" in inorm
    conv = _g(t.conv)
    assert "%2 : NoneType = prim::Constant(), scope: __module.conv" in conv
    assert "%5 : int[] = prim::ListConstruct(%3, %4), scope: __module.conv" in conv


class TwoOut(nn.Module):
    def forward(self, x):
        return x.sin(), x.cos()


class Plus(nn.Module):
    def forward(self, x):
        return x * 2 + 1


class UsesTwoOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.two, self.b2, self.block = TwoOut(), Plus(), Plus()

    def forward(self, h):
        a, b = self.two(h)
        return self.b2(a) + self.block(b)


def test_names_are_the_one_traces():
    # (a call's graph copies its names from torch's one trace: `%x.1` displaced by the
    # later `x`; the GetAttr chains' `%weight.1` / `%bias.1` of the first Linear)
    t = torch.jit.trace(UsesTwoOut(), torch.ones(2, 3))
    g = _g(t.two)
    assert "%x.1 : Float(2, 3, strides=[3, 1], requires_grad=0, device=cpu) = aten::sin(%h)" \
        in g and "= prim::TupleConstruct(%x.1, %x)" in g
    assert "  x = torch.sin(h)\n  x0 = torch.cos(h)\n  return (x, x0)\n" in t.two.code
    t = torch.jit.trace(Outer(), torch.rand(3, 4))
    first = _g(getattr(t.seq, "0"))
    assert "%bias.1 : Tensor = prim::GetAttr[name=\"bias\"](%self.7)" in first
    assert "%input.3 : Float(3, 4, strides=[4, 1], requires_grad=1, device=cpu) = " \
           "aten::linear(%input.1, %weight.1, %bias.1)" in first
    assert "%_0.1 : __torch__.torch.nn.modules.linear.Linear = prim::GetAttr[name=\"0\"](" \
           "%self.5)" in _g(t.seq)
    assert "%_1.1 : __torch__.torch.nn.modules.linear.Linear = prim::GetAttr[name=\"1\"](" \
           "%self.9)" in _g(getattr(t.seq, "1"))


class ConvBNFC(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


def test_frozen_conv_bn_names_and_types():
    # (torch's FoldFrozenConvBatchnorm names the folded constants after the parameters,
    # `_fused_bn`; the bias constant is typed as itself, Float(4), gpujit typed it as W)
    m = ConvBNFC().eval()
    f = torch.jit.freeze(torch.jit.script(m))
    g = _g(f)
    assert "%self.conv.weight_fused_bn : Float(4, 3, 3, 3, strides=[27, 9, 3, 1], " \
           "requires_grad=0, device=cpu) = prim::Constant" in g
    assert "%self.conv.bias_fused_bn : Float(4, strides=[1], requires_grad=0, device=cpu) = " \
           "prim::Constant" in g
    assert "aten::conv2d(%x.1, %self.conv.weight_fused_bn, %self.conv.bias_fused_bn," in g
    x = torch.rand(1, 3, 5, 5)
    assert torch.allclose(f(x), m(x), atol=1e-5)
