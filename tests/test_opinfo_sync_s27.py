"""Session 27 (n27): scripted torch.tensor(<nested list>, requires_grad=flag) is one
aten::tensor node of the nested list, as TorchScript's (it was the stack of the rows'
tensors then requires_grad_, whose refusal of an int tensor has requires_grad_()'s words,
not the factory's). Expectations checked against torch 2.13."""
from __future__ import annotations

import io
from typing import List

import numpy as np
import pytest

import gpujit as torch


def _script_nested():
    @torch.jit.script
    def f(flag: bool):
        x = torch.tensor([[1.5, 2.0], [0.5, 4.0]], requires_grad=flag)
        return x

    @torch.jit.script
    def ints(flag: bool):
        return torch.tensor([[1, 2], [3, 4]], requires_grad=flag)

    @torch.jit.script
    def rows(data: List[List[float]], flag: bool):
        return torch.tensor(data, dtype=torch.float64, requires_grad=flag)
    return f, ints, rows


def test_nested_literal_requires_grad_is_one_tensor_node():
    f, ints, rows = _script_nested()
    for fn in (f, ints, rows):
        kinds = [n.kind() for n in fn.graph.nodes()]
        assert kinds.count("aten::tensor") == 1, kinds
        assert "aten::stack" not in kinds and "aten::requires_grad_" not in kinds, kinds


def test_nested_literal_requires_grad_leaf_and_backward():
    f, ints, rows = _script_nested()
    x = f(True)
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 2, np.float32))
    y = f(False)
    assert not y.requires_grad and y.dtype == torch.float32
    r = ints(False)
    assert r.dtype == torch.int64 and r.tolist() == [[1, 2], [3, 4]]
    r = rows([[1.0, 2.0]], True)
    assert r.dtype == torch.float64 and r.requires_grad and r.is_leaf
    assert rows([], False).shape == (0,)


def test_nested_literal_requires_grad_int_refused_in_factory_words():
    f, ints, rows = _script_nested()
    with pytest.raises(RuntimeError, match=r"Only Tensors of floating point and complex "
                                           r"dtype can require gradients"):
        ints(True)
    with pytest.raises(RuntimeError, match=r"Expected sequence of length 1 at dim 1 \(got 2\)"):
        rows([[1.0], [2.0, 3.0]], True)


def test_nested_literal_requires_grad_save_load():
    class M(torch.nn.Module):
        def forward(self, flag: bool):
            return torch.tensor([[1.0, 2.0]], requires_grad=flag) * 3
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(M()), buf)
    buf.seek(0)
    m = torch.jit.load(buf)
    r = m(True)
    assert r.requires_grad and r.tolist() == [[3.0, 6.0]]
