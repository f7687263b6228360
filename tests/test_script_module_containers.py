"""Module containers in scripted code beyond TorchScript (the blog's pain points):
ModuleList indexed by a variable, ModuleDict by a constant or variable key, iteration over
a ModuleDict (keys, values), `in`, len; with eager Python as the reference."""
from typing import List

import numpy as np
import pytest

import gpujit as torch
from gpujit.frontend.script import FrontendError

nn = torch.nn


def _close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


class Layers(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        self.blocks = nn.ModuleDict({"relu": nn.ReLU(), "tanh": nn.Tanh()})

    def forward(self, x, k: int, act: str):
        for i in range(len(self.layers)):
            x = self.layers[i](x)
        x = self.layers[k](x)
        x = self.blocks[act](x)
        x = self.blocks["relu"](x)
        for name in self.blocks:
            x = x + len(name)
        for m in self.blocks.values():
            x = m(x)
        if "tanh" in self.blocks.keys():
            x = x * 2
        return x


def test_variable_module_list_and_module_dict_indexing_match_eager():
    torch.manual_seed(0)
    m = Layers()
    s = torch.jit.script(m)
    x = torch.rand(2, 4) - 0.5
    for k in (0, 1, 2, -1, -3):
        for act in ("relu", "tanh"):
            _close(s(x, k, act), m(x, k, act))
    assert "prim::If" in str(s.graph) and "prim::Loop" in str(s.graph)
    assert list(s.blocks) == ["relu", "tanh"] and "tanh" in s.blocks
    assert s.blocks["relu"].original_name == "ReLU"


def test_out_of_range_index_and_missing_key_raise_at_run_time():
    s = torch.jit.script(Layers())
    x = torch.rand(2, 4)
    with pytest.raises(IndexError, match=r"ModuleList index out of range \(it holds 3"):
        s(x, 3, "relu")
    with pytest.raises(IndexError):
        s(x, -4, "relu")
    with pytest.raises(KeyError, match="'relu', 'tanh'"):
        s(x, 0, "gelu")


def test_module_dict_constant_key_errors_and_type_errors():
    class Missing(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleDict({"a": nn.ReLU()})

        def forward(self, x):
            return self.blocks["b"](x)
    with pytest.raises(FrontendError, match="Key Error, b") as e:
        torch.jit.script(Missing())
    assert "<--- HERE" in str(e.value)

    class Kept(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])

        def forward(self, x, i: int):
            layer = self.layers[i]
            return layer(x)
    with pytest.raises(FrontendError, match="can only be called directly"):
        torch.jit.script(Kept())

    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.ReLU(), Pair()])

        def forward(self, x, i: int):
            return self.layers[i](x)
    with pytest.raises(FrontendError, match="return different types"):
        torch.jit.script(Mixed())

    class WrongKey(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleDict({"a": nn.ReLU()})

        def forward(self, x, i: int):
            return self.blocks[i](x)
    with pytest.raises(FrontendError, match="indexed with a str, not an int|indexed with str"):
        torch.jit.script(WrongKey())


class Pair(nn.Module):
    def forward(self, x):
        return x, x


def test_variable_index_in_a_loop_with_different_layer_types():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2)])

        def forward(self, x):
            n = len(self.layers)
            for i in range(n - 1):
                x = self.layers[i](x)
            return self.layers[n - 1](x)
    torch.manual_seed(2)
    m = Net()
    s = torch.jit.script(m)
    x = torch.rand(4, 3)
    _close(s(x), m(x))


def test_module_dict_items_loop_unpacks_names_and_modules():
    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 3)})

        def forward(self, x):
            out = {"total": x.sum()}
            for name, head in self.heads.items():
                out[name] = head(x).sum()
            return out
    torch.manual_seed(3)
    m = Heads()
    s = torch.jit.script(m)
    x = torch.rand(5, 4)
    got, want = s(x), m(x)
    assert list(got) == ["total", "a", "b"]
    for k in want:
        _close(got[k], want[k])

    # a single name bound to each (key, module) pair, as torch allows: pair[1] is the module
    class Pairs(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"a": nn.ReLU()})

        def forward(self, x):
            for pair in self.heads.items():
                assert pair[0] == "a"
                x = pair[1](x) + 1
            return x
    x = torch.tensor([-1.0, 2.0])
    _close(torch.jit.script(Pairs())(x), Pairs()(x))


def test_enumerate_over_a_module_list_and_static_hasattr():
    class Net(nn.Module):
        def __init__(self, with_proj: bool):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
            if with_proj:
                self.proj = nn.Linear(4, 2)

        def forward(self, x):
            outs: List[torch.Tensor] = []
            for i, layer in enumerate(self.layers, 1):
                x = layer(x) * i
                outs.append(x)
            if hasattr(self, "proj"):
                x = self.proj(x)          # only compiled when the module has proj
            return x, outs
    torch.manual_seed(4)
    for with_proj in (True, False):
        m = Net(with_proj)
        s = torch.jit.script(m)
        x = torch.rand(2, 4)
        (a, la), (b, lb) = s(x), m(x)
        _close(a, b)
        for p, q in zip(la, lb):
            _close(p, q)


class _Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x, scale: float = 1.0):
        return self.fc(x) * scale


class _Child(_Base):
    def forward(self, x, scale: float = 2.0):
        return super().forward(x, scale) + super(_Child, self).forward(x)


def test_super_calls_the_base_class_method_for_this_module():
    torch.manual_seed(5)
    m = _Child()
    s = torch.jit.script(m)
    x = torch.rand(2, 3)
    _close(s(x), m(x))
    _close(s(x, 0.5), m(x, 0.5))
    assert "super__Base_forward" in s._script_methods


class _Scales(nn.Module):
    def __init__(self):
        super().__init__()
        self.pl = nn.ParameterList([nn.Parameter(torch.full((2,), 0.5 * (i + 1)))
                                    for i in range(3)])
        self.pd = nn.ParameterDict({"a": nn.Parameter(torch.ones(2)),
                                    "b": nn.Parameter(torch.full((2,), 3.0))})

    def forward(self, x):
        for p in self.pl:                       # TorchScript iterates a ParameterList
            x = torch.sigmoid(x * p) + x
        for i, p in enumerate(self.pl):
            x = x + p * i
        for k, p in self.pd.items():
            x = x * p
        # (len(self.pl) / len(self.pd): torch 2.13 refuses them, "no attribute or method
        # '__len__'"; test_script_lang_s48)
        return x * self.pl[-1] + self.pd["b"] + 5


def test_parameter_list_and_dict_iterate_index_and_train():
    # `for p in self.params:` over an nn.ParameterList raised "cannot iterate over module"
    e = _Scales()
    s = torch.jit.script(e)
    x = torch.tensor([0.5, -1.0])
    for _ in range(2):
        with torch.no_grad():
            _close(s(x), e(x))
    s(x).sum().backward()
    ref = [p.grad.numpy().copy() for p in e.parameters()]
    e.zero_grad()
    e(x).sum().backward()
    for p, g in zip(e.parameters(), ref):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6)
    with torch.no_grad():
        e.pl[0].fill_(2.0)                      # the parameters are read, not copied
        _close(s(x), e(x))


class _VarIndex(nn.Module):
    def __init__(self):
        super().__init__()
        self.pl = nn.ParameterList([nn.Parameter(torch.ones(2))])

    def forward(self, x, i: int):
        return x * self.pl[i]


def test_parameter_list_variable_index_is_refused():
    with pytest.raises(FrontendError, match="indexed with a constant int"):
        torch.jit.script(_VarIndex())
