"""gpujit.jit.freeze / optimize_for_inference: parameters, buffers and attributes become
graph constants, submodules are inlined, answers stay the same; errors as torch's."""
import io
from typing import List

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


class Mutating(nn.Module):
    seen: List[int]

    def __init__(self):
        super().__init__()
        self.modified_tensor = torch.tensor(10.)
        self.version = 1
        self.seen = []
        self.register_buffer("buf", torch.zeros(3))
        self.register_buffer("buf2", torch.zeros(2, 3))
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        self.modified_tensor += 1
        self.seen.append(1)
        self.buf.add_(1)
        self.buf2.view(6).mul_(2)
        self.buf2[0] += 1
        return (self.lin(x) + self.modified_tensor + len(self.seen) + self.buf
                + self.buf2.sum() + self.version)


def test_attributes_the_code_writes_stay_attributes():
    """torch.jit.freeze's own example: `self.modified_tensor += 1` in forward keeps the
    attribute (it was dropped from the frozen module: AttributeError at the first call);
    attributes written in place (`self.seen.append(1)`, `self.buf.add_(1)`, through a
    view or an index) are not folded either (they were constants, so every call answered
    as the first). Values are shared with the scripted module, as in torch."""
    torch.manual_seed(0)
    m = Mutating().eval()
    s = torch.jit.script(m)
    f = torch.jit.freeze(s, preserved_attrs=["version"])
    assert f.version == 1
    f.version = 2
    x = torch.ones(3)
    with torch.no_grad():
        lin = m.lin(x)
    # torch 2.13 answers 18, 27, 42 more than lin(x) for these three calls
    for want in (18.0, 27.0, 42.0):
        np.testing.assert_allclose((f(x) - lin).numpy(), [want] * 3, rtol=1e-5)
    assert s.modified_tensor.item() == 13.0 and s.seen == [1, 1, 1]
    assert len(list(f.parameters())) == 0 and 'GetAttr[name="lin"]' not in str(f.graph)
    assert sorted(n for n, _ in f.named_buffers()) == ["buf", "buf2"]
