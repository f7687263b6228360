"""Traced graphs printed as torch 2.13 prints them (session 28): 0-dim tensor types,
list arguments as prim::ListConstruct of constants, NoneType constants, slice starts.
Expected texts were checked against torch 2.13's `torch.jit.trace(f, x).graph`."""
import pytest

import gpujit as torch
from gpujit.ir import types as T
from gpujit.ir.parser import parse_type


# ---- 1. tensor types -------------------------------------------------------------------

@pytest.mark.parametrize("text, sizes, strides", [
    ("Float(requires_grad=0, device=cpu)", (), ()),           # 0-dim: no strides=[]
    ("Long(requires_grad=1)", (), ()),
    ("Float()", (), None),
    ("FloatTensor", None, None),                              # dtype known, rank unknown
    ("DoubleTensor(requires_grad=0, device=cpu)", None, None),
    ("Tensor(requires_grad=0)", None, None),
    ("Float(3, 4, strides=[4, 1], requires_grad=0, device=cpu)", (3, 4), (4, 1)),
])
def test_tensor_type_text_round_trips(text, sizes, strides):
    t = parse_type(text)
    assert (t.sizes, t.strides) == (sizes, strides)
    assert str(t) == text


def test_zero_dim_types_print_without_strides():
    assert str(T.TensorType.of(torch.tensor(3))) == "Long(requires_grad=0, device=cpu)"
    assert str(T.TensorType.of(torch.tensor(1.5, requires_grad=True))) == \
        "Float(requires_grad=1, device=cpu)"
    t = T.TensorType.of(torch.tensor(2.0))
    assert parse_type(str(t)) == t
    assert str(T.TensorType.of(torch.rand(3, 4)).with_(sizes=None)) == \
        "FloatTensor(requires_grad=0, device=cpu)"


def test_traced_reduction_types():
    def f(x):
        return x.sum(), x.max(0)
    g = str(torch.jit.trace(f, torch.rand(4, 3)).graph)
    assert "strides=[]" not in g
    assert "Float(requires_grad=0, device=cpu) = aten::sum" in g
    assert ("Float(3, strides=[1], requires_grad=0, device=cpu), "
            "%8 : Long(3, strides=[1], requires_grad=0, device=cpu) = aten::max") in g or \
        "Long(3, strides=[1], requires_grad=0, device=cpu) = aten::max" in g
    # the graph text parses back to the same types
    g2 = torch._C.parse_ir(g)
    assert [str(o.type()) for n in g2.nodes() for o in n.outputs()
            if "aten::" in n.kind()][:1] == ["Float(requires_grad=0, device=cpu)"]
    assert str(torch._C.parse_ir(str(g2))) == str(g2)
