"""Programs the fuzzers found in session 31 (helper a31, seeds 31001..31012), minimised;
expected values are PyTorch 2.13's (eager / torch.jit.script, x86-64), written out.

- test_program_fuzz_s23's gradient check (GPUJIT_PROGRAM_FUZZ_SEED=31002, seed
  31002*100003+2301+183): a scripted `v6 = v5 * v5` and, later, `(v5 * v5).sum()`
  backward()-ed with retain_graph=False: gpujit's CSE made the two products one node, so
  the backward freed v6's graph too and a later backward through v6 raised 'Trying to
  backward through the graph a second time'. TorchScript's CSE skips a node whose inputs
  something writes anywhere in the graph (AliasDb::hasWriters(node)): aten::backward is
  conservative and writes every input and wildcard (graph inputs), so it keeps both
  products; gpujit's CSE does so in a graph that calls backward / autograd.grad.
- test_program_fuzz_s22's gradient check (GPUJIT_PROGRAM_FUZZ_SEED=31005, seed
  31005*100003+250000+44): a scripted `if` whose profiled branch made an int64 v
  (torch.where(c, 2, -1)) and whose other made a float32 v that requires grad, then
  `torch.add(v, v, alpha=2).type_as(y)` in a fusion group: on the other branch the result
  required no grad (no gradient at all) where eager's does. The group's backward plan
  read which values may be floating off the profiled types (add's int64); a recording
  call whose group inputs are not of the profiled dtypes runs the group's ops one by one.
- test_program_fuzz_s24b (GPUJIT_PROGRAM_FUZZ_SEED=31003, seed 31003*100003+24, a run
  past the time limit): `for v in range(100, -9223372036854775807)` ran 2**63 - 101 times:
  a step of 1 counted stop - start, which wraps around int64; TorchScript counts every
  range(a, b[, k]) with aten::__range_length (session 30 fixed k != 1 only).
- test_program_fuzz_s23's gradient check (GPUJIT_PROGRAM_FUZZ_SEED=31009, seeds
  31009*100003+2301+164, +387): `v = y[:-1].select(1, -1)` of `y = x.exp()`, then
  `y.mul_(2)` and `y.detach_()`: a backward through v raised the saved-version error of
  Exp. PyTorch's VariableHooks::grad_fn gives a view whose base was written since a fresh
  AsStridedBackward0 also when the base needs no grad now, one that leads nowhere; gpujit
  kept the view's stale grad_fn there.
- test_program_fuzz_s25's gradient check (GPUJIT_PROGRAM_FUZZ_SEED=31010, seed
  31010*100003+2600000+21): the mean of var_mean(x, 1) over dims of one element only
  used: x's gradient was nan (PyTorch's 1). PyTorch's var_mean_backward adds the
  variance's part only when the variance got a gradient; gpujit's derivative got zeros
  for it and 0 * inf made nan. A derivative may now name `grads_defined` (which outputs
  got a gradient)."""
from __future__ import annotations

from typing import List

import numpy as np
import pytest

import gpujit
from gpujit.ir import parse_ir
from gpujit.passes.cse import eliminate_common_subexpressions


# ------------------------------------------------------------------ CSE across backward()

def _square_twice_leaf(x):
    v = x.detach().clone().requires_grad_(True)
    a = v * v
    b = (v * v).sum()
    b.backward()
    return a * 2, v


def _square_twice_input(v):
    a = v * v
    b = (v * v).sum()
    b.backward()
    return a * 2


def test_a_product_computed_twice_keeps_its_graph_after_the_other_is_backwarded():
    s = gpujit.jit.script(_square_twice_leaf)
    for _ in range(3):                  # (the profiled and optimized runs too)
        r, v = s(gpujit.tensor([1.0, 2.0, 3.0]))
        assert v.grad.numpy().tolist() == [2.0, 4.0, 6.0]
        r.sum().backward()              # torch 2.13 (eager and script): no error
        assert v.grad.numpy().tolist() == [6.0, 12.0, 18.0]


def test_a_product_of_an_input_computed_twice_keeps_its_graph():
    s = gpujit.jit.script(_square_twice_input)
    for _ in range(3):
        x = gpujit.tensor([1.0, -1.0], requires_grad=True)
        r = s(x)
        r.sum().backward()
        assert x.grad.numpy().tolist() == [6.0, -6.0]     # 2 * 1 + 2 * 2 per element


def test_cse_keeps_both_products_only_where_the_graph_calls_backward():
    src = """
graph(%x : Tensor):
  %none : NoneType = prim::Constant()
  %a : Tensor = aten::mul(%x, %x)
  %b : Tensor = aten::mul(%x, %x)
  %s : Tensor = aten::sum(%b, %none)
  {call}
  return (%a, %s)
"""
    g = parse_ir(src.format(call=""))
    eliminate_common_subexpressions(g)
    assert sum(n.kind == "aten::mul" for n in g.walk()) == 1
    g = parse_ir(src.format(call="= aten::backward(%s, %none, %none, %f)").replace(
        "%none : NoneType = prim::Constant()",
        "%none : NoneType = prim::Constant()\n  %f : bool = prim::Constant[value=0]()"))
    eliminate_common_subexpressions(g)
    assert sum(n.kind == "aten::mul" for n in g.walk()) == 2


def test_the_fuzzer_program_runs_its_second_backward():
    # the minimised program of seed 31002*100003+2301+183: a select of a fresh leaf
    s = gpujit.jit.script(_select_square)
    x = gpujit.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    r, v = s(x)
    r.sum().backward()
    # v7's backward: 2 * v[0] in row 0, 1.25 everywhere (x2 needs no grad); then lerp's:
    # 0.75 + 0.25 * 2 * v[0] in row 0
    want = np.full((2, 3), 1.25, np.float32)
    want[0] += 2 * x.numpy()[0] + 0.75 + 0.5 * x.numpy()[0]
    np.testing.assert_allclose(v.grad.numpy(), want)


def _select_square(x2):
    v4 = x2.detach().clone().requires_grad_(True)
    v5 = v4[0]
    v6 = v5 * v5
    v7 = (v5 * v5).sum() + (x2 * x2).sum() + (v4 * 1.25).sum()
    v7.backward(retain_graph=False)
    return gpujit.lerp(v5, v6, 0.25), v4


# ------------------------------------------------------------------ a fused group, other dtypes

def _branch_dtype(x1, x2):
    if bool(x1.sum() > 0.37):
        v4 = gpujit.where(x1 > 0.0, 2, -1)          # int64
    else:
        v4 = x1 * 3                                 # float32, requires grad
    return gpujit.add(v4, v4, alpha=2).type_as(x2) * x2


def test_a_fused_group_fed_another_dtype_than_profiled_still_records_the_gradient():
    s = gpujit.jit.script(_branch_dtype)
    x2 = gpujit.tensor([1.0, 2.0])
    for _ in range(2):                  # profiled and optimized on the int64 branch
        x1 = gpujit.tensor([1.0, 2.0], requires_grad=True)
        r = s(x1, x2)
        assert not r.requires_grad and r.numpy().tolist() == [6.0, 12.0]
    for _ in range(2):
        x1 = gpujit.tensor([-1.0, 0.5], requires_grad=True)
        r = s(x1, x2)
        assert r.requires_grad          # torch 2.13: grad_fn=<MulBackward0>
        assert r.detach().numpy().tolist() == [-9.0, 9.0]
        r.sum().backward()
        assert x1.grad.numpy().tolist() == [9.0, 18.0]     # 3 * 3 * x2


# ------------------------------------------------------------------ range(a, b): b - a wraps

def _range_down(a: int, b: int) -> List[int]:
    out: List[int] = []
    for i in range(a, b):
        out.append(i)
    for i in range(a, b, 1):
        out.append(i)
    return out + [j for j in range(a, b)] + [j for j in range(a, b, 1)]


def test_a_range_whose_stop_minus_start_wraps_around_int64_does_not_iterate():
    s = gpujit.jit.script(_range_down)
    # TorchScript 2.13 counts the trips with aten::__range_length: none when a >= b
    assert s(100, -9223372036854775807) == []
    assert s(9223372036854775807, -9223372036854775808) == []
    assert s(-2, 1) == [-2, -1, 0] * 4
    assert s(3, 3) == []


# ------------------------------------------------------------------ a view of a detached base

def test_a_view_of_a_base_written_then_detached_leads_nowhere():
    x = gpujit.ones(3, 2, requires_grad=True)
    y = x.exp()
    v = y[:-1].select(1, -1)
    y.mul_(2)
    y.detach_()
    # torch 2.13: True, AsStridedBackward0, and a backward that reaches no leaf
    assert v.requires_grad and type(v.grad_fn).__name__ == "AsStridedBackward0"
    v.sum().backward()
    assert x.grad is None


def test_a_view_of_a_detached_base_not_written_keeps_its_grad_fn():
    x = gpujit.ones(3, 2, requires_grad=True)
    y = x.exp()
    v = y[:-1].select(1, -1)
    y.detach_()
    assert type(v.grad_fn).__name__ == "SelectBackward0"       # (torch 2.13's)
    v.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, np.e], [0, np.e], [0, 0]], rtol=1e-6)


# ------------------------------------------------------------------ var_mean: the mean alone

@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_the_mean_of_var_mean_alone_over_one_element_has_a_finite_gradient(name):
    fn = getattr(gpujit, name)
    x = gpujit.tensor([[1.0], [2.0], [-3.0]], requires_grad=True)
    fn(x, 1, keepdim=True)[1].sum().backward()
    assert x.grad.numpy().tolist() == [[1.0], [1.0], [1.0]]        # torch 2.13's
    x = gpujit.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    fn(x, 1)[1].sum().backward()                    # the mean's gradient, broadcast
    assert x.grad.numpy().tolist() == [[0.5, 0.5], [0.5, 0.5]]
    x = gpujit.tensor([3.0], requires_grad=True)
    (fn(x)[0] * 0).backward()                       # a zero gradient does reach it: nan
    assert np.isnan(x.grad.numpy()).all()


def test_var_mean_gradients_of_both_outputs():
    x = gpujit.tensor([[1.0, 2.0, 4.0]], requires_grad=True)
    v, m = gpujit.var_mean(x, 1)
    (v * 2 + m).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-7 / 3, -1 / 3, 11 / 3]], rtol=1e-6)
