"""Fusion groups in calls that record gradients, when a group's input is written in place
after the group ran (through a view): the group's fused backward recomputes its ops from
its inputs, so it saved an input eager autograd does not save (`v8 = v2 * 2; abs(v8)`:
eager saves v8), and `v2.select(1, -1).clamp_(...)` later failed its version check at
backward ("modified by an inplace operation ... DifferentiableGraphBackward"), where eager
and TorchScript answer. Such a group now records op by op (program fuzz seed 2122)."""
import numpy as np

import gpujit
from gpujit.jit.autodiff import FusedGroupBackward


def _write_after(x1, x2, s: float, n: int):
    v2 = x1.clone()
    for _i in range(n + 1):
        v2 = v2 + x2
    v4 = (s - (gpujit.neg((x1)))).double()
    v8 = v2 * 2
    v9 = v2.select(1, -1)
    v9.clamp_(-1.0, 1.0)
    v11 = s - (((v8).abs()).type_as(v4))
    return v11


def _no_write(x1, x2, s: float):
    return (x1 * x2 + s).sigmoid() * x1


def _nodes(t):
    seen, stack = set(), [t.grad_fn]
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        stack.extend(f for f, _ in n.next_functions)
    return seen


def test_a_group_input_written_later_records_op_by_op():
    f = gpujit.jit.script(_write_after)
    rng = np.random.default_rng(3)
    for k in range(4):
        a0, b0 = rng.standard_normal((2, 4, 5)).astype(np.float32)
        a = gpujit.tensor(a0, requires_grad=True)
        b = gpujit.tensor(b0, requires_grad=True)
        out = f(a, b, 0.5, 1)
        out.sum().backward()
        v8 = (a0 + 2 * b0) * 2
        np.testing.assert_allclose(out.detach().numpy(), 0.5 - np.abs(v8), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a.grad.numpy(), -2 * np.sign(v8), rtol=1e-6)
        np.testing.assert_allclose(b.grad.numpy(), -4 * np.sign(v8), rtol=1e-6)


def test_groups_without_later_writes_keep_their_fused_backward():
    f = gpujit.jit.script(_no_write)
    for _ in range(3):
        a = gpujit.randn(6, requires_grad=True)
        out = f(a, gpujit.randn(6), 0.5)
    assert any(isinstance(n, FusedGroupBackward) for n in _nodes(out))
