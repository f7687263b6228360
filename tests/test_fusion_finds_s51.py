"""Session 51's fuser hunt (helper b51), after g50's.

- Constant propagation folds a prim::ListConstruct of tensor constants into a Tensor[]
  constant again (g50's change, taken back at the s50 merge): the generated code's tensor
  lists hold arrays (a Tensor[] input is unwrapped on entry), and the folded list was
  bound as a list of Tensors, so `a == [torch.tensor(2), torch.tensor(1)]`, meshgrid of
  constant tensors and torch.tensor([[1, 2], [3, 4]]) met Tensors where they read arrays.
  A list something writes (reverse(), append, an in-place op on an element) or that
  leaves the graph stays a prim::ListConstruct, as TorchScript's hasWriters rule keeps it.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import gpujit

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


def script(src, name):
    return getattr(gpujit.jit.CompilationUnit(src), name)


def calls(fn, *args, n=3):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [fn(*args) for _ in range(n)]


# ------------------------------------------------------------ Tensor[] constants

LISTS = '''
def compare():
    a = [torch.tensor(1), torch.tensor(2)]
    a.reverse()
    return a == [torch.tensor(2), torch.tensor(1)]

def grid(x):
    a, b = torch.meshgrid([torch.arange(3.), torch.arange(2.)], indexing="ij")
    return a * x + b

def nested():
    return torch.tensor([[1, 2], [3, 4]])

def pushed(x):
    lst = [torch.ones(2), torch.zeros(2)]
    lst.append(x)
    return torch.cat(lst)
'''


def test_tensor_list_constants_in_generated_code():
    f = script(LISTS, "compare")
    assert calls(f) == [True] * 3
    g = script(LISTS, "grid")
    x = gpujit.tensor(2.0)
    for r in calls(g, x):
        np.testing.assert_array_equal(r.numpy(), [[0, 1], [2, 3], [4, 5]])
    assert "Tensor[] = prim::Constant[value=[<Tensors>]]()" in str(
        gpujit.jit.last_executed_optimized_graph())
    n = script(LISTS, "nested")
    for r in calls(n):
        assert r.dtype == gpujit.int64 and r.tolist() == [[1, 2], [3, 4]]


def test_appended_tensor_list_is_not_a_constant():
    p = script(LISTS, "pushed")
    for k in range(3):
        r = p(gpujit.full((1,), float(k)))
        assert r.tolist() == [1.0, 1.0, 0.0, 0.0, float(k)]
    assert "prim::ListConstruct" in str(gpujit.jit.last_executed_optimized_graph())
