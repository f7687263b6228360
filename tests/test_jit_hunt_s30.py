"""TorchScript as users write it, a fresh hunt (session 30): traced submodule graphs,
TopLevelTracedModule, ... Expectations checked against torch 2.13 (CPU)."""
from __future__ import annotations

import warnings
from typing import Optional

import pytest

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


# ------------------------------------------------------------------ module container loops

class _Containers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l = torch.nn.Linear(2, 2)
        self.ls = torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Tanh()])
        self.d = torch.nn.ModuleDict({"a": torch.nn.ReLU(), "b": torch.nn.Tanh()})

    def forward(self, x):
        m = self.l
        x = m(x)
        for i, layer in enumerate(self.ls):
            x = layer(x) + i
        for k, v in self.d.items():
            x = v(x)
        y = self.ls[1](x)
        return y


def test_module_container_loop_reads_every_element_first():
    # torch 2.13's .code, verbatim: the elements' getattrs before the unrolled body,
    # named `_0`, `_1` (not after the loop variable)
    s = torch.jit.script(_Containers())
    assert s.code == '''def forward(self,
    x: Tensor) -> Tensor:
  l = self.l
  x0 = (l).forward(x, )
  ls = self.ls
  _0 = getattr(ls, "0")
  _1 = getattr(ls, "1")
  x1 = torch.add((_0).forward(x0, ), 0)
  x2 = torch.add((_1).forward(x1, ), 1)
  d = self.d
  a = d.a
  b = d.b
  x3 = (a).forward(x2, )
  x4 = (b).forward(x3, )
  ls0 = self.ls
  _10 = getattr(ls0, "1")
  return (_10).forward(x4, )
'''
    x = torch.tensor([[0.5, -1.0]])
    ref = _Containers()
    ref.load_state_dict(s.state_dict())
    assert torch.allclose(s(x), ref(x))


def test_sequential_code_names_elements_like_torch():
    m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
    assert torch.jit.script(m).code == '''def forward(self,
    input: Tensor) -> Tensor:
  _0 = getattr(self, "0")
  _1 = getattr(self, "1")
  input0 = (_0).forward(input, )
  return (_1).forward(input0, )
'''


# ------------------------------------------------------------------ __init__ annotations

class _OptionalProj(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj: Optional[torch.nn.Linear] = None     # not a TorchScript type: dropped
        self.w = torch.nn.Linear(2, 2)

    def forward(self, x, extra: Optional[torch.Tensor] = None):
        assert extra is not None
        if self.proj is not None:
            x = self.proj(x)
        return x + extra


def test_init_annotation_of_a_module_class_is_dropped_as_torch_does():
    # torch 2.13 scripts this (the attribute is None, its branch dead): tensor([2., 2.])
    s = torch.jit.script(_OptionalProj())
    assert s(torch.ones(2), torch.ones(2)).tolist() == [2.0, 2.0]


# ------------------------------------------------------------------ argument type errors

def _scale(x, n: int):
    return x * n


def _scale_annotated(x: torch.Tensor, n: int):
    return x * n


class _Fwd(torch.nn.Module):
    def forward(self, x):
        return x


def test_unannotated_tensor_parameter_is_called_inferred_in_argument_errors():
    # torch 2.13's words (first lines of the message)
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(_scale)("a", 1)
    assert str(e.value).startswith(
        "_scale() Expected a value of type 'Tensor (inferred)' for argument 'x' but instead "
        "found type 'str'.\nInferred 'x' to be of type 'Tensor' because it was not annotated "
        "with an explicit type.\nPosition: 0\nValue: 'a'")
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(_scale_annotated)("a", 1)
    assert str(e.value).startswith(
        "_scale_annotated() Expected a value of type 'Tensor' for argument 'x' but instead "
        "found type 'str'.\nPosition: 0")
    with pytest.raises(RuntimeError) as e:
        torch.jit.script(_Fwd())("a")
    assert str(e.value).startswith(
        "forward() Expected a value of type 'Tensor (inferred)' for argument 'x' but "
        "instead found type 'str'.\nInferred 'x'")
    with pytest.raises(RuntimeError, match="type 'int' for argument 'n'"):
        torch.jit.script(_scale)(torch.ones(1), 2.5)


def _optional_method(x: Optional[torch.Tensor]):
    return x.sum()


def test_a_method_of_an_unrefined_optional_says_to_refine_it():
    # TorchScript refuses it for good ("'Optional[Tensor]' object has no attribute or
    # method 'sum'"): the message says how to refine, not that support is coming ("yet")
    with pytest.raises(Exception) as info:
        torch.jit.script(_optional_method)
    msg = str(info.value)
    assert "has no method 'sum': it may be None" in msg and "if x is not None:" in msg
    assert "yet" not in msg and "return x.sum()" in msg
