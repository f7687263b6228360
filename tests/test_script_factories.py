"""Tensor factories in scripted code: torch.tensor / torch.as_tensor of numbers and lists,
torch.arange(n), zeros/full/empty/ones_like, with PyTorch's dtype rules."""
from typing import List

import numpy as np
import pytest

import gpujit as torch
from gpujit.frontend.script import FrontendError


def factories(x, xs: List[float], ks: List[int], n: int):
    a = torch.tensor([1.0, 2.0])
    b = torch.tensor(xs)
    c = torch.tensor(n, dtype=torch.float32)
    d = torch.tensor([True, False])
    e = torch.as_tensor(ks)
    f = torch.tensor(2.5)
    return (x + a + b + c, d, e, f, torch.arange(n), torch.arange(1, n, 2),
            torch.full([2], 3.5), torch.zeros(2, dtype=torch.int64), torch.ones_like(x))


def test_factories_match_eager_values_and_dtypes():
    s = torch.jit.script(factories)
    args = (torch.ones(2), [3.0, 4.0], [7, 8, 9], 5)
    got, want = s(*args), factories(*args)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert [t.dtype for t in got[1:5]] == [torch.bool, torch.int64, torch.float32, torch.int64]


def nested(x, n: int):
    return torch.tensor([[1, 2], [3, n]]), torch.tensor([[[0.5]], [[1.5]]], dtype=torch.float64)


def nested_variable(rows: List[List[int]]):
    return torch.tensor(rows)


def test_nested_list_literals_and_a_clear_error_for_a_nested_variable():
    s = torch.jit.script(nested)
    for got, want in zip(s(torch.ones(1), 7), nested(torch.ones(1), 7)):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(FrontendError, match="needs the list written out") as e:
        torch.jit.script(nested_variable)
    assert "<--- HERE" in str(e.value)
