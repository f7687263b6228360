"""torch.jit._overload / _overload_method (gpujit/_jit_internal.py, frontend/script/
overloads.py): typed declarations of a function or module method, compiled once per
declaration its scripted callers use; torchvision's DenseNet layer is the model case."""
import io
from collections import OrderedDict
from typing import List, Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn as nn
import gpujit.nn.functional as F
from gpujit import Tensor


@torch.jit._overload
def add_pair(x: int, y: int) -> int: ...


@torch.jit._overload
def add_pair(x: float, y: float) -> float: ...


@torch.jit._overload
def add_pair(x: Tensor, y: Tensor) -> Tensor: ...


def add_pair(x, y):        # noqa: F811
    return x + y


@torch.jit._overload
def scaled(x: Tensor, factor: int = 2) -> Tensor:
    pass


@torch.jit._overload
def scaled(x: List[Tensor], factor: int = 2) -> Tensor:
    pass


def scaled(x, factor: int = 2):       # noqa: F811
    if isinstance(x, Tensor):
        return x * factor
    else:
        return torch.stack(x).sum(0) * factor


def test_overloaded_function_picks_the_declaration_by_argument_types():
    @torch.jit.script
    def g(a: int, b: float, t: Tensor):
        return add_pair(a, a), add_pair(b, b), add_pair(t, t)

    i, f, t = g(3, 1.25, torch.tensor([1.0, 2.0]))
    assert i == 6 and type(i) is int
    assert f == 2.5 and type(f) is float
    assert t.tolist() == [2.0, 4.0]
    gs = str(g.graph)
    assert gs.count('prim::CallFunction[name="add_pair"]') == 3 or "add_pair" in g.code
    assert add_pair(1, 2) == 3              # Python runs the implementation


def test_overload_with_defaults_keywords_and_isinstance_refinement():
    @torch.jit.script
    def g(t: Tensor, ts: List[Tensor]):
        return scaled(t), scaled(ts, factor=3), scaled(x=t, factor=5)

    a, b, c = g(torch.tensor([1.0, 2.0]), [torch.tensor([1.0, 1.0]), torch.tensor([2.0, 0.0])])
    assert a.tolist() == [2.0, 4.0] and b.tolist() == [9.0, 3.0] and c.tolist() == [5.0, 10.0]


def test_no_matching_overload_is_a_compile_error_listing_the_declarations():
    # torch 2.13's words: each declaration's schema and why it does not take the call
    with pytest.raises(Exception, match="Arguments for call are not valid.\nThe following "
                                        "variants are available:") as e:
        @torch.jit.script
        def g(s: str):
            return add_pair(s, s)
    assert ("  add_pair(int x, int y) -> int:\n  Expected a value of type 'int' for "
            "argument 'x' but instead found type 'str'.") in str(e.value)


def test_overloaded_function_cannot_be_scripted_directly():
    with pytest.raises(Exception, match="cannot be directly compiled because it is "
                                        "overloaded"):
        torch.jit.script(add_pair)


def test_declaration_body_must_be_pass_or_ellipsis():
    with pytest.raises(RuntimeError, match="Only `pass` statement or `...` can be the body "
                                           "of overload declaration"):
        @torch.jit._overload
        def h(x: int) -> int:
            return x


def test_declaration_parameter_names_must_match():
    @torch.jit._overload
    def k(a: int) -> int: ...

    def k(b):            # noqa: F811
        return b + 1

    with pytest.raises(Exception, match=r"declares parameters \(a\) but its implementation "
                                        r"takes \(b\)"):
        @torch.jit.script
        def g(x: int):
            return k(x)


# ---------------------------------------------------------------- module methods
# torchvision's DenseNet, at a tiny size: _DenseLayer.forward is overloaded for a Tensor
# and a List[Tensor] (torchvision/models/densenet.py)

class _DenseLayer(nn.Module):
    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1,
                               stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1,
                               padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = False

    def bn_function(self, inputs: List[Tensor]) -> Tensor:
        concated_features = torch.cat(inputs, 1)
        return self.conv1(self.relu1(self.norm1(concated_features)))

    def any_requires_grad(self, input: List[Tensor]) -> bool:
        for tensor in input:
            if tensor.requires_grad:
                return True
        return False

    @torch.jit.unused
    def call_checkpoint_bottleneck(self, input: List[Tensor]) -> Tensor:
        raise RuntimeError("not in this test")

    @torch.jit._overload_method  # noqa: F811
    def forward(self, input: List[Tensor]) -> Tensor:  # noqa: F811
        pass

    @torch.jit._overload_method  # noqa: F811
    def forward(self, input: Tensor) -> Tensor:  # noqa: F811
        pass

    def forward(self, input: Tensor) -> Tensor:  # noqa: F811
        if isinstance(input, Tensor):
            prev_features = [input]
        else:
            prev_features = input
        if self.memory_efficient and self.any_requires_grad(prev_features):
            if torch.jit.is_scripting():
                raise Exception("Memory Efficient not supported in JIT")
            bottleneck_output = self.call_checkpoint_bottleneck(prev_features)
        else:
            bottleneck_output = self.bn_function(prev_features)
        new_features = self.conv2(self.relu2(self.norm2(bottleneck_output)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate):
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate=growth_rate,
                                bn_size=bn_size, drop_rate=drop_rate)
            self.add_module("denselayer%d" % (i + 1), layer)

    def forward(self, init_features: Tensor) -> Tensor:
        features = [init_features]
        for name, layer in self.items():
            new_features = layer(features)
            features.append(new_features)
        return torch.cat(features, 1)


class _TinyDenseNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False)),
            ("norm0", nn.BatchNorm2d(8)),
            ("relu0", nn.ReLU(inplace=True)),
            ("denseblock1", _DenseBlock(2, 8, bn_size=2, growth_rate=4, drop_rate=0)),
        ]))
        self.single = _DenseLayer(16, growth_rate=4, bn_size=2, drop_rate=0)
        self.classifier = nn.Linear(20, 5)

    def forward(self, x: Tensor) -> Tensor:
        features = self.features(x)
        features = torch.cat([features, self.single(features)], 1)   # the Tensor overload
        out = F.relu(features, inplace=True)
        out = F.adaptive_avg_pool2d(out, (1, 1))
        out = torch.flatten(out, 1)
        return self.classifier(out)


def _densenet():
    torch.manual_seed(0)
    m = _TinyDenseNet().eval()
    x = torch.randn(2, 3, 6, 6)
    return m, x


def test_densenet_with_overloaded_layer_forward_scripts_and_matches_eager():
    m, x = _densenet()
    want = m(x)
    s = torch.jit.script(m)
    for _ in range(3):
        np.testing.assert_allclose(s(x).detach().numpy(), want.detach().numpy(), rtol=1e-5,
                                   atol=1e-5)
    layer = s.features.denseblock1.denselayer1
    assert hasattr(layer, "forward__0") and "forward__1" not in layer._script_methods
    assert "forward__1" in s.single._script_methods        # called with a Tensor
    code = s.features.denseblock1.code
    assert "forward__0" in code
    with pytest.raises(RuntimeError, match="forward is overloaded"):
        layer(x)
    alone = torch.jit.script(_DenseLayer(3, 2, 2, 0.0))      # no scripted caller
    with pytest.raises(RuntimeError, match="forward is overloaded"):
        alone(x)


def test_densenet_overloads_saved_loaded_and_frozen():
    m, x = _densenet()
    want = m(x).detach().numpy()
    s = torch.jit.script(m)
    buf = io.BytesIO()
    torch.jit.save(s, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    np.testing.assert_allclose(loaded(x).detach().numpy(), want, rtol=1e-5, atol=1e-5)
    frozen = torch.jit.freeze(torch.jit.script(m))
    np.testing.assert_allclose(frozen(x).detach().numpy(), want, rtol=1e-5, atol=1e-5)


class _Opt(nn.Module):
    @torch.jit._overload_method
    def forward(self, x: Tensor, scale: Optional[float]) -> Tensor: ...

    @torch.jit._overload_method
    def forward(self, x: Tuple[Tensor, Tensor], scale: Optional[float]) -> Tensor: ...

    def forward(self, x, scale: Optional[float]):    # noqa: F811
        if isinstance(x, Tensor):
            y = x
        else:
            y = x[0] + x[1]
        if scale is not None:
            y = y * scale
        return y


class _UsesOpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.o = _Opt()

    def forward(self, a: Tensor, b: Tensor):
        return self.o(a, None), self.o((a, b), 2.0)


def test_method_overloads_with_optional_and_tuple_parameters():
    s = torch.jit.script(_UsesOpt())
    a, b = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    r0, r1 = s(a, b)
    assert r0.tolist() == [1.0, 2.0] and r1.tolist() == [8.0, 12.0]
