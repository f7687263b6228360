"""Session 51's fuser hunt (helper b51), after g50's.

- Constant propagation folds a prim::ListConstruct of tensor constants into a Tensor[]
  constant again (g50's change, taken back at the s50 merge): the generated code's tensor
  lists hold arrays (a Tensor[] input is unwrapped on entry), and the folded list was
  bound as a list of Tensors, so `a == [torch.tensor(2), torch.tensor(1)]`, meshgrid of
  constant tensors and torch.tensor([[1, 2], [3, 4]]) met Tensors where they read arrays.
  A list something writes (reverse(), append, an in-place op on an element) or that
  leaves the graph stays a prim::ListConstruct, as TorchScript's hasWriters rule keeps it.
- Chunk pieces read by several chains: NNC's group holds `x * y`, one prim::ConstantChunk
  and every chain, for an even chunk (9 rows in 3) and an uneven one (10 rows: 4, 4, 2).
  gpujit gave each chain a group of its own with a copy of the chunk and left the mul out
  (its result went to two groups); the partitioner now tries producers again after groups
  merge, a group's copies of one chunk become one, and an uneven chunk's smaller piece
  counts with a whole piece's shape. Such a group runs its results of each shape as a
  group of its own (fusers/parts.space_parts: one kernel walks one iteration space).
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


# ------------------------------------------------ chunks read by several chains

CHUNKS = '''
def gates(x, y):
    a, b, c = (x * y).chunk(3)
    return a.sigmoid() * b.tanh(), c.relu() * 2
'''


def _group_kinds(graph):
    groups = [n for n in graph.walk() if n.kind == "prim::TensorExprGroup"]
    return [[m.kind for m in n.attrs["Subgraph"].nodes if m.kind != "prim::Constant"]
            for n in groups]


def _gates_want(x, y):
    p = x.numpy() * y.numpy()
    n = -(-p.shape[0] // 3)
    a, b, c = p[:n], p[n:2 * n], p[2 * n:]
    return 1 / (1 + np.exp(-a)) * np.tanh(b), np.maximum(c, 0) * 2


@pytest.mark.parametrize("rows", [9, 10])
def test_chunk_pieces_read_by_two_chains_make_one_group(rows):
    """NNC (torch 2.13, texpr fuser on CPU) puts `x * y`, its prim::ConstantChunk and both
    chains in one TensorExprGroup, for 9 rows (3, 3, 3) and for 10 (4, 4, 2). gpujit made
    a group per chain (each with a copy of the chunk) and left the mul out; for 10 rows
    the chains did not merge at all ([4, 4] and [2, 4] do not broadcast)."""
    f = script(CHUNKS, "gates")
    gpujit.manual_seed(0)
    x, y = gpujit.randn(rows, 3), gpujit.randn(rows, 3)
    r = calls(f, x, y)[-1]
    kinds = _group_kinds(gpujit.jit.last_executed_optimized_graph())
    assert kinds == [["aten::mul", "prim::ConstantChunk", "aten::sigmoid", "aten::tanh",
                      "aten::mul", "aten::relu", "aten::mul"]]
    for got, want in zip(r, _gates_want(x, y)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    with gpujit.jit.strict_fusion():
        f(x, y)


def test_uneven_chunk_group_runs_fused_for_new_sizes():
    """An uneven chunk's pieces (4, 4 and 2 rows) need two iteration spaces: the group runs
    its results of each shape as a group of its own (no unfused run, so strict_fusion
    holds), for the profiled sizes and for others (11 rows: 4, 4, 3)."""
    f = script(CHUNKS, "gates")
    gpujit.manual_seed(1)
    for rows in (10, 10, 10, 11):
        x, y = gpujit.randn(rows, 3), gpujit.randn(rows, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with gpujit.jit.strict_fusion():
                r = f(x, y)
        for got, want in zip(r, _gates_want(x, y)):
            assert got.shape == want.shape
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


# ------------------------------------------------------------ scripted casts

def test_scripted_cfloat_and_cdouble_are_casts():
    """TorchScript scripts x.cfloat() / x.cdouble() as aten::to(x, 9 / 10, False, False,
    None) (torch 2.13's graph); gpujit refused them ("has no attribute or method")."""
    f = script("def f(x):\n    return x.cfloat() * 2, x.cdouble()\n", "f")
    assert "aten::to(%x.1, %2, %3, %3, %5)" in str(f.graph)      # (torch 2.13 prints %x.1)
    a, b = calls(f, gpujit.tensor([1.0, -2.0]))[-1]
    assert a.dtype == gpujit.complex64 and b.dtype == gpujit.complex128
    assert a.tolist() == [2 + 0j, -4 + 0j] and b.tolist() == [1 + 0j, -2 + 0j]


# ------------------------------------------------------------ cat inside a group

CATS = '''
def joined(x, y):
    return torch.cat([x * 2, y + 1], 1).relu() * 3
'''


def test_group_holds_cat_as_nnc_prints_it():
    """NNC's TensorExprGroup holds `prim::ListConstruct` + `aten::cat` (torch 2.13's
    graph_for: `%8 : Tensor[] = prim::ListConstruct(%4, %7)`, `aten::cat(%8, %5)`);
    gpujit's printed its kernel-side prim::FusedConcat node."""
    f = script(CATS, "joined")
    x, y = gpujit.arange(6.0).reshape(2, 3), gpujit.ones(2, 3)
    r = calls(f, x, y)[-1]
    np.testing.assert_array_equal(r.numpy(), np.maximum(np.concatenate(
        [x.numpy() * 2, y.numpy() + 1], 1), 0) * 3)
    (sub,) = [n.attrs["Subgraph"] for n in f.graph_for(x, y).walk()
              if n.kind == "prim::TensorExprGroup"]
    kinds = [n.kind for n in sub.nodes if n.kind != "prim::Constant"]
    assert kinds == ["aten::mul", "aten::add", "prim::ListConstruct", "aten::cat",
                     "aten::relu", "aten::mul"]
    assert "FusedConcat" not in str(sub)
    with gpujit.jit.strict_fusion():
        f(x, y)
