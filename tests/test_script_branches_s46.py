"""Scripted code with branches the profiling run did not take (session 46): what the
specialization key fixes (an Optional input being None or a Tensor, a tensor input's
rank, `x is x`) is folded into the specialization's graph (runtime/key_facts.py), so the
branches it decides are gone and the code after them stays typed and fused."""
from __future__ import annotations

from typing import Optional

import numpy as np
import pytest

import gpujit
from gpujit import Tensor


def _exe(fn):
    return fn._executable


def _src(fn):
    return _exe(fn).specializations[-1].source


def _boxed(fn):
    return sorted({w.split("(")[0] for w in _src(fn).split("= _op_")[1:]})


def _kinds(fn, *args):
    """The node kinds of fn's optimized graph for args (its fusion groups unguarded)."""
    return [n.kind for n in _exe(fn).optimized_graph_for(*args).walk()]


# ------------------------------------------------------------------ key facts

def _optional_mask(x, m: Optional[Tensor]):
    if m is None:
        y = x * 2.0
    else:
        y = x + m
    return (y.sin() * 3.0).relu()


def test_optional_input_given_none_folds_its_branch():
    s = gpujit.jit.script(_optional_mask)
    x = gpujit.randn(4, 5)
    for _ in range(3):
        got = s(x, None)
    want = np.maximum(np.sin(x.numpy() * 2.0) * 3.0, 0)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)
    kinds = _kinds(s, x, None)
    assert "prim::If" not in kinds and "aten::__is__" not in kinds
    assert "prim::TensorExprGroup" in kinds
    assert _exe(s).stats["stale"] == 0 and _boxed(s) == []
    # the other key (a Tensor mask): its own specialization, the other branch
    m = gpujit.randn(4, 5)
    for _ in range(3):
        got = s(x, m)
    want = np.maximum(np.sin(x.numpy() + m.numpy()) * 3.0, 0)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)
    assert "prim::If" not in _kinds(s, x, m)
    assert _exe(s).stats["stale"] == 0
    # and None again: the first specialization
    np.testing.assert_allclose(s(x, None).numpy(), np.maximum(
        np.sin(x.numpy() * 2.0) * 3.0, 0), rtol=1e-6, atol=1e-6)


def test_optional_folding_matches_torch():
    torch = pytest.importorskip("torch")

    def _optional_mask(x, m: Optional[torch.Tensor]):
        if m is None:
            y = x * 2.0
        else:
            y = x + m
        return (y.sin() * 3.0).relu()
    ts = torch.jit.script(_optional_mask)
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    s = gpujit.jit.script(globals()["_optional_mask"])
    for m in (None, a[::-1].copy(), None):
        tm = None if m is None else torch.from_numpy(m)
        gm = None if m is None else gpujit.from_numpy(m)
        for _ in range(2):
            want = ts(torch.from_numpy(a), tm).numpy()
            got = s(gpujit.from_numpy(a), gm).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def _by_rank(x):
    if x.dim() == 2:
        y = x.relu()
    else:
        y = x.sin()
    return y * 2.0 + 1.0


def test_rank_of_an_input_is_a_constant_of_its_specialization():
    s = gpujit.jit.script(_by_rank)
    x2 = gpujit.randn(3, 4)
    for _ in range(3):
        got = s(x2)
    np.testing.assert_allclose(got.numpy(), np.maximum(x2.numpy(), 0) * 2 + 1, rtol=1e-6)
    kinds = _kinds(s, x2)
    assert "aten::dim" not in kinds and "prim::If" not in kinds
    x3 = gpujit.randn(2, 3, 4)
    for _ in range(3):
        got = s(x3)
    np.testing.assert_allclose(got.numpy(), np.sin(x3.numpy()) * 2 + 1, rtol=1e-6)
    assert _exe(s).stats["stale"] == 0 and _exe(s).stats["compiles"] == 2


def _same_object(x, y):
    if x is y:
        z = x * 3.0
    else:
        z = x - y
    return z.exp()


def test_identity_of_one_tensor_value_is_true():
    s = gpujit.jit.script(_same_object)
    x = gpujit.randn(5)
    # (`x is y` of two inputs stays a run-time test: one object or two, same key)
    for _ in range(3):
        np.testing.assert_allclose(s(x, x).numpy(), np.exp(x.numpy() * 3), rtol=1e-6)
    y = gpujit.randn(5)
    np.testing.assert_allclose(s(x, y).numpy(), np.exp(x.numpy() - y.numpy()), rtol=1e-6)

    @gpujit.jit.script
    def g(x):
        return _same_object(x, x)
    for _ in range(3):
        np.testing.assert_allclose(g(x).numpy(), np.exp(x.numpy() * 3), rtol=1e-6)
    assert "prim::If" not in _kinds(g, x)
