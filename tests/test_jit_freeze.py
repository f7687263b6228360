"""gpujit.jit.freeze / optimize_for_inference: parameters, buffers and attributes become
graph constants, submodules are inlined, answers stay the same; errors as torch's."""
import io

import numpy as np
import pytest

import gpujit as torch

nn = torch.nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(64, 5)
        self.scale = 2.0
        self.calls = 0

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        y = nn.functional.max_pool2d(y, 2).flatten(1)
        return self.fc(y) * self.scale

    @torch.jit.export
    def count(self, x) -> int:
        self.calls = self.calls + 1
        return self.calls


def _close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_frozen_module_folds_parameters_and_matches():
    torch.manual_seed(0)
    m = Net()
    x = torch.rand(2, 3, 8, 8)
    m(x)
    m.eval()
    s = torch.jit.script(m)
    f = torch.jit.freeze(s)
    text = str(f.graph)
    assert "prim::GetAttr" not in text and "prim::CallMethod" not in text
    assert list(f.state_dict()) == [] and len(list(f.parameters())) == 0
    for _ in range(3):
        _close(f(x), m(x))
    assert repr(f).startswith("RecursiveScriptModule(original_name=Net")
    t = torch.jit.freeze(torch.jit.trace(m, (x,)))
    _close(t(x), m(x))
    o = torch.jit.optimize_for_inference(torch.jit.script(Net().eval()))
    assert not o.training
    # a frozen module saves and loads (its constants are arrays in the archive)
    buf = io.BytesIO()
    torch.jit.save(f, buf)
    buf.seek(0)
    _close(torch.jit.load(buf)(x), m(x))


def test_preserved_attributes_and_methods_and_errors():
    m = Net().eval()
    s = torch.jit.script(m)
    f = torch.jit.freeze(s, preserved_attrs=["count", "calls"])
    assert f.count(torch.rand(1)) == 1 and f.count(torch.rand(1)) == 2
    with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
        torch.jit.freeze(torch.jit.script(Net()))
    with pytest.raises(RuntimeError, match="expects a ScriptModule"):
        torch.jit.freeze(Net().eval())
