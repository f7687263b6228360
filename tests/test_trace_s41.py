"""Tracing against torch.jit.trace 2.13 (session 41, c41).

Finds, minimised, with torch 2.13's behaviour:

1. squeeze's three overloads: torch 2.13 has aten::squeeze(Tensor self),
   squeeze.dim(Tensor self, int dim) and squeeze.dims(Tensor self, int[] dim) (and so
   squeeze_ / squeeze_copy), so a trace or a script of `x.squeeze(1)` records
   `aten::squeeze(%x, %1)` with an int (`.code`: `torch.squeeze(x, 1)`) and `x.squeeze()`
   `aten::squeeze(%x)`. gpujit had one merged `squeeze.dims(Tensor self, int[]? dim=None)`
   and recorded `squeeze(%x, [1])` / `squeeze(%x, None)` (`torch.squeeze(x, [1])` in the
   scripted code); `x.squeeze(None)` is torch's TypeError.
"""
import warnings

import numpy as np
import pytest

import gpujit as torch


def _torch():
    return pytest.importorskip("torch")


def _quiet_trace(tr, fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tr.jit.trace(fn, *args, **kw)


def _node_inputs(graph, kind):
    """For each `kind` node of graph (gpujit's or torch's), its inputs' types, a tensor's
    as "Tensor" (str() of a type is its annotation in torch, `List[int]`, and its IR text
    in gpujit, `int[]`)."""
    out = []
    for n in graph.nodes():
        if n.kind() == kind:
            types = [str(v.type()) for v in n.inputs()]
            out.append(["Tensor" if "(" in t or t == "Tensor" else
                        {"List[int]": "int[]"}.get(t, t) for t in types])
    return out


# ------------------------------------------------------------------ 1. squeeze overloads
_SQUEEZES = [
    (lambda x: x.squeeze(), "torch.squeeze(x)", ["Tensor"], (3,)),
    (lambda x: x.squeeze(1), "torch.squeeze(x, 1)", ["Tensor", "int"], (3, 1)),
    (lambda x: torch.squeeze(x, dim=-1), "torch.squeeze(x, -1)", ["Tensor", "int"], (3, 1)),
    (lambda x: x.squeeze((1, 2)), "torch.squeeze(x, [1, 2])", ["Tensor", "int[]"], (3,)),
]


@pytest.mark.parametrize("i", range(len(_SQUEEZES)))
def test_traced_squeeze_records_torchs_overload(i):
    fn, code, types, shape = _SQUEEZES[i]
    t = _quiet_trace(torch, fn, torch.zeros(3, 1, 1))
    assert t.code.strip().splitlines()[-1] == "  return " + code
    (ins,) = _node_inputs(t.graph, "aten::squeeze")
    assert ins == types
    assert tuple(t(torch.zeros(5, 1, 1)).shape) == (5,) + shape[1:]


def test_traced_squeeze_graph_as_torchs():
    tt = _torch()
    for text in ("x.squeeze()", "x.squeeze(1)", "x.squeeze((1, 2))"):
        got = _quiet_trace(torch, eval("lambda x: " + text), torch.zeros(3, 1, 1))
        want = _quiet_trace(tt, eval("lambda x: " + text), tt.zeros(3, 1, 1))
        assert _node_inputs(got.graph, "aten::squeeze") == _node_inputs(want.graph,
                                                                         "aten::squeeze")
        assert got.code == want.code


def test_scripted_squeeze_overloads():
    @torch.jit.script
    def f(x, d: int):
        return x.squeeze(d) + x.squeeze() + torch.squeeze(x, [0])

    code = f.code
    assert "torch.squeeze(x, d)" in code and "torch.squeeze(x))" in code
    assert "torch.squeeze(x, [0])" in code
    np.testing.assert_array_equal(f(torch.ones(1, 1), 1).numpy(), [3.0])


@pytest.mark.parametrize("args,name,shape", [
    ((), "SqueezeBackward0", (3,)), ((1,), "SqueezeBackward1", (3, 1)),
    (([1, 2],), "SqueezeBackward2", (3,))])
def test_squeeze_overloads_eager(args, name, shape):
    x = torch.ones(3, 1, 1, requires_grad=True)
    r = x.squeeze(*args)
    assert tuple(r.shape) == shape and r.grad_fn.name() == name
    r.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 1, 1)))
    y = x.clone()
    y.squeeze_(*args)
    assert tuple(y.shape) == shape
    assert y.grad_fn.name() == "SqueezeBackward" + str(3 + int(name[-1]))
    assert tuple(torch.squeeze_copy(x, *args).shape) == shape


def test_squeeze_none_dim_is_a_type_error():
    x = torch.ones(3, 1)
    with pytest.raises(TypeError, match=r"squeeze\(\) received an invalid combination"):
        x.squeeze(None)
