"""Regressions for what the guard / fusion-strategy call-sequence fuzz found
(tests/test_guard_fuzz_s25.py)."""
import numpy as np

import gpujit as torch


def _to_and_flip(x, y, z):
    t0 = x.float()
    t1 = torch.flip(y, [-1])
    return t0, t1 * t1, t1 * z


def test_optimized_code_returns_the_input_an_op_handed_back():
    # x.float() of a float x hands back x: eager (and PyTorch, scripted or not) returns x
    # itself. The optimized code (no fusion group: the op kept its aten::to) wrapped the
    # array in a new Tensor, so under no_grad the result of a requires_grad x did not
    # require grad (and was not x).
    f = torch.jit.script(_to_and_flip)
    for k in range(4):
        x, y, z = torch.ones(1, 4, 5), torch.ones(1, 4, 1), torch.ones(1)
        if k == 3:
            x.requires_grad_()
            with torch.no_grad():
                out = f(x, y, z)
        else:
            out = f(x, y, z)
        assert out[0] is x
        assert out[0].requires_grad == x.requires_grad
        assert out[1] is not y and out[2] is not z
        np.testing.assert_array_equal(out[1].detach().numpy(), np.ones((1, 4, 1)))


def _chain_of_handbacks(x, y):
    return x.contiguous().type_as(y).float(), x.t().contiguous()


def test_a_chain_of_handbacks_returns_the_input_and_a_copy_stays_a_copy():
    f = torch.jit.script(_chain_of_handbacks)
    for _ in range(3):
        x, y = torch.ones(2, 3), torch.ones(2, 3)
        a, b = f(x, y)
        assert a is x
        assert b is not x and b.is_contiguous() and tuple(b.shape) == (3, 2)
    xd = torch.ones(2, 3, dtype=torch.float64)     # a real conversion: a new tensor
    a, _ = f(xd, y)
    assert a is not xd and a.dtype == torch.float32
