"""Session 53's fuser hunt (helper f53): hunt-f52's training-graph regions, fixed.

What was found:
- torch.cat / torch.stack of a list that aten::append grows (the tutorial seq2seq decoder's
  `decoder_outputs.append(o)` in a loop, then `torch.cat(decoder_outputs, dim=1)`): the
  region took the list as built by its prim::ListConstruct -- no element -- so the
  optimized call's cat had no gradient edges: the output did not require grad, or every
  parameter's gradient was wrong (tests/test_jit_model_zoo's scripted Seq2Seq). Only a
  list that cat / stack alone read is taken whole into a region now; a grown one's cat
  records CatBackward0 (torch 2.13 flattens the runtime list into its node's edges).
"""
from typing import List

import numpy as np
import pytest

import gpujit

_RNG = np.random.default_rng(53)
_X = _RNG.standard_normal((2, 3)).astype(np.float32)
_W = _RNG.standard_normal((3, 3)).astype(np.float32)
_G = _RNG.standard_normal((2, 6)).astype(np.float32)


def appended_cat(x, w, n: int):
    outs: List[gpujit.Tensor] = []
    h = x
    for i in range(n):
        h = gpujit.tanh(h @ w)
        outs.append(h)
    return gpujit.log_softmax(gpujit.cat(outs, dim=1), dim=-1)


def grown_literal(x, w, n: int):
    outs = [x * 2]
    outs.append(gpujit.tanh(x @ w))
    return gpujit.stack(outs, 0).sum(0).exp().repeat(1, n)


def _grads(lib, fn, n=2):
    x, w = lib.tensor(_X, requires_grad=True), lib.tensor(_W, requires_grad=True)
    out = fn(x, w, n)
    assert out.requires_grad
    (out * lib.tensor(_G[:, :out.shape[1]])).sum().backward()
    return out.detach().numpy(), x.grad.numpy(), w.grad.numpy()


@pytest.mark.parametrize("fn", [appended_cat, grown_literal])
def test_cat_of_a_grown_list_gradients_on_the_optimized_call(fn):
    want = _grads(gpujit, fn)
    s = gpujit.jit.script(fn)
    for _ in range(3):      # (the third call runs the optimized graph)
        got = _grads(gpujit, s)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_cat_of_a_grown_list_as_torch():
    torch = pytest.importorskip("torch")
    tfn = torch.jit.script(_torch_appended_cat(torch))
    sg = gpujit.jit.script(appended_cat)
    for _ in range(3):
        want = _grads(torch, tfn)
        got = _grads(gpujit, sg)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _torch_appended_cat(torch):
    def appended_cat_t(x, w, n: int):
        outs: List[torch.Tensor] = []
        h = x
        for i in range(n):
            h = torch.tanh(h @ w)
            outs.append(h)
        return torch.log_softmax(torch.cat(outs, dim=1), dim=-1)
    return appended_cat_t


def unrolled_appends(x, w):
    outs: List[gpujit.Tensor] = []
    h = x
    for i in range(3):
        h = gpujit.tanh(h * w)
        outs.append(h)
    return gpujit.cat(outs, dim=1)


def test_unrolled_loop_appends_fold_into_one_list_and_one_group():
    # torch 2.13's RemoveListMutation after UnrollLoops: the three appends become
    # prim::ListConstruct(%h.1, %h.2, %h.3) (torch then fuses the loop's ops in one group
    # and records the cat outside; gpujit's group takes the cat too)
    s = gpujit.jit.script(unrolled_appends)
    x, w = gpujit.tensor(_X, requires_grad=True), gpujit.tensor(_G[:, :3],
                                                                 requires_grad=True)
    for _ in range(3):
        out = s(x, w)
    text = str(s.graph_for(x, w))
    assert "aten::append" not in text
    assert text.count("prim::TensorExprGroup_0 = graph") == 1
    sub = text.split("with prim::TensorExprGroup_0 = graph")[1]
    assert sub.count("aten::tanh") == 3 and "aten::cat" in sub
    lc = [ln for ln in sub.splitlines() if "prim::ListConstruct" in ln]
    assert len(lc) == 1 and lc[0].count("%") == 4, lc
    out.backward(gpujit.tensor(np.tile(_G, 2)[:, :9]))
    xe, we = gpujit.tensor(_X, requires_grad=True), gpujit.tensor(_G[:, :3],
                                                                  requires_grad=True)
    want = unrolled_appends(xe, we)
    want.backward(gpujit.tensor(np.tile(_G, 2)[:, :9]))
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), we.grad.numpy(), rtol=1e-5, atol=1e-6)


def appends_to_an_argument(x, w, outs: List[gpujit.Tensor]):
    h = gpujit.tanh(x * w)
    outs.append(h)
    h = gpujit.tanh(h * w)
    outs.append(h)
    return gpujit.sigmoid(h * w)


def test_region_reads_a_guarded_group_through_its_if():
    # graph_for's region after a guarded fusion group read the group's output inside the
    # guard's block (%h.7, undefined where the RequiresGradCheck sits): now the If's output
    s = gpujit.jit.script(appends_to_an_argument)
    x, w = gpujit.tensor(_X, requires_grad=True), gpujit.tensor(_G[:, :3], requires_grad=True)
    for _ in range(3):
        out = s(x, w, [])
    top = str(s.graph_for(x, w, [])).split("\nwith ")[0]
    defined = {"%x.1", "%w.1", "%outs.1"}
    for ln in top.splitlines()[3:]:
        if ln.startswith("  %") or ln.startswith("   = "):       # (a top-level node)
            lhs, _, rhs = ln.partition(" = ")
            if "prim::RequiresGradCheck" in rhs:
                used = rhs[rhs.rindex("]](") + 3:].rstrip(")").split(", ")
                assert set(used) <= defined, (used, top)
            defined.update(t.split(" : ")[0].strip() for t in lhs.split(", "))
    assert "prim::RequiresGradCheck" in top
    out.sum().backward()
    h1 = np.tanh(_X * _G[:, :3])
    h2 = np.tanh(h1 * _G[:, :3])
    np.testing.assert_allclose(out.detach().numpy(), 1 / (1 + np.exp(-h2 * _G[:, :3])),
                               rtol=1e-5)


def test_unrolled_appends_to_a_returned_list_and_a_read_one():
    # (the graph's return reads the list last; a read between two appends keeps the
    # later append: the list's length there is 1)
    def f(x):
        outs: List[gpujit.Tensor] = []
        for i in range(2):
            outs.append(x * float(i + 1))
        n = len(outs)
        outs.append(x + float(n))
        return outs, n
    s = gpujit.jit.script(f)
    x = gpujit.tensor(_X)
    for _ in range(3):
        outs, n = s(x)
    assert n == 2 and len(outs) == 3
    for got, want in zip(outs, (_X, 2 * _X, _X + 2)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
