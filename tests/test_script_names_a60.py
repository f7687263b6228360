"""Scripted module methods reading a None attribute print torch 2.13's names and numbers
(a60): torchvision's BasicBlock `if self.downsample is not None:` is ModuleValue's GetAttr
of NoneType (dead after), its `is not None` a static False (no If), in the naming replay;
gpujit kept its own names (`%x`, `%out.1`) for the whole forward. Expected text is torch
2.13's (module name MOD, lines from the def's)."""
import re

import gpujit as torch

nn = torch.nn


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


# torch 2.13's
EXPECTED = (
    'graph(%self : __torch__.MOD.BasicBlock,\n'
    '      %x.1 : Tensor):\n'
    '  %23 : int = prim::Constant[value=1]()\n'
    '  %conv1 : __torch__.torch.nn.modules.conv.Conv2d = prim::GetAttr[name="conv1"](%self)\n'
    '  %out.1 : Tensor = prim::CallMethod[name="forward"](%conv1, %x.1) # +2:14\n'
    '  %bn1 : __torch__.torch.nn.modules.batchnorm.BatchNorm2d = prim::GetAttr[name="bn1"](%self)\n'
    '  %out.5 : Tensor = prim::CallMethod[name="forward"](%bn1, %out.1) # +3:14\n'
    '  %relu.1 : __torch__.torch.nn.modules.activation.ReLU = prim::GetAttr[name="relu"](%self)\n'
    '  %out.9 : Tensor = prim::CallMethod[name="forward"](%relu.1, %out.5) # +4:14\n'
    '  %conv2 : __torch__.torch.nn.modules.conv.Conv2d = prim::GetAttr[name="conv2"](%self)\n'
    '  %out.13 : Tensor = prim::CallMethod[name="forward"](%conv2, %out.9) # +5:14\n'
    '  %bn2 : __torch__.torch.nn.modules.batchnorm.BatchNorm2d = prim::GetAttr[name="bn2"](%self)\n'
    '  %out.17 : Tensor = prim::CallMethod[name="forward"](%bn2, %out.13) # +6:14\n'
    '  %out.21 : Tensor = aten::add_(%out.17, %x.1, %23) # +9:8\n'
    '  %relu : __torch__.torch.nn.modules.activation.ReLU = prim::GetAttr[name="relu"](%self)\n'
    '  %out.25 : Tensor = prim::CallMethod[name="forward"](%relu, %out.21) # +10:14\n'
    '  return (%out.25)\n'
)


def _norm(text, first):
    text = re.sub(r"___torch_mangle_\d+\.", "", text).replace(f"__torch__.{__name__}.",
                                                              "__torch__.MOD.")
    return re.sub(r"# \S+\.py:(\d+):(\d+)", lambda m: f"# +{int(m[1]) - first}:{m[2]}", text)


def test_basic_block_graph_as_torch():
    m = torch.jit.script(BasicBlock(4, 4).eval())
    first = BasicBlock.forward.__code__.co_firstlineno
    assert _norm(str(m.graph), first) == EXPECTED
    x = torch.rand(1, 4, 5, 5)
    ref = BasicBlock(4, 4).eval()
    ref.load_state_dict(m.state_dict())
    assert torch.allclose(m(x), ref(x), atol=1e-6)
