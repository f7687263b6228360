"""Tensor factories in scripted code: torch.tensor / torch.as_tensor of numbers and lists,
torch.arange(n), zeros/full/empty/ones_like, with PyTorch's dtype rules."""
import io
from typing import List

import numpy as np
import pytest

import gpujit as torch


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


def nested_variable_3d(rows: List[List[List[float]]]):
    return torch.tensor(rows, dtype=torch.float64)


def nested_variable_bool(rows: List[List[bool]]):
    return torch.tensor(rows)


def test_nested_list_literals():
    s = torch.jit.script(nested)
    for got, want in zip(s(torch.ones(1), 7), nested(torch.ones(1), 7)):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("fn,data", [
    (nested_variable, [[1, 2], [3, 4], [5, 6]]),
    (nested_variable, [[7]]),
    (nested_variable, []),     # TorchScript: tensor([]), size [0], of the list's int64
    (nested_variable_3d, [[[0.5, 1.5]], [[2.5, 3.5]]]),
    (nested_variable_3d, []),
    (nested_variable_bool, [[True], [False]]),
])
def test_nested_list_variables(fn, data):
    """torch.tensor(rows) of a List[List[...]] variable (TorchScript compiles it)."""
    s = torch.jit.script(fn)
    want = fn(data)
    if fn is nested_variable and not data:
        want = want.long()        # (eager Python cannot see the element type: float32)
    for _ in range(3):                    # profiling, then the optimized plan
        got = s(data)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    b = io.BytesIO()
    torch.jit.save(s, b)
    b.seek(0)
    np.testing.assert_array_equal(torch.jit.load(b)(data).numpy(), want.numpy())


def test_ragged_nested_list_variable_raises():
    s = torch.jit.script(nested_variable)
    with pytest.raises(RuntimeError):
        s([[1], [2, 3]])
