"""Finds of session 25's program fuzz hunt (helper a25), each with its minimised program
and a NumPy (or own) reference."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit


def test_setitem_of_a_broadcast_piece_of_the_written_memory_is_not_an_overlap():
    # (mode 3, seed 25020 k6) `x2[1:] = x2.narrow(0, 1, 1)`: PyTorch's setitem expands the
    # value to the slice's shape before copy_ (copy_to / expand_inplace), and the expanded
    # value (stride 0) is not dense, so copy_'s overlap check lets it through ("too hard");
    # gpujit copied the [1] value as it was and refused it as a partial overlap
    x = gpujit.arange(5).float()
    x[1:] = x.narrow(0, 1, 1)
    assert x.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]
    y = gpujit.arange(12).float().view(4, 3)
    y[1:] = y[0]                       # a row of the base into the rows below it
    np.testing.assert_array_equal(y.numpy(), np.tile(np.arange(3.0), (4, 1)))
    # the same shapes: copy_ itself, whose check still refuses a partial overlap
    z = gpujit.arange(5).float()
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        z[1:3] = z[2:4]
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        z[1:].copy_(z[1:2])
    # a value that does not broadcast: expand's error
    w = gpujit.zeros(4, 3)
    with pytest.raises(RuntimeError, match="must match the existing size"):
        w[1:] = gpujit.ones(2)
    # gradients flow through the broadcast value
    a = gpujit.ones(3, requires_grad=True)
    b = gpujit.tensor([2.0], requires_grad=True)
    c = a * 1
    c[1:] = b * 3
    c.sum().backward()
    assert a.grad.tolist() == [1.0, 0.0, 0.0] and b.grad.tolist() == [6.0]
