"""TorchScript as users write it, a fresh hunt (session 30): traced submodule graphs,
TopLevelTracedModule, ... Expectations checked against torch 2.13 (CPU)."""
from __future__ import annotations

import warnings

import gpujit as torch


# ------------------------------------------------------------------ traced submodules

class _Gate(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l = torch.nn.Linear(2, 3)
        self.g = _Gate()

    def forward(self, x):
        return self.g(torch.sigmoid(self.l(x)))


def _trace_net():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.trace(_Net(), torch.ones(1, 2))


def test_traced_submodule_graph_has_no_dead_shape_reads():
    # torch 2.13: `l.code` is weight/bias reads and torch.linear only; the gate's graph has
    # no aten::sum (it only decided the Python branch)
    m = _trace_net()
    assert "torch.size" not in m.l.code
    assert [n.kind() for n in m.l.graph.nodes()] == ["prim::GetAttr", "prim::GetAttr",
                                                     "aten::linear"]
    assert "aten::sum" not in str(m.g.graph)
    assert "aten::sum" not in str(m.graph)


def test_trace_returns_top_level_traced_module():
    m = _trace_net()
    assert type(m).__name__ == "TopLevelTracedModule"
    assert type(m.l).__name__ == "TracedModule"
    assert isinstance(m, torch.jit.TracedModule) and isinstance(m.l, torch.jit.TracedModule)
    assert isinstance(m, torch.jit.TopLevelTracedModule)
    assert not isinstance(m.l, torch.jit.TopLevelTracedModule)
    tm = torch.jit.trace_module(_Net(), {"forward": torch.ones(1, 2)})
    assert type(tm).__name__ == "TopLevelTracedModule"
    assert "original_name=_Net" in repr(m)
