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
